/*
 * The scheduler thread: tick, then sleep on a CLOCK_MONOTONIC condition
 * variable until the next tick is due or sched_stop() signals it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scheduler.h"

struct sched {
	pthread_t	 thread;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;	/* signalled by sched_stop() */
	bool		 stop;	/* under mu */
	sched_fn	 fn;
	void		*arg;	/* borrowed */
};

static void *
sched_main(void *p)
{
	struct sched *s = p;

	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		struct timespec until;
		int64_t secs;

		/* The tick runs unlocked so sched_stop() is never blocked
		 * by anything but the tick itself. */
		pthread_mutex_unlock(&s->mu);
		secs = s->fn(s->arg);
		if (secs < SCHED_MIN_SLEEP)
			secs = SCHED_MIN_SLEEP;
		if (secs > SCHED_MAX_SLEEP)
			secs = SCHED_MAX_SLEEP;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += (time_t)secs;
		pthread_mutex_lock(&s->mu);
		while (!s->stop) {
			int rc = pthread_cond_timedwait(&s->cv, &s->mu,
			    &until);

			if (rc == ETIMEDOUT)
				break;
		}
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

struct sched *
sched_start(sched_fn fn, void *arg, struct err *e)
{
	struct sched *s = NULL, *ret = NULL;
	pthread_condattr_t ca;
	bool have_mu = false, have_cv = false, have_ca = false;
	int rc;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	s->fn = fn;
	s->arg = arg;
	if (pthread_mutex_init(&s->mu, NULL) != 0) {
		err_set(e, ERR_INTERNAL, "cannot create a mutex");
		goto out;
	}
	have_mu = true;
	if (pthread_condattr_init(&ca) != 0) {
		err_set(e, ERR_INTERNAL, "cannot create a condition");
		goto out;
	}
	have_ca = true;
	/* Sleeps are measured on the monotonic clock: setting the wall
	 * clock must not stall the CRL refresh. */
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&s->cv, &ca) != 0) {
		err_set(e, ERR_INTERNAL, "cannot create a condition");
		goto out;
	}
	have_cv = true;
	if ((rc = pthread_create(&s->thread, NULL, sched_main, s)) != 0) {
		err_set(e, ERR_INTERNAL, "cannot start the scheduler "
		    "thread: %s", strerror(rc));
		goto out;
	}
	ret = s;
	s = NULL;
out:
	if (have_ca)
		pthread_condattr_destroy(&ca);
	if (s != NULL) {
		if (have_cv)
			pthread_cond_destroy(&s->cv);
		if (have_mu)
			pthread_mutex_destroy(&s->mu);
		free(s);
	}
	return ret;
}

void
sched_stop(struct sched *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
