/*
 * Tests of the HTTP side of several instances (SPEC section 9) over
 * real sockets: one instance on a throwaway PostgreSQL 15 primary and
 * one on its hot standby (tests/support/pg.h).  The standby's instance
 * answers write routes with 503 read_only and Retry-After before any
 * work (a body that is not even JSON gets the same answer), serves GET
 * routes, and says read_only in /readyz and /metrics; a lost database
 * is 503 unavailable with Retry-After on every route that needs it,
 * never 500, and the instance carries on once the server is back.
 * The tests run in order (the last one kills the primary).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>
#include "api_priv.h"
#include "apifx.h"
#include "https.h"
#include "pg.h"

struct fixture {
	char			 dir[64];
	char			 crt[128], key[128];
	struct profile		 prof;
	struct svc_config	 sc;
	struct pg_fixture	*primary, *standby;
	struct svc		*p, *s;		/* on primary, standby */
	struct api		*pa, *sa;
	char			 admin[AFX_TOKEN_LEN];
	char			 pbase[AFX_URL_LEN], sbase[AFX_URL_LEN];
};

/*
 * A 503 error answer: {"error": {"code": code, "message"}} and nothing
 * else, JSON, with Retry-After retry.
 */
static void
expect_503(const struct thc_resp *r, const char *code, const char *retry)
{
	json_t *v = json_loadb(r->body, r->len, 0, NULL);
	const char *c = NULL, *m = NULL;

	assert_int_equal(r->status, 503);
	assert_non_null(v);
	assert_int_equal(json_unpack(v, "{s:{s:s,s:s!}!}", "error", "code",
	    &c, "message", &m), 0);
	assert_string_equal(c, code);
	assert_true(strlen(m) > 0);
	json_decref(v);
	assert_string_equal(thc_header(r, "Content-Type"), "application/json");
	assert_string_equal(thc_header(r, "Retry-After"), retry);
}

/* /readyz's body: status, database, scheduler_leader. */
static void
expect_readyz(const struct thc_resp *r, const char *status, const char *db,
    bool leader)
{
	json_t *v = json_loadb(r->body, r->len, 0, NULL);
	const char *s = NULL, *d = NULL;
	int ca = 0, lead = 0;

	assert_non_null(v);
	assert_int_equal(json_unpack(v, "{s:s,s:s,s:b,s:b!}", "status", &s,
	    "database", &d, "ca_key", &ca, "scheduler_leader", &lead), 0);
	assert_string_equal(s, status);
	assert_string_equal(d, db);
	assert_true(ca);
	assert_int_equal(lead != 0, leader);
	json_decref(v);
	assert_int_equal(r->status, strcmp(status, "ok") == 0 ? 200 : 503);
}

/* A series with its HELP and TYPE lines and this value. */
static void
expect_series(const struct thc_resp *r, const char *name, int value)
{
	char line[128];

	snprintf(line, sizeof(line), "# HELP %s ", name);
	assert_non_null(strstr(r->body, line));
	snprintf(line, sizeof(line), "# TYPE %s gauge\n", name);
	assert_non_null(strstr(r->body, line));
	snprintf(line, sizeof(line), "\n%s %d\n", name, value);
	assert_non_null(strstr(r->body, line));
}

static struct svc *
open_on(struct fixture *f, const char *uri)
{
	struct svc *s;
	struct err e;

	f->sc.database = uri;
	if ((s = svc_open(&f->sc, &e)) == NULL)
		fail_msg("svc_open: %s", e.msg);
	return s;
}

static struct api *
serve(struct svc *s, char *base)
{
	struct api_config ac;
	struct api *a;

	afx_api_config(&ac, 8192, 16);
	ac.public_listen = NULL;	/* the api listener only */
	a = afx_start(s, &ac);
	afx_urls(a, false, base, NULL);
	return a;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct svc_actor who;
	struct err e;
	int i;

	assert_non_null(f);
	strcpy(f->dir, "/tmp/rca-inst-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->crt, sizeof(f->crt), "%s/ca.crt", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/ca.key", f->dir);
	afx_pki(f->dir, "test-ca", 0);
	afx_svc_config(&f->sc, &f->prof, f->crt, f->key, NULL);
	if ((f->primary = pg_fixture_start()) == NULL)
		return -1;
	f->p = open_on(f, pg_fixture_uri(f->primary));
	afx_tokens(f->p, NULL, f->admin, NULL);
	svc_crl_flush(f->p);
	if ((f->standby = pg_fixture_standby(f->primary)) == NULL)
		return -1;
	f->s = open_on(f, pg_fixture_uri(f->standby));
	/* The token reaches the standby by streaming, if not copied. */
	for (i = 0; i < 100; i++) {
		svc_actor_init(&who, ACTOR_NONE);
		if (svc_auth_token(f->s, f->admin, &who, &e) == 0)
			break;
		svc_actor_clear(&who);
		usleep(100000);
	}
	assert_true(i < 100);
	svc_actor_clear(&who);
	f->pa = serve(f->p, f->pbase);
	f->sa = serve(f->s, f->sbase);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	if (f == NULL)
		return 0;
	api_stop(f->sa);
	api_stop(f->pa);
	svc_close(f->s);
	svc_close(f->p);
	pg_fixture_free(f->standby);
	pg_fixture_free(f->primary);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f->dir);
	free(f);
	return 0;
}

/*
 * The standby's instance refuses every write route with 503 read_only
 * and Retry-After 5 before reading the body (not even JSON: same
 * answer); who may not call the route still gets 401 first.
 */
static void
test_standby_refuses_writes(void **state)
{
	struct fixture *f = *state;
	struct thc_resp *r = malloc(sizeof(*r));

	assert_non_null(r);
	thc_req("POST", f->sbase, "/v1/certificates/generate", f->admin,
	    "{\"profile\":\"redis-client\",\"common_name\":\"app-1\"}", r);
	expect_503(r, "read_only", "5");
	thc_req("POST", f->sbase, "/v1/certificates", f->admin, "not json", r);
	expect_503(r, "read_only", "5");
	thc_req("POST", f->sbase, "/v1/tokens", f->admin, "{}", r);
	expect_503(r, "read_only", "5");
	thc_req("DELETE", f->sbase, "/v1/tokens/0123456789abcdef", f->admin,
	    NULL, r);
	expect_503(r, "read_only", "5");
	assert_int_equal(thc_req("POST", f->sbase, "/v1/tokens", NULL, "{}", r),
	    401);
	/* The primary's instance takes the same write. */
	assert_int_equal(thc_req("POST", f->pbase, "/v1/certificates/generate",
	    f->admin, "{\"profile\":\"redis-client\",\"common_name\":"
	    "\"app-1\"}", r), 201);
	free(r);
}

/* GET routes, CA and CRL work; /readyz and /metrics say read_only. */
static void
test_standby_reads_and_health(void **state)
{
	struct fixture *f = *state;
	struct thc_resp *r = malloc(sizeof(*r));

	assert_non_null(r);
	assert_int_equal(thc_req("GET", f->sbase, "/v1/ca.pem", NULL, NULL, r),
	    200);
	assert_int_equal(thc_req("GET", f->sbase, "/v1/crl", NULL, NULL, r),
	    200);
	assert_int_equal(thc_req("GET", f->sbase, "/v1/certificates", f->admin,
	    NULL, r), 200);
	thc_req("GET", f->sbase, "/readyz", NULL, NULL, r);
	expect_readyz(r, "read_only", "read_only", false);
	assert_string_equal(thc_header(r, "Retry-After"), "1");
	assert_int_equal(thc_req("GET", f->sbase, "/metrics", NULL, NULL, r),
	    200);
	expect_series(r, "redisca_db_up", 1);
	expect_series(r, "redisca_scheduler_leader", 0);
	assert_int_equal(thc_req("GET", f->sbase, "/healthz", NULL, NULL, r),
	    200);
	free(r);
}

/* The primary's instance: ready, and the leader after its tick. */
static void
test_primary_health(void **state)
{
	struct fixture *f = *state;
	struct thc_resp *r = malloc(sizeof(*r));

	assert_non_null(r);
	thc_req("GET", f->pbase, "/readyz", NULL, NULL, r);
	expect_readyz(r, "ok", "ok", false);
	(void)svc_tick(f->p);
	thc_req("GET", f->pbase, "/readyz", NULL, NULL, r);
	expect_readyz(r, "ok", "ok", true);
	assert_int_equal(thc_req("GET", f->pbase, "/metrics", NULL, NULL, r),
	    200);
	expect_series(r, "redisca_db_up", 1);
	expect_series(r, "redisca_scheduler_leader", 1);
	free(r);
}

/*
 * The primary is lost: writes and reads that need it are 503
 * unavailable with Retry-After 1 (never 500, never a 201), /readyz
 * says unavailable, /metrics redisca_db_up 0.  Back, the instance
 * reconnects and issues again without a restart.
 */
static void
test_unavailable(void **state)
{
	struct fixture *f = *state;
	struct thc_resp *r = malloc(sizeof(*r));
	int i;

	assert_non_null(r);
	/*
	 * A fast shutdown ends every session before it returns (after a
	 * SIGKILL of the postmaster a backend may still answer a query).
	 */
	pg_fixture_stop(f->primary);
	thc_req("POST", f->pbase, "/v1/certificates/generate", f->admin,
	    "{\"profile\":\"redis-client\",\"common_name\":\"app-2\"}", r);
	expect_503(r, "unavailable", "1");
	thc_req("GET", f->pbase, "/v1/certificates/0123456789abcdef", f->admin,
	    NULL, r);
	expect_503(r, "unavailable", "1");
	thc_req("GET", f->pbase, "/v1/certificates", f->admin, NULL, r);
	expect_503(r, "unavailable", "1");
	thc_req("GET", f->pbase, "/readyz", NULL, NULL, r);
	expect_readyz(r, "unavailable", "unavailable", true);
	assert_int_equal(thc_req("GET", f->pbase, "/metrics", NULL, NULL, r),
	    200);
	expect_series(r, "redisca_db_up", 0);

	assert_int_equal(pg_fixture_restart(f->primary), 0);
	for (i = 0; i < 50; i++) {
		if (thc_req("POST", f->pbase, "/v1/certificates/generate",
		    f->admin, "{\"profile\":\"redis-client\","
		    "\"common_name\":\"app-3\"}", r) == 201)
			break;
		expect_503(r, "unavailable", "1");
		usleep(100000);
	}
	assert_int_equal(r->status, 201);
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_standby_refuses_writes),
		cmocka_unit_test(test_standby_reads_and_health),
		cmocka_unit_test(test_primary_health),
		cmocka_unit_test(test_unavailable),
	};
	int rc;

	if (!pg_fixture_available()) {
		fprintf(stderr, "PostgreSQL binaries missing: skipped\n");
		return 77;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return rc;
}
