/*
 * The two libmicrohttpd daemons and the life of one request: decide
 * from the headers on the first callback (route, auth, media type,
 * size), accumulate a bounded body, then run the route's handler and
 * answer once.  Each request is logged and counted when answered.
 *
 * GET routes run on the HTTP thread.  The others write and wait on a
 * durable commit, so they run on the worker pool (workers.c): the HTTP
 * thread suspends the connection and queues the request; a worker runs
 * the handler into the request context and resumes the connection;
 * MHD then calls on_request again and the HTTP thread queues the
 * prepared answer.  Many writers in flight make db/'s group commits
 * large while the HTTP pool stays at one thread per core.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "api_priv.h"
#include "fileio.h"
#include "rca_limits.h"
#include "log.h"

/* GnuTLS priorities: TLS 1.2 and 1.3, forward-secret AEAD suites only. */
#define API_TLS_PRIORITIES						\
	"NONE:+VERS-TLS1.3:+VERS-TLS1.2:+ECDHE-ECDSA:+ECDHE-RSA:"	\
	"+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:+AEAD:+SIGN-ALL:"	\
	"+GROUP-ALL:+COMP-NULL:+CTYPE-X509:%SERVER_PRECEDENCE"

/* Idle seconds; MHD pool per connection; grace on stop; first body. */
#define API_CONN_TIMEOUT	30
#define API_CONN_MEMORY		(64 * 1024)
#define API_STOP_WAIT_MS	10000
#define API_BODY_CHUNK		4096

/* Seconds a client is told to wait after a 503 (worker queue full). */
#define API_RETRY_AFTER		"1"

struct listener {
	struct api		*api;
	struct MHD_Daemon	*d;
	bool			 public_only;
	const char		*name;		/* "api", "public" */
};

struct api {
	struct svc		*svc;
	size_t			 max_body;
	const struct api_route	*table;
	size_t			 nroutes;
	struct api_metrics	 metrics;
	struct listener		 l_api;
	struct listener		 l_public;
	/* PEM, kept while MHD runs; the key is wiped on free. */
	char			*tls_cert;
	char			*tls_key;
	size_t			 tls_key_len;
	char			*tls_ca;
	struct api_workers	*workers;	/* runs non-GET routes, new */
	struct api_throttle	*thr;		/* auth failures, new */
	unsigned		 thr_limit;	/* per window */
	_Atomic long		 inflight;	/* not yet completed */
	_Atomic long		 jobs;		/* handed to workers, not run */
	_Atomic bool		 stopping;	/* api_stop() began */
};

/* Where a request stands with the worker pool. */
enum req_job {
	JOB_NONE,		/* not handed to a worker */
	JOB_QUEUED,		/* suspended; a worker owns the handler run */
	JOB_DONE,		/* resumed; job_resp/job_err hold the answer */
};

/*
 * One request (MHD's con_cls).  While job is JOB_QUEUED the worker
 * alone touches it; MHD_resume_connection hands it back (MHD's lock
 * orders the worker's writes before the HTTP thread's reads).
 */
struct req_ctx {
	struct api_req		 r;
	struct listener		*l;
	const char		*method;	/* MHD's */
	struct timespec		 start;
	size_t			 ri;	/* route; nroutes: none */
	char			*buf;		/* body, new */
	size_t			 len;
	size_t			 cap;
	size_t			 limit;		/* body cap */
	unsigned long long	 content_length; /* 0: absent */
	bool			 has_body;	/* length or chunked */
	bool			 too_large;
	bool			 responded;
	bool			 pending;	/* refusal to send */
	struct err		 pending_err;
	char			 pending_allow[64];
	int64_t			 retry_after;	/* 429: seconds */
	enum req_job		 job;
	int			 job_rc;	/* the handler's return */
	struct api_resp		 job_resp;	/* body new, until answered */
	struct err		 job_err;
};

static uint64_t
elapsed_us(const struct timespec *t0)
{
	struct timespec t1;
	int64_t us;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	us = (int64_t)(t1.tv_sec - t0->tv_sec) * 1000000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000;
	return us < 0 ? 0 : (uint64_t)us;
}

const char *
api_query(struct api_req *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
	    key);
}

const char *
api_header(struct api_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

struct api_metrics *
api_get_metrics(struct api *a)
{
	return &a->metrics;
}

void
api_refused(struct api_req *r, const char *object, const struct err *why)
{
	if (r->route == NULL || r->route->action == NULL)
		return;
	if (object == NULL)
		object = r->params.n > 0 ? r->params.v[0] : "";
	svc_audit_denied(r->svc, &r->actor, r->route->action, object, why);
}

int
api_resp_json(struct api_resp *out, unsigned status, json_t *v,
    struct err *e)
{
	char *s;

	if (v == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	s = json_dumps(v, JSON_COMPACT);
	json_decref(v);
	if (s == NULL) {
		err_set(e, ERR_INTERNAL, "cannot encode JSON");
		return -1;
	}
	out->status = status;
	out->ctype = "application/json";
	out->body = s;
	out->len = strlen(s);
	return 0;
}

int
api_resp_bytes(struct api_resp *out, unsigned status, const char *ctype,
    const void *data, size_t len, struct err *e)
{
	char *b;

	if ((b = malloc(len + 1)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	memcpy(b, data, len);
	b[len] = '\0';
	out->status = status;
	out->ctype = ctype;
	out->body = b;
	out->len = len;
	return 0;
}

/* Count, log and queue resp; frees (and wipes) resp's body. */
static enum MHD_Result
respond(struct req_ctx *x, struct api_resp *resp, const char *allow,
    bool www_auth)
{
	struct api *a = x->l->api;
	struct MHD_Response *mr;
	enum MHD_Result ret = MHD_NO;
	uint64_t us;

	x->responded = true;
	mr = MHD_create_response_from_buffer(resp->len,
	    resp->body != NULL ? resp->body : (char *)"",
	    MHD_RESPMEM_MUST_COPY);
	if (mr == NULL)
		goto out;
	if (resp->ctype != NULL && MHD_add_response_header(mr,
	    MHD_HTTP_HEADER_CONTENT_TYPE, resp->ctype) == MHD_NO)
		goto out;
	if (resp->etag[0] != '\0' && MHD_add_response_header(mr,
	    MHD_HTTP_HEADER_ETAG, resp->etag) == MHD_NO)
		goto out;
	if (resp->last_modified[0] != '\0' && MHD_add_response_header(mr,
	    MHD_HTTP_HEADER_LAST_MODIFIED, resp->last_modified) == MHD_NO)
		goto out;
	if (allow != NULL && MHD_add_response_header(mr,
	    MHD_HTTP_HEADER_ALLOW, allow) == MHD_NO)
		goto out;
	if (www_auth && MHD_add_response_header(mr,
	    MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer") == MHD_NO)
		goto out;
	if (resp->status == MHD_HTTP_SERVICE_UNAVAILABLE &&
	    MHD_add_response_header(mr, MHD_HTTP_HEADER_RETRY_AFTER,
	    API_RETRY_AFTER) == MHD_NO)
		goto out;
	if (resp->status == MHD_HTTP_TOO_MANY_REQUESTS &&
	    x->retry_after > 0) {
		char ra[24];

		snprintf(ra, sizeof(ra), "%lld", (long long)x->retry_after);
		if (MHD_add_response_header(mr, MHD_HTTP_HEADER_RETRY_AFTER,
		    ra) == MHD_NO)
			goto out;
	}
	/*
	 * Once stopping, keep-alive connections are closed after their
	 * answer: quiescing only stops new connections.
	 */
	if (atomic_load_explicit(&a->stopping, memory_order_relaxed) &&
	    MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION,
	    "close") == MHD_NO)
		goto out;
	/* Answers to authenticated calls (keys, tokens) are never cached. */
	if (x->r.route != NULL && x->r.route->auth != AUTH_PUBLIC &&
	    MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store") == MHD_NO)
		goto out;
	ret = MHD_queue_response(x->r.conn, resp->status, mr);
out:
	MHD_destroy_response(mr);
	if (resp->body != NULL) {
		fio_wipe(resp->body, resp->len);
		free(resp->body);
		resp->body = NULL;
	}
	us = elapsed_us(&x->start);
	api_metrics_observe(&a->metrics, x->ri, resp->status, us);
	log_info("%s %s %s %u %llu.%03llums %s", x->l->name, x->method,
	    x->r.route != NULL ? x->r.route->path : "unmatched",
	    resp->status, (unsigned long long)(us / 1000),
	    (unsigned long long)(us % 1000),
	    x->r.actor.id[0] != '\0' ? x->r.actor.id : "-");
	return ret;
}

static enum MHD_Result
respond_err(struct req_ctx *x, const struct err *e, const char *allow)
{
	struct api_resp resp = { 0 };
	static const char fallback[] = "{\"error\":{\"code\":\"internal\","
	    "\"message\":\"internal error\"}}";

	resp.status = api_err_status(e->code);
	resp.ctype = "application/json";
	if (resp.status == 500)
		log_error("%s %s: %s: %s", x->method, x->r.route != NULL ?
		    x->r.route->path : "unmatched", api_err_name(e->code),
		    e->msg);
	resp.body = api_err_body(e, &resp.len);
	if (resp.body == NULL) {
		resp.status = 500;
		resp.body = strdup(fallback);
		resp.len = resp.body != NULL ? strlen(resp.body) : 0;
	}
	/* Bearer is the challenge only where a token is the credential. */
	return respond(x, &resp, allow, e->code == ERR_UNAUTHORIZED &&
	    (x->r.route == NULL || x->r.route->auth != AUTH_MTLS));
}

/*
 * A refusal decided from the headers.  With a body on its way it is
 * queued at once (MHD then skips the body and closes the connection);
 * without one it waits for MHD's last call, which keeps the connection
 * alive.
 */
static enum MHD_Result
early_err(struct req_ctx *x, const struct err *e, const char *allow)
{
	if (x->has_body)
		return respond_err(x, e, allow);
	x->pending = true;
	x->pending_err = *e;
	snprintf(x->pending_allow, sizeof(x->pending_allow), "%s",
	    allow != NULL ? allow : "");
	return MHD_YES;
}

/* Refuse at the api layer: audited on state-changing routes. */
static enum MHD_Result
refuse(struct req_ctx *x, enum err_code code, const char *msg)
{
	struct err e;

	err_set(&e, code, "%s", msg);
	api_refused(&x->r, NULL, &e);
	return early_err(x, &e, NULL);
}

/* The token of "Authorization: Bearer <token>", or NULL. */
static const char *
bearer(const char *h)
{
	if (h == NULL || strncasecmp(h, "Bearer", 6) != 0 ||
	    (h[6] != ' ' && h[6] != '\t'))
		return NULL;
	h += 6;
	while (*h == ' ' || *h == '\t')
		h++;
	return *h != '\0' ? h : NULL;
}

/* Seconds on the monotonic clock: the throttle's windows. */
static int64_t
mono_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec;
}

/* The throttle key of x's client; false when it is not IPv4/IPv6. */
static bool
client_key(struct req_ctx *x, struct api_thr_key *k)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(x->r.conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	return ci != NULL && api_thr_key(ci->client_addr, k) == 0;
}

/*
 * 0 when x's address may present credentials now; else the answer (429
 * rate_limited with Retry-After) is queued and -1 returned.  Nothing
 * is read or written: a throttled flood costs no database work.
 */
static int
throttle_check(struct req_ctx *x, enum MHD_Result *ret)
{
	struct api_thr_key k;
	struct err e;
	int64_t wait;

	if (!client_key(x, &k) ||
	    (wait = api_throttle_check(x->l->api->thr, &k, mono_now())) == 0)
		return 0;
	x->retry_after = wait;
	err_set(&e, ERR_RATE_LIMITED, "too many failed authentications "
	    "from this address; retry in %lld s", (long long)wait);
	*ret = early_err(x, &e, NULL);
	return -1;
}

/*
 * A failed authentication (why): count it for the client's address and
 * audit it while the address is under its limit; the failure that
 * reaches the limit also records one auth.throttled entry, and later
 * ones in the window record nothing, so a flood adds a bounded number
 * of rows.
 */
static void
auth_failed(struct req_ctx *x, const struct err *why)
{
	struct api *a = x->l->api;
	enum api_thr_verdict v = API_THR_AUDIT;
	char addr[API_THR_ADDR_STR];
	struct svc_actor who;
	struct api_thr_key k;
	int64_t wait = 0;
	struct err e;

	if (client_key(x, &k))
		v = api_throttle_fail(a->thr, &k, mono_now(), &wait);
	if (v == API_THR_QUIET)
		return;
	api_refused(&x->r, NULL, why);
	if (v != API_THR_TRIPPED)
		return;
	api_thr_key_str(&k, addr);
	log_warn("%s: %s failed to authenticate %u times within %d s: "
	    "requests with credentials refused for %lld s", x->l->name,
	    addr, a->thr_limit, API_THR_WINDOW, (long long)wait);
	svc_actor_init(&who, ACTOR_NONE);
	snprintf(who.id, sizeof(who.id), "ip:%s", addr);
	err_set(&e, ERR_RATE_LIMITED, "%u failed authentications within "
	    "%d s; requests with credentials refused for %lld s",
	    a->thr_limit, API_THR_WINDOW, (long long)wait);
	svc_audit_denied(a->svc, &who, API_ACTION_THROTTLED, addr, &e);
	svc_actor_clear(&who);
}

/*
 * Authenticate x for its route.  On refusal the answer is queued.  An
 * address past its failure limit gets 429 for any credential before it
 * is looked at; a missing credential is still a plain 401.
 */
static int
authenticate(struct req_ctx *x, enum MHD_Result *ret)
{
	const struct api_route *rt = x->r.route;
	struct api *a = x->l->api;
	const char *tok;
	struct err e;

	if (rt->auth == AUTH_PUBLIC)
		return 0;
	/*
	 * The client certificate of the TLS session: it must chain to this
	 * CA, be unexpired, recorded and not revoked (svc_auth_cert).
	 */
	if (rt->auth == AUTH_MTLS) {
		if (api_peer_cert_der(x->r.conn, &x->r.peer_der,
		    &x->r.peer_der_len, &e) == 0) {
			if (throttle_check(x, ret) == -1)
				return -1;
			/*
			 * On refusal the actor is left unauthenticated but
			 * still named mtls:<serial> when the certificate
			 * parsed, so the denied audit row says who it was.
			 */
			if (svc_auth_cert(a->svc, x->r.peer_der,
			    x->r.peer_der_len, &x->r.actor, &e) == 0)
				return 0;
		}
		if (e.code == ERR_UNAUTHORIZED)
			auth_failed(x, &e);
		*ret = early_err(x, &e, NULL);
		return -1;
	}
	tok = bearer(api_header(&x->r, MHD_HTTP_HEADER_AUTHORIZATION));
	if (tok == NULL) {
		err_set(&e, ERR_UNAUTHORIZED, "a bearer token is needed");
		auth_failed(x, &e);
		*ret = early_err(x, &e, NULL);
		return -1;
	}
	if (throttle_check(x, ret) == -1)
		return -1;
	if (svc_auth_token(a->svc, tok, &x->r.actor, &e) == -1) {
		svc_actor_clear(&x->r.actor);
		svc_actor_init(&x->r.actor, ACTOR_NONE);
		if (e.code == ERR_UNAUTHORIZED)
			auth_failed(x, &e);
		*ret = early_err(x, &e, NULL);
		return -1;
	}
	if (x->r.actor.kind == ACTOR_ADMIN ||
	    (rt->auth == AUTH_ADMIN_OR_ENROLL &&
	    x->r.actor.kind == ACTOR_TOKEN))
		return 0;
	*ret = refuse(x, ERR_FORBIDDEN, "this token may not call this route");
	return -1;
}

/* Check the body's declared type and size.  On refusal, queued. */
static int
check_body_headers(struct req_ctx *x, enum MHD_Result *ret)
{
	x->limit = x->r.route->max_body;
	if (x->limit > x->l->api->max_body)
		x->limit = x->l->api->max_body;
	if (x->has_body && !api_is_json_type(api_header(&x->r,
	    MHD_HTTP_HEADER_CONTENT_TYPE))) {
		*ret = refuse(x, API_ERR_UNSUPPORTED_MEDIA,
		    "request bodies must be application/json");
		return -1;
	}
	if (x->content_length > x->limit) {
		*ret = refuse(x, API_ERR_PAYLOAD_TOO_LARGE,
		    "request body is too large");
		return -1;
	}
	return 0;
}

/* Append upload data to the bounded body buffer. */
static void
body_append(struct req_ctx *x, const char *data, size_t n)
{
	size_t need, ncap;
	char *nb;

	if (x->too_large)
		return;
	if (n > x->limit - x->len) {
		x->too_large = true;
		free(x->buf);
		x->buf = NULL;
		x->len = x->cap = 0;
		return;
	}
	need = x->len + n;
	if (need > x->cap) {
		ncap = x->cap == 0 ? API_BODY_CHUNK : x->cap;
		while (ncap < need)
			ncap *= 2;
		if (ncap > x->limit)
			ncap = x->limit;
		if ((nb = realloc(x->buf, ncap)) == NULL) {
			x->too_large = true;
			free(x->buf);
			x->buf = NULL;
			x->len = x->cap = 0;
			return;
		}
		x->buf = nb;
		x->cap = ncap;
	}
	memcpy(x->buf + x->len, data, n);
	x->len += n;
}

/* First callback: everything decided from the request line and headers. */
static enum MHD_Result
first_call(struct req_ctx *x, const char *url)
{
	struct api *a = x->l->api;
	enum MHD_Result ret = MHD_YES;
	const char *cl, *te;
	enum api_match m;
	char allow[64], *end;
	struct err e;

	cl = api_header(&x->r, MHD_HTTP_HEADER_CONTENT_LENGTH);
	te = api_header(&x->r, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	if (cl != NULL) {
		errno = 0;
		x->content_length = strtoull(cl, &end, 10);
		if (errno != 0 || end == cl)
			x->content_length = (unsigned long long)-1;
	}
	x->has_body = x->content_length > 0 || te != NULL;
	m = api_route_match(a->table, a->nroutes, x->l->public_only,
	    x->method, url, &x->r.route, &x->r.params, allow, sizeof(allow));
	if (m == MATCH_NOT_FOUND) {
		err_set(&e, ERR_NOT_FOUND, "no such resource");
		return early_err(x, &e, NULL);
	}
	if (m == MATCH_BAD_METHOD) {
		x->r.route = NULL;
		err_set(&e, API_ERR_METHOD_NOT_ALLOWED,
		    "method %.16s is not allowed here", x->method);
		return early_err(x, &e, allow);
	}
	x->ri = (size_t)(x->r.route - a->table);
	if (authenticate(x, &ret) == -1)
		return ret;
	if (x->r.route->max_body > 0 && check_body_headers(x, &ret) == -1)
		return ret;
	return MHD_YES;
}

/*
 * The worker queue is full (or the workers have stopped: api_stop()
 * past its grace period): 503 with Retry-After.  Not an err.h code
 * (nothing below api/ can be "busy"), so the body is written here in
 * the shape of every error body, code "busy".
 */
static enum MHD_Result
respond_busy(struct req_ctx *x)
{
	static const char body[] = "{\"error\":{\"code\":\"busy\","
	    "\"message\":\"too many requests in progress; retry later\"}}";
	struct api_resp resp = { 0 };

	log_warn("%s %s: worker queue full, answered 503", x->method,
	    x->r.route->path);
	resp.status = MHD_HTTP_SERVICE_UNAVAILABLE;
	resp.ctype = "application/json";
	resp.body = strdup(body);
	resp.len = resp.body != NULL ? strlen(resp.body) : 0;
	return respond(x, &resp, NULL, false);
}

/* The answer of a handler run (here or on a worker). */
static enum MHD_Result
respond_handled(struct req_ctx *x, int rc, struct api_resp *resp,
    const struct err *e)
{
	if (rc == -1) {
		free(resp->body);
		resp->body = NULL;
		return respond_err(x, e, NULL);
	}
	return respond(x, resp, NULL, false);
}

/* A worker: run the handler of a suspended request, then resume it. */
static void
run_job(void *job)
{
	struct req_ctx *x = job;

	err_clear(&x->job_err);
	x->job_rc = x->r.route->handler(&x->r, &x->job_resp, &x->job_err);
	x->job = JOB_DONE;
	/* Before the resume, so a job is never counted once answered. */
	atomic_fetch_sub(&x->l->api->jobs, 1);
	MHD_resume_connection(x->r.conn);
}

/* Last callback: the body is complete; run the handler. */
static enum MHD_Result
last_call(struct req_ctx *x)
{
	struct api_workers *w = x->l->api->workers;
	struct api_resp resp = { 0 };
	struct err e;
	int rc;

	if (x->job == JOB_DONE)
		return respond_handled(x, x->job_rc, &x->job_resp,
		    &x->job_err);
	if (x->job == JOB_QUEUED)
		return MHD_YES;		/* not resumed yet: cannot happen */
	if (x->too_large) {
		err_set(&e, API_ERR_PAYLOAD_TOO_LARGE,
		    "request body is too large");
		api_refused(&x->r, NULL, &e);
		return respond_err(x, &e, NULL);
	}
	x->r.body = x->buf;
	x->r.body_len = x->len;
	if (x->r.route->method != M_GET && w != NULL) {
		/* Reserve first: once suspended, the job must run. */
		if (api_workers_reserve(w) == -1)
			return respond_busy(x);
		x->job = JOB_QUEUED;
		atomic_fetch_add(&x->l->api->jobs, 1);
		MHD_suspend_connection(x->r.conn);
		api_workers_push(w, x);
		return MHD_YES;
	}
	err_clear(&e);
	rc = x->r.route->handler(&x->r, &resp, &e);
	return respond_handled(x, rc, &resp, &e);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct listener *l = cls;
	struct req_ctx *x = *con_cls;

	if (x == NULL) {
		if ((x = calloc(1, sizeof(*x))) == NULL)
			return MHD_NO;
		clock_gettime(CLOCK_MONOTONIC, &x->start);
		x->l = l;
		x->method = method;
		x->ri = l->api->nroutes;
		x->r.svc = l->api->svc;
		x->r.api = l->api;
		x->r.conn = conn;
		svc_actor_init(&x->r.actor, ACTOR_NONE);
		atomic_fetch_add(&l->api->inflight, 1);
		*con_cls = x;
		return first_call(x, url);
	}
	if (x->responded) {
		/* Refused from the headers: the body is dropped. */
		*upload_size = 0;
		return MHD_YES;
	}
	if (x->pending) {
		if (*upload_size > 0) {
			*upload_size = 0;
			return MHD_YES;
		}
		return respond_err(x, &x->pending_err,
		    x->pending_allow[0] != '\0' ? x->pending_allow : NULL);
	}
	if (*upload_size > 0) {
		if (x->r.route->max_body > 0)
			body_append(x, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	return last_call(x);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct listener *l = cls;
	struct req_ctx *x = *con_cls;

	if (x == NULL)
		return;
	/* A client leaving early is routine; a finished job lost is not. */
	if (!x->responded)
		log_msg(x->job != JOB_NONE ? LOG_LVL_WARN : LOG_LVL_DEBUG,
		    "%s %s %s: connection ended before the answer "
		    "(MHD code %d)", l->name, x->method,
		    x->r.route != NULL ? x->r.route->path : "unmatched",
		    (int)toe);
	svc_actor_clear(&x->r.actor);
	free(x->r.peer_der);
	free(x->buf);
	free(x->job_resp.body);
	free(x);
	*con_cls = NULL;
	atomic_fetch_sub(&l->api->inflight, 1);
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	/* TLS handshakes refused by policy are routine: debug level. */
	log_debug("http: %s", line);
}

static int
read_pem(const char *path, char **out, size_t *len, struct err *e)
{
	struct err fe;

	if (fio_read_all(path, RCA_MAX_PEM_BYTES, out, len, &fe) == -1) {
		err_set(e, ERR_IO, "cannot read %.200s: %s", path, fe.msg);
		return -1;
	}
	return 0;
}

static struct MHD_Daemon *
start_daemon(struct api *a, struct listener *l, const char *addr, bool tls,
    const struct api_config *c, struct err *e)
{
	struct MHD_OptionItem ops[20];
	struct sockaddr_storage ss;
	struct MHD_Daemon *d;
	unsigned flags, threads, maxc, per_ip;
	socklen_t sslen;
	size_t i = 0;
	long ncpu;

	if (api_listen_parse(addr, &ss, &sslen, e) == -1)
		return NULL;
	threads = c->threads;
	if (threads == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		threads = ncpu > 0 ? (unsigned)ncpu : 1;
	}
	maxc = c->max_connections > 0 ? c->max_connections : 1024;
	/*
	 * One address must not take a listener away from the others (the
	 * public one serves the CRL and CA to everyone), so both get the
	 * same small per-address cap.  Idle connections cost no thread
	 * (MHD polls them with epoll) and are closed after
	 * API_CONN_TIMEOUT, so the cap is what bounds one address.
	 */
	per_ip = c->max_connections_per_ip > 0 ? c->max_connections_per_ip :
	    RCA_MAX_CONN_PER_IP_DEFAULT;
	if (per_ip > maxc)
		per_ip = maxc;
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (tls)
		flags |= MHD_USE_TLS;
	/* The logger first: later options may already want to log. */
	ops[i++] = (struct MHD_OptionItem){ MHD_OPTION_EXTERNAL_LOGGER,
	    (intptr_t)on_mhd_log, NULL };
	ops[i++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, &ss };
	/* A pool of one is refused by MHD: one thread is its default. */
	if (threads > 1)
		ops[i++] = (struct MHD_OptionItem){
		    MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)threads, NULL };
	ops[i++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT,
	    (intptr_t)maxc, NULL };
	ops[i++] = (struct MHD_OptionItem){ MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (intptr_t)per_ip, NULL };
	ops[i++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT,
	    API_CONN_TIMEOUT, NULL };
	ops[i++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    API_CONN_MEMORY, NULL };
	ops[i++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED,
	    (intptr_t)on_completed, l };
	if (tls) {
		ops[i++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT,
		    0, a->tls_cert };
		ops[i++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY,
		    0, a->tls_key };
		ops[i++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES,
		    0, (void *)API_TLS_PRIORITIES };
		if (a->tls_ca != NULL)
			ops[i++] = (struct MHD_OptionItem){
			    MHD_OPTION_HTTPS_MEM_TRUST, 0, a->tls_ca };
	}
	ops[i++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, l,
	    MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
	if (d == NULL)
		err_set(e, ERR_NET, "cannot listen on %.80s (%s listener)",
		    addr, l->name);
	return d;
}

struct api *
api_start(struct svc *s, const struct api_config *c, struct err *e)
{
	struct api *a = NULL, *ret = NULL;
	size_t len, maxc;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	a->svc = s;
	a->max_body = c->max_body_bytes > 0 ? c->max_body_bytes :
	    RCA_MAX_BODY_BYTES_DEFAULT;
	a->table = api_route_table(&a->nroutes);
	a->l_api = (struct listener){ a, NULL, false, "api" };
	a->l_public = (struct listener){ a, NULL, true, "public" };
	if (api_metrics_init(&a->metrics, a->nroutes, e) == -1)
		goto out;
	/*
	 * Each connection has at most one job; the slack keeps 503s for
	 * a pool that is truly stuck.  Two listeners share the pool.
	 */
	maxc = c->max_connections > 0 ? c->max_connections : 1024;
	a->workers = api_workers_new(RCA_API_WORKERS,
	    4 * RCA_API_WORKERS + 2 * (size_t)maxc, run_job, e);
	if (a->workers == NULL)
		goto out;
	a->thr_limit = c->auth_failures_per_minute > 0 ?
	    c->auth_failures_per_minute : RCA_AUTH_FAILURES_DEFAULT;
	if ((a->thr = api_throttle_new(a->thr_limit, API_THR_CAPACITY,
	    e)) == NULL)
		goto out;
	if (c->api_tls) {
		if (c->tls_cert == NULL || c->tls_key == NULL) {
			err_set(e, ERR_CONFIG, "api_tls needs a certificate "
			    "and a key");
			goto out;
		}
		if (read_pem(c->tls_cert, &a->tls_cert, &len, e) == -1 ||
		    read_pem(c->tls_key, &a->tls_key, &a->tls_key_len,
		    e) == -1)
			goto out;
		if (c->tls_ca != NULL && c->tls_ca[0] != '\0' &&
		    read_pem(c->tls_ca, &a->tls_ca, &len, e) == -1)
			goto out;
	}
	a->l_api.d = start_daemon(a, &a->l_api, c->api_listen, c->api_tls, c,
	    e);
	if (a->l_api.d == NULL)
		goto out;
	if (c->public_listen != NULL && c->public_listen[0] != '\0') {
		a->l_public.d = start_daemon(a, &a->l_public,
		    c->public_listen, false, c, e);
		if (a->l_public.d == NULL)
			goto out;
	}
	ret = a;
	a = NULL;
out:
	api_stop(a);
	return ret;
}

size_t
api_jobs_pending(struct api *a)
{
	long n = atomic_load(&a->jobs);

	return n > 0 ? (size_t)n : 0;
}

bool
api_stopping(struct api *a)
{
	return atomic_load(&a->stopping);
}

/* True while a request is unanswered or a job is queued or running. */
static bool
busy(struct api *a)
{
	return atomic_load(&a->inflight) > 0 || (a->workers != NULL &&
	    api_workers_pending(a->workers) > 0);
}

/*
 * Stop accepting on both listeners, give in-flight requests time to
 * finish, stop the workers (they run every job already queued and
 * resume its connection), then stop MHD: no connection is left
 * suspended when MHD_stop_daemon runs.
 */
void
api_stop(struct api *a)
{
	struct listener *ls[2];
	MHD_socket fd[2] = { MHD_INVALID_SOCKET, MHD_INVALID_SOCKET };

	if (a == NULL)
		return;
	ls[0] = &a->l_public;
	ls[1] = &a->l_api;
	atomic_store(&a->stopping, true);
	for (int i = 0; i < 2; i++)
		if (ls[i]->d != NULL)
			fd[i] = MHD_quiesce_daemon(ls[i]->d);
	for (int ms = 0; ms < API_STOP_WAIT_MS && busy(a); ms += 10)
		usleep(10000);
	api_workers_stop(a->workers);
	for (int i = 0; i < 2; i++) {
		if (ls[i]->d != NULL)
			MHD_stop_daemon(ls[i]->d);
		if (fd[i] != MHD_INVALID_SOCKET)
			close(fd[i]);
	}
	api_workers_free(a->workers);
	api_throttle_free(a->thr);
	api_metrics_free(&a->metrics);
	free(a->tls_cert);
	if (a->tls_key != NULL)
		fio_wipe(a->tls_key, a->tls_key_len);
	free(a->tls_key);
	free(a->tls_ca);
	free(a);
}

static unsigned
daemon_port(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *info;

	if (d == NULL)
		return 0;
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	return info != NULL ? info->port : 0;
}

unsigned
api_port(const struct api *a)
{
	return a != NULL ? daemon_port(a->l_api.d) : 0;
}

unsigned
api_public_port(const struct api *a)
{
	return a != NULL ? daemon_port(a->l_public.d) : 0;
}
