/*
 * Tests for ca/der.c: the strict DER walker on hand-made encodings (each
 * BER liberty refused on its own), and the header helpers.
 */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "ca_priv.h"

#define DER(...)	((const unsigned char[]){ __VA_ARGS__ })
#define STRICT(...)	ca_der_strict(DER(__VA_ARGS__), \
	sizeof((const unsigned char[]){ __VA_ARGS__ }))

static void
test_strict_accepts(void **state)
{
	(void)state;
	assert_true(ca_der_strict(NULL, 0));
	assert_true(STRICT(0x30, 0x03, 0x02, 0x01, 0x05));
	assert_true(STRICT(0x01, 0x01, 0xff));
	assert_true(STRICT(0x02, 0x02, 0x00, 0x80));
	assert_true(STRICT(0x05, 0x00));
	assert_true(STRICT(0x03, 0x02, 0x01, 0x02));
	/* A SET OF in order, and an explicit [0] wrapper. */
	assert_true(STRICT(0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02));
	assert_true(STRICT(0xa0, 0x03, 0x02, 0x01, 0x01));
}

static void
test_strict_refuses_lengths(void **state)
{
	(void)state;
	/* Indefinite length, a long form for a short length, too long. */
	assert_false(STRICT(0x30, 0x80, 0x05, 0x00, 0x00, 0x00));
	assert_false(STRICT(0x05, 0x81, 0x00));
	assert_false(STRICT(0x04, 0x82, 0x00, 0x81));
	assert_false(STRICT(0x04, 0x05, 0x00));
	assert_false(STRICT(0x30));
}

static void
test_strict_refuses_contents(void **state)
{
	(void)state;
	assert_false(STRICT(0x01, 0x01, 0x01));		/* BOOLEAN 01 */
	assert_false(STRICT(0x02, 0x02, 0x00, 0x05));	/* padded INTEGER */
	assert_false(STRICT(0x02, 0x00));		/* empty INTEGER */
	assert_false(STRICT(0x03, 0x02, 0x01, 0x01));	/* unused bit set */
	assert_false(STRICT(0x05, 0x01, 0x00));		/* NULL with content */
	assert_false(STRICT(0x06, 0x02, 0x80, 0x01));	/* OID 0x80 start */
	assert_false(STRICT(0x1e, 0x01, 0x41));		/* odd BMPString */
	/* A constructed OCTET STRING, a primitive SEQUENCE. */
	assert_false(STRICT(0x24, 0x03, 0x04, 0x01, 0x00));
	assert_false(STRICT(0x10, 0x00));
	/* A SET OF out of order. */
	assert_false(STRICT(0x31, 0x06, 0x02, 0x01, 0x02, 0x02, 0x01, 0x01));
}

static void
test_strict_depth(void **state)
{
	unsigned char buf[2 * (RCA_DER_MAX_DEPTH + 1)];
	size_t n;

	(void)state;
	/* depth nested empty SEQUENCEs: the limit passes, one more not. */
	for (size_t depth = RCA_DER_MAX_DEPTH; depth <=
	    RCA_DER_MAX_DEPTH + 1; depth++) {
		n = 2 * depth;
		for (size_t i = 0; i < depth; i++) {
			buf[2 * i] = 0x30;
			buf[2 * i + 1] = (unsigned char)(n - 2 * i - 2);
		}
		assert_int_equal(ca_der_strict(buf, n),
		    depth == RCA_DER_MAX_DEPTH);
	}
}

static void
test_heads(void **state)
{
	unsigned char out[8];
	const unsigned char *p, *mag;
	size_t lens[] = { 0, 0x7f, 0x80, 0xff, 0x100, 0x1234, 0x10000 };
	size_t h, maglen;

	(void)state;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		h = ca_der_put_head(out, 0x04, lens[i]);
		assert_int_equal(h, ca_der_head_len(lens[i]));
		p = out;
		/* ca_der_get checks the content fits: claim it does. */
		if (lens[i] <= 0x7f) {
			assert_int_equal(ca_der_get(&p, h + lens[i], 0x04),
			    (long)lens[i]);
			assert_ptr_equal(p, out + h);
		}
	}
	p = DER(0x02, 0x01, 0x05);
	assert_int_equal(ca_der_get(&p, 3, 0x04), -1);
	assert_int_equal(ca_der_get(&p, 3, 0x02), 1);
	assert_true(ca_der_uint(DER(0x00, 0x80), 2, &mag, &maglen));
	assert_int_equal(maglen, 1);
	assert_int_equal(mag[0], 0x80);
	assert_false(ca_der_uint(DER(0x80), 1, &mag, &maglen));
	assert_false(ca_der_uint(DER(0x00, 0x01), 2, &mag, &maglen));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strict_accepts),
		cmocka_unit_test(test_strict_refuses_lengths),
		cmocka_unit_test(test_strict_refuses_contents),
		cmocka_unit_test(test_strict_depth),
		cmocka_unit_test(test_heads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
