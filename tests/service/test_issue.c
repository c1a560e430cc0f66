/* Tests of service/issue.c: svc_issue() for every actor and refusal. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "testdb.h"
#include "timeutil.h"

/* Issue from a CSR; fails the test when refused. */
static void
issue_csr(struct fx *f, const struct svc_actor *a, const char *profile,
    const char *csr, int64_t ttl, struct svc_issued *out)
{
	struct svc_issue_req	req;
	struct err		e;

	err_clear(&e);
	memset(&req, 0, sizeof(req));
	req.profile = profile;
	req.csr_pem = csr;
	req.csr_len = strlen(csr);
	req.ttl = ttl;
	if (svc_issue(f->svc, a, &req, out, &e) == -1)
		fail_msg("svc_issue: %s: %s", err_code_name(e.code), e.msg);
}

/* Issue from a CSR and expect a refusal with code. */
static void
issue_refused(struct fx *f, const struct svc_actor *a, const char *profile,
    const char *csr, int64_t ttl, enum err_code code, struct err *e)
{
	struct svc_issue_req	req;
	struct svc_issued	out;

	err_clear(e);
	memset(&req, 0, sizeof(req));
	req.profile = profile;
	req.csr_pem = csr;
	req.csr_len = strlen(csr);
	req.ttl = ttl;
	assert_int_equal(svc_issue(f->svc, a, &req, &out, e), -1);
	assert_int_equal(e->code, code);
	assert_null(out.chain_pem);
	assert_null(out.cert.pem);
}

static void
test_admin_csr(void **state)
{
	struct fx		*f = *state;
	struct svc_issued	 out;
	struct cert_rec		 got;
	struct err		 e;
	char			*csr = fx_csr("node-1", "node-1.redis.internal",
				    NULL);
	int64_t			 now = tu_now();

	err_clear(&e);
	issue_csr(f, &f->admin, "redis-node", csr, 0, &out);
	assert_string_equal(out.cert.profile, "redis-node");
	assert_string_equal(out.cert.names.cn, "node-1");
	assert_int_equal(out.cert.key_type, KEY_EC_P256);
	assert_string_equal(out.cert.issued_by, f->admin.id);
	assert_true(strncmp(out.cert.issued_by, "admin:", 6) == 0);
	assert_int_equal(strlen(out.cert.fingerprint), RCA_SHA256_HEX);
	/* Profile default ttl 72h, backdated by 60 s. */
	assert_true(out.cert.not_after >= now + 72 * 3600 - 5 &&
	    out.cert.not_after <= now + 72 * 3600 + 5);
	assert_true(out.cert.not_before <= now - 59);
	assert_null(out.private_key_pem);
	assert_non_null(out.ca_pem);
	/*
	 * SPEC 10 (issue 12): the chain is the leaf and the intermediates,
	 * never the anchor: for this one-tier (self-signed) CA the leaf
	 * alone; ca_pem is the bundle, which holds the CA.
	 */
	assert_string_equal(out.chain_pem, out.cert.pem);
	assert_non_null(strstr(out.ca_pem, "BEGIN CERTIFICATE"));

	/* Stored durably under its serial, audited ok. */
	assert_int_equal(svc_cert_get(f->svc, out.cert.serial, &got, &e), 0);
	assert_string_equal(got.pem, out.cert.pem);
	assert_string_equal(got.issued_by, f->admin.id);
	assert_true(fx_audit_has(f, "certificate.issue", "ok",
	    out.cert.serial, "profile=redis-node cn=node-1"));
	cert_rec_clear(&got);
	svc_issued_clear(&out);
	free(csr);
}

/* Every column of every row in the database, checked for needle. */
static bool
db_contains(struct fx *f, const char *needle)
{
	return tdb_contains(f->db, needle);
}

static void
test_generate(void **state)
{
	struct fx		*f = *state;
	struct svc_issue_req	 req;
	struct svc_issued	 out;
	struct names		 n;
	struct err		 e;
	const char		*body;
	char			 chunk[41];

	err_clear(&e);
	fx_names(&n, "app-1", "app-1.svc.internal");
	memset(&req, 0, sizeof(req));
	req.profile = "redis-client";
	req.names = &n;
	req.key_type = KEY_EC_P384;
	req.ttl = 3600;
	assert_int_equal(svc_issue(f->svc, &f->admin, &req, &out, &e), 0);
	assert_non_null(out.private_key_pem);
	assert_non_null(strstr(out.private_key_pem,
	    "-----BEGIN PRIVATE KEY-----"));
	assert_int_equal(out.cert.key_type, KEY_EC_P384);
	assert_string_equal(out.cert.names.cn, "app-1");
	assert_true(out.cert.not_after - out.cert.not_before ==
	    3600 + RCA_BACKDATE_SECONDS);

	/* The key is never stored: no PEM label, no piece of its body. */
	body = strchr(out.private_key_pem, '\n') + 1;
	memcpy(chunk, body, 40);
	chunk[40] = '\0';
	assert_false(db_contains(f, "PRIVATE KEY"));
	assert_false(db_contains(f, chunk));
	/* The check itself finds what is stored. */
	assert_true(db_contains(f, out.cert.serial));
	svc_issued_clear(&out);
	names_clear(&n);
}

static void
test_generate_bad_names(void **state)
{
	struct fx		*f = *state;
	struct svc_issue_req	 req;
	struct svc_issued	 out;
	struct names		 n = NAMES_INIT;
	struct profile		 internal;
	struct err		 e;

	err_clear(&e);
	memset(&req, 0, sizeof(req));
	req.profile = "redis-client";
	req.names = &n;
	/* No common name. */
	assert_int_equal(svc_issue(f->svc, &f->admin, &req, &out, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	/* An unknown key type. */
	fx_names(&n, "x", "x.internal");
	req.names = &n;
	req.key_type = KEY__MAX;
	assert_int_equal(svc_issue(f->svc, &f->admin, &req, &out, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_true(fx_audit_has(f, "certificate.issue", "denied", NULL,
	    "invalid_request"));
	/* A URI SAN is not offered by generate. */
	req.key_type = KEY_EC_P256;
	assert_int_equal(names_add(&n, NAME_URI, "spiffe://x/y", &e), 0);
	assert_int_equal(svc_issue(f->svc, &f->admin, &req, &out, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	names_clear(&n);

	/* A key type outside the profile is refused before keygen. */
	internal = f->profiles[0];
	internal.key_types = KEY_BIT(KEY_EC_P256);
	fx_names(&n, "x", "x.internal");
	req.profile = NULL;
	req.internal_profile = &internal;
	req.key_type = KEY_RSA_4096;
	assert_int_equal(svc_issue(f->svc, &f->cli, &req, &out, &e), -1);
	assert_int_equal(e.code, ERR_KEY_REJECTED);
	assert_true(fx_audit_has(f, "certificate.issue", "denied", NULL,
	    "key_rejected"));
	names_clear(&n);
}

static void
test_enroll_bound_to_profile(void **state)
{
	struct fx		*f = *state;
	struct svc_actor	 tok;
	struct svc_issued	 out;
	struct err		 e;
	char			*csr = fx_csr("app-7", NULL, NULL);

	fx_enroll(f, "redis-client", "app-*", 5, 3600, 0, &tok, NULL);
	issue_refused(f, &tok, "redis-node", csr, 0, ERR_FORBIDDEN, &e);
	assert_true(fx_audit_has(f, "certificate.issue", "denied", NULL,
	    "forbidden"));
	/* Its own profile works, recorded as token:<id>. */
	issue_csr(f, &tok, "redis-client", csr, 0, &out);
	assert_string_equal(out.cert.issued_by, tok.id);
	assert_true(strncmp(tok.id, "token:", 6) == 0);
	svc_issued_clear(&out);
	svc_actor_clear(&tok);
	free(csr);
}

static void
test_enroll_name_not_allowed(void **state)
{
	struct fx		*f = *state;
	struct svc_actor	 tok;
	struct svc_issue_req	 req;
	struct svc_issued	 out;
	struct names		 n;
	struct err		 e;
	char			*csr = fx_csr("app-1", "db.other.internal",
				    NULL);

	err_clear(&e);
	fx_enroll(f, "redis-client", "app-*", 5, 3600, 0, &tok, NULL);
	issue_refused(f, &tok, "redis-client", csr, 0, ERR_NAME_NOT_ALLOWED,
	    &e);
	assert_non_null(strstr(e.msg, "db.other.internal"));
	assert_true(fx_audit_has(f, "certificate.issue", "denied", NULL,
	    "db.other.internal"));

	/* Generate is refused the same way, before a key is made. */
	fx_names(&n, "web-1", NULL);
	memset(&req, 0, sizeof(req));
	req.profile = "redis-client";
	req.names = &n;
	assert_int_equal(svc_issue(f->svc, &tok, &req, &out, &e), -1);
	assert_int_equal(e.code, ERR_NAME_NOT_ALLOWED);
	assert_non_null(strstr(e.msg, "web-1"));
	names_clear(&n);

	/* Refusals cost no use: all five are still there. */
	free(csr);
	csr = fx_csr("app-2", NULL, NULL);
	for (int i = 0; i < 5; i++) {
		issue_csr(f, &tok, "redis-client", csr, 0, &out);
		svc_issued_clear(&out);
	}
	issue_refused(f, &tok, "redis-client", csr, 0, ERR_UNAUTHORIZED, &e);
	svc_actor_clear(&tok);
	free(csr);
}

static void
test_one_use_token_twice(void **state)
{
	struct fx		*f = *state;
	struct svc_actor	 tok, again;
	struct svc_issued	 out;
	struct err		 e;
	char			 secret[FX_TOKEN_LEN];
	char			*csr = fx_csr("app-1", NULL, NULL);

	err_clear(&e);
	fx_enroll(f, "redis-client", "app-*", 1, 3600, 0, &tok, secret);
	issue_csr(f, &tok, "redis-client", csr, 0, &out);
	svc_issued_clear(&out);
	/* The same authenticated actor again: the use is gone. */
	issue_refused(f, &tok, "redis-client", csr, 0, ERR_UNAUTHORIZED, &e);
	assert_true(fx_audit_has(f, "certificate.issue", "denied", NULL,
	    "unauthorized"));
	/* And the token no longer authenticates. */
	assert_int_equal(svc_auth_token(f->svc, secret, &again, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	assert_int_equal(again.kind, ACTOR_NONE);
	svc_actor_clear(&tok);
	free(csr);
}

static void
test_ttl_too_long(void **state)
{
	struct fx		*f = *state;
	struct svc_actor	 tok;
	struct svc_issued	 out;
	struct err		 e;
	char			*csr = fx_csr("app-1", "app-1.internal", NULL);

	/* Above the profile's max_ttl (7d for redis-client). */
	issue_refused(f, &f->admin, "redis-client", csr, 8 * 86400,
	    ERR_TTL_TOO_LONG, &e);
	assert_true(fx_audit_has(f, "certificate.issue", "denied", NULL,
	    "ttl_too_long"));
	/* Exactly the maximum is fine. */
	issue_csr(f, &f->admin, "redis-client", csr, 7 * 86400, &out);
	svc_issued_clear(&out);
	/* Negative ttl. */
	issue_refused(f, &f->admin, "redis-client", csr, -5, ERR_INVALID_TTL,
	    &e);

	/* The token's max_cert_ttl (2h) caps below the profile's. */
	free(csr);
	csr = fx_csr("app-1", "app-1", NULL);
	fx_enroll(f, "redis-client", "app-*", 10, 3600, 7200, &tok, NULL);
	issue_refused(f, &tok, "redis-client", csr, 3 * 3600,
	    ERR_TTL_TOO_LONG, &e);
	issue_csr(f, &tok, "redis-client", csr, 7200, &out);
	assert_int_equal(out.cert.not_after - out.cert.not_before,
	    7200 + RCA_BACKDATE_SECONDS);
	svc_issued_clear(&out);
	svc_actor_clear(&tok);
	free(csr);
}

static void
test_unknown_profile(void **state)
{
	struct fx		*f = *state;
	struct svc_issue_req	 req;
	struct svc_issued	 out;
	struct err		 e;
	struct profile		 internal;
	char			*csr = fx_csr("app-1", "app-1.internal", NULL);

	issue_refused(f, &f->admin, "redis-nope", csr, 0, ERR_UNKNOWN_PROFILE,
	    &e);
	assert_true(fx_audit_has(f, "certificate.issue", "denied", NULL,
	    "unknown_profile"));

	/* Internal profiles: the CLI may, an admin token may not. */
	internal = f->profiles[0];
	snprintf(internal.name, sizeof(internal.name), "api");
	memset(&req, 0, sizeof(req));
	req.internal_profile = &internal;
	req.csr_pem = csr;
	req.csr_len = strlen(csr);
	assert_int_equal(svc_issue(f->svc, &f->admin, &req, &out, &e), -1);
	assert_int_equal(e.code, ERR_FORBIDDEN);
	assert_int_equal(svc_issue(f->svc, &f->cli, &req, &out, &e), 0);
	assert_string_equal(out.cert.profile, "api");
	assert_string_equal(out.cert.issued_by, "cli");
	svc_issued_clear(&out);
	free(csr);
}

static void
test_bad_csr_and_anonymous(void **state)
{
	struct fx		*f = *state;
	struct svc_actor	 anon;
	struct err		 e;
	char			*csr = fx_csr("app-1", "app-1.internal", NULL);

	issue_refused(f, &f->admin, "redis-client", "not a csr", 0,
	    ERR_INVALID_CSR, &e);
	svc_actor_init(&anon, ACTOR_NONE);
	issue_refused(f, &anon, "redis-client", csr, 0, ERR_FORBIDDEN, &e);
	assert_true(fx_audit_has(f, "certificate.issue", "denied", NULL,
	    "forbidden"));
	/* require_san: a CN that is not a DNS name gives no SAN. */
	free(csr);
	csr = fx_csr("no san here", NULL, NULL);
	issue_refused(f, &f->admin, "redis-node", csr, 0, ERR_INVALID_CSR, &e);
	free(csr);
}

struct worker {
	struct fx	*f;
	const char	*csr;
	char		 serials[100][RCA_SERIAL_HEX_MAX + 1];
	int		 failures;
};

static void *
worker_run(void *arg)
{
	struct worker		*w = arg;
	struct svc_issue_req	 req;
	struct svc_issued	 out;
	struct err		 e;

	memset(&req, 0, sizeof(req));
	req.profile = "redis-client";
	req.csr_pem = w->csr;
	req.csr_len = strlen(w->csr);
	for (int i = 0; i < 100; i++) {
		err_clear(&e);
		if (svc_issue(w->f->svc, &w->f->admin, &req, &out, &e) == -1) {
			w->failures++;
			continue;
		}
		memcpy(w->serials[i], out.cert.serial,
		    sizeof(w->serials[i]));
		svc_issued_clear(&out);
	}
	return NULL;
}

static int
cmp_serial(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
test_concurrent(void **state)
{
	struct fx		*f = *state;
	struct worker		*w;
	pthread_t		 th[8];
	char			(*all)[RCA_SERIAL_HEX_MAX + 1];
	struct cert_filter	 flt;
	struct cert_rec		*list = NULL;
	size_t			 n = 0, total = 0;
	int64_t			 next = 0;
	struct err		 e;
	char			*csr = fx_csr("app-1", "app-1.internal", NULL);

	err_clear(&e);
	w = calloc(8, sizeof(*w));
	all = calloc(800, sizeof(*all));
	assert_non_null(w);
	assert_non_null(all);
	for (int i = 0; i < 8; i++) {
		w[i].f = f;
		w[i].csr = csr;
		assert_int_equal(pthread_create(&th[i], NULL, worker_run,
		    &w[i]), 0);
	}
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(w[i].failures, 0);
		memcpy(all[i * 100], w[i].serials, sizeof(w[i].serials));
	}
	qsort(all, 800, sizeof(*all), cmp_serial);
	for (int i = 1; i < 800; i++)
		assert_string_not_equal(all[i - 1], all[i]);

	/* All 800 are in the database. */
	memset(&flt, 0, sizeof(flt));
	flt.status = -1;
	flt.now = tu_now();
	flt.limit = RCA_MAX_LIST_LIMIT;
	do {
		assert_int_equal(svc_cert_list(f->svc, &flt, &list, &n, &next,
		    &e), 0);
		total += n;
		svc_cert_list_free(list, n);
		flt.after = next;
	} while (next != 0);
	assert_int_equal(total, 800);
	free(all);
	free(w);
	free(csr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_admin_csr, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_generate, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_generate_bad_names,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_enroll_bound_to_profile,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_enroll_name_not_allowed,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_one_use_token_twice,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ttl_too_long, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_profile,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_bad_csr_and_anonymous,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, fx_setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
