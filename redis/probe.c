/*
 * Probes for the node audit: one handshake with restricted versions or
 * ciphers, answered "accepted" or "refused" by the node, plus what the
 * node's certificate looks like; and whether the node insists on a client
 * certificate.  Probes do not verify during the handshake; they check the
 * chain and the name afterwards and report them separately.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "rds_int.h"

/* Check leaf (with the chain the node sent) against the CA file. */
static void
check_chain(struct rds_conn *c, const struct rds_tls_opts *o, X509 *leaf,
    struct rds_probe_result *r)
{
	X509_STORE_CTX *sctx = NULL;
	int err;

	if (o->ca_file == NULL && o->ca_pem == NULL) {
		snprintf(r->chain_error, sizeof(r->chain_error),
		    "no CA file to check against");
		return;
	}
	if ((sctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(sctx, SSL_CTX_get_cert_store(c->ctx), leaf,
	    SSL_get_peer_cert_chain(c->ssl)) != 1 ||
	    X509_STORE_CTX_set_default(sctx, "ssl_server") != 1) {
		snprintf(r->chain_error, sizeof(r->chain_error),
		    "cannot set up verification");
		goto out;
	}
	if (X509_verify_cert(sctx) == 1) {
		r->chain_valid = true;
	} else {
		err = X509_STORE_CTX_get_error(sctx);
		snprintf(r->chain_error, sizeof(r->chain_error), "%s",
		    X509_verify_cert_error_string(err));
	}
out:
	ERR_clear_error();
	X509_STORE_CTX_free(sctx);
}

static const char *
key_type_of(const EVP_PKEY *pk)
{
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
	case EVP_PKEY_RSA_PSS:
		return "rsa";
	case EVP_PKEY_EC:
		return "ec";
	case EVP_PKEY_ED25519:
		return "ed25519";
	case EVP_PKEY_ED448:
		return "ed448";
	case EVP_PKEY_DSA:
		return "dsa";
	default:
		return "other";
	}
}

static bool
strong_digest(int mdnid, int pknid)
{
	switch (mdnid) {
	case NID_sha256:
	case NID_sha384:
	case NID_sha512:
	case NID_sha3_256:
	case NID_sha3_384:
	case NID_sha3_512:
		return true;
	case NID_undef:
		/* EdDSA signs without a separate digest. */
		return pknid == NID_ED25519 || pknid == NID_ED448;
	default:
		return false;
	}
}

/* Fill the certificate part of r from the node's leaf. */
static void
describe_cert(struct rds_conn *c, const struct rds_tls_opts *o, X509 *leaf,
    struct rds_probe_result *r)
{
	EVP_PKEY *pk;
	struct tm tm;
	int mdnid = NID_undef, pknid = NID_undef, sig_nid;
	const char *name = o->server_name != NULL ? o->server_name : o->host;
	struct err e;

	r->have_cert = true;
	if (rds_x509_serial(leaf, r->serial, &e) == -1)
		r->serial[0] = '\0';
	check_chain(c, o, leaf, r);
	if (rds_is_ip(name))
		r->name_matches = X509_check_ip_asc(leaf, name, 0) == 1;
	else
		r->name_matches = X509_check_host(leaf, name, 0,
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
	if ((pk = X509_get0_pubkey(leaf)) != NULL) {
		snprintf(r->key_type, sizeof(r->key_type), "%s",
		    key_type_of(pk));
		r->key_bits = EVP_PKEY_get_bits(pk);
		r->key_security_bits = EVP_PKEY_get_security_bits(pk);
	}
	sig_nid = X509_get_signature_nid(leaf);
	snprintf(r->sig_alg, sizeof(r->sig_alg), "%s",
	    sig_nid != NID_undef ? OBJ_nid2ln(sig_nid) : "unknown");
	if (X509_get_signature_info(leaf, &mdnid, &pknid, NULL, NULL) == 1)
		r->sig_sha256_or_better = strong_digest(mdnid, pknid);
	if (ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &tm) == 1)
		r->not_after = (int64_t)timegm(&tm);
	ERR_clear_error();
}

int
rds_probe(const struct rds_tls_opts *o, struct rds_probe_result *r,
    struct err *e)
{
	struct rds_conn *c = NULL;
	const SSL_CIPHER *ci;
	struct err herr;
	X509 *leaf;
	int rc = -1, ret, kx;

	memset(r, 0, sizeof(*r));
	err_clear(&herr);
	ret = rds_open(o, RDS_MODE_PROBE, &c, &herr);
	if (ret == RDS_HANDSHAKE_FAILED) {
		r->accepted = false;
		snprintf(r->reason, sizeof(r->reason), "%s", herr.msg);
		rc = 0;
		goto out;
	}
	if (ret != 0) {
		err_set(e, herr.code, "%s", herr.msg);
		goto out;
	}
	r->accepted = true;
	snprintf(r->protocol, sizeof(r->protocol), "%s",
	    rds_conn_protocol(c));
	snprintf(r->cipher, sizeof(r->cipher), "%s", rds_conn_cipher(c));
	if ((ci = SSL_get_current_cipher(c->ssl)) != NULL) {
		kx = SSL_CIPHER_get_kx_nid(ci);
		r->forward_secret = kx == NID_kx_ecdhe || kx == NID_kx_dhe ||
		    kx == NID_kx_ecdhe_psk || kx == NID_kx_dhe_psk ||
		    kx == NID_kx_any;
		r->aead = SSL_CIPHER_is_aead(ci) == 1;
	}
	if ((leaf = SSL_get0_peer_certificate(c->ssl)) != NULL)
		describe_cert(c, o, leaf, r);
	rc = 0;
out:
	rds_close(c);
	return rc;
}

int
rds_probe_client_cert_required(const struct rds_tls_opts *o,
    bool *required, struct err *e)
{
	struct rds_tls_opts anon;
	struct rds_conn *c = NULL;
	struct rds_reply *reply = NULL;
	const char *argv[1] = { "PING" };
	struct err herr;
	int rc = -1, ret;

	*required = false;
	if (o == NULL) {
		err_set(e, ERR_INVALID_REQUEST, "redis: no options");
		goto out;
	}
	anon = *o;
	anon.cert_file = NULL;
	anon.key_file = NULL;
	err_clear(&herr);
	ret = rds_open(&anon, RDS_MODE_PROBE, &c, &herr);
	if (ret == RDS_HANDSHAKE_FAILED) {
		/* TLS 1.2: the node refuses the handshake itself. */
		log_debug("redis: anonymous handshake refused: %s", herr.msg);
		*required = true;
		rc = 0;
		goto out;
	}
	if (ret != 0) {
		err_set(e, herr.code, "%s", herr.msg);
		goto out;
	}
	/*
	 * TLS 1.3: the client's handshake completes before the node has
	 * seen our (empty) certificate; its refusal arrives as an alert or
	 * a close on the first read.
	 */
	if (rds_command(c, 1, argv, NULL, &reply, &herr) == -1) {
		if (c->timed_out) {
			err_set(e, ERR_NET, "%s", herr.msg);
			goto out;
		}
		log_debug("redis: anonymous PING refused: %s", herr.msg);
		*required = true;
	}
	rc = 0;
out:
	rds_reply_free(reply);
	rds_close(c);
	return rc;
}
