/*
 * /v1/nodes: register, list, get and delete Redis nodes, rotate one
 * (200 with the record, or 502 rotation_failed with the record), its
 * rotation history, the TLS audit and its redis.conf block.  Decode,
 * one svc_* call, encode.  Also /metrics with the node series.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h_nodes.h"
#include "log.h"
#include "timeutil.h"

/* ---- encoding ---- */

static void
put(json_t *o, const char *key, json_t *v, bool *ok)
{
	if (v == NULL || json_object_set_new(o, key, v) == -1)
		*ok = false;
}

static json_t *
str_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

static json_t *
time_or_null(int64_t t)
{
	char buf[RCA_TIME_STR];

	if (t == 0)
		return json_null();
	tu_format(t, buf);
	return json_string(buf);
}

static json_t *
enc_list(const struct names *n, enum name_kind k)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n->n[k]; i++)
		if (json_array_append_new(a, json_string(n->list[k][i])) ==
		    -1) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* A rotation record; new, or NULL (no memory). */
static json_t *
enc_rotation(const struct rotation_rec *r)
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
		put(o, "id", json_integer((json_int_t)r->id), &ok);
		put(o, "node", json_string(r->node), &ok);
		put(o, "status", json_string(rotation_status_name(r->status)),
		    &ok);
		put(o, "old_serial", str_or_null(r->old_serial), &ok);
		put(o, "new_serial", str_or_null(r->new_serial), &ok);
		put(o, "started_at", time_or_null(r->started_at), &ok);
		put(o, "finished_at", time_or_null(r->finished_at), &ok);
		put(o, "steps", steps, &ok);
		steps = NULL;
	}
	json_decref(steps);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* A node object (SPEC section 6); new, or NULL (no memory). */
static json_t *
enc_node(const struct svc_node_view *v)
{
	const struct node_rec	*n = &v->node;
	json_t			*o = json_object(), *sans, *auth;
	char			 ttl[24];
	bool			 ok = o != NULL;

	if (!ok)
		return NULL;
	sans = json_pack("{s:o?, s:o?}", "dns", enc_list(&n->sans, NAME_DNS),
	    "ip", enc_list(&n->sans, NAME_IP));
	auth = json_pack("{s:o, s:o}", "username",
	    str_or_null(n->auth_username), "password_file",
	    str_or_null(n->auth_password_file));
	if (n->ttl > 0)
		tu_format_duration(n->ttl, ttl);
	put(o, "name", json_string(n->name), &ok);
	put(o, "host", json_string(n->host), &ok);
	put(o, "port", json_integer(n->port), &ok);
	put(o, "server_name", str_or_null(n->server_name), &ok);
	put(o, "sans", sans, &ok);
	put(o, "cert_dir", json_string(n->cert_dir), &ok);
	put(o, "cert_file", json_string(n->cert_file), &ok);
	put(o, "key_file", json_string(n->key_file), &ok);
	put(o, "ca_file", json_string(n->ca_file), &ok);
	put(o, "profile", json_string(n->profile), &ok);
	put(o, "ttl", n->ttl > 0 ? json_string(ttl) : json_null(), &ok);
	put(o, "auth", auth, &ok);
	put(o, "current_serial", str_or_null(n->current_serial), &ok);
	put(o, "not_after", time_or_null(n->not_after), &ok);
	put(o, "expires_in_seconds", n->not_after != 0 ?
	    json_integer((json_int_t)v->expires_in_seconds) : json_null(),
	    &ok);
	put(o, "status", json_string(svc_node_status_name(v->status)), &ok);
	put(o, "last_rotation", v->has_last_rotation ?
	    enc_rotation(&v->last_rotation) : json_null(), &ok);
	put(o, "created_at", time_or_null(n->created_at), &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The {name} path parameter: refused shapes are simply not found. */
static const char *
path_name(struct api_req *r, struct err *e)
{
	const char	*name = r->params.v[0];
	size_t		 len = strlen(name);

	if (len == 0 || len > RCA_MAX_NODE_NAME) {
		err_set(e, ERR_NOT_FOUND, "node not found");
		return NULL;
	}
	return name;
}

/* ---- handlers ---- */

/*
 * POST /v1/nodes {node}.  201 node; 400 invalid_json, invalid_request
 * (names the field), unknown_profile, invalid_ttl; 401; 403; 409
 * already_exists; 413; 415; 422 ttl_too_long; 500.
 */
int
api_h_node_create(struct api_req *r, struct api_resp *out, struct err *e)
{
	struct api_node_body	b;
	struct svc_node_view	v;
	int			rc = -1;

	memset(&b, 0, sizeof(b));
	memset(&v, 0, sizeof(v));
	if (api_decode_node(r->body, r->body_len, &b, e) == -1) {
		api_refused(r, "", e);
		goto out;
	}
	if (svc_node_create(r->svc, &r->actor, &b.req, &v, e) == -1)
		goto out;
	rc = api_resp_json(out, 201, enc_node(&v), e);
out:
	svc_node_view_clear(&v);
	api_node_body_free(&b);
	return rc;
}

/* GET /v1/nodes?limit&after.  200 {"items", "next"}; 400
 * invalid_request; 401; 403; 500. */
int
api_h_node_list(struct api_req *r, struct api_resp *out, struct err *e)
{
	struct svc_node_view	*list = NULL;
	char			 next[RCA_MAX_NODE_NAME + 1] = "";
	const char		*after;
	json_t			*o = NULL, *items;
	size_t			 limit, n = 0;
	int			 rc = -1;

	if (api_decode_limit(api_query(r, "limit"), &limit, e) == -1)
		goto out;
	after = api_query(r, "after");
	if (after != NULL && strlen(after) > RCA_MAX_NODE_NAME) {
		err_set(e, ERR_INVALID_REQUEST, "query parameter 'after' "
		    "must be a cursor from 'next'");
		goto out;
	}
	if (svc_node_list(r->svc, after, limit, &list, &n, next, e) == -1)
		goto out;
	if ((o = json_object()) == NULL || (items = json_array()) == NULL ||
	    json_object_set_new(o, "items", items) == -1)
		goto nomem;
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(items, enc_node(&list[i])) == -1)
			goto nomem;
	if (json_object_set_new(o, "next", next[0] != '\0' ?
	    json_string(next) : json_null()) == -1)
		goto nomem;
	rc = api_resp_json(out, 200, o, e);
	o = NULL;
	goto out;
nomem:
	err_set(e, ERR_INTERNAL, "out of memory");
out:
	json_decref(o);
	svc_node_list_free(list, n);
	return rc;
}

/* GET /v1/nodes/{name}.  200 node; 401; 403; 404; 500. */
int
api_h_node_get(struct api_req *r, struct api_resp *out, struct err *e)
{
	struct svc_node_view	 v;
	const char		*name;
	int			 rc = -1;

	memset(&v, 0, sizeof(v));
	if ((name = path_name(r, e)) == NULL ||
	    svc_node_get(r->svc, name, &v, e) == -1)
		goto out;
	rc = api_resp_json(out, 200, enc_node(&v), e);
out:
	svc_node_view_clear(&v);
	return rc;
}

/* DELETE /v1/nodes/{name}.  204; 401; 403; 404; 409 conflict (a
 * rotation is running); 500. */
int
api_h_node_delete(struct api_req *r, struct api_resp *out, struct err *e)
{
	const char *name;

	if ((name = path_name(r, e)) == NULL ||
	    svc_node_delete(r->svc, &r->actor, name, e) == -1)
		return -1;
	out->status = 204;
	out->ctype = NULL;
	out->body = NULL;
	out->len = 0;
	return 0;
}

/*
 * POST /v1/nodes/{name}/rotate (no body).  200 rotation record; 502
 * rotation_failed: the record plus "error"; 401; 403; 404; 409 conflict
 * (already running); 500.
 */
int
api_h_node_rotate(struct api_req *r, struct api_resp *out, struct err *e)
{
	struct rotation_rec	 rec;
	const char		*name;
	json_t			*o = NULL, *err = NULL;
	int			 rc = -1;

	memset(&rec, 0, sizeof(rec));
	if ((name = path_name(r, e)) == NULL)
		goto out;
	if (svc_rotate(r->svc, &r->actor, name, &rec, e) == 0) {
		rc = api_resp_json(out, 200, enc_rotation(&rec), e);
		goto out;
	}
	if (e->code != ERR_ROTATION_FAILED || rec.id == 0)
		goto out;
	/* The error body, with the record beside it. */
	if ((o = enc_rotation(&rec)) == NULL || (err = json_pack("{s:s, s:s}",
	    "code", err_code_name(ERR_ROTATION_FAILED), "message", e->msg)) ==
	    NULL || json_object_set_new(o, "error", err) == -1) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	rc = api_resp_json(out, api_err_status(ERR_ROTATION_FAILED), o, e);
	o = NULL;
out:
	json_decref(o);
	return rc;
}

/*
 * GET /v1/nodes/{name}/rotations?limit&after.  Newest first; "after"
 * is the "next" of the previous page.  200 {"items", "next"}; 400
 * invalid_request; 401; 403; 404; 500.
 */
int
api_h_node_rotations(struct api_req *r, struct api_resp *out,
    struct err *e)
{
	struct rotation_rec	*list = NULL;
	const char		*name;
	json_t			*o = NULL, *items;
	char			 cursor[24];
	size_t			 limit, n = 0;
	int64_t			 before = 0, next = 0;
	int			 rc = -1;

	if ((name = path_name(r, e)) == NULL)
		goto out;
	if (api_decode_limit(api_query(r, "limit"), &limit, e) == -1 ||
	    api_decode_cursor(api_query(r, "after"), &before, e) == -1)
		goto out;
	if (svc_rotation_list(r->svc, name, before, limit, &list, &n, &next,
	    e) == -1)
		goto out;
	if ((o = json_object()) == NULL || (items = json_array()) == NULL ||
	    json_object_set_new(o, "items", items) == -1)
		goto nomem;
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(items, enc_rotation(&list[i])) == -1)
			goto nomem;
	snprintf(cursor, sizeof(cursor), "%lld", (long long)next);
	if (json_object_set_new(o, "next", next > 0 ? json_string(cursor) :
	    json_null()) == -1)
		goto nomem;
	rc = api_resp_json(out, 200, o, e);
	o = NULL;
	goto out;
nomem:
	err_set(e, ERR_INTERNAL, "out of memory");
out:
	json_decref(o);
	svc_rotation_list_free(list, n);
	return rc;
}

/* The audit answer {"ok", "checks": [{"id", "ok", "detail"}]}. */
static json_t *
enc_checks(const struct svc_check_result *res)
{
	json_t	*o, *checks = json_array();
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
	o = json_pack("{s:b, s:o}", "ok", res->ok, "checks", checks);
	return o;
}

/*
 * POST /v1/nodes/{name}/check (no body).  200 {"ok", "checks"}; a node
 * that cannot be reached answers 200 with ok false and one failed
 * "reachable" check; 401; 403; 404; 500.
 */
int
api_h_node_check(struct api_req *r, struct api_resp *out, struct err *e)
{
	struct svc_check_result	*res = NULL;
	const char		*name;
	int			 rc = -1;

	if ((name = path_name(r, e)) == NULL)
		goto out;
	if ((res = calloc(1, sizeof(*res))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (svc_node_check(r->svc, name, res, e) == -1)
		goto out;
	rc = api_resp_json(out, 200, enc_checks(res), e);
out:
	free(res);
	return rc;
}

/* GET /v1/nodes/{name}/redis.conf.  200 text/plain; 401; 403; 404;
 * 500. */
int
api_h_node_conf(struct api_req *r, struct api_resp *out, struct err *e)
{
	const char	*name;
	char		*text = NULL;
	int		 rc = -1;

	if ((name = path_name(r, e)) == NULL ||
	    svc_node_redis_conf(r->svc, name, &text, e) == -1)
		goto out;
	rc = api_resp_bytes(out, 200, "text/plain; charset=utf-8", text,
	    strlen(text), e);
out:
	free(text);
	return rc;
}

/* ---- metrics ---- */

/* Append printf output to a growing buffer; false when out of memory. */
static bool
cat(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool
cat(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return false;
		if ((size_t)n < *cap - *len) {
			*len += (size_t)n;
			return true;
		}
		{
			size_t	 ncap = *cap * 2 + (size_t)n;
			char	*nb = realloc(*buf, ncap);

			if (nb == NULL)
				return false;
			*buf = nb;
			*cap = ncap;
		}
	}
}

/*
 * GET /metrics.  As api_h_metrics, then
 * redisca_node_cert_expiry_timestamp_seconds{node} and
 * redisca_rotations_total{node,status}.  200; 500.
 */
int
api_h_metrics_nodes(struct api_req *r, struct api_resp *out,
    struct err *e)
{
	struct svc_node_stats	 st;
	struct err		 se;
	char			*buf;
	size_t			 len, cap;
	bool			 ok = true;
	static const enum rotation_status shown[] = { ROT_SUCCEEDED,
	    ROT_ROLLED_BACK, ROT_FAILED };

	if (api_h_metrics(r, out, e) == -1)
		return -1;
	memset(&st, 0, sizeof(st));
	err_clear(&se);
	if (svc_node_stats(r->svc, &st, &se) == -1) {
		log_warn("metrics: node statistics unavailable: %s", se.msg);
		return 0;
	}
	buf = out->body;
	len = out->len;
	cap = len + 1;
	ok = cat(&buf, &len, &cap, "# HELP redisca_node_cert_expiry_"
	    "timestamp_seconds notAfter of the node's current certificate.\n"
	    "# TYPE redisca_node_cert_expiry_timestamp_seconds gauge\n");
	for (size_t i = 0; ok && i < st.nnodes; i++)
		if (st.nodes[i].cert_not_after != 0)
			ok = cat(&buf, &len, &cap, "redisca_node_cert_expiry_"
			    "timestamp_seconds{node=\"%s\"} %" PRId64 "\n",
			    st.nodes[i].node, st.nodes[i].cert_not_after);
	if (ok)
		ok = cat(&buf, &len, &cap, "# HELP redisca_rotations_total "
		    "Finished node rotations by outcome.\n"
		    "# TYPE redisca_rotations_total counter\n");
	for (size_t i = 0; ok && i < st.nnodes; i++)
		for (size_t k = 0; ok && k < sizeof(shown) / sizeof(shown[0]);
		    k++)
			ok = cat(&buf, &len, &cap, "redisca_rotations_total{"
			    "node=\"%s\",status=\"%s\"} %" PRId64 "\n",
			    st.nodes[i].node, rotation_status_name(shown[k]),
			    st.nodes[i].rotations[shown[k]]);
	svc_node_stats_clear(&st);
	if (!ok) {
		free(buf);
		out->body = NULL;
		out->len = 0;
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	out->body = buf;
	out->len = len;
	return 0;
}
