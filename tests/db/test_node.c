/*
 * Tests for db/node.c and db/rotation.c: nodes, their rotation state,
 * rotation records and the per-node counts of /metrics.
 */
#include "dbtest.h"
#include "priv.h"

static void
mknode(struct node_rec *n, const char *name)
{
	struct err e = { 0 };

	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", name);
	snprintf(n->host, sizeof(n->host), "10.1.2.3");
	n->port = 6380;
	snprintf(n->server_name, sizeof(n->server_name), "%s.redis", name);
	assert_int_equal(names_add(&n->sans, NAME_DNS, "redis.internal", &e),
	    0);
	assert_int_equal(names_add(&n->sans, NAME_DNS, "r1.internal", &e), 0);
	assert_int_equal(names_add(&n->sans, NAME_IP, "10.1.2.3", &e), 0);
	snprintf(n->cert_dir, sizeof(n->cert_dir), "/etc/redis/tls");
	snprintf(n->cert_file, sizeof(n->cert_file), "redis.crt");
	snprintf(n->key_file, sizeof(n->key_file), "redis.key");
	snprintf(n->ca_file, sizeof(n->ca_file), "ca.crt");
	snprintf(n->profile, sizeof(n->profile), "redis-node");
	n->ttl = 259200;
	snprintf(n->auth_username, sizeof(n->auth_username), "rotator");
	snprintf(n->auth_password_file, sizeof(n->auth_password_file),
	    "/etc/redis-ca/pw");
	n->created_at = 1700000000;
}

static void
mkrot(struct rotation_rec *r, const char *node, enum rotation_status s,
    size_t nsteps)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->node, sizeof(r->node), "%s", node);
	r->status = s;
	snprintf(r->old_serial, sizeof(r->old_serial), "aa");
	r->started_at = 2000;
	for (size_t i = 0; i < nsteps; i++) {
		snprintf(r->steps[i].step, sizeof(r->steps[i].step),
		    "step%d", (int)(i % 100));
		r->steps[i].ok = i % 2 == 0;
		snprintf(r->steps[i].detail, sizeof(r->steps[i].detail),
		    "detail %zu", i);
	}
	r->nsteps = nsteps;
}

static void
test_node_crud(void **state)
{
	struct dbt *t = *state;
	struct node_rec n, got, *list;
	struct audit_rec a;
	struct err e = { 0 };
	char next[RCA_MAX_NODE_NAME + 1], after[RCA_MAX_NODE_NAME + 1];
	size_t cnt, total = 0;
	int pages = 0;

	mknode(&n, "redis-1");
	dbt_audit(&a, "node.create", "redis-1");
	assert_int_equal(db_node_insert(t->db, &n, &a, &e), 0);
	assert_int_equal(db_node_insert(t->db, &n, &a, &e), -1);
	assert_int_equal(e.code, ERR_ALREADY_EXISTS);

	assert_int_equal(db_node_get(t->db, "redis-1", &got, &e), 0);
	assert_string_equal(got.name, "redis-1");
	assert_string_equal(got.host, n.host);
	assert_int_equal(got.port, 6380);
	assert_string_equal(got.server_name, "redis-1.redis");
	assert_true(names_equal(&got.sans, &n.sans));
	assert_string_equal(got.cert_dir, n.cert_dir);
	assert_string_equal(got.cert_file, n.cert_file);
	assert_string_equal(got.key_file, n.key_file);
	assert_string_equal(got.ca_file, n.ca_file);
	assert_string_equal(got.profile, n.profile);
	assert_int_equal(got.ttl, n.ttl);
	assert_string_equal(got.auth_username, n.auth_username);
	assert_string_equal(got.auth_password_file, n.auth_password_file);
	assert_string_equal(got.current_serial, "");
	assert_int_equal(got.not_after, 0);
	assert_int_equal(got.last_rotation_id, 0);
	assert_int_equal(got.failures, 0);
	assert_int_equal(got.next_attempt_at, 0);
	assert_int_equal(got.created_at, n.created_at);
	node_rec_clear(&got);
	node_rec_clear(&n);

	assert_int_equal(db_node_get(t->db, "nope", &got, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);

	for (int i = 2; i <= 5; i++) {
		char name[16];

		snprintf(name, sizeof(name), "redis-%d", i);
		mknode(&n, name);
		assert_int_equal(db_node_insert(t->db, &n, NULL, &e), 0);
		node_rec_clear(&n);
	}
	after[0] = '\0';
	do {
		assert_int_equal(db_node_list(t->db, after, 2, &list, &cnt,
		    next, &e), 0);
		for (size_t i = 0; i < cnt; i++) {
			char name[16];

			snprintf(name, sizeof(name), "redis-%zu",
			    total + i + 1);
			assert_string_equal(list[i].name, name);
			assert_int_equal(names_count(&list[i].sans), 3);
		}
		total += cnt;
		pages++;
		db_node_list_free(list, cnt);
		memcpy(after, next, sizeof(after));
	} while (next[0] != '\0');
	assert_int_equal(total, 5);
	assert_int_equal(pages, 3);

	dbt_audit(&a, "node.delete", "redis-3");
	assert_int_equal(db_node_delete(t->db, "redis-3", &a, &e), 0);
	assert_int_equal(db_node_delete(t->db, "redis-3", &a, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(db_node_get(t->db, "redis-3", &got, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
}

static void
test_update_state(void **state)
{
	struct dbt *t = *state;
	struct node_rec n, got;
	struct err e = { 0 };

	mknode(&n, "redis-1");
	assert_int_equal(db_node_insert(t->db, &n, NULL, &e), 0);
	snprintf(n.current_serial, sizeof(n.current_serial), "c0ffee");
	n.not_after = 9000;
	n.last_rotation_id = 7;
	n.failures = 2;
	n.next_attempt_at = 8000;
	n.port = 1;	/* not part of the state: unchanged */
	assert_int_equal(db_node_update_state(t->db, &n, &e), 0);
	assert_int_equal(db_node_get(t->db, "redis-1", &got, &e), 0);
	assert_string_equal(got.current_serial, "c0ffee");
	assert_int_equal(got.not_after, 9000);
	assert_int_equal(got.last_rotation_id, 7);
	assert_int_equal(got.failures, 2);
	assert_int_equal(got.next_attempt_at, 8000);
	assert_int_equal(got.port, 6380);
	node_rec_clear(&got);
	snprintf(n.name, sizeof(n.name), "redis-9");
	assert_int_equal(db_node_update_state(t->db, &n, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	node_rec_clear(&n);
}

static void
test_rotations(void **state)
{
	struct dbt *t = *state;
	struct node_rec n;
	struct rotation_rec r, got, *list;
	struct audit_rec a;
	struct err e = { 0 };
	int64_t ids[5], next, before;
	size_t cnt, total = 0;

	mknode(&n, "redis-1");
	assert_int_equal(db_node_insert(t->db, &n, NULL, &e), 0);
	node_rec_clear(&n);

	mkrot(&r, "redis-1", ROT_RUNNING, 0);
	assert_int_equal(db_rotation_insert(t->db, &r, &e), 0);
	assert_true(r.id > 0);
	ids[0] = r.id;
	assert_int_equal(db_rotation_get(t->db, r.id, &got, &e), 0);
	assert_int_equal(got.status, ROT_RUNNING);
	assert_int_equal(got.nsteps, 0);
	assert_int_equal(got.finished_at, 0);
	assert_string_equal(got.old_serial, "aa");

	/* Finish it: status, serials, steps replaced, audit appended. */
	mkrot(&r, "redis-1", ROT_ROLLED_BACK, 6);
	r.id = ids[0];
	snprintf(r.new_serial, sizeof(r.new_serial), "bb");
	r.finished_at = 2100;
	dbt_audit(&a, "node.rotate", "redis-1");
	assert_int_equal(db_rotation_update(t->db, &r, &a, &e), 0);
	mkrot(&r, "redis-1", ROT_ROLLED_BACK, 3);
	r.id = ids[0];
	snprintf(r.new_serial, sizeof(r.new_serial), "bb");
	r.finished_at = 2100;
	assert_int_equal(db_rotation_update(t->db, &r, NULL, &e), 0);
	assert_int_equal(db_rotation_get(t->db, ids[0], &got, &e), 0);
	assert_int_equal(got.status, ROT_ROLLED_BACK);
	assert_string_equal(got.new_serial, "bb");
	assert_int_equal(got.finished_at, 2100);
	assert_int_equal(got.nsteps, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(got.steps[i].step, r.steps[i].step);
		assert_int_equal(got.steps[i].ok, r.steps[i].ok);
		assert_string_equal(got.steps[i].detail, r.steps[i].detail);
	}

	r.id = 999;
	assert_int_equal(db_rotation_update(t->db, &r, NULL, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(db_rotation_get(t->db, 999, &got, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	mkrot(&r, "redis-404", ROT_RUNNING, 1);
	assert_int_equal(db_rotation_insert(t->db, &r, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	mkrot(&r, "redis-1", ROT_STATUS__MAX, 1);
	assert_int_equal(db_rotation_insert(t->db, &r, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	mkrot(&r, "redis-1", ROT_RUNNING, 1);
	r.nsteps = ROT_MAX_STEPS + 1;
	assert_int_equal(db_rotation_insert(t->db, &r, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);

	/* History, newest first, paged with `before`. */
	for (int i = 1; i < 5; i++) {
		mkrot(&r, "redis-1", ROT_SUCCEEDED, (size_t)i);
		assert_int_equal(db_rotation_insert(t->db, &r, &e), 0);
		ids[i] = r.id;
	}
	before = 0;
	do {
		assert_int_equal(db_rotation_list(t->db, "redis-1", before, 2,
		    &list, &cnt, &next, &e), 0);
		for (size_t i = 0; i < cnt; i++) {
			size_t k = 4 - (total + i);

			assert_int_equal(list[i].id, ids[k]);
			assert_int_equal(list[i].nsteps, k == 0 ? 3 : k);
		}
		total += cnt;
		db_rotation_list_free(list, cnt);
		before = next;
	} while (next != 0);
	assert_int_equal(total, 5);
	assert_int_equal(db_rotation_list(t->db, "redis-2", 0, 10, &list,
	    &cnt, &next, &e), 0);
	assert_int_equal(cnt, 0);
	db_rotation_list_free(list, cnt);

	/* Deleting the node deletes its rotations and their steps. */
	assert_int_equal(db_node_delete(t->db, "redis-1", NULL, &e), 0);
	assert_int_equal(db_rotation_get(t->db, ids[0], &got, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(db_rotation_list(t->db, "redis-1", 0, 10, &list,
	    &cnt, &next, &e), 0);
	assert_int_equal(cnt, 0);
	db_rotation_list_free(list, cnt);

	assert_int_equal(dbt_count(t, "SELECT count(*) FROM rotation_steps"),
	    0);
}

/* db_node_stats(): every node, in name order, rotations by status. */
static void
test_node_stats(void **state)
{
	struct dbt *t = *state;
	static const enum rotation_status st[] = {
		ROT_SUCCEEDED, ROT_SUCCEEDED, ROT_FAILED, ROT_RUNNING,
		ROT_ROLLED_BACK, ROT_SUCCEEDED,
	};
	/* Inserted in this order; "redis-b" never rotated. */
	static const struct {
		const char	*node;
		int64_t		 not_after;
		int64_t		 rot[ROT_STATUS__MAX];
	} want[] = {
		{ "redis-a", 1000, { [ROT_RUNNING] = 1, [ROT_SUCCEEDED] = 2,
		    [ROT_FAILED] = 1 } },
		{ "redis-b", 0, { 0 } },
		{ "redis-c", 3000, { [ROT_SUCCEEDED] = 1,
		    [ROT_ROLLED_BACK] = 1 } },
	};
	static const size_t order[] = { 2, 0, 1 };
	struct db_node_stat *list;
	struct rotation_rec r;
	struct node_rec n;
	struct err e = { 0 };
	size_t cnt;

	/* No node: an empty list. */
	assert_int_equal(db_node_stats(t->db, &list, &cnt, &e), 0);
	assert_int_equal(cnt, 0);
	free(list);

	for (size_t i = 0; i < 3; i++) {
		mknode(&n, want[order[i]].node);
		n.not_after = want[order[i]].not_after;
		assert_int_equal(db_node_insert(t->db, &n, NULL, &e), 0);
		node_rec_clear(&n);
	}
	for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		mkrot(&r, i < 4 ? "redis-a" : "redis-c", st[i], 1);
		assert_int_equal(db_rotation_insert(t->db, &r, &e), 0);
	}

	assert_int_equal(db_node_stats(t->db, &list, &cnt, &e), 0);
	assert_int_equal(cnt, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(list[i].node, want[i].node);
		assert_int_equal(list[i].not_after, want[i].not_after);
		for (int k = 0; k < ROT_STATUS__MAX; k++)
			assert_int_equal(list[i].rotations[k], want[i].rot[k]);
	}
	free(list);
}

/* rc and e of a write by a name no node can have: -1, not found. */
static void
not_found(int rc, struct err *e)
{
	assert_int_equal(rc, -1);
	assert_int_equal(e->code, ERR_NOT_FOUND);
	assert_string_equal(e->msg, "node not found");
	err_clear(e);
}

/*
 * A name no node can have (NULL, or longer than a stored one) is not
 * found by the writes by name (db_node_name_check()), before any other
 * check of theirs.
 */
static void
test_name_not_stored(void **state)
{
	struct dbt *t = *state;
	struct err e = { 0 };
	char long_name[RCA_MAX_NODE_NAME + 8];
	int change = 7;

	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(db_node_name_check("n1", &e), 0);
	not_found(db_node_name_check(NULL, &e), &e);
	not_found(db_node_delete(t->db, NULL, NULL, &e), &e);
	not_found(db_node_delete(t->db, long_name, NULL, &e), &e);
	/* The name is checked before the ETag. */
	not_found(db_node_set_bundle(t->db, long_name, NULL, &e), &e);
	assert_int_equal(db_node_set_bundle(t->db, "n1", NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	not_found(db_node_observe(t->db, long_name, NULL, 1000, NULL,
	    &change, NULL, &e), &e);
	assert_int_equal(change, 0);
}

/* db_node_stats() when the database fails: ERR_DB, nothing returned. */
static void
test_node_stats_fail(void **state)
{
	struct dbt *t = *state;
	struct db_node_stat *list = (void *)1;
	struct err e = { 0 };
	struct db_conn *c;
	size_t cnt = 1;

	/* SQLite only: raw sqlite3 statements, another process's lock. */
	DBT_SQLITE_ONLY();
	assert_non_null(c = db_conn_get(t->db, &e));
	assert_int_equal(sqlite3_exec(c->h, "DROP TABLE rotation_steps; "
	    "DROP TABLE rotations", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(db_node_stats(t->db, &list, &cnt, &e), -1);
	assert_db_error(e);
	assert_null(list);
	assert_int_equal(cnt, 0);
}

static void
test_locked(void **state)
{
	struct dbt *t = *state;
	struct node_rec n, got, *list;
	struct rotation_rec r, *rl;
	struct err e = { 0 };
	char next[RCA_MAX_NODE_NAME + 1];
	int64_t rnext;
	size_t cnt;
	sqlite3 *h;

	/* SQLite only: raw sqlite3 statements, another process's lock. */
	DBT_SQLITE_ONLY();
	mknode(&n, "redis-1");
	assert_int_equal(db_node_insert(t->db, &n, NULL, &e), 0);
	mkrot(&r, "redis-1", ROT_RUNNING, 1);
	assert_int_equal(db_rotation_insert(t->db, &r, &e), 0);
	h = dbt_lock(t);
	snprintf(n.name, sizeof(n.name), "redis-2");
	assert_int_equal(db_node_insert(t->db, &n, NULL, &e), -1);
	assert_db_error(e);
	assert_int_equal(db_node_update_state(t->db, &n, &e), -1);
	assert_db_error(e);
	assert_int_equal(db_node_delete(t->db, "redis-1", NULL, &e), -1);
	assert_db_error(e);
	assert_int_equal(db_rotation_insert(t->db, &r, &e), -1);
	assert_db_error(e);
	assert_int_equal(db_rotation_update(t->db, &r, NULL, &e), -1);
	assert_db_error(e);
	assert_int_equal(db_node_get(t->db, "redis-1", &got, &e), 0);
	node_rec_clear(&got);
	assert_int_equal(db_node_list(t->db, NULL, 10, &list, &cnt, next,
	    &e), 0);
	assert_int_equal(cnt, 1);
	db_node_list_free(list, cnt);
	assert_int_equal(db_rotation_list(t->db, "redis-1", 0, 10, &rl, &cnt,
	    &rnext, &e), 0);
	assert_int_equal(cnt, 1);
	assert_int_equal(rl[0].nsteps, 1);
	db_rotation_list_free(rl, cnt);
	dbt_unlock(h);
	node_rec_clear(&n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_node_crud, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_update_state, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_rotations, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_node_stats, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_node_stats_fail, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_locked, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_name_not_stored,
		    dbt_setup, dbt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
