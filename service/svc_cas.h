/*
 * Private to service/ (included by svc_int.h): the CAs as this
 * instance sees them (cas.c), an immutable, reference-counted snapshot
 * every user takes for the duration of one operation (SPEC section 10).
 */
#ifndef RCA_SVC_CAS_H
#define RCA_SVC_CAS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ca.h"
#include "db.h"

struct svc;

/* ---- the CAs (cas.c): an immutable, reference-counted snapshot ---- */

/*
 * Every CA row that is not gone (pending, next, current, retired), as
 * this instance sees it.  ca: the CA loaded from rec (cert_pem and
 * anchors_pem) with its key file when this instance has it, without a
 * key otherwise (verification and the bundle only); NULL for a pending
 * CA (no certificate yet).
 */
struct svc_ca_ent {
	int64_t		 id;
	enum ca_state	 state;
	struct ca	*ca;		/* owned, or NULL (pending) */
	struct ca_rec	 rec;		/* owned (ca_rec_clear()) */
};

/*
 * A snapshot of the CAs: immutable once published by svc_cas_reload();
 * readers hold a reference (svc_cas_get(), svc_cas_put()) for the
 * duration of one operation.  ent ordered current, next (or pending),
 * retired; cur (never NULL) points into ent.  bundle_pem and
 * bundle_etag: the anchors of next/current/retired (ca_bundle_pem()) in
 * CA id order, so that activate keeps them; trust: those CAs for
 * verifying leaves (ca_trust_verify_cert()'s which indexes trust_ent,
 * in the same order).
 */
struct svc_cas {
	atomic_uint		 refs;
	uint64_t		 serial;	/* this process's build count */
	uint64_t		 generation;	/* ca_meta's, when read */
	size_t			 n;
	struct svc_ca_ent	*ent;		/* owned, n of them */
	struct svc_ca_ent	*cur;		/* borrowed: into ent */
	char			*bundle_pem;	/* owned */
	size_t			 bundle_len;
	char			 bundle_etag[RCA_ETAG_MAX];
	struct ca_trust		*trust;		/* owned */
	size_t			 ntrust;
	struct svc_ca_ent	**trust_ent;	/* owned array of borrowed */
};

/*
 * A reference to the newest snapshot (never NULL once svc_open()
 * returned): O(1), no database.  svc_cas_put() drops it (NULL is
 * fine); the last reference frees the snapshot.  Thread-safe.
 */
struct svc_cas *svc_cas_get(struct svc *s);
void	svc_cas_put(struct svc_cas *c);

/* The entry of CA id / of the CA whose SKI (lowercase hex) is ski, or
 * NULL; borrowed from c. */
const struct svc_ca_ent *svc_cas_find(const struct svc_cas *c, int64_t id);
const struct svc_ca_ent *svc_cas_find_ski(const struct svc_cas *c,
	    const char *ski);

/*
 * Build a new snapshot from db_ca_list() and the key files, after
 * svc_ca_files_reconcile(), and make it the one svc_cas_get() returns
 * (older references stay valid).  Key file of a row: current -> the
 * configured ca.key, next -> <key dir>/ca-next.key, retired ->
 * <key dir>/ca-prev.key; a missing key file leaves that CA without a
 * key (logged once per CA).  The CRL code follows (svc_crl_sync()).
 * Serialised by cas_reload_mu.  Errors: ERR_DB, ERR_CRYPTO,
 * ERR_INVALID_CHAIN, ERR_IO, ERR_INTERNAL.
 */
int	svc_cas_reload(struct svc *s, struct err *e);

/*
 * svc_cas_reload() when the database's generation differs from the
 * snapshot's (the scheduler's check, the CA notice on PostgreSQL).
 * Returns 1 when it reloaded, 0 when nothing changed, -1 on error.
 */
int	svc_cas_refresh(struct svc *s, struct err *e);

/*
 * At svc_open(), once the database is open: the first snapshot, after
 * db_ca_bootstrap() made the configured CA row 1 when the database has
 * none.  svc_cas_close() drops the snapshot at svc_close().
 */
int	svc_cas_open(struct svc *s, struct err *e);

/* True when this instance holds the current CA's key. */
bool	svc_cas_has_key(struct svc *s);

/*
 * A snapshot reference (*out, svc_cas_put()) whose current CA this
 * instance can sign with, for issuance.  Errors: ERR_UNAVAILABLE "this
 * instance has not got the current CA key".
 */
int	svc_cas_issuer(struct svc *s, struct svc_cas **out, struct err *e);
void	svc_cas_close(struct svc *s);

/*
 * ca_files.c (h/life): bring the key and certificate files in line with
 * the rows (rows[0..n), every CA not gone, as db_ca_list() returns
 * them) under flock(<key dir>/ca.lock): rename by spki_sha256, rewrite
 * ca.crt/roots.pem, delete the key of a gone CA.  Called by
 * svc_cas_reload() before it loads the key files.
 */
int	svc_ca_files_reconcile(struct svc *s, const struct ca_rec *rows,
	    size_t n, struct err *e);

/* The key file path of CA state st into buf (RCA_MAX_PATH): "" for a
 * state that has none (pending has ca-next.key too). */
void	svc_ca_key_path(const struct svc *s, enum ca_state st, char *buf,
	    size_t len);

#endif
