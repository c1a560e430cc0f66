/*
 * What every request decoder shares: a strict JSON load, the per-body
 * field table check (unknown, missing, wrong type: each message names
 * the field; JSON null in an optional field means "absent"), optional
 * strings, durations and name lists, the media type and the list
 * queries (?limit, ?after).  Pure: no network, no service.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_priv.h"
#include "rca_limits.h"
#include "timeutil.h"

static const char *const ftype_names[] = {
	[API_F_STRING] = "a string",
	[API_F_INTEGER] = "an integer",
	[API_F_ARRAY] = "an array",
	[API_F_OBJECT] = "an object",
	[API_F_BOOLEAN] = "true or false",
};

static bool
type_ok(const json_t *v, enum api_ftype t)
{
	switch (t) {
	case API_F_STRING:
		return json_is_string(v);
	case API_F_INTEGER:
		return json_is_integer(v);
	case API_F_ARRAY:
		return json_is_array(v);
	case API_F_OBJECT:
		return json_is_object(v);
	case API_F_BOOLEAN:
		return json_is_boolean(v);
	}
	return false;
}

/*
 * Check obj against fields[0..n): no other keys, required ones present,
 * each of its type.  prefix ("" or "sans.") goes before names.
 */
int
api_check_fields(json_t *obj, const char *prefix,
    const struct api_field *fields,
    size_t n, struct err *e)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(obj, key, v) {
		for (i = 0; i < n; i++)
			if (strcmp(key, fields[i].name) == 0)
				break;
		if (i == n) {
			err_set(e, ERR_INVALID_REQUEST,
			    "unknown field '%s%.64s'", prefix, key);
			return -1;
		}
	}
	for (i = 0; i < n; i++) {
		v = json_object_get(obj, fields[i].name);
		if (v == NULL || json_is_null(v)) {
			if (!fields[i].required)
				continue;
			err_set(e, ERR_INVALID_REQUEST, "missing field '%s%s'",
			    prefix, fields[i].name);
			return -1;
		}
		if (!type_ok(v, fields[i].type)) {
			err_set(e, ERR_INVALID_REQUEST,
			    "field '%s%s' must be %s", prefix, fields[i].name,
			    ftype_names[fields[i].type]);
			return -1;
		}
	}
	return 0;
}

const char *
api_opt_string(json_t *obj, const char *name)
{
	json_t *v = json_object_get(obj, name);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Nesting depth of v (a scalar is 1). */
static size_t
json_depth(json_t *v, size_t limit)
{
	size_t d = 0, i, sub;
	const char *key;
	json_t *c;

	if (limit == 0)
		return 1;
	if (json_is_object(v)) {
		json_object_foreach(v, key, c) {
			sub = json_depth(c, limit - 1);
			if (sub > d)
				d = sub;
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, c) {
			sub = json_depth(c, limit - 1);
			if (sub > d)
				d = sub;
		}
	}
	return d + 1;
}

int
api_json_load(const char *body, size_t len, json_t **out, struct err *e)
{
	json_error_t jerr;
	json_t *v = NULL;
	int rc = -1;

	if (body == NULL || len == 0) {
		err_set(e, ERR_INVALID_JSON, "request body is empty");
		goto out;
	}
	v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (v == NULL) {
		/* jansson's text names the offence and its position. */
		err_set(e, ERR_INVALID_JSON, "invalid JSON: %.120s (line %d)",
		    jerr.text, jerr.line);
		goto out;
	}
	if (json_depth(v, RCA_MAX_JSON_DEPTH + 1) > RCA_MAX_JSON_DEPTH) {
		err_set(e, ERR_INVALID_JSON,
		    "JSON nested deeper than %d levels", RCA_MAX_JSON_DEPTH);
		goto out;
	}
	if (!json_is_object(v)) {
		err_set(e, ERR_INVALID_REQUEST,
		    "request body must be a JSON object");
		goto out;
	}
	*out = v;
	v = NULL;
	rc = 0;
out:
	json_decref(v);
	return rc;
}

int
api_opt_duration(json_t *root, const char *name, int64_t *out,
    struct err *e)
{
	const char *s = api_opt_string(root, name);
	struct err pe;

	*out = 0;
	if (s == NULL)
		return 0;
	if (tu_parse_duration(s, out, &pe) == -1) {
		err_set(e, ERR_INVALID_TTL,
		    "field '%s' must be a duration like 90s, 30m, 24h or 7d",
		    name);
		return -1;
	}
	return 0;
}

int
api_add_names(struct names *n, enum name_kind k, json_t *arr, const char *name,
    struct err *e)
{
	struct err ne;
	json_t *v;
	size_t i;

	if (arr == NULL || json_is_null(arr))
		return 0;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v)) {
			err_set(e, ERR_INVALID_REQUEST,
			    "field '%s[%zu]' must be a string", name, i);
			return -1;
		}
		if (names_add(n, k, json_string_value(v), &ne) == -1) {
			err_set(e, ne.code, "field '%s[%zu]': %s", name, i,
			    ne.msg);
			return -1;
		}
	}
	return 0;
}

int
api_decode_sans(json_t *root, struct names *n, struct err *e)
{
	static const struct api_field san_fields[] = {
		{ "dns", API_F_ARRAY, false },
		{ "ip", API_F_ARRAY, false },
	};
	json_t *sans = json_object_get(root, "sans");

	if (!json_is_object(sans))
		return 0;
	if (api_check_fields(sans, "sans.", san_fields, 2, e) == -1 ||
	    api_add_names(n, NAME_DNS, json_object_get(sans, "dns"),
	    "sans.dns", e) == -1 ||
	    api_add_names(n, NAME_IP, json_object_get(sans, "ip"),
	    "sans.ip", e) == -1)
		return -1;
	return 1;
}

bool
api_is_json_type(const char *ct)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1;

	if (ct == NULL)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, n) != 0)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

int
api_decode_limit(const char *s, size_t *out, struct err *e)
{
	size_t v = 0;

	if (s == NULL || s[0] == '\0') {
		*out = RCA_DEFAULT_LIST_LIMIT;
		return 0;
	}
	for (const char *p = s; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p) || v > RCA_MAX_LIST_LIMIT)
			goto bad;
		v = v * 10 + (size_t)(*p - '0');
	}
	if (v < 1 || v > RCA_MAX_LIST_LIMIT)
		goto bad;
	*out = v;
	return 0;
bad:
	err_set(e, ERR_INVALID_REQUEST,
	    "query parameter 'limit' must be between 1 and %d",
	    RCA_MAX_LIST_LIMIT);
	return -1;
}

int
api_decode_cursor(const char *s, int64_t *out, struct err *e)
{
	int64_t v = 0;

	if (s == NULL || s[0] == '\0') {
		*out = 0;
		return 0;
	}
	for (const char *p = s; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p) ||
		    v > (INT64_MAX - 9) / 10)
			goto bad;
		v = v * 10 + (*p - '0');
	}
	*out = v;
	return 0;
bad:
	err_set(e, ERR_INVALID_REQUEST,
	    "query parameter 'after' must be a cursor from 'next'");
	return -1;
}

int
api_decode_after(const char *s, bool (*valid)(const char *),
    const char **out, struct err *e)
{
	*out = NULL;
	if (s == NULL || s[0] == '\0')
		return 0;
	if (!valid(s)) {
		err_set(e, ERR_INVALID_REQUEST,
		    "query parameter 'after' must be a cursor from 'next'");
		return -1;
	}
	*out = s;
	return 0;
}
