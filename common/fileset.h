/*
 * A set of files in one folder replaced together, with backup and
 * restore: each file's previous content is kept (in memory and as
 * "<name>.prev" beside it) before the new one goes in, so that a change
 * that fails halfway can put every file back.  All through one folder
 * descriptor and common/safefile: nothing here follows a link.
 */
#ifndef RCA_FILESET_H
#define RCA_FILESET_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* Files in one set, at most. */
#define FSET_MAX	4

struct fset {
	int		 dirfd;		/* owned; -1: not open */
	size_t		 n;
	uid_t		 uid;		/* owner of the live files */
	gid_t		 gid;		/* (-1: ours) */
	struct fset_file {
		const char	*name;	/* borrowed: a plain name */
		mode_t		 mode;
		char		 prev[NAME_MAX + 1];	/* name.prev */
		char		*old;	/* owned, wiped; NULL: none */
		size_t		 oldlen;
		bool		 touched; /* may differ from old */
	}		 f[FSET_MAX];
};

/* Start fs empty, with no folder open. */
void	fset_init(struct fset *fs);

/*
 * Add name (a plain file name, borrowed for fs's life) with the mode
 * its new and backup content get.  Errors: ERR_INVALID_REQUEST (not a
 * plain name, name.prev too long, more than FSET_MAX files).
 */
int	fset_add(struct fset *fs, const char *name, mode_t mode,
	    struct err *e);

/*
 * Replace the files of fs, in the order added, in the folder dirfd
 * (stolen: fset_clear() closes it), with content[i] (NUL-terminated).
 * For each file: read its current content through a descriptor that
 * was checked (a regular file with one link, opened without following
 * a link; a missing file is fine, anything else fails), write it to
 * name.prev with our own owner and the file's mode, then replace the
 * file (sf_replace_at()) with owner uid/gid (-1: ours).  Stops at the
 * first failure; fset_restore() undoes what was done.  Errors: ERR_IO.
 */
int	fset_replace(struct fset *fs, int dirfd, const char *const content[],
	    uid_t uid, gid_t gid, struct err *e);

/*
 * Put back every file fset_replace() touched: its previous content with
 * the same mode and owner, or no file where there was none.  Stops at
 * the first failure.  Errors: ERR_IO.
 */
int	fset_restore(struct fset *fs, struct err *e);

/* Wipe and free the kept contents and close the folder. */
void	fset_clear(struct fset *fs);

#endif
