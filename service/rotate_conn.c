/*
 * How a rotation talks to its node: the TLS options (the CA as trust
 * anchor, the admin client certificate), the AUTH password, the serial
 * the node serves, and the CONFIG SET of the three file paths.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "rds.h"
#include "rotate_int.h"
#include "svc_int.h"

/* A password file is a line, not a document. */
#define PASSWORD_MAX	1024

/*
 * The TLS options for r's node, trusting the bundle of cas (every CA
 * in it: a node may serve a certificate of the next, current or
 * retired CA during a rollover).
 */
static void
node_opts(const struct rot *r, const struct svc_cas *cas, bool ignore_dates,
    struct rds_tls_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->host = r->node.host;
	o->port = r->node.port;
	o->server_name = r->node.server_name[0] != '\0' ?
	    r->node.server_name : NULL;
	o->ca_pem = cas->bundle_pem;
	o->cert_file = r->s->admin_cert;
	o->key_file = r->s->admin_key;
	o->timeout_ms = RDS_DEFAULT_TIMEOUT_MS;
	o->ignore_dates = ignore_dates;
}

int
rot_read_password(struct rot *r, struct err *e)
{
	char *buf = NULL;

	if (r->node.auth_password_file[0] == '\0')
		return 0;
	if (svc_node_password_read(r->s, r->node.auth_password_file,
	    PASSWORD_MAX, &buf, e) == -1)
		return -1;
	r->password = buf;
	return 0;
}

int
rot_auth(const struct rot *r, struct rds_conn *c, struct err *e)
{
	if (r->password == NULL)
		return 0;
	return rds_auth(c, r->node.auth_username[0] != '\0' ?
	    r->node.auth_username : NULL, r->password, e);
}

struct rds_conn *
rot_node_open(const struct rot *r, bool auth, bool ignore_dates, struct err *e)
{
	struct rds_tls_opts	 o;
	struct rds_conn		*c;
	struct svc_cas		*cas = svc_cas_get(r->s);

	node_opts(r, cas, ignore_dates, &o);
	c = rds_connect(&o, e);
	svc_cas_put(cas);
	if (c == NULL)
		return NULL;
	if (auth && rot_auth(r, c, e) == -1) {
		char msg[ERR_MSG_MAX];

		snprintf(msg, sizeof(msg), "%s", e->msg);
		err_set(e, ERR_NET, "AUTH: %.200s", msg);
		rds_close(c);
		return NULL;
	}
	return c;
}

int
rot_peer_serial(const struct rds_conn *c, char out[RCA_SERIAL_HEX_MAX + 1],
    struct err *e)
{
	char raw[RCA_SERIAL_HEX_MAX + 1];

	if (rds_peer_serial(c, raw, e) == -1)
		return -1;
	return hex_serial_normalize(raw, out, e);
}

int
rot_config_set(struct rot *r, struct rds_conn *c, struct err *e)
{
	const char *kv[6];

	kv[0] = "tls-cert-file";
	kv[1] = r->path[RF_CERT];
	kv[2] = "tls-key-file";
	kv[3] = r->path[RF_KEY];
	kv[4] = "tls-ca-cert-file";
	kv[5] = r->path[RF_CA];
	return rds_config_set(c, kv, 3, e);
}
