/*
 * service/: the CA's operations.  Each svc_* call that changes
 * something commits the change and its audit entry in one transaction
 * across ca/, db/ (and redis/): authorisation, policy, signing, durable
 * storage and the audit entry all happen here, so the API, the scheduler
 * and the CLI behave the same.  The exceptions say so where they are
 * declared: svc_revoke() (the revocation, then the CRL), svc_open() and
 * svc_tick() (several operations, each its own transaction), and the
 * rotation of a node (svc_rotate(), a sequence of steps).  A call that
 * refuses something records the refusal in the audit log (outcome
 * "denied", its own entry) before it returns.
 *
 * Errors (common/err.h): every function here that takes a struct err *
 * accepts e == NULL, when the caller does not want the details.
 *
 * Thread safety: one struct svc is shared by every thread of the process;
 * every function may be called concurrently.
 */
#ifndef RCA_SVC_H
#define RCA_SVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "rca_limits.h"
#include "names.h"
#include "records.h"
#include "types.h"

struct svc;

/* What the service needs from the configuration. */
struct svc_config {
	const char	*ca_cert;		/* path */
	const char	*ca_key;		/* path */
	const char	*ca_key_passphrase_file; /* path or NULL */
	const char	*database;		/* path */
	const char	*public_url;		/* "http://127.0.0.1:8080" */
	const char	*admin_cert;		/* tls/admin.crt (nodes) */
	const char	*admin_key;		/* tls/admin.key (nodes) */
	int64_t		 crl_validity;		/* seconds */
	int64_t		 crl_refresh_before;	/* seconds */
	int64_t		 rotation_check_interval; /* seconds */
	int		 rotation_renew_before_pct; /* 1..99 */
	int		 rotation_max_parallel;	/* 1..64; 0: 4 */
	int64_t		 audit_retention;	/* seconds; 0: 365 days */
	const struct profile *profiles;		/* copied */
	size_t		 nprofiles;
	/*
	 * Node files (SPEC section 8): a node's cert_dir and password
	 * file must resolve inside one of these absolute folders (none:
	 * no node can be registered), and never inside data_dir (the
	 * folder of config.json) or the folder of ca_key.  Copied.
	 */
	const char	*data_dir;		/* path or NULL */
	const char *const *node_allowed_dirs;	/* nodes.allowed_dirs */
	size_t		 nnode_allowed_dirs;
	int64_t		 token_max_enroll_ttl;	/* seconds; 0: 30d */
	/*
	 * The instance's own API certificate (tls/api.crt, tls/api.key;
	 * NULL: the API listener has no TLS): re-issued by the current
	 * CA after a CA activation or past two thirds of its life
	 * (svc_api_cert_generation()).
	 */
	const char	*api_cert;		/* path or NULL */
	const char	*api_key;		/* path or NULL */
};

/*
 * Open the database, store the key hashes older certificates lack, load
 * the CAs (SPEC section 10: the database's rows with the key files this
 * instance holds; a database without CAs first stores the configured
 * ca.crt/ca.key as CA 1), load (or build) each CA's CRL: each step its
 * own transaction.  Without the current CA's key file the service opens
 * but is not ready and refuses issuance (ERR_UNAVAILABLE).  Returns a
 * new service (svc_close()), or NULL.  Errors: ERR_CONFIG, those of
 * ca_load() (no CAs yet), ca_load_pem() and db_open(), ERR_INTERNAL.
 */
struct svc *svc_open(const struct svc_config *cfg, struct err *e);

/* Close the database and free the CA.  No other thread may use s.  NULL ok. */
void	svc_close(struct svc *s);

/* Who is asking. */
enum actor_kind {
	ACTOR_NONE,	/* not authenticated ("anonymous") */
	ACTOR_ADMIN,	/* admin token: "admin:<id>" */
	ACTOR_TOKEN,	/* enroll token: "token:<id>" */
	ACTOR_MTLS,	/* client certificate: "mtls:<serial>" */
	ACTOR_SCHEDULER, /* "scheduler" */
	ACTOR_CLI,	/* "cli" */
	ACTOR__MAX
};

struct svc_actor {
	enum actor_kind		kind;
	char			id[RCA_ACTOR_MAX + 1];	/* "admin:<id>" ... */
	struct token_rec	token;	/* ADMIN/TOKEN: the token (owned) */
	struct cert_rec		cert;	/* MTLS: the client cert (owned) */
	unsigned char		*cert_der; /* MTLS: its DER (owned) */
	size_t			cert_der_len;
};

/* Free what an actor owns.  NULL ok. */
void	svc_actor_clear(struct svc_actor *a);

/* Fill a for a non-token actor (NONE, SCHEDULER, CLI). */
void	svc_actor_init(struct svc_actor *a, enum actor_kind kind);

/*
 * Authenticate a bearer token string ("rca_..."): hash it, look it up,
 * compare in constant time, refuse it when expired or used up (uses are
 * consumed only by issuance).  Does not audit: the caller knows the
 * action being attempted and calls svc_audit_denied().
 * Errors: ERR_UNAUTHORIZED, ERR_DB.
 */
int	svc_auth_token(struct svc *s, const char *token, struct svc_actor *out,
	    struct err *e);

/*
 * Authenticate a client certificate (DER, as presented on the HTTPS
 * listener) for /v1/renew: it must chain to this CA, be inside its
 * validity, carry clientAuth (ca_verify_cert), be known to the database
 * with the same fingerprint, not be revoked, and its key must not be
 * blocked (keyCompromise).  Fills out as
 * ACTOR_MTLS "mtls:<serial>" with the stored record and the DER.  Does
 * not audit (the caller calls svc_audit_denied() with the action).
 * Errors: ERR_UNAUTHORIZED (message says why), ERR_INTERNAL.
 */
int	svc_auth_cert(struct svc *s, const unsigned char *der, size_t len,
	    struct svc_actor *out, struct err *e);

/* Record a refused attempt (outcome "denied") of action on object. */
void	svc_audit_denied(struct svc *s, const struct svc_actor *a,
	    const char *action, const char *object, const struct err *why);

/* ---- issuance ---- */

struct svc_issue_req {
	const char	*profile;	/* profile name */
	int64_t		 ttl;		/* seconds; 0: profile default */
	/* POST /v1/certificates: */
	const char	*csr_pem;	/* NULL for generate */
	size_t		 csr_len;
	/* POST /v1/certificates/generate: */
	const struct names *names;	/* CN and DNS/IP SANs */
	enum key_type	 key_type;	/* default KEY_EC_P256 */
	/* internal issuance (init, rotation): */
	const char	*node;		/* node name recorded, or NULL */
	const struct profile *internal_profile; /* CLI/SCHEDULER actors only:
					 * issue under this profile instead
					 * of a configured one (init's api
					 * and admin certificates) */
};

struct svc_issued {
	struct cert_rec	 cert;		/* the stored record */
	char		*chain_pem;	/* leaf + intermediates, new */
					/* (SPEC 10: never the anchor) */
	char		*ca_pem;	/* the bundle, new */
	char		*private_key_pem; /* generate only; new; wiped on clear */
};

/* Free (and wipe the private key of) an issued result.  NULL ok. */
void	svc_issued_clear(struct svc_issued *r);

/*
 * Issue from a CSR (req->csr_pem) or generate a key (csr_pem NULL) under
 * a profile.  Admin: any profile.  Enroll token: only its profile
 * (ERR_FORBIDDEN), every name must match its patterns
 * (ERR_NAME_NOT_ALLOWED), ttl capped by its max_cert_ttl, and one use is
 * consumed after every check passed.  The certificate and its audit
 * entry are committed before return.  A key blocked by a keyCompromise
 * revocation is refused (ERR_KEY_REJECTED) before a use is consumed.
 * Errors: ERR_FORBIDDEN,
 * ERR_UNKNOWN_PROFILE, ERR_INVALID_CSR, ERR_CSR_SIGNATURE,
 * ERR_KEY_REJECTED, ERR_INVALID_TTL, ERR_TTL_TOO_LONG,
 * ERR_NAME_NOT_ALLOWED, ERR_UNAUTHORIZED (token used up meanwhile),
 * ERR_INVALID_REQUEST, ERR_INTERNAL.
 */
int	svc_issue(struct svc *s, const struct svc_actor *a,
	    const struct svc_issue_req *req, struct svc_issued *out,
	    struct err *e);

/*
 * Renew the certificate an ACTOR_MTLS actor presented: a new certificate
 * with the same profile, names, node and lifetime (notAfter - notBefore,
 * capped by the profile's max_ttl).  csr_pem NULL: the same public key;
 * otherwise a rekey, and the CSR must carry exactly the same names.
 * Committed with its audit entry (certificate.renew, detail names the
 * old serial) before return; refusals are audited as denied.  The old
 * certificate stays valid (it expires on its own).
 * Errors: ERR_FORBIDDEN (not a certificate actor), ERR_UNKNOWN_PROFILE
 * (its profile is no longer configured), ERR_INVALID_CSR,
 * ERR_CSR_SIGNATURE, ERR_KEY_REJECTED (also a blocked key),
 * ERR_INVALID_REQUEST (names differ), ERR_INTERNAL.
 */
int	svc_renew(struct svc *s, const struct svc_actor *a,
	    const char *csr_pem, size_t csr_len, struct svc_issued *out,
	    struct err *e);

/* ---- certificates ---- */

/* Errors: ERR_INVALID_SERIAL, ERR_NOT_FOUND, ERR_INTERNAL. */
int	svc_cert_get(struct svc *s, const char *serial, struct cert_rec *out,
	    struct err *e);

/* Page of certificates; list is new (svc_cert_list_free()). */
int	svc_cert_list(struct svc *s, const struct cert_filter *f,
	    struct cert_rec **out, size_t *n, int64_t *next, struct err *e);
void	svc_cert_list_free(struct cert_rec *list, size_t n);

/*
 * Revoke a certificate and publish a new CRL before returning, so the
 * CRL served after this call lists it.  *crl_number gets its number.
 * Two transactions: the revocation with its audit entry, then the CRL
 * (svc_publish_crl()); when the second fails the revocation stands, the
 * CRL is due at the next svc_tick(), and the call returns ERR_INTERNAL.
 * With reason keyCompromise (SPEC section 8) the key is blocked and
 * every other unexpired, unrevoked certificate with the same public key
 * is revoked too, in the same transaction (each audited as
 * certificate.revoke, detail "same_key_as=<serial>"), so that CRL lists
 * them all.
 * Errors: ERR_INVALID_SERIAL, ERR_NOT_FOUND, ERR_ALREADY_REVOKED,
 * ERR_INTERNAL.
 */
int	svc_revoke(struct svc *s, const struct svc_actor *a,
	    const char *serial, int reason, struct cert_rec *out,
	    uint64_t *crl_number, struct err *e);

/* ---- tokens ---- */

/*
 * Token lifetimes (SPEC section 8, "Tokens").  SVC_TOKEN_TTL_NEVER is
 * svc_token_req.ttl for "never" (admin tokens only);
 * SVC_ENROLL_TTL_MAX_DEFAULT is tokens.max_enroll_ttl's default.
 */
#define SVC_TOKEN_TTL_NEVER		(-1)
#define SVC_ENROLL_TTL_DEFAULT		(24 * 3600)
#define SVC_ADMIN_TTL_DEFAULT		(90 * 86400)
#define SVC_ENROLL_TTL_MAX_DEFAULT	(30 * 86400)

struct svc_token_req {
	enum token_kind	 kind;
	const char	*profile;	/* enroll: required */
	char *const	*patterns;	/* enroll: at least one */
	size_t		 npatterns;
	int64_t		 uses;		/* enroll: >= 1; admin: ignored */
	int64_t		 ttl;		/* seconds; 0: the kind's default
					 * (enroll 24h, or max_enroll_ttl
					 * when shorter; admin 90d);
					 * SVC_TOKEN_TTL_NEVER: no expiry
					 * (admin only) */
	int64_t		 max_cert_ttl;	/* seconds; 0: none */
	const char	*description;	/* may be NULL */
};

/*
 * Create a token.  *out is the stored record; token receives the secret
 * string ("rca_" + 64 hex), shown only this once.  Admin actors only.
 * Every enroll token expires: its ttl is at most tokens.max_enroll_ttl
 * and "never" is refused.
 * Errors: ERR_FORBIDDEN, ERR_UNKNOWN_PROFILE, ERR_INVALID_REQUEST
 * (bad pattern, uses, description), ERR_INVALID_TTL (negative, never
 * for an enroll token, above tokens.max_enroll_ttl), ERR_INTERNAL.
 */
int	svc_token_create(struct svc *s, const struct svc_actor *a,
	    const struct svc_token_req *req, struct token_rec *out,
	    char token[RCA_TOKEN_PREFIX_LEN + 2 * RCA_TOKEN_RANDOM_BYTES + 1],
	    struct err *e);
int	svc_token_get(struct svc *s, const char *id, struct token_rec *out,
	    struct err *e);
int	svc_token_list(struct svc *s, const char *after, size_t limit,
	    struct token_rec **out, size_t *n,
	    char next[RCA_TOKEN_ID_HEX + 1], struct err *e);
void	svc_token_list_free(struct token_rec *list, size_t n);
/* Errors: ERR_NOT_FOUND, ERR_INTERNAL. */
int	svc_token_delete(struct svc *s, const struct svc_actor *a,
	    const char *id, struct err *e);

/* ---- CA and CRL ---- */

/*
 * The current (issuing) CA.  pem and fingerprint are borrowed from the
 * CA snapshot out->ref holds: valid until svc_ca_info_clear(out), even
 * after a rollover replaced the CA.
 */
struct svc_ca_info {
	const char	*pem;		/* borrowed: while ref is held */
	int64_t		 not_after;
	const char	*fingerprint;	/* borrowed: while ref is held */
	enum key_type	 key_type;
	void		*ref;		/* one snapshot reference */
};
void	svc_ca_info(struct svc *s, struct svc_ca_info *out);
void	svc_ca_info_clear(struct svc_ca_info *ci);

/*
 * The current CRL, served from memory: one immutable buffer per
 * published version, shared by every reader.  svc_crl_current() takes
 * a reference in O(1) (no copy; the PEM is encoded once per version,
 * by its first reader); der and pem stay valid until
 * svc_crl_clear(c) drops it, even after a newer CRL replaced it.  A
 * reader that hands the bytes on (an HTTP response) may move ref out
 * (set c->ref to NULL) and drop it later with svc_crl_unref().
 * Thread-safe.
 */
struct svc_crl_buf;
struct svc_crl {
	const unsigned char *der;	/* borrowed: while ref is held */
	size_t		 der_len;
	const char	*pem;		/* borrowed: while ref is held */
	size_t		 pem_len;
	uint64_t	 number;
	int64_t		 this_update;
	int64_t		 next_update;
	char		 etag[48];	/* "\"crl-<number>\"" */
	struct svc_crl_buf *ref;	/* one reference, or NULL */
};
/*
 * ski: the CA's SKI (lowercase hex) for GET /v1/crl/{ski}, NULL for the
 * current CA's.  Errors: ERR_NOT_FOUND (no such CA in the bundle: never
 * existed, pending or gone), ERR_INTERNAL (none published yet).
 */
int	svc_crl_current(struct svc *s, const char *ski, struct svc_crl *out,
	    struct err *e);
/* The same without the PEM (pem NULL): nothing to encode. */
int	svc_crl_current_der(struct svc *s, const char *ski,
	    struct svc_crl *out, struct err *e);
void	svc_crl_clear(struct svc_crl *c);
/* Drop a reference moved out of a struct svc_crl; NULL is fine. */
void	svc_crl_unref(struct svc_crl_buf *ref);

/*
 * Wait until the DER of every CRL published so far is stored (the
 * database has it for a restart or another process).  Publication
 * itself stores the number only; svc_close() flushes too.
 */
void	svc_crl_flush(struct svc *s);

/*
 * Build, sign, store and swap in a new CRL (number = previous + 1,
 * nextUpdate = now + crl.validity), audited as crl.publish by a.
 * Errors: ERR_INTERNAL.
 */
int	svc_publish_crl(struct svc *s, const struct svc_actor *a,
	    struct err *e);

/*
 * Periodic work for the scheduler thread: republish the CRL when now is
 * past nextUpdate - crl.refresh_before, and (at most every
 * rotation.check_interval) rotate the nodes that are due (see
 * svc_rotate(); never-rotated nodes, failed ones after their backoff,
 * and those with less than renew_before of their lifetime left).
 * Returns the number of seconds until it wants to run again.
 *
 * On PostgreSQL (SPEC section 9) each tick first reads the database's
 * state (svc_read_only() follows it: a promoted standby becomes
 * writable here) and, when writable, tries the scheduler's leadership
 * (db_leader_try()); changes are logged and audited as
 * scheduler.leader (gained, lost) by the scheduler.  Only the leader
 * refreshes the CRL when due, rotates nodes and prunes the audit log;
 * every instance picks up a newer stored CRL, and republishes one its
 * own revocation failed to publish.  A follower ticks at least every
 * SVC_FOLLOW_TICK seconds, so it takes over within that of the
 * leader's session ending.
 */
#define SVC_FOLLOW_TICK	10
int64_t	svc_tick(struct svc *s);

/* ---- operations ---- */

/* True when the database is writable and the CA key is loaded. */
bool	svc_ready(struct svc *s);

/* The database as this instance sees it (SPEC section 9). */
enum svc_db_state {
	SVC_DB_OK,		/* "ok": reachable and writable */
	SVC_DB_READ_ONLY,	/* "read_only": a hot standby */
	SVC_DB_UNAVAILABLE,	/* "unavailable": unreachable, failing */
	SVC_DB__MAX
};

/* "ok", "read_only", "unavailable" ("unavailable" out of range). */
const char *svc_db_state_name(enum svc_db_state st);

/* An instance's health, for /readyz and /metrics. */
struct svc_health {
	enum svc_db_state	db;	/* after one round trip */
	bool			ca_key;	/* the CA key is loaded */
	bool			leader;	/* runs the scheduled work */
	bool			ready;	/* db SVC_DB_OK and ca_key */
};

/*
 * Fill h: one round trip to the database (on SQLite, as svc_ready()
 * does), which also updates svc_read_only().  Thread-safe.
 */
void	svc_health(struct svc *s, struct svc_health *h);

/*
 * True while the database was last seen read-only (at svc_open(), by
 * svc_tick(), svc_health() or a write it refused): write requests are
 * then refused with ERR_READ_ONLY before any work.  No round trip;
 * thread-safe.
 */
bool	svc_read_only(struct svc *s);

struct svc_stats {
	struct svc_profile_stats {
		char	profile[RCA_MAX_PROFILE_NAME + 1];
		int64_t	issued;
		int64_t	active;
	}		*profiles;	/* new */
	size_t		 nprofiles;
	int64_t		 revoked_total;
	uint64_t	 crl_number;
	int64_t		 crl_next_update;
	int64_t		 ca_not_after;
};
int	svc_stats(struct svc *s, struct svc_stats *out, struct err *e);
void	svc_stats_clear(struct svc_stats *st);

/*
 * Retention (SPEC section 8): delete the audit entries older than now -
 * audit.retention, oldest first and at most RCA_AUDIT_PRUNE_BATCH, and
 * record it as one audit.prune entry by a ("deleted=N before=<time>
 * retention=<duration>") in the same transaction.  *n receives N; when
 * it is 0 nothing is written.  svc_tick() calls it hourly as the
 * scheduler.  Errors: ERR_INTERNAL.
 */
int	svc_audit_prune(struct svc *s, const struct svc_actor *a,
	    int64_t now, int64_t *n, struct err *e);

/* Audit entries with id > after; list is new (svc_audit_list_free()). */
int	svc_audit_list(struct svc *s, int64_t after, size_t limit,
	    struct audit_rec **out, size_t *n, int64_t *next, struct err *e);
void	svc_audit_list_free(struct audit_rec *list, size_t n);

/* The profile named name (borrowed), or NULL. */
const struct profile *svc_profile(struct svc *s, const char *name);

/* ---- nodes and rotation (SPEC section 6) ---- */

/*
 * What POST /v1/nodes asks for.  Strings are borrowed for the call; NULL
 * (or "") means "not given" and takes the default noted.
 */
struct svc_node_req {
	const char	*name;		/* [a-z0-9][a-z0-9-]{0,62} */
	const char	*host;		/* DNS name or IP to connect to */
	int		 port;		/* 1..65535 */
	const char	*server_name;	/* name verified; default: host */
	const struct names *sans;	/* DNS and IP SANs; default: the
					 * verified name */
	const char	*cert_dir;	/* absolute, existing folder */
	const char	*cert_file;	/* default "redis.crt" */
	const char	*key_file;	/* default "redis.key" */
	const char	*ca_file;	/* default "ca.crt" */
	const char	*profile;	/* default "redis-node" */
	int64_t		 ttl;		/* seconds; 0: profile default */
	const char	*auth_username;	/* AUTH user (ACL), optional */
	const char	*auth_password_file; /* absolute path, optional */
	const char	*group;		/* node-name rules; default: the
					 * node's own name */
};

/* A node's health as GET /v1/nodes shows it. */
enum node_status {
	NODE_OK,		/* "ok" */
	NODE_EXPIRING,		/* "expiring": less than renew_before left */
	NODE_ROTATION_FAILED,	/* "rotation_failed": last one did not
				 * succeed */
	NODE_UNKNOWN,		/* "unknown": never rotated */
	NODE_DRIFT,		/* "drift": serves another certificate
				 * than the recorded one (SPEC 11) */
	NODE_STATUS__MAX
};

/* "ok", "expiring", ...; "unknown" for out-of-range values. */
const char *svc_node_status_name(enum node_status st);

/*
 * A node record with what the API adds to it.  The status's precedence:
 * rotation_failed > drift > expiring > unknown > ok.  node carries the
 * fleet fields (group, mode, role, served_serial, drift_since,
 * last_report_at).
 */
struct svc_node_view {
	struct node_rec		node;		/* owned (svc_node_view_clear) */
	enum node_status	status;
	int64_t			expires_in_seconds; /* < 0 expired; 0 unknown */
	bool			has_last_rotation;
	struct rotation_rec	last_rotation;	/* when has_last_rotation */
};

/* Free what v owns and zero it.  NULL ok. */
void	svc_node_view_clear(struct svc_node_view *v);

/*
 * Register a node (admin, CLI).  Every value is checked before anything
 * is stored: the name, host, port, server_name, SANs (the verified name
 * must be one of them), cert_dir (absolute, an existing folder, stored
 * resolved by realpath(3); no whitespace, quotes or control characters,
 * since it goes into redis.conf), the three file names (plain names: no
 * '/', not "." or "..", all different), the profile (must exist and
 * grant serverAuth and clientAuth), ttl (within the profile's max_ttl),
 * auth (password_file absolute and readable; needs nothing else).
 * Audited as node.create.  Nothing is written to cert_dir.
 * Errors: ERR_FORBIDDEN, ERR_INVALID_REQUEST (names the field),
 * ERR_UNKNOWN_PROFILE, ERR_INVALID_TTL, ERR_TTL_TOO_LONG,
 * ERR_ALREADY_EXISTS, ERR_INTERNAL.
 */
int	svc_node_create(struct svc *s, const struct svc_actor *a,
	    const struct svc_node_req *req, struct svc_node_view *out,
	    struct err *e);

/* Errors: ERR_NOT_FOUND (also for a malformed name), ERR_INTERNAL. */
int	svc_node_get(struct svc *s, const char *name, struct svc_node_view *out,
	    struct err *e);

/* Nodes in name order after `after`; list is new (svc_node_list_free()). */
int	svc_node_list(struct svc *s, const char *after, size_t limit,
	    struct svc_node_view **out, size_t *n,
	    char next[RCA_MAX_NODE_NAME + 1], struct err *e);
void	svc_node_list_free(struct svc_node_view *list, size_t n);

/*
 * Forget a node and its rotation history (audited as node.delete).  Its
 * certificates and the files in cert_dir stay.  A node being rotated
 * cannot be deleted.  Errors: ERR_FORBIDDEN, ERR_NOT_FOUND,
 * ERR_CONFLICT, ERR_INTERNAL.
 */
int	svc_node_delete(struct svc *s, const struct svc_actor *a,
	    const char *name, struct err *e);

/*
 * Rotate a node's certificate (admin, CLI, scheduler), the steps of
 * SPEC section 6, each recorded in the rotation record (inserted as
 * "running" first, updated after every step) and *out:
 *
 *   connect           TLS to the node with the admin client certificate,
 *                     verified against this CA and server_name, AUTH if
 *                     configured; note the serial it serves.  A node that
 *                     is down fails here, before anything is issued or
 *                     written (status failed).  The connection is kept for
 *                     config_set.
 *   issue             fresh key and certificate (node's profile, ttl,
 *                     SANs; CN = first DNS SAN, else first IP SAN).
 *   write_files       key 0400, cert 0444, CA 0444, each replaced
 *                     atomically after the previous content is kept as
 *                     <file>.prev; new files take the owner of the files
 *                     they replace (or of cert_dir).
 *   config_set        one CONFIG SET tls-cert-file tls-key-file
 *                     tls-ca-cert-file (absolute paths).
 *   verify_handshake  a new connection must be served the new serial.
 *   ping              AUTH (if configured) and PING on it.
 *   rollback          after a failure past issue: restore the files,
 *                     CONFIG SET them back (when a CONFIG SET was sent),
 *                     and check over a new connection that the old serial
 *                     is served and PING answers: status rolled_back, else
 *                     failed.
 *
 * Success: the node's state is updated (current_serial, not_after,
 * failures 0) and the replaced certificate (the recorded one, and the
 * served one unless it was issued for another node) is revoked as
 * superseded,
 * which republishes the CRL.  Failure: failures + 1 and next_attempt_at
 * moves by an exponential backoff (rotation_check_interval doubled per
 * failure, at most an hour); the new certificate is revoked as
 * cessationOfOperation when it provably never went live (the step says
 * so).  Audited as node.rotate (ok / error / denied).
 *
 * Two rotations of one node never overlap: the second gets ERR_CONFLICT
 * at once.  Returns 0 on success.  On a rotation that ran and did not
 * succeed, returns -1 with ERR_ROTATION_FAILED and *out holds the record
 * (out->id != 0).  Other errors (out->id == 0): ERR_FORBIDDEN,
 * ERR_NOT_FOUND, ERR_CONFLICT, ERR_INTERNAL.
 */
int	svc_rotate(struct svc *s, const struct svc_actor *a, const char *name,
	    struct rotation_rec *out, struct err *e);

/*
 * A node's rotations, newest first, with id < before (0: newest); list
 * is new (svc_rotation_list_free()).  Errors: ERR_NOT_FOUND,
 * ERR_INVALID_REQUEST (limit), ERR_INTERNAL.
 */
int	svc_rotation_list(struct svc *s, const char *name, int64_t before,
	    size_t limit, struct rotation_rec **out, size_t *n,
	    int64_t *next, struct err *e);
void	svc_rotation_list_free(struct rotation_rec *list, size_t n);

/*
 * The TLS block of redis.conf for a node (SPEC section 6): port 0,
 * tls-port, the absolute file paths in cert_dir, client certificates
 * required, TLS 1.2 and 1.3 with forward-secret AEAD suites only,
 * replication and cluster bus over TLS, session caching.  *text is new
 * (free()).  Errors: ERR_NOT_FOUND, ERR_INTERNAL.
 */
int	svc_node_redis_conf(struct svc *s, const char *name, char **text,
	    struct err *e);

/* ---- the TLS audit (POST /v1/nodes/{name}/check, `redis-ca check`) ---- */

#define SVC_CHECK_MAX		16
#define SVC_CHECK_ID_MAX	32

struct svc_check {
	char	id[SVC_CHECK_ID_MAX];	/* "tls10_refused", ... */
	bool	ok;
	char	detail[ERR_MSG_MAX];
};

struct svc_check_result {
	bool		 ok;		/* every check passed */
	struct svc_check checks[SVC_CHECK_MAX];
	size_t		 n;
};

/* Where and how to audit one live node.  Strings borrowed. */
struct svc_check_target {
	const char	*host;
	int		 port;
	const char	*server_name;	/* NULL: host */
	const char	*ca_file;	/* trust anchor (PEM file), or */
	const char	*ca_pem;	/* trust anchor (PEM text) */
	const char	*cert_file;	/* client certificate, or NULL */
	const char	*key_file;	/* its key (NULL: in cert_file) */
	int		 timeout_ms;	/* <= 0: the redis/ default */
	/* serves_recorded_serial is checked only when this is set: */
	const char	*expect_serial;
	/* days_to_expiry fails below this many seconds left; 0: an hour */
	int64_t		 min_remaining;
};

/*
 * Audit a live node: tls10_refused, tls11_refused, tls12_accepted,
 * tls13_accepted (each of the last two passes when the other version
 * is accepted: a TLS 1.3-only node is fine), weak_ciphers_refused,
 * forward_secrecy_only, client_cert_required, chain_valid,
 * hostname_matches, key_strength (>= 112 bits of security),
 * signature_sha256_or_better, days_to_expiry and, when
 * t->expect_serial is set, serves_recorded_serial.  A check that
 * cannot be run fails with the reason in its detail.  Needs no struct
 * svc (the CLI runs it without a configuration).
 * Returns 0 when the node could be asked (see out->ok), -1 when it
 * could not be reached at all.  Errors: ERR_INVALID_REQUEST (bad
 * target), ERR_NET, ERR_CRYPTO (a file does not load).
 */
int	svc_check_run(const struct svc_check_target *t,
	    struct svc_check_result *out, struct err *e);

/*
 * svc_check_run() on a registered node with this CA as trust anchor,
 * the admin client certificate, the recorded serial, and days_to_expiry
 * failing once less than rotation.renew_before of the lifetime is left.
 * A node that cannot be reached is an answer about the node: 0, with
 * out->ok false and one failed check "reachable" whose detail says why.
 * Errors: ERR_NOT_FOUND, ERR_INTERNAL.
 */
int	svc_node_check(struct svc *s, const char *name,
	    struct svc_check_result *out, struct err *e);

/* ---- node metrics ---- */

struct svc_node_stats {
	struct svc_node_stat {
		char	node[RCA_MAX_NODE_NAME + 1];
		int64_t	cert_not_after;		/* 0: none recorded */
		int64_t	rotations[ROT_STATUS__MAX]; /* by status */
		bool	drift;			/* drift_since != 0 */
	}		*nodes;		/* new */
	size_t		 nnodes;
};

/*
 * Per node: the expiry of its current certificate and how many
 * rotations ended in each status (from the database, so the counts
 * survive restarts).  Errors: ERR_INTERNAL.
 */
int	svc_node_stats(struct svc *s, struct svc_node_stats *out,
	    struct err *e);
void	svc_node_stats_clear(struct svc_node_stats *st);

/* The CAs (SPEC section 10): views, bundle, metrics; the rollover. */
#include "svc_ca.h"
#include "svc_roll.h"
/* Fleets (SPEC section 11): groups, drift, the scheduler's figures. */
#include "svc_fleet.h"
/* Pull mode: reports of pull nodes, the pull daemon's local steps. */
#include "svc_report.h"

#endif
