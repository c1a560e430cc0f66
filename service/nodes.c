/*
 * The node registry: registering, reading, listing and forgetting Redis
 * nodes, their rotation history, and the per-node numbers for /metrics.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "svc_int.h"
#include "timeutil.h"

#define ACTION_CREATE	"node.create"
#define ACTION_DELETE	"node.delete"

int
svc_node_load(struct svc *s, const char *name, struct node_rec *n,
    struct err *e)
{
	if (!svc_node_name_valid(name)) {
		err_set(e, ERR_NOT_FOUND, "node not found");
		return -1;
	}
	if (db_node_get(s->db, name, n, e) == -1) {
		if (e->code != ERR_NOT_FOUND)
			svc_err_hide(e, "node get %s", name);
		return -1;
	}
	return 0;
}

int
svc_node_create(struct svc *s, const struct svc_actor *a,
    const struct svc_node_req *req, struct svc_node_view *out,
    struct err *e)
{
	struct node_rec		 n;
	struct audit_rec	 ar;
	struct err		 le;
	char			 detail[sizeof(ar.detail)];
	const char		*object = NULL;
	int			 rc = -1;

	ERR_LOCAL(e, le);
	err_clear(e);
	memset(&n, 0, sizeof(n));
	svc_node_view_init(out);
	if (req != NULL && svc_node_name_valid(req->name))
		object = req->name;
	if (svc_require_admin(a, "nodes are managed by admins only",
	    e) == -1)
		goto out;
	if (req == NULL) {
		err_set(e, ERR_INVALID_REQUEST, "no request");
		goto out;
	}
	if (svc_node_from_req(s, req, &n, e) == -1)
		goto out;
	snprintf(detail, sizeof(detail), "%.100s:%d cert_dir=%.100s",
	    n.host, n.port, n.cert_dir);
	svc_audit_fill(&ar, a, ACTION_CREATE, n.name, AUDIT_OK, detail);
	if (db_node_insert(s->db, &n, &ar, e) == -1)
		goto out;
	if (out != NULL)
		svc_node_view_fill(s, &n, out, tu_now());
	rc = 0;
out:
	if (rc == -1)
		svc_fail(s, a, ACTION_CREATE, object, e);
	node_rec_clear(&n);
	return rc;
}

int
svc_node_get(struct svc *s, const char *name, struct svc_node_view *out,
    struct err *e)
{
	struct node_rec	n;
	struct err	le;
	int		rc = -1;

	ERR_LOCAL(e, le);
	memset(&n, 0, sizeof(n));
	svc_node_view_init(out);
	if (svc_node_load(s, name, &n, e) == -1)
		goto out;
	svc_node_view_fill(s, &n, out, tu_now());
	rc = 0;
out:
	node_rec_clear(&n);
	return rc;
}

int
svc_node_list(struct svc *s, const char *after, size_t limit,
    struct svc_node_view **out, size_t *n, char next[RCA_MAX_NODE_NAME + 1],
    struct err *e)
{
	struct node_rec		*list = NULL;
	struct svc_node_view	*views = NULL;
	size_t			 cnt = 0;
	int64_t			 now = tu_now();
	struct err		 le;
	int			 rc = -1;

	ERR_LOCAL(e, le);
	*out = NULL;
	*n = 0;
	next[0] = '\0';
	if (limit == 0 || limit > RCA_MAX_LIST_LIMIT) {
		err_set(e, ERR_INVALID_REQUEST, "limit must be 1 to %d",
		    RCA_MAX_LIST_LIMIT);
		goto out;
	}
	if (db_node_list(s->db, after, limit, &list, &cnt, next, e) == -1) {
		svc_err_hide(e, "node list");
		goto out;
	}
	if ((views = calloc(cnt > 0 ? cnt : 1, sizeof(*views))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < cnt; i++)
		svc_node_view_fill(s, &list[i], &views[i], now);
	*out = views;
	*n = cnt;
	views = NULL;
	rc = 0;
out:
	db_node_list_free(list, cnt);
	free(views);
	if (rc == -1)
		next[0] = '\0';
	return rc;
}

/* Rows one filtered page looks at, at most (then it ends with next). */
#define STATUS_SCAN_MAX	2000

/* The drifting nodes: the database's own filter (a partial index). */
static int
list_drift(struct svc *s, const char *after, size_t limit,
    struct svc_node_view *views, size_t *n, char *next, struct err *e)
{
	struct db_node_filter	 f = { .drift = true };
	struct node_rec		*list = NULL;
	size_t			 cnt = 0;
	int64_t			 now = tu_now();

	if (db_node_list_filter(s->db, &f, after, limit, &list, &cnt, next,
	    e) == -1)
		return -1;
	for (size_t i = 0; i < cnt; i++)
		svc_node_view_fill(s, &list[i], &views[i], now);
	*n = cnt;
	db_node_list_free(list, cnt);
	return 0;
}

/* The nodes of status st among at most STATUS_SCAN_MAX after after. */
static int
list_scan(struct svc *s, enum node_status st, const char *after,
    size_t limit, struct svc_node_view *views, size_t *n, char *next,
    struct err *e)
{
	struct node_rec	*list = NULL;
	char		 cur[RCA_MAX_NODE_NAME + 1];
	size_t		 cnt = 0, got = 0, seen = 0;
	int64_t		 now = tu_now();

	snprintf(cur, sizeof(cur), "%s", after != NULL ? after : "");
	next[0] = '\0';
	do {
		if (db_node_list(s->db, cur, limit, &list, &cnt, next,
		    e) == -1)
			return -1;
		for (size_t i = 0; i < cnt; i++) {
			struct svc_node_view v;

			memcpy(cur, list[i].name, sizeof(cur));
			svc_node_view_fill(s, &list[i], &v, now);
			if (v.status == st)
				views[got++] = v;
			else
				svc_node_view_clear(&v);
			if (got == limit && (i + 1 < cnt || next[0] != '\0')) {
				memcpy(next, cur, sizeof(cur));
				break;
			}
		}
		seen += cnt;
		db_node_list_free(list, cnt);
		list = NULL;
	} while (got < limit && next[0] != '\0' && seen < STATUS_SCAN_MAX);
	*n = got;
	return 0;
}

int
svc_node_list_status(struct svc *s, enum node_status st, const char *after,
    size_t limit, struct svc_node_view **out, size_t *n,
    char next[RCA_MAX_NODE_NAME + 1], struct err *e)
{
	struct svc_node_view	*views = NULL;
	size_t			 cnt = 0;
	struct err		 le;
	int			 rc = -1;

	ERR_LOCAL(e, le);
	*out = NULL;
	*n = 0;
	next[0] = '\0';
	if (limit == 0 || limit > RCA_MAX_LIST_LIMIT ||
	    (unsigned)st >= NODE_STATUS__MAX) {
		err_set(e, ERR_INVALID_REQUEST, limit == 0 ||
		    limit > RCA_MAX_LIST_LIMIT ? "limit must be 1 to %d" :
		    "status is not a node status", RCA_MAX_LIST_LIMIT);
		goto out;
	}
	if ((views = calloc(limit, sizeof(*views))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	if ((st == NODE_DRIFT ? list_drift(s, after, limit, views, &cnt, next,
	    e) : list_scan(s, st, after, limit, views, &cnt, next, e)) == -1) {
		svc_err_hide(e, "node list status=%s",
		    svc_node_status_name(st));
		svc_node_list_free(views, cnt);
		views = NULL;
		next[0] = '\0';
		goto out;
	}
	*out = views;
	*n = cnt;
	views = NULL;
	rc = 0;
out:
	free(views);
	return rc;
}

void
svc_node_list_free(struct svc_node_view *list, size_t n)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		svc_node_view_clear(&list[i]);
	free(list);
}

int
svc_node_delete(struct svc *s, const struct svc_actor *a, const char *name,
    struct err *e)
{
	struct audit_rec	 ar;
	struct err		 le;
	const char		*object = NULL;
	bool			 locked = false;
	int			 rc = -1;

	ERR_LOCAL(e, le);
	err_clear(e);
	if (svc_node_admin_target(a, name, "nodes are managed by admins "
	    "only", &object, e) == -1)
		goto out;
	/* Not while it is being rotated: the rotation's record would
	 * lose its node halfway. */
	if (!svc_node_lock(s, name)) {
		err_set(e, ERR_CONFLICT, "a rotation of node %s is running",
		    name);
		goto out;
	}
	locked = true;
	svc_audit_fill(&ar, a, ACTION_DELETE, name, AUDIT_OK, "");
	if (db_node_delete(s->db, name, &ar, e) == -1)
		goto out;
	rc = 0;
out:
	if (locked)
		svc_node_unlock(s, name);
	if (rc == -1)
		svc_fail(s, a, ACTION_DELETE, object, e);
	return rc;
}

int
svc_rotation_list(struct svc *s, const char *name, int64_t before,
    size_t limit, struct rotation_rec **out, size_t *n, int64_t *next,
    struct err *e)
{
	struct node_rec	node;
	struct err	le;
	int		rc = -1;

	ERR_LOCAL(e, le);
	memset(&node, 0, sizeof(node));
	*out = NULL;
	*n = 0;
	*next = 0;
	if (limit == 0 || limit > RCA_MAX_LIST_LIMIT) {
		err_set(e, ERR_INVALID_REQUEST, "limit must be 1 to %d",
		    RCA_MAX_LIST_LIMIT);
		goto out;
	}
	if (!svc_node_name_valid(name)) {
		err_set(e, ERR_NOT_FOUND, "node not found");
		goto out;
	}
	if (db_node_get(s->db, name, &node, e) == -1 ||
	    db_rotation_list(s->db, name, before, limit, out, n, next,
	    e) == -1) {
		if (e->code != ERR_NOT_FOUND)
			svc_err_hide(e, "rotation list %s", name);
		goto out;
	}
	rc = 0;
out:
	node_rec_clear(&node);
	return rc;
}

void
svc_rotation_list_free(struct rotation_rec *list, size_t n)
{
	db_rotation_list_free(list, n);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Mark the drifting nodes of out (the database's drift filter). */
static int
stats_drift(struct svc *s, struct svc_node_stats *out, struct err *e)
{
	struct db_node_filter	 f = { .drift = true };
	struct node_rec		*list = NULL;
	char			(*names)[RCA_MAX_NODE_NAME + 1] = NULL, (*g)[
				    RCA_MAX_NODE_NAME + 1];
	char			 after[RCA_MAX_NODE_NAME + 1] = "";
	char			 next[RCA_MAX_NODE_NAME + 1];
	size_t			 cnt = 0, nn = 0, cap = 0;
	int			 rc = -1;

	do {
		if (db_node_list_filter(s->db, &f, after, RCA_MAX_LIST_LIMIT,
		    &list, &cnt, next, e) == -1)
			goto out;
		if (nn + cnt > cap) {
			cap = nn + cnt;
			if ((g = reallocarray(names, cap, sizeof(*names))) ==
			    NULL) {
				err_set(e, ERR_INTERNAL, "out of memory");
				goto out;
			}
			names = g;
		}
		for (size_t i = 0; i < cnt; i++)
			memcpy(names[nn++], list[i].name, sizeof(*names));
		db_node_list_free(list, cnt);
		list = NULL;
		cnt = 0;
		memcpy(after, next, sizeof(after));
	} while (after[0] != '\0');
	if (nn > 1)
		qsort(names, nn, sizeof(*names), name_cmp);
	for (size_t i = 0; i < out->nnodes && nn > 0; i++)
		out->nodes[i].drift = bsearch(out->nodes[i].node, names, nn,
		    sizeof(*names), name_cmp) != NULL;
	rc = 0;
out:
	db_node_list_free(list, cnt);
	free(names);
	return rc;
}

int
svc_node_stats(struct svc *s, struct svc_node_stats *out, struct err *e)
{
	struct db_node_stat	*list = NULL;
	size_t			 cnt = 0;
	struct err		 le;

	ERR_LOCAL(e, le);
	memset(out, 0, sizeof(*out));
	if (db_node_stats(s->db, &list, &cnt, e) == -1) {
		log_error("node stats: %s", e->msg);
		err_set(e, ERR_INTERNAL, "internal error");
		return -1;
	}
	if (cnt > 0 && (out->nodes = calloc(cnt, sizeof(*out->nodes))) ==
	    NULL) {
		free(list);
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < cnt; i++) {
		memcpy(out->nodes[i].node, list[i].node,
		    sizeof(out->nodes[i].node));
		out->nodes[i].drift = false;
		out->nodes[i].cert_not_after = list[i].not_after;
		memcpy(out->nodes[i].rotations, list[i].rotations,
		    sizeof(out->nodes[i].rotations));
	}
	out->nnodes = cnt;
	free(list);
	if (stats_drift(s, out, e) == -1) {
		log_error("node stats: drift: %s", e->msg);
		svc_node_stats_clear(out);
		err_set(e, ERR_INTERNAL, "internal error");
		return -1;
	}
	return 0;
}

void
svc_node_stats_clear(struct svc_node_stats *st)
{
	if (st == NULL)
		return;
	free(st->nodes);
	memset(st, 0, sizeof(*st));
}
