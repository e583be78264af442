/* Unit tests for the crt-list line splitter (src/ssl_crtlist.c):
 * certificate, bracketed options in their various spellings, SNI filters,
 * comments, and the errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <proxyd/ssl_cfg.h>

static int split(const char *text, struct crtlist_line *cl, char *err)
{
	static char line[4096];

	snprintf(line, sizeof(line), "%s", text);
	return crtlist_parse_line(line, cl, err, 256);
}

static void test_blank_and_comments(void **state)
{
	struct crtlist_line cl;
	char err[256];

	assert_int_equal(split("", &cl, err), 0);
	assert_int_equal(split("   \t \n", &cl, err), 0);
	assert_int_equal(split("# a comment", &cl, err), 0);
	assert_int_equal(split("   # indented comment\n", &cl, err), 0);
}

static void test_certificate_alone(void **state)
{
	struct crtlist_line cl;
	char err[256];

	assert_int_equal(split("/etc/certs/site.pem\n", &cl, err), 1);
	assert_string_equal(cl.crt, "/etc/certs/site.pem");
	assert_int_equal(cl.nb_opts, 0);
	assert_int_equal(cl.nb_filters, 0);
	/* a comment after the entry ends it */
	assert_int_equal(split("a.pem  # b.pem", &cl, err), 1);
	assert_string_equal(cl.crt, "a.pem");
	assert_int_equal(cl.nb_filters, 0);
}

static void test_filters(void **state)
{
	struct crtlist_line cl;
	char err[256];

	assert_int_equal(split("a.pem www.a.test\t*.a.test !old.a.test\r\n", &cl, err), 1);
	assert_string_equal(cl.crt, "a.pem");
	assert_int_equal(cl.nb_opts, 0);
	assert_int_equal(cl.nb_filters, 3);
	assert_string_equal(cl.filters[0], "www.a.test");
	assert_string_equal(cl.filters[1], "*.a.test");
	assert_string_equal(cl.filters[2], "!old.a.test");
}

static void test_options_spellings(void **state)
{
	struct crtlist_line cl;
	char err[256];
	const char *variants[] = {
		"a.pem [alpn h2,http/1.1 ssl-min-ver TLSv1.2] x.test",
		"a.pem [ alpn h2,http/1.1 ssl-min-ver TLSv1.2 ] x.test",
		"a.pem [alpn h2,http/1.1 ssl-min-ver TLSv1.2 ] x.test",
		"a.pem [ alpn h2,http/1.1 ssl-min-ver TLSv1.2] x.test",
	};

	for (size_t v = 0; v < sizeof(variants) / sizeof(*variants); v++) {
		assert_int_equal(split(variants[v], &cl, err), 1);
		assert_string_equal(cl.crt, "a.pem");
		assert_int_equal(cl.nb_opts, 4);
		assert_string_equal(cl.opts[0], "alpn");
		assert_string_equal(cl.opts[1], "h2,http/1.1");
		assert_string_equal(cl.opts[2], "ssl-min-ver");
		assert_string_equal(cl.opts[3], "TLSv1.2");
		assert_int_equal(cl.nb_filters, 1);
		assert_string_equal(cl.filters[0], "x.test");
	}
	assert_int_equal(split("a.pem [verify]", &cl, err), 1);
	assert_int_equal(cl.nb_opts, 1);
	assert_string_equal(cl.opts[0], "verify");
	assert_int_equal(split("a.pem []", &cl, err), 1);
	assert_int_equal(cl.nb_opts, 0);
	assert_int_equal(split("a.pem [ ]", &cl, err), 1);
	assert_int_equal(cl.nb_opts, 0);
}

static void test_errors(void **state)
{
	struct crtlist_line cl;
	char err[256];

	assert_int_equal(split("a.pem [alpn h2", &cl, err), -1);
	assert_non_null(strstr(err, "missing ']'"));
	assert_int_equal(split("[alpn h2] a.pem", &cl, err), -1);
	assert_non_null(strstr(err, "start with the certificate"));
	assert_int_equal(split("a.pem x.test [alpn h2]", &cl, err), -1);
	assert_non_null(strstr(err, "bracket"));
	assert_int_equal(split("a.pem [alpn [h2]]", &cl, err), -1);
	assert_int_equal(split("a.pem [alpn h2] [verify none]", &cl, err), -1);

	char big[4096] = "a.pem";
	for (int i = 0; i < CRTLIST_MAX_FILTERS + 1; i++)
		strcat(big, " n.t");
	assert_int_equal(split(big, &cl, err), -1);
	assert_non_null(strstr(err, "too many"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blank_and_comments),
		cmocka_unit_test(test_certificate_alone),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_options_spellings),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
