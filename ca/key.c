/*
 * Reading a CA's key and certificate, shared by init (create, import)
 * and by the daemon's load: passphrase files, PEM keys and certificates
 * that never prompt on a terminal, and what makes a certificate a CA's.
 */
#include <stdlib.h>
#include <string.h>

#include "ca_priv.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "fileio.h"

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
ca_secret_free(char *p, size_t len)
{
	if (p == NULL)
		return;
	fio_wipe(p, len);
	free(p);
}

void
ca_passphrase_free(char *p)
{
	ca_secret_free(p, p != NULL ? strlen(p) : 0);
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

EVP_PKEY *
ca_key_parse(const char *pem, size_t len, const char *pass, const char *what,
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

X509 *
ca_cert_parse(const char *pem, size_t len, const char *what,
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

const char *
ca_digest_name(enum key_type t)
{
	return t == KEY_EC_P384 ? "SHA384" : "SHA256";
}

bool
ca_cert_is_ca(X509 *x)
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
