/*
 * api/ internals shared by its files: the route table, request context,
 * pure decoders and encoders, the error-to-status table, HTTP metrics,
 * listen-address parsing, the worker pool and the throttle.  Everything
 * here except the handlers, request.c, auth.c and the daemon glue
 * (server.h) is free of the network, so tests/api/ drives it directly.
 */
#ifndef RCA_API_PRIV_H
#define RCA_API_PRIV_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>

#include "api.h"
#include "err.h"
#include "records.h"
#include "svc.h"

/* ---- route table (routes.c) ---- */

/* Who may call a route. */
enum api_auth {
	AUTH_PUBLIC,		/* anyone, both listeners */
	AUTH_ADMIN,		/* admin token */
	AUTH_ADMIN_OR_ENROLL,	/* admin or enroll token (issuance) */
	AUTH_MTLS,		/* client certificate (renewal) */
	AUTH__MAX
};

enum api_method {
	M_GET,
	M_POST,
	M_DELETE,
	M__MAX
};

#define API_MAX_PARAMS	2	/* path parameters of one route */
#define API_PARAM_MAX	192	/* bytes of one path parameter (a
				 * 128-digit SKI fits) */

struct api_req;
struct api_resp;
struct MHD_Connection;

/*
 * A handler: decode (from r), one svc_* call, encode into out.  Returns
 * 0 with out filled, or -1 with e set (the caller writes the error
 * body).  Handlers that refuse input themselves (decode errors) audit
 * the refusal with api_refused() before returning -1.
 */
typedef int (*api_handler)(struct api_req *r, struct api_resp *out,
    struct err *e);

struct api_route {
	enum api_method	 method;
	const char	*path;		/* "/v1/certificates/{serial}.pem" */
	api_handler	 handler;
	size_t		 max_body;	/* 0: the route takes no body */
	enum api_auth	 auth;
	const char	*action;	/* audit action of refusals, or NULL */
	bool		 public;	/* also on the public listener */
};

/* The table (borrowed, static) and its length. */
const struct api_route *api_route_table(size_t *n);

/* "GET", "POST", "DELETE". */
const char *api_method_name(enum api_method m);

/* Parse a request method; HEAD counts as GET.  -1 when unknown. */
int	api_method_parse(const char *s, enum api_method *out);

enum api_match {
	MATCH_FOUND,		/* *route and params set */
	MATCH_NOT_FOUND,	/* no route has this path */
	MATCH_BAD_METHOD,	/* path known; allow lists the methods */
};

struct api_params {
	char	v[API_MAX_PARAMS][API_PARAM_MAX];
	size_t	n;
};

/*
 * Find the route for method and path among table[0..n).  On the public
 * listener (public_only) rows without the public flag do not exist.
 * Literal segments beat parameters with a suffix ("{serial}.pem"),
 * which beat bare parameters.  allow (size allowsz) receives the
 * methods of the path on MATCH_BAD_METHOD ("GET, DELETE").
 */
enum api_match api_route_match(const struct api_route *table, size_t n,
	    bool public_only, const char *method, const char *path,
	    const struct api_route **route, struct api_params *params,
	    char *allow, size_t allowsz);

/* ---- errors (errmap.c) ---- */

/* The HTTP-only refusals (their codes live in common/err.h). */
#define API_ERR_METHOD_NOT_ALLOWED	ERR_METHOD_NOT_ALLOWED
#define API_ERR_PAYLOAD_TOO_LARGE	ERR_PAYLOAD_TOO_LARGE
#define API_ERR_UNSUPPORTED_MEDIA	ERR_UNSUPPORTED_MEDIA_TYPE

/* snake_case name of a code. */
const char *api_err_name(enum err_code c);

/* HTTP status for an error code (500 for internal kinds). */
unsigned api_err_status(enum err_code c);

/*
 * The error body {"error": {"code", "message"}} for e (new string,
 * free()); internal kinds get a generic message.  *len its length.
 * Returns NULL only when out of memory.
 */
char	*api_err_body(const struct err *e, size_t *len);

/* ---- request bodies and queries (decode*.c) ---- */

/*
 * Parse a request body: JSON_REJECT_DUPLICATES, at most
 * RCA_MAX_JSON_DEPTH levels, an object at the top.  *out is new
 * (json_decref).  Errors: ERR_INVALID_JSON.
 */
int	api_json_load(const char *body, size_t len, json_t **out,
	    struct err *e);

/* POST /v1/certificates; strings borrowed from root (owned here). */
struct api_issue_body {
	json_t		*root;
	const char	*csr;
	size_t		 csr_len;
	const char	*profile;
	int64_t		 ttl;		/* 0: profile default */
};

/* POST /v1/certificates/generate. */
struct api_generate_body {
	json_t		*root;
	const char	*profile;
	struct names	 names;		/* owned: CN and DNS/IP SANs */
	int64_t		 ttl;
	enum key_type	 key_type;
};

/* POST /v1/certificates/{serial}/revoke. */
struct api_revoke_body {
	int		 reason;	/* REASON_*; default unspecified */
};

/* POST /v1/tokens. */
struct api_token_body {
	json_t		*root;
	struct svc_token_req req;	/* strings borrowed from root */
	char		*patterns[RCA_MAX_PATTERNS]; /* borrowed */
};

/*
 * Decode a body into a validated struct.  Unknown, missing and
 * wrong-typed fields fail with ERR_INVALID_REQUEST naming the field;
 * bad JSON with ERR_INVALID_JSON; a bad ttl with ERR_INVALID_TTL.  On
 * success the struct owns what the matching *_free releases; on failure
 * nothing is left to free.
 */
int	api_decode_issue(const char *body, size_t len,
	    struct api_issue_body *out, struct err *e);
void	api_issue_body_free(struct api_issue_body *b);
int	api_decode_generate(const char *body, size_t len,
	    struct api_generate_body *out, struct err *e);
void	api_generate_body_free(struct api_generate_body *b);
/* An empty body means {"reason": "unspecified"}. */
int	api_decode_revoke(const char *body, size_t len,
	    struct api_revoke_body *out, struct err *e);
int	api_decode_token(const char *body, size_t len,
	    struct api_token_body *out, struct err *e);
void	api_token_body_free(struct api_token_body *b);

/* POST /v1/nodes; strings borrowed from root (owned here). */
struct api_node_body {
	json_t			*root;
	struct names		 sans;		/* owned */
	struct svc_node_req	 req;		/* sans points at .sans */
};

/*
 * {"name", "group"?, "host", "port", "server_name"?, "sans"?: {"dns",
 * "ip"}, "cert_dir", "cert_file"?, "key_file"?, "ca_file"?, "profile"?,
 * "ttl"?, "auth"?: {"username"?, "password_file"?}}.  The values
 * themselves are checked by svc_node_create().  Errors as the decoders
 * above.
 */
int	api_decode_node(const char *body, size_t len,
	    struct api_node_body *out, struct err *e);
void	api_node_body_free(struct api_node_body *b);

/* POST /v1/renew; csr borrowed from root (owned here). */
struct api_renew_body {
	json_t		*root;		/* NULL: no body */
	const char	*csr;		/* NULL: the same key */
	size_t		 csr_len;
};

/*
 * An empty body, {} or {"csr": null} means "same key"; otherwise
 * exactly {"csr": PEM}.
 * Errors: ERR_INVALID_JSON, ERR_INVALID_REQUEST naming the field,
 * ERR_INVALID_CSR (longer than RCA_MAX_CSR_BYTES).
 */
int	api_decode_renew(const char *body, size_t len,
	    struct api_renew_body *out, struct err *e);
void	api_renew_body_free(struct api_renew_body *b);

/* Query strings of GET /v1/certificates (NULL: absent). */
struct api_cert_query {
	const char	*status;
	const char	*profile;
	const char	*common_name;
	const char	*node;
	const char	*expires_before;
	const char	*limit;
	const char	*after;
};

/* Errors: ERR_INVALID_REQUEST naming the parameter. */
int	api_decode_cert_query(const struct api_cert_query *q, int64_t now,
	    struct cert_filter *out, struct err *e);

/* ?limit=: default RCA_DEFAULT_LIST_LIMIT, 1..RCA_MAX_LIST_LIMIT. */
int	api_decode_limit(const char *s, size_t *out, struct err *e);

/* A decimal cursor (?after=): NULL/"" is 0.  Errors: invalid_request. */
int	api_decode_cursor(const char *s, int64_t *out, struct err *e);

/*
 * A name cursor (?after= of the token and node lists): NULL or "" is
 * none (*out NULL); else *out is s (borrowed) when valid(s).  Errors:
 * ERR_INVALID_REQUEST.
 */
int	api_decode_after(const char *s, bool (*valid)(const char *),
	    const char **out, struct err *e);

/*
 * Content-Type is application/json, parameters (charset) allowed.
 */
bool	api_is_json_type(const char *content_type);

/* ---- strict field checks shared by the body decoders (decode.c) ---- */

enum api_ftype {
	API_F_STRING,
	API_F_INTEGER,
	API_F_ARRAY,
	API_F_OBJECT,
	API_F_BOOLEAN,
};

/* One allowed key of a JSON object. */
struct api_field {
	const char	*name;
	enum api_ftype	 type;
	bool		 required;
};

/*
 * Check obj against fields[0..n): no other keys, required ones present
 * (null counts as absent), each of its type.  prefix ("" or "sans.")
 * goes before the names in messages.  Errors: ERR_INVALID_REQUEST
 * naming the field.
 */
int	api_check_fields(json_t *obj, const char *prefix,
	    const struct api_field *fields, size_t n, struct err *e);

/* The string value of an optional field of obj, or NULL (borrowed). */
const char *api_opt_string(json_t *obj, const char *name);

/*
 * The duration ("90s", "30m", "24h", "7d") of optional string field
 * name of root in *out; absent is 0.  Errors: ERR_INVALID_TTL naming
 * the field.
 */
int	api_opt_duration(json_t *root, const char *name, int64_t *out,
	    struct err *e);

/*
 * Add each string of array arr (the field called name; NULL or null:
 * none) to list k of n.  Errors: ERR_INVALID_REQUEST naming the element.
 */
int	api_add_names(struct names *n, enum name_kind k, json_t *arr,
	    const char *name, struct err *e);

/*
 * The optional "sans": {"dns"?: [...], "ip"?: [...]} of root into n
 * (the DNS and IP lists).  Returns 1 when present, 0 when absent (or
 * null), -1 with e set.  Errors: ERR_INVALID_REQUEST naming the field,
 * and those of names_add() naming the element.
 */
int	api_decode_sans(json_t *root, struct names *n, struct err *e);

/* ---- encoding (encode.c) ---- */

/* A certificate object (SPEC section 6); new, or NULL (no memory). */
json_t	*api_enc_cert(const struct cert_rec *c, int64_t now);

/*
 * Fill out with the 201 answer of an issuance or renewal: the
 * certificate object plus "chain", "ca_certificate" and, for generate,
 * "private_key".  Errors: ERR_INTERNAL.
 */
int	api_enc_issued(const struct svc_issued *is, struct api_resp *out,
	    struct err *e);

/* A token object (never the hash); new, or NULL. */
json_t	*api_enc_token(const struct token_rec *t);

/* An audit entry; new, or NULL. */
json_t	*api_enc_audit(const struct audit_rec *a);

/* A node object (SPEC section 6); new, or NULL (no memory). */
json_t	*api_enc_node(const struct svc_node_view *v);

/* A rotation record; new, or NULL (no memory). */
json_t	*api_enc_rotation(const struct rotation_rec *r);

/*
 * The 502 body of a failed rotation: the record plus "error": {"code":
 * "rotation_failed", "message": msg}; new, or NULL (no memory).
 */
json_t	*api_enc_rotation_failed(const struct rotation_rec *r,
	    const char *msg);

/*
 * Set key to v (stolen; NULL is a failure) in o; remembers any failure
 * in *ok, so an encoder sets every key and checks once.
 */
void	api_enc_put(json_t *o, const char *key, json_t *v, bool *ok);

/* An RFC 3339 time, or JSON null for 0 (none); new, or NULL. */
json_t	*api_enc_time(int64_t t);

/*
 * o with key set to v (both stolen; either may be NULL); o, or NULL
 * (no memory), for api_resp_json().
 */
json_t	*api_enc_with(json_t *o, const char *key, json_t *v);

/* Encode one list element (borrowed) with arg; new, or NULL. */
typedef json_t *(*api_enc_fn)(const void *item, const void *arg);

/*
 * A page of a list: {"items": [enc(item, arg)...], "next": next} with
 * n items of size bytes from items (borrowed); next NULL or "" (the
 * last page) is null.  New, or NULL (no memory).
 */
json_t	*api_enc_page(const void *items, size_t n, size_t size,
	    api_enc_fn enc, const void *arg, const char *next);

/* The "next" of a numeric cursor in out, or NULL when next <= 0. */
#define API_CURSOR 24
const char *api_enc_cursor(int64_t next, char out[API_CURSOR]);

/* "Sat, 28 Nov 2026 01:00:00 GMT" (RFC 7231 IMF-fixdate). */
#define API_HTTP_DATE 30
void	api_http_date(int64_t t, char out[API_HTTP_DATE]);

/* ---- metrics (metrics.c) ---- */

/* Histogram bounds of the request duration, seconds. */
#define API_NBUCKETS 11

/* Status codes counted per route; other codes count as "other". */
#define API_NCODES 18

/*
 * HTTP counters per route (table index; index nroutes is "unmatched")
 * kept with relaxed atomics: no lock on the request path.
 */
struct api_metrics {
	size_t		 nroutes;
	_Atomic uint64_t (*count)[API_NCODES];		/* [nroutes+1] */
	_Atomic uint64_t (*bucket)[API_NBUCKETS + 1];	/* +Inf last */
	_Atomic uint64_t *sum_us;			/* [nroutes+1] */
};

/* Errors: ERR_INTERNAL (no memory). */
int	api_metrics_init(struct api_metrics *m, size_t nroutes,
	    struct err *e);
void	api_metrics_free(struct api_metrics *m);

/* Count one request on route index ri (nroutes: unmatched). */
void	api_metrics_observe(struct api_metrics *m, size_t ri,
	    unsigned status, uint64_t duration_us);

/*
 * Prometheus text (0.0.4) of the service stats (st; NULL: left out),
 * the HTTP counters (route labels from table), the node series (ns;
 * NULL: left out) and the instance's leadership and database (h; NULL:
 * left out).  New string (free()), or NULL (no memory).
 */
char	*api_metrics_format(const struct api_metrics *m,
	    const struct api_route *table, const struct svc_stats *st,
	    const struct svc_node_stats *ns, const struct svc_health *h,
	    size_t *len);

/* ---- listen addresses (listen.c) ---- */

/*
 * Parse "host:port" or "[v6]:port" (numeric hosts, or "localhost")
 * into ss.  Port 0 asks the kernel for one.  Errors: ERR_CONFIG naming
 * the address.
 */
int	api_listen_parse(const char *s, struct sockaddr_storage *ss,
	    socklen_t *len, struct err *e);

/* ---- worker pool (workers.c) ---- */

/*
 * A fixed pool of threads running fn(job) for each pushed job, in FIFO
 * order, with a bounded queue.  The routes that write run there so the
 * HTTP threads never wait on a commit (exchange.c).  Every function is
 * thread-safe, except that api_workers_stop/free must not race each
 * other.
 */
struct api_workers;
typedef void (*api_job_fn)(void *job);

/*
 * Start nthreads threads; at most qcap jobs wait at once.  Returns a
 * new pool (api_workers_free), or NULL.  Errors: ERR_INTERNAL (no
 * memory, cannot create a thread).
 */
struct api_workers *api_workers_new(size_t nthreads, size_t qcap,
	    api_job_fn fn, struct err *e);

/*
 * Reserve one queue slot.  Returns 0, then exactly one api_workers_push
 * or api_workers_cancel must follow; -1 when the queue is full or the
 * pool is stopping.
 */
int	api_workers_reserve(struct api_workers *w);

/* Queue job (borrowed until fn returns) into a reserved slot. */
void	api_workers_push(struct api_workers *w, void *job);

/* Give a reserved slot back unused. */
void	api_workers_cancel(struct api_workers *w);

/* Jobs reserved, queued or running. */
size_t	api_workers_pending(struct api_workers *w);

/*
 * Refuse new reservations, run every job already reserved or queued,
 * and join the threads.  NULL ok; a second call does nothing.
 */
void	api_workers_stop(struct api_workers *w);

/* api_workers_stop, then free.  NULL ok. */
void	api_workers_free(struct api_workers *w);

/*
 * Requests of a handed to its workers whose handler has not finished
 * (for tests).  A request leaves this count before it is answered.
 */
size_t	api_jobs_pending(struct api *a);

/*
 * True once api_stop(a) has begun: every answer queued from then on
 * closes its connection (for tests).
 */
bool	api_stopping(struct api *a);

/* ---- failed-authentication throttle (throttle.c) ---- */

/* The audit action of the entry written when an address is throttled. */
#define API_ACTION_THROTTLED	"auth.throttled"

/* Seconds of one counting window ("failures in a minute"). */
#define API_THR_WINDOW		60
/* Slots the server's table holds, and the most any table may hold. */
#define API_THR_CAPACITY	8192
#define API_THR_MAX_CAPACITY	(1 << 20)

#define API_THR_KEY_LEN		16
/* "255.255.255.255" or an IPv6 /64 prefix: "ffff:...:ffff::/64". */
#define API_THR_ADDR_STR	(46 + 3)

/*
 * Whom failures are counted for: an IPv4 address (also when it reaches
 * an IPv6 listener as ::ffff:a.b.c.d), or the /64 of an IPv6 address.
 */
struct api_thr_key {
	unsigned char	b[API_THR_KEY_LEN];
};

/* The key of a client address.  -1 for other families. */
int	api_thr_key(const struct sockaddr *sa, struct api_thr_key *k);

/* "127.0.0.1", "2001:db8:1:2::/64". */
void	api_thr_key_str(const struct api_thr_key *k,
	    char out[API_THR_ADDR_STR]);

/*
 * A fixed-size table of failure counts (about capacity addresses; when
 * full, new addresses evict expired, then unthrottled, then the oldest
 * entries).  Every function is thread-safe; times are seconds on a
 * clock that does not go back (CLOCK_MONOTONIC in the server).
 */
struct api_throttle;

/*
 * limit failures in a window throttle an address.  Returns a new
 * table (api_throttle_free), or NULL.  Errors: ERR_CONFIG (limit 0),
 * ERR_INTERNAL.
 */
struct api_throttle *api_throttle_new(unsigned limit, size_t capacity,
	    struct err *e);
void	api_throttle_free(struct api_throttle *t);

/* Addresses the table holds at most (capacity rounded up). */
size_t	api_throttle_capacity(const struct api_throttle *t);

/*
 * 0 when k may try to authenticate at now; else the seconds until its
 * window ends (>= 1): answer 429 without looking at the credentials.
 */
int64_t	api_throttle_check(struct api_throttle *t,
	    const struct api_thr_key *k, int64_t now);

/* What to record of one failed authentication. */
enum api_thr_verdict {
	API_THR_AUDIT,		/* below the limit: audit it as usual */
	API_THR_TRIPPED,	/* reached the limit: audit it, and the
				 * throttling (once per window) */
	API_THR_QUIET,		/* past the limit: audit nothing */
};

/*
 * Count a failed authentication of k at now.  *wait (may be NULL) gets
 * the seconds left in k's window.
 */
enum api_thr_verdict api_throttle_fail(struct api_throttle *t,
	    const struct api_thr_key *k, int64_t now, int64_t *wait);

/* ---- request context (exchange.c) and handlers (h_*.c) ---- */

/* What a handler answers. */
struct api_resp {
	unsigned	 status;
	const char	*ctype;		/* static string */
	char		*body;		/* new (free()), or NULL */
	size_t		 len;
	/*
	 * Or, body NULL: bytes sent without a copy, valid until
	 * release(release_arg) runs once the response is done (release
	 * NULL: valid while the server runs).  api_resp_release() frees
	 * either kind of body.
	 */
	const void	*shared;
	void		(*release)(void *);
	void		*release_arg;
	char		 etag[48];	/* "" : none */
	char		 last_modified[API_HTTP_DATE]; /* "" : none */
};

struct api_req {
	struct svc		*svc;
	struct MHD_Connection	*conn;
	const struct api_route	*route;
	const struct api_route	*table;		/* borrowed: all routes */
	const struct api_metrics *metrics;	/* borrowed: the server's */
	struct api_params	 params;
	struct svc_actor	 actor;
	const char		*body;		/* borrowed; NULL: none */
	size_t			 body_len;
	unsigned char		*peer_der;	/* AUTH_MTLS: new */
	size_t			 peer_der_len;
};

/* ---- what a handler reads of its request (request.c) ---- */

/* A query-string value (borrowed from the connection), or NULL. */
const char *api_query(struct api_req *r, const char *key);

/* A request header value, or NULL. */
const char *api_header(struct api_req *r, const char *name);

/* Record a refusal by api/ under the route's action (if any). */
void	api_refused(struct api_req *r, const char *object,
	    const struct err *why);

/* ---- what a handler answers (reply.c) ---- */

/*
 * Fill out with status and the JSON encoding of v (steals v).
 * Returns 0, or -1 with ERR_INTERNAL.
 */
int	api_resp_json(struct api_resp *out, unsigned status, json_t *v,
	    struct err *e);

/* Fill out with a copy of len bytes of data. */
int	api_resp_bytes(struct api_resp *out, unsigned status,
	    const char *ctype, const void *data, size_t len, struct err *e);

/* Fill out with status and no body (204, 304). */
void	api_resp_empty(struct api_resp *out, unsigned status);

/*
 * Fill out with len bytes of data sent without a copy: data stays valid
 * until release(arg) (called once, when the response is done or
 * dropped); release NULL: data lives as long as the server.
 */
void	api_resp_shared(struct api_resp *out, unsigned status,
	    const char *ctype, const void *data, size_t len,
	    void (*release)(void *), void *arg);

/* Free (and wipe) out's body or release its shared bytes; then empty. */
void	api_resp_release(struct api_resp *out);

/* ---- authentication (auth.c) ---- */

/* What authenticating a request needs of its listener (borrowed). */
struct api_gate {
	struct api_throttle	*thr;		/* failures per address */
	unsigned		 thr_limit;	/* per window, for messages */
	const char		*name;		/* listener, for the log */
};

/*
 * Authenticate r for its route (AUTH_PUBLIC: nothing to do), filling
 * r->actor (and r->peer_der for AUTH_MTLS).  An address past its
 * failure limit gets 429 for any credential before it is looked at; a
 * missing credential is still a plain 401.  Failures are counted and
 * audited (bounded per window).  Returns 0, or -1 with e set and, for
 * ERR_RATE_LIMITED, *retry_after the seconds to wait.  Errors:
 * ERR_UNAUTHORIZED, ERR_FORBIDDEN, ERR_RATE_LIMITED, ERR_INTERNAL.
 */
int	api_authenticate(const struct api_gate *g, struct api_req *r,
	    int64_t *retry_after, struct err *e);

/*
 * The DER of the client certificate presented on r's TLS connection.
 * *der is new (free()).  Errors: ERR_UNAUTHORIZED (no certificate,
 * plain HTTP), ERR_INTERNAL.
 */
int	api_peer_cert_der(struct MHD_Connection *c, unsigned char **der,
	    size_t *len, struct err *e);

/* Handlers: the comment above each lists the statuses it returns. */
int	api_h_cert_issue(struct api_req *, struct api_resp *, struct err *);
int	api_h_cert_generate(struct api_req *, struct api_resp *,
	    struct err *);
int	api_h_cert_list(struct api_req *, struct api_resp *, struct err *);
int	api_h_cert_get(struct api_req *, struct api_resp *, struct err *);
int	api_h_cert_pem(struct api_req *, struct api_resp *, struct err *);
int	api_h_cert_revoke(struct api_req *, struct api_resp *, struct err *);
int	api_h_token_create(struct api_req *, struct api_resp *,
	    struct err *);
int	api_h_token_list(struct api_req *, struct api_resp *, struct err *);
int	api_h_token_get(struct api_req *, struct api_resp *, struct err *);
int	api_h_token_delete(struct api_req *, struct api_resp *,
	    struct err *);
int	api_h_ca(struct api_req *, struct api_resp *, struct err *);
int	api_h_ca_pem(struct api_req *, struct api_resp *, struct err *);
int	api_h_crl(struct api_req *, struct api_resp *, struct err *);
int	api_h_crl_pem(struct api_req *, struct api_resp *, struct err *);
int	api_h_healthz(struct api_req *, struct api_resp *, struct err *);
int	api_h_readyz(struct api_req *, struct api_resp *, struct err *);
int	api_h_metrics(struct api_req *, struct api_resp *, struct err *);
int	api_h_audit(struct api_req *, struct api_resp *, struct err *);
int	api_h_renew(struct api_req *, struct api_resp *, struct err *);
int	api_h_node_create(struct api_req *, struct api_resp *, struct err *);
int	api_h_node_list(struct api_req *, struct api_resp *, struct err *);
int	api_h_node_get(struct api_req *, struct api_resp *, struct err *);
int	api_h_node_delete(struct api_req *, struct api_resp *, struct err *);
int	api_h_node_rotate(struct api_req *, struct api_resp *, struct err *);
int	api_h_node_rotations(struct api_req *, struct api_resp *,
	    struct err *);
int	api_h_node_check(struct api_req *, struct api_resp *, struct err *);
int	api_h_node_conf(struct api_req *, struct api_resp *, struct err *);

#endif
