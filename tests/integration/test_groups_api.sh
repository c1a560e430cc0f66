#!/bin/bash
# The fleet routes (SPEC section 11) at the HTTP level, against a real
# `redis-ca serve`: node fields and "group" in POST /v1/nodes, GET
# /v1/groups, POST /v1/groups/{group}/rotate (404, 401/403, 400, 405,
# and 502 "stopped" with the later members skipped when a member is
# down), GET /v1/nodes?status= (drift made by a pull node whose served
# serial differs from its recorded one; 400 for other words), POST
# /v1/nodes/report over mTLS with curl --cert (a rotation report, a
# check-in, drift and its end; refusals 401/403/409/400/413, 404 on the
# public listener), the metrics, the audit.  After the bad inputs the
# server still answers.  Every answer's shape is checked against
# openapi/redis-ca.yaml.
#
# usage: test_groups_api.sh PATH-TO-redis-ca
. "$(dirname "$0")/lib.sh"

rca_setup "${1:-}"
rca_init
# The scheduler must not rotate the registered (unreachable) nodes.
rca_config_edit '.rotation.check_interval = "1h"'
rca_start
T=$RCA_TMP

node_json()
{
	jq -cn --arg name "$1" --arg dir "$2" --argjson port "$3" \
	    '{name: $name, host: "127.0.0.1", port: $port, cert_dir: $dir,
	      sans: {ip: ["127.0.0.1"]}}'
}

# rep CERT-TAG BODY: POST /v1/nodes/report with $T/TAG.crt and .key.
rep()
{
	api POST /v1/nodes/report --cert "$T/$1.crt" --key "$T/$1.key" \
	    -H 'Content-Type: application/json' --data-binary "$2"
}

# issue PROFILE CN TAG: a certificate (generate) into $T/TAG.crt/.key;
# prints its serial.
issue()
{
	adm POST /v1/certificates/generate "$(jq -cn --arg p "$1" --arg cn "$2" \
	    '{profile: $p, common_name: $cn, sans: {dns: [$cn]}}')"
	expect_status 201 "generate $1 $2"
	jb .certificate > "$T/$3.crt"
	jb .private_key > "$T/$3.key"
	chmod 0600 "$T/$3.key"
	jb .serial
}

now() { date -u +%Y-%m-%dT%H:%M:%SZ; }

# ---- POST /v1/nodes with a group; the node's new fields ----

DOWN=$(rca_free_port)
for n in g-b g-a solo; do
	mkdir -p "$T/$n"
done
adm POST /v1/nodes "$(node_json g-b "$T/g-b" "$DOWN" | jq -c '.group = "cache"')"
expect_status 201 "POST /v1/nodes with a group"
schema_check Node "$T/body" "node with a group"
[ "$(jb .group)" = cache ] && [ "$(jb .mode)" = push ] &&
    [ "$(jb .role)" = null ] && [ "$(jb .served_serial)" = null ] &&
    [ "$(jb .drift_since)" = null ] && [ "$(jb .last_report_at)" = null ] ||
    die "a new node's fleet fields: $(body)"
adm POST /v1/nodes "$(node_json g-a "$T/g-a" "$DOWN" | jq -c '.group = "cache"')"
expect_status 201 "POST /v1/nodes g-a"
adm POST /v1/nodes "$(node_json solo "$T/solo" "$DOWN")"
expect_status 201 "POST /v1/nodes without a group"
[ "$(jb .group)" = solo ] || die "a node without a group is in $(jb .group)"
ok "nodes registered with their group (default: the node's name)"

for g in 'Cache' '-x' 'a_b' "$(printf 'a%.0s' $(seq 1 64))"; do
	adm POST /v1/nodes "$(node_json bad "$T/solo" "$DOWN" | jq -c --arg g "$g" '.group = $g')"
	expect_error 400 invalid_request "group '$g'"
	expect_message_has group
done
adm POST /v1/nodes "$(node_json bad "$T/solo" "$DOWN" | jq -c '.group = 1')"
expect_error 400 invalid_request "group not a string"
expect_message_has group
adm POST /v1/nodes "$(node_json report "$T/solo" "$DOWN")"
expect_error 400 invalid_request "the node name 'report' (a route)"
expect_message_has report

# ---- GET /v1/groups ----

adm GET /v1/groups
expect_status 200 "GET /v1/groups"
schema_check GroupList "$T/body" "GET /v1/groups"
[ "$(jb '[.items[].group] | join(",")')" = cache,solo ] ||
    die "groups: $(body)"
[ "$(jb '.items[0].members | map(.name) | join(",")')" = g-a,g-b ] ||
    die "members of cache: $(body)"
[ "$(jb '.items[0].status')" = unknown ] &&
    [ "$(jb '.items[0].members[0].mode')" = push ] ||
    die "group status and member mode: $(body)"
ok "GET /v1/groups: groups by name, members by name, status and mode"

api GET /v1/groups
expect_error 401 unauthorized "GET /v1/groups without a token"
pub GET /v1/groups
expect_error 404 not_found "GET /v1/groups on the public listener"

# ---- POST /v1/groups/{group}/rotate: refusals ----

adm POST /v1/groups/nothing/rotate
expect_error 404 not_found "rotate a group without members"
adm POST /v1/groups/Bad_Name/rotate
expect_error 404 not_found "rotate a group with a bad name"
adm POST /v1/groups/cache/rotate '{"force": true}'
expect_error 400 invalid_request "rotate with an unknown field"
expect_message_has force
adm POST /v1/groups/cache/rotate '{'
expect_error 400 invalid_json "rotate with bad JSON"
adm GET /v1/groups/cache/rotate
expect_error 405 method_not_allowed "GET on the rotate route"
header Allow | grep -q POST || die "Allow: $(header Allow)"
api POST /v1/groups/cache/rotate
expect_error 401 unauthorized "rotate without a token"
adm POST /v1/tokens '{"kind": "enroll", "profile": "redis-client",
    "names": ["*"], "uses": 3}'
expect_status 201 "an enroll token"
ENROLL=$(jb .token)
api POST /v1/groups/cache/rotate -H "Authorization: Bearer $ENROLL"
expect_error 403 forbidden "rotate with an enroll token"

# ---- a group that stops at its first member ----

# Both members are down: their roles are unknown, so they go by name.
adm POST /v1/groups/cache/rotate '{}'
expect_status 502 "rotate a group whose members are down"
schema_check GroupRotationStopped "$T/body" "group rotation stopped"
[ "$(jb .status)" = stopped ] && [ "$(jb .group)" = cache ] &&
    [ "$(jb .error.code)" = rotation_failed ] ||
    die "stopped group: $(body)"
[ "$(jb '[.rotations[].node] | join(",")')" = g-a ] ||
    die "rotations: $(jb '[.rotations[].node]')"
[ "$(jb '.rotations[0].status')" != succeeded ] || die "g-a succeeded?"
[ "$(jb '[.skipped[].name] | join(",")')" = g-b ] ||
    die "skipped: $(jb .skipped)"
adm GET /v1/nodes/g-b/rotations
expect_status 200 "g-b's rotations"
[ "$(jb '.items | length')" = 0 ] || die "g-b was rotated: $(body)"
ok "502 stopped: g-a's record, g-b skipped and untouched"
adm GET /v1/groups
[ "$(jb '.items[0].status')" = rotation_failed ] ||
    die "cache after the failure: $(jb '.items[0]')"
ok "the group's status is its worst member's (rotation_failed)"

# ---- ?status= ----

adm GET '/v1/nodes?status=rotation_failed'
expect_status 200 "?status=rotation_failed"
schema_check NodePage "$T/body" "?status=rotation_failed"
[ "$(jb '[.items[].name] | join(",")')" = g-a ] ||
    die "rotation_failed nodes: $(body)"
adm GET '/v1/nodes?status=unknown'
[ "$(jb '[.items[].name] | join(",")')" = g-b,solo ] ||
    die "unknown nodes: $(body)"
adm GET '/v1/nodes?status=drift'
expect_status 200 "?status=drift"
[ "$(jb '.items | length')" = 0 ] || die "drift before any: $(body)"
for s in stale DRIFT 'ok,drift' ''; do
	[ -z "$s" ] && continue
	adm GET "/v1/nodes?status=$s"
	expect_error 400 invalid_request "?status=$s"
	expect_message_has status
done
ok "?status= filters and refuses other words"

# ---- POST /v1/nodes/report (mTLS) ----

S1=$(issue redis-node p1 p1)
S2=$(issue redis-node p1 p1b)
SC=$(issue redis-client app cl)
SN=$(issue redis-node g-a ga)
RP=$(rca_free_port)
T0=$(now)

rep p1 "$(jq -cn --arg s "$S1" --arg t "$T0" --arg r "127.0.0.1:$RP" \
    '{redis: $r, group: "pulled", role: "primary", status: "succeeded",
      new_serial: $s, served_serial: $s, started_at: $t, finished_at: $t,
      steps: [{step: "write_files", ok: true, detail: "written"},
              {step: "config_set", ok: true, detail: "loaded"},
              {step: "verify_serial", ok: true, detail: $s}]}')"
expect_status 200 "a pull node's rotation report"
schema_check Node "$T/body" "report answer"
[ "$(jb .name)" = p1 ] && [ "$(jb .mode)" = pull ] &&
    [ "$(jb .group)" = pulled ] && [ "$(jb .current_serial)" = "$S1" ] &&
    [ "$(jb .served_serial)" = "$S1" ] && [ "$(jb .last_report_at)" != null ] &&
    [ "$(jb .status)" != drift ] ||
    die "the pull node after its report: $(body)"
ok "report: p1 is a pull node serving $S1"
adm GET /v1/nodes/p1/rotations
[ "$(jb '.items[0].status')" = succeeded ] &&
    [ "$(jb '[.items[0].steps[].step] | join(",")')" = write_files,config_set,verify_serial ] ||
    die "p1's reported record: $(body)"
ok "the reported record is p1's rotation history"

# p1 serves another of its certificates than the recorded one: drift.
rep p1b "$(jq -cn --arg s "$S2" --arg r "127.0.0.1:$RP" \
    '{redis: $r, status: "check", served_serial: $s}')"
expect_status 200 "a check-in serving another serial"
[ "$(jb .status)" = drift ] && [ "$(jb .drift_since)" != null ] ||
    die "drift not shown: $(body)"
adm GET '/v1/nodes?status=drift'
[ "$(jb '[.items[].name] | join(",")')" = p1 ] || die "drift list: $(body)"
pub GET /metrics
grep -qx 'redisca_node_drift{node="p1"} 1' "$T/body" ||
    die "metrics: $(grep redisca_node_drift "$T/body")"
grep -qx 'redisca_node_drift{node="solo"} 0' "$T/body" ||
    die "metrics for a push node: $(grep redisca_node_drift "$T/body")"
grep -qx 'redisca_rotations_in_flight 0' "$T/body" ||
    die "no redisca_rotations_in_flight 0"
ok "drift: status, ?status=drift, redisca_node_drift 1 (pull node), 0 (push)"
rep p1 "$(jq -cn --arg s "$S1" --arg r "127.0.0.1:$RP" \
    '{redis: $r, status: "check", served_serial: $s}')"
expect_status 200 "a check-in serving the recorded serial"
[ "$(jb .status)" != drift ] && [ "$(jb .drift_since)" = null ] ||
    die "drift did not end: $(body)"
adm GET '/v1/nodes?status=drift'
[ "$(jb '.items | length')" = 0 ] || die "still drifting: $(body)"
ok "drift ends when the recorded serial is served again"

# Refusals.
CHECK=$(jq -cn --arg s "$S1" --arg r "127.0.0.1:$RP" \
    '{redis: $r, status: "check", served_serial: $s}')
api POST /v1/nodes/report -H 'Content-Type: application/json' \
    --data-binary "$CHECK"
expect_error 401 unauthorized "report without a client certificate"
adm POST /v1/nodes/report "$CHECK"
expect_error 401 unauthorized "report with a bearer token"
pub POST /v1/nodes/report -H 'Content-Type: application/json' \
    --data-binary "$CHECK"
expect_error 404 not_found "report on the public listener"
rep cl "$(jq -cn --arg s "$SC" --arg r "127.0.0.1:$RP" \
    '{redis: $r, status: "check", served_serial: $s}')"
expect_error 403 forbidden "report with a client (not node) certificate"
rep p1 "$(jq -c '.name = "p2"' <<< "$CHECK")"
expect_error 403 forbidden "report naming another node than the CN"
rep ga "$(jq -cn --arg s "$SN" --arg r "127.0.0.1:$RP" \
    '{redis: $r, status: "check", served_serial: $s}')"
expect_error 409 conflict "report for a push node's name"
rep p1 "$(jq -c --arg s "$SC" '.served_serial = $s' <<< "$CHECK")"
expect_error 400 invalid_request "report of a serial issued for another name"
expect_message_has served_serial
rep p1 "$(jq -c '.redis = "nohost"' <<< "$CHECK")"
expect_error 400 invalid_request "report with redis not host:port"
expect_message_has redis
rep p1 "$(jq -c '.group = "Bad_G"' <<< "$CHECK")"
expect_error 400 invalid_request "report with a bad group"
expect_message_has group
rep p1 "$(jq -c '.status = "done"' <<< "$CHECK")"
expect_error 400 invalid_request "report with an unknown status"
expect_message_has status
rep p1 "$(jq -c '.extra = 1' <<< "$CHECK")"
expect_error 400 invalid_request "report with an unknown field"
expect_message_has extra
rep p1 "$(jq -c '.new_serial = "ab"' <<< "$CHECK")"
expect_error 400 invalid_request "a check-in with a new serial"
expect_message_has new_serial
rep p1 "$(jq -c 'del(.redis)' <<< "$CHECK")"
expect_error 400 invalid_request "report without redis"
expect_message_has redis
rep p1 "$(jq -cn --arg s "$S1" --arg t "$T0" --arg r "127.0.0.1:$RP" \
    '{redis: $r, status: "succeeded", new_serial: $s, served_serial: $s,
      started_at: $t, finished_at: $t,
      steps: [range(13) | {step: "x", ok: true, detail: ""}]}')"
expect_error 400 invalid_request "report with 13 steps"
expect_message_has steps
rep p1 'not json'
expect_error 400 invalid_json "report that is not JSON"
head -c 17000 /dev/zero | tr '\0' ' ' > "$T/big.json"
api POST /v1/nodes/report --cert "$T/p1.crt" --key "$T/p1.key" \
    -H 'Content-Type: application/json' --data-binary "@$T/big.json"
expect_error 413 payload_too_large "a report over 16 KiB"
api POST /v1/nodes/report --cert "$T/p1.crt" --key "$T/p1.key" \
    -H 'Content-Type: text/plain' --data-binary "$CHECK"
expect_error 415 unsupported_media_type "a report that is not JSON typed"

# ---- the audit ----

adm GET '/v1/audit?limit=1000'
expect_status 200 "GET /v1/audit"
for a in group.rotate node.report; do
	[ "$(jb --arg a "$a" '[.items[] | select(.action == $a)] | length')" -gt 0 ] ||
	    die "no $a in the audit"
done
[ "$(jb '[.items[] | select(.action == "node.report" and
    .outcome == "denied")] | length')" -gt 0 ] ||
    die "no denied node.report in the audit"
[ "$(jb '[.items[] | select(.action == "group.rotate" and
    .outcome == "denied")] | length')" -gt 0 ] ||
    die "no denied group.rotate in the audit"
ok "group.rotate and node.report audited, refusals as denied"

# ---- a member being rotated: the group is refused, nothing rotated ----

rca_silent_listener
mkdir -p "$T/slow"
adm POST /v1/nodes "$(node_json slow "$T/slow" "$PS" | jq -c '.group = "busy"')"
expect_status 201 "register a node that never finishes its handshake"
rca_rotate_running slow
adm POST /v1/groups/busy/rotate
expect_error 409 conflict "rotate a group whose member is being rotated"
wait "$ROT_PID"
adm GET /v1/nodes/slow/rotations
[ "$(jb '.items | length')" = 1 ] ||
    die "the refused group rotation rotated: $(jb '[.items[].status]')"
ok "409 conflict while a member rotates; the group rotated nothing"

# ---- still serving ----

adm GET /v1/nodes
expect_status 200 "GET /v1/nodes after the bad inputs"
schema_check NodePage "$T/body" "GET /v1/nodes at the end"
[ "$(jb '.items | length')" = 5 ] || die "nodes at the end: $(jb '[.items[].name]')"
pub GET /healthz
expect_status 200 "healthz at the end"
ok "the server still answers after the bad inputs"

schema_flush
log "PASS ($RCA_CHECKS checks)"
