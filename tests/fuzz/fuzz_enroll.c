/*
 * Fuzz target enroll: what `redis-ca enroll` parses from outside, the
 * CA's HTTP answers (enroll_parse_response) and its own state file
 * (enroll_state_parse).  The first byte picks the HTTP status, the rest
 * is the body; the whole input is also read as a state file.  A parsed
 * certificate has a hex serial and ordered dates; a refusal carries a
 * documented code and a message without control characters (it reaches
 * the terminal and the log); a state file that parses is written back
 * by enroll_state_encode into one that parses to the same thing, so a
 * restarted daemon resumes.  Corpus: tests/fuzz/corpus/enroll/.
 */
#include <string.h>

#include "enroll.h"
#include "fuzz.h"

static const long statuses[] = { 201, 200, 204, 302, 400, 401, 403, 404,
    408, 409, 413, 422, 429, 500, 502, 503, 100, 999 };

static void
check_msg(const struct err *e)
{
	fuzz_check(e->msg[0] != '\0');
	for (const char *p = e->msg; *p != '\0'; p++)
		fuzz_check((unsigned char)*p >= 0x20 && *p != 0x7f);
}

static void
check_cert(const struct enroll_cert *c)
{
	size_t n = strlen(c->serial);

	fuzz_check(n > 0 && strspn(c->serial, "0123456789abcdef") == n);
	fuzz_check(c->not_before < c->not_after);
	for (int k = 0; k < NAME__MAX; k++)
		fuzz_check(c->names.n[k] <= RCA_MAX_SANS);
}

static void
response(const uint8_t *data, size_t len)
{
	struct enroll_cert c;
	struct err e;
	long status;

	if (len == 0)
		return;
	status = statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
	if (enroll_parse_response(status, (const char *)data + 1, len - 1, &c,
	    &e) == 0) {
		fuzz_check(status == 201);
		check_cert(&c);
		fuzz_check(c.cert_pem != NULL && c.chain_pem != NULL &&
		    c.ca_pem != NULL);
		enroll_cert_clear(&c);
		return;
	}
	check_msg(&e);
	fuzz_check(c.cert_pem == NULL && c.names.cn == NULL);
	/* The body's code name_not_allowed wins whatever the status. */
	if (e.code == ERR_NAME_NOT_ALLOWED && status != 201)
		return;
	if (status == 201)
		fuzz_check(e.code == ERR_INVALID_JSON ||
		    e.code == ERR_INTERNAL);
	else if (status == 401)
		fuzz_check(e.code == ERR_UNAUTHORIZED);
	else if (status == 403)
		fuzz_check(e.code == ERR_FORBIDDEN);
	else if (status == 408 || status == 429 || status >= 500)
		fuzz_check(e.code == ERR_NET);
	else
		fuzz_check(e.code == ERR_INVALID_REQUEST);
}

static void
state(const uint8_t *data, size_t len)
{
	struct enroll_cert a, b;
	struct err e;
	char *text;

	if (enroll_state_parse((const char *)data, len, &a, &e) == -1) {
		fuzz_check(e.code == ERR_INVALID_JSON ||
		    e.code == ERR_INTERNAL);
		check_msg(&e);
		return;
	}
	check_cert(&a);
	fuzz_check(a.cert_pem == NULL);
	fuzz_check((text = enroll_state_encode(&a)) != NULL);
	if (enroll_state_parse(text, strlen(text), &b, &e) == -1) {
		fprintf(stderr, "state written back does not parse (%s):\n"
		    "%s\n", e.msg, text);
		abort();
	}
	fuzz_check(strcmp(a.serial, b.serial) == 0);
	fuzz_check(a.not_before == b.not_before &&
	    a.not_after == b.not_after);
	fuzz_check(a.has_names == b.has_names);
	fuzz_check(names_equal(&a.names, &b.names));
	free(text);
	enroll_cert_clear(&a);
	enroll_cert_clear(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	response(data, len);
	state(data, len);
	return 0;
}
