/*
 * `redis-ca backup`: a snapshot of the SQLite database through
 * db_backup() (the online backup API; the live database is never
 * locked against writers), then its db.backup audit entry in the live
 * database, then what was saved on stdout.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_backup.h"
#include "db.h"
#include "opts.h"
#include "timeutil.h"

struct backup_opts {
	const char	*config;
	const char	*out;
	bool		 force;
	bool		 help;
};

static const char backup_usage[] =
    "usage: redis-ca backup --out FILE [--force] [--config FILE]\n"
    "  write a consistent snapshot of the SQLite database to FILE (mode\n"
    "  0600) while serve runs; --force replaces an existing FILE.\n"
    "  PostgreSQL: use pg_dump -Fc (docs/operations.md).\n";

static const struct opt backup_opt_table[] = {
	OPTS_STRING("config", struct backup_opts, config),
	{ .name = "out", .type = OPT_NONEMPTY,
	    .off = offsetof(struct backup_opts, out), .max = RCA_MAX_PATH - 1,
	    .bad = "--out must be a file name" },
	{ .name = "force", .type = OPT_FLAG,
	    .off = offsetof(struct backup_opts, force) },
	{ .name = "help", .short_name = 'h', .type = OPT_FLAG,
	    .flags = OPT_F_STOP, .off = offsetof(struct backup_opts, help) },
};

static const struct opts_cmd backup_cmd = {
	OPTS_GNU, backup_opt_table,
	sizeof(backup_opt_table) / sizeof(backup_opt_table[0]), true,
	backup_usage
};

int
cli_db_audit(const char *path, const char *action, const char *object,
    const struct db_snap_info *info, struct err *e)
{
	struct audit_rec a;
	struct db *db = NULL;
	int rc = -1;

	memset(&a, 0, sizeof(a));
	a.at = tu_now();
	a.outcome = AUDIT_OK;
	snprintf(a.actor, sizeof(a.actor), "cli");
	snprintf(a.action, sizeof(a.action), "%s", action);
	snprintf(a.object, sizeof(a.object), "%s", object);
	snprintf(a.detail, sizeof(a.detail), "bytes=%lld schema=%d "
	    "certificates=%lld crl_number=%llu", (long long)info->size,
	    info->version, (long long)info->ncerts,
	    (unsigned long long)info->crl_number);
	if ((db = db_open(path, e)) == NULL)
		goto out;
	if (db_audit_append(db, &a, e) == -1)
		goto out;
	rc = 0;
out:
	db_close(db);
	return rc;
}

void
cli_db_print_facts(const struct db_snap_info *i)
{
	printf("  size:           %lld bytes\n", (long long)i->size);
	printf("  schema version: %d\n", i->version);
	printf("  certificates:   %lld\n", (long long)i->ncerts);
	if (i->crl_number == 0)
		printf("  latest CRL:     none\n");
	else
		printf("  latest CRL:     number %llu\n",
		    (unsigned long long)i->crl_number);
}

/* EXIT_OK with o filled, or the status to exit with now. */
static int
parse_args(int argc, char **argv, struct backup_opts *o)
{
	struct opts_result res;
	struct err e;

	err_clear(&e);
	o->config = CLI_DEFAULT_CONFIG;
	if (opts_parse(&backup_cmd, argc, argv, o, &res, &e) == -1) {
		cli_error("backup: %s", e.msg);
		return EXIT_USAGE;
	}
	if (o->help)
		return EXIT_OK;
	if (o->out == NULL) {
		cli_error("backup: --out FILE is required (see redis-ca "
		    "backup --help)");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int
cmd_backup(int argc, char **argv)
{
	struct backup_opts o = { NULL, NULL, false, false };
	struct config cfg = CONFIG_INIT;
	struct db_snap_info info;
	struct err e;
	int rc;

	err_clear(&e);
	if ((rc = parse_args(argc, argv, &o)) != EXIT_OK || o.help) {
		if (o.help)
			fputs(backup_usage, stdout);
		return rc;
	}
	rc = EXIT_FAIL;
	if (cli_config_load(o.config, &cfg, &e) == -1) {
		cli_error("backup: %s", e.msg);
		goto out;
	}
	if (db_is_postgres(cfg.database)) {
		cli_error("backup: the database is PostgreSQL: back it up "
		    "with pg_dump -Fc (see docs/operations.md)");
		rc = EXIT_USAGE;
		goto out;
	}
	if (db_backup(cfg.database, o.out, o.force, &info, &e) == -1) {
		cli_error("backup: %s", e.msg);
		goto out;
	}
	if (cli_db_audit(cfg.database, "db.backup", o.out, &info, &e) == -1) {
		cli_error("backup: %s was written, but its audit entry was "
		    "not: %s", o.out, e.msg);
		goto out;
	}
	printf("backup: wrote %s\n", o.out);
	cli_db_print_facts(&info);
	rc = EXIT_OK;
out:
	config_clear(&cfg);
	return rc;
}
