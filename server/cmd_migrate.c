/*
 * `redis-ca migrate`: the schema version before (read without
 * migrating; SQLite only, a PostgreSQL database's is read by db_open()),
 * then db_open(), which migrates, then the version after.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cli.h"
#include "cmd_migrate.h"
#include "db.h"
#include "opts.h"

struct migrate_opts {
	const char	*config;
	bool		 help;
};

static const char migrate_usage[] =
    "usage: redis-ca migrate [--config FILE]\n"
    "  create or upgrade the database schema; print its version before\n"
    "  and after.\n";

static const struct opt migrate_opt_table[] = {
	OPTS_STRING("config", struct migrate_opts, config),
	{ .name = "help", .short_name = 'h', .type = OPT_FLAG,
	    .flags = OPT_F_STOP, .off = offsetof(struct migrate_opts, help) },
};

static const struct opts_cmd migrate_cmd = {
	OPTS_GNU, migrate_opt_table,
	sizeof(migrate_opt_table) / sizeof(migrate_opt_table[0]), true,
	migrate_usage
};

/* Print what happened to the schema: before (-1: unknown) and after. */
static void
print_versions(const char *database, int before, int after)
{
	if (before == after)
		printf("migrate: %s: schema version %d (already current)\n",
		    database, after);
	else if (before == 0)
		printf("migrate: %s: schema created, version %d\n", database,
		    after);
	else if (before > 0)
		printf("migrate: %s: schema version %d -> %d\n", database,
		    before, after);
	else
		printf("migrate: schema version %d\n", after);
}

int
cmd_migrate(int argc, char **argv)
{
	struct migrate_opts o = { CLI_DEFAULT_CONFIG, false };
	struct config cfg = CONFIG_INIT;
	struct opts_result res;
	struct db *db = NULL;
	struct err e;
	int rc = EXIT_FAIL, before = -1;

	err_clear(&e);
	if (opts_parse(&migrate_cmd, argc, argv, &o, &res, &e) == -1) {
		cli_error("migrate: %s", e.msg);
		return EXIT_USAGE;
	}
	if (o.help) {
		fputs(migrate_usage, stdout);
		return EXIT_OK;
	}
	if (cli_config_load(o.config, &cfg, &e) == -1) {
		cli_error("migrate: %s", e.msg);
		goto out;
	}
	if (!db_is_postgres(cfg.database) &&
	    db_file_version(cfg.database, &before, &e) == -1) {
		cli_error("migrate: %s", e.msg);
		goto out;
	}
	if ((db = db_open(cfg.database, &e)) == NULL) {
		cli_error("migrate: %s", e.msg);
		goto out;
	}
	print_versions(db_is_postgres(cfg.database) ? "database" :
	    cfg.database, before, db_schema_version(db));
	rc = EXIT_OK;
out:
	db_close(db);
	config_clear(&cfg);
	return rc;
}
