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

int
ca_crl_der_verify_file(const char *cert_path, const unsigned char *der,
    size_t len, struct err *e)
{
	const unsigned char *p = der;
	X509_CRL *crl = NULL;
	EVP_PKEY *k = NULL;
	int rc = -1;

	if ((k = ca_file_key(cert_path, e)) == NULL)
		goto out;
	if (der == NULL || len == 0 || len > (size_t)INT32_MAX ||
	    (crl = d2i_X509_CRL(NULL, &p, (long)len)) == NULL ||
	    p != der + len) {
		err_set(e, ERR_INVALID_REQUEST, "the CRL does not parse");
		goto out;
	}
	if (X509_CRL_verify(crl, k) != 1) {
		err_set(e, ERR_INVALID_REQUEST, "the CRL is not signed by "
		    "the CA of %s", cert_path);
		goto out;
	}
	rc = 0;
out:
	X509_CRL_free(crl);
	EVP_PKEY_free(k);
	return rc;
}

int
ca_cert_pem_verify_file(const char *cert_path, const char *pem,
    struct err *e)
{
	BIO *bio = NULL;
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	size_t len;
	int rc = -1;

	if ((k = ca_file_key(cert_path, e)) == NULL)
		goto out;
	if (pem == NULL || (len = strnlen(pem, RCA_MAX_PEM_BYTES + 1)) >
	    RCA_MAX_PEM_BYTES || (bio = BIO_new_mem_buf(pem, (int)len)) ==
	    NULL || (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		err_set(e, ERR_INVALID_REQUEST, "the certificate does not "
		    "parse");
		goto out;
	}
	if (X509_verify(x, k) != 1) {
		err_set(e, ERR_INVALID_REQUEST, "the certificate is not "
		    "signed by the CA of %s", cert_path);
		goto out;
	}
	rc = 0;
out:
	BIO_free(bio);
	X509_free(x);
	EVP_PKEY_free(k);
	return rc;
}
