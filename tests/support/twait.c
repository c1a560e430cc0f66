/* Waiting in tests on the monotonic clock (twait.h). */
#include <stdio.h>
#include <time.h>

#include "twait.h"

int64_t
tw_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
tw_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

bool
tw_poll(bool (*cond)(void *), void *arg, int64_t ms, long step_us)
{
	int64_t deadline = tw_mono_ms() + ms;
	struct timespec step = { step_us / 1000000,
	    (step_us % 1000000) * 1000 };

	for (;;) {
		if (cond(arg))
			return true;
		if (tw_mono_ms() >= deadline)
			return false;
		nanosleep(&step, NULL);
	}
}

void
tw_show_log(const char *path, const char *prefix)
{
	char line[512];
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		fprintf(stderr, "%s%s", prefix, line);
	fclose(f);
}
