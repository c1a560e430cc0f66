/* Operations: liveness, readiness, Prometheus metrics, the audit log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_ca.h"
#include "api_fleet.h"
#include "log.h"

/* GET /healthz.  200 {"status": "ok"}; 500 (out of memory). */
int
api_h_healthz(struct api_req *r, struct api_resp *out, struct err *e)
{
	return api_resp_json(out, 200, json_pack("{s:s}", "status", "ok"), e);
}

/*
 * GET /readyz.  200 {"status": "ok", "database": "ok", "ca_key",
 * "scheduler_leader"} when the database is writable and the CA key
 * loaded; else 503 with status "read_only" (a standby: send writes
 * elsewhere) or "unavailable"; 500 (out of memory).
 */
int
api_h_readyz(struct api_req *r, struct api_resp *out, struct err *e)
{
	struct svc_health h;
	const char *status;

	svc_health(r->svc, &h);
	if (h.ready)
		status = "ok";
	else if (h.db == SVC_DB_READ_ONLY)
		status = "read_only";
	else
		status = "unavailable";
	return api_resp_json(out, h.ready ? 200 : 503, json_pack(
	    "{s:s,s:s,s:b,s:b}", "status", status, "database",
	    svc_db_state_name(h.db), "ca_key", h.ca_key, "scheduler_leader",
	    h.leader), e);
}

/*
 * more (more_len bytes, new; freed) appended to text (len bytes; a new
 * string, freed on failure): NULL when out of memory.
 */
static char *
append_text(char *text, size_t *len, char *more, size_t more_len)
{
	char *both;

	if (more == NULL || (both = realloc(text, *len + more_len + 1)) ==
	    NULL) {
		free(more);
		free(text);
		return NULL;
	}
	memcpy(both + *len, more, more_len + 1);
	*len += more_len;
	free(more);
	return both;
}

/*
 * The CA series appended to text (len bytes; a new string, freed on
 * failure): NULL when out of memory.  Without the service's figures
 * they are left out.
 */
static char *
append_ca_metrics(struct svc *s, char *text, size_t *len)
{
	struct api_ca_metrics cm = { NULL, 0, 0 };
	struct svc_ca_metric *cas = NULL;
	char *ca_text;
	size_t ca_len = 0;
	struct err se;

	err_clear(&se);
	if (svc_ca_metrics(s, &cas, &cm.n, &cm.nodes_stale, &se) == -1) {
		log_warn("metrics: CA statistics unavailable: %s", se.msg);
		return text;
	}
	cm.cas = cas;
	ca_text = api_metrics_format_ca(&cm, &ca_len);
	free(cas);
	return append_text(text, len, ca_text, ca_len);
}

/*
 * GET /metrics.  200 Prometheus text 0.0.4: the service's series, the
 * HTTP ones, redisca_node_cert_expiry_timestamp_seconds{node} and
 * redisca_rotations_total{node,status} and redisca_node_drift{node}
 * (every node, pull ones too), the instance's redisca_scheduler_leader
 * and redisca_db_up, then the CAs'
 * redisca_ca_expiry_timestamp_seconds{ca,state}, redisca_ca_info and
 * redisca_ca_bundle_nodes_stale, and redisca_rotations_in_flight; 500
 * (out of memory).
 */
int
api_h_metrics(struct api_req *r, struct api_resp *out, struct err *e)
{
	struct svc_node_stats ns = { 0 };
	struct svc_stats st = { 0 };
	struct svc_health h;
	struct err se;
	size_t len = 0;
	char *text;
	bool have, have_nodes;

	/* Without the service's numbers the HTTP ones are still worth it. */
	svc_health(r->svc, &h);
	have = svc_stats(r->svc, &st, &se) == 0;
	if (!have)
		log_warn("metrics: service statistics unavailable: %s",
		    se.msg);
	err_clear(&se);
	have_nodes = svc_node_stats(r->svc, &ns, &se) == 0;
	if (!have_nodes)
		log_warn("metrics: node statistics unavailable: %s", se.msg);
	text = api_metrics_format(r->metrics, r->table, have ? &st : NULL,
	    have_nodes ? &ns : NULL, &h, &len);
	svc_stats_clear(&st);
	svc_node_stats_clear(&ns);
	if (text != NULL)
		text = append_ca_metrics(r->svc, text, &len);
	if (text != NULL) {
		size_t flen = 0;
		char *fleet = api_metrics_format_fleet(
		    svc_rotations_in_flight(r->svc), &flen);

		text = append_text(text, &len, fleet, flen);
	}
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

/* A page element: an audit entry. */
static json_t *
enc_audit_item(const void *item, const void *arg)
{
	return api_enc_audit(item);
}

/* GET /v1/audit?after&limit.  200 {"items", "next"}; 400
 * invalid_request; 401; 403; 500. */
int
api_h_audit(struct api_req *r, struct api_resp *out, struct err *e)
{
	struct audit_rec *list = NULL;
	int64_t after, next = 0;
	size_t limit, n = 0;
	char cursor[API_CURSOR];
	int rc = -1;

	if (api_decode_limit(api_query(r, "limit"), &limit, e) == -1 ||
	    api_decode_cursor(api_query(r, "after"), &after, e) == -1 ||
	    svc_audit_list(r->svc, after, limit, &list, &n, &next, e) == -1)
		goto out;
	rc = api_resp_json(out, 200, api_enc_page(list, n, sizeof(*list),
	    enc_audit_item, NULL, api_enc_cursor(next, cursor)), e);
out:
	svc_audit_list_free(list, n);
	return rc;
}
