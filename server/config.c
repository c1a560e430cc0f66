/*
 * Loading config.json strictly: jansson with JSON_REJECT_DUPLICATES, a
 * whitelist of keys per object, one typed getter per key, and an error
 * that names the key path ("config: profiles.redis-node.max_ttl: ...").
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "fileio.h"
#include "timeutil.h"

#define PATH_BUF	160	/* a key path such as "profiles.x.max_ttl" */

/* The profiles of SPEC section 4, used when "profiles" is absent. */
static const struct default_profile {
	const char	*name;
	const char	*eku[2];
	bool		 require_san;
	const char	*default_ttl;
	const char	*max_ttl;
} default_profiles[] = {
	{ "redis-node", { "serverAuth", "clientAuth" }, true, "72h", "30d" },
	{ "redis-client", { "clientAuth", NULL }, false, "24h", "7d" },
};

#define NDEFAULT_PROFILES \
	(sizeof(default_profiles) / sizeof(default_profiles[0]))

/* Every key type a leaf may have; the default key_types of a profile. */
static const enum key_type all_key_types[] = {
	KEY_EC_P256, KEY_EC_P384, KEY_RSA_2048, KEY_RSA_3072, KEY_RSA_4096,
};

#define NKEY_TYPES (sizeof(all_key_types) / sizeof(all_key_types[0]))

static void
cfg_err(struct err *e, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
cfg_err(struct err *e, const char *path, const char *fmt, ...)
{
	char what[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	err_set(e, ERR_CONFIG, "config: %s: %s", path, what);
}

/* prefix.key into out; keys are bounded by the size of out. */
static void
key_path(char out[PATH_BUF], const char *prefix, const char *key)
{
	int n;

	/* A path too long for out is cut; it only ever names a key. */
	if (prefix == NULL || prefix[0] == '\0')
		n = snprintf(out, PATH_BUF, "%s", key);
	else
		n = snprintf(out, PATH_BUF, "%s.%s", prefix, key);
	if (n < 0 || n >= PATH_BUF)
		out[PATH_BUF - 1] = '\0';
}

/* Refuse keys of obj that are not in allowed (NULL-terminated). */
static int
check_keys(json_t *obj, const char *prefix, const char *const *allowed,
    struct err *e)
{
	const char *k;
	json_t *v;
	char p[PATH_BUF];

	json_object_foreach(obj, k, v) {
		size_t i;

		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(k, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			key_path(p, prefix, k);
			cfg_err(e, p, "unknown key");
			return -1;
		}
	}
	return 0;
}

/*
 * The object at obj.key, or NULL (*out) when absent.  Errors when the
 * value is not an object.
 */
static int
get_object(json_t *obj, const char *prefix, const char *key, json_t **out,
    struct err *e)
{
	char p[PATH_BUF];
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_object(v)) {
		key_path(p, prefix, key);
		cfg_err(e, p, "must be an object");
		return -1;
	}
	*out = v;
	return 0;
}

static bool
has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return true;
	return false;
}

/*
 * A string at obj.key (obj may be NULL): *out becomes a new copy of it,
 * or of def when absent (def may be NULL).  nullable: JSON null is
 * accepted and means NULL.  Empty strings and control characters are
 * refused.
 */
static int
get_string(json_t *obj, const char *prefix, const char *key, const char *def,
    bool nullable, char **out, struct err *e)
{
	char p[PATH_BUF];
	json_t *v = obj != NULL ? json_object_get(obj, key) : NULL;
	const char *s = def;

	*out = NULL;
	if (v != NULL) {
		key_path(p, prefix, key);
		if (json_is_null(v) && nullable) {
			s = NULL;
		} else if (!json_is_string(v)) {
			cfg_err(e, p, nullable ? "must be a string or null" :
			    "must be a string");
			return -1;
		} else {
			s = json_string_value(v);
			if (s[0] == '\0' || strlen(s) != json_string_length(v)
			    || has_ctl(s)) {
				cfg_err(e, p, "must be a non-empty string "
				    "without control characters");
				return -1;
			}
		}
	}
	if (s != NULL && (*out = strdup(s)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	return 0;
}

/* A path at obj.key, made absolute against dir; see get_string(). */
static int
get_path(json_t *obj, const char *prefix, const char *key, const char *def,
    bool nullable, const char *dir, char **out, struct err *e)
{
	char p[PATH_BUF], buf[RCA_MAX_PATH];
	char *s = NULL;
	int rc = -1;

	*out = NULL;
	if (get_string(obj, prefix, key, def, nullable, &s, e) == -1)
		goto out;
	if (s == NULL) {
		rc = 0;
		goto out;
	}
	if (fio_path_join(buf, sizeof(buf), dir, s, NULL) == -1) {
		key_path(p, prefix, key);
		cfg_err(e, p, "path too long");
		goto out;
	}
	if ((*out = strdup(buf)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	rc = 0;
out:
	free(s);
	return rc;
}

/* A duration ("24h") at obj.key, or def when absent. */
static int
get_duration(json_t *obj, const char *prefix, const char *key,
    const char *def, int64_t *out, struct err *e)
{
	char p[PATH_BUF];
	json_t *v = obj != NULL ? json_object_get(obj, key) : NULL;
	const char *s = def;

	key_path(p, prefix, key);
	if (v != NULL) {
		if (!json_is_string(v)) {
			cfg_err(e, p, "must be a duration string such as "
			    "\"24h\"");
			return -1;
		}
		s = json_string_value(v);
	}
	if (tu_parse_duration(s, out, NULL) == -1) {
		cfg_err(e, p, "not a duration (number and unit s, m, h or "
		    "d): \"%.40s\"", s);
		return -1;
	}
	return 0;
}

/* An integer in [min, max] at obj.key, or def when absent. */
static int
get_int(json_t *obj, const char *prefix, const char *key, json_int_t def,
    json_int_t min, json_int_t max, json_int_t *out, struct err *e)
{
	char p[PATH_BUF];
	json_t *v = obj != NULL ? json_object_get(obj, key) : NULL;

	*out = def;
	if (v == NULL)
		return 0;
	key_path(p, prefix, key);
	if (!json_is_integer(v)) {
		cfg_err(e, p, "must be an integer");
		return -1;
	}
	*out = json_integer_value(v);
	if (*out < min || *out > max) {
		cfg_err(e, p, "must be between %lld and %lld", (long long)min,
		    (long long)max);
		return -1;
	}
	return 0;
}

/* A boolean at obj.key, or def when absent. */
static int
get_bool(json_t *obj, const char *prefix, const char *key, bool def,
    bool *out, struct err *e)
{
	char p[PATH_BUF];
	json_t *v = obj != NULL ? json_object_get(obj, key) : NULL;

	*out = def;
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v)) {
		key_path(p, prefix, key);
		cfg_err(e, p, "must be true or false");
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

/* "host:port" or "[v6]:port" with a port in 0..65535. */
static bool
listen_valid(const char *s)
{
	const char *colon, *q;
	long port;
	char *end;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb == s + 1 || rb[1] != ':')
			return false;
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || colon == s)
			return false;
		for (q = s; q < colon; q++)
			if (*q == ':' || isspace((unsigned char)*q))
				return false;
	}
	if (!isdigit((unsigned char)colon[1]) || strlen(colon + 1) > 5)
		return false;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	return errno == 0 && *end == '\0' && port >= 0 && port <= 65535;
}

static int
get_listen(json_t *obj, const char *key, const char *def, bool nullable,
    char **out, struct err *e)
{
	char p[PATH_BUF];

	if (get_string(obj, "listen", key, def, nullable, out, e) == -1)
		return -1;
	if (*out != NULL && !listen_valid(*out)) {
		key_path(p, "listen", key);
		cfg_err(e, p, "must be \"host:port\" or \"[ipv6]:port\"");
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* "33%": an integer percentage in 1..99. */
static int
get_percent(json_t *obj, const char *prefix, const char *key, int def,
    int *out, struct err *e)
{
	char p[PATH_BUF];
	json_t *v = obj != NULL ? json_object_get(obj, key) : NULL;
	const char *s;
	char *end;
	long n;

	*out = def;
	if (v == NULL)
		return 0;
	key_path(p, prefix, key);
	if (!json_is_string(v))
		goto bad;
	s = json_string_value(v);
	if (!isdigit((unsigned char)s[0]))
		goto bad;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || strcmp(end, "%") != 0 || n < 1 || n > 99)
		goto bad;
	*out = (int)n;
	return 0;
bad:
	cfg_err(e, p, "not a percentage between 1%% and 99%% (\"33%%\")");
	return -1;
}

static bool
profile_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > RCA_MAX_PROFILE_NAME ||
	    !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_')
			return false;
	return true;
}

static const struct default_profile *
default_profile(const char *name)
{
	for (size_t i = 0; i < NDEFAULT_PROFILES; i++)
		if (strcmp(default_profiles[i].name, name) == 0)
			return &default_profiles[i];
	return NULL;
}

/* Fill out from a built-in default profile. */
static void
profile_from_default(const struct default_profile *d, struct profile *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", d->name);
	for (size_t i = 0; i < 2 && d->eku[i] != NULL; i++)
		out->eku |= eku_parse(d->eku[i]);
	out->require_san = d->require_san;
	(void)tu_parse_duration(d->default_ttl, &out->default_ttl, NULL);
	(void)tu_parse_duration(d->max_ttl, &out->max_ttl, NULL);
	for (size_t i = 0; i < NKEY_TYPES; i++)
		out->key_types |= KEY_BIT(all_key_types[i]);
}

/* profiles.<name>.eku: a non-empty array of EKU names. */
static int
parse_eku(json_t *v, const char *p, unsigned *out, struct err *e)
{
	char ip[PATH_BUF];
	size_t i;
	json_t *it;

	if (!json_is_array(v) || json_array_size(v) == 0) {
		cfg_err(e, p, "must be a non-empty array of \"serverAuth\" "
		    "or \"clientAuth\"");
		return -1;
	}
	*out = 0;
	json_array_foreach(v, i, it) {
		unsigned bit = json_is_string(it) ?
		    eku_parse(json_string_value(it)) : 0;

		if (bit == 0) {
			if (snprintf(ip, sizeof(ip), "%s[%zu]", p, i) >=
			    (int)sizeof(ip))
				ip[sizeof(ip) - 1] = '\0';
			cfg_err(e, ip, "unknown extended key usage (use "
			    "\"serverAuth\" or \"clientAuth\")");
			return -1;
		}
		*out |= bit;
	}
	return 0;
}

/* profiles.<name>.key_types: a non-empty array of key type names. */
static int
parse_key_types(json_t *v, const char *p, unsigned *out, struct err *e)
{
	char ip[PATH_BUF];
	enum key_type t;
	size_t i;
	json_t *it;

	if (!json_is_array(v) || json_array_size(v) == 0) {
		cfg_err(e, p, "must be a non-empty array of key types");
		return -1;
	}
	*out = 0;
	json_array_foreach(v, i, it) {
		if (!json_is_string(it) ||
		    key_type_parse(json_string_value(it), &t) == -1) {
			if (snprintf(ip, sizeof(ip), "%s[%zu]", p, i) >=
			    (int)sizeof(ip))
				ip[sizeof(ip) - 1] = '\0';
			cfg_err(e, ip, "unknown key type (use ec-p256, "
			    "ec-p384, rsa-2048, rsa-3072 or rsa-4096)");
			return -1;
		}
		*out |= KEY_BIT(t);
	}
	return 0;
}

static int
parse_profile(const char *name, json_t *obj, struct profile *out,
    struct err *e)
{
	static const char *const keys[] = { "eku", "require_san",
	    "default_ttl", "max_ttl", "key_types", NULL };
	const struct default_profile *d = default_profile(name);
	char prefix[PATH_BUF], p[PATH_BUF];
	json_t *v;

	key_path(prefix, "profiles", name);
	if (!profile_name_valid(name)) {
		cfg_err(e, prefix, "a profile name is 1 to %d characters of "
		    "a-z, 0-9, '-' and '_'", RCA_MAX_PROFILE_NAME);
		return -1;
	}
	if (!json_is_object(obj)) {
		cfg_err(e, prefix, "must be an object");
		return -1;
	}
	if (check_keys(obj, prefix, keys, e) == -1)
		return -1;
	/* Missing keys take the SPEC's values for a profile of that name,
	 * else those of redis-client; only "eku" has no safe default. */
	profile_from_default(d != NULL ? d : default_profile("redis-client"),
	    out);
	snprintf(out->name, sizeof(out->name), "%s", name);
	key_path(p, prefix, "eku");
	if ((v = json_object_get(obj, "eku")) != NULL) {
		if (parse_eku(v, p, &out->eku, e) == -1)
			return -1;
	} else if (d == NULL) {
		cfg_err(e, p, "missing (required for a new profile)");
		return -1;
	}
	if (get_bool(obj, prefix, "require_san", out->require_san,
	    &out->require_san, e) == -1)
		return -1;
	if ((v = json_object_get(obj, "default_ttl")) != NULL &&
	    get_duration(obj, prefix, "default_ttl", NULL, &out->default_ttl,
	    e) == -1)
		return -1;
	if ((v = json_object_get(obj, "max_ttl")) != NULL &&
	    get_duration(obj, prefix, "max_ttl", NULL, &out->max_ttl,
	    e) == -1)
		return -1;
	key_path(p, prefix, "key_types");
	if ((v = json_object_get(obj, "key_types")) != NULL &&
	    parse_key_types(v, p, &out->key_types, e) == -1)
		return -1;
	if (out->default_ttl > out->max_ttl) {
		key_path(p, prefix, "default_ttl");
		cfg_err(e, p, "is longer than max_ttl");
		return -1;
	}
	return 0;
}

static int
parse_profiles(json_t *root, struct config *c, struct err *e)
{
	json_t *obj, *v;
	const char *name;

	if (get_object(root, NULL, "profiles", &obj, e) == -1)
		return -1;
	if (obj == NULL) {
		for (size_t i = 0; i < NDEFAULT_PROFILES; i++)
			profile_from_default(&default_profiles[i],
			    &c->profiles[i]);
		c->nprofiles = NDEFAULT_PROFILES;
		return 0;
	}
	if (json_object_size(obj) == 0 ||
	    json_object_size(obj) > RCA_MAX_PROFILES) {
		cfg_err(e, "profiles", "must hold 1 to %d profiles",
		    RCA_MAX_PROFILES);
		return -1;
	}
	json_object_foreach(obj, name, v) {
		if (parse_profile(name, v, &c->profiles[c->nprofiles], e)
		    == -1)
			return -1;
		c->nprofiles++;
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

	if (get_int(lim, "limits", "max_connections_per_ip",
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
	if (get_int(lim, "limits", "auth_failures_per_minute",
	    RCA_AUTH_FAILURES_DEFAULT, 1, 100000, &n, e) == -1)
		return -1;
	c->auth_failures_per_minute = (unsigned)n;
	if (get_object(root, NULL, "audit", &audit, e) == -1 ||
	    (audit != NULL && check_keys(audit, "audit", k_audit, e) == -1) ||
	    get_duration(audit, "audit", "retention", "365d",
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
	char p[PATH_BUF];
	json_t *obj, *arr, *it;
	size_t i;

	if (get_object(root, NULL, "nodes", &obj, e) == -1)
		return -1;
	if (obj == NULL)
		return 0;
	if (check_keys(obj, "nodes", keys, e) == -1)
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
		if (v == NULL || v[0] != '/' || has_ctl(v) ||
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

	if (get_object(root, NULL, "tokens", &tok, e) == -1 ||
	    (tok != NULL && check_keys(tok, "tokens", k_tok, e) == -1))
		return -1;
	return get_duration(tok, "tokens", "max_enroll_ttl", "30d",
	    &c->token_max_enroll_ttl, e);
}

static int
parse_root(json_t *root, const char *dir, struct config *c, struct err *e)
{
	static const char *const top[] = { "listen", "public_url", "api_tls",
	    "ca", "database", "crl", "rotation", "limits", "profiles",
	    "audit", "nodes", "tokens", NULL };
	static const char *const k_listen[] = { "api", "public", NULL };
	static const char *const k_tls[] = { "enabled", "cert", "key", NULL };
	static const char *const k_ca[] = { "cert", "key",
	    "key_passphrase_file", NULL };
	static const char *const k_crl[] = { "validity", "refresh_before",
	    NULL };
	static const char *const k_rot[] = { "check_interval",
	    "renew_before", NULL };
	static const char *const k_lim[] = { "max_body_bytes", "threads",
	    "max_connections", "max_connections_per_ip",
	    "auth_failures_per_minute", NULL };
	json_t *listen, *tls, *ca, *crl, *rot, *lim;
	json_int_t n;
	size_t len;

	if (!json_is_object(root)) {
		err_set(e, ERR_CONFIG, "config: the top level must be an "
		    "object");
		return -1;
	}
	if (check_keys(root, NULL, top, e) == -1 ||
	    get_object(root, NULL, "listen", &listen, e) == -1 ||
	    get_object(root, NULL, "api_tls", &tls, e) == -1 ||
	    get_object(root, NULL, "ca", &ca, e) == -1 ||
	    get_object(root, NULL, "crl", &crl, e) == -1 ||
	    get_object(root, NULL, "rotation", &rot, e) == -1 ||
	    get_object(root, NULL, "limits", &lim, e) == -1)
		return -1;
	if ((listen != NULL && check_keys(listen, "listen", k_listen, e)
	    == -1) ||
	    (tls != NULL && check_keys(tls, "api_tls", k_tls, e) == -1) ||
	    (ca != NULL && check_keys(ca, "ca", k_ca, e) == -1) ||
	    (crl != NULL && check_keys(crl, "crl", k_crl, e) == -1) ||
	    (rot != NULL && check_keys(rot, "rotation", k_rot, e) == -1) ||
	    (lim != NULL && check_keys(lim, "limits", k_lim, e) == -1))
		return -1;

	if (get_listen(listen, "api", CONFIG_DEFAULT_API_LISTEN, false,
	    &c->api_listen, e) == -1 ||
	    get_listen(listen, "public", CONFIG_DEFAULT_PUBLIC_LISTEN, true,
	    &c->public_listen, e) == -1)
		return -1;

	if (get_string(root, NULL, "public_url", CONFIG_DEFAULT_PUBLIC_URL,
	    false, &c->public_url, e) == -1)
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
	if (strstr(c->public_url, "://") == NULL ||
	    strstr(c->public_url, "://")[3] == '\0') {
		cfg_err(e, "public_url", "has no host");
		return -1;
	}

	if (get_bool(tls, "api_tls", "enabled", true, &c->api_tls_enabled,
	    e) == -1 ||
	    get_path(tls, "api_tls", "cert", "tls/api.crt", false, dir,
	    &c->api_tls_cert, e) == -1 ||
	    get_path(tls, "api_tls", "key", "tls/api.key", false, dir,
	    &c->api_tls_key, e) == -1 ||
	    get_path(ca, "ca", "cert", "ca.crt", false, dir, &c->ca_cert,
	    e) == -1 ||
	    get_path(ca, "ca", "key", "ca.key", false, dir, &c->ca_key,
	    e) == -1 ||
	    get_path(ca, "ca", "key_passphrase_file", NULL, true, dir,
	    &c->ca_key_passphrase_file, e) == -1 ||
	    get_path(root, NULL, "database", "redis-ca.db", false, dir,
	    &c->database, e) == -1 ||
	    get_path(NULL, NULL, "admin", "tls/admin.crt", false, dir,
	    &c->admin_cert, e) == -1 ||
	    get_path(NULL, NULL, "admin", "tls/admin.key", false, dir,
	    &c->admin_key, e) == -1)
		return -1;

	if (get_duration(crl, "crl", "validity", "24h", &c->crl_validity,
	    e) == -1 ||
	    get_duration(crl, "crl", "refresh_before", "8h",
	    &c->crl_refresh_before, e) == -1)
		return -1;
	if (c->crl_refresh_before >= c->crl_validity) {
		cfg_err(e, "crl.refresh_before", "must be shorter than "
		    "crl.validity");
		return -1;
	}
	if (get_duration(rot, "rotation", "check_interval", "1m",
	    &c->rotation_check_interval, e) == -1 ||
	    get_percent(rot, "rotation", "renew_before", 33,
	    &c->rotation_renew_before_pct, e) == -1)
		return -1;

	if (get_int(lim, "limits", "max_body_bytes",
	    RCA_MAX_BODY_BYTES_DEFAULT, 1024, 16 * 1024 * 1024, &n, e) == -1)
		return -1;
	c->max_body_bytes = (size_t)n;
	if (get_int(lim, "limits", "threads", 0, 0, 1024, &n, e) == -1)
		return -1;
	c->threads = (unsigned)n;
	if (get_int(lim, "limits", "max_connections", 1024, 1, 65536, &n,
	    e) == -1)
		return -1;
	c->max_connections = (unsigned)n;
	if (parse_abuse(root, lim, c, e) == -1)
		return -1;

	if (parse_nodes(root, c, e) == -1 || parse_tokens(root, c, e) == -1)
		return -1;
	return parse_profiles(root, c, e);
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

/* Add key: value to obj, stealing value; false when out of memory. */
static bool
put(json_t *obj, const char *key, json_t *value)
{
	return value != NULL && json_object_set_new(obj, key, value) == 0;
}

static json_t *
default_profiles_json(void)
{
	json_t *all = json_object(), *p = NULL, *a = NULL;

	if (all == NULL)
		return NULL;
	for (size_t i = 0; i < NDEFAULT_PROFILES; i++) {
		const struct default_profile *d = &default_profiles[i];

		if ((p = json_object()) == NULL || (a = json_array()) == NULL)
			goto fail;
		for (size_t j = 0; j < 2 && d->eku[j] != NULL; j++)
			if (json_array_append_new(a, json_string(d->eku[j])))
				goto fail;
		if (!put(p, "eku", a)) {
			a = NULL;
			goto fail;
		}
		if (!put(p, "require_san", json_boolean(d->require_san)) ||
		    !put(p, "default_ttl", json_string(d->default_ttl)) ||
		    !put(p, "max_ttl", json_string(d->max_ttl)) ||
		    (a = json_array()) == NULL)
			goto fail;
		for (size_t j = 0; j < NKEY_TYPES; j++)
			if (json_array_append_new(a, json_string(
			    key_type_name(all_key_types[j]))))
				goto fail;
		if (!put(p, "key_types", a)) {
			a = NULL;
			goto fail;
		}
		a = NULL;
		if (!put(all, d->name, p)) {
			p = NULL;
			goto fail;
		}
		p = NULL;
	}
	return all;
fail:
	json_decref(a);
	json_decref(p);
	json_decref(all);
	return NULL;
}

char *
config_default_json(const struct config_defaults *d, struct err *e)
{
	json_t *root = NULL, *o;
	char *text = NULL, *out = NULL;
	size_t len;

	root = json_object();
	if (root == NULL)
		goto out;
	if ((o = json_object()) == NULL || !put(root, "listen", o) ||
	    !put(o, "api", json_string(d->api_listen != NULL ?
	    d->api_listen : CONFIG_DEFAULT_API_LISTEN)) ||
	    !put(o, "public", json_string(d->public_listen != NULL ?
	    d->public_listen : CONFIG_DEFAULT_PUBLIC_LISTEN)))
		goto out;
	if (!put(root, "public_url", json_string(d->public_url != NULL ?
	    d->public_url : CONFIG_DEFAULT_PUBLIC_URL)))
		goto out;
	if ((o = json_object()) == NULL || !put(root, "api_tls", o) ||
	    !put(o, "enabled", json_true()) ||
	    !put(o, "cert", json_string("tls/api.crt")) ||
	    !put(o, "key", json_string("tls/api.key")))
		goto out;
	if ((o = json_object()) == NULL || !put(root, "ca", o) ||
	    !put(o, "cert", json_string("ca.crt")) ||
	    !put(o, "key", json_string("ca.key")) ||
	    !put(o, "key_passphrase_file", d->key_passphrase_file != NULL ?
	    json_string(d->key_passphrase_file) : json_null()))
		goto out;
	if (!put(root, "database", json_string("redis-ca.db")))
		goto out;
	if ((o = json_object()) == NULL || !put(root, "crl", o) ||
	    !put(o, "validity", json_string("24h")) ||
	    !put(o, "refresh_before", json_string("8h")))
		goto out;
	if ((o = json_object()) == NULL || !put(root, "rotation", o) ||
	    !put(o, "check_interval", json_string("1m")) ||
	    !put(o, "renew_before", json_string("33%")))
		goto out;
	if ((o = json_object()) == NULL || !put(root, "limits", o) ||
	    !put(o, "max_body_bytes",
	    json_integer(RCA_MAX_BODY_BYTES_DEFAULT)) ||
	    !put(o, "threads", json_integer(0)) ||
	    !put(o, "max_connections", json_integer(1024)) ||
	    !put(o, "max_connections_per_ip",
	    json_integer(RCA_MAX_CONN_PER_IP_DEFAULT)) ||
	    !put(o, "auth_failures_per_minute",
	    json_integer(RCA_AUTH_FAILURES_DEFAULT)))
		goto out;
	if ((o = json_object()) == NULL || !put(root, "audit", o) ||
	    !put(o, "retention", json_string("365d")))
		goto out;
	if ((o = json_object()) == NULL || !put(root, "nodes", o) ||
	    !put(o, "allowed_dirs", json_array()))
		goto out;
	if (!put(root, "profiles", default_profiles_json()))
		goto out;
	if ((text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER))
	    == NULL)
		goto out;
	len = strlen(text);
	if ((out = malloc(len + 2)) == NULL)
		goto out;
	memcpy(out, text, len);
	out[len] = '\n';
	out[len + 1] = '\0';
out:
	if (out == NULL)
		err_set(e, ERR_INTERNAL, "out of memory");
	free(text);
	json_decref(root);
	return out;
}
