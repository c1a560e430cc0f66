/*
 * Tests of service/crl.c: publication, numbering, reopening, a CRL
 * another process published (the tick itself: test_schedule.c), and
 * revocations sharing one build: concurrent revokers each told a CRL
 * that lists them, the incremental CRL equal to a from-scratch one and
 * to the database, a served buffer outliving its replacement.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "clock.h"
#include "fixture.h"
#include "testdb.h"
#include "timeutil.h"

#define NTHREADS	16
#define PER_THREAD	20
_Static_assert(PER_THREAD <= FX_REVOKES_MAX, "a revoker's serials");

/* Issue a client certificate (ttl 0: default); serial gets its serial. */
static void
issue_ttl(struct fx *f, int i, int64_t ttl, char *serial, size_t cap)
{
	char cn[32];

	snprintf(cn, sizeof(cn), "c%d", i);
	fx_issue_serial(f->svc, &f->admin, cn, ttl, serial, cap);
}

static void
issue_one(struct fx *f, int i, char *serial, size_t cap)
{
	issue_ttl(f, i, 0, serial, cap);
}

static void
test_concurrent_revokes(void **state)
{
	struct fx	*f = *state;
	struct fx_revoker *rv;
	pthread_t	 th[NTHREADS];
	struct err	 e;
	uint64_t	 before, inc, full;
	char		*ti, *tf, *td;

	assert_non_null(rv = calloc(NTHREADS, sizeof(*rv)));
	for (int t = 0; t < NTHREADS; t++) {
		rv[t].s = f->svc;
		rv[t].a = &f->admin;
		rv[t].n = PER_THREAD;
		for (int i = 0; i < PER_THREAD; i++)
			issue_one(f, t * PER_THREAD + i, rv[t].serial[i],
			    sizeof(rv[t].serial[i]));
	}
	before = fx_crl_number(f->svc);
	for (int t = 0; t < NTHREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, fx_revoker_run,
		    &rv[t]), 0);
	for (int t = 0; t < NTHREADS; t++)
		assert_int_equal(pthread_join(th[t], NULL), 0);
	for (int t = 0; t < NTHREADS; t++) {
		assert_int_equal(rv[t].failed, 0);
		assert_true(rv[t].told[0] > before);
	}

	/* The last incremental CRL lists all, as the database says. */
	ti = fx_crl_current_text(f->svc, &inc);
	assert_true(inc > before);
	assert_true(inc <= before + NTHREADS * PER_THREAD);
	td = fx_crl_db_text(f->db);
	assert_string_equal(ti, td);
	for (int t = 0; t < NTHREADS; t++)
		for (int i = 0; i < PER_THREAD; i++)
			assert_true(fx_crl_lists(ti, rv[t].serial[i], NULL));

	/* A from-scratch rebuild: same entries in the same order, next. */
	err_clear(&e);
	assert_int_equal(svc_publish_crl(f->svc, &f->cli, &e), 0);
	tf = fx_crl_current_text(f->svc, &full);
	assert_int_equal(full, inc + 1);
	assert_string_equal(ti, tf);
	free(ti);
	free(tf);
	free(td);
	free(rv);
}

/*
 * After a restart the newest CRL is served and the entries reloaded:
 * a revocation then lists the old ones too.
 */
static void
test_restart_keeps_entries(void **state)
{
	struct fx	*f = *state;
	struct err	 e;
	char		 a[64], b[64];
	uint64_t	 n1, n2, told;
	char		*t;

	issue_one(f, 1, a, sizeof(a));
	issue_one(f, 2, b, sizeof(b));
	err_clear(&e);
	assert_int_equal(svc_revoke(f->svc, &f->admin, a, REASON_SUPERSEDED,
	    NULL, &n1, &e), 0);
	fx_reopen(f);
	assert_int_equal(fx_crl_number(f->svc), n1);
	t = fx_crl_current_text(f->svc, &n2);
	assert_true(fx_crl_lists(t, a, NULL));
	free(t);
	assert_int_equal(svc_revoke(f->svc, &f->admin, b, REASON_SUPERSEDED,
	    NULL, &told, &e), 0);
	assert_int_equal(told, n1 + 1);
	t = fx_crl_current_text(f->svc, &n2);
	assert_int_equal(n2, told);
	assert_true(fx_crl_lists(t, a, NULL));
	assert_true(fx_crl_lists(t, b, NULL));
	free(t);
}

/*
 * A certificate that expires drops out of the next incremental CRL,
 * which still equals the database and a from-scratch rebuild; one
 * revoked after it expired is never listed.
 */
static void
test_expired_drop_out(void **state)
{
	struct fx	*f = *state;
	struct err	 e;
	char		 a[64], b[64], c[64], d[64];
	uint64_t	 n, inc, full;
	char		*t, *td, *tf;
	int64_t		 now = tu_now();

	issue_ttl(f, 1, 3600, a, sizeof(a));
	issue_ttl(f, 2, 3600, d, sizeof(d));
	issue_one(f, 3, b, sizeof(b));
	issue_one(f, 4, c, sizeof(c));
	err_clear(&e);
	assert_int_equal(svc_revoke(f->svc, &f->admin, a, REASON_SUPERSEDED,
	    NULL, &n, &e), 0);
	assert_int_equal(svc_revoke(f->svc, &f->admin, b, REASON_SUPERSEDED,
	    NULL, &n, &e), 0);
	t = fx_crl_current_text(f->svc, &n);
	assert_true(fx_crl_lists(t, a, NULL) && fx_crl_lists(t, b, NULL));
	free(t);

	/* Two hours on: a and d have expired. */
	tclock_set(now + 7200);
	assert_int_equal(svc_revoke(f->svc, &f->admin, c, REASON_SUPERSEDED,
	    NULL, &n, &e), 0);
	assert_int_equal(svc_revoke(f->svc, &f->admin, d, REASON_SUPERSEDED,
	    NULL, &n, &e), 0);
	t = fx_crl_current_text(f->svc, &inc);
	assert_false(fx_crl_lists(t, a, NULL));
	assert_false(fx_crl_lists(t, d, NULL));
	assert_true(fx_crl_lists(t, b, NULL) && fx_crl_lists(t, c, NULL));
	td = fx_crl_db_text(f->db);
	assert_string_equal(t, td);
	assert_int_equal(svc_publish_crl(f->svc, &f->cli, &e), 0);
	tf = fx_crl_current_text(f->svc, &full);
	assert_int_equal(full, inc + 1);
	assert_string_equal(t, tf);
	tclock_real();
	free(t);
	free(td);
	free(tf);
}

/* Run one SQL statement on the fixture's database (no service open). */
static void
db_exec(struct fx *f, const char *sqlite, const char *pg)
{
	tdb_exec(f->db, sqlite, pg);
}

/*
 * The DER is stored after the publication: once flushed the database
 * holds the served bytes; a number whose DER was lost (a crash) is
 * republished at start-up with the next number, listing everything.
 */
static void
test_lost_der_republishes(void **state)
{
	struct fx		*f = *state;
	struct svc_crl		 c;
	struct err		 e;
	char			 a[64];
	uint64_t		 told, n;
	char			*t, *row, *want;
	int			 w;

	issue_one(f, 1, a, sizeof(a));
	err_clear(&e);
	assert_int_equal(svc_revoke(f->svc, &f->admin, a, REASON_SUPERSEDED,
	    NULL, &told, &e), 0);
	svc_crl_flush(f->svc);
	assert_int_equal(svc_crl_current(f->svc, NULL, &c, &e), 0);
	/* The newest row: "\n<number> <DER in upper-case hex>". */
	row = tdb_rows(f->db, "SELECT number, hex(der) FROM crls ORDER BY "
	    "number DESC LIMIT 1", "SELECT number, upper(encode(der, 'hex')) "
	    "FROM crls ORDER BY number DESC LIMIT 1");
	assert_non_null(want = malloc(2 * c.der_len + 32));
	w = snprintf(want, 32, "\n%llu ", (unsigned long long)told);
	for (size_t i = 0; i < c.der_len; i++)
		snprintf(want + w + 2 * i, 3, "%02X", c.der[i]);
	assert_string_equal(row, want);
	free(row);
	free(want);
	svc_crl_clear(&c);

	/* As if the process died before the DER was written. */
	svc_close(f->svc);
	f->svc = NULL;
	db_exec(f, "UPDATE crls SET der = x'' WHERE number = "
	    "(SELECT max(number) FROM crls)", "UPDATE crls SET der = "
	    "''::bytea WHERE number = (SELECT max(number) FROM crls)");
	fx_reopen(f);
	t = fx_crl_current_text(f->svc, &n);
	assert_int_equal(n, told + 1);
	assert_true(fx_crl_lists(t, a, NULL));
	free(t);
}

/* A reader's reference outlives the CRL's replacement (ASan checks). */
static void
test_buffer_outlives_swap(void **state)
{
	struct fx	*f = *state;
	struct svc_crl	 old, now;
	struct err	 e;
	uint64_t	 n;
	char		*t;

	err_clear(&e);
	assert_int_equal(svc_crl_current(f->svc, NULL, &old, &e), 0);
	assert_int_equal(svc_publish_crl(f->svc, &f->cli, &e), 0);
	assert_int_equal(svc_publish_crl(f->svc, &f->cli, &e), 0);
	assert_int_equal(svc_crl_current(f->svc, NULL, &now, &e), 0);
	assert_int_equal(now.number, old.number + 2);
	assert_ptr_not_equal(now.der, old.der);
	/* Still the old bytes, whole. */
	t = fx_crl_text(old.der, old.der_len, NULL, &n);
	assert_int_equal(n, old.number);
	assert_non_null(strstr(old.pem, "-----END X509 CRL-----"));
	assert_int_equal(strlen(old.pem), old.pem_len);
	free(t);
	svc_crl_clear(&old);
	/* Two readers of one version share its bytes. */
	assert_int_equal(svc_crl_current(f->svc, NULL, &old, &e), 0);
	assert_ptr_equal(now.der, old.der);
	svc_crl_clear(&now);
	svc_crl_clear(&old);
}

static void
test_initial_crl(void **state)
{
	struct fx		*f = *state;
	struct svc_crl		 c;
	struct err		 e;
	const unsigned char	*p;
	X509_CRL		*crl;
	X509			*ca;
	BIO			*bio;
	struct svc_ca_info	 ci;
	ASN1_INTEGER		*num;
	int64_t			 now = tu_now();

	err_clear(&e);
	assert_int_equal(svc_crl_current(f->svc, NULL, &c, &e), 0);
	assert_int_equal(c.number, 1);
	assert_string_equal(c.etag, "\"crl-1\"");
	assert_true(c.this_update <= now && c.this_update >= now - 60);
	assert_int_equal(c.next_update - c.this_update, 24 * 3600);
	assert_non_null(strstr(c.pem, "-----BEGIN X509 CRL-----"));
	assert_true(fx_audit_has(f, "crl.publish", "ok", "1", NULL));

	/* A v2 CRL signed by the CA, with its number, and empty. */
	p = c.der;
	crl = d2i_X509_CRL(NULL, &p, (long)c.der_len);
	assert_non_null(crl);
	svc_ca_info(f->svc, &ci);
	bio = BIO_new_mem_buf(ci.pem, -1);
	ca = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	assert_non_null(ca);
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(ca)), 1);
	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	assert_int_equal(ASN1_INTEGER_get(num), 1);
	/* No entries: OpenSSL leaves the list out (NULL) or empty. */
	assert_true(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) <= 0);
	ASN1_INTEGER_free(num);
	X509_free(ca);
	BIO_free(bio);
	X509_CRL_free(crl);
	svc_ca_info_clear(&ci);
	svc_crl_clear(&c);
	svc_crl_clear(NULL);
}

static void
test_publish_and_reopen(void **state)
{
	struct fx	*f = *state;
	struct err	 e;
	uint64_t	 before;

	err_clear(&e);
	assert_int_equal(svc_publish_crl(f->svc, &f->admin, &e), 0);
	assert_int_equal(svc_publish_crl(f->svc, &f->cli, &e), 0);
	before = fx_crl_number(f->svc);
	assert_int_equal(before, 3);
	assert_true(fx_audit_has(f, "crl.publish", "ok", "3", NULL));

	/* The stored CRL is still fresh: reopening loads it as it is. */
	fx_reopen(f);
	assert_int_equal(fx_crl_number(f->svc), before);
	assert_int_equal(svc_publish_crl(f->svc, &f->cli, &e), 0);
	assert_int_equal(fx_crl_number(f->svc), before + 1);

	/*
	 * Reopen with a refresh window wider than what is left: the
	 * service publishes at once, and the number still only grows.
	 */
	f->cfg.crl_validity = 48 * 3600;
	f->cfg.crl_refresh_before = 30 * 3600;
	fx_reopen(f);
	/*
	 * On PostgreSQL a due CRL is the scheduler leader's work: the
	 * first tick makes this (only) instance the leader, which
	 * publishes it.  SQLite always leads and publishes at open.
	 */
	if (tdb_is_pg())
		(void)svc_tick(f->svc);
	assert_int_equal(fx_crl_number(f->svc), before + 2);
	assert_true(fx_audit_has(f, "crl.publish", "ok", NULL, NULL));
}

static void
test_two_processes(void **state)
{
	struct fx	*f = *state;
	struct svc	*other;
	struct err	 e;

	err_clear(&e);
	/*
	 * A second service on the same files (the CLI beside the daemon),
	 * once the first CRL's DER is stored (before, the second would
	 * find its number claimed and publish anew: a race under load).
	 */
	svc_crl_flush(f->svc);
	other = svc_open(&f->cfg, &e);
	assert_non_null(other);
	assert_int_equal(fx_crl_number(other), 1);
	assert_int_equal(svc_publish_crl(other, &f->cli, &e), 0);
	assert_int_equal(fx_crl_number(other), 2);
	/* The first one's number 2 is taken; it moves past it. */
	assert_int_equal(svc_publish_crl(f->svc, &f->admin, &e), 0);
	assert_int_equal(fx_crl_number(f->svc), 3);
	/* And the other picks that up (once stored) at its next tick. */
	svc_crl_flush(f->svc);
	assert_true(svc_tick(other) >= 1);
	assert_int_equal(fx_crl_number(other), 3);
	svc_close(other);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_initial_crl, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_publish_and_reopen,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_two_processes,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_revokes,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_restart_keeps_entries,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_expired_drop_out,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_lost_der_republishes,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_buffer_outlives_swap,
		    fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
