/*
 * The phases of a CA rollover (SPEC section 10): prepare, complete,
 * activate, retire.  Each phase is one write transaction whose first
 * statement bumps the CA generation (ca_meta): on PostgreSQL that row
 * lock queues concurrent phases of every instance, and the checks that
 * follow read what the previous phase committed, so a refusal is
 * decided on the state it refuses.  The unique partial indexes of cas
 * are the last guard.  A phase sends NOTIFY redisca_ca (payload the new
 * generation) at its commit on PostgreSQL and appends its audit entry
 * in the same transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "priv.h"

/* How many serials an ERR_CA_IN_USE message names. */
#define CA_IN_USE_NAMED	5

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
	int rc = -1;

	if (ca_state_parse(db_col_str(r, 1), &st) == -1) {
		db_ca_corrupt(r, "state", e);
		goto out;
	}
	if (st == CA_STATE_PENDING) {
		s->pending = db_col_int(r, 0);
		if (DB_COL_BUF(r, 2, s->pending_spki, e) == -1)
			goto out;
	} else if (st == CA_STATE_NEXT)
		s->next = db_col_int(r, 0);
	else if (st == CA_STATE_CURRENT)
		s->current = db_col_int(r, 0);
	else if (st == CA_STATE_RETIRED)
		s->retired = db_col_int(r, 0);
	rc = 0;
out:
	return rc;
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
	const struct db_arg pay[] = { DB_BUF(num) };
	int rc = -1;

	memset(s, 0, sizeof(*s));
	if (db_get(c, DB_STMT_CA_BUMP, NULL, 0, db_int_read, &gen,
	    "CA generation bump", e) != 1) {
		if (e->code == ERR_OK)
			db_fail(c, "CA generation bump (no row)", e);
		goto out;
	}
	if (db_query(c, DB_STMT_CA_STATES, NULL, 0, slot_add, s, "CA states",
	    e) == -1)
		goto out;
	snprintf(num, sizeof(num), "%lld", (long long)gen);
	if (c->db->dialect == DB_DIALECT_PG && db_get(c, DB_STMT_PG_NOTIFY_CA,
	    pay, DB_NARGS(pay), NULL, NULL, "CA notify", e) == -1)
		goto out;
	rc = 0;
out:
	return rc;
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

/* Refuse a prepare in state s: 0 when it may go on, else -1. */
static int
prepare_refused(const struct ca_slots *s, struct err *e)
{
	int rc = -1;

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
		rc = 0;
	return rc;
}

/* Insert r (checked) in c's open transaction; r->id gets its id. */
static int
ca_insert(struct db_conn *c, struct ca_rec *r, struct err *e)
{
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
	int rc = -1;

	if (db_get(c, DB_STMT_CA_INSERT, args, DB_NARGS(args), db_int_read,
	    &r->id, "CA insert", e) != 1) {
		/* Past the checks, only cas_one_next can refuse it. */
		if (e->code == ERR_ALREADY_EXISTS)
			err_set(e, ERR_CA_NEXT_EXISTS, "a next CA is already "
			    "prepared");
		else if (e->code == ERR_OK)
			db_fail(c, "CA insert (no id)", e);
		goto out;
	}
	rc = 0;
out:
	return rc;
}

/* db_ca_prepare()'s transaction. */
static int
prepare_run(struct db_conn *c, void *arg, struct err *e)
{
	struct ca_tx *tx = arg;
	struct ca_slots s;
	int k, rc = -1;

	if (phase_begin(c, &s, e) == -1 || prepare_refused(&s, e) == -1)
		goto out;
	if ((k = key_taken(c, tx->rec->ski, tx->rec->spki_sha256, 0, e)) !=
	    0) {
		if (k == 1)
			err_set(e, ERR_ALREADY_EXISTS, "a CA with this key or "
			    "SKI is already recorded");
		goto out;
	}
	if (ca_insert(c, tx->rec, e) == -1)
		goto out;
	rc = 0;
out:
	return rc;
}

int
db_ca_prepare(struct db *db, struct ca_rec *next,
    const struct audit_rec *a, struct err *e)
{
	struct ca_tx tx = { .rec = next };
	struct err le;
	int rc = -1;

	ERR_LOCAL(e, le);
	if (next == NULL || (next->state != CA_STATE_NEXT &&
	    next->state != CA_STATE_PENDING)) {
		err_set(e, ERR_INVALID_REQUEST, "invalid CA record: a "
		    "prepared CA is next or pending");
		goto out;
	}
	next->id = 0;
	if (db_ca_rec_check(next, next->state == CA_STATE_NEXT, e) == -1)
		goto out;
	if (next->state == CA_STATE_PENDING && next->cert_pem != NULL) {
		err_set(e, ERR_INVALID_REQUEST, "invalid CA record: a "
		    "pending CA has no certificate");
		goto out;
	}
	if (db_write(db, prepare_run, &tx, a, e) == -1) {
		next->id = 0;
		goto out;
	}
	rc = 0;
out:
	return rc;
}

/* db_ca_complete()'s transaction. */
static int
complete_run(struct db_conn *c, void *arg, struct err *e)
{
	struct ca_tx *tx = arg;
	const struct ca_rec *w = tx->with;
	const struct db_arg args[] = {
		DB_INT(tx->id), DB_TEXT(w->cert_pem, SIZE_MAX),
		DB_TEXT(w->anchors_pem, SIZE_MAX), DB_BUF(w->ski),
		DB_INT(w->not_before), DB_INT(w->not_after),
		DB_BUF(w->spki_sha256),
	};
	struct ca_slots s;
	int64_t n;
	int k, rc = -1;

	if (phase_begin(c, &s, e) == -1)
		goto out;
	if (s.pending == 0 || s.pending != tx->id) {
		err_set(e, ERR_CA_NOT_PREPARED, "no pending CA %lld to "
		    "complete", (long long)tx->id);
		goto out;
	}
	if (strcmp(s.pending_spki, w->spki_sha256) != 0) {
		err_set(e, ERR_INVALID_CHAIN, "the certificate is not for the "
		    "pending CA's key");
		goto out;
	}
	if ((k = key_taken(c, w->ski, w->spki_sha256, tx->id, e)) != 0) {
		if (k == 1)
			err_set(e, ERR_ALREADY_EXISTS, "another CA has this "
			    "SKI");
		goto out;
	}
	if ((n = db_run(c, DB_STMT_CA_COMPLETE, args, DB_NARGS(args),
	    "CA complete", e)) != 1) {
		if (n == 0)
			err_set(e, ERR_CA_NOT_PREPARED, "no pending CA %lld "
			    "to complete", (long long)tx->id);
		goto out;
	}
	rc = 0;
out:
	return rc;
}

int
db_ca_complete(struct db *db, int64_t id, const struct ca_rec *withcert,
    const struct audit_rec *a, struct err *e)
{
	struct ca_tx tx = { .with = withcert, .id = id };
	struct err le;
	int rc = -1;

	ERR_LOCAL(e, le);
	if (db_ca_rec_check(withcert, true, e) == -1 ||
	    db_write(db, complete_run, &tx, a, e) == -1)
		goto out;
	rc = 0;
out:
	return rc;
}

/* db_ca_activate()'s transaction. */
static int
activate_run(struct db_conn *c, void *arg, struct err *e)
{
	struct ca_tx *tx = arg;
	const struct db_arg now[] = { DB_INT(tx->now) };
	struct ca_slots s;
	int rc = -1;

	if (phase_begin(c, &s, e) == -1)
		goto out;
	if (s.next == 0 && s.pending != 0) {
		err_set(e, ERR_CA_NOT_PREPARED, "the prepared CA (CA %lld) "
		    "has no certificate yet: complete it first",
		    (long long)s.pending);
		goto out;
	}
	if (s.next == 0) {
		err_set(e, ERR_CA_NOT_PREPARED, "no CA is prepared: run "
		    "prepare first");
		goto out;
	}
	if (s.retired != 0) {
		err_set(e, ERR_CA_RETIRE_PENDING, "the previous CA (CA %lld) "
		    "is still in the bundle: retire it first",
		    (long long)s.retired);
		goto out;
	}
	/* Current first: the one-current index never sees two. */
	if (db_run(c, DB_STMT_CA_RETIRE_CURRENT, now, DB_NARGS(now),
	    "CA retire current", e) == -1 ||
	    db_run(c, DB_STMT_CA_ACTIVATE_NEXT, now, DB_NARGS(now),
	    "CA activate next", e) == -1 ||
	    db_run(c, DB_STMT_NODE_ALL_DUE, NULL, 0, "nodes due", e) == -1)
		goto out;
	rc = 0;
out:
	return rc;
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

/* Serials read into v, at most the slots the list asked for. */
struct ca_serials {
	char	(*v)[RCA_SERIAL_HEX_MAX + 1];
	size_t	 n;
};

static int
serial_add(const struct db_row *r, void *arg, struct err *e)
{
	struct ca_serials *s = arg;
	int rc = -1;

	if (DB_COL_BUF(r, 0, s->v[s->n], e) == -1)
		goto out;
	s->n++;
	rc = 0;
out:
	return rc;
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
	int rc = -1;

	*count = 0;
	if (db_get(c, DB_STMT_CA_UNEXPIRED_COUNT, args, 2, db_int_read, &n,
	    "CA unexpired count", e) != 1) {
		if (e->code == ERR_OK)
			db_fail(c, "CA unexpired count (no row)", e);
		goto out;
	}
	*count = (size_t)n;
	if (max > 0 && serials != NULL && n > 0 &&
	    db_query(c, DB_STMT_CA_UNEXPIRED_LIST, args, DB_NARGS(args),
	    serial_add, &s, "CA unexpired list", e) == -1)
		goto out;
	rc = 0;
out:
	return rc;
}

int
db_ca_unexpired(struct db *db, int64_t ca_id, int64_t now,
    char (*serials)[RCA_SERIAL_HEX_MAX + 1], size_t max, size_t *count,
    struct err *e)
{
	struct db_conn *c;
	int rc = -1;

	*count = 0;
	if ((c = db_conn_get(db, e)) == NULL || db_read_begin(c, e) == -1)
		goto out;
	rc = unexpired_in(c, ca_id, now, serials, max, count, e);
	db_read_end(c);
out:
	return rc;
}

/* ERR_CA_IN_USE for CA id: how many, and the first n serials. */
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

/* Is id (0: any) the retired CA of s?  0, or -1 with e set. */
static int
retire_which(const struct ca_slots *s, int64_t id, struct err *e)
{
	int rc = -1;

	if (s->retired == 0)
		err_set(e, ERR_CA_NOTHING_TO_RETIRE, "no retired CA is in the "
		    "bundle");
	else if (id != 0 && id != s->retired)
		err_set(e, ERR_CA_NOTHING_TO_RETIRE, "CA %lld is not the "
		    "retired CA (CA %lld is)", (long long)id,
		    (long long)s->retired);
	else
		rc = 0;
	return rc;
}

/* db_ca_retire()'s transaction. */
static int
retire_run(struct db_conn *c, void *arg, struct err *e)
{
	struct ca_tx *tx = arg;
	char serials[CA_IN_USE_NAMED][RCA_SERIAL_HEX_MAX + 1];
	struct db_arg args[1];
	struct ca_slots s;
	size_t count;
	int rc = -1;

	if (phase_begin(c, &s, e) == -1 || retire_which(&s, tx->id, e) == -1)
		goto out;
	if (unexpired_in(c, s.retired, tx->now, serials, CA_IN_USE_NAMED,
	    &count, e) == -1)
		goto out;
	if (count > 0) {
		in_use(s.retired, count,
		    (const char (*)[RCA_SERIAL_HEX_MAX + 1])serials,
		    count < CA_IN_USE_NAMED ? count : CA_IN_USE_NAMED, e);
		goto out;
	}
	args[0] = DB_INT(s.retired);
	if (db_run(c, DB_STMT_CA_GONE, args, DB_NARGS(args), "CA gone",
	    e) != 1) {
		if (e->code == ERR_OK)
			db_fail(c, "CA gone (no row)", e);
		goto out;
	}
	rc = 0;
out:
	return rc;
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
