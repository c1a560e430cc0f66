/*
 * TCP to a node: resolve the name, then a non-blocking connect to each
 * address in turn under one deadline; and the poll(2) under a deadline,
 * on the monotonic clock, that every wait of redis/ goes through.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rds_int.h"

int64_t
rds_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool
rds_is_ip(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1;
}

int
rds_poll(int fd, short events, int64_t deadline)
{
	struct pollfd pfd;
	int64_t left;

	for (;;) {
		if ((left = deadline - rds_now_ms()) <= 0)
			return 0;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		if (poll(&pfd, 1, (int)left) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (pfd.revents != 0)
			return 1;
	}
}

/*
 * Connect a new socket to ai by deadline.  Returns the socket, or -1
 * with *timed_out set or *last_errno saying why.
 */
static int
connect_one(const struct addrinfo *ai, int64_t deadline, bool *timed_out,
    int *last_errno)
{
	int fd, ready, soerr;
	socklen_t slen;

	fd = socket(ai->ai_family,
	    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1) {
		*last_errno = errno;
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		*last_errno = errno;
		goto fail;
	}
	if ((ready = rds_poll(fd, POLLOUT, deadline)) != 1) {
		if (ready == 0)
			*timed_out = true;
		else
			*last_errno = errno;
		goto fail;
	}
	slen = sizeof(soerr);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) == -1)
		soerr = errno;
	if (soerr == 0)
		return fd;
	*last_errno = soerr;
fail:
	close(fd);
	return -1;
}

int
rds_tcp_connect(const char *host, int port, int64_t deadline,
    const char *where, int *out, struct err *e)
{
	struct addrinfo hints, *res = NULL, *ai;
	char portstr[8];
	int fd = -1, rc = -1, gai, one = 1, last_errno = 0;
	bool timed_out = false;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((gai = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		err_set(e, ERR_NET, "cannot resolve %s: %s", host,
		    gai_strerror(gai));
		goto out;
	}
	/* One deadline for all: a timeout ends the search. */
	for (ai = res; ai != NULL && fd == -1 && !timed_out; ai = ai->ai_next)
		fd = connect_one(ai, deadline, &timed_out, &last_errno);
	if (fd == -1) {
		if (timed_out)
			err_set(e, ERR_NET, "connect to %s: timed out", where);
		else
			err_set(e, ERR_NET, "connect to %s: %s", where,
			    strerror(last_errno));
		goto out;
	}
	/* Commands are small and answered one by one: no Nagle delay. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*out = fd;
	rc = 0;
out:
	if (res != NULL)
		freeaddrinfo(res);
	return rc;
}
