/* Tests of service/certs.c: look-ups, listing and revocation. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "timeutil.h"

/*
 * Parse the current CRL with OpenSSL: its number, and the reason code
 * listed for serial (-1: not listed; -2: listed without a reason).
 */
static int
crl_reason(struct fx *f, const char *serial, uint64_t *number)
{
	char	*t = fx_crl_current_text(f->svc, number);
	long	 reason;
	int	 found = -1;

	if (fx_crl_lists(t, serial, &reason))
		found = reason >= 0 ? (int)reason : -2;
	free(t);
	return found;
}

static void
test_revoke_lists_in_crl(void **state)
{
	struct fx		*f = *state;
	struct svc_issued	 a, b;
	struct cert_rec		 out;
	uint64_t		 before, after, crl_number = 0;
	struct err		 e;
	char			 upper[RCA_SERIAL_HEX_MAX + 1];

	err_clear(&e);
	fx_issue(f->svc, &f->admin, "app-1", 0, &a);
	fx_issue(f->svc, &f->admin, "app-2", 0, &b);
	assert_int_equal(crl_reason(f, a.cert.serial, &before), -1);

	/* Paths accept any case. */
	snprintf(upper, sizeof(upper), "%s", a.cert.serial);
	for (char *q = upper; *q != '\0'; q++)
		*q = (char)toupper((unsigned char)*q);
	assert_int_equal(svc_revoke(f->svc, &f->admin, upper,
	    REASON_KEY_COMPROMISE, &out, &crl_number, &e), 0);
	assert_string_equal(out.serial, a.cert.serial);
	assert_true(out.revoked_at != 0);
	assert_int_equal(out.reason, REASON_KEY_COMPROMISE);
	assert_true(crl_number > before);
	cert_rec_clear(&out);

	assert_int_equal(crl_reason(f, a.cert.serial, &after),
	    REASON_KEY_COMPROMISE);
	assert_int_equal(after, crl_number);
	assert_int_equal(crl_reason(f, b.cert.serial, &after), -1);
	assert_true(fx_audit_has(f, "certificate.revoke", "ok",
	    a.cert.serial, "reason=keyCompromise"));
	assert_true(fx_audit_has(f, "crl.publish", "ok", NULL, NULL));

	/* A second revocation: both listed, number grows again. */
	assert_int_equal(svc_revoke(f->svc, &f->admin, b.cert.serial,
	    REASON_SUPERSEDED, NULL, &crl_number, &e), 0);
	assert_int_equal(crl_reason(f, b.cert.serial, &after),
	    REASON_SUPERSEDED);
	assert_int_equal(crl_reason(f, a.cert.serial, &after),
	    REASON_KEY_COMPROMISE);
	assert_int_equal(after, crl_number);

	/* The record says revoked. */
	assert_int_equal(svc_cert_get(f->svc, b.cert.serial, &out, &e), 0);
	assert_int_equal(cert_rec_status(&out, tu_now()), CERT_REVOKED);
	cert_rec_clear(&out);
	svc_issued_clear(&a);
	svc_issued_clear(&b);
}

static void
test_revoke_refusals(void **state)
{
	struct fx		*f = *state;
	struct svc_issued	 a;
	struct svc_actor	 tok;
	struct cert_rec		 out;
	uint64_t		 n1 = 0, n2 = 0;
	struct err		 e;

	err_clear(&e);
	fx_issue(f->svc, &f->admin, "app-1", 0, &a);
	assert_int_equal(svc_revoke(f->svc, &f->admin, a.cert.serial,
	    REASON_UNSPECIFIED, NULL, &n1, &e), 0);
	assert_int_equal(svc_revoke(f->svc, &f->admin, a.cert.serial,
	    REASON_UNSPECIFIED, &out, &n2, &e), -1);
	assert_int_equal(e.code, ERR_ALREADY_REVOKED);
	assert_true(fx_audit_has(f, "certificate.revoke", "denied",
	    a.cert.serial, "already_revoked"));

	assert_int_equal(svc_revoke(f->svc, &f->admin, "abcdef0123",
	    REASON_UNSPECIFIED, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_true(fx_audit_has(f, "certificate.revoke", "denied",
	    "abcdef0123", "not_found"));

	assert_int_equal(svc_revoke(f->svc, &f->admin, "xyz",
	    REASON_UNSPECIFIED, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_SERIAL);

	assert_int_equal(svc_revoke(f->svc, &f->admin, "abcdef0123", 2,
	    NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);

	/* Enroll tokens may not revoke. */
	svc_issued_clear(&a);
	fx_enroll(f, "redis-client", "app-*", 1, 0, 0, &tok, NULL);
	fx_issue(f->svc, &f->admin, "app-4", 0, &a);
	assert_int_equal(svc_revoke(f->svc, &tok, a.cert.serial,
	    REASON_UNSPECIFIED, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_FORBIDDEN);
	assert_int_equal(svc_cert_get(f->svc, a.cert.serial, &out, &e), 0);
	assert_int_equal(out.revoked_at, 0);
	cert_rec_clear(&out);
	svc_actor_clear(&tok);
	svc_issued_clear(&a);
}

static void
test_get_and_list(void **state)
{
	struct fx		*f = *state;
	struct svc_issued	 a, b;
	struct cert_filter	 flt;
	struct cert_rec		*list = NULL, out;
	size_t			 n = 0;
	int64_t			 next = 0;
	struct err		 e;

	err_clear(&e);
	fx_issue(f->svc, &f->admin, "app-1", 0, &a);
	fx_issue(f->svc, &f->admin, "app-2", 0, &b);
	assert_int_equal(svc_cert_get(f->svc, "0", &out, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(svc_cert_get(f->svc, "not-hex", &out, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_SERIAL);

	memset(&flt, 0, sizeof(flt));
	flt.status = -1;
	flt.now = tu_now();
	flt.limit = 1;
	assert_int_equal(svc_cert_list(f->svc, &flt, &list, &n, &next, &e),
	    0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].serial, a.cert.serial);
	assert_true(next != 0);
	svc_cert_list_free(list, n);
	flt.after = next;
	assert_int_equal(svc_cert_list(f->svc, &flt, &list, &n, &next, &e),
	    0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].serial, b.cert.serial);
	svc_cert_list_free(list, n);

	flt.after = 0;
	flt.limit = 10;
	flt.common_name = "app-2";
	assert_int_equal(svc_cert_list(f->svc, &flt, &list, &n, &next, &e),
	    0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].names.cn, "app-2");
	svc_cert_list_free(list, n);

	flt.limit = 0;
	assert_int_equal(svc_cert_list(f->svc, &flt, &list, &n, &next, &e),
	    -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	svc_issued_clear(&a);
	svc_issued_clear(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_revoke_lists_in_crl,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_revoke_refusals,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_get_and_list, fx_setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
