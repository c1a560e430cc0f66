#!/bin/bash
# A real `redis-ca serve` on a PostgreSQL hot standby (SPEC section 9):
# it starts read-only (the schema is current), serves GET routes, the CA
# and the stored CRL, answers write routes with 503 read_only and
# Retry-After 5, says read_only in /readyz and /metrics; once the
# primary is lost and the standby promoted it becomes writable without
# a restart (the scheduler's tick re-checks), issues, leads, and stops
# cleanly.  A standby whose schema is not current is refused at start.
#
# usage: test_standby.sh PATH-TO-redis-ca
set -u
set -o pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pg.sh"

pg_available || { echo "PostgreSQL 15 missing: skipped" >&2; exit 77; }
rca_setup "${1:-}"
rca_init

pg_start a
pg_config_database "${PG_URI[a]}"
"$RCA_BIN" migrate --config "$DATA/config.json" > "$RCA_TMP/migrate.out" \
    2>&1 || die "migrate failed: $(cat "$RCA_TMP/migrate.out")"
"$RCA_BIN" token create --kind admin --config "$DATA/config.json" \
    > "$RCA_TMP/token.out" 2>&1 || die "token create failed"
ADMIN=$(awk '$1 == "token:" {print $2}' "$RCA_TMP/token.out")
[ -n "$ADMIN" ] || die "token create printed no token"
ok "schema and an admin token on the primary"

# A first serve on the primary publishes the CRL the standby will serve.
rca_start
api POST /v1/certificates/generate -H "Authorization: Bearer $ADMIN" \
    -H 'Content-Type: application/json' \
    -d '{"profile":"redis-client","common_name":"app-1"}'
expect_status 201 "issued on the primary"
SERIAL=$(jb .serial)
rca_stop

pg_standby b a
pg_config_database "${PG_URI[b]}"
rca_start
grep -q "serving read-only" "$RCA_TMP/serve.log" ||
    die "serve did not say it serves read-only"
ok "serve starts on the standby and says read-only"

api GET /readyz
expect_status 503 "readyz on the standby"
[ "$(jb .status)" = read_only ] && [ "$(jb .database)" = read_only ] ||
    die "readyz: $(body)"
schema_check Readiness "$RCA_TMP/body" "readyz on the standby"
ok "readyz says read_only"

api GET "/v1/certificates/$SERIAL" -H "Authorization: Bearer $ADMIN"
expect_status 200 "a certificate read on the standby"
pub GET /v1/crl
expect_status 200 "the stored CRL on the standby"
pub GET /v1/ca.pem
expect_status 200 "the CA on the standby"
pub GET /metrics
expect_status 200 "metrics on the standby"
grep -qx 'redisca_db_up 1' "$RCA_TMP/body" ||
    die "metrics: no redisca_db_up 1"
grep -qx 'redisca_scheduler_leader 0' "$RCA_TMP/body" ||
    die "metrics: no redisca_scheduler_leader 0"
ok "GET routes, CA, CRL and metrics served read-only"

api POST /v1/certificates/generate -H "Authorization: Bearer $ADMIN" \
    -H 'Content-Type: application/json' \
    -d '{"profile":"redis-client","common_name":"app-2"}'
expect_error 503 read_only "issue on the standby"
[ "$(header Retry-After)" = 5 ] || die "Retry-After is '$(header Retry-After)'"
api POST "/v1/certificates/$SERIAL/revoke" -H "Authorization: Bearer $ADMIN" \
    -H 'Content-Type: application/json' -d '{}'
expect_error 503 read_only "revoke on the standby"
ok "writes answer 503 read_only with Retry-After 5"

# Failover: the primary dies, the standby is promoted; the running
# serve becomes writable at its next tick (at most 5 s) or readyz.
pg_kill a
pg_promote b
for i in $(seq 1 100); do
	api POST /v1/certificates/generate -H "Authorization: Bearer $ADMIN" \
	    -H 'Content-Type: application/json' \
	    -d '{"profile":"redis-client","common_name":"app-3"}'
	[ "$STATUS" = 201 ] && break
	[ "$STATUS" = 503 ] || die "during promotion: $STATUS $(body)"
	sleep 0.1
done
[ "$STATUS" = 201 ] || die "no issuance within 10 s of the promotion"
ok "promoted: issues without a restart"
for i in $(seq 1 100); do
	pub GET /metrics
	grep -qx 'redisca_scheduler_leader 1' "$RCA_TMP/body" && break
	sleep 0.1
done
grep -qx 'redisca_scheduler_leader 1' "$RCA_TMP/body" ||
    die "the promoted instance never became the leader"
api GET /readyz
expect_status 200 "readyz after the promotion"
schema_check Readiness "$RCA_TMP/body" "readyz after the promotion"
ok "the promoted instance leads and is ready"
rca_stop
ok "serve stops cleanly"

# A standby whose database lacks the schema is refused with a reason.
pg_sql b "CREATE DATABASE empty OWNER rca" >/dev/null ||
    die "cannot create database empty"
pg_standby c b
pg_config_database "postgresql://rca@127.0.0.1:${PG_PORT[c]}/empty"
"$RCA_BIN" serve --config "$DATA/config.json" > "$RCA_TMP/refused.out" 2>&1 &&
    die "serve started on a standby without the schema"
grep -q "migrate on the primary" "$RCA_TMP/refused.out" ||
    die "refusal without its reason: $(cat "$RCA_TMP/refused.out")"
ok "a standby without the current schema is refused (migrate on the primary)"

schema_flush
log "$RCA_CHECKS checks passed"
