/*
 * The bodies and queries of the fleet routes (SPEC section 11): a pull
 * node's report (POST /v1/nodes/report), the empty body of a group
 * rotation and the ?status= of the node list.  Shapes only: whether a
 * serial was issued for the node, or the group name is allowed, is the
 * service's to judge.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_fleet.h"
#include "hex.h"
#include "hostport.h"
#include "rca_limits.h"
#include "timeutil.h"

/* hostport_split()'s rules, and a port from 1 (0 is no Redis port). */
int
api_decode_hostport(const char *s, const char *field, char *host,
    size_t hostsz, int *port, struct err *e)
{
	unsigned p;

	if (!hostport_split(s, host, hostsz, &p) || p == 0) {
		err_set(e, ERR_INVALID_REQUEST, "field '%s' must be host:port "
		    "or [ipv6]:port with a port from 1 to 65535", field);
		return -1;
	}
	*port = (int)p;
	return 0;
}

/*
 * The optional serial field name of root into out (size
 * RCA_SERIAL_HEX_MAX + 1), lowercased; "" when absent.  Errors:
 * ERR_INVALID_REQUEST naming the field.
 */
static int
opt_serial(json_t *root, const char *name, char *out, struct err *e)
{
	const char *s = api_opt_string(root, name);
	struct err le;

	out[0] = '\0';
	if (s == NULL)
		return 0;
	if (s[0] == '\0' || hex_serial_normalize(s, out, &le) == -1) {
		err_set(e, ERR_INVALID_REQUEST, "field '%s' must be a serial "
		    "(1 to %d hex digits)", name, RCA_SERIAL_HEX_MAX);
		return -1;
	}
	return 0;
}

/* The optional time field name of root into *out; 0 when absent. */
static int
opt_time(json_t *root, const char *name, int64_t *out, struct err *e)
{
	const char *s = api_opt_string(root, name);
	struct err le;

	*out = 0;
	if (s == NULL)
		return 0;
	if (tu_parse(s, out, &le) == -1 || *out <= 0) {
		err_set(e, ERR_INVALID_REQUEST, "field '%s' must be an RFC "
		    "3339 time", name);
		return -1;
	}
	return 0;
}

/*
 * A step name a rotation record may hold (openapi's RotationStep): the
 * CA's own and the pull daemon's.
 */
static bool
step_name_ok(const char *s)
{
	static const char *const steps[] = { "connect", "issue",
	    "write_files", "config_set", "verify_handshake", "verify_serial",
	    "ping", "rollback" };

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (strcmp(s, steps[i]) == 0)
			return true;
	return false;
}

/* "steps": [{"step", "ok", "detail"}] of root into r. */
static int
report_steps(json_t *root, struct svc_node_report_req *r, struct err *e)
{
	static const struct api_field fields[] = {
		{ "step", API_F_STRING, true },
		{ "ok", API_F_BOOLEAN, true },
		{ "detail", API_F_STRING, true },
	};
	json_t *arr = json_object_get(root, "steps"), *v;
	char prefix[32];
	size_t i;

	if (arr == NULL || json_is_null(arr))
		return 0;
	if (json_array_size(arr) > ROT_MAX_STEPS) {
		err_set(e, ERR_INVALID_REQUEST, "field 'steps' has more than "
		    "%d elements", ROT_MAX_STEPS);
		return -1;
	}
	json_array_foreach(arr, i, v) {
		struct rotation_step *st = &r->steps[i];
		const char *name, *detail;

		snprintf(prefix, sizeof(prefix), "steps[%zu].", i);
		if (!json_is_object(v)) {
			err_set(e, ERR_INVALID_REQUEST, "field 'steps[%zu]' "
			    "must be an object", i);
			return -1;
		}
		if (api_check_fields(v, prefix, fields, 3, e) == -1)
			return -1;
		name = api_opt_string(v, "step");
		detail = api_opt_string(v, "detail");
		if (!step_name_ok(name)) {
			err_set(e, ERR_INVALID_REQUEST, "field '%sstep' must "
			    "be connect, issue, write_files, config_set, "
			    "verify_handshake, verify_serial, ping or "
			    "rollback", prefix);
			return -1;
		}
		if (strlen(detail) >= sizeof(st->detail)) {
			err_set(e, ERR_INVALID_REQUEST, "field '%sdetail' is "
			    "longer than %zu bytes", prefix,
			    sizeof(st->detail) - 1);
			return -1;
		}
		snprintf(st->step, sizeof(st->step), "%s", name);
		snprintf(st->detail, sizeof(st->detail), "%s", detail);
		st->ok = json_is_true(json_object_get(v, "ok"));
	}
	r->nsteps = json_array_size(arr);
	return 0;
}

/*
 * What each kind needs: a rotation its times (in order) and, unless it
 * failed, its new serial; a check nothing but the served serial.
 */
static int
report_complete(json_t *root, const struct svc_node_report_req *r,
    struct err *e)
{
	static const char *const rot_only[] = { "old_serial", "new_serial",
	    "started_at", "finished_at", "steps" };

	if (r->status == SVC_REPORT_CHECK) {
		for (size_t i = 0; i < 5; i++) {
			json_t *v = json_object_get(root, rot_only[i]);

			if (v != NULL && !json_is_null(v)) {
				err_set(e, ERR_INVALID_REQUEST, "field '%s' "
				    "is not allowed with status check",
				    rot_only[i]);
				return -1;
			}
		}
		return 0;
	}
	if (r->started_at == 0 || r->finished_at == 0) {
		err_set(e, ERR_INVALID_REQUEST, "missing field '%s'",
		    r->started_at == 0 ? "started_at" : "finished_at");
		return -1;
	}
	if (r->finished_at < r->started_at) {
		err_set(e, ERR_INVALID_REQUEST, "field 'finished_at' is "
		    "before 'started_at'");
		return -1;
	}
	if (r->status != SVC_REPORT_FAILED && r->new_serial[0] == '\0') {
		err_set(e, ERR_INVALID_REQUEST, "missing field 'new_serial'");
		return -1;
	}
	return 0;
}

/* The optional string field name of root, 1 to max bytes, into out. */
static int
opt_copy(json_t *root, const char *name, char *out, size_t max,
    struct err *e)
{
	const char *s = api_opt_string(root, name);

	out[0] = '\0';
	if (s == NULL)
		return 0;
	if (s[0] == '\0' || strlen(s) > max) {
		err_set(e, ERR_INVALID_REQUEST, "field '%s' must be 1 to %zu "
		    "bytes", name, max);
		return -1;
	}
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

/* The fields of root (checked for type) into r. */
static int
report_values(json_t *root, struct svc_node_report_req *r, struct err *e)
{
	const char *role = api_opt_string(root, "role");

	if (role != NULL && strcmp(role, "primary") != 0 &&
	    strcmp(role, "replica") != 0) {
		err_set(e, ERR_INVALID_REQUEST, "field 'role' must be primary "
		    "or replica");
		return -1;
	}
	if (role != NULL)
		snprintf(r->role, sizeof(r->role), "%s", role);
	if (svc_report_status_parse(api_opt_string(root, "status"),
	    &r->status) == -1) {
		err_set(e, ERR_INVALID_REQUEST, "field 'status' must be "
		    "succeeded, rolled_back, failed or check");
		return -1;
	}
	if (opt_copy(root, "name", r->name, RCA_MAX_NODE_NAME, e) == -1 ||
	    opt_copy(root, "group", r->group, RCA_MAX_NODE_NAME, e) == -1 ||
	    api_decode_hostport(api_opt_string(root, "redis"), "redis",
	    r->host, sizeof(r->host), &r->port, e) == -1 ||
	    opt_serial(root, "served_serial", r->served_serial, e) == -1 ||
	    opt_serial(root, "old_serial", r->old_serial, e) == -1 ||
	    opt_serial(root, "new_serial", r->new_serial, e) == -1 ||
	    opt_time(root, "started_at", &r->started_at, e) == -1 ||
	    opt_time(root, "finished_at", &r->finished_at, e) == -1 ||
	    report_steps(root, r, e) == -1)
		return -1;
	return report_complete(root, r, e);
}

int
api_decode_report(const char *body, size_t len,
    struct svc_node_report_req *out, struct err *e)
{
	static const struct api_field fields[] = {
		{ "name", API_F_STRING, false },
		{ "redis", API_F_STRING, true },
		{ "group", API_F_STRING, false },
		{ "role", API_F_STRING, false },
		{ "status", API_F_STRING, true },
		{ "old_serial", API_F_STRING, false },
		{ "new_serial", API_F_STRING, false },
		{ "served_serial", API_F_STRING, false },
		{ "started_at", API_F_STRING, false },
		{ "finished_at", API_F_STRING, false },
		{ "steps", API_F_ARRAY, false },
	};
	json_t *root = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (len > API_FLEET_BODY_REPORT) {
		err_set(e, ERR_PAYLOAD_TOO_LARGE, "body over %d bytes",
		    API_FLEET_BODY_REPORT);
		goto out;
	}
	if (api_json_load(body, len, &root, e) == -1 ||
	    api_check_fields(root, "", fields,
	    sizeof(fields) / sizeof(fields[0]), e) == -1 ||
	    report_values(root, out, e) == -1)
		goto out;
	rc = 0;
out:
	json_decref(root);
	if (rc == -1)
		memset(out, 0, sizeof(*out));
	return rc;
}

int
api_decode_empty_object(const char *body, size_t len, struct err *e)
{
	json_t *root = NULL;
	int rc = -1;

	if (body == NULL || len == 0)
		return 0;
	if (api_json_load(body, len, &root, e) == -1 ||
	    api_check_fields(root, "", NULL, 0, e) == -1)
		goto out;
	rc = 0;
out:
	json_decref(root);
	return rc;
}

int
api_decode_node_status(const char *s, enum node_status *out, struct err *e)
{
	*out = NODE_STATUS__MAX;
	if (s == NULL || s[0] == '\0')
		return 0;
	for (int i = 0; i < NODE_STATUS__MAX; i++) {
		if (strcmp(s, svc_node_status_name((enum node_status)i)) == 0) {
			*out = (enum node_status)i;
			return 0;
		}
	}
	err_set(e, ERR_INVALID_REQUEST, "'status' must be ok, expiring, "
	    "rotation_failed, unknown or drift");
	return -1;
}
