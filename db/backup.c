/*
 * Backup and restore of a SQLite database file (db.h): SQLite's online
 * backup API between connections of this file's own, never a struct
 * db's.  A snapshot is one self-contained file (rollback journal mode).
 * Its statements run on snapshot files only: they have their own table.
 */
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "priv.h"
#include "rca_limits.h"

#define BK_STEP_PAGES	256	/* pages copied per step (1 MiB at 4 KiB) */
#define BK_BUSY_SLEEP_MS 10	/* wait between steps refused as busy */
#define BK_BUSY_TRIES	500	/* 5 s of busy steps in a row */
#define BK_TMP_TRIES	16	/* random temporary names tried */

enum bk_stmt {
	BK_SNAPSHOT,	/* fix a read snapshot of the source */
	BK_QUICK,	/* a fast check of the copy */
	BK_INTEGRITY,	/* the full check of a snapshot to restore */
	BK_VERSION,
	BK_TABLES,	/* how many of redis-ca's tables are there */
	BK_NCERTS,
	BK_CRL_NUMBER,	/* the latest CRL's number (0: none) */
	BK_CRL,		/* the latest CRL's DER */
	BK_CERT,	/* one certificate, when there is no CRL */
	BK_CA_KEYS,	/* version 4: its CAs' key hashes */
	BK_DELETE_MODE,	/* a snapshot holds no -wal of its own */
	BK_WAL_MODE,
	BK_CHECKPOINT,
	BK__MAX
};

static const char *const bk_sql[BK__MAX] = {
	[BK_SNAPSHOT] = "SELECT count(*) FROM sqlite_schema",
	[BK_QUICK] = "PRAGMA quick_check",
	[BK_INTEGRITY] = "PRAGMA integrity_check",
	[BK_VERSION] = "PRAGMA user_version",
	[BK_TABLES] = "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
	    " AND name IN ('certificates', 'tokens', 'crls', 'audit')",
	[BK_NCERTS] = "SELECT count(*) FROM certificates",
	[BK_CRL_NUMBER] = "SELECT coalesce(max(number), 0) FROM crls"
	    " WHERE length(der) > 0",
	[BK_CRL] = "SELECT der FROM crls WHERE length(der) > 0"
	    " ORDER BY number DESC LIMIT 1",
	[BK_CERT] = "SELECT pem FROM certificates ORDER BY id LIMIT 1",
	[BK_CA_KEYS] = "SELECT group_concat(spki_sha256, ' ') FROM (SELECT"
	    " spki_sha256 FROM cas WHERE state <> 'gone' ORDER BY id)",
	[BK_DELETE_MODE] = "PRAGMA journal_mode = DELETE",
	[BK_WAL_MODE] = "PRAGMA journal_mode = WAL",
	[BK_CHECKPOINT] = "PRAGMA wal_checkpoint(TRUNCATE)",
};

#define BK_TABLES_WANT	4

/* The newest SQLite schema this program knows. */
#define BK_KNOWN()	db_sql_nmigrations(DB_DIALECT_SQLITE)

/* Log SQLite's error on h for `what` and set e (ERR_DB, msg).  -1. */
static int
bk_fail(sqlite3 *h, const char *what, const char *msg, struct err *e)
{
	log_error("db: %s: %s", what, h != NULL ? sqlite3_errmsg(h) :
	    "out of memory");
	err_set(e, ERR_DB, "%s", msg);
	return -1;
}

/*
 * Open path with flags and the settings of db.c's connections that
 * matter here (defensive, untrusted schema, busy timeout).  NULL on
 * failure with e set (msg names the file).
 */
static sqlite3 *
bk_open(const char *path, int flags, struct err *e)
{
	sqlite3 *h = NULL;
	int got;

	if (sqlite3_open_v2(path, &h, flags | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK ||
	    sqlite3_db_config(h, SQLITE_DBCONFIG_DEFENSIVE, 1, &got) !=
	    SQLITE_OK ||
	    sqlite3_db_config(h, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, &got) !=
	    SQLITE_OK ||
	    sqlite3_busy_timeout(h, DB_BUSY_TIMEOUT_MS) != SQLITE_OK) {
		log_error("db: open %s: %s", path, h != NULL ?
		    sqlite3_errmsg(h) : "out of memory");
		err_set(e, ERR_DB, "%s: cannot open as a SQLite database",
		    path);
		(void)sqlite3_close(h);
		return NULL;
	}
	return h;
}

/*
 * Run statement id on h and read the first column of its first row as
 * an integer (*i) or, when txt is not NULL, as text (cap bytes).  The
 * other rows are stepped through.  Returns 1 (a row), 0 (none), -1.
 */
static int
bk_one(sqlite3 *h, enum bk_stmt id, int64_t *i, char *txt, size_t cap,
    struct err *e)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	int rc, got = 0, ret = -1;

	if (sqlite3_prepare_v2(h, bk_sql[id], -1, &st, NULL) != SQLITE_OK) {
		bk_fail(h, bk_sql[id], "database error", e);
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (got++ > 0)
			continue;
		if (i != NULL)
			*i = sqlite3_column_int64(st, 0);
		if (txt != NULL) {
			t = sqlite3_column_text(st, 0);
			snprintf(txt, cap, "%s", t != NULL ?
			    (const char *)t : "");
		}
	}
	if (rc != SQLITE_DONE) {
		bk_fail(h, bk_sql[id], "database error", e);
		goto out;
	}
	ret = got > 0;
out:
	(void)sqlite3_finalize(st);
	return ret;
}

/* PRAGMA quick_check or integrity_check (id) on h says "ok". */
static int
bk_check(sqlite3 *h, enum bk_stmt id, const char *path, struct err *e)
{
	char res[128];
	struct err le;

	err_clear(&le);
	if (bk_one(h, id, NULL, res, sizeof(res), &le) != 1 ||
	    strcmp(res, "ok") != 0) {
		log_error("db: %s: %s: %s", path, bk_sql[id],
		    le.code != ERR_OK ? le.msg : res);
		err_set(e, ERR_DB, "%s: the database is corrupt (%s failed)",
		    path, id == BK_QUICK ? "quick_check" : "integrity_check");
		return -1;
	}
	return 0;
}

/* Copy every page of src into dst, in steps (see db_backup()). */
static int
bk_copy(sqlite3 *dst, sqlite3 *src, int pages, struct err *e)
{
	sqlite3_backup *b;
	int rc, busy = 0;

	if ((b = sqlite3_backup_init(dst, "main", src, "main")) == NULL)
		return bk_fail(dst, "backup_init", "cannot copy the database",
		    e);
	for (;;) {
		rc = sqlite3_backup_step(b, pages);
		if (rc == SQLITE_DONE)
			break;
		if (rc == SQLITE_OK) {
			busy = 0;
			continue;
		}
		if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) &&
		    ++busy < BK_BUSY_TRIES) {
			sqlite3_sleep(BK_BUSY_SLEEP_MS);
			continue;
		}
		break;
	}
	if (sqlite3_backup_finish(b) != SQLITE_OK || rc != SQLITE_DONE) {
		log_error("db: backup_step: %s", sqlite3_errstr(rc));
		err_set(e, ERR_DB, "cannot copy the database (%s)",
		    sqlite3_errstr(rc));
		return -1;
	}
	return 0;
}

/* Split path into its folder (dir, cap bytes) and last name (base). */
static int
bk_split(const char *path, char *dir, char *base, size_t cap,
    struct err *e)
{
	char a[PATH_MAX], b[PATH_MAX];

	if (strlen(path) >= sizeof(a) || strlen(path) >= cap) {
		err_set(e, ERR_IO, "%.64s...: path too long", path);
		return -1;
	}
	memcpy(a, path, strlen(path) + 1);
	memcpy(b, path, strlen(path) + 1);
	snprintf(dir, cap, "%s", dirname(a));
	snprintf(base, cap, "%s", basename(b));
	if (base[0] == '\0' || strcmp(base, "/") == 0 ||
	    strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		err_set(e, ERR_IO, "%s: not a file name", path);
		return -1;
	}
	return 0;
}

/*
 * Create a new file beside path (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600)
 * with a random name, into tmp (cap bytes).  Returns its descriptor.
 */
static int
bk_tmp_create(const char *path, char *tmp, size_t cap, struct err *e)
{
	char dir[PATH_MAX], base[PATH_MAX];
	unsigned int r;
	int fd;

	if (bk_split(path, dir, base, sizeof(dir), e) == -1)
		return -1;
	for (int i = 0; i < BK_TMP_TRIES; i++) {
		if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
			r = (unsigned int)time(NULL) ^ (unsigned int)i;
		if (snprintf(tmp, cap, "%s/.%s.tmp-%08x", dir, base, r) >=
		    (int)cap) {
			err_set(e, ERR_IO, "%s: path too long", path);
			return -1;
		}
		fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd != -1)
			return fd;
		if (errno != EEXIST)
			break;
	}
	err_set(e, ERR_IO, "%s: cannot create a file in %s: %s", path, dir,
	    strerror(errno));
	return -1;
}

/*
 * What is at dst now, checked through a descriptor: 0 nothing, 1 a
 * regular file, -1 (e set) anything that must not be replaced.
 */
static int
bk_dst_state(const char *dst, struct err *e)
{
	struct stat sb;
	int fd, rc;

	fd = open(dst, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		err_set(e, ERR_IO, "%s: %s", dst, errno == ELOOP ?
		    "is a symbolic link (refused)" : strerror(errno));
		return -1;
	}
	rc = fstat(fd, &sb);
	close(fd);
	if (rc == -1 || !S_ISREG(sb.st_mode)) {
		err_set(e, ERR_IO, "%s: %s", dst, rc == -1 ? strerror(errno) :
		    "exists and is not a regular file");
		return -1;
	}
	return 1;
}

/* fsync the folder of path, so a rename or link in it is durable. */
static int
bk_sync_dir(const char *path, struct err *e)
{
	char dir[PATH_MAX], base[PATH_MAX];
	int fd, rc;

	if (bk_split(path, dir, base, sizeof(dir), e) == -1)
		return -1;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		err_set(e, ERR_IO, "%s: %s", dir, strerror(errno));
		return -1;
	}
	rc = fsync(fd);
	close(fd);
	if (rc == -1) {
		err_set(e, ERR_IO, "fsync %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * A new copy of column 0 of the first row of statement id on h, with a
 * NUL after it (text or blob), into *out and *len; NULL when no row.
 */
static int
bk_dup(sqlite3 *h, enum bk_stmt id, void **out, size_t *len,
    struct err *e)
{
	sqlite3_stmt *st = NULL;
	const void *p;
	int rc, ret = -1, n;

	*out = NULL;
	*len = 0;
	if (sqlite3_prepare_v2(h, bk_sql[id], -1, &st, NULL) != SQLITE_OK) {
		bk_fail(h, bk_sql[id], "database error", e);
		goto out;
	}
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		p = sqlite3_column_blob(st, 0);
		n = sqlite3_column_bytes(st, 0);
		if ((*out = calloc(1, (size_t)n + 1)) == NULL) {
			err_set(e, ERR_INTERNAL, "out of memory");
			goto out;
		}
		if (n > 0)
			memcpy(*out, p, (size_t)n);
		*len = (size_t)n;
	} else if (rc != SQLITE_DONE) {
		bk_fail(h, bk_sql[id], "database error", e);
		goto out;
	}
	ret = 0;
out:
	(void)sqlite3_finalize(st);
	return ret;
}

/*
 * Read the facts of a snapshot on h: schema version, certificates,
 * latest CRL number.  Needs a redis-ca schema.
 */
static int
bk_facts(sqlite3 *h, struct db_snap_info *info, struct err *e)
{
	int64_t v = 0, n = 0, crl = 0;

	if (bk_one(h, BK_VERSION, &v, NULL, 0, e) == -1 ||
	    bk_one(h, BK_NCERTS, &n, NULL, 0, e) == -1 ||
	    bk_one(h, BK_CRL_NUMBER, &crl, NULL, 0, e) == -1)
		return -1;
	info->version = (int)v;
	info->ncerts = n;
	info->crl_number = (uint64_t)crl;
	return 0;
}

/*
 * The copy of src into the open file tmp (descriptor fd): a read
 * transaction on src fixes one snapshot, so the copy is consistent
 * however many steps it takes while other connections write (readers
 * never block writers in WAL mode), then the copy is made
 * self-contained (journal_mode DELETE) and checked.
 */
static int
bk_to_tmp(const char *src, const char *tmp, struct db_snap_info *info,
    struct err *e)
{
	sqlite3 *s = NULL, *d = NULL;
	char mode[16];
	int rc = -1;

	if ((s = bk_open(src, SQLITE_OPEN_READWRITE, e)) == NULL ||
	    (d = bk_open(tmp, SQLITE_OPEN_READWRITE, e)) == NULL)
		goto out;
	if (sqlite3_exec(s, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    bk_one(s, BK_SNAPSHOT, NULL, NULL, 0, e) == -1) {
		bk_fail(s, "backup: read snapshot", "database error", e);
		goto out;
	}
	if (bk_copy(d, s, BK_STEP_PAGES, e) == -1)
		goto out;
	if (bk_one(d, BK_DELETE_MODE, NULL, mode, sizeof(mode), e) == -1)
		goto out;
	if (bk_check(d, BK_QUICK, tmp, e) == -1 || bk_facts(d, info, e) == -1)
		goto out;
	rc = 0;
out:
	if (s != NULL)
		(void)sqlite3_exec(s, "COMMIT", NULL, NULL, NULL);
	(void)sqlite3_close(s);
	if (d != NULL && sqlite3_close(d) != SQLITE_OK && rc == 0)
		rc = bk_fail(d, "backup: close", "database error", e);
	return rc;
}

/* Put tmp at dst: rename over a file (force) or link beside none. */
static int
bk_place(const char *tmp, const char *dst, bool force, struct err *e)
{
	int st;

	if ((st = bk_dst_state(dst, e)) == -1)
		return -1;
	if (st == 1 && !force) {
		err_set(e, ERR_ALREADY_EXISTS, "%s: already exists (use "
		    "--force to replace it)", dst);
		return -1;
	}
	if (st == 1 ? rename(tmp, dst) == -1 : link(tmp, dst) == -1) {
		if (errno == EEXIST)
			err_set(e, ERR_ALREADY_EXISTS, "%s: already exists "
			    "(use --force to replace it)", dst);
		else
			err_set(e, ERR_IO, "%s: %s", dst, strerror(errno));
		return -1;
	}
	if (st == 0)
		(void)unlink(tmp);
	return bk_sync_dir(dst, e);
}

int
db_backup(const char *src, const char *dst, bool force,
    struct db_snap_info *info, struct err *e)
{
	char tmp[PATH_MAX];
	struct stat sb, sb2;
	int fd = -1, fd2 = -1, st, rc = -1;

	memset(info, 0, sizeof(*info));
	tmp[0] = '\0';
	if ((st = bk_dst_state(src, e)) != 1) {
		if (st == 0)
			err_set(e, ERR_NOT_FOUND, "%s: no such database", src);
		return -1;
	}
	/* Refuse early, before the copy; bk_place() checks again. */
	if (bk_dst_state(dst, e) == -1)
		return -1;
	if (!force && bk_dst_state(dst, e) == 1) {
		err_set(e, ERR_ALREADY_EXISTS, "%s: already exists (use "
		    "--force to replace it)", dst);
		return -1;
	}
	if ((fd = bk_tmp_create(dst, tmp, sizeof(tmp), e)) == -1) {
		tmp[0] = '\0';
		goto out;
	}
	if (bk_to_tmp(src, tmp, info, e) == -1)
		goto out;
	/* The file SQLite wrote is the one created above. */
	if ((fd2 = open(tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1 || fstat(fd2, &sb2) == -1 ||
	    sb.st_dev != sb2.st_dev || sb.st_ino != sb2.st_ino) {
		err_set(e, ERR_IO, "%s: the temporary file was replaced", tmp);
		goto out;
	}
	if (fchmod(fd, 0600) == -1 || fsync(fd) == -1) {
		err_set(e, ERR_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	info->size = (int64_t)sb.st_size;
	if (bk_place(tmp, dst, force, e) == -1)
		goto out;
	tmp[0] = '\0';
	rc = 0;
out:
	if (fd2 != -1)
		close(fd2);
	if (fd != -1)
		close(fd);
	if (tmp[0] != '\0')
		(void)unlink(tmp);
	return rc;
}

/* Open path for reading and check it starts as a SQLite file does. */
static int
bk_header(const char *path, int64_t *size, struct err *e)
{
	static const char magic[16] = "SQLite format 3";
	char buf[16];
	struct stat sb;
	ssize_t n;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		err_set(e, errno == ENOENT ? ERR_NOT_FOUND : ERR_IO,
		    "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		err_set(e, ERR_IO, "%s: not a regular file", path);
		goto out;
	}
	n = read(fd, buf, sizeof(buf));
	if (n == -1) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (n != (ssize_t)sizeof(buf) || memcmp(buf, magic, sizeof(buf))) {
		err_set(e, ERR_INVALID_REQUEST, "%s: not a redis-ca snapshot "
		    "(not a SQLite database)", path);
		goto out;
	}
	*size = (int64_t)sb.st_size;
	rc = 0;
out:
	close(fd);
	return rc;
}

/* The tables and schema version of a redis-ca database, on h. */
static int
bk_schema(sqlite3 *h, const char *path, int *version, struct err *e)
{
	int64_t n = 0, v = 0;
	size_t known = BK_KNOWN();

	if (bk_one(h, BK_TABLES, &n, NULL, 0, e) == -1 ||
	    bk_one(h, BK_VERSION, &v, NULL, 0, e) == -1)
		return -1;
	if (n != BK_TABLES_WANT || v < 1) {
		err_set(e, ERR_INVALID_REQUEST, "%s: not a redis-ca snapshot "
		    "(a SQLite database without redis-ca's tables)", path);
		return -1;
	}
	if ((uint64_t)v > known) {
		err_set(e, ERR_INVALID_REQUEST, "%s: schema version %lld is "
		    "newer than this program knows (%zu): use a newer "
		    "redis-ca", path, (long long)v, known);
		return -1;
	}
	*version = (int)v;
	return 0;
}

int
db_snapshot_check(const char *path, struct db_snap *out, struct err *e)
{
	sqlite3 *h = NULL;
	void *der = NULL, *pem = NULL;
	size_t len;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (bk_header(path, &out->info.size, e) == -1)
		return -1;
	if ((h = bk_open(path, SQLITE_OPEN_READONLY, e)) == NULL)
		goto out;
	if (bk_check(h, BK_INTEGRITY, path, e) == -1) {
		err_set(e, ERR_INVALID_REQUEST, "%s: the snapshot is corrupt "
		    "(integrity_check failed)", path);
		goto out;
	}
	if (bk_schema(h, path, &out->info.version, e) == -1 ||
	    bk_facts(h, &out->info, e) == -1 ||
	    (out->info.version >= 4 && bk_one(h, BK_CA_KEYS, NULL,
	    out->ca_keys, sizeof(out->ca_keys), e) == -1) ||
	    bk_dup(h, BK_CRL, &der, &out->crl_len, e) == -1)
		goto out;
	out->crl_der = der;
	if (der == NULL && bk_dup(h, BK_CERT, &pem, &len, e) == -1)
		goto out;
	out->cert_pem = pem;
	rc = 0;
out:
	(void)sqlite3_close(h);
	if (rc == -1)
		db_snapshot_clear(out);
	return rc;
}

void
db_snapshot_clear(struct db_snap *s)
{
	if (s == NULL)
		return;
	free(s->crl_der);
	free(s->cert_pem);
	memset(s, 0, sizeof(*s));
}

/*
 * Copy snapshot src into the database dst in one transaction (on
 * failure dst keeps what it had, WAL included), check it, then
 * checkpoint it into the main file: the old WAL goes only now, and
 * closing the last connection removes -wal and -shm.
 */
static int
bk_copy_in(const char *src, const char *dst, struct err *e)
{
	sqlite3 *s = NULL, *d = NULL;
	char mode[16];
	int rc = -1;

	if ((s = bk_open(src, SQLITE_OPEN_READONLY, e)) == NULL ||
	    (d = bk_open(dst, SQLITE_OPEN_READWRITE, e)) == NULL)
		goto out;
	/* WAL first (a no-op unless dst is new): the copy is then one
	 * transaction appended to dst's WAL, whatever was there. */
	if (bk_one(d, BK_WAL_MODE, NULL, mode, sizeof(mode), e) == -1)
		goto out;
	if (bk_copy(d, s, -1, e) == -1 || bk_check(d, BK_QUICK, dst, e) == -1)
		goto out;
	if (bk_one(d, BK_CHECKPOINT, NULL, NULL, 0, e) == -1)
		goto out;
	rc = 0;
out:
	(void)sqlite3_close(s);
	if (d != NULL && sqlite3_close(d) != SQLITE_OK && rc == 0)
		rc = bk_fail(d, "restore: close", "database error", e);
	return rc;
}

int
db_restore(const char *src, const char *dst, const char *keep,
    bool *kept, struct err *e)
{
	struct db_snap_info ki;
	int st, fd;

	*kept = false;
	if ((st = bk_dst_state(dst, e)) == -1)
		return -1;
	if (st == 1) {
		if (db_backup(dst, keep, false, &ki, e) == -1)
			return -1;
		*kept = true;
	} else {
		/* A new machine: the file is made 0600 before SQLite's. */
		fd = open(dst, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd == -1) {
			err_set(e, ERR_IO, "%s: %s", dst, strerror(errno));
			return -1;
		}
		close(fd);
	}
	return bk_copy_in(src, dst, e);
}

int
db_file_version(const char *path, int *version, struct err *e)
{
	sqlite3 *h = NULL;
	int64_t v = 0;
	int st, rc = -1;

	*version = 0;
	if ((st = bk_dst_state(path, e)) != 1)
		return st;
	if ((h = bk_open(path, SQLITE_OPEN_READWRITE, e)) == NULL ||
	    bk_one(h, BK_VERSION, &v, NULL, 0, e) == -1)
		goto out;
	*version = (int)v;
	rc = 0;
out:
	(void)sqlite3_close(h);
	return rc;
}
