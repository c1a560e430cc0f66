/* tests/ca: the reference CRL builder (OpenSSL's X509_CRL). */
#ifndef RCA_TEST_CRL_REF_H
#define RCA_TEST_CRL_REF_H

#include "ca.h"

/*
 * A v2 CRL over entries (in any order; sorted here as X509_CRL_sort()
 * does): CRL number, thisUpdate, nextUpdate, AKI, a reason code on
 * every entry, signed with ca's key (which it must hold; next_update
 * after this_update).  As ca_crl_build(), but every byte from OpenSSL.
 * *der is new (free()).
 */
int	crl_ref_build(const struct ca *ca,
	    const struct ca_crl_entry *entries, size_t n, uint64_t number,
	    int64_t this_update, int64_t next_update, unsigned char **der,
	    size_t *der_len, struct err *e);

#endif
