/*
 * `redis-ca token create|list|revoke`: token management from the host,
 * through the service with the "cli" actor (audited like the API).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fileio.h"
#include "timeutil.h"

#define TOKEN_MAX_USES		1000000

static const char token_usage[] =
    "usage: redis-ca token create --kind enroll|admin [--profile P] "
    "[--name PATTERN]...\n"
    "                             [--uses N] [--ttl D|never] "
    "[--max-cert-ttl D] [--description S]\n"
    "                             [--config FILE]\n"
    "       redis-ca token list [--config FILE]\n"
    "       redis-ca token revoke ID [--config FILE]\n";

struct create_opts {
	const char	*config;
	enum token_kind	 kind;
	bool		 kind_set;
	const char	*profile;
	char		*names[RCA_MAX_PATTERNS];
	size_t		 nnames;
	int64_t		 uses;
	int64_t		 ttl;		/* 0: default; or NEVER */
	int64_t		 max_cert_ttl;
	const char	*description;
};

/* Report e for subcommand what and map it to an exit status. */
static int
fail(const char *what, const struct err *e)
{
	cli_error("token %s: %s", what, e->msg[0] != '\0' ? e->msg :
	    err_code_name(e->code));
	return e->code == ERR_USAGE ? EXIT_USAGE : EXIT_FAIL;
}

static int
parse_duration_opt(const char *opt, const char *v, int64_t *out)
{
	if (tu_parse_duration(v, out, NULL) == -1) {
		cli_error("token create: %s \"%.40s\": not a duration (90s, "
		    "30m, 24h, 7d)", opt, v);
		return -1;
	}
	return 0;
}

static int
parse_create(int argc, char **argv, struct create_opts *o)
{
	enum { O_KIND = 256, O_PROFILE, O_NAME, O_USES, O_TTL, O_MAXTTL,
	    O_DESC, O_CONFIG };
	static const struct option longopts[] = {
		{ "kind", required_argument, NULL, O_KIND },
		{ "profile", required_argument, NULL, O_PROFILE },
		{ "name", required_argument, NULL, O_NAME },
		{ "uses", required_argument, NULL, O_USES },
		{ "ttl", required_argument, NULL, O_TTL },
		{ "max-cert-ttl", required_argument, NULL, O_MAXTTL },
		{ "description", required_argument, NULL, O_DESC },
		{ "config", required_argument, NULL, O_CONFIG },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long long n;
	int c;

	memset(o, 0, sizeof(*o));
	o->config = CLI_DEFAULT_CONFIG;
	o->kind = TOKEN_ENROLL;
	o->uses = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case O_KIND:
			if (token_kind_parse(optarg, &o->kind) == -1) {
				cli_error("token create: --kind must be "
				    "enroll or admin");
				return -1;
			}
			o->kind_set = true;
			break;
		case O_PROFILE:
			o->profile = optarg;
			break;
		case O_NAME:
			if (o->nnames >= RCA_MAX_PATTERNS) {
				cli_error("token create: at most %d --name",
				    RCA_MAX_PATTERNS);
				return -1;
			}
			o->names[o->nnames++] = optarg;
			break;
		case O_USES:
			errno = 0;
			n = strtoll(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    n < 1 || n > TOKEN_MAX_USES) {
				cli_error("token create: --uses must be a "
				    "number from 1 to %d", TOKEN_MAX_USES);
				return -1;
			}
			o->uses = (int64_t)n;
			break;
		case O_TTL:
			/* Without --ttl: enroll 24h, admin 90d (service). */
			if (strcmp(optarg, "never") == 0)
				o->ttl = SVC_TOKEN_TTL_NEVER;
			else if (parse_duration_opt("--ttl", optarg,
			    &o->ttl) == -1)
				return -1;
			break;
		case O_MAXTTL:
			if (parse_duration_opt("--max-cert-ttl", optarg,
			    &o->max_cert_ttl) == -1)
				return -1;
			break;
		case O_DESC:
			o->description = optarg;
			break;
		case O_CONFIG:
			o->config = optarg;
			break;
		default:
			cli_bad_option("token create", argv, c);
			return -1;
		}
	}
	if (optind < argc) {
		cli_error("token create: unexpected argument \"%.64s\"",
		    argv[optind]);
		return -1;
	}
	if (!o->kind_set) {
		cli_error("token create: --kind enroll|admin is required");
		return -1;
	}
	if (o->kind == TOKEN_ENROLL) {
		if (o->profile == NULL || o->nnames == 0) {
			cli_error("token create: an enroll token needs "
			    "--profile and at least one --name");
			return -1;
		}
	} else if (o->profile != NULL || o->nnames != 0 ||
	    o->max_cert_ttl != 0) {
		cli_error("token create: --profile, --name and "
		    "--max-cert-ttl are for enroll tokens");
		return -1;
	}
	return 0;
}

static int
token_create(int argc, char **argv)
{
	struct create_opts o;
	struct config cfg = CONFIG_INIT;
	struct svc *s = NULL;
	struct svc_actor actor;
	struct svc_token_req req;
	struct token_rec rec;
	struct err e;
	char token[RCA_TOKEN_PREFIX_LEN + 2 * RCA_TOKEN_RANDOM_BYTES + 1];
	char exp[RCA_TIME_STR];
	int rc = EXIT_FAIL;

	err_clear(&e);
	memset(&rec, 0, sizeof(rec));
	memset(token, 0, sizeof(token));
	svc_actor_init(&actor, ACTOR_CLI);
	if (parse_create(argc, argv, &o) == -1) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (cli_open(o.config, &cfg, &s, &e) == -1) {
		rc = fail("create", &e);
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.kind = o.kind;
	req.profile = o.profile;
	req.patterns = o.names;
	req.npatterns = o.nnames;
	req.uses = o.uses;
	req.ttl = o.ttl;
	req.max_cert_ttl = o.max_cert_ttl;
	req.description = o.description;
	if (svc_token_create(s, &actor, &req, &rec, token, &e) == -1) {
		rc = fail("create", &e);
		goto out;
	}
	printf("id:         %s\n", rec.id);
	printf("token:      %s\n", token);
	printf("kind:       %s\n", token_kind_name(rec.kind));
	if (rec.kind == TOKEN_ENROLL) {
		printf("profile:    %s\n", rec.profile);
		printf("uses:       %" PRId64 "\n", rec.uses_left);
	}
	if (rec.expires_at != 0) {
		tu_format(rec.expires_at, exp);
		printf("expires at: %s\n", exp);
	} else
		printf("expires at: never\n");
	printf("(the token is shown only this once)\n");
	rc = EXIT_OK;
out:
	fio_wipe(token, sizeof(token));
	token_rec_clear(&rec);
	svc_actor_clear(&actor);
	svc_close(s);
	config_clear(&cfg);
	return rc;
}

/* Parse "[--config FILE]" and up to nargs positional arguments. */
static int
parse_simple(const char *what, int argc, char **argv, const char **config,
    const char **pos, int nargs)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*config = CLI_DEFAULT_CONFIG;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (c != 'c')
			return cli_bad_option(what, argv, c);
		*config = optarg;
	}
	if (argc - optind != nargs) {
		cli_error("%s: expected %s", what, nargs == 0 ?
		    "no arguments" : "a token id");
		return EXIT_USAGE;
	}
	if (nargs == 1)
		*pos = argv[optind];
	return EXIT_OK;
}

static void
print_row(const struct token_rec *t)
{
	char exp[RCA_TIME_STR], created[RCA_TIME_STR], uses[24];
	char *names = NULL;
	size_t len = 1;

	if (t->expires_at != 0)
		tu_format(t->expires_at, exp);
	else
		snprintf(exp, sizeof(exp), "never");
	tu_format(t->created_at, created);
	if (t->uses_left < 0)
		snprintf(uses, sizeof(uses), "-");
	else
		snprintf(uses, sizeof(uses), "%" PRId64, t->uses_left);
	for (size_t i = 0; i < t->npatterns; i++)
		len += strlen(t->patterns[i]) + 1;
	if ((names = calloc(1, len)) != NULL)
		for (size_t i = 0; i < t->npatterns; i++) {
			if (i > 0)
				strcat(names, ",");
			strcat(names, t->patterns[i]);
		}
	printf("%-16s  %-6s  %-16s  %9s  %-20s  %-20s  %s%s%s\n", t->id,
	    token_kind_name(t->kind), t->profile[0] != '\0' ? t->profile :
	    "-", uses, exp, created, names != NULL && names[0] != '\0' ?
	    names : "-", t->description != NULL ? "  " : "",
	    t->description != NULL ? t->description : "");
	free(names);
}

static int
token_list(int argc, char **argv)
{
	struct config cfg = CONFIG_INIT;
	struct token_rec *list = NULL;
	struct svc *s = NULL;
	const char *config;
	char after[RCA_TOKEN_ID_HEX + 1], next[RCA_TOKEN_ID_HEX + 1];
	size_t n = 0;
	struct err e;
	int rc;

	err_clear(&e);
	if ((rc = parse_simple("token list", argc, argv, &config, NULL, 0))
	    != EXIT_OK)
		return rc;
	rc = EXIT_FAIL;
	if (cli_open(config, &cfg, &s, &e) == -1) {
		rc = fail("list", &e);
		goto out;
	}
	printf("%-16s  %-6s  %-16s  %9s  %-20s  %-20s  %s\n", "ID", "KIND",
	    "PROFILE", "USES_LEFT", "EXPIRES", "CREATED",
	    "NAMES  DESCRIPTION");
	after[0] = '\0';
	for (;;) {
		next[0] = '\0';
		if (svc_token_list(s, after[0] != '\0' ? after : NULL,
		    RCA_MAX_LIST_LIMIT, &list, &n, next, &e) == -1) {
			rc = fail("list", &e);
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			print_row(&list[i]);
		svc_token_list_free(list, n);
		list = NULL;
		n = 0;
		if (next[0] == '\0')
			break;
		memcpy(after, next, sizeof(after));
	}
	rc = EXIT_OK;
out:
	svc_token_list_free(list, n);
	svc_close(s);
	config_clear(&cfg);
	return rc;
}

static int
token_revoke(int argc, char **argv)
{
	struct config cfg = CONFIG_INIT;
	struct svc *s = NULL;
	struct svc_actor actor;
	const char *config, *id = NULL;
	struct err e;
	int rc;

	err_clear(&e);
	svc_actor_init(&actor, ACTOR_CLI);
	if ((rc = parse_simple("token revoke", argc, argv, &config, &id, 1))
	    != EXIT_OK)
		goto out;
	rc = EXIT_FAIL;
	if (cli_open(config, &cfg, &s, &e) == -1) {
		rc = fail("revoke", &e);
		goto out;
	}
	if (svc_token_delete(s, &actor, id, &e) == -1) {
		if (e.code == ERR_NOT_FOUND)
			err_set(&e, ERR_NOT_FOUND, "no token with id %.40s",
			    id);
		rc = fail("revoke", &e);
		goto out;
	}
	printf("revoked token %s\n", id);
	rc = EXIT_OK;
out:
	svc_actor_clear(&actor);
	svc_close(s);
	config_clear(&cfg);
	return rc;
}

int
cmd_token(int argc, char **argv)
{
	if (argc < 2) {
		fputs(token_usage, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(token_usage, stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "create") == 0)
		return token_create(argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return token_list(argc - 1, argv + 1);
	if (strcmp(argv[1], "revoke") == 0)
		return token_revoke(argc - 1, argv + 1);
	cli_error("token: unknown subcommand \"%.64s\" (create, list or "
	    "revoke)", argv[1]);
	return EXIT_USAGE;
}
