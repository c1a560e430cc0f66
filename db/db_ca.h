/*
 * db/: the issuing CAs and their rollover (SPEC section 10), part of
 * db.h's interface (db.h includes this; include db.h).  Table cas holds
 * every CA the database has known with its state; ca_meta the CA
 * generation every phase bumps; certificates.ca_id which CA issued
 * each certificate; nodes.bundle_etag which bundle each node holds.
 */
#ifndef RCA_DB_CA_H
#define RCA_DB_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "records.h"

struct db;

/* ---- CAs: the issuing CAs and their rollover (db/ca.c) ---- */

/*
 * A CA's state (SPEC section 10): pending (prepared with a CSR: key,
 * no certificate yet), next (prepared, in the bundle), current (the
 * one that issues; exactly one), retired (was current, still in the
 * bundle), gone (dropped; kept as history).  At most one of pending
 * and next together, at most one retired: unique partial indexes of
 * table cas guard this besides the checks in each transaction.
 */
enum ca_state {
	CA_STATE_PENDING,
	CA_STATE_NEXT,
	CA_STATE_CURRENT,
	CA_STATE_RETIRED,
	CA_STATE_GONE,
	CA_STATE__MAX
};

/* "pending", "next", ...; parse: 0, or -1 when s names no state. */
const char *ca_state_name(enum ca_state s);
int	ca_state_parse(const char *s, enum ca_state *out);

/* A row of cas.  Strings marked owned are freed by ca_rec_clear(). */
struct ca_rec {
	int64_t		id;		/* cas.id; certificates.ca_id */
	char		ski[RCA_SKI_HEX_MAX + 1];	/* lowercase hex */
	char		spki_sha256[RCA_SHA256_HEX + 1];	/* its key's */
	enum ca_state	state;
	char		*cert_pem;	/* owned: issuing cert + intermediates;
					   NULL while pending */
	char		*csr_pem;	/* owned: the CSR; NULL unless it was
					   prepared with one */
	char		*anchors_pem;	/* owned: its anchors (never NULL in
					   a row read; "" while pending) */
	enum key_type	key_type;
	int64_t		not_before;	/* 0 while pending */
	int64_t		not_after;	/* 0 while pending */
	int64_t		created_at;
	int64_t		activated_at;	/* 0: never current */
	int64_t		retired_at;	/* 0: never retired */
};

/* Free what r owns and zero it.  NULL ok. */
void	ca_rec_clear(struct ca_rec *r);

/*
 * Every row not gone, in id order, and the CA generation, read in one
 * snapshot.  *out is new (db_ca_list_free()).  Errors: ERR_DB,
 * ERR_UNAVAILABLE.
 */
int	db_ca_list(struct db *db, struct ca_rec **out, size_t *n,
	    uint64_t *generation, struct err *e);
void	db_ca_list_free(struct ca_rec *list, size_t n);

/*
 * The CA generation: 0 in a new database, bumped by every phase
 * (prepare, complete, activate, retire) in its own transaction.
 * Errors: ERR_DB, ERR_UNAVAILABLE.
 */
int	db_ca_generation(struct db *db, uint64_t *out, struct err *e);

/*
 * When cas has no row: insert cur (its id, state, activated_at are
 * ignored) as CA 1, state current, activated_at = cur->created_at; the
 * rows of certificates from before schema 4 are CA 1's.  When cas has
 * rows (another instance bootstrapped it, racing ones included) it does
 * nothing and returns 0.  Generation unchanged.
 * Errors: ERR_INVALID_REQUEST (no certificate, bad SKI or key hash),
 * ERR_DB.
 */
int	db_ca_bootstrap(struct db *db, const struct ca_rec *cur,
	    struct err *e);

/*
 * Record a prepared CA: next->state is CA_STATE_NEXT (cert_pem set)
 * or CA_STATE_PENDING (csr_pem set, cert_pem NULL); next->id is set
 * to the new row's id.  In one transaction, re-checked inside it (so
 * of two instances preparing at once one wins): generation bumped, a
 * (may be NULL) appended, and on PostgreSQL NOTIFY redisca_ca (payload
 * the new generation) sent at the commit.
 * Errors: ERR_CA_NEXT_EXISTS (a pending or next CA exists),
 * ERR_CA_RETIRE_PENDING (a retired CA is still in the bundle),
 * ERR_CONFLICT (no current CA recorded: db_ca_bootstrap() first),
 * ERR_ALREADY_EXISTS (a CA with this SKI or key, gone ones included),
 * ERR_INVALID_REQUEST (bad state or fields), ERR_DB.
 */
int	db_ca_prepare(struct db *db, struct ca_rec *next,
	    const struct audit_rec *a, struct err *e);

/*
 * Complete pending CA id with its certificate: withcert's cert_pem,
 * anchors_pem, ski, not_before and not_after are stored, its
 * spki_sha256 must be the pending row's; the row becomes next.  One
 * transaction (generation, audit a, NOTIFY as db_ca_prepare()).
 * Errors: ERR_CA_NOT_PREPARED (no pending CA with that id),
 * ERR_INVALID_CHAIN (the certificate's key is not the pending CA's),
 * ERR_ALREADY_EXISTS (another CA has that SKI), ERR_INVALID_REQUEST,
 * ERR_DB.
 */
int	db_ca_complete(struct db *db, int64_t id, const struct ca_rec *withcert,
	    const struct audit_rec *a, struct err *e);

/*
 * Activate the next CA at now, in one transaction: current -> retired
 * (retired_at = now), next -> current (activated_at = now), every node
 * marked due for rotation (as the scheduler reads it: not_after and
 * next_attempt_at set to 0), generation bumped, a appended, NOTIFY
 * redisca_ca on PostgreSQL.
 * Errors: ERR_CA_NOT_PREPARED (no next CA, or only a pending one),
 * ERR_CA_RETIRE_PENDING (a retired CA is still in the bundle), ERR_DB.
 */
int	db_ca_activate(struct db *db, int64_t now, const struct audit_rec *a,
	    struct err *e);

/*
 * CA ca_id's certificates that are not revoked and have not_after >
 * now: *count gets how many, and serials (max entries; may be NULL
 * when max is 0) the first min(max, count), soonest expiry first.
 * One read snapshot.  Cost: a walk of the expiry index entries of every
 * unexpired certificate (all CAs'): about 100 ms per 500,000.
 * Errors: ERR_DB, ERR_UNAVAILABLE.
 */
int	db_ca_unexpired(struct db *db, int64_t ca_id, int64_t now,
	    char (*serials)[RCA_SERIAL_HEX_MAX + 1], size_t max, size_t *count,
	    struct err *e);

/*
 * Retire CA ca_id (which must be the retired one; 0: whichever is) at
 * now: it becomes gone, in one transaction that first counts its
 * unexpired, unrevoked certificates again (so none issued meanwhile is
 * missed); generation bumped, a appended, NOTIFY redisca_ca on
 * PostgreSQL.
 * Errors: ERR_CA_NOTHING_TO_RETIRE (ca_id is not the retired CA),
 * ERR_CA_IN_USE (it has such certificates: the message gives how many
 * and the first serials; db_ca_unexpired() lists them), ERR_DB.
 */
int	db_ca_retire(struct db *db, int64_t ca_id, int64_t now,
	    const struct audit_rec *a, struct err *e);

/*
 * The bundle a node holds: db_node_set_bundle() records that node got
 * the bundle of ETag etag (Errors: ERR_NOT_FOUND, ERR_INVALID_REQUEST
 * for an etag longer than RCA_BUNDLE_ETAG_MAX, ERR_DB);
 * db_node_bundle_stale() lists, in name order, the nodes whose recorded
 * ETag is not etag (new nodes have "").  *names is new
 * (db_node_names_free()).  Errors: ERR_DB.
 */
#define RCA_BUNDLE_ETAG_MAX	64	/* bytes of a stored ETag */
int	db_node_set_bundle(struct db *db, const char *node, const char *etag,
	    struct err *e);
int	db_node_bundle_stale(struct db *db, const char *etag, char ***names,
	    size_t *n, struct err *e);
void	db_node_names_free(char **names, size_t n);

#endif
