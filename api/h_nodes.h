/*
 * Handlers of /v1/nodes (h_nodes.c): the node registry, rotation, its
 * history, the TLS audit and the redis.conf block.  Each comment in h_nodes.c lists the
 * statuses its handler returns; openapi/redis-ca.yaml says the same.
 */
#ifndef RCA_API_H_NODES_H
#define RCA_API_H_NODES_H

#include "api_priv.h"

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
