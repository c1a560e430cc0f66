/*
 * The service tests' view of a CRL (fixture.h): its entries as text,
 * parsed with OpenSSL, so that a test compares CRLs with each other and
 * with the database as strings.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "fixture.h"
#include "testdb.h"
#include "timeutil.h"

/*
 * Append r's entry to out (cap bytes, *used so far): "\n<serial>
 * <epoch> <reason>".
 */
static void
entry_text(X509_REVOKED *r, char *out, size_t cap, size_t *used)
{
	BIGNUM		*bn;
	ASN1_ENUMERATED	*re;
	struct tm	 tm;
	char		*hex, *h;
	long		 reason = -1;

	bn = ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(r), NULL);
	assert_non_null(hex = BN_bn2hex(bn));
	for (char *c = hex; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	/* BN_bn2hex pads to whole bytes; serials drop leading zeros. */
	for (h = hex; h[0] == '0' && h[1] != '\0'; h++)
		;
	assert_int_equal(ASN1_TIME_to_tm(X509_REVOKED_get0_revocationDate(r),
	    &tm), 1);
	re = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, NULL, NULL);
	if (re != NULL)
		reason = ASN1_ENUMERATED_get(re);
	*used += (size_t)snprintf(out + *used, cap - *used, "\n%s %lld %ld",
	    h, (long long)timegm(&tm), reason);
	assert_true(*used < cap);
	ASN1_ENUMERATED_free(re);
	OPENSSL_free(hex);
	BN_free(bn);
}

char *
fx_crl_text(const unsigned char *der, size_t len, EVP_PKEY *ca_pub,
    uint64_t *number)
{
	const unsigned char	*p = der;
	X509_CRL		*crl;
	ASN1_INTEGER		*num;
	STACK_OF(X509_REVOKED)	*revs;
	char			*out;
	size_t			 cap, used = 0;
	int			 n;

	assert_non_null(crl = d2i_X509_CRL(NULL, &p, (long)len));
	if (ca_pub != NULL)
		assert_int_equal(X509_CRL_verify(crl, ca_pub), 1);
	assert_non_null(num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL,
	    NULL));
	*number = (uint64_t)ASN1_INTEGER_get(num);
	ASN1_INTEGER_free(num);
	revs = X509_CRL_get_REVOKED(crl);
	n = sk_X509_REVOKED_num(revs);
	cap = 64 + (size_t)(n > 0 ? n : 0) * 80;
	assert_non_null(out = malloc(cap));
	out[0] = '\0';
	for (int i = 0; i < n; i++)
		entry_text(sk_X509_REVOKED_value(revs, i), out, cap, &used);
	X509_CRL_free(crl);
	return out;
}

/*
 * s's current CRL as fx_crl_text(): through svc_crl_current_der() (no
 * PEM) when der_only, else svc_crl_current(); verified with ca_pub
 * when it is not NULL.
 */
static char *
current_text(struct svc *s, bool der_only, EVP_PKEY *ca_pub,
    uint64_t *number)
{
	struct svc_crl	 c;
	struct err	 e;
	char		*t;
	int		 rc;

	err_clear(&e);
	rc = der_only ? svc_crl_current_der(s, NULL, &c, &e) :
	    svc_crl_current(s, NULL, &c, &e);
	assert_int_equal(rc, 0);
	t = fx_crl_text(c.der, c.der_len, ca_pub, number);
	assert_int_equal(*number, c.number);
	svc_crl_clear(&c);
	return t;
}

char *
fx_crl_current_text(struct svc *s, uint64_t *number)
{
	return current_text(s, false, NULL, number);
}

char *
fx_crl_der_text(struct svc *s, EVP_PKEY *ca_pub, uint64_t *number)
{
	return current_text(s, true, ca_pub, number);
}

void *
fx_revoker_run(void *arg)
{
	struct fx_revoker	*r = arg;
	struct err		 e;
	uint64_t		 cur;
	char			*t;

	for (int i = 0; i < r->n && r->failed == 0; i++) {
		err_clear(&e);
		if (svc_revoke(r->s, r->a, r->serial[i], i % 2 ?
		    REASON_SUPERSEDED : REASON_CESSATION_OF_OPERATION, NULL,
		    &r->told[i], &e) == -1) {
			fprintf(stderr, "revoke: %s\n", e.msg);
			r->failed = 1;
			break;
		}
		if (i > 0 && r->told[i] <= r->told[i - 1])
			r->failed = 2;
		t = r->ca_pub != NULL ? fx_crl_der_text(r->s, r->ca_pub, &cur) :
		    fx_crl_current_text(r->s, &cur);
		if (cur < r->told[i] || !fx_crl_lists(t, r->serial[i], NULL))
			r->failed = 3;
		free(t);
	}
	return NULL;
}

bool
fx_crl_lists(const char *text, const char *serial, long *reason)
{
	char		 pat[80];
	const char	*p;
	long long	 at;

	snprintf(pat, sizeof(pat), "\n%.64s ", serial);
	if ((p = strstr(text, pat)) == NULL)
		return false;
	if (reason != NULL)
		assert_int_equal(sscanf(p + strlen(pat), "%lld %ld", &at,
		    reason), 2);
	return true;
}

char *
fx_crl_db_text(const char *db)
{
	char q[256];

	snprintf(q, sizeof(q), "SELECT serial, revoked_at, reason FROM "
	    "certificates WHERE revoked_at IS NOT NULL AND not_after >= "
	    "%lld ORDER BY length(serial), serial", (long long)tu_now());
	return tdb_rows(db, q, NULL);
}
