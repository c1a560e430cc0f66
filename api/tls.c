/*
 * The HTTPS listener's certificate and key as GnuTLS credentials that
 * can be replaced while the listener runs (a re-issued tls/api.crt after
 * a CA activation): see tls.h for the pinning scheme.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <microhttpd.h>

#include "fileio.h"
#include "log.h"
#include "rca_limits.h"
#include "tls.h"

/* One certificate chain and its key; immutable once built. */
struct cred {
	atomic_uint	 refs;
	gnutls_pcert_st	 pcert[API_TLS_MAX_CHAIN];
	unsigned int	 npcert;
	gnutls_privkey_t key;
};

struct api_tls {
	pthread_mutex_t	 mu;
	struct cred	*cur;		/* under mu; holds one reference */
	char		*cert_path;	/* new */
	char		*key_path;	/* new */
	atomic_ulong	 loads;
};

static void
cred_put(struct cred *c)
{
	if (c == NULL || atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	for (unsigned int i = 0; i < c->npcert; i++)
		gnutls_pcert_deinit(&c->pcert[i]);
	if (c->key != NULL)
		gnutls_privkey_deinit(c->key);
	free(c);
}

/* The DER SubjectPublicKeyInfo of a public key, new (gnutls_free). */
static int
spki_der(gnutls_pubkey_t k, gnutls_datum_t *out)
{
	return gnutls_pubkey_export2(k, GNUTLS_X509_FMT_DER, out);
}

/* True when key is the private half of leaf's public key. */
static bool
key_matches(gnutls_privkey_t key, gnutls_pcert_st *leaf)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t a = { NULL, 0 }, b = { NULL, 0 };
	bool ok = false;

	if (gnutls_pubkey_init(&pub) < 0)
		return false;
	if (gnutls_pubkey_import_privkey(pub, key, 0, 0) < 0 ||
	    spki_der(pub, &a) < 0 || spki_der(leaf->pubkey, &b) < 0)
		goto out;
	ok = a.size == b.size && memcmp(a.data, b.data, a.size) == 0;
out:
	gnutls_free(a.data);
	gnutls_free(b.data);
	gnutls_pubkey_deinit(pub);
	return ok;
}

/* Import the PEM chain of pem (len bytes) into c. */
static int
import_chain(struct cred *c, char *pem, size_t len, const char *path,
    struct err *e)
{
	gnutls_datum_t d = { (unsigned char *)pem, (unsigned int)len };
	unsigned int n = API_TLS_MAX_CHAIN;
	int rc;

	rc = gnutls_pcert_list_import_x509_raw(c->pcert, &n, &d,
	    GNUTLS_X509_FMT_PEM, GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED);
	if (rc < 0 || n == 0) {
		log_warn("tls: %s: %s", path, rc < 0 ? gnutls_strerror(rc) :
		    "no certificate");
		err_set(e, ERR_CONFIG, "%.200s: not a PEM certificate chain "
		    "of at most %d certificates, leaf first", path,
		    API_TLS_MAX_CHAIN);
		return -1;
	}
	c->npcert = n;
	return 0;
}

/* Import the PEM key of pem (len bytes) into c. */
static int
import_key(struct cred *c, char *pem, size_t len, const char *path,
    struct err *e)
{
	gnutls_datum_t d = { (unsigned char *)pem, (unsigned int)len };
	int rc;

	if (gnutls_privkey_init(&c->key) < 0) {
		c->key = NULL;
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	if ((rc = gnutls_privkey_import_x509_raw(c->key, &d,
	    GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		/* GnuTLS's text names the format, never key bytes. */
		log_warn("tls: %s: %s", path, gnutls_strerror(rc));
		err_set(e, ERR_CONFIG, "%.200s: not an unencrypted PEM "
		    "private key", path);
		return -1;
	}
	return 0;
}

/* Read both files into new credentials (one reference), or NULL. */
static struct cred *
cred_load(const char *cert_path, const char *key_path, struct err *e)
{
	struct cred *c = NULL, *ret = NULL;
	char *cert = NULL, *key = NULL;
	size_t clen = 0, klen = 0;
	struct err fe;

	if (fio_read_all(cert_path, RCA_MAX_PEM_BYTES, &cert, &clen,
	    &fe) == -1) {
		err_set(e, ERR_IO, "cannot read %.200s: %s", cert_path,
		    fe.msg);
		goto out;
	}
	if (fio_read_all(key_path, RCA_MAX_PEM_BYTES, &key, &klen,
	    &fe) == -1) {
		err_set(e, ERR_IO, "cannot read %.200s: %s", key_path,
		    fe.msg);
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	atomic_init(&c->refs, 1);
	if (import_chain(c, cert, clen, cert_path, e) == -1 ||
	    import_key(c, key, klen, key_path, e) == -1)
		goto out;
	if (!key_matches(c->key, &c->pcert[0])) {
		err_set(e, ERR_CONFIG, "%.200s does not hold the key of "
		    "%.200s", key_path, cert_path);
		goto out;
	}
	ret = c;
	c = NULL;
out:
	cred_put(c);
	free(cert);
	fio_secret_free(key, klen);
	return ret;
}

struct api_tls *
api_tls_new(const char *cert_path, const char *key_path, struct err *e)
{
	struct api_tls *t = NULL, *ret = NULL;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (pthread_mutex_init(&t->mu, NULL) != 0) {
		free(t);
		t = NULL;
		err_set(e, ERR_INTERNAL, "cannot create a mutex");
		goto out;
	}
	if ((t->cert_path = strdup(cert_path)) == NULL ||
	    (t->key_path = strdup(key_path)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	if ((t->cur = cred_load(cert_path, key_path, e)) == NULL)
		goto out;
	ret = t;
	t = NULL;
out:
	api_tls_free(t);
	return ret;
}

int
api_tls_load(struct api_tls *t, struct err *e)
{
	struct cred *c, *old;

	if ((c = cred_load(t->cert_path, t->key_path, e)) == NULL)
		return -1;
	pthread_mutex_lock(&t->mu);
	old = t->cur;
	t->cur = c;
	pthread_mutex_unlock(&t->mu);
	/* Connections that pinned the old ones keep them alive. */
	cred_put(old);
	atomic_fetch_add(&t->loads, 1);
	return 0;
}

unsigned long
api_tls_loads(struct api_tls *t)
{
	return atomic_load(&t->loads);
}

void
api_tls_free(struct api_tls *t)
{
	if (t == NULL)
		return;
	cred_put(t->cur);
	pthread_mutex_destroy(&t->mu);
	free(t->cert_path);
	free(t->key_path);
	free(t);
}

void
api_tls_on_connection(void *cls, struct MHD_Connection *conn,
    void **socket_context, enum MHD_ConnectionNotificationCode toe)
{
	const union MHD_ConnectionInfo *ci;
	struct api_tls *t = cls;
	struct cred *c;

	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		cred_put(*socket_context);
		*socket_context = NULL;
		return;
	}
	pthread_mutex_lock(&t->mu);
	c = t->cur;
	atomic_fetch_add(&c->refs, 1);
	pthread_mutex_unlock(&t->mu);
	*socket_context = c;
	/* MHD made the session before telling us: its handshake is ahead. */
	ci = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci != NULL && ci->tls_session != NULL)
		gnutls_session_set_ptr((gnutls_session_t)ci->tls_session, c);
}

int
api_tls_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn,
    int nreqs, const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
    gnutls_pcert_st **pcert, unsigned int *pcert_length,
    gnutls_privkey_t *pkey)
{
	struct cred *c = gnutls_session_get_ptr(session);

	(void)req_ca_dn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	if (c == NULL)
		return -1;
	/* Borrowed by GnuTLS: pinned until the connection closes. */
	*pcert = c->pcert;
	*pcert_length = c->npcert;
	*pkey = c->key;
	return 0;
}
