/*
 * Writing the audit log: the entry of an act and of a refused attempt;
 * a failure to append goes to the log only.  Calls only actor.c.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "svc_int.h"
#include "timeutil.h"

/* Copy src into dst (size n), truncating; dst is always terminated. */
static void
copy_str(char *dst, size_t n, const char *src)
{
	size_t len;

	if (src == NULL)
		src = "";
	len = strnlen(src, n - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

void
svc_audit_fill(struct audit_rec *r, const struct svc_actor *a,
    const char *action, const char *object, enum audit_outcome outcome,
    const char *detail)
{
	memset(r, 0, sizeof(*r));
	r->at = tu_now();
	copy_str(r->actor, sizeof(r->actor), svc_actor_name(a));
	copy_str(r->action, sizeof(r->action), action);
	copy_str(r->object, sizeof(r->object), object);
	r->outcome = outcome;
	copy_str(r->detail, sizeof(r->detail), detail);
}

void
svc_audit(struct svc *s, const struct svc_actor *a, const char *action,
    const char *object, enum audit_outcome outcome, const char *detail)
{
	struct audit_rec	r;
	struct err		e;

	err_clear(&e);
	svc_audit_fill(&r, a, action, object, outcome, detail);
	if (db_audit_append(s->db, &r, &e) == -1)
		log_error("audit %s %s %s: %s: %s", r.actor, r.action,
		    audit_outcome_name(outcome), err_code_name(e.code),
		    e.msg);
}

void
svc_audit_denied(struct svc *s, const struct svc_actor *a,
    const char *action, const char *object, const struct err *why)
{
	char detail[sizeof(((struct audit_rec *)0)->detail)];

	if (s == NULL)
		return;
	if (why != NULL)
		snprintf(detail, sizeof(detail), "%s: %.200s",
		    err_code_name(why->code), why->msg);
	else
		copy_str(detail, sizeof(detail), "denied");
	svc_audit(s, a, action, object, AUDIT_DENIED, detail);
}
