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
#include <curl/curl.h>
#include <sqlite3.h>

#include "api_priv.h"
#include "testdb.h"

/* Slow requests at once: many more than the api pool's two threads. */
#define SLOW	12

struct fixture {
	char		 dir[64];
	char		 db[256];	/* file, or URI on PostgreSQL */
	struct svc	*svc;
	struct api	*api;
	char		 pub[64];	/* http://127.0.0.1:<public port> */
};

static void
sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct profile prof = { 0 };
	struct svc_config sc = { 0 };
	struct api_config ac = { 0 };
	char crt[128], key[128];
	struct err e;

	assert_non_null(f);
	strcpy(f->dir, "/tmp/rca-pool-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	sh("cd %s && openssl req -x509 -newkey ec -pkeyopt "
	    "ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt "
	    "-days 30 -subj /CN=test-ca -addext "
	    "basicConstraints=critical,CA:TRUE,pathlen:0 -addext "
	    "keyUsage=critical,keyCertSign,cRLSign 2>/dev/null && "
	    "chmod 0400 ca.key", f->dir);
	snprintf(crt, sizeof(crt), "%s/ca.crt", f->dir);
	snprintf(key, sizeof(key), "%s/ca.key", f->dir);
	if (tdb_database(f->dir, "rca.db", f->db, sizeof(f->db)) == -1)
		fail_msg("the test's database");
	strcpy(prof.name, "redis-client");
	prof.eku = EKU_CLIENT_AUTH;
	prof.default_ttl = 3600;
	prof.max_ttl = 86400;
	prof.key_types = KEY_BIT(KEY_EC_P256);
	sc.ca_cert = crt;
	sc.ca_key = key;
	sc.database = f->db;
	sc.public_url = "http://127.0.0.1:1";
	sc.crl_validity = 86400;
	sc.crl_refresh_before = 3600;
	sc.rotation_check_interval = 60;
	sc.rotation_renew_before_pct = 33;
	sc.profiles = &prof;
	sc.nprofiles = 1;
	if ((f->svc = svc_open(&sc, &e)) == NULL)
		fail_msg("svc_open: %s", e.msg);
	ac.api_listen = "127.0.0.1:0";
	ac.public_listen = "127.0.0.1:0";
	ac.max_body_bytes = 8192;
	ac.max_connections = 256;
	ac.threads = 2;
	if ((f->api = api_start(f->svc, &ac, &e)) == NULL)
		fail_msg("api_start: %s", e.msg);
	snprintf(f->pub, sizeof(f->pub), "http://127.0.0.1:%u",
	    api_public_port(f->api));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	api_stop(f->api);
	svc_close(f->svc);
	sh("rm -rf %s", f->dir);
	free(f);
	return 0;
}

static size_t
discard(char *p, size_t sz, size_t n, void *u)
{
	(void)p;
	(void)u;
	return sz * n;
}

/* GET url on a new connection; the status, or 0 on a transport error. */
static long
get(const char *url, long timeout_ms)
{
	CURL *c = curl_easy_init();
	long status = 0;

	assert_non_null(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
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
		    f->pub);
		assert_int_equal(pthread_create(&slow[i].th, NULL, slow_get,
		    &slow[i]), 0);
		/*
		 * One at a time: only an idle pool thread accepts, so each
		 * slow request holds a thread of its own.
		 */
		usleep(50000);
	}
	usleep(200000);
	snprintf(url, sizeof(url), "%s/healthz", f->pub);
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
		    setup, teardown),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
