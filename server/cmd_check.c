/*
 * `redis-ca check`: parse the target, run svc_check_run() (the same
 * audit as /v1/nodes/{name}/check) and print a table, or JSON with
 * --json.  No configuration, database or CA key is involved.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "cmd_check.h"

enum {
	O_CACERT = 1,
	O_CERT,
	O_KEY,
	O_SERVER_NAME,
	O_JSON,
	O_TIMEOUT,
};

/* Split "host:port" or "[v6]:port"; host is written into host. */
static int
parse_target(const char *s, char *host, size_t hostsz, int *port)
{
	const char	*colon, *h = s;
	size_t		 hlen;
	char		*end;
	long		 p;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return -1;
		h = s + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL ||
		    strchr(s, ':') != colon)
			return -1;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= hostsz)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || p < 1 || p > 65535)
		return -1;
	*port = (int)p;
	return 0;
}

static int
print_json(const struct svc_check_result *res)
{
	json_t	*checks = json_array(), *o = NULL;
	char	*s = NULL;
	int	 rc = -1;

	if (checks == NULL)
		goto out;
	for (size_t i = 0; i < res->n; i++)
		if (json_array_append_new(checks, json_pack("{s:s, s:b, s:s}",
		    "id", res->checks[i].id, "ok", res->checks[i].ok,
		    "detail", res->checks[i].detail)) == -1)
			goto out;
	o = json_pack("{s:b, s:O}", "ok", res->ok, "checks", checks);
	if (o == NULL || (s = json_dumps(o, JSON_INDENT(2))) == NULL)
		goto out;
	printf("%s\n", s);
	rc = 0;
out:
	free(s);
	json_decref(o);
	json_decref(checks);
	return rc;
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

int
cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cacert", required_argument, NULL, O_CACERT },
		{ "cert", required_argument, NULL, O_CERT },
		{ "key", required_argument, NULL, O_KEY },
		{ "server-name", required_argument, NULL, O_SERVER_NAME },
		{ "json", no_argument, NULL, O_JSON },
		{ "timeout-ms", required_argument, NULL, O_TIMEOUT },
		{ NULL, 0, NULL, 0 },
	};
	struct svc_check_target	 t;
	struct svc_check_result	*res = NULL;
	struct err		 e;
	const char		*target;
	char			 host[256], *end;
	bool			 json = false;
	long			 ms;
	int			 c, rc = EXIT_FAIL;

	memset(&t, 0, sizeof(t));
	err_clear(&e);
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case O_CACERT:
			t.ca_file = optarg;
			break;
		case O_CERT:
			t.cert_file = optarg;
			break;
		case O_KEY:
			t.key_file = optarg;
			break;
		case O_SERVER_NAME:
			t.server_name = optarg;
			break;
		case O_JSON:
			json = true;
			break;
		case O_TIMEOUT:
			ms = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || ms < 1 ||
			    ms > 600000) {
				cli_error("check: --timeout-ms must be 1 to "
				    "600000");
				return EXIT_USAGE;
			}
			t.timeout_ms = (int)ms;
			break;
		default:
			return cli_bad_option("check", argv, c);
		}
	}
	if (optind + 1 != argc) {
		cli_error("check: give exactly one HOST:PORT (see redis-ca "
		    "--help)");
		return EXIT_USAGE;
	}
	target = argv[optind];
	if (parse_target(target, host, sizeof(host), &t.port) == -1) {
		cli_error("check: %.200s: expected HOST:PORT or [IPv6]:PORT",
		    target);
		return EXIT_USAGE;
	}
	t.host = host;
	if (t.ca_file == NULL || t.ca_file[0] == '\0') {
		cli_error("check: --cacert F is required");
		return EXIT_USAGE;
	}
	if ((t.cert_file == NULL) != (t.key_file == NULL) ||
	    (t.cert_file != NULL && (t.cert_file[0] == '\0' ||
	    t.key_file[0] == '\0'))) {
		cli_error("check: --cert and --key go together");
		return EXIT_USAGE;
	}
	if ((res = calloc(1, sizeof(*res))) == NULL) {
		cli_error("check: out of memory");
		goto out;
	}
	if (svc_check_run(&t, res, &e) == -1) {
		cli_error("check: %s: %s", target, e.msg);
		goto out;
	}
	if (json) {
		if (print_json(res) == -1) {
			cli_error("check: out of memory");
			goto out;
		}
	} else
		print_table(target, res);
	rc = res->ok ? EXIT_OK : EXIT_FAIL;
out:
	free(res);
	return rc;
}
