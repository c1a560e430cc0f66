/*
 * What the subcommands share (cli.h): the one-line error on stderr and
 * opening the service a configuration file describes.
 */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

void
cli_error(const char *fmt, ...)
{
	va_list ap;
	char line[1024];	/* one write: the line stays whole */

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "redis-ca: %s\n", line);
}

int
cli_open(const char *path, struct config *cfg, struct svc **svc,
    struct err *e)
{
	struct svc_config sc;

	*svc = NULL;
	if (config_load(path, cfg, e) == -1) {
		if (e != NULL && e->code == ERR_NOT_FOUND)
			err_set(e, ERR_NOT_FOUND, "%s: no such file (run "
			    "redis-ca init first, or pass --config)", path);
		return -1;
	}
	config_svc_view(cfg, &sc);
	if ((*svc = svc_open(&sc, e)) == NULL) {
		config_clear(cfg);
		return -1;
	}
	return 0;
}
