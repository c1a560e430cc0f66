/*
 * The TLS audit of a live Redis node (POST /v1/nodes/{name}/check, `redis-ca
 * check`): one probe handshake per question, through redis/, a verdict each.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hex.h"
#include "log.h"
#include "rds.h"
#include "svc_int.h"
#include "timeutil.h"

/* days_to_expiry's bound when the caller gives none. */
#define CHECK_MIN_REMAINING	3600

/* NIST SP 800-57: 112 bits is the floor (RSA-2048); P-256 gives 128. */
#define CHECK_MIN_SECURITY_BITS	112

static void
add(struct svc_check_result *r, const char *id, bool ok, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
add(struct svc_check_result *r, const char *id, bool ok, const char *fmt,
    ...)
{
	struct svc_check	*c;
	va_list			 ap;

	if (r->n >= SVC_CHECK_MAX)
		return;
	c = &r->checks[r->n++];
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->ok = ok;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
	if (!ok)
		r->ok = false;
}

/* One probe; -1 (with the reason in why) when it could not be run. */
static int
probe(const struct rds_tls_opts *base, enum rds_tls_version min,
    enum rds_tls_version max, const char *ciphers,
    struct rds_probe_result *res, char why[ERR_MSG_MAX])
{
	struct rds_tls_opts	o = *base;
	struct err		e;

	err_clear(&e);
	o.min_version = min;
	o.max_version = max;
	o.cipher_list = ciphers;
	memset(res, 0, sizeof(*res));
	if (rds_probe(&o, res, &e) == -1) {
		snprintf(why, ERR_MSG_MAX, "could not probe: %.200s", e.msg);
		return -1;
	}
	return 0;
}

/* A check that a protocol version (or cipher set) is refused. */
static void
check_refused(struct svc_check_result *out, const char *id,
    const struct rds_tls_opts *o, enum rds_tls_version min,
    enum rds_tls_version max, const char *ciphers, const char *what)
{
	struct rds_probe_result	res;
	char			why[ERR_MSG_MAX];

	if (probe(o, min, max, ciphers, &res, why) == -1)
		add(out, id, false, "%s", why);
	else if (res.accepted)
		add(out, id, false, "%s accepted (%s %s)", what, res.protocol,
		    res.cipher);
	else
		add(out, id, true, "%s refused", what);
}

/* The checks on the certificate the node presented in base. */
static void
check_cert(struct svc_check_result *out, const struct svc_check_target *t,
    const struct rds_probe_result *b)
{
	char	na[RCA_TIME_STR];
	int64_t	left, min;

	if (!b->accepted || !b->have_cert) {
		static const char *const ids[] = { "chain_valid",
		    "hostname_matches", "key_strength",
		    "signature_sha256_or_better", "days_to_expiry" };

		for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
			add(out, ids[i], false, "no certificate seen: %.200s",
			    b->accepted ? "none presented" : b->reason);
		return;
	}
	if (b->chain_valid)
		add(out, "chain_valid", true, "chains to the given CA");
	else
		add(out, "chain_valid", false, "%s", b->chain_error[0] != '\0' ?
		    b->chain_error : "does not chain to the given CA");
	add(out, "hostname_matches", b->name_matches, "%s %s",
	    t->server_name != NULL && t->server_name[0] != '\0' ?
	    t->server_name : t->host, b->name_matches ? "is in the "
	    "certificate" : "is not in the certificate");
	add(out, "key_strength", b->key_security_bits >=
	    CHECK_MIN_SECURITY_BITS, "%s %d bits (%d-bit security; at least "
	    "%d wanted)", b->key_type, b->key_bits, b->key_security_bits,
	    CHECK_MIN_SECURITY_BITS);
	add(out, "signature_sha256_or_better", b->sig_sha256_or_better, "%s",
	    b->sig_alg);
	min = t->min_remaining > 0 ? t->min_remaining : CHECK_MIN_REMAINING;
	left = b->not_after - tu_now();
	tu_format(b->not_after, na);
	if (left <= 0)
		add(out, "days_to_expiry", false, "expired (not after %s)", na);
	else
		add(out, "days_to_expiry", left >= min, "%.2f days left (not "
		    "after %s)%s", (double)left / 86400.0, na, left >= min ?
		    "" : "; renewal is overdue");
}

/* The probe options for t; -1 when t lacks a host, port or CA. */
static int
target_opts(const struct svc_check_target *t, struct rds_tls_opts *o,
    struct err *e)
{
	if (t == NULL || t->host == NULL || t->host[0] == '\0' ||
	    t->port < 1 || t->port > 65535) {
		err_set(e, ERR_INVALID_REQUEST, "host and port (1 to 65535) "
		    "are required");
		return -1;
	}
	if ((t->ca_file == NULL || t->ca_file[0] == '\0') &&
	    t->ca_pem == NULL) {
		err_set(e, ERR_INVALID_REQUEST, "a CA file is required");
		return -1;
	}
	memset(o, 0, sizeof(*o));
	o->host = t->host;
	o->port = t->port;
	o->server_name = t->server_name != NULL && t->server_name[0] != '\0' ?
	    t->server_name : NULL;
	o->ca_file = t->ca_file != NULL && t->ca_file[0] != '\0' ? t->ca_file :
	    NULL;
	o->ca_pem = t->ca_pem;
	o->cert_file = t->cert_file;
	o->key_file = t->key_file;
	o->timeout_ms = t->timeout_ms;
	return 0;
}

/*
 * tls12_accepted and tls13_accepted: either modern version is enough,
 * a TLS 1.3-only node passes.  *v12 and *acc12 tell the TLS 1.2 probe.
 */
static void
check_modern(struct svc_check_result *out, const struct rds_tls_opts *o,
    struct rds_probe_result *v12, bool *acc12)
{
	struct rds_probe_result	v13;
	char			why12[ERR_MSG_MAX], why13[ERR_MSG_MAX];
	bool			acc13;
	int			rc12, rc13;

	rc12 = probe(o, RDS_TLS1_2, RDS_TLS1_2, NULL, v12, why12);
	rc13 = probe(o, RDS_TLS1_3, RDS_TLS1_3, NULL, &v13, why13);
	*acc12 = rc12 == 0 && v12->accepted;
	acc13 = rc13 == 0 && v13.accepted;
	if (*acc12)
		add(out, "tls12_accepted", true, "accepted (%s)", v12->cipher);
	else
		add(out, "tls12_accepted", acc13, "%.160s%s", rc12 == -1 ?
		    why12 : v12->reason, acc13 ? "; TLS 1.3 is accepted" : "");
	if (acc13)
		add(out, "tls13_accepted", true, "accepted (%s)", v13.cipher);
	else
		add(out, "tls13_accepted", *acc12, "%.160s%s", rc13 == -1 ?
		    why13 : v13.reason, *acc12 ? "; TLS 1.2 is accepted" : "");
}

/*
 * forward_secrecy_only: static key exchanges refused, and neither the
 * best handshake (base) nor the TLS 1.2 one (v12, when acc12) went
 * without forward secrecy.  Cipher probes only mean something at
 * TLS 1.2 (see rds.h).
 */
static void
check_fs(struct svc_check_result *out, const struct rds_tls_opts *o,
    const struct rds_probe_result *base, const struct rds_probe_result *v12,
    bool acc12)
{
	struct rds_probe_result	nonfs;
	char			why[ERR_MSG_MAX];

	if (probe(o, RDS_TLS_ANY, RDS_TLS1_2, RDS_PROBE_NON_FS_CIPHERS,
	    &nonfs, why) == -1)
		add(out, "forward_secrecy_only", false, "%s", why);
	else if (nonfs.accepted)
		add(out, "forward_secrecy_only", false, "static key "
		    "exchange accepted (%s %s)", nonfs.protocol,
		    nonfs.cipher);
	else if ((base->accepted && !base->forward_secret) ||
	    (acc12 && !v12->forward_secret))
		add(out, "forward_secrecy_only", false, "negotiated "
		    "%s without forward secrecy", acc12 &&
		    !v12->forward_secret ? v12->cipher : base->cipher);
	else
		add(out, "forward_secrecy_only", true, "static RSA and "
		    "PSK key exchanges refused; negotiated %s",
		    base->accepted ? base->cipher : "nothing");
}

/* serves_recorded_serial: the serial of base against t's. */
static void
check_serial(struct svc_check_result *out, const struct svc_check_target *t,
    const struct rds_probe_result *base)
{
	char		want[RCA_SERIAL_HEX_MAX + 1];
	char		got[RCA_SERIAL_HEX_MAX + 1];
	struct err	pe;

	err_clear(&pe);
	if (t->expect_serial[0] == '\0')
		add(out, "serves_recorded_serial", false, "no "
		    "certificate is recorded for this node yet");
	else if (!base->have_cert || hex_serial_normalize(
	    t->expect_serial, want, &pe) == -1 ||
	    hex_serial_normalize(base->serial, got, &pe) == -1)
		add(out, "serves_recorded_serial", false, "cannot "
		    "compare: %s", base->have_cert ? pe.msg :
		    "no certificate seen");
	else
		add(out, "serves_recorded_serial", strcmp(want, got) ==
		    0, "serves %s, recorded %s", got, want);
}

/* No decision here needs the CA's key: the CLI runs it without a service. */
int
svc_check_run(const struct svc_check_target *t, struct svc_check_result *out,
    struct err *e)
{
	struct rds_tls_opts	o;
	struct rds_probe_result	base, v12;
	struct err		pe;
	bool			acc12, required;

	memset(out, 0, sizeof(*out));
	out->ok = true;
	if (target_opts(t, &o, e) == -1)
		return -1;

	/* The node's best handshake: it must at least answer that. */
	err_clear(&pe);
	memset(&base, 0, sizeof(base));
	if (rds_probe(&o, &base, &pe) == -1) {
		err_set(e, pe.code, "%s", pe.msg);
		return -1;
	}

	check_refused(out, "tls10_refused", &o, RDS_TLS1_0, RDS_TLS1_0, NULL,
	    "TLS 1.0");
	check_refused(out, "tls11_refused", &o, RDS_TLS1_1, RDS_TLS1_1, NULL,
	    "TLS 1.1");
	check_modern(out, &o, &v12, &acc12);
	check_refused(out, "weak_ciphers_refused", &o, RDS_TLS_ANY,
	    RDS_TLS1_2, RDS_PROBE_WEAK_CIPHERS,
	    "a NULL/anonymous/export/RC4/DES/3DES/MD5 suite");
	check_fs(out, &o, &base, &v12, acc12);

	err_clear(&pe);
	if (rds_probe_client_cert_required(&o, &required, &pe) == -1)
		add(out, "client_cert_required", false, "could not probe: %s",
		    pe.msg);
	else
		add(out, "client_cert_required", required, required ?
		    "a client without a certificate is refused" :
		    "a client without a certificate can talk to the node");

	check_cert(out, t, &base);
	if (t->expect_serial != NULL)
		check_serial(out, t, &base);
	return 0;
}

/* The answer for a node that cannot be reached: one failed check. */
static void
unreachable(struct svc_check_result *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	out->n = 1;
	snprintf(out->checks[0].id, sizeof(out->checks[0].id), "reachable");
	snprintf(out->checks[0].detail, sizeof(out->checks[0].detail), "%s",
	    e->msg);
	err_clear(e);
}

int
svc_node_check(struct svc *s, const char *name, struct svc_check_result *out,
    struct err *e)
{
	struct svc_check_target	t;
	struct node_rec		n;
	struct svc_cas		*cas = NULL;
	struct err		le;
	int			rc = -1;

	ERR_LOCAL(e, le);
	err_clear(e);
	memset(&n, 0, sizeof(n));
	memset(out, 0, sizeof(*out));
	if (svc_node_load(s, name, &n, e) == -1)
		goto out;
	memset(&t, 0, sizeof(t));
	t.host = n.host;
	t.port = n.port;
	t.server_name = n.server_name[0] != '\0' ? n.server_name : NULL;
	/* Every CA of the bundle: nodes mid-rollover serve either. */
	cas = svc_cas_get(s);
	t.ca_pem = cas->bundle_pem;
	t.cert_file = s->admin_cert;
	t.key_file = s->admin_key;
	t.expect_serial = n.current_serial;
	t.min_remaining = svc_node_renew_window(s, &n);
	if (svc_check_run(&t, out, e) == -1) {
		/* Unreachable is an answer about the node, not our fault. */
		if (e->code != ERR_NET) {
			log_error("node check %s: %s: %s", name,
			    err_code_name(e->code), e->msg);
			err_set(e, ERR_INTERNAL, "internal error");
			goto out;
		}
		unreachable(out, e);
	}
	rc = 0;
out:
	svc_cas_put(cas);
	node_rec_clear(&n);
	return rc;
}
