/* Listen addresses from the configuration: "host:port", "[v6]:port". */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "api_priv.h"
#include "hostport.h"

/*
 * hostport_split() does the splitting; the host must then be a numeric
 * address of the form its brackets say ("localhost" is 127.0.0.1), and
 * port 0 is allowed (the kernel picks one).
 */
int
api_listen_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len,
    struct err *e)
{
	char host[64];
	unsigned p;

	memset(ss, 0, sizeof(*ss));
	if (!hostport_split(s, host, sizeof(host), &p))
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
