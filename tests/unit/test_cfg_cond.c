/* Unit tests for src/cfg_cond.c and cfg_eval_cond_text() ("proxyd -cc").
 * Every expected value and message was obtained from HAProxy 2.6.12 with
 * "haproxy -cc EXPR"; the few deliberate differences say so.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <proxyd/cfg_lex.h>

static int setup(void **state)
{
	setenv("PXT_SET", "value", 1);
	setenv("PXT_EMPTY", "", 1);
	unsetenv("PXT_UNSET");
	return 0;
}

/* Evaluates <expr> as one string, as the .if reader does. */
static int ev(const char *expr)
{
	char err[512];

	return cfg_eval_cond_expr(expr, err, sizeof(err), NULL);
}

/* Checks that <expr> is rejected with message <msg> about offset <pos>. */
static void check_err(const char *expr, const char *msg, size_t pos)
{
	char err[1024];
	size_t at = 9999;

	assert_int_equal(cfg_eval_cond_expr(expr, err, sizeof(err), &at), -1);
	assert_string_equal(err, msg);
	assert_int_equal(at, pos);
}

/* Evaluates <text> as "proxyd -cc" does. */
static int cc(const char *text, char *err, size_t len)
{
	err[0] = 0;
	return cfg_eval_cond_text(text, err, len);
}

static void test_numbers(void **state)
{
	assert_int_equal(ev(""), 0);
	assert_int_equal(ev("0"), 0);
	assert_int_equal(ev("1"), 1);
	assert_int_equal(ev("2"), 1);
	assert_int_equal(ev("-1"), 1);
	assert_int_equal(ev("+0"), 0);
	assert_int_equal(ev("0x10"), 1);
	assert_int_equal(ev("0x0"), 0);
	assert_int_equal(ev("00"), 0);
	assert_int_equal(ev("010"), 1);
	assert_int_equal(ev("-0"), 0);
	assert_int_equal(ev(" 0 "), 0);
	assert_int_equal(ev("\t1"), 1);
	assert_int_equal(ev("99999999999999999999999"), 1);
}

static void test_operators(void **state)
{
	assert_int_equal(ev("!1"), 0);
	assert_int_equal(ev("!!1"), 1);
	assert_int_equal(ev("! 1"), 0);
	assert_int_equal(ev("!  !0"), 0);
	assert_int_equal(ev("1 && 0"), 0);
	assert_int_equal(ev("1 && 1"), 1);
	assert_int_equal(ev("0 || 1"), 1);
	assert_int_equal(ev("0 || 0"), 0);
	/* && binds tighter than || */
	assert_int_equal(ev("1 && 0 || 1"), 1);
	assert_int_equal(ev("0 || 1 && 0"), 0);
	assert_int_equal(ev("1 || 1 && 0"), 1);
	assert_int_equal(ev("!(0||0)"), 1);
	assert_int_equal(ev("! (0)"), 1);
	assert_int_equal(ev("(((1)))"), 1);
	assert_int_equal(ev("( 1 ) && ( 1 )"), 1);
	assert_int_equal(ev("(0)||(1)"), 1);
	assert_int_equal(ev("(0) && (1) || (1) && (0)"), 0);
	assert_int_equal(ev("1 && (0 || (1 && !0))"), 1);
	assert_int_equal(ev("1\t&&\t1"), 1);
	assert_int_equal(ev("!0 && !!0"), 0);
	assert_int_equal(ev("0 || 0 || 0 || 1 && 1 && 1"), 1);
}

static void test_predicates(void **state)
{
	assert_int_equal(ev("defined(PXT_SET)"), 1);
	assert_int_equal(ev("defined(PXT_EMPTY)"), 1);
	assert_int_equal(ev("defined(PXT_UNSET)"), 0);
	assert_int_equal(ev("!defined(PXT_UNSET)"), 1);
	assert_int_equal(ev("defined()"), 0);
	assert_int_equal(ev("defined"), 0);
	/* spaces inside the parentheses belong to the argument */
	assert_int_equal(ev("defined( PXT_SET )"), 0);
	assert_int_equal(ev("defined(PXT_SET)&&1"), 1);

	assert_int_equal(ev("streq(a,a)"), 1);
	assert_int_equal(ev("streq(a,b)"), 0);
	assert_int_equal(ev("streq( a , a )"), 1);
	assert_int_equal(ev("streq(a , a)"), 0);
	assert_int_equal(ev("streq(a, a)"), 0);
	assert_int_equal(ev("streq(,)"), 1);
	assert_int_equal(ev("streq(a,)"), 0);
	assert_int_equal(ev("strneq(a,b)"), 1);
	assert_int_equal(ev("strneq(a,a)"), 0);
}

static void test_predicate_quoting(void **state)
{
	/* quotes and escapes seen by the argument parser itself */
	assert_int_equal(ev("streq('a,b',\"a,b\")"), 1);
	assert_int_equal(ev("streq(\"a)\",'a)')"), 1);
	assert_int_equal(ev("streq(a\\ b,a b)"), 1);
	assert_int_equal(ev("streq(a\\tb,a\tb)"), 1);
	assert_int_equal(ev("streq(a\\\\,a\\\\)"), 1);
	assert_int_equal(ev("streq(a\\\"b,'a\"b')"), 1);
	assert_int_equal(ev("defined('PXT_SET')"), 1);
	assert_int_equal(ev("defined(PXT'_'SET)"), 1);
	/* an unclosed quote runs to the end of the text */
	check_err("streq(\"a,b)", "missing arguments (got 1/2), type 'string' expected in argument 1 "
	          "of predicate 'streq' used in conditional expression", 11);
}

static void test_feature(void **state)
{
	assert_int_equal(ev("feature(OPENSSL)"), 1);
	assert_int_equal(ev("feature(PCRE2)"), 1);
	assert_int_equal(ev("feature(ZLIB)"), 0);
	assert_int_equal(ev("feature(FOOBAR)"), 0);
	assert_int_equal(ev("feature(PENSSL)"), 0);
	/* HAProxy's feature names are case-sensitive */
	assert_int_equal(ev("feature(openssl)"), 0);
	assert_int_equal(ev("feature(\"OPENSSL\")"), 1);
	/* deliberate difference: HAProxy 2.6 answers true here by reading
	 * past the end of its feature list */
	assert_int_equal(ev("feature()"), 0);
	assert_int_equal(ev("feature"), 0);
}

static void test_versions(void **state)
{
	/* compared with HAProxy 2.6.12 */
	static const struct {
		const char *v;
		int atleast;
	} t[] = {
		{ "2.6.12", 1 }, { "2.6.13", 0 }, { "2.6.11", 1 }, { "2.6", 1 }, { "2.7", 0 },
		{ "2", 1 }, { "3", 0 }, { "2.6.12-dev1", 1 }, { "2.6.12-rc1", 1 }, { "2.6.12-rc", 1 },
		{ "2.6.12-dev", 1 }, { "2.6.12-1", 0 }, { "2.6.12-0", 1 }, { "2.6.12.0", 1 },
		{ "2.6.12.1", 0 }, { "2.6.12-x", 1 }, { "2.6.12-x-3", 0 }, { "2.6.12-dev1-5", 1 },
		{ "2.6-dev1", 1 }, { "2.7-dev0", 0 }, { "2.6.12-", 1 }, { "2.6.12-dev2-0", 1 },
		{ " 2.6", 1 }, { "2.6.12.0-dev", 1 }, { "+2.6", 1 }, { "2..6", 1 }, { "2.6.", 1 },
		{ "2.6.12-5x", 1 }, { "2.-1", 0 }, { "02.06.12", 1 }, { "1.8", 1 }, { "2.5.99", 1 },
		/* unreadable versions: version_atleast() is true, version_before() false */
		{ "", 1 }, { "abc", 1 }, { "2.6x", 1 }, { "2.6.12.0.0", 1 }, { "2.6.12-dev1x", 1 },
		{ "2.6.12-3-", 1 }, { "2.6.12-dev1-", 1 },
	};
	char e[128];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(e, sizeof(e), "version_atleast(%s)", t[i].v);
		if (ev(e) != t[i].atleast)
			fail_msg("%s should be %d", e, t[i].atleast);
		snprintf(e, sizeof(e), "version_before(%s)", t[i].v);
		if (ev(e) != !t[i].atleast)
			fail_msg("%s should be %d", e, !t[i].atleast);
	}
	/* unreadable: both sides of HAProxy's comparison say "not newer" */
	assert_int_equal(ev("version_atleast(abc)"), 1);
	assert_int_equal(ev("version_before(abc)"), 0);
	assert_int_equal(ev("version_atleast()"), 1);
	assert_int_equal(ev("version_atleast(2.4) && version_before(2.7)"), 1);
}

static void test_syntax_errors(void **state)
{
	check_err("foo(", "unparsable conditional expression 'foo('", 0);
	check_err("a", "unparsable conditional expression 'a'", 0);
	check_err("bar(1)", "unparsable conditional expression 'bar(1)'", 0);
	check_err(" foo", "unparsable conditional expression ' foo'", 0);
	check_err("1 2", "unexpected character '2' at the end of conditional expression '1 2'", 2);
	check_err("1a", "unexpected character 'a' at the end of conditional expression '1a'", 1);
	check_err("0x", "unexpected character 'x' at the end of conditional expression '0x'", 1);
	check_err("1)", "unexpected character ')' at the end of conditional expression '1)'", 1);
	check_err("1 & 1", "unexpected character '&' at the end of conditional expression '1 & 1'", 2);
	check_err("1 | 0", "unexpected character '|' at the end of conditional expression '1 | 0'", 2);
	check_err("streq(a,b)c", "unexpected character 'c' at the end of conditional expression "
	          "'streq(a,b)c'", 10);
	check_err("feature(OPENSSL)feature(X)", "unexpected character 'f' at the end of conditional "
	          "expression 'feature(OPENSSL)feature(X)'", 16);
	check_err("defined (X)", "unexpected character '(' at the end of conditional expression "
	          "'defined (X)'", 8);
	check_err("defined(X))", "unexpected character ')' at the end of conditional expression "
	          "'defined(X))'", 10);
}

static void test_operator_errors(void **state)
{
	check_err("1 &&", "unparsable conditional expression '&&'", 2);
	check_err("1 && 1 &&", "unparsable conditional expression '&& 1 &&'", 2);
	check_err("1 ||", "unparsable conditional expression '1 ||'", 2);
	check_err("|| 1", "unparsable conditional expression '|| 1'", 0);
	check_err("&& 1", "unparsable conditional expression '&& 1'", 0);
	check_err("1 &&& 1", "unparsable conditional expression '& 1'", 4);
	check_err("!", "unparsable conditional expression '!'", 0);
	check_err("!!", "unparsable conditional expression '!!'", 0);
	check_err(" ", "unparsable conditional sub-expression ' '", 0);
	check_err("1 && foo", "unparsable conditional expression 'foo'", 5);
	/* parsed before evaluated: no short-circuit on syntax errors */
	check_err("1 || foo", "unparsable conditional expression 'foo'", 5);
	check_err("0 && foo(", "unparsable conditional expression 'foo('", 5);
	check_err("foo && 0", "unparsable conditional expression 'foo && 0'", 0);
}

static void test_paren_errors(void **state)
{
	check_err("(1", "expected ')' after conditional expression '(1'", 0);
	check_err("!(1", "expected ')' after conditional expression '!(1'", 0);
	check_err("()", "unparsable conditional expression ')'", 1);
	check_err("( )", "unparsable conditional expression ')'", 2);
	check_err("(1 ||)", "unparsable conditional expression ')'", 5);
	check_err("(1 && )", "unparsable conditional expression ')'", 6);
}

static void test_argument_errors(void **state)
{
	check_err("streq(a,b", "expected ')' in argument 1 of predicate 'streq' used in "
	          "conditional expression", 9);
	check_err("defined(X", "expected ')' in argument 1 of predicate 'defined' used in "
	          "conditional expression", 9);
	check_err("streq(a)", "missing arguments (got 1/2), type 'string' expected in argument 1 "
	          "of predicate 'streq' used in conditional expression", 7);
	check_err("streq", "missing arguments (got 1/2), type 'string' expected in argument 1 "
	          "of predicate 'streq' used in conditional expression", 5);
	check_err("streq(a,b,c)", "expected ')' before ',c)' in argument 1 of predicate 'streq' "
	          "used in conditional expression", 9);
	check_err("defined(X,Y)", "expected ')' before ',Y)' in argument 1 of predicate 'defined' "
	          "used in conditional expression", 9);
	check_err("defined(a\\", "failed to parse '\\' after 'a' as type 'string' at position 1 "
	          "in argument 0 of predicate 'defined' used in conditional expression", 9);
	check_err("streq(a\\,b,a\\,b)", "expected ')' before ',a\\,b)' in argument 1 of predicate "
	          "'streq' used in conditional expression", 10);
}

static void test_recursion_limit(void **state)
{
	char e[2048];
	int n;

	/* HAProxy's budget allows 340 nested parentheses, not 341 */
	for (n = 340; n <= 341; n++) {
		memset(e, '(', n);
		e[n] = '1';
		memset(e + n + 1, ')', n);
		e[2 * n + 1] = 0;
		if (n == 340) {
			assert_int_equal(ev(e), 1);
		} else {
			char err[2048];
			size_t at = 0;

			assert_int_equal(cfg_eval_cond_expr(e, err, sizeof(err), &at), -1);
			assert_int_equal(at, n);
			assert_int_equal(strncmp(err, "unparsable conditional sub-expression '1)))", 43), 0);
		}
	}
}

static void test_err_truncation_and_args(void **state)
{
	char err[16];
	char *args[] = { "1", "&&", "0" }, *bad[] = { "foo(" }, *none[] = { NULL };

	assert_int_equal(cfg_eval_cond_expr("foo(", err, sizeof(err), NULL), -1);
	assert_string_equal(err, "unparsable cond");
	assert_int_equal(cfg_eval_cond_expr("foo(", NULL, 0, NULL), -1);

	assert_int_equal(cfg_eval_cond(args, 3, err, sizeof(err)), 0);
	assert_int_equal(cfg_eval_cond(args, 1, err, sizeof(err)), 1);
	assert_int_equal(cfg_eval_cond(none, 0, err, sizeof(err)), 0);
	assert_int_equal(cfg_eval_cond(bad, 1, err, sizeof(err)), -1);
}

static void test_cc(void **state)
{
	char err[512];

	assert_int_equal(cc("1", err, sizeof(err)), 1);
	assert_int_equal(cc("", err, sizeof(err)), 0);
	assert_int_equal(cc("\"\"", err, sizeof(err)), 0);
	assert_int_equal(cc("defined(PXT_SET)", err, sizeof(err)), 1);
	assert_int_equal(cc("streq(\"$PXT_SET\",value)", err, sizeof(err)), 1);
	assert_int_equal(cc("streq('$PXT_SET',$PXT_SET)", err, sizeof(err)), 1);
	assert_int_equal(cc("streq(\"a b\",\"a b\")", err, sizeof(err)), 1);
	assert_int_equal(cc("streq(\"$.LINE\",0)", err, sizeof(err)), 1);
	assert_int_equal(cc("streq(\"${.FILE-x}\",x)", err, sizeof(err)), 1);
	assert_int_equal(cc("\t1", err, sizeof(err)), 1);

	/* the words are joined with spaces, including empty ones */
	assert_int_equal(cc("1 2", err, sizeof(err)), -1);
	assert_string_equal(err, "Failed to evaluate condition: unexpected character '2' at the "
	                    "end of conditional expression '1 2'");
	assert_int_equal(cc("foo \"\"", err, sizeof(err)), -1);
	assert_string_equal(err, "Failed to evaluate condition: unparsable conditional expression 'foo '");
	assert_int_equal(cc(" foo", err, sizeof(err)), -1);
	assert_string_equal(err, "Failed to evaluate condition: unparsable conditional expression ' foo'");
	assert_int_equal(cc(" ", err, sizeof(err)), -1);
	assert_string_equal(err, "Failed to evaluate condition: unparsable conditional sub-expression ' '");
	assert_int_equal(cc("\"$PXT_SET\"", err, sizeof(err)), -1);
	assert_string_equal(err, "Failed to evaluate condition: unparsable conditional expression 'value'");
	/* '#' is not a comment for -cc */
	assert_int_equal(cc("1 # x", err, sizeof(err)), -1);
	assert_string_equal(err, "Failed to evaluate condition: unexpected character '#' at the end "
	                    "of conditional expression '1 # x'");
}

static void test_cc_lexical_errors(void **state)
{
	char err[512], many[256];

	assert_int_equal(cc("\"1", err, sizeof(err)), -1);
	assert_string_equal(err, "Syntax Error in condition: Unmatched quote.");
	assert_int_equal(cc("streq(a,\"b)", err, sizeof(err)), -1);
	assert_string_equal(err, "Syntax Error in condition: Unmatched quote.");
	assert_int_equal(cc("1\\x4", err, sizeof(err)), -1);
	assert_string_equal(err, "Syntax Error in condition: Truncated or invalid hexadecimal sequence.");
	strcpy(many, "");
	for (int i = 0; i < 70; i++)
		strcat(many, "a ");
	assert_int_equal(cc(many, err, sizeof(err)), -1);
	assert_string_equal(err, "Error in condition: Too many words.");
	/* deliberate difference: HAProxy says "Unhandled error in condition,
	 * please report this to the developers." for these */
	assert_int_equal(cc("\"${HOME", err, sizeof(err)), -1);
	assert_string_equal(err, "Syntax Error in condition: unmatched brace in environment "
	                    "variable name at position 3.");
	assert_int_equal(cc("\"$1\"", err, sizeof(err)), -1);
	assert_string_equal(err, "Syntax Error in condition: forbidden first char in environment "
	                    "variable name at position 3.");
	assert_int_equal(cc("\"${A[1]}\"", err, sizeof(err)), -1);
	assert_string_equal(err, "Syntax Error in condition: truncated or invalid word expansion "
	                    "sequence at position 5.");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_operators),
		cmocka_unit_test(test_predicates),
		cmocka_unit_test(test_predicate_quoting),
		cmocka_unit_test(test_feature),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_operator_errors),
		cmocka_unit_test(test_paren_errors),
		cmocka_unit_test(test_argument_errors),
		cmocka_unit_test(test_recursion_limit),
		cmocka_unit_test(test_err_truncation_and_args),
		cmocka_unit_test(test_cc),
		cmocka_unit_test(test_cc_lexical_errors),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
