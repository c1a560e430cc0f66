#!/bin/bash
# End-to-end: several `redis-ca serve` on one PostgreSQL 15 (SPEC section
# 9).  A primary and a pg_basebackup -R standby (lib_pg.sh), `redis-ca
# init` once and the data folder copied for the second instance (same
# ca.key), two serves on loopback ports with one multi-host URI, driven
# with curl:
#   - a certificate issued on A is served by B;
#   - revoked on A, it is on B's /v1/crl (openssl crl) within 1 s;
#   - a token with 3 uses raced over both: exactly 3 certificates, the
#     rest 401;
#   - /metrics: exactly one redisca_scheduler_leader 1; kill -9 of the
#     leader, and the other leads within 30 s;
#   - a third serve on the standby answers GETs and 503 read_only to a
#     POST, and /readyz says read_only;
#   - the primary killed mid-load and the standby promoted: A and B carry
#     on without a restart, every answer in between is 201 or 503
#     unavailable with Retry-After (never 500), and every serial answered
#     201 is there after the failover.
#
# usage: test_multi_pg.sh PATH-TO-redis-ca
. "$(dirname "$0")/lib.sh"

rca_setup "${1:-}"
. "$(dirname "$0")/lib_pg.sh"
pg_available || { log "PostgreSQL 15 binaries missing: skipped"; exit 77; }
T=$RCA_TMP

declare -A IAPI=() IPUB=() IPID=() IDIR=()

# Stop the serves (checking they exit cleanly on SIGTERM, as lib.sh does
# for its one serve), then the PostgreSQL servers, then lib.sh's trap.
multi_cleanup()
{
	local rc=$? n f
	trap - EXIT
	if [ "$rc" != 0 ]; then
		for f in "$T"/serve-*.log; do
			[ -f "$f" ] || continue
			log "last errors of $(basename "$f"):"
			grep -E ' (error|warn) ' "$f" | tail -n 15 >&2
		done
	fi
	for n in "${!IPID[@]}"; do
		if [ "$rc" = 0 ]; then
			inst_stop "$n" || rc=1
		else
			rca_kill_pid "${IPID[$n]}"
		fi
	done
	for n in "${!PG_PID[@]}"; do
		pg_stop "$n"
	done
	(exit "$rc")
	rca_cleanup
}
trap multi_cleanup EXIT

# ---- instances ----

# inst_new NAME DATABASE: a copy of the data folder (ca.key included) on
# free ports, its "database" set to DATABASE.  Instance "a" is $DATA.
inst_new()
{
	local n=$1 dir api pub
	if [ "$n" = a ]; then
		dir=$DATA
	else
		dir=$T/data-$n
		rm -rf -- "$dir"
		cp -a "$DATA" "$dir" || die "cannot copy the data folder"
		rm -f "$dir"/redis-ca.db* "$dir/serve.lock"
	fi
	api=$(rca_free_port) && pub=$(rca_free_port) || die "no free port"
	jq --arg api "127.0.0.1:$api" --arg pub "127.0.0.1:$pub" \
	    --arg url "http://127.0.0.1:$pub" --arg db "$2" \
	    '.listen.api = $api | .listen.public = $pub |
	     .public_url = $url | .database = $db' \
	    "$dir/config.json" > "$T/config.new" ||
	    die "jq could not edit $dir/config.json"
	cat "$T/config.new" > "$dir/config.json"
	IDIR[$n]=$dir
	IAPI[$n]="https://127.0.0.1:$api"
	IPUB[$n]="http://127.0.0.1:$pub"
}

# inst_start NAME: serve in the background, wait (30 s) for /healthz.
inst_start()
{
	local n=$1 i
	"$RCA_BIN" serve --config "${IDIR[$n]}/config.json" \
	    >> "$T/serve-$n.log" 2>&1 &
	IPID[$n]=$!
	rca_track "${IPID[$n]}"
	for i in $(seq 1 300); do
		kill -0 "${IPID[$n]}" 2>/dev/null || {
			tail -n 20 "$T/serve-$n.log" >&2
			die "serve $n exited during start-up"
		}
		if curl -s -o /dev/null --max-time 2 "${IPUB[$n]}/healthz"; then
			log "serve $n is up (pid ${IPID[$n]}, ${IAPI[$n]})"
			return 0
		fi
		sleep 0.1
	done
	die "serve $n did not answer /healthz within 30 s"
}

# inst_stop NAME: SIGTERM; 1 unless it exits with status 0 within 15 s.
inst_stop()
{
	local n=$1 pid=${IPID[$1]}
	unset "IPID[$n]"
	rca_stop_pid "$pid" "serve $n" && return 0
	tail -n 40 "$T/serve-$n.log" >&2
	return 1
}

# inst_kill NAME: kill -9, reaped.
inst_kill()
{
	local pid=${IPID[$1]}
	unset "IPID[$1]"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	return 0
}

# on NAME METHOD PATH [JSON]: an admin call to NAME's api listener.
on()
{
	local n=$1 method=$2 path=$3
	if [ $# -ge 4 ]; then
		rca_http "${IAPI[$n]}" "$method" "$path" \
		    -H "Authorization: Bearer $ADMIN" \
		    -H 'Content-Type: application/json' --data-binary "$4"
	else
		rca_http "${IAPI[$n]}" "$method" "$path" \
		    -H "Authorization: Bearer $ADMIN"
	fi
}

# leader NAME: NAME's redisca_scheduler_leader value ("" if absent).
leader()
{
	curl -s --max-time 5 "${IPUB[$1]}/metrics" 2>/dev/null |
	    awk '$1 == "redisca_scheduler_leader" { print $2 }'
}

# crl_has NAME SERIAL: does NAME's /v1/crl (DER) list SERIAL?
crl_has()
{
	local want
	curl -s --max-time 5 -o "$T/crl-$1.der" "${IPUB[$1]}/v1/crl" ||
	    return 1
	want=$(printf '%s' "$2" | tr '[:lower:]' '[:upper:]' | sed 's/^0*//')
	openssl crl -inform DER -in "$T/crl-$1.der" -noout -text 2>/dev/null |
	    awk '/Serial Number:/ { print toupper($3) }' | sed 's/^0*//' |
	    grep -qx "$want"
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# ---- two PostgreSQL servers, one data folder, two instances ----

pg_start p1
pg_standby p2 p1
MULTI=$(pg_multi_uri p1 p2)
log "primary ${PG_PORT[p1]}, standby ${PG_PORT[p2]}: $MULTI"

rca_init
pg_config_database "$MULTI"
"$RCA_BIN" migrate --config "$DATA/config.json" > "$T/migrate.out" 2>&1 ||
    die "migrate on PostgreSQL: $(cat "$T/migrate.out")"
"$RCA_BIN" token create --kind admin --config "$DATA/config.json" \
    > "$T/admin.out" 2>&1 || die "token create: $(cat "$T/admin.out")"
ADMIN=$(awk '$1 == "token:" { print $2 }' "$T/admin.out")
case $ADMIN in
rca_*) ;;
*) die "no admin token in: $(cat "$T/admin.out")" ;;
esac
inst_new a "$MULTI"
inst_new b "$MULTI"
API=${IAPI[a]}		# lib.sh's adm and list_serials ask A
PUB=${IPUB[a]}
cmp -s "$DATA/ca.key" "${IDIR[b]}/ca.key" || die "ca.key not copied"
inst_start a
inst_start b

# ---- issue on A, read on B ----

make_csr one ec-p256 multi-one "DNS:multi-one.svc.internal"
issue_json "$T/one.csr" redis-client 1h > "$T/one.json"
on a POST /v1/certificates "$(cat "$T/one.json")"
expect_status 201 "issue on A"
SERIAL=$(jb .serial)
jb .certificate > "$T/one.pem"
on b GET "/v1/certificates/$SERIAL"
expect_status 200 "GET on B of a certificate issued on A"
[ "$(jb .serial)" = "$SERIAL" ] || die "B answered another serial"
ok "a certificate issued on A is served by B"

# ---- revoke on A: on B's CRL within 1 s ----

crl_has b "$SERIAL" && die "B's CRL lists $SERIAL before the revocation"
on a POST "/v1/certificates/$SERIAL/revoke" '{"reason": "superseded"}'
t0=$(now_ms)
expect_status 200 "revoke on A"
crl_has a "$SERIAL" || die "A's CRL does not list $SERIAL after its revoke"
seen=""
while [ $(( $(now_ms) - t0 )) -le 1000 ]; do
	if crl_has b "$SERIAL"; then
		seen=$(( $(now_ms) - t0 ))
		break
	fi
	sleep 0.05
done
[ -n "$seen" ] ||
    die "B's /v1/crl does not list $SERIAL 1 s after the revoke on A"
ok "revoked on A, listed by B's CRL after ${seen} ms"
openssl crl -inform DER -in "$T/crl-b.der" -CAfile "$CACERT" -noout \
    > "$T/crlverify.out" 2>&1 ||
    die "B's CRL does not verify: $(cat "$T/crlverify.out")"
grep -q "verify OK" "$T/crlverify.out" ||
    die "B's CRL does not verify: $(cat "$T/crlverify.out")"
ok "B's CRL verifies against the shared CA"

# ---- a 3-use token raced over both instances ----

on a POST /v1/tokens '{"kind": "enroll", "profile": "redis-client",
    "names": ["race-*"], "uses": 3, "ttl": "1h"}'
expect_status 201 "POST /v1/tokens (3 uses)"
RACE=$(jb .token)
RACERS=12
mkdir -p "$T/race"
for i in $(seq 1 "$RACERS"); do
	make_csr "race$i" ec-p256 "race-$i"
	issue_json "$T/race$i.csr" redis-client 1h > "$T/race/$i.req"
done
pids=()
for i in $(seq 1 "$RACERS"); do
	if [ $((i % 2)) = 0 ]; then n=a; else n=b; fi
	curl -s --max-time 60 --cacert "$CACERT" -X POST \
	    -H "Authorization: Bearer $RACE" \
	    -H 'Content-Type: application/json' \
	    --data-binary "@$T/race/$i.req" -o "$T/race/$i.out" \
	    -w '%{http_code}' "${IAPI[$n]}/v1/certificates" \
	    > "$T/race/$i.code" 2>/dev/null &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p"
done
won=0
lost=0
for i in $(seq 1 "$RACERS"); do
	case $(cat "$T/race/$i.code") in
	201) won=$((won + 1)); jq -r .serial "$T/race/$i.out" >> "$T/race.serials" ;;
	401) lost=$((lost + 1)) ;;
	*) die "racer $i: HTTP $(cat "$T/race/$i.code"):" \
	    "$(head -c 300 "$T/race/$i.out")" ;;
	esac
done
[ "$won" = 3 ] && [ "$lost" = $((RACERS - 3)) ] ||
    die "3-use token over two instances: $won issued, $lost refused"
[ "$(sort -u "$T/race.serials" | wc -l)" = 3 ] ||
    die "racers got a serial twice"
while read -r s; do
	on a GET "/v1/certificates/$s"
	expect_status 200 "GET on A of racer's $s"
done < "$T/race.serials"
ok "a 3-use token raced by $RACERS clients over A and B:" \
    "3 certificates, $lost 401"

# ---- scheduler leadership ----

# one_leader: prints the leader's name when exactly one of a, b says 1
# and the other 0.
one_leader()
{
	local la lb
	la=$(leader a)
	lb=$(leader b)
	if [ "$la" = 1 ] && [ "$lb" = 0 ]; then
		echo a
	elif [ "$la" = 0 ] && [ "$lb" = 1 ]; then
		echo b
	fi
}
L=""
for i in $(seq 1 300); do
	L=$(one_leader)
	[ -n "$L" ] && break
	sleep 0.1
done
[ -n "$L" ] ||
    die "no single leader: a says '$(leader a)', b says '$(leader b)'"
ok "/metrics: exactly one redisca_scheduler_leader 1 ($L)"
if [ "$L" = a ]; then O=b; else O=a; fi
inst_kill "$L"
t0=$(now_ms)
took=""
while [ $(( $(now_ms) - t0 )) -le 30000 ]; do
	if [ "$(leader "$O")" = 1 ]; then
		took=$(( $(now_ms) - t0 ))
		break
	fi
	sleep 0.2
done
[ -n "$took" ] || die "$O did not take the leadership within 30 s of kill -9 $L"
ok "kill -9 of leader $L: $O leads after ${took} ms"
inst_start "$L"
[ "$(leader "$L")" = 0 ] || die "restarted $L says it leads beside $O"
ok "restarted $L follows"

# ---- a third instance on the standby: read-only ----

inst_new c "${PG_URI[p2]}"
inst_start c
for i in $(seq 1 100); do
	on c GET "/v1/certificates/$(head -n 1 "$T/race.serials")"
	[ "$STATUS" = 200 ] && break
	sleep 0.1
done
expect_status 200 "GET on the standby's instance"
rca_http "${IPUB[c]}" GET /v1/crl
expect_status 200 "GET /v1/crl on the standby's instance"
make_csr ro ec-p256 multi-ro
issue_json "$T/ro.csr" redis-client 1h > "$T/ro.json"
on c POST /v1/certificates "$(cat "$T/ro.json")"
expect_error 503 read_only "POST /v1/certificates on the standby's instance"
rca_http "${IPUB[c]}" GET /readyz
[ "$(jb .status)" = read_only ] ||
    die "/readyz on the standby's instance: $STATUS $(body)"
ok "/readyz on the standby's instance says read_only ($STATUS)"
inst_stop c || die "serve c did not stop cleanly"

# ---- failover under load ----

# Commits wait for the standby (synchronous replication), so that a 201
# cannot be lost with the primary; the standby itself has no such
# setting, so it commits alone once promoted.
pg_sql p1 "ALTER SYSTEM SET synchronous_standby_names = '*'" >/dev/null &&
    pg_sql p1 "SELECT pg_reload_conf()" >/dev/null ||
    die "cannot make replication synchronous"
make_csr load ec-p256 multi-load "DNS:multi-load.svc.internal"
issue_json "$T/load.csr" redis-client 1h > "$T/load.json"
mkdir -p "$T/load"

# loader NAME: issue on NAME one request after the other until
# $T/load/stop exists (at most 2,000 requests, 120 s), each answer a
# line "CODE SERIAL-or-ERRORCODE RETRY-AFTER".
loader()
{
	local n=$1 i=0 code end=$(( $(date +%s) + 120 ))
	while [ ! -e "$T/load/stop" ] && [ "$i" -lt 2000 ] &&
	    [ "$(date +%s)" -lt "$end" ]; do
		i=$((i + 1))
		code=$(curl -s --max-time 60 --cacert "$CACERT" -X POST \
		    -H "Authorization: Bearer $ADMIN" \
		    -H 'Content-Type: application/json' \
		    --data-binary "@$T/load.json" -o "$T/load/$n.body" \
		    -D "$T/load/$n.hdr" -w '%{http_code}' \
		    "${IAPI[$n]}/v1/certificates") || code="curl-failed"
		printf '%s %s %s\n' "$code" \
		    "$(jq -r '.serial // .error.code // "-"' "$T/load/$n.body" 2>/dev/null)" \
		    "$(tr -d '\r' < "$T/load/$n.hdr" |
		    awk -F': ' 'tolower($1) == "retry-after" { print $2 }')" \
		    >> "$T/load/$n.log"
	done
}
loader a &
LA=$!
rca_track "$LA"
loader b &
LB=$!
rca_track "$LB"

# count201 NAME: 201 answers so far.
count201()
{
	awk '$1 == 201 { n++ } END { print n + 0 }' "$T/load/$1.log" \
	    2>/dev/null || echo 0
}

for i in $(seq 1 200); do
	[ "$(count201 a)" -ge 5 ] && [ "$(count201 b)" -ge 5 ] && break
	sleep 0.1
done
[ "$(count201 a)" -ge 5 ] && [ "$(count201 b)" -ge 5 ] ||
    die "no load before the failover: $(cat "$T"/load/*.log | head -n 5)"
pg_kill p1
log "primary killed"
sleep 1
pg_promote p2
log "standby promoted"
pa=$(wc -l < "$T/load/a.log")
pb=$(wc -l < "$T/load/b.log")
# Both instances issue again, without a restart, within 60 s.
for i in $(seq 1 600); do
	[ "$(tail -n +$((pa + 1)) "$T/load/a.log" | grep -c '^201 ')" -ge 3 ] &&
	    [ "$(tail -n +$((pb + 1)) "$T/load/b.log" | grep -c '^201 ')" -ge 3 ] &&
	    break
	sleep 0.1
done
: > "$T/load/stop"
wait "$LA"
wait "$LB"
[ "$(tail -n +$((pa + 1)) "$T/load/a.log" | grep -c '^201 ')" -ge 3 ] &&
    [ "$(tail -n +$((pb + 1)) "$T/load/b.log" | grep -c '^201 ')" -ge 3 ] ||
    die "A and B did not issue again within 60 s of the promotion"
ok "A and B issue again after the promotion, without a restart"
cat "$T/load/a.log" "$T/load/b.log" > "$T/load/all"
bad=$(awk '!($1 == 201 || ($1 == 503 && $2 == "unavailable" && $3 != ""))' \
    "$T/load/all")
[ -z "$bad" ] ||
    die "answers during the failover other than 201 or 503 unavailable" \
    "with Retry-After: $(echo "$bad" | sort | uniq -c | head -n 5)"
n201=$(grep -c '^201 ' "$T/load/all")
n503=$(grep -c '^503 ' "$T/load/all")
ok "during the failover: $n201 answers 201, $n503 answers 503" \
    "unavailable with Retry-After, nothing else"
awk '$1 == 201 { print $2 }' "$T/load/all" | sort > "$T/load/serials"
[ "$(sort -u "$T/load/serials" | wc -l)" = "$n201" ] ||
    die "a serial was answered 201 twice"
RCA_PAGE=1000
list_serials
sort -u "$RCA_TMP/serials" > "$T/load/listed"
missing=$(comm -23 "$T/load/serials" "$T/load/listed" | wc -l)
[ "$missing" = 0 ] ||
    die "$missing serials answered 201 are missing after the failover"
ok "all $n201 serials answered 201 are listed after the failover"
# A worker thread's connection that has not been used since the failover
# finds its server gone at its next request: that one may still be a 503
# unavailable with Retry-After, and the next is served.
for n in a b; do
	for i in $(seq 1 10); do
		on "$n" GET "/v1/certificates/$(tail -n 1 "$T/load/serials")"
		[ "$STATUS" = 503 ] || break
		[ "$(jb .error.code)" = unavailable ] &&
		    [ -n "$(header Retry-After)" ] ||
		    die "GET on $n after the failover: 503 $(body)"
	done
	expect_status 200 "GET on $n after the failover"
done
ok "A and B serve the last certificate after the failover"
schema_flush
log "$RCA_CHECKS checks passed"
