/*
 * The served CRL (crl.c publishes it): immutable, reference-counted
 * buffers that readers share, the swap that makes a newer one current,
 * and the load of the newest one stored (by this process, by another
 * process such as the CLI, or by another instance on PostgreSQL).
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "svc_int.h"
#include "timeutil.h"

struct svc_crl_buf *
svc_crl_buf_new(unsigned char *der, size_t len, struct err *e)
{
	struct svc_crl_buf *b;

	if ((b = calloc(1, sizeof(*b))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		free(der);
		return NULL;
	}
	if (pthread_mutex_init(&b->pem_mu, NULL) != 0) {
		err_set(e, ERR_INTERNAL, "cannot create a mutex");
		free(der);
		free(b);
		return NULL;
	}
	atomic_init(&b->refs, 1);
	b->der = der;
	b->der_len = len;
	return b;
}

int
svc_crl_buf_pem(struct svc_crl_buf *b, struct svc_crl *c, struct err *e)
{
	int rc = 0;

	pthread_mutex_lock(&b->pem_mu);
	if (b->pem == NULL) {
		if ((b->pem = ca_crl_pem(b->der, b->der_len, e)) == NULL)
			rc = -1;
		else
			b->pem_len = strlen(b->pem);
	}
	c->pem = b->pem;
	c->pem_len = b->pem_len;
	pthread_mutex_unlock(&b->pem_mu);
	return rc;
}

void
svc_crl_unref(struct svc_crl_buf *b)
{
	if (b == NULL || atomic_fetch_sub_explicit(&b->refs, 1,
	    memory_order_acq_rel) != 1)
		return;
	free(b->der);
	free(b->pem);
	pthread_mutex_destroy(&b->pem_mu);
	free(b);
}

struct svc_crl_ca *
svc_crl_slot(struct svc *s, int64_t ca_id, const char *ski, bool make)
{
	struct svc_crl_ca *free_slot = NULL;

	for (size_t i = 0; i < SVC_CRL_CAS; i++) {
		if (s->crls[i].ca_id == ca_id)
			return &s->crls[i];
		if (s->crls[i].ca_id == 0 && free_slot == NULL)
			free_slot = &s->crls[i];
	}
	if (!make || free_slot == NULL || ca_id <= 0)
		return NULL;
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->ca_id = ca_id;
	snprintf(free_slot->ski, sizeof(free_slot->ski), "%s",
	    ski != NULL ? ski : "");
	return free_slot;
}

bool
svc_crl_swap(struct svc *s, int64_t ca_id, const char *ski,
    struct svc_crl_buf *b, uint64_t number, int64_t this_update,
    int64_t next_update, bool from_db)
{
	struct svc_crl		 old;
	struct svc_crl_ca	*ca;
	bool			 swapped = false;

	memset(&old, 0, sizeof(old));
	pthread_mutex_lock(&s->crl_mu);
	if (number > s->crl_number)
		s->crl_number = number;
	ca = svc_crl_slot(s, ca_id, ski, true);
	if (ca != NULL && number > ca->crl.number) {
		old = ca->crl;
		ca->crl.der = b->der;
		ca->crl.der_len = b->der_len;
		ca->crl.pem = NULL;	/* buf_pem() */
		ca->crl.pem_len = 0;
		ca->crl.number = number;
		ca->crl.this_update = this_update;
		ca->crl.next_update = next_update;
		snprintf(ca->crl.etag, sizeof(ca->crl.etag), "\"crl-%" PRIu64
		    "\"", number);
		ca->crl.ref = b;
		/*
		 * Another process's CRL may list revocations this one
		 * never saw: reload the set (on PostgreSQL the next
		 * publication checks the set against the database).
		 */
		if (from_db && !s->shared)
			ca->stale = true;
		b = NULL;
		swapped = true;
	}
	pthread_mutex_unlock(&s->crl_mu);
	/* Released outside the lock: readers never wait on free(). */
	svc_crl_clear(&old);
	svc_crl_unref(b);
	return swapped;
}

/* Load CA ent's latest stored CRL when newer than ours. */
static int
crl_load_ca(struct svc *s, const struct svc_ca_ent *ent, struct err *e)
{
	struct svc_crl_buf	*b;
	struct svc_crl_ca	*ca;
	unsigned char		*der = NULL;
	size_t			 len = 0;
	uint64_t		 number = 0, ours = 0;
	int64_t			 tu = 0, nu = 0;

	if (db_crl_latest(s->db, ent->id, &number, &tu, &nu, &der, &len,
	    e) == -1) {
		if (e->code != ERR_NOT_FOUND)
			return -1;
		err_clear(e);
		return 0;
	}
	pthread_mutex_lock(&s->crl_mu);
	if ((ca = svc_crl_slot(s, ent->id, ent->rec.ski, false)) != NULL)
		ours = ca->crl.number;
	pthread_mutex_unlock(&s->crl_mu);
	if (number <= ours) {
		free(der);
		return 1;
	}
	if ((b = svc_crl_buf_new(der, len, e)) == NULL)
		return -1;
	svc_crl_swap(s, ent->id, ent->rec.ski, b, number, tu, nu, true);
	return 1;
}

int
svc_crl_load(struct svc *s, struct err *e)
{
	struct svc_cas	*c = NULL;
	uint64_t	 number = 0, ours;
	int		 rc = -1;

	/* Read the DERs only when a number newer than ours is stored. */
	if (db_crl_number(s->db, &number, e) == -1)
		return -1;
	if (number == 0)
		return 0;
	c = svc_cas_get(s);
	pthread_mutex_lock(&s->crl_mu);
	/* A new snapshot may list a CA whose CRL we never loaded. */
	ours = s->crl_loaded_serial == c->serial ? s->crl_loaded : 0;
	pthread_mutex_unlock(&s->crl_mu);
	if (number <= ours) {
		rc = 1;
		goto out;
	}
	for (size_t i = 0; i < c->n; i++) {
		if (c->ent[i].ca == NULL)	/* pending: no CRL */
			continue;
		if (crl_load_ca(s, &c->ent[i], e) == -1)
			goto out;
	}
	pthread_mutex_lock(&s->crl_mu);
	if (number > s->crl_number)
		s->crl_number = number;
	s->crl_loaded = number;
	s->crl_loaded_serial = c->serial;
	pthread_mutex_unlock(&s->crl_mu);
	rc = 1;
out:
	svc_cas_put(c);
	return rc;
}

void
svc_crl_sync(struct svc *s, const struct svc_cas *c)
{
	struct svc_crl_ca	 gone[SVC_CRL_CAS];
	size_t			 n = 0;

	pthread_mutex_lock(&s->crl_mu);
	if (s->crl_cas_serial == c->serial) {
		pthread_mutex_unlock(&s->crl_mu);
		return;
	}
	for (size_t i = 0; i < SVC_CRL_CAS; i++) {
		const struct svc_ca_ent *ent;

		if (s->crls[i].ca_id == 0)
			continue;
		ent = svc_cas_find(c, s->crls[i].ca_id);
		if (ent != NULL && ent->ca != NULL)
			continue;
		gone[n++] = s->crls[i];
		memset(&s->crls[i], 0, sizeof(s->crls[i]));
	}
	s->crl_cas_serial = c->serial;
	pthread_mutex_unlock(&s->crl_mu);
	/* Freed outside the lock (pub_mu keeps the sets ours). */
	for (size_t i = 0; i < n; i++) {
		svc_crl_clear(&gone[i].crl);
		svc_crl_unref(gone[i].persist);
		svc_crl_set_free(&gone[i].set);
	}
}

void
svc_crl_clear(struct svc_crl *c)
{
	if (c == NULL)
		return;
	svc_crl_unref(c->ref);
	memset(c, 0, sizeof(*c));
}

