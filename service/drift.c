/*
 * Drift (SPEC section 11): a node serving anything but its recorded
 * certificate.  Every rotation.check_interval the scheduler's leader
 * looks at each push node that is not busy (a short TLS look with the
 * admin certificate, nodes_probe.c), stores the served serial and the
 * role (db_node_observe()), and audits node.drift once when drift
 * begins and once when it ends.  A rotation in progress is never seen
 * as drift: a busy node is skipped, what a look saw is stored under the
 * node's mark only when no rotation touched the node since (drift_one()),
 * and a rotation stores what it made the node serve itself
 * (svc_drift_seen()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "svc_int.h"

#define ACTION_DRIFT	"node.drift"

void
svc_drift_seen(struct svc *s, const struct svc_actor *a, const char *name,
    const char *role, const char *served, const char *recorded,
    int64_t now)
{
	struct audit_rec	ar;
	struct err		e;
	char			detail[sizeof(ar.detail)];
	int			change = 0;

	err_clear(&e);
	snprintf(detail, sizeof(detail), "drift served=%s recorded=%s",
	    served != NULL ? served : "-", recorded);
	svc_audit_fill(&ar, a, ACTION_DRIFT, name, AUDIT_OK, detail);
	if (db_node_observe(s->db, name, role, now, served, &change, &ar,
	    &e) == -1) {
		if (e.code != ERR_NOT_FOUND)
			log_warn("node %s: storing what it serves: %s", name,
			    e.msg);
		return;
	}
	if (change > 0)
		log_warn("node %s: drift: it serves %s, the recorded "
		    "certificate is %s", name, served, recorded);
	else if (change < 0) {
		log_info("node %s: drift resolved: it serves %s", name,
		    served != NULL ? served : "-");
		svc_audit(s, a, ACTION_DRIFT, name, AUDIT_OK, "resolved");
	}
}

/* The pass's view of one node. */
struct drift_job {
	char	name[RCA_MAX_NODE_NAME + 1];
	bool	drift;		/* after the look */
};

struct drift_pass {
	struct svc		*s;
	const struct svc_actor	*a;
	struct drift_job	*jobs;
	int64_t			 now;
};

/*
 * Busy now (a rotation, a push or a deletion holds its mark, here or on
 * another instance)?  Without the mark held afterwards: the look itself
 * runs unmarked, so an API rotation at that moment is not refused.
 */
static bool
node_busy(struct svc *s, const char *name)
{
	if (!svc_node_lock(s, name))
		return true;
	svc_node_unlock(s, name);
	return false;
}

/*
 * Look at one node.  Its mark is held only to store what was seen, and
 * only when no rotation touched it since the look began (the same
 * current_serial and last_rotation_id): a rotation in progress is never
 * taken for drift, and a busy node is skipped.
 */
static void
drift_one(void *ctx, size_t i)
{
	struct drift_pass	*p = ctx;
	struct drift_job	*j = &p->jobs[i];
	struct node_rec		 n, again;
	struct svc_probe	 pr;
	struct err		 e;
	bool			 locked = false;

	err_clear(&e);
	memset(&n, 0, sizeof(n));
	memset(&again, 0, sizeof(again));
	if (node_busy(p->s, j->name) ||
	    db_node_get(p->s->db, j->name, &n, &e) == -1 ||
	    n.mode != NODE_MODE_PUSH)
		goto out;
	j->drift = n.drift_since != 0;
	if (svc_node_probe(p->s, &n, &pr, &e) == -1 && !pr.reached) {
		/* Unreachable is not drift: the state is kept. */
		log_info("node %s: drift check: not reachable: %s", n.name,
		    e.msg);
		goto out;
	}
	if (!(locked = svc_node_lock(p->s, j->name)) ||
	    db_node_get(p->s->db, j->name, &again, &e) == -1 ||
	    strcmp(again.current_serial, n.current_serial) != 0 ||
	    again.last_rotation_id != n.last_rotation_id)
		goto out;
	svc_drift_seen(p->s, p->a, n.name, pr.role[0] != '\0' ? pr.role :
	    NULL, pr.served, n.current_serial, p->now);
	j->drift = n.current_serial[0] != '\0' &&
	    strcmp(pr.served, n.current_serial) != 0;
out:
	if (locked)
		svc_node_unlock(p->s, j->name);
	node_rec_clear(&again);
	node_rec_clear(&n);
}

/* A push node's job (svc_nodes_collect()). */
static bool
drift_pick(void *arg, const struct node_rec *n, void *elem)
{
	struct drift_job *j = elem;

	(void)arg;
	if (n->mode != NODE_MODE_PUSH)
		return false;
	memcpy(j->name, n->name, sizeof(j->name));
	return true;
}

size_t
svc_drift_pass(struct svc *s, int64_t now)
{
	struct svc_actor	 sched;
	struct drift_pass	 p;
	struct err		 e;
	void			*jobs = NULL;
	size_t			 n = 0, drifting = 0;

	svc_actor_init(&sched, ACTOR_SCHEDULER);
	memset(&p, 0, sizeof(p));
	p.s = s;
	p.a = &sched;
	p.now = now;
	err_clear(&e);
	if (svc_nodes_collect(s, drift_pick, NULL, sizeof(*p.jobs), &jobs, &n,
	    &e) == -1) {
		log_error("drift check: listing nodes: %s", e.msg);
		goto out;
	}
	p.jobs = jobs;
	svc_pool_run(n, s->max_parallel, drift_one, &p);
	for (size_t i = 0; i < n; i++)
		if (p.jobs[i].drift)
			drifting++;
out:
	free(p.jobs);
	svc_actor_clear(&sched);
	return drifting;
}
