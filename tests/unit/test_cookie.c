/* Unit tests for cookie persistence (src/cookie.c): the "cookie" keyword
 * of backends and servers, option persist, force-persist/ignore-persist
 * through the configuration parser (messages word for word, and the
 * structures they produce), and the maxidle/maxlife date encoding. What
 * the module does to traffic is tested end to end (tests/e2e/test_cookie.py).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <proxyd/cfg.h>
#include <proxyd/cookie.h>
#include <proxyd/persist.h>
#include <proxyd/diag.h>
#include <proxyd/global.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>

#include "cfg_fixture.h"

/* The cookie of backend "be" after parsing <text> without any message. */
static const struct cookie_conf *cookie_of(const char *text)
{
	reset_state();
	int err = parse(text);
	if (err || out[0])
		fail_msg("configuration:\n%s\nerror bits %#x, messages:\n%s", text, err, out);
	struct proxy *be = proxy_find("be", PR_CAP_BE);
	if (!be)
		fail_msg("no backend 'be'");
	return be->c.cookie;
}

static int list_count(const struct list *l)
{
	int n = 0;

	for (const struct list *e = l->next; e != l; e = e->next)
		n++;
	return n;
}

/* ------------------------------------------------------------ keyword */

static void test_modes_and_options(void **state)
{
	const struct cookie_conf *c = cookie_of("backend be\n  cookie SRV insert indirect nocache\n");
	assert_non_null(c);
	assert_string_equal(c->name, "SRV");
	assert_int_equal(c->nlen, 3);
	assert_int_equal(c->mode, CK_INSERT);
	assert_int_equal(c->flags, CK_F_INDIRECT | CK_F_NOCACHE);
	assert_null(c->domains);
	assert_null(c->attrs);
	assert_int_equal(c->maxidle, 0);
	assert_int_equal(c->maxlife, 0);

	c = cookie_of("backend be\n  cookie SRV insert postonly preserve httponly secure\n");
	assert_int_equal(c->flags, CK_F_POSTONLY | CK_F_PRESERVE | CK_F_HTTPONLY | CK_F_SECURE);

	assert_int_equal(cookie_of("backend be\n  cookie JSESSIONID rewrite\n")->mode, CK_REWRITE);
	assert_int_equal(cookie_of("backend be\n  cookie JSESSIONID prefix\n")->mode, CK_PREFIX);
	assert_int_equal(cookie_of("backend be\n  cookie JSESSIONID prefix indirect\n")->flags, CK_F_INDIRECT);
	c = cookie_of("backend be\n  cookie SRV\n");
	assert_int_equal(c->mode, CK_PASSIVE);
	assert_int_equal(c->flags, 0);
	c = cookie_of("backend be\n  cookie SRV indirect preserve\n");
	assert_int_equal(c->mode, CK_PASSIVE);
	assert_int_equal(c->flags, CK_F_INDIRECT | CK_F_PRESERVE);
}

static void test_domains_and_attributes(void **state)
{
	const struct cookie_conf *c =
		cookie_of("backend be\n  cookie SRV insert domain .example.com domain b.example.org "
		          "attr SameSite=Lax attr \"Priority=High\"\n");
	assert_string_equal(c->domains, "; domain=.example.com; domain=b.example.org");
	assert_string_equal(c->attrs, "; SameSite=Lax; Priority=High");
	c = cookie_of("backend be\n  cookie SRV insert domain a_b-c.example.com\n");
	assert_string_equal(c->domains, "; domain=a_b-c.example.com");
}

static void test_dates(void **state)
{
	const struct cookie_conf *c = cookie_of("backend be\n  cookie SRV insert maxidle 30m maxlife 8h\n");
	assert_int_equal(c->maxidle, 1800);
	assert_int_equal(c->maxlife, 8 * 3600);
	/* seconds by default, rounded up, up to 2^31-1 s */
	c = cookie_of("backend be\n  cookie SRV insert maxidle 90 maxlife 30d\n");
	assert_int_equal(c->maxidle, 90);
	assert_int_equal(c->maxlife, 30 * 86400);
	c = cookie_of("backend be\n  cookie SRV insert maxidle 1500ms maxlife 2147483647\n");
	assert_int_equal(c->maxidle, 2);
	assert_int_equal(c->maxlife, 2147483647);
	assert_int_equal(cookie_of("backend be\n  cookie SRV insert maxidle 1us\n")->maxidle, 1);
}

static void test_defaults(void **state)
{
	reset_state();
	assert_int_equal(parse("defaults\n  cookie SRV insert indirect\n  option persist\n"
	                       "backend be\n  server s1 127.0.0.1:80 cookie a\n"
	                       "backend be2\n  no option persist\n"
	                       "backend be3\n  cookie OTHER rewrite\n"), 0);
	assert_string_equal(out, "");
	struct proxy *be = proxy_find("be", PR_CAP_BE);
	assert_non_null(be->c.cookie);
	assert_string_equal(be->c.cookie->name, "SRV");
	assert_true(be->c.options & PR_O_PERSIST);
	struct proxy *be2 = proxy_find("be2", PR_CAP_BE);
	assert_string_equal(be2->c.cookie->name, "SRV");
	assert_false(be2->c.options & PR_O_PERSIST);
	assert_string_equal(proxy_find("be3", PR_CAP_BE)->c.cookie->name, "OTHER");
}

static void test_server_cookie(void **state)
{
	reset_state();
	assert_int_equal(parse("backend be\n  cookie SRV insert\n"
	                       "  server s1 127.0.0.1:80 cookie web1 weight 10\n"
	                       "  server s2 127.0.0.1:81\n"), 0);
	struct proxy *be = proxy_find("be", PR_CAP_BE);
	struct server *s1 = proxy_find_server(be, "s1"), *s2 = proxy_find_server(be, "s2");
	assert_string_equal(s1->cookie, "web1");
	assert_int_equal(s1->cookie_len, 4);
	assert_null(s2->cookie);
}

static void test_persist_rules(void **state)
{
	reset_state();
	assert_int_equal(parse("backend be\n  force-persist if { src 10.0.0.1 }\n"
	                       "  ignore-persist unless { path_beg /app }\n"
	                       "listen li\n  ignore-persist if TRUE\n"), 0);
	struct proxy *be = proxy_find("be", PR_CAP_BE);
	assert_int_equal(list_count(&be->persist_rules), 2);
	struct persist_rule *r = list_first(&be->persist_rules, struct persist_rule, list);
	assert_true(r->force);
	assert_non_null(r->cond);
	assert_int_equal(list_count(&proxy_find("li", PR_CAP_BE)->persist_rules), 1);
}

/* ------------------------------------------------------------ messages */

static void test_errors(void **state)
{
	static const struct mcase cases[] = {
		{ "backend be\n  cookie SRV insert rewrite\n", ALERT,
		  L(2, "'cookie SRV': the 'rewrite', 'insert' and 'prefix' modes are incompatible (choose one)") },
		{ "backend be\n  cookie SRV rewrite indirect\n", ALERT,
		  L(2, "'cookie SRV': the 'rewrite' and 'indirect' modes are incompatible") },
		{ "backend be\n  cookie SRV preserve\n", ALERT,
		  L(2, "'cookie SRV': 'preserve' requires at least 'insert' or 'indirect'") },
		{ "backend be\n  cookie SRV rewrite maxidle 10m\n", ALERT,
		  L(2, "'cookie SRV': maxidle and maxlife need insert mode (the dates live in inserted cookies)") },
		{ "backend be\n  cookie SRV=1 insert\n", ALERT,
		  L(2, "'cookie SRV=1': invalid character '=' in the cookie name") },
		{ "backend be\n  cookie SRV insert domain ex/ample.com\n", ALERT,
		  L(2, "character '/' is not permitted in domain name 'ex/ample.com'.") },
		{ "backend be\n  cookie SRV insert domain localhost\n", WARN,
		  L(2, "domain 'localhost' contains no embedded dot, this configuration may not work properly "
		       "(see RFC6265#5.2.3).") },
		{ "backend be\n  cookie SRV insert attr \"a;b\"\n", ALERT,
		  L(2, "character '%x3B' is not permitted in attribute value 'a;b'.") },
		{ "backend be\n  cookie SRV insert domain\n", ALERT,
		  L(2, "'cookie SRV': 'domain' expects <domain> as argument") },
		{ "backend be\n  cookie SRV insert attr\n", ALERT,
		  L(2, "'cookie SRV': 'attr' expects <value> as argument") },
		{ "backend be\n  cookie SRV insert maxlife\n", ALERT,
		  L(2, "'cookie SRV': 'maxlife' expects a time (seconds by default) as argument") },
		{ "backend be\n  cookie SRV insert maxidle 10x\n", ALERT,
		  L(2, "unexpected character 'x' in argument to <maxidle> (expected a time like 30m, 8h or 1d).") },
		{ "backend be\n  cookie SRV insert maxlife 2147483648\n", ALERT,
		  L(2, "timer overflow in argument <2147483648> to <maxlife>, maximum value is 2147483647 s "
		       "(~68 years).") },
		{ "backend be\n  cookie SRV insert dynamic\n", ALERT,
		  L(2, "'cookie ... dynamic' is not supported yet by proxyd (give each server a 'cookie')") },
		{ "backend be\n  cookie SRV insert frob\n", ALERT,
		  L(2, "'cookie SRV': unknown option 'frob' (expected insert, rewrite, prefix, indirect, nocache, "
		       "postonly, preserve, httponly, secure, domain <d>, maxidle <t>, maxlife <t> or attr <v>)") },
		{ "backend be\n  cookie SRV prefix nocache\n", WARN,
		  L(2, "'cookie SRV': nocache, postonly, httponly, secure, domain and attr only apply to inserted "
		       "cookies (insert mode)") },
	};

	RUN(cases);
}

static void test_server_and_rule_errors(void **state)
{
	static const struct mcase cases[] = {
		{ "backend be\n  server s1 127.0.0.1:80 cookie a;b\n", ALERT,
		  L(2, "'cookie a;b': invalid character ';' in a server cookie value") },
		{ "backend be\n  server s1 127.0.0.1:80 cookie a~b\n", ALERT,
		  L(2, "'cookie a~b': invalid character '~' in a server cookie value") },
		{ "backend be\n  default-server cookie x\n", ALERT,
		  L(2, "'cookie' is a per-server value: it cannot be set on a default-server line "
		       "(the servers would share it)") },
		{ "backend be\n  force-persist\n", ALERT,
		  L(2, "'force-persist' expects if|unless <condition> (none given)") },
		{ "backend be\n  ignore-persist if\n", ALERT,
		  L(2, "'ignore-persist' expects if|unless <condition>") },
		{ "frontend fe\n  force-persist if TRUE\n", WARN,
		  L(2, "'force-persist' ignored because frontend 'fe' has no backend capability.") },
		{ "frontend fe\n  cookie SRV insert\n", WARN,
		  L(2, "'cookie' ignored because frontend 'fe' has no backend capability.") },
		{ "backend be\n  no cookie SRV\n", ALERT, L(2, "'cookie' cannot be prefixed with 'no'") },
		{ "frontend fe\n  option persist\n", WARN,
		  L(2, "'persist' ignored because frontend 'fe' has no backend capability.") },
	};

	RUN(cases);
}

/* ------------------------------------------------------------ dates */

static void test_date_encoding(void **state)
{
	char d[6] = "";

	cookie_date_encode(0, d);
	assert_string_equal(d, "AAAAA");
	cookie_date_encode(1, d);
	assert_string_equal(d, "AAAAB");
	cookie_date_encode(63, d);
	assert_string_equal(d, "AAAA/");
	cookie_date_encode(64, d);
	assert_string_equal(d, "AAABA");
	cookie_date_encode((1u << 30) - 1, d);
	assert_string_equal(d, "/////");
	/* only the low 30 bits */
	cookie_date_encode((1u << 30) | 5, d);
	assert_string_equal(d, "AAAAF");
	/* a date as HAProxy writes it: (1795638690 + 3) >> 2 */
	cookie_date_encode((1795638690u + 3) >> 2, d);
	assert_string_equal(d, "awdFp");
}

static void test_date_decoding(void **state)
{
	assert_int_equal(cookie_date_decode("AAAAA"), 0);
	assert_int_equal(cookie_date_decode("AAAAB"), 1);
	assert_int_equal(cookie_date_decode("/////"), (1 << 30) - 1);
	assert_int_equal(cookie_date_decode("awdFp|more"), (1795638690 + 3) >> 2);
	/* 5 base64 characters are needed */
	assert_int_equal(cookie_date_decode("AAAA"), -1);
	assert_int_equal(cookie_date_decode("AA|AA"), -1);
	assert_int_equal(cookie_date_decode("AA AA"), -1);
	assert_int_equal(cookie_date_decode("AA=AA"), -1);
	for (unsigned v = 0; v < (1u << 30); v += 104729u * 7) {
		char d[6] = "";
		cookie_date_encode(v, d);
		if (cookie_date_decode(d) != (int)v)
			fail_msg("%u -> %s -> %d", v, d, cookie_date_decode(d));
	}
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_modes_and_options),
		T(test_domains_and_attributes),
		T(test_dates),
		T(test_defaults),
		T(test_server_cookie),
		T(test_persist_rules),
		T(test_errors),
		T(test_server_and_rule_errors),
		cmocka_unit_test(test_date_encoding),
		cmocka_unit_test(test_date_decoding),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
