/*
 * The commands redis-ca sends a node: AUTH, PING and CONFIG SET, each
 * answered by a status reply; an error reply becomes ERR_NET with
 * Redis's message, cleaned for the log, and never the arguments.
 */
#include <string.h>

#include "rds_int.h"

/*
 * Copy a Redis error message for an error text: printable ASCII only, so
 * a hostile node cannot put control characters in our logs.
 */
void
rds_clean_text(const struct rds_reply *r, char *out, size_t outsz)
{
	size_t i, j = 0;

	for (i = 0; i < r->len && j + 1 < outsz; i++) {
		unsigned char ch = (unsigned char)r->str[i];

		out[j++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	out[j] = '\0';
}

/*
 * Is r the status reply want?  An error reply is refused with Redis's
 * (cleaned) message; what and where name the command and the node.
 */
static int
expect_status(const struct rds_reply *r, const char *want, const char *what,
    const char *where, struct err *e)
{
	char text[160];

	if (r->type == RDS_REPLY_ERROR) {
		rds_clean_text(r, text, sizeof(text));
		err_set(e, ERR_NET, "%s refused by %s: %s", what, where, text);
		return -1;
	}
	if (r->type != RDS_REPLY_STATUS || strcmp(r->str, want) != 0) {
		err_set(e, ERR_NET, "%s: unexpected reply from %s", what,
		    where);
		return -1;
	}
	return 0;
}

/*
 * Run a command that must answer the status want ("OK", "PONG").  what
 * names it in messages; never the arguments, which may hold a password.
 */
static int
status_command(struct rds_conn *c, const char *what, int argc,
    const char **argv, const char *want, struct err *e)
{
	struct rds_reply *r = NULL;
	int rc;

	if (rds_command(c, argc, argv, NULL, &r, e) == -1)
		return -1;
	rc = expect_status(r, want, what, c->where, e);
	rds_reply_free(r);
	return rc;
}

int
rds_auth(struct rds_conn *c, const char *user, const char *password,
    struct err *e)
{
	const char *argv[3];
	int argc = 0;

	if (password == NULL) {
		err_set(e, ERR_INVALID_REQUEST, "redis: AUTH needs a password");
		return -1;
	}
	argv[argc++] = "AUTH";
	if (user != NULL)
		argv[argc++] = user;
	argv[argc++] = password;
	return status_command(c, "AUTH", argc, argv, "OK", e);
}

int
rds_ping(struct rds_conn *c, struct err *e)
{
	const char *argv[1] = { "PING" };

	return status_command(c, "PING", 1, argv, "PONG", e);
}

int
rds_config_set(struct rds_conn *c, const char *const *kv, size_t n,
    struct err *e)
{
	const char *argv[2 + 2 * RDS_CONFIG_SET_MAX_PAIRS];
	size_t i;

	if (n < 1 || n > RDS_CONFIG_SET_MAX_PAIRS || kv == NULL) {
		err_set(e, ERR_INVALID_REQUEST, "redis: CONFIG SET takes 1 to "
		    "%d pairs", RDS_CONFIG_SET_MAX_PAIRS);
		return -1;
	}
	argv[0] = "CONFIG";
	argv[1] = "SET";
	for (i = 0; i < 2 * n; i++) {
		if (kv[i] == NULL) {
			err_set(e, ERR_INVALID_REQUEST, "redis: CONFIG SET "
			    "with a NULL name or value");
			return -1;
		}
		argv[2 + i] = kv[i];
	}
	return status_command(c, "CONFIG SET", (int)(2 + 2 * n), argv, "OK",
	    e);
}
