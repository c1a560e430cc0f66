/*
 * The PostgreSQL driver: every libpq call of db/.  One PGconn per
 * connection (so per thread), statements prepared lazily with
 * PQprepare (named by their enum number), parameters in text format
 * except blobs (binary), results in text format: integers checked with
 * strtoll, BYTEA decoded from its hex text.  Errors map by SQLSTATE;
 * a lost connection is ERR_UNAVAILABLE and is made again (PQreset,
 * which walks a multi-host URI's hosts again) on the next statement
 * outside a transaction.  The URI is never logged (it may name a
 * passfile, and a password must not be there): logs name PQhost and
 * PQdb.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "log.h"
#include "drv.h"

#define PG_MAX_PARAMS	32	/* the most ?N / $N of a statement */
#define PG_OID_BYTEA	17
#define PG_OID_INT8	20
#define PG_OID_INT2	21
#define PG_OID_INT4	23

/* A statement of one connection (c->st[id]). */
struct db_st {
	enum db_stmt	 id;
	char		 name[16];		/* "s<id>" */
	bool		 prepared;		/* on the current PGconn */
	int		 nparams;		/* bound */
	const char	*vals[PG_MAX_PARAMS];	/* borrowed, or ints[] */
	int		 lens[PG_MAX_PARAMS];
	int		 fmts[PG_MAX_PARAMS];	/* 1: binary (blobs) */
	char		 ints[PG_MAX_PARAMS][24];
	PGresult	*res;			/* owned; NULL: not run */
	int		 row;			/* current row of res */
	int		 ncols;
	unsigned char	**blob;		/* owned: ncols decoded BYTEAs */
	size_t		*bloblen;
};

/* c->priv. */
struct pg_conn {
	bool	 tx;		/* BEGIN ran; COMMIT/ROLLBACK not yet */
	bool	 broken;	/* connection lost: reset before use */
	int64_t	 changes;	/* rows the last statement changed */
};

#define PGC(c)	((struct pg_conn *)(c)->priv)

/* libpq's message on one line (no trailing newline), for the log. */
static const char *
pg_msg(const char *m, char *buf, size_t cap)
{
	size_t n;

	snprintf(buf, cap, "%s", m != NULL ? m : "");
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	for (char *p = buf; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	return buf;
}

/*
 * A failure outside a statement's result.  When the connection itself
 * is gone (the server died between connecting and the client encoding,
 * as in a failover), the database is unavailable, not in error.
 */
static int
pg_fail(struct db_conn *c, const char *what, struct err *e)
{
	char m[512];

	log_error("db: %s: %s", what, pg_msg(PQerrorMessage(c->h), m,
	    sizeof(m)));
	if (PQstatus(c->h) == CONNECTION_BAD) {
		PGC(c)->broken = true;
		err_set(e, ERR_UNAVAILABLE, "the database is unavailable");
		return -1;
	}
	err_set(e, ERR_DB, "database error");
	return -1;
}

/* Does the server say it is read-only (a hot standby)? */
static bool
pg_server_ro(struct db_conn *c)
{
	const char *s = PQparameterStatus(c->h, "in_hot_standby");
	const char *d = PQparameterStatus(c->h,
	    "default_transaction_read_only");

	return (s != NULL && strcmp(s, "on") == 0) ||
	    (d != NULL && strcmp(d, "on") == 0);
}

static bool
pg_lost(const char *state)
{
	return strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
	    strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0;
}

/*
 * Map a failed result (or none) to e by SQLSTATE: 23505 taken unique
 * key, 23503 missing referenced row, 25006 (or, on a standby, 25P02
 * and 0A000, which BEGIN READ WRITE gets there) read-only; a lost
 * connection (class 08, admin shutdown 57P0x, no result), a
 * serialization failure or deadlock (40001, 40P01: also c->conflict,
 * so db_write() runs the transaction again) and insufficient
 * resources (class 53) unavailable; anything else ERR_DB with libpq's
 * text in the log.  Returns -1.
 */
static int
pg_res_fail(struct db_conn *c, const PGresult *res, const char *what,
    struct err *e)
{
	const char *state = res != NULL ?
	    PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char m[512];

	pg_msg(res != NULL ? PQresultErrorMessage(res) :
	    PQerrorMessage(c->h), m, sizeof(m));
	if (state == NULL)
		state = "";
	if (PQstatus(c->h) == CONNECTION_BAD || pg_lost(state) ||
	    (res == NULL && state[0] == '\0')) {
		PGC(c)->broken = true;
		log_error("db: %s: connection to %s lost: %s", what,
		    PQhost(c->h) != NULL ? PQhost(c->h) : "?", m);
		err_set(e, ERR_UNAVAILABLE, "the database is unavailable");
	} else if (strcmp(state, "23505") == 0) {
		log_debug("db: %s: %s", what, m);
		err_set(e, ERR_ALREADY_EXISTS, "already exists");
	} else if (strcmp(state, "23503") == 0) {
		log_debug("db: %s: %s", what, m);
		err_set(e, ERR_NOT_FOUND, "not found");
	} else if (strcmp(state, "25006") == 0 ||
	    ((strcmp(state, "25P02") == 0 || strcmp(state, "0A000") == 0) &&
	    pg_server_ro(c))) {
		log_info("db: %s: %s", what, m);
		err_set(e, ERR_READ_ONLY, "the database is read-only");
	} else if (strcmp(state, "40001") == 0 ||
	    strcmp(state, "40P01") == 0 || strncmp(state, "53", 2) == 0) {
		c->conflict = strncmp(state, "40", 2) == 0;
		log_warn("db: %s: %s (%s)", what, m, state);
		err_set(e, ERR_UNAVAILABLE, "the database is unavailable");
	} else {
		log_error("db: %s: %s (%s)", what, m, state);
		err_set(e, ERR_DB, "database error");
	}
	return -1;
}

/* Forget the current row's decoded blobs. */
static void
st_row_free(struct db_st *st)
{
	for (int i = 0; st->blob != NULL && i < st->ncols; i++) {
		if (st->blob[i] != NULL)
			PQfreemem(st->blob[i]);
		st->blob[i] = NULL;
		st->bloblen[i] = 0;
	}
}

/* Back to a prepared statement with nothing bound and no result. */
static void
st_reset(struct db_st *st)
{
	st_row_free(st);
	free(st->blob);
	free(st->bloblen);
	st->blob = NULL;
	st->bloblen = NULL;
	PQclear(st->res);
	st->res = NULL;
	st->ncols = 0;
	st->row = -1;
	st->nparams = 0;
}

/* A new connection for a lost one, outside any transaction. */
static int
pg_reconnect(struct db_conn *c, struct err *e)
{
	char m[512];

	PQreset(c->h);
	if (PQstatus(c->h) != CONNECTION_OK) {
		log_error("db: reconnect: %s", pg_msg(PQerrorMessage(c->h), m,
		    sizeof(m)));
		err_set(e, ERR_UNAVAILABLE, "the database is unavailable");
		return -1;
	}
	log_info("db: reconnected to %s port %s, database %s", PQhost(c->h),
	    PQport(c->h), PQdb(c->h));
	for (int i = 0; i < DB_STMT__MAX; i++)
		if (c->st[i] != NULL)
			c->st[i]->prepared = false;
	PGC(c)->broken = false;
	return 0;
}

/*
 * A lost connection in a transaction stays lost until the transaction
 * ends (its COMMIT or ROLLBACK fails here as unavailable): running the
 * rest of it on a new connection would commit half of it.
 */
static int
pg_usable(struct db_conn *c, enum db_stmt id, struct err *e)
{
	struct pg_conn *p = PGC(c);

	if (!p->broken && PQstatus(c->h) == CONNECTION_OK)
		return 0;
	p->broken = true;
	if (p->tx) {
		if (id == DB_STMT_COMMIT || id == DB_STMT_ROLLBACK)
			p->tx = false;
		err_set(e, ERR_UNAVAILABLE, "the database is unavailable");
		return -1;
	}
	return pg_reconnect(c, e);
}

static struct db_st *
pg_stmt(struct db_conn *c, enum db_stmt id, const char *sql, struct err *e)
{
	struct db_st *st = c->st[id];
	PGresult *res;

	if (pg_usable(c, id, e) == -1)
		return NULL;
	if (st == NULL) {
		if ((st = calloc(1, sizeof(*st))) == NULL) {
			err_set(e, ERR_INTERNAL, "out of memory");
			return NULL;
		}
		st->id = id;
		st->row = -1;
		snprintf(st->name, sizeof(st->name), "s%d", (int)id);
		c->st[id] = st;
	}
	if (st->prepared)
		return st;
	res = PQprepare(c->h, st->name, sql, 0, NULL);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
		log_error("db: prepare statement %d", (int)id);
		(void)pg_res_fail(c, res, "prepare", e);
		PQclear(res);
		return NULL;
	}
	PQclear(res);
	st->prepared = true;
	return st;
}

static int
pg_bind(struct db_conn *c, struct db_st *st, const struct db_arg *args,
    size_t n, struct err *e)
{
	const struct db_arg *a;
	const char *s;
	size_t len;

	if (n > PG_MAX_PARAMS) {
		log_error("db: statement %d: %zu parameters", (int)st->id, n);
		err_set(e, ERR_INTERNAL, "internal error");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		a = &args[i];
		s = a->p;
		st->lens[i] = 0;
		st->fmts[i] = 0;
		switch (a->kind) {
		case DB_A_INT:
			snprintf(st->ints[i], sizeof(st->ints[i]), "%lld",
			    (long long)a->i);
			st->vals[i] = st->ints[i];
			break;
		case DB_A_BLOB:
			if (a->n > INT32_MAX) {
				err_set(e, ERR_INVALID_REQUEST,
				    "value too long");
				return -1;
			}
			/* As sqlite3_bind_blob(): a NULL pointer is NULL. */
			st->vals[i] = a->p;
			st->lens[i] = (int)a->n;
			st->fmts[i] = 1;
			break;
		case DB_A_OPT:
			if (s != NULL && s[0] == '\0')
				s = NULL;
			/* FALLTHROUGH */
		case DB_A_TEXT:
		default:
			if (s != NULL && (len = strnlen(s, a->n)) == a->n) {
				err_set(e, ERR_INVALID_REQUEST,
				    "value too long");
				return -1;
			}
			st->vals[i] = s;
			break;
		}
	}
	(void)c;
	st->nparams = (int)n;
	return 0;
}

/* Check the integer columns of the current row and decode its blobs. */
static int
pg_row(struct db_conn *c, struct db_st *st, struct err *e)
{
	const char *v;
	char *end;
	size_t n;
	Oid t;

	st_row_free(st);
	for (int i = 0; i < st->ncols; i++) {
		if (PQgetisnull(st->res, st->row, i))
			continue;
		v = PQgetvalue(st->res, st->row, i);
		t = PQftype(st->res, i);
		if (t == PG_OID_BYTEA) {
			st->blob[i] = PQunescapeBytea((const unsigned char *)v,
			    &n);
			if (st->blob[i] == NULL) {
				err_set(e, ERR_INTERNAL, "out of memory");
				return -1;
			}
			st->bloblen[i] = n;
		} else if (t == PG_OID_INT8 || t == PG_OID_INT4 ||
		    t == PG_OID_INT2) {
			errno = 0;
			(void)strtoll(v, &end, 10);
			if (errno != 0 || end == v || *end != '\0') {
				log_error("db: column %s is not an integer",
				    PQfname(st->res, i));
				return pg_fail(c, "read", e);
			}
		}
	}
	return 0;
}

/* Run st (first step): its result, its change count, its tx state. */
static int
pg_run(struct db_conn *c, struct db_st *st, const char *what,
    struct err *e)
{
	struct pg_conn *p = PGC(c);
	ExecStatusType s;
	const char *tag;
	size_t n;

	st->res = PQexecPrepared(c->h, st->name, st->nparams, st->vals,
	    st->lens, st->fmts, 0);
	s = st->res != NULL ? PQresultStatus(st->res) : PGRES_FATAL_ERROR;
	if (st->id == DB_STMT_BEGIN_WRITE || st->id == DB_STMT_BEGIN_READ)
		p->tx = s == PGRES_COMMAND_OK;
	else if (st->id == DB_STMT_COMMIT || st->id == DB_STMT_ROLLBACK)
		p->tx = false;
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
		return pg_res_fail(c, st->res, what, e);
	tag = PQcmdStatus(st->res);
	/* COMMIT of a transaction that had failed answers ROLLBACK. */
	if (st->id == DB_STMT_COMMIT && strcmp(tag, "ROLLBACK") == 0) {
		log_error("db: %s: the transaction was rolled back", what);
		err_set(e, ERR_DB, "database error");
		return -1;
	}
	p->changes = strtoll(PQcmdTuples(st->res), NULL, 10);
	st->ncols = PQnfields(st->res);
	st->row = -1;
	n = (size_t)st->ncols;
	if (n > 0 && ((st->blob = calloc(n, sizeof(*st->blob))) == NULL ||
	    (st->bloblen = calloc(n, sizeof(*st->bloblen))) == NULL)) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	return 0;
}

static int
pg_step(struct db_conn *c, struct db_st *st, const char *what,
    struct err *e)
{
	if (st->res == NULL && pg_run(c, st, what, e) == -1)
		return -1;
	if (st->row + 1 >= PQntuples(st->res)) {
		st->row = PQntuples(st->res);
		st_row_free(st);
		return DB_DONE;
	}
	st->row++;
	if (pg_row(c, st, e) == -1)
		return -1;
	return DB_ROW;
}

/* Every error surfaces at the step: the end only clears. */
static int
pg_end(struct db_conn *c, struct db_st *st, const char *what,
    struct err *e)
{
	(void)c;
	(void)what;
	(void)e;
	st_reset(st);
	return 0;
}

static void
pg_done(struct db_conn *c, struct db_st *st)
{
	(void)c;
	st_reset(st);
}

static int64_t
pg_changes(struct db_conn *c)
{
	return PGC(c)->changes;
}

static bool
pg_in_tx(struct db_conn *c)
{
	return PGC(c)->tx;
}

static int64_t
pg_col_int(struct db_st *st, int i)
{
	if (st->res == NULL || PQgetisnull(st->res, st->row, i))
		return 0;
	return strtoll(PQgetvalue(st->res, st->row, i), NULL, 10);
}

static bool
pg_col_null(struct db_st *st, int i)
{
	return st->res == NULL || PQgetisnull(st->res, st->row, i);
}

static const char *
pg_col_str(struct db_st *st, int i, size_t *len)
{
	*len = 0;
	if (pg_col_null(st, i))
		return NULL;
	*len = (size_t)PQgetlength(st->res, st->row, i);
	return PQgetvalue(st->res, st->row, i);
}

static const void *
pg_col_blob(struct db_st *st, int i, size_t *len)
{
	if (pg_col_null(st, i) || PQftype(st->res, i) != PG_OID_BYTEA)
		return pg_col_str(st, i, len);
	*len = st->bloblen[i];
	return st->blob[i];
}

static const char *
pg_col_name(struct db_st *st, int i)
{
	return st->res != NULL ? PQfname(st->res, i) : "?";
}

/* A migration script: several statements in one simple query. */
static int
pg_script(struct db_conn *c, const char *sql, struct err *e)
{
	PGresult *res;
	ExecStatusType s;
	int rc = 0;

	if (pg_usable(c, DB_STMT__MAX, e) == -1)
		return -1;
	res = PQexec(c->h, sql);
	s = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
		rc = pg_res_fail(c, res, "migration", e);
	PQclear(res);
	return rc;
}

static void
pg_close(struct db_conn *c)
{
	for (int i = 0; i < DB_STMT__MAX; i++) {
		if (c->st[i] != NULL) {
			st_reset(c->st[i]);
			free(c->st[i]);
		}
		c->st[i] = NULL;
	}
	if (c->h != NULL)
		PQfinish(c->h);
	c->h = NULL;
	free(c->priv);
	c->priv = NULL;
}

/*
 * Defaults a URI may override (they come before it): a bounded
 * connect, and TCP keepalives and a user timeout so that a primary
 * that vanished without a reset is found lost in about 30 s instead
 * of the kernel's minutes.
 */
static const char *const pg_keys[] = {
	"connect_timeout", "keepalives", "keepalives_idle",
	"keepalives_interval", "keepalives_count", "tcp_user_timeout",
	"application_name", "dbname", NULL,
};
static const char *const pg_defaults[] = {
	"10", "1", "10", "5", "3", "30000", "redis-ca",
};

static int
pg_open(struct db_conn *c, struct err *e)
{
	const char *vals[sizeof(pg_keys) / sizeof(pg_keys[0])];
	const char *const *keys = pg_keys;
	size_t i, n = sizeof(pg_defaults) / sizeof(pg_defaults[0]);
	char m[512];

	for (i = 0; i < n; i++)
		vals[i] = pg_defaults[i];
	vals[i++] = c->db->path;	/* the URI, expanded */
	vals[i] = NULL;

	if ((c->priv = calloc(1, sizeof(struct pg_conn))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	if ((c->h = PQconnectdbParams(keys, vals, 1)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	if (PQstatus(c->h) != CONNECTION_OK) {
		log_error("db: cannot connect to PostgreSQL: %s",
		    pg_msg(PQerrorMessage(c->h), m, sizeof(m)));
		err_set(e, ERR_UNAVAILABLE, "cannot connect to the database");
		return -1;
	}
	if (PQsetClientEncoding(c->h, "UTF8") != 0)
		return pg_fail(c, "client encoding", e);
	log_debug("db: connected to %s port %s, database %s", PQhost(c->h),
	    PQport(c->h), PQdb(c->h));
	return 0;
}

/*
 * The URI must parse, and must not hold a password (passfile or
 * PGPASSFILE only).  Nothing of it is logged.
 */
static int
pg_setup(struct db *db, struct err *e)
{
	PQconninfoOption *opts, *o;
	char *msg = NULL;
	int rc = -1;

	if ((opts = PQconninfoParse(db->path, &msg)) == NULL) {
		PQfreemem(msg);
		log_error("db: the PostgreSQL URI does not parse");
		err_set(e, ERR_CONFIG, "invalid PostgreSQL connection URI");
		return -1;
	}
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL &&
		    o->val[0] != '\0')
			break;
	if (o->keyword != NULL) {
		err_set(e, ERR_CONFIG, "the PostgreSQL URI holds a password: "
		    "use a passfile");
		goto out;
	}
	rc = 0;
out:
	PQconninfoFree(opts);
	return rc;
}

/* SELECT of DB_STMT_PG_READ_ONLY: a round trip and the server's mode. */
static int
pg_state(struct db_conn *c, struct err *e)
{
	enum db_stmt id = DB_STMT_PG_READ_ONLY;
	struct db_st *st;
	int rc, ro;

	if (pg_in_tx(c)) {	/* not expected: db_state runs alone */
		err_set(e, ERR_INTERNAL, "internal error");
		return DB_STATE_UNAVAILABLE;
	}
	if ((st = pg_stmt(c, id, db_sql_text(DB_DIALECT_PG, id), e)) == NULL)
		return DB_STATE_UNAVAILABLE;
	if ((rc = pg_step(c, st, "read-only check", e)) != DB_ROW) {
		if (rc == DB_DONE)
			pg_fail(c, "read-only check", e);
		st_reset(st);
		return DB_STATE_UNAVAILABLE;
	}
	ro = pg_col_int(st, 0) != 0;
	st_reset(st);
	return ro ? DB_STATE_READ_ONLY : DB_STATE_OK;
}

const struct db_drv db_drv_pg = {
	.name = "postgresql",
	.dialect = DB_DIALECT_PG,
	.wmu = false,
	.setup = pg_setup,
	.open = pg_open,
	.close = pg_close,
	.stmt = pg_stmt,
	.bind = pg_bind,
	.step = pg_step,
	.end = pg_end,
	.done = pg_done,
	.changes = pg_changes,
	.in_tx = pg_in_tx,
	.script = pg_script,
	.fail = pg_fail,
	.col_int = pg_col_int,
	.col_null = pg_col_null,
	.col_str = pg_col_str,
	.col_blob = pg_col_blob,
	.col_name = pg_col_name,
	.state = pg_state,
};
