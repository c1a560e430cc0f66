/*
 * The CRL across instances (SPEC section 9): two services on one
 * PostgreSQL 15 (tests/support/pg.h) in one process are two instances.
 * A revocation on A is served by B within 1 s; revokers on both at
 * once get one numbering and CRLs that list every revocation; the
 * incremental CRL equals a rebuild from the database; a listener whose
 * connection is killed still delivers (the poll) and listens again.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "fixture.h"
#include "pg.h"
#include "svc_int.h"
#include "timeutil.h"
#include "twait.h"

#define NREVOKERS	16	/* 8 on each instance */
#define PER_REVOKER	3
_Static_assert(PER_REVOKER <= FX_REVOKES_MAX, "a revoker's serials");
#define SEEN_MS		1000	/* SPEC: every instance within 1 s */

static struct pg_fixture *pgf;

/* Two instances on one new database, and the CA both load. */
struct mx {
	char			 dir[64];
	char			 cert[256], key[256];
	char			*uri;		/* new */
	struct profile		 profiles[1];
	struct svc_config	 cfg;
	struct svc		*a, *b;
	struct svc_actor	 cli, admin_a, admin_b;
	EVP_PKEY		*ca_pub;	/* to verify CRLs */
};

static struct svc *
mx_open(struct mx *m)
{
	struct svc *s;
	struct err e;

	err_clear(&e);
	if ((s = svc_open(&m->cfg, &e)) == NULL)
		fail_msg("svc_open: %s: %s", err_code_name(e.code), e.msg);
	return s;
}

static void
mx_ca_pub(struct mx *m)
{
	FILE	*fp;
	X509	*ca;

	assert_non_null(fp = fopen(m->cert, "r"));
	assert_non_null(ca = PEM_read_X509(fp, NULL, NULL, NULL));
	fclose(fp);
	assert_non_null(m->ca_pub = X509_get_pubkey(ca));
	X509_free(ca);
}

static int
mx_setup(void **state)
{
	static int		 n;
	struct mx		*m;
	struct ca_create_opts	 o;
	struct svc_token_req	 tr;
	struct token_rec	 t;
	struct err		 e;
	char			 name[32], tok[FX_TOKEN_LEN];

	err_clear(&e);
	assert_non_null(m = calloc(1, sizeof(*m)));
	snprintf(m->dir, sizeof(m->dir), "/tmp/rca-crlm-XXXXXX");
	assert_non_null(mkdtemp(m->dir));
	snprintf(m->cert, sizeof(m->cert), "%s/ca.crt", m->dir);
	snprintf(m->key, sizeof(m->key), "%s/ca.key", m->dir);
	memset(&o, 0, sizeof(o));
	o.key_type = KEY_EC_P256;
	o.cn = "redis-ca multi test";
	o.days = 3650;
	if (ca_create_files(m->cert, m->key, &o, &e) == -1)
		fail_msg("ca_create_files: %s", e.msg);
	mx_ca_pub(m);
	snprintf(name, sizeof(name), "crlm_%d_%d", (int)getpid(), ++n);
	assert_non_null(m->uri = pg_fixture_createdb(pgf, name));

	snprintf(m->profiles[0].name, sizeof(m->profiles[0].name),
	    "redis-client");
	m->profiles[0].eku = EKU_CLIENT_AUTH;
	m->profiles[0].default_ttl = 24 * 3600;
	m->profiles[0].max_ttl = 7 * 86400;
	m->profiles[0].key_types = KEY_BIT(KEY_EC_P256);
	m->cfg.ca_cert = m->cert;
	m->cfg.ca_key = m->key;
	m->cfg.database = m->uri;
	m->cfg.public_url = "http://127.0.0.1:8080";
	m->cfg.crl_validity = 24 * 3600;
	m->cfg.crl_refresh_before = 8 * 3600;
	m->cfg.rotation_check_interval = 60;
	m->cfg.rotation_renew_before_pct = 33;
	m->cfg.profiles = m->profiles;
	m->cfg.nprofiles = 1;
	m->cfg.data_dir = m->dir;
	m->a = mx_open(m);
	m->b = mx_open(m);

	svc_actor_init(&m->cli, ACTOR_CLI);
	memset(&tr, 0, sizeof(tr));
	tr.kind = TOKEN_ADMIN;
	tr.description = "multi admin";
	if (svc_token_create(m->a, &m->cli, &tr, &t, tok, &e) == -1)
		fail_msg("admin token: %s", e.msg);
	token_rec_clear(&t);
	assert_int_equal(svc_auth_token(m->a, tok, &m->admin_a, &e), 0);
	assert_int_equal(svc_auth_token(m->b, tok, &m->admin_b, &e), 0);
	*state = m;
	return 0;
}

static int
mx_teardown(void **state)
{
	struct mx *m = *state;
	char p[300];

	svc_actor_clear(&m->admin_a);
	svc_actor_clear(&m->admin_b);
	svc_actor_clear(&m->cli);
	svc_close(m->a);
	svc_close(m->b);
	EVP_PKEY_free(m->ca_pub);
	free(m->uri);
	snprintf(p, sizeof(p), "%s/ca.crt", m->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/ca.key", m->dir);
	unlink(p);
	rmdir(m->dir);
	free(m);
	return 0;
}

/* Issue a client certificate on s; serial gets its serial. */
static void
issue(struct svc *s, const struct svc_actor *a, int i, char *serial,
    size_t cap)
{
	char cn[32];

	snprintf(cn, sizeof(cn), "m%d", i);
	fx_issue_serial(s, a, cn, 0, serial, cap);
}

/*
 * Poll s until its CRL is at least number and lists serial (NULL: any),
 * at most ms; the milliseconds it took, or -1.
 */
static int64_t
await(struct mx *m, struct svc *s, uint64_t number, const char *serial,
    int64_t ms)
{
	int64_t	 t0 = tw_mono_ms(), el;
	uint64_t cur;
	char	*t;
	bool	 ok;

	for (;;) {
		t = fx_crl_der_text(s, m->ca_pub, &cur);
		ok = cur >= number && (serial == NULL ||
		    fx_crl_lists(t, serial, NULL));
		free(t);
		el = tw_mono_ms() - t0;
		if (ok)
			return el;
		if (el > ms)
			return -1;
		usleep(5000);
	}
}

static uint64_t
heard(struct svc *s, uint64_t *listens)
{
	uint64_t h;

	pthread_mutex_lock(&s->crl_mu);
	h = s->crl_heard;
	if (listens != NULL)
		*listens = s->crl_listens;
	pthread_mutex_unlock(&s->crl_mu);
	return h;
}

/*
 * A revocation on A: B serves a CRL listing it within 1 s, told by a
 * notice; both run the listener, neither the persister.
 */
static void
test_seen_by_other(void **state)
{
	struct mx	*m = *state;
	struct err	 e;
	char		 serial[64];
	uint64_t	 told, h0;
	int64_t		 ms;

	assert_true(m->a->shared && m->b->shared);
	assert_true(m->a->crl_listener_on && m->b->crl_listener_on);
	assert_false(m->a->crl_persister_on || m->b->crl_persister_on);
	assert_int_equal(fx_crl_number(m->a), 1);
	assert_int_equal(fx_crl_number(m->b), 1);
	issue(m->a, &m->admin_a, 1, serial, sizeof(serial));
	h0 = heard(m->b, NULL);
	err_clear(&e);
	assert_int_equal(svc_revoke(m->a, &m->admin_a, serial,
	    REASON_KEY_COMPROMISE, NULL, &told, &e), 0);
	assert_int_equal(told, 2);
	ms = await(m, m->b, told, serial, SEEN_MS);
	print_message("B served CRL %llu %lld ms after A's revoke "
	    "returned\n", (unsigned long long)told, (long long)ms);
	assert_true(ms >= 0);
	assert_true(heard(m->b, NULL) > h0);

	/* And the other way round. */
	issue(m->b, &m->admin_b, 2, serial, sizeof(serial));
	assert_int_equal(svc_revoke(m->b, &m->admin_b, serial,
	    REASON_SUPERSEDED, NULL, &told, &e), 0);
	assert_int_equal(told, 3);
	assert_true(await(m, m->a, told, serial, SEEN_MS) >= 0);
}

/*
 * 8 revokers on A and 8 on B at once: every revocation told a CRL
 * that lists it, no number told for two different publications (each
 * thread's strictly increase; all stored numbers distinct by the
 * database's check), and within 1 s both serve the newest CRL, which
 * lists all, exactly as the database says.
 */
static void
test_concurrent_both(void **state)
{
	struct mx	*m = *state;
	struct fx_revoker *rv;
	pthread_t	 th[NREVOKERS];
	struct err	 e;
	uint64_t	 na, nb, stored = 0;
	int64_t		 t0;
	char		*ta, *tb, *td;

	assert_non_null(rv = calloc(NREVOKERS, sizeof(*rv)));
	for (int t = 0; t < NREVOKERS; t++) {
		rv[t].s = t % 2 ? m->b : m->a;
		rv[t].a = t % 2 ? &m->admin_b : &m->admin_a;
		rv[t].ca_pub = m->ca_pub;
		rv[t].n = PER_REVOKER;
		for (int i = 0; i < PER_REVOKER; i++)
			issue(rv[t].s, rv[t].a, t * PER_REVOKER + i,
			    rv[t].serial[i], sizeof(rv[t].serial[i]));
	}
	t0 = tw_mono_ms();
	for (int t = 0; t < NREVOKERS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, fx_revoker_run,
		    &rv[t]), 0);
	for (int t = 0; t < NREVOKERS; t++)
		assert_int_equal(pthread_join(th[t], NULL), 0);
	t0 = tw_mono_ms() - t0;
	for (int t = 0; t < NREVOKERS; t++)
		assert_int_equal(rv[t].failed, 0);

	err_clear(&e);
	assert_int_equal(db_crl_number(m->a->db, &stored, &e), 0);
	assert_true(await(m, m->a, stored, NULL, SEEN_MS) >= 0);
	assert_true(await(m, m->b, stored, NULL, SEEN_MS) >= 0);
	ta = fx_crl_der_text(m->a, m->ca_pub, &na);
	tb = fx_crl_der_text(m->b, m->ca_pub, &nb);
	assert_int_equal(na, stored);
	assert_int_equal(nb, stored);
	td = fx_crl_db_text(m->uri);
	assert_string_equal(ta, td);
	assert_string_equal(tb, td);
	for (int t = 0; t < NREVOKERS; t++)
		for (int i = 0; i < PER_REVOKER; i++)
			assert_true(fx_crl_lists(ta, rv[t].serial[i], NULL));
	print_message("%d revocations on two instances in %lld ms: CRLs "
	    "2..%llu\n", NREVOKERS * PER_REVOKER, (long long)t0,
	    (unsigned long long)stored);
	free(ta);
	free(tb);
	free(td);
	free(rv);
}

/*
 * Revocations alternating between A and B, each building on its own
 * incremental set: the last CRL equals the database and a rebuild from
 * scratch (same entries, same order, the next number).
 */
static void
test_incremental_equals_scratch(void **state)
{
	static const int reasons[] = {
		REASON_KEY_COMPROMISE, REASON_AFFILIATION_CHANGED,
		REASON_SUPERSEDED, REASON_CESSATION_OF_OPERATION,
		REASON_PRIVILEGE_WITHDRAWN,
	};
	struct mx	*m = *state;
	struct err	 e;
	char		 serial[10][64];
	uint64_t	 told = 0, ni, nf;
	char		*ti, *tf, *td;

	for (int i = 0; i < 10; i++)
		issue(i % 2 ? m->b : m->a, i % 2 ? &m->admin_b : &m->admin_a,
		    100 + i, serial[i], sizeof(serial[i]));
	err_clear(&e);
	for (int i = 0; i < 10; i++)
		assert_int_equal(svc_revoke(i % 2 ? m->b : m->a, i % 2 ?
		    &m->admin_b : &m->admin_a, serial[i], reasons[i % 5], NULL,
		    &told, &e), 0);
	/* The last was B's: its incremental CRL. */
	ti = fx_crl_der_text(m->b, m->ca_pub, &ni);
	assert_int_equal(ni, told);
	td = fx_crl_db_text(m->uri);
	assert_string_equal(ti, td);
	for (int i = 0; i < 10; i++)
		assert_true(fx_crl_lists(ti, serial[i], NULL));
	/* From scratch on A (it reloads everything). */
	assert_int_equal(svc_publish_crl(m->a, &m->cli, &e), 0);
	tf = fx_crl_der_text(m->a, m->ca_pub, &nf);
	assert_int_equal(nf, ni + 1);
	assert_string_equal(ti, tf);
	assert_true(await(m, m->b, nf, NULL, SEEN_MS) >= 0);
	free(ti);
	free(tf);
	free(td);
}

/* How many sessions LISTEN on redisca_crl (one per instance). */
static int
listeners(struct mx *m)
{
	PGconn		*c;
	PGresult	*r;
	int		 n;

	assert_non_null(c = PQconnectdb(pg_fixture_admin_uri(pgf)));
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	r = PQexec(c, "SELECT count(*) FROM pg_stat_activity "
	    "WHERE query IN ('LISTEN redisca_crl', 'LISTEN redisca_ca')");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	n = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
	(void)m;
	return n;
}

/*
 * The listeners' connections killed (pg_terminate_backend): a
 * revocation on A still reaches B within about 1 s (the poll of the
 * stored number), both listen again, and the next notice is heard.
 */
static void
test_listener_killed(void **state)
{
	struct mx	*m = *state;
	struct err	 e;
	char		 s1[64], s2[64];
	uint64_t	 told, la, lb, la2, lb2, h0;
	int64_t		 ms, t0;

	assert_int_equal(listeners(m), 2);
	(void)heard(m->a, &la);
	(void)heard(m->b, &lb);
	issue(m->a, &m->admin_a, 1, s1, sizeof(s1));
	issue(m->a, &m->admin_a, 2, s2, sizeof(s2));
	assert_int_equal(pg_fixture_exec(pgf, NULL,
	    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
	    "WHERE query IN ('LISTEN redisca_crl', 'LISTEN redisca_ca')"), 0);
	/* Gone (they come back only after SVC_CRL_POLL_MS). */
	t0 = tw_mono_ms();
	while (listeners(m) > 0 && tw_mono_ms() - t0 < 2000)
		usleep(1000);
	assert_int_equal(listeners(m), 0);
	h0 = heard(m->b, NULL);
	err_clear(&e);
	assert_int_equal(svc_revoke(m->a, &m->admin_a, s1, REASON_SUPERSEDED,
	    NULL, &told, &e), 0);
	ms = await(m, m->b, told, s1, 1500);
	print_message("listener killed: B served CRL %llu after %lld ms "
	    "(the poll)\n", (unsigned long long)told, (long long)ms);
	assert_true(ms >= 0);
	/* No notice carried it: the new session LISTENed after it. */
	assert_int_equal(heard(m->b, NULL), h0);

	/* Both listen again, on new sessions. */
	t0 = tw_mono_ms();
	do {
		(void)heard(m->a, &la2);
		(void)heard(m->b, &lb2);
		if (la2 > la && lb2 > lb && listeners(m) == 2)
			break;
		usleep(20000);
	} while (tw_mono_ms() - t0 < 5000);
	assert_true(la2 > la && lb2 > lb);
	assert_int_equal(listeners(m), 2);
	h0 = heard(m->b, NULL);
	assert_int_equal(svc_revoke(m->a, &m->admin_a, s2, REASON_SUPERSEDED,
	    NULL, &told, &e), 0);
	assert_true(await(m, m->b, told, s2, SEEN_MS) >= 0);
	t0 = tw_mono_ms();
	while (heard(m->b, NULL) == h0 && tw_mono_ms() - t0 < SEEN_MS)
		usleep(5000);
	assert_true(heard(m->b, NULL) > h0);
}

static int
group_setup(void **state)
{
	(void)state;
	if (!pg_fixture_available()) {
		fprintf(stderr, "PostgreSQL binaries missing: skipped\n");
		exit(77);
	}
	return (pgf = pg_fixture_start()) == NULL ? -1 : 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	pg_fixture_free(pgf);
	pgf = NULL;
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_seen_by_other, mx_setup,
		    mx_teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_both,
		    mx_setup, mx_teardown),
		cmocka_unit_test_setup_teardown(
		    test_incremental_equals_scratch, mx_setup, mx_teardown),
		cmocka_unit_test_setup_teardown(test_listener_killed,
		    mx_setup, mx_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
