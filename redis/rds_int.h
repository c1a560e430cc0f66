/*
 * Private to redis/: the connection object, and what its files share:
 * net.c (TCP, deadlines), bio.c (socket BIO), tlsctx.c (SSL_CTX),
 * tls_err.c (OpenSSL failures), io.c (handshake, command round trip),
 * conn.c (open, close), peer.c, cmd.c and probe.c.  The RESP codec is
 * resp.h.  Nothing outside redis/ includes this file.
 */
#ifndef RCA_RDS_INT_H
#define RCA_RDS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "rds.h"
#include "resp.h"

/* Bytes one read from a node may take (the read buffer of a connection). */
#define RDS_READ_CHUNK	16384

struct rds_conn {
	int		 fd;		/* owned socket */
	SSL_CTX		*ctx;		/* owned */
	SSL		*ssl;		/* owned */
	struct rds_decoder *dec;	/* owned; capped at max_reply_bytes */
	int		 timeout_ms;
	bool		 broken;	/* an I/O or protocol error happened */
	bool		 timed_out;	/* the last failure was a timeout */
	char		 where[RCA_MAX_NAME_LEN + 16];	/* "host:port" */
	char		 name[RCA_MAX_NAME_LEN + 1];	/* name verified */
	char		 rbuf[RDS_READ_CHUNK];	/* what the node sent */
};

/* How rds_open() sets up the TLS client. */
enum rds_mode {
	RDS_MODE_CONNECT,	/* verify, TLS >= 1.2, default security level */
	RDS_MODE_PROBE		/* security level 0, no verification */
};

/* rds_open() result when the TCP connection worked but TLS did not. */
#define RDS_HANDSHAKE_FAILED	1

/* ---- conn.c ---- */

/*
 * Open a connection as described in rds.h (rds_connect) for mode.
 * Returns 0 with *out new, -1 on an error before or outside the
 * handshake, or RDS_HANDSHAKE_FAILED with e->msg saying why the peer and
 * we did not agree (*out NULL in both failure cases).
 */
int	rds_open(const struct rds_tls_opts *o, enum rds_mode mode,
	    struct rds_conn **out, struct err *e);

/* ---- net.c ---- */

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t	rds_now_ms(void);

/* true when s is an IPv4 or IPv6 literal. */
bool	rds_is_ip(const char *s);

/*
 * Wait until fd has one of events (POLLIN, POLLOUT) or deadline
 * (rds_now_ms() scale) passes; EINTR is retried.  Returns 1 when ready,
 * 0 on timeout, -1 when poll(2) failed (errno says why).
 */
int	rds_poll(int fd, short events, int64_t deadline);

/*
 * Resolve host and connect to port by deadline, trying each address in
 * turn; where ("host:port") names the node in messages.  On success *out
 * is a new non-blocking socket with TCP_NODELAY (close it).
 * Errors: ERR_NET (resolution failed, refused, timed out).
 */
int	rds_tcp_connect(const char *host, int port, int64_t deadline,
	    const char *where, int *out, struct err *e);

/* ---- bio.c ---- */

/* A new BIO over socket fd (not owning it), or NULL. */
BIO	*rds_bio_sock_new(int fd);

/* ---- tlsctx.c ---- */

/*
 * A client SSL_CTX for o in mode.  Returns new (SSL_CTX_free), or NULL.
 * Errors: ERR_INVALID_REQUEST (max_version below the minimum),
 * ERR_CRYPTO (a version, cipher or file OpenSSL does not take).
 */
SSL_CTX	*rds_tls_ctx_new(const struct rds_tls_opts *o, enum rds_mode mode,
	    struct err *e);

/* ---- tls_err.c ---- */

/* Log (at debug level, never return) OpenSSL's error queue; clear it. */
void	rds_log_ssl(const char *what);

/*
 * Describe the failed SSL call on c that returned ret in e (ERR_NET):
 * the verify error when the chain or name was refused, a close by the
 * node, or the alert or reason.  Sets c->broken.
 */
void	rds_ssl_failure(struct rds_conn *c, int ret, const char *what,
	    struct err *e);

/* ---- io.c ---- */

/*
 * Run c's TLS handshake by deadline.  Returns 0, -1 (timeout, poll
 * error) or RDS_HANDSHAKE_FAILED, with e set (ERR_NET) on failure.
 */
int	rds_io_handshake(struct rds_conn *c, int64_t deadline, struct err *e);

/* ---- peer.c ---- */

/* Serial of cert x as normalised lowercase hex.  Errors: see rds.h. */
int	rds_x509_serial(const X509 *x, char out[RCA_SERIAL_HEX_MAX + 1],
	    struct err *e);

/*
 * Copy Redis's message in reply r for an error text: printable ASCII
 * only (others become '?'), so a hostile node cannot put control
 * characters in our logs; out is NUL-ended (redis/cmd.c).
 */
void	rds_clean_text(const struct rds_reply *r, char *out, size_t outsz);

#endif
