/* Unit tests for src/counters_xfer.c: the counters a worker hands to the
 * next one at a master-worker reload are added by proxy and server names;
 * unknown names, lines of another layout and a missing header change
 * nothing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <proxyd/cfg.h>
#include <proxyd/counters.h>
#include <proxyd/diag.h>
#include <proxyd/global.h>
#include <proxyd/master.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>

void cfg_parse_reset(void);

static char out[1 << 14];

static const char cfg[] =
	"defaults\n"
	"    mode http\n"
	"    timeout connect 1s\n"
	"    timeout client 1s\n"
	"    timeout server 1s\n"
	"frontend fe\n"
	"    bind 127.0.0.1:18080\n"
	"    default_backend be\n"
	"backend be\n"
	"    server s1 127.0.0.1:8001\n"
	"    server s2 127.0.0.1:8002\n";

static void reset(void)
{
	diag_capture(NULL, 0);
	cfg_deinit();
	cfg_parse_reset();
	memset(&global, 0, sizeof(global));
	global.poison = -1;
}

static int setup(void **state)
{
	reset();
	diag_capture(out, sizeof(out));
	int err = cfg_parse_string("test.cfg", cfg);
	if (!(err & ERR_FATAL))
		err |= cfg_post_parse();
	return (err & ERR_FATAL) ? -1 : 0;
}

static int teardown(void **state)
{
	reset();
	return 0;
}

/* "<kind> <name>" then values 1, 2, 3... times <mul>. */
static void line(char *buf, size_t size, const char *kind, const char *name, unsigned mul)
{
	size_t n = (size_t)snprintf(buf, size, "%s %s", kind, name);
	for (size_t i = 0; i < COUNTERS_NB_FIELDS; i++)
		n += (size_t)snprintf(buf + n, size - n, " %zu", (i + 1) * mul);
	snprintf(buf + n, size - n, "\n");
}

static void test_applied_by_name(void **state)
{
	char text[8192], l[1024];
	struct proxy *fe = proxy_find("fe", PR_CAP_FE), *be = proxy_find("be", PR_CAP_BE);
	struct server *s2 = proxy_find_server(be, "s2");

	assert_non_null(fe);
	assert_non_null(s2);
	fe->fe_counters[0].cum_req = 5;   /* already counted by the new worker */
	snprintf(text, sizeof(text), "# proxyd counters 1 %zu\n", (size_t)COUNTERS_NB_FIELDS);
	line(l, sizeof(l), "fe", "fe", 1);
	strcat(text, l);
	line(l, sizeof(l), "be", "be", 10);
	strcat(text, l);
	line(l, sizeof(l), "srv", "be/s2", 100);
	strcat(text, l);
	line(l, sizeof(l), "srv", "be/gone", 7);   /* removed from the configuration */
	strcat(text, l);
	line(l, sizeof(l), "fe", "other", 7);
	strcat(text, l);

	assert_int_equal(counters_apply_text(text, strlen(text)), 3);
	assert_int_equal(fe->fe_counters[0].cum_conn, 1);
	assert_int_equal(fe->fe_counters[0].cum_sess, 2);
	assert_int_equal(fe->fe_counters[0].cum_req, 5 + 3);
	assert_int_equal(be->be_counters[0].cum_conn, 10);
	assert_int_equal(s2->counters[0].cum_sess, 200);
	assert_int_equal(proxy_find_server(be, "s1")->counters[0].cum_sess, 0);
}

static void test_other_layout_ignored(void **state)
{
	char text[8192], l[1024];
	struct proxy *fe = proxy_find("fe", PR_CAP_FE);

	/* no header: nothing is trusted */
	line(l, sizeof(l), "fe", "fe", 1);
	assert_int_equal(counters_apply_text(l, strlen(l)), 0);
	/* a header announcing another number of values */
	snprintf(text, sizeof(text), "# proxyd counters 1 %zu\n%s", (size_t)COUNTERS_NB_FIELDS + 1, l);
	assert_int_equal(counters_apply_text(text, strlen(text)), 0);
	/* a truncated line */
	snprintf(text, sizeof(text), "# proxyd counters 1 %zu\nfe fe 1 2 3\n", (size_t)COUNTERS_NB_FIELDS);
	assert_int_equal(counters_apply_text(text, strlen(text)), 0);
	assert_int_equal(fe->fe_counters[0].cum_conn, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_applied_by_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_layout_ignored, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
