/*
 * "host:port" and "[ipv6]:port": the one splitter behind every address
 * the project reads (listen addresses, a node's redis field, `check`'s
 * target, `enroll --redis`).  Callers add their own rules on the host
 * (an IP literal, a DNS name) and on the port (0 allowed or not).
 */
#ifndef RCA_HOSTPORT_H
#define RCA_HOSTPORT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Split s into host (size hostsz, NUL-terminated) and *port (0..65535).
 * Brackets are for an IPv6 literal only: "[h]:p" needs a ':' inside h,
 * and a host without brackets holds no ':'.  The host is 1..255 bytes,
 * fits hostsz, and holds no space, control or non-ASCII byte, '/', '['
 * or ']'; the port is 1 to 5 decimal digits and nothing else.  Returns
 * false, with host and *port unchanged, for anything else.
 */
bool	hostport_split(const char *s, char *host, size_t hostsz,
	    unsigned *port);

#endif
