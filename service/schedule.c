/*
 * When the periodic work runs: the CRL's refresh (at start-up and on
 * every tick of the scheduler thread), the audit retention pass, and
 * the nodes' rotation pass (schedule_nodes.c).  With several instances
 * on one PostgreSQL database (SPEC section 9) only the scheduler's
 * leader does the scheduled part, and a read-only database (a standby)
 * gets none of it.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"
#include "ca_life_int.h"
#include "svc_int.h"
#include "timeutil.h"

/* How long svc_tick() waits at most, and after a failed publication. */
#define TICK_MAX	60
#define TICK_RETRY	5
/* The wait while the database is read-only or unavailable. */
#define TICK_STANDBY	5

#define ACTION_LEADER	"scheduler.leader"

/*
 * A number claimed whose DER never got stored (a crash before the
 * persister wrote it): the CRL of each CA whose stored one is older
 * than the newest number is published anew.
 */
static void
crl_claims_lost(struct svc *s, uint64_t stored)
{
	uint64_t newest = 0;

	pthread_mutex_lock(&s->crl_mu);
	for (size_t i = 0; i < SVC_CRL_CAS; i++)
		if (s->crls[i].crl.number > newest)
			newest = s->crls[i].crl.number;
	for (size_t i = 0; i < SVC_CRL_CAS && stored > newest; i++)
		if (s->crls[i].ca_id != 0)
			s->crls[i].dirty = true;
	if (stored > s->crl_number)
		s->crl_number = stored;
	pthread_mutex_unlock(&s->crl_mu);
}

int
svc_crl_init(struct svc *s, struct err *e)
{
	struct svc_actor	sched;
	uint64_t		stored = 0;
	enum svc_crl_which	which;
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
	crl_claims_lost(s, stored);
	/*
	 * A standby serves the stored CRLs and publishes none; beside
	 * other instances the scheduled refresh is the leader's (at its
	 * first tick), so only a CRL owed is published here.  Only the
	 * CRLs of the CAs whose key this instance holds.
	 */
	which = s->shared ? SVC_CRL_OWED : SVC_CRL_DUE;
	if (!svc_read_only(s) &&
	    svc_crl_publish_cas(s, &sched, which, e) == -1)
		goto out;
	rc = 0;
out:
	svc_actor_clear(&sched);
	return rc;
}

/* This instance's name in its audit entries: host:pid. */
static void
instance_name(char *buf, size_t cap)
{
	char host[256];

	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "?");
	host[sizeof(host) - 1] = '\0';
	snprintf(buf, cap, "%s:%ld", host, (long)getpid());
}

/* Record a change of leadership: the log and the audit log. */
static void
lead_changed(struct svc *s, const struct svc_actor *sched, bool now,
    const char *how)
{
	char name[300];

	instance_name(name, sizeof(name));
	atomic_store(&s->leader, now);
	if (now)
		log_info("scheduler: this instance (%s) is the leader", name);
	else
		log_warn("scheduler: this instance (%s) is no longer the "
		    "leader (%s)", name, how);
	svc_audit(s, sched, ACTION_LEADER, name, AUDIT_OK, how);
}

/*
 * Is this instance the scheduler's leader at this tick?  want: the
 * database is writable, so leadership is tried (or its lock checked);
 * otherwise it is given up.  SQLite: always.
 */
static bool
lead(struct svc *s, const struct svc_actor *sched, bool want)
{
	struct err	e;
	bool		was, now = false;
	int		rc;

	if (!s->shared) {
		atomic_store(&s->leader, true);
		return true;
	}
	err_clear(&e);
	was = atomic_load(&s->leader);
	if (want) {
		if ((rc = db_leader_try(s->db, &e)) == -1)
			log_warn("scheduler: leadership: %s", e.msg);
		now = rc == 1;
	} else if (was)
		db_leader_release(s->db);
	if (now != was)
		lead_changed(s, sched, now, now ? "gained" : want ? "lost" :
		    "released: the database is read-only");
	return now;
}

void
svc_lead_end(struct svc *s)
{
	struct svc_actor sched;

	if (s == NULL || s->db == NULL || !s->shared ||
	    !atomic_load(&s->leader))
		return;
	svc_actor_init(&sched, ACTOR_SCHEDULER);
	db_leader_release(s->db);
	lead_changed(s, &sched, false, "released: shutting down");
	svc_actor_clear(&sched);
}

/* Pick up a CRL another instance or process published. */
static void
crl_pick_up(struct svc *s)
{
	struct err e;

	err_clear(&e);
	struct svc_cas *c;

	pthread_mutex_lock(&s->pub_mu);
	c = svc_cas_get(s);
	svc_crl_sync(s, c);
	svc_cas_put(c);
	if (svc_crl_load(s, &e) == -1)
		log_warn("checking the stored CRL: %s", e.msg);
	pthread_mutex_unlock(&s->pub_mu);
}

/*
 * The CRL's part of a tick: pick up a CRL another process (the CLI,
 * another instance) published; the leader republishes when due, any
 * instance what it owes.  Returns the seconds until the CRL wants the
 * next tick.
 */
static int64_t
crl_tick(struct svc *s, const struct svc_actor *sched, int64_t now,
    bool leader)
{
	struct err	e;
	int64_t		wait;

	err_clear(&e);
	(void)now;
	crl_pick_up(s);
	if (svc_crl_publish_cas(s, sched, leader ? SVC_CRL_DUE :
	    SVC_CRL_OWED, &e) == -1)
		return TICK_RETRY;
	svc_crl_warm(s);
	if (!leader)
		return SVC_FOLLOW_TICK;
	wait = svc_crl_due_in(s, TICK_MAX);
	return wait;
}

int64_t
svc_tick(struct svc *s)
{
	struct svc_actor	sched;
	int64_t			wait, node_wait, life_wait;
	bool			leader;
	int			st = DB_STATE_OK;

	svc_actor_init(&sched, ACTOR_SCHEDULER);
	if (s->shared) {
		st = db_state(s->db);
		svc_db_seen(s, st);
	}
	leader = lead(s, &sched, st != DB_STATE_READ_ONLY);
	if (st != DB_STATE_OK) {
		/* A standby still serves the newest CRL it stores. */
		if (st == DB_STATE_READ_ONLY)
			crl_pick_up(s);
		wait = TICK_STANDBY;
		goto out;
	}
	wait = crl_tick(s, &sched, tu_now(), leader);
	/* The CAs: every instance follows them (<= 5 s), the leader pushes. */
	life_wait = svc_life_tick(s, &sched, leader, tu_now());
	if (life_wait < wait)
		wait = life_wait;
	if (!leader)
		goto out;
	/* Node rotations run here too, holding no lock. */
	node_wait = svc_nodes_tick(s, tu_now());
	if (node_wait < wait)
		wait = node_wait;
	svc_audit_prune_tick(s, tu_now());
out:
	svc_actor_clear(&sched);
	return wait;
}
