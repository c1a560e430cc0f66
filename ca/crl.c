/*
 * Certificate revocation lists: the entries (serial, date and a reason
 * code on every one) that crlset.c keeps and signs, and a CRL's PEM.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crl_priv.h"

#include <openssl/bn.h>
#include <openssl/err.h>

#include "hex.h"
#include "log.h"

/* RFC 5280 CRLReason values (7 is unused). */
static bool
reason_ok(int r)
{
	return r >= 0 && r <= 10 && r != 7;
}

/* The ASN1_INTEGER of a serial in hex (new), or NULL. */
static ASN1_INTEGER *
serial_from_hex(const char *hex)
{
	ASN1_INTEGER *ai = NULL;
	BIGNUM *bn = NULL;

	if (BN_hex2bn(&bn, hex) != 0)
		ai = BN_to_ASN1_INTEGER(bn, NULL);
	BN_free(bn);
	return ai;
}

/* Set rev's serial (hex), date and reason code.  Returns 0 / -1. */
static int
entry_fill(X509_REVOKED *rev, const char *hex, int64_t revoked_at,
    int reason_code)
{
	ASN1_INTEGER *serial = NULL;
	ASN1_ENUMERATED *reason = NULL;
	ASN1_TIME *when = NULL;
	bool ok;

	ok = (serial = serial_from_hex(hex)) != NULL &&
	    (when = ASN1_TIME_set(NULL, (time_t)revoked_at)) != NULL &&
	    (reason = ASN1_ENUMERATED_new()) != NULL &&
	    ASN1_ENUMERATED_set(reason, reason_code) == 1 &&
	    X509_REVOKED_set_serialNumber(rev, serial) == 1 &&
	    X509_REVOKED_set_revocationDate(rev, when) == 1 &&
	    X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0, 0) == 1;
	ASN1_ENUMERATED_free(reason);
	ASN1_TIME_free(when);
	ASN1_INTEGER_free(serial);
	return ok ? 0 : -1;
}

int
ca_crl_entry_check(const struct ca_crl_entry *en,
    char hex[RCA_SERIAL_HEX_MAX + 1], struct err *e)
{
	if (hex_serial_normalize(en->serial, hex, e) == -1) {
		if (e != NULL)
			e->code = ERR_INVALID_REQUEST;
		return -1;
	}
	if (!reason_ok(en->reason)) {
		err_set(e, ERR_INVALID_REQUEST, "invalid reason code %d",
		    en->reason);
		return -1;
	}
	return 0;
}

X509_REVOKED *
ca_crl_entry_new(const struct ca_crl_entry *en, struct err *e)
{
	char hex[RCA_SERIAL_HEX_MAX + 1];
	X509_REVOKED *rev;

	if (ca_crl_entry_check(en, hex, e) == -1)
		return NULL;
	if ((rev = X509_REVOKED_new()) == NULL ||
	    entry_fill(rev, hex, en->revoked_at, en->reason) == -1) {
		ca_ssl_fail("building a CRL entry", ERR_CRYPTO,
		    "cannot build the CRL", e);
		X509_REVOKED_free(rev);
		return NULL;
	}
	return rev;
}

/*
 * Read a DER header of tag at *p, before end (lengths up to four
 * octets); move *p to the content and set *clen.  False if not.
 */
static bool
tlv(const unsigned char **p, const unsigned char *end, unsigned char tag,
    size_t *clen)
{
	const unsigned char *q = *p;
	size_t n, l = 0;

	if (end - q < 2 || q[0] != tag)
		return false;
	if (q[1] < 0x80) {
		l = q[1];
		q += 2;
	} else {
		n = q[1] & 0x7f;
		if (n == 0 || n > 4 || (size_t)(end - q) - 2 < n || q[2] == 0)
			return false;
		for (q += 2; n > 0; n--)
			l = l << 8 | *q++;
		if (l < 0x80)
			return false;
	}
	if ((size_t)(end - q) < l)
		return false;
	*p = q;
	*clen = l;
	return true;
}

/*
 * True when der has the outer shape of a v2 CRL, exactly len bytes:
 * SEQUENCE { SEQUENCE { INTEGER version, SEQUENCE signature, ... },
 * SEQUENCE signatureAlgorithm, BIT STRING }.  The content is not
 * parsed: ca_crl_pem() gets DER this module made.
 */
static bool
crl_shape(const unsigned char *der, size_t len)
{
	const unsigned char *p = der, *end = der + len, *tend;
	size_t l;

	if (!tlv(&p, end, 0x30, &l) || p + l != end ||
	    !tlv(&p, end, 0x30, &l))
		return false;
	tend = p + l;
	if (!tlv(&p, tend, 0x02, &l))
		return false;
	p += l;
	if (!tlv(&p, tend, 0x30, &l))
		return false;
	p = tend;
	if (!tlv(&p, end, 0x30, &l))
		return false;
	p += l;
	return tlv(&p, end, 0x03, &l) && p + l == end;
}

char *
ca_crl_pem(const unsigned char *der, size_t len, struct err *e)
{
	char *pem;

	if (der == NULL || len == 0 || !crl_shape(der, len)) {
		err_set(e, ERR_CRYPTO, "not a DER CRL");
		return NULL;
	}
	if ((pem = ca_pem_encode("X509 CRL", der, len)) == NULL)
		err_set(e, ERR_CRYPTO, "out of memory");
	return pem;
}
