/*
 * `redis-ca restore --config F --from FILE` (SPEC section 9): put a
 * snapshot made by `backup` back while the service is stopped.  Refuses
 * while `serve` holds the data folder's lock, a snapshot of another CA
 * (its latest CRL, or a certificate, must verify against the configured
 * CA certificate), a file that is not a redis-ca SQLite database or has
 * a newer schema, and a corrupt one; nothing is changed then.  Returns
 * 0, 1 on failure or refusal, 2 on a usage error or a PostgreSQL
 * database (pg_restore: docs/operations.md).
 */
#ifndef RCA_SERVER_CMD_RESTORE_H
#define RCA_SERVER_CMD_RESTORE_H

int	cmd_restore(int argc, char **argv);

#endif
