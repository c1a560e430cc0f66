#!/bin/bash
# Scale benchmark: what each request costs with N certificates in the
# database (10% revoked and unexpired).  Builds the database, starts the
# real `redis-ca serve` on it and reports one table: start-up time
# (including the CRL publication of the revoked rows), one revoke
# (sequential), revocations/s with 8 clients, GET /metrics, the list
# filters, GET /v1/crl requests/s and size, and the server's peak RSS
# after the parallel revokes.
#
# usage: bench/scale.sh [-b BUILD-DIR] [-k] [-r] [-t SECS] [-p SECS] N
#   -b  meson build directory (default build-rel/; set up with
#       -Dbuildtype=release -Dtests=false and built if it holds no
#       redis-ca yet)
#   -k  keep the run's temp folder (data dir, server log, raw timings)
#   -r  reuse the database cached for N in /tmp/redis-ca-scale/N/
#       (generated, and the cache written, when there is none; a cache
#       older than 48 h is regenerated: its valid rows start to expire)
#   -t  cap in seconds on the 20 sequential revokes (default 20)
#   -p  seconds of parallel revokes (default 10)
#
# Generation: `redis-ca init` makes a fresh data folder; the server
# issues 128 real template certificates through POST
# /v1/certificates/generate (redis-node and redis-client; ec-p256,
# ec-p384, rsa-2048); then bench/scale_gen.py adds rows on the real
# schema with python3's sqlite3, 50000 per transaction, each borrowing a
# template's PEM with its own serial, fingerprint, key hash, names and
# times (see its header for the mix).  Each run copies the cached data
# folder, so every run starts from the same database and publishes its
# first CRL at start-up.
#
# Needs wrk, curl, jq, openssl, python3 (Debian: wrk curl jq openssl
# python3).  127.0.0.1 only; ports picked at random; the server is
# stopped by PID at the end.  The CRL served at the end must list at
# least the generated revoked rows (checked with openssl crl).
set -u
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
BUILD="$root/build-rel"
KEEP=0
REUSE=0
CAP=20
PDUR=10
CACHE_ROOT=/tmp/redis-ca-scale
NSEQ=20		# sequential revokes (or CAP seconds)
NLAT=20		# requests per latency row
PAR=8		# parallel revoke clients

usage() { sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while getopts 'b:krt:p:h' opt; do
	case $opt in
	b) BUILD=$OPTARG ;;
	k) KEEP=1 ;;
	r) REUSE=1 ;;
	t) CAP=$OPTARG ;;
	p) PDUR=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# = 1 ] || usage
N=$1
case $N in
'' | *[!0-9]*) echo "scale: N must be a whole number" >&2; exit 2 ;;
esac
case $CAP$PDUR in
'' | *[!0-9]*) echo "scale: -t and -p want whole seconds" >&2; exit 2 ;;
esac
[ "$N" -ge 1000 ] || { echo "scale: N must be at least 1000" >&2; exit 2; }
for t in wrk curl jq openssl python3; do
	command -v "$t" >/dev/null ||
	    { echo "scale: $t is not installed" >&2; exit 1; }
done

bin=$(find "$BUILD" -name redis-ca -type f -perm -u+x 2>/dev/null | head -n 1)
if [ -z "$bin" ]; then
	echo "scale: building redis-ca in $BUILD" >&2
	if [ ! -f "$BUILD/build.ninja" ]; then
		meson setup "$BUILD" "$root" -Dbuildtype=release \
		    -Dtests=false >&2 ||
		    { echo "scale: meson setup failed" >&2; exit 1; }
	fi
	ninja -C "$BUILD" >&2 || { echo "scale: build failed" >&2; exit 1; }
	bin=$(find "$BUILD" -name redis-ca -type f -perm -u+x | head -n 1)
	[ -n "$bin" ] || { echo "scale: no redis-ca binary in $BUILD" >&2; exit 1; }
fi
BUILD=$(cd "$BUILD" && pwd)
src=$(jq -r '.directories.source' "$BUILD/meson-info/meson-info.json" \
    2>/dev/null) || src=$root
commit=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git -C "$src" status --porcelain --untracked-files=no 2>/dev/null)" ] &&
    commit="$commit-dirty"

. "$root/tests/integration/lib.sh"
RCA_TEST_NAME=scale
RCA_KEEP_TMP=$KEEP
rca_setup "$bin"
T=$RCA_TMP
CACHE="$CACHE_ROOT/$N"

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Fresh ports for the data folder in $DATA; sets API, PUB, CACERT, ADMIN.
scale_ports()
{
	API_PORT=$(rca_free_port) || die "no free port"
	PUB_PORT=$(rca_free_port) || die "no free port"
	while [ "$PUB_PORT" = "$API_PORT" ]; do
		PUB_PORT=$(rca_free_port) || die "no free port"
	done
	API="https://127.0.0.1:$API_PORT"
	PUB="http://127.0.0.1:$PUB_PORT"
	rca_config_edit --arg api "127.0.0.1:$API_PORT" \
	    --arg pub "127.0.0.1:$PUB_PORT" --arg url "$PUB" \
	    '.listen.api = $api | .listen.public = $pub | .public_url = $url'
	CACERT="$DATA/ca.crt"
	ADMIN=$(tr -d ' \r\n' < "$DATA/admin.token") ||
	    die "cannot read admin.token"
}

# Start serve and wait (up to 600 s) for /healthz; sets STARTUP_MS.
scale_start()
{
	local i t0
	t0=$(now_ms)
	"$RCA_BIN" serve --config "$DATA/config.json" \
	    >> "$T/serve.log" 2>&1 &
	RCA_SERVE_PID=$!
	rca_track "$RCA_SERVE_PID"
	for i in $(seq 1 12000); do
		kill -0 "$RCA_SERVE_PID" 2>/dev/null ||
		    die "redis-ca serve exited during start-up"
		if curl -s -o /dev/null --max-time 2 --cacert "$CACERT" \
		    "$API/healthz" 2>/dev/null; then
			STARTUP_MS=$(($(now_ms) - t0))
			return 0
		fi
		sleep 0.05
	done
	die "redis-ca serve did not answer /healthz within 600 s"
}

# The template certificates: real ones, issued by the server.
issue_templates()
{
	local i prof kt body st
	for i in $(seq 0 127); do
		case $((i % 16)) in
		[0-9] | 10) kt=ec-p256 ;;
		11 | 12) kt=ec-p384 ;;
		*) kt=rsa-2048 ;;
		esac
		if [ $((i % 2)) = 0 ]; then
			prof=redis-node
			body=$(printf '{"profile":"redis-node","common_name":"redis-%d.cache.internal","sans":{"dns":["redis-%d.cache.internal"],"ip":["10.0.0.%d"]},"ttl":"72h","key_type":"%s"}' \
			    "$i" "$i" $((i + 1)) "$kt")
		else
			prof=redis-client
			body=$(printf '{"profile":"redis-client","common_name":"app-%d","sans":{"dns":["app-%d.svc.internal"]},"ttl":"24h","key_type":"%s"}' \
			    "$i" "$i" "$kt")
		fi
		st=$(curl -sS --max-time 60 --cacert "$CACERT" -o "$T/tpl.out" \
		    -w '%{http_code}' -H "Authorization: Bearer $ADMIN" \
		    -H 'Content-Type: application/json' --data-binary "$body" \
		    "$API/v1/certificates/generate") ||
		    die "template $i ($prof $kt): curl failed"
		[ "$st" = 201 ] || [ "$st" = 200 ] ||
		    die "template $i ($prof $kt): HTTP $st: $(head -c 300 "$T/tpl.out")"
	done
}

generate()
{
	local t0 t1
	log "generating $N certificates (cached in $CACHE)"
	t0=$(now_ms)
	rca_init > /dev/null
	scale_start
	issue_templates
	rca_stop
	python3 "$here/scale_gen.py" "$DATA/redis-ca.db" "$N" \
	    "$T/valid.txt" > "$T/gen.out" || die "scale_gen.py failed"
	t1=$(now_ms)
	rm -rf -- "$CACHE"
	mkdir -p "$CACHE" || die "cannot make $CACHE"
	cp -a "$DATA" "$CACHE/data" || die "cannot copy to $CACHE"
	cp "$T/valid.txt" "$CACHE/valid.txt"
	{ cat "$T/gen.out"; echo "generation_s=$(((t1 - t0) / 1000))"; } \
	    > "$CACHE/meta"
	: > "$T/serve.log"
	log "$(cat "$CACHE/meta" | tr '\n' ' ')"
}

fresh=1
if [ "$REUSE" = 1 ] && [ -f "$CACHE/meta" ] && [ -d "$CACHE/data" ] &&
    [ -z "$(find "$CACHE/meta" -mmin +2880)" ]; then
	fresh=0
	log "reusing $CACHE ($(head -n 1 "$CACHE/meta"))"
fi
DATA="$T/data"
if [ "$fresh" = 1 ]; then
	generate
	rm -rf -- "$DATA"
fi
cp -a "$CACHE/data" "$DATA" || die "cannot copy $CACHE/data"
cp "$CACHE/valid.txt" "$T/valid.txt"
scale_ports
scale_start
log "serve is up in $STARTUP_MS ms (pid $RCA_SERVE_PID)"
hwm0=$(awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$RCA_SERVE_PID/status")
NVALID=$(wc -l < "$T/valid.txt")
[ "$NVALID" -ge $((NSEQ + 100)) ] || die "only $NVALID valid serials"

# ---- measurements ----

# One request with curl; prints "HTTP-CODE SECONDS": the time from the
# request being sent (after connect and TLS) to the last byte.
req()
{
	curl -sS --max-time 300 --cacert "$CACERT" -o "$T/req.out" \
	    -w '%{http_code} %{time_pretransfer} %{time_total}\n' "$@" |
	    awk '{ printf "%s %.6f\n", $1, $3 - $2 }'
}

# stats FILE: "median p90 count" in ms of the second column.
stats()
{
	awk '{ print $2 * 1000 }' "$1" | sort -g | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print "- - 0"; exit }
			m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			p = int(NR * 0.9 + 0.999999); if (p < 1) p = 1
			printf "%.1f %.1f %d\n", m, v[p], NR
		}'
}

ROWS=()
row() { ROWS+=("$(printf '%-46s %s' "$1" "$2")"); }

# Sequential revokes: NSEQ, or CAP seconds.
: > "$T/seq.txt"
t0=$(now_ms)
i=0
while read -r s; do
	[ "$i" -lt "$NSEQ" ] || break
	[ $(($(now_ms) - t0)) -lt $((CAP * 1000)) ] || break
	req -X POST -H "Authorization: Bearer $ADMIN" \
	    "$API/v1/certificates/$s/revoke" >> "$T/seq.txt"
	i=$((i + 1))
done < <(head -n "$NSEQ" "$T/valid.txt")
bad=$(awk '$1 != 200' "$T/seq.txt" | wc -l)
[ "$bad" = 0 ] || die "sequential revokes: $bad not 200: $(awk '$1 != 200' "$T/seq.txt" | head -n 3)"
read -r m p c < <(stats "$T/seq.txt")
row "one revoke (ms, median / p90)" "$m / $p  (n=$c)"

# Parallel revokes: PAR connections (wrk, keep-alive) for PDUR seconds,
# each request a different valid serial.
tail -n +$((NSEQ + 1)) "$T/valid.txt" > "$T/par.txt"
cat > "$T/revoke.lua" <<EOF
local serials = {}
for l in io.lines("$T/par.txt") do serials[#serials + 1] = l end
local n = 0
local nthreads = 2
setup = function(thread)
  thread:set("tid", n)
  n = n + 1
end
local i = nil
request = function()
  if i == nil then i = tid end
  local s = serials[(i % #serials) + 1]
  i = i + nthreads
  return wrk.format("POST", "/v1/certificates/" .. s .. "/revoke",
    { ["Authorization"] = "Bearer $ADMIN" }, "")
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %.0f %.0f\n",
    summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90)))
end
EOF
timeout $((PDUR + 300)) wrk -t 2 -c "$PAR" -d "${PDUR}s" --timeout 200s \
    -s "$T/revoke.lua" "$API/v1/certificates" > "$T/wrk.revoke" 2>&1 ||
    die "wrk (revokes) failed: $(tail -n 5 "$T/wrk.revoke")"
read -r _ reqs dur_us st_err io_err p50 p90 < <(grep '^RESULT ' "$T/wrk.revoke") ||
    die "no RESULT from wrk: $(tail -n 5 "$T/wrk.revoke")"
# Revokes still running when wrk stopped finish before the next
# measurement: one more revoke queues behind them.
req -X POST -H "Authorization: Bearer $ADMIN" \
    "$API/v1/certificates/$(tail -n 1 "$T/par.txt")/revoke" > /dev/null
row "revocations/s, $PAR clients" "$(awk -v n=$((reqs - st_err)) -v d="$dur_us" \
    'BEGIN { printf "%.1f", n / (d / 1e6) }')  (ok=$((reqs - st_err)) in $(awk \
    -v d="$dur_us" 'BEGIN { printf "%.1f", d / 1e6 }') s, errors=$((st_err + io_err)), p50 $(awk \
    -v v="$p50" 'BEGIN { printf "%.0f", v / 1000 }') ms, p90 $(awk \
    -v v="$p90" 'BEGIN { printf "%.0f", v / 1000 }') ms)"
hwm=$(awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$RCA_SERVE_PID/status")

# lat NAME URL [curl args]: NLAT requests, median / p90.
lat()
{
	local name=$1 url=$2 k
	shift 2
	: > "$T/lat.txt"
	for k in $(seq 1 "$NLAT"); do
		req "$@" "$url" >> "$T/lat.txt"
	done
	bad=$(awk '$1 != 200' "$T/lat.txt" | wc -l)
	[ "$bad" = 0 ] || die "$name: $bad answers not 200 ($(head -c 300 "$T/req.out"))"
	read -r m p c < <(stats "$T/lat.txt")
	row "$name (ms, median / p90)" "$m / $p"
}

lat "GET /metrics" "$PUB/metrics"
for q in status=valid status=revoked status=expired \
    expires_before=2000-01-01T00:00:00Z profile=redis-node \
    common_name=app-0000001; do
	case $q in
	expires_before=*) name="list expires_before (matches none)" ;;
	*) name="list $q" ;;
	esac
	lat "$name" "$API/v1/certificates?$q" -H "Authorization: Bearer $ADMIN"
done

crl_size=$(curl -sS --max-time 60 -o "$T/crl.der" -w '%{size_download}' \
    "$PUB/v1/crl") || die "GET /v1/crl failed"
# The CRL lists the generated revoked rows and this run's revokes.
crl_n=$(openssl crl -inform DER -in "$T/crl.der" -noout -text |
    grep -c 'Serial Number:') || die "the CRL does not parse"
want=$(sed -n 's/.*revoked_unexpired=\([0-9]*\).*/\1/p' "$CACHE/meta")
[ "$crl_n" -ge "${want:-0}" ] ||
    die "the CRL lists $crl_n certificates, fewer than the $want revoked"
timeout 120 wrk -t 2 -c 8 -d 10s --timeout 30s "$PUB/v1/crl" \
    > "$T/wrk.crl" 2>&1 || die "wrk (crl) failed: $(tail -n 5 "$T/wrk.crl")"
crl_rps=$(awk '/^Requests\/sec:/ { print $2 }' "$T/wrk.crl")
non2xx=$(awk '/Non-2xx/ { print $NF }' "$T/wrk.crl")
row "GET /v1/crl (wrk -t2 -c8 -d10s)" "$crl_rps req/s, $(awk -v b="$crl_size" \
    'BEGIN { printf "%.2f MB", b / 1e6 }') ($crl_size bytes, $crl_n entries)${non2xx:+, non-2xx $non2xx}"
row "start-up incl. first CRL (ms)" "$STARTUP_MS"
row "peak RSS after start-up" "$hwm0 MB (VmHWM)"
row "peak RSS after parallel revokes" "$hwm MB (VmHWM)"

api GET /healthz
expect_status 200 "GET /healthz after the benchmark"

printf '\nredis-ca scale benchmark: N=%s (%s)\n' "$N" "$(head -n 1 "$CACHE/meta")"
printf 'commit %s, build %s, %s cores (nproc), %s\n' "$commit" "$BUILD" \
    "$(nproc)" "$(date -u +%FT%TZ)"
printf '%-46s %s\n' measure value
for r in "${ROWS[@]}"; do
	printf '%s\n' "$r"
done
printf '(load average now: %s)\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
