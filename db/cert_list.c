/*
 * Reading certificates: one by serial, filtered lists with keyset
 * pagination (each filter served by an index), the revoked set the
 * CRL is built from and the per-profile counts of /metrics (counters
 * kept in every write's transaction).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "priv.h"

int
db_cert_get(struct db *db, const char *serial, struct cert_rec *out,
    struct err *e)
{
	char key[RCA_SERIAL_HEX_MAX + 1];
	const struct db_arg args[] = { DB_BUF(key) };
	struct db_conn *c;
	int s;

	memset(out, 0, sizeof(*out));
	out->reason = -1;
	if (!db_serial_key(serial, key)) {
		err_set(e, ERR_NOT_FOUND, "certificate not found");
		return -1;
	}
	if ((c = db_conn_get(db, e)) == NULL)
		return -1;
	if ((s = db_get(c, DB_STMT_CERT_GET, args, DB_NARGS(args),
	    db_cert_read, out, "certificate get", e)) == 1)
		return 0;
	cert_rec_clear(out);
	out->reason = -1;
	if (s == 0)
		err_set(e, ERR_NOT_FOUND, "certificate not found");
	return -1;
}

/*
 * Above this many rows in a not_after range, a list walks id order
 * instead of sorting the range: the range costs up to this many index
 * entries (about a millisecond), and a walk in id order meets a match
 * at least every N / DB_LIST_RANGE_MAX rows when matches are spread.
 */
#define DB_LIST_RANGE_MAX	10000

/*
 * The plan of a list: its statement and, for the range statements, the
 * not_after range [lo, hi) the filters allow.
 */
struct list_plan {
	enum db_stmt	stmt;
	int64_t		lo;
	int64_t		hi;
};

/*
 * Status and expires_before as a not_after range; *unrevoked is set
 * when the status also asks for unrevoked rows.  false: no range
 * (status any or revoked without expires_before).
 */
static bool
list_range(const struct cert_filter *f, struct list_plan *p,
    bool *unrevoked)
{
	p->lo = INT64_MIN;
	p->hi = f->expires_before != 0 ? f->expires_before : INT64_MAX;
	*unrevoked = f->status == CERT_VALID || f->status == CERT_EXPIRED;
	if (f->status == CERT_VALID)
		p->lo = f->now;
	else if (f->status == CERT_EXPIRED && f->now < p->hi)
		p->hi = f->now;
	return *unrevoked || (f->status == -1 && f->expires_before != 0);
}

/*
 * Choose the statement that an index serves for f: node and common
 * name are selective, revoked rows have their own id index, and a
 * not_after range is sorted when the index says it holds fewer than
 * DB_LIST_RANGE_MAX rows (else id order finds matches soon).  The
 * probe bounds the entries it reads, not the matches: it ignores the
 * cursor.  Every statement applies all of CERT_FILTER, so the choice
 * changes the speed, never the page.
 */
static int
list_plan(struct db *db, const struct cert_filter *f, struct list_plan *p,
    struct err *e)
{
	struct db_conn *c;
	int64_t n = 0;
	bool unrevoked;

	p->stmt = f->profile != NULL ? DB_STMT_CERT_LIST_PROFILE :
	    DB_STMT_CERT_LIST;
	if (f->node != NULL || f->common_name != NULL) {
		p->stmt = f->node != NULL ? DB_STMT_CERT_LIST_NODE :
		    DB_STMT_CERT_LIST_CN;
		return 0;
	}
	if (f->status == CERT_REVOKED) {
		p->stmt = DB_STMT_CERT_LIST_REVOKED;
		return 0;
	}
	if (!list_range(f, p, &unrevoked))
		return 0;
	const struct db_arg args[] = { DB_INT(p->lo), DB_INT(p->hi),
	    DB_INT(DB_LIST_RANGE_MAX) };
	if ((c = db_conn_get(db, e)) == NULL ||
	    db_get(c, unrevoked ? DB_STMT_CERT_PROBE_UNREVOKED :
	    DB_STMT_CERT_PROBE_EXPIRES, args, DB_NARGS(args), db_int_read, &n,
	    "certificate list probe", e) != 1)
		return -1;
	if (n < DB_LIST_RANGE_MAX)
		p->stmt = unrevoked ? DB_STMT_CERT_LIST_UNREVOKED :
		    DB_STMT_CERT_LIST_EXPIRES;
	return 0;
}

/* Whether the statement takes the range (?10, ?11). */
static bool
plan_ranged(const struct list_plan *p)
{
	return p->stmt == DB_STMT_CERT_LIST_UNREVOKED ||
	    p->stmt == DB_STMT_CERT_LIST_EXPIRES;
}

/*
 * Valid rows are the newest, mostly: a list of them in id order would
 * first walk every expired row.  When f asks for valid rows in id order
 * (DB_STMT_CERT_LIST or _PROFILE), start past the rows the last such
 * walk found expired: no row below db->valid_id is valid at or after
 * db->valid_at.  Returns the id to walk from; *from_hint is true when
 * everything between the hint (or the first row) and that id is known.
 */
static int64_t
valid_start(struct db *db, const struct cert_filter *f,
    const struct list_plan *p, bool *from_hint)
{
	int64_t start = f->after;

	*from_hint = false;
	if (f->status != CERT_VALID || (p->stmt != DB_STMT_CERT_LIST &&
	    p->stmt != DB_STMT_CERT_LIST_PROFILE))
		return start;
	pthread_mutex_lock(&db->valid_mu);
	if (db->valid_set && f->now >= db->valid_at) {
		*from_hint = f->after < db->valid_id;
		if (db->valid_id - 1 > start)
			start = db->valid_id - 1;
	} else if (!db->valid_set) {
		*from_hint = f->after == 0;
	}
	pthread_mutex_unlock(&db->valid_mu);
	return start;
}

/*
 * After a walk from the hint (or the first row) for valid rows with no
 * other filter: every row before the first one found is not valid at
 * f->now, so the hint moves there.  (Rows are never deleted, and new
 * rows take ids above every existing one.)
 */
static void
valid_learn(struct db *db, const struct cert_filter *f, bool from_hint,
    const struct cert_rec *first)
{
	if (!from_hint || first == NULL || f->status != CERT_VALID ||
	    f->profile != NULL || f->common_name != NULL ||
	    f->node != NULL || f->expires_before != 0)
		return;
	pthread_mutex_lock(&db->valid_mu);
	if (!db->valid_set || (f->now >= db->valid_at &&
	    first->id >= db->valid_id)) {
		db->valid_set = true;
		db->valid_at = f->now;
		db->valid_id = first->id;
	}
	pthread_mutex_unlock(&db->valid_mu);
}

int
db_cert_list(struct db *db, const struct cert_filter *f,
    struct cert_rec **out, size_t *n, int64_t *next, struct err *e)
{
	struct db_rows rows = { .read = db_cert_read, .clear = db_cert_clear,
	    .size = sizeof(**out), .max = db_limit(f->limit) };
	struct list_plan p = { 0 };
	int64_t start;
	bool from_hint;
	int rc = -1;

	if (f->status < -1 || f->status >= CERT_STATUS__MAX) {
		err_set(e, ERR_INVALID_REQUEST, "invalid status filter");
		goto out;
	}
	if (list_plan(db, f, &p, e) == -1)
		goto out;
	start = valid_start(db, f, &p, &from_hint);
	const struct db_arg args[] = {
		DB_INT(start), DB_INT(f->status), DB_INT(f->now),
		DB_TEXT(f->profile, RCA_MAX_PROFILE_NAME + 1),
		DB_TEXT(f->common_name, RCA_MAX_NAME_LEN + 1),
		DB_TEXT(f->node, RCA_MAX_NODE_NAME + 1),
		DB_INT(f->expires_before), DB_INT(rows.max + 1),
		DB_INT(f->ca_id), DB_INT(p.lo), DB_INT(p.hi),
	};
	rc = db_list(db, p.stmt, args, plan_ranged(&p) ? DB_NARGS(args) :
	    DB_NARGS(args) - 2, &rows, "certificate list", e);
	if (rc == 0)
		valid_learn(db, f, from_hint, rows.n > 0 ? rows.v : NULL);
out:
	*out = rows.v;
	*n = rows.n;
	*next = rows.more ? (*out)[rows.n - 1].id : 0;
	return rc;
}

void
db_cert_list_free(struct cert_rec *list, size_t n)
{
	db_rows_free(list, n, sizeof(*list), db_cert_clear);
}

int
db_cert_revoked_unexpired(struct db *db, int64_t ca_id, int64_t now,
    struct db_crl_row **out, size_t *n, struct err *e)
{
	struct db_rows rows = { .read = db_crl_row_read,
	    .size = sizeof(**out) };
	const struct db_arg args[] = { DB_INT(now), DB_INT(ca_id) };
	int rc;

	rc = db_list(db, DB_STMT_CERT_REVOKED_UNEXPIRED, args, DB_NARGS(args),
	    &rows, "revoked list", e);
	*out = rows.v;
	*n = rows.n;
	return rc;
}

/* Read a row of DB_STMT_CERT_COUNTS. */
static int
count_read(const struct db_row *r, void *p, struct err *e)
{
	struct db_profile_count *out = p;

	if (DB_COL_BUF(r, 0, out->profile, e) == -1)
		return -1;
	out->issued = db_col_int(r, 1);
	out->active = db_col_int(r, 2);
	out->revoked = db_col_int(r, 3);
	return 0;
}

int
db_cert_counts(struct db *db, int64_t now, struct db_profile_count **out,
    size_t *n, struct err *e)
{
	struct db_rows rows = { .read = count_read, .size = sizeof(**out) };
	const struct db_arg args[] = { DB_INT(now) };
	int rc;

	rc = db_list(db, DB_STMT_CERT_COUNTS, args, DB_NARGS(args), &rows,
	    "certificate counts", e);
	*out = rows.v;
	*n = rows.n;
	return rc;
}
