/*
 * Tests of the public listener's pool (api/server.c): requests whose
 * handlers wait (here /readyz, held by another process's write lock on
 * the database) never starve /healthz.  A real service (a throwaway CA
 * made by the openssl command line, SQLite in a temp folder) behind
 * both listeners on 127.0.0.1, libcurl as the client.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "api_priv.h"
#include "apifx.h"
#include "https.h"
#include "testdb.h"

/* Slow requests at once: many more than the api pool's two threads. */
#define SLOW	12

struct fixture {
	struct afx	 x;		/* first: afx_teardown() */
	char		 db[256];	/* file, or URI on PostgreSQL */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct profile prof;
	struct svc_config sc;
	struct api_config ac;
	char crt[128], key[128];

	assert_non_null(f);
	afx_mkdir(&f->x, "/tmp/rca-pool-XXXXXX");
	afx_pki(f->x.dir, "test-ca", 0);
	snprintf(crt, sizeof(crt), "%s/ca.crt", f->x.dir);
	snprintf(key, sizeof(key), "%s/ca.key", f->x.dir);
	if (tdb_database(f->x.dir, "rca.db", f->db, sizeof(f->db)) == -1)
		fail_msg("the test's database");
	afx_svc_config(&sc, &prof, crt, key, f->db);
	afx_open(&f->x, &sc, NULL);
	afx_api_config(&ac, 8192, 256);
	afx_serve(&f->x, &ac);
	*state = f;
	return 0;
}

/* GET url on a new connection; the status, or 0 on a transport error. */
static long
get(const char *url, long timeout_ms)
{
	struct thc_req q = { .url = url, .timeout_ms = timeout_ms,
	    .no_reuse = true };
	struct thc_resp *r = thc_resp_new();
	long status = 0;

	if (thc_perform(NULL, &q, r) == CURLE_OK)
		status = r->status;
	free(r);
	return status;
}

struct slow {
	pthread_t	 th;
	char		 url[128];
	long		 status;
};

static void *
slow_get(void *p)
{
	struct slow *s = p;

	s->status = get(s->url, 60000);
	return NULL;
}

/*
 * Another process holds the database's write lock, so every /readyz
 * waits inside its handler (db_ping, up to the busy timeout of five
 * seconds each, one after the other).  With SLOW of them on the public
 * listener, each holding a pool thread, /healthz on a new connection
 * still answers before the first /readyz could have given up: the
 * public pool is larger than the api's two threads (with two, this
 * /healthz waits for the lock to go).  Then the lock goes and every /readyz
 * answers.
 */
static void
test_healthz_not_starved(void **state)
{
	struct fixture *f = *state;
	struct slow slow[SLOW];
	char url[128];
	sqlite3 *h = NULL;
	long st = 0;

	/*
	 * On PostgreSQL /readyz takes no table lock (db_state() asks the
	 * server's state), so no lock of another session makes it slow.
	 */
	TDB_SQLITE_ONLY("a slow /readyz is SQLite's busy wait");
	assert_int_equal(sqlite3_open(f->db, &h), SQLITE_OK);
	/*
	 * The service may still be writing (the first CRL's persister, up
	 * to a second after svc_open under ASan): wait for it like any
	 * other writer would.
	 */
	assert_int_equal(sqlite3_busy_timeout(h, 30000), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL),
	    SQLITE_OK);
	for (int i = 0; i < SLOW; i++) {
		snprintf(slow[i].url, sizeof(slow[i].url), "%s/readyz",
		    f->x.pub);
		assert_int_equal(pthread_create(&slow[i].th, NULL, slow_get,
		    &slow[i]), 0);
		/*
		 * One at a time: only an idle pool thread accepts, so each
		 * slow request holds a thread of its own.
		 */
		usleep(50000);
	}
	usleep(200000);
	snprintf(url, sizeof(url), "%s/healthz", f->x.pub);
	/* A generous deadline, still short of the first busy timeout. */
	for (int i = 0; i < 2 && st != 200; i++)
		st = get(url, 1500);
	assert_int_equal(st, 200);
	assert_int_equal(sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(h);
	for (int i = 0; i < SLOW; i++) {
		assert_int_equal(pthread_join(slow[i].th, NULL), 0);
		/* The first may have timed out (503) before the lock went. */
		assert_true(slow[i].status == 200 || slow[i].status == 503);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_healthz_not_starved,
		    setup, afx_teardown),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
