/*
 * A CSR's PEM armour (SPEC section 8): exactly one CERTIFICATE REQUEST
 * block, only base64 inside it, only whitespace around it.
 */
#include <string.h>

#include "ca_priv.h"

#include <openssl/err.h>
#include <openssl/pem.h>

static bool
pem_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Between the end of the BEGIN line and the last "-----END", only base64
 * and whitespace: OpenSSL's decoder stops at the first '-' and ignores
 * the rest of the block, which would let a second BEGIN line or any
 * text hide inside it.  p..p+n starts with "-----BEGIN ".
 */
static bool
pem_body_ok(const char *p, size_t n)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/=";
	const char *nl = memchr(p, '\n', n), *endl = NULL;

	for (size_t i = n; i >= 9 && endl == NULL; i--)
		if (memcmp(p + i - 9, "-----END ", 9) == 0)
			endl = p + i - 9;
	if (nl == NULL || endl == NULL || endl < nl)
		return false;
	for (const char *c = nl; c < endl; c++)
		if (!pem_space(*c) && (*c == '\0' || strchr(b64, *c) == NULL))
			return false;
	return true;
}

/*
 * Read the PEM block at the start of bio: labelled CERTIFICATE REQUEST
 * (or the old NEW CERTIFICATE REQUEST), without headers.  *der is new
 * (OPENSSL_free), NULL on failure.
 */
static int
pem_read_req(BIO *bio, unsigned char **der, long *dlen, struct err *e)
{
	char *name = NULL, *header = NULL;
	int rc = -1;

	if (PEM_read_bio_ex(bio, &name, &header, der, dlen, 0) != 1 ||
	    *dlen <= 0) {
		ERR_clear_error();
		err_set(e, ERR_INVALID_CSR,
		    "not a PEM certificate request (CERTIFICATE REQUEST)");
		goto out;
	}
	if (strcmp(name, PEM_STRING_X509_REQ) != 0 &&
	    strcmp(name, PEM_STRING_X509_REQ_OLD) != 0) {
		err_set(e, ERR_INVALID_CSR, "a PEM block of type %.40s, not "
		    "CERTIFICATE REQUEST", name);
		goto out;
	}
	if (header[0] != '\0') {
		err_set(e, ERR_INVALID_CSR, "PEM headers are not accepted");
		goto out;
	}
	rc = 0;
out:
	if (rc == -1) {
		OPENSSL_free(*der);
		*der = NULL;
	}
	OPENSSL_free(name);
	OPENSSL_free(header);
	return rc;
}

/* True when p..p+n is only whitespace. */
static bool
pem_blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!pem_space(p[i]))
			return false;
	return true;
}

int
ca_csr_pem_block(const char *pem, size_t len, unsigned char **der,
    long *dlen, struct err *e)
{
	BIO *bio = NULL;
	size_t i, end = len, rest;
	int rc = -1;

	*der = NULL;
	for (i = 0; i < len && pem_space(pem[i]); i++)
		;
	/*
	 * OpenSSL refuses an END line followed by blanks without a
	 * newline; SPEC 8 allows any whitespace after the block.
	 */
	while (end > i && pem_space(pem[end - 1]))
		end--;
	if (end - i < 11 || memcmp(pem + i, "-----BEGIN ", 11) != 0) {
		err_set(e, ERR_INVALID_CSR, "not a PEM certificate request "
		    "(CERTIFICATE REQUEST): only whitespace may come before "
		    "the block");
		goto out;
	}
	if ((bio = BIO_new_mem_buf(pem + i, (int)(end - i))) == NULL) {
		ca_ssl_fail("BIO_new_mem_buf", ERR_INTERNAL,
		    "out of memory", e);
		goto out;
	}
	if (!pem_body_ok(pem + i, end - i)) {
		err_set(e, ERR_INVALID_CSR, "the CSR must be exactly one PEM "
		    "block: only base64 between its BEGIN and END lines");
		goto out;
	}
	if (pem_read_req(bio, der, dlen, e) == -1)
		goto out;
	/* A second block or any text after it is refused. */
	rest = (size_t)BIO_pending(bio);
	if (!pem_blank(pem + end - rest, rest)) {
		err_set(e, ERR_INVALID_CSR, "the CSR must be exactly one PEM "
		    "block: found more after it");
		goto out;
	}
	rc = 0;
out:
	if (rc == -1) {
		OPENSSL_free(*der);
		*der = NULL;
	}
	BIO_free(bio);
	return rc;
}
