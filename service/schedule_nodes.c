/*
 * The scheduler's pass over the nodes: when a node's certificate is due
 * for renewal (its renew window), and which nodes a pass rotates.  The
 * rotation itself is rotate.c's svc_rotate().
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "svc_int.h"
#include "timeutil.h"

int64_t
svc_node_renew_window(struct svc *s, const struct node_rec *n)
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
	return life / 100 * s->rotation_renew_before_pct +
	    life % 100 * s->rotation_renew_before_pct / 100;
}

/* Is node n due for a rotation at now? */
static bool
node_due(struct svc *s, const struct node_rec *n, int64_t now)
{
	if (n->next_attempt_at > now)
		return false;
	if (n->current_serial[0] == '\0' || n->failures > 0)
		return true;
	return n->not_after - now < svc_node_renew_window(s, n);
}

int64_t
svc_nodes_tick(struct svc *s, int64_t now)
{
	struct svc_actor	 sched;
	struct node_rec		*list = NULL;
	char			(*due)[RCA_MAX_NODE_NAME + 1] = NULL;
	char			 after[RCA_MAX_NODE_NAME + 1] = "";
	char			 next[RCA_MAX_NODE_NAME + 1];
	size_t			 cnt = 0, ndue = 0, cap = 0;
	int64_t			 interval, wait;
	struct err		 e;

	err_clear(&e);
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

	/* Collect first, rotate after: no list is held open meanwhile. */
	do {
		if (db_node_list(s->db, after, RCA_MAX_LIST_LIMIT, &list,
		    &cnt, next, &e) == -1) {
			log_error("scheduler: listing nodes: %s", e.msg);
			break;
		}
		for (size_t i = 0; i < cnt; i++) {
			if (!node_due(s, &list[i], now))
				continue;
			if (ndue == cap) {
				char (*grown)[RCA_MAX_NODE_NAME + 1];

				cap = cap == 0 ? 16 : cap * 2;
				if ((grown = reallocarray(due, cap,
				    sizeof(*due))) == NULL) {
					log_error("scheduler: out of memory");
					break;
				}
				due = grown;
			}
			memcpy(due[ndue++], list[i].name, sizeof(*due));
		}
		db_node_list_free(list, cnt);
		list = NULL;
		cnt = 0;
		memcpy(after, next, sizeof(after));
	} while (after[0] != '\0');

	for (size_t i = 0; i < ndue; i++) {
		struct rotation_rec rec;

		err_clear(&e);
		if (svc_rotate(s, &sched, due[i], &rec, &e) == -1 &&
		    e.code != ERR_CONFLICT && e.code != ERR_NOT_FOUND)
			log_warn("scheduler: node %s: %s", due[i], e.msg);
	}
	/* Rotations take time: count it off the next pass's wait. */
	wait = interval;
	if (ndue > 0) {
		pthread_mutex_lock(&s->nodes_mu);
		wait = s->nodes_due_at - tu_now();
		pthread_mutex_unlock(&s->nodes_mu);
	}
out:
	free(due);
	svc_actor_clear(&sched);
	return wait < 1 ? 1 : wait;
}
