/*
 * Building CA certificates (init, and the next CA of a rollover): the
 * checks of a new CA's options, the certificate itself (self-signed or
 * signed by a root), and its key written into the file reserved for it.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca_priv.h"

#include <openssl/err.h>

#include "fileio.h"

#define CA_MAX_DAYS	36500
#define CA_MAX_CN	64	/* ub-common-name */

/* Subject CN=cn; issuer: the same, or issuer's subject. */
static int
cert_names(X509 *x, const char *cn, X509 *issuer)
{
	X509_NAME *name;
	int ok;

	if ((name = X509_NAME_new()) == NULL)
		return -1;
	ok = X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) == 1 &&
	    X509_set_subject_name(x, name) == 1 &&
	    X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : name) == 1;
	X509_NAME_free(name);
	return ok ? 0 : -1;
}

/*
 * The extensions of a CA certificate (its key already set), AKI from
 * issuer's SKI (NULL: self-signed, its own).
 */
static int
cert_ca_exts(X509 *x, X509 *issuer, int pathlen)
{
	static const char *const bc[2] = {
		"critical,CA:TRUE,pathlen:0", "critical,CA:TRUE,pathlen:1"
	};
	const struct {
		int		 nid;
		const char	*value;
	} exts[] = {
		{ NID_basic_constraints, bc[pathlen == 1] },
		{ NID_key_usage, "critical,keyCertSign,cRLSign" },
		{ NID_subject_key_identifier, "hash" },
		{ NID_authority_key_identifier, "keyid:always" },
	};
	X509_EXTENSION *ext;
	X509V3_CTX v3;
	int ok;

	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		if ((ext = X509V3_EXT_nconf_nid(NULL, &v3, exts[i].nid,
		    exts[i].value)) == NULL)
			return -1;
		ok = X509_add_ext(x, ext, -1) == 1;
		X509_EXTENSION_free(ext);
		if (!ok)
			return -1;
	}
	return 0;
}

X509 *
ca_mkcert(const struct ca_mk *m, struct err *e)
{
	char hex[RCA_SERIAL_HEX_MAX + 1];
	ASN1_INTEGER *serial;
	X509 *x = NULL;
	time_t now = time(NULL), na;
	int64_t cap;
	bool ok;

	na = now + (time_t)m->days * 86400;
	/* Nothing the root signs outlives the root. */
	if (m->issuer != NULL && ca_asn1_time_epoch(
	    X509_get0_notAfter(m->issuer), &cap) == 0 && cap < na)
		na = (time_t)cap;
	if ((serial = ca_serial_new(hex, e)) == NULL)
		return NULL;
	ok = (x = X509_new()) != NULL &&
	    X509_set_version(x, X509_VERSION_3) == 1 &&
	    X509_set_serialNumber(x, serial) == 1 &&
	    cert_names(x, m->cn, m->issuer) == 0 &&
	    ASN1_TIME_set(X509_getm_notBefore(x),
	    now - RCA_BACKDATE_SECONDS) != NULL &&
	    ASN1_TIME_set(X509_getm_notAfter(x), na) != NULL &&
	    X509_set_pubkey(x, m->pub) == 1 &&
	    cert_ca_exts(x, m->issuer, m->pathlen) == 0 &&
	    X509_sign(x, m->sign_key,
	    EVP_get_digestbyname(ca_digest_name(m->sign_type))) > 0;
	ASN1_INTEGER_free(serial);
	if (!ok) {
		ca_ssl_fail("building a CA certificate", ERR_CRYPTO,
		    "cannot build the CA certificate", e);
		X509_free(x);
		return NULL;
	}
	return x;
}

X509 *
ca_mkself(EVP_PKEY *key, enum key_type t, const char *cn, int pathlen,
    int days, struct err *e)
{
	struct ca_mk m = {
		.pub = key, .cn = cn, .pathlen = pathlen, .days = days,
		.issuer = NULL, .sign_key = key, .sign_type = t,
	};

	return ca_mkcert(&m, e);
}

int
ca_create_opts_check(const struct ca_create_opts *o, struct err *e)
{
	if (ca_key_for_ca(o->key_type, e) == -1)
		return -1;
	if (o->cn == NULL || o->cn[0] == '\0' ||
	    strlen(o->cn) > CA_MAX_CN) {
		err_set(e, ERR_INVALID_REQUEST,
		    "the CA common name must be 1 to %d characters",
		    CA_MAX_CN);
		return -1;
	}
	for (const char *c = o->cn; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			err_set(e, ERR_INVALID_REQUEST,
			    "the CA common name has control characters");
			return -1;
		}
	if (o->days < 1 || o->days > CA_MAX_DAYS) {
		err_set(e, ERR_INVALID_REQUEST,
		    "days must be between 1 and %d", CA_MAX_DAYS);
		return -1;
	}
	return 0;
}

int
ca_key_write(struct fio_resv *r, EVP_PKEY *key, const char *pass_file,
    struct err *e)
{
	char *pass = NULL, *kpem = NULL;
	size_t klen = 0;
	int rc = -1;

	if (pass_file != NULL &&
	    ca_passphrase_read(pass_file, &pass, e) == -1)
		goto out;
	if ((kpem = ca_key_pem(key, pass, &klen)) == NULL) {
		ca_ssl_fail("encoding a CA key", ERR_CRYPTO,
		    "cannot encode the CA key", e);
		goto out;
	}
	rc = fio_resv_write(r, kpem, klen, 0400, e);
out:
	fio_secret_free(kpem, klen);
	fio_secret_free_str(pass);
	return rc;
}
