#!/bin/bash
# Abuse limits (SPEC section 8) against a real `redis-ca serve`, each
# reproducing an attack that worked on 6dde04c:
#   c. POST /v1/renew with {} renews with the same key, like no body
#      (finding 12).
#   b. 1,030 slow connections from 127.0.0.1 (a partial request each)
#      leave /healthz answering 127.0.0.2 within 2 s, on the public and
#      on the api listener (finding 8: limits.max_connections_per_ip).
#   a. 10 s of bad-token requests from 127.0.0.1 over 8 keep-alive
#      clients add at most 100 audit rows and get 429 rate_limited with
#      Retry-After, while 127.0.0.2 is served normally with the admin
#      token; one auth.throttled row names 127.0.0.1 (finding 7).
# The whole 127.0.0.0/8 is loopback on Linux: 127.0.0.2 is "another
# address" without any set-up.  About 30 s.
#
# usage: test_abuse.sh PATH-TO-redis-ca
. "$(dirname "$0")/lib.sh"

rca_setup "${1:-}"
rca_init
rca_start
T=$RCA_TMP
OTHER=127.0.0.2

# adm2 METHOD PATH [JSON]: an admin call from the other address.
adm2()
{
	if [ $# -ge 3 ]; then
		api "$1" "$2" --interface "$OTHER" \
		    -H "Authorization: Bearer $ADMIN" \
		    -H 'Content-Type: application/json' --data-binary "$3"
	else
		api "$1" "$2" --interface "$OTHER" \
		    -H "Authorization: Bearer $ADMIN"
	fi
}

# audit_max: the highest audit id so far.
audit_max()
{
	local after=0 next
	while :; do
		adm2 GET "/v1/audit?limit=1000&after=$after"
		expect_status 200 "GET /v1/audit"
		next=$(jb '.next // empty')
		[ -n "$next" ] || break
		after=$next
	done
	jb --argjson a "$after" '[.items[].id] | max // $a'
}

pubkey() { openssl x509 -in "$1" -noout -pubkey; }

# ==== c. POST /v1/renew with {} ====

adm2 POST /v1/certificates/generate '{"profile": "redis-client",
    "common_name": "abuse-1", "ttl": "1h"}'
expect_status 201 "generate abuse-1"
jb .certificate > "$T/c1.crt"
jb .private_key > "$T/c1.key"
api POST /v1/renew --interface "$OTHER" --cert "$T/c1.crt" \
    --key "$T/c1.key" -H 'Content-Type: application/json' --data-binary '{}'
expect_status 201 "renew with {}"
schema_check IssuedCertificate "$T/body" "POST /v1/renew with {}"
jb .certificate > "$T/r1.crt"
[ "$(pubkey "$T/r1.crt")" = "$(pubkey "$T/c1.crt")" ] ||
    die "renew with {} changed the public key"
[ "$(jb .common_name)" = abuse-1 ] || die "renew with {} changed the name"
api POST /v1/renew --interface "$OTHER" --cert "$T/c1.crt" \
    --key "$T/c1.key" -H 'Content-Type: application/json' \
    --data-binary '{"csr": 5}'
expect_error 400 invalid_request "renew with a csr that is not a string"
ok "renew with {}: 201, same key and names (as without a body)"

# ==== b. 1,030 slow connections from one address ====

# slow_check NAME PORT MODE URL [curl args]: hold 1,030 partial requests
# from 127.0.0.1 on PORT, then time GET URL from 127.0.0.2.
slow_check()
{
	local name=$1 port=$2 mode=$3 url=$4 pid i line took code
	shift 4
	rm -f "$T/slow.ready" "$T/slow.done"
	python3 "$RCA_LIB_DIR/abuse_slow.py" 127.0.0.1 "$port" 1030 "$mode" \
	    "$T/slow.ready" "$T/slow.done" 2> "$T/slow.err" &
	pid=$!
	rca_track "$pid"
	for i in $(seq 1 900); do
		[ -f "$T/slow.ready" ] && break
		kill -0 "$pid" 2>/dev/null ||
		    die "abuse_slow.py exited: $(cat "$T/slow.err")"
		sleep 0.1
	done
	[ -f "$T/slow.ready" ] || die "1,030 connections not opened in 90 s"
	read -r opened alive < "$T/slow.ready"
	log "$name: $opened connections opened from 127.0.0.1, $alive held by the server"
	line=$(curl -sS -o "$T/body" --max-time 2 --interface "$OTHER" \
	    --cacert "$CACERT" -w '%{http_code} %{time_total}' "$@" "$url") ||
	    line="000 timeout"
	touch "$T/slow.done"
	rca_kill_pid "$pid"
	read -r code took <<< "$line"
	[ "$code" = 200 ] ||
	    die "$name: /healthz from $OTHER: HTTP $code under 1,030 slow connections"
	[ "$alive" -le 64 ] ||
	    die "$name: the server holds $alive connections of one address (cap 64)"
	log "$name: curl --interface $OTHER $url: 200 in ${took}s"
	ok "$name listener: /healthz answers $OTHER in ${took}s while 127.0.0.1 holds $alive slow connections (of 1030)"
}

slow_check public "$PUB_PORT" plain "$PUB/healthz"
slow_check api "$API_PORT" tls "$API/healthz"

# ==== a. bad-token flood ====

before=$(audit_max)
python3 "$RCA_LIB_DIR/abuse_flood.py" 127.0.0.1 "$API_PORT" "$CACERT" \
    "$ADMIN" 10 8 > "$T/flood.json" 2> "$T/flood.err" ||
    die "abuse_flood.py failed: $(cat "$T/flood.err")"
log "flood: $(cat "$T/flood.json")"
after=$(audit_max)
added=$((after - before))
n429=$(jq '.flood["429"] // 0' "$T/flood.json")
n401=$(jq '.flood["401"] // 0' "$T/flood.json")
[ "$added" -le 100 ] ||
    die "10 s of bad tokens added $added audit rows (at most 100)"
[ "$n429" -gt 0 ] || die "the flood got no 429"
# Requests already past the check when the limit was reached still get
# their 401 (at most one per client), but no audit row.
[ "$n401" -le 28 ] || die "the flood got $n401 401s (limit 20, 8 clients)"
[ "$(jq '.bad_429_count' "$T/flood.json")" = 0 ] ||
    die "429s without a Retry-After of 1..60 s or code rate_limited: $(jq -c .bad_429 "$T/flood.json")"
[ "$(jq -r '.other.statuses | keys | join(",")' "$T/flood.json")" = 200 ] ||
    die "$OTHER was not served normally: $(jq -c .other "$T/flood.json")"
ok "10 s flood: $added audit rows added, $n429 answers 429 with Retry-After, $n401 401; $OTHER got only 200 (worst $(jq '.other.max_ms | floor' "$T/flood.json") ms)"

# One auth.throttled row, by the address, in the rows the flood added.
adm2 GET "/v1/audit?limit=1000&after=$before"
[ "$(jb '[.items[] | select(.action == "auth.throttled")] | length')" = 1 ] ||
    die "want one auth.throttled row, got $(jb -c '[.items[] | select(.action == "auth.throttled")]')"
[ "$(jb '.items[] | select(.action == "auth.throttled") |
    "\(.actor) \(.object) \(.outcome)"')" = "ip:127.0.0.1 127.0.0.1 denied" ] ||
    die "auth.throttled row: $(jb -c '.items[] | select(.action == "auth.throttled")')"
schema_check AuditPage "$T/body" "GET /v1/audit after the flood"
ok "one auth.throttled row: actor ip:127.0.0.1, outcome denied"

# Still throttled: any credential from 127.0.0.1 gets 429, even a good
# one; no credential is a plain 401; public routes are not affected.
api GET /v1/certificates -H "Authorization: Bearer $ADMIN"
expect_error 429 rate_limited "the admin token from the throttled address"
ra=$(header Retry-After)
[ -n "$ra" ] && [ "$ra" -ge 1 ] && [ "$ra" -le 60 ] ||
    die "Retry-After '$ra', want 1..60"
api GET /v1/certificates
expect_error 401 unauthorized "no credential from the throttled address"
pub GET /healthz
expect_status 200 "/healthz from the throttled address"
# A client certificate is a credential too (POST /v1/renew).
api POST /v1/renew --cert "$T/c1.crt" --key "$T/c1.key"
expect_error 429 rate_limited "a client certificate from the throttled address"
api POST /v1/renew --interface "$OTHER" --cert "$T/c1.crt" --key "$T/c1.key"
expect_status 201 "the same client certificate from $OTHER"
adm2 GET /v1/certificates
expect_status 200 "the admin token from $OTHER"
ok "throttled address: token and client certificate 429 (Retry-After $ra s), none 401, public 200; $OTHER 200/201"

schema_flush
