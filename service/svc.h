/*
 * service/: the CA's operations.  Each svc_* call is one transaction
 * across ca/, db/ (and redis/): authorisation, policy, signing, durable
 * storage and the audit entry all happen here, so the API, the scheduler
 * and the CLI behave the same.  A call that refuses something records the
 * refusal in the audit log (outcome "denied") before it returns.
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
	const struct profile *profiles;		/* copied */
	size_t		 nprofiles;
};

/*
 * Load the CA, open the database, load (or build) the current CRL.
 * Returns a new service (svc_close()), or NULL.  Errors: those of
 * ca_load() and db_open().
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
 * with the same fingerprint, and not be revoked.  Fills out as
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
	char		*chain_pem;	/* leaf + CA, new */
	char		*ca_pem;	/* new */
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
 * entry are committed before return.  Errors: ERR_FORBIDDEN,
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
 * ERR_CSR_SIGNATURE, ERR_KEY_REJECTED, ERR_INVALID_REQUEST (names
 * differ), ERR_INTERNAL.
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
 * Errors: ERR_INVALID_SERIAL, ERR_NOT_FOUND, ERR_ALREADY_REVOKED,
 * ERR_INTERNAL.
 */
int	svc_revoke(struct svc *s, const struct svc_actor *a,
	    const char *serial, int reason, struct cert_rec *out,
	    uint64_t *crl_number, struct err *e);

/* ---- tokens ---- */

struct svc_token_req {
	enum token_kind	 kind;
	const char	*profile;	/* enroll: required */
	char *const	*patterns;	/* enroll: at least one */
	size_t		 npatterns;
	int64_t		 uses;		/* enroll: >= 1; admin: ignored */
	int64_t		 ttl;		/* seconds; 0: never expires */
	int64_t		 max_cert_ttl;	/* seconds; 0: none */
	const char	*description;	/* may be NULL */
};

/*
 * Create a token.  *out is the stored record; token receives the secret
 * string ("rca_" + 64 hex), shown only this once.  Admin actors only.
 * Errors: ERR_FORBIDDEN, ERR_UNKNOWN_PROFILE, ERR_INVALID_REQUEST
 * (bad pattern, uses, description), ERR_INTERNAL.
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

struct svc_ca_info {
	const char	*pem;		/* borrowed: valid while s lives */
	int64_t		 not_after;
	const char	*fingerprint;	/* borrowed */
	enum key_type	 key_type;
};
void	svc_ca_info(struct svc *s, struct svc_ca_info *out);

/* A copy of the current CRL, served from memory. */
struct svc_crl {
	unsigned char	*der;		/* new */
	size_t		 der_len;
	char		*pem;		/* new */
	uint64_t	 number;
	int64_t		 this_update;
	int64_t		 next_update;
	char		 etag[48];	/* "\"crl-<number>\"" */
};
int	svc_crl_current(struct svc *s, struct svc_crl *out, struct err *e);
void	svc_crl_clear(struct svc_crl *c);

/*
 * Build, sign, store and swap in a new CRL (number = previous + 1,
 * nextUpdate = now + crl.validity), audited as crl.publish by a.
 * Errors: ERR_INTERNAL.
 */
int	svc_publish_crl(struct svc *s, const struct svc_actor *a,
	    struct err *e);

/*
 * Periodic work for the scheduler thread: republish the CRL when now is
 * past nextUpdate - crl.refresh_before.  Returns the number of seconds
 * until it wants to run again.
 */
int64_t	svc_tick(struct svc *s);

/* ---- operations ---- */

/* True when the database is writable and the CA key is loaded. */
bool	svc_ready(struct svc *s);

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

/* Audit entries with id > after; list is new (svc_audit_list_free()). */
int	svc_audit_list(struct svc *s, int64_t after, size_t limit,
	    struct audit_rec **out, size_t *n, int64_t *next, struct err *e);
void	svc_audit_list_free(struct audit_rec *list, size_t n);

/* The profile named name (borrowed), or NULL. */
const struct profile *svc_profile(struct svc *s, const char *name);

#endif
