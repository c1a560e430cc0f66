#!/bin/bash
# `redis-ca check TARGET`: the target is read by hostport_split()'s rules
# (common/hostport.c) with a port from 1.  Brackets are for an IPv6
# literal only, so "[127.0.0.1]:6379" and "[name]:6379", which check
# once accepted, are usage errors (exit 2) now, as are a signed, spaced
# or over-long port and a host with '/'.  Good targets get past the
# command line (to a refused connection on port 1: exit 1).
#
# usage: test_check_target.sh PATH-TO-redis-ca
set -u
bin=${1:?usage: test_check_target.sh PATH-TO-redis-ca}
fails=0
msg='expected HOST:PORT or [IPv6]:PORT'

for t in '[127.0.0.1]:6379' '[redis-1.internal]:6379' '[]:6379' \
    '127.0.0.1:+6379' '127.0.0.1: 6379' '127.0.0.1:0006379' \
    '127.0.0.1:0' '127.0.0.1:65536' 'a/b:6379' '::1:6379' ':6379' \
    '127.0.0.1' '[::1]6379'; do
	err=$("$bin" check "$t" --cacert /nonexistent 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" -ne 2 ] || [[ $err != *"$msg"* ]]; then
		echo "FAIL: check '$t': exit $rc, '$err' (want 2, '$msg')"
		fails=$((fails + 1))
	fi
done
for t in '127.0.0.1:1' '[::1]:1' 'localhost:1'; do
	err=$("$bin" check "$t" --cacert /nonexistent 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" -eq 2 ] || [[ $err == *"$msg"* ]]; then
		echo "FAIL: check '$t' refused: exit $rc, '$err'"
		fails=$((fails + 1))
	fi
done
echo "$fails failed"
[ "$fails" -eq 0 ]
