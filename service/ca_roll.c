/*
 * The rollover's phases (SPEC section 10): prepare makes the next CA
 * (its key and certificate files, its row) and pushes the new bundle to
 * every node; activate switches issuance to it and marks every node due
 * for rotation; retire drops the previous CA once none of its
 * certificates is unexpired and pushes the bundle again.  The database
 * is authoritative: each phase is one transaction there (with its audit
 * entry), then the files follow it (ca_files.c) and the snapshot is
 * reloaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca_life_int.h"
#include "log.h"
#include "timeutil.h"

#define ACTION_PREPARE	"ca.prepare"
#define ACTION_ACTIVATE	"ca.activate"
#define ACTION_RETIRE	"ca.retire"

#define FORBIDDEN	"the CA is changed by admins only"
/* --days of a new CA: a day to 20 years. */
#define DAYS_MAX	7305

/* How the next CA is made (one way per prepare). */
enum prep_way {
	PREP_SELF,	/* one tier: self-signed like the current */
	PREP_SIGNED,	/* two tiers: signed by the root key (CLI) */
	PREP_CSR,	/* a key and a CSR; the certificate comes later */
	PREP_COMPLETE,	/* the certificate for the pending CA's key */
	PREP_IMPORT,	/* a certificate for a key put as ca-next.key */
};

static const char *const way_name[] = {
	[PREP_SELF] = "self-signed", [PREP_SIGNED] = "signed by the root",
	[PREP_CSR] = "csr", [PREP_COMPLETE] = "completed",
	[PREP_IMPORT] = "imported",
};

void
svc_ca_set_deferred(struct svc *s, bool deferred)
{
	atomic_store(&s->life->deferred, deferred);
}

/* The row in state st (NULL: none). */
static const struct ca_rec *
row_in(const struct ca_rec *rows, size_t n, enum ca_state st)
{
	for (size_t i = 0; i < n; i++)
		if (rows[i].state == st)
			return &rows[i];
	return NULL;
}

/* The checks of a phase's start: an admin, a writable database. */
static int
phase_start(struct svc *s, const struct svc_actor *a, struct err *e)
{
	if (svc_require_admin(a, FORBIDDEN, e) == -1)
		return -1;
	if (svc_read_only(s)) {
		err_set(e, ERR_READ_ONLY, "the database is read-only (a "
		    "standby)");
		return -1;
	}
	return 0;
}

/* What a phase is asked: prepare's request, activate's and retire's
 * force. */
struct phase_in {
	const struct svc_ca_prepare_req	*req;	/* borrowed; prepare */
	bool				 force;	/* activate, retire */
};

/*
 * A phase's work, under the life lock: *object (osz bytes) gets the
 * CA's SKI as soon as it is known, for the audit of a failure.
 */
typedef int phase_fn(struct svc *, const struct svc_actor *,
    const struct phase_in *, struct svc_ca_result *, char *, size_t,
    struct err *);

/*
 * One phase (res zeroed first): the checks of its start, then run under
 * the life lock.  Success is logged as "CA <ski> <done>"; a failure is
 * audited as action, on the CA when it was known.  e != NULL.
 */
static int
phase_run(struct svc *s, const struct svc_actor *a, const char *action,
    phase_fn *run, const struct phase_in *in, const char *done,
    struct svc_ca_result *res, struct err *e)
{
	char	object[RCA_SKI_HEX_MAX + 1] = "";
	int	rc = -1;

	err_clear(e);
	memset(res, 0, sizeof(*res));
	if (phase_start(s, a, e) == -1)
		goto out;
	pthread_mutex_lock(&s->life->mu);
	rc = run(s, a, in, res, object, sizeof(object), e);
	pthread_mutex_unlock(&s->life->mu);
	if (rc == 0)
		log_info("CA %s %s", object, done);
out:
	if (rc == -1)
		svc_fail(s, a, action, object[0] != '\0' ? object : NULL, e);
	return rc;
}

/* The way req asks for, checked against the rows.  */
static int
prep_way(const struct svc_ca_prepare_req *req, const struct ca_rec *rows,
    size_t n, enum prep_way *way, struct err *e)
{
	int ways = (req->cert_pem != NULL) + req->csr_only +
	    (req->root_key_path != NULL || req->root_cert_path != NULL);
	const struct ca_rec *pend = row_in(rows, n, CA_STATE_PENDING);

	if (ways > 1 || (req->chain_pem != NULL && req->cert_pem == NULL)) {
		err_set(e, ERR_INVALID_REQUEST, "give one of: a certificate "
		    "(with its chain), a CSR request, the root key and "
		    "certificate, or none of them");
		return -1;
	}
	if ((req->root_key_path == NULL) != (req->root_cert_path == NULL)) {
		err_set(e, ERR_INVALID_REQUEST, "the root key and the root "
		    "certificate go together");
		return -1;
	}
	if (req->days < 0 || req->days > DAYS_MAX) {
		err_set(e, ERR_INVALID_REQUEST, "days must be from 1 to %d",
		    DAYS_MAX);
		return -1;
	}
	if (row_in(rows, n, CA_STATE_NEXT) != NULL ||
	    (pend != NULL && req->cert_pem == NULL)) {
		err_set(e, ERR_CA_NEXT_EXISTS, pend != NULL ? "a prepared CA "
		    "waits for its certificate: complete it with the "
		    "certificate" : "a next CA is prepared already: "
		    "activate it first");
		return -1;
	}
	if (row_in(rows, n, CA_STATE_RETIRED) != NULL) {
		err_set(e, ERR_CA_RETIRE_PENDING, "the previous CA is still "
		    "in the bundle: retire it first");
		return -1;
	}
	if (req->cert_pem != NULL)
		*way = pend != NULL ? PREP_COMPLETE : PREP_IMPORT;
	else if (req->csr_only)
		*way = PREP_CSR;
	else if (req->root_key_path != NULL)
		*way = PREP_SIGNED;
	else
		*way = PREP_SELF;
	return 0;
}

/* A CN for the next CA: the product and the time it was made. */
static void
next_cn(char *cn, size_t sz)
{
	time_t		now = (time_t)tu_now();
	struct tm	tm;

	gmtime_r(&now, &tm);
	snprintf(cn, sz, "redis-ca %04d%02d%02dT%02d%02d%02dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
}

/*
 * A certificate for an existing key (pending, or put in place by the
 * operator): verified against the chain given, else the current CA's
 * anchors, else as a self-signed CA.
 */
static int
prep_cert(struct svc *s, const char *key, const struct svc_ca_prepare_req
    *req, const struct ca_rec *cur, struct ca_new *nw, struct err *e)
{
	struct err first;

	if (req->chain_pem != NULL)
		return ca_complete_cert(key, s->life->pass_file,
		    req->cert_pem, req->chain_pem, nw, e);
	err_clear(&first);
	if (ca_complete_cert(key, s->life->pass_file, req->cert_pem,
	    cur->anchors_pem, nw, &first) == 0)
		return 0;
	ca_new_clear(nw);
	if (ca_complete_cert(key, s->life->pass_file, req->cert_pem, NULL,
	    nw, e) == 0)
		return 0;
	*e = first;
	return -1;
}

/*
 * Two tiers: the root key (a file of the operator's, CLI only) signs
 * the next CA.  A root file that cannot be used is the caller's
 * mistake, said as such (not hidden as an internal error).
 */
static int
prep_signed(const char *key, const struct svc_ca_prepare_req *req,
    const struct ca_create_opts *o, struct ca_new *nw, struct err *e)
{
	char msg[ERR_MSG_MAX];

	if (ca_create_signed(key, req->root_cert_path, req->root_key_path,
	    req->root_pass_file, o, nw, e) == 0)
		return 0;
	if (e->code == ERR_IO || e->code == ERR_NOT_FOUND ||
	    e->code == ERR_CRYPTO) {
		snprintf(msg, sizeof(msg), "%s", e->msg);
		err_set(e, ERR_INVALID_REQUEST, "the root key or certificate "
		    "cannot be used: %.200s", msg);
	}
	return -1;
}

/* Make the next CA's key (and certificate) by way.  *made: a key was
 * created here (to remove on a later failure). */
static int
prep_make(struct svc *s, enum prep_way way,
    const struct svc_ca_prepare_req *req, const struct ca_rec *cur,
    struct ca_new *nw, bool *made, struct err *e)
{
	struct ca_create_opts	o;
	char			key[RCA_MAX_PATH], cn[64];

	*made = false;
	if (cf_key_path(s, CF_SLOT_NEXT, key, e) == -1)
		return -1;
	if (way == PREP_IMPORT && cf_key_exists(s, CF_SLOT_NEXT) == 0) {
		err_set(e, ERR_INVALID_REQUEST, "no CA waits for a "
		    "certificate: prepare a CSR first (or put the key as "
		    "%s/%s)", s->life->key_dir, CF_NEXT_KEY);
		return -1;
	}
	if (way == PREP_COMPLETE || way == PREP_IMPORT)
		return prep_cert(s, key, req, cur, nw, e);
	next_cn(cn, sizeof(cn));
	memset(&o, 0, sizeof(o));
	o.key_type = req->key_type_set ? req->key_type : cur->key_type;
	o.cn = cn;
	o.days = req->days;
	o.passphrase_file = s->life->pass_file;
	*made = true;
	switch (way) {
	case PREP_SIGNED:
		return prep_signed(key, req, &o, nw, e);
	case PREP_CSR:
		return ca_create_csr(key, &o, nw, e);
	default:
		if (!cf_one_tier(cur)) {
			*made = false;
			err_set(e, ERR_INVALID_REQUEST, "the current CA is "
			    "signed by a root: prepare with the root key and "
			    "certificate (redis-ca ca prepare --root-key F "
			    "--root-cert F), or a CSR");
			return -1;
		}
		return ca_create_self(key, &o, nw, e);
	}
}

/* The row of the new CA, borrowing nw's strings. */
static void
prep_rec(const struct ca_new *nw, enum prep_way way, struct ca_rec *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->ski, sizeof(r->ski), "%s", nw->ski);
	snprintf(r->spki_sha256, sizeof(r->spki_sha256), "%s",
	    nw->spki_sha256);
	r->state = way == PREP_CSR ? CA_STATE_PENDING : CA_STATE_NEXT;
	r->cert_pem = nw->cert_pem;
	r->csr_pem = nw->csr_pem;
	r->anchors_pem = nw->anchors_pem != NULL ? nw->anchors_pem : "";
	r->key_type = nw->key_type;
	r->not_before = nw->not_before;
	r->not_after = nw->not_after;
	r->created_at = tu_now();
}

/* Store the new CA's row (or complete the pending one) with its audit. */
static int
prep_store(struct svc *s, const struct svc_actor *a, enum prep_way way,
    const struct ca_new *nw, const struct ca_rec *rows, size_t n,
    struct err *e)
{
	struct audit_rec	ar;
	struct ca_rec		r;
	char			detail[200], na[RCA_TIME_STR];

	prep_rec(nw, way, &r);
	tu_format(nw->not_after, na);
	snprintf(detail, sizeof(detail), "state=%s way=%s key_type=%s "
	    "not_after=%s", ca_state_name(r.state), way_name[way],
	    key_type_name(nw->key_type), nw->not_after != 0 ? na : "-");
	svc_audit_fill(&ar, a, ACTION_PREPARE, nw->ski, AUDIT_OK, detail);
	if (way == PREP_COMPLETE)
		return db_ca_complete(s->db, row_in(rows, n,
		    CA_STATE_PENDING)->id, &r, &ar, e);
	return db_ca_prepare(s->db, &r, &ar, e);
}

/*
 * The files and the row, under the files' lock so that no reconcile
 * sees a key without its row.  *object gets the new CA's SKI.
 */
static int
prep_locked(struct svc *s, const struct svc_actor *a,
    const struct phase_in *in, struct svc_ca_result *res, char *object,
    size_t osz, struct err *e)
{
	const struct svc_ca_prepare_req	*req = in->req;
	struct cf_lock	 l;
	struct ca_rec	*rows = NULL;
	struct ca_new	 nw;
	enum prep_way	 way;
	uint64_t	 gen;
	size_t		 n = 0;
	bool		 made = false;
	int		 rc = -1;

	memset(&nw, 0, sizeof(nw));
	if (cf_lock(s, &l, e) == -1)
		return -1;
	if (db_ca_list(s->db, &rows, &n, &gen, e) == -1 ||
	    prep_way(req, rows, n, &way, e) == -1)
		goto out;
	if (row_in(rows, n, CA_STATE_CURRENT) == NULL) {
		err_set(e, ERR_INTERNAL, "no current CA is recorded");
		goto out;
	}
	if (way != PREP_COMPLETE && way != PREP_IMPORT &&
	    cf_next_aside(s, &l) == -1) {
		err_set(e, ERR_IO, "%s/%s: cannot move a stray key aside",
		    s->life->key_dir, CF_NEXT_KEY);
		goto out;
	}
	if (prep_make(s, way, req, row_in(rows, n, CA_STATE_CURRENT), &nw,
	    &made, e) == -1)
		goto out;
	snprintf(object, osz, "%s", nw.ski);
	if (prep_store(s, a, way, &nw, rows, n, e) == -1)
		goto out;
	if (nw.csr_pem != NULL && (res->csr_pem = strdup(nw.csr_pem)) ==
	    NULL)
		log_error("prepare: out of memory for the CSR");
	made = false;
	rc = 0;
out:
	if (made)
		cf_remove_next(&l);
	cf_unlock(&l);
	ca_new_clear(&nw);
	db_ca_list_free(rows, n);
	return rc;
}

/*
 * After a phase: the files and the snapshot; the instance's own
 * certificates when they may come from a CA that left (activate,
 * retire: the admin certificate must be one the new bundle trusts);
 * then the pushes.
 */
static void
phase_after(struct svc *s, const struct svc_actor *a, bool self, bool push,
    struct svc_ca_result *res)
{
	struct err e;

	err_clear(&e);
	if (svc_cas_reload(s, &e) == -1)
		log_error("after the CA change: reloading: %s", e.msg);
	err_clear(&e);
	/* Beside a running serve, serve re-issues them (and reloads). */
	if (self && !atomic_load(&s->life->deferred) &&
	    svc_selfcert_refresh(s, false, &e) == -1)
		log_error("after the CA change: the instance's own "
		    "certificates: %s", e.msg);
	if (push && !atomic_load(&s->life->deferred))
		(void)svc_ca_push_stale(s, a, res);
}

int
svc_ca_prepare(struct svc *s, const struct svc_actor *a,
    const struct svc_ca_prepare_req *req, struct svc_ca_result *res,
    struct err *e)
{
	struct phase_in	in = { .req = req };
	struct err	le;

	ERR_LOCAL(e, le);
	if (phase_run(s, a, ACTION_PREPARE, prep_locked, &in, "prepared", res,
	    e) == -1) {
		svc_ca_result_clear(res);
		return -1;
	}
	phase_after(s, a, false, res->csr_pem == NULL, res);
	return 0;
}

/* ------------------------------------------------------------------ */
/* activate                                                            */

/*
 * Refuse while a node has not got the current bundle (listed in res
 * and the message), or this instance lacks the next CA's key.
 */
static int
act_check(struct svc *s, const struct ca_rec *next, const char *etag,
    bool force, struct svc_ca_result *res, struct err *e)
{
	char	**names = NULL, key[RCA_MAX_PATH], list[200] = "";
	char	  spki[RCA_SHA256_HEX + 1];
	size_t	  n = 0, len;
	int	  rc = -1;

	if (force)
		return 0;
	if (cf_key_path(s, CF_SLOT_NEXT, key, e) == -1)
		return -1;
	if (ca_key_file_spki_sha256(key, s->life->pass_file, spki, e) == -1 ||
	    strcmp(spki, next->spki_sha256) != 0) {
		err_set(e, ERR_CONFLICT, "this instance has not got the next "
		    "CA's key (%s): copy ca-next.key and ca-next.crt here, "
		    "or force", key);
		return -1;
	}
	if (db_node_bundle_stale(s->db, etag, &names, &n, e) == -1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		(void)svc_ca_result_add(res, names[i], false, "has not got the "
		    "current bundle");
		len = strlen(list);
		snprintf(list + len, sizeof(list) - len, "%s%s",
		    i > 0 ? ", " : "", names[i]);
	}
	if (n > 0) {
		err_set(e, ERR_CONFLICT, "%zu node(s) have not got the "
		    "current bundle: %s (wait for the pushes, or force)", n,
		    list);
		goto out;
	}
	rc = 0;
out:
	db_node_names_free(names, n);
	return rc;
}

/* Node n, now due for rotation, into res (svc_nodes_each()). */
static int
act_node_due(void *res, const struct node_rec *n, struct err *e)
{
	(void)e;
	(void)svc_ca_result_add(res, n->name, true, "due: the scheduler "
	    "rotates it onto the new CA");
	return 0;
}

/* The nodes now due for rotation, into res. */
static void
act_nodes(struct svc *s, struct svc_ca_result *res)
{
	struct err e;

	err_clear(&e);
	if (svc_nodes_each(s, act_node_due, res, &e) == -1)
		log_warn("activate: listing the nodes: %s", e.msg);
}

/* The scheduler looks at the nodes at its next tick. */
static void
nodes_wake(struct svc *s)
{
	pthread_mutex_lock(&s->nodes_mu);
	s->nodes_due_at = 0;
	pthread_mutex_unlock(&s->nodes_mu);
}

static int
act_run(struct svc *s, const struct svc_actor *a, const struct phase_in *in,
    struct svc_ca_result *res, char *object, size_t osz, struct err *e)
{
	bool			 force = in->force;
	struct ca_rec		*rows = NULL;
	const struct ca_rec	*next, *cur;
	struct svc_cas		*cas;
	struct audit_rec	 ar;
	uint64_t		 gen;
	size_t			 n = 0;
	char			 detail[200];
	int			 rc = -1;

	if ((cas = svc_cas_get(s)) == NULL ||
	    db_ca_list(s->db, &rows, &n, &gen, e) == -1)
		goto out;
	if ((next = row_in(rows, n, CA_STATE_NEXT)) == NULL) {
		err_set(e, ERR_CA_NOT_PREPARED, row_in(rows, n,
		    CA_STATE_PENDING) != NULL ? "the prepared CA has no "
		    "certificate yet" : "no CA is prepared");
		goto out;
	}
	snprintf(object, osz, "%s", next->ski);
	if (act_check(s, next, cas->bundle_etag, force, res, e) == -1)
		goto out;
	cur = row_in(rows, n, CA_STATE_CURRENT);
	snprintf(detail, sizeof(detail), "previous=%s force=%s",
	    cur != NULL ? cur->ski : "-", force ? "true" : "false");
	svc_audit_fill(&ar, a, ACTION_ACTIVATE, next->ski, AUDIT_OK, detail);
	if (db_ca_activate(s->db, tu_now(), &ar, e) == -1)
		goto out;
	rc = 0;
out:
	svc_cas_put(cas);
	db_ca_list_free(rows, n);
	return rc;
}

int
svc_ca_activate(struct svc *s, const struct svc_actor *a, bool force,
    struct svc_ca_result *res, struct err *e)
{
	struct phase_in	in = { .force = force };
	struct err	le;

	ERR_LOCAL(e, le);
	if (phase_run(s, a, ACTION_ACTIVATE, act_run, &in, "activated: "
	    "issuance switches to it", res, e) == -1)
		return -1;
	phase_after(s, a, true, false, res);
	act_nodes(s, res);
	nodes_wake(s);
	return 0;
}

/* ------------------------------------------------------------------ */
/* retire                                                              */

/* Revoke every unexpired certificate of CA id (cessationOfOperation). */
static int
ret_revoke_all(struct svc *s, const struct svc_actor *a, int64_t id,
    struct svc_ca_result *res, struct err *e)
{
	size_t	k, count;

	for (int round = 0; round < 100000; round++) {
		if (db_ca_unexpired(s->db, id, tu_now(), res->serials,
		    SVC_CA_SERIALS_MAX, &count, e) == -1)
			return -1;
		if (count == 0)
			return 0;
		k = count < SVC_CA_SERIALS_MAX ? count : SVC_CA_SERIALS_MAX;
		for (size_t i = 0; i < k; i++)
			if (svc_revoke_authorised(s, a, res->serials[i],
			    REASON_CESSATION_OF_OPERATION, NULL, NULL,
			    e) == -1 && e->code != ERR_ALREADY_REVOKED)
				return -1;
		res->count += k;
	}
	err_set(e, ERR_INTERNAL, "certificates keep appearing");
	return -1;
}

static int
ret_run(struct svc *s, const struct svc_actor *a, const struct phase_in *in,
    struct svc_ca_result *res, char *object, size_t osz, struct err *e)
{
	bool			 force = in->force;
	struct ca_rec		*rows = NULL;
	const struct ca_rec	*old;
	struct audit_rec	 ar;
	uint64_t		 gen;
	size_t			 n = 0, revoked;
	char			 detail[120];
	int			 rc = -1;

	if (db_ca_list(s->db, &rows, &n, &gen, e) == -1)
		goto out;
	if ((old = row_in(rows, n, CA_STATE_RETIRED)) == NULL) {
		err_set(e, ERR_CA_NOTHING_TO_RETIRE, "no retired CA is in "
		    "the bundle");
		goto out;
	}
	snprintf(object, osz, "%s", old->ski);
	if ((res->serials = calloc(SVC_CA_SERIALS_MAX,
	    sizeof(*res->serials))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (force && ret_revoke_all(s, a, old->id, res, e) == -1)
		goto out;
	revoked = res->count;
	if (db_ca_unexpired(s->db, old->id, tu_now(), res->serials,
	    SVC_CA_SERIALS_MAX, &res->count, e) == -1)
		goto out;
	if (res->count > 0) {
		res->nserials = res->count < SVC_CA_SERIALS_MAX ?
		    res->count : SVC_CA_SERIALS_MAX;
		err_set(e, ERR_CA_IN_USE, "CA %s has %zu unexpired "
		    "certificate(s), first %s: wait for them to expire, or "
		    "force (revokes them)", old->ski, res->count,
		    res->serials[0]);
		goto out;
	}
	snprintf(detail, sizeof(detail), "force=%s revoked=%zu",
	    force ? "true" : "false", revoked);
	svc_audit_fill(&ar, a, ACTION_RETIRE, old->ski, AUDIT_OK, detail);
	if (db_ca_retire(s->db, old->id, tu_now(), &ar, e) == -1)
		goto out;
	rc = 0;
out:
	db_ca_list_free(rows, n);
	return rc;
}

/* Forget res's serials (kept when a failure is ERR_CA_IN_USE). */
static void
ret_serials_clear(struct svc_ca_result *res)
{
	free(res->serials);
	res->serials = NULL;
	res->count = res->nserials = 0;
}

int
svc_ca_retire(struct svc *s, const struct svc_actor *a, bool force,
    struct svc_ca_result *res, struct err *e)
{
	struct phase_in	in = { .force = force };
	struct err	le;

	ERR_LOCAL(e, le);
	if (phase_run(s, a, ACTION_RETIRE, ret_run, &in, "retired: dropped "
	    "from the bundle", res, e) == -1) {
		if (e->code != ERR_CA_IN_USE)
			ret_serials_clear(res);
		return -1;
	}
	ret_serials_clear(res);
	phase_after(s, a, true, true, res);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The generation watch                                                */

int
svc_ca_watch(struct svc *s, struct err *e)
{
	return svc_cas_refresh(s, e);
}
