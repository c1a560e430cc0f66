/*
 * The OpenSSL client context for one connection: protocol versions,
 * cipher lists and security level, the trust anchors (file and PEM),
 * verification and the client certificate, as struct rds_tls_opts asks.
 */
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
			rds_log_ssl("add CA certificate");
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

/*
 * Protocol bounds: o's, or TLS 1.2 (connect) / TLS 1.0 (probe) as the
 * floor when o leaves it to us.
 */
static int
set_versions(SSL_CTX *ctx, const struct rds_tls_opts *o, enum rds_mode mode,
    struct err *e)
{
	int minv, maxv;

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
		return -1;
	}
	if (SSL_CTX_set_min_proto_version(ctx, minv) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, maxv) != 1) {
		rds_log_ssl("set proto version");
		err_set(e, ERR_CRYPTO, "this OpenSSL cannot use %s..%s",
		    rds_tls_version_name(o->min_version),
		    rds_tls_version_name(o->max_version));
		return -1;
	}
	return 0;
}

/* Cipher list and TLS 1.3 suites; a probe offers everything by default. */
static int
set_ciphers(SSL_CTX *ctx, const struct rds_tls_opts *o, enum rds_mode mode,
    struct err *e)
{
	if (o->cipher_list != NULL || mode == RDS_MODE_PROBE) {
		const char *list = o->cipher_list != NULL ? o->cipher_list :
		    "ALL:@SECLEVEL=0";

		if (SSL_CTX_set_cipher_list(ctx, list) != 1) {
			rds_log_ssl("set cipher list");
			err_set(e, ERR_CRYPTO,
			    "no usable cipher in cipher list \"%s\"", list);
			return -1;
		}
	}
	if (o->ciphersuites != NULL &&
	    SSL_CTX_set_ciphersuites(ctx, o->ciphersuites) != 1) {
		rds_log_ssl("set ciphersuites");
		err_set(e, ERR_CRYPTO, "no usable suite in ciphersuites \"%s\"",
		    o->ciphersuites);
		return -1;
	}
	/*
	 * OpenSSL 3 refuses TLS < 1.2 and SHA-1 signatures at its default
	 * level 1; a probe must be able to offer them, or "refused" would
	 * be our own refusal.  Set last: "@SECLEVEL=" in a list changes it.
	 */
	if (mode == RDS_MODE_PROBE)
		SSL_CTX_set_security_level(ctx, 0);
	return 0;
}

/* Trust anchors, and whether the handshake verifies the node. */
static int
set_trust(SSL_CTX *ctx, const struct rds_tls_opts *o, enum rds_mode mode,
    struct err *e)
{
	if (o->ca_file != NULL &&
	    SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL) != 1) {
		rds_log_ssl("load CA file");
		err_set(e, ERR_CRYPTO, "cannot load CA file %s", o->ca_file);
		return -1;
	}
	if (o->ca_pem != NULL && add_ca_pem(ctx, o->ca_pem, e) == -1)
		return -1;
	if (mode == RDS_MODE_CONNECT && !o->no_verify) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (o->ignore_dates)
			X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx),
			    X509_V_FLAG_NO_CHECK_TIME);
	} else
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return 0;
}

/* The client certificate and its key (in cert_file when key_file is NULL). */
static int
set_client_pair(SSL_CTX *ctx, const struct rds_tls_opts *o, struct err *e)
{
	const char *kf = o->key_file != NULL ? o->key_file : o->cert_file;

	if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1) {
		rds_log_ssl("load client certificate");
		err_set(e, ERR_CRYPTO, "cannot load client certificate %s",
		    o->cert_file);
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, kf, SSL_FILETYPE_PEM) != 1) {
		rds_log_ssl("load client key");
		err_set(e, ERR_CRYPTO, "cannot load client key %s", kf);
		return -1;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		rds_log_ssl("check client key");
		err_set(e, ERR_CRYPTO,
		    "client key %s does not match certificate %s",
		    kf, o->cert_file);
		return -1;
	}
	return 0;
}

SSL_CTX *
rds_tls_ctx_new(const struct rds_tls_opts *o, enum rds_mode mode,
    struct err *e)
{
	SSL_CTX *ctx = NULL, *ret = NULL;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		rds_log_ssl("SSL_CTX_new");
		err_set(e, ERR_CRYPTO, "cannot create a TLS context");
		goto out;
	}
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase_cb);
	if (set_versions(ctx, o, mode, e) == -1 ||
	    set_ciphers(ctx, o, mode, e) == -1 ||
	    set_trust(ctx, o, mode, e) == -1)
		goto out;
	if (o->cert_file != NULL && set_client_pair(ctx, o, e) == -1)
		goto out;
	ret = ctx;
	ctx = NULL;
out:
	SSL_CTX_free(ctx);
	return ret;
}
