/* common/hostport.c: the one "host:port" / "[ipv6]:port" splitter. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "hostport.h"

#define HOSTPORT_MAX_HOST	255

static bool
host_ok(const char *h, size_t len)
{
	if (len == 0 || len > HOSTPORT_MAX_HOST)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)h[i];

		if (c <= ' ' || c >= 0x7f || c == '/' || c == '[' ||
		    c == ']')
			return false;
	}
	return true;
}

/* 1 to 5 digits, nothing else, at most 65535. */
static bool
port_ok(const char *s, unsigned *port)
{
	unsigned p = 0;
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		if (n == 5 || s[n] < '0' || s[n] > '9')
			return false;
		p = p * 10 + (unsigned)(s[n] - '0');
	}
	if (n == 0 || p > 65535)
		return false;
	*port = p;
	return true;
}

bool
hostport_split(const char *s, char *host, size_t hostsz, unsigned *port)
{
	const char *colon, *h = s;
	size_t hlen;
	unsigned p;

	if (s == NULL)
		return false;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return false;
		h = s + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
		if (memchr(h, ':', hlen) == NULL)
			return false;	/* brackets are for IPv6 only */
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return false;
		hlen = (size_t)(colon - s);
		if (memchr(s, ':', hlen) != NULL)
			return false;	/* a bare IPv6 address: needs [] */
	}
	if (!host_ok(h, hlen) || hlen >= hostsz || !port_ok(colon + 1, &p))
		return false;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = p;
	return true;
}
