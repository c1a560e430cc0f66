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
 * The absolute, resolved form of path, which may not exist yet (its
 * parent must): into out (RCA_MAX_PATH bytes).
 */
static int
abs_path(const char *path, char *out, struct err *e)
{
	char copy[RCA_MAX_PATH], parent[PATH_MAX];
	char *dir, *base;

	if (realpath(path, out) != NULL)
		return 0;
	if (errno != ENOENT || strlen(path) >= sizeof(copy)) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		return -1;
	}
	strcpy(copy, path);
	base = basename(copy);
	if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0 ||
	    strcmp(base, "/") == 0) {
		err_set(e, ERR_USAGE, "%s: not a folder name", path);
		return -1;
	}
	base = strdup(base);
	strcpy(copy, path);
	dir = dirname(copy);
	if (base == NULL || realpath(dir, parent) == NULL) {
		err_set(e, ERR_IO, "%s: %s", dir, base == NULL ?
		    "out of memory" : strerror(errno));
		free(base);
		return -1;
	}
	if (fio_path_join(out, RCA_MAX_PATH, parent, base, e) == -1) {
		free(base);
		return -1;
	}
	free(base);
	return 0;
}

/*
 * The root's folder: outside the data folder, created 0700 when
 * missing, else a folder only its owner may write, without a root.key.
 */
static int
root_dir(const struct init_ca_req *r, struct init_ca_made *m,
    struct err *e)
{
	char data[PATH_MAX], key[RCA_MAX_PATH];
	struct stat st;

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
	if (mkdir(m->root_dir, 0700) == 0) {
		m->made_root_dir = true;
		return 0;
	}
	if (errno != EEXIST || lstat(m->root_dir, &st) == -1 ||
	    !S_ISDIR(st.st_mode)) {
		err_set(e, ERR_IO, "--root-out %s: not a folder (%s)",
		    r->root_out, strerror(errno));
		return -1;
	}
	if ((st.st_mode & 022) != 0 || st.st_uid != geteuid()) {
		err_set(e, ERR_IO, "--root-out %s: must be owned by this user "
		    "and not writable by group or others (mode %04o)",
		    r->root_out, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (fio_path_join(key, sizeof(key), m->root_dir, "root.key", e) ==
	    -1)
		return -1;
	if (lstat(key, &st) == 0) {
		err_set(e, ERR_ALREADY_EXISTS, "%s already exists: refusing "
		    "to overwrite an existing root", key);
		return -1;
	}
	return 0;
}

/* A root CN from the CA's: "<cn> Root", at most 64 characters. */
static void
root_cn(const char *cn, char out[65])
{
	snprintf(out, 65, "%.59s Root", cn);
}

/* The root in m->root_dir and the issuing CA signed by it. */
static int
make_root_and_ca(const struct init_ca_req *r, struct init_ca_made *m,
    struct err *e)
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
	if (ca_create_root(m->root_dir, &ro, e) == -1)
		goto out;
	m->made_root = true;
	if (ca_create_signed(r->key_path, rcrt, rkey, r->pass, &co, &n, e) ==
	    -1)
		goto out;
	if (fio_write_excl(r->cert_path, n.cert_pem, strlen(n.cert_pem),
	    0444, e) == -1 || fio_write_excl(r->roots_path, n.anchors_pem,
	    strlen(n.anchors_pem), 0444, e) == -1)
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
		.cert_path = r->cert_path, .key_path = r->key_path,
		.roots_path = r->roots_path, .out_pass_file = r->pass,
	};

	memset(m, 0, sizeof(*m));
	if (r->imp_chain != NULL)
		return ca_import_chain_files(&ir, e);
	if (root_dir(r, m, e) == -1)
		return -1;
	return make_root_and_ca(r, m, e);
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
