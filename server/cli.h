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

/*
 * The instance's API certificate for the service (re-issued after a CA
 * rollover): sc->api_cert/api_key from cfg when the API has TLS.
 */
void	cli_svc_api_cert(const struct config *cfg, struct svc_config *sc);

/*
 * config_load() with the message of a missing file that the commands
 * share ("run redis-ca init first, or pass --config").
 */
int	cli_config_load(const char *path, struct config *cfg, struct err *e);

/*
 * The lock `serve` holds for its life on a SQLite data folder: an
 * exclusive flock on <dir>/serve.lock (created 0600; a symbolic link or
 * anything but a regular file is refused), never waited for.  `restore`
 * takes the same lock, so it cannot run beside `serve`, nor two `serve`
 * on one folder.  Returns the descriptor that holds it (close() to
 * release; it closes on exec and with the process).
 * Errors: ERR_CONFLICT (another process holds it), ERR_IO.
 */
int	cli_lock_data(const char *dir, struct err *e);

int	cmd_init(int argc, char **argv);
int	cmd_serve(int argc, char **argv);
int	cmd_token(int argc, char **argv);
int	cmd_ca(int argc, char **argv);

#endif
