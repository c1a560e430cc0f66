/*
 * The bundle push (service/ca_push.c) against real TLS redis-servers:
 * prepare writes the bundle as the node's ca_file, CONFIG SET
 * tls-ca-cert-file points the node at it, and a client with a
 * certificate of the next CA is then accepted; activate + rotation and
 * retire keep the node reachable; a push that fails (CONFIG SET refused
 * by the ACL) puts the previous file back and leaves the node stale.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ca.h"
#include "fileio.h"
#include "redisfx.h"

static void
node_up(struct rfx *r, struct rfx_node *n, const char *name,
    const char *user, const char *pw)
{
	rfx_node_up(r, n, name, NULL);
	rfx_register(r, n, NULL, user, pw);
}

/*
 * The admin pair as init issues it (profile internal-admin-client), so
 * that the service re-issues it after activate (service/selfcert.c).
 */
static void
admin_internal(struct rfx *r)
{
	static const struct profile p = {
		.name = "internal-admin-client",
		.eku = EKU_CLIENT_AUTH,
		.default_ttl = 397 * 86400,
		.max_ttl = 397 * 86400,
		.key_types = KEY_BIT(KEY_EC_P256),
	};
	struct svc_issue_req	req;
	struct svc_issued	iss;
	struct names		nm = NAMES_INIT;
	struct err		e;

	err_clear(&e);
	fx_names(&nm, "redis-ca-admin", NULL);
	memset(&req, 0, sizeof(req));
	req.profile = p.name;
	req.internal_profile = &p;
	req.names = &nm;
	req.key_type = KEY_EC_P256;
	if (svc_issue(r->f->svc, &r->f->cli, &req, &iss, &e) == -1)
		fail_msg("admin certificate: %s", e.msg);
	unlink(r->admin_crt);
	unlink(r->admin_key);
	assert_int_equal(fio_write_excl(r->admin_key, iss.private_key_pem,
	    strlen(iss.private_key_pem), 0400, &e), 0);
	assert_int_equal(fio_write_excl(r->admin_crt, iss.chain_pem,
	    strlen(iss.chain_pem), 0444, &e), 0);
	svc_issued_clear(&iss);
	names_clear(&nm);
}

/* The bundle the service serves now (new). */
static char *
bundle_now(struct rfx *r, char etag[SVC_ETAG_MAX])
{
	struct svc_bundle	 b;
	char			*pem;

	svc_bundle_get(r->f->svc, &b);
	pem = strndup(b.pem, b.len);
	if (etag != NULL)
		memcpy(etag, b.etag, SVC_ETAG_MAX);
	svc_bundle_unref(&b);
	assert_non_null(pem);
	return pem;
}

/* CONFIG GET tls-ca-cert-file on the node (new). */
static char *
config_ca_file(struct rfx *r, const struct rfx_node *n)
{
	struct rds_conn		*c = rfx_connect(r, n);
	struct rds_reply	*rep = NULL;
	const char		*argv[3] = { "CONFIG", "GET",
				    "tls-ca-cert-file" };
	struct err		 e;
	char			*v;

	err_clear(&e);
	assert_non_null(c);
	if (rds_command(c, 3, argv, NULL, &rep, &e) == -1)
		fail_msg("CONFIG GET: %s", e.msg);
	assert_int_equal(rep->elements, 2);
	v = strdup(rep->element[1]->str);
	rds_reply_free(rep);
	rds_close(c);
	return v;
}

/*
 * A client certificate of the next CA (ca-next.* in the data folder),
 * written to the scratch folder; a PING over a new connection with it,
 * verifying the node against bundle.  0 when PONG.
 */
static int
next_ca_client_ping(struct rfx *r, const struct rfx_node *n,
    const char *bundle)
{
	struct ca		*ca;
	struct ca_csr		*csr;
	struct ca_issue_params	 ip;
	struct ca_cert		 cert;
	struct names		 nm = NAMES_INIT;
	struct rds_tls_opts	 o;
	struct rds_conn		*c;
	struct err		 e;
	char			 path[256], crt[256], key[256], *pem = NULL;
	char			*kpem = NULL;
	int			 rc;

	err_clear(&e);
	snprintf(path, sizeof(path), "%s/ca-next.crt", r->f->dir);
	assert_int_equal(fio_read_all(path, 1 << 20, &pem, NULL, &e), 0);
	snprintf(path, sizeof(path), "%s/ca-next.key", r->f->dir);
	ca = ca_load_pem(pem, NULL, path, NULL, NULL, &e);
	if (ca == NULL)
		fail_msg("the next CA: %s", e.msg);
	fx_names(&nm, "next-client", NULL);
	csr = ca_keygen(KEY_EC_P256, &nm, &kpem, &e);
	assert_non_null(csr);
	memset(&ip, 0, sizeof(ip));
	ip.profile = &r->f->profiles[1];
	ip.ttl = 3600;
	memset(&cert, 0, sizeof(cert));
	if (ca_issue(ca, csr, &ip, &cert, &e) == -1)
		fail_msg("issue from the next CA: %s", e.msg);
	snprintf(crt, sizeof(crt), "%s/next-client.crt", r->dir);
	snprintf(key, sizeof(key), "%s/next-client.key", r->dir);
	unlink(crt);
	unlink(key);
	assert_int_equal(fio_write_excl(crt, cert.pem, strlen(cert.pem), 0600,
	    &e), 0);
	assert_int_equal(fio_write_excl(key, kpem, strlen(kpem), 0600, &e),
	    0);
	memset(&o, 0, sizeof(o));
	o.host = "127.0.0.1";
	o.port = n->port;
	o.ca_pem = bundle;
	o.cert_file = crt;
	o.key_file = key;
	rc = -1;
	if ((c = rds_connect(&o, &e)) != NULL) {
		rc = rds_ping(c, &e);
		rds_close(c);
	}
	if (rc == -1)
		print_message("next CA client: %s\n", e.msg);
	ca_cert_clear(&cert);
	ca_csr_free(csr);
	ca_free(ca);
	names_clear(&nm);
	fio_wipe(kpem, strlen(kpem));
	free(kpem);
	free(pem);
	return rc;
}

static void
test_push_cycle(void **state)
{
	struct rfx			*r = *state;
	struct rfx_node			 n;
	struct svc_ca_prepare_req	 req;
	struct svc_ca_result		 res;
	struct rotation_rec		 rec;
	struct err			 e;
	char				*bundle, *file, *conf, want[600];
	char				 etag[SVC_ETAG_MAX], **stale;
	char				*admin_before, *admin_after;
	size_t				 nstale;

	err_clear(&e);
	admin_internal(r);
	admin_before = rfx_read(r->admin_crt);
	node_up(r, &n, "n1", NULL, NULL);
	/* The node's certificate comes from this CA's rotation. */
	assert_int_equal(svc_rotate(r->f->svc, &r->f->admin, n.name, &rec,
	    &e), 0);
	/* The rotation wrote the bundle: the node is not stale. */
	assert_int_equal(svc_ca_stale_nodes(r->f->svc, &stale, &nstale, &e),
	    0);
	assert_int_equal(nstale, 0);
	svc_ca_names_free(stale, nstale);
	memset(&req, 0, sizeof(req));
	if (svc_ca_prepare(r->f->svc, &r->f->admin, &req, &res, &e) == -1)
		fail_msg("prepare: %s", e.msg);
	assert_int_equal(res.nnodes, 1);
	assert_string_equal(res.nodes[0].name, "n1");
	if (!res.nodes[0].ok)
		fail_msg("push: %s", res.nodes[0].detail);
	svc_ca_result_clear(&res);
	assert_true(fx_audit_has(r->f, "node.bundle", "ok", "n1", NULL));
	/* ca_file is the bundle (two anchors), the node points at it. */
	bundle = bundle_now(r, etag);
	file = rfx_read_in(&n, "ca.crt");
	assert_string_equal(file, bundle);
	assert_non_null(strstr(strstr(bundle, "END CERTIFICATE") + 1,
	    "BEGIN CERTIFICATE"));
	conf = config_ca_file(r, &n);
	snprintf(want, sizeof(want), "%s/ca.crt", n.cert_dir);
	assert_string_equal(conf, want);
	assert_int_equal(svc_ca_stale_nodes(r->f->svc, &stale, &nstale, &e),
	    0);
	assert_int_equal(nstale, 0);
	svc_ca_names_free(stale, nstale);
	/* A client of the next CA is accepted already. */
	assert_int_equal(next_ca_client_ping(r, &n, bundle), 0);
	assert_true(rfx_ping(r, &n));
	free(bundle);
	free(file);
	free(conf);

	/* activate: the node is due; its rotation puts it on the new CA. */
	assert_int_equal(svc_ca_activate(r->f->svc, &r->f->admin, false, &res,
	    &e), 0);
	assert_int_equal(res.nnodes, 1);
	svc_ca_result_clear(&res);
	/* The admin certificate was re-issued by the new CA. */
	admin_after = rfx_read(r->admin_crt);
	assert_string_not_equal(admin_before, admin_after);
	assert_true(fx_audit_has(r->f, "certificate.revoke", "ok", NULL,
	    NULL));
	free(admin_before);
	free(admin_after);
	assert_int_equal(svc_rotate(r->f->svc, &r->f->admin, n.name, &rec,
	    &e), 0);
	assert_true(rfx_ping(r, &n));
	/* retire (force: the admin and node certificates of the old CA). */
	if (svc_ca_retire(r->f->svc, &r->f->admin, true, &res, &e) == -1)
		fail_msg("retire: %s", e.msg);
	assert_int_equal(res.nnodes, 1);
	if (!res.nodes[0].ok)
		fail_msg("push after retire: %s", res.nodes[0].detail);
	svc_ca_result_clear(&res);
	assert_true(rfx_ping(r, &n));
	bundle = bundle_now(r, NULL);
	/* One anchor left. */
	assert_null(strstr(strstr(bundle, "END CERTIFICATE") + 1,
	    "BEGIN CERTIFICATE"));
	free(bundle);
}

/* CONFIG SET refused (ACL without +config): the file is put back. */
static void
test_push_rollback(void **state)
{
	struct rfx			*r = *state;
	struct rfx_node			 n;
	struct svc_ca_prepare_req	 req;
	struct svc_ca_result		 res;
	struct err			 e;
	char				 pw[RFX_PATH], *before, *after;
	char				**stale;
	size_t				 nstale;
	FILE				*fp;

	err_clear(&e);
	snprintf(pw, sizeof(pw), "%s/noconf.pw", r->dir);
	assert_non_null(fp = fopen(pw, "w"));
	fputs("pw\n", fp);
	fclose(fp);
	assert_int_equal(chmod(pw, 0600), 0);
	node_up(r, &n, "noconf", "noconf", pw);
	before = rfx_read_in(&n, "ca.crt");
	memset(&req, 0, sizeof(req));
	if (svc_ca_prepare(r->f->svc, &r->f->admin, &req, &res, &e) == -1)
		fail_msg("prepare: %s", e.msg);
	/* The phase stands; the node's push failed and was undone. */
	assert_int_equal(res.nnodes, 1);
	assert_false(res.nodes[0].ok);
	print_message("push: %s\n", res.nodes[0].detail);
	assert_non_null(strstr(res.nodes[0].detail, "NOPERM"));
	assert_non_null(strstr(res.nodes[0].detail, "restored"));
	svc_ca_result_clear(&res);
	after = rfx_read_in(&n, "ca.crt");
	assert_string_equal(before, after);
	assert_true(rfx_ping(r, &n));
	assert_true(fx_audit_has(r->f, "node.bundle", "error", "noconf",
	    NULL));
	assert_int_equal(svc_ca_stale_nodes(r->f->svc, &stale, &nstale, &e),
	    0);
	assert_int_equal(nstale, 1);
	assert_string_equal(stale[0], "noconf");
	svc_ca_names_free(stale, nstale);
	/* activate refuses while the node is stale (unless forced). */
	assert_int_equal(svc_ca_activate(r->f->svc, &r->f->admin, false, &res,
	    &e), -1);
	assert_int_equal(e.code, ERR_CONFLICT);
	assert_non_null(strstr(e.msg, "noconf"));
	svc_ca_result_clear(&res);
	free(before);
	free(after);
}

/*
 * Beside a running serve the CLI's phases push nothing (deferred); the
 * scheduler's tick (the leader: always, on SQLite) pushes the stale
 * node, which then is not stale any more.
 */
static void
test_push_deferred_tick(void **state)
{
	struct rfx			*r = *state;
	struct rfx_node			 n;
	struct svc_ca_prepare_req	 req;
	struct svc_ca_result		 res;
	struct rotation_rec		 rec;
	struct err			 e;
	char				**stale, *bundle, *file;
	size_t				 nstale;

	err_clear(&e);
	node_up(r, &n, "n2", NULL, NULL);
	assert_int_equal(svc_rotate(r->f->svc, &r->f->admin, n.name, &rec,
	    &e), 0);
	svc_ca_set_deferred(r->f->svc, true);
	memset(&req, 0, sizeof(req));
	if (svc_ca_prepare(r->f->svc, &r->f->admin, &req, &res, &e) == -1)
		fail_msg("prepare: %s", e.msg);
	assert_int_equal(res.nnodes, 0);
	svc_ca_result_clear(&res);
	assert_int_equal(svc_ca_stale_nodes(r->f->svc, &stale, &nstale, &e),
	    0);
	assert_int_equal(nstale, 1);
	svc_ca_names_free(stale, nstale);
	/* serve's scheduler: not deferred; its tick pushes. */
	svc_ca_set_deferred(r->f->svc, false);
	(void)svc_tick(r->f->svc);
	assert_int_equal(svc_ca_stale_nodes(r->f->svc, &stale, &nstale, &e),
	    0);
	assert_int_equal(nstale, 0);
	svc_ca_names_free(stale, nstale);
	assert_true(fx_audit_has(r->f, "node.bundle", "ok", "n2", NULL));
	bundle = bundle_now(r, NULL);
	file = rfx_read_in(&n, "ca.crt");
	assert_string_equal(file, bundle);
	assert_true(rfx_ping(r, &n));
	free(bundle);
	free(file);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_push_cycle, rfx_setup,
		    rfx_teardown),
		cmocka_unit_test_setup_teardown(test_push_rollback,
		    rfx_setup, rfx_teardown),
		cmocka_unit_test_setup_teardown(test_push_deferred_tick,
		    rfx_setup, rfx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
