/*
 * The view the API shows of a node: its record with the last rotation,
 * the seconds left on its certificate and a status (ok, expiring,
 * rotation_failed, unknown, drift).
 */
#include <string.h>

#include "log.h"
#include "svc_int.h"

static const char *const node_status_names[NODE_STATUS__MAX] = {
	[NODE_OK] = "ok",
	[NODE_EXPIRING] = "expiring",
	[NODE_ROTATION_FAILED] = "rotation_failed",
	[NODE_UNKNOWN] = "unknown",
	[NODE_DRIFT] = "drift",
};

const char *
svc_node_status_name(enum node_status st)
{
	if ((unsigned)st >= NODE_STATUS__MAX)
		return "unknown";
	return node_status_names[st];
}

bool
svc_node_status_parse(const char *word, enum node_status *st)
{
	for (int i = 0; i < NODE_STATUS__MAX && word != NULL; i++)
		if (strcmp(word, node_status_names[i]) == 0) {
			*st = (enum node_status)i;
			return true;
		}
	return false;
}

void
svc_node_view_init(struct svc_node_view *v)
{
	if (v == NULL)
		return;
	memset(v, 0, sizeof(*v));
	v->status = NODE_UNKNOWN;
}

void
svc_node_view_clear(struct svc_node_view *v)
{
	if (v == NULL)
		return;
	node_rec_clear(&v->node);
	svc_node_view_init(v);
}

void
svc_node_view_fill(struct svc *s, struct node_rec *n, struct svc_node_view *v,
    int64_t now)
{
	struct err e;

	err_clear(&e);
	memset(v, 0, sizeof(*v));
	v->node = *n;
	memset(n, 0, sizeof(*n));
	if (v->node.last_rotation_id != 0) {
		if (db_rotation_get(s->db, v->node.last_rotation_id,
		    &v->last_rotation, &e) == 0)
			v->has_last_rotation = true;
		else
			log_warn("node %s: rotation %lld: %s", v->node.name,
			    (long long)v->node.last_rotation_id, e.msg);
	}
	if (v->node.not_after != 0)
		v->expires_in_seconds = v->node.not_after - now;
	if (v->has_last_rotation &&
	    (v->last_rotation.status == ROT_ROLLED_BACK ||
	    v->last_rotation.status == ROT_FAILED))
		v->status = NODE_ROTATION_FAILED;
	else if (v->node.drift_since != 0)
		v->status = NODE_DRIFT;
	else if (v->node.current_serial[0] == '\0' ||
	    v->node.not_after == 0)
		v->status = NODE_UNKNOWN;
	else if (v->expires_in_seconds < svc_node_renew_window(s, &v->node))
		v->status = NODE_EXPIRING;
	else
		v->status = NODE_OK;
}
