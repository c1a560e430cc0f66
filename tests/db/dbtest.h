/*
 * Fixtures shared by the db/ tests: a fresh database per test, and
 * record builders.  By default the database is a SQLite file in a
 * temporary folder under /tmp; with RCA_TEST_DB=pg (the db_pg suite)
 * it is a new database on one throwaway PostgreSQL server per test
 * program (tests/support/pg.h), and t->path is its URI.  A test that
 * is inherently SQLite (raw sqlite3 handles, PRAGMAs, WAL, another
 * process's lock, the group-commit queue, query plans) starts with
 * DBT_SQLITE_ONLY(), which skips it on PostgreSQL.
 */
#ifndef RCA_TESTS_DBTEST_H
#define RCA_TESTS_DBTEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "db.h"
#include "priv.h"
#include "pg.h"

struct dbt {
	char		dir[64];
	char		path[256];	/* file, or URI on PostgreSQL */
	struct db	*db;
};

/* Does this run test PostgreSQL (RCA_TEST_DB=pg)? */
static inline bool
dbt_is_pg(void)
{
	const char *v = getenv("RCA_TEST_DB");

	return v != NULL && strcmp(v, "pg") == 0;
}

/* The test program's PostgreSQL server, started on first use. */
static struct pg_fixture *dbt_pgf;

static inline void
dbt_pg_stop(void)
{
	pg_fixture_free(dbt_pgf);
	dbt_pgf = NULL;
}

static inline struct pg_fixture *
dbt_pg_server(void)
{
	if (dbt_pgf != NULL)
		return dbt_pgf;
	if (!pg_fixture_available()) {
		fprintf(stderr, "PostgreSQL binaries missing: skipped\n");
		exit(77);
	}
	if ((dbt_pgf = pg_fixture_start()) != NULL)
		atexit(dbt_pg_stop);
	return dbt_pgf;
}

/* A new, empty PostgreSQL database's URI in t->path.  0 or -1. */
static inline int
dbt_pg_newdb(struct dbt *t)
{
	static int n;
	struct pg_fixture *f = dbt_pg_server();
	char name[32], *uri;

	if (f == NULL)
		return -1;
	snprintf(name, sizeof(name), "t%d_%d", (int)getpid(), ++n);
	if ((uri = pg_fixture_createdb(f, name)) == NULL)
		return -1;
	snprintf(t->path, sizeof(t->path), "%s", uri);
	free(uri);
	return 0;
}

/* Skip a test that is inherently SQLite when testing PostgreSQL. */
#define DBT_SQLITE_ONLY() do {						\
	if (dbt_is_pg())						\
		skip();							\
} while (0)

static void
dbt_remove(const struct dbt *t)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char p[300];

	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", t->path, sfx[i]);
		unlink(p);
	}
	rmdir(t->dir);
}

/* cmocka setup: a new, migrated database. */
static int
dbt_setup(void **state)
{
	struct dbt *t = calloc(1, sizeof(*t));
	struct err e = { 0 };

	if (t == NULL)
		return -1;
	if (dbt_is_pg()) {
		if (dbt_pg_newdb(t) == -1 ||
		    (t->db = db_open(t->path, &e)) == NULL) {
			fprintf(stderr, "db_open (PostgreSQL): %s\n", e.msg);
			free(t);
			return -1;
		}
		*state = t;
		return 0;
	}
	snprintf(t->dir, sizeof(t->dir), "/tmp/rca-db-test-XXXXXX");
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return -1;
	}
	snprintf(t->path, sizeof(t->path), "%s/test.db", t->dir);
	if ((t->db = db_open(t->path, &e)) == NULL) {
		fprintf(stderr, "db_open: %s\n", e.msg);
		dbt_remove(t);
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int
dbt_teardown(void **state)
{
	struct dbt *t = *state;

	if (t == NULL)
		return 0;
	db_close(t->db);
	if (!dbt_is_pg())
		dbt_remove(t);
	free(t);
	return 0;
}

/*
 * Another process holding the write lock: a raw connection in BEGIN
 * IMMEDIATE.  The calling thread's connection (and the group-commit
 * connection, if any) wait only 20 ms for it.  Returns the raw handle
 * for dbt_unlock().
 */
static inline sqlite3 *
dbt_lock(struct dbt *t)
{
	struct err e = { 0 };
	struct db_conn *c = db_conn_get(t->db, &e);
	sqlite3 *h = NULL;

	assert_non_null(c);
	assert_int_equal(sqlite3_busy_timeout(c->h, 20), SQLITE_OK);
	if (t->db->gc_conn != NULL)
		assert_int_equal(sqlite3_busy_timeout(t->db->gc_conn->h, 20),
		    SQLITE_OK);
	assert_int_equal(sqlite3_open(t->path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	return h;
}

static inline void
dbt_unlock(sqlite3 *h)
{
	assert_int_equal(sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_close(h), SQLITE_OK);
}

/*
 * The one integer query q (plain SQL both dialects read alike) returns,
 * on a connection of the test's own: a read-only sqlite3 one, or a
 * libpq one to the URI.
 */
static inline int64_t
dbt_count(const struct dbt *t, const char *q)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	PGconn *pc;
	PGresult *r;
	int64_t v;

	if (dbt_is_pg()) {
		pc = PQconnectdb(t->path);
		assert_int_equal(PQstatus(pc), CONNECTION_OK);
		r = PQexec(pc, q);
		if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
			fail_msg("%s: %s", q, PQresultErrorMessage(r));
		v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
		PQfinish(pc);
		return v;
	}
	assert_int_equal(sqlite3_open_v2(t->path, &h, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, q, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

/*
 * Run sql on the test's database as another session (a sqlite3
 * connection, or a libpq one to the URI); false when it failed.
 */
static inline bool
dbt_exec(const struct dbt *t, const char *sql)
{
	sqlite3 *h = NULL;
	PGconn *pc;
	PGresult *r;
	bool ok;

	if (dbt_is_pg()) {
		pc = PQconnectdb(t->path);
		assert_int_equal(PQstatus(pc), CONNECTION_OK);
		r = PQexec(pc, sql);
		ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
		    PQresultStatus(r) == PGRES_TUPLES_OK;
		PQclear(r);
		PQfinish(pc);
		return ok;
	}
	assert_int_equal(sqlite3_open(t->path, &h), SQLITE_OK);
	ok = sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK;
	sqlite3_close(h);
	return ok;
}

/* e must be the opaque "database error": SQLite's text stays in the log. */
#define assert_db_error(e) do {						\
	assert_int_equal((e).code, ERR_DB);				\
	assert_string_equal((e).msg, "database error");			\
} while (0)

static inline void
dbt_audit(struct audit_rec *a, const char *action, const char *object)
{
	memset(a, 0, sizeof(*a));
	a->at = 1700000000;
	snprintf(a->actor, sizeof(a->actor), "admin:0123456789abcdef");
	snprintf(a->action, sizeof(a->action), "%s", action);
	snprintf(a->object, sizeof(a->object), "%s", object);
	a->outcome = AUDIT_OK;
	snprintf(a->detail, sizeof(a->detail), "test");
}

#endif
