/*
 * Write transactions with their audit entry: the shape every change in
 * db/ has (take the write lock, BEGIN IMMEDIATE, write, append the audit
 * row, COMMIT durably; roll back on any failure; on PostgreSQL run it
 * again after a deadlock or serialization failure).
 */
#include "log.h"
#include "priv.h"

/* One try of db_write(): 0, or -1 with e set. */
static int
write_once(struct db_conn *c, db_tx_fn *run, void *arg,
    const struct audit_rec *a, struct err *e)
{
	int r;

	if (db_tx_begin(c, e) == -1)
		return -1;
	if ((r = run(c, arg, e)) == -1)
		goto fail;
	if (r == 1) {
		db_tx_rollback(c);
		return 0;
	}
	if (db_audit_insert(c, a, e) == -1)
		goto fail;
	return db_tx_commit(c, e);
fail:
	db_tx_rollback(c);
	return -1;
}

/*
 * A transaction that PostgreSQL aborted for a deadlock or a
 * serialization failure (c->conflict) is run again from the start, up
 * to DB_TX_TRIES times in all; then it is ERR_UNAVAILABLE.
 */
int
db_write(struct db *db, db_tx_fn *run, void *arg, const struct audit_rec *a,
    struct err *e)
{
	struct db_conn *c;
	int rc = -1;

	if ((c = db_conn_get(db, e)) == NULL)
		return -1;
	for (int i = 0; i < DB_TX_TRIES; i++) {
		c->conflict = false;
		if ((rc = write_once(c, run, arg, a, e)) == 0 || !c->conflict)
			break;
		log_info("db: write transaction conflicted, try %d of %d",
		    i + 1, DB_TX_TRIES);
		db_backoff(i);
	}
	return rc;
}

/* db_write1()'s transaction body: the one statement. */
static int
change_run(struct db_conn *c, void *arg, struct err *e)
{
	const struct db_change *ch = arg;
	int64_t n;

	if ((n = db_run(c, ch->id, ch->args, ch->nargs, ch->what, e)) == -1) {
		if (e->code == ERR_ALREADY_EXISTS && ch->exists_msg != NULL)
			err_set(e, ERR_ALREADY_EXISTS, "%s", ch->exists_msg);
		return -1;
	}
	if (n == 0 && ch->none != ERR_OK) {
		err_set(e, ch->none, "%s", ch->none_msg);
		return -1;
	}
	return 0;
}

int
db_write1(struct db *db, const struct db_change *ch,
    const struct audit_rec *a, struct err *e)
{
	struct db_change copy = *ch;
	struct err le;

	ERR_LOCAL(e, le);
	return db_write(db, change_run, &copy, a, e);
}
