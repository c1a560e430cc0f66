/*
 * Keys made here: a new key of a given type (for a CA or a node), and
 * for a node its CSR, signed and read back through the CSR parser.
 */
#include <stdlib.h>
#include <string.h>

#include "ca_priv.h"

#include <openssl/pem.h>

EVP_PKEY *
ca_key_generate(enum key_type t, struct err *e)
{
	EVP_PKEY *pk = NULL;

	switch (t) {
	case KEY_EC_P256:
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case KEY_EC_P384:
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
		break;
	case KEY_RSA_2048:
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		break;
	case KEY_RSA_3072:
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
		break;
	case KEY_RSA_4096:
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
		break;
	default:
		err_set(e, ERR_INVALID_REQUEST, "unknown key type");
		return NULL;
	}
	if (pk == NULL) {
		ca_ssl_fail("key generation", ERR_CRYPTO,
		    "key generation failed", e);
	}
	return pk;
}

char *
ca_key_pem(EVP_PKEY *key, const char *pass, size_t *len)
{
	BIO *bio;
	char *data, *out = NULL;
	long n;

	if ((bio = BIO_new(BIO_s_mem())) != NULL &&
	    PEM_write_bio_PKCS8PrivateKey(bio, key,
	    pass != NULL ? EVP_aes_256_cbc() : NULL, pass,
	    pass != NULL ? (int)strlen(pass) : 0, NULL, NULL) == 1 &&
	    (n = BIO_get_mem_data(bio, &data)) > 0 &&
	    (out = malloc((size_t)n + 1)) != NULL) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
		*len = (size_t)n;
	}
	/* The memory BIO clears its buffer when freed. */
	BIO_free(bio);
	return out;
}

/*
 * Ask for the SANs of n in req's extensionRequest, critical when the
 * subject is empty (RFC 5280 4.2.1.6).  Returns 0 / -1.
 */
static int
req_add_sans(X509_REQ *req, const struct names *n)
{
	GENERAL_NAMES *gens = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *ext = NULL;
	int rc = -1;

	if ((gens = ca_names_to_gens(n)) == NULL ||
	    (ext = X509V3_EXT_i2d(NID_subject_alt_name, n->cn == NULL,
	    gens)) == NULL ||
	    (exts = sk_X509_EXTENSION_new_null()) == NULL ||
	    sk_X509_EXTENSION_push(exts, ext) <= 0)
		goto out;
	ext = NULL;
	if (X509_REQ_add_extensions(req, exts) != 1)
		goto out;
	rc = 0;
out:
	X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
	return rc;
}

/* Build and sign a request for key with names n (new). */
static X509_REQ *
req_build(EVP_PKEY *key, const struct names *n, struct err *e)
{
	X509_REQ *req = NULL, *ret = NULL;
	X509_NAME *name = NULL;

	if ((req = X509_REQ_new()) == NULL ||
	    X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1 ||
	    (name = X509_NAME_new()) == NULL)
		goto fail;
	if (n->cn != NULL && X509_NAME_add_entry_by_NID(name, NID_commonName,
	    MBSTRING_UTF8, (const unsigned char *)n->cn, -1, -1, 0) != 1)
		goto fail;
	if (X509_REQ_set_subject_name(req, name) != 1 ||
	    X509_REQ_set_pubkey(req, key) != 1)
		goto fail;
	if (names_count(n) > 0 && req_add_sans(req, n) == -1)
		goto fail;
	if (X509_REQ_sign(req, key, EVP_sha256()) <= 0)
		goto fail;
	ret = req;
	req = NULL;
	goto out;
fail:
	ca_ssl_fail("building a request", ERR_CRYPTO,
	    "cannot build the certificate request", e);
out:
	X509_NAME_free(name);
	X509_REQ_free(req);
	return ret;
}

struct ca_csr *
ca_keygen(enum key_type t, const struct names *names, char **key_pem,
    struct err *e)
{
	struct ca_csr *csr = NULL, *ret = NULL;
	struct names want = NAMES_INIT;
	unsigned char *der = NULL;
	X509_REQ *req = NULL;
	EVP_PKEY *key = NULL;
	size_t klen;
	int dlen;

	*key_pem = NULL;
	if ((unsigned)t >= KEY__MAX) {
		err_set(e, ERR_INVALID_REQUEST, "unknown key type");
		goto out;
	}
	if (names == NULL || (names->cn == NULL && names_count(names) == 0)) {
		err_set(e, ERR_INVALID_REQUEST,
		    "a common name or a subject alternative name is needed");
		goto out;
	}
	/* names_copy re-validates every name. */
	if (names_copy(&want, names, e) == -1) {
		if (e != NULL)
			e->code = ERR_INVALID_REQUEST;
		goto out;
	}
	if ((key = ca_key_generate(t, e)) == NULL ||
	    (req = req_build(key, &want, e)) == NULL)
		goto out;
	if ((dlen = i2d_X509_REQ(req, &der)) <= 0) {
		ca_ssl_fail("i2d_X509_REQ", ERR_CRYPTO,
		    "cannot encode the request", e);
		goto out;
	}
	/* Through the parser: the same naming rules as a client's CSR. */
	if ((csr = ca_csr_decode(der, (size_t)dlen, e)) == NULL) {
		if (e != NULL && e->code != ERR_INTERNAL)
			e->code = ERR_CRYPTO;
		goto out;
	}
	if ((*key_pem = ca_key_pem(key, NULL, &klen)) == NULL) {
		ca_ssl_fail("writing a private key", ERR_CRYPTO,
		    "cannot encode the private key", e);
		goto out;
	}
	ret = csr;
	csr = NULL;
out:
	OPENSSL_free(der);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	names_clear(&want);
	ca_csr_free(csr);
	return ret;
}
