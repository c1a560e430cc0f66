/*
 * `redis-ca init --root-out DIR` and `--import-chain ROOTS`: a CA in
 * two tiers.  The root key is written to its own folder, outside the
 * data folder, so it can be taken offline; the data folder only holds
 * the issuing CA and roots.pem.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init_ca.h"

#include "ca.h"
#include "fileio.h"
#include "safefile.h"

/*
 * The absolute form of path, which may not exist yet, into out
 * (RCA_MAX_PATH bytes): its parent resolved (it must exist), its last
 * component kept as given, so that a link there is seen (and refused)
 * rather than followed.  "." and ".." (and "/") are resolved whole.
 */
static int
abs_path(const char *path, char *out, struct err *e)
{
	char copy[RCA_MAX_PATH], parent[PATH_MAX], base[NAME_MAX + 1];
	const char *dir;

	if (strlen(path) >= sizeof(copy)) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(ENAMETOOLONG));
		return -1;
	}
	strcpy(copy, path);
	snprintf(base, sizeof(base), "%s", basename(copy));
	if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0 ||
	    strcmp(base, "/") == 0) {
		if (realpath(path, out) != NULL)
			return 0;
		if (errno == ENOENT)
			err_set(e, ERR_USAGE, "%s: not a folder name", path);
		else
			err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		return -1;
	}
	strcpy(copy, path);
	dir = dirname(copy);
	if (realpath(dir, parent) == NULL) {
		err_set(e, ERR_IO, "%s: %s", dir, strerror(errno));
		return -1;
	}
	return fio_path_join(out, RCA_MAX_PATH, parent, base, e);
}

/* Put "--root-out " before e's message. */
static void
root_out_said(struct err *e)
{
	char why[ERR_MSG_MAX];

	if (e == NULL)
		return;
	snprintf(why, sizeof(why), "%s", e->msg);
	err_set(e, e->code, "--root-out %s", why);
}

/*
 * The root's folder: outside the data folder, created 0700 when
 * missing, else a folder only its owner may write.  It is opened once
 * (never through a link: a link there is refused) and checked on that
 * descriptor, which is returned (close()); the root's files are then
 * created through it.
 */
static int
root_dir(const struct init_ca_req *r, struct init_ca_made *m,
    struct err *e)
{
	char data[PATH_MAX];
	struct stat st;
	int dfd;

	if (realpath(r->data, data) == NULL) {
		err_set(e, ERR_IO, "%s: %s", r->data, strerror(errno));
		return -1;
	}
	if (abs_path(r->root_out, m->root_dir, e) == -1)
		return -1;
	if (sf_path_inside(m->root_dir, data)) {
		err_set(e, ERR_USAGE, "--root-out %s is inside the data "
		    "folder %s: the root key must be kept apart (and "
		    "offline)", r->root_out, data);
		return -1;
	}
	if (mkdir(m->root_dir, 0700) == 0)
		m->made_root_dir = true;
	else if (errno != EEXIST) {
		err_set(e, ERR_IO, "--root-out %s: not a folder (%s)",
		    r->root_out, strerror(errno));
		return -1;
	}
	if ((dfd = sf_open_dir(m->root_dir, &st, e)) == -1) {
		char c;

		/* Refused already; readlink() only says why. */
		if (readlink(m->root_dir, &c, 1) >= 0)
			err_set(e, ERR_IO, "--root-out %s: a symbolic link, "
			    "not followed (give the folder itself)",
			    r->root_out);
		else
			root_out_said(e);
		return -1;
	}
	if ((st.st_mode & 022) != 0 || st.st_uid != geteuid()) {
		err_set(e, ERR_IO, "--root-out %s: must be owned by this user "
		    "and not writable by group or others (mode %04o)",
		    r->root_out, (unsigned)(st.st_mode & 07777));
		close(dfd);
		return -1;
	}
	return dfd;
}

/* A root CN from the CA's: "<cn> Root", at most 64 characters. */
static void
root_cn(const char *cn, char out[65])
{
	snprintf(out, 65, "%.59s Root", cn);
}

/*
 * The root in m->root_dir (open at dfd) and the issuing CA signed by
 * it.
 */
static int
make_root_and_ca(const struct init_ca_req *r, struct init_ca_made *m,
    int dfd, struct err *e)
{
	char cn[65], rkey[RCA_MAX_PATH], rcrt[RCA_MAX_PATH];
	struct ca_create_opts ro = { r->key_type, cn, 0, r->pass };
	struct ca_create_opts co = { r->key_type, r->cn, r->days, r->pass };
	struct ca_new n = { .cert_pem = NULL };
	int rc = -1;

	root_cn(r->cn, cn);
	if (fio_path_join(rkey, sizeof(rkey), m->root_dir, "root.key", e) ==
	    -1 || fio_path_join(rcrt, sizeof(rcrt), m->root_dir, "root.crt",
	    e) == -1)
		goto out;
	if (ca_create_root_at(dfd, m->root_dir, &ro, e) == -1) {
		/* "<root_dir>/root.key already exists" (or root.crt). */
		if (e != NULL && e->code == ERR_ALREADY_EXISTS) {
			char what[ERR_MSG_MAX];

			snprintf(what, sizeof(what), "%s", e->msg);
			err_set(e, ERR_ALREADY_EXISTS, "%s: refusing to "
			    "overwrite an existing root", what);
		}
		goto out;
	}
	m->made_root = true;
	if (ca_create_signed_to(r->files, rcrt, rkey, r->pass, &co, &n, e) ==
	    -1)
		goto out;
	rc = 0;
out:
	ca_new_clear(&n);
	return rc;
}

int
init_ca_two_tier(const struct init_ca_req *r, struct init_ca_made *m,
    struct err *e)
{
	struct ca_import_req ir = {
		.in_cert = r->imp_cert, .in_key = r->imp_key,
		.in_pass_file = r->imp_pass, .in_roots = r->imp_chain,
		.out_pass_file = r->pass,
	};

	int dfd, rc;

	memset(m, 0, sizeof(*m));
	if (r->imp_chain != NULL)
		return ca_import_chain_to(&ir, r->files, e);
	if ((dfd = root_dir(r, m, e)) == -1)
		return -1;
	rc = make_root_and_ca(r, m, dfd, e);
	close(dfd);
	return rc;
}

void
init_ca_rollback(const struct init_ca_made *m)
{
	char p[RCA_MAX_PATH + 16];

	if (m->made_root) {
		snprintf(p, sizeof(p), "%s/root.key", m->root_dir);
		(void)unlink(p);
		snprintf(p, sizeof(p), "%s/root.crt", m->root_dir);
		(void)unlink(p);
	}
	if (m->made_root_dir)
		(void)rmdir(m->root_dir);
}
