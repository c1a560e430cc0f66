/* RFC 3339 times and unit durations. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: what RFC 3339 holds. */
#define TU_MIN	INT64_C(-62167219200)
#define TU_MAX	INT64_C(253402300799)

int64_t
tu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

void
tu_format(int64_t t, char out[RCA_TIME_STR])
{
	struct tm tm;
	time_t tt = (time_t)t;
	char buf[80];	/* six ints at their widest */

	/*
	 * RFC 3339 years have four digits: strftime's %Y would write "226"
	 * for 0226 (and tu_parse refuses that), so print the fields.
	 */
	out[0] = '\0';
	if (gmtime_r(&tt, &tm) == NULL || tm.tm_year < -1900 ||
	    tm.tm_year > 9999 - 1900)
		return;
	if (snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec) == RCA_TIME_STR - 1)
		memcpy(out, buf, RCA_TIME_STR);
}

static int
digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
tu_parse(const char *s, int64_t *out, struct err *e)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	const char *p;
	int64_t v;
	time_t t;

	if (s == NULL || strlen(s) < 20 || digits(s, 4, &y) ||
	    s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
	    digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) ||
	    s[16] != ':' || digits(s + 17, 2, &sec))
		goto bad;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			goto bad;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (digits(p + 1, 2, &oh) || p[3] != ':' ||
		    digits(p + 4, 2, &om) || oh > 23 || om > 59)
			goto bad;
		p += 6;
	} else
		goto bad;
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60)
		goto bad;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	v = (int64_t)t - sign * (oh * 3600 + om * 60);
	/* An offset must not carry the time out of years 0000-9999. */
	if (v < TU_MIN || v > TU_MAX)
		goto bad;
	*out = v;
	return 0;
bad:
	err_set(e, ERR_INVALID_REQUEST, "not an RFC 3339 time: %.40s",
	    s == NULL ? "(null)" : s);
	return -1;
}

int
tu_parse_duration(const char *s, int64_t *out, struct err *e)
{
	char *end;
	long long v;
	int64_t mult;

	if (s == NULL || !isdigit((unsigned char)s[0]))
		goto bad;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || v <= 0 || end[0] == '\0' || end[1] != '\0')
		goto bad;
	switch (end[0]) {
	case 's': mult = 1; break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	default: goto bad;
	}
	/* Cap at 100 years so later arithmetic cannot overflow. */
	if (v > (int64_t)100 * 366 * 86400 / mult)
		goto bad;
	*out = (int64_t)v * mult;
	return 0;
bad:
	err_set(e, ERR_INVALID_TTL,
	    "not a duration (number and unit s, m, h or d): %.40s",
	    s == NULL ? "(null)" : s);
	return -1;
}

void
tu_format_duration(int64_t secs, char out[24])
{
	if (secs > 0 && secs % 86400 == 0)
		snprintf(out, 24, "%lldd", (long long)(secs / 86400));
	else if (secs > 0 && secs % 3600 == 0)
		snprintf(out, 24, "%lldh", (long long)(secs / 3600));
	else if (secs > 0 && secs % 60 == 0)
		snprintf(out, 24, "%lldm", (long long)(secs / 60));
	else
		snprintf(out, 24, "%llds", (long long)secs);
}
