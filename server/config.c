/*
 * Loading config.json strictly: jansson with JSON_REJECT_DUPLICATES, a
 * whitelist of keys per object, one typed getter per key (config_get.c),
 * and the views of the result that the service and the API take.
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "config_int.h"
#include "fileio.h"
#include "hostport.h"
#include "names.h"
#include "timeutil.h"

static int
get_listen(json_t *obj, const char *key, const char *def, bool nullable,
    char **out, struct err *e)
{
	char p[CFG_PATH_BUF], host[256];
	unsigned port;

	if (cfg_get_string(obj, "listen", key, def, nullable, out, e) == -1)
		return -1;
	/*
	 * hostport_split()'s rules, port 0 allowed (the kernel picks one);
	 * whether the host is numeric is api_listen_parse()'s to say when
	 * the listener starts.
	 */
	if (*out != NULL && !hostport_split(*out, host, sizeof(host), &port)) {
		cfg_key_path(p, "listen", key);
		cfg_err(e, p, "must be \"host:port\" or \"[ipv6]:port\"");
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* The abuse limits of SPEC section 8: limits.* and audit.retention. */
static int
parse_abuse(json_t *root, json_t *lim, struct config *c, struct err *e)
{
	static const char *const k_audit[] = { "retention", NULL };
	json_t *audit;
	json_int_t n;

	if (cfg_get_int(lim, "limits", "max_connections_per_ip",
	    RCA_MAX_CONN_PER_IP_DEFAULT, 1, 65536, &n, e) == -1)
		return -1;
	/* The default gives way to a smaller total; a value must fit. */
	if ((unsigned)n > c->max_connections) {
		if (lim != NULL &&
		    json_object_get(lim, "max_connections_per_ip") != NULL) {
			cfg_err(e, "limits.max_connections_per_ip", "must not "
			    "exceed limits.max_connections (%u)",
			    c->max_connections);
			return -1;
		}
		n = c->max_connections;
	}
	c->max_connections_per_ip = (unsigned)n;
	if (cfg_get_int(lim, "limits", "auth_failures_per_minute",
	    RCA_AUTH_FAILURES_DEFAULT, 1, 100000, &n, e) == -1)
		return -1;
	c->auth_failures_per_minute = (unsigned)n;
	if (cfg_get_object(root, NULL, "audit", &audit, e) == -1 ||
	    (audit != NULL &&
	    cfg_check_keys(audit, "audit", k_audit, e) == -1) ||
	    cfg_get_duration(audit, "audit", "retention", "365d",
	    &c->audit_retention, e) == -1)
		return -1;
	/* A typo such as "1s" must not empty the audit log. */
	if (c->audit_retention < 3600) {
		cfg_err(e, "audit.retention", "must be at least 1h");
		return -1;
	}
	return 0;
}

/*
 * nodes.allowed_dirs (SPEC section 8): the folders a node's cert_dir
 * and auth.password_file may lie in; absolute paths, default none.
 */
static int
parse_nodes(json_t *root, struct config *c, struct err *e)
{
	static const char *const keys[] = { "allowed_dirs", NULL };
	char p[CFG_PATH_BUF];
	json_t *obj, *arr, *it;
	size_t i;

	if (cfg_get_object(root, NULL, "nodes", &obj, e) == -1)
		return -1;
	if (obj == NULL)
		return 0;
	if (cfg_check_keys(obj, "nodes", keys, e) == -1)
		return -1;
	if ((arr = json_object_get(obj, "allowed_dirs")) == NULL)
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > RCA_MAX_NODE_DIRS) {
		cfg_err(e, "nodes.allowed_dirs", "must be an array of at most "
		    "%d absolute paths", RCA_MAX_NODE_DIRS);
		return -1;
	}
	json_array_foreach(arr, i, it) {
		const char *v = json_is_string(it) ? json_string_value(it) :
		    NULL;

		snprintf(p, sizeof(p), "nodes.allowed_dirs[%zu]", i);
		if (v == NULL || v[0] != '/' || names_has_ctl(v) ||
		    strlen(v) != json_string_length(it) ||
		    strlen(v) >= RCA_MAX_PATH) {
			cfg_err(e, p, "must be an absolute path");
			return -1;
		}
		if ((c->node_allowed_dirs[i] = strdup(v)) == NULL) {
			err_set(e, ERR_INTERNAL, "out of memory");
			return -1;
		}
		c->nnode_allowed_dirs = i + 1;
	}
	return 0;
}

/*
 * "tokens": {"max_enroll_ttl": "30d"}: the longest ttl an enroll token
 * may be given (SPEC section 8; enroll tokens always expire).
 */
static int
parse_tokens(json_t *root, struct config *c, struct err *e)
{
	static const char *const k_tok[] = { "max_enroll_ttl", NULL };
	json_t *tok;

	if (cfg_get_object(root, NULL, "tokens", &tok, e) == -1 ||
	    (tok != NULL && cfg_check_keys(tok, "tokens", k_tok, e) == -1))
		return -1;
	return cfg_get_duration(tok, "tokens", "max_enroll_ttl", "30d",
	    &c->token_max_enroll_ttl, e);
}

/* The objects of the top level that parse_root() reads key by key. */
enum cfg_section {
	SEC_LISTEN, SEC_API_TLS, SEC_CA, SEC_CRL, SEC_ROTATION, SEC_LIMITS,
	SEC__MAX,
	SEC_ROOT = SEC__MAX,	/* a key of the top level */
	SEC_NONE		/* no key: always the default */
};

static const struct {
	const char		*name;
	const char *const	*keys;	/* NULL-terminated */
} sections[SEC__MAX] = {
	[SEC_LISTEN] = { "listen", (const char *const[]){ "api", "public",
	    NULL } },
	[SEC_API_TLS] = { "api_tls", (const char *const[]){ "enabled",
	    "cert", "key", NULL } },
	[SEC_CA] = { "ca", (const char *const[]){ "cert", "key",
	    "key_passphrase_file", NULL } },
	[SEC_CRL] = { "crl", (const char *const[]){ "validity",
	    "refresh_before", NULL } },
	[SEC_ROTATION] = { "rotation", (const char *const[]){
	    "check_interval", "renew_before", "max_parallel", NULL } },
	[SEC_LIMITS] = { "limits", (const char *const[]){ "max_body_bytes",
	    "threads", "max_connections", "max_connections_per_ip",
	    "auth_failures_per_minute", NULL } },
};

/* The files config.json names, made absolute against its folder. */
static const struct {
	enum cfg_section	 sec;
	const char		*key;
	const char		*def;
	bool			 nullable;
	size_t			 off;	/* of the char * in struct config */
} path_keys[] = {
	{ SEC_API_TLS, "cert", "tls/api.crt", false,
	    offsetof(struct config, api_tls_cert) },
	{ SEC_API_TLS, "key", "tls/api.key", false,
	    offsetof(struct config, api_tls_key) },
	{ SEC_CA, "cert", "ca.crt", false, offsetof(struct config, ca_cert) },
	{ SEC_CA, "key", "ca.key", false, offsetof(struct config, ca_key) },
	{ SEC_CA, "key_passphrase_file", NULL, true,
	    offsetof(struct config, ca_key_passphrase_file) },
	{ SEC_NONE, "admin", "tls/admin.crt", false,
	    offsetof(struct config, admin_cert) },
	{ SEC_NONE, "admin", "tls/admin.key", false,
	    offsetof(struct config, admin_key) },
};

/*
 * The objects of sections into sec[] (NULL when absent), each checked
 * for unknown keys once all are known to be objects.
 */
static int
get_sections(json_t *root, json_t *sec[SEC__MAX], struct err *e)
{
	for (int i = 0; i < SEC__MAX; i++)
		if (cfg_get_object(root, NULL, sections[i].name, &sec[i], e)
		    == -1)
			return -1;
	for (int i = 0; i < SEC__MAX; i++)
		if (sec[i] != NULL && cfg_check_keys(sec[i],
		    sections[i].name, sections[i].keys, e) == -1)
			return -1;
	return 0;
}

/* public_url: http(s)://host..., without spaces, quotes or a final '/'. */
static int
parse_public_url(json_t *root, struct config *c, struct err *e)
{
	const char *sep;
	size_t len;

	if (cfg_get_string(root, NULL, "public_url",
	    CONFIG_DEFAULT_PUBLIC_URL, false, &c->public_url, e) == -1)
		return -1;
	if (strncmp(c->public_url, "http://", 7) != 0 &&
	    strncmp(c->public_url, "https://", 8) != 0) {
		cfg_err(e, "public_url", "must start with http:// or "
		    "https://");
		return -1;
	}
	for (const char *q = c->public_url; *q != '\0'; q++)
		if (isspace((unsigned char)*q) || *q == '"') {
			cfg_err(e, "public_url", "must not contain spaces "
			    "or quotes");
			return -1;
		}
	/* Certificates get <public_url>/v1/crl: drop trailing slashes. */
	len = strlen(c->public_url);
	while (len > 0 && c->public_url[len - 1] == '/')
		c->public_url[--len] = '\0';
	if ((sep = strstr(c->public_url, "://")) == NULL || sep[3] == '\0') {
		cfg_err(e, "public_url", "has no host");
		return -1;
	}
	return 0;
}

/* api_tls.enabled and the files of path_keys. */
static int
parse_files(json_t *root, json_t *sec[SEC__MAX], const char *dir,
    struct config *c, struct err *e)
{
	if (cfg_get_bool(sec[SEC_API_TLS], "api_tls", "enabled", true,
	    &c->api_tls_enabled, e) == -1)
		return -1;
	for (size_t i = 0; i < sizeof(path_keys) / sizeof(path_keys[0]);
	    i++) {
		enum cfg_section s = path_keys[i].sec;
		json_t *obj = s == SEC_ROOT ? root : s == SEC_NONE ? NULL :
		    sec[s];

		if (cfg_get_path(obj, s < SEC__MAX ? sections[s].name : NULL,
		    path_keys[i].key, path_keys[i].def,
		    path_keys[i].nullable, dir,
		    (char **)((char *)c + path_keys[i].off), e) == -1)
			return -1;
	}
	/* A SQLite file (a path, as above) or a PostgreSQL URI. */
	return cfg_get_database(root, "database", "redis-ca.db", dir,
	    &c->database, e);
}

/* crl.* and rotation.*: the scheduler's timings. */
static int
parse_timings(json_t *sec[SEC__MAX], struct config *c, struct err *e)
{
	json_int_t n;

	if (cfg_get_duration(sec[SEC_CRL], "crl", "validity", "24h",
	    &c->crl_validity, e) == -1 ||
	    cfg_get_duration(sec[SEC_CRL], "crl", "refresh_before", "8h",
	    &c->crl_refresh_before, e) == -1)
		return -1;
	if (c->crl_refresh_before >= c->crl_validity) {
		cfg_err(e, "crl.refresh_before", "must be shorter than "
		    "crl.validity");
		return -1;
	}
	if (cfg_get_duration(sec[SEC_ROTATION], "rotation", "check_interval",
	    "1m", &c->rotation_check_interval, e) == -1 ||
	    cfg_get_percent(sec[SEC_ROTATION], "rotation", "renew_before", 33,
	    &c->rotation_renew_before_pct, e) == -1)
		return -1;
	/* SPEC 11: rotations at once across groups (one per group). */
	if (cfg_get_int(sec[SEC_ROTATION], "rotation", "max_parallel",
	    SVC_MAX_PARALLEL_DEFAULT, 1, SVC_MAX_PARALLEL_MAX, &n, e) == -1)
		return -1;
	c->rotation_max_parallel = (int)n;
	return 0;
}

/* limits.* (SPEC section 4) and the abuse limits of SPEC section 8. */
static int
parse_limits(json_t *root, json_t *lim, struct config *c, struct err *e)
{
	json_int_t n;

	if (cfg_get_int(lim, "limits", "max_body_bytes",
	    RCA_MAX_BODY_BYTES_DEFAULT, 1024, 16 * 1024 * 1024, &n, e) == -1)
		return -1;
	c->max_body_bytes = (size_t)n;
	if (cfg_get_int(lim, "limits", "threads", 0, 0, 1024, &n, e) == -1)
		return -1;
	c->threads = (unsigned)n;
	if (cfg_get_int(lim, "limits", "max_connections", 1024, 1, 65536, &n,
	    e) == -1)
		return -1;
	c->max_connections = (unsigned)n;
	return parse_abuse(root, lim, c, e);
}

static int
parse_root(json_t *root, const char *dir, struct config *c, struct err *e)
{
	static const char *const top[] = { "listen", "public_url", "api_tls",
	    "ca", "database", "crl", "rotation", "limits", "profiles",
	    "audit", "nodes", "tokens", NULL };
	json_t *sec[SEC__MAX];

	if (!json_is_object(root)) {
		err_set(e, ERR_CONFIG, "config: the top level must be an "
		    "object");
		return -1;
	}
	if (cfg_check_keys(root, NULL, top, e) == -1 ||
	    get_sections(root, sec, e) == -1)
		return -1;
	if (get_listen(sec[SEC_LISTEN], "api", CONFIG_DEFAULT_API_LISTEN,
	    false, &c->api_listen, e) == -1 ||
	    get_listen(sec[SEC_LISTEN], "public",
	    CONFIG_DEFAULT_PUBLIC_LISTEN, true, &c->public_listen, e) == -1)
		return -1;
	if (parse_public_url(root, c, e) == -1 ||
	    parse_files(root, sec, dir, c, e) == -1 ||
	    parse_timings(sec, c, e) == -1 ||
	    parse_limits(root, sec[SEC_LIMITS], c, e) == -1 ||
	    parse_nodes(root, c, e) == -1 || parse_tokens(root, c, e) == -1)
		return -1;
	return cfg_parse_profiles(root, c, e);
}

int
config_loadb(const char *buf, size_t len, const char *dir,
    struct config *out, struct err *e)
{
	json_error_t je;
	json_t *root = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (dir == NULL || dir[0] != '/') {
		err_set(e, ERR_CONFIG, "config: folder must be absolute");
		goto out;
	}
	if (len > RCA_MAX_CONFIG_BYTES) {
		err_set(e, ERR_CONFIG, "config: larger than %d bytes",
		    RCA_MAX_CONFIG_BYTES);
		goto out;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		err_set(e, ERR_CONFIG, "config: not valid JSON (line %d, "
		    "column %d): %s", je.line, je.column, je.text);
		goto out;
	}
	if ((out->dir = strdup(dir)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (parse_root(root, dir, out, e) == -1)
		goto out;
	rc = 0;
out:
	json_decref(root);
	if (rc == -1)
		config_clear(out);
	return rc;
}

int
config_load(const char *path, struct config *out, struct err *e)
{
	char dir[RCA_MAX_PATH], tmp[RCA_MAX_PATH], abs[RCA_MAX_PATH];
	char *buf = NULL, *file;
	size_t len = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp)) {
		err_set(e, ERR_CONFIG, "config: path too long");
		goto out;
	}
	if (realpath(dirname(tmp), dir) == NULL) {
		err_set(e, errno == ENOENT ? ERR_NOT_FOUND : ERR_IO,
		    "%s: %s", path, strerror(errno));
		goto out;
	}
	snprintf(tmp, sizeof(tmp), "%s", path);
	file = basename(tmp);
	if (fio_path_join(abs, sizeof(abs), dir, file, e) == -1)
		goto out;
	if (fio_read_all(abs, RCA_MAX_CONFIG_BYTES, &buf, &len, e) == -1)
		goto out;
	if (config_loadb(buf, len, dir, out, e) == -1) {
		/* Say which file: "<path>: config: listen.api: ..." */
		char msg[ERR_MSG_MAX];

		snprintf(msg, sizeof(msg), "%s", e != NULL ? e->msg : "");
		err_set(e, ERR_CONFIG, "%s: %s", path, msg);
		goto out;
	}
	if ((out->path = strdup(abs)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	rc = 0;
out:
	free(buf);
	if (rc == -1)
		config_clear(out);
	return rc;
}

void
config_clear(struct config *c)
{
	if (c == NULL)
		return;
	free(c->path);
	free(c->dir);
	free(c->api_listen);
	free(c->public_listen);
	free(c->public_url);
	free(c->api_tls_cert);
	free(c->api_tls_key);
	free(c->ca_cert);
	free(c->ca_key);
	free(c->ca_key_passphrase_file);
	free(c->database);
	free(c->admin_cert);
	free(c->admin_key);
	for (size_t i = 0; i < c->nnode_allowed_dirs; i++)
		free(c->node_allowed_dirs[i]);
	memset(c, 0, sizeof(*c));
}

void
config_svc_view(const struct config *c, struct svc_config *out)
{
	memset(out, 0, sizeof(*out));
	out->ca_cert = c->ca_cert;
	out->ca_key = c->ca_key;
	out->ca_key_passphrase_file = c->ca_key_passphrase_file;
	out->database = c->database;
	out->public_url = c->public_url;
	out->admin_cert = c->admin_cert;
	out->admin_key = c->admin_key;
	out->crl_validity = c->crl_validity;
	out->crl_refresh_before = c->crl_refresh_before;
	out->rotation_check_interval = c->rotation_check_interval;
	out->rotation_renew_before_pct = c->rotation_renew_before_pct;
	out->rotation_max_parallel = c->rotation_max_parallel;
	out->audit_retention = c->audit_retention;
	out->profiles = c->profiles;
	out->nprofiles = c->nprofiles;
	out->data_dir = c->dir;
	out->node_allowed_dirs = (const char *const *)c->node_allowed_dirs;
	out->nnode_allowed_dirs = c->nnode_allowed_dirs;
	out->token_max_enroll_ttl = c->token_max_enroll_ttl;
}

void
config_api_view(const struct config *c, struct api_config *out)
{
	memset(out, 0, sizeof(*out));
	out->api_listen = c->api_listen;
	out->public_listen = c->public_listen;
	out->api_tls = c->api_tls_enabled;
	out->tls_cert = c->api_tls_cert;
	out->tls_key = c->api_tls_key;
	out->tls_ca = c->ca_cert;
	out->max_body_bytes = c->max_body_bytes;
	out->threads = c->threads;
	out->max_connections = c->max_connections;
	out->max_connections_per_ip = c->max_connections_per_ip;
	out->auth_failures_per_minute = c->auth_failures_per_minute;
}

const struct profile *
config_profile(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->nprofiles; i++)
		if (strcmp(c->profiles[i].name, name) == 0)
			return &c->profiles[i];
	return NULL;
}
