/*
 * HTTP metrics (per route pattern: requests by status code and a
 * duration histogram) kept in relaxed atomics, and the Prometheus text
 * format (0.0.4) of those and of the service's and nodes' statistics.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_ca.h"
#include "api_fleet.h"

static const unsigned codes[API_NCODES - 1] = {
	200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 413, 415, 422,
	429, 500, 502, 503,
};

/* Upper bounds of the histogram, microseconds and as printed. */
static const uint64_t bounds_us[API_NBUCKETS] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000,
};
static const char *const bounds_txt[API_NBUCKETS] = {
	"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
	"0.5", "1", "2.5",
};

int
api_metrics_init(struct api_metrics *m, size_t nroutes, struct err *e)
{
	memset(m, 0, sizeof(*m));
	m->nroutes = nroutes;
	m->count = calloc(nroutes + 1, sizeof(*m->count));
	m->bucket = calloc(nroutes + 1, sizeof(*m->bucket));
	m->sum_us = calloc(nroutes + 1, sizeof(*m->sum_us));
	if (m->count == NULL || m->bucket == NULL || m->sum_us == NULL) {
		api_metrics_free(m);
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	return 0;
}

void
api_metrics_free(struct api_metrics *m)
{
	if (m == NULL)
		return;
	free(m->count);
	free(m->bucket);
	free(m->sum_us);
	memset(m, 0, sizeof(*m));
}

static size_t
code_index(unsigned status)
{
	for (size_t i = 0; i < API_NCODES - 1; i++)
		if (codes[i] == status)
			return i;
	return API_NCODES - 1;
}

void
api_metrics_observe(struct api_metrics *m, size_t ri, unsigned status,
    uint64_t us)
{
	size_t b;

	if (ri > m->nroutes)
		ri = m->nroutes;
	for (b = 0; b < API_NBUCKETS && us > bounds_us[b]; b++)
		;
	atomic_fetch_add_explicit(&m->count[ri][code_index(status)], 1,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&m->bucket[ri][b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->sum_us[ri], us, memory_order_relaxed);
}

/* A growing output buffer; on failure buf is freed and stays NULL. */
struct out {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	bool	 failed;
};

static void __attribute__((format(printf, 2, 3)))
emit(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->failed = true;
			return;
		}
		if ((size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		size_t ncap = o->cap * 2 + (size_t)n + 1;
		char *nb = realloc(o->buf, ncap);
		if (nb == NULL) {
			o->failed = true;
			return;
		}
		o->buf = nb;
		o->cap = ncap;
	}
}

/* A label value with \, " and newline escaped (bounded). */
static void
label(const char *in, char out[160])
{
	size_t j = 0;

	for (; *in != '\0' && j + 3 < 160; in++) {
		if (*in == '\\' || *in == '"') {
			out[j++] = '\\';
			out[j++] = *in;
		} else if (*in == '\n') {
			out[j++] = '\\';
			out[j++] = 'n';
		} else {
			out[j++] = *in;
		}
	}
	out[j] = '\0';
}

static void
header(struct out *o, const char *name, const char *type, const char *help)
{
	emit(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * One gauge or counter per profile: the issued or (active) the active
 * count.
 */
static void
per_profile(struct out *o, const struct svc_stats *st, const char *name,
    const char *type, const char *help, bool active)
{
	const struct svc_profile_stats *p;
	char lb[160];

	header(o, name, type, help);
	for (size_t i = 0; i < st->nprofiles; i++) {
		p = &st->profiles[i];
		label(p->profile, lb);
		emit(o, "%s{profile=\"%s\"} %lld\n", name, lb,
		    (long long)(active ? p->active : p->issued));
	}
}

static void
format_stats(struct out *o, const struct svc_stats *st)
{
	per_profile(o, st, "redisca_certificates_issued_total", "counter",
	    "Certificates issued, by profile.", false);
	header(o, "redisca_certificates_revoked_total", "counter",
	    "Certificates revoked.");
	emit(o, "redisca_certificates_revoked_total %lld\n",
	    (long long)st->revoked_total);
	per_profile(o, st, "redisca_certificates_active", "gauge",
	    "Certificates neither expired nor revoked, by profile.", true);
	header(o, "redisca_crl_number", "gauge", "Number of the current CRL.");
	emit(o, "redisca_crl_number %llu\n",
	    (unsigned long long)st->crl_number);
	header(o, "redisca_crl_next_update_timestamp_seconds", "gauge",
	    "nextUpdate of the current CRL.");
	emit(o, "redisca_crl_next_update_timestamp_seconds %lld\n",
	    (long long)st->crl_next_update);
	header(o, "redisca_ca_expiry_timestamp_seconds", "gauge",
	    "notAfter of the CA certificate.");
	emit(o, "redisca_ca_expiry_timestamp_seconds %lld\n",
	    (long long)st->ca_not_after);
}

/*
 * The node series: each node's certificate expiry and its finished
 * rotations by outcome (node names are printed as registered).
 */
static void
format_nodes(struct out *o, const struct svc_node_stats *ns)
{
	static const enum rotation_status shown[] = { ROT_SUCCEEDED,
	    ROT_ROLLED_BACK, ROT_FAILED };
	size_t i, k;

	header(o, "redisca_node_cert_expiry_timestamp_seconds", "gauge",
	    "notAfter of the node's current certificate.");
	for (i = 0; i < ns->nnodes; i++)
		if (ns->nodes[i].cert_not_after != 0)
			emit(o, "redisca_node_cert_expiry_timestamp_seconds"
			    "{node=\"%s\"} %" PRId64 "\n", ns->nodes[i].node,
			    ns->nodes[i].cert_not_after);
	header(o, "redisca_rotations_total", "counter",
	    "Finished node rotations by outcome.");
	for (i = 0; i < ns->nnodes; i++)
		for (k = 0; k < sizeof(shown) / sizeof(shown[0]); k++)
			emit(o, "redisca_rotations_total{node=\"%s\","
			    "status=\"%s\"} %" PRId64 "\n", ns->nodes[i].node,
			    rotation_status_name(shown[k]),
			    ns->nodes[i].rotations[shown[k]]);
	header(o, "redisca_node_drift", "gauge",
	    "1 while the node serves another certificate than the recorded "
	    "one.");
	for (i = 0; i < ns->nnodes; i++)
		emit(o, "redisca_node_drift{node=\"%s\"} %d\n",
		    ns->nodes[i].node, ns->nodes[i].drift ? 1 : 0);
}

/* Route i's path is the first of its kind in the table (or unmatched). */
static bool
first_of_path(const struct api_route *t, size_t n, size_t i)
{
	if (i == n)
		return true;
	for (size_t j = 0; j < i; j++)
		if (strcmp(t[j].path, t[i].path) == 0)
			return false;
	return true;
}

static bool
same_path(const struct api_route *t, size_t n, size_t i, size_t j)
{
	if (i == n || j == n)
		return i == j;
	return strcmp(t[i].path, t[j].path) == 0;
}

/*
 * Rows that share a path (GET and POST /v1/certificates) are one route
 * label: the series are summed per path.
 */
static void
format_http(struct out *o, const struct api_metrics *m,
    const struct api_route *t)
{
	size_t n = m->nroutes, i, j, c, b;
	char code[16];

	header(o, "redisca_http_requests_total", "counter",
	    "HTTP requests by route pattern and status code.");
	for (i = 0; i <= n; i++) {
		if (!first_of_path(t, n, i))
			continue;
		for (c = 0; c < API_NCODES; c++) {
			uint64_t v = 0;

			for (j = i; j <= n; j++)
				if (same_path(t, n, i, j))
					v += atomic_load_explicit(
					    &m->count[j][c],
					    memory_order_relaxed);
			if (v == 0)
				continue;
			if (c < API_NCODES - 1)
				snprintf(code, sizeof(code), "%u", codes[c]);
			else
				snprintf(code, sizeof(code), "other");
			emit(o, "redisca_http_requests_total{route=\"%s\","
			    "code=\"%s\"} %llu\n", i == n ? "unmatched" :
			    t[i].path, code, (unsigned long long)v);
		}
	}
	header(o, "redisca_http_request_duration_seconds", "histogram",
	    "Time from the request headers to the response, by route.");
	for (i = 0; i <= n; i++) {
		uint64_t cum = 0, sum = 0, bk[API_NBUCKETS + 1] = { 0 };
		const char *r = i == n ? "unmatched" : t[i].path;

		if (!first_of_path(t, n, i))
			continue;
		for (j = i; j <= n; j++) {
			if (!same_path(t, n, i, j))
				continue;
			for (b = 0; b <= API_NBUCKETS; b++)
				bk[b] += atomic_load_explicit(&m->bucket[j][b],
				    memory_order_relaxed);
			sum += atomic_load_explicit(&m->sum_us[j],
			    memory_order_relaxed);
		}
		for (b = 0; b <= API_NBUCKETS; b++)
			cum += bk[b];
		if (cum == 0)
			continue;
		cum = 0;
		for (b = 0; b < API_NBUCKETS; b++) {
			cum += bk[b];
			emit(o, "redisca_http_request_duration_seconds_bucket"
			    "{route=\"%s\",le=\"%s\"} %llu\n", r, bounds_txt[b],
			    (unsigned long long)cum);
		}
		cum += bk[API_NBUCKETS];
		emit(o, "redisca_http_request_duration_seconds_bucket"
		    "{route=\"%s\",le=\"+Inf\"} %llu\n", r,
		    (unsigned long long)cum);
		emit(o, "redisca_http_request_duration_seconds_sum"
		    "{route=\"%s\"} %llu.%06llu\n", r,
		    (unsigned long long)(sum / 1000000),
		    (unsigned long long)(sum % 1000000));
		emit(o, "redisca_http_request_duration_seconds_count"
		    "{route=\"%s\"} %llu\n", r, (unsigned long long)cum);
	}
}

/* The instance's own series (SPEC section 9). */
static void
format_health(struct out *o, const struct svc_health *h)
{
	header(o, "redisca_scheduler_leader", "gauge",
	    "1 when this instance runs the scheduled work (rotations, CRL "
	    "refresh, audit retention).");
	emit(o, "redisca_scheduler_leader %d\n", h->leader ? 1 : 0);
	header(o, "redisca_db_up", "gauge",
	    "1 when the database answers (writable or read-only).");
	emit(o, "redisca_db_up %d\n", h->db != SVC_DB_UNAVAILABLE ? 1 : 0);
}

char *
api_metrics_format(const struct api_metrics *m, const struct api_route *t,
    const struct svc_stats *st, const struct svc_node_stats *ns,
    const struct svc_health *h, size_t *len)
{
	struct out o = { 0 };

	o.cap = 4096;
	if ((o.buf = malloc(o.cap)) == NULL)
		return NULL;
	o.buf[0] = '\0';
	if (st != NULL)
		format_stats(&o, st);
	format_http(&o, m, t);
	if (ns != NULL)
		format_nodes(&o, ns);
	if (h != NULL)
		format_health(&o, h);
	if (o.failed) {
		free(o.buf);
		return NULL;
	}
	*len = o.len;
	return o.buf;
}

char *
api_metrics_format_fleet(int64_t in_flight, size_t *len)
{
	struct out o = { 0 };

	o.cap = 256;
	if ((o.buf = malloc(o.cap)) == NULL)
		return NULL;
	o.buf[0] = '\0';
	header(&o, "redisca_rotations_in_flight", "gauge",
	    "Node rotations running now on this instance.");
	emit(&o, "redisca_rotations_in_flight %" PRId64 "\n", in_flight);
	if (o.failed) {
		free(o.buf);
		return NULL;
	}
	*len = o.len;
	return o.buf;
}

char *
api_metrics_format_ca(const struct api_ca_metrics *cm, size_t *len)
{
	struct out o = { 0 };
	size_t i;

	o.cap = 1024;
	if ((o.buf = malloc(o.cap)) == NULL)
		return NULL;
	o.buf[0] = '\0';
	header(&o, "redisca_ca_expiry_timestamp_seconds", "gauge",
	    "notAfter of each CA in the trust bundle.");
	for (i = 0; i < cm->n; i++)
		emit(&o, "redisca_ca_expiry_timestamp_seconds{ca=\"%s\","
		    "state=\"%s\"} %" PRId64 "\n", cm->cas[i].ski,
		    cm->cas[i].state, cm->cas[i].not_after);
	header(&o, "redisca_ca_info", "gauge",
	    "Each CA in the trust bundle: its state and key type.");
	for (i = 0; i < cm->n; i++)
		emit(&o, "redisca_ca_info{ca=\"%s\",state=\"%s\","
		    "key_type=\"%s\"} 1\n", cm->cas[i].ski, cm->cas[i].state,
		    key_type_name(cm->cas[i].key_type));
	header(&o, "redisca_ca_bundle_nodes_stale", "gauge",
	    "Registered nodes whose ca_file is not the current bundle.");
	emit(&o, "redisca_ca_bundle_nodes_stale %zu\n", cm->nodes_stale);
	if (o.failed) {
		free(o.buf);
		return NULL;
	}
	*len = o.len;
	return o.buf;
}
