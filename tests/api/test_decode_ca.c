/*
 * Tests of api/decode_ca.c: the bodies of POST /v1/ca/prepare and of
 * activate/retire ({"force"}), and the {ski} of /v1/crl/{ski}.  Every
 * refusal has its code and a message naming the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api_ca.h"
#include "rca_limits.h"

#define S(x) (x), strlen(x)

static void
expect_err(const struct err *e, enum err_code code, const char *part)
{
	assert_int_equal(e->code, code);
	if (strstr(e->msg, part) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", e->msg, part);
}

/* The accepted shapes and what they ask of the service. */
static void
test_prepare_good(void **state)
{
	struct api_ca_prepare_body b;
	struct err e;

	(void)state;
	/* Empty and {}: a new key of the current type, default days. */
	assert_int_equal(api_decode_ca_prepare(NULL, 0, &b, &e), 0);
	assert_false(b.req.key_type_set);
	assert_false(b.req.csr_only);
	assert_null(b.req.cert_pem);
	assert_int_equal(b.req.days, 0);
	api_ca_prepare_body_free(&b);
	assert_int_equal(api_decode_ca_prepare(S("{}"), &b, &e), 0);
	assert_false(b.req.key_type_set);
	api_ca_prepare_body_free(&b);
	/* A key type and days. */
	assert_int_equal(api_decode_ca_prepare(S("{\"key_type\":\"ec-p384\","
	    "\"days\":730}"), &b, &e), 0);
	assert_true(b.req.key_type_set);
	assert_int_equal(b.req.key_type, KEY_EC_P384);
	assert_int_equal(b.req.days, 730);
	assert_false(b.req.csr_only);
	api_ca_prepare_body_free(&b);
	/* A CSR for an outside CA; false is no CSR; null is absent. */
	assert_int_equal(api_decode_ca_prepare(S("{\"csr\":true,"
	    "\"key_type\":\"rsa-3072\"}"), &b, &e), 0);
	assert_true(b.req.csr_only);
	assert_int_equal(b.req.key_type, KEY_RSA_3072);
	api_ca_prepare_body_free(&b);
	assert_int_equal(api_decode_ca_prepare(S("{\"csr\":false}"), &b, &e),
	    0);
	assert_false(b.req.csr_only);
	api_ca_prepare_body_free(&b);
	assert_int_equal(api_decode_ca_prepare(S("{\"csr\":null,"
	    "\"days\":null}"), &b, &e), 0);
	assert_false(b.req.csr_only);
	assert_int_equal(b.req.days, 0);
	api_ca_prepare_body_free(&b);
	/* A certificate, with and without its chain. */
	assert_int_equal(api_decode_ca_prepare(S("{\"certificate\":\"PEM\"}"),
	    &b, &e), 0);
	assert_string_equal(b.req.cert_pem, "PEM");
	assert_null(b.req.chain_pem);
	api_ca_prepare_body_free(&b);
	assert_int_equal(api_decode_ca_prepare(S("{\"certificate\":\"PEM\","
	    "\"chain\":\"ROOTS\"}"), &b, &e), 0);
	assert_string_equal(b.req.chain_pem, "ROOTS");
	/* The root key never comes from the network. */
	assert_null(b.req.root_key_path);
	assert_null(b.req.root_cert_path);
	api_ca_prepare_body_free(&b);
	api_ca_prepare_body_free(NULL);
}

struct bad_row {
	const char	*body;
	enum err_code	 code;
	const char	*part;
};

static const struct bad_row bad_prepare[] = {
	{ "{", ERR_INVALID_JSON, "invalid JSON" },
	{ "[]", ERR_INVALID_REQUEST, "JSON object" },
	{ "{\"days\":1,\"days\":2}", ERR_INVALID_JSON, "duplicate" },
	{ "{\"root_key\":\"/etc/root.key\"}", ERR_INVALID_REQUEST,
	    "unknown field 'root_key'" },
	{ "{\"root_cert\":\"x\"}", ERR_INVALID_REQUEST, "unknown field" },
	{ "{\"key_type\":7}", ERR_INVALID_REQUEST, "'key_type' must be" },
	{ "{\"key_type\":\"dsa-1024\"}", ERR_INVALID_REQUEST,
	    "unknown key type" },
	{ "{\"days\":\"90\"}", ERR_INVALID_REQUEST, "'days' must be" },
	{ "{\"days\":0}", ERR_INVALID_REQUEST, "'days' must be from 1" },
	{ "{\"days\":-5}", ERR_INVALID_REQUEST, "'days' must be from 1" },
	{ "{\"days\":7306}", ERR_INVALID_REQUEST, "'days' must be from 1" },
	{ "{\"days\":1.5}", ERR_INVALID_REQUEST, "'days' must be" },
	{ "{\"csr\":\"yes\"}", ERR_INVALID_REQUEST, "'csr' must be true" },
	{ "{\"csr\":1}", ERR_INVALID_REQUEST, "'csr' must be true" },
	{ "{\"certificate\":5}", ERR_INVALID_REQUEST,
	    "'certificate' must be" },
	{ "{\"certificate\":\"\"}", ERR_INVALID_REQUEST, "empty" },
	{ "{\"chain\":\"ROOTS\"}", ERR_INVALID_REQUEST,
	    "'chain' goes with 'certificate'" },
	{ "{\"certificate\":\"P\",\"key_type\":\"ec-p256\"}",
	    ERR_INVALID_REQUEST, "goes alone" },
	{ "{\"certificate\":\"P\",\"days\":10}", ERR_INVALID_REQUEST,
	    "goes alone" },
	{ "{\"certificate\":\"P\",\"csr\":true}", ERR_INVALID_REQUEST,
	    "goes alone" },
	{ "{\"certificate\":\"P\",\"chain\":[]}", ERR_INVALID_REQUEST,
	    "'chain' must be" },
};

static void
test_prepare_bad(void **state)
{
	struct api_ca_prepare_body b;
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_prepare) / sizeof(bad_prepare[0]);
	    i++) {
		err_clear(&e);
		if (api_decode_ca_prepare(S(bad_prepare[i].body), &b,
		    &e) != -1)
			fail_msg("accepted %s", bad_prepare[i].body);
		expect_err(&e, bad_prepare[i].code, bad_prepare[i].part);
		/* Nothing is left to free after a refusal. */
		assert_null(b.root);
		assert_null(b.req.cert_pem);
	}
}

static void
test_force(void **state)
{
	struct err e;
	bool force = true;

	(void)state;
	assert_int_equal(api_decode_ca_force(NULL, 0, &force, &e), 0);
	assert_false(force);
	assert_int_equal(api_decode_ca_force(S("{}"), &force, &e), 0);
	assert_false(force);
	assert_int_equal(api_decode_ca_force(S("{\"force\":true}"), &force,
	    &e), 0);
	assert_true(force);
	assert_int_equal(api_decode_ca_force(S("{\"force\":false}"), &force,
	    &e), 0);
	assert_false(force);
	assert_int_equal(api_decode_ca_force(S("{\"force\":null}"), &force,
	    &e), 0);
	assert_false(force);
	assert_int_equal(api_decode_ca_force(S("{\"force\":1}"), &force,
	    &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "'force' must be true or false");
	assert_int_equal(api_decode_ca_force(S("{\"force\":\"yes\"}"),
	    &force, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "'force'");
	assert_int_equal(api_decode_ca_force(S("{\"forse\":true}"), &force,
	    &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "unknown field 'forse'");
	assert_int_equal(api_decode_ca_force(S("{\"force\":"), &force, &e),
	    -1);
	expect_err(&e, ERR_INVALID_JSON, "invalid JSON");
	assert_int_equal(api_decode_ca_force(S("[true]"), &force, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "JSON object");
}

static void
test_ski(void **state)
{
	char ski[RCA_SKI_HEX_MAX + 1], longest[RCA_SKI_HEX_MAX + 3];
	struct err e;

	(void)state;
	assert_int_equal(api_decode_ski("0A1b2C3d", ski, &e), 0);
	assert_string_equal(ski, "0a1b2c3d");
	memset(longest, 'f', RCA_SKI_HEX_MAX);
	longest[RCA_SKI_HEX_MAX] = '\0';
	assert_int_equal(api_decode_ski(longest, ski, &e), 0);
	assert_int_equal(strlen(ski), RCA_SKI_HEX_MAX);
	/* Too long, odd, empty, not hex, path tricks: 400 before lookup. */
	longest[RCA_SKI_HEX_MAX] = 'f';
	longest[RCA_SKI_HEX_MAX + 1] = 'f';
	longest[RCA_SKI_HEX_MAX + 2] = '\0';
	assert_int_equal(api_decode_ski(longest, ski, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "subject key identifier");
	assert_int_equal(api_decode_ski("abc", ski, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "even number");
	assert_int_equal(api_decode_ski("", ski, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "even number");
	assert_int_equal(api_decode_ski("zz", ski, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "hex digits");
	assert_int_equal(api_decode_ski("..%2f", ski, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(api_decode_ski("ab'--", ski, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prepare_good),
		cmocka_unit_test(test_prepare_bad),
		cmocka_unit_test(test_force),
		cmocka_unit_test(test_ski),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
