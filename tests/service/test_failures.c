/*
 * Failure paths of service/issue.c and service/crl.c, reached by
 * wrapping their neighbours (-Wl,--wrap): serial collisions, database
 * failures during issuance, and a CRL that cannot be stored.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "db.h"
#include "fixture.h"
#include "timeutil.h"

int	__real_db_cert_insert_use(struct db *db, const struct cert_rec *c,
	    const char *token, const struct audit_rec *a, struct err *e);
int	__wrap_db_cert_insert_use(struct db *db, const struct cert_rec *c,
	    const char *token, const struct audit_rec *a, struct err *e);
int	__real_db_crl_save(struct db *db, int64_t ca_id, uint64_t number,
	    int64_t this_update, int64_t next_update,
	    const unsigned char *der, size_t len, const struct audit_rec *a,
	    struct err *e);
int	__wrap_db_crl_save(struct db *db, int64_t ca_id, uint64_t number,
	    int64_t this_update, int64_t next_update,
	    const unsigned char *der, size_t len, const struct audit_rec *a,
	    struct err *e);
int	__real_db_crl_publish(struct db *db, struct db_crl_pub *p,
	    db_crl_sign_fn *sign, void *arg, struct err *e);
int	__wrap_db_crl_publish(struct db *db, struct db_crl_pub *p,
	    db_crl_sign_fn *sign, void *arg, struct err *e);

static int	collisions;	/* inserts to refuse with ERR_ALREADY_EXISTS */
static bool	insert_fails;	/* refuse inserts with ERR_DB */
static bool	crl_save_fails;	/* refuse CRL saves with ERR_DB */
static enum err_code crl_fail_code;	/* ... or this code when set */
static int	inserts;	/* calls seen */
static char	first_serial[RCA_SERIAL_HEX_MAX + 1];

int
__wrap_db_cert_insert_use(struct db *db, const struct cert_rec *c,
    const char *token, const struct audit_rec *a, struct err *e)
{
	if (inserts++ == 0)
		snprintf(first_serial, sizeof(first_serial), "%s", c->serial);
	if (collisions > 0) {
		collisions--;
		err_set(e, ERR_ALREADY_EXISTS, "serial taken");
		return -1;
	}
	if (insert_fails) {
		err_set(e, ERR_DB, "disk I/O error (sqlite details)");
		return -1;
	}
	return __real_db_cert_insert_use(db, c, token, a, e);
}

int
__wrap_db_crl_save(struct db *db, int64_t ca_id, uint64_t number,
    int64_t this_update, int64_t next_update, const unsigned char *der,
    size_t len, const struct audit_rec *a, struct err *e)
{
	if (crl_save_fails) {
		err_set(e, crl_fail_code != ERR_OK ? crl_fail_code : ERR_DB,
		    "database is locked (sqlite details)");
		return -1;
	}
	return __real_db_crl_save(db, ca_id, number, this_update, next_update,
	    der, len, a, e);
}

/* On PostgreSQL a publication stores its CRL here instead. */
int
__wrap_db_crl_publish(struct db *db, struct db_crl_pub *p,
    db_crl_sign_fn *sign, void *arg, struct err *e)
{
	if (crl_save_fails) {
		err_set(e, crl_fail_code != ERR_OK ? crl_fail_code : ERR_DB,
		    "database is locked (sqlite details)");
		return -1;
	}
	return __real_db_crl_publish(db, p, sign, arg, e);
}

static int
setup(void **state)
{
	collisions = 0;
	insert_fails = false;
	crl_save_fails = false;
	crl_fail_code = ERR_OK;
	inserts = 0;
	first_serial[0] = '\0';
	return fx_setup(state);
}

static int
issue(struct fx *f, struct svc_issued *out, struct err *e)
{
	char	*csr = fx_csr("app-1", "app-1.internal", NULL);
	int	 rc;

	rc = fx_issue_csr(f->svc, &f->admin, csr, 0, out, e);
	free(csr);
	return rc;
}

static void
test_collision_resigns(void **state)
{
	struct fx		*f = *state;
	struct svc_issued	 out;
	struct cert_rec		 got;
	struct err		 e;

	collisions = 2;
	assert_int_equal(issue(f, &out, &e), 0);
	assert_int_equal(inserts, 3);
	/* The stored certificate is the third signing, under a new serial. */
	assert_string_not_equal(out.cert.serial, first_serial);
	assert_int_equal(svc_cert_get(f->svc, out.cert.serial, &got, &e), 0);
	assert_string_equal(got.pem, out.cert.pem);
	cert_rec_clear(&got);
	assert_int_equal(svc_cert_get(f->svc, first_serial, &got, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	svc_issued_clear(&out);
}

static void
test_collisions_give_up(void **state)
{
	struct fx		*f = *state;
	struct svc_issued	 out;
	struct err		 e;

	collisions = 3;
	assert_int_equal(issue(f, &out, &e), -1);
	assert_int_equal(inserts, 3);
	assert_int_equal(e.code, ERR_INTERNAL);
	assert_string_equal(e.msg, "internal error");
	assert_null(out.chain_pem);
	assert_true(fx_audit_has(f, "certificate.issue", "error", NULL,
	    "internal"));
}

static void
test_db_failure_is_internal(void **state)
{
	struct fx		*f = *state;
	struct svc_issued	 out;
	struct err		 e;

	insert_fails = true;
	assert_int_equal(issue(f, &out, &e), -1);
	assert_int_equal(e.code, ERR_INTERNAL);
	/* SQLite's words stay in the log, out of the answer and the audit. */
	assert_string_equal(e.msg, "internal error");
	assert_true(fx_audit_has(f, "certificate.issue", "error", NULL,
	    "database_error"));
	assert_false(fx_audit_has(f, "certificate.issue", "error", NULL,
	    "sqlite"));
	assert_null(out.cert.pem);
}

static void
test_crl_save_failure(void **state)
{
	struct fx		*f = *state;
	struct svc_issued	 out;
	struct svc_crl		 c;
	struct cert_rec		 got;
	struct err		 e;
	uint64_t		 number = 0;

	assert_int_equal(issue(f, &out, &e), 0);
	crl_save_fails = true;
	assert_int_equal(svc_revoke(f->svc, &f->admin, out.cert.serial,
	    REASON_KEY_COMPROMISE, NULL, &number, &e), -1);
	assert_int_equal(e.code, ERR_INTERNAL);
	assert_string_equal(e.msg, "internal error");
	assert_true(fx_audit_has(f, "crl.publish", "error", NULL, NULL));
	/* The revocation itself is committed and audited. */
	assert_true(fx_audit_has(f, "certificate.revoke", "ok",
	    out.cert.serial, NULL));
	assert_int_equal(svc_cert_get(f->svc, out.cert.serial, &got, &e), 0);
	assert_true(got.revoked_at != 0);
	cert_rec_clear(&got);
	/* The old CRL is still served. */
	assert_int_equal(svc_crl_current(f->svc, NULL, &c, &e), 0);
	assert_int_equal(c.number, 1);
	svc_crl_clear(&c);
	/*
	 * A failing tick retries soon...  (The clock stands still: the
	 * second tick's 60 s must not become 59 when a second boundary
	 * passes between the two, on the nodes' schedule.)
	 */
	tclock_set(tu_now());
	assert_int_equal(svc_tick(f->svc), 5);
	/*
	 * ...and once the database works, the tick publishes at once
	 * (then waits the CA watch's SVC_CA_TICK, issue 12, not the CRL's
	 * 60 s cap).
	 */
	crl_save_fails = false;
	assert_int_equal(svc_tick(f->svc), SVC_CA_TICK);
	tclock_real();
	assert_int_equal(svc_crl_current(f->svc, NULL, &c, &e), 0);
	assert_int_equal(c.number, 2);
	svc_crl_clear(&c);
	svc_issued_clear(&out);
}

/* The current CRL is number n and lists a and b, and nothing else. */
static void
expect_crl_lists_both(struct fx *f, uint64_t n, const struct svc_issued *a,
    const struct svc_issued *b)
{
	uint64_t	 number;
	char		*t = fx_crl_current_text(f->svc, &number);
	int		 entries = 0;

	assert_int_equal(number, n);
	for (const char *p = t; (p = strchr(p, '\n')) != NULL; p++)
		entries++;
	assert_int_equal(entries, 2);
	assert_true(fx_crl_lists(t, a->cert.serial, NULL));
	assert_true(fx_crl_lists(t, b->cert.serial, NULL));
	free(t);
}

/*
 * A failed build leaves the in-memory entries to be reloaded: the next
 * revocation's CRL lists the one whose publication failed too.
 */
static void
test_crl_failure_then_revoke(void **state)
{
	struct fx		*f = *state;
	struct svc_issued	 a, b;
	struct err		 e;
	uint64_t		 number = 0;

	assert_int_equal(issue(f, &a, &e), 0);
	assert_int_equal(issue(f, &b, &e), 0);
	crl_save_fails = true;
	assert_int_equal(svc_revoke(f->svc, &f->admin, a.cert.serial,
	    REASON_SUPERSEDED, NULL, &number, &e), -1);
	assert_int_equal(e.code, ERR_INTERNAL);
	crl_save_fails = false;
	assert_int_equal(svc_revoke(f->svc, &f->admin, b.cert.serial,
	    REASON_SUPERSEDED, NULL, &number, &e), 0);
	assert_int_equal(number, 2);
	expect_crl_lists_both(f, 2, &a, &b);
	svc_issued_clear(&a);
	svc_issued_clear(&b);
}

/*
 * The database lost while the CRL is stored (PostgreSQL failing over):
 * the revoke is 503 unavailable, never 500; the revocation stays
 * committed, and the next CRL lists it.
 */
static void
test_crl_unavailable(void **state)
{
	struct fx		*f = *state;
	struct svc_issued	 a, b;
	struct err		 e;
	uint64_t		 number = 0;

	assert_int_equal(issue(f, &a, &e), 0);
	assert_int_equal(issue(f, &b, &e), 0);
	crl_save_fails = true;
	crl_fail_code = ERR_UNAVAILABLE;
	assert_int_equal(svc_revoke(f->svc, &f->admin, a.cert.serial,
	    REASON_SUPERSEDED, NULL, &number, &e), -1);
	assert_int_equal(e.code, ERR_UNAVAILABLE);
	assert_true(fx_audit_has(f, "crl.publish", "error", NULL,
	    "unavailable"));
	assert_true(fx_audit_has(f, "certificate.revoke", "ok",
	    a.cert.serial, NULL));
	crl_fail_code = ERR_READ_ONLY;
	assert_int_equal(svc_publish_crl(f->svc, &f->cli, &e), -1);
	assert_int_equal(e.code, ERR_READ_ONLY);
	crl_save_fails = false;
	assert_int_equal(svc_revoke(f->svc, &f->admin, b.cert.serial,
	    REASON_SUPERSEDED, NULL, &number, &e), 0);
	/* Both: a's failed build left the entries to be reloaded. */
	expect_crl_lists_both(f, number, &a, &b);
	svc_issued_clear(&a);
	svc_issued_clear(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_collision_resigns, setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_collisions_give_up,
		    setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_db_failure_is_internal,
		    setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_crl_failure_then_revoke,
		    setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_crl_unavailable, setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_crl_save_failure, setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
