#!/bin/bash
# The CA lifecycle over HTTP (SPEC section 10) against a real `redis-ca
# serve` with curl: GET /v1/ca's shape, the trust bundle's ETag and 304,
# each CA's CRL at /v1/crl/<SKI> verified with `openssl crl -CAfile`, and
# a whole rollover through the admin routes, every refusal with its
# status and code: not admin 403, no token 401, bad JSON 400, unknown
# field 400, activate with nothing 409 ca_not_prepared, retire with
# nothing 409 ca_nothing_to_retire, prepare twice 409 ca_next_exists, a
# certificate for another key 422 invalid_chain, prepare while the old CA
# is retired 409 ca_retire_pending, retire with an unexpired certificate
# 409 ca_unexpired_certificates listing it.  The next CA is made the
# two-tier way: a CSR from POST /v1/ca/prepare {"csr": true}, signed by
# an outside root with openssl, completed with {"certificate", "chain"}.
# After activate the API listener serves a certificate of the new CA
# without a restart.  After all the bad inputs the server still answers.
#
# usage: test_ca_api.sh PATH-TO-redis-ca
. "$(dirname "$0")/lib.sh"

rca_setup "${1:-}"
rca_init
rca_start
T=$RCA_TMP

# ski_of FILE: the subject key identifier of FILE's first certificate.
ski_of()
{
	openssl x509 -in "$1" -noout -ext subjectKeyIdentifier |
	    sed -n '2{s/[ :]//g;p}' | tr '[:upper:]' '[:lower:]'
}

# phase PATH [JSON]: an admin POST to a rollover route.
phase()
{
	if [ $# -ge 2 ]; then
		adm POST "$1" "$2"
	else
		api POST "$1" -H "Authorization: Bearer $ADMIN"
	fi
}

# crl_verifies SKI CAFILE WHAT: /v1/crl/SKI (DER) and .pem verify
# against CAFILE and are the same CRL.
crl_verifies()
{
	local i
	# A new CA's first CRL comes with the scheduler's next pass.
	for i in $(seq 1 150); do
		pub GET "/v1/crl/$1"
		[ "$STATUS" = 200 ] && break
		sleep 0.1
	done
	expect_status 200 "GET /v1/crl/$1 ($3)"
	cp "$T/body" "$T/crl.der"
	openssl crl -inform DER -in "$T/crl.der" -CAfile "$2" -noout \
	    > "$T/crl.out" 2>&1 || die "$3: the CRL does not verify: $(cat "$T/crl.out")"
	grep -q 'verify OK' "$T/crl.out" || die "$3: no verify OK: $(cat "$T/crl.out")"
	pub GET "/v1/crl/$1.pem"
	expect_status 200 "GET /v1/crl/$1.pem ($3)"
	openssl crl -in "$T/body" -outform DER -out "$T/crl2.der" ||
	    die "$3: /v1/crl/$1.pem is not a PEM CRL"
	cmp -s "$T/crl.der" "$T/crl2.der" || die "$3: the PEM CRL differs"
	ok "$3: /v1/crl/$1 verifies with openssl crl -CAfile"
}

OLD_CA="$T/old-ca.pem"
cp "$DATA/ca.crt" "$OLD_CA"
OLD_SKI=$(ski_of "$OLD_CA")
[ -n "$OLD_SKI" ] || die "ca.crt has no SKI"
# The API's certificate changes CA during the run: trust both.
TRUST="$T/trust.pem"
cp "$OLD_CA" "$TRUST"
CACERT=$TRUST

# ---- GET /v1/ca, the bundle, the CRL by SKI ----

pub GET /v1/ca
expect_status 200 "GET /v1/ca (public)"
schema_check CaList "$T/body" "GET /v1/ca"
[ "$(jb .current.state)" = current ] && [ "$(jb .next)" = null ] &&
    [ "$(jb '.retired | length')" = 0 ] && [ "$(jb .current.ski)" = "$OLD_SKI" ] ||
    die "GET /v1/ca: $(jb -c 'del(.certificate, .current)')"
[ "$(jb .current.chain)" = "" ] || die "a one-tier CA has a chain"
[ "$(jb .current.crl_url)" = "$PUB/v1/crl/$OLD_SKI" ] ||
    die "crl_url is $(jb .current.crl_url)"
BUNDLE_ETAG=$(jb .bundle_etag)
api GET /v1/ca
expect_status 200 "GET /v1/ca (api)"
ok "GET /v1/ca: current, next null, retired [], bundle_etag $BUNDLE_ETAG"

pub GET /v1/ca/bundle.pem
expect_status 200 "GET /v1/ca/bundle.pem"
[ "$(header ETag)" = "$BUNDLE_ETAG" ] ||
    die "bundle ETag $(header ETag) is not bundle_etag $BUNDLE_ETAG"
[ "$(header Content-Type)" = application/x-pem-file ] ||
    die "bundle Content-Type is $(header Content-Type)"
[ "$(ski_of "$T/body")" = "$OLD_SKI" ] || die "the bundle is not the CA"
want="\"$(sha256sum < "$T/body" | cut -c1-32)\""
[ "$BUNDLE_ETAG" = "$want" ] || die "bundle ETag $BUNDLE_ETAG, want $want"
: > "$T/body"	# curl writes nothing for an empty body
pub GET /v1/ca/bundle.pem -H "If-None-Match: $BUNDLE_ETAG"
expect_status 304 "GET /v1/ca/bundle.pem with If-None-Match"
[ ! -s "$T/body" ] || die "a 304 with a body"
[ "$(header ETag)" = "$BUNDLE_ETAG" ] || die "a 304 without the ETag"
api GET /v1/ca/bundle.pem -H 'If-None-Match: "0123"'
expect_status 200 "GET /v1/ca/bundle.pem with another ETag"
ok "GET /v1/ca/bundle.pem: ETag = SHA-256 prefix, 304 on If-None-Match"

crl_verifies "$OLD_SKI" "$OLD_CA" "the current CA"
pub GET /v1/crl
cmp -s "$T/body" "$T/crl.der" || die "/v1/crl is not the current CA's"
UPPER=$(tr '[:lower:]' '[:upper:]' <<<"$OLD_SKI")
pub GET "/v1/crl/$UPPER"
expect_status 200 "GET /v1/crl/<SKI in capitals>"
pub GET /v1/crl/not-hex
expect_error 400 invalid_request "GET /v1/crl/not-hex"
pub GET /v1/crl/abc.pem
expect_error 400 invalid_request "GET /v1/crl/<odd length>.pem"
pub GET "/v1/crl/$(printf 'ab%.0s' $(seq 1 70))"
expect_error 400 invalid_request "GET /v1/crl/<140 digits>"
pub GET /v1/crl/00112233445566778899aabbccddeeff00112233
expect_error 404 not_found "GET /v1/crl/<unknown SKI>"

# ---- refusals with nothing prepared ----

adm POST /v1/tokens '{"kind": "enroll", "profile": "redis-client",
    "names": ["app-*"], "uses": 5, "ttl": "1h"}'
expect_status 201 "POST /v1/tokens"
ENROLL=$(jb .token)
for p in /v1/ca/prepare /v1/ca/activate /v1/ca/retire; do
	tok "$ENROLL" POST "$p" '{}'
	expect_error 403 forbidden "POST $p with an enroll token"
	api POST "$p" -H 'Content-Type: application/json' --data-binary '{}'
	expect_error 401 unauthorized "POST $p without a token"
	phase "$p" '{"force": tru'
	expect_error 400 invalid_json "POST $p with bad JSON"
	phase "$p" '{"bogus": 1}'
	expect_error 400 invalid_request "POST $p with an unknown field"
	pub POST "$p" -H "Authorization: Bearer $ADMIN"
	expect_status 404 "POST $p on the public listener"
done
phase /v1/ca/prepare '{"root_key": "/etc/root.key"}'
expect_error 400 invalid_request "prepare with a root key over HTTP"
phase /v1/ca/prepare '{"days": 0}'
expect_error 400 invalid_request "prepare with days 0"
phase /v1/ca/prepare '{"key_type": "dsa"}'
expect_error 400 invalid_request "prepare with an unknown key type"
phase /v1/ca/activate '{"force": "yes"}'
expect_error 400 invalid_request "activate with force a string"
phase /v1/ca/activate
expect_error 409 ca_not_prepared "activate with nothing prepared"
phase /v1/ca/retire '{}'
expect_error 409 ca_nothing_to_retire "retire with nothing retired"

# A certificate of the old CA, unexpired when it is retired.
adm POST /v1/certificates/generate '{"profile": "redis-client",
    "common_name": "app-1"}'
expect_status 201 "generate a certificate of the old CA"
OLD_SERIAL=$(jb .serial)

# ---- prepare: a CSR, signed outside, completed ----

phase /v1/ca/prepare '{"csr": true, "key_type": "ec-p384"}'
expect_status 200 "prepare a CSR"
schema_check CaPhaseResult "$T/body" "prepare a CSR"
[ "$(jb .ca.next.state)" = pending ] || die "next is $(jb .ca.next.state)"
jb .csr > "$T/next.csr"
openssl req -in "$T/next.csr" -noout -verify 2>/dev/null ||
    die "the CSR does not verify"
ok "POST /v1/ca/prepare {csr}: pending, CSR answered"
phase /v1/ca/prepare '{}'
expect_error 409 ca_next_exists "prepare a key while a CSR is pending"
phase /v1/ca/activate '{}'
expect_error 409 ca_not_prepared "activate a pending CA"

# An outside root signs the CSR (pathlen 0, SKI, AKI).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/root.key" -out "$T/root.crt" -days 30 -subj /CN=outside-root \
    -addext basicConstraints=critical,CA:TRUE,pathlen:1 \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null ||
    die "openssl: the outside root"
printf '%s\n' 'basicConstraints=critical,CA:TRUE,pathlen:0' \
    'keyUsage=critical,keyCertSign,cRLSign' 'subjectKeyIdentifier=hash' \
    'authorityKeyIdentifier=keyid' > "$T/int.ext"
openssl x509 -req -in "$T/next.csr" -CA "$T/root.crt" -CAkey "$T/root.key" \
    -CAcreateserial -days 20 -extfile "$T/int.ext" -out "$T/next.crt" \
    2>/dev/null || die "openssl: signing the next CA"
# A certificate that is not for the pending key.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/other.key" -out "$T/other.crt" -days 30 -subj /CN=other \
    -addext basicConstraints=critical,CA:TRUE 2>/dev/null ||
    die "openssl: another CA"
phase /v1/ca/prepare "$(jq -n --rawfile c "$T/other.crt" '{certificate: $c}')"
expect_error 422 invalid_chain "complete with another key's certificate"
phase /v1/ca/prepare "$(jq -n --rawfile c "$T/next.crt" --rawfile r "$T/other.crt" \
    '{certificate: $c, chain: $r}')"
expect_error 422 invalid_chain "complete with roots it does not verify to"
phase /v1/ca/prepare "$(jq -n --rawfile c "$T/next.crt" --rawfile r "$T/root.crt" \
    '{certificate: $c, chain: $r}')"
expect_status 200 "complete the pending CA"
schema_check CaPhaseResult "$T/body" "complete the pending CA"
NEW_SKI=$(ski_of "$T/next.crt")
[ "$(jb .ca.next.state)" = next ] && [ "$(jb .ca.next.ski)" = "$NEW_SKI" ] ||
    die "next after completion: $(jb -c '.ca.next | del(.certificate, .anchors, .chain)')"
[ "$(jb .ca.bundle_etag)" != "$BUNDLE_ETAG" ] || die "the bundle did not change"
ok "POST /v1/ca/prepare {certificate, chain}: next $NEW_SKI"
phase /v1/ca/prepare '{}'
expect_error 409 ca_next_exists "prepare twice"

# The bundle: both anchors, the old CA and the outside root.
pub GET /v1/ca/bundle.pem
expect_status 200 "GET /v1/ca/bundle.pem after prepare"
cp "$T/body" "$T/bundle2.pem"
grep -c 'BEGIN CERTIFICATE' "$T/bundle2.pem" | grep -qx 2 ||
    die "the bundle does not hold two anchors"
openssl verify -CAfile "$T/bundle2.pem" "$T/next.crt" >/dev/null 2>&1 ||
    die "the next CA does not verify against the bundle"
openssl verify -CAfile "$T/bundle2.pem" "$OLD_CA" >/dev/null 2>&1 ||
    die "the old CA does not verify against the bundle"
ok "the bundle holds the current and next anchors"
crl_verifies "$NEW_SKI" <(cat "$T/next.crt" "$T/root.crt") "the next CA"
cat "$OLD_CA" "$T/next.crt" "$T/root.crt" > "$TRUST"

# ---- activate ----

phase /v1/ca/activate '{"force": false}'
expect_status 200 "activate"
schema_check CaPhaseResult "$T/body" "activate"
[ "$(jb .ca.current.ski)" = "$NEW_SKI" ] &&
    [ "$(jb '.ca.retired[0].ski')" = "$OLD_SKI" ] && [ "$(jb .ca.next)" = null ] ||
    die "after activate: $(jb -c '.ca | {c: .current.ski, r: [.retired[].ski], n: .next}')"
ok "POST /v1/ca/activate: $NEW_SKI issues, $OLD_SKI retired"
phase /v1/ca/prepare '{}'
expect_error 409 ca_retire_pending "prepare while the old CA is retired"
crl_verifies "$NEW_SKI" <(cat "$T/next.crt" "$T/root.crt") "the new current CA"
pub GET /v1/crl
cmp -s "$T/body" "$T/crl.der" || die "/v1/crl is not the new current CA's"
crl_verifies "$OLD_SKI" "$OLD_CA" "the retired CA"

# The API listener serves a certificate of the new CA, no restart.
served=""
for i in $(seq 1 150); do
	served=$(openssl s_client -connect "127.0.0.1:$API_PORT" \
	    -servername localhost </dev/null 2>/dev/null |
	    openssl x509 -noout -ext authorityKeyIdentifier 2>/dev/null |
	    sed -n '2{s/[ :]//g;s/^keyid//;p}' | tr '[:upper:]' '[:lower:]')
	[ "$served" = "$NEW_SKI" ] && break
	sleep 0.1
done
[ "$served" = "$NEW_SKI" ] ||
    die "the API still serves a certificate of $served, not of $NEW_SKI"
kill -0 "$RCA_SERVE_PID" || die "serve is gone"
ok "the API listener serves a certificate issued by $NEW_SKI (reloaded)"

# ---- retire ----

phase /v1/ca/retire
[ "$STATUS" = 409 ] || die "retire with an unexpired certificate: HTTP $STATUS"
schema_check CaRetireError "$T/body" "retire refused"
[ "$(jb .error.code)" = ca_unexpired_certificates ] &&
    [ "$(jb .error.count)" -ge 1 ] &&
    jb -e --arg s "$OLD_SERIAL" '.error.certificates | index($s) != null' \
    >/dev/null || die "retire refusal lacks $OLD_SERIAL"
ok "POST /v1/ca/retire -> 409 ca_unexpired_certificates, lists $OLD_SERIAL"
phase /v1/ca/retire '{"force": true}'
expect_status 200 "retire --force"
schema_check CaPhaseResult "$T/body" "retire"
[ "$(jb '.ca.retired | length')" = 0 ] || die "still retired after retire"
pub GET "/v1/crl/$OLD_SKI"
expect_error 404 not_found "the gone CA's CRL"
adm GET "/v1/certificates/$OLD_SERIAL"
[ "$(jb .status)" = revoked ] && [ "$(jb .revocation_reason)" = cessationOfOperation ] ||
    die "$OLD_SERIAL is $(jb .status) $(jb .revocation_reason)"
phase /v1/ca/retire '{}'
expect_error 409 ca_nothing_to_retire "retire twice"
pub GET /v1/ca/bundle.pem
[ "$(ski_of "$T/body")" = "$(ski_of "$T/root.crt")" ] &&
    grep -c 'BEGIN CERTIFICATE' "$T/body" | grep -qx 1 ||
    die "the bundle after retire is not the outside root alone"
ok "POST /v1/ca/retire {force}: revoked, CRL 404, bundle = the new anchor"

# ---- every phase and every refusal is audited ----

adm GET '/v1/audit?limit=1000'
expect_status 200 "GET /v1/audit"
for a in ca.prepare ca.activate ca.retire; do
	n_ok=$(jb --arg a "$a" '[.items[] | select(.action == $a and .outcome == "ok")] | length')
	n_no=$(jb --arg a "$a" '[.items[] | select(.action == $a and .outcome == "denied")] | length')
	[ "$n_ok" -ge 1 ] || die "no successful $a in the audit"
	# Bad JSON, an unknown field, an enroll token and the phase's own
	# refusals: at least four refused entries each.
	[ "$n_no" -ge 4 ] || die "only $n_no refused $a entries in the audit"
done
jb -e '[.items[] | select(.action == "ca.retire" and .outcome == "denied" and
    (.detail // "" | test("ca_unexpired_certificates")))] | length > 0' >/dev/null ||
    die "the refused retire is not audited with its code"
ok "the audit holds every phase and its refusals (with their codes)"

# ---- metrics, and the server still answers ----

pub GET /metrics
expect_status 200 "GET /metrics"
grep -q "^redisca_ca_info{ca=\"$NEW_SKI\",state=\"current\",key_type=\"ec-p384\"} 1" \
    "$T/body" || die "no redisca_ca_info for $NEW_SKI"
grep -q "^redisca_ca_expiry_timestamp_seconds{ca=\"$NEW_SKI\",state=\"current\"} [0-9]" \
    "$T/body" || die "no expiry series for $NEW_SKI"
grep -q '^redisca_ca_bundle_nodes_stale 0' "$T/body" ||
    die "redisca_ca_bundle_nodes_stale is not 0"
ok "/metrics: the CA series"
pub GET /healthz
expect_status 200 "/healthz after the bad inputs"
api GET /v1/ca
expect_status 200 "GET /v1/ca at the end"
kill -0 "$RCA_SERVE_PID" || die "serve is gone"
ok "the server still answers"

rca_pycerts_check || die "certificates python3-cryptography refuses"
schema_flush
exit 0
