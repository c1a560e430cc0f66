/* Tests of common/hex.c: hex encoding and serial normalisation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hex.h"
#include "rca_limits.h"

static void
test_encode(void **state)
{
	static const unsigned char in[] = { 0x00, 0x01, 0x7f, 0x80, 0xab,
	    0xff };
	char out[2 * sizeof(in) + 1];

	memset(out, 'x', sizeof(out));
	hex_encode(in, sizeof(in), out);
	assert_string_equal(out, "00017f80abff");
	hex_encode(in, 0, out);
	assert_string_equal(out, "");
}

static void
test_serial_normalize(void **state)
{
	static const struct {
		const char	*in;
		const char	*want;
	} ok[] = {
		{ "ab", "ab" },
		{ "AB", "ab" },
		{ "00AbCd", "abcd" },
		{ "0", "0" },
		{ "0000", "0" },
		{ "0001", "1" },
		{ "5F3A0c", "5f3a0c" },
	};
	char out[RCA_SERIAL_HEX_MAX + 1];
	struct err e;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(hex_serial_normalize(ok[i].in, out, &e), 0);
		assert_string_equal(out, ok[i].want);
	}
}

static void
test_serial_length_limit(void **state)
{
	char in[RCA_SERIAL_HEX_MAX + 2], out[RCA_SERIAL_HEX_MAX + 1];
	struct err e;

	memset(in, 'F', RCA_SERIAL_HEX_MAX);
	in[RCA_SERIAL_HEX_MAX] = '\0';
	assert_int_equal(hex_serial_normalize(in, out, &e), 0);
	assert_int_equal(strlen(out), RCA_SERIAL_HEX_MAX);
	assert_int_equal(out[0], 'f');

	/* One digit more is refused, even when it is a leading zero. */
	memmove(in + 1, in, RCA_SERIAL_HEX_MAX + 1);
	in[0] = '0';
	err_clear(&e);
	assert_int_equal(hex_serial_normalize(in, out, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_SERIAL);
}

static void
test_serial_invalid(void **state)
{
	static const char *const bad[] = {
		"", "0x1f", "ab:cd", "ab cd", "-1", "g", "12z", " ab", "ab\n",
	};
	char out[RCA_SERIAL_HEX_MAX + 1];
	struct err e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		if (hex_serial_normalize(bad[i], out, &e) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(e.code, ERR_INVALID_SERIAL);
		assert_string_equal(err_code_name(e.code), "invalid_serial");
	}
	assert_int_equal(hex_serial_normalize(NULL, out, &e), -1);
	assert_int_equal(hex_serial_normalize("zz", out, NULL), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_serial_normalize),
		cmocka_unit_test(test_serial_length_limit),
		cmocka_unit_test(test_serial_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
