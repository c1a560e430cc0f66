/*
 * What the subcommands share (cli.h): the one-line error on stderr,
 * loading a configuration and opening the service it describes, and
 * the data folder's serve lock.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
cli_config_load(const char *path, struct config *cfg, struct err *e)
{
	if (config_load(path, cfg, e) == -1) {
		if (e != NULL && e->code == ERR_NOT_FOUND)
			err_set(e, ERR_NOT_FOUND, "%s: no such file (run "
			    "redis-ca init first, or pass --config)", path);
		return -1;
	}
	return 0;
}

void
cli_svc_api_cert(const struct config *cfg, struct svc_config *sc)
{
	if (cfg->api_tls_enabled) {
		sc->api_cert = cfg->api_tls_cert;
		sc->api_key = cfg->api_tls_key;
	}
}

int
cli_open(const char *path, struct config *cfg, struct svc **svc,
    struct err *e)
{
	struct svc_config sc;

	*svc = NULL;
	if (cli_config_load(path, cfg, e) == -1)
		return -1;
	config_svc_view(cfg, &sc);
	cli_svc_api_cert(cfg, &sc);
	if ((*svc = svc_open(&sc, e)) == NULL) {
		config_clear(cfg);
		return -1;
	}
	return 0;
}

int
cli_lock_data(const char *dir, struct err *e)
{
	char path[RCA_MAX_PATH];
	struct stat sb;
	int fd;

	if (snprintf(path, sizeof(path), "%s/serve.lock", dir) >=
	    (int)sizeof(path)) {
		err_set(e, ERR_IO, "%s: path too long", dir);
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		err_set(e, ERR_IO, "%s: %s", path, errno == ELOOP ?
		    "is a symbolic link" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		err_set(e, ERR_IO, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			err_set(e, ERR_CONFLICT, "redis-ca serve is running on "
			    "%s (%s is locked)", dir, path);
		else
			err_set(e, ERR_IO, "%s: flock: %s", path,
			    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}
