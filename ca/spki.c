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
 * it).  Returns 0 / -1.
 */
static int
pubkey_hash(EVP_PKEY *pk, char out[RCA_SHA256_HEX + 1])
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
		ca_log_ssl("hashing a public key");
	OPENSSL_free(der);
	return rc;
}

int
ca_cert_spki_sha256(const unsigned char *der, size_t len,
    char out[RCA_SHA256_HEX + 1], struct err *e)
{
	const unsigned char *p = der;
	EVP_PKEY *pk;
	X509 *x = NULL;
	int rc = -1;

	if (der == NULL || len == 0 || len > RCA_MAX_PEM_BYTES ||
	    (x = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len) {
		ERR_clear_error();
		err_set(e, ERR_INVALID_REQUEST, "not a DER certificate");
		goto out;
	}
	if ((pk = X509_get0_pubkey(x)) == NULL) {
		ERR_clear_error();
		err_set(e, ERR_INVALID_REQUEST,
		    "the certificate's public key does not parse");
		goto out;
	}
	if (pubkey_hash(pk, out) == -1) {
		err_set(e, ERR_CRYPTO, "cannot encode the public key");
		goto out;
	}
	rc = 0;
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

/*
 * True when the request's key is an EC key on P-256 or P-384 named by
 * OID, with an uncompressed point of the curve's length: the encoding
 * i2d_PUBKEY would give.
 */
static bool
ec_canonical(const struct ca_csr *csr)
{
	const ASN1_OBJECT *aobj;
	const void *pval;
	const unsigned char *bits;
	int ptype, curve, len;

	X509_ALGOR_get0(&aobj, &ptype, &pval, csr->spki_alg);
	if (OBJ_obj2nid(aobj) != NID_X9_62_id_ecPublicKey ||
	    ptype != V_ASN1_OBJECT)
		return false;
	curve = OBJ_obj2nid(pval);
	bits = ASN1_STRING_get0_data(csr->spki_bits);
	len = ASN1_STRING_length(csr->spki_bits);
	if ((csr->spki_bits->flags & 0x07) != 0 || len < 1 || bits[0] != 0x04)
		return false;
	return (curve == NID_X9_62_prime256v1 && len == 65) ||
	    (curve == NID_secp384r1 && len == 97);
}

/*
 * Against today's struct ca_csr (the key as its algorithm and bits):
 * rebuild the SubjectPublicKeyInfo, decode it into a key, and hash that
 * key's canonical encoding.  A request whose key cannot be re-encoded
 * fails (-1).
 */
int
ca_csr_spki_sha256(const struct ca_csr *csr, char out[RCA_SHA256_HEX + 1])
{
	X509_PUBKEY *xpk = NULL;
	EVP_PKEY *pk = NULL;
	ASN1_OBJECT *obj = NULL;
	const ASN1_OBJECT *aobj;
	const void *pval;
	void *val = NULL;
	unsigned char *bits = NULL, *der = NULL;
	const unsigned char *p;
	int ptype, nbits, len, rc = -1;

	if (csr == NULL || csr->spki_alg == NULL || csr->spki_bits == NULL)
		return -1;
	X509_ALGOR_get0(&aobj, &ptype, &pval, csr->spki_alg);
	nbits = ASN1_STRING_length(csr->spki_bits);
	if (nbits <= 0 || (obj = OBJ_dup(aobj)) == NULL ||
	    (bits = OPENSSL_memdup(ASN1_STRING_get0_data(csr->spki_bits),
	    (size_t)nbits)) == NULL)
		goto out;
	/* The parameters are an OID (EC curve), NULL (RSA) or absent. */
	if (ptype == V_ASN1_OBJECT) {
		if ((val = OBJ_dup(pval)) == NULL)
			goto out;
	} else if (ptype == V_ASN1_SEQUENCE || ptype == V_ASN1_OCTET_STRING) {
		if ((val = ASN1_STRING_dup(pval)) == NULL)
			goto out;
	}
	if ((xpk = X509_PUBKEY_new()) == NULL ||
	    X509_PUBKEY_set0_param(xpk, obj, ptype, val, bits, nbits) != 1)
		goto out;
	obj = NULL;
	val = NULL;
	bits = NULL;
	/* set0_param leaves no decoded key: decode the DER it encodes. */
	if ((len = i2d_X509_PUBKEY(xpk, &der)) <= 0)
		goto out;
	/*
	 * A named-curve key with an uncompressed point is already in the
	 * canonical form (the point was checked on the curve when the
	 * request was parsed): hash it as is, without OpenSSL 3's costly
	 * decoder.  Anything else is decoded and re-encoded.
	 */
	if (ec_canonical(csr)) {
		ca_sha256_hex(der, (size_t)len, out);
		rc = 0;
		goto out;
	}
	p = der;
	if ((pk = d2i_PUBKEY(NULL, &p, len)) == NULL || p != der + len)
		goto out;
	rc = pubkey_hash(pk, out);
out:
	if (rc == -1)
		ca_log_ssl("hashing a request's public key");
	if (val != NULL) {
		if (ptype == V_ASN1_OBJECT)
			ASN1_OBJECT_free(val);
		else
			ASN1_STRING_free(val);
	}
	ASN1_OBJECT_free(obj);
	OPENSSL_free(bits);
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
	X509_PUBKEY_free(xpk);
	return rc;
}
