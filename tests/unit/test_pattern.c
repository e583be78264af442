/* Unit tests for src/pattern.c: every matching method, with and without
 * -i, on edge cases (delimiters of dir/dom, empty strings, IPv4 against
 * IPv6 networks, integer ranges with negative bounds, lengths), the
 * integer operators and the parse errors. Expected results were checked
 * against HAProxy 2.6.12 where it behaves the same (proxyd accepts
 * negative integer patterns, which HAProxy 2.6 cannot express).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include <proxyd/cfg.h>
#include <proxyd/regex.h>
#include <proxyd/pattern.h>
#include <proxyd/sample.h>

static int teardown(void **state)
{
	regex_free_all();  /* before the arena that holds the regex list */
	cfg_arena_free();
	return 0;
}

static struct sample str_smp(const char *s)
{
	struct sample smp;

	memset(&smp, 0, sizeof(smp));
	smp.type = SMP_T_STR;
	smp.flags = SMP_F_CONST;
	smp.data.str.ptr = s;
	smp.data.str.len = strlen(s);
	return smp;
}

/* Does <subject> match the single pattern <pat> with method <m>? */
static int m1(enum pat_match m, const char *pat, unsigned flags, const char *subject)
{
	struct pattern_head h = { .match = m };
	char err[256];
	struct sample smp = str_smp(subject);

	assert_int_equal(pattern_add(&h, pat, flags, err, sizeof(err)), 0);
	return pattern_exec(&h, &smp);
}

#define I PAT_F_ICASE

static void test_str_beg_end_sub(void **state)
{
	assert_true(m1(PAT_MATCH_STR, "abc", 0, "abc"));
	assert_false(m1(PAT_MATCH_STR, "abc", 0, "ABC"));
	assert_true(m1(PAT_MATCH_STR, "abc", I, "ABC"));
	assert_false(m1(PAT_MATCH_STR, "abc", 0, "abcd"));
	assert_false(m1(PAT_MATCH_STR, "abc", 0, ""));
	assert_true(m1(PAT_MATCH_BEG, "/api", 0, "/api/v1"));
	assert_true(m1(PAT_MATCH_BEG, "/api", 0, "/api"));
	assert_false(m1(PAT_MATCH_BEG, "/api", 0, "/ap"));
	assert_false(m1(PAT_MATCH_BEG, "/API", 0, "/api/x"));
	assert_true(m1(PAT_MATCH_BEG, "/API", I, "/api/x"));
	assert_true(m1(PAT_MATCH_END, ".css", 0, "/a.css"));
	assert_false(m1(PAT_MATCH_END, ".css", 0, "css"));
	assert_true(m1(PAT_MATCH_END, ".CSS", I, "/a.css"));
	assert_true(m1(PAT_MATCH_SUB, "obi", 0, "mobile"));
	assert_false(m1(PAT_MATCH_SUB, "OBI", 0, "mobile"));
	assert_true(m1(PAT_MATCH_SUB, "OBI", I, "mobile"));
	assert_false(m1(PAT_MATCH_SUB, "mobile!", 0, "mobile"));
}

static void test_dir(void **state)
{
	assert_true(m1(PAT_MATCH_DIR, "api", 0, "/api/v1"));
	assert_true(m1(PAT_MATCH_DIR, "api", 0, "api"));
	assert_true(m1(PAT_MATCH_DIR, "v1", 0, "/api/v1"));
	assert_true(m1(PAT_MATCH_DIR, "v1", 0, "/api/v1?x=1"));   /* '?' delimits */
	assert_true(m1(PAT_MATCH_DIR, "api/v1", 0, "/x/api/v1/y"));
	assert_true(m1(PAT_MATCH_DIR, "/api/", 0, "/api/v1"));    /* the pattern's own '/' ignored */
	assert_false(m1(PAT_MATCH_DIR, "pi", 0, "/api/v1"));
	assert_false(m1(PAT_MATCH_DIR, "api", 0, "/apis/v1"));
	assert_false(m1(PAT_MATCH_DIR, "a.b", 0, "/a/b"));
	assert_false(m1(PAT_MATCH_DIR, "b", 0, "a.b"));            /* '.' is no delimiter here */
	assert_false(m1(PAT_MATCH_DIR, "API", 0, "/api/v1"));
	assert_true(m1(PAT_MATCH_DIR, "API", I, "/api/v1"));
	assert_false(m1(PAT_MATCH_DIR, "/", 0, "/api"));           /* nothing left to match */
	assert_false(m1(PAT_MATCH_DIR, "api", 0, ""));
}

static void test_dom(void **state)
{
	assert_true(m1(PAT_MATCH_DOM, "example", 0, "www.example.com"));
	assert_true(m1(PAT_MATCH_DOM, "www.example", 0, "www.example.com"));
	assert_true(m1(PAT_MATCH_DOM, "com", 0, "www.example.com:8080"));
	assert_true(m1(PAT_MATCH_DOM, "8080", 0, "www.example.com:8080"));
	assert_true(m1(PAT_MATCH_DOM, ".example.", 0, "example"));
	assert_true(m1(PAT_MATCH_DOM, "b", 0, "a/b?c"));
	assert_false(m1(PAT_MATCH_DOM, "xample", 0, "www.example.com"));
	assert_false(m1(PAT_MATCH_DOM, "example.co", 0, "www.example.com"));
	assert_true(m1(PAT_MATCH_DOM, "EXAMPLE", I, "www.example.com"));
	assert_false(m1(PAT_MATCH_DOM, "EXAMPLE", 0, "www.example.com"));
	assert_false(m1(PAT_MATCH_DOM, "example", 0, ""));
}

static void test_reg(void **state)
{
	assert_true(m1(PAT_MATCH_REG, "^/api/v[0-9]+/", 0, "/api/v12/x"));
	assert_false(m1(PAT_MATCH_REG, "^/api/v[0-9]+/", 0, "/API/v12/x"));
	assert_true(m1(PAT_MATCH_REG, "^/api/v[0-9]+/", I, "/API/V12/x"));
	assert_true(m1(PAT_MATCH_REG, "^/api/(?=v1/)", 0, "/api/v1/x"));
	assert_false(m1(PAT_MATCH_REG, "^/api/(?!v1/)", 0, "/api/v1/x"));
	assert_true(m1(PAT_MATCH_REG, "(?<=/api/)v\\d", 0, "/api/v2"));
	assert_true(m1(PAT_MATCH_REG, "^$", 0, ""));
	assert_true(m1(PAT_MATCH_REG, "b", 0, "abc"));            /* not anchored */

	struct pattern_head h = { .match = PAT_MATCH_REG };
	char err[256] = "";
	assert_int_equal(pattern_add(&h, "^(abc", 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "invalid regex '^(abc' at position 5"));
	assert_int_equal(h.nb, 0);
}

static void test_len(void **state)
{
	assert_true(m1(PAT_MATCH_LEN, "3", 0, "abc"));
	assert_false(m1(PAT_MATCH_LEN, "3", 0, "ab"));
	assert_true(m1(PAT_MATCH_LEN, "0", 0, ""));
	assert_true(m1(PAT_MATCH_LEN, "2:4", 0, "abcd"));
	assert_true(m1(PAT_MATCH_LEN, ":1", 0, ""));
	assert_true(m1(PAT_MATCH_LEN, "5:", 0, "abcdefgh"));
	assert_false(m1(PAT_MATCH_LEN, "5:", 0, "abcd"));
}

static int mint(const char *pat, long long v)
{
	struct pattern_head h = { .match = PAT_MATCH_INT };
	char err[256];
	struct sample smp = { .type = SMP_T_SINT };

	smp.data.sint = v;
	assert_int_equal(pattern_add(&h, pat, 0, err, sizeof(err)), 0);
	return pattern_exec(&h, &smp);
}

static int mop(const char *op, const char *val, long long v)
{
	struct pattern_head h = { .match = PAT_MATCH_INT };
	char err[256];
	struct sample smp = { .type = SMP_T_SINT };

	smp.data.sint = v;
	assert_int_equal(pattern_add_int_op(&h, op, val, err, sizeof(err)), 0);
	return pattern_exec(&h, &smp);
}

static void test_int_ranges_and_operators(void **state)
{
	assert_true(mint("15", 15));
	assert_false(mint("15", 16));
	assert_true(mint("10:20", 10));
	assert_true(mint("10:20", 20));
	assert_false(mint("10:20", 21));
	assert_false(mint("10:20", 9));
	assert_true(mint(":5", -100));
	assert_false(mint(":5", 6));
	assert_true(mint("100:", 1000000));
	assert_false(mint("100:", 99));
	assert_true(mint("-20:-10", -15));
	assert_false(mint("-20:-10", -9));
	assert_false(mint("-20:-10", 15));
	assert_true(mint("-5", -5));
	assert_false(mint("-5", 5));

	assert_true(mop("gt", "2", 3));
	assert_false(mop("gt", "2", 2));
	assert_true(mop("ge", "2", 2));
	assert_true(mop("lt", "0", -1));
	assert_false(mop("lt", "0", 0));
	assert_true(mop("le", "-3", -3));
	assert_true(mop("eq", "-7", -7));
	assert_false(mop("eq", "-7", 7));

	/* a string sample is converted to an integer, else no match */
	struct pattern_head h = { .match = PAT_MATCH_INT };
	char err[256];
	assert_int_equal(pattern_add(&h, "10", 0, err, sizeof(err)), 0);
	struct sample s = str_smp("10");
	assert_true(pattern_exec(&h, &s));
	s = str_smp("x10");
	assert_false(pattern_exec(&h, &s));
	s = str_smp("");
	assert_false(pattern_exec(&h, &s));
}

static void test_int_errors(void **state)
{
	struct pattern_head h = { .match = PAT_MATCH_INT };
	char err[256];

	assert_int_equal(pattern_add(&h, "abc", 0, err, sizeof(err)), -1);
	assert_string_equal(err, "'abc' is not a number or a range (e.g. 10, 10:20, :20, 10:)");
	assert_int_equal(pattern_add(&h, ":", 0, err, sizeof(err)), -1);
	assert_int_equal(pattern_add(&h, "1:x", 0, err, sizeof(err)), -1);
	assert_int_equal(pattern_add(&h, "99999999999999999999", 0, err, sizeof(err)), -1);
	assert_int_equal(pattern_add_int_op(&h, "gt", "x", err, sizeof(err)), -1);
	assert_string_equal(err, "'gt x': 'x' is not a number");
	assert_int_equal(pattern_add_int_op(&h, "ne", "1", err, sizeof(err)), -1);
	assert_string_equal(err, "unknown operator 'ne' (expected eq, ge, gt, le or lt)");
	assert_int_equal(h.nb, 0);
}

static int mip(const char *pat, const char *addr)
{
	struct pattern_head h = { .match = PAT_MATCH_IP };
	char err[256];
	struct sample smp;

	memset(&smp, 0, sizeof(smp));
	assert_int_equal(pattern_add(&h, pat, 0, err, sizeof(err)), 0);
	if (strchr(addr, ':')) {
		smp.type = SMP_T_IPV6;
		assert_int_equal(inet_pton(AF_INET6, addr, &smp.data.ipv6), 1);
	} else {
		smp.type = SMP_T_IPV4;
		assert_int_equal(inet_pton(AF_INET, addr, &smp.data.ipv4), 1);
	}
	return pattern_exec(&h, &smp);
}

static void test_ip(void **state)
{
	assert_true(mip("127.0.0.1", "127.0.0.1"));
	assert_false(mip("127.0.0.1", "127.0.0.2"));
	assert_true(mip("127.0.0.0/8", "127.9.8.7"));
	assert_true(mip("10.0.0.0/255.0.0.0", "10.1.2.3"));
	assert_false(mip("10.0.0.0/8", "11.0.0.0"));
	assert_true(mip("0.0.0.0/0", "1.2.3.4"));
	assert_true(mip("127.0.0.4/30", "127.0.0.7"));
	assert_false(mip("127.0.0.4/30", "127.0.0.8"));
	/* IPv6 */
	assert_true(mip("::1", "::1"));
	assert_true(mip("2001:db8::/32", "2001:db8:1::5"));
	assert_false(mip("2001:db8::/32", "2001:db9::5"));
	/* an IPv4 sample against IPv4-mapped IPv6 networks, and back */
	assert_true(mip("::ffff:127.0.0.1", "127.0.0.1"));
	assert_true(mip("::ffff:127.0.0.0/104", "127.1.2.3"));
	assert_true(mip("::/0", "1.2.3.4"));
	assert_true(mip("127.0.0.0/8", "::ffff:127.0.0.3"));
	assert_false(mip("127.0.0.0/8", "::ffff:128.0.0.3"));
	assert_false(mip("127.0.0.0/8", "::1"));
	/* a string sample is parsed as an address */
	struct pattern_head h = { .match = PAT_MATCH_IP };
	char err[256];
	assert_int_equal(pattern_add(&h, "192.168.0.0/16", 0, err, sizeof(err)), 0);
	struct sample s = str_smp("192.168.4.4");
	assert_true(pattern_exec(&h, &s));
	s = str_smp("not an address");
	assert_false(pattern_exec(&h, &s));
	assert_int_equal(pattern_add(&h, "300.1.2.3", 0, err, sizeof(err)), -1);
	assert_int_equal(pattern_add(&h, "10.0.0.0/33", 0, err, sizeof(err)), -1);
}

static void test_bin_found_bool(void **state)
{
	struct pattern_head h = { .match = PAT_MATCH_BIN };
	char err[256];
	struct sample s = str_smp("abc");

	assert_int_equal(pattern_add(&h, "616263", 0, err, sizeof(err)), 0);
	assert_true(pattern_exec(&h, &s));
	s = str_smp("abd");
	assert_false(pattern_exec(&h, &s));
	assert_int_equal(pattern_add(&h, "61626", 0, err, sizeof(err)), -1);
	assert_string_equal(err, "'61626' is not an even number of hexadecimal digits");
	assert_int_equal(pattern_add(&h, "zz", 0, err, sizeof(err)), -1);
	assert_string_equal(err, "'zz' is not hexadecimal");

	struct pattern_head f = { .match = PAT_MATCH_FOUND };
	s = str_smp("");
	assert_true(pattern_exec(&f, &s));
	assert_int_equal(pattern_add(&f, "x", 0, err, sizeof(err)), -1);
	assert_string_equal(err, "'-m found' takes no pattern (got 'x')");

	struct pattern_head b = { .match = PAT_MATCH_BOOL };
	struct sample n = { .type = SMP_T_SINT };
	n.data.sint = 2;
	assert_true(pattern_exec(&b, &n));
	n.data.sint = 0;
	assert_false(pattern_exec(&b, &n));
	s = str_smp("0");
	assert_false(pattern_exec(&b, &s));
	s = str_smp("7");
	assert_true(pattern_exec(&b, &s));
}

static void test_several_patterns_are_ored(void **state)
{
	struct pattern_head h = { .match = PAT_MATCH_BEG };
	char err[256];

	for (int i = 0; i < 40; i++) {   /* beyond the initial capacity */
		char p[16];
		snprintf(p, sizeof(p), "/p%d/", i);
		assert_int_equal(pattern_add(&h, p, i == 39 ? I : 0, err, sizeof(err)), 0);
	}
	assert_int_equal(h.nb, 40);
	struct sample s = str_smp("/p0/x");
	assert_true(pattern_exec(&h, &s));
	s = str_smp("/P39/x");
	assert_true(pattern_exec(&h, &s));
	s = str_smp("/P38/x");
	assert_false(pattern_exec(&h, &s));
}

static void test_pattern_file(void **state)
{
	char path[] = "/tmp/proxyd-pat-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "# comment\n\n   /api\n\t/v2\r\n  # indented comment\n/Admin\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);

	struct pattern_head h = { .match = PAT_MATCH_BEG };
	char err[512];
	assert_int_equal(pattern_load_file(&h, path, I, err, sizeof(err)), 0);
	assert_int_equal(h.nb, 3);
	assert_string_equal(h.pats[0].text, "/api");
	assert_string_equal(h.pats[1].text, "/v2");
	struct sample s = str_smp("/ADMIN/x");
	assert_true(pattern_exec(&h, &s));

	/* a bad pattern is reported with the file and its line */
	struct pattern_head ip = { .match = PAT_MATCH_IP };
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("10.0.0.0/8\n\n300.0.0.1\n", f);
	fclose(f);
	assert_int_equal(pattern_load_file(&ip, path, 0, err, sizeof(err)), -1);
	char want[128];
	snprintf(want, sizeof(want), "%s:3: ", path);
	assert_non_null(strstr(err, want));
	unlink(path);
	assert_int_equal(pattern_load_file(&ip, path, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "failed to open pattern file"));
}

static void test_names(void **state)
{
	for (int m = 0; m < PAT_MATCH_NUM; m++)
		assert_int_equal(pat_match_lookup(pat_match_name((enum pat_match)m)), m);
	assert_int_equal(pat_match_lookup("nope"), -1);
	assert_int_equal(pat_default_match(SMP_T_SINT), PAT_MATCH_INT);
	assert_int_equal(pat_default_match(SMP_T_ADDR), PAT_MATCH_IP);
	assert_int_equal(pat_default_match(SMP_T_STR), PAT_MATCH_STR);
	assert_int_equal(pat_default_match(SMP_T_BOOL), PAT_MATCH_BOOL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_str_beg_end_sub, teardown),
		cmocka_unit_test_teardown(test_dir, teardown),
		cmocka_unit_test_teardown(test_dom, teardown),
		cmocka_unit_test_teardown(test_reg, teardown),
		cmocka_unit_test_teardown(test_len, teardown),
		cmocka_unit_test_teardown(test_int_ranges_and_operators, teardown),
		cmocka_unit_test_teardown(test_int_errors, teardown),
		cmocka_unit_test_teardown(test_ip, teardown),
		cmocka_unit_test_teardown(test_bin_found_bool, teardown),
		cmocka_unit_test_teardown(test_several_patterns_are_ored, teardown),
		cmocka_unit_test_teardown(test_pattern_file, teardown),
		cmocka_unit_test_teardown(test_names, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
