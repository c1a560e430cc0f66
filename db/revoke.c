/*
 * Revocation: one certificate (an UPDATE ... WHERE revoked_at IS NULL
 * that returns the row) with its audit entry, and for keyCompromise
 * the cascade to every other live certificate of the same key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "priv.h"

/* After an UPDATE that changed nothing: why? */
static int
revoke_refused(struct db_conn *c, const char *key, struct err *e)
{
	const struct db_arg args[] = { DB_TEXT(key, RCA_SERIAL_HEX_MAX + 1) };
	int s;

	if ((s = db_get(c, DB_STMT_CERT_EXISTS, args, DB_NARGS(args), NULL,
	    NULL, "certificate exists", e)) == 1)
		err_set(e, ERR_ALREADY_REVOKED, "certificate already revoked");
	else if (s == 0)
		err_set(e, ERR_NOT_FOUND, "certificate not found");
	return -1;
}

/* A serial returned by DB_STMT_CERT_REVOKE_SAME_KEY. */
struct serial_row {
	char	serial[RCA_SERIAL_HEX_MAX + 1];
};

static int
serial_row_read(const struct db_row *r, void *p, struct err *e)
{
	struct serial_row *out = p;

	return DB_COL_BUF(r, 0, out->serial, e);
}

/*
 * keyCompromise, in c's open transaction: block the key (the first
 * block is kept), revoke every other unrevoked certificate of the key
 * that is unexpired at `at`, and append sibling (object set to each
 * serial) to the audit log for each.  *n gets their count.
 */
static int
revoke_same_key(struct db_conn *c, const char *spki, const char *serial,
    int64_t at, const struct audit_rec *sibling, size_t *n, struct err *e)
{
	const struct db_arg args[] = {
		DB_INT(at), DB_INT(REASON_KEY_COMPROMISE),
		DB_TEXT(spki, RCA_SHA256_HEX + 1),
	};
	struct db_rows rows = { .read = serial_row_read,
	    .size = sizeof(struct serial_row) };
	struct serial_row *list;
	struct audit_rec ar;
	int rc = -1;

	*n = 0;
	if (db_key_block_in(c, spki, serial, at, e) == -1)
		return -1;
	/* Collect first: the audit inserts run on the same connection. */
	if (db_rows(c, DB_STMT_CERT_REVOKE_SAME_KEY, args, DB_NARGS(args),
	    &rows, "same-key revoke", e) == -1)
		return -1;
	list = rows.v;
	for (size_t i = 0; sibling != NULL && i < rows.n; i++) {
		ar = *sibling;
		snprintf(ar.object, sizeof(ar.object), "%s", list[i].serial);
		if (db_audit_insert(c, &ar, e) == -1)
			goto out;
	}
	*n = rows.n;
	rc = 0;
out:
	free(rows.v);
	return rc;
}

/* A revocation: the arguments of revoke_in(). */
struct revocation {
	const char		*key;		/* lowercase serial */
	int			 reason;
	int64_t			 at;
	const char		*spki;		/* NULL: no cascade */
	const struct audit_rec	*a, *sibling;	/* borrowed; may be NULL */
	struct cert_rec		 row;		/* owned: the row after */
	size_t			 nsib;
};

/*
 * The revocation, in c's open transaction: the row (exactly one) with
 * its audit entry, then the same-key cascade when spki is given.
 */
static int
revoke_in(struct db_conn *c, void *arg, struct err *e)
{
	struct revocation *v = arg;
	const struct db_arg args[] = {
		DB_INT(v->at), DB_INT(v->reason),
		DB_TEXT(v->key, RCA_SERIAL_HEX_MAX + 1),
	};
	struct db_rows rows = { .read = db_cert_read, .clear = db_cert_clear,
	    .size = sizeof(struct cert_rec), .max = 1 };
	struct cert_rec *list;

	if (db_rows(c, DB_STMT_CERT_REVOKE, args, DB_NARGS(args), &rows,
	    "certificate revoke", e) == -1)
		return -1;
	list = rows.v;
	if (rows.n == 1)
		v->row = list[0];
	free(list);
	if (rows.n == 0)
		return revoke_refused(c, v->key, e);
	if (rows.more) {
		log_error("db: certificate revoke: serial not unique");
		err_set(e, ERR_DB, "database error");
		return -1;
	}
	if (db_audit_insert(c, v->a, e) == -1)
		return -1;
	if (v->spki != NULL && revoke_same_key(c, v->spki, v->key, v->at,
	    v->sibling, &v->nsib, e) == -1)
		return -1;
	return 0;
}

/*
 * The revocation of db_cert_revoke() and db_cert_revoke_key(): spki
 * NULL revokes serial alone; otherwise the same-key cascade follows in
 * the same transaction.
 */
static int
revoke(struct db *db, const char *serial, int reason, int64_t at,
    const char *spki, const struct audit_rec *a,
    const struct audit_rec *sibling, struct cert_rec *out, size_t *nsib,
    struct err *e)
{
	char key[RCA_SERIAL_HEX_MAX + 1];
	struct revocation v;
	int rc;

	memset(&v, 0, sizeof(v));
	if (out != NULL) {
		memset(out, 0, sizeof(*out));
		out->reason = -1;
	}
	if (!db_serial_key(serial, key)) {
		err_set(e, ERR_NOT_FOUND, "certificate not found");
		return -1;
	}
	if (!reason_code_valid(reason) || at <= 0) {
		err_set(e, ERR_INVALID_REQUEST, "invalid revocation");
		return -1;
	}
	if (spki != NULL && !db_spki_valid(spki)) {
		err_set(e, ERR_INVALID_REQUEST, "invalid key hash");
		return -1;
	}
	v.key = key;
	v.reason = reason;
	v.at = at;
	v.spki = spki;
	v.a = a;
	v.sibling = sibling;
	/* The audit entry a is appended by revoke_in(), before the cascade. */
	rc = db_write(db, revoke_in, &v, NULL, e);
	if (rc == 0 && out != NULL) {
		*out = v.row;
		memset(&v.row, 0, sizeof(v.row));
	}
	if (nsib != NULL)
		*nsib = v.nsib;
	cert_rec_clear(&v.row);
	return rc;
}

int
db_cert_revoke(struct db *db, const char *serial, int reason, int64_t at,
    const struct audit_rec *a, struct cert_rec *out, struct err *e)
{
	return revoke(db, serial, reason, at, NULL, a, NULL, out, NULL, e);
}

int
db_cert_revoke_key(struct db *db, const char *serial, const char *spki,
    int64_t at, const struct audit_rec *a, const struct audit_rec *sibling,
    struct cert_rec *out, size_t *nsiblings, struct err *e)
{
	size_t n = 0;
	int rc;

	rc = revoke(db, serial, REASON_KEY_COMPROMISE, at, spki, a, sibling,
	    out, &n, e);
	if (nsiblings != NULL)
		*nsiblings = rc == 0 ? n : 0;
	return rc;
}
