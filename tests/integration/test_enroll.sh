#!/bin/bash
# `redis-ca enroll` end to end (SPEC section 7): an application enrolls
# with a one-use token against a real `redis-ca serve`, and connects to a
# real TLS-only redis-server (tls-auth-clients yes) with the files it
# wrote.  Then the refusals: the spent token, a name outside the token's
# patterns, an untrusted or unreachable CA (exit 1, one clear line) and
# usage errors (exit 2).
#
# usage: test_enroll.sh PATH-TO-redis-ca
. "$(dirname "$0")/lib.sh"

rca_setup "${1:-}"
rca_need redis-server redis-cli
rca_init
rca_start
T=$RCA_TMP

# ---- a TLS-only redis-server on a redis-node certificate ----

adm POST /v1/certificates/generate '{"profile": "redis-node",
    "common_name": "redis-1",
    "sans": {"dns": ["localhost"], "ip": ["127.0.0.1"]}}'
expect_status 201 "generate a redis-node certificate"
jb .certificate > "$T/node.crt"
jb .private_key > "$T/node.key"
chmod 0400 "$T/node.key"
rca_redis_tls "$T/node.crt" "$T/node.key" "$CACERT"

up=0
for i in $(seq 1 100); do
	kill -0 "$REDIS_PID" 2>/dev/null ||
	    die "redis-server died: $(tail -n 5 "$T/redis.log")"
	if timeout 5 redis-cli --tls --cert "$T/node.crt" --key "$T/node.key" \
	    --cacert "$CACERT" -h 127.0.0.1 -p "$RPORT" PING 2>/dev/null |
	    grep -qx PONG; then
		up=1
		break
	fi
	sleep 0.1
done
[ "$up" = 1 ] || die "redis-server did not answer PING within 10 s"
ok "TLS-only redis-server up on $RPORT (tls-auth-clients yes)"

# ---- an enroll token for app-* ----

# new_token PATTERN...: an enroll token (redis-client, one use) in
# $T/token.N; TOKEN_FILE and TOKEN_ID set.
ntok=0
new_token()
{
	ntok=$((ntok + 1))
	adm POST /v1/tokens "$(jq -cn --args '{kind: "enroll",
	    profile: "redis-client", names: $ARGS.positional, uses: 1,
	    ttl: "1h", description: "test_enroll"}' "$@")"
	expect_status 201 "POST /v1/tokens (enroll)"
	TOKEN_FILE="$T/token.$ntok"
	(umask 077 && jb .token > "$TOKEN_FILE")
	TOKEN_ID=$(jb .id)
}

new_token 'app-*'
APP_TOKEN_FILE=$TOKEN_FILE
APP_TOKEN_ID=$TOKEN_ID

# enroll OUTFILE-PREFIX ARGS...: run redis-ca enroll (60 s at most);
# ERC its exit status, stderr in PREFIX.err.
enroll()
{
	local p=$1
	shift
	timeout 60 "$RCA_BIN" enroll "$@" > "$p.out" 2> "$p.err"
	ERC=$?
}

# one_line FILE: FILE holds exactly one line of text.
one_line()
{
	[ "$(wc -l < "$1")" = 1 ] ||
	    die "want one line on stderr, got: $(cat "$1")"
}

OUT="$T/app"
enroll "$T/e1" --url "$API" --cacert "$CACERT" --token-file "$APP_TOKEN_FILE" \
    --profile redis-client --cn app-1 --out "$OUT"
[ "$ERC" = 0 ] || die "enroll failed (exit $ERC): $(cat "$T/e1.err")"
ok "enroll with a one-use token: exit 0"

# Files and modes (SPEC section 7).
for f in key.pem cert.pem chain.pem ca.pem; do
	[ -f "$OUT/$f" ] || die "enroll wrote no $f"
done
mode() { stat -c %a "$1"; }
[ "$(mode "$OUT/key.pem")" = 400 ] ||
    die "key.pem has mode $(mode "$OUT/key.pem"), want 400"
for f in cert.pem chain.pem ca.pem; do
	m=$(mode "$OUT/$f")
	# Public material: readable, never writable by group or others.
	[ $((8#$m & 8#022)) = 0 ] || die "$f has mode $m (group/other write)"
done
ok "key.pem 0400; cert.pem $(mode "$OUT/cert.pem"), chain.pem $(mode "$OUT/chain.pem"), ca.pem $(mode "$OUT/ca.pem")"
ls "$OUT" | grep -q '\.next$\|\.tmp' && die "temporary files left in $OUT: $(ls "$OUT")"
ok "no temporary files left behind"

cmp -s "$OUT/ca.pem" "$CACERT" || die "ca.pem is not the CA certificate"
openssl verify -CAfile "$CACERT" "$OUT/cert.pem" > /dev/null 2>&1 ||
    die "cert.pem does not verify against the CA"
openssl x509 -in "$OUT/cert.pem" -noout -subject -nameopt RFC2253 |
    grep -qx 'subject=CN=app-1' || die "cert.pem's subject is not CN=app-1"
openssl x509 -in "$OUT/cert.pem" -noout -ext extendedKeyUsage |
    grep -q 'TLS Web Client Authentication' || die "cert.pem lacks clientAuth"
[ "$(openssl x509 -in "$OUT/cert.pem" -noout -pubkey)" = \
    "$(openssl pkey -in "$OUT/key.pem" -pubout)" ] ||
    die "key.pem does not match cert.pem"
# SPEC 10 (issue 12 changed this expectation): chain.pem = leaf +
# intermediates, never the anchor: with a one-tier CA, the leaf alone.
[ "$(grep -c 'BEGIN CERTIFICATE' "$OUT/chain.pem")" = 1 ] &&
    cmp -s "$OUT/chain.pem" "$OUT/cert.pem" ||
    die "chain.pem is not the leaf alone (one-tier CA)"
ok "cert.pem: CN=app-1, clientAuth, verifies against the CA, matches key.pem"

SERIAL=$(rca_serial_of "$OUT/cert.pem")
adm GET "/v1/certificates/$SERIAL"
expect_status 200 "GET the enrolled certificate"
[ "$(jb .issued_by)" = "token:$APP_TOKEN_ID" ] ||
    die "issued_by is $(jb .issued_by), want token:$APP_TOKEN_ID"
[ "$(jb .profile)" = redis-client ] || die "profile is $(jb .profile)"
ok "the CA recorded it, issued by token:$APP_TOKEN_ID"

out=$(rca_rping "$OUT")
[ "$out" = PONG ] || die "redis-cli with the enrolled files: $out"
ok "redis-cli --tls with cert.pem/key.pem/ca.pem: PONG"

# ---- the same token again: spent ----

enroll "$T/e2" --url "$API" --cacert "$CACERT" --token-file "$APP_TOKEN_FILE" \
    --profile redis-client --cn app-2 --out "$T/app2"
[ "$ERC" = 1 ] || die "a spent token: want exit 1, got $ERC: $(cat "$T/e2.err")"
one_line "$T/e2.err"
grep -qi 'token' "$T/e2.err" || die "the message does not name the token: $(cat "$T/e2.err")"
[ -e "$T/app2/key.pem" ] && die "a refused enrollment left key.pem"
ok "the same token again: exit 1: $(cat "$T/e2.err")"

# ---- a name outside the token's patterns ----

new_token 'app-*'
enroll "$T/e3" --url "$API" --cacert "$CACERT" --token-file "$TOKEN_FILE" \
    --profile redis-client --cn db-1 --out "$T/db"
[ "$ERC" = 1 ] || die "a name outside the patterns: want exit 1, got $ERC"
one_line "$T/e3.err"
grep -q 'db-1' "$T/e3.err" || die "the message does not name db-1: $(cat "$T/e3.err")"
ok "--cn db-1 with an app-* token: exit 1: $(cat "$T/e3.err")"
enroll "$T/e4" --url "$API" --cacert "$CACERT" --token-file "$TOKEN_FILE" \
    --profile redis-client --cn app-3 --dns evil.example --out "$T/db"
[ "$ERC" = 1 ] || die "a SAN outside the patterns: want exit 1, got $ERC"
grep -q 'evil.example' "$T/e4.err" || die "the message does not name evil.example: $(cat "$T/e4.err")"
ok "--dns evil.example with an app-* token: exit 1"
adm GET "/v1/tokens/$TOKEN_ID"
expect_status 200 "GET the token"
[ "$(jb .uses_left)" = 1 ] || die "refused enrollments consumed a use: uses_left $(jb .uses_left)"
ok "refused enrollments did not consume the token's use"

# --token on the command line works too (--token-file is recommended).
enroll "$T/e5" --url "$API" --cacert "$CACERT" --token "$(cat "$TOKEN_FILE")" \
    --profile redis-client --cn app-3 --out "$T/app3"
[ "$ERC" = 0 ] || die "enroll --token failed (exit $ERC): $(cat "$T/e5.err")"
[ "$(rca_rping "$T/app3")" = PONG ] || die "redis-cli with app-3's files failed"
ok "enroll --token: exit 0, PONG"

# ---- the CA's certificate not trusted, the CA unreachable ----

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/other.key" -subj "/CN=other CA" -days 1 \
    -out "$T/other.crt" 2>/dev/null || die "openssl req -x509 failed"
new_token 'app-*'
enroll "$T/e6" --url "$API" --cacert "$T/other.crt" --token-file "$TOKEN_FILE" \
    --profile redis-client --cn app-4 --out "$T/app4"
[ "$ERC" = 1 ] || die "an untrusted CA: want exit 1, got $ERC"
one_line "$T/e6.err"
ok "--cacert of another CA: exit 1: $(cat "$T/e6.err")"
DEAD=$(rca_free_port) || die "no free port"
enroll "$T/e7" --url "https://127.0.0.1:$DEAD" --cacert "$CACERT" \
    --token-file "$TOKEN_FILE" --profile redis-client --cn app-4 \
    --out "$T/app4"
[ "$ERC" = 1 ] || die "an unreachable CA: want exit 1, got $ERC"
one_line "$T/e7.err"
ok "an unreachable CA: exit 1: $(cat "$T/e7.err")"
adm GET "/v1/tokens/$TOKEN_ID"
[ "$(jb .uses_left)" = 1 ] || die "failed attempts consumed a use"

# ---- usage errors: exit 2 ----

# usage DESC ARGS...: enroll ARGS must exit 2 with a one-line message.
usage()
{
	local what=$1
	shift
	enroll "$T/u" "$@"
	[ "$ERC" = 2 ] || die "$what: want exit 2, got $ERC: $(cat "$T/u.err")"
	one_line "$T/u.err"
	ok "usage error ($what): exit 2"
}
BASE=(--url "$API" --cacert "$CACERT" --token-file "$TOKEN_FILE"
    --profile redis-client --cn app-5 --out "$T/app5")
usage "no arguments"
usage "unknown option" "${BASE[@]}" --frobnicate
usage "no --out" --url "$API" --cacert "$CACERT" --token-file "$TOKEN_FILE" \
    --profile redis-client --cn app-5
usage "no --cn" --url "$API" --cacert "$CACERT" --token-file "$TOKEN_FILE" \
    --profile redis-client --out "$T/app5"
usage "no token" --url "$API" --cacert "$CACERT" --profile redis-client \
    --cn app-5 --out "$T/app5"
usage "--token and --token-file" "${BASE[@]}" --token rca_x
usage "--exec without --daemon" "${BASE[@]}" --exec true
usage "bad --ttl" "${BASE[@]}" --ttl soon
usage "option without its value" "${BASE[@]}" --url
[ -e "$T/app5" ] && die "a usage error created the output folder"
adm GET "/v1/tokens/$TOKEN_ID"
[ "$(jb .uses_left)" = 1 ] || die "usage errors consumed a use"
ok "usage errors touched neither the CA nor the output folder"

# ---- enroll --daemon follows the trust bundle (SPEC section 10) ----

new_token 'app-*'
DOUT="$T/appd"
"$RCA_BIN" enroll --daemon --bundle-check 1s --url "$API" --cacert "$CACERT" \
    --token-file "$TOKEN_FILE" --profile redis-client --cn app-9 \
    --out "$DOUT" --exec "echo ran >> $T/hook" > "$T/daemon.out" \
    2> "$T/daemon.log" &
DPID=$!
rca_track "$DPID"
for i in $(seq 1 150); do
	grep -q 'enrolled: certificate serial' "$T/daemon.log" && break
	kill -0 "$DPID" 2>/dev/null || die "the daemon exited: $(cat "$T/daemon.log")"
	sleep 0.1
done
grep -q 'enrolled: certificate serial' "$T/daemon.log" ||
    die "the daemon did not enroll: $(cat "$T/daemon.log")"
cmp -s "$DOUT/ca.pem" "$CACERT" || die "ca.pem is not the bundle (the CA)"
# Unchanged bundle: the checks (If-None-Match, 304) do nothing.
for i in $(seq 1 100); do
	[ "$(grep -c 'GET /v1/ca/bundle.pem 304' "$RCA_TMP/serve.log")" -ge 3 ] &&
	    break
	sleep 0.1
done
[ "$(grep -c 'GET /v1/ca/bundle.pem 304' "$RCA_TMP/serve.log")" -ge 3 ] ||
    die "the daemon's bundle checks were not answered 304"
[ ! -e "$T/hook" ] || die "--exec ran although the bundle did not change"
cmp -s "$DOUT/ca.pem" "$CACERT" || die "a 304 changed ca.pem"
ok "enroll --daemon: bundle checks answered 304 change nothing"
# A next CA: the bundle changes, ca.pem follows and --exec runs once.
adm POST /v1/ca/prepare '{}'
expect_status 200 "POST /v1/ca/prepare"
pub GET /v1/ca/bundle.pem
cp "$RCA_TMP/body" "$T/bundle2.pem"
for i in $(seq 1 150); do
	cmp -s "$DOUT/ca.pem" "$T/bundle2.pem" && [ -s "$T/hook" ] && break
	sleep 0.1
done
cmp -s "$DOUT/ca.pem" "$T/bundle2.pem" ||
    die "ca.pem was not replaced by the new bundle: $(tail -n 3 "$T/daemon.log")"
[ "$(mode "$DOUT/ca.pem")" = 444 ] || die "ca.pem has mode $(mode "$DOUT/ca.pem")"
grep -c 'BEGIN CERTIFICATE' "$DOUT/ca.pem" | grep -qx 2 ||
    die "the new ca.pem does not hold two anchors"
sleep 2.5
[ "$(wc -l < "$T/hook")" = 1 ] || die "--exec ran $(wc -l < "$T/hook") times"
grep -q "trust bundle changed" "$T/daemon.log" || die "the change was not logged"
[ "$(rca_rping "$DOUT")" = PONG ] || die "redis-cli with the daemon's files failed"
kill -TERM "$DPID"
wait "$DPID" || die "the daemon exited with status $? on SIGTERM"
ok "enroll --daemon: a new bundle replaced ca.pem (0444) and ran --exec once"

schema_flush
exit 0
