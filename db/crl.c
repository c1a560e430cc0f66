/*
 * CRL state: every CRL built is stored with its number, so the number
 * survives restarts and never goes back (across processes too: the
 * check and the insert are one write transaction).  A number may be
 * claimed first (a row with an empty DER) and its DER written later
 * (db_crl_put_der()); only the newest DER is kept (DB_CRL_KEEP): older
 * rows are deleted as it is stored.  db_crl_publish() is the
 * publication of instances sharing a PostgreSQL: under one lock across
 * them, the caller's entries checked against the database, the number
 * claimed and the DER stored in one transaction, then NOTIFY.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "priv.h"

/* A CRL to store (db_crl_save()'s arguments). */
struct crl_new {
	int64_t			 ca_id;
	uint64_t		 number;
	int64_t			 this_update, next_update;
	const unsigned char	*der;
	size_t			 len;
};

/* The one integer an aggregate query returns.  0 or -1. */
static int
get_int(struct db_conn *c, enum db_stmt id, const struct db_arg *args,
    size_t n, int64_t *out, const char *what, struct err *e)
{
	int s;

	if ((s = db_get(c, id, args, n, db_int_read, out, what, e)) == -1)
		return -1;
	if (s == 0) {
		log_error("db: %s: no row", what);
		err_set(e, ERR_DB, "database error");
		return -1;
	}
	return 0;
}

/* db_crl_save()'s transaction: check the number, insert, prune. */
static int
crl_save_in(struct db_conn *c, void *arg, struct err *e)
{
	const struct crl_new *n = arg;
	/* A claim stores a zero-length DER (the column is NOT NULL). */
	const struct db_arg ins[] = {
		DB_INT(n->number), DB_INT(n->this_update),
		DB_INT(n->next_update), DB_BLOB(n->der != NULL ? n->der :
		    (const unsigned char *)"", n->len), DB_INT(n->ca_id),
	};
	const struct db_arg keep[] = {
		DB_INT((int64_t)n->number - DB_CRL_KEEP + 1), DB_INT(n->ca_id),
	};
	const struct db_arg claim[] = { DB_INT(n->number), DB_INT(n->ca_id) };
	int64_t max = 0;

	if (get_int(c, DB_STMT_CRL_MAX, NULL, 0, &max, "crl max", e) == -1)
		return -1;
	if ((int64_t)n->number <= max) {
		err_set(e, ERR_CONFLICT, "CRL number %llu is not above %lld",
		    (unsigned long long)n->number, (long long)max);
		return -1;
	}
	if (db_run(c, DB_STMT_CRL_INSERT, ins, DB_NARGS(ins), "crl insert",
	    e) == -1)
		return -1;
	if (n->der == NULL ? db_run(c, DB_STMT_CRL_PRUNE_CLAIMS, claim,
	    DB_NARGS(claim), "crl prune claims", e) == -1 :
	    db_run(c, DB_STMT_CRL_PRUNE, keep, DB_NARGS(keep), "crl prune",
	    e) == -1)
		return -1;
	return 0;
}

int
db_crl_save(struct db *db, int64_t ca_id, uint64_t number,
    int64_t this_update, int64_t next_update, const unsigned char *der,
    size_t len, const struct audit_rec *a, struct err *e)
{
	struct crl_new n = { ca_id, number, this_update, next_update, der,
	    len };

	if (ca_id <= 0 || number == 0 || number > INT64_MAX ||
	    (der == NULL) != (len == 0)) {
		err_set(e, ERR_INVALID_REQUEST, "invalid CRL");
		return -1;
	}
	return db_write(db, crl_save_in, &n, a, e);
}

/* db_crl_publish()'s arguments. */
struct crl_pub {
	struct db_crl_pub	*p;
	db_crl_sign_fn		*sign;
	void			*arg;
	struct db_crl_row	*rows;		/* owned: this run's list */
};

/*
 * Under the lock, what the caller must sign: the number, and the full
 * list unless its entries are the database's.
 */
static int
crl_pub_check(struct db_conn *c, struct crl_pub *cp, struct err *e)
{
	struct db_crl_pub *p = cp->p;
	struct db_rows rows = { .read = db_crl_row_read,
	    .size = sizeof(struct db_crl_row) };
	const struct db_arg at[] = { DB_INT(p->now), DB_INT(p->ca_id) };
	int64_t max = 0, count = 0;

	if (get_int(c, DB_STMT_CRL_MAX, NULL, 0, &max, "crl max", e) == -1 ||
	    get_int(c, DB_STMT_CRL_REVOKED_COUNT, at, DB_NARGS(at), &count,
	    "crl count", e) == -1)
		return -1;
	p->stored = max > 0 ? (uint64_t)max : 0;
	p->number = (p->stored > p->ours ? p->stored : p->ours) + 1;
	p->full = false;
	p->rows = NULL;
	p->nrows = 0;
	/* Equal counts of a subset: the same set.  A store gone back
	 * (restored, failed over) may have lost what the caller holds. */
	if (count == (int64_t)p->nentries && p->stored >= p->ours)
		return 0;
	if (db_rows(c, DB_STMT_CERT_REVOKED_UNEXPIRED, at, DB_NARGS(at),
	    &rows, "crl revoked", e) == -1)
		return -1;
	cp->rows = rows.v;
	p->full = true;
	p->rows = rows.v;
	p->nrows = rows.n;
	return 0;
}

/* Store p's signed CRL (its DER at once) and prune the older rows. */
static int
crl_pub_store(struct db_conn *c, const struct db_crl_pub *p, struct err *e)
{
	const struct db_arg ins[] = {
		DB_INT(p->number), DB_INT(p->this_update),
		DB_INT(p->next_update), DB_BLOB(p->der, p->len),
		DB_INT(p->ca_id),
	};
	const struct db_arg keep[] = {
		DB_INT((int64_t)p->number - DB_CRL_KEEP + 1), DB_INT(p->ca_id),
	};

	if (db_run(c, DB_STMT_CRL_INSERT, ins, DB_NARGS(ins), "crl insert",
	    e) == -1 || db_run(c, DB_STMT_CRL_PRUNE, keep, DB_NARGS(keep),
	    "crl prune", e) == -1)
		return -1;
	return 0;
}

/* db_crl_publish()'s transaction. */
static int
crl_pub_in(struct db_conn *c, void *arg, struct err *e)
{
	struct crl_pub *cp = arg;
	struct db_crl_pub *p = cp->p;
	const bool pg = c->db->dialect == DB_DIALECT_PG;
	struct db_arg pay[1];
	char num[24];
	int rc = -1;

	free(cp->rows);		/* a run before this one's */
	cp->rows = NULL;
	p->der = NULL;
	p->len = 0;
	if (pg && db_get(c, DB_STMT_PG_CRL_LOCK, NULL, 0, NULL, NULL,
	    "crl lock", e) == -1)
		goto out;
	if (crl_pub_check(c, cp, e) == -1 || cp->sign(p, cp->arg, e) == -1)
		goto out;
	if (p->der == NULL || p->len == 0) {
		log_error("db: crl publish: no DER was signed");
		err_set(e, ERR_INTERNAL, "internal error");
		goto out;
	}
	if (crl_pub_store(c, p, e) == -1)
		goto out;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)p->number);
	pay[0] = DB_BUF(num);
	if (pg && db_get(c, DB_STMT_PG_NOTIFY_CRL, pay, DB_NARGS(pay), NULL,
	    NULL, "crl notify", e) == -1)
		goto out;
	rc = 0;
out:
	/* The list served sign() only. */
	free(cp->rows);
	cp->rows = NULL;
	p->full = false;
	p->rows = NULL;
	p->nrows = 0;
	return rc;
}

int
db_crl_publish(struct db *db, struct db_crl_pub *p, db_crl_sign_fn *sign,
    void *arg, struct err *e)
{
	struct crl_pub cp = { p, sign, arg, NULL };

	if (p->ours >= INT64_MAX - 1 || p->ca_id <= 0) {
		err_set(e, ERR_INVALID_REQUEST, "invalid CRL");
		return -1;
	}
	return db_write(db, crl_pub_in, &cp, p->audit, e);
}

/* db_crl_put_der()'s transaction: the DER, then the older rows go. */
static int
crl_put_in(struct db_conn *c, void *arg, struct err *e)
{
	const struct crl_new *n = arg;
	const struct db_arg set[] = {
		DB_INT(n->number), DB_BLOB(n->der, n->len),
	};
	const struct db_arg keep[] = { DB_INT(n->number), DB_INT(n->ca_id) };

	int64_t changed;

	if ((changed = db_run(c, DB_STMT_CRL_SET_DER, set, DB_NARGS(set),
	    "crl der", e)) == -1)
		return -1;
	/* Gone: a newer DER was stored first, which stays the latest. */
	if (changed == 0)
		return 0;
	if (db_run(c, DB_STMT_CRL_PRUNE, keep, DB_NARGS(keep), "crl prune",
	    e) == -1)
		return -1;
	return 0;
}

int
db_crl_put_der(struct db *db, int64_t ca_id, uint64_t number,
    const unsigned char *der, size_t len, struct err *e)
{
	struct crl_new n = { ca_id, number, 0, 0, der, len };

	if (ca_id <= 0 || number == 0 || number > INT64_MAX || der == NULL ||
	    len == 0) {
		err_set(e, ERR_INVALID_REQUEST, "invalid CRL");
		return -1;
	}
	return db_write(db, crl_put_in, &n, NULL, e);
}

/* The latest CRL row. */
struct crl_latest {
	uint64_t	 number;
	int64_t		 this_update, next_update;
	unsigned char	*der;		/* new */
	size_t		 len;
};

static int
crl_read(const struct db_row *r, void *out, struct err *e)
{
	struct crl_latest *l = out;
	const void *blob;
	size_t n;

	blob = db_col_blob(r, 3, &n);
	if (blob == NULL || n == 0) {
		log_error("db: crl %lld: no DER", (long long)db_col_int(r, 0));
		err_set(e, ERR_DB, "database error");
		return -1;
	}
	if ((l->der = malloc(n)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	memcpy(l->der, blob, n);
	l->len = n;
	l->number = (uint64_t)db_col_int(r, 0);
	l->this_update = db_col_int(r, 1);
	l->next_update = db_col_int(r, 2);
	return 0;
}

int
db_crl_latest(struct db *db, int64_t ca_id, uint64_t *number,
    int64_t *this_update, int64_t *next_update, unsigned char **der,
    size_t *len, struct err *e)
{
	struct crl_latest l = { 0, 0, 0, NULL, 0 };
	const struct db_arg args[] = { DB_INT(ca_id) };
	struct db_conn *c;
	int s;

	*number = 0;
	*this_update = *next_update = 0;
	*der = NULL;
	*len = 0;
	if ((c = db_conn_get(db, e)) == NULL)
		return -1;
	if ((s = db_get(c, DB_STMT_CRL_LATEST, args, DB_NARGS(args), crl_read,
	    &l, "crl latest", e)) == -1) {
		free(l.der);
		return -1;
	}
	if (s == 0) {
		err_set(e, ERR_NOT_FOUND, "no CRL stored");
		return -1;
	}
	*number = l.number;
	*this_update = l.this_update;
	*next_update = l.next_update;
	*der = l.der;
	*len = l.len;
	return 0;
}

int
db_crl_number(struct db *db, uint64_t *number, struct err *e)
{
	struct db_conn	*c;
	int64_t		 max = 0;

	*number = 0;
	if ((c = db_conn_get(db, e)) == NULL)
		return -1;
	if (db_get(c, DB_STMT_CRL_MAX, NULL, 0, db_int_read, &max, "crl max",
	    e) == -1)
		return -1;
	*number = max > 0 ? (uint64_t)max : 0;
	return 0;
}

int
db_crl_same_key(struct db *db, int64_t ca_id, const char *spki, int64_t now,
    struct db_crl_row **out, size_t *n, struct err *e)
{
	struct db_rows rows = { .read = db_crl_row_read,
	    .size = sizeof(**out) };
	const struct db_arg args[] = {
		DB_TEXT(spki, RCA_SHA256_HEX + 1), DB_INT(now), DB_INT(ca_id),
	};
	int rc;

	rc = db_list(db, DB_STMT_CRL_SAME_KEY, args, DB_NARGS(args), &rows,
	    "crl same key", e);
	*out = rows.v;
	*n = rows.n;
	return rc;
}

/* Read a row of DB_STMT_CRL_EXPIRED. */
static int
expired_read(const struct db_row *r, void *p, struct err *e)
{
	struct db_serial *out = p;

	return DB_COL_BUF(r, 0, out->serial, e);
}

int
db_crl_expired(struct db *db, int64_t ca_id, int64_t from, int64_t to,
    struct db_serial **out, size_t *n, struct err *e)
{
	struct db_rows rows = { .read = expired_read, .size = sizeof(**out) };
	const struct db_arg args[] = { DB_INT(from), DB_INT(to),
	    DB_INT(ca_id) };
	int rc;

	rc = db_list(db, DB_STMT_CRL_EXPIRED, args, DB_NARGS(args), &rows,
	    "crl expired", e);
	*out = rows.v;
	*n = rows.n;
	return rc;
}
