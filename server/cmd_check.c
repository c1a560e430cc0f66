/*
 * `redis-ca check`: parse the target, run svc_check_run() (the same
 * audit as /v1/nodes/{name}/check) and print a table, or JSON with
 * --json.  No configuration, database or CA key is involved.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "cli.h"
#include "cmd_check.h"
#include "hostport.h"
#include "opts.h"

/*
 * The target by hostport_split()'s rules (brackets for an IPv6 literal
 * only), with a port from 1 to 65535; host is written into host.
 */
static int
parse_target(const char *s, char *host, size_t hostsz, int *port)
{
	unsigned p;

	if (!hostport_split(s, host, hostsz, &p) || p == 0)
		return -1;
	*port = (int)p;
	return 0;
}

static int
print_json(const struct svc_check_result *res)
{
	json_t *o;
	char *s;

	/* The same body as POST /v1/nodes/{name}/check, indented. */
	if ((o = api_enc_check(res)) == NULL)
		return -1;
	s = json_dumps(o, JSON_INDENT(2));
	json_decref(o);
	if (s == NULL)
		return -1;
	printf("%s\n", s);
	free(s);
	return 0;
}

static void
print_table(const char *target, const struct svc_check_result *res)
{
	size_t passed = 0;

	printf("%-28s %-6s %s\n", "CHECK", "RESULT", "DETAIL");
	for (size_t i = 0; i < res->n; i++) {
		printf("%-28s %-6s %s\n", res->checks[i].id,
		    res->checks[i].ok ? "pass" : "FAIL", res->checks[i].detail);
		if (res->checks[i].ok)
			passed++;
	}
	printf("\n%s: %s (%zu of %zu checks passed)\n", target,
	    res->ok ? "pass" : "FAIL", passed, res->n);
}

struct check_opts {
	struct svc_check_target	 t;
	bool			 json;
	const char		*target;	/* HOST:PORT as given */
};

static const struct opt check_opt_table[] = {
	OPTS_STRING("cacert", struct check_opts, t.ca_file),
	OPTS_STRING("cert", struct check_opts, t.cert_file),
	OPTS_STRING("key", struct check_opts, t.key_file),
	OPTS_STRING("server-name", struct check_opts, t.server_name),
	{ .name = "json", .type = OPT_FLAG,
	    .off = offsetof(struct check_opts, json) },
	{ .name = "timeout-ms", .type = OPT_INT,
	    .off = offsetof(struct check_opts, t.timeout_ms), .min = 1,
	    .max = 600000, .bad = "--timeout-ms must be 1 to 600000" },
};

static const struct opts_cmd check_cmd = {
	OPTS_GNU, check_opt_table,
	sizeof(check_opt_table) / sizeof(check_opt_table[0]), false, NULL
};

/*
 * The command line into o, its target's host into host (hostsz bytes).
 * Prints what is wrong and returns -1 on a usage error.
 */
static int
parse_args(int argc, char **argv, struct check_opts *o, char *host,
    size_t hostsz)
{
	struct opts_result res;
	struct err e;

	memset(o, 0, sizeof(*o));
	err_clear(&e);
	if (opts_parse(&check_cmd, argc, argv, o, &res, &e) == -1) {
		cli_error("check: %s", e.msg);
		return -1;
	}
	if (res.noperands != 1) {
		cli_error("check: give exactly one HOST:PORT (see redis-ca "
		    "--help)");
		return -1;
	}
	if (parse_target(res.operand, host, hostsz, &o->t.port) == -1) {
		cli_error("check: %.200s: expected HOST:PORT or [IPv6]:PORT",
		    res.operand);
		return -1;
	}
	o->t.host = host;
	o->target = res.operand;
	if (o->t.ca_file == NULL || o->t.ca_file[0] == '\0') {
		cli_error("check: --cacert F is required");
		return -1;
	}
	if ((o->t.cert_file == NULL) != (o->t.key_file == NULL) ||
	    (o->t.cert_file != NULL && (o->t.cert_file[0] == '\0' ||
	    o->t.key_file[0] == '\0'))) {
		cli_error("check: --cert and --key go together");
		return -1;
	}
	return 0;
}

int
cmd_check(int argc, char **argv)
{
	struct check_opts	 o;
	struct svc_check_result	*res = NULL;
	struct err		 e;
	char			 host[256];
	int			 rc = EXIT_FAIL;

	err_clear(&e);
	if (parse_args(argc, argv, &o, host, sizeof(host)) == -1)
		return EXIT_USAGE;
	if ((res = calloc(1, sizeof(*res))) == NULL) {
		cli_error("check: out of memory");
		goto out;
	}
	if (svc_check_run(&o.t, res, &e) == -1) {
		cli_error("check: %s: %s", o.target, e.msg);
		goto out;
	}
	if (o.json) {
		if (print_json(res) == -1) {
			cli_error("check: out of memory");
			goto out;
		}
	} else
		print_table(o.target, res);
	rc = res->ok ? EXIT_OK : EXIT_FAIL;
out:
	free(res);
	return rc;
}
