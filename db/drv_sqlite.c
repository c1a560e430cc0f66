/*
 * The SQLite driver: every sqlite3 call of db/.  A connection is WAL,
 * synchronous=FULL, foreign keys on, a busy timeout for other
 * processes, defensive mode, no double-quoted strings, untrusted
 * schema.  A struct db_st is a sqlite3_stmt.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "drv.h"

#define SQ(st)	((sqlite3_stmt *)(void *)(st))
#define ST(sq)	((struct db_st *)(void *)(sq))

static int
sq_fail(struct db_conn *c, const char *what, struct err *e)
{
	log_error("db: %s: %s (%d)", what, sqlite3_errmsg(c->h),
	    sqlite3_extended_errcode(c->h));
	err_set(e, ERR_DB, "database error");
	return -1;
}

/*
 * Map a failing SQLite result code to e: ERR_ALREADY_EXISTS for a
 * UNIQUE/PRIMARY KEY violation, ERR_NOT_FOUND for a FOREIGN KEY
 * violation, ERR_DB (logged) otherwise.  Returns -1.
 */
static int
sq_rc_fail(struct db_conn *c, int rc, const char *what, struct err *e)
{
	switch (rc) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		log_debug("db: %s: %s", what, sqlite3_errmsg(c->h));
		err_set(e, ERR_ALREADY_EXISTS, "already exists");
		return -1;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		log_debug("db: %s: %s", what, sqlite3_errmsg(c->h));
		err_set(e, ERR_NOT_FOUND, "not found");
		return -1;
	default:
		return sq_fail(c, what, e);
	}
}

static struct db_st *
sq_stmt(struct db_conn *c, enum db_stmt id, const char *sql, struct err *e)
{
	sqlite3_stmt *st = SQ(c->st[id]);

	if (st == NULL && sqlite3_prepare_v3(c->h, sql, -1,
	    SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		log_error("db: prepare statement %d", (int)id);
		sq_fail(c, "prepare", e);
		return NULL;
	}
	c->st[id] = ST(st);
	return c->st[id];
}

static int
sq_step(struct db_conn *c, struct db_st *st, const char *what,
    struct err *e)
{
	int rc = sqlite3_step(SQ(st));

	if (rc == SQLITE_ROW)
		return DB_ROW;
	if (rc == SQLITE_DONE)
		return DB_DONE;
	return sq_rc_fail(c, rc, what, e);
}

static int
sq_end(struct db_conn *c, struct db_st *st, const char *what,
    struct err *e)
{
	int rc = sqlite3_reset(SQ(st));

	(void)sqlite3_clear_bindings(SQ(st));
	return rc == SQLITE_OK ? 0 : sq_rc_fail(c, rc, what, e);
}

static void
sq_done(struct db_conn *c, struct db_st *st)
{
	(void)c;
	/*
	 * After a failed step the reset repeats the error the caller has
	 * already handled: this form is for failure paths.
	 */
	(void)sqlite3_reset(SQ(st));
	(void)sqlite3_clear_bindings(SQ(st));
}

static int
bind_text(struct db_conn *c, sqlite3_stmt *st, int i, const char *s,
    size_t cap, struct err *e)
{
	size_t len;
	int rc;

	if (s == NULL)
		rc = sqlite3_bind_null(st, i);
	else if ((len = strnlen(s, cap)) == cap || len > INT32_MAX) {
		err_set(e, ERR_INVALID_REQUEST, "value too long");
		return -1;
	} else
		rc = sqlite3_bind_text(st, i, s, (int)len, SQLITE_STATIC);
	return rc == SQLITE_OK ? 0 : sq_fail(c, "bind", e);
}

static int
bind_one(struct db_conn *c, sqlite3_stmt *st, int i, const struct db_arg *a,
    struct err *e)
{
	const char *s = a->p;

	switch (a->kind) {
	case DB_A_INT:
		if (sqlite3_bind_int64(st, i, a->i) != SQLITE_OK)
			return sq_fail(c, "bind", e);
		return 0;
	case DB_A_OPT:
		return bind_text(c, st, i, s != NULL && s[0] != '\0' ? s : NULL,
		    a->n, e);
	case DB_A_BLOB:
		if (a->n > INT32_MAX) {
			err_set(e, ERR_INVALID_REQUEST, "value too long");
			return -1;
		}
		if (sqlite3_bind_blob(st, i, a->p, (int)a->n, SQLITE_STATIC) !=
		    SQLITE_OK)
			return sq_fail(c, "bind", e);
		return 0;
	case DB_A_TEXT:
	default:
		return bind_text(c, st, i, s, a->n, e);
	}
}

static int
sq_bind(struct db_conn *c, struct db_st *st, const struct db_arg *args,
    size_t n, struct err *e)
{
	for (size_t i = 0; i < n; i++)
		if (bind_one(c, SQ(st), (int)i + 1, &args[i], e) == -1)
			return -1;
	return 0;
}

static int64_t
sq_changes(struct db_conn *c)
{
	return sqlite3_changes64(c->h);
}

static bool
sq_in_tx(struct db_conn *c)
{
	return !sqlite3_get_autocommit(c->h);
}

static int64_t
sq_col_int(struct db_st *st, int i)
{
	return sqlite3_column_int64(SQ(st), i);
}

static bool
sq_col_null(struct db_st *st, int i)
{
	return sqlite3_column_type(SQ(st), i) == SQLITE_NULL;
}

static const char *
sq_col_str(struct db_st *st, int i, size_t *len)
{
	const char *t = (const char *)sqlite3_column_text(SQ(st), i);

	*len = (size_t)sqlite3_column_bytes(SQ(st), i);
	return t;
}

static const void *
sq_col_blob(struct db_st *st, int i, size_t *len)
{
	const void *p = sqlite3_column_blob(SQ(st), i);

	*len = (size_t)sqlite3_column_bytes(SQ(st), i);
	return p;
}

static const char *
sq_col_name(struct db_st *st, int i)
{
	return sqlite3_column_name(SQ(st), i);
}

/* Run a migration script, statement by statement. */
static int
sq_script(struct db_conn *c, const char *script, struct err *e)
{
	sqlite3_stmt *st = NULL;
	const char *p = script;
	int rc = -1, s;

	while (*p != '\0') {
		if (sqlite3_prepare_v2(c->h, p, -1, &st, &p) != SQLITE_OK) {
			sq_fail(c, "migration", e);
			goto out;
		}
		if (st == NULL)	/* only white space was left */
			break;
		while ((s = sq_step(c, ST(st), "migration", e)) == DB_ROW)
			continue;
		if (s == -1)
			goto out;
		if (sqlite3_finalize(st) != SQLITE_OK) {
			st = NULL;
			sq_fail(c, "migration", e);
			goto out;
		}
		st = NULL;
	}
	rc = 0;
out:
	if (st != NULL)
		(void)sqlite3_finalize(st);
	return rc;
}

static void
sq_close(struct db_conn *c)
{
	int rc;

	for (int i = 0; i < DB_STMT__MAX; i++) {
		if (c->st[i] != NULL)
			(void)sqlite3_finalize(SQ(c->st[i]));
		c->st[i] = NULL;
	}
	if (c->h != NULL && (rc = sqlite3_close(c->h)) != SQLITE_OK)
		log_error("db: close: %s", sqlite3_errstr(rc));
	c->h = NULL;
}

/* Set a boolean sqlite3_db_config() option and check that it took. */
static int
conn_config(struct db_conn *c, int op, int want, const char *name,
    struct err *e)
{
	int got = -1;

	if (sqlite3_db_config(c->h, op, want, &got) != SQLITE_OK ||
	    got != want) {
		log_error("db: cannot set %s", name);
		err_set(e, ERR_DB, "database error");
		return -1;
	}
	return 0;
}

/* Run statement id (no values) to its end; the first row's text. */
static int
sq_run(struct db_conn *c, enum db_stmt id, char *first, size_t cap,
    struct err *e)
{
	struct db_st *st;
	const char *t;
	size_t n;
	int rc;

	if ((st = sq_stmt(c, id, db_sql_text(DB_DIALECT_SQLITE, id),
	    e)) == NULL)
		return -1;
	if (first != NULL)
		first[0] = '\0';
	while ((rc = sq_step(c, st, "set-up", e)) == DB_ROW) {
		if (first == NULL || first[0] != '\0')
			continue;
		if ((t = sq_col_str(st, 0, &n)) != NULL && n < cap)
			memcpy(first, t, n + 1);
	}
	if (rc == -1) {
		sq_done(c, st);
		return -1;
	}
	return sq_end(c, st, "set-up", e);
}

static int
sq_open(struct db_conn *c, struct err *e)
{
	sqlite3 *h = NULL;
	char mode[16];
	int rc;

	rc = sqlite3_open_v2(c->db->path, &h, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, NULL);
	c->h = h;
	if (rc != SQLITE_OK) {
		log_error("db: open %s: %s", c->db->path, h != NULL ?
		    sqlite3_errmsg(h) : sqlite3_errstr(rc));
		err_set(e, ERR_DB, "cannot open the database");
		return -1;
	}
	if (sqlite3_extended_result_codes(h, 1) != SQLITE_OK)
		return sq_fail(c, "extended result codes", e);
	if (conn_config(c, SQLITE_DBCONFIG_DEFENSIVE, 1, "defensive", e) ||
	    conn_config(c, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0,
	    "trusted_schema", e) ||
	    conn_config(c, SQLITE_DBCONFIG_DQS_DML, 0, "dqs_dml", e) ||
	    conn_config(c, SQLITE_DBCONFIG_DQS_DDL, 0, "dqs_ddl", e) ||
	    conn_config(c, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0,
	    "load_extension", e))
		return -1;
	if (sqlite3_busy_timeout(h, DB_BUSY_TIMEOUT_MS) != SQLITE_OK)
		return sq_fail(c, "busy_timeout", e);
	if (sq_run(c, DB_STMT_JOURNAL_WAL, mode, sizeof(mode), e) == -1)
		return -1;
	if (strcmp(mode, "wal") != 0) {
		log_error("db: journal_mode is %s, not wal",
		    mode[0] != '\0' ? mode : "unknown");
		err_set(e, ERR_DB, "database error");
		return -1;
	}
	if (sq_run(c, DB_STMT_SYNC_FULL, NULL, 0, e) == -1 ||
	    sq_run(c, DB_STMT_FOREIGN_KEYS, NULL, 0, e) == -1)
		return -1;
	return 0;
}

/* Create the file with mode 0600 before SQLite sees it. */
static int
sq_setup(struct db *db, struct err *e)
{
	const char *path = db->path;
	struct stat sb;
	int fd, rc = -1;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		log_error("db: open %s: %s", path, strerror(errno));
		err_set(e, ERR_IO, "cannot open database %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1) {
		err_set(e, ERR_IO, "cannot stat database %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		err_set(e, ERR_IO, "database %s is not a regular file", path);
		goto out;
	}
	if ((sb.st_mode & 077) != 0)
		log_warn("db: %s is accessible by group or others (mode %o)",
		    path, (unsigned)(sb.st_mode & 07777));
	rc = 0;
out:
	close(fd);
	return rc;
}

const struct db_drv db_drv_sqlite = {
	.name = "sqlite",
	.dialect = DB_DIALECT_SQLITE,
	.wmu = true,
	.setup = sq_setup,
	.open = sq_open,
	.close = sq_close,
	.stmt = sq_stmt,
	.bind = sq_bind,
	.step = sq_step,
	.end = sq_end,
	.done = sq_done,
	.changes = sq_changes,
	.in_tx = sq_in_tx,
	.script = sq_script,
	.fail = sq_fail,
	.col_int = sq_col_int,
	.col_null = sq_col_null,
	.col_str = sq_col_str,
	.col_blob = sq_col_blob,
	.col_name = sq_col_name,
	.state = NULL,		/* db_state() asks db_ping() */
};
