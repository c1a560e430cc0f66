/*
 * The PostgreSQL fixture itself (pg.h): a primary the test's role can
 * write to, a streaming standby that is read-only until promoted, a
 * stop by PID that really stops, a restart that keeps the data, and a
 * multi-host URI that finds the primary.
 */
#include <sys/stat.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <libpq-fe.h>

#include "pg.h"

static PGconn *
conn(const char *uri)
{
	PGconn *c = PQconnectdb(uri);

	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("connect %s: %s", uri, PQerrorMessage(c));
	return c;
}

/* The first value of sql's result (on c), copied into out. */
static void
query1(PGconn *c, const char *sql, char *out, size_t len)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	snprintf(out, len, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
}

/* sql's status on c, and its SQLSTATE in state (empty when none). */
static ExecStatusType
exec_state(PGconn *c, const char *sql, char *state, size_t len)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);

	snprintf(state, len, "%s", s != NULL ? s : "");
	PQclear(r);
	return st;
}

static void
exec_ok(PGconn *c, const char *sql)
{
	char state[8];

	if (exec_state(c, sql, state, sizeof(state)) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
}

/* Wait (bounded) until the standby has replayed n rows of t. */
static void
wait_rows(const char *uri, const char *n)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	char v[32] = "";
	PGconn *c = conn(uri);
	int i;

	for (i = 0; i < 1500; i++) {
		query1(c, "SELECT count(*) FROM t", v, sizeof(v));
		if (strcmp(v, n) == 0)
			break;
		nanosleep(&pause, NULL);
	}
	assert_string_equal(v, n);
	PQfinish(c);
}

static void
test_primary(void **state)
{
	struct pg_fixture *f = pg_fixture_start();
	struct stat st;
	char v[64], *uri;
	PGconn *c;
	pid_t pid;

	(void)state;
	assert_non_null(f);
	assert_true(pg_fixture_port(f) > 0);
	assert_int_not_equal(pg_fixture_port(f), 5432);
	assert_non_null(strstr(pg_fixture_uri(f), "@127.0.0.1:"));
	c = conn(pg_fixture_uri(f));
	query1(c, "SELECT current_user", v, sizeof(v));
	assert_string_equal(v, "rca");
	/* The test's role owns its database but is no superuser. */
	query1(c, "SELECT rolsuper FROM pg_roles WHERE rolname = 'rca'", v,
	    sizeof(v));
	assert_string_equal(v, "f");
	query1(c, "SHOW listen_addresses", v, sizeof(v));
	assert_string_equal(v, "127.0.0.1");
	query1(c, "SHOW server_version_num", v, sizeof(v));
	assert_int_equal(atoi(v) / 10000, 15);
	exec_ok(c, "CREATE TABLE t (x bigint)");
	exec_ok(c, "INSERT INTO t VALUES (1)");
	PQfinish(c);

	uri = pg_fixture_createdb(f, "other_db");
	assert_non_null(uri);
	c = conn(uri);
	query1(c, "SELECT current_database()", v, sizeof(v));
	assert_string_equal(v, "other_db");
	PQfinish(c);
	free(uri);
	assert_null(pg_fixture_createdb(f, "bad; DROP"));

	/* Stopped by PID: gone, and no longer answering. */
	pid = pg_fixture_pid(f);
	assert_true(pid > 0);
	pg_fixture_stop(f);
	assert_int_equal(pg_fixture_pid(f), 0);
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	assert_int_equal(PQping(pg_fixture_uri(f)), PQPING_NO_RESPONSE);

	/* Restarted on the same port and data, the row is still there. */
	assert_int_equal(pg_fixture_restart(f), 0);
	c = conn(pg_fixture_uri(f));
	query1(c, "SELECT sum(x) FROM t", v, sizeof(v));
	assert_string_equal(v, "1");
	PQfinish(c);

	/* Freed: the folder is gone. */
	snprintf(v, sizeof(v), "%s", pg_fixture_dir(f));
	pg_fixture_free(f);
	assert_int_equal(stat(v, &st), -1);
}

static void
test_standby(void **state)
{
	struct pg_fixture *p = pg_fixture_start(), *s;
	char v[64], err[8], multi[256];
	PGconn *c;

	(void)state;
	assert_non_null(p);
	c = conn(pg_fixture_uri(p));
	exec_ok(c, "CREATE TABLE t (x bigint)");
	exec_ok(c, "INSERT INTO t VALUES (1)");
	s = pg_fixture_standby(p);
	assert_non_null(s);
	assert_int_not_equal(pg_fixture_port(s), pg_fixture_port(p));

	/* Streaming: a later row reaches the standby. */
	exec_ok(c, "INSERT INTO t VALUES (2)");
	wait_rows(pg_fixture_uri(s), "2");
	/* Caught up: a row committed before the call is there after. */
	exec_ok(c, "INSERT INTO t VALUES (3)");
	PQfinish(c);
	assert_int_equal(pg_fixture_catch_up(p, s), 0);
	c = conn(pg_fixture_uri(s));
	query1(c, "SELECT count(*) FROM t", v, sizeof(v));
	assert_string_equal(v, "3");
	PQfinish(c);

	/* Read-only: 25006 read_only_sql_transaction. */
	c = conn(pg_fixture_uri(s));
	query1(c, "SELECT pg_is_in_recovery()", v, sizeof(v));
	assert_string_equal(v, "t");
	assert_int_equal(exec_state(c, "INSERT INTO t VALUES (4)", err,
	    sizeof(err)), PGRES_FATAL_ERROR);
	assert_string_equal(err, "25006");
	PQfinish(c);

	/* A multi-host URI asking for read-write finds the primary. */
	snprintf(multi, sizeof(multi), "postgresql://rca@127.0.0.1:%d,"
	    "127.0.0.1:%d/rca?target_session_attrs=read-write",
	    pg_fixture_port(s), pg_fixture_port(p));
	c = conn(multi);
	assert_int_equal(atoi(PQport(c)), pg_fixture_port(p));
	PQfinish(c);

	/* The primary crashes; the standby, promoted, takes writes. */
	pg_fixture_kill(p);
	assert_int_equal(pg_fixture_promote(s), 0);
	c = conn(multi);
	assert_int_equal(atoi(PQport(c)), pg_fixture_port(s));
	exec_ok(c, "INSERT INTO t VALUES (4)");
	query1(c, "SELECT count(*) FROM t", v, sizeof(v));
	assert_string_equal(v, "4");
	PQfinish(c);
	pg_fixture_free(s);
	pg_fixture_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_primary),
		cmocka_unit_test(test_standby),
	};

	if (!pg_fixture_available()) {
		fprintf(stderr, "PostgreSQL binaries missing: skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
