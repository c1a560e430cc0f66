/*
 * When the periodic work runs: the CRL's refresh (at start-up and on
 * every tick of the scheduler thread), the audit retention pass, and
 * the nodes' rotation pass (schedule_nodes.c).
 */
#include <pthread.h>

#include "log.h"
#include "svc_int.h"
#include "timeutil.h"

/* How long svc_tick() waits at most, and after a failed publication. */
#define TICK_MAX	60
#define TICK_RETRY	5

/*
 * True when the in-memory CRL should be replaced at now: none yet, its
 * last publication failed, or nextUpdate - crl.refresh_before is past.
 */
static bool
crl_due(struct svc *s, int64_t now)
{
	bool due;

	pthread_mutex_lock(&s->crl_mu);
	due = s->crl_dirty || s->crl.number == 0 ||
	    now >= s->crl.next_update - s->crl_refresh_before;
	pthread_mutex_unlock(&s->crl_mu);
	return due;
}

int
svc_crl_init(struct svc *s, struct err *e)
{
	struct svc_actor	sched;
	uint64_t		stored = 0;
	int			rc = -1;

	svc_actor_init(&sched, ACTOR_SCHEDULER);
	if (svc_crl_persist_start(s, e) == -1)
		goto out;
	if (svc_crl_load(s, e) == -1 ||
	    db_crl_number(s->db, &stored, e) == -1) {
		log_error("loading the CRL: %s: %s", err_code_name(e->code),
		    e->msg);
		err_set(e, ERR_INTERNAL, "cannot load the stored CRL");
		goto out;
	}
	/* A number claimed whose DER never got stored: publish anew. */
	if (stored > s->crl.number)
		s->crl_dirty = true;
	if (crl_due(s, tu_now()) &&
	    svc_crl_publish(s, &sched, NULL, e) == -1)
		goto out;
	rc = 0;
out:
	svc_actor_clear(&sched);
	return rc;
}

/*
 * The CRL's part of a tick: pick up a CRL another process (the CLI)
 * published, republish when due.  Returns the seconds until the CRL
 * wants the next tick.
 */
static int64_t
crl_tick(struct svc *s, const struct svc_actor *sched, int64_t now)
{
	struct err	e;
	int64_t		wait;

	err_clear(&e);
	pthread_mutex_lock(&s->pub_mu);
	if (svc_crl_load(s, &e) == -1)
		log_warn("checking the stored CRL: %s", e.msg);
	pthread_mutex_unlock(&s->pub_mu);
	err_clear(&e);

	if (crl_due(s, now) && svc_crl_publish(s, sched, NULL, &e) == -1)
		return TICK_RETRY;
	svc_crl_warm(s);
	pthread_mutex_lock(&s->crl_mu);
	wait = s->crl.next_update - s->crl_refresh_before - tu_now();
	pthread_mutex_unlock(&s->crl_mu);
	if (wait < 1)
		wait = 1;
	if (wait > TICK_MAX)
		wait = TICK_MAX;
	return wait;
}

int64_t
svc_tick(struct svc *s)
{
	struct svc_actor	sched;
	int64_t			wait, node_wait;

	svc_actor_init(&sched, ACTOR_SCHEDULER);
	wait = crl_tick(s, &sched, tu_now());
	/* Node rotations run here too, holding no lock. */
	node_wait = svc_nodes_tick(s, tu_now());
	if (node_wait < wait)
		wait = node_wait;
	svc_audit_prune_tick(s, tu_now());
	svc_actor_clear(&sched);
	return wait;
}
