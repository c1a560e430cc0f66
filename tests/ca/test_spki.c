/*
 * Tests of ca/spki.c: the key hash is the same for every encoding of
 * one key (compressed and uncompressed EC points), for a request and
 * the certificate issued for it, and differs between keys.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "helpers.h"
#include "hex.h"

struct st {
	char		*dir;
	struct ca	*ca;
	struct profile	 prof;
};

static int
setup(void **state)
{
	struct st *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	t->dir = th_tmpdir();
	t->ca = th_ca(t->dir, KEY_EC_P256, 30, "http://127.0.0.1:8080");
	th_profile_client(&t->prof);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct st *t = *state;

	ca_free(t->ca);
	th_rmrf(t->dir);
	free(t->dir);
	free(t);
	return 0;
}

/* Bytes of the public key bits of a PEM CSR (33 for compressed P-256). */
static int
key_bits_len(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509_REQ *r = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
	const unsigned char *pk;
	int len = -1;

	assert_non_null(r);
	assert_int_equal(X509_PUBKEY_get0_param(NULL, &pk, &len, NULL,
	    X509_REQ_get_X509_PUBKEY(r)), 1);
	X509_REQ_free(r);
	BIO_free(b);
	return len;
}

/* The CSR of key for cn, with the EC point in form fmt (NULL: as is). */
static struct ca_csr *
csr_of(EVP_PKEY *key, const char *fmt)
{
	struct th_csr c = { .cn = "app" };
	struct ca_csr *csr;
	struct err e = { 0 };
	char *pem;

	if (fmt != NULL)
		assert_int_equal(EVP_PKEY_set_utf8_string_param(key,
		    OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, fmt), 1);
	pem = th_csr_pem(key, &c);
	/* The request really spells the point as asked. */
	if (fmt != NULL && EVP_PKEY_get_bits(key) == 256)
		assert_int_equal(key_bits_len(pem),
		    strcmp(fmt, "compressed") == 0 ? 33 : 65);
	if ((csr = ca_csr_parse(pem, strlen(pem), &e)) == NULL)
		fail_msg("ca_csr_parse: %s", e.msg);
	free(pem);
	return csr;
}

/* The hash as this test computes it: i2d_PUBKEY, uncompressed. */
static void
want_hash(EVP_PKEY *key, char out[RCA_SHA256_HEX + 1])
{
	unsigned char *der = NULL, md[32];
	int len;

	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC)
		assert_int_equal(EVP_PKEY_set_utf8_string_param(key,
		    OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
		    "uncompressed"), 1);
	assert_true((len = i2d_PUBKEY(key, &der)) > 0);
	SHA256(der, (size_t)len, md);
	hex_encode(md, sizeof(md), out);
	OPENSSL_free(der);
}

/* A compressed-point and an uncompressed-point CSR of one key. */
static void
test_compressed_and_uncompressed_same(void **state)
{
	struct ca_csr *u, *c;
	char hu[RCA_SHA256_HEX + 1], hc[RCA_SHA256_HEX + 1];
	char want[RCA_SHA256_HEX + 1];
	EVP_PKEY *k = th_key_ec("P-256");

	(void)state;
	u = csr_of(k, "uncompressed");
	c = csr_of(k, "compressed");
	assert_int_equal(ca_csr_spki_sha256(u, hu), 0);
	assert_int_equal(ca_csr_spki_sha256(c, hc), 0);
	assert_int_equal(strlen(hu), RCA_SHA256_HEX);
	assert_string_equal(hu, hc);
	want_hash(k, want);
	assert_string_equal(hu, want);
	ca_csr_free(u);
	ca_csr_free(c);
	EVP_PKEY_free(k);
}

/* A request and the certificate issued for it: one hash. */
static void
check_cert_matches_csr(struct st *t, EVP_PKEY *k, const char *fmt)
{
	struct ca_issue_params p = { .profile = &t->prof };
	struct ca_cert out;
	struct ca_csr *csr = csr_of(k, fmt);
	struct err e = { 0 };
	char hc[RCA_SHA256_HEX + 1], hx[RCA_SHA256_HEX + 1];
	char hp[RCA_SHA256_HEX + 1], hr[RCA_SHA256_HEX + 1];
	struct ca_csr *re;

	memset(&out, 0, sizeof(out));
	if (ca_issue(t->ca, csr, &p, &out, &e) == -1)
		fail_msg("ca_issue: %s", e.msg);
	assert_int_equal(ca_csr_spki_sha256(csr, hc), 0);
	assert_int_equal(ca_cert_spki_sha256(out.der, out.der_len, hx, &e),
	    0);
	assert_string_equal(hc, hx);
	assert_int_equal(ca_pem_spki_sha256(out.pem, hp, &e), 0);
	assert_string_equal(hp, hx);
	/* Renewal with the same key: the request built from the cert. */
	assert_non_null(re = ca_csr_from_cert(out.der, out.der_len, &e));
	assert_int_equal(ca_csr_spki_sha256(re, hr), 0);
	assert_string_equal(hr, hx);
	ca_csr_free(re);
	ca_cert_clear(&out);
	ca_csr_free(csr);
}

static void
test_cert_and_csr_same(void **state)
{
	struct st *t = *state;
	EVP_PKEY *ec = th_key_ec("P-256"), *ec384 = th_key_ec("P-384");
	EVP_PKEY *rsa = th_key_rsa(2048);

	check_cert_matches_csr(t, ec, "uncompressed");
	/* A compressed CSR's certificate hashes like the key's. */
	check_cert_matches_csr(t, ec, "compressed");
	check_cert_matches_csr(t, ec384, NULL);
	check_cert_matches_csr(t, rsa, NULL);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ec384);
	EVP_PKEY_free(rsa);
}

/* Different keys, different hashes; a generated key hashes too. */
static void
test_keys_differ(void **state)
{
	struct names n = NAMES_INIT;
	struct ca_csr *a, *b, *g;
	struct err e = { 0 };
	char ha[RCA_SHA256_HEX + 1], hb[RCA_SHA256_HEX + 1];
	char hg[RCA_SHA256_HEX + 1];
	char *key_pem = NULL;
	EVP_PKEY *ka = th_key_ec("P-256"), *kb = th_key_ec("P-256");

	(void)state;
	a = csr_of(ka, NULL);
	b = csr_of(kb, NULL);
	assert_int_equal(ca_csr_spki_sha256(a, ha), 0);
	assert_int_equal(ca_csr_spki_sha256(b, hb), 0);
	assert_string_not_equal(ha, hb);
	assert_int_equal(names_set_cn(&n, "gen", &e), 0);
	assert_non_null(g = ca_keygen(KEY_EC_P256, &n, &key_pem, &e));
	assert_int_equal(ca_csr_spki_sha256(g, hg), 0);
	assert_string_not_equal(hg, ha);
	free(key_pem);
	names_clear(&n);
	ca_csr_free(a);
	ca_csr_free(b);
	ca_csr_free(g);
	EVP_PKEY_free(ka);
	EVP_PKEY_free(kb);
}

static void
test_bad_input(void **state)
{
	struct err e = { 0 };
	char h[RCA_SHA256_HEX + 1];

	(void)state;
	assert_int_equal(ca_cert_spki_sha256((const unsigned char *)"junk",
	    4, h, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(ca_cert_spki_sha256(NULL, 0, h, &e), -1);
	assert_int_equal(ca_pem_spki_sha256("-----BEGIN CERTIFICATE-----\n"
	    "AAAA\n-----END CERTIFICATE-----\n", h, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(ca_pem_spki_sha256(NULL, h, &e), -1);
	assert_int_equal(ca_csr_spki_sha256(NULL, h), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compressed_and_uncompressed_same),
		cmocka_unit_test_setup_teardown(test_cert_and_csr_same, setup,
		    teardown),
		cmocka_unit_test(test_keys_differ),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
