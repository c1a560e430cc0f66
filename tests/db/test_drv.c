/*
 * Tests of the drivers (db/drv.h): what every table relies on, run on
 * SQLite (suite db) and PostgreSQL (suite db_pg): error mapping,
 * RETURNING id, a token's uses spent by racing threads, db_state();
 * and on PostgreSQL only: a lost server is ERR_UNAVAILABLE and is
 * reconnected to, a COMMIT whose connection dies is never a success, a
 * hot standby opens read-only and refuses writes with ERR_READ_ONLY, a
 * deadlocked write transaction runs again, a multi-host URI follows a
 * promoted standby.
 */
#include <pthread.h>

#include "dbtest.h"
#include "names.h"

static char *pats[] = { "app-*" };

static void
mktoken(struct token_rec *t, const char *id, unsigned char h, int64_t uses)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->id, sizeof(t->id), "%s", id);
	t->kind = TOKEN_ENROLL;
	snprintf(t->profile, sizeof(t->profile), "redis-client");
	t->patterns = pats;
	t->npatterns = 1;
	t->uses_left = uses;
	t->max_cert_ttl = 86400;
	t->created_at = 900;
	memset(t->hash, h, sizeof(t->hash));
}

static void
mkcert(struct cert_rec *c, const char *serial)
{
	struct err e = { 0 };

	memset(c, 0, sizeof(*c));
	c->reason = -1;
	snprintf(c->serial, sizeof(c->serial), "%s", serial);
	snprintf(c->profile, sizeof(c->profile), "redis-client");
	assert_int_equal(names_set_cn(&c->names, "app-1", &e), 0);
	c->key_type = KEY_EC_P256;
	c->not_before = 1000;
	c->not_after = 90000;
	memset(c->fingerprint, 'f', RCA_SHA256_HEX);
	snprintf(c->issued_by, sizeof(c->issued_by), "token:00112233");
	c->pem = strdup("-----BEGIN CERTIFICATE-----\nMIIB\n"
	    "-----END CERTIFICATE-----\n");
	assert_non_null(c->pem);
	c->created_at = 1000;
}

/* A taken unique key, a missing parent row, a blob round trip. */
static void
test_errors_map(void **state)
{
	struct dbt *t = *state;
	const unsigned char der[] = { 0x30, 0x00, 0x5c, 0x78, 0xff };
	const struct db_arg crl[] = { DB_INT(7), DB_INT(1), DB_INT(2),
	    DB_BLOB(der, sizeof(der)), DB_INT(1) };
	struct rotation_rec r;
	struct err e = { 0 };
	struct db_conn *c;
	uint64_t num;
	int64_t tu, nu;
	unsigned char *got;
	size_t len;

	assert_non_null(c = db_conn_get(t->db, &e));
	assert_int_equal(db_run(c, DB_STMT_CRL_INSERT, crl, DB_NARGS(crl),
	    "test", &e), 1);
	assert_int_equal(db_run(c, DB_STMT_CRL_INSERT, crl, DB_NARGS(crl),
	    "test", &e), -1);
	assert_int_equal(e.code, ERR_ALREADY_EXISTS);
	/* The blob comes back byte for byte (BYTEA's hex on PostgreSQL). */
	assert_int_equal(db_crl_latest(t->db, 1, &num, &tu, &nu, &got, &len,
	    &e), 0);
	assert_int_equal(num, 7);
	assert_int_equal(len, sizeof(der));
	assert_memory_equal(got, der, sizeof(der));
	free(got);

	/* A rotation of a node that does not exist: the foreign key. */
	memset(&r, 0, sizeof(r));
	snprintf(r.node, sizeof(r.node), "nowhere");
	r.status = ROT_SUCCEEDED;
	err_clear(&e);
	assert_int_equal(db_rotation_insert(t->db, &r, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
}

/* DB_STMT_ROT_INSERT's RETURNING id: new ids, each readable back. */
static void
test_returning_id(void **state)
{
	struct dbt *t = *state;
	struct node_rec n;
	struct rotation_rec r, got;
	struct err e = { 0 };
	int64_t first;

	memset(&n, 0, sizeof(n));
	snprintf(n.name, sizeof(n.name), "redis-1");
	snprintf(n.host, sizeof(n.host), "10.0.0.1");
	n.port = 6380;
	snprintf(n.profile, sizeof(n.profile), "redis-node");
	n.ttl = 3600;
	assert_int_equal(db_node_insert(t->db, &n, NULL, &e), 0);
	memset(&r, 0, sizeof(r));
	snprintf(r.node, sizeof(r.node), "redis-1");
	r.status = ROT_SUCCEEDED;
	r.started_at = 5;
	assert_int_equal(db_rotation_insert(t->db, &r, &e), 0);
	assert_true(r.id > 0);
	first = r.id;
	r.started_at = 6;
	assert_int_equal(db_rotation_insert(t->db, &r, &e), 0);
	assert_true(r.id > first);
	assert_int_equal(db_rotation_get(t->db, first, &got, &e), 0);
	assert_int_equal(got.started_at, 5);
	assert_int_equal(db_rotation_get(t->db, r.id, &got, &e), 0);
	assert_int_equal(got.started_at, 6);
}

#define RACERS	8
#define USES	3

struct racer {
	struct db		*db;
	pthread_barrier_t	*start;
	int			 i;
	int			 rc;
	enum err_code		 code;
};

static void *
race(void *p)
{
	struct racer *r = p;
	struct cert_rec c;
	struct err e = { 0 };
	char serial[16];

	snprintf(serial, sizeof(serial), "a%02d", r->i);
	mkcert(&c, serial);
	pthread_barrier_wait(r->start);
	r->rc = db_cert_insert_use(r->db, &c, "00000000000000aa", NULL, &e);
	r->code = e.code;
	cert_rec_clear(&c);
	return NULL;
}

/*
 * A token of 3 uses spent by 8 threads at once (on PostgreSQL each
 * thread has its own connection): exactly 3 certificates.
 */
static void
test_token_uses_race(void **state)
{
	struct dbt *t = *state;
	struct racer r[RACERS];
	pthread_t th[RACERS];
	pthread_barrier_t start;
	struct token_rec tok;
	struct err e = { 0 };
	int wins = 0;

	mktoken(&tok, "00000000000000aa", 0xaa, USES);
	assert_int_equal(db_token_insert(t->db, &tok, NULL, &e), 0);
	assert_int_equal(pthread_barrier_init(&start, NULL, RACERS), 0);
	for (int i = 0; i < RACERS; i++) {
		r[i] = (struct racer){ t->db, &start, i, -2, ERR_OK };
		assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]),
		    0);
	}
	for (int i = 0; i < RACERS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		if (r[i].rc == 0)
			wins++;
		else
			assert_int_equal(r[i].code, ERR_UNAUTHORIZED);
	}
	pthread_barrier_destroy(&start);
	assert_int_equal(wins, USES);
	assert_int_equal(dbt_count(t, "SELECT count(*) FROM certificates"),
	    USES);
	assert_int_equal(dbt_count(t, "SELECT uses_left FROM tokens"), 0);
}

/* A healthy database: OK, and the ping agrees. */
static void
test_state_ok(void **state)
{
	struct dbt *t = *state;
	struct err e = { 0 };

	assert_int_equal(db_state(t->db), DB_STATE_OK);
	assert_int_equal(db_ping(t->db, &e), 0);
	assert_int_equal(db_schema_version(t->db),
	    (int)db_sql_nmigrations(dbt_is_pg() ? DB_DIALECT_PG :
	    DB_DIALECT_SQLITE));
}

/*
 * A URI with a password is refused, and the password is not echoed; a
 * URI that does not parse is a configuration error; a server that is
 * not there is unavailable.
 */
static void
test_uri_password(void **state)
{
	struct err e = { 0 };

	(void)state;
	assert_null(db_open("postgresql://rca:s3cret@127.0.0.1:1/rca", &e));
	assert_int_equal(e.code, ERR_CONFIG);
	assert_null(strstr(e.msg, "s3cret"));
	assert_null(db_open("postgres://127.0.0.1:1/rca?password=s3cret",
	    &e));
	assert_int_equal(e.code, ERR_CONFIG);
	assert_null(strstr(e.msg, "s3cret"));
	assert_null(db_open("postgresql://rca@127.0.0.1:1/rca?x=%zz", &e));
	assert_int_equal(e.code, ERR_CONFIG);
	/* Nobody listens on port 1: unavailable, not a database error. */
	assert_null(db_open("postgresql://rca@127.0.0.1:1/rca", &e));
	assert_int_equal(e.code, ERR_UNAVAILABLE);
}

/*
 * The server stops: every call is ERR_UNAVAILABLE (never ERR_DB), the
 * state says so; once it is back the next call reconnects.
 */
static void
test_pg_server_lost(void **state)
{
	struct dbt *t = *state;
	struct token_rec tok, got;
	struct err e = { 0 };

	if (!dbt_is_pg())
		skip();
	mktoken(&tok, "00000000000000bb", 0xbb, 1);
	assert_int_equal(db_token_insert(t->db, &tok, NULL, &e), 0);
	pg_fixture_stop(dbt_pgf);
	assert_int_equal(db_token_get(t->db, tok.id, &got, &e), -1);
	assert_int_equal(e.code, ERR_UNAVAILABLE);
	assert_int_equal(db_token_consume(t->db, tok.id, 1000, &e), -1);
	assert_int_equal(e.code, ERR_UNAVAILABLE);
	assert_int_equal(db_state(t->db), DB_STATE_UNAVAILABLE);
	assert_int_equal(db_ping(t->db, &e), -1);
	assert_int_equal(e.code, ERR_UNAVAILABLE);

	assert_int_equal(pg_fixture_restart(dbt_pgf), 0);
	assert_int_equal(db_state(t->db), DB_STATE_OK);
	assert_int_equal(db_token_get(t->db, tok.id, &got, &e), 0);
	assert_int_equal(got.uses_left, 1);
	token_rec_clear(&got);
	assert_int_equal(db_token_consume(t->db, tok.id, 1000, &e), 0);
}

/* A transaction body whose connection is killed before COMMIT. */
static int
body_then_kill(struct db_conn *c, void *arg, struct err *e)
{
	const struct dbt *t = arg;
	const struct db_arg crl[] = { DB_INT(9), DB_INT(1), DB_INT(2),
	    DB_BLOB("x", 1), DB_INT(1) };
	char sql[512];
	const char *name = strrchr(t->path, '/') + 1;

	if (db_run(c, DB_STMT_CRL_INSERT, crl, DB_NARGS(crl), "test",
	    e) != 1)
		return -1;
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(pid) FROM "
	    "pg_stat_activity WHERE datname = '%s' AND "
	    "pid <> pg_backend_pid()", name);
	assert_int_equal(pg_fixture_exec(dbt_pgf, NULL, sql), 0);
	return 0;
}

/*
 * The connection dies inside a write transaction: its COMMIT is
 * ERR_UNAVAILABLE, not a success, and nothing was written; the next
 * write runs on a new connection.
 */
static void
test_pg_commit_lost(void **state)
{
	struct dbt *t = *state;
	struct token_rec tok;
	struct err e = { 0 };

	if (!dbt_is_pg())
		skip();
	assert_int_equal(db_write(t->db, body_then_kill, t, NULL, &e), -1);
	assert_int_equal(e.code, ERR_UNAVAILABLE);
	assert_int_equal(dbt_count(t, "SELECT count(*) FROM crls"), 0);
	mktoken(&tok, "00000000000000cc", 0xcc, 1);
	assert_int_equal(db_token_insert(t->db, &tok, NULL, &e), 0);
	assert_int_equal(dbt_count(t, "SELECT count(*) FROM tokens"), 1);
}

/*
 * A hot standby: a database whose schema is current opens read-only
 * (reads work, writes are ERR_READ_ONLY, the state says READ_ONLY); one
 * whose schema is not is refused with ERR_READ_ONLY.
 */
static void
test_pg_standby(void **state)
{
	struct dbt *t = *state;
	struct pg_fixture *sb;
	struct token_rec tok, got;
	struct err e = { 0 };
	char uri[256], *empty;
	struct db *ro;

	if (!dbt_is_pg())
		skip();
	mktoken(&tok, "00000000000000dd", 0xdd, 2);
	assert_int_equal(db_token_insert(t->db, &tok, NULL, &e), 0);
	assert_non_null(empty = pg_fixture_createdb(dbt_pgf, "sb_empty"));
	free(empty);
	assert_non_null(sb = pg_fixture_standby(dbt_pgf));

	snprintf(uri, sizeof(uri), "postgresql://rca@127.0.0.1:%d/%s",
	    pg_fixture_port(sb), strrchr(t->path, '/') + 1);
	assert_non_null(ro = db_open(uri, &e));
	assert_int_equal(db_state(ro), DB_STATE_READ_ONLY);
	assert_int_equal(db_ping(ro, &e), -1);
	assert_int_equal(e.code, ERR_READ_ONLY);
	assert_int_equal(db_token_get(ro, tok.id, &got, &e), 0);
	assert_int_equal(got.uses_left, 2);
	token_rec_clear(&got);
	assert_int_equal(db_token_consume(ro, tok.id, 1000, &e), -1);
	assert_int_equal(e.code, ERR_READ_ONLY);
	mktoken(&tok, "00000000000000ee", 0xee, 2);
	assert_int_equal(db_token_insert(ro, &tok, NULL, &e), -1);
	assert_int_equal(e.code, ERR_READ_ONLY);
	db_close(ro);

	snprintf(uri, sizeof(uri), "postgresql://rca@127.0.0.1:%d/sb_empty",
	    pg_fixture_port(sb));
	assert_null(db_open(uri, &e));
	assert_int_equal(e.code, ERR_READ_ONLY);
	pg_fixture_free(sb);
}

/* One side of a deadlock: spend a use of one token, then the other. */
struct crosser {
	struct db		*db;
	pthread_barrier_t	*met;
	const char		*first, *second;
	int			 runs;	/* of the body */
	int			 rc;
	enum err_code		 code;
};

static int
cross_body(struct db_conn *c, void *arg, struct err *e)
{
	struct crosser *x = arg;

	if (db_token_use_in(c, x->first, 1000, e) == -1)
		return -1;
	/* Only the first run waits: both hold one row lock, then cross. */
	if (x->runs++ == 0)
		pthread_barrier_wait(x->met);
	return db_token_use_in(c, x->second, 1000, e);
}

static void *
cross(void *p)
{
	struct crosser *x = p;
	struct err e = { 0 };

	x->rc = db_write(x->db, cross_body, x, NULL, &e);
	x->code = e.code;
	return NULL;
}

/*
 * Two transactions lock two rows in opposite orders: PostgreSQL aborts
 * one (deadlock, 40P01), db_write() runs it again, and both commit.
 * (SQLite's writers queue on one lock: no deadlock to test.)
 */
static void
test_pg_deadlock_retried(void **state)
{
	struct dbt *t = *state;
	struct crosser x[2];
	pthread_t th[2];
	pthread_barrier_t met;
	struct token_rec tok;
	struct err e = { 0 };

	if (!dbt_is_pg())
		skip();
	mktoken(&tok, "00000000000000a1", 0xa1, 5);
	assert_int_equal(db_token_insert(t->db, &tok, NULL, &e), 0);
	mktoken(&tok, "00000000000000a2", 0xa2, 5);
	assert_int_equal(db_token_insert(t->db, &tok, NULL, &e), 0);
	assert_int_equal(pthread_barrier_init(&met, NULL, 2), 0);
	x[0] = (struct crosser){ t->db, &met, "00000000000000a1",
	    "00000000000000a2", 0, -2, ERR_OK };
	x[1] = (struct crosser){ t->db, &met, "00000000000000a2",
	    "00000000000000a1", 0, -2, ERR_OK };
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, cross, &x[i]),
		    0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(x[i].rc, 0);
	}
	pthread_barrier_destroy(&met);
	/*
	 * At least one ran again (a retry may deadlock once more: each
	 * runs at most DB_TX_TRIES times); each spent one use of each.
	 */
	assert_true(x[0].runs + x[1].runs >= 3);
	assert_true(x[0].runs <= DB_TX_TRIES && x[1].runs <= DB_TX_TRIES);
	assert_int_equal(dbt_count(t, "SELECT sum(uses_left) FROM tokens"),
	    6);
}

/*
 * Failover with a multi-host URI: the primary stops, a write is
 * ERR_UNAVAILABLE; the standby is promoted and the next write
 * reconnects to it (PQreset walks the URI's hosts again), without a
 * new db_open().
 */
static void
test_pg_failover(void **state)
{
	struct dbt *t = *state;
	struct pg_fixture *sb;
	struct token_rec tok, got;
	struct err e = { 0 };
	char uri[256];
	struct db *db;
	const char *name = strrchr(t->path, '/') + 1;

	if (!dbt_is_pg())
		skip();
	assert_non_null(sb = pg_fixture_standby(dbt_pgf));
	snprintf(uri, sizeof(uri), "postgresql://rca@127.0.0.1:%d,"
	    "127.0.0.1:%d/%s?target_session_attrs=read-write",
	    pg_fixture_port(dbt_pgf), pg_fixture_port(sb), name);
	assert_non_null(db = db_open(uri, &e));
	mktoken(&tok, "00000000000000f1", 0xf1, 5);
	assert_int_equal(db_token_insert(db, &tok, NULL, &e), 0);
	/* Replication is asynchronous: the token must be on the standby. */
	assert_int_equal(pg_fixture_catch_up(dbt_pgf, sb), 0);

	/*
	 * Stopped, not killed: after a SIGKILL of the postmaster alone its
	 * backends live on for a moment and may still commit.
	 */
	pg_fixture_stop(dbt_pgf);
	assert_int_equal(db_token_consume(db, tok.id, 1000, &e), -1);
	assert_int_equal(e.code, ERR_UNAVAILABLE);
	assert_int_equal(pg_fixture_promote(sb), 0);
	assert_int_equal(db_token_consume(db, tok.id, 1000, &e), 0);
	assert_int_equal(db_state(db), DB_STATE_OK);
	assert_int_equal(db_token_get(db, tok.id, &got, &e), 0);
	/* The row replicated before the failover, and one use spent. */
	assert_int_equal(got.uses_left, 4);
	token_rec_clear(&got);
	db_close(db);
	db_close(t->db);
	t->db = NULL;
	pg_fixture_free(sb);
	/* The old primary comes back for the tests after this one. */
	assert_int_equal(pg_fixture_restart(dbt_pgf), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_errors_map, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_returning_id, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_token_uses_race,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_state_ok, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test(test_uri_password),
		cmocka_unit_test_setup_teardown(test_pg_server_lost,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_pg_commit_lost,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_pg_standby, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_pg_deadlock_retried,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_pg_failover, dbt_setup,
		    dbt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
