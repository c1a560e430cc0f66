/*
 * Fixtures shared by the ca/ tests: temporary folders, throwaway CAs,
 * keys and CSRs built directly with OpenSSL (hostile ones included).
 */
#ifndef RCA_TESTS_CA_HELPERS_H
#define RCA_TESTS_CA_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca.h"

/* A new folder under /tmp (free() the string; th_rmrf it first). */
char	*th_tmpdir(void);

/* Remove a folder and everything in it. */
void	th_rmrf(const char *dir);

/* dir/name into a new string. */
char	*th_path(const char *dir, const char *name);

/* Write a file with mode (replacing it). */
void	th_write(const char *path, const char *data, int mode);

/* Run a shell command; returns its exit status. */
int	th_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Create a CA of type t in dir (ca.crt, ca.key, optional passphrase)
 * and load it with public_url.  Asserts on failure.
 */
struct ca *th_ca(const char *dir, enum key_type t, int days,
	    const char *public_url);

/*
 * A two-tier CA in dir (ca.key, ca.crt, roots.pem), named cn, signed by
 * the root in root_dir (created there first when root.key is absent),
 * loaded with public_url.  Asserts on failure.
 */
struct ca *th_ca2(const char *dir, const char *root_dir, const char *cn,
	    const char *public_url);

/*
 * The fixture most ca/ tests start from, embedded first in their own:
 * a folder under /tmp and a P-256 CA in it.
 */
struct th_fx {
	char		*dir;	/* th_tmpdir() */
	struct ca	*ca;	/* th_ca(dir, KEY_EC_P256, ...) */
};

/* Fill x: the folder and a CA of days for public_url (asserts). */
void	th_fx_init(struct th_fx *x, int days, const char *public_url);

/* Free the CA, remove the folder and free its name. */
void	th_fx_clear(struct th_fx *x);

/* A new th_fx (th_fx_init()), for a test whose whole fixture it is. */
struct th_fx *th_fx_new(int days, const char *public_url);

/* cmocka teardown of th_fx_new()'s fixture (or one that begins so). */
int	th_fx_teardown(void **state);

/* A DER CRL of exactly len bytes parsed (new X509_CRL; asserts). */
X509_CRL *th_crl_parse(const unsigned char *der, size_t len);

/* The whole of a file as a new string (asserts). */
char	*th_read(const char *path);

/*
 * Issue a leaf for cn (DNS SAN cn) under profile p from ca at now (0:
 * time now) with ttl (0: default) into out (asserts).
 */
void	th_leaf(struct ca *ca, const struct profile *p, const char *cn,
	    int64_t now, int64_t ttl, struct ca_cert *out);

/* Keys: EC on a named curve, RSA of bits, DSA, Ed25519 (new). */
EVP_PKEY *th_key_ec(const char *curve);
EVP_PKEY *th_key_rsa(int bits);
EVP_PKEY *th_key_dsa(void);
EVP_PKEY *th_key_ed25519(void);

/*
 * A CSR (new PEM string) for key with subject CN cn (NULL: none), an
 * optional O/OU, and optional extension values in openssl config
 * syntax: san ("DNS:a,IP:1.2.3.4"), bc, ku, eku.  corrupt flips a bit
 * of the signature.
 */
struct th_csr {
	const char	*cn;
	const char	*o;
	const char	*ou;
	const char	*san;
	const char	*bc;
	const char	*ku;
	const char	*eku;
	int		 corrupt;
};
char	*th_csr_pem(EVP_PKEY *key, const struct th_csr *c);

/* A P-256 CSR for cn and san (new PEM). */
char	*th_csr_simple(const char *cn, const char *san);

/* A profile: redis-node like (server+client, require_san) or client. */
void	th_profile_node(struct profile *p);
void	th_profile_client(struct profile *p);

/* Parse a PEM certificate (new X509). */
X509	*th_x509(const char *pem);

/* A time field as epoch seconds. */
int64_t	th_time(const ASN1_TIME *t);

#endif
