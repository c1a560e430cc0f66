/*
 * Change notification between instances on one PostgreSQL: a listener
 * holds a connection of its own (not any thread's) that LISTENs on
 * redisca_crl and redisca_ca, and waits on its socket for the NOTIFY
 * that db_crl_publish() and the CA phases (db/ca.c) send at commit.
 * Statements run through the driver, which also connects again after a
 * loss; only the wait itself (PQsocket, PQconsumeInput, PQnotifies) is
 * libpq's.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "log.h"
#include "drv.h"

#define NOTIFY_CHANNEL	"redisca_crl"
#define NOTIFY_CA	"redisca_ca"	/* payload: the CA generation */

struct db_notify {
	struct db_conn	*c;		/* owned: out of db->conns */
	bool		 listening;	/* LISTEN ran on the current session */
	uint64_t	 ca_gen;	/* highest CA generation notified */
};

bool
db_notify_supported(struct db *db)
{
	return db != NULL && db->dialect == DB_DIALECT_PG;
}

/*
 * The server's notices on the listener's connection (its own FATAL
 * when the session is terminated, for one) go to the log on one line,
 * not to stderr.
 */
static void
notify_notice(void *arg, const char *msg)
{
	char	line[256];
	size_t	i;

	(void)arg;
	for (i = 0; i + 1 < sizeof(line) && msg[i] != '\0'; i++)
		line[i] = msg[i] == '\n' || msg[i] == '\r' ? ' ' : msg[i];
	while (i > 0 && line[i - 1] == ' ')
		i--;
	line[i] = '\0';
	log_info("db: CRL listener: server says: %s", line);
}

/* LISTEN on n's connection (connecting again first if it was lost). */
static int
notify_listen(struct db_notify *n, struct err *e)
{
	/* CRL last: pg_stat_activity shows the session as its listener. */
	if (db_exec(n->c, DB_STMT_PG_LISTEN_CA, e) == -1 ||
	    db_exec(n->c, DB_STMT_PG_LISTEN_CRL, e) == -1)
		return -1;
	n->listening = true;
	return 0;
}

struct db_notify *
db_notify_open(struct db *db, struct err *e)
{
	struct db_notify *n = NULL, *ret = NULL;

	if (!db_notify_supported(db)) {
		err_set(e, ERR_INVALID_REQUEST, "change notification needs "
		    "PostgreSQL");
		return NULL;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return NULL;
	}
	if ((n->c = db_conn_new(db, e)) == NULL)
		goto out;
	/* Kept by PQreset(): the driver's reconnections keep it too. */
	PQsetNoticeProcessor(n->c->h, notify_notice, NULL);
	if (notify_listen(n, e) == -1)
		goto out;
	ret = n;
	n = NULL;
out:
	db_notify_close(n);
	return ret;
}

/* A notice's payload as a number: 0, or -1 when it is not one. */
static int
notify_number(const PGnotify *nt, uint64_t *v)
{
	unsigned long long u;
	char *end;

	errno = 0;
	u = strtoull(nt->extra, &end, 10);
	if (errno != 0 || end == nt->extra || *end != '\0') {
		log_warn("db: listener: bad %s notice payload ignored",
		    nt->relname);
		return -1;
	}
	*v = u;
	return 0;
}

/*
 * Take what the server sent and the notices it holds: 1 with *number
 * the highest CRL notified, 0 when none, -1 when the connection is
 * lost.  CA notices go to n->ca_gen.
 */
static int
notify_drain(struct db_notify *n, uint64_t *number, struct err *e)
{
	PGconn		*h = n->c->h;
	PGnotify	*nt;
	uint64_t	 v;
	int		 got = 0;

	if (PQconsumeInput(h) == 0 || PQstatus(h) != CONNECTION_OK) {
		log_warn("db: CRL listener: connection to %s lost",
		    PQhost(h) != NULL ? PQhost(h) : "?");
		n->listening = false;
		err_set(e, ERR_UNAVAILABLE, "the database is unavailable");
		return -1;
	}
	while ((nt = PQnotifies(h)) != NULL) {
		if (strcmp(nt->relname, NOTIFY_CHANNEL) == 0 &&
		    notify_number(nt, &v) == 0) {
			if (v > *number)
				*number = v;
			got = 1;
		} else if (strcmp(nt->relname, NOTIFY_CA) == 0 &&
		    notify_number(nt, &v) == 0 && v > n->ca_gen)
			n->ca_gen = v;
		PQfreemem(nt);
	}
	return got;
}

int
db_notify_wait(struct db_notify *n, int ms, int wake, uint64_t *number,
    struct err *e)
{
	struct pollfd	pfd[2];
	nfds_t		nfd = 1;
	int		r;

	*number = 0;
	if (!n->listening && notify_listen(n, e) == -1)
		return -1;
	/* Notices may have come with an earlier reply. */
	if ((r = notify_drain(n, number, e)) != 0)
		return r;
	memset(pfd, 0, sizeof(pfd));
	pfd[0].fd = PQsocket(n->c->h);
	pfd[0].events = POLLIN;
	if (wake >= 0) {
		pfd[1].fd = wake;
		pfd[1].events = POLLIN;
		nfd = 2;
	}
	if ((r = poll(pfd, nfd, ms)) == -1) {
		if (errno == EINTR)
			return 0;
		log_error("db: CRL listener: poll: %s", strerror(errno));
		err_set(e, ERR_INTERNAL, "internal error");
		return -1;
	}
	if (r == 0 || pfd[0].revents == 0)
		return 0;
	return notify_drain(n, number, e);
}

uint64_t
db_notify_ca_generation(const struct db_notify *n)
{
	return n != NULL ? n->ca_gen : 0;
}

void
db_notify_close(struct db_notify *n)
{
	struct db *db;

	if (n == NULL)
		return;
	if (n->c != NULL) {
		db = n->c->db;
		pthread_mutex_lock(&db->mu);
		if (n->c->prev != NULL)
			n->c->prev->next = n->c->next;
		else
			db->conns = n->c->next;
		if (n->c->next != NULL)
			n->c->next->prev = n->c->prev;
		pthread_mutex_unlock(&db->mu);
		db->drv->close(n->c);
		free(n->c);
	}
	free(n);
}
