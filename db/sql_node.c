/*
 * The SQL of nodes and fleets (schema version 6), in both dialects:
 * the node row statements that read or write every column (NODE_COLS
 * grows with migration 6), the fleet statements (groups, drift, role,
 * pull reports) and the two texts of migration 6.  db_sql_text() finds
 * these statements here; the rules are db/sql.c's and db/sql_pg.c's:
 * values always bound (?N on SQLite, $N with a cast on PostgreSQL,
 * numbered alike), nothing formatted at run time.
 */
#include <stddef.h>

#include "sql_text.h"

/*
 * Columns of a node row, in the order db/node.c reads them: those of
 * version 1, then those of version 6 (20..27).
 */
#define NODE_COLS \
	"name, host, port, server_name, san_dns, san_ip, cert_dir, " \
	"cert_file, key_file, ca_file, profile, ttl, auth_username, " \
	"auth_password_file, current_serial, not_after, last_rotation_id, " \
	"failures, next_attempt_at, created_at, node_group, mode, role, " \
	"role_at, served_serial, served_at, drift_since, last_report_at"

/* The effective group of a row: its own name when it has none. */
#define NODE_EFFECTIVE_GROUP \
	"CASE WHEN node_group = '' THEN name ELSE node_group END"

/* The statements alike in both dialects. */
static const char *const both_sql[DB_STMT__MAX] = {
	/* The distinct effective groups, sorted. */
	[DB_STMT_NODE_GROUPS] =
	    "SELECT DISTINCT " NODE_EFFECTIVE_GROUP " AS g FROM nodes "
	    "ORDER BY g",
};

static const char *const sqlite_sql[DB_STMT__MAX] = {
	/* ?1..?28 in the order of NODE_COLS */
	[DB_STMT_NODE_INSERT] =
	    "INSERT INTO nodes (" NODE_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, "
	    "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
	    "?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28)",
	/* ?1 name */
	[DB_STMT_NODE_GET] =
	    "SELECT " NODE_COLS " FROM nodes WHERE name = ?1",
	/* ?1 after, ?2 limit */
	[DB_STMT_NODE_LIST] =
	    "SELECT " NODE_COLS " FROM nodes WHERE name > ?1 "
	    "ORDER BY name LIMIT ?2",
	/* ?1 after, ?2 limit: drifting nodes only (index nodes_drift) */
	[DB_STMT_NODE_LIST_DRIFT] =
	    "SELECT " NODE_COLS " FROM nodes INDEXED BY nodes_drift "
	    "WHERE drift_since <> 0 AND name > ?1 ORDER BY name LIMIT ?2",
	/* ?1 group: its members (own name, or node_group), by name */
	[DB_STMT_NODE_GROUP_LIST] =
	    "SELECT " NODE_COLS " FROM nodes "
	    "WHERE node_group = ?1 OR (node_group = '' AND name = ?1) "
	    "ORDER BY name",
	/*
	 * ?1 role, ?2 role_at, ?3 served_serial, ?4 served_at,
	 * ?5 drift_since, ?6 last_report_at, ?7 name
	 */
	[DB_STMT_NODE_OBSERVE] =
	    "UPDATE nodes SET role = ?1, role_at = ?2, served_serial = ?3, "
	    "served_at = ?4, drift_since = ?5, last_report_at = ?6 "
	    "WHERE name = ?7",
	/* ?1 host, ?2 port, ?3 profile, ?4 node_group, ?5 name (a pull row) */
	[DB_STMT_NODE_PULL_UPDATE] =
	    "UPDATE nodes SET host = ?1, port = ?2, profile = ?3, "
	    "node_group = ?4 WHERE name = ?5 AND mode = 'pull'",
};

static const char *const pg_sql[DB_STMT__MAX] = {
	[DB_STMT_NODE_INSERT] =
	    "INSERT INTO nodes (" NODE_COLS ") VALUES ($1::text, $2::text, "
	    "$3::bigint, $4::text, $5::text, $6::text, $7::text, $8::text, "
	    "$9::text, $10::text, $11::text, $12::bigint, $13::text, "
	    "$14::text, $15::text, $16::bigint, $17::bigint, $18::bigint, "
	    "$19::bigint, $20::bigint, $21::text, $22::text, $23::text, "
	    "$24::bigint, $25::text, $26::bigint, $27::bigint, $28::bigint)",
	[DB_STMT_NODE_GET] =
	    "SELECT " NODE_COLS " FROM nodes WHERE name = $1::text",
	[DB_STMT_NODE_LIST] =
	    "SELECT " NODE_COLS " FROM nodes WHERE name > $1::text "
	    "ORDER BY name LIMIT $2::bigint",
	/* The partial index nodes_drift has the same predicate. */
	[DB_STMT_NODE_LIST_DRIFT] =
	    "SELECT " NODE_COLS " FROM nodes "
	    "WHERE drift_since <> 0 AND name > $1::text "
	    "ORDER BY name LIMIT $2::bigint",
	[DB_STMT_NODE_GROUP_LIST] =
	    "SELECT " NODE_COLS " FROM nodes "
	    "WHERE node_group = $1::text "
	    "OR (node_group = '' AND name = $1::text) ORDER BY name",
	[DB_STMT_NODE_OBSERVE] =
	    "UPDATE nodes SET role = $1::text, role_at = $2::bigint, "
	    "served_serial = $3::text, served_at = $4::bigint, "
	    "drift_since = $5::bigint, last_report_at = $6::bigint "
	    "WHERE name = $7::text",
	[DB_STMT_NODE_PULL_UPDATE] =
	    "UPDATE nodes SET host = $1::text, port = $2::bigint, "
	    "profile = $3::text, node_group = $4::text "
	    "WHERE name = $5::text AND mode = 'pull'",
};

/*
 * Version 6: fleets (SPEC section 11).  Each node gets a group ('': its
 * own name), a mode (push: the CA rotates it; pull: it renews itself
 * and reports), the role and served serial its last check saw, when
 * drift (served serial not the recorded one) began, and its last
 * report.  nodes_group finds a group's members; nodes_drift, partial,
 * lists the drifting nodes without walking the others.
 */
#define MIGRATION_6_COLUMNS(TEXT, INT) \
	"ALTER TABLE nodes ADD COLUMN node_group " TEXT " NOT NULL" \
	" DEFAULT '';" \
	"ALTER TABLE nodes ADD COLUMN mode " TEXT " NOT NULL DEFAULT 'push'" \
	" CHECK (mode IN ('push', 'pull'));" \
	"ALTER TABLE nodes ADD COLUMN role " TEXT " NOT NULL DEFAULT ''" \
	" CHECK (role IN ('', 'primary', 'replica'));" \
	"ALTER TABLE nodes ADD COLUMN role_at " INT " NOT NULL DEFAULT 0;" \
	"ALTER TABLE nodes ADD COLUMN served_serial " TEXT " NOT NULL" \
	" DEFAULT '';" \
	"ALTER TABLE nodes ADD COLUMN served_at " INT " NOT NULL DEFAULT 0;" \
	"ALTER TABLE nodes ADD COLUMN drift_since " INT " NOT NULL" \
	" DEFAULT 0;" \
	"ALTER TABLE nodes ADD COLUMN last_report_at " INT " NOT NULL" \
	" DEFAULT 0;" \
	"CREATE INDEX nodes_group ON nodes(node_group);" \
	"CREATE INDEX nodes_drift ON nodes(name) WHERE drift_since <> 0;"

const char db_sql_node_migration_sqlite[] =
	MIGRATION_6_COLUMNS("TEXT", "INTEGER")
	"PRAGMA user_version = 6;";

const char db_sql_node_migration_pg[] =
	PG_EXPECT_VERSION("5")
	MIGRATION_6_COLUMNS("text", "bigint")
	"UPDATE schema_version SET version = 6;";

const struct db_sql_tables db_sql_node_tables = {
	sqlite_sql, pg_sql, both_sql,
};
