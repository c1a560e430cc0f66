/*
 * The audit log: append-only (the schema's triggers refuse UPDATE and
 * DELETE), written inside the transaction of the change it records.
 * Retention (db_audit_prune) is the one way rows leave it.  db/write.c
 * calls db_audit_insert(), so the transactions here are written out
 * rather than going through db_write() (no circle between the files).
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
	if (a == NULL)
		return 0;
	if ((unsigned)a->outcome >= AUDIT_OUTCOME__MAX) {
		err_set(e, ERR_INTERNAL, "invalid audit outcome");
		return -1;
	}
	const struct db_arg args[] = {
		DB_INT(a->at), DB_BUF(a->actor), DB_BUF(a->action),
		DB_BUF(a->object), DB_TEXT(audit_outcome_name(a->outcome), 16),
		DB_BUF(a->detail),
	};
	return db_run(c, DB_STMT_AUDIT_INSERT, args, DB_NARGS(args),
	    "audit insert", e) == -1 ? -1 : 0;
}

int
db_audit_read(const struct db_row *r, void *p, struct err *e)
{
	struct audit_rec *out = p;
	char outcome[16];
	int i;

	memset(out, 0, sizeof(*out));
	out->id = db_col_int(r, 0);
	out->at = db_col_int(r, 1);
	if (DB_COL_BUF(r, 2, out->actor, e) == -1 ||
	    DB_COL_BUF(r, 3, out->action, e) == -1 ||
	    DB_COL_BUF(r, 4, out->object, e) == -1 ||
	    DB_COL_BUF(r, 5, outcome, e) == -1 ||
	    DB_COL_BUF(r, 6, out->detail, e) == -1)
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

/* Read a 0/1 column 0 into a bool. */
static int
read_flag(const struct db_row *r, void *out, struct err *e)
{
	(void)e;
	*(bool *)out = db_col_int(r, 0) != 0;
	return 0;
}

/*
 * The pruning, in c's open transaction: *n gets the number of entries
 * deleted; 1 when none is older than before (nothing to write).
 */
static int
prune_in(struct db_conn *c, int64_t before, size_t max,
    const struct audit_rec *a, int64_t *n, struct err *e)
{
	const struct db_arg older[] = { DB_INT(before) };
	const struct db_arg args[] = { DB_INT(before), DB_INT(max) };
	struct audit_rec r;
	bool old = false;

	if (db_get(c, DB_STMT_AUDIT_OLDEST, older, DB_NARGS(older), read_flag,
	    &old, "audit oldest", e) == -1)
		return -1;
	if (!old)
		return 1;
	/*
	 * The guard comes off and back on inside this transaction: other
	 * connections see the trigger throughout, and a failure anywhere
	 * rolls the drop back with the rest.
	 */
	if (db_exec(c, DB_STMT_AUDIT_GUARD_OFF, e) == -1 ||
	    (*n = db_run(c, DB_STMT_AUDIT_PRUNE, args, DB_NARGS(args),
	    "audit prune", e)) == -1 ||
	    db_exec(c, DB_STMT_AUDIT_GUARD_ON, e) == -1)
		return -1;
	r = *a;
	if (r.detail[0] != '\0')
		snprintf(r.detail, sizeof(r.detail), "deleted=%lld %.200s",
		    (long long)*n, a->detail);
	else
		snprintf(r.detail, sizeof(r.detail), "deleted=%lld",
		    (long long)*n);
	return db_audit_insert(c, &r, e);
}

int
db_audit_prune(struct db *db, int64_t before, size_t max,
    const struct audit_rec *a, int64_t *n, struct err *e)
{
	struct db_conn *c;
	int r;

	*n = 0;
	if (a == NULL || max == 0 || max > INT64_MAX) {
		err_set(e, ERR_INTERNAL, "invalid audit prune");
		return -1;
	}
	if ((c = db_conn_get(db, e)) == NULL || db_tx_begin(c, e) == -1)
		return -1;
	if ((r = prune_in(c, before, max, a, n, e)) != 0) {
		db_tx_rollback(c);
		*n = 0;
		return r == 1 ? 0 : -1;
	}
	if (db_tx_commit(c, e) == -1) {
		*n = 0;
		return -1;
	}
	return 0;
}

int
db_audit_list(struct db *db, int64_t after, size_t limit,
    struct audit_rec **out, size_t *n, int64_t *next, struct err *e)
{
	struct db_rows rows = { .read = db_audit_read, .size = sizeof(**out),
	    .max = db_limit(limit) };
	const struct db_arg args[] = { DB_INT(after), DB_INT(rows.max + 1) };
	int rc;

	rc = db_list(db, DB_STMT_AUDIT_LIST, args, DB_NARGS(args), &rows,
	    "audit list", e);
	*out = rows.v;
	*n = rows.n;
	*next = rows.more ? (*out)[rows.n - 1].id : 0;
	return rc;
}

void
db_audit_list_free(struct audit_rec *list, size_t n)
{
	(void)n;
	free(list);
}
