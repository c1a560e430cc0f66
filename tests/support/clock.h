/*
 * The test clock: a test linked with test_clock_dep (which wraps
 * tu_now() with -Wl,--wrap=tu_now) decides what time the code under
 * test sees, instead of sleeping until the time has come.  Until
 * tclock_set() is called, tu_now() is the real clock.
 */
#ifndef RCA_TEST_CLOCK_H
#define RCA_TEST_CLOCK_H

#include <stdint.h>

/* From now on tu_now() returns t (seconds since the epoch). */
void	tclock_set(int64_t t);

/* Move the clock on by secs (freezing it at the real time first). */
void	tclock_advance(int64_t secs);

/* Back to the real clock. */
void	tclock_real(void);

#endif
