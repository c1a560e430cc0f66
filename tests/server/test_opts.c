/*
 * Tests of server/opts.c: one table parsed in both styles, each fault
 * with the message the commands have always printed for it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "opts.h"

#define MAXARGS 16

struct t_opts {
	const char	*file;
	const char	*name;
	int		 n;
	int64_t		 big;
	const char	*list[2];
	size_t		 nlist;
	bool		 flag;
	bool		 help;
	const char	*called;
};

static int
set_called(void *opts, const char *v, struct err *e)
{
	struct t_opts *o = opts;

	if (strcmp(v, "bad") == 0) {
		err_set(e, ERR_USAGE, "--call: bad");
		return -1;
	}
	o->called = v;
	return 0;
}

enum { T_FILE, T_NAME, T_N, T_BIG, T_LIST, T_FLAG, T_CALL, T_HELP, T__MAX };

static const struct opt t_table[T__MAX] = {
	[T_FILE] = OPTS_STRING("file", struct t_opts, file),
	[T_NAME] = { .name = "name", .type = OPT_NONEMPTY,
	    .off = offsetof(struct t_opts, name), .max = 4,
	    .bad = "--name: bad name" },
	[T_N] = { .name = "number", .type = OPT_INT,
	    .off = offsetof(struct t_opts, n), .min = 1, .max = 10,
	    .bad = "--number must be 1 to 10" },
	[T_BIG] = { .name = "big", .type = OPT_INT64,
	    .off = offsetof(struct t_opts, big), .min = 0,
	    .max = INT64_C(5000000000), .bad = "--big: bad" },
	[T_LIST] = { .name = "item", .type = OPT_LIST,
	    .off = offsetof(struct t_opts, list),
	    .count_off = offsetof(struct t_opts, nlist), .max = 2 },
	[T_FLAG] = { .name = "flag", .type = OPT_FLAG,
	    .flags = OPT_F_REPEAT, .off = offsetof(struct t_opts, flag) },
	[T_CALL] = { .name = "call", .type = OPT_CALL, .set = set_called },
	[T_HELP] = { .name = "help", .short_name = 'h', .type = OPT_FLAG,
	    .flags = OPT_F_STOP, .off = offsetof(struct t_opts, help) },
};

static const struct opts_cmd gnu = { OPTS_GNU, t_table, T__MAX, false,
	"usage\n" };
static const struct opts_cmd gnu_no_ops = { OPTS_GNU, t_table, T__MAX,
	true, "usage\n" };
static const struct opts_cmd strict = { OPTS_STRICT, t_table, T__MAX,
	false, NULL };

/* Parse the space-separated line with cmd; e gets the error. */
static int
run(const struct opts_cmd *cmd, const char *line, struct t_opts *o,
    struct opts_result *res, struct err *e)
{
	static char buf[512];
	char *argv[MAXARGS], *save = NULL, *t;
	int argc = 0;

	memset(o, 0, sizeof(*o));
	err_clear(e);
	snprintf(buf, sizeof(buf), "%s", line);
	argv[argc++] = (char *)"cmd";
	for (t = strtok_r(buf, " ", &save); t != NULL && argc < MAXARGS;
	    t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	return opts_parse(cmd, argc, argv, o, res, e);
}

struct row {
	const struct opts_cmd	*cmd;
	const char		*line;
	const char		*msg;	/* the whole error; NULL: accepted */
};

static const struct row rows[] = {
	{ &gnu, "--file f --number 3 --big 4000000000", NULL },
	{ &gnu, "--bogus", "unknown option --bogus (see redis-ca --help)" },
	{ &gnu, "--bogus=1", "unknown option --bogus=1 (see redis-ca "
	    "--help)" },
	{ &gnu, "-x", "unknown option -x (see redis-ca --help)" },
	{ &gnu, "--file", "option --file needs an argument (see redis-ca "
	    "--help)" },
	{ &gnu, "--fi", "option --fi needs an argument (see redis-ca "
	    "--help)" },
	{ &gnu, "--f x", "unknown option --f (see redis-ca --help)" },
	{ &gnu, "--flag=1", "unknown option --flag=1 (see redis-ca --help)" },
	{ &gnu, "--number 0", "--number must be 1 to 10" },
	{ &gnu, "--number 11", "--number must be 1 to 10" },
	{ &gnu, "--number 3x", "--number must be 1 to 10" },
	{ &gnu, "--number=", "--number must be 1 to 10" },
	{ &gnu, "--big 5000000001", "--big: bad" },
	{ &gnu, "--item a --item b --item c", "at most 2 --item" },
	{ &gnu, "--name abcde", "--name: bad name" },
	{ &gnu, "--name=", "--name: bad name" },
	{ &gnu, "--call bad", "--call: bad" },
	{ &gnu_no_ops, "--file f stray", "unexpected argument \"stray\"" },
	{ &gnu_no_ops, "stray --bogus", "unknown option --bogus (see "
	    "redis-ca --help)" },
	{ &strict, "--file f --flag --flag --item a --item b", NULL },
	{ &strict, "stray", "unexpected argument 'stray'" },
	{ &strict, "-x", "unexpected argument '-x'" },
	{ &strict, "--", "unexpected argument '--'" },
	{ &strict, "--bogus=1", "unknown option '--bogus'" },
	{ &strict, "--fil f", "unknown option '--fil'" },
	{ &strict, "--file a --file b", "--file given twice" },
	{ &strict, "--file", "--file needs a value" },
	{ &strict, "--flag=yes", "--flag takes no value" },
};

static void
test_rows(void **state)
{
	struct t_opts o;
	struct opts_result res;
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = run(rows[i].cmd, rows[i].line, &o, &res, &e);

		if (rows[i].msg == NULL) {
			if (rc != 0)
				fail_msg("row %zu refused: %s", i, e.msg);
			continue;
		}
		if (rc != -1)
			fail_msg("row %zu accepted", i);
		assert_int_equal(e.code, ERR_USAGE);
		if (strcmp(e.msg, rows[i].msg) != 0)
			fail_msg("row %zu: \"%s\", not \"%s\"", i, e.msg,
			    rows[i].msg);
	}
}

/* The values land in their fields; GNU takes prefixes and "=value". */
static void
test_values(void **state)
{
	struct t_opts o;
	struct opts_result res;
	struct err e;

	(void)state;
	assert_int_equal(run(&gnu, "--fi=a --num 7 --big=4000000000 --item x "
	    "--item y --flag --call ok --name abcd", &o, &res, &e), 0);
	assert_string_equal(o.file, "a");
	assert_int_equal(o.n, 7);
	assert_true(o.big == INT64_C(4000000000));
	assert_int_equal(o.nlist, 2);
	assert_string_equal(o.list[0], "x");
	assert_string_equal(o.list[1], "y");
	assert_true(o.flag);
	assert_string_equal(o.called, "ok");
	assert_string_equal(o.name, "abcd");
	assert_true((res.given & OPTS_BIT(T_N)) != 0);
	assert_true((res.given & OPTS_BIT(T_HELP)) == 0);
	assert_int_equal(res.noperands, 0);

	/* The last of a repeated option wins. */
	assert_int_equal(run(&gnu, "--file a --file b", &o, &res, &e), 0);
	assert_string_equal(o.file, "b");
}

/* GNU: operands anywhere, counted; "--" ends the options. */
static void
test_operands(void **state)
{
	struct t_opts o;
	struct opts_result res;
	struct err e;

	(void)state;
	assert_int_equal(run(&gnu, "one --file f two - -- --file", &o, &res,
	    &e), 0);
	assert_int_equal(res.noperands, 4);
	assert_string_equal(res.operand, "one");
	assert_string_equal(o.file, "f");
	assert_int_equal(run(&gnu, "--file f", &o, &res, &e), 0);
	assert_int_equal(res.noperands, 0);
	assert_null(res.operand);
}

/* --help and -h stop the parse: what follows is not looked at. */
static void
test_stop(void **state)
{
	struct t_opts o;
	struct opts_result res;
	struct err e;

	(void)state;
	assert_int_equal(run(&gnu_no_ops, "stray --help --bogus", &o, &res,
	    &e), 0);
	assert_true(o.help);
	assert_int_equal(run(&gnu, "-hx", &o, &res, &e), 0);
	assert_true(o.help);
	assert_int_equal(run(&gnu, "--he", &o, &res, &e), 0);
	assert_true(o.help);
	assert_int_equal(run(&gnu, "--bogus -h", &o, &res, &e), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_operands),
		cmocka_unit_test(test_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
