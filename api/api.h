/*
 * api/: the HTTP interface.  Two libmicrohttpd daemons: "api" (HTTPS
 * through MHD's GnuTLS backend; every route) and "public" (plain HTTP;
 * only the public routes: /healthz, /readyz, /metrics, /v1/ca,
 * /v1/ca.pem, /v1/crl, /v1/crl.pem).  Routes are one const table
 * (routes.c); handlers decode into C structs, make one svc_* call and
 * encode.  No SQL and no OpenSSL here.
 */
#ifndef RCA_API_H
#define RCA_API_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "err.h"
#include "svc.h"

struct api_config {
	const char	*api_listen;	/* "127.0.0.1:8443", "[::1]:8443" */
	const char	*public_listen;	/* "127.0.0.1:8080"; NULL/"": off */
	bool		 api_tls;	/* false only behind a TLS proxy */
	const char	*tls_cert;	/* PEM path (api_tls) */
	const char	*tls_key;	/* PEM path (api_tls) */
	const char	*tls_ca;	/* CA PEM: client certs asked for */
	size_t		 max_body_bytes;
	unsigned	 threads;	/* 0: number of cores */
	unsigned	 max_connections;
	/* Per address, on both listeners; 0: the default. */
	unsigned	 max_connections_per_ip;
	/* Failed authentications per address and minute; 0: default. */
	unsigned	 auth_failures_per_minute;
};

struct api;

/*
 * Start both listeners serving s (borrowed: must outlive the api).
 * Returns a new handle (api_stop()), or NULL.  Errors: ERR_IO (cannot
 * read the TLS files), ERR_NET (cannot listen: message names the
 * address), ERR_CONFIG.
 */
struct api *api_start(struct svc *s, const struct api_config *c,
	    struct err *e);

/* Stop accepting, finish in-flight requests, free.  NULL ok. */
void	api_stop(struct api *a);

/*
 * Re-read the API listener's certificate and key (api_config's tls_cert
 * and tls_key) and serve them on every TLS connection accepted from now
 * on; connections already open keep the old ones.  On failure the old
 * ones stay served (and a warning is logged).  0 with nothing done when
 * the api has no TLS (or a is NULL).  Thread-safe.  Errors: ERR_IO,
 * ERR_CONFIG (not a PEM chain, or a key that does not match it),
 * ERR_INTERNAL.
 */
int	api_tls_reload(struct api *a, struct err *e);

/* Port actually bound by the api / public listener (useful with port 0). */
unsigned api_port(const struct api *a);
unsigned api_public_port(const struct api *a);

/*
 * A TLS audit's result as POST /v1/nodes/{name}/check answers it, and
 * `redis-ca check --json` prints it: {"ok", "checks": [{"id", "ok",
 * "detail"}...]}.  New, or NULL (no memory).
 */
json_t	*api_enc_check(const struct svc_check_result *res);

/* One row of the route table, as documented in openapi/. */
struct api_route_info {
	const char	*method;	/* "GET", "POST", "DELETE" */
	const char	*path;		/* "/v1/certificates/{serial}" */
	bool		 public;	/* also served on the public listener */
};

/* The route table (borrowed, static); *n receives its length. */
const struct api_route_info *api_routes(size_t *n);

#endif
