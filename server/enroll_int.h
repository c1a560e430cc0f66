/*
 * Private to the enroll client (server/enroll*.c): the files of the
 * output folder and the helpers its files share.  Nothing else
 * includes it.
 */
#ifndef RCA_ENROLL_INT_H
#define RCA_ENROLL_INT_H

#include <stddef.h>

#include "enroll.h"
#include "err.h"

/* The files of one certificate, in the order they are committed. */
enum out_file {
	OUT_KEY,	/* key.pem, 0400 */
	OUT_CHAIN,	/* chain.pem, 0444 */
	OUT_STATE,	/* enroll.json, 0644 */
	OUT_CERT,	/* cert.pem, 0444: written last, its .next commits */
	OUT__MAX
};

/* Their names in the output folder, indexed by enum out_file. */
extern const char *const enroll_out_names[OUT__MAX];

/*
 * Write "dir/name" followed by suffix ("" or ".next") into buf of sz
 * bytes.  Errors: ERR_IO (path too long).
 */
int	enroll_out_path(char *buf, size_t sz, const char *dir,
	    const char *name, const char *suffix, struct err *e);

/*
 * Create dir 0700 when it does not exist; it must be a folder.
 * Errors: ERR_IO.
 */
int	enroll_ensure_dir(const char *dir, struct err *e);

/*
 * Take dir/enroll.lock (flock, exclusive, not waiting) so that two
 * enroll processes never replace the same files at once.  Returns the
 * descriptor holding the lock.  Errors: ERR_CONFLICT, ERR_IO.
 */
int	enroll_lock_dir(const char *dir, struct err *e);

/*
 * Read dir/enroll.json into c (its PEM fields stay NULL), checking that
 * cert.pem and key.pem are readable.  Errors: ERR_NOT_FOUND when there
 * is none, ERR_IO, ERR_INVALID_JSON.
 */
int	enroll_load_state(const char *dir, struct enroll_cert *c,
	    struct err *e);

/*
 * Read the token (from --token or the first line of --token-file).
 * *tok is new (free with fio_secret_free_str()).  Errors: ERR_IO,
 * ERR_NOT_FOUND, ERR_USAGE (not a token).
 */
int	enroll_read_token(const struct enroll_opts *o, char **tok,
	    struct err *e);

/*
 * First enrollment with the token: a new key for o->names, its CSR sent
 * to /v1/certificates, the answer installed in o->out.  On success
 * *cert holds the new certificate (the previous contents are freed).
 * Errors: those of enroll_read_token, enroll_parse_response and
 * enroll_install_files, ERR_NET, ERR_CRYPTO, ERR_INTERNAL.
 */
int	enroll_once(const struct enroll_opts *o, struct enroll_cert *cert,
	    struct err *e);

/*
 * Renew with the current pair (mTLS to /v1/renew) and a fresh key for
 * the same names; on success *cert is replaced as by enroll_once().
 * Errors: as enroll_once() (except the token's).
 */
int	enroll_renew_once(const struct enroll_opts *o,
	    struct enroll_cert *cert, struct err *e);

/* Longest ETag kept from /v1/ca/bundle.pem (quotes included). */
#define ENROLL_ETAG_MAX		80

/*
 * The trust for the CA's API: the --cacert file followed by o->out's
 * ca.pem when there is one (the bundle: once the next CA is prepared it
 * holds its anchors, so an API certificate it re-issues keeps
 * verifying).  *pem is new (free()).  Errors: ERR_IO (cannot read
 * --cacert), ERR_INTERNAL.
 */
int	enroll_trust_pem(const struct enroll_opts *o, char **pem,
	    size_t *len, struct err *e);

/*
 * GET /v1/ca/bundle.pem with If-None-Match: etag (in/out, "" for
 * none).  On 200 with a body other than o->out's ca.pem, ca.pem is
 * replaced (temporary file, fsync, rename; 0444) and 1 returned; on
 * 304 or the same bytes, 0.  etag receives the answer's ETag.
 * Errors: ERR_NET (unreachable, TLS, 5xx), ERR_INVALID_REQUEST (another
 * status, or a body that is not PEM certificates), ERR_IO.
 */
int	enroll_bundle_check(const struct enroll_opts *o,
	    char etag[ENROLL_ETAG_MAX], struct err *e);

/*
 * POST body (JSON) to path over mTLS with o->out's cert.pem/key.pem.
 * *status and *resp (new, free()) receive the answer whatever its
 * status.  Errors: ERR_NET, ERR_IO, ERR_INTERNAL.
 */
int	enroll_post_mtls(const struct enroll_opts *o, const char *path,
	    const char *body, long *status, char **resp, size_t *resp_len,
	    struct err *e);

/* ---- pull mode (enroll_redis.c): --redis ---- */

/* What the daemon keeps between wakes in pull mode. */
struct enroll_pull {
	char	*pending;	/* a rotation report not yet accepted (JSON,
				 * owned), or NULL */
};

/* Free what p owns. */
void	enroll_pull_clear(struct enroll_pull *p);

/*
 * Before a renewal: copy key.pem, cert.pem, chain.pem, ca.pem and
 * enroll.json to NAME.prev (the rollback's files).  Nothing without
 * --redis.  Errors: ERR_IO.
 */
int	enroll_redis_save_prev(const struct enroll_opts *o, struct err *e);

/*
 * After an enrollment or a renewal installed cert: load it into the
 * local Redis and verify (svc_pull_load: connect, config_set,
 * verify_serial, rollback), then report to the CA (a failed report
 * stays pending and is retried at the next wake).  old_serial is the
 * serial before ("" for none), started_at when the renewal began.  On
 * a failure *cert is read back from enroll.json (the previous one after
 * a rollback).
 * Nothing without --redis.  Errors: ERR_NET (rolled back or failed:
 * retried with backoff), ERR_IO.
 */
int	enroll_redis_apply(const struct enroll_opts *o,
	    struct enroll_cert *cert, const char *old_serial,
	    int64_t started_at, struct enroll_pull *p, struct err *e);

/*
 * At every bundle check: CONFIG SET tls-ca-cert-file when ca.pem
 * changed, send a pending report, then a check-in (status "check",
 * the served serial read live).  Failures are logged.  Nothing without
 * --redis.
 */
void	enroll_redis_checkin(const struct enroll_opts *o,
	    const struct enroll_cert *cert, bool ca_changed,
	    struct enroll_pull *p);

/*
 * When the daemon starts: when Redis does not serve cert yet, load it
 * as enroll_redis_apply does; then check in.  Failures are logged.
 */
void	enroll_redis_start(const struct enroll_opts *o,
	    struct enroll_cert *cert, struct enroll_pull *p);

#endif
