/* The test clock behind tests/support/clock.h (see there). */
#include <stdatomic.h>
#include <stdbool.h>

#include "clock.h"
#include "timeutil.h"

int64_t	__real_tu_now(void);
int64_t	__wrap_tu_now(void);

static _Atomic bool	frozen;
static _Atomic int64_t	now;

int64_t
__wrap_tu_now(void)
{
	return atomic_load(&frozen) ? atomic_load(&now) : __real_tu_now();
}

void
tclock_set(int64_t t)
{
	atomic_store(&now, t);
	atomic_store(&frozen, true);
}

void
tclock_advance(int64_t secs)
{
	if (!atomic_load(&frozen))
		tclock_set(__real_tu_now());
	atomic_fetch_add(&now, secs);
}

void
tclock_real(void)
{
	atomic_store(&frozen, false);
}
