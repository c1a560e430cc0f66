/*
 * Private to the config.json loader and writer (server/config*.c): the
 * typed getters for one key, the error that names a key path, and the
 * built-in profiles of SPEC section 4.  Nothing else includes it.
 */
#ifndef RCA_CONFIG_INT_H
#define RCA_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"
#include "err.h"
#include "types.h"

#define CFG_PATH_BUF	160	/* a key path such as "profiles.x.max_ttl" */

/* A profile of SPEC section 4, used when "profiles" is absent. */
struct cfg_default_profile {
	const char	*name;
	const char	*eku[2];
	bool		 require_san;
	const char	*default_ttl;
	const char	*max_ttl;
};

/* The built-in profiles (redis-node, redis-client). */
extern const struct cfg_default_profile cfg_default_profiles[];
extern const size_t cfg_ndefault_profiles;

/* Every key type a leaf may have: the default key_types of a profile. */
extern const enum key_type cfg_all_key_types[];
extern const size_t cfg_nkey_types;

/* Set e to ERR_CONFIG "config: <path>: <fmt ...>". */
void	cfg_err(struct err *e, const char *path, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* prefix.key (or key when prefix is NULL or "") into out, cut to fit. */
void	cfg_key_path(char out[CFG_PATH_BUF], const char *prefix,
	    const char *key);

/* "path[i]" into out, cut to fit: an element of an array. */
void	cfg_item_path(char out[CFG_PATH_BUF], const char *path, size_t i);

/*
 * Refuse keys of obj that are not in allowed (NULL-terminated); prefix
 * is obj's key path.  Errors: ERR_CONFIG.
 */
int	cfg_check_keys(json_t *obj, const char *prefix,
	    const char *const *allowed, struct err *e);

/*
 * The typed getters.  Each reads obj.key (obj may be NULL: absent),
 * names the key path prefix.key in its error (ERR_CONFIG; ERR_INTERNAL
 * when out of memory), and takes def when the key is absent.
 *
 * cfg_get_object: *out is borrowed from obj, or NULL when absent.
 * cfg_get_string: *out is a new copy (free()) of the value or of def
 * (def may be NULL); nullable accepts JSON null as NULL; empty strings
 * and control characters are refused.
 * cfg_get_path: as cfg_get_string, made absolute against dir.
 * cfg_get_database: "database": a postgresql:// or postgres:// URI
 * kept as it is (refused when it holds a password, which must come
 * from a passfile; never repeated in an error), else a path as
 * cfg_get_path.
 * cfg_get_duration: "24h" and the like, in seconds.
 * cfg_get_int: an integer in [min, max].
 * cfg_get_percent: "33%", an integer percentage in 1..99.
 */
int	cfg_get_object(json_t *obj, const char *prefix, const char *key,
	    json_t **out, struct err *e);
int	cfg_get_string(json_t *obj, const char *prefix, const char *key,
	    const char *def, bool nullable, char **out, struct err *e);
int	cfg_get_path(json_t *obj, const char *prefix, const char *key,
	    const char *def, bool nullable, const char *dir, char **out,
	    struct err *e);
int	cfg_get_database(json_t *obj, const char *key, const char *def,
	    const char *dir, char **out, struct err *e);
int	cfg_get_duration(json_t *obj, const char *prefix, const char *key,
	    const char *def, int64_t *out, struct err *e);
int	cfg_get_int(json_t *obj, const char *prefix, const char *key,
	    json_int_t def, json_int_t min, json_int_t max, json_int_t *out,
	    struct err *e);
int	cfg_get_bool(json_t *obj, const char *prefix, const char *key,
	    bool def, bool *out, struct err *e);
int	cfg_get_percent(json_t *obj, const char *prefix, const char *key,
	    int def, int *out, struct err *e);

/*
 * root.profiles into c->profiles (the built-in profiles when absent).
 * Errors: ERR_CONFIG.
 */
int	cfg_parse_profiles(json_t *root, struct config *c, struct err *e);

#endif
