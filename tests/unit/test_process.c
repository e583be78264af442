/* Unit tests for src/process.c: the file descriptor need computed from
 * maxconn, and the process keywords of the global section (values, unknown
 * user or group, hard-stop-after). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <proxyd/cfg.h>
#include <proxyd/diag.h>
#include <proxyd/global.h>
#include <proxyd/process.h>

void cfg_parse_reset(void);

static char out[8192];

static void reset(void)
{
	diag_capture(NULL, 0);
	cfg_deinit();
	cfg_parse_reset();
	memset(&global, 0, sizeof(global));
	global.poison = -1;
	out[0] = 0;
	diag_capture(out, sizeof(out));
}

static int setup(void **state)
{
	reset();
	return 0;
}

static int teardown(void **state)
{
	reset();
	diag_capture(NULL, 0);
	return 0;
}

static void test_ulimit_needed(void **state)
{
	/* two sockets per connection, then listeners, checks and the margin
	 * (HAProxy asks 30017 for maxconn 15000 and one listener) */
	assert_int_equal(ulimit_needed(15000, 1, 0), 30000 + 1 + ULIMIT_MARGIN);
	assert_int_equal(ulimit_needed(1000, 2, 1), 2003 + ULIMIT_MARGIN);
	assert_int_equal(ulimit_needed(0, 0, 0), ULIMIT_MARGIN);
	/* no overflow with the largest maxconn */
	assert_int_equal(ulimit_needed(1000000, 100000, 100000), 2200000 + ULIMIT_MARGIN);
	assert_true(ulimit_needed(1 << 30, 0, 0) > 0);
}

static void test_keywords(void **state)
{
	int err = cfg_parse_string("t", "global\n  daemon\n  pidfile /run/p.pid\n  chroot /var/empty\n"
	                                "  uid 65534\n  gid 65533\n  ulimit-n 4096\n  hard-stop-after 90s\n");
	assert_int_equal(err & (ERR_ALERT | ERR_FATAL), 0);
	assert_int_equal(global.daemon, 1);
	assert_string_equal(global.pidfile, "/run/p.pid");
	assert_string_equal(global.chroot, "/var/empty");
	assert_int_equal(global.uid, 65534);
	assert_int_equal(global.gid, 65533);
	assert_int_equal(global.ulimit_n, 4096);
	assert_int_equal(global.hard_stop_after, 90000);
}

static void test_user_group_names(void **state)
{
	int err = cfg_parse_string("t", "global\n  user root\n  group root\n");
	assert_int_equal(err & (ERR_ALERT | ERR_FATAL), 0);
	assert_int_equal(global.uid, 0);
	assert_int_equal(global.gid, 0);

	reset();
	err = cfg_parse_string("t", "global\n  user no-such-user-here\n");
	assert_true(err & ERR_ALERT);
	assert_non_null(strstr(out, "config : parsing [t:2] : 'user': unknown user 'no-such-user-here'"));
	reset();
	err = cfg_parse_string("t", "global\n  group no-such-group-here\n");
	assert_true(err & ERR_ALERT);
	assert_non_null(strstr(out, "'group': unknown group 'no-such-group-here'"));
}

static void test_bad_values(void **state)
{
	assert_true(cfg_parse_string("t", "global\n  ulimit-n 0\n") & ERR_ALERT);
	reset();
	assert_true(cfg_parse_string("t", "global\n  ulimit-n\n") & ERR_ALERT);
	reset();
	assert_true(cfg_parse_string("t", "global\n  hard-stop-after soon\n") & ERR_ALERT);
	reset();
	assert_true(cfg_parse_string("t", "global\n  daemon now\n") & ERR_ALERT);
	reset();
	assert_true(cfg_parse_string("t", "frontend fe\n  daemon\n") & ERR_ALERT);
	/* master-worker is for the global section only */
	reset();
	assert_true(cfg_parse_string("t", "frontend fe\n  master-worker\n") & ERR_ALERT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ulimit_needed),
		cmocka_unit_test_setup_teardown(test_keywords, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_group_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
