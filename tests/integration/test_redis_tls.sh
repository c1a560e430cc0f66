#!/bin/bash
# End-to-end with a real Redis (redis-server 7.0, TLS only): a primary
# and a replica run on certificates from POST /v1/certificates/generate
# (profile redis-node: serverAuth + clientAuth, which TLS replication
# needs), a client uses a redis-client certificate from a CSR.  SET on
# the primary is read back from the replica; without a client
# certificate the connection is refused.
#
# usage: test_redis_tls.sh PATH-TO-redis-ca
. "$(dirname "$0")/lib.sh"

rca_setup "${1:-}"
rca_need redis-server redis-cli
rca_init
rca_start
T=$RCA_TMP

api GET /v1/ca.pem
expect_status 200 "GET /v1/ca.pem"
cp "$T/body" "$T/ca.pem"

# node NAME: a redis-node certificate and key in $T/NAME.{crt,key}.
node_cert()
{
	adm POST /v1/certificates/generate "$(jq -cn --arg cn "$1" \
	    '{profile: "redis-node", common_name: $cn,
	      sans: {dns: ["localhost"], ip: ["127.0.0.1"]}}')"
	expect_status 201 "generate a redis-node certificate for $1"
	jb .certificate > "$T/$1.crt"
	jb .private_key > "$T/$1.key"
	chmod 0400 "$T/$1.key"
}
node_cert primary
node_cert replica

make_csr client ec-p256 app-client
adm POST /v1/certificates "$(issue_json "$T/client.csr" redis-client 1h)"
expect_status 201 "POST /v1/certificates (redis-client)"
jb .certificate > "$T/client.crt"
CLIENT_SERIAL=$(jb .serial)
ok "certificates for primary, replica and a client"

PPORT=$(rca_free_port)
RPORT=$(rca_free_port)
while [ "$RPORT" = "$PPORT" ]; do RPORT=$(rca_free_port); done

# redis_conf NAME PORT [extra lines]: a TLS-only redis.conf.
redis_conf()
{
	local name=$1 port=$2
	shift 2
	mkdir -p "$T/$name.dir"
	{
		echo "port 0"
		echo "bind 127.0.0.1"
		echo "tls-port $port"
		echo "tls-cert-file $T/$name.crt"
		echo "tls-key-file $T/$name.key"
		echo "tls-ca-cert-file $T/ca.pem"
		echo "tls-auth-clients yes"
		echo "tls-replication yes"
		echo 'tls-protocols "TLSv1.2 TLSv1.3"'
		echo "daemonize no"
		echo "dir $T/$name.dir"
		echo 'save ""'
		echo "appendonly no"
		echo "logfile $T/$name.log"
		printf '%s\n' "$@"
	} > "$T/$name.conf"
}

# rcli PORT [args...]: redis-cli over TLS with the client certificate.
rcli()
{
	local port=$1
	shift
	timeout 10 redis-cli --tls --cacert "$T/ca.pem" --cert "$T/client.crt" \
	    --key "$T/client.key" -h 127.0.0.1 -p "$port" "$@"
}

# wait_ping PORT NAME: bounded wait for PONG.
wait_ping()
{
	local i
	for i in $(seq 1 100); do
		[ "$(rcli "$1" PING 2>/dev/null)" = PONG ] && return 0
		sleep 0.1
	done
	die "redis $2 did not answer PING over TLS within 10 s: $(tail -n 5 "$T/$2.log")"
}

redis_conf primary "$PPORT"
redis_conf replica "$RPORT" "replicaof 127.0.0.1 $PPORT"

redis-server "$T/primary.conf" > "$T/primary.out" 2>&1 &
rca_track "$!"
PRIMARY_PID=$!
wait_ping "$PPORT" primary
ok "primary redis-server is up, TLS only on $PPORT"

redis-server "$T/replica.conf" > "$T/replica.out" 2>&1 &
rca_track "$!"
REPLICA_PID=$!
wait_ping "$RPORT" replica
ok "replica redis-server is up, TLS only on $RPORT"

up=0
for i in $(seq 1 300); do
	if rcli "$RPORT" INFO replication 2>/dev/null | tr -d '\r' |
	    grep -qx 'master_link_status:up'; then
		up=1
		break
	fi
	kill -0 "$PRIMARY_PID" 2>/dev/null || die "the primary died: $(tail -n 5 "$T/primary.log")"
	kill -0 "$REPLICA_PID" 2>/dev/null || die "the replica died: $(tail -n 5 "$T/replica.log")"
	sleep 0.1
done
[ "$up" = 1 ] || die "replication over TLS did not come up within 30 s:
$(tail -n 8 "$T/replica.log")
$(tail -n 8 "$T/primary.log")"
ok "replication over TLS is up (node certificates work as TLS clients)"

VALUE="issued-by-redis-ca-$$"
[ "$(rcli "$PPORT" SET integ:key "$VALUE")" = OK ] || die "SET on the primary failed"
got=""
for i in $(seq 1 100); do
	got=$(rcli "$RPORT" GET integ:key 2>/dev/null)
	[ "$got" = "$VALUE" ] && break
	sleep 0.1
done
[ "$got" = "$VALUE" ] || die "GET on the replica gave '$got', want '$VALUE'"
ok "SET on the primary, GET on the replica"

out=$(timeout 10 redis-cli --tls --cacert "$T/ca.pem" -h 127.0.0.1 -p "$PPORT" \
    PING 2>&1)
[ "$out" = PONG ] && die "the primary answered PING without a client certificate"
ok "no client certificate: refused ($(printf '%s' "$out" | head -n 1))"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/stranger.key" -subj "/CN=stranger" -days 1 \
    -out "$T/stranger.crt" 2>/dev/null || die "openssl req -x509 failed"
out=$(timeout 10 redis-cli --tls --cacert "$T/ca.pem" --cert "$T/stranger.crt" \
    --key "$T/stranger.key" -h 127.0.0.1 -p "$PPORT" PING 2>&1)
[ "$out" = PONG ] && die "the primary accepted a certificate from another CA"
ok "a client certificate from another CA: refused"

# SPEC section 1: Redis does not check CRLs, so a revoked client
# certificate keeps working until it expires.  This documents the
# reason for short lifetimes; if Redis ever gains CRL checks, this
# assertion will say so.
adm POST "/v1/certificates/$CLIENT_SERIAL/revoke" '{"reason": "keyCompromise"}'
expect_status 200 "revoke the client certificate"
[ "$(rcli "$PPORT" PING 2>/dev/null)" = PONG ] ||
    die "Redis refused a revoked client certificate: it checks CRLs now, update SPEC section 1 and docs/api.md"
ok "a revoked client certificate still works against Redis (no CRL checks: short lifetimes matter)"
exit 0
