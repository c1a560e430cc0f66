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
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

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
 * algorithm and bits, and keeps the DER of the signed part.
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
	int idx;

	*bad = false;
	for (int i = 0; i < sk_X509_ATTRIBUTE_num(attrs); i++) {
		X509_ATTRIBUTE *a = sk_X509_ATTRIBUTE_value(attrs, i);
		int nid = OBJ_obj2nid(X509_ATTRIBUTE_get0_object(a));
		ASN1_TYPE *t;
		const unsigned char *p;

		if (nid != NID_ext_req && nid != NID_ms_ext_req)
			continue;
		t = X509_ATTRIBUTE_get0_type(a, 0);
		if (exts != NULL || X509_ATTRIBUTE_count(a) != 1 ||
		    t == NULL || t->type != V_ASN1_SEQUENCE) {
			err_set(e, ERR_INVALID_CSR,
			    "malformed extensionRequest attribute");
			*bad = true;
			goto out;
		}
		p = t->value.sequence->data;
		if ((exts = d2i_X509_EXTENSIONS(NULL, &p,
		    t->value.sequence->length)) == NULL) {
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

/* An EC public key from its curve and point (new), checked on-curve. */
static EVP_PKEY *
ec_pub(const char *group, const ASN1_BIT_STRING *bits)
{
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pk = NULL;

	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_PKEY_PARAM_PUB_KEY, (void *)ASN1_STRING_get0_data(bits),
	    (size_t)ASN1_STRING_length(bits));
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL)
		return NULL;
	if (EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pk;
}

/*
 * The request's public key (new) and its type.  EC keys are imported
 * directly from curve and point; RSA goes through d2i_PUBKEY.
 */
static EVP_PKEY *
spki_key(const RCA_SPKI *spki, enum key_type *kt, struct err *e)
{
	const ASN1_OBJECT *obj;
	const void *pval;
	unsigned char *der = NULL;
	const unsigned char *p;
	EVP_PKEY *pk = NULL;
	int ptype, nid, len;

	X509_ALGOR_get0(&obj, &ptype, &pval, spki->algor);
	nid = OBJ_obj2nid(obj);
	if (nid == NID_X9_62_id_ecPublicKey) {
		int curve = ptype == V_ASN1_OBJECT ? OBJ_obj2nid(pval) :
		    NID_undef;

		if (curve != NID_X9_62_prime256v1 && curve != NID_secp384r1) {
			err_set(e, ERR_KEY_REJECTED, "EC curve %.40s: only "
			    "P-256 and P-384 are accepted",
			    curve != NID_undef ? OBJ_nid2sn(curve) :
			    "(explicit parameters)");
			return NULL;
		}
		*kt = curve == NID_secp384r1 ? KEY_EC_P384 : KEY_EC_P256;
		pk = ec_pub(curve == NID_secp384r1 ? "P-384" : "P-256",
		    spki->public_key);
	} else if (nid == NID_rsaEncryption) {
		if ((len = ASN1_item_i2d((const ASN1_VALUE *)spki, &der,
		    ASN1_ITEM_rptr(RCA_SPKI))) > 0) {
			p = der;
			pk = d2i_PUBKEY(NULL, &p, len);
		}
		OPENSSL_free(der);
		if (pk != NULL && ca_key_classify(pk, kt, e) == -1) {
			EVP_PKEY_free(pk);
			return NULL;
		}
	} else {
		err_set(e, ERR_KEY_REJECTED,
		    "key algorithm %.32s: only EC P-256/P-384 and RSA "
		    "2048/3072/4096 are accepted",
		    nid != NID_undef ? OBJ_nid2sn(nid) : "unknown");
		return NULL;
	}
	if (pk == NULL) {
		ERR_clear_error();
		err_set(e, ERR_INVALID_CSR,
		    "the request's public key does not parse");
	}
	return pk;
}

/*
 * Check the request's signature.  The usual algorithms are verified
 * over the kept encoding; anything else (RSA-PSS...) goes through
 * d2i_X509_REQ and X509_REQ_verify.
 */
static bool
req_verify(const RCA_REQ *r, const unsigned char *der, size_t len,
    EVP_PKEY *pk)
{
	const ASN1_OBJECT *obj;
	EVP_MD_CTX *m = NULL;
	X509_REQ *req = NULL;
	const unsigned char *p = der;
	int mdnid = NID_undef, pknid = NID_undef;
	bool ok = false;

	X509_ALGOR_get0(&obj, NULL, NULL, r->sig_alg);
	if (OBJ_find_sigid_algs(OBJ_obj2nid(obj), &mdnid, &pknid) == 1 &&
	    (mdnid == NID_sha256 || mdnid == NID_sha384 ||
	    mdnid == NID_sha512) && EVP_PKEY_get_base_id(pk) == pknid &&
	    (r->signature->flags & 0x07) == 0) {
		ok = (m = EVP_MD_CTX_new()) != NULL &&
		    EVP_DigestVerifyInit_ex(m, NULL, OBJ_nid2sn(mdnid), NULL,
		    NULL, pk, NULL) == 1 &&
		    EVP_DigestVerify(m, ASN1_STRING_get0_data(r->signature),
		    (size_t)ASN1_STRING_length(r->signature),
		    r->info->enc.enc, (size_t)r->info->enc.len) == 1;
	} else if ((req = d2i_X509_REQ(NULL, &p, (long)len)) != NULL) {
		ok = X509_REQ_verify(req, pk) == 1;
	}
	ERR_clear_error();
	EVP_MD_CTX_free(m);
	X509_REQ_free(req);
	return ok;
}

/* A request from its DER: key policy, signature, names (new). */
static struct ca_csr *
csr_decode(const unsigned char *der, size_t len, struct err *e)
{
	struct ca_csr *csr = NULL, *ret = NULL;
	GENERAL_NAMES *gens = NULL;
	const unsigned char *p = der;
	RCA_REQ *r = NULL;
	EVP_PKEY *pk = NULL;
	bool bad;

	if ((r = (RCA_REQ *)ASN1_item_d2i(NULL, &p, (long)len,
	    ASN1_ITEM_rptr(RCA_REQ))) == NULL || p != der + len ||
	    r->info->enc.enc == NULL) {
		ERR_clear_error();
		err_set(e, ERR_INVALID_CSR,
		    "not a PEM certificate request (CERTIFICATE REQUEST)");
		goto out;
	}
	if ((csr = calloc(1, sizeof(*csr))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	/* Refuse weak keys before spending a verification on them. */
	if ((pk = spki_key(r->info->spki, &csr->key_type, e)) == NULL)
		goto out;
	if (!req_verify(r, der, len, pk)) {
		err_set(e, ERR_CSR_SIGNATURE,
		    "the request's signature does not verify");
		goto out;
	}
	gens = req_sans(r->info->attributes, e, &bad);
	if (bad)
		goto out;
	if (ca_names_extract(r->info->subject, gens, &csr->names, e) == -1)
		goto out;
	if ((csr->spki_alg = X509_ALGOR_dup(r->info->spki->algor)) == NULL ||
	    (csr->spki_bits = ASN1_STRING_dup(r->info->spki->public_key)) ==
	    NULL || (csr->der = malloc(len)) == NULL) {
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
	char *name = NULL, *header = NULL;
	long dlen = 0;
	BIO *bio = NULL;

	if (pem == NULL || len == 0 || len > RCA_MAX_CSR_BYTES) {
		err_set(e, ERR_INVALID_CSR,
		    "a CSR must be a PEM of 1 to %d bytes", RCA_MAX_CSR_BYTES);
		goto out;
	}
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		ca_log_ssl("BIO_new_mem_buf");
		err_set(e, ERR_CRYPTO, "out of memory");
		goto out;
	}
	/* Skips other PEM blocks; takes "NEW CERTIFICATE REQUEST" too. */
	if (PEM_bytes_read_bio(&der, &dlen, &name, PEM_STRING_X509_REQ, bio,
	    NULL, NULL) != 1 || dlen <= 0) {
		ERR_clear_error();
		err_set(e, ERR_INVALID_CSR,
		    "not a PEM certificate request (CERTIFICATE REQUEST)");
		goto out;
	}
	ret = csr_decode(der, (size_t)dlen, e);
out:
	OPENSSL_free(der);
	OPENSSL_free(name);
	OPENSSL_free(header);
	BIO_free(bio);
	return ret;
}

struct ca_csr *
ca_csr_from_cert(const unsigned char *der, size_t len, struct err *e)
{
	struct ca_csr *csr = NULL, *ret = NULL;
	GENERAL_NAMES *gens = NULL;
	const unsigned char *p = der;
	X509_ALGOR *alg = NULL;
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
	if (X509_get0_pubkey(x) == NULL) {
		ERR_clear_error();
		err_set(e, ERR_INVALID_CSR,
		    "the certificate's public key does not parse");
		goto out;
	}
	if (ca_key_classify(X509_get0_pubkey(x), &csr->key_type, e) == -1)
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
	if (X509_PUBKEY_get0_param(NULL, NULL, NULL, &alg,
	    X509_get_X509_PUBKEY(x)) != 1 ||
	    (csr->spki_alg = X509_ALGOR_dup(alg)) == NULL ||
	    (csr->spki_bits = ASN1_STRING_dup(X509_get0_pubkey_bitstr(x))) ==
	    NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	ret = csr;
	csr = NULL;
out:
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
	X509_ALGOR_free(csr->spki_alg);
	ASN1_BIT_STRING_free(csr->spki_bits);
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
