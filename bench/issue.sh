#!/bin/bash
# Issuance benchmark: how many certificates per second POST
# /v1/certificates sustains at concurrency 1, 8 and 32, with latency
# percentiles, the server's CPU time per certificate, its peak RSS, and
# how close that comes to the machine's raw ECDSA P-256 sign+verify
# rate.
#
# With -D, the same run then compares the databases at concurrency -C:
# SQLite (one instance), PostgreSQL with one instance, and PostgreSQL
# with two instances sharing it (the data folder copied, wrk's
# connections split over both), printing the ratios.
#
# usage: bench/issue.sh [-d SECONDS] [-b BUILD-DIR] [-c "1 8 32"]
#                       [-D postgresql://...|throwaway] [-C 32]
#   -d  seconds per concurrency level (default 10)
#   -b  meson build directory (default build/; set up and built if it
#       holds no redis-ca yet)
#   -c  concurrency levels (default "1 8 32")
#   -D  also measure PostgreSQL at this libpq URI (its role may create
#       the schema; no password in it: use a passfile), or "throwaway":
#       a PostgreSQL 15 started here (tests/integration/lib_pg.sh) with
#       fsync and synchronous_commit on, as durable as SQLite's
#       synchronous=FULL
#   -C  concurrency of the database comparison (default 32)
#
# Needs wrk, curl, jq, openssl, python3 (Debian: wrk curl jq openssl;
# postgresql-15 for -D throwaway).  Everything listens on 127.0.0.1
# ports picked at random; the servers are stopped by PID at the end, and
# the temp folders removed.
set -u
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
DURATION=10
BUILD="$root/build"
LEVELS="1 8 32"
PGURI=""
CMP=32

while getopts 'd:b:c:D:C:h' opt; do
	case $opt in
	d) DURATION=$OPTARG ;;
	b) BUILD=$OPTARG ;;
	c) LEVELS=$OPTARG ;;
	D) PGURI=$OPTARG ;;
	C) CMP=$OPTARG ;;
	*) sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
	esac
done
case $DURATION in
'' | *[!0-9]*) echo "bench: -d wants whole seconds" >&2; exit 2 ;;
esac
case $CMP in
'' | *[!0-9]* | 0 | 1) echo "bench: -C wants a whole number of 2 or more" >&2; exit 2 ;;
esac
case $PGURI in
'' | throwaway | postgresql://* | postgres://*) ;;
*) echo "bench: -D wants a postgresql:// URI or throwaway" >&2; exit 2 ;;
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

# mklua FILE TOKEN: the wrk script, POSTing the same CSR with TOKEN.
mklua()
{
	cat > "$1" <<EOF
-- wrk script: POST the same CSR again and again.
local f = assert(io.open("$T/body.json", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $2"

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %.0f %.0f %.0f\n",
    summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
EOF
}
mklua "$T/issue.lua" "$ADMIN"

printf '\nredis-ca issuance benchmark: %s, %d cores, %s s per level\n' \
    "$(uname -m)" "$CORES" "$DURATION"
printf '%-12s %12s %10s %10s %10s %8s %12s\n' concurrency certs/s p50_ms p99_ms max_ms errors cpu_us/cert
best=0
hz=$(getconf CLK_TCK)
# The server's CPU time (user + system) so far, in clock ticks: per
# certificate it is a cost that other load on the machine hardly moves,
# unlike the rate.
cpu_ticks() {
	local pid n=0
	for pid in "${@:-$RCA_SERVE_PID}"; do
		n=$((n + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
	done
	echo "$n"
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

# ---- -D: SQLite against PostgreSQL, one and two instances ----

[ -n "$PGURI" ] || exit 0
CMP_PIDS=()		# the serves whose CPU time is counted
declare -A SPID=()	# PostgreSQL instances: name -> pid

# Stop the PostgreSQL instances, then the server (when throwaway), then
# lib.sh's trap.
bench_cleanup()
{
	local rc=$? n
	trap - EXIT
	for n in "${!SPID[@]}"; do
		rca_kill_pid "${SPID[$n]}"
	done
	if declare -F pg_stop >/dev/null; then
		for n in "${!PG_PID[@]}"; do
			pg_stop "$n"
		done
	fi
	(exit "$rc")
	rca_cleanup
}
trap bench_cleanup EXIT

# A throwaway PostgreSQL 15 as durable as SQLite's synchronous=FULL:
# lib_pg.sh's cluster, started again with fsync, synchronous_commit and
# full_page_writes on (lib_pg.sh runs its test servers without fsync).
bench_pg_start()
{
	local i
	. "$root/tests/integration/lib_pg.sh"
	pg_available || die "-D throwaway: no PostgreSQL 15 binaries in $PG_BINDIR"
	pg_start bp
	pg_stop bp
	pg_exec_owner "$PG_BINDIR/postgres" -D "${PG_DIR[bp]}/data" \
	    -p "${PG_PORT[bp]}" -k "${PG_DIR[bp]}/sock" \
	    -c listen_addresses=127.0.0.1 -c fsync=on \
	    -c synchronous_commit=on -c full_page_writes=on \
	    -c max_connections=200 >> "${PG_DIR[bp]}/postgres.log" 2>&1 &
	PG_PID[bp]=$!
	rca_track "${PG_PID[bp]}"
	for i in $(seq 1 600); do
		"$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "${PG_PORT[bp]}" \
		    -t 2 && break
		pg_alive "${PG_PID[bp]}" || break
		sleep 0.1
	done
	"$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "${PG_PORT[bp]}" ||
	    die "the throwaway PostgreSQL did not start: $(tail -n 5 "${PG_DIR[bp]}/postgres.log")"
	PGURI=${PG_URI[bp]}
}

# pg_serve NAME: a copy of the data folder (same ca.key) on PGURI and
# free ports, served in the background; SAPI[NAME] its api URL.
declare -A SAPI=()
pg_serve()
{
	local n=$1 dir=$T/pg-$1 api pub i
	rm -rf -- "$dir"
	cp -a "$DATA" "$dir" || die "cannot copy the data folder"
	rm -f "$dir"/redis-ca.db* "$dir/serve.lock"
	api=$(rca_free_port) && pub=$(rca_free_port) || die "no free port"
	jq --arg api "127.0.0.1:$api" --arg pub "127.0.0.1:$pub" \
	    --arg url "http://127.0.0.1:$pub" --arg db "$PGURI" \
	    '.listen.api = $api | .listen.public = $pub |
	     .public_url = $url | .database = $db' \
	    "$DATA/config.json" > "$dir/config.json" || die "jq failed"
	"$RCA_BIN" serve --config "$dir/config.json" >> "$T/serve-$n.log" 2>&1 &
	SPID[$n]=$!
	rca_track "${SPID[$n]}"
	SAPI[$n]="https://127.0.0.1:$api"
	for i in $(seq 1 300); do
		kill -0 "${SPID[$n]}" 2>/dev/null ||
		    die "serve $n exited: $(tail -n 5 "$T/serve-$n.log")"
		curl -s -o /dev/null --max-time 2 --cacert "$CACERT" \
		    "${SAPI[$n]}/healthz" && return 0
		sleep 0.1
	done
	die "serve $n did not answer /healthz within 30 s"
}

# cmp_run LABEL LUA URL...: wrk with $CMP connections split over the
# URLs at once for DURATION seconds; one row of the table.  CMP_RATE is
# the rate of certificates answered 201 (all URLs together).
cmp_run()
{
	local label=$1 lua=$2 n i c th t0 pids=() reqs=0 st=0 io=0 dur=0
	local p50=0 p99=0 max=0 r d s e a b m ok cpu
	shift 2
	n=$#
	t0=$(cpu_ticks "${CMP_PIDS[@]}")
	i=0
	for u in "$@"; do
		c=$((CMP / n + (i < CMP % n ? 1 : 0)))
		th=$c
		[ "$th" -gt "$CORES" ] && th=$CORES
		timeout $((DURATION + 60)) wrk -t "$th" -c "$c" \
		    -d "${DURATION}s" --latency -s "$lua" \
		    "$u/v1/certificates" > "$T/cmp.$i" 2>&1 &
		pids+=($!)
		i=$((i + 1))
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" ||
		    die "wrk failed ($label): $(tail -n 5 "$T/cmp.$i")"
		read -r _ r d s e a b m < <(grep '^RESULT ' "$T/cmp.$i") ||
		    die "no RESULT line from wrk: $(tail -n 5 "$T/cmp.$i")"
		reqs=$((reqs + r)); st=$((st + s)); io=$((io + e))
		[ "$d" -gt "$dur" ] && dur=$d
		# Latencies: the worst of the wrk runs.
		p50=$(awk -v x="$p50" -v y="$a" 'BEGIN { print (y > x) ? y : x }')
		p99=$(awk -v x="$p99" -v y="$b" 'BEGIN { print (y > x) ? y : x }')
		max=$(awk -v x="$max" -v y="$m" 'BEGIN { print (y > x) ? y : x }')
	done
	ok=$((reqs - st))
	cpu=$(awk -v t="$(( $(cpu_ticks "${CMP_PIDS[@]}") - t0 ))" -v hz="$hz" \
	    -v n="$ok" 'BEGIN { printf "%.0f", (n > 0) ? t / hz * 1e6 / n : 0 }')
	CMP_RATE=$(awk -v n="$ok" -v d="$dur" 'BEGIN { printf "%.1f", n / (d / 1e6) }')
	printf '%-26s %10s %9.2f %9.2f %9.2f %7d %12s\n' "$label" "$CMP_RATE" \
	    "$(awk -v v="$p50" 'BEGIN { print v / 1000 }')" \
	    "$(awk -v v="$p99" 'BEGIN { print v / 1000 }')" \
	    "$(awk -v v="$max" 'BEGIN { print v / 1000 }')" $((st + io)) "$cpu"
}

if [ "$PGURI" = throwaway ]; then
	bench_pg_start
fi
# The schema (migrate) and an admin token on PostgreSQL, through the
# first instance's configuration.
pg_serve_cfg=$DATA/config-pg.json
jq --arg db "$PGURI" '.database = $db' "$DATA/config.json" > "$pg_serve_cfg"
(cd "$DATA" && "$RCA_BIN" token create --kind admin --config "$pg_serve_cfg") \
    > "$T/pg-admin.out" 2>&1 || die "token create on PostgreSQL: $(cat "$T/pg-admin.out")"
PGADMIN=$(awk '$1 == "token:" { print $2 }' "$T/pg-admin.out")
[ -n "$PGADMIN" ] || die "no admin token: $(cat "$T/pg-admin.out")"
mklua "$T/issue-pg.lua" "$PGADMIN"
psql_bin=$(command -v psql || echo "${PG_BINDIR:-/usr/lib/postgresql/15/bin}/psql")
settings=$("$psql_bin" -X -At -d "$PGURI" -c "SELECT 'PostgreSQL ' ||
    current_setting('server_version') || ', fsync=' ||
    current_setting('fsync') || ', synchronous_commit=' ||
    current_setting('synchronous_commit')" 2>/dev/null) ||
    settings="PostgreSQL (settings not readable)"

printf '\ndatabases at concurrency %d, %s s each (%s; SQLite synchronous=FULL)\n' \
    "$CMP" "$DURATION" "$settings"
printf '%-26s %10s %9s %9s %9s %7s %12s\n' setup certs/s p50_ms p99_ms \
    max_ms errors cpu_us/cert
CMP_PIDS=("$RCA_SERVE_PID")
cmp_run "sqlite, 1 instance" "$T/issue.lua" "$API"
r_sqlite=$CMP_RATE
pg_serve a
CMP_PIDS=("${SPID[a]}")
cmp_run "postgresql, 1 instance" "$T/issue-pg.lua" "${SAPI[a]}"
r_pg1=$CMP_RATE
pg_serve b
CMP_PIDS=("${SPID[a]}" "${SPID[b]}")
cmp_run "postgresql, 2 instances" "$T/issue-pg.lua" "${SAPI[a]}" "${SAPI[b]}"
r_pg2=$CMP_RATE
awk -v s="$r_sqlite" -v p1="$r_pg1" -v p2="$r_pg2" 'BEGIN {
	printf "postgresql / sqlite (1 instance each): %.2f\n", (s > 0) ? p1 / s : 0
	printf "postgresql 2 instances / 1 instance:   %.2f\n", (p1 > 0) ? p2 / p1 : 0
	printf "(cpu_us/cert counts the serves only, not PostgreSQL)\n"
}'
printf '(load average now: %s)\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
