/*
 * Fuzz target api_decode: every request-body decoder of api/ (issue,
 * generate, revoke, tokens, renew, nodes, the CA phases, a pull node's
 * report and the empty body of a group rotation) gets the same bytes,
 * and so do
 * the other parsers of request bytes: the route match (as a path), the
 * query decoders of the list routes (?status= of the nodes too), a
 * report's host:port and the Content-Type check.  A
 * success must leave the required fields set and inside their limits; a
 * failure must carry one of the decoders' error codes and a message that
 * can be sent.  Leaks are the sanitizer's to find.  Corpus: tests/fuzz/corpus/
 * api_decode/.
 */
#include <stdlib.h>
#include <string.h>

#include "api_ca.h"
#include "api_fleet.h"
#include "fuzz.h"
#include "rca_limits.h"

static void
check_err(const struct err *e)
{
	size_t n = 0;
	char *body;

	fuzz_check(e->code == ERR_INVALID_JSON ||
	    e->code == ERR_INVALID_REQUEST || e->code == ERR_INVALID_TTL ||
	    e->code == ERR_INVALID_CSR || e->code == ERR_INTERNAL);
	fuzz_check(e->msg[0] != '\0');
	fuzz_check(memchr(e->msg, '\0', sizeof(e->msg)) != NULL);
	/* The refusal can be sent, whatever bytes its message echoes. */
	fuzz_check((body = api_err_body(e, &n)) != NULL);
	fuzz_check(n > 0 && strstr(body, api_err_name(e->code)) != NULL);
	free(body);
}

static void
check_names(const struct names *n)
{
	for (int k = 0; k < NAME__MAX; k++) {
		fuzz_check(n->n[k] <= RCA_MAX_SANS);
		for (size_t i = 0; i < n->n[k]; i++)
			fuzz_check(n->list[k][i] != NULL &&
			    n->list[k][i][0] != '\0');
	}
}

static void
issue(const char *body, size_t len)
{
	struct api_issue_body b;
	struct err e;

	if (api_decode_issue(body, len, &b, &e) == -1) {
		check_err(&e);
		return;
	}
	fuzz_check(b.root != NULL && b.csr != NULL && b.profile != NULL);
	fuzz_check(b.csr_len <= RCA_MAX_CSR_BYTES);
	fuzz_check(b.ttl >= 0);
	api_issue_body_free(&b);
}

static void
generate(const char *body, size_t len)
{
	struct api_generate_body b;
	struct err e;

	if (api_decode_generate(body, len, &b, &e) == -1) {
		check_err(&e);
		return;
	}
	fuzz_check(b.root != NULL && b.profile != NULL &&
	    b.names.cn != NULL);
	fuzz_check(b.key_type >= 0 && b.key_type < KEY__MAX);
	fuzz_check(b.ttl >= 0);
	check_names(&b.names);
	api_generate_body_free(&b);
}

static void
revoke(const char *body, size_t len)
{
	struct api_revoke_body b;
	struct err e;

	if (api_decode_revoke(body, len, &b, &e) == -1) {
		check_err(&e);
		return;
	}
	fuzz_check(reason_name(b.reason) != NULL);
}

static void
token(const char *body, size_t len)
{
	struct api_token_body b;
	struct err e;

	if (api_decode_token(body, len, &b, &e) == -1) {
		check_err(&e);
		return;
	}
	fuzz_check(b.root != NULL);
	fuzz_check(b.req.kind == TOKEN_ADMIN || b.req.kind == TOKEN_ENROLL);
	fuzz_check(b.req.npatterns <= RCA_MAX_PATTERNS);
	fuzz_check(b.req.patterns == b.patterns);
	for (size_t i = 0; i < b.req.npatterns; i++)
		fuzz_check(b.patterns[i] != NULL);
	if (b.req.kind == TOKEN_ENROLL)
		fuzz_check(b.req.profile != NULL);
	fuzz_check(b.req.ttl >= 0 && b.req.max_cert_ttl >= 0);
	api_token_body_free(&b);
}

static void
renew(const char *body, size_t len)
{
	struct api_renew_body b;
	struct err e;

	if (api_decode_renew(body, len, &b, &e) == -1) {
		check_err(&e);
		return;
	}
	/* No csr: renew with the same key. */
	if (b.csr != NULL)
		fuzz_check(b.root != NULL && b.csr_len <= RCA_MAX_CSR_BYTES);
	if (len == 0)
		fuzz_check(b.csr == NULL);
	api_renew_body_free(&b);
}

static void
node(const char *body, size_t len)
{
	struct api_node_body b;
	struct err e;

	if (api_decode_node(body, len, &b, &e) == -1) {
		check_err(&e);
		return;
	}
	fuzz_check(b.root != NULL && b.req.name != NULL &&
	    b.req.host != NULL && b.req.cert_dir != NULL);
	fuzz_check(b.req.port >= 1 && b.req.port <= 65535);
	fuzz_check(b.req.ttl >= 0);
	fuzz_check(b.req.sans == NULL || b.req.sans == &b.sans);
	check_names(&b.sans);
	api_node_body_free(&b);
}

/* The CA lifecycle's bodies (prepare; activate and retire) and SKI. */
static void
ca(const char *body, size_t len, const char *str)
{
	struct api_ca_prepare_body b;
	char ski[RCA_SKI_HEX_MAX + 1];
	struct err e;
	bool force;

	if (api_decode_ca_prepare(body, len, &b, &e) == -1)
		check_err(&e);
	else {
		/* A certificate goes alone; a new key's days are bounded. */
		fuzz_check(b.req.cert_pem == NULL || (!b.req.csr_only &&
		    !b.req.key_type_set && b.req.days == 0 &&
		    b.req.cert_pem[0] != '\0'));
		fuzz_check(b.req.chain_pem == NULL || b.req.cert_pem != NULL);
		fuzz_check(b.req.days >= 0 && b.req.days <= API_CA_DAYS_MAX);
		fuzz_check(b.req.root_key_path == NULL &&
		    b.req.root_cert_path == NULL);
		api_ca_prepare_body_free(&b);
	}
	if (api_decode_ca_force(body, len, &force, &e) == -1)
		check_err(&e);
	if (api_decode_ski(str, ski, &e) == 0) {
		fuzz_check(strlen(ski) >= 2 && strlen(ski) <= RCA_SKI_HEX_MAX);
		for (const char *p = ski; *p != '\0'; p++)
			fuzz_check((*p >= '0' && *p <= '9') ||
			    (*p >= 'a' && *p <= 'f'));
	} else
		check_err(&e);
}

/* A serial of a report: "" or 1 to 40 lowercase hex digits. */
static void
check_serial(const char *s)
{
	fuzz_check(strlen(s) <= RCA_SERIAL_HEX_MAX);
	for (; *s != '\0'; s++)
		fuzz_check((*s >= '0' && *s <= '9') ||
		    (*s >= 'a' && *s <= 'f'));
}

/*
 * SPEC section 11: a pull node's report, the group rotation's empty
 * body, ?status= and host:port.
 */
static void
fleet(const char *body, size_t len, const char *str)
{
	struct svc_node_report_req r;
	enum node_status st;
	char host[256];
	struct err e;
	int port;

	if (api_decode_report(body, len, &r, &e) == -1) {
		if (e.code != ERR_PAYLOAD_TOO_LARGE)
			check_err(&e);
		fuzz_check(r.host[0] == '\0' && r.nsteps == 0);
	} else {
		fuzz_check(r.host[0] != '\0' && r.port >= 1 &&
		    r.port <= 65535);
		fuzz_check(r.status >= 0 && r.status < SVC_REPORT__MAX);
		fuzz_check(r.nsteps <= ROT_MAX_STEPS);
		check_serial(r.old_serial);
		check_serial(r.new_serial);
		check_serial(r.served_serial);
		fuzz_check(strlen(r.name) <= RCA_MAX_NODE_NAME &&
		    strlen(r.group) <= RCA_MAX_NODE_NAME);
		if (r.status == SVC_REPORT_CHECK)
			fuzz_check(r.nsteps == 0 && r.started_at == 0 &&
			    r.new_serial[0] == '\0');
		else
			fuzz_check(r.started_at > 0 &&
			    r.finished_at >= r.started_at);
	}
	if (api_decode_empty_object(body, len, &e) == -1)
		check_err(&e);
	if (api_decode_node_status(str, &st, &e) == 0)
		fuzz_check(st >= 0 && st <= NODE_STATUS__MAX);
	else
		check_err(&e);
	if (api_decode_hostport(str, "redis", host, sizeof(host), &port,
	    &e) == 0)
		fuzz_check(host[0] != '\0' && port >= 1 && port <= 65535);
	else
		check_err(&e);
}

/* The input as a request path, on both listeners, with each method. */
static void
route(const char *path)
{
	static const char *const methods[] = { "GET", "HEAD", "POST",
	    "DELETE", "PUT" };
	const struct api_route *table, *r;
	struct api_params params;
	char allow[64];
	size_t n;

	table = api_route_table(&n);
	for (int pub = 0; pub < 2; pub++)
		for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]);
		    m++) {
			switch (api_route_match(table, n, pub, methods[m], path,
			    &r, &params, allow, sizeof(allow))) {
			case MATCH_FOUND:
				fuzz_check(r != NULL && (!pub || r->public));
				fuzz_check(params.n <= API_MAX_PARAMS);
				for (size_t i = 0; i < params.n; i++)
					fuzz_check(strlen(params.v[i]) <
					    API_PARAM_MAX &&
					    strchr(params.v[i], '/') == NULL);
				break;
			case MATCH_BAD_METHOD:
				fuzz_check(r == NULL && allow[0] != '\0');
				break;
			case MATCH_NOT_FOUND:
				fuzz_check(r == NULL);
				break;
			}
		}
}

/* The input as every query value of GET /v1/certificates. */
static void
query(const char *v)
{
	struct api_cert_query q = { v, v, v, v, v, v, v };
	struct cert_filter f;
	int64_t cursor;
	size_t limit;
	struct err e;

	if (api_decode_limit(v, &limit, &e) == 0)
		fuzz_check(limit >= 1 && limit <= RCA_MAX_LIST_LIMIT);
	else
		check_err(&e);
	if (api_decode_cursor(v, &cursor, &e) == 0)
		fuzz_check(cursor >= 0);
	else
		check_err(&e);
	if (api_decode_cert_query(&q, 1, &f, &e) == 0)
		fuzz_check(f.limit >= 1 && f.limit <= RCA_MAX_LIST_LIMIT &&
		    f.after >= 0 && f.now == 1);
	else
		check_err(&e);
	(void)api_is_json_type(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char *body = (const char *)data;
	char *str;

	issue(body, len);
	generate(body, len);
	revoke(body, len);
	token(body, len);
	renew(body, len);
	node(body, len);
	/* Paths, queries and headers are C strings. */
	fuzz_check((str = malloc(len + 1)) != NULL);
	memcpy(str, data, len);
	str[len] = '\0';
	route(str);
	query(str);
	ca(body, len, str);
	fleet(body, len, str);
	free(str);
	return 0;
}
