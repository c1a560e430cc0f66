#!/bin/bash
# End-to-end: Redis nodes through the API of a real `redis-ca serve`.
# A TLS-only redis-server runs on the block from GET .../redis.conf
# (with a bootstrap certificate from /generate); it is registered,
# rotated (200, the new serial served, the old one revoked as
# superseded), audited (/check, and `redis-ca check` from the command
# line), and shows in /metrics.  A node that is down answers 502
# rotation_failed with the record; a node stuck in its handshake makes a
# second rotation 409.  Bad registrations are 400 naming the field.
#
# usage: test_nodes.sh PATH-TO-redis-ca
. "$(dirname "$0")/lib.sh"

rca_setup "${1:-}"
rca_need redis-server openssl
rca_init
# The scheduler must not race the explicit rotations below.
rca_config_edit '.rotation.check_interval = "1h"'
rca_start
T=$RCA_TMP

# bootstrap NAME: cert_dir $T/NAME with a redis-node pair and the CA.
bootstrap()
{
	mkdir -p "$T/$1"
	adm POST /v1/certificates/generate "$(jq -cn \
	    '{profile: "redis-node", common_name: "localhost",
	      sans: {dns: ["localhost"], ip: ["127.0.0.1"]}}')"
	expect_status 201 "bootstrap certificate for $1"
	jb .certificate > "$T/$1/redis.crt"
	jb .private_key > "$T/$1/redis.key"
	jb .ca_certificate > "$T/$1/ca.crt"
	chmod 0400 "$T/$1/redis.key"
	jb .serial
}

# served PORT: the serial the node presents (openssl s_client).
served()
{
	timeout 10 openssl s_client -connect "127.0.0.1:$1" \
	    -CAfile "$CACERT" -cert "$DATA/tls/admin.crt" \
	    -key "$DATA/tls/admin.key" </dev/null 2>/dev/null |
	    openssl x509 -noout -serial 2>/dev/null | sed 's/^serial=//' |
	    tr 'A-F' 'a-f' | sed 's/^0*//'
}

# start_redis NAME CONF: run redis-server on CONF, wait for its port.
start_redis()
{
	local port=$3 i
	redis-server "$2" > "$T/$1.out" 2>&1 &
	rca_track "$!"
	for i in $(seq 1 100); do
		[ -n "$(served "$port")" ] && return 0
		sleep 0.1
	done
	die "redis $1 did not come up on $port: $(tail -n 5 "$T/$1.log")"
}

# ---- registration refused ----

node_json()
{
	jq -cn --arg name "$1" --argjson port "$2" --arg dir "$3" \
	    '{name: $name, host: "127.0.0.1", port: $port, cert_dir: $dir,
	      sans: {dns: ["localhost"], ip: ["127.0.0.1"]}}'
}

mkdir -p "$T/n1"
adm POST /v1/nodes "$(node_json Bad 6379 "$T/n1")"
expect_error 400 invalid_request "a node name with capitals"
expect_message_has name
adm POST /v1/nodes "$(node_json n1 6379 relative/dir)"
expect_error 400 invalid_request "a relative cert_dir"
expect_message_has cert_dir
adm POST /v1/nodes "$(node_json n1 6379 "$T/n1" | jq -c '.cert_file = "../x.crt"')"
expect_error 400 invalid_request "a cert_file with a slash"
expect_message_has cert_file
adm POST /v1/nodes "$(node_json n1 70000 "$T/n1")"
expect_error 400 invalid_request "port 70000"
expect_message_has port
adm POST /v1/nodes "$(node_json n1 6379 "$T/n1" | jq -c '.extra = 1')"
expect_error 400 invalid_request "an unknown field"
api POST /v1/nodes -H 'Content-Type: application/json' \
    --data-binary "$(node_json n1 6379 "$T/n1")"
expect_error 401 unauthorized "POST /v1/nodes without a token"
[ -z "$(ls -A "$T/n1")" ] || die "a refused registration wrote to cert_dir"

# SPEC section 8: node paths stay inside nodes.allowed_dirs (here $T) and
# out of the data folder; the message never tells whether a path exists.
# (The database and its journal change: the refusals are audited.)
sums_data()
{
	(cd "$DATA" && find . ! -name 'redis-ca.db*' -printf '%p %m %s %T@\n' |
	    sort)
}
sums_data > "$T/data.before"
adm POST /v1/nodes "$(node_json thief 6379 "$DATA")"
expect_error 400 invalid_request "cert_dir = the data folder"
expect_message_has cert_dir
M_DATA=$(jb .error.message)
adm POST /v1/nodes "$(node_json thief 6379 "$DATA" | jq -c '.key_file = "ca.key"')"
expect_error 400 invalid_request "cert_dir = the data folder, key_file = ca.key"
expect_message_has cert_dir
adm POST /v1/nodes "$(node_json thief 6379 "$T/n1" | jq -c '.key_file = "/etc/passwd"')"
expect_error 400 invalid_request "an absolute key_file"
expect_message_has key_file
adm POST /v1/nodes "$(node_json thief 6379 /etc)"
expect_error 400 invalid_request "cert_dir outside nodes.allowed_dirs"
[ "$(jb .error.message)" = "$M_DATA" ] || die "another message for /etc"
adm POST /v1/nodes "$(node_json thief 6379 "$T/no-such-dir")"
expect_error 400 invalid_request "a cert_dir that does not exist"
[ "$(jb .error.message)" = "$M_DATA" ] ||
    die "a missing cert_dir is told apart: $(jb .error.message)"
printf 'pw\n' > "$T/pw.world"
chmod 0644 "$T/pw.world"
for pwf in /etc/shadow /etc/no-such-file "$T/pw.world" "$T/no-such-pw"; do
	adm POST /v1/nodes "$(node_json thief 6379 "$T/n1" |
	    jq -c --arg f "$pwf" '.auth = {username: "app", password_file: $f}')"
	expect_error 400 invalid_request "auth.password_file $pwf"
	expect_message_has auth.password_file
	[ -n "${M_PW:-}" ] || M_PW=$(jb .error.message)
	[ "$(jb .error.message)" = "$M_PW" ] ||
	    die "password_file $pwf: another message: $(jb .error.message)"
	grep -q 'root:' "$T/body" && die "the response holds /etc/shadow"
done
sums_data > "$T/data.after"
cmp -s "$T/data.before" "$T/data.after" ||
    die "a refused registration changed the data folder"
adm GET /v1/nodes/thief
expect_error 404 not_found "no node stored for refused registrations"
ok "node paths outside nodes.allowed_dirs or in the data folder refused alike"

# ---- the node: registered, configured from redis.conf, rotated ----

OLD=$(bootstrap n1) || die "bootstrap of n1 failed"
P1=$(rca_free_port)
adm POST /v1/nodes "$(node_json n1 "$P1" "$T/n1")"
expect_status 201 "POST /v1/nodes"
schema_check Node "$T/body" "POST /v1/nodes"
[ "$(jb .status)" = unknown ] || die "a new node's status is $(jb .status)"
[ "$(jb .last_rotation)" = null ] || die "a new node has a last_rotation"
ok "node n1 registered (status unknown)"
adm POST /v1/nodes "$(node_json n1 "$P1" "$T/n1")"
expect_error 409 already_exists "the same node twice"

adm GET /v1/nodes/n1/redis.conf
expect_status 200 "GET redis.conf"
header Content-Type | grep -q '^text/plain' ||
    die "redis.conf is served as $(header Content-Type)"
grep -qx "tls-port $P1" "$T/body" || die "redis.conf lacks tls-port $P1"
grep -qx 'tls-auth-clients yes' "$T/body" || die "redis.conf lacks tls-auth-clients"
cp "$T/body" "$T/n1.conf"
mkdir -p "$T/n1.data"
printf 'bind 127.0.0.1\ndir %s\nlogfile %s\nsave ""\nappendonly no\n' \
    "$T/n1.data" "$T/n1.log" >> "$T/n1.conf"
start_redis n1 "$T/n1.conf" "$P1"
[ "$(served "$P1")" = "$OLD" ] || die "n1 does not serve its bootstrap serial"
ok "redis-server runs on the redis.conf block verbatim"

adm POST /v1/nodes/n1/rotate
expect_status 200 "POST /v1/nodes/n1/rotate"
schema_check Rotation "$T/body" "rotate"
[ "$(jb .status)" = succeeded ] || die "rotation status $(jb .status)"
[ "$(jb .old_serial)" = "$OLD" ] || die "old_serial $(jb .old_serial), want $OLD"
NEW=$(jb .new_serial)
[ "$(jb '[.steps[].step] | join(",")')" = \
    "connect,issue,write_files,config_set,verify_handshake,ping" ] ||
    die "steps: $(jb '[.steps[].step] | join(",")')"
[ "$(served "$P1")" = "$NEW" ] || die "n1 serves $(served "$P1"), want $NEW"
[ -f "$T/n1/redis.crt.prev" ] || die "no redis.crt.prev kept"
[ "$(stat -c %a "$T/n1/redis.key")" = 400 ] || die "redis.key is not 0400"
ok "rotated: n1 serves $NEW (openssl s_client)"
adm GET "/v1/certificates/$OLD"
expect_status 200 "GET the replaced certificate"
[ "$(jb .status)" = revoked ] && [ "$(jb .revocation_reason)" = superseded ] ||
    die "the replaced certificate is $(jb .status) / $(jb .revocation_reason)"
ok "the replaced certificate is revoked as superseded"

adm GET /v1/nodes/n1
expect_status 200 "GET /v1/nodes/n1"
schema_check Node "$T/body" "GET /v1/nodes/n1"
[ "$(jb .status)" = ok ] && [ "$(jb .current_serial)" = "$NEW" ] &&
    [ "$(jb .last_rotation.status)" = succeeded ] ||
    die "node after rotation: $(body)"
adm GET /v1/nodes
expect_status 200 "GET /v1/nodes"
schema_check NodePage "$T/body" "GET /v1/nodes"
adm GET /v1/nodes/n1/rotations
expect_status 200 "GET rotations"
schema_check RotationPage "$T/body" "GET rotations"
[ "$(jb '.items | length')" = 1 ] || die "want one rotation: $(body)"
ok "node view and history"

# SPEC section 11: the node is its own group, pushed; a successful
# rotation records the serial it serves, so it is no drift.
adm GET /v1/nodes/n1
[ "$(jb .group)" = n1 ] && [ "$(jb .mode)" = push ] &&
    [ "$(jb .served_serial)" = "$NEW" ] && [ "$(jb .drift_since)" = null ] ||
    die "n1's fleet fields after its rotation: $(body)"
adm GET '/v1/nodes?status=ok'
expect_status 200 "GET /v1/nodes?status=ok"
schema_check NodePage "$T/body" "?status=ok"
[ "$(jb '[.items[].name] | index("n1")')" != null ] || die "?status=ok: $(body)"
adm GET '/v1/nodes?status=drift'
[ "$(jb '[.items[].name] | index("n1")')" = null ] || die "n1 drifts: $(body)"
ok "n1: group n1, push, serving $NEW, listed by ?status=ok, not drift"

adm POST /v1/nodes/n1/check
expect_status 200 "POST /v1/nodes/n1/check"
schema_check CheckResult "$T/body" "check"
[ "$(jb .ok)" = true ] ||
    die "check failed: $(jb '[.checks[] | select(.ok | not)]')"
[ "$(jb '.checks | length')" = 13 ] || die "want 13 checks: $(body)"
ok "/check passes every check"

# The same audit from the command line.
"$RCA_BIN" check "127.0.0.1:$P1" --cacert "$CACERT" \
    --cert "$DATA/tls/admin.crt" --key "$DATA/tls/admin.key" \
    > "$T/check.out" 2>&1 || die "redis-ca check failed: $(cat "$T/check.out")"
grep -q '^tls10_refused  *pass' "$T/check.out" || die "no table: $(cat "$T/check.out")"
"$RCA_BIN" check "127.0.0.1:$P1" --cacert "$CACERT" --json > "$T/check.json" ||
    die "redis-ca check --json failed"
[ "$(jq -r .ok "$T/check.json")" = true ] || die "check --json: $(cat "$T/check.json")"
schema_check CheckResult "$T/check.json" "check --json"
"$RCA_BIN" check "127.0.0.1:$P1" > /dev/null 2>&1
[ $? = 2 ] || die "check without --cacert is not a usage error"
ok "redis-ca check: table, --json, usage"

# A legacy node: TLS 1.0/1.1 and no client certificates.
mkdir -p "$T/legacy.data"
PL=$(rca_free_port)
cat > "$T/legacy.conf" <<EOF
port 0
bind 127.0.0.1
tls-port $PL
tls-cert-file $T/n1/redis.crt
tls-key-file $T/n1/redis.key
tls-ca-cert-file $T/n1/ca.crt
tls-protocols "TLSv1 TLSv1.1 TLSv1.2"
tls-ciphers "DEFAULT:@SECLEVEL=0"
tls-auth-clients no
dir $T/legacy.data
logfile $T/legacy.log
save ""
EOF
start_redis legacy "$T/legacy.conf" "$PL"
"$RCA_BIN" check "127.0.0.1:$PL" --cacert "$CACERT" --json > "$T/legacy.json"
[ $? = 1 ] || die "check of a legacy node did not exit 1"
for id in tls10_refused tls11_refused client_cert_required; do
	[ "$(jq -r --arg id "$id" '.checks[] | select(.id == $id) | .ok' \
	    "$T/legacy.json")" = false ] || die "$id passed on the legacy node"
done
ok "redis-ca check flags TLS 1.0, 1.1 and optional client certificates (exit 1)"

# ---- failures ----

mkdir -p "$T/down"
PD=$(rca_free_port)
adm POST /v1/nodes "$(node_json down "$PD" "$T/down")"
expect_status 201 "register a node that is down"
adm POST /v1/nodes/down/rotate
expect_status 502 "rotate a node that is down"
schema_check RotationFailed "$T/body" "rotation_failed"
[ "$(jb .error.code)" = rotation_failed ] && [ "$(jb .status)" = failed ] &&
    [ "$(jb '.steps[0].step')" = connect ] ||
    die "502 body: $(body)"
[ -z "$(ls -A "$T/down")" ] || die "a failed pre-flight wrote files"
adm GET /v1/nodes/down
[ "$(jb .status)" = rotation_failed ] || die "down's status is $(jb .status)"
ok "node down: 502 rotation_failed with the record, nothing written"

# A listener that accepts but never speaks TLS holds a rotation in its
# connect step (5 s), so a second one overlaps it.
rca_silent_listener
mkdir -p "$T/slow"
adm POST /v1/nodes "$(node_json slow "$PS" "$T/slow")"
expect_status 201 "register a slow node"
rca_rotate_running slow
adm POST /v1/nodes/slow/rotate
expect_error 409 conflict "a second rotation of the same node"
adm DELETE /v1/nodes/slow
expect_error 409 conflict "deleting a node while it rotates"
wait "$ROT_PID"
[ "$(cat "$T/slow.rotate.status")" = 502 ] ||
    die "the slow rotation answered $(cat "$T/slow.rotate.status")"

# ---- metrics, audit, delete ----

pub GET /metrics
expect_status 200 "GET /metrics"
grep -q "^redisca_node_cert_expiry_timestamp_seconds{node=\"n1\"} [0-9]" "$T/body" ||
    die "no expiry series for n1"
grep -qx 'redisca_rotations_total{node="n1",status="succeeded"} 1' "$T/body" ||
    die "no rotations_total for n1"
grep -qx 'redisca_rotations_total{node="down",status="failed"} 1' "$T/body" ||
    die "no failed rotation counted for down"
grep -qx 'redisca_node_drift{node="n1"} 0' "$T/body" ||
    die "no redisca_node_drift 0 for n1"
grep -q '^redisca_rotations_in_flight [0-9]' "$T/body" ||
    die "no redisca_rotations_in_flight"
ok "/metrics has the node series (drift, rotations in flight)"

adm GET '/v1/audit?limit=1000'
for a in node.create node.rotate; do
	[ "$(jb --arg a "$a" '[.items[] | select(.action == $a and .outcome == "ok")] | length')" -ge 1 ] ||
	    die "no $a ok in the audit log"
done
[ "$(jb '[.items[] | select(.action == "node.rotate" and .outcome == "denied")] | length')" -ge 1 ] ||
    die "the 409 was not audited as denied"
ok "audit: node.create, node.rotate (ok, denied)"

adm DELETE /v1/nodes/down
expect_status 204 "DELETE /v1/nodes/down"
adm GET /v1/nodes/down
expect_error 404 not_found "GET a deleted node"
adm GET /v1/nodes/down/rotations
expect_error 404 not_found "rotations of a deleted node"

schema_flush
log "PASS ($RCA_CHECKS checks)"
