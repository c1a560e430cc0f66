/*
 * New CAs for two tiers and rollover (SPEC 10): a root, an issuing CA
 * signed by a root whose key is read, used and freed here, a one-tier
 * CA, a key and CSR for an outside CA, and the checks of a certificate
 * that comes back (or is imported) for a key we hold.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca_priv.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "fileio.h"
#include "hex.h"

#define CA_ROOT_DAYS	7305	/* 20 years */
#define CA_SIGNED_DAYS	1826	/* 5 years */
#define CA_SELF_DAYS	3650	/* as init's default */

/* new_fill() for one certificate that is its own anchor. */
static int
new_fill_self(struct ca_new *out, X509 *x, enum key_type t, struct err *e)
{
	STACK_OF(X509) *sk;
	int rc;

	if ((sk = sk_X509_new_null()) == NULL || sk_X509_push(sk, x) <= 0) {
		sk_X509_free(sk);
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	rc = ca_new_fill(out, sk, sk, t, e);
	sk_X509_free(sk);	/* x is the caller's */
	return rc;
}

/* o with days defaulted (0: def), checked. */
static int
opts_days(const struct ca_create_opts *o, int def,
    struct ca_create_opts *out, struct err *e)
{
	*out = *o;
	if (out->days == 0)
		out->days = def;
	return ca_create_opts_check(out, e);
}

int
ca_create_root_at(int dirfd, const char *dir, const struct ca_create_opts *o,
    struct err *e)
{
	struct ca_create_opts ro;
	char kpath[RCA_MAX_PATH], cpath[RCA_MAX_PATH];
	const char *const name[CA_F__MAX] = { "root.key", "root.crt", NULL };
	const char *const shown[CA_F__MAX] = { kpath, cpath, NULL };
	struct ca_files_at a = CA_FILES_AT_INIT;
	int rc = -1;

	if (opts_days(o, CA_ROOT_DAYS, &ro, e) == 0 &&
	    fio_path_join(kpath, sizeof(kpath), dir, "root.key", e) == 0 &&
	    fio_path_join(cpath, sizeof(cpath), dir, "root.crt", e) == 0 &&
	    ca_files_reserve(&a, dirfd, name, shown, e) == 0)
		rc = ca_self_to(&a.f, &ro, 1, e);
	ca_files_release(&a, rc == 0);
	return rc;
}

int
ca_create_root(const char *dir, const struct ca_create_opts *o,
    struct err *e)
{
	int dfd, rc;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		err_set(e, ERR_IO, "%s: %s", dir, strerror(errno));
		return -1;
	}
	rc = ca_create_root_at(dfd, dir, o, e);
	close(dfd);
	return rc;
}

/*
 * The root of ca_create_signed(): its certificate (a self-signed CA
 * that allows an intermediate) into *root and its key into *key (new).
 */
static int
root_load(const char *cert_path, const char *key_path,
    const char *pass_file, X509 **root, EVP_PKEY **key,
    enum key_type *t, struct err *e)
{
	char *cpem = NULL, *kpem = NULL, *pass = NULL;
	size_t clen = 0, klen = 0;
	int rc = -1;

	if (fio_read_all(cert_path, RCA_MAX_PEM_BYTES, &cpem, &clen, e) ==
	    -1 || (*root = ca_cert_parse(cpem, clen, cert_path,
	    ERR_INVALID_CHAIN, e)) == NULL)
		goto out;
	if (!ca_self_signed(*root) || !ca_cert_is_ca(*root) ||
	    X509_get_pathlen(*root) == 0) {
		err_set(e, ERR_INVALID_CHAIN, "%s is not a self-signed root "
		    "CA that allows an intermediate (pathlen >= 1)",
		    cert_path);
		goto out;
	}
	if (ca_key_file_read(key_path, &kpem, &klen, e) == -1 ||
	    (pass_file != NULL &&
	    ca_passphrase_read(pass_file, &pass, e) == -1) ||
	    (*key = ca_key_parse(kpem, klen, pass, key_path, ERR_CRYPTO,
	    e)) == NULL || ca_key_classify(*key, t, e) == -1)
		goto out;
	if (X509_check_private_key(*root, *key) != 1) {
		ERR_clear_error();
		err_set(e, ERR_INVALID_CHAIN, "the root key %s does not match "
		    "the root certificate %s", key_path, cert_path);
		goto out;
	}
	rc = 0;
out:
	fio_secret_free(kpem, klen);
	fio_secret_free_str(pass);
	free(cpem);
	return rc;
}

/*
 * What a new CA's key gets around it: out filled from key (the new
 * key, of so->key_type), with arg the variant's own input.
 */
typedef int (*new_fill_fn)(EVP_PKEY *key, const struct ca_create_opts *so,
    const void *arg, struct ca_new *out, struct err *e);

/*
 * The one path of ca_create_signed(), _self() and _csr(): o with days
 * defaulted (def) and checked, the key's file reserved before any work
 * (kr given by the caller, else key_path reserved here: it must not
 * exist, and a link there is refused, not followed), a new key, fill()
 * into out, then the key written into its reserved file.  On failure
 * out is cleared and a file reserved here removed.
 */
static int
create_with(const char *key_path, struct fio_resv *kr,
    const struct ca_create_opts *o, int def, new_fill_fn fill,
    const void *arg, struct ca_new *out, struct err *e)
{
	struct ca_create_opts so;
	struct fio_resv own = FIO_RESV_INIT;
	EVP_PKEY *key = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (opts_days(o, def, &so, e) == -1 || (kr == NULL &&
	    fio_reserve((kr = &own), AT_FDCWD, key_path, NULL, e) == -1) ||
	    (key = ca_key_generate(so.key_type, e)) == NULL ||
	    fill(key, &so, arg, out, e) == -1 ||
	    ca_key_write(kr, key, so.passphrase_file, e) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1)
		ca_new_clear(out);
	fio_resv_release(&own, rc == 0);
	EVP_PKEY_free(key);
	return rc;
}

/* The root that signs ca_create_signed()'s CA. */
struct root_src {
	const char	*cert_path;
	const char	*key_path;
	const char	*pass_file;
};

/* new_fill_fn of ca_create_signed(): arg is a struct root_src. */
static int
signed_fill(EVP_PKEY *key, const struct ca_create_opts *so,
    const void *arg, struct ca_new *out, struct err *e)
{
	const struct root_src *r = arg;
	struct ca_mk m = { .pathlen = 0 };
	STACK_OF(X509) *anchors = NULL, *chain = NULL;
	EVP_PKEY *rkey = NULL;
	X509 *root = NULL, *x = NULL;
	int rc = -1;

	if (root_load(r->cert_path, r->key_path, r->pass_file, &root, &rkey,
	    &m.sign_type, e) == -1)
		goto out;
	m.pub = key;
	m.cn = so->cn;
	m.days = so->days;
	m.issuer = root;
	m.sign_key = rkey;
	if ((x = ca_mkcert(&m, e)) == NULL)
		goto out;
	/* The root key is not needed past this point. */
	EVP_PKEY_free(rkey);
	rkey = NULL;
	if ((anchors = sk_X509_new_null()) == NULL ||
	    sk_X509_push(anchors, root) <= 0) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	root = NULL;
	if (ca_chain_verify(x, NULL, anchors, false, &chain, e) == -1)
		goto out;
	X509_free(sk_X509_pop(chain));	/* the root, kept in anchors */
	rc = ca_new_fill(out, chain, anchors, so->key_type, e);
out:
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(anchors, X509_free);
	EVP_PKEY_free(rkey);
	X509_free(root);
	X509_free(x);
	return rc;
}

int
ca_create_signed(const char *key_path, const char *root_cert_path,
    const char *root_key_path, const char *root_pass_file,
    const struct ca_create_opts *o, struct ca_new *out, struct err *e)
{
	const struct root_src r = {
		root_cert_path, root_key_path, root_pass_file
	};

	return create_with(key_path, NULL, o, CA_SIGNED_DAYS, signed_fill,
	    &r, out, e);
}

int
ca_create_signed_to(const struct ca_files *f, const char *root_cert_path,
    const char *root_key_path, const char *root_pass_file,
    const struct ca_create_opts *o, struct ca_new *out, struct err *e)
{
	const struct root_src r = {
		root_cert_path, root_key_path, root_pass_file
	};

	if (create_with(NULL, f->key, o, CA_SIGNED_DAYS, signed_fill, &r,
	    out, e) == -1)
		return -1;
	if ((f->cert != NULL && fio_resv_write(f->cert, out->cert_pem,
	    strlen(out->cert_pem), 0444, e) == -1) || (f->roots != NULL &&
	    fio_resv_write(f->roots, out->anchors_pem,
	    strlen(out->anchors_pem), 0444, e) == -1)) {
		ca_new_clear(out);
		return -1;
	}
	return 0;
}

/* new_fill_fn of ca_create_self(): no arg. */
static int
self_fill(EVP_PKEY *key, const struct ca_create_opts *so, const void *arg,
    struct ca_new *out, struct err *e)
{
	X509 *x;
	int rc;

	(void)arg;
	if ((x = ca_mkself(key, so->key_type, so->cn, 0, so->days, e)) ==
	    NULL)
		return -1;
	rc = new_fill_self(out, x, so->key_type, e);
	X509_free(x);
	return rc;
}

int
ca_create_self(const char *key_path, const struct ca_create_opts *o,
    struct ca_new *out, struct err *e)
{
	return create_with(key_path, NULL, o, CA_SELF_DAYS, self_fill, NULL,
	    out, e);
}

/*
 * A request for an outside CA: CN=cn, asking for the extensions of an
 * issuing CA, signed by key (new).
 */
static X509_REQ *
csr_build(EVP_PKEY *key, enum key_type t, const char *cn, struct err *e)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *ext = NULL;
	X509_NAME *name = NULL;
	X509_REQ *req = NULL, *ret = NULL;

	if ((req = X509_REQ_new()) == NULL ||
	    X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1 ||
	    (name = X509_NAME_new()) == NULL ||
	    X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_REQ_set_subject_name(req, name) != 1 ||
	    X509_REQ_set_pubkey(req, key) != 1 ||
	    (exts = sk_X509_EXTENSION_new_null()) == NULL)
		goto fail;
	if ((ext = X509V3_EXT_nconf_nid(NULL, NULL, NID_basic_constraints,
	    "critical,CA:TRUE,pathlen:0")) == NULL ||
	    sk_X509_EXTENSION_push(exts, ext) <= 0)
		goto fail;
	if ((ext = X509V3_EXT_nconf_nid(NULL, NULL, NID_key_usage,
	    "critical,keyCertSign,cRLSign")) == NULL ||
	    sk_X509_EXTENSION_push(exts, ext) <= 0)
		goto fail;
	ext = NULL;
	if (X509_REQ_add_extensions(req, exts) != 1 ||
	    X509_REQ_sign(req, key, EVP_get_digestbyname(
	    ca_digest_name(t))) <= 0)
		goto fail;
	ret = req;
	req = NULL;
	goto out;
fail:
	ca_ssl_fail("building a CA request", ERR_CRYPTO,
	    "cannot build the CA's certificate request", e);
out:
	X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return ret;
}

/* The CSR's PEM and the key's identities into out. */
static int
csr_fill(X509_REQ *req, EVP_PKEY *key, enum key_type t, struct ca_new *out,
    struct err *e)
{
	const unsigned char *bits;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	BIO *bio = NULL;
	char *data;
	long n;
	int blen, rc = -1;

	/* RFC 5280 method 1, as the "hash" SKI of ca_mkcert(). */
	if (X509_PUBKEY_get0_param(NULL, &bits, &blen, NULL,
	    X509_REQ_get_X509_PUBKEY(req)) != 1 ||
	    EVP_Digest(bits, (size_t)blen, md, &mdlen, EVP_sha1(), NULL) !=
	    1 || (bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509_REQ(bio, req) != 1 ||
	    (n = BIO_get_mem_data(bio, &data)) <= 0 ||
	    (out->csr_pem = strndup(data, (size_t)n)) == NULL) {
		ca_ssl_fail("encoding a CA request", ERR_CRYPTO,
		    "cannot encode the CA's certificate request", e);
		goto out;
	}
	hex_encode(md, mdlen, out->ski);
	if (ca_pkey_spki_sha256(key, out->spki_sha256, e) == -1)
		goto out;
	out->key_type = t;
	rc = 0;
out:
	BIO_free(bio);
	return rc;
}

/* new_fill_fn of ca_create_csr(): no arg. */
static int
csr_make(EVP_PKEY *key, const struct ca_create_opts *so, const void *arg,
    struct ca_new *out, struct err *e)
{
	X509_REQ *req;
	int rc;

	(void)arg;
	if ((req = csr_build(key, so->key_type, so->cn, e)) == NULL)
		return -1;
	rc = csr_fill(req, key, so->key_type, out, e);
	X509_REQ_free(req);
	return rc;
}

int
ca_create_csr(const char *key_path, const struct ca_create_opts *o,
    struct ca_new *out, struct err *e)
{
	return create_with(key_path, NULL, o, CA_SIGNED_DAYS, csr_make, NULL,
	    out, e);
}
