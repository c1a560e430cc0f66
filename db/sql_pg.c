/*
 * redis-ca's SQL in PostgreSQL 15's dialect: the statement table
 * indexed by enum db_stmt (the meaning of each statement, and of its
 * $N, is the comment above the same statement in db/sql.c; those alike
 * in both dialects are db/sql.c's) and the schema migrations (listed
 * with SQLite's in db/sql.c).  Every parameter carries a cast so its
 * type never depends on inference; every integer column is BIGINT (0/1,
 * never boolean); blobs are BYTEA.  Nothing here is formatted at run
 * time.
 */
#include <stddef.h>

#include "sql_text.h"

/*
 * Advisory lock keys, in the two-int4 key space (class, id), which
 * never meets the one-bigint space of the node locks.
 */
#define PG_LOCK_CLASS	"1380139264"	/* 0x52434100, "RCA" */
#define PG_LOCK_MIGRATE	PG_LOCK_CLASS ", 1"
#define PG_LOCK_LEADER	PG_LOCK_CLASS ", 2"
#define PG_LOCK_CRL	PG_LOCK_CLASS ", 3"

/* An SQL truth value as the BIGINT 1 or 0. */
#define PG_BIT(cond) \
	"CASE WHEN " cond " THEN 1::bigint ELSE 0::bigint END"

/* The list filters of db/sql.c's CERT_FILTER, $1..$9. */
#define CERT_FILTER \
	" AND id > $1::bigint" \
	" AND ($2::bigint = -1" \
	"  OR ($2::bigint = 0 AND revoked_at IS NULL" \
	"   AND not_after >= $3::bigint)" \
	"  OR ($2::bigint = 1 AND revoked_at IS NOT NULL)" \
	"  OR ($2::bigint = 2 AND revoked_at IS NULL" \
	"   AND not_after < $3::bigint))" \
	" AND ($4::text IS NULL OR profile = $4::text)" \
	" AND ($5::text IS NULL OR common_name = $5::text)" \
	" AND ($6::text IS NULL OR node = $6::text)" \
	" AND ($7::bigint = 0 OR not_after < $7::bigint)" \
	" AND ($9::bigint = 0 OR ca_id = $9::bigint)" \
	" ORDER BY id LIMIT $8::bigint"

/*
 * The counters are sharded: cert_counts holds one row per (profile,
 * shard), each writer adding to the shard of its backend, so that
 * issuing transactions on different connections do not wait for each
 * other's commit on one profile's row (PostgreSQL has no group commit;
 * every issuance is its own transaction).  Readers sum the shards.  A
 * shard's row may go below zero (a certificate counted in one shard,
 * revoked or deleted from another); only the sums mean anything.
 */
#define COUNTS_SHARD	"(pg_backend_pid() % 16)"

/* Add (i, r, a) to issued, revoked, active of profile p's own shard. */
#define COUNTS_UPSERT(p, i, r, a) \
	"INSERT INTO cert_counts (profile, shard, issued, revoked, active)" \
	" VALUES (" p ", " COUNTS_SHARD ", " i ", " r ", " a ")" \
	" ON CONFLICT (profile, shard) DO UPDATE SET" \
	" issued = cert_counts.issued + excluded.issued," \
	" revoked = cert_counts.revoked + excluded.revoked," \
	" active = cert_counts.active + excluded.active"

/*
 * Move the counters' mark to t, adding the unrevoked rows that expired
 * between the old mark and t to cert_counts_expired (active at the
 * mark is the sum of cert_counts.active less cert_counts_expired.n).
 * The mark row is updated first and the old mark read from the row as
 * updated (prev), so of two instances moving it at once the second, which
 * waited for the first's row lock, takes off only what expired after
 * the first's mark.  Only mark moves touch cert_counts_expired, always
 * after the mark's lock, and they never touch cert_counts, whose rows
 * issuing transactions lock first: no lock cycle, no deadlock.
 * Left open: an already expired certificate revoked in a transaction
 * racing a mark move past its not_after can be taken off active twice
 * (/metrics only; SQLite serializes writers and cannot).
 */
#define COUNTS_EXPIRE_PG(t) \
	"WITH m AS (UPDATE cert_counts_mark SET prev = at, at = " t \
	" WHERE at < " t " RETURNING prev, at) " \
	"INSERT INTO cert_counts_expired (profile, n)" \
	" SELECT s.profile, count(*) FROM certificates s, m" \
	" WHERE s.revoked_at IS NULL AND s.not_after >= m.prev" \
	" AND s.not_after < m.at GROUP BY s.profile" \
	" ON CONFLICT (profile) DO UPDATE" \
	" SET n = cert_counts_expired.n + excluded.n"

const char *const db_sql_pg_stmts[DB_STMT__MAX] = {
	/*
	 * No meaning on PostgreSQL (NULL): DB_STMT_JOURNAL_WAL,
	 * DB_STMT_SYNC_FULL, DB_STMT_FOREIGN_KEYS (WAL, durable commits
	 * and foreign keys are always on).
	 */

	/*
	 * One BIGINT: the schema's version, 0 when there is no schema.
	 * The table is read through query_to_xml so that the statement
	 * prepares without it, and on a read-only standby (no CREATE).
	 */
	[DB_STMT_USER_VERSION] =
	    "SELECT CASE WHEN to_regclass('schema_version') IS NULL "
	    "THEN 0::bigint ELSE coalesce((xpath('/row/version/text()', "
	    "query_to_xml('SELECT version FROM schema_version', false, "
	    "true, '')))[1]::text::bigint, 0) END",
	/*
	 * Writers do not wait for each other as under SQLite's BEGIN
	 * IMMEDIATE: unique keys, single-statement updates and the
	 * advisory locks below keep concurrent writers correct.  A reader
	 * gets one snapshot, as a deferred SQLite transaction does.  On
	 * a standby BEGIN_WRITE succeeds and its first write fails with
	 * SQLSTATE 25006 (read_only_sql_transaction), as every write does
	 * there ("READ WRITE" here would fail earlier with 0A000).
	 */
	[DB_STMT_BEGIN_WRITE] = "BEGIN ISOLATION LEVEL READ COMMITTED",
	[DB_STMT_BEGIN_READ] =
	    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",

	[DB_STMT_CERT_INSERT] =
	    "INSERT INTO certificates (" CERT_NEW_COLS ") "
	    "VALUES ($1::text, $2::text, "
	    "$3::text, $4::text, $5::text, $6::text, $7::text, $8::bigint, "
	    "$9::bigint, $10::bigint, $11::bigint, $12::text, $13::text, "
	    "$14::text, $15::text, $16::bigint, $17::text, $18::bigint)",
	[DB_STMT_CERT_GET] =
	    "SELECT " CERT_COLS " FROM certificates WHERE serial = $1::text",
	[DB_STMT_CERT_EXISTS] =
	    "SELECT 1::bigint FROM certificates WHERE serial = $1::text",
	[DB_STMT_CERT_LIST] =
	    "SELECT " CERT_COLS " FROM certificates WHERE true" CERT_FILTER,
	[DB_STMT_CERT_LIST_CN] =
	    "SELECT " CERT_COLS " FROM certificates "
	    "WHERE common_name = $5::text" CERT_FILTER,
	[DB_STMT_CERT_LIST_NODE] =
	    "SELECT " CERT_COLS " FROM certificates "
	    "WHERE node = $6::text" CERT_FILTER,
	[DB_STMT_CERT_LIST_PROFILE] =
	    "SELECT " CERT_COLS " FROM certificates "
	    "WHERE profile = $4::text" CERT_FILTER,
	[DB_STMT_CERT_REVOKE] =
	    "UPDATE certificates SET revoked_at = $1::bigint, "
	    "reason = $2::bigint WHERE serial = $3::text "
	    "AND revoked_at IS NULL RETURNING " CERT_COLS,
	[DB_STMT_CERT_REVOKED_UNEXPIRED] =
	    "SELECT serial, revoked_at, reason FROM certificates "
	    "WHERE revoked_at IS NOT NULL AND not_after >= $1::bigint "
	    "AND ca_id = $2::bigint",
	[DB_STMT_CERT_LIST_REVOKED] =
	    "SELECT " CERT_COLS " FROM certificates "
	    "WHERE revoked_at IS NOT NULL" CERT_FILTER,
	[DB_STMT_CERT_LIST_UNREVOKED] =
	    "SELECT " CERT_COLS " FROM certificates WHERE id IN ("
	    "SELECT id FROM certificates "
	    "WHERE revoked_at IS NULL AND not_after >= $10::bigint "
	    "AND not_after < $11::bigint" CERT_FILTER ") ORDER BY id",
	[DB_STMT_CERT_LIST_EXPIRES] =
	    "SELECT " CERT_COLS " FROM certificates WHERE id IN ("
	    "SELECT id FROM certificates "
	    "WHERE not_after >= $10::bigint AND not_after < $11::bigint"
	    CERT_FILTER ") ORDER BY id",
	[DB_STMT_CERT_PROBE_UNREVOKED] =
	    "SELECT count(*) FROM (SELECT 1 FROM certificates "
	    "WHERE revoked_at IS NULL AND not_after >= $1::bigint "
	    "AND not_after < $2::bigint LIMIT $3::bigint) p",
	[DB_STMT_CERT_PROBE_EXPIRES] =
	    "SELECT count(*) FROM (SELECT 1 FROM certificates "
	    "WHERE not_after >= $1::bigint AND not_after < $2::bigint "
	    "LIMIT $3::bigint) p",
	[DB_STMT_CERT_COUNTS] =
	    "SELECT c.profile, c.issued, c.active - coalesce(x.n, 0)"
	    " + (SELECT count(*) FROM certificates"
	    "  WHERE revoked_at IS NULL"
	    "  AND not_after >= $1::bigint AND not_after < m.at"
	    "  AND profile = c.profile)"
	    " - (SELECT count(*) FROM certificates"
	    "  WHERE revoked_at IS NULL"
	    "  AND not_after >= m.at AND not_after < $1::bigint"
	    "  AND profile = c.profile),"
	    " c.revoked "
	    "FROM (SELECT profile, sum(issued)::bigint AS issued,"
	    " sum(revoked)::bigint AS revoked, sum(active)::bigint AS active"
	    " FROM cert_counts GROUP BY profile) c "
	    "LEFT JOIN cert_counts_expired x "
	    "ON x.profile = c.profile, cert_counts_mark m "
	    "WHERE c.issued > 0 ORDER BY c.profile",
	[DB_STMT_CERT_REVOKE_SAME_KEY] =
	    "UPDATE certificates SET revoked_at = $1::bigint, "
	    "reason = $2::bigint WHERE spki_sha256 = $3::text "
	    "AND revoked_at IS NULL AND not_after >= $1::bigint "
	    "RETURNING serial",
	[DB_STMT_CERT_SPKI_MISSING] =
	    "SELECT id, serial, pem FROM certificates "
	    "WHERE spki_sha256 IS NULL AND id > $1::bigint ORDER BY id "
	    "LIMIT $2::bigint",
	[DB_STMT_COUNTS_ADD] = COUNTS_UPSERT("$1::text", "$2::bigint",
	    "$3::bigint", "$4::bigint"),
	/* The mark moves here already; COUNTS_MOVE then finds it moved. */
	[DB_STMT_COUNTS_EXPIRE] = COUNTS_EXPIRE_PG("$1::bigint"),
	[DB_STMT_COUNTS_MOVE] =
	    "UPDATE cert_counts_mark SET prev = at, at = $1::bigint "
	    "WHERE at < $1::bigint",
	[DB_STMT_CERT_SET_SPKI] =
	    "UPDATE certificates SET spki_sha256 = $1::text "
	    "WHERE id = $2::bigint AND spki_sha256 IS NULL",

	[DB_STMT_KEY_BLOCK] =
	    "INSERT INTO blocked_keys (spki_sha256, serial, blocked_at) "
	    "VALUES ($1::text, $2::text, $3::bigint) "
	    "ON CONFLICT (spki_sha256) DO NOTHING",
	[DB_STMT_KEY_BLOCKED] =
	    "SELECT serial FROM blocked_keys WHERE spki_sha256 = $1::text",

	[DB_STMT_TOKEN_INSERT] =
	    "INSERT INTO tokens (" TOKEN_COLS ") "
	    "VALUES ($1::text, $2::bytea, $3::text, $4::text, $5::text, "
	    "$6::bigint, $7::bigint, $8::bigint, $9::bigint, $10::text)",
	[DB_STMT_TOKEN_GET] =
	    "SELECT " TOKEN_COLS " FROM tokens WHERE id = $1::text",
	[DB_STMT_TOKEN_FIND_HASH] =
	    "SELECT " TOKEN_COLS " FROM tokens WHERE hash = $1::bytea",
	[DB_STMT_TOKEN_LIST] =
	    "SELECT " TOKEN_COLS " FROM tokens WHERE id > $1::text "
	    "ORDER BY id LIMIT $2::bigint",
	[DB_STMT_TOKEN_DELETE] = "DELETE FROM tokens WHERE id = $1::text",
	/*
	 * One statement: under READ COMMITTED a second consumer waits for
	 * the first's row lock and re-checks uses_left on the new row, so
	 * N uses are taken exactly N times across instances.
	 */
	[DB_STMT_TOKEN_CONSUME] =
	    "UPDATE tokens SET uses_left = CASE WHEN uses_left = -1 "
	    "THEN -1 ELSE uses_left - 1 END "
	    "WHERE id = $1::text AND (expires_at = 0 "
	    "OR expires_at > $2::bigint) "
	    "AND (uses_left > 0 OR uses_left = -1)",

	[DB_STMT_CRL_INSERT] =
	    "INSERT INTO crls (number, this_update, next_update, der, ca_id) "
	    "VALUES ($1::bigint, $2::bigint, $3::bigint, $4::bytea, "
	    "$5::bigint)",
	[DB_STMT_CRL_PRUNE] =
	    "DELETE FROM crls WHERE ca_id = $2::bigint AND number < $1::bigint",
	[DB_STMT_CRL_PRUNE_CLAIMS] =
	    "DELETE FROM crls WHERE ca_id = $2::bigint AND number < $1::bigint "
	    "AND octet_length(der) = 0",
	[DB_STMT_CRL_SET_DER] =
	    "UPDATE crls SET der = $2::bytea WHERE number = $1::bigint",
	[DB_STMT_CRL_LATEST] =
	    "SELECT number, this_update, next_update, der FROM crls "
	    "WHERE ca_id = $1::bigint AND octet_length(der) > 0 "
	    "ORDER BY number DESC LIMIT 1",
	[DB_STMT_CRL_SAME_KEY] =
	    "SELECT serial, revoked_at, reason FROM certificates "
	    "WHERE spki_sha256 = $1::text AND revoked_at IS NOT NULL "
	    "AND not_after >= $2::bigint AND ca_id = $3::bigint",
	[DB_STMT_CRL_EXPIRED] =
	    "SELECT serial FROM certificates "
	    "WHERE not_after >= $1::bigint AND not_after < $2::bigint "
	    "AND revoked_at IS NOT NULL AND ca_id = $3::bigint",
	[DB_STMT_CRL_REVOKED_COUNT] =
	    "SELECT count(*) FROM certificates "
	    "WHERE revoked_at IS NOT NULL AND not_after >= $1::bigint "
	    "AND ca_id = $2::bigint",

	[DB_STMT_AUDIT_INSERT] =
	    "INSERT INTO audit (" AUDIT_NEW_COLS ") "
	    "VALUES ($1::bigint, $2::text, $3::text, $4::text, $5::text, "
	    "$6::text)",
	[DB_STMT_AUDIT_LIST] =
	    "SELECT id, " AUDIT_NEW_COLS " "
	    "FROM audit WHERE id > $1::bigint ORDER BY id LIMIT $2::bigint",
	[DB_STMT_AUDIT_OLDEST] =
	    "SELECT " PG_BIT("at < $1::bigint") " FROM audit "
	    "ORDER BY id LIMIT 1",
	/*
	 * The audit triggers let a DELETE through only while this
	 * transaction-local setting is on: no other transaction, and no
	 * later one on this connection, ever sees the log unguarded.
	 */
	[DB_STMT_AUDIT_GUARD_OFF] = "SET LOCAL redisca.audit_prune = 'on'",
	[DB_STMT_AUDIT_PRUNE] =
	    "DELETE FROM audit WHERE id IN (SELECT id FROM audit "
	    "WHERE at < $1::bigint ORDER BY id LIMIT $2::bigint)",
	[DB_STMT_AUDIT_GUARD_ON] = "SET LOCAL redisca.audit_prune = 'off'",

	/* NODE_INSERT, NODE_GET, NODE_LIST: db/sql_node.c */
	[DB_STMT_NODE_DELETE] = "DELETE FROM nodes WHERE name = $1::text",
	[DB_STMT_NODE_UPDATE_STATE] =
	    "UPDATE nodes SET current_serial = $1::text, "
	    "not_after = $2::bigint, last_rotation_id = $3::bigint, "
	    "failures = $4::bigint, next_attempt_at = $5::bigint "
	    "WHERE name = $6::text",
	[DB_STMT_NODE_STATS] =
	    "SELECT n.name, n.not_after, r.status, count(r.id) "
	    "FROM nodes n LEFT JOIN rotations r ON r.node = n.name "
	    "GROUP BY n.name, n.not_after, r.status ORDER BY n.name",
	/* One row: the new rotation's id (SQLite's last_insert_rowid). */
	[DB_STMT_ROT_INSERT] =
	    "INSERT INTO rotations (node, status, old_serial, new_serial, "
	    "started_at, finished_at) VALUES ($1::text, $2::text, $3::text, "
	    "$4::text, $5::bigint, $6::bigint) RETURNING id",
	[DB_STMT_ROT_UPDATE] =
	    "UPDATE rotations SET status = $1::text, old_serial = $2::text, "
	    "new_serial = $3::text, finished_at = $4::bigint "
	    "WHERE id = $5::bigint",
	[DB_STMT_ROT_GET] =
	    "SELECT " ROT_COLS " FROM rotations WHERE id = $1::bigint",
	[DB_STMT_ROT_LIST] =
	    "SELECT " ROT_COLS " FROM rotations "
	    "WHERE node = $1::text AND ($2::bigint = 0 OR id < $2::bigint) "
	    "ORDER BY id DESC LIMIT $3::bigint",
	[DB_STMT_ROT_STEP_INSERT] =
	    "INSERT INTO rotation_steps (rotation_id, idx, step, ok, detail) "
	    "VALUES ($1::bigint, $2::bigint, $3::text, $4::bigint, $5::text)",
	[DB_STMT_ROT_STEPS_DELETE] =
	    "DELETE FROM rotation_steps WHERE rotation_id = $1::bigint",
	[DB_STMT_ROT_STEPS_GET] =
	    "SELECT step, ok, detail FROM rotation_steps "
	    "WHERE rotation_id = $1::bigint ORDER BY idx",

	/* In a migration's transaction, before its version is read. */
	[DB_STMT_PG_MIGRATE_LOCK] =
	    "SELECT pg_advisory_xact_lock(" PG_LOCK_MIGRATE ")",
	/* 1 on a hot standby or a server set read-only, else 0. */
	[DB_STMT_PG_READ_ONLY] =
	    "SELECT " PG_BIT("pg_is_in_recovery() OR "
	    "current_setting('default_transaction_read_only') = 'on'"),
	/*
	 * 1 when this session holds (or now takes) the scheduler's lock;
	 * asking again while holding it does not stack a second hold, so
	 * one LEADER_RELEASE (1: released) always gives it up.  The lock
	 * goes with the session: a dead leader's connection frees it.
	 */
	[DB_STMT_PG_LEADER_TRY] =
	    "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_locks "
	    "WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
	    "AND objsubid = 2 AND classid::bigint = " PG_LOCK_CLASS " "
	    "AND objid::bigint = 2) THEN 1::bigint "
	    "WHEN pg_try_advisory_lock(" PG_LOCK_LEADER ") THEN 1::bigint "
	    "ELSE 0::bigint END",
	[DB_STMT_PG_LEADER_RELEASE] =
	    "SELECT " PG_BIT("pg_advisory_unlock(" PG_LOCK_LEADER ")"),
	/* Notifications arrive between transactions (PQnotifies). */
	[DB_STMT_PG_LISTEN_CRL] = "LISTEN redisca_crl",
	/* $1 payload (the new CRL's number); sent at COMMIT. */
	[DB_STMT_PG_NOTIFY_CRL] =
	    "SELECT pg_notify('redisca_crl', $1::text)",
	/*
	 * $1 node name: 1 when this session now holds the node's lock, 0
	 * when any session (this one included) already does: the node is
	 * being rotated somewhere.  NODE_LOCK_RELEASE (1: released).
	 */
	[DB_STMT_PG_NODE_LOCK_TRY] =
	    "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_locks "
	    "WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
	    "AND objsubid = 1 "
	    "AND classid::bigint = (k.h >> 32) & 4294967295 "
	    "AND objid::bigint = k.h & 4294967295) THEN 0::bigint "
	    "WHEN pg_try_advisory_lock(k.h) THEN 1::bigint "
	    "ELSE 0::bigint END "
	    "FROM (SELECT hashtextextended($1::text, 0) AS h) k",
	[DB_STMT_PG_NODE_LOCK_RELEASE] =
	    "SELECT " PG_BIT("pg_advisory_unlock("
	    "hashtextextended($1::text, 0))"),
	/*
	 * In a write transaction before DB_STMT_CRL_MAX: one CRL number
	 * at a time across instances (the next statement's snapshot sees
	 * the previous holder's commit).
	 */
	[DB_STMT_PG_CRL_LOCK] =
	    "SELECT pg_advisory_xact_lock(" PG_LOCK_CRL ")",
};

/*
 * Version 1: the whole first schema, as db/sql.c's.  The version lives
 * in schema_version (one row).  The audit log is append-only: triggers
 * refuse UPDATE, TRUNCATE, and DELETE unless the transaction set
 * redisca.audit_prune (DB_STMT_AUDIT_GUARD_OFF).
 */
const char db_sql_pg_migration_1[] =
	"CREATE TABLE schema_version ("
	" id bigint PRIMARY KEY CHECK (id = 1),"
	" version bigint NOT NULL"
	");"
	"INSERT INTO schema_version (id, version) VALUES (1, 0);"

	"CREATE TABLE certificates ("
	" id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	" serial text NOT NULL UNIQUE,"
	" profile text NOT NULL,"
	" common_name text,"
	" san_dns text NOT NULL,"
	" san_ip text NOT NULL,"
	" san_uri text NOT NULL,"
	" key_type text NOT NULL,"
	" not_before bigint NOT NULL,"
	" not_after bigint NOT NULL,"
	" revoked_at bigint,"
	" reason bigint,"
	" fingerprint text NOT NULL,"
	" node text,"
	" issued_by text NOT NULL,"
	" pem text NOT NULL,"
	" created_at bigint NOT NULL,"
	" CHECK ((revoked_at IS NULL) = (reason IS NULL))"
	");"
	CERT_INDEXES_1

	"CREATE TABLE tokens ("
	" id text PRIMARY KEY,"
	" hash bytea NOT NULL UNIQUE CHECK (octet_length(hash) = 32),"
	" kind text NOT NULL CHECK (kind IN ('admin', 'enroll')),"
	" profile text NOT NULL,"
	" patterns text NOT NULL,"
	" uses_left bigint NOT NULL CHECK (uses_left >= -1),"
	" expires_at bigint NOT NULL,"
	" max_cert_ttl bigint NOT NULL,"
	" created_at bigint NOT NULL,"
	" description text"
	");"

	"CREATE TABLE crls ("
	" number bigint PRIMARY KEY CHECK (number > 0),"
	" this_update bigint NOT NULL,"
	" next_update bigint NOT NULL,"
	" der bytea NOT NULL"
	");"

	"CREATE TABLE audit ("
	" id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	" at bigint NOT NULL,"
	" actor text NOT NULL,"
	" action text NOT NULL,"
	" object text NOT NULL,"
	" outcome text NOT NULL CHECK (outcome IN ('ok', 'denied', 'error')),"
	" detail text NOT NULL"
	");"
	"CREATE FUNCTION audit_append_only() RETURNS trigger"
	" LANGUAGE plpgsql AS $$BEGIN"
	" IF TG_OP = 'DELETE' AND"
	"  current_setting('redisca.audit_prune', true) = 'on' THEN"
	"  RETURN OLD;"
	" END IF;"
	" RAISE EXCEPTION 'audit log is append-only'"
	"  USING ERRCODE = 'integrity_constraint_violation';"
	" END$$;"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	" FOR EACH ROW EXECUTE FUNCTION audit_append_only();"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	" FOR EACH ROW EXECUTE FUNCTION audit_append_only();"
	"CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit"
	" FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();"

	"CREATE TABLE nodes ("
	" name text PRIMARY KEY,"
	" host text NOT NULL,"
	" port bigint NOT NULL,"
	" server_name text NOT NULL,"
	" san_dns text NOT NULL,"
	" san_ip text NOT NULL,"
	" cert_dir text NOT NULL,"
	" cert_file text NOT NULL,"
	" key_file text NOT NULL,"
	" ca_file text NOT NULL,"
	" profile text NOT NULL,"
	" ttl bigint NOT NULL,"
	" auth_username text NOT NULL,"
	" auth_password_file text NOT NULL,"
	" current_serial text NOT NULL,"
	" not_after bigint NOT NULL,"
	" last_rotation_id bigint NOT NULL,"
	" failures bigint NOT NULL,"
	" next_attempt_at bigint NOT NULL,"
	" created_at bigint NOT NULL"
	");"

	"CREATE TABLE rotations ("
	" id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	" node text NOT NULL REFERENCES nodes(name) ON DELETE CASCADE,"
	" status text NOT NULL CHECK (status IN"
	"  ('running', 'succeeded', 'rolled_back', 'failed')),"
	" old_serial text NOT NULL,"
	" new_serial text NOT NULL,"
	" started_at bigint NOT NULL,"
	" finished_at bigint NOT NULL"
	");"
	"CREATE INDEX rotations_node ON rotations(node);"

	"CREATE TABLE rotation_steps ("
	" rotation_id bigint NOT NULL"
	"  REFERENCES rotations(id) ON DELETE CASCADE,"
	" idx bigint NOT NULL,"
	" step text NOT NULL,"
	" ok bigint NOT NULL CHECK (ok IN (0, 1)),"
	" detail text NOT NULL,"
	" PRIMARY KEY (rotation_id, idx)"
	");"

	"UPDATE schema_version SET version = 1;";

/* Version 2: keyCompromise, as db/sql.c's. */
const char db_sql_pg_migration_2[] =
	PG_EXPECT_VERSION("1")
	"ALTER TABLE certificates ADD COLUMN spki_sha256 text"
	" CHECK (spki_sha256 IS NULL OR length(spki_sha256) = 64);"
	"CREATE INDEX certificates_spki ON certificates(spki_sha256);"

	"CREATE TABLE blocked_keys ("
	" spki_sha256 text PRIMARY KEY CHECK (length(spki_sha256) = 64),"
	" serial text NOT NULL,"
	" blocked_at bigint NOT NULL"
	");"

	"UPDATE schema_version SET version = 2;";

/*
 * Version 3: scale, as db/sql.c's: the expiry index, revoked rows in
 * id order, and the counters with their mark (prev: the mark before
 * its last move), kept by triggers on revocation, deletion and CRL
 * insertion.  What mark moves take off active is kept apart, in
 * cert_counts_expired (see COUNTS_EXPIRE_PG).
 */
const char db_sql_pg_migration_3[] =
	PG_EXPECT_VERSION("2")
	CERT_INDEXES_3

	"CREATE TABLE cert_counts_mark ("
	" id bigint PRIMARY KEY CHECK (id = 1),"
	" at bigint NOT NULL,"
	" prev bigint NOT NULL"
	");"
	"INSERT INTO cert_counts_mark (id, at, prev) VALUES (1,"
	" extract(epoch FROM now())::bigint,"
	" extract(epoch FROM now())::bigint);"
	"CREATE TABLE cert_counts ("
	" profile text NOT NULL,"
	" shard bigint NOT NULL,"
	" issued bigint NOT NULL,"
	" revoked bigint NOT NULL,"
	" active bigint NOT NULL,"
	" PRIMARY KEY (profile, shard)"
	");"
	"CREATE TABLE cert_counts_expired ("
	" profile text PRIMARY KEY,"
	" n bigint NOT NULL"
	");"
	"INSERT INTO cert_counts (profile, shard, issued, revoked, active)"
	" SELECT profile, 0, count(*),"
	" count(*) FILTER (WHERE revoked_at IS NOT NULL),"
	" count(*) FILTER (WHERE revoked_at IS NULL AND not_after >="
	"  (SELECT at FROM cert_counts_mark))"
	" FROM certificates GROUP BY profile;"

	"CREATE FUNCTION cert_counts_crl() RETURNS trigger"
	" LANGUAGE plpgsql AS $$BEGIN "
	COUNTS_EXPIRE_PG("NEW.this_update") ";"
	" RETURN NULL; END$$;"
	/*
	 * Less OLD (update, delete), plus NEW (update), in the backend's
	 * own shard: one row when the profile stays (a revocation).
	 */
	"CREATE FUNCTION cert_counts_row() RETURNS trigger"
	" LANGUAGE plpgsql AS $$DECLARE"
	" mark bigint := (SELECT at FROM cert_counts_mark);"
	" orev bigint := " PG_BIT("OLD.revoked_at IS NOT NULL") ";"
	" oact bigint := " PG_BIT("OLD.revoked_at IS NULL"
	"  AND OLD.not_after >= mark") ";"
	" BEGIN"
	" IF TG_OP = 'UPDATE' AND NEW.profile = OLD.profile THEN"
	"  " COUNTS_UPSERT("NEW.profile", "0",
	"  " PG_BIT("NEW.revoked_at IS NOT NULL") " - orev",
	"  " PG_BIT("NEW.revoked_at IS NULL AND NEW.not_after >= mark")
	" - oact") ";"
	"  RETURN NULL;"
	" END IF;"
	" " COUNTS_UPSERT("OLD.profile", "-1", "-orev", "-oact") ";"
	" IF TG_OP = 'UPDATE' THEN"
	"  " COUNTS_UPSERT("NEW.profile", "1",
	"  " PG_BIT("NEW.revoked_at IS NOT NULL"),
	"  " PG_BIT("NEW.revoked_at IS NULL AND NEW.not_after >= mark"))
	";"
	" END IF;"
	" RETURN NULL; END$$;"
	"CREATE TRIGGER cert_counts_crl AFTER INSERT ON crls"
	" FOR EACH ROW EXECUTE FUNCTION cert_counts_crl();"
	"CREATE TRIGGER cert_counts_update"
	" AFTER UPDATE OF profile, not_after, revoked_at ON certificates"
	" FOR EACH ROW EXECUTE FUNCTION cert_counts_row();"
	"CREATE TRIGGER cert_counts_delete AFTER DELETE ON certificates"
	" FOR EACH ROW EXECUTE FUNCTION cert_counts_row();"

	"UPDATE schema_version SET version = 3;";

/* Version 5: one CRL per CA, as db/sql.c's. */
const char db_sql_pg_migration_5[] =
	PG_EXPECT_VERSION("4")
	"ALTER TABLE crls ADD COLUMN ca_id bigint NOT NULL DEFAULT 1;"
	"CREATE INDEX crls_ca ON crls(ca_id, number);"
	"UPDATE schema_version SET version = 5;";
