/*
 * Tests for fleets (SPEC section 11; service/groups.c, drift.c,
 * schedule_nodes.c, pool.c, nodes_probe.c) against real redis-servers on
 * 127.0.0.1: a primary and two TLS replicas rotated as a group in the
 * order replica, replica, primary; a group stopped at its first failure
 * with the next member untouched; the jitter (stable, bounded, spread);
 * the scheduler never exceeding rotation.max_parallel; drift found,
 * audited once, ended by a rotation; a busy or unreachable node never
 * reported as drift; the groups' listing and the refusals; the walk
 * over every node that the scheduler, the drift check and activate use.
 */
#include <sys/stat.h>

#include <fcntl.h>
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
#include "twait.h"
#include "svc_int.h"
#include "timeutil.h"

#define CONF_MAX	4096
#define POLL_DEADLINE_MS	10000

/* How many audit entries match action, outcome, object and detail_sub. */
static size_t
audit_count(struct fx *f, const char *action, const char *outcome,
    const char *object, const char *detail_sub)
{
	struct audit_rec	*list = NULL;
	size_t			 n = 0, hits = 0;
	int64_t			 after = 0, next = 0;
	struct err		 e;

	err_clear(&e);
	do {
		assert_int_equal(svc_audit_list(f->svc, after, 500, &list, &n,
		    &next, &e), 0);
		for (size_t i = 0; i < n; i++)
			if (strcmp(list[i].action, action) == 0 &&
			    strcmp(audit_outcome_name(list[i].outcome),
			    outcome) == 0 && (object == NULL ||
			    strcmp(list[i].object, object) == 0) &&
			    (detail_sub == NULL ||
			    strstr(list[i].detail, detail_sub) != NULL))
				hits++;
		svc_audit_list_free(list, n);
		after = next;
	} while (next != 0);
	return hits;
}

/* The node's view (the test fails when it is not there). */
static void
view(struct rfx *r, const char *name, struct svc_node_view *v)
{
	struct err e;

	err_clear(&e);
	if (svc_node_get(r->f->svc, name, v, &e) == -1)
		fail_msg("node %s: %s", name, e.msg);
}

/* Wait (bounded) until replica rep reports master_link_status:up. */
static void
link_up(struct rfx *r, const struct rfx_node *rep)
{
	int64_t deadline = tw_mono_ms() + POLL_DEADLINE_MS;

	while (tw_mono_ms() < deadline) {
		struct rds_conn		*c = rfx_connect(r, rep);
		struct rds_role_info	 ri;
		struct err		 e;
		bool			 up;

		err_clear(&e);
		up = rds_role_read(c, &ri, &e) == 0 &&
		    ri.role == RDS_ROLE_REPLICA && ri.link_up;
		rds_close(c);
		if (up)
			return;
		tw_sleep_ms(100);
	}
	fail_msg("replica %s: the link to its primary is not up", rep->name);
}

/*
 * A primary (named to sort first) and two TLS replicas in one group
 * rotate replica, replica, primary, and replication still works.
 */
static void
test_group_order(void **state)
{
	struct rfx		*r = *state;
	struct rfx_node		 pri, rep1, rep2;
	struct svc_group_result	 res;
	struct svc_node_view	 v;
	struct svc_group	*groups = NULL;
	size_t			 ngroups = 0;
	char			 extra[256];
	char			 served[RCA_SERIAL_HEX_MAX + 1];
	struct err		 e;

	err_clear(&e);
	rfx_node_up(r, &pri, "a-primary", NULL);
	snprintf(extra, sizeof(extra), "replicaof 127.0.0.1 %d\n", pri.port);
	rfx_node_up(r, &rep1, "b-replica", extra);
	rfx_node_up(r, &rep2, "c-replica", extra);
	rfx_register_group(r, &pri, NULL, "cache", NULL, NULL);
	rfx_register_group(r, &rep1, NULL, "cache", NULL, NULL);
	rfx_register_group(r, &rep2, NULL, "cache", NULL, NULL);
	link_up(r, &rep1);
	link_up(r, &rep2);

	view(r, "b-replica", &v);
	assert_string_equal(v.node.group, "cache");
	assert_int_equal(v.node.mode, NODE_MODE_PUSH);
	svc_node_view_clear(&v);

	if (svc_group_rotate(r->f->svc, &r->f->admin, "cache", &res,
	    &e) == -1) {
		for (size_t i = 0; i < res.n; i++)
			rfx_dump(&res.recs[i]);
		fail_msg("group rotate: %s", e.msg);
	}
	assert_false(res.stopped);
	assert_string_equal(res.group, "cache");
	assert_int_equal(res.n, 3);
	assert_int_equal(res.nskipped, 0);
	assert_string_equal(res.recs[0].node, "b-replica");
	assert_string_equal(res.recs[1].node, "c-replica");
	assert_string_equal(res.recs[2].node, "a-primary");
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(res.recs[i].status, ROT_SUCCEEDED);
		if (i > 0)
			assert_true(res.recs[i].started_at >=
			    res.recs[i - 1].finished_at);
	}
	rfx_served(r, &pri, served);
	assert_string_equal(served, res.recs[2].new_serial);
	assert_true(fx_audit_has(r->f, "group.rotate", "ok", "cache",
	    "order=b-replica(replica),c-replica(replica),a-primary(primary)"));
	svc_group_result_clear(&res);
	/* The replicas reconnect to the rotated primary. */
	link_up(r, &rep1);
	link_up(r, &rep2);

	/* The groups' listing: one group of three, by name. */
	assert_int_equal(svc_group_list(r->f->svc, &groups, &ngroups, &e), 0);
	assert_int_equal(ngroups, 1);
	assert_string_equal(groups[0].group, "cache");
	assert_int_equal(groups[0].n, 3);
	assert_string_equal(groups[0].members[0].name, "a-primary");
	assert_int_equal(groups[0].members[0].mode, NODE_MODE_PUSH);
	assert_int_equal(groups[0].status, NODE_OK);
	svc_group_list_free(groups, ngroups);

	/* The drift check stores the roles it sees. */
	assert_int_equal(svc_drift_pass(r->f->svc, tu_now()), 0);
	assert_int_equal(svc_group_list(r->f->svc, &groups, &ngroups, &e), 0);
	assert_string_equal(groups[0].members[0].role, "primary");
	assert_string_equal(groups[0].members[1].role, "replica");
	assert_string_equal(groups[0].members[2].role, "replica");
	svc_group_list_free(groups, ngroups);

	rfx_stop(&rep2);
	rfx_stop(&rep1);
	rfx_stop(&pri);
}

/* Write a password file for the noconf user (no CONFIG). */
static void
password_file(struct rfx *r, char *pw, size_t sz)
{
	FILE *fp;

	snprintf(pw, sz, "%s/noconf.pw", r->dir);
	assert_non_null(fp = fopen(pw, "w"));
	fputs("pw\n", fp);
	fclose(fp);
	assert_int_equal(chmod(pw, 0600), 0);
}

/*
 * The second member's CONFIG SET is refused (an ACL user without
 * +config): rolled back, the group stops, the third is untouched.
 */
static void
test_group_stops(void **state)
{
	struct rfx		*r = *state;
	struct rfx_node		 n1, n2, n3;
	struct svc_group_result	 res;
	struct svc_node_view	 v;
	struct rotation_rec	*list = NULL;
	size_t			 cnt = 0;
	int64_t			 next = 0;
	char			 pw[RFX_PATH], served[RCA_SERIAL_HEX_MAX + 1];
	struct err		 e;

	err_clear(&e);
	password_file(r, pw, sizeof(pw));
	rfx_node_up(r, &n1, "s1", NULL);
	rfx_node_up(r, &n2, "s2", NULL);
	rfx_node_up(r, &n3, "s3", NULL);
	rfx_register_group(r, &n1, NULL, "shard", NULL, NULL);
	rfx_register_group(r, &n2, NULL, "shard", "noconf", pw);
	rfx_register_group(r, &n3, NULL, "shard", NULL, NULL);

	assert_int_equal(svc_group_rotate(r->f->svc, &r->f->admin, "shard",
	    &res, &e), -1);
	assert_int_equal(e.code, ERR_ROTATION_FAILED);
	assert_true(res.stopped);
	assert_int_equal(res.n, 2);
	assert_string_equal(res.recs[0].node, "s1");
	assert_int_equal(res.recs[0].status, ROT_SUCCEEDED);
	assert_string_equal(res.recs[1].node, "s2");
	rfx_dump(&res.recs[1]);
	assert_int_equal(res.recs[1].status, ROT_ROLLED_BACK);
	assert_int_equal(res.nskipped, 1);
	assert_string_equal(res.skipped[0].node, "s3");
	assert_string_equal(res.skipped[0].reason, "stopped");
	svc_group_result_clear(&res);
	assert_true(fx_audit_has(r->f, "group.rotate", "error", "shard",
	    "stopped at s2"));

	/* s3: no rotation, still serving its first certificate. */
	assert_int_equal(svc_rotation_list(r->f->svc, "s3", 0, 10, &list,
	    &cnt, &next, &e), 0);
	assert_int_equal(cnt, 0);
	svc_rotation_list_free(list, cnt);
	rfx_served(r, &n3, served);
	assert_string_equal(served, n3.serial);
	view(r, "s3", &v);
	assert_int_equal(v.node.current_serial[0], '\0');
	svc_node_view_clear(&v);
	/* s2 serves its old certificate again. */
	rfx_served(r, &n2, served);
	assert_string_equal(served, n2.serial);

	rfx_stop(&n3);
	rfx_stop(&n2);
	rfx_stop(&n1);
}

static void
test_group_refusals(void **state)
{
	struct rfx		*r = *state;
	struct rfx_node		 n;
	struct svc_group_result	 res;
	struct svc_actor	 tok, none;
	struct svc_node_req	 req;
	struct svc_node_view	 v;
	struct names		 sans = NAMES_INIT;
	struct err		 e;

	err_clear(&e);
	fx_enroll(r->f, "redis-client", "*.example.com", 1, 3600, 0, &tok,
	    NULL);
	svc_actor_init(&none, ACTOR_NONE);
	assert_int_equal(svc_group_rotate(r->f->svc, &tok, "cache", &res,
	    &e), -1);
	assert_int_equal(e.code, ERR_FORBIDDEN);
	assert_int_equal(res.n, 0);
	assert_int_equal(svc_group_rotate(r->f->svc, &none, "cache", &res,
	    &e), -1);
	assert_int_equal(e.code, ERR_FORBIDDEN);
	assert_true(fx_audit_has(r->f, "group.rotate", "denied", "cache",
	    NULL));
	/* No member, and a name no group can have: 404. */
	assert_int_equal(svc_group_rotate(r->f->svc, &r->f->admin, "empty",
	    &res, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(svc_group_rotate(r->f->svc, &r->f->admin, "Bad/..",
	    &res, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(svc_group_rotate(r->f->svc, &r->f->admin, NULL,
	    &res, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);

	/* A bad group at registration names the field. */
	rfx_node_init(r, &n, "grp");
	assert_int_equal(names_add(&sans, NAME_IP, "127.0.0.1", &e), 0);
	memset(&req, 0, sizeof(req));
	req.name = n.name;
	req.host = "127.0.0.1";
	req.port = n.port;
	req.sans = &sans;
	req.cert_dir = n.cert_dir;
	req.group = "Not A Group";
	assert_int_equal(svc_node_create(r->f->svc, &r->f->admin, &req, &v,
	    &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_non_null(strstr(e.msg, "group"));
	req.group = "-leading-dash";
	assert_int_equal(svc_node_create(r->f->svc, &r->f->admin, &req, &v,
	    &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	/* None: the node's own name. */
	req.group = NULL;
	assert_int_equal(svc_node_create(r->f->svc, &r->f->admin, &req, &v,
	    &e), 0);
	assert_string_equal(v.node.group, "grp");
	svc_node_view_clear(&v);
	names_clear(&sans);

	/* A member busy before the start: 409, nothing rotated. */
	assert_true(svc_node_lock(r->f->svc, "grp"));
	assert_int_equal(svc_group_rotate(r->f->svc, &r->f->admin, "grp",
	    &res, &e), -1);
	assert_int_equal(e.code, ERR_CONFLICT);
	assert_int_equal(res.n, 0);
	svc_node_unlock(r->f->svc, "grp");
	svc_actor_clear(&tok);
	svc_actor_clear(&none);
}

/* The jitter: stable, within a tenth of the lifetime, spread. */
static void
test_jitter(void **state)
{
	int64_t		life = 72 * 3600, j, lo = life, hi = 0;
	int		buckets[10] = { 0 };
	char		name[32], serial[41];

	(void)state;
	assert_int_equal(svc_node_jitter("n", "01", 0), 0);
	assert_int_equal(svc_node_jitter("n", "01", life),
	    svc_node_jitter("n", "01", life));
	assert_true(svc_node_jitter("n", "01", life) !=
	    svc_node_jitter("n", "02", life) ||
	    svc_node_jitter("n", "03", life) !=
	    svc_node_jitter("n", "02", life));
	/* 100 nodes issued at once: serials in a row. */
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "node-%03d", i);
		snprintf(serial, sizeof(serial), "7a3f00000000000000%04x", i);
		j = svc_node_jitter(name, serial, life);
		assert_true(j >= 0 && j <= life / 10);
		assert_int_equal(j, svc_node_jitter(name, serial, life));
		buckets[j * 10 / (life / 10 + 1)]++;
		if (j < lo)
			lo = j;
		if (j > hi)
			hi = j;
	}
	print_message("jitter of 100 nodes: %lld..%lld s of %lld; buckets",
	    (long long)lo, (long long)hi, (long long)(life / 10));
	for (int b = 0; b < 10; b++) {
		print_message(" %d", buckets[b]);
		/* Spread: no tenth empty, none holding a third. */
		assert_true(buckets[b] >= 1 && buckets[b] <= 33);
	}
	print_message("\n");
	assert_true(hi - lo > life / 20);
}

/*
 * Six due nodes in four groups, rotation.max_parallel 2: the pass never
 * has more than two rotations in flight (and reaches two), rotates them
 * all, the group of three in role order.
 */
static void
test_max_parallel(void **state)
{
	struct rfx		*r = *state;
	struct rfx_node		 n[6];
	static const char *const names[6] = { "p1", "p2", "p3", "q1",
	    "q2", "q0" };
	static const char *const groups[6] = { "g1", "g2", "g3", "gq", "gq",
	    "gq" };
	struct svc_node_view	 v;
	int64_t			 ids[6];
	char			 extra[256];

	r->f->cfg.rotation_max_parallel = 2;
	rfx_set_renew_pct(r, 33);
	/* gq: q0 is the primary (first by name), q1 and q2 replicas. */
	rfx_node_up(r, &n[5], names[5], NULL);
	snprintf(extra, sizeof(extra), "replicaof 127.0.0.1 %d\n", n[5].port);
	for (int i = 0; i < 5; i++)
		rfx_node_up(r, &n[i], names[i], i >= 3 ? extra : NULL);
	for (int i = 0; i < 6; i++)
		rfx_register_group(r, &n[i], NULL, groups[i], NULL, NULL);
	assert_int_equal(svc_rotations_in_flight(r->f->svc), 0);
	assert_int_equal(svc_rotations_in_flight_peak(r->f->svc), 0);
	(void)svc_tick(r->f->svc);
	print_message("peak in flight: %lld\n",
	    (long long)svc_rotations_in_flight_peak(r->f->svc));
	assert_int_equal(svc_rotations_in_flight_peak(r->f->svc), 2);
	assert_int_equal(svc_rotations_in_flight(r->f->svc), 0);
	for (int i = 0; i < 6; i++) {
		view(r, names[i], &v);
		assert_int_equal(v.status, NODE_OK);
		assert_true(v.has_last_rotation);
		ids[i] = v.last_rotation.id;
		svc_node_view_clear(&v);
	}
	/* In its group the primary went last, whatever its name. */
	assert_true(ids[5] > ids[3] && ids[5] > ids[4]);
	assert_true(fx_audit_has(r->f, "node.rotate", "ok", "q0", NULL));
	/* The drift check of the six (two at a time): none drifts. */
	{
		int64_t t0 = tw_mono_ms();

		assert_int_equal(svc_drift_pass(r->f->svc, tu_now()), 0);
		print_message("drift check of 6 nodes, max_parallel 2: "
		    "%lld ms\n", (long long)(tw_mono_ms() - t0));
	}
	assert_int_equal(svc_rotations_in_flight_peak(r->f->svc), 2);
	for (int i = 5; i >= 0; i--)
		rfx_stop(&n[i]);
}

/* Put other's certificate and key into n's files and load them. */
static void
hand_change(struct rfx *r, const struct rfx_node *n,
    const struct rfx_node *other)
{
	static const char *const files[2] = { "redis.crt", "redis.key" };
	char			 path[RFX_PATH * 2];
	const char		*kv[4];
	struct rds_conn		*c;
	struct err		 e;

	err_clear(&e);
	for (int i = 0; i < 2; i++) {
		char	*text = rfx_read_in(other, files[i]);
		FILE	*fp;

		assert_non_null(text);
		snprintf(path, sizeof(path), "%s/%s", n->cert_dir, files[i]);
		(void)unlink(path);
		assert_non_null(fp = fopen(path, "w"));
		fputs(text, fp);
		fclose(fp);
		free(text);
	}
	kv[0] = "tls-cert-file";
	snprintf(path, sizeof(path), "%s/redis.crt", n->cert_dir);
	kv[1] = path;
	kv[2] = "tls-key-file";
	{
		char key[RFX_PATH * 2];

		snprintf(key, sizeof(key), "%s/redis.key", n->cert_dir);
		kv[3] = key;
		c = rfx_connect(r, n);
		assert_int_equal(rds_config_set(c, kv, 2, &e), 0);
		rds_close(c);
	}
}

static bool
listed_drift(struct rfx *r, const char *name)
{
	struct svc_node_view	*list = NULL;
	size_t			 n = 0;
	char			 next[RCA_MAX_NODE_NAME + 1];
	bool			 found = false;
	struct err		 e;

	err_clear(&e);
	assert_int_equal(svc_node_list_status(r->f->svc, NODE_DRIFT, "", 100,
	    &list, &n, next, &e), 0);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(list[i].status, NODE_DRIFT);
		found |= strcmp(list[i].node.name, name) == 0;
	}
	svc_node_list_free(list, n);
	return found;
}

static bool
stat_drift(struct rfx *r, const char *name)
{
	struct svc_node_stats	st;
	struct err		e;
	bool			d = false;

	err_clear(&e);
	assert_int_equal(svc_node_stats(r->f->svc, &st, &e), 0);
	for (size_t i = 0; i < st.nnodes; i++)
		if (strcmp(st.nodes[i].node, name) == 0)
			d = st.nodes[i].drift;
	svc_node_stats_clear(&st);
	return d;
}

/*
 * Drift: a hand-made change is found, audited once, listed, counted in
 * the metrics; a busy node is not looked at; a node that is down is not
 * drift; a rotation ends it ("resolved").
 */
static void
test_drift(void **state)
{
	struct rfx		*r = *state;
	struct rfx_node		 n, other;
	struct rotation_rec	 rec;
	struct svc_node_view	 v;
	char			 rotated[RCA_SERIAL_HEX_MAX + 1];
	char			 want[160];
	struct err		 e;

	err_clear(&e);
	rfx_node_up(r, &n, "drifty", NULL);
	rfx_node_init(r, &other, "elsewhere");
	rfx_register(r, &n, NULL, NULL, NULL);
	assert_int_equal(svc_rotate(r->f->svc, &r->f->admin, n.name, &rec,
	    &e), 0);
	memcpy(rotated, rec.new_serial, sizeof(rotated));
	/* The rotation stored what the node serves: no drift. */
	view(r, n.name, &v);
	assert_string_equal(v.node.served_serial, rotated);
	assert_int_equal(v.node.drift_since, 0);
	svc_node_view_clear(&v);
	assert_int_equal(svc_drift_pass(r->f->svc, tu_now()), 0);
	assert_false(listed_drift(r, n.name));

	hand_change(r, &n, &other);
	/* Busy (a rotation would hold the mark): not looked at. */
	assert_true(svc_node_lock(r->f->svc, n.name));
	assert_int_equal(svc_drift_pass(r->f->svc, tu_now()), 0);
	svc_node_unlock(r->f->svc, n.name);
	view(r, n.name, &v);
	assert_int_equal(v.node.drift_since, 0);
	assert_string_equal(v.node.served_serial, rotated);
	svc_node_view_clear(&v);
	assert_int_equal(audit_count(r->f, "node.drift", "ok", n.name, NULL),
	    0);

	/*
	 * Found by the scheduler within two check intervals (1 s here),
	 * and audited once over the passes that follow.
	 */
	tclock_set(tu_now());
	for (int i = 0; i < 2 && !listed_drift(r, n.name); i++) {
		tclock_advance(1);
		(void)svc_tick(r->f->svc);
	}
	tclock_real();
	assert_true(listed_drift(r, n.name));
	assert_int_equal(svc_drift_pass(r->f->svc, tu_now()), 1);
	assert_int_equal(svc_drift_pass(r->f->svc, tu_now()), 1);
	view(r, n.name, &v);
	assert_int_equal(v.status, NODE_DRIFT);
	assert_true(v.node.drift_since != 0);
	assert_string_equal(v.node.served_serial, other.serial);
	assert_string_equal(v.node.role, "primary");
	svc_node_view_clear(&v);
	snprintf(want, sizeof(want), "drift served=%s recorded=%s",
	    other.serial, rotated);
	assert_int_equal(audit_count(r->f, "node.drift", "ok", n.name, want),
	    1);
	assert_int_equal(audit_count(r->f, "node.drift", "ok", n.name, NULL),
	    1);
	assert_true(listed_drift(r, n.name));
	assert_true(stat_drift(r, n.name));

	/* Down: not drift news; the state is kept. */
	rfx_stop(&n);
	assert_int_equal(svc_drift_pass(r->f->svc, tu_now()), 1);
	view(r, n.name, &v);
	assert_int_equal(v.status, NODE_DRIFT);
	svc_node_view_clear(&v);
	assert_int_equal(audit_count(r->f, "node.drift", "ok", n.name, NULL),
	    1);
	{
		char conf[CONF_MAX];

		rfx_node_conf(&n, NULL, conf, sizeof(conf));
		rfx_start(&n, conf);
	}

	/* A rotation ends it. */
	assert_int_equal(svc_rotate(r->f->svc, &r->f->admin, n.name, &rec,
	    &e), 0);
	view(r, n.name, &v);
	assert_int_equal(v.status, NODE_OK);
	assert_int_equal(v.node.drift_since, 0);
	assert_string_equal(v.node.served_serial, rec.new_serial);
	svc_node_view_clear(&v);
	assert_int_equal(audit_count(r->f, "node.drift", "ok", n.name,
	    "resolved"), 1);
	assert_false(listed_drift(r, n.name));
	assert_false(stat_drift(r, n.name));
	assert_int_equal(svc_drift_pass(r->f->svc, tu_now()), 0);
	assert_int_equal(audit_count(r->f, "node.drift", "ok", n.name, NULL),
	    2);
	rfx_stop(&n);
}

static int
teardown(void **state)
{
	tclock_real();
	return rfx_teardown(state);
}

/* Status words, the worst of two, and the status filter's refusals. */
static void
test_status(void **state)
{
	struct rfx		*r = *state;
	struct svc_node_view	*list = NULL;
	size_t			 n = 0;
	char			 next[RCA_MAX_NODE_NAME + 1];
	enum node_status	 st;
	struct err		 e;

	err_clear(&e);
	assert_true(svc_node_status_parse("drift", &st));
	assert_int_equal(st, NODE_DRIFT);
	assert_string_equal(svc_node_status_name(NODE_DRIFT), "drift");
	assert_true(svc_node_status_parse("rotation_failed", &st));
	assert_int_equal(st, NODE_ROTATION_FAILED);
	assert_false(svc_node_status_parse("drifting", &st));
	assert_false(svc_node_status_parse(NULL, &st));
	assert_int_equal(svc_node_status_worst(NODE_OK, NODE_DRIFT),
	    NODE_DRIFT);
	assert_int_equal(svc_node_status_worst(NODE_ROTATION_FAILED,
	    NODE_DRIFT), NODE_ROTATION_FAILED);
	assert_int_equal(svc_node_status_worst(NODE_EXPIRING, NODE_UNKNOWN),
	    NODE_EXPIRING);
	assert_int_equal(svc_node_status_worst(NODE_UNKNOWN, NODE_OK),
	    NODE_UNKNOWN);
	assert_int_equal(svc_node_list_status(r->f->svc, NODE_OK, "", 0,
	    &list, &n, next, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(svc_node_list_status(r->f->svc, NODE_STATUS__MAX,
	    "", 10, &list, &n, next, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(svc_node_list_status(r->f->svc, NODE_UNKNOWN, "",
	    10, &list, &n, next, &e), 0);
	assert_int_equal(n, 0);
	svc_node_list_free(list, n);
}

/*
 * The unknown-status filter pages: 5 never-rotated nodes among 7, two
 * at a time, without losing one.
 */
static void
test_status_paging(void **state)
{
	struct rfx		*r = *state;
	struct rfx_node		 n[7];
	struct svc_node_view	*list = NULL;
	struct rotation_rec	 rec;
	size_t			 cnt = 0, total = 0;
	char			 after[RCA_MAX_NODE_NAME + 1] = "";
	char			 next[RCA_MAX_NODE_NAME + 1], name[16];
	struct err		 e;

	err_clear(&e);
	for (int i = 0; i < 7; i++) {
		snprintf(name, sizeof(name), "pg%d", i);
		if (i == 1 || i == 4) {
			rfx_node_up(r, &n[i], name, NULL);
			rfx_register(r, &n[i], NULL, NULL, NULL);
			assert_int_equal(svc_rotate(r->f->svc, &r->f->admin,
			    name, &rec, &e), 0);
		} else {
			rfx_node_init(r, &n[i], name);
			rfx_register(r, &n[i], NULL, NULL, NULL);
		}
	}
	do {
		assert_int_equal(svc_node_list_status(r->f->svc, NODE_UNKNOWN,
		    after, 2, &list, &cnt, next, &e), 0);
		assert_true(cnt <= 2);
		for (size_t i = 0; i < cnt; i++) {
			assert_int_equal(list[i].status, NODE_UNKNOWN);
			assert_string_not_equal(list[i].node.name, "pg1");
			assert_string_not_equal(list[i].node.name, "pg4");
		}
		total += cnt;
		svc_node_list_free(list, cnt);
		memcpy(after, next, sizeof(after));
	} while (after[0] != '\0');
	assert_int_equal(total, 5);
	rfx_stop(&n[4]);
	rfx_stop(&n[1]);
}

/* What walk_fn() saw. */
struct walk {
	size_t	seen;
	size_t	stop;		/* walk_fn fails at this node; 0: never */
	bool	ordered;	/* every name after the one before */
	char	last[RCA_MAX_NODE_NAME + 1];
};

static int
walk_fn(void *arg, const struct node_rec *n, struct err *e)
{
	struct walk *w = arg;

	if (w->last[0] != '\0' && strcmp(w->last, n->name) >= 0)
		w->ordered = false;
	snprintf(w->last, sizeof(w->last), "%s", n->name);
	if (++w->seen == w->stop) {
		err_set(e, ERR_CONFLICT, "stop here");
		return -1;
	}
	return 0;
}

/* Keep the pull nodes' names. */
static bool
walk_pick(void *arg, const struct node_rec *n, void *elem)
{
	char *name = elem;

	assert_null(arg);
	assert_int_equal(name[0], '\0');	/* zeroed */
	if (n->mode != NODE_MODE_PULL)
		return false;
	memcpy(name, n->name, RCA_MAX_NODE_NAME + 1);
	return true;
}

/*
 * The node walk (node_walk.c) over more than one page: every node once,
 * in name order; a -1 from the callback, on the second page, stops the
 * walk with the callback's error; the collector keeps only what pick
 * keeps, in name order.
 */
static void
test_node_walk(void **state)
{
	struct fx	*f = *state;
	struct node_rec	 nr;
	struct walk	 w;
	struct err	 e;
	const size_t	 total = RCA_MAX_LIST_LIMIT + 3;
	size_t		 n = 0, pulls = 0;
	void		*got = NULL;
	char		 (*names)[RCA_MAX_NODE_NAME + 1], want[32];

	err_clear(&e);
	for (size_t i = 0; i < total; i++) {
		memset(&nr, 0, sizeof(nr));
		snprintf(nr.name, sizeof(nr.name), "w%05zu", i);
		snprintf(nr.host, sizeof(nr.host), "127.0.0.1");
		nr.port = 6379;
		nr.created_at = 1;
		nr.mode = i % 7 == 0 ? NODE_MODE_PULL : NODE_MODE_PUSH;
		pulls += nr.mode == NODE_MODE_PULL;
		assert_int_equal(db_node_insert(f->svc->db, &nr, NULL, &e), 0);
	}
	memset(&w, 0, sizeof(w));
	w.ordered = true;
	assert_int_equal(svc_nodes_each(f->svc, walk_fn, &w, &e), 0);
	assert_int_equal(w.seen, total);
	assert_true(w.ordered);
	assert_string_equal(w.last, "w01002");

	memset(&w, 0, sizeof(w));
	w.stop = RCA_MAX_LIST_LIMIT + 2;
	assert_int_equal(svc_nodes_each(f->svc, walk_fn, &w, &e), -1);
	assert_int_equal(e.code, ERR_CONFLICT);
	assert_string_equal(e.msg, "stop here");
	assert_int_equal(w.seen, w.stop);

	err_clear(&e);
	assert_int_equal(svc_nodes_collect(f->svc, walk_pick, NULL,
	    RCA_MAX_NODE_NAME + 1, &got, &n, &e), 0);
	assert_int_equal(n, pulls);
	names = got;
	for (size_t i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "w%05zu", i * 7);
		assert_string_equal(names[i], want);
	}
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jitter),
		cmocka_unit_test_setup_teardown(test_group_order, rfx_setup,
		    rfx_teardown),
		cmocka_unit_test_setup_teardown(test_group_stops, rfx_setup,
		    rfx_teardown),
		cmocka_unit_test_setup_teardown(test_group_refusals,
		    rfx_setup, rfx_teardown),
		cmocka_unit_test_setup_teardown(test_max_parallel, rfx_setup,
		    rfx_teardown),
		cmocka_unit_test_setup_teardown(test_drift, rfx_setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_status, rfx_setup,
		    rfx_teardown),
		cmocka_unit_test_setup_teardown(test_status_paging, rfx_setup,
		    rfx_teardown),
		cmocka_unit_test_setup_teardown(test_node_walk, fx_setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
