/*
 * Failure paths of service/rotate.c that a healthy redis-server never
 * takes, reached by wrapping redis/'s rds_peer_serial (-Wl,--wrap): the
 * new handshake shows a foreign serial after a CONFIG SET that worked,
 * so the rollback must CONFIG SET the old files back and see the old
 * serial again.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "redisfx.h"

int	__real_rds_peer_serial(const struct rds_conn *c,
	    char out[RCA_SERIAL_HEX_MAX + 1], struct err *e);
int	__wrap_rds_peer_serial(const struct rds_conn *c,
	    char out[RCA_SERIAL_HEX_MAX + 1], struct err *e);

/* Call k (from 1) reports a foreign serial when bit k-1 is set. */
static unsigned	calls;
static unsigned	lie_mask;

int
__wrap_rds_peer_serial(const struct rds_conn *c,
    char out[RCA_SERIAL_HEX_MAX + 1], struct err *e)
{
	if (lie_mask != 0 && calls < 32 && (lie_mask & (1u << calls++)) !=
	    0) {
		snprintf(out, RCA_SERIAL_HEX_MAX + 1, "abcdef0123");
		return 0;
	}
	return __real_rds_peer_serial(c, out, e);
}

static void
test_verify_fails_then_config_set_back(void **state)
{
	struct rfx		*r = *state;
	struct rfx_node		 n;
	struct rotation_rec	 rec;
	struct cert_rec		 c;
	struct err		 e;
	char			 served[RCA_SERIAL_HEX_MAX + 1];
	char			*crt_before, *key_before, *crt_after, *key_after;
	int			 i, rc;

	err_clear(&e);
	rfx_node_up(r, &n, "liar", NULL);
	rfx_register(r, &n, NULL, NULL, NULL);
	crt_before = rfx_read_in(&n, "redis.crt");
	key_before = rfx_read_in(&n, "redis.key");

	/* Calls: connect (1), verify_handshake (2), rollback check (3). */
	calls = 0;
	lie_mask = 1u << 1;
	rc = svc_rotate(r->f->svc, &r->f->admin, n.name, &rec, &e);
	lie_mask = 0;
	for (size_t k = 0; k < rec.nsteps; k++)
		print_message("  %-16s %s %s\n", rec.steps[k].step,
		    rec.steps[k].ok ? "ok  " : "FAIL", rec.steps[k].detail);
	assert_int_equal(rc, -1);
	assert_int_equal(e.code, ERR_ROTATION_FAILED);
	assert_int_equal(rec.status, ROT_ROLLED_BACK);
	assert_true((i = rfx_step_at(&rec, "config_set")) >= 0);
	assert_true(rec.steps[i].ok);
	assert_true((i = rfx_step_at(&rec, "verify_handshake")) >= 0);
	assert_false(rec.steps[i].ok);
	assert_non_null(strstr(rec.steps[i].detail, "abcdef0123"));
	assert_int_equal(rfx_step_at(&rec, "ping"), -1);
	assert_true((i = rfx_step_at(&rec, "rollback")) >= 0);
	assert_true(rec.steps[i].ok);
	assert_non_null(strstr(rec.steps[i].detail, "CONFIG SET back;"));
	assert_non_null(strstr(rec.steps[i].detail, "served again"));

	/* The old pair is back on disk and in force. */
	crt_after = rfx_read_in(&n, "redis.crt");
	key_after = rfx_read_in(&n, "redis.key");
	assert_string_equal(crt_after, crt_before);
	assert_string_equal(key_after, key_before);
	rfx_served(r, &n, served);
	assert_string_equal(served, n.serial);
	assert_true(rfx_ping(r, &n));

	/* It went live for a moment, but the old one is served again. */
	assert_int_equal(svc_cert_get(r->f->svc, rec.new_serial, &c, &e), 0);
	assert_int_equal(c.reason, REASON_CESSATION_OF_OPERATION);
	cert_rec_clear(&c);
	assert_int_equal(svc_cert_get(r->f->svc, n.serial, &c, &e), 0);
	assert_int_equal(c.revoked_at, 0);
	cert_rec_clear(&c);

	free(crt_before);
	free(key_before);
	free(crt_after);
	free(key_after);
	rfx_stop(&n);
}

/*
 * The rollback's own check lies too: the node cannot be shown to serve
 * the old certificate, so the status is failed and the new certificate
 * (which the node may be serving) stays valid.
 */
static void
test_rollback_unproven(void **state)
{
	struct rfx		*r = *state;
	struct rfx_node		 n;
	struct rotation_rec	 rec;
	struct svc_node_view	 v;
	struct cert_rec		 c;
	struct err		 e;
	int			 i;

	err_clear(&e);
	rfx_node_up(r, &n, "liar2", NULL);
	rfx_register(r, &n, NULL, NULL, NULL);

	calls = 0;
	lie_mask = (1u << 1) | (1u << 2);	/* calls 2 and 3 */
	assert_int_equal(svc_rotate(r->f->svc, &r->f->admin, n.name, &rec,
	    &e), -1);
	lie_mask = 0;
	assert_int_equal(rec.status, ROT_FAILED);
	assert_true((i = rfx_step_at(&rec, "rollback")) >= 0);
	assert_false(rec.steps[i].ok);
	assert_non_null(strstr(rec.steps[i].detail, "left valid"));
	assert_int_equal(svc_cert_get(r->f->svc, rec.new_serial, &c, &e), 0);
	assert_int_equal(c.revoked_at, 0);
	cert_rec_clear(&c);
	assert_int_equal(svc_node_get(r->f->svc, n.name, &v, &e), 0);
	assert_int_equal(v.status, NODE_ROTATION_FAILED);
	assert_int_equal(v.last_rotation.status, ROT_FAILED);
	svc_node_view_clear(&v);
	/* In truth the CONFIG SET back worked: the old one is served. */
	assert_true(rfx_ping(r, &n));
	rfx_stop(&n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_verify_fails_then_config_set_back,
		    rfx_setup, rfx_teardown),
		cmocka_unit_test_setup_teardown(test_rollback_unproven,
		    rfx_setup, rfx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
