/* Tests of common/hostport.c: every accepted and refused shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hostport.h"

static void
ok(const char *s, const char *host, unsigned port)
{
	char		h[64];
	unsigned	p = 99999;

	if (!hostport_split(s, h, sizeof(h), &p))
		fail_msg("'%s' refused", s);
	assert_string_equal(h, host);
	assert_int_equal(p, port);
}

static void
test_accepted(void **state)
{
	(void)state;
	ok("127.0.0.1:6379", "127.0.0.1", 6379);
	ok("redis-1.example:1", "redis-1.example", 1);
	ok("localhost:65535", "localhost", 65535);
	ok("[::1]:0", "::1", 0);
	ok("[fe80::1%eth0]:6380", "fe80::1%eth0", 6380);
	ok("h:00080", "h", 80);
}

static void
test_refused(void **state)
{
	static const char *const bad[] = {
		"", ":", "host", "host:", ":6379", "host:65536",
		"host:123456", "host:-1", "host:+1", "host:1 ", "host: 1",
		"host:0x10", "::1:6379", "[::1]", "[::1]6379", "[]:6379",
		"[127.0.0.1]:6379", "[::1:6379", "a b:1", "a/b:1", "a]:1",
		"a[:1", "\x7f:1", "h\t:1", "\xc3\xa9:1", "[::1]:",
		"[::1]:1:2", "h:1:2",
	};
	char		h[8] = "keep";
	unsigned	p = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (hostport_split(bad[i], h, sizeof(h), &p))
			fail_msg("'%s' accepted", bad[i]);
	assert_false(hostport_split(NULL, h, sizeof(h), &p));
	/* The host must fit with its NUL: 7 bytes in 8, not 8. */
	assert_true(hostport_split("abcdefg:1", h, sizeof(h), &p));
	assert_false(hostport_split("abcdefgh:1", h, sizeof(h), &p));
	assert_string_equal(h, "abcdefg");
	assert_int_equal(p, 1);
}

/* 255 bytes of host is the most, whatever the buffer. */
static void
test_long_host(void **state)
{
	char		s[300], h[300];
	unsigned	p;

	(void)state;
	memset(s, 'a', 255);
	memcpy(s + 255, ":1", 3);
	assert_true(hostport_split(s, h, sizeof(h), &p));
	memset(s, 'a', 256);
	memcpy(s + 256, ":1", 3);
	assert_false(hostport_split(s, h, sizeof(h), &p));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_long_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
