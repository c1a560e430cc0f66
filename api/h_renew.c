/*
 * POST /v1/renew: a certificate holder renews with the certificate it
 * presents on the TLS connection (authenticated before the body is read,
 * in auth.c).  Decode the optional {"csr"} body (decode_cert.c), one
 * svc_renew call, encode the same 201 body as POST /v1/certificates.
 */
#include <stdio.h>

#include "api_priv.h"

/*
 * POST /v1/renew, body none or {} (same key) or {"csr": PEM} (rekey).
 * 201 certificate + chain + ca_certificate; 400 invalid_json,
 * invalid_request, invalid_csr, csr_signature_invalid,
 * unknown_profile; 401 unauthorized (from auth.c: no, unknown,
 * expired or revoked client certificate, or one whose key is blocked
 * after a keyCompromise); 403 name_not_allowed (the CSR's names differ
 * from the certificate's); 413; 415; 422 key_rejected (also a CSR
 * whose key is blocked); 500.
 */
int
api_h_renew(struct api_req *r, struct api_resp *out, struct err *e)
{
	struct api_renew_body b = { 0 };
	struct svc_issued is = { 0 };
	char msg[ERR_MSG_MAX];
	int rc = -1;

	if (api_decode_renew(r->body, r->body_len, &b, e) == -1) {
		api_refused(r, r->actor.cert.serial, e);
		goto out;
	}
	if (svc_renew(r->svc, &r->actor, b.csr, b.csr_len, &is, e) == -1) {
		/*
		 * svc_renew refuses a rekey CSR with other names as an
		 * invalid request; the contract (SPEC section 6) answers
		 * it with 403 name_not_allowed.
		 */
		if (b.csr != NULL && e->code == ERR_INVALID_REQUEST) {
			snprintf(msg, sizeof(msg), "%s", e->msg);
			err_set(e, ERR_NAME_NOT_ALLOWED, "%s", msg);
		}
		goto out;
	}
	rc = api_enc_issued(&is, out, e);
out:
	svc_issued_clear(&is);
	api_renew_body_free(&b);
	return rc;
}
