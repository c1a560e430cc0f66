/*
 * Tests for api/throttle.c: the window, the verdicts, address keys
 * (IPv4, IPv4-mapped, IPv6 /64), eviction under many addresses and
 * concurrent use.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "api_priv.h"

static void
key4(const char *s, struct api_thr_key *k)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };

	assert_int_equal(inet_pton(AF_INET, s, &sa.sin_addr), 1);
	assert_int_equal(api_thr_key((struct sockaddr *)&sa, k), 0);
}

static void
key6(const char *s, struct api_thr_key *k)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };

	assert_int_equal(inet_pton(AF_INET6, s, &sa.sin6_addr), 1);
	assert_int_equal(api_thr_key((struct sockaddr *)&sa, k), 0);
}

static void
test_window(void **state)
{
	struct api_throttle *t;
	struct api_thr_key k, other;
	struct err e;
	int64_t wait = -1;

	(void)state;
	t = api_throttle_new(3, 64, &e);
	assert_non_null(t);
	key4("192.0.2.1", &k);
	key4("192.0.2.2", &other);
	assert_int_equal(api_throttle_check(t, &k, 1000), 0);
	assert_int_equal(api_throttle_fail(t, &k, 1000, &wait),
	    API_THR_AUDIT);
	assert_int_equal(wait, 60);
	assert_int_equal(api_throttle_fail(t, &k, 1010, NULL), API_THR_AUDIT);
	assert_int_equal(api_throttle_check(t, &k, 1010), 0);
	/* The third failure reaches the limit: reported once. */
	assert_int_equal(api_throttle_fail(t, &k, 1020, &wait),
	    API_THR_TRIPPED);
	assert_int_equal(wait, 40);
	assert_int_equal(api_throttle_check(t, &k, 1020), 40);
	assert_int_equal(api_throttle_fail(t, &k, 1021, NULL), API_THR_QUIET);
	assert_int_equal(api_throttle_fail(t, &k, 1022, NULL), API_THR_QUIET);
	assert_int_equal(api_throttle_check(t, &k, 1059), 1);
	/* Another address is not affected. */
	assert_int_equal(api_throttle_check(t, &other, 1030), 0);
	/* The window ends a minute after the first failure. */
	assert_int_equal(api_throttle_check(t, &k, 1060), 0);
	assert_int_equal(api_throttle_fail(t, &k, 1060, &wait),
	    API_THR_AUDIT);
	assert_int_equal(wait, 60);
	assert_int_equal(api_throttle_fail(t, &k, 1061, NULL), API_THR_AUDIT);
	assert_int_equal(api_throttle_fail(t, &k, 1062, NULL),
	    API_THR_TRIPPED);
	assert_int_equal(api_throttle_check(t, &k, 1062), 58);
	api_throttle_free(t);
	api_throttle_free(NULL);
}

static void
test_limit_one(void **state)
{
	struct api_throttle *t;
	struct api_thr_key k;
	struct err e;

	(void)state;
	assert_null(api_throttle_new(0, 64, &e));
	assert_int_equal(e.code, ERR_CONFIG);
	t = api_throttle_new(1, 1, &e);
	assert_non_null(t);
	assert_int_equal(api_throttle_capacity(t), 8);
	key4("192.0.2.1", &k);
	assert_int_equal(api_throttle_fail(t, &k, 5, NULL), API_THR_TRIPPED);
	assert_int_equal(api_throttle_check(t, &k, 5), 60);
	api_throttle_free(t);
}

static void
test_keys(void **state)
{
	struct api_thr_key a, b;
	char s[API_THR_ADDR_STR];
	struct sockaddr_un_like {
		sa_family_t fam;
		char path[16];
	} other = { AF_UNIX, "x" };

	(void)state;
	key4("127.0.0.1", &a);
	api_thr_key_str(&a, s);
	assert_string_equal(s, "127.0.0.1");
	/* An IPv4 client seen on a dual-stack socket is the same key. */
	key6("::ffff:127.0.0.1", &b);
	assert_memory_equal(a.b, b.b, sizeof(a.b));
	api_thr_key_str(&b, s);
	assert_string_equal(s, "127.0.0.1");
	/* IPv6: one /64 is one key. */
	key6("2001:db8:1:2::1", &a);
	key6("2001:db8:1:2:ffff:ffff:ffff:ffff", &b);
	assert_memory_equal(a.b, b.b, sizeof(a.b));
	api_thr_key_str(&a, s);
	assert_string_equal(s, "2001:db8:1:2::/64");
	key6("2001:db8:1:3::1", &b);
	assert_memory_not_equal(a.b, b.b, sizeof(a.b));
	key6("::1", &a);
	api_thr_key_str(&a, s);
	assert_string_equal(s, "::/64");
	/* The /64 of ::ffff:0:0/96 neighbours is not an IPv4 key. */
	key6("::fffe:127.0.0.1", &b);
	key4("127.0.0.1", &a);
	assert_memory_not_equal(a.b, b.b, sizeof(a.b));
	key6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", &a);
	api_thr_key_str(&a, s);
	assert_string_equal(s, "ffff:ffff:ffff:ffff::/64");
	assert_int_equal(api_thr_key((struct sockaddr *)(void *)&other, &a),
	    -1);
	assert_int_equal(api_thr_key(NULL, &a), -1);
}

static void
test_ipv6_throttled_by_prefix(void **state)
{
	struct api_throttle *t;
	struct api_thr_key k;
	char addr[64];
	struct err e;

	(void)state;
	t = api_throttle_new(20, 1024, &e);
	assert_non_null(t);
	/* Twenty addresses of one /64, one failure each. */
	for (int i = 1; i <= 20; i++) {
		snprintf(addr, sizeof(addr), "2001:db8:0:7::%x", i);
		key6(addr, &k);
		assert_int_equal(api_throttle_fail(t, &k, 100, NULL),
		    i < 20 ? API_THR_AUDIT : API_THR_TRIPPED);
	}
	key6("2001:db8:0:7:abcd::1", &k);
	assert_int_equal(api_throttle_check(t, &k, 101), 59);
	key6("2001:db8:0:8::1", &k);
	assert_int_equal(api_throttle_check(t, &k, 101), 0);
	api_throttle_free(t);
}

/*
 * Far more addresses than slots: memory stays the table's, the newest
 * addresses are counted, and a throttled address outlives a wave of
 * addresses that fail once each.
 */
static void
test_eviction(void **state)
{
	struct api_throttle *t;
	struct api_thr_key k, bad;
	struct err e;
	size_t cap, kept = 0;

	(void)state;
	t = api_throttle_new(2, 64, &e);
	assert_non_null(t);
	cap = api_throttle_capacity(t);
	assert_true(cap >= 64 && cap <= 128);
	key4("198.51.100.1", &bad);
	assert_int_equal(api_throttle_fail(t, &bad, 10, NULL), API_THR_AUDIT);
	assert_int_equal(api_throttle_fail(t, &bad, 10, NULL),
	    API_THR_TRIPPED);
	for (uint32_t i = 0; i < 100000; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET };

		sa.sin_addr.s_addr = htonl(0x0a000000u + i);
		assert_int_equal(api_thr_key((struct sockaddr *)&sa, &k), 0);
		assert_int_equal(api_throttle_fail(t, &k, 20, NULL),
		    API_THR_AUDIT);
	}
	assert_int_equal(api_throttle_check(t, &bad, 20), 50);
	/* The last addresses seen are still counted. */
	for (uint32_t i = 100000 - 16; i < 100000; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET };

		sa.sin_addr.s_addr = htonl(0x0a000000u + i);
		assert_int_equal(api_thr_key((struct sockaddr *)&sa, &k), 0);
		if (api_throttle_fail(t, &k, 21, NULL) == API_THR_TRIPPED)
			kept++;
	}
	assert_true(kept >= 8);
	/* Expired entries are the first to go. */
	for (uint32_t i = 0; i < 100000; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET };

		sa.sin_addr.s_addr = htonl(0x0b000000u + i);
		assert_int_equal(api_thr_key((struct sockaddr *)&sa, &k), 0);
		assert_int_equal(api_throttle_fail(t, &k, 200, NULL),
		    API_THR_AUDIT);
	}
	assert_int_equal(api_throttle_check(t, &bad, 200), 0);
	/* A table larger than the maximum is cut to it. */
	api_throttle_free(t);
	t = api_throttle_new(2, (size_t)-1, &e);
	assert_non_null(t);
	assert_int_equal(api_throttle_capacity(t), API_THR_MAX_CAPACITY);
	api_throttle_free(t);
}

#define NTHREADS	8
#define NFAILS		5000

struct worker {
	struct api_throttle	*t;
	int			 id;
	unsigned		 tripped;
	unsigned		 audited;
};

static void *
hammer(void *p)
{
	struct worker *w = p;
	struct api_thr_key shared, own;
	char addr[32];

	key4("203.0.113.7", &shared);
	snprintf(addr, sizeof(addr), "203.0.113.%d", 100 + w->id);
	key4(addr, &own);
	for (int i = 0; i < NFAILS; i++) {
		switch (api_throttle_fail(w->t, &shared, 500, NULL)) {
		case API_THR_TRIPPED:
			w->tripped++;
			/* FALLTHROUGH */
		case API_THR_AUDIT:
			w->audited++;
			break;
		case API_THR_QUIET:
			break;
		}
		(void)api_throttle_fail(w->t, &own, 500, NULL);
		(void)api_throttle_check(w->t, &shared, 500);
	}
	return NULL;
}

/* Eight threads on one address: the limit holds exactly, one trip. */
static void
test_concurrency(void **state)
{
	struct worker w[NTHREADS];
	pthread_t th[NTHREADS];
	struct api_throttle *t;
	unsigned tripped = 0, audited = 0;
	struct err e;

	(void)state;
	t = api_throttle_new(20, 256, &e);
	assert_non_null(t);
	for (int i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){ t, i, 0, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, hammer, &w[i]),
		    0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		tripped += w[i].tripped;
		audited += w[i].audited;
	}
	assert_int_equal(tripped, 1);
	assert_int_equal(audited, 20);
	assert_int_equal(api_throttle_check(t, &(struct api_thr_key){ 0 },
	    500), 0);
	api_throttle_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_limit_one),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_ipv6_throttled_by_prefix),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_concurrency),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
