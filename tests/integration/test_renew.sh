#!/bin/bash
# Renewal by client certificate (SPEC section 6 POST /v1/renew, section 7
# `enroll --daemon`), end to end against a real `redis-ca serve` and a
# real TLS-only redis-server:
#   1. /v1/renew with curl --cert/--key: same key, rekey, and refusals
#      (no certificate, public listener, revoked, expired, another CA,
#      signed by this CA but never recorded, names differing in a rekey,
#      bad bodies), every refusal audited as certificate.renew.
#   2. `enroll --daemon --ttl 90s --exec ...`: renews once a third of the
#      lifetime is left (new serial, same names, --exec ran, redis-cli
#      works with the new files), keeps retrying while serve is stopped
#      and renews once it is back on the same port and data folder,
#      and SIGTERM stops it with exit 0.
# About three minutes, most of it waiting for the renewal times.
#
# usage: test_renew.sh PATH-TO-redis-ca
. "$(dirname "$0")/lib.sh"

rca_setup "${1:-}"
rca_need redis-server redis-cli
rca_init
rca_start
T=$RCA_TMP

# renew NAME [curl args...]: POST /v1/renew with $T/NAME.crt and .key.
renew()
{
	local n=$1
	shift
	api POST /v1/renew --cert "$T/$n.crt" --key "$T/$n.key" "$@"
}

# renew_csr NAME CSRFILE: rekey with {"csr": PEM}.
renew_csr()
{
	renew "$1" -H 'Content-Type: application/json' --data-binary \
	    "$(jq -cn --rawfile csr "$2" '{csr: $csr}')"
}

# save NAME: the last 201 body's certificate (and key, if any) as NAME.
save()
{
	jb .certificate > "$T/$1.crt"
	if [ "$(jb '.private_key // empty')" != "" ]; then
		jb .private_key > "$T/$1.key"
	fi
	cp "$T/body" "$T/$1.json"
}

pubkey() { openssl x509 -in "$1" -noout -pubkey; }

# audited ACTOR ACTION OUTCOME: the audit log has such an entry.
audited()
{
	adm GET "/v1/audit?limit=1000"
	expect_status 200 "GET /v1/audit"
	[ "$(jq --arg a "$1" --arg c "$2" --arg o "$3" '[.items[] |
	    select(.actor == $a and .action == $c and .outcome == $o)] |
	    length' "$T/body")" -gt 0 ] ||
	    die "no audit entry actor=$1 action=$2 outcome=$3"
}

# ==== 1. POST /v1/renew with curl ====

adm POST /v1/certificates/generate '{"profile": "redis-client",
    "common_name": "app-1", "sans": {"dns": ["app-1.svc.internal"]},
    "ttl": "1h"}'
expect_status 201 "generate app-1"
save c1
S1=$(jb .serial)

renew c1
expect_status 201 "renew without a body"
schema_check IssuedCertificate "$T/body" "POST /v1/renew (same key)"
save r1
cp "$T/c1.key" "$T/r1.key"
R1=$(jb .serial)
[ "$R1" != "$S1" ] || die "the renewal kept the serial"
[ "$(jq -c '[.profile, .common_name, .sans]' "$T/r1.json")" = \
    "$(jq -c '[.profile, .common_name, .sans]' "$T/c1.json")" ] ||
    die "the renewal changed the profile or names"
[ "$(pubkey "$T/r1.crt")" = "$(pubkey "$T/c1.crt")" ] ||
    die "a renewal without a body changed the public key"
life() { jq -r '((.not_after | fromdateiso8601) -
    (.not_before | fromdateiso8601))' "$1"; }
[ "$(life "$T/r1.json")" = "$(life "$T/c1.json")" ] ||
    die "lifetime $(life "$T/r1.json") s, want $(life "$T/c1.json") s"
[ "$(jb .status)" = valid ] || die "status $(jb .status)"
[ "$(jb .issued_by)" = "mtls:$S1" ] || die "issued_by $(jb .issued_by), want mtls:$S1"
openssl verify -CAfile "$CACERT" "$T/r1.crt" >/dev/null 2>&1 ||
    die "the renewed certificate does not verify"
audited "mtls:$S1" certificate.renew ok
ok "renew without a body: 201, new serial $R1, same key, names and lifetime; audited as mtls:$S1"

# The renewed certificate renews in turn (the old one stays valid).
renew r1
expect_status 201 "renew the renewed certificate"
renew c1
expect_status 201 "renew the first certificate again"
ok "a renewed certificate renews in turn; the old one stays usable until it expires"

# {} is the same as no body (SPEC section 8, finding 12).
renew c1 -H 'Content-Type: application/json' --data-binary '{}'
expect_status 201 "renew with {}"
jb .certificate > "$T/e1.crt"
[ "$(pubkey "$T/e1.crt")" = "$(pubkey "$T/c1.crt")" ] ||
    die "a renewal with {} changed the public key"
ok "renew with {}: 201 with the same key, like no body"

# Rekey: a CSR with exactly the same names.
make_csr k2 ec-p256 app-1 "DNS:app-1,DNS:app-1.svc.internal"
renew_csr c1 "$T/k2.csr"
expect_status 201 "rekey with the same names"
schema_check IssuedCertificate "$T/body" "POST /v1/renew (rekey)"
save k2
[ "$(pubkey "$T/k2.crt")" = "$(openssl pkey -in "$T/k2.key" -pubout)" ] ||
    die "the rekeyed certificate does not carry the CSR's key"
[ "$(jq -c '.sans | map_values(sort)' "$T/k2.json")" = \
    "$(jq -c '.sans | map_values(sort)' "$T/c1.json")" ] ||
    die "the rekey changed the SANs"
ok "rekey with {\"csr\"}: 201, the CSR's key, same names"

# Rekey with other names: 403 name_not_allowed.
make_csr k3 ec-p256 app-2 "DNS:app-1,DNS:app-1.svc.internal"
renew_csr c1 "$T/k3.csr"
expect_error 403 name_not_allowed "rekey with another CN"
make_csr k4 ec-p256 app-1 "DNS:app-1,DNS:app-1.svc.internal,DNS:db.svc.internal"
renew_csr c1 "$T/k4.csr"
expect_error 403 name_not_allowed "rekey with an extra SAN"
make_csr k5 ec-p256 app-1 "DNS:app-1"
renew_csr c1 "$T/k5.csr"
expect_error 403 name_not_allowed "rekey with a SAN missing"
make_csr k6 rsa-1024 app-1 "DNS:app-1,DNS:app-1.svc.internal"
renew_csr c1 "$T/k6.csr"
expect_error 422 key_rejected "rekey with an RSA-1024 key"

# Bodies: strict JSON like the other routes.
renew c1 -H 'Content-Type: application/json' --data-binary '{"csr": 1}'
expect_error 400 invalid_request "csr of the wrong type"
renew c1 -H 'Content-Type: application/json' \
    --data-binary '{"csr": "x", "profile": "redis-node"}'
expect_error 400 invalid_request "an unknown field"
expect_message_has profile
renew c1 -H 'Content-Type: application/json' --data-binary '{"csr": "x"'
expect_error 400 invalid_json "broken JSON"
renew c1 -H 'Content-Type: application/json' \
    --data-binary '{"csr": "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"}'
expect_error 400 invalid_csr "a CSR that does not parse"
renew c1 -H 'Content-Type: text/plain' --data-binary 'hello'
expect_error 415 unsupported_media_type "a text/plain body"
head -c 70000 /dev/zero | tr '\0' a > "$T/big"
renew c1 -H 'Content-Type: application/json' --data-binary "@$T/big"
expect_error 413 payload_too_large "a 70 kB body"
audited "mtls:$S1" certificate.renew denied
ok "refused rekeys and bodies are audited as certificate.renew denied"

# No client certificate; a bearer token is not a credential here.
api POST /v1/renew
expect_error 401 unauthorized "no client certificate"
[ -z "$(header WWW-Authenticate)" ] ||
	die "a 401 of /v1/renew offers a Bearer challenge: $(header WWW-Authenticate)"
adm POST /v1/renew
expect_error 401 unauthorized "an admin token instead of a certificate"
audited anonymous certificate.renew denied
pub POST /v1/renew
expect_error 404 not_found "POST /v1/renew on the public listener"
api GET /v1/renew --cert "$T/c1.crt" --key "$T/c1.key"
expect_error 405 method_not_allowed "GET /v1/renew"

# Revoked: 401.  (superseded: a keyCompromise would also revoke r1,
# which has the same key; test_keycompromise.sh covers that.)
adm POST "/v1/certificates/$S1/revoke" '{"reason": "superseded"}'
expect_status 200 "revoke c1"
renew c1
expect_error 401 unauthorized "renew a revoked certificate"
expect_message_has revoked
# The refusal names the certificate that was refused, not "anonymous".
audited "mtls:$S1" certificate.renew denied
renew r1
expect_status 201 "its successor still renews"
ok "a revoked certificate cannot renew; its successor can"

# Expired: 401 (the TLS handshake does not check dates: the listener
# asks for a certificate without requiring a valid one, so the refusal
# comes from the service with a JSON body; a TLS refusal would also do).
adm POST /v1/certificates/generate '{"profile": "redis-client",
    "common_name": "app-9", "ttl": "1s"}'
expect_status 201 "generate a 1-second certificate"
save ex
sleep 2.5
openssl x509 -in "$T/ex.crt" -noout -checkend 0 >/dev/null &&
    die "the 1-second certificate has not expired"
STATUS=$(curl -sS --max-time 30 --cacert "$CACERT" --cert "$T/ex.crt" \
    --key "$T/ex.key" -X POST -o "$T/body" -w '%{http_code}' \
    "$API/v1/renew" 2>"$T/curl.err") || STATUS=tls
if [ "$STATUS" = tls ]; then
	ok "an expired certificate: refused in the TLS handshake ($(head -n 1 "$T/curl.err"))"
else
	expect_error 401 unauthorized "renew an expired certificate"
	ok "an expired certificate: 401 ($(jb .error.message))"
fi

# Another CA: a self-signed client certificate, and a leaf of another CA.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/self.key" -subj "/CN=app-1" -days 1 \
    -addext "extendedKeyUsage=clientAuth" -out "$T/self.crt" 2>/dev/null ||
    die "openssl req -x509 failed"
STATUS=$(curl -sS --max-time 30 --cacert "$CACERT" --cert "$T/self.crt" \
    --key "$T/self.key" -X POST -o "$T/body" -w '%{http_code}' \
    "$API/v1/renew" 2>"$T/curl.err") || STATUS=tls
if [ "$STATUS" = tls ]; then
	ok "a self-signed certificate: refused in the TLS handshake"
else
	expect_error 401 unauthorized "renew a self-signed certificate"
fi
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/oca.key" -subj "/CN=other CA" -days 1 \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$T/oca.crt" 2>/dev/null || die "openssl: other CA"
printf 'extendedKeyUsage=clientAuth\nsubjectAltName=DNS:app-1\n' > "$T/leaf.ext"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/oleaf.key" -subj "/CN=app-1" -out "$T/oleaf.csr" 2>/dev/null &&
    openssl x509 -req -in "$T/oleaf.csr" -CA "$T/oca.crt" -CAkey "$T/oca.key" \
    -CAcreateserial -days 1 -extfile "$T/leaf.ext" -out "$T/oleaf.crt" \
    2>/dev/null || die "openssl: leaf of the other CA"
STATUS=$(curl -sS --max-time 30 --cacert "$CACERT" --cert "$T/oleaf.crt" \
    --key "$T/oleaf.key" -X POST -o "$T/body" -w '%{http_code}' \
    "$API/v1/renew" 2>"$T/curl.err") || STATUS=tls
if [ "$STATUS" = tls ]; then
	ok "a leaf of another CA: refused in the TLS handshake"
else
	expect_error 401 unauthorized "renew a leaf of another CA"
fi

# Signed with this CA's key but never recorded (e.g. by hand with
# openssl): the database decides, 401 unknown certificate.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/rogue.key" -subj "/CN=app-1" -out "$T/rogue.csr" 2>/dev/null &&
    openssl x509 -req -in "$T/rogue.csr" -CA "$CACERT" -CAkey "$DATA/ca.key" \
    -set_serial 0x5eed -days 1 -extfile "$T/leaf.ext" -out "$T/rogue.crt" \
    2>/dev/null || die "openssl: a certificate signed by hand"
openssl verify -CAfile "$CACERT" "$T/rogue.crt" >/dev/null 2>&1 ||
    die "the hand-signed certificate does not verify"
renew rogue
expect_error 401 unauthorized "renew a certificate the CA never recorded"
expect_message_has unknown

# A certificate without clientAuth (the api listener's own).
renew_tls()
{
	api POST /v1/renew --cert "$DATA/tls/api.crt" --key "$DATA/tls/api.key"
}
renew_tls
expect_error 401 unauthorized "renew a serverAuth-only certificate"
schema_flush

# ==== 2. enroll --daemon ====

adm POST /v1/certificates/generate '{"profile": "redis-node",
    "common_name": "redis-1",
    "sans": {"dns": ["localhost"], "ip": ["127.0.0.1"]}}'
expect_status 201 "generate a redis-node certificate"
save node
chmod 0400 "$T/node.key"
rca_redis_tls "$T/node.crt" "$T/node.key" "$CACERT"

adm POST /v1/tokens '{"kind": "enroll", "profile": "redis-client",
    "names": ["app-*", "*.svc.internal"], "uses": 1, "ttl": "1h",
    "max_cert_ttl": "5m"}'
expect_status 201 "an enroll token"
(umask 077 && jb .token > "$T/token")

# The lifetime is ttl + 60 s (notBefore is backdated a minute), so with
# --ttl 90s the daemon renews 150/3 = 50 s (minus up to 7 s of jitter)
# before notAfter: 33 to 40 s after each issuance.
OUT="$T/app"
"$RCA_BIN" enroll --daemon --url "$API" --cacert "$CACERT" \
    --token-file "$T/token" --profile redis-client --cn app-7 \
    --dns app-7.svc.internal --ttl 90s --out "$OUT" \
    --exec "echo \"\$REDIS_CA_SERIAL\" >> '$T/exec.log'" \
    > "$T/daemon.out" 2> "$T/daemon.log" &
DPID=$!
rca_track "$DPID"

# wait_for SECONDS DESC CMD...: poll CMD every 0.5 s.
wait_for()
{
	local secs=$1 what=$2 i
	shift 2
	for i in $(seq 1 $((secs * 2))); do
		"$@" && return 0
		kill -0 "$DPID" 2>/dev/null ||
		    die "the enroll daemon exited while waiting for $what:
$(tail -n 20 "$T/daemon.log")"
		sleep 0.5
	done
	die "$what did not happen within $secs s:
$(tail -n 20 "$T/daemon.log")"
}

wait_for 60 "the first enrollment" test -f "$OUT/cert.pem"
D0=$(rca_serial_of "$OUT/cert.pem")
cp "$OUT/key.pem" "$T/d0.key"
[ "$(rca_rping "$OUT")" = PONG ] || die "redis-cli with the enrolled files failed"
[ -s "$T/exec.log" ] && die "--exec ran after the first enrollment"
ok "enroll --daemon: enrolled serial $D0, PONG"

lines() { [ -f "$1" ] && wc -l < "$1" || echo 0; }
has_lines() { [ "$(lines "$1")" -ge "$2" ]; }
wait_for 75 "the first renewal (--exec)" has_lines "$T/exec.log" 1
D1=$(rca_serial_of "$OUT/cert.pem")
[ "$D1" != "$D0" ] || die "cert.pem still holds serial $D0 after a renewal"
[ "$(head -n 1 "$T/exec.log")" = "$D1" ] ||
    die "--exec saw REDIS_CA_SERIAL=$(head -n 1 "$T/exec.log"), want $D1"
grep -q 'renewed:' "$T/daemon.log" || die "no 'renewed' log line"
san() { openssl x509 -in "$1" -noout -ext subjectAltName | tail -n +2 | tr -d ' '; }
subj() { openssl x509 -in "$1" -noout -subject -nameopt RFC2253; }
adm GET "/v1/certificates/$D0.pem"
cp "$T/body" "$T/d0.crt"
[ "$(subj "$OUT/cert.pem")" = "$(subj "$T/d0.crt")" ] &&
    [ "$(san "$OUT/cert.pem")" = "$(san "$T/d0.crt")" ] ||
    die "the renewed certificate has other names: $(subj "$OUT/cert.pem") $(san "$OUT/cert.pem")"
cmp -s "$OUT/key.pem" "$T/d0.key" && die "the daemon kept the old key"
[ "$(pubkey "$OUT/cert.pem")" = "$(openssl pkey -in "$OUT/key.pem" -pubout)" ] ||
    die "key.pem does not match the renewed cert.pem"
[ "$(stat -c %a "$OUT/key.pem")" = 400 ] || die "the renewed key.pem is not 0400"
[ "$(rca_rping "$OUT")" = PONG ] || die "redis-cli with the renewed files failed"
adm GET "/v1/certificates/$D1"
[ "$(jb .issued_by)" = "mtls:$D0" ] || die "serial $D1 issued by $(jb .issued_by), want mtls:$D0"
cp "$T/body" "$T/d1.json"
adm GET "/v1/certificates/$D0"
[ "$(life "$T/d1.json")" = "$(life "$T/body")" ] ||
    die "the renewal changed the lifetime: $(life "$T/d1.json") s, was $(life "$T/body") s"
ok "the daemon renewed: $D0 -> $D1 (mTLS, new key, same names), --exec ran with the serial, PONG with the new files"

# The CA goes away before the next renewal: the daemon retries, logging.
rca_stop
ok "serve stopped"
has_fail() { [ "$(grep -c 'renewal failed' "$T/daemon.log")" -ge "$1" ]; }
wait_for 75 "three failed renewal attempts" has_fail 3
grep 'renewal failed' "$T/daemon.log" | tail -n 1 | grep -q 'retrying in' ||
    die "the failure line does not say when it retries"
ok "while serve is down the daemon retries: $(grep 'renewal failed' "$T/daemon.log" | tail -n 1 | sed 's/^.*enroll: //')"
rca_start
wait_for 60 "the renewal once serve is back" has_lines "$T/exec.log" 2
D2=$(rca_serial_of "$OUT/cert.pem")
[ "$D2" != "$D1" ] || die "no new certificate after serve came back"
[ "$(sed -n 2p "$T/exec.log")" = "$D2" ] || die "--exec did not see $D2"
[ "$(rca_rping "$OUT")" = PONG ] || die "redis-cli with the files renewed after the outage failed"
ok "serve back on the same port and data: renewed $D1 -> $D2, PONG"

# SIGTERM: a clean stop.
kill -TERM "$DPID"
for i in $(seq 1 100); do
	kill -0 "$DPID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$DPID" 2>/dev/null && die "the daemon did not stop within 10 s of SIGTERM"
wait "$DPID"
rc=$?
[ "$rc" = 0 ] || die "the daemon exited with $rc on SIGTERM: $(tail -n 5 "$T/daemon.log")"
ok "SIGTERM: the daemon exited 0"
exit 0
