/*
 * The CAs (table cas, schema 4): their states, rows read into a struct
 * ca_rec, the list and generation every instance reloads from, and the
 * bootstrap of CA 1.  The phases that change them are db/ca.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "priv.h"

static const char *const state_names[CA_STATE__MAX] = {
	[CA_STATE_PENDING] = "pending",
	[CA_STATE_NEXT] = "next",
	[CA_STATE_CURRENT] = "current",
	[CA_STATE_RETIRED] = "retired",
	[CA_STATE_GONE] = "gone",
};

const char *
ca_state_name(enum ca_state s)
{
	return (unsigned)s < CA_STATE__MAX ? state_names[s] : "unknown";
}

int
ca_state_parse(const char *s, enum ca_state *out)
{
	for (int i = 0; s != NULL && i < CA_STATE__MAX; i++)
		if (strcmp(s, state_names[i]) == 0) {
			*out = (enum ca_state)i;
			return 0;
		}
	return -1;
}

void
ca_rec_clear(struct ca_rec *r)
{
	if (r == NULL)
		return;
	free(r->cert_pem);
	free(r->csr_pem);
	free(r->anchors_pem);
	memset(r, 0, sizeof(*r));
}

static void
ca_clear(void *p)
{
	ca_rec_clear(p);
}

/* A SKI as stored: 1 to RCA_SKI_HEX_MAX lowercase hex digits. */
static bool
ski_valid(const char *h)
{
	size_t i;

	if (h == NULL)
		return false;
	for (i = 0; h[i] != '\0'; i++)
		if (i == RCA_SKI_HEX_MAX || !((h[i] >= '0' && h[i] <= '9') ||
		    (h[i] >= 'a' && h[i] <= 'f')))
			return false;
	return i > 0;
}

int
db_ca_corrupt(const struct db_row *r, const char *what, struct err *e)
{
	log_error("db: CA %lld: bad %s", (long long)db_col_int(r, 0), what);
	err_set(e, ERR_DB, "database error");
	return -1;
}

/* Read a row of CA_COLS into a struct ca_rec (cleared on error). */
static int
ca_read(const struct db_row *r, void *p, struct err *e)
{
	struct ca_rec *out = p;
	char st[16], kt[16];
	bool ok1, ok2, ok3;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	out->id = db_col_int(r, 0);
	if (DB_COL_BUF(r, 1, out->ski, e) == -1 ||
	    DB_COL_BUF(r, 2, out->spki_sha256, e) == -1 ||
	    DB_COL_BUF(r, 3, st, e) == -1 || DB_COL_BUF(r, 7, kt, e) == -1)
		goto out;
	if (ca_state_parse(st, &out->state) == -1) {
		db_ca_corrupt(r, "state", e);
		goto out;
	}
	if (key_type_parse(kt, &out->key_type) == -1) {
		db_ca_corrupt(r, "key_type", e);
		goto out;
	}
	out->cert_pem = db_col_dup(r, 4, &ok1);
	out->csr_pem = db_col_dup(r, 5, &ok2);
	out->anchors_pem = db_col_dup(r, 6, &ok3);
	if (!ok1 || !ok2 || !ok3 || out->anchors_pem == NULL) {
		db_ca_corrupt(r, "PEM", e);
		goto out;
	}
	out->not_before = db_col_int(r, 8);
	out->not_after = db_col_int(r, 9);
	out->created_at = db_col_int(r, 10);
	out->activated_at = db_col_int(r, 11);
	out->retired_at = db_col_int(r, 12);
	rc = 0;
out:
	if (rc == -1)
		ca_rec_clear(out);
	return rc;
}

int
db_ca_list(struct db *db, struct ca_rec **out, size_t *n,
    uint64_t *generation, struct err *e)
{
	struct db_rows rows = { .read = ca_read, .clear = ca_clear,
	    .size = sizeof(**out) };
	struct db_conn *c;
	int64_t gen = 0;
	int rc = -1;

	*out = NULL;
	*n = 0;
	*generation = 0;
	if ((c = db_conn_get(db, e)) == NULL || db_read_begin(c, e) == -1)
		return -1;
	if (db_rows(c, DB_STMT_CA_LIST, NULL, 0, &rows, "CA list", e) == -1)
		goto out;
	if (db_get(c, DB_STMT_CA_GENERATION, NULL, 0, db_int_read, &gen,
	    "CA generation", e) != 1) {
		if (e->code == ERR_OK)
			db_fail(c, "CA generation (no row)", e);
		db_rows_free(rows.v, rows.n, rows.size, rows.clear);
		goto out;
	}
	*out = rows.v;
	*n = rows.n;
	*generation = (uint64_t)gen;
	rc = 0;
out:
	db_read_end(c);
	return rc;
}

void
db_ca_list_free(struct ca_rec *list, size_t n)
{
	db_rows_free(list, n, sizeof(*list), ca_clear);
}

int
db_ca_generation(struct db *db, uint64_t *out, struct err *e)
{
	struct db_conn *c;
	int64_t gen = 0;
	int rc = -1;

	*out = 0;
	if ((c = db_conn_get(db, e)) == NULL)
		goto out;
	if (db_get(c, DB_STMT_CA_GENERATION, NULL, 0, db_int_read, &gen,
	    "CA generation", e) != 1) {
		if (e->code == ERR_OK)
			db_fail(c, "CA generation (no row)", e);
		goto out;
	}
	*out = (uint64_t)gen;
	rc = 0;
out:
	return rc;
}

int
db_ca_rec_check(const struct ca_rec *r, bool cert, struct err *e)
{
	const char *why = NULL;

	if (r == NULL)
		why = "no CA";
	else if (!ski_valid(r->ski))
		why = "bad SKI";
	else if (!db_spki_valid(r->spki_sha256))
		why = "bad key hash";
	else if (cert && (r->cert_pem == NULL || r->cert_pem[0] == '\0'))
		why = "no certificate";
	else if (!cert && (r->csr_pem == NULL || r->csr_pem[0] == '\0'))
		why = "no CSR";
	else if (cert && r->anchors_pem == NULL)
		why = "no anchors";
	if (why == NULL)
		return 0;
	err_set(e, ERR_INVALID_REQUEST, "invalid CA record: %s", why);
	return -1;
}

/* db_ca_bootstrap()'s transaction: the row, or nothing if there are rows. */
static int
bootstrap_run(struct db_conn *c, void *arg, struct err *e)
{
	const struct ca_rec *r = arg;
	const struct db_arg args[] = {
		DB_BUF(r->ski), DB_BUF(r->spki_sha256),
		DB_TEXT(r->cert_pem, SIZE_MAX),
		DB_TEXT(r->anchors_pem, SIZE_MAX),
		DB_TEXT(key_type_name(r->key_type), 16),
		DB_INT(r->not_before), DB_INT(r->not_after),
		DB_INT(r->created_at),
	};

	return db_run(c, DB_STMT_CA_BOOTSTRAP, args, DB_NARGS(args),
	    "CA bootstrap", e) == -1 ? -1 : 0;
}

int
db_ca_bootstrap(struct db *db, const struct ca_rec *cur, struct err *e)
{
	struct ca_rec copy;
	struct err le;
	int rc = -1;

	ERR_LOCAL(e, le);
	if (db_ca_rec_check(cur, true, e) == -1)
		goto out;
	copy = *cur;	/* shallow: db_write() takes a non-const arg */
	rc = db_write(db, bootstrap_run, &copy, NULL, e);
out:
	return rc;
}
