/*
 * Files in folders someone else may write to (a node's cert_dir, a
 * password file) and the service's own secrets: every file is opened
 * with O_NOFOLLOW|O_NONBLOCK relative to a folder descriptor and checked
 * on the descriptor with fstat, so the file checked is the file read;
 * replacements are created O_EXCL beside the target through the same
 * folder descriptor and renamed over it.  Nothing here follows a link.
 */
#ifndef RCA_SAFEFILE_H
#define RCA_SAFEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "err.h"

/* What a file must be besides a regular file (zero: no more checks). */
struct sf_rules {
	bool	owner_set;	/* owner must be uid */
	uid_t	uid;
	mode_t	forbid_mode;	/* mode bits that must be clear */
	nlink_t	max_links;	/* at most this many links; 0: any */
};

/*
 * True when name is a plain file name: not empty, no '/', not "." or
 * "..".
 */
bool	sf_name_ok(const char *name);

/*
 * True when path (absolute, resolved) is dir or inside it; both are
 * compared as text, so both must be free of links, "." and "..".
 */
bool	sf_path_inside(const char *path, const char *dir);

/*
 * Open the folder path (absolute, resolved: no link in any component,
 * no "." or "..") as a directory descriptor.  A link anywhere on the way
 * is refused (openat2 RESOLVE_NO_SYMLINKS; where the kernel lacks it,
 * O_NOFOLLOW and a check through /proc/self/fd that the folder opened
 * is the one named).  *st (may be NULL) gets its fstat.  Returns the
 * descriptor (close()), or -1.  Errors: ERR_NOT_FOUND (ENOENT), ERR_IO.
 */
int	sf_open_dir(const char *path, struct stat *st, struct err *e);

/*
 * Open name (a plain name) in folder dirfd for reading, with
 * O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC|O_NOCTTY, and check the descriptor:
 * a regular file that follows rules (NULL: none).  *st (may be NULL)
 * gets its fstat.  Returns the descriptor, or -1.  Errors: ERR_NOT_FOUND
 * (no such file), ERR_IO (a link, FIFO, device, folder, wrong owner,
 * mode or link count; the message names the file and the reason).
 */
int	sf_open_at(int dirfd, const char *name, const struct sf_rules *rules,
	    struct stat *st, struct err *e);

/*
 * sf_open_at() and read the whole file, at most max bytes (more is
 * ERR_IO).  *out is new (free(); wipe it if secret), NUL-terminated, the
 * NUL not counted in *len.  *st (may be NULL) gets the fstat of the
 * descriptor read.  Errors: those of sf_open_at(), ERR_IO.
 */
int	sf_read_at(int dirfd, const char *name, const struct sf_rules *rules,
	    size_t max, char **out, size_t *len, struct stat *st,
	    struct err *e);

/*
 * sf_read_at() of an absolute path: its folder opened with sf_open_dir()
 * (no link on the way), then its last component read from there.
 * Errors: ERR_INVALID_REQUEST (not absolute, ends in '/', too long),
 * those of sf_open_dir() and sf_read_at().
 */
int	sf_read_path(const char *path, const struct sf_rules *rules,
	    size_t max, char **out, size_t *len, struct err *e);

/*
 * Atomically replace (or create) name in folder dirfd with len bytes of
 * buf: a temporary file created O_EXCL|O_NOFOLLOW in the same folder
 * through dirfd, written, given uid/gid when they are not -1 (fchown on
 * the descriptor created here), fchmod mode, fsync, renameat over name
 * (a link there is replaced, never followed), fsync of the folder; the
 * temporary file is unlinked on failure.  Errors: ERR_IO.
 */
int	sf_replace_at(int dirfd, const char *name, const void *buf,
	    size_t len, mode_t mode, uid_t uid, gid_t gid, struct err *e);

/*
 * Check path (absolute) on an O_NOFOLLOW descriptor: a regular file
 * that follows rules.  Errors: ERR_NOT_FOUND, ERR_IO naming the path.
 */
int	sf_check_path(const char *path, const struct sf_rules *rules,
	    struct err *e);

#endif
