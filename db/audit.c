/*
 * The audit log: append-only (the schema's triggers refuse UPDATE and
 * DELETE), written inside the transaction of the change it records.
 * Retention (db_audit_prune) is the one way rows leave it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "priv.h"

int
db_audit_insert(struct db_conn *c, const struct audit_rec *a,
    struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (a == NULL)
		return 0;
	if ((unsigned)a->outcome >= AUDIT_OUTCOME__MAX) {
		err_set(e, ERR_INTERNAL, "invalid audit outcome");
		return -1;
	}
	if ((st = db_stmt(c, DB_STMT_AUDIT_INSERT, e)) == NULL)
		goto out;
	if (db_bind_int(c, st, 1, a->at, e) == -1 ||
	    DB_BIND_BUF(c, st, 2, a->actor, e) == -1 ||
	    DB_BIND_BUF(c, st, 3, a->action, e) == -1 ||
	    DB_BIND_BUF(c, st, 4, a->object, e) == -1 ||
	    db_bind_text(c, st, 5, audit_outcome_name(a->outcome), 16,
	    e) == -1 ||
	    DB_BIND_BUF(c, st, 6, a->detail, e) == -1)
		goto out;
	if (db_step(c, st, "audit insert", e) != SQLITE_DONE)
		goto out;
	rc = 0;
out:
	db_stmt_done(st);
	return rc;
}

int
db_audit_read(sqlite3_stmt *st, struct audit_rec *out, struct err *e)
{
	char outcome[16];
	int i;

	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(st, 0);
	out->at = sqlite3_column_int64(st, 1);
	if (DB_COL_BUF(st, 2, out->actor, e) == -1 ||
	    DB_COL_BUF(st, 3, out->action, e) == -1 ||
	    DB_COL_BUF(st, 4, out->object, e) == -1 ||
	    DB_COL_BUF(st, 5, outcome, e) == -1 ||
	    DB_COL_BUF(st, 6, out->detail, e) == -1)
		return -1;
	for (i = 0; i < AUDIT_OUTCOME__MAX; i++)
		if (strcmp(outcome, audit_outcome_name(i)) == 0)
			break;
	if (i == AUDIT_OUTCOME__MAX) {
		log_error("db: audit %lld: unknown outcome",
		    (long long)out->id);
		err_set(e, ERR_DB, "database error");
		return -1;
	}
	out->outcome = (enum audit_outcome)i;
	return 0;
}

int
db_audit_append(struct db *db, const struct audit_rec *a, struct err *e)
{
	struct db_conn *c;

	if (a == NULL) {
		err_set(e, ERR_INTERNAL, "no audit entry");
		return -1;
	}
	if ((c = db_conn_get(db, e)) == NULL || db_tx_begin(c, e) == -1)
		return -1;
	if (db_audit_insert(c, a, e) == -1) {
		db_tx_rollback(c);
		return -1;
	}
	return db_tx_commit(c, e);
}

/* True when the oldest entry is older than before.  In c's transaction. */
static int
any_older(struct db_conn *c, int64_t before, bool *yes, struct err *e)
{
	sqlite3_stmt *st;
	int s, rc = -1;

	*yes = false;
	if ((st = db_stmt(c, DB_STMT_AUDIT_OLDEST, e)) == NULL)
		return -1;
	if ((s = db_step(c, st, "audit oldest", e)) == -1)
		goto out;
	*yes = s == SQLITE_ROW && sqlite3_column_int64(st, 0) < before;
	rc = 0;
out:
	db_stmt_done(st);
	return rc;
}

int
db_audit_prune(struct db *db, int64_t before, size_t max,
    const struct audit_rec *a, int64_t *n, struct err *e)
{
	struct audit_rec r;
	struct db_conn *c;
	sqlite3_stmt *st = NULL;
	bool old;

	*n = 0;
	if (a == NULL || max == 0 || max > INT64_MAX) {
		err_set(e, ERR_INTERNAL, "invalid audit prune");
		return -1;
	}
	if ((c = db_conn_get(db, e)) == NULL || db_tx_begin(c, e) == -1)
		return -1;
	if (any_older(c, before, &old, e) == -1)
		goto fail;
	if (!old) {
		db_tx_rollback(c);
		return 0;
	}
	/*
	 * The guard comes off and back on inside this transaction: other
	 * connections see the trigger throughout, and a failure anywhere
	 * rolls the drop back with the rest.
	 */
	if (db_exec(c, DB_STMT_AUDIT_GUARD_OFF, e) == -1)
		goto fail;
	if ((st = db_stmt(c, DB_STMT_AUDIT_PRUNE, e)) == NULL ||
	    db_bind_int(c, st, 1, before, e) == -1 ||
	    db_bind_int(c, st, 2, (int64_t)max, e) == -1 ||
	    db_step(c, st, "audit prune", e) != SQLITE_DONE)
		goto fail;
	*n = sqlite3_changes64(c->h);
	db_stmt_done(st);
	st = NULL;
	if (db_exec(c, DB_STMT_AUDIT_GUARD_ON, e) == -1)
		goto fail;
	r = *a;
	if (r.detail[0] != '\0')
		snprintf(r.detail, sizeof(r.detail), "deleted=%lld %.200s",
		    (long long)*n, a->detail);
	else
		snprintf(r.detail, sizeof(r.detail), "deleted=%lld",
		    (long long)*n);
	if (db_audit_insert(c, &r, e) == -1)
		goto fail;
	if (db_tx_commit(c, e) == -1) {
		*n = 0;
		return -1;
	}
	return 0;
fail:
	db_stmt_done(st);
	db_tx_rollback(c);
	*n = 0;
	return -1;
}

int
db_audit_list(struct db *db, int64_t after, size_t limit,
    struct audit_rec **out, size_t *n, int64_t *next, struct err *e)
{
	struct db_conn *c;
	sqlite3_stmt *st = NULL;
	struct audit_rec *list = NULL;
	size_t cnt = 0;
	int s, rc = -1;

	*out = NULL;
	*n = 0;
	*next = 0;
	limit = db_limit(limit);
	if ((c = db_conn_get(db, e)) == NULL)
		return -1;
	if ((st = db_stmt(c, DB_STMT_AUDIT_LIST, e)) == NULL)
		goto out;
	if (db_bind_int(c, st, 1, after, e) == -1 ||
	    db_bind_int(c, st, 2, (int64_t)limit + 1, e) == -1)
		goto out;
	if ((list = calloc(limit, sizeof(*list))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	while ((s = db_step(c, st, "audit list", e)) == SQLITE_ROW) {
		if (cnt == limit) {
			*next = list[cnt - 1].id;
			break;
		}
		if (db_audit_read(st, &list[cnt], e) == -1)
			goto out;
		cnt++;
	}
	if (s == -1)
		goto out;
	*out = list;
	*n = cnt;
	list = NULL;
	rc = 0;
out:
	db_stmt_done(st);
	free(list);
	if (rc == -1)
		*next = 0;
	return rc;
}

void
db_audit_list_free(struct audit_rec *list, size_t n)
{
	(void)n;
	free(list);
}
