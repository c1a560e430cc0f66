/*
 * GET /v1/ca's body (SPEC section 10): the current CA's four fields as
 * before, then every CA that is not gone, each as one object, and the
 * bundle's ETag.  Pure: encodes what the service's view holds.
 */
#include <string.h>

#include "api_ca.h"
#include "timeutil.h"

/* A string, or JSON null. */
static json_t *
enc_str(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/*
 * One CA: {"id", "ski", "state", "certificate" (pending: "csr"),
 * "chain", "anchors", "not_before", "not_after", "fingerprint_sha256",
 * "key_type", "created_at", "activated_at", "crl_url",
 * "certificates_unexpired", "has_key"}.  New, or NULL.
 */
static json_t *
enc_ca(const struct svc_ca_view_ent *c)
{
	bool pending = c->certificate == NULL;
	json_t *o;

	o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:s,s:o,s:o,s:o,"
	    "s:I,s:b}", "id", (json_int_t)c->id, "ski", c->ski, "state",
	    c->state, "chain", c->chain != NULL ? c->chain : "", "anchors",
	    c->anchors != NULL ? c->anchors : "", "not_before",
	    api_enc_time(c->not_before), "not_after",
	    api_enc_time(c->not_after), "fingerprint_sha256",
	    pending ? json_null() : json_string(c->fingerprint), "key_type",
	    key_type_name(c->key_type), "created_at",
	    api_enc_time(c->created_at), "activated_at",
	    api_enc_time(c->activated_at), "crl_url", enc_str(c->crl_url),
	    "certificates_unexpired",
	    (json_int_t)c->certificates_unexpired, "has_key", c->has_key);
	if (o == NULL)
		return NULL;
	if (json_object_set_new(o, pending ? "csr" : "certificate",
	    enc_str(pending ? c->csr : c->certificate)) == -1) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Add the next (or null) and retired CAs of v to body. */
static int
add_others(json_t *body, const struct svc_ca_view *v)
{
	json_t *next = NULL, *retired = json_array();

	if (retired == NULL)
		return -1;
	for (size_t i = 0; i < v->n; i++) {
		const struct svc_ca_view_ent *c = &v->ca[i];
		json_t *o;

		if (i == v->current)
			continue;
		if ((o = enc_ca(c)) == NULL)
			goto fail;
		if (strcmp(c->state, "retired") == 0) {
			if (json_array_append_new(retired, o) == -1)
				goto fail;
		} else {
			json_decref(next);
			next = o;
		}
	}
	if (json_object_set_new(body, "next", next != NULL ? next :
	    json_null()) == -1) {
		next = NULL;
		goto fail;
	}
	return json_object_set_new(body, "retired", retired);
fail:
	json_decref(next);
	json_decref(retired);
	return -1;
}

json_t *
api_enc_ca_body(const struct svc_ca_view *v)
{
	const struct svc_ca_view_ent *cur;
	char na[RCA_TIME_STR];
	json_t *body, *c;

	if (v->n == 0 || v->current >= v->n)
		return NULL;
	cur = &v->ca[v->current];
	tu_format(cur->not_after, na);
	body = json_pack("{s:s,s:s,s:s,s:s,s:s}", "certificate",
	    cur->certificate != NULL ? cur->certificate : "", "not_after", na,
	    "fingerprint_sha256", cur->fingerprint, "key_type",
	    key_type_name(cur->key_type), "bundle_etag", v->bundle_etag);
	if (body == NULL)
		return NULL;
	if ((c = enc_ca(cur)) == NULL ||
	    json_object_set_new(body, "current", c) == -1 ||
	    add_others(body, v) == -1) {
		json_decref(body);
		return NULL;
	}
	return body;
}
