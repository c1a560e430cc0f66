/*
 * Tests for db/fleet.c and migration 6 (SPEC section 11): group and mode
 * of a node, groups, what checks see (role, served serial, drift begun
 * and ended, audited once), the drift filter of the node list, pull
 * reports (upsert, rotation record, refusal of a push node's name),
 * and a version 5 database with nodes migrated.  Both backends.
 */
#include <sys/stat.h>

#include "dbtest.h"

static void
mknode(struct node_rec *n, const char *name, const char *group)
{
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", name);
	snprintf(n->host, sizeof(n->host), "10.0.0.1");
	n->port = 6379;
	snprintf(n->profile, sizeof(n->profile), "redis-node");
	snprintf(n->group, sizeof(n->group), "%s", group);
	snprintf(n->current_serial, sizeof(n->current_serial), "aa");
	n->not_after = 5000;
	n->created_at = 1;
}

static void
insert(struct dbt *t, const char *name, const char *group)
{
	struct node_rec n;
	struct err e = { 0 };

	mknode(&n, name, group);
	assert_int_equal(db_node_insert(t->db, &n, NULL, &e), 0);
}

static void
get(struct dbt *t, const char *name, struct node_rec *out)
{
	struct err e = { 0 };

	assert_int_equal(db_node_get(t->db, name, out, &e), 0);
	names_clear(&out->sans);	/* the other fields stay readable */
}

/* Group ('' stored for none or the name itself) and mode round trip. */
static void
test_group_mode(void **state)
{
	struct dbt *t = *state;
	struct node_rec n, got;
	struct err e = { 0 };

	insert(t, "solo", "");
	insert(t, "self", "self");
	mknode(&n, "puller", "shard-a");
	n.mode = NODE_MODE_PULL;
	assert_int_equal(db_node_insert(t->db, &n, NULL, &e), 0);
	get(t, "solo", &got);
	assert_string_equal(got.group, "solo");
	assert_int_equal(got.mode, NODE_MODE_PUSH);
	assert_string_equal(got.role, "");
	assert_int_equal(got.drift_since, 0);
	assert_int_equal(got.last_report_at, 0);
	get(t, "self", &got);
	assert_string_equal(got.group, "self");
	get(t, "puller", &got);
	assert_string_equal(got.group, "shard-a");
	assert_int_equal(got.mode, NODE_MODE_PULL);
	assert_int_equal(dbt_count(t, "SELECT count(*) FROM nodes "
	    "WHERE node_group = ''"), 2);

	mknode(&n, "bad", "");
	n.mode = NODE_MODE__MAX;
	assert_int_equal(db_node_insert(t->db, &n, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_string_equal(e.msg, "invalid node mode");
	assert_int_equal(db_node_get(t->db, "bad", &got, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
}

/* Effective groups: a node's own name, shared by a node naming it. */
static void
test_groups(void **state)
{
	struct dbt *t = *state;
	struct node_rec *list;
	struct err e = { 0 };
	char **g, long_name[RCA_MAX_NODE_NAME + 8];
	size_t n;

	insert(t, "r2", "shard-a");
	insert(t, "r1", "shard-a");
	insert(t, "solo", "");
	insert(t, "x1", "solo");
	assert_int_equal(db_node_groups(t->db, &g, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(g[0], "shard-a");
	assert_string_equal(g[1], "solo");
	db_node_names_free(g, n);

	assert_int_equal(db_node_group_list(t->db, "shard-a", &list, &n, &e),
	    0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "r1");
	assert_string_equal(list[1].name, "r2");
	assert_string_equal(list[1].group, "shard-a");
	db_node_list_free(list, n);
	assert_int_equal(db_node_group_list(t->db, "solo", &list, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "solo");
	assert_string_equal(list[0].group, "solo");
	assert_string_equal(list[1].name, "x1");
	db_node_list_free(list, n);
	assert_int_equal(db_node_group_list(t->db, "none", &list, &n, &e), 0);
	assert_int_equal(n, 0);
	db_node_list_free(list, n);
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(db_node_group_list(t->db, long_name, &list, &n, &e),
	    0);
	assert_int_equal(n, 0);
	assert_int_equal(db_node_group_list(t->db, "", &list, &n, &e), 0);
	assert_int_equal(n, 0);
}

static int64_t
drift_audits(struct dbt *t)
{
	return dbt_count(t, "SELECT count(*) FROM audit "
	    "WHERE action = 'node.drift'");
}

/* Drift begins once (audited once), is kept, and ends. */
static void
test_observe_drift(void **state)
{
	struct dbt *t = *state;
	struct node_rec got;
	struct audit_rec a;
	struct err e = { 0 };
	int ch = 9;

	insert(t, "n1", "");
	dbt_audit(&a, "node.drift", "n1");
	assert_int_equal(db_node_observe(t->db, "n1", "replica", 100, "aa",
	    &ch, &a, &e), 0);
	assert_int_equal(ch, 0);
	get(t, "n1", &got);
	assert_string_equal(got.role, "replica");
	assert_int_equal(got.role_at, 100);
	assert_string_equal(got.served_serial, "aa");
	assert_int_equal(got.served_at, 100);
	assert_int_equal(got.drift_since, 0);
	assert_int_equal(drift_audits(t), 0);

	/* Drift begins: audited in the same transaction. */
	assert_int_equal(db_node_observe(t->db, "n1", "primary", 200, "BB",
	    &ch, &a, &e), 0);
	assert_int_equal(ch, 1);
	get(t, "n1", &got);
	assert_string_equal(got.served_serial, "bb");
	assert_string_equal(got.role, "primary");
	assert_int_equal(got.drift_since, 200);
	assert_int_equal(drift_audits(t), 1);

	/* Still drifting: the first time stays, no second audit entry. */
	assert_int_equal(db_node_observe(t->db, "n1", NULL, 300, "bb", &ch,
	    &a, &e), 0);
	assert_int_equal(ch, 0);
	get(t, "n1", &got);
	assert_int_equal(got.drift_since, 200);
	assert_string_equal(got.role, "primary");
	assert_int_equal(got.role_at, 200);
	assert_int_equal(got.served_at, 300);
	assert_int_equal(drift_audits(t), 1);

	/* Keep both: nothing changes but nothing is lost. */
	assert_int_equal(db_node_observe(t->db, "n1", NULL, 350, NULL, &ch,
	    &a, &e), 0);
	assert_int_equal(ch, 0);
	get(t, "n1", &got);
	assert_int_equal(got.served_at, 300);
	assert_int_equal(got.drift_since, 200);

	/* Ends: the served serial is the recorded one again. */
	assert_int_equal(db_node_observe(t->db, "n1", "unknown", 400, "aa",
	    &ch, &a, &e), 0);
	assert_int_equal(ch, -1);
	get(t, "n1", &got);
	assert_int_equal(got.drift_since, 0);
	assert_string_equal(got.role, "");
	assert_int_equal(drift_audits(t), 1);

	/* No served serial (unreachable): no drift. */
	assert_int_equal(db_node_observe(t->db, "n1", "", 500, "", &ch, &a,
	    &e), 0);
	assert_int_equal(ch, 0);
	get(t, "n1", &got);
	assert_int_equal(got.drift_since, 0);
	assert_string_equal(got.served_serial, "");

	/* Bad input: clear errors, nothing written. */
	assert_int_equal(db_node_observe(t->db, "n1", "master", 600, "aa",
	    &ch, &a, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_string_equal(e.msg, "invalid node role");
	assert_int_equal(db_node_observe(t->db, "n1", NULL, 600, "zz", &ch,
	    &a, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_string_equal(e.msg, "invalid served serial");
	assert_int_equal(db_node_observe(t->db, "nope", NULL, 600, "aa", &ch,
	    &a, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	get(t, "n1", &got);
	assert_int_equal(got.served_at, 500);
}

/* The drift filter pages like the plain list. */
static void
test_drift_filter(void **state)
{
	struct dbt *t = *state;
	struct db_node_filter f = { .drift = true };
	struct node_rec *list;
	struct err e = { 0 };
	char name[16], next[RCA_MAX_NODE_NAME + 1] = "";
	char after[RCA_MAX_NODE_NAME + 1] = "";
	size_t n, seen = 0;
	int ch;

	for (int i = 0; i < 25; i++) {
		snprintf(name, sizeof(name), "n%02d", i);
		insert(t, name, "");
		if (i % 3 == 0) {
			assert_int_equal(db_node_observe(t->db, name, NULL,
			    10, "cc", &ch, NULL, &e), 0);
			assert_int_equal(ch, 1);
		}
	}
	do {
		assert_int_equal(db_node_list_filter(t->db, &f, after, 3,
		    &list, &n, next, &e), 0);
		assert_true(n <= 3);
		for (size_t i = 0; i < n; i++) {
			snprintf(name, sizeof(name), "n%02zu", 3 * (seen + i));
			assert_string_equal(list[i].name, name);
			assert_int_equal(list[i].drift_since, 10);
		}
		seen += n;
		db_node_list_free(list, n);
		memcpy(after, next, sizeof(after));
	} while (next[0] != '\0');
	assert_int_equal(seen, 9);
	f.drift = false;
	assert_int_equal(db_node_list_filter(t->db, &f, NULL, 100, &list, &n,
	    next, &e), 0);
	assert_int_equal(n, 25);
	db_node_list_free(list, n);
	assert_int_equal(db_node_list_filter(t->db, NULL, NULL, 100, &list,
	    &n, next, &e), 0);
	assert_int_equal(n, 25);
	db_node_list_free(list, n);
}

static void
mkpull(struct node_rec *p, const char *name, const char *group)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->host, sizeof(p->host), "10.9.9.9");
	p->port = 6390;
	snprintf(p->profile, sizeof(p->profile), "redis-node");
	snprintf(p->group, sizeof(p->group), "%s", group);
}

static void
mkrec(struct rotation_rec *r, const char *node, enum rotation_status s,
    const char *old, const char *new)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->node, sizeof(r->node), "%s", node);
	r->status = s;
	snprintf(r->old_serial, sizeof(r->old_serial), "%s", old);
	snprintf(r->new_serial, sizeof(r->new_serial), "%s", new);
	r->started_at = 1000;
	r->finished_at = 1001;
	snprintf(r->steps[0].step, sizeof(r->steps[0].step), "write_files");
	r->steps[0].ok = true;
	snprintf(r->steps[1].step, sizeof(r->steps[1].step), "verify_serial");
	r->steps[1].ok = s == ROT_SUCCEEDED;
	snprintf(r->steps[1].detail, sizeof(r->steps[1].detail), "served %s",
	    new);
	r->nsteps = 2;
}

static int64_t
reports(struct dbt *t)
{
	return dbt_count(t, "SELECT count(*) FROM audit "
	    "WHERE action = 'node.report'");
}

/* A pull node appears, renews, fails once, drifts; upserted each time. */
static void
test_report(void **state)
{
	struct dbt *t = *state;
	struct node_rec p, got;
	struct rotation_rec r, gr;
	struct audit_rec a;
	struct err e = { 0 };
	int ch = 9;

	dbt_audit(&a, "node.report", "p1");
	/* A check-in makes the node. */
	mkpull(&p, "p1", "shard-b");
	snprintf(p.role, sizeof(p.role), "replica");
	assert_int_equal(db_node_report(t->db, &p, NULL, "0a", 100, &ch, &a,
	    &e), 0);
	assert_int_equal(ch, 0);
	get(t, "p1", &got);
	assert_int_equal(got.mode, NODE_MODE_PULL);
	assert_string_equal(got.group, "shard-b");
	assert_string_equal(got.host, "10.9.9.9");
	assert_int_equal(got.port, 6390);
	assert_string_equal(got.role, "replica");
	assert_string_equal(got.served_serial, "0a");
	assert_int_equal(got.last_report_at, 100);
	assert_int_equal(got.created_at, 100);
	assert_string_equal(got.current_serial, "");
	assert_int_equal(got.drift_since, 0);
	assert_int_equal(reports(t), 1);

	/* A renewal: its record and steps, then the new state. */
	mkrec(&r, "p1", ROT_SUCCEEDED, "0a", "0b");
	p.not_after = 9000;
	p.role[0] = '\0';
	snprintf(p.host, sizeof(p.host), "10.9.9.10");
	assert_int_equal(db_node_report(t->db, &p, &r, "0b", 200, &ch, &a,
	    &e), 0);
	assert_int_equal(ch, 0);
	get(t, "p1", &got);
	assert_string_equal(got.current_serial, "0b");
	assert_int_equal(got.not_after, 9000);
	assert_int_equal(got.failures, 0);
	assert_string_equal(got.role, "replica");
	assert_string_equal(got.host, "10.9.9.10");
	assert_true(got.last_rotation_id != 0);
	assert_int_equal(db_rotation_get(t->db, got.last_rotation_id, &gr, &e),
	    0);
	assert_int_equal(gr.status, ROT_SUCCEEDED);
	assert_string_equal(gr.new_serial, "0b");
	assert_int_equal(gr.nsteps, 2);
	assert_string_equal(gr.steps[1].step, "verify_serial");
	assert_string_equal(gr.steps[1].detail, "served 0b");

	/* A rolled-back renewal: failures and backoff, serial kept. */
	mkrec(&r, "p1", ROT_ROLLED_BACK, "0b", "0c");
	p.next_attempt_at = 777;
	assert_int_equal(db_node_report(t->db, &p, &r, "0b", 300, &ch, &a,
	    &e), 0);
	get(t, "p1", &got);
	assert_string_equal(got.current_serial, "0b");
	assert_int_equal(got.failures, 1);
	assert_int_equal(got.next_attempt_at, 777);
	assert_int_equal(dbt_count(t, "SELECT count(*) FROM rotations "
	    "WHERE node = 'p1'"), 2);

	/* A check-in seeing another serial: drift begins. */
	assert_int_equal(db_node_report(t->db, &p, NULL, "0c", 400, &ch, &a,
	    &e), 0);
	assert_int_equal(ch, 1);
	get(t, "p1", &got);
	assert_int_equal(got.drift_since, 400);
	assert_int_equal(got.last_report_at, 400);
	assert_int_equal(reports(t), 4);
}

/* What a report may not do: take a push node's name, bad records. */
static void
test_report_refused(void **state)
{
	struct dbt *t = *state;
	struct node_rec p, got;
	struct rotation_rec r;
	struct audit_rec a;
	struct err e = { 0 };
	int ch = 9;

	dbt_audit(&a, "node.report", "push1");
	insert(t, "push1", "");
	mkpull(&p, "push1", "");
	mkrec(&r, "push1", ROT_SUCCEEDED, "aa", "bb");
	assert_int_equal(db_node_report(t->db, &p, &r, "bb", 100, &ch, &a,
	    &e), -1);
	assert_int_equal(e.code, ERR_CONFLICT);
	assert_string_equal(e.msg, "a push node has that name");
	assert_int_equal(ch, 0);
	get(t, "push1", &got);
	assert_int_equal(got.mode, NODE_MODE_PUSH);
	assert_string_equal(got.current_serial, "aa");
	assert_string_equal(got.host, "10.0.0.1");
	assert_int_equal(dbt_count(t, "SELECT count(*) FROM rotations"), 0);
	assert_int_equal(reports(t), 0);

	mkpull(&p, "p2", "");
	mkrec(&r, "other", ROT_SUCCEEDED, "aa", "bb");
	assert_int_equal(db_node_report(t->db, &p, &r, "bb", 100, &ch, &a,
	    &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_string_equal(e.msg, "invalid rotation record");
	mkrec(&r, "p2", ROT_RUNNING, "aa", "bb");
	assert_int_equal(db_node_report(t->db, &p, &r, "bb", 100, &ch, &a,
	    &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	mkrec(&r, "p2", ROT_SUCCEEDED, "aa", "");
	assert_int_equal(db_node_report(t->db, &p, &r, "bb", 100, &ch, &a,
	    &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(db_node_report(t->db, &p, NULL, "xyz", 100, &ch, &a,
	    &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_string_equal(e.msg, "invalid served serial");
	snprintf(p.role, sizeof(p.role), "leader");
	assert_int_equal(db_node_report(t->db, &p, NULL, "bb", 100, &ch, &a,
	    &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_string_equal(e.msg, "invalid node role");
	p.name[0] = '\0';
	assert_int_equal(db_node_report(t->db, &p, NULL, "bb", 100, &ch, &a,
	    &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(db_node_get(t->db, "p2", &got, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(reports(t), 0);
}

/*
 * A version 5 database with nodes and a rotation opens at version 6:
 * the nodes are push nodes of their own group, role unknown, no drift,
 * and keep everything they had.
 */
static void
test_migration_from_v5(void **state)
{
	struct dbt *t = *state;
	enum db_dialect d = dbt_is_pg() ? DB_DIALECT_PG : DB_DIALECT_SQLITE;
	struct node_rec got, *list;
	struct err e = { 0 };
	char next[RCA_MAX_NODE_NAME + 1];
	size_t n;
	int ch;

	db_close(t->db);
	t->db = NULL;
	if (dbt_is_pg())
		assert_int_equal(dbt_pg_newdb(t), 0);
	else {
		dbt_remove(t);
		assert_int_equal(mkdir(t->dir, 0700), 0);
	}
	for (size_t i = 0; i < 5; i++)
		assert_true(dbt_exec(t, db_sql_migration(d, i)));
	assert_true(dbt_exec(t, "INSERT INTO nodes (name, host, port, "
	    "server_name, san_dns, san_ip, cert_dir, cert_file, key_file, "
	    "ca_file, profile, ttl, auth_username, auth_password_file, "
	    "current_serial, not_after, last_rotation_id, failures, "
	    "next_attempt_at, created_at, bundle_etag) VALUES "
	    "('old1', 'h', 6379, '', 'a.internal', '', '/d', 'c', 'k', 'a', "
	    "'p', 0, '', '', 'ab', 5, 0, 0, 0, 1, 'e1'), "
	    "('old2', 'h', 6380, '', '', '', '/d', 'c', 'k', 'a', 'p', 0, "
	    "'', '', '', 0, 0, 2, 9, 1, '')"));
	assert_true(dbt_exec(t, "INSERT INTO rotations (node, status, "
	    "old_serial, new_serial, started_at, finished_at) VALUES "
	    "('old1', 'succeeded', '', 'ab', 1, 2)"));

	assert_non_null(t->db = db_open(t->path, &e));
	assert_int_equal(db_schema_version(t->db), 6);
	assert_int_equal(db_schema_version(t->db),
	    (int)db_sql_nmigrations(d));
	get(t, "old1", &got);
	assert_string_equal(got.group, "old1");
	assert_int_equal(got.mode, NODE_MODE_PUSH);
	assert_string_equal(got.role, "");
	assert_string_equal(got.served_serial, "");
	assert_int_equal(got.drift_since, 0);
	assert_int_equal(got.last_report_at, 0);
	assert_string_equal(got.current_serial, "ab");
	assert_int_equal(got.not_after, 5);
	get(t, "old2", &got);
	assert_int_equal(got.failures, 2);
	assert_int_equal(got.next_attempt_at, 9);
	assert_int_equal(dbt_count(t, "SELECT count(*) FROM rotations"), 1);
	assert_int_equal(db_node_list(t->db, NULL, 10, &list, &n, next, &e),
	    0);
	assert_int_equal(n, 2);
	db_node_list_free(list, n);
	/* The new columns work on the migrated rows. */
	assert_int_equal(db_node_observe(t->db, "old1", "primary", 50, "cd",
	    &ch, NULL, &e), 0);
	assert_int_equal(ch, 1);
	assert_int_equal(dbt_count(t, "SELECT count(*) FROM nodes "
	    "WHERE drift_since <> 0"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_group_mode, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_groups, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_observe_drift, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_drift_filter, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_report, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_report_refused,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_migration_from_v5,
		    dbt_setup, dbt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
