/*
 * Tests of api/workers.c: the bounded worker pool that runs the HTTP
 * routes that write.  Every job runs exactly once, jobs run in
 * parallel, a full queue refuses a reservation, a cancelled slot is
 * given back, and stopping runs what was queued before joining.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "api_priv.h"
#include "twait.h"

/* A gate the jobs wait at, and counters of what ran. */
struct gate {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	bool		 open;
	int		 waiting;	/* jobs blocked at the gate */
	int		 peak;		/* most jobs running at once */
	int		 running;
};

static struct gate g;
static _Atomic int ran[256];

static void
gate_reset(bool open)
{
	pthread_mutex_lock(&g.mu);
	g.open = open;
	g.waiting = g.peak = g.running = 0;
	pthread_mutex_unlock(&g.mu);
	for (size_t i = 0; i < sizeof(ran) / sizeof(ran[0]); i++)
		atomic_store(&ran[i], 0);
}

static void
gate_open(void)
{
	pthread_mutex_lock(&g.mu);
	g.open = true;
	pthread_cond_broadcast(&g.cv);
	pthread_mutex_unlock(&g.mu);
}

/* Wait until n jobs are blocked at the gate (5 s at most). */
static void
gate_wait_for(int n)
{
	int64_t deadline = tw_mono_ms() + 5000;
	int waiting = 0;

	for (;;) {
		pthread_mutex_lock(&g.mu);
		waiting = g.waiting;
		pthread_mutex_unlock(&g.mu);
		if (waiting >= n || tw_mono_ms() >= deadline)
			break;
		usleep(1000);
	}
	assert_int_equal(waiting, n);
}

/* job is an index into ran[] (cast through intptr_t). */
static void
job(void *arg)
{
	intptr_t i = (intptr_t)arg;

	pthread_mutex_lock(&g.mu);
	g.running++;
	if (g.running > g.peak)
		g.peak = g.running;
	g.waiting++;
	while (!g.open)
		pthread_cond_wait(&g.cv, &g.mu);
	g.waiting--;
	g.running--;
	pthread_mutex_unlock(&g.mu);
	atomic_fetch_add(&ran[i], 1);
}

static void
push(struct api_workers *w, intptr_t i)
{
	assert_int_equal(api_workers_reserve(w), 0);
	api_workers_push(w, (void *)i);
}

static void
test_every_job_once(void **state)
{
	struct api_workers *w;
	struct err e;

	(void)state;
	gate_reset(true);
	w = api_workers_new(4, 256, job, &e);
	assert_non_null(w);
	for (intptr_t i = 0; i < 200; i++)
		push(w, i);
	api_workers_free(w);
	for (int i = 0; i < 200; i++)
		assert_int_equal(atomic_load(&ran[i]), 1);
	assert_int_equal(atomic_load(&ran[200]), 0);
}

static void
test_parallel(void **state)
{
	struct api_workers *w;
	struct err e;

	(void)state;
	gate_reset(false);
	w = api_workers_new(8, 16, job, &e);
	assert_non_null(w);
	for (intptr_t i = 0; i < 8; i++)
		push(w, i);
	/* All eight wait at once: each has its own thread. */
	gate_wait_for(8);
	assert_int_equal(api_workers_pending(w), 8);
	gate_open();
	api_workers_free(w);
	assert_int_equal(g.peak, 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(atomic_load(&ran[i]), 1);
}

static void
test_full_queue(void **state)
{
	struct api_workers *w;
	struct err e;

	(void)state;
	gate_reset(false);
	w = api_workers_new(1, 2, job, &e);
	assert_non_null(w);
	push(w, 0);
	gate_wait_for(1);	/* job 0 runs: the queue is empty again */
	push(w, 1);
	assert_int_equal(api_workers_reserve(w), 0);
	/* Two slots: one queued, one reserved.  A third is refused. */
	assert_int_equal(api_workers_reserve(w), -1);
	assert_int_equal(api_workers_pending(w), 3);
	api_workers_cancel(w);
	assert_int_equal(api_workers_pending(w), 2);
	push(w, 2);
	assert_int_equal(api_workers_reserve(w), -1);
	gate_open();
	api_workers_free(w);
	for (int i = 0; i < 3; i++)
		assert_int_equal(atomic_load(&ran[i]), 1);
}

/* Stopping runs the queued jobs, then refuses new ones. */
static void
test_stop_drains(void **state)
{
	struct api_workers *w;
	struct err e;

	(void)state;
	gate_reset(false);
	w = api_workers_new(2, 64, job, &e);
	assert_non_null(w);
	for (intptr_t i = 0; i < 50; i++)
		push(w, i);
	gate_wait_for(2);
	gate_open();
	api_workers_stop(w);
	for (int i = 0; i < 50; i++)
		assert_int_equal(atomic_load(&ran[i]), 1);
	assert_int_equal(api_workers_pending(w), 0);
	assert_int_equal(api_workers_reserve(w), -1);
	api_workers_stop(w);
	api_workers_free(w);
	api_workers_free(NULL);
}

static void
test_bad_arguments(void **state)
{
	struct err e;

	(void)state;
	assert_null(api_workers_new(0, 4, job, &e));
	assert_int_equal(e.code, ERR_INTERNAL);
	assert_null(api_workers_new(2, 0, job, &e));
	assert_null(api_workers_new(2, 4, NULL, &e));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_job_once),
		cmocka_unit_test(test_parallel),
		cmocka_unit_test(test_full_queue),
		cmocka_unit_test(test_stop_drains),
		cmocka_unit_test(test_bad_arguments),
	};

	pthread_mutex_init(&g.mu, NULL);
	pthread_cond_init(&g.cv, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
