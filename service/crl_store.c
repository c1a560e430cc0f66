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

#include "svc_int.h"

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

/* Make b's PEM unless it exists; then c's pem is set.  ERR_CRYPTO. */
static int
buf_pem(struct svc_crl_buf *b, struct svc_crl *c, struct err *e)
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

bool
svc_crl_swap(struct svc *s, struct svc_crl_buf *b, uint64_t number,
    int64_t this_update, int64_t next_update, bool from_db)
{
	struct svc_crl	old;
	bool		swapped = false;

	memset(&old, 0, sizeof(old));
	pthread_mutex_lock(&s->crl_mu);
	if (number > s->crl.number) {
		old = s->crl;
		s->crl.der = b->der;
		s->crl.der_len = b->der_len;
		s->crl.pem = NULL;	/* buf_pem() */
		s->crl.pem_len = 0;
		s->crl.number = number;
		s->crl.this_update = this_update;
		s->crl.next_update = next_update;
		snprintf(s->crl.etag, sizeof(s->crl.etag), "\"crl-%" PRIu64
		    "\"", number);
		s->crl.ref = b;
		/*
		 * Another process's CRL may list revocations this one
		 * never saw: reload the set (on PostgreSQL the next
		 * publication checks the set against the database).
		 */
		if (from_db && !s->shared)
			s->crl_stale = true;
		b = NULL;
		swapped = true;
	}
	pthread_mutex_unlock(&s->crl_mu);
	/* Released outside the lock: readers never wait on free(). */
	svc_crl_clear(&old);
	svc_crl_unref(b);
	return swapped;
}

int
svc_crl_load(struct svc *s, struct err *e)
{
	struct svc_crl_buf	*b;
	unsigned char		*der = NULL;
	size_t			 len = 0;
	uint64_t		 number = 0, ours;
	int64_t			 tu = 0, nu = 0;

	/* Read the DER only when the stored one is newer than ours. */
	if (db_crl_number(s->db, &number, e) == -1)
		return -1;
	pthread_mutex_lock(&s->crl_mu);
	ours = s->crl.number;
	pthread_mutex_unlock(&s->crl_mu);
	if (number != 0 && number <= ours)
		return 1;
	if (db_crl_latest(s->db, &number, &tu, &nu, &der, &len, e) == -1) {
		if (e->code != ERR_NOT_FOUND)
			return -1;
		err_clear(e);
		return 0;
	}
	if ((b = svc_crl_buf_new(der, len, e)) == NULL)
		return -1;
	svc_crl_swap(s, b, number, tu, nu, true);
	return 1;
}

/* Take a reference to the current CRL; with its PEM when pem. */
static int
crl_current(struct svc *s, struct svc_crl *out, bool pem, struct err *e)
{
	int rc = -1;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->crl_mu);
	if (s->crl.number == 0 || s->crl.ref == NULL) {
		err_set(e, ERR_INTERNAL, "no CRL has been published");
		pthread_mutex_unlock(&s->crl_mu);
		goto out;
	}
	*out = s->crl;
	atomic_fetch_add_explicit(&s->crl.ref->refs, 1,
	    memory_order_relaxed);
	pthread_mutex_unlock(&s->crl_mu);
	if (pem && buf_pem(out->ref, out, e) == -1)
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
	(void)ski;
	return crl_current(s, out, true, e);
}

int
svc_crl_current_der(struct svc *s, const char *ski, struct svc_crl *out,
    struct err *e)
{
	(void)ski;
	return crl_current(s, out, false, e);
}

void
svc_crl_clear(struct svc_crl *c)
{
	if (c == NULL)
		return;
	svc_crl_unref(c->ref);
	memset(c, 0, sizeof(*c));
}

