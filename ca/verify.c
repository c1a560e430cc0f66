/*
 * Whose CA issued something, by signature only: a CRL or a certificate
 * checked against the public key of a CA certificate file (restore
 * refuses another CA's snapshot with this).  No private key is read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ca.h"
#include "fileio.h"
#include "log.h"

/* The public key of the CA certificate (PEM) at path; new. */
static EVP_PKEY *
ca_file_key(const char *path, struct err *e)
{
	char *pem = NULL;
	size_t len;
	BIO *bio = NULL;
	X509 *x = NULL;
	EVP_PKEY *k = NULL;

	if (fio_read_all(path, RCA_MAX_PEM_BYTES, &pem, &len, e) == -1)
		return NULL;
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL ||
	    (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL ||
	    (k = X509_get_pubkey(x)) == NULL)
		err_set(e, ERR_CRYPTO, "%s: not a PEM certificate", path);
	BIO_free(bio);
	X509_free(x);
	free(pem);
	return k;
}

/* What signed_by_file() checks: a DER CRL or a PEM certificate. */
enum signed_kind {
	SIGNED_CRL,
	SIGNED_CERT,
};

/*
 * Check that the CRL (DER, len bytes) or the certificate (PEM, NUL-
 * terminated) at in was signed by the key of the CA certificate at
 * cert_path.  The messages name what does not parse or verify.
 */
static int
signed_by_file(const char *cert_path, enum signed_kind kind,
    const void *in, size_t len, struct err *e)
{
	static const char *const what[] = {
		[SIGNED_CRL] = "CRL", [SIGNED_CERT] = "certificate",
	};
	const unsigned char *p = in;
	X509_CRL *crl = NULL;
	X509 *x = NULL;
	BIO *bio = NULL;
	EVP_PKEY *k = NULL;
	int ok, rc = -1;

	if ((k = ca_file_key(cert_path, e)) == NULL)
		goto out;
	if (kind == SIGNED_CRL)
		ok = in != NULL && len > 0 && len <= (size_t)INT32_MAX &&
		    (crl = d2i_X509_CRL(NULL, &p, (long)len)) != NULL &&
		    p == (const unsigned char *)in + len;
	else
		ok = in != NULL && (len = strnlen(in, RCA_MAX_PEM_BYTES +
		    1)) <= RCA_MAX_PEM_BYTES && (bio = BIO_new_mem_buf(in,
		    (int)len)) != NULL && (x = PEM_read_bio_X509(bio, NULL,
		    NULL, NULL)) != NULL;
	if (!ok) {
		err_set(e, ERR_INVALID_REQUEST, "the %s does not parse",
		    what[kind]);
		goto out;
	}
	if ((kind == SIGNED_CRL ? X509_CRL_verify(crl, k) :
	    X509_verify(x, k)) != 1) {
		err_set(e, ERR_INVALID_REQUEST, "the %s is not signed by "
		    "the CA of %s", what[kind], cert_path);
		goto out;
	}
	rc = 0;
out:
	BIO_free(bio);
	X509_free(x);
	X509_CRL_free(crl);
	EVP_PKEY_free(k);
	return rc;
}

int
ca_crl_der_verify_file(const char *cert_path, const unsigned char *der,
    size_t len, struct err *e)
{
	return signed_by_file(cert_path, SIGNED_CRL, der, len, e);
}

int
ca_cert_pem_verify_file(const char *cert_path, const char *pem,
    struct err *e)
{
	return signed_by_file(cert_path, SIGNED_CERT, pem, 0, e);
}
