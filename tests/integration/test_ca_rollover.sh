#!/bin/bash
# CA rollover without a failed Redis command (SPEC section 10, "the
# bar"; issue 12 "Done when"), end to end against a real `redis-ca
# serve` and real redis-servers:
#
#   a TLS-only primary and replica (port 0, tls-auth-clients yes,
#   tls-replication yes) registered as nodes; client A keeps one TLS
#   connection and sends an INCR every 50 ms; client B opens a new TLS
#   connection for every command with the files of an `enroll --daemon`
#   output folder read afresh (the daemon renews its certificate every
#   few seconds and rewrites ca.pem when the bundle's ETag changes); L
#   samples master_link_status on the replica every 100 ms.  Then
#   prepare -> (the daemon has the new bundle) -> activate -> both nodes
#   rotated onto the new CA, the API listener too -> B renewed by the new
#   CA -> retire refused (409 ca_unexpired_certificates) until the old
#   CA's last client certificate expired -> retire -> a few seconds more.
#
# Asserted: zero failed commands for A and B, the link up at the end and
# never down longer than one rotation, and at every phase: each node's
# served chain verifies against the bundle (openssl s_client, then
# openssl verify -CAfile bundle -untrusted chain leaf), an issued leaf
# verifies with the bundle as anchors and its chain's intermediates as
# untrusted, the daemon's files verify, the bundle's ETag is the agreed
# hash, and each CA's CRL (/v1/crl/<ski>) verifies against that CA.
#
# usage: test_ca_rollover.sh PATH-TO-redis-ca [MODE]
#   MODE 1 (default): one tier, the next CA self-signed, prepare by route.
#   MODE 2: `init --root-out`, the next intermediate signed by the root
#   with `redis-ca ca prepare --root-key --root-cert` (the CLI while serve
#   runs); the bundle (the root) never changes.
#   MODE pg: one tier, two serves (A and B) on one PostgreSQL 15: prepare
#   on A, ca-next.* copied to B (docs/ca-lifecycle.md), activate on B,
#   retire on A; the daemon talks to B; each instance follows the phases
#   the other made (GET /v1/ca, its files, its API certificate).  Skipped
#   (77) without the PostgreSQL binaries.
. "$(dirname "$0")/lib.sh"

rca_setup "${1:-}"
MODE=${2:-1}
case $MODE in
1 | 2) TIERS=$MODE PG=0 ;;
pg) TIERS=1 PG=1 ;;
*) die "usage: $0 PATH-TO-redis-ca [1|2|pg]" ;;
esac
RCA_TEST_NAME="$RCA_TEST_NAME/$MODE"
rca_need redis-server redis-cli
T=$RCA_TMP
START=$(date +%s)
if [ "$PG" = 1 ]; then
	. "$(dirname "$0")/lib_pg.sh"
	pg_available || { log "PostgreSQL 15 binaries missing: skipped"; exit 77; }
	trap pg_rollover_cleanup EXIT
fi

# With PostgreSQL: both serves stopped (each must exit 0 on SIGTERM),
# then the PostgreSQL server, then lib.sh's clean-up.
pg_rollover_cleanup()
{
	local rc=$? n
	trap - EXIT
	if [ -n "${B_PID:-}" ]; then
		rca_stop_pid "$B_PID" "serve B" || rc=1
		[ "$rc" = 0 ] || tail -n 30 "$T/serve-b.log" >&2
	fi
	if [ -n "$RCA_SERVE_PID" ]; then
		rca_stop_pid "$RCA_SERVE_PID" "serve A" || rc=1
		RCA_SERVE_PID=""
	fi
	for n in "${!PG_PID[@]}"; do
		pg_stop "$n"
	done
	(exit "$rc")
	rca_cleanup
}

if [ "$TIERS" = 2 ]; then
	rca_init --root-out "$T/root"
	[ -f "$T/root/root.key" ] && [ -f "$T/root/root.crt" ] ||
	    die "init --root-out wrote no root.key/root.crt"
else
	rca_init
fi
# A small scheduler interval: nodes registered are rotated at once, the
# ones activate marks due within a second, stale bundles pushed.
rca_config_edit '.rotation.check_interval = "1s"'
if [ "$PG" = 1 ]; then
	pg_start p1
	pg_config_database "${PG_URI[p1]}"
	"$RCA_BIN" migrate --config "$DATA/config.json" > "$T/migrate.out" 2>&1 ||
	    die "migrate on PostgreSQL: $(cat "$T/migrate.out")"
	"$RCA_BIN" token create --kind admin --config "$DATA/config.json" \
	    > "$T/admin.out" 2>&1 || die "token create: $(cat "$T/admin.out")"
	ADMIN=$(awk '$1 == "token:" { print $2 }' "$T/admin.out")
	# Instance B: a copy of the data folder (the same ca.key) on its
	# own ports.
	DATA_B=$T/data-b
	cp -a "$DATA" "$DATA_B" || die "cannot copy the data folder"
	rm -f "$DATA_B"/redis-ca.db* "$DATA_B/serve.lock"
	B_APORT=$(rca_free_port) && B_PPORT=$(rca_free_port) || die "no free port"
	jq --arg api "127.0.0.1:$B_APORT" --arg pub "127.0.0.1:$B_PPORT" \
	    --arg url "http://127.0.0.1:$B_PPORT" \
	    '.listen.api = $api | .listen.public = $pub | .public_url = $url' \
	    "$DATA/config.json" > "$DATA_B/config.json" ||
	    die "jq could not write B's config.json"
	API_B="https://127.0.0.1:$B_APORT"
	PUB_B="http://127.0.0.1:$B_PPORT"
fi
rca_start
if [ "$PG" = 1 ]; then
	"$RCA_BIN" serve --config "$DATA_B/config.json" >> "$T/serve-b.log" 2>&1 &
	B_PID=$!
	rca_track "$B_PID"
	for i in $(seq 1 300); do
		kill -0 "$B_PID" 2>/dev/null ||
		    die "serve B exited during start-up: $(tail -n 20 "$T/serve-b.log")"
		curl -s -o /dev/null --max-time 2 "$PUB_B/healthz" && break
		sleep 0.1
	done
	curl -s -o /dev/null --max-time 2 "$PUB_B/healthz" ||
	    die "serve B did not answer /healthz within 30 s"
	log "serve B is up (pid $B_PID, api $API_B), both on ${PG_URI[p1]}"
fi
# The instance the daemon talks to and the one that activates.
API_D=${API_B:-$API}

# on_b METHOD PATH [JSON]: an admin call to B (to A without PostgreSQL).
on_b()
{
	local method=$1 path=$2
	if [ $# -ge 3 ]; then
		rca_http "$API_D" "$method" "$path" \
		    -H "Authorization: Bearer $ADMIN" \
		    -H 'Content-Type: application/json' --data-binary "$3"
	else
		rca_http "$API_D" "$method" "$path" \
		    -H "Authorization: Bearer $ADMIN"
	fi
}

# ---- helpers ----

# Client certificates live 45 s (notAfter = now + ttl; notBefore is a
# minute back): the daemon renews 5 to 10 s after each issuance, so the
# old CA's last client certificate expires 45 s after activate at most.
CLIENT_TTL=45s

# hex_ext FILE EXT: the keyid of an SKI/AKI extension, lowercase hex.
hex_ext()
{
	openssl x509 -in "$1" -noout -ext "$2" 2>/dev/null | tail -n +2 |
	    tr -d ' :\n' | sed 's/^keyid//' | tr 'A-F' 'a-f'
}
aki() { hex_ext "$1" authorityKeyIdentifier; }

# ncerts FILE: how many certificates FILE holds.
ncerts() { grep -c -- '-----BEGIN CERTIFICATE-----' "$1"; }

# first_cert FILE OUT: the first certificate of FILE.
first_cert()
{
	awk '/-----BEGIN CERTIFICATE-----/ { n++ } n == 1 { print }
	    /-----END CERTIFICATE-----/ && n == 1 { exit }' "$1" > "$2"
}

# bundle_get: GET /v1/ca/bundle.pem into $T/bundle.pem; checks the ETag
# ("<first 32 hex of SHA-256 of the body>") and If-None-Match -> 304.
# Sets ETAG.  $T/trust.pem (the CA file of every HTTPS call) gains it.
bundle_get()
{
	local want
	pub GET /v1/ca/bundle.pem
	expect_status 200 "GET /v1/ca/bundle.pem"
	cp "$T/body" "$T/bundle.pem"
	ETAG=$(header ETag)
	want="\"$(sha256sum < "$T/bundle.pem" | cut -c1-32)\""
	[ "$ETAG" = "$want" ] ||
	    die "bundle ETag $ETAG, want $want (SHA-256 of the body)"
	pub GET /v1/ca/bundle.pem -H "If-None-Match: $ETAG"
	expect_status 304 "GET /v1/ca/bundle.pem with If-None-Match"
	cat "$T/bundle.pem" "$T/trust.pem" 2>/dev/null > "$T/trust.new"
	mv "$T/trust.new" "$T/trust.pem"
}

# ca_get: GET /v1/ca into $T/ca.json.
ca_get()
{
	adm GET /v1/ca
	expect_status 200 "GET /v1/ca"
	schema_check CaList "$T/body" "GET /v1/ca"
	cp "$T/body" "$T/ca.json"
}

# ca_files SKI OUT: that CA's certificate and anchors (from $T/ca.json),
# the CA file its CRL verifies against.
ca_files()
{
	jq -r --arg s "$1" '[.current, .next, .retired[]?] | map(select(. !=
	    null and .ski == $s)) | .[0] | .certificate, .anchors' \
	    "$T/ca.json" > "$2"
	[ "$(ncerts "$2")" -ge 1 ] || die "GET /v1/ca has no CA $1"
}

# served_chain PORT NAME: the chain served on PORT verifies against the
# bundle (s_client with -verify_return_error, then openssl verify with
# the chain's certificates after the leaf as untrusted); the leaf is
# kept as $T/served.NAME.pem.  Prints the leaf's AKI.
served_chain()
{
	local port=$1 name=$2 i
	for i in 1 2 3; do
		rca_admin_pair
		timeout 10 openssl s_client -connect "127.0.0.1:$port" \
		    -CAfile "$T/bundle.pem" -verify_return_error \
		    -cert "$T/admin-now.crt" -key "$T/admin-now.key" \
		    -showcerts < /dev/null > "$T/sclient.out" 2>&1 && break
	done
	grep -q 'Verify return code: 0 (ok)' "$T/sclient.out" ||
	    die "the chain served on $port ($name) does not verify against the bundle:
$(grep -i 'verif\|error' "$T/sclient.out" | head -n 5)"
	awk '/-----BEGIN CERTIFICATE-----/ { p = 1 } p { print }
	    /-----END CERTIFICATE-----/ { p = 0 }' "$T/sclient.out" \
	    > "$T/served.$name.chain"
	first_cert "$T/served.$name.chain" "$T/served.$name.pem"
	openssl verify -CAfile "$T/bundle.pem" \
	    -untrusted "$T/served.$name.chain" "$T/served.$name.pem" \
	    > "$T/verify.out" 2>&1 ||
	    die "openssl verify of $name's served leaf: $(cat "$T/verify.out")"
	aki "$T/served.$name.pem"
}

# leaf_verifies WHAT: a leaf issued now verifies with the bundle as
# anchors and its chain's intermediates as untrusted; chain = leaf +
# intermediates (never the anchor), ca_certificate = the bundle.  It is
# revoked afterwards (it would hold up retire).  Prints its AKI.
leaf_verifies()
{
	local serial
	adm POST /v1/certificates/generate '{"profile": "redis-client",
	    "common_name": "probe", "ttl": "10m"}'
	expect_status 201 "issue a probe leaf ($1)"
	serial=$(jb .serial)
	jb .certificate > "$T/probe.pem"
	jb .chain > "$T/probe.chain"
	jq -j .ca_certificate "$T/body" > "$T/probe.ca"
	cmp -s "$T/probe.ca" "$T/bundle.pem" ||
	    die "$1: ca_certificate is not the bundle"
	[ "$(ncerts "$T/probe.chain")" = "$TIERS" ] ||
	    die "$1: chain holds $(ncerts "$T/probe.chain") certificates, want $TIERS (leaf + intermediates, never the anchor)"
	openssl verify -CAfile "$T/bundle.pem" -untrusted "$T/probe.chain" \
	    "$T/probe.pem" > "$T/verify.out" 2>&1 ||
	    die "$1: openssl verify of an issued leaf: $(cat "$T/verify.out")"
	# Its CRL distribution point is its issuer's own CRL.
	openssl x509 -in "$T/probe.pem" -noout -ext crlDistributionPoints \
	    2>/dev/null | grep -qF "URI:$PUB/v1/crl/$(aki "$T/probe.pem")" ||
	    die "$1: the leaf's CRL distribution point is not $PUB/v1/crl/<its issuer's SKI>: $(openssl x509 -in "$T/probe.pem" -noout -ext crlDistributionPoints 2>&1)"
	adm POST "/v1/certificates/$serial/revoke" '{"reason": "superseded"}'
	expect_status 200 "revoke the probe leaf"
	aki "$T/probe.pem"
}

# leaves_verify WHAT: every valid certificate the CA has issued (GET
# /v1/certificates?status=valid) and not expiring within 5 s verifies
# with the bundle as anchors and the CAs' certificates of GET /v1/ca as
# untrusted intermediates.  Prints how many.
leaves_verify()
{
	local s n=0
	jq -r '[.current, .next, .retired[]?] | map(select(. != null and
	    .certificate != null)) | .[].certificate' "$T/ca.json" \
	    > "$T/cas.pem"
	list_serials status=valid
	for s in $(cat "$T/serials"); do
		adm GET "/v1/certificates/$s.pem"
		expect_status 200 "$1: GET /v1/certificates/$s.pem"
		cp "$T/body" "$T/leaf.pem"
		openssl x509 -in "$T/leaf.pem" -noout -checkend 5 \
		    > /dev/null 2>&1 || continue
		openssl verify -CAfile "$T/bundle.pem" -untrusted "$T/cas.pem" \
		    "$T/leaf.pem" > "$T/verify.out" 2>&1 ||
		    die "$1: the valid certificate $s does not verify against the bundle: $(cat "$T/verify.out")"
		n=$((n + 1))
	done
	[ "$n" -ge 1 ] || die "$1: no valid certificate to verify"
	printf '%s\n' "$n"
}

# crls_verify WHAT: every CA of GET /v1/ca serves its CRL at
# /v1/crl/<ski> (DER) and .pem, each verifying against that CA.
crls_verify()
{
	local ski
	for ski in $(jq -r '[.current, .next, .retired[]?] |
	    map(select(. != null and .state != "pending")) | .[].ski' \
	    "$T/ca.json"); do
		ca_files "$ski" "$T/crl.ca"
		pub GET "/v1/crl/$ski"
		expect_status 200 "$1: GET /v1/crl/$ski"
		openssl crl -inform DER -in "$T/body" -CAfile "$T/crl.ca" \
		    -noout > "$T/crl.out" 2>&1 &&
		    grep -q 'verify OK' "$T/crl.out" ||
		    die "$1: the CRL of $ski does not verify against its CA: $(cat "$T/crl.out")"
		openssl crl -inform DER -in "$T/body" -noout -text 2>/dev/null |
		    grep -A1 'Authority Key Identifier' | tail -n 1 |
		    tr -d ' :\n' | sed 's/^keyid//' | tr 'A-F' 'a-f' \
		    > "$T/crl.aki"
		[ "$(cat "$T/crl.aki")" = "$ski" ] ||
		    die "$1: /v1/crl/$ski is signed by $(cat "$T/crl.aki")"
		pub GET "/v1/crl/$ski.pem"
		expect_status 200 "$1: GET /v1/crl/$ski.pem"
		openssl crl -in "$T/body" -CAfile "$T/crl.ca" -noout \
		    > "$T/crl.out" 2>&1 && grep -q 'verify OK' "$T/crl.out" ||
		    die "$1: the PEM CRL of $ski does not verify: $(cat "$T/crl.out")"
	done
}

# daemon_files_verify WHAT: the daemon's chain.pem verifies with its
# ca.pem; prints the AKI of its cert.pem.
daemon_files_verify()
{
	local i
	for i in $(seq 1 20); do
		cp "$APP/cert.pem" "$T/app.cert" && cp "$APP/chain.pem" \
		    "$T/app.chain" && cp "$APP/ca.pem" "$T/app.ca" &&
		    cmp -s "$T/app.cert" <(first_cert "$T/app.chain" /dev/stdout) &&
		    break
		sleep 0.05
	done
	openssl verify -CAfile "$T/app.ca" -untrusted "$T/app.chain" \
	    "$T/app.cert" > "$T/verify.out" 2>&1 ||
	    die "$1: the daemon's cert.pem does not verify with its ca.pem: $(cat "$T/verify.out")"
	aki "$T/app.cert"
}

# node_bundles WHAT: each node's ca_file is the bundle and is the file
# redis-server loads (CONFIG GET tls-ca-cert-file).
node_bundles()
{
	local n port i
	for n in primary replica; do
		# A node the scheduler was pushing to when the phase ran is
		# reported "busy" and has the bundle a moment later.
		for i in $(seq 1 30); do
			cmp -s "$T/$n/ca.crt" "$T/bundle.pem" && break
			sleep 0.5
		done
		cmp -s "$T/$n/ca.crt" "$T/bundle.pem" ||
		    die "$1: $n's ca_file is not the bundle after 15 s"
		port=$PPORT
		[ "$n" = replica ] && port=$RPORT
		[ "$(rca_rcli "$port" CONFIG GET tls-ca-cert-file | tail -n 1)" \
		    = "$T/$n/ca.crt" ] ||
		    die "$1: $n does not load $T/$n/ca.crt"
	done
}

# nodes_pushed WHAT: the phase's answer lists both nodes, each pushed
# (ok) or "busy" (the scheduler's own push of the stale node was running:
# node_bundles then waits for it); nothing failed.
nodes_pushed()
{
	[ "$(jb '.nodes | length')" = 2 ] &&
	    [ "$(jb '[.nodes[] | select((.ok | not) and
	    (.detail | startswith("busy") | not))] | length')" = 0 ] ||
	    die "$1: the bundle was not pushed to both nodes: $(jb -c .nodes)"
}

# check_phase WHAT: everything that must hold at every phase.
check_phase()
{
	local a
	bundle_get
	ca_get
	a=$(served_chain "$PPORT" primary) || exit 1
	a=$(served_chain "$RPORT" replica) || exit 1
	leaf_verifies "$1" > /dev/null || exit 1
	crls_verify "$1"
	daemon_files_verify "$1" > /dev/null || exit 1
	leaves_verify "$1" > "$T/nleaves" || exit 1
	rca_link_up "$RPORT" || die "$1: the replication link is not up"
	[ "$PG" = 1 ] && b_agrees "$1"
	ok "$1: served chains, $(cat "$T/nleaves") valid leaves, the daemon's files and $(jq '[.current, .next, .retired[]?] | map(select(. != null)) | length' "$T/ca.json") CRL(s) verify; bundle $ETAG ($(ncerts "$T/bundle.pem") anchor(s))"
}

# b_agrees WHAT: B shows the same CAs and bundle as A (GET /v1/ca:
# the SKIs and states, bundle_etag) within 15 s, and serves the same
# bundle.
b_view() { jq -c '{c: .current.ski, n: .next.ski, r: [.retired[].ski],
    e: .bundle_etag}' "$1"; }
b_agrees()
{
	local i want
	want=$(b_view "$T/ca.json")
	for i in $(seq 1 30); do
		on_b GET /v1/ca
		[ "$STATUS" = 200 ] && [ "$(b_view "$T/body")" = "$want" ] && break
		sleep 0.5
	done
	[ "$(b_view "$T/body")" = "$want" ] ||
	    die "$1: B shows $(b_view "$T/body"), A $want"
	rca_http "$PUB_B" GET /v1/ca/bundle.pem
	cmp -s "$T/body" "$T/bundle.pem" || die "$1: B serves another bundle"
}

# phase_mark NAME: keep the clients' counters at a phase boundary; both
# clients got commands through since the last one, none failed.
MARK_A=0
MARK_B=0
phase_mark()
{
	local a b
	cp "$T/clients.json" "$T/clients.$1.json"
	a=$(jq -r .a.ok "$T/clients.$1.json")
	b=$(jq -r .b.ok "$T/clients.$1.json")
	log "clients at $1: A ok $a, B ok $b, link samples $(rca_clients_get .link.samples)"
	rca_clients_clean "at $1"
	[ "$a" -gt "$MARK_A" ] && [ "$b" -gt "$MARK_B" ] ||
	    die "at $1: the clients got nothing through since the last phase (A $MARK_A -> $a, B $MARK_B -> $b)"
	MARK_A=$a
	MARK_B=$b
}

# metric_has REGEX WHAT: /metrics has a line matching REGEX.
metric_has()
{
	pub GET /metrics
	expect_status 200 "GET /metrics"
	grep -qE "$1" "$T/body" || die "$2: /metrics lacks $1"
}

# wait_until SECONDS WHAT CMD...: poll CMD every 0.5 s.
wait_until()
{
	local secs=$1 what=$2 i
	shift 2
	for i in $(seq 1 $((secs * 2))); do
		"$@" && return 0
		kill -0 "$DPID" 2>/dev/null ||
		    die "the enroll daemon exited: $(tail -n 20 "$T/daemon.log")"
		sleep 0.5
	done
	die "$what did not happen within $secs s"
}

# ---- the nodes and the clients ----

CACERT_DATA=$CACERT
bundle_get
CACERT="$T/trust.pem"
[ "$(ncerts "$T/bundle.pem")" = 1 ] ||
    die "the bundle holds $(ncerts "$T/bundle.pem") certificates before a rollover"
if [ "$TIERS" = 2 ]; then
	cmp -s "$T/bundle.pem" "$T/root/root.crt" ||
	    die "two tiers: the bundle is not the root"
	[ "$(aki "$CACERT_DATA")" = "$(hex_ext "$T/root/root.crt" \
	    subjectKeyIdentifier)" ] || die "ca.crt is not signed by the root"
fi
ca_get
OLD_SKI=$(jq -r .current.ski "$T/ca.json")
[ -n "$OLD_SKI" ] && [ "$OLD_SKI" != null ] || die "GET /v1/ca has no current.ski"
[ "$(jq -r .next "$T/ca.json")" = null ] || die "a next CA before prepare"

rca_redis_pair
P0=$(rca_node_rotated primary 30) || exit 1
R0=$(rca_node_rotated replica 30) || exit 1
ok "primary and replica registered and rotated by the scheduler ($P0, $R0)"

# Client A (and the link sampler): a certificate of the old CA.
adm POST /v1/certificates/generate '{"profile": "redis-client",
    "common_name": "app-a", "ttl": "30s"}'
expect_status 201 "client A's certificate"
jb .chain > "$T/a.crt"
jb .private_key > "$T/a.key"
cp "$T/bundle.pem" "$T/a.ca"

# Client B: the files of `enroll --daemon`.
adm POST /v1/tokens '{"kind": "enroll", "profile": "redis-client",
    "names": ["app-*"], "uses": 1, "ttl": "1h", "max_cert_ttl": "5m"}'
expect_status 201 "an enroll token"
(umask 077 && jb .token > "$T/token")
APP="$T/app"
"$RCA_BIN" enroll --daemon --url "$API_D" --cacert "$T/trust.pem" \
    --token-file "$T/token" --profile redis-client --cn app-b \
    --ttl "$CLIENT_TTL" --bundle-check 2s --out "$APP" \
    --exec "echo \"\$REDIS_CA_SERIAL\" >> '$T/exec.log'" \
    > "$T/daemon.out" 2> "$T/daemon.log" &
DPID=$!
rca_track "$DPID"
wait_until 30 "the first enrollment" test -f "$APP/cert.pem"

rca_clients_start "$T/a.crt" "$T/a.key" "$T/a.ca" "$APP"
sleep 2
check_phase "before the rollover"
phase_mark start

# ---- 1. prepare ----

T_PREP=$(date +%s)
if [ "$TIERS" = 2 ]; then
	"$RCA_BIN" ca prepare --root-key "$T/root/root.key" \
	    --root-cert "$T/root/root.crt" --config "$DATA/config.json" \
	    > "$T/prepare.out" 2>&1 ||
	    die "redis-ca ca prepare --root-key failed: $(cat "$T/prepare.out")"
	ok "redis-ca ca prepare --root-key --root-cert (serve running)"
	# serve sees the CLI's change at its next CA watch (<= 5 s).
	has_next()
	{
		adm GET /v1/ca
		[ "$STATUS" = 200 ] && [ "$(jb '.next.state // ""')" = next ]
	}
	wait_until 15 "serve showing the next CA" has_next
else
	adm POST /v1/ca/prepare '{}'
	expect_status 200 "POST /v1/ca/prepare"
	schema_check CaPhaseResult "$T/body" "POST /v1/ca/prepare"
	nodes_pushed prepare
	ok "POST /v1/ca/prepare: bundle pushed to both nodes ($(jb -r '[.nodes[] | .name + (if .ok then " pushed" else
    " busy, pushed by the scheduler" end)] | join(", ")'))"
fi
OLD_ETAG=$ETAG
ca_get
NEW_SKI=$(jq -r .next.ski "$T/ca.json")
[ "$(jq -r .next.state "$T/ca.json")" = next ] && [ -n "$NEW_SKI" ] &&
    [ "$NEW_SKI" != "$OLD_SKI" ] || die "after prepare: $(jq -c .next "$T/ca.json")"
adm POST /v1/ca/prepare '{}'
expect_error 409 ca_next_exists "prepare twice"
bundle_get
if [ "$TIERS" = 2 ]; then
	[ "$ETAG" = "$OLD_ETAG" ] && [ "$(ncerts "$T/bundle.pem")" = 1 ] ||
	    die "two tiers: the bundle changed on prepare (the root did not)"
	[ "$(jq -r .next.anchors "$T/ca.json")" = \
	    "$(jq -r .current.anchors "$T/ca.json")" ] ||
	    die "two tiers: the next CA has other anchors than the current"
else
	[ "$ETAG" != "$OLD_ETAG" ] && [ "$(ncerts "$T/bundle.pem")" = 2 ] ||
	    die "one tier: the bundle after prepare holds $(ncerts "$T/bundle.pem") certificates (ETag $ETAG, was $OLD_ETAG)"
fi
# Nodes: the push is synchronous (route) or awaited (CLI).
node_bundles "after prepare"
if [ "$PG" = 1 ]; then
	# docs/ca-lifecycle.md: copy the next CA's files to every instance
	# before activate; B loads the key at its next CA watch.
	cp -p "$DATA/ca-next.key" "$DATA/ca-next.crt" "$DATA_B/" ||
	    die "cannot copy ca-next.* to B"
	b_has_next_key()
	{
		on_b GET /v1/ca
		[ "$STATUS" = 200 ] &&
		    [ "$(jb '.next.ski // ""')" = "$NEW_SKI" ] &&
		    [ "$(jb '.next.has_key')" = true ]
	}
	wait_until 20 "B holding the next CA's key" b_has_next_key
	ok "B sees the next CA prepared on A and holds its key (copied)"
fi
wait_until 30 "the daemon's ca.pem = the new bundle" \
    cmp -s "$APP/ca.pem" "$T/bundle.pem"
metric_has "^redisca_ca_expiry_timestamp_seconds\\{ca=\"$NEW_SKI\",state=\"next\"\\} [0-9]" \
    "after prepare"
check_phase "prepared"
phase_mark prepared
PREP_ETAG=$ETAG

# ---- 2. activate ----

T_ACT=$(date +%s)
on_b POST /v1/ca/activate '{}'
expect_status 200 "POST /v1/ca/activate"
schema_check CaPhaseResult "$T/body" "POST /v1/ca/activate"
# Each node is listed as marked due (ok) for the scheduler's next pass
# (detail "due: ..."); no other outcome.
[ "$(jb '.nodes | length')" = 2 ] &&
    [ "$(jb '[.nodes[] | select((.ok | not) or
    (.detail | startswith("due") | not))] | length')" = 0 ] ||
    die "activate: nodes failed: $(jb -c .nodes)"
if [ "$PG" = 1 ]; then
	a_current_new()
	{
		adm GET /v1/ca
		[ "$STATUS" = 200 ] && [ "$(jb .current.ski)" = "$NEW_SKI" ]
	}
	wait_until 20 "A following B's activate" a_current_new
	ok "A follows the activate made on B within $(($(date +%s) - T_ACT)) s"
fi
ca_get
[ "$(jq -r .current.ski "$T/ca.json")" = "$NEW_SKI" ] &&
    [ "$(jq -r '.retired[0].ski' "$T/ca.json")" = "$OLD_SKI" ] &&
    [ "$(jq -r .next "$T/ca.json")" = null ] ||
    die "after activate: $(jq -c '{current: .current.ski, next: .next,
	retired: [.retired[].ski]}' "$T/ca.json")"
ok "activate: the new CA issues, the old one is retired (still in the bundle)"
[ "$(hex_ext "$DATA/ca.crt" subjectKeyIdentifier)" = "$NEW_SKI" ] ||
    die "ca.crt is not the new CA after activate"
P1=$(rca_node_rotated primary 30 "$P0") || exit 1
R1=$(rca_node_rotated replica 30 "$R0") || exit 1
wait_until 30 "both nodes serving the new CA's certificates" eval \
    '[ "$(served_chain "$PPORT" primary)" = "$NEW_SKI" ] &&
     [ "$(served_chain "$RPORT" replica)" = "$NEW_SKI" ]'
T_ROT=$(date +%s)
ok "both nodes rotated onto the new CA ($P1, $R1) in $((T_ROT - T_ACT)) s"
for s in "$P0" "$R0"; do
	adm GET "/v1/certificates/$s"
	[ "$(jb .status)" = revoked ] ||
	    die "the replaced node certificate $s is $(jb .status)"
done
# The API listener's certificate is re-issued and reloaded, no restart.
api_aki()
{
	timeout 10 openssl s_client -connect "127.0.0.1:$API_PORT" \
	    -CAfile "$T/bundle.pem" -verify_return_error -showcerts \
	    < /dev/null > "$T/api.sclient" 2>&1 || return 1
	first_cert "$T/api.sclient" "$T/api.leaf"
	[ "$(aki "$T/api.leaf")" = "$NEW_SKI" ]
}
wait_until 30 "the API listener serving a certificate of the new CA" api_aki
if [ "$PG" = 1 ]; then
	API_PORT_A=$API_PORT
	API_PORT=$B_APORT
	wait_until 30 "B's API listener serving a certificate of the new CA" \
	    api_aki
	API_PORT=$API_PORT_A
fi
ok "the API listener serves a certificate of the new CA (verified against the bundle)"
metric_has "^redisca_ca_expiry_timestamp_seconds\\{ca=\"$OLD_SKI\",state=\"retired\"\\} [0-9]" \
    "after activate"
check_phase "activated"
# The set of anchors is the same: activate changes neither the bundle
# nor its ETag (no push to nodes, no ca.pem rewrite for clients).
[ "$ETAG" = "$PREP_ETAG" ] ||
    die "activate changed the bundle's ETag ($PREP_ETAG -> $ETAG) with the same anchors"
phase_mark activated

# Retire now: the old CA still has unexpired client certificates.
adm POST /v1/ca/retire '{}'
[ "$STATUS" = 409 ] && [ "$(jb .error.code)" = ca_unexpired_certificates ] ||
    die "retire before the old certificates expired: want 409 ca_unexpired_certificates, got $STATUS"
schema_check CaRetireError "$T/body" "retire refused (409)"
[ "$(jb '.error.certificates | length')" -ge 1 ] &&
    [ "$(jb .error.count)" -ge "$(jb '.error.certificates | length')" ] ||
    die "the 409 does not list the certificates: $(body)"
ok "retire refused: $(jb .error.count) unexpired certificate(s) of the old CA listed"

# Clients renewed: the daemon's next renewal comes from the new CA.
wait_until 30 "the daemon renewed by the new CA" eval \
    '[ "$(daemon_files_verify renewal)" = "$NEW_SKI" ]'
ok "client B renewed by the new CA (mTLS with an old-CA certificate)"
check_phase "clients renewed"
phase_mark renewed

# ---- 3. retire, once the old CA's certificates expired ----

old_expired()
{
	adm GET /v1/ca
	[ "$STATUS" = 200 ] && [ "$(jb '.retired[0].certificates_unexpired')" = 0 ]
}
wait_until 90 "the old CA's certificates expiring" old_expired
T_EXP=$(date +%s)
adm POST /v1/ca/retire '{}'
expect_status 200 "POST /v1/ca/retire"
schema_check CaPhaseResult "$T/body" "POST /v1/ca/retire"
# One tier: the bundle loses the old CA and is pushed to both nodes; two
# tiers: it stays the root, nothing to push (and nothing may fail).
if [ "$TIERS" = 1 ]; then
	nodes_pushed retire
else
	[ "$(jb '[.nodes[] | select(.ok | not)] | length')" = 0 ] ||
	    die "retire: a node failed: $(jb -c .nodes)"
fi
ca_get
[ "$(jq -r '.retired | length' "$T/ca.json")" = 0 ] &&
    [ "$(jq -r .current.ski "$T/ca.json")" = "$NEW_SKI" ] ||
    die "after retire: $(cat "$T/ca.json")"
pub GET "/v1/crl/$OLD_SKI"
expect_error 404 not_found "the retired CA's CRL"
for f in ca-prev.key ca-prev.crt ca-next.key ca-next.crt; do
	[ -e "$DATA/$f" ] && die "$f is left after retire"
done
bundle_get
[ "$(ncerts "$T/bundle.pem")" = 1 ] ||
    die "the bundle after retire holds $(ncerts "$T/bundle.pem") certificates"
if [ "$TIERS" = 1 ]; then
	cmp -s "$T/bundle.pem" "$DATA/ca.crt" ||
	    die "one tier: the bundle after retire is not the new CA"
	wait_until 30 "the daemon's ca.pem = the bundle without the old CA" \
	    cmp -s "$APP/ca.pem" "$T/bundle.pem"
fi
node_bundles "after retire"
if [ "$PG" = 1 ]; then
	b_files_retired()
	{
		[ ! -e "$DATA_B/ca-prev.key" ] && [ ! -e "$DATA_B/ca-prev.crt" ] &&
		    [ ! -e "$DATA_B/ca-next.key" ] &&
		    [ "$(hex_ext "$DATA_B/ca.crt" subjectKeyIdentifier)" = "$NEW_SKI" ]
	}
	wait_until 20 "B's files following retire (ca.crt new, ca-prev.* deleted)" \
	    b_files_retired
	ok "B's data folder follows: ca.crt is the new CA, ca-prev.* deleted"
fi
ok "retire: the old CA left the bundle, its CRL is gone (404), ca-prev.* deleted"
pub GET /metrics
grep -q "ca=\"$OLD_SKI\"" "$T/body" && die "/metrics still shows the old CA"
sleep 3
check_phase "retired"
phase_mark retired

# ---- the figures ----

rca_clients_stop
rca_clients_clean "the whole run"
[ "$(rca_clients_get .link.errors)" = 0 ] ||
    die "the link sampler lost its connection: $(head -n 5 "$T/clients.log")"
[ "$(rca_clients_get .link.last)" = up ] ||
    die "the replication link is $(rca_clients_get .link.last) at the end"
rca_link_up "$RPORT" || die "the replication link is not up at the end"
# One rotation: the longest node rotation recorded (whole seconds).
ROT_MAX=0
for n in primary replica; do
	adm GET "/v1/nodes/$n/rotations"
	expect_status 200 "GET /v1/nodes/$n/rotations"
	d=$(jb '[.items[] | select(.finished_at != null) |
	    ((.finished_at | sub("\\.[0-9]+";"") | fromdateiso8601) -
	     (.started_at | sub("\\.[0-9]+";"") | fromdateiso8601))] |
	    max // 0')
	[ "$d" -gt "$ROT_MAX" ] && ROT_MAX=$d
done
DOWN=$(rca_clients_get .link.longest_down_s)
awk -v d="$DOWN" -v r="$ROT_MAX" 'BEGIN { exit !(d <= r + 1) }' ||
    die "the replication link was down $DOWN s, longer than one rotation ($ROT_MAX s)"
adm GET '/v1/audit?limit=1000'
for a in ca.prepare ca.activate ca.retire; do
	[ "$(jb --arg a "$a" '[.items[] | select(.action == $a and
	    .outcome == "ok")] | length')" -ge 1 ] || die "no $a ok in the audit log"
done
[ "$(jb '[.items[] | select(.action == "ca.retire" and
    .outcome == "denied")] | length')" -ge 1 ] ||
    die "the refused retire was not audited as denied"
schema_flush
END=$(date +%s)
FA=$(rca_clients_get .a.ok)
FB=$(rca_clients_get .b.ok)
ok "mode $MODE: failed commands 0/$FA (A, one connection), 0/$FB (B, a new connection each, $(rca_clients_get .b.torn_reads) torn file reads re-read, $(rca_clients_get .b.served_certs) server certificates seen); replication link longest down ${DOWN} s ($(rca_clients_get .link.samples) samples, one rotation <= ${ROT_MAX} s); daemon renewals $(wc -l < "$T/exec.log" 2>/dev/null || echo 0) --exec runs; prepare->activate $((T_ACT - T_PREP)) s, activate->nodes rotated $((T_ROT - T_ACT)) s, activate->retire $((T_EXP - T_ACT)) s; total $((END - START)) s"
exit 0
