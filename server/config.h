/*
 * config.json (SPEC section 4): loaded strictly (duplicate keys, unknown
 * keys and wrong types are errors that name the key path), with the
 * SPEC's defaults for every optional key and every path made absolute
 * relative to the config file's folder.  The service and the API get
 * views of it (struct svc_config, struct api_config) whose strings are
 * borrowed from the struct config.
 */
#ifndef RCA_SERVER_CONFIG_H
#define RCA_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "err.h"
#include "rca_limits.h"
#include "svc.h"
#include "types.h"

/* Defaults of SPEC section 4. */
#define CONFIG_DEFAULT_API_LISTEN	"127.0.0.1:8443"
#define CONFIG_DEFAULT_PUBLIC_LISTEN	"127.0.0.1:8080"
#define CONFIG_DEFAULT_PUBLIC_URL	"http://127.0.0.1:8080"

/* The loaded configuration.  Every string is owned (config_clear()). */
struct config {
	char		*path;		/* absolute path of the file */
	char		*dir;		/* absolute folder of the file */
	char		*api_listen;	/* listen.api */
	char		*public_listen;	/* listen.public; NULL: off */
	char		*public_url;	/* without a trailing '/' */
	bool		 api_tls_enabled;
	char		*api_tls_cert;	/* absolute */
	char		*api_tls_key;	/* absolute */
	char		*ca_cert;	/* absolute */
	char		*ca_key;	/* absolute */
	char		*ca_key_passphrase_file; /* absolute; NULL: none */
	char		*database;	/* absolute */
	char		*admin_cert;	/* <dir>/tls/admin.crt (not a key) */
	char		*admin_key;	/* <dir>/tls/admin.key (not a key) */
	int64_t		 crl_validity;		/* seconds */
	int64_t		 crl_refresh_before;	/* seconds */
	int64_t		 rotation_check_interval; /* seconds */
	int		 rotation_renew_before_pct; /* 1..99 */
	int		 rotation_max_parallel;	/* 1..64, default 4 */
	size_t		 max_body_bytes;
	unsigned	 threads;	/* 0: number of cores */
	unsigned	 max_connections;
	unsigned	 max_connections_per_ip;	/* both listeners */
	unsigned	 auth_failures_per_minute;	/* per address */
	int64_t		 audit_retention;		/* seconds */
	struct profile	 profiles[RCA_MAX_PROFILES];
	size_t		 nprofiles;
	char		*node_allowed_dirs[RCA_MAX_NODE_DIRS]; /* absolute */
	size_t		 nnode_allowed_dirs;
	int64_t		 token_max_enroll_ttl;	/* seconds */
};

#define CONFIG_INIT { 0 }

/*
 * Load the file at path (at most RCA_MAX_CONFIG_BYTES) into *out, which
 * must be zeroed (CONFIG_INIT); on failure *out is left empty.
 * Errors: ERR_NOT_FOUND (no such file), ERR_IO, ERR_CONFIG (message
 * "config: <key path>: <problem>").
 */
int	config_load(const char *path, struct config *out, struct err *e);

/*
 * Like config_load() for len bytes of buf (a file in folder dir, which
 * must be an absolute path).  Errors: ERR_CONFIG.
 */
int	config_loadb(const char *buf, size_t len, const char *dir,
	    struct config *out, struct err *e);

/* Free what c owns and zero it.  c may be NULL. */
void	config_clear(struct config *c);

/* The service's view of c (strings borrowed from c). */
void	config_svc_view(const struct config *c, struct svc_config *out);

/* The API's view of c (strings borrowed from c). */
void	config_api_view(const struct config *c, struct api_config *out);

/*
 * The profile named name among c's profiles (borrowed), or NULL.
 */
const struct profile *config_profile(const struct config *c,
	    const char *name);

/* What `redis-ca init` writes. */
struct config_defaults {
	const char	*api_listen;	/* NULL: CONFIG_DEFAULT_API_LISTEN */
	const char	*public_listen;	/* NULL: CONFIG_DEFAULT_PUBLIC_LISTEN */
	const char	*public_url;	/* NULL: CONFIG_DEFAULT_PUBLIC_URL */
	const char	*key_passphrase_file; /* absolute path or NULL */
};

/*
 * The default configuration of SPEC section 4 as indented JSON text
 * ending in a newline, with d's values filled in.  Returns a new string
 * (free()), or NULL.  Errors: ERR_INTERNAL.
 */
char	*config_default_json(const struct config_defaults *d, struct err *e);

#endif
