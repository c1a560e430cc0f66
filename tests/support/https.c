/*
 * The tests' HTTP(S) client over libcurl (https.h): the one copy of the
 * request set-up, the bounded answer buffers and the header lookup the
 * api tests share.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "https.h"

/* Streams a fixed number of spaces for chunked uploads. */
struct upload {
	size_t	left;
};

struct thc_resp *
thc_resp_new(void)
{
	struct thc_resp *r = calloc(1, sizeof(*r));

	if (r == NULL)
		abort();
	return r;
}

/*
 * Append len bytes of p to buf (cap bytes, *used so far), cut to fit
 * and kept NUL-terminated; returns len (curl's "all taken").
 */
static size_t
append(char *buf, size_t cap, size_t *used, const char *p, size_t len)
{
	size_t take = len;

	if (take > cap - 1 - *used)
		take = cap - 1 - *used;
	memcpy(buf + *used, p, take);
	*used += take;
	buf[*used] = '\0';
	return len;
}

static size_t
on_body(char *p, size_t sz, size_t n, void *u)
{
	struct thc_resp *r = u;

	return append(r->body, sizeof(r->body), &r->len, p, sz * n);
}

static size_t
on_header(char *p, size_t sz, size_t n, void *u)
{
	struct thc_resp *r = u;

	return append(r->hdrs, sizeof(r->hdrs), &r->hlen, p, sz * n);
}

static size_t
on_read(char *p, size_t sz, size_t n, void *u)
{
	struct upload *up = u;
	size_t len = sz * n;

	if (len > up->left)
		len = up->left;
	memset(p, ' ', len);
	up->left -= len;
	return len;
}

/* The request's header lines (new, curl_slist_free_all). */
static struct curl_slist *
headers(const struct thc_req *q)
{
	struct curl_slist *h = NULL;
	char line[512];

	h = curl_slist_append(h, "Expect:");
	if (q->token != NULL) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s",
		    q->token);
		h = curl_slist_append(h, line);
	}
	if (q->ctype != NULL) {
		snprintf(line, sizeof(line), "Content-Type: %s", q->ctype);
		h = curl_slist_append(h, line);
	}
	if (q->extra != NULL)
		h = curl_slist_append(h, q->extra);
	if (q->chunked > 0)
		h = curl_slist_append(h, "Transfer-Encoding: chunked");
	if (h == NULL)
		abort();
	return h;
}

/* The TLS side of q on cu: trust, client pair, versions offered. */
static void
tls_options(CURL *cu, const struct thc_req *q)
{
	if (q->cacert != NULL)
		curl_easy_setopt(cu, CURLOPT_CAINFO, q->cacert);
	if (q->cert != NULL) {
		curl_easy_setopt(cu, CURLOPT_SSLCERT, q->cert);
		curl_easy_setopt(cu, CURLOPT_SSLKEY, q->key);
	}
	if (q->tls_min != 0 || q->tls_max != 0) {
		/* Let the client offer old versions: the server refuses. */
		curl_easy_setopt(cu, CURLOPT_SSL_CIPHER_LIST,
		    "DEFAULT@SECLEVEL=0");
		curl_easy_setopt(cu, CURLOPT_SSLVERSION, q->tls_min |
		    q->tls_max);
	}
}

CURLcode
thc_perform(CURL *cu, const struct thc_req *q, struct thc_resp *r)
{
	struct curl_slist *h;
	struct upload up = { q->chunked };
	CURL *own = NULL;
	char u[1024];
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	if (snprintf(u, sizeof(u), "%s%s", q->url, q->path != NULL ?
	    q->path : "") >= (int)sizeof(u))
		return CURLE_URL_MALFORMAT;
	if (cu == NULL) {
		if ((cu = own = curl_easy_init()) == NULL)
			return CURLE_FAILED_INIT;
	} else
		curl_easy_reset(cu);
	h = headers(q);
	curl_easy_setopt(cu, CURLOPT_URL, u);
	if (q->method != NULL)
		curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, q->method);
	curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(cu, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(cu, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(cu, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(cu, CURLOPT_TIMEOUT_MS, q->timeout_ms > 0 ?
	    q->timeout_ms : 60000L);
	if (q->no_reuse)
		curl_easy_setopt(cu, CURLOPT_FORBID_REUSE, 1L);
	if (q->chunked > 0) {
		curl_easy_setopt(cu, CURLOPT_POST, 1L);
		curl_easy_setopt(cu, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(cu, CURLOPT_READDATA, &up);
	} else if (q->body != NULL) {
		curl_easy_setopt(cu, CURLOPT_POSTFIELDS, q->body);
		curl_easy_setopt(cu, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(q->body));
	}
	curl_easy_setopt(cu, CURLOPT_HTTPHEADER, h);
	tls_options(cu, q);
	rc = curl_easy_perform(cu);
	curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &r->status);
	/* The list must outlive the transfer only: drop it from cu. */
	curl_easy_setopt(cu, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(h);
	curl_easy_cleanup(own);
	return rc;
}

long
thc_call(const struct thc_req *q, struct thc_resp *r)
{
	CURLcode rc = thc_perform(NULL, q, r);

	if (rc != CURLE_OK)
		fail_msg("%s %s%s: %s", q->method != NULL ? q->method : "GET",
		    q->url, q->path != NULL ? q->path : "",
		    curl_easy_strerror(rc));
	return r->status;
}

long
thc_req(const char *method, const char *base, const char *path,
    const char *token, const char *body, struct thc_resp *r)
{
	struct thc_req q = { .method = method, .url = base, .path = path,
	    .token = token, .body = body,
	    .ctype = body != NULL ? "application/json" : NULL };

	return thc_call(&q, r);
}

const char *
thc_header(const struct thc_resp *r, const char *name)
{
	static char v[256];
	size_t n = strlen(name), k;
	const char *p = r->hdrs, *s, *end;

	v[0] = '\0';
	for (; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p != NULL ?
	    p + 1 : NULL) {
		if (strncasecmp(p, name, n) != 0 || p[n] != ':')
			continue;
		for (s = p + n + 1; *s == ' '; s++)
			;
		end = strpbrk(s, "\r\n");
		k = end != NULL ? (size_t)(end - s) : strlen(s);
		if (k >= sizeof(v))
			k = sizeof(v) - 1;
		memcpy(v, s, k);
		v[k] = '\0';
		break;
	}
	return v;
}

json_t *
thc_json(const struct thc_resp *r)
{
	json_t *v = json_loadb(r->body, r->len, 0, NULL);

	if (v == NULL)
		fail_msg("not JSON: %.200s", r->body);
	return v;
}

void
thc_expect_status(const struct thc_resp *r, long want)
{
	if (r->status != want)
		fail_msg("want HTTP %ld, got %ld: %.300s", want, r->status,
		    r->body);
}

void
thc_expect_code(const struct thc_resp *r, const char *code)
{
	json_t *v = thc_json(r);
	const char *c = NULL;

	assert_int_equal(json_unpack(v, "{s:{s:s}}", "error", "code", &c), 0);
	if (strcmp(c, code) != 0)
		fail_msg("want %s, got %s: %s", code, c, r->body);
	json_decref(v);
}

void
thc_expect_error(const struct thc_resp *r, long status, const char *code,
    const char *part)
{
	json_t *v;
	const char *c = NULL, *m = NULL;

	thc_expect_status(r, status);
	v = thc_json(r);
	assert_int_equal(json_unpack(v, "{s:{s:s, s:s}}", "error", "code", &c,
	    "message", &m), 0);
	if (strcmp(c, code) != 0)
		fail_msg("want %s, got %s: %s", code, c, r->body);
	if (part != NULL && strstr(m, part) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", m, part);
	json_decref(v);
}
