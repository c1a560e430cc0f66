/* Tests for ca/pattern.c: token name patterns (SPEC section 6). */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static const struct {
	const char	*pattern;
	const char	*name;
	bool		 match;
} table[] = {
	/* exact DNS, case-insensitive */
	{ "redis-1.example.com", "redis-1.example.com", true },
	{ "redis-1.example.com", "REDIS-1.Example.COM", true },
	{ "redis-1.example.com", "redis-2.example.com", false },
	{ "redis-1.example.com", "x.redis-1.example.com", false },
	/* '*' inside one label */
	{ "app-*", "app-1", true },
	{ "app-*", "app-service", true },
	{ "app-*", "app-", false },
	{ "app-*", "app-1.x", false },
	{ "app-*", "xapp-1", false },
	{ "*.svc.internal", "a.svc.internal", true },
	{ "*.svc.internal", "A.SVC.internal", true },
	{ "*.svc.internal", "a.b.svc.internal", false },
	{ "*.svc.internal", ".svc.internal", false },
	{ "*.svc.internal", "svc.internal", false },
	{ "*.svc.internal", "*.svc.internal", false },
	{ "redis-*.prod", "redis-7.prod", true },
	{ "redis-*.prod", "redis-7.dev", false },
	{ "node*x.example", "node1x.example", true },
	{ "node*x.example", "nodex.example", false },
	/* IP literals */
	{ "10.0.0.1", "10.0.0.1", true },
	{ "10.0.0.1", "10.0.0.2", false },
	{ "::1", "0:0::1", true },
	{ "::1", "127.0.0.1", false },
	/* CIDR */
	{ "10.0.0.0/8", "10.200.3.4", true },
	{ "10.0.0.0/8", "11.0.0.1", false },
	{ "192.168.1.0/25", "192.168.1.127", true },
	{ "192.168.1.0/25", "192.168.1.128", false },
	{ "0.0.0.0/0", "8.8.8.8", true },
	{ "0.0.0.0/0", "::1", false },
	{ "fd00::/8", "fd12:3456::1", true },
	{ "fd00::/8", "fe80::1", false },
	{ "10.0.0.0/8", "app.example", false },
	{ "2001:db8::/127", "2001:db8::1", true },
	{ "2001:db8::/128", "2001:db8::1", false },
	/* exact non-DNS names (CNs, URIs) */
	{ "My App", "My App", true },
	{ "My App", "my app", false },
	{ "spiffe://prod/redis", "spiffe://prod/redis", true },
	{ "spiffe://prod/redis", "spiffe://prod/redis2", false },
};

static void
test_match_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		bool got = ca_pattern_match(table[i].pattern, table[i].name);

		if (got != table[i].match)
			fail_msg("pattern %s name %s: expected %d, got %d",
			    table[i].pattern, table[i].name, table[i].match,
			    got);
	}
}

static void
test_valid(void **state)
{
	static const char *const good[] = {
		"app-*", "*.svc.internal", "redis-1", "10.0.0.1", "::1",
		"10.0.0.0/8", "fd00::/8", "0.0.0.0/0", "spiffe://a/b",
		"My-App", "x", "My App",
	};
	static const char *const bad[] = {
		"", "a**", "*.*.example", "app-*.*", "10.0.0.0/33",
		"fd00::/129", "10.0.0.0/", "10.0.0.0/x", "foo/bar",
		" lead", "trail ", "tab\there", "*.", "-*.example",
		"*.exa mple",
	};
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		err_clear(&e);
		if (ca_pattern_valid(good[i], &e) != 0)
			fail_msg("%s refused: %s", good[i], e.msg);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		if (ca_pattern_valid(bad[i], &e) != -1)
			fail_msg("%s accepted", bad[i]);
		assert_int_equal(e.code, ERR_INVALID_REQUEST);
		assert_non_null(strstr(e.msg, "pattern"));
	}
	assert_int_equal(ca_pattern_valid(NULL, &e), -1);
	/* An invalid pattern matches nothing. */
	assert_false(ca_pattern_match("10.0.0.0/33", "10.0.0.1"));
}

static void
test_names_allowed(void **state)
{
	char *pats[] = { "app-*", "*.svc.internal", "10.0.0.0/8",
	    "spiffe://prod/app" };
	struct names n = NAMES_INIT;
	struct err e;

	(void)state;
	assert_int_equal(names_set_cn(&n, "app-1", NULL), 0);
	assert_int_equal(names_add(&n, NAME_DNS, "app-1", NULL), 0);
	assert_int_equal(names_add(&n, NAME_DNS, "x.svc.internal", NULL), 0);
	assert_int_equal(names_add(&n, NAME_IP, "10.1.2.3", NULL), 0);
	assert_int_equal(names_add(&n, NAME_URI, "spiffe://prod/app", NULL),
	    0);
	err_clear(&e);
	assert_int_equal(ca_names_allowed(pats, 4, &n, &e), 0);

	/* One SAN outside the patterns refuses the whole set. */
	assert_int_equal(names_add(&n, NAME_IP, "192.168.0.1", NULL), 0);
	assert_int_equal(ca_names_allowed(pats, 4, &n, &e), -1);
	assert_int_equal(e.code, ERR_NAME_NOT_ALLOWED);
	assert_non_null(strstr(e.msg, "192.168.0.1"));
	names_clear(&n);

	/* The CN is checked too. */
	assert_int_equal(names_set_cn(&n, "db-1", NULL), 0);
	assert_int_equal(ca_names_allowed(pats, 4, &n, &e), -1);
	assert_int_equal(e.code, ERR_NAME_NOT_ALLOWED);
	assert_non_null(strstr(e.msg, "db-1"));
	names_clear(&n);

	/* URIs match only exact patterns, never a wildcard. */
	{
		char *wild[] = { "*" };

		assert_int_equal(names_add(&n, NAME_URI, "spiffe", NULL), 0);
		assert_int_equal(ca_names_allowed(wild, 1, &n, &e), -1);
		assert_true(ca_pattern_match("*", "spiffe"));
		names_clear(&n);
	}

	/* No patterns: nothing is allowed. */
	assert_int_equal(names_set_cn(&n, "a", NULL), 0);
	assert_int_equal(ca_names_allowed(NULL, 0, &n, &e), -1);
	names_clear(&n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_table),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_names_allowed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
