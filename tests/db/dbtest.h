/*
 * Fixtures shared by the db/ tests: a fresh database file in a
 * temporary folder under /tmp per test, and record builders.
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

#include <sqlite3.h>

#include "db.h"
#include "priv.h"

struct dbt {
	char		dir[64];
	char		path[128];
	struct db	*db;
};

static void
dbt_remove(const struct dbt *t)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char p[160];

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
