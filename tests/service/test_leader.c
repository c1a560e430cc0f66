/*
 * Tests of the scheduler's leadership and the node locks between
 * instances (service/schedule.c, service/marks.c over db/lock.c, SPEC
 * section 9): two struct svc in this process on one PostgreSQL
 * database (a throwaway PostgreSQL 15, tests/support/pg.h) are two
 * instances.  Exactly one leads; closing it, or killing its lock
 * session with pg_terminate_backend, hands leadership to the other at
 * its next tick; only the leader refreshes the CRL; a node marked by
 * one instance is busy (409) on the other.  On SQLite the one instance
 * always leads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "fixture.h"
#include "pg.h"
#include "svc_int.h"
#include "timeutil.h"

/* One server for the whole program; a new database per test. */
static struct pg_fixture *pg;

/* Two instances on one database, and the CA files of fx. */
struct two {
	struct fx		*fx;
	char			 dbname[32];
	char			*uri;		/* new */
	struct svc_config	 cfg;		/* fx's, on uri */
	struct svc		*a, *b;
};

static struct svc *
open_instance(struct two *t)
{
	struct svc *s;
	struct err e;

	err_clear(&e);
	if ((s = svc_open(&t->cfg, &e)) == NULL)
		fail_msg("svc_open: %s: %s", err_code_name(e.code), e.msg);
	return s;
}

static int
setup(void **state)
{
	static int n;
	struct two *t = calloc(1, sizeof(*t));
	void *fs = NULL;

	assert_non_null(t);
	assert_int_equal(fx_setup(&fs), 0);
	t->fx = fs;
	snprintf(t->dbname, sizeof(t->dbname), "lead%d", n++);
	assert_non_null(t->uri = pg_fixture_createdb(pg, t->dbname));
	t->cfg = t->fx->cfg;
	t->cfg.database = t->uri;
	t->a = open_instance(t);
	/* a's first CRL stored before b looks (b would publish anew). */
	svc_crl_flush(t->a);
	t->b = open_instance(t);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct two *t = *state;
	void *fs = t->fx;

	tclock_real();
	svc_close(t->a);
	svc_close(t->b);
	free(t->uri);
	fx_teardown(&fs);
	free(t);
	return 0;
}

static bool
leads(struct svc *s)
{
	struct svc_health h;

	svc_health(s, &h);
	assert_int_equal(h.db, SVC_DB_OK);
	return h.leader;
}

/* Audit entries of action with this detail (prefix), read through s. */
static int
audit_count(struct svc *s, const char *action, const char *detail)
{
	struct audit_rec	*list = NULL;
	struct err		 e;
	int64_t			 after = 0, next = 0;
	size_t			 n = 0;
	int			 k = 0;

	err_clear(&e);
	do {
		assert_int_equal(svc_audit_list(s, after, 100, &list, &n,
		    &next, &e), 0);
		for (size_t i = 0; i < n; i++)
			if (strcmp(list[i].action, action) == 0 &&
			    strncmp(list[i].detail, detail,
			    strlen(detail)) == 0) {
				assert_string_equal(list[i].actor,
				    "scheduler");
				k++;
			}
		svc_audit_list_free(list, n);
		after = next;
	} while (next != 0);
	return k;
}

/*
 * pg_terminate_backend() of the session holding advisory lock objid
 * (2: the leader's; for a node, any objsubid 1 lock) in t's database;
 * waits until that session is gone.
 */
static void
kill_lock_session(struct two *t, bool leader)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(pid, 5000) "
	    "FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
	    "database = (SELECT oid FROM pg_database WHERE datname = '%s') "
	    "AND %s", t->dbname, leader ? "objsubid = 2 AND objid = 2 AND "
	    "classid = 1380139264" : "objsubid = 1");
	assert_int_equal(pg_fixture_exec(pg, NULL, sql), 0);
}

/*
 * Tick follower until it leads, at most `ticks` times (100 ms apart in
 * real time: pg_terminate_backend's session ends asynchronously).
 * Every wait it asks for must be at most SVC_FOLLOW_TICK, so a
 * follower's scheduler takes over within that of the old leader's end.
 */
static void
tick_until_leader(struct svc *follower, int ticks)
{
	for (int i = 0; i < ticks; i++) {
		int64_t wait = svc_tick(follower);

		if (leads(follower))
			return;
		assert_true(wait <= SVC_FOLLOW_TICK);
		usleep(100000);
	}
	fail_msg("no takeover after %d ticks", ticks);
}

/* Exactly one of two instances leads; the other ticks as a follower. */
static void
test_one_leader(void **state)
{
	struct two *t = *state;

	assert_false(leads(t->a));
	assert_false(leads(t->b));
	(void)svc_tick(t->a);
	assert_true(svc_tick(t->b) <= SVC_FOLLOW_TICK);
	assert_true(leads(t->a));
	assert_false(leads(t->b));
	/* Asking again changes nothing (the lock does not stack). */
	(void)svc_tick(t->a);
	(void)svc_tick(t->b);
	assert_true(leads(t->a));
	assert_false(leads(t->b));
	assert_int_equal(audit_count(t->a, "scheduler.leader", "gained"), 1);
	assert_int_equal(audit_count(t->a, "scheduler.leader", "lost"), 0);
}

/* The leader closes: the follower leads at its next tick. */
static void
test_takeover_on_close(void **state)
{
	struct two *t = *state;

	(void)svc_tick(t->a);
	(void)svc_tick(t->b);
	assert_true(leads(t->a));
	svc_close(t->a);
	t->a = NULL;
	(void)svc_tick(t->b);
	assert_true(leads(t->b));
	assert_int_equal(audit_count(t->b, "scheduler.leader",
	    "released: shutting down"), 1);
	assert_int_equal(audit_count(t->b, "scheduler.leader", "gained"), 2);
}

/*
 * The leader's lock session is killed (as when its process dies or
 * the server drops it): the follower takes over; the old leader's next
 * tick finds its lock gone, makes its connection again, stays a
 * follower, and audits the loss.
 */
static void
test_takeover_on_terminate(void **state)
{
	struct two *t = *state;

	(void)svc_tick(t->a);
	(void)svc_tick(t->b);
	assert_true(leads(t->a));
	kill_lock_session(t, true);
	tick_until_leader(t->b, 50);
	assert_true(svc_tick(t->a) <= SVC_FOLLOW_TICK);
	assert_false(leads(t->a));
	assert_true(leads(t->b));
	assert_int_equal(audit_count(t->a, "scheduler.leader", "lost"), 1);
	/* And back: b's session killed, a takes over again. */
	kill_lock_session(t, true);
	tick_until_leader(t->a, 50);
	(void)svc_tick(t->b);
	assert_false(leads(t->b));
}

/*
 * The scheduled CRL refresh is the leader's: once due, the follower's
 * tick publishes nothing, the leader's does, and the follower then
 * serves the leader's CRL.
 */
static void
test_only_leader_refreshes_crl(void **state)
{
	struct two *t = *state;
	uint64_t before;

	(void)svc_tick(t->a);
	(void)svc_tick(t->b);
	assert_true(leads(t->a));
	before = fx_crl_number(t->a);
	assert_int_equal(fx_crl_number(t->b), before);
	tclock_set(tu_now() + t->cfg.crl_validity -
	    t->cfg.crl_refresh_before + 10);
	(void)svc_tick(t->b);
	assert_int_equal(fx_crl_number(t->b), before);
	(void)svc_tick(t->a);
	assert_int_equal(fx_crl_number(t->a), before + 1);
	svc_crl_flush(t->a);
	(void)svc_tick(t->b);
	assert_int_equal(fx_crl_number(t->b), before + 1);
}

/* The audit retention pass is the leader's too. */
static void
test_only_leader_prunes(void **state)
{
	struct two *t = *state;

	(void)svc_tick(t->a);
	(void)svc_tick(t->b);
	assert_true(leads(t->a));
	/* Past the default retention: every entry so far is due. */
	tclock_set(tu_now() + 400 * 86400);
	(void)svc_tick(t->b);
	assert_int_equal(audit_count(t->a, "audit.prune", "deleted="), 0);
	(void)svc_tick(t->a);
	assert_int_equal(audit_count(t->a, "audit.prune", "deleted="), 1);
}

/*
 * A node marked busy by one instance (a rotation running there) is
 * busy on the other: its rotation and deletion answer ERR_CONFLICT
 * until the mark goes.
 */
static void
test_node_lock_across_instances(void **state)
{
	struct two *t = *state;
	struct rotation_rec rec;
	struct err e;

	err_clear(&e);
	assert_true(svc_node_lock(t->a, "n1"));
	assert_false(svc_node_lock(t->b, "n1"));
	assert_int_equal(svc_rotate(t->b, &t->fx->cli, "n1", &rec, &e), -1);
	assert_int_equal(e.code, ERR_CONFLICT);
	err_clear(&e);
	assert_int_equal(svc_node_delete(t->b, &t->fx->cli, "n1", &e), -1);
	assert_int_equal(e.code, ERR_CONFLICT);
	/* Another node is free; a's own second mark is refused too. */
	assert_true(svc_node_lock(t->b, "n2"));
	assert_false(svc_node_lock(t->a, "n2"));
	assert_false(svc_node_lock(t->a, "n1"));
	svc_node_unlock(t->a, "n1");
	svc_node_unlock(t->b, "n2");
	assert_true(svc_node_lock(t->b, "n1"));
	assert_true(svc_node_lock(t->a, "n2"));
	svc_node_unlock(t->b, "n1");
	svc_node_unlock(t->a, "n2");
	/* Unmarked: the rotation now gets past the lock to the lookup. */
	err_clear(&e);
	assert_int_equal(svc_rotate(t->b, &t->fx->cli, "n1", &rec, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
}

/*
 * A node lock goes with its session: killed, the other instance can
 * take the node; the first instance's unlock then finds nothing to
 * release and does no harm.
 */
static void
test_node_lock_session_lost(void **state)
{
	struct two *t = *state;
	int i;

	assert_true(svc_node_lock(t->a, "n3"));
	assert_false(svc_node_lock(t->b, "n3"));
	kill_lock_session(t, false);
	for (i = 0; i < 50 && !svc_node_lock(t->b, "n3"); i++)
		usleep(100000);
	assert_true(i < 50);
	svc_node_unlock(t->a, "n3");
	assert_false(svc_node_lock(t->a, "n3"));
	svc_node_unlock(t->b, "n3");
	assert_true(svc_node_lock(t->a, "n3"));
	svc_node_unlock(t->a, "n3");
}

/*
 * db/lock.c's edges: a name longer than a node's is refused, giving
 * up what one does not hold is harmless, a release lets the other
 * take it; SQLite grants everything.
 */
static void
test_db_lock_edges(void **state)
{
	struct two *t = *state;
	char long_name[RCA_MAX_NODE_NAME + 2];
	struct err e;

	err_clear(&e);
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(db_node_lock_try(t->a->db, long_name, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(db_node_lock_try(t->a->db, NULL, NULL), -1);
	db_node_lock_release(t->a->db, "never-locked");
	db_node_lock_release(t->a->db, NULL);
	db_leader_release(t->b->db);
	assert_int_equal(db_leader_try(t->a->db, NULL), 1);
	assert_int_equal(db_leader_try(t->a->db, NULL), 1);
	assert_int_equal(db_leader_try(t->b->db, NULL), 0);
	/* One release gives it up, however often it was asked for. */
	db_leader_release(t->a->db);
	assert_int_equal(db_leader_try(t->b->db, NULL), 1);
	assert_int_equal(db_leader_try(t->a->db, NULL), 0);
	db_leader_release(t->b->db);

	assert_int_equal(db_leader_try(t->fx->svc->db, NULL), 1);
	assert_int_equal(db_node_lock_try(t->fx->svc->db, "x", NULL), 1);
	assert_int_equal(db_node_lock_try(t->fx->svc->db, "x", NULL), 1);
	db_node_lock_release(t->fx->svc->db, "x");
	db_leader_release(t->fx->svc->db);
}

/* SQLite: the one instance always leads, with no audit entry. */
static void
test_sqlite_always_leads(void **state)
{
	struct two *t = *state;
	struct svc_health h;

	(void)svc_tick(t->fx->svc);
	svc_health(t->fx->svc, &h);
	assert_true(h.leader);
	assert_true(h.ready);
	assert_int_equal(h.db, SVC_DB_OK);
	assert_false(svc_read_only(t->fx->svc));
	assert_int_equal(audit_count(t->fx->svc, "scheduler.leader", ""), 0);
}

static int
group_setup(void **state)
{
	(void)state;
	return (pg = pg_fixture_start()) != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	pg_fixture_free(pg);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_leader, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_takeover_on_close, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_takeover_on_terminate,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_only_leader_refreshes_crl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_only_leader_prunes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_node_lock_across_instances, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_lock_session_lost,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_lock_edges, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sqlite_always_leads,
		    setup, teardown),
	};

	if (!pg_fixture_available()) {
		fprintf(stderr, "PostgreSQL binaries missing: skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
