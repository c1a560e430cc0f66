/*
 * The typed getters of config.json: one key of one object read with its
 * type and range checked, its default taken when absent, and an error
 * that names the key path ("config: profiles.redis-node.max_ttl: ...").
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config_int.h"
#include "fileio.h"
#include "names.h"
#include "timeutil.h"

void
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
void
cfg_key_path(char out[CFG_PATH_BUF], const char *prefix, const char *key)
{
	int n;

	/* A path too long for out is cut; it only ever names a key. */
	if (prefix == NULL || prefix[0] == '\0')
		n = snprintf(out, CFG_PATH_BUF, "%s", key);
	else
		n = snprintf(out, CFG_PATH_BUF, "%s.%s", prefix, key);
	if (n < 0 || n >= CFG_PATH_BUF)
		out[CFG_PATH_BUF - 1] = '\0';
}

void
cfg_item_path(char out[CFG_PATH_BUF], const char *path, size_t i)
{
	int n;

	n = snprintf(out, CFG_PATH_BUF, "%s[%zu]", path, i);
	if (n < 0 || n >= CFG_PATH_BUF)
		out[CFG_PATH_BUF - 1] = '\0';
}

/* Refuse keys of obj that are not in allowed (NULL-terminated). */
int
cfg_check_keys(json_t *obj, const char *prefix, const char *const *allowed,
    struct err *e)
{
	const char *k;
	json_t *v;
	char p[CFG_PATH_BUF];

	json_object_foreach(obj, k, v) {
		size_t i;

		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(k, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			cfg_key_path(p, prefix, k);
			cfg_err(e, p, "unknown key");
			return -1;
		}
	}
	return 0;
}

/*
 * The value at obj.key (obj may be NULL), or NULL when absent, and its
 * key path into p.
 */
static json_t *
lookup(json_t *obj, const char *prefix, const char *key,
    char p[CFG_PATH_BUF])
{
	cfg_key_path(p, prefix, key);
	return obj != NULL ? json_object_get(obj, key) : NULL;
}

/*
 * The object at obj.key, or NULL (*out) when absent.  Errors when the
 * value is not an object.
 */
int
cfg_get_object(json_t *obj, const char *prefix, const char *key, json_t **out,
    struct err *e)
{
	char p[CFG_PATH_BUF];
	json_t *v = lookup(obj, prefix, key, p);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_object(v)) {
		cfg_err(e, p, "must be an object");
		return -1;
	}
	*out = v;
	return 0;
}

/*
 * A string at obj.key (obj may be NULL): *out becomes a new copy of it,
 * or of def when absent (def may be NULL), made absolute against dir
 * unless dir is NULL.  nullable: JSON null is accepted and means NULL.
 * Empty strings and control characters are refused.
 */
static int
get_text(json_t *obj, const char *prefix, const char *key, const char *def,
    bool nullable, const char *dir, char **out, struct err *e)
{
	char p[CFG_PATH_BUF], buf[RCA_MAX_PATH];
	json_t *v = lookup(obj, prefix, key, p);
	const char *s = def;

	*out = NULL;
	if (v != NULL) {
		if (json_is_null(v) && nullable) {
			s = NULL;
		} else if (!json_is_string(v)) {
			cfg_err(e, p, nullable ? "must be a string or null" :
			    "must be a string");
			return -1;
		} else {
			s = json_string_value(v);
			if (s[0] == '\0' || strlen(s) != json_string_length(v)
			    || names_has_ctl(s)) {
				cfg_err(e, p, "must be a non-empty string "
				    "without control characters");
				return -1;
			}
		}
	}
	if (s == NULL)
		return 0;
	if (dir != NULL) {
		if (fio_path_join(buf, sizeof(buf), dir, s, NULL) == -1) {
			cfg_err(e, p, "path too long");
			return -1;
		}
		s = buf;
	}
	if ((*out = strdup(s)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	return 0;
}

/* Does s start with a libpq URI scheme? */
static bool
is_pg_uri(const char *s)
{
	return strncmp(s, "postgresql://", 13) == 0 ||
	    strncmp(s, "postgres://", 11) == 0;
}

/*
 * A PostgreSQL URI without a password: none in its user info
 * ("user:secret@"), none as a query parameter.  No spaces or quotes.
 * The error never repeats the URI.
 */
static int
check_pg_uri(const char *p, const char *s, struct err *e)
{
	const char *auth = strstr(s, "://") + 3;
	size_t alen = strcspn(auth, "/?");
	const char *at = memrchr(auth, '@', alen);
	const char *q = strchr(s, '?');

	for (const char *t = s; *t != '\0'; t++)
		if (isspace((unsigned char)*t) || *t == '"' || *t == '\'') {
			cfg_err(e, p, "a PostgreSQL URI must not contain "
			    "spaces or quotes");
			return -1;
		}
	if ((at != NULL && memchr(auth, ':', (size_t)(at - auth)) != NULL) ||
	    (q != NULL && (strncmp(q + 1, "password=", 9) == 0 ||
	    strstr(q, "&password=") != NULL))) {
		cfg_err(e, p, "a PostgreSQL URI must not hold a password: "
		    "use passfile= or PGPASSFILE");
		return -1;
	}
	if (auth[0] == '\0' || auth[0] == '?') {
		cfg_err(e, p, "a PostgreSQL URI needs a host");
		return -1;
	}
	return 0;
}

int
cfg_get_database(json_t *obj, const char *key, const char *def,
    const char *dir, char **out, struct err *e)
{
	char p[CFG_PATH_BUF];
	json_t *v = lookup(obj, NULL, key, p);
	const char *s = v != NULL && json_is_string(v) ?
	    json_string_value(v) : NULL;

	if (s == NULL || !is_pg_uri(s))
		return get_text(obj, NULL, key, def, false, dir, out, e);
	if (get_text(obj, NULL, key, def, false, NULL, out, e) == -1)
		return -1;
	if (check_pg_uri(p, *out, e) == -1) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

int
cfg_get_string(json_t *obj, const char *prefix, const char *key,
    const char *def, bool nullable, char **out, struct err *e)
{
	return get_text(obj, prefix, key, def, nullable, NULL, out, e);
}

int
cfg_get_path(json_t *obj, const char *prefix, const char *key,
    const char *def, bool nullable, const char *dir, char **out,
    struct err *e)
{
	return get_text(obj, prefix, key, def, nullable, dir, out, e);
}

/* A duration ("24h") at obj.key, or def when absent. */
int
cfg_get_duration(json_t *obj, const char *prefix, const char *key,
    const char *def, int64_t *out, struct err *e)
{
	char p[CFG_PATH_BUF];
	json_t *v = lookup(obj, prefix, key, p);
	const char *s = def;

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
int
cfg_get_int(json_t *obj, const char *prefix, const char *key, json_int_t def,
    json_int_t min, json_int_t max, json_int_t *out, struct err *e)
{
	char p[CFG_PATH_BUF];
	json_t *v = lookup(obj, prefix, key, p);

	*out = def;
	if (v == NULL)
		return 0;
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
int
cfg_get_bool(json_t *obj, const char *prefix, const char *key, bool def,
    bool *out, struct err *e)
{
	char p[CFG_PATH_BUF];
	json_t *v = lookup(obj, prefix, key, p);

	if (v != NULL && !json_is_boolean(v)) {
		cfg_err(e, p, "must be true or false");
		return -1;
	}
	*out = v != NULL ? json_is_true(v) : def;
	return 0;
}

/* "33%": an integer percentage in 1..99. */
int
cfg_get_percent(json_t *obj, const char *prefix, const char *key, int def,
    int *out, struct err *e)
{
	char p[CFG_PATH_BUF];
	json_t *v = lookup(obj, prefix, key, p);
	const char *s;
	char *end;
	long n;

	*out = def;
	if (v == NULL)
		return 0;
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
