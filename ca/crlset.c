/*
 * The incremental CRL: a CA's revoked entries kept sorted and already
 * DER-encoded, so that a new CRL is one TBSCertList assembled from
 * cached bytes and one signature; ca_crl_build() is a set made for
 * one CRL.  tests/ca/crl_ref.c builds the same CRL with OpenSSL's
 * X509_CRL: the same entries, number and times give the same DER,
 * signature value aside.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crl_priv.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>

#include "hex.h"

/*
 * One entry: the DER of its X509_REVOKED (len octets), whose serial's
 * magnitude (klen octets, 1 to 20) starts at der + koff.
 */
struct crl_ent {
	size_t		len;
	unsigned char	koff;
	unsigned char	klen;
	unsigned char	der[];
};

/* v[0..n) owned, sorted by serial; bytes is the sum of their len. */
struct ca_crl_set {
	struct crl_ent	**v;
	size_t		  n;
	size_t		  cap;
	size_t		  bytes;
};

/* An entry of a batch being added, with its place in the batch. */
struct pend {
	struct crl_ent	*ent;		/* owned */
	size_t		 idx;
};

/*
 * The pieces of a TBSCertList around its revoked entries: version,
 * signature algorithm, issuer, thisUpdate and nextUpdate (head), and
 * the content of crlExtensions (ext: SEQUENCE OF Extension).
 */
struct tbs_parts {
	unsigned char	 aid[128];	/* AlgorithmIdentifier DER */
	size_t		 aid_len;
	unsigned char	*head;		/* malloc'd */
	size_t		 head_len;
	unsigned char	*ext;		/* OPENSSL_malloc'd */
	size_t		 ext_len;
};

/*
 * The order of X509_CRL_sort(): ASN1_STRING_cmp() of the serials, for
 * positive integers the magnitude's length, then its octets.
 */
static int
key_cmp(const unsigned char *a, size_t alen, const unsigned char *b,
    size_t blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return memcmp(a, b, alen);
}

static int
ent_cmp(const struct crl_ent *a, const struct crl_ent *b)
{
	return key_cmp(a->der + a->koff, a->klen, b->der + b->koff, b->klen);
}

/* By serial, then by place in the batch (the first one wins). */
static int
pend_cmp(const void *a, const void *b)
{
	const struct pend *x = a, *y = b;
	int c;

	if ((c = ent_cmp(x->ent, y->ent)) != 0)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * The index of the first of v[0..n) not below serial k (klen octets);
 * *found when that one is k.
 */
static size_t
ents_find(struct crl_ent *const *v, size_t n, const unsigned char *k,
    size_t klen, bool *found)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (key_cmp(v[mid]->der + v[mid]->koff, v[mid]->klen, k,
		    klen) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < n && key_cmp(v[lo]->der + v[lo]->koff, v[lo]->klen, k,
	    klen) == 0;
	return lo;
}

/* Hex digit value (the digit is valid, lowercase). */
static unsigned char
nibble(char c)
{
	return (unsigned char)(c <= '9' ? c - '0' : c - 'a' + 10);
}

/* The magnitude of a normalised hex serial into mag; returns octets. */
static size_t
hex_mag(const char *hex, unsigned char mag[RCA_SERIAL_HEX_MAX / 2 + 1])
{
	size_t hlen = strlen(hex), mlen = (hlen + 1) / 2;

	memset(mag, 0, mlen);
	for (size_t i = 0; i < hlen; i++)
		mag[mlen - 1 - i / 2] |= (unsigned char)(nibble(
		    hex[hlen - 1 - i]) << (4 * (i % 2)));
	return mlen;
}

/*
 * The Time of when as ASN1_TIME_set() encodes it (UTCTime for 1950 to
 * 2049, GeneralizedTime after) into out; returns its length, or 0 for
 * dates before 1950 or after 9999 (left to OpenSSL).
 */
static size_t
time_der(int64_t when, unsigned char out[18])
{
	time_t t = (time_t)when;
	struct tm tm;
	int y, n;

	if (gmtime_r(&t, &tm) == NULL)
		return 0;
	y = tm.tm_year + 1900;
	if (y < 1950 || y > 9999)
		return 0;
	out[0] = y < 2050 ? 0x17 : 0x18;
	out[1] = y < 2050 ? 13 : 15;
	n = snprintf((char *)out + 2, 16, "%0*d%02d%02d%02d%02d%02dZ",
	    y < 2050 ? 2 : 4, y < 2050 ? y % 100 : y, tm.tm_mon + 1,
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return n == out[1] ? (size_t)n + 2 : 0;
}

/*
 * The entry of a checked serial (hex), date and reason, encoded here:
 * the bytes i2d_X509_REVOKED() gives for ca_crl_entry_new()'s entry
 * (the tests compare them), SEQUENCE { INTEGER serial, Time, SEQUENCE {
 * Extension crlReason } }.  NULL when the date is left to OpenSSL, or
 * out of memory.
 */
static struct crl_ent *
ent_direct(const char *hex, int64_t when, int reason)
{
	static const unsigned char ext[] = { 0x30, 0x0c, 0x30, 0x0a, 0x06,
	    0x03, 0x55, 0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01 };
	unsigned char mag[RCA_SERIAL_HEX_MAX / 2 + 1], tder[18], *p;
	size_t mlen, tlen, ilen, clen;
	struct crl_ent *ent;

	if ((tlen = time_der(when, tder)) == 0)
		return NULL;
	mlen = hex_mag(hex, mag);
	ilen = mlen + (mag[0] >> 7);
	clen = 2 + ilen + tlen + sizeof(ext) + 1;
	if ((ent = malloc(sizeof(*ent) + 2 + clen)) == NULL)
		return NULL;
	ent->len = 2 + clen;
	ent->koff = (unsigned char)(4 + ilen - mlen);
	ent->klen = (unsigned char)mlen;
	p = ent->der;
	*p++ = 0x30;
	*p++ = (unsigned char)clen;
	*p++ = 0x02;
	*p++ = (unsigned char)ilen;
	if (ilen > mlen)
		*p++ = 0x00;
	memcpy(p, mag, mlen);
	p += mlen;
	memcpy(p, tder, tlen);
	p += tlen;
	memcpy(p, ext, sizeof(ext));
	p[sizeof(ext)] = (unsigned char)reason;
	return ent;
}

/* The entry of en through OpenSSL (new, free()), or NULL with e set. */
static struct crl_ent *
ent_openssl(const struct ca_crl_entry *en, struct err *e)
{
	X509_REVOKED *rev = NULL;
	struct crl_ent *ent = NULL, *ret = NULL;
	const unsigned char *p, *mag;
	unsigned char *q;
	size_t maglen;
	long n;
	int len;

	if ((rev = ca_crl_entry_new(en, e)) == NULL)
		goto out;
	if ((len = i2d_X509_REVOKED(rev, NULL)) <= 0) {
		ca_ssl_fail("encoding a CRL entry", ERR_CRYPTO,
		    "cannot build the CRL", e);
		goto out;
	}
	if ((ent = malloc(sizeof(*ent) + (size_t)len)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	q = ent->der;
	ent->len = (size_t)len;
	p = ent->der;
	if (i2d_X509_REVOKED(rev, &q) != len ||
	    ca_der_get(&p, ent->len, 0x30) < 0 ||
	    (n = ca_der_get(&p, ent->len - (size_t)(p - ent->der),
	    0x02)) < 0 || !ca_der_uint(p, n, &mag, &maglen) ||
	    maglen > 255) {
		ca_ssl_fail("encoding a CRL entry", ERR_CRYPTO,
		    "cannot build the CRL", e);
		goto out;
	}
	ent->koff = (unsigned char)(mag - ent->der);
	ent->klen = (unsigned char)maglen;
	ret = ent;
	ent = NULL;
out:
	free(ent);
	X509_REVOKED_free(rev);
	return ret;
}

/*
 * The entry of en (new, free()), or NULL with e set: encoded here when
 * the date allows, else by OpenSSL.
 */
static struct crl_ent *
ent_new(const struct ca_crl_entry *en, struct err *e)
{
	char hex[RCA_SERIAL_HEX_MAX + 1];
	struct crl_ent *ent;

	if (ca_crl_entry_check(en, hex, e) == -1)
		return NULL;
	if ((ent = ent_direct(hex, en->revoked_at, en->reason)) == NULL)
		ent = ent_openssl(en, e);
	return ent;
}

struct ca_crl_set *
ca_crl_set_new(struct err *e)
{
	struct ca_crl_set *set;

	if ((set = calloc(1, sizeof(*set))) == NULL)
		err_set(e, ERR_INTERNAL, "out of memory");
	return set;
}

void
ca_crl_set_free(struct ca_crl_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->n; i++)
		free(set->v[i]);
	free(set->v);
	free(set);
}

size_t
ca_crl_set_count(const struct ca_crl_set *set)
{
	return set == NULL ? 0 : set->n;
}

/* Room for need entries.  Returns 0 / -1 (ERR_INTERNAL). */
static int
set_reserve(struct ca_crl_set *set, size_t need, struct err *e)
{
	struct crl_ent **v;
	size_t cap = set->cap < 64 ? 64 : set->cap;

	if (need <= set->cap)
		return 0;
	while (cap < need && cap <= SIZE_MAX / sizeof(*v) / 2)
		cap *= 2;
	if (cap < need || (v = realloc(set->v, cap * sizeof(*v))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	set->v = v;
	set->cap = cap;
	return 0;
}

/*
 * Keep of the sorted batch pv[0..n) the first of each serial not yet
 * in set (freeing the others), moved to the front.  Returns how many.
 */
static size_t
pend_keep(const struct ca_crl_set *set, struct pend *pv, size_t n)
{
	size_t k = 0;
	bool found;

	for (size_t i = 0; i < n; i++) {
		struct crl_ent *en = pv[i].ent;

		if (k > 0 && ent_cmp(pv[k - 1].ent, en) == 0) {
			free(en);
			continue;
		}
		(void)ents_find(set->v, set->n, en->der + en->koff, en->klen,
		    &found);
		if (found) {
			free(en);
			continue;
		}
		pv[k++] = pv[i];
	}
	return k;
}

/*
 * Merge the sorted pv[0..m) (serials all new) into set, which has room,
 * from the end: each one moves the run of larger ones in one memmove.
 */
static void
set_merge(struct ca_crl_set *set, const struct pend *pv, size_t m)
{
	size_t i = set->n, k = set->n + m, pos, run;
	bool found;

	for (size_t j = m; j > 0; j--) {
		struct crl_ent *en = pv[j - 1].ent;

		pos = ents_find(set->v, i, en->der + en->koff, en->klen,
		    &found);
		run = i - pos;
		k -= run;
		memmove(&set->v[k], &set->v[pos], run * sizeof(*set->v));
		i = pos;
		set->v[--k] = en;
		set->bytes += en->len;
	}
	set->n += m;
}

int
ca_crl_set_add(struct ca_crl_set *set, const struct ca_crl_entry *entries,
    size_t n, struct err *e)
{
	struct pend *pv = NULL;
	size_t m = 0;
	int rc = -1;

	if (n == 0)
		return 0;
	if (n > SIZE_MAX / sizeof(*pv) - set->n ||
	    (pv = calloc(n, sizeof(*pv))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (m = 0; m < n; m++) {
		if ((pv[m].ent = ent_new(&entries[m], e)) == NULL)
			goto out;
		pv[m].idx = m;
	}
	qsort(pv, n, sizeof(*pv), pend_cmp);
	m = pend_keep(set, pv, n);
	if (set_reserve(set, set->n + m, e) == -1)
		goto out;
	set_merge(set, pv, m);
	m = 0;
	rc = 0;
out:
	for (size_t i = 0; i < m; i++)
		free(pv[i].ent);
	free(pv);
	return rc;
}

int
ca_crl_set_remove(struct ca_crl_set *set, const char *serial)
{
	char hex[RCA_SERIAL_HEX_MAX + 1];
	unsigned char mag[RCA_SERIAL_HEX_MAX / 2 + 1];
	size_t mlen, pos;
	bool found;

	if (set == NULL || hex_serial_normalize(serial, hex, NULL) == -1)
		return 0;
	mlen = hex_mag(hex, mag);
	pos = ents_find(set->v, set->n, mag, mlen, &found);
	if (!found)
		return 0;
	set->bytes -= set->v[pos]->len;
	free(set->v[pos]);
	memmove(&set->v[pos], &set->v[pos + 1],
	    (set->n - pos - 1) * sizeof(*set->v));
	set->n--;
	return 1;
}

/*
 * The signature AlgorithmIdentifier the provider gives for mctx (what
 * X509_CRL_sign_ctx() puts into a CRL).  Returns 0 / -1.
 */
static int
parts_aid(EVP_MD_CTX *mctx, struct tbs_parts *tp)
{
	EVP_PKEY_CTX *pctx = EVP_MD_CTX_get_pkey_ctx(mctx);
	OSSL_PARAM params[2];

	params[0] = OSSL_PARAM_construct_octet_string(
	    OSSL_SIGNATURE_PARAM_ALGORITHM_ID, tp->aid, sizeof(tp->aid));
	params[1] = OSSL_PARAM_construct_end();
	if (pctx == NULL || EVP_PKEY_CTX_get_params(pctx, params) <= 0 ||
	    !OSSL_PARAM_modified(&params[0]) ||
	    params[0].return_size == 0 ||
	    params[0].return_size > sizeof(tp->aid))
		return -1;
	tp->aid_len = params[0].return_size;
	return 0;
}

/*
 * version (v2), signature, issuer, thisUpdate, nextUpdate: encoded as
 * ca_crl_build() sets them.  Returns 0 / -1.
 */
static int
parts_head(const struct ca *ca, int64_t this_update, int64_t next_update,
    struct tbs_parts *tp)
{
	static const unsigned char version[] = { 0x02, 0x01, 0x01 };
	unsigned char *name = NULL, *t1 = NULL, *t2 = NULL, *p;
	ASN1_TIME *a = NULL, *b = NULL;
	int nl, l1, l2, rc = -1;

	if ((nl = i2d_X509_NAME(X509_get_subject_name(ca->cert),
	    &name)) <= 0 ||
	    (a = ASN1_TIME_set(NULL, (time_t)this_update)) == NULL ||
	    (b = ASN1_TIME_set(NULL, (time_t)next_update)) == NULL ||
	    (l1 = i2d_ASN1_TIME(a, &t1)) <= 0 ||
	    (l2 = i2d_ASN1_TIME(b, &t2)) <= 0)
		goto out;
	tp->head_len = sizeof(version) + tp->aid_len + (size_t)nl +
	    (size_t)l1 + (size_t)l2;
	if ((tp->head = malloc(tp->head_len)) == NULL)
		goto out;
	p = tp->head;
	memcpy(p, version, sizeof(version));
	p += sizeof(version);
	memcpy(p, tp->aid, tp->aid_len);
	p += tp->aid_len;
	memcpy(p, name, (size_t)nl);
	p += nl;
	memcpy(p, t1, (size_t)l1);
	memcpy(p + l1, t2, (size_t)l2);
	rc = 0;
out:
	OPENSSL_free(name);
	OPENSSL_free(t1);
	OPENSSL_free(t2);
	ASN1_TIME_free(a);
	ASN1_TIME_free(b);
	return rc;
}

/* crlExtensions: the CRL number, then the AKI.  Returns 0 / -1. */
static int
parts_ext(const struct ca *ca, uint64_t number, struct tbs_parts *tp)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	ASN1_INTEGER *num = NULL;
	int len, rc = -1;

	if ((num = ASN1_INTEGER_new()) == NULL ||
	    ASN1_INTEGER_set_uint64(num, number) != 1 ||
	    X509V3_add1_i2d(&exts, NID_crl_number, num, 0, 0) != 1 ||
	    X509v3_add_ext(&exts, ca->ext_aki, -1) == NULL ||
	    (len = i2d_X509_EXTENSIONS(exts, &tp->ext)) <= 0)
		goto out;
	tp->ext_len = (size_t)len;
	rc = 0;
out:
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	ASN1_INTEGER_free(num);
	return rc;
}

/*
 * Write the TBSCertList (content tbs_c octets) at p: head, the
 * SEQUENCE OF revoked entries (left out when there are none, as
 * OpenSSL does), [0] crlExtensions.
 */
static void
tbs_write(unsigned char *p, size_t tbs_c, const struct tbs_parts *tp,
    const struct ca_crl_set *set)
{
	p += ca_der_put_head(p, 0x30, tbs_c);
	memcpy(p, tp->head, tp->head_len);
	p += tp->head_len;
	if (set->n > 0) {
		p += ca_der_put_head(p, 0x30, set->bytes);
		for (size_t i = 0; i < set->n; i++) {
			memcpy(p, set->v[i]->der, set->v[i]->len);
			p += set->v[i]->len;
		}
	}
	p += ca_der_put_head(p, 0xa0, tp->ext_len);
	memcpy(p, tp->ext, tp->ext_len);
}

/*
 * Wrap the tbs octets at buf + h (h the room left before them) into
 * SEQUENCE { tbs, signatureAlgorithm, BIT STRING sig }, moving them
 * when the real header is shorter.  Returns the CRL's length.
 */
static size_t
crl_wrap(unsigned char *buf, size_t h, size_t tbs,
    const struct tbs_parts *tp, const unsigned char *sig, size_t siglen)
{
	size_t c, h2;
	unsigned char *p;

	c = tbs + tp->aid_len + ca_der_head_len(siglen + 1) + siglen + 1;
	h2 = ca_der_head_len(c);
	if (h2 != h)
		memmove(buf + h2, buf + h, tbs);
	(void)ca_der_put_head(buf, 0x30, c);
	p = buf + h2 + tbs;
	memcpy(p, tp->aid, tp->aid_len);
	p += tp->aid_len;
	p += ca_der_put_head(p, 0x03, siglen + 1);
	*p++ = 0x00;
	memcpy(p, sig, siglen);
	return h2 + c;
}

int
ca_crl_set_sign(const struct ca *ca, const struct ca_crl_set *set,
    uint64_t number, int64_t this_update, int64_t next_update,
    unsigned char **der, size_t *der_len, struct err *e)
{
	struct tbs_parts tp = { .head = NULL };
	EVP_MD_CTX *mctx = NULL;
	unsigned char *buf = NULL, *sig = NULL;
	size_t tbs_c, tbs, c, h, siglen;
	int maxsig, rc = -1;

	*der = NULL;
	*der_len = 0;
	if (ca_key_needed(ca, e) == -1)
		goto out;
	if (next_update <= this_update) {
		err_set(e, ERR_INVALID_REQUEST,
		    "nextUpdate must be after thisUpdate");
		goto out;
	}
	if ((mctx = ca_sign_ctx(ca)) == NULL || parts_aid(mctx, &tp) == -1 ||
	    parts_head(ca, this_update, next_update, &tp) == -1 ||
	    parts_ext(ca, number, &tp) == -1 ||
	    (maxsig = EVP_PKEY_get_size(ca->key)) <= 0)
		goto fail;
	tbs_c = tp.head_len + ca_der_head_len(tp.ext_len) + tp.ext_len;
	if (set->n > 0)
		tbs_c += ca_der_head_len(set->bytes) + set->bytes;
	tbs = ca_der_head_len(tbs_c) + tbs_c;
	c = tbs + tp.aid_len + ca_der_head_len((size_t)maxsig + 1) +
	    (size_t)maxsig + 1;
	h = ca_der_head_len(c);
	if ((buf = malloc(h + c)) == NULL ||
	    (sig = malloc((size_t)maxsig)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	tbs_write(buf + h, tbs_c, &tp, set);
	siglen = (size_t)maxsig;
	if (EVP_DigestSign(mctx, sig, &siglen, buf + h, tbs) != 1)
		goto fail;
	*der_len = crl_wrap(buf, h, tbs, &tp, sig, siglen);
	*der = buf;
	buf = NULL;
	rc = 0;
	goto out;
fail:
	ca_ssl_fail("signing a CRL", ERR_CRYPTO,
	    "cannot build or sign the CRL", e);
out:
	free(buf);
	free(sig);
	free(tp.head);
	OPENSSL_free(tp.ext);
	EVP_MD_CTX_free(mctx);
	return rc;
}

int
ca_crl_build(const struct ca *ca, const struct ca_crl_entry *entries,
    size_t n, uint64_t number, int64_t this_update, int64_t next_update,
    unsigned char **der, size_t *der_len, struct err *e)
{
	struct ca_crl_set *set;
	int rc = -1;

	*der = NULL;
	*der_len = 0;
	if ((set = ca_crl_set_new(e)) == NULL)
		return -1;
	if (ca_crl_set_add(set, entries, n, e) == 0)
		rc = ca_crl_set_sign(ca, set, number, this_update,
		    next_update, der, der_len, e);
	ca_crl_set_free(set);
	return rc;
}
