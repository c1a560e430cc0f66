/*
 * Certificates: insert (with group commit, so concurrent issuers share
 * one durable COMMIT), get, filtered lists with keyset pagination,
 * revoke, the CRL's revoked set and per-profile counts.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "priv.h"

/* Copy a client-given serial, lowercased; false when it cannot exist. */
static bool
serial_key(const char *in, char out[RCA_SERIAL_HEX_MAX + 1])
{
	size_t i;

	if (in == NULL)
		return false;
	for (i = 0; in[i] != '\0'; i++) {
		if (i == RCA_SERIAL_HEX_MAX)
			return false;
		out[i] = (char)tolower((unsigned char)in[i]);
	}
	out[i] = '\0';
	return i > 0;
}

static int
corrupt(sqlite3_stmt *st, const char *what, struct err *e)
{
	log_error("db: certificate %lld: bad %s",
	    (long long)sqlite3_column_int64(st, 0), what);
	err_set(e, ERR_DB, "database error");
	return -1;
}

/* Read a row of CERT_COLS into out (cleared first; cleared on error). */
static int
cert_read(sqlite3_stmt *st, struct cert_rec *out, struct err *e)
{
	char kt[16];
	bool ok;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	out->reason = -1;
	out->id = sqlite3_column_int64(st, 0);
	if (DB_COL_BUF(st, 1, out->serial, e) == -1 ||
	    DB_COL_BUF(st, 2, out->profile, e) == -1)
		goto out;
	out->names.cn = db_col_dup(st, 3, &ok);
	if (!ok) {
		err_set(e, ERR_DB, "database error");
		goto out;
	}
	for (int k = 0; k < NAME__MAX; k++)
		if (names_split(&out->names, (enum name_kind)k,
		    (const char *)sqlite3_column_text(st, 4 + k), e) == -1) {
			corrupt(st, "names", e);
			goto out;
		}
	if (DB_COL_BUF(st, 7, kt, e) == -1)
		goto out;
	if (key_type_parse(kt, &out->key_type) == -1) {
		corrupt(st, "key_type", e);
		goto out;
	}
	out->not_before = sqlite3_column_int64(st, 8);
	out->not_after = sqlite3_column_int64(st, 9);
	if (sqlite3_column_type(st, 10) != SQLITE_NULL) {
		out->revoked_at = sqlite3_column_int64(st, 10);
		out->reason = sqlite3_column_int(st, 11);
	}
	if (DB_COL_BUF(st, 12, out->fingerprint, e) == -1 ||
	    DB_COL_BUF(st, 13, out->node, e) == -1 ||
	    DB_COL_BUF(st, 14, out->issued_by, e) == -1)
		goto out;
	if ((out->pem = db_col_dup(st, 15, &ok)) == NULL) {
		corrupt(st, "pem", e);
		goto out;
	}
	out->created_at = sqlite3_column_int64(st, 16);
	if (DB_COL_BUF(st, 17, out->spki_sha256, e) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1)
		cert_rec_clear(out);
	return rc;
}

/*
 * Is the key with this hash blocked?  In the caller's transaction, so
 * a certificate is never stored for a key a keyCompromise revocation
 * committed before it.  Returns 1 (blocked), 0, or -1.
 */
static int
key_blocked(struct db_conn *c, const char *spki, struct err *e)
{
	sqlite3_stmt *st;
	int s;

	if ((st = db_stmt(c, DB_STMT_KEY_BLOCKED, e)) == NULL)
		return -1;
	if (db_bind_text(c, st, 1, spki, RCA_SHA256_HEX + 1, e) == -1)
		s = -1;
	else
		s = db_step(c, st, "blocked key", e);
	db_stmt_done(st);
	return s == -1 ? -1 : s == SQLITE_ROW;
}

/* Insert one certificate row in c's open transaction. */
static int
cert_insert_row(struct db_conn *c, const struct cert_rec *r,
    struct err *e)
{
	sqlite3_stmt *st = NULL;
	char *joined[NAME__MAX] = { NULL, NULL, NULL };
	int rc = -1, s;

	if (r->spki_sha256[0] != '\0') {
		if ((s = key_blocked(c, r->spki_sha256, e)) == -1)
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
	if ((st = db_stmt(c, DB_STMT_CERT_INSERT, e)) == NULL)
		goto out;
	if (DB_BIND_BUF(c, st, 1, r->serial, e) == -1 ||
	    DB_BIND_BUF(c, st, 2, r->profile, e) == -1 ||
	    db_bind_text(c, st, 3, r->names.cn, RCA_MAX_NAME_LEN + 1,
	    e) == -1 ||
	    db_bind_text(c, st, 4, joined[NAME_DNS], SIZE_MAX, e) == -1 ||
	    db_bind_text(c, st, 5, joined[NAME_IP], SIZE_MAX, e) == -1 ||
	    db_bind_text(c, st, 6, joined[NAME_URI], SIZE_MAX, e) == -1 ||
	    db_bind_text(c, st, 7, key_type_name(r->key_type), 16, e) == -1 ||
	    db_bind_int(c, st, 8, r->not_before, e) == -1 ||
	    db_bind_int(c, st, 9, r->not_after, e) == -1)
		goto out;
	if (r->revoked_at != 0) {
		if (db_bind_int(c, st, 10, r->revoked_at, e) == -1 ||
		    db_bind_int(c, st, 11, r->reason, e) == -1)
			goto out;
	} else if (db_bind_null(c, st, 10, e) == -1 ||
	    db_bind_null(c, st, 11, e) == -1)
		goto out;
	if (DB_BIND_BUF(c, st, 12, r->fingerprint, e) == -1 ||
	    db_bind_opt(c, st, 13, r->node, sizeof(r->node), e) == -1 ||
	    DB_BIND_BUF(c, st, 14, r->issued_by, e) == -1 ||
	    db_bind_text(c, st, 15, r->pem, SIZE_MAX, e) == -1 ||
	    db_bind_int(c, st, 16, r->created_at, e) == -1 ||
	    db_bind_opt(c, st, 17, r->spki_sha256, sizeof(r->spki_sha256),
	    e) == -1)
		goto out;
	if ((s = db_step(c, st, "certificate insert", e)) != SQLITE_DONE) {
		if (s == -1 && e != NULL && e->code == ERR_ALREADY_EXISTS)
			err_set(e, ERR_ALREADY_EXISTS,
			    "certificate serial already exists");
		goto out;
	}
	rc = 0;
out:
	db_stmt_done(st);
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

int
db_cert_get(struct db *db, const char *serial, struct cert_rec *out,
    struct err *e)
{
	char key[RCA_SERIAL_HEX_MAX + 1];
	struct db_conn *c;
	sqlite3_stmt *st = NULL;
	int rc = -1, s;

	memset(out, 0, sizeof(*out));
	out->reason = -1;
	if (!serial_key(serial, key)) {
		err_set(e, ERR_NOT_FOUND, "certificate not found");
		return -1;
	}
	if ((c = db_conn_get(db, e)) == NULL)
		return -1;
	if ((st = db_stmt(c, DB_STMT_CERT_GET, e)) == NULL ||
	    DB_BIND_BUF(c, st, 1, key, e) == -1)
		goto out;
	if ((s = db_step(c, st, "certificate get", e)) == -1)
		goto out;
	if (s == SQLITE_DONE) {
		err_set(e, ERR_NOT_FOUND, "certificate not found");
		goto out;
	}
	if (cert_read(st, out, e) == -1)
		goto out;
	rc = 0;
out:
	db_stmt_done(st);
	return rc;
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
	struct db_conn *c;
	sqlite3_stmt *st = NULL;
	struct cert_rec *list = NULL;
	size_t cnt = 0, limit = db_limit(f->limit);
	int s, rc = -1;

	*out = NULL;
	*n = 0;
	*next = 0;
	if (f->status < -1 || f->status >= CERT_STATUS__MAX) {
		err_set(e, ERR_INVALID_REQUEST, "invalid status filter");
		return -1;
	}
	if ((c = db_conn_get(db, e)) == NULL)
		return -1;
	if ((st = db_stmt(c, list_stmt(f), e)) == NULL)
		goto out;
	if (db_bind_int(c, st, 1, f->after, e) == -1 ||
	    db_bind_int(c, st, 2, f->status, e) == -1 ||
	    db_bind_int(c, st, 3, f->now, e) == -1 ||
	    db_bind_text(c, st, 4, f->profile, RCA_MAX_PROFILE_NAME + 1,
	    e) == -1 ||
	    db_bind_text(c, st, 5, f->common_name, RCA_MAX_NAME_LEN + 1,
	    e) == -1 ||
	    db_bind_text(c, st, 6, f->node, RCA_MAX_NODE_NAME + 1, e) == -1 ||
	    db_bind_int(c, st, 7, f->expires_before, e) == -1 ||
	    db_bind_int(c, st, 8, (int64_t)limit + 1, e) == -1)
		goto out;
	if ((list = calloc(limit, sizeof(*list))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	while ((s = db_step(c, st, "certificate list", e)) == SQLITE_ROW) {
		if (cnt == limit) {
			*next = list[cnt - 1].id;
			break;
		}
		if (cert_read(st, &list[cnt], e) == -1)
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
	if (list != NULL)
		db_cert_list_free(list, cnt);
	if (rc == -1)
		*next = 0;
	return rc;
}

void
db_cert_list_free(struct cert_rec *list, size_t n)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		cert_rec_clear(&list[i]);
	free(list);
}

/* After an UPDATE that changed nothing: why? */
static int
revoke_refused(struct db_conn *c, const char *key, struct err *e)
{
	sqlite3_stmt *st;
	int s;

	if ((st = db_stmt(c, DB_STMT_CERT_EXISTS, e)) == NULL)
		return -1;
	if (db_bind_text(c, st, 1, key, RCA_SERIAL_HEX_MAX + 1, e) == 0 &&
	    (s = db_step(c, st, "certificate exists", e)) != -1) {
		if (s == SQLITE_ROW)
			err_set(e, ERR_ALREADY_REVOKED,
			    "certificate already revoked");
		else
			err_set(e, ERR_NOT_FOUND, "certificate not found");
	}
	db_stmt_done(st);
	return -1;
}

/* A lowercase SHA-256 hex string. */
static bool
spki_valid(const char *h)
{
	size_t i;

	if (h == NULL)
		return false;
	for (i = 0; h[i] != '\0'; i++)
		if (i == RCA_SHA256_HEX || !((h[i] >= '0' && h[i] <= '9') ||
		    (h[i] >= 'a' && h[i] <= 'f')))
			return false;
	return i == RCA_SHA256_HEX;
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
	char (*serials)[RCA_SERIAL_HEX_MAX + 1] = NULL;
	void *p;
	struct audit_rec ar;
	sqlite3_stmt *st = NULL;
	size_t cnt = 0, cap = 0;
	int rc = -1, s;

	*n = 0;
	if ((st = db_stmt(c, DB_STMT_KEY_BLOCK, e)) == NULL ||
	    db_bind_text(c, st, 1, spki, RCA_SHA256_HEX + 1, e) == -1 ||
	    db_bind_text(c, st, 2, serial, RCA_SERIAL_HEX_MAX + 1, e) == -1 ||
	    db_bind_int(c, st, 3, at, e) == -1 ||
	    db_step(c, st, "key block", e) == -1)
		goto out;
	db_stmt_done(st);
	if ((st = db_stmt(c, DB_STMT_CERT_REVOKE_SAME_KEY, e)) == NULL ||
	    db_bind_int(c, st, 1, at, e) == -1 ||
	    db_bind_int(c, st, 2, REASON_KEY_COMPROMISE, e) == -1 ||
	    db_bind_text(c, st, 3, spki, RCA_SHA256_HEX + 1, e) == -1)
		goto out;
	/* Collect first: the audit inserts run on the same connection. */
	while ((s = db_step(c, st, "same-key revoke", e)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			p = reallocarray(serials, cap, sizeof(*serials));
			if (p == NULL) {
				err_set(e, ERR_INTERNAL, "out of memory");
				goto out;
			}
			serials = p;
		}
		if (DB_COL_BUF(st, 0, serials[cnt], e) == -1)
			goto out;
		cnt++;
	}
	if (s == -1)
		goto out;
	db_stmt_done(st);
	st = NULL;
	for (size_t i = 0; sibling != NULL && i < cnt; i++) {
		ar = *sibling;
		snprintf(ar.object, sizeof(ar.object), "%s", serials[i]);
		if (db_audit_insert(c, &ar, e) == -1)
			goto out;
	}
	*n = cnt;
	rc = 0;
out:
	db_stmt_done(st);
	free(serials);
	return rc;
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
	struct cert_rec row;
	struct db_conn *c;
	sqlite3_stmt *st = NULL;
	int rc = -1, s;

	memset(&row, 0, sizeof(row));
	if (out != NULL) {
		memset(out, 0, sizeof(*out));
		out->reason = -1;
	}
	if (!serial_key(serial, key)) {
		err_set(e, ERR_NOT_FOUND, "certificate not found");
		return -1;
	}
	if (reason < 0 || reason > 10 || reason == 7 || at <= 0) {
		err_set(e, ERR_INVALID_REQUEST, "invalid revocation");
		return -1;
	}
	if (spki != NULL && !spki_valid(spki)) {
		err_set(e, ERR_INVALID_REQUEST, "invalid key hash");
		return -1;
	}
	if ((c = db_conn_get(db, e)) == NULL || db_tx_begin(c, e) == -1)
		return -1;
	if ((st = db_stmt(c, DB_STMT_CERT_REVOKE, e)) == NULL)
		goto out;
	if (db_bind_int(c, st, 1, at, e) == -1 ||
	    db_bind_int(c, st, 2, reason, e) == -1 ||
	    DB_BIND_BUF(c, st, 3, key, e) == -1)
		goto out;
	if ((s = db_step(c, st, "certificate revoke", e)) == -1)
		goto out;
	if (s == SQLITE_DONE) {
		db_stmt_done(st);
		st = NULL;
		revoke_refused(c, key, e);
		goto out;
	}
	if (cert_read(st, &row, e) == -1)
		goto out;
	if ((s = db_step(c, st, "certificate revoke", e)) == -1)
		goto out;
	if (s == SQLITE_ROW) {
		db_fail(c, "certificate revoke: serial not unique", e);
		goto out;
	}
	db_stmt_done(st);
	st = NULL;
	if (db_audit_insert(c, a, e) == -1)
		goto out;
	if (spki != NULL && revoke_same_key(c, spki, key, at, sibling, nsib,
	    e) == -1)
		goto out;
	rc = db_tx_commit(c, e);
	if (rc == 0 && out != NULL) {
		*out = row;
		memset(&row, 0, sizeof(row));
	}
	cert_rec_clear(&row);
	return rc;
out:
	db_stmt_done(st);
	db_tx_rollback(c);
	cert_rec_clear(&row);
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

int
db_key_block(struct db *db, const char *spki, const char *serial,
    int64_t at, struct err *e)
{
	struct db_conn *c;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (!spki_valid(spki) || serial == NULL || at <= 0) {
		err_set(e, ERR_INVALID_REQUEST, "invalid key block");
		return -1;
	}
	if ((c = db_conn_get(db, e)) == NULL || db_tx_begin(c, e) == -1)
		return -1;
	if ((st = db_stmt(c, DB_STMT_KEY_BLOCK, e)) == NULL ||
	    db_bind_text(c, st, 1, spki, RCA_SHA256_HEX + 1, e) == -1 ||
	    db_bind_text(c, st, 2, serial, RCA_SERIAL_HEX_MAX + 1, e) == -1 ||
	    db_bind_int(c, st, 3, at, e) == -1 ||
	    db_step(c, st, "key block", e) == -1)
		goto out;
	db_stmt_done(st);
	st = NULL;
	return db_tx_commit(c, e);
out:
	db_stmt_done(st);
	db_tx_rollback(c);
	return rc;
}

int
db_key_blocked(struct db *db, const char *spki, char *serial,
    size_t cap, struct err *e)
{
	struct db_conn *c;
	sqlite3_stmt *st = NULL;
	int rc = -1, s;

	if (serial != NULL && cap > 0)
		serial[0] = '\0';
	if (!spki_valid(spki)) {
		err_set(e, ERR_INVALID_REQUEST, "invalid key hash");
		return -1;
	}
	if ((c = db_conn_get(db, e)) == NULL)
		return -1;
	if ((st = db_stmt(c, DB_STMT_KEY_BLOCKED, e)) == NULL ||
	    db_bind_text(c, st, 1, spki, RCA_SHA256_HEX + 1, e) == -1 ||
	    (s = db_step(c, st, "blocked key", e)) == -1)
		goto out;
	if (s == SQLITE_ROW && serial != NULL && cap > 0 &&
	    db_col_text(st, 0, serial, cap, e) == -1)
		goto out;
	rc = s == SQLITE_ROW;
out:
	db_stmt_done(st);
	return rc;
}

int
db_cert_spki_missing(struct db *db, int64_t after, size_t limit,
    struct db_spki_row **out, size_t *n, struct err *e)
{
	struct db_conn *c;
	sqlite3_stmt *st = NULL;
	struct db_spki_row *list = NULL;
	size_t cnt = 0;
	bool ok;
	int s, rc = -1;

	*out = NULL;
	*n = 0;
	limit = db_limit(limit);
	if ((c = db_conn_get(db, e)) == NULL)
		return -1;
	if ((st = db_stmt(c, DB_STMT_CERT_SPKI_MISSING, e)) == NULL ||
	    db_bind_int(c, st, 1, after, e) == -1 ||
	    db_bind_int(c, st, 2, (int64_t)limit, e) == -1)
		goto out;
	if ((list = calloc(limit, sizeof(*list))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	while ((s = db_step(c, st, "key hash backfill", e)) == SQLITE_ROW) {
		list[cnt].id = sqlite3_column_int64(st, 0);
		if (DB_COL_BUF(st, 1, list[cnt].serial, e) == -1)
			goto out;
		if ((list[cnt].pem = db_col_dup(st, 2, &ok)) == NULL) {
			corrupt(st, "pem", e);
			goto out;
		}
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
	db_cert_spki_rows_free(list, cnt);
	return rc;
}

void
db_cert_spki_rows_free(struct db_spki_row *rows, size_t n)
{
	if (rows == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(rows[i].pem);
	free(rows);
}

int
db_cert_spki_set(struct db *db, const struct db_spki_row *rows, size_t n,
    struct err *e)
{
	struct db_conn *c;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	for (size_t i = 0; i < n; i++)
		if (rows[i].spki_sha256[0] != '\0' &&
		    !spki_valid(rows[i].spki_sha256)) {
			err_set(e, ERR_INVALID_REQUEST, "invalid key hash");
			return -1;
		}
	if ((c = db_conn_get(db, e)) == NULL || db_tx_begin(c, e) == -1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		/* A row whose hash could not be computed stays NULL. */
		if (rows[i].spki_sha256[0] == '\0')
			continue;
		if ((st = db_stmt(c, DB_STMT_CERT_SET_SPKI, e)) == NULL ||
		    DB_BIND_BUF(c, st, 1, rows[i].spki_sha256, e) == -1 ||
		    db_bind_int(c, st, 2, rows[i].id, e) == -1 ||
		    db_step(c, st, "key hash backfill", e) == -1)
			goto out;
		db_stmt_done(st);
		st = NULL;
	}
	return db_tx_commit(c, e);
out:
	db_stmt_done(st);
	db_tx_rollback(c);
	return rc;
}

int
db_cert_revoked_unexpired(struct db *db, int64_t now,
    struct db_crl_row **out, size_t *n, struct err *e)
{
	struct db_conn *c;
	sqlite3_stmt *st = NULL;
	struct db_crl_row *list = NULL, *p;
	size_t cnt = 0, cap = 0;
	int s, rc = -1;

	*out = NULL;
	*n = 0;
	if ((c = db_conn_get(db, e)) == NULL)
		return -1;
	if ((st = db_stmt(c, DB_STMT_CERT_REVOKED_UNEXPIRED, e)) == NULL ||
	    db_bind_int(c, st, 1, now, e) == -1)
		goto out;
	while ((s = db_step(c, st, "revoked list", e)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			if ((p = reallocarray(list, cap, sizeof(*p))) ==
			    NULL) {
				err_set(e, ERR_INTERNAL, "out of memory");
				goto out;
			}
			list = p;
		}
		if (DB_COL_BUF(st, 0, list[cnt].serial, e) == -1)
			goto out;
		list[cnt].revoked_at = sqlite3_column_int64(st, 1);
		list[cnt].reason = sqlite3_column_int(st, 2);
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
	return rc;
}

int
db_cert_counts(struct db *db, int64_t now, struct db_profile_count **out,
    size_t *n, struct err *e)
{
	struct db_conn *c;
	sqlite3_stmt *st = NULL;
	struct db_profile_count *list = NULL, *p;
	size_t cnt = 0, cap = 0;
	int s, rc = -1;

	*out = NULL;
	*n = 0;
	if ((c = db_conn_get(db, e)) == NULL)
		return -1;
	if ((st = db_stmt(c, DB_STMT_CERT_COUNTS, e)) == NULL ||
	    db_bind_int(c, st, 1, now, e) == -1)
		goto out;
	while ((s = db_step(c, st, "certificate counts", e)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			if ((p = reallocarray(list, cap, sizeof(*p))) ==
			    NULL) {
				err_set(e, ERR_INTERNAL, "out of memory");
				goto out;
			}
			list = p;
		}
		if (DB_COL_BUF(st, 0, list[cnt].profile, e) == -1)
			goto out;
		list[cnt].issued = sqlite3_column_int64(st, 1);
		list[cnt].active = sqlite3_column_int64(st, 2);
		list[cnt].revoked = sqlite3_column_int64(st, 3);
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
	return rc;
}
