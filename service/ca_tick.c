/*
 * The lifecycle's part of a scheduler tick: follow the CA generation
 * (another instance, or the CLI, changed the CAs: reconcile the files,
 * reload the snapshot, re-issue the instance's own certificates), check
 * those certificates hourly, and on the leader push the bundle to the
 * nodes that have not got it (a node registered later, a failed push),
 * backing off after failures.
 */
#include <sys/stat.h>

#include "ca_life_int.h"
#include "log.h"
#include "timeutil.h"

/* The CA generation is checked at least this often (seconds). */
#define LIFE_TICK		SVC_CA_TICK
/* Own certificates: checked hourly. */
#define SELFCERT_EVERY		3600
/* After a failed push, the next attempt. */
#define PUSH_RETRY		30
#define PUSH_MAX		3600
/* A current key file that does not load: tried again after this. */
#define KEY_RETRY		60

/*
 * The API certificate replaced by another process (the CLI, an
 * instance sharing the folder): bump the generation so the listener
 * reloads it.  A change trigger only: the API loads the files with
 * its own checks.
 */
static void
api_file_watch(struct svc_life *l)
{
	struct stat	st;

	if (l->api_cert == NULL || stat(l->api_cert, &st) == -1)
		return;
	if (l->api_seen && st.st_ino == l->api_ino &&
	    st.st_mtim.tv_sec == l->api_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == l->api_mtim.tv_nsec)
		return;
	if (l->api_seen) {
		log_info("%s changed: the API listener reloads it",
		    l->api_cert);
		atomic_fetch_add(&l->api_gen, 1);
	}
	l->api_seen = true;
	l->api_ino = st.st_ino;
	l->api_mtim = st.st_mtim;
}

/*
 * A key this instance lacks for a CA of the bundle (current, next or
 * retired) has been copied here since the snapshot was built: the
 * operator copies ca-next.key between prepare and activate (SPEC 10).
 */
static bool
key_arrived(struct svc *s)
{
	struct svc_cas	*c = svc_cas_get(s);
	bool		 arrived = false;

	for (size_t i = 0; c != NULL && i < c->n && !arrived; i++) {
		const struct svc_ca_ent *ent = &c->ent[i];
		enum cf_slot slot = cf_slot_of(ent->state);

		if (ent->state == CA_STATE_PENDING || ent->ca == NULL ||
		    ca_has_key(ent->ca) || slot == CF_SLOT__MAX)
			continue;
		arrived = cf_key_exists(s, slot) == 1;
	}
	svc_cas_put(c);
	return arrived;
}

int64_t
svc_life_tick(struct svc *s, const struct svc_actor *sched, bool leader,
    int64_t now)
{
	struct svc_life	*l = s->life;
	struct err	 e;
	int		 changed;

	if (l == NULL)
		return LIFE_TICK;
	err_clear(&e);
	if ((changed = svc_ca_watch(s, &e)) == -1)
		log_warn("checking the CA generation: %s", e.msg);
	/*
	 * A key of the bundle's CAs copied here since (the current one,
	 * or ca-next.key before activate): load it.  One that does not
	 * load is tried again a minute later.
	 */
	if (changed == 0 && now >= l->key_retry_at && key_arrived(s)) {
		bool had = svc_cas_has_key(s);

		err_clear(&e);
		if (svc_cas_reload(s, &e) == -1 || key_arrived(s)) {
			log_warn("a CA key file is there but does not load%s%s",
			    e.msg[0] != '\0' ? ": " : "", e.msg);
			l->key_retry_at = now + KEY_RETRY;
		} else if (!had && svc_cas_has_key(s)) {
			log_info("the current CA's key is here now: issuing");
			changed = 1;
		} else
			log_info("a CA key copied here was loaded");
	}
	if (changed == 1) {
		/* Activated elsewhere: the nodes are due now, not later. */
		pthread_mutex_lock(&s->nodes_mu);
		s->nodes_due_at = 0;
		pthread_mutex_unlock(&s->nodes_mu);
	}
	if (changed == 1 || now >= l->selfcert_at) {
		err_clear(&e);
		if (svc_selfcert_refresh(s, false, &e) == -1)
			log_warn("the instance's own certificates: %s",
			    e.msg);
		l->selfcert_at = now + SELFCERT_EVERY;
	}
	api_file_watch(l);
	if (!leader || atomic_load(&l->deferred))
		return LIFE_TICK;
	if (changed == 1) {
		l->push_at = 0;
		l->push_fails = 0;
	}
	if (now < l->push_at)
		return LIFE_TICK;
	/* Failures back off: 30 s doubled per round, at most an hour. */
	if (ca_push_stale(s, sched, NULL, true) > 0) {
		int64_t d = PUSH_RETRY;

		for (int i = 0; i < l->push_fails && d < PUSH_MAX; i++)
			d *= 2;
		l->push_fails++;
		l->push_at = now + (d < PUSH_MAX ? d : PUSH_MAX);
	} else {
		l->push_fails = 0;
		l->push_at = 0;
	}
	return LIFE_TICK;
}
