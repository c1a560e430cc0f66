/*
 * The CA certificate and the CRL, served to anyone (both listeners).
 * The CRL comes from the service's current version, shared with the
 * response (no copy), with ETag and Last-Modified; a matching
 * If-None-Match gets 304.
 */
#include <string.h>

#include "api_priv.h"
#include "timeutil.h"

#define PEM_TYPE	"application/x-pem-file"

/* GET /v1/ca.  200 {"certificate", "not_after", "fingerprint_sha256",
 * "key_type"}; 500. */
int
api_h_ca(struct api_req *r, struct api_resp *out, struct err *e)
{
	struct svc_ca_info ci;
	char na[RCA_TIME_STR];
	int rc;

	svc_ca_info(r->svc, &ci);
	tu_format(ci.not_after, na);
	rc = api_resp_json(out, 200, json_pack("{s:s,s:s,s:s,s:s}",
	    "certificate", ci.pem, "not_after", na, "fingerprint_sha256",
	    ci.fingerprint, "key_type", key_type_name(ci.key_type)), e);
	svc_ca_info_clear(&ci);
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

/* MHD is done with a CRL response: drop its reference. */
static void
crl_release(void *ref)
{
	svc_crl_unref(ref);
}

/* True when the If-None-Match list names etag (or is "*"). */
static bool
etag_matches(const char *inm, const char *etag)
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

/* Serve the current CRL as DER or PEM. */
static int
serve_crl(struct api_req *r, struct api_resp *out, bool pem, struct err *e)
{
	struct svc_crl c = { 0 };
	int rc = -1;

	if ((pem ? svc_crl_current(r->svc, NULL, &c, e) :
	    svc_crl_current_der(r->svc, NULL, &c, e)) == -1)
		goto out;
	if (etag_matches(api_header(r, "If-None-Match"), c.etag))
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

/* GET /v1/crl.  200 application/pkix-crl; 304; 500. */
int
api_h_crl(struct api_req *r, struct api_resp *out, struct err *e)
{
	return serve_crl(r, out, false, e);
}

/* GET /v1/crl.pem.  200 application/x-pem-file; 304; 500. */
int
api_h_crl_pem(struct api_req *r, struct api_resp *out, struct err *e)
{
	return serve_crl(r, out, true, e);
}
