/*
 * Tests for ca/keyrules.c: ca_key_classify() and ca_key_for_ca() on keys
 * OpenSSL holds, each rule's refusal and its message (the CSR side of
 * the same rules is in test_csr.c).
 */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "ca_priv.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>

/* A public RSA key of modulus n (hex) and exponent e. */
static EVP_PKEY *
rsa_pub(const char *nhex, unsigned long ev)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pk = NULL;
	BIGNUM *n = NULL, *e = BN_new();

	assert_non_null(bld);
	assert_non_null(e);
	assert_true(BN_hex2bn(&n, nhex) > 0);
	assert_int_equal(BN_set_word(e, ev), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N,
	    n), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E,
	    e), 1);
	params = OSSL_PARAM_BLD_to_param(bld);
	assert_non_null(params);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY,
	    params), 1);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return pk;
}

/* A 2048-bit modulus: 0xc0 then zeros, last octet last. */
static char *
modulus_hex(const char *last)
{
	char *h = malloc(513);

	assert_non_null(h);
	memset(h, '0', 512);
	h[0] = 'c';
	memcpy(h + 510, last, 2);
	h[512] = '\0';
	return h;
}

static void
test_classify_accepts(void **state)
{
	static const struct {
		const char	*alg;
		const char	*curve;
		int		 bits;
		enum key_type	 want;
	} keys[] = {
		{ "EC", "P-256", 0, KEY_EC_P256 },
		{ "EC", "P-384", 0, KEY_EC_P384 },
		{ "RSA", NULL, 2048, KEY_RSA_2048 },
		{ "RSA", NULL, 3072, KEY_RSA_3072 },
	};
	enum key_type t;
	struct err e;
	EVP_PKEY *pk;

	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		pk = keys[i].curve != NULL ? th_key_ec(keys[i].curve) :
		    th_key_rsa(keys[i].bits);
		assert_int_equal(ca_key_classify(pk, &t, &e), 0);
		assert_int_equal(t, keys[i].want);
		EVP_PKEY_free(pk);
	}
}

static void
test_classify_refusals(void **state)
{
	enum key_type t;
	struct err e;
	EVP_PKEY *pk;
	char *n;

	(void)state;
	pk = th_key_ec("P-521");
	assert_int_equal(ca_key_classify(pk, &t, &e), -1);
	assert_int_equal(e.code, ERR_KEY_REJECTED);
	assert_string_equal(e.msg,
	    "EC curve secp521r1: only P-256 and P-384 are accepted");
	EVP_PKEY_free(pk);

	pk = th_key_ed25519();
	assert_int_equal(ca_key_classify(pk, &t, &e), -1);
	assert_int_equal(e.code, ERR_KEY_REJECTED);
	assert_non_null(strstr(e.msg, "key algorithm ED25519: only EC "
	    "P-256/P-384 and RSA 2048/3072/4096 are accepted"));
	EVP_PKEY_free(pk);

	assert_int_equal(ca_key_classify(NULL, &t, &e), -1);
	assert_non_null(strstr(e.msg, "key algorithm unknown"));

	pk = th_key_rsa(1024);
	assert_int_equal(ca_key_classify(pk, &t, &e), -1);
	assert_string_equal(e.msg, "RSA key of 1024 bits: only 2048, 3072 "
	    "and 4096 bits are accepted");
	EVP_PKEY_free(pk);

	/* The exponent is looked at first, then the parity, then size. */
	n = modulus_hex("00");
	pk = rsa_pub(n, 3);
	assert_int_equal(ca_key_classify(pk, &t, &e), -1);
	assert_string_equal(e.msg, "RSA public exponent other than 65537");
	EVP_PKEY_free(pk);
	pk = rsa_pub(n, 65537);
	assert_int_equal(ca_key_classify(pk, &t, &e), -1);
	assert_string_equal(e.msg, "the RSA modulus is even");
	EVP_PKEY_free(pk);
	free(n);
	n = modulus_hex("01");
	pk = rsa_pub(n, 65537);
	assert_int_equal(ca_key_classify(pk, &t, &e), 0);
	assert_int_equal(t, KEY_RSA_2048);
	EVP_PKEY_free(pk);
	free(n);
}

static void
test_key_for_ca(void **state)
{
	struct err e;

	(void)state;
	assert_int_equal(ca_key_for_ca(KEY_EC_P256, &e), 0);
	assert_int_equal(ca_key_for_ca(KEY_EC_P384, &e), 0);
	assert_int_equal(ca_key_for_ca(KEY_RSA_3072, &e), 0);
	assert_int_equal(ca_key_for_ca(KEY_RSA_4096, &e), 0);
	assert_int_equal(ca_key_for_ca(KEY_RSA_2048, &e), -1);
	assert_int_equal(e.code, ERR_KEY_REJECTED);
	assert_string_equal(e.msg, "key type rsa-2048 is not allowed for a CA "
	    "(ec-p256, ec-p384, rsa-3072, rsa-4096)");
	assert_int_equal(ca_key_for_ca((enum key_type)KEY__MAX, &e), -1);
	assert_non_null(strstr(e.msg, "key type unknown"));
	assert_int_equal(ca_key_for_ca(KEY_RSA_2048, NULL), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_accepts),
		cmocka_unit_test(test_classify_refusals),
		cmocka_unit_test(test_key_for_ca),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
