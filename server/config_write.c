/*
 * The default config.json that `redis-ca init` writes (SPEC section 4):
 * the same keys and values the loader takes when they are absent.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config_int.h"

/* Add key: value to obj, stealing value; false when out of memory. */
static bool
put(json_t *obj, const char *key, json_t *value)
{
	return value != NULL && json_object_set_new(obj, key, value) == 0;
}

static json_t *
default_profiles_json(void)
{
	json_t *all = json_object(), *p = NULL, *a = NULL;

	if (all == NULL)
		return NULL;
	for (size_t i = 0; i < cfg_ndefault_profiles; i++) {
		const struct cfg_default_profile *d = &cfg_default_profiles[i];

		if ((p = json_object()) == NULL || (a = json_array()) == NULL)
			goto fail;
		for (size_t j = 0; j < 2 && d->eku[j] != NULL; j++)
			if (json_array_append_new(a, json_string(d->eku[j])))
				goto fail;
		if (!put(p, "eku", a)) {
			a = NULL;
			goto fail;
		}
		if (!put(p, "require_san", json_boolean(d->require_san)) ||
		    !put(p, "default_ttl", json_string(d->default_ttl)) ||
		    !put(p, "max_ttl", json_string(d->max_ttl)) ||
		    (a = json_array()) == NULL)
			goto fail;
		for (size_t j = 0; j < cfg_nkey_types; j++)
			if (json_array_append_new(a, json_string(
			    key_type_name(cfg_all_key_types[j]))))
				goto fail;
		if (!put(p, "key_types", a)) {
			a = NULL;
			goto fail;
		}
		a = NULL;
		if (!put(all, d->name, p)) {
			p = NULL;
			goto fail;
		}
		p = NULL;
	}
	return all;
fail:
	json_decref(a);
	json_decref(p);
	json_decref(all);
	return NULL;
}

char *
config_default_json(const struct config_defaults *d, struct err *e)
{
	json_t *root = NULL, *o;
	char *text = NULL, *out = NULL;
	size_t len;

	root = json_object();
	if (root == NULL)
		goto out;
	if ((o = json_object()) == NULL || !put(root, "listen", o) ||
	    !put(o, "api", json_string(d->api_listen != NULL ?
	    d->api_listen : CONFIG_DEFAULT_API_LISTEN)) ||
	    !put(o, "public", json_string(d->public_listen != NULL ?
	    d->public_listen : CONFIG_DEFAULT_PUBLIC_LISTEN)))
		goto out;
	if (!put(root, "public_url", json_string(d->public_url != NULL ?
	    d->public_url : CONFIG_DEFAULT_PUBLIC_URL)))
		goto out;
	if ((o = json_object()) == NULL || !put(root, "api_tls", o) ||
	    !put(o, "enabled", json_true()) ||
	    !put(o, "cert", json_string("tls/api.crt")) ||
	    !put(o, "key", json_string("tls/api.key")))
		goto out;
	if ((o = json_object()) == NULL || !put(root, "ca", o) ||
	    !put(o, "cert", json_string("ca.crt")) ||
	    !put(o, "key", json_string("ca.key")) ||
	    !put(o, "key_passphrase_file", d->key_passphrase_file != NULL ?
	    json_string(d->key_passphrase_file) : json_null()))
		goto out;
	if (!put(root, "database", json_string("redis-ca.db")))
		goto out;
	if ((o = json_object()) == NULL || !put(root, "crl", o) ||
	    !put(o, "validity", json_string("24h")) ||
	    !put(o, "refresh_before", json_string("8h")))
		goto out;
	if ((o = json_object()) == NULL || !put(root, "rotation", o) ||
	    !put(o, "check_interval", json_string("1m")) ||
	    !put(o, "renew_before", json_string("33%")) ||
	    !put(o, "max_parallel", json_integer(SVC_MAX_PARALLEL_DEFAULT)))
		goto out;
	if ((o = json_object()) == NULL || !put(root, "limits", o) ||
	    !put(o, "max_body_bytes",
	    json_integer(RCA_MAX_BODY_BYTES_DEFAULT)) ||
	    !put(o, "threads", json_integer(0)) ||
	    !put(o, "max_connections", json_integer(1024)) ||
	    !put(o, "max_connections_per_ip",
	    json_integer(RCA_MAX_CONN_PER_IP_DEFAULT)) ||
	    !put(o, "auth_failures_per_minute",
	    json_integer(RCA_AUTH_FAILURES_DEFAULT)))
		goto out;
	if ((o = json_object()) == NULL || !put(root, "audit", o) ||
	    !put(o, "retention", json_string("365d")))
		goto out;
	if ((o = json_object()) == NULL || !put(root, "nodes", o) ||
	    !put(o, "allowed_dirs", json_array()))
		goto out;
	if (!put(root, "profiles", default_profiles_json()))
		goto out;
	if ((text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER))
	    == NULL)
		goto out;
	len = strlen(text);
	if ((out = malloc(len + 2)) == NULL)
		goto out;
	memcpy(out, text, len);
	out[len] = '\n';
	out[len + 1] = '\0';
out:
	if (out == NULL)
		err_set(e, ERR_INTERNAL, "out of memory");
	free(text);
	json_decref(root);
	return out;
}
