/*
 * Fixtures for the redis/ tests: a PKI made with OpenSSL, and a real
 * redis-server on 127.0.0.1 configured with it (tests/support's
 * redis_server.c starts and stops the process).
 */
#include <sys/stat.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "fixture.h"
#include "redis_server.h"

/* How long a redis-server may take to listen. */
#define START_WAIT_MS	5000

static EVP_PKEY *
new_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	assert_non_null(k);
	return k;
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/*
 * A certificate for key with subject CN=cn and the given serial (hex),
 * signed by issuer/ikey (self-signed when issuer is NULL).  kind: "ca",
 * "node" (serverAuth+clientAuth, SANs) or "client".
 */
static X509 *
make_cert(const char *cn, const char *serial_hex, EVP_PKEY *key,
    X509 *issuer, EVP_PKEY *ikey, const char *kind)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	BIGNUM *bn = NULL;

	assert_non_null(x);
	assert_non_null(name);
	assert_int_not_equal(BN_hex2bn(&bn, serial_hex), 0);
	assert_non_null(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)));
	BN_free(bn);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_set_subject_name(x, name), 1);
	assert_int_equal(X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : name), 1);
	X509_NAME_free(name);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -60));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	if (issuer == NULL)
		issuer = x;
	if (strcmp(kind, "ca") == 0) {
		add_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, issuer, NID_key_usage,
		    "critical,keyCertSign,cRLSign");
		add_ext(x, issuer, NID_subject_key_identifier, "hash");
	} else {
		add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
		add_ext(x, issuer, NID_key_usage,
		    "critical,digitalSignature");
		add_ext(x, issuer, NID_ext_key_usage,
		    strcmp(kind, "node") == 0 ? "serverAuth,clientAuth" :
		    "clientAuth");
		if (strcmp(kind, "node") == 0)
			add_ext(x, issuer, NID_subject_alt_name,
			    "IP:127.0.0.1,DNS:localhost");
		add_ext(x, issuer, NID_authority_key_identifier, "keyid");
	}
	assert_int_not_equal(X509_sign(x, ikey != NULL ? ikey : key,
	    EVP_sha256()), 0);
	return x;
}

static void
join(char out[FX_PATH_MAX], const char *dir, const char *name)
{
	int n = snprintf(out, FX_PATH_MAX, "%s/%s", dir, name);

	assert_true(n > 0 && n < FX_PATH_MAX);
}

static void
write_cert(const char *path, X509 *x)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, x), 1);
	assert_int_equal(fclose(f), 0);
}

static void
write_key(const char *path, EVP_PKEY *k)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL,
	    NULL), 1);
	assert_int_equal(fclose(f), 0);
}

void
fx_pki_make(struct fx_pki *p)
{
	EVP_PKEY *cak, *ock, *sk, *s2k, *clk;
	X509 *ca, *oca, *s, *s2, *cl;

	memset(p, 0, sizeof(*p));
	snprintf(p->dir, sizeof(p->dir), "/tmp/rds-test-XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	join(p->ca_crt, p->dir, "ca.crt");
	join(p->other_ca_crt, p->dir, "other-ca.crt");
	join(p->server_crt, p->dir, "server.crt");
	join(p->server_key, p->dir, "server.key");
	join(p->server2_crt, p->dir, "server2.crt");
	join(p->server2_key, p->dir, "server2.key");
	join(p->client_crt, p->dir, "client.crt");
	join(p->client_key, p->dir, "client.key");

	cak = new_key();
	ock = new_key();
	sk = new_key();
	s2k = new_key();
	clk = new_key();
	ca = make_cert("Test CA", "01", cak, NULL, NULL, "ca");
	oca = make_cert("Other CA", "01", ock, NULL, NULL, "ca");
	/* A leading zero byte: serials are compared without leading 0s. */
	s = make_cert("node-1", "00A1B2C3D4E5F60718293A4B5C6D7E8F", sk, ca,
	    cak, "node");
	s2 = make_cert("node-1", "7EEDFACE0123456789ABCDEF01234567", s2k, ca,
	    cak, "node");
	cl = make_cert("admin", "0C11E47", clk, ca, cak, "client");
	snprintf(p->server_serial, sizeof(p->server_serial),
	    "a1b2c3d4e5f60718293a4b5c6d7e8f");
	snprintf(p->server2_serial, sizeof(p->server2_serial),
	    "7eedface0123456789abcdef01234567");

	write_cert(p->ca_crt, ca);
	write_cert(p->other_ca_crt, oca);
	write_cert(p->server_crt, s);
	write_key(p->server_key, sk);
	write_cert(p->server2_crt, s2);
	write_key(p->server2_key, s2k);
	write_cert(p->client_crt, cl);
	write_key(p->client_key, clk);

	X509_free(ca);
	X509_free(oca);
	X509_free(s);
	X509_free(s2);
	X509_free(cl);
	EVP_PKEY_free(cak);
	EVP_PKEY_free(ock);
	EVP_PKEY_free(sk);
	EVP_PKEY_free(s2k);
	EVP_PKEY_free(clk);
}

void
fx_pki_free(struct fx_pki *p)
{
	if (p->dir[0] != '\0')
		trs_rmtree(p->dir);
	p->dir[0] = '\0';
}

void
fx_write(const struct fx_pki *p, const char *name, const char *text,
    char out[FX_PATH_MAX])
{
	FILE *f;

	join(out, p->dir, name);
	f = fopen(out, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* One attempt; false when the server died (e.g. the port was taken). */
static bool
try_start(struct fx_redis *r, const struct fx_pki *p, const char *extra)
{
	char text[4096];
	int n;

	r->port = trs_free_port();
	n = snprintf(text, sizeof(text),
	    "port 0\n"
	    "bind 127.0.0.1\n"
	    "tls-port %d\n"
	    "tls-cert-file %s\n"
	    "tls-key-file %s\n"
	    "tls-ca-cert-file %s\n"
	    "tls-auth-clients yes\n"
	    "dir %s\n"
	    "save \"\"\n"
	    "appendonly no\n"
	    "daemonize no\n"
	    "logfile %s\n"
	    "user app on >secret ~* +@all\n"
	    "user noconf on >pw ~* +@all -config\n"
	    "%s\n",
	    r->port, p->server_crt, p->server_key, p->ca_crt, p->dir, r->log,
	    extra != NULL ? extra : "");
	assert_true(n > 0 && (size_t)n < sizeof(text));
	fx_write(p, "redis.conf", text, r->conf);
	switch (trs_start(r->conf, r->log, r->port, START_WAIT_MS, &r->pid)) {
	case TRS_READY:
		return true;
	case TRS_EXITED:
		return false;
	default:
		fail_msg("redis-server did not start on port %d", r->port);
		return false;
	}
}

void
fx_redis_start(struct fx_redis *r, const struct fx_pki *p, const char *extra)
{
	memset(r, 0, sizeof(*r));
	join(r->log, p->dir, "redis.log");
	for (int attempt = 0; attempt < 3; attempt++)
		if (try_start(r, p, extra))
			return;
	fail_msg("redis-server exited at start-up (see its log above)");
}

void
fx_redis_stop(struct fx_redis *r)
{
	trs_stop(r->pid);
	r->pid = 0;
}

void
fx_opts(struct rds_tls_opts *o, const struct fx_pki *p,
    const struct fx_redis *r)
{
	memset(o, 0, sizeof(*o));
	o->host = "127.0.0.1";
	o->port = r->port;
	o->ca_file = p->ca_crt;
	o->cert_file = p->client_crt;
	o->key_file = p->client_key;
	o->timeout_ms = 5000;
}

int
fx_env_setup(void **state)
{
	struct fx_env *v = calloc(1, sizeof(*v));

	assert_non_null(v);
	fx_pki_make(&v->pki);
	fx_redis_start(&v->redis, &v->pki, NULL);
	*state = v;
	return 0;
}

int
fx_env_teardown(void **state)
{
	struct fx_env *v = *state;

	fx_redis_stop(&v->redis);
	fx_pki_free(&v->pki);
	free(v);
	return 0;
}

struct rds_conn *
fx_connect(const struct fx_pki *p, const struct fx_redis *r, size_t max_reply)
{
	struct rds_tls_opts o;
	struct rds_conn *c;
	struct err e = { 0 };

	fx_opts(&o, p, r);
	o.max_reply_bytes = max_reply;
	if ((c = rds_connect(&o, &e)) == NULL)
		fail_msg("connect: %s", e.msg);
	return c;
}
