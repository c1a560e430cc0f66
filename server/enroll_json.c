/*
 * The JSON of enroll: the CA's answers (a certificate, or an error body
 * turned into one line) and the state file OUT/enroll.json.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "enroll.h"
#include "timeutil.h"

/* Longest server-provided text copied into an error line. */
#define ENROLL_MAX_SERVER_TEXT	160

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

/*
 * Read len bytes of body as a certificate object into out (left empty
 * on failure); not_json is the message when it is not JSON at all.
 */
static int
load_cert_object(const char *body, size_t len, bool want_pem,
    const char *not_json, struct enroll_cert *out, struct err *e)
{
	json_t *root = NULL;
	json_error_t je;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (body == NULL || (root = json_loadb(body, len,
	    JSON_REJECT_DUPLICATES, &je)) == NULL) {
		err_set(e, ERR_INVALID_JSON, "%s", not_json);
		goto out;
	}
	if (parse_cert_object(root, want_pem, out, e) == -1)
		goto out;
	rc = 0;
out:
	json_decref(root);
	if (rc == -1)
		enroll_cert_clear(out);
	return rc;
}

int
enroll_parse_response(long status, const char *body, size_t len,
    struct enroll_cert *out, struct err *e)
{
	if (status != 201) {
		memset(out, 0, sizeof(*out));
		error_from_body(status, body, len, e);
		return -1;
	}
	return load_cert_object(body, len, true,
	    "the CA's response is not JSON", out, e);
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
	return load_cert_object(body, len, false, "state file is not JSON",
	    out, e);
}
