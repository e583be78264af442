/* Unit tests for src/server_state.c: splitting and checking the lines of
 * a "show servers state" dump, the dump-level errors of
 * server_state_apply_text(), the keywords and the reading of the files
 * when the configuration is checked. Messages and limits were compared
 * with HAProxy 2.6.12. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <proxyd/cfg.h>
#include <proxyd/diag.h>
#include <proxyd/global.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>
#include <proxyd/server_state.h>

#define CFG_FX_OUT_SIZE (1 << 14)
#include "cfg_fixture.h"

static char tmpdir[64];

#define GOOD "2 bk 1 s1 127.0.0.1 2 0 10 10 42 15 3 4 6 0 0 0 - 8001 - 0 0 - - 0"

static int split(char *line, char **f)
{
	return srv_state_split(line, f, SRV_STATE_MAX_FIELDS);
}

static void test_split(void **state)
{
	char line[] = "  1\tbk  2 s2   ";
	char *f[SRV_STATE_MAX_FIELDS];

	assert_int_equal(split(line, f), 4);
	assert_string_equal(f[0], "1");
	assert_string_equal(f[1], "bk");
	assert_string_equal(f[2], "2");
	assert_string_equal(f[3], "s2");

	char empty[] = "   ";
	assert_int_equal(split(empty, f), 0);

	/* more words than room: all counted, the first ones kept */
	char many[] = "a b c d e f g h i j k l m n o p q r s t u v w x y z";
	assert_int_equal(split(many, f), 26);
	assert_string_equal(f[24], "y");
}

static void test_parse_good(void **state)
{
	char line[] = GOOD;
	char *f[SRV_STATE_MAX_FIELDS];
	struct srv_state_line st;
	char err[256];

	int nf = split(line, f);
	assert_int_equal(nf, 25);
	assert_int_equal(srv_state_parse_line(f, nf, &st, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(st.be_id, 2);
	assert_string_equal(st.be_name, "bk");
	assert_int_equal(st.srv_id, 1);
	assert_string_equal(st.srv_name, "s1");
	assert_string_equal(st.addr, "127.0.0.1");
	assert_int_equal(st.op_state, SRV_ST_RUNNING);
	assert_int_equal(st.admin, 0);
	assert_int_equal(st.uweight, 10);
	assert_int_equal(st.iweight, 10);
	assert_int_equal(st.since_change, 42);
	assert_int_equal(st.chk_status, 15);
	assert_int_equal(st.chk_result, 3);
	assert_int_equal(st.chk_health, 4);
	assert_int_equal(st.chk_state, CHK_STATE_CONFIGURED | CHK_STATE_ENABLED);
	assert_string_equal(st.fqdn, "-");
	assert_int_equal(st.port, 8001);
}

/* The 20 fields HAProxy requires at least (up to srvrecord). */
static void test_parse_minimum(void **state)
{
	char line[] = "2 bk 1 s1 ::1 0 9 3 10 0 1 0 0 10 0 0 0 - 0 -";
	char *f[SRV_STATE_MAX_FIELDS];
	struct srv_state_line st;
	char err[256];

	int nf = split(line, f);
	assert_int_equal(nf, SRV_STATE_MIN_FIELDS);
	assert_int_equal(srv_state_parse_line(f, nf, &st, err, sizeof(err)), 0);
	assert_int_equal(st.admin, SRV_ADMF_FMAINT | SRV_ADMF_FDRAIN);
	assert_int_equal(st.port, 0);

	char short_line[] = "2 bk 1 s1 ::1 0 9 3 10 0 1 0 0 10 0 0 0 - 0";
	nf = split(short_line, f);
	assert_int_equal(srv_state_parse_line(f, nf, &st, err, sizeof(err)), -1);
}

/* Every bad value is named, in HAProxy's words. */
static void test_parse_bad_values(void **state)
{
	char line[] = "2 bk 1 s1 not-an-ip 4 128 257 -1 x 21 5 h 0 0 0 0 - 70000 -";
	char *f[SRV_STATE_MAX_FIELDS];
	struct srv_state_line st;
	char err[1024];

	int nf = split(line, f);
	assert_int_equal(srv_state_parse_line(f, nf, &st, err, sizeof(err)), -1);
	assert_string_equal(err, ", invalid srv_op_state value '4', invalid srv_admin_state value '128', "
	                    "invalid srv_uweight value '257', invalid srv_iweight value '-1', invalid "
	                    "srv_check_status value '21', invalid srv_check_result value '5', invalid "
	                    "srv_check_health value 'h', invalid srv_port value '70000', invalid "
	                    "srv_last_time_change value 'x', invalid srv_addr value 'not-an-ip'");

	char one[] = "2 bk 1 s1 127.0.0.1 9 8 3 20 100 1 0 0 0 0 0 0 - 8002 -";
	nf = split(one, f);
	assert_int_equal(srv_state_parse_line(f, nf, &st, err, sizeof(err)), -1);
	assert_string_equal(err, ", invalid srv_op_state value '9'");
}

/* What makes a whole dump unusable: then nothing is applied. */
static void test_apply_text_errors(void **state)
{
	char err[256];
	const char *cases[][2] = {
		{ "", "not a server state dump: the first line must be the format version '1'" },
		{ "2\n" GOOD "\n", "not a server state dump: the first line must be the format version '1'" },
		{ "# comment\n1\n", "not a server state dump: the first line must be the format version '1'" },
		{ "1\n# header\n" GOOD "\n2 bk 2 s2 127.0.0.1 2 0\n",
		  "corrupted server state at line 3 (fewer than 20 fields)" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = 0;
		assert_int_equal(server_state_apply_text(cases[i][0], strlen(cases[i][0]), err, sizeof(err)), -1);
		assert_string_equal(err, cases[i][1]);
	}
}

/* A valid dump naming nothing of the configuration: each line skipped
 * with a warning, duplicates once, comments and blank lines ignored. */
static void test_apply_text_unknown(void **state)
{
	const char *text = "1\r\n# be_id be_name ...\r\n\r\n" GOOD "\r\n" GOOD "\n   \n"
	                   "3 other 1 x 127.0.0.1 2 0 1 1 0 1 0 0 0 0 0 0 - 80 -";
	char err[256] = "";

	assert_int_equal(server_state_apply_text(text, strlen(text), err, sizeof(err)), 0);
	assert_string_equal(out, "config : server state: can't find backend 'bk' for server 's1' (line 3).\n"
	                         "config : server state: can't find backend 'other' for server 'x' (line 6).\n");
}

/* Keywords: where they go, their arguments, HAProxy's messages. */
static void test_keywords(void **state)
{
	static const char *base = "defaults\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\n";
	char cfg[2048];
	struct proxy *px;

	snprintf(cfg, sizeof(cfg), "global\n    server-state-file st\n    server-state-base /var/lib/x\n"
	         "    server-state-file other\n%s    load-server-state-from-file local\n"
	         "backend b1\n    server-state-file-name use-backend-name\n    server s 127.0.0.1:1\n"
	         "backend b2\n    load-server-state-from-file global\n    server-state-file-name b2.state\n"
	         "    server s 127.0.0.1:1\n"
	         "backend b3\n    load-server-state-from-file none\n    server-state-file-name\n"
	         "    server s 127.0.0.1:1\n", base);
	int err = cfg_parse_string("t", cfg);
	assert_int_equal(err & ERR_FATAL, 0);
	assert_int_equal(err & ERR_ALERT, ERR_ALERT);
	assert_string_equal(out, "config : parsing [t:4] : 'server-state-file' already specified. Continuing.\n");
	px = proxy_find("b1", PR_CAP_BE);
	assert_int_equal(px->c.srv_state_load, SRV_STATE_LOAD_LOCAL);
	assert_null(px->c.srv_state_name);
	px = proxy_find("b2", PR_CAP_BE);
	assert_int_equal(px->c.srv_state_load, SRV_STATE_LOAD_GLOBAL);
	assert_string_equal(px->c.srv_state_name, "b2.state");
	px = proxy_find("b3", PR_CAP_BE);
	assert_int_equal(px->c.srv_state_load, SRV_STATE_LOAD_NONE);

	reset_state();
	snprintf(cfg, sizeof(cfg), "%s    load-server-state-from-file\nbackend b\n"
	         "    load-server-state-from-file bogus\n    server s 127.0.0.1:1\n", base);
	err = cfg_parse_string("t", cfg);
	assert_int_equal(err & ERR_FATAL, ERR_FATAL);
	assert_string_equal(out, "config : parsing [t:5] : 'load-server-state-from-file' expects 'global', "
	                         "'local' or 'none'. Got ''\n"
	                         "config : parsing [t:7] : 'load-server-state-from-file' expects 'global', "
	                         "'local' or 'none'. Got 'bogus'\n");

	reset_state();
	err = cfg_parse_string("t", "global\n    server-state-base\n");
	assert_int_equal(err & ERR_FATAL, ERR_FATAL);

	/* HAProxy ignores extra arguments: accepted, with a warning */
	reset_state();
	snprintf(cfg, sizeof(cfg), "global\n    server-state-file a b\n%s    load-server-state-from-file global x\n",
	         base);
	err = cfg_parse_string("t", cfg);
	assert_int_equal(err & (ERR_FATAL | ERR_WARN), ERR_WARN);
	assert_string_equal(out, "config : parsing [t:2] : 'server-state-file' takes one argument; 'b' and what "
	                         "follows are ignored\n"
	                         "config : parsing [t:7] : 'load-server-state-from-file' takes one argument; 'x' and "
	                         "what follows are ignored\n");
}

static void write_state(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The files are read when the configuration is checked: what is wrong
 * with them is said then, in HAProxy's words. */
static void test_files_checked(void **state)
{
	char cfg[2048];

	write_state("bad-version", "2\n");
	write_state("corrupt", "1\n# header\n" GOOD "\n2 bk 1 s1\n");
	write_state("b3", "1\n" GOOD "\n");
	snprintf(cfg, sizeof(cfg),
	         "global\n    server-state-base %s/\n    server-state-file bad-version\n"
	         "defaults\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\n"
	         "backend b1\n    load-server-state-from-file global\n    server s 127.0.0.1:1\n"
	         "backend b2\n    load-server-state-from-file local\n    server-state-file-name corrupt\n"
	         "    server s 127.0.0.1:1\n"
	         "backend b3\n    load-server-state-from-file local\n    server s 127.0.0.1:1\n"
	         "backend b4\n    load-server-state-from-file local\n    server s 127.0.0.1:1\n", tmpdir);
	assert_int_equal(cfg_parse_string("t", cfg) & ERR_FATAL, 0);
	out[0] = 0;
	assert_int_equal(cfg_post_parse() & ERR_FATAL, 0);
	char want[2048];
	snprintf(want, sizeof(want),
	         "config : config: Can't get version of the global server state file '%s/bad-version'.\n"
	         "config : Proxy 'b2': corrupted server state file '%s/corrupt' at line 3.\n"
	         "config : Proxy 'b4': Can't open server state file '%s/b4': No such file or directory.\n",
	         tmpdir, tmpdir, tmpdir);
	assert_non_null(strstr(out, want));

	/* global asked for, but no global file */
	reset_state();
	assert_int_equal(cfg_parse_string("t", "defaults\n    timeout client 1s\n    timeout server 1s\n"
	                                  "    timeout connect 1s\n    load-server-state-from-file global\n"
	                                  "backend b\n    server s 127.0.0.1:1\n") & ERR_FATAL, 0);
	out[0] = 0;
	assert_int_equal(cfg_post_parse() & ERR_WARN, ERR_WARN);
	assert_non_null(strstr(out, "config : backend 'b' configured to load server state file from global "
	                            "section 'server-state-file' directive. Unfortunately, 'server-state-file' is not "
	                            "set!\n"));
	char path[256];
	const char *names[] = { "bad-version", "corrupt", "b3" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
		unlink(path);
	}
}

static int group_setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/proxyd-srvstate-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	rmdir(tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_minimum),
		cmocka_unit_test(test_parse_bad_values),
		cmocka_unit_test_setup_teardown(test_apply_text_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_text_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keywords, setup, teardown),
		cmocka_unit_test_setup_teardown(test_files_checked, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
