/* Tests for db/crl.c: CRL numbers only go up; the latest is served. */
#include <pthread.h>
#include <sys/stat.h>

#include "dbtest.h"
#include "priv.h"

static void
test_empty(void **state)
{
	struct dbt *t = *state;
	struct err e = { 0 };
	uint64_t num = 9;
	int64_t tu, nu;
	unsigned char *der = (unsigned char *)"x";
	size_t len = 9;

	assert_int_equal(db_crl_latest(t->db, 1, &num, &tu, &nu, &der, &len,
	    &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(num, 0);
	assert_null(der);
	assert_int_equal(len, 0);
}

static void
test_save_latest(void **state)
{
	struct dbt *t = *state;
	const unsigned char d1[] = { 0x30, 0x01, 0x00 };
	const unsigned char d2[] = { 0x30, 0x03, 0x02, 0x01, 0x02 };
	const unsigned char d3[] = { 0x30, 0x00 };
	struct audit_rec a, *al;
	struct err e = { 0 };
	uint64_t num;
	int64_t tu, nu, next;
	unsigned char *der;
	size_t len, an;

	dbt_audit(&a, "crl.publish", "1");
	assert_int_equal(db_crl_save(t->db, 1, 1, 100, 200, d1, sizeof(d1), &a,
	    &e), 0);
	dbt_audit(&a, "crl.publish", "2");
	assert_int_equal(db_crl_save(t->db, 1, 2, 150, 250, d2, sizeof(d2), &a,
	    &e), 0);
	/* The same number again, or a lower one: refused. */
	assert_int_equal(db_crl_save(t->db, 1, 2, 160, 260, d3, sizeof(d3), &a,
	    &e), -1);
	assert_int_equal(e.code, ERR_CONFLICT);
	assert_int_equal(db_crl_save(t->db, 1, 1, 160, 260, d3, sizeof(d3),
	    NULL, &e), -1);
	assert_int_equal(e.code, ERR_CONFLICT);
	assert_int_equal(db_crl_save(t->db, 1, 0, 160, 260, d3, sizeof(d3),
	    NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(db_crl_save(t->db, 1, 3, 160, 260, d3, 0, NULL, &e),
	    -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(db_crl_save(t->db, 1, (uint64_t)INT64_MAX + 1, 160,
	    260, d3, sizeof(d3), NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);

	assert_int_equal(db_crl_latest(t->db, 1, &num, &tu, &nu, &der, &len,
	    &e), 0);
	assert_int_equal(num, 2);
	assert_int_equal(tu, 150);
	assert_int_equal(nu, 250);
	assert_int_equal(len, sizeof(d2));
	assert_memory_equal(der, d2, sizeof(d2));
	free(der);

	/* Two audit entries: the refused saves wrote none. */
	assert_int_equal(db_audit_list(t->db, 0, 10, &al, &an, &next, &e),
	    0);
	assert_int_equal(an, 2);
	assert_string_equal(al[1].object, "2");
	db_audit_list_free(al, an);
}

static void
test_prune_keeps_latest(void **state)
{
	struct dbt *t = *state;
	const unsigned char d[] = { 0x30, 0x00 };
	struct err e = { 0 };
	struct db_conn *c;
	sqlite3_stmt *st;
	uint64_t num;
	int64_t tu, nu;
	unsigned char *der;
	size_t len;

	/* SQLite only: raw sqlite3 reads, another process's lock. */
	DBT_SQLITE_ONLY();
	for (uint64_t i = 1; i <= DB_CRL_KEEP + 10; i++)
		assert_int_equal(db_crl_save(t->db, 1, i * 3, 1, 2, d,
		    sizeof(d), NULL, &e), 0);
	assert_non_null(c = db_conn_get(t->db, &e));
	assert_int_equal(sqlite3_prepare_v2(c->h,
	    "SELECT count(*), min(number) FROM crls", -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	/* Only the newest DER stays. */
	assert_int_equal(sqlite3_column_int(st, 0), 1);
	assert_int_equal(sqlite3_column_int(st, 1), (DB_CRL_KEEP + 10) * 3);
	sqlite3_finalize(st);
	assert_int_equal(db_crl_latest(t->db, 1, &num, &tu, &nu, &der, &len,
	    &e), 0);
	assert_int_equal(num, (DB_CRL_KEEP + 10) * 3);
	free(der);
	/* Even after pruning, the number cannot go back. */
	assert_int_equal(db_crl_save(t->db, 1, 4, 1, 2, d, sizeof(d), NULL, &e),
	    -1);
	assert_int_equal(e.code, ERR_CONFLICT);
}

/*
 * A number claimed first (no DER), its DER written later: the claim
 * counts for the numbering but not as the latest CRL until then; a
 * late DER of an older claim changes nothing.
 */
static void
test_claim_then_der(void **state)
{
	struct dbt *t = *state;
	const unsigned char d1[] = { 0x30, 0x01, 0x01 };
	const unsigned char d3[] = { 0x30, 0x01, 0x03 };
	const unsigned char d5[] = { 0x30, 0x01, 0x05 };
	struct err e = { 0 };
	uint64_t num, max;
	int64_t tu, nu;
	unsigned char *der;
	size_t len;

	assert_int_equal(db_crl_save(t->db, 1, 1, 1, 2, d1, sizeof(d1), NULL,
	    &e), 0);
	assert_int_equal(db_crl_save(t->db, 1, 3, 3, 4, NULL, 0, NULL, &e), 0);
	assert_int_equal(db_crl_number(t->db, &max, &e), 0);
	assert_int_equal(max, 3);
	assert_int_equal(db_crl_latest(t->db, 1, &num, &tu, &nu, &der, &len,
	    &e), 0);
	assert_int_equal(num, 1);
	free(der);
	/* Claimed is taken. */
	assert_int_equal(db_crl_save(t->db, 1, 3, 3, 4, NULL, 0, NULL, &e), -1);
	assert_int_equal(e.code, ERR_CONFLICT);
	assert_int_equal(db_crl_put_der(t->db, 1, 3, d3, sizeof(d3), &e), 0);
	assert_int_equal(db_crl_latest(t->db, 1, &num, &tu, &nu, &der, &len,
	    &e), 0);
	assert_int_equal(num, 3);
	assert_int_equal(tu, 3);
	assert_int_equal(nu, 4);
	assert_memory_equal(der, d3, sizeof(d3));
	free(der);

	/* Claims 4 and 5; 5's DER first, then 4's (pruned) is a no-op. */
	assert_int_equal(db_crl_save(t->db, 1, 4, 4, 5, NULL, 0, NULL, &e), 0);
	assert_int_equal(db_crl_save(t->db, 1, 5, 5, 6, NULL, 0, NULL, &e), 0);
	assert_int_equal(db_crl_put_der(t->db, 1, 5, d5, sizeof(d5), &e), 0);
	assert_int_equal(db_crl_put_der(t->db, 1, 4, d3, sizeof(d3), &e), 0);
	assert_int_equal(db_crl_latest(t->db, 1, &num, &tu, &nu, &der, &len,
	    &e), 0);
	assert_int_equal(num, 5);
	assert_memory_equal(der, d5, sizeof(d5));
	free(der);
	assert_int_equal(db_crl_put_der(t->db, 1, 6, NULL, 0, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
}

static void
test_locked(void **state)
{
	struct dbt *t = *state;
	const unsigned char d[] = { 0x30, 0x00 };
	struct err e = { 0 };
	uint64_t num;
	int64_t tu, nu;
	unsigned char *der;
	size_t len;
	sqlite3 *h;

	/* SQLite only: raw sqlite3 reads, another process's lock. */
	DBT_SQLITE_ONLY();
	assert_int_equal(db_crl_save(t->db, 1, 1, 1, 2, d, sizeof(d), NULL, &e),
	    0);
	h = dbt_lock(t);
	assert_int_equal(db_crl_save(t->db, 1, 2, 1, 2, d, sizeof(d), NULL, &e),
	    -1);
	assert_db_error(e);
	assert_int_equal(db_crl_latest(t->db, 1, &num, &tu, &nu, &der, &len,
	    &e), 0);
	assert_int_equal(num, 1);
	free(der);
	dbt_unlock(h);
	assert_int_equal(db_crl_save(t->db, 1, 2, 1, 2, d, sizeof(d), NULL, &e),
	    0);
}

/* A certificate (serial, notAfter) of CA ca_id. */
static void
put_cert_of(struct dbt *t, int64_t ca_id, const char *serial,
    int64_t not_after)
{
	struct cert_rec c;
	struct err e = { 0 };

	memset(&c, 0, sizeof(c));
	c.reason = -1;
	snprintf(c.serial, sizeof(c.serial), "%s", serial);
	snprintf(c.profile, sizeof(c.profile), "p");
	assert_int_equal(names_set_cn(&c.names, "cn", &e), 0);
	c.key_type = KEY_EC_P256;
	c.not_before = not_after - 3600;
	c.not_after = not_after;
	memset(c.fingerprint, 'f', RCA_SHA256_HEX);
	snprintf(c.issued_by, sizeof(c.issued_by), "cli");
	c.pem = strdup("-----BEGIN CERTIFICATE-----\nMIIB\n"
	    "-----END CERTIFICATE-----\n");
	assert_non_null(c.pem);
	c.created_at = not_after - 3600;
	c.ca_id = ca_id;
	assert_int_equal(db_cert_insert(t->db, &c, NULL, &e), 0);
	cert_rec_clear(&c);
}

/* A certificate (serial, notAfter) of CA 1, for the publication tests. */
static void
put_cert(struct dbt *t, const char *serial, int64_t not_after)
{
	put_cert_of(t, 1, serial, not_after);
}

/* What a sign() saw, and the DER it signs. */
struct signer {
	int		 runs;
	bool		 full;
	uint64_t	 number, stored;
	size_t		 nrows;
	char		 first[RCA_SERIAL_HEX_MAX + 1];
	unsigned char	 der[4];
	bool		 fail;		/* set no DER */
};

static int
sign(struct db_crl_pub *p, void *arg, struct err *e)
{
	struct signer *g = arg;

	(void)e;
	g->runs++;
	g->full = p->full;
	g->number = p->number;
	g->stored = p->stored;
	g->nrows = p->nrows;
	g->first[0] = '\0';
	if (p->nrows > 0)
		snprintf(g->first, sizeof(g->first), "%s", p->rows[0].serial);
	if (g->fail)
		return 0;
	g->der[0] = 0x30;
	g->der[1] = 0x02;
	g->der[2] = 0x02;
	g->der[3] = (unsigned char)p->number;
	p->der = g->der;
	p->len = sizeof(g->der);
	p->this_update = p->now;
	p->next_update = p->now + 100;
	return 0;
}

/*
 * db_crl_publish(): the number after the stored one (or the caller's),
 * the full list only when the caller's count differs (or the store went
 * back below the caller's number), the DER stored at once, the audit
 * entry with it; a sign() without DER fails and stores nothing.
 */
static void
test_publish(void **state)
{
	struct dbt *t = *state;
	struct db_crl_pub p;
	struct signer g;
	struct audit_rec a;
	struct err e = { 0 };
	uint64_t num;
	int64_t tu, nu;
	unsigned char *der;
	size_t len;

	memset(&p, 0, sizeof(p));
	memset(&g, 0, sizeof(g));
	dbt_audit(&a, "crl.publish", "1");
	p.ca_id = 1;
	p.now = 1000;
	p.audit = &a;
	assert_int_equal(db_crl_publish(t->db, &p, sign, &g, &e), 0);
	assert_int_equal(g.number, 1);
	assert_false(g.full);
	assert_int_equal(db_crl_latest(t->db, 1, &num, &tu, &nu, &der, &len,
	    &e), 0);
	assert_int_equal(num, 1);
	assert_int_equal(tu, 1000);
	assert_int_equal(nu, 1100);
	assert_int_equal(len, 4);
	assert_int_equal(der[3], 1);
	free(der);
	assert_int_equal(dbt_count(t, "SELECT count(*) FROM audit "
	    "WHERE action = 'crl.publish'"), 1);

	/* Revoked elsewhere: the caller's 0 entries are not the 1 stored. */
	put_cert(t, "0a", 5000);
	put_cert(t, "0b", 900);		/* expired at now: not listed */
	put_cert(t, "0c", 5000);	/* not revoked */
	assert_int_equal(db_cert_revoke(t->db, "0a", 1, 950, NULL, NULL, &e),
	    0);
	assert_int_equal(db_cert_revoke(t->db, "0b", 1, 950, NULL, NULL, &e),
	    0);
	p.ours = 1;
	p.audit = NULL;
	assert_int_equal(db_crl_publish(t->db, &p, sign, &g, &e), 0);
	assert_true(g.full);
	assert_int_equal(g.nrows, 1);
	assert_string_equal(g.first, "0a");
	assert_int_equal(g.number, 2);
	assert_int_equal(g.stored, 1);

	/* Holding that one entry: nothing to read. */
	p.ours = 2;
	p.nentries = 1;
	assert_int_equal(db_crl_publish(t->db, &p, sign, &g, &e), 0);
	assert_false(g.full);
	assert_int_equal(g.number, 3);

	/* The store went back below ours (a restore): the list, ours + 1. */
	p.ours = 9;
	assert_int_equal(db_crl_publish(t->db, &p, sign, &g, &e), 0);
	assert_true(g.full);
	assert_int_equal(g.number, 10);
	assert_int_equal(db_crl_number(t->db, &num, &e), 0);
	assert_int_equal(num, 10);

	/* No DER: nothing stored, nothing audited. */
	g.fail = true;
	p.ours = 10;
	p.audit = &a;
	assert_int_equal(db_crl_publish(t->db, &p, sign, &g, &e), -1);
	assert_int_equal(e.code, ERR_INTERNAL);
	assert_int_equal(db_crl_number(t->db, &num, &e), 0);
	assert_int_equal(num, 10);
	assert_int_equal(dbt_count(t, "SELECT count(*) FROM audit "
	    "WHERE action = 'crl.publish'"), 1);
	p.ours = (uint64_t)INT64_MAX;
	assert_int_equal(db_crl_publish(t->db, &p, sign, &g, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
}

/* One publisher thread on its own handle (an instance). */
struct pubber {
	struct db	*db;
	uint64_t	 got[20];
	int		 rc;
};

static void *
pub_run(void *arg)
{
	struct pubber *b = arg;
	struct db_crl_pub p;
	struct signer g;
	struct err e = { 0 };

	b->rc = 0;
	for (int i = 0; i < 20; i++) {
		memset(&p, 0, sizeof(p));
		memset(&g, 0, sizeof(g));
		p.ca_id = 1;
		p.now = 1000;
		if (db_crl_publish(b->db, &p, sign, &g, &e) == -1) {
			b->rc = -1;
			break;
		}
		b->got[i] = g.number;
	}
	return NULL;
}

/*
 * Two handles (instances) and two threads each publishing 20 CRLs at
 * once: 80 numbers, each claimed once, 1..80; each thread's increase.
 */
static void
test_publish_instances(void **state)
{
	struct dbt *t = *state;
	struct pubber b[4];
	pthread_t th[4];
	struct db *other;
	struct err e = { 0 };
	bool seen[81];
	uint64_t num;

	assert_non_null(other = db_open(t->path, &e));
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < 4; i++) {
		b[i].db = i % 2 == 0 ? t->db : other;
		assert_int_equal(pthread_create(&th[i], NULL, pub_run, &b[i]),
		    0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(b[i].rc, 0);
		for (int k = 0; k < 20; k++) {
			assert_true(b[i].got[k] >= 1 && b[i].got[k] <= 80);
			assert_false(seen[b[i].got[k]]);
			seen[b[i].got[k]] = true;
			if (k > 0)
				assert_true(b[i].got[k] > b[i].got[k - 1]);
		}
	}
	assert_int_equal(db_crl_number(other, &num, &e), 0);
	assert_int_equal(num, 80);
	db_close(other);
}

/*
 * The listener (PostgreSQL): a publication's notice arrives with its
 * number; nothing more comes by the timeout or a wake; a killed
 * connection fails one wait (ERR_UNAVAILABLE) and the next listens
 * again.  On SQLite there is nothing to listen to.
 */
static void
test_notify(void **state)
{
	struct dbt *t = *state;
	struct db_notify *n;
	struct db_crl_pub p;
	struct signer g;
	struct err e = { 0 };
	uint64_t num = 0;
	int fds[2], r;

	if (!dbt_is_pg()) {
		assert_false(db_notify_supported(t->db));
		assert_null(db_notify_open(t->db, &e));
		assert_int_equal(e.code, ERR_INVALID_REQUEST);
		return;
	}
	assert_true(db_notify_supported(t->db));
	assert_non_null(n = db_notify_open(t->db, &e));
	assert_int_equal(db_notify_wait(n, 50, -1, &num, &e), 0);
	memset(&p, 0, sizeof(p));
	memset(&g, 0, sizeof(g));
	p.ca_id = 1;
	p.now = 1000;
	assert_int_equal(db_crl_publish(t->db, &p, sign, &g, &e), 0);
	p.ours = 1;
	assert_int_equal(db_crl_publish(t->db, &p, sign, &g, &e), 0);
	/* Both notices; the highest number. */
	for (r = 0; r == 0 || num < 2; )
		assert_int_not_equal(r = db_notify_wait(n, 2000, -1, &num,
		    &e), -1);
	assert_int_equal(num, 2);

	/* A wake ends the wait at once. */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "x", 1), 1);
	assert_int_equal(db_notify_wait(n, 5000, fds[0], &num, &e), 0);
	close(fds[0]);
	close(fds[1]);

	/* Its backend killed: one failed wait, then it listens again. */
	assert_int_equal(pg_fixture_exec(dbt_pg_server(), NULL,
	    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
	    "WHERE query = 'LISTEN redisca_crl'"), 0);
	for (r = 0; r == 0; )
		r = db_notify_wait(n, 2000, -1, &num, &e);
	assert_int_equal(r, -1);
	assert_int_equal(e.code, ERR_UNAVAILABLE);
	assert_int_equal(db_notify_wait(n, 50, -1, &num, &e), 0);
	p.ours = 2;
	assert_int_equal(db_crl_publish(t->db, &p, sign, &g, &e), 0);
	for (r = 0; r == 0; )
		assert_int_not_equal(r = db_notify_wait(n, 2000, -1, &num,
		    &e), -1);
	assert_int_equal(num, 3);
	db_notify_close(n);
	db_notify_close(NULL);
}

/*
 * A hot standby refuses LISTEN (the service then only polls): a clear
 * ERR_READ_ONLY, and nothing left open.
 */
static void
test_notify_standby(void **state)
{
	struct pg_fixture *sb;
	struct db *pdb, *sdb;
	struct err e = { 0 };

	(void)state;
	if (!dbt_is_pg())
		skip();
	/* The standby's copy of "rca" needs the schema: migrate it first. */
	assert_non_null(pdb = db_open(pg_fixture_uri(dbt_pg_server()), &e));
	assert_non_null(sb = pg_fixture_standby(dbt_pg_server()));
	assert_non_null(sdb = db_open(pg_fixture_uri(sb), &e));
	assert_true(db_notify_supported(sdb));
	assert_null(db_notify_open(sdb, &e));
	assert_int_equal(e.code, ERR_READ_ONLY);
	assert_null(sdb->conns->next);	/* only this thread's */
	db_close(sdb);
	db_close(pdb);
	pg_fixture_free(sb);
}

/*
 * One CRL per CA (schema 5): the numbers are one sequence across the
 * CAs, each CA's latest is its own, pruning keeps each CA's newest, and
 * the revoked lists, counts and expiry ranges are per CA.
 */
static void
test_per_ca(void **state)
{
	struct dbt *t = *state;
	const unsigned char d1[] = { 0x30, 0x01, 0x01 };
	const unsigned char d2[] = { 0x30, 0x01, 0x02 };
	const unsigned char d3[] = { 0x30, 0x01, 0x03 };
	struct db_crl_row *rows = NULL;
	struct db_serial *gone = NULL;
	struct db_crl_pub p;
	struct signer g;
	struct err e = { 0 };
	uint64_t num;
	int64_t tu, nu;
	unsigned char *der;
	size_t len, n;

	assert_int_equal(db_crl_save(t->db, 1, 1, 100, 200, d1, sizeof(d1),
	    NULL, &e), 0);
	assert_int_equal(db_crl_save(t->db, 2, 2, 110, 210, d2, sizeof(d2),
	    NULL, &e), 0);
	/* CA 1 cannot reuse or go below CA 2's number. */
	assert_int_equal(db_crl_save(t->db, 1, 2, 120, 220, d3, sizeof(d3),
	    NULL, &e), -1);
	assert_int_equal(e.code, ERR_CONFLICT);
	assert_int_equal(db_crl_save(t->db, 0, 3, 120, 220, d3, sizeof(d3),
	    NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(db_crl_save(t->db, 1, 3, 120, 220, d3, sizeof(d3),
	    NULL, &e), 0);
	assert_int_equal(db_crl_number(t->db, &num, &e), 0);
	assert_int_equal(num, 3);
	assert_int_equal(db_crl_latest(t->db, 1, &num, &tu, &nu, &der, &len,
	    &e), 0);
	assert_int_equal(num, 3);
	assert_int_equal(der[2], 3);
	free(der);
	/* CA 2's newest survived CA 1's pruning. */
	assert_int_equal(db_crl_latest(t->db, 2, &num, &tu, &nu, &der, &len,
	    &e), 0);
	assert_int_equal(num, 2);
	assert_int_equal(tu, 110);
	assert_int_equal(der[2], 2);
	free(der);
	assert_int_equal(db_crl_latest(t->db, 3, &num, &tu, &nu, &der, &len,
	    &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);

	/* Revoked lists per CA. */
	put_cert_of(t, 1, "a1", 5000);
	put_cert_of(t, 2, "b1", 5000);
	put_cert_of(t, 2, "b2", 1500);
	assert_int_equal(db_cert_revoke(t->db, "a1", 1, 1000, NULL, NULL,
	    &e), 0);
	assert_int_equal(db_cert_revoke(t->db, "b1", 1, 1000, NULL, NULL,
	    &e), 0);
	assert_int_equal(db_cert_revoke(t->db, "b2", 1, 1000, NULL, NULL,
	    &e), 0);
	assert_int_equal(db_cert_revoked_unexpired(t->db, 1, 1000, &rows, &n,
	    &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].serial, "a1");
	free(rows);
	assert_int_equal(db_cert_revoked_unexpired(t->db, 2, 2000, &rows, &n,
	    &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].serial, "b1");
	free(rows);
	assert_int_equal(db_crl_expired(t->db, 2, 1000, 2000, &gone, &n, &e),
	    0);
	assert_int_equal(n, 1);
	assert_string_equal(gone[0].serial, "b2");
	free(gone);
	assert_int_equal(db_crl_expired(t->db, 1, 1000, 2000, &gone, &n, &e),
	    0);
	assert_int_equal(n, 0);
	free(gone);

	/* A publication counts and lists its own CA's certificates. */
	memset(&p, 0, sizeof(p));
	memset(&g, 0, sizeof(g));
	p.ca_id = 2;
	p.now = 1000;
	p.nentries = 2;		/* b1 and b2 */
	p.ours = 3;
	assert_int_equal(db_crl_publish(t->db, &p, sign, &g, &e), 0);
	assert_int_equal(g.number, 4);
	assert_false(g.full);
	p.ca_id = 1;
	p.nentries = 2;		/* not CA 1's one */
	p.ours = 4;
	memset(&g, 0, sizeof(g));
	assert_int_equal(db_crl_publish(t->db, &p, sign, &g, &e), 0);
	assert_int_equal(g.number, 5);
	assert_true(g.full);
	assert_int_equal(g.nrows, 1);
	assert_string_equal(g.first, "a1");
	assert_int_equal(db_crl_latest(t->db, 2, &num, &tu, &nu, &der, &len,
	    &e), 0);
	assert_int_equal(num, 4);
	free(der);
	p.ca_id = 0;
	assert_int_equal(db_crl_publish(t->db, &p, sign, &g, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
}

/*
 * Migration 5 on a database at version 4 with CRLs: they belong to CA
 * 1, the only CA before it, and are still its latest.
 */
static void
test_migration_5(void **state)
{
	struct dbt *t = *state;
	struct err e = { 0 };
	sqlite3 *h = NULL;
	uint64_t num;
	int64_t tu, nu;
	unsigned char *der;
	size_t len;

	DBT_SQLITE_ONLY();
	db_close(t->db);
	t->db = NULL;
	dbt_remove(t);
	assert_int_equal(mkdir(t->dir, 0700), 0);
	assert_int_equal(sqlite3_open(t->path, &h), SQLITE_OK);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(sqlite3_exec(h,
		    db_sql_migration(DB_DIALECT_SQLITE, i), NULL, NULL, NULL),
		    SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "INSERT INTO crls (number, "
	    "this_update, next_update, der) VALUES (7, 10, 20, x'3000')",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	assert_non_null(t->db = db_open(t->path, &e));
	assert_int_equal(db_schema_version(t->db),
	    (int)db_sql_nmigrations(DB_DIALECT_SQLITE));
	assert_int_equal(db_crl_latest(t->db, 1, &num, &tu, &nu, &der, &len,
	    &e), 0);
	assert_int_equal(num, 7);
	assert_int_equal(tu, 10);
	free(der);
	assert_int_equal(db_crl_latest(t->db, 2, &num, &tu, &nu, &der, &len,
	    &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_per_ca, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_migration_5, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_empty, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_save_latest, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_claim_then_der,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_prune_keeps_latest,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_locked, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_publish, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_publish_instances,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_notify, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test(test_notify_standby),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
