/*
 * Tests of common/fileset.c: a set of files replaced together keeps the
 * previous ones (in memory and as name.prev, same modes), refuses a
 * link or a hard link where a file should be, and puts back exactly
 * what it touched.  Built a second time with -Wl,--wrap=sf_replace_at
 * and --wrap=unlinkat to take the failure paths a healthy folder never
 * takes.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileset.h"
#include "safefile.h"

#ifdef FSET_TEST_WRAP
int	__real_sf_replace_at(int, const char *, const void *, size_t, mode_t,
	    uid_t, gid_t, struct err *);
int	__wrap_sf_replace_at(int, const char *, const void *, size_t, mode_t,
	    uid_t, gid_t, struct err *);
int	__real_unlinkat(int, const char *, int);
int	__wrap_unlinkat(int, const char *, int);

/* The call (1, 2, ...) of sf_replace_at that fails; 0: none. */
static int	replace_fail_at;
static int	replace_calls;
/* unlinkat fails with EACCES when set. */
static int	unlink_fails;

int
__wrap_sf_replace_at(int dirfd, const char *name, const void *buf,
    size_t len, mode_t mode, uid_t uid, gid_t gid, struct err *e)
{
	if (++replace_calls == replace_fail_at) {
		err_set(e, ERR_IO, "%s: injected failure", name);
		return -1;
	}
	return __real_sf_replace_at(dirfd, name, buf, len, mode, uid, gid, e);
}

int
__wrap_unlinkat(int dirfd, const char *name, int flags)
{
	if (unlink_fails) {
		errno = EACCES;
		return -1;
	}
	return __real_unlinkat(dirfd, name, flags);
}
#endif

struct fx {
	char	dir[64];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/rca-fileset-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
#ifdef FSET_TEST_WRAP
	replace_fail_at = 0;
	replace_calls = 0;
	unlink_fails = 0;
#endif
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*f = *state;
	struct dirent	*de;
	char		 p[512];
	DIR		*d;

	if ((d = opendir(f->dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static int
dir_fd(struct fx *f)
{
	int fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static void
put(struct fx *f, const char *name, const char *text, mode_t mode)
{
	char	p[256];
	int	fd;

	snprintf(p, sizeof(p), "%s/%s", f->dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* Expect name in the folder with text and mode; NULL text: no file. */
static void
expect(struct fx *f, const char *name, const char *text, mode_t mode)
{
	struct stat	st;
	char		p[256], buf[256];
	ssize_t		n;
	int		fd;

	snprintf(p, sizeof(p), "%s/%s", f->dir, name);
	if (text == NULL) {
		assert_int_equal(lstat(p, &st), -1);
		assert_int_equal(errno, ENOENT);
		return;
	}
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, mode);
	fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, text);
}

/* A set of key (0400), cert and ca (0444). */
static void
three(struct fset *fs)
{
	fset_init(fs);
	assert_int_equal(fset_add(fs, "redis.key", 0400, NULL), 0);
	assert_int_equal(fset_add(fs, "redis.crt", 0444, NULL), 0);
	assert_int_equal(fset_add(fs, "ca.crt", 0444, NULL), 0);
}

static const char *const fresh[] = { "new key", "new cert", "new ca" };

static void
test_add_refusals(void **state)
{
	struct fset	fs;
	struct err	e;
	char		longname[NAME_MAX + 1];

	(void)state;
	fset_init(&fs);
	err_clear(&e);
	assert_int_equal(fset_add(&fs, "", 0444, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(fset_add(&fs, "a/b", 0444, &e), -1);
	assert_int_equal(fset_add(&fs, ".", 0444, &e), -1);
	assert_int_equal(fset_add(&fs, "..", 0444, NULL), -1);
	/* A name that fits, but not with ".prev" behind it. */
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(fset_add(&fs, longname, 0444, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(fs.n, 0);
	for (int i = 0; i < FSET_MAX; i++)
		assert_int_equal(fset_add(&fs, "f", 0444, NULL), 0);
	assert_int_equal(fset_add(&fs, "f", 0444, &e), -1);
	assert_int_equal(fs.n, FSET_MAX);
	assert_string_equal(fs.f[0].prev, "f.prev");
	fset_clear(&fs);
	fset_clear(NULL);
}

/* Into an empty folder: no backups; restoring removes what was made. */
static void
test_fresh_folder(void **state)
{
	struct fx	*f = *state;
	struct fset	 fs;
	struct err	 e;

	err_clear(&e);
	three(&fs);
	assert_int_equal(fset_replace(&fs, dir_fd(f), fresh, (uid_t)-1,
	    (gid_t)-1, &e), 0);
	expect(f, "redis.key", "new key", 0400);
	expect(f, "redis.crt", "new cert", 0444);
	expect(f, "ca.crt", "new ca", 0444);
	expect(f, "redis.key.prev", NULL, 0);
	assert_int_equal(fset_restore(&fs, &e), 0);
	expect(f, "redis.key", NULL, 0);
	expect(f, "redis.crt", NULL, 0);
	expect(f, "ca.crt", NULL, 0);
	fset_clear(&fs);
	assert_int_equal(fs.dirfd, -1);
}

/* Over files: kept as *.prev with the set's modes, and put back. */
static void
test_backup_restore(void **state)
{
	struct fx	*f = *state;
	struct fset	 fs;
	struct err	 e;

	err_clear(&e);
	put(f, "redis.key", "old key", 0600);
	put(f, "redis.crt", "old cert", 0644);
	three(&fs);
	assert_int_equal(fset_replace(&fs, dir_fd(f), fresh, (uid_t)-1,
	    (gid_t)-1, &e), 0);
	expect(f, "redis.key", "new key", 0400);
	expect(f, "redis.key.prev", "old key", 0400);
	expect(f, "redis.crt.prev", "old cert", 0444);
	expect(f, "ca.crt.prev", NULL, 0);
	assert_true(fs.f[0].touched && fs.f[2].touched);
	assert_int_equal(fs.f[0].oldlen, strlen("old key"));

	assert_int_equal(fset_restore(&fs, &e), 0);
	expect(f, "redis.key", "old key", 0400);
	expect(f, "redis.crt", "old cert", 0444);
	expect(f, "ca.crt", NULL, 0);
	fset_clear(&fs);
}

/*
 * A link where the certificate should be fails the set before that file
 * is touched: what it points to is neither read nor written, and the
 * restore puts back the key alone.
 */
static void
test_link_refused(void **state)
{
	struct fx	*f = *state;
	struct fset	 fs;
	struct err	 e;
	char		 p[256], target[256];

	err_clear(&e);
	put(f, "redis.key", "old key", 0600);
	put(f, "elsewhere", "not ours", 0644);
	snprintf(target, sizeof(target), "%s/elsewhere", f->dir);
	snprintf(p, sizeof(p), "%s/redis.crt", f->dir);
	assert_int_equal(symlink(target, p), 0);
	three(&fs);
	assert_int_equal(fset_replace(&fs, dir_fd(f), fresh, (uid_t)-1,
	    (gid_t)-1, &e), -1);
	assert_int_equal(e.code, ERR_IO);
	assert_true(fs.f[0].touched);
	assert_false(fs.f[1].touched);
	expect(f, "redis.key", "new key", 0400);
	expect(f, "elsewhere", "not ours", 0644);
	assert_int_equal(fset_restore(&fs, &e), 0);
	expect(f, "redis.key", "old key", 0400);
	expect(f, "elsewhere", "not ours", 0644);
	assert_int_equal(lstat(p, &(struct stat){ 0 }), 0);
	fset_clear(&fs);
}

/* A second link to the key (a hard link) is refused as well. */
static void
test_hard_link_refused(void **state)
{
	struct fx	*f = *state;
	struct fset	 fs;
	struct err	 e;
	char		 a[256], b[256];

	err_clear(&e);
	put(f, "other", "secret", 0600);
	snprintf(a, sizeof(a), "%s/other", f->dir);
	snprintf(b, sizeof(b), "%s/redis.key", f->dir);
	assert_int_equal(link(a, b), 0);
	three(&fs);
	assert_int_equal(fset_replace(&fs, dir_fd(f), fresh, (uid_t)-1,
	    (gid_t)-1, &e), -1);
	assert_int_equal(e.code, ERR_IO);
	assert_false(fs.f[0].touched);
	assert_null(fs.f[0].old);
	expect(f, "other", "secret", 0600);
	expect(f, "redis.key.prev", NULL, 0);
	fset_clear(&fs);
}

#ifdef FSET_TEST_WRAP
/* The backup of the certificate cannot be written: the key is undone. */
static void
test_backup_fails(void **state)
{
	struct fx	*f = *state;
	struct fset	 fs;
	struct err	 e;

	err_clear(&e);
	put(f, "redis.key", "old key", 0600);
	put(f, "redis.crt", "old cert", 0644);
	three(&fs);
	/* 1: key.prev, 2: key, 3: crt.prev. */
	replace_fail_at = 3;
	assert_int_equal(fset_replace(&fs, dir_fd(f), fresh, (uid_t)-1,
	    (gid_t)-1, &e), -1);
	assert_int_equal(e.code, ERR_IO);
	assert_false(fs.f[1].touched);
	expect(f, "redis.crt", "old cert", 0644);
	assert_int_equal(fset_restore(&fs, &e), 0);
	expect(f, "redis.key", "old key", 0400);
	expect(f, "redis.crt", "old cert", 0644);
	fset_clear(&fs);
}

/* The certificate itself cannot be written: it counts as touched. */
static void
test_write_fails(void **state)
{
	struct fx	*f = *state;
	struct fset	 fs;
	struct err	 e;

	err_clear(&e);
	three(&fs);
	/* Fresh folder, no backups: 1: key, 2: crt. */
	replace_fail_at = 2;
	assert_int_equal(fset_replace(&fs, dir_fd(f), fresh, (uid_t)-1,
	    (gid_t)-1, &e), -1);
	assert_true(fs.f[1].touched);
	assert_false(fs.f[2].touched);
	assert_int_equal(fset_restore(&fs, &e), 0);
	expect(f, "redis.key", NULL, 0);
	expect(f, "redis.crt", NULL, 0);
	fset_clear(&fs);
}

/* Restoring stops at the first file it cannot put back. */
static void
test_restore_fails(void **state)
{
	struct fx	*f = *state;
	struct fset	 fs;
	struct err	 e;

	err_clear(&e);
	put(f, "redis.crt", "old cert", 0644);
	three(&fs);
	assert_int_equal(fset_replace(&fs, dir_fd(f), fresh, (uid_t)-1,
	    (gid_t)-1, &e), 0);
	/* The key was new: its removal fails, nothing after is undone. */
	unlink_fails = 1;
	assert_int_equal(fset_restore(&fs, &e), -1);
	assert_int_equal(e.code, ERR_IO);
	assert_non_null(strstr(e.msg, "redis.key"));
	expect(f, "redis.crt", "new cert", 0444);
	unlink_fails = 0;
	/* The certificate's content cannot be written back. */
	replace_fail_at = replace_calls + 1;
	err_clear(&e);
	assert_int_equal(fset_restore(&fs, &e), -1);
	assert_non_null(strstr(e.msg, "injected"));
	expect(f, "redis.crt", "new cert", 0444);
	fset_clear(&fs);
}
#endif

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_refusals),
		cmocka_unit_test_setup_teardown(test_fresh_folder, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_backup_restore, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_link_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hard_link_refused, setup,
		    teardown),
#ifdef FSET_TEST_WRAP
		cmocka_unit_test_setup_teardown(test_backup_fails, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_write_fails, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_restore_fails, setup,
		    teardown),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
