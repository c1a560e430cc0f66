/*
 * The "profiles" of config.json: the built-in profiles of SPEC section 4
 * and each configured profile read over the built-in one of its name.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "config_int.h"
#include "timeutil.h"

const struct cfg_default_profile cfg_default_profiles[] = {
	{ "redis-node", { "serverAuth", "clientAuth" }, true, "72h", "30d" },
	{ "redis-client", { "clientAuth", NULL }, false, "24h", "7d" },
};

const size_t cfg_ndefault_profiles =
    sizeof(cfg_default_profiles) / sizeof(cfg_default_profiles[0]);

const enum key_type cfg_all_key_types[] = {
	KEY_EC_P256, KEY_EC_P384, KEY_RSA_2048, KEY_RSA_3072, KEY_RSA_4096,
};

const size_t cfg_nkey_types =
    sizeof(cfg_all_key_types) / sizeof(cfg_all_key_types[0]);

static bool
profile_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > RCA_MAX_PROFILE_NAME ||
	    !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_')
			return false;
	return true;
}

static const struct cfg_default_profile *
default_profile(const char *name)
{
	for (size_t i = 0; i < cfg_ndefault_profiles; i++)
		if (strcmp(cfg_default_profiles[i].name, name) == 0)
			return &cfg_default_profiles[i];
	return NULL;
}

/* Fill out from a built-in default profile. */
static void
profile_from_default(const struct cfg_default_profile *d,
    struct profile *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", d->name);
	for (size_t i = 0; i < 2 && d->eku[i] != NULL; i++)
		out->eku |= eku_parse(d->eku[i]);
	out->require_san = d->require_san;
	(void)tu_parse_duration(d->default_ttl, &out->default_ttl, NULL);
	(void)tu_parse_duration(d->max_ttl, &out->max_ttl, NULL);
	for (size_t i = 0; i < cfg_nkey_types; i++)
		out->key_types |= KEY_BIT(cfg_all_key_types[i]);
}

/* The bit of one name of a set of flags, or 0 for an unknown name. */
typedef unsigned (*bit_of_fn)(const char *name);

static unsigned
eku_bit(const char *name)
{
	return eku_parse(name);
}

static unsigned
key_type_bit(const char *name)
{
	enum key_type t;

	return key_type_parse(name, &t) == 0 ? KEY_BIT(t) : 0;
}

/*
 * A non-empty array of names (at key path p) into the bits of *out:
 * not_array is the error for anything else, unknown that of a name
 * bit_of does not know.
 */
static int
parse_bits(json_t *v, const char *p, bit_of_fn bit_of,
    const char *not_array, const char *unknown, unsigned *out,
    struct err *e)
{
	char ip[CFG_PATH_BUF];
	size_t i;
	json_t *it;

	if (!json_is_array(v) || json_array_size(v) == 0) {
		cfg_err(e, p, "%s", not_array);
		return -1;
	}
	*out = 0;
	json_array_foreach(v, i, it) {
		unsigned bit = json_is_string(it) ?
		    bit_of(json_string_value(it)) : 0;

		if (bit == 0) {
			cfg_item_path(ip, p, i);
			cfg_err(e, ip, "%s", unknown);
			return -1;
		}
		*out |= bit;
	}
	return 0;
}

/* profiles.<name>.eku: a non-empty array of EKU names. */
static int
parse_eku(json_t *v, const char *p, unsigned *out, struct err *e)
{
	return parse_bits(v, p, eku_bit, "must be a non-empty array of "
	    "\"serverAuth\" or \"clientAuth\"", "unknown extended key usage "
	    "(use \"serverAuth\" or \"clientAuth\")", out, e);
}

/* profiles.<name>.key_types: a non-empty array of key type names. */
static int
parse_key_types(json_t *v, const char *p, unsigned *out, struct err *e)
{
	return parse_bits(v, p, key_type_bit, "must be a non-empty array of "
	    "key types", "unknown key type (use ec-p256, ec-p384, rsa-2048, "
	    "rsa-3072 or rsa-4096)", out, e);
}

static int
parse_profile(const char *name, json_t *obj, struct profile *out,
    struct err *e)
{
	static const char *const keys[] = { "eku", "require_san",
	    "default_ttl", "max_ttl", "key_types", NULL };
	const struct cfg_default_profile *d = default_profile(name);
	char prefix[CFG_PATH_BUF], p[CFG_PATH_BUF];
	json_t *v;

	cfg_key_path(prefix, "profiles", name);
	if (!profile_name_valid(name)) {
		cfg_err(e, prefix, "a profile name is 1 to %d characters of "
		    "a-z, 0-9, '-' and '_'", RCA_MAX_PROFILE_NAME);
		return -1;
	}
	if (!json_is_object(obj)) {
		cfg_err(e, prefix, "must be an object");
		return -1;
	}
	if (cfg_check_keys(obj, prefix, keys, e) == -1)
		return -1;
	/* Missing keys take the SPEC's values for a profile of that name,
	 * else those of redis-client; only "eku" has no safe default. */
	profile_from_default(d != NULL ? d : default_profile("redis-client"),
	    out);
	snprintf(out->name, sizeof(out->name), "%s", name);
	cfg_key_path(p, prefix, "eku");
	if ((v = json_object_get(obj, "eku")) != NULL) {
		if (parse_eku(v, p, &out->eku, e) == -1)
			return -1;
	} else if (d == NULL) {
		cfg_err(e, p, "missing (required for a new profile)");
		return -1;
	}
	if (cfg_get_bool(obj, prefix, "require_san", out->require_san,
	    &out->require_san, e) == -1)
		return -1;
	if ((v = json_object_get(obj, "default_ttl")) != NULL &&
	    cfg_get_duration(obj, prefix, "default_ttl", NULL,
	    &out->default_ttl, e) == -1)
		return -1;
	if ((v = json_object_get(obj, "max_ttl")) != NULL &&
	    cfg_get_duration(obj, prefix, "max_ttl", NULL, &out->max_ttl,
	    e) == -1)
		return -1;
	cfg_key_path(p, prefix, "key_types");
	if ((v = json_object_get(obj, "key_types")) != NULL &&
	    parse_key_types(v, p, &out->key_types, e) == -1)
		return -1;
	if (out->default_ttl > out->max_ttl) {
		cfg_key_path(p, prefix, "default_ttl");
		cfg_err(e, p, "is longer than max_ttl");
		return -1;
	}
	return 0;
}

int
cfg_parse_profiles(json_t *root, struct config *c, struct err *e)
{
	json_t *obj, *v;
	const char *name;

	if (cfg_get_object(root, NULL, "profiles", &obj, e) == -1)
		return -1;
	if (obj == NULL) {
		for (size_t i = 0; i < cfg_ndefault_profiles; i++)
			profile_from_default(&cfg_default_profiles[i],
			    &c->profiles[i]);
		c->nprofiles = cfg_ndefault_profiles;
		return 0;
	}
	if (json_object_size(obj) == 0 ||
	    json_object_size(obj) > RCA_MAX_PROFILES) {
		cfg_err(e, "profiles", "must hold 1 to %d profiles",
		    RCA_MAX_PROFILES);
		return -1;
	}
	json_object_foreach(obj, name, v) {
		if (parse_profile(name, v, &c->profiles[c->nprofiles], e)
		    == -1)
			return -1;
		c->nprofiles++;
	}
	return 0;
}
