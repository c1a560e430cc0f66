/* Tests of service/tokens.c: creating, reading, listing, deleting tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ca.h"
#include "fixture.h"
#include "timeutil.h"

static void
enroll_req(struct svc_token_req *r, char **pats, size_t n)
{
	memset(r, 0, sizeof(*r));
	r->kind = TOKEN_ENROLL;
	r->profile = "redis-client";
	r->patterns = pats;
	r->npatterns = n;
	r->uses = 3;
	r->ttl = 3600;
	r->max_cert_ttl = 7200;
	r->description = "app boot";
}

static void
test_create_enroll(void **state)
{
	struct fx		*f = *state;
	struct svc_token_req	 r;
	struct token_rec	 t, got;
	struct err		 e;
	char			*pats[2] = { "app-*", "10.0.0.0/8" };
	char			 secret[FX_TOKEN_LEN];
	unsigned char		 h[32];
	int64_t			 now = tu_now();

	err_clear(&e);
	enroll_req(&r, pats, 2);
	assert_int_equal(svc_token_create(f->svc, &f->admin, &r, &t, secret,
	    &e), 0);
	assert_int_equal(strlen(secret), FX_TOKEN_LEN - 1);
	assert_true(strncmp(secret, "rca_", 4) == 0);
	assert_int_equal(strlen(t.id), RCA_TOKEN_ID_HEX);
	assert_int_equal(t.kind, TOKEN_ENROLL);
	assert_string_equal(t.profile, "redis-client");
	assert_int_equal(t.npatterns, 2);
	assert_string_equal(t.patterns[1], "10.0.0.0/8");
	assert_int_equal(t.uses_left, 3);
	assert_true(t.expires_at >= now + 3600 && t.expires_at <= now + 3605);
	assert_int_equal(t.max_cert_ttl, 7200);
	assert_string_equal(t.description, "app boot");
	/* Only the hash of the secret is kept. */
	ca_sha256(secret, strlen(secret), h);
	assert_memory_equal(t.hash, h, 32);

	assert_int_equal(svc_token_get(f->svc, t.id, &got, &e), 0);
	assert_string_equal(got.id, t.id);
	assert_int_equal(got.uses_left, 3);
	assert_memory_equal(got.hash, h, 32);
	assert_true(fx_audit_has(f, "token.create", "ok", t.id,
	    "kind=enroll profile=redis-client"));
	token_rec_clear(&got);
	token_rec_clear(&t);
}

static void
test_create_admin(void **state)
{
	struct fx		*f = *state;
	struct svc_token_req	 r;
	struct token_rec	 t;
	struct svc_actor	 a;
	struct err		 e;
	char			 secret[FX_TOKEN_LEN];
	int64_t			 now = tu_now();

	err_clear(&e);
	memset(&r, 0, sizeof(r));
	r.kind = TOKEN_ADMIN;
	assert_int_equal(svc_token_create(f->svc, &f->admin, &r, &t, secret,
	    &e), 0);
	assert_int_equal(t.uses_left, -1);
	/* SPEC section 8: admin tokens default to 90 days. */
	assert_true(t.expires_at >= now + 90 * 86400 &&
	    t.expires_at <= now + 90 * 86400 + 5);
	assert_string_equal(t.profile, "");
	assert_int_equal(t.npatterns, 0);
	assert_int_equal(svc_auth_token(f->svc, secret, &a, &e), 0);
	assert_int_equal(a.kind, ACTOR_ADMIN);
	token_rec_clear(&t);
	svc_actor_clear(&a);
}

/* Expect svc_token_create to refuse r with code, audited as denied. */
static void
refused(struct fx *f, const struct svc_actor *a,
    const struct svc_token_req *r, enum err_code code)
{
	struct token_rec	t;
	struct err		e;
	char			secret[FX_TOKEN_LEN];

	err_clear(&e);
	assert_int_equal(svc_token_create(f->svc, a, r, &t, secret, &e), -1);
	assert_int_equal(e.code, code);
	assert_string_equal(secret, "");
	assert_true(fx_audit_has(f, "token.create", "denied", NULL,
	    err_code_name(code)));
}

static void
test_create_refusals(void **state)
{
	struct fx		*f = *state;
	struct svc_token_req	 r;
	struct svc_actor	 tok;
	char			*pats[1] = { "app-*" };
	char			*bad[1] = { "10.0.0.0/33" };
	char			*many[RCA_MAX_PATTERNS + 1];
	char			 longdesc[RCA_MAX_DESCRIPTION + 2];

	enroll_req(&r, pats, 1);
	r.profile = "nope";
	refused(f, &f->admin, &r, ERR_UNKNOWN_PROFILE);
	enroll_req(&r, pats, 1);
	r.profile = NULL;
	refused(f, &f->admin, &r, ERR_INVALID_REQUEST);
	enroll_req(&r, pats, 0);
	refused(f, &f->admin, &r, ERR_INVALID_REQUEST);
	for (size_t i = 0; i < RCA_MAX_PATTERNS + 1; i++)
		many[i] = "app-*";
	enroll_req(&r, many, RCA_MAX_PATTERNS + 1);
	refused(f, &f->admin, &r, ERR_INVALID_REQUEST);
	enroll_req(&r, bad, 1);
	refused(f, &f->admin, &r, ERR_INVALID_REQUEST);
	enroll_req(&r, pats, 1);
	r.uses = 0;
	refused(f, &f->admin, &r, ERR_INVALID_REQUEST);
	r.uses = 1000001;
	refused(f, &f->admin, &r, ERR_INVALID_REQUEST);
	enroll_req(&r, pats, 1);
	r.ttl = -1;
	refused(f, &f->admin, &r, ERR_INVALID_TTL);
	enroll_req(&r, pats, 1);
	r.max_cert_ttl = -1;
	refused(f, &f->admin, &r, ERR_INVALID_TTL);
	enroll_req(&r, pats, 1);
	memset(longdesc, 'x', sizeof(longdesc) - 1);
	longdesc[sizeof(longdesc) - 1] = '\0';
	r.description = longdesc;
	refused(f, &f->admin, &r, ERR_INVALID_REQUEST);
	r.description = "line\nbreak";
	refused(f, &f->admin, &r, ERR_INVALID_REQUEST);
	/* Admin tokens carry no profile or names. */
	enroll_req(&r, pats, 1);
	r.kind = TOKEN_ADMIN;
	refused(f, &f->admin, &r, ERR_INVALID_REQUEST);
	r.kind = TOKEN_KIND__MAX;
	refused(f, &f->admin, &r, ERR_INVALID_REQUEST);

	/* Only admins (and the CLI) create tokens. */
	fx_enroll(f, "redis-client", "app-*", 1, 0, 0, &tok, NULL);
	enroll_req(&r, pats, 1);
	refused(f, &tok, &r, ERR_FORBIDDEN);
	svc_actor_clear(&tok);
}

static void
test_list_and_delete(void **state)
{
	struct fx		*f = *state;
	struct svc_token_req	 r;
	struct token_rec	 t, got, *list = NULL;
	struct svc_actor	 a, tok;
	size_t			 n = 0;
	struct err		 e;
	char			*pats[1] = { "app-*" };
	char			 secret[FX_TOKEN_LEN];
	char			 next[RCA_TOKEN_ID_HEX + 1];
	bool			 seen = false;

	err_clear(&e);
	enroll_req(&r, pats, 1);
	assert_int_equal(svc_token_create(f->svc, &f->cli, &r, &t, secret,
	    &e), 0);
	assert_true(fx_audit_has(f, "token.create", "ok", t.id, NULL));
	/* The fixture's admin token and this one. */
	assert_int_equal(svc_token_list(f->svc, NULL, 100, &list, &n, next,
	    &e), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].id, t.id) == 0)
			seen = true;
	assert_true(seen);
	svc_token_list_free(list, n);
	assert_int_equal(svc_token_list(f->svc, NULL, 0, &list, &n, next,
	    &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);

	/* An enroll token may not delete. */
	fx_enroll(f, "redis-client", "app-*", 1, 0, 0, &tok, NULL);
	assert_int_equal(svc_token_delete(f->svc, &tok, t.id, &e), -1);
	assert_int_equal(e.code, ERR_FORBIDDEN);
	assert_true(fx_audit_has(f, "token.delete", "denied", t.id,
	    "forbidden"));
	svc_actor_clear(&tok);

	assert_int_equal(svc_token_delete(f->svc, &f->admin, t.id, &e), 0);
	assert_true(fx_audit_has(f, "token.delete", "ok", t.id, NULL));
	assert_int_equal(svc_token_get(f->svc, t.id, &got, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	/* A deleted token no longer authenticates. */
	assert_int_equal(svc_auth_token(f->svc, secret, &a, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	assert_int_equal(svc_token_delete(f->svc, &f->admin, t.id, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_true(fx_audit_has(f, "token.delete", "denied", t.id,
	    "not_found"));
	token_rec_clear(&t);
}

/* Create r (must succeed) and return its expires_at. */
static int64_t
created_expiry(struct fx *f, const struct svc_token_req *r)
{
	struct token_rec	t;
	struct err		e;
	char			secret[FX_TOKEN_LEN];
	int64_t			exp;

	err_clear(&e);
	if (svc_token_create(f->svc, &f->admin, r, &t, secret, &e) == -1)
		fail_msg("svc_token_create: %s", e.msg);
	exp = t.expires_at;
	token_rec_clear(&t);
	return exp;
}

/* SPEC section 8: an enroll token without ttl expires after 24h. */
static void
test_enroll_ttl_default(void **state)
{
	struct fx		*f = *state;
	struct svc_token_req	 r;
	char			*pats[1] = { "app-*" };
	int64_t			 now = tu_now(), exp;

	enroll_req(&r, pats, 1);
	r.ttl = 0;
	exp = created_expiry(f, &r);
	assert_true(exp >= now + 86400 && exp <= now + 86400 + 5);
	assert_true(fx_audit_has(f, "token.create", "ok", NULL,
	    "expires_at="));
}

/* The enroll ttl is capped by tokens.max_enroll_ttl (default 30d). */
static void
test_enroll_ttl_cap(void **state)
{
	struct fx		*f = *state;
	struct svc_token_req	 r;
	char			*pats[1] = { "app-*" };
	int64_t			 now = tu_now(), exp;

	enroll_req(&r, pats, 1);
	r.ttl = 30 * 86400;
	exp = created_expiry(f, &r);
	assert_true(exp >= now + 30 * 86400 && exp <= now + 30 * 86400 + 5);
	r.ttl = 30 * 86400 + 1;
	refused(f, &f->admin, &r, ERR_INVALID_TTL);
	refused(f, &f->cli, &r, ERR_INVALID_TTL);

	/* A configured cap replaces the default. */
	f->cfg.token_max_enroll_ttl = 2 * 3600;
	fx_reopen(f);
	r.ttl = 2 * 3600;
	(void)created_expiry(f, &r);
	r.ttl = 2 * 3600 + 60;
	refused(f, &f->admin, &r, ERR_INVALID_TTL);
	/* The default 24h is above this cap: it is cut to the cap. */
	r.ttl = 0;
	exp = created_expiry(f, &r);
	assert_true(exp >= now + 2 * 3600 && exp <= now + 2 * 3600 + 5);
	/* Admin tokens are not enroll tokens: no cap. */
	memset(&r, 0, sizeof(r));
	r.kind = TOKEN_ADMIN;
	r.ttl = 365 * 86400;
	exp = created_expiry(f, &r);
	assert_true(exp >= now + 365 * 86400);
}

/* "never" is explicit, and only for admin tokens. */
static void
test_ttl_never(void **state)
{
	struct fx		*f = *state;
	struct svc_token_req	 r;
	struct token_rec	 t;
	struct svc_actor	 a;
	struct err		 e;
	char			*pats[1] = { "app-*" };
	char			 secret[FX_TOKEN_LEN];

	err_clear(&e);
	memset(&r, 0, sizeof(r));
	r.kind = TOKEN_ADMIN;
	r.ttl = SVC_TOKEN_TTL_NEVER;
	assert_int_equal(svc_token_create(f->svc, &f->admin, &r, &t, secret,
	    &e), 0);
	assert_int_equal(t.expires_at, 0);
	assert_int_equal(svc_auth_token(f->svc, secret, &a, &e), 0);
	svc_actor_clear(&a);
	token_rec_clear(&t);

	enroll_req(&r, pats, 1);
	r.ttl = SVC_TOKEN_TTL_NEVER;
	refused(f, &f->admin, &r, ERR_INVALID_TTL);
	/* Other negative values are no spelling of "never". */
	memset(&r, 0, sizeof(r));
	r.kind = TOKEN_ADMIN;
	r.ttl = -2;
	refused(f, &f->admin, &r, ERR_INVALID_TTL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_enroll, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_create_admin, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_create_refusals,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_list_and_delete,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_enroll_ttl_default,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_enroll_ttl_cap,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ttl_never, fx_setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
