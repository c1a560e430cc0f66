/* Tests of api/errmap.c: every error code's status and body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api_priv.h"

static const struct {
	enum err_code	 code;
	unsigned	 status;
	const char	*name;	/* code in the body */
} table[] = {
	{ ERR_OK, 500, "internal" },
	{ ERR_INVALID_JSON, 400, "invalid_json" },
	{ ERR_INVALID_REQUEST, 400, "invalid_request" },
	{ ERR_INVALID_CSR, 400, "invalid_csr" },
	{ ERR_CSR_SIGNATURE, 400, "csr_signature_invalid" },
	{ ERR_UNKNOWN_PROFILE, 400, "unknown_profile" },
	{ ERR_INVALID_TTL, 400, "invalid_ttl" },
	{ ERR_INVALID_SERIAL, 400, "invalid_serial" },
	{ ERR_UNAUTHORIZED, 401, "unauthorized" },
	{ ERR_FORBIDDEN, 403, "forbidden" },
	{ ERR_NAME_NOT_ALLOWED, 403, "name_not_allowed" },
	{ ERR_NOT_FOUND, 404, "not_found" },
	{ ERR_ALREADY_REVOKED, 409, "already_revoked" },
	{ ERR_ALREADY_EXISTS, 409, "already_exists" },
	{ ERR_CONFLICT, 409, "conflict" },
	{ ERR_KEY_REJECTED, 422, "key_rejected" },
	{ ERR_TTL_TOO_LONG, 422, "ttl_too_long" },
	{ ERR_ROTATION_FAILED, 502, "rotation_failed" },
	{ ERR_IO, 500, "internal" },
	{ ERR_CRYPTO, 500, "internal" },
	{ ERR_DB, 500, "internal" },
	{ ERR_NET, 500, "internal" },
	{ ERR_CONFIG, 500, "internal" },
	{ ERR_USAGE, 500, "internal" },
	{ ERR_INTERNAL, 500, "internal" },
	{ API_ERR_METHOD_NOT_ALLOWED, 405, "method_not_allowed" },
	{ API_ERR_PAYLOAD_TOO_LARGE, 413, "payload_too_large" },
	{ API_ERR_UNSUPPORTED_MEDIA, 415, "unsupported_media_type" },
	{ ERR_RATE_LIMITED, 429, "rate_limited" },
	{ ERR_READ_ONLY, 503, "read_only" },
	{ ERR_UNAVAILABLE, 503, "unavailable" },
	{ ERR_CA_NEXT_EXISTS, 409, "ca_next_exists" },
	{ ERR_CA_RETIRE_PENDING, 409, "ca_retire_pending" },
	{ ERR_CA_NOT_PREPARED, 409, "ca_not_prepared" },
	{ ERR_CA_NOTHING_TO_RETIRE, 409, "ca_nothing_to_retire" },
	{ ERR_CA_IN_USE, 409, "ca_unexpired_certificates" },
	{ ERR_INVALID_CHAIN, 422, "invalid_chain" },
};

#define NTABLE (sizeof(table) / sizeof(table[0]))

/* Parse body and check {"error": {"code": code, "message": msg}}. */
static void
check_body(const char *body, size_t len, const char *code, const char *msg)
{
	json_error_t jerr;
	json_t *v;
	const char *c = NULL, *m = NULL;

	assert_int_equal(strlen(body), len);
	v = json_loads(body, 0, &jerr);
	assert_non_null(v);
	assert_int_equal(json_unpack(v, "{s:{s:s,s:s!}!}", "error", "code",
	    &c, "message", &m), 0);
	assert_string_equal(c, code);
	assert_string_equal(m, msg);
	json_decref(v);
}

static void
test_every_code(void **state)
{
	bool seen[ERR__MAX] = { false };

	(void)state;
	for (size_t i = 0; i < NTABLE; i++) {
		struct err e;
		size_t len;
		char *body;

		err_set(&e, table[i].code, "detail %zu", i);
		assert_int_equal(api_err_status(table[i].code),
		    table[i].status);
		body = api_err_body(&e, &len);
		assert_non_null(body);
		/* Our failures never show their message. */
		check_body(body, len, table[i].name, table[i].status == 500 ?
		    "internal error" : e.msg);
		free(body);
		if ((unsigned)table[i].code < ERR__MAX)
			seen[table[i].code] = true;
	}
	/* The table above covers every code of err.h. */
	for (int c = 0; c < ERR__MAX; c++)
		assert_true(seen[c]);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(api_err_name(ERR_CONFLICT), "conflict");
	assert_string_equal(api_err_name(API_ERR_PAYLOAD_TOO_LARGE),
	    "payload_too_large");
	assert_int_equal(api_err_status((enum err_code)999), 500);
}

static void
test_empty_and_bad_message(void **state)
{
	struct err e;
	size_t len;
	char *body;

	(void)state;
	err_set(&e, ERR_NOT_FOUND, "%s", "");
	body = api_err_body(&e, &len);
	assert_non_null(body);
	check_body(body, len, "not_found", "not_found");
	free(body);
	/* A message that is not UTF-8 falls back to the code. */
	err_set(&e, ERR_NAME_NOT_ALLOWED, "name \xff\xfe refused");
	body = api_err_body(&e, &len);
	assert_non_null(body);
	check_body(body, len, "name_not_allowed", "name_not_allowed");
	free(body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_code),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_empty_and_bad_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
