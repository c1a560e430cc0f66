/*
 * One command-line parser for the subcommands.  Each subcommand declares
 * a const table of its options (struct opt: name, type, where the value
 * goes in its options struct) and opts_parse() does the rest: unknown
 * options, missing or unwanted values, repeats and bad values are
 * ERR_USAGE errors with one-line messages.  Not thread-safe beyond
 * what the caller's options struct allows; it keeps no state.
 */
#ifndef RCA_SERVER_OPTS_H
#define RCA_SERVER_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* A number as a string literal, for the messages of a table. */
#define OPTS_STR_(x)	#x
#define OPTS_STR(x)	OPTS_STR_(x)

/* The bit of row i of a table in opts_result.given. */
#define OPTS_BIT(i)	(UINT32_C(1) << (i))
#define OPTS_MAX_ROWS	32

/* What an option takes and where it puts it (at opt.off of the struct). */
enum opt_type {
	OPT_FLAG,	/* no value; sets a bool */
	OPT_STRING,	/* a const char * borrowed from argv */
	OPT_NONEMPTY,	/* the same, not empty and, when max > 0, at most
			 * max bytes (else the message bad) */
	OPT_INT,	/* an int in [min, max] (else the message bad) */
	OPT_INT64,	/* an int64_t in [min, max] (else the message bad) */
	OPT_LIST,	/* const char *[max] with its size_t count at count_off;
			 * may be repeated, "at most <max> --<name>" beyond */
	OPT_CALL,	/* set(opts, value, e) checks and stores the value */
	OPT__MAX
};

/* opt.flags */
#define OPT_F_REPEAT	0x1	/* OPTS_STRICT: may be given more than once */
#define OPT_F_STOP	0x2	/* stop parsing once seen (--help) */

struct opt {
	const char	*name;		/* the long name, without "--" */
	char		 short_name;	/* OPTS_GNU only; 0: none */
	enum opt_type	 type;
	unsigned	 flags;		/* OPT_F_* */
	size_t		 off;		/* offsetof the field it sets */
	size_t		 count_off;	/* OPT_LIST: offsetof its count */
	long long	 min, max;	/* OPT_INT*: range; else max size */
	/* OPT_CALL: v is borrowed from argv; errors ERR_USAGE. */
	int		(*set)(void *opts, const char *v, struct err *e);
	const char	*bad;		/* OPT_NONEMPTY, OPT_INT*: message */
};

/*
 * How a command line reads, so that each command keeps the behaviour
 * and the messages it always had.
 *
 * OPTS_GNU is getopt_long's way: operands may come anywhere, "--" ends
 * the options, a unique prefix names an option, "-h" a short one, and
 * when an option is given twice the last one wins.  Messages:
 * "unknown option --x (see redis-ca --help)", "option --x needs an
 * argument (see redis-ca --help)".
 *
 * OPTS_STRICT is enroll's: only "--name value" and "--name=value" with
 * exact names, no operands, each option once unless OPT_F_REPEAT.
 * Messages: "unexpected argument 'x'", "unknown option '--x'", "--x
 * given twice", "--x needs a value", "--x takes no value".
 */
enum opts_style {
	OPTS_GNU,
	OPTS_STRICT,
};

/* A command: its options, whether it takes operands, its usage text. */
struct opts_cmd {
	enum opts_style		 style;
	const struct opt	*opts;
	size_t			 nopts;		/* at most OPTS_MAX_ROWS */
	bool			 no_operands;	/* OPTS_GNU: refuse them */
	const char		*usage;		/* printed for --help */
};

/* A row for an OPT_STRING stored in field f of struct type T. */
#define OPTS_STRING(n, T, f) \
	{ .name = (n), .type = OPT_STRING, .off = offsetof(T, f) }

/* What a parse found besides the values it stored. */
struct opts_result {
	uint32_t	 given;		/* OPTS_BIT(row) of each option seen */
	size_t		 noperands;	/* arguments that are not options */
	const char	*operand;	/* the first (borrowed), or NULL */
};

/*
 * Parse argv[1..argc-1] (argv[0] is the command's name) against cmd's
 * table, storing each value into the struct at opts (which the caller
 * has filled with its defaults).  Stops early, with success, after an
 * OPT_F_STOP option.  With cmd->no_operands an operand is an error
 * ("unexpected argument \"x\"") once every option has been read.
 * Errors: ERR_USAGE with a one-line message (the caller adds which
 * command), or what an OPT_CALL setter sets.
 */
int	opts_parse(const struct opts_cmd *cmd, int argc, char **argv,
	    void *opts, struct opts_result *res, struct err *e);

#endif
