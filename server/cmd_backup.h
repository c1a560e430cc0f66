/*
 * `redis-ca backup --config F --out FILE [--force]` (SPEC section 9): a
 * consistent online snapshot of the SQLite database, taken while
 * `serve` runs, audited as db.backup in the live database.  Returns 0,
 * 1 on failure, 2 on a usage error or a PostgreSQL database (pg_dump
 * does that: docs/operations.md).
 */
#ifndef RCA_SERVER_CMD_BACKUP_H
#define RCA_SERVER_CMD_BACKUP_H

#include "err.h"

struct db_snap_info;	/* db.h */

int	cmd_backup(int argc, char **argv);

/*
 * Append a db.* audit entry (actor "cli") to the database at path,
 * opened (and migrated) for it: action, object (cut to its field) and
 * the snapshot facts in its detail.  Shared with restore.
 * Errors: those of db_open() and db_audit_append().
 */
int	cli_db_audit(const char *path, const char *action,
	    const char *object, const struct db_snap_info *info,
	    struct err *e);

/* Print a snapshot's facts on stdout, one indented line each. */
void	cli_db_print_facts(const struct db_snap_info *info);

#endif
