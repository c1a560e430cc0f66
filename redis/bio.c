/*
 * The OpenSSL BIO under every connection of redis/: a non-blocking
 * socket read with recv(2) and written with send(2) and MSG_NOSIGNAL.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>

#include "rds_int.h"

/*
 * A socket BIO of our own: OpenSSL's writes with write(2), which raises
 * SIGPIPE when the node has hung up (as Redis does on a client without a
 * certificate).  send(MSG_NOSIGNAL) keeps signals out of a library.
 */
static int
bio_sock_write(BIO *b, const char *buf, int len)
{
	int fd = (int)(intptr_t)BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = send(fd, buf, (size_t)len, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		BIO_set_retry_write(b);
	return (int)n;
}

static int
bio_sock_read(BIO *b, char *buf, int len)
{
	int fd = (int)(intptr_t)BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = recv(fd, buf, (size_t)len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		BIO_set_retry_read(b);
	return (int)n;
}

static long
bio_sock_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	/* Nothing is buffered here, so a flush is always complete. */
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static BIO_METHOD *bio_sock_method;
static pthread_once_t bio_sock_once = PTHREAD_ONCE_INIT;

static void
bio_sock_init(void)
{
	BIO_METHOD *m;

	m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
	    "rds socket");
	if (m == NULL)
		return;
	if (BIO_meth_set_write(m, bio_sock_write) != 1 ||
	    BIO_meth_set_read(m, bio_sock_read) != 1 ||
	    BIO_meth_set_ctrl(m, bio_sock_ctrl) != 1) {
		BIO_meth_free(m);
		return;
	}
	/* Lives until exit: one per process, shared by every thread. */
	bio_sock_method = m;
}

BIO *
rds_bio_sock_new(int fd)
{
	BIO *b;

	if (pthread_once(&bio_sock_once, bio_sock_init) != 0 ||
	    bio_sock_method == NULL)
		return NULL;
	if ((b = BIO_new(bio_sock_method)) == NULL)
		return NULL;
	BIO_set_data(b, (void *)(intptr_t)fd);
	BIO_set_init(b, 1);
	return b;
}
