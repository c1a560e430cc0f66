/*
 * Tests for migration 4 and db/ca.c between sessions: a version 3
 * database with certificates and nodes migrates (every certificate is
 * CA 1's, every node holds no bundle yet); the schema's own guards
 * (one current, one pending-or-next, one retired, a certificate unless
 * pending) refuse rows written behind db/'s back; instances racing
 * each phase (one wins, the others get the phase's refusal); and on
 * PostgreSQL the NOTIFY redisca_ca each committed phase sends, with
 * the generation, and a refused one does not.  SQLite (suite db) and
 * PostgreSQL (suite db_pg).
 */
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>

#include "dbtest.h"
#include "priv.h"

#define NOW	1800000000
#define RACERS	4

/* A CA record k in state st (as test_ca.c's). */
static void
mkca(struct ca_rec *r, int k, enum ca_state st)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->ski, sizeof(r->ski), "%040x", k);
	snprintf(r->spki_sha256, sizeof(r->spki_sha256), "%064x", k);
	r->state = st;
	assert_non_null(r->cert_pem = strdup("-----BEGIN CERTIFICATE-----\n"));
	assert_non_null(r->anchors_pem = strdup(r->cert_pem));
	r->key_type = KEY_EC_P256;
	r->not_after = NOW + 1000;
	r->created_at = 100 + k;
}

static void
boot_prepare(struct dbt *t, int next)
{
	struct ca_rec r;
	struct err e = { 0 };

	mkca(&r, 1, CA_STATE_CURRENT);
	assert_int_equal(db_ca_bootstrap(t->db, &r, &e), 0);
	ca_rec_clear(&r);
	if (next == 0)
		return;
	mkca(&r, next, CA_STATE_NEXT);
	assert_int_equal(db_ca_prepare(t->db, &r, NULL, &e), 0);
	ca_rec_clear(&r);
}

/*
 * A version 3 database (migrations 1 to 3 run by hand) with 300
 * certificates and a node opens at the last version: every certificate
 * is CA 1's, the node's bundle is "", there is no CA row yet and the
 * generation is 0; a bootstrap then makes CA 1, whose certificates
 * count.
 */
static void
test_migration_from_v3(void **state)
{
	struct dbt *t = *state;
	struct err e = { 0 };
	size_t count;
	uint64_t gen = 9;

	db_close(t->db);
	t->db = NULL;
	if (dbt_is_pg())
		assert_int_equal(dbt_pg_newdb(t), 0);
	else {
		dbt_remove(t);
		assert_int_equal(mkdir(t->dir, 0700), 0);
	}
	for (size_t i = 0; i < 3; i++) {
		const char *m = db_sql_migration(dbt_is_pg() ? DB_DIALECT_PG :
		    DB_DIALECT_SQLITE, i);
		assert_true(dbt_exec(t, m));
	}
	assert_true(dbt_exec(t, "INSERT INTO certificates (serial, profile, "
	    "san_dns, san_ip, san_uri, key_type, not_before, not_after, "
	    "fingerprint, issued_by, pem, created_at) "
	    "SELECT 'v' || n, 'p', '', '', '', 'ec-p256', 0, "
	    "1800000000 + n - 100, 'ff', 'cli', 'PEM', 1 "
	    "FROM (WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL "
	    "SELECT n + 1 FROM i WHERE n < 300) SELECT n FROM i) s"));
	assert_true(dbt_exec(t, "INSERT INTO nodes VALUES ('n1', 'h', 6379, "
	    "'', '', '', '/d', 'c', 'k', 'a', 'p', 0, '', '', '', 5, 0, 0, "
	    "0, 1)"));
	assert_int_equal(dbt_count(t, "SELECT count(*) FROM certificates"),
	    300);

	assert_non_null(t->db = db_open(t->path, &e));
	assert_int_equal(db_schema_version(t->db), (int)db_sql_nmigrations(
	    dbt_is_pg() ? DB_DIALECT_PG : DB_DIALECT_SQLITE));
	assert_true(db_schema_version(t->db) >= 4);
	assert_int_equal(dbt_count(t, "SELECT count(*) FROM certificates "
	    "WHERE ca_id = 1"), 300);
	assert_int_equal(dbt_count(t, "SELECT count(*) FROM nodes "
	    "WHERE bundle_etag = ''"), 1);
	assert_int_equal(dbt_count(t, "SELECT count(*) FROM cas"), 0);
	assert_int_equal(db_ca_generation(t->db, &gen, &e), 0);
	assert_int_equal(gen, 0);
	boot_prepare(t, 0);
	assert_int_equal(db_ca_unexpired(t->db, 1, NOW, NULL, 0, &count, &e),
	    0);
	assert_int_equal(count, 200);
	/* Opening again migrates nothing. */
	db_close(t->db);
	assert_non_null(t->db = db_open(t->path, &e));
	assert_int_equal(dbt_count(t, "SELECT count(*) FROM cas"), 1);
}

/* Rows written behind db/'s back that the schema refuses. */
static void
test_schema_guards(void **state)
{
	struct dbt *t = *state;

/* A key hash for SKI c (two characters): 64 characters. */
#define SPKI(c)	"'" c "000000000000000000000000000000" \
	"00000000000000000000000000000000'"
#define CA_ROW(id, ski, state, cert, csr) \
	"INSERT INTO cas (id, ski, spki_sha256, state, cert_pem, csr_pem, " \
	"anchors_pem, key_type, created_at) VALUES (" id ", '" ski "', " \
	SPKI(ski) ", '" state "', " cert ", " csr ", '', 'ec-p256', 1)"

	boot_prepare(t, 2);
	/* A second current, pending beside next, a second retired. */
	assert_false(dbt_exec(t, CA_ROW("3", "c3", "current", "'x'", "NULL")));
	assert_false(dbt_exec(t, CA_ROW("3", "c3", "pending", "NULL",
	    "'csr'")));
	assert_false(dbt_exec(t, CA_ROW("3", "c3", "next", "'x'", "NULL")));
	assert_true(dbt_exec(t, CA_ROW("3", "c3", "retired", "'x'", "NULL")));
	assert_false(dbt_exec(t, CA_ROW("4", "c4", "retired", "'x'", "NULL")));
	/* A pending CA without a CSR, a CA without a certificate. */
	assert_false(dbt_exec(t, CA_ROW("4", "c4", "pending", "NULL",
	    "NULL")));
	assert_false(dbt_exec(t, CA_ROW("4", "c4", "gone", "NULL", "NULL")));
	assert_false(dbt_exec(t, CA_ROW("4", "c4", "bogus", "'x'", "NULL")));
	/* The same key or SKI twice. */
	assert_false(dbt_exec(t, CA_ROW("4", "c3", "gone", "'x'", "NULL")));
	assert_true(dbt_exec(t, CA_ROW("4", "c4", "gone", "'x'", "NULL")));
	assert_true(dbt_exec(t, CA_ROW("5", "c5", "gone", "'x'", "NULL")));
	/* Two gone rows are fine; ca_meta keeps one row. */
	assert_false(dbt_exec(t, "INSERT INTO ca_meta VALUES (2, 0)"));
	assert_int_equal(dbt_count(t, "SELECT count(*) FROM cas"), 5);
}

/* One racing instance: its own handle, waiting at the barrier. */
struct racer {
	const char		*path;
	pthread_barrier_t	*bar;
	int			 phase;	/* 0 prepare, 1 activate, 2 retire */
	int			 k;	/* prepare: the CA's key */
	struct err		 e;
	int			 rc;
};

static void *
race(void *arg)
{
	struct racer *r = arg;
	struct ca_rec rec;
	struct audit_rec a;
	struct db *db;

	err_clear(&r->e);
	assert_non_null(db = db_open(r->path, &r->e));
	mkca(&rec, r->k, CA_STATE_NEXT);
	dbt_audit(&a, "ca.race", "");
	pthread_barrier_wait(r->bar);
	if (r->phase == 0)
		r->rc = db_ca_prepare(db, &rec, &a, &r->e);
	else if (r->phase == 1)
		r->rc = db_ca_activate(db, NOW, &a, &r->e);
	else
		r->rc = db_ca_retire(db, 0, NOW, &a, &r->e);
	ca_rec_clear(&rec);
	db_close(db);
	return NULL;
}

/* RACERS instances run phase at once: one wins, the rest get code. */
static void
race_phase(struct dbt *t, int phase, int k, enum err_code code)
{
	struct racer r[RACERS];
	pthread_t th[RACERS];
	pthread_barrier_t bar;
	int won = 0;

	assert_int_equal(pthread_barrier_init(&bar, NULL, RACERS), 0);
	for (int i = 0; i < RACERS; i++) {
		r[i] = (struct racer){ t->path, &bar, phase, k + i,
		    { 0 }, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < RACERS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		if (r[i].rc == 0)
			won++;
		else if (r[i].e.code != code)
			fail_msg("racer %d: %d %s", i, r[i].e.code, r[i].e.msg);
	}
	pthread_barrier_destroy(&bar);
	assert_int_equal(won, 1);
}

/*
 * Instances racing each phase on one database: exactly one prepare,
 * one activate, one retire; one bump and one audit entry each.
 */
static void
test_race(void **state)
{
	struct dbt *t = *state;
	struct err e = { 0 };
	uint64_t gen;

	boot_prepare(t, 0);
	for (int round = 0; round < 3; round++) {
		race_phase(t, 0, 10 + 10 * round, ERR_CA_NEXT_EXISTS);
		race_phase(t, 1, 0, ERR_CA_NOT_PREPARED);
		race_phase(t, 2, 0, ERR_CA_NOTHING_TO_RETIRE);
		assert_int_equal(dbt_count(t, "SELECT count(*) FROM cas "
		    "WHERE state <> 'gone'"), 1);
		assert_int_equal(dbt_count(t, "SELECT count(*) FROM cas "
		    "WHERE state = 'gone'"), round + 1);
		assert_int_equal(dbt_count(t, "SELECT count(*) FROM cas"),
		    round + 2);
	}
	assert_int_equal(db_ca_generation(t->db, &gen, &e), 0);
	assert_int_equal(gen, 9);
	assert_int_equal(dbt_count(t, "SELECT count(*) FROM audit "
	    "WHERE action = 'ca.race'"), 9);
}

/* One instance bootstrapping its own CA k at the barrier. */
static void *
boot_race(void *arg)
{
	struct racer *r = arg;
	struct ca_rec rec;
	struct db *db;

	err_clear(&r->e);
	assert_non_null(db = db_open(r->path, &r->e));
	mkca(&rec, r->k, CA_STATE_CURRENT);
	pthread_barrier_wait(r->bar);
	r->rc = db_ca_bootstrap(db, &rec, &r->e);
	ca_rec_clear(&rec);
	db_close(db);
	return NULL;
}

/*
 * Instances starting at once on a database without CAs, each with its
 * own ca.crt: every bootstrap returns 0 and exactly one CA is stored.
 */
static void
test_bootstrap_race(void **state)
{
	struct dbt *t = *state;
	struct racer r[RACERS];
	pthread_t th[RACERS];
	pthread_barrier_t bar;
	struct ca_rec *list = NULL;
	struct err e = { 0 };
	uint64_t gen;
	size_t n;

	assert_int_equal(pthread_barrier_init(&bar, NULL, RACERS), 0);
	for (int i = 0; i < RACERS; i++) {
		r[i] = (struct racer){ t->path, &bar, 0, 1 + i, { 0 }, -1 };
		assert_int_equal(pthread_create(&th[i], NULL, boot_race,
		    &r[i]), 0);
	}
	for (int i = 0; i < RACERS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		if (r[i].rc != 0)
			fail_msg("racer %d: %s", i, r[i].e.msg);
	}
	pthread_barrier_destroy(&bar);
	assert_int_equal(db_ca_list(t->db, &list, &n, &gen, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].id, 1);
	assert_int_equal(list[0].state, CA_STATE_CURRENT);
	assert_int_equal(gen, 0);
	db_ca_list_free(list, n);
}

/*
 * A damaged database: a row db/ cannot read, the generation row gone.
 * Each read and phase fails with the opaque database error.
 */
static void
test_damaged(void **state)
{
	struct dbt *t = *state;
	struct ca_rec *list = (struct ca_rec *)1, r;
	struct err e = { 0 };
	uint64_t gen = 5;
	size_t n = 5;

	boot_prepare(t, 2);
	assert_true(dbt_exec(t, "UPDATE cas SET key_type = 'dsa' "
	    "WHERE id = 2"));
	assert_int_equal(db_ca_list(t->db, &list, &n, &gen, &e), -1);
	assert_db_error(e);
	assert_null(list);
	assert_int_equal(n, 0);
	assert_true(dbt_exec(t, "UPDATE cas SET key_type = 'ec-p256' "
	    "WHERE id = 2"));
	assert_int_equal(db_ca_list(t->db, &list, &n, &gen, &e), 0);
	db_ca_list_free(list, n);

	assert_true(dbt_exec(t, "DELETE FROM ca_meta"));
	assert_int_equal(db_ca_generation(t->db, &gen, &e), -1);
	assert_db_error(e);
	assert_int_equal(gen, 0);
	assert_int_equal(db_ca_list(t->db, &list, &n, &gen, &e), -1);
	assert_db_error(e);
	assert_int_equal(db_ca_activate(t->db, NOW, NULL, &e), -1);
	assert_db_error(e);
	assert_int_equal(db_ca_retire(t->db, 0, NOW, NULL, &e), -1);
	assert_db_error(e);
	mkca(&r, 3, CA_STATE_NEXT);
	assert_int_equal(db_ca_prepare(t->db, &r, NULL, &e), -1);
	assert_db_error(e);
	ca_rec_clear(&r);
	/* Nothing changed. */
	assert_int_equal(dbt_count(t, "SELECT count(*) FROM cas WHERE "
	    "state = 'next'"), 1);
}

/* Wait (bounded) until n has heard CA generation want. */
static void
wait_ca(struct db_notify *n, uint64_t want)
{
	struct err e = { 0 };
	uint64_t num;
	int r;

	for (int i = 0; i < 50 && db_notify_ca_generation(n) < want; i++) {
		r = db_notify_wait(n, 200, -1, &num, &e);
		/* A CA notice is no CRL notice. */
		assert_int_equal(r, 0);
		assert_int_equal(num, 0);
	}
	assert_int_equal(db_notify_ca_generation(n), want);
}

/*
 * PostgreSQL: every committed phase sends its generation on
 * redisca_ca, which the CRL listener records; a refused phase sends
 * nothing.  SQLite: no listener.
 */
static void
test_notify(void **state)
{
	struct dbt *t = *state;
	struct db_notify *n;
	struct ca_rec r;
	struct err e = { 0 };
	uint64_t num;

	if (!dbt_is_pg()) {
		assert_null(db_notify_open(t->db, &e));
		assert_int_equal(db_notify_ca_generation(NULL), 0);
		return;
	}
	assert_non_null(n = db_notify_open(t->db, &e));
	assert_int_equal(db_notify_ca_generation(n), 0);
	boot_prepare(t, 2);
	wait_ca(n, 1);
	mkca(&r, 3, CA_STATE_NEXT);
	assert_int_equal(db_ca_prepare(t->db, &r, NULL, &e), -1);
	ca_rec_clear(&r);
	assert_int_equal(db_notify_wait(n, 300, -1, &num, &e), 0);
	assert_int_equal(db_notify_ca_generation(n), 1);
	assert_int_equal(db_ca_activate(t->db, NOW, NULL, &e), 0);
	wait_ca(n, 2);
	assert_int_equal(db_ca_retire(t->db, 1, NOW + 2000, NULL, &e), 0);
	wait_ca(n, 3);
	db_notify_close(n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migration_from_v3,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_schema_guards, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_race, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_notify, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_bootstrap_race,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_damaged, dbt_setup,
		    dbt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
