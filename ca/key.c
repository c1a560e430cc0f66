/*
 * The CA key and certificate: creating a new CA, adopting an existing
 * one, and loading it for signing with the file checks of SPEC section
 * 3 (regular file, our owner, no group/other bits, key matches cert).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ca_priv.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "fileio.h"
#include "log.h"

#define CA_MAX_DAYS	36500
#define CA_MAX_CN	64	/* ub-common-name */

int
ca_passphrase_read(const char *path, char **out, struct err *e)
{
	char *buf = NULL;
	size_t len = 0;

	*out = NULL;
	if (fio_read_all(path, 1024, &buf, &len, e) == -1) {
		if (e != NULL && e->code == ERR_NOT_FOUND)
			e->code = ERR_IO;
		return -1;
	}
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	if (len == 0) {
		free(buf);
		err_set(e, ERR_INVALID_REQUEST, "%s: empty passphrase", path);
		return -1;
	}
	*out = buf;
	return 0;
}

void
ca_passphrase_free(char *p)
{
	if (p == NULL)
		return;
	fio_wipe(p, strlen(p));
	free(p);
}

/* Passphrase callback state: never prompts on a terminal. */
struct pwctx {
	const char	*pass;	/* NULL: none given */
	bool		 asked;
};

static int
pw_cb(char *buf, int size, int rwflag, void *u)
{
	struct pwctx *pw = u;
	size_t len;

	pw->asked = true;
	if (pw->pass == NULL)
		return -1;
	len = strlen(pw->pass);
	if (len > (size_t)size)
		return -1;
	memcpy(buf, pw->pass, len);
	return (int)len;
}

/*
 * Parse a private key PEM (PKCS#1 or PKCS#8, encrypted or not) with
 * passphrase pass (may be NULL).  code is the error code to report.
 */
static EVP_PKEY *
key_parse(const char *pem, size_t len, const char *pass, const char *what,
    enum err_code code, struct err *e)
{
	struct pwctx pw = { pass, false };
	EVP_PKEY *pk = NULL;
	BIO *bio;

	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		err_set(e, ERR_CRYPTO, "out of memory");
		return NULL;
	}
	pk = PEM_read_bio_PrivateKey(bio, NULL, pw_cb, &pw);
	BIO_free(bio);
	if (pk != NULL)
		return pk;
	/* The OpenSSL error text may quote key data: drop it. */
	ERR_clear_error();
	if (pw.asked && pass == NULL)
		err_set(e, code, "%s is encrypted: a passphrase file is "
		    "needed", what);
	else if (pw.asked)
		err_set(e, code, "%s: cannot decrypt the key (wrong "
		    "passphrase?)", what);
	else
		err_set(e, code, "%s: not a PEM private key", what);
	return NULL;
}

static X509 *
cert_parse(const char *pem, size_t len, const char *what,
    enum err_code code, struct err *e)
{
	X509 *x;
	BIO *bio;

	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		err_set(e, ERR_CRYPTO, "out of memory");
		return NULL;
	}
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (x == NULL) {
		ERR_clear_error();
		err_set(e, code, "%s: not a PEM certificate", what);
	}
	return x;
}

/* The signing digest for a CA key type. */
static const char *
digest_name(enum key_type t)
{
	return t == KEY_EC_P384 ? "SHA384" : "SHA256";
}

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
	BIO *kb = NULL;
	unsigned char *der = NULL;
	char *kdata, *cpem = NULL;
	size_t dlen = 0;
	long klen;
	int rc = -1;

	if ((kb = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PKCS8PrivateKey(kb, key,
	    pass != NULL ? EVP_aes_256_cbc() : NULL,
	    pass, pass != NULL ? (int)strlen(pass) : 0, NULL, NULL) != 1 ||
	    (klen = BIO_get_mem_data(kb, &kdata)) <= 0) {
		ca_log_ssl("encoding the CA key");
		err_set(e, ERR_CRYPTO, "cannot encode the CA key");
		goto out;
	}
	if ((der = ca_x509_der(x, &dlen)) == NULL ||
	    (cpem = ca_pem_encode("CERTIFICATE", der, dlen)) == NULL) {
		ca_log_ssl("encoding the CA certificate");
		err_set(e, ERR_CRYPTO, "cannot encode the CA certificate");
		goto out;
	}
	if (fio_write_excl(key_path, kdata, (size_t)klen, 0400, e) == -1)
		goto out;
	if (fio_write_excl(cert_path, cpem, strlen(cpem), 0444, e) == -1) {
		unlink(key_path);
		goto out;
	}
	rc = 0;
out:
	free(cpem);
	free(der);
	BIO_free(kb);	/* the memory BIO clears its buffer */
	return rc;
}

/* Build and sign the self-signed CA certificate for key. */
static X509 *
ca_cert_build(EVP_PKEY *key, enum key_type t, const char *cn, int days,
    struct err *e)
{
	char hex[RCA_SERIAL_HEX_MAX + 1];
	X509 *x = NULL, *ret = NULL;
	X509_NAME *name = NULL;
	ASN1_INTEGER *serial = NULL;
	X509_EXTENSION *ext = NULL;
	X509V3_CTX v3;
	EVP_MD *md = NULL;
	time_t now = time(NULL);
	static const struct {
		int		 nid;
		const char	*value;
	} exts[] = {
		{ NID_basic_constraints, "critical,CA:TRUE,pathlen:0" },
		{ NID_key_usage, "critical,keyCertSign,cRLSign" },
		{ NID_subject_key_identifier, "hash" },
		{ NID_authority_key_identifier, "keyid:always" },
	};

	if ((serial = ca_serial_new(hex, e)) == NULL)
		goto out;
	if ((md = EVP_MD_fetch(NULL, digest_name(t), NULL)) == NULL ||
	    (x = X509_new()) == NULL ||
	    X509_set_version(x, X509_VERSION_3) != 1 ||
	    X509_set_serialNumber(x, serial) != 1 ||
	    (name = X509_NAME_new()) == NULL ||
	    X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_subject_name(x, name) != 1 ||
	    X509_set_issuer_name(x, name) != 1 ||
	    ASN1_TIME_set(X509_getm_notBefore(x),
	    now - RCA_BACKDATE_SECONDS) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x),
	    now + (time_t)days * 86400) == NULL ||
	    X509_set_pubkey(x, key) != 1)
		goto fail;
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		if ((ext = X509V3_EXT_nconf_nid(NULL, &v3, exts[i].nid,
		    exts[i].value)) == NULL || X509_add_ext(x, ext, -1) != 1)
			goto fail;
		X509_EXTENSION_free(ext);
		ext = NULL;
	}
	if (X509_sign(x, key, md) <= 0)
		goto fail;
	ret = x;
	x = NULL;
	goto out;
fail:
	ca_log_ssl("building the CA certificate");
	err_set(e, ERR_CRYPTO, "cannot build the CA certificate");
out:
	X509_EXTENSION_free(ext);
	EVP_MD_free(md);
	ASN1_INTEGER_free(serial);
	X509_NAME_free(name);
	X509_free(x);
	return ret;
}

int
ca_create_files(const char *cert_path, const char *key_path,
    const struct ca_create_opts *o, struct err *e)
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	char *pass = NULL;
	int rc = -1;

	if ((unsigned)o->key_type >= KEY__MAX ||
	    !ca_key_type_ok_for_ca(o->key_type)) {
		err_set(e, ERR_KEY_REJECTED, "key type %s is not allowed for "
		    "a CA (ec-p256, ec-p384, rsa-3072, rsa-4096)",
		    key_type_name(o->key_type));
		goto out;
	}
	if (o->cn == NULL || o->cn[0] == '\0' ||
	    strlen(o->cn) > CA_MAX_CN) {
		err_set(e, ERR_INVALID_REQUEST,
		    "the CA common name must be 1 to %d characters",
		    CA_MAX_CN);
		goto out;
	}
	for (const char *c = o->cn; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			err_set(e, ERR_INVALID_REQUEST,
			    "the CA common name has control characters");
			goto out;
		}
	if (o->days < 1 || o->days > CA_MAX_DAYS) {
		err_set(e, ERR_INVALID_REQUEST,
		    "days must be between 1 and %d", CA_MAX_DAYS);
		goto out;
	}
	if (check_absent(key_path, e) == -1 ||
	    check_absent(cert_path, e) == -1)
		goto out;
	if (o->passphrase_file != NULL &&
	    ca_passphrase_read(o->passphrase_file, &pass, e) == -1)
		goto out;
	if ((key = ca_key_generate(o->key_type, e)) == NULL ||
	    (x = ca_cert_build(key, o->key_type, o->cn, o->days, e)) == NULL)
		goto out;
	if (write_pair(x, key, pass, cert_path, key_path, e) == -1)
		goto out;
	rc = 0;
out:
	ca_passphrase_free(pass);
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

/* True when x is a CA: basicConstraints CA:TRUE (and keyCertSign). */
static bool
cert_is_ca(X509 *x)
{
	BASIC_CONSTRAINTS *bc;
	bool ca;
	int crit = 0;

	if ((bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit,
	    NULL)) == NULL) {
		ERR_clear_error();
		return false;
	}
	ca = bc->ca != 0;
	BASIC_CONSTRAINTS_free(bc);
	if (ca && (X509_get_extension_flags(x) & EXFLAG_KUSAGE) != 0 &&
	    (X509_get_key_usage(x) & KU_KEY_CERT_SIGN) == 0)
		ca = false;
	return ca;
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
	if ((x = cert_parse(cpem, clen, in_cert, ERR_INVALID_REQUEST,
	    e)) == NULL)
		goto out;
	if (!cert_is_ca(x)) {
		err_set(e, ERR_INVALID_REQUEST, "%s is not a CA certificate "
		    "(needs basicConstraints CA:TRUE)", in_cert);
		goto out;
	}
	if ((in_pass_file != NULL &&
	    ca_passphrase_read(in_pass_file, &inpass, e) == -1) ||
	    (out_pass_file != NULL &&
	    ca_passphrase_read(out_pass_file, &outpass, e) == -1))
		goto out;
	if ((key = key_parse(kpem, klen, inpass, in_key, ERR_INVALID_REQUEST,
	    e)) == NULL)
		goto out;
	if (ca_key_classify(key, &t, e) == -1)
		goto out;
	if (!ca_key_type_ok_for_ca(t)) {
		err_set(e, ERR_KEY_REJECTED, "key type %s is not allowed for "
		    "a CA (ec-p256, ec-p384, rsa-3072, rsa-4096)",
		    key_type_name(t));
		goto out;
	}
	if (X509_check_private_key(x, key) != 1) {
		ERR_clear_error();
		err_set(e, ERR_INVALID_REQUEST,
		    "the key %s does not match the certificate %s", in_key,
		    in_cert);
		goto out;
	}
	if (write_pair(x, key, outpass, cert_path, key_path, e) == -1)
		goto out;
	rc = 0;
out:
	if (kpem != NULL) {
		fio_wipe(kpem, klen);
		free(kpem);
	}
	free(cpem);
	ca_passphrase_free(inpass);
	ca_passphrase_free(outpass);
	EVP_PKEY_free(key);
	X509_free(x);
	return rc;
}

/*
 * Read the key file with the checks of SPEC section 3, on the opened
 * descriptor so the file checked is the file read.
 */
static int
key_file_read(const char *path, char **out, size_t *outlen, struct err *e)
{
	struct stat st;
	char *buf = NULL;
	size_t have = 0;
	int fd, rc = -1;

	*out = NULL;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ELOOP)
			err_set(e, ERR_IO, "%s: is a symbolic link, not a "
			    "regular file", path);
		else
			err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(e, ERR_IO, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_uid != geteuid()) {
		err_set(e, ERR_IO, "%s: owned by uid %u, not by the running "
		    "user (uid %u)", path, (unsigned)st.st_uid,
		    (unsigned)geteuid());
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		err_set(e, ERR_IO, "%s: mode %04o gives access to group or "
		    "others (use chmod 0400)", path,
		    (unsigned)(st.st_mode & 07777));
		goto out;
	}
	/* A second name for the key is a copy nobody watches. */
	if (st.st_nlink != 1) {
		err_set(e, ERR_IO, "%s: has %lu links; the CA key must have "
		    "exactly one (remove the hard link)", path,
		    (unsigned long)st.st_nlink);
		goto out;
	}
	if (st.st_size <= 0 || st.st_size > RCA_MAX_KEY_FILE_BYTES) {
		err_set(e, ERR_IO, "%s: size %lld out of range", path,
		    (long long)st.st_size);
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		err_set(e, ERR_IO, "%s: out of memory", path);
		goto out;
	}
	while (have < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + have, (size_t)st.st_size - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	buf[have] = '\0';
	*out = buf;
	*outlen = have;
	buf = NULL;
	rc = 0;
out:
	if (buf != NULL) {
		fio_wipe(buf, (size_t)st.st_size);
		free(buf);
	}
	close(fd);
	return rc;
}

/* An extension of nid from a config-style value, without a context. */
static X509_EXTENSION *
ext_conf(int nid, const char *value)
{
	return X509V3_EXT_nconf_nid(NULL, NULL, nid, value);
}

/* CRL DP and AIA caIssuers pointing at public_url. */
static int
url_exts(struct ca *ca, const char *public_url)
{
	char *base = NULL, *crl = NULL, *aia = NULL;
	GENERAL_NAMES *gens = NULL;
	STACK_OF(DIST_POINT) *dps = NULL;
	DIST_POINT *dp = NULL;
	AUTHORITY_INFO_ACCESS *ainfo = NULL;
	ACCESS_DESCRIPTION *ad = NULL;
	struct names n = NAMES_INIT;
	size_t len;
	int rc = -1;

	if (public_url == NULL || public_url[0] == '\0')
		return 0;
	if ((base = strdup(public_url)) == NULL)
		goto out;
	len = strlen(base);
	while (len > 0 && base[len - 1] == '/')
		base[--len] = '\0';
	if (asprintf(&crl, "%s/v1/crl", base) < 0) {
		crl = NULL;
		goto out;
	}
	if (asprintf(&aia, "%s/v1/ca.pem", base) < 0) {
		aia = NULL;
		goto out;
	}
	/* crlDistributionPoints: one full name, the URI. */
	if (names_add(&n, NAME_URI, crl, NULL) == -1 ||
	    (gens = ca_names_to_gens(&n)) == NULL ||
	    (dps = sk_DIST_POINT_new_null()) == NULL ||
	    (dp = DIST_POINT_new()) == NULL ||
	    (dp->distpoint = DIST_POINT_NAME_new()) == NULL)
		goto out;
	dp->distpoint->type = 0;
	dp->distpoint->name.fullname = gens;
	gens = NULL;
	if (sk_DIST_POINT_push(dps, dp) <= 0)
		goto out;
	dp = NULL;
	if ((ca->ext_crldp = X509V3_EXT_i2d(NID_crl_distribution_points, 0,
	    dps)) == NULL)
		goto out;
	/* authorityInfoAccess: caIssuers;URI. */
	names_clear(&n);
	if (names_add(&n, NAME_URI, aia, NULL) == -1 ||
	    (gens = ca_names_to_gens(&n)) == NULL ||
	    (ainfo = AUTHORITY_INFO_ACCESS_new()) == NULL ||
	    (ad = ACCESS_DESCRIPTION_new()) == NULL)
		goto out;
	ASN1_OBJECT_free(ad->method);
	ad->method = OBJ_nid2obj(NID_ad_ca_issuers);
	GENERAL_NAME_free(ad->location);
	ad->location = sk_GENERAL_NAME_shift(gens);
	if (sk_ACCESS_DESCRIPTION_push(ainfo, ad) <= 0)
		goto out;
	ad = NULL;
	if ((ca->ext_aia = X509V3_EXT_i2d(NID_info_access, 0, ainfo)) ==
	    NULL)
		goto out;
	rc = 0;
out:
	names_clear(&n);
	ACCESS_DESCRIPTION_free(ad);
	AUTHORITY_INFO_ACCESS_free(ainfo);
	DIST_POINT_free(dp);
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	GENERAL_NAMES_free(gens);
	free(aia);
	free(crl);
	free(base);
	return rc;
}

/* Extensions every certificate or CRL of this CA carries. */
static int
prebuild(struct ca *ca, const char *public_url)
{
	static const char *const eku[4] = {
		NULL, "serverAuth", "clientAuth", "serverAuth,clientAuth"
	};
	const ASN1_OCTET_STRING *skid;
	AUTHORITY_KEYID *akid = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int rc = -1;

	if ((akid = AUTHORITY_KEYID_new()) == NULL)
		goto out;
	if ((skid = X509_get0_subject_key_id(ca->cert)) != NULL) {
		if ((akid->keyid = ASN1_OCTET_STRING_dup(skid)) == NULL)
			goto out;
	} else {
		if (X509_pubkey_digest(ca->cert, ca->sha1, md, &mdlen) != 1 ||
		    (akid->keyid = ASN1_OCTET_STRING_new()) == NULL ||
		    ASN1_OCTET_STRING_set(akid->keyid, md, (int)mdlen) != 1)
			goto out;
	}
	if ((ca->ext_aki = X509V3_EXT_i2d(NID_authority_key_identifier, 0,
	    akid)) == NULL ||
	    (ca->ext_bc = ext_conf(NID_basic_constraints,
	    "critical,CA:FALSE")) == NULL ||
	    (ca->ext_ku[0] = ext_conf(NID_key_usage,
	    "critical,digitalSignature")) == NULL ||
	    (ca->ext_ku[1] = ext_conf(NID_key_usage,
	    "critical,digitalSignature,keyEncipherment")) == NULL)
		goto out;
	for (int i = 1; i < 4; i++)
		if ((ca->ext_eku[i] = ext_conf(NID_ext_key_usage, eku[i])) ==
		    NULL)
			goto out;
	if (url_exts(ca, public_url) == -1)
		goto out;
	rc = 0;
out:
	AUTHORITY_KEYID_free(akid);
	return rc;
}

struct ca *
ca_load(const char *cert_path, const char *key_path,
    const char *passphrase_file, const char *public_url, struct err *e)
{
	struct ca *ca = NULL, *ret = NULL;
	char *cpem = NULL, *kpem = NULL, *pass = NULL;
	size_t clen = 0, klen = 0;

	if ((ca = calloc(1, sizeof(*ca))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (key_file_read(key_path, &kpem, &klen, e) == -1)
		goto out;
	if (fio_read_all(cert_path, RCA_MAX_PEM_BYTES, &cpem, &clen, e) ==
	    -1) {
		if (e != NULL)
			e->code = ERR_IO;
		goto out;
	}
	if (passphrase_file != NULL &&
	    ca_passphrase_read(passphrase_file, &pass, e) == -1) {
		if (e != NULL)
			e->code = ERR_IO;
		goto out;
	}
	if ((ca->cert = cert_parse(cpem, clen, cert_path, ERR_CRYPTO,
	    e)) == NULL ||
	    (ca->key = key_parse(kpem, klen, pass, key_path, ERR_CRYPTO,
	    e)) == NULL)
		goto out;
	if (ca_key_classify(ca->key, &ca->key_type, e) == -1) {
		if (e != NULL)
			e->code = ERR_CRYPTO;
		goto out;
	}
	if (X509_check_private_key(ca->cert, ca->key) != 1) {
		ERR_clear_error();
		err_set(e, ERR_CRYPTO, "%s does not match %s", key_path,
		    cert_path);
		goto out;
	}
	if (!cert_is_ca(ca->cert)) {
		err_set(e, ERR_CRYPTO, "%s is not a CA certificate",
		    cert_path);
		goto out;
	}
	if (ca_asn1_time_epoch(X509_get0_notAfter(ca->cert),
	    &ca->not_after) == -1) {
		err_set(e, ERR_CRYPTO, "%s: invalid notAfter", cert_path);
		goto out;
	}
	if ((ca->md = EVP_MD_fetch(NULL, digest_name(ca->key_type),
	    NULL)) == NULL || (ca->sha1 = EVP_MD_fetch(NULL, "SHA1",
	    NULL)) == NULL ||
	    (ca->der = ca_x509_der(ca->cert, &ca->der_len)) == NULL ||
	    (ca->pem = ca_pem_encode("CERTIFICATE", ca->der,
	    ca->der_len)) == NULL ||
	    (ca->sign_tmpl = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit_ex(ca->sign_tmpl, NULL,
	    digest_name(ca->key_type), NULL, NULL, ca->key, NULL) != 1 ||
	    (ca->store = X509_STORE_new()) == NULL ||
	    X509_STORE_add_cert(ca->store, ca->cert) != 1 ||
	    prebuild(ca, public_url) == -1) {
		ca_log_ssl("loading the CA");
		err_set(e, ERR_CRYPTO, "cannot prepare the CA for signing");
		goto out;
	}
	ca_sha256_hex(ca->der, ca->der_len, ca->fingerprint);
	ret = ca;
	ca = NULL;
out:
	if (kpem != NULL) {
		fio_wipe(kpem, klen);
		free(kpem);
	}
	free(cpem);
	ca_passphrase_free(pass);
	ca_free(ca);
	return ret;
}

void
ca_free(struct ca *ca)
{
	if (ca == NULL)
		return;
	X509_EXTENSION_free(ca->ext_aki);
	X509_EXTENSION_free(ca->ext_bc);
	for (int i = 0; i < 2; i++)
		X509_EXTENSION_free(ca->ext_ku[i]);
	for (int i = 0; i < 4; i++)
		X509_EXTENSION_free(ca->ext_eku[i]);
	X509_EXTENSION_free(ca->ext_crldp);
	X509_EXTENSION_free(ca->ext_aia);
	X509_STORE_free(ca->store);
	EVP_MD_CTX_free(ca->sign_tmpl);
	EVP_MD_free(ca->md);
	EVP_MD_free(ca->sha1);
	EVP_PKEY_free(ca->key);
	X509_free(ca->cert);
	free(ca->pem);
	free(ca->der);
	free(ca);
}

const char *
ca_cert_pem(const struct ca *ca)
{
	return ca->pem;
}

const unsigned char *
ca_cert_der(const struct ca *ca, size_t *len)
{
	*len = ca->der_len;
	return ca->der;
}

int64_t
ca_not_after(const struct ca *ca)
{
	return ca->not_after;
}

const char *
ca_fingerprint(const struct ca *ca)
{
	return ca->fingerprint;
}

enum key_type
ca_key_type(const struct ca *ca)
{
	return ca->key_type;
}
