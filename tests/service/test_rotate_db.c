/*
 * Failure paths of service/rotate.c that only a failing database takes,
 * reached by wrapping db/'s writes (-Wl,--wrap): the rotation record
 * cannot be inserted (nothing runs, the node is not left marked busy),
 * or the node's state and the final record cannot be saved (logged; the
 * caller still gets the rotation's own answer).  No redis-server: the
 * node's port has nothing listening, so the connect step fails.
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

#include "db.h"
#include "fixture.h"

int	__real_db_rotation_insert(struct db *db, struct rotation_rec *r,
	    struct err *e);
int	__wrap_db_rotation_insert(struct db *db, struct rotation_rec *r,
	    struct err *e);
int	__real_db_node_update_state(struct db *db, const struct node_rec *n,
	    struct err *e);
int	__wrap_db_node_update_state(struct db *db, const struct node_rec *n,
	    struct err *e);
int	__real_db_rotation_update(struct db *db, const struct rotation_rec *r,
	    const struct audit_rec *a, struct err *e);
int	__wrap_db_rotation_update(struct db *db, const struct rotation_rec *r,
	    const struct audit_rec *a, struct err *e);

static bool	fail_insert, fail_state, fail_update;

int
__wrap_db_rotation_insert(struct db *db, struct rotation_rec *r,
    struct err *e)
{
	if (fail_insert) {
		err_set(e, ERR_DB, "injected: disk I/O error");
		return -1;
	}
	return __real_db_rotation_insert(db, r, e);
}

int
__wrap_db_node_update_state(struct db *db, const struct node_rec *n,
    struct err *e)
{
	if (fail_state) {
		err_set(e, ERR_DB, "injected: disk I/O error");
		return -1;
	}
	return __real_db_node_update_state(db, n, e);
}

int
__wrap_db_rotation_update(struct db *db, const struct rotation_rec *r,
    const struct audit_rec *a, struct err *e)
{
	if (fail_update) {
		err_set(e, ERR_DB, "injected: disk I/O error");
		return -1;
	}
	return __real_db_rotation_update(db, r, a, e);
}

struct rfx {
	struct fx	*f;
	char		 nodes[64];	/* nodes.allowed_dirs[0] */
	const char	*allowed[1];
};

static int
setup(void **state)
{
	struct rfx	*r;
	void		*fs = NULL;

	if ((r = calloc(1, sizeof(*r))) == NULL || fx_setup(&fs) != 0)
		return -1;
	r->f = fs;
	strcpy(r->nodes, "/tmp/rca-rotdb-XXXXXX");
	if (mkdtemp(r->nodes) == NULL)
		return -1;
	r->allowed[0] = r->nodes;
	r->f->cfg.node_allowed_dirs = r->allowed;
	r->f->cfg.nnode_allowed_dirs = 1;
	fx_reopen(r->f);
	fail_insert = fail_state = fail_update = false;
	*state = r;
	return 0;
}

static int
teardown(void **state)
{
	struct rfx	*r = *state;
	void		*fs = r->f;

	fail_insert = fail_state = fail_update = false;
	rmdir(r->nodes);
	free(r);
	return fx_teardown(&fs);
}

/* Register node "gone" on a port where nothing listens. */
static void
register_gone(struct rfx *r)
{
	struct svc_node_req	req;
	struct err		e;

	err_clear(&e);
	memset(&req, 0, sizeof(req));
	req.name = "gone";
	req.host = "127.0.0.1";
	req.port = 1;
	req.cert_dir = r->nodes;
	if (svc_node_create(r->f->svc, &r->f->admin, &req, NULL, &e) == -1)
		fail_msg("register: %s", e.msg);
}

static void
test_insert_fails(void **state)
{
	struct rfx		*r = *state;
	struct rotation_rec	 rec;
	struct err		 e;

	err_clear(&e);
	register_gone(r);
	fail_insert = true;
	assert_int_equal(svc_rotate(r->f->svc, &r->f->admin, "gone", &rec,
	    &e), -1);
	fail_insert = false;
	/* Our side failed: a generic error, the details in the log. */
	assert_int_equal(e.code, ERR_INTERNAL);
	assert_string_equal(e.msg, "internal error");
	assert_int_equal(rec.id, 0);
	assert_int_equal(rec.nsteps, 0);
	assert_true(fx_audit_has(r->f, "node.rotate", "error", "gone", NULL));

	/* The node is not left busy: the next rotation runs (and fails at
	 * its connect step), and the node can be deleted. */
	err_clear(&e);
	assert_int_equal(svc_rotate(r->f->svc, &r->f->admin, "gone", &rec,
	    &e), -1);
	assert_int_equal(e.code, ERR_ROTATION_FAILED);
	assert_string_equal(rec.steps[0].step, "connect");
	err_clear(&e);
	assert_int_equal(svc_node_delete(r->f->svc, &r->f->admin, "gone",
	    &e), 0);
}

static void
test_state_and_record_fail(void **state)
{
	struct rfx		*r = *state;
	struct rotation_rec	 rec, *list = NULL;
	struct svc_node_view	 v;
	struct err		 e;
	size_t			 cnt = 0;
	int64_t			 next = 0;

	err_clear(&e);
	register_gone(r);
	fail_state = fail_update = true;
	assert_int_equal(svc_rotate(r->f->svc, &r->f->admin, "gone", &rec,
	    &e), -1);
	fail_state = fail_update = false;
	/* The caller still learns how the rotation went. */
	assert_int_equal(e.code, ERR_ROTATION_FAILED);
	assert_int_equal(rec.status, ROT_FAILED);
	assert_true(rec.id > 0);
	assert_true(rec.finished_at != 0);

	/* Nothing of the end was saved: no failure counted, the stored
	 * record still running. */
	assert_int_equal(svc_node_get(r->f->svc, "gone", &v, &e), 0);
	assert_int_equal(v.node.failures, 0);
	assert_int_equal(v.node.next_attempt_at, 0);
	svc_node_view_clear(&v);
	assert_int_equal(svc_rotation_list(r->f->svc, "gone", 0, 10, &list,
	    &cnt, &next, &e), 0);
	assert_int_equal(cnt, 1);
	assert_int_equal(list[0].status, ROT_RUNNING);
	svc_rotation_list_free(list, cnt);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_insert_fails, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_state_and_record_fail,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
