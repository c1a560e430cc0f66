/*
 * On PostgreSQL, the CRL other instances publish: a thread waits for
 * their notices on a connection of its own (db_notify_wait()) and loads
 * each newer stored CRL.  Every SVC_CRL_POLL_MS without a notice it
 * asks for the stored number anyway, so a notice lost with a broken
 * connection costs at most that long; a lost connection is made again
 * on the next round.  Leadership does not matter here: followers load
 * what the leader (or any instance revoking) publishes.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "svc_int.h"

/*
 * Between two tries to open a listener (server down, or a standby,
 * where LISTEN is refused): the poll goes on meanwhile.
 */
#define LISTEN_RETRY_MS	5000

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool
listen_stopping(struct svc *s)
{
	bool stop;

	pthread_mutex_lock(&s->crl_mu);
	stop = s->crl_listen_stop;
	pthread_mutex_unlock(&s->crl_mu);
	return stop;
}

/* Without a listener: rest SVC_CRL_POLL_MS unless woken to stop. */
static void
listen_rest(struct svc *s)
{
	struct pollfd pfd = { .fd = s->crl_wake[0], .events = POLLIN };

	(void)poll(&pfd, 1, SVC_CRL_POLL_MS);
}

/* The listener's state between rounds (listen_run()). */
struct listen_state {
	struct db_notify	*n;		/* owned, or NULL */
	bool			 down;		/* the last open failed */
	int64_t			 retry_at;	/* mono_ms() of the next open */
};

/*
 * One round: (re)open the listener when it has none and it is time,
 * wait for a notice or the poll interval; -1 without a listener
 * (ls->n NULL) after resting the interval.
 */
static int
listen_round(struct svc *s, struct listen_state *ls)
{
	struct db_notify **n = &ls->n;
	bool		*down = &ls->down;
	struct err	 e;
	uint64_t	 number = 0;
	int		 r;

	err_clear(&e);
	if (*n == NULL && mono_ms() < ls->retry_at) {
		listen_rest(s);
		return -1;
	}
	if (*n == NULL) {
		*n = db_notify_open(s->db, &e);
		pthread_mutex_lock(&s->crl_mu);
		if (*n != NULL)
			s->crl_listens++;
		s->crl_listen_tried = true;
		pthread_cond_broadcast(&s->crl_cv);
		pthread_mutex_unlock(&s->crl_mu);
		if (*n == NULL) {
			if (!*down)
				log_warn("CRL listener: %s; polling",
				    e.msg);
			*down = true;
			ls->retry_at = mono_ms() + LISTEN_RETRY_MS;
			listen_rest(s);
			return -1;
		}
		if (*down)
			log_info("CRL listener: listening again");
		*down = false;
	}
	if ((r = db_notify_wait(*n, SVC_CRL_POLL_MS, s->crl_wake[0], &number,
	    &e)) == -1) {
		db_notify_close(*n);
		*n = NULL;
		listen_rest(s);
		return -1;
	}
	if (r == 1) {
		pthread_mutex_lock(&s->crl_mu);
		s->crl_heard++;
		pthread_mutex_unlock(&s->crl_mu);
	}
	return r;
}

static void *
listen_run(void *arg)
{
	struct svc		*s = arg;
	struct listen_state	 ls = { NULL, false, 0 };
	struct err		 e;
	bool			 failing = false;

	while (!listen_stopping(s)) {
		(void)listen_round(s, &ls);
		if (listen_stopping(s))
			break;
		/* On a notice, and every round as the fallback poll. */
		err_clear(&e);
		if (svc_crl_load(s, &e) == -1) {
			if (!failing)
				log_warn("CRL listener: loading the stored "
				    "CRL: %s", e.msg);
			failing = true;
		} else
			failing = false;
	}
	db_notify_close(ls.n);
	return NULL;
}

int
svc_crl_listen_start(struct svc *s, struct err *e)
{
	int rc;

	if (s->crl_listener_on)
		return 0;
	if (pipe2(s->crl_wake, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_error("CRL listener: pipe: %s", strerror(errno));
		err_set(e, ERR_INTERNAL, "cannot start a thread");
		return -1;
	}
	s->crl_listen_stop = false;
	s->crl_listen_tried = false;
	if ((rc = pthread_create(&s->crl_listener, NULL, listen_run,
	    s)) != 0) {
		log_error("starting the CRL listener: %s", strerror(rc));
		close(s->crl_wake[0]);
		close(s->crl_wake[1]);
		err_set(e, ERR_INTERNAL, "cannot start a thread");
		return -1;
	}
	s->crl_listener_on = true;
	/* Notices sent once svc_open() returns are heard. */
	pthread_mutex_lock(&s->crl_mu);
	while (!s->crl_listen_tried)
		pthread_cond_wait(&s->crl_cv, &s->crl_mu);
	pthread_mutex_unlock(&s->crl_mu);
	return 0;
}

void
svc_crl_listen_stop(struct svc *s)
{
	if (!s->crl_listener_on)
		return;
	pthread_mutex_lock(&s->crl_mu);
	s->crl_listen_stop = true;
	pthread_mutex_unlock(&s->crl_mu);
	/* Ends the wait at once; a full pipe already does. */
	while (write(s->crl_wake[1], "x", 1) == -1 && errno == EINTR)
		continue;
	pthread_join(s->crl_listener, NULL);
	close(s->crl_wake[0]);
	close(s->crl_wake[1]);
	s->crl_listener_on = false;
}
