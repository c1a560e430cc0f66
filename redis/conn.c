/*
 * TLS transport to a Redis node: TCP connect with a timeout, an OpenSSL
 * client that verifies the node's chain and name, and reads and writes
 * bounded by deadlines.  The socket is non-blocking; every WANT_READ or
 * WANT_WRITE from OpenSSL becomes a poll(2) on the remaining time.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hex.h"
#include "log.h"
#include "rds_int.h"

static const char *const tls_version_names[RDS_TLS__MAX] = {
	[RDS_TLS_ANY] = "any",
	[RDS_TLS1_0] = "TLSv1",
	[RDS_TLS1_1] = "TLSv1.1",
	[RDS_TLS1_2] = "TLSv1.2",
	[RDS_TLS1_3] = "TLSv1.3",
};

static const int tls_version_codes[RDS_TLS__MAX] = {
	[RDS_TLS_ANY] = 0,
	[RDS_TLS1_0] = TLS1_VERSION,
	[RDS_TLS1_1] = TLS1_1_VERSION,
	[RDS_TLS1_2] = TLS1_2_VERSION,
	[RDS_TLS1_3] = TLS1_3_VERSION,
};

const char *
rds_tls_version_name(enum rds_tls_version v)
{
	if ((unsigned)v >= RDS_TLS__MAX)
		return "unknown";
	return tls_version_names[v];
}

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

/* A new BIO over fd (not owning it), or NULL. */
static BIO *
bio_sock_new(int fd)
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

/* Refuse to prompt on a terminal for an encrypted client key. */
static int
no_passphrase_cb(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

/* Log (never return) OpenSSL's error queue, then clear it. */
static void
log_ssl_errors(const char *what)
{
	unsigned long code;
	char buf[256];

	while ((code = ERR_get_error()) != 0) {
		ERR_error_string_n(code, buf, sizeof(buf));
		log_debug("redis: %s: %s", what, buf);
	}
}

static int
tcp_connect(const char *host, int port, int64_t deadline, int *out,
    const char *where, struct err *e)
{
	struct addrinfo hints, *res = NULL, *ai;
	char portstr[8];
	int fd = -1, rc = -1, gai, soerr, one = 1;
	int last_errno = 0;
	bool timed_out = false;
	socklen_t slen;

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
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		int64_t left;
		struct pollfd pfd;

		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			last_errno = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno != EINPROGRESS) {
			last_errno = errno;
			goto next;
		}
		for (;;) {
			if ((left = deadline - rds_now_ms()) <= 0) {
				timed_out = true;
				goto next;
			}
			pfd.fd = fd;
			pfd.events = POLLOUT;
			pfd.revents = 0;
			if (poll(&pfd, 1, (int)left) == -1) {
				if (errno == EINTR)
					continue;
				last_errno = errno;
				goto next;
			}
			if (pfd.revents != 0)
				break;
		}
		slen = sizeof(soerr);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) == -1)
			soerr = errno;
		if (soerr == 0)
			break;
		last_errno = soerr;
next:
		close(fd);
		fd = -1;
		if (timed_out)
			break;
	}
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
	fd = -1;
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	if (res != NULL)
		freeaddrinfo(res);
	return rc;
}

/* A client SSL_CTX for o in mode.  Returns new (SSL_CTX_free), or NULL. */

/* Add every certificate of a PEM text to ctx's trust store. */
static int
add_ca_pem(SSL_CTX *ctx, const char *pem, struct err *e)
{
	X509_STORE *st = SSL_CTX_get_cert_store(ctx);
	X509 *x = NULL;
	BIO *b;
	int n = 0, rc = -1;

	if ((b = BIO_new_mem_buf(pem, -1)) == NULL) {
		err_set(e, ERR_CRYPTO, "cannot read the CA certificate");
		return -1;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(st, x) != 1) {
			log_ssl_errors("add CA certificate");
			err_set(e, ERR_CRYPTO, "cannot add the CA certificate");
			goto out;
		}
		X509_free(x);
		x = NULL;
		n++;
	}
	ERR_clear_error();
	if (n == 0) {
		err_set(e, ERR_CRYPTO, "no certificate in the CA PEM");
		goto out;
	}
	rc = 0;
out:
	X509_free(x);
	BIO_free(b);
	return rc;
}
static SSL_CTX *
ctx_new(const struct rds_tls_opts *o, enum rds_mode mode, struct err *e)
{
	SSL_CTX *ctx = NULL, *ret = NULL;
	int minv, maxv;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		log_ssl_errors("SSL_CTX_new");
		err_set(e, ERR_CRYPTO, "cannot create a TLS context");
		goto out;
	}
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase_cb);
	minv = tls_version_codes[o->min_version];
	maxv = tls_version_codes[o->max_version];
	if (mode == RDS_MODE_CONNECT && minv == 0)
		minv = TLS1_2_VERSION;
	if (mode == RDS_MODE_PROBE && minv == 0)
		minv = TLS1_VERSION;
	if (maxv != 0 && minv > maxv) {
		err_set(e, ERR_INVALID_REQUEST, "redis: max_version %s is "
		    "below the minimum %s",
		    rds_tls_version_name(o->max_version),
		    mode == RDS_MODE_CONNECT && o->min_version == RDS_TLS_ANY ?
		    "TLSv1.2" : rds_tls_version_name(o->min_version));
		goto out;
	}
	if (SSL_CTX_set_min_proto_version(ctx, minv) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, maxv) != 1) {
		log_ssl_errors("set proto version");
		err_set(e, ERR_CRYPTO, "this OpenSSL cannot use %s..%s",
		    rds_tls_version_name(o->min_version),
		    rds_tls_version_name(o->max_version));
		goto out;
	}
	if (o->cipher_list != NULL || mode == RDS_MODE_PROBE) {
		const char *list = o->cipher_list != NULL ? o->cipher_list :
		    "ALL:@SECLEVEL=0";

		if (SSL_CTX_set_cipher_list(ctx, list) != 1) {
			log_ssl_errors("set cipher list");
			err_set(e, ERR_CRYPTO,
			    "no usable cipher in cipher list \"%s\"", list);
			goto out;
		}
	}
	if (o->ciphersuites != NULL &&
	    SSL_CTX_set_ciphersuites(ctx, o->ciphersuites) != 1) {
		log_ssl_errors("set ciphersuites");
		err_set(e, ERR_CRYPTO, "no usable suite in ciphersuites \"%s\"",
		    o->ciphersuites);
		goto out;
	}
	/*
	 * OpenSSL 3 refuses TLS < 1.2 and SHA-1 signatures at its default
	 * level 1; a probe must be able to offer them, or "refused" would
	 * be our own refusal.  Set last: "@SECLEVEL=" in a list changes it.
	 */
	if (mode == RDS_MODE_PROBE)
		SSL_CTX_set_security_level(ctx, 0);
	if (o->ca_file != NULL &&
	    SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL) != 1) {
		log_ssl_errors("load CA file");
		err_set(e, ERR_CRYPTO, "cannot load CA file %s", o->ca_file);
		goto out;
	}
	if (o->ca_pem != NULL && add_ca_pem(ctx, o->ca_pem, e) == -1)
		goto out;
	if (mode == RDS_MODE_CONNECT && !o->no_verify) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (o->ignore_dates)
			X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx),
			    X509_V_FLAG_NO_CHECK_TIME);
	} else
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (o->cert_file != NULL) {
		const char *kf = o->key_file != NULL ? o->key_file :
		    o->cert_file;

		if (SSL_CTX_use_certificate_chain_file(ctx,
		    o->cert_file) != 1) {
			log_ssl_errors("load client certificate");
			err_set(e, ERR_CRYPTO,
			    "cannot load client certificate %s", o->cert_file);
			goto out;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, kf,
		    SSL_FILETYPE_PEM) != 1) {
			log_ssl_errors("load client key");
			err_set(e, ERR_CRYPTO, "cannot load client key %s", kf);
			goto out;
		}
		if (SSL_CTX_check_private_key(ctx) != 1) {
			log_ssl_errors("check client key");
			err_set(e, ERR_CRYPTO,
			    "client key %s does not match certificate %s",
			    kf, o->cert_file);
			goto out;
		}
	}
	ret = ctx;
	ctx = NULL;
out:
	SSL_CTX_free(ctx);
	return ret;
}

/*
 * Wait until fd is ready for what OpenSSL asked (ssl_err is
 * SSL_ERROR_WANT_READ or _WRITE) or deadline passes.
 */
static int
wait_io(struct rds_conn *c, int ssl_err, int64_t deadline, const char *what,
    struct err *e)
{
	struct pollfd pfd;
	int64_t left;

	for (;;) {
		if ((left = deadline - rds_now_ms()) <= 0) {
			c->timed_out = true;
			c->broken = true;
			err_set(e, ERR_NET, "%s %s: timed out", what, c->where);
			return -1;
		}
		pfd.fd = c->fd;
		pfd.events = ssl_err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, (int)left) == -1) {
			if (errno == EINTR)
				continue;
			c->broken = true;
			err_set(e, ERR_NET, "%s %s: poll: %s", what, c->where,
			    strerror(errno));
			return -1;
		}
		if (pfd.revents != 0)
			return 0;
	}
}

/*
 * Describe a failed SSL call in e: the verify error when the chain or
 * name was refused, the alert or reason otherwise.
 */
static void
ssl_failure(struct rds_conn *c, int ret, const char *what, struct err *e)
{
	int serr = SSL_get_error(c->ssl, ret);
	unsigned long code;
	long vr;
	const char *reason;

	c->broken = true;
	if (serr == SSL_ERROR_ZERO_RETURN) {
		err_set(e, ERR_NET, "%s %s: connection closed by the node",
		    what, c->where);
		return;
	}
	if (serr == SSL_ERROR_SYSCALL) {
		int saved = errno;

		log_ssl_errors(what);
		if (ret == 0 || saved == 0)
			err_set(e, ERR_NET, "%s %s: connection closed by the "
			    "node", what, c->where);
		else
			err_set(e, ERR_NET, "%s %s: %s", what, c->where,
			    strerror(saved));
		return;
	}
	vr = SSL_get_verify_result(c->ssl);
	code = ERR_peek_last_error();
	if (ERR_GET_REASON(code) == SSL_R_CERTIFICATE_VERIFY_FAILED &&
	    vr != X509_V_OK) {
		log_ssl_errors(what);
		err_set(e, ERR_NET, "%s %s: certificate verify failed: %s",
		    what, c->where, X509_verify_cert_error_string(vr));
		return;
	}
	reason = code != 0 ? ERR_reason_error_string(code) : NULL;
	log_ssl_errors(what);
	err_set(e, ERR_NET, "%s %s: %s", what, c->where,
	    reason != NULL ? reason : "TLS error");
}

static int
handshake(struct rds_conn *c, int64_t deadline, struct err *e)
{
	int ret, serr;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((ret = SSL_connect(c->ssl)) == 1)
			return 0;
		serr = SSL_get_error(c->ssl, ret);
		if (serr == SSL_ERROR_WANT_READ ||
		    serr == SSL_ERROR_WANT_WRITE) {
			if (wait_io(c, serr, deadline, "TLS handshake with",
			    e) == -1)
				return -1;
			continue;
		}
		ssl_failure(c, ret, "TLS handshake with", e);
		return RDS_HANDSHAKE_FAILED;
	}
}

int
rds_io_write(struct rds_conn *c, const void *buf, size_t len,
    int64_t deadline, struct err *e)
{
	const char *p = buf;
	size_t done = 0, n;
	int ret, serr;

	while (done < len) {
		ERR_clear_error();
		errno = 0;
		ret = SSL_write_ex(c->ssl, p + done, len - done, &n);
		if (ret == 1) {
			done += n;
			continue;
		}
		serr = SSL_get_error(c->ssl, ret);
		if (serr == SSL_ERROR_WANT_READ ||
		    serr == SSL_ERROR_WANT_WRITE) {
			if (wait_io(c, serr, deadline, "write to", e) == -1)
				return -1;
			continue;
		}
		ssl_failure(c, ret, "write to", e);
		return -1;
	}
	return 0;
}

int
rds_io_read(struct rds_conn *c, void *buf, size_t cap, size_t *n,
    int64_t deadline, struct err *e)
{
	int ret, serr;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((ret = SSL_read_ex(c->ssl, buf, cap, n)) == 1)
			return 0;
		serr = SSL_get_error(c->ssl, ret);
		if (serr == SSL_ERROR_WANT_READ ||
		    serr == SSL_ERROR_WANT_WRITE) {
			if (wait_io(c, serr, deadline, "read from", e) == -1)
				return -1;
			continue;
		}
		ssl_failure(c, ret, "read from", e);
		return -1;
	}
}

static int
check_opts(const struct rds_tls_opts *o, enum rds_mode mode, struct err *e)
{
	if (o == NULL || o->host == NULL || o->host[0] == '\0' ||
	    strlen(o->host) > RCA_MAX_NAME_LEN) {
		err_set(e, ERR_INVALID_REQUEST, "redis: host missing or too "
		    "long");
		return -1;
	}
	if (o->port < 1 || o->port > 65535) {
		err_set(e, ERR_INVALID_REQUEST, "redis: port %d out of range",
		    o->port);
		return -1;
	}
	if (o->server_name != NULL && (o->server_name[0] == '\0' ||
	    strlen(o->server_name) > RCA_MAX_NAME_LEN)) {
		err_set(e, ERR_INVALID_REQUEST, "redis: server_name empty or "
		    "too long");
		return -1;
	}
	if ((unsigned)o->min_version >= RDS_TLS__MAX ||
	    (unsigned)o->max_version >= RDS_TLS__MAX) {
		err_set(e, ERR_INVALID_REQUEST, "redis: bad TLS version");
		return -1;
	}
	if (mode == RDS_MODE_CONNECT && !o->no_verify && o->ca_file == NULL &&
	    o->ca_pem == NULL) {
		err_set(e, ERR_INVALID_REQUEST, "redis: ca_file is required "
		    "to verify %s", o->host);
		return -1;
	}
	return 0;
}

int
rds_open(const struct rds_tls_opts *o, enum rds_mode mode,
    struct rds_conn **out, struct err *e)
{
	struct rds_conn *c = NULL;
	BIO *bio = NULL;
	int64_t deadline;
	int rc = -1, hs;

	*out = NULL;
	if (check_opts(o, mode, e) == -1)
		goto out;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	c->fd = -1;
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms :
	    RDS_DEFAULT_TIMEOUT_MS;
	c->max_reply = o->max_reply_bytes > 0 ? o->max_reply_bytes :
	    RCA_MAX_REPLY_BYTES;
	snprintf(c->where, sizeof(c->where), rds_is_ip(o->host) &&
	    strchr(o->host, ':') != NULL ? "[%s]:%d" : "%s:%d",
	    o->host, o->port);
	snprintf(c->name, sizeof(c->name), "%s",
	    o->server_name != NULL ? o->server_name : o->host);
	deadline = rds_now_ms() + c->timeout_ms;

	if ((c->ctx = ctx_new(o, mode, e)) == NULL)
		goto out;
	if ((c->reader = rds_reader_new(c)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (tcp_connect(o->host, o->port, deadline, &c->fd, c->where,
	    e) == -1)
		goto out;
	if ((c->ssl = SSL_new(c->ctx)) == NULL ||
	    (bio = bio_sock_new(c->fd)) == NULL) {
		log_ssl_errors("SSL_new");
		err_set(e, ERR_CRYPTO, "cannot create a TLS session");
		goto out;
	}
	SSL_set_bio(c->ssl, bio, bio);	/* c->ssl owns bio now */
	bio = NULL;
	if (!rds_is_ip(c->name) &&
	    SSL_set_tlsext_host_name(c->ssl, c->name) != 1) {
		log_ssl_errors("SNI");
		err_set(e, ERR_INVALID_REQUEST, "redis: bad server name %s",
		    c->name);
		goto out;
	}
	if (mode == RDS_MODE_CONNECT && !o->no_verify) {
		int ok;

		if (rds_is_ip(c->name)) {
			ok = X509_VERIFY_PARAM_set1_ip_asc(
			    SSL_get0_param(c->ssl), c->name);
		} else {
			SSL_set_hostflags(c->ssl,
			    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
			ok = SSL_set1_host(c->ssl, c->name);
		}
		if (ok != 1) {
			log_ssl_errors("set verify name");
			err_set(e, ERR_INVALID_REQUEST, "redis: bad server "
			    "name %s", c->name);
			goto out;
		}
	}
	if ((hs = handshake(c, deadline, e)) != 0) {
		if (hs == RDS_HANDSHAKE_FAILED)
			rc = RDS_HANDSHAKE_FAILED;
		goto out;
	}
	*out = c;
	c = NULL;
	rc = 0;
out:
	BIO_free(bio);
	rds_close(c);
	return rc;
}

struct rds_conn *
rds_connect(const struct rds_tls_opts *o, struct err *e)
{
	struct rds_conn *c = NULL;

	/* A handshake failure is just another ERR_NET for callers. */
	if (rds_open(o, RDS_MODE_CONNECT, &c, e) != 0)
		return NULL;
	return c;
}

void
rds_close(struct rds_conn *c)
{
	if (c == NULL)
		return;
	if (c->ssl != NULL) {
		/*
		 * One close_notify, without waiting for the node's: the
		 * socket is non-blocking and closed right after.
		 */
		if (!c->broken && SSL_is_init_finished(c->ssl))
			(void)SSL_shutdown(c->ssl);
		ERR_clear_error();
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	if (c->reader != NULL)
		redisReaderFree(c->reader);
	if (c->fd != -1)
		close(c->fd);
	free(c);
}

int
rds_x509_serial(const X509 *x, char out[RCA_SERIAL_HEX_MAX + 1],
    struct err *e)
{
	BIGNUM *bn = NULL;
	char *hex = NULL;
	int rc = -1;

	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x),
	    NULL)) == NULL || (hex = BN_bn2hex(bn)) == NULL) {
		log_ssl_errors("serial");
		err_set(e, ERR_CRYPTO, "cannot read the certificate serial");
		goto out;
	}
	if (BN_is_negative(bn)) {
		err_set(e, ERR_INVALID_SERIAL, "the node's certificate has a "
		    "negative serial");
		goto out;
	}
	if (hex_serial_normalize(hex, out, e) == -1)
		goto out;
	rc = 0;
out:
	OPENSSL_free(hex);
	BN_free(bn);
	return rc;
}

int
rds_peer_serial(const struct rds_conn *c, char out[RCA_SERIAL_HEX_MAX + 1],
    struct err *e)
{
	X509 *x = SSL_get0_peer_certificate(c->ssl);

	if (x == NULL) {
		err_set(e, ERR_NET, "%s presented no certificate", c->where);
		return -1;
	}
	return rds_x509_serial(x, out, e);
}

int
rds_peer_cert_der(const struct rds_conn *c, unsigned char **der,
    size_t *len, struct err *e)
{
	X509 *x = SSL_get0_peer_certificate(c->ssl);
	unsigned char *buf = NULL, *p;
	int n, rc = -1;

	*der = NULL;
	*len = 0;
	if (x == NULL) {
		err_set(e, ERR_NET, "%s presented no certificate", c->where);
		goto out;
	}
	if ((n = i2d_X509(x, NULL)) <= 0) {
		log_ssl_errors("i2d_X509");
		err_set(e, ERR_CRYPTO, "cannot encode the node's certificate");
		goto out;
	}
	if ((buf = malloc((size_t)n)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	p = buf;
	if (i2d_X509(x, &p) != n) {
		log_ssl_errors("i2d_X509");
		err_set(e, ERR_CRYPTO, "cannot encode the node's certificate");
		goto out;
	}
	*der = buf;
	*len = (size_t)n;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	return rc;
}

const char *
rds_conn_protocol(const struct rds_conn *c)
{
	return SSL_get_version(c->ssl);
}

const char *
rds_conn_cipher(const struct rds_conn *c)
{
	const char *s = SSL_get_cipher_name(c->ssl);

	return s != NULL ? s : "(none)";
}
