/*
 * Certificate requests: a client's CSR decoded and checked by SPEC
 * section 8, a request made from an issued certificate (renewal), and
 * the accessors of struct ca_csr.
 */
#include <stdlib.h>
#include <string.h>

#include "ca_priv.h"

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>

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
 * RSASSA-PSS parameters whose hash and MGF1 hash are SHA-256, SHA-384
 * or SHA-512, with nothing after them.
 */
static bool
pss_ok(const ASN1_STRING *ps)
{
	const unsigned char *p = ASN1_STRING_get0_data(ps);
	RSA_PSS_PARAMS *pss;
	X509_ALGOR *mgfmd = NULL;
	bool ok;

	ok = (pss = d2i_RSA_PSS_PARAMS(NULL, &p,
	    ASN1_STRING_length(ps))) != NULL &&
	    p == ASN1_STRING_get0_data(ps) + ASN1_STRING_length(ps) &&
	    pss->hashAlgorithm != NULL &&
	    md_ok(OBJ_obj2nid(pss->hashAlgorithm->algorithm)) &&
	    pss->maskGenAlgorithm != NULL &&
	    OBJ_obj2nid(pss->maskGenAlgorithm->algorithm) == NID_mgf1 &&
	    (mgfmd = mgf1_md(pss->maskGenAlgorithm)) != NULL &&
	    md_ok(OBJ_obj2nid(mgfmd->algorithm));
	X509_ALGOR_free(mgfmd);
	RSA_PSS_PARAMS_free(pss);
	return ok;
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
	const void *pval;
	int nid, mdnid = NID_undef, pknid = NID_undef, ptype;

	X509_ALGOR_get0(&obj, &ptype, &pval, alg);
	nid = OBJ_obj2nid(obj);
	if (nid == NID_rsassaPss && ptype == V_ASN1_SEQUENCE) {
		if (pss_ok(pval))
			return 0;
		ERR_clear_error();
		err_set(e, ERR_INVALID_CSR, "RSA-PSS signature with a hash or "
		    "MGF1 hash other than SHA-256, SHA-384 or SHA-512");
		return -1;
	}
	if (nid != NID_rsassaPss &&
	    OBJ_find_sigid_algs(nid, &mdnid, &pknid) == 1 && md_ok(mdnid) &&
	    (pknid == NID_X9_62_id_ecPublicKey || pknid == NID_rsaEncryption))
		return 0;
	err_set(e, ERR_INVALID_CSR, "signature algorithm %.40s: only ECDSA, "
	    "RSA and RSA-PSS with SHA-256, SHA-384 or SHA-512 are accepted",
	    nid != NID_undef ? OBJ_nid2sn(nid) : "unknown");
	return -1;
}

/* The order of the checks is SPEC section 8's (see ca_priv.h). */
struct ca_csr *
ca_csr_decode(const unsigned char *der, size_t len, struct err *e)
{
	struct ca_csr *csr = NULL, *ret = NULL;
	GENERAL_NAMES *gens = NULL;
	const unsigned char *p = der;
	RCA_REQ *r = NULL;
	EVP_PKEY *pk = NULL;
	bool bad;

	if (!ca_der_strict(der, len)) {
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
	if ((pk = ca_spki_check(r->info->spki->algor, r->info->spki->public_key,
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
	if (ca_csr_pem_block(pem, len, &der, &dlen, e) == -1)
		goto out;
	ret = ca_csr_decode(der, (size_t)dlen, e);
out:
	OPENSSL_free(der);
	return ret;
}

/* A request of x's key and names (new); the key rules of a CSR. */
static struct ca_csr *
csr_of_cert(X509 *x, struct err *e)
{
	struct ca_csr *csr = NULL, *ret = NULL;
	X509_ALGOR *alg = NULL;
	EVP_PKEY *pk = NULL;

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
	if ((pk = ca_spki_check(alg, X509_get0_pubkey_bitstr(x), csr, e)) ==
	    NULL)
		goto out;
	if (ca_cert_names(x, ERR_INVALID_CSR,
	    "the certificate's subjectAltName does not parse", &csr->names,
	    e) == -1)
		goto out;
	ret = csr;
	csr = NULL;
out:
	EVP_PKEY_free(pk);
	ca_csr_free(csr);
	return ret;
}

struct ca_csr *
ca_csr_from_cert(const unsigned char *der, size_t len, struct err *e)
{
	struct ca_csr *csr;
	X509 *x;

	if ((x = ca_x509_from_der(der, len, ERR_INVALID_CSR, e)) == NULL)
		return NULL;
	csr = csr_of_cert(x, e);
	X509_free(x);
	return csr;
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
