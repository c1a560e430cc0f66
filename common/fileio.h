/*
 * Files are replaced, never rewritten: temp file beside the target,
 * write, fsync, fchmod, rename, fsync the folder; the temp file is
 * unlinked on failure.
 */
#ifndef RCA_FILEIO_H
#define RCA_FILEIO_H

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
