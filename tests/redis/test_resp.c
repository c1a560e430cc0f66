/*
 * Tests for redis/resp.c, the RESP codec alone (no socket, no server):
 * commands encoded byte for byte, every reply type decoded, replies
 * split anywhere or sent back to back, the reply size cap on bytes and
 * on array headers, and what is not RESP.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "rca_limits.h"
#include "resp.h"

#define WHERE	"node-1:6380"

/* Fail (showing msg) unless msg contains needle. */
#define assert_msg_has(msg, needle) do {				\
	if (strstr((msg), (needle)) == NULL)				\
		fail_msg("\"%s\" lacks \"%s\"", (msg), (needle));	\
} while (0)

/* Decode text (len bytes) in one piece under cap: the one reply. */
static struct rds_reply *
decode(const char *text, size_t len, size_t cap)
{
	struct rds_decoder *d = rds_decoder_new(cap, WHERE);
	struct rds_reply *r = NULL;
	struct err e = { 0 };

	assert_non_null(d);
	if (rds_decoder_feed(d, text, len, &r, &e) != 1)
		fail_msg("decode \"%s\": %s", text, e.msg);
	rds_decoder_free(d);
	return r;
}

/* Decode text under cap, expecting -1 with want in the message. */
static void
decode_fails(const char *text, size_t cap, const char *want)
{
	struct rds_decoder *d = rds_decoder_new(cap, WHERE);
	struct rds_reply *r = NULL;
	struct err e = { 0 };

	assert_non_null(d);
	assert_int_equal(rds_decoder_feed(d, text, strlen(text), &r, &e), -1);
	assert_null(r);
	assert_int_equal(e.code, ERR_NET);
	assert_msg_has(e.msg, want);
	rds_decoder_free(d);
}

static void
test_format(void **state)
{
	const char *argv[] = { "SET", "k", "v\0x" };
	const size_t argvlen[] = { 3, 1, 3 };
	const char want[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv\0x\r\n";
	const char *ping[] = { "PING" };
	struct err e = { 0 };
	char *cmd = NULL;
	size_t len;

	(void)state;
	assert_int_equal(rds_cmd_format(3, argv, argvlen, &cmd, &len, &e), 0);
	assert_int_equal(len, sizeof(want) - 1);
	assert_memory_equal(cmd, want, len);
	rds_cmd_free(cmd);
	/* No lengths: each argument is a C string. */
	assert_int_equal(rds_cmd_format(1, ping, NULL, &cmd, &len, &e), 0);
	assert_int_equal(len, 14);
	assert_memory_equal(cmd, "*1\r\n$4\r\nPING\r\n", len);
	rds_cmd_free(cmd);
	rds_cmd_free(NULL);

	assert_int_equal(rds_cmd_format(0, ping, NULL, &cmd, &len, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_null(cmd);
	assert_int_equal(rds_cmd_format(1, NULL, NULL, &cmd, &len, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
}

static void
test_reply_types(void **state)
{
	static const char array[] = "*3\r\n$1\r\na\r\n$0\r\n\r\n*1\r\n:-7\r\n";
	struct rds_reply *r;

	(void)state;
	r = decode("+OK\r\n", 5, 0);
	assert_int_equal(r->type, RDS_REPLY_STATUS);
	assert_string_equal(r->str, "OK");
	rds_reply_free(r);
	r = decode("-ERR no\r\n", 9, 0);
	assert_int_equal(r->type, RDS_REPLY_ERROR);
	assert_string_equal(r->str, "ERR no");
	rds_reply_free(r);
	r = decode(":42\r\n", 5, 0);
	assert_int_equal(r->type, RDS_REPLY_INTEGER);
	assert_int_equal(r->integer, 42);
	rds_reply_free(r);
	r = decode("$3\r\nv\0x\r\n", 9, 0);
	assert_int_equal(r->type, RDS_REPLY_STRING);
	assert_int_equal(r->len, 3);
	assert_memory_equal(r->str, "v\0x", 4);
	rds_reply_free(r);
	r = decode("$-1\r\n", 5, 0);
	assert_int_equal(r->type, RDS_REPLY_NIL);
	rds_reply_free(r);
	r = decode("*-1\r\n", 5, 0);
	assert_int_equal(r->type, RDS_REPLY_NIL);
	rds_reply_free(r);

	r = decode(array, sizeof(array) - 1, 0);
	assert_int_equal(r->type, RDS_REPLY_ARRAY);
	assert_int_equal(r->elements, 3);
	assert_string_equal(r->element[0]->str, "a");
	assert_int_equal(r->element[1]->len, 0);
	assert_int_equal(r->element[2]->type, RDS_REPLY_ARRAY);
	assert_int_equal(r->element[2]->element[0]->integer, -7);
	rds_reply_free(r);
	rds_reply_free(NULL);
}

/* Split anywhere, a reply comes out with its last byte and not before. */
static void
test_byte_by_byte(void **state)
{
	static const char text[] = "*2\r\n$5\r\nhello\r\n:1\r\n";
	struct rds_decoder *d = rds_decoder_new(0, WHERE);
	struct rds_reply *r = NULL;
	struct err e = { 0 };
	size_t i, n = sizeof(text) - 1;

	(void)state;
	assert_non_null(d);
	for (i = 0; i + 1 < n; i++) {
		assert_int_equal(rds_decoder_feed(d, text + i, 1, &r, &e), 0);
		assert_null(r);
	}
	assert_int_equal(rds_decoder_feed(d, text + i, 1, &r, &e), 1);
	assert_int_equal(r->elements, 2);
	assert_string_equal(r->element[0]->str, "hello");
	rds_reply_free(r);
	rds_decoder_free(d);
}

/*
 * Two replies in one read: the second waits in the decoder (fed 0
 * bytes), and the cap starts again for each reply.
 */
static void
test_back_to_back(void **state)
{
	struct rds_decoder *d = rds_decoder_new(8, WHERE);
	struct rds_reply *r = NULL;
	struct err e = { 0 };

	(void)state;
	assert_non_null(d);
	assert_int_equal(rds_decoder_feed(d, "+OK\r\n:1\r\n", 9, &r, &e), -1);
	assert_msg_has(e.msg, "larger than 8 bytes");
	rds_decoder_free(d);

	d = rds_decoder_new(9, WHERE);
	assert_non_null(d);
	assert_int_equal(rds_decoder_feed(d, "+OK\r\n:1\r\n", 9, &r, &e), 1);
	assert_string_equal(r->str, "OK");
	rds_reply_free(r);
	assert_int_equal(rds_decoder_feed(d, NULL, 0, &r, &e), 1);
	assert_int_equal(r->integer, 1);
	rds_reply_free(r);
	assert_int_equal(rds_decoder_feed(d, NULL, 0, &r, &e), 0);
	assert_null(r);
	/* A fresh reply may take the whole cap again. */
	assert_int_equal(rds_decoder_feed(d, "+PONG\r\n", 7, &r, &e), 1);
	assert_string_equal(r->str, "PONG");
	rds_reply_free(r);
	rds_decoder_free(d);
}

static void
test_cap(void **state)
{
	(void)state;
	/* 17 bytes under a 16-byte cap: refused before hiredis sees them. */
	decode_fails("$10\r\n0123456789\r\n", 16, "reply from " WHERE
	    " is larger than 16 bytes");
	rds_reply_free(decode("$10\r\n0123456789\r\n", 17, 17));
	/* An array header promising more than cap / 3 elements. */
	decode_fails("*11\r\n", 32, "larger than 32 bytes");
	decode_fails("*100000000\r\n", 0, "larger than 1048576 bytes");
}

/* An array header within the cap only waits for its elements. */
static void
test_cap_array_ok(void **state)
{
	struct rds_decoder *d = rds_decoder_new(32, WHERE);
	struct rds_reply *r = NULL;
	struct err e = { 0 };

	(void)state;
	assert_non_null(d);
	assert_int_equal(rds_decoder_feed(d, "*10\r\n", 5, &r, &e), 0);
	assert_null(r);
	rds_decoder_free(d);
}

static void
test_not_resp(void **state)
{
	(void)state;
	decode_fails("!what\r\n", 0, "bad reply from " WHERE ": ");
	decode_fails("*-5\r\n", 0, "bad reply");
	decode_fails(":12x\r\n", 0, "bad reply");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_reply_types),
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_back_to_back),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_cap_array_ok),
		cmocka_unit_test(test_not_resp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
