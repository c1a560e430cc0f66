/* Operations: liveness, readiness, Prometheus metrics, the audit log. */
#include <stdio.h>
#include <stdlib.h>

#include "api_priv.h"
#include "log.h"

/* GET /healthz.  200 {"status": "ok"}; 500 (out of memory). */
int
api_h_healthz(struct api_req *r, struct api_resp *out, struct err *e)
{
	return api_resp_json(out, 200, json_pack("{s:s}", "status", "ok"), e);
}

/* GET /readyz.  200 when the database is writable and the CA key
 * loaded, else 503; 500 (out of memory). */
int
api_h_readyz(struct api_req *r, struct api_resp *out, struct err *e)
{
	bool ready = svc_ready(r->svc);

	return api_resp_json(out, ready ? 200 : 503, json_pack("{s:s}",
	    "status", ready ? "ok" : "unavailable"), e);
}

/* GET /metrics.  200 Prometheus text 0.0.4; 500 (out of memory). */
int
api_h_metrics(struct api_req *r, struct api_resp *out, struct err *e)
{
	struct svc_stats st = { 0 };
	struct err se;
	size_t len;
	char *text;
	bool have;

	/* Without the service's numbers the HTTP ones are still worth it. */
	have = svc_stats(r->svc, &st, &se) == 0;
	if (!have)
		log_warn("metrics: service statistics unavailable: %s",
		    se.msg);
	text = api_metrics_format(r->metrics, r->table,
	    have ? &st : NULL, &len);
	svc_stats_clear(&st);
	if (text == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	out->status = 200;
	out->ctype = "text/plain; version=0.0.4; charset=utf-8";
	out->body = text;
	out->len = len;
	return 0;
}

/* GET /v1/audit?after&limit.  200 {"items", "next"}; 400
 * invalid_request; 401; 403; 500. */
int
api_h_audit(struct api_req *r, struct api_resp *out, struct err *e)
{
	struct audit_rec *list = NULL;
	json_t *o = NULL, *items;
	int64_t after, next = 0;
	size_t limit, n = 0;
	char cursor[24];
	int rc = -1;

	if (api_decode_limit(api_query(r, "limit"), &limit, e) == -1 ||
	    api_decode_cursor(api_query(r, "after"), &after, e) == -1)
		goto out;
	if (svc_audit_list(r->svc, after, limit, &list, &n, &next, e) == -1)
		goto out;
	if ((o = json_object()) == NULL || (items = json_array()) == NULL ||
	    json_object_set_new(o, "items", items) == -1)
		goto nomem;
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(items, api_enc_audit(&list[i])) == -1)
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
	svc_audit_list_free(list, n);
	return rc;
}
