/*
 * The record of each rotation of a node's certificate, with its steps
 * (what was done, in order, and how it went), and the per-node counts
 * by status of /metrics.  A node's rotations go with it (ON DELETE
 * CASCADE); the audit log keeps what happened.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "priv.h"

/* Insert r's steps for rotation id inside c's open transaction. */
static int
steps_insert(struct db_conn *c, int64_t id, const struct rotation_rec *r,
    struct err *e)
{
	for (size_t i = 0; i < r->nsteps; i++) {
		const struct rotation_step *s = &r->steps[i];
		const struct db_arg args[] = {
			DB_INT(id), DB_INT(i), DB_BUF(s->step),
			DB_INT(s->ok ? 1 : 0), DB_BUF(s->detail),
		};

		if (db_run(c, DB_STMT_ROT_STEP_INSERT, args, DB_NARGS(args),
		    "rotation step insert", e) == -1)
			return -1;
	}
	return 0;
}

/*
 * Check r, then run(c, copy of r) and append a in one write
 * transaction; *id (when not NULL) gets the copy's id once committed.
 */
static int
rotation_write(struct db *db, const struct rotation_rec *r, db_tx_fn *run,
    const struct audit_rec *a, int64_t *id, struct err *e)
{
	struct rotation_rec copy;

	if (r == NULL || r->node[0] == '\0' ||
	    (unsigned)r->status >= ROT_STATUS__MAX ||
	    r->nsteps > ROT_MAX_STEPS) {
		err_set(e, ERR_INVALID_REQUEST, "invalid rotation record");
		return -1;
	}
	copy = *r;
	if (db_write(db, run, &copy, a, e) == -1)
		return -1;
	if (id != NULL)
		*id = copy.id;
	return 0;
}

/* db_rotation_insert()'s transaction: the row, then its steps. */
int
db_rotation_insert_in(struct db_conn *c, struct rotation_rec *r,
    struct err *e)
{
	const struct db_arg args[] = {
		DB_BUF(r->node), DB_TEXT(rotation_status_name(r->status), 16),
		DB_BUF(r->old_serial), DB_BUF(r->new_serial),
		DB_INT(r->started_at), DB_INT(r->finished_at),
	};

	if (db_get(c, DB_STMT_ROT_INSERT, args, DB_NARGS(args), db_int_read,
	    &r->id, "rotation insert", e) != 1) {
		if (e->code == ERR_NOT_FOUND)
			err_set(e, ERR_NOT_FOUND, "node not found");
		else if (e->code == ERR_OK)
			db_fail(c, "rotation insert", e);
		return -1;
	}
	return steps_insert(c, r->id, r, e);
}

static int
rotation_insert_in(struct db_conn *c, void *arg, struct err *e)
{
	return db_rotation_insert_in(c, arg, e);
}

int
db_rotation_insert(struct db *db, struct rotation_rec *r, struct err *e)
{
	struct err le;

	ERR_LOCAL(e, le);
	/* r->id is set only once the row is committed. */
	return rotation_write(db, r, rotation_insert_in, NULL,
	    r != NULL ? &r->id : NULL, e);
}

/* db_rotation_update()'s transaction: the row, then its new steps. */
static int
rotation_update_in(struct db_conn *c, void *arg, struct err *e)
{
	const struct rotation_rec *r = arg;
	const struct db_arg args[] = {
		DB_TEXT(rotation_status_name(r->status), 16),
		DB_BUF(r->old_serial), DB_BUF(r->new_serial),
		DB_INT(r->finished_at), DB_INT(r->id),
	};
	const struct db_arg id[] = { DB_INT(r->id) };
	int64_t n;

	if ((n = db_run(c, DB_STMT_ROT_UPDATE, args, DB_NARGS(args),
	    "rotation update", e)) == -1)
		return -1;
	if (n == 0) {
		err_set(e, ERR_NOT_FOUND, "rotation not found");
		return -1;
	}
	if (db_run(c, DB_STMT_ROT_STEPS_DELETE, id, DB_NARGS(id),
	    "rotation steps delete", e) == -1)
		return -1;
	return steps_insert(c, r->id, r, e);
}

int
db_rotation_update(struct db *db, const struct rotation_rec *r,
    const struct audit_rec *a, struct err *e)
{
	struct err le;

	ERR_LOCAL(e, le);
	return rotation_write(db, r, rotation_update_in, a, NULL, e);
}

/* The enum rotation_status named s, or -1. */
static int
status_index(const char *s)
{
	for (int i = 0; i < ROT_STATUS__MAX; i++)
		if (strcmp(s, rotation_status_name(i)) == 0)
			return i;
	return -1;
}

/* Read a row of ROT_COLS (without steps) into out. */
static int
rotation_read(const struct db_row *r, void *p, struct err *e)
{
	struct rotation_rec *out = p;
	char status[16];
	int i;

	memset(out, 0, sizeof(*out));
	out->id = db_col_int(r, 0);
	if (DB_COL_BUF(r, 1, out->node, e) == -1 ||
	    DB_COL_BUF(r, 2, status, e) == -1 ||
	    DB_COL_BUF(r, 3, out->old_serial, e) == -1 ||
	    DB_COL_BUF(r, 4, out->new_serial, e) == -1)
		return -1;
	if ((i = status_index(status)) == -1) {
		log_error("db: rotation %lld: bad status",
		    (long long)out->id);
		err_set(e, ERR_DB, "database error");
		return -1;
	}
	out->status = (enum rotation_status)i;
	out->started_at = db_col_int(r, 5);
	out->finished_at = db_col_int(r, 6);
	return 0;
}

/* One row of DB_STMT_ROT_STEPS_GET appended to the rotation arg. */
static int
step_add(const struct db_row *row, void *arg, struct err *e)
{
	struct rotation_rec *r = arg;
	struct rotation_step *p = &r->steps[r->nsteps];

	if (r->nsteps == ROT_MAX_STEPS) {
		log_error("db: rotation %lld: too many steps",
		    (long long)r->id);
		err_set(e, ERR_DB, "database error");
		return -1;
	}
	if (DB_COL_BUF(row, 0, p->step, e) == -1 ||
	    DB_COL_BUF(row, 2, p->detail, e) == -1)
		return -1;
	p->ok = db_col_int(row, 1) != 0;
	r->nsteps++;
	return 0;
}

/* Load r's steps (r->id set). */
static int
steps_read(struct db_conn *c, struct rotation_rec *r, struct err *e)
{
	const struct db_arg args[] = { DB_INT(r->id) };

	r->nsteps = 0;
	return db_query(c, DB_STMT_ROT_STEPS_GET, args, DB_NARGS(args),
	    step_add, r, "rotation steps", e) == -1 ? -1 : 0;
}

int
db_rotation_get(struct db *db, int64_t id, struct rotation_rec *out,
    struct err *e)
{
	const struct db_arg args[] = { DB_INT(id) };
	struct db_conn *c;
	int rc = -1, s;

	memset(out, 0, sizeof(*out));
	if ((c = db_conn_get(db, e)) == NULL || db_read_begin(c, e) == -1)
		return -1;
	if ((s = db_get(c, DB_STMT_ROT_GET, args, DB_NARGS(args),
	    rotation_read, out, "rotation get", e)) == -1)
		goto out;
	if (s == 0) {
		err_set(e, ERR_NOT_FOUND, "rotation not found");
		goto out;
	}
	if (steps_read(c, out, e) == -1)
		goto out;
	rc = 0;
out:
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
	struct db_rows rows = { .read = rotation_read,
	    .size = sizeof(**out), .max = db_limit(limit) };
	const struct db_arg args[] = {
		DB_TEXT(node, RCA_MAX_NODE_NAME + 1), DB_INT(before),
		DB_INT(rows.max + 1),
	};
	struct db_conn *c;
	struct rotation_rec *list;
	int rc = -1;

	*out = NULL;
	*n = 0;
	*next = 0;
	if ((c = db_conn_get(db, e)) == NULL || db_read_begin(c, e) == -1)
		return -1;
	if (db_rows(c, DB_STMT_ROT_LIST, args, DB_NARGS(args), &rows,
	    "rotation list", e) == -1)
		goto out;
	list = rows.v;
	for (size_t i = 0; i < rows.n; i++)
		if (steps_read(c, &list[i], e) == -1)
			goto out;
	*out = list;
	*n = rows.n;
	if (rows.more)
		*next = list[rows.n - 1].id;
	rows.v = NULL;
	rc = 0;
out:
	db_read_end(c);
	free(rows.v);
	return rc;
}

void
db_rotation_list_free(struct rotation_rec *list, size_t n)
{
	(void)n;
	free(list);
}

/* The list db_node_stats() builds. */
struct node_stats {
	struct db_node_stat	*v;	/* new */
	size_t			 n, cap;
};

/*
 * One row of DB_STMT_NODE_STATS (node, not_after, status, count; one
 * row per node and status, status NULL for a node without rotations):
 * the rows of one node fold into one element.
 */
static int
stats_add(const struct db_row *r, void *arg, struct err *e)
{
	struct node_stats *rows = arg;
	struct db_node_stat *v = rows->v, *st;
	const char *name = db_col_str(r, 0), *status = db_col_str(r, 2);
	int i;

	st = rows->n > 0 ? &v[rows->n - 1] : NULL;
	if (st == NULL || name == NULL || strcmp(st->node, name) != 0) {
		if (rows->n == rows->cap) {
			rows->cap = rows->cap == 0 ? 16 : rows->cap * 2;
			if ((v = reallocarray(v, rows->cap, sizeof(*v))) ==
			    NULL) {
				err_set(e, ERR_INTERNAL, "out of memory");
				return -1;
			}
			rows->v = v;
		}
		st = &v[rows->n++];
		memset(st, 0, sizeof(*st));
		if (DB_COL_BUF(r, 0, st->node, e) == -1)
			return -1;
		st->not_after = db_col_int(r, 1);
	}
	if (status == NULL)
		return 0;
	if ((i = status_index(status)) == -1) {
		log_error("db: node %s: bad rotation status", st->node);
		err_set(e, ERR_DB, "database error");
		return -1;
	}
	st->rotations[i] += db_col_int(r, 3);
	return 0;
}

int
db_node_stats(struct db *db, struct db_node_stat **out, size_t *n,
    struct err *e)
{
	struct node_stats rows = { NULL, 0, 0 };
	struct db_conn *c;

	*out = NULL;
	*n = 0;
	if ((c = db_conn_get(db, e)) == NULL)
		return -1;
	if (db_query(c, DB_STMT_NODE_STATS, NULL, 0, stats_add, &rows,
	    "node stats", e) == -1) {
		free(rows.v);
		return -1;
	}
	*out = rows.v;
	*n = rows.n;
	return 0;
}
