/*
 * Loading the CA for signing (the daemon): the key file checks of SPEC
 * section 3, key matched to certificate, and all that signing needs
 * built once (digests, signing template, store, common extensions).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca_priv.h"

#include <openssl/err.h>

#include "fileio.h"

/* An extension of nid from a config-style value, without a context. */
static X509_EXTENSION *
ext_conf(int nid, const char *value)
{
	return X509V3_EXT_nconf_nid(NULL, NULL, nid, value);
}

/*
 * CRL DP (this CA's own CRL, by its SKI: several CAs publish one each
 * during a rollover) and AIA caIssuers pointing at public_url.
 */
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
	if (asprintf(&crl, "%s/v1/crl/%s", base, ca->ski) < 0) {
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

/*
 * The certificates of ca from cpem (the issuing certificate, then
 * intermediates) and apem (anchors; alen 0: none): the chain built to
 * an anchor becomes ca->untrusted, its anchor ca->anchors and the
 * store.  what names cpem in messages.
 */
static int
load_chain(struct ca *ca, STACK_OF(X509) *certs, const char *apem,
    size_t alen, struct err *e)
{
	STACK_OF(X509) *chain = NULL;
	X509 *anchor;
	int rc = -1;

	if (alen > 0) {
		if ((ca->anchors = ca_pem_certs(apem, alen, "the CA's roots",
		    ERR_INVALID_CHAIN, e)) == NULL ||
		    ca_anchors_check(ca->anchors, e) == -1)
			goto out;
	} else {
		/* One tier, or a CA imported without its roots. */
		ca->partial = !ca_self_signed(ca->cert);
		if ((ca->anchors = sk_X509_new_null()) == NULL ||
		    !X509_up_ref(ca->cert) ||
		    sk_X509_push(ca->anchors, ca->cert) <= 0) {
			err_set(e, ERR_INTERNAL, "out of memory");
			goto out;
		}
	}
	if (ca_chain_verify(ca->cert, certs, ca->anchors, ca->partial, &chain,
	    e) == -1)
		goto out;
	/* Keep only the anchor reached: the bundle trusts no more. */
	anchor = sk_X509_pop(chain);
	sk_X509_pop_free(ca->anchors, X509_free);
	if ((ca->anchors = sk_X509_new_null()) == NULL ||
	    sk_X509_push(ca->anchors, anchor) <= 0) {
		X509_free(anchor);
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	ca->self_anchor = sk_X509_num(chain) == 0;
	if ((ca->chain_pem = ca->self_anchor ? strdup("") :
	    ca_certs_pem(chain, 0)) == NULL ||
	    (ca->anchors_pem = ca_certs_pem(ca->anchors, 0)) == NULL ||
	    (ca->store = X509_STORE_new()) == NULL ||
	    X509_STORE_add_cert(ca->store, anchor) != 1) {
		ca_ssl_fail("loading the CA", ERR_CRYPTO,
		    "cannot prepare the CA's chain", e);
		goto out;
	}
	if (ca->partial)
		X509_STORE_set_flags(ca->store, X509_V_FLAG_PARTIAL_CHAIN);
	if (!ca->self_anchor) {
		ca->untrusted = chain;
		chain = NULL;
	}
	rc = 0;
out:
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

/*
 * The key (kpem, NULL: none) and identity of ca->cert: key type, the
 * key matches, a CA certificate.  kwhat and cwhat name the inputs.
 */
static int
load_key(struct ca *ca, const char *kpem, size_t klen, const char *pass,
    const char *kwhat, const char *cwhat, struct err *e)
{
	if (kpem != NULL && (ca->key = ca_key_parse(kpem, klen, pass, kwhat,
	    ERR_CRYPTO, e)) == NULL)
		return -1;
	if (ca_key_classify(ca->key != NULL ? ca->key :
	    X509_get0_pubkey(ca->cert), &ca->key_type, e) == -1) {
		if (e != NULL)
			e->code = ERR_CRYPTO;
		return -1;
	}
	if (ca->key != NULL && X509_check_private_key(ca->cert, ca->key) !=
	    1) {
		ERR_clear_error();
		err_set(e, ERR_CRYPTO, "%s does not match %s", kwhat, cwhat);
		return -1;
	}
	if (!ca_cert_is_ca(ca->cert)) {
		err_set(e, ERR_CRYPTO, "%s is not a CA certificate", cwhat);
		return -1;
	}
	if (ca_asn1_time_epoch(X509_get0_notAfter(ca->cert),
	    &ca->not_after) == -1 ||
	    ca_asn1_time_epoch(X509_get0_notBefore(ca->cert),
	    &ca->not_before) == -1) {
		err_set(e, ERR_CRYPTO, "%s: invalid validity dates", cwhat);
		return -1;
	}
	return 0;
}

/* What signing needs, built once: digests, template, extensions. */
static int
load_signing(struct ca *ca, const char *public_url, struct err *e)
{
	if ((ca->md = EVP_MD_fetch(NULL, ca_digest_name(ca->key_type),
	    NULL)) == NULL || (ca->sha1 = EVP_MD_fetch(NULL, "SHA1",
	    NULL)) == NULL ||
	    (ca->der = ca_x509_der(ca->cert, &ca->der_len)) == NULL ||
	    (ca->pem = ca_pem_encode("CERTIFICATE", ca->der,
	    ca->der_len)) == NULL)
		goto fail;
	if (ca->key != NULL && ((ca->sign_tmpl = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit_ex(ca->sign_tmpl, NULL,
	    ca_digest_name(ca->key_type), NULL, NULL, ca->key, NULL) != 1))
		goto fail;
	if (ca_ski_of(ca->cert, ca->ski, e) == -1)
		return -1;
	if (prebuild(ca, public_url) == -1)
		goto fail;
	ca_sha256_hex(ca->der, ca->der_len, ca->fingerprint);
	return ca_pkey_spki_sha256(X509_get0_pubkey(ca->cert),
	    ca->spki_sha256, e);
fail:
	ca_ssl_fail("loading the CA", ERR_CRYPTO,
	    "cannot prepare the CA for signing", e);
	return -1;
}

/*
 * A CA from its certificates (cpem, apem: see ca_load_pem) and key PEM
 * (kpem, NULL: none).  kwhat and cwhat name the inputs in messages.
 */
static struct ca *
load_core(const char *cpem, size_t clen, const char *apem, size_t alen,
    const char *kpem, size_t klen, const char *pass, const char *kwhat,
    const char *cwhat, const char *public_url, struct err *e)
{
	struct ca *ca = NULL, *ret = NULL;
	STACK_OF(X509) *certs = NULL;

	if ((ca = calloc(1, sizeof(*ca))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	if ((certs = ca_pem_certs(cpem, clen, cwhat, ERR_CRYPTO, e)) == NULL)
		goto out;
	ca->cert = sk_X509_shift(certs);
	if (load_key(ca, kpem, klen, pass, kwhat, cwhat, e) == -1 ||
	    load_chain(ca, certs, apem, alen, e) == -1 ||
	    load_signing(ca, public_url, e) == -1)
		goto out;
	ret = ca;
	ca = NULL;
out:
	sk_X509_pop_free(certs, X509_free);
	ca_free(ca);
	return ret;
}

/* The roots.pem beside cert_path into *out (NULL when there is none). */
static int
read_roots(const char *cert_path, char **out, size_t *len, struct err *e)
{
	char path[RCA_MAX_PATH];
	const char *slash = strrchr(cert_path, '/');
	struct stat st;
	int n, fd;

	*out = NULL;
	*len = 0;
	if (slash == NULL)
		n = snprintf(path, sizeof(path), "%s", RCA_CA_ROOTS_FILE);
	else
		n = snprintf(path, sizeof(path), "%.*s/%s",
		    (int)(slash - cert_path), cert_path, RCA_CA_ROOTS_FILE);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		err_set(e, ERR_IO, "%s: path too long", cert_path);
		return -1;
	}
	/* The anchors are trusted: no link, a regular file (fstat). */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		err_set(e, ERR_IO, "%s: %s", path, errno == ELOOP ?
		    "is a symbolic link, not a regular file" :
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		err_set(e, ERR_IO, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	n = fio_read_fd(fd, path, RCA_MAX_PEM_BYTES, out, len, e);
	close(fd);
	return n;
}

struct ca *
ca_load(const char *cert_path, const char *key_path,
    const char *passphrase_file, const char *public_url, struct err *e)
{
	struct ca *ret = NULL;
	char *cpem = NULL, *kpem = NULL, *apem = NULL, *pass = NULL;
	size_t clen = 0, klen = 0, alen = 0;

	if (key_path != NULL && ca_key_file_read(key_path, &kpem, &klen, e) ==
	    -1)
		goto out;
	if (fio_read_all(cert_path, RCA_MAX_PEM_BYTES, &cpem, &clen, e) ==
	    -1 || read_roots(cert_path, &apem, &alen, e) == -1) {
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
	ret = load_core(cpem, clen, apem, alen, kpem, klen, pass, key_path,
	    cert_path, public_url, e);
out:
	fio_secret_free(kpem, klen);
	free(cpem);
	free(apem);
	fio_secret_free_str(pass);
	return ret;
}

struct ca *
ca_load_pem(const char *cert_pem, const char *anchors_pem,
    const char *key_path, const char *passphrase_file,
    const char *public_url, struct err *e)
{
	struct ca *ret = NULL;
	char *kpem = NULL, *pass = NULL;
	size_t klen = 0, clen, alen;

	clen = cert_pem != NULL ? strnlen(cert_pem, RCA_MAX_PEM_BYTES + 1) :
	    0;
	alen = anchors_pem != NULL ? strnlen(anchors_pem,
	    RCA_MAX_PEM_BYTES + 1) : 0;
	if (alen > RCA_MAX_PEM_BYTES) {
		err_set(e, ERR_INVALID_CHAIN, "the CA's roots are larger "
		    "than %d bytes", RCA_MAX_PEM_BYTES);
		goto out;
	}
	if (key_path != NULL && ca_key_file_read(key_path, &kpem, &klen, e) ==
	    -1)
		goto out;
	if (passphrase_file != NULL &&
	    ca_passphrase_read(passphrase_file, &pass, e) == -1) {
		if (e != NULL)
			e->code = ERR_IO;
		goto out;
	}
	ret = load_core(cert_pem, clen, anchors_pem, alen, kpem, klen, pass,
	    key_path, "the CA certificate", public_url, e);
out:
	fio_secret_free(kpem, klen);
	fio_secret_free_str(pass);
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
	sk_X509_pop_free(ca->anchors, X509_free);
	sk_X509_pop_free(ca->untrusted, X509_free);
	free(ca->chain_pem);
	free(ca->anchors_pem);
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

const char *
ca_ski_hex(const struct ca *ca)
{
	return ca->ski;
}

const char *
ca_spki_sha256(const struct ca *ca)
{
	return ca->spki_sha256;
}

const char *
ca_chain_pem(const struct ca *ca)
{
	return ca->chain_pem;
}

const char *
ca_anchors_pem(const struct ca *ca)
{
	return ca->anchors_pem;
}

bool
ca_has_key(const struct ca *ca)
{
	return ca->key != NULL;
}

int64_t
ca_not_before(const struct ca *ca)
{
	return ca->not_before;
}
