/*
 * Tests for db/row.c (bound parameters, the query loop, row lists,
 * the checked end of a statement) and db/write.c (one write
 * transaction with its audit row).
 */
#include "dbtest.h"

/* The one integer a query of this file returns. */
static int64_t
count_rows(struct dbt *t, const char *sql)
{
	return dbt_count(t, sql);
}

/* SQLite's rowid of the row this thread's connection inserted last. */
static int64_t
last_rowid(struct dbt *t)
{
	struct err e = { 0 };
	struct db_conn *c = db_conn_get(t->db, &e);

	assert_non_null(c);
	return sqlite3_last_insert_rowid(c->h);
}

static void
audit_n(struct dbt *t, int n)
{
	struct audit_rec a;
	struct err e = { 0 };
	char obj[16];

	for (int i = 0; i < n; i++) {
		snprintf(obj, sizeof(obj), "o%d", i);
		dbt_audit(&a, "test.row", obj);
		a.at = 1000 + i;
		assert_int_equal(db_audit_append(t->db, &a, &e), 0);
	}
}

/* The parameters of DB_STMT_CRL_INSERT for CRL number num. */
#define CRL_ARGS(num) \
	{ DB_INT(num), DB_INT(1), DB_INT(2), DB_BLOB("der", 3), DB_INT(1) }

/* A row callback that counts and stops at *stop rows. */
struct counter {
	int	n, stop;
};

static int
count_cb(const struct db_row *r, void *arg, struct err *e)
{
	struct counter *k = arg;

	(void)r;
	(void)e;
	return ++k->n == k->stop ? 1 : 0;
}

static int
fail_cb(const struct db_row *r, void *arg, struct err *e)
{
	(void)r;
	(void)arg;
	err_set(e, ERR_INTERNAL, "callback failed");
	return -1;
}

static void
test_query(void **state)
{
	struct dbt *t = *state;
	const struct db_arg args[] = { DB_INT(0), DB_INT(100) };
	struct counter k = { 0, 0 };
	struct err e = { 0 };
	struct db_conn *c;
	struct audit_rec a;

	audit_n(t, 5);
	assert_non_null(c = db_conn_get(t->db, &e));
	/* Every row; then stopped at the second. */
	assert_int_equal(db_query(c, DB_STMT_AUDIT_LIST, args,
	    DB_NARGS(args), count_cb, &k, "test", &e), 5);
	assert_int_equal(k.n, 5);
	k = (struct counter){ 0, 2 };
	assert_int_equal(db_query(c, DB_STMT_AUDIT_LIST, args,
	    DB_NARGS(args), count_cb, &k, "test", &e), 2);
	/* NULL callback: rows counted only. */
	assert_int_equal(db_query(c, DB_STMT_AUDIT_LIST, args,
	    DB_NARGS(args), NULL, NULL, "test", &e), 5);
	/* A failing callback fails the query; the statement is reusable. */
	assert_int_equal(db_query(c, DB_STMT_AUDIT_LIST, args,
	    DB_NARGS(args), fail_cb, NULL, "test", &e), -1);
	assert_int_equal(e.code, ERR_INTERNAL);
	assert_int_equal(db_get(c, DB_STMT_AUDIT_LIST, args, DB_NARGS(args),
	    db_audit_read, &a, "test", &e), 1);
	assert_string_equal(a.object, "o0");

	/* An unterminated text parameter is refused before the step. */
	{
		char big[4] = { 'a', 'b', 'c', 'd' };
		const struct db_arg bad[] = { DB_TEXT(big, sizeof(big)) };

		assert_int_equal(db_get(c, DB_STMT_NODE_GET, bad,
		    DB_NARGS(bad), NULL, NULL, "test", &e), -1);
		assert_int_equal(e.code, ERR_INVALID_REQUEST);
	}
	/* No row. */
	{
		const struct db_arg none[] = { DB_TEXT("nope", 16) };

		assert_int_equal(db_get(c, DB_STMT_NODE_GET, none,
		    DB_NARGS(none), NULL, NULL, "test", &e), 0);
	}
}

static void
test_rows(void **state)
{
	struct dbt *t = *state;
	struct db_rows rows = { .read = db_audit_read,
	    .size = sizeof(struct audit_rec), .max = 3 };
	const struct db_arg args[] = { DB_INT(0), DB_INT(100) };
	const struct db_arg none[] = { DB_INT(1000), DB_INT(100) };
	struct audit_rec *list;
	struct err e = { 0 };
	struct db_conn *c;
	char obj[16];

	audit_n(t, 40);
	assert_non_null(c = db_conn_get(t->db, &e));
	/*
	 * A page (max rows, `more` says another followed); then all rows,
	 * the array growing past its first allocation.
	 */
	for (int all = 0; all < 2; all++) {
		size_t want = all ? 40 : 3;

		rows.max = all ? 0 : 3;
		assert_int_equal(db_rows(c, DB_STMT_AUDIT_LIST, args,
		    DB_NARGS(args), &rows, "test", &e), 0);
		list = rows.v;
		assert_int_equal(rows.n, want);
		assert_int_equal(rows.more, !all);
		snprintf(obj, sizeof(obj), "o%zu", want - 1);
		assert_string_equal(list[want - 1].object, obj);
		free(rows.v);
	}

	/* Empty: an all-rows list is NULL, a page is an empty array. */
	assert_int_equal(db_rows(c, DB_STMT_AUDIT_LIST, none, DB_NARGS(none),
	    &rows, "test", &e), 0);
	assert_null(rows.v);
	assert_int_equal(rows.n, 0);
	rows.max = 5;
	assert_int_equal(db_rows(c, DB_STMT_AUDIT_LIST, none, DB_NARGS(none),
	    &rows, "test", &e), 0);
	assert_non_null(rows.v);
	assert_int_equal(rows.n, 0);
	free(rows.v);

	/* A reader that fails: nothing is returned. */
	rows.read = fail_cb;
	assert_int_equal(db_rows(c, DB_STMT_AUDIT_LIST, args, DB_NARGS(args),
	    &rows, "test", &e), -1);
	assert_null(rows.v);
	assert_int_equal(rows.n, 0);
	assert_int_equal(e.code, ERR_INTERNAL);
}

/*
 * db_stmt_end() reports what the reset reports: the error of a step
 * that failed, mapped as db_step() maps it; 0 after a good step.
 */
static void
test_stmt_end(void **state)
{
	struct dbt *t = *state;
	struct err e = { 0 };
	struct db_conn *c;
	sqlite3_stmt *st;

	/* SQLite only: sqlite3 calls on cached statements. */
	DBT_SQLITE_ONLY();
	assert_non_null(c = db_conn_get(t->db, &e));

	assert_non_null(st = (sqlite3_stmt *)db_stmt(c, DB_STMT_CRL_MAX,
	    &e));
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(db_stmt_end(c, (struct db_st *)st, "test", &e), 0);

	/* A UNIQUE violation surfacing at the reset: ERR_ALREADY_EXISTS. */
	assert_int_equal(sqlite3_exec(c->h, "INSERT INTO crls (number, "
	    "this_update, next_update, der) VALUES (1, 0, 0, x'00')", NULL,
	    NULL, NULL), SQLITE_OK);
	assert_non_null(st = (sqlite3_stmt *)db_stmt(c, DB_STMT_CRL_INSERT,
	    &e));
	assert_int_equal(sqlite3_bind_int64(st, 1, 1), SQLITE_OK);
	assert_int_equal(sqlite3_bind_int64(st, 2, 0), SQLITE_OK);
	assert_int_equal(sqlite3_bind_int64(st, 3, 0), SQLITE_OK);
	assert_int_equal(sqlite3_bind_blob(st, 4, "x", 1, SQLITE_STATIC),
	    SQLITE_OK);
	assert_int_equal(sqlite3_bind_int64(st, 5, 1), SQLITE_OK);
	assert_int_not_equal(sqlite3_step(st), SQLITE_DONE);
	err_clear(&e);
	assert_int_equal(db_stmt_end(c, (struct db_st *)st, "test", &e), -1);
	assert_int_equal(e.code, ERR_ALREADY_EXISTS);

	/* The audit trigger's abort at the reset: the opaque ERR_DB. */
	audit_n(t, 1);
	assert_non_null(st = (sqlite3_stmt *)db_stmt(c, DB_STMT_AUDIT_PRUNE,
	    &e));
	assert_int_equal(sqlite3_bind_int64(st, 1, INT64_MAX), SQLITE_OK);
	assert_int_equal(sqlite3_bind_int64(st, 2, 10), SQLITE_OK);
	assert_int_not_equal(sqlite3_step(st), SQLITE_DONE);
	err_clear(&e);
	assert_int_equal(db_stmt_end(c, (struct db_st *)st, "test", &e), -1);
	assert_db_error(e);
	assert_int_equal(count_rows(t, "SELECT count(*) FROM audit"), 1);
}

/* db_run(): the rows changed, or the mapped error. */
static void
test_run(void **state)
{
	struct dbt *t = *state;
	const struct db_arg crl[] = CRL_ARGS(7);
	const struct db_arg prune[] = { DB_INT(100), DB_INT(1) };
	struct err e = { 0 };
	struct db_conn *c;

	/* SQLite only: sqlite3 calls on cached statements. */
	DBT_SQLITE_ONLY();
	assert_non_null(c = db_conn_get(t->db, &e));
	assert_int_equal(db_run(c, DB_STMT_CRL_INSERT, crl, DB_NARGS(crl),
	    "test", &e), 1);
	assert_int_equal(db_run(c, DB_STMT_CRL_INSERT, crl, DB_NARGS(crl),
	    "test", &e), -1);
	assert_int_equal(e.code, ERR_ALREADY_EXISTS);
	assert_int_equal(db_run(c, DB_STMT_CRL_PRUNE, prune, DB_NARGS(prune),
	    "test", &e), 1);
	assert_int_equal(db_run(c, DB_STMT_CRL_PRUNE, prune, DB_NARGS(prune),
	    "test", &e), 0);
	assert_int_equal(last_rowid(t), 7);
}

/* db_write()'s body outcomes: commit, nothing to write, failure. */
static int
body_insert(struct db_conn *c, void *arg, struct err *e)
{
	const struct db_arg crl[] = CRL_ARGS(*(int *)arg);

	return db_run(c, DB_STMT_CRL_INSERT, crl, DB_NARGS(crl), "test",
	    e) == -1 ? -1 : 0;
}

static int
body_nothing(struct db_conn *c, void *arg, struct err *e)
{
	return body_insert(c, arg, e) == -1 ? -1 : 1;
}

static int
body_fail(struct db_conn *c, void *arg, struct err *e)
{
	if (body_insert(c, arg, e) == -1)
		return -1;
	err_set(e, ERR_CONFLICT, "no");
	return -1;
}

static void
test_write(void **state)
{
	struct dbt *t = *state;
	struct audit_rec a;
	struct err e = { 0 };
	int num = 1;

	dbt_audit(&a, "crl.publish", "crl");
	assert_int_equal(db_write(t->db, body_insert, &num, &a, &e), 0);
	assert_int_equal(count_rows(t, "SELECT count(*) FROM crls"), 1);
	assert_int_equal(count_rows(t, "SELECT count(*) FROM audit"), 1);
	num = 2;
	assert_int_equal(db_write(t->db, body_nothing, &num, &a, &e), 0);
	assert_int_equal(db_write(t->db, body_fail, &num, &a, &e), -1);
	assert_int_equal(e.code, ERR_CONFLICT);
	/* A taken key: rolled back, audit entry too. */
	num = 1;
	assert_int_equal(db_write(t->db, body_insert, &num, &a, &e), -1);
	assert_int_equal(e.code, ERR_ALREADY_EXISTS);
	assert_int_equal(count_rows(t, "SELECT count(*) FROM crls"), 1);
	assert_int_equal(count_rows(t, "SELECT count(*) FROM audit"), 1);
	/* The write lock was given back each time. */
	assert_int_equal(db_ping(t->db, &e), 0);
}

/* db_write1(): none and exists map to the caller's errors. */
static void
test_write1(void **state)
{
	struct dbt *t = *state;
	const struct db_arg crl[] = CRL_ARGS(3);
	const struct db_arg prune[] = { DB_INT(100), DB_INT(1) };
	struct db_change ins = {
		DB_STMT_CRL_INSERT, crl, DB_NARGS(crl), "test", ERR_OK, NULL,
		"crl taken",
	};
	struct db_change del = {
		DB_STMT_CRL_PRUNE, prune, DB_NARGS(prune), "test",
		ERR_NOT_FOUND, "no crl", NULL,
	};
	struct err e = { 0 };

	assert_int_equal(db_write1(t->db, &ins, NULL, &e), 0);
	assert_int_equal(db_write1(t->db, &ins, NULL, &e), -1);
	assert_int_equal(e.code, ERR_ALREADY_EXISTS);
	assert_string_equal(e.msg, "crl taken");
	ins.exists_msg = NULL;
	assert_int_equal(db_write1(t->db, &ins, NULL, NULL), -1);
	assert_int_equal(db_write1(t->db, &ins, NULL, &e), -1);
	assert_string_equal(e.msg, "already exists");
	assert_int_equal(db_write1(t->db, &del, NULL, &e), 0);
	assert_int_equal(db_write1(t->db, &del, NULL, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_string_equal(e.msg, "no crl");
	del.none = ERR_OK;
	assert_int_equal(db_write1(t->db, &del, NULL, &e), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_query, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_rows, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_stmt_end, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_run, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_write, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_write1, dbt_setup,
		    dbt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
