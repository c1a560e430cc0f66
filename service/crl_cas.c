/*
 * The CRLs of several CAs (SPEC section 10): which CA's CRL a
 * publication signs (crl.c publishes one), the revocations waiting for
 * a CRL that lists them (one build per CA serves every waiter queued),
 * and the scheduler's view of what is due.  Every CA in the bundle
 * whose key this instance holds publishes its own CRL; a CA without
 * its key here is served what an instance with the key stored.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "svc_int.h"
#include "timeutil.h"

/* Is the CRL of slot ca (crl_mu held) to be published for which? */
static bool
crl_wanted(const struct svc *s, const struct svc_crl_ca *ca,
    enum svc_crl_which which, int64_t now)
{
	if (which == SVC_CRL_ALL || ca == NULL)
		return true;
	if (ca->dirty || ca->crl.number == 0)
		return true;
	return which == SVC_CRL_DUE &&
	    now >= ca->crl.next_update - s->crl_refresh_before;
}

int
svc_crl_publish_cas(struct svc *s, const struct svc_actor *a,
    enum svc_crl_which which, struct err *e)
{
	struct svc_cas	*c = svc_cas_get(s);
	struct err	 one;
	int64_t		 now = tu_now();
	bool		 want;
	int		 rc = 0;

	for (size_t i = 0; i < c->n; i++) {
		const struct svc_ca_ent *ent = &c->ent[i];

		if (ent->ca == NULL || !ca_has_key(ent->ca))
			continue;
		pthread_mutex_lock(&s->crl_mu);
		want = crl_wanted(s, svc_crl_slot(s, ent->id, NULL, false),
		    which, now);
		pthread_mutex_unlock(&s->crl_mu);
		if (!want)
			continue;
		err_clear(&one);
		if (svc_crl_publish_ca(s, a, ent->id, true, NULL, NULL,
		    &one) == -1 && one.code != ERR_NOT_FOUND && rc == 0) {
			*e = one;
			rc = -1;
		}
	}
	svc_cas_put(c);
	return rc;
}

int64_t
svc_crl_due_in(struct svc *s, int64_t max)
{
	int64_t wait = max, w, now = tu_now();

	pthread_mutex_lock(&s->crl_mu);
	for (size_t i = 0; i < SVC_CRL_CAS; i++) {
		if (s->crls[i].ca_id == 0 || s->crls[i].crl.number == 0)
			continue;
		w = s->crls[i].crl.next_update - s->crl_refresh_before - now;
		if (w < wait)
			wait = w;
	}
	pthread_mutex_unlock(&s->crl_mu);
	return wait < 1 ? 1 : wait;
}

int
svc_crl_publish(struct svc *s, const struct svc_actor *a, uint64_t *number,
    struct err *e)
{
	struct svc_cas	*c = NULL;
	int64_t		 cur;
	int		 rc = -1;

	if (svc_cas_issuer(s, &c, e) == -1)
		goto out;
	cur = c->cur->id;
	/* The current CA's first: its number is the one reported. */
	if (svc_crl_publish_ca(s, a, cur, true, NULL, number, e) == -1)
		goto out;
	for (size_t i = 0; i < c->n; i++) {
		const struct svc_ca_ent *ent = &c->ent[i];

		if (ent->id == cur || ent->ca == NULL ||
		    !ca_has_key(ent->ca))
			continue;
		if (svc_crl_publish_ca(s, a, ent->id, true, NULL, NULL,
		    e) == -1 && e->code != ERR_NOT_FOUND)
			goto out;
		err_clear(e);
	}
	rc = 0;
out:
	svc_cas_put(c);
	return rc;
}

int
svc_publish_crl(struct svc *s, const struct svc_actor *a, struct err *e)
{
	struct err le;

	ERR_LOCAL(e, le);
	return svc_crl_publish(s, a, NULL, e);
}

/* The CAs a batch of waiters needs a CRL of, into ids (at most max). */
static size_t
batch_cas(struct svc *s, const struct svc_crl_wait *batch, int64_t *ids,
    size_t max)
{
	const struct svc_crl_wait *p;
	struct svc_cas	*c;
	size_t		 n = 0, i;
	bool		 key = false;

	for (p = batch; p != NULL; p = p->next) {
		key = key || p->spki[0] != '\0';
		for (i = 0; i < n && ids[i] != p->ca_id; i++)
			continue;
		if (i == n && n < max)
			ids[n++] = p->ca_id;
	}
	if (!key)
		return n;
	/* A compromised key's certificates may come from any CA. */
	c = svc_cas_get(s);
	for (size_t k = 0; k < c->n; k++) {
		if (c->ent[k].ca == NULL || !ca_has_key(c->ent[k].ca))
			continue;
		for (i = 0; i < n && ids[i] != c->ent[k].id; i++)
			continue;
		if (i == n && n < max)
			ids[n++] = c->ent[k].id;
	}
	svc_cas_put(c);
	return n;
}

/* A CA's publication for a batch: its number, or its failure. */
struct batch_res {
	int64_t		 ca_id;
	int		 rc;
	uint64_t	 number;
	struct err	 err;
};

/*
 * Publish the CRL of every CA batch needs (crl_mu not held).  A CA no
 * longer in the bundle (gone) has no CRL to list it: that counts as
 * done, number 0.
 */
static void
batch_publish(struct svc *s, const struct svc_actor *a,
    struct svc_crl_wait *batch, struct batch_res *res, size_t *nres)
{
	int64_t ids[SVC_CRL_CAS * 2];
	size_t	n;

	n = batch_cas(s, batch, ids, sizeof(ids) / sizeof(ids[0]));
	for (size_t i = 0; i < n; i++) {
		res[i].ca_id = ids[i];
		res[i].number = 0;
		err_clear(&res[i].err);
		res[i].rc = svc_crl_publish_ca(s, a, ids[i], false, batch,
		    &res[i].number, &res[i].err);
		if (res[i].rc == -1 && res[i].err.code == ERR_NOT_FOUND) {
			res[i].rc = 0;
			err_clear(&res[i].err);
		}
	}
	*nres = n;
}

/* Set the outcome of waiter p from the batch's results. */
static void
batch_settle(struct svc_crl_wait *p, const struct batch_res *res, size_t n)
{
	p->state = 1;
	p->number = 0;
	for (size_t i = 0; i < n; i++) {
		/* Its own CA's CRL; with a key cascade, every CA's. */
		if (res[i].ca_id != p->ca_id && p->spki[0] == '\0')
			continue;
		if (res[i].rc == -1) {
			p->err = res[i].err;
			p->state = -1;
			return;
		}
		if (res[i].ca_id == p->ca_id)
			p->number = res[i].number;
	}
}

int
svc_crl_publish_revoked(struct svc *s, const struct svc_actor *a,
    struct svc_crl_wait *w, uint64_t *number, struct err *e)
{
	struct svc_crl_wait	*batch, *p, *next;
	struct batch_res	 res[SVC_CRL_CAS * 2];
	size_t			 nres = 0;

	w->state = 0;
	pthread_mutex_lock(&s->crl_mu);
	w->next = s->crl_waiting;
	s->crl_waiting = w;
	while (w->state == 0) {
		/* crl_cv is shared with the persister: check again. */
		if (s->crl_building) {
			pthread_cond_wait(&s->crl_cv, &s->crl_mu);
			continue;
		}
		/* Build for everyone queued: all committed before queueing. */
		s->crl_building = true;
		batch = s->crl_waiting;
		s->crl_waiting = NULL;
		pthread_mutex_unlock(&s->crl_mu);
		batch_publish(s, a, batch, res, &nres);
		pthread_mutex_lock(&s->crl_mu);
		/* Once state is set its waiter may return: read next first. */
		for (p = batch; p != NULL; p = next) {
			next = p->next;
			batch_settle(p, res, nres);
		}
		s->crl_building = false;
		pthread_cond_broadcast(&s->crl_cv);
	}
	pthread_mutex_unlock(&s->crl_mu);
	if (w->state == -1) {
		*e = w->err;
		return -1;
	}
	if (number != NULL)
		*number = w->number;
	return 0;
}

void
svc_crl_warm(struct svc *s)
{
	struct svc_cas	*c;
	struct err	 e;
	bool		 stale;

	pthread_mutex_lock(&s->pub_mu);
	c = svc_cas_get(s);
	svc_crl_sync(s, c);
	for (size_t i = 0; i < SVC_CRL_CAS; i++) {
		struct svc_crl_ca	*ca = &s->crls[i];
		const struct svc_ca_ent	*ent;

		/* Only the sets this instance signs with. */
		ent = svc_cas_find(c, ca->ca_id);
		if (ent == NULL || ent->ca == NULL || !ca_has_key(ent->ca))
			continue;
		pthread_mutex_lock(&s->crl_mu);
		stale = ca->stale || !ca->set.loaded;
		ca->stale = false;
		pthread_mutex_unlock(&s->crl_mu);
		err_clear(&e);
		if (stale && svc_crl_set_load(s, ca, tu_now(), &e) == -1)
			log_warn("loading the CRL entries of CA %s: %s",
			    ca->ski, e.msg);
	}
	svc_cas_put(c);
	pthread_mutex_unlock(&s->pub_mu);
}

/*
 * The CA a CRL request names (ski NULL: the current one): its id, and
 * whether this instance holds its key.  ERR_NOT_FOUND when it is not in
 * the bundle (unknown, pending, gone).
 */
static int
crl_ca_of(struct svc *s, const char *ski, int64_t *id, bool *key,
    struct err *e)
{
	struct svc_cas		*c = svc_cas_get(s);
	const struct svc_ca_ent	*ent;
	int			 rc = -1;

	ent = ski == NULL ? c->cur : svc_cas_find_ski(c, ski);
	if (ent == NULL || ent->ca == NULL) {
		err_set(e, ERR_NOT_FOUND, "no such CA");
		goto out;
	}
	*id = ent->id;
	*key = ca_has_key(ent->ca);
	rc = 0;
out:
	svc_cas_put(c);
	return rc;
}

/*
 * A CA in the bundle without a CRL yet (just prepared): one stored by
 * another instance or process, else its first publication here when
 * this instance holds its key (the scheduler would at its next pass).
 * Errors: ERR_UNAVAILABLE (none yet, and not ours to sign), those of
 * svc_crl_publish_ca().
 */
static int
crl_first(struct svc *s, const char *ski, int64_t id, bool key,
    struct err *e)
{
	struct svc_actor	sched;
	int			rc;

	if (svc_crl_load(s, e) == -1)
		return -1;
	if (!key) {
		pthread_mutex_lock(&s->crl_mu);
		rc = svc_crl_slot(s, id, NULL, false) != NULL ? 0 : -1;
		pthread_mutex_unlock(&s->crl_mu);
		if (rc == -1)
			err_set(e, ERR_UNAVAILABLE, "no CRL of CA %s has been "
			    "published yet", ski != NULL ? ski : "(current)");
		return rc;
	}
	svc_actor_init(&sched, ACTOR_SCHEDULER);
	rc = svc_crl_publish_ca(s, &sched, id, true, NULL, NULL, e);
	svc_actor_clear(&sched);
	return rc;
}

/* Take a reference to the CRL of the CA ski names; with its PEM when
 * pem. */
static int
crl_current(struct svc *s, const char *ski, struct svc_crl *out, bool pem,
    struct err *e)
{
	struct svc_crl_ca	*ca;
	int64_t			 id = 0, now;
	uint64_t		 late = 0;
	bool			 key = false;
	int			 rc = -1;

	memset(out, 0, sizeof(*out));
	if (crl_ca_of(s, ski, &id, &key, e) == -1)
		return -1;
	now = tu_now();
	pthread_mutex_lock(&s->crl_mu);
	ca = svc_crl_slot(s, id, NULL, false);
	if (ca == NULL || ca->crl.number == 0 || ca->crl.ref == NULL) {
		pthread_mutex_unlock(&s->crl_mu);
		if (crl_first(s, ski, id, key, e) == -1)
			goto out;
		pthread_mutex_lock(&s->crl_mu);
		ca = svc_crl_slot(s, id, NULL, false);
	}
	if (ca == NULL || ca->crl.number == 0 || ca->crl.ref == NULL) {
		err_set(e, ERR_INTERNAL, "no CRL has been published");
		pthread_mutex_unlock(&s->crl_mu);
		goto out;
	}
	*out = ca->crl;
	atomic_fetch_add_explicit(&ca->crl.ref->refs, 1,
	    memory_order_relaxed);
	/* Served past its nextUpdate: say so once per CRL. */
	if (out->next_update < now && ca->warned != out->number)
		late = ca->warned = out->number;
	pthread_mutex_unlock(&s->crl_mu);
	if (late != 0)
		log_warn("serving CRL %" PRIu64 " of CA %s past its "
		    "nextUpdate: no instance holding its key published a "
		    "newer one", late, ski != NULL ? ski : "(current)");
	if (pem && svc_crl_buf_pem(out->ref, out, e) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1)
		svc_crl_clear(out);
	return rc;
}

int
svc_crl_current(struct svc *s, const char *ski, struct svc_crl *out,
    struct err *e)
{
	struct err le;

	ERR_LOCAL(e, le);
	return crl_current(s, ski, out, true, e);
}

int
svc_crl_current_der(struct svc *s, const char *ski, struct svc_crl *out,
    struct err *e)
{
	struct err le;

	ERR_LOCAL(e, le);
	return crl_current(s, ski, out, false, e);
}
