/*
 * Fleets (SPEC section 11): what checks of a node saw (its role, the
 * serial it served, drift between that and the recorded one), groups
 * of nodes, and the reports of pull nodes, which renew themselves and
 * tell the CA.  The rows are db/node.c's; a report's rotation record
 * is written as db/rotation.c writes the scheduler's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "priv.h"

/* The stored form of a role: "primary", "replica" or "" (unknown). */
static int
role_key(const char *in, char out[16], struct err *e)
{
	if (in[0] == '\0' || strcmp(in, "unknown") == 0)
		out[0] = '\0';
	else if (strcmp(in, "primary") == 0 || strcmp(in, "replica") == 0)
		memcpy(out, in, strlen(in) + 1);
	else {
		err_set(e, ERR_INVALID_REQUEST, "invalid node role");
		return -1;
	}
	return 0;
}

/* A served serial: "" (none) or a serial, lowercased into out. */
static int
served_key(const char *in, char out[RCA_SERIAL_HEX_MAX + 1],
    struct err *e)
{
	if (in[0] == '\0') {
		out[0] = '\0';
		return 0;
	}
	if (!db_serial_key(in, out) ||
	    strspn(out, "0123456789abcdef") != strlen(out)) {
		err_set(e, ERR_INVALID_REQUEST, "invalid served serial");
		return -1;
	}
	return 0;
}

/*
 * What one check or report saw, applied to n: role (NULL keep) and
 * served serial (NULL keep) at now, already checked; drift recomputed.
 * Returns +1 when drift began, -1 when it ended, 0 otherwise.
 */
static int
observe_apply(struct node_rec *n, const char *role, const char *served,
    int64_t now)
{
	bool was = n->drift_since != 0, drift;

	if (role != NULL) {
		memcpy(n->role, role, sizeof(n->role));
		n->role_at = now;
	}
	if (served != NULL) {
		memcpy(n->served_serial, served, sizeof(n->served_serial));
		n->served_at = now;
	}
	drift = n->served_serial[0] != '\0' && n->current_serial[0] != '\0' &&
	    strcmp(n->served_serial, n->current_serial) != 0;
	if (drift && !was) {
		n->drift_since = now;
		return 1;
	}
	if (!drift && was) {
		n->drift_since = 0;
		return -1;
	}
	return 0;
}

/* Write n's role, served serial, drift and last report. */
static int
observe_write(struct db_conn *c, const struct node_rec *n, struct err *e)
{
	const struct db_arg args[] = {
		DB_BUF(n->role), DB_INT(n->role_at), DB_BUF(n->served_serial),
		DB_INT(n->served_at), DB_INT(n->drift_since),
		DB_INT(n->last_report_at), DB_BUF(n->name),
	};
	int64_t k;

	if ((k = db_run(c, DB_STMT_NODE_OBSERVE, args, DB_NARGS(args),
	    "node observe", e)) == -1)
		return -1;
	if (k == 0) {
		err_set(e, ERR_NOT_FOUND, "node not found");
		return -1;
	}
	return 0;
}

/* Read node name into out in c's open transaction: 1, 0 none, -1. */
static int
node_get_in(struct db_conn *c, const char *name, struct node_rec *out,
    struct err *e)
{
	const struct db_arg args[] = { DB_TEXT(name, RCA_MAX_NODE_NAME + 1) };

	return db_get(c, DB_STMT_NODE_GET, args, DB_NARGS(args), db_node_read,
	    out, "node get", e);
}

/* db_node_observe()'s transaction. */
struct observe {
	const char		*name;
	const char		*role;		/* checked; NULL keep */
	const char		*served;	/* checked; NULL keep */
	int64_t			 now;
	const struct audit_rec	*on_drift;
	int			 change;	/* out */
};

static int
observe_run(struct db_conn *c, void *arg, struct err *e)
{
	struct observe *o = arg;
	struct node_rec n;
	int rc = -1, s;

	o->change = 0;
	if ((s = node_get_in(c, o->name, &n, e)) == -1)
		return -1;
	if (s == 0) {
		err_set(e, ERR_NOT_FOUND, "node not found");
		return -1;
	}
	o->change = observe_apply(&n, o->role, o->served, o->now);
	if (observe_write(c, &n, e) == -1)
		goto out;
	if (o->change == 1 && db_audit_insert(c, o->on_drift, e) == -1)
		goto out;
	rc = 0;
out:
	node_rec_clear(&n);
	return rc;
}

int
db_node_observe(struct db *db, const char *name, const char *role,
    int64_t now, const char *served_serial, int *drift_change,
    const struct audit_rec *on_drift, struct err *e)
{
	char rk[16], sk[RCA_SERIAL_HEX_MAX + 1];
	struct observe o = { name, NULL, NULL, now, on_drift, 0 };
	struct err le;
	int rc;

	ERR_LOCAL(e, le);
	if (drift_change != NULL)
		*drift_change = 0;
	if (db_node_name_check(name, e) == -1)
		return -1;
	if (role != NULL) {
		if (role_key(role, rk, e) == -1)
			return -1;
		o.role = rk;
	}
	if (served_serial != NULL) {
		if (served_key(served_serial, sk, e) == -1)
			return -1;
		o.served = sk;
	}
	if ((rc = db_write(db, observe_run, &o, NULL, e)) == 0 &&
	    drift_change != NULL)
		*drift_change = o.change;
	return rc;
}

int
db_node_group_list(struct db *db, const char *group, struct node_rec **out,
    size_t *n, struct err *e)
{
	struct db_rows rows = { .read = db_node_read, .clear = db_node_clear,
	    .size = sizeof(**out) };
	const struct db_arg args[] = {
		DB_TEXT(group != NULL ? group : "", RCA_MAX_NODE_NAME + 1),
	};
	int rc;

	*out = NULL;
	*n = 0;
	/* A name too long to be stored has no member. */
	if (group == NULL || group[0] == '\0' ||
	    strnlen(group, RCA_MAX_NODE_NAME + 1) > RCA_MAX_NODE_NAME)
		return 0;
	rc = db_list(db, DB_STMT_NODE_GROUP_LIST, args, DB_NARGS(args), &rows,
	    "node group list", e);
	*out = rows.v;
	*n = rows.n;
	return rc;
}

int
db_node_groups(struct db *db, char ***groups, size_t *n, struct err *e)
{
	return db_list_str(db, DB_STMT_NODE_GROUPS, NULL, 0, groups, n,
	    "node groups", e);
}

/* db_node_report()'s transaction. */
struct report {
	const struct node_rec		*pull;
	const struct rotation_rec	*rec;		/* NULL: a check-in */
	const char			*role;		/* checked; NULL keep */
	const char			*served;	/* checked; NULL keep */
	int64_t				 now;
	int				 change;	/* out */
};

/* The pull row of r->pull in n: made, or its address and group set. */
static int
report_upsert(struct db_conn *c, const struct report *r, struct node_rec *n,
    struct err *e)
{
	const struct node_rec *p = r->pull;
	int s;

	if ((s = node_get_in(c, p->name, n, e)) == -1)
		return -1;
	if (s == 1 && n->mode != NODE_MODE_PULL) {
		err_set(e, ERR_CONFLICT, "a push node has that name");
		return -1;
	}
	memcpy(n->host, p->host, sizeof(n->host));
	n->port = p->port;
	memcpy(n->profile, p->profile, sizeof(n->profile));
	memcpy(n->group, p->group[0] != '\0' ? p->group : p->name,
	    sizeof(n->group));
	if (s == 0) {
		memcpy(n->name, p->name, sizeof(n->name));
		n->mode = NODE_MODE_PULL;
		n->created_at = r->now;
		return db_node_insert_in(c, n, e);
	}
	const struct db_arg args[] = {
		DB_BUF(n->host), DB_INT(n->port), DB_BUF(n->profile),
		DB_TEXT(db_node_stored_group(n), sizeof(n->group)),
		DB_BUF(n->name),
	};
	return db_run(c, DB_STMT_NODE_PULL_UPDATE, args, DB_NARGS(args),
	    "node pull update", e) == -1 ? -1 : 0;
}

/* The rotation r->rec of pull row n, and n's rotation state after it. */
static int
report_rotation(struct db_conn *c, const struct report *r,
    struct node_rec *n, struct err *e)
{
	struct rotation_rec copy = *r->rec;

	if (db_rotation_insert_in(c, &copy, e) == -1)
		return -1;
	n->last_rotation_id = copy.id;
	if (copy.status == ROT_SUCCEEDED) {
		memcpy(n->current_serial, copy.new_serial,
		    sizeof(n->current_serial));
		n->not_after = r->pull->not_after;
		n->failures = 0;
		n->next_attempt_at = 0;
	} else {
		n->failures++;
		n->next_attempt_at = r->pull->next_attempt_at;
	}
	const struct db_arg args[] = {
		DB_BUF(n->current_serial), DB_INT(n->not_after),
		DB_INT(n->last_rotation_id), DB_INT(n->failures),
		DB_INT(n->next_attempt_at), DB_BUF(n->name),
	};
	return db_run(c, DB_STMT_NODE_UPDATE_STATE, args, DB_NARGS(args),
	    "node update", e) == -1 ? -1 : 0;
}

static int
report_run(struct db_conn *c, void *arg, struct err *e)
{
	struct report *r = arg;
	struct node_rec n;
	int rc = -1;

	r->change = 0;
	memset(&n, 0, sizeof(n));
	if (report_upsert(c, r, &n, e) == -1)
		goto out;
	if (r->rec != NULL && report_rotation(c, r, &n, e) == -1)
		goto out;
	n.last_report_at = r->now;
	r->change = observe_apply(&n, r->role, r->served, r->now);
	if (observe_write(c, &n, e) == -1)
		goto out;
	rc = 0;
out:
	node_rec_clear(&n);
	return rc;
}

/* The checks of db_node_report()'s arguments: 0, or -1. */
static int
report_check(const struct node_rec *pull, const struct rotation_rec *rec,
    struct err *e)
{
	if (pull == NULL || pull->name[0] == '\0' ||
	    strnlen(pull->name, sizeof(pull->name)) > RCA_MAX_NODE_NAME) {
		err_set(e, ERR_INVALID_REQUEST, "incomplete node");
		return -1;
	}
	if (rec == NULL)
		return 0;
	if (strcmp(rec->node, pull->name) != 0 ||
	    (unsigned)rec->status >= ROT_STATUS__MAX ||
	    rec->status == ROT_RUNNING || rec->nsteps > ROT_MAX_STEPS ||
	    (rec->status == ROT_SUCCEEDED && rec->new_serial[0] == '\0')) {
		err_set(e, ERR_INVALID_REQUEST, "invalid rotation record");
		return -1;
	}
	return 0;
}

int
db_node_report(struct db *db, const struct node_rec *pull,
    const struct rotation_rec *rec, const char *served_serial,
    int64_t now, int *drift_change, const struct audit_rec *a,
    struct err *e)
{
	char rk[16], sk[RCA_SERIAL_HEX_MAX + 1];
	struct report r = { pull, rec, NULL, NULL, now, 0 };
	struct err le;
	int rc;

	ERR_LOCAL(e, le);
	if (drift_change != NULL)
		*drift_change = 0;
	if (report_check(pull, rec, e) == -1)
		return -1;
	if (pull->role[0] != '\0') {
		if (role_key(pull->role, rk, e) == -1)
			return -1;
		r.role = rk;
	}
	if (served_serial != NULL) {
		if (served_key(served_serial, sk, e) == -1)
			return -1;
		r.served = sk;
	}
	if ((rc = db_write(db, report_run, &r, a, e)) == 0 &&
	    drift_change != NULL)
		*drift_change = r.change;
	return rc;
}
