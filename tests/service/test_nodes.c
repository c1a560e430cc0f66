/*
 * Tests for service/nodes.c: registration and its validation (every bad
 * value refused with the field named, nothing stored), the node view,
 * listing, deletion, the redis.conf block (used verbatim by a real
 * redis-server that then accepts an issued client certificate) and the
 * per-node metrics.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "fileio.h"
#include "redisfx.h"
#include "timeutil.h"

/* Entries of a folder, without "." and "..". */
static int
entries(const char *dir)
{
	DIR		*d = opendir(dir);
	struct dirent	*de;
	int		 n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* A valid request for node name in dir (sans: 127.0.0.1). */
static void
req_init(struct svc_node_req *q, struct names *sans, const char *name,
    const char *dir)
{
	struct err e;

	err_clear(&e);
	memset(sans, 0, sizeof(*sans));
	assert_int_equal(names_add(sans, NAME_IP, "127.0.0.1", &e), 0);
	memset(q, 0, sizeof(*q));
	q->name = name;
	q->host = "127.0.0.1";
	q->port = 6380;
	q->sans = sans;
	q->cert_dir = dir;
}

/* Expect create to fail with code, the message naming field. */
static void
refused(struct rfx *r, const struct svc_node_req *q, enum err_code code,
    const char *field)
{
	struct svc_node_view	v;
	struct err		e;

	err_clear(&e);
	if (svc_node_create(r->f->svc, &r->f->admin, q, &v, &e) != -1)
		fail_msg("accepted, want %s naming %s", err_code_name(code),
		    field);
	if (e.code != code)
		fail_msg("got %s (%s), want %s", err_code_name(e.code), e.msg,
		    err_code_name(code));
	if (field != NULL && strstr(e.msg, field) == NULL)
		fail_msg("\"%s\" does not name %s", e.msg, field);
}

static void
test_create_validation(void **state)
{
	struct rfx		*r = *state;
	struct svc_node_req	 q;
	struct names		 sans, bad = NAMES_INIT;
	struct svc_node_view	 v;
	struct err		 e;
	char			 dir[RFX_PATH], file[RFX_PATH], pw[RFX_PATH];
	char			 spaced[RFX_PATH];
	size_t			 n = 0;

	err_clear(&e);
	snprintf(dir, sizeof(dir), "%s/certs", r->dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(file, sizeof(file), "%s/plain", r->dir);
	assert_int_equal(fio_write_atomic(file, "x", 1, 0600, &e), 0);
	snprintf(pw, sizeof(pw), "%s/pw", r->dir);
	assert_int_equal(fio_write_atomic(pw, "secret\n", 7, 0600, &e), 0);
	snprintf(spaced, sizeof(spaced), "%s/with space", r->dir);
	assert_int_equal(mkdir(spaced, 0755), 0);

	req_init(&q, &sans, "Bad", dir);
	refused(r, &q, ERR_INVALID_REQUEST, "name");
	q.name = "-lead";
	refused(r, &q, ERR_INVALID_REQUEST, "name");
	q.name = "a.b";
	refused(r, &q, ERR_INVALID_REQUEST, "name");
	q.name = "a234567890123456789012345678901234567890123456789012345678901234";
	refused(r, &q, ERR_INVALID_REQUEST, "name");
	q.name = NULL;
	refused(r, &q, ERR_INVALID_REQUEST, "name");
	names_clear(&sans);

	req_init(&q, &sans, "n1", dir);
	q.host = "";
	refused(r, &q, ERR_INVALID_REQUEST, "host");
	q.host = "bad host";
	refused(r, &q, ERR_INVALID_REQUEST, "host");
	q.host = "*.wild";
	refused(r, &q, ERR_INVALID_REQUEST, "host");
	q.host = "127.0.0.1";
	q.port = 0;
	refused(r, &q, ERR_INVALID_REQUEST, "port");
	q.port = 65536;
	refused(r, &q, ERR_INVALID_REQUEST, "port");
	q.port = 6380;
	q.server_name = "not a name";
	refused(r, &q, ERR_INVALID_REQUEST, "server_name");
	/* The verified name must be among the SANs. */
	q.server_name = "redis.example";
	refused(r, &q, ERR_INVALID_REQUEST, "sans");
	q.server_name = NULL;
	assert_int_equal(names_add(&bad, NAME_URI, "spiffe://x/y", &e), 0);
	q.sans = &bad;
	refused(r, &q, ERR_INVALID_REQUEST, "sans.uri");
	q.sans = &sans;

	q.cert_dir = "relative/dir";
	refused(r, &q, ERR_INVALID_REQUEST, "cert_dir");
	q.cert_dir = "/no/such/dir/at/all";
	refused(r, &q, ERR_INVALID_REQUEST, "cert_dir");
	q.cert_dir = file;
	refused(r, &q, ERR_INVALID_REQUEST, "cert_dir");
	q.cert_dir = spaced;
	refused(r, &q, ERR_INVALID_REQUEST, "cert_dir");
	q.cert_dir = dir;
	q.cert_file = "../escape.crt";
	refused(r, &q, ERR_INVALID_REQUEST, "cert_file");
	q.cert_file = "sub/x.crt";
	refused(r, &q, ERR_INVALID_REQUEST, "cert_file");
	q.cert_file = NULL;
	q.key_file = "..";
	refused(r, &q, ERR_INVALID_REQUEST, "key_file");
	q.key_file = ".";
	refused(r, &q, ERR_INVALID_REQUEST, "key_file");
	q.key_file = NULL;
	q.ca_file = "/etc/passwd";
	refused(r, &q, ERR_INVALID_REQUEST, "ca_file");
	q.ca_file = "redis.crt";
	refused(r, &q, ERR_INVALID_REQUEST, "different");
	q.ca_file = NULL;

	q.profile = "nope";
	refused(r, &q, ERR_UNKNOWN_PROFILE, "nope");
	/* A client-only profile would break replication. */
	q.profile = "redis-client";
	refused(r, &q, ERR_INVALID_REQUEST, "serverAuth");
	q.profile = NULL;
	q.ttl = 31 * 86400;
	refused(r, &q, ERR_TTL_TOO_LONG, "max_ttl");
	q.ttl = -5;
	refused(r, &q, ERR_INVALID_TTL, "ttl");
	q.ttl = 0;
	q.auth_password_file = "pw";
	refused(r, &q, ERR_INVALID_REQUEST, "auth.password_file");
	q.auth_password_file = "/no/such/password";
	refused(r, &q, ERR_INVALID_REQUEST, "auth.password_file");
	q.auth_password_file = NULL;
	q.auth_username = "app";
	refused(r, &q, ERR_INVALID_REQUEST, "auth.password_file");
	q.auth_password_file = pw;
	q.auth_username = "two words";
	refused(r, &q, ERR_INVALID_REQUEST, "auth.username");
	q.auth_username = "app";

	/* Refusals are audited as denied; nothing was stored. */
	assert_true(fx_audit_has(r->f, "node.create", "denied", "n1",
	    "cert_dir"));
	{
		struct svc_node_view	*list = NULL;
		char			 next[RCA_MAX_NODE_NAME + 1];

		assert_int_equal(svc_node_list(r->f->svc, NULL, 100, &list,
		    &n, next, &e), 0);
		assert_int_equal(n, 0);
		svc_node_list_free(list, n);
	}

	/* Now valid: defaults filled in, nothing written to cert_dir. */
	assert_int_equal(svc_node_create(r->f->svc, &r->f->admin, &q, &v,
	    &e), 0);
	assert_string_equal(v.node.cert_file, "redis.crt");
	assert_string_equal(v.node.key_file, "redis.key");
	assert_string_equal(v.node.ca_file, "ca.crt");
	assert_string_equal(v.node.profile, "redis-node");
	assert_string_equal(v.node.auth_username, "app");
	assert_string_equal(v.node.auth_password_file, pw);
	assert_int_equal(v.status, NODE_UNKNOWN);
	assert_false(v.has_last_rotation);
	assert_int_equal(v.expires_in_seconds, 0);
	svc_node_view_clear(&v);
	assert_int_equal(entries(dir), 0);
	assert_true(fx_audit_has(r->f, "node.create", "ok", "n1", NULL));

	refused(r, &q, ERR_ALREADY_EXISTS, NULL);
	names_clear(&sans);
	names_clear(&bad);
}

/* cert_dir is stored resolved: a link to it is followed once, here. */
static void
test_create_resolves_links(void **state)
{
	struct rfx		*r = *state;
	struct svc_node_req	 q;
	struct names		 sans;
	struct svc_node_view	 v;
	struct err		 e;
	char			 dir[RFX_PATH], link[RFX_PATH], dotted[RFX_PATH];

	err_clear(&e);
	snprintf(dir, sizeof(dir), "%s/real", r->dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(link, sizeof(link), "%s/link", r->dir);
	assert_int_equal(symlink(dir, link), 0);
	snprintf(dotted, sizeof(dotted), "%s/real/../real/.", r->dir);

	req_init(&q, &sans, "linked", link);
	assert_int_equal(svc_node_create(r->f->svc, &r->f->admin, &q, &v,
	    &e), 0);
	assert_string_equal(v.node.cert_dir, dir);
	svc_node_view_clear(&v);
	names_clear(&sans);
	req_init(&q, &sans, "dotted", dotted);
	assert_int_equal(svc_node_create(r->f->svc, &r->f->admin, &q, &v,
	    &e), 0);
	assert_string_equal(v.node.cert_dir, dir);
	svc_node_view_clear(&v);
	names_clear(&sans);

	/* No SANs given: the verified name. */
	memset(&q, 0, sizeof(q));
	q.name = "bare";
	q.host = "10.0.0.7";
	q.port = 6379;
	q.server_name = "redis-7.internal";
	q.cert_dir = dir;
	assert_int_equal(svc_node_create(r->f->svc, &r->f->admin, &q, &v,
	    &e), 0);
	assert_int_equal(v.node.sans.n[NAME_DNS], 1);
	assert_string_equal(v.node.sans.list[NAME_DNS][0], "redis-7.internal");
	assert_int_equal(v.node.sans.n[NAME_IP], 0);
	svc_node_view_clear(&v);
}

static void
test_forbidden(void **state)
{
	struct rfx		*r = *state;
	struct svc_node_req	 q;
	struct names		 sans;
	struct svc_node_view	 v;
	struct svc_actor	 tok;
	struct err		 e;

	err_clear(&e);
	req_init(&q, &sans, "n2", r->dir);
	fx_enroll(r->f, "redis-node", "*.example", 1, 3600, 0, &tok, NULL);
	assert_int_equal(svc_node_create(r->f->svc, &tok, &q, &v, &e), -1);
	assert_int_equal(e.code, ERR_FORBIDDEN);
	assert_int_equal(svc_node_create(r->f->svc, &r->f->admin, &q, &v,
	    &e), 0);
	svc_node_view_clear(&v);
	assert_int_equal(svc_node_delete(r->f->svc, &tok, "n2", &e), -1);
	assert_int_equal(e.code, ERR_FORBIDDEN);
	assert_true(fx_audit_has(r->f, "node.delete", "denied", "n2",
	    "forbidden"));
	svc_actor_clear(&tok);
	names_clear(&sans);
}

static void
test_list_get_delete(void **state)
{
	struct rfx		*r = *state;
	struct svc_node_req	 q;
	struct names		 sans;
	struct svc_node_view	 v, *list = NULL;
	struct rotation_rec	*rots = NULL;
	size_t			 n = 0, total = 0;
	int64_t			 rnext = 0;
	char			 next[RCA_MAX_NODE_NAME + 1] = "";
	char			 after[RCA_MAX_NODE_NAME + 1] = "";
	static const char *const names[] = { "c-3", "a-1", "b-2", "d-4",
	    "e-5" };
	struct err		 e;

	err_clear(&e);
	for (size_t i = 0; i < 5; i++) {
		req_init(&q, &sans, names[i], r->dir);
		assert_int_equal(svc_node_create(r->f->svc, &r->f->admin, &q,
		    &v, &e), 0);
		svc_node_view_clear(&v);
		names_clear(&sans);
	}
	/* Pages of two, in name order. */
	do {
		assert_int_equal(svc_node_list(r->f->svc, after, 2, &list, &n,
		    next, &e), 0);
		assert_true(n <= 2);
		for (size_t i = 0; i < n; i++) {
			char want[8];

			snprintf(want, sizeof(want), "%c-%zu",
			    (char)('a' + total), total + 1);
			assert_string_equal(list[i].node.name, want);
			assert_int_equal(list[i].status, NODE_UNKNOWN);
			total++;
		}
		svc_node_list_free(list, n);
		memcpy(after, next, sizeof(after));
	} while (after[0] != '\0');
	assert_int_equal(total, 5);
	assert_int_equal(svc_node_list(r->f->svc, NULL, 0, &list, &n, next,
	    &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);

	assert_int_equal(svc_node_get(r->f->svc, "b-2", &v, &e), 0);
	assert_string_equal(v.node.host, "127.0.0.1");
	assert_int_equal(v.node.port, 6380);
	svc_node_view_clear(&v);
	assert_int_equal(svc_node_get(r->f->svc, "zz", &v, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(svc_node_get(r->f->svc, "../etc", &v, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);

	assert_int_equal(svc_rotation_list(r->f->svc, "b-2", 0, 10, &rots, &n,
	    &rnext, &e), 0);
	assert_int_equal(n, 0);
	svc_rotation_list_free(rots, n);
	assert_int_equal(svc_rotation_list(r->f->svc, "zz", 0, 10, &rots, &n,
	    &rnext, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);

	assert_int_equal(svc_node_delete(r->f->svc, &r->f->admin, "b-2", &e),
	    0);
	assert_int_equal(svc_node_get(r->f->svc, "b-2", &v, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(svc_node_delete(r->f->svc, &r->f->admin, "b-2", &e),
	    -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_true(fx_audit_has(r->f, "node.delete", "ok", "b-2", NULL));
}

/*
 * The redis.conf block, used verbatim (plus the test's own bind, dir
 * and log lines) by a real redis-server, which then serves the node's
 * certificate and accepts an issued redis-client certificate.
 */
static void
test_redis_conf_verbatim(void **state)
{
	struct rfx		*r = *state;
	struct rfx_node		 n;
	struct svc_issue_req	 req;
	struct svc_issued	 iss;
	struct names		 nm = NAMES_INIT;
	struct rds_tls_opts	 o;
	struct rds_conn		*c;
	struct err		 e;
	char			*text = NULL, full[8192];
	char			 crt[RFX_PATH], key[RFX_PATH];
	char			 line[RFX_PATH + 64];
	char			 serial[RCA_SERIAL_HEX_MAX + 1];
	static const char *const want[] = {
		"port 0\n", "tls-auth-clients yes\n",
		"tls-protocols \"TLSv1.2 TLSv1.3\"\n",
		"tls-prefer-server-ciphers yes\n", "tls-replication yes\n",
		"tls-cluster yes\n", "tls-session-caching yes\n",
		"tls-session-cache-size ", "tls-session-cache-timeout ",
		"tls-ciphersuites \"TLS_AES_256_GCM_SHA384:"
		    "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256\"\n",
		"tls-ciphers \"ECDHE-",
	};

	err_clear(&e);
	rfx_node_init(r, &n, "conf");
	rfx_register(r, &n, NULL, NULL, NULL);
	assert_int_equal(svc_node_redis_conf(r->f->svc, "conf", &text, &e), 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (strstr(text, want[i]) == NULL)
			fail_msg("redis.conf lacks %s:\n%s", want[i], text);
	snprintf(line, sizeof(line), "tls-port %d\n", n.port);
	assert_non_null(strstr(text, line));
	snprintf(line, sizeof(line), "tls-cert-file %s/redis.crt\n",
	    n.cert_dir);
	assert_non_null(strstr(text, line));
	snprintf(line, sizeof(line), "tls-key-file %s/redis.key\n",
	    n.cert_dir);
	assert_non_null(strstr(text, line));
	snprintf(line, sizeof(line), "tls-ca-cert-file %s/ca.crt\n",
	    n.cert_dir);
	assert_non_null(strstr(text, line));
	snprintf(full, sizeof(full), "%sbind 127.0.0.1\n", text);
	free(text);
	assert_int_equal(svc_node_redis_conf(r->f->svc, "nope", &text, &e),
	    -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_null(text);
	rfx_start(&n, full);

	/* An application's certificate, as /v1/certificates/generate. */
	fx_names(&nm, "app-1", NULL);
	memset(&req, 0, sizeof(req));
	req.profile = "redis-client";
	req.names = &nm;
	req.key_type = KEY_EC_P256;
	assert_int_equal(svc_issue(r->f->svc, &r->f->admin, &req, &iss, &e),
	    0);
	snprintf(crt, sizeof(crt), "%s/app.crt", r->dir);
	snprintf(key, sizeof(key), "%s/app.key", r->dir);
	assert_int_equal(fio_write_atomic(crt, iss.cert.pem,
	    strlen(iss.cert.pem), 0444, &e), 0);
	assert_int_equal(fio_write_atomic(key, iss.private_key_pem,
	    strlen(iss.private_key_pem), 0400, &e), 0);
	svc_issued_clear(&iss);
	names_clear(&nm);

	memset(&o, 0, sizeof(o));
	o.host = "127.0.0.1";
	o.port = n.port;
	o.ca_file = r->f->cert;
	o.cert_file = crt;
	o.key_file = key;
	o.timeout_ms = 5000;
	c = rds_connect(&o, &e);
	if (c == NULL)
		fail_msg("connect with an issued client certificate: %s",
		    e.msg);
	assert_int_equal(rds_ping(c, &e), 0);
	assert_int_equal(rds_peer_serial(c, serial, &e), 0);
	assert_string_equal(serial, n.serial);
	assert_string_equal(rds_conn_protocol(c), "TLSv1.3");
	rds_close(c);

	/* TLS 1.2 gets an ECDHE AEAD suite. */
	o.max_version = RDS_TLS1_2;
	c = rds_connect(&o, &e);
	assert_non_null(c);
	assert_non_null(strstr(rds_conn_cipher(c), "ECDHE"));
	assert_non_null(strstr(rds_conn_cipher(c), "GCM"));
	rds_close(c);
	rfx_stop(&n);
}

/* The metrics' numbers before any rotation. */
static void
test_stats_empty(void **state)
{
	struct rfx		*r = *state;
	struct svc_node_stats	 st;
	struct svc_node_req	 q;
	struct names		 sans;
	struct svc_node_view	 v;
	struct err		 e;

	err_clear(&e);
	assert_int_equal(svc_node_stats(r->f->svc, &st, &e), 0);
	assert_int_equal(st.nnodes, 0);
	svc_node_stats_clear(&st);
	req_init(&q, &sans, "m1", r->dir);
	assert_int_equal(svc_node_create(r->f->svc, &r->f->admin, &q, &v,
	    &e), 0);
	svc_node_view_clear(&v);
	names_clear(&sans);
	assert_int_equal(svc_node_stats(r->f->svc, &st, &e), 0);
	assert_int_equal(st.nnodes, 1);
	assert_string_equal(st.nodes[0].node, "m1");
	assert_int_equal(st.nodes[0].cert_not_after, 0);
	for (int i = 0; i < ROT_STATUS__MAX; i++)
		assert_int_equal(st.nodes[0].rotations[i], 0);
	svc_node_stats_clear(&st);
	assert_string_equal(svc_node_status_name(NODE_EXPIRING), "expiring");
	assert_string_equal(svc_node_status_name(NODE_ROTATION_FAILED),
	    "rotation_failed");
	assert_string_equal(svc_node_status_name((enum node_status)99),
	    "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_validation,
		    rfx_setup, rfx_teardown),
		cmocka_unit_test_setup_teardown(test_create_resolves_links,
		    rfx_setup, rfx_teardown),
		cmocka_unit_test_setup_teardown(test_forbidden,
		    rfx_setup, rfx_teardown),
		cmocka_unit_test_setup_teardown(test_list_get_delete,
		    rfx_setup, rfx_teardown),
		cmocka_unit_test_setup_teardown(test_redis_conf_verbatim,
		    rfx_setup, rfx_teardown),
		cmocka_unit_test_setup_teardown(test_stats_empty,
		    rfx_setup, rfx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
