/* clock.h - wall time in UTC milliseconds (what we store) and a monotonic
 * clock (what we measure durations and timers with). */
#ifndef LINLI_CLOCK_H
#define LINLI_CLOCK_H

#include <stddef.h>
#include <stdint.h>

int64_t clock_now_ms(void);  /* Unix time, milliseconds, UTC */
int64_t clock_mono_us(void); /* monotonic microseconds, arbitrary origin */

/* Writes `ms` as RFC 3339 UTC with milliseconds ("2026-11-25T13:10:47.123Z").
 * `out` must hold at least 25 bytes. Returns out. */
char *clock_format_rfc3339(int64_t ms, char *out, size_t size);

/* Parses RFC 3339 ("2026-11-25T13:10:47Z", optional fraction, Z or +hh:mm).
 * Returns 0 and sets *ms, or -1 when the text is not a valid time. */
int clock_parse_rfc3339(const char *text, int64_t *ms);

#endif
