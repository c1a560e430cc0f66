/* Tests of service/renew.c: client-certificate authentication and renewal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ca.h"
#include "fileio.h"
#include "fixture.h"

static bool
same_key(const char *pem_a, const char *pem_b)
{
	BIO	*ba = BIO_new_mem_buf(pem_a, -1), *bb = BIO_new_mem_buf(pem_b,
		    -1);
	X509	*a = PEM_read_bio_X509(ba, NULL, NULL, NULL);
	X509	*b = PEM_read_bio_X509(bb, NULL, NULL, NULL);
	bool	 eq;

	assert_non_null(a);
	assert_non_null(b);
	eq = EVP_PKEY_eq(X509_get0_pubkey(a), X509_get0_pubkey(b)) == 1;
	X509_free(a);
	X509_free(b);
	BIO_free(ba);
	BIO_free(bb);
	return eq;
}

static void
test_renew_same_key(void **state)
{
	struct fx		*f = *state;
	struct svc_issued	 old, renewed;
	struct svc_actor	 a;
	struct err		 e;
	char			 id[RCA_ACTOR_MAX + 1];

	err_clear(&e);
	fx_generate(f, "app-1", 3600, &old);
	fx_auth_cert(f, old.cert.pem, &a);
	assert_int_equal(a.kind, ACTOR_MTLS);
	snprintf(id, sizeof(id), "mtls:%s", old.cert.serial);
	assert_string_equal(a.id, id);
	assert_string_equal(a.cert.serial, old.cert.serial);

	assert_int_equal(svc_renew(f->svc, &a, NULL, 0, &renewed, &e), 0);
	assert_string_not_equal(renewed.cert.serial, old.cert.serial);
	assert_string_equal(renewed.cert.profile, "redis-client");
	assert_true(names_equal(&renewed.cert.names, &old.cert.names));
	assert_int_equal(renewed.cert.not_after - renewed.cert.not_before,
	    old.cert.not_after - old.cert.not_before);
	assert_string_equal(renewed.cert.issued_by, id);
	assert_null(renewed.private_key_pem);
	assert_non_null(renewed.chain_pem);
	assert_true(same_key(old.cert.pem, renewed.cert.pem));
	assert_true(fx_audit_has(f, "certificate.renew", "ok",
	    renewed.cert.serial, old.cert.serial));
	svc_issued_clear(&renewed);
	svc_actor_clear(&a);
	svc_issued_clear(&old);
}

static void
test_renew_rekey(void **state)
{
	struct fx		*f = *state;
	struct svc_issued	 old, renewed;
	struct svc_actor	 a;
	struct err		 e;
	char			*csr;

	err_clear(&e);
	fx_generate(f, "app-2", 3600, &old);
	fx_auth_cert(f, old.cert.pem, &a);
	csr = fx_csr("app-2", NULL, NULL);
	assert_int_equal(svc_renew(f->svc, &a, csr, strlen(csr), &renewed,
	    &e), 0);
	assert_false(same_key(old.cert.pem, renewed.cert.pem));
	assert_true(names_equal(&renewed.cert.names, &old.cert.names));
	svc_issued_clear(&renewed);
	free(csr);

	/* Other names: refused and audited. */
	csr = fx_csr("app-2", "extra.internal", NULL);
	assert_int_equal(svc_renew(f->svc, &a, csr, strlen(csr), &renewed,
	    &e), -1);
	assert_int_equal(e.code, ERR_NAME_NOT_ALLOWED);
	assert_true(fx_audit_has(f, "certificate.renew", "denied",
	    old.cert.serial, "name_not_allowed"));
	free(csr);
	assert_int_equal(svc_renew(f->svc, &a, "junk", 4, &renewed, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_CSR);

	/* Only certificate actors renew. */
	assert_int_equal(svc_renew(f->svc, &f->admin, NULL, 0, &renewed, &e),
	    -1);
	assert_int_equal(e.code, ERR_FORBIDDEN);
	svc_actor_clear(&a);
	svc_issued_clear(&old);
}

static void
test_auth_cert_refusals(void **state)
{
	struct fx		*f = *state;
	struct svc_issued	 old;
	struct svc_actor	 a;
	struct ca_create_opts	 o;
	struct ca		*other;
	struct ca_csr		*csr;
	struct ca_cert		 c;
	struct ca_issue_params	 ip;
	struct names		 n;
	struct err		 e;
	unsigned char		*der;
	size_t			 len;
	char			 cert[300], key[300], *kp = NULL;

	err_clear(&e);
	assert_int_equal(svc_auth_cert(f->svc, NULL, 0, &a, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	assert_int_equal(svc_auth_cert(f->svc, (const unsigned char *)"xx",
	    2, &a, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	assert_int_equal(a.kind, ACTOR_NONE);
	assert_string_equal(a.id, "anonymous");

	/* Revoked. */
	fx_generate(f, "app-3", 3600, &old);
	assert_int_equal(svc_revoke(f->svc, &f->admin, old.cert.serial,
	    REASON_KEY_COMPROMISE, NULL, NULL, &e), 0);
	der = fx_pem_der(old.cert.pem, &len);
	assert_int_equal(svc_auth_cert(f->svc, der, len, &a, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	assert_non_null(strstr(e.msg, "revoked"));
	/* Refused, but named for the audit log; never authenticated. */
	assert_int_equal(a.kind, ACTOR_NONE);
	{
		char want[RCA_ACTOR_MAX + 1];

		snprintf(want, sizeof(want), "mtls:%s", old.cert.serial);
		assert_string_equal(a.id, want);
	}
	free(der);
	svc_issued_clear(&old);

	/* Issued by another CA. */
	snprintf(cert, sizeof(cert), "%s/other.crt", f->dir);
	snprintf(key, sizeof(key), "%s/other.key", f->dir);
	memset(&o, 0, sizeof(o));
	o.key_type = KEY_EC_P256;
	o.cn = "other ca";
	o.days = 30;
	assert_int_equal(ca_create_files(cert, key, &o, &e), 0);
	other = ca_load(cert, key, NULL, NULL, &e);
	assert_non_null(other);
	fx_names(&n, "app-4", NULL);
	csr = ca_keygen(KEY_EC_P256, &n, &kp, &e);
	assert_non_null(csr);
	memset(&ip, 0, sizeof(ip));
	ip.profile = &f->profiles[1];
	memset(&c, 0, sizeof(c));
	assert_int_equal(ca_issue(other, csr, &ip, &c, &e), 0);
	assert_int_equal(svc_auth_cert(f->svc, c.der, c.der_len, &a, &e),
	    -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	ca_cert_clear(&c);
	ca_csr_free(csr);
	fio_wipe(kp, strlen(kp));
	free(kp);
	names_clear(&n);
	ca_free(other);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_renew_same_key, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_renew_rekey, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_auth_cert_refusals,
		    fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
