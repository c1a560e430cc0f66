#!/bin/sh
# Regenerate the fixed CA of the pem fuzz target (pem/ca.crt, pem/ca.key)
# and its seed corpus (corpus/pem/) with the openssl command line.  The
# harness verifies client certificates at "the CA's notBefore + 30
# days", so the leaves made here are valid then and expired.der is not.
#
# usage: tests/fuzz/gen_pem_corpus.sh   (from anywhere; replaces every
# file of corpus/pem/, inputs merged by bench/fuzz.sh -s included)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out="$here/corpus/pem"
ca="$here/pem"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out" "$ca"
rm -f "$ca"/ca.crt "$ca"/ca.key "$out"/*

ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:"$1" \
	-out "$2" 2>/dev/null; }

# The fixed CA: P-256, CA:TRUE pathlen:0, keyCertSign+cRLSign, 100 years.
ec P-256 "$ca/ca.key"
openssl req -new -x509 -key "$ca/ca.key" -subj /CN=fuzz-ca -days 36500 \
	-addext 'basicConstraints=critical,CA:TRUE,pathlen:0' \
	-addext 'keyUsage=critical,keyCertSign,cRLSign' \
	-addext 'subjectKeyIdentifier=hash' -out "$ca/ca.crt"

# Another CA, whose leaves must not verify.
ec P-256 "$tmp/other.key"
openssl req -new -x509 -key "$tmp/other.key" -subj /CN=other-ca \
	-days 36500 -addext 'basicConstraints=critical,CA:TRUE' \
	-addext 'keyUsage=critical,keyCertSign,cRLSign' -out "$tmp/other.crt"

# leaf NAME KEYSPEC DAYS EXT [CA-PREFIX]: a DER leaf in corpus/pem/NAME.der
leaf() {
	name=$1 key=$2 days=$3 ext=$4 issuer=${5:-$ca/ca}
	case $key in
	rsa*) openssl genpkey -algorithm RSA \
		-pkeyopt rsa_keygen_bits:"${key#rsa}" -out "$tmp/$name.key" \
		2>/dev/null ;;
	*) ec "$key" "$tmp/$name.key" ;;
	esac
	printf '%s\n' "$ext" >"$tmp/$name.ext"
	openssl req -new -key "$tmp/$name.key" -subj "/CN=$name.redis.internal" \
		-out "$tmp/$name.csr"
	openssl x509 -req -in "$tmp/$name.csr" -CA "$issuer.crt" \
		-CAkey "$issuer.key" -set_serial "0x$(openssl rand -hex 16)" \
		-days "$days" -sha256 -extfile "$tmp/$name.ext" \
		-outform DER -out "$out/$name.der" 2>/dev/null
}

client='basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectAltName=DNS:app.redis.internal,IP:10.0.0.7'
leaf client P-256 18250 "$client"
leaf client-p384 P-384 18250 "$client"
leaf client-rsa rsa2048 18250 "$client"
leaf server P-256 18250 'extendedKeyUsage=serverAuth
subjectAltName=DNS:node-1.redis.internal'
leaf noeku P-256 18250 'subjectAltName=DNS:x.redis.internal'
leaf expired P-256 1 "$client"
leaf badsan P-256 18250 'extendedKeyUsage=clientAuth
subjectAltName=critical,email:a@b.c,URI:redis://x'
leaf secp256k1 secp256k1 18250 "$client"
leaf other-ca P-256 18250 "$client" "$tmp/other"

# PEM forms: a leaf, the CA with its key (the import path succeeds), a
# key before a certificate, a chain, and broken armour.
openssl x509 -inform DER -in "$out/client.der" -out "$out/client.pem"
cat "$ca/ca.crt" "$ca/ca.key" >"$out/ca-with-key.pem"
cat "$tmp/other.key" "$tmp/other.crt" >"$out/key-first.pem"
cat "$out/client.pem" "$ca/ca.crt" >"$out/chain.pem"
openssl x509 -in "$ca/ca.crt" -outform DER -out "$out/ca.der"
head -c 200 "$out/client.pem" >"$out/truncated.pem"
head -c 100 "$out/client.der" >"$out/truncated.der"
printf -- '-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n' \
	>"$out/badbase64.pem"
cp "$out/client.der" "$out/trailing.der" && printf 'x' >>"$out/trailing.der"
echo "wrote $(ls "$out" | wc -l) seeds to $out"
