/*
 * A pull node's report (POST /v1/nodes/report, SPEC section 11): the
 * node renewed itself with `redis-ca enroll --daemon --redis` and says
 * what its Redis serves.  Only the node's own certificate may report
 * for it, and only about certificates this CA issued for it.
 */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "svc.h"
#include "svc_int.h"
#include "timeutil.h"

#define REPORT_ACTION	"node.report"
#define DRIFT_ACTION	"node.drift"

static const char *const status_names[SVC_REPORT__MAX] = {
	[SVC_REPORT_CHECK] = "check",
	[SVC_REPORT_SUCCEEDED] = "succeeded",
	[SVC_REPORT_ROLLED_BACK] = "rolled_back",
	[SVC_REPORT_FAILED] = "failed",
};

const char *
svc_report_status_name(enum svc_report_status st)
{
	return (unsigned)st < SVC_REPORT__MAX ? status_names[st] : "unknown";
}

int
svc_report_status_parse(const char *s, enum svc_report_status *out)
{
	for (int i = 0; i < SVC_REPORT__MAX; i++)
		if (s != NULL && strcmp(s, status_names[i]) == 0) {
			*out = (enum svc_report_status)i;
			return 0;
		}
	return -1;
}

/*
 * The caller must be a node certificate: an mTLS actor whose profile
 * grants serverAuth, with a CN that is a node name; *cn gets it.
 */
static int
check_actor(struct svc *s, const struct svc_actor *a, const char **cn,
    struct err *e)
{
	const struct profile *p;

	if (a == NULL || a->kind != ACTOR_MTLS) {
		err_set(e, a == NULL || a->kind == ACTOR_NONE ?
		    ERR_UNAUTHORIZED : ERR_FORBIDDEN, "a report needs the "
		    "node's own client certificate");
		return -1;
	}
	p = svc_profile(s, a->cert.profile);
	if (p == NULL || (p->eku & EKU_SERVER_AUTH) == 0) {
		err_set(e, ERR_FORBIDDEN, "certificate %s (profile %s) is not "
		    "a node certificate", a->cert.serial, a->cert.profile);
		return -1;
	}
	*cn = a->cert.names.cn;
	if (*cn == NULL || !svc_node_name_valid(*cn)) {
		err_set(e, ERR_FORBIDDEN, "certificate %s does not name a "
		    "node (its CN is not a node name)", a->cert.serial);
		return -1;
	}
	return 0;
}

/*
 * serial (field name field; "" passes when may_be_empty) must be a
 * certificate this CA issued for cn; *not_after gets its end (may be
 * NULL).
 */
static int
check_serial(struct svc *s, const char *field, const char *serial,
    bool may_be_empty, const char *cn, int64_t *not_after, struct err *e)
{
	struct cert_rec c;
	struct err ge = { ERR_OK, "" };
	int rc = -1;

	memset(&c, 0, sizeof(c));
	if (serial[0] == '\0') {
		if (may_be_empty)
			return 0;
		err_set(e, ERR_INVALID_REQUEST, "field '%s' is required",
		    field);
		return -1;
	}
	if (db_cert_get(s->db, serial, &c, &ge) == -1) {
		if (ge.code != ERR_NOT_FOUND) {
			*e = ge;
			svc_err_hide(e, "report: certificate %s", serial);
			goto out;
		}
		err_set(e, ERR_INVALID_REQUEST, "field '%s': %s is not a "
		    "certificate of this CA", field, serial);
		goto out;
	}
	if (c.names.cn == NULL || strcmp(c.names.cn, cn) != 0) {
		err_set(e, ERR_INVALID_REQUEST, "field '%s': certificate %s "
		    "was not issued for %s", field, serial, cn);
		goto out;
	}
	if (not_after != NULL)
		*not_after = c.not_after;
	rc = 0;
out:
	cert_rec_clear(&c);
	return rc;
}

/* The request's own checks, given the caller's CN. */
static int
check_req(struct svc *s, const struct svc_node_report_req *req,
    const char *cn, int64_t *not_after, struct err *e)
{
	bool rotation = req->status != SVC_REPORT_CHECK;

	if (req->name[0] != '\0' && strcmp(req->name, cn) != 0) {
		err_set(e, ERR_FORBIDDEN, "node '%s' is not the certificate's "
		    "common name %s", req->name, cn);
		return -1;
	}
	if ((unsigned)req->status >= SVC_REPORT__MAX) {
		err_set(e, ERR_INVALID_REQUEST, "field 'status' is not valid");
		return -1;
	}
	if (req->host[0] == '\0' || req->port < 1 || req->port > 65535) {
		err_set(e, ERR_INVALID_REQUEST, "field 'redis' must be "
		    "host:port");
		return -1;
	}
	if (req->group[0] != '\0' && !svc_node_name_valid(req->group)) {
		err_set(e, ERR_INVALID_REQUEST, "field 'group' is not a "
		    "valid group name");
		return -1;
	}
	if (req->role[0] != '\0' && strcmp(req->role, "primary") != 0 &&
	    strcmp(req->role, "replica") != 0) {
		err_set(e, ERR_INVALID_REQUEST, "field 'role' must be primary "
		    "or replica");
		return -1;
	}
	if (req->nsteps > ROT_MAX_STEPS) {
		err_set(e, ERR_INVALID_REQUEST, "field 'steps': at most %d",
		    ROT_MAX_STEPS);
		return -1;
	}
	if (check_serial(s, "served_serial", req->served_serial, true, cn,
	    NULL, e) == -1 ||
	    check_serial(s, "new_serial", req->new_serial, !rotation, cn,
	    not_after, e) == -1 ||
	    check_serial(s, "old_serial", req->old_serial, true, cn, NULL,
	    e) == -1)
		return -1;
	return 0;
}

/* The rotation record of a report (not for a check-in). */
static void
fill_rotation(const struct svc_node_report_req *req, const char *cn,
    int64_t now, struct rotation_rec *r)
{
	static const enum rotation_status map[SVC_REPORT__MAX] = {
		[SVC_REPORT_CHECK] = ROT_FAILED,
		[SVC_REPORT_SUCCEEDED] = ROT_SUCCEEDED,
		[SVC_REPORT_ROLLED_BACK] = ROT_ROLLED_BACK,
		[SVC_REPORT_FAILED] = ROT_FAILED,
	};

	memset(r, 0, sizeof(*r));
	snprintf(r->node, sizeof(r->node), "%s", cn);
	r->status = map[req->status];
	snprintf(r->old_serial, sizeof(r->old_serial), "%s", req->old_serial);
	snprintf(r->new_serial, sizeof(r->new_serial), "%s", req->new_serial);
	r->started_at = req->started_at != 0 ? req->started_at : now;
	r->finished_at = req->finished_at != 0 ? req->finished_at : now;
	r->nsteps = req->nsteps;
	memcpy(r->steps, req->steps, req->nsteps * sizeof(r->steps[0]));
}

/* The node row a report upserts. */
static void
fill_node(const struct svc_node_report_req *req, const struct svc_actor *a,
    const char *cn, int64_t not_after, struct node_rec *n)
{
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", cn);
	snprintf(n->host, sizeof(n->host), "%s", req->host);
	n->port = req->port;
	snprintf(n->profile, sizeof(n->profile), "%s", a->cert.profile);
	snprintf(n->group, sizeof(n->group), "%s", req->group);
	snprintf(n->role, sizeof(n->role), "%s", req->role);
	n->mode = NODE_MODE_PULL;
	n->not_after = not_after;
}

int
svc_node_report(struct svc *s, const struct svc_actor *a,
    const struct svc_node_report_req *req, struct svc_node_view *out,
    struct err *e)
{
	struct node_rec n;
	struct rotation_rec rec;
	struct audit_rec ar;
	struct err le;
	char detail[sizeof(ar.detail)];
	const char *cn = NULL, *object;
	int64_t now = tu_now(), not_after = 0;
	int drift = 0, rc = -1;

	ERR_LOCAL(e, le);
	err_clear(e);
	memset(&n, 0, sizeof(n));
	svc_node_view_init(out);
	object = req->name[0] != '\0' ? req->name : "";
	if (check_actor(s, a, &cn, e) == -1)
		goto out;
	object = cn;
	if (check_req(s, req, cn, &not_after, e) == -1)
		goto out;
	fill_node(req, a, cn, not_after, &n);
	if (req->status != SVC_REPORT_CHECK)
		fill_rotation(req, cn, now, &rec);
	snprintf(detail, sizeof(detail), "status=%s served=%s new=%s",
	    svc_report_status_name(req->status),
	    req->served_serial[0] != '\0' ? req->served_serial : "-",
	    req->new_serial[0] != '\0' ? req->new_serial : "-");
	svc_audit_fill(&ar, a, REPORT_ACTION, cn, AUDIT_OK, detail);
	if (db_node_report(s->db, &n, req->status != SVC_REPORT_CHECK ?
	    &rec : NULL, req->served_serial[0] != '\0' ?
	    req->served_serial : NULL, now, &drift, &ar, e) == -1)
		goto out;
	node_rec_clear(&n);
	if (svc_node_load(s, cn, &n, e) == -1)
		goto out;
	/* Drift as the scheduler audits it for push nodes (drift.c). */
	if (drift > 0) {
		snprintf(detail, sizeof(detail), "drift served=%s recorded=%s",
		    n.served_serial, n.current_serial);
		svc_audit(s, a, DRIFT_ACTION, cn, AUDIT_OK, detail);
	} else if (drift < 0)
		svc_audit(s, a, DRIFT_ACTION, cn, AUDIT_OK, "resolved");
	svc_node_view_fill(s, &n, out, now);
	rc = 0;
out:
	if (rc == -1) {
		if (e->code == ERR_CONFLICT)
			err_set(e, ERR_CONFLICT, "node %s is a push node: the "
			    "CA rotates it", cn);
		svc_fail(s, a, REPORT_ACTION, object, e);
	}
	node_rec_clear(&n);
	return rc;
}
