/* Tests of api/metrics.c: counters and the Prometheus text format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api_ca.h"
#include "api_fleet.h"

static const struct api_route *table;
static size_t ntable;

static size_t
route_index(const char *method, const char *path)
{
	for (size_t i = 0; i < ntable; i++)
		if (strcmp(table[i].path, path) == 0 &&
		    strcmp(api_method_name(table[i].method), method) == 0)
			return i;
	fail_msg("no route %s %s", method, path);
	return 0;
}

/* Assert that text has line as one whole line. */
static void
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = strstr(text, line); p != NULL;
	    p = strstr(p + 1, line))
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
	fail_msg("missing line: %s\n--- in ---\n%s", line, text);
}

static size_t
count(const char *text, const char *s)
{
	size_t n = 0;

	for (const char *p = strstr(text, s); p != NULL; p = strstr(p + 1, s))
		n++;
	return n;
}

static void
test_service_stats(void **state)
{
	struct svc_profile_stats ps[2] = {
		{ "redis-node", 3, 2 },
		{ "redis-\"client\"", 5, 4 },
	};
	struct svc_stats st = { 0 };
	struct api_metrics m;
	struct err e;
	size_t len;
	char *text;

	(void)state;
	st.profiles = ps;
	st.nprofiles = 2;
	st.revoked_total = 7;
	st.crl_number = 12;
	st.crl_next_update = 1795827600;
	st.ca_not_after = 2111111111;
	assert_int_equal(api_metrics_init(&m, ntable, &e), 0);
	text = api_metrics_format(&m, table, &st, NULL, NULL, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	has_line(text, "# TYPE redisca_certificates_issued_total counter");
	has_line(text, "redisca_certificates_issued_total"
	    "{profile=\"redis-node\"} 3");
	has_line(text, "redisca_certificates_issued_total"
	    "{profile=\"redis-\\\"client\\\"\"} 5");
	has_line(text, "redisca_certificates_revoked_total 7");
	has_line(text, "# TYPE redisca_certificates_active gauge");
	has_line(text, "redisca_certificates_active{profile=\"redis-node\"} 2");
	has_line(text, "redisca_crl_number 12");
	has_line(text, "redisca_crl_next_update_timestamp_seconds 1795827600");
	has_line(text, "redisca_ca_expiry_timestamp_seconds 2111111111");
	has_line(text, "# TYPE redisca_http_requests_total counter");
	has_line(text, "# TYPE redisca_http_request_duration_seconds "
	    "histogram");
	/* No requests yet: no series. */
	assert_null(strstr(text, "redisca_http_requests_total{"));
	assert_int_equal(text[len - 1], '\n');
	free(text);
	api_metrics_free(&m);
	api_metrics_free(NULL);
}

static void
test_http_counters(void **state)
{
	struct api_metrics m;
	struct err e;
	size_t len, post, get, hz;
	char *text;

	(void)state;
	assert_int_equal(api_metrics_init(&m, ntable, &e), 0);
	post = route_index("POST", "/v1/certificates");
	get = route_index("GET", "/v1/certificates");
	hz = route_index("GET", "/healthz");
	api_metrics_observe(&m, post, 201, 800);	/* 0.0008 s */
	api_metrics_observe(&m, post, 201, 3000);	/* 0.003 s */
	api_metrics_observe(&m, get, 201, 20000);	/* same path */
	api_metrics_observe(&m, post, 401, 100);
	api_metrics_observe(&m, route_index("GET", "/v1/tokens"), 429,
	    100);					/* throttled */
	api_metrics_observe(&m, hz, 200, 5000000);	/* beyond 2.5 s */
	api_metrics_observe(&m, hz, 299, 1);		/* odd code */
	api_metrics_observe(&m, ntable, 404, 1);	/* unmatched */
	api_metrics_observe(&m, ntable + 5, 405, 1);	/* clamped */
	text = api_metrics_format(&m, table, NULL, NULL, NULL, &len);
	assert_non_null(text);
	/* Without service stats only HTTP metrics. */
	assert_null(strstr(text, "redisca_crl_number"));
	has_line(text, "redisca_http_requests_total{route=\"/v1/certificates\","
	    "code=\"201\"} 3");
	has_line(text, "redisca_http_requests_total{route=\"/v1/certificates\","
	    "code=\"401\"} 1");
	has_line(text, "redisca_http_requests_total{route=\"/v1/tokens\","
	    "code=\"429\"} 1");
	has_line(text, "redisca_http_requests_total{route=\"/healthz\","
	    "code=\"200\"} 1");
	has_line(text, "redisca_http_requests_total{route=\"/healthz\","
	    "code=\"other\"} 1");
	has_line(text, "redisca_http_requests_total{route=\"unmatched\","
	    "code=\"404\"} 1");
	has_line(text, "redisca_http_requests_total{route=\"unmatched\","
	    "code=\"405\"} 1");
	/* Cumulative buckets. */
	has_line(text, "redisca_http_request_duration_seconds_bucket"
	    "{route=\"/v1/certificates\",le=\"0.001\"} 2");
	has_line(text, "redisca_http_request_duration_seconds_bucket"
	    "{route=\"/v1/certificates\",le=\"0.005\"} 3");
	has_line(text, "redisca_http_request_duration_seconds_bucket"
	    "{route=\"/v1/certificates\",le=\"0.025\"} 4");
	has_line(text, "redisca_http_request_duration_seconds_bucket"
	    "{route=\"/v1/certificates\",le=\"+Inf\"} 4");
	has_line(text, "redisca_http_request_duration_seconds_sum"
	    "{route=\"/v1/certificates\"} 0.023900");
	has_line(text, "redisca_http_request_duration_seconds_count"
	    "{route=\"/v1/certificates\"} 4");
	has_line(text, "redisca_http_request_duration_seconds_bucket"
	    "{route=\"/healthz\",le=\"2.5\"} 1");
	has_line(text, "redisca_http_request_duration_seconds_bucket"
	    "{route=\"/healthz\",le=\"+Inf\"} 2");
	has_line(text, "redisca_http_request_duration_seconds_sum"
	    "{route=\"/healthz\"} 5.000001");
	/* One series per path, not per row. */
	assert_int_equal(count(text, "route=\"/v1/certificates\","
	    "code=\"201\""), 1);
	assert_int_equal(count(text, "_count{route=\"/v1/certificates\"}"),
	    1);
	free(text);
	api_metrics_free(&m);
}

/* The node series follow the HTTP ones when there are node stats. */
static void
test_node_series(void **state)
{
	struct svc_node_stat nodes[2] = {
	    { "n1", 1795827600, { 0 }, false },
	    { "down", 0, { 0 }, true } };
	struct svc_node_stats ns = { nodes, 2 };
	struct api_metrics m;
	struct err e;
	size_t len;
	char *text;

	(void)state;
	nodes[0].rotations[ROT_SUCCEEDED] = 2;
	nodes[1].rotations[ROT_FAILED] = 1;
	assert_int_equal(api_metrics_init(&m, ntable, &e), 0);
	text = api_metrics_format(&m, table, NULL, &ns, NULL, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	has_line(text, "# HELP redisca_node_cert_expiry_timestamp_seconds "
	    "notAfter of the node's current certificate.");
	has_line(text, "# TYPE redisca_node_cert_expiry_timestamp_seconds "
	    "gauge");
	has_line(text, "redisca_node_cert_expiry_timestamp_seconds"
	    "{node=\"n1\"} 1795827600");
	/* No certificate recorded: no expiry sample. */
	assert_int_equal(count(text, "seconds{node=\"down\"}"), 0);
	has_line(text, "# TYPE redisca_rotations_total counter");
	has_line(text, "redisca_rotations_total{node=\"n1\","
	    "status=\"succeeded\"} 2");
	has_line(text, "redisca_rotations_total{node=\"n1\","
	    "status=\"rolled_back\"} 0");
	has_line(text, "redisca_rotations_total{node=\"down\","
	    "status=\"failed\"} 1");
	assert_int_equal(count(text, "redisca_rotations_total{"), 6);
	/* Drift: every node, 0 or 1 (SPEC section 11). */
	has_line(text, "# TYPE redisca_node_drift gauge");
	has_line(text, "redisca_node_drift{node=\"n1\"} 0");
	has_line(text, "redisca_node_drift{node=\"down\"} 1");
	assert_int_equal(count(text, "redisca_node_drift{"), 2);
	/* After the HTTP series. */
	assert_true(strstr(text, "redisca_http_requests_total") <
	    strstr(text, "redisca_node_cert_expiry"));
	free(text);
	text = api_metrics_format(&m, table, NULL, NULL, NULL, &len);
	assert_int_equal(count(text, "redisca_node_"), 0);
	free(text);
	api_metrics_free(&m);
}

/* redisca_rotations_in_flight, with HELP and TYPE. */
static void
test_fleet_series(void **state)
{
	size_t len = 0;
	char *text;

	(void)state;
	text = api_metrics_format_fleet(3, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	has_line(text, "# HELP redisca_rotations_in_flight Node rotations "
	    "running now on this instance.");
	has_line(text, "# TYPE redisca_rotations_in_flight gauge");
	has_line(text, "redisca_rotations_in_flight 3");
	free(text);
}

/*
 * The instance's series (SPEC section 9): leadership and whether the
 * database answers (a read-only one does), each with HELP and TYPE;
 * left out without health.
 */
static void
test_instance_series(void **state)
{
	struct svc_health h = { SVC_DB_READ_ONLY, true, false, false };
	struct api_metrics m;
	struct err e;
	size_t len;
	char *text;

	(void)state;
	assert_int_equal(api_metrics_init(&m, ntable, &e), 0);
	text = api_metrics_format(&m, table, NULL, NULL, &h, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	has_line(text, "# TYPE redisca_scheduler_leader gauge");
	has_line(text, "redisca_scheduler_leader 0");
	has_line(text, "# TYPE redisca_db_up gauge");
	has_line(text, "redisca_db_up 1");
	assert_int_equal(count(text, "# HELP redisca_scheduler_leader "), 1);
	assert_int_equal(count(text, "# HELP redisca_db_up "), 1);
	free(text);
	h.db = SVC_DB_UNAVAILABLE;
	h.leader = true;
	text = api_metrics_format(&m, table, NULL, NULL, &h, &len);
	has_line(text, "redisca_scheduler_leader 1");
	has_line(text, "redisca_db_up 0");
	free(text);
	h.db = SVC_DB_OK;
	text = api_metrics_format(&m, table, NULL, NULL, &h, &len);
	has_line(text, "redisca_db_up 1");
	free(text);
	text = api_metrics_format(&m, table, NULL, NULL, NULL, &len);
	assert_int_equal(count(text, "redisca_db_up"), 0);
	assert_int_equal(count(text, "redisca_scheduler_leader"), 0);
	free(text);
	api_metrics_free(&m);
}

/* The CA series: one of each per CA, the stale count, and none. */
static void
test_ca_series(void **state)
{
	struct svc_ca_metric cas[2];
	struct api_ca_metrics cm = { cas, 2, 3 };
	size_t len;
	char *text;

	(void)state;
	memset(cas, 0, sizeof(cas));
	strcpy(cas[0].ski, "aa01");
	cas[0].state = "current";
	cas[0].key_type = KEY_EC_P256;
	cas[0].not_after = 2000000000;
	strcpy(cas[1].ski, "bb02");
	cas[1].state = "next";
	cas[1].key_type = KEY_RSA_3072;
	cas[1].not_after = 2100000000;
	text = api_metrics_format_ca(&cm, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	has_line(text, "# TYPE redisca_ca_expiry_timestamp_seconds gauge");
	has_line(text, "redisca_ca_expiry_timestamp_seconds{ca=\"aa01\","
	    "state=\"current\"} 2000000000");
	has_line(text, "redisca_ca_expiry_timestamp_seconds{ca=\"bb02\","
	    "state=\"next\"} 2100000000");
	has_line(text, "redisca_ca_info{ca=\"aa01\",state=\"current\","
	    "key_type=\"ec-p256\"} 1");
	has_line(text, "redisca_ca_info{ca=\"bb02\",state=\"next\","
	    "key_type=\"rsa-3072\"} 1");
	has_line(text, "# TYPE redisca_ca_bundle_nodes_stale gauge");
	has_line(text, "redisca_ca_bundle_nodes_stale 3");
	assert_int_equal(count(text, "redisca_ca_info{"), 2);
	free(text);
	/* No CA figures: the headers and a zero stale count only. */
	cm.n = 0;
	cm.nodes_stale = 0;
	text = api_metrics_format_ca(&cm, &len);
	assert_non_null(text);
	assert_int_equal(count(text, "redisca_ca_info{"), 0);
	has_line(text, "redisca_ca_bundle_nodes_stale 0");
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_service_stats),
		cmocka_unit_test(test_http_counters),
		cmocka_unit_test(test_node_series),
		cmocka_unit_test(test_instance_series),
		cmocka_unit_test(test_fleet_series),
		cmocka_unit_test(test_ca_series),
	};

	table = api_route_table(&ntable);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
