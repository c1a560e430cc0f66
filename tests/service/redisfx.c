/*
 * Fixture of the node tests: real redis-servers with certificates from
 * the service fixture's CA (tests/support's redis_server.c starts and
 * stops the processes), and helpers that talk to them as the admin.
 */
#include <sys/stat.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "fileio.h"
#include "redis_server.h"
#include "redisfx.h"

/* How long a redis-server may take to listen. */
#define START_WAIT_MS	10000

/*
 * Every server started and not yet stopped, so that teardown stops the
 * ones a failed test (cmocka jumps out of it) left running.
 */
#define RFX_MAX_SERVERS	16
static pid_t	running[RFX_MAX_SERVERS];

static void
running_set(pid_t old, pid_t pid)
{
	for (int i = 0; i < RFX_MAX_SERVERS; i++)
		if (running[i] == old) {
			running[i] = pid;
			return;
		}
}

static void
join(char *out, size_t n, const char *dir, const char *name)
{
	int w = snprintf(out, n, "%s/%s", dir, name);

	assert_true(w > 0 && (size_t)w < n);
}

static void
put(const char *path, const char *text, mode_t mode)
{
	struct err e;

	err_clear(&e);
	if (fio_write_atomic(path, text, strlen(text), mode, &e) == -1)
		fail_msg("write %s: %s", path, e.msg);
}

static void
reopen(struct rfx *r, int pct)
{
	r->f->cfg.admin_cert = r->admin_crt;
	r->f->cfg.admin_key = r->admin_key;
	r->f->cfg.rotation_check_interval = 1;
	r->f->cfg.rotation_renew_before_pct = pct;
	/* Nodes live in the scratch folder, outside the data folder. */
	r->allowed[0] = r->dir;
	r->f->cfg.node_allowed_dirs = r->allowed;
	r->f->cfg.nnode_allowed_dirs = 1;
	fx_reopen(r->f);
}

int
rfx_setup(void **state)
{
	struct rfx		*r;
	struct svc_issue_req	 req;
	struct svc_issued	 iss;
	struct names		 nm = NAMES_INIT;
	struct err		 e;
	void			*fs = NULL;

	err_clear(&e);
	assert_int_equal(fx_setup(&fs), 0);
	r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->f = fs;
	snprintf(r->dir, sizeof(r->dir), "/tmp/rca-nodes-XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	/* redis-server may run as another user in real life; here it is
	 * us, but the folder must still be searchable. */
	assert_int_equal(chmod(r->dir, 0755), 0);
	join(r->admin_crt, sizeof(r->admin_crt), r->dir, "admin.crt");
	join(r->admin_key, sizeof(r->admin_key), r->dir, "admin.key");

	fx_names(&nm, "redis-ca-admin", NULL);
	memset(&req, 0, sizeof(req));
	req.profile = "redis-client";
	req.names = &nm;
	req.key_type = KEY_EC_P256;
	if (svc_issue(r->f->svc, &r->f->cli, &req, &iss, &e) == -1)
		fail_msg("admin certificate: %s", e.msg);
	put(r->admin_crt, iss.cert.pem, 0444);
	put(r->admin_key, iss.private_key_pem, 0400);
	svc_issued_clear(&iss);
	names_clear(&nm);
	reopen(r, 33);
	*state = r;
	return 0;
}

int
rfx_teardown(void **state)
{
	struct rfx	*r = *state;
	void		*fs = r->f;

	for (int i = 0; i < RFX_MAX_SERVERS; i++)
		if (running[i] > 0) {
			trs_stop(running[i]);
			running[i] = 0;
		}
	trs_rmtree(r->dir);
	free(r);
	return fx_teardown(&fs);
}

void
rfx_set_renew_pct(struct rfx *r, int pct)
{
	reopen(r, pct);
}

int
rfx_free_port(void)
{
	return trs_free_port();
}

void
rfx_node_init(struct rfx *r, struct rfx_node *n, const char *name)
{
	rfx_node_init_ttl(r, n, name, 0);
}

void
rfx_node_init_ttl(struct rfx *r, struct rfx_node *n, const char *name,
    int64_t ttl)
{
	struct svc_issue_req	 req;
	struct svc_issued	 iss;
	struct names		 nm = NAMES_INIT;
	struct err		 e;
	char			 p[RFX_PATH], sub[96];

	err_clear(&e);
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", name);
	join(n->cert_dir, sizeof(n->cert_dir), r->dir, name);
	assert_int_equal(mkdir(n->cert_dir, 0755), 0);
	snprintf(sub, sizeof(sub), "%s-data", name);
	join(n->data, sizeof(n->data), r->dir, sub);
	assert_int_equal(mkdir(n->data, 0755), 0);
	snprintf(sub, sizeof(sub), "%s.conf", name);
	join(n->conf, sizeof(n->conf), r->dir, sub);
	snprintf(sub, sizeof(sub), "%s.log", name);
	join(n->log, sizeof(n->log), r->dir, sub);
	n->port = rfx_free_port();

	fx_names(&nm, "localhost", "localhost");
	assert_int_equal(names_add(&nm, NAME_IP, "127.0.0.1", &e), 0);
	memset(&req, 0, sizeof(req));
	req.profile = "redis-node";
	req.names = &nm;
	req.key_type = KEY_EC_P256;
	req.node = name;
	req.ttl = ttl;
	if (svc_issue(r->f->svc, &r->f->cli, &req, &iss, &e) == -1)
		fail_msg("bootstrap certificate: %s", e.msg);
	join(p, sizeof(p), n->cert_dir, "redis.crt");
	put(p, iss.cert.pem, 0444);
	join(p, sizeof(p), n->cert_dir, "redis.key");
	put(p, iss.private_key_pem, 0400);
	join(p, sizeof(p), n->cert_dir, "ca.crt");
	put(p, iss.ca_pem, 0444);
	snprintf(n->serial, sizeof(n->serial), "%s", iss.cert.serial);
	svc_issued_clear(&iss);
	names_clear(&nm);
}

void
rfx_node_conf(const struct rfx_node *n, const char *extra, char *out,
    size_t outsz)
{
	int w;

	w = snprintf(out, outsz,
	    "port 0\n"
	    "bind 127.0.0.1\n"
	    "tls-port %d\n"
	    "tls-cert-file %s/redis.crt\n"
	    "tls-key-file %s/redis.key\n"
	    "tls-ca-cert-file %s/ca.crt\n"
	    "tls-auth-clients yes\n"
	    "tls-replication yes\n"
	    "user noconf on >pw ~* &* +@all -config\n"
	    "%s",
	    n->port, n->cert_dir, n->cert_dir, n->cert_dir,
	    extra != NULL ? extra : "");
	assert_true(w > 0 && (size_t)w < outsz);
}

void
rfx_start(struct rfx_node *n, const char *text)
{
	char		 full[8192];
	int		 w;

	/* Where it keeps data and logs: the test's own lines. */
	w = snprintf(full, sizeof(full), "%s\ndir %s\nlogfile %s\n"
	    "save \"\"\nappendonly no\ndaemonize no\n", text, n->data,
	    n->log);
	assert_true(w > 0 && (size_t)w < sizeof(full));
	put(n->conf, full, 0644);
	switch (trs_start(n->conf, n->log, n->port, START_WAIT_MS, &n->pid)) {
	case TRS_READY:
		running_set(0, n->pid);
		return;
	case TRS_EXITED:
		fail_msg("redis-server %s exited at start-up", n->name);
		return;
	default:
		fail_msg("redis-server %s did not start on port %d", n->name,
		    n->port);
		return;
	}
}

void
rfx_restart(struct rfx_node *n, const char *extra)
{
	char conf[RFX_CONF_MAX];

	rfx_node_conf(n, extra, conf, sizeof(conf));
	rfx_start(n, conf);
}

void
rfx_node_up(struct rfx *r, struct rfx_node *n, const char *name,
    const char *extra)
{
	rfx_node_init(r, n, name);
	rfx_restart(n, extra);
}

void
rfx_stop(struct rfx_node *n)
{
	if (n->pid <= 0)
		return;
	trs_stop(n->pid);
	running_set(n->pid, 0);
	n->pid = 0;
}

void
rfx_register(struct rfx *r, const struct rfx_node *n,
    const char *server_name, const char *auth_user,
    const char *password_file)
{
	rfx_register_group(r, n, server_name, NULL, auth_user,
	    password_file);
}

void
rfx_register_group(struct rfx *r, const struct rfx_node *n,
    const char *server_name, const char *group, const char *auth_user,
    const char *password_file)
{
	struct svc_node_req	req;
	struct svc_node_view	v;
	struct names		sans = NAMES_INIT;
	struct err		e;

	err_clear(&e);
	assert_int_equal(names_add(&sans, NAME_IP, "127.0.0.1", &e), 0);
	assert_int_equal(names_add(&sans, NAME_DNS, "localhost", &e), 0);
	if (server_name != NULL && strcmp(server_name, "localhost") != 0)
		assert_int_equal(names_add(&sans, NAME_DNS, server_name, &e),
		    0);
	memset(&req, 0, sizeof(req));
	req.name = n->name;
	req.host = "127.0.0.1";
	req.port = n->port;
	req.server_name = server_name;
	req.sans = &sans;
	req.cert_dir = n->cert_dir;
	req.auth_username = auth_user;
	req.auth_password_file = password_file;
	req.group = group;
	if (svc_node_create(r->f->svc, &r->f->admin, &req, &v, &e) == -1)
		fail_msg("node create %s: %s", n->name, e.msg);
	svc_node_view_clear(&v);
	names_clear(&sans);
}

struct rds_conn *
rfx_connect(struct rfx *r, const struct rfx_node *n)
{
	struct rds_tls_opts	 o;
	struct rds_conn		*c;
	struct err		 e;

	err_clear(&e);
	memset(&o, 0, sizeof(o));
	o.host = "127.0.0.1";
	o.port = n->port;
	o.ca_file = r->f->cert;
	o.cert_file = r->admin_crt;
	o.key_file = r->admin_key;
	o.timeout_ms = 5000;
	if ((c = rds_connect(&o, &e)) == NULL)
		fail_msg("connect to %s: %s", n->name, e.msg);
	return c;
}

void
rfx_served(struct rfx *r, const struct rfx_node *n,
    char out[RCA_SERIAL_HEX_MAX + 1])
{
	struct rds_conn	*c = rfx_connect(r, n);
	struct err	 e;

	err_clear(&e);
	assert_int_equal(rds_peer_serial(c, out, &e), 0);
	rds_close(c);
}

bool
rfx_ping(struct rfx *r, const struct rfx_node *n)
{
	struct rds_conn	*c = rfx_connect(r, n);
	struct err	 e;
	int		 rc;

	err_clear(&e);
	rc = rds_ping(c, &e);
	rds_close(c);
	return rc == 0;
}

char *
rfx_read(const char *path)
{
	struct err	 e;
	char		*buf = NULL;
	size_t		 len;

	err_clear(&e);
	if (fio_read_all(path, 1 << 20, &buf, &len, &e) == -1) {
		if (e.code == ERR_NOT_FOUND)
			return NULL;
		fail_msg("read %s: %s", path, e.msg);
	}
	return buf;
}

char *
rfx_read_in(const struct rfx_node *n, const char *name)
{
	char p[RFX_PATH];

	join(p, sizeof(p), n->cert_dir, name);
	return rfx_read(p);
}

int
rfx_step_at(const struct rotation_rec *rec, const char *name)
{
	for (size_t i = 0; i < rec->nsteps; i++)
		if (strcmp(rec->steps[i].step, name) == 0)
			return (int)i;
	return -1;
}

void
rfx_dump(const struct rotation_rec *rec)
{
	print_message("rotation %lld of %s: %s\n", (long long)rec->id,
	    rec->node, rotation_status_name(rec->status));
	for (size_t i = 0; i < rec->nsteps; i++)
		print_message("  %-16s %s %s\n", rec->steps[i].step,
		    rec->steps[i].ok ? "ok  " : "FAIL", rec->steps[i].detail);
}
