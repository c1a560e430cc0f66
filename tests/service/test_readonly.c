/*
 * Tests of a service on a read-only database (SPEC section 9): an
 * instance on a hot standby of a throwaway PostgreSQL 15
 * (tests/support/pg.h, pg_basebackup -R) starts, serves reads (its
 * certificates, the stored CRL, statistics), refuses writes with
 * ERR_READ_ONLY having written nothing, does no scheduled work, and
 * tells so in svc_health(); once the standby is promoted its next tick
 * makes it writable, the leader, and republishes the CRL when due.
 * The tests run in order on one primary and its standby.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "fixture.h"
#include "pg.h"
#include "timeutil.h"

struct ro {
	struct fx		*fx;	/* the CA files (and a SQLite svc) */
	struct pg_fixture	*primary, *standby;
	struct svc_config	 cfg;
	struct svc		*p;	/* on the primary */
	struct svc		*s;	/* on the standby */
	char			 serial[RCA_SERIAL_HEX_MAX + 1];
};

static struct svc *
open_on(struct ro *r, const char *uri)
{
	struct svc *s;
	struct err e;

	err_clear(&e);
	r->cfg.database = uri;
	if ((s = svc_open(&r->cfg, &e)) == NULL)
		fail_msg("svc_open: %s: %s", err_code_name(e.code), e.msg);
	return s;
}

/* Issue a certificate for cn on s as the CLI: 0, or -1 with e set. */
static int
issue(struct ro *r, struct svc *s, const char *cn, struct svc_issued *out,
    struct err *e)
{
	char	*csr = fx_csr(cn, NULL, NULL);
	int	 rc;

	memset(out, 0, sizeof(*out));
	rc = fx_issue_csr(s, &r->fx->cli, csr, 0, out, e);
	free(csr);
	return rc;
}

/* Certificates the primary stores (up to a page). */
static int64_t
count_certs(struct ro *r)
{
	struct cert_rec	*list = NULL;
	struct cert_filter f;
	struct err	 e;
	size_t		 n = 0;
	int64_t		 next = 0;

	err_clear(&e);
	memset(&f, 0, sizeof(f));
	f.limit = RCA_MAX_LIST_LIMIT;
	assert_int_equal(svc_cert_list(r->p, &f, &list, &n, &next, &e), 0);
	svc_cert_list_free(list, n);
	return (int64_t)n;
}

/* Entries of the primary's audit log. */
static size_t
count_audit(struct ro *r)
{
	struct audit_rec	*list = NULL;
	struct err		 e;
	int64_t			 after = 0, next = 0;
	size_t			 n = 0, total = 0;

	err_clear(&e);
	do {
		assert_int_equal(svc_audit_list(r->p, after, 100, &list, &n,
		    &next, &e), 0);
		total += n;
		svc_audit_list_free(list, n);
		after = next;
	} while (next != 0);
	return total;
}

static int
group_setup(void **state)
{
	struct ro *r = calloc(1, sizeof(*r));
	struct svc_issued out;
	struct cert_rec got;
	struct err e;
	void *fs = NULL;
	int i;

	if (r == NULL || fx_setup(&fs) != 0)
		return -1;
	r->fx = fs;
	r->cfg = r->fx->cfg;
	if ((r->primary = pg_fixture_start()) == NULL)
		return -1;
	r->p = open_on(r, pg_fixture_uri(r->primary));
	if (issue(r, r->p, "before-standby", &out, &e) == -1)
		fail_msg("issue: %s", e.msg);
	svc_issued_clear(&out);
	if ((r->standby = pg_fixture_standby(r->primary)) == NULL)
		return -1;
	/* Issued after the copy: reaches the standby by streaming. */
	if (issue(r, r->p, "streamed", &out, &e) == -1)
		fail_msg("issue: %s", e.msg);
	snprintf(r->serial, sizeof(r->serial), "%s", out.cert.serial);
	svc_issued_clear(&out);
	svc_crl_flush(r->p);
	r->s = open_on(r, pg_fixture_uri(r->standby));
	for (i = 0; i < 100; i++) {
		err_clear(&e);
		if (svc_cert_get(r->s, r->serial, &got, &e) == 0)
			break;
		usleep(100000);
	}
	if (i == 100)
		fail_msg("the standby never saw %s", r->serial);
	cert_rec_clear(&got);
	*state = r;
	return 0;
}

static int
group_teardown(void **state)
{
	struct ro *r = *state;
	void *fs;

	if (r == NULL)
		return 0;
	fs = r->fx;
	tclock_real();
	svc_close(r->s);
	svc_close(r->p);
	pg_fixture_free(r->standby);
	pg_fixture_free(r->primary);
	if (fs != NULL)
		fx_teardown(&fs);
	free(r);
	return 0;
}

/* The standby's instance says read-only and leads nothing. */
static void
test_standby_state(void **state)
{
	struct ro *r = *state;
	struct svc_health h;

	assert_true(svc_read_only(r->s));
	assert_false(svc_read_only(r->p));
	svc_health(r->s, &h);
	assert_int_equal(h.db, SVC_DB_READ_ONLY);
	assert_true(h.ca_key);
	assert_false(h.ready);
	assert_false(h.leader);
	assert_false(svc_ready(r->s));
	assert_string_equal(svc_db_state_name(h.db), "read_only");
	/* A tick re-checks soon and does no scheduled work. */
	assert_true(svc_tick(r->s) <= 5);
	svc_health(r->s, &h);
	assert_false(h.leader);
	assert_true(svc_read_only(r->s));
	svc_health(r->p, &h);
	assert_int_equal(h.db, SVC_DB_OK);
	assert_true(h.ready);
}

/* Reads work: certificates, the stored CRL, statistics, the audit. */
static void
test_standby_reads(void **state)
{
	struct ro *r = *state;
	struct svc_stats st;
	struct svc_crl c, pc;
	struct cert_rec got;
	struct err e;

	err_clear(&e);
	assert_int_equal(svc_cert_get(r->s, r->serial, &got, &e), 0);
	assert_string_equal(got.serial, r->serial);
	cert_rec_clear(&got);
	assert_int_equal(svc_crl_current(r->s, NULL, &c, &e), 0);
	assert_int_equal(svc_crl_current(r->p, NULL, &pc, &e), 0);
	assert_int_equal(c.number, pc.number);
	svc_crl_clear(&c);
	svc_crl_clear(&pc);
	assert_int_equal(svc_stats(r->s, &st, &e), 0);
	assert_true(st.nprofiles >= 1);
	svc_stats_clear(&st);
}

/*
 * Writes are refused with ERR_READ_ONLY (not 500's ERR_INTERNAL), and
 * nothing reaches the database: no certificate, no token, no audit
 * entry, no revocation.
 */
static void
test_standby_refuses_writes(void **state)
{
	struct ro *r = *state;
	struct svc_token_req tr;
	struct svc_issued out;
	struct token_rec t;
	struct cert_rec got;
	char tok[FX_TOKEN_LEN];
	int64_t certs = count_certs(r);
	size_t audit = count_audit(r);
	struct err e;

	assert_int_equal(issue(r, r->s, "refused", &out, &e), -1);
	assert_int_equal(e.code, ERR_READ_ONLY);
	assert_null(out.chain_pem);
	err_clear(&e);
	assert_int_equal(svc_revoke(r->s, &r->fx->cli, r->serial, 0, NULL,
	    NULL, &e), -1);
	assert_int_equal(e.code, ERR_READ_ONLY);
	memset(&tr, 0, sizeof(tr));
	tr.kind = TOKEN_ADMIN;
	tr.description = "refused";
	err_clear(&e);
	assert_int_equal(svc_token_create(r->s, &r->fx->cli, &tr, &t, tok,
	    &e), -1);
	assert_int_equal(e.code, ERR_READ_ONLY);
	assert_true(svc_read_only(r->s));

	assert_int_equal(count_certs(r), certs);
	assert_int_equal(count_audit(r), audit);
	err_clear(&e);
	assert_int_equal(svc_cert_get(r->p, r->serial, &got, &e), 0);
	assert_int_equal(got.revoked_at, 0);
	cert_rec_clear(&got);
}

/*
 * Promotion: the standby's instance becomes writable at its next tick
 * without a restart, leads (it is alone on its server), republishes
 * the CRL that came due meanwhile, and issues.
 */
static void
test_promote(void **state)
{
	struct ro *r = *state;
	struct svc_issued out;
	struct svc_health h;
	uint64_t before = fx_crl_number(r->s);
	struct err e;

	assert_int_equal(pg_fixture_promote(r->standby), 0);
	tclock_set(tu_now() + r->cfg.crl_validity -
	    r->cfg.crl_refresh_before + 10);
	assert_true(svc_read_only(r->s));
	(void)svc_tick(r->s);
	assert_false(svc_read_only(r->s));
	svc_health(r->s, &h);
	assert_int_equal(h.db, SVC_DB_OK);
	assert_true(h.ready);
	assert_true(h.leader);
	assert_int_equal(fx_crl_number(r->s), before + 1);
	assert_int_equal(issue(r, r->s, "after-promotion", &out, &e), 0);
	svc_issued_clear(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_standby_state),
		cmocka_unit_test(test_standby_reads),
		cmocka_unit_test(test_standby_refuses_writes),
		cmocka_unit_test(test_promote),
	};

	if (!pg_fixture_available()) {
		fprintf(stderr, "PostgreSQL binaries missing: skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
