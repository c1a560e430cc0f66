/*
 * Small primitives of ca/: randomness, digests, constant-time compare,
 * PEM armour, key classification and serial numbers.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca_priv.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
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

int
ca_random(void *buf, size_t n, struct err *e)
{
	if (n > INT_MAX || RAND_bytes(buf, (int)n) != 1) {
		ca_log_ssl("RAND_bytes");
		err_set(e, ERR_CRYPTO, "random number generator failed");
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
		ca_log_ssl("serial");
		err_set(e, ERR_CRYPTO, "cannot make a serial number");
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

bool
ca_key_type_ok_for_ca(enum key_type t)
{
	return t == KEY_EC_P256 || t == KEY_EC_P384 || t == KEY_RSA_3072 ||
	    t == KEY_RSA_4096;
}

int
ca_key_classify(EVP_PKEY *pk, enum key_type *out, struct err *e)
{
	BIGNUM *bn_e = NULL, *bn_n = NULL;
	unsigned char pt[1 + 2 * 66];
	char group[64];
	size_t glen = 0, ptlen = 0;
	int bits, nid, odd, f4;

	if (pk == NULL)
		goto bad;
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA) {
		/*
		 * SPEC section 8: exponent 65537 and an odd modulus, for a
		 * leaf's key and for the CA's own (with e = 1 a signature
		 * is the padded digest itself: anyone could sign).
		 */
		if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &bn_e) !=
		    1 || EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N,
		    &bn_n) != 1) {
			ERR_clear_error();
			BN_free(bn_e);
			BN_free(bn_n);
			goto bad;
		}
		odd = BN_is_odd(bn_n);
		f4 = BN_is_word(bn_e, RSA_F4);
		BN_free(bn_e);
		BN_free(bn_n);
		if (!f4) {
			err_set(e, ERR_KEY_REJECTED, "RSA public exponent "
			    "other than 65537");
			return -1;
		}
		if (!odd) {
			err_set(e, ERR_KEY_REJECTED, "the RSA modulus is even");
			return -1;
		}
		bits = EVP_PKEY_get_bits(pk);
		switch (bits) {
		case 2048:
			*out = KEY_RSA_2048;
			return 0;
		case 3072:
			*out = KEY_RSA_3072;
			return 0;
		case 4096:
			*out = KEY_RSA_4096;
			return 0;
		default:
			err_set(e, ERR_KEY_REJECTED,
			    "RSA key of %d bits: only 2048, 3072 and 4096 "
			    "bits are accepted", bits);
			return -1;
		}
	}
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC) {
		if (EVP_PKEY_get_utf8_string_param(pk,
		    OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
		    &glen) != 1) {
			ERR_clear_error();
			err_set(e, ERR_KEY_REJECTED,
			    "EC key without a named curve: only P-256 and "
			    "P-384 are accepted");
			return -1;
		}
		/* The point at infinity encodes as the single octet 00. */
		if (EVP_PKEY_get_octet_string_param(pk,
		    OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &ptlen) != 1 ||
		    ptlen < 2) {
			ERR_clear_error();
			err_set(e, ERR_KEY_REJECTED,
			    "the EC public key is the point at infinity or "
			    "missing");
			return -1;
		}
		nid = OBJ_sn2nid(group);
		if (nid == NID_undef)
			nid = EC_curve_nist2nid(group);
		if (nid == NID_X9_62_prime256v1) {
			*out = KEY_EC_P256;
			return 0;
		}
		if (nid == NID_secp384r1) {
			*out = KEY_EC_P384;
			return 0;
		}
		err_set(e, ERR_KEY_REJECTED,
		    "EC curve %.40s: only P-256 and P-384 are accepted", group);
		return -1;
	}
bad:
	err_set(e, ERR_KEY_REJECTED,
	    "key algorithm %.32s: only EC P-256/P-384 and RSA "
	    "2048/3072/4096 are accepted",
	    pk != NULL && EVP_PKEY_get0_type_name(pk) != NULL ?
	    EVP_PKEY_get0_type_name(pk) : "unknown");
	return -1;
}

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
		ca_log_ssl("key generation");
		err_set(e, ERR_CRYPTO, "key generation failed");
	}
	return pk;
}

int
ca_pem_fingerprint(const char *pem, char out[RCA_SHA256_HEX + 1],
    struct err *e)
{
	BIO *bio = NULL;
	X509 *x = NULL;
	unsigned char *der = NULL;
	size_t len = 0;
	int rc = -1;

	if (pem == NULL ||
	    (bio = BIO_new_mem_buf(pem, -1)) == NULL ||
	    (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		ERR_clear_error();
		err_set(e, ERR_INVALID_REQUEST, "not a PEM certificate");
		goto out;
	}
	if ((der = ca_x509_der(x, &len)) == NULL) {
		ca_log_ssl("i2d_X509");
		err_set(e, ERR_CRYPTO, "cannot encode certificate");
		goto out;
	}
	ca_sha256_hex(der, len, out);
	rc = 0;
out:
	free(der);
	X509_free(x);
	BIO_free(bio);
	return rc;
}

EVP_MD_CTX *
ca_sign_ctx(const struct ca *ca)
{
	EVP_MD_CTX *m;

	if ((m = EVP_MD_CTX_new()) == NULL)
		return NULL;
	if (EVP_MD_CTX_copy_ex(m, ca->sign_tmpl) != 1) {
		EVP_MD_CTX_free(m);
		return NULL;
	}
	return m;
}
