/* Tests of api/routes.c: the route table and the path matcher. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api_priv.h"

static const struct api_route *table;
static size_t ntable;

static enum api_match
match(bool pub, const char *method, const char *path,
    const struct api_route **rt, struct api_params *pp, char *allow)
{
	return api_route_match(table, ntable, pub, method, path, rt, pp,
	    allow, 64);
}

static void
expect_route(bool pub, const char *method, const char *path,
    const char *pattern, const char *param)
{
	const struct api_route *rt = NULL;
	struct api_params pp;
	char allow[64];

	assert_int_equal(match(pub, method, path, &rt, &pp, allow),
	    MATCH_FOUND);
	assert_non_null(rt);
	assert_string_equal(rt->path, pattern);
	assert_string_equal(api_method_name(rt->method),
	    strcmp(method, "HEAD") == 0 ? "GET" : method);
	if (param != NULL) {
		assert_int_equal(pp.n, 1);
		assert_string_equal(pp.v[0], param);
	} else {
		assert_int_equal(pp.n, 0);
	}
}

static void
test_literal_routes(void **state)
{
	(void)state;
	expect_route(false, "POST", "/v1/certificates", "/v1/certificates",
	    NULL);
	expect_route(false, "GET", "/v1/certificates", "/v1/certificates",
	    NULL);
	expect_route(false, "POST", "/v1/certificates/generate",
	    "/v1/certificates/generate", NULL);
	expect_route(false, "GET", "/healthz", "/healthz", NULL);
	expect_route(false, "HEAD", "/v1/crl", "/v1/crl", NULL);
	expect_route(false, "GET", "/v1/audit", "/v1/audit", NULL);
}

static void
test_path_params(void **state)
{
	(void)state;
	expect_route(false, "GET", "/v1/certificates/5f3a", 
	    "/v1/certificates/{serial}", "5f3a");
	expect_route(false, "POST", "/v1/certificates/abc/revoke",
	    "/v1/certificates/{serial}/revoke", "abc");
	expect_route(false, "GET", "/v1/tokens/0123456789abcdef",
	    "/v1/tokens/{id}", "0123456789abcdef");
	expect_route(false, "DELETE", "/v1/tokens/42", "/v1/tokens/{id}",
	    "42");
}

static void
test_serial_any_case(void **state)
{
	(void)state;
	/* The matcher keeps the case; handlers normalise with hex.h. */
	expect_route(false, "GET", "/v1/certificates/5F3Aab",
	    "/v1/certificates/{serial}", "5F3Aab");
	expect_route(false, "GET", "/v1/certificates/ABCDEF.pem",
	    "/v1/certificates/{serial}.pem", "ABCDEF");
}

static void
test_pem_suffix(void **state)
{
	(void)state;
	expect_route(false, "GET", "/v1/certificates/abc.pem",
	    "/v1/certificates/{serial}.pem", "abc");
	/* ".pem" alone has no serial: the bare parameter takes it. */
	expect_route(false, "GET", "/v1/certificates/.pem",
	    "/v1/certificates/{serial}", ".pem");
	expect_route(false, "GET", "/v1/ca.pem", "/v1/ca.pem", NULL);
	expect_route(false, "GET", "/v1/crl.pem", "/v1/crl.pem", NULL);
}

static void
test_not_found(void **state)
{
	const struct api_route *rt;
	struct api_params pp;
	char allow[64];

	(void)state;
	assert_int_equal(match(false, "GET", "/nope", &rt, &pp, allow),
	    MATCH_NOT_FOUND);
	assert_int_equal(match(false, "GET", "/v1/certificates/", &rt, &pp,
	    allow), MATCH_NOT_FOUND);
	assert_int_equal(match(false, "GET", "/v1/certificates/a/b", &rt,
	    &pp, allow), MATCH_NOT_FOUND);
	assert_int_equal(match(false, "GET", "/v1/certificatesx", &rt, &pp,
	    allow), MATCH_NOT_FOUND);
	assert_int_equal(match(false, "GET", "", &rt, &pp, allow),
	    MATCH_NOT_FOUND);
	assert_int_equal(match(false, "GET", "healthz", &rt, &pp, allow),
	    MATCH_NOT_FOUND);
	assert_int_equal(match(false, "GET", "/healthz/", &rt, &pp, allow),
	    MATCH_NOT_FOUND);
	assert_null(rt);
}

static void
test_bad_method_allow(void **state)
{
	const struct api_route *rt;
	struct api_params pp;
	char allow[64];

	(void)state;
	assert_int_equal(match(false, "PUT", "/v1/certificates", &rt, &pp,
	    allow), MATCH_BAD_METHOD);
	assert_null(rt);
	assert_string_equal(allow, "POST, GET");
	assert_int_equal(match(false, "POST", "/v1/tokens/abc", &rt, &pp,
	    allow), MATCH_BAD_METHOD);
	assert_string_equal(allow, "GET, DELETE");
	assert_int_equal(match(false, "GET", "/v1/certificates/generate", &rt,
	    &pp, allow), MATCH_BAD_METHOD);
	assert_string_equal(allow, "POST");
	assert_int_equal(match(false, "DELETE", "/healthz", &rt, &pp, allow),
	    MATCH_BAD_METHOD);
	assert_string_equal(allow, "GET");
	assert_int_equal(match(false, "GET", "/v1/certificates/ab/revoke",
	    &rt, &pp, allow), MATCH_BAD_METHOD);
	assert_string_equal(allow, "POST");
}

static void
test_public_listener(void **state)
{
	const struct api_route *rt;
	struct api_params pp;
	char allow[64];

	(void)state;
	expect_route(true, "GET", "/healthz", "/healthz", NULL);
	expect_route(true, "GET", "/readyz", "/readyz", NULL);
	expect_route(true, "GET", "/metrics", "/metrics", NULL);
	expect_route(true, "GET", "/v1/ca", "/v1/ca", NULL);
	expect_route(true, "GET", "/v1/ca.pem", "/v1/ca.pem", NULL);
	expect_route(true, "GET", "/v1/crl", "/v1/crl", NULL);
	expect_route(true, "GET", "/v1/crl.pem", "/v1/crl.pem", NULL);
	/* Authenticated routes do not exist there, whatever the method. */
	assert_int_equal(match(true, "POST", "/v1/certificates", &rt, &pp,
	    allow), MATCH_NOT_FOUND);
	assert_int_equal(match(true, "GET", "/v1/certificates", &rt, &pp,
	    allow), MATCH_NOT_FOUND);
	assert_int_equal(match(true, "GET", "/v1/tokens/ab", &rt, &pp,
	    allow), MATCH_NOT_FOUND);
	assert_int_equal(match(true, "GET", "/v1/audit", &rt, &pp, allow),
	    MATCH_NOT_FOUND);
	assert_int_equal(match(true, "POST", "/v1/crl", &rt, &pp, allow),
	    MATCH_BAD_METHOD);
	assert_string_equal(allow, "GET");
}

/*
 * The CA lifecycle's routes: the bundle and the per-CA CRLs are public
 * (both listeners); the phases are admin POSTs on the api listener only,
 * with their audit actions and small body caps.
 */
static void
test_ca_routes(void **state)
{
	const struct api_route *rt = NULL;
	struct api_params pp;
	char allow[64], ski[API_PARAM_MAX];
	static const char *const phases[] = { "/v1/ca/prepare",
	    "/v1/ca/activate", "/v1/ca/retire" };
	static const char *const actions[] = { "ca.prepare", "ca.activate",
	    "ca.retire" };

	(void)state;
	expect_route(true, "GET", "/v1/ca/bundle.pem", "/v1/ca/bundle.pem",
	    NULL);
	expect_route(true, "HEAD", "/v1/ca/bundle.pem", "/v1/ca/bundle.pem",
	    NULL);
	expect_route(true, "GET", "/v1/crl/ab01", "/v1/crl/{ski}", "ab01");
	expect_route(true, "GET", "/v1/crl/ab01.pem", "/v1/crl/{ski}.pem",
	    "ab01");
	expect_route(true, "GET", "/v1/crl.pem", "/v1/crl.pem", NULL);
	/* A 128-digit SKI fits a path parameter. */
	memset(ski, 'f', 128);
	ski[128] = '\0';
	{
		char path[API_PARAM_MAX + 16];

		snprintf(path, sizeof(path), "/v1/crl/%s", ski);
		expect_route(true, "GET", path, "/v1/crl/{ski}", ski);
	}
	for (size_t i = 0; i < 3; i++) {
		expect_route(false, "POST", phases[i], phases[i], NULL);
		assert_int_equal(match(false, "POST", phases[i], &rt, &pp,
		    allow), MATCH_FOUND);
		assert_int_equal(rt->auth, AUTH_ADMIN);
		assert_string_equal(rt->action, actions[i]);
		assert_false(rt->public);
		assert_true(rt->max_body > 0 && rt->max_body <= 64 * 1024);
		assert_int_equal(match(true, "POST", phases[i], &rt, &pp,
		    allow), MATCH_NOT_FOUND);
		assert_int_equal(match(false, "GET", phases[i], &rt, &pp,
		    allow), MATCH_BAD_METHOD);
		assert_string_equal(allow, "POST");
	}
	assert_int_equal(match(false, "POST", "/v1/ca/bundle.pem", &rt, &pp,
	    allow), MATCH_BAD_METHOD);
}

/* SPEC section 11: groups and the pull report. */
static void
test_fleet_routes(void **state)
{
	const struct api_route *rt;
	struct api_params pp;
	char allow[64];

	(void)state;
	expect_route(false, "GET", "/v1/groups", "/v1/groups", NULL);
	expect_route(false, "POST", "/v1/groups/cache-1/rotate",
	    "/v1/groups/{group}/rotate", "cache-1");
	expect_route(false, "POST", "/v1/nodes/report", "/v1/nodes/report",
	    NULL);
	/* Other nodes are still {name}. */
	expect_route(false, "GET", "/v1/nodes/reporter",
	    "/v1/nodes/{name}", "reporter");
	/* The literal wins: "report" is no node's name (reserved). */
	assert_int_equal(match(false, "GET", "/v1/nodes/report", &rt, &pp,
	    allow), MATCH_BAD_METHOD);
	assert_string_equal(allow, "POST");
	assert_int_equal(match(false, "GET", "/v1/groups/g/rotate", &rt, &pp,
	    allow), MATCH_BAD_METHOD);
	assert_string_equal(allow, "POST");
	assert_int_equal(match(false, "GET", "/v1/groups/g", &rt, &pp,
	    allow), MATCH_NOT_FOUND);
	/* None is on the public listener. */
	assert_int_equal(match(true, "POST", "/v1/nodes/report", &rt, &pp,
	    allow), MATCH_NOT_FOUND);
	assert_int_equal(match(true, "GET", "/v1/groups", &rt, &pp, allow),
	    MATCH_NOT_FOUND);
	/* Who may call them, what they audit, how much body. */
	assert_int_equal(match(false, "POST", "/v1/nodes/report", &rt, &pp,
	    allow), MATCH_FOUND);
	assert_int_equal(rt->auth, AUTH_MTLS);
	assert_string_equal(rt->action, "node.report");
	assert_int_equal(rt->max_body, 16 * 1024);
	assert_int_equal(match(false, "POST", "/v1/groups/g/rotate", &rt, &pp,
	    allow), MATCH_FOUND);
	assert_int_equal(rt->auth, AUTH_ADMIN);
	assert_string_equal(rt->action, "group.rotate");
	assert_int_equal(match(false, "GET", "/v1/groups", &rt, &pp, allow),
	    MATCH_FOUND);
	assert_int_equal(rt->auth, AUTH_ADMIN);
}

static void
test_table_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < ntable; i++) {
		const struct api_route *r = &table[i];

		assert_non_null(r->handler);
		/* Public rows are exactly the public-auth rows. */
		assert_true(r->public == (r->auth == AUTH_PUBLIC));
		/* State-changing routes name their audit action. */
		if (r->method != M_GET)
			assert_non_null(r->action);
		/* Bodies only where a POST takes one. */
		if (r->method != M_POST)
			assert_int_equal(r->max_body, 0);
		for (size_t j = 0; j < i; j++)
			assert_false(table[j].method == r->method &&
			    strcmp(table[j].path, r->path) == 0);
	}
}

static void
test_api_routes_info(void **state)
{
	const struct api_route_info *info;
	size_t n, i;
	bool seen = false;

	(void)state;
	info = api_routes(&n);
	assert_int_equal(n, ntable);
	for (i = 0; i < n; i++) {
		assert_string_equal(info[i].path, table[i].path);
		assert_string_equal(info[i].method,
		    api_method_name(table[i].method));
		assert_true(info[i].public == table[i].public);
		if (strcmp(info[i].path, "/v1/certificates/{serial}.pem") == 0)
			seen = true;
	}
	assert_true(seen);
}

static void
test_method_parse(void **state)
{
	enum api_method m;

	(void)state;
	assert_int_equal(api_method_parse("GET", &m), 0);
	assert_int_equal(m, M_GET);
	assert_int_equal(api_method_parse("HEAD", &m), 0);
	assert_int_equal(m, M_GET);
	assert_int_equal(api_method_parse("DELETE", &m), 0);
	assert_int_equal(m, M_DELETE);
	assert_int_equal(api_method_parse("get", &m), -1);
	assert_int_equal(api_method_parse("PATCH", &m), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literal_routes),
		cmocka_unit_test(test_ca_routes),
		cmocka_unit_test(test_path_params),
		cmocka_unit_test(test_serial_any_case),
		cmocka_unit_test(test_pem_suffix),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_bad_method_allow),
		cmocka_unit_test(test_public_listener),
		cmocka_unit_test(test_fleet_routes),
		cmocka_unit_test(test_table_rows),
		cmocka_unit_test(test_api_routes_info),
		cmocka_unit_test(test_method_parse),
	};

	table = api_route_table(&ntable);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
