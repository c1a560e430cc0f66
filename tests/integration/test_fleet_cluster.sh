#!/bin/bash
# A Redis Cluster rotated node by node (SPEC section 11, issue 13 "Done
# when", cluster mode), end to end against a real `redis-ca serve` and
# three real TLS-only redis-servers: cluster-enabled yes, and from each
# node's redis.conf block port 0, tls-auth-clients yes, tls-replication
# yes, tls-cluster yes (the cluster bus over TLS on its own cluster-port),
# joined with `redis-cli --tls --cluster create ... --cluster-yes` and
# registered as nodes n1, n2, n3 of group c1.
#
# While POST /v1/groups/c1/rotate rotates them (and for a few seconds
# before and after), S samples CLUSTER INFO on every node every 100 ms
# and C does SET then GET on one key in a slot of every primary, on kept
# connections and on a new connection with files read afresh per
# command, following MOVED.  Asserted: 200 succeeded with n1, n2, n3
# rotated one after the other (all primaries: by name), each serving
# its new serial; cluster_state:ok in every sample (not one not-ok or
# unanswered sample) and zero failed SET/GET, each primary's key
# served; GET /v1/groups lists c1's three members as primaries, status
# ok; the cluster still ok past cluster-node-timeout after the rotation.
#
# usage: test_fleet_cluster.sh PATH-TO-redis-ca

. "$(dirname "$0")/lib.sh"
rca_setup "${1:-}"
T=$RCA_TMP
START=$(date +%s)

rca_init
rca_config_edit '.rotation.check_interval = "1h"'
rca_start
rca_bundle "$T/bundle.pem"
rca_redis_cluster c1 n1 n2 n3

rca_client_files app "$T/app"

rca_clients_run --cluster "$RCA_CLUSTER" "$T/app/chain.pem" \
    "$T/app/key.pem" "$T/bundle.pem" "$T/app"
sleep 2
[ "$(rca_clients_get .cluster.fail)" = 0 ] ||
    die "SET/GET failed before any rotation: $(head -n 5 "$T/clients.log")"
adm POST /v1/groups/c1/rotate '{}'
cp "$T/body" "$T/rotate.json"
expect_status 200 "POST /v1/groups/c1/rotate"
schema_check GroupRotation "$T/body" "POST /v1/groups/c1/rotate"
[ "$(jb .status)" = succeeded ] || die "group rotate: $(body)"
[ "$(jb '[.rotations[].node] | join(",")')" = n1,n2,n3 ] ||
    die "rotation order $(jb '[.rotations[].node] | join(",")'), want n1,n2,n3"
[ "$(jb '[.rotations[] | select(.status == "succeeded")] | length')" = 3 ] ||
    die "not every rotation succeeded: $(body)"
jq -e '[.rotations[] | [.started_at, .finished_at]] as $r |
    [range(1; $r | length) | select($r[.][0] < $r[. - 1][1])] | length == 0' \
    "$T/rotate.json" > /dev/null ||
    die "a rotation started before the previous one finished: $(body)"
ok "c1 rotated n1, n2, n3 one after the other"
for n in n1 n2 n3; do
	want=$(jq -r --arg n "$n" '.rotations[] | select(.node == $n) |
	    .new_serial' "$T/rotate.json")
	rca_serial_eq "$(rca_served_serial "${RCA_PORT[$n]}")" "$want" ||
	    die "$n does not serve its new serial $want"
done
ok "each node serves its new serial"
# Past cluster-node-timeout (5 s): a bus that failed on the new
# certificates would have marked a node as failing by now.
sleep 7
rca_clients_stop
FAIL=$(rca_clients_get .cluster.fail)
OKS=$(rca_clients_get .cluster.ok)
[ "$FAIL" = 0 ] ||
    die "$FAIL failed SET/GET during the cluster rotation: $(head -n 20 "$T/clients.log")"
for n in n1 n2 n3; do
	c=$(rca_clients_get ".cluster.per_node_ok[\"127.0.0.1:${RCA_PORT[$n]}\"] // 0")
	[ "$c" -gt 10 ] || die "only $c SET/GET rounds on $n's key"
done
SAMPLES=$(rca_clients_get .cstate.samples)
NOTOK=$(rca_clients_get .cstate.not_ok)
[ "$SAMPLES" -gt 100 ] || die "CLUSTER INFO sampled only $SAMPLES times"
[ "$NOTOK" = 0 ] && [ "$(rca_clients_get .cstate.errors)" = 0 ] ||
    die "cluster_state not ok in $NOTOK of $SAMPLES samples (longest $(rca_clients_get .cstate.longest_not_ok_s) s): $(head -n 10 "$T/clients.log")"
ok "cluster_state:ok in all $SAMPLES samples; $OKS SET/GET rounds, zero failed ($(rca_clients_get .cluster.moved) redirections followed)"
adm GET /v1/groups
expect_status 200 "GET /v1/groups"
schema_check GroupList "$T/body" "GET /v1/groups"
jq -e '.items[] | select(.group == "c1") | .status == "ok" and
    ([.members[] | select(.role == "primary")] | length == 3)' \
    "$T/body" > /dev/null || die "GET /v1/groups: c1 is not three ok primaries: $(body)"
ok "GET /v1/groups: c1 ok, three primaries"
for n in n1 n2 n3; do
	rca_rcli "${RCA_PORT[$n]}" CLUSTER INFO | tr -d '\r' |
	    grep -qx 'cluster_state:ok' || die "$n: cluster not ok at the end"
done
schema_flush
log "took $(( $(date +%s) - START )) s"
