/* Tests of service/svc.c: opening, token authentication, audit, stats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "fixture.h"
#include "timeutil.h"

static void
test_auth_token(void **state)
{
	struct fx		*f = *state;
	struct svc_actor	 a, tok;
	struct err		 e;
	char			 secret[FX_TOKEN_LEN], bad[FX_TOKEN_LEN];

	err_clear(&e);
	/* The fixture's admin token authenticates as admin:<id>. */
	assert_int_equal(svc_auth_token(f->svc, f->admin_token, &a, &e), 0);
	assert_int_equal(a.kind, ACTOR_ADMIN);
	assert_true(strncmp(a.id, "admin:", 6) == 0);
	assert_string_equal(a.id + 6, a.token.id);
	assert_int_equal(a.token.kind, TOKEN_ADMIN);
	svc_actor_clear(&a);

	/* An enroll token authenticates as token:<id> with its bounds. */
	fx_enroll(f, "redis-client", "app-*", 2, 3600, 600, &tok, secret);
	assert_true(strncmp(tok.id, "token:", 6) == 0);
	assert_string_equal(tok.token.profile, "redis-client");
	assert_int_equal(tok.token.npatterns, 1);
	assert_string_equal(tok.token.patterns[0], "app-*");
	assert_int_equal(tok.token.max_cert_ttl, 600);
	svc_actor_clear(&tok);

	/* One character changed in the secret part. */
	memcpy(bad, secret, sizeof(bad));
	bad[10] = bad[10] == 'a' ? 'b' : 'a';
	assert_int_equal(svc_auth_token(f->svc, bad, &a, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	assert_int_equal(a.kind, ACTOR_NONE);
	/* Wrong prefix, wrong length, garbage, nothing. */
	memcpy(bad, secret, sizeof(bad));
	bad[0] = 'x';
	assert_int_equal(svc_auth_token(f->svc, bad, &a, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	bad[0] = 'r';
	bad[FX_TOKEN_LEN - 2] = '\0';
	assert_int_equal(svc_auth_token(f->svc, bad, &a, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	assert_int_equal(svc_auth_token(f->svc, "rca_", &a, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	assert_int_equal(svc_auth_token(f->svc, NULL, &a, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	/* A well-formed token nobody issued. */
	snprintf(bad, sizeof(bad), "rca_%064d", 0);
	assert_int_equal(svc_auth_token(f->svc, bad, &a, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	/* The token never appears in the message. */
	assert_null(strstr(e.msg, "rca_"));
}

static void
test_auth_expired(void **state)
{
	struct fx		*f = *state;
	struct svc_actor	 a, tok;
	struct err		 e;
	char			 secret[FX_TOKEN_LEN];

	err_clear(&e);
	fx_enroll(f, "redis-client", "app-*", 1, 1, 0, &tok, secret);
	svc_actor_clear(&tok);
	tclock_advance(2);
	assert_int_equal(svc_auth_token(f->svc, secret, &a, &e), -1);
	tclock_real();
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	assert_non_null(strstr(e.msg, "expired"));
}

static void
test_audit_denied(void **state)
{
	struct fx		*f = *state;
	struct svc_actor	 anon;
	struct err		 why;

	svc_actor_init(&anon, ACTOR_NONE);
	assert_string_equal(anon.id, "anonymous");
	err_set(&why, ERR_UNAUTHORIZED, "missing token");
	svc_audit_denied(f->svc, &anon, "certificate.issue", "", &why);
	assert_true(fx_audit_has(f, "certificate.issue", "denied", "",
	    "unauthorized: missing token"));
	svc_audit_denied(f->svc, NULL, "token.create", "x", NULL);
	assert_true(fx_audit_has(f, "token.create", "denied", "x", NULL));
	/* Actors of the scheduler and the CLI. */
	svc_actor_init(&anon, ACTOR_SCHEDULER);
	assert_string_equal(anon.id, "scheduler");
	svc_actor_clear(&anon);
	svc_actor_clear(NULL);
}

static void
test_ready_stats_info(void **state)
{
	struct fx		*f = *state;
	struct svc_issue_req	 req;
	struct svc_issued	 out;
	struct svc_stats	 st;
	struct svc_ca_info	 ci;
	struct err		 e;
	char			*csr = fx_csr("app-1", "app-1.internal", NULL);
	bool			 seen = false;

	err_clear(&e);
	assert_true(svc_ready(f->svc));
	assert_false(svc_ready(NULL));
	assert_non_null(svc_profile(f->svc, "redis-node"));
	assert_true(svc_profile(f->svc, "redis-node")->require_san);
	assert_null(svc_profile(f->svc, "redis"));
	assert_null(svc_profile(f->svc, NULL));

	svc_ca_info(f->svc, &ci);
	assert_non_null(strstr(ci.pem, "BEGIN CERTIFICATE"));
	assert_int_equal(strlen(ci.fingerprint), RCA_SHA256_HEX);
	assert_int_equal(ci.key_type, KEY_EC_P256);
	assert_true(ci.not_after > tu_now() + 3600 * 24 * 3000);

	memset(&req, 0, sizeof(req));
	req.profile = "redis-client";
	req.csr_pem = csr;
	req.csr_len = strlen(csr);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(svc_issue(f->svc, &f->admin, &req, &out, &e),
		    0);
		if (i == 0)
			assert_int_equal(svc_revoke(f->svc, &f->admin,
			    out.cert.serial, REASON_UNSPECIFIED, NULL, NULL,
			    &e), 0);
		svc_issued_clear(&out);
	}
	assert_int_equal(svc_stats(f->svc, &st, &e), 0);
	for (size_t i = 0; i < st.nprofiles; i++)
		if (strcmp(st.profiles[i].profile, "redis-client") == 0) {
			assert_int_equal(st.profiles[i].issued, 3);
			assert_int_equal(st.profiles[i].active, 2);
			seen = true;
		}
	assert_true(seen);
	assert_int_equal(st.revoked_total, 1);
	assert_int_equal(st.crl_number, 2);
	assert_true(st.crl_next_update > tu_now());
	assert_int_equal(st.ca_not_after, ci.not_after);
	svc_stats_clear(&st);
	svc_stats_clear(NULL);
	free(csr);
}

static void
test_open_errors(void **state)
{
	struct fx		*f = *state;
	struct svc_config	 c = f->cfg;
	struct err		 e;
	char			 path[300];

	err_clear(&e);
	assert_null(svc_open(NULL, &e));
	assert_int_equal(e.code, ERR_CONFIG);
	c.crl_refresh_before = c.crl_validity;
	assert_null(svc_open(&c, &e));
	assert_int_equal(e.code, ERR_CONFIG);
	c = f->cfg;
	c.nprofiles = RCA_MAX_PROFILES + 1;
	assert_null(svc_open(&c, &e));
	assert_int_equal(e.code, ERR_CONFIG);
	/* The CA key must exist; ca_load's error comes back. */
	c = f->cfg;
	snprintf(path, sizeof(path), "%s/missing.key", f->dir);
	c.ca_key = path;
	assert_null(svc_open(&c, &e));
	assert_int_equal(e.code, ERR_IO);
	/* The database folder must exist. */
	c = f->cfg;
	snprintf(path, sizeof(path), "%s/no/such/dir/x.db", f->dir);
	c.database = path;
	assert_null(svc_open(&c, &e));
	assert_true(e.code == ERR_DB || e.code == ERR_IO);
	svc_close(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_auth_token, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_auth_expired, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_audit_denied, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_ready_stats_info,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, fx_setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
