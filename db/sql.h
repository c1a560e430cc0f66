/*
 * Internal to db/: every SQL statement redis-ca runs, as one enum and
 * one table per dialect (db/sql.c, db/sql_pg.c, with db/sql_ca.c and
 * db/sql_node.c), plus the schema migrations.  Nothing outside
 * db/sql*.c contains SQL text, and no SQL text is ever built at run
 * time.
 */
#ifndef RCA_DB_SQL_H
#define RCA_DB_SQL_H

#include <stddef.h>

enum db_stmt {
	/* connection set-up and transactions */
	DB_STMT_JOURNAL_WAL,	/* PRAGMA journal_mode=WAL -> "wal" */
	DB_STMT_SYNC_FULL,	/* PRAGMA synchronous=FULL */
	DB_STMT_FOREIGN_KEYS,	/* PRAGMA foreign_keys=ON */
	DB_STMT_USER_VERSION,	/* PRAGMA user_version (read) */
	DB_STMT_BEGIN_WRITE,	/* BEGIN IMMEDIATE */
	DB_STMT_BEGIN_READ,	/* BEGIN (deferred: one read snapshot) */
	DB_STMT_COMMIT,
	DB_STMT_ROLLBACK,
	DB_STMT_SAVEPOINT,	/* one row of a group commit */
	DB_STMT_RELEASE,
	DB_STMT_ROLLBACK_TO,

	/* certificates */
	DB_STMT_CERT_INSERT,
	DB_STMT_CERT_GET,
	DB_STMT_CERT_EXISTS,
	DB_STMT_CERT_LIST,		/* any filters, scan in id order */
	DB_STMT_CERT_LIST_CN,		/* common_name given: its index */
	DB_STMT_CERT_LIST_NODE,		/* node given: its index */
	DB_STMT_CERT_LIST_PROFILE,	/* profile given: its index */
	DB_STMT_CERT_REVOKE,
	DB_STMT_CERT_REVOKED_UNEXPIRED,
	DB_STMT_CERT_LIST_REVOKED,	/* status revoked: id order */
	DB_STMT_CERT_LIST_UNREVOKED,	/* valid/expired: not_after range */
	DB_STMT_CERT_LIST_EXPIRES,	/* expires_before: not_after range */
	DB_STMT_CERT_PROBE_UNREVOKED,	/* bounded count of such a range */
	DB_STMT_CERT_PROBE_EXPIRES,
	DB_STMT_CERT_COUNTS,		/* counters (migration 3) */
	DB_STMT_CERT_REVOKE_SAME_KEY,	/* keyCompromise: same key */
	DB_STMT_CERT_SPKI_MISSING,	/* rows without a key hash */
	DB_STMT_CERT_SET_SPKI,

	/* certificate counters (migration 3) */
	DB_STMT_COUNTS_MARK,
	DB_STMT_COUNTS_ADD,
	DB_STMT_COUNTS_EXPIRE,	/* the mark moves: expirations off */
	DB_STMT_COUNTS_MOVE,	/* then the mark itself */

	/* blocked keys (keyCompromise) */
	DB_STMT_KEY_BLOCK,
	DB_STMT_KEY_BLOCKED,

	/* tokens */
	DB_STMT_TOKEN_INSERT,
	DB_STMT_TOKEN_GET,
	DB_STMT_TOKEN_FIND_HASH,
	DB_STMT_TOKEN_LIST,
	DB_STMT_TOKEN_DELETE,
	DB_STMT_TOKEN_CONSUME,

	/* CRLs */
	DB_STMT_CRL_MAX,
	DB_STMT_CRL_INSERT,
	DB_STMT_CRL_PRUNE,
	DB_STMT_CRL_PRUNE_CLAIMS,
	DB_STMT_CRL_SET_DER,
	DB_STMT_CRL_LATEST,
	DB_STMT_CRL_EXPIRED,
	DB_STMT_CRL_SAME_KEY,
	DB_STMT_CRL_REVOKED_COUNT,	/* revoked, unexpired: how many */

	/* audit */
	DB_STMT_AUDIT_INSERT,
	DB_STMT_AUDIT_LIST,
	DB_STMT_AUDIT_OLDEST,
	DB_STMT_AUDIT_GUARD_OFF,
	DB_STMT_AUDIT_PRUNE,
	DB_STMT_AUDIT_GUARD_ON,

	/* nodes and rotations */
	DB_STMT_NODE_INSERT,
	DB_STMT_NODE_GET,
	DB_STMT_NODE_LIST,
	DB_STMT_NODE_DELETE,
	DB_STMT_NODE_UPDATE_STATE,
	DB_STMT_NODE_STATS,	/* per node and rotation status: count */
	DB_STMT_ROT_INSERT,
	DB_STMT_ROT_UPDATE,
	DB_STMT_ROT_GET,
	DB_STMT_ROT_LIST,
	DB_STMT_ROT_STEP_INSERT,
	DB_STMT_ROT_STEPS_DELETE,
	DB_STMT_ROT_STEPS_GET,

	/* CAs and their rollover (migration 4; db/sql_ca.c) */
	DB_STMT_CA_LIST,		/* rows not gone, id order */
	DB_STMT_CA_GENERATION,
	DB_STMT_CA_BUMP,		/* generation + 1: first in a phase */
	DB_STMT_CA_STATES,		/* id, state, key of rows not gone */
	DB_STMT_CA_KEY_TAKEN,
	DB_STMT_CA_BOOTSTRAP,
	DB_STMT_CA_INSERT,
	DB_STMT_CA_COMPLETE,
	DB_STMT_CA_RETIRE_CURRENT,
	DB_STMT_CA_ACTIVATE_NEXT,
	DB_STMT_CA_GONE,
	DB_STMT_CA_UNEXPIRED_COUNT,
	DB_STMT_CA_UNEXPIRED_LIST,
	DB_STMT_NODE_ALL_DUE,		/* activate: every node rotates */
	DB_STMT_NODE_SET_BUNDLE,
	DB_STMT_NODE_BUNDLE_STALE,

	/* fleets (migration 6; db/sql_node.c, with NODE_INSERT/GET/LIST) */
	DB_STMT_NODE_LIST_DRIFT,	/* drift_since <> 0: nodes_drift */
	DB_STMT_NODE_GROUP_LIST,	/* one effective group's members */
	DB_STMT_NODE_GROUPS,		/* distinct effective groups */
	DB_STMT_NODE_OBSERVE,		/* role, served serial, drift */
	DB_STMT_NODE_PULL_UPDATE,	/* a pull row's host, port, ... */

	/*
	 * PostgreSQL only (db/sql_pg.c; db/sql.c's table has NULL here).
	 * Advisory lock keys live in db/sql_pg.c.
	 */
	DB_STMT_PG_MIGRATE_LOCK,	/* xact lock: one migrator at a time */
	DB_STMT_PG_READ_ONLY,		/* 1: standby or read-only server */
	DB_STMT_PG_LEADER_TRY,		/* session lock: scheduler leader */
	DB_STMT_PG_LEADER_RELEASE,
	DB_STMT_PG_LISTEN_CRL,		/* LISTEN redisca_crl */
	DB_STMT_PG_NOTIFY_CRL,		/* $1 payload */
	DB_STMT_PG_NODE_LOCK_TRY,	/* $1 node: rotated anywhere? */
	DB_STMT_PG_NODE_LOCK_RELEASE,
	DB_STMT_PG_CRL_LOCK,		/* xact lock: CRL numbering */
	DB_STMT_PG_LISTEN_CA,		/* LISTEN redisca_ca */
	DB_STMT_PG_NOTIFY_CA,		/* $1 payload: the generation */

	DB_STMT__MAX
};

/* The SQL dialects: one statement table and migration list each. */
enum db_dialect {
	DB_DIALECT_SQLITE,	/* db/sql.c */
	DB_DIALECT_PG,		/* db/sql_pg.c */
};

/*
 * The SQL text of statement id in dialect d (static storage), NULL
 * when the statement is not run on that dialect (or id is out of
 * range).  Placeholders: ?N on SQLite, $N on PostgreSQL, with the same
 * number and meaning; the same result columns in the same order.
 */
const char *db_sql_text(enum db_dialect d, enum db_stmt id);

/*
 * Schema migrations of dialect d: step i (0-based) takes the schema
 * from version i to version i + 1 and ends by recording version i + 1
 * (PRAGMA user_version on SQLite, a table on PostgreSQL).  Both
 * dialects reach the same version numbers.  Later changes append
 * steps; a step is never edited once released.  NULL: no such step.
 */
size_t	db_sql_nmigrations(enum db_dialect d);
const char *db_sql_migration(enum db_dialect d, size_t i);

/* The first statement that exists on PostgreSQL only. */
#define DB_STMT_PG__FIRST	DB_STMT_PG_MIGRATE_LOCK

/*
 * The statements in PostgreSQL 15's dialect (db/sql_pg.c) have $N
 * placeholders numbered as SQLite's ?N, the same result columns (every
 * integer BIGINT), and none for a statement without meaning there (the
 * PRAGMAs).  Its migrations keep the version in table schema_version;
 * each runs in one transaction after DB_STMT_PG_MIGRATE_LOCK and
 * refuses a schema not at version i.
 */

#endif
