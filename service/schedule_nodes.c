/*
 * The scheduler's pass over the nodes (SPEC sections 6 and 11): when a
 * node's certificate is due for renewal (its renew window plus a stable
 * jitter), the due push nodes grouped by their effective group, each
 * group rotated in role order (replicas first, primary last, roles read
 * live) and stopped at its first failure, at most
 * rotation.max_parallel groups at once (pool.c), then the drift check
 * (drift.c).  The rotation itself is rotate.c's svc_rotate().
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "svc_int.h"
#include "timeutil.h"

/* The lifetime of n's certificate (else its ttl or profile default). */
static int64_t
node_life(struct svc *s, const struct node_rec *n)
{
	const struct profile	*p;
	struct cert_rec		 c;
	struct err		 e;
	int64_t			 life = 0;

	memset(&c, 0, sizeof(c));
	err_clear(&e);
	if (n->current_serial[0] != '\0' &&
	    db_cert_get(s->db, n->current_serial, &c, &e) == 0)
		life = c.not_after - c.not_before;
	cert_rec_clear(&c);
	if (life <= 0)
		life = n->ttl;
	if (life <= 0 && (p = svc_profile(s, n->profile)) != NULL)
		life = p->default_ttl;
	return life;
}

static int64_t
window_of(const struct svc *s, int64_t life)
{
	return life / 100 * s->rotation_renew_before_pct +
	    life % 100 * s->rotation_renew_before_pct / 100;
}

int64_t
svc_node_renew_window(struct svc *s, const struct node_rec *n)
{
	return window_of(s, node_life(s, n));
}

int64_t
svc_node_jitter(const char *name, const char *serial, int64_t life)
{
	unsigned char	 md[32];
	char		 buf[RCA_MAX_NODE_NAME + RCA_SERIAL_HEX_MAX + 2];
	uint64_t	 v = 0;
	int		 len;

	if (life <= 0)
		return 0;
	len = snprintf(buf, sizeof(buf), "%.*s|%.*s", RCA_MAX_NODE_NAME,
	    name, RCA_SERIAL_HEX_MAX, serial);
	ca_sha256(buf, (size_t)len, md);
	for (int i = 0; i < 8; i++)
		v = v << 8 | md[i];
	/* A fraction v / 2^64 of a tenth of the lifetime. */
	return (int64_t)(((unsigned __int128)(uint64_t)(life / 10) * v) >>
	    64);
}

/* Is node n due for a rotation at now? */
static bool
node_due(struct svc *s, const struct node_rec *n, int64_t now)
{
	int64_t life;

	if (n->mode != NODE_MODE_PUSH || n->next_attempt_at > now)
		return false;
	if (n->current_serial[0] == '\0' || n->failures > 0)
		return true;
	life = node_life(s, n);
	return n->not_after - now < window_of(s, life) +
	    svc_node_jitter(n->name, n->current_serial, life);
}

/* A due node and its group. */
struct due {
	char	name[RCA_MAX_NODE_NAME + 1];
	char	group[RCA_MAX_NODE_NAME + 1];
};

static int
due_cmp(const void *pa, const void *pb)
{
	const struct due *a = pa, *b = pb;
	int c = strcmp(a->group, b->group);

	return c != 0 ? c : strcmp(a->name, b->name);
}

/* What due_pick() needs besides the node. */
struct due_when {
	struct svc	*s;
	int64_t		 now;
};

/* A due node and its group (svc_nodes_collect()). */
static bool
due_pick(void *arg, const struct node_rec *n, void *elem)
{
	const struct due_when	*w = arg;
	struct due		*d = elem;

	if (!node_due(w->s, n, w->now))
		return false;
	memcpy(d->name, n->name, sizeof(d->name));
	memcpy(d->group, n->group, sizeof(d->group));
	if (d->group[0] == '\0')
		memcpy(d->group, n->name, sizeof(d->group));
	return true;
}

/* Every due push node (new, sorted by group and name), or -1. */
static int
due_collect(struct svc *s, int64_t now, struct due **out, size_t *nout)
{
	struct due_when	 w = { .s = s, .now = now };
	struct err	 e;
	void		*due = NULL;
	size_t		 n = 0;

	err_clear(&e);
	/* Collect first, rotate after: no list is held open meanwhile. */
	if (svc_nodes_collect(s, due_pick, &w, sizeof(struct due), &due, &n,
	    &e) == -1) {
		log_error("scheduler: listing nodes: %s", e.msg);
		return -1;
	}
	if (n > 1)
		qsort(due, n, sizeof(struct due), due_cmp);
	*out = due;
	*nout = n;
	return 0;
}

/* The pass: the due nodes and where each group starts. */
struct pass {
	struct svc		*s;
	const struct svc_actor	*a;
	struct due		*due;
	size_t			*start;		/* ngroups + 1 entries */
	size_t			 ngroups;
};

/* Read the roles of a group's due nodes and put them in order. */
static void
group_order(struct svc *s, const struct due *d, size_t n,
    struct svc_order *ord)
{
	for (size_t i = 0; i < n; i++) {
		struct node_rec		nr;
		struct svc_probe	pr;
		struct err		e;

		memset(&ord[i], 0, sizeof(ord[i]));
		memcpy(ord[i].name, d[i].name, sizeof(ord[i].name));
		ord[i].idx = i;
		/* One due node has no order to keep. */
		if (n == 1)
			continue;
		memset(&nr, 0, sizeof(nr));
		err_clear(&e);
		if (db_node_get(s->db, d[i].name, &nr, &e) == 0 &&
		    svc_node_probe(s, &nr, &pr, &e) == 0)
			memcpy(ord[i].role, pr.role, sizeof(ord[i].role));
		node_rec_clear(&nr);
	}
	svc_order_sort(ord, n);
}

/* One group: its due nodes in role order, one at a time. */
static void
pass_group(void *ctx, size_t g)
{
	struct pass		*p = ctx;
	struct due		*d = &p->due[p->start[g]];
	size_t			 n = p->start[g + 1] - p->start[g];
	struct svc_order	*ord;

	if ((ord = calloc(n, sizeof(*ord))) == NULL) {
		log_error("scheduler: out of memory");
		return;
	}
	group_order(p->s, d, n, ord);
	for (size_t i = 0; i < n; i++) {
		struct rotation_rec	rec;
		struct err		e;

		err_clear(&e);
		if (svc_rotate(p->s, p->a, ord[i].name, &rec, &e) == 0)
			continue;
		if (e.code != ERR_NOT_FOUND)
			log_warn("scheduler: node %s: %s", ord[i].name, e.msg);
		/* Until the next pass: its backoff runs meanwhile. */
		if (i + 1 < n && e.code != ERR_NOT_FOUND) {
			log_warn("scheduler: group %s stopped at %s: %zu "
			    "node(s) left for the next pass", d[0].group,
			    ord[i].name, n - i - 1);
			break;
		}
	}
	free(ord);
}

/* Rotate the due nodes, a group per worker.  Returns how many. */
static size_t
pass_rotate(struct svc *s, const struct svc_actor *a, int64_t now)
{
	struct pass	p;
	size_t		n = 0;

	memset(&p, 0, sizeof(p));
	p.s = s;
	p.a = a;
	if (due_collect(s, now, &p.due, &n) == -1 || n == 0)
		goto out;
	if ((p.start = calloc(n + 1, sizeof(*p.start))) == NULL) {
		log_error("scheduler: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(p.due[i].group, p.due[i - 1].group) != 0)
			p.start[p.ngroups++] = i;
	p.start[p.ngroups] = n;
	svc_pool_run(p.ngroups, s->max_parallel, pass_group, &p);
out:
	free(p.start);
	free(p.due);
	return n;
}

int64_t
svc_nodes_tick(struct svc *s, int64_t now)
{
	struct svc_actor	 sched;
	size_t			 ndue;
	int64_t			 interval, wait;

	svc_actor_init(&sched, ACTOR_SCHEDULER);
	interval = s->rotation_check_interval > 0 ?
	    s->rotation_check_interval : SVC_NODES_INTERVAL;
	pthread_mutex_lock(&s->nodes_mu);
	if (now < s->nodes_due_at) {
		wait = s->nodes_due_at - now;
		pthread_mutex_unlock(&s->nodes_mu);
		goto out;
	}
	s->nodes_due_at = now + interval;
	pthread_mutex_unlock(&s->nodes_mu);

	ndue = pass_rotate(s, &sched, now);
	/* Then what every node serves (rotated ones included). */
	svc_drift_pass(s, tu_now());
	/* Rotations and looks take time: count it off the next wait. */
	(void)ndue;
	pthread_mutex_lock(&s->nodes_mu);
	wait = s->nodes_due_at - tu_now();
	pthread_mutex_unlock(&s->nodes_mu);
out:
	svc_actor_clear(&sched);
	return wait < 1 ? 1 : wait;
}
