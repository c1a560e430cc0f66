/* Tests for db/cert.c: certificates, lists, revocation, group commit. */
#include <pthread.h>
#include <sched.h>

#include "dbtest.h"
#include "priv.h"

static void
mkcert(struct cert_rec *c, const char *serial, const char *profile,
    const char *cn, const char *node, int64_t not_after)
{
	struct err e = { 0 };

	memset(c, 0, sizeof(*c));
	c->reason = -1;
	snprintf(c->serial, sizeof(c->serial), "%s", serial);
	snprintf(c->profile, sizeof(c->profile), "%s", profile);
	assert_int_equal(names_set_cn(&c->names, cn, &e), 0);
	assert_int_equal(names_add(&c->names, NAME_DNS, "a.example.com", &e),
	    0);
	assert_int_equal(names_add(&c->names, NAME_DNS, "b.example.com", &e),
	    0);
	assert_int_equal(names_add(&c->names, NAME_IP, "10.0.0.1", &e), 0);
	assert_int_equal(names_add(&c->names, NAME_IP, "::1", &e), 0);
	assert_int_equal(names_add(&c->names, NAME_URI,
	    "spiffe://example/app", &e), 0);
	c->key_type = KEY_EC_P384;
	c->not_before = not_after - 3600;
	c->not_after = not_after;
	memset(c->fingerprint, 'f', RCA_SHA256_HEX);
	if (node != NULL)
		snprintf(c->node, sizeof(c->node), "%s", node);
	snprintf(c->issued_by, sizeof(c->issued_by), "token:0011223344556677");
	c->pem = strdup("-----BEGIN CERTIFICATE-----\nMIIB\n"
	    "-----END CERTIFICATE-----\n");
	assert_non_null(c->pem);
	c->created_at = not_after - 3000;
}

static void
insert(struct db *db, const char *serial, const char *profile,
    const char *cn, const char *node, int64_t not_after)
{
	struct cert_rec c;
	struct err e = { 0 };

	mkcert(&c, serial, profile, cn, node, not_after);
	assert_int_equal(db_cert_insert(db, &c, NULL, &e), 0);
	cert_rec_clear(&c);
}

static int64_t
raw_count(const struct dbt *t, const char *q)
{
	return dbt_count(t, q);
}

static void
test_round_trip(void **state)
{
	struct dbt *t = *state;
	struct cert_rec c, got;
	struct audit_rec a;
	struct err e = { 0 };

	mkcert(&c, "0a1b2c3d4e5f", "redis-node", "app-1", "redis-1", 5000);
	dbt_audit(&a, "certificate.issue", c.serial);
	assert_int_equal(db_cert_insert(t->db, &c, &a, &e), 0);
	assert_int_equal(db_cert_get(t->db, "0A1B2C3D4E5F", &got, &e), 0);
	assert_true(got.id > 0);
	assert_string_equal(got.serial, c.serial);
	assert_string_equal(got.profile, c.profile);
	assert_true(names_equal(&got.names, &c.names));
	assert_string_equal(got.names.cn, "app-1");
	assert_int_equal(got.names.n[NAME_DNS], 2);
	assert_string_equal(got.names.list[NAME_DNS][1], "b.example.com");
	assert_string_equal(got.names.list[NAME_IP][1], "::1");
	assert_string_equal(got.names.list[NAME_URI][0],
	    "spiffe://example/app");
	assert_int_equal(got.key_type, KEY_EC_P384);
	assert_int_equal(got.not_before, c.not_before);
	assert_int_equal(got.not_after, c.not_after);
	assert_int_equal(got.revoked_at, 0);
	assert_int_equal(got.reason, -1);
	assert_string_equal(got.fingerprint, c.fingerprint);
	assert_string_equal(got.node, "redis-1");
	assert_string_equal(got.issued_by, c.issued_by);
	assert_string_equal(got.pem, c.pem);
	assert_int_equal(got.created_at, c.created_at);
	cert_rec_clear(&got);
	assert_int_equal(raw_count(t, "SELECT count(*) FROM audit WHERE "
	    "action = 'certificate.issue' AND object = '0a1b2c3d4e5f'"), 1);
	cert_rec_clear(&c);

	/* No CN, no SANs, no node. */
	memset(&c, 0, sizeof(c));
	snprintf(c.serial, sizeof(c.serial), "ff");
	snprintf(c.profile, sizeof(c.profile), "redis-client");
	c.pem = strdup("pem");
	assert_int_equal(db_cert_insert(t->db, &c, NULL, &e), 0);
	assert_int_equal(db_cert_get(t->db, "ff", &got, &e), 0);
	assert_null(got.names.cn);
	assert_int_equal(names_count(&got.names), 0);
	assert_string_equal(got.node, "");
	assert_int_equal(got.key_type, KEY_EC_P256);
	cert_rec_clear(&got);
	cert_rec_clear(&c);

	assert_int_equal(db_cert_get(t->db, "abcdef", &got, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(db_cert_get(t->db, "", &got, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(db_cert_get(t->db,
	    "0123456789012345678901234567890123456789ab", &got, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
}

static void
test_insert_invalid(void **state)
{
	struct dbt *t = *state;
	struct cert_rec c;
	struct audit_rec a;
	struct err e = { 0 };

	mkcert(&c, "01", "p", "cn", NULL, 100);
	free(c.pem);
	c.pem = NULL;
	assert_int_equal(db_cert_insert(t->db, &c, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	c.pem = strdup("pem");

	/* A row whose audit entry fails is rolled back alone. */
	dbt_audit(&a, "certificate.issue", "01");
	a.outcome = (enum audit_outcome)99;
	assert_int_equal(db_cert_insert(t->db, &c, &a, &e), -1);
	assert_int_equal(e.code, ERR_INTERNAL);
	cert_rec_clear(&c);
	assert_int_equal(raw_count(t, "SELECT count(*) FROM certificates"),
	    0);

	/* An unterminated field is refused, not read past. */
	mkcert(&c, "02", "p", "cn", NULL, 100);
	memset(c.issued_by, 'x', sizeof(c.issued_by));
	assert_int_equal(db_cert_insert(t->db, &c, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	cert_rec_clear(&c);
	assert_int_equal(raw_count(t, "SELECT count(*) FROM certificates"),
	    0);
}

static void
test_duplicate_serial(void **state)
{
	struct dbt *t = *state;
	struct cert_rec c, got;
	struct audit_rec a;
	struct err e = { 0 };

	insert(t->db, "abcd", "redis-node", "first", NULL, 5000);
	mkcert(&c, "abcd", "redis-client", "second", NULL, 6000);
	dbt_audit(&a, "certificate.issue", "abcd");
	assert_int_equal(db_cert_insert(t->db, &c, &a, &e), -1);
	assert_int_equal(e.code, ERR_ALREADY_EXISTS);
	cert_rec_clear(&c);
	assert_int_equal(db_cert_get(t->db, "abcd", &got, &e), 0);
	assert_string_equal(got.profile, "redis-node");
	assert_string_equal(got.names.cn, "first");
	cert_rec_clear(&got);
	assert_int_equal(raw_count(t, "SELECT count(*) FROM certificates"),
	    1);
	assert_int_equal(raw_count(t, "SELECT count(*) FROM audit"), 0);
}

/*
 * A certificate and its enroll token's use go in one commit: a refused
 * insert spends no use, a stored one spends exactly one, and a used-up
 * token stores nothing.
 */
static void
test_insert_use_token(void **state)
{
	struct dbt *t = *state;
	struct token_rec tok;
	struct cert_rec c;
	struct err e = { 0 };

	memset(&tok, 0, sizeof(tok));
	snprintf(tok.id, sizeof(tok.id), "00112233aabbccdd");
	tok.kind = TOKEN_ENROLL;
	snprintf(tok.profile, sizeof(tok.profile), "redis-client");
	tok.uses_left = 1;
	tok.max_cert_ttl = 3600;
	memset(tok.hash, 7, sizeof(tok.hash));
	assert_int_equal(db_token_insert(t->db, &tok, NULL, &e), 0);

	insert(t->db, "abcd", "redis-client", "first", NULL, 5000);
	mkcert(&c, "abcd", "redis-client", "taken", NULL, 6000);
	assert_int_equal(db_cert_insert_use(t->db, &c, tok.id, NULL, &e),
	    -1);
	assert_int_equal(e.code, ERR_ALREADY_EXISTS);
	cert_rec_clear(&c);
	assert_int_equal(raw_count(t, "SELECT uses_left FROM tokens"), 1);

	mkcert(&c, "abce", "redis-client", "second", NULL, 6000);
	assert_int_equal(db_cert_insert_use(t->db, &c, tok.id, NULL, &e), 0);
	cert_rec_clear(&c);
	assert_int_equal(raw_count(t, "SELECT uses_left FROM tokens"), 0);

	mkcert(&c, "abcf", "redis-client", "third", NULL, 6000);
	assert_int_equal(db_cert_insert_use(t->db, &c, tok.id, NULL, &e),
	    -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	cert_rec_clear(&c);
	assert_int_equal(raw_count(t, "SELECT count(*) FROM certificates"),
	    2);
}

/* List with f and check the serials (in order). */
static void
expect_list(struct db *db, struct cert_filter *f, const char *want)
{
	struct cert_rec *list = NULL;
	struct err e = { 0 };
	char got[256] = "";
	int64_t next = -1;
	size_t n = 0;

	assert_int_equal(db_cert_list(db, f, &list, &n, &next, &e), 0);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			strcat(got, ",");
		strcat(got, list[i].serial);
	}
	assert_string_equal(got, want);
	assert_int_equal(next, 0);
	db_cert_list_free(list, n);
}

static void
filter_init(struct cert_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->status = -1;
	f->now = 1000;
	f->limit = 100;
}

static void
test_list_filters(void **state)
{
	struct dbt *t = *state;
	struct cert_filter f;
	struct err e = { 0 };
	struct cert_rec *list;
	size_t n;
	int64_t next;

	insert(t->db, "c1", "p1", "a", "n1", 2000);	/* valid */
	insert(t->db, "c2", "p1", "b", NULL, 500);	/* expired */
	insert(t->db, "c3", "p2", "a", NULL, 3000);	/* revoked */
	insert(t->db, "c4", "p2", "c", "n2", 1500);	/* valid */
	insert(t->db, "c5", "p1", "d", "n1", 800);	/* revoked, expired */
	insert(t->db, "c6", "p1", "a", NULL, 1000);	/* valid: = now */
	assert_int_equal(db_cert_revoke(t->db, "c3", 1, 900, NULL, NULL, &e),
	    0);
	assert_int_equal(db_cert_revoke(t->db, "c5", 0, 700, NULL, NULL, &e),
	    0);

	filter_init(&f);
	expect_list(t->db, &f, "c1,c2,c3,c4,c5,c6");
	f.status = CERT_VALID;
	expect_list(t->db, &f, "c1,c4,c6");
	f.status = CERT_REVOKED;
	expect_list(t->db, &f, "c3,c5");
	f.status = CERT_EXPIRED;
	expect_list(t->db, &f, "c2");

	filter_init(&f);
	f.profile = "p1";
	expect_list(t->db, &f, "c1,c2,c5,c6");
	f.profile = "p3";
	expect_list(t->db, &f, "");

	filter_init(&f);
	f.common_name = "a";
	expect_list(t->db, &f, "c1,c3,c6");
	f.status = CERT_VALID;
	expect_list(t->db, &f, "c1,c6");

	filter_init(&f);
	f.node = "n1";
	expect_list(t->db, &f, "c1,c5");
	f.status = CERT_REVOKED;
	expect_list(t->db, &f, "c5");

	filter_init(&f);
	f.expires_before = 1600;
	expect_list(t->db, &f, "c2,c4,c5,c6");
	f.profile = "p2";
	f.node = "n2";
	expect_list(t->db, &f, "c4");

	filter_init(&f);
	f.profile = "p1";
	f.common_name = "a";
	f.after = 1;
	expect_list(t->db, &f, "c6");

	filter_init(&f);
	f.status = CERT_STATUS__MAX;
	assert_int_equal(db_cert_list(t->db, &f, &list, &n, &next, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
}

/* Page through every row with limit; returns the number of pages. */
static int
page_all(struct db *db, size_t limit, size_t total)
{
	struct cert_filter f;
	struct cert_rec *list;
	struct err e = { 0 };
	int64_t last = 0, next;
	size_t n, seen = 0;
	int pages = 0;

	filter_init(&f);
	f.limit = limit;
	do {
		assert_int_equal(db_cert_list(db, &f, &list, &n, &next, &e),
		    0);
		pages++;
		for (size_t i = 0; i < n; i++) {
			/* Strictly increasing ids: no row twice. */
			assert_true(list[i].id > last);
			last = list[i].id;
		}
		seen += n;
		if (next != 0) {
			assert_int_equal(n, db_limit(limit));
			assert_int_equal(next, last);
		}
		db_cert_list_free(list, n);
		f.after = next;
	} while (next != 0);
	assert_int_equal(seen, total);
	return pages;
}

static void
test_pagination(void **state)
{
	struct dbt *t = *state;
	struct cert_filter f;
	struct cert_rec *list;
	struct err e = { 0 };
	int64_t next;
	size_t n;
	char serial[16];

	for (int i = 0; i < 250; i++) {
		snprintf(serial, sizeof(serial), "%04x", i + 1);
		insert(t->db, serial, "p", "cn", NULL, 5000);
	}
	assert_int_equal(page_all(t->db, 100, 250), 3);
	/* Exactly a full last page: next is 0 on it, no empty page. */
	assert_int_equal(page_all(t->db, 125, 250), 2);
	assert_int_equal(page_all(t->db, 1, 250), 250);
	/* limit 0 is the default, above the maximum is clamped. */
	assert_int_equal(page_all(t->db, 0, 250), 3);
	filter_init(&f);
	f.limit = RCA_MAX_LIST_LIMIT + 500;
	assert_int_equal(db_cert_list(t->db, &f, &list, &n, &next, &e), 0);
	assert_int_equal(n, 250);
	assert_int_equal(next, 0);
	db_cert_list_free(list, n);
}

static void
test_revoke(void **state)
{
	struct dbt *t = *state;
	struct cert_rec out, got;
	struct audit_rec a;
	struct err e = { 0 };

	insert(t->db, "beef", "p", "cn", NULL, 5000);
	dbt_audit(&a, "certificate.revoke", "beef");
	assert_int_equal(db_cert_revoke(t->db, "BEEF", 1, 1234, &a, &out,
	    &e), 0);
	assert_string_equal(out.serial, "beef");
	assert_int_equal(out.revoked_at, 1234);
	assert_int_equal(out.reason, 1);
	assert_non_null(out.pem);
	cert_rec_clear(&out);
	assert_int_equal(db_cert_get(t->db, "beef", &got, &e), 0);
	assert_int_equal(got.revoked_at, 1234);
	assert_int_equal(got.reason, 1);
	assert_int_equal(cert_rec_status(&got, 0), CERT_REVOKED);
	cert_rec_clear(&got);
	assert_int_equal(raw_count(t, "SELECT count(*) FROM audit WHERE "
	    "action = 'certificate.revoke'"), 1);

	/* Second revoke: refused, nothing changes, no audit entry. */
	assert_int_equal(db_cert_revoke(t->db, "beef", 4, 2000, &a, &out,
	    &e), -1);
	assert_int_equal(e.code, ERR_ALREADY_REVOKED);
	assert_int_equal(db_cert_get(t->db, "beef", &got, &e), 0);
	assert_int_equal(got.revoked_at, 1234);
	assert_int_equal(got.reason, 1);
	cert_rec_clear(&got);
	assert_int_equal(raw_count(t, "SELECT count(*) FROM audit"), 1);

	assert_int_equal(db_cert_revoke(t->db, "dead", 1, 1234, &a, NULL,
	    &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(db_cert_revoke(t->db, NULL, 1, 1234, &a, NULL, &e),
	    -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	insert(t->db, "cafe", "p", "cn", NULL, 5000);
	assert_int_equal(db_cert_revoke(t->db, "cafe", 7, 1234, &a, NULL,
	    &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(db_cert_revoke(t->db, "cafe", -1, 1234, &a, NULL,
	    &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(db_cert_revoke(t->db, "cafe", 11, 1234, &a, NULL,
	    &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	/* The RFC 5280 rule db/ applies: 0..10 without 7. */
	for (int r = -2; r <= 12; r++)
		assert_int_equal(reason_code_valid(r),
		    r >= 0 && r <= 10 && r != 7);
	assert_int_equal(db_cert_revoke(t->db, "cafe", 1, 0, &a, NULL, &e),
	    -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(raw_count(t, "SELECT count(*) FROM certificates "
	    "WHERE revoked_at IS NOT NULL"), 1);
}

static void
test_revoked_unexpired_and_counts(void **state)
{
	struct dbt *t = *state;
	struct db_crl_row *rows;
	struct db_profile_count *pc;
	struct err e = { 0 };
	size_t n;

	insert(t->db, "01", "redis-client", "a", NULL, 2000);
	insert(t->db, "02", "redis-client", "b", NULL, 500);
	insert(t->db, "03", "redis-node", "c", NULL, 1000);
	insert(t->db, "04", "redis-node", "d", NULL, 3000);
	insert(t->db, "05", "redis-node", "e", NULL, 3000);
	assert_int_equal(db_cert_revoke(t->db, "01", 1, 900, NULL, NULL, &e),
	    0);
	assert_int_equal(db_cert_revoke(t->db, "02", 4, 400, NULL, NULL, &e),
	    0);
	assert_int_equal(db_cert_revoke(t->db, "03", 5, 950, NULL, NULL, &e),
	    0);

	assert_int_equal(db_cert_revoked_unexpired(t->db, 1, 1000, &rows, &n,
	    &e), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(rows[i].serial, "01") == 0) {
			assert_int_equal(rows[i].revoked_at, 900);
			assert_int_equal(rows[i].reason, 1);
		} else {
			/* not_after == now is still listed. */
			assert_string_equal(rows[i].serial, "03");
			assert_int_equal(rows[i].reason, 5);
		}
	}
	free(rows);
	assert_int_equal(db_cert_revoked_unexpired(t->db, 1, 5000, &rows, &n,
	    &e), 0);
	assert_int_equal(n, 0);
	free(rows);

	assert_int_equal(db_cert_counts(t->db, 1000, &pc, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(pc[0].profile, "redis-client");
	assert_int_equal(pc[0].issued, 2);
	assert_int_equal(pc[0].active, 0);
	assert_int_equal(pc[0].revoked, 2);
	assert_string_equal(pc[1].profile, "redis-node");
	assert_int_equal(pc[1].issued, 3);
	assert_int_equal(pc[1].active, 2);
	assert_int_equal(pc[1].revoked, 1);
	free(pc);
}

/* ---- group commit ---- */

#define GC_THREADS	8
#define GC_ROWS		500

struct gc_arg {
	struct db	*db;
	int		 thread;
	int		 rows;
	const char	*serial;	/* one fixed serial, or NULL */
	int		 failures;
	enum err_code	 last;
};

static void *
gc_worker(void *p)
{
	struct gc_arg *g = p;
	struct cert_rec c;
	struct audit_rec a;
	struct err e = { 0 };
	char serial[32];

	for (int i = 0; i < g->rows; i++) {
		if (g->serial != NULL)
			snprintf(serial, sizeof(serial), "%s", g->serial);
		else
			snprintf(serial, sizeof(serial), "%02x%08x",
			    g->thread, i);
		mkcert(&c, serial, "redis-client", "gc", NULL, 5000);
		dbt_audit(&a, "certificate.issue", serial);
		if (db_cert_insert(g->db, &c, &a, &e) != 0) {
			g->failures++;
			g->last = e.code;
		}
		cert_rec_clear(&c);
	}
	return NULL;
}

static void
test_group_commit_threads(void **state)
{
	struct dbt *t = *state;
	struct gc_arg g[GC_THREADS];
	pthread_t th[GC_THREADS];

	/* On PostgreSQL: one connection per thread, no group commit. */
	for (int i = 0; i < GC_THREADS; i++) {
		g[i] = (struct gc_arg){ t->db, i, GC_ROWS, NULL, 0, ERR_OK };
		assert_int_equal(pthread_create(&th[i], NULL, gc_worker,
		    &g[i]), 0);
	}
	for (int i = 0; i < GC_THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(g[i].failures, 0);
	}
	assert_int_equal(raw_count(t, "SELECT count(*) FROM certificates"),
	    GC_THREADS * GC_ROWS);
	assert_int_equal(raw_count(t,
	    "SELECT count(DISTINCT serial) FROM certificates"),
	    GC_THREADS * GC_ROWS);
	assert_int_equal(raw_count(t, "SELECT count(*) FROM audit"),
	    GC_THREADS * GC_ROWS);
	if (!dbt_is_pg())
		print_message("group commit: %d rows in %llu batches "
		    "(max %zu)\n", GC_THREADS * GC_ROWS,
		    (unsigned long long)t->db->gc_batches,
		    t->db->gc_max_batch);
	assert_true(t->db->gc_batches <= GC_THREADS * GC_ROWS);
}

static size_t
gc_pending(struct db *db, bool *leader)
{
	size_t n;

	pthread_mutex_lock(&db->gc_mu);
	n = db->gc_pending;
	*leader = db->gc_leader;
	pthread_mutex_unlock(&db->gc_mu);
	return n;
}

static void
test_group_commit_duplicate_in_batch(void **state)
{
	struct dbt *t = *state;
	struct gc_arg g[GC_THREADS];
	pthread_t th[GC_THREADS];
	struct cert_rec got;
	struct err e = { 0 };
	bool leader;

	/* SQLite only: the group-commit queue, another process's lock. */
	DBT_SQLITE_ONLY();
	insert(t->db, "dd", "redis-node", "original", NULL, 5000);

	/*
	 * Hold the write lock: the first caller becomes leader of a batch
	 * of one and waits on it; the next seven queue up and must all
	 * go into the following batch, one of them with a taken serial.
	 */
	pthread_mutex_lock(&t->db->wmu);
	g[0] = (struct gc_arg){ t->db, 0, 1, NULL, 0, ERR_OK };
	assert_int_equal(pthread_create(&th[0], NULL, gc_worker, &g[0]), 0);
	while (gc_pending(t->db, &leader) != 0 || !leader)
		sched_yield();
	for (int i = 1; i < GC_THREADS; i++) {
		g[i] = (struct gc_arg){ t->db, i, 1, i == 4 ? "dd" : NULL, 0,
		    ERR_OK };
		assert_int_equal(pthread_create(&th[i], NULL, gc_worker,
		    &g[i]), 0);
	}
	while (gc_pending(t->db, &leader) != GC_THREADS - 1)
		sched_yield();
	pthread_mutex_unlock(&t->db->wmu);

	for (int i = 0; i < GC_THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		if (i == 4) {
			assert_int_equal(g[i].failures, 1);
			assert_int_equal(g[i].last, ERR_ALREADY_EXISTS);
		} else
			assert_int_equal(g[i].failures, 0);
	}
	assert_int_equal(t->db->gc_max_batch, GC_THREADS - 1);
	assert_int_equal(raw_count(t, "SELECT count(*) FROM certificates"),
	    GC_THREADS);
	assert_int_equal(raw_count(t, "SELECT count(*) FROM audit"),
	    GC_THREADS - 1);
	assert_int_equal(db_cert_get(t->db, "dd", &got, &e), 0);
	assert_string_equal(got.names.cn, "original");
	cert_rec_clear(&got);
}

static void
test_locked(void **state)
{
	struct dbt *t = *state;
	struct cert_rec c, got, *list;
	struct cert_filter f;
	struct db_crl_row *rows;
	struct db_profile_count *pc;
	struct err e = { 0 };
	sqlite3 *h;
	int64_t next;
	size_t n;

	/* SQLite only: the group-commit queue, another process's lock. */
	DBT_SQLITE_ONLY();
	insert(t->db, "01", "p", "a", NULL, 5000);
	h = dbt_lock(t);
	mkcert(&c, "02", "p", "b", NULL, 5000);
	assert_int_equal(db_cert_insert(t->db, &c, NULL, &e), -1);
	assert_db_error(e);
	assert_int_equal(db_cert_revoke(t->db, "01", 1, 10, NULL, NULL, &e),
	    -1);
	assert_db_error(e);
	/* WAL: readers are not blocked by a writer. */
	assert_int_equal(db_cert_get(t->db, "01", &got, &e), 0);
	assert_int_equal(got.revoked_at, 0);
	cert_rec_clear(&got);
	filter_init(&f);
	assert_int_equal(db_cert_list(t->db, &f, &list, &n, &next, &e), 0);
	assert_int_equal(n, 1);
	db_cert_list_free(list, n);
	assert_int_equal(db_cert_revoked_unexpired(t->db, 1, 0, &rows, &n, &e),
	    0);
	free(rows);
	assert_int_equal(db_cert_counts(t->db, 0, &pc, &n, &e), 0);
	free(pc);
	dbt_unlock(h);

	assert_int_equal(db_cert_get(t->db, "02", &got, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(db_cert_insert(t->db, &c, NULL, &e), 0);
	cert_rec_clear(&c);
}

/* A 64-hex key hash made of one repeated digit. */
static void
spki(char out[RCA_SHA256_HEX + 1], char digit)
{
	memset(out, digit, RCA_SHA256_HEX);
	out[RCA_SHA256_HEX] = '\0';
}

/* Insert a certificate with key hash h (NULL: none). */
static void
insert_key(struct db *db, const char *serial, const char *h,
    int64_t not_after)
{
	struct cert_rec c;
	struct err e = { 0 };

	mkcert(&c, serial, "redis-client", "app", NULL, not_after);
	if (h != NULL)
		snprintf(c.spki_sha256, sizeof(c.spki_sha256), "%s", h);
	assert_int_equal(db_cert_insert(db, &c, NULL, &e), 0);
	cert_rec_clear(&c);
}

/* The stored revocation reason of serial (-1: not revoked). */
static int
reason_of(struct db *db, const char *serial)
{
	struct cert_rec c;
	struct err e = { 0 };
	int r;

	assert_int_equal(db_cert_get(db, serial, &c, &e), 0);
	r = c.revoked_at != 0 ? c.reason : -1;
	cert_rec_clear(&c);
	return r;
}

/*
 * keyCompromise: every unexpired, unrevoked certificate with the key is
 * revoked in the same transaction (audited, naming the first), the key
 * is blocked; other keys, expired and already revoked ones are left.
 */
static void
test_revoke_key_cascade(void **state)
{
	struct dbt *t = *state;
	struct audit_rec a, sib;
	struct cert_rec out, got;
	struct err e = { 0 };
	char k[RCA_SHA256_HEX + 1], other[RCA_SHA256_HEX + 1];
	char by[RCA_SERIAL_HEX_MAX + 1];
	size_t n = 99;

	spki(k, 'a');
	spki(other, 'b');
	insert_key(t->db, "01", k, 5000);
	insert_key(t->db, "02", k, 6000);
	insert_key(t->db, "03", k, 7000);
	insert_key(t->db, "04", other, 5000);
	insert_key(t->db, "05", k, 900);	/* expired at 1000 */
	insert_key(t->db, "06", k, 8000);
	assert_int_equal(db_cert_revoke(t->db, "06", 4, 950, NULL, NULL, &e),
	    0);
	assert_int_equal(db_cert_get(t->db, "01", &got, &e), 0);
	assert_string_equal(got.spki_sha256, k);
	cert_rec_clear(&got);

	dbt_audit(&a, "certificate.revoke", "01");
	dbt_audit(&sib, "certificate.revoke", "");
	snprintf(sib.detail, sizeof(sib.detail), "same_key_as=01");
	assert_int_equal(db_key_blocked(t->db, k, NULL, 0, &e), 0);
	assert_int_equal(db_cert_revoke_key(t->db, "01", k, 1000, &a, &sib,
	    &out, &n, &e), 0);
	assert_string_equal(out.serial, "01");
	assert_int_equal(out.reason, 1);
	assert_int_equal(out.revoked_at, 1000);
	cert_rec_clear(&out);
	assert_int_equal(n, 2);
	assert_int_equal(reason_of(t->db, "02"), 1);
	assert_int_equal(reason_of(t->db, "03"), 1);
	assert_int_equal(reason_of(t->db, "04"), -1);
	assert_int_equal(reason_of(t->db, "05"), -1);
	assert_int_equal(reason_of(t->db, "06"), 4);
	assert_int_equal(raw_count(t, "SELECT count(*) FROM audit WHERE "
	    "action = 'certificate.revoke' AND detail = 'same_key_as=01' "
	    "AND object IN ('02', '03')"), 2);
	assert_int_equal(raw_count(t, "SELECT count(*) FROM audit"), 3);
	assert_int_equal(raw_count(t, "SELECT count(*) FROM certificates "
	    "WHERE revoked_at = 1000"), 3);

	/* The key is blocked, by 01; the other key is not. */
	assert_int_equal(db_key_blocked(t->db, k, by, sizeof(by), &e), 1);
	assert_string_equal(by, "01");
	assert_int_equal(db_key_blocked(t->db, other, NULL, 0, &e), 0);

	/* Already revoked: nothing changes, not even the block. */
	assert_int_equal(db_cert_revoke_key(t->db, "02", k, 2000, &a, &sib,
	    NULL, &n, &e), -1);
	assert_int_equal(e.code, ERR_ALREADY_REVOKED);
	assert_int_equal(n, 0);
	assert_int_equal(db_cert_revoke_key(t->db, "ff", k, 2000, &a, &sib,
	    NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(db_cert_revoke_key(t->db, "04", "zz", 2000, &a,
	    &sib, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(reason_of(t->db, "04"), -1);
}

/* A certificate for a blocked key is never stored. */
static void
test_insert_blocked_key(void **state)
{
	struct dbt *t = *state;
	struct cert_rec c;
	struct err e = { 0 };
	char k[RCA_SHA256_HEX + 1], other[RCA_SHA256_HEX + 1];

	spki(k, 'c');
	spki(other, 'd');
	assert_int_equal(db_key_block(t->db, k, "0c", 100, &e), 0);
	/* Blocking again keeps the first. */
	assert_int_equal(db_key_block(t->db, k, "0d", 200, &e), 0);
	assert_int_equal(raw_count(t, "SELECT count(*) FROM blocked_keys "
	    "WHERE serial = '0c' AND blocked_at = 100"), 1);
	mkcert(&c, "10", "redis-client", "app", NULL, 5000);
	snprintf(c.spki_sha256, sizeof(c.spki_sha256), "%s", k);
	assert_int_equal(db_cert_insert(t->db, &c, NULL, &e), -1);
	assert_int_equal(e.code, ERR_KEY_REJECTED);
	assert_int_equal(raw_count(t, "SELECT count(*) FROM certificates"),
	    0);
	snprintf(c.spki_sha256, sizeof(c.spki_sha256), "%s", other);
	assert_int_equal(db_cert_insert(t->db, &c, NULL, &e), 0);
	cert_rec_clear(&c);
	assert_int_equal(db_key_block(t->db, "short", "0c", 100, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(db_key_blocked(t->db, "ABCD", NULL, 0, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
}

/* Rows stored without a key hash are listed and filled once. */
static void
test_spki_backfill_rows(void **state)
{
	struct dbt *t = *state;
	struct db_spki_row *rows = NULL;
	struct cert_rec got;
	struct err e = { 0 };
	char k[RCA_SHA256_HEX + 1];
	size_t n = 0;

	spki(k, 'e');
	insert_key(t->db, "21", NULL, 5000);
	insert_key(t->db, "22", k, 5000);
	insert_key(t->db, "23", NULL, 5000);
	assert_int_equal(db_cert_spki_missing(t->db, 0, 1, &rows, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].serial, "21");
	assert_non_null(strstr(rows[0].pem, "BEGIN CERTIFICATE"));
	db_cert_spki_rows_free(rows, n);
	assert_int_equal(db_cert_spki_missing(t->db, 0, 10, &rows, &n, &e),
	    0);
	assert_int_equal(n, 2);
	assert_string_equal(rows[1].serial, "23");
	/* 21 gets a hash; 23 (unparseable, say) stays without. */
	spki(rows[0].spki_sha256, '7');
	assert_int_equal(db_cert_spki_set(t->db, rows, n, &e), 0);
	db_cert_spki_rows_free(rows, n);
	assert_int_equal(db_cert_get(t->db, "21", &got, &e), 0);
	assert_int_equal(got.spki_sha256[0], '7');
	cert_rec_clear(&got);
	assert_int_equal(db_cert_spki_missing(t->db, 0, 10, &rows, &n, &e),
	    0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].serial, "23");
	/* A bad hash is refused before anything is written. */
	spki(rows[0].spki_sha256, 'X');
	assert_int_equal(db_cert_spki_set(t->db, rows, n, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	db_cert_spki_rows_free(rows, n);
	assert_int_equal(db_cert_spki_missing(t->db, 3, 10, &rows, &n, &e),
	    0);
	assert_int_equal(n, 0);
	db_cert_spki_rows_free(rows, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_revoke_key_cascade,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_insert_blocked_key,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_spki_backfill_rows,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_insert_invalid,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_serial,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_insert_use_token,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_list_filters, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_pagination, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_revoke, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(
		    test_revoked_unexpired_and_counts, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_group_commit_threads,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(
		    test_group_commit_duplicate_in_batch, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_locked, dbt_setup,
		    dbt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
