/*
 * The per-node "busy" marks that keep two rotations of one node (or a
 * rotation and a deletion) apart: a short list in struct svc under
 * nodes_mu, which is never held across another lock or any I/O.  On
 * PostgreSQL a mark also takes the node's advisory lock in the
 * database (db_node_lock_try()), so a node being rotated by any
 * instance is busy on all of them.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "svc_int.h"

struct svc_busy {
	struct svc_busy	*next;
	char		 name[RCA_MAX_NODE_NAME + 1];
};

/* Drop the mark of name (NULL when there is none); nodes_mu not held. */
static struct svc_busy *
mark_take(struct svc *s, const char *name)
{
	struct svc_busy **pp, *gone = NULL;

	pthread_mutex_lock(&s->nodes_mu);
	for (pp = &s->busy; *pp != NULL; pp = &(*pp)->next)
		if (strncmp((*pp)->name, name, sizeof((*pp)->name)) == 0) {
			gone = *pp;
			*pp = gone->next;
			break;
		}
	pthread_mutex_unlock(&s->nodes_mu);
	return gone;
}

int
svc_marks_init(struct svc *s, struct err *e)
{
	s->busy = NULL;
	s->nodes_due_at = 0;
	if (pthread_mutex_init(&s->nodes_mu, NULL) != 0) {
		err_set(e, ERR_INTERNAL, "cannot create a mutex");
		return -1;
	}
	return 0;
}

void
svc_marks_fini(struct svc *s)
{
	struct svc_busy *b;

	while ((b = s->busy) != NULL) {
		s->busy = b->next;
		free(b);
	}
	pthread_mutex_destroy(&s->nodes_mu);
}

/*
 * The database's side of a mark (outside nodes_mu: a round trip).
 * false when another instance holds the node.  When the lock cannot be
 * asked for (the database is lost), this process's mark alone keeps
 * it: the rotation's first write then fails as the database does.
 */
static bool
mark_db(struct svc *s, const char *name)
{
	struct err	e;
	int		rc;

	err_clear(&e);
	if ((rc = db_node_lock_try(s->db, name, &e)) == -1)
		log_warn("node %s: the database's node lock: %s", name,
		    e.msg);
	return rc != 0;
}

bool
svc_node_lock(struct svc *s, const char *name)
{
	struct svc_busy	*b, *mark;
	bool		 ok = true;

	if ((mark = calloc(1, sizeof(*mark))) == NULL)
		return false;
	snprintf(mark->name, sizeof(mark->name), "%s", name);
	pthread_mutex_lock(&s->nodes_mu);
	for (b = s->busy; b != NULL; b = b->next)
		if (strcmp(b->name, mark->name) == 0) {
			ok = false;
			break;
		}
	if (ok) {
		mark->next = s->busy;
		s->busy = mark;
		mark = NULL;
	}
	pthread_mutex_unlock(&s->nodes_mu);
	free(mark);
	if (ok && !mark_db(s, name)) {
		free(mark_take(s, name));
		ok = false;
	}
	return ok;
}

void
svc_node_unlock(struct svc *s, const char *name)
{
	struct svc_busy	*b;
	bool		 held = false;

	pthread_mutex_lock(&s->nodes_mu);
	for (b = s->busy; b != NULL && !held; b = b->next)
		held = strncmp(b->name, name, sizeof(b->name)) == 0;
	pthread_mutex_unlock(&s->nodes_mu);
	if (!held)
		return;
	/*
	 * The database's lock goes first, while the mark still keeps
	 * this process's other threads off (the session that holds a
	 * lock cannot take it again).
	 */
	db_node_lock_release(s->db, name);
	free(mark_take(s, name));
}
