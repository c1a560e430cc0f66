/*
 * Names: reading the subject CN and subjectAltNames of a request or a
 * certificate under the CSR rules of SPEC section 8, and building the
 * SAN extension of what we issue from a struct names.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ca_priv.h"

#include <openssl/err.h>

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

/* names_add() reporting a refusal as ERR_INVALID_CSR. */
static int
csr_name_add(struct names *out, enum name_kind k, const char *v,
    struct err *e)
{
	struct err sub;

	if (names_add(out, k, v, &sub) == -1) {
		err_set(e, ERR_INVALID_CSR, "%s", sub.msg);
		return -1;
	}
	return 0;
}

/* The last CN of subj (may be NULL) into out->cn; none is fine. */
static int
subject_cn(const X509_NAME *subj, struct names *out, struct err *e)
{
	X509_NAME_ENTRY *ent;
	char *cn = NULL;
	struct err sub;
	int idx = -1, last = -1, rc = -1;

	/* The last CN wins, like most TLS stacks read it. */
	if (subj != NULL)
		while ((idx = X509_NAME_get_index_by_NID(subj, NID_commonName,
		    idx)) >= 0)
			last = idx;
	if (last < 0)
		return 0;
	ent = X509_NAME_get_entry(subj, last);
	if ((cn = asn1_to_cstr(X509_NAME_ENTRY_get_data(ent))) == NULL) {
		err_set(e, ERR_INVALID_CSR,
		    "the common name is not a valid string");
		goto out;
	}
	if (names_set_cn(out, cn, &sub) == -1) {
		err_set(e, ERR_INVALID_CSR, "%s", sub.msg);
		goto out;
	}
	rc = 0;
out:
	free(cn);
	return rc;
}

/*
 * One SAN as text in buf and its kind in *k.  Returns 1, 0 for a form
 * we never issue (email, otherName: skipped), or -1.
 */
static int
san_text(const GENERAL_NAME *g, enum name_kind *k, char *buf, size_t bufsz,
    struct err *e)
{
	const ASN1_OCTET_STRING *o;
	int type, len;
	void *v = GENERAL_NAME_get0_value(g, &type);

	switch (type) {
	case GEN_DNS:
	case GEN_URI:
		*k = type == GEN_DNS ? NAME_DNS : NAME_URI;
		if (ia5_to_buf(v, buf, bufsz) == -1) {
			err_set(e, ERR_INVALID_CSR,
			    "invalid %s subject alternative name",
			    *k == NAME_DNS ? "DNS" : "URI");
			return -1;
		}
		return 1;
	case GEN_IPADD:
		o = v;
		len = ASN1_STRING_length(o);
		*k = NAME_IP;
		if ((len != 4 && len != 16) ||
		    inet_ntop(len == 4 ? AF_INET : AF_INET6,
		    ASN1_STRING_get0_data(o), buf, (socklen_t)bufsz) == NULL) {
			err_set(e, ERR_INVALID_CSR,
			    "invalid IP subject alternative name");
			return -1;
		}
		return 1;
	default:
		return 0;
	}
}

int
ca_names_extract(const X509_NAME *subj, const GENERAL_NAMES *gens,
    struct names *out, struct err *e)
{
	char buf[RCA_MAX_URI_LEN + 1];
	enum name_kind k;
	int got, rc = -1;

	if (subject_cn(subj, out, e) == -1)
		goto out;
	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		got = san_text(sk_GENERAL_NAME_value(gens, i), &k, buf,
		    sizeof(buf), e);
		if (got == -1 || (got == 1 &&
		    csr_name_add(out, k, buf, e) == -1))
			goto out;
	}
	/* A CN that is a host name or an address is also a SAN. */
	if (out->cn != NULL) {
		if (names_is_ip(out->cn)) {
			if (csr_name_add(out, NAME_IP, out->cn, e) == -1)
				goto out;
		} else if (names_is_dns(out->cn)) {
			if (csr_name_add(out, NAME_DNS, out->cn, e) == -1)
				goto out;
		}
	}
	rc = 0;
out:
	if (rc == -1)
		names_clear(out);
	return rc;
}

int
ca_cert_names(X509 *x, enum err_code code, const char *bad_san,
    struct names *out, struct err *e)
{
	GENERAL_NAMES *gens = NULL;
	int crit = 0, rc = -1;

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	if (gens == NULL && crit != -1) {
		ERR_clear_error();
		err_set(e, code, "%s", bad_san);
		goto out;
	}
	if (ca_names_extract(X509_get_subject_name(x), gens, out, e) == -1) {
		if (e != NULL)
			e->code = code;
		goto out;
	}
	rc = 0;
out:
	GENERAL_NAMES_free(gens);
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
