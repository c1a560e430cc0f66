/*
 * What the API and the metrics show of the CAs (SPEC section 10): the
 * view of every CA that is not gone (GET /v1/ca), the bundle without a
 * copy (GET /v1/ca/bundle.pem), and the per-CA figures of /metrics.
 * All of it borrows from a CA snapshot (cas.c) the caller's struct
 * holds a reference to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "svc_int.h"
#include "timeutil.h"

/* "<public_url>/v1/crl/<ski>" (new), as ca/ puts in the CRL DP. */
static char *
crl_url(const struct svc *s, const char *ski)
{
	const char	*url = s->public_url != NULL ? s->public_url : "";
	size_t		 len = strlen(url) + strlen(ski) + 16;
	char		*r;

	if ((r = malloc(len)) != NULL)
		snprintf(r, len, "%s/v1/crl/%s", url, ski);
	return r;
}

/* Fill v from ent (borrowing); the counts are the caller's. */
static int
view_fill(struct svc *s, const struct svc_ca_ent *ent,
    struct svc_ca_view_ent *v, struct err *e)
{
	const struct ca_rec *r = &ent->rec;

	v->id = ent->id;
	v->ski = r->ski;
	v->state = ca_state_name(ent->state);
	v->key_type = r->key_type;
	v->created_at = r->created_at;
	v->activated_at = r->activated_at;
	/* Pending: a CSR, no certificate. */
	if (ent->ca == NULL) {
		v->csr = r->csr_pem;
		return 0;
	}
	v->certificate = ca_cert_pem(ent->ca);
	v->chain = ca_chain_pem(ent->ca);
	v->anchors = ca_anchors_pem(ent->ca);
	v->not_before = ca_not_before(ent->ca);
	v->not_after = ca_not_after(ent->ca);
	snprintf(v->fingerprint, sizeof(v->fingerprint), "%s",
	    ca_fingerprint(ent->ca));
	v->has_key = ca_has_key(ent->ca);
	if ((v->crl_url = crl_url(s, r->ski)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * The unexpired certificates of every entry of c (0 for a pending one)
 * into counts[c->n]: counted again when the cache is older than
 * SVC_VIEW_COUNTS_TTL or was made for another snapshot, else copied.
 * One counter at a time (view_mu); the others wait and copy its result.
 */
static int
view_counts(struct svc *s, const struct svc_cas *c, int64_t now,
    int64_t *counts, struct err *e)
{
	int64_t	*fresh = NULL;
	size_t	 count;
	int	 rc = -1;

	pthread_mutex_lock(&s->view_mu);
	if (s->view_at != 0 && s->view_serial == c->serial &&
	    s->view_n == c->n && now >= s->view_at &&
	    now - s->view_at < SVC_VIEW_COUNTS_TTL) {
		memcpy(counts, s->view_counts, c->n * sizeof(*counts));
		rc = 0;
		goto out;
	}
	if ((fresh = calloc(c->n == 0 ? 1 : c->n, sizeof(*fresh))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < c->n; i++) {
		if (c->ent[i].state == CA_STATE_PENDING)
			continue;
		count = 0;
		if (db_ca_unexpired(s->db, c->ent[i].id, now, NULL, 0, &count,
		    e) == -1) {
			svc_err_hide(e, "CA view %s", c->ent[i].rec.ski);
			goto out;
		}
		fresh[i] = (int64_t)count;
	}
	memcpy(counts, fresh, c->n * sizeof(*counts));
	free(s->view_counts);
	s->view_counts = fresh;
	fresh = NULL;
	s->view_n = c->n;
	s->view_serial = c->serial;
	s->view_at = now;
	rc = 0;
out:
	pthread_mutex_unlock(&s->view_mu);
	free(fresh);
	return rc;
}

int
svc_ca_view(struct svc *s, struct svc_ca_view *v, struct err *e)
{
	struct svc_cas	*c;
	struct err	 le;
	int64_t		*counts = NULL;
	int		 rc = -1;

	ERR_LOCAL(e, le);
	memset(v, 0, sizeof(*v));
	c = svc_cas_get(s);
	v->ref = c;
	v->generation = c->generation;
	snprintf(v->bundle_etag, sizeof(v->bundle_etag), "%s",
	    c->bundle_etag);
	if ((v->ca = calloc(c->n, sizeof(*v->ca))) == NULL ||
	    (counts = calloc(c->n == 0 ? 1 : c->n, sizeof(*counts))) ==
	    NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (view_counts(s, c, tu_now(), counts, e) == -1)
		goto out;
	for (size_t i = 0; i < c->n; i++) {
		if (view_fill(s, &c->ent[i], &v->ca[i], e) == -1)
			goto out;
		v->n = i + 1;
		if (&c->ent[i] == c->cur)
			v->current = i;
		v->ca[i].certificates_unexpired = counts[i];
	}
	rc = 0;
out:
	free(counts);
	if (rc == -1)
		svc_ca_view_clear(v);
	return rc;
}

void
svc_ca_view_clear(struct svc_ca_view *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->n; i++)
		free(v->ca[i].crl_url);
	free(v->ca);
	svc_cas_put(v->ref);
	memset(v, 0, sizeof(*v));
}

void
svc_ca_ref_put(void *ref)
{
	svc_cas_put(ref);
}

void
svc_bundle_get(struct svc *s, struct svc_bundle *out)
{
	struct svc_cas *c = svc_cas_get(s);

	out->pem = c->bundle_pem;
	out->len = c->bundle_len;
	snprintf(out->etag, sizeof(out->etag), "%s", c->bundle_etag);
	out->ref = c;
}

void
svc_bundle_unref(struct svc_bundle *b)
{
	if (b == NULL)
		return;
	svc_cas_put(b->ref);
	memset(b, 0, sizeof(*b));
}

int
svc_ca_metrics(struct svc *s, struct svc_ca_metric **out, size_t *n,
    size_t *nodes_stale, struct err *e)
{
	struct svc_cas	*c;
	struct err	 le;
	char		**names = NULL;
	size_t		 k = 0, nnames = 0;
	int		 rc = -1;

	ERR_LOCAL(e, le);
	*out = NULL;
	*n = 0;
	*nodes_stale = 0;
	c = svc_cas_get(s);
	if ((*out = calloc(c->n > 0 ? c->n : 1, sizeof(**out))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < c->n; i++) {
		/* Pending: not in the bundle. */
		if (c->ent[i].ca == NULL)
			continue;
		snprintf((*out)[k].ski, sizeof((*out)[k].ski), "%s",
		    c->ent[i].rec.ski);
		(*out)[k].state = ca_state_name(c->ent[i].state);
		(*out)[k].key_type = c->ent[i].rec.key_type;
		(*out)[k].not_after = ca_not_after(c->ent[i].ca);
		k++;
	}
	*n = k;
	if (db_node_bundle_stale(s->db, c->bundle_etag, &names, &nnames,
	    e) == -1) {
		svc_err_hide(e, "CA metrics");
		goto out;
	}
	*nodes_stale = nnames;
	rc = 0;
out:
	db_node_names_free(names, nnames);
	svc_cas_put(c);
	if (rc == -1) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}
