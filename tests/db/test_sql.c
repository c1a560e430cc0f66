/* Tests for db/sql.c: every statement prepares; migrations are ordered. */
#include "dbtest.h"
#include "priv.h"

static void
test_every_statement_prepares(void **state)
{
	struct dbt *t = *state;
	struct err e = { 0 };
	struct db_conn *c;

	/* SQLite only: its table and plans (test_sql_pg.c: PostgreSQL's). */
	DBT_SQLITE_ONLY();
	assert_non_null(c = db_conn_get(t->db, &e));
	for (int i = 0; i < DB_STMT__MAX; i++) {
		const char *s = db_sql_text(DB_DIALECT_SQLITE, (enum db_stmt)i);

		/* The PostgreSQL-only block, and only it, has no SQLite SQL. */
		if (i >= DB_STMT_PG__FIRST) {
			assert_null(s);
			assert_null(db_stmt(c, (enum db_stmt)i, &e));
			assert_int_equal(e.code, ERR_INTERNAL);
			continue;
		}
		assert_non_null(s);
		/* Nothing is ever formatted into SQL. */
		assert_null(strchr(s, '%'));
		assert_non_null(db_stmt(c, (enum db_stmt)i, &e));
		/* Prepared once: the same handle comes back. */
		assert_ptr_equal(db_stmt(c, (enum db_stmt)i, &e), c->st[i]);
	}
	assert_null(db_sql_text(DB_DIALECT_SQLITE, DB_STMT__MAX));
	assert_null(db_stmt(c, DB_STMT__MAX, &e));
	assert_int_equal(e.code, ERR_INTERNAL);
}

static void
test_migrations_set_version(void **state)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;

	/* SQLite only: its table and plans (test_sql_pg.c: PostgreSQL's). */
	DBT_SQLITE_ONLY();
	(void)state;
	assert_true(db_sql_nmigrations(DB_DIALECT_SQLITE) >= 1);
	assert_null(db_sql_migration(DB_DIALECT_SQLITE,
	    db_sql_nmigrations(DB_DIALECT_SQLITE)));
	assert_int_equal(sqlite3_open(":memory:", &h), SQLITE_OK);
	for (size_t i = 0; i < db_sql_nmigrations(DB_DIALECT_SQLITE); i++) {
		assert_int_equal(sqlite3_exec(h,
		    db_sql_migration(DB_DIALECT_SQLITE, i), NULL,
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
		DB_STMT_CERT_REVOKE_SAME_KEY, DB_STMT_CERT_SPKI_MISSING,
		DB_STMT_CERT_LIST_REVOKED, DB_STMT_CERT_LIST_UNREVOKED,
		DB_STMT_CERT_LIST_EXPIRES, DB_STMT_CERT_PROBE_UNREVOKED,
		DB_STMT_CERT_PROBE_EXPIRES, DB_STMT_CERT_COUNTS,
		DB_STMT_CA_UNEXPIRED_COUNT, DB_STMT_CA_UNEXPIRED_LIST,
	};
	struct dbt *t = *state;
	struct err e = { 0 };
	struct db_conn *c;

	/* SQLite only: its table and plans (test_sql_pg.c: PostgreSQL's). */
	DBT_SQLITE_ONLY();
	/* INDEXED BY makes a statement fail to prepare without its index. */
	assert_non_null(c = db_conn_get(t->db, &e));
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		assert_non_null(strstr(db_sql_text(DB_DIALECT_SQLITE, ids[i]),
		    "INDEXED BY"));
		assert_non_null(db_stmt(c, ids[i], &e));
	}
}

/* The query plan of statement id, rows joined with ';'. */
static void
plan(sqlite3 *h, enum db_stmt id, char *out, size_t cap)
{
	sqlite3_stmt *st = NULL;
	char q[4096];

	snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s",
	    db_sql_text(DB_DIALECT_SQLITE, id));
	assert_int_equal(sqlite3_prepare_v2(h, q, -1, &st, NULL), SQLITE_OK);
	out[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW) {
		strncat(out, (const char *)sqlite3_column_text(st, 3),
		    cap - strlen(out) - 2);
		strcat(out, ";");
	}
	sqlite3_finalize(st);
}

static void
test_list_plans(void **state)
{
	static const struct {
		enum db_stmt	 id;
		const char	*want;
	} cases[] = {
		{ DB_STMT_CERT_LIST, "INTEGER PRIMARY KEY (rowid>?)" },
		{ DB_STMT_CERT_LIST_CN,
		    "certificates_common_name (common_name=? AND rowid>?)" },
		{ DB_STMT_CERT_LIST_NODE,
		    "certificates_node (node=? AND rowid>?)" },
		{ DB_STMT_CERT_LIST_PROFILE,
		    "certificates_profile (profile=? AND rowid>?)" },
		{ DB_STMT_CERT_REVOKED_UNEXPIRED,
		    "certificates_revoked (not_after>?)" },
		{ DB_STMT_CERT_LIST_REVOKED,
		    "certificates_revoked_id (id>?)" },
		{ DB_STMT_CERT_GET, "(serial=?)" },
		{ DB_STMT_TOKEN_FIND_HASH, "(hash=?)" },
		{ DB_STMT_AUDIT_LIST, "INTEGER PRIMARY KEY (rowid>?)" },
		{ DB_STMT_ROT_LIST, "rotations_node (node=?" },
		/* keyCompromise finds a key's certificates without a scan. */
		{ DB_STMT_CERT_REVOKE_SAME_KEY,
		    "certificates_spki (spki_sha256=?)" },
		{ DB_STMT_CERT_SPKI_MISSING,
		    "certificates_spki (spki_sha256=? AND rowid>?)" },
		{ DB_STMT_KEY_BLOCKED, "(spki_sha256=?)" },
	};
	struct dbt *t = *state;
	struct err e = { 0 };
	struct db_conn *c;
	char p[1024];

	/* SQLite only: its table and plans (test_sql_pg.c: PostgreSQL's). */
	DBT_SQLITE_ONLY();
	/* Pages are read in index order: no sort of the whole table. */
	assert_non_null(c = db_conn_get(t->db, &e));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		plan(c->h, cases[i].id, p, sizeof(p));
		if (strstr(p, cases[i].want) == NULL ||
		    strstr(p, "TEMP B-TREE") != NULL)
			fail_msg("statement %d: plan %s", (int)cases[i].id, p);
	}
}

/*
 * Statements that sort a not_after range by id (chosen by db_cert_list
 * only when a bounded probe found the range small) and the probes and
 * counters: each reads its range from the index named.
 */
static void
test_range_plans(void **state)
{
	static const struct {
		enum db_stmt	 id;
		const char	*want;
	} cases[] = {
		{ DB_STMT_CERT_LIST_UNREVOKED, "INDEX "
		    "certificates_expiry (not_after>? AND not_after<?)" },
		{ DB_STMT_CERT_LIST_EXPIRES, "INDEX "
		    "certificates_expiry (not_after>? AND not_after<?)" },
		{ DB_STMT_CERT_PROBE_UNREVOKED, "COVERING INDEX "
		    "certificates_expiry (not_after>? AND not_after<?)" },
		{ DB_STMT_CERT_PROBE_EXPIRES, "COVERING INDEX "
		    "certificates_expiry (not_after>? AND not_after<?)" },
		{ DB_STMT_CERT_COUNTS, "COVERING INDEX "
		    "certificates_expiry (not_after>? AND not_after<?)" },
	};
	struct dbt *t = *state;
	struct err e = { 0 };
	struct db_conn *c;
	char p[2048];

	/* SQLite only: its table and plans (test_sql_pg.c: PostgreSQL's). */
	DBT_SQLITE_ONLY();
	assert_non_null(c = db_conn_get(t->db, &e));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		plan(c->h, cases[i].id, p, sizeof(p));
		if (strstr(p, cases[i].want) == NULL)
			fail_msg("statement %d: plan %s", (int)cases[i].id, p);
	}
}

/*
 * No statement reads the whole certificates table: every plan step on
 * it is a SEARCH or a SCAN of an index (a partial index holds only the
 * rows it is for), never a bare "SCAN certificates".
 */
static void
test_no_certificate_scan(void **state)
{
	struct dbt *t = *state;
	struct err e = { 0 };
	struct db_conn *c;
	const char *text, *s;
	char p[2048];

	/* SQLite only: its table and plans (test_sql_pg.c: PostgreSQL's). */
	DBT_SQLITE_ONLY();
	assert_non_null(c = db_conn_get(t->db, &e));
	for (int id = 0; id < DB_STMT__MAX; id++) {
		text = db_sql_text(DB_DIALECT_SQLITE, (enum db_stmt)id);
		if (text == NULL || strstr(text, "certificates") == NULL ||
		    strncmp(text, "INSERT", 6) == 0)
			continue;
		plan(c->h, (enum db_stmt)id, p, sizeof(p));
		for (s = p; (s = strstr(s, "SCAN certificates")) != NULL;
		    s++) {
			const char *end = strchr(s, ';');

			if (strstr(s, " USING ") == NULL ||
			    strstr(s, " USING ") > end)
				fail_msg("statement %d scans: %s", id, p);
		}
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
		cmocka_unit_test_setup_teardown(test_list_plans, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_range_plans, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_no_certificate_scan,
		    dbt_setup, dbt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
