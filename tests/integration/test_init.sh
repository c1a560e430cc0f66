#!/bin/bash
# Integration test of `redis-ca init` (SPEC section 3), `serve`'s refusal
# of an unsafe CA key, and `redis-ca token create|list|revoke`.
# Usage: test_init.sh /path/to/redis-ca
set -u

RCA=${1:?usage: test_init.sh /path/to/redis-ca}
RCA=$(readlink -f "$RCA")
WORK=$(mktemp -d /tmp/rca-init-XXXXXX)
trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $*"; }
check() {	# check "description" command...: output shown only on failure
	local what=$1 log
	shift
	if log=$("$@" 2>&1); then
		ok "$what"
	else
		[ -n "$log" ] && printf '%s\n' "$log" | sed 's/^/# /'
		not_ok "$what"
	fi
}
mode_is() {	# mode_is 0640 file
	local m
	m=$(stat -c '%a' "$2")
	[ "0$m" = "$1" ] || { echo "# $2: mode 0$m, expected $1"; return 1; }
}
exit_is() {	# exit_is N command...: run, expect exit status N
	local want=$1 got
	shift
	"$@" >"$WORK/out" 2>"$WORK/err"
	got=$?
	[ "$got" = "$want" ] || {
		echo "# exit $got, expected $want: $*"
		sed 's/^/# stderr: /' "$WORK/err"
		return 1
	}
}
stderr_has() { grep -q -- "$1" "$WORK/err" || { sed 's/^/# stderr: /' "$WORK/err"; return 1; }; }
stdout_has() { grep -q -- "$1" "$WORK/out" || { sed 's/^/# stdout: /' "$WORK/out"; return 1; }; }
sums() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum; find . -printf '%p %m\n' | sort); }

# ---- default init -------------------------------------------------------
if exit_is 0 "$RCA" init --data "$WORK/d1"; then
	ok "init creates a data folder"
else
	not_ok "init creates a data folder"
	echo "1..$((pass + fail))"
	exit 1
fi
D=$WORK/d1
check "init prints the CA fingerprint" stdout_has "SHA256:[0-9a-f]\{64\}"
check "init prints the admin token once" stdout_has "rca_[0-9a-f]\{64\}"
check "data folder is 0700" mode_is 0700 "$D"
check "config.json is 0640" mode_is 0640 "$D/config.json"
check "ca.key is 0400" mode_is 0400 "$D/ca.key"
check "ca.crt is 0444" mode_is 0444 "$D/ca.crt"
check "redis-ca.db is 0600" mode_is 0600 "$D/redis-ca.db"
check "admin.token is 0400" mode_is 0400 "$D/admin.token"
for f in api admin; do
	check "tls/$f.key is 0400" mode_is 0400 "$D/tls/$f.key"
	check "tls/$f.crt is 0444" mode_is 0444 "$D/tls/$f.crt"
done
check "admin.token holds the printed token" \
	grep -q "$(grep -o 'rca_[0-9a-f]\{64\}' "$WORK/out")" "$D/admin.token"
check "ca.key is PKCS#8 PEM" grep -q "BEGIN PRIVATE KEY" "$D/ca.key"
check "config.json is JSON" jq -e '.listen.api == "127.0.0.1:8443" and
	.listen.public == "127.0.0.1:8080" and
	.public_url == "http://127.0.0.1:8080" and
	.ca.key_passphrase_file == null and
	.profiles["redis-node"].eku == ["serverAuth", "clientAuth"]' \
	"$D/config.json"

check "api.crt verifies against ca.crt" \
	openssl verify -CAfile "$D/ca.crt" "$D/tls/api.crt"
check "admin.crt verifies against ca.crt" \
	openssl verify -CAfile "$D/ca.crt" "$D/tls/admin.crt"
check "api.crt matches api.key" bash -c "
	[ \"\$(openssl x509 -in '$D/tls/api.crt' -noout -pubkey)\" = \
	  \"\$(openssl pkey -in '$D/tls/api.key' -pubout)\" ]"

openssl x509 -in "$D/ca.crt" -noout -text >"$WORK/ca.txt"
check "CA: basicConstraints critical CA:TRUE, pathlen:0" bash -c "
	grep -A1 'Basic Constraints: critical' '$WORK/ca.txt' |
	grep -q 'CA:TRUE, pathlen:0'"
check "CA: keyUsage critical keyCertSign, cRLSign" bash -c "
	grep -A1 'Key Usage: critical' '$WORK/ca.txt' |
	grep -q 'Certificate Sign, CRL Sign'"
check "CA: subject key identifier" grep -q "Subject Key Identifier" \
	"$WORK/ca.txt"
check "CA: EC P-256 by default" grep -q "NIST CURVE: P-256" "$WORK/ca.txt"
check "CA: subject CN=redis-ca" bash -c "
	openssl x509 -in '$D/ca.crt' -noout -subject | grep -q 'CN *= *redis-ca'"
check "CA: about ten years" bash -c "
	openssl x509 -in '$D/ca.crt' -noout -checkend $((3649 * 86400)) &&
	! openssl x509 -in '$D/ca.crt' -noout -checkend $((3651 * 86400))"

openssl x509 -in "$D/tls/api.crt" -noout -text >"$WORK/api.txt"
check "api.crt: SANs localhost and 127.0.0.1" bash -c "
	grep -q 'DNS:localhost' '$WORK/api.txt' &&
	grep -q 'IP Address:127.0.0.1' '$WORK/api.txt'"
check "api.crt: serverAuth" grep -q "TLS Web Server Authentication" \
	"$WORK/api.txt"
check "api.crt: CA:FALSE" grep -q "CA:FALSE" "$WORK/api.txt"
openssl x509 -in "$D/tls/admin.crt" -noout -text >"$WORK/admin.txt"
check "admin.crt: clientAuth, CN redis-ca-admin" bash -c "
	grep -q 'TLS Web Client Authentication' '$WORK/admin.txt' &&
	grep -q 'Subject: CN *= *redis-ca-admin' '$WORK/admin.txt'"

# ---- a second init refuses and changes nothing ---------------------------
sums "$D" >"$WORK/before"
check "second init exits 1" exit_is 1 "$RCA" init --data "$D"
check "second init names the existing CA" stderr_has "ca.key already exists"
check "second init's error is one line" bash -c "[ \$(wc -l <'$WORK/err') = 1 ]"
sums "$D" >"$WORK/after"
check "second init changed nothing" cmp -s "$WORK/before" "$WORK/after"
chmod u+w "$D"
mv "$D/ca.key" "$WORK/ca.key.saved"
check "init refuses when only ca.crt exists" exit_is 1 "$RCA" init --data "$D"
check "... naming ca.crt" stderr_has "ca.crt already exists"
mv "$WORK/ca.key.saved" "$D/ca.key"

# ---- usage errors exit 2 ---------------------------------------------------
check "unknown option exits 2" exit_is 2 "$RCA" init --data "$WORK/x" --bogus
check "rsa-2048 CA refused as usage" exit_is 2 "$RCA" init --data "$WORK/x" \
	--key-type rsa-2048
check "--import-cert without --import-key exits 2" exit_is 2 "$RCA" init \
	--data "$WORK/x" --import-cert "$D/ca.crt"
check "a bad --api-name exits 2" exit_is 2 "$RCA" init --data "$WORK/x" \
	--api-name "not a name"
check "--days 0 exits 2" exit_is 2 "$RCA" init --data "$WORK/x" --days 0
check "usage errors create nothing" test ! -e "$WORK/x"
check "unknown command exits 2" exit_is 2 "$RCA" frobnicate
check "version prints the version" bash -c "'$RCA' version | grep -q '^redis-ca [0-9]'"

# ---- --key-type ec-p384, --cn, --days, --api-name, --public-url ----------
check "init --key-type ec-p384" exit_is 0 "$RCA" init --data "$WORK/d384" \
	--key-type ec-p384 --cn "Test CA 384" --days 30 \
	--api-name ca.example.test --api-name 10.1.2.3 --api-name ::1 \
	--public-url https://ca.example.test:8080
check "P-384 CA key" bash -c "openssl x509 -in '$WORK/d384/ca.crt' -noout \
	-text | grep -q 'NIST CURVE: P-384'"
check "P-384 CA signs with SHA-384" bash -c "openssl x509 -in \
	'$WORK/d384/ca.crt' -noout -text | grep -q 'ecdsa-with-SHA384'"
check "--cn sets the CA subject" bash -c "openssl x509 -in \
	'$WORK/d384/ca.crt' -noout -subject | grep -q 'Test CA 384'"
check "--days 30" bash -c "
	openssl x509 -in '$WORK/d384/ca.crt' -noout -checkend $((29 * 86400)) &&
	! openssl x509 -in '$WORK/d384/ca.crt' -noout -checkend $((31 * 86400))"
check "--api-name sets api.crt's names and CN" bash -c "
	openssl x509 -in '$WORK/d384/tls/api.crt' -noout -text > '$WORK/a384' &&
	grep -q 'DNS:ca.example.test' '$WORK/a384' &&
	grep -q 'IP Address:10.1.2.3' '$WORK/a384' &&
	grep -q 'IP Address:0:0:0:0:0:0:0:1' '$WORK/a384' &&
	grep -q 'Subject: CN *= *ca.example.test' '$WORK/a384' &&
	! grep -q 'DNS:localhost' '$WORK/a384'"
check "--public-url in config.json" jq -e \
	'.public_url == "https://ca.example.test:8080"' "$WORK/d384/config.json"
check "issued certs carry the public URL's CRL DP" bash -c "
	grep -q 'URI:https://ca.example.test:8080/v1/crl' '$WORK/a384'"
check "api.crt (P-384 CA) verifies" openssl verify -CAfile \
	"$WORK/d384/ca.crt" "$WORK/d384/tls/api.crt"

# ---- --passphrase-file ----------------------------------------------------
printf 'correct horse battery staple\n' >"$WORK/pass"
chmod 0400 "$WORK/pass"
check "init --passphrase-file" exit_is 0 "$RCA" init --data "$WORK/dpass" \
	--passphrase-file "$WORK/pass"
check "encrypted CA key" grep -q "BEGIN ENCRYPTED PRIVATE KEY" \
	"$WORK/dpass/ca.key"
check "config.json names the passphrase file (absolute)" jq -e \
	--arg p "$WORK/pass" '.ca.key_passphrase_file == $p' \
	"$WORK/dpass/config.json"
check "the passphrase decrypts the key" openssl pkey -in "$WORK/dpass/ca.key" \
	-passin "file:$WORK/pass" -noout
check "passphrase CA: api.crt verifies" openssl verify -CAfile \
	"$WORK/dpass/ca.crt" "$WORK/dpass/tls/api.crt"
check "missing passphrase file: exit 1, nothing made" bash -c "
	'$RCA' init --data '$WORK/dnopass' --passphrase-file '$WORK/nope' \
	2>/dev/null; [ \$? = 1 ] && [ ! -e '$WORK/dnopass' ]"

# ---- import of an existing CA ---------------------------------------------
printf 'import-secret\n' >"$WORK/ipass"
openssl genrsa -aes256 -passout "file:$WORK/ipass" -out "$WORK/ext.key" 3072 \
	2>/dev/null
openssl req -new -x509 -key "$WORK/ext.key" -passin "file:$WORK/ipass" \
	-subj "/CN=Existing CA" -days 365 -sha256 -out "$WORK/ext.crt" \
	-addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
check "init --import-cert/--import-key of an RSA-3072 CA" exit_is 0 "$RCA" \
	init --data "$WORK/dimp" --import-cert "$WORK/ext.crt" \
	--import-key "$WORK/ext.key" --import-passphrase-file "$WORK/ipass"
check "imported ca.crt is the given certificate" bash -c "
	[ \"\$(openssl x509 -in '$WORK/dimp/ca.crt' -noout -fingerprint -sha256)\" = \
	  \"\$(openssl x509 -in '$WORK/ext.crt' -noout -fingerprint -sha256)\" ]"
check "imported ca.key is 0400" mode_is 0400 "$WORK/dimp/ca.key"
check "imported CA issues api.crt" openssl verify -CAfile "$WORK/dimp/ca.crt" \
	"$WORK/dimp/tls/api.crt"
check "imported ca.key matches" bash -c "
	[ \"\$(openssl x509 -in '$WORK/dimp/ca.crt' -noout -pubkey)\" = \
	  \"\$(openssl pkey -in '$WORK/dimp/ca.key' -pubout)\" ]"

openssl genrsa -out "$WORK/other.key" 3072 2>/dev/null
check "import of a mismatched key exits 1" exit_is 1 "$RCA" init \
	--data "$WORK/dmis" --import-cert "$WORK/ext.crt" \
	--import-key "$WORK/other.key"
check "... saying so" stderr_has "match"
check "... leaving no CA behind" test ! -e "$WORK/dmis/ca.key" -a \
	! -e "$WORK/dmis/ca.crt" -a ! -e "$WORK/dmis/config.json"
openssl req -new -x509 -key "$WORK/other.key" -subj "/CN=leaf" -days 30 \
	-addext "basicConstraints=critical,CA:FALSE" -out "$WORK/leaf.crt" \
	2>/dev/null
check "import of a non-CA certificate exits 1" exit_is 1 "$RCA" init \
	--data "$WORK/dleaf" --import-cert "$WORK/leaf.crt" \
	--import-key "$WORK/other.key"
check "import with a wrong passphrase exits 1" bash -c "
	printf 'wrong\n' > '$WORK/badpass';
	'$RCA' init --data '$WORK/dbad' --import-cert '$WORK/ext.crt' \
	--import-key '$WORK/ext.key' --import-passphrase-file '$WORK/badpass' \
	2>/dev/null; [ \$? = 1 ]"

# ---- serve refuses an unsafe CA key -----------------------------------------
chmod 0644 "$D/ca.key"
check "serve refuses ca.key mode 0644 (exit 1)" exit_is 1 timeout 20 "$RCA" \
	serve --config "$D/config.json"
check "... with a message naming the key" stderr_has "ca.key"
chmod 0400 "$D/ca.key"

# ---- start-up checks (SPEC section 8): unsafe secrets and folders ------------
# On free ports, so a check that failed to refuse cannot collide; timeout
# ends such a serve (exit 124, not 1).
jq '.listen.api = "127.0.0.1:0" | .listen.public = "127.0.0.1:0"' \
	"$D/config.json" >"$D/chk.json"
refuses() {	# refuses "what" TEXT...: serve exits 1 naming each TEXT
	local what=$1 t
	shift
	check "serve refuses $what (exit 1)" exit_is 1 timeout 20 "$RCA" \
		serve --config "$D/chk.json"
	for t in "$@"; do
		check "... saying \"$t\"" stderr_has "$t"
	done
}
chmod 0444 "$D/tls/api.key"
refuses "tls/api.key at 0444" "tls/api.key" "0444"
chmod 0400 "$D/tls/api.key"
chmod 0640 "$D/tls/admin.key"
refuses "tls/admin.key at 0640" "tls/admin.key" "0640"
chmod 0400 "$D/tls/admin.key"
chmod 0644 "$D/admin.token"
refuses "admin.token at 0644" "admin.token" "0644"
chmod 0400 "$D/admin.token"
if [ "$(id -u)" = 0 ]; then
	chown 65534 "$D/tls/api.key"
	refuses "tls/api.key owned by another user" "tls/api.key" "owned by uid 65534"
	chown 0 "$D/tls/api.key"
fi
mv "$D/admin.token" "$WORK/admin.token.saved"
ln -s "$WORK/admin.token.saved" "$D/admin.token"
refuses "admin.token as a symbolic link" "admin.token" "symbolic link"
rm "$D/admin.token"
mv "$WORK/admin.token.saved" "$D/admin.token"
ln "$D/ca.key" "$WORK/ca.key.hard"
refuses "a hard link to ca.key" "ca.key" "2 links"
rm "$WORK/ca.key.hard"
chmod 0777 "$D"
refuses "a 0777 data folder" "$D" "writable by group or others"
chmod 0720 "$D"
refuses "a group-writable data folder" "$D" "0720"
chmod 0700 "$D"
mkdir -m 0777 "$WORK/open"
check "init refuses a data folder others may write (exit 1)" exit_is 1 \
	"$RCA" init --data "$WORK/open"
check "... saying so" stderr_has "writable by group or others"
check "... creating nothing in it" test -z "$(ls -A "$WORK/open")"
check "serve starts again once all is fixed" bash -c "
	'$RCA' serve --config '$D/chk.json' >'$WORK/chk.log' 2>&1 & p=\$!
	for i in \$(seq 1 100); do
		grep -q 'serving: api' '$WORK/chk.log' && break; sleep 0.1
	done
	kill -TERM \$p; wait \$p; grep -q 'serving: api' '$WORK/chk.log'"

check "serve with a missing config exits 1" exit_is 1 "$RCA" serve \
	--config "$WORK/none/config.json"
check "serve with an unknown option exits 2" exit_is 2 "$RCA" serve --bogus

# ---- serve: start-up line, SIGHUP ignored, SIGTERM stops it cleanly ------
# wait_log FILE PATTERN: up to 20 s for PATTERN to appear in FILE.
wait_log() {
	local i
	for i in $(seq 1 200); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
jq '.listen.api = "127.0.0.1:0" | .listen.public = "127.0.0.1:0"' \
	"$D/config.json" >"$D/serve.json"
"$RCA" serve --config "$D/serve.json" >"$WORK/serve.log" 2>&1 &
SERVE_PID=$!
if wait_log "$WORK/serve.log" "serving: api https://127.0.0.1:[1-9]"; then
	ok "serve logs its listening addresses (ports chosen by the kernel)"
	API_PORT=$(sed -n 's/.*serving: api https:\/\/127.0.0.1:\([0-9]*\),.*/\1/p' \
		"$WORK/serve.log")
	PUB_PORT=$(sed -n 's/.*public http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' \
		"$WORK/serve.log")
	check "public listener answers /healthz" bash -c "
		curl -sf http://127.0.0.1:$PUB_PORT/healthz | grep -q ok"
	check "api listener answers with the admin token" bash -c "
		curl -sf --cacert '$D/ca.crt' \
		-H \"Authorization: Bearer \$(cat '$D/admin.token')\" \
		https://127.0.0.1:$API_PORT/v1/certificates | jq -e '.items | length >= 2'"
	# The busy port from another data folder (a copy without the
	# database): on this one, serve.lock refuses a second serve first.
	cp -a "$D" "$WORK/d1b" && rm -f "$WORK/d1b"/redis-ca.db* \
		"$WORK/d1b/serve.lock" "$WORK/d1b/serve.json"
	jq --arg a "127.0.0.1:$API_PORT" '.listen.api = $a |
		.listen.public = "127.0.0.1:0"' "$D/config.json" \
		>"$WORK/d1b/busy.json"
	check "a second serve on a port in use exits 1" exit_is 1 timeout 20 \
		"$RCA" serve --config "$WORK/d1b/busy.json"
	check "... naming the address" stderr_has "127.0.0.1:$API_PORT"
	cp "$WORK/d1b/busy.json" "$D/busy.json"
	check "a second serve on the same data folder exits 1" exit_is 1 \
		timeout 20 "$RCA" serve --config "$D/busy.json"
	check "... naming serve.lock" stderr_has "serve.lock is locked"
	kill -HUP "$SERVE_PID"
	sleep 0.5
	check "SIGHUP is logged and ignored" bash -c "
		kill -0 $SERVE_PID && grep -q SIGHUP '$WORK/serve.log'"
	kill -TERM "$SERVE_PID"
	for i in $(seq 1 100); do
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$SERVE_PID" 2>/dev/null; then
		not_ok "SIGTERM stops serve within 10 s"
		kill -KILL "$SERVE_PID"
		wait "$SERVE_PID"
	else
		wait "$SERVE_PID"
		check "SIGTERM stops serve with exit 0" test "$?" = 0
		check "... logging the shutdown" grep -q "stopped" "$WORK/serve.log"
	fi
else
	not_ok "serve logs its listening addresses (ports chosen by the kernel)"
	sed 's/^/# /' "$WORK/serve.log"
	kill -KILL "$SERVE_PID" 2>/dev/null
	wait "$SERVE_PID"
fi

jq '.listen.api = "127.0.0.1:0" | .listen.public = null |
	.api_tls.enabled = false' "$D/config.json" >"$D/plain.json"
"$RCA" serve --config "$D/plain.json" >"$WORK/plain.log" 2>&1 &
SERVE_PID=$!
check "api_tls.enabled false: a warning at start-up" \
	wait_log "$WORK/plain.log" "warn.*api_tls.enabled is false"
check "... and no public listener" \
	wait_log "$WORK/plain.log" "serving: api http://127.0.0.1:[1-9][0-9]* (no public"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
check "... SIGTERM exit 0" test "$?" = 0

printf '{"listen": {"api": "127.0.0.1:0"}, "rotation": {"renew_before": "1/3"}}' \
	>"$D/bad.json"
check "serve with a bad config exits 1" exit_is 1 "$RCA" serve --config \
	"$D/bad.json"
check "... naming the key" stderr_has "rotation.renew_before"

# ---- token create / list / revoke ---------------------------------------------
C=$D/config.json
check "token create (enroll)" exit_is 0 "$RCA" token create --kind enroll \
	--profile redis-client --name 'app-*' --name 10.0.0.0/8 --uses 2 \
	--ttl 1h --max-cert-ttl 12h --description "integration" --config "$C"
TOKEN=$(awk '$1 == "token:" {print $2}' "$WORK/out")
TID=$(awk '$1 == "id:" {print $2}' "$WORK/out")
check "token create prints an rca_ token" bash -c "[[ '$TOKEN' =~ ^rca_[0-9a-f]{64}\$ ]]"
check "token create prints its id" bash -c "[[ '$TID' =~ ^[0-9a-f]{16}\$ ]]"
check "token list shows it" exit_is 0 "$RCA" token list --config "$C"
check "... with its profile and names" bash -c "
	grep '^$TID' '$WORK/out' | grep -q 'redis-client.*app-\*,10.0.0.0/8'"
check "... and the init admin token" bash -c "grep -q 'admin' '$WORK/out'"
check "token list never shows a token" bash -c "! grep -q rca_ '$WORK/out'"
check "token create with an unknown profile exits 1" exit_is 1 "$RCA" token \
	create --kind enroll --profile nope --name x --config "$C"
check "token create with a bad ttl exits 2" exit_is 2 "$RCA" token create \
	--kind enroll --profile redis-client --name x --ttl 5y --config "$C"
check "token create without --kind exits 2" exit_is 2 "$RCA" token create \
	--config "$C"
check "token revoke" exit_is 0 "$RCA" token revoke "$TID" --config "$C"
check "revoked token is gone from the list" bash -c "
	! '$RCA' token list --config '$C' | grep -q '^$TID'"
check "revoking it again exits 1" exit_is 1 "$RCA" token revoke "$TID" \
	--config "$C"
check "token revoke without an id exits 2" exit_is 2 "$RCA" token revoke \
	--config "$C"
check "token create (admin)" exit_is 0 "$RCA" token create --kind admin \
	--ttl 1h --config "$C"
check "token with a missing config exits 1" exit_is 1 "$RCA" token list \
	--config "$WORK/none.json"

# ---- two tiers (issue 12): init --root-out, --import-chain ---------------
ski_of() { openssl x509 -in "$1" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :' | tr A-F a-f; }
check "one tier: no roots.pem" test ! -e "$D/roots.pem"
check "one tier: the CRL DP names the CA's SKI" bash -c "
	openssl x509 -in '$D/tls/api.crt' -noout -ext crlDistributionPoints |
	grep -q '/v1/crl/$(ski_of "$D/ca.crt")\$'"
T2=$WORK/t2
R2=$WORK/offline/root
mkdir -p "$WORK/offline" && chmod 0700 "$WORK/offline"
printf 'tier two passphrase\n' > "$WORK/pass2"
check "init --root-out (two tiers)" exit_is 0 "$RCA" init --data "$T2" \
	--root-out "$R2" --passphrase-file "$WORK/pass2" --public-url https://ca.test:8443
check "... says where the root is" stdout_has "root CA.*$R2/root.crt"
check "... root folder is 0700" mode_is 0700 "$R2"
check "... root.key is 0400" mode_is 0400 "$R2/root.key"
check "... root.crt is 0444" mode_is 0444 "$R2/root.crt"
check "... root.key is encrypted with the passphrase" grep -q \
	"ENCRYPTED PRIVATE KEY" "$R2/root.key"
check "... ca.key is 0400" mode_is 0400 "$T2/ca.key"
check "... ca.crt is 0444" mode_is 0444 "$T2/ca.crt"
check "... roots.pem is 0444" mode_is 0444 "$T2/roots.pem"
check "... roots.pem is the root certificate" cmp -s "$R2/root.crt" "$T2/roots.pem"
# Line 3 of the PEM is ciphertext (lines 1-2 are the same in any key).
check "... no root key anywhere in the data folder" bash -c "
	! find '$T2' -type f -exec grep -l -F \"\$(sed -n 3p '$R2/root.key')\" {} + | grep -q . &&
	[ -z \"\$(find '$T2' -name 'root*.key')\" ]"
check "... the CA key is not the root key" bash -c "
	[ \"\$(openssl pkey -in '$R2/root.key' -passin file:'$WORK/pass2' -pubout)\" != \
	  \"\$(openssl pkey -in '$T2/ca.key' -passin file:'$WORK/pass2' -pubout)\" ]"
check "... the root: self-signed, pathlen 1, 20 years" bash -c "
	openssl x509 -in '$R2/root.crt' -noout -ext basicConstraints | grep -q 'CA:TRUE, pathlen:1' &&
	openssl verify -CAfile '$R2/root.crt' '$R2/root.crt' >/dev/null &&
	openssl x509 -in '$R2/root.crt' -noout -checkend $((20 * 365 * 86400 - 86400)) >/dev/null"
check "... ca.crt: pathlen 0, issued by the root, 5 years" bash -c "
	openssl x509 -in '$T2/ca.crt' -noout -ext basicConstraints | grep -q 'CA:TRUE, pathlen:0' &&
	[ \"\$(openssl x509 -in '$T2/ca.crt' -noout -issuer)\" = 'issuer=CN = redis-ca Root' ] &&
	openssl x509 -in '$T2/ca.crt' -noout -checkend $((5 * 365 * 86400)) >/dev/null &&
	! openssl x509 -in '$T2/ca.crt' -noout -checkend $((1827 * 86400)) >/dev/null"
check "... ca.crt verifies to the root" openssl verify -CAfile "$T2/roots.pem" "$T2/ca.crt"
check "... tls/api.crt verifies with roots.pem + untrusted ca.crt" openssl \
	verify -CAfile "$T2/roots.pem" -untrusted "$T2/ca.crt" "$T2/tls/api.crt"
check "... tls/admin.crt too" openssl verify -CAfile "$T2/roots.pem" \
	-untrusted "$T2/ca.crt" "$T2/tls/admin.crt"
check "... but not with ca.crt as the only anchor" bash -c "
	! openssl verify -CAfile '$T2/ca.crt' '$T2/tls/api.crt' >/dev/null 2>&1"
check "... the CRL DP names the issuing CA's SKI" bash -c "
	openssl x509 -in '$T2/tls/api.crt' -noout -ext crlDistributionPoints |
	grep -q 'https://ca.test:8443/v1/crl/$(ski_of "$T2/ca.crt")\$'"
check "--root-out inside the data folder exits 2" exit_is 2 "$RCA" init \
	--data "$WORK/t3" --root-out "$WORK/t3/root"
check "... saying why" stderr_has "inside the data folder"
check "... and leaves nothing" test ! -e "$WORK/t3"
check "--root-out equal to the data folder exits 2" exit_is 2 "$RCA" init \
	--data "$WORK/t3" --root-out "$WORK/t3/."
check "--root-out over an existing root exits 1" exit_is 1 "$RCA" init \
	--data "$WORK/t3" --root-out "$R2"
check "... saying why" stderr_has "refusing to overwrite an existing root"
check "... the root is untouched" bash -c "
	[ -e '$R2/root.key' ] && ! [ -e '$WORK/t3' ]"
check "--root-out with --import-cert exits 2" exit_is 2 "$RCA" init \
	--data "$WORK/t3" --root-out "$WORK/r3" --import-cert "$T2/ca.crt" \
	--import-key "$T2/ca.key"
check "--import-chain without --import-cert exits 2" exit_is 2 "$RCA" init \
	--data "$WORK/t3" --import-chain "$R2/root.crt"

# An intermediate signed by an outside root (made with openssl).
X=$WORK/outside
mkdir -p "$X"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$X/root.key" -subj /CN=Outside-Root -days 30 -addext \
	basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
	-out "$X/root.crt" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$X/other.key" -subj /CN=Other-Root -days 30 -addext \
	basicConstraints=critical,CA:TRUE -out "$X/other.crt" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$X/int.key" -subj /CN=Outside-Issuing -out "$X/int.csr" 2>/dev/null
printf '[v3]\nbasicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n' > "$X/v3.cnf"
openssl x509 -req -in "$X/int.csr" -CA "$X/root.crt" -CAkey "$X/root.key" \
	-CAcreateserial -days 20 -extfile "$X/v3.cnf" -extensions v3 \
	-out "$X/int.crt" 2>/dev/null
check "--import-chain with the wrong root exits 1" exit_is 1 "$RCA" init \
	--data "$WORK/t4" --import-cert "$X/int.crt" --import-key "$X/int.key" \
	--import-chain "$X/other.crt"
check "... saying why" stderr_has "does not verify"
check "... and writes nothing" test ! -e "$WORK/t4"
check "--import-chain with a key that does not match exits 1" exit_is 1 \
	"$RCA" init --data "$WORK/t4" --import-cert "$X/int.crt" \
	--import-key "$X/other.key" --import-chain "$X/root.crt"
check "... saying why" stderr_has "does not match"
check "... and writes nothing" test ! -e "$WORK/t4"
check "init --import-chain" exit_is 0 "$RCA" init --data "$WORK/t4" \
	--import-cert "$X/int.crt" --import-key "$X/int.key" \
	--import-chain "$X/root.crt"
check "... prints the roots" stdout_has "roots.*$WORK/t4/roots.pem"
check "... roots.pem is the outside root" bash -c "
	[ \"\$(openssl x509 -in '$WORK/t4/roots.pem' -noout -fingerprint -sha256)\" = \
	  \"\$(openssl x509 -in '$X/root.crt' -noout -fingerprint -sha256)\" ]"
check "... tls/api.crt verifies with roots.pem + untrusted ca.crt" openssl \
	verify -CAfile "$WORK/t4/roots.pem" -untrusted "$WORK/t4/ca.crt" \
	"$WORK/t4/tls/api.crt"

# ---- links and open folders: refused, nothing written, nothing followed --
# Every file init writes is created O_EXCL|O_NOFOLLOW before any work, and
# --root-out is opened once without following a link: no name is checked
# and then opened.
L=$WORK/links
mkdir -m 0700 "$L"
printf 'victim\n' >"$WORK/victim"
mkdir -m 0700 "$L/d1"
ln -s "$WORK/victim" "$L/d1/config.json"
check "config.json a link to a file: init exits 1" exit_is 1 "$RCA" init \
	--data "$L/d1"
check "... saying it exists" stderr_has "config.json already exists"
check "... the file it points to is untouched" bash -c "
	[ \"\$(cat '$WORK/victim')\" = victim ]"
check "... nothing written" bash -c "[ \"\$(ls -A '$L/d1')\" = config.json ]"
mkdir -m 0700 "$L/d2"
ln -s "$WORK/nowhere.key" "$L/d2/ca.key"
check "ca.key a dangling link: init exits 1" exit_is 1 "$RCA" init \
	--data "$L/d2"
check "... saying ca.key exists" stderr_has "ca.key already exists"
check "... nothing made where it points" test ! -e "$WORK/nowhere.key"
check "... nothing written" bash -c "[ \"\$(ls -A '$L/d2')\" = ca.key ]"
mkdir -m 0700 "$L/d3" "$WORK/elsewhere"
ln -s "$WORK/elsewhere" "$L/d3/tls"
check "tls a link to a folder: init exits 1" exit_is 1 "$RCA" init \
	--data "$L/d3"
check "... saying tls exists" stderr_has "tls already exists"
check "... nothing written through it" test -z "$(ls -A "$WORK/elsewhere")"
check "... nothing written" bash -c "[ \"\$(ls -A '$L/d3')\" = tls ]"
mkdir -m 0700 "$WORK/realroot"
ln -s "$WORK/realroot" "$WORK/rootlink"
check "--root-out a link to a folder: init exits 1" exit_is 1 "$RCA" init \
	--data "$L/d4" --root-out "$WORK/rootlink"
check "... saying it is a link" stderr_has "symbolic link"
check "... nothing written through it" test -z "$(ls -A "$WORK/realroot")"
check "... nor a data folder left" test ! -e "$L/d4"
ln -s "$WORK/noroot" "$WORK/rootdangling"
check "--root-out a dangling link: init exits 1" exit_is 1 "$RCA" init \
	--data "$L/d4" --root-out "$WORK/rootdangling"
check "... nothing made where it points" test ! -e "$WORK/noroot"
check "... nor a data folder left" test ! -e "$L/d4"
mkdir "$WORK/openroot"
chmod 0777 "$WORK/openroot"
check "--root-out writable by others: init exits 1" exit_is 1 "$RCA" init \
	--data "$L/d4" --root-out "$WORK/openroot"
check "... saying so" stderr_has "not writable by group or others"
check "... nothing written in it" test -z "$(ls -A "$WORK/openroot")"
check "... nor a data folder left" test ! -e "$L/d4"
mkdir -m 0700 "$WORK/r5"
ln -s "$WORK/r5target" "$WORK/r5/root.crt"
check "root.crt a dangling link: init exits 1" exit_is 1 "$RCA" init \
	--data "$L/d4" --root-out "$WORK/r5"
check "... refusing to overwrite an existing root" stderr_has \
	"root.crt already exists: refusing to overwrite an existing root"
check "... nothing made where it points" test ! -e "$WORK/r5target"
check "... nothing left" bash -c "
	[ \"\$(ls -A '$WORK/r5')\" = root.crt ] && ! [ -e '$L/d4' ]"

echo "1..$((pass + fail))"
echo "# $pass passed, $fail failed"
[ "$fail" = 0 ]
