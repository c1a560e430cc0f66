/*
 * server/enroll: `redis-ca enroll`, the client side of self-enrollment
 * (SPEC section 7).  A host generates its own key, sends a CSR with a
 * one-time token, writes key.pem/cert.pem/chain.pem/ca.pem, and with
 * --daemon keeps the certificate fresh through mTLS /v1/renew.
 *
 * The pure parts (command line, response bodies, renewal time,
 * backoff) are exported for the tests; nothing here is thread-safe
 * beyond what each function says.
 */
#ifndef RCA_ENROLL_H
#define RCA_ENROLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "rca_limits.h"
#include "names.h"
#include "types.h"

/* Largest HTTP response body enroll accepts from the CA. */
#define ENROLL_MAX_RESPONSE_BYTES	(256 * 1024)
/* Backoff between failed renewals: first delay and cap, in seconds. */
#define ENROLL_BACKOFF_FIRST		2
#define ENROLL_BACKOFF_CAP		300
/* How long --exec CMD may run before it is killed, in seconds. */
#define ENROLL_EXEC_TIMEOUT		60
/* --bundle-check: the default, and its bounds, in seconds. */
#define ENROLL_BUNDLE_CHECK_DEFAULT	300
#define ENROLL_BUNDLE_CHECK_MIN		1
#define ENROLL_BUNDLE_CHECK_MAX		86400
/* The longest token accepted (tokens are "rca_" + 43 base64url chars). */
#define ENROLL_MAX_TOKEN_LEN		512

/* The parsed command line.  Strings are borrowed from argv. */
struct enroll_opts {
	const char	*url;		/* https://host:port */
	size_t		 url_len;	/* without trailing '/' */
	const char	*cacert;	/* CA to trust (PEM file) */
	const char	*token;		/* --token, or NULL */
	const char	*token_file;	/* --token-file, or NULL */
	const char	*profile;
	struct names	 names;		/* owned: --cn --dns --ip */
	enum key_type	 key_type;	/* default ec-p256 */
	int64_t		 ttl;		/* seconds; 0: default */
	const char	*out;		/* output folder */
	bool		 daemon;
	const char	*exec;		/* --exec CMD, or NULL */
	int64_t		 bundle_check;	/* seconds between bundle checks */
	bool		 bundle_check_set; /* --bundle-check given */
	bool		 help;		/* --help given */
	/* Pull mode: --redis HOST:PORT (needs --daemon) and its options. */
	const char	*redis;		/* --redis as given, or NULL */
	char		 redis_host[256];	/* HOST, brackets removed */
	int		 redis_port;		/* PORT */
	const char	*redis_auth_file;	/* --redis-auth-file, or NULL */
	const char	*redis_user;	/* --redis-user, or NULL */
	const char	*group;		/* --group, or NULL */
};

/*
 * Parse `enroll` arguments.  argv[0] is the command name ("enroll"),
 * options start at argv[1]; "--opt value" and "--opt=value" are both
 * accepted.  On success o is filled (free with enroll_opts_clear()).
 * Errors: ERR_USAGE with a one-line message naming the option.
 */
int	enroll_parse_args(int argc, char **argv, struct enroll_opts *o,
	    struct err *e);

/* Free what o owns.  o may be NULL. */
void	enroll_opts_clear(struct enroll_opts *o);

/* A certificate as the CA returned it (201 of /v1/certificates, renew). */
struct enroll_cert {
	char		 serial[RCA_SERIAL_HEX_MAX + 1];
	int64_t		 not_before;
	int64_t		 not_after;
	bool		 has_names;	/* CN/SANs were given */
	struct names	 names;		/* owned: as issued */
	char		*cert_pem;	/* owned; NULL from state */
	char		*chain_pem;	/* owned; NULL from state */
	char		*ca_pem;	/* owned; NULL from state */
};

/* Free what c owns and zero it.  c may be NULL. */
void	enroll_cert_clear(struct enroll_cert *c);

/*
 * Interpret an HTTP response of the CA.  status 201 with a certificate
 * object ("serial", "not_before", "not_after", "certificate",
 * "chain", "ca_certificate", optional "common_name" and "sans") fills
 * out.  Any other status fails with a one-line message built from the
 * error body {"error": {"code", "message"}} ("unauthorized: ...").
 * Errors: ERR_UNAUTHORIZED (401), ERR_FORBIDDEN (403, and
 * ERR_NAME_NOT_ALLOWED for code name_not_allowed), ERR_NET (408, 429,
 * 5xx: worth retrying), ERR_INVALID_REQUEST (other 4xx and 1xx-3xx),
 * ERR_INVALID_JSON (a 201 whose body is not the expected object).
 */
int	enroll_parse_response(long status, const char *body, size_t len,
	    struct enroll_cert *out, struct err *e);

/*
 * The state file (OUT/enroll.json) that lets a restarted daemon resume
 * without the one-use token: serial, dates and names of cert.pem.
 * enroll_state_encode returns a new string (free()), or NULL when out
 * of memory; enroll_state_parse fills out (cert_pem etc. stay NULL).
 * Errors: ERR_INVALID_JSON.
 */
char	*enroll_state_encode(const struct enroll_cert *c);
int	enroll_state_parse(const char *body, size_t len,
	    struct enroll_cert *out, struct err *e);

/*
 * Install a new key (key_pem) and certificate c (its PEM fields set) in
 * dir, created 0700 when missing: ca.pem (0444) first, then key.pem
 * (0400), chain.pem (0444), enroll.json (0644) and cert.pem (0444), each
 * written whole as NAME.next and then renamed into place in that order.
 * cert.pem.next is written last, so its presence means the set is
 * complete.  Errors: ERR_IO, ERR_INTERNAL.
 */
int	enroll_install_files(const char *dir, const char *key_pem,
	    const struct enroll_cert *c, struct err *e);

/*
 * After a crash during enroll_install_files: when cert.pem.next exists,
 * move every NAME.next into place (finish); otherwise delete them (the
 * previous pair stays).  Either way key.pem and cert.pem match.
 * Errors: ERR_IO.
 */
int	enroll_recover_files(const char *dir, struct err *e);

/*
 * When to renew a certificate valid from not_before to not_after: when
 * a third of the lifetime is left, minus a jitter of rnd modulo (5 % of
 * the lifetime + 1) seconds, so a fleet enrolled together does not
 * renew together.  Never before not_before.
 */
int64_t	enroll_renew_at(int64_t not_before, int64_t not_after,
	    uint64_t rnd);

/*
 * Seconds to wait after the attempt-th consecutive failure (0-based):
 * ENROLL_BACKOFF_FIRST doubling, capped at ENROLL_BACKOFF_CAP.
 */
int64_t	enroll_backoff(unsigned attempt);

/*
 * True when a failed renewal is worth retrying (network, TLS, a 5xx,
 * local I/O); false when the CA refused (revoked, expired, names).
 */
bool	enroll_err_transient(const struct err *e);

/*
 * `redis-ca enroll ...` (argv[0] is "enroll").  With --daemon the
 * trust bundle is followed: at every wake, and at least every
 * --bundle-check seconds, /v1/ca/bundle.pem is fetched with
 * If-None-Match and a changed bundle replaces ca.pem (then --exec
 * runs).  --exec CMD runs through /bin/sh -c after each renewal and
 * each bundle change, with REDIS_CA_OUT
 * and REDIS_CA_SERIAL in its environment, killed after
 * ENROLL_EXEC_TIMEOUT seconds; its status is logged, and a failing
 * command does not stop the daemon.  OUT/enroll.lock (flock) keeps a
 * second enroll from writing the same folder at the same time.  Returns
 * the exit status: 0 success (or --daemon stopped by SIGTERM/SIGINT),
 * 1 failure, 2 usage error.  Errors are one line on stderr; the token
 * is never printed or logged.
 */
int	cmd_enroll(int argc, char **argv);

#endif
