#!/bin/bash
# End-to-end: the happy path of every route against a real `redis-ca
# serve`, issued certificates checked with the openssl CLI, revocation
# and the CRL, ETags, the public listener, the API listener's TLS, a
# restart, /metrics and /v1/audit.  Responses are validated against the
# schemas of openapi/redis-ca.yaml.
#
# usage: test_api.sh PATH-TO-redis-ca
. "$(dirname "$0")/lib.sh"

rca_setup "${1:-}"
rca_init
rca_start
# The CA's subject key identifier, lowercase hex: its CRL's name.
CA_SKI=$(openssl x509 -in "$CACERT" -noout -ext subjectKeyIdentifier |
    sed -n '2{s/[ :]//g;p}' | tr '[:upper:]' '[:lower:]')
[ -n "$CA_SKI" ] || die "ca.crt has no subject key identifier"
T=$RCA_TMP

# ---- helpers ----

# norm_hex HEX: lowercase, no colons, no leading zeros.
norm_hex()
{
	local h
	h=$(printf '%s' "$1" | tr -d ':' | tr '[:upper:]' '[:lower:]')
	h=${h#0x}
	while [ "${h#0}" != "$h" ] && [ ${#h} -gt 1 ]; do h=${h#0}; done
	printf '%s' "$h"
}

# ext_line FILE HEADER: the line after an extension header in -text.
ext_line()
{
	openssl x509 -in "$1" -noout -text |
	    grep -A1 -F "$2" | tail -n 1 | sed 's/^ *//'
}

# crl_number FILE.der: the CRL number, decimal.
crl_number()
{
	local n
	n=$(openssl crl -inform DER -in "$1" -noout -crlnumber) ||
	    die "openssl cannot read the CRL"
	n=${n#crlNumber=}
	n=${n#0x}
	printf '%d' "0x$n"
}

# check_leaf PEM PROFILE CN KEYKIND SAN...: the certificate is what
# SPEC section 5 says the profile issues.
check_leaf()
{
	local f=$1 profile=$2 cn=$3 kind=$4 text line want
	shift 4
	text=$(openssl x509 -in "$f" -noout -text) ||
	    die "openssl cannot parse the issued certificate"

	grep -q 'X509v3 Basic Constraints: critical' <<<"$text" ||
	    die "$cn: basicConstraints is not critical"
	[ "$(ext_line "$f" 'X509v3 Basic Constraints')" = "CA:FALSE" ] ||
	    die "$cn: basicConstraints is not CA:FALSE"

	grep -q 'X509v3 Key Usage: critical' <<<"$text" ||
	    die "$cn: keyUsage is not critical"
	line=$(ext_line "$f" 'X509v3 Key Usage')
	case $kind in
	ec) want="Digital Signature" ;;
	rsa) want="Digital Signature, Key Encipherment" ;;
	esac
	[ "$line" = "$want" ] || die "$cn: keyUsage is '$line', want '$want'"

	line=$(ext_line "$f" 'X509v3 Extended Key Usage')
	case $profile in
	redis-client) want="TLS Web Client Authentication" ;;
	redis-node) want="TLS Web Server Authentication, TLS Web Client Authentication" ;;
	esac
	[ "$line" = "$want" ] || die "$cn: EKU is '$line', want '$want'"

	line=$(ext_line "$f" 'X509v3 Subject Alternative Name')
	for want in "$@"; do
		case ", $line," in
		*", $want,"*) ;;
		*) die "$cn: SAN '$line' lacks $want" ;;
		esac
	done
	[ "$(printf '%s' "$line" | tr ',' '\n' | grep -c .)" = "$#" ] ||
	    die "$cn: SAN '$line' has other names than: $*"

	line=$(openssl x509 -in "$f" -noout -subject -nameopt RFC2253)
	[ "$line" = "subject=CN=$cn" ] || die "$cn: subject is '$line'"
	[ "$(openssl x509 -in "$f" -noout -issuer -nameopt RFC2253)" = \
	    "$(openssl x509 -in "$CACERT" -noout -subject -nameopt RFC2253 |
	    sed 's/^subject=/issuer=/')" ] || die "$cn: issuer is not the CA"

	grep -q 'X509v3 Subject Key Identifier' <<<"$text" ||
	    die "$cn: no SKI"
	grep -q 'X509v3 Authority Key Identifier' <<<"$text" ||
	    die "$cn: no AKI"
	# SPEC 10: each CA has its CRL at /v1/crl/<its SKI>.
	grep -A3 'X509v3 CRL Distribution Points' <<<"$text" |
	    grep -qxE " *URI:$PUB/v1/crl/$CA_SKI" ||
	    die "$cn: CRL DP is not $PUB/v1/crl/$CA_SKI"
	grep -A2 'Authority Information Access' <<<"$text" |
	    grep -qF "CA Issuers - URI:$PUB/v1/ca.pem" ||
	    die "$cn: AIA caIssuers is not $PUB/v1/ca.pem"
	grep -q 'Signature Algorithm: ecdsa-with-SHA256' <<<"$text" ||
	    die "$cn: not signed with ecdsa-with-SHA256"
	if grep -q 'Certificate Sign' <<<"$text"; then
		die "$cn: carries keyCertSign"
	fi

	openssl verify -CAfile "$CACERT" "$f" > "$T/verify.out" 2>&1 ||
	    die "$cn: openssl verify failed: $(cat "$T/verify.out")"
	case $profile in
	redis-client)
		openssl verify -CAfile "$CACERT" -purpose sslclient "$f" \
		    > /dev/null 2>&1 || die "$cn: not valid for sslclient"
		if openssl verify -CAfile "$CACERT" -purpose sslserver "$f" \
		    > /dev/null 2>&1; then
			die "$cn: a redis-client certificate is valid for sslserver"
		fi
		;;
	redis-node)
		openssl verify -CAfile "$CACERT" -purpose sslserver "$f" \
		    > /dev/null 2>&1 || die "$cn: not valid for sslserver"
		openssl verify -CAfile "$CACERT" -purpose sslclient "$f" \
		    > /dev/null 2>&1 || die "$cn: not valid for sslclient"
		;;
	esac
	ok "$cn ($profile): extensions, names, signature, chain"
}

# check_dates PEM TTL-SECONDS T0 T1: notAfter - notBefore = ttl + 60 and
# the issuance happened between T0 and T1 (epoch seconds).
check_dates()
{
	local f=$1 ttl=$2 t0=$3 t1=$4 nb na
	nb=$(date -u -d "$(openssl x509 -in "$f" -noout -startdate | cut -d= -f2)" +%s)
	na=$(date -u -d "$(openssl x509 -in "$f" -noout -enddate | cut -d= -f2)" +%s)
	[ $((na - nb)) -ge $((ttl + 59)) ] && [ $((na - nb)) -le $((ttl + 61)) ] ||
	    die "$f: lifetime is $((na - nb)) s, want ttl $ttl + 60 s backdate"
	[ "$nb" -ge $((t0 - 61)) ] && [ "$nb" -le $((t1 - 59)) ] ||
	    die "$f: notBefore $nb is not issuance time - 60 s ($t0..$t1)"
	ok "$f: notBefore = now - 60 s, notAfter = now + $ttl s"
}

# check_json_matches_pem JSONFILE: serial, fingerprint, status, dates of
# the certificate object agree with its PEM.
check_json_matches_pem()
{
	local j=$1 pem="$T/jm.pem" s1 s2 f1 f2 d1 d2
	jq -r '.certificate' "$j" > "$pem"
	s1=$(norm_hex "$(jq -r .serial "$j")")
	s2=$(norm_hex "$(openssl x509 -in "$pem" -noout -serial | cut -d= -f2)")
	[ "$s1" = "$s2" ] || die "JSON serial $s1 is not the PEM's $s2"
	jq -r .serial "$j" | grep -qE '^[0-9a-f]+$' || die "serial is not lowercase hex"
	f1=$(jq -r .fingerprint_sha256 "$j")
	f2=$(openssl x509 -in "$pem" -noout -fingerprint -sha256 | cut -d= -f2 |
	    tr -d ':' | tr '[:upper:]' '[:lower:]')
	[ "$f1" = "$f2" ] || die "fingerprint_sha256 $f1 is not the PEM's $f2"
	d1=$(date -u -d "$(jq -r .not_after "$j")" +%s)
	d2=$(date -u -d "$(openssl x509 -in "$pem" -noout -enddate | cut -d= -f2)" +%s)
	[ "$d1" = "$d2" ] || die "not_after $(jq -r .not_after "$j") is not the PEM's"
	d1=$(date -u -d "$(jq -r .not_before "$j")" +%s)
	d2=$(date -u -d "$(openssl x509 -in "$pem" -noout -startdate | cut -d= -f2)" +%s)
	[ "$d1" = "$d2" ] || die "not_before $(jq -r .not_before "$j") is not the PEM's"
}

# split_chain FILE PREFIX: PREFIX1.pem, PREFIX2.pem ...; prints the count.
split_chain()
{
	awk -v p="$2" '/-----BEGIN CERTIFICATE-----/ { n++ } n { print > (p n ".pem") }
	    END { print n + 0 }' "$1"
}

same_cert()
{
	[ "$(openssl x509 -in "$1" -outform DER | sha256sum)" = \
	    "$(openssl x509 -in "$2" -outform DER | sha256sum)" ]
}

pubkey_of_cert() { openssl x509 -in "$1" -noout -pubkey; }
pubkey_of_key() { openssl pkey -in "$1" -pubout; }

# ---- operations and CA (no auth) ----

api GET /healthz
expect_status 200 "GET /healthz"
schema_check Status "$T/body" "/healthz"
[ "$(jb .status)" = ok ] || die "/healthz status is not ok"
ok "GET /healthz"

api GET /readyz
expect_status 200 "GET /readyz"
schema_check Status "$T/body" "/readyz"
ok "GET /readyz"

api GET /v1/ca
expect_status 200 "GET /v1/ca"
schema_check CaList "$T/body" "/v1/ca"
jb .certificate > "$T/ca_json.pem"
same_cert "$T/ca_json.pem" "$CACERT" || die "/v1/ca certificate is not ca.crt"
[ "$(jb .key_type)" = ec-p256 ] || die "/v1/ca key_type is $(jb .key_type)"
[ "$(jb .fingerprint_sha256)" = "$(openssl x509 -in "$CACERT" -outform DER |
    sha256sum | cut -d' ' -f1)" ] || die "/v1/ca fingerprint_sha256 is wrong"
[ "$(date -u -d "$(jb .not_after)" +%s)" = "$(date -u -d "$(openssl x509 \
    -in "$CACERT" -noout -enddate | cut -d= -f2)" +%s)" ] ||
    die "/v1/ca not_after is wrong"
ok "GET /v1/ca"

api GET /v1/ca.pem
expect_status 200 "GET /v1/ca.pem"
case $(header Content-Type) in
application/x-pem-file*) ;;
*) die "/v1/ca.pem Content-Type is '$(header Content-Type)'" ;;
esac
cp "$T/body" "$T/ca_served.pem"
same_cert "$T/ca_served.pem" "$CACERT" || die "/v1/ca.pem is not ca.crt"
ok "GET /v1/ca.pem"

api GET /v1/crl
expect_status 200 "GET /v1/crl"
case $(header Content-Type) in
application/pkix-crl*) ;;
*) die "/v1/crl Content-Type is '$(header Content-Type)'" ;;
esac
cp "$T/body" "$T/crl0.der"
openssl crl -inform DER -in "$T/crl0.der" -noout -CAfile "$CACERT" \
    > "$T/crlv.out" 2>&1 || die "CRL does not verify: $(cat "$T/crlv.out")"
grep -q 'verify OK' "$T/crlv.out" || die "CRL signature not verified"
CRL0=$(crl_number "$T/crl0.der")
ETAG0=$(header ETag)
[ -n "$ETAG0" ] || die "/v1/crl has no ETag"
[ -n "$(header Last-Modified)" ] || die "/v1/crl has no Last-Modified"
openssl crl -inform DER -in "$T/crl0.der" -noout -text > "$T/crl0.txt"
grep -q 'X509v3 Authority Key Identifier' "$T/crl0.txt" || die "CRL has no AKI"
lu=$(date -u -d "$(sed -n 's/^ *Last Update: //p' "$T/crl0.txt")" +%s)
nu=$(date -u -d "$(sed -n 's/^ *Next Update: //p' "$T/crl0.txt")" +%s)
[ $((nu - lu)) = 86400 ] || die "CRL nextUpdate - thisUpdate is $((nu - lu)) s, want 24h"
ok "GET /v1/crl: signed by the CA, number $CRL0, nextUpdate = thisUpdate + 24h"

api GET /v1/crl -H "If-None-Match: $ETAG0"
expect_status 304 "GET /v1/crl with If-None-Match"
ok "GET /v1/crl If-None-Match -> 304"

api GET /v1/crl.pem
expect_status 200 "GET /v1/crl.pem"
openssl crl -in "$T/body" -outform DER -out "$T/crl0b.der" 2>/dev/null ||
    die "/v1/crl.pem is not a PEM CRL"
cmp -s "$T/crl0.der" "$T/crl0b.der" || die "/v1/crl.pem differs from /v1/crl"
ETAGP=$(header ETag)
[ -n "$ETAGP" ] || die "/v1/crl.pem has no ETag"
api GET /v1/crl.pem -H "If-None-Match: $ETAGP"
expect_status 304 "GET /v1/crl.pem with If-None-Match"
ok "GET /v1/crl.pem (same CRL, 304 on If-None-Match)"

api GET /metrics
expect_status 200 "GET /metrics"
ok "GET /metrics"

# ---- tokens ----

adm POST /v1/tokens '{"kind": "enroll", "profile": "redis-client",
    "names": ["app-*", "*.svc.internal", "10.0.0.0/8"], "uses": 5,
    "ttl": "1h", "max_cert_ttl": "24h", "description": "integ test"}'
expect_status 201 "POST /v1/tokens"
schema_check TokenCreated "$T/body" "POST /v1/tokens"
ENROLL=$(jb .token)
ENROLL_ID=$(jb .id)
[ "$(jb .kind)" = enroll ] || die "token kind is $(jb .kind)"
[ "$(jb .profile)" = redis-client ] || die "token profile is $(jb .profile)"
[ "$(jb .uses_left)" = 5 ] || die "token uses_left is $(jb .uses_left)"
[ "$(jb -c .names)" = '["app-*","*.svc.internal","10.0.0.0/8"]' ] ||
    die "token names are $(jb -c .names)"
[ "$(jb .description)" = "integ test" ] || die "token description is wrong"
exp=$(date -u -d "$(jb .expires_at)" +%s)
now=$(date +%s)
[ $((exp - now)) -ge 3500 ] && [ $((exp - now)) -le 3610 ] ||
    die "token expires_at is not now + 1h"
ok "POST /v1/tokens (enroll)"

adm GET "/v1/tokens"
expect_status 200 "GET /v1/tokens"
schema_check TokenPage "$T/body" "GET /v1/tokens"
[ "$(jb --arg id "$ENROLL_ID" '[.items[] | select(.id == $id)] | length')" = 1 ] ||
    die "GET /v1/tokens does not list the new token"
[ "$(jb '[.items[] | select(.kind == "admin")] | length')" -ge 1 ] ||
    die "GET /v1/tokens does not list the admin token"
ADMIN_ID=$(jb '[.items[] | select(.kind == "admin")][0].id')
grep -q 'rca_' "$T/body" && die "GET /v1/tokens shows a token string"
ok "GET /v1/tokens lists the tokens, never their secrets"

adm GET "/v1/tokens?limit=1"
expect_status 200 "GET /v1/tokens?limit=1"
[ "$(jb '.items | length')" = 1 ] || die "limit=1 gave $(jb '.items | length') tokens"
NEXT=$(jb '.next // empty')
[ -n "$NEXT" ] || die "limit=1 with two tokens gave no next cursor"
FIRST=$(jb '.items[0].id')
adm GET "/v1/tokens?limit=1&after=$NEXT"
expect_status 200 "GET /v1/tokens?after="
[ "$(jb '.items | length')" = 1 ] && [ "$(jb '.items[0].id')" != "$FIRST" ] ||
    die "the second token page does not hold the other token"
ok "GET /v1/tokens paginates"

adm GET "/v1/tokens/$ENROLL_ID"
expect_status 200 "GET /v1/tokens/{id}"
schema_check Token "$T/body" "GET /v1/tokens/{id}"
[ "$(jb .id)" = "$ENROLL_ID" ] || die "GET /v1/tokens/{id} returned another token"
grep -q 'rca_' "$T/body" && die "GET /v1/tokens/{id} shows the token string"
ok "GET /v1/tokens/{id}"

# ---- issue from a CSR with the enroll token ----

make_csr app1 ec-p256 app-1 "DNS:app-1.svc.internal,IP:10.1.2.3"
t0=$(date +%s)
tok "$ENROLL" POST /v1/certificates "$(issue_json "$T/app1.csr" redis-client 12h)"
t1=$(date +%s)
expect_status 201 "POST /v1/certificates (enroll token)"
schema_check IssuedCertificate "$T/body" "POST /v1/certificates"
cp "$T/body" "$T/app1.json"
jb .certificate > "$T/app1.pem"
check_json_matches_pem "$T/app1.json"
check_leaf "$T/app1.pem" redis-client app-1 ec \
    DNS:app-1 DNS:app-1.svc.internal "IP Address:10.1.2.3"
check_dates "$T/app1.pem" 43200 "$t0" "$t1"
[ "$(pubkey_of_cert "$T/app1.pem")" = "$(pubkey_of_key "$T/app1.key")" ] ||
    die "the certificate does not carry the CSR's public key"
[ "$(jb .profile)" = redis-client ] && [ "$(jb .common_name)" = app-1 ] &&
    [ "$(jb .status)" = valid ] && [ "$(jb .key_type)" = ec-p256 ] &&
    [ "$(jb .issued_by)" = "token:$ENROLL_ID" ] &&
    [ "$(jb .revoked_at)" = null ] && [ "$(jb .node)" = null ] ||
    die "certificate fields are wrong: $(jb -c 'del(.certificate, .chain, .ca_certificate)')"
[ "$(jb -c '.sans.dns | sort')" = '["app-1","app-1.svc.internal"]' ] &&
    [ "$(jb -c '.sans.ip')" = '["10.1.2.3"]' ] ||
    die "sans are $(jb -c .sans)"
# SPEC 10 (issue 12 changed this expectation): chain = leaf +
# intermediates, never the anchor; a one-tier CA is its own anchor, so
# the chain is the leaf alone.  ca_certificate = the trust bundle (here
# the one CA).
jb .chain > "$T/app1.chain"
[ "$(split_chain "$T/app1.chain" "$T/app1.chain.")" = 1 ] ||
    die "chain does not hold the leaf alone (one tier)"
same_cert "$T/app1.chain.1.pem" "$T/app1.pem" || die "chain[0] is not the leaf"
jb .ca_certificate > "$T/app1.ca.pem"
same_cert "$T/app1.ca.pem" "$CACERT" || die "ca_certificate is not the CA"
jb -j .ca_certificate > "$T/app1.bundle.pem"
pub GET /v1/ca/bundle.pem
expect_status 200 "GET /v1/ca/bundle.pem"
cmp -s "$T/body" "$T/app1.bundle.pem" ||
    die "ca_certificate is not the bundle of /v1/ca/bundle.pem"
SERIAL1=$(jq -r .serial "$T/app1.json")
ok "POST /v1/certificates: $SERIAL1"

tok "$ENROLL" POST /v1/certificates "$(issue_json "$T/app1.csr" redis-client)"
expect_status 201 "POST /v1/certificates without ttl"
jb .certificate > "$T/app1b.pem"
check_dates "$T/app1b.pem" 86400 "$t0" "$(date +%s)"
SERIAL1B=$(jb .serial)
[ "$SERIAL1B" != "$SERIAL1" ] || die "two issuances got the same serial"
ok "ttl defaults to min(profile default 24h, token max 24h)"

adm GET "/v1/tokens/$ENROLL_ID"
[ "$(jb .uses_left)" = 3 ] || die "uses_left is $(jb .uses_left) after 2 issuances, want 3"
ok "each issuance consumed one use"

# ---- generate, admin token: redis-node with EC P-256, P-384, RSA ----

t0=$(date +%s)
adm POST /v1/certificates/generate '{"profile": "redis-node",
    "common_name": "redis-1.internal", "sans": {"dns": ["localhost"],
    "ip": ["127.0.0.1"]}}'
t1=$(date +%s)
expect_status 201 "POST /v1/certificates/generate"
schema_check GeneratedCertificate "$T/body" "POST /v1/certificates/generate"
cp "$T/body" "$T/node1.json"
jb .certificate > "$T/node1.pem"
jb .private_key > "$T/node1.key"
head -n 1 "$T/node1.key" | grep -q -- '-----BEGIN PRIVATE KEY-----' ||
    die "private_key is not unencrypted PKCS#8 PEM"
[ "$(pubkey_of_cert "$T/node1.pem")" = "$(pubkey_of_key "$T/node1.key")" ] ||
    die "private_key does not match the certificate"
check_json_matches_pem "$T/node1.json"
check_leaf "$T/node1.pem" redis-node redis-1.internal ec \
    DNS:redis-1.internal DNS:localhost "IP Address:127.0.0.1"
check_dates "$T/node1.pem" $((72 * 3600)) "$t0" "$t1"
[ "$(jq -r .issued_by "$T/node1.json")" = "admin:$ADMIN_ID" ] ||
    die "issued_by is $(jq -r .issued_by "$T/node1.json"), want admin:$ADMIN_ID"
SERIAL_NODE=$(jq -r .serial "$T/node1.json")
ok "POST /v1/certificates/generate (redis-node, ec-p256)"

adm POST /v1/certificates/generate '{"profile": "redis-node",
    "common_name": "redis-2.internal", "key_type": "ec-p384", "ttl": "2h"}'
expect_status 201 "generate ec-p384"
jb .certificate > "$T/node2.pem"
[ "$(jb .key_type)" = ec-p384 ] || die "key_type is $(jb .key_type)"
grep -q 'NIST CURVE: P-384' <<<"$(openssl x509 -in "$T/node2.pem" -noout -text)" ||
    die "ec-p384 certificate does not carry a P-384 key"
check_leaf "$T/node2.pem" redis-node redis-2.internal ec DNS:redis-2.internal
ok "generate ec-p384"

adm POST /v1/certificates/generate '{"profile": "redis-client",
    "common_name": "batch-job", "key_type": "rsa-2048", "ttl": "1h"}'
expect_status 201 "generate rsa-2048"
jb .certificate > "$T/rsa.pem"
jb .private_key > "$T/rsa.key"
[ "$(jb .key_type)" = rsa-2048 ] || die "key_type is $(jb .key_type)"
grep -q 'Public-Key: (2048 bit)' <<<"$(openssl x509 -in "$T/rsa.pem" -noout -text)" ||
    die "rsa-2048 certificate does not carry a 2048-bit key"
[ "$(pubkey_of_cert "$T/rsa.pem")" = "$(pubkey_of_key "$T/rsa.key")" ] ||
    die "RSA private_key does not match the certificate"
check_leaf "$T/rsa.pem" redis-client batch-job rsa DNS:batch-job
SERIAL_RSA=$(jb .serial)
ok "generate rsa-2048 (keyEncipherment added for RSA)"

# A CSR asking for CA:TRUE, keyCertSign and serverAuth gets none of them.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/greedy.key" -subj "/CN=greedy/O=Evil Corp/OU=x" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -addext "extendedKeyUsage=serverAuth,clientAuth,codeSigning" \
    -addext "subjectAltName=DNS:greedy.example" \
    -out "$T/greedy.csr" 2>/dev/null || die "openssl req (greedy) failed"
adm POST /v1/certificates "$(issue_json "$T/greedy.csr" redis-client 1h)"
expect_status 201 "POST /v1/certificates (CSR asking for CA:TRUE)"
jb .certificate > "$T/greedy.pem"
check_leaf "$T/greedy.pem" redis-client greedy ec DNS:greedy.example DNS:greedy
ok "CSR-requested CA:TRUE, keyCertSign, extra EKUs and subject fields ignored"

# ---- certificates: list, filters, fetch ----

list_serials
[ "$NSERIALS" -ge 6 ] || die "GET /v1/certificates lists $NSERIALS certificates"
for s in "$SERIAL1" "$SERIAL1B" "$SERIAL_NODE" "$SERIAL_RSA"; do
	grep -qx "$s" "$T/serials" || die "GET /v1/certificates does not list $s"
done
[ "$(sort -u "$T/serials" | wc -l)" = "$NSERIALS" ] || die "a serial is listed twice"
adm GET "/v1/certificates"
schema_check CertificatePage "$T/body" "GET /v1/certificates"
ok "GET /v1/certificates lists everything issued"

RCA_PAGE=2 list_serials
[ "$NSERIALS" -ge 6 ] && [ "$(sort -u "$T/serials" | wc -l)" = "$NSERIALS" ] ||
    die "paging by 2 listed $NSERIALS certificates (or duplicates)"
ok "GET /v1/certificates paginates (limit=2)"

adm GET "/v1/certificates?profile=redis-node"
expect_status 200 "GET /v1/certificates?profile="
[ "$(jb '[.items[] | select(.profile != "redis-node")] | length')" = 0 ] &&
    [ "$(jb '.items | length')" -ge 2 ] || die "profile filter is wrong"
adm GET "/v1/certificates?common_name=app-1"
[ "$(jb '[.items[].serial] | sort | join(",")')" = \
    "$(printf '%s\n' "$SERIAL1" "$SERIAL1B" | sort | paste -sd,)" ] ||
    die "common_name filter is wrong: $(jb -c '[.items[].serial]')"
adm GET "/v1/certificates?status=valid"
expect_status 200 "GET /v1/certificates?status=valid"
[ "$(jb '[.items[] | select(.status != "valid")] | length')" = 0 ] ||
    die "status filter is wrong"
soon=$(date -u -d '+3 hours' +%Y-%m-%dT%H:%M:%SZ)
adm GET "/v1/certificates?expires_before=$soon"
expect_status 200 "GET /v1/certificates?expires_before="
[ "$(jb '[.items[].common_name] | sort | join(",")')" = "batch-job,greedy,redis-2.internal" ] ||
    die "expires_before filter gave $(jb -c '[.items[].common_name]')"
ok "GET /v1/certificates filters: profile, common_name, status, expires_before"

adm GET "/v1/certificates/$SERIAL1"
expect_status 200 "GET /v1/certificates/{serial}"
schema_check Certificate "$T/body" "GET /v1/certificates/{serial}"
[ "$(jb .serial)" = "$SERIAL1" ] || die "GET {serial} returned another certificate"
UPPER=$(printf '%s' "$SERIAL1" | tr '[:lower:]' '[:upper:]')
adm GET "/v1/certificates/$UPPER"
expect_status 200 "GET /v1/certificates/{SERIAL} (upper case)"
[ "$(jb .serial)" = "$SERIAL1" ] || die "upper-case lookup returned another certificate"
ok "GET /v1/certificates/{serial} (any case)"

adm GET "/v1/certificates/$SERIAL1.pem"
expect_status 200 "GET /v1/certificates/{serial}.pem"
case $(header Content-Type) in
application/x-pem-file*) ;;
*) die "{serial}.pem Content-Type is '$(header Content-Type)'" ;;
esac
cp "$T/body" "$T/app1.fetched.pem"
same_cert "$T/app1.fetched.pem" "$T/app1.pem" || die "{serial}.pem is not the certificate"
ok "GET /v1/certificates/{serial}.pem"

# ---- revoke and the CRL ----

adm POST "/v1/certificates/$SERIAL1/revoke" '{"reason": "keyCompromise"}'
expect_status 200 "POST /v1/certificates/{serial}/revoke"
schema_check RevokedCertificate "$T/body" "revoke"
[ "$(jb .status)" = revoked ] && [ "$(jb .revocation_reason)" = keyCompromise ] &&
    [ "$(jb .revoked_at)" != null ] || die "revoked certificate fields are wrong"
CRLN=$(jb .crl_number)
[ "$CRLN" -gt "$CRL0" ] || die "crl_number $CRLN did not grow from $CRL0"
ok "revoke $SERIAL1 -> crl_number $CRLN"
# SPEC section 8: app1b was issued from the same CSR (same key), so the
# keyCompromise revoked it too.
adm GET "/v1/certificates/$SERIAL1B"
[ "$(jb .status)" = revoked ] && [ "$(jb .revocation_reason)" = keyCompromise ] ||
    die "keyCompromise left the same-key $SERIAL1B $(jb .status)"
ok "keyCompromise also revoked $SERIAL1B (same key)"

api GET /v1/crl -H "If-None-Match: $ETAG0"
expect_status 200 "GET /v1/crl with the pre-revocation ETag"
cp "$T/body" "$T/crl1.der"
[ "$(header ETag)" != "$ETAG0" ] || die "the ETag did not change with the CRL"
ETAG1=$(header ETag)
[ "$(crl_number "$T/crl1.der")" = "$CRLN" ] ||
    die "served CRL number is $(crl_number "$T/crl1.der"), revoke said $CRLN"
openssl crl -inform DER -in "$T/crl1.der" -noout -text > "$T/crl1.txt"
listed=""
while read -r s; do
	listed="$listed $(norm_hex "$s")"
done < <(sed -n 's/^ *Serial Number: *//p' "$T/crl1.txt")
case " $listed " in
*" $(norm_hex "$SERIAL1") "*) ;;
*) die "the CRL does not list $SERIAL1 (lists:$listed)" ;;
esac
case " $listed " in
*" $(norm_hex "$SERIAL1B") "*) ;;
*) die "the CRL does not list the same-key $SERIAL1B (lists:$listed)" ;;
esac
grep -q 'Key Compromise' "$T/crl1.txt" || die "the CRL entry has no reason keyCompromise"
grep -q 'Revocation Date' "$T/crl1.txt" || die "the CRL entry has no revocation date"
ok "the CRL lists $SERIAL1 with reason Key Compromise, ETag changed"

openssl crl -inform DER -in "$T/crl1.der" -out "$T/crl1.pem"
if openssl verify -crl_check -CRLfile "$T/crl1.pem" -CAfile "$CACERT" \
    "$T/app1.pem" > "$T/v.out" 2>&1; then
	die "openssl verify -crl_check accepted the revoked certificate"
fi
grep -q 'certificate revoked' "$T/v.out" || die "verify failed otherwise: $(cat "$T/v.out")"
if openssl verify -crl_check -CRLfile "$T/crl1.pem" -CAfile "$CACERT" \
    "$T/app1b.pem" > "$T/v.out" 2>&1; then
	die "openssl verify -crl_check accepted the same-key certificate"
fi
openssl verify -crl_check -CRLfile "$T/crl1.pem" -CAfile "$CACERT" \
    "$T/node1.pem" > "$T/v.out" 2>&1 ||
    die "verify -crl_check refused an unrevoked certificate: $(cat "$T/v.out")"
ok "openssl verify -crl_check: revoked fails, other passes"

api GET /v1/crl -H "If-None-Match: $ETAG1"
expect_status 304 "GET /v1/crl with the current ETag"

adm POST "/v1/certificates/$SERIAL1/revoke" '{"reason": "keyCompromise"}'
expect_error 409 already_revoked "second revoke"

adm POST "/v1/certificates/$SERIAL_RSA/revoke" '{"reason": "superseded"}'
expect_status 200 "revoke (superseded)"
CRLN2=$(jb .crl_number)
[ "$CRLN2" -gt "$CRLN" ] || die "crl_number did not grow on the second revocation"
adm GET "/v1/certificates?status=revoked"
[ "$(jb '[.items[].serial] | sort | join(",")')" = \
    "$(printf '%s\n' "$SERIAL1" "$SERIAL1B" "$SERIAL_RSA" | sort | paste -sd,)" ] ||
    die "status=revoked lists $(jb -c '[.items[].serial]')"
ok "second revocation: CRL number $CRLN2, status=revoked filter"

# ---- public listener ----

pub GET /v1/ca.pem
expect_status 200 "public GET /v1/ca.pem"
cp "$T/body" "$T/pub_ca.pem"
same_cert "$T/pub_ca.pem" "$CACERT" || die "public /v1/ca.pem is not the CA"
pub GET /v1/crl
expect_status 200 "public GET /v1/crl"
[ "$(crl_number "$T/body")" = "$CRLN2" ] || die "public CRL is not the current one"
for p in /healthz /readyz /metrics /v1/ca /v1/crl.pem; do
	pub GET "$p"
	expect_status 200 "public GET $p"
done
ok "public listener serves /v1/ca.pem, /v1/crl and the other public routes over HTTP"

pub GET /v1/certificates -H "Authorization: Bearer $ADMIN"
expect_error 404 not_found "public GET /v1/certificates"
pub POST /v1/certificates -H "Authorization: Bearer $ADMIN" \
    -H 'Content-Type: application/json' \
    --data-binary "$(issue_json "$T/app1.csr" redis-client)"
expect_error 404 not_found "public POST /v1/certificates"
for p in /v1/tokens /v1/audit "/v1/certificates/$SERIAL1" "/v1/certificates/$SERIAL1.pem"; do
	pub GET "$p" -H "Authorization: Bearer $ADMIN"
	expect_error 404 not_found "public GET $p"
done

if curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$API_PORT/healthz"; then
	die "the api listener answered plain HTTP"
fi
ok "the api listener does not speak plain HTTP"

# ---- TLS of the api listener ----

# s_client VERSION-FLAG [more args]: 0 when the handshake completes.
s_client()
{
	echo Q | timeout 15 openssl s_client -connect "127.0.0.1:$API_PORT" \
	    -servername localhost -CAfile "$CACERT" -verify_return_error "$@" \
	    > "$T/s_client.out" 2>&1
}

s_client -tls1_3 || die "TLS 1.3 handshake failed: $(tail -5 "$T/s_client.out")"
grep -q 'TLSv1.3' "$T/s_client.out" || die "TLS 1.3 was not negotiated"
grep -q 'Verify return code: 0 (ok)' "$T/s_client.out" ||
    die "the api certificate does not verify against ca.crt"
ok "TLS 1.3 accepted, api certificate verifies for 127.0.0.1/localhost"

s_client -tls1_2 || die "TLS 1.2 handshake failed: $(tail -5 "$T/s_client.out")"
grep -q 'TLSv1.2' "$T/s_client.out" || die "TLS 1.2 was not negotiated"
grep -Eq 'Cipher *: *(ECDHE|DHE)-[A-Z0-9-]*(GCM|CHACHA20)' "$T/s_client.out" ||
    die "TLS 1.2 cipher is not forward-secret AEAD: $(grep 'Cipher' "$T/s_client.out" | head -1)"
grep -q 'Acceptable client certificate CA names' "$T/s_client.out" ||
    die "the api listener does not ask for a client certificate"
ok "TLS 1.2 accepted with a forward-secret AEAD suite; client certificate requested"

# Control: prove this openssl can speak TLS 1.1 at all (else the refusal
# below would be meaningless), against an openssl s_server we start.
ctl_port=$(rca_free_port)
openssl s_server -accept "127.0.0.1:$ctl_port" -cert "$DATA/tls/api.crt" \
    -key "$DATA/tls/api.key" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' -www \
    < /dev/null > "$T/s_server.out" 2>&1 &
ctl_pid=$!
rca_track "$ctl_pid"
ctl_ok=0
for i in $(seq 1 50); do
	if echo Q | timeout 5 openssl s_client -connect "127.0.0.1:$ctl_port" \
	    -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' > "$T/ctl.out" 2>&1; then
		ctl_ok=1
		break
	fi
	kill -0 "$ctl_pid" 2>/dev/null || break
	sleep 0.1
done
rca_kill_pid "$ctl_pid"
[ "$ctl_ok" = 1 ] || die "control: local openssl cannot do TLS 1.1 even with itself"

if s_client -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'; then
	die "the api listener accepted TLS 1.1"
fi
if s_client -tls1 -cipher 'DEFAULT:@SECLEVEL=0'; then
	die "the api listener accepted TLS 1.0"
fi
ok "TLS 1.0 and 1.1 refused (control: this openssl speaks TLS 1.1)"

if s_client -tls1_2 -cipher 'ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:AES128-SHA:AES128-GCM-SHA256'; then
	die "the api listener accepted a CBC or non-forward-secret suite"
fi
ok "CBC and static-RSA suites refused on TLS 1.2"

# ---- token delete ----

adm POST /v1/tokens '{"kind": "enroll", "profile": "redis-client",
    "names": ["tmp-*"], "uses": 1, "ttl": "1h"}'
expect_status 201 "POST /v1/tokens (to delete)"
DEL_ID=$(jb .id)
DEL_TOKEN=$(jb .token)
adm DELETE "/v1/tokens/$DEL_ID"
expect_status 204 "DELETE /v1/tokens/{id}"
adm GET "/v1/tokens/$DEL_ID"
expect_error 404 not_found "GET a deleted token"
make_csr tmp1 ec-p256 tmp-1
tok "$DEL_TOKEN" POST /v1/certificates "$(issue_json "$T/tmp1.csr" redis-client)"
expect_error 401 unauthorized "issue with a deleted token"
ok "DELETE /v1/tokens/{id}: the token no longer authenticates"

# A refused attempt, for the audit log.
make_csr evil ec-p256 evil.example.com
tok "$ENROLL" POST /v1/certificates "$(issue_json "$T/evil.csr" redis-client)"
expect_error 403 name_not_allowed "enroll token, name outside its patterns"

# ---- metrics ----

api GET /metrics
expect_status 200 "GET /metrics"
cp "$T/body" "$T/metrics.txt"
for m in redisca_certificates_issued_total redisca_certificates_revoked_total \
    redisca_certificates_active redisca_crl_number \
    redisca_crl_next_update_timestamp_seconds \
    redisca_ca_expiry_timestamp_seconds \
    redisca_http_requests_total redisca_http_request_duration_seconds; do
	grep -q "^# TYPE $m " "$T/metrics.txt" || die "/metrics has no # TYPE for $m"
done
# The node metrics come with the node routes (a later issue): required
# as soon as /v1/nodes exists.
adm GET /v1/nodes
if [ "$STATUS" != 404 ]; then
	for m in redisca_node_cert_expiry_timestamp_seconds redisca_rotations_total \
	    redisca_node_drift redisca_rotations_in_flight; do
		grep -q "^# TYPE $m " "$T/metrics.txt" || die "/metrics has no # TYPE for $m"
	done
	grep -qx 'redisca_rotations_in_flight 0' "$T/metrics.txt" ||
	    die "redisca_rotations_in_flight is not 0 without nodes"
	ok "/metrics has the node metrics (drift and rotations in flight too)"
fi
# SPEC section 11: no node, no group; the fleet routes are admin only.
adm GET /v1/groups
expect_status 200 "GET /v1/groups without nodes"
schema_check GroupList "$T/body" "GET /v1/groups"
[ "$(jb '.items | length')" = 0 ] || die "groups without nodes: $(body)"
adm GET '/v1/nodes?status=drift'
expect_status 200 "GET /v1/nodes?status=drift"
schema_check NodePage "$T/body" "?status=drift"
adm GET '/v1/nodes?status=broken'
expect_error 400 invalid_request "GET /v1/nodes?status=broken"
expect_message_has status
tok "$ENROLL" GET /v1/groups
expect_error 403 forbidden "GET /v1/groups with an enroll token"
grep -q '^redisca_http_request_duration_seconds_bucket{.*le="+Inf"' "$T/metrics.txt" ||
    die "redisca_http_request_duration_seconds is not a histogram"
grep -q '^redisca_http_request_duration_seconds_count' "$T/metrics.txt" ||
    die "the duration histogram has no _count"
v=$(awk '$1 == "redisca_crl_number" { print $2 }' "$T/metrics.txt")
[ "$v" = "$CRLN2" ] || die "redisca_crl_number is '$v', want $CRLN2"
v=$(awk '$1 == "redisca_certificates_revoked_total" { print $2 }' "$T/metrics.txt")
# SERIAL1, its same-key SERIAL1B (keyCompromise) and SERIAL_RSA.
[ "$v" = 3 ] || die "redisca_certificates_revoked_total is '$v', want 3"
v=$(awk '$1 == "redisca_certificates_issued_total{profile=\"redis-node\"}" { print $2 }' "$T/metrics.txt")
[ "$v" = 2 ] || die "issued_total{profile=\"redis-node\"} is '$v', want 2"
grep -q '^redisca_http_requests_total{.*code="201"' "$T/metrics.txt" ||
    die "redisca_http_requests_total has no code=\"201\" series"
ok "/metrics has every SPEC metric with the right values"

# ---- audit ----

: > "$T/audit.jsonl"
after=""
for i in $(seq 1 100); do
	adm GET "/v1/audit?limit=50${after:+&after=$after}"
	expect_status 200 "GET /v1/audit"
	schema_check AuditPage "$T/body" "GET /v1/audit"
	jb -c '.items[]' >> "$T/audit.jsonl"
	after=$(jb '.next // empty')
	[ -n "$after" ] || break
done
[ -z "$after" ] || die "audit pagination did not end"
aq() { jq -s -r "$1" "$T/audit.jsonl"; }
[ "$(aq '[.[].id] | . == (sort | unique)')" = true ] ||
    die "audit ids are not strictly increasing across pages"
[ "$(jq -s --arg s "$SERIAL1" '[.[] | select(.action == "certificate.issue"
    and .outcome == "ok" and .object == $s)] | length' "$T/audit.jsonl")" = 1 ] ||
    die "no certificate.issue ok entry for $SERIAL1"
[ "$(jq -s -r --arg s "$SERIAL1" '[.[] | select(.action == "certificate.issue"
    and .object == $s)][0].actor' "$T/audit.jsonl")" = "token:$ENROLL_ID" ] ||
    die "the issue entry's actor is not token:$ENROLL_ID"
[ "$(jq -s --arg s "$SERIAL1" '[.[] | select(.action == "certificate.revoke"
    and .outcome == "ok" and .object == $s)] | length' "$T/audit.jsonl")" = 1 ] ||
    die "no certificate.revoke ok entry for $SERIAL1"
[ "$(aq '[.[] | select(.action == "certificate.revoke" and .outcome == "denied")] | length')" -ge 1 ] ||
    die "the refused double revoke is not audited as denied"
[ "$(aq '[.[] | select(.action == "certificate.revoke" and .outcome == "ok")][0].actor')" = \
    "admin:$ADMIN_ID" ] || die "the revoke entry's actor is not admin:$ADMIN_ID"
[ "$(jq -s --arg id "$ENROLL_ID" '[.[] | select(.action == "token.create"
    and .outcome == "ok" and .object == $id)] | length' "$T/audit.jsonl")" = 1 ] ||
    die "no token.create ok entry for $ENROLL_ID"
[ "$(jq -s --arg id "$DEL_ID" '[.[] | select(.action == "token.delete"
    and .outcome == "ok" and .object == $id)] | length' "$T/audit.jsonl")" = 1 ] ||
    die "no token.delete ok entry for $DEL_ID"
[ "$(aq '[.[] | select(.action == "certificate.issue" and .outcome == "denied")] | length')" -ge 2 ] ||
    die "refused issuances (deleted token, name outside patterns) are not audited as denied"
[ "$(aq '[.[] | select(.action == "crl.publish" and .outcome == "ok")] | length')" -ge 2 ] ||
    die "no crl.publish entries for the two revocations"
grep -q "$ENROLL" "$T/audit.jsonl" && die "the audit log holds a token string"
grep -q "$ADMIN" "$T/audit.jsonl" && die "the audit log holds the admin token"
ok "GET /v1/audit: issue, revoke, token create/delete, crl.publish ok; denied attempts"

# ---- restart: nothing lost, the CRL number does not go back ----

list_serials
sort "$T/serials" > "$T/serials.before"
adm GET /v1/tokens
jb '[.items[].id] | sort | join(",")' > "$T/tokens.before"
rca_stop
ok "serve exited 0 on SIGTERM"
rca_start
list_serials
sort "$T/serials" > "$T/serials.after"
cmp -s "$T/serials.before" "$T/serials.after" ||
    die "certificates listed before and after the restart differ"
adm GET /v1/tokens
jb '[.items[].id] | sort | join(",")' > "$T/tokens.after"
cmp -s "$T/tokens.before" "$T/tokens.after" || die "tokens differ after the restart"
adm GET "/v1/certificates/$SERIAL1"
[ "$(jb .status)" = revoked ] || die "$SERIAL1 is no longer revoked after the restart"
api GET /v1/crl
cp "$T/body" "$T/crl2.der"
n=$(crl_number "$T/crl2.der")
[ "$n" -ge "$CRLN2" ] || die "the CRL number went back from $CRLN2 to $n"
grep -q 'Key Compromise' <<<"$(openssl crl -inform DER -in "$T/crl2.der" -noout -text)" ||
    die "the CRL after the restart lost the revocation"
# app1's key was revoked for keyCompromise: still blocked after a restart.
tok "$ENROLL" POST /v1/certificates "$(issue_json "$T/app1.csr" redis-client 1h)"
expect_error 422 key_rejected "the keyCompromise key after the restart"
make_csr app1r ec-p256 app-1 "DNS:app-1.svc.internal,IP:10.1.2.3"
tok "$ENROLL" POST /v1/certificates "$(issue_json "$T/app1r.csr" redis-client 1h)"
expect_status 201 "issue after the restart"
S3=$(jb .serial)
adm POST "/v1/certificates/$S3/revoke"
expect_status 200 "revoke without a body, after the restart"
[ "$(jb .revocation_reason)" = unspecified ] ||
    die "revoke without a body gave reason $(jb .revocation_reason), want unspecified"
[ "$(jb .crl_number)" -gt "$n" ] || die "the CRL number did not grow after the restart"
ok "restart: every certificate and token kept, CRL number $n -> $(jb .crl_number)"

api GET /healthz
expect_status 200 "GET /healthz at the end"
schema_flush
exit 0
