/* Unit tests for the configuration line splitter (src/cfg_lex.c) and the
 * statement reader (src/cfg_reader.c). Expected words and messages were
 * obtained from HAProxy 2.6.12 (".notice" shows how a word was split,
 * "haproxy -c" shows the messages); deliberate differences say so.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <proxyd/cfg_lex.h>
#include <proxyd/diag.h>

static char captured[65536];

static int setup(void **state)
{
	setenv("PXL_SET", "value", 1);
	setenv("PXL_EMPTY", "", 1);
	setenv("PXL_WORDS", "a1  a2", 1);
	setenv("PXL_LEAD", " lead", 1);
	setenv("PXL_TRAIL", "trail ", 1);
	setenv("PXL_TAB", "x\ty", 1);
	setenv("PXL_BLANK", "   ", 1);
	unsetenv("PXL_UNSET");
	diag_capture(captured, sizeof(captured));
	return 0;
}

static int teardown(void **state)
{
	diag_capture(NULL, 0);
	return 0;
}

static int reset_capture(void **state)
{
	captured[0] = 0;
	return 0;
}

/* ---------------------------------------------------------------- splitter */

/* Splits <text> and checks the words against the NULL-terminated list
 * that follows. */
static void check_words(const char *text, ...)
{
	struct cfg_line l = { 0 };
	char err[512] = "";
	const char *w;
	va_list ap;
	int n = cfg_split_line(&l, text, NULL, err, sizeof(err)), i = 0;

	if (n < 0)
		fail_msg("'%s': unexpected error: %s", text, err);
	va_start(ap, text);
	while ((w = va_arg(ap, const char *))) {
		if (i >= n)
			fail_msg("'%s': only %d words, '%s' missing", text, n, w);
		if (strcmp(l.argv[i], w) != 0)
			fail_msg("'%s': word %d is '%s', not '%s'", text, i, l.argv[i], w);
		i++;
	}
	va_end(ap);
	if (i != n)
		fail_msg("'%s': %d words, expected %d", text, n, i);
	assert_null(l.argv[n]);
	cfg_line_free(&l);
}

/* Splits <text>, expecting an error message <msg>. */
static void check_split_err(const char *text, const char *msg)
{
	struct cfg_line l = { 0 };
	char err[512] = "";

	assert_int_equal(cfg_split_line(&l, text, NULL, err, sizeof(err)), -1);
	assert_string_equal(err, msg);
	assert_int_equal(l.argc, 0);
	assert_null(l.argv[0]);
	cfg_line_free(&l);
}

static void test_blank_and_comments(void **state)
{
	check_words("", NULL);
	check_words("   \t  ", NULL);
	check_words("# only a comment", NULL);
	check_words("   # indented comment", NULL);
	check_words("\r\n", NULL);
	check_words("a#b", "a", NULL);
	check_words("a #b", "a", NULL);
	check_words("a\\#b", "a#b", NULL);
	check_words("'a#b'", "a#b", NULL);
	check_words("\"a#b\"", "a#b", NULL);
	check_words("\"a\\#b\"", "a#b", NULL);
	/* an empty first word is kept: the reader is the one ignoring it */
	check_words("\"\" foo", "", "foo", NULL);
}

static void test_words(void **state)
{
	check_words("a", "a", NULL);
	check_words("  server s1 127.0.0.1:80  check ", "server", "s1", "127.0.0.1:80", "check", NULL);
	check_words("a\tb \t c", "a", "b", "c", NULL);
	check_words("a\vb\fc", "a", "b", "c", NULL);
	/* CR and LF end the line, except within a run of blanks */
	check_words("a b\r\n", "a", "b", NULL);
	check_words("a b\n", "a", "b", NULL);
	check_words("a\r b", "a", NULL);
	check_words("a \r b", "a", "b", NULL);
	/* no line continuation: a trailing backslash is a word */
	check_words("server s1 127.0.0.1:18191 \\", "server", "s1", "127.0.0.1:18191", "\\", NULL);
	check_words("a\\", "a\\", NULL);
}

static void test_escapes_outside_quotes(void **state)
{
	check_words("a\\ b", "a b", NULL);
	check_words("\\#", "#", NULL);
	check_words("\\\\", "\\", NULL);
	check_words("\\'", "'", NULL);
	check_words("\\\"", "\"", NULL);
	check_words("\\n\\r\\t", "\n\r\t", NULL);
	check_words("\\x41\\x62\\x7E", "Ab~", NULL);
	check_words("\\z\\1", "\\z\\1", NULL);
	/* '$' only needs escaping where it would expand */
	check_words("\\$HOME", "\\$HOME", NULL);
	check_words("$HOME", "$HOME", NULL);
	check_words("${PXL_SET}", "${PXL_SET}", NULL);
}

static void test_double_quotes(void **state)
{
	check_words("\"a b\"", "a b", NULL);
	check_words("\"it's\"", "it's", NULL);
	check_words("\"\\x41\\x42\\tX\\$Y\\ \\#\\\\\\'\\\"\\z\"", "AB\tX$Y #\\'\"\\z", NULL);
	check_words("\"\\r\\n\"", "\r\n", NULL);
	check_words("\"a\\$PXL_SET\"", "a$PXL_SET", NULL);
	check_words("\"\\x41\"", "A", NULL);
}

static void test_single_quotes(void **state)
{
	check_words("'a\\x41\"b$HOME'", "a\\x41\"b$HOME", NULL);
	check_words("'say \"hi\"'", "say \"hi\"", NULL);
	check_words("'a\\'", "a\\", NULL);
	check_words("'a\\\\'", "a\\\\", NULL);
	check_words("'^/api/(.*)$' '\\1'", "^/api/(.*)$", "\\1", NULL);
	check_words("'\"$PXL_SET\"'", "\"$PXL_SET\"", NULL);
}

static void test_glued_pieces(void **state)
{
	check_words("\"%{+Q}o %t\"' %s'", "%{+Q}o %t %s", NULL);
	check_words("a\"b c\"d'e f'g", "ab cde fg", NULL);
	check_words("x\"${PXL_SET}\"y", "xvaluey", NULL);
	check_words("\"\"a\"\"", "a", NULL);
}

static void test_empty_words(void **state)
{
	/* an empty word counts, unless it is the last one */
	check_words("\"\"", NULL);
	check_words("''", NULL);
	check_words("a \"\"", "a", NULL);
	check_words("a \"\" ", "a", "", NULL);
	check_words("\"\" a", "", "a", NULL);
	check_words("a \"\" b", "a", "", "b", NULL);
	check_words("a '' b", "a", "", "b", NULL);
	check_words("a \"$PXL_UNSET\" b", "a", "", "b", NULL);
	check_words("a \"$PXL_UNSET\"", "a", NULL);
	check_words("a \"$PXL_UNSET\"x", "a", "x", NULL);
}

static void test_env_expansion(void **state)
{
	check_words("\"$PXL_SET\"", "value", NULL);
	check_words("\"${PXL_SET}\"", "value", NULL);
	check_words("\"<$PXL_SET>\"", "<value>", NULL);
	check_words("\"$PXL_SET.x\"", "value.x", NULL);
	check_words("\"${PXL_SET}x\"", "valuex", NULL);
	check_words("\"$PXL_UNSET\"", NULL);
	check_words("\"<$PXL_UNSET>\"", "<>", NULL);
	check_words("\"$PXL_EMPTY\"x", "x", NULL);
	/* a default only replaces an unset variable, not an empty one */
	check_words("\"${PXL_UNSET-def}\"", "def", NULL);
	check_words("\"${PXL_UNSET-d e}\"", "d e", NULL);
	check_words("\"${PXL_UNSET-}\"x", "x", NULL);
	check_words("\"${PXL_EMPTY-def}\"x", "x", NULL);
	check_words("\"${PXL_SET-def}\"", "value", NULL);
	check_words("\"${PXL_SET-x[*]}\"", "value", NULL);
	/* the default is taken verbatim */
	check_words("\"${PXL_UNSET-a\\x41$b\"c}\"", "a\\x41$b\"c", NULL);
	/* names: letters, digits and '_', not starting with a digit */
	setenv("_PXL", "u", 1);
	setenv("PXL_A_1", "v", 1);
	check_words("\"$_PXL\" \"$PXL_A_1-\"", "u", "v-", NULL);
	unsetenv("_PXL");
	unsetenv("PXL_A_1");
	/* no braces, no word splitting: "[*]" is text */
	check_words("\"$PXL_WORDS[*]\"", "a1  a2[*]", NULL);
	check_words("\"${PXL_WORDS}[*]\"", "a1  a2[*]", NULL);
}

static void test_word_expansion(void **state)
{
	check_words("x \"${PXL_WORDS[*]}\"", "x", "a1", "a2", NULL);
	check_words("x\"${PXL_WORDS[*]}\"y", "xa1", "a2y", NULL);
	check_words("\"${PXL_LEAD[*]}\"", "", "lead", NULL);
	check_words("\"${PXL_TRAIL[*]}\"", "trail", NULL);
	check_words("\"${PXL_TRAIL[*]}\"z", "trail", "z", NULL);
	check_words("\"${PXL_TAB[*]}\"", "x", "y", NULL);
	check_words("\"${PXL_BLANK[*]}\"", "", NULL);
	check_words("\"${PXL_BLANK[*]}\" z", "", "", "z", NULL);
	check_words("\"${PXL_UNSET[*]}\"", NULL);
	check_words("\"${PXL_UNSET[*]-d  e}\"", "d", "e", NULL);
	check_words("\"${PXL_SET[*]}\"", "value", NULL);
}

static void test_pseudo_variables(void **state)
{
	struct cfg_src src = { "dir/x.cfg", 42, "backend" };
	struct cfg_line l = { 0 };
	char err[128];

	assert_int_equal(cfg_split_line(&l, "\"${.FILE}:$.LINE:${.SECTION}\"", &src, err, sizeof(err)), 1);
	assert_string_equal(l.argv[0], "dir/x.cfg:42:backend");
	assert_int_equal(cfg_split_line(&l, "\"${.LINE}${.LINE}\" \"${.LINE-x}\"", &src, err, sizeof(err)), 2);
	assert_string_equal(l.argv[0], "4242");
	assert_string_equal(l.argv[1], "42");
	src.section = NULL;
	assert_int_equal(cfg_split_line(&l, "\"<${.SECTION}>\" \"${.SECTION-none}\"", &src, err, sizeof(err)), 2);
	assert_string_equal(l.argv[0], "<>");
	assert_string_equal(l.argv[1], "none");
	/* without a source they are unset */
	assert_int_equal(cfg_split_line(&l, "\"<${.FILE}${.LINE}${.SECTION}>\"", NULL, err, sizeof(err)), 1);
	assert_string_equal(l.argv[0], "<>");
	/* outside double quotes, nothing happens */
	assert_int_equal(cfg_split_line(&l, "$.LINE", &src, err, sizeof(err)), 1);
	assert_string_equal(l.argv[0], "$.LINE");
	cfg_line_free(&l);
}

static void test_split_errors(void **state)
{
	check_split_err(".notice \"unterminated", "unmatched quote at position 9");
	check_split_err(".notice 'unterm", "unmatched quote at position 9");
	check_split_err("\t.notice \"a", "unmatched quote at position 10");
	check_split_err("a \"b\" 'c", "unmatched quote at position 7");
	check_split_err("a \"'\" \"", "unmatched quote at position 7");
	check_split_err(".notice a\\x4g", "truncated or invalid hexadecimal sequence at position 10");
	check_split_err("a\\x4", "truncated or invalid hexadecimal sequence at position 2");
	check_split_err("\"\\x\"", "truncated or invalid hexadecimal sequence at position 2");
	check_split_err(".notice \"${HOME\"", "unmatched brace in environment variable name at position 11");
	check_split_err("   .notice \"${HOME-x\"", "unmatched brace in environment variable name at position 14");
	check_split_err("\"${PXL_WORDS[*]x}\"", "unmatched brace in environment variable name at position 3");
	check_split_err("\"${PXL_WORDS[*]\"", "unmatched brace in environment variable name at position 3");
	check_split_err(".notice \"$1abc\"", "forbidden first char in environment variable name at position 11");
	check_split_err("\"$\"", "forbidden first char in environment variable name at position 3");
	check_split_err("\"${}\"", "forbidden first char in environment variable name at position 4");
	check_split_err("\"$ x\"", "forbidden first char in environment variable name at position 3");
	check_split_err(".notice \"${.FOO}\"", "forbidden first char in environment variable name at position 12");
	check_split_err("\"$.LINEx\"", "forbidden first char in environment variable name at position 3");
	check_split_err(".notice \"${HOME[x]}\"", "truncated or invalid word expansion sequence at position 16");
	check_split_err("\"${A[*\"", "truncated or invalid word expansion sequence at position 5");
	/* a hard error wins over an unmatched quote seen later */
	check_split_err("\"\\xzz", "truncated or invalid hexadecimal sequence at position 2");
}

/* Builds "w1 w2 ... wN" into <buf>, with <tail> appended. */
static void make_words(char *buf, int n, const char *tail)
{
	buf[0] = 0;
	for (int i = 1; i <= n; i++)
		sprintf(buf + strlen(buf), "%sw%d", i > 1 ? " " : "", i);
	strcat(buf, tail);
}

static void test_word_limit(void **state)
{
	struct cfg_line l = { 0 };
	char line[1024], err[256];

	make_words(line, 64, "");
	assert_int_equal(cfg_split_line(&l, line, NULL, err, sizeof(err)), 64);
	assert_string_equal(l.argv[63], "w64");
	assert_null(l.argv[64]);

	make_words(line, 65, "");
	assert_int_equal(cfg_split_line(&l, line, NULL, err, sizeof(err)), -1);
	/* the position counts in the split words, as HAProxy's does */
	assert_string_equal(err, "too many words, truncating after word 64, position 244: <w64>");

	/* HAProxy counts a 65th word as soon as a separator follows the 64th */
	make_words(line, 64, " ");
	assert_int_equal(cfg_split_line(&l, line, NULL, err, sizeof(err)), -1);
	make_words(line, 64, " # comment");
	assert_int_equal(cfg_split_line(&l, line, NULL, err, sizeof(err)), -1);
	make_words(line, 64, "# comment");
	assert_int_equal(cfg_split_line(&l, line, NULL, err, sizeof(err)), 64);

	/* words made by "[*]" count too */
	make_words(line, 62, " \"${PXL_WORDS[*]}\"");
	assert_int_equal(cfg_split_line(&l, line, NULL, err, sizeof(err)), 64);
	make_words(line, 63, " \"${PXL_WORDS[*]}\"");
	assert_int_equal(cfg_split_line(&l, line, NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "too many words, truncating after word 64, position 244: <a1>");
	cfg_line_free(&l);
}

static void test_long_lines(void **state)
{
	struct cfg_line l = { 0 };
	size_t n = 200000;
	char *line = malloc(n + 16), err[128];

	/* one huge word */
	memset(line, 'x', n);
	line[n] = 0;
	assert_int_equal(cfg_split_line(&l, line, NULL, err, sizeof(err)), 1);
	assert_int_equal(strlen(l.argv[0]), n);

	/* many long words, then a short line reusing the same storage */
	for (size_t i = 0; i < n; i++)
		line[i] = (i % 5000 == 4999) ? ' ' : 'y';
	assert_int_equal(cfg_split_line(&l, line, NULL, err, sizeof(err)), 40);
	assert_int_equal(strlen(l.argv[39]), 4999);
	assert_int_equal(cfg_split_line(&l, "a b", NULL, err, sizeof(err)), 2);
	assert_string_equal(l.argv[1], "b");

	/* a long expanded value */
	memset(line, 'z', n);
	line[n] = 0;
	setenv("PXL_LONG", line, 1);
	assert_int_equal(cfg_split_line(&l, "\"$PXL_LONG\"\"$PXL_LONG\"", NULL, err, sizeof(err)), 1);
	assert_int_equal(strlen(l.argv[0]), 2 * n);
	unsetenv("PXL_LONG");
	free(line);
	cfg_line_free(&l);
	cfg_line_free(&l);   /* harmless twice */
}

static void test_err_buffer(void **state)
{
	struct cfg_line l = { 0 };
	char err[8];

	/* a NULL or small buffer is fine */
	assert_int_equal(cfg_split_line(&l, "\"a", NULL, NULL, 0), -1);
	assert_int_equal(cfg_split_line(&l, "\"a", NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "unmatch");
	cfg_line_free(&l);
}

/* ------------------------------------------------------------------ reader */

static char stmts[65536];

/* Reads <text> to the end; returns the errors counted. Statements are
 * written to stmts[] as "line:word|word\n", messages go to captured[].
 * A "global"/"frontend" statement sets the section as a parser would. */
static int read_all(const char *text, struct cfg_reader *out)
{
	struct cfg_reader r;
	char section[64] = "";
	int ret, minus = 0;

	stmts[0] = 0;
	captured[0] = 0;
	cfg_reader_open_mem(&r, "t.cfg", text);
	while ((ret = cfg_reader_next(&r)) != 0) {
		if (ret < 0) {
			minus++;
			continue;
		}
		assert_true(r.words.argc > 0);
		sprintf(stmts + strlen(stmts), "%d:", r.src.line);
		for (int i = 0; i < r.words.argc; i++)
			sprintf(stmts + strlen(stmts), "%s%s", i ? "|" : "", r.words.argv[i]);
		strcat(stmts, "\n");
		if (strcmp(r.words.argv[0], "global") == 0 || strcmp(r.words.argv[0], "frontend") == 0) {
			snprintf(section, sizeof(section), "%s",
			         r.words.argc > 1 ? r.words.argv[1] : r.words.argv[0]);
			r.src.section = section;
		}
	}
	/* once finished, the reader stays finished */
	assert_int_equal(cfg_reader_next(&r), 0);
	assert_int_equal(minus, r.errors);
	cfg_reader_close(&r);
	if (out)
		*out = r;
	return minus;
}

static void test_reader_statements(void **state)
{
	assert_int_equal(read_all("global\n"
	                          "  maxconn 100   # comment\n"
	                          "\n"
	                          "   \n"
	                          "# comment\n"
	                          "\"\" ignored because the first word is empty\n"
	                          "\tdaemon\r\n"
	                          "last line without newline", NULL), 0);
	assert_string_equal(stmts, "1:global\n2:maxconn|100\n7:daemon\n8:last|line|without|newline\n");
	assert_string_equal(captured, "");

	assert_int_equal(read_all("", NULL), 0);
	assert_string_equal(stmts, "");
}

static void test_reader_messages(void **state)
{
	diag_verbose = 1;
	assert_int_equal(read_all(".notice \"hello notice\"\n"
	                          ".warning \"w1\"\n"
	                          ".diag \"d1\"\n"
	                          ".notice\n"
	                          ".notice \"\"\n"
	                          ".notice a\"\"b\n"
	                          ".notice \"x\" # comment\n"
	                          ".notice \"a\" \"\" \"b\"\n"
	                          "  .notice   \"ind\"\n", NULL), 0);
	assert_string_equal(captured,
		"config : parsing [t.cfg:1]: 'hello notice'.\n"
		"config : parsing [t.cfg:2]: 'w1'.\n"
		"config : parsing [t.cfg:3]: 'd1'.\n"
		"config : parsing [t.cfg:4]: ''.\n"
		"config : parsing [t.cfg:5]: ''.\n"
		"config : parsing [t.cfg:6]: 'ab'.\n"
		"config : parsing [t.cfg:7]: 'x'.\n"
		"config : parsing [t.cfg:8]: 'a'.\n"
		"config : parsing [t.cfg:9]: 'ind'.\n");
	assert_string_equal(stmts, "");
	diag_verbose = 0;
}

static void test_reader_message_levels(void **state)
{
	unsigned w = diag_warnings, a = diag_alerts;

	read_all(".warning \"w\"\n", NULL);
	assert_int_equal(diag_warnings, w + 1);
	assert_int_equal(diag_alerts, a);
}

static void test_reader_message_errors(void **state)
{
	assert_int_equal(read_all(".notice hello notice\n"
	                          ".diag \"d\" \"e\"\n"
	                          ".alert \"boom\" x\n"
	                          ".NOTICE \"x\"\n"
	                          ".bar x\n"
	                          ".\n"
	                          "after\n", NULL), 6);
	assert_string_equal(captured,
		"config : parsing [t.cfg:1]: Unexpected argument 'notice' for '.notice'. Use quotes if the message should contain spaces.\n"
		"config : parsing [t.cfg:2]: Unexpected argument 'e' for '.diag'. Use quotes if the message should contain spaces.\n"
		"config : parsing [t.cfg:3]: Unexpected argument 'x' for '.alert'. Use quotes if the message should contain spaces.\n"
		"config : parsing [t.cfg:4]: unknown directive '.NOTICE'.\n"
		"config : parsing [t.cfg:5]: unknown directive '.bar'.\n"
		"config : parsing [t.cfg:6]: unknown directive '.'.\n");
	/* unlike HAProxy, reading goes on after an unknown directive */
	assert_string_equal(stmts, "7:after\n");
}

static void test_reader_alert(void **state)
{
	struct cfg_reader r;

	assert_int_equal(read_all("global\n"
	                          ".if 1\n"
	                          ".alert \"need ${.SECTION}\"\n"
	                          "never seen\n"
	                          ".notice \"nor this\"\n", &r), 1);
	assert_int_equal(r.fatal, 1);
	assert_int_equal(r.errors, 1);
	/* no "non-terminated .if" either: reading stopped */
	assert_string_equal(captured, "config : parsing [t.cfg:3]: 'need global'.\n");
	assert_string_equal(stmts, "1:global\n");

	/* an .alert in a skipped block does nothing */
	assert_int_equal(read_all(".if 0\n.alert \"x\"\n.endif\nok\n", &r), 0);
	assert_int_equal(r.fatal, 0);
	assert_string_equal(stmts, "4:ok\n");
}

static void test_reader_if_basic(void **state)
{
	assert_int_equal(read_all(".if 1\n"
	                          "a\n"
	                          ".else\n"
	                          "b\n"
	                          ".endif\n"
	                          ".if 0\n"
	                          "c\n"
	                          ".else\n"
	                          "d\n"
	                          ".endif\n"
	                          ".if\n"
	                          "e\n"
	                          ".endif\n"
	                          ".if \"1 && 0\"\n"
	                          "f\n"
	                          ".endif\n"
	                          ".if 1 # comment\n"
	                          "g\n"
	                          ".endif # comment\n"
	                          ".if \"\" 1\n"
	                          "h\n"
	                          ".endif\n", NULL), 0);
	assert_string_equal(stmts, "2:a\n9:d\n18:g\n21:h\n");
	assert_string_equal(captured, "");
}

static void test_reader_elif_chain(void **state)
{
	const char *cfg =
		".if 0\n"
		"a\n"
		".elif 0\n"
		"b\n"
		".elif 1\n"
		"c\n"
		".elif 1\n"
		"d\n"
		".elif foo(\n"         /* not evaluated: a branch was taken */
		"e\n"
		".else\n"
		"f\n"
		".endif\n"
		".if 0\n"
		".elif 0\n"
		".else\n"
		"g\n"
		".endif\n"
		".if 1\n"
		"h\n"
		".elif 1\n"
		"i\n"
		".endif\n"
		".if 0\n"
		".elif\n"
		"j\n"
		".elif defined(PXL_SET)\n"
		"k\n"
		".endif\n";

	assert_int_equal(read_all(cfg, NULL), 0);
	assert_string_equal(stmts, "6:c\n17:g\n20:h\n28:k\n");
	assert_string_equal(captured, "");
}

static void test_reader_nested(void **state)
{
	const char *cfg =
		".if 0\n"
		"  .notice \"x  \"glued\n"
		"  .foo\n"                    /* unknown directives are not seen */
		"  .if 1\n"                   /* inside a false block: stays false */
		"  a\n"
		"  .else\n"
		"  b\n"
		"  .endif\n"
		"  .if foo(\n"                /* not evaluated either */
		"  .endif\n"
		"  .elif\n"                   /* belongs to the outer .if */
		".elif 1\n"
		"  .if 1\n"
		"    .if 0\n"
		"    c\n"
		"    .else\n"
		"    d\n"
		"    .endif\n"
		"  e\n"
		"  .endif\n"
		".else\n"
		"  f\n"
		".endif\n"
		"g\n";

	assert_int_equal(read_all(cfg, NULL), 0);
	assert_string_equal(stmts, "17:d\n19:e\n24:g\n");
	assert_string_equal(captured, "");
}

static void test_reader_errors_in_skipped_blocks(void **state)
{
	/* lines are split before their block is known to apply, so HAProxy
	 * reports lexical errors in skipped blocks too */
	assert_int_equal(read_all(".if 0\n"
	                          "  .notice \"${HOME\"\n"
	                          "  bad \"quote\n"
	                          "  [bad scope]\n"
	                          ".endif\n"
	                          "ok\n", NULL), 3);
	assert_string_equal(captured,
		"config : parsing [t.cfg:2]: unmatched brace in environment variable name at position 13:\n"
		"  .notice \"${HOME\"\n"
		"            ^\n"
		"config : parsing [t.cfg:3]: unmatched quote at position 7:\n"
		"  bad \"quote\n"
		"      ^\n"
		"config : parsing [t.cfg:4] : character ' ' is not permitted in a scope name.\n");
	assert_string_equal(stmts, "6:ok\n");
}

static void test_reader_structure_errors(void **state)
{
	assert_int_equal(read_all(".else\n"
	                          ".elif 1\n"
	                          ".endif\n"
	                          ".if 1\n"
	                          ".else\n"
	                          ".else\n"
	                          ".endif\n"
	                          ".if 0\n"
	                          ".else\n"
	                          ".elif 1\n"
	                          "a\n"
	                          ".endif\n"
	                          "b\n", NULL), 5);
	assert_string_equal(captured,
		"config : parsing [t.cfg:1]: lone '.else' with no matching '.if'.\n"
		"config : parsing [t.cfg:2]: lone '.elif' with no matching '.if'.\n"
		"config : parsing [t.cfg:3]: lone '.endif' with no matching '.if'.\n"
		"config : parsing [t.cfg:6]: '.else' after '.else' is not permitted.\n"
		"config : parsing [t.cfg:10]: '.elif' after '.else' is not permitted.\n");
	/* the .else branch of line 9 goes on after the bad .elif */
	assert_string_equal(stmts, "11:a\n13:b\n");
}

static void test_reader_directive_arguments(void **state)
{
	assert_int_equal(read_all(".if 1\n"
	                          ".else foo\n"
	                          "a\n"
	                          ".endif bar\n"
	                          ".endif x\n"
	                          ".if 1\n"
	                          ".endif \"\" y\n"
	                          "b\n", NULL), 3);
	assert_string_equal(captured,
		"config : parsing [t.cfg:2]: Unexpected argument 'foo' for '.else'.\n"
		"config : parsing [t.cfg:4]: Unexpected argument 'bar' for '.endif'.\n"
		"config : parsing [t.cfg:5]: Unexpected argument 'x' for '.endif'.\n");
	/* the directives still apply, keeping the blocks paired */
	assert_string_equal(stmts, "8:b\n");
}

static void test_reader_unclosed(void **state)
{
	/* deliberate difference: named by the line of the unclosed .if, where
	 * HAProxy names the last line of the file */
	assert_int_equal(read_all("a\n"
	                          ".if 1\n"
	                          "b\n"
	                          ".if 0\n"
	                          ".endif\n"
	                          ".if 1\n"
	                          "c\n", NULL), 1);
	assert_string_equal(captured, "config : parsing [t.cfg:6]: non-terminated '.if' block.\n");
	assert_string_equal(stmts, "1:a\n3:b\n7:c\n");
}

static void test_reader_nesting_limit(void **state)
{
	char cfg[4096] = "";
	int i;

	for (i = 0; i < CFG_MAX_NESTING; i++)
		strcat(cfg, ".if 1\n");
	strcat(cfg, "deep\n");
	for (i = 0; i < CFG_MAX_NESTING; i++)
		strcat(cfg, ".endif\n");
	assert_int_equal(read_all(cfg, NULL), 0);
	assert_string_equal(stmts, "33:deep\n");

	cfg[0] = 0;
	for (i = 0; i < CFG_MAX_NESTING + 2; i++)
		strcat(cfg, ".if 1\n");
	strcat(cfg, "too deep\n.else\n.elif 1\n");
	for (i = 0; i < CFG_MAX_NESTING + 2; i++)
		strcat(cfg, ".endif\n");
	strcat(cfg, "after\n");
	assert_int_equal(read_all(cfg, NULL), 2);
	assert_string_equal(captured,
		"config : parsing [t.cfg:33]: too many nested '.if', max is 32.\n"
		"config : parsing [t.cfg:34]: too many nested '.if', max is 32.\n");
	assert_string_equal(stmts, "72:after\n");
}

static void test_reader_condition_errors(void **state)
{
	assert_int_equal(read_all(".if foo(\n"
	                          "a\n"
	                          ".elif 1\n"                 /* a bad .if takes no branch */
	                          "b\n"
	                          ".else\n"
	                          "c\n"
	                          ".endif\n"
	                          ".if 0\n"
	                          ".elif   1   2\n"
	                          "d\n"
	                          ".else\n"
	                          "e\n"
	                          ".endif\n"
	                          ".if 1 &&\\\n"
	                          ".endif\n"
	                          ".if 1 \"\" 0\n"
	                          ".endif\n"
	                          ".if streq(a,b,c)\n"
	                          ".endif\n"
	                          ".if foo \"\"\n"
	                          ".endif\n"
	                          "f\n", NULL), 6);
	assert_string_equal(captured,
		"config : parsing [t.cfg:1]: unparsable conditional expression 'foo(' in '.if' at position 1:\n"
		"  .if foo(\n"
		"      ^\n"
		"config : parsing [t.cfg:9]: unexpected character '2' at the end of conditional expression '1 2' in '.elif' at position 3:\n"
		"  .elif 1 2\n"
		"          ^\n"
		"config : parsing [t.cfg:14]: unparsable conditional expression '\\' in '.if' at position 5:\n"
		"  .if 1 &&\\\n"
		"          ^\n"
		"config : parsing [t.cfg:16]: unexpected character '0' at the end of conditional expression '1  0' in '.if' at position 4:\n"
		"  .if 1  0\n"
		"         ^\n"
		"config : parsing [t.cfg:18]: expected ')' before ',c)' in argument 1 of predicate 'streq' used in conditional expression in '.if' at position 10:\n"
		"  .if streq(a,b,c)\n"
		"               ^\n"
		"config : parsing [t.cfg:20]: unparsable conditional expression 'foo ' in '.if' at position 1:\n"
		"  .if foo \n"
		"      ^\n");
	assert_string_equal(stmts, "22:f\n");
}

static void test_reader_lexical_errors(void **state)
{
	assert_int_equal(read_all(".notice \"unterminated\n"
	                          "\t.notice 'unterm\n"
	                          ".notice a\\x4g\n"
	                          ".notice \"$1abc\"\n"
	                          ".notice \"${.FOO}\"\n"
	                          ".notice \"${HOME[x]}\"\n"
	                          ".notice \"a\r\"\n"
	                          ".notice\t\"x\001\tq\n"
	                          "after\n", NULL), 8);
	assert_string_equal(captured,
		"config : parsing [t.cfg:1]: unmatched quote at position 9:\n"
		"  .notice \"unterminated\n"
		"          ^\n"
		"config : parsing [t.cfg:2]: unmatched quote at position 10:\n"
		"  .notice 'unterm\n"
		"          ^\n"
		"config : parsing [t.cfg:3]: truncated or invalid hexadecimal sequence at position 10:\n"
		"  .notice a\\x4g\n"
		"           ^\n"
		"config : parsing [t.cfg:4]: forbidden first char in environment variable name at position 11:\n"
		"  .notice \"$1abc\"\n"
		"            ^\n"
		/* deliberate difference: HAProxy shows this line cut at the
		 * name, an effect of its in-place parsing */
		"config : parsing [t.cfg:5]: forbidden first char in environment variable name at position 12:\n"
		"  .notice \"${.FOO}\"\n"
		"             ^\n"
		"config : parsing [t.cfg:6]: truncated or invalid word expansion sequence at position 16:\n"
		"  .notice \"${HOME[x]}\"\n"
		"                 ^\n"
		/* CR ends the line; it shows as a space, as other blanks */
		"config : parsing [t.cfg:7]: unmatched quote at position 9:\n"
		"  .notice \"a \"\n"
		"          ^\n"
		"config : parsing [t.cfg:8]: unmatched quote at position 9:\n"
		"  .notice \"x? q\n"
		"          ^\n");
	assert_string_equal(stmts, "9:after\n");
}

static void test_reader_long_line_display(void **state)
{
	char cfg[1024], a[128], b[128];

	memset(a, 'a', 120);
	a[120] = 0;
	memset(b, 'b', 100);
	b[100] = 0;

	/* the fault shows: the line is cut at 80 columns */
	snprintf(cfg, sizeof(cfg), ".notice \"x %s\n", b);
	read_all(cfg, NULL);
	assert_string_equal(captured,
		"config : parsing [t.cfg:1]: unmatched quote at position 9:\n"
		"  .notice \"x bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n"
		"          ^\n");

	/* it would not: the text is shifted, with "..." at both ends */
	snprintf(cfg, sizeof(cfg), ".notice %s \"x\n", a);
	read_all(cfg, NULL);
	assert_string_equal(captured,
		"config : parsing [t.cfg:1]: unmatched quote at position 130:\n"
		"  ...aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa \"x...\n"
		"                                          ^\n");

	snprintf(cfg, sizeof(cfg), ".notice %.100s \"x %s\n", a, b);
	read_all(cfg, NULL);
	assert_string_equal(captured,
		"config : parsing [t.cfg:1]: unmatched quote at position 110:\n"
		"  ...aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa \"x bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb...\n"
		"                                          ^\n");
}

static void test_reader_too_many_words(void **state)
{
	char cfg[1024];

	snprintf(cfg, sizeof(cfg), ".notice ");
	for (int i = 1; i <= 64; i++)
		sprintf(cfg + strlen(cfg), "w%d ", i);
	strcat(cfg, "\nafter\n");
	assert_int_equal(read_all(cfg, NULL), 1);
	assert_string_equal(captured, "config : parsing [t.cfg:1]: too many words, truncating after word 64, position 248: <w63>.\n");
	assert_string_equal(stmts, "2:after\n");
}

static void test_reader_scopes(void **state)
{
	assert_int_equal(read_all("[foo\n"
	                          "[.foo]\n"
	                          "[foo] bar\n"
	                          "[ foo ]\n"
	                          "[]\n"
	                          "[\n"
	                          " [x]\n"
	                          "[a:b.c-d_e] # comment\n"
	                          "[x]\r\n"
	                          "ok\n", NULL), 5);
	assert_string_equal(captured,
		"config : parsing [t.cfg:1] : empty scope name is forbidden.\n"
		"config : parsing [t.cfg:3] : character 'b' is not permitted after scope declaration.\n"
		"config : parsing [t.cfg:4] : character ' ' is not permitted in a scope name.\n"
		"config : parsing [t.cfg:5] : empty scope name is forbidden.\n"
		"config : parsing [t.cfg:6] : empty scope name is forbidden.\n");
	assert_string_equal(stmts, "10:ok\n");
}

static void test_reader_section_and_env(void **state)
{
	assert_int_equal(read_all(".notice \"<${.SECTION}>\"\n"
	                          "global\n"
	                          "  .notice \"${.SECTION} ${.FILE}:${.LINE}\"\n"
	                          "frontend fe1\n"
	                          "  .notice \"$.SECTION\"\n"
	                          "  bind \"${PXL_UNSET-127.0.0.1}:80\" \"${PXL_WORDS[*]}\"\n", NULL), 0);
	assert_string_equal(captured,
		"config : parsing [t.cfg:1]: '<>'.\n"
		"config : parsing [t.cfg:3]: 'global t.cfg:3'.\n"
		"config : parsing [t.cfg:5]: 'fe1'.\n");
	assert_string_equal(stmts, "2:global\n4:frontend|fe1\n6:bind|127.0.0.1:80|a1|a2\n");
}

static void test_reader_file(void **state)
{
	char path[] = "/tmp/test_cfg_lex_XXXXXX";
	int fd = mkstemp(path);
	size_t big = 100000;
	char *line = malloc(big + 32);
	struct cfg_reader r;
	FILE *f;
	int ret, n = 0;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fprintf(f, "global\r\n  maxconn 10\r\n.if 0\r\nno\r\n.endif\r\n");
	memset(line, 'q', big);
	line[big] = 0;
	fprintf(f, "long %s\n", line);
	fprintf(f, ".notice \"${.FILE}\"\nend");
	fclose(f);

	captured[0] = 0;
	assert_int_equal(cfg_reader_open(&r, path), 0);
	while ((ret = cfg_reader_next(&r)) != 0) {
		assert_int_equal(ret, 1);
		n++;
		if (n == 2) {
			assert_int_equal(r.src.line, 2);
			assert_int_equal(r.words.argc, 2);
			assert_string_equal(r.words.argv[1], "10");
		}
		if (n == 3) {
			assert_int_equal(r.src.line, 6);
			assert_int_equal(strlen(r.words.argv[1]), big);
		}
		if (n == 4) {
			assert_int_equal(r.src.line, 8);
			assert_string_equal(r.words.argv[0], "end");
		}
	}
	assert_int_equal(n, 4);
	assert_int_equal(r.errors, 0);
	cfg_reader_close(&r);
	cfg_reader_close(&r);   /* harmless twice */
	assert_non_null(strstr(captured, "/tmp/test_cfg_lex_"));
	unlink(path);
	free(line);
}

static void test_reader_missing_file(void **state)
{
	struct cfg_reader r;

	captured[0] = 0;
	assert_int_equal(cfg_reader_open(&r, "/nonexistent/proxyd.cfg"), -1);
	assert_string_equal(captured, "config : Cannot open configuration file/directory "
	                    "/nonexistent/proxyd.cfg : No such file or directory\n");
	assert_int_equal(cfg_reader_next(&r), 0);
	cfg_reader_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_blank_and_comments, reset_capture),
		cmocka_unit_test_setup(test_words, reset_capture),
		cmocka_unit_test_setup(test_escapes_outside_quotes, reset_capture),
		cmocka_unit_test_setup(test_double_quotes, reset_capture),
		cmocka_unit_test_setup(test_single_quotes, reset_capture),
		cmocka_unit_test_setup(test_glued_pieces, reset_capture),
		cmocka_unit_test_setup(test_empty_words, reset_capture),
		cmocka_unit_test_setup(test_env_expansion, reset_capture),
		cmocka_unit_test_setup(test_word_expansion, reset_capture),
		cmocka_unit_test_setup(test_pseudo_variables, reset_capture),
		cmocka_unit_test_setup(test_split_errors, reset_capture),
		cmocka_unit_test_setup(test_word_limit, reset_capture),
		cmocka_unit_test_setup(test_long_lines, reset_capture),
		cmocka_unit_test_setup(test_err_buffer, reset_capture),
		cmocka_unit_test_setup(test_reader_statements, reset_capture),
		cmocka_unit_test_setup(test_reader_messages, reset_capture),
		cmocka_unit_test_setup(test_reader_message_levels, reset_capture),
		cmocka_unit_test_setup(test_reader_message_errors, reset_capture),
		cmocka_unit_test_setup(test_reader_alert, reset_capture),
		cmocka_unit_test_setup(test_reader_if_basic, reset_capture),
		cmocka_unit_test_setup(test_reader_elif_chain, reset_capture),
		cmocka_unit_test_setup(test_reader_nested, reset_capture),
		cmocka_unit_test_setup(test_reader_errors_in_skipped_blocks, reset_capture),
		cmocka_unit_test_setup(test_reader_structure_errors, reset_capture),
		cmocka_unit_test_setup(test_reader_directive_arguments, reset_capture),
		cmocka_unit_test_setup(test_reader_unclosed, reset_capture),
		cmocka_unit_test_setup(test_reader_nesting_limit, reset_capture),
		cmocka_unit_test_setup(test_reader_condition_errors, reset_capture),
		cmocka_unit_test_setup(test_reader_lexical_errors, reset_capture),
		cmocka_unit_test_setup(test_reader_long_line_display, reset_capture),
		cmocka_unit_test_setup(test_reader_too_many_words, reset_capture),
		cmocka_unit_test_setup(test_reader_scopes, reset_capture),
		cmocka_unit_test_setup(test_reader_section_and_env, reset_capture),
		cmocka_unit_test_setup(test_reader_file, reset_capture),
		cmocka_unit_test_setup(test_reader_missing_file, reset_capture),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
