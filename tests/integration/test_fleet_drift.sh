#!/bin/bash
# Drift (SPEC section 11, issue 13 "Done when"), end to end against a
# real `redis-ca serve` (rotation.check_interval 3 s) and two real
# TLS-only redis-servers registered as push nodes d1 and d2 (the
# scheduler rotates both at once: no current serial yet):
#
#   no drift at first (GET /v1/nodes?status=drift empty,
#   redisca_node_drift 0 for both); then a hand-made change on d1: another
#   certificate this CA issued (POST /v1/certificates/generate) written
#   beside its files and loaded with CONFIG SET tls-cert-file
#   tls-key-file.  Within two check intervals d1 is listed by
#   ?status=drift with status "drift", its served_serial the hand-made
#   one and drift_since set, /metrics says redisca_node_drift{node="d1"}
#   1 (d2 still 0, never listed); after two more intervals the audit log
#   holds exactly one node.drift for d1 (detail naming served= and
#   recorded=).  POST /v1/nodes/d1/rotate puts the CA's files back:
#   within two intervals d1 is no longer drift (status ok, drift_since
#   null, metric 0) and node.drift "resolved" is audited once.  Bad
#   ?status= values are 400 invalid_request naming status.
#
# usage: test_fleet_drift.sh PATH-TO-redis-ca

. "$(dirname "$0")/lib.sh"
rca_setup "${1:-}"
T=$RCA_TMP
START=$(date +%s)
CI=3			# rotation.check_interval, seconds

rca_init
rca_config_edit --arg ci "${CI}s" '.rotation.check_interval = $ci'
rca_start
rca_bundle "$T/bundle.pem"
D1=$(rca_free_port_not_taken)
RCA_PORT[d1]=$D1
rca_redis_node d1 "$D1"
D2=$(rca_free_port_not_taken)
RCA_PORT[d2]=$D2
rca_redis_node d2 "$D2"
S1=$(rca_node_rotated d1 30)
S2=$(rca_node_rotated d2 30)
ok "the scheduler rotated d1 ($S1) and d2 ($S2)"

# drift_list: the names GET /v1/nodes?status=drift lists, comma-joined.
drift_list()
{
	adm GET '/v1/nodes?status=drift'
	expect_status 200 "GET /v1/nodes?status=drift"
	jb '[.items[].name] | join(",")'
}

# wait_for SECS WHAT CMD...: CMD true within SECS (0.25 s steps); prints
# the seconds it took.  In $(...) its die ends only the subshell: follow
# it with || exit 1.
wait_for()
{
	local secs=$1 what=$2 t0 i
	shift 2
	t0=$(date +%s.%N)
	for i in $(seq 1 $((secs * 4))); do
		if "$@"; then
			awk -v a="$t0" -v b="$(date +%s.%N)" \
			    'BEGIN { printf "%.2f\n", b - a }'
			return 0
		fi
		sleep 0.25
	done
	die "$what within $secs s"
}

m_is() { [ "$(rca_metric "redisca_node_drift{node=\"$1\"}")" = "$2" ]; }

# ---- no drift at first ----

wait_for $((3 * CI)) "redisca_node_drift for d1 and d2 at 0" \
    eval 'm_is d1 0 && m_is d2 0' > /dev/null
[ -z "$(drift_list)" ] || die "drift listed before any change: $(body)"
schema_check NodePage "$T/body" "GET /v1/nodes?status=drift"
adm GET /v1/nodes/d1
[ "$(jb .status)" = ok ] && [ "$(jb .drift_since)" = null ] ||
    die "d1 before the change: $(body)"
rca_serial_eq "$(jb .served_serial)" "$S1" ||
    die "d1's served_serial $(jb .served_serial), want $S1"
ok "no drift at first: empty ?status=drift, metric 0, served_serial = current"

# ---- a hand-made change on d1 ----

adm POST /v1/certificates/generate "$(jq -cn \
    '{profile: "redis-node", common_name: "localhost",
      sans: {dns: ["localhost"], ip: ["127.0.0.1"]}}')"
expect_status 201 "another certificate for d1"
HAND=$(jb .serial)
jb .certificate > "$T/d1/hand.crt"
jb .private_key > "$T/d1/hand.key"
chmod 0400 "$T/d1/hand.key"
[ "$(rca_rcli "$D1" CONFIG SET tls-cert-file "$T/d1/hand.crt" \
    tls-key-file "$T/d1/hand.key")" = OK ] ||
    die "CONFIG SET of the hand-made files failed"
rca_serial_eq "$(rca_served_serial "$D1")" "$HAND" ||
    die "d1 does not serve the hand-made certificate"
took=$(wait_for $((2 * CI + 2)) "d1 listed as drift" \
    eval '[ "$(drift_list)" = d1 ]') || exit 1
awk -v t="$took" -v m=$((2 * CI)) 'BEGIN { exit !(t <= m + 1) }' ||
    die "drift found after $took s, more than two check intervals"
ok "drift found $took s after the change (check_interval $CI s), only d1 listed"
adm GET /v1/nodes/d1
schema_check Node "$T/body" "GET /v1/nodes/d1 (drift)"
[ "$(jb .status)" = drift ] || die "d1's status $(jb .status), want drift"
rca_serial_eq "$(jb .served_serial)" "$HAND" ||
    die "d1's served_serial $(jb .served_serial), want $HAND"
rca_serial_eq "$(jb .current_serial)" "$S1" ||
    die "the drift changed d1's current_serial"
[ "$(jb .drift_since)" != null ] || die "d1 in drift without drift_since"
wait_for 10 "redisca_node_drift{node=\"d1\"} 1" m_is d1 1 > /dev/null
m_is d2 0 || die "redisca_node_drift{node=\"d2\"} is not 0"
adm GET /v1/nodes/d2
[ "$(jb .status)" = ok ] || die "d2's status $(jb .status)"
ok "d1: status drift, served_serial $HAND, drift_since set, metric 1; d2 ok and 0"
sleep $((2 * CI))
adm GET '/v1/audit?limit=1000'
[ "$(jb '[.items[] | select(.action == "node.drift" and
    .object == "d1")] | length')" = 1 ] ||
    die "want one node.drift for d1 after $((4 * CI)) s of drift: $(jb -c '[.items[] | select(.action == "node.drift")]')"
jb '.items[] | select(.action == "node.drift") | .detail' | tr a-z A-Z |
    grep -q "SERVED=0*$(rca_serial_norm "$HAND")" ||
    die "node.drift's detail does not name the served serial"
[ "$(jb '[.items[] | select(.action == "node.drift" and
    .object == "d2")] | length')" = 0 ] || die "node.drift audited for d2"
ok "node.drift audited once for d1 (detail: $(jb -r '.items[] | select(.action == "node.drift") | .detail'))"

# ---- a rotation clears it ----

# The drift check holds a node's busy mark while it looks (a moment every
# check interval): a rotation asked for just then is 409, asked again.
for i in $(seq 1 20); do
	adm POST /v1/nodes/d1/rotate
	[ "$STATUS" = 409 ] || break
	sleep 0.2
done
expect_status 200 "rotate d1"
NEW=$(jb .new_serial)
rca_serial_eq "$(rca_served_serial "$D1")" "$NEW" ||
    die "d1 does not serve its new serial after the rotation"
took=$(wait_for $((2 * CI + 2)) "d1 no longer drift" \
    eval '[ -z "$(drift_list)" ]') || exit 1
adm GET /v1/nodes/d1
[ "$(jb .status)" = ok ] && [ "$(jb .drift_since)" = null ] ||
    die "d1 after the rotation: $(body)"
wait_for 10 "redisca_node_drift{node=\"d1\"} 0" m_is d1 0 > /dev/null
adm GET '/v1/audit?limit=1000'
[ "$(jb '[.items[] | select(.action == "node.drift" and .object == "d1" and
    (.detail | test("resolved")))] | length')" = 1 ] ||
    die "want one node.drift resolved for d1: $(jb -c '[.items[] | select(.action == "node.drift")]')"
ok "rotated: drift cleared within $took s, metric 0, node.drift resolved audited once"

# ---- bad filters ----

for q in 'status=bogus' 'status=DRIFT' 'status=drift,ok' "status=$(printf 'd%.0s' $(seq 1 300))"; do
	adm GET "/v1/nodes?$q"
	expect_error 400 invalid_request "GET /v1/nodes?${q:0:40}"
	expect_message_has status
done
schema_flush
log "took $(( $(date +%s) - START )) s"
