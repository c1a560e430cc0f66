/*
 * A short look at a live node (SPEC section 11): connect with the admin
 * certificate (the bundle as anchors, the node's server_name, a bounded
 * timeout), AUTH when configured, and read the serial it serves and its
 * role.  The group rotation orders its members by it (replicas first),
 * the scheduler too, and the drift check compares the serial.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "hex.h"
#include "log.h"
#include "rds.h"
#include "svc_int.h"

/* A password file is a line, not a document (as rotate_conn.c). */
#define PROBE_PASSWORD_MAX	1024
/* A look is short: a node that does not answer in this is unreachable. */
#define PROBE_TIMEOUT_MS	3000

/* AUTH with the node's password file, if it has one. */
static int
probe_auth(struct svc *s, const struct node_rec *n, struct rds_conn *c,
    struct err *e)
{
	char	*pw = NULL;
	int	 rc = -1;

	if (n->auth_password_file[0] == '\0')
		return 0;
	if (svc_node_password_read(s, n->auth_password_file,
	    PROBE_PASSWORD_MAX, &pw, e) == -1)
		goto out;
	if (rds_auth(c, n->auth_username[0] != '\0' ? n->auth_username :
	    NULL, pw, e) == -1) {
		err_set(e, ERR_NET, "AUTH refused");
		goto out;
	}
	rc = 0;
out:
	fio_secret_free_str(pw);
	return rc;
}

static const char *
role_word(enum rds_role r)
{
	switch (r) {
	case RDS_ROLE_PRIMARY:
		return "primary";
	case RDS_ROLE_REPLICA:
		return "replica";
	default:
		return "";
	}
}

int
svc_node_probe(struct svc *s, const struct node_rec *n,
    struct svc_probe *out, struct err *e)
{
	struct rds_tls_opts	 o;
	struct rds_role_info	 ri;
	struct rds_conn		*c = NULL;
	struct svc_cas		*cas;
	char			 raw[RCA_SERIAL_HEX_MAX + 1];
	struct err		 re;
	int			 rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&o, 0, sizeof(o));
	o.host = n->host;
	o.port = n->port;
	o.server_name = n->server_name[0] != '\0' ? n->server_name : NULL;
	o.cert_file = s->admin_cert;
	o.key_file = s->admin_key;
	o.timeout_ms = PROBE_TIMEOUT_MS;
	/* An expired certificate is still a certificate it serves. */
	o.ignore_dates = true;
	cas = svc_cas_get(s);
	o.ca_pem = cas->bundle_pem;
	c = rds_connect(&o, e);
	svc_cas_put(cas);
	if (c == NULL)
		goto out;
	if (rds_peer_serial(c, raw, e) == -1 ||
	    hex_serial_normalize(raw, out->served, e) == -1)
		goto out;
	out->reached = true;
	if (probe_auth(s, n, c, e) == -1)
		goto out;
	/* A role that cannot be read is unknown, not a failure. */
	err_clear(&re);
	if (rds_role_read(c, &ri, &re) == -1)
		log_warn("node %s: reading its role: %s", n->name, re.msg);
	else
		snprintf(out->role, sizeof(out->role), "%s",
		    role_word(ri.role));
	rc = 0;
out:
	rds_close(c);
	return rc;
}

/* Replicas and unknown first, primaries last; by name inside each. */
static int
order_cmp(const void *pa, const void *pb)
{
	const struct svc_order *a = pa, *b = pb;
	int ka = strcmp(a->role, "primary") == 0;
	int kb = strcmp(b->role, "primary") == 0;

	if (ka != kb)
		return ka - kb;
	return strcmp(a->name, b->name);
}

void
svc_order_sort(struct svc_order *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), order_cmp);
}
