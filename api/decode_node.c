/*
 * The body of POST /v1/nodes into a validated svc_node_req: where the
 * node listens, its names, where its files go and how to log in.  Pure
 * (decode.c's checks); the values themselves are the service's to judge.
 */
#include <stdlib.h>
#include <string.h>

#include "api_priv.h"
#include "rca_limits.h"
#include "timeutil.h"

void
api_node_body_free(struct api_node_body *b)
{
	if (b == NULL)
		return;
	json_decref(b->root);
	names_clear(&b->sans);
	memset(b, 0, sizeof(*b));
}

/*
 * The optional "sans" {"dns", "ip"} and "auth" {"username",
 * "password_file"} objects of b's body into b (strings borrowed from
 * b->root).  Errors: ERR_INVALID_REQUEST naming the field.
 */
static int
node_objects(struct api_node_body *b, struct err *e)
{
	static const struct api_field auth_fields[] = {
		{ "username", API_F_STRING, false },
		{ "password_file", API_F_STRING, false },
	};
	json_t *auth;

	switch (api_decode_sans(b->root, &b->sans, e)) {
	case -1:
		return -1;
	case 1:
		b->req.sans = &b->sans;
		break;
	}
	auth = json_object_get(b->root, "auth");
	if (json_is_object(auth)) {
		if (api_check_fields(auth, "auth.", auth_fields, 2, e) == -1)
			return -1;
		b->req.auth_username = api_opt_string(auth, "username");
		b->req.auth_password_file = api_opt_string(auth,
		    "password_file");
	}
	return 0;
}

/*
 * {"name", "group"?, "host", "port", "server_name"?, "sans"?: {"dns", "ip"},
 * "cert_dir", "cert_file"?, "key_file"?, "ca_file"?, "profile"?,
 * "ttl"?, "auth"?: {"username"?, "password_file"?}}.  The values
 * themselves are checked by svc_node_create().
 */
int
api_decode_node(const char *body, size_t len, struct api_node_body *out,
    struct err *e)
{
	static const struct api_field fields[] = {
		{ "name", API_F_STRING, true },
		{ "group", API_F_STRING, false },
		{ "host", API_F_STRING, true },
		{ "port", API_F_INTEGER, true },
		{ "server_name", API_F_STRING, false },
		{ "sans", API_F_OBJECT, false },
		{ "cert_dir", API_F_STRING, true },
		{ "cert_file", API_F_STRING, false },
		{ "key_file", API_F_STRING, false },
		{ "ca_file", API_F_STRING, false },
		{ "profile", API_F_STRING, false },
		{ "ttl", API_F_STRING, false },
		{ "auth", API_F_OBJECT, false },
	};
	struct api_node_body	 b;
	json_int_t		 port;
	int			 rc = -1;

	memset(&b, 0, sizeof(b));
	if (api_json_load(body, len, &b.root, e) == -1)
		goto out;
	if (api_check_fields(b.root, "", fields,
	    sizeof(fields) / sizeof(fields[0]), e) == -1)
		goto out;
	if (node_objects(&b, e) == -1)
		goto out;
	port = json_integer_value(json_object_get(b.root, "port"));
	if (port < 1 || port > 65535) {
		err_set(e, ERR_INVALID_REQUEST, "field 'port' must be 1 to "
		    "65535");
		goto out;
	}
	b.req.port = (int)port;
	b.req.name = api_opt_string(b.root, "name");
	/* POST /v1/nodes/report is a literal path beside /v1/nodes/{name}. */
	if (strcmp(b.req.name, "report") == 0) {
		err_set(e, ERR_INVALID_REQUEST, "field 'name': 'report' is "
		    "reserved");
		goto out;
	}
	b.req.group = api_opt_string(b.root, "group");
	b.req.host = api_opt_string(b.root, "host");
	b.req.server_name = api_opt_string(b.root, "server_name");
	b.req.cert_dir = api_opt_string(b.root, "cert_dir");
	b.req.cert_file = api_opt_string(b.root, "cert_file");
	b.req.key_file = api_opt_string(b.root, "key_file");
	b.req.ca_file = api_opt_string(b.root, "ca_file");
	b.req.profile = api_opt_string(b.root, "profile");
	if (api_opt_duration(b.root, "ttl", &b.req.ttl, e) == -1)
		goto out;
	*out = b;
	if (out->req.sans != NULL)
		out->req.sans = &out->sans;
	memset(&b, 0, sizeof(b));
	rc = 0;
out:
	api_node_body_free(&b);
	return rc;
}
