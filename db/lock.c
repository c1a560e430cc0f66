/*
 * Locks between instances sharing one PostgreSQL database: the
 * scheduler's leadership and the per-node rotation locks, both session
 * advisory locks held on one connection of struct db that no thread
 * owns (db->lock_conn), so a worker thread's connection coming and
 * going never drops them.  SQLite has one process per data folder
 * (serve.lock): every lock is granted at once.
 */
#include <pthread.h>
#include <string.h>

#include "rca_limits.h"
#include "log.h"
#include "drv.h"

/*
 * Serialises the lock statements of every struct db of the process on
 * their lock connections (one database per process outside tests, and
 * each statement is one short round trip).  A file-scope mutex keeps
 * db_open() and db_close() as they are.
 */
static pthread_mutex_t lock_mu = PTHREAD_MUTEX_INITIALIZER;

/*
 * Run lock statement id (with name as $1 when not NULL) on the lock
 * connection, made first when there is none: 1 or 0 as the statement
 * answers, or -1.  lock_mu held.
 */
static int
lock_stmt(struct db *db, enum db_stmt id, const char *name, struct err *e)
{
	struct db_arg	args[1];
	int64_t		v = 0;
	int		rc;

	if (db->lock_conn == NULL &&
	    (db->lock_conn = db_conn_new(db, e)) == NULL)
		return -1;
	args[0] = DB_TEXT(name, RCA_MAX_NODE_NAME + 1);
	rc = db_get(db->lock_conn, id, args, name != NULL ? 1 : 0, db_int_read,
	    &v, "advisory lock", e);
	if (rc == 0) {
		log_error("db: advisory lock: no row");
		err_set(e, ERR_DB, "database error");
		return -1;
	}
	return rc == -1 ? -1 : v != 0;
}

/*
 * lock_stmt(), once more when the lock connection was lost: the driver
 * makes it again (walking a multi-host URI's hosts) before the second
 * run.  Whatever the lost session held is gone with it.
 */
static int
lock_try(struct db *db, enum db_stmt id, const char *name, struct err *e)
{
	int rc;

	if ((rc = lock_stmt(db, id, name, e)) != -1 ||
	    e->code != ERR_UNAVAILABLE)
		return rc;
	log_warn("db: the lock connection was lost: trying again");
	err_clear(e);
	return lock_stmt(db, id, name, e);
}

int
db_leader_try(struct db *db, struct err *e)
{
	struct err	le;
	int		rc;

	ERR_LOCAL(e, le);
	if (db->dialect != DB_DIALECT_PG)
		return 1;
	pthread_mutex_lock(&lock_mu);
	rc = lock_try(db, DB_STMT_PG_LEADER_TRY, NULL, e);
	pthread_mutex_unlock(&lock_mu);
	return rc;
}

void
db_leader_release(struct db *db)
{
	struct err e;

	err_clear(&e);
	if (db->dialect != DB_DIALECT_PG)
		return;
	pthread_mutex_lock(&lock_mu);
	/* Not there or lost: the session's end freed the lock already. */
	if (db->lock_conn != NULL &&
	    lock_stmt(db, DB_STMT_PG_LEADER_RELEASE, NULL, &e) == -1)
		log_warn("db: releasing the scheduler's lock: %s", e.msg);
	pthread_mutex_unlock(&lock_mu);
}

int
db_node_lock_try(struct db *db, const char *name, struct err *e)
{
	struct err	le;
	int		rc;

	ERR_LOCAL(e, le);
	if (db->dialect != DB_DIALECT_PG)
		return 1;
	if (name == NULL || strnlen(name, RCA_MAX_NODE_NAME + 1) >
	    RCA_MAX_NODE_NAME) {
		err_set(e, ERR_INVALID_REQUEST, "invalid node name");
		return -1;
	}
	pthread_mutex_lock(&lock_mu);
	rc = lock_try(db, DB_STMT_PG_NODE_LOCK_TRY, name, e);
	pthread_mutex_unlock(&lock_mu);
	return rc;
}

void
db_node_lock_release(struct db *db, const char *name)
{
	struct err e;

	err_clear(&e);
	if (db->dialect != DB_DIALECT_PG || name == NULL)
		return;
	pthread_mutex_lock(&lock_mu);
	if (db->lock_conn != NULL && lock_stmt(db,
	    DB_STMT_PG_NODE_LOCK_RELEASE, name, &e) == -1)
		log_warn("db: releasing the lock of node %s: %s", name,
		    e.msg);
	pthread_mutex_unlock(&lock_mu);
}
