#!/bin/bash
# End-to-end: 8 parallel clients revoke 48 certificates in all through
# POST /v1/certificates/{serial}/revoke (revocations share CRL builds).
# Every revoke answers 200 with a crl_number that grows for each client;
# the CRL served afterwards verifies and lists all 48; its ETag names its
# number and a matching If-None-Match gets 304; /v1/crl.pem is the same
# CRL.
#
# usage: test_crl_revokes.sh PATH-TO-redis-ca
. "$(dirname "$0")/lib.sh"

WORKERS=8
PER=6

rca_setup "${1:-}"
rca_init
rca_start
T=$RCA_TMP

make_csr crlr ec-p256 crlr-client "DNS:crlr.svc.internal"
issue_json "$T/crlr.csr" redis-client 1h > "$T/req.json"
for i in $(seq 1 $((WORKERS * PER))); do
	adm POST /v1/certificates "$(cat "$T/req.json")"
	expect_status 201 "issue $i"
	jb .serial >> "$T/serials"
done
ok "$((WORKERS * PER)) certificates issued"

# worker W: revoke its PER serials one after the other, recording each
# answer's status and crl_number.
worker()
{
	local w=$1 s
	for s in $(sed -n "$((w * PER + 1)),$(((w + 1) * PER))p" \
	    "$T/serials"); do
		curl -s --max-time 60 --cacert "$CACERT" -X POST \
		    -H "Authorization: Bearer $ADMIN" \
		    -H 'Content-Type: application/json' \
		    --data-binary '{"reason":"superseded"}' \
		    -o "$T/$w.json" -w '%{http_code}' \
		    "$API/v1/certificates/$s/revoke" >> "$T/$w.codes" ||
		    echo -n curl-failed >> "$T/$w.codes"
		echo " $(jq -r .crl_number "$T/$w.json" 2>/dev/null)" \
		    >> "$T/$w.codes"
	done
}

pids=()
for w in $(seq 0 $((WORKERS - 1))); do
	worker "$w" &
	pids+=($!)
	rca_track "$!"
done
for p in "${pids[@]}"; do
	wait "$p"
done
max=0
for w in $(seq 0 $((WORKERS - 1))); do
	prev=0
	while read -r code num; do
		[ "$code" = 200 ] || die "worker $w: a revoke answered $code"
		[ "$num" -gt "$prev" ] 2>/dev/null ||
		    die "worker $w: crl_number $num after $prev"
		prev=$num
		[ "$num" -gt "$max" ] && max=$num
	done < "$T/$w.codes"
done
ok "$((WORKERS * PER)) parallel revokes answered 200, crl_number growing"

pub GET /v1/crl
expect_status 200 "GET /v1/crl"
cp "$T/body" "$T/crl.der"
openssl crl -inform DER -in "$T/crl.der" -noout -CAfile "$CACERT" \
    > "$T/crlv.out" 2>&1 || die "CRL does not verify: $(cat "$T/crlv.out")"
grep -q 'verify OK' "$T/crlv.out" || die "CRL signature not verified"
n=$(openssl crl -inform DER -in "$T/crl.der" -noout -crlnumber) ||
    die "openssl cannot read the CRL number"
n=${n#crlNumber=}
n=$(printf '%d' "0x${n#0x}") || die "CRL number $n is not a number"
[ "$n" -ge "$max" ] || die "CRL number $n below $max"
openssl crl -inform DER -in "$T/crl.der" -noout -text |
    sed -n 's/^ *Serial Number: *//p' | tr 'A-F' 'a-f' |
    sed 's/^0*//' | sort > "$T/listed"
sed 's/^0*//' "$T/serials" | sort > "$T/want"
[ "$(comm -13 "$T/listed" "$T/want" | wc -l)" = 0 ] ||
    die "the CRL lacks $(comm -13 "$T/listed" "$T/want" | head -n 3)"
ok "the CRL served verifies and lists all $((WORKERS * PER))"

etag=$(header ETag)
[ "$etag" = "\"crl-$n\"" ] || die "ETag $etag for CRL $n"
pub GET /v1/crl -H "If-None-Match: $etag"
expect_status 304 "GET /v1/crl If-None-Match"
ok "ETag names the CRL number; If-None-Match gets 304"

pub GET /v1/crl.pem
expect_status 200 "GET /v1/crl.pem"
openssl crl -in "$T/body" -outform DER -out "$T/crlpem.der" ||
    die "/v1/crl.pem does not parse"
cmp -s "$T/crl.der" "$T/crlpem.der" || die "/v1/crl.pem is another CRL"
ok "/v1/crl.pem is the same CRL"
exit 0
