/*
 * How an operation fails: our own failures are logged and become a bare
 * ERR_INTERNAL, refusals keep their code; both are audited (audit.c).
 */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"
#include "svc_int.h"

bool
svc_err_internal(enum err_code code)
{
	switch (code) {
	case ERR_OK:
	case ERR_IO:
	case ERR_CRYPTO:
	case ERR_DB:
	case ERR_NET:
	case ERR_CONFIG:
	case ERR_USAGE:
	case ERR_INTERNAL:
	case ERR__MAX:
		return true;
	default:
		return false;
	}
}

void
svc_db_seen(struct svc *s, int state)
{
	bool ro = state == DB_STATE_READ_ONLY;

	/* Unavailable says nothing of the mode: keep the last one. */
	if (state == DB_STATE_UNAVAILABLE)
		return;
	if (atomic_exchange(&s->read_only, ro) != ro)
		log_warn(ro ? "the database is read-only (a standby): write "
		    "requests are refused" : "the database is writable "
		    "again: write requests are served");
}

void
svc_err_hide(struct err *e, const char *fmt, ...)
{
	char	what[ERR_MSG_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	log_error("%s: %s: %s", what, err_code_name(e->code), e->msg);
	/* A lost or read-only database is the client's to retry (503). */
	if (e->code == ERR_UNAVAILABLE || e->code == ERR_READ_ONLY)
		return;
	err_set(e, ERR_INTERNAL, "internal error");
}

void
svc_fail(struct svc *s, const struct svc_actor *a, const char *action,
    const char *object, struct err *e)
{
	/* A read-only database cannot take the audit entry either. */
	if (s != NULL && e->code == ERR_READ_ONLY) {
		svc_db_seen(s, DB_STATE_READ_ONLY);
		log_info("%s %s by %s: refused: the database is read-only",
		    action, object != NULL ? object : "-", svc_actor_name(a));
		return;
	}
	if (svc_err_internal(e->code)) {
		log_error("%s %s by %s: %s: %s", action,
		    object != NULL ? object : "-", svc_actor_name(a),
		    err_code_name(e->code), e->msg);
		svc_audit(s, a, action, object, AUDIT_ERROR,
		    err_code_name(e->code));
		err_set(e, ERR_INTERNAL, "internal error");
	} else
		svc_audit_denied(s, a, action, object, e);
}
