/*
 * Tests for service/prune.c: audit retention deletes only entries older
 * than audit.retention, records each pass as one audit.prune entry, and
 * runs from svc_tick().
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "clock.h"
#include "fixture.h"
#include "timeutil.h"

/* Every audit entry (at most 1000), oldest first; *n their count. */
static struct audit_rec *
entries(struct fx *f, size_t *n)
{
	struct audit_rec *list = NULL;
	int64_t next;
	struct err e;

	err_clear(&e);
	if (svc_audit_list(f->svc, 0, 1000, &list, n, &next, &e) == -1)
		fail_msg("audit list: %s", e.msg);
	return list;
}

static void
test_prune_old_entries(void **state)
{
	struct fx *f = *state;
	struct audit_rec *list;
	struct err e;
	size_t n0, n;
	int64_t now = tu_now(), deleted = -1;
	char detail[64];

	list = entries(f, &n0);
	svc_audit_list_free(list, n0);
	assert_true(n0 > 0);

	/* Nothing is a year old: nothing deleted, nothing written. */
	assert_int_equal(svc_audit_prune(f->svc, &f->cli, now, &deleted, &e),
	    0);
	assert_int_equal(deleted, 0);
	list = entries(f, &n);
	svc_audit_list_free(list, n);
	assert_int_equal(n, n0);

	/* A year and a minute later, every entry so far is too old. */
	now += 365 * 86400 + 60;
	assert_int_equal(svc_audit_prune(f->svc, &f->cli, now, &deleted, &e),
	    0);
	assert_int_equal(deleted, (int64_t)n0);
	list = entries(f, &n);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].action, "audit.prune");
	assert_string_equal(list[0].actor, "cli");
	assert_string_equal(list[0].object, "audit");
	assert_int_equal(list[0].outcome, AUDIT_OK);
	assert_int_equal(list[0].at, now);
	snprintf(detail, sizeof(detail), "deleted=%zu before=", n0);
	assert_non_null(strstr(list[0].detail, detail));
	assert_non_null(strstr(list[0].detail, "retention=365d"));
	svc_audit_list_free(list, n);

	/* The prune entry itself is new: a second pass deletes nothing. */
	assert_int_equal(svc_audit_prune(f->svc, &f->cli, now, &deleted, &e),
	    0);
	assert_int_equal(deleted, 0);
	list = entries(f, &n);
	svc_audit_list_free(list, n);
	assert_int_equal(n, 1);
}

/* svc_tick() prunes as the scheduler, with the configured retention. */
static void
test_tick_prunes(void **state)
{
	struct fx *f = *state;
	struct audit_rec *list;
	size_t n;
	bool found = false;

	f->cfg.audit_retention = 1;
	fx_reopen(f);
	tclock_advance(2);
	(void)svc_tick(f->svc);
	list = entries(f, &n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].action, "audit.prune") == 0) {
			assert_string_equal(list[i].actor, "scheduler");
			assert_non_null(strstr(list[i].detail,
			    "retention=1s"));
			found = true;
		}
	svc_audit_list_free(list, n);
	assert_true(found);
	/* The next pass is an hour away: a second tick writes nothing. */
	tclock_advance(2);
	(void)svc_tick(f->svc);
	list = entries(f, &n);
	for (size_t i = 0; i < n; i++)
		assert_true(strcmp(list[i].action, "audit.prune") != 0 ||
		    i == 0 || strcmp(list[i - 1].action, "audit.prune") != 0);
	svc_audit_list_free(list, n);
	assert_true(fx_audit_has(f, "audit.prune", "ok", "audit", NULL));
	tclock_real();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_prune_old_entries,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_tick_prunes,
		    fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
