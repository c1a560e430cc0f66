/*
 * Private to ca/: what crl.c and crlset.c share (nothing outside ca/
 * includes this header).
 */
#ifndef RCA_CRL_PRIV_H
#define RCA_CRL_PRIV_H

#include "ca_priv.h"

/*
 * Check en's serial and reason code; the serial normalised (lowercase,
 * no leading zeros) into hex.  Errors: ERR_INVALID_REQUEST.
 */
int	ca_crl_entry_check(const struct ca_crl_entry *en,
	    char hex[RCA_SERIAL_HEX_MAX + 1], struct err *e);

/*
 * One CRL entry: serial, revocation date and reason code extension
 * (new, X509_REVOKED_free()).  Errors: ERR_INVALID_REQUEST (bad serial
 * or reason), ERR_CRYPTO.
 */
X509_REVOKED *ca_crl_entry_new(const struct ca_crl_entry *en,
	    struct err *e);

#endif
