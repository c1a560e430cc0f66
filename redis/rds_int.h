/*
 * Private to redis/: the connection object and the helpers shared by
 * conn.c (TLS transport), resp.c (RESP codec) and probe.c (audit probes).
 * Nothing outside redis/ includes this file.
 */
#ifndef RCA_RDS_INT_H
#define RCA_RDS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <hiredis/hiredis.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "rds.h"

struct rds_conn {
	int		 fd;		/* owned socket */
	SSL_CTX		*ctx;		/* owned */
	SSL		*ssl;		/* owned */
	redisReader	*reader;	/* owned; builds struct rds_reply */
	int		 timeout_ms;
	size_t		 max_reply;	/* bytes one reply may take */
	bool		 broken;	/* an I/O or protocol error happened */
	bool		 timed_out;	/* the last failure was a timeout */
	bool		 too_big;	/* the reader refused a reply's size */
	char		 where[RCA_MAX_NAME_LEN + 16];	/* "host:port" */
	char		 name[RCA_MAX_NAME_LEN + 1];	/* name verified */
};

/* How rds_open() sets up the TLS client. */
enum rds_mode {
	RDS_MODE_CONNECT,	/* verify, TLS >= 1.2, default security level */
	RDS_MODE_PROBE		/* security level 0, no verification */
};

/* rds_open() result when the TCP connection worked but TLS did not. */
#define RDS_HANDSHAKE_FAILED	1

/*
 * Open a connection as described in rds.h (rds_connect) for mode.
 * Returns 0 with *out new, -1 on an error before or outside the
 * handshake, or RDS_HANDSHAKE_FAILED with e->msg saying why the peer and
 * we did not agree (*out NULL in both failure cases).
 */
int	rds_open(const struct rds_tls_opts *o, enum rds_mode mode,
	    struct rds_conn **out, struct err *e);

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t	rds_now_ms(void);

/*
 * Write all len bytes of buf / read up to cap bytes into buf (*n > 0 on
 * success), both bounded by deadline (rds_now_ms() scale).  On failure
 * set c->broken (and c->timed_out for a timeout).  Errors: ERR_NET.
 */
int	rds_io_write(struct rds_conn *c, const void *buf, size_t len,
	    int64_t deadline, struct err *e);
int	rds_io_read(struct rds_conn *c, void *buf, size_t cap, size_t *n,
	    int64_t deadline, struct err *e);

/* Create the reply reader for c (resp.c).  Returns NULL on OOM. */
redisReader *rds_reader_new(struct rds_conn *c);

/*
 * The codec half of rds_command(), free of I/O: feed the next n bytes
 * the node sent (n may be 0) to c's reader, *fed bytes of this reply
 * having come before (updated), and take the reply if it is complete.
 * Returns 1 with *out new (rds_reply_free()), 0 when more bytes are
 * needed, or -1 with c->broken set: ERR_NET when the bytes are not RESP
 * or the reply is larger than c->max_reply (c->too_big).
 */
int	rds_reply_feed(struct rds_conn *c, const char *buf, size_t n,
	    size_t *fed, struct rds_reply **out, struct err *e);

/* Serial of cert x as normalised lowercase hex.  Errors: see rds.h. */
int	rds_x509_serial(const X509 *x, char out[RCA_SERIAL_HEX_MAX + 1],
	    struct err *e);

/* true when s is an IPv4 or IPv6 literal. */
bool	rds_is_ip(const char *s);

#endif
