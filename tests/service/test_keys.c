/*
 * Tests of compromised keys (SPEC section 8): revoking for keyCompromise
 * revokes every unexpired certificate with the same public key and
 * blocks the key (service/certs.c), which issuance, renewal and client
 * certificate authentication then refuse (service/keys.c); hashes of
 * older rows are filled at start-up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ca.h"
#include "db.h"
#include "fixture.h"
#include "testdb.h"

/* A CSR (new PEM) for key with CN cn, the EC point in form fmt. */
static char *
key_csr(EVP_PKEY *key, const char *cn, const char *fmt)
{
	X509_REQ	*r = X509_REQ_new();
	X509_NAME	*n = X509_NAME_new();
	BIO		*b = BIO_new(BIO_s_mem());
	char		*data, *pem;
	long		 len;

	assert_non_null(r);
	if (fmt != NULL)
		assert_int_equal(EVP_PKEY_set_utf8_string_param(key,
		    OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, fmt), 1);
	assert_int_equal(X509_NAME_add_entry_by_NID(n, NID_commonName,
	    MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_REQ_set_subject_name(r, n), 1);
	assert_int_equal(X509_REQ_set_pubkey(r, key), 1);
	assert_true(X509_REQ_sign(r, key, EVP_sha256()) > 0);
	assert_int_equal(PEM_write_bio_X509_REQ(b, r), 1);
	len = BIO_get_mem_data(b, &data);
	assert_non_null(pem = strndup(data, (size_t)len));
	BIO_free(b);
	X509_NAME_free(n);
	X509_REQ_free(r);
	return pem;
}

/* Issue a redis-client certificate for csr by the admin (must work). */
static void
issue_csr(struct fx *f, const char *csr, struct svc_issued *out)
{
	struct err e;

	if (fx_issue_csr(f->svc, &f->admin, csr, 0, out, &e) == -1)
		fail_msg("svc_issue: %s", e.msg);
}

/* Issue for key (point form fmt) and keep the serial. */
static void
issue_key(struct fx *f, EVP_PKEY *k, const char *cn, const char *fmt,
    char serial[RCA_SERIAL_HEX_MAX + 1])
{
	struct svc_issued	 is = { 0 };
	char			*csr = key_csr(k, cn, fmt);

	issue_csr(f, csr, &is);
	memcpy(serial, is.cert.serial, RCA_SERIAL_HEX_MAX + 1);
	svc_issued_clear(&is);
	free(csr);
}

/* Run one SQL statement (both dialects read it alike) on the database. */
static void
raw_sql(struct fx *f, const char *q)
{
	tdb_exec(f->db, q, NULL);
}

/* The stored status of serial: -1 valid, else its reason code. */
static int
reason_of(struct fx *f, const char *serial)
{
	struct cert_rec	c;
	struct err	e;
	int		r;

	err_clear(&e);
	assert_int_equal(svc_cert_get(f->svc, serial, &c, &e), 0);
	r = c.revoked_at != 0 ? c.reason : -1;
	cert_rec_clear(&c);
	return r;
}

/* True when the current CRL lists serial. */
static bool
crl_lists(struct fx *f, const char *serial)
{
	uint64_t	 n;
	char		*t = fx_crl_current_text(f->svc, &n);
	bool		 found = fx_crl_lists(t, serial, NULL);

	free(t);
	return found;
}

/*
 * Three certificates with one key (the point spelled both ways) and one
 * with another; an expired same-key one; revoking one for keyCompromise
 * revokes the other two unexpired ones, in the same CRL, each audited.
 */
static void
test_key_compromise_cascade(void **state)
{
	struct fx	*f = *state;
	struct cert_rec	 out;
	struct err	 e;
	char		 s1[41], s2[41], s3[41], s4[41], s5[41], q[256];
	uint64_t	 num = 0;
	EVP_PKEY	*k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY	*other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	err_clear(&e);
	issue_key(f, k, "app-1", "uncompressed", s1);
	issue_key(f, k, "app-2", "compressed", s2);
	issue_key(f, k, "app-3", "uncompressed", s3);
	issue_key(f, other, "app-4", NULL, s4);
	issue_key(f, k, "app-5", NULL, s5);
	/* s5 expired an hour ago. */
	snprintf(q, sizeof(q), "UPDATE certificates SET not_after = "
	    "not_after - 200000 WHERE serial = '%s'", s5);
	raw_sql(f, q);

	assert_int_equal(svc_revoke(f->svc, &f->admin, s2,
	    REASON_KEY_COMPROMISE, &out, &num, &e), 0);
	assert_string_equal(out.serial, s2);
	assert_int_equal(out.reason, REASON_KEY_COMPROMISE);
	cert_rec_clear(&out);
	assert_int_equal(reason_of(f, s1), REASON_KEY_COMPROMISE);
	assert_int_equal(reason_of(f, s3), REASON_KEY_COMPROMISE);
	assert_int_equal(reason_of(f, s4), -1);
	assert_int_equal(reason_of(f, s5), -1);

	/* The CRL numbered in the answer lists all three. */
	assert_true(num > 0);
	assert_true(crl_lists(f, s1));
	assert_true(crl_lists(f, s2));
	assert_true(crl_lists(f, s3));
	assert_false(crl_lists(f, s4));

	assert_true(fx_audit_has(f, "certificate.revoke", "ok", s2,
	    "reason=keyCompromise"));
	snprintf(q, sizeof(q), "same_key_as=%s", s2);
	assert_true(fx_audit_has(f, "certificate.revoke", "ok", s1, q));
	assert_true(fx_audit_has(f, "certificate.revoke", "ok", s3, q));
	assert_false(fx_audit_has(f, "certificate.revoke", "ok", s4, NULL));
	assert_false(fx_audit_has(f, "certificate.revoke", "ok", s5, NULL));
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

/* Other reasons revoke one certificate and block nothing. */
static void
test_other_reasons_do_not_cascade(void **state)
{
	static const int reasons[] = { REASON_UNSPECIFIED,
	    REASON_AFFILIATION_CHANGED, REASON_SUPERSEDED,
	    REASON_CESSATION_OF_OPERATION, REASON_PRIVILEGE_WITHDRAWN };
	struct fx	*f = *state;
	struct err	 e;
	char		 a[41], b[41], c[41];
	EVP_PKEY	*k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	err_clear(&e);
	issue_key(f, k, "app", NULL, b);
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		issue_key(f, k, "app", NULL, a);
		assert_int_equal(svc_revoke(f->svc, &f->admin, a, reasons[i],
		    NULL, NULL, &e), 0);
		assert_int_equal(reason_of(f, b), -1);
	}
	/* The key is still good for a new certificate. */
	issue_key(f, k, "app", NULL, c);
	EVP_PKEY_free(k);
}

/*
 * Block k: a certificate for it (serial into s1) revoked for
 * keyCompromise; *tok is then an enroll token for "app" of uses uses.
 */
static void
block_key(struct fx *f, EVP_PKEY *k, char s1[RCA_SERIAL_HEX_MAX + 1],
    int64_t uses, struct svc_actor *tok)
{
	struct err e;

	err_clear(&e);
	issue_key(f, k, "app", NULL, s1);
	assert_int_equal(svc_revoke(f->svc, &f->admin, s1,
	    REASON_KEY_COMPROMISE, NULL, NULL, &e), 0);
	fx_enroll(f, "redis-client", "app", uses, 3600, 0, tok, NULL);
}

/* After keyCompromise: a CSR with the key, however spelled, gets 422. */
static void
test_blocked_key_refused_for_csr(void **state)
{
	struct fx		*f = *state;
	struct svc_issued	 is = { 0 };
	struct svc_actor	 tok;
	struct err		 e;
	char			 s1[RCA_SERIAL_HEX_MAX + 1], *csr;
	EVP_PKEY		*k = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
				     "P-256");
	static const char	*fmts[] = { "uncompressed", "compressed" };

	block_key(f, k, s1, 5, &tok);
	for (size_t i = 0; i < 2; i++) {
		csr = key_csr(k, "app", fmts[i]);
		assert_int_equal(fx_issue_csr(f->svc, &f->admin, csr, 0, &is,
		    &e), -1);
		assert_int_equal(e.code, ERR_KEY_REJECTED);
		assert_non_null(strstr(e.msg, s1));
		/* An enroll token spends no use on a blocked key. */
		assert_int_equal(fx_issue_csr(f->svc, &tok, csr, 0, &is, &e),
		    -1);
		assert_int_equal(e.code, ERR_KEY_REJECTED);
		free(csr);
	}
	assert_true(fx_audit_has(f, "certificate.issue", "denied", NULL,
	    "key_rejected"));
	svc_actor_clear(&tok);
	EVP_PKEY_free(k);
}

/* An enroll token that saw a blocked key keeps its uses. */
static void
test_blocked_key_spends_no_use(void **state)
{
	struct fx		*f = *state;
	struct svc_issued	 is = { 0 };
	struct svc_actor	 tok;
	struct err		 e;
	char			 s1[RCA_SERIAL_HEX_MAX + 1], *csr;
	EVP_PKEY		*k = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
				     "P-256");

	block_key(f, k, s1, 1, &tok);
	csr = key_csr(k, "app", NULL);
	assert_int_equal(fx_issue_csr(f->svc, &tok, csr, 0, &is, &e), -1);
	assert_int_equal(e.code, ERR_KEY_REJECTED);
	free(csr);
	/* The one use is still there for a good key. */
	csr = fx_csr("app", NULL, NULL);
	assert_int_equal(fx_issue_csr(f->svc, &tok, csr, 0, &is, &e), 0);
	svc_issued_clear(&is);
	free(csr);
	svc_actor_clear(&tok);
	EVP_PKEY_free(k);
}

/*
 * Renewal: a rekey to a blocked key is 422; a client certificate whose
 * key is blocked does not authenticate (401), revoked or not.
 */
static void
test_blocked_key_refused_for_renew(void **state)
{
	struct fx		*f = *state;
	struct svc_issued	 good = { 0 }, sib = { 0 }, is = { 0 };
	struct svc_actor	 a;
	struct err		 e;
	char			 s1[41], spki[RCA_SHA256_HEX + 1];
	char			*csr, *other;
	unsigned char		*der;
	size_t			 len;
	EVP_PKEY		*k = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
				     "P-256");

	err_clear(&e);
	/* good: another key, same names as the CSR below. */
	other = fx_csr("app", NULL, NULL);
	issue_csr(f, other, &good);
	free(other);
	csr = key_csr(k, "app", NULL);
	issue_csr(f, csr, &sib);
	issue_key(f, k, "app", NULL, s1);
	assert_int_equal(svc_revoke(f->svc, &f->admin, s1,
	    REASON_KEY_COMPROMISE, NULL, NULL, &e), 0);

	/* Rekey of a good certificate onto the blocked key: 422. */
	der = fx_pem_der(good.cert.pem, &len);
	assert_int_equal(svc_auth_cert(f->svc, der, len, &a, &e), 0);
	free(der);
	assert_int_equal(svc_renew(f->svc, &a, csr, strlen(csr), &is, &e),
	    -1);
	assert_int_equal(e.code, ERR_KEY_REJECTED);
	assert_true(fx_audit_has(f, "certificate.renew", "denied",
	    good.cert.serial, "key_rejected"));
	svc_actor_clear(&a);

	/* The sibling (revoked by the cascade) cannot authenticate. */
	der = fx_pem_der(sib.cert.pem, &len);
	assert_int_equal(svc_auth_cert(f->svc, der, len, &a, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	svc_actor_clear(&a);
	free(der);

	/*
	 * A valid certificate whose key gets blocked by other means (say
	 * an operator's own tool) is refused too: 401, not a renewal.
	 */
	der = fx_pem_der(good.cert.pem, &len);
	assert_int_equal(ca_pem_spki_sha256(good.cert.pem, spki, &e), 0);
	assert_string_equal(spki, good.cert.spki_sha256);
	{
		struct db *db = db_open(f->db, &e);

		assert_non_null(db);
		assert_int_equal(db_key_block(db, spki, good.cert.serial,
		    1700000000, &e), 0);
		db_close(db);
	}
	assert_int_equal(svc_auth_cert(f->svc, der, len, &a, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	assert_non_null(strstr(e.msg, "compromised"));
	svc_actor_clear(&a);
	free(der);

	svc_issued_clear(&good);
	svc_issued_clear(&sib);
	free(csr);
	EVP_PKEY_free(k);
}

/* Generate never meets a blocked key, and stores its key's hash. */
static void
test_generate_stores_hash(void **state)
{
	struct fx		*f = *state;
	struct svc_issue_req	 req;
	struct svc_issued	 is = { 0 };
	struct names		 n;
	struct err		 e;
	char			 spki[RCA_SHA256_HEX + 1];

	err_clear(&e);
	fx_names(&n, "gen", NULL);
	memset(&req, 0, sizeof(req));
	req.profile = "redis-client";
	req.names = &n;
	assert_int_equal(svc_issue(f->svc, &f->admin, &req, &is, &e), 0);
	assert_int_equal(ca_pem_spki_sha256(is.cert.pem, spki, &e), 0);
	assert_string_equal(is.cert.spki_sha256, spki);
	svc_issued_clear(&is);
	names_clear(&n);
}

/*
 * Rows stored before the hash existed get it when the service opens,
 * and the cascade then finds them.
 */
static void
test_backfill_at_open(void **state)
{
	struct fx	*f = *state;
	struct cert_rec	 c;
	struct err	 e;
	char		 s1[41], s2[41], spki[RCA_SHA256_HEX + 1];
	EVP_PKEY	*k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	err_clear(&e);
	issue_key(f, k, "app-1", NULL, s1);
	issue_key(f, k, "app-2", "compressed", s2);
	raw_sql(f, "UPDATE certificates SET spki_sha256 = NULL");
	fx_reopen(f);
	assert_int_equal(svc_cert_get(f->svc, s1, &c, &e), 0);
	assert_int_equal(ca_pem_spki_sha256(c.pem, spki, &e), 0);
	assert_string_equal(c.spki_sha256, spki);
	cert_rec_clear(&c);
	assert_int_equal(svc_cert_get(f->svc, s2, &c, &e), 0);
	assert_string_equal(c.spki_sha256, spki);
	cert_rec_clear(&c);
	assert_int_equal(svc_revoke(f->svc, &f->admin, s1,
	    REASON_KEY_COMPROMISE, NULL, NULL, &e), 0);
	assert_int_equal(reason_of(f, s2), REASON_KEY_COMPROMISE);
	EVP_PKEY_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_key_compromise_cascade,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    test_other_reasons_do_not_cascade, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    test_blocked_key_refused_for_csr, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    test_blocked_key_spends_no_use, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    test_blocked_key_refused_for_renew, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_generate_stores_hash,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_backfill_at_open,
		    fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
