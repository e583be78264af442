/* Unit tests for src/stick_table.c: keys of each table type, lookups,
 * expiry, eviction of the least recently used entry when the table is
 * full, nopurge, and the "show table" lines. Time is passed explicitly, so
 * nothing here waits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include <proxyd/proxy.h>
#include <proxyd/sample.h>
#include <proxyd/server.h>
#include <proxyd/stick_table.h>

static struct proxy px = { .id = (char *)"be" };

static struct stktable table(enum stk_type type, unsigned size, int expire)
{
	struct stktable t;

	memset(&t, 0, sizeof(t));
	t.px = &px;
	t.type = type;
	t.size = size;
	t.expire = expire;
	t.key_size = (type == STK_T_STRING || type == STK_T_BINARY) ? 8 : 0;
	return t;
}

static struct stk_key str_key(const struct stktable *t, const char *s)
{
	struct sample smp;
	struct stk_key k;

	memset(&smp, 0, sizeof(smp));
	smp.type = SMP_T_STR;
	smp.flags = SMP_F_CONST;
	smp.data.str.ptr = s;
	smp.data.str.len = strlen(s);
	assert_int_equal(stktable_make_key(t, &smp, &k), 0);
	return k;
}

static void test_keys_of_each_type(void **state)
{
	struct stktable t = table(STK_T_IP, 10, 0);
	struct stk_key k = str_key(&t, "10.1.2.3");
	unsigned char ip[4] = { 10, 1, 2, 3 };
	assert_int_equal(k.len, 4);
	assert_memory_equal(k.data, ip, 4);

	/* an IPv4 address in an ipv6 table is stored IPv4-mapped */
	t = table(STK_T_IPV6, 10, 0);
	struct sample v4;
	memset(&v4, 0, sizeof(v4));
	v4.type = SMP_T_IPV4;
	inet_pton(AF_INET, "10.1.2.3", &v4.data.ipv4);
	assert_int_equal(stktable_make_key(&t, &v4, &k), 0);
	struct in6_addr mapped;
	inet_pton(AF_INET6, "::ffff:10.1.2.3", &mapped);
	assert_int_equal(k.len, 16);
	assert_memory_equal(k.data, &mapped, 16);

	/* integer keys are the low 32 bits, unsigned, as in HAProxy */
	t = table(STK_T_INTEGER, 10, 0);
	k = str_key(&t, "-42");
	uint32_t v;
	assert_int_equal(k.len, 4);
	memcpy(&v, k.data, 4);
	assert_int_equal(v, 4294967254u);
	struct stk_key k42 = str_key(&t, "42");
	k = str_key(&t, "4294967338");
	assert_int_equal(k.len, k42.len);
	assert_memory_equal(k.data, k42.data, 4);

	/* strings are cut at the table's length */
	t = table(STK_T_STRING, 10, 0);
	k = str_key(&t, "abcdefghijkl");
	assert_int_equal(k.len, 8);
	assert_memory_equal(k.data, "abcdefgh", 8);
	k = str_key(&t, "ab");
	assert_int_equal(k.len, 2);

	/* binary keys have the table's width, zero-padded */
	t = table(STK_T_BINARY, 10, 0);
	k = str_key(&t, "ab");
	assert_int_equal(k.len, 8);
	assert_memory_equal(k.data, "ab\0\0\0\0\0\0", 8);

	/* not an address: no key */
	t = table(STK_T_IP, 10, 0);
	struct sample smp;
	memset(&smp, 0, sizeof(smp));
	smp.type = SMP_T_STR;
	smp.flags = SMP_F_CONST;
	smp.data.str.ptr = "nope";
	smp.data.str.len = 4;
	assert_int_equal(stktable_make_key(&t, &smp, &k), -1);
}

static void test_get_then_lookup(void **state)
{
	struct stktable t = table(STK_T_STRING, 10, 0);
	struct stk_key a = str_key(&t, "alice"), b = str_key(&t, "bob");
	struct server srv = { .id = (char *)"s1", .puid = 1 };

	assert_null(stktable_lookup(&t, &a, 1000));
	struct stksess *ts = stktable_get(&t, &a, 1000);
	assert_non_null(ts);
	ts->srv = &srv;
	assert_ptr_equal(stktable_lookup(&t, &a, 1000), ts);
	assert_ptr_equal(stktable_get(&t, &a, 1001), ts);   /* no duplicate */
	assert_null(stktable_lookup(&t, &b, 1000));
	assert_int_equal(t.used, 1);
	stktable_free_entries(&t);
	assert_int_equal(t.used, 0);
}

static void test_expiry(void **state)
{
	struct stktable t = table(STK_T_STRING, 10, 500);
	struct stk_key a = str_key(&t, "a"), b = str_key(&t, "b");

	assert_non_null(stktable_get(&t, &a, 1000));
	assert_non_null(stktable_get(&t, &b, 1200));
	assert_non_null(stktable_lookup(&t, &a, 1499));
	/* a match restarts the lifetime */
	stktable_touch(&t, stktable_lookup(&t, &a, 1499), 1499);
	assert_non_null(stktable_lookup(&t, &a, 1998));
	assert_null(stktable_lookup(&t, &b, 1700));        /* 1200 + 500 */
	assert_int_equal(t.used, 1);                        /* dropped when met */
	assert_int_equal(stktable_purge(&t, 5000), 1);
	assert_int_equal(t.used, 0);
	stktable_free_entries(&t);
}

static void test_full_table_evicts_least_recently_used(void **state)
{
	struct stktable t = table(STK_T_STRING, 3, 0);
	struct stk_key k1 = str_key(&t, "k1"), k2 = str_key(&t, "k2"), k3 = str_key(&t, "k3"),
	               k4 = str_key(&t, "k4");

	stktable_get(&t, &k1, 1);
	stktable_get(&t, &k2, 2);
	stktable_get(&t, &k3, 3);
	stktable_touch(&t, stktable_lookup(&t, &k1, 4), 4);   /* k2 is now the oldest */
	assert_non_null(stktable_get(&t, &k4, 5));
	assert_int_equal(t.used, 3);
	assert_null(stktable_lookup(&t, &k2, 6));
	assert_non_null(stktable_lookup(&t, &k1, 6));
	assert_non_null(stktable_lookup(&t, &k3, 6));
	assert_non_null(stktable_lookup(&t, &k4, 6));
	stktable_free_entries(&t);
}

static void test_nopurge_refuses_new_keys(void **state)
{
	struct stktable t = table(STK_T_STRING, 2, 0);
	struct stk_key k1 = str_key(&t, "k1"), k2 = str_key(&t, "k2"), k3 = str_key(&t, "k3");

	t.nopurge = 1;
	stktable_get(&t, &k1, 1);
	stktable_get(&t, &k2, 2);
	assert_null(stktable_get(&t, &k3, 3));
	assert_non_null(stktable_lookup(&t, &k1, 4));
	assert_non_null(stktable_get(&t, &k2, 4));   /* existing keys still work */
	stktable_free_entries(&t);
}

static void test_many_keys_stay_bounded(void **state)
{
	struct stktable t = table(STK_T_INTEGER, 1000, 0);
	char buf[32];

	for (int i = 0; i < 5000; i++) {
		snprintf(buf, sizeof(buf), "%d", i);
		struct stk_key k = str_key(&t, buf);
		assert_non_null(stktable_get(&t, &k, (uint64_t)i));
	}
	assert_int_equal(t.used, 1000);
	for (int i = 4000; i < 5000; i++) {
		snprintf(buf, sizeof(buf), "%d", i);
		struct stk_key k = str_key(&t, buf);
		assert_non_null(stktable_lookup(&t, &k, 6000));
	}
	stktable_free_entries(&t);
}

struct lines {
	int n;
	char text[4][256];
};

static void collect(void *ctx, const char *line, size_t len)
{
	struct lines *l = ctx;
	if (l->n < 4)
		snprintf(l->text[l->n++], sizeof(l->text[0]), "%.*s", (int)len, line);
}

static void test_dump(void **state)
{
	struct stktable t = table(STK_T_IP, 10, 30000);
	struct stk_key a = str_key(&t, "127.0.0.1");
	struct server srv = { .id = (char *)"s2", .puid = 2 };
	struct lines l = { 0 };
	char head[128];

	stktable_get(&t, &a, 1000)->srv = &srv;
	stktable_dump_header(&t, head, sizeof(head));
	assert_string_equal(head, "# table: be, type: ip, size:10, used:1");
	stktable_dump(&t, 2000, collect, &l);
	assert_int_equal(l.n, 1);
	assert_non_null(strstr(l.text[0], ": key=127.0.0.1 use=0 exp=29000 server_id=2 server_key=s2"));
	l.n = 0;
	stktable_dump(&t, 31000, collect, &l);   /* expired entries are not shown */
	assert_int_equal(l.n, 0);
	stktable_free_entries(&t);
}

static void test_dump_integer_key(void **state)
{
	struct stktable t = table(STK_T_INTEGER, 10, 0);
	struct stk_key k = str_key(&t, "-1");
	struct lines l = { 0 };

	assert_non_null(stktable_get(&t, &k, 0));
	stktable_dump(&t, 0, collect, &l);
	assert_int_equal(l.n, 1);
	assert_non_null(strstr(l.text[0], ": key=4294967295 use=0 exp=0"));
	stktable_free_entries(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_of_each_type),
		cmocka_unit_test(test_get_then_lookup),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_full_table_evicts_least_recently_used),
		cmocka_unit_test(test_nopurge_refuses_new_keys),
		cmocka_unit_test(test_many_keys_stay_bounded),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_dump_integer_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
