/*
 * The two libmicrohttpd daemons of the api: start them (TLS, limits,
 * the worker pool, the throttle), report their ports, and stop them
 * without losing a request in flight.  Each request's life is in
 * exchange.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "fileio.h"
#include "rca_limits.h"
#include "log.h"
#include "server.h"
#include "tls.h"

/* GnuTLS priorities: TLS 1.2 and 1.3, forward-secret AEAD suites only. */
#define API_TLS_PRIORITIES						\
	"NONE:+VERS-TLS1.3:+VERS-TLS1.2:+ECDHE-ECDSA:+ECDHE-RSA:"	\
	"+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:+AEAD:+SIGN-ALL:"	\
	"+GROUP-ALL:+COMP-NULL:+CTYPE-X509:%SERVER_PRECEDENCE"

/*
 * The public listener's pool has at least this many threads.  MHD runs
 * each request's handler on the pool thread that accepted its
 * connection, and a pool whose threads are all inside handlers accepts
 * nothing, /healthz included: the public listener answers everyone
 * (the CRL and CA to every Redis client, /metrics to scrapers, /healthz
 * and /readyz to the orchestrator), so it must not be as small as the
 * api's one-thread-per-core pool.  Its handlers answer from memory or
 * from one indexed read (/metrics reads counters, not the table), all
 * but /readyz, which waits for the database's write lock: behind a
 * write transaction of this process, or up to DB_BUSY_TIMEOUT_MS
 * behind another process.  With this many threads, fifteen probes or
 * scrapes stuck at once still leave a thread for /healthz; threads cost
 * little while idle (a stack and an epoll set each), and no public
 * route writes (writes queue on the worker pool), so a larger pool adds
 * no contention for the database.
 */
#define API_PUBLIC_THREADS	16

/* Idle seconds; MHD pool per connection; grace on stop. */
#define API_CONN_TIMEOUT	30
#define API_CONN_MEMORY		(64 * 1024)
#define API_STOP_WAIT_MS	10000

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	/* TLS handshakes refused by policy are routine: debug level. */
	log_debug("http: %s", line);
}

static int
read_pem(const char *path, char **out, size_t *len, struct err *e)
{
	struct err fe;

	if (fio_read_all(path, RCA_MAX_PEM_BYTES, out, len, &fe) == -1) {
		err_set(e, ERR_IO, "cannot read %.200s: %s", path, fe.msg);
		return -1;
	}
	return 0;
}

/*
 * MHD_start_daemon with ops.  With TLS the certificate is not given to
 * MHD: each connection pins the current one (tls.c) and its handshake
 * asks for it, so that api_tls_reload() takes effect without a restart.
 */
static struct MHD_Daemon *
mhd_start(struct api *a, struct listener *l, unsigned flags,
    struct MHD_OptionItem *ops, bool tls)
{
	if (tls)
		return MHD_start_daemon(flags, 0, NULL, NULL, api_on_request,
		    l, MHD_OPTION_ARRAY, ops, MHD_OPTION_HTTPS_CERT_CALLBACK,
		    &api_tls_retrieve, MHD_OPTION_NOTIFY_CONNECTION,
		    api_tls_on_connection, a->tls, MHD_OPTION_END);
	return MHD_start_daemon(flags, 0, NULL, NULL, api_on_request, l,
	    MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
}

static struct MHD_Daemon *
start_daemon(struct api *a, struct listener *l, const char *addr, bool tls,
    const struct api_config *c, struct err *e)
{
	struct MHD_OptionItem ops[20];
	struct sockaddr_storage ss;
	struct MHD_Daemon *d;
	unsigned flags, threads, maxc, per_ip;
	socklen_t sslen;
	size_t i = 0;
	long ncpu;

	if (api_listen_parse(addr, &ss, &sslen, e) == -1)
		return NULL;
	threads = c->threads;
	if (threads == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		threads = ncpu > 0 ? (unsigned)ncpu : 1;
	}
	maxc = c->max_connections > 0 ? c->max_connections : 1024;
	/* MHD shares the connection limit out among the pool's threads. */
	if (l->public_only && threads < API_PUBLIC_THREADS)
		threads = API_PUBLIC_THREADS < maxc ? API_PUBLIC_THREADS :
		    maxc;
	/*
	 * One address must not take a listener away from the others (the
	 * public one serves the CRL and CA to everyone), so both get the
	 * same small per-address cap.  Idle connections cost no thread
	 * (MHD polls them with epoll) and are closed after
	 * API_CONN_TIMEOUT, so the cap is what bounds one address.
	 */
	per_ip = c->max_connections_per_ip > 0 ? c->max_connections_per_ip :
	    RCA_MAX_CONN_PER_IP_DEFAULT;
	if (per_ip > maxc)
		per_ip = maxc;
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (tls)
		flags |= MHD_USE_TLS;
	/* The logger first: later options may already want to log. */
	ops[i++] = (struct MHD_OptionItem){ MHD_OPTION_EXTERNAL_LOGGER,
	    (intptr_t)on_mhd_log, NULL };
	ops[i++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, &ss };
	/* A pool of one is refused by MHD: one thread is its default. */
	if (threads > 1)
		ops[i++] = (struct MHD_OptionItem){
		    MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)threads, NULL };
	ops[i++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT,
	    (intptr_t)maxc, NULL };
	ops[i++] = (struct MHD_OptionItem){ MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (intptr_t)per_ip, NULL };
	ops[i++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT,
	    API_CONN_TIMEOUT, NULL };
	ops[i++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    API_CONN_MEMORY, NULL };
	ops[i++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED,
	    (intptr_t)api_on_completed, l };
	if (tls) {
		ops[i++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES,
		    0, (void *)API_TLS_PRIORITIES };
		if (a->tls_ca != NULL)
			ops[i++] = (struct MHD_OptionItem){
			    MHD_OPTION_HTTPS_MEM_TRUST, 0, a->tls_ca };
	}
	ops[i++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	d = mhd_start(a, l, flags, ops, tls);
	if (d == NULL)
		err_set(e, ERR_NET, "cannot listen on %.80s (%s listener)",
		    addr, l->name);
	return d;
}

struct api *
api_start(struct svc *s, const struct api_config *c, struct err *e)
{
	struct api *a = NULL, *ret = NULL;
	size_t len, maxc;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	a->svc = s;
	a->max_body = c->max_body_bytes > 0 ? c->max_body_bytes :
	    RCA_MAX_BODY_BYTES_DEFAULT;
	a->table = api_route_table(&a->nroutes);
	a->l_api = (struct listener){ a, NULL, false, "api" };
	a->l_public = (struct listener){ a, NULL, true, "public" };
	if (api_metrics_init(&a->metrics, a->nroutes, e) == -1)
		goto out;
	/*
	 * Each connection has at most one job; the slack keeps 503s for
	 * a pool that is truly stuck.  Two listeners share the pool.
	 */
	maxc = c->max_connections > 0 ? c->max_connections : 1024;
	a->workers = api_workers_new(RCA_API_WORKERS,
	    4 * RCA_API_WORKERS + 2 * (size_t)maxc, api_run_job, e);
	if (a->workers == NULL)
		goto out;
	a->thr_limit = c->auth_failures_per_minute > 0 ?
	    c->auth_failures_per_minute : RCA_AUTH_FAILURES_DEFAULT;
	if ((a->thr = api_throttle_new(a->thr_limit, API_THR_CAPACITY,
	    e)) == NULL)
		goto out;
	if (c->api_tls) {
		if (c->tls_cert == NULL || c->tls_key == NULL) {
			err_set(e, ERR_CONFIG, "api_tls needs a certificate "
			    "and a key");
			goto out;
		}
		if ((a->tls = api_tls_new(c->tls_cert, c->tls_key,
		    e)) == NULL)
			goto out;
		if (c->tls_ca != NULL && c->tls_ca[0] != '\0' &&
		    read_pem(c->tls_ca, &a->tls_ca, &len, e) == -1)
			goto out;
	}
	a->l_api.d = start_daemon(a, &a->l_api, c->api_listen, c->api_tls, c,
	    e);
	if (a->l_api.d == NULL)
		goto out;
	if (c->public_listen != NULL && c->public_listen[0] != '\0') {
		a->l_public.d = start_daemon(a, &a->l_public,
		    c->public_listen, false, c, e);
		if (a->l_public.d == NULL)
			goto out;
	}
	ret = a;
	a = NULL;
out:
	api_stop(a);
	return ret;
}

size_t
api_jobs_pending(struct api *a)
{
	long n = atomic_load(&a->jobs);

	return n > 0 ? (size_t)n : 0;
}

bool
api_stopping(struct api *a)
{
	return atomic_load(&a->stopping);
}

/* True while a request is unanswered or a job is queued or running. */
static bool
busy(struct api *a)
{
	return atomic_load(&a->inflight) > 0 || (a->workers != NULL &&
	    api_workers_pending(a->workers) > 0);
}

/*
 * Stop accepting on both listeners, give in-flight requests time to
 * finish, stop the workers (they run every job already queued and
 * resume its connection), then stop MHD: no connection is left
 * suspended when MHD_stop_daemon runs.
 */
void
api_stop(struct api *a)
{
	struct listener *ls[2];
	MHD_socket fd[2] = { MHD_INVALID_SOCKET, MHD_INVALID_SOCKET };

	if (a == NULL)
		return;
	ls[0] = &a->l_public;
	ls[1] = &a->l_api;
	atomic_store(&a->stopping, true);
	for (int i = 0; i < 2; i++)
		if (ls[i]->d != NULL)
			fd[i] = MHD_quiesce_daemon(ls[i]->d);
	for (int ms = 0; ms < API_STOP_WAIT_MS && busy(a); ms += 10)
		usleep(10000);
	api_workers_stop(a->workers);
	for (int i = 0; i < 2; i++) {
		if (ls[i]->d != NULL)
			MHD_stop_daemon(ls[i]->d);
		if (fd[i] != MHD_INVALID_SOCKET)
			close(fd[i]);
	}
	api_workers_free(a->workers);
	api_throttle_free(a->thr);
	api_metrics_free(&a->metrics);
	/* After MHD_stop_daemon: every connection released its pin. */
	api_tls_free(a->tls);
	free(a->tls_ca);
	free(a);
}

int
api_tls_reload(struct api *a, struct err *e)
{
	if (a == NULL || a->tls == NULL)
		return 0;
	if (api_tls_load(a->tls, e) == -1) {
		log_warn("api: the new TLS certificate was not loaded (the "
		    "previous one is still served): %s", e->msg);
		return -1;
	}
	log_info("api: TLS certificate reloaded; new connections get it");
	return 0;
}

static unsigned
daemon_port(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *info;

	if (d == NULL)
		return 0;
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	return info != NULL ? info->port : 0;
}

unsigned
api_port(const struct api *a)
{
	return a != NULL ? daemon_port(a->l_api.d) : 0;
}

unsigned
api_public_port(const struct api *a)
{
	return a != NULL ? daemon_port(a->l_public.d) : 0;
}
