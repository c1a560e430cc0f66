/*
 * The per-node "busy" marks that keep two rotations of one node (or a
 * rotation and a deletion) apart: a short list in struct svc under
 * nodes_mu, which is never held across another lock or any I/O.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc_int.h"

struct svc_busy {
	struct svc_busy	*next;
	char		 name[RCA_MAX_NODE_NAME + 1];
};

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
	return ok;
}

void
svc_node_unlock(struct svc *s, const char *name)
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
	free(gone);
}
