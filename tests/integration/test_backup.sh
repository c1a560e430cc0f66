#!/bin/bash
# End-to-end: `redis-ca backup`, `restore` and `migrate` (SPEC section 9)
# against a real `redis-ca serve` on loopback.  Certificates are issued,
# a backup is taken while curl keeps issuing (consistent, integrity-
# checked, mode 0600, every certificate committed before it began), a
# second serve and a restore are refused while serve runs, a snapshot
# of another CA is refused with nothing changed, the good snapshot is
# restored after serve stops (the old database kept, 0600), and serve
# again lists the snapshot's certificates, not the later ones, with a
# CRL that verifies and an issued certificate that `openssl verify`
# accepts.  Every bad command line gets its exit status and message.
# With the PostgreSQL driver and PostgreSQL 15 (lib_pg.sh): migrate on a
# real server, backup/restore exit 2 pointing to pg_dump/pg_restore,
# and the docs' pg_dump -Fc / pg_restore round trip migrates as current.
#
# usage: test_backup.sh PATH-TO-redis-ca
. "$(dirname "$0")/lib.sh"

rca_setup "${1:-}"
rca_init
T=$RCA_TMP
CFG="$DATA/config.json"
DB="$DATA/redis-ca.db"

# run ARGS...: the binary with ARGS; RC its status, $T/out and $T/err.
run() { "$RCA_BIN" "$@" > "$T/out" 2> "$T/err"; RC=$?; }

# expect_exit STATUS TEXT WHAT: the last run exited STATUS and printed
# TEXT (stdout or stderr).
expect_exit()
{
	[ "$RC" = "$1" ] ||
	    die "$3: want exit $1, got $RC: $(cat "$T/out" "$T/err")"
	grep -qF -- "$2" "$T/out" "$T/err" ||
	    die "$3: output lacks '$2': $(cat "$T/out" "$T/err")"
	ok "$3 -> exit $1 ($2)"
}

# sql FILE QUERY: one value from a SQLite file (read-only).
sql()
{
	python3 - "$1" "$2" <<'PY'
import sqlite3, sys
c = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
print(c.execute(sys.argv[2]).fetchone()[0])
PY
}

mode_of() { stat -c %a "$1"; }

# ---- bad command lines (nothing running yet) ----
run backup --config "$CFG"
expect_exit 2 "--out FILE is required" "backup without --out"
run backup --config "$CFG" --out ""
expect_exit 2 "--out must be a file name" "backup --out ''"
run backup --config "$CFG" --out "$T/a.db" --bogus
expect_exit 2 "unknown option --bogus" "backup --bogus"
run backup --config "$CFG" --out "$T/a.db" extra
expect_exit 2 "unexpected argument" "backup with an operand"
run backup --config "$CFG" --out
expect_exit 2 "needs an argument" "backup --out without a value"
run backup --config "$T/none.json" --out "$T/a.db"
expect_exit 1 "no such file" "backup with a missing config"
run backup --config "$CFG" --out "$T/nodir/a.db"
expect_exit 1 "No such file or directory" "backup --out in a missing folder"
ln -s "$T/target.db" "$T/link.db"
run backup --config "$CFG" --out "$T/link.db" --force
expect_exit 1 "symbolic link" "backup --out a symbolic link"
[ ! -e "$T/target.db" ] || die "the symbolic link's target was written"
run backup --config "$CFG" --out "$T"
expect_exit 1 "not a regular file" "backup --out a folder"
run restore --config "$CFG"
expect_exit 2 "--from FILE is required" "restore without --from"
run restore --config "$CFG" --from "$T/a.db" --force
expect_exit 2 "unknown option --force" "restore --force"
run restore --config "$CFG" --from "$T/missing.db"
expect_exit 1 "No such file or directory" "restore of a missing file"
run restore --config "$CFG" --from "$T"
expect_exit 1 "not a regular file" "restore of a folder"
echo "not a database at all, only some text" > "$T/text.db"
run restore --config "$CFG" --from "$T/text.db"
expect_exit 1 "not a SQLite database" "restore of a text file"
run restore --config "$CFG" --from "$DB"
expect_exit 1 "is the live database itself" "restore of the live database"
# Unreadable: root reads anything, so root runs it without the
# capabilities that bypass file modes.
cp "$DB" "$T/unreadable.db"
chmod 000 "$T/unreadable.db"
NOCAP=()
[ "$(id -u)" = 0 ] &&
    NOCAP=(setpriv --bounding-set=-dac_override,-dac_read_search)
"${NOCAP[@]}" "$RCA_BIN" restore --config "$CFG" \
    --from "$T/unreadable.db" > "$T/out" 2> "$T/err"
RC=$?
expect_exit 1 "Permission denied" "restore of an unreadable file"
run migrate --config "$CFG" extra
expect_exit 2 "unexpected argument" "migrate with an operand"
run migrate --config "$T/none.json"
expect_exit 1 "no such file" "migrate with a missing config"
run migrate --config "$CFG"
expect_exit 0 "already current" "migrate of a current database"
run backup --help
expect_exit 0 "usage: redis-ca backup" "backup --help"

# ---- a live service ----
rca_start
make_csr bk ec-p256 bk-client "DNS:bk.svc.internal"
issue_json "$T/bk.csr" redis-client 1h > "$T/req.json"
for i in 1 2 3 4 5; do
	adm POST /v1/certificates "$(cat "$T/req.json")"
	expect_status 201 "issue $i"
	jb .serial >> "$T/before"
	jb .certificate > "$T/cert$i.pem"
done
adm POST "/v1/certificates/$(head -n 1 "$T/before")/revoke" \
    '{"reason":"superseded"}'
expect_status 200 "revoke"
ok "5 certificates issued, one revoked"

# Issue in a loop with curl while the backup runs.
issue_loop()
{
	local n=0
	while [ ! -e "$T/stop" ] && [ "$n" -lt 400 ]; do
		curl -s --max-time 30 --cacert "$CACERT" -X POST \
		    -H "Authorization: Bearer $ADMIN" \
		    -H 'Content-Type: application/json' \
		    --data-binary @"$T/req.json" -o "$T/loop.json" \
		    -w '%{http_code}\n' "$API/v1/certificates" \
		    >> "$T/loop.codes"
		jq -r .serial "$T/loop.json" >> "$T/loop.serials" 2>/dev/null
		n=$((n + 1))
	done
}
issue_loop &
LOOP=$!
rca_track "$LOOP"
for i in $(seq 1 100); do
	[ "$(wc -l < "$T/loop.codes" 2>/dev/null || echo 0)" -ge 10 ] && break
	sleep 0.1
done
committed=$(wc -l < "$T/loop.serials")
run backup --config "$CFG" --out "$T/snap.db"
expect_exit 0 "backup: wrote $T/snap.db" "backup while issuing"
touch "$T/stop"
wait "$LOOP"
grep -qv '^201$' "$T/loop.codes" && die "an issuance failed during the backup"
[ "$(mode_of "$T/snap.db")" = 600 ] || die "snapshot mode $(mode_of "$T/snap.db")"
[ "$(sql "$T/snap.db" 'PRAGMA integrity_check')" = ok ] ||
    die "the snapshot fails integrity_check"
nsnap=$(sql "$T/snap.db" 'SELECT count(*) FROM certificates')
grep -qF "certificates:   $nsnap" "$T/out" ||
    die "backup printed another count than the snapshot's $nsnap"
for s in $(cat "$T/before" "$T/loop.serials" | head -n $((5 + committed))); do
	[ "$(sql "$T/snap.db" "SELECT count(*) FROM certificates WHERE serial = '$s'")" = 1 ] ||
	    die "certificate $s, committed before the backup, is not in it"
done
ok "snapshot: mode 0600, integrity ok, $nsnap certificates, all $((5 + committed)) committed before it"
python3 - "$T/snap.db" > "$T/snap.serials" <<'PY'
import sqlite3, sys
c = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
for (s,) in c.execute("SELECT serial FROM certificates ORDER BY serial"):
    print(s)
PY
adm GET "/v1/audit?limit=1000"
expect_status 200 "GET /v1/audit"
jb '.items[].action' | grep -qx db.backup || die "no db.backup audit entry"
ok "db.backup is in the live audit log"

run backup --config "$CFG" --out "$T/snap.db"
expect_exit 1 "already exists (use --force" "backup over an existing file"
cp "$T/snap.db" "$T/snap2.db"
run backup --config "$CFG" --out "$T/snap2.db" --force
expect_exit 0 "backup: wrote" "backup --force"
[ "$(mode_of "$T/snap2.db")" = 600 ] || die "--force copy is not 0600"

# While serve runs: a second serve and a restore are refused.
run serve --config "$CFG"
expect_exit 1 "redis-ca serve is running on" "a second serve on the data folder"
run restore --config "$CFG" --from "$T/snap.db"
expect_exit 1 "stop it first; nothing was changed" "restore while serve runs"
ls "$DATA" | grep -q before-restore && die "a refused restore kept a copy"

# A certificate issued after the backup: gone once it is restored.
adm POST /v1/certificates "$(cat "$T/req.json")"
expect_status 201 "issue after the backup"
LATE=$(jb .serial)

# A snapshot of another CA.
"$RCA_BIN" init --data "$T/other" > /dev/null 2>&1 || die "second init failed"
run backup --config "$T/other/config.json" --out "$T/other.db"
expect_exit 0 "backup: wrote" "backup of another CA (service stopped)"
rca_stop
sha_before=$(sha256sum "$DB" | cut -d' ' -f1)
run restore --config "$CFG" --from "$T/other.db"
expect_exit 1 "is a snapshot of another CA" "restore of another CA's snapshot"
[ "$(sha256sum "$DB" | cut -d' ' -f1)" = "$sha_before" ] ||
    die "the refused restore changed the database"
ls "$DATA" | grep -q before-restore && die "a refused restore kept a copy"
ok "nothing changed"
cp "$T/snap.db" "$T/newer.db"
python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('PRAGMA user_version = 99'); c.commit()" "$T/newer.db"
run restore --config "$CFG" --from "$T/newer.db"
expect_exit 1 "newer than this program" "restore of a newer schema"
cp "$T/snap.db" "$T/corrupt.db"
python3 - "$T/corrupt.db" <<'PY'
import os, sys
f = open(sys.argv[1], "r+b")
for off in range(4096, os.path.getsize(sys.argv[1]), 4096):
    f.seek(off)
    f.write(b"\x07\x07\x07\x07")
PY
run restore --config "$CFG" --from "$T/corrupt.db"
expect_exit 1 "corrupt" "restore of a corrupt snapshot"

# The good snapshot.
run restore --config "$CFG" --from "$T/snap.db"
expect_exit 0 "previous database kept as $DB.before-restore-" "restore"
kept=$(ls "$DB".before-restore-*)
[ "$(mode_of "$kept")" = 600 ] || die "kept database mode $(mode_of "$kept")"
[ "$(mode_of "$DB")" = 600 ] || die "restored database mode $(mode_of "$DB")"
[ ! -e "$DB-wal" ] || die "a -wal file is left beside the restored database"
[ "$(sql "$kept" "SELECT count(*) FROM certificates WHERE serial = '$LATE'")" = 1 ] ||
    die "the kept database lacks the latest certificate"
ok "restored; the old database kept 0600 with every certificate"

rca_start
list_serials
sort "$T/serials" > "$T/served.serials"
cmp -s "$T/served.serials" "$T/snap.serials" ||
    die "served certificates differ from the snapshot's: $(diff "$T/served.serials" "$T/snap.serials" | head)"
ok "the snapshot's $NSERIALS certificates are listed"
adm GET "/v1/certificates/$LATE"
expect_status 404 "the certificate issued after the backup"
adm GET "/v1/audit?limit=1000"
jb '.items[].action' | grep -qx db.restore || die "no db.restore audit entry"
ok "db.restore is in the restored audit log"
pub GET /v1/crl
expect_status 200 "GET /v1/crl after restore"
cp "$T/body" "$T/crl.der"
openssl crl -inform DER -in "$T/crl.der" -CAfile "$CACERT" -noout \
    > "$T/crl.out" 2>&1 || die "CRL: $(cat "$T/crl.out")"
grep -q "verify OK" "$T/crl.out" || die "the CRL does not verify: $(cat "$T/crl.out")"
openssl crl -inform DER -in "$T/crl.der" -noout -text |
    grep -qi "$(head -n 1 "$T/before" | sed 's/^0*//')" ||
    die "the revoked certificate is not on the CRL"
ok "the CRL verifies and lists the revoked certificate"
openssl verify -CAfile "$CACERT" "$T/cert2.pem" > "$T/verify.out" 2>&1 ||
    die "openssl verify: $(cat "$T/verify.out")"
adm POST /v1/certificates "$(cat "$T/req.json")"
expect_status 201 "issue after the restore"
jb .certificate > "$T/after.pem"
openssl verify -CAfile "$CACERT" "$T/after.pem" > "$T/verify.out" 2>&1 ||
    die "openssl verify: $(cat "$T/verify.out")"
ok "certificates from before and after the restore verify"
run migrate --config "$CFG"
expect_exit 0 "already current" "migrate beside a running serve"

# migrate creates a schema; a PostgreSQL database is pg_dump's.
rca_config_edit '.database = "fresh.db"'
run migrate --config "$CFG"
expect_exit 0 "schema created, version" "migrate of a new database"
[ "$(mode_of "$DATA/fresh.db")" = 600 ] || die "fresh.db is not 0600"
# PostgreSQL: a real server when lib_pg.sh (tests/integration, with
# the PostgreSQL driver) and PostgreSQL 15 are here.
if [ -f "$RCA_LIB_DIR/lib_pg.sh" ]; then
	. "$RCA_LIB_DIR/lib_pg.sh"
fi
if declare -F pg_start > /dev/null && pg_available; then
	pg_start a
	rca_config_edit --arg u "${PG_URI[a]}" '.database = $u'
	run migrate --config "$CFG"
	expect_exit 0 "migrate: schema version" "migrate of a new PostgreSQL database"
	pgv=$(sed -n 's/^migrate: schema version \([0-9]*\)$/\1/p' "$T/out")
	[ -n "$pgv" ] && [ "$pgv" -ge 1 ] || die "no schema version: $(cat "$T/out")"
	run migrate --config "$CFG"
	expect_exit 0 "schema version $pgv" "migrate again"
	run backup --config "$CFG" --out "$T/pg.db"
	expect_exit 2 "pg_dump -Fc (see docs/operations.md)" "backup of PostgreSQL"
	[ ! -e "$T/pg.db" ] || die "backup of PostgreSQL wrote a file"
	run restore --config "$CFG" --from "$T/snap.db"
	expect_exit 2 "pg_restore (see docs/operations.md)" "restore of PostgreSQL"
	# The round trip docs/operations.md gives.
	"$PG_BINDIR/pg_dump" -Fc -h 127.0.0.1 -p "${PG_PORT[a]}" -U rca -d rca \
	    -f "$T/pg.dump" 2> "$T/err" || die "pg_dump: $(cat "$T/err")"
	pg_sql a "CREATE DATABASE rca2 OWNER rca" > /dev/null
	"$PG_BINDIR/pg_restore" -h 127.0.0.1 -p "${PG_PORT[a]}" -U rca -d rca2 \
	    --no-owner --single-transaction "$T/pg.dump" 2> "$T/err" ||
	    die "pg_restore: $(cat "$T/err")"
	rca_config_edit --arg u "postgresql://rca@127.0.0.1:${PG_PORT[a]}/rca2" \
	    '.database = $u'
	run migrate --config "$CFG"
	expect_exit 0 "schema version $pgv" "migrate of a pg_restore'd database"
else
	# Without the driver, a URI is a file name in the data folder.
	rca_config_edit '.database = "postgresql://127.0.0.1:1/ca"'
	run backup --config "$CFG" --out "$T/pg.db"
	expect_exit 1 "no such database" "backup of a database that is not there"
	log "no PostgreSQL driver or server here: its part did not run"
fi
schema_flush
log "$RCA_CHECKS checks passed"
