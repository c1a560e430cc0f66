/*
 * Tests for the counters of schema 3 (db_cert_counts) and the list
 * plans of db_cert_list: the counters always equal a full count(*)
 * of the table, whatever wrote it and whatever the time, and every
 * plan returns the pages the plain filter would.
 */
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>

#include "dbtest.h"
#include "priv.h"

static void
mkcert(struct cert_rec *c, const char *serial, const char *profile,
    int64_t created, int64_t not_after, const char *spki)
{
	memset(c, 0, sizeof(*c));
	c->reason = -1;
	snprintf(c->serial, sizeof(c->serial), "%s", serial);
	snprintf(c->profile, sizeof(c->profile), "%s", profile);
	c->key_type = KEY_EC_P256;
	c->not_before = created;
	c->not_after = not_after;
	memset(c->fingerprint, 'f', RCA_SHA256_HEX);
	snprintf(c->issued_by, sizeof(c->issued_by), "token:0011223344556677");
	if (spki != NULL)
		snprintf(c->spki_sha256, sizeof(c->spki_sha256), "%s", spki);
	c->pem = strdup("PEM");
	assert_non_null(c->pem);
	c->created_at = created;
}

static void
insert(struct db *db, const char *serial, const char *profile,
    int64_t created, int64_t not_after, const char *spki)
{
	struct cert_rec c;
	struct err e = { 0 };

	mkcert(&c, serial, profile, created, not_after, spki);
	assert_int_equal(db_cert_insert(db, &c, NULL, &e), 0);
	cert_rec_clear(&c);
}

static sqlite3 *
raw_open(const struct dbt *t)
{
	sqlite3 *h = NULL;

	assert_int_equal(sqlite3_open(t->path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_busy_timeout(h, 5000), SQLITE_OK);
	return h;
}

static void
raw_exec(const struct dbt *t, const char *q)
{
	sqlite3 *h = raw_open(t);

	if (sqlite3_exec(h, q, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", q, sqlite3_errmsg(h));
	sqlite3_close(h);
}

/*
 * db_cert_counts(now) against a full scan (NOT INDEXED) of the table:
 * the same profiles in the same order with the same three numbers.
 */
static void
check_counts(const struct dbt *t, int64_t now)
{
	static const char q[] = "SELECT profile, count(*), "
	    "sum(revoked_at IS NULL AND not_after >= ?1), "
	    "sum(revoked_at IS NOT NULL) FROM certificates NOT INDEXED "
	    "GROUP BY profile ORDER BY profile";
	struct db_profile_count *pc = NULL;
	struct err e = { 0 };
	sqlite3_stmt *st = NULL;
	sqlite3 *h = raw_open(t);
	size_t n = 0, i = 0;

	assert_int_equal(db_cert_counts(t->db, now, &pc, &n, &e), 0);
	assert_int_equal(sqlite3_prepare_v2(h, q, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_bind_int64(st, 1, now), SQLITE_OK);
	for (; sqlite3_step(st) == SQLITE_ROW; i++) {
		assert_true(i < n);
		assert_string_equal(pc[i].profile,
		    (const char *)sqlite3_column_text(st, 0));
		if (pc[i].issued != sqlite3_column_int64(st, 1) ||
		    pc[i].active != sqlite3_column_int64(st, 2) ||
		    pc[i].revoked != sqlite3_column_int64(st, 3))
			fail_msg("now %lld, %s: counters %lld/%lld/%lld, "
			    "scan %lld/%lld/%lld", (long long)now,
			    pc[i].profile, (long long)pc[i].issued,
			    (long long)pc[i].active, (long long)pc[i].revoked,
			    (long long)sqlite3_column_int64(st, 1),
			    (long long)sqlite3_column_int64(st, 2),
			    (long long)sqlite3_column_int64(st, 3));
	}
	assert_int_equal(i, n);
	sqlite3_finalize(st);
	sqlite3_close(h);
	free(pc);
}

/* The counters at many times around every not_after in the tests. */
static void
check_counts_times(const struct dbt *t)
{
	static const int64_t times[] = { 0, 999, 1000, 1001, 1500, 1999,
	    2000, 2001, 2500, 3000, 4000, 5000, 9000, 100000 };

	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++)
		check_counts(t, times[i]);
}

static int64_t
raw_int(const struct dbt *t, const char *q)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *h = raw_open(t);
	int64_t v;

	assert_int_equal(sqlite3_prepare_v2(h, q, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

static int64_t
mark(const struct dbt *t)
{
	return raw_int(t, "SELECT at FROM cert_counts_mark");
}

/*
 * Inserts (some already expired or revoked when stored), revocations,
 * and inserts and CRLs that move the mark past rows that expire in
 * between: the counters equal the scan at every time.
 */
static void
test_counts_inserts_revocations(void **state)
{
	struct dbt *t = *state;
	struct cert_rec c;
	struct err e = { 0 };

	/* SQLite only: raw sqlite3 reads of the counters. */
	DBT_SQLITE_ONLY();
	/* The migration set the mark to the wall clock: take it back. */
	raw_exec(t, "UPDATE cert_counts_mark SET at = 0");
	check_counts_times(t);
	insert(t->db, "01", "server", 900, 2000, NULL);
	insert(t->db, "02", "server", 900, 1500, NULL);
	insert(t->db, "03", "client", 900, 3000, NULL);
	insert(t->db, "04", "client", 900, 950, NULL);	/* expires early */
	assert_int_equal(mark(t), 900);
	check_counts_times(t);

	mkcert(&c, "05", "server", 1000, 5000, NULL);
	c.revoked_at = 1000;
	c.reason = 1;
	assert_int_equal(db_cert_insert(t->db, &c, NULL, &e), 0);
	cert_rec_clear(&c);
	check_counts_times(t);

	assert_int_equal(db_cert_revoke(t->db, "01", 1, 1200, NULL, NULL,
	    &e), 0);
	/* An expired certificate can be revoked too. */
	assert_int_equal(db_cert_revoke(t->db, "04", 4, 1200, NULL, NULL,
	    &e), 0);
	check_counts_times(t);

	/* Past 02's and 04's expiry: the mark moves over them. */
	insert(t->db, "06", "admin", 1700, 4000, NULL);
	assert_int_equal(mark(t), 1700);
	check_counts_times(t);
	/* An insert dated before the mark leaves it. */
	insert(t->db, "07", "server", 1100, 1600, NULL);
	assert_int_equal(mark(t), 1700);
	check_counts_times(t);
	insert(t->db, "08", "client", 2600, 9000, NULL);
	assert_int_equal(mark(t), 2600);
	check_counts_times(t);

	/* A CRL moves the mark to its thisUpdate, past 03's expiry. */
	raw_exec(t, "INSERT INTO crls (number, this_update, next_update, "
	    "der) VALUES (1, 3500, 9000, x'30')");
	assert_int_equal(mark(t), 3500);
	check_counts_times(t);
	raw_exec(t, "INSERT INTO crls (number, this_update, next_update, "
	    "der) VALUES (2, 3400, 9000, x'30')");
	assert_int_equal(mark(t), 3500);
	check_counts_times(t);
}

/* keyCompromise revokes siblings in one statement: each is counted. */
static void
test_counts_key_cascade(void **state)
{
	struct dbt *t = *state;
	char k[RCA_SHA256_HEX + 1];
	struct audit_rec a, sib;
	struct err e = { 0 };
	size_t n = 0;

	/* SQLite only: raw sqlite3 reads of the counters. */
	DBT_SQLITE_ONLY();
	memset(k, 'a', RCA_SHA256_HEX);
	k[RCA_SHA256_HEX] = '\0';
	raw_exec(t, "UPDATE cert_counts_mark SET at = 0");
	insert(t->db, "01", "server", 900, 5000, k);
	insert(t->db, "02", "server", 900, 6000, k);
	insert(t->db, "03", "client", 900, 7000, k);
	insert(t->db, "04", "client", 900, 950, k);	/* expired at 1000 */
	insert(t->db, "05", "client", 900, 8000, NULL);
	dbt_audit(&a, "certificate.revoke", "01");
	dbt_audit(&sib, "certificate.revoke", "");
	assert_int_equal(db_cert_revoke_key(t->db, "01", k, 1000, &a, &sib,
	    NULL, &n, &e), 0);
	assert_int_equal(n, 2);
	check_counts_times(t);
}

/* Rows deleted or changed behind db/'s back are still counted right. */
static void
test_counts_delete_update(void **state)
{
	struct dbt *t = *state;

	/* SQLite only: raw sqlite3 reads of the counters. */
	DBT_SQLITE_ONLY();
	raw_exec(t, "UPDATE cert_counts_mark SET at = 0");
	insert(t->db, "01", "server", 900, 2000, NULL);
	insert(t->db, "02", "server", 900, 1500, NULL);
	insert(t->db, "03", "client", 900, 3000, NULL);
	raw_exec(t, "DELETE FROM certificates WHERE serial = '02'");
	check_counts_times(t);
	raw_exec(t, "UPDATE certificates SET profile = 'other', "
	    "not_after = 2500 WHERE serial = '03'");
	check_counts_times(t);
	/* The last row of a profile gone: the profile is not listed. */
	raw_exec(t, "DELETE FROM certificates WHERE profile = 'other'");
	check_counts_times(t);
}

struct inserter {
	struct db	*db;
	int		 id;
};

/* 150 rows of thread t->id: times and profiles vary, some revoked. */
static void *
inserter(void *p)
{
	struct inserter *t = p;
	struct cert_rec c;
	struct err e = { 0 };
	char serial[16], prof[8];

	for (int i = 0; i < 150; i++) {
		int n = t->id * 1000 + i;

		snprintf(serial, sizeof(serial), "%x", n);
		snprintf(prof, sizeof(prof), "p%d", n % 3);
		mkcert(&c, serial, prof, 500 + (n * 37) % 2500,
		    900 + (n * 53) % 4000, NULL);
		if (n % 7 == 0) {
			c.revoked_at = 1000;
			c.reason = 1;
		}
		if (db_cert_insert(t->db, &c, NULL, &e) == -1)
			fprintf(stderr, "insert: %s\n", e.msg);
		cert_rec_clear(&c);
	}
	return NULL;
}

/*
 * Group commit: eight threads insert at once, so batches hold rows of
 * several profiles and times (each batch moves the mark once): the
 * counters equal the scan at every time.
 */
static void
test_counts_group_commit(void **state)
{
	struct dbt *t = *state;
	struct inserter w[8];
	pthread_t th[8];

	/* SQLite only: raw sqlite3 reads of the counters. */
	DBT_SQLITE_ONLY();
	raw_exec(t, "UPDATE cert_counts_mark SET at = 0");
	for (int i = 0; i < 8; i++) {
		w[i] = (struct inserter){ t->db, i + 1 };
		assert_int_equal(pthread_create(&th[i], NULL, inserter, &w[i]),
		    0);
	}
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	assert_int_equal(raw_int(t, "SELECT count(*) FROM certificates"),
	    1200);
	check_counts_times(t);
	assert_true(mark(t) >= 500);
}

/*
 * A version 2 database with rows opens at version 3 with the counters
 * back-filled from the rows.
 */
static void
test_migration_from_v2(void **state)
{
	struct dbt *t = *state;
	struct err e = { 0 };
	sqlite3 *h = NULL;

	/* SQLite only: raw sqlite3 reads of the counters. */
	DBT_SQLITE_ONLY();
	db_close(t->db);
	t->db = NULL;
	dbt_remove(t);
	assert_int_equal(mkdir(t->dir, 0700), 0);
	assert_int_equal(sqlite3_open(t->path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h,
	    db_sql_migration(DB_DIALECT_SQLITE, 0), NULL, NULL,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h,
	    db_sql_migration(DB_DIALECT_SQLITE, 1), NULL, NULL,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "WITH RECURSIVE i(n) AS (SELECT 1 "
	    "UNION ALL SELECT n + 1 FROM i WHERE n < 500) "
	    "INSERT INTO certificates (serial, profile, san_dns, san_ip, "
	    "san_uri, key_type, not_before, not_after, revoked_at, reason, "
	    "fingerprint, issued_by, pem, created_at) "
	    "SELECT printf('%04x', n), 'p' || (n % 4), '', '', '', "
	    "'ec-p256', 0, n * 10, CASE WHEN n % 5 = 0 THEN n END, "
	    "CASE WHEN n % 5 = 0 THEN 1 END, 'ff', 'cli', 'PEM', 1 FROM i",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);

	assert_non_null(t->db = db_open(t->path, &e));
	assert_int_equal(db_schema_version(t->db),
	    (int)db_sql_nmigrations(DB_DIALECT_SQLITE));
	check_counts(t, 0);
	check_counts(t, 2500);
	check_counts(t, 10000);
	check_counts(t, (int64_t)time(NULL));
	/* Opening again migrates nothing and changes nothing. */
	db_close(t->db);
	assert_non_null(t->db = db_open(t->path, &e));
	check_counts(t, 2500);
	insert(t->db, "ffff", "p1", 3000, 4000, NULL);
	check_counts(t, 2500);
	check_counts(t, 3500);
}

/* Append s and a comma at out + *len (bounded by cap). */
static void
append(char *out, size_t *len, size_t cap, const char *s)
{
	size_t n = strlen(s);

	assert_true(*len + n + 2 <= cap);
	memcpy(out + *len, s, n);
	out[*len + n] = ',';
	*len += n + 1;
	out[*len] = '\0';
}

/* Every page of f by db_cert_list, serials joined, through `next`. */
static void
walk(struct db *db, struct cert_filter f, char *out, size_t cap)
{
	struct cert_rec *list = NULL;
	struct err e = { 0 };
	size_t n, len = 0;
	int64_t next;

	out[0] = '\0';
	for (;;) {
		assert_int_equal(db_cert_list(db, &f, &list, &n, &next, &e),
		    0);
		for (size_t i = 0; i < n; i++)
			append(out, &len, cap, list[i].serial);
		db_cert_list_free(list, n);
		if (next == 0)
			break;
		assert_int_equal(n, f.limit);
		f.after = next;
	}
}

/* The same filter after f->after, by a full scan in id order. */
static void
scan(const struct dbt *t, const struct cert_filter *f, char *out,
    size_t cap)
{
	static const char q[] = "SELECT serial FROM certificates NOT INDEXED "
	    "WHERE (?1 = -1"
	    " OR (?1 = 0 AND revoked_at IS NULL AND not_after >= ?2)"
	    " OR (?1 = 1 AND revoked_at IS NOT NULL)"
	    " OR (?1 = 2 AND revoked_at IS NULL AND not_after < ?2))"
	    " AND (?3 IS NULL OR profile = ?3)"
	    " AND (?4 = 0 OR not_after < ?4) AND id > ?5 ORDER BY id";
	sqlite3_stmt *st = NULL;
	sqlite3 *h = raw_open(t);
	size_t len = 0;

	assert_int_equal(sqlite3_prepare_v2(h, q, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int(st, 1, f->status);
	sqlite3_bind_int64(st, 2, f->now);
	if (f->profile != NULL)
		sqlite3_bind_text(st, 3, f->profile, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, f->expires_before);
	sqlite3_bind_int64(st, 5, f->after);
	out[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW)
		append(out, &len, cap, (const char *)sqlite3_column_text(st,
		    0));
	sqlite3_finalize(st);
	sqlite3_close(h);
}

/*
 * Over 10,000 rows, so that both plans of a range filter run: a small
 * range is sorted from its index, a large one walks id order.  Every
 * status and expires_before (with and without a profile), paged
 * through `next`, gives exactly the rows of a full scan, in id order.
 */
static void
test_list_plans_agree(void **state)
{
	static const int64_t nows[] = { 0, 500, 6000, 11990, 20000 };
	static const int64_t before[] = { 0, 1, 300, 5000, 11000, 30000 };
	static const char *const profiles[] = { NULL, "p1" };
	size_t cap = 13000 * 8;
	char *got, *want;
	struct dbt *t = *state;
	struct cert_filter f;

	/* SQLite only: raw sqlite3 reads of the counters. */
	DBT_SQLITE_ONLY();
	got = malloc(cap);
	want = malloc(cap);
	assert_non_null(got);
	assert_non_null(want);
	/* not_after n, rows in id order; every 7th revoked. */
	raw_exec(t, "WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL "
	    "SELECT n + 1 FROM i WHERE n < 12000) INSERT INTO certificates "
	    "(serial, profile, san_dns, san_ip, san_uri, key_type, "
	    "not_before, not_after, revoked_at, reason, fingerprint, "
	    "issued_by, pem, created_at) SELECT printf('%04x', n), "
	    "'p' || (n % 3), '', '', '', 'ec-p256', 0, "
	    "CASE WHEN n % 11 = 0 THEN 12000 - n ELSE n END, "
	    "CASE WHEN n % 7 = 0 THEN n END, CASE WHEN n % 7 = 0 THEN 1 END, "
	    "'ff', 'cli', 'PEM', 0 FROM i");
	for (size_t c = 0; c < 4 * 5 * 6 * 2; c++) {
		memset(&f, 0, sizeof(f));
		f.status = (int)(c % 4) - 1;
		f.now = nows[c / 4 % 5];
		f.expires_before = before[c / 20 % 6];
		f.profile = profiles[c / 120];
		f.limit = 1000;
		walk(t->db, f, got, cap);
		scan(t, &f, want, cap);
		if (strcmp(got, want) != 0)
			fail_msg("status %d now %lld before %lld profile %s",
			    f.status, (long long)f.now,
			    (long long)f.expires_before,
			    f.profile != NULL ? f.profile : "-");
	}
	free(got);
	free(want);
}

/* Walk f's pages and compare them with a full scan. */
static void
agree(struct dbt *t, struct cert_filter f, char *got, char *want,
    size_t cap)
{
	walk(t->db, f, got, cap);
	scan(t, &f, want, cap);
	if (strcmp(got, want) != 0)
		fail_msg("status %d now %lld after %lld", f.status,
		    (long long)f.now, (long long)f.after);
}

/*
 * Expired rows first, then valid ones (as in a CA that has run a
 * while): lists of valid rows start past the expired ones the last
 * walk found, and stay exact as time moves on (and back), rows are
 * revoked and new rows come.
 */
static void
test_list_valid_hint(void **state)
{
	static const int64_t nows[] = { 200, 300, 300, 150, 0, 10005,
	    10005, 300, 30000 };
	size_t cap = 21000 * 8;
	char *got, *want;
	struct dbt *t = *state;
	struct cert_filter f;

	/* SQLite only: raw sqlite3 reads of the counters. */
	DBT_SQLITE_ONLY();
	got = malloc(cap);
	want = malloc(cap);
	assert_non_null(got);
	assert_non_null(want);
	raw_exec(t, "WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL "
	    "SELECT n + 1 FROM i WHERE n < 20000) INSERT INTO certificates "
	    "(serial, profile, san_dns, san_ip, san_uri, key_type, "
	    "not_before, not_after, revoked_at, reason, fingerprint, "
	    "issued_by, pem, created_at) SELECT printf('%05x', n), "
	    "'p' || (n % 3), '', '', '', 'ec-p256', 0, "
	    "CASE WHEN n <= 5000 THEN 100 ELSE n END, "
	    "CASE WHEN n % 7 = 0 THEN n END, CASE WHEN n % 7 = 0 THEN 1 END, "
	    "'ff', 'cli', 'PEM', 0 FROM i");
	for (size_t i = 0; i < sizeof(nows) / sizeof(nows[0]); i++) {
		memset(&f, 0, sizeof(f));
		f.status = CERT_VALID;
		f.now = nows[i];
		f.limit = 1000;
		agree(t, f, got, want, cap);
		f.after = 5500;
		agree(t, f, got, want, cap);
		f.after = 0;
		f.profile = "p2";
		agree(t, f, got, want, cap);
		if (i == 1)	/* the first valid row goes */
			raw_exec(t, "UPDATE certificates SET revoked_at = 1, "
			    "reason = 1 WHERE id = 5001");
		if (i == 5)	/* a new row, valid for ever */
			raw_exec(t, "INSERT INTO certificates (serial, "
			    "profile, san_dns, san_ip, san_uri, key_type, "
			    "not_before, not_after, fingerprint, issued_by, "
			    "pem, created_at) VALUES ('fffff', 'p1', '', '', "
			    "'', 'ec-p256', 0, 99999, 'ff', 'cli', 'PEM', 0)");
	}
	free(got);
	free(want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_counts_inserts_revocations, dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_counts_key_cascade,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_counts_delete_update,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_counts_group_commit,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_migration_from_v2,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_list_plans_agree,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_list_valid_hint,
		    dbt_setup, dbt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
