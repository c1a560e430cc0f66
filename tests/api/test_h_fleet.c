/*
 * Tests of the fleet routes (SPEC section 11: api/h_groups.c,
 * api/h_report.c and the fleet parts of h_nodes.c, encode.c and
 * metrics.c) over HTTPS on 127.0.0.1 with a real service (a throwaway
 * CA, SQLite in a temp folder, or PostgreSQL with RCA_TEST_DB=pg) and
 * libcurl: the node's new fields, "group" in POST /v1/nodes and its
 * refusals, ?status= (drift and the others, 400 for the rest), GET
 * /v1/groups, POST /v1/groups/{group}/rotate (404, 403, 400, and 502
 * "stopped" with the later members skipped when a member cannot be
 * reached), POST /v1/nodes/report with client certificates (a
 * check-in, and 401/403/409/400/413 refusals), the drift and in-flight
 * metrics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include "api_fleet.h"
#include "apifx.h"
#include "fileio.h"
#include "https.h"
#include "testdb.h"

struct fixture {
	struct afx	 x;		/* first: afx_teardown() */
	char		 nodes[64];	/* nodes.allowed_dirs[0] */
	char		 p[6][256];
};

enum { P_CRT, P_KEY, P_DB, P_ADM_CRT, P_ADM_KEY, P_API_CRT };

/* Who calls: a bearer token, a client certificate pair, or nobody. */
struct who {
	const char	*token;
	const char	*cert;
	const char	*key;
};

/* The last answer. */
static struct thc_resp resp;

/*
 * method url (base + path) as w with body (JSON, or NULL), trusting
 * the fixture's CA; the status, the body in resp.
 */
static long
call(struct fixture *f, const char *base, const char *method,
    const char *path, const struct who *w, const char *body)
{
	struct thc_req q = { .method = method, .url = base, .path = path,
	    .body = body, .ctype = body != NULL ? "application/json" : NULL,
	    .cacert = f->p[P_CRT], .timeout_ms = 120000 };

	if (w != NULL) {
		q.token = w->token;
		q.cert = w->cert;
		q.key = w->key;
	}
	return thc_call(&q, &resp);
}

static json_t *
body_json(void)
{
	return thc_json(&resp);
}

/* The last answer was status with error code code (message has part). */
static void
expect_error(long status, const char *code, const char *part)
{
	thc_expect_error(&resp, status, code, part);
}

static void
expect_status(long status)
{
	thc_expect_status(&resp, status);
}

/* The redis-node profile, beside afx_svc_config()'s redis-client. */
static void
node_profile(struct profile *prof)
{
	strcpy(prof->name, "redis-node");
	prof->eku = EKU_SERVER_AUTH | EKU_CLIENT_AUTH;
	prof->require_san = true;
	prof->default_ttl = 3600;
	prof->max_ttl = 86400;
	prof->key_types = KEY_BIT(KEY_EC_P256);
}

static int
setup(void **state)
{
	static const char *const names[] = { "ca.crt", "ca.key", "rca.db",
	    "admin.crt", "admin.key", "api.crt" };
	struct fixture *f = calloc(1, sizeof(*f));
	static struct profile prof[2];
	struct svc_config sc;
	struct api_config ac;
	const char *allowed[1];
	char api_key[300];

	assert_non_null(f);
	afx_mkdir(&f->x, "/tmp/rca-hfleet-XXXXXX");
	for (int i = 0; i < 6; i++)
		snprintf(f->p[i], sizeof(f->p[i]), "%s/%s", f->x.dir, names[i]);
	/* Outside the folder of ca.key, which no node may use. */
	strcpy(f->nodes, "/tmp/rca-hfleet-nodes-XXXXXX");
	assert_non_null(mkdtemp(f->nodes));
	afx_sh("mkdir %s/a %s/b %s/c", f->nodes, f->nodes, f->nodes);
	if (tdb_database(f->x.dir, names[P_DB], f->p[P_DB],
	    sizeof(f->p[P_DB])) == -1)
		fail_msg("the test's database");
	afx_pki(f->x.dir, "fleet-ca", AFX_API | AFX_ADMIN);
	node_profile(&prof[0]);
	allowed[0] = f->nodes;
	afx_svc_config(&sc, &prof[1], f->p[P_CRT], f->p[P_KEY], f->p[P_DB]);
	sc.admin_cert = f->p[P_ADM_CRT];
	sc.admin_key = f->p[P_ADM_KEY];
	sc.profiles = prof;
	sc.nprofiles = 2;
	sc.node_allowed_dirs = allowed;
	sc.nnode_allowed_dirs = 1;
	afx_open(&f->x, &sc, "*");
	snprintf(api_key, sizeof(api_key), "%s/api.key", f->x.dir);
	afx_api_config(&ac, 65536, 64);
	afx_api_tls(&ac, f->p[P_API_CRT], api_key, f->p[P_CRT]);
	afx_serve(&f->x, &ac);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char nodes[sizeof(f->nodes)];

	memcpy(nodes, f->nodes, sizeof(nodes));
	afx_teardown(state);
	afx_sh("rm -rf %s", nodes);
	return 0;
}

/* POST /v1/nodes: name in group (NULL: none), cert_dir nodes/sub,
 * listening on a closed port of 127.0.0.1. */
static long
add_node(struct fixture *f, const char *name, const char *group,
    const char *sub)
{
	struct who adm = { f->x.admin, NULL, NULL };
	char body[1024], g[128] = "";

	if (group != NULL)
		snprintf(g, sizeof(g), ",\"group\":\"%s\"", group);
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"host\":"
	    "\"127.0.0.1\",\"port\":1,\"cert_dir\":\"%s/%s\"%s}", name,
	    f->nodes, sub, g);
	call(f, f->x.base, "POST", "/v1/nodes", &adm, body);
	if (resp.status != 201)
		fprintf(stderr, "POST /v1/nodes %s: %ld %s\n", name,
		    resp.status, resp.body);
	return resp.status;
}

/* The node of the last answer has the fleet fields, as given. */
static void
expect_node(const char *name, const char *group, const char *status)
{
	json_t *v = body_json();
	const char *keys[] = { "served_serial", "drift_since",
	    "last_report_at", "role" };

	assert_string_equal(json_string_value(json_object_get(v, "name")),
	    name);
	assert_string_equal(json_string_value(json_object_get(v, "group")),
	    group);
	assert_string_equal(json_string_value(json_object_get(v, "mode")),
	    "push");
	assert_string_equal(json_string_value(json_object_get(v, "status")),
	    status);
	for (size_t i = 0; i < 4; i++)
		assert_true(json_is_null(json_object_get(v, keys[i])));
	json_decref(v);
}

static void
test_node_fields(void **state)
{
	struct fixture *f = *state;
	struct who adm = { f->x.admin, NULL, NULL };

	assert_int_equal(add_node(f, "a1", "cache", "a"), 201);
	expect_node("a1", "cache", "unknown");
	/* Without a group the node is its own. */
	assert_int_equal(add_node(f, "b1", NULL, "b"), 201);
	expect_node("b1", "b1", "unknown");
	assert_int_equal(call(f, f->x.base, "GET", "/v1/nodes/a1", &adm, NULL),
	    200);
	expect_node("a1", "cache", "unknown");
	/* A bad group names the field; "report" is no node's name. */
	add_node(f, "c1", "Bad_Group", "c");
	expect_error(400, "invalid_request", "group");
	add_node(f, "c1", "-x", "c");
	expect_error(400, "invalid_request", "group");
	call(f, f->x.base, "POST", "/v1/nodes", &adm, "{\"name\":\"c1\","
	    "\"host\":\"127.0.0.1\",\"port\":1,\"cert_dir\":\"/tmp\","
	    "\"group\":5}");
	expect_error(400, "invalid_request", "field 'group' must be a string");
	add_node(f, "report", NULL, "c");
	expect_error(400, "invalid_request", "'report' is reserved");
	assert_int_equal(call(f, f->x.base, "GET", "/v1/nodes/c1", &adm, NULL),
	    404);
}

/* The names of the nodes of GET /v1/nodes?query, joined with ','. */
static const char *
list_names(struct fixture *f, const char *query)
{
	static char out[512];
	struct who adm = { f->x.admin, NULL, NULL };
	char path[256];
	json_t *v, *it;
	size_t i;

	snprintf(path, sizeof(path), "/v1/nodes%s", query);
	if (call(f, f->x.base, "GET", path, &adm, NULL) != 200)
		fail_msg("GET %s: %ld %s", path, resp.status, resp.body);
	v = body_json();
	out[0] = '\0';
	json_array_foreach(json_object_get(v, "items"), i, it) {
		if (i > 0)
			strcat(out, ",");
		strcat(out, json_string_value(json_object_get(it, "name")));
	}
	json_decref(v);
	return out;
}

static void
test_status_filter(void **state)
{
	struct fixture *f = *state;
	struct who adm = { f->x.admin, NULL, NULL };
	json_t *v;

	assert_int_equal(add_node(f, "a1", "g", "a"), 201);
	assert_int_equal(add_node(f, "b1", "g", "b"), 201);
	assert_string_equal(list_names(f, ""), "a1,b1");
	assert_string_equal(list_names(f, "?status=unknown"), "a1,b1");
	assert_string_equal(list_names(f, "?status=drift"), "");
	assert_string_equal(list_names(f, "?status=ok"), "");
	assert_string_equal(list_names(f, "?status=expiring"), "");
	assert_string_equal(list_names(f, "?status=rotation_failed"), "");
	/* b1 serves another certificate than the recorded one. */
	tdb_exec(f->p[P_DB], "UPDATE nodes SET current_serial = 'aa', "
	    "served_serial = 'bb', drift_since = 1700000000 WHERE name = 'b1'",
	    NULL);
	assert_string_equal(list_names(f, "?status=drift"), "b1");
	assert_string_equal(list_names(f, "?status=drift&limit=1"), "b1");
	assert_int_equal(call(f, f->x.base, "GET", "/v1/nodes/b1", &adm, NULL),
	    200);
	v = body_json();
	assert_string_equal(json_string_value(json_object_get(v, "status")),
	    "drift");
	assert_string_equal(json_string_value(json_object_get(v,
	    "served_serial")), "bb");
	assert_string_equal(json_string_value(json_object_get(v,
	    "drift_since")), "2023-11-14T22:13:20Z");
	json_decref(v);
	/* Anything else is refused, naming the parameter. */
	call(f, f->x.base, "GET", "/v1/nodes?status=stale", &adm, NULL);
	expect_error(400, "invalid_request", "'status'");
	call(f, f->x.base, "GET", "/v1/nodes?status=DRIFT", &adm, NULL);
	expect_error(400, "invalid_request", "'status'");
	/* The metrics show it. */
	assert_int_equal(call(f, f->x.pub, "GET", "/metrics", NULL, NULL), 200);
	assert_non_null(strstr(resp.body, "redisca_node_drift{node=\"a1\"} "
	    "0\n"));
	assert_non_null(strstr(resp.body, "redisca_node_drift{node=\"b1\"} "
	    "1\n"));
	assert_non_null(strstr(resp.body, "redisca_rotations_in_flight 0\n"));
	assert_non_null(strstr(resp.body, "# TYPE redisca_node_drift gauge"));
}

/* The group named g of GET /v1/groups (new), or NULL. */
static json_t *
find_group(json_t *list, const char *g)
{
	json_t *it;
	size_t i;

	json_array_foreach(json_object_get(list, "items"), i, it)
		if (strcmp(json_string_value(json_object_get(it, "group")),
		    g) == 0)
			return json_incref(it);
	return NULL;
}

static void
test_groups_list(void **state)
{
	struct fixture *f = *state;
	struct who adm = { f->x.admin, NULL, NULL };
	struct who enr = { f->x.enroll, NULL, NULL };
	json_t *v, *g, *m;

	assert_int_equal(call(f, f->x.base, "GET", "/v1/groups", &adm, NULL),
	    200);
	assert_string_equal(resp.body, "{\"items\":[]}");
	assert_int_equal(add_node(f, "a2", "cache", "a"), 201);
	assert_int_equal(add_node(f, "a1", "cache", "b"), 201);
	assert_int_equal(add_node(f, "solo", NULL, "c"), 201);
	tdb_exec(f->p[P_DB], "UPDATE nodes SET current_serial = 'aa', "
	    "served_serial = 'bb', drift_since = 1700000000, role = 'primary' "
	    "WHERE name = 'a2'", NULL);
	assert_int_equal(call(f, f->x.base, "GET", "/v1/groups", &adm, NULL),
	    200);
	v = body_json();
	assert_int_equal(json_array_size(json_object_get(v, "items")), 2);
	g = find_group(v, "cache");
	assert_non_null(g);
	/* The worst member's status; members by name. */
	assert_string_equal(json_string_value(json_object_get(g, "status")),
	    "drift");
	assert_int_equal(json_array_size(json_object_get(g, "members")), 2);
	m = json_array_get(json_object_get(g, "members"), 0);
	assert_string_equal(json_string_value(json_object_get(m, "name")),
	    "a1");
	assert_true(json_is_null(json_object_get(m, "role")));
	assert_string_equal(json_string_value(json_object_get(m, "mode")),
	    "push");
	assert_string_equal(json_string_value(json_object_get(m, "status")),
	    "unknown");
	m = json_array_get(json_object_get(g, "members"), 1);
	assert_string_equal(json_string_value(json_object_get(m, "role")),
	    "primary");
	assert_string_equal(json_string_value(json_object_get(m, "status")),
	    "drift");
	json_decref(g);
	g = find_group(v, "solo");
	assert_non_null(g);
	assert_string_equal(json_string_value(json_object_get(g, "status")),
	    "unknown");
	json_decref(g);
	json_decref(v);
	/* Admin only. */
	call(f, f->x.base, "GET", "/v1/groups", &enr, NULL);
	expect_error(403, "forbidden", NULL);
	call(f, f->x.base, "GET", "/v1/groups", NULL, NULL);
	expect_error(401, "unauthorized", NULL);
	/* Not on the public listener. */
	assert_int_equal(call(f, f->x.pub, "GET", "/v1/groups", NULL, NULL),
	    404);
}

static void
test_group_rotate_refusals(void **state)
{
	struct fixture *f = *state;
	struct who adm = { f->x.admin, NULL, NULL };
	struct who enr = { f->x.enroll, NULL, NULL };

	call(f, f->x.base, "POST", "/v1/groups/nothing/rotate", &adm, NULL);
	expect_error(404, "not_found", NULL);
	call(f, f->x.base, "POST", "/v1/groups/Bad_Name/rotate", &adm, NULL);
	expect_error(404, "not_found", NULL);
	assert_int_equal(add_node(f, "a1", "cache", "a"), 201);
	call(f, f->x.base, "POST", "/v1/groups/cache/rotate", &enr, NULL);
	expect_error(403, "forbidden", NULL);
	call(f, f->x.base, "POST", "/v1/groups/cache/rotate", NULL, NULL);
	expect_error(401, "unauthorized", NULL);
	call(f, f->x.base, "POST", "/v1/groups/cache/rotate", &adm,
	    "{\"force\":true}");
	expect_error(400, "invalid_request", "unknown field 'force'");
	call(f, f->x.base, "POST", "/v1/groups/cache/rotate", &adm, "{");
	expect_error(400, "invalid_json", NULL);
	call(f, f->x.base, "GET", "/v1/groups/cache/rotate", &adm, NULL);
	expect_error(405, "method_not_allowed", NULL);
	/* Refusals are audited under group.rotate. */
	assert_int_equal(call(f, f->x.base, "GET", "/v1/audit?limit=1000", &adm,
	    NULL), 200);
	assert_non_null(strstr(resp.body, "\"action\":\"group.rotate\""));
}

/*
 * Two members that cannot be reached: their roles are unknown, so they
 * go by name; the first rotation fails and stops the group: 502 with
 * its record, the second skipped and untouched.
 */
static void
test_group_rotate_stops(void **state)
{
	struct fixture *f = *state;
	struct who adm = { f->x.admin, NULL, NULL };
	json_t *v, *recs, *skipped, *err;

	assert_int_equal(add_node(f, "n2", "cache", "a"), 201);
	assert_int_equal(add_node(f, "n1", "cache", "b"), 201);
	call(f, f->x.base, "POST", "/v1/groups/cache/rotate", &adm, "{}");
	expect_status(502);
	v = body_json();
	assert_string_equal(json_string_value(json_object_get(v, "group")),
	    "cache");
	assert_string_equal(json_string_value(json_object_get(v, "status")),
	    "stopped");
	recs = json_object_get(v, "rotations");
	assert_int_equal(json_array_size(recs), 1);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(recs, 0), "node")), "n1");
	assert_string_not_equal(json_string_value(json_object_get(
	    json_array_get(recs, 0), "status")), "succeeded");
	skipped = json_object_get(v, "skipped");
	assert_int_equal(json_array_size(skipped), 1);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(skipped, 0), "name")), "n2");
	assert_true(json_is_string(json_object_get(json_array_get(skipped, 0),
	    "reason")));
	err = json_object_get(v, "error");
	assert_string_equal(json_string_value(json_object_get(err, "code")),
	    "rotation_failed");
	json_decref(v);
	/* n2 was not touched: no rotation of it. */
	assert_int_equal(call(f, f->x.base, "GET", "/v1/nodes/n2/rotations",
	    &adm, NULL), 200);
	assert_string_equal(resp.body, "{\"items\":[],\"next\":null}");
	assert_int_equal(call(f, f->x.base, "GET", "/v1/nodes/n1/rotations",
	    &adm, NULL), 200);
	assert_null(strstr(resp.body, "\"items\":[]"));
	/* Audited as group.rotate, object the group. */
	assert_int_equal(call(f, f->x.base, "GET", "/v1/audit?limit=1000", &adm,
	    NULL), 200);
	assert_non_null(strstr(resp.body, "\"action\":\"group.rotate\""));
}

/*
 * A certificate of profile for cn with SAN DNS cn, issued by the
 * service (POST /v1/certificates/generate), written to dir/<tag>.crt
 * and .key; its serial into serial.
 */
static void
issue(struct fixture *f, const char *profile, const char *cn,
    const char *tag, char serial[64])
{
	struct who adm = { f->x.admin, NULL, NULL };
	char body[512], path[512];
	const char *crt, *key, *s;
	json_t *v;

	snprintf(body, sizeof(body), "{\"profile\":\"%s\",\"common_name\":"
	    "\"%s\",\"sans\":{\"dns\":[\"%s\"]}}", profile, cn, cn);
	if (call(f, f->x.base, "POST", "/v1/certificates/generate", &adm,
	    body) != 201)
		fail_msg("generate: %ld %s", resp.status, resp.body);
	v = body_json();
	crt = json_string_value(json_object_get(v, "certificate"));
	key = json_string_value(json_object_get(v, "private_key"));
	s = json_string_value(json_object_get(v, "serial"));
	assert_non_null(crt);
	assert_non_null(key);
	assert_non_null(s);
	snprintf(serial, 64, "%s", s);
	snprintf(path, sizeof(path), "%s/%s.crt", f->x.dir, tag);
	assert_int_equal(fio_write_atomic(path, crt, strlen(crt), 0600, NULL),
	    0);
	snprintf(path, sizeof(path), "%s/%s.key", f->x.dir, tag);
	assert_int_equal(fio_write_atomic(path, key, strlen(key), 0600, NULL),
	    0);
	json_decref(v);
}

/* The pair dir/<tag>.crt, .key as a caller. */
static struct who
pair(struct fixture *f, const char *tag)
{
	static char crt[2][512], key[2][512];
	static int k;
	struct who w = { NULL, crt[k], key[k] };

	snprintf(crt[k], sizeof(crt[k]), "%s/%s.crt", f->x.dir, tag);
	snprintf(key[k], sizeof(key[k]), "%s/%s.key", f->x.dir, tag);
	k = (k + 1) % 2;
	return w;
}

static void
test_report(void **state)
{
	struct fixture *f = *state;
	struct who adm = { f->x.admin, NULL, NULL };
	struct who p1, cl;
	char s1[64], sc[64], body[1024];
	json_t *v;

	issue(f, "redis-node", "p1", "p1", s1);
	issue(f, "redis-client", "app", "cl", sc);
	p1 = pair(f, "p1");
	cl = pair(f, "cl");
	/* A check-in registers the pull node. */
	snprintf(body, sizeof(body), "{\"redis\":\"127.0.0.1:6390\","
	    "\"group\":\"pulled\",\"status\":\"check\",\"served_serial\":"
	    "\"%s\"}", s1);
	if (call(f, f->x.base, "POST", "/v1/nodes/report", &p1, body) != 200)
		fail_msg("report: %ld %s", resp.status, resp.body);
	v = body_json();
	assert_string_equal(json_string_value(json_object_get(v, "name")),
	    "p1");
	assert_string_equal(json_string_value(json_object_get(v, "mode")),
	    "pull");
	assert_string_equal(json_string_value(json_object_get(v, "group")),
	    "pulled");
	assert_string_equal(json_string_value(json_object_get(v,
	    "served_serial")), s1);
	assert_true(json_is_string(json_object_get(v, "last_report_at")));
	json_decref(v);
	assert_string_equal(list_names(f, ""), "p1");
	/* Redis could not be asked: the served serial is kept. */
	if (call(f, f->x.base, "POST", "/v1/nodes/report", &p1, "{\"redis\":"
	    "\"127.0.0.1:6390\",\"status\":\"check\",\"served_serial\":"
	    "null}") != 200)
		fail_msg("report: %ld %s", resp.status, resp.body);
	v = body_json();
	assert_string_equal(json_string_value(json_object_get(v,
	    "served_serial")), s1);
	json_decref(v);
	/* It is a member of its group, in pull mode. */
	assert_int_equal(call(f, f->x.base, "GET", "/v1/groups", &adm, NULL),
	    200);
	assert_non_null(strstr(resp.body, "\"mode\":\"pull\""));
	/* And in the node series of the metrics. */
	assert_int_equal(call(f, f->x.pub, "GET", "/metrics", NULL, NULL), 200);
	assert_non_null(strstr(resp.body, "redisca_node_drift{node=\"p1\"}"));
	/* No certificate: 401; a bearer token is not one. */
	call(f, f->x.base, "POST", "/v1/nodes/report", NULL, body);
	expect_error(401, "unauthorized", NULL);
	call(f, f->x.base, "POST", "/v1/nodes/report", &adm, body);
	expect_error(401, "unauthorized", NULL);
	/* Not on the public listener. */
	assert_int_equal(call(f, f->x.pub, "POST", "/v1/nodes/report", NULL,
	    body), 404);
	/* A client certificate is not a node's: 403. */
	call(f, f->x.base, "POST", "/v1/nodes/report", &cl, body);
	expect_error(403, "forbidden", NULL);
	/* Another node's name: 403. */
	snprintf(body, sizeof(body), "{\"name\":\"p2\",\"redis\":"
	    "\"127.0.0.1:6390\",\"status\":\"check\",\"served_serial\":"
	    "\"%s\"}", s1);
	call(f, f->x.base, "POST", "/v1/nodes/report", &p1, body);
	expect_error(403, "forbidden", NULL);
	/* A serial this CA did not issue for p1: 400 naming the field. */
	snprintf(body, sizeof(body), "{\"redis\":\"127.0.0.1:6390\","
	    "\"status\":\"check\",\"served_serial\":\"%s\"}", sc);
	call(f, f->x.base, "POST", "/v1/nodes/report", &p1, body);
	expect_error(400, "invalid_request", "served_serial");
	/* Bad bodies: 400 naming the field; too large: 413. */
	call(f, f->x.base, "POST", "/v1/nodes/report", &p1, "{\"redis\":"
	    "\"nohost\",\"status\":\"check\",\"served_serial\":\"1\"}");
	expect_error(400, "invalid_request", "'redis'");
	call(f, f->x.base, "POST", "/v1/nodes/report", &p1, "{\"redis\":"
	    "\"h:1\",\"status\":\"check\",\"served_serial\":\"1\",\"x\":1}");
	expect_error(400, "invalid_request", "unknown field 'x'");
	call(f, f->x.base, "POST", "/v1/nodes/report", &p1, "nope");
	expect_error(400, "invalid_json", NULL);
	{
		size_t n = 17 * 1024;
		char *big = malloc(n + 1);

		assert_non_null(big);
		memset(big, ' ', n);
		memcpy(big, "{}", 2);
		big[n] = '\0';
		call(f, f->x.base, "POST", "/v1/nodes/report", &p1, big);
		expect_error(413, "payload_too_large", NULL);
		free(big);
	}
	/* Refusals and the report are audited as node.report. */
	assert_int_equal(call(f, f->x.base, "GET", "/v1/audit?limit=1000", &adm,
	    NULL), 200);
	assert_non_null(strstr(resp.body, "\"action\":\"node.report\""));
	assert_non_null(strstr(resp.body, "\"outcome\":\"denied\""));
}

/* A push node's name cannot report: 409. */
static void
test_report_push_name(void **state)
{
	struct fixture *f = *state;
	struct who n1;
	char s1[64], body[512];

	assert_int_equal(add_node(f, "n1", NULL, "a"), 201);
	issue(f, "redis-node", "n1", "n1", s1);
	n1 = pair(f, "n1");
	snprintf(body, sizeof(body), "{\"redis\":\"127.0.0.1:6390\","
	    "\"status\":\"check\",\"served_serial\":\"%s\"}", s1);
	call(f, f->x.base, "POST", "/v1/nodes/report", &n1, body);
	expect_error(409, "conflict", NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_node_fields, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_status_filter, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_groups_list, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_group_rotate_refusals,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_rotate_stops, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_push_name, setup,
		    teardown),
	};

	curl_global_init(CURL_GLOBAL_ALL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
