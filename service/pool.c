/*
 * The scheduler's small worker pool (SPEC section 11): njobs jobs run by
 * at most width threads, each taking the next job until none is left;
 * every thread is joined before svc_pool_run() returns.  And the count
 * of rotations in flight in this process (redisca_rotations_in_flight).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "log.h"
#include "svc_int.h"

struct pool {
	void		(*fn)(void *, size_t);
	void		*ctx;
	size_t		 njobs;
	atomic_size_t	 next;
};

static void *
pool_worker(void *arg)
{
	struct pool	*p = arg;
	size_t		 i;

	while ((i = atomic_fetch_add(&p->next, 1)) < p->njobs)
		p->fn(p->ctx, i);
	return NULL;
}

void
svc_pool_run(size_t njobs, int width, void (*fn)(void *, size_t), void *ctx)
{
	struct pool	 p;
	pthread_t	*t = NULL;
	size_t		 nt, started = 0;

	p.fn = fn;
	p.ctx = ctx;
	p.njobs = njobs;
	atomic_init(&p.next, 0);
	if (njobs == 0)
		return;
	nt = width < 1 ? 1 : (size_t)width;
	if (nt > njobs)
		nt = njobs;
	/* One job or no threads: this thread runs them all. */
	if (nt > 1 && (t = calloc(nt, sizeof(*t))) != NULL)
		for (; started < nt; started++)
			if (pthread_create(&t[started], NULL, pool_worker,
			    &p) != 0) {
				log_warn("scheduler: cannot start a worker "
				    "(%zu running)", started);
				break;
			}
	if (started == 0)
		pool_worker(&p);
	for (size_t i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	free(t);
}

void
svc_inflight_enter(struct svc *s)
{
	int_fast64_t now, peak;

	now = atomic_fetch_add(&s->rot_inflight, 1) + 1;
	peak = atomic_load(&s->rot_inflight_peak);
	while (now > peak &&
	    !atomic_compare_exchange_weak(&s->rot_inflight_peak, &peak, now))
		;
}

void
svc_inflight_leave(struct svc *s)
{
	atomic_fetch_sub(&s->rot_inflight, 1);
}

int64_t
svc_rotations_in_flight(struct svc *s)
{
	return atomic_load(&s->rot_inflight);
}

int64_t
svc_rotations_in_flight_peak(struct svc *s)
{
	return atomic_load(&s->rot_inflight_peak);
}
