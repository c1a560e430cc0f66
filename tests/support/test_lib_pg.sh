#!/bin/bash
# tests/integration/lib_pg.sh itself: a primary the role "rca" writes
# to, a standby that streams and refuses writes, a multi-host URI that
# follows promotion after the primary is killed, stop and restart by
# PID, and no folder or process left behind.
set -u
. "$(dirname "$0")/../integration/lib_pg.sh"
pg_available || { echo "PostgreSQL binaries missing: skipped"; exit 77; }
PSQL="$PG_BINDIR/psql"
fail() { pg_log "FAIL: $*"; exit 1; }
q() { "$PSQL" -X -At -v ON_ERROR_STOP=1 "$@"; }

pg_start a
[ "${PG_PORT[a]}" != 5432 ] || fail "port 5432"
[ "$(q "${PG_URI[a]}" -c 'SELECT current_user')" = rca ] ||
    fail "not connected as rca"
q "${PG_URI[a]}" -c 'CREATE TABLE t (x bigint)' >/dev/null &&
    q "${PG_URI[a]}" -c 'INSERT INTO t VALUES (1)' >/dev/null ||
    fail "role rca cannot write"

pg_standby b a
q "${PG_URI[a]}" -c 'INSERT INTO t VALUES (2)' >/dev/null
for i in $(seq 1 300); do
	[ "$(q "${PG_URI[b]}" -c 'SELECT count(*) FROM t')" = 2 ] && break
	sleep 0.1
done
[ "$(q "${PG_URI[b]}" -c 'SELECT count(*) FROM t')" = 2 ] ||
    fail "standby did not replay"
err=$(q "${PG_URI[b]}" -c 'INSERT INTO t VALUES (9)' 2>&1) &&
    fail "standby took a write"
case $err in *read-only*) ;; *) fail "unexpected: $err" ;; esac

q "${PG_URI[a]}" -c 'INSERT INTO t VALUES (3)' >/dev/null
pg_catch_up b a
[ "$(q "${PG_URI[b]}" -c 'SELECT count(*) FROM t')" = 3 ] ||
    fail "standby not caught up"

multi=$(pg_multi_uri b a)
[ "$(q "$multi" -c 'SHOW port')" = "${PG_PORT[a]}" ] ||
    fail "multi-host URI did not find the primary"
pid=${PG_PID[a]}
pg_kill a
kill -0 "$pid" 2>/dev/null && fail "primary still running"
pg_promote b
[ "$(q "$multi" -c 'SHOW port')" = "${PG_PORT[b]}" ] ||
    fail "multi-host URI did not follow the promotion"
q "$multi" -c 'INSERT INTO t VALUES (4)' >/dev/null || fail "no write"

pg_stop b
pg_restart b
[ "$(q "${PG_URI[b]}" -c 'SELECT count(*) FROM t')" = 4 ] ||
    fail "rows lost across a restart"
dir=$PG_OWN_TMP
pg_cleanup
PG_OWN_TMP=""
[ ! -e "$dir" ] || fail "$dir left behind"
pg_log "PASS"
