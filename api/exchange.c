/*
 * The life of one request on a listener: decide from the headers on
 * the first callback (route, auth, media type, size), accumulate a
 * bounded body, then run the route's handler and answer once.  Each
 * request is logged and counted when answered.
 *
 * GET routes run on the HTTP thread.  The others write and wait on a
 * durable commit, so they run on the worker pool (workers.c): the HTTP
 * thread suspends the connection and queues the request; a worker runs
 * the handler into the request context and resumes the connection;
 * MHD then calls api_on_request again and the HTTP thread queues the
 * prepared answer.  Many writers in flight make db/'s group commits
 * large while the HTTP pool stays at one thread per core.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "fileio.h"
#include "log.h"
#include "server.h"

/* First allocation of a body buffer. */
#define API_BODY_CHUNK		4096

/*
 * Seconds a client is told to wait after a 503: the worker queue full
 * or the database unavailable (a failover takes seconds), and a
 * read-only database (a standby stays one until promoted: a load
 * balancer should have sent the write elsewhere).
 */
#define API_RETRY_AFTER		1
#define API_RETRY_READ_ONLY	5

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
	int64_t			 retry_after;	/* 429, 503: seconds */
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
	if (resp->shared != NULL) {
		/* No copy: MHD releases the bytes when it is done. */
		mr = MHD_create_response_from_buffer_with_free_callback_cls(
		    resp->len, (void *)resp->shared, resp->release,
		    resp->release_arg);
		if (mr != NULL)
			resp->release = NULL;
	} else
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
	    x->retry_after <= 0)
		x->retry_after = API_RETRY_AFTER;
	if ((resp->status == MHD_HTTP_TOO_MANY_REQUESTS ||
	    resp->status == MHD_HTTP_SERVICE_UNAVAILABLE) &&
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
	api_resp_release(resp);
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
	if (e->code == ERR_READ_ONLY)
		x->retry_after = API_RETRY_READ_ONLY;
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

/*
 * Authenticate x for its route (auth.c).  On refusal the answer is
 * queued.  An address past its failure limit gets 429 for any
 * credential before it is looked at; a missing credential is still a
 * plain 401.
 */
static int
authenticate(struct req_ctx *x, enum MHD_Result *ret)
{
	struct api *a = x->l->api;
	struct api_gate g = { a->thr, a->thr_limit, x->l->name };
	struct err e;

	if (api_authenticate(&g, &x->r, &x->retry_after, &e) == 0)
		return 0;
	*ret = early_err(x, &e, NULL);
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
	/*
	 * A standby's instance refuses writes before any work (no body
	 * read, no CSR parsed, nothing signed) and audits nothing: it
	 * cannot write the entry.
	 */
	if (x->r.route->method != M_GET && svc_read_only(x->r.svc)) {
		err_set(&e, ERR_READ_ONLY, "the database is read-only (a "
		    "standby): send writes to a writable instance");
		return early_err(x, &e, NULL);
	}
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
		api_resp_release(resp);
		return respond_err(x, e, NULL);
	}
	return respond(x, resp, NULL, false);
}

/* A worker: run the handler of a suspended request, then resume it. */
void
api_run_job(void *job)
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

enum MHD_Result
api_on_request(void *cls, struct MHD_Connection *conn, const char *url,
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
		x->r.table = l->api->table;
		x->r.metrics = &l->api->metrics;
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

void
api_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
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
	api_resp_release(&x->job_resp);
	free(x);
	*con_cls = NULL;
	atomic_fetch_sub(&l->api->inflight, 1);
}
