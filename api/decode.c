/*
 * Request bodies and query strings into validated C structs.  Pure
 * functions: no network, no service, so every refusal is unit-tested.
 * Fields are checked against a per-body table first (unknown, missing,
 * wrong type), which lets each message name the field; JSON null in an
 * optional field means "absent".
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

/* Parse an optional duration field; absent is 0. */
static int
opt_duration(json_t *root, const char *name, int64_t *out, struct err *e)
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

void
api_issue_body_free(struct api_issue_body *b)
{
	if (b == NULL)
		return;
	json_decref(b->root);
	memset(b, 0, sizeof(*b));
}

int
api_decode_issue(const char *body, size_t len, struct api_issue_body *out,
    struct err *e)
{
	static const struct api_field fields[] = {
		{ "csr", API_F_STRING, true },
		{ "profile", API_F_STRING, true },
		{ "ttl", API_F_STRING, false },
	};
	struct api_issue_body b = { 0 };
	json_t *csr;
	int rc = -1;

	if (api_json_load(body, len, &b.root, e) == -1)
		goto out;
	if (api_check_fields(b.root, "", fields, 3, e) == -1)
		goto out;
	csr = json_object_get(b.root, "csr");
	b.csr = json_string_value(csr);
	b.csr_len = json_string_length(csr);
	if (b.csr_len > RCA_MAX_CSR_BYTES) {
		err_set(e, ERR_INVALID_CSR,
		    "field 'csr' is longer than %d bytes", RCA_MAX_CSR_BYTES);
		goto out;
	}
	b.profile = api_opt_string(b.root, "profile");
	if (opt_duration(b.root, "ttl", &b.ttl, e) == -1)
		goto out;
	*out = b;
	memset(&b, 0, sizeof(b));
	rc = 0;
out:
	api_issue_body_free(&b);
	return rc;
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

void
api_generate_body_free(struct api_generate_body *b)
{
	if (b == NULL)
		return;
	json_decref(b->root);
	names_clear(&b->names);
	memset(b, 0, sizeof(*b));
}

int
api_decode_generate(const char *body, size_t len,
    struct api_generate_body *out, struct err *e)
{
	static const struct api_field fields[] = {
		{ "profile", API_F_STRING, true },
		{ "common_name", API_F_STRING, true },
		{ "sans", API_F_OBJECT, false },
		{ "ttl", API_F_STRING, false },
		{ "key_type", API_F_STRING, false },
	};
	static const struct api_field san_fields[] = {
		{ "dns", API_F_ARRAY, false },
		{ "ip", API_F_ARRAY, false },
	};
	struct api_generate_body b = { .names = NAMES_INIT };
	const char *kt;
	struct err ne;
	json_t *sans;
	int rc = -1;

	b.key_type = KEY_EC_P256;
	if (api_json_load(body, len, &b.root, e) == -1)
		goto out;
	if (api_check_fields(b.root, "", fields, 5, e) == -1)
		goto out;
	sans = json_object_get(b.root, "sans");
	if (json_is_object(sans)) {
		if (api_check_fields(sans, "sans.", san_fields, 2, e) == -1)
			goto out;
		if (api_add_names(&b.names, NAME_DNS, json_object_get(sans, "dns"),
		    "sans.dns", e) == -1)
			goto out;
		if (api_add_names(&b.names, NAME_IP, json_object_get(sans, "ip"),
		    "sans.ip", e) == -1)
			goto out;
	}
	if (names_set_cn(&b.names, api_opt_string(b.root, "common_name"),
	    &ne) == -1) {
		err_set(e, ERR_INVALID_REQUEST, "field 'common_name': %s",
		    ne.msg);
		goto out;
	}
	b.profile = api_opt_string(b.root, "profile");
	if (opt_duration(b.root, "ttl", &b.ttl, e) == -1)
		goto out;
	kt = api_opt_string(b.root, "key_type");
	if (kt != NULL && key_type_parse(kt, &b.key_type) == -1) {
		err_set(e, ERR_INVALID_REQUEST, "field 'key_type' must be one "
		    "of ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096");
		goto out;
	}
	*out = b;
	memset(&b, 0, sizeof(b));
	rc = 0;
out:
	api_generate_body_free(&b);
	return rc;
}

int
api_decode_revoke(const char *body, size_t len, struct api_revoke_body *out,
    struct err *e)
{
	static const struct api_field fields[] = {
		{ "reason", API_F_STRING, false },
	};
	json_t *root = NULL;
	const char *reason;
	int rc = -1;

	out->reason = REASON_UNSPECIFIED;
	if (body == NULL || len == 0) {
		rc = 0;
		goto out;
	}
	if (api_json_load(body, len, &root, e) == -1)
		goto out;
	if (api_check_fields(root, "", fields, 1, e) == -1)
		goto out;
	reason = api_opt_string(root, "reason");
	if (reason != NULL && reason_parse(reason, &out->reason) == -1) {
		err_set(e, ERR_INVALID_REQUEST, "field 'reason' must be one of "
		    "unspecified, keyCompromise, affiliationChanged, "
		    "superseded, cessationOfOperation, privilegeWithdrawn");
		goto out;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

void
api_token_body_free(struct api_token_body *b)
{
	if (b == NULL)
		return;
	json_decref(b->root);
	memset(b, 0, sizeof(*b));
}

int
api_decode_token(const char *body, size_t len, struct api_token_body *out,
    struct err *e)
{
	static const struct api_field fields[] = {
		{ "kind", API_F_STRING, false },
		{ "profile", API_F_STRING, false },
		{ "names", API_F_ARRAY, false },
		{ "uses", API_F_INTEGER, false },
		{ "ttl", API_F_STRING, false },
		{ "max_cert_ttl", API_F_STRING, false },
		{ "description", API_F_STRING, false },
	};
	struct api_token_body b = { 0 };
	const char *kind, *ttl;
	json_t *names, *v, *uses;
	size_t i;
	int rc = -1;

	if (api_json_load(body, len, &b.root, e) == -1)
		goto out;
	if (api_check_fields(b.root, "", fields, 7, e) == -1)
		goto out;
	b.req.kind = TOKEN_ENROLL;
	kind = api_opt_string(b.root, "kind");
	if (kind != NULL && token_kind_parse(kind, &b.req.kind) == -1) {
		err_set(e, ERR_INVALID_REQUEST,
		    "field 'kind' must be \"admin\" or \"enroll\"");
		goto out;
	}
	b.req.profile = api_opt_string(b.root, "profile");
	names = json_object_get(b.root, "names");
	if (b.req.kind == TOKEN_ENROLL) {
		if (b.req.profile == NULL) {
			err_set(e, ERR_INVALID_REQUEST,
			    "missing field 'profile'");
			goto out;
		}
		if (!json_is_array(names)) {
			err_set(e, ERR_INVALID_REQUEST,
			    "missing field 'names'");
			goto out;
		}
	}
	if (json_array_size(names) > RCA_MAX_PATTERNS) {
		err_set(e, ERR_INVALID_REQUEST,
		    "field 'names' has more than %d entries", RCA_MAX_PATTERNS);
		goto out;
	}
	json_array_foreach(names, i, v) {
		if (!json_is_string(v)) {
			err_set(e, ERR_INVALID_REQUEST,
			    "field 'names[%zu]' must be a string", i);
			goto out;
		}
		b.patterns[i] = (char *)json_string_value(v);
	}
	b.req.patterns = b.patterns;
	b.req.npatterns = json_array_size(names);
	/* One use unless said otherwise: a leaked token is then spent. */
	b.req.uses = 1;
	uses = json_object_get(b.root, "uses");
	if (json_is_integer(uses))
		b.req.uses = json_integer_value(uses);
	/* Absent: the kind's default; "never": only admin (the service). */
	ttl = api_opt_string(b.root, "ttl");
	if (ttl != NULL && strcmp(ttl, "never") == 0)
		b.req.ttl = SVC_TOKEN_TTL_NEVER;
	else if (opt_duration(b.root, "ttl", &b.req.ttl, e) == -1)
		goto out;
	if (opt_duration(b.root, "max_cert_ttl", &b.req.max_cert_ttl,
	    e) == -1)
		goto out;
	b.req.description = api_opt_string(b.root, "description");
	*out = b;
	/* The request points into the struct's own array: move it along. */
	out->req.patterns = out->patterns;
	memset(&b, 0, sizeof(b));
	rc = 0;
out:
	api_token_body_free(&b);
	return rc;
}

void
api_node_body_free(struct api_node_body *b)
{
	if (b == NULL)
		return;
	json_decref(b->root);
	names_clear(&b->sans);
	memset(b, 0, sizeof(*b));
}

/*
 * {"name", "host", "port", "server_name"?, "sans"?: {"dns", "ip"},
 * "cert_dir", "cert_file"?, "key_file"?, "ca_file"?, "profile"?,
 * "ttl"?, "auth"?: {"username"?, "password_file"?}}.  The values
 * themselves are checked by svc_node_create().
 */
int
api_decode_node(const char *body, size_t len, struct api_node_body *out,
    struct err *e)
{
	static const struct api_field fields[] = {
		{ "name", API_F_STRING, true },
		{ "host", API_F_STRING, true },
		{ "port", API_F_INTEGER, true },
		{ "server_name", API_F_STRING, false },
		{ "sans", API_F_OBJECT, false },
		{ "cert_dir", API_F_STRING, true },
		{ "cert_file", API_F_STRING, false },
		{ "key_file", API_F_STRING, false },
		{ "ca_file", API_F_STRING, false },
		{ "profile", API_F_STRING, false },
		{ "ttl", API_F_STRING, false },
		{ "auth", API_F_OBJECT, false },
	};
	static const struct api_field san_fields[] = {
		{ "dns", API_F_ARRAY, false },
		{ "ip", API_F_ARRAY, false },
	};
	static const struct api_field auth_fields[] = {
		{ "username", API_F_STRING, false },
		{ "password_file", API_F_STRING, false },
	};
	struct api_node_body	 b;
	json_t			*sans, *auth;
	json_int_t		 port;
	const char		*ttl;
	struct err		 pe;
	int			 rc = -1;

	memset(&b, 0, sizeof(b));
	if (api_json_load(body, len, &b.root, e) == -1)
		goto out;
	if (api_check_fields(b.root, "", fields,
	    sizeof(fields) / sizeof(fields[0]), e) == -1)
		goto out;
	sans = json_object_get(b.root, "sans");
	if (json_is_object(sans)) {
		if (api_check_fields(sans, "sans.", san_fields, 2, e) == -1 ||
		    api_add_names(&b.sans, NAME_DNS, json_object_get(sans, "dns"),
		    "sans.dns", e) == -1 ||
		    api_add_names(&b.sans, NAME_IP, json_object_get(sans, "ip"),
		    "sans.ip", e) == -1)
			goto out;
		b.req.sans = &b.sans;
	}
	auth = json_object_get(b.root, "auth");
	if (json_is_object(auth)) {
		if (api_check_fields(auth, "auth.", auth_fields, 2, e) == -1)
			goto out;
		b.req.auth_username = api_opt_string(auth, "username");
		b.req.auth_password_file = api_opt_string(auth, "password_file");
	}
	port = json_integer_value(json_object_get(b.root, "port"));
	if (port < 1 || port > 65535) {
		err_set(e, ERR_INVALID_REQUEST, "field 'port' must be 1 to "
		    "65535");
		goto out;
	}
	b.req.port = (int)port;
	b.req.name = api_opt_string(b.root, "name");
	b.req.host = api_opt_string(b.root, "host");
	b.req.server_name = api_opt_string(b.root, "server_name");
	b.req.cert_dir = api_opt_string(b.root, "cert_dir");
	b.req.cert_file = api_opt_string(b.root, "cert_file");
	b.req.key_file = api_opt_string(b.root, "key_file");
	b.req.ca_file = api_opt_string(b.root, "ca_file");
	b.req.profile = api_opt_string(b.root, "profile");
	if ((ttl = api_opt_string(b.root, "ttl")) != NULL &&
	    tu_parse_duration(ttl, &b.req.ttl, &pe) == -1) {
		err_set(e, ERR_INVALID_TTL, "field 'ttl' must be a duration "
		    "like 90s, 30m, 24h or 7d");
		goto out;
	}
	*out = b;
	if (out->req.sans != NULL)
		out->req.sans = &out->sans;
	memset(&b, 0, sizeof(b));
	rc = 0;
out:
	api_node_body_free(&b);
	return rc;
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

/* A query value, NULL when absent or empty. */
static const char *
nonempty(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

int
api_decode_cert_query(const struct api_cert_query *q, int64_t now,
    struct cert_filter *out, struct err *e)
{
	struct cert_filter f = { 0 };
	enum cert_status st;
	struct err pe;

	f.status = -1;
	f.now = now;
	if (nonempty(q->status) != NULL) {
		if (cert_status_parse(q->status, &st) == -1) {
			err_set(e, ERR_INVALID_REQUEST, "query parameter "
			    "'status' must be valid, revoked or expired");
			return -1;
		}
		f.status = (int)st;
	}
	f.profile = nonempty(q->profile);
	f.common_name = nonempty(q->common_name);
	f.node = nonempty(q->node);
	if (nonempty(q->expires_before) != NULL &&
	    tu_parse(q->expires_before, &f.expires_before, &pe) == -1) {
		err_set(e, ERR_INVALID_REQUEST, "query parameter "
		    "'expires_before' must be an RFC 3339 time");
		return -1;
	}
	if (api_decode_limit(q->limit, &f.limit, e) == -1)
		return -1;
	if (api_decode_cursor(q->after, &f.after, e) == -1)
		return -1;
	*out = f;
	return 0;
}
