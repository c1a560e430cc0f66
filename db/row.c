/*
 * Values in and out of a statement, and the one query loop every table
 * uses: bind declared parameters, step, hand each row to a reader, end
 * the statement checking its reset.  Shared by both drivers (db/drv.h).
 */
#include <stdlib.h>
#include <string.h>

#include "rca_limits.h"
#include "log.h"
#include "drv.h"

int
db_bind(struct db_conn *c, struct db_st *st, const struct db_arg *args,
    size_t n, struct err *e)
{
	return c->db->drv->bind(c, st, args, n, e);
}

int64_t
db_col_int(const struct db_row *r, int i)
{
	return r->drv->col_int(r->st, i);
}

bool
db_col_null(const struct db_row *r, int i)
{
	return r->drv->col_null(r->st, i);
}

const char *
db_col_str(const struct db_row *r, int i)
{
	size_t n;

	return r->drv->col_str(r->st, i, &n);
}

const void *
db_col_blob(const struct db_row *r, int i, size_t *len)
{
	return r->drv->col_blob(r->st, i, len);
}

int
db_col_text(const struct db_row *r, int i, char *buf, size_t cap,
    struct err *e)
{
	size_t n;
	const char *t = r->drv->col_str(r->st, i, &n);

	if (t == NULL && !r->drv->col_null(r->st, i)) {
		log_error("db: out of memory reading column %d", i);
		err_set(e, ERR_DB, "database error");
		return -1;
	}
	if (t == NULL)
		n = 0;
	if (n >= cap) {
		log_error("db: column %d of %s does not fit (%zu bytes)", i,
		    r->drv->col_name(r->st, i), n);
		err_set(e, ERR_DB, "database error");
		return -1;
	}
	if (n > 0)
		memcpy(buf, t, n);
	buf[n] = '\0';
	return 0;
}

char *
db_col_dup(const struct db_row *r, int i, bool *ok)
{
	size_t n;
	const char *t = r->drv->col_str(r->st, i, &n);
	char *s;

	*ok = true;
	if (t == NULL) {
		*ok = r->drv->col_null(r->st, i);
		return NULL;
	}
	if ((s = malloc(n + 1)) == NULL) {
		*ok = false;
		return NULL;
	}
	memcpy(s, t, n);
	s[n] = '\0';
	return s;
}

int
db_int_read(const struct db_row *r, void *out, struct err *e)
{
	(void)e;
	*(int64_t *)out = db_col_int(r, 0);
	return 0;
}

int
db_str_read(const struct db_row *r, void *out, struct err *e)
{
	bool ok;

	if ((*(char **)out = db_col_dup(r, 0, &ok)) == NULL) {
		err_set(e, ERR_DB, "database error");
		return -1;
	}
	return 0;
}

void
db_str_clear(void *elem)
{
	free(*(char **)elem);
}

size_t
db_limit(size_t limit)
{
	if (limit == 0)
		return RCA_DEFAULT_LIST_LIMIT;
	return limit > RCA_MAX_LIST_LIMIT ? RCA_MAX_LIST_LIMIT : limit;
}

int64_t
db_query(struct db_conn *c, enum db_stmt id, const struct db_arg *args,
    size_t nargs, db_row_fn *fn, void *arg, const char *what,
    struct err *e)
{
	struct db_row row;
	struct db_st *st;
	int64_t nrows = 0;
	int s = DB_DONE, f = 0;

	if ((st = db_stmt(c, id, e)) == NULL)
		return -1;
	row.drv = c->db->drv;
	row.st = st;
	if (db_bind(c, st, args, nargs, e) == -1)
		goto fail;
	while (f == 0 && (s = db_step(c, st, what, e)) == DB_ROW) {
		nrows++;
		if (fn != NULL && (f = fn(&row, arg, e)) == -1)
			goto fail;
	}
	if (f == 0 && s == -1)
		goto fail;
	if (db_stmt_end(c, st, what, e) == -1)
		return -1;
	return nrows;
fail:
	db_stmt_done(c, st);
	return -1;
}

/* db_get()'s row callback: read the first row and stop. */
struct get_arg {
	db_read_fn	*read;
	void		*out;
};

static int
get_row(const struct db_row *r, void *arg, struct err *e)
{
	struct get_arg *g = arg;

	if (g->read != NULL && g->read(r, g->out, e) == -1)
		return -1;
	return 1;
}

int
db_get(struct db_conn *c, enum db_stmt id, const struct db_arg *args,
    size_t nargs, db_read_fn *read, void *out, const char *what,
    struct err *e)
{
	struct get_arg g = { read, out };

	return (int)db_query(c, id, args, nargs, get_row, &g, what, e);
}

/* db_rows()'s row callback: grow the array and read one element. */
static int
rows_add(const struct db_row *r, void *arg, struct err *e)
{
	struct db_rows *rows = arg;
	void *p;

	if (rows->max > 0 && rows->n == rows->max) {
		rows->more = true;
		return 1;
	}
	if (rows->n == rows->cap) {
		size_t cap = rows->cap == 0 ? 16 : rows->cap * 2;

		if (rows->max > 0 && cap > rows->max)
			cap = rows->max;
		if ((p = reallocarray(rows->v, cap, rows->size)) == NULL) {
			err_set(e, ERR_INTERNAL, "out of memory");
			return -1;
		}
		rows->v = p;
		rows->cap = cap;
	}
	p = (char *)rows->v + rows->n * rows->size;
	memset(p, 0, rows->size);
	if (rows->read(r, p, e) == -1)
		return -1;
	rows->n++;
	return 0;
}

int
db_rows(struct db_conn *c, enum db_stmt id, const struct db_arg *args,
    size_t nargs, struct db_rows *rows, const char *what, struct err *e)
{
	rows->v = NULL;
	rows->n = rows->cap = 0;
	rows->more = false;
	if (db_query(c, id, args, nargs, rows_add, rows, what, e) != -1) {
		/* A page is never NULL, even an empty one. */
		if (rows->v == NULL && rows->max > 0 &&
		    (rows->v = calloc(1, rows->size)) == NULL) {
			err_set(e, ERR_INTERNAL, "out of memory");
			return -1;
		}
		return 0;
	}
	db_rows_free(rows->v, rows->n, rows->size, rows->clear);
	rows->v = NULL;
	rows->n = rows->cap = 0;
	rows->more = false;
	return -1;
}

int
db_list(struct db *db, enum db_stmt id, const struct db_arg *args,
    size_t nargs, struct db_rows *rows, const char *what, struct err *e)
{
	struct db_conn *c;

	rows->v = NULL;
	rows->n = 0;
	rows->more = false;
	if ((c = db_conn_get(db, e)) == NULL)
		return -1;
	return db_rows(c, id, args, nargs, rows, what, e);
}

int
db_list_str(struct db *db, enum db_stmt id, const struct db_arg *args,
    size_t nargs, char ***out, size_t *n, const char *what, struct err *e)
{
	struct db_rows rows = { .read = db_str_read, .clear = db_str_clear,
	    .size = sizeof(char *) };
	int rc;

	rc = db_list(db, id, args, nargs, &rows, what, e);
	*out = rows.v;
	*n = rows.n;
	return rc;
}

void
db_rows_free(void *v, size_t n, size_t size, void (*clear)(void *))
{
	if (v == NULL)
		return;
	for (size_t i = 0; clear != NULL && i < n; i++)
		clear((char *)v + i * size);
	free(v);
}

int64_t
db_run(struct db_conn *c, enum db_stmt id, const struct db_arg *args,
    size_t nargs, const char *what, struct err *e)
{
	if (db_query(c, id, args, nargs, NULL, NULL, what, e) == -1)
		return -1;
	return c->db->drv->changes(c);
}
