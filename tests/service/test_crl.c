/*
 * Tests of service/crl.c: publication, numbering, reopening, and a CRL
 * another process published (the tick itself: test_schedule.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "fixture.h"
#include "timeutil.h"

static void
test_initial_crl(void **state)
{
	struct fx		*f = *state;
	struct svc_crl		 c;
	struct err		 e;
	const unsigned char	*p;
	X509_CRL		*crl;
	X509			*ca;
	BIO			*bio;
	struct svc_ca_info	 ci;
	ASN1_INTEGER		*num;
	int64_t			 now = tu_now();

	err_clear(&e);
	assert_int_equal(svc_crl_current(f->svc, &c, &e), 0);
	assert_int_equal(c.number, 1);
	assert_string_equal(c.etag, "\"crl-1\"");
	assert_true(c.this_update <= now && c.this_update >= now - 60);
	assert_int_equal(c.next_update - c.this_update, 24 * 3600);
	assert_non_null(strstr(c.pem, "-----BEGIN X509 CRL-----"));
	assert_true(fx_audit_has(f, "crl.publish", "ok", "1", NULL));

	/* A v2 CRL signed by the CA, with its number, and empty. */
	p = c.der;
	crl = d2i_X509_CRL(NULL, &p, (long)c.der_len);
	assert_non_null(crl);
	svc_ca_info(f->svc, &ci);
	bio = BIO_new_mem_buf(ci.pem, -1);
	ca = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	assert_non_null(ca);
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(ca)), 1);
	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	assert_int_equal(ASN1_INTEGER_get(num), 1);
	/* No entries: OpenSSL leaves the list out (NULL) or empty. */
	assert_true(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) <= 0);
	ASN1_INTEGER_free(num);
	X509_free(ca);
	BIO_free(bio);
	X509_CRL_free(crl);
	svc_crl_clear(&c);
	svc_crl_clear(NULL);
}

static void
test_publish_and_reopen(void **state)
{
	struct fx	*f = *state;
	struct err	 e;
	uint64_t	 before;

	err_clear(&e);
	assert_int_equal(svc_publish_crl(f->svc, &f->admin, &e), 0);
	assert_int_equal(svc_publish_crl(f->svc, &f->cli, &e), 0);
	before = fx_crl_number(f->svc);
	assert_int_equal(before, 3);
	assert_true(fx_audit_has(f, "crl.publish", "ok", "3", NULL));

	/* The stored CRL is still fresh: reopening loads it as it is. */
	fx_reopen(f);
	assert_int_equal(fx_crl_number(f->svc), before);
	assert_int_equal(svc_publish_crl(f->svc, &f->cli, &e), 0);
	assert_int_equal(fx_crl_number(f->svc), before + 1);

	/*
	 * Reopen with a refresh window wider than what is left: the
	 * service publishes at once, and the number still only grows.
	 */
	f->cfg.crl_validity = 48 * 3600;
	f->cfg.crl_refresh_before = 30 * 3600;
	fx_reopen(f);
	assert_int_equal(fx_crl_number(f->svc), before + 2);
	assert_true(fx_audit_has(f, "crl.publish", "ok", NULL, NULL));
}

static void
test_two_processes(void **state)
{
	struct fx	*f = *state;
	struct svc	*other;
	struct err	 e;

	err_clear(&e);
	/* A second service on the same files (the CLI beside the daemon). */
	other = svc_open(&f->cfg, &e);
	assert_non_null(other);
	assert_int_equal(fx_crl_number(other), 1);
	assert_int_equal(svc_publish_crl(other, &f->cli, &e), 0);
	assert_int_equal(fx_crl_number(other), 2);
	/* The first one's number 2 is taken; it moves past it. */
	assert_int_equal(svc_publish_crl(f->svc, &f->admin, &e), 0);
	assert_int_equal(fx_crl_number(f->svc), 3);
	/* And the other picks that up at its next tick. */
	assert_true(svc_tick(other) >= 1);
	assert_int_equal(fx_crl_number(other), 3);
	svc_close(other);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_initial_crl, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_publish_and_reopen,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_two_processes,
		    fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
