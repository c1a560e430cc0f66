#!/bin/bash
# A group rotated in order without a failed command (SPEC section 11,
# issue 13 "Done when"), end to end against a real `redis-ca serve` and
# three real TLS-only redis-servers (port 0, tls-auth-clients yes,
# tls-replication yes):
#
#   a-primary, b-replica and c-replica (replicaof a-primary) registered
#   in group g1, the CA logging in as the ACL user "rca" (auth
#   password_file per node).  The names sort the primary first, so the
#   order asserted can only come from the roles read live.
#
# 1. POST /v1/groups/g1/rotate while client A keeps one TLS connection
#    (INCR every 50 ms), client B opens a new connection with files read
#    afresh for every command (SET on the primary, ECHO on each replica)
#    and L samples both replicas' master_link_status: 200 succeeded, the
#    rotations in the order b-replica, c-replica, a-primary (started_at
#    of each not before the previous finished_at), every node serving its
#    new serial, zero failed commands, both links up at the end;
#    GET /v1/groups shows the roles and status ok; audited group.rotate.
# 2. c-replica's password file made wrong (the rotation's connect step
#    fails): 502 status stopped, b-replica rotated, c-replica's record not
#    succeeded, a-primary untouched (same served and recorded serial, no
#    new rotation record); GET /v1/groups says rotation_failed.  The
#    password restored, the group rotates again (200).
# 3. Refusals: 404 not_found for an unknown group, 401 without a token,
#    400 invalid_request naming "group" for a bad group name.
#
# usage: test_fleet_group.sh PATH-TO-redis-ca

. "$(dirname "$0")/lib.sh"
rca_setup "${1:-}"
T=$RCA_TMP
START=$(date +%s)

rca_init
# The scheduler stays out of the way: only the group route rotates.
rca_config_edit '.rotation.check_interval = "1h"'
rca_start
rca_bundle "$T/bundle.pem"
rca_redis_group g1 a-primary b-replica c-replica
PP=${RCA_PORT[a-primary]}
R1=${RCA_PORT[b-replica]}
R2=${RCA_PORT[c-replica]}

# ---- the clients' files: a redis-client certificate ----

rca_client_files app "$T/app"

# ---- the group as listed before any rotation ----

adm GET /v1/groups
expect_status 200 "GET /v1/groups"
schema_check GroupList "$T/body" "GET /v1/groups"
[ "$(jb '[.items[] | select(.group == "g1") | .members[].name] | sort |
    join(",")')" = "a-primary,b-replica,c-replica" ] ||
    die "GET /v1/groups: g1 does not list its three members: $(body)"
for n in a-primary b-replica c-replica; do
	adm GET "/v1/nodes/$n"
	expect_status 200 "GET /v1/nodes/$n"
	[ "$(jb .group)" = g1 ] || die "$n: group $(jb .group), want g1"
	[ "$(jb .mode)" = push ] || die "$n: mode $(jb .mode), want push"
	schema_check Node "$T/body" "GET /v1/nodes/$n"
done
ok "three members of g1 listed (GET /v1/groups, node views group g1 mode push)"

# ---- 1. the group rotates replica, replica, primary; no failed command ----

rca_clients_run --primary "127.0.0.1:$PP" --replica "127.0.0.1:$R1" \
    --replica "127.0.0.1:$R2" "$T/app/chain.pem" "$T/app/key.pem" \
    "$T/bundle.pem" "$T/app"
sleep 2
T0=$(date +%s.%N)
adm POST /v1/groups/g1/rotate '{}'
T1=$(date +%s.%N)
cp "$T/body" "$T/rotate1.json"
expect_status 200 "POST /v1/groups/g1/rotate"
schema_check GroupRotation "$T/body" "POST /v1/groups/g1/rotate"
[ "$(jb .group)" = g1 ] && [ "$(jb .status)" = succeeded ] ||
    die "group rotate: $(body)"
ORDER=$(jb '[.rotations[].node] | join(",")')
[ "$ORDER" = "b-replica,c-replica,a-primary" ] ||
    die "rotation order $ORDER, want b-replica,c-replica,a-primary"
[ "$(jb '[.rotations[] | select(.status == "succeeded")] | length')" = 3 ] ||
    die "not every rotation succeeded: $(body)"
# Started one at a time, in that order (RFC 3339 UTC strings compare as
# times).
jq -e '[.rotations[] | [.started_at, .finished_at]] as $r |
    [range(1; $r | length) | select($r[.][0] < $r[. - 1][1])] | length == 0' \
    "$T/rotate1.json" > /dev/null ||
    die "a rotation started before the previous one finished: $(body)"
ok "g1 rotated b-replica, c-replica, a-primary, one after the other ($(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }') s)"
for n in a-primary b-replica c-replica; do
	want=$(jq -r --arg n "$n" '.rotations[] | select(.node == $n) |
	    .new_serial' "$T/rotate1.json")
	got=$(rca_served_serial "${RCA_PORT[$n]}")
	rca_serial_eq "$got" "$want" ||
	    die "$n serves serial '$got', its rotation issued '$want'"
	adm GET "/v1/nodes/$n"
	rca_serial_eq "$want" "$(jb .current_serial)" ||
	    die "$n: current_serial $(jb .current_serial), want $want"
done
ok "each node serves the serial its rotation issued"
sleep 2
for i in $(seq 1 100); do
	rca_links_up b-replica c-replica && break
	sleep 0.1
done
rca_links_up b-replica c-replica ||
    die "a replication link is not up 10 s after the group rotated"
rca_clients_stop
rca_clients_clean "group rotation"
A_OK=$(rca_clients_get .a.ok)
B_OK=$(rca_clients_get .b.ok)
DOWN=$(rca_clients_get .link.longest_down_s)
[ "$A_OK" -gt 20 ] && [ "$B_OK" -gt 10 ] &&
    [ "$(rca_clients_get .b.replica_ok)" -gt 2 ] ||
    die "the clients did too little: A $A_OK, B $B_OK"
[ "$(rca_clients_get .link.errors)" = 0 ] ||
    die "the link sampler failed: $(head -n 5 "$T/clients.log")"
ok "zero failed commands: A $A_OK INCRs on one connection, B $B_OK commands on new connections; both links up (longest down ${DOWN} s)"
adm GET /v1/groups
expect_status 200 "GET /v1/groups after the rotation"
jq -e '.items[] | select(.group == "g1") | .status == "ok" and
    ([.members[] | select(.name == "a-primary")][0].role == "primary") and
    ([.members[] | select(.role == "replica")] | length == 2) and
    ([.members[] | select(.status == "ok")] | length == 3)' \
    "$T/body" > /dev/null || die "GET /v1/groups after rotation: $(body)"
ok "GET /v1/groups: g1 ok, a-primary primary, two replicas"

# ---- 2. a failure on the second node stops the group ----

P_SERIAL=$(rca_served_serial "$PP")
R2_SERIAL=$(rca_served_serial "$R2")
adm GET /v1/nodes/a-primary/rotations
P_RECS=$(jb '.items | length')
printf 'not-the-password\n' > "$T/c-replica.pw"
adm POST /v1/groups/g1/rotate
cp "$T/body" "$T/rotate2.json"
[ "$STATUS" = 502 ] || die "a group with a failing member answered $STATUS, want 502"
[ "$(jb .status)" = stopped ] || die "group status $(jb .status), want stopped"
schema_check GroupRotationStopped "$T/body" "the stopped group"
[ "$(jb '.rotations[0].node + "=" + .rotations[0].status')" = \
    "b-replica=succeeded" ] || die "first rotation: $(jb -c '.rotations[0]')"
[ "$(jb '.rotations[1].node')" = c-replica ] &&
    [ "$(jb '.rotations[1].status')" != succeeded ] ||
    die "second rotation: $(jb -c '.rotations[1]')"
jq -e '[.rotations[] | select(.node == "a-primary" and
    (.status == "succeeded" or .status == "failed" or
     .status == "rolled_back"))] | length == 0' "$T/rotate2.json" \
    > /dev/null || die "a-primary was rotated after the group stopped: $(body)"
[ "$(rca_served_serial "$PP")" = "$P_SERIAL" ] ||
    die "a-primary serves another serial after the group stopped"
[ "$(rca_served_serial "$R2")" = "$R2_SERIAL" ] ||
    die "c-replica serves another serial after its failed rotation"
adm GET /v1/nodes/a-primary/rotations
[ "$(jb '.items | length')" = "$P_RECS" ] ||
    die "a-primary has a new rotation record: $(body)"
ok "c-replica failing (wrong password): 502 stopped, b-replica rotated, a-primary untouched"
adm GET /v1/groups
jq -e '.items[] | select(.group == "g1") | .status == "rotation_failed"' \
    "$T/body" > /dev/null || die "g1 after the failure: $(body)"
ok "GET /v1/groups: g1 rotation_failed"
cp "$T/rca.pw" "$T/c-replica.pw"
adm POST /v1/groups/g1/rotate ''
expect_status 200 "the group once the password is right again"
[ "$(jb '[.rotations[].node] | join(",")')" = \
    "b-replica,c-replica,a-primary" ] || die "third rotation: $(body)"
ok "the password restored: g1 rotates again (200, same order, empty body)"
for i in $(seq 1 100); do
	rca_links_up b-replica c-replica && break
	sleep 0.1
done
rca_links_up b-replica c-replica || die "links not up after the third rotation"

# ---- 3. refusals ----

adm POST /v1/groups/no-such-group/rotate '{}'
expect_error 404 not_found "rotate an unknown group"
api POST /v1/groups/g1/rotate
expect_error 401 unauthorized "group rotate without a token"
api GET /v1/groups
expect_error 401 unauthorized "GET /v1/groups without a token"
adm POST /v1/nodes "$(RCA_NODE_EXTRA='.group = "bad group/../x"' \
    rca_node_json d-extra "$PP")"
expect_error 400 invalid_request "a node with a bad group name"
expect_message_has group

adm GET '/v1/audit?limit=1000'
[ "$(jb '[.items[] | select(.action == "group.rotate")] | length')" -ge 3 ] ||
    die "fewer than three group.rotate audit entries"
[ "$(jb '[.items[] | select(.action == "group.rotate" and
    .object == "g1")] | length')" -ge 3 ] ||
    die "group.rotate entries do not name g1"
ok "three group.rotate audit entries naming g1"
schema_flush
log "took $(( $(date +%s) - START )) s"
