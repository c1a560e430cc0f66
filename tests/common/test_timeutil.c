/* Tests of common/timeutil.c: RFC 3339 times and unit durations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "timeutil.h"

#define T_2026_11_28_01 INT64_C(1795827600)	/* 2026-11-28T01:00:00Z */

static void
test_now(void **state)
{
	int64_t a = (int64_t)time(NULL), n = tu_now();

	assert_true(n >= a && n <= a + 2);
}

static void
test_format(void **state)
{
	char buf[RCA_TIME_STR];

	tu_format(0, buf);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	tu_format(T_2026_11_28_01, buf);
	assert_string_equal(buf, "2026-11-28T01:00:00Z");
	/* 2028 is a leap year. */
	tu_format(INT64_C(1835481599), buf);
	assert_string_equal(buf, "2028-02-29T23:59:59Z");
	/* Four-digit years, as RFC 3339 says; outside 0000-9999 "". */
	tu_format(INT64_C(-55005944400), buf);
	assert_string_equal(buf, "0226-12-07T03:00:00Z");
	tu_format(INT64_C(253402300800), buf);
	assert_string_equal(buf, "");
}

static void
test_parse_valid(void **state)
{
	int64_t t;
	struct err e;

	assert_int_equal(tu_parse("2026-11-28T01:00:00Z", &t, &e), 0);
	assert_int_equal(t, T_2026_11_28_01);
	/* Lowercase separators are RFC 3339 too. */
	assert_int_equal(tu_parse("2026-11-28t01:00:00z", &t, &e), 0);
	assert_int_equal(t, T_2026_11_28_01);
	/* Fractional seconds are accepted and dropped. */
	assert_int_equal(tu_parse("2026-11-28T01:00:00.999999Z", &t, &e), 0);
	assert_int_equal(t, T_2026_11_28_01);
	/* Offsets are converted to UTC. */
	assert_int_equal(tu_parse("2026-11-28T03:00:00+02:00", &t, &e), 0);
	assert_int_equal(t, T_2026_11_28_01);
	assert_int_equal(tu_parse("2026-11-27T19:30:00-05:30", &t, &e), 0);
	assert_int_equal(t, T_2026_11_28_01);
	assert_int_equal(tu_parse("2026-11-28T01:00:00.5+00:00", &t, &e), 0);
	assert_int_equal(t, T_2026_11_28_01);
	assert_int_equal(tu_parse("1970-01-01T00:00:00Z", &t, &e), 0);
	assert_int_equal(t, 0);
}

static void
test_parse_round_trip(void **state)
{
	static const int64_t times[] = { 0, 1, 951782400 /* 2000-02-29 */,
	    T_2026_11_28_01, INT64_C(4102444799) /* 2099-12-31T23:59:59 */,
	    /* Years below 1000 keep four digits (found by fuzz_enroll). */
	    INT64_C(-55005944400) /* 0226-12-07T03:00:00 */,
	    INT64_C(-62167219200) /* 0000-01-01T00:00:00 */,
	    INT64_C(253402300799) /* 9999-12-31T23:59:59 */ };
	char buf[RCA_TIME_STR];
	int64_t t;

	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		tu_format(times[i], buf);
		assert_int_equal(tu_parse(buf, &t, NULL), 0);
		assert_int_equal(t, times[i]);
	}
}

static void
test_parse_invalid(void **state)
{
	static const char *const bad[] = {
		"",
		"2026-11-28",
		"2026-11-28T01:00:00",		/* no zone */
		"2026-11-28 01:00:00Z",		/* space, not T */
		"2026-11-28T01:00Z",		/* no seconds */
		"2026-13-01T00:00:00Z",		/* month 13 */
		"2026-00-01T00:00:00Z",		/* month 0 */
		"2026-11-00T00:00:00Z",		/* day 0 */
		"2026-11-32T00:00:00Z",		/* day 32 */
		"2026-11-28T24:00:00Z",		/* hour 24 */
		"2026-11-28T01:60:00Z",		/* minute 60 */
		"2026-11-28T01:00:61Z",		/* second 61 */
		"2026-11-28T01:00:00.Z",	/* empty fraction */
		"2026-11-28T01:00:00Zjunk",	/* trailing bytes */
		"2026-11-28T01:00:00+0200",	/* offset without colon */
		"2026-11-28T01:00:00+24:00",	/* offset hour 24 */
		"2026-11-28T01:00:00+02:60",	/* offset minute 60 */
		"2026-11-28T01:00:00+02",	/* short offset */
		"2026/11/28T01:00:00Z",
		"+026-11-28T01:00:00Z",
		"2026-1a-28T01:00:00Z",
		"yesterday, around noon",
		/* Offsets that leave years 0000-9999: tu_format cannot
		 * write them back. */
		"0000-01-01T00:00:00+00:01",
		"9999-12-31T23:59:59-00:01",
		"9999-12-31T23:59:60Z",
	};
	struct err e;
	int64_t t = 42;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		if (tu_parse(bad[i], &t, &e) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(e.code, ERR_INVALID_REQUEST);
		assert_non_null(strstr(e.msg, "RFC 3339"));
	}
	assert_int_equal(tu_parse(NULL, &t, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	/* A NULL err is allowed. */
	assert_int_equal(tu_parse("nope", &t, NULL), -1);
	assert_int_equal(t, 42);
}

static void
test_duration_valid(void **state)
{
	int64_t d;
	struct err e;

	assert_int_equal(tu_parse_duration("90s", &d, &e), 0);
	assert_int_equal(d, 90);
	assert_int_equal(tu_parse_duration("30m", &d, &e), 0);
	assert_int_equal(d, 1800);
	assert_int_equal(tu_parse_duration("24h", &d, &e), 0);
	assert_int_equal(d, 86400);
	assert_int_equal(tu_parse_duration("7d", &d, &e), 0);
	assert_int_equal(d, 7 * 86400);
	assert_int_equal(tu_parse_duration("1s", &d, &e), 0);
	assert_int_equal(d, 1);
	assert_int_equal(tu_parse_duration("0072h", &d, &e), 0);
	assert_int_equal(d, 72 * 3600);
	/* The 100-year cap: 36600 days is the largest accepted. */
	assert_int_equal(tu_parse_duration("36600d", &d, &e), 0);
	assert_int_equal(d, INT64_C(36600) * 86400);
}

static void
test_duration_invalid(void **state)
{
	static const char *const bad[] = {
		"", "0s", "0d", "-1s", "+5s", " 5s", "5 s", "5", "s", "5x",
		"5S", "5hh", "1.5h", "5sec", "1h30m", "36601d", "878401h",
		"99999999999999999999s", "9223372036854775807d",
	};
	struct err e;
	int64_t d = 7;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		if (tu_parse_duration(bad[i], &d, &e) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(e.code, ERR_INVALID_TTL);
	}
	assert_int_equal(tu_parse_duration(NULL, &d, &e), -1);
	assert_int_equal(tu_parse_duration("x", &d, NULL), -1);
	assert_int_equal(d, 7);
}

static void
test_format_duration(void **state)
{
	char buf[24];
	int64_t d;

	tu_format_duration(72 * 3600, buf);
	assert_string_equal(buf, "3d");
	tu_format_duration(7200, buf);
	assert_string_equal(buf, "2h");
	tu_format_duration(120, buf);
	assert_string_equal(buf, "2m");
	tu_format_duration(90, buf);
	assert_string_equal(buf, "90s");
	tu_format_duration(3601, buf);
	assert_string_equal(buf, "3601s");
	tu_format_duration(0, buf);
	assert_string_equal(buf, "0s");
	/* What it writes parses back to the same number. */
	for (int64_t s = 1; s < 200000; s += 997) {
		tu_format_duration(s, buf);
		assert_int_equal(tu_parse_duration(buf, &d, NULL), 0);
		assert_int_equal(d, s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_now),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_round_trip),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_duration_valid),
		cmocka_unit_test(test_duration_invalid),
		cmocka_unit_test(test_format_duration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
