/*
 * Making a CA for `redis-ca init`: a new key and self-signed
 * certificate, or an existing pair adopted after checks; both written
 * exclusively, the key 0400 (encrypted with a passphrase when given).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ca_priv.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "fileio.h"

#define CA_MAX_DAYS	36500
#define CA_MAX_CN	64	/* ub-common-name */

/* Refuse before any work when either output file already exists. */
static int
check_absent(const char *path, struct err *e)
{
	struct stat st;

	if (lstat(path, &st) == 0) {
		err_set(e, ERR_ALREADY_EXISTS, "%s already exists", path);
		return -1;
	}
	if (errno != ENOENT) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Write key (PKCS#8 PEM, AES-256-CBC when pass is set; 0400) and cert
 * (0444), both created exclusively.  The key file is removed again if
 * the certificate cannot be written.
 */
static int
write_pair(X509 *x, EVP_PKEY *key, const char *pass, const char *cert_path,
    const char *key_path, struct err *e)
{
	unsigned char *der = NULL;
	char *kpem = NULL, *cpem = NULL;
	size_t dlen = 0, klen = 0;
	int rc = -1;

	if ((kpem = ca_key_pem(key, pass, &klen)) == NULL) {
		ca_ssl_fail("encoding the CA key", ERR_CRYPTO,
		    "cannot encode the CA key", e);
		goto out;
	}
	if ((der = ca_x509_der(x, &dlen)) == NULL ||
	    (cpem = ca_pem_encode("CERTIFICATE", der, dlen)) == NULL) {
		ca_ssl_fail("encoding the CA certificate", ERR_CRYPTO,
		    "cannot encode the CA certificate", e);
		goto out;
	}
	if (fio_write_excl(key_path, kpem, klen, 0400, e) == -1)
		goto out;
	if (fio_write_excl(cert_path, cpem, strlen(cpem), 0444, e) == -1) {
		unlink(key_path);
		goto out;
	}
	rc = 0;
out:
	ca_secret_free(kpem, klen);
	free(cpem);
	free(der);
	return rc;
}

/* Subject and issuer: CN=cn. */
static int
cert_self_name(X509 *x, const char *cn)
{
	X509_NAME *name;
	int ok;

	if ((name = X509_NAME_new()) == NULL)
		return -1;
	ok = X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) == 1 &&
	    X509_set_subject_name(x, name) == 1 &&
	    X509_set_issuer_name(x, name) == 1;
	X509_NAME_free(name);
	return ok ? 0 : -1;
}

/* The extensions of a CA certificate (its key already set). */
static int
cert_ca_exts(X509 *x)
{
	static const struct {
		int		 nid;
		const char	*value;
	} exts[] = {
		{ NID_basic_constraints, "critical,CA:TRUE,pathlen:0" },
		{ NID_key_usage, "critical,keyCertSign,cRLSign" },
		{ NID_subject_key_identifier, "hash" },
		{ NID_authority_key_identifier, "keyid:always" },
	};
	X509_EXTENSION *ext;
	X509V3_CTX v3;
	int ok;

	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
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

/* Build and sign the self-signed CA certificate for key (new). */
static X509 *
ca_cert_build(EVP_PKEY *key, enum key_type t, const char *cn, int days,
    struct err *e)
{
	char hex[RCA_SERIAL_HEX_MAX + 1];
	ASN1_INTEGER *serial;
	X509 *x;
	time_t now = time(NULL);
	bool ok;

	if ((serial = ca_serial_new(hex, e)) == NULL)
		return NULL;
	ok = (x = X509_new()) != NULL &&
	    X509_set_version(x, X509_VERSION_3) == 1 &&
	    X509_set_serialNumber(x, serial) == 1 &&
	    cert_self_name(x, cn) == 0 &&
	    ASN1_TIME_set(X509_getm_notBefore(x),
	    now - RCA_BACKDATE_SECONDS) != NULL &&
	    ASN1_TIME_set(X509_getm_notAfter(x),
	    now + (time_t)days * 86400) != NULL &&
	    X509_set_pubkey(x, key) == 1 && cert_ca_exts(x) == 0 &&
	    X509_sign(x, key, EVP_get_digestbyname(ca_digest_name(t))) > 0;
	ASN1_INTEGER_free(serial);
	if (!ok) {
		ca_ssl_fail("building the CA certificate", ERR_CRYPTO,
		    "cannot build the CA certificate", e);
		X509_free(x);
		return NULL;
	}
	return x;
}

/* The options of a new CA: key type, common name, lifetime. */
static int
create_opts_check(const struct ca_create_opts *o, struct err *e)
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
ca_create_files(const char *cert_path, const char *key_path,
    const struct ca_create_opts *o, struct err *e)
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	char *pass = NULL;
	int rc = -1;

	if (create_opts_check(o, e) == -1 ||
	    check_absent(key_path, e) == -1 ||
	    check_absent(cert_path, e) == -1)
		goto out;
	if (o->passphrase_file != NULL &&
	    ca_passphrase_read(o->passphrase_file, &pass, e) == -1)
		goto out;
	if ((key = ca_key_generate(o->key_type, e)) == NULL ||
	    (x = ca_cert_build(key, o->key_type, o->cn, o->days, e)) == NULL)
		goto out;
	rc = write_pair(x, key, pass, cert_path, key_path, e);
out:
	ca_passphrase_free(pass);
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

int
ca_import_files(const char *in_cert, const char *in_key,
    const char *in_pass_file, const char *cert_path, const char *key_path,
    const char *out_pass_file, struct err *e)
{
	char *cpem = NULL, *kpem = NULL, *inpass = NULL, *outpass = NULL;
	size_t clen = 0, klen = 0;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	enum key_type t;
	int rc = -1;

	if (check_absent(key_path, e) == -1 ||
	    check_absent(cert_path, e) == -1)
		goto out;
	if (fio_read_all(in_cert, RCA_MAX_PEM_BYTES, &cpem, &clen, e) ==
	    -1 || fio_read_all(in_key, RCA_MAX_KEY_FILE_BYTES, &kpem, &klen,
	    e) == -1) {
		if (e != NULL)
			e->code = ERR_IO;
		goto out;
	}
	if ((x = ca_cert_parse(cpem, clen, in_cert, ERR_INVALID_REQUEST,
	    e)) == NULL)
		goto out;
	if (!ca_cert_is_ca(x)) {
		err_set(e, ERR_INVALID_REQUEST, "%s is not a CA certificate "
		    "(needs basicConstraints CA:TRUE)", in_cert);
		goto out;
	}
	if ((in_pass_file != NULL &&
	    ca_passphrase_read(in_pass_file, &inpass, e) == -1) ||
	    (out_pass_file != NULL &&
	    ca_passphrase_read(out_pass_file, &outpass, e) == -1))
		goto out;
	if ((key = ca_key_parse(kpem, klen, inpass, in_key, ERR_INVALID_REQUEST,
	    e)) == NULL)
		goto out;
	if (ca_key_classify(key, &t, e) == -1 || ca_key_for_ca(t, e) == -1)
		goto out;
	if (X509_check_private_key(x, key) != 1) {
		ERR_clear_error();
		err_set(e, ERR_INVALID_REQUEST,
		    "the key %s does not match the certificate %s", in_key,
		    in_cert);
		goto out;
	}
	rc = write_pair(x, key, outpass, cert_path, key_path, e);
out:
	ca_secret_free(kpem, klen);
	free(cpem);
	ca_passphrase_free(inpass);
	ca_passphrase_free(outpass);
	EVP_PKEY_free(key);
	X509_free(x);
	return rc;
}
