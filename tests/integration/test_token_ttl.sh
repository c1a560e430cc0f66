#!/bin/bash
# Token lifetimes (SPEC section 8, "Tokens"), end to end against a real
# `redis-ca serve`: an enroll token without ttl expires in about 24h, an
# admin token in about 90d; above tokens.max_enroll_ttl, or "never" for
# an enroll token, is 400 invalid_ttl; "never" is explicit for admin;
# `redis-ca token create` follows the same rules; the first admin token
# (init) expires in about 90 days.
#
# usage: test_token_ttl.sh PATH-TO-redis-ca
. "$(dirname "$0")/lib.sh"

rca_setup "${1:-}"
rca_init
rca_config_edit '.tokens = {"max_enroll_ttl": "7d"}'
rca_start
T=$RCA_TMP

# expires_in: seconds from now to the last body's expires_at.
expires_in()
{
	echo $(( $(date -u -d "$(jb .expires_at)" +%s) - $(date -u +%s) ))
}

# about SECONDS WHAT: expires_at is SECONDS from now (within a minute).
about()
{
	local d
	d=$(expires_in)
	[ "$d" -gt $(( $1 - 60 )) ] && [ "$d" -le $(( $1 + 5 )) ] ||
	    die "$2: expires in $d s, want about $1 s"
	ok "$2: expires_at about $1 s from now"
}

adm POST /v1/tokens '{"kind": "enroll", "profile": "redis-client",
    "names": ["app-*"]}'
expect_status 201 "enroll token without ttl"
schema_check TokenCreated "$T/body" "POST /v1/tokens (enroll, no ttl)"
about 86400 "enroll token without ttl"

adm POST /v1/tokens '{"kind": "enroll", "profile": "redis-client",
    "names": ["app-*"], "ttl": "7d"}'
expect_status 201 "enroll token at tokens.max_enroll_ttl"
about 604800 "enroll token of 7d"
adm POST /v1/tokens '{"kind": "enroll", "profile": "redis-client",
    "names": ["app-*"], "ttl": "8d"}'
expect_error 400 invalid_ttl "enroll ttl above tokens.max_enroll_ttl"
expect_message_has "tokens.max_enroll_ttl"
adm POST /v1/tokens '{"kind": "enroll", "profile": "redis-client",
    "names": ["app-*"], "ttl": "never"}'
expect_error 400 invalid_ttl "enroll ttl never"

adm POST /v1/tokens '{"kind": "admin"}'
expect_status 201 "admin token without ttl"
about 7776000 "admin token without ttl"
adm POST /v1/tokens '{"kind": "admin", "ttl": "never"}'
expect_status 201 "admin token, ttl never"
schema_check TokenCreated "$T/body" "POST /v1/tokens (admin, never)"
[ "$(jb .expires_at)" = null ] || die "never: expires_at $(jb .expires_at)"
ok "admin token with an explicit never: expires_at null"
NEVER=$(jb .token)
tok "$NEVER" GET /v1/tokens
expect_status 200 "the never-expiring admin token works"

# The first admin token (init) is an admin token of 90 days.
adm GET /v1/tokens
ID=$(jq -r '.items[] | select(.description == "first admin token (redis-ca init)") | .id' "$T/body")
[ -n "$ID" ] || die "the init token is not listed"
adm GET "/v1/tokens/$ID"
expect_status 200 "GET the init token"
about 7776000 "the first admin token"

# The CLI: the same defaults and refusals.
"$RCA_BIN" token create --kind enroll --profile redis-client \
    --name 'app-*' --config "$DATA/config.json" > "$T/cli.out" 2>&1 ||
    die "token create (enroll, no --ttl) failed: $(cat "$T/cli.out")"
EXP=$(awk '/^expires at:/ { print $3 }' "$T/cli.out")
D=$(( $(date -u -d "$EXP" +%s) - $(date -u +%s) ))
[ "$D" -gt 86340 ] && [ "$D" -le 86405 ] ||
    die "CLI enroll token expires in $D s, want about 24h"
ok "CLI enroll token without --ttl: about 24h"
"$RCA_BIN" token create --kind enroll --profile redis-client \
    --name 'app-*' --ttl never --config "$DATA/config.json" \
    > "$T/cli.out" 2>&1 && die "CLI enroll --ttl never was accepted"
grep -q "never" "$T/cli.out" || die "CLI refusal does not say why: $(cat "$T/cli.out")"
"$RCA_BIN" token create --kind enroll --profile redis-client \
    --name 'app-*' --ttl 30d --config "$DATA/config.json" \
    > "$T/cli.out" 2>&1 && die "CLI enroll --ttl 30d (above 7d) was accepted"
ok "CLI refuses an enroll token that never expires or outlives the cap"
"$RCA_BIN" token create --kind admin --ttl never \
    --config "$DATA/config.json" > "$T/cli.out" 2>&1 ||
    die "CLI admin --ttl never failed: $(cat "$T/cli.out")"
grep -q "^expires at: never" "$T/cli.out" || die "CLI admin never: $(cat "$T/cli.out")"
ok "CLI admin token with --ttl never"

schema_flush
