/*
 * Tests for db/backup.c: an online snapshot taken while another thread
 * writes is consistent (every row committed before it started, no
 * half of anything) and passes integrity_check; files are 0600, a
 * symbolic link at the destination is refused, nothing is overwritten
 * without force and no temporary file outlives a failure; snapshot
 * checks refuse what is not a redis-ca database, a newer schema and a
 * corrupt file; restore keeps the old database and leaves no WAL.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>

#include "dbtest.h"
#include "priv.h"

#define PRELOAD_ROWS	4000	/* about 8 MB: the copy takes many steps */

/* A file name in the test's folder. */
static void
tpath(const struct dbt *t, const char *name, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", t->dir, name);
}

/* Files in the test's folder (dbt_remove() only knows test.db). */
static void
clean_dir(const struct dbt *t)
{
	char p[512];
	DIR *d;
	struct dirent *de;

	if ((d = opendir(t->dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strncmp(de->d_name, "test.db", 7) == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", t->dir, de->d_name);
		unlink(p);
	}
	closedir(d);
}

static int
teardown(void **state)
{
	clean_dir(*state);
	return dbt_teardown(state);
}

/* How many names in the folder hold s. */
static int
count_names(const struct dbt *t, const char *s)
{
	DIR *d = opendir(t->dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		n += strstr(de->d_name, s) != NULL;
	closedir(d);
	return n;
}

static void
mkcert(struct cert_rec *c, const char *serial)
{
	memset(c, 0, sizeof(*c));
	c->reason = -1;
	snprintf(c->serial, sizeof(c->serial), "%s", serial);
	snprintf(c->profile, sizeof(c->profile), "redis-client");
	c->key_type = KEY_EC_P256;
	c->not_before = 1000;
	c->not_after = 4000000000;
	memset(c->fingerprint, 'f', RCA_SHA256_HEX);
	snprintf(c->issued_by, sizeof(c->issued_by), "cli");
	c->pem = strdup("-----BEGIN CERTIFICATE-----\nMIIB\n"
	    "-----END CERTIFICATE-----\n");
	assert_non_null(c->pem);
	c->created_at = 2000;
}

static void
insert(struct db *db, const char *serial)
{
	struct cert_rec c;
	struct err e = { 0 };

	mkcert(&c, serial);
	assert_int_equal(db_cert_insert(db, &c, NULL, &e), 0);
	cert_rec_clear(&c);
}

/* PRELOAD_ROWS rows of 2 KB through a raw connection, in one go. */
static void
preload(const struct dbt *t)
{
	sqlite3 *h = NULL;

	assert_int_equal(sqlite3_open(t->path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_busy_timeout(h, 5000), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h,
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
	    " WHERE i < 4000)"
	    " INSERT INTO certificates (serial, profile, san_dns, san_ip,"
	    " san_uri, key_type, not_before, not_after, fingerprint,"
	    " issued_by, pem, created_at)"
	    " SELECT printf('p%08d', i), 'redis-client', '', '', '',"
	    " 'ec-p256', 1, 4000000000, printf('%064d', 0), 'cli',"
	    " printf('%.2000c', 'x'), 2 FROM n", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_close(h), SQLITE_OK);
}

/* The first column of the first row of sql on the file at path. */
static int64_t
query_int(const char *path, const char *sql)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v;

	assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	assert_int_equal(sqlite3_finalize(st), SQLITE_OK);
	assert_int_equal(sqlite3_close(h), SQLITE_OK);
	return v;
}

static void
assert_integrity_ok(const char *path)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;

	assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1,
	    &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	assert_int_equal(sqlite3_finalize(st), SQLITE_OK);
	assert_int_equal(sqlite3_close(h), SQLITE_OK);
}

static void
assert_mode(const char *path, mode_t want)
{
	struct stat sb;

	assert_int_equal(lstat(path, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, want);
}

static void
assert_header_rollback(const char *path)
{
	unsigned char h[20];
	FILE *f;

	assert_non_null(f = fopen(path, "rb"));
	assert_int_equal(fread(h, 1, sizeof(h), f), sizeof(h));
	fclose(f);
	assert_int_equal(h[18], 1);
	assert_int_equal(h[19], 1);
}

struct writer {
	struct db	*db;
	int		 committed;	/* rows w0..w<committed-1> are in */
	int		 stop;
	int		 failures;
};

/* Insert w00000000, w00000001, ... until told to stop. */
static void *
writer_main(void *p)
{
	struct writer *w = p;
	struct cert_rec c;
	struct err e = { 0 };
	char serial[32];

	for (int i = 0; !__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE); i++) {
		snprintf(serial, sizeof(serial), "w%08d", i);
		mkcert(&c, serial);
		if (db_cert_insert(w->db, &c, NULL, &e) != 0)
			w->failures++;
		else
			__atomic_store_n(&w->committed, i + 1,
			    __ATOMIC_RELEASE);
		cert_rec_clear(&c);
	}
	return NULL;
}

static void
test_snapshot_while_writing(void **state)
{
	struct dbt *t = *state;
	struct writer w = { t->db, 0, 0, 0 };
	struct db_snap_info info;
	struct err e = { 0 };
	pthread_t th;
	char snap[256], wal[300];
	int before, after, round;
	int64_t n, maxw;

	preload(t);
	assert_int_equal(pthread_create(&th, NULL, writer_main, &w), 0);
	for (round = 0; round < 3; round++) {
		while (__atomic_load_n(&w.committed, __ATOMIC_ACQUIRE) <
		    20 * (round + 1))
			usleep(1000);
		snprintf(snap, sizeof(snap), "%s/snap%d.db", t->dir, round);
		before = __atomic_load_n(&w.committed, __ATOMIC_ACQUIRE);
		assert_int_equal(db_backup(t->path, snap, false, &info, &e),
		    0);
		after = __atomic_load_n(&w.committed, __ATOMIC_ACQUIRE);
		print_message("snapshot %d: %d rows committed before, %d "
		    "after\n", round, before, after);

		/* Consistent and complete: every row committed before the
		 * copy began, and the rows it holds are a prefix. */
		assert_integrity_ok(snap);
		assert_mode(snap, 0600);
		n = query_int(snap, "SELECT count(*) FROM certificates "
		    "WHERE serial LIKE 'w%'");
		maxw = query_int(snap, "SELECT coalesce(max(CAST(substr("
		    "serial, 2) AS INTEGER)), -1) FROM certificates WHERE "
		    "serial LIKE 'w%'");
		assert_true(n >= before && n <= after);
		assert_int_equal(maxw, n - 1);
		assert_int_equal(query_int(snap, "SELECT count(*) FROM "
		    "certificates WHERE serial LIKE 'p%'"), PRELOAD_ROWS);
		assert_int_equal(info.ncerts, n + PRELOAD_ROWS);
		assert_int_equal(info.version, db_schema_version(t->db));
		assert_true(info.size > PRELOAD_ROWS * 2000);
		/* Self-contained: no WAL beside it, and its header says
		 * rollback journal (file format versions 1, not 2: WAL). */
		snprintf(wal, sizeof(wal), "%s-wal", snap);
		assert_int_equal(access(wal, F_OK), -1);
		assert_header_rollback(snap);
	}
	__atomic_store_n(&w.stop, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(w.failures, 0);
	assert_int_equal(count_names(t, ".tmp-"), 0);
}

static void
test_backup_refusals(void **state)
{
	struct dbt *t = *state;
	struct db_snap_info info;
	struct err e = { 0 };
	char snap[256], link[256], target[256], missing[256];
	int fd;

	insert(t->db, "aa01");
	tpath(t, "snap.db", snap, sizeof(snap));
	/* An existing file: refused without force, replaced with it, and
	 * the result is 0600 whatever the old file's mode. */
	fd = open(snap, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "old", 3), 3);
	close(fd);
	assert_int_equal(chmod(snap, 0644), 0);
	assert_int_equal(db_backup(t->path, snap, false, &info, &e), -1);
	assert_int_equal(e.code, ERR_ALREADY_EXISTS);
	assert_non_null(strstr(e.msg, "--force"));
	assert_mode(snap, 0644);
	assert_int_equal(db_backup(t->path, snap, true, &info, &e), 0);
	assert_mode(snap, 0600);
	assert_int_equal(info.ncerts, 1);
	assert_int_equal(info.crl_number, 0);

	/* A symbolic link at the destination: refused, with force too,
	 * and its target is neither created nor written. */
	tpath(t, "link.db", link, sizeof(link));
	tpath(t, "target.db", target, sizeof(target));
	assert_int_equal(symlink(target, link), 0);
	for (int force = 0; force < 2; force++) {
		assert_int_equal(db_backup(t->path, link, force, &info, &e),
		    -1);
		assert_int_equal(e.code, ERR_IO);
		assert_non_null(strstr(e.msg, "symbolic link"));
		assert_int_equal(access(target, F_OK), -1);
	}
	/* A folder at the destination, a missing folder, no source. */
	assert_int_equal(db_backup(t->path, t->dir, true, &info, &e), -1);
	assert_int_equal(e.code, ERR_IO);
	snprintf(missing, sizeof(missing), "%s/nope/snap.db", t->dir);
	assert_int_equal(db_backup(t->path, missing, false, &info, &e), -1);
	assert_int_equal(e.code, ERR_IO);
	assert_non_null(strstr(e.msg, "No such file"));
	tpath(t, "none.db", missing, sizeof(missing));
	assert_int_equal(db_backup(missing, snap, true, &info, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(count_names(t, ".tmp-"), 0);
}

/* A copy of the snapshot at src to name, changed by sql (may be NULL). */
static void
altered(const char *src, const char *dst, const char *sql)
{
	char *buf;
	FILE *f;
	long n;
	sqlite3 *h = NULL;

	assert_non_null(f = fopen(src, "rb"));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	assert_non_null(buf = malloc((size_t)n));
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	assert_non_null(f = fopen(dst, "wb"));
	assert_int_equal(fwrite(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	free(buf);
	if (sql == NULL)
		return;
	assert_int_equal(sqlite3_open(dst, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(h), SQLITE_OK);
}

/* Smash the b-tree header of every page after the first. */
static void
corrupt(const char *path)
{
	struct stat sb;
	int fd;

	assert_int_equal(stat(path, &sb), 0);
	assert_true((fd = open(path, O_WRONLY)) >= 0);
	for (off_t off = 4096; off < sb.st_size; off += 4096)
		assert_int_equal(pwrite(fd, "\x07\x07\x07\x07", 4, off), 4);
	close(fd);
}

static void
expect_refused(const char *path, enum err_code code, const char *msg)
{
	struct db_snap s;
	struct err e = { 0 };

	assert_int_equal(db_snapshot_check(path, &s, &e), -1);
	assert_int_equal(e.code, code);
	if (strstr(e.msg, msg) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", e.msg, msg);
	assert_null(s.crl_der);
	assert_null(s.cert_pem);
}

static void
test_snapshot_checks(void **state)
{
	struct dbt *t = *state;
	const unsigned char der[] = { 0x30, 0x03, 0x02, 0x01, 0x07 };
	struct db_snap_info info;
	struct db_snap s;
	struct err e = { 0 };
	char snap[256], p[256];
	FILE *f;

	insert(t->db, "aa01");
	tpath(t, "snap.db", snap, sizeof(snap));
	assert_int_equal(db_backup(t->path, snap, false, &info, &e), 0);
	/* No CRL yet: the first certificate says whose it is. */
	assert_int_equal(db_snapshot_check(snap, &s, &e), 0);
	assert_null(s.crl_der);
	assert_non_null(s.cert_pem);
	assert_non_null(strstr(s.cert_pem, "BEGIN CERTIFICATE"));
	assert_int_equal(s.info.ncerts, 1);
	db_snapshot_clear(&s);
	/* With a CRL: its DER, and no certificate. */
	assert_int_equal(db_crl_save(t->db, 1, 7, 1, 2, der, sizeof(der), NULL,
	    &e), 0);
	assert_int_equal(db_backup(t->path, snap, true, &info, &e), 0);
	assert_int_equal(info.crl_number, 7);
	assert_int_equal(db_snapshot_check(snap, &s, &e), 0);
	assert_int_equal(s.info.crl_number, 7);
	assert_int_equal(s.crl_len, sizeof(der));
	assert_memory_equal(s.crl_der, der, sizeof(der));
	assert_null(s.cert_pem);
	db_snapshot_clear(&s);

	tpath(t, "none.db", p, sizeof(p));
	expect_refused(p, ERR_NOT_FOUND, "No such file");
	expect_refused(t->dir, ERR_IO, "not a regular file");
	tpath(t, "text.db", p, sizeof(p));
	assert_non_null(f = fopen(p, "w"));
	fputs("this is not a database, just text of some length\n", f);
	fclose(f);
	expect_refused(p, ERR_INVALID_REQUEST, "not a SQLite database");
	tpath(t, "other.db", p, sizeof(p));
	altered(snap, p, "DROP TABLE tokens");
	expect_refused(p, ERR_INVALID_REQUEST, "without redis-ca's tables");
	tpath(t, "newer.db", p, sizeof(p));
	altered(snap, p, "PRAGMA user_version = 99");
	expect_refused(p, ERR_INVALID_REQUEST, "newer than this program");
	tpath(t, "corrupt.db", p, sizeof(p));
	altered(snap, p, NULL);
	corrupt(p);
	expect_refused(p, ERR_INVALID_REQUEST, "corrupt");
	/* Unreadable (unless we are root, who reads anything). */
	if (geteuid() != 0) {
		tpath(t, "unreadable.db", p, sizeof(p));
		altered(snap, p, NULL);
		assert_int_equal(chmod(p, 0), 0);
		expect_refused(p, ERR_IO, "Permission denied");
	}
}

/* Commit a copy of aa01 as aa02 and leave it in the WAL, unmerged. */
static void
wal_only_row(const char *path)
{
	sqlite3 *h = NULL;
	int on = -1;

	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_db_config(h, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
	    1, &on), SQLITE_OK);
	assert_int_equal(on, 1);
	assert_int_equal(sqlite3_exec(h, "PRAGMA wal_autocheckpoint = 0;"
	    "INSERT INTO certificates (serial, profile, san_dns, san_ip,"
	    " san_uri, key_type, not_before, not_after, fingerprint,"
	    " issued_by, pem, created_at) SELECT 'aa02', profile, san_dns,"
	    " san_ip, san_uri, key_type, not_before, not_after, fingerprint,"
	    " issued_by, pem, created_at FROM certificates"
	    " WHERE serial = 'aa01'", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(h), SQLITE_OK);
}

static void
test_restore(void **state)
{
	struct dbt *t = *state;
	struct db_snap_info info;
	struct err e = { 0 };
	char snap[256], keep[256], p[300], fresh[256];
	bool kept;
	int v;

	insert(t->db, "aa01");
	tpath(t, "snap.db", snap, sizeof(snap));
	assert_int_equal(db_backup(t->path, snap, false, &info, &e), 0);
	db_close(t->db);
	t->db = NULL;
	/* As after a crash: aa02 is committed in the WAL only. */
	wal_only_row(t->path);
	tpath(t, "keep.db", keep, sizeof(keep));
	snprintf(p, sizeof(p), "%s-wal", t->path);
	assert_int_equal(access(p, F_OK), 0);
	assert_int_equal(db_restore(snap, t->path, keep, &kept, &e), 0);
	assert_true(kept);
	/* Checkpointed after the copy: no -wal or -shm left. */
	assert_int_equal(access(p, F_OK), -1);
	snprintf(p, sizeof(p), "%s-shm", t->path);
	assert_int_equal(access(p, F_OK), -1);
	assert_mode(keep, 0600);
	assert_mode(t->path, 0600);
	assert_int_equal(query_int(keep, "SELECT count(*) FROM certificates"),
	    2);
	assert_int_equal(query_int(t->path, "SELECT count(*) FROM "
	    "certificates"), 1);
	assert_integrity_ok(t->path);
	/* It opens and is served as before, in WAL mode. */
	assert_non_null(t->db = db_open(t->path, &e));
	assert_int_equal(query_int(t->path, "SELECT count(*) FROM "
	    "pragma_journal_mode WHERE journal_mode = 'wal'"), 1);
	insert(t->db, "aa03");
	/* keep must be new: refused, and nothing changed. */
	assert_int_equal(db_restore(snap, t->path, keep, &kept, &e), -1);
	assert_int_equal(e.code, ERR_ALREADY_EXISTS);
	assert_false(kept);
	assert_int_equal(query_int(t->path, "SELECT count(*) FROM "
	    "certificates"), 2);
	/* Onto a new machine: no database yet, none kept. */
	tpath(t, "fresh.db", fresh, sizeof(fresh));
	assert_int_equal(db_file_version(fresh, &v, &e), 0);
	assert_int_equal(v, 0);
	tpath(t, "keep2.db", keep, sizeof(keep));
	assert_int_equal(db_restore(snap, fresh, keep, &kept, &e), 0);
	assert_false(kept);
	assert_int_equal(access(keep, F_OK), -1);
	assert_mode(fresh, 0600);
	assert_int_equal(db_file_version(fresh, &v, &e), 0);
	assert_int_equal(v, db_schema_version(t->db));
}

/* A CA record k (key hash k) in state st. */
static void
mkca(struct ca_rec *r, int k, enum ca_state st)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->ski, sizeof(r->ski), "%040x", k);
	snprintf(r->spki_sha256, sizeof(r->spki_sha256), "%064x", k);
	r->state = st;
	r->cert_pem = "-----BEGIN CERTIFICATE-----\n";
	r->anchors_pem = "";
	r->created_at = 1;
}

/* The snapshot of snap's CA key hashes, compared with want. */
static void
expect_keys(const struct dbt *t, const char *want)
{
	struct db_snap_info info;
	struct db_snap s;
	struct err e = { 0 };
	char snap[256];

	tpath(t, "keys.db", snap, sizeof(snap));
	assert_int_equal(db_backup(t->path, snap, true, &info, &e), 0);
	assert_int_equal(db_snapshot_check(snap, &s, &e), 0);
	assert_string_equal(s.ca_keys, want);
	db_snapshot_clear(&s);
}

/*
 * Version 4: a snapshot lists the key hashes of its CAs not gone (what
 * restore matches ca.crt against after a rollover); none before the
 * first start, none below version 4.
 */
static void
test_snapshot_ca_keys(void **state)
{
	struct dbt *t = *state;
	struct ca_rec r;
	struct err e = { 0 };
	struct db_snap s;
	char k1[RCA_SHA256_HEX + 1], k2[RCA_SHA256_HEX + 1], both[160];
	char snap[256], p[256];

	expect_keys(t, "");
	mkca(&r, 1, CA_STATE_CURRENT);
	assert_int_equal(db_ca_bootstrap(t->db, &r, &e), 0);
	mkca(&r, 2, CA_STATE_NEXT);
	assert_int_equal(db_ca_prepare(t->db, &r, NULL, &e), 0);
	snprintf(k1, sizeof(k1), "%064x", 1);
	snprintf(k2, sizeof(k2), "%064x", 2);
	snprintf(both, sizeof(both), "%s %s", k1, k2);
	expect_keys(t, both);
	assert_int_equal(db_ca_activate(t->db, 10, NULL, &e), 0);
	assert_int_equal(db_ca_retire(t->db, 1, 10, NULL, &e), 0);
	expect_keys(t, k2);
	/* Version 3: no list (its CRL or certificate tells). */
	tpath(t, "keys.db", snap, sizeof(snap));
	tpath(t, "v3.db", p, sizeof(p));
	altered(snap, p, "PRAGMA user_version = 3");
	assert_int_equal(db_snapshot_check(p, &s, &e), 0);
	assert_int_equal(s.info.version, 3);
	assert_string_equal(s.ca_keys, "");
	db_snapshot_clear(&s);
}

static void
test_is_postgres(void **state)
{
	(void)state;
	assert_true(db_is_postgres("postgresql://db1,db2/ca"
	    "?target_session_attrs=read-write"));
	assert_true(db_is_postgres("postgres://localhost/ca"));
	assert_false(db_is_postgres("/var/lib/redis-ca/redis-ca.db"));
	assert_false(db_is_postgres("postgresql:/x"));
	assert_false(db_is_postgres(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_snapshot_while_writing,
		    dbt_setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_refusals,
		    dbt_setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_checks,
		    dbt_setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore, dbt_setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_ca_keys,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test(test_is_postgres),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
