/*
 * RFC 3339 timestamps, the one time format of the control protocol and of
 * the CLI's JSON output. Always UTC with a 'Z' on output.
 */
#ifndef NSEG_TIMEFMT_H
#define NSEG_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* Room for "YYYY-MM-DDTHH:MM:SSZ" and the NUL. */
#define TIMEFMT_RFC3339_LEN 21

/*
 * Formats unix_sec as "2026-11-22T14:28:27Z" into buf. Returns 0, or -1
 * when len is too small or the year falls outside 0000..9999 (buf is then
 * an empty string when len > 0).
 */
int timefmt_rfc3339(int64_t unix_sec, char *buf, size_t len);

/*
 * Parses an RFC 3339 date-time ("2026-11-22T14:28:27Z",
 * "2026-11-22t14:28:27.5+01:00"): fractional seconds are truncated, a
 * numeric offset is applied, a leap second (:60) counts as the next
 * second. Returns 0 and sets *out, or -1 (errno EINVAL) for anything else,
 * including out-of-range fields and trailing characters.
 */
int timefmt_parse_rfc3339(const char *s, int64_t *out);

#endif
