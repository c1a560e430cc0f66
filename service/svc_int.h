/*
 * Private to service/: the struct behind struct svc and the helpers the
 * files of this module share.  Nothing outside service/ includes it.
 * Unlike svc.h's, these functions may require e != NULL (common/err.h).
 */
#ifndef RCA_SVC_INT_H
#define RCA_SVC_INT_H

#include <sys/stat.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ca.h"
#include "db.h"
#include "svc.h"

/*
 * The entries of the next CRL (crl_set.c), under pub_mu; loaded false
 * until read from the database (cs may then be stale or NULL).
 */
struct svc_crl_set {
	struct ca_crl_set	*cs;	/* owned */
	int64_t			 as_of;	/* lists what is unexpired then */
	bool			 loaded;
};

/*
 * One published CRL: immutable once made, freed with its last
 * reference.  Its PEM is made on the first request for it (pem_mu),
 * off the publication's path, then never changes.
 */
struct svc_crl_buf {
	atomic_uint	 refs;
	unsigned char	*der;		/* owned */
	size_t		 der_len;
	pthread_mutex_t	 pem_mu;
	char		*pem;		/* owned; pem_mu until set */
	size_t		 pem_len;
};

/*
 * The CRL state of one CA (crl.c): each CA in the bundle has its own
 * CRL, numbered from the one sequence of all (crl_number).  A slot is
 * free while ca_id is 0; svc_crl_cas_changed() frees the slots of CAs
 * that left the snapshot.  crl, dirty, stale, persist: crl_mu; set:
 * pub_mu; ca_id and ski change with both held.
 */
#define SVC_CRL_CAS	6	/* next, current, retired, and spares */
/* Seconds GET /v1/ca reuses its unexpired-certificate counts (ca_view.c). */
#define SVC_VIEW_COUNTS_TTL	10
struct svc_crl_ca {
	int64_t			 ca_id;		/* 0: free */
	char			 ski[RCA_SKI_HEX_MAX + 1];
	struct svc_crl		 crl;		/* holds one reference */
	bool			 dirty;		/* publication failed */
	bool			 stale;		/* set needs a reload */
	uint64_t		 warned;	/* past nextUpdate: logged */
	struct svc_crl_set	 set;
	struct svc_crl_buf	*persist;	/* queued DER, or NULL */
	uint64_t		 persist_number;
};

/* One publication's CA (crl.c): its signer and CRL slot (pub_mu). */
struct svc_crl_pc {
	const struct ca		*signer;	/* borrowed: the snapshot */
	struct svc_crl_ca	*ca;		/* borrowed: s->crls */
};

/*
 * A revocation waiting for a CRL that lists it (crl.c), on the waiting
 * revoker's stack, linked under crl_mu until state leaves 0.
 */
struct svc_crl_wait {
	int64_t			 ca_id;	/* the certificate's CA */
	struct ca_crl_entry	 entry;	/* the certificate revoked */
	int64_t			 not_after;	/* its notAfter */
	/* keyCompromise: every certificate with this key went too */
	char			 spki[RCA_SHA256_HEX + 1];	/* or "" */
	int			 state;	/* 0 waiting, 1 published, -1 failed */
	uint64_t		 number;	/* state 1: the CRL's number */
	struct err		 err;		/* state -1: why */
	struct svc_crl_wait	*next;
};

#include "svc_cas.h"

struct svc {
	struct db	*db;		/* thread-safe by itself */

	/*
	 * The CAs (cas.c): cas is the newest snapshot, swapped under
	 * cas_mu (held only to copy or swap the pointer and take a
	 * reference); cas_reload_mu serialises svc_cas_reload().
	 */
	pthread_mutex_t	 cas_mu;
	pthread_mutex_t	 cas_reload_mu;
	/*
	 * GET /v1/ca is public and counting a CA's unexpired certificates
	 * walks an index (~100 ms per 500,000 rows): the counts are kept
	 * for SVC_VIEW_COUNTS_TTL seconds (ca_view.c), under view_mu.
	 */
	pthread_mutex_t	 view_mu;
	int64_t		 view_at;	/* when counted; 0: never */
	uint64_t	 view_serial;	/* of the snapshot counted */
	size_t		 view_n;
	int64_t		*view_counts;	/* owned: per entry of that snapshot */
	struct svc_cas	*cas;		/* one reference */
	atomic_uint_fast64_t cas_serial;	/* snapshots built */
	char		*ca_cert_path;	/* the configured ca.crt */
	char		*ca_key_path;	/* the configured ca.key */
	char		*ca_pass_file;	/* or NULL */
	struct svc_life	*life;		/* ca_files.c: lifecycle (owned) */

	/* Copies of the configuration (owned). */
	char		*public_url;
	char		*admin_cert;
	char		*admin_key;
	int64_t		 crl_validity;
	int64_t		 crl_refresh_before;
	int64_t		 rotation_check_interval;
	int		 rotation_renew_before_pct;
	struct profile	*profiles;
	size_t		 nprofiles;
	char		*data_dir;	/* NULL: none configured */
	char		*ca_key_dir;	/* the folder of ca.key */
	char		**node_dirs;	/* nodes.allowed_dirs */
	size_t		 nnode_dirs;
	int64_t		 token_max_enroll_ttl;	/* seconds, > 0 */

	/*
	 * pub_mu serialises publication so CRL numbers strictly increase;
	 * it is taken before crl_mu and never while signing certificates.
	 * crl_mu guards the published CRLs below (readers take a
	 * reference to an immutable buffer) and the revocations waiting
	 * for a CRL: one of them builds (crl_building) for all that wait
	 * (crl.c).  crl_number: the newest number published or seen
	 * stored, of any CA; crl_loaded: the newest stored number up to
	 * which every CA's CRL was loaded (svc_crl_load()); crl_mu.
	 */
	pthread_mutex_t	 pub_mu;
	pthread_mutex_t	 crl_mu;
	pthread_cond_t	 crl_cv;	/* crl_mu: a build finished */
	struct svc_crl_ca crls[SVC_CRL_CAS];
	uint64_t	 crl_number;
	uint64_t	 crl_loaded;
	uint64_t	 crl_loaded_serial;	/* crl_loaded's snapshot */
	uint64_t	 crl_cas_serial;	/* the snapshot followed */
	bool		 crl_building;	/* a waiter builds; crl_mu */
	struct svc_crl_wait *crl_waiting; /* borrowed list; crl_mu */
	/*
	 * The persister thread stores the newest CRL DER of each CA after
	 * its number was claimed (crl.c, crls[].persist); crl_mu,
	 * signalled on crl_cv.
	 */
	pthread_t	 crl_persister;
	bool		 crl_persister_on;	/* started */
	bool		 crl_persist_stop;
	bool		 crl_persisting;	/* a write in progress */
	bool		 crl_persist_hurry;	/* a flush waits: no rest */
	/*
	 * Instances sharing a PostgreSQL (shared): each publication
	 * stores its DER itself, and the listener thread (crl_listen.c)
	 * loads the CRLs other instances publish.  crl_listen_stop and
	 * the counters are crl_mu's; crl_wake's write end stops a wait.
	 */
	pthread_t	 crl_listener;
	bool		 crl_listener_on;	/* started */
	bool		 crl_listen_stop;
	bool		 crl_listen_tried;	/* a first LISTEN ran/failed */
	int		 crl_wake[2];		/* pipe, while started */
	uint64_t	 crl_heard;		/* notices received */
	uint64_t	 crl_listens;		/* LISTENs begun */

	/*
	 * Nodes and rotation (marks.c, schedule_nodes.c), guarded by
	 * nodes_mu (svc_marks_init(), svc_marks_fini()): the nodes being
	 * rotated or deleted right now, and when the scheduler looks at
	 * nodes next.  Never held across another lock or any I/O.
	 */
	pthread_mutex_t	 nodes_mu;
	struct svc_busy	*busy;		/* owned list */
	int64_t		 nodes_due_at;
	/*
	 * Fleets (SPEC section 11): rotation.max_parallel, and the
	 * rotations in flight in this process (pool.c) with the most
	 * seen at once.
	 */
	int		 max_parallel;
	atomic_int_fast64_t rot_inflight;
	atomic_int_fast64_t rot_inflight_peak;

	/* Audit retention (prune.c); audit_prune_at: scheduler only. */
	int64_t		 audit_retention;	/* seconds */
	int64_t		 audit_prune_at;	/* next pruning; 0: now */

	/*
	 * Instances (schedule.c, SPEC section 9).  shared: on PostgreSQL,
	 * which several instances may share (else the flags below stay
	 * false and true).  read_only: the database was last seen
	 * read-only (a hot standby), so writes are refused before any
	 * work; set wherever that is seen, cleared by svc_tick() and
	 * svc_health() seeing it writable.  leader: this instance runs
	 * the scheduled work (scheduler thread only writes it).
	 */
	bool		 shared;
	atomic_bool	 read_only;
	atomic_bool	 leader;
};

/* ---- actors (actor.c), the audit log (audit.c), failing (fail.c) ---- */

/* The actor string of a ("anonymous" when a is NULL or ACTOR_NONE). */
const char *svc_actor_name(const struct svc_actor *a);

/*
 * Append an audit entry; failures go to the log only (the audit of a
 * refusal must never turn the refusal into a different error).
 */
void	svc_audit(struct svc *s, const struct svc_actor *a,
	    const char *action, const char *object,
	    enum audit_outcome outcome, const char *detail);

/* Fill an audit record for a (at now). */
void	svc_audit_fill(struct audit_rec *r, const struct svc_actor *a,
	    const char *action, const char *object,
	    enum audit_outcome outcome, const char *detail);

/* True for codes that mean "our side failed" (db, crypto, io, ...). */
bool	svc_err_internal(enum err_code code);

/*
 * Hide our own failure from the caller: log "<what>: <code>: <message>"
 * (what formatted like printf) and replace e by ERR_INTERNAL "internal
 * error".  ERR_UNAVAILABLE and ERR_READ_ONLY stay (503: retry).
 */
void	svc_err_hide(struct err *e, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Finish a failed operation: internal failures are logged with their
 * details, audited as "error" and replaced in e by a generic
 * ERR_INTERNAL "internal error"; refusals are audited as "denied" with
 * their code and message, and e is left as it is.  ERR_READ_ONLY is
 * only logged (a standby cannot store the entry) and marks s
 * read-only (svc_read_only()).
 */
void	svc_fail(struct svc *s, const struct svc_actor *a,
	    const char *action, const char *object, struct err *e);

/* ---- authorisation (auth.c) and listings (ops.c) ---- */

/*
 * Administrative acts (revocation, node management, rotation) are for
 * admin tokens, the CLI and the scheduler: 0 for those, otherwise -1
 * with ERR_FORBIDDEN and msg.
 */
int	svc_require_admin(const struct svc_actor *a, const char *msg,
	    struct err *e);

/* A page size: 1 to RCA_MAX_LIST_LIMIT, else ERR_INVALID_REQUEST. */
int	svc_list_limit(size_t limit, struct err *e);

/* ---- issuance (issue.c) and revocation (certs.c) ---- */

/*
 * svc_issue() for an actor (not NULL) its caller has already authorised
 * (rotation: svc_rotate() requires an admin), with req not NULL: the
 * profile req names (its internal profile, or a configured one) is not
 * checked against the actor.  Like svc_issue() it audits its failures
 * as certificate.issue and clears out on failure.  Errors: those of
 * svc_issue().
 */
int	svc_issue_authorised(struct svc *s, const struct svc_actor *a,
	    const struct svc_issue_req *req, struct svc_issued *out,
	    struct err *e);

/*
 * svc_revoke() for an actor its caller has already authorised (an
 * admin, the CLI or the scheduler): audits its failures as
 * certificate.revoke and publishes the CRL like svc_revoke().
 * Errors: those of svc_revoke() but ERR_FORBIDDEN.
 */
int	svc_revoke_authorised(struct svc *s, const struct svc_actor *a,
	    const char *serial, int reason, struct cert_rec *out,
	    uint64_t *crl_number, struct err *e);

/*
 * Parse a CSR from a request (new, ca_csr_free()), refusing one above
 * RCA_MAX_CSR_BYTES.  Errors: ERR_INVALID_CSR, those of ca_csr_parse().
 */
struct ca_csr *svc_csr_read(const char *pem, size_t len, struct err *e);

/*
 * Sign csr under p with ip (ip->now set), and store the certificate with
 * its audit entry (action, "profile=<p> cn=<cn>" + extra) and its key
 * hash spki (from svc_key_check()) in one commit, signing again under a
 * new serial on a collision.  The commit refuses a key blocked since
 * svc_key_check() (ERR_KEY_REJECTED).  Fills out->cert, chain_pem and
 * ca_pem.  Neither audits a failure nor clears out.
 * Errors: those of ca_issue(), ERR_KEY_REJECTED, ERR_DB, ERR_INTERNAL.
 */
int	svc_sign_store(struct svc *s, const struct svc_actor *a,
	    const char *action, const struct profile *p,
	    const struct ca_csr *csr, const struct ca_issue_params *ip,
	    const char *spki, const char *node, const char *extra,
	    struct svc_issued *out, struct err *e);

/* ---- compromised keys (keys.c) ---- */

/*
 * The hash of csr's key into spki; a key blocked by a keyCompromise
 * revocation is refused.  Every issuance path (CSR, generate, renewal,
 * rotation) calls it before it spends anything on the request.
 * Errors: ERR_KEY_REJECTED, ERR_CRYPTO, ERR_DB.
 */
int	svc_key_check(struct svc *s, const struct ca_csr *csr,
	    char spki[RCA_SHA256_HEX + 1], struct err *e);

/*
 * Is the key of a stored certificate (rec, presented as der) blocked?
 * Returns 1 / 0, or -1 with e set (ERR_INVALID_REQUEST, ERR_DB).
 */
int	svc_cert_key_blocked(struct svc *s, const struct cert_rec *rec,
	    const unsigned char *der, size_t len, struct err *e);

/*
 * At start-up: store the key hash of every certificate stored without
 * one (before schema version 2).  A certificate whose PEM does not
 * parse is logged and left.  Errors: ERR_DB, ERR_INTERNAL.
 */
int	svc_spki_backfill(struct svc *s, struct err *e);

/* ---- the CRL (crl.c) and the schedule (schedule.c) ---- */

/*
 * Follow a new CA snapshot c, pub_mu held (publication, the
 * scheduler's pass): free the CRL state of the CAs it no longer lists
 * and have svc_crl_load() look at every CA again.  A CA new to it gets
 * its first CRL from the scheduler's next pass (or the next
 * revocation).
 */
void	svc_crl_sync(struct svc *s, const struct svc_cas *c);

/*
 * Load the latest stored CRL of every CA in the snapshot into memory
 * when the database holds a number newer than ours (any thread: the
 * swap keeps the newest).  Returns 1 when one was stored, 0 when none
 * ever was, -1 on error (ERR_DB, ERR_UNAVAILABLE, ERR_INTERNAL).
 */
int	svc_crl_load(struct svc *s, struct err *e);

/*
 * The slot of CA ca_id (crl_mu held), made from a free one when make
 * (ski: the CA's); NULL when none (or none free).
 */
struct svc_crl_ca *svc_crl_slot(struct svc *s, int64_t ca_id,
	    const char *ski, bool make);

/*
 * crl_store.c: a buffer holding one reference to der (steals it, even
 * on error), or NULL (ERR_INTERNAL); and the swap that makes b (steals
 * its reference) the served CRL unless ours is as new, true when it
 * did.  from_db: another process or instance stored it.
 */
struct svc_crl_buf *svc_crl_buf_new(unsigned char *der, size_t len,
	    struct err *e);
/* Make b's PEM unless it exists; then c's pem is set.  ERR_CRYPTO. */
int	svc_crl_buf_pem(struct svc_crl_buf *b, struct svc_crl *c,
	    struct err *e);
bool	svc_crl_swap(struct svc *s, int64_t ca_id, const char *ski,
	    struct svc_crl_buf *b, uint64_t number, int64_t this_update,
	    int64_t next_update, bool from_db);

/*
 * crl_listen.c, on PostgreSQL: start the thread that waits for the
 * CRL notices of other instances (and polls db_crl_number() every
 * SVC_CRL_POLL_MS as well, for a notice lost with a connection) and
 * loads each newer stored CRL, returning once its first LISTEN ran
 * (or failed: it tries again each round); stop it (before the database
 * closes; never started is fine).  Errors: ERR_INTERNAL.
 */
#define SVC_CRL_POLL_MS	500
int	svc_crl_listen_start(struct svc *s, struct err *e);
void	svc_crl_listen_stop(struct svc *s);

/*
 * At start-up (schedule.c): load the latest CRL from the database and
 * publish a new one (as the scheduler) when there is none or it is due
 * for refresh.  Errors: ERR_INTERNAL.
 */
int	svc_crl_init(struct svc *s, struct err *e);

/*
 * Publish the CRL of CA ca_id (crl.c): its set brought up to date
 * (from scratch when full; else adding the entries of the waiters w of
 * that CA, and the certificates of their compromised keys), signed by
 * it under the next number (*number, may be NULL), stored and served.
 * Failures are logged, audited (crl.publish, error), leave that CRL
 * marked due for svc_tick(), and become ERR_INTERNAL (ERR_UNAVAILABLE
 * and ERR_READ_ONLY stay); ERR_NOT_FOUND (CA ca_id is not in the
 * bundle) is neither logged nor audited.
 */
int	svc_crl_publish_ca(struct svc *s, const struct svc_actor *a,
	    int64_t ca_id, bool full, const struct svc_crl_wait *w,
	    uint64_t *number, struct err *e);

/*
 * Which CRLs svc_crl_publish_cas() publishes, among the CAs whose key
 * this instance holds: all, those due (none yet, failed, or past
 * nextUpdate - crl.refresh_before), those owed (none yet, or failed).
 */
enum svc_crl_which { SVC_CRL_ALL, SVC_CRL_DUE, SVC_CRL_OWED };
int	svc_crl_publish_cas(struct svc *s, const struct svc_actor *a,
	    enum svc_crl_which which, struct err *e);

/*
 * The seconds until the first CRL this instance signs is due (at least
 * 1, at most max).
 */
int64_t	svc_crl_due_in(struct svc *s, int64_t max);

/*
 * svc_publish_crl() that also tells the number it published (number may
 * be NULL): every CRL this instance can sign, *number the current
 * CA's.  Errors: ERR_UNAVAILABLE (this instance has not got the
 * current CA key), those of svc_crl_publish_ca().
 */
int	svc_crl_publish(struct svc *s, const struct svc_actor *a,
	    uint64_t *number, struct err *e);

/*
 * For a revocation committed before the call: wait until a CRL that
 * lists w->entry (and, w->spki set, every certificate with that key) is
 * published,
 * building it when no other caller is (one build covers every waiter
 * queued when it starts).  *number (may be NULL) gets its number.
 * Failures as svc_crl_publish(), audited once per build.
 */
int	svc_crl_publish_revoked(struct svc *s, const struct svc_actor *a,
	    struct svc_crl_wait *w, uint64_t *number, struct err *e);

/*
 * Load the in-memory entries now if they need it (the scheduler, so
 * that the next revocation only adds its own); failures are logged and
 * left to the next build.
 */
void	svc_crl_warm(struct svc *s);

/*
 * Start the CRL's thread (svc_crl_init()): on SQLite the persister,
 * which stores each published CRL's DER after the publication claimed
 * its number (without it the DER is stored in the publication
 * itself); on PostgreSQL, where every publication stores its DER at
 * once for the other instances, the listener (svc_crl_listen_start()).
 * Errors: ERR_INTERNAL.
 */
int	svc_crl_persist_start(struct svc *s, struct err *e);

/*
 * Stop the listener, and the persister after it stored what is
 * queued, and free the CRL state, at svc_close() before the database
 * closes.
 */
void	svc_crl_fini(struct svc *s);

/*
 * The in-memory set of one CA (crl_set.c), pub_mu held.  svc_crl_set_load()
 * replaces it with the revoked, unexpired certificates at now;
 * svc_crl_set_add() merges k entries (those listed already are skipped).
 * The set follows the database's expiry (svc_crl_set_advance()), so
 * it always equals a load at its as_of.
 * Errors: ERR_DB, ERR_INTERNAL.
 */
int	svc_crl_set_load(struct svc *s, struct svc_crl_ca *ca, int64_t now,
	    struct err *e);
/* The same from rows, a full list of the database's at now. */
int	svc_crl_set_from(struct svc_crl_ca *ca, const struct db_crl_row *rows,
	    size_t n, int64_t now, struct err *e);
/* Add the revoked, unexpired certificates whose key is spki. */
int	svc_crl_set_add_key(struct svc *s, struct svc_crl_ca *ca,
	    const char *spki, int64_t now, struct err *e);
/* Drop the entries that expired since the set's as_of, up to now. */
int	svc_crl_set_advance(struct svc *s, struct svc_crl_ca *ca, int64_t now,
	    struct err *e);
int	svc_crl_set_add(struct svc_crl_set *set,
	    const struct ca_crl_entry *add, size_t k, struct err *e);
void	svc_crl_set_free(struct svc_crl_set *set);

/*
 * The scheduler's audit retention pass (called by svc_tick()): prune
 * when due, hourly, and again at the next tick while a full batch was
 * deleted.  Failures are logged and retried later.
 */
void	svc_audit_prune_tick(struct svc *s, int64_t now);

/*
 * The database's state as just seen (a db_state() value): keeps
 * s->read_only, logging each change (fail.c).
 */
void	svc_db_seen(struct svc *s, int state);

/*
 * At svc_close() (schedule.c): give the scheduler's leadership up so
 * another instance takes it at its next tick, audited.
 */
void	svc_lead_end(struct svc *s);

/* ---- nodes and rotation ---- */

/* The scheduler's node pass when rotation.check_interval is not set. */
#define SVC_NODES_INTERVAL	60

/*
 * The node marks of s (marks.c): svc_open() calls svc_marks_init()
 * (Errors: ERR_INTERNAL), svc_close() svc_marks_fini(), which frees
 * any mark left.
 */
int	svc_marks_init(struct svc *s, struct err *e);
void	svc_marks_fini(struct svc *s);

/*
 * The scheduler's pass over the nodes (schedule_nodes.c, called by
 * svc_tick()): at most every rotation_check_interval, rotate (as the
 * scheduler, one after the other, holding no lock) each node that was
 * never rotated, whose last rotation failed, or that has less than
 * renew_before of its certificate's lifetime left, unless its backoff
 * (next_attempt_at) is still running.  Returns the seconds until it
 * wants to run again.
 */
int64_t	svc_nodes_tick(struct svc *s, int64_t now);

/*
 * Every node in name order (node_walk.c), a page at a time so that no
 * list is held open meanwhile: fn(arg, node, e) for each (node borrowed)
 * returns 0 to go on, -1 to stop the walk, which then returns -1.
 * svc_nodes_collect() keeps what pick keeps: pick(arg, node, elem) fills
 * the zeroed elem (size bytes) and returns true; *out is new (free()),
 * *n elements.  Errors: db_node_list()'s, fn's, ERR_INTERNAL.
 */
typedef int svc_node_fn(void *arg, const struct node_rec *n, struct err *e);
typedef bool svc_node_pick(void *arg, const struct node_rec *n, void *elem);
int	svc_nodes_each(struct svc *s, svc_node_fn *fn, void *arg,
	    struct err *e);
int	svc_nodes_collect(struct svc *s, svc_node_pick *pick, void *arg,
	    size_t size, void **out, size_t *n, struct err *e);

/*
 * Seconds before not_after at which a node's certificate is due for
 * renewal (schedule_nodes.c): renew_before percent of its lifetime
 * (from the stored certificate, else the node's ttl or its profile's
 * default).
 */
int64_t	svc_node_renew_window(struct svc *s, const struct node_rec *n);

/*
 * Mark a node busy (marks.c; rotation, deletion): false when it
 * already is.  svc_node_unlock() ends it.  Never held across another
 * lock.
 */
bool	svc_node_lock(struct svc *s, const char *name);
void	svc_node_unlock(struct svc *s, const char *name);

/* True when name matches [a-z0-9][a-z0-9-]{0,62} and is not "report"
 * (the literal route POST /v1/nodes/report; node_req.c). */
bool	svc_node_name_valid(const char *name);

/*
 * The start of an administrative act on node name: a refuses with
 * ERR_FORBIDDEN and forbidden unless an admin (svc_require_admin()),
 * then a name that is not valid is ERR_NOT_FOUND.  *object gets name
 * when it is valid, else NULL (the object to audit a failure under).
 */
int	svc_node_admin_target(const struct svc_actor *a, const char *name,
	    const char *forbidden, const char **object, struct err *e);

/*
 * Check req and fill the record n (node_req.c): every field, cert_dir
 * and the password file resolved and checked (SPEC section 8).  n is
 * cleared first; on error the caller clears it (node_rec_clear()).
 * Errors: ERR_INVALID_REQUEST, ERR_UNKNOWN_PROFILE, ERR_INVALID_TTL,
 * ERR_TTL_TOO_LONG.
 */
int	svc_node_from_req(struct svc *s, const struct svc_node_req *req,
	    struct node_rec *n, struct err *e);

/* Start v empty, status unknown (node_view.c; v may hold garbage, NULL
 * is fine). */
void	svc_node_view_init(struct svc_node_view *v);

/* Fill v from the node record n (stolen: n is left empty) as at now. */
void	svc_node_view_fill(struct svc *s, struct node_rec *n,
	    struct svc_node_view *v, int64_t now);

/*
 * Load node name into *n (nodes.c; node_rec_clear()): ERR_NOT_FOUND for a name
 * that is not valid or not registered; any other failure is logged
 * and becomes ERR_INTERNAL.  e must not be NULL.
 */
int	svc_node_load(struct svc *s, const char *name, struct node_rec *n,
	    struct err *e);

/*
 * Node files (nodefiles.c, SPEC section 8).  svc_node_path_ok: resolve
 * path (realpath) into real (RCA_MAX_PATH) and check that it lies
 * inside one of nodes.allowed_dirs and outside the data folder and the
 * folder of ca.key; false otherwise (no reason: the caller's message
 * must not tell a missing file from a forbidden one).
 */
bool	svc_node_path_ok(struct svc *s, const char *path, char *real);

/*
 * Open a node's stored cert_dir for a rotation: it must still resolve
 * to itself (no link swapped in since registration) and pass
 * svc_node_path_ok(); opened with sf_open_dir().  *st gets its fstat.
 * Returns the folder descriptor, or -1.  Errors: ERR_IO.
 */
int	svc_node_dir_open(struct svc *s, const char *cert_dir,
	    struct stat *st, struct err *e);

/*
 * Read a node's AUTH password: the first line of path, which must pass
 * svc_node_path_ok() and be a regular file with one link and no access
 * for others, opened through its folder's descriptor without following
 * links, at most max bytes.  *out is new (wipe and free()).  Errors:
 * ERR_IO with one message for every failure (SVC_PASSWORD_REFUSED),
 * never the password and never whether the file exists.
 */
int	svc_node_password_read(struct svc *s, const char *path, size_t max,
	    char **out, struct err *e);

/* ---- fleets (SPEC section 11) ---- */

/*
 * Run fn(ctx, i) for i in 0..njobs-1 on at most width threads (pool.c),
 * all joined before return; this thread runs them when no thread
 * starts.
 */
void	svc_pool_run(size_t njobs, int width, void (*fn)(void *, size_t),
	    void *ctx);

/* A rotation starts / ends in this process (svc_rotate()). */
void	svc_inflight_enter(struct svc *s);
void	svc_inflight_leave(struct svc *s);

/* What a short look at a live node found (nodes_probe.c). */
struct svc_probe {
	bool	reached;	/* a verified handshake */
	char	served[RCA_SERIAL_HEX_MAX + 1];	/* normalised */
	char	role[SVC_ROLE_MAX];	/* "primary", "replica", "" */
};

/*
 * Connect to n with the admin certificate (bounded timeout, dates not
 * verified), AUTH when configured, read the served serial and the
 * role (a role that cannot be read stays "").  -1 when the node cannot
 * be reached or refuses AUTH (out->reached tells whether the serial
 * was read).  Errors: ERR_NET, ERR_IO (password file).
 */
int	svc_node_probe(struct svc *s, const struct node_rec *n,
	    struct svc_probe *out, struct err *e);

/* A member to order: replicas and unknown first, primaries last. */
struct svc_order {
	char	name[RCA_MAX_NODE_NAME + 1];
	char	role[SVC_ROLE_MAX];
	size_t	idx;		/* the caller's */
};
void	svc_order_sort(struct svc_order *v, size_t n);

/*
 * The drift check (drift.c): every push node that is not busy is
 * probed (on the pool, rotation.max_parallel wide) and its served
 * serial and role stored (db_node_observe()); node.drift audited when
 * drift begins and when it ends.  Unreachable nodes keep their state.
 * Returns the number of nodes seen drifting.
 */
size_t	svc_drift_pass(struct svc *s, int64_t now);

/*
 * Store what node name was seen serving (served; NULL keeps) and its
 * role (NULL keeps) at now, recorded being its current serial for the
 * audit detail: node.drift by a ("drift served=<s> recorded=<s>") in
 * the same transaction when drift begins, node.drift "resolved" when
 * it ends.  Failures are logged (drift.c).
 */
void	svc_drift_seen(struct svc *s, const struct svc_actor *a,
	    const char *name, const char *role, const char *served,
	    const char *recorded, int64_t now);

/* The one message for an unusable password file (no existence oracle). */
#define SVC_PASSWORD_REFUSED "auth.password_file is not usable: it must " \
	"be a regular file inside nodes.allowed_dirs, outside the data " \
	"folder, with one link and no access for others"

#endif
