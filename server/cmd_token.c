/*
 * `redis-ca token create|list|revoke`: token management from the host,
 * through the service with the "cli" actor (audited like the API).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fileio.h"
#include "opts.h"
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
	const char	*names[RCA_MAX_PATTERNS];
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
set_kind(void *opts, const char *v, struct err *e)
{
	struct create_opts *o = opts;

	if (token_kind_parse(v, &o->kind) == -1) {
		err_set(e, ERR_USAGE, "--kind must be enroll or admin");
		return -1;
	}
	o->kind_set = true;
	return 0;
}

static int
parse_duration_opt(const char *opt, const char *v, int64_t *out,
    struct err *e)
{
	if (tu_parse_duration(v, out, NULL) == -1) {
		err_set(e, ERR_USAGE, "%s \"%.40s\": not a duration (90s, "
		    "30m, 24h, 7d)", opt, v);
		return -1;
	}
	return 0;
}

/* --ttl D|never; without it: enroll 24h, admin 90d (the service's). */
static int
set_ttl(void *opts, const char *v, struct err *e)
{
	struct create_opts *o = opts;

	if (strcmp(v, "never") == 0) {
		o->ttl = SVC_TOKEN_TTL_NEVER;
		return 0;
	}
	return parse_duration_opt("--ttl", v, &o->ttl, e);
}

static int
set_max_cert_ttl(void *opts, const char *v, struct err *e)
{
	struct create_opts *o = opts;

	return parse_duration_opt("--max-cert-ttl", v, &o->max_cert_ttl, e);
}

static const struct opt create_opt_table[] = {
	{ .name = "kind", .type = OPT_CALL, .set = set_kind },
	OPTS_STRING("profile", struct create_opts, profile),
	{ .name = "name", .type = OPT_LIST,
	    .off = offsetof(struct create_opts, names),
	    .count_off = offsetof(struct create_opts, nnames),
	    .max = RCA_MAX_PATTERNS },
	{ .name = "uses", .type = OPT_INT64,
	    .off = offsetof(struct create_opts, uses), .min = 1,
	    .max = TOKEN_MAX_USES, .bad = "--uses must be a number from 1 "
	    "to " OPTS_STR(TOKEN_MAX_USES) },
	{ .name = "ttl", .type = OPT_CALL, .set = set_ttl },
	{ .name = "max-cert-ttl", .type = OPT_CALL, .set = set_max_cert_ttl },
	OPTS_STRING("description", struct create_opts, description),
	OPTS_STRING("config", struct create_opts, config),
};

static const struct opts_cmd create_cmd = {
	OPTS_GNU, create_opt_table,
	sizeof(create_opt_table) / sizeof(create_opt_table[0]), true,
	token_usage
};

/* The options an enroll token needs and an admin token refuses. */
static int
check_create(const struct create_opts *o, struct err *e)
{
	if (!o->kind_set) {
		err_set(e, ERR_USAGE, "--kind enroll|admin is required");
		return -1;
	}
	if (o->kind == TOKEN_ENROLL) {
		if (o->profile == NULL || o->nnames == 0) {
			err_set(e, ERR_USAGE, "an enroll token needs --profile "
			    "and at least one --name");
			return -1;
		}
	} else if (o->profile != NULL || o->nnames != 0 ||
	    o->max_cert_ttl != 0) {
		err_set(e, ERR_USAGE, "--profile, --name and --max-cert-ttl "
		    "are for enroll tokens");
		return -1;
	}
	return 0;
}

static const struct create_opts create_defaults = {
	.config = CLI_DEFAULT_CONFIG,
	.kind = TOKEN_ENROLL,
	.uses = 1,
};

static int
parse_create(int argc, char **argv, struct create_opts *o, struct err *e)
{
	struct opts_result res;

	*o = create_defaults;
	if (opts_parse(&create_cmd, argc, argv, o, &res, e) == -1)
		return -1;
	return check_create(o, e);
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
	if (parse_create(argc, argv, &o, &e) == -1) {
		rc = fail("create", &e);
		goto out;
	}
	if (cli_open(o.config, &cfg, &s, &e) == -1) {
		rc = fail("create", &e);
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.kind = o.kind;
	req.profile = o.profile;
	req.patterns = (char *const *)o.names;
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
/* list and revoke take only --config. */
struct simple_opts {
	const char	*config;
};

static const struct opt simple_opt_table[] = {
	OPTS_STRING("config", struct simple_opts, config),
};

static const struct opts_cmd simple_cmd = {
	OPTS_GNU, simple_opt_table, 1, false, token_usage
};

/* Parse "[--config FILE]" and up to nargs positional arguments. */
static int
parse_simple(const char *what, int argc, char **argv, const char **config,
    const char **pos, int nargs)
{
	struct simple_opts o = { CLI_DEFAULT_CONFIG };
	struct opts_result res;
	struct err e;

	err_clear(&e);
	if (opts_parse(&simple_cmd, argc, argv, &o, &res, &e) == -1) {
		cli_error("%s: %s", what, e.msg);
		return EXIT_USAGE;
	}
	*config = o.config;
	if (res.noperands != (size_t)nargs) {
		cli_error("%s: expected %s", what, nargs == 0 ?
		    "no arguments" : "a token id");
		return EXIT_USAGE;
	}
	if (nargs == 1)
		*pos = res.operand;
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
