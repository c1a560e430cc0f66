/*
 * Making a CA for `redis-ca init`: a new key and self-signed
 * certificate, or an existing pair adopted after checks; both written
 * exclusively, the key 0400 (encrypted with a passphrase when given).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "ca_priv.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "fileio.h"

/* The two files of a CA, reserved before any work (O_EXCL|O_NOFOLLOW). */
struct pair_out {
	struct fio_resv	key;
	struct fio_resv	cert;
};

/*
 * Reserve d's key, then its certificate (so an existing key is the
 * error named first).  Errors: ERR_ALREADY_EXISTS, ERR_IO.
 */
static int
pair_reserve(struct pair_out *po, const struct ca_pair_dest *d,
    struct err *e)
{
	return fio_reserve(&po->key, d->dirfd, d->key, d->key_shown, e) ==
	    -1 || fio_reserve(&po->cert, d->dirfd, d->cert, d->cert_shown,
	    e) == -1 ? -1 : 0;
}

/* Release both; unless keep, remove what was reserved. */
static void
pair_release(struct pair_out *po, bool keep)
{
	fio_resv_release(&po->cert, keep);
	fio_resv_release(&po->key, keep);
}

/*
 * Write key (PKCS#8 PEM, AES-256-CBC when pass is set; 0400) and cert
 * (0444) into their reserved files.
 */
static int
write_pair(X509 *x, EVP_PKEY *key, const char *pass, struct pair_out *po,
    struct err *e)
{
	char *kpem = NULL, *cpem = NULL;
	size_t klen = 0;
	int rc = -1;

	if ((kpem = ca_key_pem(key, pass, &klen)) == NULL) {
		ca_ssl_fail("encoding the CA key", ERR_CRYPTO,
		    "cannot encode the CA key", e);
		goto out;
	}
	if ((cpem = ca_pem_x509(x)) == NULL) {
		ca_ssl_fail("encoding the CA certificate", ERR_CRYPTO,
		    "cannot encode the CA certificate", e);
		goto out;
	}
	if (fio_resv_write(&po->key, kpem, klen, 0400, e) == -1 ||
	    fio_resv_write(&po->cert, cpem, strlen(cpem), 0444, e) == -1)
		goto out;
	rc = 0;
out:
	fio_secret_free(kpem, klen);
	free(cpem);
	return rc;
}

int
ca_self_pair(const struct ca_pair_dest *d, const struct ca_create_opts *o,
    int pathlen, struct err *e)
{
	struct pair_out po = { FIO_RESV_INIT, FIO_RESV_INIT };
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	char *pass = NULL;
	int rc = -1;

	if (ca_create_opts_check(o, e) == -1 || pair_reserve(&po, d, e) == -1)
		goto out;
	if (o->passphrase_file != NULL &&
	    ca_passphrase_read(o->passphrase_file, &pass, e) == -1)
		goto out;
	if ((key = ca_key_generate(o->key_type, e)) == NULL ||
	    (x = ca_mkself(key, o->key_type, o->cn, pathlen, o->days,
	    e)) == NULL)
		goto out;
	rc = write_pair(x, key, pass, &po, e);
out:
	pair_release(&po, rc == 0);
	fio_secret_free_str(pass);
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

int
ca_create_files(const char *cert_path, const char *key_path,
    const struct ca_create_opts *o, struct err *e)
{
	const struct ca_pair_dest d = {
		AT_FDCWD, cert_path, key_path, NULL, NULL
	};

	return ca_self_pair(&d, o, 0, e);
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
	const struct ca_pair_dest d = {
		AT_FDCWD, cert_path, key_path, NULL, NULL
	};
	struct pair_out po = { FIO_RESV_INIT, FIO_RESV_INIT };
	enum key_type t;
	int rc = -1;

	if (pair_reserve(&po, &d, e) == -1)
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
	rc = write_pair(x, key, outpass, &po, e);
out:
	pair_release(&po, rc == 0);
	fio_secret_free(kpem, klen);
	free(cpem);
	fio_secret_free_str(inpass);
	fio_secret_free_str(outpass);
	EVP_PKEY_free(key);
	X509_free(x);
	return rc;
}
