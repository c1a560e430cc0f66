/*
 * Internal to db/: the database handle, per-thread connections and the
 * small helpers every query uses (statement cache, binding, reading,
 * transactions, error mapping).  Tests in tests/db include it to look
 * at connection settings and the group-commit queue.
 */
#ifndef RCA_DB_PRIV_H
#define RCA_DB_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "db.h"
#include "sql.h"

#define DB_BUSY_TIMEOUT_MS	5000	/* wait for another process's lock */
#define DB_CRL_KEEP		16	/* CRLs kept (the latest ones) */

/* One SQLite connection, used only by the thread that opened it. */
struct db_conn {
	sqlite3		*h;			/* owned */
	sqlite3_stmt	*st[DB_STMT__MAX];	/* owned; prepared lazily */
	struct db	*db;			/* borrowed: its database */
	struct db_conn	*prev, *next;		/* in db->conns */
};

/* A waiting db_cert_insert() (lives on its caller's stack). */
struct db_gc_item {
	const struct cert_rec	*cert;	/* borrowed */
	const struct audit_rec	*audit;	/* borrowed; may be NULL */
	const char		*token;	/* borrowed; NULL: spend no use */
	struct db_gc_item	*next;
	pthread_cond_t		 cv;	/* signalled when done or to lead */
	bool			 row_ok;	/* inserted; waits for COMMIT */
	bool			 done;	/* result below is final */
	struct err		 err;	/* the row's result */
};

struct db {
	char		*path;		/* owned */
	int		 version;	/* schema version after migration */
	pthread_key_t	 key;		/* this thread's struct db_conn */
	pthread_mutex_t	 mu;		/* guards conns */
	struct db_conn	*conns;		/* every open connection */
	/*
	 * Serialises this process's write transactions, so threads queue
	 * on a mutex instead of SQLite's sleeping busy handler (which is
	 * left for other processes).
	 */
	pthread_mutex_t	 wmu;

	/* Group commit of certificate inserts (db/cert.c). */
	pthread_mutex_t	 gc_mu;		/* guards the fields below */
	struct db_gc_item *gc_head;	/* rows waiting for a leader */
	struct db_gc_item **gc_tail;
	struct db_conn	*gc_conn;	/* the leaders' connection (one at a
					   time), so its cache stays warm */
	size_t		 gc_pending;	/* rows in the queue */
	bool		 gc_leader;	/* a batch is running */
	uint64_t	 gc_batches;	/* statistics, for tests */
	size_t		 gc_max_batch;
};

/*
 * This thread's connection to db, opened on first use and closed when
 * the thread exits or by db_close().  Errors: ERR_DB, ERR_INTERNAL.
 */
struct db_conn *db_conn_get(struct db *db, struct err *e);

/*
 * A new connection to db, not bound to any thread (db_close() closes
 * it); used by one thread at a time.  Errors: ERR_DB, ERR_INTERNAL.
 */
struct db_conn *db_conn_new(struct db *db, struct err *e);

/*
 * The prepared statement id on c, ready to bind (borrowed; give it back
 * with db_stmt_done()).  Errors: ERR_DB.
 */
sqlite3_stmt *db_stmt(struct db_conn *c, enum db_stmt id, struct err *e);

/* Reset st and clear its bindings.  NULL ok. */
void	db_stmt_done(sqlite3_stmt *st);

/*
 * Log SQLite's error on c for the operation `what` and set e to ERR_DB
 * "database error" (SQLite's text stays in the log).  Returns -1.
 */
int	db_fail(struct db_conn *c, const char *what, struct err *e);

/*
 * Step st once.  Returns SQLITE_ROW or SQLITE_DONE, or -1 with e set:
 * ERR_ALREADY_EXISTS for a UNIQUE/PRIMARY KEY violation, ERR_NOT_FOUND
 * for a FOREIGN KEY violation, ERR_DB (logged) otherwise.
 */
int	db_step(struct db_conn *c, sqlite3_stmt *st, const char *what,
	    struct err *e);

/* Run a statement that takes no value and returns no row. */
int	db_exec(struct db_conn *c, enum db_stmt id, struct err *e);

/*
 * Write transactions: db_tx_begin() takes db->wmu and runs BEGIN
 * IMMEDIATE; db_tx_commit() commits (durably) and releases; on failure
 * it rolls back.  db_tx_rollback() rolls back if a transaction is open
 * and releases.  Every db_tx_begin() that returned 0 is followed by
 * exactly one db_tx_commit() or db_tx_rollback().
 */
int	db_tx_begin(struct db_conn *c, struct err *e);
int	db_tx_commit(struct db_conn *c, struct err *e);
void	db_tx_rollback(struct db_conn *c);

/* Read snapshots: BEGIN (deferred) ... db_read_end(). */
int	db_read_begin(struct db_conn *c, struct err *e);
void	db_read_end(struct db_conn *c);

/*
 * Binding.  Text is checked to be NUL-terminated within cap bytes
 * (SIZE_MAX: unbounded) and bound without copying: keep it alive until
 * db_stmt_done().  NULL binds SQL NULL; db_bind_opt() also binds "" as
 * NULL.  Errors: ERR_INVALID_REQUEST (unterminated), ERR_DB.
 */
int	db_bind_text(struct db_conn *c, sqlite3_stmt *st, int i,
	    const char *s, size_t cap, struct err *e);
int	db_bind_opt(struct db_conn *c, sqlite3_stmt *st, int i,
	    const char *s, size_t cap, struct err *e);
int	db_bind_int(struct db_conn *c, sqlite3_stmt *st, int i, int64_t v,
	    struct err *e);
int	db_bind_null(struct db_conn *c, sqlite3_stmt *st, int i,
	    struct err *e);
int	db_bind_blob(struct db_conn *c, sqlite3_stmt *st, int i,
	    const void *p, size_t len, struct err *e);

/*
 * The _BUF forms take the bound from sizeof(buf), so buf must be an
 * array: DB_ASSERT_ARRAY makes a pointer a compile error (a pointer gave
 * sizeof 8 and a spurious "value too long" once).
 */
#define DB_ASSERT_ARRAY(a) \
	((void)sizeof(char[__builtin_types_compatible_p(__typeof__(a), \
	    __typeof__(&(a)[0])) ? -1 : 1]))
#define DB_BIND_BUF(c, st, i, buf, e) \
	(DB_ASSERT_ARRAY(buf), \
	    db_bind_text((c), (st), (i), (buf), sizeof(buf), (e)))

/*
 * Reading.  db_col_text() copies column i into buf (cap bytes; NULL
 * reads as ""); a value that does not fit is ERR_DB.  db_col_dup()
 * returns a new copy (free()), NULL for SQL NULL; *ok is false when out
 * of memory.
 */
int	db_col_text(sqlite3_stmt *st, int i, char *buf, size_t cap,
	    struct err *e);
char	*db_col_dup(sqlite3_stmt *st, int i, bool *ok);

#define DB_COL_BUF(st, i, buf, e) \
	(DB_ASSERT_ARRAY(buf), db_col_text((st), (i), (buf), sizeof(buf), (e)))

/* Clamp a list limit: 0 is RCA_DEFAULT_LIST_LIMIT, at most the maximum. */
size_t	db_limit(size_t limit);

/*
 * Spend one use of token id at now in c's open transaction (token.c).
 * Errors: ERR_UNAUTHORIZED (gone, expired, used up), ERR_DB.
 */
int	db_token_use_in(struct db_conn *c, const char *id, int64_t now,
	    struct err *e);

/* Append a to the audit log inside c's open transaction (a may be NULL). */
int	db_audit_insert(struct db_conn *c, const struct audit_rec *a,
	    struct err *e);

/* Read an audit row (the columns of DB_STMT_AUDIT_LIST) into out. */
int	db_audit_read(sqlite3_stmt *st, struct audit_rec *out,
	    struct err *e);

#endif
