/*
 * The database handle: opening (file mode, pragmas, defensive mode),
 * migrations, one SQLite connection per thread, the statement cache
 * (prepare, step, end) and write transactions.  Values in and out and
 * the query loop are in db/row.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rca_limits.h"
#include "log.h"
#include "priv.h"

static void
conn_free(struct db_conn *c)
{
	int rc;

	if (c == NULL)
		return;
	for (int i = 0; i < DB_STMT__MAX; i++)
		if (c->st[i] != NULL)
			(void)sqlite3_finalize(c->st[i]);
	if (c->h != NULL && (rc = sqlite3_close(c->h)) != SQLITE_OK)
		log_error("db: close: %s", sqlite3_errstr(rc));
	free(c);
}

/* Thread exit: close the thread's connection and forget it. */
static void
conn_thread_exit(void *p)
{
	struct db_conn *c = p;
	struct db *db = c->db;

	pthread_mutex_lock(&db->mu);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		db->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&db->mu);
	conn_free(c);
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

/*
 * Open and configure a connection: WAL, synchronous=FULL, foreign keys,
 * busy timeout for other processes, defensive mode, no double-quoted
 * strings, untrusted schema.
 */
static struct db_conn *
conn_open(struct db *db, struct err *e)
{
	struct db_conn *c = NULL, *ret = NULL;
	sqlite3_stmt *st = NULL;
	const unsigned char *mode;
	int rc;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	c->db = db;
	rc = sqlite3_open_v2(db->path, &c->h, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, NULL);
	if (rc != SQLITE_OK) {
		log_error("db: open %s: %s", db->path, c->h != NULL ?
		    sqlite3_errmsg(c->h) : sqlite3_errstr(rc));
		err_set(e, ERR_DB, "cannot open the database");
		goto out;
	}
	if (sqlite3_extended_result_codes(c->h, 1) != SQLITE_OK) {
		db_fail(c, "extended result codes", e);
		goto out;
	}
	if (conn_config(c, SQLITE_DBCONFIG_DEFENSIVE, 1, "defensive", e) ||
	    conn_config(c, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0,
	    "trusted_schema", e) ||
	    conn_config(c, SQLITE_DBCONFIG_DQS_DML, 0, "dqs_dml", e) ||
	    conn_config(c, SQLITE_DBCONFIG_DQS_DDL, 0, "dqs_ddl", e) ||
	    conn_config(c, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0,
	    "load_extension", e))
		goto out;
	if (sqlite3_busy_timeout(c->h, DB_BUSY_TIMEOUT_MS) != SQLITE_OK) {
		db_fail(c, "busy_timeout", e);
		goto out;
	}

	if ((st = db_stmt(c, DB_STMT_JOURNAL_WAL, e)) == NULL)
		goto out;
	if ((rc = db_step(c, st, "journal_mode", e)) == -1)
		goto out;
	mode = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
	if (mode == NULL || strcmp((const char *)mode, "wal") != 0) {
		log_error("db: journal_mode is %s, not wal",
		    mode != NULL ? (const char *)mode : "unknown");
		err_set(e, ERR_DB, "database error");
		goto out;
	}
	rc = db_stmt_end(c, st, "journal_mode", e);
	st = NULL;
	if (rc == -1 || db_exec(c, DB_STMT_SYNC_FULL, e) == -1 ||
	    db_exec(c, DB_STMT_FOREIGN_KEYS, e) == -1)
		goto out;

	ret = c;
	c = NULL;
out:
	db_stmt_done(st);
	conn_free(c);
	return ret;
}

struct db_conn *
db_conn_new(struct db *db, struct err *e)
{
	struct db_conn *c;

	if ((c = conn_open(db, e)) == NULL)
		return NULL;
	pthread_mutex_lock(&db->mu);
	c->next = db->conns;
	if (db->conns != NULL)
		db->conns->prev = c;
	db->conns = c;
	pthread_mutex_unlock(&db->mu);
	return c;
}

struct db_conn *
db_conn_get(struct db *db, struct err *e)
{
	struct db_conn *c;
	int rc;

	if ((c = pthread_getspecific(db->key)) != NULL)
		return c;
	if ((c = db_conn_new(db, e)) == NULL)
		return NULL;
	if ((rc = pthread_setspecific(db->key, c)) != 0) {
		log_error("db: pthread_setspecific: %s", strerror(rc));
		err_set(e, ERR_INTERNAL, "internal error");
		conn_thread_exit(c);
		return NULL;
	}
	return c;
}

sqlite3_stmt *
db_stmt(struct db_conn *c, enum db_stmt id, struct err *e)
{
	const char *text = db_sql_text(id);

	if (text == NULL) {
		log_error("db: no statement %d", (int)id);
		err_set(e, ERR_INTERNAL, "internal error");
		return NULL;
	}
	if (c->st[id] == NULL && sqlite3_prepare_v3(c->h, text, -1,
	    SQLITE_PREPARE_PERSISTENT, &c->st[id], NULL) != SQLITE_OK) {
		log_error("db: prepare statement %d", (int)id);
		db_fail(c, "prepare", e);
		c->st[id] = NULL;
		return NULL;
	}
	return c->st[id];
}

void
db_stmt_done(sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	/*
	 * After a failed step the reset repeats the error the caller has
	 * already handled: this form is for failure paths.
	 */
	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
}

/*
 * Map a failing SQLite result code to e: ERR_ALREADY_EXISTS for a
 * UNIQUE/PRIMARY KEY violation, ERR_NOT_FOUND for a FOREIGN KEY
 * violation, ERR_DB (logged) otherwise.  Returns -1.
 */
static int
db_rc_fail(struct db_conn *c, int rc, const char *what, struct err *e)
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
		return db_fail(c, what, e);
	}
}

int
db_stmt_end(struct db_conn *c, sqlite3_stmt *st, const char *what,
    struct err *e)
{
	int rc = sqlite3_reset(st);

	(void)sqlite3_clear_bindings(st);
	return rc == SQLITE_OK ? 0 : db_rc_fail(c, rc, what, e);
}

int
db_fail(struct db_conn *c, const char *what, struct err *e)
{
	log_error("db: %s: %s (%d)", what, sqlite3_errmsg(c->h),
	    sqlite3_extended_errcode(c->h));
	err_set(e, ERR_DB, "database error");
	return -1;
}

int
db_step(struct db_conn *c, sqlite3_stmt *st, const char *what,
    struct err *e)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return rc;
	return db_rc_fail(c, rc, what, e);
}

int
db_exec(struct db_conn *c, enum db_stmt id, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = db_stmt(c, id, e)) == NULL)
		return -1;
	while ((rc = db_step(c, st, db_sql_text(id), e)) == SQLITE_ROW)
		continue;
	if (rc == -1) {
		db_stmt_done(st);
		return -1;
	}
	return db_stmt_end(c, st, db_sql_text(id), e);
}

int
db_tx_begin(struct db_conn *c, struct err *e)
{
	pthread_mutex_lock(&c->db->wmu);
	if (db_exec(c, DB_STMT_BEGIN_WRITE, e) == -1) {
		pthread_mutex_unlock(&c->db->wmu);
		return -1;
	}
	return 0;
}

int
db_tx_commit(struct db_conn *c, struct err *e)
{
	int rc = db_exec(c, DB_STMT_COMMIT, e);

	if (rc == -1 && !sqlite3_get_autocommit(c->h))
		(void)db_exec(c, DB_STMT_ROLLBACK, NULL);
	pthread_mutex_unlock(&c->db->wmu);
	return rc;
}

void
db_tx_rollback(struct db_conn *c)
{
	if (!sqlite3_get_autocommit(c->h))
		(void)db_exec(c, DB_STMT_ROLLBACK, NULL);
	pthread_mutex_unlock(&c->db->wmu);
}

int
db_read_begin(struct db_conn *c, struct err *e)
{
	return db_exec(c, DB_STMT_BEGIN_READ, e);
}

void
db_read_end(struct db_conn *c)
{
	if (!sqlite3_get_autocommit(c->h))
		(void)db_exec(c, DB_STMT_COMMIT, NULL);
}

static int
read_user_version(struct db_conn *c, int *out, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = db_stmt(c, DB_STMT_USER_VERSION, e)) == NULL)
		return -1;
	if ((rc = db_step(c, st, "user_version", e)) == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		return db_stmt_end(c, st, "user_version", e);
	}
	if (rc == SQLITE_DONE)
		db_fail(c, "user_version", e);
	db_stmt_done(st);
	return -1;
}

/* Run a migration script, statement by statement. */
static int
exec_script(struct db_conn *c, const char *script, struct err *e)
{
	sqlite3_stmt *st = NULL;
	const char *p = script;
	int rc = -1, s;

	while (*p != '\0') {
		if (sqlite3_prepare_v2(c->h, p, -1, &st, &p) != SQLITE_OK) {
			db_fail(c, "migration", e);
			goto out;
		}
		if (st == NULL)	/* only white space was left */
			break;
		while ((s = db_step(c, st, "migration", e)) == SQLITE_ROW)
			continue;
		if (s == -1)
			goto out;
		if (sqlite3_finalize(st) != SQLITE_OK) {
			st = NULL;
			db_fail(c, "migration", e);
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

/*
 * Bring the schema to the latest version in one write transaction, so
 * two processes opening a new file at once cannot both migrate it.
 */
static int
migrate(struct db *db, struct db_conn *c, struct err *e)
{
	size_t latest = db_sql_nmigrations();
	int v = 0, rc = -1;

	if (db_tx_begin(c, e) == -1)
		return -1;
	if (read_user_version(c, &v, e) == -1)
		goto out;
	if (v < 0 || (size_t)v > latest) {
		log_error("db: schema version %d, this program knows %zu", v,
		    latest);
		err_set(e, ERR_DB,
		    "database schema is newer than this program");
		goto out;
	}
	for (size_t i = (size_t)v; i < latest; i++) {
		log_info("db: migrating schema to version %zu", i + 1);
		if (exec_script(c, db_sql_migration(i), e) == -1)
			goto out;
	}
	if (read_user_version(c, &v, e) == -1)
		goto out;
	if ((size_t)v != latest) {
		log_error("db: migration left version %d, want %zu", v,
		    latest);
		err_set(e, ERR_DB, "database error");
		goto out;
	}
	if (db_tx_commit(c, e) == -1)
		return -1;
	db->version = v;
	rc = 0;
out:
	if (rc == -1)
		db_tx_rollback(c);
	return rc;
}

/* Create the file with mode 0600 before SQLite sees it. */
static int
create_file(const char *path, struct err *e)
{
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

struct db *
db_open(const char *path, struct err *e)
{
	struct db *db = NULL, *ret = NULL;
	struct db_conn *c;
	int rc;

	if (path == NULL || path[0] == '\0' ||
	    strnlen(path, RCA_MAX_PATH) == RCA_MAX_PATH) {
		err_set(e, ERR_IO, "invalid database path");
		return NULL;
	}
	if (create_file(path, e) == -1)
		return NULL;
	if ((db = calloc(1, sizeof(*db))) == NULL ||
	    (db->path = strdup(path)) == NULL) {
		if (db != NULL)
			free(db->path);
		free(db);
		err_set(e, ERR_INTERNAL, "out of memory");
		return NULL;
	}
	db->gc_tail = &db->gc_head;
	if ((rc = pthread_key_create(&db->key, conn_thread_exit)) != 0) {
		log_error("db: pthread_key_create: %s", strerror(rc));
		err_set(e, ERR_INTERNAL, "internal error");
		free(db->path);
		free(db);
		return NULL;
	}
	/* Default mutexes cannot fail to initialise on Linux. */
	pthread_mutex_init(&db->mu, NULL);
	pthread_mutex_init(&db->wmu, NULL);
	pthread_mutex_init(&db->gc_mu, NULL);
	pthread_mutex_init(&db->valid_mu, NULL);

	if ((c = db_conn_get(db, e)) == NULL)
		goto out;
	if (migrate(db, c, e) == -1)
		goto out;
	ret = db;
	db = NULL;
out:
	db_close(db);
	return ret;
}

void
db_close(struct db *db)
{
	struct db_conn *c, *next;

	if (db == NULL)
		return;
	/* After this no thread exit calls conn_thread_exit() for db. */
	pthread_key_delete(db->key);
	pthread_mutex_lock(&db->mu);
	for (c = db->conns; c != NULL; c = next) {
		next = c->next;
		conn_free(c);
	}
	db->conns = NULL;
	pthread_mutex_unlock(&db->mu);
	pthread_mutex_destroy(&db->valid_mu);
	pthread_mutex_destroy(&db->gc_mu);
	pthread_mutex_destroy(&db->wmu);
	pthread_mutex_destroy(&db->mu);
	free(db->path);
	free(db);
}

int
db_schema_version(struct db *db)
{
	return db->version;
}

int
db_ping(struct db *db, struct err *e)
{
	struct db_conn *c;

	if ((c = db_conn_get(db, e)) == NULL)
		return -1;
	if (db_tx_begin(c, e) == -1)
		return -1;
	db_tx_rollback(c);
	return 0;
}
