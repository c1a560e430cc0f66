/*
 * Private to ca/: the OpenSSL-typed internals shared by the files of
 * this module.  Nothing outside ca/ includes this header.
 */
#ifndef RCA_CA_PRIV_H
#define RCA_CA_PRIV_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "fileio.h"

/*
 * The loaded CA.  Everything is built once in ca_load() and only read
 * afterwards, so threads share it without a lock (OpenSSL's own
 * reference counts and the X509_STORE's lock are thread-safe).
 */
struct ca {
	X509		*cert;
	EVP_PKEY	*key;
	EVP_MD		*md;		/* SHA-256 (SHA-384 for P-384) */
	EVP_MD		*sha1;		/* SKIs: RFC 5280 method 1 */
	/*
	 * A DigestSign context initialised once with the CA key; each
	 * signature works on a copy, which skips OpenSSL 3's per-call
	 * algorithm fetches (and their global locks).
	 */
	EVP_MD_CTX	*sign_tmpl;
	enum key_type	 key_type;
	char		*pem;
	unsigned char	*der;
	size_t		 der_len;
	int64_t		 not_after;
	char		 fingerprint[RCA_SHA256_HEX + 1];
	/*
	 * Trust (SPEC 10): the anchors the CA chains to, in store; the
	 * issuing certificate and its intermediates, untrusted, for
	 * chains through an intermediate CA (NULL when the CA is its own
	 * anchor).  PARTIAL_CHAIN is set on store only for a CA imported
	 * before two tiers without its roots (its own, unsigned anchor).
	 */
	X509_STORE	*store;
	STACK_OF(X509)	*anchors;
	STACK_OF(X509)	*untrusted;
	bool		 self_anchor;
	bool		 partial;
	char		*chain_pem;	/* "" when self_anchor */
	char		*anchors_pem;
	char		 ski[RCA_SKI_HEX_MAX + 1];
	char		 spki_sha256[RCA_SHA256_HEX + 1];
	int64_t		 not_before;
	/* Prebuilt extensions, copied into each certificate/CRL. */
	X509_EXTENSION	*ext_aki;
	X509_EXTENSION	*ext_bc;		/* critical CA:FALSE */
	X509_EXTENSION	*ext_ku[2];		/* [0] EC, [1] RSA */
	X509_EXTENSION	*ext_eku[4];	/* by EKU_* bits; [0] NULL */
	X509_EXTENSION	*ext_crldp;	/* NULL without public_url */
	X509_EXTENSION	*ext_aia;	/* NULL without public_url */
};

/*
 * The public key is kept in its canonical form, built by csr.c from the
 * validated key and never copied from the request (SPEC section 8):
 * key_nid is NID_X9_62_id_ecPublicKey (key_curve the named curve, key
 * the uncompressed point) or NID_rsaEncryption (NULL parameters, key
 * the DER RSAPublicKey with minimal integers).  spki is the DER of the
 * whole SubjectPublicKeyInfo, the very bytes ca_issue() puts into the
 * certificate.
 */
struct ca_csr {
	unsigned char	*der;		/* NULL when from a cert */
	size_t		 der_len;
	int		 key_nid;
	int		 key_curve;	/* NID_undef for RSA */
	unsigned char	*key;		/* the BIT STRING's content */
	size_t		 key_len;
	unsigned char	*spki;
	size_t		 spki_len;
	enum key_type	 key_type;
	struct names	 names;
};

/* Certificates in one CA's chain or roots file. */
#define RCA_CA_MAX_CHAIN	8

/* Nesting depth of the strict DER check of a CSR (real ones use 8). */
#define RCA_DER_MAX_DEPTH	32

/* util.c */

/*
 * A fresh signing context for the CA key (a copy of ca->sign_tmpl).
 * Free with EVP_MD_CTX_free().  NULL on failure.
 */
EVP_MD_CTX *ca_sign_ctx(const struct ca *ca);

/*
 * Signing needs the CA's key: refuse a CA loaded without it.
 * Errors: ERR_CRYPTO "this instance has not got the key of CA <ski>".
 */
int	ca_key_needed(const struct ca *ca, struct err *e);

/* Log and clear OpenSSL's error queue for this thread, after what. */
void	ca_log_ssl(const char *what);

/*
 * A failure inside OpenSSL: its error queue to the log under what (its
 * text never reaches a client), then code with msg into e.
 */
void	ca_ssl_fail(const char *what, enum err_code code, const char *msg,
	    struct err *e);

/*
 * A certificate from exactly len bytes of DER, at most
 * RCA_MAX_PEM_BYTES (new).  Errors: code, "not a DER certificate".
 */
X509	*ca_x509_from_der(const unsigned char *der, size_t len,
	    enum err_code code, struct err *e);

/* PEM armour around DER (new, malloc'd, NUL-terminated). */
char	*ca_pem_encode(const char *label, const unsigned char *der,
	    size_t len);

/* i2d of a certificate into a malloc'd buffer.  NULL on failure. */
unsigned char *ca_x509_der(X509 *x, size_t *len);

/* Epoch seconds of an ASN1_TIME.  Returns 0 / -1. */
int	ca_asn1_time_epoch(const ASN1_TIME *t, int64_t *out);

/* Serial of x as lowercase hex without leading zeros. */
int	ca_serial_hex(const ASN1_INTEGER *ai,
	    char out[RCA_SERIAL_HEX_MAX + 1]);

/*
 * A random positive, non-zero 128-bit serial: the ASN1_INTEGER (new)
 * and its hex form.  Errors: ERR_CRYPTO.
 */
ASN1_INTEGER *ca_serial_new(char hex[RCA_SERIAL_HEX_MAX + 1], struct err *e);

/* SHA-256 of data as lowercase hex. */
void	ca_sha256_hex(const void *data, size_t n,
	    char out[RCA_SHA256_HEX + 1]);

/* der.c */

/*
 * True when der..der+len is a run of TLVs in strict DER (definite,
 * minimal lengths and tags, primitive strings, the content rules of
 * the universal types, SET OF sorted), nested at most
 * RCA_DER_MAX_DEPTH deep.
 */
bool	ca_der_strict(const unsigned char *der, size_t len);

/* Write a DER header for tag and len at out; returns its length. */
size_t	ca_der_put_head(unsigned char *out, unsigned char tag, size_t len);

/* The length of the DER header of a content of len octets. */
size_t	ca_der_head_len(size_t len);

/*
 * Read one DER header of tag at *p (at most len bytes, lengths up to
 * three octets) and move *p to its content.  Returns the content
 * length, or -1.
 */
long	ca_der_get(const unsigned char **p, size_t len, unsigned char tag);

/*
 * A positive, minimal DER INTEGER's content c (n octets): its
 * magnitude without the sign octet (borrowed from c).  False if not.
 */
bool	ca_der_uint(const unsigned char *c, long n, const unsigned char **mag,
	    size_t *maglen);

/* keyrules.c */

/*
 * Classify a public or private key.  Returns 0 and sets *out, or -1
 * with ERR_KEY_REJECTED (RSA not 2048/3072/4096 or exponent not 65537
 * or even modulus, DSA, other curves, other algorithms).
 */
int	ca_key_classify(EVP_PKEY *pk, enum key_type *out, struct err *e);

/*
 * Refuse a key type a CA may not have (only ec-p256, ec-p384, rsa-3072,
 * rsa-4096).  Errors: ERR_KEY_REJECTED.
 */
int	ca_key_for_ca(enum key_type t, struct err *e);

/*
 * Check a public key given as its AlgorithmIdentifier and BIT STRING
 * against SPEC section 8, fill csr's canonical key (key_nid, key_curve,
 * key, key_type, spki) and return the key for signature checks (new).
 * Errors: ERR_KEY_REJECTED, ERR_INTERNAL.
 */
EVP_PKEY *ca_spki_check(const X509_ALGOR *alg, const ASN1_BIT_STRING *bits,
	    struct ca_csr *csr, struct err *e);

/*
 * Set pub (a certificate's SubjectPublicKeyInfo) to csr's canonical
 * key.  Returns 0 / -1.
 */
int	ca_spki_set(X509_PUBKEY *pub, const struct ca_csr *csr);

/* Fill csr->spki (DER) from csr's canonical key.  Returns 0 / -1. */
int	ca_spki_der(struct ca_csr *csr);

/* names.c */

/*
 * Names of a subject and a SAN extension (may be NULL) following the
 * CSR rules: last CN, DNS/IP/URI SANs, CN added when DNS or IP.
 * Errors: ERR_INVALID_CSR.
 */
int	ca_names_extract(const X509_NAME *subj, const GENERAL_NAMES *gens,
	    struct names *out, struct err *e);

/*
 * The names of certificate x by the rules of ca_names_extract(), every
 * failure reported with code: bad_san is the message when the SAN
 * extension does not parse.
 */
int	ca_cert_names(X509 *x, enum err_code code, const char *bad_san,
	    struct names *out, struct err *e);

/* Build a GENERAL_NAMES of the SANs in n (new).  NULL on failure. */
GENERAL_NAMES *ca_names_to_gens(const struct names *n);

/* csr_pem.c */

/*
 * The DER inside pem: exactly one PEM block labelled CERTIFICATE
 * REQUEST (or the old NEW CERTIFICATE REQUEST), without headers, with
 * only whitespace before and after it.  *der is new (OPENSSL_free).
 * Errors: ERR_INVALID_CSR, ERR_INTERNAL.
 */
int	ca_csr_pem_block(const char *pem, size_t len, unsigned char **der,
	    long *dlen, struct err *e);

/* csr.c */

/*
 * A request from its DER, checked in the order of SPEC section 8 that
 * the reference in tests/fuzz/csr_ref.c follows too: encoding,
 * version, key, signature algorithm, signature, names (new, free with
 * ca_csr_free()).  Errors: ERR_INVALID_CSR, ERR_KEY_REJECTED,
 * ERR_CSR_SIGNATURE, ERR_INTERNAL.
 */
struct ca_csr *ca_csr_decode(const unsigned char *der, size_t len,
	    struct err *e);

/* keygen.c */

/* Generate a key of type t (new).  Errors: ERR_CRYPTO. */
EVP_PKEY *ca_key_generate(enum key_type t, struct err *e);

/*
 * key as PKCS#8 PEM, encrypted with AES-256-CBC under pass when pass
 * is not NULL: new, NUL-terminated, *len bytes (wipe before freeing).
 * NULL on failure, with OpenSSL's error queue left for the caller.
 */
char	*ca_key_pem(EVP_PKEY *key, const char *pass, size_t *len);

/* key.c */

/*
 * Read a passphrase file: trailing newline stripped; *out new (wipe
 * and free with fio_secret_free_str()).  Errors: ERR_IO,
 * ERR_INVALID_REQUEST (empty).
 */
int	ca_passphrase_read(const char *path, char **out, struct err *e);

/*
 * Parse a private key PEM (PKCS#1 or PKCS#8, encrypted or not) with
 * passphrase pass (may be NULL; never prompts).  what names the file in
 * messages, code is the error code to report (new).
 */
EVP_PKEY *ca_key_parse(const char *pem, size_t len, const char *pass,
	    const char *what, enum err_code code, struct err *e);

/*
 * Read a CA (or root) key file with the checks of SPEC section 3 on
 * the descriptor opened O_NOFOLLOW (so the file checked is the file
 * read): a regular file of the running user, no group or other bits,
 * one link, a sane size.  *out new (fio_secret_free(*out, *outlen)).
 * Errors: ERR_IO naming the path and the fix.
 */
int	ca_key_file_read(const char *path, char **out, size_t *outlen,
	    struct err *e);

/* Parse a PEM certificate (new); what and code as ca_key_parse(). */
X509	*ca_cert_parse(const char *pem, size_t len, const char *what,
	    enum err_code code, struct err *e);

/* True when x is a CA: basicConstraints CA:TRUE (and keyCertSign). */
bool	ca_cert_is_ca(X509 *x);

/* The signing digest for a CA key type ("SHA256", "SHA384"). */
const char *ca_digest_name(enum key_type t);

/* sign.c */

/*
 * Verify leaf x at now (0: time now) with the anchors of store and the
 * untrusted intermediates (may be NULL) for client use: chain, dates,
 * clientAuth EKU.  *chain gets the chain built (new; [1] is the
 * issuer).  Errors: ERR_UNAUTHORIZED (why), ERR_CRYPTO.
 */
int	ca_leaf_verify(X509_STORE *store, STACK_OF(X509) *untrusted, X509 *x,
	    int64_t now, STACK_OF(X509) **chain, struct err *e);

/*
 * Fill out from a verified leaf x (names, key type, dates, serial,
 * fingerprint, pem, der).  Errors: ERR_UNAUTHORIZED, ERR_CRYPTO.
 */
int	ca_leaf_fill(X509 *x, struct ca_cert *out, struct err *e);

/* Who may have issued a client certificate (all borrowed). */
struct ca_leaf_trust {
	X509_STORE	*store;		/* the anchors */
	STACK_OF(X509)	*untrusted;	/* intermediates, or NULL */
	STACK_OF(X509)	*issuers;	/* the leaf's issuer is one */
	const char	*issuers_name;	/* "this CA": for the refusal */
};

/*
 * Verify the DER leaf der (len bytes) at now (0: time now) with
 * ca_leaf_verify() against t, its issuer one of t->issuers (*which,
 * may be NULL, gets its index; -1 on failure), and fill out as
 * ca_leaf_fill().  On failure out keeps only the leaf's serial (when it
 * parsed), for the audit log.  Errors: ERR_INVALID_REQUEST (not DER),
 * ERR_UNAUTHORIZED (refused, and why), ERR_CRYPTO.
 */
int	ca_leaf_check(const struct ca_leaf_trust *t,
	    const unsigned char *der, size_t len, int64_t now, int *which,
	    struct ca_cert *out, struct err *e);

/* init.c */

/* The slots of a struct ca_files, in the order they are reserved. */
enum ca_file {
	CA_F_KEY,		/* an existing key is the error named first */
	CA_F_CERT,
	CA_F_ROOTS,
	CA_F__MAX
};

/* Reservations made here for a path-based call, and their ca_files. */
struct ca_files_at {
	struct fio_resv	rv[CA_F__MAX];
	struct ca_files	f;		/* into rv; NULL: not wanted */
};

#define CA_FILES_AT_INIT \
	{ { FIO_RESV_INIT, FIO_RESV_INIT, FIO_RESV_INIT }, \
	    { NULL, NULL, NULL } }

/*
 * Reserve (fio_reserve(): O_CREAT|O_EXCL|O_NOFOLLOW) name[i] in folder
 * dirfd (AT_FDCWD: paths) for each i whose name is not NULL, in the
 * order of enum ca_file; shown (NULL: the names) names them in
 * messages.  a need not be initialised; ca_files_release() it in every
 * case.  Errors: ERR_ALREADY_EXISTS, ERR_IO.
 */
int	ca_files_reserve(struct ca_files_at *a, int dirfd,
	    const char *const name[CA_F__MAX],
	    const char *const shown[CA_F__MAX], struct err *e);

/* Release a's reservations; unless keep, remove the files. */
void	ca_files_release(struct ca_files_at *a, bool keep);

/*
 * A new self-signed CA (pathlen: 0, or 1 for a root) of o (checked;
 * days as given) into f->key (PKCS#8 0400, encrypted with
 * o->passphrase_file when set) and f->cert (0444).
 * Errors: as ca_create_files().
 */
int	ca_self_to(const struct ca_files *f, const struct ca_create_opts *o,
	    int pathlen, struct err *e);

/* mkcert.c */


/*
 * The options of a new CA: a CA key type, a CN of 1 to 64 printable
 * characters, 1 to 36500 days.  Errors: ERR_KEY_REJECTED,
 * ERR_INVALID_REQUEST.
 */
int	ca_create_opts_check(const struct ca_create_opts *o, struct err *e);

/* What a new CA certificate is made of (all borrowed). */
struct ca_mk {
	EVP_PKEY	*pub;		/* the new CA's key */
	const char	*cn;		/* its subject CN */
	int		 pathlen;	/* 0 or 1 */
	int		 days;		/* cut at the issuer's notAfter */
	X509		*issuer;	/* NULL: self-signed */
	EVP_PKEY	*sign_key;	/* the issuer's key (or pub) */
	enum key_type	 sign_type;	/* its type: the digest */
};

/*
 * A CA certificate (new): random serial, CN=cn, notBefore now - 60 s,
 * basicConstraints critical CA:TRUE pathlen, keyUsage critical
 * keyCertSign+cRLSign, SKI (hash), AKI (keyid of the issuer).
 * Errors: ERR_CRYPTO.
 */
X509	*ca_mkcert(const struct ca_mk *m, struct err *e);

/* ca_mkcert() self-signed with key of type t (new). */
X509	*ca_mkself(EVP_PKEY *key, enum key_type t, const char *cn,
	    int pathlen, int days, struct err *e);

/*
 * key as PKCS#8 PEM into the file reserved by r (fio_reserve(): created
 * O_EXCL|O_NOFOLLOW before the key was made), 0400, encrypted with the
 * passphrase in pass_file (NULL: none).  r stays the caller's to
 * release.  Errors: ERR_IO, ERR_INVALID_REQUEST, ERR_CRYPTO.
 */
int	ca_key_write(struct fio_resv *r, EVP_PKEY *key,
	    const char *pass_file, struct err *e);

/* chain.c */

/*
 * Every certificate of a PEM string of len bytes (at most
 * RCA_MAX_PEM_BYTES, at most RCA_CA_MAX_CHAIN certificates, at least
 * one) in order (new; sk_X509_pop_free).  what names it in messages.
 * Errors: code, ERR_INTERNAL.
 */
STACK_OF(X509) *ca_pem_certs(const char *pem, size_t len, const char *what,
	    enum err_code code, struct err *e);

/* One certificate as PEM (new); NULL: memory. */
char	*ca_pem_x509(X509 *x);

/* The certificates of sk from index from as PEM (new); NULL: memory. */
char	*ca_certs_pem(STACK_OF(X509) *sk, int from);

/*
 * x's subjectKeyIdentifier as lowercase hex, or the SHA-1 of its key
 * when it has none.  Errors: ERR_INVALID_CHAIN (longer than
 * RCA_SKI_HEX_MAX / 2 bytes), ERR_CRYPTO.
 */
int	ca_ski_of(X509 *x, char out[RCA_SKI_HEX_MAX + 1], struct err *e);

/* True when x is issued by itself and its signature verifies. */
bool	ca_self_signed(X509 *x);

/*
 * Verify cert through untrusted (may be NULL) to one of anchors, dates
 * not checked, PARTIAL_CHAIN when partial; *chain gets the chain built
 * (new; [0] is cert, the last its anchor).  Errors: ERR_INVALID_CHAIN
 * (the message gives OpenSSL's reason), ERR_CRYPTO.
 */
int	ca_chain_verify(X509 *cert, STACK_OF(X509) *untrusted,
	    STACK_OF(X509) *anchors, bool partial, STACK_OF(X509) **chain,
	    struct err *e);

/*
 * Fill out (struct ca_new) from chain (the CA cert first, then its
 * intermediates) and its anchors, for a key of type t; out is cleared
 * on failure.  Errors: ERR_INVALID_CHAIN (dates), ERR_CRYPTO,
 * ERR_INTERNAL.
 */
int	ca_new_fill(struct ca_new *out, STACK_OF(X509) *chain,
	    STACK_OF(X509) *anchors, enum key_type t, struct err *e);

/* Every anchor is a self-signed CA.  Errors: ERR_INVALID_CHAIN. */
int	ca_anchors_check(STACK_OF(X509) *anchors, struct err *e);

/* spki.c */

/*
 * SHA-256 hex of pk's canonical SPKI (i2d_PUBKEY, EC points
 * uncompressed; pk's conversion form is set).  Errors: ERR_CRYPTO.
 */
int	ca_pkey_spki_sha256(EVP_PKEY *pk, char out[RCA_SHA256_HEX + 1],
	    struct err *e);

#endif
