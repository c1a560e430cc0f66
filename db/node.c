/*
 * Redis nodes whose certificates the service keeps fresh: their rows
 * and rotation state.  Deleting a node deletes its rotations (ON DELETE
 * CASCADE; db/rotation.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "priv.h"

/* The columns of version 6 (NODE_COLS 20..27) into out. */
static int
node_read_fleet(const struct db_row *r, struct node_rec *out, struct err *e)
{
	char mode[8];

	if (DB_COL_BUF(r, 20, out->group, e) == -1 ||
	    DB_COL_BUF(r, 21, mode, e) == -1 ||
	    DB_COL_BUF(r, 22, out->role, e) == -1 ||
	    DB_COL_BUF(r, 24, out->served_serial, e) == -1)
		return -1;
	if (node_mode_parse(mode, &out->mode) == -1) {
		log_error("db: node %s: bad mode", out->name);
		err_set(e, ERR_DB, "database error");
		return -1;
	}
	/* The effective group: its own name when it has none. */
	if (out->group[0] == '\0')
		memcpy(out->group, out->name, sizeof(out->group));
	out->role_at = db_col_int(r, 23);
	out->served_at = db_col_int(r, 25);
	out->drift_since = db_col_int(r, 26);
	out->last_report_at = db_col_int(r, 27);
	return 0;
}

int
db_node_read(const struct db_row *r, void *p, struct err *e)
{
	struct node_rec *out = p;
	int rc = -1;

	/*
	 * Every field is set below (each string NUL-ended by db_col_text),
	 * so only the name lists start empty: zeroing the whole record
	 * (two RCA_MAX_PATH buffers) cost as much as reading the row.
	 */
	memset(&out->sans, 0, sizeof(out->sans));
	if (DB_COL_BUF(r, 0, out->name, e) == -1 ||
	    DB_COL_BUF(r, 1, out->host, e) == -1)
		goto out;
	out->port = (int)db_col_int(r, 2);
	if (DB_COL_BUF(r, 3, out->server_name, e) == -1)
		goto out;
	if (names_split(&out->sans, NAME_DNS, db_col_str(r, 4), e) == -1 ||
	    names_split(&out->sans, NAME_IP, db_col_str(r, 5), e) == -1) {
		log_error("db: node %s: bad sans", out->name);
		err_set(e, ERR_DB, "database error");
		goto out;
	}
	if (DB_COL_BUF(r, 6, out->cert_dir, e) == -1 ||
	    DB_COL_BUF(r, 7, out->cert_file, e) == -1 ||
	    DB_COL_BUF(r, 8, out->key_file, e) == -1 ||
	    DB_COL_BUF(r, 9, out->ca_file, e) == -1 ||
	    DB_COL_BUF(r, 10, out->profile, e) == -1)
		goto out;
	out->ttl = db_col_int(r, 11);
	if (DB_COL_BUF(r, 12, out->auth_username, e) == -1 ||
	    DB_COL_BUF(r, 13, out->auth_password_file, e) == -1 ||
	    DB_COL_BUF(r, 14, out->current_serial, e) == -1)
		goto out;
	out->not_after = db_col_int(r, 15);
	out->last_rotation_id = db_col_int(r, 16);
	out->failures = (int)db_col_int(r, 17);
	out->next_attempt_at = db_col_int(r, 18);
	out->created_at = db_col_int(r, 19);
	if (node_read_fleet(r, out, e) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1)
		node_rec_clear(out);
	return rc;
}

/* What a row holds (its name lists); lists free the rest at once. */
void
db_node_clear(void *p)
{
	struct node_rec *n = p;

	names_clear(&n->sans);
}

const char *
db_node_stored_group(const struct node_rec *n)
{
	return strcmp(n->group, n->name) == 0 ? "" : n->group;
}

int
db_node_insert_in(struct db_conn *c, const struct node_rec *n,
    struct err *e)
{
	char *dns = NULL, *ip = NULL;
	int rc = -1;

	if (n == NULL || n->name[0] == '\0') {
		err_set(e, ERR_INVALID_REQUEST, "incomplete node");
		return -1;
	}
	if ((unsigned)n->mode >= NODE_MODE__MAX) {
		err_set(e, ERR_INVALID_REQUEST, "invalid node mode");
		return -1;
	}
	if ((dns = names_join(&n->sans, NAME_DNS)) == NULL ||
	    (ip = names_join(&n->sans, NAME_IP)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	const struct db_arg args[] = {
		DB_BUF(n->name), DB_BUF(n->host), DB_INT(n->port),
		DB_BUF(n->server_name), DB_TEXT(dns, SIZE_MAX),
		DB_TEXT(ip, SIZE_MAX), DB_BUF(n->cert_dir),
		DB_BUF(n->cert_file), DB_BUF(n->key_file), DB_BUF(n->ca_file),
		DB_BUF(n->profile), DB_INT(n->ttl), DB_BUF(n->auth_username),
		DB_BUF(n->auth_password_file), DB_BUF(n->current_serial),
		DB_INT(n->not_after), DB_INT(n->last_rotation_id),
		DB_INT(n->failures), DB_INT(n->next_attempt_at),
		DB_INT(n->created_at),
		DB_TEXT(db_node_stored_group(n), sizeof(n->group)),
		DB_TEXT(node_mode_name(n->mode), 8), DB_BUF(n->role),
		DB_INT(n->role_at), DB_BUF(n->served_serial),
		DB_INT(n->served_at), DB_INT(n->drift_since),
		DB_INT(n->last_report_at),
	};
	if (db_run(c, DB_STMT_NODE_INSERT, args, DB_NARGS(args),
	    "node insert", e) == -1) {
		if (e->code == ERR_ALREADY_EXISTS)
			err_set(e, ERR_ALREADY_EXISTS, "node already exists");
		goto out;
	}
	rc = 0;
out:
	free(dns);
	free(ip);
	return rc;
}

/* db_node_insert()'s transaction: the row. */
static int
node_insert_run(struct db_conn *c, void *arg, struct err *e)
{
	return db_node_insert_in(c, arg, e);
}

int
db_node_insert(struct db *db, const struct node_rec *n,
    const struct audit_rec *a, struct err *e)
{
	struct err le;

	ERR_LOCAL(e, le);
	/* The row is only read: the cast drops const for db_write(). */
	return db_write(db, node_insert_run, (void *)(uintptr_t)n, a, e);
}

int
db_node_get(struct db *db, const char *name, struct node_rec *out,
    struct err *e)
{
	const struct db_arg args[] = { DB_TEXT(name, RCA_MAX_NODE_NAME + 1) };
	struct db_conn *c;
	struct err le;
	int s;

	ERR_LOCAL(e, le);
	memset(out, 0, sizeof(*out));
	if ((c = db_conn_get(db, e)) == NULL)
		return -1;
	if ((s = db_get(c, DB_STMT_NODE_GET, args, DB_NARGS(args), db_node_read,
	    out, "node get", e)) == 1)
		return 0;
	node_rec_clear(out);
	/* A name too long to be stored is not found either. */
	if (s == 0 || e->code == ERR_INVALID_REQUEST)
		err_set(e, ERR_NOT_FOUND, "node not found");
	return -1;
}

int
db_node_list(struct db *db, const char *after, size_t limit,
    struct node_rec **out, size_t *n, char next[RCA_MAX_NODE_NAME + 1],
    struct err *e)
{
	return db_node_list_filter(db, NULL, after, limit, out, n, next, e);
}

int
db_node_list_filter(struct db *db, const struct db_node_filter *f,
    const char *after, size_t limit, struct node_rec **out, size_t *n,
    char next[RCA_MAX_NODE_NAME + 1], struct err *e)
{
	struct db_rows rows = { .read = db_node_read, .clear = db_node_clear,
	    .size = sizeof(**out), .max = db_limit(limit) };
	const struct db_arg args[] = {
		DB_TEXT(after != NULL ? after : "", RCA_MAX_NODE_NAME + 1),
		DB_INT(rows.max + 1),
	};
	int rc;

	rc = db_list(db, f != NULL && f->drift ? DB_STMT_NODE_LIST_DRIFT :
	    DB_STMT_NODE_LIST, args, DB_NARGS(args), &rows,
	    "node list", e);
	*out = rows.v;
	*n = rows.n;
	next[0] = '\0';
	if (rows.more)
		memcpy(next, (*out)[rows.n - 1].name, sizeof((*out)->name));
	return rc;
}

void
db_node_list_free(struct node_rec *list, size_t n)
{
	db_rows_free(list, n, sizeof(*list), db_node_clear);
}

int
db_node_name_check(const char *name, struct err *e)
{
	if (name == NULL || strnlen(name, RCA_MAX_NODE_NAME + 1) >
	    RCA_MAX_NODE_NAME) {
		err_set(e, ERR_NOT_FOUND, "node not found");
		return -1;
	}
	return 0;
}

int
db_node_delete(struct db *db, const char *name, const struct audit_rec *a,
    struct err *e)
{
	const struct db_arg args[] = { DB_TEXT(name, RCA_MAX_NODE_NAME + 1) };
	const struct db_change ch = {
		DB_STMT_NODE_DELETE, args, DB_NARGS(args), "node delete",
		ERR_NOT_FOUND, "node not found", NULL,
	};

	if (db_node_name_check(name, e) == -1)
		return -1;
	return db_write1(db, &ch, a, e);
}

int
db_node_update_state(struct db *db, const struct node_rec *n,
    struct err *e)
{
	const struct db_arg args[] = {
		DB_BUF(n->current_serial), DB_INT(n->not_after),
		DB_INT(n->last_rotation_id), DB_INT(n->failures),
		DB_INT(n->next_attempt_at), DB_BUF(n->name),
	};
	const struct db_change ch = {
		DB_STMT_NODE_UPDATE_STATE, args, DB_NARGS(args), "node update",
		ERR_NOT_FOUND, "node not found", NULL,
	};

	return db_write1(db, &ch, NULL, e);
}

int
db_node_set_bundle(struct db *db, const char *node, const char *etag,
    struct err *e)
{
	const struct db_arg args[] = {
		DB_TEXT(etag, RCA_BUNDLE_ETAG_MAX + 1),
		DB_TEXT(node, RCA_MAX_NODE_NAME + 1),
	};
	const struct db_change ch = {
		DB_STMT_NODE_SET_BUNDLE, args, DB_NARGS(args), "node bundle",
		ERR_NOT_FOUND, "node not found", NULL,
	};

	if (db_node_name_check(node, e) == -1)
		return -1;
	if (etag == NULL || strnlen(etag, RCA_BUNDLE_ETAG_MAX + 1) >
	    RCA_BUNDLE_ETAG_MAX) {
		err_set(e, ERR_INVALID_REQUEST, "invalid bundle ETag");
		return -1;
	}
	return db_write1(db, &ch, NULL, e);
}

int
db_node_bundle_stale(struct db *db, const char *etag, char ***names,
    size_t *n, struct err *e)
{
	const struct db_arg args[] = {
		DB_TEXT(etag != NULL ? etag : "", RCA_BUNDLE_ETAG_MAX + 1),
	};

	return db_list_str(db, DB_STMT_NODE_BUNDLE_STALE, args,
	    DB_NARGS(args), names, n, "node bundle stale", e);
}

void
db_node_names_free(char **names, size_t n)
{
	db_rows_free(names, n, sizeof(*names), db_str_clear);
}
