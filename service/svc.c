/*
 * The service object: opening and closing, actors and bearer-token
 * authentication, the audit helpers every operation uses, and the small
 * read-only operations (profiles, CA info, readiness, statistics).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "log.h"
#include "svc_int.h"
#include "timeutil.h"

/* Length of a token string: "rca_" and 64 hex digits. */
#define SVC_TOKEN_LEN	(RCA_TOKEN_PREFIX_LEN + 2 * RCA_TOKEN_RANDOM_BYTES)

/* Copy src into dst (size n), truncating; dst is always terminated. */
static void
copy_str(char *dst, size_t n, const char *src)
{
	size_t len;

	if (src == NULL)
		src = "";
	len = strnlen(src, n - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* strdup that treats NULL as NULL; *ok is cleared on out-of-memory. */
static char *
dup_opt(const char *s, bool *ok)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*ok = false;
	return d;
}

/* ------------------------------------------------------------------ */
/* Opening and closing                                                 */

struct svc *
svc_open(const struct svc_config *cfg, struct err *e)
{
	struct svc	*s = NULL, *ret = NULL;
	bool		 ok = true;

	if (cfg == NULL || cfg->ca_cert == NULL || cfg->ca_key == NULL ||
	    cfg->database == NULL) {
		err_set(e, ERR_CONFIG, "ca.cert, ca.key and database are "
		    "required");
		return NULL;
	}
	if (cfg->crl_validity <= 0 || cfg->crl_refresh_before < 0 ||
	    cfg->crl_refresh_before >= cfg->crl_validity) {
		err_set(e, ERR_CONFIG, "crl.refresh_before must be shorter "
		    "than crl.validity");
		return NULL;
	}
	if (cfg->nprofiles > RCA_MAX_PROFILES ||
	    (cfg->nprofiles > 0 && cfg->profiles == NULL)) {
		err_set(e, ERR_CONFIG, "profiles: at most %d",
		    RCA_MAX_PROFILES);
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return NULL;
	}
	if (pthread_mutex_init(&s->pub_mu, NULL) != 0) {
		free(s);
		err_set(e, ERR_INTERNAL, "cannot create a mutex");
		return NULL;
	}
	if (pthread_mutex_init(&s->crl_mu, NULL) != 0) {
		pthread_mutex_destroy(&s->pub_mu);
		free(s);
		err_set(e, ERR_INTERNAL, "cannot create a mutex");
		return NULL;
	}

	s->public_url = dup_opt(cfg->public_url, &ok);
	s->admin_cert = dup_opt(cfg->admin_cert, &ok);
	s->admin_key = dup_opt(cfg->admin_key, &ok);
	s->crl_validity = cfg->crl_validity;
	s->crl_refresh_before = cfg->crl_refresh_before;
	s->rotation_check_interval = cfg->rotation_check_interval;
	s->rotation_renew_before_pct = cfg->rotation_renew_before_pct;
	s->audit_retention = cfg->audit_retention > 0 ?
	    cfg->audit_retention : RCA_AUDIT_RETENTION_DEFAULT;
	s->data_dir = dup_opt(cfg->data_dir, &ok);
	s->ca_key_dir = dup_opt(cfg->ca_key, &ok);
	if (s->ca_key_dir != NULL) {
		char *slash = strrchr(s->ca_key_dir, '/');

		/* "ca.key" alone: the current folder, which realpath
		 * resolves when a node path is checked. */
		if (slash == NULL)
			snprintf(s->ca_key_dir, strlen(s->ca_key_dir) + 1,
			    ".");
		else if (slash == s->ca_key_dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	if (cfg->nnode_allowed_dirs > 0) {
		s->node_dirs = calloc(cfg->nnode_allowed_dirs,
		    sizeof(*s->node_dirs));
		if (s->node_dirs == NULL)
			ok = false;
		else
			for (size_t i = 0; i < cfg->nnode_allowed_dirs; i++) {
				s->node_dirs[i] = dup_opt(
				    cfg->node_allowed_dirs[i], &ok);
				s->nnode_dirs++;
			}
	}
	s->token_max_enroll_ttl = cfg->token_max_enroll_ttl > 0 ?
	    cfg->token_max_enroll_ttl : SVC_ENROLL_TTL_MAX_DEFAULT;
	if (cfg->nprofiles > 0) {
		s->profiles = calloc(cfg->nprofiles, sizeof(*s->profiles));
		if (s->profiles == NULL)
			ok = false;
		else {
			memcpy(s->profiles, cfg->profiles,
			    cfg->nprofiles * sizeof(*s->profiles));
			s->nprofiles = cfg->nprofiles;
		}
	}
	if (!ok) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}

	if ((s->ca = ca_load(cfg->ca_cert, cfg->ca_key,
	    cfg->ca_key_passphrase_file, cfg->public_url, e)) == NULL)
		goto out;
	if ((s->db = db_open(cfg->database, e)) == NULL)
		goto out;
	if (svc_spki_backfill(s, e) == -1)
		goto out;
	if (svc_crl_init(s, e) == -1)
		goto out;

	ret = s;
	s = NULL;
out:
	svc_close(s);
	return ret;
}

void
svc_close(struct svc *s)
{
	if (s == NULL)
		return;
	db_close(s->db);
	ca_free(s->ca);
	svc_crl_clear(&s->crl);
	free(s->public_url);
	free(s->admin_cert);
	free(s->admin_key);
	free(s->profiles);
	free(s->data_dir);
	free(s->ca_key_dir);
	for (size_t i = 0; i < s->nnode_dirs; i++)
		free(s->node_dirs[i]);
	free(s->node_dirs);
	pthread_mutex_destroy(&s->crl_mu);
	pthread_mutex_destroy(&s->pub_mu);
	free(s);
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

/* ------------------------------------------------------------------ */
/* Actors                                                              */

void
svc_actor_init(struct svc_actor *a, enum actor_kind kind)
{
	if (a == NULL)
		return;
	memset(a, 0, sizeof(*a));
	a->cert.reason = -1;
	a->kind = kind;
	switch (kind) {
	case ACTOR_SCHEDULER:
		copy_str(a->id, sizeof(a->id), "scheduler");
		break;
	case ACTOR_CLI:
		copy_str(a->id, sizeof(a->id), "cli");
		break;
	case ACTOR_NONE:
		copy_str(a->id, sizeof(a->id), "anonymous");
		break;
	default:
		/* Token and certificate actors are named when they are
		 * authenticated. */
		break;
	}
}

void
svc_actor_clear(struct svc_actor *a)
{
	if (a == NULL)
		return;
	token_rec_clear(&a->token);
	cert_rec_clear(&a->cert);
	free(a->cert_der);
	svc_actor_init(a, ACTOR_NONE);
}

const char *
svc_actor_name(const struct svc_actor *a)
{
	if (a == NULL)
		return "anonymous";
	if (a->id[0] != '\0')
		return a->id;
	switch (a->kind) {
	case ACTOR_NONE:
		return "anonymous";
	case ACTOR_SCHEDULER:
		return "scheduler";
	case ACTOR_CLI:
		return "cli";
	default:
		return "unknown";
	}
}

int
svc_auth_token(struct svc *s, const char *token, struct svc_actor *out,
    struct err *e)
{
	struct token_rec	 t;
	struct err		 dbe;
	unsigned char		 h[32];
	int64_t			 now;
	int			 rc = -1;

	memset(&t, 0, sizeof(t));
	err_clear(&dbe);
	svc_actor_init(out, ACTOR_NONE);

	/* Shape first: no database round trip for garbage. */
	if (token == NULL ||
	    strnlen(token, SVC_TOKEN_LEN + 1) != SVC_TOKEN_LEN ||
	    strncmp(token, RCA_TOKEN_PREFIX, RCA_TOKEN_PREFIX_LEN) != 0) {
		err_set(e, ERR_UNAUTHORIZED, "invalid token");
		goto out;
	}
	ca_sha256(token, SVC_TOKEN_LEN, h);
	if (db_token_find_hash(s->db, h, &t, &dbe) == -1) {
		if (dbe.code == ERR_NOT_FOUND)
			err_set(e, ERR_UNAUTHORIZED, "unknown token");
		else {
			log_error("token lookup: %s: %s",
			    err_code_name(dbe.code), dbe.msg);
			err_set(e, ERR_DB, "internal error");
		}
		goto out;
	}
	/*
	 * The lookup used the hash as a key; compare again in constant
	 * time so the decision never rests on the index's comparison.
	 */
	if (!ca_ct_equal(t.hash, h, sizeof(h))) {
		err_set(e, ERR_UNAUTHORIZED, "unknown token");
		goto out;
	}
	now = tu_now();
	if (t.expires_at != 0 && t.expires_at <= now) {
		err_set(e, ERR_UNAUTHORIZED, "token expired");
		goto out;
	}
	if (t.uses_left == 0) {
		err_set(e, ERR_UNAUTHORIZED, "token used up");
		goto out;
	}
	if (t.kind == TOKEN_ADMIN) {
		out->kind = ACTOR_ADMIN;
		snprintf(out->id, sizeof(out->id), "admin:%s", t.id);
	} else if (t.kind == TOKEN_ENROLL) {
		out->kind = ACTOR_TOKEN;
		snprintf(out->id, sizeof(out->id), "token:%s", t.id);
	} else {
		err_set(e, ERR_UNAUTHORIZED, "unknown token kind");
		goto out;
	}
	out->token = t;
	memset(&t, 0, sizeof(t));
	rc = 0;
out:
	token_rec_clear(&t);
	fio_wipe(h, sizeof(h));
	if (rc == -1 && out != NULL)
		svc_actor_init(out, ACTOR_NONE);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Audit                                                               */

bool
svc_err_internal(enum err_code code)
{
	switch (code) {
	case ERR_OK:
	case ERR_IO:
	case ERR_CRYPTO:
	case ERR_DB:
	case ERR_NET:
	case ERR_CONFIG:
	case ERR_USAGE:
	case ERR_INTERNAL:
	case ERR__MAX:
		return true;
	default:
		return false;
	}
}

void
svc_audit_fill(struct audit_rec *r, const struct svc_actor *a,
    const char *action, const char *object, enum audit_outcome outcome,
    const char *detail)
{
	memset(r, 0, sizeof(*r));
	r->at = tu_now();
	copy_str(r->actor, sizeof(r->actor), svc_actor_name(a));
	copy_str(r->action, sizeof(r->action), action);
	copy_str(r->object, sizeof(r->object), object);
	r->outcome = outcome;
	copy_str(r->detail, sizeof(r->detail), detail);
}

void
svc_audit(struct svc *s, const struct svc_actor *a, const char *action,
    const char *object, enum audit_outcome outcome, const char *detail)
{
	struct audit_rec	r;
	struct err		e;

	err_clear(&e);
	svc_audit_fill(&r, a, action, object, outcome, detail);
	if (db_audit_append(s->db, &r, &e) == -1)
		log_error("audit %s %s %s: %s: %s", r.actor, r.action,
		    audit_outcome_name(outcome), err_code_name(e.code),
		    e.msg);
}

void
svc_audit_denied(struct svc *s, const struct svc_actor *a,
    const char *action, const char *object, const struct err *why)
{
	char detail[sizeof(((struct audit_rec *)0)->detail)];

	if (s == NULL)
		return;
	if (why != NULL)
		snprintf(detail, sizeof(detail), "%s: %.200s",
		    err_code_name(why->code), why->msg);
	else
		copy_str(detail, sizeof(detail), "denied");
	svc_audit(s, a, action, object, AUDIT_DENIED, detail);
}

void
svc_fail(struct svc *s, const struct svc_actor *a, const char *action,
    const char *object, struct err *e)
{
	if (svc_err_internal(e->code)) {
		log_error("%s %s by %s: %s: %s", action,
		    object != NULL ? object : "-", svc_actor_name(a),
		    err_code_name(e->code), e->msg);
		svc_audit(s, a, action, object, AUDIT_ERROR,
		    err_code_name(e->code));
		err_set(e, ERR_INTERNAL, "internal error");
	} else
		svc_audit_denied(s, a, action, object, e);
}

int
svc_audit_list(struct svc *s, int64_t after, size_t limit,
    struct audit_rec **out, size_t *n, int64_t *next, struct err *e)
{
	struct err le;

	if (e == NULL)
		e = &le;
	if (limit == 0 || limit > RCA_MAX_LIST_LIMIT) {
		err_set(e, ERR_INVALID_REQUEST, "limit must be 1 to %d",
		    RCA_MAX_LIST_LIMIT);
		return -1;
	}
	if (db_audit_list(s->db, after, limit, out, n, next, e) == -1) {
		log_error("audit list: %s: %s", err_code_name(e->code),
		    e->msg);
		err_set(e, ERR_INTERNAL, "internal error");
		return -1;
	}
	return 0;
}

void
svc_audit_list_free(struct audit_rec *list, size_t n)
{
	db_audit_list_free(list, n);
}

/* ------------------------------------------------------------------ */
/* Operations                                                          */

void
svc_ca_info(struct svc *s, struct svc_ca_info *out)
{
	out->pem = ca_cert_pem(s->ca);
	out->not_after = ca_not_after(s->ca);
	out->fingerprint = ca_fingerprint(s->ca);
	out->key_type = ca_key_type(s->ca);
}

bool
svc_ready(struct svc *s)
{
	struct err e;

	err_clear(&e);
	if (s == NULL || s->ca == NULL || s->db == NULL)
		return false;
	if (db_ping(s->db, &e) == -1) {
		log_warn("readiness: database: %s", e.msg);
		return false;
	}
	return true;
}

int
svc_stats(struct svc *s, struct svc_stats *out, struct err *e)
{
	struct db_profile_count	*c = NULL;
	size_t			 n = 0;
	int			 rc = -1;

	memset(out, 0, sizeof(*out));
	if (db_cert_counts(s->db, tu_now(), &c, &n, e) == -1) {
		log_error("stats: %s", e != NULL ? e->msg : "");
		err_set(e, ERR_INTERNAL, "internal error");
		goto out;
	}
	if (n > 0 && (out->profiles = calloc(n, sizeof(*out->profiles))) ==
	    NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		copy_str(out->profiles[i].profile,
		    sizeof(out->profiles[i].profile), c[i].profile);
		out->profiles[i].issued = c[i].issued;
		out->profiles[i].active = c[i].active;
		out->revoked_total += c[i].revoked;
	}
	out->nprofiles = n;
	pthread_mutex_lock(&s->crl_mu);
	out->crl_number = s->crl.number;
	out->crl_next_update = s->crl.next_update;
	pthread_mutex_unlock(&s->crl_mu);
	out->ca_not_after = ca_not_after(s->ca);
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
