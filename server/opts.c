/*
 * The one command-line parser (opts.h): finds each argument's row in a
 * command's const table and stores its value by type, in the style
 * (GNU or strict) and with the messages the command has always had.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"

#define SEE_HELP	" (see redis-ca --help)"

/*
 * The row named by the nlen bytes at name, or -1.  OPTS_GNU also takes
 * a prefix of exactly one name, as getopt_long does.
 */
static int
find_long(const struct opts_cmd *cmd, const char *name, size_t nlen)
{
	int found = -1;

	for (size_t i = 0; i < cmd->nopts; i++)
		if (strlen(cmd->opts[i].name) == nlen &&
		    strncmp(cmd->opts[i].name, name, nlen) == 0)
			return (int)i;
	if (cmd->style != OPTS_GNU || nlen == 0)
		return -1;
	for (size_t i = 0; i < cmd->nopts; i++)
		if (strncmp(cmd->opts[i].name, name, nlen) == 0) {
			if (found != -1)
				return -1;	/* ambiguous */
			found = (int)i;
		}
	return found;
}

static int
find_short(const struct opts_cmd *cmd, char c)
{
	for (size_t i = 0; i < cmd->nopts; i++)
		if (cmd->opts[i].short_name != '\0' &&
		    cmd->opts[i].short_name == c)
			return (int)i;
	return -1;
}

/* A whole decimal number in [min, max] into *out. */
static bool
parse_int(const char *v, long long min, long long max, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(v, &end, 10);
	return errno == 0 && end != v && *end == '\0' && *out >= min &&
	    *out <= max;
}

/* Store value v of row r into the struct at opts. */
static int
apply(const struct opt *r, const char *v, void *opts, struct err *e)
{
	char *field = (char *)opts + r->off;
	long long n;
	size_t *count;

	switch (r->type) {
	case OPT_FLAG:
		*(bool *)field = true;
		return 0;
	case OPT_NONEMPTY:
		if (v[0] == '\0' || (r->max > 0 && strlen(v) >
		    (size_t)r->max))
			goto bad;
		/* FALLTHROUGH */
	case OPT_STRING:
		*(const char **)field = v;
		return 0;
	case OPT_INT:
	case OPT_INT64:
		if (!parse_int(v, r->min, r->max, &n))
			goto bad;
		if (r->type == OPT_INT)
			*(int *)field = (int)n;
		else
			*(int64_t *)field = (int64_t)n;
		return 0;
	case OPT_LIST:
		count = (size_t *)(void *)((char *)opts + r->count_off);
		if ((long long)*count >= r->max) {
			err_set(e, ERR_USAGE, "at most %lld --%s", r->max,
			    r->name);
			return -1;
		}
		((const char **)(void *)field)[(*count)++] = v;
		return 0;
	case OPT_CALL:
		return r->set(opts, v, e);
	case OPT__MAX:
		break;
	}
bad:
	err_set(e, ERR_USAGE, "%s", r->bad != NULL ? r->bad :
	    "bad option value");
	return -1;
}

/*
 * One "--name[=value]" at argv[*i] (its value may be argv[*i + 1]):
 * the row it names into *row.
 */
static int
parse_long(const struct opts_cmd *cmd, int argc, char **argv, int *i,
    void *opts, struct opts_result *res, int *row, struct err *e)
{
	const char *arg = argv[*i], *name = arg + 2, *eq, *v = NULL;
	bool gnu = cmd->style == OPTS_GNU;
	const struct opt *r;
	size_t nlen;

	eq = strchr(name, '=');
	nlen = eq != NULL ? (size_t)(eq - name) : strlen(name);
	if ((*row = find_long(cmd, name, nlen)) == -1) {
		if (gnu)
			err_set(e, ERR_USAGE, "unknown option %.160s" SEE_HELP,
			    arg);
		else
			err_set(e, ERR_USAGE, "unknown option '--%.*s'",
			    (int)(nlen > 64 ? 64 : nlen), name);
		return -1;
	}
	r = &cmd->opts[*row];
	if (!gnu && (res->given & OPTS_BIT(*row)) != 0 &&
	    (r->flags & OPT_F_REPEAT) == 0 && r->type != OPT_LIST) {
		err_set(e, ERR_USAGE, "--%s given twice", r->name);
		return -1;
	}
	res->given |= OPTS_BIT(*row);
	if (r->type == OPT_FLAG) {
		if (eq == NULL)
			return apply(r, "", opts, e);
		if (gnu)
			err_set(e, ERR_USAGE, "unknown option %.160s" SEE_HELP,
			    arg);
		else
			err_set(e, ERR_USAGE, "--%s takes no value", r->name);
		return -1;
	}
	if (eq != NULL)
		v = eq + 1;
	else if (*i + 1 < argc)
		v = argv[++*i];
	else {
		if (gnu)
			err_set(e, ERR_USAGE, "option %.160s needs an argument"
			    SEE_HELP, arg);
		else
			err_set(e, ERR_USAGE, "--%s needs a value", r->name);
		return -1;
	}
	return apply(r, v, opts, e);
}

/*
 * One "-abc" at argv[*i] (OPTS_GNU): each letter an option, the rest of
 * the argument or the next one the value of the first that takes one.
 * The last row seen goes into *row.
 */
static int
parse_short(const struct opts_cmd *cmd, int argc, char **argv, int *i,
    void *opts, struct opts_result *res, int *row, struct err *e)
{
	const char *arg = argv[*i];

	for (const char *p = arg + 1; *p != '\0'; p++) {
		const struct opt *r;

		if ((*row = find_short(cmd, *p)) == -1) {
			err_set(e, ERR_USAGE, "unknown option -%c" SEE_HELP,
			    *p);
			return -1;
		}
		r = &cmd->opts[*row];
		res->given |= OPTS_BIT(*row);
		if (r->type == OPT_FLAG) {
			if (apply(r, "", opts, e) == -1)
				return -1;
			if ((r->flags & OPT_F_STOP) != 0)
				return 0;
			continue;
		}
		if (p[1] != '\0')
			return apply(r, p + 1, opts, e);
		if (*i + 1 >= argc) {
			err_set(e, ERR_USAGE, "option %.160s needs an argument"
			    SEE_HELP, arg);
			return -1;
		}
		return apply(r, argv[++*i], opts, e);
	}
	return 0;
}

int
opts_parse(const struct opts_cmd *cmd, int argc, char **argv, void *opts,
    struct opts_result *res, struct err *e)
{
	bool gnu = cmd->style == OPTS_GNU, only_operands = false;
	int row, rc;

	memset(res, 0, sizeof(*res));
	/* res->given has a bit per row. */
	if (cmd->nopts > OPTS_MAX_ROWS) {
		err_set(e, ERR_INTERNAL, "more than %d options in a table",
		    OPTS_MAX_ROWS);
		return -1;
	}
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (gnu && !only_operands && strcmp(arg, "--") == 0) {
			only_operands = true;
			continue;
		}
		if (only_operands || arg[0] != '-' || arg[1] == '\0' ||
		    (!gnu && (arg[1] != '-' || arg[2] == '\0'))) {
			if (!gnu) {
				err_set(e, ERR_USAGE, "unexpected argument "
				    "'%.*s'", 64, arg);
				return -1;
			}
			if (res->noperands++ == 0)
				res->operand = arg;
			continue;
		}
		row = -1;
		if (arg[1] == '-')
			rc = parse_long(cmd, argc, argv, &i, opts, res, &row,
			    e);
		else
			rc = parse_short(cmd, argc, argv, &i, opts, res, &row,
			    e);
		if (rc == -1)
			return -1;
		if (row != -1 && (cmd->opts[row].flags & OPT_F_STOP) != 0)
			return 0;
	}
	if (cmd->no_operands && res->noperands > 0) {
		err_set(e, ERR_USAGE, "unexpected argument \"%.64s\"",
		    res->operand);
		return -1;
	}
	return 0;
}
