/*
 * Valid and hostile CSRs for the tests and the fuzz corpus.  A normal
 * request is built with OpenSSL, then its signed part is taken apart
 * and put together again with the hostile piece (a key, a version, a
 * length) and signed over; two keys get forged signatures, which is
 * the point of refusing them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "csr_gen.h"

const struct cg_case cg_cases[CG__MAX] = {
	[CG_P256] = { "ok-p256", ERR_OK },
	[CG_P256_COMPRESSED] = { "ok-p256-compressed", ERR_OK },
	[CG_P384] = { "ok-p384", ERR_OK },
	[CG_P256_SHA512] = { "ok-p256-sha512", ERR_OK },
	[CG_RSA2048] = { "ok-rsa2048", ERR_OK },
	[CG_RSA3072] = { "ok-rsa3072", ERR_OK },
	[CG_RSA4096] = { "ok-rsa4096", ERR_OK },
	[CG_RSA_PSS] = { "ok-rsa-pss", ERR_OK },
	[CG_OLD_LABEL] = { "ok-old-label", ERR_OK },
	[CG_CRLF] = { "ok-crlf", ERR_OK },
	[CG_EC_INFINITY] = { "key-ec-infinity", ERR_KEY_REJECTED },
	[CG_EC_HYBRID] = { "key-ec-hybrid", ERR_KEY_REJECTED },
	[CG_EC_EXPLICIT] = { "key-ec-explicit", ERR_KEY_REJECTED },
	[CG_EC_OFF_CURVE] = { "key-ec-off-curve", ERR_KEY_REJECTED },
	[CG_EC_P521] = { "key-ec-p521", ERR_KEY_REJECTED },
	[CG_RSA_E1] = { "key-rsa-e1", ERR_KEY_REJECTED },
	[CG_RSA_E3] = { "key-rsa-e3", ERR_KEY_REJECTED },
	[CG_RSA_EVEN] = { "key-rsa-even", ERR_KEY_REJECTED },
	[CG_RSA_PARAMS_OCTET] = { "key-rsa-params-octet", ERR_KEY_REJECTED },
	[CG_RSA_PARAMS_ABSENT] = { "key-rsa-params-absent",
	    ERR_KEY_REJECTED },
	[CG_RSA_TRAILING] = { "key-rsa-trailing", ERR_KEY_REJECTED },
	[CG_RSA_INT_PADDED] = { "key-rsa-int-padded", ERR_KEY_REJECTED },
	[CG_RSA_1024] = { "key-rsa1024", ERR_KEY_REJECTED },
	[CG_MD5] = { "bad-md5", ERR_INVALID_CSR },
	[CG_SHA1] = { "bad-sha1", ERR_INVALID_CSR },
	[CG_SHA224] = { "bad-sha224", ERR_INVALID_CSR },
	[CG_PSS_SHA1] = { "bad-pss-sha1", ERR_INVALID_CSR },
	[CG_VERSION5] = { "bad-version5", ERR_INVALID_CSR },
	[CG_BER_LENGTH] = { "bad-ber-length", ERR_INVALID_CSR },
	[CG_BER_INDEFINITE] = { "bad-ber-indefinite", ERR_INVALID_CSR },
	[CG_BER_SIG_LENGTH] = { "bad-ber-sig-length", ERR_INVALID_CSR },
	[CG_TWO_PEM] = { "bad-two-pem", ERR_INVALID_CSR },
	[CG_TRAILING_TEXT] = { "bad-trailing-text", ERR_INVALID_CSR },
	[CG_LEADING_TEXT] = { "bad-leading-text", ERR_INVALID_CSR },
	[CG_PEM_HEADER] = { "bad-pem-header", ERR_INVALID_CSR },
	[CG_WRONG_LABEL] = { "bad-wrong-label", ERR_INVALID_CSR },
	[CG_BAD_SIGNATURE] = { "sig-bad", ERR_CSR_SIGNATURE },
};

/* A growing byte buffer; allocation failure aborts (test code). */
struct bb {
	unsigned char	*d;
	size_t		 n;
};

static void
bb_add(struct bb *b, const void *p, size_t n)
{
	if ((b->d = realloc(b->d, b->n + n + 1)) == NULL)
		abort();
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void
bb_byte(struct bb *b, unsigned char c)
{
	bb_add(b, &c, 1);
}

/* A DER header; minimal unless long_form asks for one length octet. */
static void
bb_head(struct bb *b, unsigned char tag, size_t len, int long_form)
{
	bb_byte(b, tag);
	if (len < 0x80 && !long_form) {
		bb_byte(b, (unsigned char)len);
	} else if (len <= 0xff) {
		bb_byte(b, 0x81);
		bb_byte(b, (unsigned char)len);
	} else {
		bb_byte(b, 0x82);
		bb_byte(b, (unsigned char)(len >> 8));
		bb_byte(b, (unsigned char)len);
	}
}

static void
bb_tlv(struct bb *b, unsigned char tag, const void *c, size_t n)
{
	bb_head(b, tag, n, 0);
	bb_add(b, c, n);
}

/* A DER INTEGER of a non-negative big number. */
static void
bb_int(struct bb *b, const BIGNUM *bn)
{
	unsigned char buf[1025];
	int n = BN_bn2bin(bn, buf + 1);

	buf[0] = 0;
	if (n == 0)
		bb_tlv(b, 0x02, buf, 1);
	else if (buf[1] & 0x80)
		bb_tlv(b, 0x02, buf, (size_t)n + 1);
	else
		bb_tlv(b, 0x02, buf + 1, (size_t)n);
}

/* Split a DER TLV: header length and total length. */
static size_t
tlv(const unsigned char *p, size_t *hl)
{
	size_t n, len = 0;

	if (p[1] < 0x80) {
		*hl = 2;
		return 2 + p[1];
	}
	n = p[1] & 0x7f;
	for (size_t i = 0; i < n; i++)
		len = (len << 8) | p[2 + i];
	*hl = 2 + n;
	return 2 + n + len;
}

static EVP_PKEY *
key_ec(const char *curve)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
}

static EVP_PKEY *
key_rsa(int bits, unsigned long e)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	BIGNUM *be = BN_new();
	EVP_PKEY *k = NULL;

	if (c == NULL || be == NULL || BN_set_word(be, e) != 1 ||
	    EVP_PKEY_keygen_init(c) != 1 ||
	    EVP_PKEY_CTX_set_rsa_keygen_bits(c, bits) != 1 ||
	    EVP_PKEY_CTX_set1_rsa_keygen_pubexp(c, be) != 1 ||
	    EVP_PKEY_keygen(c, &k) != 1)
		k = NULL;
	BN_free(be);
	EVP_PKEY_CTX_free(c);
	return k;
}

/* A request for key with CN cn (may be NULL) and SANs san (may be NULL). */
static X509_REQ *
names_req(EVP_PKEY *key, const char *cn, const char *san)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509_EXTENSION *x = san == NULL ? NULL : X509V3_EXT_nconf_nid(NULL,
	    NULL, NID_subject_alt_name, san);

	if (req == NULL || name == NULL || exts == NULL ||
	    (san != NULL && x == NULL) ||
	    (cn != NULL && X509_NAME_add_entry_by_txt(name, "CN",
	    MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) != 1) ||
	    X509_REQ_set_subject_name(req, name) != 1 ||
	    X509_REQ_set_pubkey(req, key) != 1 ||
	    (x != NULL && (sk_X509_EXTENSION_push(exts, x) <= 0 ||
	    X509_REQ_add_extensions(req, exts) != 1)))
		abort();
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(name);
	return req;
}

/* A request for key with a CN and a SAN (new), unsigned. */
static X509_REQ *
base_req(EVP_PKEY *key)
{
	return names_req(key, "app-1.example",
	    "DNS:app-1.example,IP:10.1.2.3");
}

/* An EC SPKI for curve with the point pt. */
static void
ec_spki(struct bb *out, int curve, const unsigned char *pt, size_t n)
{
	struct bb alg = { 0 }, bits = { 0 }, in = { 0 };
	unsigned char *o = NULL;
	int ol;

	ol = i2d_ASN1_OBJECT(OBJ_nid2obj(NID_X9_62_id_ecPublicKey), &o);
	bb_add(&in, o, (size_t)ol);
	OPENSSL_free(o);
	o = NULL;
	ol = i2d_ASN1_OBJECT(OBJ_nid2obj(curve), &o);
	bb_add(&in, o, (size_t)ol);
	OPENSSL_free(o);
	bb_tlv(&alg, 0x30, in.d, in.n);
	bb_byte(&bits, 0);
	bb_add(&bits, pt, n);
	free(in.d);
	in.d = NULL;
	in.n = 0;
	bb_add(&in, alg.d, alg.n);
	bb_tlv(&in, 0x03, bits.d, bits.n);
	bb_tlv(out, 0x30, in.d, in.n);
	free(alg.d);
	free(bits.d);
	free(in.d);
}

/*
 * An RSA SPKI: params 0 NULL, 1 OCTET STRING, 2 absent; e_padded
 * writes e with a redundant leading zero; trailing adds two octets
 * after the RSAPublicKey.
 */
static void
rsa_spki(struct bb *out, const BIGNUM *n, const BIGNUM *e, int params,
    int e_padded, int trailing)
{
	static const unsigned char null[] = { 0x05, 0x00 };
	static const unsigned char oct[] = { 0x04, 0x01, 0x00 };
	struct bb alg = { 0 }, ints = { 0 }, rpk = { 0 }, bits = { 0 },
	    in = { 0 };
	unsigned char *o = NULL;
	int ol;

	ol = i2d_ASN1_OBJECT(OBJ_nid2obj(NID_rsaEncryption), &o);
	bb_add(&in, o, (size_t)ol);
	OPENSSL_free(o);
	if (params == 0)
		bb_add(&in, null, sizeof(null));
	else if (params == 1)
		bb_add(&in, oct, sizeof(oct));
	bb_tlv(&alg, 0x30, in.d, in.n);
	bb_int(&ints, n);
	if (e_padded) {
		unsigned char eb[8] = { 0 };
		int el = BN_bn2bin(e, eb + 1);

		bb_tlv(&ints, 0x02, eb, (size_t)el + 1);
	} else
		bb_int(&ints, e);
	bb_tlv(&rpk, 0x30, ints.d, ints.n);
	bb_byte(&bits, 0);
	bb_add(&bits, rpk.d, rpk.n);
	if (trailing) {
		bb_byte(&bits, 0);
		bb_byte(&bits, 0);
	}
	free(in.d);
	in.d = NULL;
	in.n = 0;
	bb_add(&in, alg.d, alg.n);
	bb_tlv(&in, 0x03, bits.d, bits.n);
	bb_tlv(out, 0x30, in.d, in.n);
	free(alg.d);
	free(ints.d);
	free(rpk.d);
	free(bits.d);
	free(in.d);
}

/* ECDSA "signature" under the point at infinity: x(kG), e/k. */
static int
forge_ec_infinity(const unsigned char *tbs, size_t n, struct bb *sig)
{
	unsigned char md[32], *der = NULL;
	EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	EC_POINT *R = g != NULL ? EC_POINT_new(g) : NULL;
	BN_CTX *bc = BN_CTX_new();
	BIGNUM *k = BN_new(), *x = BN_new(), *r = BN_new(), *s = BN_new(),
	    *e = BN_new(), *ki = BN_new();
	const BIGNUM *order = g != NULL ? EC_GROUP_get0_order(g) : NULL;
	ECDSA_SIG *es = NULL;
	int dl, rc = -1;

	SHA256(tbs, n, md);
	if (R == NULL || bc == NULL || s == NULL || e == NULL || ki == NULL ||
	    BN_bin2bn(md, 32, e) == NULL || BN_rand_range(k, order) != 1 ||
	    BN_is_zero(k) || EC_POINT_mul(g, R, k, NULL, NULL, bc) != 1 ||
	    EC_POINT_get_affine_coordinates(g, R, x, NULL, bc) != 1 ||
	    BN_nnmod(r, x, order, bc) != 1 ||
	    BN_mod_inverse(ki, k, order, bc) == NULL ||
	    BN_mod_mul(s, e, ki, order, bc) != 1 ||
	    (es = ECDSA_SIG_new()) == NULL ||
	    ECDSA_SIG_set0(es, BN_dup(r), BN_dup(s)) != 1 ||
	    (dl = i2d_ECDSA_SIG(es, &der)) <= 0)
		goto out;
	bb_add(sig, der, (size_t)dl);
	rc = 0;
out:
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	BN_free(k);
	BN_free(x);
	BN_free(r);
	BN_free(s);
	BN_free(e);
	BN_free(ki);
	BN_CTX_free(bc);
	EC_POINT_free(R);
	EC_GROUP_free(g);
	return rc;
}

/* RSA "signature" under e = 1: the PKCS#1 v1.5 block itself. */
static void
forge_rsa_e1(const unsigned char *tbs, size_t n, size_t modlen,
    struct bb *sig)
{
	static const unsigned char di[] = { 0x30, 0x31, 0x30, 0x0d, 0x06,
	    0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
	    0x00, 0x04, 0x20 };
	unsigned char em[512], md[32];
	size_t ps = modlen - 3 - sizeof(di) - 32;

	SHA256(tbs, n, md);
	em[0] = 0x00;
	em[1] = 0x01;
	memset(em + 2, 0xff, ps);
	em[2 + ps] = 0x00;
	memcpy(em + 3 + ps, di, sizeof(di));
	memcpy(em + 3 + ps + sizeof(di), md, 32);
	bb_add(sig, em, modlen);
}

/* PEM armour with 64-column lines. */
static char *
pem_wrap(const char *label, const unsigned char *der, size_t n,
    const char *eol)
{
	struct bb b = { 0 };
	unsigned char line[80];

	bb_add(&b, "-----BEGIN ", 11);
	bb_add(&b, label, strlen(label));
	bb_add(&b, "-----", 5);
	bb_add(&b, eol, strlen(eol));
	for (size_t off = 0; off < n; off += 48) {
		int l = EVP_EncodeBlock(line, der + off,
		    (int)(n - off < 48 ? n - off : 48));

		bb_add(&b, line, (size_t)l);
		bb_add(&b, eol, strlen(eol));
	}
	bb_add(&b, "-----END ", 9);
	bb_add(&b, label, strlen(label));
	bb_add(&b, "-----", 5);
	bb_add(&b, eol, strlen(eol));
	b.d[b.n] = '\0';
	return (char *)b.d;
}

/* A request signed with RSA-PSS by OpenSSL itself (new DER). */
static int
pss_req(EVP_PKEY *key, const EVP_MD *md, struct bb *out)
{
	X509_REQ *req = base_req(key);
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;
	unsigned char *der = NULL;
	int n, rc = -1;

	if (m == NULL || EVP_DigestSignInit(m, &pc, md, NULL, key) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) != 1 ||
	    X509_REQ_sign_ctx(req, m) <= 0 ||
	    (n = i2d_X509_REQ(req, &der)) <= 0)
		goto out;
	bb_add(out, der, (size_t)n);
	rc = 0;
out:
	OPENSSL_free(der);
	EVP_MD_CTX_free(m);
	X509_REQ_free(req);
	return rc;
}

char *
cg_pem(enum cg_kind k)
{
	struct bb spki = { 0 }, tbsin = { 0 }, tbs = { 0 }, sig = { 0 },
	    alg = { 0 }, bits = { 0 }, body = { 0 }, der = { 0 };
	const EVP_MD *md = EVP_sha256();
	const char *label = "CERTIFICATE REQUEST", *eol = "\n";
	unsigned char *t0 = NULL, *o = NULL, pt[1 + 2 * 66];
	const unsigned char *el[4];
	size_t ell[4], hl, off, ptlen = 0, siglen = 0;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	EVP_PKEY *key = NULL;
	EVP_MD_CTX *m = NULL;
	X509_REQ *req = NULL;
	char *pem = NULL, *out = NULL;
	int t0len, ol, forge = 0, sigmod = 0;

	switch (k) {
	case CG_P384:
		key = key_ec("P-384");
		md = EVP_sha384();
		break;
	case CG_EC_P521:
		key = key_ec("P-521");
		break;
	case CG_RSA2048:
	case CG_RSA_EVEN:
	case CG_RSA_PARAMS_OCTET:
	case CG_RSA_PARAMS_ABSENT:
	case CG_RSA_TRAILING:
	case CG_RSA_INT_PADDED:
	case CG_MD5:
	case CG_RSA_PSS:
	case CG_PSS_SHA1:
		key = key_rsa(2048, RSA_F4);
		break;
	case CG_RSA3072:
		key = key_rsa(3072, RSA_F4);
		break;
	case CG_RSA4096:
		key = key_rsa(4096, RSA_F4);
		break;
	case CG_RSA_E3:
		key = key_rsa(2048, 3);
		break;
	case CG_RSA_1024:
		key = key_rsa(1024, RSA_F4);
		break;
	default:
		key = key_ec("P-256");
		break;
	}
	if (key == NULL)
		goto fail;
	if (k == CG_RSA_PSS || k == CG_PSS_SHA1) {
		if (pss_req(key, k == CG_PSS_SHA1 ? EVP_sha1() : EVP_sha256(),
		    &der) == -1)
			goto fail;
		goto armour;
	}
	if (k == CG_P256_SHA512)
		md = EVP_sha512();
	else if (k == CG_MD5)
		md = EVP_md5();
	else if (k == CG_SHA1)
		md = EVP_sha1();
	else if (k == CG_SHA224)
		md = EVP_sha224();

	/* The signed part of a normal request, taken apart. */
	req = base_req(key);
	if ((t0len = i2d_re_X509_REQ_tbs(req, &t0)) <= 0)
		goto fail;
	off = 0;
	(void)tlv(t0, &hl);
	off = hl;
	for (int i = 0; i < 4; i++) {
		el[i] = t0 + off;
		ell[i] = tlv(t0 + off, &hl);
		off += ell[i];
	}
	if (off != (size_t)t0len)
		goto fail;

	/* The key, as the case wants it. */
	if (EVP_PKEY_is_a(key, "EC"))
		(void)EVP_PKEY_get_octet_string_param(key,
		    OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &ptlen);
	if (EVP_PKEY_is_a(key, "RSA") &&
	    (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &bn_n) != 1 ||
	    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &bn_e) != 1))
		goto fail;
	switch (k) {
	case CG_P256_COMPRESSED: {
		unsigned char c[33];

		c[0] = (unsigned char)(0x02 | (pt[64] & 1));
		memcpy(c + 1, pt + 1, 32);
		ec_spki(&spki, NID_X9_62_prime256v1, c, sizeof(c));
		break;
	}
	case CG_EC_HYBRID:
		pt[0] = (unsigned char)(0x06 | (pt[64] & 1));
		ec_spki(&spki, NID_X9_62_prime256v1, pt, ptlen);
		break;
	case CG_EC_OFF_CURVE:
		pt[64] ^= 0x01;
		ec_spki(&spki, NID_X9_62_prime256v1, pt, ptlen);
		break;
	case CG_EC_INFINITY:
		pt[0] = 0x00;
		ec_spki(&spki, NID_X9_62_prime256v1, pt, 1);
		forge = 1;
		break;
	case CG_EC_EXPLICIT: {
		EVP_PKEY *x = EVP_PKEY_dup(key);
		unsigned char *d = NULL;
		int dl;

		if (x == NULL || EVP_PKEY_set_utf8_string_param(x,
		    OSSL_PKEY_PARAM_EC_ENCODING,
		    OSSL_PKEY_EC_ENCODING_EXPLICIT) != 1 ||
		    (dl = i2d_PUBKEY(x, &d)) <= 0) {
			EVP_PKEY_free(x);
			goto fail;
		}
		bb_add(&spki, d, (size_t)dl);
		OPENSSL_free(d);
		EVP_PKEY_free(x);
		break;
	}
	case CG_RSA_E1: {
		BIGNUM *n = BN_new(), *one = BN_new();

		if (n == NULL || one == NULL ||
		    BN_rand(n, 2048, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ODD) !=
		    1 || BN_set_word(one, 1) != 1)
			abort();
		rsa_spki(&spki, n, one, 0, 0, 0);
		BN_free(n);
		BN_free(one);
		forge = 2;
		break;
	}
	case CG_RSA_EVEN:
		BN_clear_bit(bn_n, 0);
		rsa_spki(&spki, bn_n, bn_e, 0, 0, 0);
		break;
	case CG_RSA_PARAMS_OCTET:
		rsa_spki(&spki, bn_n, bn_e, 1, 0, 0);
		break;
	case CG_RSA_PARAMS_ABSENT:
		rsa_spki(&spki, bn_n, bn_e, 2, 0, 0);
		break;
	case CG_RSA_TRAILING:
		rsa_spki(&spki, bn_n, bn_e, 0, 0, 1);
		break;
	case CG_RSA_INT_PADDED:
		rsa_spki(&spki, bn_n, bn_e, 0, 1, 0);
		break;
	default:
		bb_add(&spki, el[2], ell[2]);
		break;
	}

	/* The signed part again. */
	if (k == CG_VERSION5) {
		static const unsigned char v5[] = { 0x02, 0x01, 0x05 };

		bb_add(&tbsin, v5, sizeof(v5));
	} else
		bb_add(&tbsin, el[0], ell[0]);
	if (k == CG_BER_LENGTH) {
		/* The subject with a long-form length it does not need. */
		(void)tlv(el[1], &hl);
		if (hl != 2)
			goto fail;
		bb_head(&tbsin, el[1][0], ell[1] - 2, 1);
		bb_add(&tbsin, el[1] + 2, ell[1] - 2);
	} else
		bb_add(&tbsin, el[1], ell[1]);
	bb_add(&tbsin, spki.d, spki.n);
	bb_add(&tbsin, el[3], ell[3]);
	bb_tlv(&tbs, 0x30, tbsin.d, tbsin.n);

	/* Its signature, real or forged. */
	if (forge == 1) {
		if (forge_ec_infinity(tbs.d, tbs.n, &sig) == -1)
			goto fail;
	} else if (forge == 2) {
		forge_rsa_e1(tbs.d, tbs.n, 256, &sig);
	} else {
		if ((m = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestSignInit_ex(m, NULL, EVP_MD_get0_name(md), NULL,
		    NULL, key, NULL) != 1 ||
		    EVP_DigestSign(m, NULL, &siglen, tbs.d, tbs.n) != 1)
			goto fail;
		sig.d = malloc(siglen + 1);
		if (sig.d == NULL || EVP_DigestSign(m, sig.d, &siglen, tbs.d,
		    tbs.n) != 1)
			goto fail;
		sig.n = siglen;
		if (k == CG_BAD_SIGNATURE)
			sig.d[sig.n / 2] ^= 0x01;
	}
	{
		int signid = NID_undef, pknid = forge == 2 ? EVP_PKEY_RSA :
		    EVP_PKEY_get_base_id(key);
		struct bb in = { 0 };

		if (OBJ_find_sigid_by_algs(&signid, EVP_MD_get_type(md),
		    pknid) != 1)
			goto fail;
		ol = i2d_ASN1_OBJECT(OBJ_nid2obj(signid), &o);
		bb_add(&in, o, (size_t)ol);
		if (pknid == EVP_PKEY_RSA) {
			bb_byte(&in, 0x05);
			bb_byte(&in, 0x00);
		}
		bb_tlv(&alg, 0x30, in.d, in.n);
		free(in.d);
	}
	bb_byte(&bits, 0);
	bb_add(&bits, sig.d, sig.n);
	bb_add(&body, tbs.d, tbs.n);
	bb_add(&body, alg.d, alg.n);
	if (k == CG_BER_SIG_LENGTH) {
		bb_head(&body, 0x03, bits.n, 1);
		bb_add(&body, bits.d, bits.n);
		sigmod = 1;
	} else
		bb_tlv(&body, 0x03, bits.d, bits.n);
	(void)sigmod;
	if (k == CG_BER_INDEFINITE) {
		bb_byte(&der, 0x30);
		bb_byte(&der, 0x80);
		bb_add(&der, body.d, body.n);
		bb_byte(&der, 0x00);
		bb_byte(&der, 0x00);
	} else
		bb_tlv(&der, 0x30, body.d, body.n);

armour:
	if (k == CG_OLD_LABEL)
		label = "NEW CERTIFICATE REQUEST";
	else if (k == CG_WRONG_LABEL)
		label = "CERTIFICATE";
	if (k == CG_CRLF)
		eol = "\r\n";
	if ((pem = pem_wrap(label, der.d, der.n, eol)) == NULL)
		goto fail;
	switch (k) {
	case CG_TWO_PEM:
		if (asprintf(&out, "%s%s", pem, pem) < 0)
			out = NULL;
		break;
	case CG_TRAILING_TEXT:
		if (asprintf(&out, "%sand some text\n", pem) < 0)
			out = NULL;
		break;
	case CG_LEADING_TEXT:
		if (asprintf(&out, "Certificate request:\n%s", pem) < 0)
			out = NULL;
		break;
	case CG_CRLF:
		if (asprintf(&out, "\r\n \t\r\n%s\r\n\r\n", pem) < 0)
			out = NULL;
		break;
	case CG_PEM_HEADER: {
		char *nl = strchr(pem, '\n');

		*nl = '\0';
		if (asprintf(&out, "%s\nProc-Type: 4,ENCRYPTED\nDEK-Info: "
		    "AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n%s", pem,
		    nl + 1) < 0)
			out = NULL;
		break;
	}
	default:
		out = pem;
		pem = NULL;
		break;
	}
	goto out;
fail:
	fprintf(stderr, "cg_pem: cannot build %s\n", cg_cases[k].name);
	ERR_print_errors_fp(stderr);
	out = NULL;
out:
	free(pem);
	OPENSSL_free(t0);
	OPENSSL_free(o);
	free(spki.d);
	free(tbsin.d);
	free(tbs.d);
	free(sig.d);
	free(alg.d);
	free(bits.d);
	free(body.d);
	free(der.d);
	BN_free(bn_n);
	BN_free(bn_e);
	EVP_MD_CTX_free(m);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	return out;
}

EVP_PKEY *
cg_fixed_key(void)
{
	static const char seed[] = "redis-ca csr fuzz key";
	unsigned char d[32];
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	EC_POINT *pub = g != NULL ? EC_POINT_new(g) : NULL;
	unsigned char pt[65];
	BIGNUM *priv = NULL;
	EVP_PKEY *k = NULL;

	SHA256((const unsigned char *)seed, sizeof(seed) - 1, d);
	if (bld == NULL || ctx == NULL || pub == NULL ||
	    (priv = BN_bin2bn(d, sizeof(d), NULL)) == NULL ||
	    EC_POINT_mul(g, pub, priv, NULL, NULL, NULL) != 1 ||
	    EC_POINT_point2oct(g, pub, POINT_CONVERSION_UNCOMPRESSED, pt,
	    sizeof(pt), NULL) != sizeof(pt) ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    "P-256", 0) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt,
	    sizeof(pt)) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_KEYPAIR, params) != 1)
		k = NULL;
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(priv);
	EC_POINT_free(pub);
	EC_GROUP_free(g);
	EVP_PKEY_CTX_free(ctx);
	return k;
}

int
cg_sign_tbs(EVP_PKEY *key, const unsigned char *tbs, size_t n,
    unsigned char **out, size_t *outlen)
{
	/* SEQUENCE { OID ecdsa-with-SHA256 } */
	static const unsigned char alg[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a,
	    0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
	struct bb bits = { 0 }, body = { 0 }, der = { 0 };
	unsigned char sig[80];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	int rc = -1;

	if (m == NULL || EVP_DigestSignInit_ex(m, NULL, "SHA256", NULL, NULL,
	    key, NULL) != 1 || EVP_DigestSign(m, sig, &siglen, tbs, n) != 1)
		goto out;
	bb_byte(&bits, 0);
	bb_add(&bits, sig, siglen);
	bb_add(&body, tbs, n);
	bb_add(&body, alg, sizeof(alg));
	bb_tlv(&body, 0x03, bits.d, bits.n);
	bb_tlv(&der, 0x30, body.d, body.n);
	*out = der.d;
	*outlen = der.n;
	der.d = NULL;
	rc = 0;
out:
	EVP_MD_CTX_free(m);
	free(bits.d);
	free(body.d);
	free(der.d);
	return rc;
}

unsigned char *
cg_tbs_seed(int i, size_t *len)
{
	static const struct {
		const char	*cn;
		const char	*san;
	} v[CG_TBS_SEEDS] = {
		{ "app-1.example", "DNS:app-1.example,IP:10.1.2.3" },
		{ NULL, "DNS:only.example,IP:2001:db8::1,URI:spiffe://a/b" },
		{ "10.9.8.7", NULL },
		{ "My App", "email:a@b.example,DNS:x.example" },
		{ "A.Example", "DNS:a.example,DNS:b.example,DNS:*.c.example" },
		{ "bad name", "DNS:ok.example" },
	};
	EVP_PKEY *k = cg_fixed_key();
	X509_REQ *req;
	unsigned char *t = NULL, *out = NULL;
	int n;

	if (k == NULL || i < 0 || i >= CG_TBS_SEEDS)
		goto out;
	req = names_req(k, v[i].cn, v[i].san);
	if ((n = i2d_re_X509_REQ_tbs(req, &t)) > 0 &&
	    (out = malloc((size_t)n)) != NULL) {
		memcpy(out, t, (size_t)n);
		*len = (size_t)n;
	}
	X509_REQ_free(req);
out:
	OPENSSL_free(t);
	EVP_PKEY_free(k);
	return out;
}
