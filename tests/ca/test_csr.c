/*
 * Tests for ca/csr.c and the files it was split into (csr_pem.c, der.c,
 * keyrules.c, names.c, keygen.c), through ca.h: parsing hostile and odd
 * CSRs built with OpenSSL, key policy, name extraction, renewal
 * requests and key generation.
 */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "csr_gen.h"

#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

/* *state: the fixture, a folder and a CA in it. */
static int
setup(void **state)
{
	*state = th_fx_new(365, "http://ca.test:8080");
	return 0;
}

/* Parse pem and expect failure with code. */
static void
expect_refused(const char *pem, enum err_code code)
{
	struct err e;
	struct ca_csr *csr;

	err_clear(&e);
	csr = ca_csr_parse(pem, strlen(pem), &e);
	if (csr != NULL)
		fail_msg("CSR accepted, expected %s", err_code_name(code));
	if (e.code != code)
		fail_msg("got %s (%s), expected %s", err_code_name(e.code),
		    e.msg, err_code_name(code));
}

static void
test_hostile_extensions_ignored(void **state)
{
	struct th_fx *f = *state;
	EVP_PKEY *k = th_key_ec("P-256");
	struct th_csr c = {
		.cn = "evil.example", .san = "DNS:evil.example",
		.bc = "critical,CA:TRUE", .ku = "critical,keyCertSign,cRLSign,"
		"digitalSignature", .eku = "serverAuth,clientAuth,codeSigning,"
		"OCSPSigning",
	};
	char *pem = th_csr_pem(k, &c);
	struct ca_issue_params p = { 0 };
	struct profile prof;
	struct ca_cert out;
	struct ca_csr *csr;
	struct err e;
	BASIC_CONSTRAINTS *bc;
	EXTENDED_KEY_USAGE *eku;
	X509 *x;

	(void)state;
	th_profile_client(&prof);
	p.profile = &prof;
	csr = ca_csr_parse(pem, strlen(pem), &e);
	assert_non_null(csr);
	assert_int_equal(ca_issue(f->ca, csr, &p, &out, &e), 0);
	x = th_x509(out.pem);
	bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
	assert_non_null(bc);
	assert_int_equal(bc->ca, 0);
	BASIC_CONSTRAINTS_free(bc);
	assert_int_equal(X509_check_ca(x), 0);
	assert_int_equal(X509_get_key_usage(x) & (KU_KEY_CERT_SIGN |
	    KU_CRL_SIGN), 0);
	assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
	eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	assert_non_null(eku);
	assert_int_equal(sk_ASN1_OBJECT_num(eku), 1);
	assert_int_equal(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)),
	    NID_client_auth);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_CLIENT);
	X509_free(x);
	ca_cert_clear(&out);
	ca_csr_free(csr);
	free(pem);
	EVP_PKEY_free(k);
}

static void
test_rsa_1024_rejected(void **state)
{
	EVP_PKEY *k = th_key_rsa(1024);
	struct th_csr c = { .cn = "a.example" };
	char *pem = th_csr_pem(k, &c);

	(void)state;
	expect_refused(pem, ERR_KEY_REJECTED);
	free(pem);
	EVP_PKEY_free(k);
}

static void
test_dsa_rejected(void **state)
{
	EVP_PKEY *k = th_key_dsa();
	struct th_csr c = { .cn = "a.example" };
	char *pem = th_csr_pem(k, &c);

	(void)state;
	expect_refused(pem, ERR_KEY_REJECTED);
	free(pem);
	EVP_PKEY_free(k);
}

static void
test_other_curves_rejected(void **state)
{
	static const char *const curves[] = { "P-521", "secp256k1",
	    "brainpoolP256r1" };
	struct th_csr c = { .cn = "a.example" };

	(void)state;
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
		EVP_PKEY *k = th_key_ec(curves[i]);
		char *pem = th_csr_pem(k, &c);

		expect_refused(pem, ERR_KEY_REJECTED);
		free(pem);
		EVP_PKEY_free(k);
	}
}

static void
test_ed25519_rejected(void **state)
{
	EVP_PKEY *k = th_key_ed25519();
	struct th_csr c = { .cn = "a.example" };
	char *pem = th_csr_pem(k, &c);

	(void)state;
	expect_refused(pem, ERR_KEY_REJECTED);
	free(pem);
	EVP_PKEY_free(k);
}

static void
test_accepted_key_types(void **state)
{
	static const struct {
		int		 rsa_bits;
		const char	*curve;
		enum key_type	 want;
	} keys[] = {
		{ 0, "P-256", KEY_EC_P256 },
		{ 0, "P-384", KEY_EC_P384 },
		{ 2048, NULL, KEY_RSA_2048 },
		{ 3072, NULL, KEY_RSA_3072 },
		{ 4096, NULL, KEY_RSA_4096 },
	};
	struct th_csr c = { .cn = "a.example" };
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		EVP_PKEY *k = keys[i].curve ? th_key_ec(keys[i].curve) :
		    th_key_rsa(keys[i].rsa_bits);
		char *pem = th_csr_pem(k, &c);
		struct ca_csr *csr = ca_csr_parse(pem, strlen(pem), &e);

		if (csr == NULL)
			fail_msg("%s refused: %s",
			    key_type_name(keys[i].want), e.msg);
		assert_int_equal(ca_csr_key_type(csr), keys[i].want);
		ca_csr_free(csr);
		free(pem);
		EVP_PKEY_free(k);
	}
}

static void
test_rsa_odd_size_rejected(void **state)
{
	EVP_PKEY *k = th_key_rsa(2560);
	struct th_csr c = { .cn = "a.example" };
	char *pem = th_csr_pem(k, &c);

	(void)state;
	expect_refused(pem, ERR_KEY_REJECTED);
	free(pem);
	EVP_PKEY_free(k);
}

static void
test_bad_signature(void **state)
{
	EVP_PKEY *k = th_key_ec("P-256");
	struct th_csr c = { .cn = "a.example", .san = "DNS:a.example",
	    .corrupt = 1 };
	char *pem = th_csr_pem(k, &c);

	(void)state;
	expect_refused(pem, ERR_CSR_SIGNATURE);
	free(pem);
	EVP_PKEY_free(k);
}

static void
test_garbage(void **state)
{
	struct th_fx *f = *state;
	char *big;
	struct err e;

	expect_refused("hello", ERR_INVALID_CSR);
	expect_refused("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
	    "-----END CERTIFICATE REQUEST-----\n", ERR_INVALID_CSR);
	/* A certificate is not a request. */
	expect_refused(ca_cert_pem(f->ca), ERR_INVALID_CSR);
	assert_null(ca_csr_parse("", 0, &e));
	assert_int_equal(e.code, ERR_INVALID_CSR);
	assert_null(ca_csr_parse(NULL, 10, &e));
	big = malloc(RCA_MAX_CSR_BYTES + 2);
	assert_non_null(big);
	memset(big, 'A', RCA_MAX_CSR_BYTES + 1);
	big[RCA_MAX_CSR_BYTES + 1] = '\0';
	expect_refused(big, ERR_INVALID_CSR);
	free(big);
}

static void
test_names_extraction(void **state)
{
	EVP_PKEY *k = th_key_ec("P-256");
	struct th_csr c = { .cn = "redis-1.example", .san =
	    "DNS:redis-1.internal,IP:10.0.0.5,IP:2001:db8:0:0::1,"
	    "URI:spiffe://prod/redis,email:a@b.example" };
	char *pem = th_csr_pem(k, &c);
	const struct names *n;
	struct ca_csr *csr;
	struct err e;

	(void)state;
	csr = ca_csr_parse(pem, strlen(pem), &e);
	assert_non_null(csr);
	n = ca_csr_names(csr);
	assert_string_equal(n->cn, "redis-1.example");
	/* The DNS CN is added to the DNS SANs. */
	assert_int_equal(n->n[NAME_DNS], 2);
	assert_string_equal(n->list[NAME_DNS][0], "redis-1.internal");
	assert_string_equal(n->list[NAME_DNS][1], "redis-1.example");
	assert_int_equal(n->n[NAME_IP], 2);
	assert_string_equal(n->list[NAME_IP][0], "10.0.0.5");
	assert_string_equal(n->list[NAME_IP][1], "2001:db8::1");
	assert_int_equal(n->n[NAME_URI], 1);
	assert_string_equal(n->list[NAME_URI][0], "spiffe://prod/redis");
	ca_csr_free(csr);
	free(pem);
	EVP_PKEY_free(k);
}

static void
test_cn_to_san_rules(void **state)
{
	EVP_PKEY *k = th_key_ec("P-256");
	struct th_csr ip = { .cn = "10.1.1.1" };
	struct th_csr plain = { .cn = "My App" };
	struct th_csr none = { .san = "DNS:only.example" };
	struct th_csr dup = { .cn = "A.example", .san = "DNS:a.example" };
	const struct names *n;
	struct ca_csr *csr;
	struct err e;
	char *pem;

	(void)state;
	pem = th_csr_pem(k, &ip);
	csr = ca_csr_parse(pem, strlen(pem), &e);
	assert_non_null(csr);
	n = ca_csr_names(csr);
	assert_int_equal(n->n[NAME_IP], 1);
	assert_string_equal(n->list[NAME_IP][0], "10.1.1.1");
	assert_int_equal(n->n[NAME_DNS], 0);
	ca_csr_free(csr);
	free(pem);

	pem = th_csr_pem(k, &plain);
	csr = ca_csr_parse(pem, strlen(pem), &e);
	assert_non_null(csr);
	n = ca_csr_names(csr);
	assert_string_equal(n->cn, "My App");
	assert_int_equal(names_count(n), 0);
	ca_csr_free(csr);
	free(pem);

	pem = th_csr_pem(k, &none);
	csr = ca_csr_parse(pem, strlen(pem), &e);
	assert_non_null(csr);
	n = ca_csr_names(csr);
	assert_null(n->cn);
	assert_int_equal(n->n[NAME_DNS], 1);
	ca_csr_free(csr);
	free(pem);

	/* DNS names compare case-insensitively: no duplicate. */
	pem = th_csr_pem(k, &dup);
	csr = ca_csr_parse(pem, strlen(pem), &e);
	assert_non_null(csr);
	assert_int_equal(ca_csr_names(csr)->n[NAME_DNS], 1);
	ca_csr_free(csr);
	free(pem);
	EVP_PKEY_free(k);
}

static void
test_last_cn_and_bad_names(void **state)
{
	EVP_PKEY *k = th_key_ec("P-256");
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	struct th_csr bad = { .cn = "a.example", .san = "DNS:bad name" };
	struct ca_csr *csr;
	struct err e;
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *pem;
	long len;

	(void)state;
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"first.example", -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"last.example", -1, -1, 0), 1);
	assert_int_equal(X509_REQ_set_subject_name(req, name), 1);
	assert_int_equal(X509_REQ_set_pubkey(req, k), 1);
	assert_true(X509_REQ_sign(req, k, EVP_sha256()) > 0);
	assert_int_equal(PEM_write_bio_X509_REQ(bio, req), 1);
	len = BIO_get_mem_data(bio, &data);
	csr = ca_csr_parse(data, (size_t)len, &e);
	assert_non_null(csr);
	assert_string_equal(ca_csr_names(csr)->cn, "last.example");
	ca_csr_free(csr);
	BIO_free(bio);
	X509_NAME_free(name);
	X509_REQ_free(req);

	pem = th_csr_pem(k, &bad);
	expect_refused(pem, ERR_INVALID_CSR);
	free(pem);
	EVP_PKEY_free(k);
}

static void
test_from_cert(void **state)
{
	struct th_fx *f = *state;
	char *pem = th_csr_simple("node-1.example", "IP:10.0.0.9");
	struct ca_issue_params p = { 0 };
	struct profile prof;
	struct ca_cert out;
	struct ca_csr *csr, *re;
	struct err e;

	th_profile_node(&prof);
	p.profile = &prof;
	csr = ca_csr_parse(pem, strlen(pem), &e);
	assert_non_null(csr);
	assert_int_equal(ca_issue(f->ca, csr, &p, &out, &e), 0);
	re = ca_csr_from_cert(out.der, out.der_len, &e);
	assert_non_null(re);
	assert_true(names_equal(ca_csr_names(re), ca_csr_names(csr)));
	assert_int_equal(ca_csr_key_type(re), KEY_EC_P256);
	/* A renewal request has no PEM of its own. */
	assert_null(ca_csr_pem(re, &e));
	/* Issuing from it keeps the same public key. */
	{
		struct ca_cert again;
		X509 *a, *b;

		assert_int_equal(ca_issue(f->ca, re, &p, &again, &e), 0);
		a = th_x509(out.pem);
		b = th_x509(again.pem);
		assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(a),
		    X509_get0_pubkey(b)), 1);
		assert_string_not_equal(out.serial, again.serial);
		X509_free(a);
		X509_free(b);
		ca_cert_clear(&again);
	}
	ca_csr_free(re);

	assert_null(ca_csr_from_cert((const unsigned char *)"junk", 4, &e));
	assert_int_equal(e.code, ERR_INVALID_CSR);
	ca_cert_clear(&out);
	ca_csr_free(csr);
	free(pem);
}

static void
test_keygen(void **state)
{
	static const enum key_type types[] = { KEY_EC_P256, KEY_EC_P384,
	    KEY_RSA_2048 };
	struct names want = NAMES_INIT;
	struct err e;

	(void)state;
	assert_int_equal(names_set_cn(&want, "redis-9.example", NULL), 0);
	assert_int_equal(names_add(&want, NAME_IP, "10.9.9.9", NULL), 0);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		char *key = NULL, *pem;
		struct ca_csr *csr, *re;
		const struct names *n;
		EVP_PKEY *pk;
		BIO *b;

		csr = ca_keygen(types[i], &want, &key, &e);
		if (csr == NULL)
			fail_msg("keygen: %s", e.msg);
		assert_int_equal(ca_csr_key_type(csr), types[i]);
		n = ca_csr_names(csr);
		assert_string_equal(n->cn, "redis-9.example");
		assert_int_equal(n->n[NAME_DNS], 1);
		assert_string_equal(n->list[NAME_DNS][0], "redis-9.example");
		assert_int_equal(n->n[NAME_IP], 1);
		assert_non_null(strstr(key, "-----BEGIN PRIVATE KEY-----"));
		/* The CSR round-trips through the parser, same names. */
		pem = ca_csr_pem(csr, &e);
		assert_non_null(pem);
		re = ca_csr_parse(pem, strlen(pem), &e);
		assert_non_null(re);
		assert_true(names_equal(ca_csr_names(re), n));
		/* And the private key is the CSR's key. */
		b = BIO_new_mem_buf(key, -1);
		pk = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
		assert_non_null(pk);
		{
			X509_REQ *req;
			BIO *rb = BIO_new_mem_buf(pem, -1);

			req = PEM_read_bio_X509_REQ(rb, NULL, NULL, NULL);
			assert_non_null(req);
			assert_int_equal(EVP_PKEY_eq(pk,
			    X509_REQ_get0_pubkey(req)), 1);
			X509_REQ_free(req);
			BIO_free(rb);
		}
		EVP_PKEY_free(pk);
		BIO_free(b);
		ca_csr_free(re);
		free(pem);
		free(key);
		ca_csr_free(csr);
	}
	names_clear(&want);

	/* No names, or bad ones: invalid_request. */
	{
		char *key = NULL;
		struct names none = NAMES_INIT;

		assert_null(ca_keygen(KEY_EC_P256, &none, &key, &e));
		assert_int_equal(e.code, ERR_INVALID_REQUEST);
		assert_null(key);
		none.cn = "x";
		none.list[NAME_DNS] = (char *[]){ "bad name" };
		none.n[NAME_DNS] = 1;
		assert_null(ca_keygen(KEY_EC_P256, &none, &key, &e));
		assert_int_equal(e.code, ERR_INVALID_REQUEST);
		assert_null(ca_keygen((enum key_type)99, &want, &key, &e));
	}
}

/* An RSA CSR signed with RSA-PSS goes through the general verifier. */
static void
test_rsa_pss_signature(void **state)
{
	EVP_PKEY *k = th_key_rsa(2048);
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	struct ca_csr *csr;
	struct err e;
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *copy;
	long len;

	(void)state;
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"pss.example", -1, -1, 0), 1);
	assert_int_equal(X509_REQ_set_subject_name(req, name), 1);
	assert_int_equal(X509_REQ_set_pubkey(req, k), 1);
	assert_int_equal(EVP_DigestSignInit(m, &pctx, EVP_sha256(), NULL, k),
	    1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx,
	    RSA_PKCS1_PSS_PADDING), 1);
	assert_true(X509_REQ_sign_ctx(req, m) > 0);
	assert_int_equal(PEM_write_bio_X509_REQ(bio, req), 1);
	len = BIO_get_mem_data(bio, &data);
	csr = ca_csr_parse(data, (size_t)len, &e);
	if (csr == NULL)
		fail_msg("PSS CSR refused: %s", e.msg);
	assert_int_equal(ca_csr_key_type(csr), KEY_RSA_2048);
	ca_csr_free(csr);

	/* The same with a flipped signature bit is refused. */
	{
		const ASN1_BIT_STRING *sig;
		const X509_ALGOR *alg;
		BIO *b2 = BIO_new(BIO_s_mem());

		X509_REQ_get0_signature(req, &sig, &alg);
		((ASN1_BIT_STRING *)sig)->data[10] ^= 0x01;
		assert_int_equal(PEM_write_bio_X509_REQ(b2, req), 1);
		len = BIO_get_mem_data(b2, &data);
		copy = strndup(data, (size_t)len);
		expect_refused(copy, ERR_CSR_SIGNATURE);
		free(copy);
		BIO_free(b2);
	}
	BIO_free(bio);
	EVP_MD_CTX_free(m);
	X509_NAME_free(name);
	X509_REQ_free(req);
	EVP_PKEY_free(k);
}

/* The old "NEW CERTIFICATE REQUEST" armour is accepted. */
static void
test_new_certificate_request_header(void **state)
{
	char *pem = th_csr_simple("old.example", NULL), *old = NULL, *b64;
	struct ca_csr *csr;
	struct err e;

	(void)state;
	b64 = strchr(pem, '\n') + 1;
	*strstr(b64, "-----END") = '\0';
	assert_true(asprintf(&old, "-----BEGIN NEW CERTIFICATE REQUEST-----\n"
	    "%s-----END NEW CERTIFICATE REQUEST-----\n", b64) > 0);
	csr = ca_csr_parse(old, strlen(old), &e);
	if (csr == NULL)
		fail_msg("refused: %s", e.msg);
	assert_string_equal(ca_csr_names(csr)->cn, "old.example");
	ca_csr_free(csr);
	free(old);
	free(pem);
}

/*
 * The canonical key of an issued certificate (SPEC section 8): named
 * curve and uncompressed point, or rsaEncryption with NULL parameters;
 * its DER hashes to ca_csr_spki_sha256().
 */
static void
check_canonical_spki(const struct ca_cert *out, const struct ca_csr *csr)
{
	char want[RCA_SHA256_HEX + 1], got[RCA_SHA256_HEX + 1];
	unsigned char md[32], *der = NULL;
	const unsigned char *pk;
	const ASN1_OBJECT *obj, *aobj;
	const void *pval;
	X509_ALGOR *alg;
	X509 *x = th_x509(out->pem);
	int pklen, ptype, n;
	static const char hexd[] = "0123456789abcdef";

	assert_int_equal(X509_PUBKEY_get0_param((ASN1_OBJECT **)&obj, &pk,
	    &pklen, &alg, X509_get_X509_PUBKEY(x)), 1);
	X509_ALGOR_get0(&aobj, &ptype, &pval, alg);
	if (OBJ_obj2nid(obj) == NID_X9_62_id_ecPublicKey) {
		assert_int_equal(ptype, V_ASN1_OBJECT);
		assert_int_equal(pk[0], 0x04);
		assert_true(pklen == 65 || pklen == 97);
	} else {
		assert_int_equal(OBJ_obj2nid(obj), NID_rsaEncryption);
		assert_int_equal(ptype, V_ASN1_NULL);
	}
	n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	assert_true(n > 0);
	SHA256(der, (size_t)n, md);
	for (int i = 0; i < 32; i++) {
		want[2 * i] = hexd[md[i] >> 4];
		want[2 * i + 1] = hexd[md[i] & 15];
	}
	want[64] = '\0';
	assert_int_equal(ca_csr_spki_sha256(csr, got), 0);
	assert_string_equal(got, want);
	/* python3-cryptography-like strictness: the key decodes. */
	assert_non_null(X509_get0_pubkey(x));
	OPENSSL_free(der);
	X509_free(x);
}

/*
 * Every case of tests/fuzz/csr_gen.c: the hostile ones are refused
 * with the code SPEC section 8 names (each was accepted, or refused
 * for the wrong reason, before), the valid ones are issued with a
 * canonical key.
 */
static void
test_section8_cases(void **state)
{
	struct th_fx *f = *state;
	struct ca_issue_params p = { 0 };
	struct profile prof;

	th_profile_node(&prof);
	p.profile = &prof;
	for (int k = 0; k < CG__MAX; k++) {
		char *pem = cg_pem((enum cg_kind)k);
		struct ca_csr *csr;
		struct ca_cert out;
		struct err e;

		assert_non_null(pem);
		err_clear(&e);
		csr = ca_csr_parse(pem, strlen(pem), &e);
		if (cg_cases[k].want != ERR_OK) {
			if (csr != NULL)
				fail_msg("%s: accepted, want %s",
				    cg_cases[k].name,
				    err_code_name(cg_cases[k].want));
			if (e.code != cg_cases[k].want)
				fail_msg("%s: got %s (%s), want %s",
				    cg_cases[k].name, err_code_name(e.code),
				    e.msg, err_code_name(cg_cases[k].want));
			assert_true(e.msg[0] != '\0');
			free(pem);
			continue;
		}
		if (csr == NULL)
			fail_msg("%s: refused: %s", cg_cases[k].name, e.msg);
		if (ca_issue(f->ca, csr, &p, &out, &e) == -1)
			fail_msg("%s: not issued: %s", cg_cases[k].name, e.msg);
		check_canonical_spki(&out, csr);
		ca_cert_clear(&out);
		ca_csr_free(csr);
		free(pem);
	}
}

/* The refusal messages name the reason (SPEC 8: "naming the reason"). */
static void
test_section8_messages(void **state)
{
	static const struct {
		enum cg_kind	 k;
		const char	*text;
	} want[] = {
		{ CG_EC_INFINITY, "infinity" },
		{ CG_EC_HYBRID, "hybrid" },
		{ CG_EC_EXPLICIT, "explicit" },
		{ CG_EC_OFF_CURVE, "not on the curve" },
		{ CG_RSA_E1, "65537" },
		{ CG_RSA_E3, "65537" },
		{ CG_RSA_EVEN, "even" },
		{ CG_RSA_PARAMS_OCTET, "NULL" },
		{ CG_RSA_TRAILING, "trailing" },
		{ CG_MD5, "MD5" },
		{ CG_SHA1, "SHA1" },
		{ CG_SHA224, "SHA224" },
		{ CG_PSS_SHA1, "RSA-PSS" },
		{ CG_VERSION5, "version" },
		{ CG_BER_LENGTH, "DER" },
		{ CG_TWO_PEM, "one PEM block" },
		{ CG_TRAILING_TEXT, "one PEM block" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char *pem = cg_pem(want[i].k);
		struct err e;

		assert_null(ca_csr_parse(pem, strlen(pem), &e));
		if (strstr(e.msg, want[i].text) == NULL)
			fail_msg("%s: message '%s' does not say '%s'",
			    cg_cases[want[i].k].name, e.msg, want[i].text);
		free(pem);
	}
}

/* Two requests for one key, compressed and not: one canonical key. */
static void
test_spki_sha256_same_key(void **state)
{
	EVP_PKEY *k = th_key_ec("P-256");
	struct th_csr c = { .cn = "a.example" };
	char *pem = th_csr_pem(k, &c), *pem2;
	char h1[RCA_SHA256_HEX + 1], h2[RCA_SHA256_HEX + 1];
	struct ca_csr *a, *b;
	struct err e;
	EVP_PKEY *k2;

	(void)state;
	a = ca_csr_parse(pem, strlen(pem), &e);
	assert_non_null(a);
	/* The same key, written compressed by OpenSSL. */
	k2 = EVP_PKEY_dup(k);
	assert_int_equal(EVP_PKEY_set_utf8_string_param(k2,
	    OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
	    OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_COMPRESSED), 1);
	pem2 = th_csr_pem(k2, &c);
	b = ca_csr_parse(pem2, strlen(pem2), &e);
	if (b == NULL)
		fail_msg("compressed CSR refused: %s", e.msg);
	assert_int_equal(ca_csr_spki_sha256(a, h1), 0);
	assert_int_equal(ca_csr_spki_sha256(b, h2), 0);
	assert_string_equal(h1, h2);
	assert_int_equal(strlen(h1), RCA_SHA256_HEX);
	assert_int_equal(ca_csr_spki_sha256(NULL, h1), -1);
	ca_csr_free(a);
	ca_csr_free(b);
	free(pem);
	free(pem2);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

/*
 * A certificate carrying a key SPEC 8 refuses (as issued before the
 * rules existed) does not renew; one with a compressed point renews
 * into the canonical form.
 */
static void
test_from_cert_key_rules(void **state)
{
	static const unsigned char infinity[] = { 0x00 };
	EVP_PKEY *k = th_key_ec("P-256");
	unsigned char pt[65], *der = NULL, *bits;
	char h1[RCA_SHA256_HEX + 1], h2[RCA_SHA256_HEX + 1];
	struct th_csr c = { .cn = "a.example" };
	char *pem = th_csr_pem(k, &c);
	struct ca_csr *csr, *re;
	size_t ptlen = 0;
	struct err e;
	X509 *x;
	int n;

	(void)state;
	csr = ca_csr_parse(pem, strlen(pem), &e);
	assert_non_null(csr);
	assert_int_equal(EVP_PKEY_get_octet_string_param(k,
	    OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &ptlen), 1);
	for (int round = 0; round < 3; round++) {
		x = X509_new();
		assert_non_null(x);
		assert_int_equal(X509_set_pubkey(x, k), 1);
		assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
		assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x),
		    7), 1);
		assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
		assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
		assert_int_equal(X509_NAME_add_entry_by_txt(
		    X509_get_subject_name(x), "CN", MBSTRING_UTF8,
		    (const unsigned char *)"a.example", -1, -1, 0), 1);
		if (round == 0) {
			/* compressed */
			bits = OPENSSL_malloc(33);
			bits[0] = (unsigned char)(0x02 | (pt[64] & 1));
			memcpy(bits + 1, pt + 1, 32);
			n = 33;
		} else if (round == 1) {
			bits = OPENSSL_malloc(1);
			memcpy(bits, infinity, 1);
			n = 1;
		} else {
			/* hybrid */
			bits = OPENSSL_malloc(65);
			memcpy(bits, pt, 65);
			bits[0] = (unsigned char)(0x06 | (pt[64] & 1));
			n = 65;
		}
		assert_int_equal(X509_PUBKEY_set0_param(
		    X509_get_X509_PUBKEY(x),
		    OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT,
		    OBJ_nid2obj(NID_X9_62_prime256v1), bits, n), 1);
		assert_int_equal(X509_set_issuer_name(x,
		    X509_get_subject_name(x)), 1);
		assert_true(X509_sign(x, k, EVP_sha256()) > 0);
		n = i2d_X509(x, &der);
		assert_true(n > 0);
		re = ca_csr_from_cert(der, (size_t)n, &e);
		if (round == 0) {
			if (re == NULL)
				fail_msg("compressed: %s", e.msg);
			assert_int_equal(ca_csr_spki_sha256(csr, h1), 0);
			assert_int_equal(ca_csr_spki_sha256(re, h2), 0);
			assert_string_equal(h1, h2);
		} else {
			assert_null(re);
			assert_int_equal(e.code, ERR_KEY_REJECTED);
		}
		ca_csr_free(re);
		OPENSSL_free(der);
		der = NULL;
		X509_free(x);
	}
	ca_csr_free(csr);
	free(pem);
	EVP_PKEY_free(k);
}

/*
 * Whitespace of any kind after the block, also blanks after the END
 * line without a newline (OpenSSL's reader refuses those by itself;
 * found by the csr fuzzer).
 */
static void
test_pem_trailing_blanks(void **state)
{
	char *pem = th_csr_simple("a.example", NULL), *p2 = NULL;
	struct ca_csr *csr;
	struct err e;
	size_t n = strlen(pem);

	(void)state;
	/* "-----END CERTIFICATE REQUEST----- " with no newline. */
	assert_int_equal(pem[n - 1], '\n');
	pem[n - 1] = ' ';
	csr = ca_csr_parse(pem, n, &e);
	if (csr == NULL)
		fail_msg("refused: %s", e.msg);
	ca_csr_free(csr);
	assert_true(asprintf(&p2, " \r\n\t%.*s\t \r\n\n", (int)n, pem) > 0);
	csr = ca_csr_parse(p2, strlen(p2), &e);
	if (csr == NULL)
		fail_msg("refused: %s", e.msg);
	ca_csr_free(csr);
	free(p2);
	free(pem);
}

/*
 * Nothing but base64 inside the block: OpenSSL's decoder stops at a
 * '-' and ignores the rest, so a second BEGIN line or text could hide
 * in a block that still decodes to a good request (found by the csr
 * fuzzer in PEM mode).
 */
static void
test_pem_text_inside_block(void **state)
{
	char *pem = th_csr_simple("a.example", NULL), *bad = NULL;
	char *endl = strstr(pem, "-----END");

	(void)state;
	assert_non_null(endl);
	assert_true(asprintf(&bad, "%.*s-----EN\n-----BEGIN CERTIFICATE "
	    "REQUEST-----\nAAAA\n%s", (int)(endl - pem), pem, endl) > 0);
	expect_refused(bad, ERR_INVALID_CSR);
	free(bad);
	assert_true(asprintf(&bad, "%.*s-hidden: text\n%s",
	    (int)(endl - pem), pem, endl) > 0);
	expect_refused(bad, ERR_INVALID_CSR);
	free(bad);
	free(pem);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_extensions_ignored),
		cmocka_unit_test(test_rsa_1024_rejected),
		cmocka_unit_test(test_dsa_rejected),
		cmocka_unit_test(test_other_curves_rejected),
		cmocka_unit_test(test_ed25519_rejected),
		cmocka_unit_test(test_accepted_key_types),
		cmocka_unit_test(test_rsa_odd_size_rejected),
		cmocka_unit_test(test_bad_signature),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_names_extraction),
		cmocka_unit_test(test_cn_to_san_rules),
		cmocka_unit_test(test_last_cn_and_bad_names),
		cmocka_unit_test(test_from_cert),
		cmocka_unit_test(test_keygen),
		cmocka_unit_test(test_rsa_pss_signature),
		cmocka_unit_test(test_new_certificate_request_header),
		cmocka_unit_test(test_section8_cases),
		cmocka_unit_test(test_section8_messages),
		cmocka_unit_test(test_spki_sha256_same_key),
		cmocka_unit_test(test_from_cert_key_rules),
		cmocka_unit_test(test_pem_trailing_blanks),
		cmocka_unit_test(test_pem_text_inside_block),
	};

	return cmocka_run_group_tests(tests, setup, th_fx_teardown);
}
