/*
 * Records into the JSON objects of SPEC section 6 (certificates, tokens,
 * audit entries, nodes, rotations), and the page every list answers
 * with.  No network: the field names users rely on live here only.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api_priv.h"
#include "timeutil.h"

void
api_enc_put(json_t *o, const char *key, json_t *v, bool *ok)
{
	if (v == NULL || json_object_set_new(o, key, v) == -1)
		*ok = false;
}

json_t *
api_enc_with(json_t *o, const char *key, json_t *v)
{
	bool ok = o != NULL;

	api_enc_put(o, key, v, &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * A JSON string of s; bytes that are not UTF-8 (a name taken from a
 * CSR) become a marker instead of failing the whole response.
 */
static json_t *
jstr(const char *s)
{
	json_t *v = json_string(s);

	return v != NULL ? v : json_string("(not UTF-8)");
}

json_t *
api_enc_time(int64_t t)
{
	char buf[RCA_TIME_STR];

	if (t == 0)
		return json_null();
	tu_format(t, buf);
	return json_string(buf);	/* ASCII: no jstr() marker */
}

static json_t *
str_or_null(const char *s)
{
	if (s == NULL || s[0] == '\0')
		return json_null();
	return jstr(s);
}

/*
 * s, or null when absent or empty; NULL (the caller fails) when s is
 * not UTF-8.  For node fields, which an answer never replaces.
 */
static json_t *
strict_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

/* An array of list[0..n), each made by mk (jstr or json_string). */
static json_t *
str_array(char *const *list, size_t n, json_t *(*mk)(const char *))
{
	json_t *a = json_array();

	if (a == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (json_array_append_new(a, mk(list[i])) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

json_t *
api_enc_cert(const struct cert_rec *c, int64_t now)
{
	json_t *o = json_object(), *sans = json_object();
	const char *reason = NULL;
	bool ok = o != NULL && sans != NULL;
	bool revoked = c->revoked_at != 0;

	if (!ok)
		goto out;
	api_enc_put(sans, "dns", str_array(c->names.list[NAME_DNS],
	    c->names.n[NAME_DNS], jstr), &ok);
	api_enc_put(sans, "ip", str_array(c->names.list[NAME_IP],
	    c->names.n[NAME_IP], jstr), &ok);
	api_enc_put(sans, "uri", str_array(c->names.list[NAME_URI],
	    c->names.n[NAME_URI], jstr), &ok);
	if (revoked)
		reason = reason_name(c->reason);
	api_enc_put(o, "serial", jstr(c->serial), &ok);
	api_enc_put(o, "profile", jstr(c->profile), &ok);
	api_enc_put(o, "common_name", str_or_null(c->names.cn), &ok);
	api_enc_put(o, "sans", sans, &ok);
	sans = NULL;
	api_enc_put(o, "key_type", jstr(key_type_name(c->key_type)), &ok);
	api_enc_put(o, "not_before", api_enc_time(c->not_before), &ok);
	api_enc_put(o, "not_after", api_enc_time(c->not_after), &ok);
	api_enc_put(o, "status", jstr(cert_status_name(cert_rec_status(c,
	    now))), &ok);
	api_enc_put(o, "revoked_at", revoked ? api_enc_time(c->revoked_at) :
	    json_null(), &ok);
	api_enc_put(o, "revocation_reason", revoked ?
	    str_or_null(reason ? reason : "unspecified") : json_null(), &ok);
	api_enc_put(o, "fingerprint_sha256", jstr(c->fingerprint), &ok);
	api_enc_put(o, "node", str_or_null(c->node), &ok);
	api_enc_put(o, "issued_by", jstr(c->issued_by), &ok);
	api_enc_put(o, "certificate", c->pem != NULL ? jstr(c->pem) :
	    json_null(), &ok);
out:
	json_decref(sans);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
api_enc_token(const struct token_rec *t)
{
	json_t *o = json_object();
	char dur[24];
	bool ok = o != NULL;

	if (!ok)
		return NULL;
	api_enc_put(o, "id", jstr(t->id), &ok);
	api_enc_put(o, "kind", jstr(token_kind_name(t->kind)), &ok);
	api_enc_put(o, "profile", str_or_null(t->profile), &ok);
	api_enc_put(o, "names", str_array(t->patterns, t->npatterns, jstr),
	    &ok);
	api_enc_put(o, "uses_left", t->uses_left < 0 ? json_null() :
	    json_integer(t->uses_left), &ok);
	api_enc_put(o, "expires_at", api_enc_time(t->expires_at), &ok);
	api_enc_put(o, "created_at", api_enc_time(t->created_at), &ok);
	api_enc_put(o, "description", str_or_null(t->description), &ok);
	if (t->max_cert_ttl > 0) {
		tu_format_duration(t->max_cert_ttl, dur);
		api_enc_put(o, "max_cert_ttl", jstr(dur), &ok);
	} else {
		api_enc_put(o, "max_cert_ttl", json_null(), &ok);
	}
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
api_enc_audit(const struct audit_rec *a)
{
	json_t *o = json_object();
	bool ok = o != NULL;

	if (!ok)
		return NULL;
	api_enc_put(o, "id", json_integer(a->id), &ok);
	api_enc_put(o, "at", api_enc_time(a->at), &ok);
	api_enc_put(o, "actor", jstr(a->actor), &ok);
	api_enc_put(o, "action", jstr(a->action), &ok);
	api_enc_put(o, "object", jstr(a->object), &ok);
	api_enc_put(o, "outcome", jstr(audit_outcome_name(a->outcome)), &ok);
	api_enc_put(o, "detail", jstr(a->detail), &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int
api_enc_issued(const struct svc_issued *is, struct api_resp *out,
    struct err *e)
{
	json_t *o;
	bool ok;

	o = api_enc_cert(&is->cert, tu_now());
	ok = o != NULL;
	if (ok && json_object_set_new(o, "chain",
	    json_string(is->chain_pem != NULL ? is->chain_pem : "")) == -1)
		ok = false;
	if (ok && json_object_set_new(o, "ca_certificate",
	    json_string(is->ca_pem != NULL ? is->ca_pem : "")) == -1)
		ok = false;
	if (ok && is->private_key_pem != NULL && json_object_set_new(o,
	    "private_key", json_string(is->private_key_pem)) == -1)
		ok = false;
	if (!ok) {
		json_decref(o);
		err_set(e, ERR_INTERNAL, "cannot encode the certificate");
		return -1;
	}
	return api_resp_json(out, 201, o, e);
}

json_t *
api_enc_rotation(const struct rotation_rec *r)
{
	json_t	*o = json_object(), *steps = json_array();
	bool	 ok = o != NULL && steps != NULL;

	for (size_t i = 0; ok && i < r->nsteps; i++) {
		json_t *s = json_pack("{s:s, s:b, s:s}", "step",
		    r->steps[i].step, "ok", r->steps[i].ok, "detail",
		    r->steps[i].detail);

		if (s == NULL || json_array_append_new(steps, s) == -1)
			ok = false;
	}
	if (ok) {
		api_enc_put(o, "id", json_integer((json_int_t)r->id), &ok);
		api_enc_put(o, "node", json_string(r->node), &ok);
		api_enc_put(o, "status",
		    json_string(rotation_status_name(r->status)), &ok);
		api_enc_put(o, "old_serial", strict_or_null(r->old_serial),
		    &ok);
		api_enc_put(o, "new_serial", strict_or_null(r->new_serial),
		    &ok);
		api_enc_put(o, "started_at", api_enc_time(r->started_at), &ok);
		api_enc_put(o, "finished_at", api_enc_time(r->finished_at),
		    &ok);
		api_enc_put(o, "steps", steps, &ok);
		steps = NULL;
	}
	json_decref(steps);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
api_enc_rotation_failed(const struct rotation_rec *r, const char *msg)
{
	json_t *o, *err;

	if ((o = api_enc_rotation(r)) == NULL)
		return NULL;
	err = json_pack("{s:s, s:s}", "code",
	    err_code_name(ERR_ROTATION_FAILED), "message", msg);
	if (err == NULL || json_object_set_new(o, "error", err) == -1) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The node's "sans" and "auth" objects (NULL: no memory). */
static void
node_parts(const struct node_rec *n, json_t **sans, json_t **auth)
{
	*sans = json_pack("{s:o?, s:o?}", "dns",
	    str_array(n->sans.list[NAME_DNS], n->sans.n[NAME_DNS],
	    json_string), "ip", str_array(n->sans.list[NAME_IP],
	    n->sans.n[NAME_IP], json_string));
	*auth = json_pack("{s:o, s:o}", "username",
	    strict_or_null(n->auth_username), "password_file",
	    strict_or_null(n->auth_password_file));
}

json_t *
api_enc_node(const struct svc_node_view *v)
{
	const struct node_rec	*n = &v->node;
	json_t			*o = json_object(), *sans, *auth;
	char			 ttl[24];
	bool			 ok = o != NULL;

	if (!ok)
		return NULL;
	node_parts(n, &sans, &auth);
	if (n->ttl > 0)
		tu_format_duration(n->ttl, ttl);
	api_enc_put(o, "name", json_string(n->name), &ok);
	api_enc_put(o, "group", json_string(n->group[0] != '\0' ? n->group :
	    n->name), &ok);
	api_enc_put(o, "mode", json_string(node_mode_name(n->mode)), &ok);
	api_enc_put(o, "role", strcmp(n->role, "primary") == 0 ||
	    strcmp(n->role, "replica") == 0 ? json_string(n->role) :
	    json_null(), &ok);
	api_enc_put(o, "host", json_string(n->host), &ok);
	api_enc_put(o, "port", json_integer(n->port), &ok);
	api_enc_put(o, "server_name", strict_or_null(n->server_name), &ok);
	api_enc_put(o, "sans", sans, &ok);
	api_enc_put(o, "cert_dir", json_string(n->cert_dir), &ok);
	api_enc_put(o, "cert_file", json_string(n->cert_file), &ok);
	api_enc_put(o, "key_file", json_string(n->key_file), &ok);
	api_enc_put(o, "ca_file", json_string(n->ca_file), &ok);
	api_enc_put(o, "profile", json_string(n->profile), &ok);
	api_enc_put(o, "ttl", n->ttl > 0 ? json_string(ttl) : json_null(), &ok);
	api_enc_put(o, "auth", auth, &ok);
	api_enc_put(o, "current_serial", strict_or_null(n->current_serial),
	    &ok);
	api_enc_put(o, "served_serial", strict_or_null(n->served_serial), &ok);
	api_enc_put(o, "not_after", api_enc_time(n->not_after), &ok);
	api_enc_put(o, "expires_in_seconds", n->not_after != 0 ?
	    json_integer((json_int_t)v->expires_in_seconds) : json_null(),
	    &ok);
	api_enc_put(o, "status", json_string(svc_node_status_name(v->status)),
	    &ok);
	api_enc_put(o, "drift_since", api_enc_time(n->drift_since), &ok);
	api_enc_put(o, "last_rotation", v->has_last_rotation ?
	    api_enc_rotation(&v->last_rotation) : json_null(), &ok);
	api_enc_put(o, "last_report_at", api_enc_time(n->last_report_at), &ok);
	api_enc_put(o, "created_at", api_enc_time(n->created_at), &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
api_enc_check(const struct svc_check_result *res)
{
	json_t	*checks = json_array();
	bool	 ok = checks != NULL;

	for (size_t i = 0; ok && i < res->n; i++) {
		json_t *c = json_pack("{s:s, s:b, s:s}", "id",
		    res->checks[i].id, "ok", res->checks[i].ok, "detail",
		    res->checks[i].detail);

		if (c == NULL || json_array_append_new(checks, c) == -1)
			ok = false;
	}
	if (!ok) {
		json_decref(checks);
		return NULL;
	}
	return json_pack("{s:b, s:o}", "ok", res->ok, "checks", checks);
}

json_t *
api_enc_page(const void *items, size_t n, size_t size, api_enc_fn enc,
    const void *arg, const char *next)
{
	const char	*p = items;
	json_t		*o = json_object(), *list = json_array();
	bool		 ok = o != NULL && list != NULL;

	api_enc_put(o, "items", list, &ok);
	for (size_t i = 0; ok && i < n; i++)
		if (json_array_append_new(list, enc(p + i * size, arg)) == -1)
			ok = false;
	api_enc_put(o, "next", next != NULL && next[0] != '\0' ?
	    json_string(next) : json_null(), &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

const char *
api_enc_cursor(int64_t next, char out[API_CURSOR])
{
	if (next <= 0)
		return NULL;
	snprintf(out, API_CURSOR, "%lld", (long long)next);
	return out;
}

void
api_http_date(int64_t t, char out[API_HTTP_DATE])
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed",
	    "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	char buf[64];
	struct tm tm;

	/* Names spelled out: strftime would follow the locale. */
	gmtime_r(&tt, &tm);
	snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	snprintf(out, API_HTTP_DATE, "%.29s", buf);
}
