/*
 * A rotation that runs while the drift check looks at a node is never
 * taken for drift (service/drift.c): svc_node_probe is wrapped so that a
 * whole rotation of the node happens right after the look read the old
 * serial.  What the look saw is then stale, and is dropped.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "redisfx.h"
#include "svc_int.h"
#include "timeutil.h"

int	__real_svc_node_probe(struct svc *s, const struct node_rec *n,
	    struct svc_probe *out, struct err *e);
int	__wrap_svc_node_probe(struct svc *s, const struct node_rec *n,
	    struct svc_probe *out, struct err *e);

/* Set while the test wants a rotation inside the next look. */
static struct rfx	*race_rfx;
static int		 race_rotations;

int
__wrap_svc_node_probe(struct svc *s, const struct node_rec *n,
    struct svc_probe *out, struct err *e)
{
	struct rotation_rec	rec;
	struct err		re;
	int			rc;

	rc = __real_svc_node_probe(s, n, out, e);
	if (race_rfx != NULL) {
		err_clear(&re);
		if (svc_rotate(s, &race_rfx->f->admin, n->name, &rec,
		    &re) == 0)
			race_rotations++;
	}
	return rc;
}

static void
test_rotation_during_look(void **state)
{
	struct rfx		*r = *state;
	struct rfx_node		 n;
	struct rotation_rec	 rec;
	struct svc_node_view	 v;
	char			 first[RCA_SERIAL_HEX_MAX + 1];
	struct err		 e;

	err_clear(&e);
	rfx_node_up(r, &n, "racy", NULL);
	rfx_register(r, &n, NULL, NULL, NULL);
	assert_int_equal(svc_rotate(r->f->svc, &r->f->admin, n.name, &rec,
	    &e), 0);
	memcpy(first, rec.new_serial, sizeof(first));

	/* The look reads `first`; the rotation then makes it stale. */
	race_rfx = r;
	assert_int_equal(svc_drift_pass(r->f->svc, tu_now()), 0);
	race_rfx = NULL;
	assert_int_equal(race_rotations, 1);
	assert_int_equal(svc_node_get(r->f->svc, n.name, &v, &e), 0);
	assert_string_not_equal(v.node.current_serial, first);
	assert_string_equal(v.node.served_serial, v.node.current_serial);
	assert_int_equal(v.node.drift_since, 0);
	assert_int_not_equal(v.status, NODE_DRIFT);
	svc_node_view_clear(&v);
	assert_false(fx_audit_has(r->f, "node.drift", "ok", n.name, NULL));

	/* A quiet look afterwards agrees. */
	assert_int_equal(svc_drift_pass(r->f->svc, tu_now()), 0);
	assert_false(fx_audit_has(r->f, "node.drift", "ok", n.name, NULL));
	rfx_stop(&n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rotation_during_look,
		    rfx_setup, rfx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
