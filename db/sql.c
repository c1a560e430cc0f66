/*
 * redis-ca's SQL on SQLite: the statement table indexed by enum db_stmt,
 * the statements alike in both dialects, and the schema migrations;
 * and db_sql_text(), which finds a statement in this file's tables or
 * those of db/sql_pg.c, db/sql_ca.c and db/sql_node.c.  Values are
 * always bound (?N, numbered as the comment above each statement says);
 * nothing here is ever formatted at run time.
 */
#include <stddef.h>

#include "sql_text.h"

/*
 * The list filters, shared by the four list statements:
 * ?1 after (id), ?2 status (-1 any, else enum cert_status), ?3 now,
 * ?4 profile, ?5 common_name, ?6 node (NULL: any), ?7 expires_before
 * (0: any), ?8 limit, ?9 ca_id (0: any).
 */
#define CERT_FILTER \
	" AND id > ?1" \
	" AND (?2 = -1" \
	"  OR (?2 = 0 AND revoked_at IS NULL AND not_after >= ?3)" \
	"  OR (?2 = 1 AND revoked_at IS NOT NULL)" \
	"  OR (?2 = 2 AND revoked_at IS NULL AND not_after < ?3))" \
	" AND (?4 IS NULL OR profile = ?4)" \
	" AND (?5 IS NULL OR common_name = ?5)" \
	" AND (?6 IS NULL OR node = ?6)" \
	" AND (?7 = 0 OR not_after < ?7)" \
	" AND (?9 = 0 OR ca_id = ?9)" \
	" ORDER BY id LIMIT ?8"

/*
 * The trigger that refuses every DELETE on the audit log.  Only
 * db_audit_prune() drops it, and recreates it in the same transaction,
 * so no other connection ever sees the log unguarded.  The statement
 * that recreates it says IF NOT EXISTS only so that it can be prepared
 * (and cached) while the trigger exists; SQLite stores the same text
 * without the clause, and a schema change re-prepares it.
 */
#define AUDIT_NO_DELETE_BODY \
	"audit_no_delete BEFORE DELETE ON audit" \
	" BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END"

/*
 * Move the counters' mark (migration 3) forward to time t: first take
 * off active the unrevoked rows that expire between the old mark and t
 * (a range of the index), then move it.
 */
#define COUNTS_EXPIRE(t) \
	"UPDATE cert_counts SET active = active - (SELECT count(*)" \
	" FROM certificates INDEXED BY certificates_expiry" \
	" WHERE revoked_at IS NULL" \
	" AND not_after >= (SELECT at FROM cert_counts_mark)" \
	" AND not_after < " t " AND profile = cert_counts.profile)" \
	" WHERE (SELECT at FROM cert_counts_mark) < " t
#define COUNTS_MOVE(t) \
	"UPDATE cert_counts_mark SET at = " t " WHERE at < " t

static const char *const sql[DB_STMT__MAX] = {
	[DB_STMT_JOURNAL_WAL] = "PRAGMA journal_mode=WAL",
	[DB_STMT_SYNC_FULL] = "PRAGMA synchronous=FULL",
	[DB_STMT_FOREIGN_KEYS] = "PRAGMA foreign_keys=ON",
	[DB_STMT_USER_VERSION] = "PRAGMA user_version",
	[DB_STMT_BEGIN_WRITE] = "BEGIN IMMEDIATE",
	[DB_STMT_BEGIN_READ] = "BEGIN",

	/* ?1..?18 in the order of CERT_NEW_COLS */
	[DB_STMT_CERT_INSERT] =
	    "INSERT INTO certificates (" CERT_NEW_COLS ") "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
	    "?14, ?15, ?16, ?17, ?18)",
	/* ?1 serial */
	[DB_STMT_CERT_GET] =
	    "SELECT " CERT_COLS " FROM certificates WHERE serial = ?1",
	/* ?1 serial */
	[DB_STMT_CERT_EXISTS] =
	    "SELECT 1 FROM certificates WHERE serial = ?1",
	[DB_STMT_CERT_LIST] =
	    "SELECT " CERT_COLS " FROM certificates WHERE 1" CERT_FILTER,
	[DB_STMT_CERT_LIST_CN] =
	    "SELECT " CERT_COLS " FROM certificates "
	    "INDEXED BY certificates_common_name "
	    "WHERE common_name = ?5" CERT_FILTER,
	[DB_STMT_CERT_LIST_NODE] =
	    "SELECT " CERT_COLS " FROM certificates "
	    "INDEXED BY certificates_node "
	    "WHERE node = ?6" CERT_FILTER,
	[DB_STMT_CERT_LIST_PROFILE] =
	    "SELECT " CERT_COLS " FROM certificates "
	    "INDEXED BY certificates_profile "
	    "WHERE profile = ?4" CERT_FILTER,
	/* ?1 revoked_at, ?2 reason, ?3 serial; the row after the update */
	[DB_STMT_CERT_REVOKE] =
	    "UPDATE certificates SET revoked_at = ?1, reason = ?2 "
	    "WHERE serial = ?3 AND revoked_at IS NULL RETURNING " CERT_COLS,
	/* ?1 now */
	[DB_STMT_CERT_REVOKED_UNEXPIRED] =
	    "SELECT serial, revoked_at, reason FROM certificates "
	    "INDEXED BY certificates_revoked "
	    "WHERE revoked_at IS NOT NULL AND not_after >= ?1 "
	    "AND ca_id = ?2",
	/* Revoked rows in id order, from their own index. */
	[DB_STMT_CERT_LIST_REVOKED] =
	    "SELECT " CERT_COLS " FROM certificates "
	    "INDEXED BY certificates_revoked_id "
	    "WHERE revoked_at IS NOT NULL" CERT_FILTER,
	/*
	 * ?10 lo, ?11 hi: the ids of unrevoked rows with lo <= not_after <
	 * hi come from the index (it holds profile, revoked_at and id;
	 * db_cert_list never asks for a name or node here), sorted by id
	 * and cut at the limit, and only those rows are read whole.
	 */
	[DB_STMT_CERT_LIST_UNREVOKED] =
	    "SELECT " CERT_COLS " FROM certificates WHERE id IN ("
	    "SELECT id FROM certificates INDEXED BY certificates_expiry "
	    "WHERE revoked_at IS NULL AND not_after >= ?10 "
	    "AND not_after < ?11" CERT_FILTER ") ORDER BY id",
	/* ?10 lo, ?11 hi: any row with lo <= not_after < hi, as above */
	[DB_STMT_CERT_LIST_EXPIRES] =
	    "SELECT " CERT_COLS " FROM certificates WHERE id IN ("
	    "SELECT id FROM certificates INDEXED BY certificates_expiry "
	    "WHERE not_after >= ?10 AND not_after < ?11" CERT_FILTER ") "
	    "ORDER BY id",
	/*
	 * ?1 lo, ?2 hi, ?3 at most: how many unrevoked rows have lo <=
	 * not_after < hi, counting at most ?3 index entries.
	 */
	[DB_STMT_CERT_PROBE_UNREVOKED] =
	    "SELECT count(*) FROM (SELECT 1 FROM certificates "
	    "INDEXED BY certificates_expiry WHERE revoked_at IS NULL "
	    "AND not_after >= ?1 AND not_after < ?2 LIMIT ?3)",
	/* ?1 lo, ?2 hi, ?3 at most: the same, any row */
	[DB_STMT_CERT_PROBE_EXPIRES] =
	    "SELECT count(*) FROM (SELECT 1 FROM certificates "
	    "INDEXED BY certificates_expiry WHERE not_after >= ?1 "
	    "AND not_after < ?2 LIMIT ?3)",
	/*
	 * ?1 now.  The counters of migration 3, with
	 * active moved from the mark to now: plus the unrevoked rows that
	 * expire in [now, mark), minus those in [mark, now).  Both are
	 * ranges of certificates_expiry between the mark and now.
	 */
	[DB_STMT_CERT_COUNTS] =
	    "SELECT c.profile, c.issued, c.active"
	    " + (SELECT count(*) FROM certificates"
	    "  INDEXED BY certificates_expiry WHERE revoked_at IS NULL"
	    "  AND not_after >= ?1 AND not_after < m.at"
	    "  AND profile = c.profile)"
	    " - (SELECT count(*) FROM certificates"
	    "  INDEXED BY certificates_expiry WHERE revoked_at IS NULL"
	    "  AND not_after >= m.at AND not_after < ?1"
	    "  AND profile = c.profile),"
	    " c.revoked "
	    "FROM cert_counts c, cert_counts_mark m "
	    "WHERE c.issued > 0 ORDER BY c.profile",
	/*
	 * ?1 revoked_at (also "unexpired at"), ?2 reason, ?3 spki_sha256:
	 * every other unrevoked, unexpired certificate with that key.
	 */
	[DB_STMT_CERT_REVOKE_SAME_KEY] =
	    "UPDATE certificates INDEXED BY certificates_spki "
	    "SET revoked_at = ?1, reason = ?2 "
	    "WHERE spki_sha256 = ?3 AND revoked_at IS NULL "
	    "AND not_after >= ?1 RETURNING serial",
	/* ?1 after (id), ?2 limit */
	[DB_STMT_CERT_SPKI_MISSING] =
	    "SELECT id, serial, pem FROM certificates "
	    "INDEXED BY certificates_spki "
	    "WHERE spki_sha256 IS NULL AND id > ?1 ORDER BY id LIMIT ?2",
	/* ?1 profile, ?2 issued, ?3 revoked, ?4 active: added */
	[DB_STMT_COUNTS_ADD] =
	    "INSERT INTO cert_counts (profile, issued, revoked, active) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (profile) DO UPDATE SET "
	    "issued = issued + excluded.issued, "
	    "revoked = revoked + excluded.revoked, "
	    "active = active + excluded.active",
	/* ?1 t: the two steps of COUNTS_ADVANCE, the mark moved to t */
	[DB_STMT_COUNTS_EXPIRE] = COUNTS_EXPIRE("?1"),
	[DB_STMT_COUNTS_MOVE] = COUNTS_MOVE("?1"),
	/* ?1 spki_sha256, ?2 id */
	[DB_STMT_CERT_SET_SPKI] =
	    "UPDATE certificates SET spki_sha256 = ?1 "
	    "WHERE id = ?2 AND spki_sha256 IS NULL",

	/* ?1 spki_sha256, ?2 serial, ?3 blocked_at; the first block stays */
	[DB_STMT_KEY_BLOCK] =
	    "INSERT INTO blocked_keys (spki_sha256, serial, blocked_at) "
	    "VALUES (?1, ?2, ?3) ON CONFLICT (spki_sha256) DO NOTHING",
	/* ?1 spki_sha256 */
	[DB_STMT_KEY_BLOCKED] =
	    "SELECT serial FROM blocked_keys WHERE spki_sha256 = ?1",

	/* ?1..?10 in the order of TOKEN_COLS */
	[DB_STMT_TOKEN_INSERT] =
	    "INSERT INTO tokens (" TOKEN_COLS ") "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	/* ?1 id */
	[DB_STMT_TOKEN_GET] =
	    "SELECT " TOKEN_COLS " FROM tokens WHERE id = ?1",
	/* ?1 hash */
	[DB_STMT_TOKEN_FIND_HASH] =
	    "SELECT " TOKEN_COLS " FROM tokens WHERE hash = ?1",
	/* ?1 after, ?2 limit */
	[DB_STMT_TOKEN_LIST] =
	    "SELECT " TOKEN_COLS " FROM tokens WHERE id > ?1 "
	    "ORDER BY id LIMIT ?2",
	/* ?1 id */
	[DB_STMT_TOKEN_DELETE] = "DELETE FROM tokens WHERE id = ?1",
	/*
	 * ?1 id, ?2 now.  One statement, so two consumers can never both
	 * take the last use; -1 (unlimited) is never decremented.
	 */
	[DB_STMT_TOKEN_CONSUME] =
	    "UPDATE tokens SET uses_left = CASE WHEN uses_left = -1 "
	    "THEN -1 ELSE uses_left - 1 END "
	    "WHERE id = ?1 AND (expires_at = 0 OR expires_at > ?2) "
	    "AND (uses_left > 0 OR uses_left = -1)",

	/* ?1 number, ?2 this_update, ?3 next_update, ?4 der, ?5 ca_id */
	[DB_STMT_CRL_INSERT] =
	    "INSERT INTO crls (number, this_update, next_update, der, ca_id) "
	    "VALUES (?1, ?2, ?3, ?4, ?5)",
	/* ?1 oldest number to keep of CA ?2 */
	[DB_STMT_CRL_PRUNE] =
	    "DELETE FROM crls WHERE ca_id = ?2 AND number < ?1",
	/* ?1 a new number claimed for CA ?2: its older claims (no DER) go */
	[DB_STMT_CRL_PRUNE_CLAIMS] =
	    "DELETE FROM crls WHERE ca_id = ?2 AND number < ?1 "
	    "AND length(der) = 0",
	/* ?1 number, ?2 its DER (written after the claim) */
	[DB_STMT_CRL_SET_DER] = "UPDATE crls SET der = ?2 WHERE number = ?1",
	/* ?1 ca_id: the newest CRL of that CA whose DER is stored. */
	[DB_STMT_CRL_LATEST] =
	    "SELECT number, this_update, next_update, der FROM crls "
	    "WHERE ca_id = ?1 AND length(der) > 0 "
	    "ORDER BY number DESC LIMIT 1",
	/*
	 * ?1 from, ?2 to: revoked certificates expiring in [from, to),
	 * which drop out of the CRL kept in memory since from.
	 */
	/*
	 * ?1 a key's spki_sha256, ?2 now, ?3 ca_id: its revoked, unexpired
	 * certificates of that CA
	 */
	[DB_STMT_CRL_SAME_KEY] =
	    "SELECT serial, revoked_at, reason FROM certificates "
	    "INDEXED BY certificates_spki "
	    "WHERE spki_sha256 = ?1 AND revoked_at IS NOT NULL "
	    "AND not_after >= ?2 AND ca_id = ?3",
	/* ?3 ca_id */
	[DB_STMT_CRL_EXPIRED] =
	    "SELECT serial FROM certificates INDEXED BY certificates_expiry "
	    "WHERE not_after >= ?1 AND not_after < ?2 "
	    "AND revoked_at IS NOT NULL AND ca_id = ?3",
	/*
	 * ?1 now: how many certificates a CRL built at now lists (what
	 * DB_STMT_CERT_REVOKED_UNEXPIRED returns), from the same index.
	 */
	[DB_STMT_CRL_REVOKED_COUNT] =
	    "SELECT count(*) FROM certificates "
	    "INDEXED BY certificates_revoked "
	    "WHERE revoked_at IS NOT NULL AND not_after >= ?1 "
	    "AND ca_id = ?2",

	/* ?1 at, ?2 actor, ?3 action, ?4 object, ?5 outcome, ?6 detail */
	[DB_STMT_AUDIT_INSERT] =
	    "INSERT INTO audit (" AUDIT_NEW_COLS ") "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	/* ?1 after, ?2 limit */
	[DB_STMT_AUDIT_LIST] =
	    "SELECT id, " AUDIT_NEW_COLS " "
	    "FROM audit WHERE id > ?1 ORDER BY id LIMIT ?2",
	/*
	 * ?1 before.  Ids grow with time: the first row tells whether any
	 * is older (1) or not (0; no row when the log is empty).
	 */
	[DB_STMT_AUDIT_OLDEST] =
	    "SELECT at < ?1 FROM audit ORDER BY id LIMIT 1",
	[DB_STMT_AUDIT_GUARD_OFF] = "DROP TRIGGER audit_no_delete",
	/* ?1 before (at < ?1), ?2 at most this many, oldest first */
	[DB_STMT_AUDIT_PRUNE] =
	    "DELETE FROM audit WHERE id IN (SELECT id FROM audit "
	    "WHERE at < ?1 ORDER BY id LIMIT ?2)",
	[DB_STMT_AUDIT_GUARD_ON] =
	    "CREATE TRIGGER IF NOT EXISTS " AUDIT_NO_DELETE_BODY,

	/* NODE_INSERT, NODE_GET, NODE_LIST: db/sql_node.c */
	/* ?1 name; its rotations go by ON DELETE CASCADE */
	[DB_STMT_NODE_DELETE] = "DELETE FROM nodes WHERE name = ?1",
	/*
	 * ?1 current_serial, ?2 not_after, ?3 last_rotation_id,
	 * ?4 failures, ?5 next_attempt_at, ?6 name
	 */
	[DB_STMT_NODE_UPDATE_STATE] =
	    "UPDATE nodes SET current_serial = ?1, not_after = ?2, "
	    "last_rotation_id = ?3, failures = ?4, next_attempt_at = ?5 "
	    "WHERE name = ?6",
	/*
	 * Per node (in name order) and rotation status: name, not_after,
	 * status, count; a node without rotations has one row, status NULL.
	 */
	[DB_STMT_NODE_STATS] =
	    "SELECT n.name, n.not_after, r.status, count(r.id) "
	    "FROM nodes n LEFT JOIN rotations r ON r.node = n.name "
	    "GROUP BY n.name, r.status ORDER BY n.name",
	/* ?1 node, ?2 status, ?3 old, ?4 new, ?5 started, ?6 finished */
	[DB_STMT_ROT_INSERT] =
	    "INSERT INTO rotations (node, status, old_serial, new_serial, "
	    "started_at, finished_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
	    "RETURNING id",
	/* ?1 status, ?2 old, ?3 new, ?4 finished, ?5 id */
	[DB_STMT_ROT_UPDATE] =
	    "UPDATE rotations SET status = ?1, old_serial = ?2, "
	    "new_serial = ?3, finished_at = ?4 WHERE id = ?5",
	/* ?1 id */
	[DB_STMT_ROT_GET] =
	    "SELECT " ROT_COLS " FROM rotations WHERE id = ?1",
	/* ?1 node, ?2 before (0: newest), ?3 limit */
	[DB_STMT_ROT_LIST] =
	    "SELECT " ROT_COLS " FROM rotations "
	    "WHERE node = ?1 AND (?2 = 0 OR id < ?2) "
	    "ORDER BY id DESC LIMIT ?3",
	/* ?1 rotation_id, ?2 idx, ?3 step, ?4 ok, ?5 detail */
	[DB_STMT_ROT_STEP_INSERT] =
	    "INSERT INTO rotation_steps (rotation_id, idx, step, ok, detail) "
	    "VALUES (?1, ?2, ?3, ?4, ?5)",
	/* ?1 rotation_id */
	[DB_STMT_ROT_STEPS_DELETE] =
	    "DELETE FROM rotation_steps WHERE rotation_id = ?1",
	/* ?1 rotation_id */
	[DB_STMT_ROT_STEPS_GET] =
	    "SELECT step, ok, detail FROM rotation_steps "
	    "WHERE rotation_id = ?1 ORDER BY idx",
};

/*
 * The statements whose text is the same on SQLite and PostgreSQL
 * (db_sql_text() looks here after each dialect's table).  The savepoint
 * ones say SAVEPOINT, which both grammars allow and PostgreSQL's
 * documentation writes.
 */
static const char *const both[DB_STMT__MAX] = {
	[DB_STMT_COMMIT] = "COMMIT",
	[DB_STMT_ROLLBACK] = "ROLLBACK",
	[DB_STMT_SAVEPOINT] = "SAVEPOINT gc_row",
	[DB_STMT_RELEASE] = "RELEASE SAVEPOINT gc_row",
	[DB_STMT_ROLLBACK_TO] = "ROLLBACK TO SAVEPOINT gc_row",
	/* The counters' mark (migration 3). */
	[DB_STMT_COUNTS_MARK] = "SELECT at FROM cert_counts_mark",
	[DB_STMT_CRL_MAX] = "SELECT coalesce(max(number), 0) FROM crls",
};

/*
 * Version 1: the whole first schema.  Times are epoch seconds; name
 * lists are '\n'-joined (names_join()).  The audit log is append-only:
 * triggers refuse every UPDATE and DELETE on it.
 */
static const char migration_1[] =
	"CREATE TABLE certificates ("
	" id INTEGER PRIMARY KEY,"
	" serial TEXT NOT NULL UNIQUE,"
	" profile TEXT NOT NULL,"
	" common_name TEXT,"
	" san_dns TEXT NOT NULL,"
	" san_ip TEXT NOT NULL,"
	" san_uri TEXT NOT NULL,"
	" key_type TEXT NOT NULL,"
	" not_before INTEGER NOT NULL,"
	" not_after INTEGER NOT NULL,"
	" revoked_at INTEGER,"
	" reason INTEGER,"
	" fingerprint TEXT NOT NULL,"
	" node TEXT,"
	" issued_by TEXT NOT NULL,"
	" pem TEXT NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" CHECK ((revoked_at IS NULL) = (reason IS NULL))"
	") STRICT;"
	CERT_INDEXES_1

	"CREATE TABLE tokens ("
	" id TEXT PRIMARY KEY,"
	" hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
	" kind TEXT NOT NULL CHECK (kind IN ('admin', 'enroll')),"
	" profile TEXT NOT NULL,"
	" patterns TEXT NOT NULL,"
	" uses_left INTEGER NOT NULL CHECK (uses_left >= -1),"
	" expires_at INTEGER NOT NULL,"
	" max_cert_ttl INTEGER NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" description TEXT"
	") STRICT;"

	"CREATE TABLE crls ("
	" number INTEGER PRIMARY KEY CHECK (number > 0),"
	" this_update INTEGER NOT NULL,"
	" next_update INTEGER NOT NULL,"
	" der BLOB NOT NULL"
	") STRICT;"

	"CREATE TABLE audit ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" at INTEGER NOT NULL,"
	" actor TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" object TEXT NOT NULL,"
	" outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'denied', 'error')),"
	" detail TEXT NOT NULL"
	") STRICT;"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	" BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
	"CREATE TRIGGER " AUDIT_NO_DELETE_BODY ";"

	"CREATE TABLE nodes ("
	" name TEXT PRIMARY KEY,"
	" host TEXT NOT NULL,"
	" port INTEGER NOT NULL,"
	" server_name TEXT NOT NULL,"
	" san_dns TEXT NOT NULL,"
	" san_ip TEXT NOT NULL,"
	" cert_dir TEXT NOT NULL,"
	" cert_file TEXT NOT NULL,"
	" key_file TEXT NOT NULL,"
	" ca_file TEXT NOT NULL,"
	" profile TEXT NOT NULL,"
	" ttl INTEGER NOT NULL,"
	" auth_username TEXT NOT NULL,"
	" auth_password_file TEXT NOT NULL,"
	" current_serial TEXT NOT NULL,"
	" not_after INTEGER NOT NULL,"
	" last_rotation_id INTEGER NOT NULL,"
	" failures INTEGER NOT NULL,"
	" next_attempt_at INTEGER NOT NULL,"
	" created_at INTEGER NOT NULL"
	") STRICT;"

	"CREATE TABLE rotations ("
	" id INTEGER PRIMARY KEY,"
	" node TEXT NOT NULL REFERENCES nodes(name) ON DELETE CASCADE,"
	" status TEXT NOT NULL CHECK (status IN"
	"  ('running', 'succeeded', 'rolled_back', 'failed')),"
	" old_serial TEXT NOT NULL,"
	" new_serial TEXT NOT NULL,"
	" started_at INTEGER NOT NULL,"
	" finished_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE INDEX rotations_node ON rotations(node);"

	"CREATE TABLE rotation_steps ("
	" rotation_id INTEGER NOT NULL"
	"  REFERENCES rotations(id) ON DELETE CASCADE,"
	" idx INTEGER NOT NULL,"
	" step TEXT NOT NULL,"
	" ok INTEGER NOT NULL CHECK (ok IN (0, 1)),"
	" detail TEXT NOT NULL,"
	" PRIMARY KEY (rotation_id, idx)"
	") STRICT, WITHOUT ROWID;"

	"PRAGMA user_version = 1;";

/*
 * Version 2: keyCompromise.  Each certificate records the SHA-256 of its
 * canonical SubjectPublicKeyInfo (hex; NULL for rows issued before this
 * version until the service fills them at start-up), indexed so the
 * certificates of one key are found without a scan; blocked_keys lists
 * the keys revoked as compromised (the serial whose revocation blocked
 * it), which are never certified again.
 */
static const char migration_2[] =
	"ALTER TABLE certificates ADD COLUMN spki_sha256 TEXT"
	" CHECK (spki_sha256 IS NULL OR length(spki_sha256) = 64);"
	"CREATE INDEX certificates_spki ON certificates(spki_sha256);"

	"CREATE TABLE blocked_keys ("
	" spki_sha256 TEXT PRIMARY KEY CHECK (length(spki_sha256) = 64),"
	" serial TEXT NOT NULL,"
	" blocked_at INTEGER NOT NULL"
	") STRICT, WITHOUT ROWID;"

	"PRAGMA user_version = 2;";

/*
 * The counters of OLD's profile less OLD.  active counts unrevoked rows
 * with not_after at or after the mark.
 */
#define COUNTS_MINUS_OLD \
	"UPDATE cert_counts SET issued = issued - 1," \
	" revoked = revoked - (OLD.revoked_at IS NOT NULL)," \
	" active = active - (OLD.revoked_at IS NULL AND" \
	" OLD.not_after >= (SELECT at FROM cert_counts_mark))" \
	" WHERE profile = OLD.profile;"
#define COUNTS_ADVANCE(t) " " COUNTS_EXPIRE(t) "; " COUNTS_MOVE(t) ";"
/* The counters of NEW's profile (its row made if need be) plus NEW. */
#define COUNTS_PLUS_NEW \
	"INSERT INTO cert_counts (profile, issued, revoked, active)" \
	" VALUES (NEW.profile, 1, NEW.revoked_at IS NOT NULL," \
	" NEW.revoked_at IS NULL AND" \
	" NEW.not_after >= (SELECT at FROM cert_counts_mark))" \
	" ON CONFLICT (profile) DO UPDATE SET" \
	" issued = issued + 1, revoked = revoked + excluded.revoked," \
	" active = active + excluded.active;"

/*
 * Version 3: scale.  /metrics reads per-profile counters instead of
 * counting the table: cert_counts (issued, revoked, and active: the
 * unrevoked rows with not_after at or after cert_counts_mark.at) is
 * back-filled here and kept in the transaction of every write: inserts
 * by db/cert.c (one DB_STMT_COUNTS_ADD per profile of a group commit,
 * cheaper than a trigger per row), updates (revocations) and deletes
 * by triggers.  A batch of certificates whose newest created_at, or a
 * CRL whose this_update, is past the mark moves the mark there, taking
 * off the rows that expired in between (a range of certificates_
 * expiry), so a reader only counts what expired since the last
 * issuance or CRL (the scheduler publishes one at least every CRL
 * refresh).  Any mark gives exact counts; it only bounds a reader's
 * work.
 * The list filters on status and expiry get the indexes they walk:
 * certificates_expiry (not_after, profile, revoked_at: every range of
 * expiry, counted or sorted by id from the index alone) replaces
 * certificates_not_after (an insert still updates as many indexes),
 * and certificates_revoked_id (id order over revoked rows; revoked
 * rows only).
 */
static const char migration_3[] =
	CERT_INDEXES_3

	"CREATE TABLE cert_counts_mark ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" at INTEGER NOT NULL"
	") STRICT;"
	"INSERT INTO cert_counts_mark (id, at)"
	" VALUES (1, CAST(strftime('%s', 'now') AS INTEGER));"
	"CREATE TABLE cert_counts ("
	" profile TEXT PRIMARY KEY,"
	" issued INTEGER NOT NULL,"
	" revoked INTEGER NOT NULL,"
	" active INTEGER NOT NULL"
	") STRICT, WITHOUT ROWID;"
	"INSERT INTO cert_counts (profile, issued, revoked, active)"
	" SELECT profile, count(*), sum(revoked_at IS NOT NULL),"
	" sum(revoked_at IS NULL AND not_after >="
	"  (SELECT at FROM cert_counts_mark))"
	" FROM certificates GROUP BY profile;"

	"CREATE TRIGGER cert_counts_crl AFTER INSERT ON crls"
	" BEGIN " COUNTS_ADVANCE("NEW.this_update") " END;"
	"CREATE TRIGGER cert_counts_update"
	" AFTER UPDATE OF profile, not_after, revoked_at ON certificates"
	" BEGIN " COUNTS_MINUS_OLD COUNTS_PLUS_NEW " END;"
	"CREATE TRIGGER cert_counts_delete AFTER DELETE ON certificates"
	" BEGIN " COUNTS_MINUS_OLD " END;"

	"PRAGMA user_version = 3;";

/*
 * Version 5: one CRL per CA (SPEC section 10).  A CRL row names its CA
 * (rows before belong to CA 1, the only one then); the numbers stay
 * one sequence across the CAs (number the key).
 */
static const char migration_5[] =
	"ALTER TABLE crls ADD COLUMN ca_id INTEGER NOT NULL DEFAULT 1;"
	"CREATE INDEX crls_ca ON crls(ca_id, number);"
	"PRAGMA user_version = 5;";

/*
 * The migrations of both dialects, indexed by step and enum
 * db_dialect: step i takes the schema from version i to i + 1.
 */
static const char *const migrations[][2] = {
	{ migration_1, db_sql_pg_migration_1 },
	{ migration_2, db_sql_pg_migration_2 },
	{ migration_3, db_sql_pg_migration_3 },
	/* 4 and 6: db/sql_ca.c, db/sql_node.c */
	{ db_sql_ca_migration_sqlite, db_sql_ca_migration_pg },
	{ migration_5, db_sql_pg_migration_5 },
	{ db_sql_node_migration_sqlite, db_sql_node_migration_pg },
};

/* This file's tables, with sql_pg.c's. */
static const struct db_sql_tables core = { sql, db_sql_pg_stmts, both };

/* The statement files, in the order db_sql_text() looks in them. */
static const struct db_sql_tables *const files[] = {
	&core, &db_sql_ca_tables, &db_sql_node_tables,
};

const char *
db_sql_text(enum db_dialect d, enum db_stmt id)
{
	const char *t;

	if ((unsigned)id >= DB_STMT__MAX)
		return NULL;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		t = (d == DB_DIALECT_PG ? files[i]->pg : files[i]->sqlite)[id];
		if (t == NULL)
			t = files[i]->both[id];
		if (t != NULL)
			return t;
	}
	return NULL;
}

size_t
db_sql_nmigrations(enum db_dialect d)
{
	(void)d;
	return sizeof(migrations) / sizeof(migrations[0]);
}

const char *
db_sql_migration(enum db_dialect d, size_t i)
{
	if (i >= db_sql_nmigrations(d))
		return NULL;
	return migrations[i][d == DB_DIALECT_PG ? DB_DIALECT_PG :
	    DB_DIALECT_SQLITE];
}
