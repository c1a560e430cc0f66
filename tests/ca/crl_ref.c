/*
 * The reference CRL of the differential test of ca/crlset.c: built and
 * signed from scratch with OpenSSL's X509_CRL, as ca/crl.c once did, so
 * that the bytes ca_crl_set_sign() assembles by hand are checked
 * against OpenSSL's own encoder.
 */
#include <stdlib.h>
#include <time.h>

#include "crl_ref.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "crl_priv.h"

int
crl_ref_build(const struct ca *ca, const struct ca_crl_entry *entries,
    size_t n, uint64_t number, int64_t this_update, int64_t next_update,
    unsigned char **der, size_t *der_len, struct err *e)
{
	X509_CRL *crl = NULL;
	EVP_MD_CTX *mctx = NULL;
	X509_REVOKED *rev = NULL;
	ASN1_INTEGER *num = NULL;
	ASN1_TIME *tu = NULL, *nu = NULL;
	unsigned char *buf = NULL, *p;
	int len, rc = -1;

	/* Inputs are the test's, valid: no argument checks here. */
	*der = NULL;
	*der_len = 0;
	if ((crl = X509_CRL_new()) == NULL ||
	    X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
	    X509_CRL_set_issuer_name(crl,
	    X509_get_subject_name(ca->cert)) != 1 ||
	    (tu = ASN1_TIME_set(NULL, (time_t)this_update)) == NULL ||
	    (nu = ASN1_TIME_set(NULL, (time_t)next_update)) == NULL ||
	    X509_CRL_set1_lastUpdate(crl, tu) != 1 ||
	    X509_CRL_set1_nextUpdate(crl, nu) != 1 ||
	    (num = ASN1_INTEGER_new()) == NULL ||
	    ASN1_INTEGER_set_uint64(num, number) != 1 ||
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) != 1 ||
	    X509_CRL_add_ext(crl, ca->ext_aki, -1) != 1)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		if ((rev = ca_crl_entry_new(&entries[i], e)) == NULL)
			goto out;
		if (X509_CRL_add0_revoked(crl, rev) != 1)
			goto fail;
		rev = NULL;
	}
	if (X509_CRL_sort(crl) != 1 ||
	    (mctx = ca_sign_ctx(ca)) == NULL ||
	    X509_CRL_sign_ctx(crl, mctx) <= 0 ||
	    (len = i2d_X509_CRL(crl, NULL)) <= 0 ||
	    (buf = malloc((size_t)len)) == NULL)
		goto fail;
	p = buf;
	if (i2d_X509_CRL(crl, &p) != len)
		goto fail;
	*der = buf;
	*der_len = (size_t)len;
	buf = NULL;
	rc = 0;
	goto out;
fail:
	ca_ssl_fail("building a CRL", ERR_CRYPTO,
	    "cannot build or sign the CRL", e);
out:
	free(buf);
	EVP_MD_CTX_free(mctx);
	X509_REVOKED_free(rev);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(tu);
	ASN1_TIME_free(nu);
	X509_CRL_free(crl);
	return rc;
}
