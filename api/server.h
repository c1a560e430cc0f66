/*
 * The server's state, shared by server.c (the two libmicrohttpd
 * daemons: start, stop, ports) and exchange.c (the life of one request
 * on them).  Nothing else in api/ looks inside struct api.
 */
#ifndef RCA_API_SERVER_H
#define RCA_API_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <microhttpd.h>

#include "api_priv.h"

/* One of the two daemons (borrowed by its callbacks as cls). */
struct listener {
	struct api		*api;
	struct MHD_Daemon	*d;
	bool			 public_only;
	const char		*name;		/* "api", "public" */
};

struct api {
	struct svc		*svc;
	size_t			 max_body;
	const struct api_route	*table;
	size_t			 nroutes;
	struct api_metrics	 metrics;
	struct listener		 l_api;
	struct listener		 l_public;
	struct api_tls		*tls;		/* certificate, key: new */
	char			*tls_ca;	/* PEM, kept while MHD runs */
	struct api_workers	*workers;	/* runs non-GET routes, new */
	struct api_throttle	*thr;		/* auth failures, new */
	unsigned		 thr_limit;	/* per window */
	_Atomic long		 inflight;	/* not yet completed */
	_Atomic long		 jobs;		/* handed to workers, not run */
	_Atomic bool		 stopping;	/* api_stop() began */
};

/*
 * libmicrohttpd's callbacks (exchange.c): the access handler and the
 * completion notice, both with cls the listener (borrowed), and the
 * worker pool's job (a suspended request).
 */
enum MHD_Result api_on_request(void *cls, struct MHD_Connection *conn,
	    const char *url, const char *method, const char *version,
	    const char *upload, size_t *upload_size, void **con_cls);
void	api_on_completed(void *cls, struct MHD_Connection *conn,
	    void **con_cls, enum MHD_RequestTerminationCode toe);
void	api_run_job(void *job);

#endif
