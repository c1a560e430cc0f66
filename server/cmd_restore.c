/*
 * `redis-ca restore`: under the data folder's serve lock, check the
 * snapshot (db_snapshot_check()), check that it is this CA's through
 * ca/ (its CRL's or a certificate's signature against ca.crt), keep the
 * current database as <db>.before-restore-<UTC time>, copy the
 * snapshot in (db_restore()), open it once (which migrates an older
 * schema) to append the db.restore audit entry, and say what was done.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ca.h"
#include "cli.h"
#include "cmd_backup.h"
#include "cmd_restore.h"
#include "db.h"
#include "fileio.h"
#include "opts.h"

struct restore_opts {
	const char	*config;
	const char	*from;
	bool		 help;
};

static const char restore_usage[] =
    "usage: redis-ca restore --from FILE [--config FILE]\n"
    "  put a snapshot made by redis-ca backup in place of the SQLite\n"
    "  database; serve must be stopped.  The current database is kept\n"
    "  as <database>.before-restore-<UTC time>.\n"
    "  PostgreSQL: use pg_restore (docs/operations.md).\n";

static const struct opt restore_opt_table[] = {
	OPTS_STRING("config", struct restore_opts, config),
	{ .name = "from", .type = OPT_NONEMPTY,
	    .off = offsetof(struct restore_opts, from),
	    .max = RCA_MAX_PATH - 1, .bad = "--from must be a file name" },
	{ .name = "help", .short_name = 'h', .type = OPT_FLAG,
	    .flags = OPT_F_STOP, .off = offsetof(struct restore_opts, help) },
};

static const struct opts_cmd restore_cmd = {
	OPTS_GNU, restore_opt_table,
	sizeof(restore_opt_table) / sizeof(restore_opt_table[0]), true,
	restore_usage
};

/* EXIT_OK with o filled, or the status to exit with now. */
static int
parse_args(int argc, char **argv, struct restore_opts *o)
{
	struct opts_result res;
	struct err e;

	err_clear(&e);
	o->config = CLI_DEFAULT_CONFIG;
	if (opts_parse(&restore_cmd, argc, argv, o, &res, &e) == -1) {
		cli_error("restore: %s", e.msg);
		return EXIT_USAGE;
	}
	if (o->help)
		return EXIT_OK;
	if (o->from == NULL) {
		cli_error("restore: --from FILE is required (see redis-ca "
		    "restore --help)");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* The snapshot at from is not the live database db itself. */
static int
not_live(const char *from, const char *db, struct err *e)
{
	struct stat a, b;

	if (stat(from, &a) == 0 && stat(db, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
		err_set(e, ERR_INVALID_REQUEST, "%s is the live database "
		    "itself", from);
		return -1;
	}
	return 0;
}

/*
 * A snapshot of schema 4 on lists its CAs' keys: ca_cert's key must be
 * one of them.  1 (it is), 0 (no list: look further), -1 (not, or e).
 */
static int
known_ca(const struct db_snap *s, const char *from, const char *ca_cert,
    struct err *e)
{
	char spki[RCA_SHA256_HEX + 1], *pem = NULL;
	size_t len;
	int rc = -1;

	if (s->ca_keys[0] == '\0')
		return 0;
	if (fio_read_all(ca_cert, RCA_MAX_PEM_BYTES, &pem, &len, e) == -1 ||
	    ca_pem_spki_sha256(pem, spki, e) == -1)
		goto out;
	if (strstr(s->ca_keys, spki) == NULL) {
		err_set(e, ERR_INVALID_REQUEST, "%s is a snapshot of another "
		    "CA: none of its CAs has the key of %s", from, ca_cert);
		goto out;
	}
	rc = 1;
out:
	free(pem);
	return rc;
}

/* The snapshot s belongs to the CA whose certificate is ca_cert. */
static int
same_ca(const struct db_snap *s, const char *from, const char *ca_cert,
    struct err *e)
{
	struct err le;
	int k;

	if ((k = known_ca(s, from, ca_cert, e)) != 0)
		return k == 1 ? 0 : -1;
	err_clear(&le);
	if (s->crl_der != NULL) {
		if (ca_crl_der_verify_file(ca_cert, s->crl_der, s->crl_len,
		    &le) == 0)
			return 0;
	} else if (s->cert_pem != NULL) {
		if (ca_cert_pem_verify_file(ca_cert, s->cert_pem, &le) == 0)
			return 0;
	} else {
		err_set(e, ERR_INVALID_REQUEST, "%s holds neither a CRL nor a "
		    "certificate: cannot tell which CA it belongs to", from);
		return -1;
	}
	if (le.code == ERR_INVALID_REQUEST)
		err_set(e, ERR_INVALID_REQUEST, "%s is a snapshot of another "
		    "CA: %s", from, le.msg);
	else
		err_set(e, le.code, "%s", le.msg);
	return -1;
}

/* "<db>.before-restore-<UTC time>" into out. */
static int
keep_name(const char *db, char *out, size_t cap, struct err *e)
{
	char ts[32];
	struct tm tm;
	time_t now = time(NULL);

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm) == 0 ||
	    snprintf(out, cap, "%s.before-restore-%s", db, ts) >= (int)cap) {
		err_set(e, ERR_IO, "%s: path too long", db);
		return -1;
	}
	return 0;
}

/* Everything after the lock is taken: check, copy, audit, print. */
static int
restore_locked(const struct config *cfg, const char *from, struct err *e)
{
	struct db_snap s;
	char keep[RCA_MAX_PATH];
	bool kept = false;
	int rc = -1;

	memset(&s, 0, sizeof(s));
	if (not_live(from, cfg->database, e) == -1 ||
	    db_snapshot_check(from, &s, e) == -1 ||
	    same_ca(&s, from, cfg->ca_cert, e) == -1 ||
	    keep_name(cfg->database, keep, sizeof(keep), e) == -1)
		goto out;
	if (db_restore(from, cfg->database, keep, &kept, e) == -1)
		goto out;
	if (cli_db_audit(cfg->database, "db.restore", from, &s.info, e) ==
	    -1)
		goto out;
	printf("restore: restored %s into %s\n", from, cfg->database);
	cli_db_print_facts(&s.info);
	if (kept)
		printf("  previous database kept as %s\n", keep);
	rc = 0;
out:
	db_snapshot_clear(&s);
	return rc;
}

int
cmd_restore(int argc, char **argv)
{
	struct restore_opts o = { NULL, NULL, false };
	struct config cfg = CONFIG_INIT;
	struct err e;
	int rc, lock = -1;

	err_clear(&e);
	if ((rc = parse_args(argc, argv, &o)) != EXIT_OK || o.help) {
		if (o.help)
			fputs(restore_usage, stdout);
		return rc;
	}
	rc = EXIT_FAIL;
	if (cli_config_load(o.config, &cfg, &e) == -1) {
		cli_error("restore: %s", e.msg);
		goto out;
	}
	if (db_is_postgres(cfg.database)) {
		cli_error("restore: the database is PostgreSQL: restore it "
		    "with pg_restore (see docs/operations.md)");
		rc = EXIT_USAGE;
		goto out;
	}
	if ((lock = cli_lock_data(cfg.dir, &e)) == -1) {
		cli_error("restore: %s%s", e.msg, e.code == ERR_CONFLICT ?
		    ": stop it first; nothing was changed" : "");
		goto out;
	}
	if (restore_locked(&cfg, o.from, &e) == -1) {
		cli_error("restore: %s", e.msg);
		goto out;
	}
	rc = EXIT_OK;
out:
	if (lock != -1)
		close(lock);
	config_clear(&cfg);
	return rc;
}
