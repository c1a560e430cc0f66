/*
 * The SQL of the CAs and their rollover (schema version 4), in both
 * dialects: table cas (one row per CA, its state), ca_meta (the CA
 * generation every phase bumps), which CA issued each certificate
 * (certificates.ca_id) and which bundle each node holds
 * (nodes.bundle_etag).  db_sql_text() finds these statements here and
 * db/sql.c and db/sql_pg.c put migration 4 in their lists; the rules
 * are theirs: values always bound (?N on SQLite, $N with a cast
 * on PostgreSQL, numbered alike), nothing formatted at run time.
 */
#include <stddef.h>

#include "sql_text.h"

/* Columns of a cas row, in the order db/ca.c reads them. */
#define CA_COLS \
	"id, ski, spki_sha256, state, cert_pem, csr_pem, anchors_pem, " \
	"key_type, not_before, not_after, created_at, activated_at, " \
	"retired_at"

/* The columns a new row gets (db_ca_prepare(), db_ca_bootstrap()). */
#define CA_NEW_COLS \
	"id, ski, spki_sha256, state, cert_pem, csr_pem, anchors_pem, " \
	"key_type, not_before, not_after, created_at, activated_at"

/* The statements alike in both dialects. */
static const char *const both_sql[DB_STMT__MAX] = {
	/* Every CA not gone, in id order. */
	[DB_STMT_CA_LIST] =
	    "SELECT " CA_COLS " FROM cas WHERE state <> 'gone' ORDER BY id",
	[DB_STMT_CA_GENERATION] = "SELECT generation FROM ca_meta WHERE id = 1",
	/*
	 * The first statement of every phase: the new generation.  On
	 * PostgreSQL its row lock makes phases wait for each other, and
	 * what they read after it is what the previous one committed.
	 */
	[DB_STMT_CA_BUMP] =
	    "UPDATE ca_meta SET generation = generation + 1 WHERE id = 1 "
	    "RETURNING generation",
	/* The CAs in the bundle or prepared: id, state, key hash. */
	[DB_STMT_CA_STATES] =
	    "SELECT id, state, spki_sha256 FROM cas WHERE state <> 'gone' "
	    "ORDER BY id",
	/*
	 * Every node due for rotation at the scheduler's next pass: the
	 * expiry of its certificate unknown, no backoff.
	 */
	[DB_STMT_NODE_ALL_DUE] =
	    "UPDATE nodes SET not_after = 0, next_attempt_at = 0",
};

static const char *const sqlite_sql[DB_STMT__MAX] = {
	/* ?1 ski, ?2 spki_sha256, ?3 id left out: does another CA have it? */
	[DB_STMT_CA_KEY_TAKEN] =
	    "SELECT 1 FROM cas WHERE (ski = ?1 OR spki_sha256 = ?2) "
	    "AND id <> ?3 LIMIT 1",
	/*
	 * ?1 ski, ?2 spki_sha256, ?3 cert_pem, ?4 anchors_pem, ?5 key_type,
	 * ?6 not_before, ?7 not_after, ?8 created_at: CA 1, current, when
	 * the table is empty (a racing instance's row wins, quietly).
	 */
	[DB_STMT_CA_BOOTSTRAP] =
	    "INSERT INTO cas (" CA_NEW_COLS ") SELECT 1, ?1, ?2, 'current', "
	    "?3, NULL, ?4, ?5, ?6, ?7, ?8, ?8 "
	    "WHERE NOT EXISTS (SELECT 1 FROM cas) ON CONFLICT DO NOTHING",
	/*
	 * ?1 ski, ?2 spki_sha256, ?3 state, ?4 cert_pem, ?5 csr_pem,
	 * ?6 anchors_pem, ?7 key_type, ?8 not_before, ?9 not_after,
	 * ?10 created_at; the new id (ids only grow: rows are never
	 * deleted, gone ones stay).
	 */
	[DB_STMT_CA_INSERT] =
	    "INSERT INTO cas (" CA_NEW_COLS ") SELECT coalesce(max(id), 0) "
	    "+ 1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, NULL FROM cas "
	    "RETURNING id",
	/*
	 * ?1 id, ?2 cert_pem, ?3 anchors_pem, ?4 ski, ?5 not_before,
	 * ?6 not_after, ?7 spki_sha256: a pending CA gets its certificate.
	 */
	[DB_STMT_CA_COMPLETE] =
	    "UPDATE cas SET state = 'next', cert_pem = ?2, anchors_pem = ?3, "
	    "ski = ?4, not_before = ?5, not_after = ?6 "
	    "WHERE id = ?1 AND state = 'pending' AND spki_sha256 = ?7",
	/* ?1 now: the current CA retires (first: one current at a time) */
	[DB_STMT_CA_RETIRE_CURRENT] =
	    "UPDATE cas SET state = 'retired', retired_at = ?1 "
	    "WHERE state = 'current'",
	/* ?1 now: then the next one is current */
	[DB_STMT_CA_ACTIVATE_NEXT] =
	    "UPDATE cas SET state = 'current', activated_at = ?1 "
	    "WHERE state = 'next'",
	/* ?1 id: the retired CA leaves the bundle */
	[DB_STMT_CA_GONE] =
	    "UPDATE cas SET state = 'gone' WHERE id = ?1 AND state = 'retired'",
	/*
	 * ?1 ca_id, ?2 now: its unrevoked certificates with not_after >
	 * now, from the expiry index alone (it holds ca_id since version
	 * 4): a walk of the entries of every unexpired certificate.
	 */
	[DB_STMT_CA_UNEXPIRED_COUNT] =
	    "SELECT count(*) FROM certificates "
	    "INDEXED BY certificates_expiry "
	    "WHERE ca_id = ?1 AND not_after > ?2 AND revoked_at IS NULL",
	/* ?1 ca_id, ?2 now, ?3 limit: the same, soonest expiry first */
	[DB_STMT_CA_UNEXPIRED_LIST] =
	    "SELECT serial FROM certificates "
	    "INDEXED BY certificates_expiry "
	    "WHERE ca_id = ?1 AND not_after > ?2 AND revoked_at IS NULL "
	    "ORDER BY not_after LIMIT ?3",
	/* ?1 etag, ?2 name */
	[DB_STMT_NODE_SET_BUNDLE] =
	    "UPDATE nodes SET bundle_etag = ?1 WHERE name = ?2",
	/* ?1 etag: the nodes holding another bundle */
	[DB_STMT_NODE_BUNDLE_STALE] =
	    "SELECT name FROM nodes WHERE bundle_etag <> ?1 ORDER BY name",
};

static const char *const pg_sql[DB_STMT__MAX] = {
	[DB_STMT_CA_KEY_TAKEN] =
	    "SELECT 1::bigint FROM cas WHERE (ski = $1::text "
	    "OR spki_sha256 = $2::text) AND id <> $3::bigint LIMIT 1",
	[DB_STMT_CA_BOOTSTRAP] =
	    "INSERT INTO cas (" CA_NEW_COLS ") SELECT 1, $1::text, $2::text, "
	    "'current', $3::text, NULL, $4::text, $5::text, $6::bigint, "
	    "$7::bigint, $8::bigint, $8::bigint "
	    "WHERE NOT EXISTS (SELECT 1 FROM cas) ON CONFLICT DO NOTHING",
	[DB_STMT_CA_INSERT] =
	    "INSERT INTO cas (" CA_NEW_COLS ") SELECT coalesce(max(id), 0) "
	    "+ 1, $1::text, $2::text, $3::text, $4::text, $5::text, "
	    "$6::text, $7::text, $8::bigint, $9::bigint, $10::bigint, NULL "
	    "FROM cas RETURNING id",
	[DB_STMT_CA_COMPLETE] =
	    "UPDATE cas SET state = 'next', cert_pem = $2::text, "
	    "anchors_pem = $3::text, ski = $4::text, "
	    "not_before = $5::bigint, not_after = $6::bigint "
	    "WHERE id = $1::bigint AND state = 'pending' "
	    "AND spki_sha256 = $7::text",
	[DB_STMT_CA_RETIRE_CURRENT] =
	    "UPDATE cas SET state = 'retired', retired_at = $1::bigint "
	    "WHERE state = 'current'",
	[DB_STMT_CA_ACTIVATE_NEXT] =
	    "UPDATE cas SET state = 'current', activated_at = $1::bigint "
	    "WHERE state = 'next'",
	[DB_STMT_CA_GONE] =
	    "UPDATE cas SET state = 'gone' WHERE id = $1::bigint "
	    "AND state = 'retired'",
	[DB_STMT_CA_UNEXPIRED_COUNT] =
	    "SELECT count(*) FROM certificates WHERE ca_id = $1::bigint "
	    "AND not_after > $2::bigint AND revoked_at IS NULL",
	[DB_STMT_CA_UNEXPIRED_LIST] =
	    "SELECT serial FROM certificates WHERE ca_id = $1::bigint "
	    "AND not_after > $2::bigint AND revoked_at IS NULL "
	    "ORDER BY not_after LIMIT $3::bigint",
	[DB_STMT_NODE_SET_BUNDLE] =
	    "UPDATE nodes SET bundle_etag = $1::text WHERE name = $2::text",
	[DB_STMT_NODE_BUNDLE_STALE] =
	    "SELECT name FROM nodes WHERE bundle_etag <> $1::text "
	    "ORDER BY name",

	/* Notifications arrive between transactions (PQnotifies). */
	[DB_STMT_PG_LISTEN_CA] = "LISTEN redisca_ca",
	/* $1 payload (the new CA generation); sent at COMMIT. */
	[DB_STMT_PG_NOTIFY_CA] = "SELECT pg_notify('redisca_ca', $1::text)",
};

/*
 * The guards of migration 4, the same in both dialects: one current CA,
 * one pending-or-next, one retired (an expression index: pending and
 * next share one slot).
 */
#define CA_ONE_OF \
	"CREATE UNIQUE INDEX cas_one_current ON cas(state)" \
	" WHERE state = 'current';" \
	"CREATE UNIQUE INDEX cas_one_next ON cas((state <> 'gone'))" \
	" WHERE state IN ('pending', 'next');" \
	"CREATE UNIQUE INDEX cas_one_retired ON cas(state)" \
	" WHERE state = 'retired';"

/* What every row must be: a certificate unless pending, a CSR if so. */
#define CA_CHECKS \
	" CHECK (state IN ('pending', 'next', 'current', 'retired'," \
	"  'gone'))," \
	" CHECK (state = 'pending' OR cert_pem IS NOT NULL)," \
	" CHECK (state <> 'pending' OR csr_pem IS NOT NULL)"

/*
 * Version 4: CA lifecycle (SPEC section 10).  cas holds every CA this
 * database has known, the one before this version included (CA 1,
 * inserted by the service at start: db_ca_bootstrap()); existing
 * certificates are CA 1's.  The expiry index gains ca_id, so a CA's
 * unexpired, unrevoked certificates are counted from it alone; not a
 * new index, which every issuance would pay for (about 10% more CPU per
 * insert measured, against nothing here).  In each dialect's types
 * (TEXT and INT), its tables ending in STRICT (SQLite's " STRICT").
 */
#define MIGRATION_4(TEXT, INT, STRICT) \
	"CREATE TABLE cas (" \
	" id " INT " PRIMARY KEY," \
	" ski " TEXT " NOT NULL UNIQUE CHECK (length(ski) BETWEEN 1 AND 128)," \
	" spki_sha256 " TEXT " NOT NULL UNIQUE" \
	"  CHECK (length(spki_sha256) = 64)," \
	" state " TEXT " NOT NULL," \
	" cert_pem " TEXT "," \
	" csr_pem " TEXT "," \
	" anchors_pem " TEXT " NOT NULL," \
	" key_type " TEXT " NOT NULL," \
	" not_before " INT "," \
	" not_after " INT "," \
	" created_at " INT " NOT NULL," \
	" activated_at " INT "," \
	" retired_at " INT "," \
	CA_CHECKS \
	")" STRICT ";" \
	CA_ONE_OF \
	"CREATE TABLE ca_meta (" \
	" id " INT " PRIMARY KEY CHECK (id = 1)," \
	" generation " INT " NOT NULL" \
	")" STRICT ";" \
	"INSERT INTO ca_meta (id, generation) VALUES (1, 0);" \
	\
	"ALTER TABLE certificates ADD COLUMN ca_id " INT " NOT NULL" \
	" DEFAULT 1;" \
	"DROP INDEX certificates_expiry;" \
	"CREATE INDEX certificates_expiry ON certificates(not_after," \
	" profile, revoked_at, ca_id);" \
	"ALTER TABLE nodes ADD COLUMN bundle_etag " TEXT " NOT NULL" \
	" DEFAULT '';"

const char db_sql_ca_migration_sqlite[] =
	MIGRATION_4("TEXT", "INTEGER", " STRICT")
	"PRAGMA user_version = 4;";

const char db_sql_ca_migration_pg[] =
	PG_EXPECT_VERSION("3")
	MIGRATION_4("text", "bigint", "")
	"UPDATE schema_version SET version = 4;";

const struct db_sql_tables db_sql_ca_tables = {
	sqlite_sql, pg_sql, both_sql,
};
