/* Tests for db/db.c: opening, file mode, pragmas, migrations, threads. */
#include <pthread.h>
#include <sys/stat.h>

#include "dbtest.h"
#include "priv.h"

static int
pragma_int(sqlite3 *h, const char *q)
{
	sqlite3_stmt *st = NULL;
	int v = -1;

	assert_int_equal(sqlite3_prepare_v2(h, q, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void
pragma_text(sqlite3 *h, const char *q, char *out, size_t cap)
{
	sqlite3_stmt *st = NULL;

	assert_int_equal(sqlite3_prepare_v2(h, q, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

static void
test_file_mode(void **state)
{
	struct dbt *t = *state;
	struct audit_rec a;
	struct err e = { 0 };
	struct stat sb;
	char wal[300];

	/* SQLite only: file mode, PRAGMAs, SQLite's migrations and locks. */
	DBT_SQLITE_ONLY();
	assert_int_equal(stat(t->path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	dbt_audit(&a, "token.create", "x");
	assert_int_equal(db_audit_append(t->db, &a, &e), 0);
	snprintf(wal, sizeof(wal), "%s-wal", t->path);
	assert_int_equal(stat(wal, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
}

static void
test_pragmas(void **state)
{
	struct dbt *t = *state;
	struct db_conn *c;
	struct err e = { 0 };
	char mode[16];
	int v = -1;

	/* SQLite only: file mode, PRAGMAs, SQLite's migrations and locks. */
	DBT_SQLITE_ONLY();
	assert_non_null(c = db_conn_get(t->db, &e));
	pragma_text(c->h, "PRAGMA journal_mode", mode, sizeof(mode));
	assert_string_equal(mode, "wal");
	assert_int_equal(pragma_int(c->h, "PRAGMA synchronous"), 2);
	assert_int_equal(pragma_int(c->h, "PRAGMA foreign_keys"), 1);
	assert_int_equal(pragma_int(c->h, "PRAGMA busy_timeout"),
	    DB_BUSY_TIMEOUT_MS);
	assert_int_equal(sqlite3_db_config(c->h, SQLITE_DBCONFIG_DEFENSIVE,
	    -1, &v), SQLITE_OK);
	assert_int_equal(v, 1);
	/* Defensive mode: the schema cannot be written directly. */
	assert_int_not_equal(sqlite3_exec(c->h,
	    "PRAGMA writable_schema=ON; DELETE FROM sqlite_schema",
	    NULL, NULL, NULL), SQLITE_OK);
}

static void
test_migrations(void **state)
{
	struct dbt *t = *state;
	struct err e = { 0 };
	sqlite3 *h = NULL;
	int objects;

	/* SQLite only: file mode, PRAGMAs, SQLite's migrations and locks. */
	DBT_SQLITE_ONLY();
	assert_int_equal(db_schema_version(t->db),
	    (int)db_sql_nmigrations(DB_DIALECT_SQLITE));
	assert_int_equal(sqlite3_open_v2(t->path, &h, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	assert_int_equal(pragma_int(h, "PRAGMA user_version"),
	    (int)db_sql_nmigrations(DB_DIALECT_SQLITE));
	objects = pragma_int(h, "SELECT count(*) FROM sqlite_schema");
	assert_true(objects >= 8);
	assert_int_equal(pragma_int(h,
	    "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
	    "name IN ('certificates', 'tokens', 'crls', 'audit', 'nodes', "
	    "'rotations', 'rotation_steps')"), 7);
	assert_int_equal(pragma_int(h,
	    "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
	    "name <> 'sqlite_sequence' AND sql NOT LIKE '%STRICT%'"), 0);

	/* Re-opening is idempotent. */
	db_close(t->db);
	assert_non_null(t->db = db_open(t->path, &e));
	assert_int_equal(db_schema_version(t->db),
	    (int)db_sql_nmigrations(DB_DIALECT_SQLITE));
	assert_int_equal(pragma_int(h, "SELECT count(*) FROM sqlite_schema"),
	    objects);
	assert_int_equal(pragma_int(h, "PRAGMA user_version"),
	    (int)db_sql_nmigrations(DB_DIALECT_SQLITE));
	sqlite3_close(h);
}

/*
 * A version 1 database (before keyCompromise) with a certificate in it
 * opens at the latest version (2 adds the key hash): the row keeps its
 * data and has no key hash yet (the service fills it), and the blocked
 * key table is empty.
 */
static void
test_migration_from_v1(void **state)
{
	struct dbt *t = *state;
	struct db_spki_row *rows = NULL;
	struct cert_rec c;
	struct err e = { 0 };
	sqlite3 *h = NULL;
	size_t n = 0;

	/* SQLite only: file mode, PRAGMAs, SQLite's migrations and locks. */
	DBT_SQLITE_ONLY();
	db_close(t->db);
	t->db = NULL;
	dbt_remove(t);
	assert_int_equal(mkdir(t->dir, 0700), 0);
	assert_int_equal(sqlite3_open(t->path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h,
	    db_sql_migration(DB_DIALECT_SQLITE, 0), NULL, NULL,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "INSERT INTO certificates (serial, "
	    "profile, common_name, san_dns, san_ip, san_uri, key_type, "
	    "not_before, not_after, fingerprint, issued_by, pem, created_at) "
	    "VALUES ('ab', 'redis-client', 'app', '', '', '', 'ec-p256', 1, "
	    "9999999999, 'ff', 'cli', 'PEM', 1)", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(pragma_int(h, "PRAGMA user_version"), 1);
	sqlite3_close(h);
	h = NULL;

	assert_non_null(t->db = db_open(t->path, &e));
	assert_int_equal(db_schema_version(t->db),
	    (int)db_sql_nmigrations(DB_DIALECT_SQLITE));
	assert_int_equal(db_cert_get(t->db, "ab", &c, &e), 0);
	assert_string_equal(c.names.cn, "app");
	assert_string_equal(c.spki_sha256, "");
	cert_rec_clear(&c);
	assert_int_equal(db_cert_spki_missing(t->db, 0, 10, &rows, &n, &e),
	    0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].serial, "ab");
	db_cert_spki_rows_free(rows, n);
	assert_int_equal(sqlite3_open_v2(t->path, &h, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	assert_int_equal(pragma_int(h, "SELECT count(*) FROM blocked_keys"),
	    0);
	assert_int_equal(pragma_int(h, "SELECT count(*) FROM sqlite_schema "
	    "WHERE type = 'table' AND name = 'blocked_keys' AND "
	    "sql LIKE '%STRICT%'"), 1);
	assert_int_equal(pragma_int(h, "SELECT count(*) FROM sqlite_schema "
	    "WHERE type = 'index' AND name = 'certificates_spki'"), 1);
	sqlite3_close(h);
}

static void
test_newer_schema_refused(void **state)
{
	struct dbt *t = *state;
	struct err e = { 0 };
	sqlite3 *h = NULL;

	/* SQLite only: file mode, PRAGMAs, SQLite's migrations and locks. */
	DBT_SQLITE_ONLY();
	db_close(t->db);
	t->db = NULL;
	assert_int_equal(sqlite3_open(t->path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "PRAGMA user_version = 99", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	assert_null(db_open(t->path, &e));
	assert_int_equal(e.code, ERR_DB);
	assert_null(strstr(e.msg, "sqlite"));
}

static void
test_open_errors(void **state)
{
	struct err e = { 0 };

	(void)state;
	assert_null(db_open("/nonexistent-rca/dir/x.db", &e));
	assert_int_equal(e.code, ERR_IO);
	assert_null(db_open("", &e));
	assert_null(db_open("/tmp", &e));
	assert_int_equal(e.code, ERR_IO);
	db_close(NULL);
}

static void
test_ping(void **state)
{
	struct dbt *t = *state;
	struct err e = { 0 };

	assert_int_equal(db_ping(t->db, &e), 0);
}

static void
test_ping_locked(void **state)
{
	struct dbt *t = *state;
	struct err e = { 0 };
	sqlite3 *h = NULL;
	struct db_conn *c;

	/* SQLite only: file mode, PRAGMAs, SQLite's migrations and locks. */
	DBT_SQLITE_ONLY();
	/* Another process holding the write lock past the busy timeout. */
	assert_non_null(c = db_conn_get(t->db, &e));
	assert_int_equal(sqlite3_busy_timeout(c->h, 50), SQLITE_OK);
	assert_int_equal(sqlite3_open(t->path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	assert_int_equal(db_ping(t->db, &e), -1);
	assert_int_equal(e.code, ERR_DB);
	assert_string_equal(e.msg, "database error");
	assert_int_equal(sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(h);
	assert_int_equal(db_ping(t->db, &e), 0);
}

static void *
thread_conn(void *arg)
{
	struct db *db = arg;
	struct err e = { 0 };
	struct db_conn *c = db_conn_get(db, &e);

	if (c == NULL || db_conn_get(db, &e) != c || db_ping(db, &e) != 0)
		return NULL;
	return c;
}

static size_t
nconns(struct db *db)
{
	size_t n = 0;

	pthread_mutex_lock(&db->mu);
	for (struct db_conn *c = db->conns; c != NULL; c = c->next)
		n++;
	pthread_mutex_unlock(&db->mu);
	return n;
}

static void
test_thread_connections(void **state)
{
	struct dbt *t = *state;
	struct err e = { 0 };
	struct db_conn *mine;
	pthread_t th[4];
	void *res[4];

	assert_non_null(mine = db_conn_get(t->db, &e));
	assert_int_equal(nconns(t->db), 1);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, thread_conn,
		    t->db), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], &res[i]), 0);
		assert_non_null(res[i]);
		assert_ptr_not_equal(res[i], mine);
	}
	/* Each thread's connection was closed when it exited. */
	assert_int_equal(nconns(t->db), 1);
}

static void *
thread_stay(void *arg)
{
	struct err e = { 0 };

	return db_conn_get(arg, &e);
}

static void
test_close_with_thread_conns(void **state)
{
	struct dbt *t = *state;
	struct err e = { 0 };
	struct db *db2;
	pthread_t th;
	void *res;

	/* SQLite only: file mode, PRAGMAs, SQLite's migrations and locks. */
	DBT_SQLITE_ONLY();
	/* A second handle whose threads are done; db_close frees all. */
	assert_non_null(db2 = db_open(t->path, &e));
	assert_int_equal(pthread_create(&th, NULL, thread_stay, db2), 0);
	assert_int_equal(pthread_join(th, &res), 0);
	assert_non_null(res);
	assert_int_equal(db_ping(db2, &e), 0);
	db_close(db2);
}

static void
test_limit(void **state)
{
	(void)state;
	assert_int_equal(db_limit(0), RCA_DEFAULT_LIST_LIMIT);
	assert_int_equal(db_limit(1), 1);
	assert_int_equal(db_limit(RCA_MAX_LIST_LIMIT), RCA_MAX_LIST_LIMIT);
	assert_int_equal(db_limit(RCA_MAX_LIST_LIMIT + 1),
	    RCA_MAX_LIST_LIMIT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_file_mode, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_pragmas, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_migrations, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_migration_from_v1,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test_setup_teardown(test_ping, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_ping_locked, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_thread_connections,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_close_with_thread_conns,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test(test_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
