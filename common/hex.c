/* Hex helpers. */
#include <ctype.h>
#include <string.h>

#include "hex.h"
#include "rca_limits.h"

void
hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

int
hex_serial_normalize(const char *in, char *out, struct err *e)
{
	size_t n, i, j = 0;

	if (in == NULL || (n = strlen(in)) == 0 || n > RCA_SERIAL_HEX_MAX)
		goto bad;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)in[i]))
			goto bad;
	for (i = 0; i + 1 < n && in[i] == '0'; i++)
		;
	for (; i < n; i++)
		out[j++] = (char)tolower((unsigned char)in[i]);
	out[j] = '\0';
	return 0;
bad:
	err_set(e, ERR_INVALID_SERIAL,
	    "serial must be 1 to %d hex digits", RCA_SERIAL_HEX_MAX);
	return -1;
}
