/*
 * Groups of nodes (SPEC section 11): a replication group or a cluster,
 * named by the nodes' "group" (a node without one is its own).  The
 * group rotation (replicas first, the primary last, one at a time,
 * stopping at the first rotation that does not succeed) and the
 * groups' listing with their members and status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "svc_int.h"
#include "timeutil.h"

#define ACTION_GROUP_ROTATE	"group.rotate"

void
svc_group_result_clear(struct svc_group_result *r)
{
	if (r == NULL)
		return;
	free(r->recs);
	free(r->skipped);
	memset(r, 0, sizeof(*r));
}

static int
status_rank(enum node_status st)
{
	switch (st) {
	case NODE_ROTATION_FAILED:
		return 4;
	case NODE_DRIFT:
		return 3;
	case NODE_EXPIRING:
		return 2;
	case NODE_UNKNOWN:
		return 1;
	default:
		return 0;
	}
}

enum node_status
svc_node_status_worst(enum node_status a, enum node_status b)
{
	return status_rank(a) >= status_rank(b) ? a : b;
}

static void
skip_add(struct svc_group_result *out, const char *node, const char *role,
    const char *reason)
{
	struct svc_group_skip *k = &out->skipped[out->nskipped++];

	snprintf(k->node, sizeof(k->node), "%s", node);
	snprintf(k->role, sizeof(k->role), "%s", role);
	snprintf(k->reason, sizeof(k->reason), "%s", reason);
}

/*
 * The push members of list in rotation order (roles read live) into
 * *ord (new), the pull members skipped in out.  Any push member busy
 * now: ERR_CONFLICT.
 */
static int
group_plan(struct svc *s, const struct node_rec *list, size_t n,
    struct svc_order **ord, size_t *nord, struct svc_group_result *out,
    struct err *e)
{
	struct svc_order	*o;
	struct svc_probe	 pr;
	struct err		 pe;
	size_t			 k = 0;
	int			 chg = 0;

	if ((o = calloc(n, sizeof(*o))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (list[i].mode != NODE_MODE_PUSH) {
			skip_add(out, list[i].name, list[i].role,
			    "pull mode");
			continue;
		}
		if (!svc_node_lock(s, list[i].name)) {
			err_set(e, ERR_CONFLICT, "node %s of group %s is "
			    "being rotated", list[i].name, out->group);
			free(o);
			return -1;
		}
		svc_node_unlock(s, list[i].name);
		memcpy(o[k].name, list[i].name, sizeof(o[k].name));
		o[k].idx = i;
		err_clear(&pe);
		/* Unreachable: unknown, rotated with the replicas (and its
		 * rotation fails at connect, stopping the group). */
		if (svc_node_probe(s, &list[i], &pr, &pe) == 0) {
			memcpy(o[k].role, pr.role, sizeof(o[k].role));
			/* The role seen is the member's last role (GET
			 * /v1/groups); the served serial is the drift
			 * check's to store. */
			if (pr.role[0] != '\0' &&
			    db_node_observe(s->db, list[i].name, pr.role,
			    tu_now(), NULL, &chg, NULL, &pe) == -1)
				log_warn("node %s: storing its role: %s",
				    list[i].name, pe.msg);
		}
		k++;
	}
	svc_order_sort(o, k);
	*ord = o;
	*nord = k;
	return 0;
}

/* Run the rotations in order; out->stopped at the first failure. */
static void
group_run(struct svc *s, const struct svc_actor *a,
    const struct svc_order *ord, size_t n, struct svc_group_result *out,
    char *detail, size_t dsz)
{
	size_t	len;

	snprintf(detail, dsz, "order=");
	for (size_t i = 0; i < n; i++) {
		len = strlen(detail);
		snprintf(detail + len, dsz - len, "%s%s(%s)", i > 0 ? "," : "",
		    ord[i].name, ord[i].role[0] != '\0' ? ord[i].role :
		    "unknown");
	}
	for (size_t i = 0; i < n; i++) {
		struct rotation_rec	*rec = &out->recs[out->n];
		struct err		 e;

		if (out->stopped) {
			skip_add(out, ord[i].name, ord[i].role, "stopped");
			continue;
		}
		err_clear(&e);
		if (svc_rotate(s, a, ord[i].name, rec, &e) == 0) {
			out->n++;
			continue;
		}
		out->stopped = true;
		len = strlen(detail);
		snprintf(detail + len, dsz - len, " stopped at %s: %s",
		    ord[i].name, err_code_name(e.code));
		if (rec->id != 0)
			out->n++;
		else
			skip_add(out, ord[i].name, ord[i].role,
			    e.code == ERR_CONFLICT ? "busy" : "not rotated");
	}
	len = strlen(detail);
	snprintf(detail + len, dsz - len, " status=%s", out->stopped ?
	    "stopped" : "succeeded");
}

int
svc_group_rotate(struct svc *s, const struct svc_actor *a, const char *group,
    struct svc_group_result *out, struct err *e)
{
	struct node_rec		*list = NULL;
	struct svc_order	*ord = NULL;
	size_t			 n = 0, nord = 0;
	char			 detail[256];
	const char		*object;
	struct err		 le;
	int			 rc = -1;

	ERR_LOCAL(e, le);
	err_clear(e);
	memset(out, 0, sizeof(*out));
	object = svc_node_name_valid(group) ? group : NULL;
	if (svc_require_admin(a, "groups are rotated by admins only",
	    e) == -1)
		goto fail;
	if (object == NULL) {
		err_set(e, ERR_NOT_FOUND, "group not found");
		goto fail;
	}
	snprintf(out->group, sizeof(out->group), "%s", group);
	if (db_node_group_list(s->db, group, &list, &n, e) == -1) {
		svc_err_hide(e, "group %s", group);
		goto fail;
	}
	if (n == 0) {
		err_set(e, ERR_NOT_FOUND, "group not found");
		goto fail;
	}
	if ((out->recs = calloc(n, sizeof(*out->recs))) == NULL ||
	    (out->skipped = calloc(n, sizeof(*out->skipped))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto fail;
	}
	if (group_plan(s, list, n, &ord, &nord, out, e) == -1)
		goto fail;
	group_run(s, a, ord, nord, out, detail, sizeof(detail));
	svc_audit(s, a, ACTION_GROUP_ROTATE, group, out->stopped ?
	    AUDIT_ERROR : AUDIT_OK, detail);
	log_info("group %s rotated: %s", group, detail);
	if (out->stopped) {
		err_set(e, ERR_ROTATION_FAILED, "group %s: %.200s", group,
		    detail);
		goto out;
	}
	rc = 0;
	goto out;
fail:
	svc_fail(s, a, ACTION_GROUP_ROTATE, object, e);
	svc_group_result_clear(out);
out:
	free(ord);
	db_node_list_free(list, n);
	return rc;
}

/* Fill g from the members of its group. */
static int
group_fill(struct svc *s, const char *name, struct svc_group *g,
    int64_t now, struct err *e)
{
	struct node_rec	*list = NULL;
	size_t		 n = 0;

	snprintf(g->group, sizeof(g->group), "%s", name);
	g->status = NODE_OK;
	if (db_node_group_list(s->db, name, &list, &n, e) == -1)
		return -1;
	if (n > 0 && (g->members = calloc(n, sizeof(*g->members))) == NULL) {
		db_node_list_free(list, n);
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct svc_group_member	*m = &g->members[i];
		struct svc_node_view	 v;

		memcpy(m->name, list[i].name, sizeof(m->name));
		memcpy(m->role, list[i].role, sizeof(m->role));
		m->mode = list[i].mode;
		svc_node_view_fill(s, &list[i], &v, now);
		m->status = v.status;
		svc_node_view_clear(&v);
		g->status = svc_node_status_worst(g->status, m->status);
	}
	g->n = n;
	db_node_list_free(list, n);
	return 0;
}

int
svc_group_list(struct svc *s, struct svc_group **out, size_t *nout,
    struct err *e)
{
	struct svc_group	*list = NULL;
	char			**names = NULL;
	size_t			 n = 0;
	int64_t			 now = tu_now();
	struct err		 le;
	int			 rc = -1;

	ERR_LOCAL(e, le);
	*out = NULL;
	*nout = 0;
	if (db_node_groups(s->db, &names, &n, e) == -1)
		goto fail;
	if ((list = calloc(n > 0 ? n : 1, sizeof(*list))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (group_fill(s, names[i], &list[i], now, e) == -1)
			goto fail;
	*out = list;
	*nout = n;
	list = NULL;
	rc = 0;
	goto out;
fail:
	svc_err_hide(e, "group list");
out:
	svc_group_list_free(list, n);
	db_node_names_free(names, n);
	return rc;
}

void
svc_group_list_free(struct svc_group *list, size_t n)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(list[i].members);
	free(list);
}
