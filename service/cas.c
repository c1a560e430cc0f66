/*
 * The CAs as this instance sees them (SPEC section 10): an immutable,
 * reference-counted snapshot built from the database's rows (db_ca_list())
 * and the key files this instance holds, swapped under cas_mu.  Readers
 * take a reference for one operation (O(1), no database); the last
 * reference frees a snapshot a reload replaced.  Each snapshot holds
 * its bundle (PEM and ETag) and the trust store renewals verify with.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "svc_int.h"
#include "timeutil.h"

_Static_assert(SVC_ETAG_MAX == RCA_ETAG_MAX, "svc.h's ETag size");

void
svc_ca_key_path(const struct svc *s, enum ca_state st, char *buf, size_t len)
{
	const char *dir = s->ca_key_dir != NULL ? s->ca_key_dir : ".";

	switch (st) {
	case CA_STATE_CURRENT:
		snprintf(buf, len, "%s", s->ca_key_path);
		break;
	case CA_STATE_PENDING:
	case CA_STATE_NEXT:
		snprintf(buf, len, "%s/ca-next.key", dir);
		break;
	case CA_STATE_RETIRED:
		snprintf(buf, len, "%s/ca-prev.key", dir);
		break;
	default:
		if (len > 0)
			buf[0] = '\0';
		break;
	}
}

static void
cas_free(struct svc_cas *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++) {
		ca_free(c->ent[i].ca);
		ca_rec_clear(&c->ent[i].rec);
	}
	free(c->ent);
	free(c->bundle_pem);
	ca_trust_free(c->trust);
	free(c->trust_ent);
	free(c);
}

struct svc_cas *
svc_cas_get(struct svc *s)
{
	struct svc_cas *c;

	pthread_mutex_lock(&s->cas_mu);
	c = s->cas;
	if (c != NULL)
		atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
	pthread_mutex_unlock(&s->cas_mu);
	return c;
}

void
svc_cas_put(struct svc_cas *c)
{
	if (c == NULL || atomic_fetch_sub_explicit(&c->refs, 1,
	    memory_order_acq_rel) != 1)
		return;
	cas_free(c);
}

const struct svc_ca_ent *
svc_cas_find(const struct svc_cas *c, int64_t id)
{
	for (size_t i = 0; c != NULL && i < c->n; i++)
		if (c->ent[i].id == id)
			return &c->ent[i];
	return NULL;
}

const struct svc_ca_ent *
svc_cas_find_ski(const struct svc_cas *c, const char *ski)
{
	for (size_t i = 0; c != NULL && ski != NULL && i < c->n; i++)
		if (strcmp(c->ent[i].rec.ski, ski) == 0)
			return &c->ent[i];
	return NULL;
}

/* Snapshot order: current first, then next (or pending), retired. */
static int
state_rank(enum ca_state st)
{
	switch (st) {
	case CA_STATE_CURRENT:
		return 0;
	case CA_STATE_NEXT:
	case CA_STATE_PENDING:
		return 1;
	case CA_STATE_RETIRED:
		return 2;
	default:
		return 3;
	}
}

/*
 * Load ent's CA from its row with the key file its state implies when
 * this instance has it.  A pending CA has no certificate: ca stays NULL.
 */
static int
ent_load(struct svc *s, struct svc_ca_ent *ent, struct err *e)
{
	char		path[RCA_MAX_PATH];
	struct stat	st;
	const char	*key = NULL;

	if (ent->state == CA_STATE_PENDING)
		return 0;
	if (ent->rec.cert_pem == NULL) {
		log_error("CA %lld (%s): no certificate stored",
		    (long long)ent->id, ca_state_name(ent->state));
		err_set(e, ERR_INTERNAL, "a CA has no certificate");
		return -1;
	}
	/* Without the file: no key (cas_log_keys() says so once). */
	svc_ca_key_path(s, ent->state, path, sizeof(path));
	if (path[0] != '\0' && stat(path, &st) == 0)
		key = path;
	ent->ca = ca_load_pem(ent->rec.cert_pem, ent->rec.anchors_pem, key,
	    s->ca_pass_file, s->public_url, e);
	if (ent->ca == NULL) {
		log_error("CA %s (%s): %s", ent->rec.ski,
		    ca_state_name(ent->state), e->msg);
		return -1;
	}
	if (strcmp(ca_spki_sha256(ent->ca), ent->rec.spki_sha256) != 0) {
		log_error("CA %s: its certificate's key is not the row's",
		    ent->rec.ski);
		err_set(e, ERR_INTERNAL, "a CA row does not match its "
		    "certificate");
		return -1;
	}
	return 0;
}

/* The bundle and trust store of c, from its entries with a CA. */
static int
cas_trust(struct svc_cas *c, struct err *e)
{
	const struct ca	**v = NULL;
	int		 rc = -1;

	if ((v = calloc(c->n, sizeof(*v))) == NULL ||
	    (c->trust_ent = calloc(c->n, sizeof(*c->trust_ent))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < c->n; i++) {
		if (c->ent[i].ca == NULL)
			continue;
		c->trust_ent[c->ntrust] = &c->ent[i];
		v[c->ntrust++] = c->ent[i].ca;
	}
	/*
	 * The bundle in creation order (CA id), not by state: activate
	 * keeps the same anchors, so it keeps the same bytes and ETag (no
	 * push to the nodes, no rewrite of the clients' ca.pem); only
	 * prepare and retire change it.
	 */
	for (size_t i = 1; i < c->ntrust; i++)
		for (size_t k = i; k > 0 && c->trust_ent[k - 1]->id >
		    c->trust_ent[k]->id; k--) {
			struct svc_ca_ent *t = c->trust_ent[k];

			c->trust_ent[k] = c->trust_ent[k - 1];
			c->trust_ent[k - 1] = t;
			v[k] = c->trust_ent[k]->ca;
			v[k - 1] = c->trust_ent[k - 1]->ca;
		}
	if ((c->bundle_pem = ca_bundle_pem(v, c->ntrust, c->bundle_etag,
	    e)) == NULL)
		goto out;
	c->bundle_len = strlen(c->bundle_pem);
	/* which (ca_trust_verify_cert()) indexes v, so trust_ent. */
	if ((c->trust = ca_trust_new(v, c->ntrust, e)) == NULL)
		goto out;
	rc = 0;
out:
	free(v);
	return rc;
}

/*
 * A snapshot of rows (stolen: their contents move into it, the array
 * stays the caller's).  Errors: ERR_INTERNAL (no current CA, memory),
 * those of ca_load_pem(), ca_bundle_pem(), ca_trust_new().
 */
static struct svc_cas *
cas_build(struct svc *s, struct ca_rec *rows, size_t n, uint64_t gen,
    struct err *e)
{
	struct svc_cas	*c = NULL, *ret = NULL;
	size_t		 k = 0;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->ent = calloc(n > 0 ? n : 1, sizeof(*c->ent))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	atomic_init(&c->refs, 1);
	c->serial = atomic_fetch_add(&s->cas_serial, 1) + 1;
	c->generation = gen;
	for (int rank = 0; rank < 3; rank++)
		for (size_t i = 0; i < n; i++) {
			if (state_rank(rows[i].state) != rank)
				continue;
			c->ent[k].id = rows[i].id;
			c->ent[k].state = rows[i].state;
			c->ent[k].rec = rows[i];
			memset(&rows[i], 0, sizeof(rows[i]));
			rows[i].state = CA_STATE_GONE;	/* moved */
			c->n = ++k;
			if (ent_load(s, &c->ent[k - 1], e) == -1)
				goto out;
		}
	if (c->n == 0 || c->ent[0].state != CA_STATE_CURRENT) {
		log_error("the database holds no current CA");
		err_set(e, ERR_INTERNAL, "no current CA");
		goto out;
	}
	c->cur = &c->ent[0];
	if (cas_trust(c, e) == -1)
		goto out;
	ret = c;
	c = NULL;
out:
	cas_free(c);
	return ret;
}

/* Make c (its reference) the snapshot; the old one's is dropped. */
static void
cas_swap(struct svc *s, struct svc_cas *c)
{
	struct svc_cas *old;

	pthread_mutex_lock(&s->cas_mu);
	old = s->cas;
	s->cas = c;
	pthread_mutex_unlock(&s->cas_mu);
	svc_cas_put(old);
}

/*
 * Log each CA without its key here once: when it first shows so (or
 * changed state) in a snapshot.
 */
static void
cas_log_keys(const struct svc *s, const struct svc_cas *old,
    const struct svc_cas *c)
{
	const struct svc_ca_ent *was;
	char			 path[RCA_MAX_PATH];

	for (size_t i = 0; i < c->n; i++) {
		const struct svc_ca_ent *ent = &c->ent[i];

		if (ent->ca == NULL || ca_has_key(ent->ca))
			continue;
		was = svc_cas_find(old, ent->id);
		if (was != NULL && was->state == ent->state &&
		    was->ca != NULL && !ca_has_key(was->ca))
			continue;
		svc_ca_key_path(s, ent->state, path, sizeof(path));
		if (ent->state == CA_STATE_CURRENT)
			log_warn("this instance has not got the current CA's "
			    "key (CA %s, no %s): it refuses issuance",
			    ent->rec.ski, path);
		else
			log_warn("this instance has not got the key of the "
			    "%s CA %s (no %s): it cannot sign its CRL",
			    ca_state_name(ent->state), ent->rec.ski, path);
	}
}

int
svc_cas_reload(struct svc *s, struct err *e)
{
	struct ca_rec	*rows = NULL;
	struct svc_cas	*c = NULL, *old;
	size_t		 n = 0;
	uint64_t	 gen = 0;
	int		 rc = -1;

	pthread_mutex_lock(&s->cas_reload_mu);
	if (db_ca_list(s->db, &rows, &n, &gen, e) == -1)
		goto out;
	if (svc_ca_files_reconcile(s, rows, n, e) == -1)
		goto out;
	if ((c = cas_build(s, rows, n, gen, e)) == NULL)
		goto out;
	old = svc_cas_get(s);
	cas_log_keys(s, old, c);
	if (old != NULL && old->generation != gen)
		log_info("CAs: generation %llu, current CA %s",
		    (unsigned long long)gen, c->cur->rec.ski);
	svc_cas_put(old);
	cas_swap(s, c);
	c = NULL;
	rc = 0;
out:
	pthread_mutex_unlock(&s->cas_reload_mu);
	db_ca_list_free(rows, n);
	cas_free(c);
	return rc;
}

int
svc_cas_refresh(struct svc *s, struct err *e)
{
	struct svc_cas	*c;
	uint64_t	 gen = 0, have;

	if (db_ca_generation(s->db, &gen, e) == -1)
		return -1;
	c = svc_cas_get(s);
	have = c != NULL ? c->generation : 0;
	svc_cas_put(c);
	if (c != NULL && have == gen)
		return 0;
	return svc_cas_reload(s, e) == -1 ? -1 : 1;
}

/*
 * The row of the CA loaded from the configured files, for
 * db_ca_bootstrap() when the database has none (before issue 12).
 */
static int
boot_rec(struct svc *s, const struct ca *ca, struct ca_rec *r,
    struct err *e)
{
	const char *chain = ca_chain_pem(ca);

	memset(r, 0, sizeof(*r));
	r->id = 1;
	snprintf(r->ski, sizeof(r->ski), "%s", ca_ski_hex(ca));
	snprintf(r->spki_sha256, sizeof(r->spki_sha256), "%s",
	    ca_spki_sha256(ca));
	r->state = CA_STATE_CURRENT;
	r->cert_pem = strdup(chain[0] != '\0' ? chain : ca_cert_pem(ca));
	r->anchors_pem = strdup(ca_anchors_pem(ca));
	r->key_type = ca_key_type(ca);
	r->not_before = ca_not_before(ca);
	r->not_after = ca_not_after(ca);
	r->created_at = tu_now();
	r->activated_at = r->created_at;
	(void)s;
	if (r->cert_pem == NULL || r->anchors_pem == NULL) {
		ca_rec_clear(r);
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * A database without CA rows (made before issue 12): the configured
 * ca.crt and ca.key become CA 1, current.  On a read-only standby that
 * cannot store it, the snapshot is made from the files alone.
 */
static int
cas_bootstrap(struct svc *s, struct err *e)
{
	struct ca	*ca = NULL;
	struct svc_cas	*c = NULL;
	struct ca_rec	 r;
	int		 rc = -1;

	memset(&r, 0, sizeof(r));
	if ((ca = ca_load(s->ca_cert_path, s->ca_key_path, s->ca_pass_file,
	    s->public_url, e)) == NULL || boot_rec(s, ca, &r, e) == -1)
		goto out;
	/* svc_read_only(), without calling back into ops.c. */
	if (!atomic_load(&s->read_only)) {
		if (db_ca_bootstrap(s->db, &r, e) == -1)
			goto out;
		rc = svc_cas_reload(s, e);
		goto out;
	}
	log_warn("the database holds no CA yet (read-only): serving the "
	    "configured one");
	if ((c = cas_build(s, &r, 1, 0, e)) == NULL)
		goto out;
	cas_swap(s, c);
	rc = 0;
out:
	ca_rec_clear(&r);
	ca_free(ca);
	return rc;
}

int
svc_cas_open(struct svc *s, struct err *e)
{
	struct ca_rec	*rows = NULL;
	size_t		 n = 0;
	uint64_t	 gen = 0;

	if (db_ca_list(s->db, &rows, &n, &gen, e) == -1)
		return -1;
	db_ca_list_free(rows, n);
	if (n == 0)
		return cas_bootstrap(s, e);
	return svc_cas_reload(s, e);
}

void
svc_cas_close(struct svc *s)
{
	cas_swap(s, NULL);
}

bool
svc_cas_has_key(struct svc *s)
{
	struct svc_cas	*c = svc_cas_get(s);
	bool		 has;

	has = c != NULL && ca_has_key(c->cur->ca);
	svc_cas_put(c);
	return has;
}

int
svc_cas_issuer(struct svc *s, struct svc_cas **out, struct err *e)
{
	struct svc_cas *c = svc_cas_get(s);

	if (c == NULL || !ca_has_key(c->cur->ca)) {
		svc_cas_put(c);
		*out = NULL;
		err_set(e, ERR_UNAVAILABLE, "this instance has not got the "
		    "current CA key");
		return -1;
	}
	*out = c;
	return 0;
}
