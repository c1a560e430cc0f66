#!/bin/bash
# End-to-end: 8 parallel clients issue 500 certificates in all through
# POST /v1/certificates.  Every request must succeed, every serial must
# be distinct, and GET /v1/certificates (paginated) must list exactly
# those 500.
#
# usage: test_concurrency.sh PATH-TO-redis-ca
. "$(dirname "$0")/lib.sh"

TOTAL=${RCA_CONC_TOTAL:-500}
WORKERS=${RCA_CONC_WORKERS:-8}

rca_setup "${1:-}"
rca_init
rca_start
T=$RCA_TMP

list_serials
BASE=$NSERIALS		# init's own certificates, if it lists them
sort -u "$T/serials" > "$T/serials.base"

make_csr conc ec-p256 conc-client "DNS:conc.svc.internal"
issue_json "$T/conc.csr" redis-client 1h > "$T/req.json"
mkdir -p "$T/out"

# worker W N: issue N certificates one after the other.  Runs in the
# background: it only records, the parent judges.
worker()
{
	local w=$1 n=$2 i
	for i in $(seq 1 "$n"); do
		curl -s --max-time 60 --cacert "$CACERT" -X POST \
		    -H "Authorization: Bearer $ADMIN" \
		    -H 'Content-Type: application/json' \
		    --data-binary "@$T/req.json" \
		    -o "$T/out/$w-$i.json" -w '%{http_code}\n' \
		    "$API/v1/certificates" >> "$T/out/$w.codes" 2>> "$T/out/$w.err" ||
		    echo "curl-failed" >> "$T/out/$w.codes"
	done
}

start=$(date +%s)
pids=()
for w in $(seq 0 $((WORKERS - 1))); do
	n=$((TOTAL / WORKERS))
	[ "$w" -lt $((TOTAL % WORKERS)) ] && n=$((n + 1))
	worker "$w" "$n" &
	pids+=($!)
	rca_track "$!"
done
for p in "${pids[@]}"; do
	wait "$p"
done
elapsed=$(( $(date +%s) - start ))
log "$TOTAL issuances by $WORKERS clients in ${elapsed}s"

cat "$T"/out/*.codes > "$T/codes"
[ "$(wc -l < "$T/codes")" = "$TOTAL" ] ||
    die "$(wc -l < "$T/codes") answers recorded, want $TOTAL"
bad=$(grep -vc '^201$' "$T/codes")
if [ "$bad" != 0 ]; then
	sort "$T/codes" | uniq -c >&2
	f=$(grep -L '"serial"' "$T"/out/*-*.json 2>/dev/null | head -n 1)
	[ -n "$f" ] && log "one failed answer: $(head -c 500 "$f")"
	die "$bad of $TOTAL concurrent issuances did not answer 201"
fi
ok "$TOTAL concurrent POST /v1/certificates answered 201"

jq -r .serial "$T"/out/*-*.json > "$T/issued" || die "an answer is not JSON"
[ "$(sort -u "$T/issued" | wc -l)" = "$TOTAL" ] ||
    die "$(sort -u "$T/issued" | wc -l) distinct serials among $TOTAL answers"
ok "$TOTAL distinct serials issued"

RCA_PAGE=37 list_serials
[ "$NSERIALS" = $((BASE + TOTAL)) ] ||
    die "GET /v1/certificates lists $NSERIALS, want $BASE + $TOTAL"
[ "$(sort -u "$T/serials" | wc -l)" = "$NSERIALS" ] ||
    die "pagination listed a serial twice"
sort -u "$T/issued" > "$T/issued.sorted"
sort -u "$T/serials" | comm -23 - "$T/serials.base" > "$T/listed.sorted"
cmp -s "$T/issued.sorted" "$T/listed.sorted" ||
    die "the listed serials are not the issued ones"
ok "GET /v1/certificates (pages of 37) lists exactly the $TOTAL serials"

api GET /healthz
expect_status 200 "GET /healthz after the load"
exit 0
