/*
 * /v1/certificates: issue (from a CSR or with a generated key), list,
 * get, PEM, revoke.  Decode, one svc_* call, encode.
 */
#include <string.h>

#include "api_priv.h"
#include "hex.h"
#include "timeutil.h"

/*
 * POST /v1/certificates {"csr", "profile", "ttl"?}.
 * 201; 400 invalid_json, invalid_request, invalid_csr,
 * csr_signature_invalid, unknown_profile, invalid_ttl; 401; 403
 * forbidden, name_not_allowed; 413; 415; 422 key_rejected (also a key
 * blocked after a keyCompromise), ttl_too_long; 500.
 */
int
api_h_cert_issue(struct api_req *r, struct api_resp *out, struct err *e)
{
	struct api_issue_body b = { 0 };
	struct svc_issue_req q = { 0 };
	struct svc_issued is = { 0 };
	int rc = -1;

	if (api_decode_issue(r->body, r->body_len, &b, e) == -1) {
		api_refused(r, "", e);
		goto out;
	}
	q.profile = b.profile;
	q.ttl = b.ttl;
	q.csr_pem = b.csr;
	q.csr_len = b.csr_len;
	q.key_type = KEY_EC_P256;
	if (svc_issue(r->svc, &r->actor, &q, &is, e) == -1)
		goto out;
	rc = api_enc_issued(&is, out, e);
out:
	svc_issued_clear(&is);
	api_issue_body_free(&b);
	return rc;
}

/*
 * POST /v1/certificates/generate {"profile", "common_name", "sans"?,
 * "ttl"?, "key_type"?}.  201 with "private_key"; otherwise as
 * api_h_cert_issue.
 */
int
api_h_cert_generate(struct api_req *r, struct api_resp *out, struct err *e)
{
	struct api_generate_body b = { .names = NAMES_INIT };
	struct svc_issue_req q = { 0 };
	struct svc_issued is = { 0 };
	int rc = -1;

	if (api_decode_generate(r->body, r->body_len, &b, e) == -1) {
		api_refused(r, "", e);
		goto out;
	}
	q.profile = b.profile;
	q.ttl = b.ttl;
	q.names = &b.names;
	q.key_type = b.key_type;
	if (svc_issue(r->svc, &r->actor, &q, &is, e) == -1)
		goto out;
	rc = api_enc_issued(&is, out, e);
out:
	svc_issued_clear(&is);
	api_generate_body_free(&b);
	return rc;
}

/* A page element: a certificate at *now (an int64_t). */
static json_t *
enc_cert_item(const void *item, const void *now)
{
	return api_enc_cert(item, *(const int64_t *)now);
}

/*
 * GET /v1/certificates?status&profile&common_name&node&expires_before
 * &limit&after.  200 {"items", "next"}; 400 invalid_request; 401; 403;
 * 500.
 */
int
api_h_cert_list(struct api_req *r, struct api_resp *out, struct err *e)
{
	struct api_cert_query q;
	struct cert_filter f;
	struct cert_rec *list = NULL;
	size_t n = 0;
	int64_t next = 0, now = tu_now();
	char cursor[API_CURSOR];
	int rc = -1;

	q.status = api_query(r, "status");
	q.profile = api_query(r, "profile");
	q.common_name = api_query(r, "common_name");
	q.node = api_query(r, "node");
	q.expires_before = api_query(r, "expires_before");
	q.limit = api_query(r, "limit");
	q.after = api_query(r, "after");
	if (api_decode_cert_query(&q, now, &f, e) == -1)
		goto out;
	if (svc_cert_list(r->svc, &f, &list, &n, &next, e) == -1)
		goto out;
	rc = api_resp_json(out, 200, api_enc_page(list, n, sizeof(*list),
	    enc_cert_item, &now, api_enc_cursor(next, cursor)), e);
out:
	svc_cert_list_free(list, n);
	return rc;
}

/* Look up the certificate named by the {serial} path parameter. */
static int
cert_from_path(struct api_req *r, struct cert_rec *c, struct err *e)
{
	char serial[RCA_SERIAL_HEX_MAX + 1];

	if (hex_serial_normalize(r->params.v[0], serial, e) == -1)
		return -1;
	return svc_cert_get(r->svc, serial, c, e);
}

/* GET /v1/certificates/{serial}.  200; 400 invalid_serial; 401; 403;
 * 404; 500. */
int
api_h_cert_get(struct api_req *r, struct api_resp *out, struct err *e)
{
	struct cert_rec c = { 0 };
	int rc = -1;

	if (cert_from_path(r, &c, e) == -1)
		goto out;
	rc = api_resp_json(out, 200, api_enc_cert(&c, tu_now()), e);
out:
	cert_rec_clear(&c);
	return rc;
}

/* GET /v1/certificates/{serial}.pem.  200 application/x-pem-file; 400
 * invalid_serial; 401; 403; 404; 500. */
int
api_h_cert_pem(struct api_req *r, struct api_resp *out, struct err *e)
{
	struct cert_rec c = { 0 };
	int rc = -1;

	if (cert_from_path(r, &c, e) == -1)
		goto out;
	if (c.pem == NULL) {
		err_set(e, ERR_INTERNAL, "certificate %s has no PEM", c.serial);
		goto out;
	}
	rc = api_resp_bytes(out, 200, "application/x-pem-file", c.pem,
	    strlen(c.pem), e);
out:
	cert_rec_clear(&c);
	return rc;
}

/*
 * POST /v1/certificates/{serial}/revoke {"reason"?}.  200 certificate +
 * "crl_number"; 400 invalid_json, invalid_request, invalid_serial; 401;
 * 403; 404; 409 already_revoked; 413; 415; 500.  keyCompromise also
 * revokes the key's other unexpired certificates and blocks the key;
 * the CRL numbered crl_number lists them all.
 */
int
api_h_cert_revoke(struct api_req *r, struct api_resp *out, struct err *e)
{
	char serial[RCA_SERIAL_HEX_MAX + 1];
	struct api_revoke_body b;
	struct cert_rec c = { 0 };
	uint64_t crl_number = 0;
	int rc = -1;

	if (hex_serial_normalize(r->params.v[0], serial, e) == -1 ||
	    api_decode_revoke(r->body, r->body_len, &b, e) == -1) {
		api_refused(r, NULL, e);
		goto out;
	}
	if (svc_revoke(r->svc, &r->actor, serial, b.reason, &c, &crl_number,
	    e) == -1)
		goto out;
	rc = api_resp_json(out, 200, api_enc_with(api_enc_cert(&c, tu_now()),
	    "crl_number", json_integer((json_int_t)crl_number)), e);
out:
	cert_rec_clear(&c);
	return rc;
}
