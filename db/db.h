/*
 * db/: all of redis-ca's SQL.  SQLite in WAL mode, synchronous=FULL,
 * STRICT tables, PRAGMA user_version migrations, defensive mode, foreign
 * keys, busy timeout; every statement lives in one table and is prepared
 * once per connection; every value is bound.
 *
 * Thread safety: a struct db may be shared by any number of threads.
 * Each thread gets its own SQLite connection, opened on first use.
 * Writes run in BEGIN IMMEDIATE transactions; a function that returns 0
 * after a write has committed it durably.
 *
 * Lists take a cursor (`after`, the last id of the previous page; 0 or
 * NULL for the first) and a limit, and return the next cursor (0 / ""
 * when there are no more rows).  List arrays are new: free them with the
 * matching *_list_free().  A limit of 0 means RCA_DEFAULT_LIST_LIMIT;
 * limits above RCA_MAX_LIST_LIMIT are cut to it.
 */
#ifndef RCA_DB_H
#define RCA_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "records.h"

struct db;

/*
 * Open and migrate the database at path: a SQLite file (created with
 * mode 0600 if missing), or, when path starts with postgresql:// or
 * postgres://, a libpq connection URI (multi-host and
 * target_session_attrs allowed; passwords from a passfile only, never
 * logged).  On PostgreSQL the migration runs under an advisory lock;
 * a read-only server (hot standby) opens only if its schema is
 * current.  Returns a new handle (db_close()), or NULL.  Errors:
 * ERR_DB, ERR_IO, ERR_READ_ONLY (standby with an old schema),
 * ERR_UNAVAILABLE (server unreachable).
 */
struct db *db_open(const char *path, struct err *e);

/* Whether database is a libpq URI (postgresql:// or postgres://). */
bool	db_is_postgres(const char *database);

/* Close every connection.  Call when no other thread uses db.  NULL ok. */
void	db_close(struct db *db);

/* Schema version after migrations (PRAGMA user_version). */
int	db_schema_version(struct db *db);

/*
 * Check that the database is writable (for /readyz).  Errors: ERR_DB,
 * ERR_READ_ONLY (PostgreSQL standby), ERR_UNAVAILABLE.
 */
int	db_ping(struct db *db, struct err *e);

/* What db_state() returns. */
enum db_state {
	DB_STATE_OK,		/* reachable and writable */
	DB_STATE_READ_ONLY,	/* reachable, read-only (hot standby) */
	DB_STATE_UNAVAILABLE,	/* unreachable or failing */
};

/*
 * The database's state after one round trip on this thread's
 * connection (SQLite: OK or UNAVAILABLE, as db_ping() finds it).  For
 * /readyz and metrics.  Thread-safe.
 */
int	db_state(struct db *db);

/* ---- certificates ---- */

/*
 * Insert an issued certificate and (if a is not NULL) its audit entry
 * in one transaction, committed durably before return.  Concurrent
 * callers may be grouped into one transaction (group commit); each
 * still returns only after the commit.
 * Errors: ERR_ALREADY_EXISTS (serial taken), ERR_DB.
 */
int	db_cert_insert(struct db *db, const struct cert_rec *c,
	    const struct audit_rec *a, struct err *e);

/*
 * db_cert_insert() that also spends one use of enroll token token (at
 * c->created_at) in the same transaction: the use is spent exactly
 * when the certificate is stored.  Errors: those of db_cert_insert(),
 * ERR_UNAUTHORIZED (token gone, expired or used up: nothing stored).
 */
int	db_cert_insert_use(struct db *db, const struct cert_rec *c,
	    const char *token, const struct audit_rec *a, struct err *e);

/* Fetch one certificate by lowercase serial.  Errors: ERR_NOT_FOUND, ERR_DB. */
int	db_cert_get(struct db *db, const char *serial, struct cert_rec *out,
	    struct err *e);

/*
 * List certificates matching f in id order, at most f->limit, starting
 * after f->after.  *next is the cursor for the next page (0: none).
 * Every filter is served by an index (a status or expires_before range
 * may first be sized by a bounded count of its index entries), so a
 * page costs about the same at any table size.  Errors: ERR_DB,
 * ERR_INVALID_REQUEST (status out of range).
 */
int	db_cert_list(struct db *db, const struct cert_filter *f,
	    struct cert_rec **out, size_t *n, int64_t *next, struct err *e);
void	db_cert_list_free(struct cert_rec *list, size_t n);

/*
 * Revoke a certificate atomically (one UPDATE ... WHERE revoked_at IS
 * NULL) with its audit entry; out (may be NULL) receives the row after.
 * Errors: ERR_NOT_FOUND, ERR_ALREADY_REVOKED, ERR_DB.
 */
int	db_cert_revoke(struct db *db, const char *serial, int reason,
	    int64_t at, const struct audit_rec *a, struct cert_rec *out,
	    struct err *e);

/*
 * Revoke a certificate for keyCompromise, in one transaction: the
 * certificate itself (as db_cert_revoke(), audit entry a), then its key
 * spki (the lowercase hex SHA-256 of its canonical SubjectPublicKeyInfo,
 * computed by the caller) is blocked, and every other certificate with
 * that key that is neither revoked nor expired at `at` is revoked with
 * the same time and reason, each with a copy of sibling (may be NULL)
 * in the audit log whose object is its serial.  *nsiblings (may be
 * NULL) gets their number.
 * Errors: ERR_NOT_FOUND, ERR_ALREADY_REVOKED, ERR_INVALID_REQUEST (bad
 * hash), ERR_DB.
 */
int	db_cert_revoke_key(struct db *db, const char *serial,
	    const char *spki, int64_t at, const struct audit_rec *a,
	    const struct audit_rec *sibling, struct cert_rec *out,
	    size_t *nsiblings, struct err *e);

/*
 * Blocked keys.  db_key_block() blocks a key (by hash; serial names the
 * certificate whose compromise blocked it; blocking twice keeps the
 * first).  db_key_blocked() returns 1 when the key is blocked (the
 * serial goes to serial, cap bytes, when not NULL), 0 when not, -1 on
 * error.  db_cert_insert() refuses a certificate whose spki_sha256 is
 * blocked with ERR_KEY_REJECTED, inside its own transaction.
 * Errors: ERR_INVALID_REQUEST (bad hash), ERR_DB.
 */
int	db_key_block(struct db *db, const char *spki, const char *serial,
	    int64_t at, struct err *e);
int	db_key_blocked(struct db *db, const char *spki, char *serial,
	    size_t cap, struct err *e);

/*
 * Certificates stored without spki_sha256 (rows older than schema
 * version 2), for the start-up backfill: at most limit rows with id >
 * after, in id order.  The list is new (db_cert_spki_rows_free()).
 * db_cert_spki_set() stores the hashes of rows in one transaction (rows
 * with an empty hash are skipped; a row that has one already keeps it).
 */
struct db_spki_row {
	int64_t	id;
	char	serial[RCA_SERIAL_HEX_MAX + 1];
	char	*pem;				/* owned */
	char	spki_sha256[RCA_SHA256_HEX + 1];	/* caller fills */
};
int	db_cert_spki_missing(struct db *db, int64_t after, size_t limit,
	    struct db_spki_row **out, size_t *n, struct err *e);
void	db_cert_spki_rows_free(struct db_spki_row *rows, size_t n);
int	db_cert_spki_set(struct db *db, const struct db_spki_row *rows,
	    size_t n, struct err *e);

struct db_crl_row {
	char	serial[RCA_SERIAL_HEX_MAX + 1];
	int64_t	revoked_at;
	int	reason;
};

/* Revoked certificates of CA ca_id whose notAfter >= now (its CRL). */
int	db_cert_revoked_unexpired(struct db *db, int64_t ca_id, int64_t now,
	    struct db_crl_row **out, size_t *n, struct err *e);

/*
 * Per-profile counts for /metrics, in profile order, profiles with no
 * row left out.  Read from schema 3's counters, kept in the transaction
 * of every write (db_cert_insert per batch, triggers for revocations),
 * plus the unrevoked rows whose expiry lies between the counters' mark
 * (the newest created_at or CRL thisUpdate stored) and now: no table
 * scan.  Errors: ERR_DB.
 */
struct db_profile_count {
	char	profile[RCA_MAX_PROFILE_NAME + 1];
	int64_t	issued;		/* all rows */
	int64_t	active;		/* not revoked and not_after >= now */
	int64_t	revoked;	/* revoked */
};
int	db_cert_counts(struct db *db, int64_t now,
	    struct db_profile_count **out, size_t *n, struct err *e);

/* ---- tokens ---- */

/*
 * Insert a token (hash only) with its audit entry.
 * Errors: ERR_ALREADY_EXISTS, ERR_INVALID_REQUEST (a pattern that is
 * empty or holds a newline), ERR_DB.
 */
int	db_token_insert(struct db *db, const struct token_rec *t,
	    const struct audit_rec *a, struct err *e);

/* Fetch by id.  Errors: ERR_NOT_FOUND, ERR_DB. */
int	db_token_get(struct db *db, const char *id, struct token_rec *out,
	    struct err *e);

/* Fetch by SHA-256 of the token string.  Errors: ERR_NOT_FOUND, ERR_DB. */
int	db_token_find_hash(struct db *db, const unsigned char hash[32],
	    struct token_rec *out, struct err *e);

/*
 * List tokens in id order after `after` (NULL/"" first); next gets the
 * last id when more rows follow, else "".
 */
int	db_token_list(struct db *db, const char *after, size_t limit,
	    struct token_rec **out, size_t *n,
	    char next[RCA_TOKEN_ID_HEX + 1], struct err *e);
void	db_token_list_free(struct token_rec *list, size_t n);

/* Delete with audit entry.  Errors: ERR_NOT_FOUND, ERR_DB. */
int	db_token_delete(struct db *db, const char *id,
	    const struct audit_rec *a, struct err *e);

/*
 * Consume one use atomically: succeeds only while the token exists, is
 * unexpired at now and has uses_left > 0 (decremented) or -1 (unlimited).
 * Of two threads racing for the last use exactly one wins.
 * Errors: ERR_UNAUTHORIZED (gone, expired, used up), ERR_DB.
 */
int	db_token_consume(struct db *db, const char *id, int64_t now,
	    struct err *e);

/* ---- CRL state ---- */

/*
 * Every CA has its own CRL (SPEC section 10); the numbers are one
 * sequence across the CAs (schema 5: crls.ca_id), so each CA's numbers
 * strictly increase too.
 *
 * Store a newly built CRL of CA ca_id; number must be greater than
 * every stored number of any CA (ERR_CONFLICT otherwise), so the number
 * never goes back.
 * a (may be NULL) is appended in the same transaction.  der NULL and
 * len 0 claim the number only: its DER follows with db_crl_put_der(),
 * which then drops every older row (a lost DER leaves the claim,
 * which db_crl_latest() skips and db_crl_number() counts).
 */
int	db_crl_save(struct db *db, int64_t ca_id, uint64_t number,
	    int64_t this_update, int64_t next_update,
	    const unsigned char *der, size_t len, const struct audit_rec *a,
	    struct err *e);
int	db_crl_put_der(struct db *db, int64_t ca_id, uint64_t number,
	    const unsigned char *der, size_t len, struct err *e);

/*
 * The latest stored CRL of CA ca_id with its DER.  *der is new
 * (free()).  *number is 0 and ERR_NOT_FOUND is returned when none was
 * ever stored.
 */
int	db_crl_latest(struct db *db, int64_t ca_id, uint64_t *number,
	    int64_t *this_update, int64_t *next_update, unsigned char **der,
	    size_t *len, struct err *e);

/*
 * The latest stored CRL number of any CA (0: none), without reading
 * its DER.  Errors: ERR_DB.
 */
int	db_crl_number(struct db *db, uint64_t *number, struct err *e);

/*
 * Publishing a CRL when several instances share the database
 * (db_crl_publish()).  The caller says what its in-memory entries are
 * (now, ours, nentries); db/ hands sign() the number to claim and,
 * when those entries are not exactly the database's, every revoked
 * certificate unexpired at now (rows).  sign() builds the CRL and sets
 * der, len, this_update and next_update (and may fill audit).
 */
struct db_crl_pub {
	/* in */
	int64_t		 ca_id;		/* the CA whose CRL it is */
	int64_t		 now;		/* the CRL lists notAfter >= now */
	uint64_t	 ours;		/* the caller's newest CRL number */
	size_t		 nentries;	/* entries the caller holds for now */
	struct audit_rec *audit;	/* borrowed; may be NULL: appended */
	/* for sign() */
	uint64_t	 number;	/* to claim: max(stored, ours) + 1 */
	uint64_t	 stored;	/* the newest number stored before */
	bool		 full;		/* the caller's entries are not the
					   database's: rows is the list */
	const struct db_crl_row *rows;	/* borrowed during sign() */
	size_t		 nrows;
	/* from sign(): der borrowed until db_crl_publish() returns */
	const unsigned char *der;
	size_t		 len;
	int64_t		 this_update, next_update;
};

/*
 * sign(p, arg, e): build and sign CRL p->number; 0 or -1 with e set.
 * It may run more than once (a transaction retried after a deadlock):
 * each run replaces what the previous one set.
 */
typedef int db_crl_sign_fn(struct db_crl_pub *p, void *arg, struct err *e);

/*
 * One CRL publication, exact across instances, in one write
 * transaction: on PostgreSQL under the CRL lock (DB_STMT_PG_CRL_LOCK,
 * one publisher at a time across instances; on SQLite the write
 * transaction is that lock).  Inside it the newest stored number and
 * the number of revoked certificates unexpired at p->now are read; the
 * caller's entries only ever hold committed revocations, so when
 * p->nentries equals that count (and the database did not go back
 * below p->ours) they are exactly the database's, else sign() gets
 * the full list.  Then sign() runs, the CRL is stored with its DER
 * under p->number (older rows pruned), p->audit appended, and on
 * PostgreSQL NOTIFY redisca_crl (payload the number) is sent at the
 * commit.  So every CRL lists every revocation committed before its
 * number was claimed, and numbers strictly increase across instances.
 * Errors: ERR_DB, ERR_UNAVAILABLE, ERR_READ_ONLY, ERR_INVALID_REQUEST
 * (p->ours beyond INT64_MAX - 1), ERR_INTERNAL (sign() set no DER),
 * sign()'s own.
 */
int	db_crl_publish(struct db *db, struct db_crl_pub *p,
	    db_crl_sign_fn *sign, void *arg, struct err *e);

/*
 * The revoked certificates of CA ca_id whose notAfter is in [from,
 * to): those that left its CRL between two publications.  *out is new (free()).
 * Errors: ERR_DB, ERR_INTERNAL.
 */
struct db_serial {
	char	serial[RCA_SERIAL_HEX_MAX + 1];
};
int	db_crl_expired(struct db *db, int64_t ca_id, int64_t from,
	    int64_t to, struct db_serial **out, size_t *n, struct err *e);

/*
 * The revoked certificates of CA ca_id unexpired at now whose key is
 * spki (the lowercase hex SHA-256 of its SubjectPublicKeyInfo): a keyCompromise
 * cascade's, for the CRL.  *out is new (free()).  Errors: ERR_DB,
 * ERR_INTERNAL.
 */
int	db_crl_same_key(struct db *db, int64_t ca_id, const char *spki,
	    int64_t now, struct db_crl_row **out, size_t *n, struct err *e);

/* ---- audit (append-only) ---- */

/* Append an entry (its id is assigned).  Errors: ERR_DB. */
int	db_audit_append(struct db *db, const struct audit_rec *a,
	    struct err *e);

/*
 * Retention: delete at most max entries older than before (at <
 * before), oldest first, and append a (the audit.prune entry; "deleted=N"
 * goes in front of its detail) in one transaction.  *n receives N.  When
 * no entry is that old nothing is written.  This is the only statement
 * that deletes audit rows: the schema's trigger refuses every other
 * DELETE (and every UPDATE).  Errors: ERR_DB.
 */
int	db_audit_prune(struct db *db, int64_t before, size_t max,
	    const struct audit_rec *a, int64_t *n, struct err *e);

/* Entries with id > after, oldest first; *next = last id or 0. */
int	db_audit_list(struct db *db, int64_t after, size_t limit,
	    struct audit_rec **out, size_t *n, int64_t *next, struct err *e);
void	db_audit_list_free(struct audit_rec *list, size_t n);

/* ---- nodes and rotations ---- */

/*
 * Stores n's columns, group and mode included (group "" or equal to the
 * name is stored as ''; read back as the name).  role, served_serial,
 * drift_since and last_report_at are stored as given (normally zero).
 * Errors: ERR_ALREADY_EXISTS, ERR_INVALID_REQUEST (mode out of range),
 * ERR_DB.
 */
int	db_node_insert(struct db *db, const struct node_rec *n,
	    const struct audit_rec *a, struct err *e);
/* Errors: ERR_NOT_FOUND, ERR_DB. */
int	db_node_get(struct db *db, const char *name, struct node_rec *out,
	    struct err *e);
/* Nodes in name order after `after` (NULL/"" first). */
int	db_node_list(struct db *db, const char *after, size_t limit,
	    struct node_rec **out, size_t *n,
	    char next[RCA_MAX_NODE_NAME + 1], struct err *e);
void	db_node_list_free(struct node_rec *list, size_t n);

/* Which nodes db_node_list_filter() lists; zeroed: all of them. */
struct db_node_filter {
	bool	drift;		/* only drifting nodes (drift_since != 0) */
};
/*
 * As db_node_list(), only the nodes f selects (f NULL: all), paged the
 * same way (name order, next = last name when more follow).  The drift
 * filter walks a partial index of the drifting nodes only.
 */
int	db_node_list_filter(struct db *db, const struct db_node_filter *f,
	    const char *after, size_t limit, struct node_rec **out,
	    size_t *n, char next[RCA_MAX_NODE_NAME + 1], struct err *e);

/*
 * What a check of a node saw (SPEC section 11): role (NULL: keep;
 * "primary", "replica" or "" unknown) with role_at = now, and
 * served_serial (NULL: keep; "" none) with served_at = now.  Drift is
 * served_serial != '' && current_serial != '' && served != current:
 * drift_since is set to now when it begins (and then kept), 0 when it
 * ends.  *drift_change (may be NULL) is +1 when drift began, -1 when it
 * ended, 0 otherwise.  on_drift (may be NULL) is appended to the audit
 * log in the same transaction, only when drift begins.
 * Errors: ERR_NOT_FOUND, ERR_INVALID_REQUEST (bad role or serial), ERR_DB.
 */
int	db_node_observe(struct db *db, const char *name, const char *role,
	    int64_t now, const char *served_serial, int *drift_change,
	    const struct audit_rec *on_drift, struct err *e);

/* The members of effective group `group`, by name.  Free with
 * db_node_list_free(); none: *n = 0 (not an error).  Errors: ERR_DB. */
int	db_node_group_list(struct db *db, const char *group,
	    struct node_rec **out, size_t *n, struct err *e);
/* The distinct effective groups, sorted.  *groups new: free with
 * db_node_names_free().  Errors: ERR_DB. */
int	db_node_groups(struct db *db, char ***groups, size_t *n,
	    struct err *e);

/*
 * A pull node's report, in one transaction: upsert the node from pull
 * (name, host, port, profile, group; mode pull; a new row otherwise
 * zero), ERR_CONFLICT when a push node has that name; when rec is not
 * NULL (a renewal; NULL: a check-in), insert it and its steps as a
 * rotation of that node (rec->node must be the name) and, like the
 * scheduler after a rotation: on ROT_SUCCEEDED current_serial =
 * rec->new_serial, not_after = pull->not_after, failures = 0,
 * next_attempt_at = 0; on rolled_back/failed failures + 1 and
 * next_attempt_at = pull->next_attempt_at; last_rotation_id = its id.
 * Then served_serial (NULL: keep) with served_at = now, last_report_at
 * = now, pull->role ("" keeps the stored role) and drift exactly as
 * db_node_observe() (*drift_change, may be NULL).  a (may be NULL) is
 * appended in the same transaction.
 * Errors: ERR_CONFLICT, ERR_INVALID_REQUEST (bad record), ERR_DB.
 */
int	db_node_report(struct db *db, const struct node_rec *pull,
	    const struct rotation_rec *rec, const char *served_serial,
	    int64_t now, int *drift_change, const struct audit_rec *a,
	    struct err *e);

/* Deletes the node and its rotations.  Errors: ERR_NOT_FOUND, ERR_DB. */
int	db_node_delete(struct db *db, const char *name,
	    const struct audit_rec *a, struct err *e);
/*
 * Update the node's rotation state: current_serial, not_after,
 * last_rotation_id, failures, next_attempt_at.  Errors: ERR_NOT_FOUND.
 */
int	db_node_update_state(struct db *db, const struct node_rec *n,
	    struct err *e);

/* Insert a rotation record; r->id is set.  Errors: ERR_DB. */
int	db_rotation_insert(struct db *db, struct rotation_rec *r,
	    struct err *e);
/* Replace status, serials, finished_at and steps; a (may be NULL) appended. */
int	db_rotation_update(struct db *db, const struct rotation_rec *r,
	    const struct audit_rec *a, struct err *e);
/* Errors: ERR_NOT_FOUND, ERR_DB. */
int	db_rotation_get(struct db *db, int64_t id, struct rotation_rec *out,
	    struct err *e);
/* A node's rotations, newest first, with id < before (0: from newest). */
int	db_rotation_list(struct db *db, const char *node, int64_t before,
	    size_t limit, struct rotation_rec **out, size_t *n,
	    int64_t *next, struct err *e);
/* Free a list from db_rotation_list().  NULL ok. */
void	db_rotation_list_free(struct rotation_rec *list, size_t n);

/*
 * For /metrics: every node, in name order, with the expiry of its
 * current certificate and how many of its rotations are in each status
 * (counted by the database in one query).  *out is new (free()).
 * Errors: ERR_DB.
 */
struct db_node_stat {
	char	node[RCA_MAX_NODE_NAME + 1];
	int64_t	not_after;			/* 0: none recorded */
	int64_t	rotations[ROT_STATUS__MAX];	/* by status */
};
int	db_node_stats(struct db *db, struct db_node_stat **out, size_t *n,
	    struct err *e);

/* ---- backup and restore (db/backup.c) ---- */

/*
 * These work on SQLite files with connections of their own, never a
 * struct db's, so they may run beside a `serve` using the same file.
 * Not for PostgreSQL (pg_dump and pg_restore do that: see
 * docs/operations.md).
 */


/* What a snapshot holds (db_backup(), db_snapshot_check()). */
struct db_snap_info {
	int64_t		size;		/* bytes of the file */
	int		version;	/* schema version (user_version) */
	int64_t		ncerts;		/* rows in certificates */
	uint64_t	crl_number;	/* latest stored CRL; 0: none */
};

/*
 * Write a consistent snapshot of the live database src (others may
 * write to it meanwhile: one read transaction fixes what is copied,
 * in steps of 256 pages, and writers are never blocked) to the file
 * dst.  The copy goes to a new file beside dst (O_CREAT|O_EXCL|
 * O_NOFOLLOW, mode 0600), is made self-contained (rollback journal
 * mode), passes PRAGMA quick_check, is fsynced and then put at dst: an
 * existing regular file at dst is replaced only when force; a symbolic
 * link or anything else at dst is refused either way (checked on a
 * descriptor, and no-overwrite is a link(2), so no race).  info gets
 * the copy's facts.  The temporary file never outlives a failure.
 * Errors: ERR_NOT_FOUND (no database at src), ERR_ALREADY_EXISTS (dst
 * exists, !force), ERR_IO (dst or its folder: the message says
 * which), ERR_DB (the copy or its check failed).
 */
int	db_backup(const char *src, const char *dst, bool force,
	    struct db_snap_info *info, struct err *e);

/* A snapshot checked by db_snapshot_check(). */
struct db_snap {
	struct db_snap_info info;
	unsigned char	*crl_der;	/* new: latest CRL's DER, or NULL */
	size_t		 crl_len;
	char		*cert_pem;	/* new: its first certificate (PEM)
					   when it has no CRL, or NULL */
	/*
	 * Version 4 on: the SHA-256 key hashes (db_ca_list()'s
	 * spki_sha256) of its CAs that are not gone, space-separated, in
	 * id order ("" before version 4 or before its first start).
	 * After a rollover this tells whose CA it is where its newest CRL
	 * or first certificate may be another CA's.
	 */
	char		 ca_keys[4 * (RCA_SHA256_HEX + 1)];
};

/*
 * Read-only checks of a snapshot before it may be restored: a SQLite
 * file that passes PRAGMA integrity_check, has redis-ca's tables and a
 * schema version this program knows.  out gets its facts and what
 * tells whose CA it is (out->ca_keys when not "", else out->crl_der,
 * else out->cert_pem; both NULL when it holds neither); clear it with
 * db_snapshot_clear().
 * Errors: ERR_NOT_FOUND (no file), ERR_IO (unreadable, not a regular
 * file), ERR_INVALID_REQUEST (not a SQLite database, not redis-ca's,
 * schema newer, corrupt: the message says which), ERR_DB.
 */
int	db_snapshot_check(const char *path, struct db_snap *out,
	    struct err *e);
void	db_snapshot_clear(struct db_snap *s);

/*
 * Put snapshot src (checked with db_snapshot_check()) in place of the
 * database dst, which nothing else may have open (the caller holds the
 * service's lock).  The current database, when there is one, is first
 * copied to keep with db_backup() (its WAL included; mode 0600; keep
 * must not exist) and *kept set.  The snapshot is then copied into dst
 * with the backup API in one transaction (dst's file is written, never
 * renamed; on failure it keeps what it had), checked, and checkpointed
 * (only then do dst's -wal and -shm go).  A missing dst is created
 * (mode 0600).  Errors: those of db_backup(), ERR_DB.
 */
int	db_restore(const char *src, const char *dst, const char *keep,
	    bool *kept, struct err *e);

/*
 * The schema version of the SQLite database at path without migrating
 * it (0: no file yet).  Errors: ERR_IO, ERR_DB.
 */
int	db_file_version(const char *path, int *version, struct err *e);


/* ---- instances: change notification (db/notify.c) ---- */

/*
 * A listener for the CRLs other instances publish and their CA phases:
 * a dedicated PostgreSQL connection (its own, not any thread's) doing
 * LISTEN redisca_crl and LISTEN redisca_ca.  db_crl_publish() and the
 * db_ca_* phases send the notices.  One thread uses a listener at a
 * time.
 */
struct db_notify;

/* Does db tell other instances of its changes (PostgreSQL)? */
bool	db_notify_supported(struct db *db);

/*
 * New (db_notify_close()): a listener on db.  Errors:
 * ERR_INVALID_REQUEST (SQLite: one process, nothing to listen to),
 * ERR_UNAVAILABLE (server unreachable), ERR_DB, ERR_INTERNAL.
 */
struct db_notify *db_notify_open(struct db *db, struct err *e);

/*
 * Wait at most ms milliseconds for CRL notices (wake, when >= 0, is a
 * descriptor whose readability ends the wait early).  Returns 1 with
 * *number the highest number notified, 0 when the time ran out (or
 * wake), -1 with e set (ERR_UNAVAILABLE: the connection was lost; the
 * next call connects again and LISTENs anew, so notices sent in
 * between are lost: poll db_crl_number() as well).
 */
int	db_notify_wait(struct db_notify *n, int ms, int wake,
	    uint64_t *number, struct err *e);

/*
 * The highest CA generation a redisca_ca notice brought to n since it
 * was opened (0: none yet).  db_notify_wait() records them as they
 * come (a CA notice alone ends its wait early with 0): compare with
 * the generation last seen, and read db_ca_generation() as well, since
 * notices sent while the connection was lost are lost.
 */
uint64_t db_notify_ca_generation(const struct db_notify *n);

/* Close the listener's connection.  NULL ok.  Before db_close(). */
void	db_notify_close(struct db_notify *n);

/* ---- instances: leadership and node locks (db/lock.c) ---- */

/*
 * Several instances share a PostgreSQL database; these locks are
 * PostgreSQL session advisory locks held on one connection of db that
 * no thread owns, so they last while that session does and go when it
 * ends (the process dies, the server drops it).  On SQLite one process
 * owns the data folder (serve.lock) and every lock is granted at once.
 * Thread-safe.
 */

/*
 * Is this instance the scheduler's leader?  Takes the lock when no
 * session holds it, and checks on every call that the session still
 * does: a lost connection is no longer leader, is made again and tries
 * again at once.  Returns 1 (leader), 0 (another instance is) or -1
 * (ERR_UNAVAILABLE, ERR_DB: not leader).  SQLite: 1.
 */
int	db_leader_try(struct db *db, struct err *e);

/* Give leadership up (another instance may take it).  Errors: logged. */
void	db_leader_release(struct db *db);

/*
 * Mark node name as being rotated by this instance: 1 when the lock is
 * now ours, 0 when a session (this one too) holds it already, -1 on
 * error (ERR_UNAVAILABLE, ERR_DB, ERR_INVALID_REQUEST for a name
 * longer than RCA_MAX_NODE_NAME).  db_node_lock_release() gives it up
 * on the same connection.  SQLite: 1 (service/marks.c keeps one
 * process's rotations apart).
 */
int	db_node_lock_try(struct db *db, const char *name, struct err *e);
void	db_node_lock_release(struct db *db, const char *name);

/* The CAs and their rollover. */
#include "db_ca.h"

#endif
