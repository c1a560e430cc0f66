/*
 * `redis-ca check HOST:PORT --cacert F [--cert F --key F]
 * [--server-name N] [--json]` (SPEC section 7): the node audit of
 * POST /v1/nodes/{name}/check, run from the command line without a
 * configuration.  Returns 0 when every check passes, 1 when one fails
 * or the node cannot be reached, 2 on a usage error.
 */
#ifndef RCA_SERVER_CMD_CHECK_H
#define RCA_SERVER_CMD_CHECK_H

int	cmd_check(int argc, char **argv);

#endif
