/*
 * Shared fixture of the service tests: a throwaway CA made with
 * ca_create_files() in a temp dir, a fresh database (SQLite, or with
 * RCA_TEST_DB=pg PostgreSQL: tests/support/testdb.h), and a service opened
 * with SPEC section 4's redis-node and redis-client profiles.
 */
#ifndef RCA_TEST_SVC_FIXTURE_H
#define RCA_TEST_SVC_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "svc.h"

#define FX_TOKEN_LEN	(RCA_TOKEN_PREFIX_LEN + 2 * RCA_TOKEN_RANDOM_BYTES + 1)

struct fx {
	char			dir[64];
	char			cert[256];
	char			key[256];
	char			db[256];	/* file, or URI on PostgreSQL */
	struct profile		profiles[2];
	struct svc_config	cfg;
	struct svc		*svc;
	struct svc_actor	cli;	/* ACTOR_CLI */
	struct svc_actor	admin;	/* an authenticated admin token */
	char			admin_token[FX_TOKEN_LEN];
};

/* cmocka setup/teardown: *state is a struct fx *. */
int	fx_setup(void **state);
int	fx_teardown(void **state);

/* Close and reopen the service on the same files. */
void	fx_reopen(struct fx *f);

/* A CSR PEM (new, free()) for cn and up to two DNS SANs (NULL ends). */
char	*fx_csr(const char *cn, const char *dns1, const char *dns2);

/*
 * svc_issue() on s as a: a redis-client certificate for the PEM CSR
 * csr, ttl seconds (0: the profile's default) into out; 0, or -1 with
 * e set.
 */
int	fx_issue_csr(struct svc *s, const struct svc_actor *a,
	    const char *csr, int64_t ttl, struct svc_issued *out,
	    struct err *e);

/* fx_issue_csr() for a new CSR for cn (no SANs); it must work. */
void	fx_issue(struct svc *s, const struct svc_actor *a, const char *cn,
	    int64_t ttl, struct svc_issued *out);

/* fx_issue(), keeping only the serial (cap bytes). */
void	fx_issue_serial(struct svc *s, const struct svc_actor *a,
	    const char *cn, int64_t ttl, char *serial, size_t cap);

/*
 * svc_issue() by the admin of a redis-client certificate generated for
 * the name cn (the key made by the CA), ttl seconds; it must work.
 */
void	fx_generate(struct fx *f, const char *cn, int64_t ttl,
	    struct svc_issued *out);

/* The DER of a PEM certificate (new, free()); *len gets its length. */
unsigned char *fx_pem_der(const char *pem, size_t *len);

/* svc_auth_cert() of the PEM certificate pem into *a; it must work. */
void	fx_auth_cert(struct fx *f, const char *pem, struct svc_actor *a);

/* names for generate: cn and an optional DNS SAN. */
void	fx_names(struct names *n, const char *cn, const char *dns);

/*
 * Create an enroll token (by the CLI) and authenticate it into *actor;
 * the secret goes to tok (may be NULL).
 */
void	fx_enroll(struct fx *f, const char *profile, const char *pattern,
	    int64_t uses, int64_t ttl, int64_t max_cert_ttl,
	    struct svc_actor *actor, char *tok);

/*
 * True when the audit log holds a row with this action and outcome
 * whose detail (and object, when object is not NULL) match.  detail_sub
 * is a substring (NULL: any).
 */
bool	fx_audit_has(struct fx *f, const char *action, const char *outcome,
	    const char *object, const char *detail_sub);

/* The number of s's current CRL (fails the test when there is none). */
uint64_t fx_crl_number(struct svc *s);

/*
 * A DER CRL's entries as text, "\n<serial> <epoch> <reason>" each in
 * the CRL's order (serial in lowercase hex without leading zeros,
 * reason -1 when it has none); new (free()).  *number gets its CRL
 * number.  With ca_pub (may be NULL) its signature must verify.
 * (fixture_crl.c)
 */
char	*fx_crl_text(const unsigned char *der, size_t len, EVP_PKEY *ca_pub,
	    uint64_t *number);

/* s's current CRL as fx_crl_text(); *number is its number. */
char	*fx_crl_current_text(struct svc *s, uint64_t *number);

/*
 * s's current CRL through svc_crl_current_der() (no PEM) as
 * fx_crl_text(), its signature checked with ca_pub.
 */
char	*fx_crl_der_text(struct svc *s, EVP_PKEY *ca_pub, uint64_t *number);

/*
 * One revoking thread (fx_revoker_run(), a pthread start routine):
 * revokes serial[0..n) on s as a one after another (reasons
 * cessationOfOperation and superseded in turn).  Each number told must
 * be above the one before, and s's CRL then at least that number and
 * list the serial (fx_crl_der_text() when ca_pub is set, else
 * fx_crl_current_text()).  failed: 0, or which check failed (1 the
 * revoke, 2 the numbers, 3 the CRL).
 */
#define FX_REVOKES_MAX	20
struct fx_revoker {
	struct svc		*s;
	const struct svc_actor	*a;
	EVP_PKEY		*ca_pub;	/* may be NULL */
	int			 n;		/* <= FX_REVOKES_MAX */
	char			 serial[FX_REVOKES_MAX][64];
	uint64_t		 told[FX_REVOKES_MAX];
	int			 failed;
};
void	*fx_revoker_run(void *arg);

/*
 * The revoked, unexpired certificates of the database db (a SQLite
 * path or a PostgreSQL URI) as fx_crl_text() lists them.
 */
char	*fx_crl_db_text(const char *db);

/*
 * True when text (fx_crl_text()) lists serial; *reason (may be NULL)
 * gets the reason it is listed with.
 */
bool	fx_crl_lists(const char *text, const char *serial, long *reason);

#endif
