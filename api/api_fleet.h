/*
 * api/ internals of the fleet routes (SPEC section 11): GET /v1/groups,
 * POST /v1/groups/{group}/rotate, POST /v1/nodes/report (a pull-mode
 * node's report over mTLS), the ?status= filter of GET /v1/nodes and
 * the fleet metrics.  Kept apart from api_priv.h, which is near the
 * 700-line bound; includes it.
 */
#ifndef RCA_API_FLEET_H
#define RCA_API_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "api_priv.h"

/* Body caps: a report (its steps); the empty-or-{} group rotate body. */
#define API_FLEET_BODY_REPORT	(16 * 1024)
#define API_FLEET_BODY_FLAG	(4 * 1024)

/*
 * {"name"?, "redis": "host:port" | "[v6]:port", "group"?, "role"?:
 * "primary" | "replica", "status": "succeeded" | "rolled_back" |
 * "failed" | "check", "old_serial"?, "new_serial"?, "served_serial"?,
 * "started_at"?, "finished_at"?, "steps"?: [{"step", "ok",
 * "detail"}]} into *out (plain data: nothing to free).  A rotation
 * report (not "check") needs started_at and finished_at (not before
 * it) and, unless it failed, new_serial; a check carries no rotation
 * field.  served_serial absent or null: not known (Redis could not be
 * asked).  Serials are hex (lowercased), name and group at most
 * RCA_MAX_NODE_NAME bytes (their rules are the service's), at most
 * ROT_MAX_STEPS steps, each one of the rotation steps (connect, issue,
 * write_files, config_set, verify_handshake, verify_serial, ping,
 * rollback) with its detail under 256 bytes.  Errors:
 * ERR_INVALID_JSON, ERR_INVALID_REQUEST naming the field,
 * ERR_PAYLOAD_TOO_LARGE (over API_FLEET_BODY_REPORT).
 */
int	api_decode_report(const char *body, size_t len,
	    struct svc_node_report_req *out, struct err *e);

/*
 * "host:port" or "[v6]:port" by hostport_split()'s rules (a host of 1
 * to 255 bytes without whitespace, control characters or '/'; brackets
 * for IPv6 only), with a port from 1 to 65535, into host (size hostsz)
 * and *port.  Errors: ERR_INVALID_REQUEST naming field.
 */
int	api_decode_hostport(const char *s, const char *field, char *host,
	    size_t hostsz, int *port, struct err *e);

/*
 * An empty body or {} (POST /v1/groups/{group}/rotate).  Errors:
 * ERR_INVALID_JSON, ERR_INVALID_REQUEST (any field).
 */
int	api_decode_empty_object(const char *body, size_t len, struct err *e);

/*
 * ?status= of GET /v1/nodes: NULL or "" is none (*out NODE_STATUS__MAX),
 * else one of the node statuses' names.  Errors: ERR_INVALID_REQUEST
 * naming the parameter and the values.
 */
int	api_decode_node_status(const char *s, enum node_status *out,
	    struct err *e);

/*
 * Prometheus text of redisca_rotations_in_flight (metrics.c; the
 * per-node redisca_node_drift{node} is among api_metrics_format()'s
 * node series).  New string (free()), or NULL (no memory).
 */
char	*api_metrics_format_fleet(int64_t in_flight, size_t *len);

/* Handlers (h_groups.c, h_report.c). */
int	api_h_group_list(struct api_req *, struct api_resp *, struct err *);
int	api_h_group_rotate(struct api_req *, struct api_resp *,
	    struct err *);
int	api_h_node_report(struct api_req *, struct api_resp *, struct err *);

#endif
