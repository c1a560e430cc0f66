/*
 * This test's database (testdb.h): a SQLite file or a new database on
 * the test program's throwaway PostgreSQL, and the few ways a test
 * reaches it behind the service's back, in either dialect.
 */
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

#include "pg.h"
#include "testdb.h"

#define TDB_ROWS_MAX	(1 << 20)	/* tdb_rows()'s text, at most */

/* The program's PostgreSQL server, started on first use. */
static struct pg_fixture *tdb_pgf;

bool
tdb_is_pg(void)
{
	const char *v = getenv("RCA_TEST_DB");

	return v != NULL && strcmp(v, "pg") == 0;
}

static void
tdb_pg_stop(void)
{
	pg_fixture_free(tdb_pgf);
	tdb_pgf = NULL;
}

static struct pg_fixture *
tdb_pg_server(void)
{
	if (tdb_pgf != NULL)
		return tdb_pgf;
	if (!pg_fixture_available()) {
		fprintf(stderr, "PostgreSQL binaries missing: skipped\n");
		exit(77);
	}
	if ((tdb_pgf = pg_fixture_start()) != NULL)
		atexit(tdb_pg_stop);
	return tdb_pgf;
}

int
tdb_database(const char *dir, const char *file, char *out, size_t len)
{
	static int n;
	struct pg_fixture *f;
	char name[32], *uri;
	int w;

	if (!tdb_is_pg()) {
		w = snprintf(out, len, "%s/%s", dir, file);
		return w < 0 || (size_t)w >= len ? -1 : 0;
	}
	if ((f = tdb_pg_server()) == NULL)
		return -1;
	snprintf(name, sizeof(name), "t%d_%d", (int)getpid(), ++n);
	if ((uri = pg_fixture_createdb(f, name)) == NULL)
		return -1;
	w = snprintf(out, len, "%s", uri);
	free(uri);
	if (w < 0 || (size_t)w >= len) {
		fprintf(stderr, "tdb_database: URI too long\n");
		return -1;
	}
	return 0;
}

/*
 * Is db a PostgreSQL database: the program's (RCA_TEST_DB=pg), or a
 * URI a test made on a server of its own?
 */
static bool
tdb_db_is_pg(const char *db)
{
	return tdb_is_pg() || strncmp(db, "postgresql://", 13) == 0;
}

static PGconn *
tdb_pg_connect(const char *db)
{
	PGconn *pc = PQconnectdb(db);

	if (PQstatus(pc) != CONNECTION_OK)
		fail_msg("%s: %s", db, PQerrorMessage(pc));
	return pc;
}

static sqlite3 *
tdb_sqlite_open(const char *db)
{
	sqlite3 *h = NULL;

	if (sqlite3_open(db, &h) != SQLITE_OK)
		fail_msg("%s: %s", db, sqlite3_errmsg(h));
	/* The service may be writing: wait for it as any writer would. */
	assert_int_equal(sqlite3_busy_timeout(h, 30000), SQLITE_OK);
	return h;
}

void
tdb_exec(const char *db, const char *sqlite, const char *pg)
{
	sqlite3 *h;
	PGconn *pc;
	PGresult *r;
	const char *q = pg != NULL ? pg : sqlite;

	if (tdb_db_is_pg(db)) {
		pc = tdb_pg_connect(db);
		r = PQexec(pc, q);
		if (PQresultStatus(r) != PGRES_COMMAND_OK &&
		    PQresultStatus(r) != PGRES_TUPLES_OK)
			fail_msg("%s: %s", q, PQresultErrorMessage(r));
		PQclear(r);
		PQfinish(pc);
		return;
	}
	h = tdb_sqlite_open(db);
	if (sqlite3_exec(h, sqlite, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sqlite, sqlite3_errmsg(h));
	sqlite3_close(h);
}

/* Append " "/"\n" and v to out (TDB_ROWS_MAX bytes), failing when full. */
static void
tdb_add(char *out, size_t *used, char sep, const char *v)
{
	int w;

	w = snprintf(out + *used, TDB_ROWS_MAX - *used, "%c%s", sep,
	    v != NULL ? v : "NULL");
	if (w < 0 || (size_t)w >= TDB_ROWS_MAX - *used)
		fail_msg("tdb_rows: more than %d bytes", TDB_ROWS_MAX);
	*used += (size_t)w;
}

char *
tdb_rows(const char *db, const char *sqlite, const char *pg)
{
	sqlite3 *h;
	sqlite3_stmt *st = NULL;
	PGconn *pc;
	PGresult *r;
	char *out;
	size_t used = 0;
	int rc;

	assert_non_null(out = malloc(TDB_ROWS_MAX));
	out[0] = '\0';
	if (tdb_db_is_pg(db)) {
		pc = tdb_pg_connect(db);
		r = PQexec(pc, pg != NULL ? pg : sqlite);
		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			fail_msg("%s: %s", pg != NULL ? pg : sqlite,
			    PQresultErrorMessage(r));
		for (int i = 0; i < PQntuples(r); i++)
			for (int j = 0; j < PQnfields(r); j++)
				tdb_add(out, &used, j == 0 ? '\n' : ' ',
				    PQgetisnull(r, i, j) ? NULL :
				    PQgetvalue(r, i, j));
		PQclear(r);
		PQfinish(pc);
		return out;
	}
	h = tdb_sqlite_open(db);
	if (sqlite3_prepare_v2(h, sqlite, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sqlite, sqlite3_errmsg(h));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		for (int j = 0; j < sqlite3_column_count(st); j++)
			tdb_add(out, &used, j == 0 ? '\n' : ' ',
			    (const char *)sqlite3_column_text(st, j));
	if (rc != SQLITE_DONE)
		fail_msg("%s: %s", sqlite, sqlite3_errmsg(h));
	sqlite3_finalize(st);
	sqlite3_close(h);
	return out;
}

/* PostgreSQL: every table of the schema, each read in binary format. */
static bool
tdb_pg_contains(const char *db, const char *needle)
{
	PGconn *pc = tdb_pg_connect(db);
	PGresult *tables, *r;
	char sql[256];
	bool found = false;

	tables = PQexec(pc, "SELECT quote_ident(tablename) FROM pg_tables "
	    "WHERE schemaname = current_schema()");
	if (PQresultStatus(tables) != PGRES_TUPLES_OK)
		fail_msg("tables: %s", PQresultErrorMessage(tables));
	for (int t = 0; !found && t < PQntuples(tables); t++) {
		snprintf(sql, sizeof(sql), "SELECT * FROM %s",
		    PQgetvalue(tables, t, 0));
		/* Binary results: text and bytea columns as stored. */
		r = PQexecParams(pc, sql, 0, NULL, NULL, NULL, NULL, 1);
		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			fail_msg("%s: %s", sql, PQresultErrorMessage(r));
		for (int i = 0; !found && i < PQntuples(r); i++)
			for (int j = 0; j < PQnfields(r); j++)
				if (memmem(PQgetvalue(r, i, j),
				    (size_t)PQgetlength(r, i, j), needle,
				    strlen(needle)) != NULL)
					found = true;
		PQclear(r);
	}
	PQclear(tables);
	PQfinish(pc);
	return found;
}

bool
tdb_contains(const char *db, const char *needle)
{
	sqlite3 *h;
	sqlite3_stmt *tables = NULL, *rows;
	bool found = false;
	char sql[256];

	if (tdb_db_is_pg(db))
		return tdb_pg_contains(db, needle);
	h = tdb_sqlite_open(db);
	assert_int_equal(sqlite3_prepare_v2(h, "SELECT name FROM "
	    "sqlite_master WHERE type = 'table'", -1, &tables, NULL),
	    SQLITE_OK);
	while (!found && sqlite3_step(tables) == SQLITE_ROW) {
		snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\"",
		    (const char *)sqlite3_column_text(tables, 0));
		assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &rows,
		    NULL), SQLITE_OK);
		while (!found && sqlite3_step(rows) == SQLITE_ROW)
			for (int i = 0; i < sqlite3_column_count(rows); i++) {
				const void *b = sqlite3_column_blob(rows, i);
				int len = sqlite3_column_bytes(rows, i);

				if (b != NULL && memmem(b, (size_t)len,
				    needle, strlen(needle)) != NULL)
					found = true;
			}
		sqlite3_finalize(rows);
	}
	sqlite3_finalize(tables);
	sqlite3_close(h);
	return found;
}

void *
tdb_lock(const char *db)
{
	sqlite3 *h;
	PGconn *pc;
	PGresult *r;
	char sql[1024];

	if (!tdb_is_pg()) {
		h = tdb_sqlite_open(db);
		assert_int_equal(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL,
		    NULL, NULL), SQLITE_OK);
		return h;
	}
	pc = tdb_pg_connect(db);
	r = PQexec(pc, "SELECT string_agg(quote_ident(tablename), ', ') "
	    "FROM pg_tables WHERE schemaname = current_schema()");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		fail_msg("tables: %s", PQresultErrorMessage(r));
	snprintf(sql, sizeof(sql), "BEGIN; LOCK TABLE %s IN EXCLUSIVE MODE",
	    PQgetvalue(r, 0, 0));
	PQclear(r);
	r = PQexec(pc, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	return pc;
}

void
tdb_unlock(void *lk)
{
	PGresult *r;

	if (!tdb_is_pg()) {
		assert_int_equal(sqlite3_exec(lk, "ROLLBACK", NULL, NULL,
		    NULL), SQLITE_OK);
		assert_int_equal(sqlite3_close(lk), SQLITE_OK);
		return;
	}
	r = PQexec(lk, "ROLLBACK");
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	PQfinish(lk);
}
