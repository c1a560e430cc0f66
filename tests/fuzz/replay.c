/*
 * The main() of every harness in tests/fuzz/ when it is not built for
 * libFuzzer (-DRCA_LIBFUZZER): feed each file named on the command line,
 * and each file inside each folder named, to LLVMFuzzerTestOneInput
 * once.  meson test replays the seed corpora this way, under gcc and
 * under ASan/UBSan; a crash, a leak or a failed invariant (abort) fails
 * the test.  No argument: read one input from stdin.
 */
#ifndef RCA_LIBFUZZER
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Larger than any input a harness cares about (libFuzzer's -max_len). */
#define REPLAY_MAX	(1 << 20)

static int
replay_stream(FILE *f, const char *name)
{
	unsigned char *buf;
	size_t n;
	int rc = -1;

	if ((buf = malloc(REPLAY_MAX)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", name);
		return -1;
	}
	n = fread(buf, 1, REPLAY_MAX, f);
	if (ferror(f)) {
		fprintf(stderr, "%s: read error\n", name);
		goto out;
	}
	/* The exact size, so ASan sees a read past the input. */
	{
		unsigned char *in = malloc(n > 0 ? n : 1);

		if (in == NULL)
			goto out;
		memcpy(in, buf, n);
		LLVMFuzzerTestOneInput(in, n);
		free(in);
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

static int
replay_file(const char *path)
{
	FILE *f;
	int rc;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	rc = replay_stream(f, path);
	fclose(f);
	return rc;
}

static int
replay_path(const char *path, size_t *count)
{
	struct dirent *d;
	struct stat st;
	char sub[4096];
	DIR *dir;
	int rc = 0;

	if (stat(path, &st) == -1) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return replay_file(path);
	}
	if ((dir = opendir(path)) == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", path, d->d_name) >=
		    (int)sizeof(sub)) {
			rc = -1;
			continue;
		}
		if (replay_path(sub, count) == -1)
			rc = -1;
	}
	closedir(dir);
	return rc;
}

int
main(int argc, char **argv)
{
	size_t count = 0;
	int rc = 0;

	if (argc < 2)
		return replay_stream(stdin, "stdin") == 0 ? 0 : 1;
	for (int i = 1; i < argc; i++)
		if (replay_path(argv[i], &count) == -1)
			rc = 1;
	printf("%s: replayed %zu inputs%s\n", argv[0], count,
	    rc == 0 ? "" : " (some unreadable)");
	if (count == 0) {
		fprintf(stderr, "%s: no input found\n", argv[0]);
		rc = 1;
	}
	return rc;
}
#endif
