/*
 * Certificate requests: parsing and checking a client's CSR, building a
 * request from an issued certificate (renewal), and generating a key
 * and CSR on our side.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ca_priv.h"

#include <openssl/err.h>
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
			/* Other forms (email, otherName...) are never issued. */
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

/* The SAN extension of a request, or NULL (new). */
static GENERAL_NAMES *
req_sans(X509_REQ *req, struct err *e, bool *bad)
{
	STACK_OF(X509_EXTENSION) *exts;
	GENERAL_NAMES *gens = NULL;
	int idx;

	*bad = false;
	if ((exts = X509_REQ_get_extensions(req)) == NULL) {
		ERR_clear_error();
		return NULL;
	}
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
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return gens;
}

struct ca_csr *
ca_csr_parse(const char *pem, size_t len, struct err *e)
{
	struct ca_csr *csr = NULL, *ret = NULL;
	GENERAL_NAMES *gens = NULL;
	BIO *bio = NULL;
	bool bad;

	if (pem == NULL || len == 0 || len > RCA_MAX_CSR_BYTES) {
		err_set(e, ERR_INVALID_CSR,
		    "a CSR must be a PEM of 1 to %d bytes", RCA_MAX_CSR_BYTES);
		goto out;
	}
	if ((csr = calloc(1, sizeof(*csr))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		ca_log_ssl("BIO_new_mem_buf");
		err_set(e, ERR_CRYPTO, "out of memory");
		goto out;
	}
	if ((csr->req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL)) ==
	    NULL) {
		ERR_clear_error();
		err_set(e, ERR_INVALID_CSR,
		    "not a PEM certificate request (CERTIFICATE REQUEST)");
		goto out;
	}
	if ((csr->pub = X509_REQ_get_pubkey(csr->req)) == NULL) {
		ERR_clear_error();
		err_set(e, ERR_INVALID_CSR,
		    "the request's public key does not parse");
		goto out;
	}
	/* Refuse weak keys before spending a verification on them. */
	if (ca_key_classify(csr->pub, &csr->key_type, e) == -1)
		goto out;
	if (X509_REQ_verify(csr->req, csr->pub) != 1) {
		ERR_clear_error();
		err_set(e, ERR_CSR_SIGNATURE,
		    "the request's signature does not verify");
		goto out;
	}
	gens = req_sans(csr->req, e, &bad);
	if (bad)
		goto out;
	if (ca_names_extract(X509_REQ_get_subject_name(csr->req), gens,
	    &csr->names, e) == -1)
		goto out;
	ret = csr;
	csr = NULL;
out:
	GENERAL_NAMES_free(gens);
	BIO_free(bio);
	ca_csr_free(csr);
	return ret;
}

struct ca_csr *
ca_csr_from_cert(const unsigned char *der, size_t len, struct err *e)
{
	struct ca_csr *csr = NULL, *ret = NULL;
	GENERAL_NAMES *gens = NULL;
	const unsigned char *p = der;
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
	if ((csr->pub = X509_get_pubkey(x)) == NULL) {
		ERR_clear_error();
		err_set(e, ERR_INVALID_CSR,
		    "the certificate's public key does not parse");
		goto out;
	}
	if (ca_key_classify(csr->pub, &csr->key_type, e) == -1)
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
	EVP_PKEY *key = NULL;
	BIO *bio = NULL;
	char *data;
	long n;

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
	if ((csr = calloc(1, sizeof(*csr))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	if ((key = ca_key_generate(t, e)) == NULL)
		goto out;
	if ((csr->req = req_build(key, &want, e)) == NULL)
		goto out;
	if ((csr->pub = X509_REQ_get_pubkey(csr->req)) == NULL) {
		ca_log_ssl("X509_REQ_get_pubkey");
		err_set(e, ERR_CRYPTO, "cannot read back the public key");
		goto out;
	}
	csr->key_type = t;
	/* Same naming rules as a parsed CSR. */
	if (ca_names_extract(X509_REQ_get_subject_name(csr->req), NULL,
	    &csr->names, e) == -1)
		goto out;
	for (int k = 0; k < NAME__MAX; k++)
		for (size_t i = 0; i < want.n[k]; i++)
			if (names_add(&csr->names, (enum name_kind)k,
			    want.list[k][i], e) == -1)
				goto out;
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
	X509_REQ_free(csr->req);
	EVP_PKEY_free(csr->pub);
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
	unsigned char *der = NULL;
	char *pem;
	int n;

	if (csr->req == NULL) {
		err_set(e, ERR_INVALID_REQUEST,
		    "a renewal request has no PEM form");
		return NULL;
	}
	if ((n = i2d_X509_REQ(csr->req, &der)) <= 0) {
		ca_log_ssl("i2d_X509_REQ");
		err_set(e, ERR_CRYPTO, "cannot encode the request");
		return NULL;
	}
	pem = ca_pem_encode("CERTIFICATE REQUEST", der, (size_t)n);
	OPENSSL_free(der);
	if (pem == NULL)
		err_set(e, ERR_CRYPTO, "out of memory");
	return pem;
}
