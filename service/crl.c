/*
 * The CRLs, one per CA in the bundle (SPEC section 10): each built from
 * its CA's revoked, unexpired certificates, signed by that CA, stored
 * with a number from one strictly increasing sequence across the CAs
 * (each publication of one CA's CRL claims the next), and served from
 * memory.  pub_mu
 * serialises publication; crl_mu guards the published version (an
 * immutable, reference-counted buffer readers share) and the queue of
 * revocations waiting for a CRL: the first waiter that finds no build
 * running builds one CRL for every waiter queued so far (schedule.c
 * says when the scheduler republishes).  The entries live in memory
 * between builds (crl_set.c): a revocation merges its own entry, the
 * expired ones drop out, and a keyCompromise cascade, a CRL another
 * process stored, a failure or the scheduler's refresh reload them
 * from the database.  crl_store.c holds the served CRL.
 *
 * On SQLite the DER of a number claimed is stored by a persister thread
 * up to PERSIST_GAP_MS later.  On PostgreSQL, shared by instances, a
 * publication is one transaction under a lock across instances that
 * checks the set against the database, claims the number, stores the
 * DER and notifies the others (db_crl_publish()), whose listener
 * (crl_listen.c) loads it.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "svc_int.h"
#include "timeutil.h"

#define ACTION_PUBLISH	"crl.publish"

/* Attempts when another process stores the same CRL number first. */
#define PUBLISH_TRIES	3

/*
 * Milliseconds between two DER writes of the persister: under a burst
 * of revocations only the newest DER is written, about once this long,
 * instead of holding the database's write lock for every version.
 */
#define PERSIST_GAP_MS	1000

/*
 * Queue b's DER (a new reference) of CA ca_id for the persister: the
 * newest of each CA wins.
 */
static void
persist_queue(struct svc *s, int64_t ca_id, struct svc_crl_buf *b,
    uint64_t number)
{
	struct svc_crl_buf	*old = NULL;
	struct svc_crl_ca	*ca;

	atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
	pthread_mutex_lock(&s->crl_mu);
	if ((ca = svc_crl_slot(s, ca_id, NULL, false)) == NULL)
		old = b;	/* the CA left meanwhile: nothing to store */
	else {
		old = ca->persist;
		ca->persist = b;
		ca->persist_number = number;
	}
	pthread_cond_broadcast(&s->crl_cv);
	pthread_mutex_unlock(&s->crl_mu);
	svc_crl_unref(old);
}

/* With crl_mu held: the slot with a DER queued, or NULL. */
static struct svc_crl_ca *
persist_next(struct svc *s)
{
	for (size_t i = 0; i < SVC_CRL_CAS; i++)
		if (s->crls[i].ca_id != 0 && s->crls[i].persist != NULL)
			return &s->crls[i];
	return NULL;
}

/* With crl_mu held: rest PERSIST_GAP_MS unless stopped or hurried. */
static void
persist_rest(struct svc *s)
{
	struct timespec	until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += PERSIST_GAP_MS / 1000;
	until.tv_nsec += (long)(PERSIST_GAP_MS % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	while (!s->crl_persist_stop && !s->crl_persist_hurry)
		if (pthread_cond_timedwait(&s->crl_cv, &s->crl_mu,
		    &until) != 0)
			break;
}

/*
 * The persister: store the newest queued DER, one at a time, resting
 * between writes, until stopped with nothing queued.  A failure is
 * logged: the next CRL's DER replaces it, and a restart republishes
 * (svc_crl_init()).
 */
static void *
persist_run(void *arg)
{
	struct svc		*s = arg;
	struct svc_crl_ca	*ca;
	struct svc_crl_buf	*b;
	struct err		 e;
	uint64_t		 number;
	int64_t			 ca_id;

	pthread_mutex_lock(&s->crl_mu);
	for (;;) {
		while ((ca = persist_next(s)) == NULL &&
		    !s->crl_persist_stop) {
			s->crl_persist_hurry = false;
			pthread_cond_wait(&s->crl_cv, &s->crl_mu);
		}
		if (ca == NULL)
			break;
		b = ca->persist;
		number = ca->persist_number;
		ca_id = ca->ca_id;
		ca->persist = NULL;
		s->crl_persisting = true;
		pthread_mutex_unlock(&s->crl_mu);
		err_clear(&e);
		if (db_crl_put_der(s->db, ca_id, number, b->der, b->der_len,
		    &e) == -1)
			log_warn("storing CRL %" PRIu64 ": %s", number, e.msg);
		svc_crl_unref(b);
		pthread_mutex_lock(&s->crl_mu);
		s->crl_persisting = false;
		pthread_cond_broadcast(&s->crl_cv);
		persist_rest(s);
	}
	pthread_mutex_unlock(&s->crl_mu);
	return NULL;
}

int
svc_crl_persist_start(struct svc *s, struct err *e)
{
	int rc;

	if (s->shared)
		return svc_crl_listen_start(s, e);
	if (s->crl_persister_on)
		return 0;
	if ((rc = pthread_create(&s->crl_persister, NULL, persist_run,
	    s)) != 0) {
		log_error("starting the CRL persister: %s", strerror(rc));
		err_set(e, ERR_INTERNAL, "cannot start a thread");
		return -1;
	}
	s->crl_persister_on = true;
	return 0;
}

void
svc_crl_flush(struct svc *s)
{
	pthread_mutex_lock(&s->crl_mu);
	while (persist_next(s) != NULL || s->crl_persisting) {
		s->crl_persist_hurry = true;
		pthread_cond_broadcast(&s->crl_cv);
		pthread_cond_wait(&s->crl_cv, &s->crl_mu);
	}
	pthread_mutex_unlock(&s->crl_mu);
}

/* Build, sign and store CRL number of pc's CA with pub_mu held. */
static struct svc_crl_buf *
crl_build_save(struct svc *s, const struct svc_actor *a,
    const struct svc_crl_pc *pc, uint64_t number, int64_t now,
    struct err *e)
{
	struct svc_crl_buf	*b;
	struct audit_rec	 ar;
	unsigned char		*der = NULL;
	char			 object[24], detail[200];
	size_t			 len = 0;

	if (ca_crl_set_sign(pc->signer, pc->ca->set.cs, number, now,
	    now + s->crl_validity, &der, &len, e) == -1)
		return NULL;
	if ((b = svc_crl_buf_new(der, len, e)) == NULL)
		return NULL;
	snprintf(object, sizeof(object), "%" PRIu64, number);
	snprintf(detail, sizeof(detail), "number=%" PRIu64 " entries=%zu "
	    "ca=%s", number, ca_crl_set_count(pc->ca->set.cs), pc->ca->ski);
	svc_audit_fill(&ar, a, ACTION_PUBLISH, object, AUDIT_OK, detail);
	/* The number now; its DER by the persister, off the caller's path. */
	if (db_crl_save(s->db, pc->ca->ca_id, number, now,
	    now + s->crl_validity, s->crl_persister_on ? NULL : b->der,
	    s->crl_persister_on ? 0 : b->der_len, &ar, e) == -1) {
		svc_crl_unref(b);
		return NULL;
	}
	if (s->crl_persister_on)
		persist_queue(s, pc->ca->ca_id, b, number);
	return b;
}

/*
 * Build and store the next CRL of pc's CA with pub_mu held: *num gets
 * its number, *out its buffer (one reference).  When another process
 * (the CLI) stored that number first, adopt its CRLs, reload the
 * entries (it may have revoked some) and try the next number.
 */
static int
crl_store_next(struct svc *s, const struct svc_actor *a,
    const struct svc_crl_pc *pc, int64_t now, uint64_t *num,
    struct svc_crl_buf **out, struct err *e)
{
	int tries;

	pthread_mutex_lock(&s->crl_mu);
	*num = s->crl_number + 1;
	pthread_mutex_unlock(&s->crl_mu);
	for (tries = 0; ; tries++) {
		if ((*out = crl_build_save(s, a, pc, *num, now, e)) != NULL)
			return 0;
		if (e->code != ERR_CONFLICT || tries + 1 >= PUBLISH_TRIES)
			return -1;
		err_clear(e);
		if (svc_crl_load(s, e) == -1 ||
		    svc_crl_set_load(s, pc->ca, now, e) == -1)
			return -1;
		pthread_mutex_lock(&s->crl_mu);
		*num = (s->crl_number >= *num ? s->crl_number : *num) + 1;
		pc->ca->stale = false;
		pthread_mutex_unlock(&s->crl_mu);
	}
}

/* crl_store_shared()'s signer: its last CRL, audit entry and texts. */
struct pub_sign {
	struct svc		*s;
	const struct svc_actor	*a;
	const struct svc_crl_pc	*pc;
	struct svc_crl_buf	*b;	/* one reference, or NULL */
	struct audit_rec	 ar;
	char			 object[24], detail[200];
};

/*
 * db_crl_publish()'s sign(), in its transaction: replace the set when
 * the database's differs, then sign it as p->number.
 */
static int
shared_sign(struct db_crl_pub *p, void *arg, struct err *e)
{
	struct pub_sign		*ps = arg;
	struct svc		*s = ps->s;
	struct svc_crl_ca	*ca = ps->pc->ca;
	unsigned char		*der = NULL;
	size_t			 len = 0;

	svc_crl_unref(ps->b);	/* a retried transaction's first try */
	ps->b = NULL;
	if (p->full) {
		log_info("CRL %" PRIu64 " of CA %s: entries reloaded (%zu "
		    "held, %zu stored)", p->number, ca->ski, p->nentries,
		    p->nrows);
		if (svc_crl_set_from(ca, p->rows, p->nrows, p->now, e) == -1)
			return -1;
	}
	p->this_update = p->now;
	p->next_update = p->now + s->crl_validity;
	if (ca_crl_set_sign(ps->pc->signer, ca->set.cs, p->number,
	    p->this_update, p->next_update, &der, &len, e) == -1 ||
	    (ps->b = svc_crl_buf_new(der, len, e)) == NULL)
		return -1;
	p->der = ps->b->der;
	p->len = ps->b->der_len;
	snprintf(ps->object, sizeof(ps->object), "%" PRIu64, p->number);
	snprintf(ps->detail, sizeof(ps->detail), "number=%" PRIu64
	    " entries=%zu ca=%s", p->number, ca_crl_set_count(ca->set.cs),
	    ca->ski);
	svc_audit_fill(&ps->ar, ps->a, ACTION_PUBLISH, ps->object, AUDIT_OK,
	    ps->detail);
	return 0;
}

/*
 * crl_store_next() on PostgreSQL, where instances share the numbering:
 * one transaction under the CRL lock checks the set against the
 * database (reloading it when another instance revoked), claims the
 * next number, stores the DER at once and notifies the others.
 */
static int
crl_store_shared(struct svc *s, const struct svc_actor *a,
    const struct svc_crl_pc *pc, int64_t now, uint64_t *num,
    struct svc_crl_buf **out, struct err *e)
{
	struct pub_sign	 ps;
	struct db_crl_pub p;

	memset(&ps, 0, sizeof(ps));
	memset(&p, 0, sizeof(p));
	ps.s = s;
	ps.a = a;
	ps.pc = pc;
	p.ca_id = pc->ca->ca_id;
	p.now = now;
	pthread_mutex_lock(&s->crl_mu);
	p.ours = s->crl_number;
	pthread_mutex_unlock(&s->crl_mu);
	p.nentries = ca_crl_set_count(pc->ca->set.cs);
	p.audit = &ps.ar;
	if (db_crl_publish(s->db, &p, shared_sign, &ps, e) == -1) {
		svc_crl_unref(ps.b);
		return -1;
	}
	*num = p.number;
	*out = ps.b;
	return 0;
}

/*
 * Bring the set of pc's CA up to date with pub_mu held: from scratch
 * when full, stale or never loaded, or when the clock went back; else
 * drop what expired since and merge the entries of the waiters of
 * that CA (and the certificates of a compromised key).
 */
static int
crl_set_update(struct svc *s, const struct svc_crl_pc *pc, bool full,
    const struct svc_crl_wait *w, int64_t now, struct err *e)
{
	struct svc_crl_ca	*ca = pc->ca;
	struct ca_crl_entry	*add = NULL;
	const struct svc_crl_wait *p;
	size_t			 k = 0;
	int			 rc = -1;

	pthread_mutex_lock(&s->crl_mu);
	full = full || ca->stale || !ca->set.loaded || now < ca->set.as_of;
	ca->stale = false;
	pthread_mutex_unlock(&s->crl_mu);
	if (full) {
		rc = svc_crl_set_load(s, ca, now, e);
		goto out;
	}
	if (svc_crl_set_advance(s, ca, now, e) == -1)
		goto out;
	/* A keyCompromise cascade: the key's certificates, by its index. */
	for (p = w; p != NULL; p = p->next, k++)
		if (p->spki[0] != '\0' &&
		    svc_crl_set_add_key(s, ca, p->spki, now, e) == -1)
			goto out;
	if (k > 0 && (add = malloc(k * sizeof(*add))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	/* As from scratch: a certificate expired by now is not listed. */
	for (k = 0, p = w; p != NULL; p = p->next)
		if (p->ca_id == ca->ca_id && p->not_after >= now)
			add[k++] = p->entry;
	rc = svc_crl_set_add(&ca->set, add, k, e);
out:
	free(add);
	return rc;
}

/*
 * A publication failed: log and audit it.  A database lost or
 * read-only (PostgreSQL failing over) stays ERR_UNAVAILABLE or
 * ERR_READ_ONLY, the client's to retry (503, never 500); anything else
 * is ours, never a refusal: ERR_INTERNAL.
 */
static void
crl_failed(struct svc *s, const struct svc_actor *a, struct err *e)
{
	if (e->code == ERR_UNAVAILABLE || e->code == ERR_READ_ONLY) {
		log_error("%s by %s: %s: %s", ACTION_PUBLISH,
		    svc_actor_name(a), err_code_name(e->code), e->msg);
		/* Logged only when the database cannot take it either. */
		svc_audit(s, a, ACTION_PUBLISH, NULL, AUDIT_ERROR,
		    err_code_name(e->code));
		return;
	}
	if (!svc_err_internal(e->code)) {
		struct err why = *e;

		err_set(e, ERR_INTERNAL, "%s: %.200s",
		    err_code_name(why.code), why.msg);
	}
	svc_fail(s, a, ACTION_PUBLISH, NULL, e);
}

/*
 * With pub_mu held: the publication context of CA ca_id in c (its
 * signer and slot).  Errors: ERR_NOT_FOUND (not in the bundle),
 * ERR_UNAVAILABLE (this instance has not got its key), ERR_INTERNAL.
 */
static int
crl_pc(struct svc *s, const struct svc_cas *c, int64_t ca_id,
    struct svc_crl_pc *pc, struct err *e)
{
	const struct svc_ca_ent *ent = svc_cas_find(c, ca_id);

	if (ent == NULL || ent->ca == NULL) {
		err_set(e, ERR_NOT_FOUND, "CA %lld is not in the bundle",
		    (long long)ca_id);
		return -1;
	}
	if (!ca_has_key(ent->ca)) {
		err_set(e, ERR_UNAVAILABLE, "this instance has not got the "
		    "key of CA %s", ent->rec.ski);
		return -1;
	}
	pc->signer = ent->ca;
	pthread_mutex_lock(&s->crl_mu);
	pc->ca = svc_crl_slot(s, ca_id, ent->rec.ski, true);
	pthread_mutex_unlock(&s->crl_mu);
	if (pc->ca == NULL) {
		log_error("CRL of CA %s: no free slot", ent->rec.ski);
		err_set(e, ERR_INTERNAL, "too many CAs");
		return -1;
	}
	return 0;
}

int
svc_crl_publish_ca(struct svc *s, const struct svc_actor *a, int64_t ca_id,
    bool full, const struct svc_crl_wait *w, uint64_t *number,
    struct err *e)
{
	struct svc_crl_pc	 pc = { NULL, NULL };
	struct svc_crl_buf	*b = NULL;
	struct svc_cas		*c;
	uint64_t		 num;
	int64_t			 now;
	int			 rc = -1;

	err_clear(e);
	pthread_mutex_lock(&s->pub_mu);
	c = svc_cas_get(s);
	svc_crl_sync(s, c);
	now = tu_now();
	if (crl_pc(s, c, ca_id, &pc, e) == -1 ||
	    crl_set_update(s, &pc, full, w, now, e) == -1)
		goto out;
	if ((s->shared ? crl_store_shared(s, a, &pc, now, &num, &b, e) :
	    crl_store_next(s, a, &pc, now, &num, &b, e)) == -1)
		goto out;
	svc_crl_swap(s, ca_id, pc.ca->ski, b, num, now,
	    now + s->crl_validity, false);
	if (number != NULL)
		*number = num;
	rc = 0;
out:
	if (pc.ca != NULL) {
		if (rc == -1)
			pc.ca->set.loaded = false;
		pthread_mutex_lock(&s->crl_mu);
		pc.ca->dirty = rc == -1;
		pthread_mutex_unlock(&s->crl_mu);
	}
	svc_cas_put(c);
	pthread_mutex_unlock(&s->pub_mu);
	if (rc == -1 && e->code != ERR_NOT_FOUND)
		crl_failed(s, a, e);
	return rc;
}

void
svc_crl_fini(struct svc *s)
{
	svc_crl_listen_stop(s);
	if (s->crl_persister_on) {
		pthread_mutex_lock(&s->crl_mu);
		s->crl_persist_stop = true;
		pthread_cond_broadcast(&s->crl_cv);
		pthread_mutex_unlock(&s->crl_mu);
		pthread_join(s->crl_persister, NULL);
		s->crl_persister_on = false;
	}
	for (size_t i = 0; i < SVC_CRL_CAS; i++) {
		svc_crl_unref(s->crls[i].persist);
		svc_crl_clear(&s->crls[i].crl);
		svc_crl_set_free(&s->crls[i].set);
		memset(&s->crls[i], 0, sizeof(s->crls[i]));
	}
}
