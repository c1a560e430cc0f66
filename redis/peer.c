/*
 * What the node presented on a connection: its certificate (serial,
 * DER) and the negotiated protocol and cipher.
 */
#include <stdlib.h>

#include "hex.h"
#include "rds_int.h"

int
rds_x509_serial(const X509 *x, char out[RCA_SERIAL_HEX_MAX + 1],
    struct err *e)
{
	BIGNUM *bn = NULL;
	char *hex = NULL;
	int rc = -1;

	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x),
	    NULL)) == NULL || (hex = BN_bn2hex(bn)) == NULL) {
		rds_log_ssl("serial");
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
		rds_log_ssl("i2d_X509");
		err_set(e, ERR_CRYPTO, "cannot encode the node's certificate");
		goto out;
	}
	if ((buf = malloc((size_t)n)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	p = buf;
	if (i2d_X509(x, &p) != n) {
		rds_log_ssl("i2d_X509");
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
