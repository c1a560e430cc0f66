/*
 * Waiting in tests on the monotonic clock, which the test clock
 * (clock.h) never moves: the time now, a pause, a bounded poll, and a
 * log shown when a wait for a server failed.
 */
#ifndef RCA_TEST_TWAIT_H
#define RCA_TEST_TWAIT_H

#include <stdbool.h>
#include <stdint.h>

/* Milliseconds on the monotonic clock. */
int64_t	tw_mono_ms(void);

/* Sleep ms milliseconds (less when a signal comes). */
void	tw_sleep_ms(long ms);

/*
 * Call cond(arg) every step_us microseconds until it holds or ms
 * milliseconds have passed; its last value.
 */
bool	tw_poll(bool (*cond)(void *), void *arg, int64_t ms, long step_us);

/* Copy the lines of the file at path to stderr, each after prefix. */
void	tw_show_log(const char *path, const char *prefix);

#endif
