/* Tests for ca/crl.c: CRLs parsed back and verified with OpenSSL. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "helpers.h"

#include <openssl/bn.h>
#include <openssl/pem.h>

/* *state: the fixture, a folder and a CA in it. */
static int
setup(void **state)
{
	*state = th_fx_new(30, "http://127.0.0.1:8080");
	return 0;
}

/* Find the entry for hex serial s in crl. */
static X509_REVOKED *
find(X509_CRL *crl, const char *hex)
{
	STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);

	for (int i = 0; i < sk_X509_REVOKED_num(revs); i++) {
		X509_REVOKED *r = sk_X509_REVOKED_value(revs, i);
		BIGNUM *bn = ASN1_INTEGER_to_BN(
		    X509_REVOKED_get0_serialNumber(r), NULL);
		char *h = BN_bn2hex(bn);
		int eq = strcasecmp(h, hex) == 0;

		OPENSSL_free(h);
		BN_free(bn);
		if (eq)
			return r;
	}
	return NULL;
}

static void
test_crl_parsed_back(void **state)
{
	struct th_fx *f = *state;
	const struct ca_crl_entry entries[] = {
		{ "5f3a0000000000000000000000000001", 1800000000,
		    REASON_KEY_COMPROMISE },
		{ "7ABC", 1800000100, REASON_SUPERSEDED },
		{ "0001", 1800000200, REASON_UNSPECIFIED },
	};
	int64_t tu = 1800001000, nu = tu + 86400;
	unsigned char *der = NULL;
	size_t len = 0;
	struct err e;
	X509_CRL *crl;
	X509 *cax = th_x509(ca_cert_pem(f->ca));
	ASN1_INTEGER *num;
	AUTHORITY_KEYID *akid;
	int crit = 0;

	if (ca_crl_build(f->ca, entries, 3, 42, tu, nu, &der, &len, &e) != 0)
		fail_msg("ca_crl_build: %s", e.msg);
	crl = th_crl_parse(der, len);
	assert_int_equal(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
	assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl),
	    X509_get_subject_name(cax)), 0);
	assert_int_equal(th_time(X509_CRL_get0_lastUpdate(crl)), tu);
	assert_int_equal(th_time(X509_CRL_get0_nextUpdate(crl)), nu);
	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
	assert_non_null(num);
	assert_int_equal(ASN1_INTEGER_get(num), 42);
	ASN1_INTEGER_free(num);
	akid = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, &crit,
	    NULL);
	assert_non_null(akid);
	assert_non_null(akid->keyid);
	assert_int_equal(ASN1_OCTET_STRING_cmp(akid->keyid,
	    X509_get0_subject_key_id(cax)), 0);
	AUTHORITY_KEYID_free(akid);

	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 3);
	for (size_t i = 0; i < 3; i++) {
		X509_REVOKED *r = find(crl, entries[i].serial[0] == '0' ?
		    "01" : entries[i].serial);
		ASN1_ENUMERATED *reason;

		assert_non_null(r);
		assert_int_equal(th_time(X509_REVOKED_get0_revocationDate(r)),
		    entries[i].revoked_at);
		reason = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &crit,
		    NULL);
		assert_non_null(reason);
		assert_int_equal(ASN1_ENUMERATED_get(reason),
		    entries[i].reason);
		ASN1_ENUMERATED_free(reason);
	}
	/* Signed by the CA key with SHA-256. */
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(cax)), 1);
	assert_int_equal(X509_CRL_get_signature_nid(crl),
	    NID_ecdsa_with_SHA256);

	/* PEM form. */
	{
		char *pem = ca_crl_pem(der, len, &e);
		BIO *b;
		X509_CRL *c2;

		assert_non_null(pem);
		assert_non_null(strstr(pem, "-----BEGIN X509 CRL-----"));
		b = BIO_new_mem_buf(pem, -1);
		c2 = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
		assert_non_null(c2);
		assert_int_equal(X509_CRL_cmp(crl, c2), 0);
		X509_CRL_free(c2);
		BIO_free(b);
		/* The very bytes OpenSSL's own PEM writer gives. */
		{
			BIO *w = BIO_new(BIO_s_mem());
			char *ref;
			long rl;

			assert_int_equal(PEM_write_bio_X509_CRL(w, crl), 1);
			rl = BIO_get_mem_data(w, &ref);
			assert_int_equal(strlen(pem), (size_t)rl);
			assert_memory_equal(pem, ref, (size_t)rl);
			BIO_free(w);
		}
		free(pem);
	}
	X509_CRL_free(crl);
	X509_free(cax);
	free(der);
}

static void
test_crl_empty_and_errors(void **state)
{
	struct th_fx *f = *state;
	const struct ca_crl_entry bad_serial[] = { { "xyz", 1, 1 } };
	const struct ca_crl_entry bad_reason[] = { { "01", 1, 7 } };
	int64_t now = (int64_t)time(NULL);
	unsigned char *der = NULL;
	size_t len = 0;
	struct err e;
	X509_CRL *crl;
	X509 *cax = th_x509(ca_cert_pem(f->ca));

	assert_int_equal(ca_crl_build(f->ca, NULL, 0, 1, now, now + 3600,
	    &der, &len, &e), 0);
	crl = th_crl_parse(der, len);
	/* No entries: OpenSSL leaves the list out (num is -1 on NULL). */
	assert_true(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) <= 0);
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(cax)), 1);
	X509_CRL_free(crl);
	free(der);

	/* A CRL number beyond 32 bits. */
	assert_int_equal(ca_crl_build(f->ca, NULL, 0, 1ull << 40, now,
	    now + 3600, &der, &len, &e), 0);
	crl = th_crl_parse(der, len);
	{
		ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number,
		    NULL, NULL);
		uint64_t v = 0;

		assert_int_equal(ASN1_INTEGER_get_uint64(&v, num), 1);
		assert_true(v == 1ull << 40);
		ASN1_INTEGER_free(num);
	}
	X509_CRL_free(crl);
	free(der);

	assert_int_equal(ca_crl_build(f->ca, bad_serial, 1, 2, now,
	    now + 3600, &der, &len, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_null(der);
	assert_int_equal(ca_crl_build(f->ca, bad_reason, 1, 2, now,
	    now + 3600, &der, &len, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(ca_crl_build(f->ca, NULL, 0, 2, now, now, &der,
	    &len, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_null(ca_crl_pem((const unsigned char *)"junk", 4, &e));
	X509_free(cax);
}

static void
test_crl_p384_and_rsa(void **state)
{
	static const struct {
		enum key_type	t;
		int		nid;
	} cas[] = {
		{ KEY_EC_P384, NID_ecdsa_with_SHA384 },
		{ KEY_RSA_3072, NID_sha256WithRSAEncryption },
	};
	const struct ca_crl_entry one[] = { { "abc", 1800000000, 4 } };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		char *dir = th_tmpdir();
		struct ca *ca = th_ca(dir, cas[i].t, 30, NULL);
		X509 *cax = th_x509(ca_cert_pem(ca));
		unsigned char *der = NULL;
		size_t len = 0;
		struct err e;
		X509_CRL *crl;

		assert_int_equal(ca_crl_build(ca, one, 1, 7, 1800000000,
		    1800086400, &der, &len, &e), 0);
		crl = th_crl_parse(der, len);
		assert_int_equal(X509_CRL_get_signature_nid(crl), cas[i].nid);
		assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(cax)),
		    1);
		X509_CRL_free(crl);
		free(der);
		X509_free(cax);
		ca_free(ca);
		th_rmrf(dir);
		free(dir);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crl_parsed_back),
		cmocka_unit_test(test_crl_empty_and_errors),
		cmocka_unit_test(test_crl_p384_and_rsa),
	};

	return cmocka_run_group_tests(tests, setup, th_fx_teardown);
}
