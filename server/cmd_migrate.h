/*
 * `redis-ca migrate --config F` (SPEC section 9): create or upgrade the
 * database schema and print its version before and after.  `serve`
 * migrates at start too; migrations run in one write transaction, so
 * this is safe beside a running `serve`.  Returns 0, 1 on failure, 2 on
 * a usage error.
 */
#ifndef RCA_SERVER_CMD_MIGRATE_H
#define RCA_SERVER_CMD_MIGRATE_H

int	cmd_migrate(int argc, char **argv);

#endif
