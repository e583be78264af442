/* Unit tests for src/sample.c and src/sample_conv.c: expression parsing
 * (arguments, quoting and escapes, converter chains, errors), casts, and
 * every converter, evaluated on constant fetches (str(), int()) that need
 * no stream. Converter results were checked against HAProxy 2.6.12.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include <proxyd/cfg.h>
#include <proxyd/regex.h>
#include <proxyd/sample.h>

static int teardown(void **state)
{
	regex_free_all();  /* before the arena that holds the regex list */
	cfg_arena_free();
	return 0;
}

static char err[512];

static struct sample_expr *parse(const char *text)
{
	err[0] = 0;
	return sample_parse_word(text, err, sizeof(err));
}

/* Evaluates <text> and returns its value as a string ("<none>" when it
 * gives no value). */
static const char *eval(const char *text)
{
	static char out[1024];
	struct sample smp;
	struct sample_expr *e = parse(text);

	if (!e)
		fail_msg("'%s' does not parse: %s", text, err);
	smp.flags = 0;
	if (!sample_process(e, NULL, &smp))
		return "<none>";
	if (!sample_cast(&smp, SMP_T_STR))
		return "<no string>";
	snprintf(out, sizeof(out), "%.*s", (int)smp.data.str.len, smp.data.str.ptr);
	return out;
}

#define assert_eval(text, want) assert_string_equal(eval(text), want)

static void assert_parse_error(const char *text, const char *want)
{
	assert_null(parse(text));
	if (!strstr(err, want))
		fail_msg("'%s': got error '%s', expected it to contain '%s'", text, err, want);
}

static void test_arguments_and_quoting(void **state)
{
	assert_eval("str(abc)", "abc");
	assert_eval("str(\"a,b\")", "a,b");
	assert_eval("str('a,b)')", "a,b)");
	assert_eval("str(\"a\\\"b\")", "a\"b");
	assert_eval("str(a\\ b)", "a b");
	assert_eval("str(a\\\\b)", "a\\b");
	/* other backslashes stay (HAProxy's second level) */
	assert_eval("str(a\\.b)", "a\\.b");
	assert_eval("str(\"a\\xb\")", "a\\xb");
	assert_eval("str('a\\\\b')", "a\\\\b");       /* nothing is interpreted in single quotes */
	assert_eval("str(\"it's\")", "it's");
	assert_eval("str('say \"hi\"')", "say \"hi\"");
	assert_eval("int(-42)", "-42");
	assert_eval("bool(3)", "1");
	assert_eval("ipv4(10.1.2.3)", "10.1.2.3");
	assert_eval("ipv6(::1)", "::1");
}

static void test_parse_errors(void **state)
{
	assert_parse_error("nosuch", "unknown fetch method 'nosuch'");
	assert_parse_error("", "missing fetch method");
	assert_parse_error("str(abc", "missing closing ')'");
	assert_parse_error("str(\"abc)", "missing closing ')'");
	assert_parse_error("str(a,b)", "'str' expects at most 1 argument, got 2");
	assert_parse_error("str", "'str' expects at least 1 argument, got 0");
	assert_parse_error("int(x)", "'int': argument 1 must be an integer (got 'x')");
	assert_parse_error("int(99999999999999999999)", "must be an integer");
	assert_parse_error("str(a),nosuchconv", "unknown converter 'nosuchconv'");
	assert_parse_error("str(a),", "missing converter name after ','");
	assert_parse_error("str(a),add(1,2)", "'add' expects at most 1 argument, got 2");
	assert_parse_error("str(a),field(1)", "'field' expects at least 2 arguments, got 1");
	assert_parse_error("str(a),field(0,.)", "field index must not be 0");
	assert_parse_error("str(a),field(1,)", "empty delimiter list");
	assert_parse_error("str(a),regsub(\"(a\",b)", "invalid regex '(a'");
	assert_parse_error("str(a),regsub(a,b,x)", "regsub: unknown flag 'x'");
	assert_parse_error("ipv4(nope)", "'nope' is not an IPv4 address");
	assert_parse_error("str(a) x", "unexpected ' x' after the sample expression");
	/* an integer has no string converter input type problem, but an
	 * address cannot feed a method */
	assert_parse_error("str(a),lower,lower,lower,lower,lower,lower,lower,lower,lower",
	                   "too many converters (at most 8)");
	assert_non_null(parse("str(a),lower,lower,lower,lower,lower,lower,lower,lower"));
}

static void test_type_mismatch(void **state)
{
	/* a string can become an integer at run time: accepted */
	assert_non_null(parse("str(12),add(1)"));
	assert_eval("str(12),add(1)", "13");
	assert_eval("str(x),add(1)", "<none>");          /* ...or not */
	assert_eval("str(12abc),add(1)", "13");          /* leading digits, as HAProxy */
	/* a boolean feeds a string converter through a cast */
	assert_eval("bool(1),upper", "1");
	assert_eval("ipv4(1.2.3.4),add(1)", "16909061");
}

static void test_casts(void **state)
{
	struct sample s;

	memset(&s, 0, sizeof(s));
	s.type = SMP_T_SINT;
	s.data.sint = -12;
	assert_true(sample_cast(&s, SMP_T_STR));
	assert_int_equal(s.data.str.len, 3);
	assert_memory_equal(s.data.str.ptr, "-12", 3);
	assert_true(sample_cast(&s, SMP_T_SINT));
	assert_int_equal(s.data.sint, -12);
	assert_true(sample_cast(&s, SMP_T_BOOL));
	assert_int_equal(s.data.sint, 1);

	memset(&s, 0, sizeof(s));
	s.type = SMP_T_STR;
	s.data.str.ptr = "192.168.0.1";
	s.data.str.len = 11;
	assert_true(sample_cast(&s, SMP_T_ADDR));
	assert_int_equal(s.type, SMP_T_IPV4);
	assert_true(sample_cast(&s, SMP_T_IPV6));
	assert_int_equal(s.type, SMP_T_IPV6);
	assert_true(IN6_IS_ADDR_V4MAPPED(&s.data.ipv6));
	assert_true(sample_cast(&s, SMP_T_IPV4));
	assert_int_equal(ntohl(s.data.ipv4.s_addr), 0xc0a80001);
	assert_true(sample_cast(&s, SMP_T_SINT));
	assert_int_equal(s.data.sint, 0xc0a80001);

	memset(&s, 0, sizeof(s));
	s.type = SMP_T_STR;
	s.data.str.ptr = "::1";
	s.data.str.len = 3;
	assert_false(sample_cast(&s, SMP_T_IPV4));
	memset(&s, 0, sizeof(s));
	s.type = SMP_T_STR;
	s.data.str.ptr = "-";
	s.data.str.len = 1;
	assert_false(sample_cast(&s, SMP_T_SINT));

	assert_true(sample_can_cast(SMP_T_STR, SMP_T_SINT));
	assert_true(sample_can_cast(SMP_T_SINT, SMP_T_STR));
	assert_true(sample_can_cast(SMP_T_ADDR, SMP_T_STR));
	assert_false(sample_can_cast(SMP_T_IPV4, SMP_T_METH));
	assert_false(sample_can_cast(SMP_T_SINT, SMP_T_METH));
	assert_true(sample_can_cast(SMP_T_ANY, SMP_T_SINT));
	assert_string_equal(smp_type_name(SMP_T_IPV6), "ipv6");
}

static void test_case_and_length(void **state)
{
	assert_eval("str(AbC),lower", "abc");
	assert_eval("str(AbC),upper", "ABC");
	assert_eval("str(a),regsub(a,),length", "0");   /* str() takes one argument in proxyd */
	assert_eval("str(hello),length", "5");
	assert_eval("int(0),not", "1");
	assert_eval("int(5),not", "0");
	assert_eval("int(5),bool", "1");
	assert_eval("str(abc),hex", "616263");
	assert_eval("str(abc),hex,lower", "616263");
	assert_eval("str(a%20b+c%2F),url_dec", "a b+c/");
	assert_eval("str(bad%2),url_dec", "<none>");
	assert_eval("str(bad%zz),url_dec", "<none>");
}

static void test_arithmetic(void **state)
{
	assert_eval("int(10),add(5),sub(3),mul(4),div(6),mod(5)", "3");
	assert_eval("int(-7),div(2)", "-3");
	assert_eval("int(-7),mod(2)", "-1");
	assert_eval("int(7),div(0)", "9223372036854775807");
	assert_eval("int(-7),div(0)", "9223372036854775807");
	assert_eval("int(7),mod(0)", "0");
	assert_eval("int(-9223372036854775808),div(-1)", "9223372036854775807");
	assert_eval("int(-9223372036854775808),mod(-1)", "0");
	assert_eval("int(9223372036854775807),add(1)", "9223372036854775807");
	assert_eval("int(-9223372036854775807),sub(5)", "-9223372036854775808");
	assert_eval("int(9223372036854775807),mul(2)", "9223372036854775807");
	assert_eval("int(9223372036854775807),mul(-2)", "-9223372036854775808");
	assert_eval("int(-3),mul(-2)", "6");
}

static void test_field_and_word(void **state)
{
	/* HAProxy's documented examples */
	assert_eval("str(f1_f2_f3__f5),field(5,_)", "f5");
	assert_eval("str(f1_f2_f3__f5),field(2,_,0)", "f2_f3__f5");
	assert_eval("str(f1_f2_f3__f5),field(2,_,2)", "f2_f3");
	assert_eval("str(f1_f2_f3__f5),field(-2,_,3)", "f2_f3_");
	assert_eval("str(f1_f2_f3__f5),field(-3,_,0)", "f1_f2_f3");
	assert_eval("str(f1_f2_f3__f5),word(4,_)", "f5");
	assert_eval("str(f1_f2_f3__f5),word(2,_,0)", "f2_f3__f5");
	assert_eval("str(f1_f2_f3__f5),word(3,_,2)", "f3__f5");
	assert_eval("str(f1_f2_f3__f5),word(-2,_,3)", "f1_f2_f3");
	assert_eval("str(f1_f2_f3__f5),word(-3,_,0)", "f1_f2");
	/* out of range: an empty string */
	assert_eval("str(f1_f2),field(9,_)", "");
	assert_eval("str(f1_f2),field(-9,_)", "");
	assert_eval("str(__a__b__),word(1,_)", "a");
	assert_eval("str(__a__b__),word(-1,_)", "b");
	assert_eval("str(__a__b__),field(1,_)", "");
	/* several delimiters */
	assert_eval("str(a=1;b:2),field(3,=;:)", "b");
	assert_eval("str(a.b.c),field(-1,.)", "c");
	assert_eval("str(a),regsub(a,),field(1,.)", "");
}

static void test_regsub(void **state)
{
	assert_eval("str(aaa),regsub(a,X)", "Xaa");
	assert_eval("str(aaa),regsub(a,X,g)", "XXX");
	assert_eval("str(aaa),regsub(^a,X,g)", "Xaa");
	assert_eval("str(abcABC),regsub(b,X,g)", "aXcABC");
	assert_eval("str(abcABC),regsub(b,X,gi)", "aXcAXC");
	assert_eval("str(abcABC),regsub(B,X,i)", "aXcABC");
	assert_eval("str(abc),regsub(x*,-,g)", "-a-b-c-");
	assert_eval("str(hello-world),regsub(\"(\\w+)-(\\w+)\",\"\\2_\\1\")", "world_hello");
	assert_eval("str(a.b.c),regsub(\\.,_,g)", "a_b_c");
	assert_eval("str(a.b.c),regsub([.],_,g)", "a_b_c");
	assert_eval("str(/api/v1/x),regsub(^/api/v[0-9]+,)", "/x");
	assert_eval("str(k=v),regsub(\"(k)=(v)\",\"\\0|\\1|\\2|\\3\")", "k=v|k|v|");
	assert_eval("str(nomatch),regsub(z,y,g)", "nomatch");
	assert_eval("str(foo123bar),regsub(\"(?<=foo)[0-9]+\",N)", "fooNbar");
}

static void test_base64(void **state)
{
	assert_eval("str(hello),base64", "aGVsbG8=");
	assert_eval("str(hell),base64", "aGVsbA==");
	assert_eval("str(hel),base64", "aGVs");
	assert_eval("str(a),regsub(a,),base64", "");
	assert_eval("str(aGVsbG8=),b64dec", "hello");
	assert_eval("str(aGVsbA==),b64dec", "hell");
	assert_eval("str(!!!!),b64dec", "<none>");
	/* round trip, including bytes that are no text */
	assert_eval("str(any carnal pleas),base64,b64dec", "any carnal pleas");
	assert_eval("str(AAEC/w==),b64dec,hex", "000102FF");
	assert_eval("str(AAEC/w==),b64dec,base64", "AAEC/w==");
}

static void test_ipmask(void **state)
{
	assert_eval("str(10.1.2.3),ipmask(16,8)", "10.1.0.0");
	assert_eval("str(127.0.0.2),ipmask(255.255.0.0)", "127.0.0.0");
	assert_eval("str(127.0.0.2),ipmask(0)", "0.0.0.0");
	assert_eval("str(2001:db8::1),ipmask(16,8)", "2000::");
	assert_eval("str(2001:db8::1),ipmask(24)", "<none>");     /* no IPv6 mask */
	/* IPv4-mapped: the IPv4 mask applies */
	assert_eval("str(::ffff:10.1.2.3),ipmask(16,8)", "10.1.0.0");
	assert_eval("str(::ffff:10.1.2.3),ipmask(24)", "10.1.2.0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_arguments_and_quoting, teardown),
		cmocka_unit_test_teardown(test_parse_errors, teardown),
		cmocka_unit_test_teardown(test_type_mismatch, teardown),
		cmocka_unit_test_teardown(test_casts, teardown),
		cmocka_unit_test_teardown(test_case_and_length, teardown),
		cmocka_unit_test_teardown(test_arithmetic, teardown),
		cmocka_unit_test_teardown(test_field_and_word, teardown),
		cmocka_unit_test_teardown(test_regsub, teardown),
		cmocka_unit_test_teardown(test_base64, teardown),
		cmocka_unit_test_teardown(test_ipmask, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
