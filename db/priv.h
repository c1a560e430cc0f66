/*
 * Internal to db/: the database handle, per-thread connections,
 * statements and transactions (db/db.c, over a driver of db/drv.h);
 * values in and out and the query loop every table uses (db/row.c);
 * write transactions with their audit row (db/write.c); and what one
 * table file lends another.  Nothing here names SQLite or libpq: the
 * drivers (db/drv_sqlite.c, db/drv_pg.c) own those.  Tests in tests/db
 * include it to look at connection settings and the group-commit
 * queue.
 */
#ifndef RCA_DB_PRIV_H
#define RCA_DB_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "sql.h"

#define DB_BUSY_TIMEOUT_MS	5000	/* wait for another process's lock */
#define DB_CRL_KEEP		1	/* CRLs kept: the newest DER only */
#define DB_TX_TRIES		3	/* runs of a conflicting write tx */

struct db_drv;

/*
 * A prepared statement of a driver: a sqlite3_stmt on SQLite, the
 * driver's own record on PostgreSQL (db/drv_pg.c).
 */
struct db_st;

/* What db_step() returns besides -1. */
#define DB_ROW		100	/* a row is ready (SQLITE_ROW's value) */
#define DB_DONE		101	/* no more rows (SQLITE_DONE's value) */

/* One connection, used only by one thread at a time. */
struct db_conn {
	void		*h;			/* owned: sqlite3 or PGconn */
	struct db_st	*st[DB_STMT__MAX];	/* owned; prepared lazily */
	void		*priv;			/* owned: driver's state */
	/*
	 * The last error was a deadlock or serialization failure
	 * (PostgreSQL 40P01, 40001): the transaction may run again.
	 */
	bool		 conflict;
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
	const struct db_drv *drv;	/* SQLite's or PostgreSQL's */
	enum db_dialect	 dialect;	/* drv's */
	char		*path;		/* owned: file path or libpq URI */
	int		 version;	/* schema version after migration */
	pthread_key_t	 key;		/* this thread's struct db_conn */
	pthread_mutex_t	 mu;		/* guards conns */
	struct db_conn	*conns;		/* every open connection */
	/*
	 * SQLite: serialises this process's write transactions, so
	 * threads queue on a mutex instead of SQLite's sleeping busy
	 * handler (which is left for other processes).  Not taken on
	 * PostgreSQL, whose row locks do the work.
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

	/*
	 * Where a list of valid certificates may start (db/cert_list.c):
	 * when valid_set, no unrevoked row with an id below valid_id was
	 * valid at valid_at, so none is at any later time.
	 */
	pthread_mutex_t	 valid_mu;	/* guards the fields below */
	bool		 valid_set;
	int64_t		 valid_at;
	int64_t		 valid_id;

	/*
	 * PostgreSQL: the connection holding this instance's session
	 * advisory locks (scheduler leadership, nodes being rotated),
	 * used by db/lock.c alone under its mutex; NULL until the first
	 * lock.  One of conns: db_close() closes it.
	 */
	struct db_conn	*lock_conn;
};

/*
 * This thread's connection to db, opened on first use and closed when
 * the thread exits or by db_close().  Errors: ERR_DB, ERR_UNAVAILABLE
 * (PostgreSQL unreachable), ERR_INTERNAL.
 */
struct db_conn *db_conn_get(struct db *db, struct err *e);

/*
 * A new connection to db, not bound to any thread (db_close() closes
 * it); used by one thread at a time.  Errors: ERR_DB, ERR_INTERNAL.
 */
struct db_conn *db_conn_new(struct db *db, struct err *e);

/*
 * The prepared statement id on c, ready to bind (borrowed; give it back
 * with db_stmt_end() once stepped through, or db_stmt_done() on a
 * failure path).  Tables use db_query() and friends (db/row.c), which
 * do this.  Errors: ERR_DB.
 */
struct db_st *db_stmt(struct db_conn *c, enum db_stmt id, struct err *e);

/*
 * Reset st and clear its bindings, ignoring the reset's result (which
 * repeats a failed step's error the caller already has).  NULL ok.
 */
void	db_stmt_done(struct db_conn *c, struct db_st *st);

/*
 * Log the driver's error on c for the operation `what` and set e to
 * ERR_DB "database error" (the library's text stays in the log).
 * Returns -1.
 */
int	db_fail(struct db_conn *c, const char *what, struct err *e);

/*
 * Step st once.  Returns DB_ROW or DB_DONE, or -1 with e set:
 * ERR_ALREADY_EXISTS for a UNIQUE/PRIMARY KEY violation, ERR_NOT_FOUND
 * for a FOREIGN KEY violation, ERR_READ_ONLY (a write on a read-only
 * database), ERR_UNAVAILABLE (connection lost), ERR_DB (logged)
 * otherwise.
 */
int	db_step(struct db_conn *c, struct db_st *st, const char *what,
	    struct err *e);

/*
 * Before try `tries` + 2 of a conflicting transaction: sleep a few
 * milliseconds, growing with tries and jittered, so that two
 * transactions that deadlocked do not meet again at once.
 */
void	db_backoff(int tries);

/* Run a statement that takes no value and returns no row. */
int	db_exec(struct db_conn *c, enum db_stmt id, struct err *e);

/*
 * Write transactions: db_tx_begin() takes db->wmu (SQLite only) and
 * runs BEGIN IMMEDIATE (BEGIN on PostgreSQL); db_tx_commit() commits
 * (durably) and releases; on failure it rolls back, and a COMMIT whose
 * outcome is unknown (connection lost) is ERR_UNAVAILABLE.
 * db_tx_rollback() rolls back if a transaction is open and releases.
 * Every db_tx_begin() that returned 0 is followed by exactly one
 * db_tx_commit() or db_tx_rollback().
 */
int	db_tx_begin(struct db_conn *c, struct err *e);
int	db_tx_commit(struct db_conn *c, struct err *e);
void	db_tx_rollback(struct db_conn *c);

/* Read snapshots: BEGIN (deferred) ... db_read_end(). */
int	db_read_begin(struct db_conn *c, struct err *e);
void	db_read_end(struct db_conn *c);

/*
 * Ending a statement.  db_stmt_end() resets st and clears its bindings
 * and reports what the reset reports: a statement with RETURNING (or
 * one stopped before SQLITE_DONE) may surface its error only there.
 * The error maps as db_step()'s does.  Returns 0 or -1 with e set.
 */
int	db_stmt_end(struct db_conn *c, struct db_st *st, const char *what,
	    struct err *e);

/* ---- values in and out (db/row.c) ---- */

/*
 * A bound parameter (?1 is args[0]).  Text is checked to be
 * NUL-terminated within n bytes (SIZE_MAX: unbounded) and bound without
 * copying: keep it alive until the statement is done.  NULL text binds
 * SQL NULL; DB_A_OPT also binds "" as NULL.  A blob is n bytes at p.
 */
enum db_arg_kind {
	DB_A_INT,
	DB_A_TEXT,
	DB_A_OPT,
	DB_A_BLOB,
};

struct db_arg {
	enum db_arg_kind	 kind;
	int64_t			 i;	/* DB_A_INT */
	const void		*p;	/* borrowed: text or blob */
	size_t			 n;	/* text: bound; blob: length */
};

#define DB_INT(v)	((struct db_arg){ DB_A_INT, (int64_t)(v), NULL, 0 })
#define DB_TEXT(s, cap)	((struct db_arg){ DB_A_TEXT, 0, (s), (cap) })
#define DB_OPT(s, cap)	((struct db_arg){ DB_A_OPT, 0, (s), (cap) })
#define DB_BLOB(p, len)	((struct db_arg){ DB_A_BLOB, 0, (p), (len) })
#define DB_NULL		DB_TEXT(NULL, 0)
#define DB_NARGS(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * The _BUF forms take the bound from sizeof(buf), so buf must be an
 * array: DB_ASSERT_ARRAY makes a pointer a compile error (a pointer gave
 * sizeof 8 and a spurious "value too long" once).
 */
#define DB_ASSERT_ARRAY(a) \
	((void)sizeof(char[__builtin_types_compatible_p(__typeof__(a), \
	    __typeof__(&(a)[0])) ? -1 : 1]))
#define DB_BUF(buf)	(DB_ASSERT_ARRAY(buf), DB_TEXT((buf), sizeof(buf)))
#define DB_OPTBUF(buf)	(DB_ASSERT_ARRAY(buf), DB_OPT((buf), sizeof(buf)))

/*
 * Bind args[0..n-1] to ?1..?n of st.  Errors: ERR_INVALID_REQUEST
 * (text unterminated within its bound, blob too long), ERR_DB.
 */
int	db_bind(struct db_conn *c, struct db_st *st, const struct db_arg *args,
	    size_t n, struct err *e);

/* A result row, valid during the callback that receives it. */
struct db_row {
	const struct db_drv	*drv;	/* borrowed: the statement's */
	struct db_st		*st;	/* borrowed */
};

/*
 * Reading a row's column i.  db_col_text() copies it into buf (cap
 * bytes; NULL reads as ""); a value that does not fit is ERR_DB.
 * db_col_dup() returns a new copy (free()), NULL for SQL NULL; *ok is
 * false when out of memory.  db_col_str() and db_col_blob() are
 * borrowed until the next row.
 */
int64_t	db_col_int(const struct db_row *r, int i);
bool	db_col_null(const struct db_row *r, int i);
const char *db_col_str(const struct db_row *r, int i);
const void *db_col_blob(const struct db_row *r, int i, size_t *len);
int	db_col_text(const struct db_row *r, int i, char *buf, size_t cap,
	    struct err *e);
char	*db_col_dup(const struct db_row *r, int i, bool *ok);

#define DB_COL_BUF(r, i, buf, e) \
	(DB_ASSERT_ARRAY(buf), db_col_text((r), (i), (buf), sizeof(buf), (e)))

/*
 * Row readers (db_read_fn) of column 0 that every table shares:
 * db_int_read() into an int64_t (a count, an id, a generation, a 0/1
 * answer); db_str_read() into a char * as a new string (free(), or
 * db_str_clear() on the element), SQL NULL or no memory being ERR_DB.
 */
int	db_int_read(const struct db_row *r, void *out, struct err *e);
int	db_str_read(const struct db_row *r, void *out, struct err *e);
void	db_str_clear(void *elem);

/*
 * A row callback: 0 for the next row, 1 to stop, -1 (e set) to fail.
 * A reader (db_read_fn) fills out from one row: 0 or -1, and leaves
 * nothing to free on failure.
 */
typedef int db_row_fn(const struct db_row *r, void *arg, struct err *e);
typedef int db_read_fn(const struct db_row *r, void *out, struct err *e);

/*
 * Run statement id with args bound, handing each row to fn(row, arg)
 * (fn may be NULL: rows are skipped), and end it (db_stmt_end()).
 * Returns the number of rows handed to fn (the one fn stopped on
 * counts), or -1 with e set.  what names the query in the log.
 */
int64_t	db_query(struct db_conn *c, enum db_stmt id, const struct db_arg *args,
	    size_t nargs, db_row_fn *fn, void *arg, const char *what,
	    struct err *e);

/*
 * The first row of a query, read into out by read (NULL: only whether
 * there is one).  Returns 1 (read), 0 (no row) or -1.
 */
int	db_get(struct db_conn *c, enum db_stmt id, const struct db_arg *args,
	    size_t nargs, db_read_fn *read, void *out, const char *what,
	    struct err *e);

/*
 * Rows gathered into a growing array of elements of size bytes, each
 * read by read.  With max > 0 at most max are kept and `more` tells
 * whether another row followed (a page's next cursor is then its last
 * element).  On failure the array is freed (clear, when not NULL, runs
 * on each element read) and v is NULL.  With max > 0, v is never NULL
 * on success (an empty page is an allocated empty array).
 */
struct db_rows {
	db_read_fn	*read;
	void		(*clear)(void *elem);	/* may be NULL */
	size_t		 size;		/* of an element */
	size_t		 max;		/* 0: all rows */
	void		*v;		/* new: the elements (free()) */
	size_t		 n;		/* elements in v */
	size_t		 cap;		/* elements allocated */
	bool		 more;		/* a row beyond max was there */
};

/*
 * Run statement id with args into rows, on c or (db_list()) on this
 * thread's connection to db.  Returns 0 or -1.
 */
int	db_rows(struct db_conn *c, enum db_stmt id, const struct db_arg *args,
	    size_t nargs, struct db_rows *rows, const char *what,
	    struct err *e);
int	db_list(struct db *db, enum db_stmt id, const struct db_arg *args,
	    size_t nargs, struct db_rows *rows, const char *what,
	    struct err *e);

/*
 * The first column of every row of id (args bound) on this thread's
 * connection to db, as a new array of new strings (*out: free with
 * db_rows_free(*out, *n, sizeof(char *), db_str_clear); NULL when
 * empty).  Returns 0 or -1 (*out NULL, *n 0).
 */
int	db_list_str(struct db *db, enum db_stmt id, const struct db_arg *args,
	    size_t nargs, char ***out, size_t *n, const char *what,
	    struct err *e);

/*
 * Free an array v of n elements of size bytes, running clear (may be
 * NULL) on each first.  NULL ok.  The public *_list_free() are this.
 */
void	db_rows_free(void *v, size_t n, size_t size, void (*clear)(void *));

/*
 * Run a statement that returns no row.  Returns the number of rows it
 * changed, or -1 with e set (as db_step()).
 */
int64_t	db_run(struct db_conn *c, enum db_stmt id, const struct db_arg *args,
	    size_t nargs, const char *what, struct err *e);

/* ---- write transactions with their audit entry (db/write.c) ---- */

/*
 * A transaction body: 0 to commit, 1 when there is nothing to write
 * (roll back, no audit entry, the write returns 0), -1 to fail.
 */
typedef int db_tx_fn(struct db_conn *c, void *arg, struct err *e);

/*
 * In one write transaction on db: run(c, arg), then append a (may be
 * NULL) to the audit log, then commit durably.  A transaction
 * PostgreSQL aborts for a deadlock or serialization failure runs again
 * (run must be safe to repeat), at most DB_TX_TRIES times.  Returns 0
 * or -1.
 */
int	db_write(struct db *db, db_tx_fn *run, void *arg,
	    const struct audit_rec *a, struct err *e);

/*
 * One statement (id with args) and its audit entry a in one write
 * transaction.  When it changes no row and none is not ERR_OK the
 * write fails with none and none_msg; a taken unique key fails with
 * ERR_ALREADY_EXISTS and exists_msg (NULL: "already exists").
 */
struct db_change {
	enum db_stmt		 id;
	const struct db_arg	*args;
	size_t			 nargs;
	const char		*what;
	enum err_code		 none;
	const char		*none_msg;
	const char		*exists_msg;
};
int	db_write1(struct db *db, const struct db_change *ch,
	    const struct audit_rec *a, struct err *e);

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

/* Read an audit row (DB_STMT_AUDIT_LIST) into a struct audit_rec. */
int	db_audit_read(const struct db_row *r, void *out, struct err *e);

/* ---- certificate rows (db/cert_row.c) ---- */

/* Copy a client-given serial, lowercased; false when it cannot exist. */
bool	db_serial_key(const char *in, char out[RCA_SERIAL_HEX_MAX + 1]);

/*
 * Read a row of CERT_COLS into a struct cert_rec (cleared first;
 * cleared on error); db_cert_clear() frees what one holds.
 */
int	db_cert_read(const struct db_row *r, void *out, struct err *e);
void	db_cert_clear(void *rec);

/*
 * Read a row of (serial, revoked_at, reason), a CRL entry
 * (DB_STMT_CERT_REVOKED_UNEXPIRED, DB_STMT_CRL_SAME_KEY), into a
 * struct db_crl_row.
 */
int	db_crl_row_read(const struct db_row *r, void *out, struct err *e);

/* Log that column what of certificate row r is bad: ERR_DB, -1. */
int	db_cert_corrupt(const struct db_row *r, const char *what,
	    struct err *e);

/* ---- blocked keys (db/keys.c) ---- */

/* A lowercase SHA-256 hex string. */
bool	db_spki_valid(const char *h);

/*
 * In c's open transaction: block key spki for certificate serial at
 * `at` (the first block stays); is key spki blocked (1, with its
 * serial in serial, cap bytes, when not NULL; 0: not; -1: error)?
 */
int	db_key_block_in(struct db_conn *c, const char *spki,
	    const char *serial, int64_t at, struct err *e);
int	db_key_blocked_in(struct db_conn *c, const char *spki, char *serial,
	    size_t cap, struct err *e);

/* ---- node rows (db/node.c), for the fleet functions (db/fleet.c) ---- */

/*
 * Read a row of NODE_COLS into a struct node_rec (cleared first;
 * cleared on error; group is the effective group); db_node_clear()
 * frees what one holds.
 */
int	db_node_read(const struct db_row *r, void *out, struct err *e);
void	db_node_clear(void *rec);
/*
 * Can name be a stored node's name?  0, or -1 with ERR_NOT_FOUND ("node
 * not found", as a write to no row fails): what a write by name checks
 * before binding it.
 */
int	db_node_name_check(const char *name, struct err *e);
/* The group column n is stored with: "" when n's group is its name. */
const char *db_node_stored_group(const struct node_rec *n);
/* Insert row n in c's open transaction.  Errors: as db_node_insert(). */
int	db_node_insert_in(struct db_conn *c, const struct node_rec *n,
	    struct err *e);

/*
 * In c's open transaction: insert rotation r (r->id set) and its steps
 * (db/rotation.c).  Errors: ERR_NOT_FOUND (no such node), ERR_DB.
 */
int	db_rotation_insert_in(struct db_conn *c, struct rotation_rec *r,
	    struct err *e);

/* ---- CA rows (db/ca_row.c), for the phases (db/ca.c) ---- */

/* Log that column what of CA row r is bad: ERR_DB, -1. */
int	db_ca_corrupt(const struct db_row *r, const char *what,
	    struct err *e);

/*
 * Check the fields every stored CA has; cert: it must have its
 * certificate (else a CSR).  0, or -1 with ERR_INVALID_REQUEST.
 */
int	db_ca_rec_check(const struct ca_rec *r, bool cert, struct err *e);

#endif
