/* Unit tests for src/units.c: times, sizes, integers and their messages.
 * Expected values and messages were checked against HAProxy 2.6.12.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <proxyd/diag.h>
#include <proxyd/units.h>

static char captured[4096];

static int setup(void **state)
{
	diag_capture(captured, sizeof(captured));
	return 0;
}

static int teardown(void **state)
{
	diag_capture(NULL, 0);
	return 0;
}

/* Parses <text> as a time in milliseconds and checks the outcome. */
static void check_time(const char *text, unsigned unit_ms, enum parse_err want, unsigned want_ms,
                       int bad_off)
{
	unsigned ms = 12345;
	const char *bad = (const char *)1;
	enum parse_err e = parse_time(text, unit_ms, &ms, &bad);

	assert_int_equal(e, want);
	if (want == PARSE_OK) {
		assert_int_equal(ms, want_ms);
		assert_null(bad);
	} else {
		assert_int_equal(ms, 12345);
		assert_non_null(bad);
		assert_int_equal(bad - text, bad_off);
	}
}

static void test_time_units(void **state)
{
	check_time("0", 1, PARSE_OK, 0, 0);
	check_time("5000", 1, PARSE_OK, 5000, 0);
	check_time("5ms", 1, PARSE_OK, 5, 0);
	check_time("5s", 1, PARSE_OK, 5000, 0);
	check_time("2m", 1, PARSE_OK, 120000, 0);
	check_time("1h", 1, PARSE_OK, 3600000, 0);
	check_time("1d", 1, PARSE_OK, 86400000, 0);
	check_time("24d", 1, PARSE_OK, 2073600000, 0);
	check_time("007", 1, PARSE_OK, 7, 0);
	assert_string_equal(captured, "");
}

static void test_time_microseconds_round_up(void **state)
{
	/* HAProxy accepts "timeout client 1us" as 1 ms, and rounds up */
	check_time("1us", 1, PARSE_OK, 1, 0);
	check_time("1000us", 1, PARSE_OK, 1, 0);
	check_time("1001us", 1, PARSE_OK, 2, 0);
	check_time("1500us", 1, PARSE_OK, 2, 0);
	check_time("0us", 1, PARSE_OK, 0, 0);
}

static void test_time_default_unit(void **state)
{
	/* a bare number counts the keyword's own unit */
	check_time("5", 1000, PARSE_OK, 5000, 0);
	check_time("5s", 1000, PARSE_OK, 5000, 0);
	/* "stats refresh 1500ms" is 2 s in HAProxy: round up to the unit */
	check_time("1500ms", 1000, PARSE_OK, 2000, 0);
	check_time("500ms", 1000, PARSE_OK, 1000, 0);
	check_time("1us", 1000, PARSE_OK, 1000, 0);
	check_time("0ms", 1000, PARSE_OK, 0, 0);
	/* 0 is taken as 1 */
	check_time("7", 0, PARSE_OK, 7, 0);
}

static void test_time_overflow(void **state)
{
	check_time("2147483647", 1, PARSE_OK, 2147483647u, 0);
	check_time("2147483647ms", 1, PARSE_OK, 2147483647u, 0);
	check_time("2147483647000us", 1, PARSE_OK, 2147483647u, 0);
	check_time("2147483648", 1, PARSE_OVERFLOW, 0, 0);
	check_time("2147483648000us", 1, PARSE_OVERFLOW, 0, 0);
	check_time("30d", 1, PARSE_OVERFLOW, 0, 0);
	check_time("25d", 1, PARSE_OVERFLOW, 0, 0);
	check_time("596h", 1, PARSE_OK, 2145600000u, 0);
	check_time("597h", 1, PARSE_OVERFLOW, 0, 0);
	check_time("4294967296", 1, PARSE_OVERFLOW, 0, 0);
	check_time("99999999999999999999", 1, PARSE_OVERFLOW, 0, 0);
	check_time("1000000000000000000000000000s", 1, PARSE_OVERFLOW, 0, 0);
	check_time("2147484", 1000, PARSE_OVERFLOW, 0, 0);
	check_time("2147483", 1000, PARSE_OK, 2147483000u, 0);
}

static void test_time_bad_char(void **state)
{
	check_time("5x", 1, PARSE_BAD_CHAR, 0, 1);
	check_time("-1", 1, PARSE_BAD_CHAR, 0, 0);
	check_time("+5", 1, PARSE_BAD_CHAR, 0, 0);
	check_time("1.5s", 1, PARSE_BAD_CHAR, 0, 1);
	check_time("5S", 1, PARSE_BAD_CHAR, 0, 1);
	check_time("5MS", 1, PARSE_BAD_CHAR, 0, 1);
	check_time("5u", 1, PARSE_BAD_CHAR, 0, 1);
	check_time("0x10", 1, PARSE_BAD_CHAR, 0, 1);
	check_time(" 5", 1, PARSE_BAD_CHAR, 0, 0);
	check_time("s", 1, PARSE_BAD_CHAR, 0, 0);
	check_time("", 1, PARSE_EMPTY, 0, 0);
	assert_int_equal(parse_time(NULL, 1, &(unsigned){ 0 }, NULL), PARSE_EMPTY);
	assert_string_equal(captured, "");
}

static void test_time_trailing_garbage_warns(void **state)
{
	/* HAProxy 2.6 accepts these with a warning */
	check_time("1sx", 1, PARSE_OK, 1000, 0);
	assert_string_equal(captured,
		"config : unexpected character 'x' after the timer value '1sx', only "
		"(us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are "
		"supported. This will be reported as an error in next versions.\n");
	captured[0] = 0;
	check_time("1s5", 1, PARSE_OK, 1000, 0);
	assert_non_null(strstr(captured, "unexpected character '5' after the timer value '1s5'"));
	captured[0] = 0;
	check_time("5mss", 1, PARSE_OK, 5, 0);
	assert_non_null(strstr(captured, "unexpected character 's' after the timer value '5mss'"));
	captured[0] = 0;
	check_time("2usx", 1, PARSE_OK, 1, 0);
	assert_non_null(strstr(captured, "'x' after the timer value '2usx'"));
	captured[0] = 0;
	/* "5m" followed by 'x' is five minutes and a warning */
	check_time("5mx", 1, PARSE_OK, 300000, 0);
	assert_non_null(strstr(captured, "'x' after the timer value '5mx'"));
}

static void check_size(const char *text, enum parse_err want, uint64_t want_val, int bad_off)
{
	uint64_t v = 777;
	const char *bad = (const char *)1;
	enum parse_err e = parse_size(text, &v, &bad);

	assert_int_equal(e, want);
	if (want == PARSE_OK) {
		assert_true(v == want_val);
		assert_null(bad);
	} else {
		assert_true(v == 777);
		assert_int_equal(bad - text, bad_off);
	}
}

static void test_size(void **state)
{
	check_size("0", PARSE_OK, 0, 0);
	check_size("16384", PARSE_OK, 16384, 0);
	check_size("16k", PARSE_OK, 16384, 0);
	check_size("16K", PARSE_OK, 16384, 0);
	check_size("1m", PARSE_OK, 1048576, 0);
	check_size("1M", PARSE_OK, 1048576, 0);
	check_size("1g", PARSE_OK, 1073741824, 0);
	check_size("3G", PARSE_OK, 3221225472u, 0);
	check_size("4095m", PARSE_OK, 4293918720u, 0);
	check_size("4294967295", PARSE_OK, 4294967295u, 0);
}

static void test_size_errors(void **state)
{
	/* positions are those of HAProxy's "unexpected character" */
	check_size("16q", PARSE_BAD_CHAR, 0, 2);
	check_size("10kk", PARSE_BAD_CHAR, 0, 3);
	check_size("1m1", PARSE_BAD_CHAR, 0, 2);
	check_size("16kb", PARSE_BAD_CHAR, 0, 3);
	check_size("x", PARSE_BAD_CHAR, 0, 0);
	check_size("-1", PARSE_BAD_CHAR, 0, 0);
	check_size("1t", PARSE_BAD_CHAR, 0, 1);
	check_size("", PARSE_EMPTY, 0, 0);
	check_size("4g", PARSE_OVERFLOW, 0, 1);
	check_size("4096m", PARSE_OVERFLOW, 0, 4);
	check_size("4294967296", PARSE_OVERFLOW, 0, 9);
	check_size("99999999999999999999", PARSE_OVERFLOW, 0, 9);
}

static void check_int(const char *text, long long lo, long long hi, enum parse_err want,
                      long long want_val, int bad_off)
{
	long long v = -777;
	const char *bad = (const char *)1;
	enum parse_err e = parse_int(text, lo, hi, &v, &bad);

	assert_int_equal(e, want);
	if (want == PARSE_OK) {
		assert_true(v == want_val);
		assert_null(bad);
	} else {
		assert_true(v == -777);
		assert_int_equal(bad - text, bad_off);
	}
}

static void test_int(void **state)
{
	check_int("0", 0, 10, PARSE_OK, 0, 0);
	check_int("10", 0, 10, PARSE_OK, 10, 0);
	check_int("-5", -10, 10, PARSE_OK, -5, 0);
	check_int("+5", -10, 10, PARSE_OK, 5, 0);
	check_int("-0", 0, 10, PARSE_OK, 0, 0);
	check_int("9223372036854775807", LLONG_MIN, LLONG_MAX, PARSE_OK, LLONG_MAX, 0);
	check_int("-9223372036854775808", LLONG_MIN, LLONG_MAX, PARSE_OK, LLONG_MIN, 0);
}

static void test_int_errors(void **state)
{
	check_int("", 0, 10, PARSE_EMPTY, 0, 0);
	check_int("11", 0, 10, PARSE_OVERFLOW, 0, 0);
	check_int("-1", 0, 10, PARSE_OVERFLOW, 0, 0);
	check_int("9223372036854775808", LLONG_MIN, LLONG_MAX, PARSE_OVERFLOW, 0, 0);
	check_int("-9223372036854775809", LLONG_MIN, LLONG_MAX, PARSE_OVERFLOW, 0, 0);
	check_int("99999999999999999999999", 0, 10, PARSE_OVERFLOW, 0, 0);
	check_int("5x", 0, 10, PARSE_BAD_CHAR, 0, 1);
	check_int("16k", 0, 100000, PARSE_BAD_CHAR, 0, 2);
	check_int("-", 0, 10, PARSE_BAD_CHAR, 0, 1);
	check_int(" 5", 0, 10, PARSE_BAD_CHAR, 0, 0);
	check_int("5 ", 0, 10, PARSE_BAD_CHAR, 0, 1);
	check_int("0x10", 0, 100, PARSE_BAD_CHAR, 0, 1);
}

static void test_messages_time(void **state)
{
	char buf[256];
	const char *bad;
	unsigned ms;

	assert_int_equal(parse_time("30d", 1, &ms, &bad), PARSE_OVERFLOW);
	parse_err_str(buf, sizeof(buf), PARSE_OVERFLOW, "time", "30d", bad, "timeout server");
	assert_string_equal(buf, "timer overflow in argument '30d' to 'timeout server' "
	                    "(maximum value is 2147483647 ms or ~24.8 days)");

	assert_int_equal(parse_time("5x", 1, &ms, &bad), PARSE_BAD_CHAR);
	parse_err_str(buf, sizeof(buf), PARSE_BAD_CHAR, "time", "5x", bad, "timeout client");
	assert_string_equal(buf, "unexpected character 'x' in 'timeout client'");

	assert_int_equal(parse_time("", 1, &ms, &bad), PARSE_EMPTY);
	parse_err_str(buf, sizeof(buf), PARSE_EMPTY, "time", "", bad, "timeout client");
	assert_string_equal(buf, "'timeout client' expects an integer value (in milliseconds)");

	parse_err_str(buf, sizeof(buf), PARSE_UNDERFLOW, "time", "0", NULL, "timeout client");
	assert_string_equal(buf, "timer underflow in argument '0' to 'timeout client' "
	                    "(minimum non-null value is 1 ms)");
}

static void test_messages_size_int(void **state)
{
	char buf[256];
	const char *bad;
	uint64_t sz;
	long long v;

	assert_int_equal(parse_size("10q", &sz, &bad), PARSE_BAD_CHAR);
	parse_err_str(buf, sizeof(buf), PARSE_BAD_CHAR, "size", "10q", bad, "size");
	assert_string_equal(buf, "unexpected character 'q' in argument of 'size'");

	assert_int_equal(parse_size("4g", &sz, &bad), PARSE_OVERFLOW);
	parse_err_str(buf, sizeof(buf), PARSE_OVERFLOW, "size", "4g", bad, "size");
	assert_string_equal(buf, "size overflow in argument '4g' to 'size' (maximum value is 4294967295)");

	parse_err_str(buf, sizeof(buf), PARSE_EMPTY, "size", "", NULL, "tune.bufsize");
	assert_string_equal(buf, "'tune.bufsize' expects an integer argument.");

	assert_int_equal(parse_int("16q", 0, 1 << 30, &v, &bad), PARSE_BAD_CHAR);
	parse_err_str(buf, sizeof(buf), PARSE_BAD_CHAR, "integer", "16q", bad, "tune.bufsize");
	assert_string_equal(buf, "unexpected character 'q' in integer argument '16q' to 'tune.bufsize'");

	parse_err_str(buf, sizeof(buf), PARSE_OVERFLOW, "integer", "300", NULL, "weight");
	assert_string_equal(buf, "integer value '300' is out of range for 'weight'");

	parse_err_str(buf, sizeof(buf), PARSE_EMPTY, "integer", "", NULL, "maxconn");
	assert_string_equal(buf, "'maxconn' expects an integer argument.");

	/* NULL what counts as an integer; truncation is safe */
	parse_err_str(buf, 8, PARSE_BAD_CHAR, NULL, "5x", "x", "k");
	assert_string_equal(buf, "unexpec");
	parse_err_str(buf, sizeof(buf), PARSE_OK, "time", "5", NULL, "k");
	assert_string_equal(buf, "no error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_time_units, setup, teardown),
		cmocka_unit_test_setup_teardown(test_time_microseconds_round_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_time_default_unit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_time_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_time_bad_char, setup, teardown),
		cmocka_unit_test_setup_teardown(test_time_trailing_garbage_warns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_int, setup, teardown),
		cmocka_unit_test_setup_teardown(test_int_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_messages_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_messages_size_int, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
