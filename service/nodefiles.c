/*
 * Where a node's files may be (SPEC section 8): inside nodes.allowed_dirs,
 * never in the data folder or ca.key's, reached without following a link.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "log.h"
#include "safefile.h"
#include "svc_int.h"

/* True when real (resolved) lies inside the folder dir once resolved. */
static bool
inside_resolved(const char *real, const char *dir)
{
	char	*r;
	bool	 in;

	if (dir == NULL || (r = realpath(dir, NULL)) == NULL)
		return false;
	in = sf_path_inside(real, r);
	free(r);
	return in;
}

bool
svc_node_path_ok(struct svc *s, const char *path, char *real)
{
	char	*r;
	bool	 ok = false;

	real[0] = '\0';
	if (path == NULL || path[0] != '/' || strlen(path) >= RCA_MAX_PATH ||
	    (r = realpath(path, NULL)) == NULL)
		return false;
	if (strlen(r) >= RCA_MAX_PATH)
		goto out;
	for (size_t i = 0; i < s->nnode_dirs && !ok; i++)
		ok = inside_resolved(r, s->node_dirs[i]);
	/* The CA's own folders are never a node's, whatever is allowed. */
	if (ok && (inside_resolved(r, s->data_dir) ||
	    inside_resolved(r, s->ca_key_dir)))
		ok = false;
	if (ok)
		memcpy(real, r, strlen(r) + 1);
out:
	free(r);
	return ok;
}

int
svc_node_dir_open(struct svc *s, const char *cert_dir, struct stat *st,
    struct err *e)
{
	char	real[RCA_MAX_PATH];
	int	fd;

	/*
	 * The stored folder was resolved at registration: resolving it
	 * again must give the same text, or a link was swapped in.  The
	 * open then refuses a link anywhere on the way, so a swap after
	 * this check fails too.
	 */
	if (!svc_node_path_ok(s, cert_dir, real) ||
	    strcmp(real, cert_dir) != 0) {
		err_set(e, ERR_IO, "cert_dir %.160s is not a folder inside "
		    "nodes.allowed_dirs reached without links", cert_dir);
		return -1;
	}
	if ((fd = sf_open_dir(cert_dir, st, e)) == -1) {
		char msg[ERR_MSG_MAX];

		snprintf(msg, sizeof(msg), "%s", e != NULL ? e->msg : "");
		err_set(e, ERR_IO, "cert_dir: %.200s", msg);
	}
	return fd;
}

int
svc_node_password_read(struct svc *s, const char *path, size_t max,
    char **out, struct err *e)
{
	struct sf_rules	 rules;
	struct err	 le;
	char		 real[RCA_MAX_PATH], *buf = NULL;
	size_t		 len = 0;
	int		 rc = -1;

	*out = NULL;
	err_clear(&le);
	memset(&rules, 0, sizeof(rules));
	rules.forbid_mode = 007;
	rules.max_links = 1;
	if (!svc_node_path_ok(s, path, real) ||
	    sf_read_path(real, &rules, max, &buf, &len, &le) == -1)
		goto out;
	buf[strcspn(buf, "\r\n")] = '\0';
	*out = buf;
	buf = NULL;
	rc = 0;
out:
	if (rc == -1) {
		/* The reason goes to the operator's log, never the client. */
		if (le.msg[0] != '\0')
			log_warn("auth.password_file refused: %s", le.msg);
		err_set(e, ERR_IO, SVC_PASSWORD_REFUSED);
	}
	fio_secret_free(buf, len);
	return rc;
}
