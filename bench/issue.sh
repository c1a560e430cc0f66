#!/bin/bash
# Issuance benchmark: how many certificates per second POST
# /v1/certificates sustains at concurrency 1, 8 and 32, with latency
# percentiles, the server's CPU time per certificate, its peak RSS, and
# how close that comes to the machine's raw ECDSA P-256 sign+verify
# rate.
#
# usage: bench/issue.sh [-d SECONDS] [-b BUILD-DIR] [-c "1 8 32"]
#   -d  seconds per concurrency level (default 10)
#   -b  meson build directory (default build/; set up and built if it
#       holds no redis-ca yet)
#   -c  concurrency levels (default "1 8 32")
#
# Needs wrk, curl, jq, openssl, python3 (Debian: wrk curl jq openssl).
# Everything listens on 127.0.0.1 ports picked at random; the server is
# stopped by PID at the end, and its temp data dir removed.
set -u
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
DURATION=10
BUILD="$root/build"
LEVELS="1 8 32"

while getopts 'd:b:c:h' opt; do
	case $opt in
	d) DURATION=$OPTARG ;;
	b) BUILD=$OPTARG ;;
	c) LEVELS=$OPTARG ;;
	*) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
	esac
done
case $DURATION in
'' | *[!0-9]*) echo "bench: -d wants whole seconds" >&2; exit 2 ;;
esac
command -v wrk >/dev/null || { echo "bench: wrk is not installed (apt-get install wrk)" >&2; exit 1; }

bin=$(find "$BUILD" -name redis-ca -type f -perm -u+x 2>/dev/null | head -n 1)
if [ -z "$bin" ]; then
	echo "bench: building redis-ca in $BUILD" >&2
	if [ ! -f "$BUILD/build.ninja" ]; then
		meson setup "$BUILD" "$root" -Dbuildtype=release >&2 ||
		    { echo "bench: meson setup failed" >&2; exit 1; }
	fi
	ninja -C "$BUILD" >&2 || { echo "bench: build failed" >&2; exit 1; }
	bin=$(find "$BUILD" -name redis-ca -type f -perm -u+x | head -n 1)
	[ -n "$bin" ] || { echo "bench: no redis-ca binary in $BUILD" >&2; exit 1; }
fi

# The integration tests' helpers: temp data dir, free ports, start and
# stop by PID, cleanup on exit.
. "$root/tests/integration/lib.sh"
RCA_TEST_NAME=bench
rca_setup "$bin"
rca_init
rca_start
T=$RCA_TMP
CORES=$(nproc)

make_csr bench ec-p256 bench-client "DNS:bench.svc.internal"
issue_json "$T/bench.csr" redis-client 1h > "$T/body.json"
adm POST /v1/certificates "$(cat "$T/body.json")"
expect_status 201 "a first issuance"

cat > "$T/issue.lua" <<EOF
-- wrk script: POST the same CSR again and again.
local f = assert(io.open("$T/body.json", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $ADMIN"

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %.0f %.0f %.0f\n",
    summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
EOF

printf '\nredis-ca issuance benchmark: %s, %d cores, %s s per level\n' \
    "$(uname -m)" "$CORES" "$DURATION"
printf '%-12s %12s %10s %10s %10s %8s %12s\n' concurrency certs/s p50_ms p99_ms max_ms errors cpu_us/cert
best=0
hz=$(getconf CLK_TCK)
# The server's CPU time (user + system) so far, in clock ticks: per
# certificate it is a cost that other load on the machine hardly moves,
# unlike the rate.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$RCA_SERVE_PID/stat"
}
for c in $LEVELS; do
	t0=$(cpu_ticks)
	threads=$c
	[ "$threads" -gt "$CORES" ] && threads=$CORES
	timeout $((DURATION + 60)) wrk -t "$threads" -c "$c" -d "${DURATION}s" \
	    --latency -s "$T/issue.lua" "$API/v1/certificates" > "$T/wrk.$c" 2>&1 ||
	    die "wrk failed at concurrency $c: $(tail -n 5 "$T/wrk.$c")"
	read -r _ reqs dur_us st_err io_err p50 p99 max < <(grep '^RESULT ' "$T/wrk.$c") ||
	    die "no RESULT line from wrk: $(tail -n 5 "$T/wrk.$c")"
	ok_reqs=$((reqs - st_err))
	cpu=$(awk -v t="$(( $(cpu_ticks) - t0 ))" -v hz="$hz" -v n="$ok_reqs" \
	    'BEGIN { printf "%.0f", (n > 0) ? t / hz * 1e6 / n : 0 }')
	rate=$(awk -v n="$ok_reqs" -v d="$dur_us" 'BEGIN { printf "%.1f", n / (d / 1e6) }')
	printf '%-12s %12s %10.2f %10.2f %10.2f %8d %12s\n' "$c" "$rate" \
	    "$(awk -v v="$p50" 'BEGIN { print v / 1000 }')" \
	    "$(awk -v v="$p99" 'BEGIN { print v / 1000 }')" \
	    "$(awk -v v="$max" 'BEGIN { print v / 1000 }')" $((st_err + io_err)) "$cpu"
	best=$(awk -v a="$best" -v b="$rate" 'BEGIN { print (b > a) ? b : a }')
done

hwm=$(awk '/^VmHWM:/ { print $2, $3 }' "/proc/$RCA_SERVE_PID/status")
list_serials
printf '\nserver peak RSS (VmHWM): %s after %d certificates issued\n' "$hwm" "$NSERIALS"

speed=$(openssl speed -seconds 3 ecdsap256 2>/dev/null | grep -E '^ *256 bits ecdsa \(nistp256\)') ||
    die "openssl speed ecdsap256 gave no result"
read -r sign_rate verify_rate < <(printf '%s\n' "$speed" | awk '{ print $(NF-1), $NF }')
# openssl prints the times rounded to 0.1 ms: derive them from the rates.
printf 'openssl speed ecdsap256 (one core): sign %s/s (%.1f us), verify %s/s (%.1f us)\n' \
    "$sign_rate" "$(awk -v r="$sign_rate" 'BEGIN { print 1e6 / r }')" \
    "$verify_rate" "$(awk -v r="$verify_rate" 'BEGIN { print 1e6 / r }')"
awk -v best="$best" -v sr="$sign_rate" -v vr="$verify_rate" -v c="$CORES" 'BEGIN {
	bound = 1 / (1 / sr + 1 / vr) * c
	printf "crypto bound: 1/(sign + verify) x %d cores = %.0f issuances/s\n", c, bound
	printf "best issuance rate %.1f/s = %.3f of the crypto bound\n", best, best / bound
	printf "(load average now: %s)\n", "'"$(cut -d' ' -f1-3 /proc/loadavg)"'"
}'
api GET /healthz
expect_status 200 "GET /healthz after the benchmark"
