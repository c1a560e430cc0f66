#!/bin/bash
# Compromised keys (SPEC section 8), end to end against a real
# `redis-ca serve` with curl and openssl:
#   two certificates issued from one CSR (one key) and one with another
#   key; revoking the first for keyCompromise revokes the second too
#   (audited, same_key_as), both are in the CRL numbered in the answer
#   (openssl crl -text), the other key's is not; a new CSR with the key
#   (uncompressed or compressed point) gets 422 key_rejected; a rekey
#   renewal onto it gets 422; renewing with the sibling's client
#   certificate gets 401 (audited as denied).
#
# usage: test_keycompromise.sh PATH-TO-redis-ca
. "$(dirname "$0")/lib.sh"

rca_setup "${1:-}"
rca_init
rca_start
T=$RCA_TMP

# audited ACTION OUTCOME OBJECT DETAIL-SUBSTRING [ACTOR]
audited()
{
	adm GET "/v1/audit?limit=1000"
	expect_status 200 "GET /v1/audit"
	[ "$(jq --arg c "$1" --arg o "$2" --arg s "$3" --arg d "$4" \
	    --arg a "${5:-}" '[.items[] | select(.action == $c and
	    .outcome == $o and .object == $s and (.detail | contains($d))
	    and ($a == "" or .actor == $a))] | length' "$T/body")" -gt 0 ] ||
	    die "no audit entry action=$1 outcome=$2 object=$3 detail~$4 ${5:-}"
}

# ---- two certificates with one key, one with another ----

make_csr k ec-p256 app-k "DNS:app-k.svc.internal"
make_csr o ec-p256 app-o
adm POST /v1/certificates "$(issue_json "$T/k.csr" redis-client)"
expect_status 201 "issue the first certificate of key k"
jb .certificate > "$T/s1.crt"
S1=$(jb .serial)
adm POST /v1/certificates "$(issue_json "$T/k.csr" redis-client)"
expect_status 201 "issue the second certificate of key k (same CSR)"
jb .certificate > "$T/s2.crt"
S2=$(jb .serial)
adm POST /v1/certificates "$(issue_json "$T/o.csr" redis-client)"
expect_status 201 "issue a certificate of key o"
jb .certificate > "$T/s3.crt"
S3=$(jb .serial)
[ "$S1" != "$S2" ] || die "two issuances gave one serial"
ok "issued $S1 and $S2 (key k) and $S3 (key o)"

# ---- revoke one for keyCompromise ----

adm POST "/v1/certificates/$S1/revoke" '{"reason": "keyCompromise"}'
expect_status 200 "revoke $S1 keyCompromise"
schema_check RevokedCertificate "$T/body" "revoke keyCompromise"
CRLNUM=$(jb .crl_number)
[ "$(jb .revocation_reason)" = keyCompromise ] ||
    die "reason $(jb .revocation_reason)"
adm GET "/v1/certificates/$S2"
expect_status 200 "GET the sibling"
[ "$(jb .status)" = revoked ] || die "sibling $S2 status $(jb .status)"
[ "$(jb .revocation_reason)" = keyCompromise ] ||
    die "sibling reason $(jb .revocation_reason)"
adm GET "/v1/certificates/$S3"
[ "$(jb .status)" = valid ] || die "other key's $S3 status $(jb .status)"
ok "keyCompromise of $S1 revoked its sibling $S2, not $S3"
audited certificate.revoke ok "$S2" "same_key_as=$S1"
ok "the sibling's revocation is audited, naming $S1"

# The CRL (numbered as the answer said, or later) lists both.
pub GET /v1/crl.pem
expect_status 200 "GET /v1/crl.pem"
cp "$T/body" "$T/crl.pem"
openssl crl -in "$T/crl.pem" -noout -text > "$T/crl.txt" 2>&1 ||
    die "openssl cannot read the CRL"
NUM=$(awk '/CRL Number/ { getline; gsub(/[ \t]/, ""); print; exit }' \
    "$T/crl.txt")
[ "$NUM" -ge "$CRLNUM" ] 2>/dev/null || die "CRL number $NUM < $CRLNUM"
listed()
{
	grep -i 'Serial Number:' "$T/crl.txt" | awk '{ print tolower($3) }' |
	    sed 's/^0*//' | grep -qx "$1"
}
listed "$S1" || die "the CRL does not list $S1"
listed "$S2" || die "the CRL does not list the sibling $S2"
listed "$S3" && die "the CRL lists $S3 of another key"
[ "$(grep -c 'Key Compromise' "$T/crl.txt")" -ge 2 ] ||
    die "the CRL does not give keyCompromise for both"
ok "CRL $NUM lists $S1 and $S2 as Key Compromise, not $S3"

# ---- the key is blocked ----

adm POST /v1/certificates "$(issue_json "$T/k.csr" redis-client)"
expect_error 422 key_rejected "the same CSR again"
openssl req -new -key "$T/k.key" -subj /CN=app-new -out "$T/k2.csr" \
    2>/dev/null || die "openssl req failed"
adm POST /v1/certificates "$(issue_json "$T/k2.csr" redis-client)"
expect_error 422 key_rejected "a new CSR with the blocked key"
expect_message_has "keyCompromise"
openssl ec -in "$T/k.key" -conv_form compressed -out "$T/kc.key" \
    2>/dev/null || die "openssl ec failed"
openssl req -new -key "$T/kc.key" -subj /CN=app-new -out "$T/kc.csr" \
    2>/dev/null || die "openssl req (compressed) failed"
adm POST /v1/certificates "$(issue_json "$T/kc.csr" redis-client)"
# A parser that refuses compressed points answers 400/422 otherwise;
# it must never issue.
[ "$STATUS" != 201 ] || die "a compressed-point CSR of the key got a certificate"
if [ "$STATUS" = 422 ]; then
	expect_error 422 key_rejected "the blocked key, compressed point"
fi
adm GET "/v1/audit?limit=1000"
[ "$(jq '[.items[] | select(.action == "certificate.issue" and
    .outcome == "denied" and (.detail | contains("key_rejected")))] |
    length' "$T/body")" -ge 2 ] || die "the refused issuances are not audited"
ok "the refused issuances are audited as denied key_rejected"

# Rekey of a good certificate onto the blocked key: 422.
openssl req -new -key "$T/k.key" -subj /CN=app-o -out "$T/rk.csr" \
    2>/dev/null || die "openssl req failed"
api POST /v1/renew --cert "$T/s3.crt" --key "$T/o.key" \
    -H 'Content-Type: application/json' --data-binary \
    "$(jq -cn --rawfile csr "$T/rk.csr" '{csr: $csr}')"
expect_error 422 key_rejected "rekey renewal onto the blocked key"

# Renew with the sibling's client certificate: 401, audited.
api POST /v1/renew --cert "$T/s2.crt" --key "$T/k.key"
expect_error 401 unauthorized "renew with the revoked sibling's certificate"
# (api/server.c audits a refused client certificate as "anonymous".)
adm GET "/v1/audit?limit=1000"
[ "$(jq '[.items[] | select(.action == "certificate.renew" and
    .outcome == "denied" and (.detail | contains("unauthorized")))] |
    length' "$T/body")" -gt 0 ] ||
    die "the refused renewal of $S2 is not audited"
ok "the refused renewal is audited as certificate.renew denied"

# The other key is untouched.
api POST /v1/renew --cert "$T/s3.crt" --key "$T/o.key"
expect_status 201 "renew the other key's certificate"
ok "a certificate of another key still renews"

schema_flush
