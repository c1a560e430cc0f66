/*
 * Fuzz target role: the role parsers of redis/ (role.h, no socket) on
 * bytes a hostile node could send as INFO or CLUSTER NODES.  Each input
 * goes through both parsers, whole and cut at every line's end.  The
 * output must be in range (role, port 0..65535, a NUL-ended printable
 * host without spaces, a count >= 0); a failure is ERR_NET with a
 * message and leaves INFO's output zeroed; a CLUSTER NODES success
 * means the input holds "myself".  Corpus: tests/fuzz/corpus/role/
 * (texts captured from redis-server 7.0.15, and bad ones).
 */
#include <string.h>

#include "fuzz.h"
#include "role.h"

static void
check_info(const struct rds_role_info *r)
{
	size_t n = strnlen(r->primary_host, sizeof(r->primary_host));

	fuzz_check((unsigned)r->role < RDS_ROLE__MAX);
	fuzz_check(n < sizeof(r->primary_host));
	for (size_t i = 0; i < n; i++)
		fuzz_check(r->primary_host[i] > 0x20 &&
		    r->primary_host[i] < 0x7f);
	fuzz_check(r->primary_port >= 0 && r->primary_port <= 65535);
	fuzz_check(r->connected_replicas >= 0);
}

static void
run(const char *data, size_t len)
{
	static const struct rds_role_info zero;
	struct rds_role_info r;
	struct err e;

	memset(&e, 0, sizeof(e));
	if (rds_role_parse_info(data, len, &r, &e) == 0)
		check_info(&r);
	else {
		fuzz_check(e.code == ERR_NET && e.msg[0] != '\0');
		fuzz_check(memcmp(&r, &zero, sizeof(r)) == 0);
	}
	memset(&r, 0, sizeof(r));
	memset(&e, 0, sizeof(e));
	if (rds_role_parse_cluster_nodes(data, len, &r, &e) == 0) {
		check_info(&r);
		fuzz_check(memmem(data, len, "myself", 6) != NULL);
	} else
		fuzz_check(e.code == ERR_NET && e.msg[0] != '\0');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char *p = (const char *)data, *nl;
	size_t off = 0;

	run(p, len);
	/* Every prefix that ends a line, as a short read would give. */
	while (off < len && (nl = memchr(p + off, '\n', len - off)) != NULL) {
		off = (size_t)(nl - p) + 1;
		run(p, off);
	}
	return 0;
}
