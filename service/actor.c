/*
 * Actors: who is asking (struct svc_actor) and the name the audit log
 * records for it.  A leaf: calls nothing else in service/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc_int.h"

void
svc_actor_init(struct svc_actor *a, enum actor_kind kind)
{
	if (a == NULL)
		return;
	memset(a, 0, sizeof(*a));
	a->cert.reason = -1;
	a->kind = kind;
	switch (kind) {
	case ACTOR_SCHEDULER:
		snprintf(a->id, sizeof(a->id), "%s", "scheduler");
		break;
	case ACTOR_CLI:
		snprintf(a->id, sizeof(a->id), "%s", "cli");
		break;
	case ACTOR_NONE:
		snprintf(a->id, sizeof(a->id), "%s", "anonymous");
		break;
	default:
		/* Token and certificate actors are named when they are
		 * authenticated. */
		break;
	}
}

void
svc_actor_clear(struct svc_actor *a)
{
	if (a == NULL)
		return;
	token_rec_clear(&a->token);
	cert_rec_clear(&a->cert);
	free(a->cert_der);
	svc_actor_init(a, ACTOR_NONE);
}

const char *
svc_actor_name(const struct svc_actor *a)
{
	if (a == NULL)
		return "anonymous";
	if (a->id[0] != '\0')
		return a->id;
	switch (a->kind) {
	case ACTOR_NONE:
		return "anonymous";
	case ACTOR_SCHEDULER:
		return "scheduler";
	case ACTOR_CLI:
		return "cli";
	default:
		return "unknown";
	}
}
