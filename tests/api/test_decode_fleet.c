/*
 * Tests of api/decode_fleet.c and the fleet additions of decode_node.c
 * (SPEC section 11): a pull node's report body (every field, each
 * refusal naming its field), host:port, the empty body of a group
 * rotation, ?status= of the node list, and "group" in POST /v1/nodes
 * (with the name "report" reserved by the literal route).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api_fleet.h"
#include "rca_limits.h"

#define S(x) (x), strlen(x)

/* A rotation report with every field. */
#define FULL "{\"name\":\"n1\",\"redis\":\"10.0.0.1:6380\"," \
	"\"group\":\"g1\",\"role\":\"replica\",\"status\":\"succeeded\"," \
	"\"old_serial\":\"0A1B\",\"new_serial\":\"2c3d\"," \
	"\"served_serial\":\"2C3D\"," \
	"\"started_at\":\"2026-12-07T10:00:00Z\"," \
	"\"finished_at\":\"2026-12-07T10:00:02Z\"," \
	"\"steps\":[{\"step\":\"connect\",\"ok\":true,\"detail\":\"tls\"}," \
	"{\"step\":\"verify_serial\",\"ok\":true,\"detail\":\"2c3d\"}]}"

static void
expect_err(const struct err *e, enum err_code code, const char *part)
{
	assert_int_equal(e->code, code);
	if (strstr(e->msg, part) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", e->msg, part);
}

/* Decoding s fails with code and a message naming part; out zeroed. */
static void
refused(const char *s, enum err_code code, const char *part)
{
	struct svc_node_report_req r;
	struct err e;

	memset(&r, 0x5a, sizeof(r));
	err_clear(&e);
	if (api_decode_report(S(s), &r, &e) != -1)
		fail_msg("accepted: %s", s);
	expect_err(&e, code, part);
	assert_int_equal(r.port, 0);
	assert_string_equal(r.host, "");
}

static void
test_report_full(void **state)
{
	struct svc_node_report_req r;
	struct err e;

	(void)state;
	assert_int_equal(api_decode_report(S(FULL), &r, &e), 0);
	assert_string_equal(r.name, "n1");
	assert_string_equal(r.host, "10.0.0.1");
	assert_int_equal(r.port, 6380);
	assert_string_equal(r.group, "g1");
	assert_string_equal(r.role, "replica");
	assert_int_equal(r.status, SVC_REPORT_SUCCEEDED);
	/* Serials lowercased, leading zeros dropped. */
	assert_string_equal(r.old_serial, "a1b");
	assert_string_equal(r.new_serial, "2c3d");
	assert_string_equal(r.served_serial, "2c3d");
	assert_int_equal(r.finished_at - r.started_at, 2);
	assert_int_equal(r.nsteps, 2);
	assert_string_equal(r.steps[1].step, "verify_serial");
	assert_true(r.steps[1].ok);
	assert_string_equal(r.steps[1].detail, "2c3d");
}

static void
test_report_check_and_minimal(void **state)
{
	struct svc_node_report_req r;
	struct err e;

	(void)state;
	assert_int_equal(api_decode_report(S("{\"redis\":\"[::1]:7000\","
	    "\"status\":\"check\",\"served_serial\":\"ff\"}"), &r, &e), 0);
	assert_int_equal(r.status, SVC_REPORT_CHECK);
	assert_string_equal(r.host, "::1");
	assert_int_equal(r.port, 7000);
	assert_string_equal(r.name, "");
	assert_string_equal(r.group, "");
	assert_string_equal(r.role, "");
	assert_int_equal(r.nsteps, 0);
	assert_int_equal(r.started_at, 0);
	/* null is absent. */
	assert_int_equal(api_decode_report(S("{\"redis\":\"h:1\","
	    "\"status\":\"check\",\"served_serial\":\"1\",\"name\":null,"
	    "\"steps\":null,\"new_serial\":null}"), &r, &e), 0);
	/* A failed rotation may have no new serial. */
	assert_int_equal(api_decode_report(S("{\"redis\":\"h:1\","
	    "\"status\":\"failed\",\"served_serial\":\"1\","
	    "\"started_at\":\"2026-12-07T10:00:00Z\","
	    "\"finished_at\":\"2026-12-07T10:00:00Z\"}"), &r, &e), 0);
	assert_int_equal(r.status, SVC_REPORT_FAILED);
	/* Redis could not be asked: no served serial (absent or null). */
	assert_int_equal(api_decode_report(S("{\"redis\":\"h:1\","
	    "\"status\":\"failed\",\"served_serial\":null,"
	    "\"started_at\":\"2026-12-07T10:00:00Z\","
	    "\"finished_at\":\"2026-12-07T10:00:00Z\"}"), &r, &e), 0);
	assert_string_equal(r.served_serial, "");
	assert_int_equal(api_decode_report(S("{\"redis\":\"h:1\","
	    "\"status\":\"check\"}"), &r, &e), 0);
	assert_string_equal(r.served_serial, "");
	assert_int_equal(api_decode_report(S("{\"redis\":\"h:1\","
	    "\"status\":\"rolled_back\",\"served_serial\":\"1\","
	    "\"new_serial\":\"2\",\"started_at\":\"2026-12-07T10:00:00Z\","
	    "\"finished_at\":\"2026-12-07T10:00:01Z\"}"), &r, &e), 0);
	assert_int_equal(r.status, SVC_REPORT_ROLLED_BACK);
}

static void
test_report_shape_refusals(void **state)
{
	(void)state;
	refused("", ERR_INVALID_JSON, "empty");
	refused("{\"redis\":", ERR_INVALID_JSON, "invalid JSON");
	refused("[]", ERR_INVALID_REQUEST, "object");
	refused("{\"redis\":\"h:1\",\"status\":\"check\","
	    "\"served_serial\":\"1\",\"redis\":\"h:2\"}", ERR_INVALID_JSON,
	    "duplicate");
	refused("{\"status\":\"check\",\"served_serial\":\"1\"}",
	    ERR_INVALID_REQUEST, "missing field 'redis'");
	refused("{\"redis\":\"h:1\",\"served_serial\":\"1\"}",
	    ERR_INVALID_REQUEST, "missing field 'status'");
	refused("{\"redis\":\"h:1\",\"status\":\"check\","
	    "\"served_serial\":\"1\",\"extra\":1}", ERR_INVALID_REQUEST,
	    "unknown field 'extra'");
	refused("{\"redis\":6379,\"status\":\"check\",\"served_serial\":\"1\"}",
	    ERR_INVALID_REQUEST, "field 'redis' must be a string");
	refused("{\"redis\":\"h:1\",\"status\":\"check\","
	    "\"served_serial\":\"1\",\"steps\":{}}", ERR_INVALID_REQUEST,
	    "field 'steps' must be an array");
}

static void
test_report_value_refusals(void **state)
{
	char big[400];

	(void)state;
	refused("{\"redis\":\"h:1\",\"status\":\"done\","
	    "\"served_serial\":\"1\"}", ERR_INVALID_REQUEST, "'status'");
	refused("{\"redis\":\"h:1\",\"status\":\"check\","
	    "\"served_serial\":\"xyz\"}", ERR_INVALID_REQUEST,
	    "'served_serial'");
	refused("{\"redis\":\"h:1\",\"status\":\"check\","
	    "\"served_serial\":\"\"}", ERR_INVALID_REQUEST,
	    "'served_serial'");
	refused("{\"redis\":\"h:1\",\"status\":\"check\","
	    "\"served_serial\":\"11111111112222222222333333333344444444445\"}",
	    ERR_INVALID_REQUEST, "'served_serial'");
	refused("{\"redis\":\"h:1\",\"status\":\"check\","
	    "\"served_serial\":\"1\",\"role\":\"master\"}",
	    ERR_INVALID_REQUEST, "'role'");
	refused("{\"redis\":\"h:1\",\"status\":\"check\","
	    "\"served_serial\":\"1\",\"name\":\"\"}", ERR_INVALID_REQUEST,
	    "'name'");
	refused("{\"redis\":\"h:1\",\"status\":\"check\","
	    "\"served_serial\":\"1\",\"group\":\"aaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", ERR_INVALID_REQUEST,
	    "'group'");
	/* A check carries no rotation. */
	refused("{\"redis\":\"h:1\",\"status\":\"check\","
	    "\"served_serial\":\"1\",\"new_serial\":\"2\"}",
	    ERR_INVALID_REQUEST, "'new_serial' is not allowed");
	refused("{\"redis\":\"h:1\",\"status\":\"check\","
	    "\"served_serial\":\"1\",\"steps\":[]}", ERR_INVALID_REQUEST,
	    "'steps' is not allowed");
	/* A rotation needs its times, in order, and its new serial. */
	refused("{\"redis\":\"h:1\",\"status\":\"succeeded\","
	    "\"served_serial\":\"1\",\"new_serial\":\"1\","
	    "\"finished_at\":\"2026-12-07T10:00:00Z\"}", ERR_INVALID_REQUEST,
	    "missing field 'started_at'");
	refused("{\"redis\":\"h:1\",\"status\":\"succeeded\","
	    "\"served_serial\":\"1\",\"new_serial\":\"1\","
	    "\"started_at\":\"2026-12-07T10:00:00Z\"}", ERR_INVALID_REQUEST,
	    "missing field 'finished_at'");
	refused("{\"redis\":\"h:1\",\"status\":\"succeeded\","
	    "\"served_serial\":\"1\",\"new_serial\":\"1\","
	    "\"started_at\":\"2026-12-07T10:00:05Z\","
	    "\"finished_at\":\"2026-12-07T10:00:00Z\"}", ERR_INVALID_REQUEST,
	    "before 'started_at'");
	refused("{\"redis\":\"h:1\",\"status\":\"succeeded\","
	    "\"served_serial\":\"1\",\"started_at\":\"2026-12-07T10:00:00Z\","
	    "\"finished_at\":\"2026-12-07T10:00:00Z\"}", ERR_INVALID_REQUEST,
	    "missing field 'new_serial'");
	refused("{\"redis\":\"h:1\",\"status\":\"succeeded\","
	    "\"served_serial\":\"1\",\"new_serial\":\"1\","
	    "\"started_at\":\"yesterday\","
	    "\"finished_at\":\"2026-12-07T10:00:00Z\"}", ERR_INVALID_REQUEST,
	    "'started_at'");
	/* A detail too long for the record. */
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	{
		char body[1024];

		snprintf(body, sizeof(body), "{\"redis\":\"h:1\","
		    "\"status\":\"failed\",\"served_serial\":\"1\","
		    "\"started_at\":\"2026-12-07T10:00:00Z\","
		    "\"finished_at\":\"2026-12-07T10:00:00Z\",\"steps\":"
		    "[{\"step\":\"connect\",\"ok\":false,\"detail\":\"%s\"}]}",
		    big);
		refused(body, ERR_INVALID_REQUEST, "'steps[0].detail'");
	}
}

/* A failed rotation report with steps (a JSON array text) s. */
static void
steps_refused(const char *steps, const char *part)
{
	char body[4096];

	snprintf(body, sizeof(body), "{\"redis\":\"h:1\",\"status\":"
	    "\"failed\",\"served_serial\":\"1\",\"started_at\":"
	    "\"2026-12-07T10:00:00Z\",\"finished_at\":"
	    "\"2026-12-07T10:00:00Z\",\"steps\":%s}", steps);
	refused(body, ERR_INVALID_REQUEST, part);
}

static void
test_report_steps(void **state)
{
	char many[2048] = "[";

	(void)state;
	steps_refused("[1]", "'steps[0]' must be an object");
	steps_refused("[{\"step\":\"connect\",\"ok\":true}]",
	    "missing field 'steps[0].detail'");
	steps_refused("[{\"step\":\"connect\",\"ok\":\"yes\",\"detail\":\"\"}]",
	    "'steps[0].ok' must be true or false");
	steps_refused("[{\"step\":\"Connect!\",\"ok\":true,\"detail\":\"\"}]",
	    "'steps[0].step'");
	steps_refused("[{\"step\":\"\",\"ok\":true,\"detail\":\"\"}]",
	    "'steps[0].step'");
	steps_refused("[{\"step\":\"a_very_long_step_name_xyz\",\"ok\":true,"
	    "\"detail\":\"\"}]", "'steps[0].step'");
	steps_refused("[{\"step\":\"connect\",\"ok\":true,\"detail\":\"\"},"
	    "{\"step\":\"reboot\",\"ok\":true,\"detail\":\"\"}]",
	    "'steps[1].step' must be connect");
	steps_refused("[{\"step\":\"ping\",\"ok\":true,\"detail\":\"\","
	    "\"at\":1}]", "unknown field 'steps[0].at'");
	for (int i = 0; i <= ROT_MAX_STEPS; i++)
		strcat(many, i == 0 ? "{\"step\":\"a\",\"ok\":true,\"detail\":"
		    "\"\"}" : ",{\"step\":\"a\",\"ok\":true,\"detail\":\"\"}");
	strcat(many, "]");
	steps_refused(many, "more than 12");
}

static void
test_report_too_large(void **state)
{
	struct svc_node_report_req r;
	size_t n = API_FLEET_BODY_REPORT + 1;
	char *body = malloc(n);
	struct err e;

	(void)state;
	assert_non_null(body);
	memset(body, ' ', n);
	memcpy(body, "{}", 2);
	assert_int_equal(api_decode_report(body, n, &r, &e), -1);
	assert_int_equal(e.code, ERR_PAYLOAD_TOO_LARGE);
	free(body);
}

static void
test_hostport(void **state)
{
	static const char *const bad[] = { "h", "h:", ":1", "h:0",
	    "h:65536", "h:1x", "h:-1", "::1:6379", "[::1]6379", "[::1]:",
	    "[h]:1", "a b:1", "a/b:1", "h:123456", "[]:1", "h: 1" };
	char host[256];
	struct err e;
	int port;

	(void)state;
	assert_int_equal(api_decode_hostport("redis-1.example:6379", "redis",
	    host, sizeof(host), &port, &e), 0);
	assert_string_equal(host, "redis-1.example");
	assert_int_equal(port, 6379);
	assert_int_equal(api_decode_hostport("[fe80::1]:65535", "redis",
	    host, sizeof(host), &port, &e), 0);
	assert_string_equal(host, "fe80::1");
	assert_int_equal(port, 65535);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		if (api_decode_hostport(bad[i], "redis", host, sizeof(host),
		    &port, &e) != -1)
			fail_msg("accepted %s", bad[i]);
		expect_err(&e, ERR_INVALID_REQUEST, "field 'redis'");
	}
}

static void
test_empty_object(void **state)
{
	struct err e;

	(void)state;
	assert_int_equal(api_decode_empty_object(NULL, 0, &e), 0);
	assert_int_equal(api_decode_empty_object(S("{}"), &e), 0);
	assert_int_equal(api_decode_empty_object(S(" { } "), &e), 0);
	assert_int_equal(api_decode_empty_object(S("{\"force\":true}"), &e),
	    -1);
	expect_err(&e, ERR_INVALID_REQUEST, "unknown field 'force'");
	assert_int_equal(api_decode_empty_object(S("[]"), &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "object");
	assert_int_equal(api_decode_empty_object(S("{"), &e), -1);
	assert_int_equal(e.code, ERR_INVALID_JSON);
}

static void
test_node_status(void **state)
{
	static const char *const names[] = { "ok", "expiring",
	    "rotation_failed", "unknown", "drift" };
	enum node_status st;
	struct err e;

	(void)state;
	assert_int_equal(api_decode_node_status(NULL, &st, &e), 0);
	assert_int_equal(st, NODE_STATUS__MAX);
	assert_int_equal(api_decode_node_status("", &st, &e), 0);
	assert_int_equal(st, NODE_STATUS__MAX);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(api_decode_node_status(names[i], &st, &e), 0);
		assert_string_equal(svc_node_status_name(st), names[i]);
	}
	assert_int_equal(api_decode_node_status("drift", &st, &e), 0);
	assert_int_equal(st, NODE_DRIFT);
	assert_int_equal(api_decode_node_status("DRIFT", &st, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "'status'");
	assert_int_equal(api_decode_node_status("stale", &st, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "drift");
}

#define NODE(extra) "{\"name\":\"n1\",\"host\":\"h\",\"port\":6379," \
	"\"cert_dir\":\"/tmp\"" extra "}"

static void
test_node_group(void **state)
{
	struct api_node_body b;
	struct err e;

	(void)state;
	assert_int_equal(api_decode_node(S(NODE(",\"group\":\"cache\"")), &b,
	    &e), 0);
	assert_string_equal(b.req.group, "cache");
	api_node_body_free(&b);
	assert_int_equal(api_decode_node(S(NODE("")), &b, &e), 0);
	assert_null(b.req.group);
	api_node_body_free(&b);
	assert_int_equal(api_decode_node(S(NODE(",\"group\":null")), &b, &e),
	    0);
	assert_null(b.req.group);
	api_node_body_free(&b);
	assert_int_equal(api_decode_node(S(NODE(",\"group\":7")), &b, &e),
	    -1);
	expect_err(&e, ERR_INVALID_REQUEST, "field 'group' must be a string");
	assert_int_equal(api_decode_node(S("{\"name\":\"report\",\"host\":"
	    "\"h\",\"port\":6379,\"cert_dir\":\"/tmp\"}"), &b, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "'report' is reserved");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_full),
		cmocka_unit_test(test_report_check_and_minimal),
		cmocka_unit_test(test_report_shape_refusals),
		cmocka_unit_test(test_report_value_refusals),
		cmocka_unit_test(test_report_steps),
		cmocka_unit_test(test_report_too_large),
		cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_empty_object),
		cmocka_unit_test(test_node_status),
		cmocka_unit_test(test_node_group),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
