/*
 * The subcommands of the redis-ca binary (SPEC section 7) and what they
 * share.  Each cmd_* takes the arguments after "redis-ca" (argv[0] is
 * the subcommand's name) and returns the process exit status: 0
 * success, 1 failure, 2 usage error.  Errors are one line on stderr.
 */
#ifndef RCA_SERVER_CLI_H
#define RCA_SERVER_CLI_H

#include "config.h"
#include "err.h"
#include "svc.h"

#define EXIT_OK		0
#define EXIT_FAIL	1
#define EXIT_USAGE	2

/* Where init puts things and where the other commands look first. */
#define CLI_DEFAULT_DATA	"./data"
#define CLI_DEFAULT_CONFIG	"./data/config.json"

#ifndef RCA_VERSION
#define RCA_VERSION "unknown"
#endif

/* Print "redis-ca: <message>" and a newline on stderr. */
void	cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Load the configuration at path into *cfg (config_clear()) and open
 * the service it describes (*svc, svc_close()).
 */
int	cli_open(const char *path, struct config *cfg, struct svc **svc,
	    struct err *e);

int	cmd_init(int argc, char **argv);
int	cmd_serve(int argc, char **argv);
int	cmd_token(int argc, char **argv);

#endif
