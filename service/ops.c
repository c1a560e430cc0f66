/*
 * The small read-only operations: a profile by name, CA details,
 * readiness, statistics, audit log pages, and the page-size bound.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "svc_int.h"
#include "timeutil.h"

int
svc_list_limit(size_t limit, struct err *e)
{
	if (limit == 0 || limit > RCA_MAX_LIST_LIMIT) {
		err_set(e, ERR_INVALID_REQUEST, "limit must be 1 to %d",
		    RCA_MAX_LIST_LIMIT);
		return -1;
	}
	return 0;
}

const struct profile *
svc_profile(struct svc *s, const char *name)
{
	if (s == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < s->nprofiles; i++)
		if (strcmp(s->profiles[i].name, name) == 0)
			return &s->profiles[i];
	return NULL;
}

void
svc_ca_info(struct svc *s, struct svc_ca_info *out)
{
	struct svc_cas *c = svc_cas_get(s);
	const struct ca *ca = c->cur->ca;

	out->pem = ca_cert_pem(ca);
	out->not_after = ca_not_after(ca);
	out->fingerprint = ca_fingerprint(ca);
	out->key_type = ca_key_type(ca);
	out->ref = c;
}

void
svc_ca_info_clear(struct svc_ca_info *ci)
{
	if (ci == NULL)
		return;
	svc_cas_put(ci->ref);
	memset(ci, 0, sizeof(*ci));
}

const char *
svc_db_state_name(enum svc_db_state st)
{
	static const char *const names[SVC_DB__MAX] = {
		[SVC_DB_OK] = "ok",
		[SVC_DB_READ_ONLY] = "read_only",
		[SVC_DB_UNAVAILABLE] = "unavailable",
	};

	if ((unsigned)st >= SVC_DB__MAX)
		return "unavailable";
	return names[st];
}

void
svc_health(struct svc *s, struct svc_health *h)
{
	int st;

	memset(h, 0, sizeof(*h));
	h->db = SVC_DB_UNAVAILABLE;
	if (s == NULL || s->db == NULL)
		return;
	h->ca_key = svc_cas_has_key(s);
	st = db_state(s->db);
	svc_db_seen(s, st);
	if (st == DB_STATE_OK)
		h->db = SVC_DB_OK;
	else if (st == DB_STATE_READ_ONLY)
		h->db = SVC_DB_READ_ONLY;
	else
		log_warn("readiness: the database is unavailable");
	h->leader = atomic_load(&s->leader);
	h->ready = h->db == SVC_DB_OK && h->ca_key;
}

bool
svc_ready(struct svc *s)
{
	struct svc_health h;

	svc_health(s, &h);
	return h.ready;
}

bool
svc_read_only(struct svc *s)
{
	return s != NULL && atomic_load(&s->read_only);
}

int
svc_stats(struct svc *s, struct svc_stats *out, struct err *e)
{
	struct db_profile_count	*c = NULL;
	struct svc_cas		*cas;
	struct svc_crl_ca	*slot;
	struct err		 le;
	size_t			 n = 0;
	int			 rc = -1;

	ERR_LOCAL(e, le);
	memset(out, 0, sizeof(*out));
	if (db_cert_counts(s->db, tu_now(), &c, &n, e) == -1) {
		svc_err_hide(e, "stats");
		goto out;
	}
	if (n > 0 && (out->profiles = calloc(n, sizeof(*out->profiles))) ==
	    NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(out->profiles[i].profile,
		    sizeof(out->profiles[i].profile), "%s", c[i].profile);
		out->profiles[i].issued = c[i].issued;
		out->profiles[i].active = c[i].active;
		out->revoked_total += c[i].revoked;
	}
	out->nprofiles = n;
	/* The figures of the single CRL before issue 12: the current CA's. */
	cas = svc_cas_get(s);
	out->ca_not_after = ca_not_after(cas->cur->ca);
	pthread_mutex_lock(&s->crl_mu);
	if ((slot = svc_crl_slot(s, cas->cur->id, NULL, false)) != NULL) {
		out->crl_number = slot->crl.number;
		out->crl_next_update = slot->crl.next_update;
	}
	pthread_mutex_unlock(&s->crl_mu);
	svc_cas_put(cas);
	rc = 0;
out:
	free(c);
	if (rc == -1)
		svc_stats_clear(out);
	return rc;
}

void
svc_stats_clear(struct svc_stats *st)
{
	if (st == NULL)
		return;
	free(st->profiles);
	memset(st, 0, sizeof(*st));
}

int
svc_audit_list(struct svc *s, int64_t after, size_t limit,
    struct audit_rec **out, size_t *n, int64_t *next, struct err *e)
{
	struct err le;

	ERR_LOCAL(e, le);
	if (svc_list_limit(limit, e) == -1)
		return -1;
	if (db_audit_list(s->db, after, limit, out, n, next, e) == -1) {
		svc_err_hide(e, "audit list");
		return -1;
	}
	return 0;
}

void
svc_audit_list_free(struct audit_rec *list, size_t n)
{
	db_audit_list_free(list, n);
}
