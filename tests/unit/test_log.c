/* Unit tests for the log targets (src/log_target.c): lines that a target
 * cannot take at once are dropped and counted, never waited for nor
 * queued: a unix socket that does not exist, a unix socket whose queue is
 * full. The counters are not visible from outside the process (no stats
 * socket on this branch), hence these tests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include <proxyd/cfg.h>
#include <proxyd/diag.h>
#include <proxyd/global.h>
#include <proxyd/log.h>

#define CFG_FX_OUT_SIZE (1 << 14)
#define CFG_FX_OWN_SETUP
#include "cfg_fixture.h"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/proxyd-test-log-XXXXXX");
	assert_non_null(mkdtemp(dir));
	reset_state();
	return 0;
}

static int teardown(void **state)
{
	char p[128];

	reset_state();
	diag_capture(NULL, 0);
	snprintf(p, sizeof(p), "%s/full.sock", dir);
	unlink(p);
	rmdir(dir);
	return 0;
}

static double now_s(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* A unix datagram socket at <path> with a tiny queue, never read. */
static int full_listener(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	int sz = 1024;

	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(un.sun_path));
	memcpy(un.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&un, sizeof(un)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	return fd;
}

static void test_dropped_lines_are_counted(void **state)
{
	char cfg[512], path[128];
	char line[600];

	snprintf(path, sizeof(path), "%s/full.sock", dir);
	int lfd = full_listener(path);
	snprintf(cfg, sizeof(cfg), "global\n  log %s/missing.sock local0\n  log %s len 1000 local1\n", dir, path);
	assert_int_equal(cfg_parse_string("t", cfg), 0);
	assert_int_equal(cfg_post_parse() & ERR_FATAL, 0);
	assert_int_equal(log_global.list.nb, 2);
	struct log_target *missing = log_global.list.t[0], *full = log_global.list.t[1];

	memset(line, 'x', sizeof(line));
	double t0 = now_s();
	for (int i = 0; i < 2000; i++)
		log_send(NULL, LOGL_INFO, line, sizeof(line), NULL, 0);
	/* never waits for a receiver: 2000 sends take no time at all */
	assert_true(now_s() - t0 < 2.0);
	assert_int_equal(missing->sent, 0);
	assert_int_equal(missing->dropped, 2000);
	assert_true(full->sent > 0);
	assert_true(full->dropped > 0);
	assert_int_equal(full->sent + full->dropped, 2000);
	assert_int_equal(log_global.dropped, missing->dropped + full->dropped);
	close(lfd);
}

static void test_levels_are_filtered_before_sending(void **state)
{
	char cfg[256];

	snprintf(cfg, sizeof(cfg), "global\n  log %s/missing.sock local0 notice\n", dir);
	assert_int_equal(cfg_parse_string("t", cfg), 0);
	assert_int_equal(cfg_post_parse() & ERR_FATAL, 0);
	struct log_target *t = log_global.list.t[0];
	log_send(NULL, LOGL_INFO, "info", 4, NULL, 0);
	log_send(NULL, LOGL_DEBUG, "debug", 5, NULL, 0);
	assert_int_equal(t->sent + t->dropped, 0);
	log_send(NULL, LOGL_ERR, "err", 3, NULL, 0);
	assert_int_equal(t->dropped, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dropped_lines_are_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_levels_are_filtered_before_sending, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
