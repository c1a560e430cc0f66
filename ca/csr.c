/*
 * Certificate requests: parsing and checking a client's CSR, building a
 * request from an issued certificate (renewal), and generating a key
 * and CSR on our side.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ca_priv.h"

#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "fileio.h"
#include "log.h"

/* A string of an ASN1 name entry as a new C string, NULL if unusable. */
static char *
asn1_to_cstr(const ASN1_STRING *s)
{
	unsigned char *utf8 = NULL;
	char *out;
	int n;

	if ((n = ASN1_STRING_to_UTF8(&utf8, s)) < 0)
		return NULL;
	/* An embedded NUL would let "a\0.evil" pass as "a". */
	if (memchr(utf8, '\0', (size_t)n) != NULL) {
		OPENSSL_free(utf8);
		return NULL;
	}
	if ((out = malloc((size_t)n + 1)) != NULL) {
		memcpy(out, utf8, (size_t)n);
		out[n] = '\0';
	}
	OPENSSL_free(utf8);
	return out;
}

/* An IA5 SAN value (DNS, URI) as a bounded C string in buf. */
static int
ia5_to_buf(const ASN1_IA5STRING *s, char *buf, size_t bufsz)
{
	int n = ASN1_STRING_length(s);
	const unsigned char *d = ASN1_STRING_get0_data(s);

	if (n <= 0 || (size_t)n >= bufsz || memchr(d, '\0', (size_t)n))
		return -1;
	memcpy(buf, d, (size_t)n);
	buf[n] = '\0';
	return 0;
}

int
ca_names_extract(const X509_NAME *subj, const GENERAL_NAMES *gens,
    struct names *out, struct err *e)
{
	char buf[RCA_MAX_URI_LEN + 1];
	char *cn = NULL;
	struct err sub;
	int idx = -1, last = -1, rc = -1;

	/* The last CN wins, like most TLS stacks read it. */
	if (subj != NULL)
		while ((idx = X509_NAME_get_index_by_NID(subj, NID_commonName,
		    idx)) >= 0)
			last = idx;
	if (last >= 0) {
		X509_NAME_ENTRY *ent = X509_NAME_get_entry(subj, last);

		if ((cn = asn1_to_cstr(X509_NAME_ENTRY_get_data(ent))) ==
		    NULL) {
			err_set(e, ERR_INVALID_CSR,
			    "the common name is not a valid string");
			goto out;
		}
		if (names_set_cn(out, cn, &sub) == -1) {
			err_set(e, ERR_INVALID_CSR, "%s", sub.msg);
			goto out;
		}
	}
	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		enum name_kind k;
		int type;
		void *v = GENERAL_NAME_get0_value(g, &type);

		switch (type) {
		case GEN_DNS:
		case GEN_URI:
			k = type == GEN_DNS ? NAME_DNS : NAME_URI;
			if (ia5_to_buf(v, buf, sizeof(buf)) == -1) {
				err_set(e, ERR_INVALID_CSR,
				    "invalid %s subject alternative name",
				    k == NAME_DNS ? "DNS" : "URI");
				goto out;
			}
			break;
		case GEN_IPADD: {
			const ASN1_OCTET_STRING *o = v;
			int len = ASN1_STRING_length(o);
			const unsigned char *d = ASN1_STRING_get0_data(o);

			k = NAME_IP;
			if ((len != 4 && len != 16) ||
			    inet_ntop(len == 4 ? AF_INET : AF_INET6, d, buf,
			    sizeof(buf)) == NULL) {
				err_set(e, ERR_INVALID_CSR,
				    "invalid IP subject alternative name");
				goto out;
			}
			break;
		}
		default:
			/* Other forms (email, otherName) are never issued. */
			continue;
		}
		if (names_add(out, k, buf, &sub) == -1) {
			err_set(e, ERR_INVALID_CSR, "%s", sub.msg);
			goto out;
		}
	}
	if (out->cn != NULL) {
		if (names_is_ip(out->cn)) {
			if (names_add(out, NAME_IP, out->cn, &sub) == -1) {
				err_set(e, ERR_INVALID_CSR, "%s", sub.msg);
				goto out;
			}
		} else if (names_is_dns(out->cn)) {
			if (names_add(out, NAME_DNS, out->cn, &sub) == -1) {
				err_set(e, ERR_INVALID_CSR, "%s", sub.msg);
				goto out;
			}
		}
	}
	rc = 0;
out:
	free(cn);
	if (rc == -1)
		names_clear(out);
	return rc;
}

/* Append one SAN of type type with text value v to gens. */
static int
gens_push(GENERAL_NAMES *gens, int type, const char *v)
{
	GENERAL_NAME *g = NULL;
	ASN1_IA5STRING *ia5 = NULL;
	ASN1_OCTET_STRING *ip = NULL;

	if ((g = GENERAL_NAME_new()) == NULL)
		goto fail;
	if (type == GEN_IPADD) {
		if ((ip = a2i_IPADDRESS(v)) == NULL)
			goto fail;
		GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
		ip = NULL;
	} else {
		if ((ia5 = ASN1_IA5STRING_new()) == NULL ||
		    ASN1_STRING_set(ia5, v, (int)strlen(v)) != 1)
			goto fail;
		GENERAL_NAME_set0_value(g, type, ia5);
		ia5 = NULL;
	}
	if (sk_GENERAL_NAME_push(gens, g) <= 0)
		goto fail;
	return 0;
fail:
	ASN1_IA5STRING_free(ia5);
	ASN1_OCTET_STRING_free(ip);
	GENERAL_NAME_free(g);
	return -1;
}

GENERAL_NAMES *
ca_names_to_gens(const struct names *n)
{
	static const int type[NAME__MAX] = { GEN_DNS, GEN_IPADD, GEN_URI };
	GENERAL_NAMES *gens;

	if ((gens = GENERAL_NAMES_new()) == NULL)
		return NULL;
	for (int k = 0; k < NAME__MAX; k++)
		for (size_t i = 0; i < n->n[k]; i++)
			if (gens_push(gens, type[k], n->list[k][i]) == -1) {
				GENERAL_NAMES_free(gens);
				return NULL;
			}
	return gens;
}

/*
 * Our own view of a PKCS#10 request.  d2i_X509_REQ would decode the
 * public key through OpenSSL 3.0's decoder framework, which costs more
 * than the whole rest of issuance; this template keeps the key as its
 * algorithm and bits, and keeps the DER of the signed part.  Every rule
 * of SPEC section 8 is checked here by hand, and tests/fuzz/fuzz_csr.c
 * proves that this path agrees with d2i_X509_REQ + X509_REQ_verify.
 */
typedef struct {
	X509_ALGOR	*algor;
	ASN1_BIT_STRING	*public_key;
} RCA_SPKI;

typedef struct {
	ASN1_ENCODING		 enc;
	ASN1_INTEGER		*version;
	X509_NAME		*subject;
	RCA_SPKI		*spki;
	STACK_OF(X509_ATTRIBUTE) *attributes;
} RCA_REQ_INFO;

typedef struct {
	RCA_REQ_INFO	*info;
	X509_ALGOR	*sig_alg;
	ASN1_BIT_STRING	*signature;
} RCA_REQ;

ASN1_SEQUENCE(RCA_SPKI) = {
	ASN1_SIMPLE(RCA_SPKI, algor, X509_ALGOR),
	ASN1_SIMPLE(RCA_SPKI, public_key, ASN1_BIT_STRING)
} static_ASN1_SEQUENCE_END(RCA_SPKI)

ASN1_SEQUENCE_enc(RCA_REQ_INFO, enc, 0) = {
	ASN1_SIMPLE(RCA_REQ_INFO, version, ASN1_INTEGER),
	ASN1_SIMPLE(RCA_REQ_INFO, subject, X509_NAME),
	ASN1_SIMPLE(RCA_REQ_INFO, spki, RCA_SPKI),
	ASN1_IMP_SET_OF_OPT(RCA_REQ_INFO, attributes, X509_ATTRIBUTE, 0)
} static_ASN1_SEQUENCE_END_ref(RCA_REQ_INFO, RCA_REQ_INFO)

ASN1_SEQUENCE(RCA_REQ) = {
	ASN1_SIMPLE(RCA_REQ, info, RCA_REQ_INFO),
	ASN1_SIMPLE(RCA_REQ, sig_alg, X509_ALGOR),
	ASN1_SIMPLE(RCA_REQ, signature, ASN1_BIT_STRING)
} static_ASN1_SEQUENCE_END(RCA_REQ)

/* The SAN extension of the request's extensionRequest, or NULL (new). */
static GENERAL_NAMES *
req_sans(STACK_OF(X509_ATTRIBUTE) *attrs, struct err *e, bool *bad)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	GENERAL_NAMES *gens = NULL;
	bool seen = false;
	int idx;

	*bad = false;
	for (int i = 0; i < sk_X509_ATTRIBUTE_num(attrs); i++) {
		X509_ATTRIBUTE *a = sk_X509_ATTRIBUTE_value(attrs, i);
		int nid = OBJ_obj2nid(X509_ATTRIBUTE_get0_object(a));
		const unsigned char *p, *end;
		ASN1_TYPE *t;

		if (nid != NID_ext_req && nid != NID_ms_ext_req)
			continue;
		t = X509_ATTRIBUTE_get0_type(a, 0);
		if (seen || X509_ATTRIBUTE_count(a) != 1 ||
		    t == NULL || t->type != V_ASN1_SEQUENCE) {
			err_set(e, ERR_INVALID_CSR,
			    "malformed extensionRequest attribute");
			*bad = true;
			goto out;
		}
		seen = true;
		p = t->value.sequence->data;
		end = p + t->value.sequence->length;
		if ((exts = d2i_X509_EXTENSIONS(NULL, &p,
		    t->value.sequence->length)) == NULL || p != end) {
			ERR_clear_error();
			err_set(e, ERR_INVALID_CSR,
			    "the requested extensions do not parse");
			*bad = true;
			goto out;
		}
	}
	if (exts == NULL)
		goto out;
	idx = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);
	if (idx >= 0) {
		if (X509v3_get_ext_by_NID(exts, NID_subject_alt_name, idx) >=
		    0) {
			err_set(e, ERR_INVALID_CSR,
			    "more than one subjectAltName extension");
			*bad = true;
		} else if ((gens = X509V3_EXT_d2i(X509v3_get_ext(exts,
		    idx))) == NULL) {
			ERR_clear_error();
			err_set(e, ERR_INVALID_CSR,
			    "the subjectAltName extension does not parse");
			*bad = true;
		}
	}
out:
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return gens;
}

/* ------------------------------------------------------------------ */
/* Strict DER                                                          */

/* DER SET OF order, as OpenSSL sorts it: bytes first, then length. */
static int
der_cmp(const unsigned char *a, size_t alen, const unsigned char *b,
    size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* The content rules of DER for one primitive universal type. */
static bool
der_prim_ok(unsigned long tag, const unsigned char *c, size_t n)
{
	switch (tag) {
	case V_ASN1_BOOLEAN:
		return n == 1 && (c[0] == 0x00 || c[0] == 0xff);
	case V_ASN1_INTEGER:
	case V_ASN1_ENUMERATED:
		if (n == 0)
			return false;
		/* Minimal: no redundant leading 00 or ff octet. */
		return n == 1 || !((c[0] == 0x00 && (c[1] & 0x80) == 0) ||
		    (c[0] == 0xff && (c[1] & 0x80) != 0));
	case V_ASN1_BIT_STRING:
		if (n == 0 || c[0] > 7 || (n == 1 && c[0] != 0))
			return false;
		/* The unused bits of the last octet are zero. */
		return (c[n - 1] & ((1u << c[0]) - 1)) == 0;
	case V_ASN1_NULL:
		return n == 0;
	case V_ASN1_OBJECT:
		if (n == 0 || (c[n - 1] & 0x80) != 0)
			return false;
		/* Each sub-identifier is minimal (no leading 0x80). */
		for (size_t i = 0; i < n; i++)
			if (c[i] == 0x80 && (i == 0 || (c[i - 1] & 0x80) == 0))
				return false;
		return true;
	case V_ASN1_BMPSTRING:
		return n % 2 == 0;
	case V_ASN1_UNIVERSALSTRING:
		return n % 4 == 0;
	default:
		return true;
	}
}

/*
 * True when p..p+len is a run of TLVs in DER: definite and minimal
 * lengths and tags, strings primitive, the content rules above, SET OF
 * sorted (SETs and every constructed non-universal tag: in a request
 * those are the IMPLICIT SET OF attributes and EXPLICIT wrappers of one
 * element).  Generic, so BER hidden anywhere (also inside attribute
 * values that OpenSSL keeps as raw bytes) is refused.
 */
static bool
der_strict(const unsigned char *p, size_t len, bool set_of, int depth)
{
	const unsigned char *prev = NULL;
	size_t prevlen = 0;

	if (depth > RCA_DER_MAX_DEPTH)
		return false;
	while (len > 0) {
		unsigned long tag = p[0] & 0x1f;
		bool cons = (p[0] & 0x20) != 0;
		int cls = p[0] >> 6;
		size_t h = 1, clen = 0, n;

		if (tag == 0x1f) {
			tag = 0;
			if (h >= len || p[h] == 0x80)
				return false;
			do {
				if (h >= len || tag > (1ul << 24))
					return false;
				tag = (tag << 7) | (p[h] & 0x7f);
			} while ((p[h++] & 0x80) != 0);
			if (tag < 0x1f)
				return false;
		}
		if (h >= len)
			return false;
		if (p[h] < 0x80) {
			clen = p[h++];
		} else {
			n = p[h++] & 0x7f;
			/* Indefinite (n == 0) is BER; leading zeros too. */
			if (n == 0 || n > 4 || n > len - h || p[h] == 0)
				return false;
			while (n-- > 0)
				clen = (clen << 8) | p[h++];
			if (clen < 0x80)
				return false;
		}
		if (clen > len - h)
			return false;
		if (cls == V_ASN1_UNIVERSAL >> 6) {
			if (tag == 0 || tag >= 0x1f)
				return false;
			if (tag == V_ASN1_SEQUENCE || tag == V_ASN1_SET) {
				if (!cons || !der_strict(p + h, clen,
				    tag == V_ASN1_SET, depth + 1))
					return false;
			} else if (cons || !der_prim_ok(tag, p + h, clen))
				return false;
		} else if (cons && !der_strict(p + h, clen, true, depth + 1))
			return false;
		if (set_of && prev != NULL &&
		    der_cmp(prev, prevlen, p, h + clen) > 0)
			return false;
		prev = p;
		prevlen = h + clen;
		p += prevlen;
		len -= prevlen;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Keys (SPEC section 8)                                               */

/* A DER header for tag and len at out; returns its length. */
static size_t
der_put_head(unsigned char *out, unsigned char tag, size_t len)
{
	size_t n = 0, h = 0;

	out[h++] = tag;
	if (len < 0x80) {
		out[h++] = (unsigned char)len;
		return h;
	}
	for (size_t l = len; l > 0; l >>= 8)
		n++;
	out[h++] = (unsigned char)(0x80 | n);
	while (n-- > 0)
		out[h++] = (unsigned char)(len >> (8 * n));
	return h;
}

/* The length of the DER header of a content of len octets. */
static size_t
der_head_len(size_t len)
{
	size_t n = 2;

	if (len >= 0x80)
		for (size_t l = len; l > 0; l >>= 8)
			n++;
	return n;
}

/*
 * Read one DER header of tag at *p (at most len bytes) and move *p to
 * its content.  Returns the content length, or -1.
 */
static long
der_get(const unsigned char **p, size_t len, unsigned char tag)
{
	const unsigned char *q = *p;
	size_t clen = 0, n;

	if (len < 2 || q[0] != tag)
		return -1;
	if (q[1] < 0x80) {
		clen = q[1];
		q += 2;
	} else {
		n = q[1] & 0x7f;
		if (n == 0 || n > 3 || n > len - 2 || q[2] == 0)
			return -1;
		q += 2;
		for (size_t i = 0; i < n; i++)
			clen = (clen << 8) | *q++;
		if (clen < 0x80)
			return -1;
	}
	if (clen > len - (size_t)(q - *p))
		return -1;
	*p = q;
	return (long)clen;
}

/* A positive, minimal DER INTEGER's content without its sign octet. */
static bool
der_uint(const unsigned char *c, long n, const unsigned char **mag,
    size_t *maglen)
{
	if (n <= 0 || (c[0] & 0x80) != 0)
		return false;
	if (n > 1 && c[0] == 0x00 && (c[1] & 0x80) == 0)
		return false;
	if (c[0] == 0x00 && n > 1) {
		c++;
		n--;
	}
	*mag = c;
	*maglen = (size_t)n;
	return true;
}

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
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;
	size_t fl, clen = 0;
	int curve = OBJ_obj2nid(curveobj);

	if (curve != NID_X9_62_prime256v1 && curve != NID_secp384r1) {
		err_set(e, ERR_KEY_REJECTED, "EC curve %.40s: only P-256 and "
		    "P-384 are accepted", curve != NID_undef ?
		    OBJ_nid2sn(curve) : "(unknown)");
		return NULL;
	}
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
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		ERR_clear_error();
		err_set(e, ERR_KEY_REJECTED,
		    "the EC point is not on the curve");
		goto fail;
	}
	if (EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY,
	    canon, sizeof(canon), &clen) != 1 || clen != 1 + 2 * fl ||
	    canon[0] != 0x04 || (csr->key = malloc(clen)) == NULL) {
		ca_log_ssl("EC point");
		err_set(e, ERR_INTERNAL, "cannot encode the EC point");
		goto fail;
	}
	memcpy(csr->key, canon, clen);
	csr->key_len = clen;
	csr->key_curve = curve;
	csr->key_type = curve == NID_secp384r1 ? KEY_EC_P384 : KEY_EC_P256;
	EVP_PKEY_CTX_free(ctx);
	return pk;
fail:
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(ctx);
	return NULL;
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
	const unsigned char *p = der, *end = der + len, *nm, *em;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;
	BIGNUM *bn = NULL, *be = NULL;
	size_t nlen, elen, ilen, slen, h;
	long sl, nl, el;
	int bits;

	if ((sl = der_get(&p, len, 0x30)) < 0 || p + sl != end ||
	    (nl = der_get(&p, (size_t)(end - p), 0x02)) < 0 ||
	    !der_uint(p, nl, &nm, &nlen) ||
	    (p += nl, el = der_get(&p, (size_t)(end - p), 0x02)) < 0 ||
	    !der_uint(p, el, &em, &elen) || p + el != end) {
		err_set(e, ERR_KEY_REJECTED, "the RSA public key is not one "
		    "DER RSAPublicKey (bad encoding or trailing bytes)");
		goto out;
	}
	bits = mag_bits(nm, nlen);
	if (bits != 2048 && bits != 3072 && bits != 4096) {
		err_set(e, ERR_KEY_REJECTED, "RSA key of %d bits: only 2048, "
		    "3072 and 4096 bits are accepted", bits);
		goto out;
	}
	if ((nm[nlen - 1] & 1) == 0) {
		err_set(e, ERR_KEY_REJECTED, "the RSA modulus is even");
		goto out;
	}
	if (elen != sizeof(f4) || memcmp(em, f4, sizeof(f4)) != 0) {
		err_set(e, ERR_KEY_REJECTED, "RSA public exponent other than "
		    "65537");
		goto out;
	}
	if ((bn = BN_bin2bn(nm, (int)nlen, NULL)) == NULL ||
	    (be = BN_bin2bn(em, (int)elen, NULL)) == NULL ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		ca_log_ssl("RSA key");
		err_set(e, ERR_INTERNAL, "cannot import the RSA key");
		pk = NULL;
		goto out;
	}
	/* SEQUENCE { INTEGER n (sign octet when needed), INTEGER e } */
	ilen = der_head_len(nlen + ((nm[0] & 0x80) != 0)) + nlen +
	    ((nm[0] & 0x80) != 0) + der_head_len(elen) + elen;
	slen = der_head_len(ilen) + ilen;
	if ((csr->key = malloc(slen)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		EVP_PKEY_free(pk);
		pk = NULL;
		goto out;
	}
	h = der_put_head(csr->key, 0x30, ilen);
	h += der_put_head(csr->key + h, 0x02, nlen + ((nm[0] & 0x80) != 0));
	if ((nm[0] & 0x80) != 0)
		csr->key[h++] = 0x00;
	memcpy(csr->key + h, nm, nlen);
	h += nlen;
	h += der_put_head(csr->key + h, 0x02, elen);
	memcpy(csr->key + h, em, elen);
	csr->key_len = h + elen;
	csr->key_curve = NID_undef;
	csr->key_type = bits == 2048 ? KEY_RSA_2048 : bits == 3072 ?
	    KEY_RSA_3072 : KEY_RSA_4096;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return pk;
}

/*
 * Check a public key given as its AlgorithmIdentifier and BIT STRING
 * against SPEC section 8, fill csr's canonical key and return the key
 * for signature checks (new).  Errors: ERR_KEY_REJECTED, ERR_INTERNAL.
 */
static EVP_PKEY *
spki_check(const X509_ALGOR *alg, const ASN1_BIT_STRING *bits,
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
		err_set(e, ERR_KEY_REJECTED,
		    "key algorithm %.32s: only EC P-256/P-384 and RSA "
		    "2048/3072/4096 are accepted",
		    nid != NID_undef ? OBJ_nid2sn(nid) : "unknown");
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

int
ca_csr_spki_sha256(const struct ca_csr *csr, char out[RCA_SHA256_HEX + 1])
{
	if (csr == NULL || csr->spki == NULL) {
		out[0] = '\0';
		return -1;
	}
	ca_sha256_hex(csr->spki, csr->spki_len, out);
	return 0;
}

/* True for SHA-256, SHA-384 and SHA-512 (SPEC 8: nothing weaker). */
static bool
md_ok(int nid)
{
	return nid == NID_sha256 || nid == NID_sha384 || nid == NID_sha512;
}

/* The hash of an MGF1 AlgorithmIdentifier (new), or NULL. */
static X509_ALGOR *
mgf1_md(const X509_ALGOR *mgf)
{
	const ASN1_STRING *ps;
	const unsigned char *p;
	X509_ALGOR *md;

	if (mgf->parameter == NULL ||
	    mgf->parameter->type != V_ASN1_SEQUENCE)
		return NULL;
	ps = mgf->parameter->value.sequence;
	p = ASN1_STRING_get0_data(ps);
	if ((md = d2i_X509_ALGOR(NULL, &p, ASN1_STRING_length(ps))) == NULL ||
	    p != ASN1_STRING_get0_data(ps) + ASN1_STRING_length(ps)) {
		X509_ALGOR_free(md);
		return NULL;
	}
	return md;
}

/*
 * The request's signature algorithm: ECDSA or RSA PKCS#1 v1.5 with
 * SHA-256/384/512, or RSASSA-PSS whose hash and MGF1 hash are among
 * those.  Errors: ERR_INVALID_CSR naming the algorithm.
 */
static int
sigalg_check(const X509_ALGOR *alg, struct err *e)
{
	const ASN1_OBJECT *obj;
	const ASN1_STRING *ps;
	const void *pval;
	const unsigned char *p;
	RSA_PSS_PARAMS *pss = NULL;
	X509_ALGOR *mgfmd = NULL;
	int nid, mdnid = NID_undef, pknid = NID_undef, ptype, rc = -1;

	X509_ALGOR_get0(&obj, &ptype, &pval, alg);
	nid = OBJ_obj2nid(obj);
	if (nid == NID_rsassaPss) {
		if (ptype != V_ASN1_SEQUENCE)
			goto bad;
		ps = pval;
		p = ASN1_STRING_get0_data(ps);
		if ((pss = d2i_RSA_PSS_PARAMS(NULL, &p,
		    ASN1_STRING_length(ps))) == NULL ||
		    p != ASN1_STRING_get0_data(ps) + ASN1_STRING_length(ps) ||
		    pss->hashAlgorithm == NULL ||
		    !md_ok(OBJ_obj2nid(pss->hashAlgorithm->algorithm)) ||
		    pss->maskGenAlgorithm == NULL ||
		    OBJ_obj2nid(pss->maskGenAlgorithm->algorithm) != NID_mgf1 ||
		    (mgfmd = mgf1_md(pss->maskGenAlgorithm)) == NULL ||
		    !md_ok(OBJ_obj2nid(mgfmd->algorithm))) {
			ERR_clear_error();
			err_set(e, ERR_INVALID_CSR, "RSA-PSS signature with a "
			    "hash or MGF1 hash other than SHA-256, SHA-384 or "
			    "SHA-512");
			goto out;
		}
		rc = 0;
		goto out;
	}
	if (OBJ_find_sigid_algs(nid, &mdnid, &pknid) == 1 && md_ok(mdnid) &&
	    (pknid == NID_X9_62_id_ecPublicKey || pknid == NID_rsaEncryption)) {
		rc = 0;
		goto out;
	}
bad:
	err_set(e, ERR_INVALID_CSR, "signature algorithm %.40s: only ECDSA, "
	    "RSA and RSA-PSS with SHA-256, SHA-384 or SHA-512 are accepted",
	    nid != NID_undef ? OBJ_nid2sn(nid) : "unknown");
out:
	X509_ALGOR_free(mgfmd);
	RSA_PSS_PARAMS_free(pss);
	return rc;
}

/*
 * A request from its DER, in the order of SPEC section 8 that the
 * reference in tests/fuzz/csr_ref.c follows too: encoding, version,
 * key, signature algorithm, signature, names (new).
 */
static struct ca_csr *
csr_decode(const unsigned char *der, size_t len, struct err *e)
{
	struct ca_csr *csr = NULL, *ret = NULL;
	GENERAL_NAMES *gens = NULL;
	const unsigned char *p = der;
	RCA_REQ *r = NULL;
	EVP_PKEY *pk = NULL;
	bool bad;

	if (!der_strict(der, len, false, 0)) {
		err_set(e, ERR_INVALID_CSR,
		    "the request is not in DER (non-canonical encoding)");
		goto out;
	}
	if ((r = (RCA_REQ *)ASN1_item_d2i(NULL, &p, (long)len,
	    ASN1_ITEM_rptr(RCA_REQ))) == NULL || p != der + len ||
	    r->info->enc.enc == NULL) {
		ERR_clear_error();
		err_set(e, ERR_INVALID_CSR,
		    "not a PEM certificate request (CERTIFICATE REQUEST)");
		goto out;
	}
	if (ASN1_STRING_length(r->info->version) != 1 ||
	    ASN1_STRING_get0_data(r->info->version)[0] != 0) {
		err_set(e, ERR_INVALID_CSR,
		    "the request's version must be 1 (value 0)");
		goto out;
	}
	if ((csr = calloc(1, sizeof(*csr))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	/* Refuse weak keys before spending a verification on them. */
	if ((pk = spki_check(r->info->spki->algor, r->info->spki->public_key,
	    csr, e)) == NULL)
		goto out;
	if (sigalg_check(r->sig_alg, e) == -1)
		goto out;
	/*
	 * Over the kept encoding of the signed part (DER, so the input's
	 * own bytes); RSA-PSS parameters are handled by OpenSSL.
	 */
	if (ASN1_item_verify(ASN1_ITEM_rptr(RCA_REQ_INFO), r->sig_alg,
	    r->signature, r->info, pk) != 1) {
		ERR_clear_error();
		err_set(e, ERR_CSR_SIGNATURE,
		    "the request's signature does not verify");
		goto out;
	}
	gens = req_sans(r->info->attributes, e, &bad);
	if (bad)
		goto out;
	if (ca_names_extract(r->info->subject, gens, &csr->names, e) == -1)
		goto out;
	if ((csr->der = malloc(len)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	memcpy(csr->der, der, len);
	csr->der_len = len;
	ret = csr;
	csr = NULL;
out:
	EVP_PKEY_free(pk);
	GENERAL_NAMES_free(gens);
	ASN1_item_free((ASN1_VALUE *)r, ASN1_ITEM_rptr(RCA_REQ));
	ca_csr_free(csr);
	return ret;
}

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
 * The DER inside pem: exactly one PEM block labelled CERTIFICATE
 * REQUEST (or the old NEW CERTIFICATE REQUEST), without headers, with
 * only whitespace before and after it.  *der is new (OPENSSL_free).
 */
static int
pem_one_block(const char *pem, size_t len, unsigned char **der,
    long *dlen, struct err *e)
{
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	BIO *bio = NULL;
	size_t i, end = len, rest;
	long n = 0;
	int rc = -1;

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
		ca_log_ssl("BIO_new_mem_buf");
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (!pem_body_ok(pem + i, end - i)) {
		err_set(e, ERR_INVALID_CSR, "the CSR must be exactly one PEM "
		    "block: only base64 between its BEGIN and END lines");
		goto out;
	}
	if (PEM_read_bio_ex(bio, &name, &header, &data, &n, 0) != 1 ||
	    n <= 0) {
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
	/* A second block or any text after it is refused. */
	rest = (size_t)BIO_pending(bio);
	for (i = end - rest; i < end; i++)
		if (!pem_space(pem[i])) {
			err_set(e, ERR_INVALID_CSR, "the CSR must be exactly "
			    "one PEM block: found more after it");
			goto out;
		}
	*der = data;
	*dlen = n;
	data = NULL;
	rc = 0;
out:
	OPENSSL_free(data);
	OPENSSL_free(name);
	OPENSSL_free(header);
	BIO_free(bio);
	return rc;
}

struct ca_csr *
ca_csr_parse(const char *pem, size_t len, struct err *e)
{
	struct ca_csr *ret = NULL;
	unsigned char *der = NULL;
	long dlen = 0;

	if (pem == NULL || len == 0 || len > RCA_MAX_CSR_BYTES) {
		err_set(e, ERR_INVALID_CSR,
		    "a CSR must be a PEM of 1 to %d bytes", RCA_MAX_CSR_BYTES);
		goto out;
	}
	if (pem_one_block(pem, len, &der, &dlen, e) == -1)
		goto out;
	ret = csr_decode(der, (size_t)dlen, e);
out:
	OPENSSL_free(der);
	return ret;
}

struct ca_csr *
ca_csr_from_cert(const unsigned char *der, size_t len, struct err *e)
{
	struct ca_csr *csr = NULL, *ret = NULL;
	GENERAL_NAMES *gens = NULL;
	const unsigned char *p = der;
	X509_ALGOR *alg = NULL;
	EVP_PKEY *pk = NULL;
	X509 *x = NULL;
	int crit = 0;

	if (der == NULL || len == 0 || len > RCA_MAX_PEM_BYTES ||
	    (x = d2i_X509(NULL, &p, (long)len)) == NULL ||
	    p != der + len) {
		ERR_clear_error();
		err_set(e, ERR_INVALID_CSR, "not a DER certificate");
		goto out;
	}
	if ((csr = calloc(1, sizeof(*csr))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	/*
	 * The same key rules as a CSR: a certificate issued before they
	 * existed (a compressed point, RSA parameters that are not NULL)
	 * renews into a canonical key, or not at all.
	 */
	if (X509_PUBKEY_get0_param(NULL, NULL, NULL, &alg,
	    X509_get_X509_PUBKEY(x)) != 1 || alg == NULL) {
		ERR_clear_error();
		err_set(e, ERR_INVALID_CSR,
		    "the certificate's public key does not parse");
		goto out;
	}
	if ((pk = spki_check(alg, X509_get0_pubkey_bitstr(x), csr, e)) ==
	    NULL)
		goto out;
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	if (gens == NULL && crit != -1) {
		ERR_clear_error();
		err_set(e, ERR_INVALID_CSR,
		    "the certificate's subjectAltName does not parse");
		goto out;
	}
	if (ca_names_extract(X509_get_subject_name(x), gens, &csr->names,
	    e) == -1)
		goto out;
	ret = csr;
	csr = NULL;
out:
	EVP_PKEY_free(pk);
	GENERAL_NAMES_free(gens);
	X509_free(x);
	ca_csr_free(csr);
	return ret;
}

/* Build and sign a request for key with names n (new). */
static X509_REQ *
req_build(EVP_PKEY *key, const struct names *n, struct err *e)
{
	X509_REQ *req = NULL, *ret = NULL;
	X509_NAME *name = NULL;
	GENERAL_NAMES *gens = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *ext = NULL;

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
	if (names_count(n) > 0) {
		if ((gens = ca_names_to_gens(n)) == NULL ||
		    (ext = X509V3_EXT_i2d(NID_subject_alt_name, n->cn == NULL,
		    gens)) == NULL ||
		    (exts = sk_X509_EXTENSION_new_null()) == NULL ||
		    sk_X509_EXTENSION_push(exts, ext) <= 0)
			goto fail;
		ext = NULL;
		if (X509_REQ_add_extensions(req, exts) != 1)
			goto fail;
	}
	if (X509_REQ_sign(req, key, EVP_sha256()) <= 0)
		goto fail;
	ret = req;
	req = NULL;
	goto out;
fail:
	ca_log_ssl("building a request");
	err_set(e, ERR_CRYPTO, "cannot build the certificate request");
out:
	X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
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
	BIO *bio = NULL;
	char *data;
	long n;
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
		ca_log_ssl("i2d_X509_REQ");
		err_set(e, ERR_CRYPTO, "cannot encode the request");
		goto out;
	}
	/* Through the parser: the same naming rules as a client's CSR. */
	if ((csr = csr_decode(der, (size_t)dlen, e)) == NULL) {
		if (e != NULL && e->code != ERR_INTERNAL)
			e->code = ERR_CRYPTO;
		goto out;
	}
	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PKCS8PrivateKey(bio, key, NULL, NULL, 0, NULL,
	    NULL) != 1 || (n = BIO_get_mem_data(bio, &data)) <= 0 ||
	    (*key_pem = malloc((size_t)n + 1)) == NULL) {
		ca_log_ssl("writing a private key");
		err_set(e, ERR_CRYPTO, "cannot encode the private key");
		goto out;
	}
	memcpy(*key_pem, data, (size_t)n);
	(*key_pem)[n] = '\0';
	ret = csr;
	csr = NULL;
out:
	/* The memory BIO clears its buffer when freed. */
	BIO_free(bio);
	OPENSSL_free(der);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	names_clear(&want);
	ca_csr_free(csr);
	return ret;
}

void
ca_csr_free(struct ca_csr *csr)
{
	if (csr == NULL)
		return;
	free(csr->der);
	free(csr->key);
	free(csr->spki);
	names_clear(&csr->names);
	free(csr);
}

const struct names *
ca_csr_names(const struct ca_csr *csr)
{
	return &csr->names;
}

enum key_type
ca_csr_key_type(const struct ca_csr *csr)
{
	return csr->key_type;
}

char *
ca_csr_pem(const struct ca_csr *csr, struct err *e)
{
	char *pem;

	if (csr->der == NULL) {
		err_set(e, ERR_INVALID_REQUEST,
		    "a renewal request has no PEM form");
		return NULL;
	}
	if ((pem = ca_pem_encode("CERTIFICATE REQUEST", csr->der,
	    csr->der_len)) == NULL)
		err_set(e, ERR_INTERNAL, "out of memory");
	return pem;
}
