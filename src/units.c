/* Numbers, times and sizes written the way HAProxy 2.6 reads them.
 *
 * The accepted syntax and the limits follow HAProxy so that a value it
 * accepts is accepted here with the same meaning, and a value it rejects is
 * rejected too. The few places where the messages deliberately read better
 * than HAProxy's are marked as such.
 */
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include <proxyd/diag.h>
#include <proxyd/units.h>

#define TIME_MAX_MS  2147483647ULL     /* what a signed 32-bit tick can hold */
#define SIZE_MAX_VAL 4294967295ULL     /* HAProxy keeps sizes in 32 bits */

/* Digits are accumulated into 64 bits. A value this large exceeds every
 * limit here even in microseconds, so accumulation stops there: the value
 * saturates instead of wrapping around to something that would fit. */
#define DIGITS_CAP   1000000000000000000ULL

/* Reads the leading decimal digits of <p> into *val (saturating once
 * DIGITS_CAP is reached) and returns the first non-digit. */
static const char *read_digits(const char *p, unsigned long long *val)
{
	unsigned long long v = 0;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (v < DIGITS_CAP)
			v = v * 10 + (unsigned)(*p - '0');
	}
	*val = v;
	return p;
}

/* Parses <text> as a delay: digits then an optional unit among us, ms, s,
 * m, h and d; without a unit the number counts <unit_ms> milliseconds.
 * Returns PARSE_OK with *out_ms set, PARSE_EMPTY for an empty string,
 * PARSE_BAD_CHAR with *bad on the first character that cannot start or
 * carry a unit, or PARSE_OVERFLOW (*bad on the text) above 2^31-1 ms.
 *
 * As in HAProxy, the value is rounded up to the keyword's own unit, so
 * "1us" is 1 ms and, for a keyword counting seconds (unit_ms 1000), "1500ms"
 * is 2000 ms; PARSE_UNDERFLOW therefore never happens. A character after a
 * valid unit ("1sx") is tolerated with HAProxy's warning, also worded as
 * HAProxy does, because 2.6 accepts such values. <bad> may be NULL.
 */
enum parse_err parse_time(const char *text, unsigned unit_ms, unsigned *out_ms, const char **bad)
{
	unsigned long long val, mult = 1, div = 1;
	const char *p;

	if (bad)
		*bad = NULL;
	if (!unit_ms)
		unit_ms = 1;
	if (!text || !*text) {
		if (bad)
			*bad = text;
		return PARSE_EMPTY;
	}
	if (!isdigit((unsigned char)*text)) {
		if (bad)
			*bad = text;
		return PARSE_BAD_CHAR;
	}

	p = read_digits(text, &val);
	switch (*p) {
	case '\0':
		mult = unit_ms;
		break;
	case 's':
		mult = 1000;
		break;
	case 'u':
		if (p[1] != 's') {
			if (bad)
				*bad = p;
			return PARSE_BAD_CHAR;
		}
		div = 1000;
		p++;
		break;
	case 'm':
		if (p[1] == 's')
			p++;
		else
			mult = 60 * 1000;
		break;
	case 'h':
		mult = 3600 * 1000;
		break;
	case 'd':
		mult = 86400 * 1000;
		break;
	default:
		if (bad)
			*bad = p;
		return PARSE_BAD_CHAR;
	}
	if (*p && p[1])
		ha_warning("config : unexpected character '%c' after the timer value '%s', only "
		           "(us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) "
		           "are supported. This will be reported as an error in next versions.",
		           p[1], text);

	/* With a multiplier, anything above the limit already overflows, and
	 * below it the product stays far from wrapping (2^31 * 2^27). */
	if (mult > 1 && val > TIME_MAX_MS)
		goto overflow;
	val = (val * mult + div - 1) / div;
	if (unit_ms > 1)
		val = (val + unit_ms - 1) / unit_ms * unit_ms;
	if (val > TIME_MAX_MS)
		goto overflow;
	*out_ms = (unsigned)val;
	return PARSE_OK;

overflow:
	if (bad)
		*bad = text;
	return PARSE_OVERFLOW;
}

/* Parses <text> as a size: digits then an optional k, m or g (either case)
 * multiplying by 1024, 1024^2 or 1024^3. The limit is HAProxy's, 2^32-1:
 * above it PARSE_OVERFLOW points *bad at the digit or suffix that went
 * over, which is where HAProxy reports its "unexpected character". Nothing
 * may follow the suffix (PARSE_BAD_CHAR on the extra character).
 */
enum parse_err parse_size(const char *text, uint64_t *out, const char **bad)
{
	unsigned long long val = 0;
	const char *p = text;
	unsigned shift = 0;

	if (bad)
		*bad = NULL;
	if (!text || !*text) {
		if (bad)
			*bad = text;
		return PARSE_EMPTY;
	}
	if (!isdigit((unsigned char)*p)) {
		if (bad)
			*bad = p;
		return PARSE_BAD_CHAR;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		val = val * 10 + (unsigned)(*p - '0');
		if (val > SIZE_MAX_VAL) {
			if (bad)
				*bad = p;
			return PARSE_OVERFLOW;
		}
	}
	switch (*p) {
	case '\0':
		break;
	case 'k': case 'K':
		shift = 10;
		break;
	case 'm': case 'M':
		shift = 20;
		break;
	case 'g': case 'G':
		shift = 30;
		break;
	default:
		if (bad)
			*bad = p;
		return PARSE_BAD_CHAR;
	}
	if (shift) {
		if (val > (SIZE_MAX_VAL >> shift)) {
			if (bad)
				*bad = p;
			return PARSE_OVERFLOW;
		}
		val <<= shift;
		if (p[1]) {
			if (bad)
				*bad = p + 1;
			return PARSE_BAD_CHAR;
		}
	}
	*out = val;
	return PARSE_OK;
}

/* Parses the whole of <text> as a decimal integer with an optional sign.
 * PARSE_EMPTY for an empty string, PARSE_BAD_CHAR on the first character
 * that is not a digit (including a lone sign), PARSE_OVERFLOW (*bad on the
 * text) when the value is outside [lo, hi], whichever side. *out is only
 * written on success.
 */
enum parse_err parse_int(const char *text, long long lo, long long hi, long long *out, const char **bad)
{
	unsigned long long mag = 0;
	const char *p = text;
	int neg = 0, big = 0;
	long long val;

	if (bad)
		*bad = NULL;
	if (!text || !*text) {
		if (bad)
			*bad = text;
		return PARSE_EMPTY;
	}
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (!isdigit((unsigned char)*p)) {
		if (bad)
			*bad = p;
		return PARSE_BAD_CHAR;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		if (mag > ((unsigned long long)LLONG_MAX + 1 - (unsigned)(*p - '0')) / 10)
			big = 1;
		else
			mag = mag * 10 + (unsigned)(*p - '0');
	}
	if (*p) {
		if (bad)
			*bad = p;
		return PARSE_BAD_CHAR;
	}
	if (big || (!neg && mag > (unsigned long long)LLONG_MAX))
		goto range;
	if (neg)
		val = mag ? -(long long)(mag - 1) - 1 : 0;
	else
		val = (long long)mag;
	if (val < lo || val > hi)
		goto range;
	*out = val;
	return PARSE_OK;

range:
	if (bad)
		*bad = text;
	return PARSE_OVERFLOW;
}

/* Writes into <buf> the message for error <e> met while parsing <arg> as
 * the argument of keyword <kw>. Time messages are HAProxy's 'timeout'
 * wording and the size message is its stick-table one (without the
 * "stick-table: " prefix that the caller may add). Two messages read better
 * than HAProxy's on purpose: a size above 2^32-1 says it overflows where
 * HAProxy only names an "unexpected character", and integers, which HAProxy
 * mostly reads with atol() and never checks, get a plain range message.
 */
void parse_err_str(char *buf, unsigned size, enum parse_err e, const char *what,
                   const char *arg, const char *bad, const char *kw)
{
	int is_time = what && what[0] == 't';
	int is_size = what && what[0] == 's';
	char c = bad && *bad ? *bad : ' ';

	if (!buf || !size)
		return;
	if (!arg)
		arg = "";
	if (!kw)
		kw = "";
	if (!what)
		what = "integer";

	switch (e) {
	case PARSE_OK:
		snprintf(buf, size, "no error");
		break;
	case PARSE_BAD_CHAR:
		if (is_time)
			snprintf(buf, size, "unexpected character '%c' in '%s'", c, kw);
		else if (is_size)
			snprintf(buf, size, "unexpected character '%c' in argument of '%s'", c, kw);
		else
			snprintf(buf, size, "unexpected character '%c' in %s argument '%s' to '%s'", c, what, arg, kw);
		break;
	case PARSE_OVERFLOW:
		if (is_time)
			snprintf(buf, size, "timer overflow in argument '%s' to '%s' "
			         "(maximum value is 2147483647 ms or ~24.8 days)", arg, kw);
		else if (is_size)
			snprintf(buf, size, "size overflow in argument '%s' to '%s' "
			         "(maximum value is 4294967295)", arg, kw);
		else
			snprintf(buf, size, "%s value '%s' is out of range for '%s'", what, arg, kw);
		break;
	case PARSE_UNDERFLOW:
		if (is_time)
			snprintf(buf, size, "timer underflow in argument '%s' to '%s' "
			         "(minimum non-null value is 1 ms)", arg, kw);
		else
			snprintf(buf, size, "%s value '%s' is too small for '%s'", what, arg, kw);
		break;
	case PARSE_EMPTY:
		if (is_time)
			snprintf(buf, size, "'%s' expects an integer value (in milliseconds)", kw);
		else
			snprintf(buf, size, "'%s' expects an integer argument.", kw);
		break;
	default:
		snprintf(buf, size, "cannot parse '%s' for '%s'", arg, kw);
		break;
	}
}
