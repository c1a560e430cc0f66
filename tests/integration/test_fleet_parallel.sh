#!/bin/bash
# rotation.max_parallel (SPEC section 11, issue 13 "Done when"): six
# TLS-only redis-servers registered as push nodes (each its own group)
# while the scheduler is idle (check_interval 1h), then serve restarted
# with rotation.max_parallel 2 and check_interval 2s: its first pass
# finds all six due together (none has a certificate of its own yet).
# /metrics redisca_rotations_in_flight is sampled every 50 ms from
# before the restart until every node is rotated: it never exceeds 2,
# and is seen above 0; every node's rotation succeeded and it serves its
# new serial.  Then six more in two groups of three with max_parallel 4:
# never more than 2 in flight (one per group).  Then
# rotation.max_parallel 0 and 65 are refused by serve
# at start (exit status non-zero, the message naming the key).
#
# usage: test_fleet_parallel.sh PATH-TO-redis-ca

. "$(dirname "$0")/lib.sh"
rca_setup "${1:-}"
T=$RCA_TMP
START=$(date +%s)
NODES="p1 p2 p3 p4 p5 p6"

rca_init
rca_config_edit '.rotation.check_interval = "1h"'
rca_start
rca_bundle "$T/bundle.pem"
for n in $NODES; do
	RCA_PORT[$n]=$(rca_free_port_not_taken)
	RCA_NODE_EXTRA='.ttl = "1h"' rca_redis_node "$n" "${RCA_PORT[$n]}"
done
ok "six nodes registered and running on their bootstrap certificates"
rca_stop
rca_config_edit '.rotation.check_interval = "2s" | .rotation.max_parallel = 2'

# The sampler: one value a line into inflight.txt ("-" when the series
# is absent or serve does not answer).
(
	while :; do
		v=$(curl -s --max-time 2 "$PUB/metrics" 2>/dev/null |
		    awk '$1 == "redisca_rotations_in_flight" { print $2 }')
		printf '%s\n' "${v:--}" >> "$T/inflight.txt"
		sleep 0.05
	done
) &
SAMPLER=$!
rca_track "$SAMPLER"
T0=$(date +%s.%N)
rca_start
for n in $NODES; do
	rca_node_rotated "$n" 60 > "$T/$n.serial"
done
T1=$(date +%s.%N)
sleep 1
rca_kill_pid "$SAMPLER"
SAMPLES=$(grep -c '^[0-9]' "$T/inflight.txt")
PEAK=$(grep '^[0-9]' "$T/inflight.txt" | sort -n | tail -n 1)
[ "$SAMPLES" -gt 5 ] ||
    die "redisca_rotations_in_flight sampled $SAMPLES times: $(head -n 5 "$T/inflight.txt")"
[ "${PEAK:-0}" -le 2 ] ||
    die "redisca_rotations_in_flight reached $PEAK with rotation.max_parallel 2"
[ "${PEAK:-0}" -ge 1 ] ||
    die "no rotation seen in flight in $SAMPLES samples"
ok "six due nodes rotated in $(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }') s; in flight at most $PEAK ($SAMPLES samples of /metrics)"
for n in $NODES; do
	want=$(cat "$T/$n.serial")
	rca_serial_eq "$(rca_served_serial "${RCA_PORT[$n]}")" "$want" ||
	    die "$n does not serve its new serial $want"
	adm GET "/v1/nodes/$n/rotations"
	[ "$(jb '.items | length')" = 1 ] ||
	    die "$n rotated $(jb '.items | length') times, want once"
	[ "$(jb '.items[0].status')" = succeeded ] || die "$n: $(body)"
done
ok "each node rotated once, succeeded, serving its new serial"
grep -q '^redisca_rotations_in_flight 0$' <(curl -s "$PUB/metrics") ||
    die "redisca_rotations_in_flight is not 0 once every node is rotated"
ok "redisca_rotations_in_flight back to 0"

# ---- one rotation per group: two groups of three, max_parallel 4 ----

rca_stop
rca_config_edit '.rotation.check_interval = "1h" | .rotation.max_parallel = 4'
rca_start
GNODES="qa1 qa2 qa3 qb1 qb2 qb3"
for n in $GNODES; do
	RCA_PORT[$n]=$(rca_free_port_not_taken)
	RCA_NODE_EXTRA=".ttl = \"1h\" | .group = \"${n:0:2}\"" \
	    rca_redis_node "$n" "${RCA_PORT[$n]}"
done
rca_stop
rca_config_edit '.rotation.check_interval = "2s"'
: > "$T/inflight.txt"
(
	while :; do
		v=$(curl -s --max-time 2 "$PUB/metrics" 2>/dev/null |
		    awk '$1 == "redisca_rotations_in_flight" { print $2 }')
		printf '%s\n' "${v:--}" >> "$T/inflight.txt"
		sleep 0.05
	done
) &
SAMPLER=$!
rca_track "$SAMPLER"
rca_start
for n in $GNODES; do
	rca_node_rotated "$n" 60 > "$T/$n.serial"
done
rca_kill_pid "$SAMPLER"
SAMPLES=$(grep -c '^[0-9]' "$T/inflight.txt")
PEAK=$(grep '^[0-9]' "$T/inflight.txt" | sort -n | tail -n 1)
[ "$SAMPLES" -gt 5 ] && [ "${PEAK:-0}" -ge 1 ] ||
    die "in flight sampled $SAMPLES times, peak ${PEAK:-none}"
[ "${PEAK:-0}" -le 2 ] ||
    die "$PEAK rotations in flight for two groups: more than one per group"
for n in $GNODES; do
	rca_serial_eq "$(rca_served_serial "${RCA_PORT[$n]}")" \
	    "$(cat "$T/$n.serial")" || die "$n does not serve its new serial"
done
ok "two groups of three due at once, max_parallel 4: at most $PEAK in flight (one per group; $SAMPLES samples)"
rca_stop

# Bad values of rotation.max_parallel refuse to start.
cp "$DATA/config.json" "$T/config.good"
for v in 0 65 '"2"' -1; do
	rca_config_edit --argjson v "$v" '.rotation.max_parallel = $v'
	if timeout 20 "$RCA_BIN" serve --config "$DATA/config.json" \
	    > "$T/bad.out" 2>&1; then
		die "serve started with rotation.max_parallel $v"
	fi
	grep -q 'rotation.max_parallel' "$T/bad.out" ||
	    die "max_parallel $v: the message does not name the key: $(cat "$T/bad.out")"
	cat "$T/config.good" > "$DATA/config.json"
done
ok "rotation.max_parallel 0, 65, \"2\" and -1 refused at start, naming the key"
schema_flush
log "took $(( $(date +%s) - START )) s"
