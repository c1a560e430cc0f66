/*
 * A CA certificate that comes from outside for a key we hold or are
 * given: the pending CA's certificate signed by an outside CA, and
 * `init --import-chain`.  It must match the key, be a CA and verify
 * through its intermediates to the roots given (SPEC 10).
 */
#include <stdlib.h>
#include <string.h>

#include "ca_priv.h"

#include <openssl/err.h>

#include "fileio.h"

/* The anchors to check against: apem's, or x itself when self-signed. */
static STACK_OF(X509) *
adopt_anchors(X509 *x, const char *apem, size_t alen, struct err *e)
{
	STACK_OF(X509) *sk = NULL;

	if (alen > 0) {
		if ((sk = ca_pem_certs(apem, alen, "the roots",
		    ERR_INVALID_REQUEST, e)) == NULL)
			return NULL;
		if (ca_anchors_check(sk, e) == -1) {
			sk_X509_pop_free(sk, X509_free);
			return NULL;
		}
		return sk;
	}
	if (!ca_self_signed(x)) {
		err_set(e, ERR_INVALID_CHAIN, "the CA certificate is not "
		    "self-signed: give the roots it chains to");
		return NULL;
	}
	if ((sk = sk_X509_new_null()) == NULL || !X509_up_ref(x) ||
	    sk_X509_push(sk, x) <= 0) {
		sk_X509_pop_free(sk, X509_free);
		err_set(e, ERR_INTERNAL, "out of memory");
		return NULL;
	}
	return sk;
}

/*
 * The checks of ca_complete_cert() for key (its type into out) on
 * cpem (the CA cert, then intermediates) and apem (anchors; alen 0:
 * none); out filled.
 */
static int
adopt_check(EVP_PKEY *key, const char *cpem, size_t clen, const char *apem,
    size_t alen, struct ca_new *out, struct err *e)
{
	STACK_OF(X509) *certs = NULL, *anchors = NULL, *chain = NULL;
	X509 *x, *anchor = NULL;
	enum key_type t;
	int rc = -1;

	if ((certs = ca_pem_certs(cpem, clen, "the CA certificate",
	    ERR_INVALID_REQUEST, e)) == NULL)
		goto out;
	x = sk_X509_value(certs, 0);
	if (X509_check_private_key(x, key) != 1) {
		ERR_clear_error();
		err_set(e, ERR_INVALID_CHAIN, "the CA certificate does not "
		    "match the key");
		goto out;
	}
	if (!ca_cert_is_ca(x) ||
	    (X509_get_extension_flags(x) & EXFLAG_KUSAGE) == 0) {
		err_set(e, ERR_INVALID_CHAIN, "not a CA certificate (needs "
		    "basicConstraints CA:TRUE and keyUsage keyCertSign)");
		goto out;
	}
	if (ca_key_classify(key, &t, e) == -1 || ca_key_for_ca(t, e) == -1 ||
	    (anchors = adopt_anchors(x, apem, alen, e)) == NULL ||
	    ca_chain_verify(x, certs, anchors, false, &chain, e) == -1)
		goto out;
	anchor = sk_X509_pop(chain);
	sk_X509_pop_free(anchors, X509_free);
	if ((anchors = sk_X509_new_null()) == NULL ||
	    sk_X509_push(anchors, anchor) <= 0) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	anchor = NULL;
	/* Self-signed: the chain is the anchor alone. */
	if (sk_X509_num(chain) == 0 && (!X509_up_ref(x) ||
	    sk_X509_push(chain, x) <= 0)) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	rc = ca_new_fill(out, chain, anchors, t, e);
out:
	X509_free(anchor);
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(anchors, X509_free);
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

/* A key file read with the checks of ca_load() and parsed (new). */
static EVP_PKEY *
key_file_load(const char *key_path, const char *pass_file, struct err *e)
{
	char *kpem = NULL, *pass = NULL;
	size_t klen = 0;
	EVP_PKEY *key = NULL;

	if (ca_key_file_read(key_path, &kpem, &klen, e) == 0 &&
	    (pass_file == NULL ||
	    ca_passphrase_read(pass_file, &pass, e) == 0))
		key = ca_key_parse(kpem, klen, pass, key_path, ERR_CRYPTO, e);
	fio_secret_free(kpem, klen);
	fio_secret_free_str(pass);
	return key;
}

int
ca_complete_cert(const char *key_path, const char *pass_file,
    const char *cert_pem, const char *chain_roots_pem, struct ca_new *out,
    struct err *e)
{
	EVP_PKEY *key = NULL;
	size_t clen, alen;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	clen = cert_pem != NULL ? strnlen(cert_pem, RCA_MAX_PEM_BYTES + 1) :
	    0;
	alen = chain_roots_pem != NULL ? strnlen(chain_roots_pem,
	    RCA_MAX_PEM_BYTES + 1) : 0;
	if (clen == 0 || clen > RCA_MAX_PEM_BYTES ||
	    alen > RCA_MAX_PEM_BYTES) {
		err_set(e, ERR_INVALID_REQUEST, "the certificate or the "
		    "roots are empty or larger than %d bytes",
		    RCA_MAX_PEM_BYTES);
		goto out;
	}
	if ((key = key_file_load(key_path, pass_file, e)) == NULL)
		goto out;
	rc = adopt_check(key, cert_pem, clen, chain_roots_pem, alen, out, e);
out:
	EVP_PKEY_free(key);
	return rc;
}

int
ca_key_file_spki_sha256(const char *key_path, const char *pass_file,
    char out[RCA_SHA256_HEX + 1], struct err *e)
{
	EVP_PKEY *key;
	int rc;

	out[0] = '\0';
	if ((key = key_file_load(key_path, pass_file, e)) == NULL)
		return -1;
	rc = ca_pkey_spki_sha256(key, out, e);
	EVP_PKEY_free(key);
	return rc;
}

/* The inputs of an import: files read, the key parsed (into *key). */
struct adopt_in {
	char	*cpem, *apem, *kpem, *pass;
	size_t	 clen, alen, klen;
};

static void
adopt_in_clear(struct adopt_in *in)
{
	free(in->cpem);
	free(in->apem);
	fio_secret_free(in->kpem, in->klen);
	fio_secret_free_str(in->pass);
	memset(in, 0, sizeof(*in));
}

/* Write the three files of an import into the files reserved. */
static int
adopt_write(const struct ca_import_req *r, EVP_PKEY *key,
    const struct ca_new *n, const struct ca_files *f, struct err *e)
{
	if (ca_key_write(f->key, key, r->out_pass_file, e) == -1 ||
	    fio_resv_write(f->cert, n->cert_pem, strlen(n->cert_pem), 0444,
	    e) == -1 || fio_resv_write(f->roots, n->anchors_pem,
	    strlen(n->anchors_pem), 0444, e) == -1)
		return -1;
	return 0;
}

int
ca_import_chain_to(const struct ca_import_req *r, const struct ca_files *f,
    struct err *e)
{
	struct adopt_in in = { .cpem = NULL };
	struct ca_new n = { .cert_pem = NULL };
	EVP_PKEY *key = NULL;
	int rc = -1;

	if (fio_read_all(r->in_cert, RCA_MAX_PEM_BYTES, &in.cpem, &in.clen,
	    e) == -1 || fio_read_all(r->in_roots, RCA_MAX_PEM_BYTES,
	    &in.apem, &in.alen, e) == -1 || fio_read_all(r->in_key,
	    RCA_MAX_KEY_FILE_BYTES, &in.kpem, &in.klen, e) == -1) {
		if (e != NULL)
			e->code = ERR_IO;
		goto out;
	}
	if (in.alen == 0) {
		err_set(e, ERR_INVALID_CHAIN, "%s: no root certificate",
		    r->in_roots);
		goto out;
	}
	if ((r->in_pass_file != NULL &&
	    ca_passphrase_read(r->in_pass_file, &in.pass, e) == -1) ||
	    (key = ca_key_parse(in.kpem, in.klen, in.pass, r->in_key,
	    ERR_INVALID_REQUEST, e)) == NULL ||
	    adopt_check(key, in.cpem, in.clen, in.apem, in.alen, &n, e) ==
	    -1 || adopt_write(r, key, &n, f, e) == -1)
		goto out;
	rc = 0;
out:
	ca_new_clear(&n);
	EVP_PKEY_free(key);
	adopt_in_clear(&in);
	return rc;
}

int
ca_import_chain_files(const struct ca_import_req *r, struct err *e)
{
	const char *const name[CA_F__MAX] = {
		r->key_path, r->cert_path, r->roots_path
	};
	struct ca_files_at a = CA_FILES_AT_INIT;
	int rc = -1;

	if (ca_files_reserve(&a, AT_FDCWD, name, NULL, e) == 0)
		rc = ca_import_chain_to(r, &a.f, e);
	ca_files_release(&a, rc == 0);
	return rc;
}
