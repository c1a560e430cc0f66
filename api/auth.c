/*
 * Who is calling: the bearer token or the client certificate a route
 * asks for, checked by the service, behind the failed-authentication
 * throttle (throttle.c) that keeps a flood from costing database work.
 */
#include <stdio.h>
#include <strings.h>
#include <time.h>

#include <microhttpd.h>

#include "api_priv.h"
#include "log.h"

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

/* The throttle key of r's client; false when it is not IPv4/IPv6. */
static bool
client_key(struct api_req *r, struct api_thr_key *k)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(r->conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	return ci != NULL && api_thr_key(ci->client_addr, k) == 0;
}

/*
 * 0 when r's address may present credentials now; else -1 with e set
 * to 429 rate_limited and *retry_after to the seconds to wait.  Nothing
 * is read or written: a throttled flood costs no database work.
 */
static int
throttle_check(const struct api_gate *g, struct api_req *r,
    int64_t *retry_after, struct err *e)
{
	struct api_thr_key k;
	int64_t wait;

	if (!client_key(r, &k) ||
	    (wait = api_throttle_check(g->thr, &k, mono_now())) == 0)
		return 0;
	*retry_after = wait;
	err_set(e, ERR_RATE_LIMITED, "too many failed authentications "
	    "from this address; retry in %lld s", (long long)wait);
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
auth_failed(const struct api_gate *g, struct api_req *r,
    const struct err *why)
{
	enum api_thr_verdict v = API_THR_AUDIT;
	char addr[API_THR_ADDR_STR];
	struct svc_actor who;
	struct api_thr_key k;
	int64_t wait = 0;
	struct err e;

	if (client_key(r, &k))
		v = api_throttle_fail(g->thr, &k, mono_now(), &wait);
	if (v == API_THR_QUIET)
		return;
	api_refused(r, NULL, why);
	if (v != API_THR_TRIPPED)
		return;
	api_thr_key_str(&k, addr);
	log_warn("%s: %s failed to authenticate %u times within %d s: "
	    "requests with credentials refused for %lld s", g->name,
	    addr, g->thr_limit, API_THR_WINDOW, (long long)wait);
	svc_actor_init(&who, ACTOR_NONE);
	snprintf(who.id, sizeof(who.id), "ip:%s", addr);
	err_set(&e, ERR_RATE_LIMITED, "%u failed authentications within "
	    "%d s; requests with credentials refused for %lld s",
	    g->thr_limit, API_THR_WINDOW, (long long)wait);
	svc_audit_denied(r->svc, &who, API_ACTION_THROTTLED, addr, &e);
	svc_actor_clear(&who);
}

/*
 * The client certificate of the TLS session: it must chain to this CA,
 * be unexpired, recorded and not revoked (svc_auth_cert).
 */
static int
auth_cert(const struct api_gate *g, struct api_req *r,
    int64_t *retry_after, struct err *e)
{
	if (api_peer_cert_der(r->conn, &r->peer_der, &r->peer_der_len,
	    e) == 0) {
		if (throttle_check(g, r, retry_after, e) == -1)
			return -1;
		/*
		 * On refusal the actor is left unauthenticated but still
		 * named mtls:<serial> when the certificate parsed, so the
		 * denied audit row says who it was.
		 */
		if (svc_auth_cert(r->svc, r->peer_der, r->peer_der_len,
		    &r->actor, e) == 0)
			return 0;
	}
	if (e->code == ERR_UNAUTHORIZED)
		auth_failed(g, r, e);
	return -1;
}

int
api_authenticate(const struct api_gate *g, struct api_req *r,
    int64_t *retry_after, struct err *e)
{
	const struct api_route *rt = r->route;
	const char *tok;

	if (rt->auth == AUTH_PUBLIC)
		return 0;
	if (rt->auth == AUTH_MTLS)
		return auth_cert(g, r, retry_after, e);
	tok = bearer(api_header(r, MHD_HTTP_HEADER_AUTHORIZATION));
	if (tok == NULL) {
		err_set(e, ERR_UNAUTHORIZED, "a bearer token is needed");
		auth_failed(g, r, e);
		return -1;
	}
	if (throttle_check(g, r, retry_after, e) == -1)
		return -1;
	if (svc_auth_token(r->svc, tok, &r->actor, e) == -1) {
		svc_actor_clear(&r->actor);
		svc_actor_init(&r->actor, ACTOR_NONE);
		if (e->code == ERR_UNAUTHORIZED)
			auth_failed(g, r, e);
		return -1;
	}
	if (r->actor.kind == ACTOR_ADMIN ||
	    (rt->auth == AUTH_ADMIN_OR_ENROLL &&
	    r->actor.kind == ACTOR_TOKEN))
		return 0;
	err_set(e, ERR_FORBIDDEN, "%s", "this token may not call this route");
	api_refused(r, NULL, e);
	return -1;
}
