#!/bin/bash
# End-to-end: `redis-ca ca prepare|activate|retire|status` (SPEC section
# 10) against a real `redis-ca serve` on SQLite and a TLS-only
# redis-server registered as a node.  With serve running, each phase
# changes the database and the files and waits for serve: prepare until
# serve pushed the bundle to the node, activate until serve rotated it
# onto the new CA, retire until the smaller bundle is pushed.  Every
# refusal exits 1 with its code on stderr (ca_not_prepared,
# ca_nothing_to_retire, ca_next_exists, ca_retire_pending,
# ca_unexpired_certificates with the serial), bad command lines exit 2.
# With serve stopped the command pushes itself.
#
# usage: test_ca_cli.sh PATH-TO-redis-ca
. "$(dirname "$0")/lib.sh"

rca_setup "${1:-}"
rca_need redis-server openssl
rca_init
rca_config_edit '.rotation.check_interval = "1s"'
rca_start
T=$RCA_TMP
CONF="$DATA/config.json"

# ca ARGS...: run `redis-ca ca ARGS --config CONF`; RC, $T/ca.out, ca.err.
ca()
{
	"$RCA_BIN" ca "$@" --config "$CONF" > "$T/ca.out" 2> "$T/ca.err"
	RC=$?
	log "redis-ca ca $* -> $RC"
}

# ca_refused CODE ARGS...: exit 1 and CODE on stderr.
ca_refused()
{
	local code=$1
	shift
	ca "$@"
	[ "$RC" = 1 ] || die "ca $*: exit $RC, want 1: $(cat "$T/ca.err")"
	grep -q "$code" "$T/ca.err" ||
	    die "ca $*: stderr lacks $code: $(cat "$T/ca.err")"
	ok "ca $* refused: $code"
}

# served PORT CAFILE: the serial the node presents, verified with CAFILE.
served()
{
	timeout 10 openssl s_client -connect "127.0.0.1:$1" -verify_return_error \
	    -CAfile "$2" -cert "$DATA/tls/admin.crt" \
	    -key "$DATA/tls/admin.key" </dev/null 2>/dev/null |
	    openssl x509 -noout -serial 2>/dev/null | sed 's/^serial=//' |
	    tr 'A-F' 'a-f' | sed 's/^0*//'
}

# pem_count FILE: the certificates in FILE.
pem_count() { grep -c 'BEGIN CERTIFICATE' "$1"; }

# ---- a node to push to ----

mkdir -p "$T/n1" "$T/n1.data"
adm POST /v1/certificates/generate "$(jq -cn \
    '{profile: "redis-node", common_name: "localhost",
      sans: {dns: ["localhost"], ip: ["127.0.0.1"]}}')"
expect_status 201 "bootstrap certificate"
jb .certificate > "$T/n1/redis.crt"
jb .private_key > "$T/n1/redis.key"
jb .ca_certificate > "$T/n1/ca.crt"
chmod 0400 "$T/n1/redis.key"
P1=$(rca_free_port)
adm POST /v1/nodes "$(jq -cn --argjson port "$P1" --arg dir "$T/n1" \
    '{name: "n1", host: "127.0.0.1", port: $port, cert_dir: $dir,
      sans: {dns: ["localhost"], ip: ["127.0.0.1"]}}')"
expect_status 201 "POST /v1/nodes"
adm GET /v1/nodes/n1/redis.conf
expect_status 200 "redis.conf"
cp "$T/body" "$T/n1.conf"
printf 'bind 127.0.0.1\ndir %s\nlogfile %s\nsave ""\nappendonly no\n' \
    "$T/n1.data" "$T/n1.log" >> "$T/n1.conf"
redis-server "$T/n1.conf" > "$T/n1.out" 2>&1 &
rca_track "$!"
for i in $(seq 1 100); do
	[ -n "$(served "$P1" "$CACERT")" ] && break
	sleep 0.1
done
[ -n "$(served "$P1" "$CACERT")" ] || die "redis n1 did not come up"
# The scheduler (check_interval 1s) rotates the never-rotated node.
for i in $(seq 1 150); do
	adm GET /v1/nodes/n1
	[ "$(jb .last_rotation.status)" = succeeded ] && break
	sleep 0.2
done
[ "$(jb .last_rotation.status)" = succeeded ] ||
    die "serve did not rotate n1: $(body)"
# A client certificate of the first CA: it keeps the old CA in use.
adm POST /v1/certificates/generate \
    "$(jq -cn '{profile: "redis-client", common_name: "app-1"}')"
expect_status 201 "a client certificate of the first CA"
OLD_CLIENT=$(jb .serial)
OLD_SKI=$("$RCA_BIN" ca status --config "$CONF" | awk '$1 == "current" { print $2 }')
[ -n "$OLD_SKI" ] || die "ca status names no current CA"
ok "node n1 up and registered; first CA $OLD_SKI"

# ---- command lines and refusals before anything is prepared ----

ca bogus
[ "$RC" = 2 ] || die "ca bogus: exit $RC, want 2"
ca prepare --root-key "$T/x.key"
[ "$RC" = 2 ] || die "--root-key without --root-cert: exit $RC, want 2"
grep -q 'go together' "$T/ca.err" || die "usage message: $(cat "$T/ca.err")"
ca prepare --csr-out "$T/x.csr" --import-cert "$T/x.crt"
[ "$RC" = 2 ] || die "--csr-out with --import-cert: exit $RC, want 2"
ca prepare --days 0
[ "$RC" = 2 ] || die "--days 0: exit $RC, want 2"
ca activate --wait forever
[ "$RC" = 2 ] || die "--wait forever: exit $RC, want 2"
ca prepare --key-type rsa-2048
[ "$RC" = 2 ] || die "--key-type rsa-2048: exit $RC, want 2"
ok "bad command lines exit 2"
ca_refused ca_not_prepared activate
ca_refused ca_nothing_to_retire retire
ca_refused invalid_request prepare --import-cert "$T/n1/redis.crt"
[ ! -e "$DATA/ca-next.key" ] || die "a refused prepare left ca-next.key"

# ---- prepare: serve pushes the bundle ----

ca prepare --wait 60s
[ "$RC" = 0 ] || die "ca prepare: exit $RC: $(cat "$T/ca.err") $(cat "$T/ca.out")"
grep -q 'waiting' "$T/ca.out" || die "prepare did not wait for serve: $(cat "$T/ca.out")"
grep -Eq 'node n1 +ok' "$T/ca.out" || die "prepare output: $(cat "$T/ca.out")"
[ "$(stat -c %a "$DATA/ca-next.key")" = 400 ] || die "ca-next.key is not 0400"
[ "$(stat -c %a "$DATA/ca-next.crt")" = 444 ] || die "ca-next.crt is not 0444"
[ "$(pem_count "$T/n1/ca.crt")" = 2 ] || die "n1's ca_file does not hold 2 anchors"
cp "$T/n1/ca.crt" "$T/bundle2.pem"
pub GET /v1/ca/bundle.pem
if [ "$STATUS" = 200 ]; then
	cmp -s "$T/body" "$T/bundle2.pem" || die "n1's ca_file is not /v1/ca/bundle.pem"
fi
[ -n "$(served "$P1" "$T/bundle2.pem")" ] || die "n1 does not verify with the bundle"
grep -q 'next' "$T/ca.out" || die "prepare does not show the next CA: $(cat "$T/ca.out")"
ok "prepare: ca-next.* written, the bundle pushed to n1 by serve"
ca_refused ca_next_exists prepare

# ---- activate: serve rotates the node onto the new CA ----

CACERT="$T/bundle2.pem"		# the API may be re-issued meanwhile
ca activate --wait 90s
[ "$RC" = 0 ] || die "ca activate: exit $RC: $(cat "$T/ca.err") $(cat "$T/ca.out")"
grep -Eq 'node n1 +ok +rotated' "$T/ca.out" || die "activate output: $(cat "$T/ca.out")"
[ -e "$DATA/ca-prev.key" ] && [ -e "$DATA/ca-prev.crt" ] ||
    die "no ca-prev.* after activate"
[ ! -e "$DATA/ca-next.key" ] || die "ca-next.key left after activate"
[ "$(stat -c %a "$DATA/ca.key")" = 400 ] || die "ca.key is not 0400"
NEW_SKI=$("$RCA_BIN" ca status --config "$CONF" | awk '$1 == "current" { print $2 }')
[ -n "$NEW_SKI" ] && [ "$NEW_SKI" != "$OLD_SKI" ] || die "the current CA did not change"
timeout 10 openssl s_client -connect "127.0.0.1:$P1" -CAfile "$T/bundle2.pem" \
    -cert "$DATA/tls/admin.crt" -key "$DATA/tls/admin.key" </dev/null \
    2>/dev/null | openssl x509 > "$T/n1.leaf" 2>/dev/null
openssl verify -CAfile "$DATA/ca.crt" "$T/n1.leaf" > /dev/null 2>&1 ||
    die "n1 does not serve a certificate of the new CA"
ok "activate: issuance switched to $NEW_SKI, n1 rotated onto it"
ca_refused ca_retire_pending prepare

# ---- retire: refused while the old CA has a live certificate ----

ca_refused ca_unexpired_certificates retire
grep -q "$OLD_CLIENT" "$T/ca.err" || die "retire does not list $OLD_CLIENT: $(cat "$T/ca.err")"
ca retire --force --wait 60s
[ "$RC" = 0 ] || die "ca retire --force: exit $RC: $(cat "$T/ca.err") $(cat "$T/ca.out")"
grep -Eq 'node n1 +ok' "$T/ca.out" || die "retire output: $(cat "$T/ca.out")"
[ ! -e "$DATA/ca-prev.key" ] && [ ! -e "$DATA/ca-prev.crt" ] ||
    die "ca-prev.* left after retire"
[ "$(pem_count "$T/n1/ca.crt")" = 1 ] || die "n1's ca_file still holds the old CA"
[ -n "$(served "$P1" "$T/n1/ca.crt")" ] || die "n1 no longer answers"
adm GET "/v1/certificates/$OLD_CLIENT"
expect_status 200 "GET the old client certificate"
[ "$(jb .status)" = revoked ] || die "the old client certificate is $(jb .status)"
ok "retire --force: the old certificate revoked, the bundle pushed"
ca_refused ca_nothing_to_retire retire

# ---- without serve: a CSR signed by an outside root, pushed by the command ----

rca_stop
ca prepare --csr-out "$T/next.csr"
[ "$RC" = 0 ] || die "ca prepare --csr-out: exit $RC: $(cat "$T/ca.err")"
grep -q 'BEGIN CERTIFICATE REQUEST' "$T/next.csr" || die "no CSR written"
grep -q 'waiting' "$T/ca.out" && die "prepare waited with no serve running"
[ "$(stat -c %a "$DATA/ca-next.key")" = 400 ] || die "ca-next.key is not 0400"
[ ! -e "$DATA/ca-next.crt" ] || die "a pending CA has a ca-next.crt"
ca_refused ca_next_exists prepare
ca_refused ca_not_prepared activate
# An outside root signs it as a CA (pathlen 0).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/root.key" -out "$T/root.crt" -subj /CN=outside-root \
    -days 30 -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2> /dev/null ||
    die "openssl: no outside root"
printf '%s\n' 'basicConstraints=critical,CA:TRUE,pathlen:0' \
    'keyUsage=critical,keyCertSign,cRLSign' 'subjectKeyIdentifier=hash' \
    'authorityKeyIdentifier=keyid' > "$T/ext.cnf"
openssl x509 -req -in "$T/next.csr" -CA "$T/root.crt" -CAkey "$T/root.key" \
    -CAcreateserial -days 20 -extfile "$T/ext.cnf" -out "$T/next.crt" \
    2> /dev/null || die "openssl: the CSR was not signed"
# Without the outside root it does not verify: nothing changes.
ca_refused invalid_chain prepare --import-cert "$T/next.crt"
ca prepare --import-cert "$T/next.crt" --import-chain "$T/root.crt"
[ "$RC" = 0 ] || die "ca prepare --import-cert: exit $RC: $(cat "$T/ca.err")"
grep -Eq 'node n1 +ok' "$T/ca.out" || die "prepare output: $(cat "$T/ca.out")"
[ "$(pem_count "$T/n1/ca.crt")" = 2 ] || die "the push without serve did not happen"
grep -q "$(openssl x509 -in "$T/root.crt" -outform DER | base64 -w 64 | head -1)" \
    "$T/n1/ca.crt" || die "the outside root is not in n1's ca_file"
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256; }
[ "$(fp "$DATA/ca-next.crt")" = "$(fp "$T/next.crt")" ] ||
    die "ca-next.crt is not the imported certificate"
[ "$(stat -c %a "$DATA/ca-next.crt")" = 444 ] || die "ca-next.crt is not 0444"
ca status
[ "$RC" = 0 ] || die "ca status: exit $RC"
grep -q '^next' "$T/ca.out" || die "status: $(cat "$T/ca.out")"
ok "without serve: CSR, outside root, import (invalid_chain without the root), pushed by the command"
log "all $RCA_CHECKS checks passed"
