/*
 * Reading certificates: one by serial, filtered lists with keyset
 * pagination, the revoked set the CRL is built from and the
 * per-profile counts of /metrics (counted by the database).
 */
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

/* The statement that can use an index for f's most selective filter. */
static enum db_stmt
list_stmt(const struct cert_filter *f)
{
	if (f->node != NULL)
		return DB_STMT_CERT_LIST_NODE;
	if (f->common_name != NULL)
		return DB_STMT_CERT_LIST_CN;
	if (f->profile != NULL)
		return DB_STMT_CERT_LIST_PROFILE;
	return DB_STMT_CERT_LIST;
}

int
db_cert_list(struct db *db, const struct cert_filter *f,
    struct cert_rec **out, size_t *n, int64_t *next, struct err *e)
{
	struct db_rows rows = { .read = db_cert_read, .clear = db_cert_clear,
	    .size = sizeof(**out), .max = db_limit(f->limit) };
	const struct db_arg args[] = {
		DB_INT(f->after), DB_INT(f->status), DB_INT(f->now),
		DB_TEXT(f->profile, RCA_MAX_PROFILE_NAME + 1),
		DB_TEXT(f->common_name, RCA_MAX_NAME_LEN + 1),
		DB_TEXT(f->node, RCA_MAX_NODE_NAME + 1),
		DB_INT(f->expires_before), DB_INT(rows.max + 1),
	};
	int rc = -1;

	if (f->status < -1 || f->status >= CERT_STATUS__MAX)
		err_set(e, ERR_INVALID_REQUEST, "invalid status filter");
	else
		rc = db_list(db, list_stmt(f), args, DB_NARGS(args), &rows,
		    "certificate list", e);
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

/* Read a row of DB_STMT_CERT_REVOKED_UNEXPIRED. */
static int
crl_row_read(const struct db_row *r, void *p, struct err *e)
{
	struct db_crl_row *out = p;

	if (DB_COL_BUF(r, 0, out->serial, e) == -1)
		return -1;
	out->revoked_at = db_col_int(r, 1);
	out->reason = (int)db_col_int(r, 2);
	return 0;
}

int
db_cert_revoked_unexpired(struct db *db, int64_t now,
    struct db_crl_row **out, size_t *n, struct err *e)
{
	struct db_rows rows = { .read = crl_row_read, .size = sizeof(**out) };
	const struct db_arg args[] = { DB_INT(now) };
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
