/*
 * Certificate inserts, with group commit: concurrent issuers queue
 * their rows and one leader stores a whole batch in one transaction,
 * so they share one durable COMMIT.
 */
#include <stdlib.h>
#include <string.h>

#include "drv.h"

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
		DB_INT(r->ca_id != 0 ? r->ca_id : 1),	/* 0: CA 1 */
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

/* The counters of one profile, as a batch adds to them. */
struct counts_delta {
	const char	*profile;	/* borrowed from the batch */
	int64_t		 issued;
	int64_t		 revoked;
	int64_t		 active;
};

/*
 * Add a batch's stored rows to the counters of migration 3 in c's open
 * transaction: one DB_STMT_COUNTS_ADD per profile (at most one per
 * row), then the mark moved to the newest created_at if that is later.
 */
static int
counts_batch(struct db_conn *c, const struct db_gc_item *batch,
    struct err *e)
{
	struct counts_delta *d = NULL;
	const struct db_gc_item *it;
	const struct cert_rec *r;
	size_t n = 0, cap = 0, i;
	int64_t mark = 0, newest = INT64_MIN;
	int rc = -1;

	for (it = batch; it != NULL; it = it->next)
		cap++;
	if ((d = calloc(cap, sizeof(*d))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	if (db_get(c, DB_STMT_COUNTS_MARK, NULL, 0, db_int_read, &mark,
	    "counters mark", e) != 1)
		goto out;
	for (it = batch; it != NULL; it = it->next) {
		if (!it->row_ok)
			continue;
		r = it->cert;
		for (i = 0; i < n && strcmp(d[i].profile, r->profile) != 0;
		    i++)
			continue;
		if (i == n)
			d[n++].profile = r->profile;
		d[i].issued++;
		d[i].revoked += r->revoked_at != 0;
		d[i].active += r->revoked_at == 0 && r->not_after >= mark;
		if (r->created_at > newest)
			newest = r->created_at;
	}
	for (i = 0; i < n; i++) {
		const struct db_arg args[] = {
			DB_TEXT(d[i].profile, RCA_MAX_PROFILE_NAME + 1),
			DB_INT(d[i].issued), DB_INT(d[i].revoked),
			DB_INT(d[i].active),
		};
		if (db_run(c, DB_STMT_COUNTS_ADD, args, DB_NARGS(args),
		    "counters add", e) == -1)
			goto out;
	}
	const struct db_arg t[] = { DB_INT(newest) };
	if (n > 0 && newest > mark && (db_run(c, DB_STMT_COUNTS_EXPIRE, t,
	    DB_NARGS(t), "counters expire", e) == -1 ||
	    db_run(c, DB_STMT_COUNTS_MOVE, t, DB_NARGS(t), "counters move",
	    e) == -1))
		goto out;
	rc = 0;
out:
	free(d);
	return rc;
}

/*
 * A row of a failed batch: a lost or read-only database says so (503
 * to a client), anything else is the opaque ERR_DB.
 */
static void
gc_fail(struct db_gc_item *it, const struct err *e)
{
	if (e->code == ERR_READ_ONLY || e->code == ERR_UNAVAILABLE)
		it->err = *e;
	else
		err_set(&it->err, ERR_DB, "database error");
}

/*
 * Run one batch of queued inserts in one transaction, each row in its
 * own savepoint so a bad row (a taken serial) fails alone.  Every item
 * starts as ERR_DB and becomes ERR_OK only once COMMIT has returned.
 */
static void
gc_run(struct db_conn *c, struct db_gc_item *batch)
{
	struct db_gc_item *it;
	struct err e;

	err_clear(&e);
	for (it = batch; it != NULL; it = it->next) {
		err_set(&it->err, ERR_DB, "database error");
		it->row_ok = false;
	}
	if (c == NULL || db_tx_begin(c, &e) == -1)
		goto fail;
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
	if (counts_batch(c, batch, &e) == -1)
		goto abort;
	if (db_tx_commit(c, &e) == -1)
		goto fail;
	for (it = batch; it != NULL; it = it->next)
		if (it->row_ok)
			err_clear(&it->err);
	return;
abort:
	db_tx_rollback(c);
fail:
	for (it = batch; it != NULL; it = it->next)
		if (it->row_ok || e.code == ERR_READ_ONLY ||
		    e.code == ERR_UNAVAILABLE)
			gc_fail(it, &e);
}

/*
 * PostgreSQL: no group commit (concurrency comes from one connection
 * per thread); the row is a batch of one on this thread's connection,
 * run again after a deadlock or serialization failure.
 */
static void
gc_alone(struct db *db, struct db_gc_item *item)
{
	struct db_conn *c;
	struct err e;

	if ((c = db_conn_get(db, &e)) == NULL) {
		item->err = e;
		return;
	}
	/* A deadlock or serialization failure: run it again (db_write). */
	for (int i = 0; i < DB_TX_TRIES; i++) {
		c->conflict = false;
		gc_run(c, item);
		if (item->err.code == ERR_OK || !c->conflict)
			break;
		db_backoff(i);
	}
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
	if (!db->drv->wmu) {
		gc_alone(db, &item);
		goto out;
	}
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

		/* Only the leader, one at a time, touches db->gc_conn. */
		if (db->gc_conn == NULL)
			db->gc_conn = db_conn_new(db, &item.err);
		gc_run(db->gc_conn, batch);

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
out:
	if (item.err.code != ERR_OK) {
		if (e != NULL)
			*e = item.err;
		return -1;
	}
	return 0;
}

