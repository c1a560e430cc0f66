/*
 * API tokens: stored by SHA-256 hash only, with the enroll token's
 * bounds (profile, name patterns, uses, expiry, certificate ttl cap).
 * Consuming a use is one UPDATE, so concurrent consumers cannot both
 * take the last one.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "priv.h"

static void
patterns_free(char **p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i]);
	free(p);
}

/* Split a '\n'-joined pattern list into a new array. */
static int
patterns_split(const char *joined, char ***out, size_t *n, struct err *e)
{
	char **list = NULL, **p;
	const char *s = joined, *nl;
	size_t cnt = 0, len;

	*out = NULL;
	*n = 0;
	while (s != NULL && *s != '\0') {
		nl = strchr(s, '\n');
		len = nl != NULL ? (size_t)(nl - s) : strlen(s);
		if ((p = reallocarray(list, cnt + 1, sizeof(*p))) == NULL)
			goto oom;
		list = p;
		if ((list[cnt] = strndup(s, len)) == NULL)
			goto oom;
		cnt++;
		s += len;
		if (*s == '\n')
			s++;
	}
	*out = list;
	*n = cnt;
	return 0;
oom:
	patterns_free(list, cnt);
	err_set(e, ERR_INTERNAL, "out of memory");
	return -1;
}

/* Join patterns with '\n' into a new string; each must be one line. */
static char *
patterns_join(char *const *p, size_t n, struct err *e)
{
	size_t len = 1;
	char *s, *w;

	if (n > RCA_MAX_PATTERNS) {
		err_set(e, ERR_INVALID_REQUEST, "too many name patterns");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (p[i] == NULL || p[i][0] == '\0' ||
		    strchr(p[i], '\n') != NULL ||
		    strlen(p[i]) > RCA_MAX_NAME_LEN) {
			err_set(e, ERR_INVALID_REQUEST, "invalid name pattern");
			return NULL;
		}
		len += strlen(p[i]) + 1;
	}
	if ((s = malloc(len)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return NULL;
	}
	w = s;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(p[i]);

		if (i > 0)
			*w++ = '\n';
		memcpy(w, p[i], l);
		w += l;
	}
	*w = '\0';
	return s;
}

/* Read a row of TOKEN_COLS into out (cleared first; cleared on error). */
static int
token_read(const struct db_row *r, void *p, struct err *e)
{
	struct token_rec *out = p;
	char kind[16];
	const void *hash;
	size_t len;
	bool ok;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (DB_COL_BUF(r, 0, out->id, e) == -1)
		goto out;
	hash = db_col_blob(r, 1, &len);
	if (hash == NULL || len != 32) {
		log_error("db: token %s: bad hash", out->id);
		err_set(e, ERR_DB, "database error");
		goto out;
	}
	memcpy(out->hash, hash, 32);
	if (DB_COL_BUF(r, 2, kind, e) == -1)
		goto out;
	if (token_kind_parse(kind, &out->kind) == -1) {
		log_error("db: token %s: bad kind", out->id);
		err_set(e, ERR_DB, "database error");
		goto out;
	}
	if (DB_COL_BUF(r, 3, out->profile, e) == -1 ||
	    patterns_split(db_col_str(r, 4), &out->patterns, &out->npatterns,
	    e) == -1)
		goto out;
	out->uses_left = db_col_int(r, 5);
	out->expires_at = db_col_int(r, 6);
	out->max_cert_ttl = db_col_int(r, 7);
	out->created_at = db_col_int(r, 8);
	out->description = db_col_dup(r, 9, &ok);
	if (!ok) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	rc = 0;
out:
	if (rc == -1)
		token_rec_clear(out);
	return rc;
}

static void
token_clear(void *p)
{
	token_rec_clear(p);
}

/* A token id that may exist (NUL within RCA_TOKEN_ID_HEX + 1 bytes). */
static bool
token_id_ok(const char *id)
{
	return id != NULL && strnlen(id, RCA_TOKEN_ID_HEX + 1) <=
	    RCA_TOKEN_ID_HEX;
}

int
db_token_insert(struct db *db, const struct token_rec *t,
    const struct audit_rec *a, struct err *e)
{
	char *patterns = NULL;
	int rc;

	if (t == NULL || t->id[0] == '\0' ||
	    (unsigned)t->kind >= TOKEN_KIND__MAX || t->uses_left < -1) {
		err_set(e, ERR_INVALID_REQUEST, "incomplete token");
		return -1;
	}
	if ((patterns = patterns_join(t->patterns, t->npatterns, e)) == NULL)
		return -1;
	const struct db_arg args[] = {
		DB_BUF(t->id), DB_BLOB(t->hash, sizeof(t->hash)),
		DB_TEXT(token_kind_name(t->kind), 16), DB_BUF(t->profile),
		DB_TEXT(patterns, SIZE_MAX), DB_INT(t->uses_left),
		DB_INT(t->expires_at), DB_INT(t->max_cert_ttl),
		DB_INT(t->created_at),
		DB_TEXT(t->description, RCA_MAX_DESCRIPTION + 1),
	};
	const struct db_change ch = {
		DB_STMT_TOKEN_INSERT, args, DB_NARGS(args), "token insert",
		ERR_OK, NULL, "token already exists",
	};
	rc = db_write1(db, &ch, a, e);
	free(patterns);
	return rc;
}

/* Fetch one token by id (tid) or, when hash is not NULL, by hash. */
static int
token_fetch(struct db *db, enum db_stmt id, const char *tid,
    const unsigned char *hash, struct token_rec *out, struct err *e)
{
	const struct db_arg args[] = {
		hash != NULL ? DB_BLOB(hash, 32) :
		    DB_TEXT(tid, RCA_TOKEN_ID_HEX + 1),
	};
	struct db_conn *c;
	int s;

	memset(out, 0, sizeof(*out));
	if ((c = db_conn_get(db, e)) == NULL)
		return -1;
	if ((s = db_get(c, id, args, DB_NARGS(args), token_read, out,
	    "token get", e)) == 1)
		return 0;
	token_rec_clear(out);
	if (s == 0)
		err_set(e, ERR_NOT_FOUND, "token not found");
	return -1;
}

int
db_token_get(struct db *db, const char *id, struct token_rec *out,
    struct err *e)
{
	if (!token_id_ok(id)) {
		memset(out, 0, sizeof(*out));
		err_set(e, ERR_NOT_FOUND, "token not found");
		return -1;
	}
	return token_fetch(db, DB_STMT_TOKEN_GET, id, NULL, out, e);
}

int
db_token_find_hash(struct db *db, const unsigned char hash[32],
    struct token_rec *out, struct err *e)
{
	return token_fetch(db, DB_STMT_TOKEN_FIND_HASH, NULL, hash, out, e);
}

int
db_token_list(struct db *db, const char *after, size_t limit,
    struct token_rec **out, size_t *n, char next[RCA_TOKEN_ID_HEX + 1],
    struct err *e)
{
	struct db_rows rows = { .read = token_read, .clear = token_clear,
	    .size = sizeof(**out), .max = db_limit(limit) };
	const struct db_arg args[] = {
		DB_TEXT(after != NULL ? after : "", RCA_TOKEN_ID_HEX + 1),
		DB_INT(rows.max + 1),
	};
	int rc;

	rc = db_list(db, DB_STMT_TOKEN_LIST, args, DB_NARGS(args), &rows,
	    "token list", e);
	*out = rows.v;
	*n = rows.n;
	next[0] = '\0';
	if (rows.more)
		memcpy(next, (*out)[rows.n - 1].id, sizeof((*out)->id));
	return rc;
}

void
db_token_list_free(struct token_rec *list, size_t n)
{
	db_rows_free(list, n, sizeof(*list), token_clear);
}

int
db_token_delete(struct db *db, const char *id, const struct audit_rec *a,
    struct err *e)
{
	const struct db_arg args[] = { DB_TEXT(id, RCA_TOKEN_ID_HEX + 1) };
	const struct db_change ch = {
		DB_STMT_TOKEN_DELETE, args, DB_NARGS(args), "token write",
		ERR_NOT_FOUND, "token not found", NULL,
	};

	if (!token_id_ok(id)) {
		err_set(e, ERR_NOT_FOUND, "token not found");
		return -1;
	}
	return db_write1(db, &ch, a, e);
}

int
db_token_use_in(struct db_conn *c, const char *id, int64_t now,
    struct err *e)
{
	const struct db_arg args[] = {
		DB_TEXT(id, RCA_TOKEN_ID_HEX + 1), DB_INT(now),
	};
	int64_t n;

	if (!token_id_ok(id)) {
		err_set(e, ERR_UNAUTHORIZED, "unauthorized");
		return -1;
	}
	if ((n = db_run(c, DB_STMT_TOKEN_CONSUME, args, DB_NARGS(args),
	    "token use", e)) == -1)
		return -1;
	if (n == 0) {
		err_set(e, ERR_UNAUTHORIZED, "unauthorized");
		return -1;
	}
	return 0;
}

/* db_token_consume()'s transaction: one use of a token. */
struct token_use {
	const char	*id;	/* borrowed */
	int64_t		 now;
};

static int
token_use_run(struct db_conn *c, void *arg, struct err *e)
{
	const struct token_use *u = arg;

	return db_token_use_in(c, u->id, u->now, e);
}

int
db_token_consume(struct db *db, const char *id, int64_t now,
    struct err *e)
{
	struct token_use u = { id, now };

	if (!token_id_ok(id)) {
		err_set(e, ERR_UNAUTHORIZED, "unauthorized");
		return -1;
	}
	return db_write(db, token_use_run, &u, NULL, e);
}
