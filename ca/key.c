/*
 * Reading a CA's key and certificate, shared by init (create, import)
 * and by the daemon's load: passphrase files, PEM keys and certificates
 * that never prompt on a terminal, and what makes a certificate a CA's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/*
 * The key file's checks of SPEC section 3 on its fstat st: a regular
 * file of the running user, no group or other bits, one link, a sane
 * size.  Errors: ERR_IO naming path and the fix.
 */
static int
key_file_check(const char *path, const struct stat *st, struct err *e)
{
	if (!S_ISREG(st->st_mode)) {
		err_set(e, ERR_IO, "%s: not a regular file", path);
		return -1;
	}
	if (st->st_uid != geteuid()) {
		err_set(e, ERR_IO, "%s: owned by uid %u, not by the running "
		    "user (uid %u)", path, (unsigned)st->st_uid,
		    (unsigned)geteuid());
		return -1;
	}
	if ((st->st_mode & 077) != 0) {
		err_set(e, ERR_IO, "%s: mode %04o gives access to group or "
		    "others (use chmod 0400)", path,
		    (unsigned)(st->st_mode & 07777));
		return -1;
	}
	/* A second name for the key is a copy nobody watches. */
	if (st->st_nlink != 1) {
		err_set(e, ERR_IO, "%s: has %lu links; the CA key must have "
		    "exactly one (remove the hard link)", path,
		    (unsigned long)st->st_nlink);
		return -1;
	}
	if (st->st_size <= 0 || st->st_size > RCA_MAX_KEY_FILE_BYTES) {
		err_set(e, ERR_IO, "%s: size %lld out of range", path,
		    (long long)st->st_size);
		return -1;
	}
	return 0;
}

int
ca_key_file_read(const char *path, char **out, size_t *outlen,
    struct err *e)
{
	struct stat st = { 0 };
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
	if (key_file_check(path, &st, e) == -1)
		goto out;
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
	fio_secret_free(buf, (size_t)st.st_size);
	close(fd);
	return rc;
}
