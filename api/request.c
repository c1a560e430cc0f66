/*
 * What a handler reads of its request beyond the decoded body: query
 * values and headers (from libmicrohttpd), and the audit of a refusal
 * under the route's action.
 */
#include <microhttpd.h>

#include "api_priv.h"

const char *
api_query(struct api_req *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
	    key);
}

const char *
api_header(struct api_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

void
api_refused(struct api_req *r, const char *object, const struct err *why)
{
	if (r->route == NULL || r->route->action == NULL)
		return;
	if (object == NULL)
		object = r->params.n > 0 ? r->params.v[0] : "";
	svc_audit_denied(r->svc, &r->actor, r->route->action, object, why);
}
