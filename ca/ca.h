/*
 * ca/: all of redis-ca's cryptography, and the only code that ever holds
 * the CA private key or calls a signing function.  The API takes and
 * returns bytes, strings and enums; no OpenSSL type appears here, so
 * signing can move into its own process without touching callers.
 *
 * Thread safety: a loaded struct ca is read-only after ca_load() and may
 * be used by any number of threads at once for ca_issue()/ca_crl_build().
 * A struct ca_csr belongs to one thread at a time.
 */
#ifndef RCA_CA_H
#define RCA_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "rca_limits.h"
#include "names.h"
#include "types.h"

/* ------------------------------------------------------------------ */
/* Creating and importing a CA (redis-ca init)                         */

struct ca_create_opts {
	enum key_type	 key_type;	/* EC_P256, EC_P384, RSA_3072/4096 */
	const char	*cn;		/* subject CN, e.g. "redis-ca" */
	int		 days;		/* validity, e.g. 3650 */
	const char	*passphrase_file; /* NULL: key stored unencrypted */
};

/*
 * Create a self-signed CA: basicConstraints critical CA:TRUE pathlen:0,
 * keyUsage critical keyCertSign+cRLSign, SKI (and AKI), notBefore now -
 * 60 s.  Writes key_path (PKCS#8 PEM, encrypted with AES-256 when a
 * passphrase file is given, created O_EXCL mode 0400) and cert_path (0444).
 * Refuses to overwrite either file (ERR_ALREADY_EXISTS).
 * Errors: ERR_ALREADY_EXISTS, ERR_IO, ERR_KEY_REJECTED (rsa-2048 or bad
 * type for a CA), ERR_CRYPTO, ERR_INVALID_REQUEST.
 */
int	ca_create_files(const char *cert_path, const char *key_path,
	    const struct ca_create_opts *o, struct err *e);

/*
 * The files of a new CA, each reserved by the caller with fio_reserve()
 * (common/fileio.h: created O_CREAT|O_EXCL|O_NOFOLLOW before any work,
 * so an existing file, or a link, is refused by the create itself).
 * The functions ending in _to write into them (keys 0400, certificates
 * 0444) and leave them to the caller to release: fio_resv_release()
 * with keep on success, without to remove them on failure.  All
 * borrowed; roots is for two tiers only (NULL: not written).
 */
struct fio_resv;
struct ca_files {
	struct fio_resv	*key;
	struct fio_resv	*cert;
	struct fio_resv	*roots;
};

/* ca_create_files() into f->key and f->cert. */
int	ca_create_files_to(const struct ca_files *f,
	    const struct ca_create_opts *o, struct err *e);

/*
 * Adopt an existing CA: read in_cert (PEM) and in_key (PEM, PKCS#1 or
 * PKCS#8, optionally encrypted; passphrase from in_pass_file, may be
 * NULL), check that the key matches the certificate and that the
 * certificate is a CA (basicConstraints CA:TRUE), then write them like
 * ca_create_files() (key re-encrypted with out_pass_file if not NULL).
 * Errors: ERR_INVALID_REQUEST (not a CA, mismatch, bad passphrase,
 * unreadable PEM; the message says which), ERR_ALREADY_EXISTS, ERR_IO,
 * ERR_KEY_REJECTED (key type outside the CA key types).
 */
int	ca_import_files(const char *in_cert, const char *in_key,
	    const char *in_pass_file, const char *cert_path,
	    const char *key_path, const char *out_pass_file, struct err *e);

/* ca_import_files() into f->key and f->cert. */
int	ca_import_files_to(const char *in_cert, const char *in_key,
	    const char *in_pass_file, const struct ca_files *f,
	    const char *out_pass_file, struct err *e);

/* ------------------------------------------------------------------ */
/* Several CAs: identities, two tiers, rollover (SPEC section 10)       */

/*
 * Bounds of the strings below.  db/ and service/ may define the same
 * values in common/rca_limits.h; the guards keep one definition.
 */
#ifndef RCA_SKI_HEX_MAX
#define RCA_SKI_HEX_MAX		128	/* hex of a subjectKeyIdentifier */
#endif
/* The anchors of a two-tier CA, beside its ca.crt (SPEC 10). */
#define RCA_CA_ROOTS_FILE	"roots.pem"
#ifndef RCA_ETAG_MAX
#define RCA_ETAG_MAX		48	/* a quoted ETag with its NUL */
#endif

/*
 * A CA made or completed by the functions below: what a `cas` row
 * holds.  Strings are new (ca_new_clear() frees them).
 */
struct ca_new {
	char		*cert_pem;	/* issuing cert + intermediates; NULL
					   while pending (CSR only) */
	char		*anchors_pem;	/* its anchors (the cert itself when
					   self-signed); NULL while pending */
	char		*csr_pem;	/* ca_create_csr() only, else NULL */
	char		 ski[RCA_SKI_HEX_MAX + 1];  /* lowercase hex */
	char		 spki_sha256[RCA_SHA256_HEX + 1]; /* of its key */
	char		 fingerprint[RCA_SHA256_HEX + 1]; /* cert; "" pending */
	enum key_type	 key_type;
	int64_t		 not_before;	/* 0 while pending */
	int64_t		 not_after;	/* 0 while pending */
};

/* Free the strings of n and zero it; NULL is fine. */
void	ca_new_clear(struct ca_new *n);

/*
 * A root CA for two tiers in folder dir (which must exist; the caller
 * decides where it may be): dir/root.key (PKCS#8, 0400, O_EXCL,
 * encrypted when o->passphrase_file is set) and dir/root.crt (0444):
 * self-signed, basicConstraints critical CA:TRUE pathlen:1, keyUsage
 * critical keyCertSign+cRLSign, SKI; o->days (0: 7305, 20 years), o->cn
 * as subject.  Both files are created (O_EXCL|O_NOFOLLOW) before the
 * key is made and removed on failure.  The key never leaves this
 * function.  ca_create_root_at() does the same in the folder open at
 * dirfd, dir naming it in messages.
 * Errors: ERR_ALREADY_EXISTS (either file exists, a link too), ERR_IO,
 * ERR_KEY_REJECTED, ERR_INVALID_REQUEST (cn, days), ERR_CRYPTO.
 */
int	ca_create_root(const char *dir, const struct ca_create_opts *o,
	    struct err *e);
int	ca_create_root_at(int dirfd, const char *dir,
	    const struct ca_create_opts *o, struct err *e);

/*
 * A new issuing CA signed by a root: a new key of o->key_type written
 * to key_path (O_EXCL|O_NOFOLLOW, 0400, PKCS#8, encrypted with
 * o->passphrase_file when set) and a certificate CN=o->cn, CA:TRUE
 * pathlen:0, keyCertSign+cRLSign, SKI, AKI = the root's SKI, valid
 * o->days (0: 1826, 5 years; cut at the root's notAfter), signed by
 * the root key at root_key_path (checked like the CA key: a regular
 * file of this user, no group/other bits; decrypted with
 * root_pass_file, may be NULL).  The root key is read, used and freed
 * here, never copied or logged.  root_cert_path must be a self-signed
 * CA matching that key.  out: cert_pem = the new cert, anchors_pem =
 * the root cert.  Nothing is left at key_path on failure.
 * Errors: ERR_ALREADY_EXISTS (key_path), ERR_IO (unreadable files, key
 * file mode/owner), ERR_INVALID_CHAIN (root not a self-signed CA, key
 * does not match it, the result does not verify), ERR_KEY_REJECTED,
 * ERR_INVALID_REQUEST, ERR_CRYPTO (wrong passphrase, signing).
 */
int	ca_create_signed(const char *key_path, const char *root_cert_path,
	    const char *root_key_path, const char *root_pass_file,
	    const struct ca_create_opts *o, struct ca_new *out,
	    struct err *e);

/*
 * ca_create_signed() with its key into f->key, and out->cert_pem into
 * f->cert and out->anchors_pem into f->roots when they are not NULL.
 */
int	ca_create_signed_to(const struct ca_files *f,
	    const char *root_cert_path, const char *root_key_path,
	    const char *root_pass_file, const struct ca_create_opts *o,
	    struct ca_new *out, struct err *e);

/*
 * A new one-tier (self-signed) CA like init's: key to key_path as in
 * ca_create_signed(), the certificate (o->days; 0: 3650) into out
 * (cert_pem = anchors_pem = the cert).  Errors: those of
 * ca_create_signed() but ERR_INVALID_CHAIN.
 */
int	ca_create_self(const char *key_path, const struct ca_create_opts *o,
	    struct ca_new *out, struct err *e);

/*
 * A new key (to key_path as above) and a CSR for it (subject CN=o->cn,
 * asking for basicConstraints CA:TRUE pathlen:0 and keyCertSign+
 * cRLSign) for an outside CA to sign: out->csr_pem, ski (the SHA-1 of
 * the key, RFC 5280 method 1; the signed cert may carry another one:
 * ca_complete_cert() reports the cert's), spki_sha256, key_type.
 * Errors: those of ca_create_self().
 */
int	ca_create_csr(const char *key_path, const struct ca_create_opts *o,
	    struct ca_new *out, struct err *e);

/*
 * Check a certificate for the key at key_path (decrypted with
 * pass_file, may be NULL) and fill out: cert_pem is the CA cert (PEM,
 * at most RCA_MAX_PEM_BYTES) possibly followed by intermediates; it
 * must match the key, be a CA (basicConstraints CA:TRUE, keyUsage with
 * keyCertSign) and verify (X509_verify_cert, any purpose, times not
 * checked) with the certs after the first as untrusted intermediates
 * to one of the self-signed anchors in chain_roots_pem (NULL or "": it
 * must be self-signed and is its own anchor).  out->anchors_pem = the
 * anchor it chains to; out->cert_pem = the cert and the intermediates
 * of the chain built (normalised PEM).
 * Errors: ERR_INVALID_CHAIN (mismatch, not a CA, does not verify: the
 * message says which), ERR_INVALID_REQUEST (not PEM), ERR_IO,
 * ERR_CRYPTO (key unreadable: wrong passphrase).
 */
int	ca_complete_cert(const char *key_path, const char *pass_file,
	    const char *cert_pem, const char *chain_roots_pem,
	    struct ca_new *out, struct err *e);

/*
 * Adopt an existing CA signed by an outside root (init --import-cert
 * --import-key --import-chain): in_cert (cert + intermediates) must
 * match in_key and verify to the anchors in in_roots as in
 * ca_complete_cert(); then key_path (0400, re-encrypted with
 * out_pass_file if not NULL), cert_path (cert + intermediates, 0444)
 * and roots_path (the anchor it chains to, 0444) are written, all
 * O_EXCL.  Nothing is written on a refusal; what was written is
 * removed on a later failure.
 */
struct ca_import_req {
	const char	*in_cert;
	const char	*in_key;
	const char	*in_pass_file;	/* may be NULL */
	const char	*in_roots;
	const char	*cert_path;
	const char	*key_path;
	const char	*roots_path;
	const char	*out_pass_file;	/* may be NULL */
};
int	ca_import_chain_files(const struct ca_import_req *r, struct err *e);

/*
 * ca_import_chain_files() into f->key, f->cert and f->roots (r's
 * paths are not used).
 */
int	ca_import_chain_to(const struct ca_import_req *r,
	    const struct ca_files *f, struct err *e);

/*
 * Lowercase hex SHA-256 of the canonical SubjectPublicKeyInfo of the
 * private key at key_path (decrypted with pass_file, may be NULL): the
 * value ca_spki_sha256() gives for a CA loaded with it, so a key file
 * is matched to a `cas` row whatever its name.  The key file is checked
 * like ca_load()'s.  Errors: ERR_IO, ERR_NOT_FOUND (no such file),
 * ERR_CRYPTO.
 */
int	ca_key_file_spki_sha256(const char *key_path, const char *pass_file,
	    char out[RCA_SHA256_HEX + 1], struct err *e);

/* ------------------------------------------------------------------ */
/* The loaded CA                                                       */

struct ca;

/*
 * Load the CA for signing.  key_path must be a regular file owned by the
 * running user with no group/other permission bits, and must match
 * cert_path; passphrase_file (NULL: none) decrypts it.  cert_path holds
 * the issuing certificate, then its intermediates if any; a roots.pem
 * in the same folder, when present, holds its anchors (two tiers) and
 * the chain must verify to them (ERR_INVALID_CHAIN), as ca_load_pem().
 * public_url (may be NULL or "") is used for the CRL DP
 * (<url>/v1/crl/<ski hex>) and AIA caIssuers (<url>/v1/ca.pem) of every
 * issued certificate.  The key's bytes never appear in an error
 * message.
 * Returns a new struct ca (free with ca_free()), or NULL.
 * Errors: ERR_IO (missing/unreadable, wrong mode or owner: message says
 * which), ERR_CRYPTO (does not parse, wrong passphrase, mismatch).
 */
struct ca *ca_load(const char *cert_path, const char *key_path,
	    const char *passphrase_file, const char *public_url,
	    struct err *e);

/*
 * A CA from strings, as stored in a `cas` row: cert_pem is the issuing
 * certificate followed by its intermediates (at most
 * RCA_MAX_PEM_BYTES); anchors_pem (NULL or "": none) the self-signed
 * roots it chains to.  Without anchors the issuing certificate is its
 * own anchor (one tier, or a CA imported before two tiers existed).
 * The chain must verify (any purpose, times not checked) from the
 * issuing certificate through the intermediates to an anchor, else
 * ERR_INVALID_CHAIN.  key_path (NULL: no key, verification and
 * bundles only; then ca_issue() and the CRL functions fail with
 * ERR_CRYPTO) is read and checked as by ca_load().  public_url as for
 * ca_load(); the CRL DP of issued certificates is
 * <public_url>/v1/crl/<ski hex>.
 * Returns a new struct ca (ca_free()), or NULL.
 * Errors: ERR_INVALID_CHAIN (roots not self-signed CAs, chain does not
 * verify, SKI over 64 bytes), ERR_IO and ERR_CRYPTO (not PEM, not a CA,
 * key mismatch) as ca_load().
 */
struct ca *ca_load_pem(const char *cert_pem, const char *anchors_pem,
	    const char *key_path, const char *passphrase_file,
	    const char *public_url, struct err *e);

/* Free a CA (the key is wiped by OpenSSL).  NULL is fine. */
void	ca_free(struct ca *ca);

/* The CA certificate as PEM / DER (borrowed: valid while ca lives). */
const char *ca_cert_pem(const struct ca *ca);
const unsigned char *ca_cert_der(const struct ca *ca, size_t *len);

/* notAfter of the CA certificate (epoch seconds). */
int64_t	ca_not_after(const struct ca *ca);

/* SHA-256 of the CA certificate's DER, lowercase hex (borrowed). */
const char *ca_fingerprint(const struct ca *ca);

/* Type of the CA key. */
enum key_type ca_key_type(const struct ca *ca);

/*
 * The CA certificate's subjectKeyIdentifier as lowercase hex (the
 * SHA-1 of its key when it has none), the name of its CRL
 * (/v1/crl/<ski>) and of its `cas` row (borrowed).
 */
const char *ca_ski_hex(const struct ca *ca);

/* SHA-256 hex of the canonical SPKI of the CA's key (borrowed). */
const char *ca_spki_sha256(const struct ca *ca);

/*
 * What a leaf's chain adds after the leaf (borrowed): the issuing
 * certificate and its intermediates as PEM, or "" when the issuing
 * certificate is itself an anchor (self-signed: SPEC 10, the chain
 * never holds the anchor).
 */
const char *ca_chain_pem(const struct ca *ca);

/* The CA's anchors as PEM (the cert itself when self-signed; borrowed). */
const char *ca_anchors_pem(const struct ca *ca);

/* True when the CA was loaded with its private key. */
bool	ca_has_key(const struct ca *ca);

/* notBefore of the CA certificate (epoch seconds). */
int64_t	ca_not_before(const struct ca *ca);

/*
 * The trust bundle of n CAs (SPEC 10): the anchors of each, in the
 * order given, deduplicated by SHA-256 fingerprint, as PEM (new,
 * free()); etag gets "\"" + the first 32 hex digits of SHA-256(bundle) +
 * "\"".  Errors: ERR_INVALID_REQUEST (n is 0), ERR_INTERNAL.
 */
char	*ca_bundle_pem(const struct ca *const *cas, size_t n,
	    char etag[RCA_ETAG_MAX], struct err *e);

/*
 * Leaf verification over several CAs (renewal during a rollover): the
 * anchors of every CA trusted, their issuing certificates and
 * intermediates untrusted.  Read-only after ca_trust_new(); any number
 * of threads may verify at once.  It holds references, not the CAs:
 * it stays valid after they are freed.
 */
struct ca_trust;
struct ca_cert;

/* A trust set of cas[0..n) (new; ca_trust_free()).  Errors: ERR_CRYPTO,
 * ERR_INVALID_REQUEST (n is 0). */
struct ca_trust *ca_trust_new(const struct ca *const *cas, size_t n,
	    struct err *e);

/* Free t; NULL is fine. */
void	ca_trust_free(struct ca_trust *t);

/*
 * ca_verify_cert() over every CA of t: the leaf (DER) must chain to an
 * anchor through the issuing certificate of one of the CAs given to
 * ca_trust_new(), whose index goes to *which (may be NULL), be valid at
 * now and carry clientAuth.  out as for ca_verify_cert().
 * Errors: ERR_UNAUTHORIZED (message says why; a leaf signed directly
 * by an anchor that is not one of the CAs is refused too),
 * ERR_INVALID_REQUEST.
 */
struct ca_cert;
int	ca_trust_verify_cert(const struct ca_trust *t,
	    const unsigned char *der, size_t len, int64_t now, int *which,
	    struct ca_cert *out, struct err *e);

/* ------------------------------------------------------------------ */
/* Certificate requests                                                */

struct ca_csr;

/*
 * Parse a PEM CSR (at most RCA_MAX_CSR_BYTES), verify its signature and
 * classify its key.  Names: CN from the subject (the last CN if several;
 * none is allowed), SANs (DNS, IP, URI) from the extension request; a CN
 * that is a DNS name (names_is_dns) or an IP is added to the SANs.
 * Returns a new request (ca_csr_free()), or NULL.
 * SPEC section 8: exactly one PEM block with only whitespace around it,
 * DER only, version 1, signature SHA-256/384/512 (ECDSA, RSA, RSA-PSS);
 * EC keys on P-256/P-384 by name, a point on the curve (compressed or
 * uncompressed; never infinity or hybrid); RSA keys of 2048/3072/4096
 * bits, odd modulus, exponent 65537, NULL parameters, nothing after the
 * RSAPublicKey.  The key is kept in canonical form (see
 * ca_csr_spki_sha256()).
 * Errors: ERR_INVALID_CSR (PEM, encoding, version, signature algorithm,
 * bad names, too many SANs), ERR_CSR_SIGNATURE, ERR_KEY_REJECTED (key
 * type, size, exponent, point, parameters; the message names it).
 */
struct ca_csr *ca_csr_parse(const char *pem, size_t len, struct err *e);

/*
 * Build a request for renewal with the same key: the public key and
 * names of a certificate issued by this CA (DER).  No signature to
 * check.  The key rules of ca_csr_parse() apply and the key is made
 * canonical.  Errors: ERR_INVALID_CSR, ERR_KEY_REJECTED.
 */
struct ca_csr *ca_csr_from_cert(const unsigned char *der, size_t len,
	    struct err *e);

/*
 * Generate a fresh key of type t and a CSR for names, signed by that
 * key (used by /v1/certificates/generate, node rotation, `enroll`, and
 * init).  *key_pem receives the private key as unencrypted PKCS#8 PEM
 * (new: the caller wipes it with fio_wipe() and frees it).
 * Errors: ERR_INVALID_REQUEST (bad names), ERR_CRYPTO.
 */
struct ca_csr *ca_keygen(enum key_type t, const struct names *names,
	    char **key_pem, struct err *e);

void	ca_csr_free(struct ca_csr *csr);

/* Names of the request (borrowed: valid while csr lives). */
const struct names *ca_csr_names(const struct ca_csr *csr);

/* Key type of the request's public key. */
enum key_type ca_csr_key_type(const struct ca_csr *csr);

/*
 * Lowercase hex SHA-256 of the request's canonical SubjectPublicKeyInfo
 * DER: exactly the bytes ca_issue() puts into the certificate (named
 * curve and uncompressed point; rsaEncryption, NULL parameters, minimal
 * integers), whatever form the request used.  Two requests for the same
 * key give the same value.  Returns 0, or -1 (out set to "") when csr
 * is NULL.
 */
int	ca_csr_spki_sha256(const struct ca_csr *csr,
	    char out[RCA_SHA256_HEX + 1]);

/* The request as PEM (new, free()).  Errors: ERR_CRYPTO. */
char	*ca_csr_pem(const struct ca_csr *csr, struct err *e);

/* ------------------------------------------------------------------ */
/* Issuance                                                            */

struct ca_issue_params {
	const struct profile	*profile;
	int64_t			 ttl;	  /* seconds requested; 0: default */
	int64_t			 ttl_cap; /* token max_cert_ttl; 0: none */
	int64_t			 now;	  /* epoch seconds; 0: time now */
};

/* An issued certificate. */
struct ca_cert {
	char		serial[RCA_SERIAL_HEX_MAX + 1];	/* lowercase hex */
	char		*pem;		/* owned */
	unsigned char	*der;		/* owned */
	size_t		der_len;
	int64_t		not_before;
	int64_t		not_after;
	char		fingerprint[RCA_SHA256_HEX + 1];
	enum key_type	key_type;
	struct names	names;		/* owned: CN and SANs as issued */
};

void	ca_cert_clear(struct ca_cert *c);

/*
 * The policy half of issuance, without signing: the key type is one of
 * the profile's key_types (ERR_KEY_REJECTED), require_san profiles have
 * a DNS or IP SAN (ERR_INVALID_CSR), ttl >= 0 (ERR_INVALID_TTL), ttl <=
 * profile max_ttl and <= ttl_cap (ERR_TTL_TOO_LONG).
 */
int	ca_policy_check(const struct ca_csr *csr,
	    const struct ca_issue_params *p, struct err *e);

/*
 * Issue a certificate for csr under p (ca_policy_check first), applying
 * every rule of SPEC section 5: subject CN only; extensions from the
 * profile only (basicConstraints critical CA:FALSE, keyUsage critical
 * digitalSignature (+keyEncipherment for RSA), EKU, SKI, AKI keyid, SAN,
 * CRL DP and AIA from public_url); 128-bit random positive serial;
 * notBefore = now - 60 s; notAfter = now + ttl cut at the CA's notAfter;
 * SHA-256 (SHA-384 with a P-384 CA key).  Safe to call from many threads.
 * Errors: those of ca_policy_check, ERR_CRYPTO.
 */
int	ca_issue(const struct ca *ca, const struct ca_csr *csr,
	    const struct ca_issue_params *p, struct ca_cert *out,
	    struct err *e);

/*
 * Verify a client certificate (DER) presented for renewal: it must
 * chain to this CA, be inside its validity at now, and carry the
 * clientAuth EKU.  On success fills out (serial, names, dates, key type,
 * fingerprint, pem, der).  On failure out is empty but for out->serial,
 * the presented certificate's serial when its DER parsed ("" otherwise),
 * so a refusal can be audited under it.  Revocation is the caller's
 * check (database).
 * Errors: ERR_UNAUTHORIZED (message says why), ERR_INVALID_REQUEST.
 */
int	ca_verify_cert(const struct ca *ca, const unsigned char *der,
	    size_t len, int64_t now, struct ca_cert *out, struct err *e);

/* ------------------------------------------------------------------ */
/* Key identity (keyCompromise: same-key certificates, blocked keys)    */

/*
 * The SHA-256 (lowercase hex) of the canonical SubjectPublicKeyInfo of
 * a certificate's public key: the key re-encoded by OpenSSL (i2d_PUBKEY,
 * EC points uncompressed), so two encodings of one key hash the same.
 * ca_cert_spki_sha256 takes one DER certificate, ca_pem_spki_sha256 the
 * first certificate of a PEM string.  For a request, ca_csr_spki_sha256()
 * gives the same value (the SPKI ca_issue() puts into the certificate).
 * Errors: ERR_INVALID_REQUEST (does not parse), ERR_CRYPTO.
 */
int	ca_cert_spki_sha256(const unsigned char *der, size_t len,
	    char out[RCA_SHA256_HEX + 1], struct err *e);
int	ca_pem_spki_sha256(const char *pem, char out[RCA_SHA256_HEX + 1],
	    struct err *e);

/*
 * Signature checks against the CA certificate (PEM) at cert_path, with
 * its public key only: is der (a DER CRL, len bytes) or pem (a PEM
 * certificate) signed by that CA?  0 when it is.  Used by `restore` to
 * refuse a snapshot of another CA.
 * Errors: ERR_INVALID_REQUEST (does not parse, or signed by another
 * key: the message says which), ERR_IO / ERR_NOT_FOUND (cert_path
 * unreadable), ERR_CRYPTO (cert_path is not a certificate).
 */
int	ca_crl_der_verify_file(const char *cert_path,
	    const unsigned char *der, size_t len, struct err *e);
int	ca_cert_pem_verify_file(const char *cert_path, const char *pem,
	    struct err *e);

/* ------------------------------------------------------------------ */
/* CRL                                                                 */

struct ca_crl_entry {
	char	serial[RCA_SERIAL_HEX_MAX + 1];	/* lowercase hex */
	int64_t	revoked_at;
	int	reason;		/* RFC 5280 code (enum revoke_reason) */
};

/*
 * Build and sign a v2 CRL: CRL number, thisUpdate, nextUpdate, AKI, and
 * per entry the revocation date and a reason code extension; a
 * ca_crl_set made for this one CRL (a serial listed twice: the first
 * wins), then ca_crl_set_sign().  *der is new (free()).
 * Errors: ERR_INVALID_REQUEST (bad serial or reason, next_update not
 * after this_update), ERR_CRYPTO, ERR_INTERNAL.
 */
int	ca_crl_build(const struct ca *ca, const struct ca_crl_entry *entries,
	    size_t n, uint64_t number, int64_t this_update,
	    int64_t next_update, unsigned char **der, size_t *der_len,
	    struct err *e);

/*
 * DER CRL to PEM ("X509 CRL", 64-column base64), written straight from
 * the DER after a check of its outer structure (the bytes are not
 * parsed again); new string, free().  Errors: ERR_CRYPTO.
 */
char	*ca_crl_pem(const unsigned char *der, size_t len, struct err *e);

/*
 * The revoked entries of one CA's CRL, kept sorted (as OpenSSL's
 * X509_CRL_sort() sorts them) and already DER-encoded, so a new CRL
 * costs its new entries and one signature, not the whole list again.
 * One owner at a time (not thread-safe); ca_crl_set_sign() only reads
 * it.
 */
struct ca_crl_set;

/* An empty set (new; ca_crl_set_free()).  Errors: ERR_INTERNAL. */
struct ca_crl_set *ca_crl_set_new(struct err *e);

/* Free set; NULL is fine. */
void	ca_crl_set_free(struct ca_crl_set *set);

/*
 * Insert n entries (entries may be NULL when n is 0).  A serial already
 * present is kept as it is (within one batch, the first one wins).
 * Errors: ERR_INVALID_REQUEST (bad serial/reason), ERR_CRYPTO,
 * ERR_INTERNAL (memory).  On failure the set is unchanged.
 */
int	ca_crl_set_add(struct ca_crl_set *set,
	    const struct ca_crl_entry *entries, size_t n, struct err *e);

/*
 * Drop the entry of serial (hex, as in struct ca_crl_entry) if present
 * (its certificate expired).  Returns 1 when dropped, 0 when absent
 * (or not a serial).
 */
int	ca_crl_set_remove(struct ca_crl_set *set, const char *serial);

/* The number of entries in set. */
size_t	ca_crl_set_count(const struct ca_crl_set *set);

/*
 * Sign a CRL listing exactly the set's entries: the same DER, byte for
 * byte, as ca_crl_build() over the same entries, number and times
 * (ECDSA signatures are randomised: everything but the signature value
 * is equal).  *der is new (free()).  Errors: ERR_INVALID_REQUEST
 * (next_update not after this_update), ERR_CRYPTO, ERR_INTERNAL.
 * Thread-safe with respect to ca (like ca_crl_build); set is only read.
 */
int	ca_crl_set_sign(const struct ca *ca, const struct ca_crl_set *set,
	    uint64_t number, int64_t this_update, int64_t next_update,
	    unsigned char **der, size_t *der_len, struct err *e);

/* ------------------------------------------------------------------ */
/* Token name patterns (SPEC section 6)                                */

/*
 * A pattern is an exact name, a DNS name with one '*' inside one label
 * ("app-*", "*.svc.internal": matches "a.svc.internal", not
 * "a.b.svc.internal"; '*' matches one or more characters, never a
 * dot), an IP address or a CIDR ("10.0.0.0/8", "fd00::/8").
 * Errors: ERR_INVALID_REQUEST naming the pattern.
 */
int	ca_pattern_valid(const char *pattern, struct err *e);

/* True when name matches pattern (DNS case-insensitively). */
bool	ca_pattern_match(const char *pattern, const char *name);

/*
 * Every name in names (the CN and every SAN) must match one of the
 * patterns.  Errors: ERR_NAME_NOT_ALLOWED naming the first refused name.
 */
int	ca_names_allowed(char *const *patterns, size_t npatterns,
	    const struct names *names, struct err *e);

/* ------------------------------------------------------------------ */
/* Small primitives                                                    */

/* n bytes from the CSPRNG.  Errors: ERR_CRYPTO. */
int	ca_random(void *buf, size_t n, struct err *e);

/* SHA-256 of n bytes of data into out. */
void	ca_sha256(const void *data, size_t n, unsigned char out[32]);

/* Constant-time comparison of n bytes; true when equal. */
bool	ca_ct_equal(const void *a, const void *b, size_t n);

/*
 * What the first certificate of a PEM string says of itself (serial,
 * names, dates, key type, fingerprint, pem, der), without verifying it
 * against anything: for our own files the database does not know.
 * out is filled like ca_verify_cert's (ca_cert_clear()).
 * Errors: ERR_INVALID_REQUEST (not a certificate, names or key refused).
 */
int	ca_pem_cert_read(const char *pem, struct ca_cert *out, struct err *e);

/* SHA-256 fingerprint (hex) of the first certificate in a PEM string. */
int	ca_pem_fingerprint(const char *pem,
	    char out[RCA_SHA256_HEX + 1], struct err *e);

#endif
