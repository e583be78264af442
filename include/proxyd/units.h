/* Numbers, times and sizes as HAProxy's configuration writes them. */
#ifndef PROXYD_UNITS_H
#define PROXYD_UNITS_H

#include <stdint.h>

enum parse_err {
	PARSE_OK = 0,
	PARSE_BAD_CHAR,      /* *bad points to the offending character */
	PARSE_OVERFLOW,      /* value above the maximum */
	PARSE_UNDERFLOW,     /* a non-zero value that rounds to zero */
	PARSE_EMPTY,         /* no digits at all */
};

/* Time with an optional unit suffix: us, ms, s, m, h, d. A bare number is in
 * <unit_ms> milliseconds (1 for most keywords, 1000 where HAProxy documents
 * seconds). Result in ms, at most 2^31-1 (PARSE_OVERFLOW above, as HAProxy:
 * "maximum value is 2147483647 ms or ~24.8 days"). Microseconds round up to
 * the next millisecond. */
enum parse_err parse_time(const char *text, unsigned unit_ms, unsigned *out_ms, const char **bad);

/* Size with an optional k/m/g suffix (either case, powers of 1024). */
enum parse_err parse_size(const char *text, uint64_t *out, const char **bad);

/* Plain signed decimal integer, the whole string, within [lo, hi]. */
enum parse_err parse_int(const char *text, long long lo, long long hi, long long *out, const char **bad);

/* Formats a parse error about <arg> given to <kw> into <buf> in HAProxy's
 * words, e.g. "timer overflow in argument '30d' to 'timeout server'
 * (maximum value is 2147483647 ms or ~24.8 days)". <what> names the kind of
 * value ("time", "size", "integer") for the bad-character message. */
void parse_err_str(char *buf, unsigned size, enum parse_err e, const char *what,
                   const char *arg, const char *bad, const char *kw);

#endif
