/* Tests for db/sql.c: every statement prepares; migrations are ordered. */
#include "dbtest.h"
#include "priv.h"

static void
test_every_statement_prepares(void **state)
{
	struct dbt *t = *state;
	struct err e = { 0 };
	struct db_conn *c;

	assert_non_null(c = db_conn_get(t->db, &e));
	for (int i = 0; i < DB_STMT__MAX; i++) {
		const char *s = db_sql_text((enum db_stmt)i);

		assert_non_null(s);
		/* Nothing is ever formatted into SQL. */
		assert_null(strchr(s, '%'));
		assert_non_null(db_stmt(c, (enum db_stmt)i, &e));
		/* Prepared once: the same handle comes back. */
		assert_ptr_equal(db_stmt(c, (enum db_stmt)i, &e), c->st[i]);
	}
	assert_null(db_sql_text(DB_STMT__MAX));
	assert_null(db_stmt(c, DB_STMT__MAX, &e));
	assert_int_equal(e.code, ERR_INTERNAL);
}

static void
test_migrations_set_version(void **state)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;

	(void)state;
	assert_true(db_sql_nmigrations() >= 1);
	assert_null(db_sql_migration(db_sql_nmigrations()));
	assert_int_equal(sqlite3_open(":memory:", &h), SQLITE_OK);
	for (size_t i = 0; i < db_sql_nmigrations(); i++) {
		assert_int_equal(sqlite3_exec(h, db_sql_migration(i), NULL,
		    NULL, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA user_version",
		    -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(st, 0), (int)i + 1);
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
}

static void
test_list_statements_use_indexes(void **state)
{
	static const enum db_stmt ids[] = {
		DB_STMT_CERT_LIST_CN, DB_STMT_CERT_LIST_NODE,
		DB_STMT_CERT_LIST_PROFILE, DB_STMT_CERT_REVOKED_UNEXPIRED,
	};
	struct dbt *t = *state;
	struct err e = { 0 };
	struct db_conn *c;

	/* INDEXED BY makes a statement fail to prepare without its index. */
	assert_non_null(c = db_conn_get(t->db, &e));
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		assert_non_null(strstr(db_sql_text(ids[i]), "INDEXED BY"));
		assert_non_null(db_stmt(c, ids[i], &e));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_statement_prepares,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test(test_migrations_set_version),
		cmocka_unit_test_setup_teardown(
		    test_list_statements_use_indexes, dbt_setup, dbt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
