/* struct err: the one error carrier shared by every module. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static const char *const err_names[ERR__MAX] = {
	[ERR_OK] = "ok",
	[ERR_INVALID_JSON] = "invalid_json",
	[ERR_INVALID_REQUEST] = "invalid_request",
	[ERR_INVALID_CSR] = "invalid_csr",
	[ERR_CSR_SIGNATURE] = "csr_signature_invalid",
	[ERR_UNKNOWN_PROFILE] = "unknown_profile",
	[ERR_INVALID_TTL] = "invalid_ttl",
	[ERR_INVALID_SERIAL] = "invalid_serial",
	[ERR_UNAUTHORIZED] = "unauthorized",
	[ERR_FORBIDDEN] = "forbidden",
	[ERR_NAME_NOT_ALLOWED] = "name_not_allowed",
	[ERR_NOT_FOUND] = "not_found",
	[ERR_ALREADY_REVOKED] = "already_revoked",
	[ERR_ALREADY_EXISTS] = "already_exists",
	[ERR_CONFLICT] = "conflict",
	[ERR_KEY_REJECTED] = "key_rejected",
	[ERR_TTL_TOO_LONG] = "ttl_too_long",
	[ERR_ROTATION_FAILED] = "rotation_failed",
	[ERR_METHOD_NOT_ALLOWED] = "method_not_allowed",
	[ERR_PAYLOAD_TOO_LARGE] = "payload_too_large",
	[ERR_UNSUPPORTED_MEDIA_TYPE] = "unsupported_media_type",
	[ERR_RATE_LIMITED] = "rate_limited",
	[ERR_IO] = "io_error",
	[ERR_CRYPTO] = "crypto_error",
	[ERR_DB] = "database_error",
	[ERR_NET] = "network_error",
	[ERR_CONFIG] = "config_error",
	[ERR_USAGE] = "usage",
	[ERR_INTERNAL] = "internal",
	[ERR_READ_ONLY] = "read_only",
	[ERR_UNAVAILABLE] = "unavailable",
	[ERR_CA_NEXT_EXISTS] = "ca_next_exists",
	[ERR_CA_RETIRE_PENDING] = "ca_retire_pending",
	[ERR_CA_NOT_PREPARED] = "ca_not_prepared",
	[ERR_CA_NOTHING_TO_RETIRE] = "ca_nothing_to_retire",
	[ERR_CA_IN_USE] = "ca_unexpired_certificates",
	[ERR_INVALID_CHAIN] = "invalid_chain",
};

void
err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

void
err_clear(struct err *e)
{
	if (e == NULL)
		return;
	e->code = ERR_OK;
	e->msg[0] = '\0';
}

const char *
err_code_name(enum err_code code)
{
	if ((unsigned)code >= ERR__MAX || err_names[code] == NULL)
		return "internal";
	return err_names[code];
}
