/*
 * db/drv_pg.c when the server goes away between connecting and setting
 * the client encoding (a failover's moment, which a loaded failover test
 * hit): the database is unavailable (ERR_UNAVAILABLE, 503), not in
 * error (ERR_DB, 500).  PQsetClientEncoding is wrapped to stop the
 * server first.  PostgreSQL only: skipped (77) without its binaries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "db.h"
#include "pg.h"

int	__real_PQsetClientEncoding(PGconn *conn, const char *encoding);
int	__wrap_PQsetClientEncoding(PGconn *conn, const char *encoding);

static struct pg_fixture *srv;
static bool stop_first;

int
__wrap_PQsetClientEncoding(PGconn *conn, const char *encoding)
{
	if (stop_first) {
		stop_first = false;
		pg_fixture_stop(srv);
	}
	return __real_PQsetClientEncoding(conn, encoding);
}

static void
test_lost_before_encoding(void **state)
{
	struct err e = { 0 };
	struct db *db;

	(void)state;
	assert_non_null(srv = pg_fixture_start());
	stop_first = true;
	db = db_open(pg_fixture_uri(srv), &e);
	assert_false(stop_first);
	assert_null(db);
	assert_int_equal(e.code, ERR_UNAVAILABLE);
	/* Once the server is back the same URI opens. */
	assert_int_equal(pg_fixture_restart(srv), 0);
	err_clear(&e);
	assert_non_null(db = db_open(pg_fixture_uri(srv), &e));
	db_close(db);
	pg_fixture_free(srv);
	srv = NULL;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lost_before_encoding),
	};

	if (!pg_fixture_available()) {
		fprintf(stderr, "PostgreSQL binaries missing: skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
