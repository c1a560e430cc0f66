/*
 * Redis nodes whose certificates the service keeps fresh, and the
 * record of each rotation with its steps.  Deleting a node deletes its
 * rotations (ON DELETE CASCADE); the audit log keeps what happened.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "priv.h"

/* Read a row of NODE_COLS into out (cleared first; cleared on error). */
static int
node_read(sqlite3_stmt *st, struct node_rec *out, struct err *e)
{
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (DB_COL_BUF(st, 0, out->name, e) == -1 ||
	    DB_COL_BUF(st, 1, out->host, e) == -1)
		goto out;
	out->port = sqlite3_column_int(st, 2);
	if (DB_COL_BUF(st, 3, out->server_name, e) == -1)
		goto out;
	if (names_split(&out->sans, NAME_DNS,
	    (const char *)sqlite3_column_text(st, 4), e) == -1 ||
	    names_split(&out->sans, NAME_IP,
	    (const char *)sqlite3_column_text(st, 5), e) == -1) {
		log_error("db: node %s: bad sans", out->name);
		err_set(e, ERR_DB, "database error");
		goto out;
	}
	if (DB_COL_BUF(st, 6, out->cert_dir, e) == -1 ||
	    DB_COL_BUF(st, 7, out->cert_file, e) == -1 ||
	    DB_COL_BUF(st, 8, out->key_file, e) == -1 ||
	    DB_COL_BUF(st, 9, out->ca_file, e) == -1 ||
	    DB_COL_BUF(st, 10, out->profile, e) == -1)
		goto out;
	out->ttl = sqlite3_column_int64(st, 11);
	if (DB_COL_BUF(st, 12, out->auth_username, e) == -1 ||
	    DB_COL_BUF(st, 13, out->auth_password_file, e) == -1 ||
	    DB_COL_BUF(st, 14, out->current_serial, e) == -1)
		goto out;
	out->not_after = sqlite3_column_int64(st, 15);
	out->last_rotation_id = sqlite3_column_int64(st, 16);
	out->failures = sqlite3_column_int(st, 17);
	out->next_attempt_at = sqlite3_column_int64(st, 18);
	out->created_at = sqlite3_column_int64(st, 19);
	rc = 0;
out:
	if (rc == -1)
		node_rec_clear(out);
	return rc;
}

int
db_node_insert(struct db *db, const struct node_rec *n,
    const struct audit_rec *a, struct err *e)
{
	struct db_conn *c;
	sqlite3_stmt *st = NULL;
	char *dns = NULL, *ip = NULL;
	int rc = -1, s;

	if (n == NULL || n->name[0] == '\0') {
		err_set(e, ERR_INVALID_REQUEST, "incomplete node");
		return -1;
	}
	if ((dns = names_join(&n->sans, NAME_DNS)) == NULL ||
	    (ip = names_join(&n->sans, NAME_IP)) == NULL) {
		free(dns);
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	if ((c = db_conn_get(db, e)) == NULL || db_tx_begin(c, e) == -1) {
		free(dns);
		free(ip);
		return -1;
	}
	if ((st = db_stmt(c, DB_STMT_NODE_INSERT, e)) == NULL)
		goto out;
	if (DB_BIND_BUF(c, st, 1, n->name, e) == -1 ||
	    DB_BIND_BUF(c, st, 2, n->host, e) == -1 ||
	    db_bind_int(c, st, 3, n->port, e) == -1 ||
	    DB_BIND_BUF(c, st, 4, n->server_name, e) == -1 ||
	    db_bind_text(c, st, 5, dns, SIZE_MAX, e) == -1 ||
	    db_bind_text(c, st, 6, ip, SIZE_MAX, e) == -1 ||
	    DB_BIND_BUF(c, st, 7, n->cert_dir, e) == -1 ||
	    DB_BIND_BUF(c, st, 8, n->cert_file, e) == -1 ||
	    DB_BIND_BUF(c, st, 9, n->key_file, e) == -1 ||
	    DB_BIND_BUF(c, st, 10, n->ca_file, e) == -1 ||
	    DB_BIND_BUF(c, st, 11, n->profile, e) == -1 ||
	    db_bind_int(c, st, 12, n->ttl, e) == -1 ||
	    DB_BIND_BUF(c, st, 13, n->auth_username, e) == -1 ||
	    DB_BIND_BUF(c, st, 14, n->auth_password_file, e) == -1 ||
	    DB_BIND_BUF(c, st, 15, n->current_serial, e) == -1 ||
	    db_bind_int(c, st, 16, n->not_after, e) == -1 ||
	    db_bind_int(c, st, 17, n->last_rotation_id, e) == -1 ||
	    db_bind_int(c, st, 18, n->failures, e) == -1 ||
	    db_bind_int(c, st, 19, n->next_attempt_at, e) == -1 ||
	    db_bind_int(c, st, 20, n->created_at, e) == -1)
		goto out;
	if ((s = db_step(c, st, "node insert", e)) != SQLITE_DONE) {
		if (s == -1 && e != NULL && e->code == ERR_ALREADY_EXISTS)
			err_set(e, ERR_ALREADY_EXISTS, "node already exists");
		goto out;
	}
	db_stmt_done(st);
	st = NULL;
	if (db_audit_insert(c, a, e) == -1)
		goto out;
	rc = db_tx_commit(c, e);
	free(dns);
	free(ip);
	return rc;
out:
	db_stmt_done(st);
	db_tx_rollback(c);
	free(dns);
	free(ip);
	return rc;
}

int
db_node_get(struct db *db, const char *name, struct node_rec *out,
    struct err *e)
{
	struct db_conn *c;
	sqlite3_stmt *st = NULL;
	int rc = -1, s;

	memset(out, 0, sizeof(*out));
	if ((c = db_conn_get(db, e)) == NULL)
		return -1;
	if ((st = db_stmt(c, DB_STMT_NODE_GET, e)) == NULL)
		goto out;
	if (db_bind_text(c, st, 1, name, RCA_MAX_NODE_NAME + 1, e) == -1) {
		err_set(e, ERR_NOT_FOUND, "node not found");
		goto out;
	}
	if ((s = db_step(c, st, "node get", e)) == -1)
		goto out;
	if (s == SQLITE_DONE) {
		err_set(e, ERR_NOT_FOUND, "node not found");
		goto out;
	}
	if (node_read(st, out, e) == -1)
		goto out;
	rc = 0;
out:
	db_stmt_done(st);
	return rc;
}

int
db_node_list(struct db *db, const char *after, size_t limit,
    struct node_rec **out, size_t *n, char next[RCA_MAX_NODE_NAME + 1],
    struct err *e)
{
	struct db_conn *c;
	sqlite3_stmt *st = NULL;
	struct node_rec *list = NULL;
	size_t cnt = 0;
	int s, rc = -1;

	*out = NULL;
	*n = 0;
	next[0] = '\0';
	limit = db_limit(limit);
	if ((c = db_conn_get(db, e)) == NULL)
		return -1;
	if ((st = db_stmt(c, DB_STMT_NODE_LIST, e)) == NULL)
		goto out;
	if (db_bind_text(c, st, 1, after != NULL ? after : "",
	    RCA_MAX_NODE_NAME + 1, e) == -1 ||
	    db_bind_int(c, st, 2, (int64_t)limit + 1, e) == -1)
		goto out;
	if ((list = calloc(limit, sizeof(*list))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	while ((s = db_step(c, st, "node list", e)) == SQLITE_ROW) {
		if (cnt == limit) {
			memcpy(next, list[cnt - 1].name, sizeof(list->name));
			break;
		}
		if (node_read(st, &list[cnt], e) == -1)
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
		db_node_list_free(list, cnt);
	if (rc == -1)
		next[0] = '\0';
	return rc;
}

void
db_node_list_free(struct node_rec *list, size_t n)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		node_rec_clear(&list[i]);
	free(list);
}

int
db_node_delete(struct db *db, const char *name, const struct audit_rec *a,
    struct err *e)
{
	struct db_conn *c;
	sqlite3_stmt *st = NULL;

	if (name == NULL || strnlen(name, RCA_MAX_NODE_NAME + 1) >
	    RCA_MAX_NODE_NAME) {
		err_set(e, ERR_NOT_FOUND, "node not found");
		return -1;
	}
	if ((c = db_conn_get(db, e)) == NULL || db_tx_begin(c, e) == -1)
		return -1;
	if ((st = db_stmt(c, DB_STMT_NODE_DELETE, e)) == NULL ||
	    db_bind_text(c, st, 1, name, RCA_MAX_NODE_NAME + 1, e) == -1 ||
	    db_step(c, st, "node delete", e) != SQLITE_DONE)
		goto out;
	db_stmt_done(st);
	st = NULL;
	if (sqlite3_changes(c->h) == 0) {
		err_set(e, ERR_NOT_FOUND, "node not found");
		goto out;
	}
	if (db_audit_insert(c, a, e) == -1)
		goto out;
	return db_tx_commit(c, e);
out:
	db_stmt_done(st);
	db_tx_rollback(c);
	return -1;
}

int
db_node_update_state(struct db *db, const struct node_rec *n,
    struct err *e)
{
	struct db_conn *c;
	sqlite3_stmt *st = NULL;

	if ((c = db_conn_get(db, e)) == NULL || db_tx_begin(c, e) == -1)
		return -1;
	if ((st = db_stmt(c, DB_STMT_NODE_UPDATE_STATE, e)) == NULL)
		goto out;
	if (DB_BIND_BUF(c, st, 1, n->current_serial, e) == -1 ||
	    db_bind_int(c, st, 2, n->not_after, e) == -1 ||
	    db_bind_int(c, st, 3, n->last_rotation_id, e) == -1 ||
	    db_bind_int(c, st, 4, n->failures, e) == -1 ||
	    db_bind_int(c, st, 5, n->next_attempt_at, e) == -1 ||
	    DB_BIND_BUF(c, st, 6, n->name, e) == -1 ||
	    db_step(c, st, "node update", e) != SQLITE_DONE)
		goto out;
	db_stmt_done(st);
	st = NULL;
	if (sqlite3_changes(c->h) == 0) {
		err_set(e, ERR_NOT_FOUND, "node not found");
		goto out;
	}
	return db_tx_commit(c, e);
out:
	db_stmt_done(st);
	db_tx_rollback(c);
	return -1;
}

/* Insert r's steps for rotation id inside c's open transaction. */
static int
steps_insert(struct db_conn *c, int64_t id, const struct rotation_rec *r,
    struct err *e)
{
	sqlite3_stmt *st;
	int rc = 0;

	if ((st = db_stmt(c, DB_STMT_ROT_STEP_INSERT, e)) == NULL)
		return -1;
	for (size_t i = 0; i < r->nsteps && rc == 0; i++) {
		const struct rotation_step *s = &r->steps[i];

		if (db_bind_int(c, st, 1, id, e) == -1 ||
		    db_bind_int(c, st, 2, (int64_t)i, e) == -1 ||
		    DB_BIND_BUF(c, st, 3, s->step, e) == -1 ||
		    db_bind_int(c, st, 4, s->ok ? 1 : 0, e) == -1 ||
		    DB_BIND_BUF(c, st, 5, s->detail, e) == -1 ||
		    db_step(c, st, "rotation step insert", e) != SQLITE_DONE)
			rc = -1;
		db_stmt_done(st);
	}
	return rc;
}

static bool
rotation_ok(const struct rotation_rec *r, struct err *e)
{
	if (r == NULL || r->node[0] == '\0' ||
	    (unsigned)r->status >= ROT_STATUS__MAX ||
	    r->nsteps > ROT_MAX_STEPS) {
		err_set(e, ERR_INVALID_REQUEST, "invalid rotation record");
		return false;
	}
	return true;
}

int
db_rotation_insert(struct db *db, struct rotation_rec *r, struct err *e)
{
	struct db_conn *c;
	sqlite3_stmt *st = NULL;
	int64_t id;
	int s;

	if (!rotation_ok(r, e))
		return -1;
	if ((c = db_conn_get(db, e)) == NULL || db_tx_begin(c, e) == -1)
		return -1;
	if ((st = db_stmt(c, DB_STMT_ROT_INSERT, e)) == NULL)
		goto out;
	if (DB_BIND_BUF(c, st, 1, r->node, e) == -1 ||
	    db_bind_text(c, st, 2, rotation_status_name(r->status), 16,
	    e) == -1 ||
	    DB_BIND_BUF(c, st, 3, r->old_serial, e) == -1 ||
	    DB_BIND_BUF(c, st, 4, r->new_serial, e) == -1 ||
	    db_bind_int(c, st, 5, r->started_at, e) == -1 ||
	    db_bind_int(c, st, 6, r->finished_at, e) == -1)
		goto out;
	if ((s = db_step(c, st, "rotation insert", e)) != SQLITE_DONE) {
		if (s == -1 && e != NULL && e->code == ERR_NOT_FOUND)
			err_set(e, ERR_NOT_FOUND, "node not found");
		goto out;
	}
	db_stmt_done(st);
	st = NULL;
	id = sqlite3_last_insert_rowid(c->h);
	if (steps_insert(c, id, r, e) == -1)
		goto out;
	if (db_tx_commit(c, e) == -1)
		return -1;
	r->id = id;
	return 0;
out:
	db_stmt_done(st);
	db_tx_rollback(c);
	return -1;
}

int
db_rotation_update(struct db *db, const struct rotation_rec *r,
    const struct audit_rec *a, struct err *e)
{
	struct db_conn *c;
	sqlite3_stmt *st = NULL;

	if (!rotation_ok(r, e))
		return -1;
	if ((c = db_conn_get(db, e)) == NULL || db_tx_begin(c, e) == -1)
		return -1;
	if ((st = db_stmt(c, DB_STMT_ROT_UPDATE, e)) == NULL)
		goto out;
	if (db_bind_text(c, st, 1, rotation_status_name(r->status), 16,
	    e) == -1 ||
	    DB_BIND_BUF(c, st, 2, r->old_serial, e) == -1 ||
	    DB_BIND_BUF(c, st, 3, r->new_serial, e) == -1 ||
	    db_bind_int(c, st, 4, r->finished_at, e) == -1 ||
	    db_bind_int(c, st, 5, r->id, e) == -1 ||
	    db_step(c, st, "rotation update", e) != SQLITE_DONE)
		goto out;
	db_stmt_done(st);
	st = NULL;
	if (sqlite3_changes(c->h) == 0) {
		err_set(e, ERR_NOT_FOUND, "rotation not found");
		goto out;
	}
	if ((st = db_stmt(c, DB_STMT_ROT_STEPS_DELETE, e)) == NULL ||
	    db_bind_int(c, st, 1, r->id, e) == -1 ||
	    db_step(c, st, "rotation steps delete", e) != SQLITE_DONE)
		goto out;
	db_stmt_done(st);
	st = NULL;
	if (steps_insert(c, r->id, r, e) == -1 ||
	    db_audit_insert(c, a, e) == -1)
		goto out;
	return db_tx_commit(c, e);
out:
	db_stmt_done(st);
	db_tx_rollback(c);
	return -1;
}

/* Read a row of ROT_COLS (without steps) into out. */
static int
rotation_read(sqlite3_stmt *st, struct rotation_rec *out, struct err *e)
{
	char status[16];
	int i;

	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(st, 0);
	if (DB_COL_BUF(st, 1, out->node, e) == -1 ||
	    DB_COL_BUF(st, 2, status, e) == -1 ||
	    DB_COL_BUF(st, 3, out->old_serial, e) == -1 ||
	    DB_COL_BUF(st, 4, out->new_serial, e) == -1)
		return -1;
	for (i = 0; i < ROT_STATUS__MAX; i++)
		if (strcmp(status, rotation_status_name(i)) == 0)
			break;
	if (i == ROT_STATUS__MAX) {
		log_error("db: rotation %lld: bad status",
		    (long long)out->id);
		err_set(e, ERR_DB, "database error");
		return -1;
	}
	out->status = (enum rotation_status)i;
	out->started_at = sqlite3_column_int64(st, 5);
	out->finished_at = sqlite3_column_int64(st, 6);
	return 0;
}

/* Load r's steps (r->id set). */
static int
steps_read(struct db_conn *c, struct rotation_rec *r, struct err *e)
{
	sqlite3_stmt *st;
	int s, rc = -1;

	r->nsteps = 0;
	if ((st = db_stmt(c, DB_STMT_ROT_STEPS_GET, e)) == NULL)
		return -1;
	if (db_bind_int(c, st, 1, r->id, e) == -1)
		goto out;
	while ((s = db_step(c, st, "rotation steps", e)) == SQLITE_ROW) {
		struct rotation_step *p = &r->steps[r->nsteps];

		if (r->nsteps == ROT_MAX_STEPS) {
			log_error("db: rotation %lld: too many steps",
			    (long long)r->id);
			err_set(e, ERR_DB, "database error");
			goto out;
		}
		if (DB_COL_BUF(st, 0, p->step, e) == -1 ||
		    DB_COL_BUF(st, 2, p->detail, e) == -1)
			goto out;
		p->ok = sqlite3_column_int(st, 1) != 0;
		r->nsteps++;
	}
	if (s == -1)
		goto out;
	rc = 0;
out:
	db_stmt_done(st);
	return rc;
}

int
db_rotation_get(struct db *db, int64_t id, struct rotation_rec *out,
    struct err *e)
{
	struct db_conn *c;
	sqlite3_stmt *st = NULL;
	int rc = -1, s;

	memset(out, 0, sizeof(*out));
	if ((c = db_conn_get(db, e)) == NULL || db_read_begin(c, e) == -1)
		return -1;
	if ((st = db_stmt(c, DB_STMT_ROT_GET, e)) == NULL ||
	    db_bind_int(c, st, 1, id, e) == -1 ||
	    (s = db_step(c, st, "rotation get", e)) == -1)
		goto out;
	if (s == SQLITE_DONE) {
		err_set(e, ERR_NOT_FOUND, "rotation not found");
		goto out;
	}
	if (rotation_read(st, out, e) == -1)
		goto out;
	db_stmt_done(st);
	st = NULL;
	if (steps_read(c, out, e) == -1)
		goto out;
	rc = 0;
out:
	db_stmt_done(st);
	db_read_end(c);
	if (rc == -1)
		memset(out, 0, sizeof(*out));
	return rc;
}

int
db_rotation_list(struct db *db, const char *node, int64_t before,
    size_t limit, struct rotation_rec **out, size_t *n, int64_t *next,
    struct err *e)
{
	struct db_conn *c;
	sqlite3_stmt *st = NULL;
	struct rotation_rec *list = NULL;
	size_t cnt = 0;
	int s, rc = -1;

	*out = NULL;
	*n = 0;
	*next = 0;
	limit = db_limit(limit);
	if ((c = db_conn_get(db, e)) == NULL || db_read_begin(c, e) == -1)
		return -1;
	if ((st = db_stmt(c, DB_STMT_ROT_LIST, e)) == NULL)
		goto out;
	if (db_bind_text(c, st, 1, node, RCA_MAX_NODE_NAME + 1, e) == -1 ||
	    db_bind_int(c, st, 2, before, e) == -1 ||
	    db_bind_int(c, st, 3, (int64_t)limit + 1, e) == -1)
		goto out;
	if ((list = calloc(limit, sizeof(*list))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	while ((s = db_step(c, st, "rotation list", e)) == SQLITE_ROW) {
		if (cnt == limit) {
			*next = list[cnt - 1].id;
			break;
		}
		if (rotation_read(st, &list[cnt], e) == -1)
			goto out;
		cnt++;
	}
	if (s == -1)
		goto out;
	db_stmt_done(st);
	st = NULL;
	for (size_t i = 0; i < cnt; i++)
		if (steps_read(c, &list[i], e) == -1)
			goto out;
	*out = list;
	*n = cnt;
	list = NULL;
	rc = 0;
out:
	db_stmt_done(st);
	db_read_end(c);
	free(list);
	if (rc == -1)
		*next = 0;
	return rc;
}

void
db_rotation_list_free(struct rotation_rec *list, size_t n)
{
	(void)n;
	free(list);
}
