/*
 * Enroll's output folder: the atomic install of a key and certificate,
 * recovery after a crash, the state file on disk and the folder lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "enroll.h"
#include "enroll_int.h"
#include "fileio.h"
#include "log.h"

const char *const enroll_out_names[OUT__MAX] = {
	[OUT_KEY] = "key.pem",
	[OUT_CHAIN] = "chain.pem",
	[OUT_STATE] = "enroll.json",
	[OUT_CERT] = "cert.pem",
};

static const mode_t out_modes[OUT__MAX] = {
	[OUT_KEY] = 0400,
	[OUT_CHAIN] = 0444,
	[OUT_STATE] = 0644,
	[OUT_CERT] = 0444,
};

int
enroll_out_path(char *buf, size_t sz, const char *dir, const char *name,
    const char *suffix, struct err *e)
{
	if (snprintf(buf, sz, "%s/%s%s", dir, name, suffix) >= (int)sz) {
		err_set(e, ERR_IO, "%s: path too long", dir);
		return -1;
	}
	return 0;
}

static void
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

int
enroll_lock_dir(const char *dir, struct err *e)
{
	char path[RCA_MAX_PATH];
	int fd;

	if (enroll_out_path(path, sizeof(path), dir, "enroll.lock", "",
	    e) == -1)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		err_set(e, errno == EWOULDBLOCK ? ERR_CONFLICT : ERR_IO,
		    "%s is in use by another redis-ca enroll", dir);
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Finish or undo a replacement a crash interrupted.  cert.pem.next
 * exists only once every .next file is complete, so when it is there
 * the new set is moved into place; otherwise the partial set is removed
 * and the previous files stay.
 */
int
enroll_recover_files(const char *dir, struct err *e)
{
	char next[RCA_MAX_PATH], path[RCA_MAX_PATH];
	bool commit;
	int i;

	if (enroll_out_path(next, sizeof(next), dir,
	    enroll_out_names[OUT_CERT], ".next", e) == -1)
		return -1;
	commit = access(next, F_OK) == 0;
	for (i = 0; i < OUT__MAX; i++) {
		if (enroll_out_path(next, sizeof(next), dir,
		    enroll_out_names[i], ".next", e) == -1 ||
		    enroll_out_path(path, sizeof(path), dir,
		    enroll_out_names[i], "", e) == -1)
			return -1;
		if (access(next, F_OK) != 0)
			continue;
		if (commit) {
			if (rename(next, path) == -1) {
				err_set(e, ERR_IO, "%s: %s", path,
				    strerror(errno));
				return -1;
			}
			log_info("enroll: completed an interrupted update "
			    "of %s", path);
		} else
			(void)unlink(next);
	}
	fsync_dir(dir);
	return 0;
}

int
enroll_ensure_dir(const char *dir, struct err *e)
{
	struct stat st;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		err_set(e, ERR_IO, "cannot create %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		err_set(e, ERR_IO, "%s is not a folder", dir);
		return -1;
	}
	return 0;
}

/*
 * Install a new key and certificate in dir.  ca.pem is replaced first
 * (it only ever gains trust of the same CA).  Then each of key, chain,
 * state and cert is written completely as NAME.next (temp, fsync,
 * rename: fio_write_atomic), cert last, and the .next files are renamed
 * into place in the same order; enroll_recover_files() finishes the
 * job after a crash, so key.pem and cert.pem always end up a matching
 * pair.
 */
int
enroll_install_files(const char *dir, const char *key_pem,
    const struct enroll_cert *c, struct err *e)
{
	char next[RCA_MAX_PATH], path[RCA_MAX_PATH];
	const char *content[OUT__MAX];
	char *state = NULL;
	int i, rc = -1;

	if ((state = enroll_state_encode(c)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	content[OUT_KEY] = key_pem;
	content[OUT_CHAIN] = c->chain_pem;
	content[OUT_STATE] = state;
	content[OUT_CERT] = c->cert_pem;
	if (enroll_ensure_dir(dir, e) == -1 ||
	    enroll_recover_files(dir, e) == -1)
		goto out;
	if (enroll_out_path(path, sizeof(path), dir, "ca.pem", "", e) == -1 ||
	    fio_write_atomic(path, c->ca_pem, strlen(c->ca_pem), 0444, e) ==
	    -1)
		goto out;
	for (i = 0; i < OUT__MAX; i++)
		if (enroll_out_path(next, sizeof(next), dir,
		    enroll_out_names[i], ".next", e) == -1 ||
		    fio_write_atomic(next, content[i], strlen(content[i]),
		    out_modes[i], e) == -1)
			goto out;
	for (i = 0; i < OUT__MAX; i++) {
		if (enroll_out_path(next, sizeof(next), dir,
		    enroll_out_names[i], ".next", e) == -1 ||
		    enroll_out_path(path, sizeof(path), dir,
		    enroll_out_names[i], "", e) == -1)
			goto out;
		if (rename(next, path) == -1) {
			err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
			goto out;
		}
	}
	fsync_dir(dir);
	rc = 0;
out:
	if (rc == -1) {
		/* Leave no half set behind unless it is already committed. */
		struct err ignore = { ERR_OK, "" };

		(void)enroll_recover_files(dir, &ignore);
	}
	free(state);
	return rc;
}

/* dir's file f must be readable.  Errors: ERR_NOT_FOUND, ERR_IO. */
static int
out_readable(const char *dir, enum out_file f, struct err *e)
{
	char path[RCA_MAX_PATH];

	if (enroll_out_path(path, sizeof(path), dir, enroll_out_names[f], "",
	    e) == -1)
		return -1;
	if (access(path, R_OK) != 0) {
		err_set(e, ERR_NOT_FOUND, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
enroll_load_state(const char *dir, struct enroll_cert *c, struct err *e)
{
	char path[RCA_MAX_PATH];
	char *buf = NULL;
	size_t len;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	if (enroll_out_path(path, sizeof(path), dir,
	    enroll_out_names[OUT_STATE], "", e) == -1 ||
	    fio_read_all(path, RCA_MAX_PEM_BYTES, &buf, &len, e) == -1)
		goto out;
	if (enroll_state_parse(buf, len, c, e) == -1 ||
	    out_readable(dir, OUT_CERT, e) == -1 ||
	    out_readable(dir, OUT_KEY, e) == -1)
		goto out;
	rc = 0;
out:
	free(buf);
	if (rc == -1)
		enroll_cert_clear(c);
	return rc;
}

int
enroll_trust_pem(const struct enroll_opts *o, char **pem, size_t *len,
    struct err *e)
{
	char path[RCA_MAX_PATH];
	char *cacert = NULL, *bundle = NULL, *out = NULL;
	size_t clen = 0, blen = 0;
	struct err be = { ERR_OK, "" };
	int rc = -1;

	*pem = NULL;
	*len = 0;
	if (fio_read_all(o->cacert, RCA_MAX_PEM_BYTES, &cacert, &clen,
	    &be) == -1) {
		err_set(e, ERR_IO, "cannot use --cacert %s", be.msg);
		goto out;
	}
	/* No ca.pem yet (first enrollment), or unreadable: --cacert only. */
	if (enroll_out_path(path, sizeof(path), o->out, "ca.pem", "",
	    e) == -1)
		goto out;
	if (fio_read_all(path, RCA_MAX_PEM_BYTES, &bundle, &blen, &be) == -1 &&
	    be.code != ERR_NOT_FOUND)
		log_warn("enroll: %s is not used as a trust: %s", path,
		    be.msg);
	if ((out = malloc(clen + 1 + blen + 1)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	memcpy(out, cacert, clen);
	out[clen] = '\n';
	if (blen > 0)
		memcpy(out + clen + 1, bundle, blen);
	out[clen + 1 + blen] = '\0';
	*len = clen + 1 + blen;
	*pem = out;
	out = NULL;
	rc = 0;
out:
	free(cacert);
	free(bundle);
	free(out);
	return rc;
}
