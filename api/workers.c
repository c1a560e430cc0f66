/*
 * A fixed pool of threads draining a bounded FIFO of jobs.  The HTTP
 * threads hand the requests that write (and so wait on a durable
 * commit) to it, so that many callers are in flight at once while the
 * HTTP thread pool stays at one thread per core.  A slot is reserved
 * before the job exists (the connection is suspended in between), so
 * pushing a job never fails.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "api_priv.h"

struct api_workers {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv_job;	/* a job was pushed, or stopping */
	api_job_fn	 fn;
	void		**ring;		/* [cap], new */
	size_t		 cap;
	size_t		 head;		/* next job to run */
	size_t		 count;		/* jobs in ring */
	size_t		 reserved;	/* slots promised, not yet pushed */
	size_t		 busy;		/* jobs running */
	bool		 stopping;	/* no new reservations; exit when
					 * empty */
	bool		 joined;
	pthread_t	*threads;	/* [nthreads], new */
	size_t		 nthreads;	/* started */
};

static void *
worker_main(void *arg)
{
	struct api_workers *w = arg;
	void *job;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->count == 0 && !(w->stopping && w->reserved == 0))
			pthread_cond_wait(&w->cv_job, &w->mu);
		if (w->count == 0)
			break;
		job = w->ring[w->head];
		w->head = (w->head + 1) % w->cap;
		w->count--;
		w->busy++;
		pthread_mutex_unlock(&w->mu);
		w->fn(job);
		pthread_mutex_lock(&w->mu);
		w->busy--;
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct api_workers *
api_workers_new(size_t nthreads, size_t qcap, api_job_fn fn, struct err *e)
{
	struct api_workers *w = NULL, *ret = NULL;

	if (nthreads == 0 || qcap == 0 || fn == NULL) {
		err_set(e, ERR_INTERNAL, "a worker pool needs threads, "
		    "a queue and a function");
		goto out;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv_job, NULL);
	w->fn = fn;
	w->cap = qcap;
	w->ring = calloc(qcap, sizeof(*w->ring));
	w->threads = calloc(nthreads, sizeof(*w->threads));
	if (w->ring == NULL || w->threads == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (; w->nthreads < nthreads; w->nthreads++) {
		if (pthread_create(&w->threads[w->nthreads], NULL, worker_main,
		    w) != 0) {
			err_set(e, ERR_INTERNAL, "cannot start worker thread "
			    "%zu of %zu", w->nthreads + 1, nthreads);
			goto out;
		}
	}
	ret = w;
	w = NULL;
out:
	api_workers_free(w);
	return ret;
}

int
api_workers_reserve(struct api_workers *w)
{
	int rc = -1;

	pthread_mutex_lock(&w->mu);
	if (!w->stopping && w->count + w->reserved < w->cap) {
		w->reserved++;
		rc = 0;
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

void
api_workers_push(struct api_workers *w, void *job)
{
	pthread_mutex_lock(&w->mu);
	w->reserved--;
	w->ring[(w->head + w->count) % w->cap] = job;
	w->count++;
	pthread_cond_signal(&w->cv_job);
	pthread_mutex_unlock(&w->mu);
}

void
api_workers_cancel(struct api_workers *w)
{
	pthread_mutex_lock(&w->mu);
	w->reserved--;
	/* A stopping pool may have been waiting for this slot. */
	pthread_cond_broadcast(&w->cv_job);
	pthread_mutex_unlock(&w->mu);
}

size_t
api_workers_pending(struct api_workers *w)
{
	size_t n;

	pthread_mutex_lock(&w->mu);
	n = w->count + w->reserved + w->busy;
	pthread_mutex_unlock(&w->mu);
	return n;
}

void
api_workers_stop(struct api_workers *w)
{
	if (w == NULL || w->joined)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = true;
	pthread_cond_broadcast(&w->cv_job);
	pthread_mutex_unlock(&w->mu);
	for (size_t i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	w->joined = true;
}

void
api_workers_free(struct api_workers *w)
{
	if (w == NULL)
		return;
	api_workers_stop(w);
	pthread_cond_destroy(&w->cv_job);
	pthread_mutex_destroy(&w->mu);
	free(w->threads);
	free(w->ring);
	free(w);
}
