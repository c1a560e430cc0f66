/*
 * The service object: svc_open() checks and copies the configuration,
 * loads the CA, the database and the CRL; svc_close() undoes it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ca_life_int.h"
#include "svc_int.h"

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

/* The configuration's required values and bounds. */
static int
config_check(const struct svc_config *cfg, struct err *e)
{
	if (cfg == NULL || cfg->ca_cert == NULL || cfg->ca_key == NULL ||
	    cfg->database == NULL) {
		err_set(e, ERR_CONFIG, "ca.cert, ca.key and database are "
		    "required");
		return -1;
	}
	if (cfg->crl_validity <= 0 || cfg->crl_refresh_before < 0 ||
	    cfg->crl_refresh_before >= cfg->crl_validity) {
		err_set(e, ERR_CONFIG, "crl.refresh_before must be shorter "
		    "than crl.validity");
		return -1;
	}
	if (cfg->nprofiles > RCA_MAX_PROFILES ||
	    (cfg->nprofiles > 0 && cfg->profiles == NULL)) {
		err_set(e, ERR_CONFIG, "profiles: at most %d",
		    RCA_MAX_PROFILES);
		return -1;
	}
	return 0;
}

/* The service's own mutexes, in the order svc_sync_init() makes them. */
#define SVC_NMUTEX	5

static void
svc_mutexes(struct svc *s, pthread_mutex_t *mu[SVC_NMUTEX])
{
	mu[0] = &s->pub_mu;
	mu[1] = &s->crl_mu;
	mu[2] = &s->cas_mu;
	mu[3] = &s->cas_reload_mu;
	mu[4] = &s->view_mu;
}

/* Destroy the first n of svc_mutexes(), the last made first. */
static void
svc_mutexes_destroy(struct svc *s, size_t n)
{
	pthread_mutex_t *mu[SVC_NMUTEX];

	svc_mutexes(s, mu);
	while (n > 0)
		pthread_mutex_destroy(mu[--n]);
}

/*
 * Make s's mutexes and crl_cv (svc_sync_fini() destroys them); on
 * failure none is left.  Errors: ERR_INTERNAL.
 */
static int
svc_sync_init(struct svc *s, struct err *e)
{
	pthread_mutex_t	*mu[SVC_NMUTEX];
	size_t		 n;

	svc_mutexes(s, mu);
	for (n = 0; n < SVC_NMUTEX; n++) {
		if (pthread_mutex_init(mu[n], NULL) != 0) {
			svc_mutexes_destroy(s, n);
			err_set(e, ERR_INTERNAL, "cannot create a mutex");
			return -1;
		}
	}
	if (pthread_cond_init(&s->crl_cv, NULL) != 0) {
		svc_mutexes_destroy(s, SVC_NMUTEX);
		err_set(e, ERR_INTERNAL, "cannot create a condition");
		return -1;
	}
	return 0;
}

static void
svc_sync_fini(struct svc *s)
{
	pthread_cond_destroy(&s->crl_cv);
	svc_mutexes_destroy(s, SVC_NMUTEX);
}

/* A zeroed service with its mutexes (svc_close()), or NULL. */
static struct svc *
svc_alloc(struct err *e)
{
	struct svc *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return NULL;
	}
	if (svc_sync_init(s, e) == -1) {
		free(s);
		return NULL;
	}
	atomic_init(&s->read_only, false);
	atomic_init(&s->leader, false);
	if (svc_marks_init(s, e) == -1) {
		svc_sync_fini(s);
		free(s);
		return NULL;
	}
	return s;
}

/*
 * The folder of ca.key, which node files must stay out of, in place of
 * the path.  "ca.key" alone: the current folder, which realpath
 * resolves when a node path is checked.
 */
static void
key_dir(char *path)
{
	char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(path, strlen(path) + 1, ".");
	else if (slash == path)
		slash[1] = '\0';
	else
		*slash = '\0';
}

/* Copy the lists of cfg (node folders, profiles); false when out of
 * memory. */
static bool
config_copy_lists(struct svc *s, const struct svc_config *cfg)
{
	bool ok = true;

	if (cfg->nnode_allowed_dirs > 0) {
		s->node_dirs = calloc(cfg->nnode_allowed_dirs,
		    sizeof(*s->node_dirs));
		if (s->node_dirs == NULL)
			return false;
		for (size_t i = 0; i < cfg->nnode_allowed_dirs; i++) {
			s->node_dirs[i] = dup_opt(cfg->node_allowed_dirs[i],
			    &ok);
			s->nnode_dirs++;
		}
	}
	if (cfg->nprofiles > 0) {
		s->profiles = calloc(cfg->nprofiles, sizeof(*s->profiles));
		if (s->profiles == NULL)
			return false;
		memcpy(s->profiles, cfg->profiles,
		    cfg->nprofiles * sizeof(*s->profiles));
		s->nprofiles = cfg->nprofiles;
	}
	return ok;
}

/* Copy what the service keeps of cfg into s.  Errors: ERR_INTERNAL. */
static int
config_copy(struct svc *s, const struct svc_config *cfg, struct err *e)
{
	bool ok = true;

	s->public_url = dup_opt(cfg->public_url, &ok);
	s->admin_cert = dup_opt(cfg->admin_cert, &ok);
	s->admin_key = dup_opt(cfg->admin_key, &ok);
	s->crl_validity = cfg->crl_validity;
	s->crl_refresh_before = cfg->crl_refresh_before;
	s->rotation_check_interval = cfg->rotation_check_interval;
	s->rotation_renew_before_pct = cfg->rotation_renew_before_pct;
	s->max_parallel = cfg->rotation_max_parallel > 0 ?
	    cfg->rotation_max_parallel : SVC_MAX_PARALLEL_DEFAULT;
	if (s->max_parallel > SVC_MAX_PARALLEL_MAX)
		s->max_parallel = SVC_MAX_PARALLEL_MAX;
	s->audit_retention = cfg->audit_retention > 0 ?
	    cfg->audit_retention : RCA_AUDIT_RETENTION_DEFAULT;
	s->data_dir = dup_opt(cfg->data_dir, &ok);
	s->ca_cert_path = dup_opt(cfg->ca_cert, &ok);
	s->ca_key_path = dup_opt(cfg->ca_key, &ok);
	s->ca_pass_file = dup_opt(cfg->ca_key_passphrase_file, &ok);
	s->ca_key_dir = dup_opt(cfg->ca_key, &ok);
	if (s->ca_key_dir != NULL)
		key_dir(s->ca_key_dir);
	s->token_max_enroll_ttl = cfg->token_max_enroll_ttl > 0 ?
	    cfg->token_max_enroll_ttl : SVC_ENROLL_TTL_MAX_DEFAULT;
	if (!config_copy_lists(s, cfg))
		ok = false;
	if (!ok) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	return 0;
}

struct svc *
svc_open(const struct svc_config *cfg, struct err *e)
{
	struct svc	*s = NULL, *ret = NULL;
	struct err	 le;

	ERR_LOCAL(e, le);
	if (config_check(cfg, e) == -1 || (s = svc_alloc(e)) == NULL)
		return NULL;
	if (config_copy(s, cfg, e) == -1 || svc_life_init(s, cfg, e) == -1)
		goto out;
	if ((s->db = db_open(cfg->database, e)) == NULL)
		goto out;
	/*
	 * A standby (db_open() checked its schema is current) is served
	 * read-only: no backfill, no publication, no scheduled work.
	 */
	s->shared = db_is_postgres(cfg->database);
	if (s->shared)
		svc_db_seen(s, db_state(s->db));
	if (svc_read_only(s))
		log_warn("the database is read-only (a standby): serving "
		    "reads only until it is promoted");
	else if (svc_spki_backfill(s, e) == -1)
		goto out;
	if (svc_cas_open(s, e) == -1)
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
	svc_crl_fini(s);	/* stores the last CRL: before db_close() */
	svc_lead_end(s);	/* another instance may lead at once */
	db_close(s->db);
	svc_cas_close(s);
	svc_life_fini(s);
	free(s->ca_cert_path);
	free(s->ca_key_path);
	free(s->ca_pass_file);
	free(s->public_url);
	free(s->admin_cert);
	free(s->admin_key);
	free(s->profiles);
	free(s->data_dir);
	free(s->ca_key_dir);
	for (size_t i = 0; i < s->nnode_dirs; i++)
		free(s->node_dirs[i]);
	free(s->node_dirs);
	svc_marks_fini(s);
	free(s->view_counts);
	svc_sync_fini(s);
	free(s);
}
