/* Tests of server/scheduler.c: ticks happen, sleeps are clamped, stop is prompt. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "scheduler.h"

struct counter {
	pthread_mutex_t	mu;
	int		calls;
	int64_t		ret;	/* what the tick returns */
};

static int64_t
tick(void *arg)
{
	struct counter *c = arg;
	int64_t r;

	pthread_mutex_lock(&c->mu);
	c->calls++;
	r = c->ret;
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

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wait up to secs for the tick count to reach n. */
static void
wait_calls(struct counter *c, int n, double secs)
{
	double until = now() + secs;

	while (calls(c) < n && now() < until)
		usleep(10000);
}

/* A long sleep does not delay sched_stop(). */
static void
test_stop_is_immediate(void **state)
{
	struct counter c = { PTHREAD_MUTEX_INITIALIZER, 0, 3600 };
	struct sched *s;
	struct err e;
	double t0;

	s = sched_start(tick, &c, &e);
	assert_non_null(s);
	wait_calls(&c, 1, 5);
	assert_int_equal(calls(&c), 1);
	t0 = now();
	sched_stop(s);
	assert_true(now() - t0 < 1.0);
	assert_int_equal(calls(&c), 1);
}

/* A tick returning 0 or less sleeps the minimum, not a busy loop. */
static void
test_min_sleep(void **state)
{
	struct counter c = { PTHREAD_MUTEX_INITIALIZER, 0, -5 };
	struct sched *s;
	struct err e;

	s = sched_start(tick, &c, &e);
	assert_non_null(s);
	wait_calls(&c, 2, 5);
	usleep(300000);
	sched_stop(s);
	/* About 1 s apart: 2 (maybe 3) calls in ~1.3 s, never hundreds. */
	assert_in_range(calls(&c), 2, 3);
}

/* Ticks repeat after the returned number of seconds. */
static void
test_repeats(void **state)
{
	struct counter c = { PTHREAD_MUTEX_INITIALIZER, 0, 1 };
	struct sched *s;
	struct err e;
	double t0 = now();

	s = sched_start(tick, &c, &e);
	assert_non_null(s);
	wait_calls(&c, 3, 10);
	assert_int_equal(calls(&c), 3);
	assert_true(now() - t0 >= 1.9);
	sched_stop(s);
	sched_stop(NULL);
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
