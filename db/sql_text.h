/*
 * Internal to db/sql*.c: the pieces of SQL text both dialects' tables
 * are made of (column lists, the schema pieces alike in both), and the
 * shape of one statement file's tables.  Each is written once here so
 * that the SQLite and PostgreSQL statements cannot drift apart.
 */
#ifndef RCA_DB_SQL_TEXT_H
#define RCA_DB_SQL_TEXT_H

#include "sql.h"

/*
 * One statement file's tables, indexed by enum db_stmt: a statement
 * is in its dialect's table, or in `both` when its text is the same in
 * the two (no parameter, nothing dialect-specific); NULL where the
 * file has no such statement.  db_sql_text() looks in sql.c's, then
 * sql_ca.c's, then sql_node.c's.
 */
struct db_sql_tables {
	const char *const	*sqlite;	/* [DB_STMT__MAX] */
	const char *const	*pg;		/* [DB_STMT__MAX] */
	const char *const	*both;		/* [DB_STMT__MAX] */
};

/* sql_pg.c's table of the statements sql.c has for SQLite. */
extern const char *const db_sql_pg_stmts[DB_STMT__MAX];
/* The CA statements (sql_ca.c) and the node and fleet ones (sql_node.c). */
extern const struct db_sql_tables db_sql_ca_tables;
extern const struct db_sql_tables db_sql_node_tables;

/*
 * The migrations kept outside sql.c: PostgreSQL's 1, 2, 3 and 5
 * (sql_pg.c), both texts of 4 (sql_ca.c, with the CA statements) and
 * of 6 (sql_node.c, with the node and fleet ones).
 */
extern const char db_sql_pg_migration_1[];
extern const char db_sql_pg_migration_2[];
extern const char db_sql_pg_migration_3[];
extern const char db_sql_pg_migration_5[];
extern const char db_sql_ca_migration_sqlite[];
extern const char db_sql_ca_migration_pg[];
extern const char db_sql_node_migration_sqlite[];
extern const char db_sql_node_migration_pg[];

/* The columns of a new certificate row, ?1..?18 / $1..$18 in order. */
#define CERT_NEW_COLS \
	"serial, profile, common_name, san_dns, san_ip, san_uri, " \
	"key_type, not_before, not_after, revoked_at, reason, fingerprint, " \
	"node, issued_by, pem, created_at, spki_sha256, ca_id"

/* Columns of a certificate row, in the order db/cert_row.c reads them. */
#define CERT_COLS	"id, " CERT_NEW_COLS

/* Columns of a token row, in the order db/token.c reads them. */
#define TOKEN_COLS \
	"id, hash, kind, profile, patterns, uses_left, expires_at, " \
	"max_cert_ttl, created_at, description"

/* Columns of a rotation row, in the order db/rotation.c reads them. */
#define ROT_COLS \
	"id, node, status, old_serial, new_serial, started_at, finished_at"

/* The columns of a new audit entry; a listed one has id first. */
#define AUDIT_NEW_COLS	"at, actor, action, object, outcome, detail"

/*
 * Migration 1's indexes of the certificates, the same in both
 * dialects (migration 3 replaces certificates_not_after).
 */
#define CERT_INDEXES_1 \
	"CREATE INDEX certificates_not_after ON certificates(not_after);" \
	"CREATE INDEX certificates_common_name ON certificates(common_name);" \
	"CREATE INDEX certificates_profile ON certificates(profile);" \
	"CREATE INDEX certificates_node ON certificates(node)" \
	" WHERE node IS NOT NULL;" \
	"CREATE INDEX certificates_revoked ON certificates(not_after)" \
	" WHERE revoked_at IS NOT NULL;"

/*
 * Migration 3's indexes of the certificates, the same in both
 * dialects: the expiry one replaces certificates_not_after, and the
 * revoked rows in id order (migration 4 adds ca_id to the first).
 */
#define CERT_INDEXES_3 \
	"DROP INDEX certificates_not_after;" \
	"CREATE INDEX certificates_expiry ON certificates(not_after," \
	" profile, revoked_at);" \
	"CREATE INDEX certificates_revoked_id ON certificates(id)" \
	" WHERE revoked_at IS NOT NULL;"

/*
 * The first statement of every PostgreSQL migration but the first:
 * refuse a schema not at version v (a migration already applied, or
 * one skipped).
 */
#define PG_EXPECT_VERSION(v) \
	"DO $$BEGIN IF (SELECT version FROM schema_version) <> " v \
	" THEN RAISE EXCEPTION 'schema is not at version " v "'" \
	" USING ERRCODE = 'object_not_in_prerequisite_state';" \
	" END IF; END$$;"

#endif
