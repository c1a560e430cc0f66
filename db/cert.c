/*
 * Certificate inserts, with group commit: concurrent issuers queue
 * their rows and one leader stores a whole batch in one transaction,
 * so they share one durable COMMIT.
 */
#include <stdlib.h>
#include <string.h>

#include "priv.h"

/* Insert one certificate row in c's open transaction. */
static int
cert_insert_row(struct db_conn *c, const struct cert_rec *r,
    struct err *e)
{
	char *joined[NAME__MAX] = { NULL, NULL, NULL };
	int rc = -1, s;

	if (r->spki_sha256[0] != '\0') {
		s = db_key_blocked_in(c, r->spki_sha256, NULL, 0, e);
		if (s == -1)
			goto out;
		if (s == 1) {
			err_set(e, ERR_KEY_REJECTED, "the key was revoked as "
			    "compromised (keyCompromise) and is blocked");
			goto out;
		}
	}
	for (int k = 0; k < NAME__MAX; k++)
		if ((joined[k] = names_join(&r->names, (enum name_kind)k)) ==
		    NULL) {
			err_set(e, ERR_INTERNAL, "out of memory");
			goto out;
		}
	const struct db_arg args[] = {
		DB_BUF(r->serial), DB_BUF(r->profile),
		DB_TEXT(r->names.cn, RCA_MAX_NAME_LEN + 1),
		DB_TEXT(joined[NAME_DNS], SIZE_MAX),
		DB_TEXT(joined[NAME_IP], SIZE_MAX),
		DB_TEXT(joined[NAME_URI], SIZE_MAX),
		DB_TEXT(key_type_name(r->key_type), 16),
		DB_INT(r->not_before), DB_INT(r->not_after),
		r->revoked_at != 0 ? DB_INT(r->revoked_at) : DB_NULL,
		r->revoked_at != 0 ? DB_INT(r->reason) : DB_NULL,
		DB_BUF(r->fingerprint), DB_OPTBUF(r->node),
		DB_BUF(r->issued_by),
		DB_TEXT(r->pem, SIZE_MAX), DB_INT(r->created_at),
		DB_OPTBUF(r->spki_sha256),
	};
	if (db_run(c, DB_STMT_CERT_INSERT, args, DB_NARGS(args),
	    "certificate insert", e) == -1) {
		if (e->code == ERR_ALREADY_EXISTS)
			err_set(e, ERR_ALREADY_EXISTS,
			    "certificate serial already exists");
		goto out;
	}
	rc = 0;
out:
	for (int k = 0; k < NAME__MAX; k++)
		free(joined[k]);
	return rc;
}

/*
 * Run one batch of queued inserts in one transaction, each row in its
 * own savepoint so a bad row (a taken serial) fails alone.  Every item
 * starts as ERR_DB and becomes ERR_OK only once COMMIT has returned.
 */
static void
gc_run(struct db *db, struct db_gc_item *batch)
{
	struct db_gc_item *it;
	struct db_conn *c;
	struct err e;

	for (it = batch; it != NULL; it = it->next) {
		err_set(&it->err, ERR_DB, "database error");
		it->row_ok = false;
	}
	/* Only the leader, one at a time, touches db->gc_conn. */
	if (db->gc_conn == NULL)
		db->gc_conn = db_conn_new(db, &e);
	if ((c = db->gc_conn) == NULL || db_tx_begin(c, &e) == -1)
		return;
	for (it = batch; it != NULL; it = it->next) {
		if (db_exec(c, DB_STMT_SAVEPOINT, &e) == -1)
			goto abort;
		if ((it->token != NULL && db_token_use_in(c, it->token,
		    it->cert->created_at, &it->err) == -1) ||
		    cert_insert_row(c, it->cert, &it->err) == -1 ||
		    db_audit_insert(c, it->audit, &it->err) == -1) {
			if (db_exec(c, DB_STMT_ROLLBACK_TO, &e) == -1 ||
			    db_exec(c, DB_STMT_RELEASE, &e) == -1)
				goto abort;
			continue;
		}
		if (db_exec(c, DB_STMT_RELEASE, &e) == -1)
			goto abort;
		it->row_ok = true;
	}
	if (db_tx_commit(c, &e) == -1)
		return;
	for (it = batch; it != NULL; it = it->next)
		if (it->row_ok)
			err_clear(&it->err);
	return;
abort:
	db_tx_rollback(c);
	for (it = batch; it != NULL; it = it->next)
		if (it->row_ok)
			err_set(&it->err, ERR_DB, "database error");
}

/*
 * Group commit.  Each caller queues its row; whoever finds no batch
 * running becomes the leader, takes the whole queue, commits it, wakes
 * the batch's callers one by one and hands leadership to the first row
 * that queued meanwhile.  A lone caller is a batch of one and never
 * waits for company; rows that arrive during a commit form the next
 * batch.
 */
int
db_cert_insert(struct db *db, const struct cert_rec *c,
    const struct audit_rec *a, struct err *e)
{
	return db_cert_insert_use(db, c, NULL, a, e);
}

int
db_cert_insert_use(struct db *db, const struct cert_rec *c,
    const char *token, const struct audit_rec *a, struct err *e)
{
	struct db_gc_item item, *batch, *it, *next;
	size_t nbatch;

	if (c == NULL || c->serial[0] == '\0' || c->pem == NULL ||
	    (unsigned)c->key_type >= KEY__MAX) {
		err_set(e, ERR_INVALID_REQUEST, "incomplete certificate");
		return -1;
	}
	memset(&item, 0, sizeof(item));
	item.cert = c;
	item.audit = a;
	item.token = token;
	pthread_cond_init(&item.cv, NULL);

	pthread_mutex_lock(&db->gc_mu);
	*db->gc_tail = &item;
	db->gc_tail = &item.next;
	db->gc_pending++;
	while (!item.done) {
		if (db->gc_leader) {
			pthread_cond_wait(&item.cv, &db->gc_mu);
			continue;
		}
		db->gc_leader = true;
		batch = db->gc_head;
		nbatch = db->gc_pending;
		db->gc_head = NULL;
		db->gc_tail = &db->gc_head;
		db->gc_pending = 0;
		pthread_mutex_unlock(&db->gc_mu);

		gc_run(db, batch);

		pthread_mutex_lock(&db->gc_mu);
		/* Read next first: a done item's owner may return. */
		for (it = batch; it != NULL; it = next) {
			next = it->next;
			it->done = true;
			if (it != &item)
				pthread_cond_signal(&it->cv);
		}
		db->gc_leader = false;
		db->gc_batches++;
		if (nbatch > db->gc_max_batch)
			db->gc_max_batch = nbatch;
		if (db->gc_head != NULL)
			pthread_cond_signal(&db->gc_head->cv);
	}
	pthread_mutex_unlock(&db->gc_mu);
	pthread_cond_destroy(&item.cv);

	if (item.err.code != ERR_OK) {
		if (e != NULL)
			*e = item.err;
		return -1;
	}
	return 0;
}

