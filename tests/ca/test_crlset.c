/*
 * Tests for ca/crlset.c: the incremental CRL against the reference,
 * OpenSSL's X509_CRL built from scratch over the same entries
 * (crl_ref.c: differential),
 * and ca_crl_pem() against OpenSSL's own PEM writer.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "crl_ref.h"
#include "helpers.h"

#include <openssl/bn.h>
#include <openssl/pem.h>

struct fx {
	struct th_fx	 x;
	X509		*cax;
};

/* The model of a set: its entries, serials normalised, no duplicates. */
struct model {
	struct ca_crl_entry	*v;
	size_t			 n;
	size_t			 cap;
};

static uint64_t rng_state;

static uint64_t
rng(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static size_t
rng_below(size_t n)
{
	return n == 0 ? 0 : (size_t)(rng() % n);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	th_fx_init(&f->x, 30, "http://127.0.0.1:8080");
	f->cax = th_x509(ca_cert_pem(f->x.ca));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	X509_free(f->cax);
	th_fx_clear(&f->x);
	free(f);
	return 0;
}

/* One TLV at *p (before end): its start and total length; *p after it. */
static const unsigned char *
tlv(const unsigned char **p, const unsigned char *end, size_t *total)
{
	const unsigned char *q = *p, *start = *p;
	size_t l = 0, n;

	assert_true(end - q >= 2);
	if (q[1] < 0x80) {
		l = q[1];
		q += 2;
	} else {
		n = q[1] & 0x7f;
		assert_true(n >= 1 && n <= 4);
		for (q += 2; n > 0; n--)
			l = l << 8 | *q++;
	}
	assert_true((size_t)(end - q) >= l);
	*p = q + l;
	*total = (size_t)(*p - start);
	return start;
}

/*
 * Split a CRL's DER into its TBSCertList and signatureAlgorithm (both
 * TLVs, borrowed from der), checking the outer SEQUENCE spans it all.
 */
static void
crl_split(const unsigned char *der, size_t len, const unsigned char **tbs,
    size_t *tbs_len, const unsigned char **alg, size_t *alg_len)
{
	const unsigned char *p = der, *end = der + len;
	size_t l;

	assert_int_equal(der[0], 0x30);
	(void)tlv(&p, end, &l);
	assert_int_equal(l, len);
	p = der + (der[1] < 0x80 ? 2 : 2 + (der[1] & 0x7f));
	*tbs = tlv(&p, end, tbs_len);
	*alg = tlv(&p, end, alg_len);
	assert_int_equal(*p, 0x03);
	(void)tlv(&p, end, &l);
	assert_ptr_equal(p, end);
}

/*
 * The differential check: set signed vs crl_ref_build() over the model's
 * entries (handed over in a shuffled order): the same TBSCertList and
 * signature algorithm bytes, both signatures verify, the same entries
 * in the same order, as many as the model has.
 */
static void
check_same(const struct ca *ca, X509 *cax, const struct ca_crl_set *set,
    struct model *m, uint64_t number, int64_t tu, int64_t nu)
{
	unsigned char *d1 = NULL, *d2 = NULL;
	const unsigned char *t1, *t2, *a1, *a2;
	size_t l1 = 0, l2 = 0, tl1, tl2, al1, al2;
	STACK_OF(X509_REVOKED) *r1, *r2;
	X509_CRL *c1, *c2;
	struct err e;

	for (size_t i = m->n; i > 1; i--) {
		size_t j = rng_below(i);
		struct ca_crl_entry t = m->v[i - 1];

		m->v[i - 1] = m->v[j];
		m->v[j] = t;
	}
	assert_int_equal(ca_crl_set_count(set), m->n);
	if (ca_crl_set_sign(ca, set, number, tu, nu, &d1, &l1, &e) != 0)
		fail_msg("ca_crl_set_sign: %s", e.msg);
	if (crl_ref_build(ca, m->v, m->n, number, tu, nu, &d2, &l2, &e) != 0)
		fail_msg("crl_ref_build: %s", e.msg);
	crl_split(d1, l1, &t1, &tl1, &a1, &al1);
	crl_split(d2, l2, &t2, &tl2, &a2, &al2);
	assert_int_equal(tl1, tl2);
	assert_memory_equal(t1, t2, tl1);
	assert_int_equal(al1, al2);
	assert_memory_equal(a1, a2, al1);
	c1 = th_crl_parse(d1, l1);
	c2 = th_crl_parse(d2, l2);
	assert_int_equal(X509_CRL_verify(c1, X509_get0_pubkey(cax)), 1);
	assert_int_equal(X509_CRL_verify(c2, X509_get0_pubkey(cax)), 1);
	r1 = X509_CRL_get_REVOKED(c1);
	r2 = X509_CRL_get_REVOKED(c2);
	assert_int_equal(sk_X509_REVOKED_num(r1), sk_X509_REVOKED_num(r2));
	assert_int_equal(m->n == 0 ? -1 : (int)m->n, sk_X509_REVOKED_num(r1));
	for (int i = 0; i < sk_X509_REVOKED_num(r1); i++) {
		X509_REVOKED *x = sk_X509_REVOKED_value(r1, i);
		X509_REVOKED *y = sk_X509_REVOKED_value(r2, i);

		assert_int_equal(ASN1_INTEGER_cmp(
		    X509_REVOKED_get0_serialNumber(x),
		    X509_REVOKED_get0_serialNumber(y)), 0);
	}
	X509_CRL_free(c1);
	X509_CRL_free(c2);
	free(d1);
	free(d2);
}

/* s without leading zeros (one "0" stays), lowercase, into out. */
static void
norm(const char *s, char out[RCA_SERIAL_HEX_MAX + 1])
{
	size_t n = strlen(s), i, j = 0;

	/* The bound on j also lets GCC -O3 see that out cannot overflow. */
	assert_true(n <= RCA_SERIAL_HEX_MAX);
	for (i = 0; i + 1 < n && s[i] == '0'; i++)
		;
	for (; i < n && j < RCA_SERIAL_HEX_MAX; i++)
		out[j++] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] + 32 :
		    s[i]);
	out[j] = '\0';
}

static ssize_t
model_find(const struct model *m, const char *serial)
{
	char a[RCA_SERIAL_HEX_MAX + 1];

	norm(serial, a);
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->v[i].serial, a) == 0)
			return (ssize_t)i;
	return -1;
}

/* Add en as the set does: kept when its serial is new. */
static void
model_add(struct model *m, const struct ca_crl_entry *en)
{
	if (model_find(m, en->serial) >= 0)
		return;
	if (m->n == m->cap) {
		m->cap = m->cap == 0 ? 64 : 2 * m->cap;
		m->v = realloc(m->v, m->cap * sizeof(*m->v));
		assert_non_null(m->v);
	}
	m->v[m->n] = *en;
	norm(en->serial, m->v[m->n].serial);
	m->n++;
}

static const int reasons[] = { 0, 1, 2, 3, 4, 5, 6, 8, 9, 10 };

/*
 * A random serial: 1 to 40 hex digits, sometimes with the high bit set
 * (a sign octet in DER), leading zeros, capitals, or just zero.
 */
static void
rand_serial(char out[RCA_SERIAL_HEX_MAX + 1])
{
	static const char dig[] = "0123456789abcdef";
	size_t n = 1 + rng_below(RCA_SERIAL_HEX_MAX), z = 0;

	if (rng_below(20) == 0) {
		strcpy(out, rng_below(2) ? "0" : "000");
		return;
	}
	if (rng_below(4) == 0 && n > 2)
		z = 1 + rng_below(n / 2);
	for (size_t i = 0; i < n; i++)
		out[i] = i < z ? '0' : dig[rng_below(16)];
	if (z < n && out[z] == '0')
		out[z] = '1';
	if (rng_below(3) == 0)
		out[z] = dig[8 + rng_below(8)];
	if (rng_below(4) == 0)
		for (size_t i = 0; i < n; i++)
			if (out[i] >= 'a')
				out[i] = (char)(out[i] - 32);
	out[n] = '\0';
}

static void
rand_entry(struct ca_crl_entry *en)
{
	/* 1970, 2049/2050, 1949/1950, 1969, 9999, 2100. */
	static const int64_t times[] = { 0, 2524607999, 2524608000,
	    1700000000, 4102444800, -631152001, -631152000, -1,
	    253402300799 };

	rand_serial(en->serial);
	en->reason = reasons[rng_below(sizeof(reasons) / sizeof(*reasons))];
	en->revoked_at = rng_below(3) == 0 ?
	    times[rng_below(sizeof(times) / sizeof(*times))] :
	    (int64_t)rng_below(4102444800);
}

/*
 * A batch of k entries: new ones, serials already in the model (as
 * written differently, with another date and reason) and repeats
 * inside the batch.
 */
static void
rand_batch(const struct model *m, struct ca_crl_entry *b, size_t k)
{
	for (size_t i = 0; i < k; i++) {
		rand_entry(&b[i]);
		if (m->n > 0 && rng_below(5) == 0) {
			const char *s = m->v[rng_below(m->n)].serial;

			b[i].serial[0] = '0';
			b[i].serial[1] = '\0';
			if (strlen(s) == RCA_SERIAL_HEX_MAX)
				b[i].serial[0] = '\0';
			strcat(b[i].serial, s);
		}
		else if (i > 0 && rng_below(6) == 0)
			strcpy(b[i].serial, b[rng_below(i)].serial);
	}
}

/* Remove r random entries of the model from both, and some absent. */
static void
rand_removes(struct ca_crl_set *set, struct model *m, size_t r)
{
	char s[RCA_SERIAL_HEX_MAX + 2];

	for (size_t i = 0; i < r && m->n > 0; i++) {
		size_t j = rng_below(m->n);

		snprintf(s, sizeof(s), "%s%s", rng_below(2) ? "0" : "",
		    m->v[j].serial);
		if (strlen(s) > RCA_SERIAL_HEX_MAX)
			strcpy(s, m->v[j].serial);
		assert_int_equal(ca_crl_set_remove(set, s), 1);
		m->v[j] = m->v[--m->n];
		assert_int_equal(ca_crl_set_remove(set, s), 0);
	}
	rand_serial(s);
	assert_int_equal(ca_crl_set_remove(set, s), model_find(m, s) >= 0);
	if (model_find(m, s) >= 0)
		m->v[model_find(m, s)] = m->v[--m->n];
	assert_int_equal(ca_crl_set_remove(set, "xyz"), 0);
	assert_int_equal(ca_crl_set_remove(set, ""), 0);
	assert_int_equal(ca_crl_set_remove(set, NULL), 0);
}

/* Random rounds of batches and removals, compared after each. */
static void
test_crlset_differential(void **state)
{
	struct fx *f = *state;
	struct ca_crl_entry batch[64];
	struct model m = { NULL, 0, 0 };
	struct ca_crl_set *set;
	struct err e;

	for (uint64_t seed = 1; seed <= 6; seed++) {
		rng_state = 0x9e3779b97f4a7c15ull * seed;
		assert_non_null(set = ca_crl_set_new(&e));
		m.n = 0;
		check_same(f->x.ca, f->cax, set, &m, 1, 1800000000, 1800003600);
		for (int round = 0; round < 25; round++) {
			size_t k = round % 7 == 0 ? 1 : rng_below(64);

			rand_batch(&m, batch, k);
			if (ca_crl_set_add(set, batch, k, &e) != 0)
				fail_msg("ca_crl_set_add: %s", e.msg);
			for (size_t i = 0; i < k; i++)
				model_add(&m, &batch[i]);
			check_same(f->x.ca, f->cax, set, &m, round + 2,
			    1800000000 + round, 1800086400 + round);
			if (round % 3 == 2)
				rand_removes(set, &m, rng_below(m.n / 4 + 2));
		}
		/* Down to one entry, then none: the list is left out. */
		rand_removes(set, &m, m.n > 0 ? m.n - 1 : 0);
		check_same(f->x.ca, f->cax, set, &m, 1ull << 40, 2524608000,
		    2524694400);
		rand_removes(set, &m, m.n);
		check_same(f->x.ca, f->cax, set, &m, 3, 2524608000, 2524694400);
		ca_crl_set_free(set);
	}
	free(m.v);
	ca_crl_set_free(NULL);
	assert_int_equal(ca_crl_set_count(NULL), 0);
}

/* Serials at the edges of their DER forms, one batch each. */
static void
test_crlset_edges(void **state)
{
	struct fx *f = *state;
	static const char *serials[] = { "0", "1", "7f", "80", "ff", "100",
	    "0080", "7fff", "8000", "ffff", "00ff", "10000",
	    "7fffffffffffffffffffffffffffffffffffffff",
	    "8000000000000000000000000000000000000000",
	    "ffffffffffffffffffffffffffffffffffffffff",
	    "0000000000000000000000000000000000000001" };
	size_t ns = sizeof(serials) / sizeof(*serials);
	struct model m = { NULL, 0, 0 };
	struct ca_crl_entry en = { "", 1800000000, 1 };
	struct ca_crl_set *set;
	struct err e;

	assert_non_null(set = ca_crl_set_new(&e));
	for (size_t i = ns; i > 0; i--) {
		strcpy(en.serial, serials[i - 1]);
		en.reason = reasons[i % 10];
		assert_int_equal(ca_crl_set_add(set, &en, 1, &e), 0);
		model_add(&m, &en);
		check_same(f->x.ca, f->cax, set, &m, i, 1800000000, 1800000001);
	}
	assert_int_equal(ca_crl_set_remove(set, "0"), 1);
	assert_int_equal(ca_crl_set_remove(set, "000"), 0);
	assert_int_equal(ca_crl_set_remove(set, "FF"), 1);
	assert_int_equal(ca_crl_set_remove(set, "0ff"), 0);
	m.v[model_find(&m, "0")] = m.v[--m.n];
	m.v[model_find(&m, "ff")] = m.v[--m.n];
	check_same(f->x.ca, f->cax, set, &m, 9, 1800000000, 1800000001);
	/* An empty batch changes nothing. */
	assert_int_equal(ca_crl_set_add(set, NULL, 0, &e), 0);
	check_same(f->x.ca, f->cax, set, &m, 9, 1800000000, 1800000001);
	ca_crl_set_free(set);
	free(m.v);
}

/* 10,000 entries added in ten batches, removals, one comparison. */
static void
test_crlset_10k(void **state)
{
	struct fx *f = *state;
	struct model m = { NULL, 0, 0 };
	struct ca_crl_entry *b = calloc(1000, sizeof(*b));
	struct ca_crl_set *set;
	struct err e;

	assert_non_null(b);
	assert_non_null(set = ca_crl_set_new(&e));
	rng_state = 12345;
	m.cap = 10000;
	m.v = calloc(m.cap, sizeof(*m.v));
	assert_non_null(m.v);
	for (size_t k = 0; k < 10; k++) {
		for (size_t i = 0; i < 1000; i++) {
			uint64_t hi = rng() >> rng_below(64);

			rand_entry(&b[i]);
			/* Unique: the low 20 bits count. */
			if (hi == 0)
				snprintf(b[i].serial, sizeof(b[i].serial),
				    "%05zx", k * 1000 + i);
			else
				snprintf(b[i].serial, sizeof(b[i].serial),
				    "%llx%05zx", (unsigned long long)hi,
				    k * 1000 + i);
			m.v[m.n] = b[i];
			norm(b[i].serial, m.v[m.n++].serial);
		}
		assert_int_equal(ca_crl_set_add(set, b, 1000, &e), 0);
	}
	check_same(f->x.ca, f->cax, set, &m, 77, 1800000000, 1800604800);
	for (size_t i = 0; i < 100; i++) {
		size_t j = rng_below(m.n);

		assert_int_equal(ca_crl_set_remove(set, m.v[j].serial), 1);
		m.v[j] = m.v[--m.n];
	}
	assert_int_equal(ca_crl_set_add(set, m.v, 50, &e), 0);
	check_same(f->x.ca, f->cax, set, &m, 78, 1800000000, 1800604800);
	ca_crl_set_free(set);
	free(m.v);
	free(b);
}

/* The TBSCertList the set signs now (new), for before/after checks. */
static unsigned char *
tbs_now(const struct ca *ca, const struct ca_crl_set *set, size_t *len)
{
	unsigned char *der = NULL, *out;
	const unsigned char *t, *a;
	size_t l = 0, al;
	struct err e;

	assert_int_equal(ca_crl_set_sign(ca, set, 5, 1800000000, 1800000100,
	    &der, &l, &e), 0);
	crl_split(der, l, &t, len, &a, &al);
	out = malloc(*len);
	assert_non_null(out);
	memcpy(out, t, *len);
	free(der);
	return out;
}

/* A refused batch leaves the set as it was; so does a bad signing. */
static void
test_crlset_failure_unchanged(void **state)
{
	struct fx *f = *state;
	struct ca_crl_entry good[3] = { { "a1", 1800000000, 1 },
	    { "b2", 1800000000, 4 }, { "c3", 1800000000, 5 } };
	static const struct { const char *serial; int reason; } bad[] = {
		{ "xyz", 1 }, { "", 1 }, { "01", 7 }, { "01", 11 },
		{ "01", -1 }, { "g0", 1 }, { "-1", 2 },
	};
	struct ca_crl_entry batch[4];
	unsigned char *before, *after, *der = NULL;
	size_t lb, la, dl = 0;
	struct ca_crl_set *set;
	struct err e;

	assert_non_null(set = ca_crl_set_new(&e));
	assert_int_equal(ca_crl_set_add(set, good, 1, &e), 0);
	before = tbs_now(f->x.ca, set, &lb);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		memcpy(batch, &good[1], 2 * sizeof(*good));
		batch[2] = good[0];
		snprintf(batch[3].serial, sizeof(batch[3].serial), "%s",
		    bad[i].serial);
		batch[3].reason = bad[i].reason;
		batch[3].revoked_at = 1800000000;
		e.code = ERR_OK;
		assert_int_equal(ca_crl_set_add(set, batch, 4, &e), -1);
		assert_int_equal(e.code, ERR_INVALID_REQUEST);
		assert_int_equal(ca_crl_set_count(set), 1);
		after = tbs_now(f->x.ca, set, &la);
		assert_int_equal(la, lb);
		assert_memory_equal(after, before, lb);
		free(after);
	}
	assert_int_equal(ca_crl_set_sign(f->x.ca, set, 1, 1800000000,
	    1800000000, &der, &dl, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_null(der);
	assert_int_equal(dl, 0);
	assert_int_equal(ca_crl_set_add(set, good, 3, &e), 0);
	assert_int_equal(ca_crl_set_count(set), 3);
	free(before);
	ca_crl_set_free(set);
}

/* P-384 and RSA CAs: the same TBS, the right algorithm, it verifies. */
static void
test_crlset_p384_and_rsa(void **state)
{
	static const struct {
		enum key_type	t;
		int		nid;
	} cas[] = {
		{ KEY_EC_P384, NID_ecdsa_with_SHA384 },
		{ KEY_RSA_3072, NID_sha256WithRSAEncryption },
	};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		char *dir = th_tmpdir();
		struct ca *ca = th_ca(dir, cas[i].t, 30, NULL);
		X509 *cax = th_x509(ca_cert_pem(ca));
		struct model m = { NULL, 0, 0 };
		struct ca_crl_entry b[40];
		struct ca_crl_set *set;
		unsigned char *der = NULL;
		size_t len = 0;
		X509_CRL *crl;
		struct err e;

		rng_state = 777 + i;
		assert_non_null(set = ca_crl_set_new(&e));
		rand_batch(&m, b, 40);
		assert_int_equal(ca_crl_set_add(set, b, 40, &e), 0);
		for (size_t j = 0; j < 40; j++)
			model_add(&m, &b[j]);
		check_same(ca, cax, set, &m, 7, 1800000000, 1800086400);
		assert_int_equal(ca_crl_set_sign(ca, set, 7, 1800000000,
		    1800086400, &der, &len, &e), 0);
		crl = th_crl_parse(der, len);
		assert_int_equal(X509_CRL_get_signature_nid(crl), cas[i].nid);
		X509_CRL_free(crl);
		free(der);
		ca_crl_set_free(set);
		free(m.v);
		X509_free(cax);
		ca_free(ca);
		th_rmrf(dir);
		free(dir);
	}
}

struct signer {
	const struct ca		*ca;
	const struct ca_crl_set	*set;
	const unsigned char	*tbs;	/* the expected TBSCertList */
	size_t			 tbs_len;
	int			 bad;
};

static void *
signer_run(void *arg)
{
	struct signer *s = arg;

	for (int i = 0; i < 20; i++) {
		unsigned char *der = NULL;
		const unsigned char *t, *a;
		size_t len = 0, tl, al;
		struct err e;

		if (ca_crl_set_sign(s->ca, s->set, 5, 1800000000, 1800000100,
		    &der, &len, &e) != 0) {
			s->bad = 1;
			return NULL;
		}
		crl_split(der, len, &t, &tl, &a, &al);
		if (tl != s->tbs_len || memcmp(t, s->tbs, tl) != 0)
			s->bad = 1;
		free(der);
	}
	return NULL;
}

/* Threads signing one set (and one CA) at once all get the same CRL. */
static void
test_crlset_threads(void **state)
{
	struct fx *f = *state;
	struct ca_crl_entry b[500];
	struct model m = { NULL, 0, 0 };
	struct signer s[4];
	pthread_t th[4];
	struct ca_crl_set *set;
	unsigned char *tbs;
	size_t tl;
	struct err e;

	rng_state = 99;
	assert_non_null(set = ca_crl_set_new(&e));
	rand_batch(&m, b, 500);
	assert_int_equal(ca_crl_set_add(set, b, 500, &e), 0);
	tbs = tbs_now(f->x.ca, set, &tl);
	for (int i = 0; i < 4; i++) {
		s[i] = (struct signer){ f->x.ca, set, tbs, tl, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, signer_run,
		    &s[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(s[i].bad, 0);
	}
	free(tbs);
	ca_crl_set_free(set);
}

/* ca_crl_pem(der) must equal PEM_write_bio_X509_CRL's output. */
static void
pem_check(const char *dir, const unsigned char *der, size_t len)
{
	X509_CRL *crl = th_crl_parse(der, len);
	BIO *b = BIO_new(BIO_s_mem());
	char *pem, *path, *ref;
	struct err e;
	long rl;

	assert_non_null(b);
	assert_int_equal(PEM_write_bio_X509_CRL(b, crl), 1);
	rl = BIO_get_mem_data(b, &ref);
	pem = ca_crl_pem(der, len, &e);
	assert_non_null(pem);
	assert_int_equal(strlen(pem), (size_t)rl);
	assert_memory_equal(pem, ref, (size_t)rl);
	/* openssl crl accepts it and its signature by the CA. */
	path = th_path(dir, "crl.pem");
	th_write(path, pem, 0600);
	assert_int_equal(th_sh("openssl crl -in '%s' -CAfile '%s/ca.crt' "
	    "-noout 2>/dev/null", path, dir), 0);
	free(path);
	free(pem);
	BIO_free(b);
	X509_CRL_free(crl);
}

static void
test_crlset_pem(void **state)
{
	struct fx *f = *state;
	static const size_t sizes[] = { 0, 1, 2, 3, 5, 8, 13, 100, 3000 };
	struct ca_crl_entry *b = calloc(3000, sizeof(*b));
	struct model m = { NULL, 0, 0 };
	unsigned char *der = NULL;
	size_t len = 0;
	struct ca_crl_set *set;
	struct err e;

	assert_non_null(b);
	rng_state = 4242;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
		assert_non_null(set = ca_crl_set_new(&e));
		rand_batch(&m, b, sizes[i]);
		assert_int_equal(ca_crl_set_add(set, b, sizes[i], &e), 0);
		assert_int_equal(ca_crl_set_sign(f->x.ca, set, i, 1800000000,
		    1800000000 + 86400, &der, &len, &e), 0);
		pem_check(f->x.dir, der, len);
		/* Not a CRL: cut short, one byte more, a certificate. */
		assert_null(ca_crl_pem(der, len - 1, &e));
		assert_int_equal(e.code, ERR_CRYPTO);
		der = realloc(der, len + 1);
		der[len] = 0;
		assert_null(ca_crl_pem(der, len + 1, &e));
		free(der);
		ca_crl_set_free(set);
	}
	assert_null(ca_crl_pem(NULL, 0, &e));
	assert_null(ca_crl_pem((const unsigned char *)"junk", 4, &e));
	der = NULL;
	assert_true((len = (size_t)i2d_X509(f->cax, &der)) > 0);
	assert_null(ca_crl_pem(der, len, &e));
	OPENSSL_free(der);
	free(m.v);
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crlset_differential),
		cmocka_unit_test(test_crlset_edges),
		cmocka_unit_test(test_crlset_10k),
		cmocka_unit_test(test_crlset_failure_unchanged),
		cmocka_unit_test(test_crlset_p384_and_rsa),
		cmocka_unit_test(test_crlset_pem),
		cmocka_unit_test(test_crlset_threads),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
