/* Lowercase hex encoding and serial normalisation. */
#ifndef RCA_HEX_H
#define RCA_HEX_H

#include <stddef.h>

#include "err.h"

/* Encode n bytes of in as lowercase hex into out (2n+1 bytes). */
void	hex_encode(const unsigned char *in, size_t n, char *out);

/*
 * Normalise a serial given by a client: hex digits of any case, no
 * separators, at most RCA_SERIAL_HEX_MAX digits; leading zeros are
 * dropped (but "0" stays).  Writes lowercase into out (RCA_SERIAL_HEX_MAX
 * + 1 bytes).  Errors: ERR_INVALID_SERIAL.
 */
int	hex_serial_normalize(const char *in, char *out, struct err *e);

#endif
