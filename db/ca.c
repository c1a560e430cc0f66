/*
 * The CAs (table cas, schema 4) and the phases of their rollover (SPEC
 * section 10): prepare, complete, activate, retire.  Each phase is one
 * write transaction whose first statement bumps the CA generation
 * (ca_meta): on PostgreSQL that row lock queues concurrent phases of
 * every instance, and the checks that follow read what the previous
 * phase committed, so a refusal is decided on the state it refuses.
 * The unique partial indexes of cas are the last guard.  A phase sends
 * NOTIFY redisca_ca (payload the new generation) at its commit on
 * PostgreSQL and appends its audit entry in the same transaction.
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

/* How many serials an ERR_CA_IN_USE message names. */
#define CA_IN_USE_NAMED	5

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

/* Log that column what of CA row r is bad: ERR_DB, -1. */
static int
ca_corrupt(const struct db_row *r, const char *what, struct err *e)
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
		ca_corrupt(r, "state", e);
		goto out;
	}
	if (key_type_parse(kt, &out->key_type) == -1) {
		ca_corrupt(r, "key_type", e);
		goto out;
	}
	out->cert_pem = db_col_dup(r, 4, &ok1);
	out->csr_pem = db_col_dup(r, 5, &ok2);
	out->anchors_pem = db_col_dup(r, 6, &ok3);
	if (!ok1 || !ok2 || !ok3 || out->anchors_pem == NULL) {
		ca_corrupt(r, "PEM", e);
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

/* Read one integer column (a generation, an id, a count). */
static int
int_read(const struct db_row *r, void *p, struct err *e)
{
	(void)e;
	*(int64_t *)p = db_col_int(r, 0);
	return 0;
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
	if (db_get(c, DB_STMT_CA_GENERATION, NULL, 0, int_read, &gen,
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

	*out = 0;
	if ((c = db_conn_get(db, e)) == NULL)
		return -1;
	if (db_get(c, DB_STMT_CA_GENERATION, NULL, 0, int_read, &gen,
	    "CA generation", e) != 1) {
		if (e->code == ERR_OK)
			db_fail(c, "CA generation (no row)", e);
		return -1;
	}
	*out = (uint64_t)gen;
	return 0;
}

/*
 * Check the fields every stored CA has; cert: it must have its
 * certificate (else a CSR).  0, or -1 with ERR_INVALID_REQUEST.
 */
static int
ca_rec_check(const struct ca_rec *r, bool cert, struct err *e)
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

	ERR_LOCAL(e, le);
	if (ca_rec_check(cur, true, e) == -1)
		return -1;
	copy = *cur;
	return db_write(db, bootstrap_run, &copy, NULL, e);
}

/* ---- the phases ---- */

/* What a phase transaction works on. */
struct ca_tx {
	struct ca_rec		*rec;	/* prepare: the new row (id out) */
	const struct ca_rec	*with;	/* complete: the certificate */
	int64_t			 id;	/* complete, retire: the CA */
	int64_t			 now;
};

/* The CAs in the bundle or prepared, as a phase reads them. */
struct ca_slots {
	int64_t	pending, next, current, retired;	/* ids; 0: none */
	char	pending_spki[RCA_SHA256_HEX + 1];
};

/* Read a row of DB_STMT_CA_STATES into struct ca_slots. */
static int
slot_add(const struct db_row *r, void *arg, struct err *e)
{
	struct ca_slots *s = arg;
	enum ca_state st;

	if (ca_state_parse(db_col_str(r, 1), &st) == -1)
		return ca_corrupt(r, "state", e);
	if (st == CA_STATE_PENDING) {
		s->pending = db_col_int(r, 0);
		if (DB_COL_BUF(r, 2, s->pending_spki, e) == -1)
			return -1;
	} else if (st == CA_STATE_NEXT)
		s->next = db_col_int(r, 0);
	else if (st == CA_STATE_CURRENT)
		s->current = db_col_int(r, 0);
	else if (st == CA_STATE_RETIRED)
		s->retired = db_col_int(r, 0);
	return 0;
}

/*
 * The start of every phase in c's open transaction: bump the
 * generation (the lock), read the CAs into s, and on PostgreSQL queue
 * NOTIFY redisca_ca with the new generation (sent only if it commits).
 */
static int
phase_begin(struct db_conn *c, struct ca_slots *s, struct err *e)
{
	int64_t gen = 0;
	char num[24];

	memset(s, 0, sizeof(*s));
	if (db_get(c, DB_STMT_CA_BUMP, NULL, 0, int_read, &gen,
	    "CA generation bump", e) != 1) {
		if (e->code == ERR_OK)
			db_fail(c, "CA generation bump (no row)", e);
		return -1;
	}
	if (db_query(c, DB_STMT_CA_STATES, NULL, 0, slot_add, s, "CA states",
	    e) == -1)
		return -1;
	if (c->db->dialect != DB_DIALECT_PG)
		return 0;
	snprintf(num, sizeof(num), "%lld", (long long)gen);
	const struct db_arg pay[] = { DB_BUF(num) };
	return db_get(c, DB_STMT_PG_NOTIFY_CA, pay, DB_NARGS(pay), NULL, NULL,
	    "CA notify", e) == -1 ? -1 : 0;
}

/* Does a CA other than id have this SKI or key?  1, 0 or -1. */
static int
key_taken(struct db_conn *c, const char *ski, const char *spki,
    int64_t id, struct err *e)
{
	const struct db_arg args[] = {
		DB_TEXT(ski, RCA_SKI_HEX_MAX + 1),
		DB_TEXT(spki, RCA_SHA256_HEX + 1), DB_INT(id),
	};

	return db_get(c, DB_STMT_CA_KEY_TAKEN, args, DB_NARGS(args), NULL,
	    NULL, "CA key taken", e);
}

/* Refuse a prepare in state s: 0 when it may go on. */
static int
prepare_refused(const struct ca_slots *s, struct err *e)
{
	if (s->next != 0)
		err_set(e, ERR_CA_NEXT_EXISTS, "a next CA is already "
		    "prepared (CA %lld): activate it first",
		    (long long)s->next);
	else if (s->pending != 0)
		err_set(e, ERR_CA_NEXT_EXISTS, "a CA is already prepared "
		    "(CA %lld, pending its certificate): complete it with "
		    "its certificate", (long long)s->pending);
	else if (s->retired != 0)
		err_set(e, ERR_CA_RETIRE_PENDING, "the previous CA (CA %lld) "
		    "is still in the bundle: retire it first",
		    (long long)s->retired);
	else if (s->current == 0)
		err_set(e, ERR_CONFLICT, "no current CA is recorded in the "
		    "database");
	else
		return 0;
	return -1;
}

/* db_ca_prepare()'s transaction. */
static int
prepare_run(struct db_conn *c, void *arg, struct err *e)
{
	struct ca_tx *tx = arg;
	struct ca_rec *r = tx->rec;
	struct ca_slots s;
	int k;

	if (phase_begin(c, &s, e) == -1 || prepare_refused(&s, e) == -1)
		return -1;
	if ((k = key_taken(c, r->ski, r->spki_sha256, 0, e)) != 0) {
		if (k == 1)
			err_set(e, ERR_ALREADY_EXISTS, "a CA with this key or "
			    "SKI is already recorded");
		return -1;
	}
	const struct db_arg args[] = {
		DB_BUF(r->ski), DB_BUF(r->spki_sha256),
		DB_TEXT(ca_state_name(r->state), 16),
		DB_TEXT(r->cert_pem, SIZE_MAX), DB_TEXT(r->csr_pem, SIZE_MAX),
		DB_TEXT(r->anchors_pem != NULL ? r->anchors_pem : "",
		    SIZE_MAX),
		DB_TEXT(key_type_name(r->key_type), 16),
		r->cert_pem != NULL ? DB_INT(r->not_before) : DB_NULL,
		r->cert_pem != NULL ? DB_INT(r->not_after) : DB_NULL,
		DB_INT(r->created_at),
	};
	if (db_get(c, DB_STMT_CA_INSERT, args, DB_NARGS(args), int_read,
	    &r->id, "CA insert", e) == 1)
		return 0;
	/* Past the checks, only cas_one_next can refuse it. */
	if (e->code == ERR_ALREADY_EXISTS)
		err_set(e, ERR_CA_NEXT_EXISTS, "a next CA is already prepared");
	else if (e->code == ERR_OK)
		db_fail(c, "CA insert (no id)", e);
	return -1;
}

int
db_ca_prepare(struct db *db, struct ca_rec *next,
    const struct audit_rec *a, struct err *e)
{
	struct ca_tx tx = { .rec = next };
	struct err le;

	ERR_LOCAL(e, le);
	if (next == NULL || (next->state != CA_STATE_NEXT &&
	    next->state != CA_STATE_PENDING)) {
		err_set(e, ERR_INVALID_REQUEST, "invalid CA record: a "
		    "prepared CA is next or pending");
		return -1;
	}
	if (ca_rec_check(next, next->state == CA_STATE_NEXT, e) == -1)
		return -1;
	if (next->state == CA_STATE_PENDING && next->cert_pem != NULL) {
		err_set(e, ERR_INVALID_REQUEST, "invalid CA record: a "
		    "pending CA has no certificate");
		return -1;
	}
	next->id = 0;
	if (db_write(db, prepare_run, &tx, a, e) == -1) {
		next->id = 0;
		return -1;
	}
	return 0;
}

/* db_ca_complete()'s transaction. */
static int
complete_run(struct db_conn *c, void *arg, struct err *e)
{
	struct ca_tx *tx = arg;
	const struct ca_rec *w = tx->with;
	struct ca_slots s;
	int k;

	if (phase_begin(c, &s, e) == -1)
		return -1;
	if (s.pending == 0 || s.pending != tx->id) {
		err_set(e, ERR_CA_NOT_PREPARED, "no pending CA %lld to "
		    "complete", (long long)tx->id);
		return -1;
	}
	if (strcmp(s.pending_spki, w->spki_sha256) != 0) {
		err_set(e, ERR_INVALID_CHAIN, "the certificate is not for the "
		    "pending CA's key");
		return -1;
	}
	if ((k = key_taken(c, w->ski, w->spki_sha256, tx->id, e)) != 0) {
		if (k == 1)
			err_set(e, ERR_ALREADY_EXISTS, "another CA has this "
			    "SKI");
		return -1;
	}
	const struct db_arg args[] = {
		DB_INT(tx->id), DB_TEXT(w->cert_pem, SIZE_MAX),
		DB_TEXT(w->anchors_pem, SIZE_MAX), DB_BUF(w->ski),
		DB_INT(w->not_before), DB_INT(w->not_after),
		DB_BUF(w->spki_sha256),
	};
	if ((k = (int)db_run(c, DB_STMT_CA_COMPLETE, args, DB_NARGS(args),
	    "CA complete", e)) == 1)
		return 0;
	if (k == 0)
		err_set(e, ERR_CA_NOT_PREPARED, "no pending CA %lld to "
		    "complete", (long long)tx->id);
	return -1;
}

int
db_ca_complete(struct db *db, int64_t id, const struct ca_rec *withcert,
    const struct audit_rec *a, struct err *e)
{
	struct ca_tx tx = { .with = withcert, .id = id };
	struct err le;

	ERR_LOCAL(e, le);
	if (ca_rec_check(withcert, true, e) == -1)
		return -1;
	return db_write(db, complete_run, &tx, a, e);
}

/* db_ca_activate()'s transaction. */
static int
activate_run(struct db_conn *c, void *arg, struct err *e)
{
	struct ca_tx *tx = arg;
	const struct db_arg now[] = { DB_INT(tx->now) };
	struct ca_slots s;

	if (phase_begin(c, &s, e) == -1)
		return -1;
	if (s.next == 0 && s.pending != 0) {
		err_set(e, ERR_CA_NOT_PREPARED, "the prepared CA (CA %lld) "
		    "has no certificate yet: complete it first",
		    (long long)s.pending);
		return -1;
	}
	if (s.next == 0) {
		err_set(e, ERR_CA_NOT_PREPARED, "no CA is prepared: run "
		    "prepare first");
		return -1;
	}
	if (s.retired != 0) {
		err_set(e, ERR_CA_RETIRE_PENDING, "the previous CA (CA %lld) "
		    "is still in the bundle: retire it first",
		    (long long)s.retired);
		return -1;
	}
	if (db_run(c, DB_STMT_CA_RETIRE_CURRENT, now, DB_NARGS(now),
	    "CA retire current", e) == -1 ||
	    db_run(c, DB_STMT_CA_ACTIVATE_NEXT, now, DB_NARGS(now),
	    "CA activate next", e) == -1 ||
	    db_run(c, DB_STMT_NODE_ALL_DUE, NULL, 0, "nodes due", e) == -1)
		return -1;
	return 0;
}

int
db_ca_activate(struct db *db, int64_t now, const struct audit_rec *a,
    struct err *e)
{
	struct ca_tx tx = { .now = now };
	struct err le;

	ERR_LOCAL(e, le);
	return db_write(db, activate_run, &tx, a, e);
}

/* Read a serial into the next slot of a ca_serials. */
struct ca_serials {
	char	(*v)[RCA_SERIAL_HEX_MAX + 1];
	size_t	 n;
};

static int
serial_add(const struct db_row *r, void *arg, struct err *e)
{
	struct ca_serials *s = arg;

	if (DB_COL_BUF(r, 0, s->v[s->n], e) == -1)
		return -1;
	s->n++;
	return 0;
}

/*
 * CA ca_id's unexpired, unrevoked certificates on c: *count, and the
 * first max serials into serials (soonest expiry first).
 */
static int
unexpired_in(struct db_conn *c, int64_t ca_id, int64_t now,
    char (*serials)[RCA_SERIAL_HEX_MAX + 1], size_t max, size_t *count,
    struct err *e)
{
	const struct db_arg args[] = {
		DB_INT(ca_id), DB_INT(now),
		DB_INT(max > INT64_MAX ? INT64_MAX : (int64_t)max),
	};
	struct ca_serials s = { serials, 0 };
	int64_t n = 0;

	*count = 0;
	if (db_get(c, DB_STMT_CA_UNEXPIRED_COUNT, args, 2, int_read, &n,
	    "CA unexpired count", e) != 1) {
		if (e->code == ERR_OK)
			db_fail(c, "CA unexpired count (no row)", e);
		return -1;
	}
	*count = (size_t)n;
	if (max == 0 || serials == NULL || n == 0)
		return 0;
	return db_query(c, DB_STMT_CA_UNEXPIRED_LIST, args, DB_NARGS(args),
	    serial_add, &s, "CA unexpired list", e) == -1 ? -1 : 0;
}

int
db_ca_unexpired(struct db *db, int64_t ca_id, int64_t now,
    char (*serials)[RCA_SERIAL_HEX_MAX + 1], size_t max, size_t *count,
    struct err *e)
{
	struct db_conn *c;
	int rc;

	*count = 0;
	if ((c = db_conn_get(db, e)) == NULL || db_read_begin(c, e) == -1)
		return -1;
	rc = unexpired_in(c, ca_id, now, serials, max, count, e);
	db_read_end(c);
	return rc;
}

/* ERR_CA_IN_USE for CA id: how many, and the first serials. */
static void
in_use(int64_t id, size_t count,
    const char (*serials)[RCA_SERIAL_HEX_MAX + 1], size_t n, struct err *e)
{
	char list[CA_IN_USE_NAMED * (RCA_SERIAL_HEX_MAX + 2) + 8];
	size_t len = 0;

	list[0] = '\0';
	for (size_t i = 0; i < n && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len,
		    "%s%s", i > 0 ? ", " : "", serials[i]);
	err_set(e, ERR_CA_IN_USE, "CA %lld has %zu unexpired, unrevoked "
	    "certificate%s (%s%s): revoke them (force) or wait until they "
	    "expire", (long long)id, count, count == 1 ? "" : "s", list,
	    count > n ? ", ..." : "");
}

/* db_ca_retire()'s transaction. */
static int
retire_run(struct db_conn *c, void *arg, struct err *e)
{
	struct ca_tx *tx = arg;
	char serials[CA_IN_USE_NAMED][RCA_SERIAL_HEX_MAX + 1];
	struct ca_slots s;
	size_t count;
	int64_t id;

	if (phase_begin(c, &s, e) == -1)
		return -1;
	id = tx->id != 0 ? tx->id : s.retired;
	if (s.retired == 0) {
		err_set(e, ERR_CA_NOTHING_TO_RETIRE, "no retired CA is in the "
		    "bundle");
		return -1;
	}
	if (s.retired != id) {
		err_set(e, ERR_CA_NOTHING_TO_RETIRE, "CA %lld is not the "
		    "retired CA (CA %lld is)", (long long)id,
		    (long long)s.retired);
		return -1;
	}
	if (unexpired_in(c, id, tx->now, serials, CA_IN_USE_NAMED, &count,
	    e) == -1)
		return -1;
	if (count > 0) {
		in_use(id, count, (const char (*)[RCA_SERIAL_HEX_MAX + 1])
		    serials, count < CA_IN_USE_NAMED ? count : CA_IN_USE_NAMED,
		    e);
		return -1;
	}
	const struct db_arg args[] = { DB_INT(id) };
	if (db_run(c, DB_STMT_CA_GONE, args, DB_NARGS(args), "CA gone",
	    e) != 1) {
		if (e->code == ERR_OK)
			db_fail(c, "CA gone (no row)", e);
		return -1;
	}
	return 0;
}

int
db_ca_retire(struct db *db, int64_t ca_id, int64_t now,
    const struct audit_rec *a, struct err *e)
{
	struct ca_tx tx = { .id = ca_id, .now = now };
	struct err le;

	ERR_LOCAL(e, le);
	return db_write(db, retire_run, &tx, a, e);
}
