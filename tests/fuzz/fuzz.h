/*
 * What every harness in tests/fuzz/ defines: the libFuzzer entry point.
 * replay.c supplies main() when the harness is built as a corpus test.
 * A harness calls fuzz_check() for each invariant: a failure aborts,
 * which libFuzzer reports as a crash and meson test as a failure.
 */
#ifndef RCA_TESTS_FUZZ_H
#define RCA_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

#define fuzz_check(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

#endif
