/*
 * Records into the JSON objects of SPEC section 6.  Pure functions over
 * common/records.h: the field names users rely on live here only.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api_priv.h"
#include "timeutil.h"

/* Set key to v (stolen) in o; remembers any failure in *ok. */
static void
put(json_t *o, const char *key, json_t *v, bool *ok)
{
	if (v == NULL || json_object_set_new(o, key, v) == -1)
		*ok = false;
}

/*
 * A JSON string of s; bytes that are not UTF-8 (a name taken from a
 * CSR) become a marker instead of failing the whole response.
 */
static json_t *
jstr(const char *s)
{
	json_t *v = json_string(s);

	return v != NULL ? v : json_string("(not UTF-8)");
}

static json_t *
time_or_null(int64_t t)
{
	char buf[RCA_TIME_STR];

	if (t == 0)
		return json_null();
	tu_format(t, buf);
	return jstr(buf);
}

static json_t *
str_or_null(const char *s)
{
	if (s == NULL || s[0] == '\0')
		return json_null();
	return jstr(s);
}

static json_t *
str_array(char *const *list, size_t n)
{
	json_t *a = json_array();

	if (a == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (json_array_append_new(a, jstr(list[i])) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

json_t *
api_enc_cert(const struct cert_rec *c, int64_t now)
{
	json_t *o = json_object(), *sans = json_object();
	const char *reason = NULL;
	bool ok = o != NULL && sans != NULL;
	bool revoked = c->revoked_at != 0;

	if (!ok)
		goto out;
	put(sans, "dns", str_array(c->names.list[NAME_DNS],
	    c->names.n[NAME_DNS]), &ok);
	put(sans, "ip", str_array(c->names.list[NAME_IP],
	    c->names.n[NAME_IP]), &ok);
	put(sans, "uri", str_array(c->names.list[NAME_URI],
	    c->names.n[NAME_URI]), &ok);
	if (revoked)
		reason = reason_name(c->reason);
	put(o, "serial", jstr(c->serial), &ok);
	put(o, "profile", jstr(c->profile), &ok);
	put(o, "common_name", str_or_null(c->names.cn), &ok);
	put(o, "sans", sans, &ok);
	sans = NULL;
	put(o, "key_type", jstr(key_type_name(c->key_type)), &ok);
	put(o, "not_before", time_or_null(c->not_before), &ok);
	put(o, "not_after", time_or_null(c->not_after), &ok);
	put(o, "status", jstr(cert_status_name(cert_rec_status(c,
	    now))), &ok);
	put(o, "revoked_at", revoked ? time_or_null(c->revoked_at) :
	    json_null(), &ok);
	put(o, "revocation_reason", revoked ? str_or_null(reason ? reason :
	    "unspecified") : json_null(), &ok);
	put(o, "fingerprint_sha256", jstr(c->fingerprint), &ok);
	put(o, "node", str_or_null(c->node), &ok);
	put(o, "issued_by", jstr(c->issued_by), &ok);
	put(o, "certificate", c->pem != NULL ? jstr(c->pem) :
	    json_null(), &ok);
out:
	json_decref(sans);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
api_enc_token(const struct token_rec *t)
{
	json_t *o = json_object();
	char dur[24];
	bool ok = o != NULL;

	if (!ok)
		return NULL;
	put(o, "id", jstr(t->id), &ok);
	put(o, "kind", jstr(token_kind_name(t->kind)), &ok);
	put(o, "profile", str_or_null(t->profile), &ok);
	put(o, "names", str_array(t->patterns, t->npatterns), &ok);
	put(o, "uses_left", t->uses_left < 0 ? json_null() :
	    json_integer(t->uses_left), &ok);
	put(o, "expires_at", time_or_null(t->expires_at), &ok);
	put(o, "created_at", time_or_null(t->created_at), &ok);
	put(o, "description", str_or_null(t->description), &ok);
	if (t->max_cert_ttl > 0) {
		tu_format_duration(t->max_cert_ttl, dur);
		put(o, "max_cert_ttl", jstr(dur), &ok);
	} else {
		put(o, "max_cert_ttl", json_null(), &ok);
	}
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
api_enc_audit(const struct audit_rec *a)
{
	json_t *o = json_object();
	bool ok = o != NULL;

	if (!ok)
		return NULL;
	put(o, "id", json_integer(a->id), &ok);
	put(o, "at", time_or_null(a->at), &ok);
	put(o, "actor", jstr(a->actor), &ok);
	put(o, "action", jstr(a->action), &ok);
	put(o, "object", jstr(a->object), &ok);
	put(o, "outcome", jstr(audit_outcome_name(a->outcome)), &ok);
	put(o, "detail", jstr(a->detail), &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

void
api_http_date(int64_t t, char out[API_HTTP_DATE])
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed",
	    "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	char buf[64];
	struct tm tm;

	/* Names spelled out: strftime would follow the locale. */
	gmtime_r(&tt, &tm);
	snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	snprintf(out, API_HTTP_DATE, "%.29s", buf);
}
