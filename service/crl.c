/*
 * The CRL: built from the revoked, unexpired certificates, signed, stored
 * with a strictly increasing number and served from memory (pub_mu
 * serialises publication, crl_mu guards the copy; schedule.c says when).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc_int.h"
#include "timeutil.h"

#define ACTION_PUBLISH	"crl.publish"

/* Attempts when another process stores the same CRL number first. */
#define PUBLISH_TRIES	3

/* Replace the in-memory CRL (steals der and pem) unless it is older. */
static void
crl_swap(struct svc *s, unsigned char *der, size_t len, char *pem,
    uint64_t number, int64_t this_update, int64_t next_update)
{
	struct svc_crl old;

	memset(&old, 0, sizeof(old));
	pthread_mutex_lock(&s->crl_mu);
	if (number > s->crl.number) {
		old = s->crl;
		s->crl.der = der;
		s->crl.der_len = len;
		s->crl.pem = pem;
		s->crl.number = number;
		s->crl.this_update = this_update;
		s->crl.next_update = next_update;
		snprintf(s->crl.etag, sizeof(s->crl.etag), "\"crl-%" PRIu64
		    "\"", number);
		der = NULL;
		pem = NULL;
	}
	pthread_mutex_unlock(&s->crl_mu);
	/* Freed outside the lock: readers never wait on free(). */
	svc_crl_clear(&old);
	free(der);
	free(pem);
}

int
svc_crl_load(struct svc *s, struct err *e)
{
	unsigned char	*der = NULL;
	char		*pem = NULL;
	size_t		 len = 0;
	uint64_t	 number = 0;
	int64_t		 tu = 0, nu = 0;
	int		 rc = -1;

	if (db_crl_latest(s->db, &number, &tu, &nu, &der, &len, e) == -1) {
		if (e->code == ERR_NOT_FOUND) {
			err_clear(e);
			rc = 0;
		}
		goto out;
	}
	if ((pem = ca_crl_pem(der, len, e)) == NULL)
		goto out;
	crl_swap(s, der, len, pem, number, tu, nu);
	der = NULL;
	pem = NULL;
	rc = 1;
out:
	free(der);
	free(pem);
	return rc;
}

/* Build, sign and store CRL number with pub_mu held; der, pem are new. */
static int
crl_build_save(struct svc *s, const struct svc_actor *a,
    const struct ca_crl_entry *entries, size_t n, uint64_t number,
    int64_t now, unsigned char **der, size_t *len, char **pem,
    struct err *e)
{
	struct audit_rec	ar;
	char			object[24], detail[64];

	*der = NULL;
	*pem = NULL;
	if (ca_crl_build(s->ca, entries, n, number, now,
	    now + s->crl_validity, der, len, e) == -1)
		return -1;
	if ((*pem = ca_crl_pem(*der, *len, e)) == NULL)
		return -1;
	snprintf(object, sizeof(object), "%" PRIu64, number);
	snprintf(detail, sizeof(detail), "number=%" PRIu64 " entries=%zu",
	    number, n);
	svc_audit_fill(&ar, a, ACTION_PUBLISH, object, AUDIT_OK, detail);
	return db_crl_save(s->db, number, now, now + s->crl_validity, *der,
	    *len, &ar, e);
}

/*
 * The entries of the next CRL: the revoked, unexpired certificates at
 * now.  *entries is new (free()), never NULL on success.
 */
static int
crl_entries(struct svc *s, int64_t now, struct ca_crl_entry **entries,
    size_t *n, struct err *e)
{
	struct db_crl_row	*rows = NULL;
	int			 rc = -1;

	*entries = NULL;
	*n = 0;
	if (db_cert_revoked_unexpired(s->db, now, &rows, n, e) == -1)
		goto out;
	if ((*entries = calloc(*n > 0 ? *n : 1, sizeof(**entries))) ==
	    NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < *n; i++) {
		memcpy((*entries)[i].serial, rows[i].serial,
		    sizeof((*entries)[i].serial));
		(*entries)[i].revoked_at = rows[i].revoked_at;
		(*entries)[i].reason = rows[i].reason;
	}
	rc = 0;
out:
	free(rows);
	return rc;
}

/*
 * Build and store the next CRL with pub_mu held: *num gets its number,
 * der and pem are new.  When another process (the CLI) stored that
 * number first, adopt its CRL as the base and try the next one.
 */
static int
crl_store_next(struct svc *s, const struct svc_actor *a,
    const struct ca_crl_entry *entries, size_t n, int64_t now,
    uint64_t *num, unsigned char **der, size_t *len, char **pem,
    struct err *e)
{
	int tries;

	pthread_mutex_lock(&s->crl_mu);
	*num = s->crl.number + 1;
	pthread_mutex_unlock(&s->crl_mu);
	for (tries = 0; ; tries++) {
		if (crl_build_save(s, a, entries, n, *num, now, der, len,
		    pem, e) == 0)
			return 0;
		if (e->code != ERR_CONFLICT || tries + 1 >= PUBLISH_TRIES)
			return -1;
		free(*der);
		free(*pem);
		*der = NULL;
		*pem = NULL;
		err_clear(e);
		if (svc_crl_load(s, e) == -1)
			return -1;
		pthread_mutex_lock(&s->crl_mu);
		*num = (s->crl.number >= *num ? s->crl.number : *num) + 1;
		pthread_mutex_unlock(&s->crl_mu);
	}
}

int
svc_crl_publish(struct svc *s, const struct svc_actor *a, uint64_t *number,
    struct err *e)
{
	struct ca_crl_entry	*entries = NULL;
	unsigned char		*der = NULL;
	char			*pem = NULL;
	size_t			 n = 0, len = 0;
	uint64_t		 num;
	int64_t			 now;
	int			 rc = -1;

	err_clear(e);
	pthread_mutex_lock(&s->pub_mu);
	now = tu_now();

	/* Read after the caller's revocation committed, so it is listed. */
	if (crl_entries(s, now, &entries, &n, e) == -1)
		goto out;
	if (crl_store_next(s, a, entries, n, now, &num, &der, &len, &pem,
	    e) == -1)
		goto out;
	crl_swap(s, der, len, pem, num, now, now + s->crl_validity);
	der = NULL;
	pem = NULL;
	if (number != NULL)
		*number = num;
	rc = 0;
out:
	pthread_mutex_lock(&s->crl_mu);
	s->crl_dirty = rc == -1;
	pthread_mutex_unlock(&s->crl_mu);
	pthread_mutex_unlock(&s->pub_mu);
	if (rc == -1) {
		/* Never a refusal: every failure here is ours. */
		if (!svc_err_internal(e->code)) {
			struct err why = *e;

			err_set(e, ERR_INTERNAL, "%s: %.200s",
			    err_code_name(why.code), why.msg);
		}
		svc_fail(s, a, ACTION_PUBLISH, NULL, e);
	}
	free(entries);
	free(der);
	free(pem);
	return rc;
}

int
svc_publish_crl(struct svc *s, const struct svc_actor *a, struct err *e)
{
	struct err le;

	ERR_LOCAL(e, le);
	return svc_crl_publish(s, a, NULL, e);
}

int
svc_crl_current(struct svc *s, struct svc_crl *out, struct err *e)
{
	int rc = -1;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->crl_mu);
	if (s->crl.number == 0 || s->crl.der == NULL) {
		err_set(e, ERR_INTERNAL, "no CRL has been published");
		goto out;
	}
	if ((out->der = malloc(s->crl.der_len)) == NULL ||
	    (out->pem = strdup(s->crl.pem)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	memcpy(out->der, s->crl.der, s->crl.der_len);
	out->der_len = s->crl.der_len;
	out->number = s->crl.number;
	out->this_update = s->crl.this_update;
	out->next_update = s->crl.next_update;
	memcpy(out->etag, s->crl.etag, sizeof(out->etag));
	rc = 0;
out:
	pthread_mutex_unlock(&s->crl_mu);
	if (rc == -1)
		svc_crl_clear(out);
	return rc;
}

void
svc_crl_clear(struct svc_crl *c)
{
	if (c == NULL)
		return;
	free(c->der);
	free(c->pem);
	memset(c, 0, sizeof(*c));
}
