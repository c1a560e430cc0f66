/*
 * /v1/tokens: create (the secret is shown only in that answer), list,
 * get, delete.  Token hashes never leave the service.
 */
#include <ctype.h>
#include <string.h>

#include "api_priv.h"
#include "fileio.h"

/*
 * POST /v1/tokens {"kind"?, "profile", "names", "uses"?, "ttl"?,
 * "max_cert_ttl"?, "description"?}.  201 token object + "token"; 400
 * invalid_json, invalid_request, invalid_ttl, unknown_profile; 401;
 * 403; 413; 415; 500.
 */
int
api_h_token_create(struct api_req *r, struct api_resp *out, struct err *e)
{
	char tok[RCA_TOKEN_PREFIX_LEN + 2 * RCA_TOKEN_RANDOM_BYTES + 1] = "";
	struct api_token_body b = { 0 };
	struct token_rec t = { 0 };
	int rc = -1;

	if (api_decode_token(r->body, r->body_len, &b, e) == -1) {
		api_refused(r, "", e);
		goto out;
	}
	if (svc_token_create(r->svc, &r->actor, &b.req, &t, tok, e) == -1)
		goto out;
	rc = api_resp_json(out, 201, api_enc_with(api_enc_token(&t), "token",
	    json_string(tok)), e);
out:
	fio_wipe(tok, sizeof(tok));
	token_rec_clear(&t);
	api_token_body_free(&b);
	return rc;
}

/* A token id from a path or cursor: 1..16 hex digits. */
static bool
token_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > RCA_TOKEN_ID_HEX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* A page element: a token. */
static json_t *
enc_token_item(const void *item, const void *arg)
{
	return api_enc_token(item);
}

/* GET /v1/tokens?limit&after.  200 {"items", "next"}; 400
 * invalid_request; 401; 403; 500. */
int
api_h_token_list(struct api_req *r, struct api_resp *out, struct err *e)
{
	char next[RCA_TOKEN_ID_HEX + 1] = "";
	struct token_rec *list = NULL;
	const char *after;
	size_t limit, n = 0;
	int rc = -1;

	if (api_decode_limit(api_query(r, "limit"), &limit, e) == -1 ||
	    api_decode_after(api_query(r, "after"), token_id_ok, &after,
	    e) == -1)
		goto out;
	if (svc_token_list(r->svc, after, limit, &list, &n, next, e) == -1)
		goto out;
	rc = api_resp_json(out, 200, api_enc_page(list, n, sizeof(*list),
	    enc_token_item, NULL, next), e);
out:
	svc_token_list_free(list, n);
	return rc;
}

/* GET /v1/tokens/{id}.  200; 401; 403; 404; 500. */
int
api_h_token_get(struct api_req *r, struct api_resp *out, struct err *e)
{
	struct token_rec t = { 0 };
	int rc = -1;

	if (!token_id_ok(r->params.v[0])) {
		err_set(e, ERR_NOT_FOUND, "no such token");
		goto out;
	}
	if (svc_token_get(r->svc, r->params.v[0], &t, e) == -1)
		goto out;
	rc = api_resp_json(out, 200, api_enc_token(&t), e);
out:
	token_rec_clear(&t);
	return rc;
}

/* DELETE /v1/tokens/{id}.  204; 401; 403; 404; 500. */
int
api_h_token_delete(struct api_req *r, struct api_resp *out, struct err *e)
{
	if (!token_id_ok(r->params.v[0])) {
		err_set(e, ERR_NOT_FOUND, "no such token");
		return -1;
	}
	if (svc_token_delete(r->svc, &r->actor, r->params.v[0], e) == -1)
		return -1;
	api_resp_empty(out, 204);
	return 0;
}
