/*
 * Public-key identity: the SHA-256 of a key's canonical
 * SubjectPublicKeyInfo, so that every certificate and request carrying
 * the same key gets the same hash however its bytes spelled the key
 * (compressed or uncompressed EC point).  Revocation for keyCompromise
 * finds and blocks keys by this hash.
 */
#include <stdlib.h>
#include <string.h>

#include "ca_priv.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

/*
 * Hash pk's SubjectPublicKeyInfo as i2d_PUBKEY writes it, EC points in
 * uncompressed form.  pk's conversion form is changed (the callers own
 * it).  Errors: ERR_CRYPTO.
 */
int
ca_pkey_spki_sha256(EVP_PKEY *pk, char out[RCA_SHA256_HEX + 1],
    struct err *e)
{
	unsigned char *der = NULL;
	int len, rc = -1;

	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC &&
	    EVP_PKEY_set_utf8_string_param(pk,
	    OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
	    OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED) != 1)
		goto out;
	if ((len = i2d_PUBKEY(pk, &der)) <= 0)
		goto out;
	ca_sha256_hex(der, (size_t)len, out);
	rc = 0;
out:
	if (rc == -1)
		ca_ssl_fail("hashing a public key", ERR_CRYPTO,
		    "cannot encode the public key", e);
	OPENSSL_free(der);
	return rc;
}

int
ca_cert_spki_sha256(const unsigned char *der, size_t len,
    char out[RCA_SHA256_HEX + 1], struct err *e)
{
	EVP_PKEY *pk;
	X509 *x = NULL;
	int rc = -1;

	if ((x = ca_x509_from_der(der, len, ERR_INVALID_REQUEST, e)) == NULL)
		goto out;
	if ((pk = X509_get0_pubkey(x)) == NULL) {
		ERR_clear_error();
		err_set(e, ERR_INVALID_REQUEST,
		    "the certificate's public key does not parse");
		goto out;
	}
	rc = ca_pkey_spki_sha256(pk, out, e);
out:
	X509_free(x);
	return rc;
}

int
ca_pem_spki_sha256(const char *pem, char out[RCA_SHA256_HEX + 1],
    struct err *e)
{
	unsigned char *der = NULL;
	char *name = NULL, *header = NULL;
	long dlen = 0;
	BIO *bio = NULL;
	int rc = -1;

	if (pem == NULL || strnlen(pem, RCA_MAX_PEM_BYTES + 1) >
	    RCA_MAX_PEM_BYTES ||
	    (bio = BIO_new_mem_buf(pem, -1)) == NULL ||
	    PEM_read_bio(bio, &name, &header, &der, &dlen) != 1 ||
	    strcmp(name, PEM_STRING_X509) != 0 || dlen <= 0) {
		ERR_clear_error();
		err_set(e, ERR_INVALID_REQUEST, "not a PEM certificate");
		goto out;
	}
	rc = ca_cert_spki_sha256(der, (size_t)dlen, out, e);
out:
	OPENSSL_free(der);
	OPENSSL_free(name);
	OPENSSL_free(header);
	BIO_free(bio);
	return rc;
}
