/*
 * Tests of service/report.c (svc_node_report: a pull node's report and
 * every refusal, each audited) and service/pull.c (the pull daemon's
 * local steps against a real TLS redis-server: served serial, a load
 * verified by a new connection, a bad pair rolled back).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "fileio.h"
#include "redisfx.h"
#include "timeutil.h"

/* Issue a certificate of profile for cn (SAN IP 127.0.0.1). */
static void
issue(struct fx *f, const char *profile, const char *cn,
    struct svc_issued *out)
{
	struct svc_issue_req	req;
	struct names		n = NAMES_INIT;
	struct err		e;

	err_clear(&e);
	assert_int_equal(names_set_cn(&n, cn, &e), 0);
	assert_int_equal(names_add(&n, NAME_IP, "127.0.0.1", &e), 0);
	memset(&req, 0, sizeof(req));
	req.profile = profile;
	req.names = &n;
	req.ttl = 3600;
	if (svc_issue(f->svc, &f->cli, &req, out, &e) == -1)
		fail_msg("svc_issue: %s", e.msg);
	names_clear(&n);
}

/* A succeeded report of serial for name (served = serial). */
static void
req_init(struct svc_node_report_req *q, const char *name,
    enum svc_report_status st, const char *new_serial, const char *served)
{
	memset(q, 0, sizeof(*q));
	snprintf(q->name, sizeof(q->name), "%s", name);
	snprintf(q->host, sizeof(q->host), "127.0.0.1");
	q->port = 6390;
	q->status = st;
	snprintf(q->new_serial, sizeof(q->new_serial), "%s", new_serial);
	snprintf(q->served_serial, sizeof(q->served_serial), "%s", served);
	q->started_at = tu_now() - 2;
	q->finished_at = tu_now();
	snprintf(q->steps[0].step, sizeof(q->steps[0].step), "connect");
	q->steps[0].ok = true;
	q->nsteps = 1;
}

/* Expect a refusal with code, naming what (may be NULL), audited. */
static void
refused(struct fx *f, const struct svc_actor *a,
    const struct svc_node_report_req *q, enum err_code code,
    const char *what)
{
	struct svc_node_view	v;
	struct err		e;

	err_clear(&e);
	if (svc_node_report(f->svc, a, q, &v, &e) != -1)
		fail_msg("accepted, want %s", err_code_name(code));
	if (e.code != code)
		fail_msg("got %s (%s), want %s", err_code_name(e.code), e.msg,
		    err_code_name(code));
	if (what != NULL && strstr(e.msg, what) == NULL)
		fail_msg("\"%s\" does not say %s", e.msg, what);
	assert_true(fx_audit_has(f, "node.report", "denied", NULL,
	    err_code_name(code)));
}

static void
test_report_stores_pull_node(void **state)
{
	struct rfx		*r = *state;
	struct svc_issued	 c1, c2;
	struct svc_actor	 a1, a2;
	struct svc_node_report_req q;
	struct svc_node_view	 v;
	struct err		 e;

	err_clear(&e);
	issue(r->f, "redis-node", "pull-a", &c1);
	fx_auth_cert(r->f, c1.cert.pem, &a1);
	/* The first report: the daemon's first enrollment. */
	req_init(&q, "pull-a", SVC_REPORT_SUCCEEDED, c1.cert.serial,
	    c1.cert.serial);
	snprintf(q.group, sizeof(q.group), "cache");
	snprintf(q.role, sizeof(q.role), "primary");
	if (svc_node_report(r->f->svc, &a1, &q, &v, &e) == -1)
		fail_msg("report: %s", e.msg);
	assert_int_equal(v.node.mode, NODE_MODE_PULL);
	assert_string_equal(v.node.group, "cache");
	assert_string_equal(v.node.role, "primary");
	assert_string_equal(v.node.current_serial, c1.cert.serial);
	assert_string_equal(v.node.served_serial, c1.cert.serial);
	assert_int_equal(v.node.not_after, c1.cert.not_after);
	assert_true(v.node.last_report_at > 0);
	assert_int_equal(v.node.drift_since, 0);
	assert_true(v.has_last_rotation);
	assert_int_equal(v.last_rotation.status, ROT_SUCCEEDED);
	assert_true(fx_audit_has(r->f, "node.report", "ok", "pull-a",
	    "status=succeeded"));
	svc_node_view_clear(&v);

	/* A renewal whose load was rolled back: Redis serves c1 still. */
	issue(r->f, "redis-node", "pull-a", &c2);
	fx_auth_cert(r->f, c1.cert.pem, &a2);
	req_init(&q, "", SVC_REPORT_ROLLED_BACK, c2.cert.serial,
	    c1.cert.serial);
	snprintf(q.old_serial, sizeof(q.old_serial), "%s", c1.cert.serial);
	assert_int_equal(svc_node_report(r->f->svc, &a2, &q, &v, &e), 0);
	assert_string_equal(v.node.current_serial, c1.cert.serial);
	assert_int_equal(v.node.failures, 1);
	assert_int_equal(v.last_rotation.status, ROT_ROLLED_BACK);
	assert_int_equal(v.status, NODE_ROTATION_FAILED);
	svc_node_view_clear(&v);

	/* A check-in: served c2 while c1 is recorded is drift... */
	req_init(&q, "pull-a", SVC_REPORT_CHECK, "", c2.cert.serial);
	assert_int_equal(svc_node_report(r->f->svc, &a1, &q, &v, &e), 0);
	assert_true(v.node.drift_since > 0);
	assert_true(fx_audit_has(r->f, "node.drift", "ok", "pull-a",
	    "served="));
	svc_node_view_clear(&v);
	/* ...and ends when it serves the recorded one again. */
	req_init(&q, "pull-a", SVC_REPORT_CHECK, "", c1.cert.serial);
	assert_int_equal(svc_node_report(r->f->svc, &a1, &q, &v, &e), 0);
	assert_int_equal(v.node.drift_since, 0);
	assert_true(fx_audit_has(r->f, "node.drift", "ok", "pull-a",
	    "resolved"));
	svc_node_view_clear(&v);
	svc_actor_clear(&a1);
	svc_actor_clear(&a2);
	svc_issued_clear(&c1);
	svc_issued_clear(&c2);
}

static void
test_report_refusals(void **state)
{
	struct rfx		*r = *state;
	struct svc_issued	 node, other, client;
	struct svc_actor	 an, ac, none;
	struct svc_node_report_req q;
	struct rfx_node		 push;

	issue(r->f, "redis-node", "pull-b", &node);
	issue(r->f, "redis-node", "pull-c", &other);
	issue(r->f, "redis-client", "app-1", &client);
	fx_auth_cert(r->f, node.cert.pem, &an);
	fx_auth_cert(r->f, client.cert.pem, &ac);
	svc_actor_init(&none, ACTOR_NONE);

	req_init(&q, "pull-b", SVC_REPORT_SUCCEEDED, node.cert.serial,
	    node.cert.serial);
	/* Not a client certificate: anonymous, or an admin token. */
	refused(r->f, &none, &q, ERR_UNAUTHORIZED, "client certificate");
	refused(r->f, &r->f->admin, &q, ERR_FORBIDDEN, "client certificate");
	/* A client (not node) certificate. */
	req_init(&q, "app-1", SVC_REPORT_SUCCEEDED, client.cert.serial,
	    client.cert.serial);
	refused(r->f, &ac, &q, ERR_FORBIDDEN, "not a node certificate");
	/* Another node's name. */
	req_init(&q, "pull-c", SVC_REPORT_SUCCEEDED, other.cert.serial,
	    other.cert.serial);
	refused(r->f, &an, &q, ERR_FORBIDDEN, "common name");
	/* A node certificate for the reserved name "report". */
	{
		struct svc_issued	rep;
		struct svc_actor	ar;

		issue(r->f, "redis-node", "report", &rep);
		fx_auth_cert(r->f, rep.cert.pem, &ar);
		req_init(&q, "report", SVC_REPORT_SUCCEEDED, rep.cert.serial,
		    rep.cert.serial);
		refused(r->f, &ar, &q, ERR_FORBIDDEN, "not a node name");
		svc_actor_clear(&ar);
		svc_issued_clear(&rep);
	}
	/* Serials: another CN's, unknown, missing for a rotation. */
	req_init(&q, "pull-b", SVC_REPORT_SUCCEEDED, other.cert.serial,
	    node.cert.serial);
	refused(r->f, &an, &q, ERR_INVALID_REQUEST, "new_serial");
	req_init(&q, "pull-b", SVC_REPORT_CHECK, "", "abcdef0123");
	refused(r->f, &an, &q, ERR_INVALID_REQUEST, "served_serial");
	req_init(&q, "pull-b", SVC_REPORT_FAILED, "", node.cert.serial);
	refused(r->f, &an, &q, ERR_INVALID_REQUEST, "new_serial");
	req_init(&q, "pull-b", SVC_REPORT_SUCCEEDED, node.cert.serial,
	    node.cert.serial);
	snprintf(q.old_serial, sizeof(q.old_serial), "%s", other.cert.serial);
	refused(r->f, &an, &q, ERR_INVALID_REQUEST, "old_serial");
	/* Bad fields. */
	req_init(&q, "pull-b", SVC_REPORT_CHECK, "", node.cert.serial);
	snprintf(q.group, sizeof(q.group), "Bad_Group");
	refused(r->f, &an, &q, ERR_INVALID_REQUEST, "group");
	req_init(&q, "pull-b", SVC_REPORT_CHECK, "", node.cert.serial);
	snprintf(q.role, sizeof(q.role), "leader");
	refused(r->f, &an, &q, ERR_INVALID_REQUEST, "role");
	req_init(&q, "pull-b", SVC_REPORT_CHECK, "", node.cert.serial);
	q.port = 0;
	refused(r->f, &an, &q, ERR_INVALID_REQUEST, "redis");
	req_init(&q, "pull-b", (enum svc_report_status)42, "",
	    node.cert.serial);
	refused(r->f, &an, &q, ERR_INVALID_REQUEST, "status");
	/* A push node of that name: 409, nothing changed. */
	rfx_node_init(r, &push, "pull-b");
	rfx_register(r, &push, NULL, NULL, NULL);
	req_init(&q, "pull-b", SVC_REPORT_CHECK, "", node.cert.serial);
	refused(r->f, &an, &q, ERR_CONFLICT, "push node");
	svc_actor_clear(&an);
	svc_actor_clear(&ac);
	svc_issued_clear(&node);
	svc_issued_clear(&other);
	svc_issued_clear(&client);
}

static void
test_report_status_names(void **state)
{
	enum svc_report_status st;

	(void)state;
	assert_int_equal(svc_report_status_parse("rolled_back", &st), 0);
	assert_int_equal(st, SVC_REPORT_ROLLED_BACK);
	assert_int_equal(svc_report_status_parse("check", &st), 0);
	assert_int_equal(st, SVC_REPORT_CHECK);
	assert_int_equal(svc_report_status_parse("running", &st), -1);
	assert_string_equal(svc_report_status_name(SVC_REPORT_FAILED),
	    "failed");
	assert_string_equal(svc_report_status_name(
	    (enum svc_report_status)9), "unknown");
}

/* ---- pull.c against a real redis-server ---- */

struct restore_ctx {
	const char	*path[2];	/* files to put back */
	const char	*pem[2];	/* their previous contents */
	int		 calls;
};

static int
restore(void *arg, struct err *e)
{
	struct restore_ctx *c = arg;

	c->calls++;
	for (int i = 0; i < 2; i++)
		if (fio_write_atomic(c->path[i], c->pem[i], strlen(c->pem[i]),
		    0600, e) == -1)
			return -1;
	return 0;
}

static void
join(char *out, const struct rfx_node *n, const char *name)
{
	if (snprintf(out, RFX_PATH + 16, "%s/%s", n->cert_dir, name) >=
	    RFX_PATH + 16)
		fail_msg("path too long");
}

static void
test_pull_load_and_rollback(void **state)
{
	struct rfx		*r = *state;
	struct rfx_node		 n;
	struct svc_issued	 c1, c2;
	struct svc_pull_opts	 o;
	struct rotation_rec	 rec;
	struct restore_ctx	 rc;
	struct err		 e;
	char conf[4096], crt[RFX_PATH + 16], key[RFX_PATH + 16];
	char ca[RFX_PATH + 16], ncrt[RFX_PATH + 16], nkey[RFX_PATH + 16];
	char served[RCA_SERIAL_HEX_MAX + 1], role[16];
	char *boot_crt, *boot_key;

	err_clear(&e);
	rfx_node_init(r, &n, "pull-l");
	rfx_node_conf(&n, NULL, conf, sizeof(conf));
	rfx_start(&n, conf);
	join(crt, &n, "redis.crt");
	join(key, &n, "redis.key");
	join(ca, &n, "ca.crt");
	join(ncrt, &n, "new.crt");
	join(nkey, &n, "new.key");
	boot_crt = rfx_read(crt);
	boot_key = rfx_read(key);
	assert_non_null(boot_crt);
	assert_non_null(boot_key);
	memset(&o, 0, sizeof(o));
	o.host = "127.0.0.1";
	o.port = n.port;
	o.ca_file = ca;
	o.client_cert = crt;
	o.client_key = key;
	o.cert_file = ncrt;
	o.key_file = nkey;

	/* What it serves now: the bootstrap certificate. */
	assert_int_equal(svc_pull_served(&o, served, role, &e), 0);
	assert_string_equal(served, n.serial);
	assert_string_equal(role, "primary");

	/* A good pair: loaded, and a new connection sees it. */
	issue(r->f, "redis-node", "pull-l", &c1);
	assert_int_equal(fio_write_atomic(ncrt, c1.chain_pem,
	    strlen(c1.chain_pem), 0600, &e), 0);
	assert_int_equal(fio_write_atomic(nkey, c1.private_key_pem,
	    strlen(c1.private_key_pem), 0600, &e), 0);
	memset(&rec, 0, sizeof(rec));
	snprintf(rec.new_serial, sizeof(rec.new_serial), "%s",
	    c1.cert.serial);
	memset(&rc, 0, sizeof(rc));
	if (svc_pull_load(&o, &rec, restore, &rc, &e) == -1)
		fail_msg("load: %s", e.msg);
	assert_int_equal(rec.status, ROT_SUCCEEDED);
	assert_int_equal(rec.nsteps, 3);
	assert_string_equal(rec.steps[2].step, "verify_serial");
	assert_int_equal(rc.calls, 0);
	rfx_served(r, &n, served);
	assert_string_equal(served, c1.cert.serial);

	/* A mismatched pair: CONFIG SET refuses it, the old pair returns. */
	issue(r->f, "redis-node", "pull-l", &c2);
	assert_int_equal(fio_write_atomic(ncrt, c2.chain_pem,
	    strlen(c2.chain_pem), 0600, &e), 0);
	rc.path[0] = ncrt;
	rc.pem[0] = c1.chain_pem;
	rc.path[1] = nkey;
	rc.pem[1] = c1.private_key_pem;
	memset(&rec, 0, sizeof(rec));
	snprintf(rec.old_serial, sizeof(rec.old_serial), "%s",
	    c1.cert.serial);
	snprintf(rec.new_serial, sizeof(rec.new_serial), "%s",
	    c2.cert.serial);
	assert_int_equal(svc_pull_load(&o, &rec, restore, &rc, &e), -1);
	assert_int_equal(rec.status, ROT_ROLLED_BACK);
	assert_int_equal(rc.calls, 1);
	assert_string_equal(rec.steps[1].step, "config_set");
	assert_false(rec.steps[1].ok);
	assert_string_equal(rec.steps[rec.nsteps - 1].step, "rollback");
	assert_true(rec.steps[rec.nsteps - 1].ok);
	rfx_served(r, &n, served);
	assert_string_equal(served, c1.cert.serial);
	assert_true(rfx_ping(r, &n));

	/* Unreachable: failed at connect, nothing restored. */
	rfx_stop(&n);
	memset(&rec, 0, sizeof(rec));
	rc.calls = 0;
	assert_int_equal(svc_pull_load(&o, &rec, restore, &rc, &e), -1);
	assert_int_equal(rec.status, ROT_FAILED);
	assert_string_equal(rec.steps[0].step, "connect");
	assert_int_equal(rc.calls, 0);
	free(boot_crt);
	free(boot_key);
	svc_issued_clear(&c1);
	svc_issued_clear(&c2);
}

/* The AUTH password file: ours, owner-only, one line. */
static void
test_pull_password_rules(void **state)
{
	struct rfx		*r = *state;
	struct svc_pull_opts	 o;
	struct err		 e;
	char path[RFX_PATH], link[RFX_PATH];
	char *pw = NULL;

	err_clear(&e);
	snprintf(path, sizeof(path), "%s/pw", r->dir);
	snprintf(link, sizeof(link), "%s/pw-link", r->dir);
	memset(&o, 0, sizeof(o));
	o.password_file = path;
	assert_int_equal(fio_write_atomic(path, "s3cret\n", 7, 0600, &e), 0);
	assert_int_equal(svc_pull_password(&o, &pw, &e), 0);
	assert_string_equal(pw, "s3cret");
	free(pw);
	/* Readable by others: refused, the content never in the message. */
	assert_int_equal(fio_write_atomic(path, "s3cret\n", 7, 0644, &e), 0);
	assert_int_equal(svc_pull_password(&o, &pw, &e), -1);
	assert_int_equal(e.code, ERR_IO);
	assert_null(strstr(e.msg, "s3cret"));
	/* A link: refused. */
	assert_int_equal(fio_write_atomic(path, "s3cret\n", 7, 0600, &e), 0);
	assert_int_equal(symlink(path, link), 0);
	o.password_file = link;
	assert_int_equal(svc_pull_password(&o, &pw, &e), -1);
	/* Two lines, or relative: refused. */
	assert_int_equal(fio_write_atomic(path, "a\nb\n", 4, 0600, &e), 0);
	o.password_file = path;
	assert_int_equal(svc_pull_password(&o, &pw, &e), -1);
	assert_non_null(strstr(e.msg, "one line"));
	o.password_file = "pw";
	assert_int_equal(svc_pull_password(&o, &pw, &e), -1);
	assert_non_null(strstr(e.msg, "absolute"));
	/* None given: no password, no error. */
	o.password_file = NULL;
	assert_int_equal(svc_pull_password(&o, &pw, &e), 0);
	assert_null(pw);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_report_stores_pull_node,
		    rfx_setup, rfx_teardown),
		cmocka_unit_test_setup_teardown(test_report_refusals,
		    rfx_setup, rfx_teardown),
		cmocka_unit_test(test_report_status_names),
		cmocka_unit_test_setup_teardown(test_pull_load_and_rollback,
		    rfx_setup, rfx_teardown),
		cmocka_unit_test_setup_teardown(test_pull_password_rules,
		    rfx_setup, rfx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
