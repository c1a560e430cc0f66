/*
 * CRL state: every CRL built is stored with its number, so the number
 * survives restarts and never goes back; the latest few are kept.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "priv.h"

int
db_crl_save(struct db *db, uint64_t number, int64_t this_update,
    int64_t next_update, const unsigned char *der, size_t len,
    const struct audit_rec *a, struct err *e)
{
	struct db_conn *c;
	sqlite3_stmt *st = NULL;
	int64_t max;
	int rc = -1, s;

	if (number == 0 || number > INT64_MAX || der == NULL || len == 0) {
		err_set(e, ERR_INVALID_REQUEST, "invalid CRL");
		return -1;
	}
	if ((c = db_conn_get(db, e)) == NULL || db_tx_begin(c, e) == -1)
		return -1;
	if ((st = db_stmt(c, DB_STMT_CRL_MAX, e)) == NULL)
		goto out;
	if ((s = db_step(c, st, "crl max", e)) == -1)
		goto out;
	if (s != SQLITE_ROW) {
		db_fail(c, "crl max: no row", e);
		goto out;
	}
	max = sqlite3_column_int64(st, 0);
	db_stmt_done(st);
	st = NULL;
	if ((int64_t)number <= max) {
		err_set(e, ERR_CONFLICT, "CRL number %llu is not above %lld",
		    (unsigned long long)number, (long long)max);
		goto out;
	}
	if ((st = db_stmt(c, DB_STMT_CRL_INSERT, e)) == NULL)
		goto out;
	if (db_bind_int(c, st, 1, (int64_t)number, e) == -1 ||
	    db_bind_int(c, st, 2, this_update, e) == -1 ||
	    db_bind_int(c, st, 3, next_update, e) == -1 ||
	    db_bind_blob(c, st, 4, der, len, e) == -1 ||
	    db_step(c, st, "crl insert", e) != SQLITE_DONE)
		goto out;
	db_stmt_done(st);
	if ((st = db_stmt(c, DB_STMT_CRL_PRUNE, e)) == NULL)
		goto out;
	if (db_bind_int(c, st, 1, (int64_t)number - DB_CRL_KEEP + 1,
	    e) == -1 || db_step(c, st, "crl prune", e) != SQLITE_DONE)
		goto out;
	db_stmt_done(st);
	st = NULL;
	if (db_audit_insert(c, a, e) == -1)
		goto out;
	return db_tx_commit(c, e);
out:
	db_stmt_done(st);
	db_tx_rollback(c);
	return rc;
}

int
db_crl_latest(struct db *db, uint64_t *number, int64_t *this_update,
    int64_t *next_update, unsigned char **der, size_t *len, struct err *e)
{
	struct db_conn *c;
	sqlite3_stmt *st = NULL;
	const void *blob;
	int rc = -1, s, n;

	*number = 0;
	*this_update = *next_update = 0;
	*der = NULL;
	*len = 0;
	if ((c = db_conn_get(db, e)) == NULL)
		return -1;
	if ((st = db_stmt(c, DB_STMT_CRL_LATEST, e)) == NULL)
		goto out;
	if ((s = db_step(c, st, "crl latest", e)) == -1)
		goto out;
	if (s == SQLITE_DONE) {
		err_set(e, ERR_NOT_FOUND, "no CRL stored");
		goto out;
	}
	blob = sqlite3_column_blob(st, 3);
	n = sqlite3_column_bytes(st, 3);
	if (blob == NULL || n <= 0) {
		log_error("db: crl %lld: no DER",
		    (long long)sqlite3_column_int64(st, 0));
		err_set(e, ERR_DB, "database error");
		goto out;
	}
	if ((*der = malloc((size_t)n)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	memcpy(*der, blob, (size_t)n);
	*len = (size_t)n;
	*number = (uint64_t)sqlite3_column_int64(st, 0);
	*this_update = sqlite3_column_int64(st, 1);
	*next_update = sqlite3_column_int64(st, 2);
	rc = 0;
out:
	db_stmt_done(st);
	return rc;
}
