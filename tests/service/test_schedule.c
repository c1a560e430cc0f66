/*
 * Tests of service/schedule.c: svc_tick() republishes the CRL when it is
 * due and says when it wants to run again (audit retention: test_prune.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "fixture.h"
#include "timeutil.h"

static void
test_tick(void **state)
{
	struct fx	*f = *state;
	struct err	 e;
	int64_t		 wait;
	uint64_t	 n;
	char		 num[24];

	err_clear(&e);
	/*
	 * Fresh CRL, 24h validity, 8h refresh: the CRL would wait for its
	 * 60 s cap, but every tick also watches the CA generation (issue
	 * 12): the scheduler wakes every SVC_CA_TICK seconds.
	 */
	assert_int_equal(svc_tick(f->svc), SVC_CA_TICK);
	assert_int_equal(fx_crl_number(f->svc), 1);

	/*
	 * 3 s validity, refresh 2 s before: due a second after it is
	 * published.  The test clock stands still, so no second boundary
	 * can make it due early.
	 */
	tclock_set(tu_now());
	f->cfg.crl_validity = 3;
	f->cfg.crl_refresh_before = 2;
	fx_reopen(f);
	assert_int_equal(svc_publish_crl(f->svc, &f->cli, &e), 0);
	assert_int_equal(fx_crl_number(f->svc), 2);
	wait = svc_tick(f->svc);
	assert_int_equal(wait, 1);
	n = fx_crl_number(f->svc);
	assert_int_equal(n, 2);
	tclock_advance(2);
	wait = svc_tick(f->svc);
	assert_int_equal(fx_crl_number(f->svc), n + 1);
	assert_true(wait >= 1 && wait <= 60);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)(n + 1));
	assert_true(fx_audit_has(f, "crl.publish", "ok", num, NULL));
	tclock_real();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tick, fx_setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
