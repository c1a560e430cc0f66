#!/bin/bash
# End-to-end: SPEC section 8 "Keys in CSRs" against a real `redis-ca
# serve`.  Every request of the CSR seed corpus (tests/fuzz/corpus/csr,
# made by tests/fuzz/gen_csr_corpus) is POSTed: the hostile ones get the
# status and code of their class and write nothing, the valid ones
# (P-256 compressed and uncompressed, P-384, RSA 2048-4096, RSA-PSS) get
# a certificate whose SubjectPublicKeyInfo is the canonical encoding of
# the request's key.  Afterwards the server still answers.
#
# usage: test_csr_rules.sh PATH-TO-redis-ca
. "$(dirname "$0")/lib.sh"

rca_setup "${1:-}"
rca_init
rca_start
T=$RCA_TMP
CORPUS="$RCA_SRC_ROOT/tests/fuzz/corpus/csr"
[ -d "$CORPUS" ] || die "no CSR corpus at $CORPUS"
mkdir -p "$T/csr" "$T/issued"
# Hostile inputs (one is a request labelled CERTIFICATE): not the CA's.
RCA_PYCERTS_SKIP="$T/csr"

# to_pem FILE OUT: corpus files are DER (armoured here, byte for byte:
# openssl would refuse to re-read the hostile ones) or PEM text as is.
to_pem()
{
	case $1 in
	*.pem) cp "$1" "$2" ;;
	*.der)
		{
			echo '-----BEGIN CERTIFICATE REQUEST-----'
			base64 -w 64 "$1"
			echo '-----END CERTIFICATE REQUEST-----'
		} > "$2"
		;;
	esac
}

list_serials
COUNT0=$NSERIALS
NEW=0
NHOSTILE=0

for f in "$CORPUS"/*; do
	name=$(basename "$f")
	stem=${name%.*}
	# Inputs the fuzzer added have no class in their name.
	case $stem in
	ok-* | key-* | bad-* | sig-*) ;;
	*) continue ;;
	esac
	to_pem "$f" "$T/csr/$stem.pem"
	adm POST /v1/certificates "$(issue_json "$T/csr/$stem.pem" redis-node)"
	case $stem in
	ok-*)
		expect_status 201 "$stem"
		jb .certificate > "$T/issued/$stem.crt"
		NEW=$((NEW + 1))
		ok "$stem -> 201"
		;;
	key-*)
		expect_error 422 key_rejected "$stem"
		NHOSTILE=$((NHOSTILE + 1))
		;;
	bad-*)
		expect_error 400 invalid_csr "$stem"
		NHOSTILE=$((NHOSTILE + 1))
		;;
	sig-*)
		expect_error 400 csr_signature_invalid "$stem"
		NHOSTILE=$((NHOSTILE + 1))
		;;
	esac
	case $stem in
	key-ec-infinity) expect_message_has infinity ;;
	key-ec-hybrid) expect_message_has hybrid ;;
	key-rsa-e1 | key-rsa-e3) expect_message_has 65537 ;;
	key-rsa-params-octet) expect_message_has NULL ;;
	bad-version5) expect_message_has version ;;
	bad-two-pem | bad-trailing-text) expect_message_has "one PEM block" ;;
	esac
done
[ "$NEW" -ge 8 ] || die "only $NEW valid requests in the corpus"
[ "$NHOSTILE" -ge 20 ] || die "only $NHOSTILE hostile requests in the corpus"

# The valid ones: each certificate carries the request's key, in the
# canonical encoding (python3-cryptography writes it: named curve,
# uncompressed point; rsaEncryption with NULL parameters).
"$RCA_PY" - "$T/csr" "$T/issued" > "$T/spki.out" 2>&1 <<'EOF' ||
import os, sys
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
csrdir, certdir = sys.argv[1], sys.argv[2]
bad = []
for name in sorted(os.listdir(certdir)):
    stem = name[:-4]
    cert = x509.load_pem_x509_certificate(open(os.path.join(certdir, name), "rb").read())
    req = x509.load_pem_x509_csr(open(os.path.join(csrdir, stem + ".pem"), "rb").read())
    # A fresh key from the numbers: OpenSSL under cryptography would
    # write a decoded key back in the form it was read.
    nums = cert.public_key().public_numbers()
    canon = nums.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    if canon not in cert.tbs_certificate_bytes:
        bad.append(stem + ": the certificate's key is not in canonical form")
    if req.public_key().public_numbers() != nums:
        bad.append(stem + ": the certificate's key is not the request's")
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
EOF
    die "issued keys: $(cat "$T/spki.out")"
ok "$NEW certificates carry the request's key in canonical form"

# The compressed request's certificate has an uncompressed point.
"$RCA_PY" - "$T/issued/ok-p256-compressed.crt" <<'EOF' ||
import sys
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
der = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read()).public_bytes(Encoding.DER)
# SEQUENCE { ecPublicKey, prime256v1 } BIT STRING of 66 octets: 00 04 X Y
prefix = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200" "04")
sys.exit(0 if prefix in der else 1)
EOF
    die "the certificate for a compressed P-256 request has no uncompressed point"
ok "compressed P-256 request -> uncompressed point in the certificate"

api GET /healthz
expect_status 200 "GET /healthz after the hostile requests"
api GET /readyz
expect_status 200 "GET /readyz after the hostile requests"
list_serials
[ "$NSERIALS" = $((COUNT0 + NEW)) ] ||
    die "$NSERIALS certificates listed, want $COUNT0 + $NEW: a refused request wrote one"
ok "certificate count is $COUNT0 + $NEW valid: no hostile request wrote one"
kill -0 "$RCA_SERVE_PID" || die "the server died"
schema_flush
exit 0
