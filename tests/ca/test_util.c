/* Tests for ca/util.c: randomness, digests, compare, fingerprints. */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#include <openssl/x509.h>

#include "hex.h"

static void
test_random(void **state)
{
	unsigned char a[32], b[32], zero[32] = { 0 };
	struct err e;

	(void)state;
	assert_int_equal(ca_random(a, sizeof(a), &e), 0);
	assert_int_equal(ca_random(b, sizeof(b), &e), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_int_equal(ca_random(a, 0, &e), 0);
}

static void
test_sha256(void **state)
{
	unsigned char md[32];
	char hex[65];

	(void)state;
	ca_sha256("abc", 3, md);
	hex_encode(md, sizeof(md), hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
}

static void
test_ct_equal(void **state)
{
	(void)state;
	assert_true(ca_ct_equal("abcdef", "abcdef", 6));
	assert_false(ca_ct_equal("abcdef", "abcdeg", 6));
	assert_true(ca_ct_equal("x", "y", 0));
}

static void
test_pem_fingerprint(void **state)
{
	char *dir = th_tmpdir(), fp[RCA_SHA256_HEX + 1];
	unsigned char md[32];
	unsigned int mdlen = 0;
	char want[65];
	struct err e;
	struct ca *ca;
	X509 *x;

	(void)state;
	ca = th_ca(dir, KEY_EC_P256, 30, NULL);
	assert_int_equal(ca_pem_fingerprint(ca_cert_pem(ca), fp, &e), 0);
	x = th_x509(ca_cert_pem(ca));
	assert_int_equal(X509_digest(x, EVP_sha256(), md, &mdlen), 1);
	hex_encode(md, mdlen, want);
	assert_string_equal(fp, want);
	assert_string_equal(ca_fingerprint(ca), want);
	X509_free(x);

	err_clear(&e);
	assert_int_equal(ca_pem_fingerprint("not a certificate", fp, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(ca_pem_fingerprint(NULL, fp, &e), -1);
	ca_free(ca);
	th_rmrf(dir);
	free(dir);
}

/* ca_pem_cert_read: what a certificate says of itself, unverified. */
static void
test_pem_cert_read(void **state)
{
	char *dir = th_tmpdir();
	struct profile p;
	struct ca_cert leaf, got;
	struct err e;
	struct ca *ca;

	(void)state;
	ca = th_ca(dir, KEY_EC_P256, 30, NULL);
	th_profile_node(&p);
	th_leaf(ca, &p, "node-1.example", 0, 0, &leaf);
	assert_int_equal(ca_pem_cert_read(leaf.pem, &got, &e), 0);
	assert_string_equal(got.serial, leaf.serial);
	assert_string_equal(got.fingerprint, leaf.fingerprint);
	assert_int_equal(got.not_before, leaf.not_before);
	assert_int_equal(got.not_after, leaf.not_after);
	assert_int_equal(got.key_type, leaf.key_type);
	assert_string_equal(got.names.cn, "node-1.example");
	ca_cert_clear(&got);
	/* A CA certificate reads too: nothing is verified. */
	assert_int_equal(ca_pem_cert_read(ca_cert_pem(ca), &got, &e), 0);
	assert_string_equal(got.fingerprint, ca_fingerprint(ca));
	ca_cert_clear(&got);
	err_clear(&e);
	assert_int_equal(ca_pem_cert_read("not a certificate", &got, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(ca_pem_cert_read(NULL, &got, &e), -1);
	ca_cert_clear(&leaf);
	ca_free(ca);
	th_rmrf(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_ct_equal),
		cmocka_unit_test(test_pem_fingerprint),
		cmocka_unit_test(test_pem_cert_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
