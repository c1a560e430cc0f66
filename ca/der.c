/*
 * Strict DER: the generic walker that refuses BER anywhere in a request
 * (SPEC section 8), and the header helpers for an RSAPublicKey.
 */
#include <string.h>

#include "ca_priv.h"

/* DER SET OF order, as OpenSSL sorts it: bytes first, then length. */
static int
der_cmp(const unsigned char *a, size_t alen, const unsigned char *b,
    size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* The content rules of DER for one primitive universal type. */
static bool
der_prim_ok(unsigned long tag, const unsigned char *c, size_t n)
{
	switch (tag) {
	case V_ASN1_BOOLEAN:
		return n == 1 && (c[0] == 0x00 || c[0] == 0xff);
	case V_ASN1_INTEGER:
	case V_ASN1_ENUMERATED:
		if (n == 0)
			return false;
		/* Minimal: no redundant leading 00 or ff octet. */
		return n == 1 || !((c[0] == 0x00 && (c[1] & 0x80) == 0) ||
		    (c[0] == 0xff && (c[1] & 0x80) != 0));
	case V_ASN1_BIT_STRING:
		if (n == 0 || c[0] > 7 || (n == 1 && c[0] != 0))
			return false;
		/* The unused bits of the last octet are zero. */
		return (c[n - 1] & ((1u << c[0]) - 1)) == 0;
	case V_ASN1_NULL:
		return n == 0;
	case V_ASN1_OBJECT:
		if (n == 0 || (c[n - 1] & 0x80) != 0)
			return false;
		/* Each sub-identifier is minimal (no leading 0x80). */
		for (size_t i = 0; i < n; i++)
			if (c[i] == 0x80 && (i == 0 || (c[i - 1] & 0x80) == 0))
				return false;
		return true;
	case V_ASN1_BMPSTRING:
		return n % 2 == 0;
	case V_ASN1_UNIVERSALSTRING:
		return n % 4 == 0;
	default:
		return true;
	}
}

/*
 * True when p..p+len is a run of TLVs in DER: definite and minimal
 * lengths and tags, strings primitive, the content rules above, SET OF
 * sorted (SETs and every constructed non-universal tag: in a request
 * those are the IMPLICIT SET OF attributes and EXPLICIT wrappers of one
 * element).  Generic, so BER hidden anywhere (also inside attribute
 * values that OpenSSL keeps as raw bytes) is refused.
 */
static bool
der_strict(const unsigned char *p, size_t len, bool set_of, int depth)
{
	const unsigned char *prev = NULL;
	size_t prevlen = 0;

	if (depth > RCA_DER_MAX_DEPTH)
		return false;
	while (len > 0) {
		unsigned long tag = p[0] & 0x1f;
		bool cons = (p[0] & 0x20) != 0;
		int cls = p[0] >> 6;
		size_t h = 1, clen = 0, n;

		if (tag == 0x1f) {
			tag = 0;
			if (h >= len || p[h] == 0x80)
				return false;
			do {
				if (h >= len || tag > (1ul << 24))
					return false;
				tag = (tag << 7) | (p[h] & 0x7f);
			} while ((p[h++] & 0x80) != 0);
			if (tag < 0x1f)
				return false;
		}
		if (h >= len)
			return false;
		if (p[h] < 0x80) {
			clen = p[h++];
		} else {
			n = p[h++] & 0x7f;
			/* Indefinite (n == 0) is BER; leading zeros too. */
			if (n == 0 || n > 4 || n > len - h || p[h] == 0)
				return false;
			while (n-- > 0)
				clen = (clen << 8) | p[h++];
			if (clen < 0x80)
				return false;
		}
		if (clen > len - h)
			return false;
		if (cls == V_ASN1_UNIVERSAL >> 6) {
			if (tag == 0 || tag >= 0x1f)
				return false;
			if (tag == V_ASN1_SEQUENCE || tag == V_ASN1_SET) {
				if (!cons || !der_strict(p + h, clen,
				    tag == V_ASN1_SET, depth + 1))
					return false;
			} else if (cons || !der_prim_ok(tag, p + h, clen))
				return false;
		} else if (cons && !der_strict(p + h, clen, true, depth + 1))
			return false;
		if (set_of && prev != NULL &&
		    der_cmp(prev, prevlen, p, h + clen) > 0)
			return false;
		prev = p;
		prevlen = h + clen;
		p += prevlen;
		len -= prevlen;
	}
	return true;
}

bool
ca_der_strict(const unsigned char *der, size_t len)
{
	return der_strict(der, len, false, 0);
}

/* A DER header for tag and len at out; returns its length. */
size_t
ca_der_put_head(unsigned char *out, unsigned char tag, size_t len)
{
	size_t n = 0, h = 0;

	out[h++] = tag;
	if (len < 0x80) {
		out[h++] = (unsigned char)len;
		return h;
	}
	for (size_t l = len; l > 0; l >>= 8)
		n++;
	out[h++] = (unsigned char)(0x80 | n);
	while (n-- > 0)
		out[h++] = (unsigned char)(len >> (8 * n));
	return h;
}

/* The length of the DER header of a content of len octets. */
size_t
ca_der_head_len(size_t len)
{
	size_t n = 2;

	if (len >= 0x80)
		for (size_t l = len; l > 0; l >>= 8)
			n++;
	return n;
}

/*
 * Read one DER header of tag at *p (at most len bytes) and move *p to
 * its content.  Returns the content length, or -1.
 */
long
ca_der_get(const unsigned char **p, size_t len, unsigned char tag)
{
	const unsigned char *q = *p;
	size_t clen = 0, n;

	if (len < 2 || q[0] != tag)
		return -1;
	if (q[1] < 0x80) {
		clen = q[1];
		q += 2;
	} else {
		n = q[1] & 0x7f;
		if (n == 0 || n > 3 || n > len - 2 || q[2] == 0)
			return -1;
		q += 2;
		for (size_t i = 0; i < n; i++)
			clen = (clen << 8) | *q++;
		if (clen < 0x80)
			return -1;
	}
	if (clen > len - (size_t)(q - *p))
		return -1;
	*p = q;
	return (long)clen;
}

/* A positive, minimal DER INTEGER's content without its sign octet. */
bool
ca_der_uint(const unsigned char *c, long n, const unsigned char **mag,
    size_t *maglen)
{
	if (n <= 0 || (c[0] & 0x80) != 0)
		return false;
	if (n > 1 && c[0] == 0x00 && (c[1] & 0x80) == 0)
		return false;
	if (c[0] == 0x00 && n > 1) {
		c++;
		n--;
	}
	*mag = c;
	*maglen = (size_t)n;
	return true;
}
