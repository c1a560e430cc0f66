/*
 * redis-ca: one binary, several subcommands.  main() only dispatches;
 * each subcommand declares its options as a table for opts_parse()
 * (opts.h) in its file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_backup.h"
#include "cmd_check.h"
#include "cmd_migrate.h"
#include "cmd_restore.h"
#include "enroll.h"

static const char usage_text[] =
    "usage: redis-ca <command> [options]\n"
    "\n"
    "commands:\n"
    "  init   [--data DIR] [--cn NAME] [--key-type T] [--days N]\n"
    "         [--api-name NAME]... [--public-url URL] [--passphrase-file F]\n"
    "         [--root-out DIR | --import-cert F --import-key F\n"
    "          [--import-passphrase-file F] [--import-chain ROOTS]]\n"
    "         create a CA and its data folder (default ./data); two tiers\n"
    "         with --root-out (a root in DIR signs it) or --import-chain\n"
    "  serve  [--config FILE]\n"
    "         run the HTTP API, the public listener and the scheduler\n"
    "  token  create --kind enroll|admin [--profile P] [--name PATTERN]...\n"
    "                [--uses N] [--ttl D] [--max-cert-ttl D]\n"
    "                [--description S] [--config FILE]\n"
    "  token  list [--config FILE]\n"
    "  token  revoke ID [--config FILE]\n"
    "  ca     prepare [--key-type T] [--days N] [--root-key F --root-cert F]\n"
    "                 [--csr-out F | --import-cert F [--import-chain ROOTS]]\n"
    "                 [--wait D] [--config FILE]\n"
    "  ca     activate|retire [--force] [--wait D] [--config FILE]\n"
    "  ca     status [--config FILE]\n"
    "         roll the CA over (docs/ca-lifecycle.md)\n"
    "  enroll --url URL --cacert F (--token T | --token-file F) "
    "--profile P\n"
    "         --cn NAME [--dns NAME]... [--ip ADDR]... [--key-type T] "
    "[--ttl D]\n"
    "         --out DIR [--daemon [--exec CMD] [--bundle-check D]]\n"
    "         get a certificate for this host (and keep it and ca.pem "
    "fresh)\n"
    "  check  HOST:PORT --cacert F [--cert F --key F] [--server-name N]\n"
    "         [--json]  audit a Redis node's TLS (exit 1 when a check "
    "fails)\n"
    "  backup  --out FILE [--force] [--config FILE]\n"
    "         snapshot the SQLite database while serve runs (mode 0600)\n"
    "  restore --from FILE [--config FILE]\n"
    "         put a snapshot back (serve stopped; this CA's only)\n"
    "  migrate [--config FILE]\n"
    "         create or upgrade the database schema\n"
    "  version\n"
    "         print the version\n"
    "\n"
    "--config defaults to ./data/config.json.  Durations: 90s, 30m, 24h, "
    "7d.\n"
    "Exit status: 0 success, 1 failure, 2 usage error.\n";

int
main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		if (argc > 2) {
			cli_error("version: takes no arguments");
			return EXIT_USAGE;
		}
		printf("redis-ca %s\n", RCA_VERSION);
		return EXIT_OK;
	}
	if (strcmp(cmd, "init") == 0)
		return cmd_init(argc - 1, argv + 1);
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(cmd, "token") == 0)
		return cmd_token(argc - 1, argv + 1);
	if (strcmp(cmd, "ca") == 0)
		return cmd_ca(argc - 1, argv + 1);
	if (strcmp(cmd, "enroll") == 0)
		return cmd_enroll(argc - 1, argv + 1);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(cmd, "backup") == 0)
		return cmd_backup(argc - 1, argv + 1);
	if (strcmp(cmd, "restore") == 0)
		return cmd_restore(argc - 1, argv + 1);
	if (strcmp(cmd, "migrate") == 0)
		return cmd_migrate(argc - 1, argv + 1);
	cli_error("unknown command \"%.64s\" (see redis-ca --help)", cmd);
	return EXIT_USAGE;
}
