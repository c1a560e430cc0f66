/*
 * Fuzz harness for api/decode.c: feeds each file named on the command
 * line (or stdin) to every body decoder.  Built with a fuzzer it is the
 * target; as a test it replays the corpus and must neither crash nor
 * leak.  With -DRCA_LIBFUZZER the libFuzzer entry point is used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_priv.h"
#include "rca_limits.h"

int	LLVMFuzzerTestOneInput(const unsigned char *data, size_t len);

static void
check(int ok)
{
	if (!ok)
		abort();
}

static void
check_err(const struct err *e)
{
	check(e->code == ERR_INVALID_JSON || e->code == ERR_INVALID_REQUEST ||
	    e->code == ERR_INVALID_TTL || e->code == ERR_INVALID_CSR ||
	    e->code == ERR_INTERNAL);
	check(e->msg[0] != '\0');
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
	const char *body = (const char *)data;
	struct api_issue_body ib;
	struct api_generate_body gb;
	struct api_revoke_body rb;
	struct api_token_body tb;
	struct err e;

	/*
	 * Invariants: a success yields the required fields, a failure an
	 * error code of the decoder's set and a message.
	 */
	if (api_decode_issue(body, len, &ib, &e) == 0) {
		check(ib.csr != NULL && ib.profile != NULL && ib.ttl >= 0);
		api_issue_body_free(&ib);
	} else
		check_err(&e);
	if (api_decode_generate(body, len, &gb, &e) == 0) {
		check(gb.profile != NULL && gb.names.cn != NULL &&
		    gb.key_type < KEY__MAX);
		api_generate_body_free(&gb);
	} else
		check_err(&e);
	if (api_decode_revoke(body, len, &rb, &e) == 0)
		check(reason_name(rb.reason) != NULL);
	else
		check_err(&e);
	if (api_decode_token(body, len, &tb, &e) == 0) {
		check(tb.req.npatterns <= RCA_MAX_PATTERNS);
		check(tb.req.kind != TOKEN_ENROLL || (tb.req.profile != NULL));
		api_token_body_free(&tb);
	} else
		check_err(&e);
	return 0;
}

#ifndef RCA_LIBFUZZER
static int
run_file(FILE *f)
{
	static unsigned char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf), f);

	if (ferror(f))
		return -1;
	LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

int
main(int argc, char **argv)
{
	int rc = 0;

	if (argc < 2)
		return run_file(stdin) == 0 ? 0 : 1;
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");

		if (f == NULL || run_file(f) == -1) {
			fprintf(stderr, "cannot read %s\n", argv[i]);
			rc = 1;
		}
		if (f != NULL)
			fclose(f);
	}
	return rc;
}
#endif
