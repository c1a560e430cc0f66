/*
 * The tests' HTTP(S) client, over libcurl: one request, with a bearer
 * token, a body, a client certificate and the CA file trusted as the
 * test asks; its status, headers and body kept in a bounded buffer.
 * The caller runs curl_global_init() once, as libcurl wants.
 */
#ifndef RCA_TEST_HTTPS_H
#define RCA_TEST_HTTPS_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>
#include <jansson.h>

/* An answer: each part NUL-terminated and cut to fit. */
struct thc_resp {
	long	 status;	/* 0 until an answer came */
	char	 body[262144];
	size_t	 len;
	char	 hdrs[8192];	/* the header lines as received */
	size_t	 hlen;
};

/* A request; fields left 0 / NULL are not sent. */
struct thc_req {
	const char	*method;	/* NULL: GET */
	const char	*url;		/* borrowed */
	const char	*path;		/* appended to url, or NULL */
	const char	*token;		/* Authorization: Bearer token */
	const char	*ctype;		/* Content-Type */
	const char	*body;		/* sent with its length */
	size_t		 chunked;	/* > 0: stream this many spaces */
	const char	*extra;		/* one more header line */
	const char	*cacert;	/* the CA file trusted (HTTPS) */
	const char	*cert;		/* the client's certificate (HTTPS) */
	const char	*key;		/* and its key */
	long		 tls_min;	/* CURL_SSLVERSION_* | ..._MAX_*: */
	long		 tls_max;	/* offer only these, old ones too */
	long		 timeout_ms;	/* 0: 60 s */
	bool		 no_reuse;	/* close the connection afterwards */
};

/* A zeroed answer (new, free()); aborts when out of memory. */
struct thc_resp	*thc_resp_new(void);

/*
 * Perform q on handle cu (reset first, its open connections kept for
 * reuse), or on a new handle when cu is NULL; the answer in r (emptied
 * first).  Returns libcurl's code: a transport failure is the caller's
 * to judge.  Never fails the test itself, so client threads may call
 * it.
 */
CURLcode	 thc_perform(CURL *cu, const struct thc_req *q,
		    struct thc_resp *r);

/* thc_perform() on a new handle that must succeed; r's status. */
long		 thc_call(const struct thc_req *q, struct thc_resp *r);

/*
 * method base+path with token (or NULL) and a JSON body (or NULL: no
 * Content-Type); r's status.  The transport must succeed.
 */
long		 thc_req(const char *method, const char *base,
		    const char *path, const char *token, const char *body,
		    struct thc_resp *r);

/* The value of header name in r, or "" (a static buffer). */
const char	*thc_header(const struct thc_resp *r, const char *name);

/* r's body as JSON (new reference); fails the test when it is not. */
json_t		*thc_json(const struct thc_resp *r);

/* r's status is want (else fail, showing the body). */
void		 thc_expect_status(const struct thc_resp *r, long want);

/* r's body is an error whose code is code (else fail, showing it). */
void		 thc_expect_code(const struct thc_resp *r, const char *code);

/*
 * r is status with error code code, and its message holds part (NULL:
 * any message).
 */
void		 thc_expect_error(const struct thc_resp *r, long status,
		    const char *code, const char *part);

#endif
