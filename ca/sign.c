/*
 * Issuance: the policy checks and the building and signing of leaf
 * certificates (SPEC section 5), and verification of a client
 * certificate presented for renewal.  Every extension comes from the
 * profile; nothing is copied from the request but its key and names.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca_priv.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "log.h"

void
ca_cert_clear(struct ca_cert *c)
{
	if (c == NULL)
		return;
	free(c->pem);
	free(c->der);
	names_clear(&c->names);
	memset(c, 0, sizeof(*c));
}

/* The ttl to issue with, after defaulting and the caps (SPEC 5). */
static int
effective_ttl(const struct ca_issue_params *p, int64_t *out, struct err *e)
{
	const struct profile *pr = p->profile;
	int64_t ttl = p->ttl;

	if (p->ttl < 0 || p->ttl_cap < 0) {
		err_set(e, ERR_INVALID_TTL, "ttl must be positive");
		return -1;
	}
	if (ttl == 0) {
		ttl = pr->default_ttl;
		/* A token cap below the default lowers the default. */
		if (p->ttl_cap > 0 && ttl > p->ttl_cap)
			ttl = p->ttl_cap;
	}
	if (ttl <= 0) {
		err_set(e, ERR_INVALID_TTL, "ttl must be positive");
		return -1;
	}
	if (ttl > pr->max_ttl) {
		err_set(e, ERR_TTL_TOO_LONG,
		    "ttl of %lld s exceeds the maximum of profile %s "
		    "(%lld s)", (long long)ttl, pr->name,
		    (long long)pr->max_ttl);
		return -1;
	}
	if (p->ttl_cap > 0 && ttl > p->ttl_cap) {
		err_set(e, ERR_TTL_TOO_LONG,
		    "ttl of %lld s exceeds the token's max_cert_ttl (%lld s)",
		    (long long)ttl, (long long)p->ttl_cap);
		return -1;
	}
	*out = ttl;
	return 0;
}

int
ca_policy_check(const struct ca_csr *csr, const struct ca_issue_params *p,
    struct err *e)
{
	const struct profile *pr;
	const struct names *n;
	int64_t ttl;

	if (csr == NULL || p == NULL || (pr = p->profile) == NULL) {
		err_set(e, ERR_INVALID_REQUEST, "no profile");
		return -1;
	}
	n = &csr->names;
	if ((pr->key_types & KEY_BIT(csr->key_type)) == 0) {
		err_set(e, ERR_KEY_REJECTED,
		    "key type %s is not allowed by profile %s",
		    key_type_name(csr->key_type), pr->name);
		return -1;
	}
	if (n->cn == NULL && names_count(n) == 0) {
		err_set(e, ERR_INVALID_CSR,
		    "the request has neither a common name nor a subject "
		    "alternative name");
		return -1;
	}
	if (pr->require_san && n->n[NAME_DNS] + n->n[NAME_IP] == 0) {
		err_set(e, ERR_INVALID_CSR,
		    "profile %s requires a DNS or IP subject alternative name",
		    pr->name);
		return -1;
	}
	return effective_ttl(p, &ttl, e);
}

/* Subject: CN=<cn> only (empty when the request had no CN). */
static int
set_subject(X509 *x, const char *cn)
{
	X509_NAME *name;
	int ok;

	if ((name = X509_NAME_new()) == NULL)
		return -1;
	ok = (cn == NULL || X509_NAME_add_entry_by_NID(name, NID_commonName,
	    MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) == 1) &&
	    X509_set_subject_name(x, name) == 1;
	X509_NAME_free(name);
	return ok ? 0 : -1;
}

/*
 * The request's key in its canonical form, built by csr.c from the
 * validated key (SPEC section 8), never the request's own bytes.  Set
 * directly: X509_set_pubkey() would re-encode an EVP_PKEY through
 * OpenSSL 3.0's encoders, which is slow.
 */
static int
set_spki(X509 *x, const struct ca_csr *csr)
{
	return ca_spki_set(X509_get_X509_PUBKEY(x), csr);
}

/* SKI of x's public key, RFC 5280 method 1 (SHA-1 of the key bits). */
static int
add_ski(X509 *x, const EVP_MD *sha1)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	ASN1_OCTET_STRING *oct = NULL;
	int ok;

	if (X509_pubkey_digest(x, sha1, md, &mdlen) != 1 ||
	    (oct = ASN1_OCTET_STRING_new()) == NULL ||
	    ASN1_OCTET_STRING_set(oct, md, (int)mdlen) != 1) {
		ASN1_OCTET_STRING_free(oct);
		return -1;
	}
	ok = X509_add1_ext_i2d(x, NID_subject_key_identifier, oct, 0,
	    X509V3_ADD_REPLACE) == 1;
	ASN1_OCTET_STRING_free(oct);
	return ok ? 0 : -1;
}

/* Fill the output fields common to issuance and verification. */
static int
fill_cert(X509 *x, const struct names *n, enum key_type kt,
    struct ca_cert *out, struct err *e)
{
	if ((out->der = ca_x509_der(x, &out->der_len)) == NULL ||
	    (out->pem = ca_pem_encode("CERTIFICATE", out->der,
	    out->der_len)) == NULL) {
		ca_ssl_fail("encoding a certificate", ERR_CRYPTO,
		    "cannot encode the certificate", e);
		return -1;
	}
	ca_sha256_hex(out->der, out->der_len, out->fingerprint);
	if (ca_asn1_time_epoch(X509_get0_notBefore(x), &out->not_before) ==
	    -1 || ca_asn1_time_epoch(X509_get0_notAfter(x),
	    &out->not_after) == -1 ||
	    ca_serial_hex(X509_get0_serialNumber(x), out->serial) == -1) {
		err_set(e, ERR_INVALID_REQUEST,
		    "the certificate's serial or dates are invalid");
		return -1;
	}
	out->key_type = kt;
	return names_copy(&out->names, n, e);
}

int
ca_issue(const struct ca *ca, const struct ca_csr *csr,
    const struct ca_issue_params *p, struct ca_cert *out, struct err *e)
{
	const struct names *n;
	GENERAL_NAMES *gens = NULL;
	ASN1_INTEGER *serial = NULL;
	EVP_MD_CTX *mctx = NULL;
	X509 *x = NULL;
	int64_t now, ttl, nb, na;
	unsigned eku;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (ca_key_needed(ca, e) == -1 || ca_policy_check(csr, p, e) == -1 ||
	    effective_ttl(p, &ttl, e) == -1)
		goto out;
	n = &csr->names;
	now = p->now != 0 ? p->now : (int64_t)time(NULL);
	nb = now - RCA_BACKDATE_SECONDS;
	na = now + ttl;
	if (na > ca->not_after)
		na = ca->not_after;
	if (na <= now) {
		err_set(e, ERR_INVALID_REQUEST,
		    "the CA certificate has expired");
		goto out;
	}
	if ((serial = ca_serial_new(out->serial, e)) == NULL)
		goto out;
	if ((x = X509_new()) == NULL ||
	    X509_set_version(x, X509_VERSION_3) != 1 ||
	    X509_set_serialNumber(x, serial) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) != 1 ||
	    set_subject(x, n->cn) == -1 ||
	    ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na) == NULL ||
	    set_spki(x, csr) == -1)
		goto fail;
	eku = p->profile->eku & (EKU_SERVER_AUTH | EKU_CLIENT_AUTH);
	if (X509_add_ext(x, ca->ext_bc, -1) != 1 ||
	    X509_add_ext(x, ca->ext_ku[csr->key_type == KEY_EC_P256 ||
	    csr->key_type == KEY_EC_P384 ? 0 : 1], -1) != 1 ||
	    (eku != 0 && X509_add_ext(x, ca->ext_eku[eku], -1) != 1) ||
	    add_ski(x, ca->sha1) == -1 ||
	    X509_add_ext(x, ca->ext_aki, -1) != 1)
		goto fail;
	if (names_count(n) > 0) {
		/* RFC 5280 4.2.1.6: critical when the subject is empty. */
		if ((gens = ca_names_to_gens(n)) == NULL ||
		    X509_add1_ext_i2d(x, NID_subject_alt_name, gens,
		    n->cn == NULL, 0) != 1)
			goto fail;
	}
	if ((ca->ext_crldp != NULL && X509_add_ext(x, ca->ext_crldp, -1) !=
	    1) || (ca->ext_aia != NULL && X509_add_ext(x, ca->ext_aia, -1) !=
	    1))
		goto fail;
	if ((mctx = ca_sign_ctx(ca)) == NULL || X509_sign_ctx(x, mctx) <= 0)
		goto fail;
	if (fill_cert(x, n, csr->key_type, out, e) == -1)
		goto out;
	rc = 0;
	goto out;
fail:
	ca_ssl_fail("issuing a certificate", ERR_CRYPTO,
	    "cannot build or sign the certificate", e);
out:
	if (rc == -1)
		ca_cert_clear(out);
	EVP_MD_CTX_free(mctx);
	GENERAL_NAMES_free(gens);
	ASN1_INTEGER_free(serial);
	X509_free(x);
	return rc;
}

int
ca_leaf_verify(X509_STORE *store, STACK_OF(X509) *untrusted, X509 *x,
    int64_t now, STACK_OF(X509) **chain, struct err *e)
{
	X509_STORE_CTX *ctx = NULL;
	int rc = -1, verr;

	*chain = NULL;
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, store, x, untrusted) != 1) {
		ca_ssl_fail("X509_STORE_CTX_init", ERR_CRYPTO,
		    "cannot verify the certificate", e);
		goto out;
	}
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx),
	    (time_t)(now != 0 ? now : (int64_t)time(NULL)));
	if (X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) != 1) {
		ca_ssl_fail("X509_STORE_CTX_set_purpose", ERR_CRYPTO,
		    "cannot verify the certificate", e);
		goto out;
	}
	if (X509_verify_cert(ctx) != 1) {
		verr = X509_STORE_CTX_get_error(ctx);
		ERR_clear_error();
		err_set(e, ERR_UNAUTHORIZED, "client certificate refused: %s",
		    X509_verify_cert_error_string(verr));
		goto out;
	}
	/* The purpose check passes a certificate without any EKU. */
	if ((X509_get_extension_flags(x) & EXFLAG_XKUSAGE) == 0 ||
	    (X509_get_extended_key_usage(x) & XKU_SSL_CLIENT) == 0) {
		err_set(e, ERR_UNAUTHORIZED,
		    "client certificate refused: no clientAuth usage");
		goto out;
	}
	if ((*chain = X509_STORE_CTX_get1_chain(ctx)) == NULL ||
	    sk_X509_num(*chain) < 2) {
		err_set(e, ERR_UNAUTHORIZED, "client certificate refused: "
		    "it is a CA certificate");
		goto out;
	}
	rc = 0;
out:
	if (rc == -1) {
		sk_X509_pop_free(*chain, X509_free);
		*chain = NULL;
	}
	X509_STORE_CTX_free(ctx);
	return rc;
}

int
ca_leaf_fill(X509 *x, struct ca_cert *out, struct err *e)
{
	struct names names = NAMES_INIT;
	enum key_type kt;
	int rc = -1;

	if (ca_key_classify(X509_get0_pubkey(x), &kt, e) == -1) {
		if (e != NULL)
			e->code = ERR_UNAUTHORIZED;
		goto out;
	}
	if (ca_cert_names(x, ERR_UNAUTHORIZED,
	    "client certificate refused: bad subjectAltName", &names, e) == -1)
		goto out;
	if (fill_cert(x, &names, kt, out, e) == -1)
		goto out;
	rc = 0;
out:
	names_clear(&names);
	return rc;
}

int
ca_pem_cert_read(const char *pem, struct ca_cert *out, struct err *e)
{
	BIO	*bio;
	X509	*x = NULL;
	int	 rc;

	memset(out, 0, sizeof(*out));
	if (pem != NULL && (bio = BIO_new_mem_buf(pem, -1)) != NULL) {
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	if (x == NULL) {
		ERR_clear_error();
		err_set(e, ERR_INVALID_REQUEST, "not a PEM certificate");
		return -1;
	}
	if ((rc = ca_leaf_fill(x, out, e)) == -1 && e != NULL)
		e->code = ERR_INVALID_REQUEST;
	X509_free(x);
	return rc;
}

int
ca_leaf_check(const struct ca_leaf_trust *t, const unsigned char *der,
    size_t len, int64_t now, int *which, struct ca_cert *out,
    struct err *e)
{
	STACK_OF(X509) *chain = NULL;
	X509 *x = NULL, *issuer;
	int i, rc = -1;
	char serial[RCA_SERIAL_HEX_MAX + 1] = "";

	memset(out, 0, sizeof(*out));
	if (which != NULL)
		*which = -1;
	if ((x = ca_x509_from_der(der, len, ERR_INVALID_REQUEST, e)) == NULL)
		goto out;
	/* Kept on refusal too: the audit log names who was refused. */
	if (ca_serial_hex(X509_get0_serialNumber(x), serial) == -1)
		serial[0] = '\0';
	if (ca_leaf_verify(t->store, t->untrusted, x, now, &chain, e) == -1)
		goto out;
	/*
	 * The issuer in the chain built is the certificate that signed the
	 * leaf: it must be one of the issuing CAs, not merely a root above
	 * them (another CA under the same root is not one of them).
	 */
	issuer = sk_X509_value(chain, 1);
	for (i = 0; i < sk_X509_num(t->issuers); i++)
		if (X509_cmp(issuer, sk_X509_value(t->issuers, i)) == 0)
			break;
	if (i == sk_X509_num(t->issuers)) {
		err_set(e, ERR_UNAUTHORIZED, "client certificate refused: "
		    "not issued by %s", t->issuers_name);
		goto out;
	}
	if (ca_leaf_fill(x, out, e) == -1)
		goto out;
	if (which != NULL)
		*which = i;
	rc = 0;
out:
	if (rc == -1) {
		ca_cert_clear(out);
		memcpy(out->serial, serial, sizeof(out->serial));
	}
	sk_X509_pop_free(chain, X509_free);
	X509_free(x);
	return rc;
}

int
ca_verify_cert(const struct ca *ca, const unsigned char *der, size_t len,
    int64_t now, struct ca_cert *out, struct err *e)
{
	struct ca_leaf_trust t = {
		.store = ca->store, .untrusted = ca->untrusted,
		.issuers = NULL, .issuers_name = "this CA",
	};
	int rc;

	/* The stack only borrows ca->cert. */
	if ((t.issuers = sk_X509_new_null()) == NULL ||
	    sk_X509_push(t.issuers, ca->cert) <= 0) {
		sk_X509_free(t.issuers);
		memset(out, 0, sizeof(*out));
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	rc = ca_leaf_check(&t, der, len, now, NULL, out, e);
	sk_X509_free(t.issuers);
	return rc;
}
