/*
 * Tests of api/encode.c: certificate, token, audit, node and rotation
 * objects, and the page of a list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api_ca.h"

#define T0 1795827600	/* 2026-11-28T01:00:00Z */

static void
fill_cert(struct cert_rec *c)
{
	struct err e;

	memset(c, 0, sizeof(*c));
	strcpy(c->serial, "5f3a");
	strcpy(c->profile, "redis-client");
	assert_int_equal(names_set_cn(&c->names, "app", &e), 0);
	assert_int_equal(names_add(&c->names, NAME_DNS, "app.example", &e), 0);
	assert_int_equal(names_add(&c->names, NAME_IP, "10.0.0.1", &e), 0);
	c->key_type = KEY_EC_P256;
	c->not_before = T0 - 60;
	c->not_after = T0 + 3600;
	c->reason = -1;
	strcpy(c->fingerprint, "ab");
	strcpy(c->issued_by, "token:0011");
	c->pem = strdup("-----BEGIN CERTIFICATE-----\n");
	assert_non_null(c->pem);
}

static const char *
str(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	assert_true(json_is_string(v));
	return json_string_value(v);
}

static void
test_cert_valid(void **state)
{
	struct cert_rec c;
	json_t *o, *sans;

	(void)state;
	fill_cert(&c);
	o = api_enc_cert(&c, T0);
	assert_non_null(o);
	assert_int_equal(json_object_size(o), 14);
	assert_string_equal(str(o, "serial"), "5f3a");
	assert_string_equal(str(o, "profile"), "redis-client");
	assert_string_equal(str(o, "common_name"), "app");
	assert_string_equal(str(o, "key_type"), "ec-p256");
	assert_string_equal(str(o, "not_before"), "2026-11-28T00:59:00Z");
	assert_string_equal(str(o, "not_after"), "2026-11-28T02:00:00Z");
	assert_string_equal(str(o, "status"), "valid");
	assert_true(json_is_null(json_object_get(o, "revoked_at")));
	assert_true(json_is_null(json_object_get(o, "revocation_reason")));
	assert_true(json_is_null(json_object_get(o, "node")));
	assert_string_equal(str(o, "fingerprint_sha256"), "ab");
	assert_string_equal(str(o, "issued_by"), "token:0011");
	assert_string_equal(str(o, "certificate"),
	    "-----BEGIN CERTIFICATE-----\n");
	sans = json_object_get(o, "sans");
	assert_int_equal(json_object_size(sans), 3);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(sans, "dns"), 0)), "app.example");
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(sans, "ip"), 0)), "10.0.0.1");
	assert_int_equal(json_array_size(json_object_get(sans, "uri")), 0);
	json_decref(o);
	/* Past notAfter. */
	o = api_enc_cert(&c, T0 + 7200);
	assert_string_equal(str(o, "status"), "expired");
	json_decref(o);
	cert_rec_clear(&c);
}

static void
test_cert_revoked(void **state)
{
	struct cert_rec c;
	json_t *o;

	(void)state;
	fill_cert(&c);
	c.revoked_at = T0 + 10;
	c.reason = REASON_KEY_COMPROMISE;
	strcpy(c.node, "redis-1");
	o = api_enc_cert(&c, T0 + 20);
	assert_non_null(o);
	assert_string_equal(str(o, "status"), "revoked");
	assert_string_equal(str(o, "revoked_at"), "2026-11-28T01:00:10Z");
	assert_string_equal(str(o, "revocation_reason"), "keyCompromise");
	assert_string_equal(str(o, "node"), "redis-1");
	json_decref(o);
	cert_rec_clear(&c);
}

static void
test_token(void **state)
{
	char *pats[] = { "app-*", "10.0.0.0/8" };
	struct token_rec t;
	json_t *o;

	(void)state;
	memset(&t, 0, sizeof(t));
	strcpy(t.id, "0123456789abcdef");
	t.kind = TOKEN_ENROLL;
	strcpy(t.profile, "redis-client");
	t.patterns = pats;
	t.npatterns = 2;
	t.uses_left = 3;
	t.expires_at = T0;
	t.created_at = T0 - 3600;
	t.max_cert_ttl = 86400;
	t.description = (char *)"deploy";
	memset(t.hash, 0xaa, sizeof(t.hash));
	o = api_enc_token(&t);
	assert_non_null(o);
	assert_int_equal(json_object_size(o), 9);
	assert_string_equal(str(o, "id"), "0123456789abcdef");
	assert_string_equal(str(o, "kind"), "enroll");
	assert_string_equal(str(o, "profile"), "redis-client");
	assert_int_equal(json_array_size(json_object_get(o, "names")), 2);
	assert_int_equal(json_integer_value(json_object_get(o, "uses_left")),
	    3);
	assert_string_equal(str(o, "expires_at"), "2026-11-28T01:00:00Z");
	assert_string_equal(str(o, "created_at"), "2026-11-28T00:00:00Z");
	assert_string_equal(str(o, "description"), "deploy");
	assert_string_equal(str(o, "max_cert_ttl"), "1d");
	assert_null(json_object_get(o, "hash"));
	assert_null(json_object_get(o, "token"));
	json_decref(o);
	/* Unlimited, never expiring admin token. */
	memset(&t, 0, sizeof(t));
	strcpy(t.id, "ff");
	t.kind = TOKEN_ADMIN;
	t.uses_left = -1;
	o = api_enc_token(&t);
	assert_true(json_is_null(json_object_get(o, "uses_left")));
	assert_true(json_is_null(json_object_get(o, "expires_at")));
	assert_true(json_is_null(json_object_get(o, "profile")));
	assert_true(json_is_null(json_object_get(o, "description")));
	assert_true(json_is_null(json_object_get(o, "max_cert_ttl")));
	assert_string_equal(str(o, "kind"), "admin");
	json_decref(o);
}

static void
test_audit(void **state)
{
	struct audit_rec a = { 0 };
	json_t *o;

	(void)state;
	a.id = 9;
	a.at = T0;
	strcpy(a.actor, "anonymous");
	strcpy(a.action, "certificate.issue");
	strcpy(a.object, "");
	a.outcome = AUDIT_DENIED;
	strcpy(a.detail, "bad \xff bytes");
	o = api_enc_audit(&a);
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "id")), 9);
	assert_string_equal(str(o, "at"), "2026-11-28T01:00:00Z");
	assert_string_equal(str(o, "outcome"), "denied");
	assert_string_equal(str(o, "action"), "certificate.issue");
	/* Bytes that are not UTF-8 do not sink the response. */
	assert_string_equal(str(o, "detail"), "(not UTF-8)");
	json_decref(o);
}

/* A node with SANs and a rotation behind it. */
static void
fill_node(struct svc_node_view *v)
{
	struct rotation_rec *r = &v->last_rotation;
	struct err e;

	memset(v, 0, sizeof(*v));
	strcpy(v->node.name, "n1");
	strcpy(v->node.host, "10.0.0.7");
	v->node.port = 6379;
	assert_int_equal(names_add(&v->node.sans, NAME_DNS, "n1.example",
	    &e), 0);
	strcpy(v->node.cert_dir, "/etc/redis/tls");
	strcpy(v->node.cert_file, "redis.crt");
	strcpy(v->node.key_file, "redis.key");
	strcpy(v->node.ca_file, "ca.crt");
	strcpy(v->node.profile, "redis-node");
	v->node.ttl = 86400;
	strcpy(v->node.current_serial, "0a");
	v->node.not_after = T0 + 3600;
	v->node.created_at = T0;
	v->status = NODE_OK;
	v->expires_in_seconds = 3600;
	v->has_last_rotation = true;
	r->id = 3;
	strcpy(r->node, "n1");
	r->status = ROT_SUCCEEDED;
	strcpy(r->new_serial, "0a");
	r->started_at = T0 - 10;
	r->finished_at = T0 - 5;
	r->nsteps = 1;
	strcpy(r->steps[0].step, "issue");
	r->steps[0].ok = true;
	strcpy(r->steps[0].detail, "serial 0a");
}

static void
test_node(void **state)
{
	struct svc_node_view v;
	json_t *o, *sans, *auth, *rot;
	char *s;

	(void)state;
	fill_node(&v);
	o = api_enc_node(&v);
	assert_non_null(o);
	/* 18 fields, and the six of SPEC section 11 (issue 13). */
	assert_int_equal(json_object_size(o), 24);
	assert_string_equal(str(o, "name"), "n1");
	/* No group: the node's own name; push; no role, report, drift. */
	assert_string_equal(str(o, "group"), "n1");
	assert_string_equal(str(o, "mode"), "push");
	assert_true(json_is_null(json_object_get(o, "role")));
	assert_true(json_is_null(json_object_get(o, "served_serial")));
	assert_true(json_is_null(json_object_get(o, "drift_since")));
	assert_true(json_is_null(json_object_get(o, "last_report_at")));
	assert_int_equal(json_integer_value(json_object_get(o, "port")),
	    6379);
	assert_true(json_is_null(json_object_get(o, "server_name")));
	assert_string_equal(str(o, "ttl"), "1d");
	assert_string_equal(str(o, "status"), "ok");
	assert_string_equal(str(o, "not_after"), "2026-11-28T02:00:00Z");
	sans = json_object_get(o, "sans");
	s = json_dumps(sans, JSON_COMPACT);
	assert_string_equal(s, "{\"dns\":[\"n1.example\"],\"ip\":[]}");
	free(s);
	auth = json_object_get(o, "auth");
	assert_true(json_is_null(json_object_get(auth, "username")));
	rot = json_object_get(o, "last_rotation");
	assert_string_equal(str(rot, "status"), "succeeded");
	assert_true(json_is_null(json_object_get(rot, "old_serial")));
	assert_int_equal(json_array_size(json_object_get(rot, "steps")), 1);
	json_decref(o);
	/* Never rotated, no certificate: nulls. */
	v.has_last_rotation = false;
	v.node.not_after = 0;
	o = api_enc_node(&v);
	assert_true(json_is_null(json_object_get(o, "last_rotation")));
	assert_true(json_is_null(json_object_get(o, "expires_in_seconds")));
	json_decref(o);
	svc_node_view_clear(&v);
}

/* A pull node in a group, drifting, with its last report. */
static void
test_node_fleet(void **state)
{
	struct svc_node_view v;
	json_t *o;

	(void)state;
	fill_node(&v);
	strcpy(v.node.group, "cache");
	v.node.mode = NODE_MODE_PULL;
	strcpy(v.node.role, "replica");
	strcpy(v.node.served_serial, "0b");
	v.node.drift_since = T0 - 60;
	v.node.last_report_at = T0 - 30;
	v.status = NODE_DRIFT;
	o = api_enc_node(&v);
	assert_non_null(o);
	assert_string_equal(str(o, "group"), "cache");
	assert_string_equal(str(o, "mode"), "pull");
	assert_string_equal(str(o, "role"), "replica");
	assert_string_equal(str(o, "served_serial"), "0b");
	assert_string_equal(str(o, "current_serial"), "0a");
	assert_string_equal(str(o, "drift_since"), "2026-11-28T00:59:00Z");
	assert_string_equal(str(o, "last_report_at"), "2026-11-28T00:59:30Z");
	assert_string_equal(str(o, "status"), "drift");
	json_decref(o);
	/* A role the API does not know is shown as unknown (null). */
	strcpy(v.node.role, "unknown");
	o = api_enc_node(&v);
	assert_true(json_is_null(json_object_get(o, "role")));
	json_decref(o);
	strcpy(v.node.role, "primary");
	o = api_enc_node(&v);
	assert_string_equal(str(o, "role"), "primary");
	json_decref(o);
	svc_node_view_clear(&v);
}

static void
test_rotation_failed(void **state)
{
	struct svc_node_view v;
	json_t *o, *err;

	(void)state;
	fill_node(&v);
	v.last_rotation.status = ROT_FAILED;
	o = api_enc_rotation_failed(&v.last_rotation, "node is down");
	assert_non_null(o);
	assert_string_equal(str(o, "status"), "failed");
	err = json_object_get(o, "error");
	assert_string_equal(str(err, "code"), "rotation_failed");
	assert_string_equal(str(err, "message"), "node is down");
	json_decref(o);
	svc_node_view_clear(&v);
}

/* A page element: an int, doubled. */
static json_t *
enc_twice(const void *item, const void *arg)
{
	(void)arg;
	return json_integer(2 * *(const int *)item);
}

static void
test_page(void **state)
{
	static const int items[] = { 1, 2, 3 };
	char cursor[API_CURSOR];
	json_t *o;
	char *s;

	(void)state;
	o = api_enc_page(items, 3, sizeof(items[0]), enc_twice, NULL,
	    api_enc_cursor(42, cursor));
	s = json_dumps(o, JSON_COMPACT);
	assert_string_equal(s, "{\"items\":[2,4,6],\"next\":\"42\"}");
	free(s);
	json_decref(o);
	/* The last page: next is null, for "" and for a 0 cursor. */
	assert_null(api_enc_cursor(0, cursor));
	o = api_enc_page(items, 0, sizeof(items[0]), enc_twice, NULL, "");
	s = json_dumps(o, JSON_COMPACT);
	assert_string_equal(s, "{\"items\":[],\"next\":null}");
	free(s);
	json_decref(o);
	o = api_enc_page(items, 1, sizeof(items[0]), enc_twice, NULL, NULL);
	s = json_dumps(o, JSON_COMPACT);
	assert_string_equal(s, "{\"items\":[2],\"next\":null}");
	free(s);
	json_decref(o);
}

static void
test_http_date(void **state)
{
	char d[API_HTTP_DATE];

	(void)state;
	api_http_date(T0, d);
	assert_string_equal(d, "Sat, 28 Nov 2026 01:00:00 GMT");
	api_http_date(0, d);
	assert_string_equal(d, "Thu, 01 Jan 1970 00:00:00 GMT");
}

/* GET /v1/ca's body: current first, a pending next, a retired one. */
static void
test_ca_body(void **state)
{
	struct svc_ca_view_ent ca[3];
	struct svc_ca_view v;
	json_t *b, *c;

	(void)state;
	memset(ca, 0, sizeof(ca));
	memset(&v, 0, sizeof(v));
	ca[0].id = 3;
	ca[0].ski = "cc";
	ca[0].state = "retired";
	ca[0].certificate = "-----BEGIN CERTIFICATE-----old";
	ca[0].chain = "";
	ca[0].anchors = "A0";
	ca[0].not_before = 1700000000;
	ca[0].not_after = 1800000000;
	strcpy(ca[0].fingerprint, "f0");
	ca[0].created_at = 1700000000;
	ca[0].activated_at = 1700000100;
	ca[0].crl_url = (char *)"http://x/v1/crl/cc";
	ca[0].certificates_unexpired = 2;
	ca[1].id = 4;
	ca[1].ski = "dd";
	ca[1].state = "current";
	ca[1].certificate = "-----BEGIN CERTIFICATE-----cur";
	ca[1].chain = "CHAIN";
	ca[1].anchors = "A1";
	ca[1].not_before = 1750000000;
	ca[1].not_after = 1900000000;
	strcpy(ca[1].fingerprint, "f1");
	ca[1].key_type = KEY_EC_P384;
	ca[1].created_at = 1750000000;
	ca[1].activated_at = 1750000100;
	ca[1].crl_url = (char *)"http://x/v1/crl/dd";
	ca[1].has_key = true;
	ca[2].id = 5;
	ca[2].ski = "ee";
	ca[2].state = "pending";
	ca[2].csr = "-----BEGIN CERTIFICATE REQUEST-----";
	ca[2].chain = "";
	ca[2].anchors = "";
	ca[2].created_at = 1760000000;
	v.ca = ca;
	v.n = 3;
	v.current = 1;
	strcpy(v.bundle_etag, "\"0123\"");
	b = api_enc_ca_body(&v);
	assert_non_null(b);
	/* The four fields of old are the current CA's. */
	assert_string_equal(json_string_value(json_object_get(b,
	    "certificate")), ca[1].certificate);
	assert_string_equal(json_string_value(json_object_get(b,
	    "fingerprint_sha256")), "f1");
	assert_string_equal(json_string_value(json_object_get(b, "key_type")),
	    "ec-p384");
	assert_string_equal(json_string_value(json_object_get(b,
	    "bundle_etag")), "\"0123\"");
	c = json_object_get(b, "current");
	assert_int_equal(json_integer_value(json_object_get(c, "id")), 4);
	assert_string_equal(json_string_value(json_object_get(c, "chain")),
	    "CHAIN");
	assert_true(json_is_true(json_object_get(c, "has_key")));
	assert_string_equal(json_string_value(json_object_get(c,
	    "crl_url")), "http://x/v1/crl/dd");
	/* The pending one: a CSR, null dates, fingerprint and CRL URL. */
	c = json_object_get(b, "next");
	assert_string_equal(json_string_value(json_object_get(c, "state")),
	    "pending");
	assert_null(json_object_get(c, "certificate"));
	assert_non_null(json_string_value(json_object_get(c, "csr")));
	assert_true(json_is_null(json_object_get(c, "not_after")));
	assert_true(json_is_null(json_object_get(c, "fingerprint_sha256")));
	assert_true(json_is_null(json_object_get(c, "crl_url")));
	assert_true(json_is_null(json_object_get(c, "activated_at")));
	/* The retired one, in the list. */
	c = json_object_get(b, "retired");
	assert_int_equal(json_array_size(c), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(c,
	    0), "certificates_unexpired")), 2);
	json_decref(b);
	/* Only a current CA: next null, retired empty. */
	v.ca = &ca[1];
	v.n = 1;
	v.current = 0;
	b = api_enc_ca_body(&v);
	assert_true(json_is_null(json_object_get(b, "next")));
	assert_int_equal(json_array_size(json_object_get(b, "retired")), 0);
	json_decref(b);
	/* No current CA: nothing to encode. */
	v.current = 1;
	assert_null(api_enc_ca_body(&v));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cert_valid),
		cmocka_unit_test(test_cert_revoked),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_audit),
		cmocka_unit_test(test_node),
		cmocka_unit_test(test_node_fleet),
		cmocka_unit_test(test_rotation_failed),
		cmocka_unit_test(test_page),
		cmocka_unit_test(test_http_date),
		cmocka_unit_test(test_ca_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
