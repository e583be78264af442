/* Unit tests for src/acl.c: condition parsing and evaluation with the
 * predefined TRUE and FALSE ACLs standing in for real ones (AND binds
 * tighter than OR, negation, unless), and the messages of bad conditions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <proxyd/acl.h>
#include <proxyd/cfg.h>
#include <proxyd/diag.h>

static char out[8192];

static int setup(void **state)
{
	out[0] = 0;
	diag_capture(out, sizeof(out));
	return 0;
}

static int teardown(void **state)
{
	diag_capture(NULL, 0);
	return 0;
}

/* Parses "if|unless <words...>" and evaluates it unless <parse_only>
 * (fetches that read a stream cannot run without one); -1 when refused. */
static int cond_of(const char *text, int parse_only)
{
	char buf[512], *args[64];
	int n = 0;
	struct cfg_ctx ctx = { .file = "t", .line = 1, .kw = "http-request" };

	snprintf(buf, sizeof(buf), "%s", text);
	for (char *t = strtok(buf, " "); t && n < 64; t = strtok(NULL, " "))
		args[n++] = t;
	struct cond *c = cond_parse(&ctx, args, n, 0, SMP_VAL_REQ, "http-request rule");
	if (!c)
		return -1;
	return parse_only ? 0 : cond_eval(c, NULL);
}

static int eval_cond(const char *text)
{
	return cond_of(text, 0);
}

static void test_and_or_not(void **state)
{
	assert_int_equal(eval_cond("if TRUE"), 1);
	assert_int_equal(eval_cond("if FALSE"), 0);
	assert_int_equal(eval_cond("if !FALSE"), 1);
	assert_int_equal(eval_cond("if ! FALSE"), 1);
	assert_int_equal(eval_cond("if TRUE FALSE"), 0);
	assert_int_equal(eval_cond("if TRUE TRUE"), 1);
	assert_int_equal(eval_cond("if FALSE or TRUE"), 1);
	assert_int_equal(eval_cond("if FALSE || FALSE"), 0);
	/* AND binds tighter than OR: (F and T) or T, (T and F) or F */
	assert_int_equal(eval_cond("if FALSE TRUE || TRUE"), 1);
	assert_int_equal(eval_cond("if TRUE FALSE || FALSE"), 0);
	assert_int_equal(eval_cond("if TRUE || FALSE FALSE"), 1);
	assert_int_equal(eval_cond("if FALSE || TRUE !FALSE"), 1);
	assert_int_equal(eval_cond("if FALSE || TRUE !TRUE"), 0);
	assert_int_equal(eval_cond("unless TRUE"), 0);
	assert_int_equal(eval_cond("unless FALSE || FALSE"), 1);
	assert_int_equal(eval_cond("unless FALSE TRUE"), 1);
}

static void test_anonymous_acls(void **state)
{
	assert_int_equal(eval_cond("if { always_true }"), 1);
	assert_int_equal(eval_cond("if !{ always_true }"), 0);
	assert_int_equal(eval_cond("if ! { always_false }"), 1);
	assert_int_equal(eval_cond("if { int(5) 1:10 } { str(abc) -m beg ab }"), 1);
	assert_int_equal(eval_cond("if { int(5) 6: } || { str(abc) -i ABC }"), 1);
	assert_int_equal(eval_cond("if { int(5) 6: } || { str(abc) ABC }"), 0);
	assert_int_equal(eval_cond("if { str(a,b) }"), -1);
}

static void test_errors(void **state)
{
	assert_int_equal(eval_cond("if nosuch"), -1);
	assert_non_null(strstr(out, "parsing [t:1] : no such ACL : 'nosuch'"));
	out[0] = 0;
	diag_capture(out, sizeof(out));
	assert_int_equal(eval_cond("if { always_true"), -1);
	assert_non_null(strstr(out, "missing '}' closing an anonymous ACL"));
	assert_int_equal(eval_cond("if TRUE ||"), -1);
	assert_non_null(strstr(out, "missing ACL before 'end of line' in condition"));
	assert_int_equal(eval_cond("if || TRUE"), -1);
	assert_int_equal(eval_cond("when TRUE"), -1);
	assert_non_null(strstr(out, "expected 'if' or 'unless' (got 'when')"));
	assert_int_equal(eval_cond("if"), -1);
	assert_non_null(strstr(out, "missing condition after 'if'"));
	assert_int_equal(eval_cond("if { nosuchfetch x }"), -1);
	assert_non_null(strstr(out, "unknown fetch method 'nosuchfetch'"));
}

static void test_use_context_warning(void **state)
{
	assert_int_equal(cond_of("if { res.hdr(x) -m found }", 1), 0);
	assert_non_null(strstr(out, "will never match because it only involves keywords that are "
	                            "incompatible with 'http-request rule' (it needs response data)"));
	out[0] = 0;
	diag_capture(out, sizeof(out));
	/* a request fetch mixed with constants is fine */
	assert_int_equal(eval_cond("if TRUE { always_true }"), 1);
	assert_null(strstr(out, "will never match"));
	/* a missing pattern warns (it would never match) */
	assert_int_equal(eval_cond("if { str(x) }"), 0);
	assert_non_null(strstr(out, "no pattern to match against were provided"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_and_or_not, setup, teardown),
		cmocka_unit_test_setup_teardown(test_anonymous_acls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_use_context_warning, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
