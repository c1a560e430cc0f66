/*
 * Tests of api/h_ca.c and api/h_ca_roll.c over 127.0.0.1 with a real
 * service (a throwaway one-tier CA, SQLite in a temp folder, or
 * PostgreSQL with RCA_TEST_DB=pg) and libcurl: GET /v1/ca's shape, the
 * trust bundle's ETag and 304, the CRL of each CA by its SKI (and bad
 * SKIs), the rollover phases prepare -> activate -> retire with their
 * answers, every refusal's status and code (admin only, bad bodies,
 * ca_next_exists, ca_retire_pending, ca_not_prepared,
 * ca_nothing_to_retire, ca_unexpired_certificates with its serials,
 * invalid_chain), and the CA metrics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api_priv.h"
#include "apifx.h"
#include "fileio.h"
#include "https.h"
#include "testdb.h"

struct fixture {
	struct afx	 x;		/* first: afx_teardown() */
	char		 p[4][256];	/* ca.crt ca.key db */
};

enum { P_CRT, P_KEY, P_DB };

/* GET base+path with no credential and one extra header line (or NULL). */
static long
get(const char *base, const char *path, const char *extra,
    struct thc_resp *r)
{
	struct thc_req q = { .url = base, .path = path, .extra = extra };

	return thc_call(&q, r);
}

/* POST base+path as token with body. */
static long
post(struct fixture *f, const char *path, const char *token,
    const char *body, struct thc_resp *r)
{
	return thc_req("POST", f->x.base, path, token, body, r);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	static const char *const names[] = { "ca.crt", "ca.key", "rca.db" };
	struct profile prof;
	struct svc_config sc;
	struct api_config ac;

	assert_non_null(f);
	afx_mkdir(&f->x, "/tmp/rca-hca-XXXXXX");
	for (int i = 0; i < 3; i++)
		snprintf(f->p[i], sizeof(f->p[i]), "%s/%s", f->x.dir, names[i]);
	if (tdb_database(f->x.dir, names[P_DB], f->p[P_DB],
	    sizeof(f->p[P_DB])) == -1)
		fail_msg("the test's database");
	afx_pki(f->x.dir, "hca-ca", 0);
	/* A CA of no concern to the service, for invalid_chain. */
	afx_sh("cd %s && openssl req -x509 -newkey ec -pkeyopt "
	    "ec_paramgen_curve:P-256 -nodes -keyout other.key -out other.crt "
	    "-days 30 -subj /CN=other-ca -addext "
	    "basicConstraints=critical,CA:TRUE -addext "
	    "keyUsage=critical,keyCertSign,cRLSign 2>/dev/null", f->x.dir);
	afx_svc_config(&sc, &prof, f->p[P_CRT], f->p[P_KEY], f->p[P_DB]);
	afx_open(&f->x, &sc, "app-*");
	afx_api_config(&ac, 65536, 64);
	afx_serve(&f->x, &ac);
	*state = f;
	return 0;
}

/* GET /v1/ca on base: the body (new), checked for its fixed shape. */
static json_t *
get_ca(const char *base, struct thc_resp *r)
{
	json_t *v, *cur;
	const char *etag;

	assert_int_equal(get(base, "/v1/ca", NULL, r), 200);
	v = thc_json(r);
	assert_true(json_is_string(json_object_get(v, "certificate")));
	assert_true(json_is_string(json_object_get(v, "not_after")));
	assert_true(json_is_string(json_object_get(v, "fingerprint_sha256")));
	assert_true(json_is_string(json_object_get(v, "key_type")));
	assert_true(json_is_array(json_object_get(v, "retired")));
	assert_non_null(json_object_get(v, "next"));
	etag = json_string_value(json_object_get(v, "bundle_etag"));
	assert_non_null(etag);
	assert_int_equal(strlen(etag), 34);
	cur = json_object_get(v, "current");
	assert_string_equal(json_string_value(json_object_get(cur, "state")),
	    "current");
	assert_string_equal(json_string_value(json_object_get(cur,
	    "fingerprint_sha256")), json_string_value(json_object_get(v,
	    "fingerprint_sha256")));
	return v;
}

/* A string member of a member of v ("current", "ski"). */
static const char *
str2(json_t *v, const char *a, const char *b)
{
	return json_string_value(json_object_get(json_object_get(v, a), b));
}

/* GET /v1/ca, the bundle and its 304, the CRL by SKI. */
static void
test_ca_bundle_crl(void **state)
{
	struct fixture *f = *state;
	struct thc_resp *r = malloc(sizeof(*r)), *r2 = malloc(sizeof(*r2));
	char path[512], inm[128], etag[64], upper[160];
	const char *ski;
	json_t *v, *cur;

	assert_non_null(r);
	assert_non_null(r2);
	v = get_ca(f->x.pub, r);
	json_decref(get_ca(f->x.base, r));
	cur = json_object_get(v, "current");
	assert_true(json_is_null(json_object_get(v, "next")));
	assert_int_equal(json_array_size(json_object_get(v, "retired")), 0);
	assert_true(json_is_true(json_object_get(cur, "has_key")));
	assert_true(json_is_null(json_object_get(cur, "activated_at")) ||
	    json_is_string(json_object_get(cur, "activated_at")));
	/* A one-tier CA's chain is empty: the anchor is the CA itself. */
	assert_string_equal(str2(v, "current", "chain"), "");
	assert_non_null(strstr(str2(v, "current", "anchors"),
	    "BEGIN CERTIFICATE"));
	ski = str2(v, "current", "ski");
	assert_non_null(strstr(str2(v, "current", "crl_url"), ski));

	/* The bundle: its ETag is bundle_etag; 304 when named. */
	assert_int_equal(get(f->x.pub, "/v1/ca/bundle.pem", NULL, r2), 200);
	assert_string_equal(thc_header(r2, "ETag"),
	    json_string_value(json_object_get(v, "bundle_etag")));
	assert_string_equal(thc_header(r2, "Content-Type"),
	    "application/x-pem-file");
	assert_non_null(strstr(r2->body, "BEGIN CERTIFICATE"));
	snprintf(etag, sizeof(etag), "%s", thc_header(r2, "ETag"));
	snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
	assert_int_equal(get(f->x.pub, "/v1/ca/bundle.pem", inm, r2), 304);
	assert_int_equal(r2->len, 0);
	assert_string_equal(thc_header(r2, "ETag"), etag);
	snprintf(inm, sizeof(inm), "If-None-Match: \"x\", W/%s", etag);
	assert_int_equal(get(f->x.base, "/v1/ca/bundle.pem", inm, r2), 304);
	assert_int_equal(get(f->x.base, "/v1/ca/bundle.pem",
	    "If-None-Match: *", r2), 304);
	assert_int_equal(get(f->x.base, "/v1/ca/bundle.pem",
	    "If-None-Match: \"00000000000000000000000000000000\"", r2), 200);

	/* The current CA's CRL by SKI is /v1/crl's. */
	snprintf(path, sizeof(path), "/v1/crl/%s", ski);
	assert_int_equal(get(f->x.pub, path, NULL, r2), 200);
	assert_string_equal(thc_header(r2, "Content-Type"),
	    "application/pkix-crl");
	assert_int_equal(get(f->x.pub, "/v1/crl", NULL, r), 200);
	assert_int_equal(r->len, r2->len);
	assert_memory_equal(r->body, r2->body, r->len);
	snprintf(inm, sizeof(inm), "If-None-Match: %s", thc_header(r2, "ETag"));
	assert_int_equal(get(f->x.pub, path, inm, r2), 304);
	snprintf(path, sizeof(path), "/v1/crl/%s.pem", ski);
	assert_int_equal(get(f->x.base, path, NULL, r2), 200);
	assert_non_null(strstr(r2->body, "BEGIN X509 CRL"));
	/* Any case. */
	for (size_t i = 0; ski[i] != '\0' && i < sizeof(upper) - 1; i++)
		upper[i] = (char)((ski[i] >= 'a' && ski[i] <= 'f') ?
		    ski[i] - 32 : ski[i]);
	upper[strlen(ski)] = '\0';
	snprintf(path, sizeof(path), "/v1/crl/%s", upper);
	assert_int_equal(get(f->x.pub, path, NULL, r2), 200);
	json_decref(v);

	/* Bad SKIs: 400 before any lookup; unknown ones 404. */
	assert_int_equal(get(f->x.pub, "/v1/crl/zz", NULL, r2), 400);
	thc_expect_code(r2, "invalid_request");
	assert_int_equal(get(f->x.pub, "/v1/crl/abc.pem", NULL, r2), 400);
	thc_expect_code(r2, "invalid_request");
	memset(upper, 'a', 130);
	upper[130] = '\0';
	snprintf(path, sizeof(path), "/v1/crl/%s", upper);
	assert_int_equal(get(f->x.pub, path, NULL, r2), 400);
	thc_expect_code(r2, "invalid_request");
	assert_int_equal(get(f->x.pub,
	    "/v1/crl/00112233445566778899aabbccddeeff00112233", NULL, r2),
	    404);
	thc_expect_code(r2, "not_found");
	/* The rollover routes are not on the public listener. */
	snprintf(path, sizeof(path), "%s/v1/ca/prepare", f->x.pub);
	assert_int_equal(thc_req("POST", path, NULL, f->x.admin, "{}", r2),
	    404);
	free(r);
	free(r2);
}

/* {"certificate": the other CA's PEM} (new string). */
static char *
other_ca_body(struct fixture *f)
{
	char path[300], *pem = NULL, *body;
	size_t len;
	json_t *b;

	snprintf(path, sizeof(path), "%s/other.crt", f->x.dir);
	assert_int_equal(fio_read_all(path, 65536, &pem, &len, NULL), 0);
	b = json_pack("{s:s}", "certificate", pem);
	body = json_dumps(b, JSON_COMPACT);
	assert_non_null(body);
	json_decref(b);
	free(pem);
	return body;
}

/* Refusals before any phase: auth, bodies, nothing to do. */
static void
test_phase_refusals(void **state)
{
	struct fixture *f = *state;
	struct thc_resp *r = malloc(sizeof(*r));
	static const char *const phases[] = { "/v1/ca/prepare",
	    "/v1/ca/activate", "/v1/ca/retire" };

	assert_non_null(r);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(post(f, phases[i], NULL, "{}", r), 401);
		thc_expect_code(r, "unauthorized");
		assert_int_equal(post(f, phases[i], f->x.enroll, "{}", r), 403);
		thc_expect_code(r, "forbidden");
		assert_int_equal(post(f, phases[i], f->x.admin, "{", r), 400);
		thc_expect_code(r, "invalid_json");
		assert_int_equal(post(f, phases[i], f->x.admin,
		    "{\"bogus\":1}", r), 400);
		thc_expect_code(r, "invalid_request");
	}
	assert_int_equal(post(f, "/v1/ca/prepare", f->x.admin,
	    "{\"root_key\":\"/tmp/root.key\"}", r), 400);
	thc_expect_code(r, "invalid_request");
	assert_int_equal(post(f, "/v1/ca/prepare", f->x.admin, "{\"days\":0}",
	    r), 400);
	thc_expect_code(r, "invalid_request");
	assert_int_equal(post(f, "/v1/ca/activate", f->x.admin,
	    "{\"force\":\"yes\"}", r), 400);
	thc_expect_code(r, "invalid_request");
	assert_int_equal(post(f, "/v1/ca/activate", f->x.admin, NULL, r), 409);
	thc_expect_code(r, "ca_not_prepared");
	assert_int_equal(post(f, "/v1/ca/retire", f->x.admin, "{}", r), 409);
	thc_expect_code(r, "ca_nothing_to_retire");
	/* A CA certificate whose key this instance has not got. */
	{
		char *body = other_ca_body(f);

		assert_int_equal(post(f, "/v1/ca/prepare", f->x.admin, body,
		    r), 400);
		thc_expect_code(r, "invalid_request");
		free(body);
	}
	/* After all that the server still answers. */
	assert_int_equal(get(f->x.pub, "/healthz", NULL, r), 200);
	free(r);
}

/* Serial of a new redis-client certificate (from the current CA). */
static void
issue_one(struct fixture *f, char serial[RCA_SERIAL_HEX_MAX + 1])
{
	struct thc_resp *r = malloc(sizeof(*r));
	json_t *v;

	assert_non_null(r);
	assert_int_equal(post(f, "/v1/certificates/generate", f->x.admin,
	    "{\"profile\":\"redis-client\",\"common_name\":\"app-1\"}", r),
	    201);
	v = thc_json(r);
	snprintf(serial, RCA_SERIAL_HEX_MAX + 1, "%s",
	    json_string_value(json_object_get(v, "serial")));
	json_decref(v);
	free(r);
}

/* prepare -> activate -> retire, with the refusals between. */
static void
test_rollover(void **state)
{
	struct fixture *f = *state;
	struct thc_resp *r = malloc(sizeof(*r));
	char old_ski[160], next_ski[160], serial[RCA_SERIAL_HEX_MAX + 1];
	char etag0[64], path[300];
	json_t *v, *err;

	assert_non_null(r);
	v = get_ca(f->x.base, r);
	snprintf(old_ski, sizeof(old_ski), "%s", str2(v, "current", "ski"));
	snprintf(etag0, sizeof(etag0), "%s",
	    json_string_value(json_object_get(v, "bundle_etag")));
	json_decref(v);
	issue_one(f, serial);

	/* prepare: a next CA, the bundle grows. */
	assert_int_equal(post(f, "/v1/ca/prepare", f->x.admin, "{\"days\":400}",
	    r), 200);
	v = thc_json(r);
	assert_true(json_is_array(json_object_get(v, "nodes")));
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(json_object_get(v, "ca"), "next"), "state")),
	    "next");
	snprintf(next_ski, sizeof(next_ski), "%s", json_string_value(
	    json_object_get(json_object_get(json_object_get(v, "ca"),
	    "next"), "ski")));
	assert_string_not_equal(next_ski, old_ski);
	assert_string_not_equal(json_string_value(json_object_get(
	    json_object_get(v, "ca"), "bundle_etag")), etag0);
	json_decref(v);
	assert_int_equal(get(f->x.pub, "/v1/ca/bundle.pem", NULL, r), 200);
	assert_non_null(strstr(strstr(r->body, "END CERTIFICATE"),
	    "BEGIN CERTIFICATE"));
	assert_int_equal(post(f, "/v1/ca/prepare", f->x.admin, "{}", r), 409);
	thc_expect_code(r, "ca_next_exists");

	/* activate: the next CA issues; the old one is retired. */
	assert_int_equal(post(f, "/v1/ca/activate", f->x.admin,
	    "{\"force\":false}", r), 200);
	v = thc_json(r);
	assert_string_equal(str2(json_object_get(v, "ca"), "current", "ski"),
	    next_ski);
	assert_int_equal(json_array_size(json_object_get(json_object_get(v,
	    "ca"), "retired")), 1);
	json_decref(v);
	snprintf(path, sizeof(path), "/v1/crl/%s", old_ski);
	assert_int_equal(get(f->x.pub, path, NULL, r), 200);
	assert_int_equal(post(f, "/v1/ca/prepare", f->x.admin, "{}", r), 409);
	thc_expect_code(r, "ca_retire_pending");

	/* retire: refused while the old CA's certificate is unexpired. */
	assert_int_equal(post(f, "/v1/ca/retire", f->x.admin, NULL, r), 409);
	v = thc_json(r);
	err = json_object_get(v, "error");
	assert_string_equal(json_string_value(json_object_get(err, "code")),
	    "ca_unexpired_certificates");
	assert_int_equal(json_integer_value(json_object_get(err, "count")),
	    1);
	assert_int_equal(json_array_size(json_object_get(err,
	    "certificates")), 1);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(err, "certificates"), 0)), serial);
	json_decref(v);
	/* force revokes it; the old CA is gone with its CRL. */
	assert_int_equal(post(f, "/v1/ca/retire", f->x.admin,
	    "{\"force\":true}", r), 200);
	v = thc_json(r);
	assert_int_equal(json_array_size(json_object_get(json_object_get(v,
	    "ca"), "retired")), 0);
	json_decref(v);
	assert_int_equal(get(f->x.pub, path, NULL, r), 404);
	thc_expect_code(r, "not_found");
	assert_int_equal(post(f, "/v1/ca/retire", f->x.admin, "{}", r), 409);
	thc_expect_code(r, "ca_nothing_to_retire");

	/* The metrics name the current CA. */
	assert_int_equal(get(f->x.pub, "/metrics", NULL, r), 200);
	assert_non_null(strstr(r->body, "redisca_ca_bundle_nodes_stale 0"));
	snprintf(path, sizeof(path), "redisca_ca_info{ca=\"%s\","
	    "state=\"current\"", next_ski);
	assert_non_null(strstr(r->body, path));
	snprintf(path, sizeof(path), "redisca_ca_expiry_timestamp_seconds{"
	    "ca=\"%s\",state=\"current\"}", next_ski);
	assert_non_null(strstr(r->body, path));
	free(r);
}

/* prepare with a CSR: pending, its CSR answered and shown. */
static void
test_prepare_csr(void **state)
{
	struct fixture *f = *state;
	struct thc_resp *r = malloc(sizeof(*r));
	json_t *v, *next;

	assert_non_null(r);
	assert_int_equal(post(f, "/v1/ca/prepare", f->x.admin,
	    "{\"csr\":true}", r), 200);
	v = thc_json(r);
	assert_non_null(strstr(json_string_value(json_object_get(v, "csr")),
	    "BEGIN CERTIFICATE REQUEST"));
	next = json_object_get(json_object_get(v, "ca"), "next");
	assert_string_equal(json_string_value(json_object_get(next, "state")),
	    "pending");
	assert_non_null(json_object_get(next, "csr"));
	assert_null(json_object_get(next, "certificate"));
	assert_true(json_is_null(json_object_get(next, "not_after")));
	json_decref(v);
	/* Only a certificate may complete it; activating is refused. */
	assert_int_equal(post(f, "/v1/ca/prepare", f->x.admin, "{\"csr\":true}",
	    r), 409);
	thc_expect_code(r, "ca_next_exists");
	assert_int_equal(post(f, "/v1/ca/activate", f->x.admin, "{}", r), 409);
	thc_expect_code(r, "ca_not_prepared");
	/* A certificate that is not for the pending key: invalid_chain. */
	{
		char *body = other_ca_body(f);

		assert_int_equal(post(f, "/v1/ca/prepare", f->x.admin, body,
		    r), 422);
		thc_expect_code(r, "invalid_chain");
		free(body);
	}
	post(f, "/v1/ca/prepare", f->x.admin,
	    "{\"certificate\":\"-----BEGIN CERTIFICATE-----\\nAAAA\\n"
	    "-----END CERTIFICATE-----\\n\"}", r);
	/* Not a certificate at all: a bad request, named. */
	thc_expect_status(r, 400);
	thc_expect_code(r, "invalid_request");
	json_decref(get_ca(f->x.pub, r));
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ca_bundle_crl, setup,
		    afx_teardown),
		cmocka_unit_test_setup_teardown(test_phase_refusals, setup,
		    afx_teardown),
		cmocka_unit_test_setup_teardown(test_rollover, setup,
		    afx_teardown),
		cmocka_unit_test_setup_teardown(test_prepare_csr, setup,
		    afx_teardown),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
