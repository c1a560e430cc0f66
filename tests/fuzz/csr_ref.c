/*
 * Reference CSR checker (see csr_ref.h).  Written for clarity, not
 * speed: the public key goes through OpenSSL's decoders, DER is judged
 * by decoding every TLV with OpenSSL's generic types and comparing the
 * re-encoding, the signature by X509_REQ_verify.  The order of the
 * checks (and so the error class when several fail) is SPEC section 8's
 * as ca/csr.c applies it: PEM, encoding, version, key, signature
 * algorithm, signature, names.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csr_ref.h"
#include "ca_priv.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include "hex.h"

static void
refuse(struct csr_ref *r, enum err_code code, const char *fmt, ...)
{
	va_list ap;

	r->code = code;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
}

static int	canonical(const unsigned char *p, long len, int depth);

/*
 * Every TLV of p..p+len, one after the other, is canonical: its header
 * as ASN1_put_object writes it, its content as OpenSSL re-encodes it.
 */
static int
canonical_run(const unsigned char *p, long len, int depth)
{
	while (len > 0) {
		const unsigned char *q = p;
		long clen;
		int tag, cls, f, n;

		f = ASN1_get_object(&q, &clen, &tag, &cls, len);
		if ((f & 0x80) != 0 || f == 0x21)
			return 0;
		n = (int)(q - p) + (int)clen;
		if (!canonical(p, n, depth))
			return 0;
		p += n;
		len -= n;
	}
	return 1;
}

/*
 * One TLV: a SEQUENCE and a SET through ASN1_SEQUENCE_ANY and
 * ASN1_SET_ANY (the SET sorted on output), another constructed tag as
 * the SET OF it is in a request, a primitive through ASN1_TYPE.
 */
static int
canonical(const unsigned char *p, long len, int depth)
{
	const unsigned char *q = p;
	unsigned char *re = NULL, hdr[16], *h = hdr, *copy = NULL;
	long clen;
	int tag, cls, f, rl = -1, ok = 0;

	if (depth > 32)
		return 0;
	f = ASN1_get_object(&q, &clen, &tag, &cls, len);
	if ((f & 0x80) != 0 || f == 0x21 || (q - p) + clen != len)
		goto out;
	/*
	 * X.690: universal tag 0 is only the end-of-contents of BER's
	 * indefinite form, and universal tags are below 31.  OpenSSL keeps
	 * either as an ANY value and writes it back unchanged.
	 */
	if (cls == V_ASN1_UNIVERSAL && (tag == 0 || tag >= 31))
		goto out;
	/* X.690 11.1: TRUE is ff in DER; OpenSSL writes back any value. */
	if (cls == V_ASN1_UNIVERSAL && tag == V_ASN1_BOOLEAN && clen == 1 &&
	    q[0] != 0x00 && q[0] != 0xff)
		goto out;
	/* The header, re-encoded. */
	ASN1_put_object(&h, f & V_ASN1_CONSTRUCTED, (int)clen, tag, cls);
	if (h - hdr != q - p || memcmp(hdr, p, (size_t)(q - p)) != 0)
		goto out;
	if (cls == V_ASN1_UNIVERSAL && (tag == V_ASN1_SEQUENCE ||
	    tag == V_ASN1_SET) && (f & V_ASN1_CONSTRUCTED)) {
		const unsigned char *r = p;

		if (tag == V_ASN1_SEQUENCE) {
			ASN1_SEQUENCE_ANY *s = d2i_ASN1_SEQUENCE_ANY(NULL, &r,
			    len);

			if (s != NULL)
				rl = i2d_ASN1_SEQUENCE_ANY(s, &re);
			sk_ASN1_TYPE_pop_free(s, ASN1_TYPE_free);
		} else {
			ASN1_SEQUENCE_ANY *s = d2i_ASN1_SET_ANY(NULL, &r, len);

			if (s != NULL)
				rl = i2d_ASN1_SET_ANY(s, &re);
			sk_ASN1_TYPE_pop_free(s, ASN1_TYPE_free);
		}
		ok = rl == len && memcmp(re, p, (size_t)len) == 0 &&
		    canonical_run(q, clen, depth + 1);
	} else if (cls != V_ASN1_UNIVERSAL && (f & V_ASN1_CONSTRUCTED)) {
		/* As a SET: same checks with the universal SET tag. */
		unsigned char *c = NULL;
		int cl;

		if ((copy = malloc((size_t)clen + 8)) == NULL)
			goto out;
		c = copy;
		ASN1_put_object(&c, V_ASN1_CONSTRUCTED, (int)clen,
		    V_ASN1_SET, V_ASN1_UNIVERSAL);
		memcpy(c, q, (size_t)clen);
		cl = (int)(c - copy) + (int)clen;
		ok = canonical(copy, cl, depth + 1);
	} else if (cls != V_ASN1_UNIVERSAL) {
		ok = 1;
	} else {
		const unsigned char *r = p;
		ASN1_TYPE *t = d2i_ASN1_TYPE(NULL, &r, len);

		if (t != NULL && r == p + len)
			rl = i2d_ASN1_TYPE(t, &re);
		ASN1_TYPE_free(t);
		ok = rl == len && memcmp(re, p, (size_t)len) == 0;
	}
out:
	ERR_clear_error();
	free(copy);
	OPENSSL_free(re);
	return ok;
}

static int
pem_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The one PEM block of the input (new DER), or -1. */
static int
ref_pem(const char *pem, size_t len, unsigned char **der, long *dlen,
    struct csr_ref *r)
{
	static const char begin[] = "-----BEGIN ";
	char *name = NULL, *header = NULL;
	size_t a = 0, b = len, nbegin = 0;
	BIO *bio = NULL;
	int rc = -1;

	while (a < b && pem_ws(pem[a]))
		a++;
	while (b > a && pem_ws(pem[b - 1]))
		b--;
	for (size_t i = 0; i + sizeof(begin) - 1 <= len; i++)
		if (memcmp(pem + i, begin, sizeof(begin) - 1) == 0)
			nbegin++;
	if (nbegin != 1 || b - a < sizeof(begin) - 1 ||
	    memcmp(pem + a, begin, sizeof(begin) - 1) != 0) {
		refuse(r, ERR_INVALID_CSR, "not exactly one PEM block");
		goto out;
	}
	/*
	 * The body: from the first newline to the last "-----END ", only
	 * base64 and whitespace (OpenSSL ignores what follows a '-').
	 */
	{
		size_t nl = a, e = b;

		while (nl < b && pem[nl] != '\n')
			nl++;
		while (e > a && (e - a < 9 ||
		    memcmp(pem + e - 9, "-----END ", 9) != 0))
			e--;
		if (nl >= b || e - a < 9 || e - 9 < nl) {
			refuse(r, ERR_INVALID_CSR, "PEM lines");
			goto out;
		}
		for (size_t i = nl; i < e - 9; i++)
			if (!pem_ws(pem[i]) && !isalnum((unsigned char)pem[i]) &&
			    pem[i] != '+' && pem[i] != '/' && pem[i] != '=') {
				refuse(r, ERR_INVALID_CSR, "PEM body");
				goto out;
			}
	}
	if ((bio = BIO_new_mem_buf(pem + a, (int)(b - a))) == NULL)
		abort();
	if (PEM_read_bio_ex(bio, &name, &header, der, dlen, 0) != 1 ||
	    *dlen <= 0) {
		refuse(r, ERR_INVALID_CSR, "PEM does not parse");
		goto out;
	}
	if ((strcmp(name, "CERTIFICATE REQUEST") != 0 &&
	    strcmp(name, "NEW CERTIFICATE REQUEST") != 0) ||
	    header[0] != '\0' || BIO_pending(bio) != 0) {
		refuse(r, ERR_INVALID_CSR, "PEM label, headers or more text");
		goto out;
	}
	rc = 0;
out:
	if (rc == -1) {
		OPENSSL_free(*der);
		*der = NULL;
	}
	ERR_clear_error();
	OPENSSL_free(name);
	OPENSSL_free(header);
	BIO_free(bio);
	return rc;
}

/* The unused-bits count of the request's key BIT STRING. */
static int
key_unused_bits(X509_PUBKEY *xpk)
{
	unsigned char *d = NULL;
	const unsigned char *p;
	ASN1_SEQUENCE_ANY *s = NULL;
	ASN1_TYPE *t;
	int n, bits = -1;

	if ((n = i2d_X509_PUBKEY(xpk, &d)) <= 0)
		goto out;
	p = d;
	if ((s = d2i_ASN1_SEQUENCE_ANY(NULL, &p, n)) == NULL ||
	    sk_ASN1_TYPE_num(s) != 2)
		goto out;
	t = sk_ASN1_TYPE_value(s, 1);
	if (t->type != V_ASN1_BIT_STRING)
		goto out;
	bits = (int)(t->value.bit_string->flags & 0x07);
out:
	sk_ASN1_TYPE_pop_free(s, ASN1_TYPE_free);
	OPENSSL_free(d);
	return bits;
}

/* SPEC 8 key rules; on success the canonical SPKI's hash and type. */
static int
ref_key(X509_REQ *req, struct csr_ref *r)
{
	X509_PUBKEY *xpk = X509_REQ_get_X509_PUBKEY(req);
	const unsigned char *pk = NULL;
	const ASN1_OBJECT *obj, *aobj;
	X509_ALGOR *alg = NULL;
	const void *pval;
	EVP_PKEY *key, *dup = NULL;
	unsigned char *re = NULL, md[32];
	struct err e;
	int pklen = 0, ptype, nid, rl, rc = -1;

	if (xpk == NULL || X509_PUBKEY_get0_param((ASN1_OBJECT **)&obj, &pk,
	    &pklen, &alg, xpk) != 1) {
		refuse(r, ERR_KEY_REJECTED, "no key");
		goto out;
	}
	nid = OBJ_obj2nid(obj);
	X509_ALGOR_get0(&aobj, &ptype, &pval, alg);
	if (nid != NID_X9_62_id_ecPublicKey && nid != NID_rsaEncryption) {
		refuse(r, ERR_KEY_REJECTED, "algorithm");
		goto out;
	}
	if (key_unused_bits(xpk) != 0) {
		refuse(r, ERR_KEY_REJECTED, "unused bits");
		goto out;
	}
	if (nid == NID_X9_62_id_ecPublicKey) {
		int curve = ptype == V_ASN1_OBJECT ? OBJ_obj2nid(pval) :
		    NID_undef;

		if (curve != NID_X9_62_prime256v1 && curve != NID_secp384r1) {
			refuse(r, ERR_KEY_REJECTED, "curve");
			goto out;
		}
		if (pklen < 1 || (pk[0] != 0x02 && pk[0] != 0x03 &&
		    pk[0] != 0x04)) {
			refuse(r, ERR_KEY_REJECTED, "point form");
			goto out;
		}
	} else if (ptype != V_ASN1_NULL) {
		refuse(r, ERR_KEY_REJECTED, "RSA parameters");
		goto out;
	}
	if ((key = X509_REQ_get0_pubkey(req)) == NULL) {
		refuse(r, ERR_KEY_REJECTED, "key does not decode");
		goto out;
	}
	if (nid == NID_X9_62_id_ecPublicKey) {
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
		int ok = c != NULL && EVP_PKEY_public_check(c) == 1;

		EVP_PKEY_CTX_free(c);
		if (!ok) {
			refuse(r, ERR_KEY_REJECTED, "EC public check");
			goto out;
		}
	} else {
		/* The RSAPublicKey is what OpenSSL writes for it. */
		rl = i2d_PublicKey(key, &re);
		if (rl != pklen || memcmp(re, pk, (size_t)pklen) != 0) {
			refuse(r, ERR_KEY_REJECTED, "RSAPublicKey not DER");
			goto out;
		}
	}
	if (ca_key_classify(key, &r->key_type, &e) == -1) {
		refuse(r, ERR_KEY_REJECTED, "%s", e.msg);
		goto out;
	}
	/* The canonical SPKI: OpenSSL's encoder, uncompressed point. */
	OPENSSL_free(re);
	re = NULL;
	if ((dup = EVP_PKEY_dup(key)) == NULL ||
	    (nid == NID_X9_62_id_ecPublicKey &&
	    EVP_PKEY_set_utf8_string_param(dup,
	    OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
	    OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED) != 1) ||
	    (rl = i2d_PUBKEY(dup, &re)) <= 0)
		abort();
	SHA256(re, (size_t)rl, md);
	hex_encode(md, sizeof(md), r->spki_sha256);
	rc = 0;
out:
	ERR_clear_error();
	OPENSSL_free(re);
	EVP_PKEY_free(dup);
	return rc;
}

static int
sha2(const ASN1_OBJECT *o)
{
	int n = OBJ_obj2nid(o);

	return n == NID_sha256 || n == NID_sha384 || n == NID_sha512;
}

/* SHA-256/384/512 with ECDSA, RSA or RSA-PSS (hash and MGF1 hash). */
static int
ref_sigalg(X509_REQ *req, struct csr_ref *r)
{
	const ASN1_BIT_STRING *sig;
	const X509_ALGOR *alg;
	RSA_PSS_PARAMS *pss = NULL;
	X509_ALGOR *mgfmd = NULL;
	int nid, md, pkt, ok = 0;

	X509_REQ_get0_signature(req, &sig, &alg);
	nid = OBJ_obj2nid(alg->algorithm);
	if (nid == NID_rsassaPss) {
		pss = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(RSA_PSS_PARAMS),
		    alg->parameter);
		if (pss != NULL && pss->maskGenAlgorithm != NULL &&
		    OBJ_obj2nid(pss->maskGenAlgorithm->algorithm) == NID_mgf1)
			mgfmd = ASN1_TYPE_unpack_sequence(
			    ASN1_ITEM_rptr(X509_ALGOR),
			    pss->maskGenAlgorithm->parameter);
		ok = pss != NULL && pss->hashAlgorithm != NULL &&
		    sha2(pss->hashAlgorithm->algorithm) && mgfmd != NULL &&
		    sha2(mgfmd->algorithm);
	} else if (OBJ_find_sigid_algs(nid, &md, &pkt) == 1) {
		ok = (md == NID_sha256 || md == NID_sha384 ||
		    md == NID_sha512) && (pkt == NID_X9_62_id_ecPublicKey ||
		    pkt == NID_rsaEncryption);
	}
	ERR_clear_error();
	X509_ALGOR_free(mgfmd);
	RSA_PSS_PARAMS_free(pss);
	if (!ok)
		refuse(r, ERR_INVALID_CSR, "signature algorithm");
	return ok ? 0 : -1;
}

/* Names: the CN and the one SAN extension of one extensionRequest. */
static int
ref_names(X509_REQ *req, struct csr_ref *r)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	GENERAL_NAMES *gens = NULL;
	struct err e;
	int found = 0, crit = 0, rc = -1;

	for (int i = 0; i < X509_REQ_get_attr_count(req); i++) {
		X509_ATTRIBUTE *a = X509_REQ_get_attr(req, i);
		int nid = OBJ_obj2nid(X509_ATTRIBUTE_get0_object(a));
		ASN1_TYPE *t;
		const unsigned char *p;

		if (nid != NID_ext_req && nid != NID_ms_ext_req)
			continue;
		t = X509_ATTRIBUTE_get0_type(a, 0);
		if (found++ > 0 || X509_ATTRIBUTE_count(a) != 1 ||
		    t == NULL || t->type != V_ASN1_SEQUENCE) {
			refuse(r, ERR_INVALID_CSR, "extensionRequest");
			goto out;
		}
		p = t->value.sequence->data;
		exts = d2i_X509_EXTENSIONS(NULL, &p,
		    t->value.sequence->length);
		if (exts == NULL || p != t->value.sequence->data +
		    t->value.sequence->length) {
			refuse(r, ERR_INVALID_CSR, "extensions");
			goto out;
		}
	}
	if (exts != NULL) {
		gens = X509V3_get_d2i(exts, NID_subject_alt_name, &crit, NULL);
		if (gens == NULL && crit != -1) {
			refuse(r, ERR_INVALID_CSR, "subjectAltName");
			goto out;
		}
	}
	if (ca_names_extract(X509_REQ_get_subject_name(req), gens,
	    &r->names, &e) == -1) {
		refuse(r, e.code, "%s", e.msg);
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return rc;
}

void
csr_ref_check(const char *pem, size_t len, struct csr_ref *r)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	X509_REQ *req = NULL;
	long dlen = 0;

	memset(r, 0, sizeof(*r));
	r->names = (struct names)NAMES_INIT;
	r->code = ERR_OK;
	if (pem == NULL || len == 0 || len > RCA_MAX_CSR_BYTES) {
		refuse(r, ERR_INVALID_CSR, "size");
		goto out;
	}
	if (ref_pem(pem, len, &der, &dlen, r) == -1)
		goto out;
	p = der;
	if ((req = d2i_X509_REQ(NULL, &p, dlen)) == NULL ||
	    p != der + dlen) {
		refuse(r, ERR_INVALID_CSR, "d2i_X509_REQ");
		goto out;
	}
	if (!canonical(der, dlen, 0)) {
		refuse(r, ERR_INVALID_CSR, "not DER");
		goto out;
	}
	if (X509_REQ_get_version(req) != X509_REQ_VERSION_1) {
		refuse(r, ERR_INVALID_CSR, "version");
		goto out;
	}
	if (ref_key(req, r) == -1 || ref_sigalg(req, r) == -1)
		goto out;
	if (X509_REQ_verify(req, X509_REQ_get0_pubkey(req)) != 1) {
		refuse(r, ERR_CSR_SIGNATURE, "X509_REQ_verify");
		goto out;
	}
	(void)ref_names(req, r);
out:
	if (r->code != ERR_OK)
		names_clear(&r->names);
	ERR_clear_error();
	X509_REQ_free(req);
	OPENSSL_free(der);
}

void
csr_ref_clear(struct csr_ref *r)
{
	names_clear(&r->names);
}
