/*
 * Chains of CA certificates (SPEC 10): reading several certificates
 * from one PEM string, writing them back, the key identifiers of a CA,
 * and the check that an issuing certificate verifies through its
 * intermediates to one of its anchors.
 */
#include <stdlib.h>
#include <string.h>

#include "ca_priv.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "hex.h"

STACK_OF(X509) *
ca_pem_certs(const char *pem, size_t len, const char *what,
    enum err_code code, struct err *e)
{
	STACK_OF(X509) *sk = NULL, *ret = NULL;
	unsigned long last;
	BIO *bio = NULL;
	X509 *x = NULL;

	if (pem == NULL || len == 0 || len > RCA_MAX_PEM_BYTES ||
	    len > INT32_MAX) {
		err_set(e, code, "%s: no certificate (or larger than %d "
		    "bytes)", what, RCA_MAX_PEM_BYTES);
		goto out;
	}
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL ||
	    (sk = sk_X509_new_null()) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_num(sk) >= RCA_CA_MAX_CHAIN) {
			err_set(e, code, "%s: more than %d certificates",
			    what, RCA_CA_MAX_CHAIN);
			goto out;
		}
		if (sk_X509_push(sk, x) <= 0) {
			err_set(e, ERR_INTERNAL, "out of memory");
			goto out;
		}
		x = NULL;
	}
	/* The loop ends at the end of the input, or on a bad block. */
	last = ERR_peek_last_error();
	ERR_clear_error();
	if (ERR_GET_REASON(last) != PEM_R_NO_START_LINE ||
	    sk_X509_num(sk) == 0) {
		err_set(e, code, "%s: not a PEM certificate", what);
		goto out;
	}
	ret = sk;
	sk = NULL;
out:
	X509_free(x);
	sk_X509_pop_free(sk, X509_free);
	BIO_free(bio);
	return ret;
}

char *
ca_certs_pem(STACK_OF(X509) *sk, int from)
{
	char *all = NULL, *one, *grown;
	size_t len = 0, olen;

	if ((all = strdup("")) == NULL)
		return NULL;
	for (int i = from; i < sk_X509_num(sk); i++) {
		if ((one = ca_pem_x509(sk_X509_value(sk, i))) == NULL)
			goto fail;
		olen = strlen(one);
		if ((grown = realloc(all, len + olen + 1)) == NULL) {
			free(one);
			goto fail;
		}
		all = grown;
		memcpy(all + len, one, olen + 1);
		len += olen;
		free(one);
	}
	return all;
fail:
	free(all);
	return NULL;
}

char *
ca_pem_x509(X509 *x)
{
	unsigned char *der;
	size_t dlen;
	char *pem;

	if ((der = ca_x509_der(x, &dlen)) == NULL)
		return NULL;
	pem = ca_pem_encode("CERTIFICATE", der, dlen);
	free(der);
	return pem;
}

int
ca_ski_of(X509 *x, char out[RCA_SKI_HEX_MAX + 1], struct err *e)
{
	const ASN1_OCTET_STRING *skid;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	out[0] = '\0';
	if ((skid = X509_get0_subject_key_id(x)) != NULL) {
		if (ASN1_STRING_length(skid) <= 0 ||
		    ASN1_STRING_length(skid) > RCA_SKI_HEX_MAX / 2) {
			err_set(e, ERR_INVALID_CHAIN, "the CA certificate's "
			    "subjectKeyIdentifier is empty or longer than %d "
			    "bytes", RCA_SKI_HEX_MAX / 2);
			return -1;
		}
		hex_encode(ASN1_STRING_get0_data(skid),
		    (size_t)ASN1_STRING_length(skid), out);
		return 0;
	}
	if (X509_pubkey_digest(x, EVP_sha1(), md, &mdlen) != 1) {
		ca_ssl_fail("X509_pubkey_digest", ERR_CRYPTO,
		    "cannot hash the CA's public key", e);
		return -1;
	}
	hex_encode(md, mdlen, out);
	return 0;
}

bool
ca_self_signed(X509 *x)
{
	EVP_PKEY *pk;
	bool ok;

	if (X509_check_issued(x, x) != X509_V_OK ||
	    (pk = X509_get0_pubkey(x)) == NULL) {
		ERR_clear_error();
		return false;
	}
	ok = X509_verify(x, pk) == 1;
	ERR_clear_error();
	return ok;
}

int
ca_chain_verify(X509 *cert, STACK_OF(X509) *untrusted,
    STACK_OF(X509) *anchors, bool partial, STACK_OF(X509) **chain,
    struct err *e)
{
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	int i, verr, rc = -1;

	*chain = NULL;
	if ((store = X509_STORE_new()) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL)
		goto fail;
	for (i = 0; i < sk_X509_num(anchors); i++)
		if (X509_STORE_add_cert(store, sk_X509_value(anchors, i)) !=
		    1)
			goto fail;
	if (X509_STORE_CTX_init(ctx, store, cert, untrusted) != 1)
		goto fail;
	/*
	 * A structural check: an expired retired CA still loads (it signs
	 * its CRL until retire), and issuance checks the dates itself.
	 */
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME |
	    (partial ? X509_V_FLAG_PARTIAL_CHAIN : 0));
	if (X509_verify_cert(ctx) != 1) {
		verr = X509_STORE_CTX_get_error(ctx);
		ERR_clear_error();
		err_set(e, ERR_INVALID_CHAIN, "the CA certificate does not "
		    "verify to its roots: %s",
		    X509_verify_cert_error_string(verr));
		goto out;
	}
	if ((*chain = X509_STORE_CTX_get1_chain(ctx)) == NULL)
		goto fail;
	rc = 0;
	goto out;
fail:
	ca_ssl_fail("verifying a CA chain", ERR_CRYPTO,
	    "cannot verify the CA certificate", e);
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return rc;
}

int
ca_anchors_check(STACK_OF(X509) *anchors, struct err *e)
{
	for (int i = 0; i < sk_X509_num(anchors); i++) {
		X509 *a = sk_X509_value(anchors, i);

		if (!ca_self_signed(a) || !ca_cert_is_ca(a)) {
			err_set(e, ERR_INVALID_CHAIN, "root certificate %d is "
			    "not a self-signed CA certificate", i + 1);
			return -1;
		}
	}
	return 0;
}

void
ca_new_clear(struct ca_new *n)
{
	if (n == NULL)
		return;
	free(n->cert_pem);
	free(n->anchors_pem);
	free(n->csr_pem);
	memset(n, 0, sizeof(*n));
}

int
ca_new_fill(struct ca_new *out, STACK_OF(X509) *chain,
    STACK_OF(X509) *anchors, enum key_type t, struct err *e)
{
	X509 *x = sk_X509_value(chain, 0);
	unsigned char *der = NULL;
	size_t dlen;
	int rc = -1;

	if ((out->cert_pem = ca_certs_pem(chain, 0)) == NULL ||
	    (out->anchors_pem = ca_certs_pem(anchors, 0)) == NULL ||
	    (der = ca_x509_der(x, &dlen)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	ca_sha256_hex(der, dlen, out->fingerprint);
	if (ca_ski_of(x, out->ski, e) == -1 ||
	    ca_pkey_spki_sha256(X509_get0_pubkey(x), out->spki_sha256,
	    e) == -1)
		goto out;
	if (ca_asn1_time_epoch(X509_get0_notBefore(x), &out->not_before) ==
	    -1 || ca_asn1_time_epoch(X509_get0_notAfter(x),
	    &out->not_after) == -1) {
		err_set(e, ERR_INVALID_CHAIN, "the CA certificate's dates "
		    "are invalid");
		goto out;
	}
	out->key_type = t;
	rc = 0;
out:
	free(der);
	if (rc == -1)
		ca_new_clear(out);
	return rc;
}
