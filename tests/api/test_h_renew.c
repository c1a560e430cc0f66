/*
 * Tests of api/h_renew.c: the optional {"csr"} body of POST /v1/renew,
 * and the route's row (client certificate, HTTPS listener only).  The
 * request itself runs end to end in tests/integration/test_renew.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api_priv.h"
#include "rca_limits.h"

/* Decode s; returns the status and leaves the body in *b. */
static int
dec(const char *s, struct api_renew_body *b, struct err *e)
{
	return api_decode_renew(s, s != NULL ? strlen(s) : 0, b, e);
}

static void
expect_refused(const char *s, enum err_code code, const char *in_msg)
{
	struct api_renew_body b;
	struct err e;

	err_clear(&e);
	assert_int_equal(dec(s, &b, &e), -1);
	assert_int_equal(e.code, code);
	if (in_msg != NULL)
		assert_non_null(strstr(e.msg, in_msg));
	/* Nothing is left to free on failure. */
	assert_null(b.root);
	assert_null(b.csr);
}

static void
test_no_body(void **state)
{
	struct api_renew_body b;
	struct err e;

	(void)state;
	assert_int_equal(dec(NULL, &b, &e), 0);
	assert_null(b.root);
	assert_null(b.csr);
	assert_int_equal(b.csr_len, 0);
	assert_int_equal(api_decode_renew("", 0, &b, &e), 0);
	assert_null(b.csr);
	api_renew_body_free(&b);
	api_renew_body_free(NULL);
}

/* Finding 12: {} is the same as no body (clients that always send JSON). */
static void
test_empty_object_is_no_body(void **state)
{
	static const char *const same[] = { "{}", " { } \n",
	    "{\"csr\": null}" };
	struct api_renew_body b;
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		err_clear(&e);
		assert_int_equal(dec(same[i], &b, &e), 0);
		assert_null(b.root);
		assert_null(b.csr);
		assert_int_equal(b.csr_len, 0);
		api_renew_body_free(&b);
	}
}

static void
test_csr(void **state)
{
	static const char body[] = "{\"csr\": \"-----BEGIN CERTIFICATE "
	    "REQUEST-----\\nAAAA\\n-----END CERTIFICATE REQUEST-----\\n\"}";
	struct api_renew_body b;
	struct err e;

	(void)state;
	assert_int_equal(dec(body, &b, &e), 0);
	assert_non_null(b.root);
	assert_non_null(b.csr);
	assert_non_null(strstr(b.csr, "BEGIN CERTIFICATE REQUEST"));
	assert_int_equal(b.csr_len, strlen(b.csr));
	api_renew_body_free(&b);
	assert_null(b.root);
	assert_null(b.csr);
}

static void
test_refusals(void **state)
{
	(void)state;
	expect_refused("{\"csr\": 1}", ERR_INVALID_REQUEST,
	    "field 'csr' must be a string");
	expect_refused("{\"csr\": {}}", ERR_INVALID_REQUEST,
	    "field 'csr' must be a string");
	expect_refused("{\"csr\": [\"x\"]}", ERR_INVALID_REQUEST, "csr");
	expect_refused("{\"csr\": \"x\", \"profile\": \"redis-node\"}",
	    ERR_INVALID_REQUEST, "unknown field 'profile'");
	expect_refused("{\"ttl\": \"1h\"}", ERR_INVALID_REQUEST,
	    "unknown field 'ttl'");
	expect_refused("{\"csr\": \"a\", \"csr\": \"b\"}", ERR_INVALID_JSON,
	    NULL);
	expect_refused("{\"csr\": \"x\"", ERR_INVALID_JSON, NULL);
	/* jansson takes only an object or array at the top. */
	expect_refused("\"csr\"", ERR_INVALID_JSON, NULL);
	expect_refused("null", ERR_INVALID_JSON, NULL);
	expect_refused("[]", ERR_INVALID_REQUEST, "object");
}

static void
test_csr_too_long(void **state)
{
	static char s[RCA_MAX_CSR_BYTES + 32];
	const size_t n = RCA_MAX_CSR_BYTES + 1;
	struct api_renew_body b;
	struct err e;

	(void)state;
	memcpy(s, "{\"csr\": \"", 9);
	memset(s + 9, 'A', n);
	memcpy(s + 9 + n, "\"}", 3);
	expect_refused(s, ERR_INVALID_CSR, "longer than");
	/* One byte less is accepted by the decoder. */
	memcpy(s + 9 + n - 1, "\"}", 3);
	assert_int_equal(dec(s, &b, &e), 0);
	assert_int_equal(b.csr_len, RCA_MAX_CSR_BYTES);
	api_renew_body_free(&b);
}

static void
test_route_row(void **state)
{
	const struct api_route *table, *rt = NULL;
	struct api_params pp;
	char allow[64];
	size_t n;

	(void)state;
	table = api_route_table(&n);
	assert_int_equal(api_route_match(table, n, false, "POST",
	    "/v1/renew", &rt, &pp, allow, sizeof(allow)), MATCH_FOUND);
	assert_non_null(rt);
	assert_ptr_equal(rt->handler, api_h_renew);
	assert_int_equal(rt->auth, AUTH_MTLS);
	assert_false(rt->public);
	assert_string_equal(rt->action, "certificate.renew");
	assert_true(rt->max_body >= RCA_MAX_CSR_BYTES);
	/* Not on the public listener; POST only. */
	assert_int_equal(api_route_match(table, n, true, "POST",
	    "/v1/renew", &rt, &pp, allow, sizeof(allow)), MATCH_NOT_FOUND);
	assert_int_equal(api_route_match(table, n, false, "GET",
	    "/v1/renew", &rt, &pp, allow, sizeof(allow)), MATCH_BAD_METHOD);
	assert_string_equal(allow, "POST");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_body),
		cmocka_unit_test(test_empty_object_is_no_body),
		cmocka_unit_test(test_csr),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_csr_too_long),
		cmocka_unit_test(test_route_row),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
