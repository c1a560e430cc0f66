/*
 * Every node, a page at a time, for service/'s passes over the fleet
 * (the scheduler's due nodes, the drift check, a CA activation's list):
 * no database list is held open while the caller works on the nodes.
 */
#include <stdlib.h>
#include <string.h>

#include "svc_int.h"

int
svc_nodes_each(struct svc *s, svc_node_fn *fn, void *arg, struct err *e)
{
	struct node_rec	*list = NULL;
	char		 after[RCA_MAX_NODE_NAME + 1] = "";
	char		 next[RCA_MAX_NODE_NAME + 1];
	size_t		 cnt = 0;
	int		 rc = -1;

	do {
		if (db_node_list(s->db, after, RCA_MAX_LIST_LIMIT, &list,
		    &cnt, next, e) == -1)
			goto out;
		for (size_t i = 0; i < cnt; i++)
			if (fn(arg, &list[i], e) == -1)
				goto out;
		db_node_list_free(list, cnt);
		list = NULL;
		cnt = 0;
		memcpy(after, next, sizeof(after));
	} while (after[0] != '\0');
	rc = 0;
out:
	db_node_list_free(list, cnt);
	return rc;
}

/* svc_nodes_collect()'s array so far. */
struct collect {
	svc_node_pick	*pick;
	void		*arg;
	size_t		 size;		/* of an element */
	unsigned char	*v;		/* owned; cap elements */
	size_t		 n, cap;
};

/* Room for one more element, zeroed, offered to pick. */
static int
collect_one(void *arg, const struct node_rec *nr, struct err *e)
{
	struct collect	*c = arg;
	unsigned char	*grown, *elem;
	size_t		 cap;

	if (c->n == c->cap) {
		cap = c->cap == 0 ? 16 : c->cap * 2;
		if ((grown = reallocarray(c->v, cap, c->size)) == NULL) {
			err_set(e, ERR_INTERNAL, "out of memory");
			return -1;
		}
		c->v = grown;
		c->cap = cap;
	}
	elem = c->v + c->n * c->size;
	memset(elem, 0, c->size);
	if (c->pick(c->arg, nr, elem))
		c->n++;
	return 0;
}

int
svc_nodes_collect(struct svc *s, svc_node_pick *pick, void *arg,
    size_t size, void **out, size_t *n, struct err *e)
{
	struct collect	c;
	int		rc = -1;

	memset(&c, 0, sizeof(c));
	c.pick = pick;
	c.arg = arg;
	c.size = size;
	*out = NULL;
	*n = 0;
	if (svc_nodes_each(s, collect_one, &c, e) == -1)
		goto out;
	*out = c.v;
	*n = c.n;
	c.v = NULL;
	rc = 0;
out:
	free(c.v);
	return rc;
}
