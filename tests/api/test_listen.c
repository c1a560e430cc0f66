/* Tests of api/listen.c: listen address parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "api_priv.h"

static void
test_ipv4(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	socklen_t len;
	struct err e;

	(void)state;
	assert_int_equal(api_listen_parse("127.0.0.1:8443", &ss, &len, &e), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(ntohs(sin->sin_port), 8443);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x7f000001);
	assert_int_equal(api_listen_parse("0.0.0.0:0", &ss, &len, &e), 0);
	assert_int_equal(ntohs(sin->sin_port), 0);
	assert_int_equal(sin->sin_addr.s_addr, 0);
	assert_int_equal(api_listen_parse("localhost:65535", &ss, &len, &e), 0);
	assert_int_equal(ntohs(sin->sin_port), 65535);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x7f000001);
}

static void
test_ipv6(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	struct err e;

	(void)state;
	assert_int_equal(api_listen_parse("[::1]:8080", &ss, &len, &e), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(ntohs(sin6->sin6_port), 8080);
	assert_true(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	assert_int_equal(api_listen_parse("[::]:0", &ss, &len, &e), 0);
	assert_true(IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr));
}

static void
test_bad(void **state)
{
	static const char *const bad[] = {
		"", "127.0.0.1", "127.0.0.1:", ":8080", "127.0.0.1:65536",
		"127.0.0.1:-1", "127.0.0.1:80x", "127.0.0.1:123456",
		"::1:8080", "[::1]8080", "[::1]:", "[]:80", "[127.0.0.1]:80",
		"example.invalid:80", "256.0.0.1:80", "[::1:80",
	};
	struct sockaddr_storage ss;
	socklen_t len;
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (api_listen_parse(bad[i], &ss, &len, &e) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(e.code, ERR_CONFIG);
		if (bad[i][0] != '\0')
			assert_non_null(strstr(e.msg, bad[i]));
	}
	assert_int_equal(api_listen_parse(NULL, &ss, &len, &e), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
