/*
 * `redis-ca enroll`: generate a key on this host, have the CA sign a CSR
 * for it with a one-time token, write the files atomically, and with
 * --daemon renew through mTLS /v1/renew when a third of the lifetime is
 * left.  The private key never leaves the host; the token is never
 * printed or logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "ca.h"
#include "enroll.h"
#include "fileio.h"
#include "log.h"
#include "timeutil.h"

/* Network timeouts of one request to the CA, in seconds. */
#define ENROLL_CONNECT_TIMEOUT	10
#define ENROLL_REQUEST_TIMEOUT	30
/* Longest server-provided text copied into an error line. */
#define ENROLL_MAX_SERVER_TEXT	160

static const char usage_text[] =
    "usage: redis-ca enroll --url URL --cacert F (--token T | --token-file F)\n"
    "           --profile P --cn NAME [--dns NAME]... [--ip ADDR]...\n"
    "           [--key-type T] [--ttl D] --out DIR [--daemon [--exec CMD]]\n";

/* ------------------------------------------------------------------ */
/* Command line                                                        */

enum enroll_opt {
	OPT_URL,
	OPT_CACERT,
	OPT_TOKEN,
	OPT_TOKEN_FILE,
	OPT_PROFILE,
	OPT_CN,
	OPT_DNS,
	OPT_IP,
	OPT_KEY_TYPE,
	OPT_TTL,
	OPT_OUT,
	OPT_DAEMON,
	OPT_EXEC,
	OPT_HELP,
	OPT__MAX
};

struct opt_def {
	const char	*name;		/* without the leading "--" */
	bool		 value;		/* takes a value */
	bool		 repeat;	/* may be given more than once */
};

static const struct opt_def opt_defs[OPT__MAX] = {
	[OPT_URL] = { "url", true, false },
	[OPT_CACERT] = { "cacert", true, false },
	[OPT_TOKEN] = { "token", true, false },
	[OPT_TOKEN_FILE] = { "token-file", true, false },
	[OPT_PROFILE] = { "profile", true, false },
	[OPT_CN] = { "cn", true, false },
	[OPT_DNS] = { "dns", true, true },
	[OPT_IP] = { "ip", true, true },
	[OPT_KEY_TYPE] = { "key-type", true, false },
	[OPT_TTL] = { "ttl", true, false },
	[OPT_OUT] = { "out", true, false },
	[OPT_DAEMON] = { "daemon", false, false },
	[OPT_EXEC] = { "exec", true, false },
	[OPT_HELP] = { "help", false, false },
};

/*
 * A token goes into an HTTP header: printable ASCII without spaces only,
 * so it can neither break the header nor smuggle another one.
 */
static bool
token_ok(const char *t, size_t len)
{
	size_t i;

	if (len == 0 || len > ENROLL_MAX_TOKEN_LEN)
		return false;
	for (i = 0; i < len; i++)
		if (t[i] <= 0x20 || t[i] >= 0x7f)
			return false;
	return true;
}

/* Apply one option's value to o.  Errors: ERR_USAGE naming the option. */
static int
apply_opt(enum enroll_opt id, const char *v, struct enroll_opts *o,
    struct err *e)
{
	struct err ne = { ERR_OK, "" };
	size_t len = strlen(v);

	switch (id) {
	case OPT_URL:
		if (strncasecmp(v, "https://", 8) != 0 || len <= 8) {
			err_set(e, ERR_USAGE, "--url must be an https:// URL");
			return -1;
		}
		if (len > RCA_MAX_URI_LEN || strpbrk(v, " \t\r\n") != NULL) {
			err_set(e, ERR_USAGE, "--url is not a valid URL");
			return -1;
		}
		o->url = v;
		while (len > 8 && v[len - 1] == '/')
			len--;
		o->url_len = len;
		break;
	case OPT_CACERT:
		if (len == 0) {
			err_set(e, ERR_USAGE, "--cacert needs a file");
			return -1;
		}
		o->cacert = v;
		break;
	case OPT_TOKEN:
		if (!token_ok(v, len)) {
			err_set(e, ERR_USAGE, "--token is not a valid token");
			return -1;
		}
		o->token = v;
		break;
	case OPT_TOKEN_FILE:
		if (len == 0) {
			err_set(e, ERR_USAGE, "--token-file needs a file");
			return -1;
		}
		o->token_file = v;
		break;
	case OPT_PROFILE:
		if (len == 0 || len > RCA_MAX_PROFILE_NAME) {
			err_set(e, ERR_USAGE, "--profile: bad profile name");
			return -1;
		}
		o->profile = v;
		break;
	case OPT_CN:
		if (len == 0 || names_set_cn(&o->names, v, &ne) == -1) {
			err_set(e, ERR_USAGE, "--cn: bad common name%s%s",
			    ne.msg[0] != '\0' ? ": " : "", ne.msg);
			return -1;
		}
		break;
	case OPT_DNS:
		if (!names_is_dns(v) ||
		    names_add(&o->names, NAME_DNS, v, &ne) == -1) {
			err_set(e, ERR_USAGE, "--dns: '%.*s' is not a usable "
			    "DNS name", RCA_MAX_NAME_LEN, v);
			return -1;
		}
		break;
	case OPT_IP:
		if (!names_is_ip(v) ||
		    names_add(&o->names, NAME_IP, v, &ne) == -1) {
			err_set(e, ERR_USAGE, "--ip: '%.*s' is not a usable IP "
			    "address", 64, v);
			return -1;
		}
		break;
	case OPT_KEY_TYPE:
		if (key_type_parse(v, &o->key_type) == -1) {
			err_set(e, ERR_USAGE, "--key-type: unknown key type "
			    "'%.*s' (ec-p256, ec-p384, rsa-2048, rsa-3072, "
			    "rsa-4096)", 32, v);
			return -1;
		}
		break;
	case OPT_TTL:
		if (tu_parse_duration(v, &o->ttl, &ne) == -1) {
			err_set(e, ERR_USAGE, "--ttl: bad duration '%.*s' "
			    "(e.g. 90s, 30m, 24h, 7d)", 32, v);
			return -1;
		}
		break;
	case OPT_OUT:
		if (len == 0 || len > RCA_MAX_PATH - 32) {
			err_set(e, ERR_USAGE, "--out: bad folder name");
			return -1;
		}
		o->out = v;
		break;
	case OPT_EXEC:
		o->exec = v;
		break;
	case OPT_DAEMON:
		o->daemon = true;
		break;
	case OPT_HELP:
		o->help = true;
		break;
	case OPT__MAX:
		err_set(e, ERR_USAGE, "unknown option");
		return -1;
	}
	return 0;
}

int
enroll_parse_args(int argc, char **argv, struct enroll_opts *o,
    struct err *e)
{
	bool seen[OPT__MAX] = { false };
	int i, rc = -1;

	memset(o, 0, sizeof(*o));
	o->key_type = KEY_EC_P256;
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *name, *eq, *v = NULL;
		size_t nlen;
		int id;

		if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
			err_set(e, ERR_USAGE, "unexpected argument '%.*s'", 64,
			    arg);
			goto out;
		}
		name = arg + 2;
		eq = strchr(name, '=');
		nlen = eq != NULL ? (size_t)(eq - name) : strlen(name);
		for (id = 0; id < OPT__MAX; id++)
			if (strlen(opt_defs[id].name) == nlen &&
			    strncmp(opt_defs[id].name, name, nlen) == 0)
				break;
		if (id == OPT__MAX) {
			err_set(e, ERR_USAGE, "unknown option '--%.*s'",
			    (int)(nlen > 64 ? 64 : nlen), name);
			goto out;
		}
		if (seen[id] && !opt_defs[id].repeat) {
			err_set(e, ERR_USAGE, "--%s given twice",
			    opt_defs[id].name);
			goto out;
		}
		seen[id] = true;
		if (opt_defs[id].value) {
			if (eq != NULL)
				v = eq + 1;
			else if (i + 1 < argc)
				v = argv[++i];
			else {
				err_set(e, ERR_USAGE, "--%s needs a value",
				    opt_defs[id].name);
				goto out;
			}
		} else if (eq != NULL) {
			err_set(e, ERR_USAGE, "--%s takes no value",
			    opt_defs[id].name);
			goto out;
		}
		if (apply_opt((enum enroll_opt)id, v != NULL ? v : "", o,
		    e) == -1)
			goto out;
	}
	if (o->help) {
		rc = 0;
		goto out;
	}
	if (o->url == NULL || o->cacert == NULL || o->profile == NULL ||
	    o->names.cn == NULL || o->out == NULL) {
		err_set(e, ERR_USAGE, "missing %s",
		    o->url == NULL ? "--url" : o->cacert == NULL ? "--cacert" :
		    o->profile == NULL ? "--profile" :
		    o->names.cn == NULL ? "--cn" : "--out");
		goto out;
	}
	if ((o->token == NULL) == (o->token_file == NULL)) {
		err_set(e, ERR_USAGE, "give exactly one of --token and "
		    "--token-file");
		goto out;
	}
	if (o->exec != NULL && !o->daemon) {
		err_set(e, ERR_USAGE, "--exec needs --daemon");
		goto out;
	}
	/* An empty --exec means none (so a unit file can pass "--exec="). */
	if (o->exec != NULL && o->exec[0] == '\0')
		o->exec = NULL;
	rc = 0;
out:
	if (rc == -1)
		enroll_opts_clear(o);
	return rc;
}

void
enroll_opts_clear(struct enroll_opts *o)
{
	if (o == NULL)
		return;
	names_clear(&o->names);
	memset(o, 0, sizeof(*o));
}

/* ------------------------------------------------------------------ */
/* Response bodies and the state file                                  */

void
enroll_cert_clear(struct enroll_cert *c)
{
	if (c == NULL)
		return;
	names_clear(&c->names);
	free(c->cert_pem);
	free(c->chain_pem);
	free(c->ca_pem);
	memset(c, 0, sizeof(*c));
}

/* Copy server text into out, replacing control bytes, bounded. */
static void
sanitize(char *out, size_t outsz, const char *in)
{
	size_t i, n = 0;

	for (i = 0; in[i] != '\0' && n + 1 < outsz &&
	    n < ENROLL_MAX_SERVER_TEXT; i++) {
		unsigned char ch = (unsigned char)in[i];

		out[n++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	out[n] = '\0';
}

static bool
serial_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > RCA_SERIAL_HEX_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Add the strings of JSON array arr (may be NULL) to list k of n. */
static int
add_name_list(struct names *n, enum name_kind k, json_t *arr, struct err *e)
{
	struct err ne = { ERR_OK, "" };
	json_t *v;
	size_t i;

	if (arr == NULL || json_is_null(arr))
		return 0;
	if (!json_is_array(arr)) {
		err_set(e, ERR_INVALID_JSON, "sans: a list is not an array");
		return -1;
	}
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) ||
		    names_add(n, k, json_string_value(v), &ne) == -1) {
			err_set(e, ERR_INVALID_JSON, "sans: bad name in the "
			    "CA's response");
			return -1;
		}
	}
	return 0;
}

/*
 * Read a certificate object (the CA's response or the state file) into
 * out; with want_pem the three PEM fields are required.
 */
static int
parse_cert_object(json_t *root, bool want_pem, struct enroll_cert *out,
    struct err *e)
{
	const char *serial = NULL, *nb = NULL, *na = NULL;
	const char *cert = NULL, *chain = NULL, *cap = NULL;
	json_t *cn = NULL, *sans = NULL;
	json_t *dns = NULL, *ip = NULL, *uri = NULL;
	struct err te = { ERR_OK, "" };
	json_error_t je;

	if (json_unpack_ex(root, &je, 0, "{s:s, s:s, s:s, s?o, s?o}",
	    "serial", &serial, "not_before", &nb, "not_after", &na,
	    "common_name", &cn, "sans", &sans) == -1) {
		err_set(e, ERR_INVALID_JSON, "unexpected certificate object: "
		    "%.*s", ENROLL_MAX_SERVER_TEXT, je.text);
		return -1;
	}
	if (!serial_ok(serial)) {
		err_set(e, ERR_INVALID_JSON, "bad serial in the certificate "
		    "object");
		return -1;
	}
	if (tu_parse(nb, &out->not_before, &te) == -1 ||
	    tu_parse(na, &out->not_after, &te) == -1 ||
	    out->not_after <= out->not_before) {
		err_set(e, ERR_INVALID_JSON, "bad not_before/not_after in "
		    "the certificate object");
		return -1;
	}
	snprintf(out->serial, sizeof(out->serial), "%s", serial);
	if (cn != NULL && json_is_string(cn)) {
		if (names_set_cn(&out->names, json_string_value(cn), &te) ==
		    -1) {
			err_set(e, ERR_INVALID_JSON, "bad common_name in the "
			    "certificate object");
			return -1;
		}
		out->has_names = true;
	}
	if (sans != NULL && !json_is_null(sans)) {
		if (json_unpack_ex(sans, &je, 0, "{s?o, s?o, s?o}", "dns",
		    &dns, "ip", &ip, "uri", &uri) == -1) {
			err_set(e, ERR_INVALID_JSON, "bad sans in the "
			    "certificate object");
			return -1;
		}
		if (add_name_list(&out->names, NAME_DNS, dns, e) == -1 ||
		    add_name_list(&out->names, NAME_IP, ip, e) == -1 ||
		    add_name_list(&out->names, NAME_URI, uri, e) == -1)
			return -1;
		out->has_names = true;
	}
	if (!want_pem)
		return 0;
	if (json_unpack_ex(root, &je, 0, "{s:s, s:s, s:s}", "certificate",
	    &cert, "chain", &chain, "ca_certificate", &cap) == -1) {
		err_set(e, ERR_INVALID_JSON, "the CA's response lacks a PEM "
		    "field: %.*s", ENROLL_MAX_SERVER_TEXT, je.text);
		return -1;
	}
	if (strstr(cert, "-----BEGIN CERTIFICATE-----") == NULL ||
	    strstr(chain, "-----BEGIN CERTIFICATE-----") == NULL ||
	    strstr(cap, "-----BEGIN CERTIFICATE-----") == NULL) {
		err_set(e, ERR_INVALID_JSON, "the CA's response holds no "
		    "PEM certificate");
		return -1;
	}
	if ((out->cert_pem = strdup(cert)) == NULL ||
	    (out->chain_pem = strdup(chain)) == NULL ||
	    (out->ca_pem = strdup(cap)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	return 0;
}

/* Turn a refusal (status, error body) into e. */
static void
error_from_body(long status, const char *body, size_t len, struct err *e)
{
	const char *code = NULL, *msg = NULL;
	char scode[64], smsg[ENROLL_MAX_SERVER_TEXT + 1];
	enum err_code ec;
	json_error_t je;
	json_t *root;

	if (status == 401)
		ec = ERR_UNAUTHORIZED;
	else if (status == 403)
		ec = ERR_FORBIDDEN;
	else if (status == 408 || status == 429 || status >= 500)
		ec = ERR_NET;
	else
		ec = ERR_INVALID_REQUEST;
	root = body != NULL && len > 0 ?
	    json_loadb(body, len, JSON_REJECT_DUPLICATES, &je) : NULL;
	if (root != NULL && json_unpack_ex(root, &je, 0,
	    "{s:{s:s, s?s}}", "error", "code", &code, "message", &msg) == 0) {
		sanitize(scode, sizeof(scode), code);
		sanitize(smsg, sizeof(smsg), msg != NULL ? msg : "");
		if (strcmp(code, "name_not_allowed") == 0)
			ec = ERR_NAME_NOT_ALLOWED;
		if (smsg[0] != '\0')
			err_set(e, ec, "%s: %s (HTTP %ld)", scode, smsg,
			    status);
		else
			err_set(e, ec, "%s (HTTP %ld)", scode, status);
	} else
		err_set(e, ec, "HTTP %ld from the CA", status);
	json_decref(root);
}

int
enroll_parse_response(long status, const char *body, size_t len,
    struct enroll_cert *out, struct err *e)
{
	json_t *root = NULL;
	json_error_t je;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (status != 201) {
		error_from_body(status, body, len, e);
		goto out;
	}
	if (body == NULL || (root = json_loadb(body, len,
	    JSON_REJECT_DUPLICATES, &je)) == NULL) {
		err_set(e, ERR_INVALID_JSON, "the CA's response is not JSON");
		goto out;
	}
	if (parse_cert_object(root, true, out, e) == -1)
		goto out;
	rc = 0;
out:
	json_decref(root);
	if (rc == -1)
		enroll_cert_clear(out);
	return rc;
}

/* A JSON array of list k of n (new reference), or NULL. */
static json_t *
name_array(const struct names *n, enum name_kind k)
{
	json_t *a;
	size_t i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < n->n[k]; i++)
		if (json_array_append_new(a, json_string(n->list[k][i])) ==
		    -1) {
			json_decref(a);
			return NULL;
		}
	return a;
}

char *
enroll_state_encode(const struct enroll_cert *c)
{
	char nb[RCA_TIME_STR], na[RCA_TIME_STR];
	json_t *root = NULL;
	char *s = NULL;

	tu_format(c->not_before, nb);
	tu_format(c->not_after, na);
	root = json_pack("{s:s, s:s, s:s}", "serial", c->serial,
	    "not_before", nb, "not_after", na);
	if (root == NULL)
		goto out;
	if (c->has_names) {
		json_t *sans = json_pack("{s:o*, s:o*, s:o*}",
		    "dns", name_array(&c->names, NAME_DNS),
		    "ip", name_array(&c->names, NAME_IP),
		    "uri", name_array(&c->names, NAME_URI));

		if (sans == NULL || json_object_set_new(root, "sans", sans) ==
		    -1 || json_object_set_new(root, "common_name",
		    c->names.cn != NULL ? json_string(c->names.cn) :
		    json_null()) == -1)
			goto out;
	}
	s = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
out:
	json_decref(root);
	return s;
}

int
enroll_state_parse(const char *body, size_t len, struct enroll_cert *out,
    struct err *e)
{
	json_t *root = NULL;
	json_error_t je;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if ((root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL) {
		err_set(e, ERR_INVALID_JSON, "state file is not JSON");
		goto out;
	}
	if (parse_cert_object(root, false, out, e) == -1)
		goto out;
	rc = 0;
out:
	json_decref(root);
	if (rc == -1)
		enroll_cert_clear(out);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Timing                                                              */

int64_t
enroll_renew_at(int64_t not_before, int64_t not_after, uint64_t rnd)
{
	int64_t life = not_after - not_before, at;
	uint64_t span;

	if (life <= 0)
		return not_before;
	span = (uint64_t)(life / 20) + 1;
	at = not_after - life / 3 - (int64_t)(rnd % span);
	return at < not_before ? not_before : at;
}

int64_t
enroll_backoff(unsigned attempt)
{
	int64_t d = ENROLL_BACKOFF_FIRST;

	while (attempt-- > 0 && d < ENROLL_BACKOFF_CAP)
		d *= 2;
	return d > ENROLL_BACKOFF_CAP ? ENROLL_BACKOFF_CAP : d;
}

bool
enroll_err_transient(const struct err *e)
{
	switch (e->code) {
	case ERR_NET:
	case ERR_IO:
	case ERR_CRYPTO:
	case ERR_INVALID_JSON:
	case ERR_INTERNAL:
		return true;
	default:
		return false;
	}
}

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
	const char	*body;		/* JSON */
};

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
		    "(--cacert %s): %s", r->o->cacert, why);
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
 * POST r->body to the CA.  *status and *resp (new, free(); NUL
 * terminated) receive the HTTP answer whatever its status.
 * Errors: ERR_NET (unreachable, TLS, oversize answer), ERR_INTERNAL.
 */
static int
http_post(const struct http_req *r, long *status, char **resp,
    size_t *resp_len, struct err *e)
{
	char url[RCA_MAX_URI_LEN + 64];
	char auth[32 + ENROLL_MAX_TOKEN_LEN];
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *hdrs = NULL, *h;
	struct http_body b = { NULL, 0, false };
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
	h = curl_slist_append(hdrs, "Content-Type: application/json");
	if (h == NULL)
		goto oom;
	hdrs = h;
	if ((h = curl_slist_append(hdrs, "Accept: application/json")) == NULL)
		goto oom;
	hdrs = h;
	if ((h = curl_slist_append(hdrs, "Expect:")) == NULL)
		goto oom;
	hdrs = h;
	if (r->token != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
		    r->token);
		if ((h = curl_slist_append(hdrs, auth)) == NULL)
			goto oom;
		hdrs = h;
	}
	/*
	 * Only https, only the given CA, peer and host verified, TLS 1.2+,
	 * no redirects (a redirect would carry the token elsewhere), and
	 * bounded in time and size.
	 */
	if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CAINFO, r->o->cacert) != CURLE_OK ||
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
	    curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
	    (long)strlen(r->body)) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b) != CURLE_OK) {
		err_set(e, ERR_INTERNAL, "libcurl: cannot set an option");
		goto out;
	}
	if (r->cert != NULL &&
	    (curl_easy_setopt(c, CURLOPT_SSLCERT, r->cert) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSLKEY, r->key) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM") != CURLE_OK)) {
		err_set(e, ERR_INTERNAL, "libcurl: cannot set the client "
		    "certificate");
		goto out;
	}
	if ((cc = curl_easy_perform(c)) != CURLE_OK) {
		curl_error(r, cc, errbuf, b.too_big, e);
		goto out;
	}
	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status) !=
	    CURLE_OK) {
		err_set(e, ERR_NET, "no HTTP status from the CA");
		goto out;
	}
	if (b.p == NULL && (b.p = calloc(1, 1)) == NULL)
		goto oom;
	*resp = b.p;
	*resp_len = b.len;
	b.p = NULL;
	rc = 0;
	goto out;
oom:
	err_set(e, ERR_INTERNAL, "out of memory");
out:
	fio_wipe(auth, sizeof(auth));
	free(b.p);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Files                                                               */

/* The files of one certificate, in the order they are committed. */
enum out_file {
	OUT_KEY,	/* key.pem, 0400 */
	OUT_CHAIN,	/* chain.pem, 0444 */
	OUT_STATE,	/* enroll.json, 0644 */
	OUT_CERT,	/* cert.pem, 0444: written last, its .next commits */
	OUT__MAX
};

static const char *const out_names[OUT__MAX] = {
	[OUT_KEY] = "key.pem",
	[OUT_CHAIN] = "chain.pem",
	[OUT_STATE] = "enroll.json",
	[OUT_CERT] = "cert.pem",
};

static const mode_t out_modes[OUT__MAX] = {
	[OUT_KEY] = 0400,
	[OUT_CHAIN] = 0444,
	[OUT_STATE] = 0644,
	[OUT_CERT] = 0444,
};

static int
out_path(char *buf, size_t sz, const char *dir, const char *name,
    const char *suffix, struct err *e)
{
	if (snprintf(buf, sz, "%s/%s%s", dir, name, suffix) >= (int)sz) {
		err_set(e, ERR_IO, "%s: path too long", dir);
		return -1;
	}
	return 0;
}

static void
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/*
 * Take dir/enroll.lock (flock, exclusive, not waiting) so that two
 * enroll processes never replace the same files at once.  Returns the
 * descriptor holding the lock.  Errors: ERR_CONFLICT, ERR_IO.
 */
static int
lock_dir(const char *dir, struct err *e)
{
	char path[RCA_MAX_PATH];
	int fd;

	if (out_path(path, sizeof(path), dir, "enroll.lock", "", e) == -1)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		err_set(e, errno == EWOULDBLOCK ? ERR_CONFLICT : ERR_IO,
		    "%s is in use by another redis-ca enroll", dir);
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Finish or undo a replacement a crash interrupted.  cert.pem.next
 * exists only once every .next file is complete, so when it is there
 * the new set is moved into place; otherwise the partial set is removed
 * and the previous files stay.
 */
int
enroll_recover_files(const char *dir, struct err *e)
{
	char next[RCA_MAX_PATH], path[RCA_MAX_PATH];
	bool commit;
	int i;

	if (out_path(next, sizeof(next), dir, out_names[OUT_CERT], ".next",
	    e) == -1)
		return -1;
	commit = access(next, F_OK) == 0;
	for (i = 0; i < OUT__MAX; i++) {
		if (out_path(next, sizeof(next), dir, out_names[i], ".next",
		    e) == -1 || out_path(path, sizeof(path), dir,
		    out_names[i], "", e) == -1)
			return -1;
		if (access(next, F_OK) != 0)
			continue;
		if (commit) {
			if (rename(next, path) == -1) {
				err_set(e, ERR_IO, "%s: %s", path,
				    strerror(errno));
				return -1;
			}
			log_info("enroll: completed an interrupted update "
			    "of %s", path);
		} else
			(void)unlink(next);
	}
	fsync_dir(dir);
	return 0;
}

/* Create dir 0700 when it does not exist; it must be a folder. */
static int
ensure_dir(const char *dir, struct err *e)
{
	struct stat st;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		err_set(e, ERR_IO, "cannot create %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		err_set(e, ERR_IO, "%s is not a folder", dir);
		return -1;
	}
	return 0;
}

/*
 * Install a new key and certificate in dir.  ca.pem is replaced first
 * (it only ever gains trust of the same CA).  Then each of key, chain,
 * state and cert is written completely as NAME.next (temp, fsync,
 * rename: fio_write_atomic), cert last, and the .next files are renamed
 * into place in the same order; enroll_recover_files() finishes the
 * job after a crash, so key.pem and cert.pem always end up a matching
 * pair.
 */
int
enroll_install_files(const char *dir, const char *key_pem,
    const struct enroll_cert *c, struct err *e)
{
	char next[RCA_MAX_PATH], path[RCA_MAX_PATH];
	const char *content[OUT__MAX];
	char *state = NULL;
	int i, rc = -1;

	if ((state = enroll_state_encode(c)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	content[OUT_KEY] = key_pem;
	content[OUT_CHAIN] = c->chain_pem;
	content[OUT_STATE] = state;
	content[OUT_CERT] = c->cert_pem;
	if (ensure_dir(dir, e) == -1 || enroll_recover_files(dir, e) == -1)
		goto out;
	if (out_path(path, sizeof(path), dir, "ca.pem", "", e) == -1 ||
	    fio_write_atomic(path, c->ca_pem, strlen(c->ca_pem), 0444, e) ==
	    -1)
		goto out;
	for (i = 0; i < OUT__MAX; i++)
		if (out_path(next, sizeof(next), dir, out_names[i], ".next",
		    e) == -1 || fio_write_atomic(next, content[i],
		    strlen(content[i]), out_modes[i], e) == -1)
			goto out;
	for (i = 0; i < OUT__MAX; i++) {
		if (out_path(next, sizeof(next), dir, out_names[i], ".next",
		    e) == -1 || out_path(path, sizeof(path), dir,
		    out_names[i], "", e) == -1)
			goto out;
		if (rename(next, path) == -1) {
			err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
			goto out;
		}
	}
	fsync_dir(dir);
	rc = 0;
out:
	if (rc == -1) {
		/* Leave no half set behind unless it is already committed. */
		struct err ignore = { ERR_OK, "" };

		(void)enroll_recover_files(dir, &ignore);
	}
	free(state);
	return rc;
}

/* Read dir/enroll.json; ERR_NOT_FOUND when there is none. */
static int
load_state(const char *dir, struct enroll_cert *c, struct err *e)
{
	char path[RCA_MAX_PATH];
	char *buf = NULL;
	size_t len;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	if (out_path(path, sizeof(path), dir, out_names[OUT_STATE], "", e) ==
	    -1 || fio_read_all(path, RCA_MAX_PEM_BYTES, &buf, &len, e) == -1)
		goto out;
	if (enroll_state_parse(buf, len, c, e) == -1)
		goto out;
	if (out_path(path, sizeof(path), dir, out_names[OUT_CERT], "", e) ==
	    -1)
		goto out;
	if (access(path, R_OK) != 0) {
		err_set(e, ERR_NOT_FOUND, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (out_path(path, sizeof(path), dir, out_names[OUT_KEY], "", e) ==
	    -1)
		goto out;
	if (access(path, R_OK) != 0) {
		err_set(e, ERR_NOT_FOUND, "%s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(buf);
	if (rc == -1)
		enroll_cert_clear(c);
	return rc;
}

/*
 * Read the token (from --token or the first line of --token-file).
 * *tok is new (wipe with fio_wipe() and free).  Errors: ERR_IO,
 * ERR_NOT_FOUND, ERR_USAGE (not a token).
 */
static int
read_token(const struct enroll_opts *o, char **tok, struct err *e)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = -1;

	*tok = NULL;
	if (o->token != NULL) {
		if ((buf = strdup(o->token)) == NULL) {
			err_set(e, ERR_INTERNAL, "out of memory");
			goto out;
		}
		len = cap = strlen(buf);
	} else {
		if (fio_read_all(o->token_file, ENROLL_MAX_TOKEN_LEN + 64,
		    &buf, &len, e) == -1)
			goto out;
		cap = len;
		while (len > 0 && (buf[len - 1] == '\n' ||
		    buf[len - 1] == '\r' || buf[len - 1] == ' ' ||
		    buf[len - 1] == '\t'))
			buf[--len] = '\0';
		if (!token_ok(buf, len)) {
			err_set(e, ERR_USAGE, "%s does not hold a token",
			    o->token_file);
			goto out;
		}
	}
	*tok = buf;
	buf = NULL;
	rc = 0;
out:
	if (buf != NULL) {
		fio_wipe(buf, cap);
		free(buf);
	}
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
		if (out_path(certf, sizeof(certf), o->out,
		    out_names[OUT_CERT], "", e) == -1 ||
		    out_path(keyf, sizeof(keyf), o->out, out_names[OUT_KEY],
		    "", e) == -1)
			goto out;
		r.cert = certf;
		r.key = keyf;
	}
	if (http_post(&r, &status, &resp, &resp_len, e) == -1)
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
	if (key_pem != NULL) {
		fio_wipe(key_pem, strlen(key_pem));
		free(key_pem);
	}
	enroll_cert_clear(&got);
	json_decref(req);
	free(body);
	free(resp);
	free(csr_pem);
	ca_csr_free(csr);
	return rc;
}

/* First enrollment with the token. */
static int
enroll_once(const struct enroll_opts *o, struct enroll_cert *cert,
    struct err *e)
{
	char *token = NULL;
	int rc = -1;

	if (read_token(o, &token, e) == -1)
		goto out;
	if (request_cert(o, &o->names, "/v1/certificates", token, false,
	    "enroll", cert, e) == -1)
		goto out;
	rc = 0;
out:
	if (token != NULL) {
		fio_wipe(token, strlen(token));
		free(token);
	}
	return rc;
}

/* Renew with the current pair (mTLS) and a fresh key for the same names. */
static int
renew_once(const struct enroll_opts *o, struct enroll_cert *cert,
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

/* ------------------------------------------------------------------ */
/* The daemon: signals, --exec, readiness                              */

/*
 * Sleep until epoch time t or a stop signal (SIGTERM/SIGINT, blocked
 * and collected with sigtimedwait).  Returns true when asked to stop.
 * Sleeps in slices so a changed wall clock is noticed.
 */
static bool
wait_until(int64_t t, const sigset_t *stop)
{
	for (;;) {
		int64_t now = tu_now();
		struct timespec ts;
		int sig;

		if (now >= t)
			return false;
		ts.tv_sec = (time_t)(t - now > 60 ? 60 : t - now);
		ts.tv_nsec = 0;
		sig = sigtimedwait(stop, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("enroll: signal %d, stopping", sig);
			return true;
		}
	}
}

/*
 * The environment of --exec: ours, with REDIS_CA_OUT (the folder) and
 * REDIS_CA_SERIAL (the new certificate) set.  Built before fork(), so
 * the child only calls async-signal-safe functions.  Returns a new
 * array (free the two first strings and the array), or NULL.
 */
static char **
exec_env(const char *out, const char *serial)
{
	extern char **environ;
	char **env;
	size_t n = 0, i, k = 2;

	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 3, sizeof(*env))) == NULL)
		return NULL;
	if (asprintf(&env[0], "REDIS_CA_OUT=%s", out) < 0) {
		free(env);
		return NULL;
	}
	if (asprintf(&env[1], "REDIS_CA_SERIAL=%s", serial) < 0) {
		free(env[0]);
		free(env);
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "REDIS_CA_OUT=", 13) != 0 &&
		    strncmp(environ[i], "REDIS_CA_SERIAL=", 16) != 0)
			env[k++] = environ[i];
	env[k] = NULL;
	return env;
}

static void
exec_env_free(char **env)
{
	if (env == NULL)
		return;
	free(env[0]);
	free(env[1]);
	free(env);
}

/*
 * Run cmd with /bin/sh -c in its own process group, at most
 * ENROLL_EXEC_TIMEOUT seconds (then the group is killed), and log how
 * it ended.  A stop signal arriving meanwhile sets *stopping; the
 * command still finishes.
 */
static void
run_exec(const struct enroll_opts *o, const char *serial,
    const sigset_t *oldmask, bool *stopping)
{
	sigset_t set;
	int64_t deadline;
	char **env;
	pid_t pid;
	int st = 0;

	if ((env = exec_env(o->out, serial)) == NULL) {
		log_error("enroll: --exec: out of memory");
		return;
	}
	pid = fork();
	if (pid == -1) {
		log_error("enroll: --exec: fork: %s", strerror(errno));
		exec_env_free(env);
		return;
	}
	if (pid == 0) {
		(void)setpgid(0, 0);
		(void)sigprocmask(SIG_SETMASK, oldmask, NULL);
		execle("/bin/sh", "sh", "-c", o->exec, (char *)NULL, env);
		_exit(127);
	}
	exec_env_free(env);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	deadline = tu_now() + ENROLL_EXEC_TIMEOUT;
	for (;;) {
		struct timespec ts = { 1, 0 };
		pid_t w = waitpid(pid, &st, WNOHANG);
		int sig;

		if (w == pid)
			break;
		if (w == -1 && errno != EINTR) {
			log_error("enroll: --exec: waitpid: %s",
			    strerror(errno));
			return;
		}
		if (tu_now() >= deadline) {
			(void)kill(-pid, SIGKILL);
			(void)kill(pid, SIGKILL);
			(void)waitpid(pid, &st, 0);
			log_error("enroll: --exec command killed after %d s",
			    ENROLL_EXEC_TIMEOUT);
			return;
		}
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT)
			*stopping = true;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		log_info("enroll: --exec command succeeded");
	else if (WIFEXITED(st))
		log_warn("enroll: --exec command exited with status %d",
		    WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		log_warn("enroll: --exec command killed by signal %d",
		    WTERMSIG(st));
}

/* Tell systemd (Type=notify) that the files are in place. */
static void
notify_ready(void)
{
	const char *p = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t len;
	int fd;

	if (p == NULL || (p[0] != '/' && p[0] != '@'))
		return;
	len = strlen(p);
	if (len >= sizeof(sa.sun_path))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, p, len);
	if (p[0] == '@')
		sa.sun_path[0] = '\0';
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	(void)sendto(fd, "READY=1", 7, MSG_NOSIGNAL,
	    (const struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	close(fd);
}

/* Log where a certificate stands and when it will be renewed. */
static void
log_cert(const char *what, const struct enroll_cert *c)
{
	char na[RCA_TIME_STR];

	tu_format(c->not_after, na);
	log_info("enroll: %s certificate serial %s, valid until %s", what,
	    c->serial, na);
}

/*
 * The first enrollment.  A daemon (started at boot, perhaps before the
 * network or the CA is up) retries transient failures with backoff; a
 * one-shot enroll tries once.  Returns 0 enrolled, 1 stopped by a
 * signal, -1 failed (e says why).
 */
static int
enroll_first(const struct enroll_opts *o, struct enroll_cert *cert,
    const sigset_t *stop, struct err *e)
{
	unsigned attempt = 0;

	for (;;) {
		int64_t delay;

		if (enroll_once(o, cert, e) == 0)
			return 0;
		if (!o->daemon || !enroll_err_transient(e))
			return -1;
		delay = enroll_backoff(attempt++);
		log_warn("enroll: enrollment failed: %s; retrying in %lld s",
		    e->msg, (long long)delay);
		if (wait_until(tu_now() + delay, stop))
			return 1;
	}
}

/*
 * The renewal loop.  Returns the exit status: 0 when stopped by a
 * signal, 1 when the certificate can no longer be renewed.
 */
static int
daemon_loop(const struct enroll_opts *o, struct enroll_cert *cert,
    const sigset_t *stop, const sigset_t *oldmask)
{
	char when[RCA_TIME_STR];

	notify_ready();
	for (;;) {
		struct err e = { ERR_OK, "" };
		bool stopping = false;
		unsigned attempt = 0;
		uint64_t rnd = 0;
		int64_t at;

		(void)ca_random(&rnd, sizeof(rnd), &e);
		at = enroll_renew_at(cert->not_before, cert->not_after, rnd);
		tu_format(at, when);
		log_info("enroll: next renewal of serial %s at %s",
		    cert->serial, when);
		if (wait_until(at, stop))
			return 0;
		for (;;) {
			int64_t now = tu_now(), delay;

			if (now >= cert->not_after) {
				tu_format(cert->not_after, when);
				fprintf(stderr, "redis-ca: certificate expired "
				    "at %s; re-enroll with a new token\n",
				    when);
				return 1;
			}
			if (renew_once(o, cert, &e) == 0)
				break;
			if (!enroll_err_transient(&e)) {
				fprintf(stderr, "redis-ca: %s%s\n", e.msg,
				    e.code == ERR_UNAUTHORIZED ? "; re-enroll "
				    "with a new token" : "");
				return 1;
			}
			delay = enroll_backoff(attempt++);
			if (delay > cert->not_after - now)
				delay = cert->not_after - now;
			log_warn("enroll: renewal failed: %s; retrying in "
			    "%lld s", e.msg, (long long)delay);
			if (wait_until(now + delay, stop))
				return 0;
		}
		log_cert("renewed:", cert);
		if (o->exec != NULL)
			run_exec(o, cert->serial, oldmask, &stopping);
		if (stopping) {
			log_info("enroll: stopping");
			return 0;
		}
	}
}

int
cmd_enroll(int argc, char **argv)
{
	struct enroll_opts o;
	struct enroll_cert cert;
	struct err e = { ERR_OK, "" };
	sigset_t stop, blocked, oldmask;
	bool curl_up = false, masked = false, have = false;
	int status = 1, lockfd = -1;

	memset(&cert, 0, sizeof(cert));
	if (enroll_parse_args(argc, argv, &o, &e) == -1) {
		fprintf(stderr, "redis-ca enroll: %s (see redis-ca enroll "
		    "--help)\n", e.msg);
		return 2;
	}
	if (o.help) {
		fputs(usage_text, stdout);
		status = 0;
		goto out;
	}
	/*
	 * Stop signals are blocked before libcurl can start a resolver
	 * thread, so they are only ever collected by sigtimedwait.
	 */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	blocked = stop;
	sigaddset(&blocked, SIGCHLD);
	if (o.daemon) {
		if (sigprocmask(SIG_BLOCK, &blocked, &oldmask) == -1) {
			fprintf(stderr, "redis-ca: sigprocmask: %s\n",
			    strerror(errno));
			goto out;
		}
		masked = true;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "redis-ca: cannot initialise libcurl\n");
		goto out;
	}
	curl_up = true;
	if (ensure_dir(o.out, &e) == -1 ||
	    (lockfd = lock_dir(o.out, &e)) == -1 ||
	    enroll_recover_files(o.out, &e) == -1) {
		fprintf(stderr, "redis-ca: %s\n", e.msg);
		goto out;
	}
	/*
	 * A daemon that restarts resumes with the certificate it holds
	 * (the one-use token is spent); it enrolls again only when there
	 * is none, it has expired, or it was for another common name.
	 */
	if (o.daemon && load_state(o.out, &cert, &e) == 0) {
		if (cert.not_after <= tu_now())
			log_warn("enroll: certificate %s in %s has expired; "
			    "enrolling again", cert.serial, o.out);
		else if (cert.has_names && (cert.names.cn == NULL ||
		    strcmp(cert.names.cn, o.names.cn) != 0))
			log_warn("enroll: certificate %s in %s is for another "
			    "name; enrolling again", cert.serial, o.out);
		else
			have = true;
		if (!have)
			enroll_cert_clear(&cert);
	}
	if (have)
		log_cert("resuming with", &cert);
	else {
		switch (enroll_first(&o, &cert, &stop, &e)) {
		case 0:
			break;
		case 1:
			status = 0;
			goto out;
		default:
			fprintf(stderr, "redis-ca: %s\n", e.msg);
			goto out;
		}
		log_cert("enrolled:", &cert);
	}
	status = o.daemon ? daemon_loop(&o, &cert, &stop, &oldmask) : 0;
out:
	if (lockfd >= 0)
		close(lockfd);
	enroll_cert_clear(&cert);
	enroll_opts_clear(&o);
	if (curl_up)
		curl_global_cleanup();
	if (masked)
		(void)sigprocmask(SIG_SETMASK, &oldmask, NULL);
	return status;
}
