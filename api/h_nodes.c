/*
 * /v1/nodes: register, list, get and delete Redis nodes, rotate one
 * (200 with the record, or 502 rotation_failed with the record), its
 * rotation history, the TLS audit and its redis.conf block.  Decode,
 * one svc_* call, encode (encode.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_fleet.h"

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

/* A node name cursor: no longer than a node name. */
static bool
name_fits(const char *s)
{
	return strlen(s) <= RCA_MAX_NODE_NAME;
}

/* Page elements: a node, a rotation record. */
static json_t *
enc_node_item(const void *item, const void *arg)
{
	return api_enc_node(item);
}

static json_t *
enc_rotation_item(const void *item, const void *arg)
{
	return api_enc_rotation(item);
}

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
	rc = api_resp_json(out, 201, api_enc_node(&v), e);
out:
	svc_node_view_clear(&v);
	api_node_body_free(&b);
	return rc;
}

/*
 * GET /v1/nodes?limit&after&status.  200 {"items", "next"} (with a
 * status, a page may be short while "next" is set); 400
 * invalid_request; 401; 403; 500.
 */
int
api_h_node_list(struct api_req *r, struct api_resp *out, struct err *e)
{
	struct svc_node_view	*list = NULL;
	char			 next[RCA_MAX_NODE_NAME + 1] = "";
	const char		*after;
	enum node_status	 st;
	size_t			 limit, n = 0;
	int			 rc = -1;

	if (api_decode_limit(api_query(r, "limit"), &limit, e) == -1 ||
	    api_decode_after(api_query(r, "after"), name_fits, &after,
	    e) == -1 ||
	    api_decode_node_status(api_query(r, "status"), &st, e) == -1)
		goto out;
	if (st == NODE_STATUS__MAX ? svc_node_list(r->svc, after, limit,
	    &list, &n, next, e) == -1 : svc_node_list_status(r->svc, st,
	    after, limit, &list, &n, next, e) == -1)
		goto out;
	rc = api_resp_json(out, 200, api_enc_page(list, n, sizeof(*list),
	    enc_node_item, NULL, next), e);
out:
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
	rc = api_resp_json(out, 200, api_enc_node(&v), e);
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
	api_resp_empty(out, 204);
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

	memset(&rec, 0, sizeof(rec));
	if ((name = path_name(r, e)) == NULL)
		return -1;
	if (svc_rotate(r->svc, &r->actor, name, &rec, e) == 0)
		return api_resp_json(out, 200, api_enc_rotation(&rec), e);
	if (e->code != ERR_ROTATION_FAILED || rec.id == 0)
		return -1;
	/* The error body, with the record beside it. */
	return api_resp_json(out, api_err_status(ERR_ROTATION_FAILED),
	    api_enc_rotation_failed(&rec, e->msg), e);
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
	char			 cursor[API_CURSOR];
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
	rc = api_resp_json(out, 200, api_enc_page(list, n, sizeof(*list),
	    enc_rotation_item, NULL, api_enc_cursor(next, cursor)), e);
out:
	svc_rotation_list_free(list, n);
	return rc;
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
	rc = api_resp_json(out, 200, api_enc_check(res), e);
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
