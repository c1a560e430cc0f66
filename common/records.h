/*
 * The records the CA keeps: certificates, tokens, audit entries, nodes,
 * rotations.  db/ fills them, service/ passes them on, api/ encodes them.
 * Plain C data; strings marked "owned" are freed by the *_clear function.
 */
#ifndef RCA_RECORDS_H
#define RCA_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rca_limits.h"
#include "names.h"
#include "types.h"

/* ---- certificates ---- */

enum cert_status {
	CERT_VALID,	/* not revoked, not expired */
	CERT_REVOKED,	/* revoked (whether expired or not) */
	CERT_EXPIRED,	/* not revoked, notAfter passed */
	CERT_STATUS__MAX
};

struct cert_rec {
	int64_t		id;		/* database row id (list cursor) */
	char		serial[RCA_SERIAL_HEX_MAX + 1];	/* lowercase hex */
	char		profile[RCA_MAX_PROFILE_NAME + 1];
	struct names	names;		/* owned: CN and SANs */
	enum key_type	key_type;
	int64_t		not_before;	/* epoch seconds */
	int64_t		not_after;
	int64_t		revoked_at;	/* 0: not revoked */
	int		reason;		/* RFC 5280 code; -1 if not revoked */
	char		fingerprint[RCA_SHA256_HEX + 1];	/* of the DER */
	char		node[RCA_MAX_NODE_NAME + 1];	/* "" when none */
	char		issued_by[RCA_ACTOR_MAX + 1];	/* actor string */
	char		*pem;		/* owned: the certificate PEM */
	int64_t		created_at;
	/* SHA-256 of the canonical SubjectPublicKeyInfo; "" unknown */
	char		spki_sha256[RCA_SHA256_HEX + 1];
	int64_t		ca_id;		/* issuing CA (db cas.id); 0 is 1 */
};

/* Free what r owns and zero it.  r may be NULL. */
void	cert_rec_clear(struct cert_rec *r);

/* Status of r at time now. */
enum cert_status cert_rec_status(const struct cert_rec *r, int64_t now);

/* "valid", "revoked", "expired"; parse returns -1 when unknown. */
const char *cert_status_name(enum cert_status s);
int	cert_status_parse(const char *s, enum cert_status *out);

/* Filters for listing certificates (GET /v1/certificates). */
struct cert_filter {
	int		 status;	/* -1: any; else enum cert_status */
	const char	*profile;	/* NULL: any */
	const char	*common_name;	/* NULL: any; exact match */
	const char	*node;		/* NULL: any */
	int64_t		 expires_before; /* 0: any; not_after < this */
	int64_t		 ca_id;		/* 0: any; else the issuing CA's id */
	int64_t		 now;		/* for status */
	int64_t		 after;		/* cursor: id of the last row seen */
	size_t		 limit;		/* 1..RCA_MAX_LIST_LIMIT */
};

/* ---- tokens ---- */

enum token_kind {
	TOKEN_ADMIN,	/* "admin": everything */
	TOKEN_ENROLL,	/* "enroll": issue under one profile, bounded */
	TOKEN_KIND__MAX
};

const char *token_kind_name(enum token_kind k);
int	token_kind_parse(const char *s, enum token_kind *out);

struct token_rec {
	char		id[RCA_TOKEN_ID_HEX + 1];	/* public id, hex */
	enum token_kind	kind;
	char		profile[RCA_MAX_PROFILE_NAME + 1];	/* "" admin */
	char		**patterns;	/* owned: name patterns (enroll) */
	size_t		npatterns;
	int64_t		uses_left;	/* -1: unlimited */
	int64_t		expires_at;	/* 0: never */
	int64_t		max_cert_ttl;	/* seconds; 0: no cap */
	int64_t		created_at;
	char		*description;	/* owned; may be NULL */
	unsigned char	hash[32];	/* SHA-256 of the token string */
};

/* Free what r owns and zero it.  r may be NULL. */
void	token_rec_clear(struct token_rec *r);

/* ---- audit ---- */

enum audit_outcome {
	AUDIT_OK,	/* "ok" */
	AUDIT_DENIED,	/* "denied": refused (auth, policy, validation) */
	AUDIT_ERROR,	/* "error": failed on our side */
	AUDIT_OUTCOME__MAX
};

const char *audit_outcome_name(enum audit_outcome o);

struct audit_rec {
	int64_t			id;	/* assigned by the database */
	int64_t			at;
	char			actor[RCA_ACTOR_MAX + 1];
	char			action[32];	/* "certificate.issue" ... */
	char			object[128];	/* serial, token id, node */
	enum audit_outcome	outcome;
	char			detail[256];	/* never secrets */
};

/* ---- nodes and rotations (SPEC section 6) ---- */

/* Who renews a node's certificate (SPEC section 11). */
enum node_mode {
	NODE_MODE_PUSH,	/* "push": the CA rotates it over TLS */
	NODE_MODE_PULL,	/* "pull": enroll --daemon --redis on its host */
	NODE_MODE__MAX
};

/* "push", "pull" ("unknown" out of range); parse: -1 when unknown. */
const char *node_mode_name(enum node_mode m);
int	node_mode_parse(const char *s, enum node_mode *out);

struct node_rec {
	char		name[RCA_MAX_NODE_NAME + 1];
	char		host[256];
	int		port;
	char		server_name[256];	/* "" : use host */
	struct names	sans;		/* owned: DNS and IP SANs */
	char		cert_dir[RCA_MAX_PATH];
	char		cert_file[256];
	char		key_file[256];
	char		ca_file[256];
	char		profile[RCA_MAX_PROFILE_NAME + 1];
	int64_t		ttl;		/* seconds; 0: profile default */
	char		auth_username[128];	/* "" : none */
	char		auth_password_file[RCA_MAX_PATH];	/* "" : none */
	char		current_serial[RCA_SERIAL_HEX_MAX + 1];	/* "" */
	int64_t		not_after;	/* of current_serial; 0 unknown */
	int64_t		last_rotation_id;	/* 0: never */
	int		failures;	/* consecutive failed rotations */
	int64_t		next_attempt_at;	/* scheduler backoff; 0 */
	int64_t		created_at;
	/*
	 * Fleets (migration 6).  group: the effective group, the node's own
	 * name when none was given (stored as '' then; db_node_insert()
	 * stores '' for "" or the name itself).
	 */
	char		group[RCA_MAX_NODE_NAME + 1];
	enum node_mode	mode;
	char		role[16];	/* "primary", "replica", "" unknown */
	int64_t		role_at;	/* when role was seen; 0 never */
	/* serial the node served at its last check or report; "" */
	char		served_serial[RCA_SERIAL_HEX_MAX + 1];
	int64_t		served_at;	/* 0: never */
	int64_t		drift_since;	/* 0: no drift; else first seen */
	int64_t		last_report_at;	/* pull: last report; 0 never */
};

void	node_rec_clear(struct node_rec *r);

enum rotation_status {
	ROT_RUNNING,	/* "running" */
	ROT_SUCCEEDED,	/* "succeeded" */
	ROT_ROLLED_BACK,	/* "rolled_back" */
	ROT_FAILED,	/* "failed" */
	ROT_STATUS__MAX
};

const char *rotation_status_name(enum rotation_status s);

#define ROT_MAX_STEPS 12

struct rotation_step {
	char	step[24];	/* issue|write_files|config_set|... */
	bool	ok;
	char	detail[256];
};

struct rotation_rec {
	int64_t			id;
	char			node[RCA_MAX_NODE_NAME + 1];
	enum rotation_status	status;
	char			old_serial[RCA_SERIAL_HEX_MAX + 1];
	char			new_serial[RCA_SERIAL_HEX_MAX + 1];
	int64_t			started_at;
	int64_t			finished_at;	/* 0 while running */
	struct rotation_step	steps[ROT_MAX_STEPS];
	size_t			nsteps;
};

#endif
