/*
 * Who may do what: the one rule for administrative acts (revocation,
 * node management, rotation).  Token and certificate authentication
 * build the actors this rule looks at.
 */
#include "svc_int.h"

int
svc_require_admin(const struct svc_actor *a, const char *msg,
    struct err *e)
{
	switch (a != NULL ? a->kind : ACTOR_NONE) {
	case ACTOR_ADMIN:
	case ACTOR_CLI:
	case ACTOR_SCHEDULER:
		return 0;
	default:
		err_set(e, ERR_FORBIDDEN, "%s", msg);
		return -1;
	}
}
