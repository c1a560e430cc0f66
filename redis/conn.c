/*
 * A connection to a node from start to end: check the options, connect
 * TCP, set up the TLS session (SNI, the name to verify, our socket BIO),
 * run the handshake under one deadline; and close it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rds_int.h"

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

/* A new connection for o, not yet connected; NULL when out of memory. */
static struct rds_conn *
conn_new(const struct rds_tls_opts *o)
{
	struct rds_conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->fd = -1;
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms :
	    RDS_DEFAULT_TIMEOUT_MS;
	snprintf(c->where, sizeof(c->where), rds_is_ip(o->host) &&
	    strchr(o->host, ':') != NULL ? "[%s]:%d" : "%s:%d",
	    o->host, o->port);
	snprintf(c->name, sizeof(c->name), "%s",
	    o->server_name != NULL ? o->server_name : o->host);
	if ((c->dec = rds_decoder_new(o->max_reply_bytes, c->where)) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

/*
 * The TLS session over c->fd: SNI for a DNS name and, when verifying,
 * the name the node's certificate must carry (an IP literal or a DNS
 * name, no partial wildcards).
 */
static int
session_new(struct rds_conn *c, bool verify, struct err *e)
{
	BIO *bio;
	int ok;

	if ((c->ssl = SSL_new(c->ctx)) == NULL ||
	    (bio = rds_bio_sock_new(c->fd)) == NULL) {
		rds_log_ssl("SSL_new");
		err_set(e, ERR_CRYPTO, "cannot create a TLS session");
		return -1;
	}
	SSL_set_bio(c->ssl, bio, bio);	/* c->ssl owns bio now */
	if (!rds_is_ip(c->name) &&
	    SSL_set_tlsext_host_name(c->ssl, c->name) != 1) {
		rds_log_ssl("SNI");
		err_set(e, ERR_INVALID_REQUEST, "redis: bad server name %s",
		    c->name);
		return -1;
	}
	if (!verify)
		return 0;
	if (rds_is_ip(c->name))
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl),
		    c->name);
	else {
		SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		ok = SSL_set1_host(c->ssl, c->name);
	}
	if (ok != 1) {
		rds_log_ssl("set verify name");
		err_set(e, ERR_INVALID_REQUEST, "redis: bad server name %s",
		    c->name);
		return -1;
	}
	return 0;
}

int
rds_open(const struct rds_tls_opts *o, enum rds_mode mode,
    struct rds_conn **out, struct err *e)
{
	struct rds_conn *c = NULL;
	int64_t deadline;
	int rc = -1, hs;

	*out = NULL;
	if (check_opts(o, mode, e) == -1)
		goto out;
	if ((c = conn_new(o)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	deadline = rds_now_ms() + c->timeout_ms;
	if ((c->ctx = rds_tls_ctx_new(o, mode, e)) == NULL)
		goto out;
	if (rds_tcp_connect(o->host, o->port, deadline, c->where, &c->fd,
	    e) == -1)
		goto out;
	if (session_new(c, mode == RDS_MODE_CONNECT && !o->no_verify,
	    e) == -1)
		goto out;
	if ((hs = rds_io_handshake(c, deadline, e)) != 0) {
		if (hs == RDS_HANDSHAKE_FAILED)
			rc = RDS_HANDSHAKE_FAILED;
		goto out;
	}
	*out = c;
	c = NULL;
	rc = 0;
out:
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
	rds_decoder_free(c->dec);
	if (c->fd != -1)
		close(c->fd);
	free(c);
}
