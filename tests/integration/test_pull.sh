#!/bin/bash
# Pull mode (SPEC section 11) end to end: `redis-ca enroll --daemon
# --redis` on the Redis host, against a real `redis-ca serve` and a real
# TLS-only redis-server with AUTH on loopback.
#   1. The daemon enrolls, writes its files, loads them into Redis
#      (CONFIG SET), verifies with a new connection that Redis serves the
#      new serial, and reports: GET /v1/nodes shows mode pull, the group,
#      the served serial and the last report; node.report is audited;
#      the password never appears in the daemon's log.
#   2. A renewal the Redis cannot load (its tls-dh-params-file made
#      unreadable: every TLS reload fails) is rolled back: Redis still
#      serves the previous serial, *.prev files are back in place, the
#      CA records rolled_back.  Once fixed, a later attempt rotates.
#   3. Reports with a revoked certificate (401), a client certificate
#      (403), another node's certificate (403) and a push node's name
#      (409) are refused and audited.
#   4. A new trust bundle (POST /v1/ca/prepare) replaces ca.pem and is
#      loaded into Redis (CONFIG SET tls-ca-cert-file).
#
# usage: test_pull.sh PATH-TO-redis-ca
. "$(dirname "$0")/lib.sh"

rca_setup "${1:-}"
rca_need redis-server redis-cli openssl
rca_init
rca_start
T=$RCA_TMP
rca_bundle "$T/bundle.pem"

# audited ACTION OUTCOME [OBJECT]: the audit log has such an entry.
audited()
{
	adm GET "/v1/audit?limit=1000"
	expect_status 200 "GET /v1/audit"
	[ "$(jq --arg c "$1" --arg o "$2" --arg ob "${3:-}" '[.items[] |
	    select(.action == $c and .outcome == $o and
	    ($ob == "" or .object == $ob))] | length' "$T/body")" -gt 0 ] ||
	    die "no audit entry action=$1 outcome=$2 object=${3:-any}"
}

# ---- a TLS-only redis-server with AUTH, on a bootstrap certificate ----

adm POST /v1/certificates/generate '{"profile": "redis-node",
    "common_name": "pull-1", "sans": {"ip": ["127.0.0.1"]}}'
expect_status 201 "bootstrap certificate of pull-1"
jb .certificate > "$T/boot.crt"
jb .private_key > "$T/boot.key"
chmod 0400 "$T/boot.key"
BOOT_SERIAL=$(jb .serial)
PW=pull-secret-$RANDOM$RANDOM
(umask 077 && printf '%s\n' "$PW" > "$T/redis.pw")
# DH parameters: valid now, made unloadable later to fail a reload.
openssl genpkey -genparam -algorithm DH -pkeyopt dh_param:ffdhe2048 \
    -out "$T/dh.pem" 2>/dev/null || die "cannot make DH parameters"
rca_redis_tls "$T/boot.crt" "$T/boot.key" "$T/bundle.pem" \
    "tls-dh-params-file $T/dh.pem" "requirepass $PW"

# served: the serial the redis-server presents to a new connection.
served()
{
	timeout 10 openssl s_client -connect "127.0.0.1:$RPORT" \
	    -cert "$T/boot.crt" -key "$T/boot.key" -CAfile "$T/bundle.pem" \
	    < /dev/null 2>/dev/null | openssl x509 -noout -serial 2>/dev/null |
	    cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//'
}

for i in $(seq 1 100); do
	kill -0 "$REDIS_PID" 2>/dev/null ||
	    die "redis-server died: $(tail -n 5 "$T/redis.log")"
	[ "$(served)" = "$BOOT_SERIAL" ] && break
	sleep 0.1
done
[ "$(served)" = "$BOOT_SERIAL" ] || die "redis-server did not come up"
ok "TLS-only redis-server on $RPORT serves the bootstrap certificate"

# ---- usage ----

usage()
{
	local what=$1
	shift
	timeout 10 "$RCA_BIN" enroll "$@" > /dev/null 2> "$T/usage.err"
	local rc=$?
	[ "$rc" = 2 ] || die "$what: want exit 2, got $rc: $(cat "$T/usage.err")"
	ok "usage: $what -> exit 2 ($(head -n 1 "$T/usage.err"))"
}
BASE=(--url "$API" --cacert "$CACERT" --token x --profile redis-node
    --cn pull-1 --out "$T/unused")
usage "--redis without --daemon" "${BASE[@]}" --redis 127.0.0.1:1
usage "--redis without a port" "${BASE[@]}" --daemon --redis 127.0.0.1
usage "--redis port 0" "${BASE[@]}" --daemon --redis 127.0.0.1:0
usage "--group without --redis" "${BASE[@]}" --daemon --group g
usage "--group with a bad name" "${BASE[@]}" --daemon --redis 127.0.0.1:1 \
    --group Bad_Name
usage "--redis-auth-file relative" "${BASE[@]}" --daemon \
    --redis 127.0.0.1:1 --redis-auth-file pw
"$RCA_BIN" enroll --help | grep -q -- '--redis HOST:PORT' ||
    die "enroll --help does not show --redis"

# ==== 1. enroll, load, verify, report ====

adm POST /v1/tokens '{"kind": "enroll", "profile": "redis-node",
    "names": ["pull-*", "127.0.0.1"], "uses": 1, "ttl": "1h"}'
expect_status 201 "POST /v1/tokens (redis-node)"
(umask 077 && jb .token > "$T/token")
OUT="$T/pull"
# --ttl 60s: the lifetime is 120 s (notBefore backdated a minute), so
# the daemon renews ~20 s after each enrollment.
"$RCA_BIN" enroll --daemon --bundle-check 1s --url "$API" \
    --cacert "$CACERT" --token-file "$T/token" --profile redis-node \
    --cn pull-1 --ip 127.0.0.1 --ttl 60s --out "$OUT" \
    --redis "127.0.0.1:$RPORT" --redis-auth-file "$T/redis.pw" \
    --group cache > "$T/daemon.out" 2> "$T/daemon.log" &
DPID=$!
rca_track "$DPID"

for i in $(seq 1 120); do
	grep -q "serves " "$T/daemon.log" && break
	kill -0 "$DPID" 2>/dev/null || die "the daemon exited: $(cat "$T/daemon.log")"
	sleep 0.25
done
S1=$(rca_serial_of "$OUT/cert.pem")
grep -q "Redis 127.0.0.1:$RPORT serves $S1" "$T/daemon.log" ||
    die "the daemon did not load its certificate: $(cat "$T/daemon.log")"
[ "$(served)" = "$S1" ] || die "Redis serves $(served), not $S1"
ok "the daemon enrolled $S1 and Redis serves it (CONFIG SET, verified)"
redis-cli --tls --cert "$OUT/chain.pem" --key "$OUT/key.pem" \
    --cacert "$OUT/ca.pem" -h 127.0.0.1 -p "$RPORT" --user default \
    --pass "$PW" --no-auth-warning CONFIG GET tls-cert-file |
    grep -qx "$(realpath "$OUT")/chain.pem" ||
    die "Redis's tls-cert-file is not $OUT/chain.pem"
ok "tls-cert-file is the daemon's chain.pem (absolute path)"

for i in $(seq 1 40); do
	adm GET /v1/nodes/pull-1
	[ "$STATUS" = 200 ] && [ "$(jb .served_serial)" = "$S1" ] && break
	sleep 0.25
done
expect_status 200 "GET /v1/nodes/pull-1"
[ "$(jb .mode)" = pull ] || die "mode is $(jb .mode), want pull"
[ "$(jb .group)" = cache ] || die "group is $(jb .group), want cache"
[ "$(jb .current_serial)" = "$S1" ] || die "current_serial $(jb .current_serial)"
[ "$(jb .served_serial)" = "$S1" ] || die "served_serial $(jb .served_serial)"
[ "$(jb '.last_report_at // ""')" != "" ] || die "no last_report_at"
[ "$(jb .status)" = ok ] || die "status $(jb .status), want ok"
for i in $(seq 1 20); do
	[ "$(jb '.role // ""')" = primary ] && break
	sleep 0.25
	adm GET /v1/nodes/pull-1
done
[ "$(jb '.role // ""')" = primary ] || die "role $(jb .role), want primary"
schema_check Node "$T/body" "GET /v1/nodes/pull-1"
ok "GET /v1/nodes/pull-1: mode pull, group cache, role primary (check-in), served $S1, last report set"
audited node.report ok pull-1
ok "node.report audited"
grep -q -- "$PW" "$T/daemon.log" "$T/daemon.out" &&
    die "the Redis password appears in the daemon's output"
ok "the password is never logged"

# ==== 2. a renewal Redis cannot load is rolled back ====

# Every TLS reload now fails (the DH file no longer parses): the
# renewal's CONFIG SET is refused, the rollback restores the files and
# Redis keeps serving S1.
cp "$T/dh.pem" "$T/dh.good"
echo garbage > "$T/dh.pem"
for i in $(seq 1 240); do
	adm GET /v1/nodes/pull-1
	[ "$(jb '.last_rotation.status // ""')" = rolled_back ] && break
	kill -0 "$DPID" 2>/dev/null || die "the daemon exited: $(cat "$T/daemon.log")"
	sleep 0.25
done
[ "$(jb '.last_rotation.status // ""')" = rolled_back ] ||
    die "no rolled_back report within 60 s: $(body); $(tail -n 5 "$T/daemon.log")"
[ "$(jb .current_serial)" = "$S1" ] || die "current_serial moved: $(body)"
[ "$(jb .status)" = rotation_failed ] || die "status $(jb .status)"
jq -e '[.last_rotation.steps[] | select(.step == "config_set" and
    .ok == false)] | length == 1' "$T/body" > /dev/null ||
    die "the config_set step did not fail: $(body)"
jq -e '[.last_rotation.steps[] | select(.step == "rollback" and
    .ok == true)] | length == 1' "$T/body" > /dev/null ||
    die "no successful rollback step: $(body)"
[ "$(served)" = "$S1" ] || die "Redis serves $(served) after the rollback"
# (The daemon retries with backoff: between attempts cert.pem is S1.)
for i in $(seq 1 40); do
	[ "$(rca_serial_of "$OUT/cert.pem" 2>/dev/null)" = "$S1" ] && break
	sleep 0.25
done
[ "$(rca_serial_of "$OUT/cert.pem")" = "$S1" ] ||
    die "cert.pem was not restored"
[ -f "$OUT/cert.pem.prev" ] && [ -f "$OUT/key.pem.prev" ] ||
    die "no *.prev files kept"
ok "a renewal Redis refused was rolled back: Redis still serves $S1, reported rolled_back"

cp "$T/dh.good" "$T/dh.pem"
S2=
for i in $(seq 1 320); do
	adm GET /v1/nodes/pull-1
	if [ "$(jb '.last_rotation.status // ""')" = succeeded ] &&
	    [ "$(jb .current_serial)" != "$S1" ]; then
		S2=$(jb .current_serial)
		break
	fi
	sleep 0.25
done
[ -n "$S2" ] || die "no rotation after the fix within 80 s: $(body)"
for i in $(seq 1 40); do
	[ "$(served)" = "$S2" ] && break
	sleep 0.25
done
[ "$(served)" = "$S2" ] || die "Redis serves $(served), the CA recorded $S2"
[ "$(rca_serial_of "$OUT/cert.pem")" = "$S2" ] || die "cert.pem is not $S2"
ok "the next attempt rotated: Redis serves $S2, the CA recorded it"

# ==== 3. refused reports ====

# report NAME CERT KEY: POST /v1/nodes/report (check-in) with CERT.
report()
{
	api POST /v1/nodes/report --cert "$2" --key "$3" \
	    -H 'Content-Type: application/json' --data-binary "$(jq -cn \
	    --arg n "$1" --arg r "127.0.0.1:$RPORT" --arg s "$4" \
	    '{name: $n, redis: $r, status: "check", served_serial: $s}')"
}

# gen NAME PROFILE CN: a certificate in NAME.crt/NAME.key; NAME_SERIAL.
gen()
{
	adm POST /v1/certificates/generate "$(jq -cn --arg p "$2" \
	    --arg cn "$3" '{profile: $p, common_name: $cn,
	    sans: {ip: ["127.0.0.1"]}}')"
	expect_status 201 "generate $3 ($2)"
	jb .certificate > "$T/$1.crt"
	jb .private_key > "$T/$1.key"
	chmod 0400 "$T/$1.key"
	GEN_SERIAL=$(jb .serial)
}

gen revoked redis-node pull-9
RSERIAL=$GEN_SERIAL
adm POST "/v1/certificates/$RSERIAL/revoke" '{"reason": "superseded"}'
expect_status 200 "revoke pull-9's certificate"
report pull-9 "$T/revoked.crt" "$T/revoked.key" "$RSERIAL"
expect_error 401 unauthorized "a report with a revoked certificate"
audited node.report denied
gen client redis-client app-1
report app-1 "$T/client.crt" "$T/client.key" "$GEN_SERIAL"
expect_error 403 forbidden "a report with a client certificate"
gen other redis-node pull-2
report pull-1 "$T/other.crt" "$T/other.key" "$S2"
expect_error 403 forbidden "pull-2's certificate reporting for pull-1"
# A push node of that name: the CA rotates it, nobody reports for it.
mkdir -p "$T/push-1"
adm POST /v1/nodes "$(rca_node_json push-1 "$RPORT")"
expect_status 201 "POST /v1/nodes (push-1)"
gen push redis-node push-1
report push-1 "$T/push.crt" "$T/push.key" "$GEN_SERIAL"
expect_error 409 conflict "a report for a push node"
adm GET /v1/nodes/push-1
[ "$(jb .mode)" = push ] || die "push-1 became $(jb .mode)"
audited node.report denied push-1
ok "refused reports are audited as node.report denied"

# ==== 4. a new trust bundle is loaded into Redis too ====

adm POST /v1/ca/prepare '{}'
expect_status 200 "POST /v1/ca/prepare"
pub GET /v1/ca/bundle.pem
cp "$T/body" "$T/bundle2.pem"
for i in $(seq 1 150); do
	cmp -s "$OUT/ca.pem" "$T/bundle2.pem" &&
	    grep -q "loaded the new trust bundle" "$T/daemon.log" && break
	sleep 0.1
done
cmp -s "$OUT/ca.pem" "$T/bundle2.pem" || die "ca.pem is not the new bundle"
grep -q "Redis 127.0.0.1:$RPORT loaded the new trust bundle" \
    "$T/daemon.log" || die "no CONFIG SET tls-ca-cert-file: $(tail -n 3 "$T/daemon.log")"
[ "$(served)" = "$S2" ] || die "Redis serves $(served) after the bundle change"
ok "a new bundle: ca.pem replaced and loaded into Redis (CONFIG SET tls-ca-cert-file)"

kill -TERM "$DPID"
wait "$DPID" || die "the daemon exited with status $? on SIGTERM"
ok "the daemon stops on SIGTERM"
schema_flush
