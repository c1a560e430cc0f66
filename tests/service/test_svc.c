/*
 * Tests of service/svc.c (opening, the NULL-err rule) and of what it
 * used to hold: actors (actor.c), audit (audit.c), stats (ops.c).
 * Token authentication: test_auth.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "timeutil.h"

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
	svc_ca_info_clear(&ci);
	svc_ca_info_clear(NULL);
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
	char			 path[300], dbp[300];

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
	/*
	 * A database without CAs takes the configured one, whose key
	 * must exist: ca_load's error comes back.  (With CAs in the
	 * database a missing key only makes the instance not ready:
	 * test_no_key.)
	 */
	c = f->cfg;
	snprintf(path, sizeof(path), "%s/missing.key", f->dir);
	c.ca_key = path;
	snprintf(dbp, sizeof(dbp), "%s/fresh-nokey.db", f->dir);
	c.database = dbp;
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

/*
 * The NULL-err rule (common/err.h): svc_open() on a fresh database and
 * public functions that fail or succeed, all with e == NULL.
 */
static void
test_null_err(void **state)
{
	struct fx		*f = *state;
	struct svc_config	 c = f->cfg;
	struct svc		*s;
	struct svc_actor	 a, cli;
	struct svc_issue_req	 req;
	struct svc_issued	 iss;
	struct svc_token_req	 tr;
	struct token_rec	 t;
	struct cert_rec		 rec, *list = NULL;
	struct cert_filter	 cf;
	struct audit_rec	*al = NULL;
	struct svc_crl		 crl;
	struct svc_stats	 st;
	struct names		 nm = NAMES_INIT;
	char			 path[300], tok[FX_TOKEN_LEN];
	char			 serial[RCA_SERIAL_HEX_MAX + 1];
	size_t			 n;
	int64_t			 next, deleted;

	assert_null(svc_open(NULL, NULL));
	snprintf(path, sizeof(path), "%s/missing.key", f->dir);
	c.ca_key = path;
	c.database = "/nonexistent-rca/dir/x.db";
	assert_null(svc_open(&c, NULL));
	c = f->cfg;
	snprintf(path, sizeof(path), "%s/fresh.db", f->dir);
	c.database = path;
	assert_non_null(s = svc_open(&c, NULL));
	svc_actor_init(&cli, ACTOR_CLI);

	assert_int_equal(svc_auth_token(s, "rca_nope", &a, NULL), -1);
	assert_int_equal(svc_auth_cert(s, NULL, 0, &a, NULL), -1);
	svc_actor_clear(&a);
	assert_int_equal(svc_issue(s, &cli, NULL, &iss, NULL), -1);
	memset(&req, 0, sizeof(req));
	req.profile = "redis-client";
	fx_names(&nm, "null-err", NULL);
	req.names = &nm;
	req.key_type = KEY_EC_P256;
	assert_int_equal(svc_issue(s, &cli, &req, &iss, NULL), 0);
	snprintf(serial, sizeof(serial), "%s", iss.cert.serial);
	svc_issued_clear(&iss);
	assert_int_equal(svc_renew(s, &cli, NULL, 0, &iss, NULL), -1);
	assert_int_equal(svc_cert_get(s, "zz", &rec, NULL), -1);
	assert_int_equal(svc_cert_get(s, serial, &rec, NULL), 0);
	cert_rec_clear(&rec);
	memset(&cf, 0, sizeof(cf));
	assert_int_equal(svc_cert_list(s, &cf, &list, &n, &next, NULL), -1);
	assert_int_equal(svc_revoke(s, NULL, serial, 0, NULL, NULL, NULL),
	    -1);
	assert_int_equal(svc_revoke(s, &cli, "zz", 0, NULL, NULL, NULL), -1);
	assert_int_equal(svc_revoke(s, &cli, serial, 0, NULL, NULL, NULL), 0);

	memset(&tr, 0, sizeof(tr));
	tr.kind = TOKEN_ADMIN;
	assert_int_equal(svc_token_create(s, NULL, &tr, &t, tok, NULL), -1);
	assert_int_equal(svc_token_create(s, &cli, NULL, &t, tok, NULL), -1);
	assert_int_equal(svc_token_get(s, "00", &t, NULL), -1);
	assert_int_equal(svc_token_list(s, NULL, 0, NULL, &n, NULL, NULL),
	    -1);
	assert_int_equal(svc_token_delete(s, &cli, "00", NULL), -1);

	assert_int_equal(svc_publish_crl(s, &cli, NULL), 0);
	assert_int_equal(svc_crl_current(s, NULL, &crl, NULL), 0);
	svc_crl_clear(&crl);
	assert_int_equal(svc_stats(s, &st, NULL), 0);
	svc_stats_clear(&st);
	assert_int_equal(svc_audit_list(s, 0, 0, &al, &n, &next, NULL), -1);
	assert_int_equal(svc_audit_prune(s, &cli, tu_now(), &deleted, NULL),
	    0);
	names_clear(&nm);
	svc_actor_clear(&cli);
	svc_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_audit_denied, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_ready_stats_info,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_null_err, fx_setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
