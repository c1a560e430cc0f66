/*
 * Opening, reading and replacing files relative to a folder descriptor
 * without ever following a link, with the checks made on the descriptor
 * (fstat) rather than on a name that may change in between.
 */
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "rca_limits.h"
#include "safefile.h"

/* Attempts at a fresh temporary name before giving up. */
#define SF_TMP_TRIES	16

bool
sf_name_ok(const char *name)
{
	return name != NULL && name[0] != '\0' && strchr(name, '/') == NULL &&
	    strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

bool
sf_path_inside(const char *path, const char *dir)
{
	size_t n;

	if (path == NULL || dir == NULL || path[0] != '/' || dir[0] != '/')
		return false;
	n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 1)		/* "/" holds every absolute path */
		return true;
	return strncmp(path, dir, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/');
}

/* Why st is refused under rules, or NULL when it is fine. */
static const char *
refusal(const struct stat *st, const struct sf_rules *rules, char *buf,
    size_t bufsz)
{
	if (S_ISLNK(st->st_mode))
		return "is a symbolic link";
	if (S_ISFIFO(st->st_mode))
		return "is a FIFO, not a regular file";
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
		return "is a device, not a regular file";
	if (S_ISDIR(st->st_mode))
		return "is a folder, not a regular file";
	if (!S_ISREG(st->st_mode))
		return "is not a regular file";
	if (rules == NULL)
		return NULL;
	if (rules->owner_set && st->st_uid != rules->uid) {
		snprintf(buf, bufsz, "is owned by uid %u, not by uid %u",
		    (unsigned)st->st_uid, (unsigned)rules->uid);
		return buf;
	}
	if ((st->st_mode & rules->forbid_mode) != 0) {
		snprintf(buf, bufsz, "mode %04o gives access to %s",
		    (unsigned)(st->st_mode & 07777),
		    (rules->forbid_mode & 070) != 0 ? "group or others" :
		    "others");
		return buf;
	}
	if (rules->max_links > 0 && st->st_nlink > rules->max_links) {
		snprintf(buf, bufsz, "has %lu links (hard links are not "
		    "allowed)", (unsigned long)st->st_nlink);
		return buf;
	}
	return NULL;
}

/* openat2 with RESOLVE_NO_SYMLINKS; -1 with errno (ENOSYS: none). */
static int
open_no_links(const char *path, int flags)
{
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = (unsigned long long)flags;
	how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
}

int
sf_open_dir(const char *path, struct stat *st, struct err *e)
{
	const int	 flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			    O_CLOEXEC;
	struct stat	 sb;
	char		 proc[64], *seen = NULL;
	ssize_t		 n;
	int		 fd, rc = -1;

	if (path == NULL || path[0] != '/') {
		err_set(e, ERR_IO, "%s: not an absolute path",
		    path != NULL ? path : "(null)");
		return -1;
	}
	fd = open_no_links(path, flags);
	if (fd == -1 && (errno == ENOSYS || errno == EPERM)) {
		/*
		 * No openat2 (old kernel, or a seccomp filter): open the
		 * last component without following it and ask the kernel
		 * which folder that is.
		 */
		if ((fd = open(path, flags)) == -1)
			goto fail;
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if ((seen = malloc(RCA_MAX_PATH)) == NULL ||
		    (n = readlink(proc, seen, RCA_MAX_PATH - 1)) == -1) {
			err_set(e, ERR_IO, "%s: cannot check the folder "
			    "opened", path);
			goto out;
		}
		seen[n] = '\0';
		if (strcmp(seen, path) != 0) {
			err_set(e, ERR_IO, "%s: a symbolic link is on the "
			    "way", path);
			goto out;
		}
	} else if (fd == -1)
		goto fail;
	if (fstat(fd, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
		err_set(e, ERR_IO, "%s: not a folder", path);
		goto out;
	}
	if (st != NULL)
		*st = sb;
	rc = 0;
	goto out;
fail:
	if (errno == ENOENT)
		err_set(e, ERR_NOT_FOUND, "%s: no such folder", path);
	else if (errno == ELOOP || errno == EXDEV)
		err_set(e, ERR_IO, "%s: a symbolic link is on the way", path);
	else if (errno == ENOTDIR)
		err_set(e, ERR_IO, "%s: not a folder", path);
	else
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
out:
	free(seen);
	if (rc == -1 && fd >= 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int
sf_open_at(int dirfd, const char *name, const struct sf_rules *rules,
    struct stat *st, struct err *e)
{
	struct stat	 sb;
	const char	*why;
	char		 buf[96];
	int		 fd;

	if (!sf_name_ok(name)) {
		err_set(e, ERR_IO, "\"%.64s\": not a plain file name",
		    name != NULL ? name : "");
		return -1;
	}
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		if (errno == ENOENT)
			err_set(e, ERR_NOT_FOUND, "%s: no such file", name);
		else if (errno == ELOOP)
			err_set(e, ERR_IO, "%s: is a symbolic link", name);
		else
			err_set(e, ERR_IO, "%s: %s", name, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1) {
		err_set(e, ERR_IO, "%s: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	if ((why = refusal(&sb, rules, buf, sizeof(buf))) != NULL) {
		err_set(e, ERR_IO, "%s: %s", name, why);
		close(fd);
		return -1;
	}
	if (st != NULL)
		*st = sb;
	return fd;
}

int
sf_read_at(int dirfd, const char *name, const struct sf_rules *rules,
    size_t max, char **out, size_t *len, struct stat *st, struct err *e)
{
	struct stat	 sb;
	int		 fd, rc = -1;

	*out = NULL;
	if (len != NULL)
		*len = 0;
	if ((fd = sf_open_at(dirfd, name, rules, &sb, e)) == -1)
		return -1;
	if (sb.st_size < 0 || (size_t)sb.st_size > max) {
		err_set(e, ERR_IO, "%s: larger than %zu bytes", name, max);
		goto out;
	}
	/* fio_read_fd() also refuses a file that grew meanwhile. */
	if (fio_read_fd(fd, name, max, out, len, e) == -1)
		goto out;
	if (st != NULL)
		*st = sb;
	rc = 0;
out:
	close(fd);
	return rc;
}

int
sf_read_path(const char *path, const struct sf_rules *rules, size_t max,
    char **out, size_t *len, struct err *e)
{
	char		 dir[RCA_MAX_PATH];
	const char	*slash;
	int		 dfd, rc;

	*out = NULL;
	if (len != NULL)
		*len = 0;
	slash = path != NULL ? strrchr(path, '/') : NULL;
	if (path == NULL || path[0] != '/' || slash[1] == '\0' ||
	    (size_t)(slash - path) >= sizeof(dir)) {
		err_set(e, ERR_INVALID_REQUEST, "%s: not an absolute path "
		    "to a file", path != NULL ? path : "(null)");
		return -1;
	}
	if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	}
	if ((dfd = sf_open_dir(dir, NULL, e)) == -1)
		return -1;
	rc = sf_read_at(dfd, slash + 1, rules, max, out, len, NULL, e);
	close(dfd);
	return rc;
}

/* Create ".<name>.XXXXXXXX" exclusively in dirfd; tmp gets its name. */
static int
make_temp(int dirfd, const char *name, char *tmp, size_t tmpsz)
{
	for (int i = 0; i < SF_TMP_TRIES; i++) {
		unsigned int	r;
		int		fd;

		if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
			return -1;
		if (snprintf(tmp, tmpsz, ".%s.%08x", name, r) >= (int)tmpsz) {
			errno = ENAMETOOLONG;
			return -1;
		}
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	errno = EEXIST;
	return -1;
}

int
sf_replace_at(int dirfd, const char *name, const void *buf, size_t len,
    mode_t mode, uid_t uid, gid_t gid, struct err *e)
{
	char	tmp[NAME_MAX + 1];
	int	fd, rc = -1;
	bool	made = false;

	if (!sf_name_ok(name)) {
		err_set(e, ERR_IO, "\"%.64s\": not a plain file name",
		    name != NULL ? name : "");
		return -1;
	}
	if ((fd = make_temp(dirfd, name, tmp, sizeof(tmp))) == -1) {
		err_set(e, ERR_IO, "%s: cannot create a temporary file: %s",
		    name, strerror(errno));
		return -1;
	}
	made = true;
	if (fio_write_all(fd, buf, len) == -1 ||
	    ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    fchown(fd, uid, gid) == -1) ||
	    fchmod(fd, mode) == -1 || fsync(fd) == -1) {
		err_set(e, ERR_IO, "%s: %s", name, strerror(errno));
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		err_set(e, ERR_IO, "%s: %s", name, strerror(errno));
		goto out;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) == -1) {
		err_set(e, ERR_IO, "%s: %s", name, strerror(errno));
		goto out;
	}
	made = false;
	(void)fsync(dirfd);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (made)
		(void)unlinkat(dirfd, tmp, 0);
	return rc;
}

int
sf_check_path(const char *path, const struct sf_rules *rules, struct err *e)
{
	struct stat	 sb;
	const char	*why;
	char		 buf[96];
	int		 fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
	    O_NOCTTY);
	if (fd == -1) {
		if (errno == ENOENT)
			err_set(e, ERR_NOT_FOUND, "%s: no such file", path);
		else if (errno == ELOOP)
			err_set(e, ERR_IO, "%s: is a symbolic link", path);
		else
			err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	why = refusal(&sb, rules, buf, sizeof(buf));
	close(fd);
	if (why != NULL) {
		err_set(e, ERR_IO, "%s: %s", path, why);
		return -1;
	}
	return 0;
}
