/*
 * api/ internals of the CA lifecycle routes (SPEC section 10): GET
 * /v1/ca's body, the trust bundle, the CRL of each CA by its SKI, the
 * rollover phases (POST /v1/ca/prepare|activate|retire), their body
 * decoders and the per-CA metrics.  Kept apart from api_priv.h, which
 * is near the 700-line bound; includes it.
 */
#ifndef RCA_API_CA_H
#define RCA_API_CA_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "api_priv.h"

/* Body caps of the phases: a certificate and its chain; a flag. */
#define API_CA_BODY_PREPARE	(64 * 1024)
#define API_CA_BODY_FLAG	(4 * 1024)

/* The days of a prepared CA a request may ask for: 1 to 20 years. */
#define API_CA_DAYS_MAX		7305

/* POST /v1/ca/prepare; strings borrowed from root (owned here). */
struct api_ca_prepare_body {
	json_t			*root;		/* NULL: empty body */
	struct svc_ca_prepare_req req;
};

/*
 * An empty body or {} (a new key of the current CA's type), or
 * {"key_type"?, "days"?, "csr"?: true} (a new key; with "csr" only a
 * CSR for an outside CA to sign), or {"certificate": PEM, "chain"?:
 * PEM} (complete the pending CA, or import one signed outside); the
 * root key is never accepted here.  Errors: ERR_INVALID_JSON,
 * ERR_INVALID_REQUEST naming the field (unknown, wrong type, a bad
 * key type, days out of 1..API_CA_DAYS_MAX, a certificate with
 * key_type, days or csr).  On success b owns what
 * api_ca_prepare_body_free() releases; on failure nothing is left.
 */
int	api_decode_ca_prepare(const char *body, size_t len,
	    struct api_ca_prepare_body *b, struct err *e);
void	api_ca_prepare_body_free(struct api_ca_prepare_body *b);

/*
 * The body of activate and retire: empty, {} or {"force": bool} into
 * *force.  Errors: ERR_INVALID_JSON, ERR_INVALID_REQUEST.
 */
int	api_decode_ca_force(const char *body, size_t len, bool *force,
	    struct err *e);

/*
 * A {ski} path parameter: hex digits, an even count from 2 to
 * RCA_SKI_HEX_MAX, into out in lowercase.  Errors: ERR_INVALID_REQUEST.
 */
int	api_decode_ski(const char *s, char out[RCA_SKI_HEX_MAX + 1],
	    struct err *e);

/*
 * GET /v1/ca's body from v: the current CA's four fields
 * ("certificate", "not_after", "fingerprint_sha256", "key_type"), then
 * "current", "next" (or null), "retired" (a list) and "bundle_etag".
 * New, or NULL (no memory).
 */
json_t	*api_enc_ca_body(const struct svc_ca_view *v);

/* True when the If-None-Match list inm names etag (or is "*"). */
bool	api_etag_matches(const char *inm, const char *etag);

/* What /metrics shows of the CAs. */
struct api_ca_metrics {
	const struct svc_ca_metric *cas;	/* borrowed, n of them */
	size_t			 n;
	size_t			 nodes_stale;
};

/*
 * Prometheus text of cm: redisca_ca_expiry_timestamp_seconds{ca,state},
 * redisca_ca_info{ca,state,key_type} and redisca_ca_bundle_nodes_stale.
 * New string (free()), or NULL (no memory).
 */
char	*api_metrics_format_ca(const struct api_ca_metrics *cm,
	    size_t *len);

/* Handlers (h_ca.c, h_ca_roll.c). */
int	api_h_ca_bundle(struct api_req *, struct api_resp *, struct err *);
int	api_h_crl_ski(struct api_req *, struct api_resp *, struct err *);
int	api_h_crl_ski_pem(struct api_req *, struct api_resp *,
	    struct err *);
int	api_h_ca_prepare(struct api_req *, struct api_resp *, struct err *);
int	api_h_ca_activate(struct api_req *, struct api_resp *,
	    struct err *);
int	api_h_ca_retire(struct api_req *, struct api_resp *, struct err *);

#endif
