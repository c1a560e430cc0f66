/*
 * Tests of api/decode.c and the decoders by resource (decode_cert.c,
 * decode_token.c, decode_node.c): request bodies and query strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api_priv.h"
#include "rca_limits.h"

#define S(x) (x), strlen(x)

/* Assert e has code and its message contains part. */
static void
expect_err(const struct err *e, enum err_code code, const char *part)
{
	assert_int_equal(e->code, code);
	if (strstr(e->msg, part) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", e->msg, part);
}

static void
test_json_load(void **state)
{
	struct err e;
	json_t *v = NULL;

	(void)state;
	assert_int_equal(api_json_load(S("{\"a\":1}"), &v, &e), 0);
	json_decref(v);
	assert_int_equal(api_json_load(S("{\"a\":1,\"a\":2}"), &v, &e), -1);
	expect_err(&e, ERR_INVALID_JSON, "duplicate");
	assert_int_equal(api_json_load(S("{\"a\":"), &v, &e), -1);
	expect_err(&e, ERR_INVALID_JSON, "invalid JSON");
	assert_int_equal(api_json_load("", 0, &v, &e), -1);
	expect_err(&e, ERR_INVALID_JSON, "empty");
	assert_int_equal(api_json_load(NULL, 0, &v, &e), -1);
	assert_int_equal(api_json_load(S("[1,2]"), &v, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "object");
	/* jansson itself wants an array or object at the top. */
	assert_int_equal(api_json_load(S("\"x\""), &v, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_JSON);
	/* Trailing garbage is not JSON. */
	assert_int_equal(api_json_load(S("{} x"), &v, &e), -1);
	expect_err(&e, ERR_INVALID_JSON, "invalid JSON");
}

/* An object nested depth levels deep: {"a":{"a":...{}}} */
static char *
nested(int depth)
{
	size_t n = (size_t)depth * 6 + 1;
	char *s = malloc(n), *p;

	if (s == NULL)
		abort();
	p = s;
	for (int i = 0; i < depth - 1; i++) {
		memcpy(p, "{\"a\":", 5);
		p += 5;
	}
	memcpy(p, "{}", 2);
	p += 2;
	for (int i = 0; i < depth - 1; i++)
		*p++ = '}';
	*p = '\0';
	return s;
}

static void
test_json_depth(void **state)
{
	struct err e;
	json_t *v = NULL;
	char *s;

	(void)state;
	s = nested(RCA_MAX_JSON_DEPTH);
	assert_int_equal(api_json_load(s, strlen(s), &v, &e), 0);
	json_decref(v);
	free(s);
	s = nested(RCA_MAX_JSON_DEPTH + 1);
	assert_int_equal(api_json_load(s, strlen(s), &v, &e), -1);
	expect_err(&e, ERR_INVALID_JSON, "deeper");
	free(s);
	s = nested(3000);
	assert_int_equal(api_json_load(s, strlen(s), &v, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_JSON);
	free(s);
}

static void
test_issue_ok(void **state)
{
	struct api_issue_body b;
	struct err e;

	(void)state;
	assert_int_equal(api_decode_issue(S("{\"csr\":\"-----BEGIN\","
	    "\"profile\":\"redis-client\",\"ttl\":\"12h\"}"), &b, &e), 0);
	assert_string_equal(b.csr, "-----BEGIN");
	assert_int_equal(b.csr_len, 10);
	assert_string_equal(b.profile, "redis-client");
	assert_int_equal(b.ttl, 12 * 3600);
	api_issue_body_free(&b);
	/* ttl optional; null means absent. */
	assert_int_equal(api_decode_issue(S("{\"csr\":\"x\",\"profile\":\"p\","
	    "\"ttl\":null}"), &b, &e), 0);
	assert_int_equal(b.ttl, 0);
	api_issue_body_free(&b);
	api_issue_body_free(NULL);
}

static void
test_issue_errors(void **state)
{
	struct api_issue_body b;
	struct err e;
	char *big;

	(void)state;
	assert_int_equal(api_decode_issue(S("{\"csr\":\"x\",\"profile\":\"p\","
	    "\"color\":1}"), &b, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "unknown field 'color'");
	assert_int_equal(api_decode_issue(S("{\"profile\":\"p\"}"), &b, &e),
	    -1);
	expect_err(&e, ERR_INVALID_REQUEST, "missing field 'csr'");
	assert_int_equal(api_decode_issue(S("{\"csr\":\"x\"}"), &b, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "missing field 'profile'");
	assert_int_equal(api_decode_issue(S("{\"csr\":5,\"profile\":\"p\"}"),
	    &b, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "field 'csr' must be a string");
	assert_int_equal(api_decode_issue(S("{\"csr\":\"x\",\"profile\":\"p\","
	    "\"ttl\":12}"), &b, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "field 'ttl' must be a string");
	assert_int_equal(api_decode_issue(S("{\"csr\":\"x\",\"profile\":\"p\","
	    "\"ttl\":\"12 hours\"}"), &b, &e), -1);
	expect_err(&e, ERR_INVALID_TTL, "ttl");
	assert_int_equal(api_decode_issue(S("{\"csr\":\"x\",\"csr\":\"y\","
	    "\"profile\":\"p\"}"), &b, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_JSON);
	assert_int_equal(api_decode_issue(S("not json"), &b, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_JSON);
	/* A CSR above the named limit. */
	big = malloc(RCA_MAX_CSR_BYTES + 64);
	if (big == NULL)
		abort();
	memcpy(big, "{\"csr\":\"", 8);
	memset(big + 8, 'A', RCA_MAX_CSR_BYTES + 1);
	strcpy(big + 8 + RCA_MAX_CSR_BYTES + 1, "\",\"profile\":\"p\"}");
	assert_int_equal(api_decode_issue(big, strlen(big), &b, &e), -1);
	expect_err(&e, ERR_INVALID_CSR, "csr");
	free(big);
}

static void
test_generate_ok(void **state)
{
	struct api_generate_body b;
	struct err e;

	(void)state;
	assert_int_equal(api_decode_generate(S("{\"profile\":\"redis-node\","
	    "\"common_name\":\"r1\",\"sans\":{\"dns\":[\"r1.example\"],"
	    "\"ip\":[\"10.0.0.1\"]},\"ttl\":\"1d\",\"key_type\":\"rsa-3072\"}"),
	    &b, &e), 0);
	assert_string_equal(b.profile, "redis-node");
	assert_string_equal(b.names.cn, "r1");
	assert_int_equal(b.names.n[NAME_DNS], 1);
	assert_string_equal(b.names.list[NAME_DNS][0], "r1.example");
	assert_int_equal(b.names.n[NAME_IP], 1);
	assert_string_equal(b.names.list[NAME_IP][0], "10.0.0.1");
	assert_int_equal(b.ttl, 86400);
	assert_int_equal(b.key_type, KEY_RSA_3072);
	api_generate_body_free(&b);
	/* Defaults: no SANs, ec-p256. */
	assert_int_equal(api_decode_generate(S("{\"profile\":\"p\","
	    "\"common_name\":\"c\"}"), &b, &e), 0);
	assert_int_equal(b.key_type, KEY_EC_P256);
	assert_int_equal(names_count(&b.names), 0);
	assert_int_equal(b.ttl, 0);
	api_generate_body_free(&b);
}

static void
test_generate_errors(void **state)
{
	struct api_generate_body b;
	struct err e;

	(void)state;
	assert_int_equal(api_decode_generate(S("{\"profile\":\"p\"}"), &b,
	    &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "missing field 'common_name'");
	assert_int_equal(api_decode_generate(S("{\"profile\":\"p\","
	    "\"common_name\":\"c\",\"sans\":{\"uri\":[]}}"), &b, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "unknown field 'sans.uri'");
	assert_int_equal(api_decode_generate(S("{\"profile\":\"p\","
	    "\"common_name\":\"c\",\"sans\":{\"dns\":\"a\"}}"), &b, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST,
	    "field 'sans.dns' must be an array");
	assert_int_equal(api_decode_generate(S("{\"profile\":\"p\","
	    "\"common_name\":\"c\",\"sans\":{\"ip\":[\"1.2.3.4\", 7]}}"), &b,
	    &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST,
	    "field 'sans.ip[1]' must be a string");
	assert_int_equal(api_decode_generate(S("{\"profile\":\"p\","
	    "\"common_name\":\"c\",\"sans\":{\"ip\":[\"not-an-ip\"]}}"), &b,
	    &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "sans.ip[0]");
	assert_int_equal(api_decode_generate(S("{\"profile\":\"p\","
	    "\"common_name\":\"c\",\"sans\":[]}"), &b, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "field 'sans' must be an object");
	assert_int_equal(api_decode_generate(S("{\"profile\":\"p\","
	    "\"common_name\":\"c\",\"key_type\":\"dsa\"}"), &b, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "key_type");
	assert_int_equal(api_decode_generate(S("{\"profile\":\"p\","
	    "\"common_name\":\"\"}"), &b, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "common_name");
	assert_int_equal(api_decode_generate(S("{\"profile\":\"p\","
	    "\"common_name\":\"c\",\"ttl\":\"-1h\"}"), &b, &e), -1);
	expect_err(&e, ERR_INVALID_TTL, "ttl");
}

static void
test_revoke(void **state)
{
	struct api_revoke_body b;
	struct err e;

	(void)state;
	assert_int_equal(api_decode_revoke(NULL, 0, &b, &e), 0);
	assert_int_equal(b.reason, REASON_UNSPECIFIED);
	assert_int_equal(api_decode_revoke(S("{}"), &b, &e), 0);
	assert_int_equal(b.reason, REASON_UNSPECIFIED);
	assert_int_equal(api_decode_revoke(S("{\"reason\":\"keyCompromise\"}"),
	    &b, &e), 0);
	assert_int_equal(b.reason, REASON_KEY_COMPROMISE);
	assert_int_equal(api_decode_revoke(S("{\"reason\":\"superseded\"}"),
	    &b, &e), 0);
	assert_int_equal(b.reason, REASON_SUPERSEDED);
	assert_int_equal(api_decode_revoke(S("{\"reason\":\"bored\"}"), &b,
	    &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "field 'reason'");
	assert_int_equal(api_decode_revoke(S("{\"reason\":4}"), &b, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "field 'reason' must be a string");
	assert_int_equal(api_decode_revoke(S("{\"why\":\"x\"}"), &b, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "unknown field 'why'");
	assert_int_equal(api_decode_revoke(S("{"), &b, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_JSON);
}

static void
test_token_ok(void **state)
{
	struct api_token_body b;
	struct err e;

	(void)state;
	assert_int_equal(api_decode_token(S("{\"kind\":\"enroll\","
	    "\"profile\":\"redis-client\",\"names\":[\"app-*\",\"10.0.0.0/8\"],"
	    "\"uses\":3,\"ttl\":\"1h\",\"max_cert_ttl\":\"24h\","
	    "\"description\":\"deploy\"}"), &b, &e), 0);
	assert_int_equal(b.req.kind, TOKEN_ENROLL);
	assert_string_equal(b.req.profile, "redis-client");
	assert_int_equal(b.req.npatterns, 2);
	assert_ptr_equal(b.req.patterns, b.patterns);
	assert_string_equal(b.req.patterns[0], "app-*");
	assert_string_equal(b.req.patterns[1], "10.0.0.0/8");
	assert_int_equal(b.req.uses, 3);
	assert_int_equal(b.req.ttl, 3600);
	assert_int_equal(b.req.max_cert_ttl, 86400);
	assert_string_equal(b.req.description, "deploy");
	api_token_body_free(&b);
	/* kind defaults to enroll, uses to 1; optional nulls. */
	assert_int_equal(api_decode_token(S("{\"profile\":\"p\",\"names\":"
	    "[\"a\"],\"max_cert_ttl\":null,\"description\":null}"), &b, &e), 0);
	assert_int_equal(b.req.kind, TOKEN_ENROLL);
	assert_int_equal(b.req.uses, 1);
	assert_int_equal(b.req.max_cert_ttl, 0);
	assert_null(b.req.description);
	api_token_body_free(&b);
	/* An admin token needs neither profile nor names. */
	assert_int_equal(api_decode_token(S("{\"kind\":\"admin\"}"), &b, &e),
	    0);
	assert_int_equal(b.req.kind, TOKEN_ADMIN);
	assert_int_equal(b.req.npatterns, 0);
	/* No ttl: 0, the service's default for the kind. */
	assert_int_equal(b.req.ttl, 0);
	api_token_body_free(&b);
	/* "never" is spelled out; the service decides who may say it. */
	assert_int_equal(api_decode_token(S("{\"kind\":\"admin\","
	    "\"ttl\":\"never\"}"), &b, &e), 0);
	assert_int_equal(b.req.ttl, SVC_TOKEN_TTL_NEVER);
	api_token_body_free(&b);
	assert_int_equal(api_decode_token(S("{\"profile\":\"p\",\"names\":"
	    "[\"a\"],\"ttl\":\"never\"}"), &b, &e), 0);
	assert_int_equal(b.req.ttl, SVC_TOKEN_TTL_NEVER);
	api_token_body_free(&b);
}

static void
test_token_errors(void **state)
{
	struct api_token_body b;
	struct err e;
	char buf[2048], *p;

	(void)state;
	assert_int_equal(api_decode_token(S("{\"names\":[\"a\"]}"), &b, &e),
	    -1);
	expect_err(&e, ERR_INVALID_REQUEST, "missing field 'profile'");
	assert_int_equal(api_decode_token(S("{\"profile\":\"p\"}"), &b, &e),
	    -1);
	expect_err(&e, ERR_INVALID_REQUEST, "missing field 'names'");
	assert_int_equal(api_decode_token(S("{\"profile\":\"p\",\"names\":"
	    "[\"a\"],\"uses\":\"3\"}"), &b, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "field 'uses' must be an integer");
	assert_int_equal(api_decode_token(S("{\"profile\":\"p\",\"names\":"
	    "[\"a\", null]}"), &b, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST,
	    "field 'names[1]' must be a string");
	assert_int_equal(api_decode_token(S("{\"kind\":\"root\"}"), &b, &e),
	    -1);
	expect_err(&e, ERR_INVALID_REQUEST, "field 'kind'");
	assert_int_equal(api_decode_token(S("{\"profile\":\"p\",\"names\":"
	    "[\"a\"],\"token\":\"rca_x\"}"), &b, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "unknown field 'token'");
	assert_int_equal(api_decode_token(S("{\"profile\":\"p\",\"names\":"
	    "[\"a\"],\"ttl\":\"forever\"}"), &b, &e), -1);
	expect_err(&e, ERR_INVALID_TTL, "field 'ttl'");
	assert_int_equal(api_decode_token(S("{\"profile\":\"p\",\"names\":"
	    "[\"a\"],\"max_cert_ttl\":\"0s\"}"), &b, &e), -1);
	expect_err(&e, ERR_INVALID_TTL, "field 'max_cert_ttl'");
	/* More patterns than the named limit. */
	p = buf + sprintf(buf, "{\"profile\":\"p\",\"names\":[");
	for (int i = 0; i <= RCA_MAX_PATTERNS; i++)
		p += sprintf(p, "%s\"n%d\"", i ? "," : "", i);
	sprintf(p, "]}");
	assert_int_equal(api_decode_token(buf, strlen(buf), &b, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "field 'names'");
}

static void
test_node_ok(void **state)
{
	struct api_node_body b;
	struct err e;

	(void)state;
	assert_int_equal(api_decode_node(S("{\"name\":\"n1\",\"host\":"
	    "\"10.0.0.7\",\"port\":6379,\"cert_dir\":\"/tls\"}"), &b, &e),
	    0);
	assert_string_equal(b.req.name, "n1");
	assert_string_equal(b.req.host, "10.0.0.7");
	assert_int_equal(b.req.port, 6379);
	assert_string_equal(b.req.cert_dir, "/tls");
	assert_null(b.req.sans);
	assert_null(b.req.auth_username);
	assert_int_equal(b.req.ttl, 0);
	api_node_body_free(&b);
	assert_int_equal(api_decode_node(S("{\"name\":\"n1\",\"host\":"
	    "\"h\",\"port\":1,\"cert_dir\":\"/tls\",\"sans\":{\"dns\":"
	    "[\"n1.example\"],\"ip\":[\"10.0.0.7\"]},\"ttl\":\"7d\","
	    "\"auth\":{\"username\":\"ca\",\"password_file\":\"/pw\"},"
	    "\"profile\":\"redis-node\",\"server_name\":null}"), &b, &e), 0);
	/* The request points at the body's own names, moved along. */
	assert_ptr_equal(b.req.sans, &b.sans);
	assert_int_equal(b.sans.n[NAME_DNS], 1);
	assert_string_equal(b.sans.list[NAME_IP][0], "10.0.0.7");
	assert_int_equal(b.req.ttl, 7 * 86400);
	assert_string_equal(b.req.auth_username, "ca");
	assert_string_equal(b.req.auth_password_file, "/pw");
	assert_string_equal(b.req.profile, "redis-node");
	assert_null(b.req.server_name);
	api_node_body_free(&b);
	api_node_body_free(NULL);
}

static void
test_node_errors(void **state)
{
	struct api_node_body b;
	struct err e;

	(void)state;
	assert_int_equal(api_decode_node(S("{\"name\":\"n1\",\"port\":1,"
	    "\"cert_dir\":\"/tls\"}"), &b, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "missing field 'host'");
	assert_int_equal(api_decode_node(S("{\"name\":\"n1\",\"host\":"
	    "\"h\",\"port\":0,\"cert_dir\":\"/tls\"}"), &b, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "field 'port' must be 1 to 65535");
	assert_int_equal(api_decode_node(S("{\"name\":\"n1\",\"host\":"
	    "\"h\",\"port\":1,\"cert_dir\":\"/tls\",\"sans\":{\"uri\":"
	    "[]}}"), &b, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "unknown field 'sans.uri'");
	assert_int_equal(api_decode_node(S("{\"name\":\"n1\",\"host\":"
	    "\"h\",\"port\":1,\"cert_dir\":\"/tls\",\"sans\":{\"dns\":"
	    "[7]}}"), &b, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "field 'sans.dns[0]' must be a "
	    "string");
	assert_int_equal(api_decode_node(S("{\"name\":\"n1\",\"host\":"
	    "\"h\",\"port\":1,\"cert_dir\":\"/tls\",\"auth\":{\"user\":"
	    "\"x\"}}"), &b, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "unknown field 'auth.user'");
	assert_int_equal(api_decode_node(S("{\"name\":\"n1\",\"host\":"
	    "\"h\",\"port\":1,\"cert_dir\":\"/tls\",\"ttl\":\"soon\"}"),
	    &b, &e), -1);
	expect_err(&e, ERR_INVALID_TTL, "field 'ttl' must be a duration");
	assert_int_equal(api_decode_node(S("[1]"), &b, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "must be a JSON object");
}

/* A test cursor: one to three letters. */
static bool
short_name(const char *s)
{
	return strlen(s) <= 3;
}

static void
test_after(void **state)
{
	const char *a = "x";
	struct err e;

	(void)state;
	assert_int_equal(api_decode_after(NULL, short_name, &a, &e), 0);
	assert_null(a);
	a = "x";
	assert_int_equal(api_decode_after("", short_name, &a, &e), 0);
	assert_null(a);
	assert_int_equal(api_decode_after("abc", short_name, &a, &e), 0);
	assert_string_equal(a, "abc");
	assert_int_equal(api_decode_after("abcd", short_name, &a, &e), -1);
	assert_null(a);
	expect_err(&e, ERR_INVALID_REQUEST,
	    "query parameter 'after' must be a cursor from 'next'");
}

static void
test_content_type(void **state)
{
	(void)state;
	assert_true(api_is_json_type("application/json"));
	assert_true(api_is_json_type("Application/JSON"));
	assert_true(api_is_json_type("application/json; charset=utf-8"));
	assert_true(api_is_json_type("application/json;charset=UTF-8"));
	assert_true(api_is_json_type(" application/json "));
	assert_false(api_is_json_type(NULL));
	assert_false(api_is_json_type(""));
	assert_false(api_is_json_type("text/plain"));
	assert_false(api_is_json_type("application/jsonx"));
	assert_false(api_is_json_type("application/json-seq"));
	assert_false(api_is_json_type("application/x-www-form-urlencoded"));
}

static void
test_limit_cursor(void **state)
{
	struct err e;
	size_t l;
	int64_t c;

	(void)state;
	assert_int_equal(api_decode_limit(NULL, &l, &e), 0);
	assert_int_equal(l, RCA_DEFAULT_LIST_LIMIT);
	assert_int_equal(api_decode_limit("", &l, &e), 0);
	assert_int_equal(l, RCA_DEFAULT_LIST_LIMIT);
	assert_int_equal(api_decode_limit("1", &l, &e), 0);
	assert_int_equal(l, 1);
	assert_int_equal(api_decode_limit("1000", &l, &e), 0);
	assert_int_equal(l, 1000);
	assert_int_equal(api_decode_limit("0", &l, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "'limit'");
	assert_int_equal(api_decode_limit("1001", &l, &e), -1);
	assert_int_equal(api_decode_limit("-5", &l, &e), -1);
	assert_int_equal(api_decode_limit("10x", &l, &e), -1);
	assert_int_equal(api_decode_limit("99999999999999999999999", &l, &e),
	    -1);
	assert_int_equal(api_decode_cursor(NULL, &c, &e), 0);
	assert_int_equal(c, 0);
	assert_int_equal(api_decode_cursor("42", &c, &e), 0);
	assert_int_equal(c, 42);
	assert_int_equal(api_decode_cursor("4x", &c, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "'after'");
	assert_int_equal(api_decode_cursor("99999999999999999999999", &c, &e),
	    -1);
}

static void
test_cert_query(void **state)
{
	struct api_cert_query q = { 0 };
	struct cert_filter f;
	struct err e;

	(void)state;
	assert_int_equal(api_decode_cert_query(&q, 1000, &f, &e), 0);
	assert_int_equal(f.status, -1);
	assert_null(f.profile);
	assert_int_equal(f.limit, RCA_DEFAULT_LIST_LIMIT);
	assert_int_equal(f.now, 1000);
	assert_int_equal(f.after, 0);
	assert_int_equal(f.expires_before, 0);
	q.status = "revoked";
	q.profile = "redis-node";
	q.common_name = "r1";
	q.node = "";
	q.expires_before = "2026-11-28T01:00:00Z";
	q.limit = "10";
	q.after = "7";
	assert_int_equal(api_decode_cert_query(&q, 1000, &f, &e), 0);
	assert_int_equal(f.status, CERT_REVOKED);
	assert_string_equal(f.profile, "redis-node");
	assert_string_equal(f.common_name, "r1");
	assert_null(f.node);
	assert_int_equal(f.expires_before, 1795827600);
	assert_int_equal(f.limit, 10);
	assert_int_equal(f.after, 7);
	q.status = "bogus";
	assert_int_equal(api_decode_cert_query(&q, 1000, &f, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "'status'");
	q.status = NULL;
	q.expires_before = "tomorrow";
	assert_int_equal(api_decode_cert_query(&q, 1000, &f, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "'expires_before'");
	q.expires_before = NULL;
	q.limit = "0";
	assert_int_equal(api_decode_cert_query(&q, 1000, &f, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "'limit'");
	q.limit = NULL;
	q.after = "x";
	assert_int_equal(api_decode_cert_query(&q, 1000, &f, &e), -1);
	expect_err(&e, ERR_INVALID_REQUEST, "'after'");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_load),
		cmocka_unit_test(test_json_depth),
		cmocka_unit_test(test_issue_ok),
		cmocka_unit_test(test_issue_errors),
		cmocka_unit_test(test_generate_ok),
		cmocka_unit_test(test_generate_errors),
		cmocka_unit_test(test_revoke),
		cmocka_unit_test(test_token_ok),
		cmocka_unit_test(test_token_errors),
		cmocka_unit_test(test_node_ok),
		cmocka_unit_test(test_node_errors),
		cmocka_unit_test(test_after),
		cmocka_unit_test(test_content_type),
		cmocka_unit_test(test_limit_cursor),
		cmocka_unit_test(test_cert_query),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
