/*
 * `redis-ca enroll`: generate a key on this host, have the CA sign a CSR
 * for it with a one-time token, write the files atomically, and with
 * --daemon renew through mTLS /v1/renew when a third of the lifetime is
 * left.  The private key never leaves the host; the token is never
 * printed or logged.
 *
 * This file: cmd_enroll, the first enrollment and the --daemon loop
 * (renewal time, backoff, --exec, signals).  The command line is in
 * enroll_args.c, the requests to the CA in enroll_http.c, the JSON in
 * enroll_json.c and the output folder in enroll_files.c.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "ca.h"
#include "enroll.h"
#include "enroll_int.h"
#include "log.h"
#include "timeutil.h"

static const char usage_text[] =
    "usage: redis-ca enroll --url URL --cacert F (--token T | --token-file F)\n"
    "           --profile P --cn NAME [--dns NAME]... [--ip ADDR]...\n"
    "           [--key-type T] [--ttl D] --out DIR\n"
    "           [--daemon [--exec CMD] [--bundle-check D]\n"
    "            [--redis HOST:PORT [--redis-auth-file F] [--redis-user U]\n"
    "             [--group G]]]\n";

/* ------------------------------------------------------------------ */
/* Timing                                                              */

int64_t
enroll_renew_at(int64_t not_before, int64_t not_after, uint64_t rnd)
{
	int64_t life = not_after - not_before, at;
	uint64_t span;

	if (life <= 0)
		return not_before;
	span = (uint64_t)(life / 20) + 1;
	at = not_after - life / 3 - (int64_t)(rnd % span);
	return at < not_before ? not_before : at;
}

int64_t
enroll_backoff(unsigned attempt)
{
	int64_t d = ENROLL_BACKOFF_FIRST;

	while (attempt-- > 0 && d < ENROLL_BACKOFF_CAP)
		d *= 2;
	return d > ENROLL_BACKOFF_CAP ? ENROLL_BACKOFF_CAP : d;
}

bool
enroll_err_transient(const struct err *e)
{
	switch (e->code) {
	case ERR_NET:
	case ERR_IO:
	case ERR_CRYPTO:
	case ERR_INVALID_JSON:
	case ERR_INTERNAL:
		return true;
	default:
		return false;
	}
}

/* ------------------------------------------------------------------ */
/* The daemon: signals, --exec, readiness                              */

/*
 * Sleep until epoch time t or a stop signal (SIGTERM/SIGINT, blocked
 * and collected with sigtimedwait).  Returns true when asked to stop.
 * Sleeps in slices so a changed wall clock is noticed.
 */
static bool
wait_until(int64_t t, const sigset_t *stop)
{
	for (;;) {
		int64_t now = tu_now();
		struct timespec ts;
		int sig;

		if (now >= t)
			return false;
		ts.tv_sec = (time_t)(t - now > 60 ? 60 : t - now);
		ts.tv_nsec = 0;
		sig = sigtimedwait(stop, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("enroll: signal %d, stopping", sig);
			return true;
		}
	}
}

/*
 * The environment of --exec: ours, with REDIS_CA_OUT (the folder) and
 * REDIS_CA_SERIAL (the new certificate) set.  Built before fork(), so
 * the child only calls async-signal-safe functions.  Returns a new
 * array (free the two first strings and the array), or NULL.
 */
static char **
exec_env(const char *out, const char *serial)
{
	extern char **environ;
	char **env;
	size_t n = 0, i, k = 2;

	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 3, sizeof(*env))) == NULL)
		return NULL;
	if (asprintf(&env[0], "REDIS_CA_OUT=%s", out) < 0) {
		free(env);
		return NULL;
	}
	if (asprintf(&env[1], "REDIS_CA_SERIAL=%s", serial) < 0) {
		free(env[0]);
		free(env);
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "REDIS_CA_OUT=", 13) != 0 &&
		    strncmp(environ[i], "REDIS_CA_SERIAL=", 16) != 0)
			env[k++] = environ[i];
	env[k] = NULL;
	return env;
}

static void
exec_env_free(char **env)
{
	if (env == NULL)
		return;
	free(env[0]);
	free(env[1]);
	free(env);
}

/*
 * Run cmd with /bin/sh -c in its own process group, at most
 * ENROLL_EXEC_TIMEOUT seconds (then the group is killed), and log how
 * it ended.  A stop signal arriving meanwhile sets *stopping; the
 * command still finishes.
 */
static void
run_exec(const struct enroll_opts *o, const char *serial,
    const sigset_t *oldmask, bool *stopping)
{
	sigset_t set;
	int64_t deadline;
	char **env;
	pid_t pid;
	int st = 0;

	if ((env = exec_env(o->out, serial)) == NULL) {
		log_error("enroll: --exec: out of memory");
		return;
	}
	pid = fork();
	if (pid == -1) {
		log_error("enroll: --exec: fork: %s", strerror(errno));
		exec_env_free(env);
		return;
	}
	if (pid == 0) {
		(void)setpgid(0, 0);
		(void)sigprocmask(SIG_SETMASK, oldmask, NULL);
		execle("/bin/sh", "sh", "-c", o->exec, (char *)NULL, env);
		_exit(127);
	}
	exec_env_free(env);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	deadline = tu_now() + ENROLL_EXEC_TIMEOUT;
	for (;;) {
		struct timespec ts = { 1, 0 };
		pid_t w = waitpid(pid, &st, WNOHANG);
		int sig;

		if (w == pid)
			break;
		if (w == -1 && errno != EINTR) {
			log_error("enroll: --exec: waitpid: %s",
			    strerror(errno));
			return;
		}
		if (tu_now() >= deadline) {
			(void)kill(-pid, SIGKILL);
			(void)kill(pid, SIGKILL);
			(void)waitpid(pid, &st, 0);
			log_error("enroll: --exec command killed after %d s",
			    ENROLL_EXEC_TIMEOUT);
			return;
		}
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT)
			*stopping = true;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		log_info("enroll: --exec command succeeded");
	else if (WIFEXITED(st))
		log_warn("enroll: --exec command exited with status %d",
		    WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		log_warn("enroll: --exec command killed by signal %d",
		    WTERMSIG(st));
}

/* Tell systemd (Type=notify) that the files are in place. */
static void
notify_ready(void)
{
	const char *p = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t len;
	int fd;

	if (p == NULL || (p[0] != '/' && p[0] != '@'))
		return;
	len = strlen(p);
	if (len >= sizeof(sa.sun_path))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, p, len);
	if (p[0] == '@')
		sa.sun_path[0] = '\0';
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	(void)sendto(fd, "READY=1", 7, MSG_NOSIGNAL,
	    (const struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	close(fd);
}

/* Log where a certificate stands and when it will be renewed. */
static void
log_cert(const char *what, const struct enroll_cert *c)
{
	char na[RCA_TIME_STR];

	tu_format(c->not_after, na);
	log_info("enroll: %s certificate serial %s, valid until %s", what,
	    c->serial, na);
}

/*
 * The first enrollment.  A daemon (started at boot, perhaps before the
 * network or the CA is up) retries transient failures with backoff; a
 * one-shot enroll tries once.  Returns 0 enrolled, 1 stopped by a
 * signal, -1 failed (e says why).
 */
static int
enroll_first(const struct enroll_opts *o, struct enroll_cert *cert,
    const sigset_t *stop, struct err *e)
{
	unsigned attempt = 0;

	for (;;) {
		int64_t delay;

		if (enroll_once(o, cert, e) == 0)
			return 0;
		if (!o->daemon || !enroll_err_transient(e))
			return -1;
		delay = enroll_backoff(attempt++);
		log_warn("enroll: enrollment failed: %s; retrying in %lld s",
		    e->msg, (long long)delay);
		if (wait_until(tu_now() + delay, stop))
			return 1;
	}
}

/* What the daemon keeps between wakes to follow the trust bundle. */
struct follow {
	char	 etag[ENROLL_ETAG_MAX];	/* of the bundle last seen */
	int64_t	 next;			/* when to check it again */
	struct enroll_pull pull;	/* --redis: the pending report */
};

/*
 * Check the CA's trust bundle now (a failure is logged: the next check
 * retries) and run --exec when ca.pem changed; with --redis, load the
 * new ca.pem into Redis and check in.  *stopping is set when a stop
 * signal arrived during --exec.
 */
static void
follow_bundle(const struct enroll_opts *o, const struct enroll_cert *cert,
    struct follow *f, const sigset_t *oldmask, bool *stopping)
{
	struct err e = { ERR_OK, "" };
	bool changed = false;

	switch (enroll_bundle_check(o, f->etag, &e)) {
	case 1:
		log_info("enroll: the CA's trust bundle changed (ETag %s): "
		    "%s/ca.pem replaced", f->etag, o->out);
		changed = true;
		if (o->exec != NULL)
			run_exec(o, cert->serial, oldmask, stopping);
		break;
	case 0:
		break;
	default:
		log_warn("enroll: cannot check the CA's trust bundle: %s",
		    e.msg);
		break;
	}
	enroll_redis_checkin(o, cert, changed, &f->pull);
	f->next = tu_now() + o->bundle_check;
}

/*
 * wait_until(t), waking at least every --bundle-check to follow the
 * bundle.  Returns true when asked to stop.
 */
static bool
wait_following(const struct enroll_opts *o, const struct enroll_cert *cert,
    int64_t t, struct follow *f, const sigset_t *stop,
    const sigset_t *oldmask)
{
	for (;;) {
		bool stopping = false;

		if (tu_now() >= t)
			return false;
		if (wait_until(t < f->next ? t : f->next, stop))
			return true;
		if (tu_now() < f->next)
			continue;
		follow_bundle(o, cert, f, oldmask, &stopping);
		if (stopping)
			return true;
	}
}

/*
 * One renewal (with --redis: the previous files saved, the new ones
 * loaded into Redis and reported), failures retried with backoff.
 * Returns 0 renewed, 1 stopped by a signal, -1 cannot renew (said on
 * stderr).
 */
static int
renew_retrying(const struct enroll_opts *o, struct enroll_cert *cert,
    struct follow *f, const sigset_t *stop, const sigset_t *oldmask)
{
	char when[RCA_TIME_STR], old[RCA_SERIAL_HEX_MAX + 1];
	struct err e = { ERR_OK, "" };
	unsigned attempt = 0;

	for (;;) {
		int64_t now = tu_now(), delay;

		if (now >= cert->not_after) {
			tu_format(cert->not_after, when);
			fprintf(stderr, "redis-ca: certificate expired at %s; "
			    "re-enroll with a new token\n", when);
			return -1;
		}
		snprintf(old, sizeof(old), "%s", cert->serial);
		if (enroll_redis_save_prev(o, &e) == 0 &&
		    enroll_renew_once(o, cert, &e) == 0 &&
		    enroll_redis_apply(o, cert, old, now, &f->pull, &e) == 0)
			return 0;
		if (!enroll_err_transient(&e)) {
			fprintf(stderr, "redis-ca: %s%s\n", e.msg,
			    e.code == ERR_UNAUTHORIZED ? "; re-enroll with a "
			    "new token" : "");
			return -1;
		}
		delay = enroll_backoff(attempt++);
		if (delay > cert->not_after - now)
			delay = cert->not_after - now;
		log_warn("enroll: renewal failed: %s; retrying in %lld s",
		    e.msg, (long long)delay);
		if (wait_following(o, cert, now + delay, f, stop, oldmask))
			return 1;
	}
}

/*
 * The renewal loop, following the trust bundle between renewals.
 * Returns the exit status: 0 when stopped by a signal, 1 when the
 * certificate can no longer be renewed.
 */
static int
daemon_run(const struct enroll_opts *o, struct enroll_cert *cert,
    struct follow *f, const sigset_t *stop, const sigset_t *oldmask)
{
	char when[RCA_TIME_STR];
	bool stopping = false;

	/* With --redis: Redis must serve what we hold before we say so. */
	enroll_redis_start(o, cert, &f->pull);
	notify_ready();
	/* A daemon that resumes may have missed a bundle change. */
	follow_bundle(o, cert, f, oldmask, &stopping);
	if (stopping)
		return 0;
	for (;;) {
		struct err e = { ERR_OK, "" };
		uint64_t rnd = 0;
		int64_t at;

		(void)ca_random(&rnd, sizeof(rnd), &e);
		at = enroll_renew_at(cert->not_before, cert->not_after, rnd);
		tu_format(at, when);
		log_info("enroll: next renewal of serial %s at %s",
		    cert->serial, when);
		if (wait_following(o, cert, at, f, stop, oldmask))
			return 0;
		/* Every wake checks the bundle: the renewal trusts it. */
		follow_bundle(o, cert, f, oldmask, &stopping);
		if (stopping)
			return 0;
		switch (renew_retrying(o, cert, f, stop, oldmask)) {
		case 0:
			break;
		case 1:
			return 0;
		default:
			return 1;
		}
		log_cert("renewed:", cert);
		if (o->exec != NULL)
			run_exec(o, cert->serial, oldmask, &stopping);
		if (stopping) {
			log_info("enroll: stopping");
			return 0;
		}
	}
}

static int
daemon_loop(const struct enroll_opts *o, struct enroll_cert *cert,
    const sigset_t *stop, const sigset_t *oldmask)
{
	struct follow f;
	int status;

	memset(&f, 0, sizeof(f));
	status = daemon_run(o, cert, &f, stop, oldmask);
	enroll_pull_clear(&f.pull);
	return status;
}

/*
 * A daemon that restarts resumes with the certificate it holds (into
 * *cert; the one-use token is spent); it enrolls again only when there
 * is none, it has expired, or it was for another common name.
 */
static bool
can_resume(const struct enroll_opts *o, struct enroll_cert *cert,
    struct err *e)
{
	bool have = false;

	if (!o->daemon || enroll_load_state(o->out, cert, e) != 0)
		return false;
	if (cert->not_after <= tu_now())
		log_warn("enroll: certificate %s in %s has expired; "
		    "enrolling again", cert->serial, o->out);
	else if (cert->has_names && (cert->names.cn == NULL ||
	    strcmp(cert->names.cn, o->names.cn) != 0))
		log_warn("enroll: certificate %s in %s is for another "
		    "name; enrolling again", cert->serial, o->out);
	else
		have = true;
	if (!have)
		enroll_cert_clear(cert);
	return have;
}

int
cmd_enroll(int argc, char **argv)
{
	struct enroll_opts o;
	struct enroll_cert cert;
	struct err e = { ERR_OK, "" };
	sigset_t stop, blocked, oldmask;
	bool curl_up = false, masked = false;
	int status = 1, lockfd = -1;

	memset(&cert, 0, sizeof(cert));
	if (enroll_parse_args(argc, argv, &o, &e) == -1) {
		fprintf(stderr, "redis-ca enroll: %s (see redis-ca enroll "
		    "--help)\n", e.msg);
		return 2;
	}
	if (o.help) {
		fputs(usage_text, stdout);
		status = 0;
		goto out;
	}
	/*
	 * Stop signals are blocked before libcurl can start a resolver
	 * thread, so they are only ever collected by sigtimedwait.
	 */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	blocked = stop;
	sigaddset(&blocked, SIGCHLD);
	if (o.daemon) {
		if (sigprocmask(SIG_BLOCK, &blocked, &oldmask) == -1) {
			fprintf(stderr, "redis-ca: sigprocmask: %s\n",
			    strerror(errno));
			goto out;
		}
		masked = true;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "redis-ca: cannot initialise libcurl\n");
		goto out;
	}
	curl_up = true;
	if (enroll_ensure_dir(o.out, &e) == -1 ||
	    (lockfd = enroll_lock_dir(o.out, &e)) == -1 ||
	    enroll_recover_files(o.out, &e) == -1) {
		fprintf(stderr, "redis-ca: %s\n", e.msg);
		goto out;
	}
	if (can_resume(&o, &cert, &e))
		log_cert("resuming with", &cert);
	else {
		switch (enroll_first(&o, &cert, &stop, &e)) {
		case 0:
			break;
		case 1:
			status = 0;
			goto out;
		default:
			fprintf(stderr, "redis-ca: %s\n", e.msg);
			goto out;
		}
		log_cert("enrolled:", &cert);
	}
	status = o.daemon ? daemon_loop(&o, &cert, &stop, &oldmask) : 0;
out:
	if (lockfd >= 0)
		close(lockfd);
	enroll_cert_clear(&cert);
	enroll_opts_clear(&o);
	if (curl_up)
		curl_global_cleanup();
	if (masked)
		(void)sigprocmask(SIG_SETMASK, &oldmask, NULL);
	return status;
}
