/*
 * Tests for service/audit_tls.c: the TLS audit against real
 * redis-servers, one configured from svc_node_redis_conf() (every check
 * passes) and one with legacy settings (the matching checks fail), plus
 * the CLI form without a node record.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "redisfx.h"

#define LEGACY \
	"tls-protocols \"TLSv1 TLSv1.1 TLSv1.2\"\n" \
	"tls-ciphers \"DEFAULT:@SECLEVEL=0\"\n" \
	"tls-auth-clients no\n"

static void
show(const struct svc_check_result *res)
{
	print_message("audit: %s\n", res->ok ? "ok" : "FAILED");
	for (size_t i = 0; i < res->n; i++)
		print_message("  %-28s %s %s\n", res->checks[i].id,
		    res->checks[i].ok ? "ok  " : "FAIL", res->checks[i].detail);
}

/* The check named id, or a failed test. */
static const struct svc_check *
check(const struct svc_check_result *res, const char *id)
{
	for (size_t i = 0; i < res->n; i++)
		if (strcmp(res->checks[i].id, id) == 0)
			return &res->checks[i];
	fail_msg("no check %s", id);
	return NULL;
}

static bool
has(const struct svc_check_result *res, const char *id)
{
	for (size_t i = 0; i < res->n; i++)
		if (strcmp(res->checks[i].id, id) == 0)
			return true;
	return false;
}

/* A node started from its own redis.conf block. */
static void
conf_node(struct rfx *r, struct rfx_node *n, const char *name)
{
	struct err	 e;
	char		*text = NULL, full[8192];

	err_clear(&e);
	rfx_node_init(r, n, name);
	rfx_register(r, n, NULL, NULL, NULL);
	assert_int_equal(svc_node_redis_conf(r->f->svc, name, &text, &e), 0);
	snprintf(full, sizeof(full), "%sbind 127.0.0.1\n", text);
	free(text);
	rfx_start(n, full);
}

static void
test_recommended_passes(void **state)
{
	struct rfx		*r = *state;
	struct rfx_node		 n;
	struct svc_check_result	 res;
	struct rotation_rec	 rec;
	struct err		 e;
	static const char *const ids[] = { "tls10_refused", "tls11_refused",
	    "tls12_accepted", "tls13_accepted", "weak_ciphers_refused",
	    "forward_secrecy_only", "client_cert_required", "chain_valid",
	    "hostname_matches", "key_strength",
	    "signature_sha256_or_better", "days_to_expiry",
	    "serves_recorded_serial" };

	err_clear(&e);
	conf_node(r, &n, "good");

	/* Never rotated: nothing recorded to compare with. */
	assert_int_equal(svc_node_check(r->f->svc, "good", &res, &e), 0);
	show(&res);
	assert_false(res.ok);
	assert_false(check(&res, "serves_recorded_serial")->ok);

	if (svc_rotate(r->f->svc, &r->f->admin, "good", &rec, &e) == -1)
		fail_msg("rotate: %s", e.msg);
	assert_int_equal(svc_node_check(r->f->svc, "good", &res, &e), 0);
	show(&res);
	assert_int_equal(res.n, sizeof(ids) / sizeof(ids[0]));
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		assert_true(check(&res, ids[i])->ok);
	assert_true(res.ok);
	assert_non_null(strstr(check(&res, "serves_recorded_serial")->detail,
	    rec.new_serial));

	assert_int_equal(svc_node_check(r->f->svc, "nope", &res, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	rfx_stop(&n);

	/* Down: an answer about the node, one failed "reachable" check
	 * saying why (what the API shows as 200). */
	assert_int_equal(svc_node_check(r->f->svc, "good", &res, &e), 0);
	assert_int_equal(e.code, ERR_OK);
	assert_false(res.ok);
	assert_int_equal(res.n, 1);
	assert_string_equal(res.checks[0].id, "reachable");
	assert_false(res.checks[0].ok);
	assert_true(res.checks[0].detail[0] != '\0');
	/* The same without a struct err. */
	assert_int_equal(svc_node_check(r->f->svc, "good", &res, NULL), 0);
	assert_string_equal(res.checks[0].id, "reachable");
	assert_int_equal(svc_node_check(r->f->svc, "nope", &res, NULL), -1);
}

static void
test_legacy_fails(void **state)
{
	struct rfx		*r = *state;
	struct rfx_node		 n;
	struct svc_check_target	 t;
	struct svc_check_result	 res;
	struct err		 e;

	err_clear(&e);
	rfx_node_up(r, &n, "legacy", LEGACY);

	/* The CLI form: no node record, so no serial check. */
	memset(&t, 0, sizeof(t));
	t.host = "127.0.0.1";
	t.port = n.port;
	t.ca_file = r->f->cert;
	t.cert_file = r->admin_crt;
	t.key_file = r->admin_key;
	assert_int_equal(svc_check_run(&t, &res, &e), 0);
	show(&res);
	assert_false(res.ok);
	assert_false(check(&res, "tls10_refused")->ok);
	assert_false(check(&res, "tls11_refused")->ok);
	assert_false(check(&res, "client_cert_required")->ok);
	assert_true(check(&res, "tls12_accepted")->ok);
	/* TLS 1.3 is off, but TLS 1.2 is enough. */
	assert_true(check(&res, "tls13_accepted")->ok);
	assert_non_null(strstr(check(&res, "tls13_accepted")->detail,
	    "TLS 1.2 is accepted"));
	assert_true(check(&res, "chain_valid")->ok);
	assert_true(check(&res, "hostname_matches")->ok);
	assert_true(check(&res, "key_strength")->ok);
	assert_true(check(&res, "signature_sha256_or_better")->ok);
	assert_true(check(&res, "days_to_expiry")->ok);
	assert_false(has(&res, "serves_recorded_serial"));
	rfx_stop(&n);
}

/* The CLI form against a good node: wrong trust, name, expectations. */
static void
test_cli_form(void **state)
{
	struct rfx		*r = *state;
	struct rfx_node		 n;
	struct svc_check_target	 t;
	struct svc_check_result	 res;
	struct err		 e;

	err_clear(&e);
	conf_node(r, &n, "cli");
	memset(&t, 0, sizeof(t));
	t.host = "127.0.0.1";
	t.port = n.port;
	t.ca_file = r->f->cert;

	/* No client certificate: TLS 1.3 still shows the certificate. */
	assert_int_equal(svc_check_run(&t, &res, &e), 0);
	show(&res);
	assert_true(check(&res, "client_cert_required")->ok);
	assert_true(check(&res, "tls13_accepted")->ok);
	assert_true(check(&res, "tls12_accepted")->ok);
	assert_true(check(&res, "chain_valid")->ok);
	assert_true(check(&res, "tls10_refused")->ok);

	/* Another name, another trust anchor, an expected serial. */
	t.server_name = "redis.other.example";
	t.ca_file = r->admin_crt;	/* not a CA of this chain */
	t.expect_serial = "abc";
	t.min_remaining = 400 * 86400;
	assert_int_equal(svc_check_run(&t, &res, &e), 0);
	show(&res);
	assert_false(res.ok);
	assert_false(check(&res, "hostname_matches")->ok);
	assert_false(check(&res, "chain_valid")->ok);
	assert_false(check(&res, "serves_recorded_serial")->ok);
	assert_false(check(&res, "days_to_expiry")->ok);
	assert_non_null(strstr(check(&res, "serves_recorded_serial")->detail,
	    n.serial));

	/* Bad targets. */
	t.port = 0;
	assert_int_equal(svc_check_run(&t, &res, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	t.port = n.port;
	t.ca_file = NULL;
	assert_int_equal(svc_check_run(&t, &res, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	rfx_stop(&n);
	t.ca_file = r->f->cert;
	assert_int_equal(svc_check_run(&t, &res, &e), -1);
	assert_int_equal(e.code, ERR_NET);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_recommended_passes,
		    rfx_setup, rfx_teardown),
		cmocka_unit_test_setup_teardown(test_legacy_fails,
		    rfx_setup, rfx_teardown),
		cmocka_unit_test_setup_teardown(test_cli_form,
		    rfx_setup, rfx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
