/*
 * Internal to db/: a database driver, the one place a client library
 * is called.  db/db.c (connections, statements, transactions,
 * migrations) and db/row.c (values in and out) go through it; the
 * table files never see it.  SQLite's driver is db/drv_sqlite.c,
 * PostgreSQL's (libpq) db/drv_pg.c.
 *
 * Every function runs on one connection used by one thread at a time.
 * A statement st is one c->st[id], prepared by stmt() and cached on c
 * until close() (closing c finalises them all).
 */
#ifndef RCA_DB_DRV_H
#define RCA_DB_DRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "priv.h"

struct db_drv {
	const char	*name;		/* "sqlite", "postgresql" for logs */
	enum db_dialect	 dialect;	/* its statement table */
	bool		 wmu;		/* writes take db->wmu (SQLite) */

	/*
	 * Before the first connection: check db->path and make what the
	 * driver needs (SQLite: the file, mode 0600).  0 or -1.
	 */
	int	(*setup)(struct db *db, struct err *e);

	/* Open c->h (and c->priv) for c->db.  0 or -1 with e set. */
	int	(*open)(struct db_conn *c, struct err *e);

	/* Finalise c's statements and close c->h.  c itself stays. */
	void	(*close)(struct db_conn *c);

	/*
	 * Prepare statement id, whose text is sql, into c->st[id] (or
	 * find it there).  Borrowed; NULL with e set.
	 */
	struct db_st *(*stmt)(struct db_conn *c, enum db_stmt id,
		    const char *sql, struct err *e);

	/* Bind args[0..n-1] to parameters 1..n.  0 or -1. */
	int	(*bind)(struct db_conn *c, struct db_st *st,
		    const struct db_arg *args, size_t n, struct err *e);

	/* DB_ROW, DB_DONE or -1 (mapped as db_step() says). */
	int	(*step)(struct db_conn *c, struct db_st *st, const char *what,
		    struct err *e);

	/*
	 * End st (reset, clear bindings): end() reports a late error,
	 * done() ignores it (failure paths).
	 */
	int	(*end)(struct db_conn *c, struct db_st *st, const char *what,
		    struct err *e);
	void	(*done)(struct db_conn *c, struct db_st *st);

	/* Rows changed by the statement c ran last. */
	int64_t	(*changes)(struct db_conn *c);

	/* Is a transaction open on c? */
	bool	(*in_tx)(struct db_conn *c);

	/* Run a migration script (several statements).  0 or -1. */
	int	(*script)(struct db_conn *c, const char *sql, struct err *e);

	/* Log c's last error for `what`; e = ERR_DB.  Returns -1. */
	int	(*fail)(struct db_conn *c, const char *what, struct err *e);

	/*
	 * Columns of the current row of st.  str() and blob() are
	 * borrowed until the next step; str() is NULL for SQL NULL (or,
	 * on SQLite, out of memory: null() tells).  name() is for logs.
	 */
	int64_t	(*col_int)(struct db_st *st, int i);
	bool	(*col_null)(struct db_st *st, int i);
	const char *(*col_str)(struct db_st *st, int i, size_t *len);
	const void *(*col_blob)(struct db_st *st, int i, size_t *len);
	const char *(*col_name)(struct db_st *st, int i);

	/*
	 * The state of the server behind c after a round trip:
	 * DB_STATE_OK, DB_STATE_READ_ONLY or DB_STATE_UNAVAILABLE (e
	 * set).  NULL (SQLite): db_state() is db_ping()'s outcome.
	 */
	int	(*state)(struct db_conn *c, struct err *e);
};

extern const struct db_drv db_drv_sqlite;
extern const struct db_drv db_drv_pg;

/* Is path a libpq URI (postgresql:// or postgres://)? */
bool	db_path_is_pg(const char *path);

#endif
