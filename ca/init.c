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

int
ca_files_reserve(struct ca_files_at *a, int dirfd,
    const char *const name[CA_F__MAX], const char *const shown[CA_F__MAX],
    struct err *e)
{
	struct fio_resv *slot[CA_F__MAX];

	for (int i = 0; i < CA_F__MAX; i++) {
		a->rv[i] = (struct fio_resv)FIO_RESV_INIT;
		slot[i] = name[i] != NULL ? &a->rv[i] : NULL;
	}
	a->f = (struct ca_files){ slot[CA_F_KEY], slot[CA_F_CERT],
	    slot[CA_F_ROOTS] };
	for (int i = 0; i < CA_F__MAX; i++)
		if (name[i] != NULL && fio_reserve(&a->rv[i], dirfd, name[i],
		    shown != NULL ? shown[i] : NULL, e) == -1)
			return -1;
	return 0;
}

void
ca_files_release(struct ca_files_at *a, bool keep)
{
	for (int i = CA_F__MAX - 1; i >= 0; i--)
		fio_resv_release(&a->rv[i], keep);
}

/*
 * Write key (PKCS#8 PEM, AES-256-CBC when pass is set; 0400) and cert
 * (0444) into the files reserved for them.
 */
static int
write_pair(X509 *x, EVP_PKEY *key, const char *pass,
    const struct ca_files *f, struct err *e)
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
	if (fio_resv_write(f->key, kpem, klen, 0400, e) == -1 ||
	    fio_resv_write(f->cert, cpem, strlen(cpem), 0444, e) == -1)
		goto out;
	rc = 0;
out:
	fio_secret_free(kpem, klen);
	free(cpem);
	return rc;
}

int
ca_self_to(const struct ca_files *f, const struct ca_create_opts *o,
    int pathlen, struct err *e)
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	char *pass = NULL;
	int rc = -1;

	if (ca_create_opts_check(o, e) == -1)
		goto out;
	if (o->passphrase_file != NULL &&
	    ca_passphrase_read(o->passphrase_file, &pass, e) == -1)
		goto out;
	if ((key = ca_key_generate(o->key_type, e)) == NULL ||
	    (x = ca_mkself(key, o->key_type, o->cn, pathlen, o->days,
	    e)) == NULL)
		goto out;
	rc = write_pair(x, key, pass, f, e);
out:
	fio_secret_free_str(pass);
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

int
ca_create_files_to(const struct ca_files *f, const struct ca_create_opts *o,
    struct err *e)
{
	return ca_self_to(f, o, 0, e);
}

int
ca_create_files(const char *cert_path, const char *key_path,
    const struct ca_create_opts *o, struct err *e)
{
	const char *const name[CA_F__MAX] = { key_path, cert_path, NULL };
	struct ca_files_at a = CA_FILES_AT_INIT;
	int rc = -1;

	/* Bad options are reported before a file is made. */
	if (ca_create_opts_check(o, e) == 0 &&
	    ca_files_reserve(&a, AT_FDCWD, name, NULL, e) == 0)
		rc = ca_create_files_to(&a.f, o, e);
	ca_files_release(&a, rc == 0);
	return rc;
}

int
ca_import_files(const char *in_cert, const char *in_key,
    const char *in_pass_file, const char *cert_path, const char *key_path,
    const char *out_pass_file, struct err *e)
{
	const char *const name[CA_F__MAX] = { key_path, cert_path, NULL };
	struct ca_files_at a = CA_FILES_AT_INIT;
	int rc = -1;

	if (ca_files_reserve(&a, AT_FDCWD, name, NULL, e) == 0)
		rc = ca_import_files_to(in_cert, in_key, in_pass_file, &a.f,
		    out_pass_file, e);
	ca_files_release(&a, rc == 0);
	return rc;
}

int
ca_import_files_to(const char *in_cert, const char *in_key,
    const char *in_pass_file, const struct ca_files *f,
    const char *out_pass_file, struct err *e)
{
	char *cpem = NULL, *kpem = NULL, *inpass = NULL, *outpass = NULL;
	size_t clen = 0, klen = 0;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	enum key_type t;
	int rc = -1;

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
	rc = write_pair(x, key, outpass, f, e);
out:
	fio_secret_free(kpem, klen);
	free(cpem);
	fio_secret_free_str(inpass);
	fio_secret_free_str(outpass);
	EVP_PKEY_free(key);
	X509_free(x);
	return rc;
}
