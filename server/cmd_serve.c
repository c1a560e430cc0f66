/*
 * `redis-ca serve`: load the configuration, open the service, start the
 * two listeners and the scheduler, then wait for a signal.  SIGTERM and
 * SIGINT stop it cleanly (in-flight requests finish); SIGHUP is logged
 * and ignored.  Every thread is started with those signals blocked, so
 * only main's sigwait() ever sees them.  Before anything starts, the
 * start-up checks of SPEC section 8 refuse unsafe secrets and folders.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "cli.h"
#include "log.h"
#include "safefile.h"
#include "scheduler.h"

static int64_t
tick(void *arg)
{
	return svc_tick(arg);
}

/* "host" of a "host:port" listen address, into out. */
static void
listen_host(const char *addr, char *out, size_t outsz)
{
	const char *colon = strrchr(addr, ':');
	size_t n = colon != NULL ? (size_t)(colon - addr) : strlen(addr);

	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, addr, n);
	out[n] = '\0';
}

/*
 * A folder holding the CA's secrets must not be writable by group or
 * others: whoever can write it can swap a key for a link or their own.
 */
static int
check_folder(const char *path, struct err *e)
{
	struct stat	st;
	int		fd;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		err_set(e, ERR_IO, "%s: %s", path, errno == ELOOP ?
		    "is a symbolic link" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	if ((st.st_mode & 022) != 0) {
		err_set(e, ERR_IO, "%s: the data folder has mode %04o: "
		    "writable by group or others (chmod go-w)", path,
		    (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/*
 * The start-up checks of SPEC section 8 (ca.key itself is checked by
 * ca_load(): owner, mode, one link): the data folder is not writable by
 * group or others; tls/api.key (when TLS is on), tls/admin.key and
 * admin.token (when it is still there) are regular files owned by the
 * running user with no group or other access, each checked with fstat
 * on an O_NOFOLLOW descriptor.
 */
static int
startup_checks(const struct config *c, struct err *e)
{
	struct sf_rules	 rules;
	char		 token[RCA_MAX_PATH];
	struct err	 le;
	const char	*keys[2];
	size_t		 nkeys = 0;

	memset(&rules, 0, sizeof(rules));
	rules.owner_set = true;
	rules.uid = geteuid();
	rules.forbid_mode = 077;
	if (check_folder(c->dir, e) == -1)
		return -1;
	if (c->api_tls_enabled)
		keys[nkeys++] = c->api_tls_key;
	keys[nkeys++] = c->admin_key;
	for (size_t i = 0; i < nkeys; i++)
		if (sf_check_path(keys[i], &rules, e) == -1)
			return -1;
	/* The first admin token may have been moved to a vault. */
	if (snprintf(token, sizeof(token), "%s/admin.token", c->dir) >=
	    (int)sizeof(token))
		return 0;
	err_clear(&le);
	if (sf_check_path(token, &rules, &le) == -1 &&
	    le.code != ERR_NOT_FOUND) {
		err_set(e, ERR_IO, "%s", le.msg);
		return -1;
	}
	return 0;
}

/* cli_open() with the start-up checks between loading and opening. */
static int
serve_open(const char *path, struct config *cfg, struct svc **svc,
    struct err *e)
{
	struct svc_config sc;

	*svc = NULL;
	if (config_load(path, cfg, e) == -1) {
		if (e->code == ERR_NOT_FOUND)
			err_set(e, ERR_NOT_FOUND, "%s: no such file (run "
			    "redis-ca init first, or pass --config)", path);
		return -1;
	}
	config_svc_view(cfg, &sc);
	if (startup_checks(cfg, e) == -1 ||
	    (*svc = svc_open(&sc, e)) == NULL) {
		config_clear(cfg);
		return -1;
	}
	return 0;
}

static int
parse_args(int argc, char **argv, const char **config)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*config = CLI_DEFAULT_CONFIG;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			*config = optarg;
			break;
		case 'h':
			printf("usage: redis-ca serve [--config FILE]\n");
			exit(EXIT_OK);
		default:
			return cli_bad_option("serve", argv, c);
		}
	}
	if (optind < argc) {
		cli_error("serve: unexpected argument \"%.64s\"",
		    argv[optind]);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int
cmd_serve(int argc, char **argv)
{
	struct config cfg = CONFIG_INIT;
	struct api_config ac;
	struct svc *s = NULL;
	struct api *a = NULL;
	struct sched *sch = NULL;
	struct sigaction sa;
	const char *config;
	sigset_t set;
	char host[256];
	struct err e;
	int rc, sig;

	err_clear(&e);
	if ((rc = parse_args(argc, argv, &config)) != EXIT_OK)
		return rc;
	rc = EXIT_FAIL;

	/* Before any thread exists, so that all of them inherit it. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	if (serve_open(config, &cfg, &s, &e) == -1) {
		cli_error("serve: %s", e.msg);
		goto out;
	}
	if (!cfg.api_tls_enabled)
		log_warn("api_tls.enabled is false: the API listener speaks "
		    "plain HTTP; run it only behind a TLS-terminating proxy");
	config_api_view(&cfg, &ac);
	if ((a = api_start(s, &ac, &e)) == NULL) {
		cli_error("serve: %s", e.msg);
		goto out;
	}
	if ((sch = sched_start(tick, s, &e)) == NULL) {
		cli_error("serve: %s", e.msg);
		goto out;
	}
	listen_host(cfg.api_listen, host, sizeof(host));
	if (cfg.public_listen != NULL) {
		char phost[256];

		listen_host(cfg.public_listen, phost, sizeof(phost));
		log_info("redis-ca %s serving: api %s://%s:%u, public "
		    "http://%s:%u", RCA_VERSION, cfg.api_tls_enabled ?
		    "https" : "http", host, api_port(a), phost,
		    api_public_port(a));
	} else
		log_info("redis-ca %s serving: api %s://%s:%u (no public "
		    "listener)", RCA_VERSION, cfg.api_tls_enabled ? "https" :
		    "http", host, api_port(a));

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			log_info("SIGHUP: nothing is reloaded; restart "
			    "redis-ca to apply configuration changes");
			continue;
		}
		log_info("%s: shutting down", sig == SIGTERM ? "SIGTERM" :
		    "SIGINT");
		break;
	}
	rc = EXIT_OK;
out:
	/* Listeners first (in-flight requests finish), then the scheduler,
	 * then the service both of them use. */
	api_stop(a);
	sched_stop(sch);
	svc_close(s);
	config_clear(&cfg);
	if (rc == EXIT_OK)
		log_info("stopped");
	return rc;
}
