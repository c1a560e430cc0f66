/*
 * "This test's database", for the tests above db/ (service, api): a
 * SQLite file in the test's folder by default, or with RCA_TEST_DB=pg
 * (the *_pg suites) a new database on one throwaway PostgreSQL 15 per
 * test program (pg.h), started on first use and stopped at exit.  The
 * few helpers that reach the database behind the service's back (raw
 * SQL, a scan of every stored byte, another session's write lock) do
 * it in the test's dialect.  Link with test_db_dep.  Not thread-safe:
 * call from the test's main thread.
 */
#ifndef RCA_TEST_TESTDB_H
#define RCA_TEST_TESTDB_H

#include <stdbool.h>
#include <stddef.h>

/* Does this run test PostgreSQL (RCA_TEST_DB=pg)? */
bool	tdb_is_pg(void);

/*
 * Skip the calling cmocka test on PostgreSQL, saying why on stderr:
 * for tests that are inherently SQLite (a file, its lock, its journal).
 */
#define TDB_SQLITE_ONLY(why) do {					\
	if (tdb_is_pg()) {						\
		fprintf(stderr, "SQLite only (%s): skipped\n", (why));	\
		skip();							\
	}								\
} while (0)

/*
 * The test's "database" setting into out (len bytes): dir/file on
 * SQLite; on PostgreSQL the URI of a new, empty database (the
 * program's server started on first use; exits 77, skipped, when the
 * PostgreSQL binaries are missing).  0, or -1 with the reason on
 * stderr.
 */
int	tdb_database(const char *dir, const char *file, char *out,
	    size_t len);

/*
 * In tdb_exec(), tdb_rows() and tdb_contains(), db is a SQLite path, or
 * a PostgreSQL URI ("postgresql://...": the program's database under
 * RCA_TEST_DB=pg, or one on a server the test started itself).
 *
 * Run sql (one statement, or several on SQLite) on database db as
 * another session; fails the test on an error.  sqlite and pg are the
 * same statement in each dialect (pg NULL: the same as sqlite).
 */
void	tdb_exec(const char *db, const char *sqlite, const char *pg);

/*
 * New (free()): every row of the query, each as "\n" and its columns
 * in text separated by one space (SQLite's text of a value, libpq's
 * text format).  Fails the test on an error.
 */
char	*tdb_rows(const char *db, const char *sqlite, const char *pg);

/* Does any column of any row of any table hold the bytes needle? */
bool	tdb_contains(const char *db, const char *needle);

/*
 * Another session holding the database's write lock until
 * tdb_unlock(): BEGIN IMMEDIATE on SQLite; on PostgreSQL a transaction
 * holding every table of the schema in EXCLUSIVE mode (reads go on,
 * writes wait).  Returns the session (sqlite3 * or PGconn *).
 */
void	*tdb_lock(const char *db);
void	 tdb_unlock(void *lk);

#endif
