/*
 * Tests for db/sql_pg.c against a real PostgreSQL 15 (tests/support/
 * pg.h), through libpq directly: the migrations, every statement
 * against its SQLite twin (parameters, columns, types), the audit
 * guard, the counters' triggers, the indexes the lists walk, the
 * version on a standby, and the PostgreSQL-only locks and notices.
 */
#include <sys/select.h>

#include <pthread.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <setjmp.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "pg.h"
#include "sql.h"

#define OID_BYTEA	17
#define OID_INT8	20
#define OID_TEXT	25
#define OID_VOID	2278

static struct pg_fixture *pg;
static struct pg_fixture *standby;	/* test_standby_version's */

/* Statement id's PostgreSQL text, wherever db/sql*.c keeps it. */
static const char *
pg_text(enum db_stmt id)
{
	return db_sql_text(DB_DIALECT_PG, id);
}

/* PostgreSQL's migrations: how many, and the text of step i. */
static size_t
pg_nmigrations(void)
{
	return db_sql_nmigrations(DB_DIALECT_PG);
}

static const char *
pg_migration(size_t i)
{
	return db_sql_migration(DB_DIALECT_PG, i);
}

static int
group_setup(void **state)
{
	(void)state;
	return (pg = pg_fixture_start()) != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	pg_fixture_free(pg);
	return 0;
}

static PGconn *
conn(const char *uri)
{
	PGconn *c = PQconnectdb(uri);

	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("connect %s: %s", uri, PQerrorMessage(c));
	return c;
}

/* A connection to a new, empty database name. */
static PGconn *
new_db(const char *name)
{
	char *uri = pg_fixture_createdb(pg, name);
	PGconn *c;

	assert_non_null(uri);
	c = conn(uri);
	free(uri);
	return c;
}

/* Run sql; its status must be want (else the test fails). */
static void
sql_expect(PGconn *c, const char *sql, ExecStatusType want)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != want)
		fail_msg("%s: %s %s", sql, PQresStatus(PQresultStatus(r)),
		    PQerrorMessage(c));
	PQclear(r);
}

static void
sql_ok(PGconn *c, const char *sql)
{
	sql_expect(c, sql, PGRES_COMMAND_OK);
}

/* sql must fail with SQLSTATE state. */
static void
sql_refused(PGconn *c, const char *sql, const char *state)
{
	PGresult *r = PQexec(c, sql);
	const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);

	if (PQresultStatus(r) != PGRES_FATAL_ERROR || s == NULL ||
	    strcmp(s, state) != 0)
		fail_msg("%s: want %s, got %s %s", sql, state,
		    PQresStatus(PQresultStatus(r)), s != NULL ? s : "");
	PQclear(r);
}

/* Statement id with n text parameters (NULL: SQL NULL). */
static PGresult *
stmt(PGconn *c, enum db_stmt id, int n, const char *const *v)
{
	PGresult *r = PQexecParams(c, pg_text(id), n, NULL, v,
	    NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		fail_msg("statement %d: %s", (int)id, PQerrorMessage(c));
	return r;
}

/* The first value of statement id's one row, as an integer. */
static long long
stmt_int(PGconn *c, enum db_stmt id, int n, const char *const *v)
{
	PGresult *r = stmt(c, id, n, v);
	long long x;

	assert_int_equal(PQntuples(r), 1);
	x = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return x;
}

static long long
sql_int(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	long long x;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	x = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return x;
}

/* Apply migration i in its own transaction, as db/ does. */
static bool
migrate_one(PGconn *c, size_t i)
{
	PGresult *r;
	bool ok;

	sql_ok(c, pg_text(DB_STMT_BEGIN_WRITE));
	PQclear(stmt(c, DB_STMT_PG_MIGRATE_LOCK, 0, NULL));
	r = PQexec(c, pg_migration(i));
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	sql_ok(c, ok ? "COMMIT" : "ROLLBACK");
	return ok;
}

static void
migrate(PGconn *c)
{
	for (size_t i = 0; i < pg_nmigrations(); i++)
		assert_true(migrate_one(c, i));
}

static long long
version(PGconn *c)
{
	return stmt_int(c, DB_STMT_USER_VERSION, 0, NULL);
}

static void
test_migrations(void **state)
{
	PGconn *c = new_db("mig");

	(void)state;
	assert_int_equal(pg_nmigrations(),
	    db_sql_nmigrations(DB_DIALECT_SQLITE));
	assert_null(pg_migration(pg_nmigrations()));
	assert_int_equal(version(c), 0);
	for (size_t i = 0; i < pg_nmigrations(); i++) {
		assert_true(migrate_one(c, i));
		assert_int_equal(version(c), (long long)i + 1);
	}
	/* Every step again is refused and changes nothing. */
	for (size_t i = 0; i < pg_nmigrations(); i++) {
		assert_false(migrate_one(c, i));
		assert_int_equal(version(c),
		    (long long)pg_nmigrations());
	}
	PQfinish(c);

	/* A step skipped: version 3's step refuses a version 1 schema. */
	c = new_db("mig_skip");
	assert_true(migrate_one(c, 0));
	assert_false(migrate_one(c, 2));
	assert_int_equal(version(c), 1);
	PQfinish(c);
}

/* SQLite's declared type of a column -> the OID PostgreSQL must give. */
static Oid
want_oid(const char *decl)
{
	if (decl == NULL)
		return 0;
	if (strcmp(decl, "INTEGER") == 0)
		return OID_INT8;
	if (strcmp(decl, "TEXT") == 0)
		return OID_TEXT;
	if (strcmp(decl, "BLOB") == 0)
		return OID_BYTEA;
	fail_msg("unexpected SQLite type %s", decl);
	return 0;
}

/* PostgreSQL's prepared statement id against SQLite's (prepared). */
static void
compare(PGresult *d, sqlite3_stmt *s, enum db_stmt id)
{
	int ncols = sqlite3_column_count(s);

	assert_int_equal(PQnparams(d), sqlite3_bind_parameter_count(s));
	for (int p = 0; p < PQnparams(d); p++)
		if (PQparamtype(d, p) != OID_INT8 &&
		    PQparamtype(d, p) != OID_TEXT &&
		    PQparamtype(d, p) != OID_BYTEA)
			fail_msg("statement %d $%d: type %u", (int)id, p + 1,
			    PQparamtype(d, p));
	if (PQnfields(d) != ncols)
		fail_msg("statement %d: %d columns, SQLite %d", (int)id,
		    PQnfields(d), ncols);
	for (int k = 0; k < ncols; k++) {
		Oid t = PQftype(d, k), w;

		w = want_oid(sqlite3_column_decltype(s, k));
		if (w != 0 && (t != w ||
		    strcmp(PQfname(d, k), sqlite3_column_name(s, k)) != 0))
			fail_msg("statement %d column %d: %s %u, SQLite %s",
			    (int)id, k, PQfname(d, k), t,
			    sqlite3_column_name(s, k));
		if (t != OID_INT8 && t != OID_TEXT && t != OID_BYTEA)
			fail_msg("statement %d column %d: type %u",
			    (int)id, k, t);
	}
}

/* A PostgreSQL-only statement: no parameter or column but these. */
static void
check_pg_only(PGresult *d, enum db_stmt id)
{
	assert_null(db_sql_text(DB_DIALECT_SQLITE, id));
	for (int p = 0; p < PQnparams(d); p++)
		assert_int_equal(PQparamtype(d, p), OID_TEXT);
	for (int k = 0; k < PQnfields(d); k++)
		if (PQftype(d, k) != OID_INT8 && PQftype(d, k) != OID_VOID)
			fail_msg("statement %d column %d: type %u", (int)id,
			    k, PQftype(d, k));
}

static sqlite3 *
sqlite_migrated(void)
{
	sqlite3 *h = NULL;

	assert_int_equal(sqlite3_open(":memory:", &h), SQLITE_OK);
	for (size_t i = 0; i < db_sql_nmigrations(DB_DIALECT_SQLITE); i++)
		assert_int_equal(sqlite3_exec(h,
		    db_sql_migration(DB_DIALECT_SQLITE, i), NULL, NULL, NULL),
		    SQLITE_OK);
	return h;
}

static void
test_statements_match_sqlite(void **state)
{
	PGconn *c = new_db("stmts");
	sqlite3 *h = sqlite_migrated();
	sqlite3_stmt *s;
	PGresult *r, *d;
	char name[32];
	int prepared = 0;

	(void)state;
	migrate(c);
	for (int i = 0; i < DB_STMT__MAX; i++) {
		const char *text = pg_text((enum db_stmt)i);
		const char *lite = db_sql_text(DB_DIALECT_SQLITE,
		    (enum db_stmt)i);

		if (text == NULL) {
			/* Only the PRAGMAs that set SQLite up. */
			assert_non_null(lite);
			assert_int_equal(strncmp(lite, "PRAGMA ", 7), 0);
			assert_int_not_equal(i, DB_STMT_USER_VERSION);
			continue;
		}
		assert_null(strchr(text, '?'));
		snprintf(name, sizeof(name), "s%d", i);
		r = PQprepare(c, name, text, 0, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			fail_msg("statement %d: %s\n%s", i,
			    PQerrorMessage(c), text);
		PQclear(r);
		d = PQdescribePrepared(c, name);
		assert_int_equal(PQresultStatus(d), PGRES_COMMAND_OK);
		if (i >= DB_STMT_PG__FIRST)
			check_pg_only(d, (enum db_stmt)i);
		else {
			assert_int_equal(sqlite3_prepare_v2(h, lite, -1, &s,
			    NULL), SQLITE_OK);
			compare(d, s, (enum db_stmt)i);
			sqlite3_finalize(s);
		}
		PQclear(d);
		prepared++;
	}
	assert_int_equal(prepared, DB_STMT__MAX - 3);
	assert_null(pg_text(DB_STMT__MAX));
	sqlite3_close(h);
	PQfinish(c);
}

static void
audit_add(PGconn *c, const char *at)
{
	const char *v[] = { at, "admin", "test", "x", "ok", "{}" };

	PQclear(stmt(c, DB_STMT_AUDIT_INSERT, 6, v));
}

static void
test_audit_guard(void **state)
{
	PGconn *c = new_db("audit");
	const char *prune[] = { "100", "2" }, *before[] = { "100" };
	PGresult *r;

	(void)state;
	migrate(c);
	audit_add(c, "10");
	audit_add(c, "20");
	audit_add(c, "30");
	assert_int_equal(stmt_int(c, DB_STMT_AUDIT_OLDEST, 1, before), 1);
	sql_refused(c, "UPDATE audit SET actor = 'x'", "23000");
	sql_refused(c, "DELETE FROM audit", "23000");
	sql_refused(c, "TRUNCATE audit", "23000");
	/* Without the guard off, the prune statement is refused too. */
	r = PQexecParams(c, pg_text(DB_STMT_AUDIT_PRUNE), 2, NULL,
	    prune, NULL, NULL, 0);
	assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
	PQclear(r);

	sql_ok(c, pg_text(DB_STMT_BEGIN_WRITE));
	PQclear(stmt(c, DB_STMT_AUDIT_GUARD_OFF, 0, NULL));
	r = stmt(c, DB_STMT_AUDIT_PRUNE, 2, prune);
	assert_string_equal(PQcmdTuples(r), "2");
	PQclear(r);
	/* Updates stay refused while pruning. */
	sql_refused(c, "UPDATE audit SET actor = 'x'", "23000");
	sql_ok(c, "ROLLBACK");
	sql_ok(c, pg_text(DB_STMT_BEGIN_WRITE));
	PQclear(stmt(c, DB_STMT_AUDIT_GUARD_OFF, 0, NULL));
	PQclear(stmt(c, DB_STMT_AUDIT_PRUNE, 2, prune));
	PQclear(stmt(c, DB_STMT_AUDIT_GUARD_ON, 0, NULL));
	sql_refused(c, "DELETE FROM audit", "23000");
	sql_ok(c, "ROLLBACK");
	sql_ok(c, pg_text(DB_STMT_BEGIN_WRITE));
	PQclear(stmt(c, DB_STMT_AUDIT_GUARD_OFF, 0, NULL));
	PQclear(stmt(c, DB_STMT_AUDIT_PRUNE, 2, prune));
	PQclear(stmt(c, DB_STMT_AUDIT_GUARD_ON, 0, NULL));
	sql_ok(c, "COMMIT");
	/* The setting was the transaction's: the next one is guarded. */
	sql_refused(c, "DELETE FROM audit", "23000");
	assert_int_equal(sql_int(c, "SELECT count(*) FROM audit"), 1);
	assert_int_equal(sql_int(c, "SELECT min(at) FROM audit"), 30);
	PQfinish(c);
}

/*
 * Insert a certificate as db/cert.c does: the row, then its profile's
 * counters (active when unrevoked and not_after at or after the mark).
 */
static void
cert_add(PGconn *c, int n, const char *profile, long long not_after,
    const char *node)
{
	char serial[48], na[32], created[32], act[4];
	const char *v[] = { serial, profile, "cn", "", "", "", "ec", "0",
	    na, NULL, NULL, "fp", node, "admin", "pem", created, NULL, "1" };
	const char *add[] = { profile, "1", "0", act };
	long long mark = stmt_int(c, DB_STMT_COUNTS_MARK, 0, NULL);

	snprintf(serial, sizeof(serial), "%040x", n);
	snprintf(na, sizeof(na), "%lld", not_after);
	snprintf(created, sizeof(created), "%d", 1000);
	snprintf(act, sizeof(act), "%d", not_after >= mark);
	PQclear(stmt(c, DB_STMT_CERT_INSERT, 18, v));
	PQclear(stmt(c, DB_STMT_COUNTS_ADD, 4, add));
}

static void
cert_revoke(PGconn *c, int n, const char *at)
{
	char serial[48];
	const char *v[] = { at, "1", serial };

	snprintf(serial, sizeof(serial), "%040x", n);
	PQclear(stmt(c, DB_STMT_CERT_REVOKE, 3, v));
}

/* DB_STMT_CERT_COUNTS at now agrees with counting the table. */
static void
counts_agree(PGconn *c, long long now)
{
	char t[32];
	const char *v[] = { t };
	PGresult *got, *want;

	snprintf(t, sizeof(t), "%lld", now);
	got = stmt(c, DB_STMT_CERT_COUNTS, 1, v);
	want = PQexecParams(c, "SELECT profile, count(*), count(*) FILTER "
	    "(WHERE revoked_at IS NULL AND not_after >= $1::bigint), "
	    "count(*) FILTER (WHERE revoked_at IS NOT NULL) "
	    "FROM certificates GROUP BY profile ORDER BY profile", 1, NULL,
	    v, NULL, NULL, 0);
	assert_int_equal(PQresultStatus(want), PGRES_TUPLES_OK);
	assert_int_equal(PQntuples(got), PQntuples(want));
	for (int i = 0; i < PQntuples(want); i++)
		for (int k = 0; k < 4; k++)
			assert_string_equal(PQgetvalue(got, i, k),
			    PQgetvalue(want, i, k));
	PQclear(got);
	PQclear(want);
}

/* Does c still wait for its query after 300 ms? */
static bool
blocked(PGconn *c)
{
	struct timeval tv = { 0, 300 * 1000 };
	fd_set fds;

	FD_ZERO(&fds);
	FD_SET(PQsocket(c), &fds);
	return select(PQsocket(c) + 1, &fds, NULL, NULL, &tv) == 0;
}

/* The result of c's query sent with PQsendQueryParams: it succeeded. */
static void
finish_sent(PGconn *c)
{
	PGresult *r = PQgetResult(c);

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s", PQerrorMessage(c));
	PQclear(r);
	assert_null(PQgetResult(c));
}

/*
 * Two instances move the counters' mark at once: the second waits for
 * the first's row lock, then takes off only what expired after the
 * first's mark (no row counted out twice).
 */
static void
counts_race(PGconn *a, const char *uri, long long t1, long long t2)
{
	PGconn *b = conn(uri);
	char s1[32], s2[32];
	const char *v1[] = { s1 }, *v2[] = { s2 };

	snprintf(s1, sizeof(s1), "%lld", t1);
	snprintf(s2, sizeof(s2), "%lld", t2);
	sql_ok(a, "BEGIN");
	sql_ok(b, "BEGIN");
	PQclear(stmt(a, DB_STMT_COUNTS_EXPIRE, 1, v1));
	assert_int_equal(PQsendQueryParams(b,
	    pg_text(DB_STMT_COUNTS_EXPIRE), 1, NULL, v2, NULL, NULL,
	    0), 1);
	assert_true(blocked(b));
	PQclear(stmt(a, DB_STMT_COUNTS_MOVE, 1, v1));
	sql_ok(a, "COMMIT");
	finish_sent(b);
	PQclear(stmt(b, DB_STMT_COUNTS_MOVE, 1, v2));
	sql_ok(b, "COMMIT");
	PQfinish(b);
	assert_int_equal(stmt_int(a, DB_STMT_COUNTS_MARK, 0, NULL),
	    t1 > t2 ? t1 : t2);
	assert_int_equal(sql_int(a, "SELECT sum(active) - (SELECT "
	    "coalesce(sum(n), 0) FROM cert_counts_expired) FROM cert_counts"),
	    sql_int(a, "SELECT count(*) FROM certificates WHERE revoked_at"
	    " IS NULL AND not_after >= (SELECT at FROM cert_counts_mark)"));
}

static void
test_counts_triggers(void **state)
{
	PGconn *c = new_db("counts");
	long long mark;
	const char *crl[] = { "1", NULL, "0", "", "1" }, *t[] = { NULL };
	char tu[32], *uri;

	(void)state;
	migrate(c);
	mark = stmt_int(c, DB_STMT_COUNTS_MARK, 0, NULL);
	for (int i = 0; i < 60; i++)
		cert_add(c, i, i % 3 == 0 ? "a" : "b",
		    mark - 50 + i * 10, i % 4 == 0 ? "n1" : NULL);
	counts_agree(c, mark);
	for (int i = 0; i < 60; i += 7)
		cert_revoke(c, i, "5");
	counts_agree(c, mark);
	counts_agree(c, mark + 200);
	sql_ok(c, "DELETE FROM certificates WHERE serial = "
	    "lpad('b', 40, '0')");
	counts_agree(c, mark + 100);
	/* A CRL moves the mark (trigger), then a batch does. */
	snprintf(tu, sizeof(tu), "%lld", mark + 150);
	crl[1] = tu;
	PQclear(stmt(c, DB_STMT_CRL_INSERT, 5, crl));
	assert_int_equal(stmt_int(c, DB_STMT_COUNTS_MARK, 0, NULL),
	    mark + 150);
	counts_agree(c, mark + 150);
	counts_agree(c, mark + 20);
	snprintf(tu, sizeof(tu), "%lld", mark + 400);
	t[0] = tu;
	PQclear(stmt(c, DB_STMT_COUNTS_EXPIRE, 1, t));
	PQclear(stmt(c, DB_STMT_COUNTS_MOVE, 1, t));
	assert_int_equal(stmt_int(c, DB_STMT_COUNTS_MARK, 0, NULL),
	    mark + 400);
	counts_agree(c, mark + 400);
	counts_agree(c, mark + 1000);
	cert_revoke(c, 59, "6");
	counts_agree(c, mark + 400);
	uri = pg_fixture_createdb(pg, "counts_race");
	PQfinish(c);
	c = conn(uri);
	migrate(c);
	mark = stmt_int(c, DB_STMT_COUNTS_MARK, 0, NULL);
	for (int i = 0; i < 60; i++)
		cert_add(c, i, i % 3 == 0 ? "a" : "b", mark + i * 10, NULL);
	counts_race(c, uri, mark + 100, mark + 300);
	counts_race(c, uri, mark + 500, mark + 400);
	counts_agree(c, mark + 250);
	free(uri);
	/* The stored counters themselves, at the mark. */
	assert_int_equal(sql_int(c, "SELECT sum(active) - (SELECT "
	    "coalesce(sum(n), 0) FROM cert_counts_expired) FROM cert_counts"),
	    sql_int(c, "SELECT count(*) FROM certificates WHERE revoked_at"
	    " IS NULL AND not_after >= (SELECT at FROM cert_counts_mark)"));
	PQfinish(c);
}

/* EXPLAIN of statement id with values v: no scan of the whole table. */
static void
uses_index(PGconn *c, enum db_stmt id, int n, const char *const *v,
    const char *index)
{
	char q[4096];
	char *plan = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&plan, &len);
	PGresult *r;

	assert_non_null(f);
	snprintf(q, sizeof(q), "EXPLAIN %s", pg_text(id));
	r = PQexecParams(c, q, n, NULL, v, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("statement %d: %s", (int)id, PQerrorMessage(c));
	for (int i = 0; i < PQntuples(r); i++)
		fprintf(f, "%s\n", PQgetvalue(r, i, 0));
	PQclear(r);
	fclose(f);
	if (strstr(plan, "Seq Scan on certificates") != NULL ||
	    (index != NULL && strstr(plan, index) == NULL))
		fail_msg("statement %d, want %s:\n%s", (int)id,
		    index != NULL ? index : "an index", plan);
	free(plan);
}

static void
test_indexes_used(void **state)
{
	PGconn *c = new_db("plans");
	/*
	 * after, status, now, profile, cn, node, expires_before, limit,
	 * ca_id (and lo, hi for the range statements)
	 */
	const char *cn[] = { "0", "-1", "1000", NULL, "cn7", NULL, "0", "50",
	    "0" };
	const char *node[] = { "0", "-1", "1000", NULL, NULL, "n3", "0",
	    "50", "0" };
	const char *prof[] = { "0", "0", "1000", "rare", NULL, NULL, "0",
	    "50", "0" };
	const char *rev[] = { "0", "1", "1000", NULL, NULL, NULL, "0", "50",
	    "0" };
	const char *unrev[] = { "0", "0", "1000", NULL, NULL, NULL, "0",
	    "50", "0", "1000", "1100" };
	const char *exp[] = { "0", "-1", "1000", NULL, NULL, NULL, "1100",
	    "50", "0", "1000", "1100" };
	const char *range[] = { "1000", "1100", "10" };
	const char *now[] = { "4000" }, *key[] = { "ab", "1000", "1" };
	/* now, ca_id; from, to, ca_id: a CA's CRL reads (schema 5) */
	const char *crlnow[] = { "4000", "1" };
	const char *crlrange[] = { "1000", "1100", "1" };
	const char *any[] = { "0", "-1", "0", NULL, NULL, NULL, "0", "50",
	    "0" };
	/* ca_id, now, limit: a CA's unexpired certificates */
	const char *ca[] = { "2", "19000", "10" };

	(void)state;
	migrate(c);
	sql_ok(c, "INSERT INTO certificates (serial, profile, common_name, "
	    "san_dns, san_ip, san_uri, key_type, not_before, not_after, "
	    "revoked_at, reason, fingerprint, node, issued_by, pem, "
	    "created_at, spki_sha256) SELECT 's' || i, CASE WHEN i % 400 "
	    "= 0 THEN 'rare' ELSE 'p' || (i % 5) END, "
	    "'cn' || i, '', '', '', 'ec', 0, i, "
	    "CASE WHEN i % 100 = 0 THEN i END, "
	    "CASE WHEN i % 100 = 0 THEN 1 END, 'fp', "
	    "CASE WHEN i % 50 = 0 THEN 'n' || (i % 7) END, 'a', 'pem', i, "
	    "CASE WHEN i % 10 = 0 THEN NULL ELSE lpad(i::text, 64, '0') END "
	    "FROM generate_series(1, 20000) i");
	sql_ok(c, "ANALYZE certificates");
	sql_ok(c, "SET enable_seqscan = off");
	uses_index(c, DB_STMT_CERT_LIST_CN, 9, cn, "certificates_common_name");
	uses_index(c, DB_STMT_CERT_LIST_NODE, 9, node, "certificates_node");
	uses_index(c, DB_STMT_CERT_LIST_PROFILE, 9, prof,
	    "certificates_profile");
	uses_index(c, DB_STMT_CERT_LIST_REVOKED, 9, rev,
	    "certificates_revoked_id");
	uses_index(c, DB_STMT_CERT_LIST_UNREVOKED, 11, unrev,
	    "certificates_expiry");
	uses_index(c, DB_STMT_CERT_LIST_EXPIRES, 11, exp,
	    "certificates_expiry");
	uses_index(c, DB_STMT_CERT_LIST, 9, any, NULL);
	uses_index(c, DB_STMT_CA_UNEXPIRED_COUNT, 2, ca,
	    "certificates_expiry");
	uses_index(c, DB_STMT_CA_UNEXPIRED_LIST, 3, ca,
	    "certificates_expiry");
	uses_index(c, DB_STMT_CERT_PROBE_UNREVOKED, 3, range,
	    "certificates_expiry");
	uses_index(c, DB_STMT_CERT_PROBE_EXPIRES, 3, range,
	    "certificates_expiry");
	uses_index(c, DB_STMT_CERT_REVOKED_UNEXPIRED, 2, crlnow,
	    "certificates_revoked");
	uses_index(c, DB_STMT_CRL_EXPIRED, 3, crlrange, NULL);
	uses_index(c, DB_STMT_CRL_SAME_KEY, 3, key, "certificates_spki");
	uses_index(c, DB_STMT_CERT_SPKI_MISSING, 2, range,
	    "certificates_spki");
	uses_index(c, DB_STMT_CERT_COUNTS, 1, now, "certificates_expiry");
	/* The partial ones hold only their rows. */
	assert_int_equal(sql_int(c, "SELECT count(*) FROM pg_indexes WHERE "
	    "tablename = 'certificates' AND indexdef LIKE '%WHERE%' AND "
	    "indexname IN ('certificates_node', 'certificates_revoked', "
	    "'certificates_revoked_id')"), 3);
	PQfinish(c);
}

/* The standby goes even when the test failed half-way. */
static int
standby_teardown(void **state)
{
	(void)state;
	pg_fixture_free(standby);
	standby = NULL;
	return 0;
}

static void
test_standby_version(void **state)
{
	struct pg_fixture *s = standby = pg_fixture_standby(pg);
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	PGconn *p = conn(pg_fixture_uri(pg)), *r;
	int i;

	(void)state;
	assert_non_null(s);
	r = conn(pg_fixture_uri(s));
	assert_int_equal(version(p), 0);
	assert_int_equal(version(r), 0);
	assert_int_equal(stmt_int(p, DB_STMT_PG_READ_ONLY, 0, NULL), 0);
	assert_int_equal(stmt_int(r, DB_STMT_PG_READ_ONLY, 0, NULL), 1);
	migrate(p);
	for (i = 0; i < 1500 && version(r) !=
	    (long long)pg_nmigrations(); i++)
		nanosleep(&pause, NULL);
	assert_int_equal(version(r), (long long)pg_nmigrations());
	/* A read transaction works there; a write one is refused. */
	sql_ok(r, pg_text(DB_STMT_BEGIN_READ));
	PQclear(stmt(r, DB_STMT_COUNTS_MARK, 0, NULL));
	sql_ok(r, "COMMIT");
	sql_ok(r, pg_text(DB_STMT_BEGIN_WRITE));
	sql_refused(r, "INSERT INTO crls VALUES (1, 1, 1, '')", "25006");
	sql_ok(r, "ROLLBACK");
	PQfinish(r);
	PQfinish(p);
}

/* Wait (bounded) for a notice on c; its payload, or NULL. */
static PGnotify *
notice(PGconn *c)
{
	struct timeval tv = { 5, 0 };
	PGnotify *n;
	fd_set fds;

	for (;;) {
		assert_int_equal(PQconsumeInput(c), 1);
		if ((n = PQnotifies(c)) != NULL)
			return n;
		FD_ZERO(&fds);
		FD_SET(PQsocket(c), &fds);
		if (select(PQsocket(c) + 1, &fds, NULL, NULL, &tv) <= 0)
			return NULL;
	}
}

static void
test_pg_locks_and_notices(void **state)
{
	PGconn *a = conn(pg_fixture_uri(pg)), *b = conn(pg_fixture_uri(pg));
	const char *n1[] = { "n1" }, *n2[] = { "n2" }, *pay[] = { "42" };
	struct timeval tv = { 0, 300 * 1000 };
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	PGnotify *n;
	fd_set fds;
	int i;

	(void)state;
	/* The leader: taken once per session however often asked. */
	assert_int_equal(stmt_int(a, DB_STMT_PG_LEADER_TRY, 0, NULL), 1);
	assert_int_equal(stmt_int(a, DB_STMT_PG_LEADER_TRY, 0, NULL), 1);
	assert_int_equal(stmt_int(b, DB_STMT_PG_LEADER_TRY, 0, NULL), 0);
	assert_int_equal(stmt_int(a, DB_STMT_PG_LEADER_RELEASE, 0, NULL), 1);
	assert_int_equal(stmt_int(b, DB_STMT_PG_LEADER_TRY, 0, NULL), 1);
	/* A leader's session ends: the lock is free once its backend is. */
	PQfinish(b);
	b = conn(pg_fixture_uri(pg));
	for (i = 0; i < 250 && stmt_int(a, DB_STMT_PG_LEADER_TRY, 0,
	    NULL) != 1; i++)
		nanosleep(&pause, NULL);
	assert_int_equal(stmt_int(a, DB_STMT_PG_LEADER_TRY, 0, NULL), 1);

	/* A node being rotated anywhere, this session included. */
	assert_int_equal(stmt_int(a, DB_STMT_PG_NODE_LOCK_TRY, 1, n1), 1);
	assert_int_equal(stmt_int(a, DB_STMT_PG_NODE_LOCK_TRY, 1, n1), 0);
	assert_int_equal(stmt_int(b, DB_STMT_PG_NODE_LOCK_TRY, 1, n1), 0);
	assert_int_equal(stmt_int(b, DB_STMT_PG_NODE_LOCK_TRY, 1, n2), 1);
	assert_int_equal(stmt_int(a, DB_STMT_PG_NODE_LOCK_RELEASE, 1, n1),
	    1);
	assert_int_equal(stmt_int(b, DB_STMT_PG_NODE_LOCK_TRY, 1, n1), 1);

	/* CRL notices reach a listener at the sender's commit. */
	PQclear(stmt(b, DB_STMT_PG_LISTEN_CRL, 0, NULL));
	sql_ok(a, "BEGIN");
	PQclear(stmt(a, DB_STMT_PG_NOTIFY_CRL, 1, pay));
	sql_ok(a, "COMMIT");
	assert_non_null(n = notice(b));
	assert_string_equal(n->relname, "redisca_crl");
	assert_string_equal(n->extra, "42");
	PQfreemem(n);

	/* One migrator at a time: b waits for a's transaction. */
	sql_ok(a, "BEGIN");
	PQclear(stmt(a, DB_STMT_PG_MIGRATE_LOCK, 0, NULL));
	sql_ok(b, "BEGIN");
	assert_int_equal(PQsendQuery(b,
	    pg_text(DB_STMT_PG_MIGRATE_LOCK)), 1);
	FD_ZERO(&fds);
	FD_SET(PQsocket(b), &fds);
	assert_int_equal(select(PQsocket(b) + 1, &fds, NULL, NULL, &tv), 0);
	sql_ok(a, "COMMIT");
	PQclear(PQgetResult(b));
	assert_null(PQgetResult(b));
	sql_ok(b, "COMMIT");
	PQfinish(a);
	PQfinish(b);
}

/*
 * Two instances issue at once, for two profiles, and both move the
 * mark past expired rows of the other's profile: the second waits for
 * the first (the mark's row lock), and neither deadlocks (40P01 after
 * deadlock_timeout), since a mark move never touches cert_counts.
 */
static void
test_counts_no_deadlock(void **state)
{
	char *uri = pg_fixture_createdb(pg, "counts_lock");
	const char *pa[] = { "a", "1", "0", "1" }, *pb[] = { "b", "1", "0",
	    "1" };
	char t[32];
	const char *v[] = { t };
	long long mark;
	PGconn *a, *b;

	(void)state;
	assert_non_null(uri);
	a = conn(uri);
	b = conn(uri);
	free(uri);
	migrate(a);
	mark = stmt_int(a, DB_STMT_COUNTS_MARK, 0, NULL);
	for (int i = 0; i < 20; i++)
		cert_add(a, i, i % 2 ? "a" : "b", mark + i, NULL);
	snprintf(t, sizeof(t), "%lld", mark + 30);
	sql_ok(a, pg_text(DB_STMT_BEGIN_WRITE));
	sql_ok(b, pg_text(DB_STMT_BEGIN_WRITE));
	PQclear(stmt(a, DB_STMT_COUNTS_ADD, 4, pa));
	PQclear(stmt(b, DB_STMT_COUNTS_ADD, 4, pb));
	/* a must not wait for b (a failure, not a hang, if it does). */
	sql_ok(a, "SET LOCAL statement_timeout = '10s'");
	PQclear(stmt(a, DB_STMT_COUNTS_EXPIRE, 1, v));
	assert_int_equal(PQsendQueryParams(b,
	    pg_text(DB_STMT_COUNTS_EXPIRE), 1, NULL, v, NULL, NULL,
	    0), 1);
	assert_true(blocked(b));
	PQclear(stmt(a, DB_STMT_COUNTS_MOVE, 1, v));
	sql_ok(a, "COMMIT");
	finish_sent(b);
	PQclear(stmt(b, DB_STMT_COUNTS_MOVE, 1, v));
	sql_ok(b, "COMMIT");
	/*
	 * The two added rows (1 each) never existed: 2 too many, no less.
	 * Taken off as they were added, each in its connection's shard.
	 */
	pa[1] = pa[3] = pb[1] = pb[3] = "-1";
	PQclear(stmt(a, DB_STMT_COUNTS_ADD, 4, pa));
	PQclear(stmt(b, DB_STMT_COUNTS_ADD, 4, pb));
	counts_agree(a, mark + 30);
	PQfinish(a);
	PQfinish(b);
}

#define WRITERS		8
#define WRITER_CERTS	150

struct writer {
	pthread_t	 tid;
	const char	*uri;		/* borrowed */
	int		 n;		/* which writer */
	long long	 mark;
	int		 deleted;	/* rows its DELETEs took */
	char		 err[256];	/* empty: no failure */
};

/*
 * One statement on c, as the writer w: the rows it touched, or -1
 * (w->err set) on failure.
 */
static int
writer_exec(struct writer *w, PGconn *c, const char *sql, int n,
    const char *const *v)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, v, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	int rows = -1;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		rows = atoi(PQcmdTuples(r));
	else
		snprintf(w->err, sizeof(w->err), "writer %d: %s: %s", w->n,
		    sql, PQerrorMessage(c));
	PQclear(r);
	return rows;
}

/*
 * Writer w on its own connection: WRITER_CERTS issuances, each its own
 * transaction as on PostgreSQL (the row and its counters); every fifth
 * also revokes its previous certificate and one of the next writer's
 * (counted in another shard, there or not yet), every seventh deletes
 * one of the previous writer's.
 */
static void *
writer_run(void *arg)
{
	struct writer *w = arg;
	PGconn *c = PQconnectdb(w->uri);
	char serial[48], other[48], na[32];
	const char *profile = w->n % 2 ? "a" : "b";
	const char *v[] = { serial, profile, "cn", "", "", "", "ec", "0",
	    na, NULL, NULL, "fp", NULL, "admin", "pem", "1000", NULL,
	    "1" };
	const char *add[] = { profile, "1", "0", "1" };
	const char *rv[] = { "5", "1", serial }, *ro[] = { "5", "1", other };
	const char *del[] = { other };

	if (PQstatus(c) != CONNECTION_OK) {
		snprintf(w->err, sizeof(w->err), "writer %d: %s", w->n,
		    PQerrorMessage(c));
		goto out;
	}
	for (int i = 0; i < WRITER_CERTS; i++) {
		int id = w->n * 10000 + i;

		snprintf(serial, sizeof(serial), "%040x", id);
		/* Some already expired at the mark: active 0. */
		add[3] = i % 3 == 0 ? "0" : "1";
		snprintf(na, sizeof(na), "%lld",
		    i % 3 == 0 ? w->mark - 10 : w->mark + 1000 + i);
		if (writer_exec(w, c, pg_text(DB_STMT_BEGIN_WRITE),
		    0, NULL) < 0 ||
		    writer_exec(w, c, pg_text(DB_STMT_CERT_INSERT),
		    18, v) < 0 ||
		    writer_exec(w, c, pg_text(DB_STMT_COUNTS_ADD), 4,
		    add) < 0 ||
		    writer_exec(w, c, "COMMIT", 0, NULL) < 0)
			goto out;
		if (i % 5 == 4) {
			snprintf(serial, sizeof(serial), "%040x", id - 1);
			snprintf(other, sizeof(other), "%040x",
			    (w->n + 1) % WRITERS * 10000 + i);
			if (writer_exec(w, c,
			    pg_text(DB_STMT_CERT_REVOKE), 3, rv) < 0 ||
			    writer_exec(w, c,
			    pg_text(DB_STMT_CERT_REVOKE), 3, ro) < 0)
				goto out;
		}
		if (i % 7 == 6) {
			snprintf(other, sizeof(other), "%040x",
			    (w->n + WRITERS - 1) % WRITERS * 10000 + i - 3);
			int rows = writer_exec(w, c, "DELETE FROM "
			    "certificates WHERE serial = $1::text", 1, del);

			if (rows < 0)
				goto out;
			w->deleted += rows;
		}
	}
out:
	PQfinish(c);
	return NULL;
}

/*
 * WRITERS threads on as many connections issue, revoke and delete at
 * once: the counters are exact after (their sum, over the shards, is
 * counting the table), and more than one shard took the writes.
 */
static void
test_counts_concurrent(void **state)
{
	char *uri = pg_fixture_createdb(pg, "counts_threads");
	struct writer w[WRITERS];
	int deleted = 0;
	PGconn *c;

	(void)state;
	assert_non_null(uri);
	c = conn(uri);
	migrate(c);
	for (int i = 0; i < WRITERS; i++) {
		w[i] = (struct writer){ .uri = uri, .n = i,
		    .mark = stmt_int(c, DB_STMT_COUNTS_MARK, 0, NULL) };
		assert_int_equal(pthread_create(&w[i].tid, NULL, writer_run,
		    &w[i]), 0);
	}
	for (int i = 0; i < WRITERS; i++) {
		assert_int_equal(pthread_join(w[i].tid, NULL), 0);
		if (w[i].err[0] != '\0')
			fail_msg("%s", w[i].err);
		deleted += w[i].deleted;
	}
	assert_int_equal(sql_int(c, "SELECT count(*) FROM certificates"),
	    WRITERS * WRITER_CERTS - deleted);
	assert_true(sql_int(c, "SELECT count(*) FROM certificates "
	    "WHERE revoked_at IS NOT NULL") > 0);
	counts_agree(c, stmt_int(c, DB_STMT_COUNTS_MARK, 0, NULL));
	counts_agree(c, w[0].mark + 1100);
	assert_int_equal(sql_int(c, "SELECT sum(active) - (SELECT "
	    "coalesce(sum(n), 0) FROM cert_counts_expired) FROM cert_counts"),
	    sql_int(c, "SELECT count(*) FROM certificates WHERE revoked_at"
	    " IS NULL AND not_after >= (SELECT at FROM cert_counts_mark)"));
	assert_true(sql_int(c, "SELECT count(DISTINCT shard) "
	    "FROM cert_counts") > 1);
	PQfinish(c);
	free(uri);
}

/*
 * CRL numbers across instances: the second waits for the first's lock,
 * then its DB_STMT_CRL_MAX sees the first's number.
 */
static void
test_crl_lock(void **state)
{
	const char *crl[] = { "1", "10", "20", "", "1" };
	char *uri = pg_fixture_createdb(pg, "crl_lock");
	PGconn *a, *b;

	(void)state;
	assert_non_null(uri);
	a = conn(uri);
	b = conn(uri);
	free(uri);
	migrate(a);
	sql_ok(a, pg_text(DB_STMT_BEGIN_WRITE));
	sql_ok(b, pg_text(DB_STMT_BEGIN_WRITE));
	PQclear(stmt(a, DB_STMT_PG_CRL_LOCK, 0, NULL));
	assert_int_equal(stmt_int(a, DB_STMT_CRL_MAX, 0, NULL), 0);
	PQclear(stmt(a, DB_STMT_CRL_INSERT, 5, crl));
	assert_int_equal(PQsendQueryParams(b,
	    pg_text(DB_STMT_PG_CRL_LOCK), 0, NULL, NULL, NULL, NULL,
	    0), 1);
	assert_true(blocked(b));
	sql_ok(a, "COMMIT");
	finish_sent(b);
	assert_int_equal(stmt_int(b, DB_STMT_CRL_MAX, 0, NULL), 1);
	sql_ok(b, "COMMIT");
	PQfinish(a);
	PQfinish(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrations),
		cmocka_unit_test(test_statements_match_sqlite),
		cmocka_unit_test(test_audit_guard),
		cmocka_unit_test(test_counts_triggers),
		cmocka_unit_test(test_counts_no_deadlock),
		cmocka_unit_test(test_counts_concurrent),
		cmocka_unit_test(test_indexes_used),
		cmocka_unit_test(test_pg_locks_and_notices),
		cmocka_unit_test(test_crl_lock),
		cmocka_unit_test_teardown(test_standby_version,
		    standby_teardown),
	};

	if (!pg_fixture_available()) {
		fprintf(stderr, "PostgreSQL binaries missing: skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
