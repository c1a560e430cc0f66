/* Times (RFC 3339 UTC) and durations ("90s", "30m", "24h", "7d"). */
#ifndef RCA_TIMEUTIL_H
#define RCA_TIMEUTIL_H

#include <stdint.h>

#include "err.h"

#define RCA_TIME_STR 21	/* "2026-11-28T01:00:00Z" + NUL */

/* Seconds since the epoch (CLOCK_REALTIME). */
int64_t	tu_now(void);

/* Format t as "YYYY-MM-DDTHH:MM:SSZ" into out. */
void	tu_format(int64_t t, char out[RCA_TIME_STR]);

/*
 * Parse an RFC 3339 time ("2026-11-28T01:00:00Z", fractional seconds and
 * "+hh:mm" offsets accepted).  Errors: ERR_INVALID_REQUEST.
 */
int	tu_parse(const char *s, int64_t *out, struct err *e);

/*
 * Parse a duration: a positive integer followed by one unit s, m, h or
 * d ("90s", "30m", "24h", "7d").  Errors: ERR_INVALID_TTL.
 */
int	tu_parse_duration(const char *s, int64_t *out, struct err *e);

/* Format a duration in the largest unit that divides it ("72h", "90s"). */
void	tu_format_duration(int64_t secs, char out[24]);

#endif
