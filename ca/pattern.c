/*
 * Token name patterns (SPEC section 6): exact names, one '*' inside one
 * DNS label, IP addresses and CIDR blocks.  URI SANs only ever match an
 * exact pattern.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ca.h"

/* A parsed address: family AF_INET/AF_INET6 and its bytes. */
struct addr {
	int		family;
	unsigned char	b[16];
};

static bool
addr_parse(const char *s, struct addr *a)
{
	if (inet_pton(AF_INET, s, a->b) == 1) {
		a->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, a->b) == 1) {
		a->family = AF_INET6;
		return true;
	}
	return false;
}

/*
 * Split "addr/len" into *a and *bits.  Returns 1 for a valid CIDR, 0
 * when s has no '/', -1 for an address with a bad prefix length, -2
 * when what precedes the '/' is not an address.
 */
static int
cidr_parse(const char *s, struct addr *a, int *bits)
{
	char buf[64];
	const char *slash = strchr(s, '/'), *p;
	size_t l;
	int v = 0, max;

	if (slash == NULL)
		return 0;
	l = (size_t)(slash - s);
	if (l == 0 || l >= sizeof(buf))
		return -2;
	memcpy(buf, s, l);
	buf[l] = '\0';
	if (!addr_parse(buf, a))
		return -2;
	max = a->family == AF_INET ? 32 : 128;
	p = slash + 1;
	if (*p == '\0' || strlen(p) > 3)
		return -1;
	for (; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (v > max)
		return -1;
	*bits = v;
	return 1;
}

/* "scheme:" at the start of s (RFC 3986 scheme syntax). */
static bool
has_scheme(const char *s)
{
	if (!isalpha((unsigned char)*s))
		return false;
	for (s++; *s != '\0' && *s != ':'; s++)
		if (!isalnum((unsigned char)*s) && *s != '+' && *s != '-' &&
		    *s != '.')
			return false;
	return *s == ':';
}

/* A wildcard pattern is a DNS name once its '*' stands for a letter. */
static bool
wildcard_valid(const char *p)
{
	char buf[RCA_MAX_NAME_LEN + 1];
	const char *star = strchr(p, '*');
	size_t l = strlen(p);

	if (star == NULL || strchr(star + 1, '*') != NULL ||
	    l > RCA_MAX_NAME_LEN)
		return false;
	memcpy(buf, p, l + 1);
	buf[star - p] = 'a';
	return names_is_dns(buf);
}

int
ca_pattern_valid(const char *pattern, struct err *e)
{
	struct addr a;
	size_t l;
	int bits;

	if (pattern == NULL || (l = strlen(pattern)) == 0 ||
	    l > RCA_MAX_URI_LEN)
		goto bad;
	/* A CN may hold spaces, but not at either end. */
	if (pattern[0] == ' ' || pattern[l - 1] == ' ')
		goto bad;
	for (const char *c = pattern; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			goto bad;
	if (strchr(pattern, '*') != NULL) {
		if (wildcard_valid(pattern))
			return 0;
		goto bad;
	}
	switch (cidr_parse(pattern, &a, &bits)) {
	case 1:
		return 0;
	case -1:
		goto bad;
	case -2:
		/* A URI has slashes too; anything else is a bad CIDR. */
		if (has_scheme(pattern))
			return 0;
		goto bad;
	default:
		break;
	}
	/* Exact names: DNS, IP, URI, or any other printable CN. */
	return 0;
bad:
	err_set(e, ERR_INVALID_REQUEST, "invalid name pattern: %.64s",
	    pattern != NULL ? pattern : "");
	return -1;
}

/* Does name match the wildcard pattern p ('*' = 1+ chars, no dot)? */
static bool
wildcard_match(const char *p, const char *name)
{
	const char *star = strchr(p, '*');
	size_t pre = (size_t)(star - p), suf = strlen(star + 1);
	size_t nl = strlen(name);

	if (!names_is_dns(name) || nl < pre + suf + 1)
		return false;
	if (strncasecmp(p, name, pre) != 0 ||
	    strcasecmp(star + 1, name + nl - suf) != 0)
		return false;
	for (size_t i = pre; i < nl - suf; i++)
		if (name[i] == '.' || name[i] == '*')
			return false;
	return true;
}

static bool
cidr_match(const struct addr *net, int bits, const struct addr *a)
{
	int full = bits / 8, rest = bits % 8;

	if (net->family != a->family)
		return false;
	if (memcmp(net->b, a->b, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((net->b[full] ^ a->b[full]) &
	    (unsigned char)(0xff << (8 - rest))) == 0;
}

bool
ca_pattern_match(const char *pattern, const char *name)
{
	struct addr net, a, pa;
	int bits;

	if (pattern == NULL || name == NULL || name[0] == '\0' ||
	    ca_pattern_valid(pattern, NULL) == -1)
		return false;
	if (strchr(pattern, '*') != NULL)
		return wildcard_match(pattern, name);
	if (cidr_parse(pattern, &net, &bits) == 1)
		return addr_parse(name, &a) && cidr_match(&net, bits, &a);
	if (addr_parse(pattern, &pa))
		return addr_parse(name, &a) && a.family == pa.family &&
		    memcmp(a.b, pa.b, a.family == AF_INET ? 4 : 16) == 0;
	if (names_is_dns(pattern))
		return strcasecmp(pattern, name) == 0;
	return strcmp(pattern, name) == 0;
}

/* One name against the patterns; URIs only against exact patterns. */
static bool
allowed(char *const *patterns, size_t np, const char *name, bool uri)
{
	for (size_t i = 0; i < np; i++) {
		if (uri ? strcmp(patterns[i], name) == 0 :
		    ca_pattern_match(patterns[i], name))
			return true;
	}
	return false;
}

int
ca_names_allowed(char *const *patterns, size_t npatterns,
    const struct names *names, struct err *e)
{
	if (names->cn != NULL &&
	    !allowed(patterns, npatterns, names->cn, false)) {
		err_set(e, ERR_NAME_NOT_ALLOWED, "name not allowed: %.200s",
		    names->cn);
		return -1;
	}
	for (int k = 0; k < NAME__MAX; k++)
		for (size_t i = 0; i < names->n[k]; i++)
			if (!allowed(patterns, npatterns, names->list[k][i],
			    k == NAME_URI)) {
				err_set(e, ERR_NAME_NOT_ALLOWED,
				    "name not allowed: %.200s",
				    names->list[k][i]);
				return -1;
			}
	return 0;
}
