/*
 * The database handle over its driver (db/drv.h: SQLite or
 * PostgreSQL): opening, migrations, one connection per thread, the
 * statement cache (prepare, step, end) and write transactions.  Values
 * in and out and the query loop are in db/row.c.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rca_limits.h"
#include "log.h"
#include "drv.h"

static void
conn_free(struct db_conn *c)
{
	if (c == NULL)
		return;
	c->db->drv->close(c);
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

/* Open a connection with the database's driver. */
static struct db_conn *
conn_open(struct db *db, struct err *e)
{
	struct db_conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return NULL;
	}
	c->db = db;
	if (db->drv->open(c, e) == -1) {
		conn_free(c);
		return NULL;
	}
	return c;
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

struct db_st *
db_stmt(struct db_conn *c, enum db_stmt id, struct err *e)
{
	const char *text = db_sql_text(c->db->dialect, id);

	if (text == NULL) {
		log_error("db: no statement %d", (int)id);
		err_set(e, ERR_INTERNAL, "internal error");
		return NULL;
	}
	return c->db->drv->stmt(c, id, text, e);
}

void
db_stmt_done(struct db_conn *c, struct db_st *st)
{
	if (st != NULL)
		c->db->drv->done(c, st);
}

int
db_stmt_end(struct db_conn *c, struct db_st *st, const char *what,
    struct err *e)
{
	return c->db->drv->end(c, st, what, e);
}

int
db_fail(struct db_conn *c, const char *what, struct err *e)
{
	return c->db->drv->fail(c, what, e);
}

int
db_step(struct db_conn *c, struct db_st *st, const char *what,
    struct err *e)
{
	return c->db->drv->step(c, st, what, e);
}

void
db_backoff(int tries)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec = (long)(1 + ts.tv_nsec % 20) * (tries + 1) * 1000000L;
	ts.tv_sec = 0;
	nanosleep(&ts, NULL);
}

int
db_exec(struct db_conn *c, enum db_stmt id, struct err *e)
{
	const char *what = db_sql_text(c->db->dialect, id);
	struct db_st *st;
	int rc;

	if ((st = db_stmt(c, id, e)) == NULL)
		return -1;
	while ((rc = db_step(c, st, what, e)) == DB_ROW)
		continue;
	if (rc == -1) {
		db_stmt_done(c, st);
		return -1;
	}
	return db_stmt_end(c, st, what, e);
}

int
db_tx_begin(struct db_conn *c, struct err *e)
{
	const bool wmu = c->db->drv->wmu;

	if (wmu)
		pthread_mutex_lock(&c->db->wmu);
	if (db_exec(c, DB_STMT_BEGIN_WRITE, e) == -1) {
		if (wmu)
			pthread_mutex_unlock(&c->db->wmu);
		return -1;
	}
	return 0;
}

int
db_tx_commit(struct db_conn *c, struct err *e)
{
	int rc = db_exec(c, DB_STMT_COMMIT, e);

	if (rc == -1 && c->db->drv->in_tx(c))
		(void)db_exec(c, DB_STMT_ROLLBACK, NULL);
	if (c->db->drv->wmu)
		pthread_mutex_unlock(&c->db->wmu);
	return rc;
}

void
db_tx_rollback(struct db_conn *c)
{
	if (c->db->drv->in_tx(c))
		(void)db_exec(c, DB_STMT_ROLLBACK, NULL);
	if (c->db->drv->wmu)
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
	if (c->db->drv->in_tx(c))
		(void)db_exec(c, DB_STMT_COMMIT, NULL);
}

/*
 * The one BIGINT row of statement id (the schema version, or whether
 * the server is read-only), in 0..INT32_MAX.
 */
static int
read_int(struct db_conn *c, enum db_stmt id, const char *what, int *out,
    struct err *e)
{
	struct db_st *st;
	int64_t v;
	int rc;

	if ((st = db_stmt(c, id, e)) == NULL)
		return -1;
	if ((rc = db_step(c, st, what, e)) == DB_ROW) {
		v = c->db->drv->col_int(st, 0);
		if (v < 0 || v > INT32_MAX) {
			log_error("db: %s is %lld", what, (long long)v);
			err_set(e, ERR_DB, "database error");
			db_stmt_done(c, st);
			return -1;
		}
		*out = (int)v;
		return db_stmt_end(c, st, what, e);
	}
	if (rc == DB_DONE)
		db_fail(c, what, e);
	db_stmt_done(c, st);
	return -1;
}

static int
read_user_version(struct db_conn *c, int *out, struct err *e)
{
	return read_int(c, DB_STMT_USER_VERSION, "user_version", out, e);
}

/* Is the server read-only (PostgreSQL hot standby)?  1, 0 or -1. */
static int
server_read_only(struct db_conn *c, struct err *e)
{
	int ro = 0;

	if (c->db->dialect != DB_DIALECT_PG)
		return 0;
	if (read_int(c, DB_STMT_PG_READ_ONLY, "read-only check", &ro,
	    e) == -1)
		return -1;
	return ro != 0;
}

/*
 * A read-only database (a standby) is opened only when its schema is
 * the latest: it cannot be migrated there.
 */
static int
check_read_only(struct db *db, struct db_conn *c, struct err *e)
{
	size_t latest = db_sql_nmigrations(db->dialect);
	int v = 0;

	if (read_user_version(c, &v, e) == -1)
		return -1;
	if ((size_t)v != latest) {
		log_error("db: read-only database at schema version %d, "
		    "this program needs %zu", v, latest);
		err_set(e, ERR_READ_ONLY, "the database is read-only and its "
		    "schema is not current: migrate on the primary");
		return -1;
	}
	db->version = v;
	return 0;
}

/*
 * Bring the schema to the latest version in one write transaction, so
 * two processes opening a new file at once cannot both migrate it (on
 * PostgreSQL the transaction first takes an advisory lock).
 */
static int
migrate(struct db *db, struct db_conn *c, struct err *e)
{
	size_t latest = db_sql_nmigrations(db->dialect);
	int v = 0, rc = -1;

	if ((rc = server_read_only(c, e)) != 0)
		return rc == 1 ? check_read_only(db, c, e) : -1;
	rc = -1;
	if (db_tx_begin(c, e) == -1)
		return -1;
	if (db->dialect == DB_DIALECT_PG &&
	    db_exec(c, DB_STMT_PG_MIGRATE_LOCK, e) == -1)
		goto out;
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
		if (db->drv->script(c, db_sql_migration(db->dialect, i),
		    e) == -1)
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

bool
db_path_is_pg(const char *path)
{
	return strncmp(path, "postgresql://", 13) == 0 ||
	    strncmp(path, "postgres://", 11) == 0;
}

struct db *
db_open(const char *path, struct err *e)
{
	struct db *db = NULL, *ret = NULL;
	struct db_conn *c;
	struct err le;
	int rc;

	ERR_LOCAL(e, le);
	if (path == NULL || path[0] == '\0' ||
	    strnlen(path, RCA_MAX_PATH) == RCA_MAX_PATH) {
		err_set(e, ERR_IO, "invalid database path");
		return NULL;
	}
	if ((db = calloc(1, sizeof(*db))) == NULL ||
	    (db->path = strdup(path)) == NULL) {
		if (db != NULL)
			free(db->path);
		free(db);
		err_set(e, ERR_INTERNAL, "out of memory");
		return NULL;
	}
	db->drv = db_path_is_pg(path) ? &db_drv_pg : &db_drv_sqlite;
	db->dialect = db->drv->dialect;
	db->gc_tail = &db->gc_head;
	if (db->drv->setup(db, e) == -1) {
		free(db->path);
		free(db);
		return NULL;
	}
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
	struct err le;
	struct db_conn *c;
	int st;

	ERR_LOCAL(e, le);
	if ((c = db_conn_get(db, e)) == NULL)
		return -1;
	if (db->drv->state != NULL) {
		if ((st = db->drv->state(c, e)) == DB_STATE_OK)
			return 0;
		if (st == DB_STATE_READ_ONLY)
			err_set(e, ERR_READ_ONLY, "the database is read-only");
		return -1;
	}
	if (db_tx_begin(c, e) == -1)
		return -1;
	db_tx_rollback(c);
	return 0;
}

int
db_state(struct db *db)
{
	struct err e = { 0 };

	if (db_ping(db, &e) == 0)
		return DB_STATE_OK;
	return e.code == ERR_READ_ONLY ? DB_STATE_READ_ONLY :
	    DB_STATE_UNAVAILABLE;
}
