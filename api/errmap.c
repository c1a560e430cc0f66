/*
 * The one place where error codes become HTTP statuses (SPEC section 6)
 * and error bodies.  Failures on our side never show their message.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api_priv.h"

static const unsigned statuses[ERR__MAX] = {
	[ERR_OK] = 500,
	[ERR_INVALID_JSON] = 400,
	[ERR_INVALID_REQUEST] = 400,
	[ERR_INVALID_CSR] = 400,
	[ERR_CSR_SIGNATURE] = 400,
	[ERR_UNKNOWN_PROFILE] = 400,
	[ERR_INVALID_TTL] = 400,
	[ERR_INVALID_SERIAL] = 400,
	[ERR_UNAUTHORIZED] = 401,
	[ERR_FORBIDDEN] = 403,
	[ERR_NAME_NOT_ALLOWED] = 403,
	[ERR_NOT_FOUND] = 404,
	[ERR_ALREADY_REVOKED] = 409,
	[ERR_ALREADY_EXISTS] = 409,
	[ERR_CONFLICT] = 409,
	[ERR_KEY_REJECTED] = 422,
	[ERR_TTL_TOO_LONG] = 422,
	[ERR_ROTATION_FAILED] = 502,
	[ERR_METHOD_NOT_ALLOWED] = 405,
	[ERR_PAYLOAD_TOO_LARGE] = 413,
	[ERR_UNSUPPORTED_MEDIA_TYPE] = 415,
	[ERR_RATE_LIMITED] = 429,
	[ERR_IO] = 500,
	[ERR_CRYPTO] = 500,
	[ERR_DB] = 500,
	[ERR_NET] = 500,
	[ERR_CONFIG] = 500,
	[ERR_USAGE] = 500,
	[ERR_INTERNAL] = 500,
	[ERR_READ_ONLY] = 503,		/* a write on a standby */
	[ERR_UNAVAILABLE] = 503,	/* database lost; retry */
	[ERR_CA_NEXT_EXISTS] = 409,
	[ERR_CA_RETIRE_PENDING] = 409,
	[ERR_CA_NOT_PREPARED] = 409,
	[ERR_CA_NOTHING_TO_RETIRE] = 409,
	[ERR_CA_IN_USE] = 409,
	[ERR_INVALID_CHAIN] = 422,
};

const char *
api_err_name(enum err_code c)
{
	return err_code_name(c);
}

unsigned
api_err_status(enum err_code c)
{
	if ((unsigned)c >= ERR__MAX || statuses[c] == 0)
		return 500;
	return statuses[c];
}

char *
api_err_body(const struct err *e, size_t *len)
{
	json_t *v = NULL;
	const char *code, *msg;
	char *out = NULL;

	/* A 500 says nothing of its cause: that is in the log. */
	if (api_err_status(e->code) == 500) {
		code = "internal";
		msg = "internal error";
	} else {
		code = api_err_name(e->code);
		msg = e->msg[0] != '\0' ? e->msg : code;
	}
	v = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
	/* A message echoing bytes that are not UTF-8: send the code. */
	if (v == NULL)
		v = json_pack("{s:{s:s,s:s}}", "error", "code", code,
		    "message", code);
	if (v == NULL)
		goto out;
	out = json_dumps(v, JSON_COMPACT);
	if (out != NULL)
		*len = strlen(out);
out:
	json_decref(v);
	return out;
}
