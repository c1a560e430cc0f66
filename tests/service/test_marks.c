/*
 * Tests of service/marks.c: a node is marked busy once at a time, by
 * one thread of many; svc_marks_fini() frees marks left behind and
 * svc_marks_init() starts a fresh list.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "fixture.h"
#include "svc_int.h"

#define THREADS	8

static void
test_lock_unlock(void **state)
{
	struct fx *f = *state;

	assert_true(svc_node_lock(f->svc, "a"));
	assert_false(svc_node_lock(f->svc, "a"));
	/* Marks are per name. */
	assert_true(svc_node_lock(f->svc, "b"));
	svc_node_unlock(f->svc, "a");
	assert_true(svc_node_lock(f->svc, "a"));
	/* Unlocking a name not marked changes nothing. */
	svc_node_unlock(f->svc, "c");
	assert_false(svc_node_lock(f->svc, "b"));
	svc_node_unlock(f->svc, "a");
	svc_node_unlock(f->svc, "b");
	assert_true(svc_node_lock(f->svc, "b"));
	svc_node_unlock(f->svc, "b");
}

static void
test_fini_frees(void **state)
{
	struct fx	*f = *state;
	struct err	 e;

	err_clear(&e);
	assert_true(svc_node_lock(f->svc, "left"));
	assert_true(svc_node_lock(f->svc, "behind"));
	svc_marks_fini(f->svc);
	/*
	 * svc_close() runs svc_marks_fini() after db_close(), whose end
	 * of the session drops PostgreSQL's node locks with it; here the
	 * database stays open, so drop them as that close would.
	 */
	db_node_lock_release(f->svc->db, "left");
	db_node_lock_release(f->svc->db, "behind");
	assert_int_equal(svc_marks_init(f->svc, &e), 0);
	assert_true(svc_node_lock(f->svc, "left"));
	svc_node_unlock(f->svc, "left");
}

struct race {
	struct svc	*svc;
	pthread_barrier_t *go;
	atomic_int	*won;
};

static void *
racer(void *p)
{
	struct race *r = p;

	pthread_barrier_wait(r->go);
	if (svc_node_lock(r->svc, "contested"))
		atomic_fetch_add(r->won, 1);
	return NULL;
}

/* Many threads at once: exactly one gets the mark. */
static void
test_one_winner(void **state)
{
	struct fx		*f = *state;
	pthread_barrier_t	 go;
	pthread_t		 t[THREADS];
	struct race		 r;
	atomic_int		 won = 0;

	assert_int_equal(pthread_barrier_init(&go, NULL, THREADS), 0);
	r.svc = f->svc;
	r.go = &go;
	r.won = &won;
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, racer, &r), 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	pthread_barrier_destroy(&go);
	assert_int_equal(atomic_load(&won), 1);
	svc_node_unlock(f->svc, "contested");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lock_unlock, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_fini_frees, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_one_winner, fx_setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
