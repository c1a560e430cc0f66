/* Tests of common/names.c: bounded, de-duplicated certificate names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rca_limits.h"
#include "names.h"

static void
test_cn(void **state)
{
	struct names n = NAMES_INIT;
	char longest[RCA_MAX_NAME_LEN + 2];
	struct err e;

	assert_int_equal(names_set_cn(&n, "app-service", &e), 0);
	assert_string_equal(n.cn, "app-service");
	/* Replacing the CN frees the old one (LeakSanitizer checks). */
	assert_int_equal(names_set_cn(&n, "other", &e), 0);
	assert_string_equal(n.cn, "other");

	memset(longest, 'a', RCA_MAX_NAME_LEN);
	longest[RCA_MAX_NAME_LEN] = '\0';
	assert_int_equal(names_set_cn(&n, longest, &e), 0);
	longest[RCA_MAX_NAME_LEN] = 'a';
	longest[RCA_MAX_NAME_LEN + 1] = '\0';
	err_clear(&e);
	assert_int_equal(names_set_cn(&n, longest, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);

	assert_int_equal(names_set_cn(&n, "", &e), -1);
	assert_int_equal(names_set_cn(&n, NULL, &e), -1);
	assert_int_equal(names_set_cn(&n, "bad\ncn", &e), -1);
	assert_int_equal(names_set_cn(&n, "bad\x7f", &e), -1);
	/* A refused CN leaves the previous one in place. */
	assert_int_equal(strlen(n.cn), RCA_MAX_NAME_LEN);
	names_clear(&n);
	assert_null(n.cn);
	names_clear(&n);
	names_clear(NULL);
}

static void
test_dns_dedupe_case_insensitive(void **state)
{
	struct names n = NAMES_INIT;
	struct err e;

	assert_int_equal(names_add(&n, NAME_DNS, "Redis-1.Example.com", &e),
	    0);
	assert_int_equal(names_add(&n, NAME_DNS, "redis-1.example.com", &e),
	    0);
	assert_int_equal(names_add(&n, NAME_DNS, "REDIS-1.EXAMPLE.COM", &e),
	    0);
	assert_int_equal(n.n[NAME_DNS], 1);
	/* The first spelling is the one kept. */
	assert_string_equal(n.list[NAME_DNS][0], "Redis-1.Example.com");
	assert_int_equal(names_add(&n, NAME_DNS, "redis-2.example.com", &e),
	    0);
	assert_int_equal(n.n[NAME_DNS], 2);
	/* URIs compare exactly. */
	assert_int_equal(names_add(&n, NAME_URI, "spiffe://x/A", &e), 0);
	assert_int_equal(names_add(&n, NAME_URI, "spiffe://x/a", &e), 0);
	assert_int_equal(names_add(&n, NAME_URI, "spiffe://x/a", &e), 0);
	assert_int_equal(n.n[NAME_URI], 2);
	assert_int_equal(names_count(&n), 4);
	names_clear(&n);
	assert_int_equal(n.n[NAME_DNS], 0);
	assert_null(n.list[NAME_DNS]);
}

static void
test_ip_canonical(void **state)
{
	struct names n = NAMES_INIT;
	struct err e;

	assert_int_equal(names_add(&n, NAME_IP, "2001:DB8:0:0::1", &e), 0);
	assert_string_equal(n.list[NAME_IP][0], "2001:db8::1");
	/* Another spelling of the same address is a duplicate. */
	assert_int_equal(names_add(&n, NAME_IP, "2001:db8::0:1", &e), 0);
	assert_int_equal(n.n[NAME_IP], 1);
	assert_int_equal(names_add(&n, NAME_IP, "0:0:0:0:0:0:0:1", &e), 0);
	assert_string_equal(n.list[NAME_IP][1], "::1");
	assert_int_equal(names_add(&n, NAME_IP, "127.0.0.1", &e), 0);
	assert_string_equal(n.list[NAME_IP][2], "127.0.0.1");
	assert_int_equal(n.n[NAME_IP], 3);

	err_clear(&e);
	assert_int_equal(names_add(&n, NAME_IP, "127.0.0.256", &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(names_add(&n, NAME_IP, "10.0.0.0/8", &e), -1);
	assert_int_equal(names_add(&n, NAME_IP, "localhost", &e), -1);
	assert_int_equal(names_add(&n, NAME_IP, "::1%lo", &e), -1);
	assert_int_equal(n.n[NAME_IP], 3);
	names_clear(&n);
}

static void
test_is_ip_is_dns(void **state)
{
	assert_true(names_is_ip("10.1.2.3"));
	assert_true(names_is_ip("::1"));
	assert_true(names_is_ip("fe80::1"));
	assert_false(names_is_ip("10.1.2"));
	assert_false(names_is_ip("example.com"));
	assert_false(names_is_ip(""));

	assert_true(names_is_dns("localhost"));
	assert_true(names_is_dns("a.b.c"));
	assert_true(names_is_dns("redis-1.svc.internal"));
	assert_true(names_is_dns("*.svc.internal"));
	assert_true(names_is_dns("_srv.example.com"));
	assert_true(names_is_dns("1.example.com"));
	assert_false(names_is_dns(""));
	assert_false(names_is_dns("a..b"));
	assert_false(names_is_dns(".a"));
	assert_false(names_is_dns("a."));
	assert_false(names_is_dns("-a.com"));
	assert_false(names_is_dns("a-.com"));
	assert_false(names_is_dns("a b.com"));
	assert_false(names_is_dns("app*.com"));
	assert_false(names_is_dns("a.*.com"));
	assert_false(names_is_dns("*"));
	assert_false(names_is_dns("*.*.com"));
	/* An IP address is not a DNS name. */
	assert_false(names_is_dns("10.0.0.1"));
}

static void
test_dns_label_and_name_limits(void **state)
{
	char label[80], name[RCA_MAX_NAME_LEN + 8];
	struct names n = NAMES_INIT;
	struct err e;
	size_t len = 0;

	memset(label, 'a', 63);
	strcpy(label + 63, ".com");
	assert_true(names_is_dns(label));
	memset(label, 'a', 64);
	strcpy(label + 64, ".com");
	assert_false(names_is_dns(label));
	assert_int_equal(names_add(&n, NAME_DNS, label, &e), -1);

	/* 253 characters in labels of 49 + '.' is the longest name. */
	while (len + 50 <= RCA_MAX_NAME_LEN) {
		memset(name + len, 'b', 49);
		name[len + 49] = '.';
		len += 50;
	}
	memset(name + len, 'c', RCA_MAX_NAME_LEN - len);
	name[RCA_MAX_NAME_LEN] = '\0';
	assert_true(names_is_dns(name));
	assert_int_equal(names_add(&n, NAME_DNS, name, &e), 0);
	name[RCA_MAX_NAME_LEN] = 'c';
	name[RCA_MAX_NAME_LEN + 1] = '\0';
	assert_false(names_is_dns(name));
	assert_int_equal(names_add(&n, NAME_DNS, name, &e), -1);
	assert_int_equal(n.n[NAME_DNS], 1);
	names_clear(&n);
}

static void
test_bad_values(void **state)
{
	char uri[RCA_MAX_URI_LEN + 2];
	struct names n = NAMES_INIT;
	struct err e;

	assert_int_equal(names_add(&n, NAME_DNS, "", &e), -1);
	assert_int_equal(names_add(&n, NAME_DNS, NULL, &e), -1);
	assert_int_equal(names_add(&n, NAME_URI, "spiffe://x/\n", &e), -1);
	assert_int_equal(names_add(&n, NAME__MAX, "x", &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);

	memset(uri, 'u', RCA_MAX_URI_LEN);
	uri[RCA_MAX_URI_LEN] = '\0';
	assert_int_equal(names_add(&n, NAME_URI, uri, &e), 0);
	uri[RCA_MAX_URI_LEN] = 'u';
	uri[RCA_MAX_URI_LEN + 1] = '\0';
	assert_int_equal(names_add(&n, NAME_URI, uri, &e), -1);
	assert_int_equal(names_count(&n), 1);
	names_clear(&n);
}

static void
test_max_sans(void **state)
{
	struct names n = NAMES_INIT;
	char name[32];
	struct err e;

	for (int i = 0; i < RCA_MAX_SANS; i++) {
		snprintf(name, sizeof(name), "h%d.example.com", i);
		assert_int_equal(names_add(&n, NAME_DNS, name, &e), 0);
	}
	assert_int_equal(n.n[NAME_DNS], RCA_MAX_SANS);
	err_clear(&e);
	assert_int_equal(names_add(&n, NAME_DNS, "one-more.example.com", &e),
	    -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_non_null(strstr(e.msg, "more than"));
	/* A duplicate at the limit is still fine: it adds nothing. */
	assert_int_equal(names_add(&n, NAME_DNS, "H0.example.com", &e), 0);
	assert_int_equal(n.n[NAME_DNS], RCA_MAX_SANS);
	/* The limit is per kind. */
	assert_int_equal(names_add(&n, NAME_IP, "10.0.0.1", &e), 0);
	names_clear(&n);
}

static void
test_copy_equal(void **state)
{
	struct names a = NAMES_INIT, b = NAMES_INIT, c = NAMES_INIT;
	struct err e;

	assert_int_equal(names_set_cn(&a, "node", &e), 0);
	assert_int_equal(names_add(&a, NAME_DNS, "a.example", &e), 0);
	assert_int_equal(names_add(&a, NAME_DNS, "b.example", &e), 0);
	assert_int_equal(names_add(&a, NAME_IP, "10.0.0.1", &e), 0);
	assert_int_equal(names_copy(&b, &a, &e), 0);
	assert_true(names_equal(&a, &b));
	assert_ptr_not_equal(a.cn, b.cn);

	/* Same sets in another order are equal. */
	assert_int_equal(names_set_cn(&c, "node", &e), 0);
	assert_int_equal(names_add(&c, NAME_IP, "10.0.0.1", &e), 0);
	assert_int_equal(names_add(&c, NAME_DNS, "B.example", &e), 0);
	assert_int_equal(names_add(&c, NAME_DNS, "a.example", &e), 0);
	assert_true(names_equal(&a, &c));

	/* A different CN, an extra SAN, or no CN make them differ. */
	assert_int_equal(names_set_cn(&c, "Node", &e), 0);
	assert_false(names_equal(&a, &c));
	assert_int_equal(names_set_cn(&c, "node", &e), 0);
	assert_int_equal(names_add(&c, NAME_URI, "urn:x", &e), 0);
	assert_false(names_equal(&a, &c));
	names_clear(&c);
	assert_false(names_equal(&a, &c));
	names_clear(&c);
	assert_true(names_equal(&c, &c));

	names_clear(&a);
	names_clear(&b);
}

static void
test_join_split(void **state)
{
	struct names a = NAMES_INIT, b = NAMES_INIT;
	struct err e;
	char *j;

	j = names_join(&a, NAME_DNS);
	assert_non_null(j);
	assert_string_equal(j, "");
	free(j);

	assert_int_equal(names_add(&a, NAME_DNS, "a.example", &e), 0);
	assert_int_equal(names_add(&a, NAME_DNS, "b.example", &e), 0);
	j = names_join(&a, NAME_DNS);
	assert_string_equal(j, "a.example\nb.example");
	assert_int_equal(names_split(&b, NAME_DNS, j, &e), 0);
	free(j);
	assert_true(names_equal(&a, &b));
	names_clear(&b);

	/* Empty lines are skipped; bad entries are refused. */
	assert_int_equal(names_split(&b, NAME_IP, "\n10.0.0.1\n\n::1\n", &e),
	    0);
	assert_int_equal(b.n[NAME_IP], 2);
	assert_int_equal(names_split(&b, NAME_IP, "10.0.0.2\nnot-an-ip", &e),
	    -1);
	assert_int_equal(names_split(&b, NAME_DNS, NULL, &e), 0);
	names_clear(&a);
	names_clear(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cn),
		cmocka_unit_test(test_dns_dedupe_case_insensitive),
		cmocka_unit_test(test_ip_canonical),
		cmocka_unit_test(test_is_ip_is_dns),
		cmocka_unit_test(test_dns_label_and_name_limits),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_max_sans),
		cmocka_unit_test(test_copy_equal),
		cmocka_unit_test(test_join_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
