/*
 * Real redis-servers for the node tests: a service fixture with an admin
 * client certificate, nodes bootstrapped with certificates from the
 * fixture's CA, and redis-server processes on free loopback ports,
 * started from a config text and stopped by PID.
 */
#ifndef RCA_TEST_SVC_REDISFX_H
#define RCA_TEST_SVC_REDISFX_H

#include <stdbool.h>
#include <sys/types.h>

#include "fixture.h"
#include "rds.h"

#define RFX_PATH	512
#define RFX_CONF_MAX	4096	/* a node's configuration text */

/* The fixture plus a scratch folder and the admin client pair. */
struct rfx {
	struct fx	*f;		/* from fx_setup() */
	char		 dir[64];	/* removed by rfx_teardown() */
	char		 admin_crt[RFX_PATH];
	char		 admin_key[RFX_PATH];
	const char	*allowed[1];	/* nodes.allowed_dirs: { dir } */
};

/* One redis-server and its node's cert_dir. */
struct rfx_node {
	char	name[64];
	char	cert_dir[RFX_PATH];	/* <rfx dir>/<name> */
	char	conf[RFX_PATH];		/* <rfx dir>/<name>.conf */
	char	log[RFX_PATH];
	char	data[RFX_PATH];		/* redis "dir" */
	int	port;
	pid_t	pid;
	char	serial[RCA_SERIAL_HEX_MAX + 1];	/* bootstrap certificate */
};

/*
 * cmocka setup/teardown: *state is a struct rfx *.  Setup runs
 * fx_setup(), issues the admin client certificate, and reopens the
 * service with check_interval 1 s and renew_before pct (setup: 33).
 */
int	rfx_setup(void **state);
int	rfx_teardown(void **state);

/* Reopen the service with another renew_before percentage. */
void	rfx_set_renew_pct(struct rfx *r, int pct);

/*
 * Prepare node name: its cert_dir with a bootstrap certificate (SANs
 * IP 127.0.0.1 and DNS localhost, issued for the node), key and CA
 * file under the default names, and a free port.
 */
void	rfx_node_init(struct rfx *r, struct rfx_node *n, const char *name);

/* As rfx_node_init, with a bootstrap certificate of ttl seconds. */
void	rfx_node_init_ttl(struct rfx *r, struct rfx_node *n, const char *name,
	    int64_t ttl);

/*
 * The usual TLS-only config for n (port 0, tls-port, the cert_dir files,
 * tls-auth-clients yes, tls-replication yes, ACL user noconf/pw without
 * +config, no persistence) followed by extra (may be NULL).
 */
void	rfx_node_conf(const struct rfx_node *n, const char *extra, char *out,
	    size_t outsz);

/* Start redis-server on text; waits (bounded) for the port. */
void	rfx_start(struct rfx_node *n, const char *text);

/*
 * Start n on the usual config followed by extra (may be NULL), its
 * cert_dir and port as they are: after rfx_node_init(), or again after
 * rfx_stop().
 */
void	rfx_restart(struct rfx_node *n, const char *extra);

/* rfx_node_init() of name, then rfx_restart(). */
void	rfx_node_up(struct rfx *r, struct rfx_node *n, const char *name,
	    const char *extra);

/* The index of the step called name in rotation rec, or -1. */
int	rfx_step_at(const struct rotation_rec *rec, const char *name);

/* Print rotation rec and its steps (on the way to a failure). */
void	rfx_dump(const struct rotation_rec *rec);

/* SIGTERM (then SIGKILL) by PID and reap.  Idempotent. */
void	rfx_stop(struct rfx_node *n);

/* Register n with the service (sans 127.0.0.1 and localhost). */
void	rfx_register(struct rfx *r, const struct rfx_node *n,
	    const char *server_name, const char *auth_user,
	    const char *password_file);

/* The same in group (SPEC 11; NULL: the node's own). */
void	rfx_register_group(struct rfx *r, const struct rfx_node *n,
	    const char *server_name, const char *group, const char *auth_user,
	    const char *password_file);

/* Connect as admin (verified against the CA as 127.0.0.1). */
struct rds_conn *rfx_connect(struct rfx *r, const struct rfx_node *n);

/* The serial n serves, over a verified admin connection. */
void	rfx_served(struct rfx *r, const struct rfx_node *n,
	    char out[RCA_SERIAL_HEX_MAX + 1]);

/* PING over a new admin connection succeeds. */
bool	rfx_ping(struct rfx *r, const struct rfx_node *n);

/* Read a whole file (new, free()); NULL when it does not exist. */
char	*rfx_read(const char *path);

/* Read cert_dir/name. */
char	*rfx_read_in(const struct rfx_node *n, const char *name);

/* A loopback port nobody listens on now. */
int	rfx_free_port(void);

#endif
