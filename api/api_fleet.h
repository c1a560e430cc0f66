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

/* What a report says of the node (SPEC section 11). */
enum api_report_kind {
	API_REPORT_ROTATION,	/* succeeded, rolled_back or failed */
	API_REPORT_CHECK,	/* "check": only the served serial */
};

/*
 * POST /v1/nodes/report, decoded and checked for shape.  Strings are
 * borrowed from root (owned here) or copied into the arrays.
 */
struct api_report_body {
	json_t			*root;
	const char		*name;		/* NULL: the certificate's CN */
	char			 host[256];	/* of "redis" */
	int			 port;
	const char		*group;		/* NULL: not given */
	const char		*role;		/* "primary", "replica", NULL */
	enum api_report_kind	 kind;
	/*
	 * kind ROTATION: status, old/new serial, times and steps (node
	 * empty: the service fills it).  kind CHECK: all zero.
	 */
	struct rotation_rec	 rec;
	char			 served_serial[RCA_SERIAL_HEX_MAX + 1];
};

/*
 * {"name"?, "redis": "host:port" | "[v6]:port", "group"?, "role"?:
 * "primary" | "replica", "status": "succeeded" | "rolled_back" |
 * "failed" | "check", "old_serial"?, "new_serial"?, "served_serial",
 * "started_at"?, "finished_at"?, "steps"?: [{"step", "ok",
 * "detail"}]}.  A rotation report (not "check") needs new_serial (but
 * for "failed"), started_at and finished_at (not before started_at);
 * a check carries no serial but served_serial, no times and no steps.
 * Serials are hex (lowercased, ERR_INVALID_REQUEST naming the field),
 * at most ROT_MAX_STEPS steps, each step name shorter than 24 bytes and
 * detail than 256.  Errors: ERR_INVALID_JSON, ERR_INVALID_REQUEST
 * naming the field.  On success b owns what api_report_body_free()
 * releases; on failure nothing is left.
 */
int	api_decode_report(const char *body, size_t len,
	    struct api_report_body *b, struct err *e);
void	api_report_body_free(struct api_report_body *b);

/*
 * "host:port" or "[v6]:port" (a host of 1 to 255 bytes without
 * whitespace, control characters or '/'; port 1 to 65535) into host
 * (size hostsz) and *port.  Errors: ERR_INVALID_REQUEST naming field.
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

/* Handlers (h_groups.c, h_report.c). */
int	api_h_group_list(struct api_req *, struct api_resp *, struct err *);
int	api_h_group_rotate(struct api_req *, struct api_resp *,
	    struct err *);
int	api_h_node_report(struct api_req *, struct api_resp *, struct err *);

#endif
