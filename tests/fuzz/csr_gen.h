/*
 * Valid and hostile certificate requests built byte by byte with
 * OpenSSL, for tests/ca/test_csr.c and the seed corpus of the CSR fuzz
 * harness (tests/fuzz/gen_csr_corpus.c).  Every hostile case of SPEC
 * section 8 is here, with the answer ca_csr_parse() must give.
 */
#ifndef RCA_TESTS_FUZZ_CSR_GEN_H
#define RCA_TESTS_FUZZ_CSR_GEN_H

#include <stddef.h>

#include <openssl/evp.h>

#include "err.h"

enum cg_kind {
	/* Valid. */
	CG_P256,		/* uncompressed point, ECDSA-SHA256 */
	CG_P256_COMPRESSED,	/* compressed point (02/03) */
	CG_P384,		/* ECDSA-SHA384 */
	CG_P256_SHA512,
	CG_RSA2048,
	CG_RSA3072,
	CG_RSA4096,
	CG_RSA_PSS,		/* RSASSA-PSS, SHA-256, MGF1 SHA-256 */
	CG_OLD_LABEL,		/* "NEW CERTIFICATE REQUEST" */
	CG_CRLF,		/* CRLF line ends, blank lines around */
	/* Keys: 422 key_rejected. */
	CG_EC_INFINITY,		/* point 00, signature forged */
	CG_EC_HYBRID,		/* point 06/07 */
	CG_EC_EXPLICIT,		/* explicit curve parameters */
	CG_EC_OFF_CURVE,	/* y + 1 */
	CG_EC_P521,
	CG_RSA_E1,		/* e = 1, signature forged */
	CG_RSA_E3,
	CG_RSA_EVEN,		/* even modulus */
	CG_RSA_PARAMS_OCTET,	/* parameters an OCTET STRING */
	CG_RSA_PARAMS_ABSENT,
	CG_RSA_TRAILING,	/* bytes after the RSAPublicKey */
	CG_RSA_INT_PADDED,	/* e as 00 01 00 01 */
	CG_RSA_1024,
	/* Encoding, version, algorithm: 400 invalid_csr. */
	CG_MD5,			/* md5WithRSAEncryption */
	CG_SHA1,		/* ecdsa-with-SHA1 */
	CG_SHA224,		/* ecdsa-with-SHA224 */
	CG_PSS_SHA1,		/* RSASSA-PSS with SHA-1 */
	CG_VERSION5,
	CG_BER_LENGTH,		/* long-form length in the signed part */
	CG_BER_INDEFINITE,	/* indefinite outer length */
	CG_BER_SIG_LENGTH,	/* long-form length outside it */
	CG_TWO_PEM,		/* a second PEM block after it */
	CG_TRAILING_TEXT,
	CG_LEADING_TEXT,
	CG_PEM_HEADER,		/* Proc-Type header inside the block */
	CG_WRONG_LABEL,		/* BEGIN CERTIFICATE */
	/* 400 csr_signature_invalid. */
	CG_BAD_SIGNATURE,
	CG__MAX
};

struct cg_case {
	const char	*name;	/* file name stem: "key-ec-infinity" */
	enum err_code	 want;	/* ERR_OK: accepted */
};

extern const struct cg_case cg_cases[CG__MAX];

/*
 * Build case k: a PEM string (new, free()).  Keys are generated per
 * call; the RSA cases take a second or two.  NULL on failure (printed).
 */
char	*cg_pem(enum cg_kind k);

/*
 * The fixed P-256 key of the fuzz harness's signing mode (private
 * scalar from a constant; new).  NULL on failure.
 */
EVP_PKEY *cg_fixed_key(void);

/*
 * A CSR (new DER in *out, free()) made of the CertificationRequestInfo
 * tbs signed with key by ECDSA-SHA256.  Returns 0 / -1.
 */
int	cg_sign_tbs(EVP_PKEY *key, const unsigned char *tbs, size_t n,
	    unsigned char **out, size_t *outlen);

/*
 * Seed number i (0 <= i < CG_TBS_SEEDS) of the signing mode: a
 * CertificationRequestInfo for cg_fixed_key() with varied names (new
 * DER, free()).  NULL on failure.
 */
#define CG_TBS_SEEDS	6
unsigned char *cg_tbs_seed(int i, size_t *len);

#endif
