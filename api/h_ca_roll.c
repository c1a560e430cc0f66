/*
 * The CA rollover phases (SPEC section 10), admin only: POST
 * /v1/ca/prepare, /v1/ca/activate and /v1/ca/retire.  Decode, one
 * svc_ca_* call, answer {"ca": <GET /v1/ca body>, "nodes": [...]} (and
 * the CSR of a pending CA).  A retire refused because the old CA still
 * has certificates in use answers their serials in the error body.
 */
#include <stdlib.h>
#include <string.h>

#include "api_ca.h"

/* The nodes a phase pushed to (or marked for rotation). */
static json_t *
enc_nodes(const struct svc_ca_result *res)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < res->nnodes; i++) {
		const struct svc_ca_node_result *n = &res->nodes[i];

		if (json_array_append_new(a, json_pack("{s:s,s:b,s:s}",
		    "name", n->name != NULL ? n->name : "", "ok", n->ok,
		    "detail", n->detail)) == -1) {
			json_decref(a);
			a = NULL;
		}
	}
	return a;
}

/*
 * The 200 answer of a phase: the CAs as they are now, the nodes and
 * (prepare with a CSR) "csr".
 */
static int
answer(struct api_req *r, const struct svc_ca_result *res,
    struct api_resp *out, struct err *e)
{
	struct svc_ca_view v;
	json_t *body = NULL;
	int rc = -1;

	memset(&v, 0, sizeof(v));
	if (svc_ca_view(r->svc, &v, e) == -1)
		goto out;
	body = json_pack("{s:o,s:o}", "ca", api_enc_ca_body(&v), "nodes",
	    enc_nodes(res));
	if (body != NULL && res->csr_pem != NULL &&
	    json_object_set_new(body, "csr", json_string(res->csr_pem)) ==
	    -1) {
		json_decref(body);
		body = NULL;
	}
	rc = api_resp_json(out, 200, body, e);
out:
	svc_ca_view_clear(&v);
	return rc;
}

/*
 * 409 ca_unexpired_certificates with, inside "error", the first
 * serials still in use ("certificates", at most SVC_CA_SERIALS_MAX) and
 * how many there are ("count").
 */
static int
answer_in_use(const struct err *why, const struct svc_ca_result *res,
    struct api_resp *out, struct err *e)
{
	json_t *body = NULL, *list = json_array();
	char *text;
	size_t len;

	for (size_t i = 0; list != NULL && i < res->nserials; i++)
		if (json_array_append_new(list,
		    json_string(res->serials[i])) == -1) {
			json_decref(list);
			list = NULL;
		}
	if ((text = api_err_body(why, &len)) != NULL) {
		body = json_loadb(text, len, 0, NULL);
		free(text);
	}
	if (body == NULL || list == NULL ||
	    json_object_set_new(json_object_get(body, "error"),
	    "certificates", list) == -1 ||
	    json_object_set_new(json_object_get(body, "error"), "count",
	    json_integer((json_int_t)res->count)) == -1) {
		if (body == NULL)
			json_decref(list);
		json_decref(body);
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	return api_resp_json(out, api_err_status(why->code), body, e);
}

/*
 * POST /v1/ca/prepare {"key_type"?, "days"?, "csr"?} or
 * {"certificate", "chain"?}.  200 {"ca", "nodes", "csr"?}; 400
 * invalid_json, invalid_request; 401; 403; 409 ca_next_exists,
 * ca_retire_pending; 413; 415; 422 invalid_chain, key_rejected; 503
 * read_only; 500.
 */
int
api_h_ca_prepare(struct api_req *r, struct api_resp *out, struct err *e)
{
	struct api_ca_prepare_body b;
	struct svc_ca_result res;
	int rc = -1;

	memset(&res, 0, sizeof(res));
	memset(&b, 0, sizeof(b));
	if (api_decode_ca_prepare(r->body, r->body_len, &b, e) == -1) {
		api_refused(r, "", e);
		goto out;
	}
	if (svc_ca_prepare(r->svc, &r->actor, &b.req, &res, e) == -1)
		goto out;
	rc = answer(r, &res, out, e);
out:
	svc_ca_result_clear(&res);
	api_ca_prepare_body_free(&b);
	return rc;
}

/* A phase's svc_ca_* call that takes only "force". */
typedef int	ca_force_phase(struct svc *, const struct svc_actor *, bool,
		    struct svc_ca_result *, struct err *);

/*
 * POST /v1/ca/activate and /v1/ca/retire: decode {"force"?}, run phase,
 * answer.  A phase refused with ERR_CA_IN_USE (only retire is) answers
 * the serials still in use.
 */
static int
force_phase(struct api_req *r, ca_force_phase *phase, struct api_resp *out,
    struct err *e)
{
	struct svc_ca_result res;
	struct err why;
	bool force;
	int rc = -1;

	memset(&res, 0, sizeof(res));
	if (api_decode_ca_force(r->body, r->body_len, &force, e) == -1) {
		api_refused(r, "", e);
		goto out;
	}
	err_clear(&why);
	if (phase(r->svc, &r->actor, force, &res, &why) == -1) {
		if (why.code == ERR_CA_IN_USE)
			rc = answer_in_use(&why, &res, out, e);
		else
			*e = why;
		goto out;
	}
	rc = answer(r, &res, out, e);
out:
	svc_ca_result_clear(&res);
	return rc;
}

/*
 * POST /v1/ca/activate {"force"?}.  200 {"ca", "nodes"}; 400
 * invalid_json, invalid_request; 401; 403; 409 ca_not_prepared,
 * conflict (nodes without the current bundle, unless force); 413; 415;
 * 503 read_only; 500.
 */
int
api_h_ca_activate(struct api_req *r, struct api_resp *out, struct err *e)
{
	return force_phase(r, svc_ca_activate, out, e);
}

/*
 * POST /v1/ca/retire {"force"?}.  200 {"ca", "nodes"}; 400
 * invalid_json, invalid_request; 401; 403; 409 ca_nothing_to_retire,
 * ca_unexpired_certificates (with "certificates" and "count"); 413;
 * 415; 503 read_only; 500.
 */
int
api_h_ca_retire(struct api_req *r, struct api_resp *out, struct err *e)
{
	return force_phase(r, svc_ca_retire, out, e);
}
