/*
 * What a handler answers: struct api_resp filled with JSON, with a copy
 * of bytes, with shared bytes (no copy: the CRL, the CA certificate) or
 * with no body.  Pure (jansson and libc): nothing here knows the
 * connection.
 */
#include <stdlib.h>
#include <string.h>

#include "api_priv.h"
#include "fileio.h"

int
api_resp_json(struct api_resp *out, unsigned status, json_t *v,
    struct err *e)
{
	char *s;

	if (v == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	s = json_dumps(v, JSON_COMPACT);
	json_decref(v);
	if (s == NULL) {
		err_set(e, ERR_INTERNAL, "cannot encode JSON");
		return -1;
	}
	out->status = status;
	out->ctype = "application/json";
	out->body = s;
	out->len = strlen(s);
	return 0;
}

int
api_resp_bytes(struct api_resp *out, unsigned status, const char *ctype,
    const void *data, size_t len, struct err *e)
{
	char *b;

	if ((b = malloc(len + 1)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	memcpy(b, data, len);
	b[len] = '\0';
	out->status = status;
	out->ctype = ctype;
	out->body = b;
	out->len = len;
	return 0;
}

void
api_resp_empty(struct api_resp *out, unsigned status)
{
	out->status = status;
	out->ctype = NULL;
	out->body = NULL;
	out->len = 0;
}

void
api_resp_shared(struct api_resp *out, unsigned status, const char *ctype,
    const void *data, size_t len, void (*release)(void *), void *arg)
{
	out->status = status;
	out->ctype = ctype;
	out->body = NULL;
	out->len = len;
	out->shared = data;
	out->release = release;
	out->release_arg = arg;
}

void
api_resp_release(struct api_resp *out)
{
	fio_secret_free(out->body, out->len);
	if (out->release != NULL)
		out->release(out->release_arg);
	out->body = NULL;
	out->len = 0;
	out->shared = NULL;
	out->release = NULL;
	out->release_arg = NULL;
}
