/*
 * The scheduler thread of `redis-ca serve`: it calls a tick function
 * (svc_tick() in the daemon) and sleeps for the number of seconds the
 * tick returns, on a condition variable so that sched_stop() wakes it at
 * once instead of waiting out the sleep.
 */
#ifndef RCA_SERVER_SCHED_H
#define RCA_SERVER_SCHED_H

#include <stdint.h>

#include "err.h"

/* Sleeps are clamped to [SCHED_MIN_SLEEP, SCHED_MAX_SLEEP] seconds. */
#define SCHED_MIN_SLEEP	1
#define SCHED_MAX_SLEEP	3600

/* One round of periodic work; returns the seconds until the next. */
typedef int64_t	(*sched_fn)(void *arg);

struct sched;

/*
 * Start the thread; it calls fn(arg) right away and then after each
 * sleep.  arg is borrowed and must outlive the scheduler.  Returns a new
 * scheduler (sched_stop()), or NULL.  Errors: ERR_INTERNAL.
 */
struct sched *sched_start(sched_fn fn, void *arg, struct err *e);

/*
 * Wake the thread, wait for a running fn() to return, join and free.
 * NULL is fine.  Call from one thread only.
 */
void	sched_stop(struct sched *s);

#endif
