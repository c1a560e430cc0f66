/*
 * The reference CSR checker, used only by tests: d2i_X509_REQ +
 * X509_REQ_verify + the rules of SPEC section 8 written a second time,
 * with OpenSSL's own decoders and re-encoders where ca/csr.c has its
 * own code.  tests/fuzz/fuzz_csr.c proves ca_csr_parse() agrees with it.
 */
#ifndef RCA_TESTS_FUZZ_CSR_REF_H
#define RCA_TESTS_FUZZ_CSR_REF_H

#include <stddef.h>

#include "ca.h"

struct csr_ref {
	enum err_code	code;		/* ERR_OK: accepted */
	char		msg[ERR_MSG_MAX];
	enum key_type	key_type;	/* when accepted */
	/* SHA-256 (hex) of the canonical SPKI, when accepted. */
	char		spki_sha256[RCA_SHA256_HEX + 1];
	struct names	names;		/* when accepted */
};

/* Check pem (len bytes) into out; clear out with csr_ref_clear(). */
void	csr_ref_check(const char *pem, size_t len, struct csr_ref *out);
void	csr_ref_clear(struct csr_ref *r);

#endif
