/*
 * Tests for service/rotate.c against real redis-servers on 127.0.0.1:
 * a primary and a TLS replica rotated in turn with replication kept up,
 * the failure paths (node down, CONFIG SET refused, wrong server_name,
 * cert_dir not writable), two rotations at once, and the scheduler.
 * Time that must pass is moved on with the test clock (clock.h); what
 * must happen is polled for with a deadline.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <arpa/inet.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "clock.h"
#include "redisfx.h"
#include "timeutil.h"
#include "twait.h"

/* How long a poll waits for something to happen, at most. */
#define POLL_DEADLINE_MS	10000

/* Every test ends on the real clock, even one that failed. */
static int
teardown(void **state)
{
	tclock_real();
	return rfx_teardown(state);
}

static void
assert_revoked(struct rfx *r, const char *serial, int reason)
{
	struct cert_rec	c;
	struct err	e;

	err_clear(&e);
	assert_int_equal(svc_cert_get(r->f->svc, serial, &c, &e), 0);
	assert_true(c.revoked_at != 0);
	assert_int_equal(c.reason, reason);
	cert_rec_clear(&c);
}

static void
assert_not_revoked(struct rfx *r, const char *serial)
{
	struct cert_rec	c;
	struct err	e;

	err_clear(&e);
	assert_int_equal(svc_cert_get(r->f->svc, serial, &c, &e), 0);
	assert_int_equal(c.revoked_at, 0);
	cert_rec_clear(&c);
}

/* Run a command on n and return its reply (new). */
static struct rds_reply *
cmd(struct rfx *r, const struct rfx_node *n, int argc, const char **argv)
{
	struct rds_conn		*c = rfx_connect(r, n);
	struct rds_reply	*rep = NULL;
	struct err		 e;

	err_clear(&e);
	if (rds_command(c, argc, argv, NULL, &rep, &e) == -1)
		fail_msg("%s on %s: %s", argv[0], n->name, e.msg);
	rds_close(c);
	return rep;
}

/* SET key val on the primary, then wait (bounded) for it on the replica. */
static void
replicated(struct rfx *r, const struct rfx_node *pri,
    const struct rfx_node *rep, const char *key, const char *val)
{
	const char		*set[] = { "SET", key, val };
	const char		*get[] = { "GET", key };
	struct rds_reply	*x;

	int64_t			 deadline = tw_mono_ms() + POLL_DEADLINE_MS;

	x = cmd(r, pri, 3, set);
	assert_int_equal(x->type, RDS_REPLY_STATUS);
	rds_reply_free(x);
	while (tw_mono_ms() < deadline) {
		x = cmd(r, rep, 2, get);
		if (x->type == RDS_REPLY_STRING && strcmp(x->str, val) == 0) {
			rds_reply_free(x);
			return;
		}
		rds_reply_free(x);
		tw_sleep_ms(50);
	}
	fail_msg("%s=%s did not reach the replica", key, val);
}

/* Rotate n, expect success, and check what a success leaves behind. */
static void
rotate_ok(struct rfx *r, const struct rfx_node *n, const char *old)
{
	struct rotation_rec	rec;
	struct svc_node_view	v;
	struct err		e;
	char			served[RCA_SERIAL_HEX_MAX + 1];
	char			*prev, *crt;
	static const char *const steps[] = { "connect", "issue",
	    "write_files", "config_set", "verify_handshake", "ping" };

	err_clear(&e);
	if (svc_rotate(r->f->svc, &r->f->admin, n->name, &rec, &e) == -1) {
		rfx_dump(&rec);
		fail_msg("rotate %s: %s", n->name, e.msg);
	}
	assert_int_equal(rec.status, ROT_SUCCEEDED);
	assert_true(rec.id > 0);
	assert_int_equal(rec.nsteps, 6);
	for (size_t i = 0; i < 6; i++) {
		assert_string_equal(rec.steps[i].step, steps[i]);
		assert_true(rec.steps[i].ok);
	}
	assert_string_equal(rec.old_serial, old);
	assert_string_not_equal(rec.new_serial, old);
	assert_true(rec.finished_at >= rec.started_at);

	rfx_served(r, n, served);
	assert_string_equal(served, rec.new_serial);
	assert_true(rfx_ping(r, n));
	assert_revoked(r, old, REASON_SUPERSEDED);
	assert_not_revoked(r, rec.new_serial);

	/* The previous files are kept beside the new ones. */
	prev = rfx_read_in(n, "redis.crt.prev");
	crt = rfx_read_in(n, "redis.crt");
	assert_non_null(prev);
	assert_non_null(crt);
	assert_string_not_equal(prev, crt);
	free(prev);
	free(crt);

	assert_int_equal(svc_node_get(r->f->svc, n->name, &v, &e), 0);
	assert_string_equal(v.node.current_serial, rec.new_serial);
	assert_int_equal(v.status, NODE_OK);
	assert_true(v.has_last_rotation);
	assert_int_equal(v.last_rotation.id, rec.id);
	assert_true(v.expires_in_seconds > 71 * 3600);
	svc_node_view_clear(&v);
	assert_true(fx_audit_has(r->f, "node.rotate", "ok", n->name,
	    rec.new_serial));
}

static void
test_primary_then_replica(void **state)
{
	struct rfx		*r = *state;
	struct rfx_node		 pri, rep;
	struct svc_node_stats	 st;
	struct rds_conn		*c;
	struct err		 e;
	char			 extra[256], served[RCA_SERIAL_HEX_MAX + 1];
	char			 pri_old[RCA_SERIAL_HEX_MAX + 1];
	char			 rep_old[RCA_SERIAL_HEX_MAX + 1];

	err_clear(&e);
	rfx_node_up(r, &pri, "primary", NULL);
	rfx_node_init(r, &rep, "replica");
	snprintf(extra, sizeof(extra), "replicaof 127.0.0.1 %d\n", pri.port);
	rfx_restart(&rep, extra);
	rfx_register(r, &pri, NULL, NULL, NULL);
	rfx_register(r, &rep, NULL, NULL, NULL);
	memcpy(pri_old, pri.serial, sizeof(pri_old));
	memcpy(rep_old, rep.serial, sizeof(rep_old));
	rfx_served(r, &pri, served);
	assert_string_equal(served, pri_old);

	replicated(r, &pri, &rep, "k0", "before");
	rotate_ok(r, &pri, pri_old);
	replicated(r, &pri, &rep, "k1", "after-primary");
	rotate_ok(r, &rep, rep_old);
	replicated(r, &pri, &rep, "k2", "after-replica");

	/* A full resync makes the replica connect again with its new
	 * certificate, and the primary must accept it. */
	c = rfx_connect(r, &rep);
	{
		const char		*argv[] = { "REPLICAOF", "NO", "ONE" };
		struct rds_reply	*x = NULL;
		char			 port[16];
		const char		*again[] = { "REPLICAOF", "127.0.0.1",
					    port };

		assert_int_equal(rds_command(c, 3, argv, NULL, &x, &e), 0);
		rds_reply_free(x);
		snprintf(port, sizeof(port), "%d", pri.port);
		assert_int_equal(rds_command(c, 3, again, NULL, &x, &e), 0);
		assert_int_equal(x->type, RDS_REPLY_STATUS);
		rds_reply_free(x);
	}
	rds_close(c);
	replicated(r, &pri, &rep, "k3", "after-resync");

	/* Metrics: one successful rotation each. */
	assert_int_equal(svc_node_stats(r->f->svc, &st, &e), 0);
	assert_int_equal(st.nnodes, 2);
	for (size_t i = 0; i < st.nnodes; i++) {
		assert_int_equal(st.nodes[i].rotations[ROT_SUCCEEDED], 1);
		assert_int_equal(st.nodes[i].rotations[ROT_FAILED], 0);
		assert_true(st.nodes[i].cert_not_after > tu_now());
	}
	svc_node_stats_clear(&st);

	rfx_stop(&rep);
	rfx_stop(&pri);
}

/* Compare the three files of n with copies taken before. */
static void
assert_files(const struct rfx_node *n, char *const before[3])
{
	static const char *const names[3] = { "redis.key", "redis.crt",
	    "ca.crt" };

	for (int i = 0; i < 3; i++) {
		char *now = rfx_read_in(n, names[i]);

		assert_non_null(now);
		assert_string_equal(now, before[i]);
		free(now);
	}
}

static void
take_files(const struct rfx_node *n, char *out[3])
{
	out[0] = rfx_read_in(n, "redis.key");
	out[1] = rfx_read_in(n, "redis.crt");
	out[2] = rfx_read_in(n, "ca.crt");
	for (int i = 0; i < 3; i++)
		assert_non_null(out[i]);
}

static void
free_files(char *f[3])
{
	for (int i = 0; i < 3; i++)
		free(f[i]);
}

/* The node state after a failed rotation. */
static void
assert_failed_state(struct rfx *r, const struct rfx_node *n,
    const struct rotation_rec *rec)
{
	struct svc_node_view	v;
	struct err		e;

	err_clear(&e);
	assert_int_equal(svc_node_get(r->f->svc, n->name, &v, &e), 0);
	assert_int_equal(v.status, NODE_ROTATION_FAILED);
	assert_int_equal(v.node.failures, 1);
	/* Backoff: check_interval (1 s here) after the failure. */
	assert_true(v.node.next_attempt_at >= rec->started_at + 1);
	assert_true(v.has_last_rotation);
	assert_int_equal(v.last_rotation.id, rec->id);
	assert_int_equal(v.last_rotation.status, rec->status);
	assert_int_equal(v.last_rotation.nsteps, rec->nsteps);
	svc_node_view_clear(&v);
	assert_true(fx_audit_has(r->f, "node.rotate", "error", n->name,
	    rotation_status_name(rec->status)));
}

/*
 * A node whose certificate expired while the CA was away is still
 * reached (chain and name verified, dates not) and rotated; the new
 * certificate it then serves is checked with its dates.
 */
static void
test_expired_node(void **state)
{
	struct rfx		*r = *state;
	struct rfx_node		 n;
	struct rotation_rec	 rec;
	struct cert_rec		 c;
	struct err		 e;
	char			 served[RCA_SERIAL_HEX_MAX + 1];

	err_clear(&e);
	/*
	 * notBefore is backdated 60 s: a 61 s lifetime ends in 1 s.
	 * Issued two minutes ago by the test clock, it expired long ago.
	 */
	tclock_set(tu_now() - 120);
	rfx_node_init_ttl(r, &n, "expired", 61);
	tclock_real();
	assert_int_equal(svc_cert_get(r->f->svc, n.serial, &c, &e), 0);
	assert_true(c.not_after < tu_now());
	cert_rec_clear(&c);
	rfx_restart(&n, NULL);
	rfx_register(r, &n, NULL, NULL, NULL);

	if (svc_rotate(r->f->svc, &r->f->admin, n.name, &rec, &e) == -1) {
		rfx_dump(&rec);
		fail_msg("rotation of an expired node: %s", e.msg);
	}
	assert_int_equal(rec.status, ROT_SUCCEEDED);
	assert_string_equal(rec.old_serial, n.serial);
	rfx_served(r, &n, served);
	assert_string_equal(served, rec.new_serial);
	assert_true(rfx_ping(r, &n));
	assert_revoked(r, n.serial, REASON_SUPERSEDED);
	rfx_stop(&n);
}

static void
test_node_down(void **state)
{
	struct rfx		*r = *state;
	struct rfx_node		 n;
	struct rotation_rec	 rec;
	struct err		 e;
	char			*before[3], served[RCA_SERIAL_HEX_MAX + 1];

	err_clear(&e);
	rfx_node_up(r, &n, "down", NULL);
	rfx_register(r, &n, NULL, NULL, NULL);
	take_files(&n, before);
	rfx_stop(&n);

	assert_int_equal(svc_rotate(r->f->svc, &r->f->admin, n.name, &rec,
	    &e), -1);
	rfx_dump(&rec);
	assert_int_equal(e.code, ERR_ROTATION_FAILED);
	assert_int_equal(rec.status, ROT_FAILED);
	assert_true(rec.id > 0);
	/* Nothing issued, nothing written. */
	assert_int_equal(rec.nsteps, 1);
	assert_string_equal(rec.steps[0].step, "connect");
	assert_false(rec.steps[0].ok);
	assert_non_null(strstr(rec.steps[0].detail, "nothing was written"));
	assert_string_equal(rec.new_serial, "");
	assert_files(&n, before);
	assert_null(rfx_read_in(&n, "redis.crt.prev"));
	assert_failed_state(r, &n, &rec);

	/* Back up: it serves the old certificate. */
	rfx_restart(&n, NULL);
	rfx_served(r, &n, served);
	assert_string_equal(served, n.serial);
	assert_true(rfx_ping(r, &n));
	assert_not_revoked(r, n.serial);
	free_files(before);
	rfx_stop(&n);
}

static void
test_config_set_refused(void **state)
{
	struct rfx		*r = *state;
	struct rfx_node		 n;
	struct rotation_rec	 rec;
	struct err		 e;
	char			*before[3], served[RCA_SERIAL_HEX_MAX + 1];
	char			 pw[RFX_PATH];
	int			 i;

	err_clear(&e);
	rfx_node_up(r, &n, "noconf", NULL);
	snprintf(pw, sizeof(pw), "%s/noconf.pw", r->dir);
	{
		FILE *fp = fopen(pw, "w");

		assert_non_null(fp);
		fputs("pw\n", fp);
		fclose(fp);
	}
	/* A password file gives others no access (SPEC section 8). */
	assert_int_equal(chmod(pw, 0600), 0);
	rfx_register(r, &n, NULL, "noconf", pw);
	take_files(&n, before);

	assert_int_equal(svc_rotate(r->f->svc, &r->f->admin, n.name, &rec,
	    &e), -1);
	rfx_dump(&rec);
	assert_int_equal(e.code, ERR_ROTATION_FAILED);
	assert_int_equal(rec.status, ROT_ROLLED_BACK);
	assert_true(rec.steps[0].ok);	/* AUTH as noconf works */
	assert_true((i = rfx_step_at(&rec, "write_files")) >= 0);
	assert_true(rec.steps[i].ok);
	assert_true((i = rfx_step_at(&rec, "config_set")) >= 0);
	assert_false(rec.steps[i].ok);
	assert_non_null(strstr(rec.steps[i].detail, "NOPERM"));
	assert_true((i = rfx_step_at(&rec, "rollback")) >= 0);
	assert_true(rec.steps[i].ok);
	assert_non_null(strstr(rec.steps[i].detail, "cessationOfOperation"));
	assert_true(e.msg[0] != '\0');
	/* No password anywhere in the record. */
	for (size_t k = 0; k < rec.nsteps; k++)
		assert_null(strstr(rec.steps[k].detail, ">pw"));

	assert_files(&n, before);
	rfx_served(r, &n, served);
	assert_string_equal(served, n.serial);
	assert_true(rfx_ping(r, &n));
	assert_not_revoked(r, n.serial);
	assert_revoked(r, rec.new_serial, REASON_CESSATION_OF_OPERATION);
	assert_failed_state(r, &n, &rec);
	free_files(before);
	rfx_stop(&n);
}

static void
test_server_name_mismatch(void **state)
{
	struct rfx		*r = *state;
	struct rfx_node		 n;
	struct rotation_rec	 rec;
	struct err		 e;
	char			*before[3], served[RCA_SERIAL_HEX_MAX + 1];

	err_clear(&e);
	rfx_node_up(r, &n, "wrongname", NULL);
	rfx_register(r, &n, "other.example", NULL, NULL);
	take_files(&n, before);

	assert_int_equal(svc_rotate(r->f->svc, &r->f->admin, n.name, &rec,
	    &e), -1);
	rfx_dump(&rec);
	assert_int_equal(rec.status, ROT_FAILED);
	assert_string_equal(rec.steps[0].step, "connect");
	assert_false(rec.steps[0].ok);
	assert_non_null(strstr(rec.steps[0].detail, "mismatch"));
	assert_int_equal(rfx_step_at(&rec, "write_files"), -1);
	assert_files(&n, before);
	rfx_served(r, &n, served);
	assert_string_equal(served, n.serial);
	assert_true(rfx_ping(r, &n));
	assert_failed_state(r, &n, &rec);
	free_files(before);
	rfx_stop(&n);
}

/*
 * We run as root, which ignores mode bits: drop CAP_DAC_OVERRIDE and
 * CAP_DAC_READ_SEARCH from this thread's effective set (they stay
 * permitted, so they come back) while cert_dir is mode 0555.
 */
static void
dac_override(bool on)
{
	struct __user_cap_header_struct	hdr;
	struct __user_cap_data_struct	data[2];
	unsigned			bits;

	if (geteuid() != 0)
		return;
	memset(&hdr, 0, sizeof(hdr));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	assert_int_equal(syscall(SYS_capget, &hdr, data), 0);
	bits = (1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH);
	if (on)
		data[0].effective |= bits & data[0].permitted;
	else
		data[0].effective &= ~bits;
	assert_int_equal(syscall(SYS_capset, &hdr, data), 0);
}

static void
test_cert_dir_not_writable(void **state)
{
	struct rfx		*r = *state;
	struct rfx_node		 n;
	struct rotation_rec	 rec;
	struct err		 e;
	char			*before[3], served[RCA_SERIAL_HEX_MAX + 1];
	int			 i, rc;

	err_clear(&e);
	rfx_node_up(r, &n, "readonly", NULL);
	rfx_register(r, &n, NULL, NULL, NULL);
	take_files(&n, before);

	assert_int_equal(chmod(n.cert_dir, 0555), 0);
	dac_override(false);
	rc = svc_rotate(r->f->svc, &r->f->admin, n.name, &rec, &e);
	dac_override(true);
	assert_int_equal(chmod(n.cert_dir, 0755), 0);
	rfx_dump(&rec);
	assert_int_equal(rc, -1);
	assert_int_equal(rec.status, ROT_ROLLED_BACK);
	assert_true((i = rfx_step_at(&rec, "write_files")) >= 0);
	assert_false(rec.steps[i].ok);
	assert_non_null(strstr(rec.steps[i].detail, "ermission denied"));
	assert_int_equal(rfx_step_at(&rec, "config_set"), -1);
	assert_true((i = rfx_step_at(&rec, "rollback")) >= 0);
	assert_true(rec.steps[i].ok);
	assert_non_null(strstr(rec.steps[i].detail, "no CONFIG SET"));

	assert_files(&n, before);
	rfx_served(r, &n, served);
	assert_string_equal(served, n.serial);
	assert_true(rfx_ping(r, &n));
	assert_revoked(r, rec.new_serial, REASON_CESSATION_OF_OPERATION);
	assert_failed_state(r, &n, &rec);
	free_files(before);
	rfx_stop(&n);
}

/*
 * Two rotations at once.  The first is held in its connect step by a
 * listener that accepts TCP but never speaks TLS (it times out after
 * the redis/ default of 5 s), so the second surely overlaps it.
 */
struct rot_arg {
	struct rfx		*r;
	const char		*name;
	struct rotation_rec	 rec;
	struct err		 e;
	int			 rc;
};

static void *
rotate_thread(void *p)
{
	struct rot_arg *a = p;

	a->rc = svc_rotate(a->r->f->svc, &a->r->f->admin, a->name, &a->rec,
	    &a->e);
	return NULL;
}

static void
test_concurrent(void **state)
{
	struct rfx		*r = *state;
	struct rfx_node		 n;
	struct rot_arg		 a;
	struct rotation_rec	 rec;
	struct sockaddr_in	 sa;
	socklen_t		 len = sizeof(sa);
	struct err		 e;
	struct pollfd		 pfd;
	pthread_t		 t;
	int			 fd;

	err_clear(&e);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);

	rfx_node_init(r, &n, "slow");
	n.port = ntohs(sa.sin_port);
	rfx_register(r, &n, NULL, NULL, NULL);

	memset(&a, 0, sizeof(a));
	a.r = r;
	a.name = n.name;
	assert_int_equal(pthread_create(&t, NULL, rotate_thread, &a), 0);
	/*
	 * The rotation holds the node once it connects (after taking the
	 * mark), and then waits for a TLS answer that never comes.
	 */
	pfd.fd = fd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, POLL_DEADLINE_MS), 1);
	assert_int_equal(svc_rotate(r->f->svc, &r->f->admin, n.name, &rec,
	    &e), -1);
	assert_int_equal(e.code, ERR_CONFLICT);
	assert_int_equal(rec.id, 0);
	err_clear(&e);
	assert_int_equal(svc_node_delete(r->f->svc, &r->f->admin, n.name, &e),
	    -1);
	assert_int_equal(e.code, ERR_CONFLICT);
	assert_int_equal(pthread_join(t, NULL), 0);
	close(fd);

	assert_int_equal(a.rc, -1);
	assert_int_equal(a.e.code, ERR_ROTATION_FAILED);
	assert_int_equal(a.rec.status, ROT_FAILED);
	assert_true(fx_audit_has(r->f, "node.rotate", "denied", n.name,
	    "conflict"));
	/* Free again once the first is over. */
	err_clear(&e);
	assert_int_equal(svc_node_delete(r->f->svc, &r->f->admin, n.name, &e),
	    0);
}

static void
test_refusals(void **state)
{
	struct rfx		*r = *state;
	struct svc_actor	 tok, none;
	struct rotation_rec	 rec;
	struct err		 e;

	err_clear(&e);
	assert_int_equal(svc_rotate(r->f->svc, &r->f->admin, "no-such",
	    &rec, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(svc_rotate(r->f->svc, &r->f->admin, "Bad/Name",
	    &rec, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	fx_enroll(r->f, "redis-node", "*.example", 1, 3600, 0, &tok, NULL);
	assert_int_equal(svc_rotate(r->f->svc, &tok, "no-such", &rec, &e),
	    -1);
	assert_int_equal(e.code, ERR_FORBIDDEN);
	svc_actor_init(&none, ACTOR_NONE);
	assert_int_equal(svc_rotate(r->f->svc, &none, "no-such", &rec, &e),
	    -1);
	assert_int_equal(e.code, ERR_FORBIDDEN);
	assert_true(fx_audit_has(r->f, "node.rotate", "denied", NULL,
	    "forbidden"));
	svc_actor_clear(&tok);
}

/*
 * The scheduler: a node registered with a 2-minute ttl is rotated by
 * svc_tick() at once (never rotated), then again once less than half of
 * its lifetime (120 s + the 60 s backdating) is left.
 */
static void
test_scheduler(void **state)
{
	struct rfx		*r = *state;
	struct rfx_node		 n;
	struct svc_node_req	 req;
	struct svc_node_view	 v;
	struct names		 sans = NAMES_INIT;
	struct err		 e;
	char			 first[RCA_SERIAL_HEX_MAX + 1];
	char			 served[RCA_SERIAL_HEX_MAX + 1];
	int64_t			 t0, wait;
	bool			 again = false;

	err_clear(&e);
	rfx_set_renew_pct(r, 50);
	rfx_node_up(r, &n, "sched", NULL);
	assert_int_equal(names_add(&sans, NAME_IP, "127.0.0.1", &e), 0);
	memset(&req, 0, sizeof(req));
	req.name = n.name;
	req.host = "127.0.0.1";
	req.port = n.port;
	req.sans = &sans;
	req.cert_dir = n.cert_dir;
	req.ttl = 120;
	assert_int_equal(svc_node_create(r->f->svc, &r->f->admin, &req, &v,
	    &e), 0);
	assert_int_equal(v.status, NODE_UNKNOWN);
	svc_node_view_clear(&v);
	names_clear(&sans);

	wait = svc_tick(r->f->svc);
	assert_true(wait >= 1 && wait <= 60);
	assert_int_equal(svc_node_get(r->f->svc, n.name, &v, &e), 0);
	assert_int_equal(v.status, NODE_OK);
	memcpy(first, v.node.current_serial, sizeof(first));
	assert_true(first[0] != '\0');
	svc_node_view_clear(&v);
	rfx_served(r, &n, served);
	assert_string_equal(served, first);
	assert_revoked(r, n.serial, REASON_SUPERSEDED);
	assert_true(fx_audit_has(r->f, "node.rotate", "ok", n.name, NULL));

	/* Due after about 30 s; allow 100, a second at a time. */
	t0 = tu_now();
	tclock_set(t0);
	while (tu_now() - t0 < 100) {
		tclock_advance(1);
		(void)svc_tick(r->f->svc);
		assert_int_equal(svc_node_get(r->f->svc, n.name, &v, &e), 0);
		again = strcmp(v.node.current_serial, first) != 0;
		svc_node_view_clear(&v);
		if (again)
			break;
	}
	assert_true(again);
	print_message("rotated again after %lld s\n",
	    (long long)(tu_now() - t0));
	/*
	 * SPEC 11: due renew_before (50%) plus the node's jitter (up to
	 * 10% of the lifetime) before notAfter, at the first tick past it.
	 */
	{
		struct cert_rec	c;
		int64_t		life, due;

		assert_int_equal(svc_cert_get(r->f->svc, first, &c, &e), 0);
		life = c.not_after - c.not_before;
		due = c.not_after - (life / 100 * 50 + life % 100 * 50 / 100) -
		    svc_node_jitter(n.name, first, life);
		cert_rec_clear(&c);
		assert_true(tu_now() > due && tu_now() <= due + 2);
		assert_true(tu_now() - t0 >= 20 - life / 10);
	}
	rfx_served(r, &n, served);
	assert_string_not_equal(served, first);
	assert_revoked(r, first, REASON_SUPERSEDED);
	rfx_stop(&n);
}

/*
 * Failed nodes are retried by the scheduler only after their backoff,
 * which doubles with each failure (check_interval is 1 s here).
 */
static size_t
rotations(struct rfx *r, const char *name)
{
	struct rotation_rec	*list = NULL;
	size_t			 cnt = 0;
	int64_t			 next = 0;
	struct err		 e;

	err_clear(&e);
	assert_int_equal(svc_rotation_list(r->f->svc, name, 0, 100, &list,
	    &cnt, &next, &e), 0);
	for (size_t i = 0; i < cnt; i++) {
		assert_string_equal(list[i].steps[0].step, "connect");
		assert_false(list[i].steps[0].ok);
		if (i > 0)
			assert_true(list[i - 1].id > list[i].id);
	}
	svc_rotation_list_free(list, cnt);
	return cnt;
}

static void
test_scheduler_backoff(void **state)
{
	struct rfx		*r = *state;
	struct rfx_node		 n;
	struct svc_node_view	 v;
	int64_t			 due, t0;
	struct err		 e;

	err_clear(&e);
	rfx_node_init(r, &n, "gone");
	rfx_register(r, &n, NULL, NULL, NULL);	/* nothing listens */
	t0 = tu_now();
	(void)svc_tick(r->f->svc);
	assert_int_equal(svc_node_get(r->f->svc, n.name, &v, &e), 0);
	assert_int_equal(v.node.failures, 1);
	assert_true(v.node.next_attempt_at >= t0 + 1);
	assert_int_equal(v.status, NODE_ROTATION_FAILED);
	due = v.node.next_attempt_at;
	svc_node_view_clear(&v);
	assert_int_equal(rotations(r, n.name), 1);

	tclock_set(due);
	t0 = tu_now();
	(void)svc_tick(r->f->svc);
	assert_int_equal(svc_node_get(r->f->svc, n.name, &v, &e), 0);
	assert_int_equal(v.node.failures, 2);
	due = v.node.next_attempt_at;
	assert_true(due >= t0 + 2);
	svc_node_view_clear(&v);
	assert_int_equal(rotations(r, n.name), 2);

	/* A tick inside the (2 s) backoff leaves it alone. */
	tclock_advance(1);
	assert_true(tu_now() < due);
	(void)svc_tick(r->f->svc);
	assert_int_equal(rotations(r, n.name), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_primary_then_replica,
		    rfx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_down,
		    rfx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_node,
		    rfx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_set_refused,
		    rfx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_name_mismatch,
		    rfx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_cert_dir_not_writable,
		    rfx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent,
		    rfx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals,
		    rfx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_scheduler_backoff,
		    rfx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_scheduler,
		    rfx_setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
