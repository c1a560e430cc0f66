/*
 * The client certificate of a TLS connection, as DER bytes, for routes
 * authenticated by certificate (/v1/renew).  Only the bytes leave here:
 * verifying them against the CA is ca/'s work, through the service.
 */
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "api_priv.h"

int
api_peer_cert_der(struct MHD_Connection *c, unsigned char **der,
    size_t *len, struct err *e)
{
	const union MHD_ConnectionInfo *ci;
	const gnutls_datum_t *peers;
	unsigned int n = 0;
	unsigned char *out;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci == NULL || ci->tls_session == NULL) {
		err_set(e, ERR_UNAUTHORIZED, "a client certificate is needed");
		return -1;
	}
	peers = gnutls_certificate_get_peers(
	    (gnutls_session_t)ci->tls_session, &n);
	if (peers == NULL || n == 0 || peers[0].size == 0) {
		err_set(e, ERR_UNAUTHORIZED, "a client certificate is needed");
		return -1;
	}
	/* peers[0] is the client's own certificate; the rest its chain. */
	if ((out = malloc(peers[0].size)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	memcpy(out, peers[0].data, peers[0].size);
	*der = out;
	*len = peers[0].size;
	return 0;
}
