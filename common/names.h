/*
 * The names a certificate carries: a common name and DNS, IP and URI
 * SANs.  Shared by ca/ (CSR parsing, signing), db/ (storage) and the
 * service; each list is bounded by RCA_MAX_SANS and free of duplicates.
 */
#ifndef RCA_NAMES_H
#define RCA_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

enum name_kind {
	NAME_DNS,	/* dNSName */
	NAME_IP,	/* iPAddress, in canonical text form */
	NAME_URI,	/* uniformResourceIdentifier */
	NAME__MAX
};

struct names {
	char	*cn;			/* owned; NULL when none */
	char	**list[NAME__MAX];	/* owned arrays of owned strings */
	size_t	n[NAME__MAX];
};

#define NAMES_INIT { NULL, { NULL, NULL, NULL }, { 0, 0, 0 } }

/* Free everything n owns and leave it empty.  n may be NULL. */
void	names_clear(struct names *n);

/* Set (replace) the common name.  Errors: ERR_INVALID_REQUEST (too long). */
int	names_set_cn(struct names *n, const char *cn, struct err *e);

/*
 * Append v to list k unless it is already there (DNS names compare
 * case-insensitively).  IPs are stored in canonical form (inet_ntop of
 * inet_pton).  Errors: ERR_INVALID_REQUEST (bad IP, empty, too long,
 * more than RCA_MAX_SANS, control characters).
 */
int	names_add(struct names *n, enum name_kind k, const char *v,
	    struct err *e);

/* Deep copy src into dst (dst must be empty).  Errors: ERR_INTERNAL. */
int	names_copy(struct names *dst, const struct names *src, struct err *e);

/* True when both have the same CN and the same sets of SANs. */
bool	names_equal(const struct names *a, const struct names *b);

/* Total number of SANs. */
size_t	names_count(const struct names *n);

/* True when s parses as an IPv4 or IPv6 address. */
bool	names_is_ip(const char *s);

/* True when s is a syntactically valid DNS name (wildcard label allowed). */
bool	names_is_dns(const char *s);

/* True when s holds a control character (below 0x20, or 0x7f). */
bool	names_has_ctl(const char *s);

/*
 * Join list k with '\n' into a new string (free()); "" when empty.
 * Returns NULL only when out of memory.
 */
char	*names_join(const struct names *n, enum name_kind k);

/*
 * Split a '\n'-joined string (as names_join makes) into list k.
 * Errors: as names_add.
 */
int	names_split(struct names *n, enum name_kind k, const char *joined,
	    struct err *e);

#endif
