/*
 * The bodies and queries of /v1/certificates and /v1/renew into
 * validated C structs: issue from a CSR, generate a key, revoke, renew,
 * and the filters of the certificate list.  Pure (decode.c's checks).
 */
#include <stdlib.h>
#include <string.h>

#include "api_priv.h"
#include "rca_limits.h"
#include "timeutil.h"

/*
 * The PEM of the string field "csr" of root (borrowed from root), at
 * most RCA_MAX_CSR_BYTES long.  Errors: ERR_INVALID_CSR.
 */
static int
csr_field(json_t *root, const char **csr, size_t *len, struct err *e)
{
	json_t *v = json_object_get(root, "csr");

	*csr = json_string_value(v);
	*len = json_string_length(v);
	if (*len > RCA_MAX_CSR_BYTES) {
		err_set(e, ERR_INVALID_CSR,
		    "field 'csr' is longer than %d bytes", RCA_MAX_CSR_BYTES);
		return -1;
	}
	return 0;
}

void
api_issue_body_free(struct api_issue_body *b)
{
	if (b == NULL)
		return;
	json_decref(b->root);
	memset(b, 0, sizeof(*b));
}

int
api_decode_issue(const char *body, size_t len, struct api_issue_body *out,
    struct err *e)
{
	static const struct api_field fields[] = {
		{ "csr", API_F_STRING, true },
		{ "profile", API_F_STRING, true },
		{ "ttl", API_F_STRING, false },
	};
	struct api_issue_body b = { 0 };
	int rc = -1;

	if (api_json_load(body, len, &b.root, e) == -1)
		goto out;
	if (api_check_fields(b.root, "", fields, 3, e) == -1)
		goto out;
	if (csr_field(b.root, &b.csr, &b.csr_len, e) == -1)
		goto out;
	b.profile = api_opt_string(b.root, "profile");
	if (api_opt_duration(b.root, "ttl", &b.ttl, e) == -1)
		goto out;
	*out = b;
	memset(&b, 0, sizeof(b));
	rc = 0;
out:
	api_issue_body_free(&b);
	return rc;
}

void
api_generate_body_free(struct api_generate_body *b)
{
	if (b == NULL)
		return;
	json_decref(b->root);
	names_clear(&b->names);
	memset(b, 0, sizeof(*b));
}

int
api_decode_generate(const char *body, size_t len,
    struct api_generate_body *out, struct err *e)
{
	static const struct api_field fields[] = {
		{ "profile", API_F_STRING, true },
		{ "common_name", API_F_STRING, true },
		{ "sans", API_F_OBJECT, false },
		{ "ttl", API_F_STRING, false },
		{ "key_type", API_F_STRING, false },
	};
	struct api_generate_body b = { .names = NAMES_INIT };
	const char *kt;
	struct err ne;
	int rc = -1;

	b.key_type = KEY_EC_P256;
	if (api_json_load(body, len, &b.root, e) == -1)
		goto out;
	if (api_check_fields(b.root, "", fields, 5, e) == -1)
		goto out;
	if (api_decode_sans(b.root, &b.names, e) == -1)
		goto out;
	if (names_set_cn(&b.names, api_opt_string(b.root, "common_name"),
	    &ne) == -1) {
		err_set(e, ERR_INVALID_REQUEST, "field 'common_name': %s",
		    ne.msg);
		goto out;
	}
	b.profile = api_opt_string(b.root, "profile");
	if (api_opt_duration(b.root, "ttl", &b.ttl, e) == -1)
		goto out;
	kt = api_opt_string(b.root, "key_type");
	if (kt != NULL && key_type_parse(kt, &b.key_type) == -1) {
		err_set(e, ERR_INVALID_REQUEST, "field 'key_type' must be one "
		    "of ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096");
		goto out;
	}
	*out = b;
	memset(&b, 0, sizeof(b));
	rc = 0;
out:
	api_generate_body_free(&b);
	return rc;
}

int
api_decode_revoke(const char *body, size_t len, struct api_revoke_body *out,
    struct err *e)
{
	static const struct api_field fields[] = {
		{ "reason", API_F_STRING, false },
	};
	json_t *root = NULL;
	const char *reason;
	int rc = -1;

	out->reason = REASON_UNSPECIFIED;
	if (body == NULL || len == 0) {
		rc = 0;
		goto out;
	}
	if (api_json_load(body, len, &root, e) == -1)
		goto out;
	if (api_check_fields(root, "", fields, 1, e) == -1)
		goto out;
	reason = api_opt_string(root, "reason");
	if (reason != NULL && reason_parse(reason, &out->reason) == -1) {
		err_set(e, ERR_INVALID_REQUEST, "field 'reason' must be one of "
		    "unspecified, keyCompromise, affiliationChanged, "
		    "superseded, cessationOfOperation, privilegeWithdrawn");
		goto out;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

void
api_renew_body_free(struct api_renew_body *b)
{
	if (b == NULL)
		return;
	json_decref(b->root);
	memset(b, 0, sizeof(*b));
}

int
api_decode_renew(const char *body, size_t len, struct api_renew_body *out,
    struct err *e)
{
	static const struct api_field fields[] = {
		{ "csr", API_F_STRING, false },
	};
	struct api_renew_body b = { 0 };
	json_t *csr;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	/* No body: renew with the same public key. */
	if (body == NULL || len == 0)
		return 0;
	if (api_json_load(body, len, &b.root, e) == -1)
		goto out;
	if (api_check_fields(b.root, "", fields, 1, e) == -1)
		goto out;
	/*
	 * {} (or a null csr) is the same as no body (SPEC section 8):
	 * clients that always send a JSON object renew with the same key.
	 */
	csr = json_object_get(b.root, "csr");
	if (csr == NULL || json_is_null(csr)) {
		rc = 0;
		goto out;
	}
	if (csr_field(b.root, &b.csr, &b.csr_len, e) == -1)
		goto out;
	*out = b;
	memset(&b, 0, sizeof(b));
	rc = 0;
out:
	api_renew_body_free(&b);
	return rc;
}

/* A query value, NULL when absent or empty. */
static const char *
nonempty(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

int
api_decode_cert_query(const struct api_cert_query *q, int64_t now,
    struct cert_filter *out, struct err *e)
{
	struct cert_filter f = { 0 };
	enum cert_status st;
	struct err pe;

	f.status = -1;
	f.now = now;
	if (nonempty(q->status) != NULL) {
		if (cert_status_parse(q->status, &st) == -1) {
			err_set(e, ERR_INVALID_REQUEST, "query parameter "
			    "'status' must be valid, revoked or expired");
			return -1;
		}
		f.status = (int)st;
	}
	f.profile = nonempty(q->profile);
	f.common_name = nonempty(q->common_name);
	f.node = nonempty(q->node);
	if (nonempty(q->expires_before) != NULL &&
	    tu_parse(q->expires_before, &f.expires_before, &pe) == -1) {
		err_set(e, ERR_INVALID_REQUEST, "query parameter "
		    "'expires_before' must be an RFC 3339 time");
		return -1;
	}
	if (api_decode_limit(q->limit, &f.limit, e) == -1)
		return -1;
	if (api_decode_cursor(q->after, &f.after, e) == -1)
		return -1;
	*out = f;
	return 0;
}
