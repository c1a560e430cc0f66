/*
 * Enroll's requests to the CA: one HTTPS POST through libcurl, and the
 * enrollment (token) and renewal (mTLS) built on it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "ca.h"
#include "enroll.h"
#include "enroll_int.h"
#include "fileio.h"
#include "timeutil.h"

/* Network timeouts of one request to the CA, in seconds. */
#define ENROLL_CONNECT_TIMEOUT	10
#define ENROLL_REQUEST_TIMEOUT	30

/* ------------------------------------------------------------------ */
/* HTTPS to the CA (libcurl)                                           */

struct http_body {
	char	*p;		/* owned */
	size_t	 len;
	bool	 too_big;
};

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct http_body *b = ud;
	size_t n = size * nmemb;
	char *np;

	if (n > ENROLL_MAX_RESPONSE_BYTES - b->len) {
		b->too_big = true;
		return 0;
	}
	if ((np = realloc(b->p, b->len + n + 1)) == NULL)
		return 0;
	b->p = np;
	memcpy(b->p + b->len, ptr, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

struct http_req {
	const struct enroll_opts *o;
	const char	*path;		/* "/v1/certificates" */
	const char	*token;		/* bearer token, or NULL */
	const char	*cert;		/* client cert file, or NULL */
	const char	*key;		/* its key file */
	const char	*body;		/* JSON; NULL: a GET */
	const char	*if_none_match;	/* GET: an ETag, or NULL */
	char		*etag;		/* GET: the answer's ETag, or NULL */
};

/* Keep the ETag header of the answer (r->etag, ENROLL_ETAG_MAX). */
static size_t
on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct http_req *r = ud;
	size_t n = size * nmemb, v;

	if (r->etag == NULL || n < 5 || strncasecmp(ptr, "ETag:", 5) != 0)
		return n;
	for (v = 5; v < n && (ptr[v] == ' ' || ptr[v] == '\t'); v++)
		;
	while (n > v && (ptr[n - 1] == '\r' || ptr[n - 1] == '\n' ||
	    ptr[n - 1] == ' '))
		n--;
	if (n - v < ENROLL_ETAG_MAX) {
		memcpy(r->etag, ptr + v, n - v);
		r->etag[n - v] = '\0';
	}
	return size * nmemb;
}

/* Map a libcurl failure to one clear line. */
static void
curl_error(const struct http_req *r, CURLcode cc, const char *errbuf,
    bool too_big, struct err *e)
{
	const char *why = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc);

	switch (cc) {
	case CURLE_WRITE_ERROR:
		if (too_big) {
			err_set(e, ERR_NET, "the CA's response is larger "
			    "than %d bytes", ENROLL_MAX_RESPONSE_BYTES);
			break;
		}
		err_set(e, ERR_NET, "reading the CA's response: %s", why);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		err_set(e, ERR_NET, "the CA's TLS certificate is not trusted "
		    "(--cacert %s, %s/ca.pem): %s", r->o->cacert, r->o->out,
		    why);
		break;
	case CURLE_SSL_CACERT_BADFILE:
		err_set(e, ERR_NET, "cannot use --cacert %s: %s",
		    r->o->cacert, why);
		break;
	case CURLE_SSL_CERTPROBLEM:
		err_set(e, ERR_NET, "cannot use the client certificate %s: "
		    "%s", r->cert != NULL ? r->cert : "", why);
		break;
	case CURLE_SSL_CONNECT_ERROR:
		err_set(e, ERR_NET, "TLS handshake with the CA at %.*s "
		    "failed: %s", (int)r->o->url_len, r->o->url, why);
		break;
	default:
		err_set(e, ERR_NET, "CA unreachable at %.*s: %s",
		    (int)r->o->url_len, r->o->url, why);
		break;
	}
}

/*
 * The request's headers into *hdrs (new, curl_slist_free_all()); the
 * bearer token's header is written in auth (authsz bytes, wiped by the
 * caller).  Errors: ERR_INTERNAL (out of memory).
 */
static int
make_headers(const struct http_req *r, char *auth, size_t authsz,
    struct curl_slist **hdrs, struct err *e)
{
	static const char *const fixed[] = { "Content-Type: application/json",
	    "Accept: application/json", "Expect:" };
	char inm[32 + ENROLL_ETAG_MAX];
	struct curl_slist *h;

	*hdrs = NULL;
	/* A GET (the bundle) sends no body and takes PEM. */
	for (size_t i = r->body == NULL ? 2 : 0;
	    i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if ((h = curl_slist_append(*hdrs, fixed[i])) == NULL)
			goto oom;
		*hdrs = h;
	}
	if (r->if_none_match != NULL && r->if_none_match[0] != '\0') {
		snprintf(inm, sizeof(inm), "If-None-Match: %s",
		    r->if_none_match);
		if ((h = curl_slist_append(*hdrs, inm)) == NULL)
			goto oom;
		*hdrs = h;
	}
	if (r->token != NULL) {
		snprintf(auth, authsz, "Authorization: Bearer %s", r->token);
		if ((h = curl_slist_append(*hdrs, auth)) == NULL)
			goto oom;
		*hdrs = h;
	}
	return 0;
oom:
	err_set(e, ERR_INTERNAL, "out of memory");
	return -1;
}

/*
 * Only https, only the given CA, peer and host verified, TLS 1.2+, no
 * redirects (a redirect would carry the token elsewhere), and bounded
 * in time and size; with r's client certificate when it has one.
 * Errors: ERR_INTERNAL.
 */
static int
set_options(CURL *c, struct http_req *r, const char *url,
    struct curl_slist *hdrs, char *errbuf, struct http_body *b,
    struct curl_blob *trust, struct err *e)
{
	if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CAINFO, NULL) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, trust) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CAPATH, NULL) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSLVERSION,
	    (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
	    (long)ENROLL_CONNECT_TIMEOUT) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT,
	    (long)ENROLL_REQUEST_TIMEOUT) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, "redis-ca-enroll") !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HEADERDATA, r) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, b) != CURLE_OK) {
		err_set(e, ERR_INTERNAL, "libcurl: cannot set an option");
		return -1;
	}
	if (r->body != NULL &&
	    (curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
	    (long)strlen(r->body)) != CURLE_OK)) {
		err_set(e, ERR_INTERNAL, "libcurl: cannot set an option");
		return -1;
	}
	if (r->cert != NULL &&
	    (curl_easy_setopt(c, CURLOPT_SSLCERT, r->cert) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSLKEY, r->key) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM") != CURLE_OK)) {
		err_set(e, ERR_INTERNAL, "libcurl: cannot set the client "
		    "certificate");
		return -1;
	}
	return 0;
}

/*
 * POST r->body to the CA (a GET when it is NULL), trusting --cacert and
 * the bundle in ca.pem.  *status and *resp (new, free(); NUL
 * terminated) receive the HTTP answer whatever its status.
 * Errors: ERR_NET (unreachable, TLS, oversize answer), ERR_IO (cannot
 * read --cacert), ERR_INTERNAL.
 */
static int
http_do(struct http_req *r, long *status, char **resp, size_t *resp_len,
    struct err *e)
{
	char url[RCA_MAX_URI_LEN + 64];
	char auth[32 + ENROLL_MAX_TOKEN_LEN];
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *hdrs = NULL;
	struct http_body b = { NULL, 0, false };
	struct curl_blob trust = { NULL, 0, CURL_BLOB_NOCOPY };
	char *trust_pem = NULL;
	CURL *c = NULL;
	CURLcode cc;
	int rc = -1;

	*resp = NULL;
	*resp_len = 0;
	*status = 0;
	errbuf[0] = '\0';
	auth[0] = '\0';
	if (snprintf(url, sizeof(url), "%.*s%s", (int)r->o->url_len,
	    r->o->url, r->path) >= (int)sizeof(url)) {
		err_set(e, ERR_INTERNAL, "URL too long");
		goto out;
	}
	if ((c = curl_easy_init()) == NULL) {
		err_set(e, ERR_INTERNAL, "libcurl: cannot create a handle");
		goto out;
	}
	if (enroll_trust_pem(r->o, &trust_pem, &trust.len, e) == -1)
		goto out;
	trust.data = trust_pem;
	if (make_headers(r, auth, sizeof(auth), &hdrs, e) == -1 ||
	    set_options(c, r, url, hdrs, errbuf, &b, &trust, e) == -1)
		goto out;
	if ((cc = curl_easy_perform(c)) != CURLE_OK) {
		curl_error(r, cc, errbuf, b.too_big, e);
		goto out;
	}
	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status) !=
	    CURLE_OK) {
		err_set(e, ERR_NET, "no HTTP status from the CA");
		goto out;
	}
	if (b.p == NULL && (b.p = calloc(1, 1)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	*resp = b.p;
	*resp_len = b.len;
	b.p = NULL;
	rc = 0;
out:
	fio_wipe(auth, sizeof(auth));
	free(b.p);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	free(trust_pem);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Enrolling and renewing                                              */

/*
 * Generate a key for names, send its CSR to path with the given
 * credential, and install the answer.  On success *cert holds the new
 * certificate (the previous contents are freed).
 */
static int
request_cert(const struct enroll_opts *o, const struct names *names,
    const char *path, const char *token, bool mtls, const char *what,
    struct enroll_cert *cert, struct err *e)
{
	char certf[RCA_MAX_PATH], keyf[RCA_MAX_PATH];
	char ttl[24];
	struct http_req r;
	struct enroll_cert got;
	struct ca_csr *csr = NULL;
	char *key_pem = NULL, *csr_pem = NULL, *body = NULL, *resp = NULL;
	json_t *req = NULL;
	size_t resp_len = 0;
	long status = 0;
	int rc = -1;

	memset(&got, 0, sizeof(got));
	if ((csr = ca_keygen(o->key_type, names, &key_pem, e)) == NULL ||
	    (csr_pem = ca_csr_pem(csr, e)) == NULL)
		goto out;
	if (mtls)
		req = json_pack("{s:s}", "csr", csr_pem);
	else
		req = json_pack("{s:s, s:s}", "csr", csr_pem, "profile",
		    o->profile);
	if (req != NULL && !mtls && o->ttl > 0) {
		tu_format_duration(o->ttl, ttl);
		if (json_object_set_new(req, "ttl", json_string(ttl)) == -1) {
			json_decref(req);
			req = NULL;
		}
	}
	if (req == NULL || (body = json_dumps(req, JSON_COMPACT)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	memset(&r, 0, sizeof(r));
	r.o = o;
	r.path = path;
	r.body = body;
	r.token = token;
	if (mtls) {
		if (enroll_out_path(certf, sizeof(certf), o->out,
		    enroll_out_names[OUT_CERT], "", e) == -1 ||
		    enroll_out_path(keyf, sizeof(keyf), o->out,
		    enroll_out_names[OUT_KEY], "", e) == -1)
			goto out;
		r.cert = certf;
		r.key = keyf;
	}
	if (http_do(&r, &status, &resp, &resp_len, e) == -1)
		goto out;
	if (enroll_parse_response(status, resp, resp_len, &got, e) == -1) {
		if (status != 201) {
			char msg[ERR_MSG_MAX];

			snprintf(msg, sizeof(msg), "%s", e->msg);
			err_set(e, e->code, "%s refused: %s", what, msg);
		}
		goto out;
	}
	if (enroll_install_files(o->out, key_pem, &got, e) == -1)
		goto out;
	enroll_cert_clear(cert);
	*cert = got;
	memset(&got, 0, sizeof(got));
	rc = 0;
out:
	fio_secret_free_str(key_pem);
	enroll_cert_clear(&got);
	json_decref(req);
	free(body);
	free(resp);
	free(csr_pem);
	ca_csr_free(csr);
	return rc;
}

int
enroll_once(const struct enroll_opts *o, struct enroll_cert *cert,
    struct err *e)
{
	char *token = NULL;
	int rc = -1;

	if (enroll_read_token(o, &token, e) == -1)
		goto out;
	if (request_cert(o, &o->names, "/v1/certificates", token, false,
	    "enroll", cert, e) == -1)
		goto out;
	rc = 0;
out:
	fio_secret_free_str(token);
	return rc;
}

int
enroll_renew_once(const struct enroll_opts *o, struct enroll_cert *cert,
    struct err *e)
{
	struct names names = NAMES_INIT;
	int rc = -1;

	/* Copy: request_cert replaces *cert, which owns cert->names. */
	if (names_copy(&names, cert->has_names ? &cert->names : &o->names,
	    e) == -1)
		goto out;
	if (request_cert(o, &names, "/v1/renew", NULL, true, "renewal", cert,
	    e) == -1)
		goto out;
	rc = 0;
out:
	names_clear(&names);
	return rc;
}

int
enroll_post_mtls(const struct enroll_opts *o, const char *path,
    const char *body, long *status, char **resp, size_t *resp_len,
    struct err *e)
{
	char certf[RCA_MAX_PATH], keyf[RCA_MAX_PATH];
	struct http_req r;

	memset(&r, 0, sizeof(r));
	r.o = o;
	r.path = path;
	r.body = body;
	if (enroll_out_path(certf, sizeof(certf), o->out,
	    enroll_out_names[OUT_CERT], "", e) == -1 ||
	    enroll_out_path(keyf, sizeof(keyf), o->out,
	    enroll_out_names[OUT_KEY], "", e) == -1)
		return -1;
	r.cert = certf;
	r.key = keyf;
	return http_do(&r, status, resp, resp_len, e);
}

/* ------------------------------------------------------------------ */
/* Following the trust bundle                                          */

/* True when pem (len bytes) is one or more PEM certificates only. */
static bool
bundle_plausible(const char *pem, size_t len)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";

	if (len < sizeof(begin) || memchr(pem, '\0', len) != NULL)
		return false;
	return strncmp(pem, begin, sizeof(begin) - 1) == 0 &&
	    strstr(pem, "-----BEGIN ") != NULL &&
	    strstr(pem, "PRIVATE KEY") == NULL;
}

/* Does dir/ca.pem hold exactly pem (len bytes)? */
static bool
same_as_ca_pem(const struct enroll_opts *o, const char *pem, size_t len)
{
	char path[RCA_MAX_PATH];
	struct err ignore = { ERR_OK, "" };
	char *cur = NULL;
	size_t clen = 0;
	bool same;

	if (enroll_out_path(path, sizeof(path), o->out, "ca.pem", "",
	    &ignore) == -1 || fio_read_all(path, RCA_MAX_PEM_BYTES, &cur,
	    &clen, &ignore) == -1)
		return false;
	same = clen == len && memcmp(cur, pem, len) == 0;
	free(cur);
	return same;
}

int
enroll_bundle_check(const struct enroll_opts *o, char etag[ENROLL_ETAG_MAX],
    struct err *e)
{
	char path[RCA_MAX_PATH], got[ENROLL_ETAG_MAX] = "";
	struct http_req r;
	char *resp = NULL;
	size_t len = 0;
	long status = 0;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	r.o = o;
	r.path = "/v1/ca/bundle.pem";
	r.if_none_match = etag;
	r.etag = got;
	if (http_do(&r, &status, &resp, &len, e) == -1)
		goto out;
	if (status == 304) {
		rc = 0;
		goto out;
	}
	if (status != 200) {
		err_set(e, status >= 500 || status == 429 || status == 408 ?
		    ERR_NET : ERR_INVALID_REQUEST, "GET /v1/ca/bundle.pem: "
		    "HTTP status %ld", status);
		goto out;
	}
	if (!bundle_plausible(resp, len)) {
		err_set(e, ERR_INVALID_REQUEST, "GET /v1/ca/bundle.pem: the "
		    "answer is not a PEM certificate bundle");
		goto out;
	}
	rc = 0;
	if (!same_as_ca_pem(o, resp, len)) {
		if (enroll_out_path(path, sizeof(path), o->out, "ca.pem", "",
		    e) == -1 || fio_write_atomic(path, resp, len, 0444,
		    e) == -1) {
			rc = -1;
			goto out;
		}
		rc = 1;
	}
	memcpy(etag, got, sizeof(got));
out:
	free(resp);
	return rc;
}
