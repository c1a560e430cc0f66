/*
 * How redis/ reports OpenSSL failures: the details of OpenSSL's error
 * queue go to the log (never into a struct err), and a failed SSL call
 * on a connection becomes one ERR_NET message saying what went wrong.
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "rds_int.h"

/* One line of OpenSSL's error queue, without its newline, to the log. */
static int
log_line(const char *str, size_t len, void *u)
{
	if (len > 0 && str[len - 1] == '\n')
		len--;
	log_debug("redis: %s: %.*s", (const char *)u, (int)len, str);
	return 1;
}

void
rds_log_ssl(const char *what)
{
	/* OpenSSL walks (and empties) the queue; we only format a line. */
	ERR_print_errors_cb(log_line, (void *)(uintptr_t)what);
}

/*
 * Describe a failed SSL call in e: the verify error when the chain or
 * name was refused, the alert or reason otherwise.
 */
void
rds_ssl_failure(struct rds_conn *c, int ret, const char *what, struct err *e)
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

		rds_log_ssl(what);
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
		rds_log_ssl(what);
		err_set(e, ERR_NET, "%s %s: certificate verify failed: %s",
		    what, c->where, X509_verify_cert_error_string(vr));
		return;
	}
	reason = code != 0 ? ERR_reason_error_string(code) : NULL;
	rds_log_ssl(what);
	err_set(e, ERR_NET, "%s %s: %s", what, c->where,
	    reason != NULL ? reason : "TLS error");
}
