/* Tests of api/encode.c: certificate, token and audit objects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api_priv.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cert_valid),
		cmocka_unit_test(test_cert_revoked),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_audit),
		cmocka_unit_test(test_http_date),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
