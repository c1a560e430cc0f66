/*
 * Vocabulary shared by every module: key types, EKUs, profiles,
 * revocation reasons.  Plain data, no library types.
 */
#ifndef RCA_TYPES_H
#define RCA_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "rca_limits.h"

enum key_type {
	KEY_EC_P256,	/* "ec-p256" (CA default) */
	KEY_EC_P384,	/* "ec-p384" */
	KEY_RSA_2048,	/* "rsa-2048" (leaves only) */
	KEY_RSA_3072,	/* "rsa-3072" */
	KEY_RSA_4096,	/* "rsa-4096" */
	KEY__MAX
};

#define KEY_BIT(t)	(1u << (t))

/* "ec-p256" etc.; "unknown" for out-of-range values. */
const char *key_type_name(enum key_type t);

/* Parse a key type name.  Returns 0, or -1 if unknown. */
int	key_type_parse(const char *s, enum key_type *out);

/* Extended key usages a profile may grant (bit set). */
#define EKU_SERVER_AUTH	0x1u	/* "serverAuth" */
#define EKU_CLIENT_AUTH	0x2u	/* "clientAuth" */

/* Parse "serverAuth"/"clientAuth" into its bit; 0 when unknown. */
unsigned eku_parse(const char *s);

/* An issuance profile, as configured (SPEC section 4). */
struct profile {
	char		name[RCA_MAX_PROFILE_NAME + 1];
	unsigned	eku;		/* EKU_* bits */
	bool		require_san;	/* need >= 1 DNS or IP SAN */
	int64_t		default_ttl;	/* seconds */
	int64_t		max_ttl;	/* seconds */
	unsigned	key_types;	/* KEY_BIT() set */
};

/* RFC 5280 CRLReason codes we accept on revoke. */
enum revoke_reason {
	REASON_UNSPECIFIED = 0,
	REASON_KEY_COMPROMISE = 1,
	REASON_AFFILIATION_CHANGED = 3,
	REASON_SUPERSEDED = 4,
	REASON_CESSATION_OF_OPERATION = 5,
	REASON_PRIVILEGE_WITHDRAWN = 9,
};

/*
 * An RFC 5280 CRLReason code (0..10, 7 is unassigned): what a CRL entry
 * and a stored revocation may carry.
 */
bool	reason_code_valid(int code);

/* "keyCompromise" etc.; NULL for codes we do not use. */
const char *reason_name(int code);

/* Parse a reason name.  Returns 0, or -1 if unknown. */
int	reason_parse(const char *s, int *out);

#endif
