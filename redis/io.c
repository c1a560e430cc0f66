/*
 * I/O on a connection under a deadline: the TLS handshake and the command
 * round trip (encode, write, read until the decoder has the reply); each
 * WANT_READ or WANT_WRITE from OpenSSL becomes a poll(2) on the time left.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "rds_int.h"

/* after_ssl_call(): the SSL call failed (not a timeout); e says why. */
#define SSL_CALL_FAILED		1

/*
 * After an SSL call on c returned ret, not success: when OpenSSL only
 * wants the socket ready (WANT_READ or WANT_WRITE), wait for it until
 * deadline.  Returns 0 to call again, -1 when the wait failed (timeout,
 * poll error), SSL_CALL_FAILED otherwise.  Both failures set c->broken.
 */
static int
after_ssl_call(struct rds_conn *c, int ret, int64_t deadline,
    const char *what, struct err *e)
{
	int serr = SSL_get_error(c->ssl, ret), ready;

	if (serr != SSL_ERROR_WANT_READ && serr != SSL_ERROR_WANT_WRITE) {
		rds_ssl_failure(c, ret, what, e);
		return SSL_CALL_FAILED;
	}
	ready = rds_poll(c->fd, serr == SSL_ERROR_WANT_WRITE ? POLLOUT :
	    POLLIN, deadline);
	if (ready == 1)
		return 0;
	c->broken = true;
	if (ready == 0) {
		c->timed_out = true;
		err_set(e, ERR_NET, "%s %s: timed out", what, c->where);
	} else
		err_set(e, ERR_NET, "%s %s: poll: %s", what, c->where,
		    strerror(errno));
	return -1;
}

int
rds_io_handshake(struct rds_conn *c, int64_t deadline, struct err *e)
{
	int ret, next;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((ret = SSL_connect(c->ssl)) == 1)
			return 0;
		next = after_ssl_call(c, ret, deadline, "TLS handshake with",
		    e);
		if (next == SSL_CALL_FAILED)
			return RDS_HANDSHAKE_FAILED;
		if (next == -1)
			return -1;
	}
}

/* Write all len bytes of buf by deadline.  Errors: ERR_NET. */
static int
io_write(struct rds_conn *c, const void *buf, size_t len, int64_t deadline,
    struct err *e)
{
	const char *p = buf;
	size_t done = 0, n;
	int ret;

	while (done < len) {
		ERR_clear_error();
		errno = 0;
		if ((ret = SSL_write_ex(c->ssl, p + done, len - done, &n)) == 1)
			done += n;
		else if (after_ssl_call(c, ret, deadline, "write to", e) != 0)
			return -1;
	}
	return 0;
}

/* Read up to cap bytes into buf by deadline, *n > 0.  Errors: ERR_NET. */
static int
io_read(struct rds_conn *c, void *buf, size_t cap, size_t *n,
    int64_t deadline, struct err *e)
{
	int ret;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((ret = SSL_read_ex(c->ssl, buf, cap, n)) == 1)
			return 0;
		if (after_ssl_call(c, ret, deadline, "read from", e) != 0)
			return -1;
	}
}

int
rds_command(struct rds_conn *c, int argc, const char **argv,
    const size_t *argvlen, struct rds_reply **out, struct err *e)
{
	struct rds_reply *reply = NULL;
	char *cmd = NULL;
	size_t len, n = 0;
	int64_t deadline;
	int got, rc = -1;

	*out = NULL;
	if (argc < 1 || argv == NULL) {
		err_set(e, ERR_INVALID_REQUEST, "redis: empty command");
		goto out;
	}
	if (c->broken) {
		err_set(e, ERR_NET, "connection to %s is unusable after an "
		    "earlier error", c->where);
		goto out;
	}
	c->timed_out = false;
	deadline = rds_now_ms() + c->timeout_ms;
	if (rds_cmd_format(argc, argv, argvlen, &cmd, &len, e) == -1)
		goto out;
	if (io_write(c, cmd, len, deadline, e) == -1)
		goto out;
	/* A reply may already wait in the decoder: look before reading. */
	while ((got = rds_decoder_feed(c->dec, c->rbuf, n, &reply, e)) == 0)
		if (io_read(c, c->rbuf, sizeof(c->rbuf), &n, deadline,
		    e) == -1)
			goto out;
	if (got == -1) {
		c->broken = true;
		goto out;
	}
	/* On every failure above, reply is still NULL. */
	*out = reply;
	rc = 0;
out:
	rds_cmd_free(cmd);
	return rc;
}
