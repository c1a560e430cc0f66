/*
 * Tests of server/scheduler.c: ticks happen, sleeps are clamped, stop
 * is prompt.  Each tick is counted and timed; the tests wait for ticks
 * on a condition variable with a deadline, never for a fixed time.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "scheduler.h"

#define MAX_TIMED	8	/* ticks whose times are kept */

struct counter {
	pthread_mutex_t	mu;
	pthread_cond_t	cv;	/* broadcast at each tick */
	int		calls;
	double		at[MAX_TIMED];	/* monotonic time of each tick */
	int64_t		ret;	/* what the tick returns */
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
counter_init(struct counter *c, int64_t ret)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	c->calls = 0;
	c->ret = ret;
}

static void
counter_destroy(struct counter *c)
{
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
}

static int64_t
tick(void *arg)
{
	struct counter *c = arg;
	int64_t r;

	pthread_mutex_lock(&c->mu);
	if (c->calls < MAX_TIMED)
		c->at[c->calls] = now();
	c->calls++;
	r = c->ret;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return r;
}

static int
calls(struct counter *c)
{
	int n;

	pthread_mutex_lock(&c->mu);
	n = c->calls;
	pthread_mutex_unlock(&c->mu);
	return n;
}

/* Wait up to secs for the tick count to reach n; true when it did. */
static bool
wait_calls(struct counter *c, int n, double secs)
{
	struct timespec until;
	bool reached;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)secs;
	pthread_mutex_lock(&c->mu);
	while (c->calls < n)
		if (pthread_cond_timedwait(&c->cv, &c->mu, &until) != 0)
			break;
	reached = c->calls >= n;
	pthread_mutex_unlock(&c->mu);
	return reached;
}

/* A long sleep does not delay sched_stop(). */
static void
test_stop_is_immediate(void **state)
{
	struct counter c;
	struct sched *s;
	struct err e;
	double t0;

	(void)state;
	counter_init(&c, 3600);
	s = sched_start(tick, &c, &e);
	assert_non_null(s);
	assert_true(wait_calls(&c, 1, 5));
	assert_int_equal(calls(&c), 1);
	t0 = now();
	sched_stop(s);
	assert_true(now() - t0 < 1.0);
	assert_int_equal(calls(&c), 1);
	counter_destroy(&c);
}

/*
 * A tick returning 0 or less sleeps the minimum, not a busy loop: the
 * ticks come SCHED_MIN_SLEEP apart (a busy loop would make thousands).
 */
static void
test_min_sleep(void **state)
{
	struct counter c;
	struct sched *s;
	struct err e;

	(void)state;
	counter_init(&c, -5);
	s = sched_start(tick, &c, &e);
	assert_non_null(s);
	assert_true(wait_calls(&c, 3, 10));
	sched_stop(s);
	for (int i = 1; i < 3; i++)
		assert_true(c.at[i] - c.at[i - 1] >= SCHED_MIN_SLEEP - 0.01);
	counter_destroy(&c);
}

/* Ticks repeat after the returned number of seconds. */
static void
test_repeats(void **state)
{
	struct counter c;
	struct sched *s;
	struct err e;
	double t0 = now();

	(void)state;
	counter_init(&c, 1);
	s = sched_start(tick, &c, &e);
	assert_non_null(s);
	assert_true(wait_calls(&c, 3, 10));
	assert_int_equal(calls(&c), 3);
	assert_true(now() - t0 >= 1.9);
	sched_stop(s);
	sched_stop(NULL);
	counter_destroy(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stop_is_immediate),
		cmocka_unit_test(test_min_sleep),
		cmocka_unit_test(test_repeats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
