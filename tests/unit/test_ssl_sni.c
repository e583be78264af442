/* Unit tests for src/ssl_sni.c: certificate name matching (exact names,
 * one-label wildcards, case) and the SNI table of a bind line (exact
 * before wildcard, first declared wins, negative filters, removal). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <proxyd/ssl_sni.h>

static void test_name_match(void **state)
{
	assert_true(sni_name_match("www.example.com", "www.example.com"));
	assert_true(sni_name_match("www.example.com", "WWW.Example.COM"));
	assert_false(sni_name_match("www.example.com", "example.com"));
	assert_true(sni_name_match("*.example.com", "a.example.com"));
	assert_true(sni_name_match("*.example.com", "A-B.EXAMPLE.com"));
	/* one label only, never the bare domain */
	assert_false(sni_name_match("*.example.com", "a.b.example.com"));
	assert_false(sni_name_match("*.example.com", "example.com"));
	assert_false(sni_name_match("*.example.com", ".example.com"));
	assert_false(sni_name_match("*.example.com", "aexample.com"));
	assert_false(sni_name_match("*.", "a."));
	assert_false(sni_name_match("*.example.com", ""));
}

static void test_add_rejects_bad_patterns(void **state)
{
	struct sni_table t = { 0 };
	int v;

	assert_int_equal(sni_table_add(&t, "", 0, &v), -1);
	assert_int_equal(sni_table_add(&t, "*", 0, &v), -1);
	assert_int_equal(sni_table_add(&t, "*.", 0, &v), -1);
	assert_int_equal(sni_table_add(&t, "a*.b.c", 0, &v), -1);
	assert_int_equal(sni_table_add(&t, "*.*.b.c", 0, &v), -1);
	assert_int_equal(sni_table_add(&t, "www.*.com", 0, &v), -1);
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	assert_int_equal(sni_table_add(&t, longname, 0, &v), -1);
	assert_int_equal(t.nb, 0);
	assert_int_equal(sni_table_add(&t, "*.ok.com", 0, &v), 0);
	sni_table_free(&t);
}

static void test_lookup_exact_then_wildcard(void **state)
{
	struct sni_table t = { 0 };
	int a, b, c;

	assert_int_equal(sni_table_add(&t, "*.example.com", 0, &a), 0);
	assert_int_equal(sni_table_add(&t, "www.example.com", 0, &b), 0);
	assert_int_equal(sni_table_add(&t, "Other.Test", 0, &c), 0);
	assert_ptr_equal(sni_table_lookup(&t, "www.example.com"), &b);
	assert_ptr_equal(sni_table_lookup(&t, "WWW.EXAMPLE.COM"), &b);
	assert_ptr_equal(sni_table_lookup(&t, "api.example.com"), &a);
	assert_ptr_equal(sni_table_lookup(&t, "other.test"), &c);
	assert_null(sni_table_lookup(&t, "a.b.example.com"));
	assert_null(sni_table_lookup(&t, "example.com"));
	assert_null(sni_table_lookup(&t, "nothing"));
	assert_null(sni_table_lookup(&t, ""));
	assert_null(sni_table_lookup(&t, NULL));
	sni_table_free(&t);
}

static void test_first_declared_wins(void **state)
{
	struct sni_table t = { 0 };
	int a, b, w1, w2;

	sni_table_add(&t, "dup.test", 0, &a);
	sni_table_add(&t, "*.wild.test", 0, &w1);
	sni_table_add(&t, "dup.test", 0, &b);
	sni_table_add(&t, "*.wild.test", 0, &w2);
	/* many more names so that sorting really moves things */
	int filler[50];
	char name[32];
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "n%02d.test", 49 - i);
		sni_table_add(&t, name, 0, &filler[i]);
	}
	assert_ptr_equal(sni_table_lookup(&t, "dup.test"), &a);
	assert_ptr_equal(sni_table_lookup(&t, "x.wild.test"), &w1);
	assert_ptr_equal(sni_table_lookup(&t, "n07.test"), &filler[42]);
	sni_table_free(&t);
}

static void test_negative_filters(void **state)
{
	struct sni_table t = { 0 };
	int a, b;

	/* a: *.example.com except secret.example.com; b: the secret one */
	sni_table_add(&t, "*.example.com", 0, &a);
	sni_table_add(&t, "secret.example.com", 1, &a);
	sni_table_add(&t, "*.example.com", 0, &b);
	assert_ptr_equal(sni_table_lookup(&t, "www.example.com"), &a);
	assert_ptr_equal(sni_table_lookup(&t, "secret.example.com"), &b);
	/* a negative wildcard excludes a whole domain */
	sni_table_add(&t, "*.internal.test", 1, &a);
	sni_table_add(&t, "*.internal.test", 0, &a);
	assert_null(sni_table_lookup(&t, "x.internal.test"));
	sni_table_free(&t);
}

static void test_remove(void **state)
{
	struct sni_table t = { 0 };
	int a, b;

	sni_table_add(&t, "one.test", 0, &a);
	sni_table_add(&t, "one.test", 0, &b);
	sni_table_add(&t, "*.two.test", 0, &a);
	assert_ptr_equal(sni_table_lookup(&t, "one.test"), &a);
	sni_table_remove(&t, &a);
	assert_int_equal(t.nb, 1);
	assert_ptr_equal(sni_table_lookup(&t, "one.test"), &b);
	assert_null(sni_table_lookup(&t, "x.two.test"));
	sni_table_add(&t, "*.two.test", 0, &a);
	assert_ptr_equal(sni_table_lookup(&t, "x.two.test"), &a);
	sni_table_free(&t);
	assert_null(sni_table_lookup(&t, "one.test"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_match),
		cmocka_unit_test(test_add_rejects_bad_patterns),
		cmocka_unit_test(test_lookup_exact_then_wildcard),
		cmocka_unit_test(test_first_declared_wins),
		cmocka_unit_test(test_negative_filters),
		cmocka_unit_test(test_remove),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
