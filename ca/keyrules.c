/*
 * The public-key rules of SPEC section 8, in one place for a request's
 * key (checked from its bytes and rebuilt in canonical form) and for a
 * key OpenSSL already holds (the CA's own, a client certificate's).
 */
#include <stdlib.h>
#include <string.h>

#include "ca_priv.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

/* ------------------------------------------------------------------ */
/* The rules, each with its one message                               */

/* The key types of the RSA sizes accepted: 2048, 3072, 4096 bits. */
static int
rule_rsa_bits(int bits, enum key_type *out, struct err *e)
{
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
		err_set(e, ERR_KEY_REJECTED, "RSA key of %d bits: only 2048, "
		    "3072 and 4096 bits are accepted", bits);
		return -1;
	}
}

/*
 * Exponent 65537 only: with e = 1 a signature is the padded digest
 * itself (anyone could sign), and small ones invite broken padding.
 */
static int
rule_rsa_exponent(bool is_f4, struct err *e)
{
	if (!is_f4) {
		err_set(e, ERR_KEY_REJECTED, "RSA public exponent other than "
		    "65537");
		return -1;
	}
	return 0;
}

/* An RSA modulus is a product of two odd primes. */
static int
rule_rsa_odd(bool odd, struct err *e)
{
	if (!odd) {
		err_set(e, ERR_KEY_REJECTED, "the RSA modulus is even");
		return -1;
	}
	return 0;
}

/* The named curves accepted, P-256 and P-384; name is for the message. */
static int
rule_ec_curve(int nid, const char *name, enum key_type *out, struct err *e)
{
	if (nid == NID_X9_62_prime256v1) {
		*out = KEY_EC_P256;
		return 0;
	}
	if (nid == NID_secp384r1) {
		*out = KEY_EC_P384;
		return 0;
	}
	err_set(e, ERR_KEY_REJECTED,
	    "EC curve %.40s: only P-256 and P-384 are accepted", name);
	return -1;
}

/* Any other algorithm (DSA, Ed25519, ...), named by name. */
static void
rule_alg_refused(const char *name, struct err *e)
{
	err_set(e, ERR_KEY_REJECTED,
	    "key algorithm %.32s: only EC P-256/P-384 and RSA "
	    "2048/3072/4096 are accepted", name);
}

int
ca_key_for_ca(enum key_type t, struct err *e)
{
	if (t != KEY_EC_P256 && t != KEY_EC_P384 && t != KEY_RSA_3072 &&
	    t != KEY_RSA_4096) {
		err_set(e, ERR_KEY_REJECTED, "key type %s is not allowed for "
		    "a CA (ec-p256, ec-p384, rsa-3072, rsa-4096)",
		    key_type_name(t));
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* A request's key, from its bytes                                    */

/* Bits in a big-endian magnitude without leading zero octets. */
static int
mag_bits(const unsigned char *m, size_t n)
{
	int bits = (int)n * 8;

	if (n == 0)
		return 0;
	for (unsigned char top = m[0]; (top & 0x80) == 0 && bits > 0;
	    top <<= 1)
		bits--;
	return bits;
}

/* A public key of algorithm alg ("EC", "RSA") from params (new). */
static EVP_PKEY *
pkey_public(const char *alg, OSSL_PARAM *params)
{
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pk = NULL;

	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pk;
}

/*
 * The EC key: named P-256/P-384 curve, compressed or uncompressed point
 * on the curve (OpenSSL's decoding checks that), never the point at
 * infinity or the hybrid forms.  Sets the canonical uncompressed point.
 */
static EVP_PKEY *
ec_key(const ASN1_OBJECT *curveobj, const unsigned char *pt, size_t n,
    struct ca_csr *csr, struct err *e)
{
	char fmt[] = OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED;
	unsigned char canon[1 + 2 * 48];
	OSSL_PARAM params[4];
	EVP_PKEY *pk;
	enum key_type kt;
	size_t fl, clen = 0;
	int curve = OBJ_obj2nid(curveobj);

	if (rule_ec_curve(curve, curve != NID_undef ? OBJ_nid2sn(curve) :
	    "(unknown)", &kt, e) == -1)
		return NULL;
	fl = curve == NID_secp384r1 ? 48 : 32;
	if (n == 0 || pt[0] == 0x00) {
		err_set(e, ERR_KEY_REJECTED,
		    "the EC public key is the point at infinity");
		return NULL;
	}
	if (pt[0] == 0x06 || pt[0] == 0x07) {
		err_set(e, ERR_KEY_REJECTED, "the EC point is in hybrid form: "
		    "only compressed and uncompressed points are accepted");
		return NULL;
	}
	if (!((pt[0] == 0x02 || pt[0] == 0x03) && n == 1 + fl) &&
	    !(pt[0] == 0x04 && n == 1 + 2 * fl)) {
		err_set(e, ERR_KEY_REJECTED, "malformed EC point");
		return NULL;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, curve == NID_secp384r1 ? "P-384" :
	    "P-256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_PKEY_PARAM_PUB_KEY, (void *)pt, n);
	params[2] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, fmt, 0);
	params[3] = OSSL_PARAM_construct_end();
	if ((pk = pkey_public("EC", params)) == NULL) {
		ERR_clear_error();
		err_set(e, ERR_KEY_REJECTED,
		    "the EC point is not on the curve");
		return NULL;
	}
	if (EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY,
	    canon, sizeof(canon), &clen) != 1 || clen != 1 + 2 * fl ||
	    canon[0] != 0x04 || (csr->key = malloc(clen)) == NULL) {
		ca_ssl_fail("EC point", ERR_INTERNAL,
		    "cannot encode the EC point", e);
		EVP_PKEY_free(pk);
		return NULL;
	}
	memcpy(csr->key, canon, clen);
	csr->key_len = clen;
	csr->key_curve = curve;
	csr->key_type = kt;
	return pk;
}

/* The two numbers of an RSAPublicKey, without sign octets. */
struct rsa_nums {
	const unsigned char	*n;	/* borrowed from the key's DER */
	size_t			 nlen;
	const unsigned char	*e;	/* borrowed from the key's DER */
	size_t			 elen;
};

/* Read one DER RSAPublicKey with nothing after it into r. */
static int
rsa_read(const unsigned char *der, size_t len, struct rsa_nums *r,
    struct err *e)
{
	const unsigned char *p = der, *end = der + len;
	long sl, nl, el;

	if ((sl = ca_der_get(&p, len, 0x30)) < 0 || p + sl != end ||
	    (nl = ca_der_get(&p, (size_t)(end - p), 0x02)) < 0 ||
	    !ca_der_uint(p, nl, &r->n, &r->nlen) ||
	    (p += nl, el = ca_der_get(&p, (size_t)(end - p), 0x02)) < 0 ||
	    !ca_der_uint(p, el, &r->e, &r->elen) || p + el != end) {
		err_set(e, ERR_KEY_REJECTED, "the RSA public key is not one "
		    "DER RSAPublicKey (bad encoding or trailing bytes)");
		return -1;
	}
	return 0;
}

/* The public key of r for signature checks (new).  NULL on failure. */
static EVP_PKEY *
rsa_import(const struct rsa_nums *r)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY *pk = NULL;
	BIGNUM *bn = NULL, *be = NULL;

	if ((bn = BN_bin2bn(r->n, (int)r->nlen, NULL)) == NULL ||
	    (be = BN_bin2bn(r->e, (int)r->elen, NULL)) == NULL ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	pk = pkey_public("RSA", params);
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return pk;
}

/* csr->key: r re-encoded as a DER RSAPublicKey with minimal integers. */
static int
rsa_canon(const struct rsa_nums *r, struct ca_csr *csr)
{
	size_t sign = (r->n[0] & 0x80) != 0, ilen, slen, h;

	/* SEQUENCE { INTEGER n (sign octet when needed), INTEGER e } */
	ilen = ca_der_head_len(r->nlen + sign) + r->nlen + sign +
	    ca_der_head_len(r->elen) + r->elen;
	slen = ca_der_head_len(ilen) + ilen;
	if ((csr->key = malloc(slen)) == NULL)
		return -1;
	h = ca_der_put_head(csr->key, 0x30, ilen);
	h += ca_der_put_head(csr->key + h, 0x02, r->nlen + sign);
	if (sign)
		csr->key[h++] = 0x00;
	memcpy(csr->key + h, r->n, r->nlen);
	h += r->nlen;
	h += ca_der_put_head(csr->key + h, 0x02, r->elen);
	memcpy(csr->key + h, r->e, r->elen);
	csr->key_len = h + r->elen;
	return 0;
}

/*
 * The RSA key: RSAPublicKey in DER with nothing after it, modulus
 * positive, odd and of 2048/3072/4096 bits, exponent 65537.  The
 * canonical RSAPublicKey is re-encoded from the two numbers.
 */
static EVP_PKEY *
rsa_key(const unsigned char *der, size_t len, struct ca_csr *csr,
    struct err *e)
{
	static const unsigned char f4[] = { 0x01, 0x00, 0x01 };
	struct rsa_nums r;
	enum key_type kt;
	EVP_PKEY *pk;

	if (rsa_read(der, len, &r, e) == -1 ||
	    rule_rsa_bits(mag_bits(r.n, r.nlen), &kt, e) == -1 ||
	    rule_rsa_odd((r.n[r.nlen - 1] & 1) != 0, e) == -1 ||
	    rule_rsa_exponent(r.elen == sizeof(f4) &&
	    memcmp(r.e, f4, sizeof(f4)) == 0, e) == -1)
		return NULL;
	if ((pk = rsa_import(&r)) == NULL) {
		ca_ssl_fail("RSA key", ERR_INTERNAL,
		    "cannot import the RSA key", e);
		return NULL;
	}
	if (rsa_canon(&r, csr) == -1) {
		err_set(e, ERR_INTERNAL, "out of memory");
		EVP_PKEY_free(pk);
		return NULL;
	}
	csr->key_curve = NID_undef;
	csr->key_type = kt;
	return pk;
}

EVP_PKEY *
ca_spki_check(const X509_ALGOR *alg, const ASN1_BIT_STRING *bits,
    struct ca_csr *csr, struct err *e)
{
	const ASN1_OBJECT *obj;
	const void *pval;
	const unsigned char *d = ASN1_STRING_get0_data(bits);
	size_t n = (size_t)ASN1_STRING_length(bits);
	EVP_PKEY *pk = NULL;
	int ptype, nid;

	X509_ALGOR_get0(&obj, &ptype, &pval, alg);
	nid = OBJ_obj2nid(obj);
	if (nid != NID_X9_62_id_ecPublicKey && nid != NID_rsaEncryption) {
		rule_alg_refused(nid != NID_undef ? OBJ_nid2sn(nid) :
		    "unknown", e);
		return NULL;
	}
	if ((bits->flags & 0x07) != 0) {
		err_set(e, ERR_KEY_REJECTED,
		    "the public key BIT STRING has unused bits");
		return NULL;
	}
	csr->key_nid = nid;
	if (nid == NID_X9_62_id_ecPublicKey) {
		if (ptype != V_ASN1_OBJECT) {
			err_set(e, ERR_KEY_REJECTED, "EC key with explicit "
			    "curve parameters: only the named curves P-256 "
			    "and P-384 are accepted");
			return NULL;
		}
		pk = ec_key(pval, d, n, csr, e);
	} else {
		if (ptype != V_ASN1_NULL) {
			err_set(e, ERR_KEY_REJECTED,
			    "the RSA algorithm parameters must be NULL");
			return NULL;
		}
		pk = rsa_key(d, n, csr, e);
	}
	if (pk != NULL && ca_spki_der(csr) == -1) {
		err_set(e, ERR_INTERNAL, "cannot encode the public key");
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	return pk;
}

int
ca_spki_set(X509_PUBKEY *pub, const struct ca_csr *csr)
{
	unsigned char *bits;

	if (csr->key == NULL || (bits = OPENSSL_malloc(csr->key_len)) ==
	    NULL)
		return -1;
	memcpy(bits, csr->key, csr->key_len);
	/* Sets the BIT STRING with no unused bits; takes bits. */
	if (X509_PUBKEY_set0_param(pub, OBJ_nid2obj(csr->key_nid),
	    csr->key_nid == NID_rsaEncryption ? V_ASN1_NULL : V_ASN1_OBJECT,
	    csr->key_nid == NID_rsaEncryption ? NULL :
	    OBJ_nid2obj(csr->key_curve), bits, (int)csr->key_len) != 1) {
		OPENSSL_free(bits);
		return -1;
	}
	return 0;
}

/* csr->spki: the DER of the canonical SubjectPublicKeyInfo. */
int
ca_spki_der(struct ca_csr *csr)
{
	X509_PUBKEY *pub = NULL;
	unsigned char *der = NULL;
	int n, rc = -1;

	free(csr->spki);
	csr->spki = NULL;
	if ((pub = X509_PUBKEY_new()) == NULL || ca_spki_set(pub, csr) == -1 ||
	    (n = i2d_X509_PUBKEY(pub, &der)) <= 0 ||
	    (csr->spki = malloc((size_t)n)) == NULL)
		goto out;
	memcpy(csr->spki, der, (size_t)n);
	csr->spki_len = (size_t)n;
	rc = 0;
out:
	ERR_clear_error();
	OPENSSL_free(der);
	X509_PUBKEY_free(pub);
	return rc;
}

/* ------------------------------------------------------------------ */
/* A key OpenSSL holds                                                */

/* The algorithm name of pk for messages. */
static const char *
pkey_name(const EVP_PKEY *pk)
{
	return pk != NULL && EVP_PKEY_get0_type_name(pk) != NULL ?
	    EVP_PKEY_get0_type_name(pk) : "unknown";
}

/* An RSA key: exponent, parity, then size (the first to fail is named). */
static int
classify_rsa(EVP_PKEY *pk, enum key_type *out, struct err *e)
{
	BIGNUM *bn_e = NULL, *bn_n = NULL;
	int rc = -1;

	if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &bn_e) != 1 ||
	    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &bn_n) != 1) {
		ERR_clear_error();
		rule_alg_refused(pkey_name(pk), e);
		goto out;
	}
	if (rule_rsa_exponent(BN_is_word(bn_e, RSA_F4), e) == -1 ||
	    rule_rsa_odd(BN_is_odd(bn_n), e) == -1 ||
	    rule_rsa_bits(EVP_PKEY_get_bits(pk), out, e) == -1)
		goto out;
	rc = 0;
out:
	BN_free(bn_e);
	BN_free(bn_n);
	return rc;
}

/* An EC key: a named curve, a point that is not at infinity. */
static int
classify_ec(EVP_PKEY *pk, enum key_type *out, struct err *e)
{
	unsigned char pt[1 + 2 * 66];
	char group[64];
	size_t glen = 0, ptlen = 0;
	int nid;

	if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), &glen) != 1) {
		ERR_clear_error();
		err_set(e, ERR_KEY_REJECTED, "EC key without a named curve: "
		    "only P-256 and P-384 are accepted");
		return -1;
	}
	/* The point at infinity encodes as the single octet 00. */
	if (EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, pt,
	    sizeof(pt), &ptlen) != 1 || ptlen < 2) {
		ERR_clear_error();
		err_set(e, ERR_KEY_REJECTED, "the EC public key is the point "
		    "at infinity or missing");
		return -1;
	}
	if ((nid = OBJ_sn2nid(group)) == NID_undef)
		nid = EC_curve_nist2nid(group);
	return rule_ec_curve(nid, group, out, e);
}

int
ca_key_classify(EVP_PKEY *pk, enum key_type *out, struct err *e)
{
	if (pk != NULL && EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA)
		return classify_rsa(pk, out, e);
	if (pk != NULL && EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC)
		return classify_ec(pk, out, e);
	rule_alg_refused(pkey_name(pk), e);
	return -1;
}
