/*
 * POST /v1/nodes/report (SPEC section 11): a pull-mode node, renewed by
 * `redis-ca enroll --daemon --redis` on its own host, reports what it
 * did with the certificate Redis serves (authenticated before the body
 * is read, in auth.c, like /v1/renew).  Decode (decode_fleet.c), one
 * svc_node_report call, encode the node.
 */
#include <string.h>

#include "api_fleet.h"

/*
 * POST /v1/nodes/report {report}.  200 node; 400 invalid_json,
 * invalid_request (names the field, also a serial this CA did not
 * issue for the node); 401 unauthorized (from auth.c: no, unknown,
 * expired or revoked client certificate); 403 forbidden (not a node
 * certificate, or a name other than its CN); 409 conflict (a push node
 * has the name); 413; 415; 500; 503.
 */
int
api_h_node_report(struct api_req *r, struct api_resp *out, struct err *e)
{
	struct svc_node_report_req req;
	struct svc_node_view v;
	int rc = -1;

	memset(&v, 0, sizeof(v));
	if (api_decode_report(r->body, r->body_len, &req, e) == -1) {
		api_refused(r, r->actor.cert.serial, e);
		goto out;
	}
	if (svc_node_report(r->svc, &r->actor, &req, &v, e) == -1)
		goto out;
	rc = api_resp_json(out, 200, api_enc_node(&v), e);
out:
	svc_node_view_clear(&v);
	return rc;
}
