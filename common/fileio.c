/* Atomic file replacement and bounded reads. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

int
fio_write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsync the folder holding path so a rename survives a crash. */
static void
fsync_parent(const char *path)
{
	char tmp[(RCA_MAX_PATH + 16)];
	int fd;

	if (strlen(path) >= sizeof(tmp))
		return;
	strcpy(tmp, path);
	fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

int
fio_write_atomic(const char *path, const void *buf, size_t len, mode_t mode,
    struct err *e)
{
	char tmp[(RCA_MAX_PATH + 16)];
	int fd = -1, rc = -1;
	mode_t old;

	if (snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >=
	    (int)sizeof(tmp)) {
		err_set(e, ERR_IO, "%s: path too long", path);
		return -1;
	}
	old = umask(077);
	fd = mkstemp(tmp);
	umask(old);
	if (fd < 0) {
		err_set(e, ERR_IO, "%s: cannot create temporary file: %s",
		    path, strerror(errno));
		return -1;
	}
	if (fio_write_all(fd, buf, len) == -1 || fsync(fd) == -1 ||
	    fchmod(fd, mode) == -1) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	fsync_parent(path);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc == -1)
		unlink(tmp);
	return rc;
}

int
fio_write_excl(const char *path, const void *buf, size_t len, mode_t mode,
    struct err *e)
{
	struct fio_resv r = FIO_RESV_INIT;
	int rc;

	if (fio_reserve(&r, AT_FDCWD, path, path, e) == -1)
		return -1;
	rc = fio_resv_write(&r, buf, len, mode, e);
	fio_resv_release(&r, rc == 0);
	return rc;
}

int
fio_reserve(struct fio_resv *r, int dirfd, const char *name,
    const char *shown, struct err *e)
{
	r->dirfd = dirfd;
	r->name = name;
	r->shown = shown != NULL ? shown : name;
	r->made = false;
	r->fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (r->fd < 0) {
		if (errno == EEXIST)
			err_set(e, ERR_ALREADY_EXISTS, "%s already exists",
			    r->shown);
		else
			err_set(e, ERR_IO, "%s: %s", r->shown,
			    strerror(errno));
		return -1;
	}
	r->made = true;
	return 0;
}

int
fio_resv_write(struct fio_resv *r, const void *buf, size_t len,
    mode_t mode, struct err *e)
{
	int fd = r->fd;

	r->fd = -1;
	if (fd < 0) {
		err_set(e, ERR_IO, "%s: not reserved for writing", r->shown);
		return -1;
	}
	if (fchmod(fd, mode) == -1 || fio_write_all(fd, buf, len) == -1 ||
	    fsync(fd) == -1) {
		err_set(e, ERR_IO, "%s: %s", r->shown, strerror(errno));
		close(fd);
		return -1;
	}
	if (close(fd) == -1) {
		err_set(e, ERR_IO, "%s: %s", r->shown, strerror(errno));
		return -1;
	}
	if (r->dirfd == AT_FDCWD)
		fsync_parent(r->name);
	else
		(void)fsync(r->dirfd);
	return 0;
}

void
fio_resv_release(struct fio_resv *r, bool keep)
{
	if (r->fd >= 0)
		close(r->fd);
	if (r->made && !keep)
		(void)unlinkat(r->dirfd, r->name, 0);
	r->fd = -1;
	r->made = false;
}

int
fio_read_fd(int fd, const char *name, size_t max, char **out, size_t *len,
    struct err *e)
{
	char *buf = NULL;
	size_t have = 0, cap = 0;
	int rc = -1;

	*out = NULL;
	if (len != NULL)
		*len = 0;
	for (;;) {
		ssize_t n;

		if (have + 1 >= cap) {
			size_t ncap = cap == 0 ? 4096 : cap * 2;
			char *p;

			/* One byte more than allowed tells an oversize file. */
			if (ncap > max + 2)
				ncap = max + 2;
			if (ncap <= have + 1) {
				err_set(e, ERR_IO, "%s: larger than %zu bytes",
				    name, max);
				goto out;
			}
			if ((p = realloc(buf, ncap)) == NULL) {
				err_set(e, ERR_IO, "%s: out of memory", name);
				goto out;
			}
			buf = p;
			cap = ncap;
		}
		n = read(fd, buf + have, cap - have - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err_set(e, ERR_IO, "%s: %s", name, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		if (have > max) {
			err_set(e, ERR_IO, "%s: larger than %zu bytes", name,
			    max);
			goto out;
		}
	}
	if (buf == NULL && (buf = malloc(1)) == NULL) {
		err_set(e, ERR_IO, "%s: out of memory", name);
		goto out;
	}
	buf[have] = '\0';
	*out = buf;
	buf = NULL;
	if (len != NULL)
		*len = have;
	rc = 0;
out:
	fio_secret_free(buf, cap);
	return rc;
}

int
fio_read_all(const char *path, size_t max, char **out, size_t *len,
    struct err *e)
{
	int fd, rc;

	*out = NULL;
	if (len != NULL)
		*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_set(e, errno == ENOENT ? ERR_NOT_FOUND : ERR_IO, "%s: %s",
		    path, strerror(errno));
		return -1;
	}
	rc = fio_read_fd(fd, path, max, out, len, e);
	close(fd);
	return rc;
}

int
fio_path_join(char *out, size_t outsz, const char *dir, const char *name,
    struct err *e)
{
	int n;

	if (name[0] == '/' || dir == NULL || dir[0] == '\0')
		n = snprintf(out, outsz, "%s", name);
	else
		n = snprintf(out, outsz, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= outsz) {
		err_set(e, ERR_INVALID_REQUEST, "path too long: %s", name);
		return -1;
	}
	return 0;
}

void
fio_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n-- > 0)
		*v++ = 0;
}

void
fio_secret_free(void *p, size_t n)
{
	if (p == NULL)
		return;
	fio_wipe(p, n);
	free(p);
}

void
fio_secret_free_str(char *s)
{
	if (s != NULL)
		fio_secret_free(s, strlen(s));
}
