#!/bin/bash
# README command 2: install what the build and the tests need, then build
# and run the whole suite twice, on a fresh Debian 12 as root.
#
#   bash deploy/test.sh
#
#   build/       normal build
#   build-asan/  AddressSanitizer + UndefinedBehaviorSanitizer (leaks too)
#
# Each run is `meson test -v` (cmocka's own output is shown).  The last
# line is "N passed, N failed" over both runs; the exit status is 1 when
# anything failed (a build failure counts as a failure).
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1

pkgs=(build-essential meson ninja-build pkg-config
	libssl-dev libjansson-dev libsqlite3-dev libmicrohttpd-dev
	libgnutls28-dev libhiredis-dev libcurl4-openssl-dev libcmocka-dev
	libpq-dev postgresql-15
	redis-server redis-tools openssl ca-certificates curl jq wrk
	nodejs npm python3 python3-yaml python3-jsonschema
	python3-cryptography)

. deploy/packages.sh
install_missing test.sh "${pkgs[@]}" || exit 1

# UBSan reports are failures, not warnings; LeakSanitizer is on.
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0

total_pass=0
total_fail=0
total_skip=0

# run_suite DIR [meson setup options...]
run_suite() {
	local dir=$1 pass fail skip
	shift
	echo
	echo "==> $dir: configure and build"
	if [ -f "$dir/meson-private/coredata.dat" ]; then
		meson configure "$dir" -Dtests=true "$@" >/dev/null &&
		    meson setup --reconfigure "$dir" >/dev/null
	else
		meson setup "$dir" -Dtests=true "$@"
	fi || {
		echo "==> $dir: meson setup FAILED"
		total_fail=$((total_fail + 1))
		return
	}
	# A build failure counts as one failure (meson test cannot run with
	# test programs missing); -k 0 shows every compile error at once.
	if ! ninja -C "$dir" -k 0; then
		echo "==> $dir: build FAILED"
		total_fail=$((total_fail + 1))
		return
	fi
	echo "==> $dir: meson test"
	rm -f "$dir/meson-logs/testlog.json"
	meson test -C "$dir" --no-rebuild -v --num-processes 2 \
	    --print-errorlogs
	if [ ! -f "$dir/meson-logs/testlog.json" ]; then
		echo "==> $dir: no test log"
		total_fail=$((total_fail + 1))
		return
	fi
	# One JSON object per test; "result" is OK, SKIP, FAIL, TIMEOUT,
	# ERROR, EXPECTEDFAIL or UNEXPECTEDPASS.
	pass=$(jq -r .result "$dir/meson-logs/testlog.json" |
	    grep -c -E '^(OK|EXPECTEDFAIL)$')
	skip=$(jq -r .result "$dir/meson-logs/testlog.json" |
	    grep -c -E '^SKIP$')
	fail=$(jq -r .result "$dir/meson-logs/testlog.json" |
	    grep -c -v -E '^(OK|EXPECTEDFAIL|SKIP)$')
	echo "==> $dir: $pass passed, $fail failed, $skip skipped"
	if [ "$fail" != 0 ]; then
		jq -r 'select(.result != "OK" and .result != "SKIP" and
		    .result != "EXPECTEDFAIL") | "    \(.result): \(.name)"' \
		    "$dir/meson-logs/testlog.json"
	fi
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	total_skip=$((total_skip + skip))
}

run_suite build
run_suite build-asan -Db_sanitize=address,undefined -Db_lundef=false

echo
[ "$total_skip" != 0 ] && echo "($total_skip skipped)"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
