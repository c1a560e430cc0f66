/*
 * Keys by the SHA-256 of their SubjectPublicKeyInfo: the keys blocked
 * by a keyCompromise revocation, and the start-up backfill of the hash
 * for certificates stored before it was recorded.
 */
#include <stdlib.h>
#include <string.h>

#include "priv.h"

bool
db_spki_valid(const char *h)
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

int
db_key_block_in(struct db_conn *c, const char *spki, const char *serial,
    int64_t at, struct err *e)
{
	const struct db_arg args[] = {
		DB_TEXT(spki, RCA_SHA256_HEX + 1),
		DB_TEXT(serial, RCA_SERIAL_HEX_MAX + 1), DB_INT(at),
	};

	return db_run(c, DB_STMT_KEY_BLOCK, args, DB_NARGS(args), "key block",
	    e) == -1 ? -1 : 0;
}

/* Where db_key_blocked_in() copies the blocking serial. */
struct serial_out {
	char	*buf;	/* borrowed; NULL: not wanted */
	size_t	 cap;
};

static int
serial_read(const struct db_row *r, void *arg, struct err *e)
{
	struct serial_out *o = arg;

	if (o->buf == NULL || o->cap == 0)
		return 0;
	return db_col_text(r, 0, o->buf, o->cap, e);
}

int
db_key_blocked_in(struct db_conn *c, const char *spki, char *serial,
    size_t cap, struct err *e)
{
	const struct db_arg args[] = { DB_TEXT(spki, RCA_SHA256_HEX + 1) };
	struct serial_out o = { serial, cap };

	return db_get(c, DB_STMT_KEY_BLOCKED, args, DB_NARGS(args),
	    serial_read, &o, "blocked key", e);
}

/* db_key_block()'s transaction. */
struct key_block {
	const char	*spki, *serial;	/* borrowed */
	int64_t		 at;
};

static int
key_block_run(struct db_conn *c, void *arg, struct err *e)
{
	const struct key_block *k = arg;

	return db_key_block_in(c, k->spki, k->serial, k->at, e);
}

int
db_key_block(struct db *db, const char *spki, const char *serial,
    int64_t at, struct err *e)
{
	struct key_block k = { spki, serial, at };

	if (!db_spki_valid(spki) || serial == NULL || at <= 0) {
		err_set(e, ERR_INVALID_REQUEST, "invalid key block");
		return -1;
	}
	return db_write(db, key_block_run, &k, NULL, e);
}

int
db_key_blocked(struct db *db, const char *spki, char *serial,
    size_t cap, struct err *e)
{
	struct db_conn *c;

	if (serial != NULL && cap > 0)
		serial[0] = '\0';
	if (!db_spki_valid(spki)) {
		err_set(e, ERR_INVALID_REQUEST, "invalid key hash");
		return -1;
	}
	if ((c = db_conn_get(db, e)) == NULL)
		return -1;
	return db_key_blocked_in(c, spki, serial, cap, e);
}

/* Read a row of DB_STMT_CERT_SPKI_MISSING (id, serial, pem). */
static int
spki_row_read(const struct db_row *r, void *p, struct err *e)
{
	struct db_spki_row *out = p;
	bool ok;

	out->id = db_col_int(r, 0);
	if (DB_COL_BUF(r, 1, out->serial, e) == -1)
		return -1;
	if ((out->pem = db_col_dup(r, 2, &ok)) == NULL)
		return db_cert_corrupt(r, "pem", e);
	return 0;
}

static void
spki_row_clear(void *p)
{
	struct db_spki_row *row = p;

	free(row->pem);
}

int
db_cert_spki_missing(struct db *db, int64_t after, size_t limit,
    struct db_spki_row **out, size_t *n, struct err *e)
{
	/* The statement stops at limit: no more than that is read. */
	struct db_rows rows = { .read = spki_row_read,
	    .clear = spki_row_clear, .size = sizeof(**out),
	    .max = db_limit(limit) };
	const struct db_arg args[] = { DB_INT(after), DB_INT(rows.max) };
	int rc;

	rc = db_list(db, DB_STMT_CERT_SPKI_MISSING, args, DB_NARGS(args),
	    &rows, "key hash backfill", e);
	*out = rows.v;
	*n = rows.n;
	return rc;
}

void
db_cert_spki_rows_free(struct db_spki_row *rows, size_t n)
{
	db_rows_free(rows, n, sizeof(*rows), spki_row_clear);
}

/* db_cert_spki_set()'s transaction. */
struct spki_set {
	const struct db_spki_row	*rows;	/* borrowed */
	size_t				 n;
};

static int
spki_set_run(struct db_conn *c, void *arg, struct err *e)
{
	const struct spki_set *set = arg;

	for (size_t i = 0; i < set->n; i++) {
		const struct db_spki_row *row = &set->rows[i];
		const struct db_arg args[] = {
			DB_BUF(row->spki_sha256), DB_INT(row->id),
		};

		/* A row whose hash could not be computed stays NULL. */
		if (row->spki_sha256[0] == '\0')
			continue;
		if (db_run(c, DB_STMT_CERT_SET_SPKI, args, DB_NARGS(args),
		    "key hash backfill", e) == -1)
			return -1;
	}
	return 0;
}

int
db_cert_spki_set(struct db *db, const struct db_spki_row *rows, size_t n,
    struct err *e)
{
	struct spki_set set = { rows, n };

	for (size_t i = 0; i < n; i++)
		if (rows[i].spki_sha256[0] != '\0' &&
		    !db_spki_valid(rows[i].spki_sha256)) {
			err_set(e, ERR_INVALID_REQUEST, "invalid key hash");
			return -1;
		}
	return db_write(db, spki_set_run, &set, NULL, e);
}
