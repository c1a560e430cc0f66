/*
 * Fuzz target resp: the RESP codec of redis/ (resp.h, no socket) on
 * bytes a hostile node could send.  Each input is decoded twice: in one
 * piece under the real cap (RCA_MAX_REPLY_BYTES), and in 5-byte pieces
 * under a 64-byte cap.  A reply must be a well-formed tree; the chunked
 * run may only answer what the whole run answers; a reply never takes
 * more than the cap; a failure is ERR_NET with a message.  A reply that
 * is an array of bulk strings, encoded back as a command, decodes to
 * the same strings.  Corpus: tests/fuzz/corpus/resp/.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "rca_limits.h"
#include "resp.h"

#define SMALL_CAP	64
#define SMALL_CHUNK	5
#define MAX_ARGS	64

/* A decoded tree: types in range, strings NUL-terminated, no holes. */
static void
check_reply(const struct rds_reply *r, int depth)
{
	fuzz_check(r != NULL && depth < 16);
	switch (r->type) {
	case RDS_REPLY_STRING:
	case RDS_REPLY_STATUS:
	case RDS_REPLY_ERROR:
		fuzz_check(r->str != NULL && r->str[r->len] == '\0');
		fuzz_check(r->element == NULL && r->elements == 0);
		break;
	case RDS_REPLY_ARRAY:
		fuzz_check((r->elements == 0) == (r->element == NULL));
		fuzz_check(r->str == NULL);
		for (size_t i = 0; i < r->elements; i++)
			check_reply(r->element[i], depth + 1);
		break;
	case RDS_REPLY_INTEGER:
	case RDS_REPLY_NIL:
		fuzz_check(r->str == NULL && r->element == NULL);
		break;
	default:
		fuzz_check(!"reply type out of range");
	}
}

static bool
same_reply(const struct rds_reply *a, const struct rds_reply *b)
{
	if (a->type != b->type || a->len != b->len ||
	    a->integer != b->integer || a->elements != b->elements)
		return false;
	if (a->str != NULL && memcmp(a->str, b->str, a->len) != 0)
		return false;
	for (size_t i = 0; i < a->elements; i++)
		if (!same_reply(a->element[i], b->element[i]))
			return false;
	return true;
}

/*
 * Decode data in pieces of chunk bytes under cap, as rds_command does.
 * Returns the reply (new) or NULL.
 */
static struct rds_reply *
decode(const uint8_t *data, size_t len, size_t cap, size_t chunk)
{
	struct rds_decoder *d;
	struct rds_reply *r = NULL;
	struct err e;
	size_t off = 0, n = 0, fed = 0;
	int got;

	fuzz_check((d = rds_decoder_new(cap, "fuzz:6379")) != NULL);
	for (;;) {
		got = rds_decoder_feed(d, (const char *)data + off, n, &r, &e);
		if (got == -1) {
			fuzz_check(r == NULL);
			fuzz_check(e.code == ERR_NET && e.msg[0] != '\0');
			break;
		}
		fed += n;
		if (got == 1) {
			fuzz_check(r != NULL);
			break;
		}
		fuzz_check(r == NULL);
		off += n;
		if (off == len)
			break;
		n = len - off < chunk ? len - off : chunk;
	}
	/* What the decoder accepted fits in the cap. */
	fuzz_check(fed <= cap);
	rds_decoder_free(d);
	return r;
}

/* An array of bulk strings, encoded as a command, decodes back to it. */
static void
check_round_trip(const struct rds_reply *r)
{
	const char *argv[MAX_ARGS];
	size_t argvlen[MAX_ARGS], len;
	struct rds_reply *back;
	struct err e;
	char *cmd;

	if (r->type != RDS_REPLY_ARRAY || r->elements < 1 ||
	    r->elements > MAX_ARGS)
		return;
	for (size_t i = 0; i < r->elements; i++) {
		if (r->element[i]->type != RDS_REPLY_STRING)
			return;
		argv[i] = r->element[i]->str;
		argvlen[i] = r->element[i]->len;
	}
	fuzz_check(rds_cmd_format((int)r->elements, argv, argvlen, &cmd,
	    &len, &e) == 0);
	back = decode((const uint8_t *)cmd, len, len, len);
	fuzz_check(back != NULL && same_reply(r, back));
	rds_reply_free(back);
	rds_cmd_free(cmd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct rds_reply *whole, *small;

	whole = decode(data, len, RCA_MAX_REPLY_BYTES, len > 0 ? len : 1);
	if (whole != NULL) {
		check_reply(whole, 0);
		check_round_trip(whole);
	}
	small = decode(data, len, SMALL_CAP, SMALL_CHUNK);
	if (small != NULL) {
		check_reply(small, 0);
		/* What a prefix decodes to, the whole input decodes to. */
		if (len <= RCA_MAX_REPLY_BYTES)
			fuzz_check(whole != NULL && same_reply(whole, small));
	} else if (whole != NULL && len <= SMALL_CAP)
		fuzz_check(!"the chunked decode lost a reply");
	rds_reply_free(whole);
	rds_reply_free(small);
	return 0;
}
