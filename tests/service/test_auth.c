/*
 * Tests of service/auth.c: bearer tokens (client certificates are
 * authenticated in test_renew.c, next to the renewals they allow).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "fixture.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_auth_token, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_auth_expired, fx_setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
