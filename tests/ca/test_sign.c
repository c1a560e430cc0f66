/*
 * Tests for ca/sign.c: one test per issuance rule of SPEC section 5,
 * chain verification with OpenSSL, serial uniqueness, and verification
 * of client certificates presented for renewal.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "helpers.h"

#include <openssl/bn.h>
#include <openssl/sha.h>
#include <openssl/x509_vfy.h>

#include "hex.h"

struct fx {
	struct th_fx	 x;		/* P-256, 365 days, public_url */
	struct profile	 node;
	struct profile	 client;
	char		*csr_pem;	/* CN + DNS + IP SANs */
	struct ca_csr	*csr;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct err e;

	assert_non_null(f);
	th_fx_init(&f->x, 365, "http://ca.test:8080/");
	th_profile_node(&f->node);
	th_profile_client(&f->client);
	f->csr_pem = th_csr_simple("redis-1.example",
	    "DNS:redis-1.internal,IP:10.0.0.7");
	f->csr = ca_csr_parse(f->csr_pem, strlen(f->csr_pem), &e);
	assert_non_null(f->csr);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	ca_csr_free(f->csr);
	free(f->csr_pem);
	th_fx_clear(&f->x);
	free(f);
	return 0;
}

/* Issue csr under prof with ttl/cap/now; asserts success. */
static X509 *
issue(struct fx *f, const struct ca_csr *csr, const struct profile *prof,
    int64_t ttl, int64_t cap, int64_t now, struct ca_cert *out)
{
	struct ca_issue_params p = { prof, ttl, cap, now };
	struct err e;

	err_clear(&e);
	if (ca_issue(f->x.ca, csr, &p, out, &e) != 0)
		fail_msg("ca_issue: %s", e.msg);
	return th_x509(out->pem);
}

static void
expect_issue_error(struct fx *f, const struct ca_csr *csr,
    const struct profile *prof, int64_t ttl, int64_t cap,
    enum err_code code)
{
	struct ca_issue_params p = { prof, ttl, cap, 0 };
	struct ca_cert out;
	struct err e;

	err_clear(&e);
	assert_int_equal(ca_issue(f->x.ca, csr, &p, &out, &e), -1);
	if (e.code != code)
		fail_msg("got %s (%s), expected %s", err_code_name(e.code),
		    e.msg, err_code_name(code));
	assert_null(out.pem);
	assert_null(out.der);
	err_clear(&e);
	assert_int_equal(ca_policy_check(csr, &p, &e), -1);
	assert_int_equal(e.code, code);
}

static struct ca_csr *
parse(const char *pem)
{
	struct err e;
	struct ca_csr *c = ca_csr_parse(pem, strlen(pem), &e);

	if (c == NULL)
		fail_msg("ca_csr_parse: %s", e.msg);
	return c;
}

static void
test_subject_cn_only(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *k = th_key_ec("P-256");
	struct th_csr c = { .cn = "app-1", .o = "Evil Corp", .ou = "Root",
	    .san = "DNS:app-1.example" };
	char *pem = th_csr_pem(k, &c), buf[256];
	struct ca_csr *csr = parse(pem);
	struct ca_cert out;
	X509 *x = issue(f, csr, &f->client, 0, 0, 0, &out);
	X509 *cax = th_x509(ca_cert_pem(f->x.ca));
	X509_NAME *subj = X509_get_subject_name(x);

	assert_int_equal(X509_NAME_entry_count(subj), 1);
	assert_true(X509_NAME_get_text_by_NID(subj, NID_commonName, buf,
	    sizeof(buf)) > 0);
	assert_string_equal(buf, "app-1");
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(x),
	    X509_get_subject_name(cax)), 0);
	assert_string_equal(out.names.cn, "app-1");
	X509_free(cax);
	X509_free(x);
	ca_cert_clear(&out);
	ca_csr_free(csr);
	free(pem);

	/* No CN in the request: none in the subject, SAN critical. */
	{
		struct th_csr nocn = { .san = "DNS:anon.example" };
		X509_EXTENSION *ext;

		pem = th_csr_pem(k, &nocn);
		csr = parse(pem);
		x = issue(f, csr, &f->node, 0, 0, 0, &out);
		assert_int_equal(X509_NAME_entry_count(
		    X509_get_subject_name(x)), 0);
		ext = X509_get_ext(x, X509_get_ext_by_NID(x,
		    NID_subject_alt_name, -1));
		assert_non_null(ext);
		assert_int_equal(X509_EXTENSION_get_critical(ext), 1);
		assert_null(out.names.cn);
		X509_free(x);
		ca_cert_clear(&out);
		ca_csr_free(csr);
		free(pem);
	}
	EVP_PKEY_free(k);
}

static void
test_extensions(void **state)
{
	struct fx *f = *state;
	struct ca_cert out;
	X509 *x = issue(f, f->csr, &f->node, 0, 0, 0, &out);
	X509 *cax = th_x509(ca_cert_pem(f->x.ca));
	BASIC_CONSTRAINTS *bc;
	EXTENDED_KEY_USAGE *eku;
	GENERAL_NAMES *san;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int crit = 0;
	const int want[] = { NID_basic_constraints, NID_key_usage,
	    NID_ext_key_usage, NID_subject_key_identifier,
	    NID_authority_key_identifier, NID_subject_alt_name,
	    NID_crl_distribution_points, NID_info_access };

	/* Exactly the profile's extensions, nothing else. */
	assert_int_equal(X509_get_ext_count(x), 8);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_true(X509_get_ext_by_NID(x, want[i], -1) >= 0);
	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	assert_non_null(bc);
	assert_int_equal(crit, 1);
	assert_int_equal(bc->ca, 0);
	BASIC_CONSTRAINTS_free(bc);
	ASN1_BIT_STRING_free(X509_get_ext_d2i(x, NID_key_usage, &crit, NULL));
	assert_int_equal(crit, 1);
	assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
	eku = X509_get_ext_d2i(x, NID_ext_key_usage, &crit, NULL);
	assert_non_null(eku);
	assert_int_equal(sk_ASN1_OBJECT_num(eku), 2);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	assert_int_equal(X509_get_extended_key_usage(x),
	    XKU_SSL_SERVER | XKU_SSL_CLIENT);
	/* SKI is the SHA-1 of the key; AKI is the CA's SKI. */
	assert_int_equal(X509_pubkey_digest(x, EVP_sha1(), md, &mdlen), 1);
	assert_non_null(X509_get0_subject_key_id(x));
	assert_memory_equal(ASN1_STRING_get0_data(X509_get0_subject_key_id(x)),
	    md, mdlen);
	assert_non_null(X509_get0_authority_key_id(x));
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
	    X509_get0_subject_key_id(cax)), 0);
	/* SAN: CSR SANs plus the DNS CN. */
	san = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	assert_non_null(san);
	assert_int_equal(crit, 0);
	assert_int_equal(sk_GENERAL_NAME_num(san), 3);
	GENERAL_NAMES_free(san);
	assert_int_equal(X509_check_host(x, "redis-1.example", 0, 0, NULL),
	    1);
	assert_int_equal(X509_check_host(x, "redis-1.internal", 0, 0, NULL),
	    1);
	assert_int_equal(X509_check_ip_asc(x, "10.0.0.7", 0), 1);
	assert_int_equal(out.names.n[NAME_DNS], 2);
	assert_int_equal(out.names.n[NAME_IP], 1);
	assert_int_equal(out.key_type, KEY_EC_P256);
	X509_free(cax);
	X509_free(x);
	ca_cert_clear(&out);
}

static void
test_require_san(void **state)
{
	struct fx *f = *state;
	char *pem = th_csr_simple("My App", NULL);
	struct ca_csr *csr = parse(pem);
	struct ca_cert out;
	X509 *x;

	expect_issue_error(f, csr, &f->node, 0, 0, ERR_INVALID_CSR);
	/* A URI SAN does not satisfy require_san either. */
	{
		char *p2 = th_csr_simple("My App", "URI:spiffe://x/y");
		struct ca_csr *c2 = parse(p2);

		expect_issue_error(f, c2, &f->node, 0, 0, ERR_INVALID_CSR);
		ca_csr_free(c2);
		free(p2);
	}
	/* The client profile takes it. */
	x = issue(f, csr, &f->client, 0, 0, 0, &out);
	assert_int_equal(X509_get_ext_by_NID(x, NID_subject_alt_name, -1),
	    -1);
	X509_free(x);
	ca_cert_clear(&out);
	ca_csr_free(csr);
	free(pem);
}

static void
test_serial(void **state)
{
	struct fx *f = *state;
	struct ca_cert out;
	X509 *x = issue(f, f->csr, &f->node, 0, 0, 0, &out);
	const ASN1_INTEGER *ai = X509_get0_serialNumber(x);
	BIGNUM *bn = ASN1_INTEGER_to_BN(ai, NULL);
	char *hex = BN_bn2hex(bn), norm[RCA_SERIAL_HEX_MAX + 1];
	struct err e;

	assert_false(BN_is_negative(bn));
	assert_false(BN_is_zero(bn));
	assert_true(BN_num_bits(bn) <= 127);
	/* Random: at least 100 bits used (fails with p = 2^-27). */
	assert_true(BN_num_bits(bn) >= 100);
	assert_int_equal(hex_serial_normalize(hex, norm, &e), 0);
	assert_string_equal(out.serial, norm);
	assert_true(out.serial[0] != '0');
	for (const char *c = out.serial; *c; c++)
		assert_true((*c >= '0' && *c <= '9') ||
		    (*c >= 'a' && *c <= 'f'));
	OPENSSL_free(hex);
	BN_free(bn);
	X509_free(x);
	ca_cert_clear(&out);
}

static void
test_validity(void **state)
{
	struct fx *f = *state;
	int64_t now = (int64_t)time(NULL) - 1000;
	struct ca_cert out;
	X509 *x;

	/* Default ttl, notBefore backdated 60 s. */
	x = issue(f, f->csr, &f->node, 0, 0, now, &out);
	assert_int_equal(th_time(X509_get0_notBefore(x)), now - 60);
	assert_int_equal(th_time(X509_get0_notAfter(x)), now + 72 * 3600);
	assert_int_equal(out.not_before, now - 60);
	assert_int_equal(out.not_after, now + 72 * 3600);
	X509_free(x);
	ca_cert_clear(&out);

	/* A requested ttl below the maximum. */
	x = issue(f, f->csr, &f->node, 3600, 0, now, &out);
	assert_int_equal(th_time(X509_get0_notAfter(x)), now + 3600);
	X509_free(x);
	ca_cert_clear(&out);

	/* Exactly the maximum is fine. */
	x = issue(f, f->csr, &f->node, 30 * 86400, 0, now, &out);
	assert_int_equal(out.not_after, now + 30 * 86400);
	X509_free(x);
	ca_cert_clear(&out);
}

static void
test_ttl_limits(void **state)
{
	struct fx *f = *state;
	struct ca_cert out;
	X509 *x;

	expect_issue_error(f, f->csr, &f->node, 30 * 86400 + 1, 0,
	    ERR_TTL_TOO_LONG);
	expect_issue_error(f, f->csr, &f->node, 7200, 3600, ERR_TTL_TOO_LONG);
	expect_issue_error(f, f->csr, &f->node, -5, 0, ERR_INVALID_TTL);
	/* A token cap below the default lowers the defaulted ttl. */
	x = issue(f, f->csr, &f->node, 0, 3600, 1800000000, &out);
	assert_int_equal(out.not_after, 1800000000 + 3600);
	X509_free(x);
	ca_cert_clear(&out);
	/* A cap above the default changes nothing. */
	x = issue(f, f->csr, &f->node, 0, 30 * 86400, 1800000000, &out);
	assert_int_equal(out.not_after, 1800000000 + 72 * 3600);
	X509_free(x);
	ca_cert_clear(&out);
}

static void
test_cut_at_ca_not_after(void **state)
{
	char *dir = th_tmpdir();
	struct ca *ca = th_ca(dir, KEY_EC_P256, 2, NULL);
	struct profile prof;
	struct ca_issue_params p = { &prof, 10 * 86400, 0, 0 };
	struct ca_cert out;
	struct err e;

	(void)state;
	th_profile_node(&prof);
	{
		char *pem = th_csr_simple("a.example", NULL);
		struct ca_csr *csr = parse(pem);

		assert_int_equal(ca_issue(ca, csr, &p, &out, &e), 0);
		assert_int_equal(out.not_after, ca_not_after(ca));
		ca_cert_clear(&out);
		/* A CA past its notAfter issues nothing. */
		p.ttl = 0;
		p.now = ca_not_after(ca) + 10;
		assert_int_equal(ca_issue(ca, csr, &p, &out, &e), -1);
		ca_csr_free(csr);
		free(pem);
	}
	ca_free(ca);
	th_rmrf(dir);
	free(dir);
}

static void
test_signature_digest(void **state)
{
	struct fx *f = *state;
	char *dir = th_tmpdir();
	struct ca *ca384 = th_ca(dir, KEY_EC_P384, 30, NULL);
	struct ca_issue_params p = { &f->node, 0, 0, 0 };
	struct ca_cert out;
	struct err e;
	X509 *x;

	x = issue(f, f->csr, &f->node, 0, 0, 0, &out);
	assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
	X509_free(x);
	ca_cert_clear(&out);

	assert_int_equal(ca_key_type(ca384), KEY_EC_P384);
	assert_int_equal(ca_issue(ca384, f->csr, &p, &out, &e), 0);
	x = th_x509(out.pem);
	assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA384);
	/* Without public_url: no CRL DP, no AIA. */
	assert_int_equal(X509_get_ext_by_NID(x, NID_crl_distribution_points,
	    -1), -1);
	assert_int_equal(X509_get_ext_by_NID(x, NID_info_access, -1), -1);
	X509_free(x);
	ca_cert_clear(&out);
	ca_free(ca384);
	th_rmrf(dir);
	free(dir);
}

static void
test_crl_dp_aia(void **state)
{
	struct fx *f = *state;
	struct ca_cert out;
	X509 *x = issue(f, f->csr, &f->node, 0, 0, 0, &out);
	STACK_OF(DIST_POINT) *dps;
	AUTHORITY_INFO_ACCESS *aia;
	const GENERAL_NAME *g;
	const ACCESS_DESCRIPTION *ad;
	char want[128];

	dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
	assert_non_null(dps);
	assert_int_equal(sk_DIST_POINT_num(dps), 1);
	g = sk_GENERAL_NAME_value(
	    sk_DIST_POINT_value(dps, 0)->distpoint->name.fullname, 0);
	assert_int_equal(g->type, GEN_URI);
	/*
	 * The trailing slash of public_url is not doubled.  Issue 12: the
	 * CRL of the issuing CA, by its SKI (was /v1/crl: several CAs
	 * publish a CRL each during a rollover).
	 */
	snprintf(want, sizeof(want), "http://ca.test:8080/v1/crl/%s",
	    ca_ski_hex(f->x.ca));
	assert_int_equal(strlen(ca_ski_hex(f->x.ca)), 40);
	assert_string_equal((const char *)ASN1_STRING_get0_data(
	    g->d.uniformResourceIdentifier), want);
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);

	aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
	assert_non_null(aia);
	assert_int_equal(sk_ACCESS_DESCRIPTION_num(aia), 1);
	ad = sk_ACCESS_DESCRIPTION_value(aia, 0);
	assert_int_equal(OBJ_obj2nid(ad->method), NID_ad_ca_issuers);
	assert_int_equal(ad->location->type, GEN_URI);
	assert_string_equal((const char *)ASN1_STRING_get0_data(
	    ad->location->d.uniformResourceIdentifier),
	    "http://ca.test:8080/v1/ca.pem");
	AUTHORITY_INFO_ACCESS_free(aia);
	X509_free(x);
	ca_cert_clear(&out);
}

static void
test_key_encipherment_rsa_only(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *k = th_key_rsa(2048);
	struct th_csr c = { .cn = "rsa.example" };
	char *pem = th_csr_pem(k, &c);
	struct ca_csr *csr = parse(pem);
	struct ca_cert out;
	X509 *x = issue(f, csr, &f->node, 0, 0, 0, &out);

	assert_int_equal(X509_get_key_usage(x),
	    KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
	assert_int_equal(out.key_type, KEY_RSA_2048);
	X509_free(x);
	ca_cert_clear(&out);

	/* EC: digitalSignature only. */
	x = issue(f, f->csr, &f->node, 0, 0, 0, &out);
	assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
	X509_free(x);
	ca_cert_clear(&out);

	/* A key type outside the profile's list is refused. */
	{
		struct profile ec_only = f->node;

		ec_only.key_types = KEY_BIT(KEY_EC_P256);
		expect_issue_error(f, csr, &ec_only, 0, 0, ERR_KEY_REJECTED);
	}
	ca_csr_free(csr);
	free(pem);
	EVP_PKEY_free(k);
}

static void
test_chain_verifies(void **state)
{
	struct fx *f = *state;
	struct ca_cert out;
	X509 *x = issue(f, f->csr, &f->node, 0, 0, 0, &out);
	X509 *cax = th_x509(ca_cert_pem(f->x.ca));
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();

	assert_int_equal(X509_STORE_add_cert(store, cax), 1);
	assert_int_equal(X509_STORE_CTX_init(ctx, store, x, NULL), 1);
	assert_int_equal(X509_STORE_CTX_set_purpose(ctx,
	    X509_PURPOSE_SSL_SERVER), 1);
	X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx),
	    X509_V_FLAG_X509_STRICT);
	if (X509_verify_cert(ctx) != 1)
		fail_msg("verify: %s", X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
	/* The fingerprint and DER agree with the PEM. */
	{
		unsigned char md[32];
		unsigned int mdlen = 0;
		char hex[65];

		assert_int_equal(X509_digest(x, EVP_sha256(), md, &mdlen), 1);
		hex_encode(md, mdlen, hex);
		assert_string_equal(out.fingerprint, hex);
		assert_int_equal(i2d_X509(x, NULL), (int)out.der_len);
	}
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(cax);
	X509_free(x);
	ca_cert_clear(&out);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_unique_serials(void **state)
{
	struct fx *f = *state;
	enum { N = 10000 };
	struct ca_issue_params p = { &f->node, 0, 0, 0 };
	char **serials = calloc(N, sizeof(*serials));
	struct ca_cert out;
	struct err e;

	assert_non_null(serials);
	for (int i = 0; i < N; i++) {
		assert_int_equal(ca_issue(f->x.ca, f->csr, &p, &out, &e), 0);
		serials[i] = strdup(out.serial);
		assert_non_null(serials[i]);
		ca_cert_clear(&out);
	}
	qsort(serials, N, sizeof(*serials), cmp_str);
	for (int i = 1; i < N; i++)
		if (strcmp(serials[i - 1], serials[i]) == 0)
			fail_msg("duplicate serial %s", serials[i]);
	for (int i = 0; i < N; i++)
		free(serials[i]);
	free(serials);
}

struct thr {
	struct fx	*f;
	int		 ok;
};

static void *
thr_issue(void *arg)
{
	struct thr *t = arg;
	struct ca_issue_params p = { &t->f->node, 0, 0, 0 };
	struct ca_cert out;
	struct err e;

	for (int i = 0; i < 300; i++) {
		struct ca_csr *csr = ca_csr_parse(t->f->csr_pem,
		    strlen(t->f->csr_pem), &e);

		if (csr == NULL)
			continue;
		if (ca_issue(t->f->x.ca, csr, &p, &out, &e) == 0)
			t->ok++;
		ca_cert_clear(&out);
		ca_csr_free(csr);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	struct fx *f = *state;
	struct thr t[4];
	pthread_t th[4];

	for (int i = 0; i < 4; i++) {
		t[i].f = f;
		t[i].ok = 0;
		assert_int_equal(pthread_create(&th[i], NULL, thr_issue, &t[i]),
		    0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(t[i].ok, 300);
	}
}

static void
test_verify_cert(void **state)
{
	struct fx *f = *state;
	struct ca_cert out, got;
	struct err e;
	X509 *x;
	int64_t now = (int64_t)time(NULL);

	/* Our own client certificate: accepted, fields filled. */
	x = issue(f, f->csr, &f->client, 0, 0, 0, &out);
	X509_free(x);
	err_clear(&e);
	if (ca_verify_cert(f->x.ca, out.der, out.der_len, now, &got, &e) != 0)
		fail_msg("verify: %s", e.msg);
	assert_string_equal(got.serial, out.serial);
	assert_string_equal(got.fingerprint, out.fingerprint);
	assert_int_equal(got.not_after, out.not_after);
	assert_int_equal(got.not_before, out.not_before);
	assert_int_equal(got.key_type, KEY_EC_P256);
	assert_true(names_equal(&got.names, &out.names));
	assert_string_equal(got.pem, out.pem);
	ca_cert_clear(&got);

	/* Expired: refused at a time after notAfter. */
	assert_int_equal(ca_verify_cert(f->x.ca, out.der, out.der_len,
	    out.not_after + 10, &got, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	assert_non_null(strstr(e.msg, "expired"));
	ca_cert_clear(&out);

	/* serverAuth only: no clientAuth, refused. */
	{
		struct profile srv = f->node;

		srv.eku = EKU_SERVER_AUTH;
		x = issue(f, f->csr, &srv, 0, 0, 0, &out);
		X509_free(x);
		assert_int_equal(ca_verify_cert(f->x.ca, out.der, out.der_len,
		    now, &got, &e), -1);
		assert_int_equal(e.code, ERR_UNAUTHORIZED);
		ca_cert_clear(&out);
	}

	/* Another CA's certificate. */
	{
		char *dir = th_tmpdir();
		struct ca *other = th_ca(dir, KEY_EC_P256, 30, NULL);
		struct ca_issue_params p = { &f->client, 0, 0, 0 };

		assert_int_equal(ca_issue(other, f->csr, &p, &out, &e), 0);
		assert_int_equal(ca_verify_cert(f->x.ca, out.der, out.der_len,
		    now, &got, &e), -1);
		assert_int_equal(e.code, ERR_UNAUTHORIZED);
		/* And the other CA's own certificate. */
		{
			size_t len;
			const unsigned char *der = ca_cert_der(other, &len);

			assert_int_equal(ca_verify_cert(f->x.ca, der, len, now,
			    &got, &e), -1);
			assert_int_equal(e.code, ERR_UNAUTHORIZED);
		}
		ca_cert_clear(&out);
		ca_free(other);
		th_rmrf(dir);
		free(dir);
	}

	/* Garbage. */
	assert_int_equal(ca_verify_cert(f->x.ca, (const unsigned char *)"xx", 2,
	    now, &got, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
}

/*
 * SPEC section 8: the certificate's SubjectPublicKeyInfo is built from
 * the validated key, never copied from the request: a compressed point
 * is issued uncompressed, and its DER is what ca_csr_spki_sha256()
 * hashes.  (Before, the request's own bytes went into the certificate.)
 */
static void
test_canonical_spki(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *k = th_key_ec("P-256"), *kc;
	struct th_csr c = { .cn = "redis-1.example",
	    .san = "DNS:redis-1.example" };
	char *pem, hex[RCA_SHA256_HEX + 1], want[RCA_SHA256_HEX + 1];
	unsigned char *der = NULL, md[32];
	const ASN1_BIT_STRING *bits;
	struct ca_csr *csr;
	struct ca_cert out;
	struct err e;
	X509 *x;
	int n;

	kc = EVP_PKEY_dup(k);
	assert_non_null(kc);
	assert_int_equal(EVP_PKEY_set_utf8_string_param(kc,
	    "point-format", "compressed"), 1);
	pem = th_csr_pem(kc, &c);
	csr = ca_csr_parse(pem, strlen(pem), &e);
	if (csr == NULL)
		fail_msg("compressed P-256 refused: %s", e.msg);
	x = issue(f, csr, &f->node, 0, 0, 0, &out);
	bits = X509_get0_pubkey_bitstr(x);
	assert_int_equal(ASN1_STRING_length(bits), 65);
	assert_int_equal(ASN1_STRING_get0_data(bits)[0], 0x04);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), k), 1);
	n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	assert_true(n == 91);
	SHA256(der, (size_t)n, md);
	hex_encode(md, sizeof(md), want);
	assert_int_equal(ca_csr_spki_sha256(csr, hex), 0);
	assert_string_equal(hex, want);
	/* The uncompressed request for the same key: same hash. */
	ca_csr_free(csr);
	free(pem);
	pem = th_csr_pem(k, &c);
	csr = ca_csr_parse(pem, strlen(pem), &e);
	assert_non_null(csr);
	assert_int_equal(ca_csr_spki_sha256(csr, hex), 0);
	assert_string_equal(hex, want);
	OPENSSL_free(der);
	X509_free(x);
	ca_cert_clear(&out);
	ca_csr_free(csr);
	free(pem);
	EVP_PKEY_free(kc);
	EVP_PKEY_free(k);
}

/* An RSA certificate: rsaEncryption with NULL parameters. */
static void
test_canonical_spki_rsa(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *k = th_key_rsa(2048);
	struct th_csr c = { .cn = "redis-1.example",
	    .san = "DNS:redis-1.example" };
	char *pem = th_csr_pem(k, &c);
	const ASN1_OBJECT *obj;
	const void *pval;
	X509_ALGOR *alg;
	struct ca_csr *csr;
	struct ca_cert out;
	struct err e;
	int ptype;
	X509 *x;

	csr = ca_csr_parse(pem, strlen(pem), &e);
	assert_non_null(csr);
	x = issue(f, csr, &f->node, 0, 0, 0, &out);
	assert_int_equal(X509_PUBKEY_get0_param(NULL, NULL, NULL, &alg,
	    X509_get_X509_PUBKEY(x)), 1);
	X509_ALGOR_get0(&obj, &ptype, &pval, alg);
	assert_int_equal(OBJ_obj2nid(obj), NID_rsaEncryption);
	assert_int_equal(ptype, V_ASN1_NULL);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), k), 1);
	X509_free(x);
	ca_cert_clear(&out);
	ca_csr_free(csr);
	free(pem);
	EVP_PKEY_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subject_cn_only),
		cmocka_unit_test(test_extensions),
		cmocka_unit_test(test_require_san),
		cmocka_unit_test(test_serial),
		cmocka_unit_test(test_validity),
		cmocka_unit_test(test_ttl_limits),
		cmocka_unit_test(test_cut_at_ca_not_after),
		cmocka_unit_test(test_signature_digest),
		cmocka_unit_test(test_crl_dp_aia),
		cmocka_unit_test(test_key_encipherment_rsa_only),
		cmocka_unit_test(test_chain_verifies),
		cmocka_unit_test(test_unique_serials),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_verify_cert),
		cmocka_unit_test(test_canonical_spki),
		cmocka_unit_test(test_canonical_spki_rsa),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
