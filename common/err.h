/*
 * One way to fail: a function that can fail returns 0/-1 (or NULL) and
 * takes a struct err * last.  Only api/ maps codes to HTTP statuses.
 *
 * The one rule for a NULL struct err *: every function declared in a
 * module's public header accepts e == NULL (the caller does not want
 * the details).  A public function that reads e back (e->code) or
 * hands it on starts with ERR_LOCAL(e, local), so everything below it
 * sees a valid e; static functions and those of a module's private
 * header (svc_int.h, priv.h, ...) may require e != NULL.
 */
#ifndef RCA_ERR_H
#define RCA_ERR_H

#include <stddef.h>

enum err_code {
	ERR_OK = 0,
	ERR_INVALID_JSON,	/* body is not JSON (or has duplicate keys) */
	ERR_INVALID_REQUEST,	/* missing/wrong-typed/unknown field; msg names it */
	ERR_INVALID_CSR,	/* CSR does not parse */
	ERR_CSR_SIGNATURE,	/* CSR signature does not verify */
	ERR_UNKNOWN_PROFILE,	/* no such profile */
	ERR_INVALID_TTL,	/* ttl does not parse or is not positive */
	ERR_INVALID_SERIAL,	/* serial is not hex / too long */
	ERR_UNAUTHORIZED,	/* no, unknown, expired or used-up credential */
	ERR_FORBIDDEN,		/* credential kind/profile not allowed */
	ERR_NAME_NOT_ALLOWED,	/* a name outside the token's patterns */
	ERR_NOT_FOUND,		/* no such object */
	ERR_ALREADY_REVOKED,	/* second revoke of one certificate */
	ERR_ALREADY_EXISTS,	/* unique key taken */
	ERR_CONFLICT,		/* operation already running (e.g. rotation) */
	ERR_KEY_REJECTED,	/* key type/size outside the policy */
	ERR_TTL_TOO_LONG,	/* ttl above profile or token maximum */
	ERR_ROTATION_FAILED,	/* a rotation did not succeed */
	ERR_METHOD_NOT_ALLOWED,	/* HTTP: the path exists, not with this method */
	ERR_PAYLOAD_TOO_LARGE,	/* HTTP: body above the route's limit */
	ERR_UNSUPPORTED_MEDIA_TYPE, /* HTTP: body is not application/json */
	ERR_RATE_LIMITED,	/* too many failed authentications; wait */
	ERR_IO,			/* file system error */
	ERR_CRYPTO,		/* OpenSSL failure (details only in the log) */
	ERR_DB,			/* database failure (details only in the log) */
	ERR_NET,		/* network / TLS / Redis failure */
	ERR_CONFIG,		/* bad configuration; msg names the key path */
	ERR_USAGE,		/* bad command line */
	ERR_INTERNAL,		/* anything else; never shown to clients */
	ERR_READ_ONLY,		/* database is a read-only standby (writes) */
	ERR_UNAVAILABLE,	/* database unreachable or outcome unknown */
	/* CA lifecycle (SPEC section 10): phase refusals, 409/422. */
	ERR_CA_NEXT_EXISTS,	/* prepare while a next CA is prepared */
	ERR_CA_RETIRE_PENDING,	/* prepare while an old CA awaits retire */
	ERR_CA_NOT_PREPARED,	/* activate with no (complete) next CA */
	ERR_CA_NOTHING_TO_RETIRE, /* retire with no old CA in the bundle */
	ERR_CA_IN_USE,		/* retire while its certificates are valid */
	ERR_INVALID_CHAIN,	/* a CA certificate does not verify to roots */
	ERR__MAX
};

#define ERR_MSG_MAX 256

struct err {
	enum err_code	code;
	char		msg[ERR_MSG_MAX];
};

/*
 * Record an error in e (which may be NULL).  The message is formatted
 * like printf and truncated to ERR_MSG_MAX - 1 bytes.  Never put key
 * material, tokens or library internals meant for the log in it.
 */
void	err_set(struct err *e, enum err_code code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Reset e to ERR_OK with an empty message.  e may be NULL. */
void	err_clear(struct err *e);

/*
 * At the top of a public function: if e is NULL, point it at the
 * caller-provided struct err local (cleared), so the body may read
 * e->code.  Example:  struct err le;  ERR_LOCAL(e, le);
 */
#define ERR_LOCAL(e, local) do {					\
	if ((e) == NULL) {						\
		err_clear(&(local));					\
		(e) = &(local);						\
	}								\
} while (0)

/* snake_case name of a code ("invalid_request"); never NULL. */
const char *err_code_name(enum err_code code);

#endif
