/*
 * /v1/groups (SPEC section 11): every group with its members, and the
 * rotation of one group, replicas first and the primary last (200, or
 * 502 with the records up to the one that stopped it).  Decode, one
 * svc_* call, encode.
 */
#include <stdio.h>
#include <string.h>

#include "api_fleet.h"

/* A role as the API shows it: "primary", "replica", or null. */
static json_t *
enc_role(const char *role)
{
	if (strcmp(role, "primary") == 0 || strcmp(role, "replica") == 0)
		return json_string(role);
	return json_null();
}

/* {"name", "role", "mode", "status"}; new, or NULL (no memory). */
static json_t *
enc_member(const struct svc_group_member *m)
{
	return json_pack("{s:s, s:o, s:s, s:s}", "name", m->name, "role",
	    enc_role(m->role), "mode", node_mode_name(m->mode), "status",
	    svc_node_status_name(m->status));
}

/* {"group", "status", "members"}; new, or NULL (no memory). */
static json_t *
enc_group(const struct svc_group *g)
{
	json_t *o = json_object(), *members = json_array();
	bool ok = o != NULL && members != NULL;

	api_enc_put(o, "group", json_string(g->group), &ok);
	api_enc_put(o, "status", json_string(svc_node_status_name(g->status)),
	    &ok);
	for (size_t i = 0; ok && i < g->n; i++)
		if (json_array_append_new(members,
		    enc_member(&g->members[i])) == -1)
			ok = false;
	api_enc_put(o, "members", members, &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* {"items": [group...]} of the n groups of list; new, or NULL. */
static json_t *
enc_groups(const struct svc_group *list, size_t n)
{
	json_t *o = json_object(), *items = json_array();
	bool ok = o != NULL && items != NULL;

	for (size_t i = 0; ok && i < n; i++)
		if (json_array_append_new(items, enc_group(&list[i])) == -1)
			ok = false;
	api_enc_put(o, "items", items, &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* GET /v1/groups.  200 {"items"}; 401; 403; 500; 503 unavailable. */
int
api_h_group_list(struct api_req *r, struct api_resp *out, struct err *e)
{
	struct svc_group *list = NULL;
	size_t n = 0;
	int rc = -1;

	if (svc_group_list(r->svc, &list, &n, e) == -1)
		goto out;
	rc = api_resp_json(out, 200, enc_groups(list, n), e);
out:
	svc_group_list_free(list, n);
	return rc;
}

/*
 * {"group", "status", "rotations", "skipped"} of res, plus "error"
 * (code rotation_failed, msg) when the group stopped; new, or NULL.
 */
static json_t *
enc_group_result(const struct svc_group_result *res, const char *msg)
{
	json_t *o = json_object(), *recs = json_array(),
	    *skipped = json_array();
	bool ok = o != NULL && recs != NULL && skipped != NULL;

	api_enc_put(o, "group", json_string(res->group), &ok);
	api_enc_put(o, "status",
	    json_string(res->stopped ? "stopped" : "succeeded"), &ok);
	for (size_t i = 0; ok && i < res->n; i++)
		if (json_array_append_new(recs,
		    api_enc_rotation(&res->recs[i])) == -1)
			ok = false;
	for (size_t i = 0; ok && i < res->nskipped; i++)
		if (json_array_append_new(skipped, json_pack("{s:s, s:s}",
		    "name", res->skipped[i].node, "reason",
		    res->skipped[i].reason)) == -1)
			ok = false;
	api_enc_put(o, "rotations", recs, &ok);
	api_enc_put(o, "skipped", skipped, &ok);
	if (msg != NULL)
		api_enc_put(o, "error", json_pack("{s:s, s:s}", "code",
		    api_err_name(ERR_ROTATION_FAILED), "message", msg), &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * POST /v1/groups/{group}/rotate, body none or {}.  200 {"group",
 * "status": "succeeded", "rotations", "skipped"}; 502 the same with
 * status "stopped" and "error" rotation_failed; 400 invalid_json,
 * invalid_request; 401; 403; 404 (no member); 409 conflict (a member is
 * being rotated); 413; 415; 500; 503.
 */
int
api_h_group_rotate(struct api_req *r, struct api_resp *out, struct err *e)
{
	struct svc_group_result res;
	const char *group = r->params.v[0];
	int rc = -1;

	memset(&res, 0, sizeof(res));
	if (api_decode_empty_object(r->body, r->body_len, e) == -1) {
		api_refused(r, group, e);
		goto out;
	}
	if (group[0] == '\0' || strlen(group) > RCA_MAX_NODE_NAME) {
		err_set(e, ERR_NOT_FOUND, "group not found");
		goto out;
	}
	if (svc_group_rotate(r->svc, &r->actor, group, &res, e) == 0) {
		rc = api_resp_json(out, 200, enc_group_result(&res, NULL), e);
		goto out;
	}
	if (e->code != ERR_ROTATION_FAILED || !res.stopped)
		goto out;
	rc = api_resp_json(out, api_err_status(ERR_ROTATION_FAILED),
	    enc_group_result(&res, e->msg), e);
out:
	svc_group_result_clear(&res);
	return rc;
}
