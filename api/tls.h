/*
 * The HTTPS listener's own certificate, replaceable while it serves:
 * the credentials (chain + key, GnuTLS objects) live in a refcounted
 * holder that is swapped under a mutex.  Each new connection pins the
 * holder current when it is accepted (MHD's connection notice) and the
 * certificate callback answers its handshake from that pin, so a reload
 * never frees what a handshake in progress uses, and connections already
 * open keep theirs.  Only server.c uses this; GnuTLS calls stay in
 * tls.c (and tlspeer.c).
 */
#ifndef RCA_API_TLS_H
#define RCA_API_TLS_H

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <microhttpd.h>

#include "err.h"

/* Certificates of one served chain (leaf and intermediates). */
#define API_TLS_MAX_CHAIN	8

struct api_tls;

/*
 * Read cert_path (PEM: the leaf first, then its intermediates) and
 * key_path (PEM, unencrypted) and return a new holder serving them
 * (api_tls_free()).  The paths are copied.  Errors: ERR_IO (cannot
 * read a file), ERR_CONFIG (not a PEM chain, more than
 * API_TLS_MAX_CHAIN certificates, a key that does not match the leaf),
 * ERR_INTERNAL.
 */
struct api_tls *api_tls_new(const char *cert_path, const char *key_path,
	    struct err *e);

/*
 * Re-read the files given to api_tls_new() and serve them to every
 * connection accepted from now on.  On failure the previous ones stay.
 * Thread-safe.  Errors: as api_tls_new().
 */
int	api_tls_load(struct api_tls *t, struct err *e);

/* Reloads that succeeded since api_tls_new() (for tests and logs). */
unsigned long api_tls_loads(struct api_tls *t);

/*
 * Free t.  Call after MHD_stop_daemon(): every connection has released
 * its pin by then.  NULL ok.
 */
void	api_tls_free(struct api_tls *t);

/*
 * MHD_OPTION_NOTIFY_CONNECTION callback, cls the api_tls: pins the
 * current credentials to a new connection, releases them when it
 * closes.
 */
void	api_tls_on_connection(void *cls, struct MHD_Connection *c,
	    void **socket_context, enum MHD_ConnectionNotificationCode toe);

/*
 * MHD_OPTION_HTTPS_CERT_CALLBACK (a gnutls_certificate_retrieve_
 * function2): answers a handshake from its connection's pin; -1 (the
 * handshake fails) when the connection has none.
 */
int	api_tls_retrieve(gnutls_session_t session,
	    const gnutls_datum_t *req_ca_dn, int nreqs,
	    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
	    gnutls_pcert_st **pcert, unsigned int *pcert_length,
	    gnutls_privkey_t *pkey);

#endif
