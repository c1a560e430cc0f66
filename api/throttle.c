/*
 * The failed-authentication throttle (SPEC section 8): failures are
 * counted per source address in windows of API_THR_WINDOW seconds that
 * start at an address's first failure.  The table is a fixed
 * set-associative cache, so memory stays the same however many
 * addresses knock, and each set has its own lock, so two requests only
 * wait on each other when their addresses share a set.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <arpa/inet.h>

#include "api_priv.h"

/* Slots per set: a new address evicts the least useful of these. */
#define THR_WAYS	8

struct thr_slot {
	unsigned char	key[API_THR_KEY_LEN];
	bool		used;
	bool		tripped;	/* limit reached in this window */
	uint32_t	failures;	/* in this window (saturating) */
	int64_t		start;		/* window start, seconds */
	uint64_t	touched;	/* set's clock at the last failure */
};

struct thr_set {
	pthread_mutex_t	mu;
	uint64_t	clock;		/* failures the set has seen */
	struct thr_slot	slot[THR_WAYS];
};

struct api_throttle {
	unsigned	 limit;
	size_t		 nsets;		/* a power of two */
	uint64_t	 seed[2];	/* keys the hash: see set_of() */
	struct thr_set	*sets;		/* [nsets] */
};

int
api_thr_key(const struct sockaddr *sa, struct api_thr_key *k)
{
	static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0xff, 0xff };
	const struct sockaddr_in6 *s6;
	const struct sockaddr_in *s4;

	memset(k, 0, sizeof(*k));
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		s4 = (const struct sockaddr_in *)(const void *)sa;
		memcpy(k->b, v4mapped, sizeof(v4mapped));
		memcpy(k->b + 12, &s4->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family != AF_INET6)
		return -1;
	s6 = (const struct sockaddr_in6 *)(const void *)sa;
	/* An IPv4 client of a dual-stack listener counts as itself. */
	if (memcmp(s6->sin6_addr.s6_addr, v4mapped, sizeof(v4mapped)) == 0) {
		memcpy(k->b, s6->sin6_addr.s6_addr, 16);
		return 0;
	}
	/*
	 * One IPv6 host usually holds a whole /64 and can pick any address
	 * in it; counting per address would let it reset its count at
	 * will, so the /64 is the unit.
	 */
	memcpy(k->b, s6->sin6_addr.s6_addr, 8);
	return 0;
}

void
api_thr_key_str(const struct api_thr_key *k, char out[API_THR_ADDR_STR])
{
	static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0xff, 0xff };
	char buf[INET6_ADDRSTRLEN];

	if (memcmp(k->b, v4mapped, sizeof(v4mapped)) == 0) {
		if (inet_ntop(AF_INET, k->b + 12, buf, sizeof(buf)) == NULL)
			buf[0] = '\0';
		snprintf(out, API_THR_ADDR_STR, "%s", buf);
		return;
	}
	if (inet_ntop(AF_INET6, k->b, buf, sizeof(buf)) == NULL)
		buf[0] = '\0';
	snprintf(out, API_THR_ADDR_STR, "%s/64", buf);
}

/* A 64-bit finaliser (MurmurHash3's fmix64): every input bit mixes in. */
static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/*
 * The set of k.  The random seed keeps an attacker from choosing
 * addresses that all land in one set to evict a throttled entry (it
 * never sees a hash); it is not a cryptographic MAC and need not be.
 */
static struct thr_set *
set_of(struct api_throttle *t, const struct api_thr_key *k)
{
	uint64_t lo, hi, h;

	memcpy(&lo, k->b, 8);
	memcpy(&hi, k->b + 8, 8);
	h = mix64(mix64(lo ^ t->seed[0]) ^ hi ^ t->seed[1]);
	return &t->sets[h & (t->nsets - 1)];
}

struct api_throttle *
api_throttle_new(unsigned limit, size_t capacity, struct err *e)
{
	struct api_throttle *t = NULL, *ret = NULL;
	size_t nsets = 1, i = 0;

	if (limit == 0) {
		err_set(e, ERR_CONFIG, "the throttle limit must be positive");
		return NULL;
	}
	if (capacity > API_THR_MAX_CAPACITY)
		capacity = API_THR_MAX_CAPACITY;
	while (nsets * THR_WAYS < capacity)
		nsets *= 2;
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->sets = calloc(nsets, sizeof(*t->sets))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	t->limit = limit;
	if (getrandom(t->seed, sizeof(t->seed), 0) != sizeof(t->seed)) {
		err_set(e, ERR_INTERNAL, "getrandom: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < nsets; i++)
		if (pthread_mutex_init(&t->sets[i].mu, NULL) != 0) {
			err_set(e, ERR_INTERNAL, "cannot create a mutex");
			goto out;
		}
	t->nsets = nsets;
	ret = t;
	t = NULL;
out:
	if (t != NULL) {
		while (i > 0)
			pthread_mutex_destroy(&t->sets[--i].mu);
		free(t->sets);
		free(t);
	}
	return ret;
}

void
api_throttle_free(struct api_throttle *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nsets; i++)
		pthread_mutex_destroy(&t->sets[i].mu);
	free(t->sets);
	free(t);
}

size_t
api_throttle_capacity(const struct api_throttle *t)
{
	return t->nsets * THR_WAYS;
}

static bool
live(const struct thr_slot *s, int64_t now)
{
	return s->used && now >= s->start &&
	    now - s->start < API_THR_WINDOW;
}

/* The slot holding k in st, or NULL.  Caller holds st->mu. */
static struct thr_slot *
find(struct thr_set *st, const struct api_thr_key *k)
{
	for (size_t i = 0; i < THR_WAYS; i++)
		if (st->slot[i].used &&
		    memcmp(st->slot[i].key, k->b, sizeof(k->b)) == 0)
			return &st->slot[i];
	return NULL;
}

/*
 * The slot a new address takes: a free or expired one, else the least
 * recently failing untripped one, else the least recently failing.
 * Throttled addresses are kept longest: an eviction hands an address a
 * fresh budget of audited failures.
 */
static struct thr_slot *
victim(struct thr_set *st, int64_t now)
{
	struct thr_slot *v = NULL, *s;

	for (size_t i = 0; i < THR_WAYS; i++) {
		s = &st->slot[i];
		if (!live(s, now))
			return s;
		if (v == NULL || (v->tripped && !s->tripped) ||
		    (v->tripped == s->tripped && s->touched < v->touched))
			v = s;
	}
	return v;
}

int64_t
api_throttle_check(struct api_throttle *t, const struct api_thr_key *k,
    int64_t now)
{
	struct thr_set *st = set_of(t, k);
	struct thr_slot *s;
	int64_t wait = 0;

	pthread_mutex_lock(&st->mu);
	s = find(st, k);
	if (s != NULL && live(s, now) && s->failures >= t->limit)
		wait = s->start + API_THR_WINDOW - now;
	pthread_mutex_unlock(&st->mu);
	return wait;
}

enum api_thr_verdict
api_throttle_fail(struct api_throttle *t, const struct api_thr_key *k,
    int64_t now, int64_t *wait)
{
	struct thr_set *st = set_of(t, k);
	enum api_thr_verdict v;
	struct thr_slot *s;

	pthread_mutex_lock(&st->mu);
	if ((s = find(st, k)) == NULL) {
		s = victim(st, now);
		memcpy(s->key, k->b, sizeof(k->b));
		s->used = true;
		s->start = now;
		s->failures = 0;
		s->tripped = false;
	} else if (!live(s, now)) {
		s->start = now;
		s->failures = 0;
		s->tripped = false;
	}
	s->touched = ++st->clock;
	if (s->failures < UINT32_MAX)
		s->failures++;
	if (s->failures < t->limit)
		v = API_THR_AUDIT;
	else if (!s->tripped) {
		s->tripped = true;
		v = API_THR_TRIPPED;
	} else
		v = API_THR_QUIET;
	if (wait != NULL)
		*wait = s->start + API_THR_WINDOW - now;
	pthread_mutex_unlock(&st->mu);
	return v;
}
