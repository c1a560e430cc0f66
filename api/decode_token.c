/*
 * The body of POST /v1/tokens into a validated svc_token_req: the kind,
 * its profile and name patterns, uses and lifetimes.  Pure (decode.c's
 * checks).
 */
#include <stdlib.h>
#include <string.h>

#include "api_priv.h"
#include "rca_limits.h"
#include "timeutil.h"

void
api_token_body_free(struct api_token_body *b)
{
	if (b == NULL)
		return;
	json_decref(b->root);
	memset(b, 0, sizeof(*b));
}

/*
 * The "names" patterns of b's body (borrowed from b->root) into b->req;
 * an enroll token needs a profile and names.  Errors:
 * ERR_INVALID_REQUEST naming the field.
 */
static int
token_names(struct api_token_body *b, struct err *e)
{
	json_t *names = json_object_get(b->root, "names"), *v;
	size_t i;

	if (b->req.kind == TOKEN_ENROLL) {
		if (b->req.profile == NULL) {
			err_set(e, ERR_INVALID_REQUEST,
			    "missing field 'profile'");
			return -1;
		}
		if (!json_is_array(names)) {
			err_set(e, ERR_INVALID_REQUEST,
			    "missing field 'names'");
			return -1;
		}
	}
	if (json_array_size(names) > RCA_MAX_PATTERNS) {
		err_set(e, ERR_INVALID_REQUEST,
		    "field 'names' has more than %d entries", RCA_MAX_PATTERNS);
		return -1;
	}
	json_array_foreach(names, i, v) {
		if (!json_is_string(v)) {
			err_set(e, ERR_INVALID_REQUEST,
			    "field 'names[%zu]' must be a string", i);
			return -1;
		}
		b->patterns[i] = (char *)json_string_value(v);
	}
	b->req.patterns = b->patterns;
	b->req.npatterns = json_array_size(names);
	return 0;
}

int
api_decode_token(const char *body, size_t len, struct api_token_body *out,
    struct err *e)
{
	static const struct api_field fields[] = {
		{ "kind", API_F_STRING, false },
		{ "profile", API_F_STRING, false },
		{ "names", API_F_ARRAY, false },
		{ "uses", API_F_INTEGER, false },
		{ "ttl", API_F_STRING, false },
		{ "max_cert_ttl", API_F_STRING, false },
		{ "description", API_F_STRING, false },
	};
	struct api_token_body b = { 0 };
	const char *kind, *ttl;
	json_t *uses;
	int rc = -1;

	if (api_json_load(body, len, &b.root, e) == -1)
		goto out;
	if (api_check_fields(b.root, "", fields, 7, e) == -1)
		goto out;
	b.req.kind = TOKEN_ENROLL;
	kind = api_opt_string(b.root, "kind");
	if (kind != NULL && token_kind_parse(kind, &b.req.kind) == -1) {
		err_set(e, ERR_INVALID_REQUEST,
		    "field 'kind' must be \"admin\" or \"enroll\"");
		goto out;
	}
	b.req.profile = api_opt_string(b.root, "profile");
	if (token_names(&b, e) == -1)
		goto out;
	/* One use unless said otherwise: a leaked token is then spent. */
	b.req.uses = 1;
	uses = json_object_get(b.root, "uses");
	if (json_is_integer(uses))
		b.req.uses = json_integer_value(uses);
	/* Absent: the kind's default; "never": only admin (the service). */
	ttl = api_opt_string(b.root, "ttl");
	if (ttl != NULL && strcmp(ttl, "never") == 0)
		b.req.ttl = SVC_TOKEN_TTL_NEVER;
	else if (api_opt_duration(b.root, "ttl", &b.req.ttl, e) == -1)
		goto out;
	if (api_opt_duration(b.root, "max_cert_ttl", &b.req.max_cert_ttl,
	    e) == -1)
		goto out;
	b.req.description = api_opt_string(b.root, "description");
	*out = b;
	/* The request points into the struct's own array: move it along. */
	out->req.patterns = out->patterns;
	memset(&b, 0, sizeof(b));
	rc = 0;
out:
	api_token_body_free(&b);
	return rc;
}
