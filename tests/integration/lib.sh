# Shared helpers for the integration tests (sourced, not run).
#
# Usage in a test script:
#   . "$(dirname "$0")/lib.sh"
#   rca_setup "$1"          # $1: path to the redis-ca binary
#   rca_init                # temp data dir, free ports, config rewritten
#   rca_start               # serve in the background, wait for /healthz
#   api GET /v1/ca ; expect_status 200
#
# Everything started is stopped by PID from an EXIT trap, and the temp
# folder is removed (set RCA_KEEP_TMP=1 to keep it for a post-mortem).
# All traffic stays on 127.0.0.1.  Every wait is bounded.

set -u
set -o pipefail

RCA_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RCA_SRC_ROOT=$(cd "$RCA_LIB_DIR/../.." && pwd)
RCA_OPENAPI="$RCA_SRC_ROOT/openapi/redis-ca.yaml"

RCA_PIDS=()		# every background process we started
RCA_SERVE_PID=""
RCA_TMP=""
RCA_TEST_NAME=$(basename "$0" .sh)
RCA_CHECKS=0

# ---- reporting ----

log() { printf '[%s] %s\n' "$RCA_TEST_NAME" "$*" >&2; }

# Fail the test with a clear message (and the last response, if any).
die()
{
	printf '[%s] FAIL: %s\n' "$RCA_TEST_NAME" "$*" >&2
	if [ -n "$RCA_TMP" ] && [ -s "$RCA_TMP/body" ]; then
		printf '[%s] last response (%s): %s\n' "$RCA_TEST_NAME" \
		    "${STATUS:-?}" "$(head -c 2000 "$RCA_TMP/body" | tr -d '\0')" >&2
	fi
	if [ -n "$RCA_TMP" ] && [ -f "$RCA_TMP/serve.log" ]; then
		printf '[%s] last lines of the server log:\n' "$RCA_TEST_NAME" >&2
		tail -n 20 "$RCA_TMP/serve.log" >&2
	fi
	exit 1
}

ok() { RCA_CHECKS=$((RCA_CHECKS + 1)); log "ok: $*"; }

# ---- set-up and clean-up ----

rca_cleanup()
{
	local rc=$? pid
	trap - EXIT INT TERM
	# Every certificate the script received or wrote must parse with
	# python3-cryptography too (SPEC section 8).
	if [ "$rc" = 0 ] && [ -n "$RCA_TMP" ] && [ -d "$RCA_TMP" ]; then
		rca_pycerts_check || rc=1
	fi
	# A test that passed also needs the server to exit cleanly on
	# SIGTERM: under ASan this is where LeakSanitizer speaks.
	if [ "$rc" = 0 ] && [ -n "$RCA_SERVE_PID" ] &&
	    kill -0 "$RCA_SERVE_PID" 2>/dev/null &&
	    ! rca_stop_pid "$RCA_SERVE_PID" serve; then
		tail -n 40 "$RCA_TMP/serve.log" >&2
		rc=1
	fi
	for pid in "${RCA_PIDS[@]}"; do
		rca_kill_pid "$pid"
	done
	if [ -n "$RCA_TMP" ] && [ -d "$RCA_TMP" ]; then
		if [ "${RCA_KEEP_TMP:-0}" = 1 ]; then
			log "kept $RCA_TMP"
		else
			rm -rf -- "$RCA_TMP"
		fi
	fi
	if [ "$rc" = 0 ]; then
		log "PASS ($RCA_CHECKS checks)"
	fi
	exit "$rc"
}

# Stop one process we started: SIGTERM, wait up to 10 s, then SIGKILL.
rca_kill_pid()
{
	local pid=$1
	kill -0 "$pid" 2>/dev/null || return 0
	if ! rca_term_wait "$pid" 100; then
		log "pid $pid ignored SIGTERM for 10 s: SIGKILL"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

# rca_term_wait PID TENTHS: SIGTERM to PID, then 0 once it is gone, or
# 1 when it is still there after TENTHS tenths of a second.
rca_term_wait()
{
	local i
	kill -TERM "$1" 2>/dev/null
	for i in $(seq 1 "$2"); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	! kill -0 "$1" 2>/dev/null
}

# Remember a background process so the EXIT trap stops it.
rca_track() { RCA_PIDS+=("$1"); }

# rca_need PROGRAM...: each is installed, or the test dies.
rca_need()
{
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || die "$t is not installed"
	done
}

# rca_setup BINARY: check tools, make the temp folder, install the trap.
rca_setup()
{
	RCA_BIN=${1:-}
	[ -n "$RCA_BIN" ] || die "usage: $0 PATH-TO-redis-ca"
	[ -x "$RCA_BIN" ] || die "$RCA_BIN is not an executable"
	RCA_BIN=$(cd "$(dirname "$RCA_BIN")" && pwd)/$(basename "$RCA_BIN")
	local t
	rca_need curl jq openssl python3
	# python3 with yaml and jsonschema (Debian: python3-yaml,
	# python3-jsonschema); a python3 earlier in PATH may lack them.
	RCA_PY=""
	for t in /usr/bin/python3 python3; do
		if "$t" -c 'import yaml, jsonschema' 2>/dev/null; then
			RCA_PY=$t
			break
		fi
	done
	[ -n "$RCA_PY" ] ||
	    die "python3 lacks yaml/jsonschema: apt-get install python3-yaml python3-jsonschema"
	RCA_TMP=$(mktemp -d /tmp/rca-it.XXXXXX) || die "mktemp failed"
	trap rca_cleanup EXIT
	trap 'exit 1' INT TERM
	DATA="$RCA_TMP/data"
	: > "$RCA_TMP/body"
}

# A free TCP port on 127.0.0.1 (bound and released by the kernel).
rca_free_port()
{
	python3 - <<'EOF'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

# rca_init [extra init args...]: init a data dir on free ports.
# Sets DATA, API_PORT, PUB_PORT, API, PUB, CACERT, ADMIN.
rca_init()
{
	API_PORT=$(rca_free_port) || die "no free port"
	PUB_PORT=$(rca_free_port) || die "no free port"
	while [ "$PUB_PORT" = "$API_PORT" ]; do
		PUB_PORT=$(rca_free_port) || die "no free port"
	done
	API="https://127.0.0.1:$API_PORT"
	PUB="http://127.0.0.1:$PUB_PORT"
	"$RCA_BIN" init --data "$DATA" --public-url "$PUB" "$@" \
	    > "$RCA_TMP/init.out" 2> "$RCA_TMP/init.err" ||
	    die "redis-ca init failed: $(cat "$RCA_TMP/init.err")"
	[ -f "$DATA/config.json" ] || die "init made no config.json"
	# Nodes' cert_dirs live in the temp folder (the data folder inside
	# it stays refused: SPEC section 8).
	rca_config_edit \
	    --arg api "127.0.0.1:$API_PORT" --arg pub "127.0.0.1:$PUB_PORT" \
	    --arg url "$PUB" --arg nodes "$RCA_TMP" \
	    '.listen.api = $api | .listen.public = $pub | .public_url = $url |
	     .nodes.allowed_dirs = [$nodes]'
	CACERT="$DATA/ca.crt"
	ADMIN=$(tr -d ' \r\n' < "$DATA/admin.token") ||
	    die "cannot read admin.token"
	case $ADMIN in
	rca_*) ;;
	*) die "admin.token does not hold an rca_ token" ;;
	esac
}

# rca_config_edit JQ-ARGS... FILTER: rewrite config.json in place.
rca_config_edit()
{
	local mode
	mode=$(stat -c %a "$DATA/config.json")
	jq "$@" "$DATA/config.json" > "$RCA_TMP/config.new" ||
	    die "jq could not edit config.json"
	cat "$RCA_TMP/config.new" > "$DATA/config.json"
	chmod "$mode" "$DATA/config.json"
	rm -f "$RCA_TMP/config.new"
}

# rca_start: start serve in the background and wait (30 s) for /healthz.
rca_start()
{
	local i
	"$RCA_BIN" serve --config "$DATA/config.json" \
	    >> "$RCA_TMP/serve.log" 2>&1 &
	RCA_SERVE_PID=$!
	rca_track "$RCA_SERVE_PID"
	for i in $(seq 1 300); do
		if ! kill -0 "$RCA_SERVE_PID" 2>/dev/null; then
			die "redis-ca serve exited during start-up"
		fi
		if curl -s -o /dev/null --max-time 2 --cacert "$CACERT" \
		    "$API/healthz" 2>/dev/null; then
			log "serve is up (pid $RCA_SERVE_PID, api $API, public $PUB)"
			return 0
		fi
		sleep 0.1
	done
	die "redis-ca serve did not answer /healthz within 30 s"
}

# rca_stop_pid PID NAME: SIGTERM to PID (a child of this shell); 0 when
# it exits with status 0 within 15 s, else 1 with a FAIL line saying
# which (one still running is killed).
rca_stop_pid()
{
	local pid=$1 rc
	if ! rca_term_wait "$pid" 150; then
		log "FAIL: $2 did not exit within 15 s of SIGTERM"
		rca_kill_pid "$pid"
		return 1
	fi
	wait "$pid"
	rc=$?
	[ "$rc" = 0 ] && return 0
	log "FAIL: $2 exited with status $rc on SIGTERM"
	return 1
}

# rca_stop: stop the server (SIGTERM) and check it exited cleanly.
rca_stop()
{
	[ -n "$RCA_SERVE_PID" ] || return 0
	rca_stop_pid "$RCA_SERVE_PID" "redis-ca serve" ||
	    die "redis-ca serve did not stop cleanly on SIGTERM"
	RCA_SERVE_PID=""
}

# ---- HTTP ----

# api METHOD PATH [curl args...]: call the HTTPS api listener.
# Sets STATUS; the body is in $RCA_TMP/body, the headers in
# $RCA_TMP/headers.  Use BODY=$(body) to read it.
api() { rca_http "$API" "$@"; }

# pub METHOD PATH [curl args...]: same on the plain-HTTP public listener.
pub() { rca_http "$PUB" "$@"; }

rca_http()
{
	local base=$1 method=$2 path=$3
	shift 3
	STATUS=$(curl -sS --max-time 60 --cacert "$CACERT" -X "$method" \
	    -o "$RCA_TMP/body" -D "$RCA_TMP/headers" -w '%{http_code}' \
	    "$@" "$base$path") || die "curl $method $base$path failed"
	rca_pycerts_keep "$RCA_TMP/body"
}

# ---- every certificate parses with python3-cryptography ----

# rca_pycerts_keep FILE: keep a copy of FILE (a response body) for
# rca_pycerts_check when it holds a certificate.
rca_pycerts_keep()
{
	grep -q 'BEGIN CERTIFICATE-----' "$1" 2>/dev/null || return 0
	mkdir -p "$RCA_TMP/pycerts"
	RCA_PYCERTS_N=$(( ${RCA_PYCERTS_N:-0} + 1 ))
	cp "$1" "$RCA_TMP/pycerts/$RCA_PYCERTS_N.body"
}

# rca_pycerts_check: load every certificate in the kept response bodies
# (PEM, or JSON holding PEM strings) and in every *.crt/*.pem file under
# the test's folder (data dir, node cert_dirs, enroll output) with
# python3-cryptography, touching the key, extensions and signature
# algorithm.  Returns 1 and names each one that does not parse.
# RCA_PYCERTS_SKIP: colon-separated folders of deliberately bad inputs
# that are not certificates the service made (skipped).
rca_pycerts_check()
{
	local py=${RCA_PY:-/usr/bin/python3}
	"$py" -c 'import cryptography' 2>/dev/null || {
		printf '[%s] FAIL: %s lacks python3-cryptography (apt-get install python3-cryptography)\n' \
		    "$RCA_TEST_NAME" "$py" >&2
		return 1
	}
	find "$RCA_TMP" -type f \( -name '*.body' -o -name '*.crt' -o \
	    -name '*.pem' \) -print0 2>/dev/null |
	    RCA_PYCERTS_SKIP=${RCA_PYCERTS_SKIP:-} "$py" -c '
import json, re, sys
from cryptography import x509
pat = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)
def strings(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, dict):
        for x in v.values():
            yield from strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)
import os
skip = [d.rstrip("/") + "/" for d in os.environ.get("RCA_PYCERTS_SKIP", "").split(":") if d]
seen, bad = set(), []
for path in sys.stdin.buffer.read().decode().split(chr(0)):
    if not path or any(path.startswith(d) for d in skip):
        continue
    try:
        text = open(path, "rb").read().decode("utf-8", "replace")
    except OSError:
        continue
    try:
        text = chr(10).join(strings(json.loads(text)))
    except ValueError:
        pass
    for pem in pat.findall(text):
        if pem in seen:
            continue
        seen.add(pem)
        try:
            c = x509.load_pem_x509_certificate(pem.encode())
            c.public_key()
            list(c.extensions)
            c.signature_hash_algorithm
            c.subject, c.issuer, c.serial_number
        except Exception as e:
            bad.append("%s: %s" % (path, e))
for b in bad:
    print(b)
print("%d certificates parsed with python3-cryptography, %d refused" % (len(seen), len(bad)))
sys.exit(1 if bad else 0)
' > "$RCA_TMP/pycerts.out" 2>&1
	local rc=$?
	if [ "$rc" != 0 ]; then
		printf '[%s] FAIL: certificates python3-cryptography refuses:\n' \
		    "$RCA_TEST_NAME" >&2
		cat "$RCA_TMP/pycerts.out" >&2
		return 1
	fi
	log "ok: $(tail -n 1 "$RCA_TMP/pycerts.out")"
	return 0
}

# Shorthands: admin-authenticated JSON calls.
#   adm METHOD PATH [JSON]
adm()
{
	local method=$1 path=$2
	if [ $# -ge 3 ]; then
		api "$method" "$path" -H "Authorization: Bearer $ADMIN" \
		    -H 'Content-Type: application/json' --data-binary "$3"
	else
		api "$method" "$path" -H "Authorization: Bearer $ADMIN"
	fi
}

# tok TOKEN METHOD PATH [JSON]
tok()
{
	local t=$1 method=$2 path=$3
	if [ $# -ge 4 ]; then
		api "$method" "$path" -H "Authorization: Bearer $t" \
		    -H 'Content-Type: application/json' --data-binary "$4"
	else
		api "$method" "$path" -H "Authorization: Bearer $t"
	fi
}

body() { cat "$RCA_TMP/body"; }

# jq on the last body.
jb() { jq -r "$@" "$RCA_TMP/body"; }

# header NAME: value of a response header of the last call ("" if absent).
header()
{
	tr -d '\r' < "$RCA_TMP/headers" |
	    awk -v n="$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')" '
		BEGIN { FS = ": " }
		/^HTTP\// { v = "" }
		tolower($1) == n { sub(/^[^:]*: */, ""); v = $0 }
		END { print v }'
}

# ---- assertions ----

expect_status()
{
	[ "$STATUS" = "$1" ] || die "${2:-request}: want HTTP $1, got $STATUS"
}

# expect_error STATUS CODE [what]: an error body of the agreed shape.
expect_error()
{
	local want_status=$1 want_code=$2 what=${3:-request} code
	[ "$STATUS" = "$want_status" ] ||
	    die "$what: want HTTP $want_status $want_code, got $STATUS"
	code=$(jq -r '.error.code' "$RCA_TMP/body" 2>/dev/null) ||
	    die "$what: error body is not JSON"
	[ "$code" = "$want_code" ] ||
	    die "$what: want error code $want_code, got $code"
	schema_check Error "$RCA_TMP/body" "$what"
	ok "$what -> $want_status $want_code"
}

# expect_message_has TEXT: the error message names TEXT.
expect_message_has()
{
	local msg
	msg=$(jq -r '.error.message' "$RCA_TMP/body")
	case $msg in
	*"$1"*) ;;
	*) die "error message '$msg' does not name '$1'" ;;
	esac
}

# schema_check SCHEMA FILE [what]: queue a check that FILE (JSON)
# validates against components/schemas/SCHEMA of openapi/redis-ca.yaml.
# The queue is checked in one python run by schema_flush (starting
# python per response would dominate the run time); every test script
# calls schema_flush before it ends.
schema_check()
{
	local n
	mkdir -p "$RCA_TMP/schema"
	n=$(( $(wc -l 2>/dev/null < "$RCA_TMP/schema/list" || echo 0) + 1 ))
	cp "$2" "$RCA_TMP/schema/$n.json"
	printf '%s\t%s\t%s\n' "$1" "$RCA_TMP/schema/$n.json" "${3:-response}" \
	    >> "$RCA_TMP/schema/list"
}

# schema_flush: run the queued schema checks; die listing the failures.
schema_flush()
{
	[ -s "$RCA_TMP/schema/list" ] || return 0
	"$RCA_PY" "$RCA_LIB_DIR/schema_check.py" "$RCA_OPENAPI" --batch \
	    "$RCA_TMP/schema/list" > "$RCA_TMP/schema.out" 2>&1 ||
	    die "responses do not match openapi/redis-ca.yaml:
$(cat "$RCA_TMP/schema.out")"
	ok "$(tail -n 1 "$RCA_TMP/schema.out")"
	: > "$RCA_TMP/schema/list"
}

# ---- keys and CSRs ----

# make_csr NAME KEYSPEC CN [SAN-EXT]: writes $RCA_TMP/NAME.key and
# NAME.csr.  KEYSPEC: ec-p256, ec-p384, rsa-1024, rsa-2048...
make_csr()
{
	local name=$1 spec=$2 cn=$3 san=${4:-} kopt
	case $spec in
	ec-p256) kopt=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
	ec-p384) kopt=(-newkey ec -pkeyopt ec_paramgen_curve:P-384) ;;
	rsa-*) kopt=(-newkey "rsa:${spec#rsa-}") ;;
	*) die "make_csr: unknown key spec $spec" ;;
	esac
	local ext=()
	[ -n "$san" ] && ext=(-addext "subjectAltName=$san")
	openssl req -new "${kopt[@]}" -nodes -keyout "$RCA_TMP/$name.key" \
	    -subj "/CN=$cn" "${ext[@]}" -out "$RCA_TMP/$name.csr" \
	    2> "$RCA_TMP/openssl.err" ||
	    die "openssl req ($spec) failed: $(cat "$RCA_TMP/openssl.err")"
}

# issue_json CSRFILE PROFILE [TTL]: the POST /v1/certificates body.
issue_json()
{
	if [ $# -ge 3 ]; then
		jq -cn --rawfile csr "$1" --arg p "$2" --arg t "$3" \
		    '{csr: $csr, profile: $p, ttl: $t}'
	else
		jq -cn --rawfile csr "$1" --arg p "$2" '{csr: $csr, profile: $p}'
	fi
}

# list_serials [QUERY]: every serial listed by GET /v1/certificates
# (all pages), one a line, into $RCA_TMP/serials; NSERIALS their count.
list_serials()
{
	local q=${1:-} after="" n=0
	: > "$RCA_TMP/serials"
	while :; do
		n=$((n + 1))
		[ "$n" -le 10000 ] || die "pagination did not end"
		if [ -z "$after" ]; then
			adm GET "/v1/certificates?limit=${RCA_PAGE:-1000}${q:+&$q}"
		else
			adm GET "/v1/certificates?limit=${RCA_PAGE:-1000}${q:+&$q}&after=$after"
		fi
		[ "$STATUS" = 200 ] || die "GET /v1/certificates: HTTP $STATUS"
		jb '.items[].serial' >> "$RCA_TMP/serials"
		after=$(jb '.next // empty')
		[ -n "$after" ] || break
	done
	NSERIALS=$(wc -l < "$RCA_TMP/serials")
}

# ---- a TLS-only Redis primary and replica registered as nodes ----
#
# rca_redis_pair [NODE-JSON-EXTRA]: two redis-servers on the redis.conf
# block of GET /v1/nodes/NAME/redis.conf (port 0, TLS only,
# tls-auth-clients yes, tls-replication yes), "primary" and "replica"
# (replicaof the primary), each registered with its cert_dir
# $RCA_TMP/NAME inside nodes.allowed_dirs and started on a bootstrap
# redis-node certificate from /generate.  Waits until the replication
# link is up.  Sets PPORT, RPORT, PRIMARY_PID, REPLICA_PID.
# Needs redis-server and redis-cli; rca_start first.

# rca_bundle FILE: the trust bundle (GET /v1/ca/bundle.pem) into FILE.
rca_bundle()
{
	pub GET /v1/ca/bundle.pem
	expect_status 200 "GET /v1/ca/bundle.pem"
	cp "$RCA_TMP/body" "$1"
}

# rca_admin_pair: a matching copy of $DATA/tls/admin.crt and admin.key
# in $RCA_TMP/admin-now.{crt,key}.  serve replaces the pair when a new CA
# is activated (two renames), so a copy taken between them is taken again.
rca_admin_pair()
{
	local d="$DATA/tls" c="$RCA_TMP/admin-now" i
	if cmp -s "$d/admin.crt" "$c.crt" && cmp -s "$d/admin.key" "$c.key"; then
		return 0
	fi
	for i in $(seq 1 40); do
		cp "$d/admin.crt" "$c.crt.new" 2>/dev/null &&
		    cp "$d/admin.key" "$c.key.new" 2>/dev/null &&
		    [ "$(openssl x509 -in "$c.crt.new" -noout -pubkey)" = \
		    "$(openssl pkey -in "$c.key.new" -pubout 2>/dev/null)" ] && {
			chmod 0600 "$c.key.new"
			mv -f "$c.crt.new" "$c.crt"
			mv -f "$c.key.new" "$c.key"
			return 0
		}
		rm -f "$c.crt.new" "$c.key.new"
		sleep 0.05
	done
	die "$d/admin.crt and admin.key do not match for 2 s"
}

# rca_rcli PORT ARGS...: redis-cli over TLS as the admin client (its
# current files, rca_admin_pair) trusting $RCA_TMP/bundle.pem.
rca_rcli()
{
	local port=$1
	shift
	rca_admin_pair
	timeout 10 redis-cli --tls --cacert "$RCA_TMP/bundle.pem" \
	    --cert "$RCA_TMP/admin-now.crt" --key "$RCA_TMP/admin-now.key" \
	    -h 127.0.0.1 -p "$port" "$@"
}

# rca_node_json NAME PORT: a POST /v1/nodes body (cert_dir $RCA_TMP/NAME),
# passed through the jq filter RCA_NODE_EXTRA when set (e.g.
# '.group = "g1"').
rca_node_json()
{
	jq -cn --arg name "$1" --argjson port "$2" --arg dir "$RCA_TMP/$1" \
	    '{name: $name, host: "127.0.0.1", port: $port, cert_dir: $dir,
	      sans: {dns: ["localhost"], ip: ["127.0.0.1"]}}' |
	    jq -c "${RCA_NODE_EXTRA:-.}"
}

# rca_redis_node NAME PORT [redis.conf lines...]: bootstrap NAME's
# cert_dir, register it, start redis-server on its redis.conf block plus
# the lines given, wait (10 s) for PING.  Prints nothing; sets
# RCA_REDIS_PID.
rca_redis_node()
{
	local name=$1 port=$2 d="$RCA_TMP/$1" i
	shift 2
	mkdir -p "$d" "$d.data"
	adm POST /v1/certificates/generate "$(jq -cn \
	    '{profile: "redis-node", common_name: "localhost",
	      sans: {dns: ["localhost"], ip: ["127.0.0.1"]}}')"
	expect_status 201 "bootstrap certificate for $name"
	# cert_file: the leaf and its intermediates (the response's chain
	# without a self-signed CA at its end).
	jb .chain > "$d/all.pem"
	jb .certificate > "$d/redis.crt"
	rca_chain_intermediates "$d/all.pem" >> "$d/redis.crt"
	rm -f "$d/all.pem"
	jb .private_key > "$d/redis.key"
	jb .ca_certificate > "$d/ca.crt"
	chmod 0400 "$d/redis.key"
	adm POST /v1/nodes "$(rca_node_json "$name" "$port")"
	expect_status 201 "POST /v1/nodes ($name)"
	adm GET "/v1/nodes/$name/redis.conf"
	expect_status 200 "GET /v1/nodes/$name/redis.conf"
	{
		cat "$RCA_TMP/body"
		printf 'bind 127.0.0.1\ndaemonize no\ndir %s\n' "$d.data"
		printf 'logfile %s\nsave ""\nappendonly no\n' "$d.log"
		printf '%s\n' "$@"
	} > "$d.conf"
	grep -qx 'tls-replication yes' "$d.conf" ||
	    die "the redis.conf block of $name lacks tls-replication yes"
	grep -qx 'port 0' "$d.conf" ||
	    die "the redis.conf block of $name is not TLS only (port 0)"
	redis-server "$d.conf" > "$d.out" 2>&1 &
	RCA_REDIS_PID=$!
	rca_track "$RCA_REDIS_PID"
	for i in $(seq 1 100); do
		kill -0 "$RCA_REDIS_PID" 2>/dev/null ||
		    die "redis-server $name exited: $(tail -n 5 "$d.log")"
		[ "$(rca_rcli "$port" PING 2>/dev/null)" = PONG ] && return 0
		sleep 0.1
	done
	die "redis-server $name did not answer PING over TLS within 10 s: $(tail -n 5 "$d.log")"
}

# rca_chain_intermediates FILE: the certificates of FILE after the first
# that are not self-signed (a chain's intermediates), PEM.
rca_chain_intermediates()
{
	local f=$1 dir n i
	dir=$(mktemp -d "$RCA_TMP/chain.XXXXXX")
	awk -v d="$dir" '
	    /-----BEGIN CERTIFICATE-----/ { n++ }
	    n > 0 { print > (d "/" n ".pem") }' "$f"
	n=$(ls "$dir" | wc -l)
	for i in $(seq 2 "$n"); do
		[ "$(openssl x509 -in "$dir/$i.pem" -noout -subject)" = \
		    "$(openssl x509 -in "$dir/$i.pem" -noout -issuer |
		    sed 's/^issuer=/subject=/')" ] && continue
		cat "$dir/$i.pem"
	done
	rm -rf -- "$dir"
}

# rca_link_up PORT: the replica on PORT reports master_link_status:up.
rca_link_up()
{
	rca_rcli "$1" INFO replication 2>/dev/null | tr -d '\r' |
	    grep -qx 'master_link_status:up'
}

rca_redis_pair()
{
	local i
	rca_need redis-server redis-cli
	rca_bundle "$RCA_TMP/bundle.pem"
	PPORT=$(rca_free_port) || die "no free port"
	RPORT=$(rca_free_port) || die "no free port"
	while [ "$RPORT" = "$PPORT" ] || [ "$RPORT" = "$API_PORT" ] ||
	    [ "$RPORT" = "$PUB_PORT" ]; do
		RPORT=$(rca_free_port) || die "no free port"
	done
	rca_redis_node primary "$PPORT"
	PRIMARY_PID=$RCA_REDIS_PID
	rca_redis_node replica "$RPORT" "replicaof 127.0.0.1 $PPORT"
	REPLICA_PID=$RCA_REDIS_PID
	for i in $(seq 1 300); do
		rca_link_up "$RPORT" && break
		kill -0 "$PRIMARY_PID" 2>/dev/null ||
		    die "the primary died: $(tail -n 5 "$RCA_TMP/primary.log")"
		kill -0 "$REPLICA_PID" 2>/dev/null ||
		    die "the replica died: $(tail -n 5 "$RCA_TMP/replica.log")"
		sleep 0.1
	done
	rca_link_up "$RPORT" ||
	    die "replication over TLS did not come up within 30 s:
$(tail -n 8 "$RCA_TMP/replica.log")"
	log "primary on $PPORT, replica on $RPORT: replication link up over TLS"
}

# rca_node_rotated NAME SECONDS [NOT-SERIAL]: wait until node NAME's
# last rotation succeeded and its current serial is not NOT-SERIAL
# (default: any); prints the serial.
rca_node_rotated()
{
	local name=$1 secs=$2 not=${3:-} i s
	for i in $(seq 1 $((secs * 4))); do
		adm GET "/v1/nodes/$name"
		s=$(jb '.current_serial // ""')
		if [ "$STATUS" = 200 ] && [ -n "$s" ] && [ "$s" != "$not" ] &&
		    [ "$(jb '.last_rotation.status // ""')" = succeeded ]; then
			printf '%s\n' "$s"
			return 0
		fi
		sleep 0.25
	done
	die "node $name not rotated within $secs s: $(body)"
}

# ---- load clients (rollover_clients.py) ----

# rca_clients_start HOLD-CERT HOLD-KEY HOLD-CA [FRESH-DIR]: start the
# load clients against $PPORT/$RPORT (A: one connection, an INCR every
# 50 ms; B: a new connection with FRESH-DIR's files for every command;
# L: master_link_status every 100 ms).  Their counters are in
# $RCA_TMP/clients.json (rca_clients_get), failures in clients.log.
rca_clients_start()
{
	rca_clients_run --primary "127.0.0.1:$PPORT" \
	    --replica "127.0.0.1:$RPORT" "$@"
}

# rca_clients_run ARGS... HOLD-CERT HOLD-KEY HOLD-CA [FRESH-DIR]: the
# same with the targets given as rollover_clients.py options first
# (--primary H:P --replica H:P ..., or --cluster H:P,H:P,...).
rca_clients_run()
{
	local i targets=()
	while [ $# -gt 0 ]; do
		case $1 in
		--primary|--replica|--cluster) targets+=("$1" "$2"); shift 2 ;;
		*) break ;;
		esac
	done
	rm -f "$RCA_TMP/clients.json"
	"${RCA_PY:-python3}" "$RCA_LIB_DIR/rollover_clients.py" \
	    "${targets[@]}" \
	    --hold-cert "$1" --hold-key "$2" --hold-ca "$3" \
	    ${4:+--fresh-dir "$4"} --status "$RCA_TMP/clients.json" \
	    --log "$RCA_TMP/clients.log" > "$RCA_TMP/clients.out" 2>&1 &
	RCA_CLIENTS_PID=$!
	rca_track "$RCA_CLIENTS_PID"
	for i in $(seq 1 100); do
		[ -s "$RCA_TMP/clients.json" ] && return 0
		kill -0 "$RCA_CLIENTS_PID" 2>/dev/null ||
		    die "the load clients exited: $(cat "$RCA_TMP/clients.out")"
		sleep 0.1
	done
	die "the load clients wrote no status within 10 s"
}

# rca_clients_get JQ: a figure from the clients' last status.
rca_clients_get() { jq -r "$1" "$RCA_TMP/clients.json"; }

# rca_clients_stop: stop them (SIGTERM) and wait for the final status.
rca_clients_stop()
{
	kill -TERM "$RCA_CLIENTS_PID" 2>/dev/null
	wait "$RCA_CLIENTS_PID"
	[ $? = 0 ] || die "the load clients failed: $(cat "$RCA_TMP/clients.out")"
}

# rca_clients_clean WHAT: die listing the failures if any command failed.
rca_clients_clean()
{
	local fa fb
	fa=$(rca_clients_get .a.fail)
	fb=$(rca_clients_get .b.fail)
	[ "$fa" = 0 ] && [ "$fb" = 0 ] ||
	    die "$1: $fa failed commands on the kept connection (A), $fb with new connections (B):
$(head -n 20 "$RCA_TMP/clients.log")"
}

# ---- fleets (issue 13): groups of TLS-only redis-servers ----

declare -A RCA_PORT=()		# node name -> its TLS port
declare -A RCA_NPID=()		# node name -> its redis-server's pid

# rca_free_port_not_taken: a free port none of ours holds yet.
rca_free_port_not_taken()
{
	local p n taken
	for n in $(seq 1 50); do
		p=$(rca_free_port) || die "no free port"
		taken=0
		for t in "$API_PORT" "$PUB_PORT" "${RCA_PORT[@]}" \
		    ${RCA_BUS_PORTS:-}; do
			[ "$t" = "$p" ] && taken=1
		done
		[ "$taken" = 0 ] && { printf '%s\n' "$p"; return 0; }
	done
	die "no free port after 50 tries"
}

# The redis.conf lines of a fleet node: an ACL user "rca" (the user the
# CA's rotations and role reads log in as, password in
# $RCA_TMP/rca.pw) beside the password-less default user of the load
# clients and the replication links.
RCA_FLEET_PW=fleet-s3cret-pw
rca_fleet_pwfile()
{
	[ -f "$RCA_TMP/rca.pw" ] && return 0
	printf '%s\n' "$RCA_FLEET_PW" > "$RCA_TMP/rca.pw"
	chmod 0600 "$RCA_TMP/rca.pw"
}

# rca_fleet_node GROUP NAME [redis.conf lines...]: start and register
# NAME in GROUP (auth {username: rca, password_file: $RCA_TMP/NAME.pw},
# a copy of rca.pw per node, so one node's can be made wrong).
rca_fleet_node()
{
	local group=$1 name=$2 port
	shift 2
	rca_fleet_pwfile
	cp "$RCA_TMP/rca.pw" "$RCA_TMP/$name.pw"
	chmod 0600 "$RCA_TMP/$name.pw"
	port=$(rca_free_port_not_taken)
	RCA_PORT[$name]=$port
	RCA_NODE_EXTRA=".group = \"$group\" | .auth = {username: \"rca\",
	    password_file: \"$RCA_TMP/$name.pw\"}" \
	    rca_redis_node "$name" "$port" \
	    "user rca on >$RCA_FLEET_PW ~* &* +@all" "$@"
	RCA_NPID[$name]=$RCA_REDIS_PID
}

# rca_redis_group GROUP PRIMARY REPLICA...: a TLS-only primary and its
# replicas (tls-replication yes, replicaof the primary) registered in
# GROUP; waits (30 s) until every replica's link is up.
rca_redis_group()
{
	local group=$1 primary=$2 r i up
	shift 2
	rca_need redis-server
	[ -f "$RCA_TMP/bundle.pem" ] || rca_bundle "$RCA_TMP/bundle.pem"
	rca_fleet_node "$group" "$primary"
	for r in "$@"; do
		rca_fleet_node "$group" "$r" \
		    "replicaof 127.0.0.1 ${RCA_PORT[$primary]}"
	done
	for i in $(seq 1 300); do
		up=0
		for r in "$@"; do
			rca_link_up "${RCA_PORT[$r]}" && up=$((up + 1))
		done
		[ "$up" = $# ] && break
		sleep 0.1
	done
	[ "$up" = $# ] ||
	    die "replication over TLS did not come up within 30 s ($up of $#)"
	log "group $group: primary $primary on ${RCA_PORT[$primary]}, replicas $*: links up over TLS"
}

# rca_links_up REPLICA...: every named replica's link is up.
rca_links_up()
{
	local r
	for r in "$@"; do
		rca_link_up "${RCA_PORT[$r]}" || return 1
	done
	return 0
}

# rca_redis_cluster GROUP NAME...: one TLS-only cluster primary per NAME
# (cluster-enabled yes, tls-cluster yes from the node's redis.conf
# block, the bus on its own free port: cluster-port), registered in
# GROUP, joined with `redis-cli --tls --cluster create` (the admin
# certificate) and waited for (30 s) until every node says
# cluster_state:ok.  Sets RCA_CLUSTER (H:P,H:P,...).
rca_redis_cluster()
{
	local group=$1 n bus i okn addrs=()
	shift
	rca_need redis-server
	[ -f "$RCA_TMP/bundle.pem" ] || rca_bundle "$RCA_TMP/bundle.pem"
	for n in "$@"; do
		bus=$(rca_free_port_not_taken)
		RCA_BUS_PORTS="${RCA_BUS_PORTS:-} $bus"
		rca_fleet_node "$group" "$n" "cluster-enabled yes" \
		    "cluster-port $bus" \
		    "cluster-config-file $RCA_TMP/$n.data/nodes.conf" \
		    "cluster-node-timeout 5000"
		grep -qx 'tls-cluster yes' "$RCA_TMP/$n.conf" ||
		    die "the redis.conf block of $n lacks tls-cluster yes"
		addrs+=("127.0.0.1:${RCA_PORT[$n]}")
	done
	rca_admin_pair
	timeout 60 redis-cli --tls --cacert "$RCA_TMP/bundle.pem" \
	    --cert "$RCA_TMP/admin-now.crt" --key "$RCA_TMP/admin-now.key" \
	    --cluster create "${addrs[@]}" --cluster-yes \
	    > "$RCA_TMP/cluster-create.out" 2>&1 ||
	    die "redis-cli --cluster create failed: $(tail -n 20 "$RCA_TMP/cluster-create.out")"
	for i in $(seq 1 300); do
		okn=0
		for n in "$@"; do
			rca_rcli "${RCA_PORT[$n]}" CLUSTER INFO 2>/dev/null |
			    tr -d '\r' | grep -qx 'cluster_state:ok' &&
			    okn=$((okn + 1))
		done
		[ "$okn" = $# ] && break
		sleep 0.1
	done
	[ "$okn" = $# ] || die "the cluster is not ok within 30 s ($okn of $#)"
	RCA_CLUSTER=$(IFS=,; printf '%s' "${addrs[*]}")
	log "cluster $group: $* on $RCA_CLUSTER, cluster_state:ok on each"
}

# rca_served_serial PORT: the serial (upper-case hex) of the leaf the
# node on PORT serves.
rca_served_serial()
{
	rca_admin_pair
	timeout 10 openssl s_client -connect "127.0.0.1:$1" \
	    -cert "$RCA_TMP/admin-now.crt" -key "$RCA_TMP/admin-now.key" \
	    -CAfile "$RCA_TMP/bundle.pem" < /dev/null 2>/dev/null |
	    openssl x509 -noout -serial 2>/dev/null | sed 's/^serial=//'
}

# rca_serial_norm SERIAL: upper case, leading zeros dropped (openssl
# prints a serial padded to whole bytes, the API without the padding).
rca_serial_norm()
{
	local s
	s=$(printf '%s' "$1" | tr a-z A-Z | sed 's/^0*//')
	printf '%s\n' "${s:-0}"
}

# rca_serial_eq A B: the same serial however written.
rca_serial_eq()
{
	[ -n "$1" ] && [ -n "$2" ] &&
	    [ "$(rca_serial_norm "$1")" = "$(rca_serial_norm "$2")" ]
}

# rca_metric SERIES: the value of one /metrics series (its name and
# labels exactly, e.g. 'redisca_node_drift{node="x"}'); "" if absent.
rca_metric()
{
	curl -s --max-time 10 "$PUB/metrics" |
	    awk -v k="$1" '$1 == k { print $2 }'
}

# rca_serial_of PEMFILE: the certificate's serial in lowercase hex
# without leading zeros, as the API writes it.
rca_serial_of()
{
	openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' |
	    sed 's/^0*//'
}

# rca_redis_tls CRT KEY CA [redis.conf lines...]: start a TLS-only
# redis-server (tls-auth-clients yes, TLS 1.2 and 1.3) on a free port
# of 127.0.0.1, serving CRT/KEY and trusting CA, on $RCA_TMP/redis.conf
# plus the lines given, its log $RCA_TMP/redis.log.  Sets RPORT and
# REDIS_PID (tracked); does not wait for it to listen.
rca_redis_tls()
{
	local crt=$1 key=$2 ca=$3 T=$RCA_TMP
	shift 3
	RPORT=$(rca_free_port) || die "no free port"
	mkdir -p "$T/redis.dir"
	{
		printf 'port 0\nbind 127.0.0.1\ntls-port %s\n' "$RPORT"
		printf 'tls-cert-file %s\ntls-key-file %s\n' "$crt" "$key"
		printf 'tls-ca-cert-file %s\ntls-auth-clients yes\n' "$ca"
		printf 'tls-protocols "TLSv1.2 TLSv1.3"\ndaemonize no\n'
		printf 'dir %s\nsave ""\nappendonly no\n' "$T/redis.dir"
		printf 'logfile %s\n' "$T/redis.log"
		[ $# = 0 ] || printf '%s\n' "$@"
	} > "$T/redis.conf"
	redis-server "$T/redis.conf" > "$T/redis.out" 2>&1 &
	REDIS_PID=$!
	rca_track "$REDIS_PID"
}

# rca_rping DIR: redis-cli's answer to PING over TLS from DIR's
# cert.pem, key.pem and ca.pem to the redis-server of rca_redis_tls.
rca_rping()
{
	timeout 10 redis-cli --tls --cert "$1/cert.pem" --key "$1/key.pem" \
	    --cacert "$1/ca.pem" -h 127.0.0.1 -p "$RPORT" PING 2>&1
}

# rca_silent_listener: sets PS to a free port of 127.0.0.1 on which a
# tracked listener accepts connections for 60 s and never says a word,
# so that a TLS handshake there waits out its timeout.  Returns once it
# listens (10 s at most).
rca_silent_listener()
{
	PS=$(rca_free_port) || die "no free port"
	"${RCA_PY:-python3}" -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
time.sleep(60)
' "$PS" &
	rca_track "$!"
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$PS") 2>/dev/null && return 0
		sleep 0.1
	done
	die "the silent listener on $PS did not come up"
}

# rca_client_files CN DIR: a redis-client certificate generated for CN
# as an application's files in DIR: chain.pem (the leaf and its
# intermediates), key.pem (0600) and ca.pem (a copy of
# $RCA_TMP/bundle.pem, rca_bundle).
rca_client_files()
{
	local d=$2
	adm POST /v1/certificates/generate "$(jq -cn --arg cn "$1" \
	    '{profile: "redis-client", common_name: $cn}')"
	expect_status 201 "a client certificate"
	mkdir -p "$d"
	jb .chain > "$d/all.pem"
	jb .certificate > "$d/chain.pem"
	rca_chain_intermediates "$d/all.pem" >> "$d/chain.pem"
	rm -f "$d/all.pem"
	jb .private_key > "$d/key.pem"
	chmod 0600 "$d/key.pem"
	cp "$RCA_TMP/bundle.pem" "$d/ca.pem"
}

# rca_rotate_running NAME: POST /v1/nodes/NAME/rotate in the background
# (its body in $RCA_TMP/NAME.rotate.json, its status in
# $RCA_TMP/NAME.rotate.status; ROT_PID the curl to wait for), once the
# rotation is recorded as running (10 s at most): with NAME on
# rca_silent_listener's port it holds the node until its connect step
# gives up.
rca_rotate_running()
{
	curl -sS --max-time 60 --cacert "$CACERT" -X POST \
	    -H "Authorization: Bearer $ADMIN" -o "$RCA_TMP/$1.rotate.json" \
	    -w '%{http_code}' "$API/v1/nodes/$1/rotate" \
	    > "$RCA_TMP/$1.rotate.status" &
	ROT_PID=$!
	for _ in $(seq 100); do
		adm GET "/v1/nodes/$1/rotations"
		[ "$(jb '.items[0].status // ""')" = running ] && return 0
		sleep 0.1
	done
	die "the rotation of $1 did not start"
}
