/*
 * Files are replaced, never rewritten: temp file beside the target,
 * write, fsync, fchmod, rename, fsync the folder; the temp file is
 * unlinked on failure.
 */
#ifndef RCA_FILEIO_H
#define RCA_FILEIO_H

#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"
#include "rca_limits.h"

/*
 * Atomically replace (or create) path with len bytes of buf, mode mode.
 * Errors: ERR_IO (message names the path and errno text).
 */
int	fio_write_atomic(const char *path, const void *buf, size_t len,
	    mode_t mode, struct err *e);

/*
 * Create path exclusively (O_EXCL|O_NOFOLLOW) with mode mode and write
 * buf to it, fsynced.  Fails with ERR_ALREADY_EXISTS if path exists, so
 * a key is never overwritten.  Errors: ERR_IO, ERR_ALREADY_EXISTS.
 */
int	fio_write_excl(const char *path, const void *buf, size_t len,
	    mode_t mode, struct err *e);

/*
 * A file reserved: created exclusively before its content exists, so
 * that "it is already there" is known before any work is done, from the
 * create that refuses it (no name is checked first), and the name is
 * ours until the file is written or removed.
 */
struct fio_resv {
	int		 dirfd;	/* borrowed; AT_FDCWD: a path */
	const char	*name;	/* borrowed: relative to dirfd */
	const char	*shown;	/* borrowed: named in messages */
	int		 fd;	/* -1 once written or released */
	bool		 made;	/* ours: release may remove it */
};

#define FIO_RESV_INIT	{ AT_FDCWD, NULL, NULL, -1, false }

/*
 * Create name in folder dirfd (AT_FDCWD: name is a path) with
 * O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600 until written, and keep it open
 * in *r.  A link there, even a dangling one, is refused, never
 * followed.  shown (NULL: name) is the path messages name; name and
 * shown are borrowed for r's life.  Errors: ERR_ALREADY_EXISTS
 * ("<shown> already exists"), ERR_IO.
 */
int	fio_reserve(struct fio_resv *r, int dirfd, const char *name,
	    const char *shown, struct err *e);

/*
 * Write len bytes of buf into the reserved file, fchmod mode, fsync,
 * close, fsync the folder.  The file stays r's to release.
 * Errors: ERR_IO naming the path.
 */
int	fio_resv_write(struct fio_resv *r, const void *buf, size_t len,
	    mode_t mode, struct err *e);

/*
 * Close r's file if still open and, unless keep, remove it (it was
 * made by fio_reserve()).  Then r holds nothing; a FIO_RESV_INIT or
 * released r is fine.
 */
void	fio_resv_release(struct fio_resv *r, bool keep);

/*
 * Write all of buf to fd, again after EINTR.  Returns 0, or -1 with
 * errno set.
 */
int	fio_write_all(int fd, const void *buf, size_t len);

/*
 * Read fd to its end, at most max bytes, into *out (new, NUL-terminated;
 * wipe and free()); *len (may be NULL) gets the length.  name is for
 * messages only.  Errors: ERR_IO ("larger than max", read errors, out
 * of memory); a failure wipes what was read.
 */
int	fio_read_fd(int fd, const char *name, size_t max, char **out,
	    size_t *len, struct err *e);

/*
 * Read the whole of path, at most max bytes (more is ERR_IO "too large").
 * *out is new (free with free(); NUL-terminated for convenience, the NUL
 * not counted in *len).  Errors: ERR_IO, ERR_NOT_FOUND (ENOENT).
 */
int	fio_read_all(const char *path, size_t max, char **out, size_t *len,
	    struct err *e);

/*
 * Join dir and name into out (size outsz); a name that is absolute is
 * copied as is.  Errors: ERR_INVALID_REQUEST when it does not fit.
 */
int	fio_path_join(char *out, size_t outsz, const char *dir,
	    const char *name, struct err *e);

/*
 * fio_wipe() the n bytes at p, then free(p); p may be NULL.  For a
 * secret whose length is its strlen(), fio_secret_free_str().
 */
void	fio_secret_free(void *p, size_t n);
void	fio_secret_free_str(char *s);

/* Overwrite n bytes at p with zeros in a way the compiler keeps. */
void	fio_wipe(void *p, size_t n);

#endif
