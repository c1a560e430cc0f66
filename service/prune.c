/*
 * Audit retention (SPEC section 8): the scheduler deletes entries older
 * than audit.retention, each pass recorded as one audit.prune entry in
 * the same transaction.  db_audit_prune() is the only way rows leave
 * the log; nothing here can change one.
 */
#include <stdio.h>

#include "log.h"
#include "svc_int.h"
#include "timeutil.h"

#define ACTION_PRUNE	"audit.prune"

/* Seconds between passes, and before a retry after a failure. */
#define PRUNE_EVERY	3600
#define PRUNE_RETRY	300

int
svc_audit_prune(struct svc *s, const struct svc_actor *a, int64_t now,
    int64_t *n, struct err *e)
{
	struct audit_rec r;
	struct err le;
	char at[RCA_TIME_STR], dur[24], detail[96];
	int64_t before = now - s->audit_retention;

	ERR_LOCAL(e, le);
	*n = 0;
	tu_format(before, at);
	tu_format_duration(s->audit_retention, dur);
	snprintf(detail, sizeof(detail), "before=%s retention=%s", at, dur);
	svc_audit_fill(&r, a, ACTION_PRUNE, "audit", AUDIT_OK, detail);
	r.at = now;
	if (db_audit_prune(s->db, before, RCA_AUDIT_PRUNE_BATCH, &r, n,
	    e) == -1) {
		svc_err_hide(e, "audit retention");
		return -1;
	}
	if (*n > 0)
		log_info("audit retention: deleted %lld entries older than %s",
		    (long long)*n, at);
	return 0;
}

void
svc_audit_prune_tick(struct svc *s, int64_t now)
{
	struct svc_actor sched;
	struct err e;
	int64_t n;

	if (now < s->audit_prune_at)
		return;
	svc_actor_init(&sched, ACTOR_SCHEDULER);
	err_clear(&e);
	if (svc_audit_prune(s, &sched, now, &n, &e) == -1)
		s->audit_prune_at = now + PRUNE_RETRY;
	else if (n >= RCA_AUDIT_PRUNE_BATCH)
		s->audit_prune_at = now;	/* more left: next tick */
	else
		s->audit_prune_at = now + PRUNE_EVERY;
	svc_actor_clear(&sched);
}
