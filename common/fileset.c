/*
 * A set of files in one folder replaced together, with backup and
 * restore (see fileset.h): the writes and the rollback of a node
 * rotation's key, certificate and CA files.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "fileset.h"
#include "rca_limits.h"
#include "safefile.h"

void
fset_init(struct fset *fs)
{
	memset(fs, 0, sizeof(*fs));
	fs->dirfd = -1;
	fs->uid = (uid_t)-1;
	fs->gid = (gid_t)-1;
}

int
fset_add(struct fset *fs, const char *name, mode_t mode, struct err *e)
{
	struct fset_file *f;

	if (fs->n >= FSET_MAX) {
		err_set(e, ERR_INVALID_REQUEST, "at most %d files in a set",
		    FSET_MAX);
		return -1;
	}
	if (!sf_name_ok(name)) {
		err_set(e, ERR_INVALID_REQUEST, "not a plain file name");
		return -1;
	}
	f = &fs->f[fs->n];
	if (snprintf(f->prev, sizeof(f->prev), "%s.prev", name) >=
	    (int)sizeof(f->prev)) {
		err_set(e, ERR_INVALID_REQUEST, "file name too long");
		f->prev[0] = '\0';
		return -1;
	}
	f->name = name;
	f->mode = mode;
	fs->n++;
	return 0;
}

/*
 * Remember f's current content, read through the descriptor that was
 * checked: a regular file with one link, opened without following a
 * link.  A link, FIFO, device or hard link there fails; nothing it
 * points to is ever read.  No file: nothing to keep.
 */
static int
keep_old(struct fset *fs, struct fset_file *f, struct err *e)
{
	struct sf_rules	rules;
	struct err	le;

	memset(&rules, 0, sizeof(rules));
	rules.max_links = 1;
	err_clear(&le);
	if (sf_read_at(fs->dirfd, f->name, &rules, RCA_MAX_KEY_FILE_BYTES,
	    &f->old, &f->oldlen, NULL, &le) == -1) {
		if (le.code == ERR_NOT_FOUND)
			return 0;
		err_set(e, ERR_IO, "%s", le.msg);
		return -1;
	}
	return 0;
}

int
fset_replace(struct fset *fs, int dirfd, const char *const content[],
    uid_t uid, gid_t gid, struct err *e)
{
	fs->dirfd = dirfd;
	fs->uid = uid;
	fs->gid = gid;
	for (size_t i = 0; i < fs->n; i++) {
		struct fset_file *f = &fs->f[i];

		if (keep_old(fs, f, e) == -1)
			return -1;
		/* Backups get our own owner, never another file's. */
		if (f->old != NULL && sf_replace_at(fs->dirfd, f->prev,
		    f->old, f->oldlen, f->mode, (uid_t)-1, (gid_t)-1,
		    e) == -1)
			return -1;
		/* From here the file may hold the new content. */
		f->touched = true;
		if (sf_replace_at(fs->dirfd, f->name, content[i],
		    strlen(content[i]), f->mode, fs->uid, fs->gid, e) == -1)
			return -1;
	}
	return 0;
}

int
fset_restore(struct fset *fs, struct err *e)
{
	for (size_t i = 0; i < fs->n; i++) {
		struct fset_file *f = &fs->f[i];

		/* Only files written through fs->dirfd were touched. */
		if (!f->touched || fs->dirfd < 0)
			continue;
		if (f->old == NULL) {
			if (unlinkat(fs->dirfd, f->name, 0) == -1 &&
			    errno != ENOENT) {
				err_set(e, ERR_IO, "%s: %s", f->name,
				    strerror(errno));
				return -1;
			}
			continue;
		}
		if (sf_replace_at(fs->dirfd, f->name, f->old, f->oldlen,
		    f->mode, fs->uid, fs->gid, e) == -1)
			return -1;
	}
	return 0;
}

void
fset_clear(struct fset *fs)
{
	if (fs == NULL)
		return;
	for (size_t i = 0; i < fs->n; i++)
		if (fs->f[i].old != NULL) {
			fio_wipe(fs->f[i].old, fs->f[i].oldlen);
			free(fs->f[i].old);
		}
	if (fs->dirfd >= 0)
		close(fs->dirfd);
	fset_init(fs);
}
