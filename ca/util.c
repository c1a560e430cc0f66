/*
 * Small primitives of ca/: OpenSSL's error queue, randomness, digests,
 * constant-time compare, PEM armour, times and serial numbers.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca_priv.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "hex.h"
#include "log.h"

void
ca_log_ssl(const char *what)
{
	unsigned long code;
	char buf[256];

	while ((code = ERR_get_error()) != 0) {
		ERR_error_string_n(code, buf, sizeof(buf));
		log_error("ca: %s: %s", what, buf);
	}
}

void
ca_ssl_fail(const char *what, enum err_code code, const char *msg,
    struct err *e)
{
	ca_log_ssl(what);
	err_set(e, code, "%s", msg);
}

int
ca_random(void *buf, size_t n, struct err *e)
{
	if (n > INT_MAX || RAND_bytes(buf, (int)n) != 1) {
		ca_ssl_fail("RAND_bytes", ERR_CRYPTO,
		    "random number generator failed", e);
		return -1;
	}
	return 0;
}

void
ca_sha256(const void *data, size_t n, unsigned char out[32])
{
	SHA256(data, n, out);
}

void
ca_sha256_hex(const void *data, size_t n, char out[RCA_SHA256_HEX + 1])
{
	unsigned char md[32];

	SHA256(data, n, md);
	hex_encode(md, sizeof(md), out);
}

bool
ca_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

char *
ca_pem_encode(const char *label, const unsigned char *der, size_t len)
{
	size_t lines = (len + 47) / 48, llen = strlen(label), cap;
	char *out, *p;

	/* 48 input bytes make one 64-column line of base64. */
	cap = 2 * (llen + 32) + lines * 66 + 1;
	if ((out = malloc(cap)) == NULL)
		return NULL;
	p = out;
	p += sprintf(p, "-----BEGIN %s-----\n", label);
	for (size_t off = 0; off < len; off += 48) {
		size_t chunk = len - off < 48 ? len - off : 48;

		p += EVP_EncodeBlock((unsigned char *)p, der + off, (int)chunk);
		*p++ = '\n';
	}
	p += sprintf(p, "-----END %s-----\n", label);
	*p = '\0';
	return out;
}

unsigned char *
ca_x509_der(X509 *x, size_t *len)
{
	unsigned char *der, *p;
	int n;

	if ((n = i2d_X509(x, NULL)) <= 0)
		return NULL;
	if ((der = malloc((size_t)n)) == NULL)
		return NULL;
	p = der;
	if (i2d_X509(x, &p) != n) {
		free(der);
		return NULL;
	}
	*len = (size_t)n;
	return der;
}

int
ca_asn1_time_epoch(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

int
ca_serial_hex(const ASN1_INTEGER *ai, char out[RCA_SERIAL_HEX_MAX + 1])
{
	BIGNUM *bn = NULL;
	char *h = NULL;
	size_t i, j = 0;
	int rc = -1;

	if ((bn = ASN1_INTEGER_to_BN(ai, NULL)) == NULL ||
	    (h = BN_bn2hex(bn)) == NULL)
		goto out;
	/* BN_bn2hex gives upper case, "0" for zero, "-" when negative. */
	if (h[0] == '-' || strlen(h) > RCA_SERIAL_HEX_MAX)
		goto out;
	for (i = 0; h[i + 1] != '\0' && h[i] == '0'; i++)
		;
	for (; h[i] != '\0'; i++)
		out[j++] = (char)(h[i] >= 'A' && h[i] <= 'F' ?
		    h[i] - 'A' + 'a' : h[i]);
	out[j] = '\0';
	rc = 0;
out:
	OPENSSL_free(h);
	BN_free(bn);
	return rc;
}

ASN1_INTEGER *
ca_serial_new(char hex[RCA_SERIAL_HEX_MAX + 1], struct err *e)
{
	unsigned char b[RCA_SERIAL_BYTES];
	char full[2 * RCA_SERIAL_BYTES + 1];
	ASN1_INTEGER *ai = NULL;
	BIGNUM *bn = NULL;
	size_t i;
	bool zero;

	/* Top bit cleared keeps it positive in 16 DER bytes; never zero. */
	do {
		if (ca_random(b, sizeof(b), e) == -1)
			return NULL;
		b[0] &= 0x7f;
		zero = true;
		for (i = 0; i < sizeof(b); i++)
			if (b[i] != 0)
				zero = false;
	} while (zero);
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL ||
	    (ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL) {
		ca_ssl_fail("serial", ERR_CRYPTO,
		    "cannot make a serial number", e);
		BN_free(bn);
		return NULL;
	}
	BN_free(bn);
	hex_encode(b, sizeof(b), full);
	for (i = 0; full[i + 1] != '\0' && full[i] == '0'; i++)
		;
	memcpy(hex, full + i, sizeof(full) - i);
	return ai;
}

X509 *
ca_x509_from_der(const unsigned char *der, size_t len, enum err_code code,
    struct err *e)
{
	const unsigned char *p = der;
	X509 *x = NULL;

	if (der == NULL || len == 0 || len > RCA_MAX_PEM_BYTES ||
	    (x = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len) {
		ERR_clear_error();
		err_set(e, code, "not a DER certificate");
		X509_free(x);
		return NULL;
	}
	return x;
}

/* The first certificate of a NUL-terminated PEM (new), or NULL. */
static X509 *
pem_x509(const char *pem)
{
	BIO *bio;
	X509 *x;

	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL)
		return NULL;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return x;
}

int
ca_pem_fingerprint(const char *pem, char out[RCA_SHA256_HEX + 1],
    struct err *e)
{
	X509 *x = NULL;
	unsigned char *der = NULL;
	size_t len = 0;
	int rc = -1;

	if (pem == NULL || (x = pem_x509(pem)) == NULL) {
		ERR_clear_error();
		err_set(e, ERR_INVALID_REQUEST, "not a PEM certificate");
		goto out;
	}
	if ((der = ca_x509_der(x, &len)) == NULL) {
		ca_ssl_fail("i2d_X509", ERR_CRYPTO,
		    "cannot encode certificate", e);
		goto out;
	}
	ca_sha256_hex(der, len, out);
	rc = 0;
out:
	free(der);
	X509_free(x);
	return rc;
}

EVP_MD_CTX *
ca_sign_ctx(const struct ca *ca)
{
	EVP_MD_CTX *m;

	if (ca->sign_tmpl == NULL || (m = EVP_MD_CTX_new()) == NULL)
		return NULL;
	if (EVP_MD_CTX_copy_ex(m, ca->sign_tmpl) != 1) {
		EVP_MD_CTX_free(m);
		return NULL;
	}
	return m;
}

int
ca_key_needed(const struct ca *ca, struct err *e)
{
	if (ca->key == NULL || ca->sign_tmpl == NULL) {
		err_set(e, ERR_CRYPTO, "this instance has not got the key of "
		    "CA %s", ca->ski);
		return -1;
	}
	return 0;
}
