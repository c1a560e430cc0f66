/*
 * The TLS block of redis.conf for a registered node (SPEC section 6):
 * its files, the protocols and suites this CA recommends, TLS for
 * replication and the cluster bus.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc_int.h"

/*
 * The recommended TLS settings.  TLS 1.2 suites: ECDHE key exchange
 * with AEAD ciphers only (ECDSA and RSA node keys); TLS 1.3: the three
 * AEAD suites every client has.
 */
#define CONF_CIPHERS \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"
#define CONF_CIPHERSUITES \
	"TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:" \
	"TLS_AES_128_GCM_SHA256"

int
svc_node_redis_conf(struct svc *s, const char *name, char **text,
    struct err *e)
{
	struct node_rec	 n;
	struct err	 le;
	char		*buf = NULL;
	size_t		 size = 0;
	FILE		*f = NULL;
	int		 rc = -1;

	ERR_LOCAL(e, le);
	memset(&n, 0, sizeof(n));
	*text = NULL;
	if (svc_node_load(s, name, &n, e) == -1)
		goto out;
	if ((f = open_memstream(&buf, &size)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	fprintf(f,
	    "# TLS for Redis node %s, from redis-ca.  Certificates are\n"
	    "# rotated by redis-ca with CONFIG SET, without a restart.\n"
	    "port 0\n"
	    "tls-port %d\n"
	    "tls-cert-file %s/%s\n"
	    "tls-key-file %s/%s\n"
	    "tls-ca-cert-file %s/%s\n"
	    "tls-auth-clients yes\n"
	    "tls-protocols \"TLSv1.2 TLSv1.3\"\n"
	    "tls-ciphers \"" CONF_CIPHERS "\"\n"
	    "tls-ciphersuites \"" CONF_CIPHERSUITES "\"\n"
	    "tls-prefer-server-ciphers yes\n"
	    "tls-replication yes\n"
	    "tls-cluster yes\n"
	    "tls-session-caching yes\n"
	    "tls-session-cache-size 20480\n"
	    "tls-session-cache-timeout 300\n",
	    n.name, n.port, n.cert_dir, n.cert_file, n.cert_dir, n.key_file,
	    n.cert_dir, n.ca_file);
	if (fclose(f) != 0) {
		f = NULL;
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	f = NULL;
	*text = buf;
	buf = NULL;
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	free(buf);
	node_rec_clear(&n);
	return rc;
}
