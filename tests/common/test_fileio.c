/* Tests of common/fileio.c: atomic replacement, O_EXCL, bounded reads. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"

struct fx {
	char	dir[64];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/rca-fileio-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

/* Remove every entry of the folder (flat), then the folder. */
static int
teardown(void **state)
{
	struct fx *f = *state;
	struct dirent *de;
	char p[512];
	DIR *d;

	if ((d = opendir(f->dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name);
			if (unlink(p) == -1)
				(void)rmdir(p);
		}
		closedir(d);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
path_in(const struct fx *f, const char *name, char out[512])
{
	snprintf(out, 512, "%s/%s", f->dir, name);
}

/* Number of entries in the folder other than . and .. */
static int
count_entries(const struct fx *f)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(f->dir);

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static mode_t
mode_of(const char *p)
{
	struct stat st;

	assert_int_equal(lstat(p, &st), 0);
	return st.st_mode & 07777;
}

static void
test_atomic_create_replace(void **state)
{
	struct fx *f = *state;
	char p[512], *buf;
	size_t len;
	struct err e;

	path_in(f, "a.txt", p);
	assert_int_equal(fio_write_atomic(p, "one", 3, 0644, &e), 0);
	assert_int_equal(mode_of(p), 0644);
	assert_int_equal(fio_write_atomic(p, "second", 6, 0400, &e), 0);
	/* The mode is that of the call, whatever the umask. */
	assert_int_equal(mode_of(p), 0400);
	assert_int_equal(fio_read_all(p, 100, &buf, &len, &e), 0);
	assert_int_equal(len, 6);
	assert_string_equal(buf, "second");
	free(buf);
	/* No temporary file is left beside the target. */
	assert_int_equal(count_entries(f), 1);

	/* An empty file is fine. */
	assert_int_equal(fio_write_atomic(p, "", 0, 0600, &e), 0);
	assert_int_equal(fio_read_all(p, 100, &buf, &len, &e), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
}

static void
test_atomic_failure_leaves_nothing(void **state)
{
	struct fx *f = *state;
	char p[512], sub[512];
	struct err e;

	/* Folder missing: no file at all. */
	path_in(f, "missing/a.txt", p);
	err_clear(&e);
	assert_int_equal(fio_write_atomic(p, "x", 1, 0600, &e), -1);
	assert_int_equal(e.code, ERR_IO);
	assert_non_null(strstr(e.msg, p));
	assert_int_equal(count_entries(f), 0);

	/* The target is a non-empty folder: rename fails, temp removed. */
	path_in(f, "d", sub);
	assert_int_equal(mkdir(sub, 0700), 0);
	path_in(f, "d/x", p);
	assert_int_equal(fio_write_atomic(p, "x", 1, 0600, &e), 0);
	err_clear(&e);
	assert_int_equal(fio_write_atomic(sub, "y", 1, 0600, &e), -1);
	assert_int_equal(e.code, ERR_IO);
	assert_int_equal(count_entries(f), 1);
	assert_int_equal(unlink(p), 0);
}

static void
test_excl_create_and_refuse(void **state)
{
	struct fx *f = *state;
	char p[512], *buf;
	size_t len;
	struct err e;

	path_in(f, "key.pem", p);
	assert_int_equal(fio_write_excl(p, "secret", 6, 0400, &e), 0);
	assert_int_equal(mode_of(p), 0400);
	err_clear(&e);
	assert_int_equal(fio_write_excl(p, "other", 5, 0600, &e), -1);
	assert_int_equal(e.code, ERR_ALREADY_EXISTS);
	/* The refused call changed nothing. */
	assert_int_equal(mode_of(p), 0400);
	assert_int_equal(fio_read_all(p, 100, &buf, &len, &e), 0);
	assert_string_equal(buf, "secret");
	free(buf);
	assert_int_equal(count_entries(f), 1);
}

static void
test_excl_refuses_symlink(void **state)
{
	struct fx *f = *state;
	char p[512], target[512], *buf;
	size_t len;
	struct err e;

	/* A symlink in place of a key, dangling or not, is never followed. */
	path_in(f, "target", target);
	path_in(f, "link", p);
	assert_int_equal(symlink(target, p), 0);
	assert_int_equal(fio_write_excl(p, "k", 1, 0400, &e), -1);
	assert_int_equal(e.code, ERR_ALREADY_EXISTS);
	assert_int_equal(access(target, F_OK), -1);

	assert_int_equal(fio_write_atomic(target, "t", 1, 0600, &e), 0);
	assert_int_equal(fio_write_excl(p, "k", 1, 0400, &e), -1);
	assert_int_equal(fio_read_all(target, 10, &buf, &len, &e), 0);
	assert_string_equal(buf, "t");
	free(buf);
}

static void
test_excl_bad_folder(void **state)
{
	struct fx *f = *state;
	char p[512];
	struct err e;

	path_in(f, "nope/key.pem", p);
	err_clear(&e);
	assert_int_equal(fio_write_excl(p, "k", 1, 0400, &e), -1);
	assert_int_equal(e.code, ERR_IO);
	assert_int_equal(count_entries(f), 0);
}

/*
 * fio_reserve() relative to a folder descriptor: the name is taken
 * before anything is written, a second reservation of it is refused, a
 * link there (dangling or not) is refused and not followed, a released
 * reservation is removed unless kept, and one written keeps its mode.
 */
static void
test_reserve_at(void **state)
{
	struct fx *f = *state;
	struct fio_resv r = FIO_RESV_INIT, r2 = FIO_RESV_INIT;
	char p[512], target[512], *buf;
	size_t len;
	struct err e;
	int dfd;

	assert_true((dfd = open(f->dir, O_RDONLY | O_DIRECTORY)) >= 0);
	path_in(f, "a.key", p);
	assert_int_equal(fio_reserve(&r, dfd, "a.key", p, &e), 0);
	assert_int_equal(access(p, F_OK), 0);
	err_clear(&e);
	assert_int_equal(fio_reserve(&r2, dfd, "a.key", p, &e), -1);
	assert_int_equal(e.code, ERR_ALREADY_EXISTS);
	assert_non_null(strstr(e.msg, p));
	fio_resv_release(&r2, false);	/* nothing made: a no-op */
	assert_int_equal(access(p, F_OK), 0);
	fio_resv_release(&r, false);
	assert_int_equal(access(p, F_OK), -1);
	fio_resv_release(&r, false);	/* twice is fine */

	path_in(f, "target", target);
	assert_int_equal(symlinkat(target, dfd, "dangling"), 0);
	assert_int_equal(fio_reserve(&r, dfd, "dangling", NULL, &e), -1);
	assert_int_equal(e.code, ERR_ALREADY_EXISTS);
	assert_int_equal(access(target, F_OK), -1);
	assert_int_equal(fio_write_atomic(target, "t", 1, 0600, &e), 0);
	assert_int_equal(fio_reserve(&r, dfd, "dangling", NULL, &e), -1);
	assert_int_equal(e.code, ERR_ALREADY_EXISTS);
	assert_int_equal(fio_read_all(target, 10, &buf, &len, &e), 0);
	assert_string_equal(buf, "t");
	free(buf);

	assert_int_equal(fio_reserve(&r, dfd, "a.key", p, &e), 0);
	assert_int_equal(fio_resv_write(&r, "secret", 6, 0400, &e), 0);
	fio_resv_release(&r, true);
	assert_int_equal(mode_of(p), 0400);
	assert_int_equal(fio_read_all(p, 100, &buf, &len, &e), 0);
	assert_string_equal(buf, "secret");
	free(buf);
	/* A written file not kept is removed (a later step failed). */
	path_in(f, "b.crt", p);
	assert_int_equal(fio_reserve(&r, dfd, "b.crt", p, &e), 0);
	assert_int_equal(fio_resv_write(&r, "c", 1, 0444, &e), 0);
	fio_resv_release(&r, false);
	assert_int_equal(access(p, F_OK), -1);
	close(dfd);
}

static void
test_read_bounded(void **state)
{
	struct fx *f = *state;
	char p[512], *buf = NULL, *big;
	size_t len = 99, n = 10000;
	struct err e;

	big = malloc(n);
	assert_non_null(big);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	path_in(f, "big", p);
	assert_int_equal(fio_write_atomic(p, big, n, 0600, &e), 0);

	/* Exactly the limit: read whole, NUL-terminated. */
	assert_int_equal(fio_read_all(p, n, &buf, &len, &e), 0);
	assert_int_equal(len, n);
	assert_memory_equal(buf, big, n);
	assert_int_equal(buf[n], '\0');
	free(buf);

	/* One byte over: refused, nothing returned. */
	buf = (char *)1;
	err_clear(&e);
	assert_int_equal(fio_read_all(p, n - 1, &buf, &len, &e), -1);
	assert_int_equal(e.code, ERR_IO);
	assert_non_null(strstr(e.msg, "larger than"));
	assert_null(buf);
	assert_int_equal(len, 0);

	/* A small limit on a big file. */
	assert_int_equal(fio_read_all(p, 10, &buf, NULL, &e), -1);
	assert_null(buf);
	free(big);
}

static void
test_read_missing(void **state)
{
	struct fx *f = *state;
	char p[512], *buf;
	size_t len;
	struct err e;

	path_in(f, "nothing", p);
	assert_int_equal(fio_read_all(p, 10, &buf, &len, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_null(buf);
	/* A folder is not readable as a file. */
	assert_int_equal(fio_read_all(f->dir, 10, &buf, &len, &e), -1);
	assert_int_equal(e.code, ERR_IO);
}

static void
test_path_join(void **state)
{
	char out[16];
	struct err e;

	assert_int_equal(fio_path_join(out, sizeof(out), "/d", "f", &e), 0);
	assert_string_equal(out, "/d/f");
	assert_int_equal(fio_path_join(out, sizeof(out), "/d", "/abs", &e),
	    0);
	assert_string_equal(out, "/abs");
	assert_int_equal(fio_path_join(out, sizeof(out), NULL, "f", &e), 0);
	assert_string_equal(out, "f");
	assert_int_equal(fio_path_join(out, sizeof(out), "", "f", &e), 0);
	assert_string_equal(out, "f");
	/* 15 characters fit in 16 bytes; 16 do not. */
	assert_int_equal(fio_path_join(out, sizeof(out), "/dddddd",
	    "fffffff", &e), 0);
	err_clear(&e);
	assert_int_equal(fio_path_join(out, sizeof(out), "/dddddd",
	    "ffffffff", &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
}

static void
test_wipe(void **state)
{
	unsigned char buf[32];

	memset(buf, 0xa5, sizeof(buf));
	fio_wipe(buf, 16);
	for (size_t i = 0; i < 16; i++)
		assert_int_equal(buf[i], 0);
	for (size_t i = 16; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xa5);
	fio_wipe(buf, 0);

	/* Wipe and free: NULL is nothing, the rest must not leak (ASan). */
	fio_secret_free(NULL, 10);
	fio_secret_free_str(NULL);
	char *s = strdup("secret");
	assert_non_null(s);
	fio_secret_free_str(s);
	void *p = malloc(16);
	assert_non_null(p);
	fio_secret_free(p, 16);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_atomic_create_replace,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_atomic_failure_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_excl_create_and_refuse,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_excl_refuses_symlink,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_excl_bad_folder, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reserve_at, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_read_bounded, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_read_missing, setup,
		    teardown),
		cmocka_unit_test(test_path_join),
		cmocka_unit_test(test_wipe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
