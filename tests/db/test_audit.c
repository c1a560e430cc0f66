/*
 * Tests for db/audit.c: append, list, the log cannot be changed, and
 * retention pruning is the one way rows leave it.
 */
#include "dbtest.h"
#include "priv.h"

static void
test_append_list(void **state)
{
	struct dbt *t = *state;
	struct audit_rec a, *list;
	struct err e = { 0 };
	char obj[32];
	size_t n, total = 0;
	int64_t after = 0, next, last = 0;
	int pages = 0;

	for (int i = 0; i < 25; i++) {
		snprintf(obj, sizeof(obj), "obj-%d", i);
		dbt_audit(&a, "certificate.issue", obj);
		a.at = 1000 + i;
		a.outcome = (enum audit_outcome)(i % AUDIT_OUTCOME__MAX);
		assert_int_equal(db_audit_append(t->db, &a, &e), 0);
	}
	do {
		assert_int_equal(db_audit_list(t->db, after, 10, &list, &n,
		    &next, &e), 0);
		for (size_t i = 0; i < n; i++) {
			size_t k = total + i;

			assert_true(list[i].id > last);
			last = list[i].id;
			snprintf(obj, sizeof(obj), "obj-%zu", k);
			assert_string_equal(list[i].object, obj);
			assert_int_equal(list[i].at, 1000 + (int64_t)k);
			assert_int_equal(list[i].outcome,
			    (int)(k % AUDIT_OUTCOME__MAX));
			assert_string_equal(list[i].actor,
			    "admin:0123456789abcdef");
			assert_string_equal(list[i].action,
			    "certificate.issue");
			assert_string_equal(list[i].detail, "test");
		}
		if (next != 0)
			assert_int_equal(next, last);
		total += n;
		pages++;
		db_audit_list_free(list, n);
		after = next;
	} while (next != 0);
	assert_int_equal(total, 25);
	assert_int_equal(pages, 3);

	assert_int_equal(db_audit_append(t->db, NULL, &e), -1);
	a.outcome = AUDIT_OUTCOME__MAX;
	assert_int_equal(db_audit_append(t->db, &a, &e), -1);
	memset(a.action, 'x', sizeof(a.action));
	a.outcome = AUDIT_OK;
	assert_int_equal(db_audit_append(t->db, &a, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
}

static void
test_append_only(void **state)
{
	struct dbt *t = *state;
	struct audit_rec a, *list;
	struct err e = { 0 };
	sqlite3 *h = NULL;
	char *msg = NULL;
	size_t n;
	int64_t next;

	/* SQLite only: raw sqlite3 handles, another process's lock. */
	DBT_SQLITE_ONLY();
	dbt_audit(&a, "token.create", "0123");
	assert_int_equal(db_audit_append(t->db, &a, &e), 0);

	/* Another connection, as an intruder with file access would use. */
	assert_int_equal(sqlite3_open(t->path, &h), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(h,
	    "UPDATE audit SET outcome = 'denied'", NULL, NULL, &msg),
	    SQLITE_OK);
	assert_non_null(strstr(msg, "append-only"));
	sqlite3_free(msg);
	msg = NULL;
	assert_int_not_equal(sqlite3_exec(h, "DELETE FROM audit", NULL,
	    NULL, &msg), SQLITE_OK);
	assert_non_null(strstr(msg, "append-only"));
	sqlite3_free(msg);
	/* Inserting is what it is for. */
	assert_int_equal(sqlite3_exec(h, "INSERT INTO audit (at, actor, "
	    "action, object, outcome, detail) VALUES (1, 'cli', 'x', 'y', "
	    "'ok', '')", NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(h, "INSERT INTO audit (at, actor, "
	    "action, object, outcome, detail) VALUES (1, 'cli', 'x', 'y', "
	    "'maybe', '')", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);

	assert_int_equal(db_audit_list(t->db, 0, 0, &list, &n, &next, &e),
	    0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].outcome, AUDIT_OK);
	assert_string_equal(list[0].object, "0123");
	assert_int_equal(next, 0);
	db_audit_list_free(list, n);
}

static void
test_locked(void **state)
{
	struct dbt *t = *state;
	struct audit_rec a, *list;
	struct err e = { 0 };
	sqlite3 *h;
	size_t n;
	int64_t next;

	/* SQLite only: raw sqlite3 handles, another process's lock. */
	DBT_SQLITE_ONLY();
	dbt_audit(&a, "token.create", "1");
	assert_int_equal(db_audit_append(t->db, &a, &e), 0);
	h = dbt_lock(t);
	assert_int_equal(db_audit_append(t->db, &a, &e), -1);
	assert_db_error(e);
	assert_int_equal(db_audit_list(t->db, 0, 10, &list, &n, &next, &e),
	    0);
	assert_int_equal(n, 1);
	db_audit_list_free(list, n);
	dbt_unlock(h);
}

/* The stored text of the delete guard (sqlite_master), new. */
static char *
guard_sql(const char *path)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	char *out = NULL;

	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, "SELECT sql FROM sqlite_master"
	    " WHERE type = 'trigger' AND name = 'audit_no_delete'", -1, &st,
	    NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		out = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(h);
	return out;
}

/* The rows of the log, oldest first (at most 100). */
static size_t
all_rows(struct dbt *t, struct audit_rec **list)
{
	struct err e = { 0 };
	int64_t next;
	size_t n;

	assert_int_equal(db_audit_list(t->db, 0, 100, list, &n, &next, &e),
	    0);
	return n;
}

static void
test_prune(void **state)
{
	struct dbt *t = *state;
	struct audit_rec a, p, *list;
	struct err e = { 0 };
	char obj[16], *before_sql, *after_sql;
	struct db_conn *c;
	struct db_st *st;
	sqlite3 *h = NULL;
	char *msg = NULL;
	int64_t n = -1;
	size_t cnt;

	/* SQLite only: raw sqlite3 handles, another process's lock. */
	DBT_SQLITE_ONLY();
	before_sql = guard_sql(t->path);
	assert_non_null(before_sql);
	/*
	 * Prepare (and cache) the statement that recreates the guard while
	 * the guard exists: after the drop it must still recreate it.
	 */
	c = db_conn_get(t->db, &e);
	assert_non_null(c);
	st = db_stmt(c, DB_STMT_AUDIT_GUARD_ON, &e);
	assert_non_null(st);
	db_stmt_done(c, st);
	for (int i = 0; i < 10; i++) {
		snprintf(obj, sizeof(obj), "o%d", i);
		dbt_audit(&a, "certificate.issue", obj);
		a.at = 1000 + i;
		assert_int_equal(db_audit_append(t->db, &a, &e), 0);
	}
	dbt_audit(&p, "audit.prune", "audit");
	strcpy(p.actor, "scheduler");
	strcpy(p.detail, "before=1005");
	p.at = 5000;

	/* Nothing that old: nothing deleted, nothing written. */
	assert_int_equal(db_audit_prune(t->db, 1000, 100, &p, &n, &e), 0);
	assert_int_equal(n, 0);
	cnt = all_rows(t, &list);
	assert_int_equal(cnt, 10);
	db_audit_list_free(list, cnt);

	/* Oldest first, at most max rows per call. */
	assert_int_equal(db_audit_prune(t->db, 1005, 2, &p, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(db_audit_prune(t->db, 1005, 100, &p, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_int_equal(db_audit_prune(t->db, 1005, 100, &p, &n, &e), 0);
	assert_int_equal(n, 0);
	cnt = all_rows(t, &list);
	assert_int_equal(cnt, 7);
	for (size_t i = 0; i < 5; i++) {
		snprintf(obj, sizeof(obj), "o%zu", i + 5);
		assert_string_equal(list[i].object, obj);
	}
	assert_string_equal(list[5].action, "audit.prune");
	assert_string_equal(list[5].actor, "scheduler");
	assert_string_equal(list[5].detail, "deleted=2 before=1005");
	assert_int_equal(list[5].at, 5000);
	assert_string_equal(list[6].detail, "deleted=3 before=1005");
	db_audit_list_free(list, cnt);

	/* An empty detail gets the count alone. */
	p.detail[0] = '\0';
	assert_int_equal(db_audit_prune(t->db, 1006, 100, &p, &n, &e), 0);
	assert_int_equal(n, 1);
	cnt = all_rows(t, &list);
	assert_string_equal(list[cnt - 1].detail, "deleted=1");
	db_audit_list_free(list, cnt);

	/* The guard is back, word for word, for everyone else. */
	after_sql = guard_sql(t->path);
	assert_non_null(after_sql);
	assert_string_equal(before_sql, after_sql);
	assert_int_equal(sqlite3_open(t->path, &h), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(h, "DELETE FROM audit WHERE at < "
	    "2000", NULL, NULL, &msg), SQLITE_OK);
	assert_non_null(strstr(msg, "append-only"));
	sqlite3_free(msg);
	msg = NULL;
	assert_int_not_equal(sqlite3_exec(h, "UPDATE audit SET at = 0",
	    NULL, NULL, &msg), SQLITE_OK);
	assert_non_null(strstr(msg, "append-only"));
	sqlite3_free(msg);
	sqlite3_close(h);
	free(before_sql);
	free(after_sql);

	assert_int_equal(db_audit_prune(t->db, 1006, 100, NULL, &n, &e), -1);
	assert_int_equal(db_audit_prune(t->db, 1006, 0, &p, &n, &e), -1);
}

/* A failure after the guard came off rolls everything back. */
static void
test_prune_rolls_back(void **state)
{
	struct dbt *t = *state;
	struct audit_rec a, p, *list;
	struct err e = { 0 };
	char *sql;
	int64_t n = -1;
	size_t cnt;

	/* SQLite only: raw sqlite3 handles, another process's lock. */
	DBT_SQLITE_ONLY();
	for (int i = 0; i < 3; i++) {
		dbt_audit(&a, "token.create", "x");
		a.at = 10 + i;
		assert_int_equal(db_audit_append(t->db, &a, &e), 0);
	}
	dbt_audit(&p, "audit.prune", "audit");
	/* An outcome the table's CHECK refuses fails the final insert. */
	p.outcome = AUDIT_OUTCOME__MAX;
	assert_int_equal(db_audit_prune(t->db, 100, 10, &p, &n, &e), -1);
	assert_int_equal(n, 0);
	cnt = all_rows(t, &list);
	assert_int_equal(cnt, 3);
	db_audit_list_free(list, cnt);
	sql = guard_sql(t->path);
	assert_non_null(sql);
	free(sql);
	/* And the next prune works on the same connection. */
	p.outcome = AUDIT_OK;
	assert_int_equal(db_audit_prune(t->db, 100, 10, &p, &n, &e), 0);
	assert_int_equal(n, 3);
}

static void
test_prune_locked(void **state)
{
	struct dbt *t = *state;
	struct audit_rec a, p;
	struct err e = { 0 };
	sqlite3 *h;
	int64_t n = -1;

	/* SQLite only: raw sqlite3 handles, another process's lock. */
	DBT_SQLITE_ONLY();
	dbt_audit(&a, "token.create", "1");
	a.at = 1;
	assert_int_equal(db_audit_append(t->db, &a, &e), 0);
	dbt_audit(&p, "audit.prune", "audit");
	h = dbt_lock(t);
	assert_int_equal(db_audit_prune(t->db, 100, 10, &p, &n, &e), -1);
	assert_db_error(e);
	assert_int_equal(n, 0);
	dbt_unlock(h);
	assert_int_equal(db_audit_prune(t->db, 100, 10, &p, &n, &e), 0);
	assert_int_equal(n, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_list, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_append_only, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_locked, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_prune, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_prune_rolls_back,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_prune_locked, dbt_setup,
		    dbt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
