/*
 * Test fixtures for redis/: a throwaway PKI (a CA, a second unrelated
 * CA, two server pairs and a client pair, made with the OpenSSL API) and
 * a real redis-server on a free loopback port, stopped by PID
 * (redis_server.h: trs_free_port(), trs_listen() come with it).
 */
#ifndef RCA_TESTS_REDIS_FIXTURE_H
#define RCA_TESTS_REDIS_FIXTURE_H

#include <stdbool.h>
#include <string.h>
#include <sys/types.h>

#include "rds.h"
#include "redis_server.h"

#define FX_PATH_MAX	256

struct fx_pki {
	char	dir[FX_PATH_MAX];		/* mkdtemp folder, removed */
	char	ca_crt[FX_PATH_MAX];
	char	other_ca_crt[FX_PATH_MAX];	/* unrelated CA */
	char	server_crt[FX_PATH_MAX];	/* SANs 127.0.0.1, localhost */
	char	server_key[FX_PATH_MAX];
	char	server2_crt[FX_PATH_MAX];	/* a second node pair */
	char	server2_key[FX_PATH_MAX];
	char	client_crt[FX_PATH_MAX];	/* clientAuth only */
	char	client_key[FX_PATH_MAX];
	char	server_serial[RCA_SERIAL_HEX_MAX + 1];
	char	server2_serial[RCA_SERIAL_HEX_MAX + 1];
};

struct fx_redis {
	pid_t	pid;
	int	port;
	char	conf[FX_PATH_MAX];
	char	log[FX_PATH_MAX];
};

/* A PKI and one redis-server with the default settings. */
struct fx_env {
	struct fx_pki	pki;
	struct fx_redis	redis;
};

/* Fail (showing msg) unless msg contains needle. */
#define assert_msg_has(msg, needle) do {				\
	if (strstr((msg), (needle)) == NULL)				\
		fail_msg("\"%s\" lacks \"%s\"", (msg), (needle));	\
} while (0)

/* Make the PKI in a new temp folder; fails the test on any error. */
void	fx_pki_make(struct fx_pki *p);

/* Remove the folder and everything in it. */
void	fx_pki_free(struct fx_pki *p);

/* Write a file in the PKI folder: path into out. */
void	fx_write(const struct fx_pki *p, const char *name, const char *text,
	    char out[FX_PATH_MAX]);

/*
 * Start redis-server (RDS_TEST_REDIS_SERVER or "redis-server" on PATH)
 * with TLS only on a free port: the server pair, the CA, `port 0`,
 * tls-auth-clients yes unless extra overrides it, ACL users
 * app/secret and noconf/pw (-config), then extra lines verbatim.  Waits
 * (bounded) until it accepts connections.
 */
void	fx_redis_start(struct fx_redis *r, const struct fx_pki *p,
	    const char *extra);

/* SIGTERM (then SIGKILL) the server by PID and reap it.  Idempotent. */
void	fx_redis_stop(struct fx_redis *r);

/* Options for r: CA, client pair, host 127.0.0.1, 5 s timeout. */
void	fx_opts(struct rds_tls_opts *o, const struct fx_pki *p,
	    const struct fx_redis *r);

/*
 * cmocka setup: *state is a new struct fx_env (fx_pki_make(), then
 * fx_redis_start() without extra lines); teardown stops, removes and
 * frees it.
 */
int	fx_env_setup(void **state);
int	fx_env_teardown(void **state);

/* rds_connect() with fx_opts() and max_reply; fails the test on error. */
struct rds_conn *fx_connect(const struct fx_pki *p, const struct fx_redis *r,
	    size_t max_reply);

#endif
