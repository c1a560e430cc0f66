/*
 * A lost database during issuance (SPEC section 9, "Failover"): the
 * driver reports a COMMIT whose outcome is unknown, or a connection
 * lost, as ERR_UNAVAILABLE; svc_issue() must hand that to its caller
 * (503 unavailable, never 500) with nothing answered as issued, and
 * audit the attempt.  Reached by wrapping db_cert_insert_use.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "db.h"
#include "fixture.h"

int	__real_db_cert_insert_use(struct db *db, const struct cert_rec *c,
	    const char *token, const struct audit_rec *a, struct err *e);
int	__wrap_db_cert_insert_use(struct db *db, const struct cert_rec *c,
	    const char *token, const struct audit_rec *a, struct err *e);

static bool	lost;	/* the insert's COMMIT fails as unavailable */

int
__wrap_db_cert_insert_use(struct db *db, const struct cert_rec *c,
    const char *token, const struct audit_rec *a, struct err *e)
{
	if (lost) {
		err_set(e, ERR_UNAVAILABLE, "the database is unavailable");
		return -1;
	}
	return __real_db_cert_insert_use(db, c, token, a, e);
}

static int
setup(void **state)
{
	lost = false;
	return fx_setup(state);
}

static int
issue(struct fx *f, const struct svc_actor *a, struct svc_issued *out,
    struct err *e)
{
	struct svc_issue_req	 req;
	char			*csr = fx_csr("app-1", "app-1.internal", NULL);
	int			 rc;

	memset(&req, 0, sizeof(req));
	memset(out, 0, sizeof(*out));
	req.profile = "redis-client";
	req.csr_pem = csr;
	req.csr_len = strlen(csr);
	err_clear(e);
	rc = svc_issue(f->svc, a, &req, out, e);
	free(csr);
	return rc;
}

/* Certificates stored (one page is plenty here). */
static size_t
stored(struct fx *f)
{
	struct cert_filter	 cf;
	struct cert_rec		*list = NULL;
	struct err		 e;
	size_t			 n = 0;
	int64_t			 next = 0;

	err_clear(&e);
	memset(&cf, 0, sizeof(cf));
	cf.status = -1;
	cf.limit = 100;
	assert_int_equal(svc_cert_list(f->svc, &cf, &list, &n, &next, &e),
	    0);
	svc_cert_list_free(list, n);
	return n;
}

/* Unavailable stays unavailable, nothing issued, the attempt audited. */
static void
test_issue_unavailable(void **state)
{
	struct fx		*f = *state;
	struct svc_issued	 out;
	struct err		 e;
	size_t			 before = stored(f);

	lost = true;
	assert_int_equal(issue(f, &f->admin, &out, &e), -1);
	assert_int_equal(e.code, ERR_UNAVAILABLE);
	assert_null(out.chain_pem);
	assert_null(out.cert.pem);
	assert_int_equal(out.cert.serial[0], '\0');
	assert_true(fx_audit_has(f, "certificate.issue", "denied", NULL,
	    "unavailable"));
	lost = false;
	assert_int_equal(stored(f), before);
	/* The database back: the same request issues. */
	assert_int_equal(issue(f, &f->admin, &out, &e), 0);
	svc_issued_clear(&out);
	assert_int_equal(stored(f), before + 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_issue_unavailable, setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
