#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nseg/timefmt.h"

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the RFC 3339 range. */
#define TIMEFMT_MIN (-62167219200LL)
#define TIMEFMT_MAX 253402300799LL

/*
 * Proleptic Gregorian calendar arithmetic (H. Hinnant's algorithms):
 * exact for every year, no dependency on time_t width, TZ or gmtime().
 */
static int64_t timefmt_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void timefmt_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

int timefmt_rfc3339(int64_t unix_sec, char *buf, size_t len)
{
	int64_t days, secs, y;
	int m, d, n;

	if (len > 0)
		buf[0] = '\0';
	if (unix_sec < TIMEFMT_MIN || unix_sec > TIMEFMT_MAX ||
	    len < TIMEFMT_RFC3339_LEN) {
		errno = EINVAL;
		return -1;
	}
	days = unix_sec / 86400;
	secs = unix_sec % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	timefmt_civil_from_days(days, &y, &m, &d);
	n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, m, d,
		     (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
	return n == TIMEFMT_RFC3339_LEN - 1 ? 0 : -1;
}

/* Exactly n decimal digits at s; -1 if any is not a digit. */
static int timefmt_digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int timefmt_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int timefmt_mdays(int64_t y, int m)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30,
				       31, 31, 30, 31, 30, 31 };

	return m == 2 && timefmt_leap(y) ? 29 : mdays[m - 1];
}

/* "YYYY-MM-DDTHH:MM:SS" into days since the epoch and seconds of day. */
static int timefmt_parse_base(const char *s, int64_t *days, int64_t *secs)
{
	int y, mo, d, h, mi, sec;

	if (strnlen(s, 19) < 19 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
		return -1;
	y = timefmt_digits(s, 4);
	mo = timefmt_digits(s + 5, 2);
	d = timefmt_digits(s + 8, 2);
	h = timefmt_digits(s + 11, 2);
	mi = timefmt_digits(s + 14, 2);
	sec = timefmt_digits(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || sec < 0 || sec > 60)
		return -1;
	if (d > timefmt_mdays(y, mo))
		return -1;
	*days = timefmt_days_from_civil(y, mo, d);
	*secs = h * 3600 + mi * 60 + sec;
	return 0;
}

/* Fraction (skipped) and zone; sets *offset to seconds east of UTC. */
static int timefmt_parse_zone(const char *s, int64_t *offset)
{
	int h, m;

	if (*s == '.') {
		if (s[1] < '0' || s[1] > '9')
			return -1;
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	}
	if ((s[0] == 'Z' || s[0] == 'z') && s[1] == '\0') {
		*offset = 0;
		return 0;
	}
	if ((s[0] != '+' && s[0] != '-') || strnlen(s, 7) != 6 || s[3] != ':')
		return -1;
	h = timefmt_digits(s + 1, 2);
	m = timefmt_digits(s + 4, 2);
	if (h < 0 || h > 23 || m < 0 || m > 59)
		return -1;
	*offset = (h * 3600 + m * 60) * (s[0] == '-' ? -1 : 1);
	return 0;
}

int timefmt_parse_rfc3339(const char *s, int64_t *out)
{
	int64_t days, secs, offset;

	if (s == NULL || timefmt_parse_base(s, &days, &secs) == -1 ||
	    timefmt_parse_zone(s + 19, &offset) == -1) {
		errno = EINVAL;
		return -1;
	}
	*out = days * 86400 + secs - offset;
	return 0;
}
