/*
 * `redis-ca serve`: load the configuration, open the service, start the
 * two listeners and the scheduler, then wait for a signal.  SIGTERM and
 * SIGINT stop it cleanly (in-flight requests finish); SIGHUP is logged
 * and ignored.  Every thread is started with those signals blocked, so
 * only main's sigwait() ever sees them.  Before anything starts, the
 * start-up checks of SPEC section 8 refuse unsafe secrets and folders,
 * and (SQLite) the data folder's serve.lock is taken for serve's life,
 * so neither `restore` nor a second `serve` runs beside it.  On a
 * PostgreSQL hot standby (schema current) it starts read-only (SPEC
 * section 9).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "cli.h"
#include "db.h"
#include "hostport.h"
#include "log.h"
#include "opts.h"
#include "safefile.h"
#include "scheduler.h"

/* What the scheduler's tick needs: the service and the listeners. */
struct serve_tick {
	struct svc	*s;		/* borrowed */
	pthread_mutex_t	 mu;		/* guards a: api_stop() waits */
	struct api	*a;		/* borrowed; NULL once stopping */
	uint64_t	 api_gen;	/* API certificate the listener has */
};

/*
 * One scheduler round, then: when the service replaced the API's own
 * certificate (after a CA activation, or near its expiry), the HTTPS
 * listener loads it for new connections.  A failed load is retried on
 * the next round (the old certificate stays served meanwhile).
 */
static int64_t
tick(void *arg)
{
	struct serve_tick *t = arg;
	int64_t next = svc_tick(t->s);
	uint64_t gen = svc_api_cert_generation(t->s);
	struct err e;

	err_clear(&e);
	pthread_mutex_lock(&t->mu);
	if (gen != t->api_gen && api_tls_reload(t->a, &e) == 0)
		t->api_gen = gen;
	pthread_mutex_unlock(&t->mu);
	return next;
}

/*
 * The host of a listen address (config.c checked it with
 * hostport_split()) as a URL writes it: an IPv6 literal in brackets.
 */
static void
listen_host(const char *addr, char *out, size_t outsz)
{
	char host[256];
	unsigned port;
	bool v6;

	if (!hostport_split(addr, host, sizeof(host), &port))
		host[0] = '\0';
	v6 = strchr(host, ':') != NULL;
	snprintf(out, outsz, "%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "");
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

/*
 * cli_open() with the start-up checks between loading and opening, and
 * (SQLite) the data folder's lock taken before the database is opened:
 * *lock holds it for serve's life (-1 with PostgreSQL, whose instances
 * may share a folder).
 */
static int
serve_open(const char *path, struct config *cfg, struct svc **svc,
    int *lock, struct err *e)
{
	struct svc_config sc;

	*svc = NULL;
	*lock = -1;
	if (cli_config_load(path, cfg, e) == -1)
		return -1;
	config_svc_view(cfg, &sc);
	cli_svc_api_cert(cfg, &sc);
	if (startup_checks(cfg, e) == -1 || (!db_is_postgres(cfg->database) &&
	    (*lock = cli_lock_data(cfg->dir, e)) == -1) ||
	    (*svc = svc_open(&sc, e)) == NULL) {
		if (*lock != -1)
			close(*lock);
		*lock = -1;
		config_clear(cfg);
		return -1;
	}
	return 0;
}

struct serve_opts {
	const char	*config;
	bool		 help;
};

static const struct opt serve_opt_table[] = {
	OPTS_STRING("config", struct serve_opts, config),
	{ .name = "help", .short_name = 'h', .type = OPT_FLAG,
	    .flags = OPT_F_STOP, .off = offsetof(struct serve_opts, help) },
};

static const struct opts_cmd serve_cmd = {
	OPTS_GNU, serve_opt_table,
	sizeof(serve_opt_table) / sizeof(serve_opt_table[0]), true,
	"usage: redis-ca serve [--config FILE]\n"
};

/* EXIT_OK with *config set, or the status to exit with now. */
static int
parse_args(int argc, char **argv, const char **config)
{
	struct serve_opts o = { CLI_DEFAULT_CONFIG, false };
	struct opts_result res;
	struct err e;

	err_clear(&e);
	if (opts_parse(&serve_cmd, argc, argv, &o, &res, &e) == -1) {
		cli_error("serve: %s", e.msg);
		return EXIT_USAGE;
	}
	if (o.help) {
		fputs(serve_cmd.usage, stdout);
		exit(EXIT_OK);
	}
	*config = o.config;
	return EXIT_OK;
}

/*
 * Block the stop signals (set) and ignore SIGPIPE, before any thread
 * exists, so that all of them inherit it.
 */
static void
block_signals(sigset_t *set)
{
	struct sigaction sa;

	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* Say where the listeners are. */
static void
log_serving(const struct config *cfg, struct api *a)
{
	char host[260], phost[260];

	listen_host(cfg->api_listen, host, sizeof(host));
	if (cfg->public_listen != NULL) {
		listen_host(cfg->public_listen, phost, sizeof(phost));
		log_info("redis-ca %s serving: api %s://%s:%u, public "
		    "http://%s:%u", RCA_VERSION, cfg->api_tls_enabled ?
		    "https" : "http", host, api_port(a), phost,
		    api_public_port(a));
	} else
		log_info("redis-ca %s serving: api %s://%s:%u (no public "
		    "listener)", RCA_VERSION, cfg->api_tls_enabled ? "https" :
		    "http", host, api_port(a));
}

/* Wait for SIGTERM or SIGINT (of set); SIGHUP is logged and ignored. */
static void
wait_for_stop(const sigset_t *set)
{
	int sig;

	for (;;) {
		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			log_info("SIGHUP: nothing is reloaded; restart "
			    "redis-ca to apply configuration changes");
			continue;
		}
		log_info("%s: shutting down", sig == SIGTERM ? "SIGTERM" :
		    "SIGINT");
		return;
	}
}

int
cmd_serve(int argc, char **argv)
{
	struct config cfg = CONFIG_INIT;
	struct api_config ac;
	struct svc *s = NULL;
	struct api *a = NULL;
	struct sched *sch = NULL;
	struct serve_tick st = { NULL, PTHREAD_MUTEX_INITIALIZER, NULL, 0 };
	const char *config;
	sigset_t set;
	struct err e;
	int rc, lock = -1;

	err_clear(&e);
	if ((rc = parse_args(argc, argv, &config)) != EXIT_OK)
		return rc;
	rc = EXIT_FAIL;
	/*
	 * Buffers of 1 MiB and more (a CRL, its PEM) come from mmap and go
	 * back to the system when freed.  Without this glibc raises its
	 * mmap threshold after the first such free, and per-thread arenas
	 * then keep CRL-sized chunks (179 MB peak after parallel revokes
	 * at 1M certificates; 54 MB with this).  Capping the arenas
	 * instead (M_ARENA_MAX 2: 75 MB) made 32 issuing threads contend
	 * on malloc and cost about 10% of issuance.
	 */
	(void)mallopt(M_MMAP_THRESHOLD, 1024 * 1024);

	block_signals(&set);

	if (serve_open(config, &cfg, &s, &lock, &e) == -1) {
		cli_error("serve: %s", e.msg);
		goto out;
	}
	if (!cfg.api_tls_enabled)
		log_warn("api_tls.enabled is false: the API listener speaks "
		    "plain HTTP; run it only behind a TLS-terminating proxy");
	config_api_view(&cfg, &ac);
	/* Read before the files are: a change in between reloads them. */
	st.api_gen = svc_api_cert_generation(s);
	if ((a = api_start(s, &ac, &e)) == NULL) {
		cli_error("serve: %s", e.msg);
		goto out;
	}
	st.s = s;
	st.a = a;
	if ((sch = sched_start(tick, &st, &e)) == NULL) {
		cli_error("serve: %s", e.msg);
		goto out;
	}
	log_serving(&cfg, a);
	/* A standby's instance: svc_open() checked its schema is current. */
	if (svc_read_only(s))
		log_warn("serving read-only: the database is a standby; write "
		    "routes answer 503 read_only until it is promoted");
	wait_for_stop(&set);
	rc = EXIT_OK;
out:
	/* Listeners first (in-flight requests finish), then the scheduler,
	 * then the service both of them use.  The tick no longer reloads
	 * the listener's certificate once it is stopping. */
	pthread_mutex_lock(&st.mu);
	st.a = NULL;
	pthread_mutex_unlock(&st.mu);
	api_stop(a);
	sched_stop(sch);
	svc_close(s);
	if (lock != -1)
		close(lock);
	config_clear(&cfg);
	if (rc == EXIT_OK)
		log_info("stopped");
	return rc;
}
