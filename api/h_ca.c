/*
 * The CAs, the trust bundle and the CRLs, served to anyone (both
 * listeners).  The CA certificate, the bundle and each CRL come from the
 * service's current snapshot or publication, shared with the response
 * (no copy, a reference dropped when MHD is done), with an ETag; a
 * matching If-None-Match gets 304.
 */
#include <stdio.h>
#include <string.h>

#include "api_ca.h"
#include "timeutil.h"

#define PEM_TYPE	"application/x-pem-file"

/*
 * GET /v1/ca.  200 {"certificate", "not_after", "fingerprint_sha256",
 * "key_type" (the current CA), "current", "next", "retired",
 * "bundle_etag"}; 500.
 */
int
api_h_ca(struct api_req *r, struct api_resp *out, struct err *e)
{
	struct svc_ca_view v;
	int rc = -1;

	memset(&v, 0, sizeof(v));
	if (svc_ca_view(r->svc, &v, e) == -1)
		goto out;
	rc = api_resp_json(out, 200, api_enc_ca_body(&v), e);
out:
	svc_ca_view_clear(&v);
	return rc;
}

/* GET /v1/ca.pem.  200 application/x-pem-file; 500. */
int
api_h_ca_pem(struct api_req *r, struct api_resp *out, struct err *e)
{
	struct svc_ca_info ci;

	(void)e;
	svc_ca_info(r->svc, &ci);
	/* Sent without a copy: the CA snapshot lives until MHD is done. */
	api_resp_shared(out, 200, PEM_TYPE, ci.pem, strlen(ci.pem),
	    svc_ca_ref_put, ci.ref);
	return 0;
}

/*
 * GET /v1/ca/bundle.pem.  200 application/x-pem-file (the anchors of
 * every CA in the bundle) with its ETag; 304.
 */
int
api_h_ca_bundle(struct api_req *r, struct api_resp *out, struct err *e)
{
	struct svc_bundle b;

	(void)e;
	svc_bundle_get(r->svc, &b);
	snprintf(out->etag, sizeof(out->etag), "%s", b.etag);
	if (api_etag_matches(api_header(r, "If-None-Match"), b.etag)) {
		api_resp_empty(out, 304);
		svc_bundle_unref(&b);
	} else
		/* The snapshot's PEM, held by the response until sent. */
		api_resp_shared(out, 200, PEM_TYPE, b.pem, b.len,
		    svc_ca_ref_put, b.ref);
	return 0;
}

/* MHD is done with a CRL response: drop its reference. */
static void
crl_release(void *ref)
{
	svc_crl_unref(ref);
}

bool
api_etag_matches(const char *inm, const char *etag)
{
	const char *p;
	size_t n = strlen(etag);

	if (inm == NULL || n == 0)
		return false;
	if (strcmp(inm, "*") == 0)
		return true;
	/* A weak validator (W/"...") matches too: If-None-Match is weak. */
	for (p = strstr(inm, etag); p != NULL; p = strstr(p + 1, etag)) {
		char after = p[n];

		if (after == '\0' || after == ',' || after == ' ' ||
		    after == '\t')
			return true;
	}
	return false;
}

/* Serve the CRL of the CA ski (NULL: the current one) as DER or PEM. */
static int
serve_crl(struct api_req *r, const char *ski, struct api_resp *out,
    bool pem, struct err *e)
{
	struct svc_crl c = { 0 };
	int rc = -1;

	if ((pem ? svc_crl_current(r->svc, ski, &c, e) :
	    svc_crl_current_der(r->svc, ski, &c, e)) == -1)
		goto out;
	if (api_etag_matches(api_header(r, "If-None-Match"), c.etag))
		api_resp_empty(out, 304);
	else {
		/* The response holds the reference: no copy per request. */
		api_resp_shared(out, 200, pem ? PEM_TYPE :
		    "application/pkix-crl", pem ? (const void *)c.pem :
		    (const void *)c.der, pem ? c.pem_len : c.der_len,
		    crl_release, c.ref);
		c.ref = NULL;
	}
	memcpy(out->etag, c.etag, sizeof(out->etag));
	out->etag[sizeof(out->etag) - 1] = '\0';
	api_http_date(c.this_update, out->last_modified);
	rc = 0;
out:
	svc_crl_clear(&c);
	return rc;
}

/* GET /v1/crl.  200 application/pkix-crl (the current CA's); 304; 500. */
int
api_h_crl(struct api_req *r, struct api_resp *out, struct err *e)
{
	return serve_crl(r, NULL, out, false, e);
}

/* GET /v1/crl.pem.  200 application/x-pem-file; 304; 500. */
int
api_h_crl_pem(struct api_req *r, struct api_resp *out, struct err *e)
{
	return serve_crl(r, NULL, out, true, e);
}

/* The CRL of the CA named by the {ski} parameter, DER or PEM. */
static int
serve_crl_ski(struct api_req *r, struct api_resp *out, bool pem,
    struct err *e)
{
	char ski[RCA_SKI_HEX_MAX + 1];

	if (api_decode_ski(r->params.v[0], ski, e) == -1)
		return -1;
	return serve_crl(r, ski, out, pem, e);
}

/*
 * GET /v1/crl/{ski}.  200 application/pkix-crl (the CRL of that CA,
 * while it is in the bundle); 304; 400 invalid_request (not a SKI); 404
 * not_found (no such CA, or pending or gone); 500.
 */
int
api_h_crl_ski(struct api_req *r, struct api_resp *out, struct err *e)
{
	return serve_crl_ski(r, out, false, e);
}

/* GET /v1/crl/{ski}.pem.  As GET /v1/crl/{ski}, in PEM. */
int
api_h_crl_ski_pem(struct api_req *r, struct api_resp *out, struct err *e)
{
	return serve_crl_ski(r, out, true, e);
}
