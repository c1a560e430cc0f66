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
token_read(sqlite3_stmt *st, struct token_rec *out, struct err *e)
{
	char kind[16];
	const void *hash;
	bool ok;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (DB_COL_BUF(st, 0, out->id, e) == -1)
		goto out;
	hash = sqlite3_column_blob(st, 1);
	if (hash == NULL || sqlite3_column_bytes(st, 1) != 32) {
		log_error("db: token %s: bad hash", out->id);
		err_set(e, ERR_DB, "database error");
		goto out;
	}
	memcpy(out->hash, hash, 32);
	if (DB_COL_BUF(st, 2, kind, e) == -1)
		goto out;
	if (token_kind_parse(kind, &out->kind) == -1) {
		log_error("db: token %s: bad kind", out->id);
		err_set(e, ERR_DB, "database error");
		goto out;
	}
	if (DB_COL_BUF(st, 3, out->profile, e) == -1 ||
	    patterns_split((const char *)sqlite3_column_text(st, 4),
	    &out->patterns, &out->npatterns, e) == -1)
		goto out;
	out->uses_left = sqlite3_column_int64(st, 5);
	out->expires_at = sqlite3_column_int64(st, 6);
	out->max_cert_ttl = sqlite3_column_int64(st, 7);
	out->created_at = sqlite3_column_int64(st, 8);
	out->description = db_col_dup(st, 9, &ok);
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

int
db_token_insert(struct db *db, const struct token_rec *t,
    const struct audit_rec *a, struct err *e)
{
	struct db_conn *c;
	sqlite3_stmt *st = NULL;
	char *patterns = NULL;
	int rc = -1, s;

	if (t == NULL || t->id[0] == '\0' ||
	    (unsigned)t->kind >= TOKEN_KIND__MAX || t->uses_left < -1) {
		err_set(e, ERR_INVALID_REQUEST, "incomplete token");
		return -1;
	}
	if ((patterns = patterns_join(t->patterns, t->npatterns, e)) == NULL)
		return -1;
	if ((c = db_conn_get(db, e)) == NULL) {
		free(patterns);
		return -1;
	}
	if (db_tx_begin(c, e) == -1) {
		free(patterns);
		return -1;
	}
	if ((st = db_stmt(c, DB_STMT_TOKEN_INSERT, e)) == NULL)
		goto out;
	if (DB_BIND_BUF(c, st, 1, t->id, e) == -1 ||
	    db_bind_blob(c, st, 2, t->hash, sizeof(t->hash), e) == -1 ||
	    db_bind_text(c, st, 3, token_kind_name(t->kind), 16, e) == -1 ||
	    DB_BIND_BUF(c, st, 4, t->profile, e) == -1 ||
	    db_bind_text(c, st, 5, patterns, SIZE_MAX, e) == -1 ||
	    db_bind_int(c, st, 6, t->uses_left, e) == -1 ||
	    db_bind_int(c, st, 7, t->expires_at, e) == -1 ||
	    db_bind_int(c, st, 8, t->max_cert_ttl, e) == -1 ||
	    db_bind_int(c, st, 9, t->created_at, e) == -1 ||
	    db_bind_text(c, st, 10, t->description, RCA_MAX_DESCRIPTION + 1,
	    e) == -1)
		goto out;
	if ((s = db_step(c, st, "token insert", e)) != SQLITE_DONE) {
		if (s == -1 && e != NULL && e->code == ERR_ALREADY_EXISTS)
			err_set(e, ERR_ALREADY_EXISTS, "token already exists");
		goto out;
	}
	db_stmt_done(st);
	st = NULL;
	if (db_audit_insert(c, a, e) == -1)
		goto out;
	rc = db_tx_commit(c, e);
	free(patterns);
	return rc;
out:
	db_stmt_done(st);
	db_tx_rollback(c);
	free(patterns);
	return rc;
}

/* Fetch one token by id (tid) or, when hash is not NULL, by hash. */
static int
token_fetch(struct db *db, enum db_stmt id, const char *tid,
    const unsigned char *hash, struct token_rec *out, struct err *e)
{
	struct db_conn *c;
	sqlite3_stmt *st = NULL;
	int rc = -1, s;

	memset(out, 0, sizeof(*out));
	if ((c = db_conn_get(db, e)) == NULL)
		return -1;
	if ((st = db_stmt(c, id, e)) == NULL)
		goto out;
	if (hash != NULL ? db_bind_blob(c, st, 1, hash, 32, e) :
	    db_bind_text(c, st, 1, tid, RCA_TOKEN_ID_HEX + 1, e))
		goto out;
	if ((s = db_step(c, st, "token get", e)) == -1)
		goto out;
	if (s == SQLITE_DONE) {
		err_set(e, ERR_NOT_FOUND, "token not found");
		goto out;
	}
	if (token_read(st, out, e) == -1)
		goto out;
	rc = 0;
out:
	db_stmt_done(st);
	return rc;
}

int
db_token_get(struct db *db, const char *id, struct token_rec *out,
    struct err *e)
{
	if (id == NULL || strnlen(id, RCA_TOKEN_ID_HEX + 1) >
	    RCA_TOKEN_ID_HEX) {
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
	struct db_conn *c;
	sqlite3_stmt *st = NULL;
	struct token_rec *list = NULL;
	size_t cnt = 0;
	int s, rc = -1;

	*out = NULL;
	*n = 0;
	next[0] = '\0';
	limit = db_limit(limit);
	if ((c = db_conn_get(db, e)) == NULL)
		return -1;
	if ((st = db_stmt(c, DB_STMT_TOKEN_LIST, e)) == NULL)
		goto out;
	if (db_bind_text(c, st, 1, after != NULL ? after : "",
	    RCA_TOKEN_ID_HEX + 1, e) == -1 ||
	    db_bind_int(c, st, 2, (int64_t)limit + 1, e) == -1)
		goto out;
	if ((list = calloc(limit, sizeof(*list))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	while ((s = db_step(c, st, "token list", e)) == SQLITE_ROW) {
		if (cnt == limit) {
			memcpy(next, list[cnt - 1].id, sizeof(list->id));
			break;
		}
		if (token_read(st, &list[cnt], e) == -1)
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
		db_token_list_free(list, cnt);
	if (rc == -1)
		next[0] = '\0';
	return rc;
}

void
db_token_list_free(struct token_rec *list, size_t n)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		token_rec_clear(&list[i]);
	free(list);
}

/*
 * Run a one-row write on a token id in a write transaction with an
 * audit entry; *changed gets the number of rows it changed.
 */
static int
token_write(struct db *db, enum db_stmt id, const char *tid, int64_t now,
    const struct audit_rec *a, int *changed, struct err *e)
{
	struct db_conn *c;
	sqlite3_stmt *st = NULL;

	*changed = 0;
	if ((c = db_conn_get(db, e)) == NULL || db_tx_begin(c, e) == -1)
		return -1;
	if ((st = db_stmt(c, id, e)) == NULL)
		goto out;
	if (db_bind_text(c, st, 1, tid, RCA_TOKEN_ID_HEX + 1, e) == -1 ||
	    (id == DB_STMT_TOKEN_CONSUME &&
	    db_bind_int(c, st, 2, now, e) == -1))
		goto out;
	if (db_step(c, st, "token write", e) != SQLITE_DONE)
		goto out;
	db_stmt_done(st);
	st = NULL;
	if ((*changed = sqlite3_changes(c->h)) == 0) {
		db_tx_rollback(c);
		return 0;
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
db_token_delete(struct db *db, const char *id, const struct audit_rec *a,
    struct err *e)
{
	int changed;

	if (id == NULL || strnlen(id, RCA_TOKEN_ID_HEX + 1) >
	    RCA_TOKEN_ID_HEX) {
		err_set(e, ERR_NOT_FOUND, "token not found");
		return -1;
	}
	if (token_write(db, DB_STMT_TOKEN_DELETE, id, 0, a, &changed,
	    e) == -1)
		return -1;
	if (changed == 0) {
		err_set(e, ERR_NOT_FOUND, "token not found");
		return -1;
	}
	return 0;
}

int
db_token_use_in(struct db_conn *c, const char *id, int64_t now,
    struct err *e)
{
	sqlite3_stmt *st;
	int s;

	if (id == NULL || strnlen(id, RCA_TOKEN_ID_HEX + 1) >
	    RCA_TOKEN_ID_HEX) {
		err_set(e, ERR_UNAUTHORIZED, "unauthorized");
		return -1;
	}
	if ((st = db_stmt(c, DB_STMT_TOKEN_CONSUME, e)) == NULL)
		return -1;
	if (db_bind_text(c, st, 1, id, RCA_TOKEN_ID_HEX + 1, e) == -1 ||
	    db_bind_int(c, st, 2, now, e) == -1)
		s = -1;
	else
		s = db_step(c, st, "token use", e);
	db_stmt_done(st);
	if (s != SQLITE_DONE)
		return -1;
	if (sqlite3_changes(c->h) == 0) {
		err_set(e, ERR_UNAUTHORIZED, "unauthorized");
		return -1;
	}
	return 0;
}

int
db_token_consume(struct db *db, const char *id, int64_t now,
    struct err *e)
{
	int changed;

	if (id == NULL || strnlen(id, RCA_TOKEN_ID_HEX + 1) >
	    RCA_TOKEN_ID_HEX) {
		err_set(e, ERR_UNAUTHORIZED, "unauthorized");
		return -1;
	}
	if (token_write(db, DB_STMT_TOKEN_CONSUME, id, now, NULL, &changed,
	    e) == -1)
		return -1;
	if (changed == 0) {
		err_set(e, ERR_UNAUTHORIZED, "unauthorized");
		return -1;
	}
	return 0;
}
