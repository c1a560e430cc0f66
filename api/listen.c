/* Listen addresses from the configuration: "host:port", "[v6]:port". */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <string.h>

#include "api_priv.h"

int
api_listen_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len,
    struct err *e)
{
	char host[64];
	const char *port, *colon;
	size_t hlen;
	unsigned long p = 0;

	memset(ss, 0, sizeof(*ss));
	if (s == NULL || s[0] == '\0')
		goto bad;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			goto bad;
		hlen = (size_t)(close - s - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, hlen);
		port = close + 2;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || memchr(s, ':', (size_t)(colon - s)))
			goto bad;
		hlen = (size_t)(colon - s);
		if (hlen == 0 || hlen >= sizeof(host))
			goto bad;
		memcpy(host, s, hlen);
		port = colon + 1;
	}
	host[hlen] = '\0';
	if (port[0] == '\0' || strlen(port) > 5)
		goto bad;
	for (const char *q = port; *q != '\0'; q++) {
		if (!isdigit((unsigned char)*q))
			goto bad;
		p = p * 10 + (unsigned long)(*q - '0');
	}
	if (p > 65535)
		goto bad;
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	if (s[0] != '[') {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			goto bad;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)p);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			goto bad;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*sin6);
	}
	return 0;
bad:
	err_set(e, ERR_CONFIG, "listen address '%.80s' is not host:port or "
	    "[v6]:port with a numeric host and a port 0..65535",
	    s == NULL ? "" : s);
	return -1;
}
