/*
 * Tests of common/safefile.c: links, FIFOs (without blocking), devices,
 * hard links, wrong owner and mode are refused on the descriptor;
 * replacement goes through the folder descriptor and never through a
 * link; folders with a link on the way are refused.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "safefile.h"

#ifdef SF_TEST_NO_OPENAT2
/*
 * Built a second time with -Wl,--wrap=syscall: a kernel (or seccomp
 * filter) without openat2, so sf_open_dir() takes its O_NOFOLLOW and
 * /proc/self/fd path and must refuse the same links.
 */
long	__wrap_syscall(long n, ...);

long
__wrap_syscall(long n, ...)
{
	(void)n;
	errno = ENOSYS;
	return -1;
}
#endif

struct fx {
	char	dir[64];
	int	dfd;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/rca-safefile-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	f->dfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->dfd == -1)
		return -1;
	*state = f;
	return 0;
}

/* Remove the folder's entries (and one level of sub-folders). */
static void
rm_tree(const char *dir)
{
	struct dirent	*de;
	char		 p[512];
	DIR		*d;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			if (unlink(p) == -1)
				rm_tree(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	close(f->dfd);
	rm_tree(f->dir);
	free(f);
	return 0;
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

/* Expect sf_read_at to refuse name with a message holding why. */
static void
refused(struct fx *f, const char *name, const struct sf_rules *rules,
    const char *why)
{
	struct err	 e;
	char		*buf = (char *)1;
	size_t		 len = 7;

	err_clear(&e);
	assert_int_equal(sf_read_at(f->dfd, name, rules, 1024, &buf, &len,
	    NULL, &e), -1);
	assert_null(buf);
	assert_int_equal(len, 0);
	assert_int_equal(e.code, ERR_IO);
	if (strstr(e.msg, why) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", e.msg, why);
}

static void
test_names(void **state)
{
	(void)state;
	assert_true(sf_name_ok("redis.key"));
	assert_true(sf_name_ok("..x"));
	assert_false(sf_name_ok(NULL));
	assert_false(sf_name_ok(""));
	assert_false(sf_name_ok("."));
	assert_false(sf_name_ok(".."));
	assert_false(sf_name_ok("../x"));
	assert_false(sf_name_ok("/etc/passwd"));
	assert_false(sf_name_ok("a/b"));

	assert_true(sf_path_inside("/srv/a", "/srv/a"));
	assert_true(sf_path_inside("/srv/a/b", "/srv/a"));
	assert_true(sf_path_inside("/srv/a/b", "/srv/a/"));
	assert_true(sf_path_inside("/anything", "/"));
	assert_false(sf_path_inside("/srv/ab", "/srv/a"));
	assert_false(sf_path_inside("/srv", "/srv/a"));
	assert_false(sf_path_inside("srv/a", "/srv"));
	assert_false(sf_path_inside(NULL, "/srv"));
}

static void
test_read_regular(void **state)
{
	struct fx	*f = *state;
	struct sf_rules	 rules;
	struct stat	 st;
	struct err	 e;
	char		*buf = NULL;
	size_t		 len = 0;

	err_clear(&e);
	put(f, "ok", "hello\n", 0600);
	memset(&rules, 0, sizeof(rules));
	rules.owner_set = true;
	rules.uid = geteuid();
	rules.forbid_mode = 077;
	rules.max_links = 1;
	assert_int_equal(sf_read_at(f->dfd, "ok", &rules, 64, &buf, &len,
	    &st, &e), 0);
	assert_string_equal(buf, "hello\n");
	assert_int_equal(len, 6);
	assert_true(S_ISREG(st.st_mode));
	free(buf);

	/* Bounded: one byte over is refused. */
	assert_int_equal(sf_read_at(f->dfd, "ok", NULL, 5, &buf, &len, NULL,
	    &e), -1);
	assert_int_equal(e.code, ERR_IO);
	assert_non_null(strstr(e.msg, "larger than 5"));
	assert_int_equal(sf_read_at(f->dfd, "ok", NULL, 6, &buf, &len, NULL,
	    &e), 0);
	free(buf);

	/* Missing: ERR_NOT_FOUND; bad names refused before any open. */
	assert_int_equal(sf_read_at(f->dfd, "none", NULL, 64, &buf, &len,
	    NULL, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	refused(f, "../ok", NULL, "plain file name");
	refused(f, "/etc/passwd", NULL, "plain file name");
}

/* sf_read_path: the same reads by an absolute path, links refused. */
static void
test_read_path(void **state)
{
	struct fx	*f = *state;
	struct err	 e;
	char		 p[512], *buf = NULL;
	size_t		 len = 0;

	err_clear(&e);
	put(f, "ok", "hello\n", 0600);
	snprintf(p, sizeof(p), "%s/ok", f->dir);
	assert_int_equal(sf_read_path(p, NULL, 64, &buf, &len, &e), 0);
	assert_string_equal(buf, "hello\n");
	assert_int_equal(len, 6);
	free(buf);
	assert_int_equal(sf_read_path(p, NULL, 5, &buf, &len, &e), -1);
	assert_int_equal(e.code, ERR_IO);
	assert_null(buf);

	/* A link as the file, or on the way to it, is refused. */
	assert_int_equal(symlinkat("ok", f->dfd, "link"), 0);
	snprintf(p, sizeof(p), "%s/link", f->dir);
	assert_int_equal(sf_read_path(p, NULL, 64, &buf, &len, &e), -1);
	assert_int_equal(e.code, ERR_IO);
	assert_int_equal(symlinkat(".", f->dfd, "dirlink"), 0);
	snprintf(p, sizeof(p), "%s/dirlink/ok", f->dir);
	assert_int_equal(sf_read_path(p, NULL, 64, &buf, &len, &e), -1);
	assert_null(buf);

	/* Not absolute, a folder, missing. */
	const char *bad[] = { "ok", "", "/tmp/", NULL };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(sf_read_path(bad[i], NULL, 64, &buf, &len,
		    &e), -1);
		assert_int_equal(e.code, ERR_INVALID_REQUEST);
	}
	snprintf(p, sizeof(p), "%s/none", f->dir);
	assert_int_equal(sf_read_path(p, NULL, 64, &buf, &len, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(len, 0);
}

static void
test_symlink_refused(void **state)
{
	struct fx *f = *state;

	put(f, "target", "secret\n", 0600);
	assert_int_equal(symlinkat("target", f->dfd, "link"), 0);
	refused(f, "link", NULL, "symbolic link");
	/* Absolute target outside the folder: the same. */
	assert_int_equal(symlinkat("/etc/passwd", f->dfd, "abs"), 0);
	refused(f, "abs", NULL, "symbolic link");
}

static void
on_alarm(int sig)
{
	(void)sig;
	fail_msg("opening a FIFO blocked");
}

static void
test_fifo_refused_without_blocking(void **state)
{
	struct fx *f = *state;

	assert_int_equal(mkfifoat(f->dfd, "fifo", 0600), 0);
	/* No writer: a blocking open would hang forever. */
	signal(SIGALRM, on_alarm);
	alarm(5);
	refused(f, "fifo", NULL, "FIFO");
	alarm(0);
	signal(SIGALRM, SIG_DFL);
}

static void
test_device_refused(void **state)
{
	struct fx	*f = *state;
	struct err	 e;
	int		 dev;

	/* /dev/null through a descriptor of /dev needs no privilege. */
	dev = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dev >= 0);
	err_clear(&e);
	assert_int_equal(sf_open_at(dev, "null", NULL, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "device"));
	close(dev);
	/* And one made in the folder, when we may (root). */
	if (mknodat(f->dfd, "dev", S_IFCHR | 0600, makedev(1, 3)) == 0)
		refused(f, "dev", NULL, "device");
	else
		print_message("mknod: %s (skipped)\n", strerror(errno));
	assert_int_equal(mkdirat(f->dfd, "sub", 0700), 0);
	refused(f, "sub", NULL, "folder");
}

static void
test_rules(void **state)
{
	struct fx	*f = *state;
	struct sf_rules	 rules;
	char		 a[256], b[256];

	put(f, "file", "x\n", 0600);
	memset(&rules, 0, sizeof(rules));

	/* Hard links: a second name for the file is refused. */
	rules.max_links = 1;
	snprintf(a, sizeof(a), "%s/file", f->dir);
	snprintf(b, sizeof(b), "%s/hard", f->dir);
	assert_int_equal(link(a, b), 0);
	refused(f, "file", &rules, "2 links");
	refused(f, "hard", &rules, "2 links");
	assert_int_equal(unlink(b), 0);

	/* Owner. */
	memset(&rules, 0, sizeof(rules));
	rules.owner_set = true;
	rules.uid = geteuid() + 1;
	refused(f, "file", &rules, "owned by uid");

	/* Mode: group/other bits, or others only. */
	memset(&rules, 0, sizeof(rules));
	rules.forbid_mode = 077;
	put(f, "g", "x\n", 0640);
	refused(f, "g", &rules, "0640");
	rules.forbid_mode = 007;
	put(f, "o", "x\n", 0604);
	refused(f, "o", &rules, "others");
	put(f, "ok", "x\n", 0640);
	{
		struct err	 e;
		char		*buf = NULL;

		err_clear(&e);
		assert_int_equal(sf_read_at(f->dfd, "ok", &rules, 64, &buf,
		    NULL, NULL, &e), 0);
		free(buf);
	}
}

static void
test_replace(void **state)
{
	struct fx	*f = *state;
	struct stat	 st;
	struct err	 e;
	char		*buf = NULL;
	char		 p[256];

	err_clear(&e);
	/* Created with our mode, whatever the umask. */
	assert_int_equal(sf_replace_at(f->dfd, "new", "abc", 3, 0444,
	    (uid_t)-1, (gid_t)-1, &e), 0);
	assert_int_equal(fstatat(f->dfd, "new", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_mode & 07777, 0444);
	assert_int_equal(st.st_uid, geteuid());
	assert_int_equal(sf_read_at(f->dfd, "new", NULL, 64, &buf, NULL,
	    NULL, &e), 0);
	assert_string_equal(buf, "abc");
	free(buf);

	/* A link at the name is replaced, its target left alone. */
	put(f, "victim", "keep\n", 0600);
	assert_int_equal(symlinkat("victim", f->dfd, "lnk"), 0);
	assert_int_equal(sf_replace_at(f->dfd, "lnk", "new\n", 4, 0400,
	    (uid_t)-1, (gid_t)-1, &e), 0);
	assert_int_equal(fstatat(f->dfd, "lnk", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0400);
	assert_int_equal(sf_read_at(f->dfd, "victim", NULL, 64, &buf, NULL,
	    NULL, &e), 0);
	assert_string_equal(buf, "keep\n");
	free(buf);

	/* Owner given on the descriptor (as root: to nobody). */
	if (geteuid() == 0) {
		assert_int_equal(sf_replace_at(f->dfd, "owned", "x", 1, 0400,
		    65534, 65534, &e), 0);
		assert_int_equal(fstatat(f->dfd, "owned", &st,
		    AT_SYMLINK_NOFOLLOW), 0);
		assert_int_equal(st.st_uid, 65534);
		assert_int_equal(st.st_gid, 65534);
	}

	/* A failure (the name is a folder) leaves no temporary file. */
	assert_int_equal(mkdirat(f->dfd, "dir", 0700), 0);
	assert_int_equal(sf_replace_at(f->dfd, "dir", "x", 1, 0400,
	    (uid_t)-1, (gid_t)-1, &e), -1);
	assert_int_equal(e.code, ERR_IO);
	{
		DIR		*d;
		struct dirent	*de;

		d = opendir(f->dir);
		assert_non_null(d);
		while ((de = readdir(d)) != NULL)
			if (strncmp(de->d_name, ".dir.", 5) == 0)
				fail_msg("temporary %s left", de->d_name);
		closedir(d);
	}
	assert_int_equal(sf_replace_at(f->dfd, "a/b", "x", 1, 0400,
	    (uid_t)-1, (gid_t)-1, &e), -1);
	snprintf(p, sizeof(p), "%s/a", f->dir);
	assert_int_equal(access(p, F_OK), -1);
}

static void
test_open_dir(void **state)
{
	struct fx	*f = *state;
	struct stat	 st;
	struct err	 e;
	char		 real[128], link[128], via[256], file[256];
	int		 fd;

	err_clear(&e);
	snprintf(real, sizeof(real), "%s/real", f->dir);
	assert_int_equal(mkdir(real, 0700), 0);
	snprintf(link, sizeof(link), "%s/link", f->dir);
	assert_int_equal(symlink(real, link), 0);
	assert_int_equal(mkdir(strcat(strcpy(via, real), "/sub"), 0700), 0);

	fd = sf_open_dir(real, &st, &e);
	assert_true(fd >= 0);
	assert_true(S_ISDIR(st.st_mode));
	close(fd);
	/* A link as the last component or on the way is refused. */
	assert_int_equal(sf_open_dir(link, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "link"));
	snprintf(via, sizeof(via), "%s/sub", link);
	assert_int_equal(sf_open_dir(via, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "link"));
	snprintf(via, sizeof(via), "%s/none", f->dir);
	assert_int_equal(sf_open_dir(via, NULL, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(sf_open_dir("relative", NULL, &e), -1);
	snprintf(file, sizeof(file), "%s/plain", f->dir);
	put(f, "plain", "x", 0600);
	assert_int_equal(sf_open_dir(file, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "not a folder"));
}

static void
test_check_path(void **state)
{
	struct fx	*f = *state;
	struct sf_rules	 rules;
	struct err	 e;
	char		 p[256], l[256];

	err_clear(&e);
	memset(&rules, 0, sizeof(rules));
	rules.owner_set = true;
	rules.uid = geteuid();
	rules.forbid_mode = 077;
	put(f, "key", "k", 0400);
	snprintf(p, sizeof(p), "%s/key", f->dir);
	assert_int_equal(sf_check_path(p, &rules, &e), 0);
	assert_int_equal(chmod(p, 0444), 0);
	assert_int_equal(sf_check_path(p, &rules, &e), -1);
	assert_non_null(strstr(e.msg, "0444"));
	assert_non_null(strstr(e.msg, p));
	assert_int_equal(chmod(p, 0400), 0);
	snprintf(l, sizeof(l), "%s/keylink", f->dir);
	assert_int_equal(symlink(p, l), 0);
	assert_int_equal(sf_check_path(l, &rules, &e), -1);
	assert_non_null(strstr(e.msg, "symbolic link"));
	snprintf(l, sizeof(l), "%s/nokey", f->dir);
	assert_int_equal(sf_check_path(l, &rules, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_read_regular, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_read_path, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_symlink_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_fifo_refused_without_blocking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_dir, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_check_path, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
