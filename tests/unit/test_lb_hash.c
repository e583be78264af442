/* Unit tests for hash-based balancing (src/lb_hash.c, src/hash.c): the
 * hash functions' published values, map-based and consistent shares and
 * stickiness, what moves when a server goes away, requests without a key,
 * the keys balance source / uri / url_param / hdr() take from a request,
 * and balance random. Backends are built in memory (lb_fixture.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lb_fixture.h"

#define S(str) (str), (sizeof(str) - 1)

/*------------------------------------------------------------------------
 * Hash functions
 */
static void test_crc32_vectors(void **state)
{
	/* the standard check value of CRC-32 (IEEE 802.3, as zlib) */
	assert_int_equal(hash_crc32(S("123456789")), 0xCBF43926u);
	assert_int_equal(hash_crc32(S("")), 0u);
	assert_int_equal(hash_crc32(S("a")), 0xE8B7BE43u);
	assert_int_equal(hash_crc32(S("abc")), 0x352441C2u);
	assert_int_equal(hash_crc32(S("The quick brown fox jumps over the lazy dog")), 0x414FA339u);
}

static void test_sdbm_vectors(void **state)
{
	/* h = c + (h << 6) + (h << 16) - h, i.e. h * 65599 + c, from 0 */
	assert_int_equal(hash_sdbm(S("")), 0u);
	assert_int_equal(hash_sdbm(S("a")), 97u);
	assert_int_equal(hash_sdbm(S("ab")), 97u * 65599u + 98u);
	assert_int_equal(hash_sdbm(S("abc")), 0x3025F862u);
	assert_int_equal(hash_sdbm(S("123456789")), 0x68A07035u);
	assert_int_equal(hash_sdbm(S("The quick brown fox jumps over the lazy dog")), 0x8CA77173u);
}

static void test_djb2_vectors(void **state)
{
	/* h = h * 33 + c, from 5381 */
	assert_int_equal(hash_djb2(S("")), 5381u);
	assert_int_equal(hash_djb2(S("a")), 177670u);
	assert_int_equal(hash_djb2(S("abc")), 193485963u);
	assert_int_equal(hash_djb2(S("123456789")), 0x35CDBB82u);
	assert_int_equal(hash_djb2(S("The quick brown fox jumps over the lazy dog")), 0x34CC38DEu);
}

static void test_avalanche(void **state)
{
	/* a bijective 32-bit mixer: 0 stays 0, neighbours land far apart */
	assert_int_equal(hash_avalanche(0), 0u);
	assert_int_equal(hash_avalanche(1), 0x514E28B7u);
	assert_int_equal(hash_avalanche(2), 0x30F4C306u);
	int total_flips = 0;
	for (uint32_t x = 1; x <= 1000; x++) {
		uint32_t d = hash_avalanche(x) ^ hash_avalanche(x + 1);
		total_flips += __builtin_popcount(d);
	}
	/* about half of the 32 bits change between neighbours */
	assert_in_range(total_flips / 1000, 13, 19);
}

static void test_lb_hash_selects_function(void **state)
{
	struct lb_conf c = { 0 };

	c.fn = LB_HASH_SDBM;
	assert_int_equal(lb_hash(&c, S("abc")), hash_sdbm(S("abc")));
	c.fn = LB_HASH_DJB2;
	assert_int_equal(lb_hash(&c, S("abc")), hash_djb2(S("abc")));
	c.fn = LB_HASH_CRC32;
	assert_int_equal(lb_hash(&c, S("abc")), hash_crc32(S("abc")));
	c.avalanche = 1;
	assert_int_equal(lb_hash(&c, S("abc")), hash_avalanche(hash_crc32(S("abc"))));
	c.fn = LB_HASH_SDBM;
	assert_int_equal(lb_hash(&c, S("123456789")), hash_avalanche(0x68A07035u));
}

/*------------------------------------------------------------------------
 * Shares and stickiness
 */
static const struct lb_conf map_conf = { .method = LB_HASH_MAP, .fn = LB_HASH_SDBM };
/* "hash-type consistent" alone: sdbm with avalanche */
static const struct lb_conf chash_conf = { .method = LB_HASH_CONSISTENT, .fn = LB_HASH_SDBM, .avalanche = 1 };

/* The key of the i-th of many objects, as balance uri would compute it
 * for "/obj/<i>" under <c>. */
static uint32_t obj_key(const struct lb_conf *c, int i)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "/obj/%d", i);
	return lb_hash(c, buf, (size_t)n);
}

static void count_keys(struct fx_be *b, int nkeys, int *counts, int *assign)
{
	memset(counts, 0, sizeof(*counts) * (size_t)b->n);
	for (int i = 0; i < nkeys; i++) {
		struct server *s = fx_pick_key(b, obj_key(&b->px.c.lbc, i), NULL);
		if (!s)
			fail_msg("key %d: no server", i);
		counts[fx_idx(s)]++;
		if (assign)
			assign[i] = fx_idx(s);
	}
}

static void test_map_based_shares(void **state)
{
	static const int w[] = { 1, 2, 3, 4, 10 };
	int counts[5];
	struct fx_be *b = fx_new_conf("uri", 5, w, NULL, &map_conf, 0);

	/* uniformly spread 32-bit keys */
	uint64_t seed = 1;
	memset(counts, 0, sizeof(counts));
	for (int i = 0; i < 100000; i++)
		counts[fx_idx(fx_pick_key(b, (uint32_t)fx_rand(&seed), NULL))]++;
	fx_assert_shares(counts, w, 5, 100000, 0.02, "map-based, random keys");
	/* keys of real strings through sdbm */
	count_keys(b, 100000, counts, NULL);
	fx_assert_shares(counts, w, 5, 100000, 0.02, "map-based, sdbm of /obj/N");
	fx_free(b);
}

static void test_consistent_shares(void **state)
{
	static const int w[] = { 1, 2, 3, 4, 10 };
	static const int w10[] = { 10, 20, 30, 40, 100 };
	int counts[5];
	struct fx_be *b = fx_new_conf("uri", 5, w, NULL, &chash_conf, 0);

	/* 16 ring points per unit of weight: the shares follow the weights
	 * only roughly (as in HAProxy, which places as many points) */
	count_keys(b, 100000, counts, NULL);
	print_message("consistent, weights 1,2,3,4,10: %d %d %d %d %d\n", counts[0], counts[1], counts[2],
	              counts[3], counts[4]);
	fx_assert_shares(counts, w, 5, 100000, 0.35, "consistent, weights 1..10");
	fx_free(b);
	/* ten times the points: closer */
	b = fx_new_conf("uri", 5, w10, NULL, &chash_conf, 0);
	count_keys(b, 100000, counts, NULL);
	print_message("consistent, weights 10,20,30,40,100: %d %d %d %d %d\n", counts[0], counts[1],
	              counts[2], counts[3], counts[4]);
	fx_assert_shares(counts, w10, 5, 100000, 0.12, "consistent, weights 10..100");
	fx_free(b);
}

/* Over many servers, the share of each one of equal weight. */
static void test_consistent_spread_many_servers(void **state)
{
	enum { N = 20, KEYS = 200000 };
	int counts[N], w[N];
	struct lb_conf c = chash_conf;

	for (int i = 0; i < N; i++)
		w[i] = 1;
	struct fx_be *b = fx_new_conf("uri", N, w, NULL, &c, 0);
	count_keys(b, KEYS, counts, NULL);
	int lo = KEYS, hi = 0;
	for (int i = 0; i < N; i++) {
		lo = counts[i] < lo ? counts[i] : lo;
		hi = counts[i] > hi ? counts[i] : hi;
	}
	print_message("consistent, 20 servers of weight 1: %d..%d keys (ideal %d)\n", lo, hi, KEYS / N);
	/* 16 points per server: a server's share varies by about 1/sqrt(16)
	 * = 25% (one standard deviation) around the ideal */
	fx_assert_shares(counts, w, N, KEYS, 0.7, "consistent, 20 x weight 1");
	fx_free(b);
}

static void test_stickiness(void **state)
{
	const struct lb_conf *confs[] = { &map_conf, &chash_conf };

	for (int c = 0; c < 2; c++) {
		struct fx_be *b = fx_new_conf("uri", 7, (int[]){ 1, 5, 2, 2, 9, 1, 3 }, NULL, confs[c], 0);
		int first[500];
		for (int i = 0; i < 500; i++)
			first[i] = fx_idx(fx_pick_key(b, obj_key(confs[c], i), NULL));
		/* again, with keyless picks in between (they rotate, keys do not) */
		for (int round = 0; round < 3; round++)
			for (int i = 0; i < 500; i++) {
				fx_pick(b, NULL);
				assert_int_equal(fx_idx(fx_pick_key(b, obj_key(confs[c], i), NULL)), first[i]);
			}
		fx_free(b);
	}
}

/* One of N equal servers goes down: with consistent hashing only its keys
 * move (about 1/N of them), spread over the others; when it returns they
 * all come back. With map-based most keys move. */
static void test_consistent_remap_on_down(void **state)
{
	enum { N = 10, KEYS = 50000 };
	static int before[KEYS], after[KEYS], back[KEYS];
	int counts[N];
	struct fx_be *b = fx_new_conf("uri", N, NULL, NULL, &chash_conf, 0);

	count_keys(b, KEYS, counts, before);
	int owned = counts[3];
	fx_set_down(b->srv[3]);
	count_keys(b, KEYS, counts, after);
	int moved = 0, foreign_moved = 0, receivers = 0;
	int got[N] = { 0 };
	for (int i = 0; i < KEYS; i++) {
		if (before[i] != after[i]) {
			moved++;
			got[after[i]]++;
			if (before[i] != 3)
				foreign_moved++;
		}
		assert_int_not_equal(after[i], 3);
	}
	for (int k = 0; k < N; k++)
		receivers += got[k] > 0;
	print_message("consistent: server 4 of 10 down: %d of %d keys moved (it had %d), to %d servers\n", moved,
	              KEYS, owned, receivers);
	assert_int_equal(foreign_moved, 0);
	assert_int_equal(moved, owned);
	/* about 1/N */
	assert_in_range(moved, KEYS / N / 2, KEYS / N * 2);
	/* its keys are spread over the others, not dumped on one neighbour */
	assert_true(receivers >= N / 2);
	fx_set_up(b->srv[3]);
	count_keys(b, KEYS, counts, back);
	for (int i = 0; i < KEYS; i++)
		assert_int_equal(back[i], before[i]);
	/* same with a weight change to 0 */
	fx_set_weight(b->srv[7], 0);
	count_keys(b, KEYS, counts, after);
	for (int i = 0; i < KEYS; i++)
		if (before[i] != 7)
			assert_int_equal(after[i], before[i]);
	fx_free(b);
}

static void test_map_based_remap_on_down(void **state)
{
	enum { N = 10, KEYS = 50000 };
	static int before[KEYS], after[KEYS], back[KEYS];
	int counts[N];
	struct fx_be *b = fx_new_conf("uri", N, NULL, NULL, &map_conf, 0);

	count_keys(b, KEYS, counts, before);
	fx_set_down(b->srv[3]);
	count_keys(b, KEYS, counts, after);
	int moved = 0;
	for (int i = 0; i < KEYS; i++) {
		moved += before[i] != after[i];
		assert_int_not_equal(after[i], 3);
	}
	print_message("map-based: server 4 of 10 down: %d of %d keys moved\n", moved, KEYS);
	assert_true(moved > KEYS * 7 / 10);
	fx_set_up(b->srv[3]);
	count_keys(b, KEYS, counts, back);
	for (int i = 0; i < KEYS; i++)
		assert_int_equal(back[i], before[i]);
	fx_free(b);
}

/* Servers of a consistent ring are placed by their id only: the same
 * server keeps its keys whatever the weights of the others. */
static void test_consistent_weight_change_moves_little(void **state)
{
	enum { N = 5, KEYS = 40000 };
	static int before[KEYS], after[KEYS];
	int counts[N];
	struct fx_be *b = fx_new_conf("uri", N, (int[]){ 4, 4, 4, 4, 4 }, NULL, &chash_conf, 0);

	count_keys(b, KEYS, counts, before);
	fx_set_weight(b->srv[0], 8);
	count_keys(b, KEYS, counts, after);
	int moved = 0;
	for (int i = 0; i < KEYS; i++) {
		if (before[i] != after[i]) {
			moved++;
			/* keys only move to the server that grew */
			assert_int_equal(after[i], 0);
		}
	}
	print_message("consistent: weight 4 -> 8 on one of 5: %d of %d keys moved\n", moved, KEYS);
	assert_in_range(moved, KEYS / 12, KEYS / 3);
	fx_free(b);
}

static void test_weight_zero_and_backups(void **state)
{
	const struct lb_conf *confs[] = { &map_conf, &chash_conf };
	static const struct fx_opt o[] = { { 0 }, { 0 }, { SRV_F_BACKUP }, { SRV_F_BACKUP } };

	for (int c = 0; c < 2; c++) {
		struct fx_be *b = fx_new_conf("uri", 4, (int[]){ 0, 1, 1, 1 }, o, confs[c], 0);
		int counts[4];
		count_keys(b, 1000, counts, NULL);
		assert_int_equal(counts[1], 1000);
		fx_set_down(b->srv[1]);
		count_keys(b, 1000, counts, NULL);
		assert_int_equal(counts[2], 1000);
		fx_free(b);
		b = fx_new_conf("uri", 4, (int[]){ 0, 1, 1, 1 }, o, confs[c], PR_O_ALLBACKUPS);
		fx_set_down(b->srv[1]);
		count_keys(b, 1000, counts, NULL);
		assert_true(counts[2] > 200 && counts[3] > 200);
		assert_int_equal(counts[2] + counts[3], 1000);
		fx_set_down(b->srv[2]);
		fx_set_down(b->srv[3]);
		struct fx_stream fs;
		struct server *srv;
		fx_stream_init(&fs);
		fx_stream_key(&fs, 1234);
		assert_int_equal(fx_pick_s(b, &fs, NULL, &srv), LB_NOSRV);
		fx_free(b);
	}
}

/*------------------------------------------------------------------------
 * Requests without a key: a weighted rotation over the map
 */
static void test_keyless_rotation(void **state)
{
	const struct lb_conf *confs[] = { &map_conf, &chash_conf };
	static const int w[] = { 1, 2, 3, 4 };

	for (int c = 0; c < 2; c++) {
		struct fx_be *b = fx_new_conf("url_param", 4, w, NULL, confs[c], 0);
		int counts[4] = { 0 };
		for (int i = 0; i < 10000; i++)
			counts[fx_idx(fx_pick(b, NULL))]++;
		fx_assert_shares(counts, w, 4, 10000, 0.02, "no key");
		/* equal weights: strict turns */
		struct fx_be *e = fx_new_conf("hdr", 3, NULL, NULL, confs[c], 0);
		for (int i = 0; i < 30; i++)
			assert_int_equal(fx_idx(fx_pick(e, NULL)), i % 3);
		fx_free(e);
		fx_free(b);
	}
}

static void test_keyless_skips_full_and_avoid(void **state)
{
	static const struct fx_opt o[] = { { .maxconn = 1 }, { 0 }, { 0 } };
	struct fx_be *b = fx_new_conf("uri", 3, NULL, o, &map_conf, 0);

	fx_take(b->srv[0]);
	for (int i = 0; i < 30; i++) {
		struct server *s = fx_pick(b, b->srv[1]);
		assert_ptr_equal(s, b->srv[2]);
	}
	fx_take(b->srv[2]);   /* no maxconn: still usable */
	fx_free(b);

	static const struct fx_opt f[] = { { .maxconn = 1 }, { .maxconn = 1 } };
	b = fx_new_conf("uri", 2, NULL, f, &map_conf, 0);
	fx_take(b->srv[0]);
	fx_take(b->srv[1]);
	assert_int_equal(fx_pick_result(b), LB_FULL);
	fx_free(b);
}

/* A keyed request sticks to its server even when it is full: the stream
 * waits in that server's queue (the backend sees a full server). */
static void test_keyed_full_server_kept(void **state)
{
	const struct lb_conf *confs[] = { &map_conf, &chash_conf };
	static const struct fx_opt o[] = { { .maxconn = 1 }, { .maxconn = 1 }, { .maxconn = 1 } };

	for (int c = 0; c < 2; c++) {
		struct fx_be *b = fx_new_conf("uri", 3, NULL, o, confs[c], 0);
		uint32_t key = obj_key(confs[c], 17);
		struct server *s = fx_pick_key(b, key, NULL);
		assert_non_null(s);
		fx_take(s);
		assert_ptr_equal(fx_pick_key(b, key, NULL), s);
		assert_true(srv_full(s));
		fx_free(b);
	}
}

static void test_avoid_with_key(void **state)
{
	const struct lb_conf *confs[] = { &map_conf, &chash_conf };

	for (int c = 0; c < 2; c++) {
		struct fx_be *b = fx_new_conf("uri", 4, (int[]){ 1, 1, 2, 1 }, NULL, confs[c], 0);
		for (int i = 0; i < 1000; i++) {
			uint32_t key = obj_key(confs[c], i);
			struct server *s = fx_pick_key(b, key, NULL);
			struct server *t = fx_pick_key(b, key, s);
			assert_non_null(t);
			assert_ptr_not_equal(t, s);
			/* the alternative is stable too */
			assert_ptr_equal(fx_pick_key(b, key, s), t);
		}
		fx_free(b);
		/* alone: the avoided server is still returned */
		b = fx_new_conf("uri", 1, NULL, NULL, confs[c], 0);
		assert_ptr_equal(fx_pick_key(b, 5, b->srv[0]), b->srv[0]);
		fx_free(b);
	}
}

/*------------------------------------------------------------------------
 * Keys taken from the request (prepare)
 */
static uint32_t key_of(struct fx_be *b, const char *head, int *has_key)
{
	struct fx_stream fs;

	fx_stream_init(&fs);
	if (fx_stream_request(&fs, head) < 0)
		fail_msg("request does not parse: %s", head);
	fx_prepare(b, &fs);
	*has_key = !!(fs.s.flags & SF_LB_KEY);
	uint32_t k = fs.s.lb_key;
	fx_stream_free(&fs);
	return k;
}

static void expect_key(struct fx_be *b, const char *head, const char *keytext)
{
	int has;
	uint32_t k = key_of(b, head, &has);

	if (!keytext) {
		if (has)
			fail_msg("%s: a key was set for %s", b->algo->name, head);
		return;
	}
	if (!has)
		fail_msg("%s: no key for %s", b->algo->name, head);
	uint32_t want = lb_hash(&b->px.c.lbc, keytext, strlen(keytext));
	if (k != want)
		fail_msg("%s: key of %s is %08x, expected the hash of '%s' (%08x)", b->algo->name, head, k, keytext,
		         want);
}

#define GET(uri) "GET " uri " HTTP/1.1\r\nHost: h\r\n\r\n"

static void test_uri_key(void **state)
{
	struct lb_conf c = map_conf;
	struct fx_be *b = fx_new_conf("uri", 3, NULL, NULL, &c, 0);

	expect_key(b, GET("/a/b/c?x=1"), "/a/b/c");
	expect_key(b, GET("/"), "/");
	expect_key(b, GET("/a?"), "/a");
	/* absolute form: hashed as written without path-only */
	expect_key(b, GET("http://h.example/a/b?q"), "http://h.example/a/b");
	fx_free(b);

	c.uri_whole = 1;
	b = fx_new_conf("uri", 3, NULL, NULL, &c, 0);
	expect_key(b, GET("/a/b/c?x=1"), "/a/b/c?x=1");
	fx_free(b);

	c = map_conf;
	c.uri_len = 4;
	b = fx_new_conf("uri", 3, NULL, NULL, &c, 0);
	expect_key(b, GET("/abcdef?x"), "/abc");
	expect_key(b, GET("/ab?xyz"), "/ab");
	fx_free(b);

	c = map_conf;
	c.uri_depth = 2;
	b = fx_new_conf("uri", 3, NULL, NULL, &c, 0);
	expect_key(b, GET("/a/b/c/d"), "/a/b");
	expect_key(b, GET("/a/b"), "/a/b");
	expect_key(b, GET("/a?x/y/z"), "/a");
	fx_free(b);

	c = map_conf;
	c.uri_depth = 3;
	c.uri_len = 5;
	b = fx_new_conf("uri", 3, NULL, NULL, &c, 0);
	expect_key(b, GET("/a/b/c/d"), "/a/b/");
	expect_key(b, GET("/x/y/zzzz"), "/x/y/");
	fx_free(b);

	c = map_conf;
	c.uri_path_only = 1;
	b = fx_new_conf("uri", 3, NULL, NULL, &c, 0);
	expect_key(b, GET("http://h.example/a/b?q"), "/a/b");
	expect_key(b, GET("/a/b?q"), "/a/b");
	expect_key(b, GET("http://h.example:8080/p"), "/p");
	fx_free(b);

	/* under consistent hashing the same text, with avalanche */
	b = fx_new_conf("uri", 3, NULL, NULL, &chash_conf, 0);
	expect_key(b, GET("/a/b/c?x=1"), "/a/b/c");
	int has;
	assert_int_equal(key_of(b, GET("/a/b/c?x=1"), &has), hash_avalanche(hash_sdbm(S("/a/b/c"))));
	fx_free(b);
}

static void test_url_param_key(void **state)
{
	struct lb_conf c = map_conf;
	c.name = "id";
	struct fx_be *b = fx_new_conf("url_param", 3, NULL, NULL, &c, 0);

	expect_key(b, GET("/p?id=42"), "42");
	expect_key(b, GET("/p?a=1&id=42&b=2"), "42");
	expect_key(b, GET("/p?idx=7&id=8"), "8");
	expect_key(b, GET("/p?xid=7&id=9"), "9");
	expect_key(b, GET("/p?id=1&id=2"), "1");
	expect_key(b, GET("/p?a=1"), NULL);
	expect_key(b, GET("/p"), NULL);
	expect_key(b, GET("/p?ID=3"), NULL);
	expect_key(b, GET("/p/id=3"), NULL);
	fx_free(b);
}

static void test_hdr_key(void **state)
{
	struct lb_conf c = map_conf;
	c.name = "X-User";
	struct fx_be *b = fx_new_conf("hdr", 3, NULL, NULL, &c, 0);

	expect_key(b, "GET / HTTP/1.1\r\nHost: h\r\nX-User: alice\r\n\r\n", "alice");
	/* header names are case-insensitive */
	expect_key(b, "GET / HTTP/1.1\r\nhost: h\r\nx-user: bob\r\n\r\n", "bob");
	expect_key(b, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", NULL);
	expect_key(b, "GET / HTTP/1.1\r\nHost: h\r\nX-User:\r\n\r\n", NULL);
	/* a list: its first value only (HAProxy 2.6.12 sends "k0, zz" and
	 * "k0" to the same server) */
	expect_key(b, "GET / HTTP/1.1\r\nHost: h\r\nX-User: carol, dave\r\n\r\n", "carol");
	expect_key(b, "GET / HTTP/1.1\r\nHost: h\r\nX-User: carol ,dave\r\n\r\n", "carol");
	expect_key(b, "GET / HTTP/1.1\r\nHost: h\r\nX-User: , dave\r\n\r\n", NULL);
	/* several lines: the first one */
	expect_key(b, "GET / HTTP/1.1\r\nHost: h\r\nX-User: erin\r\nX-User: frank\r\n\r\n", "erin");
	fx_free(b);

	c.name = "Host";
	c.hdr_domain_only = 1;
	b = fx_new_conf("hdr", 3, NULL, NULL, &c, 0);
	expect_key(b, "GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n", "example");
	expect_key(b, "GET / HTTP/1.1\r\nHost: a.b.example.com\r\n\r\n", "example");
	expect_key(b, "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", "example");
	expect_key(b, "GET / HTTP/1.1\r\nHost: www.example.com:8080\r\n\r\n", "example");
	expect_key(b, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", "localhost");
	/* no dot: the whole value, port included (as HAProxy 2.6.12) */
	expect_key(b, "GET / HTTP/1.1\r\nHost: localhost:8080\r\n\r\n", "localhost:8080");
	expect_key(b, "GET / HTTP/1.1\r\nHost: 10.1.2.3:80\r\n\r\n", "2");
	fx_free(b);
}

static void test_source_key(void **state)
{
	struct fx_be *b = fx_new_conf("source", 4, NULL, NULL, &map_conf, 0);
	struct fx_stream fs;

	fx_stream_init(&fs);
	fx_stream_src4(&fs, 0x7f000002);
	fx_prepare(b, &fs);
	assert_true(fs.s.flags & SF_LB_KEY);
	assert_int_equal(fs.s.lb_key, 0x7f000002u);
	/* IPv6: the four 32-bit words XOR-ed together
	 * (2001:0db8:0000:0000:0001:0000:0000:0005) */
	fx_stream_init(&fs);
	fx_stream_src6(&fs, "2001:db8::1:0:0:5");
	fx_prepare(b, &fs);
	assert_int_equal(fs.s.lb_key, 0x20010db8u ^ 0x00000000u ^ 0x00010000u ^ 0x00000005u);
	/* no address (e.g. a unix socket): no key */
	fx_stream_init(&fs);
	fx_prepare(b, &fs);
	assert_false(fs.s.flags & SF_LB_KEY);
	fx_free(b);

	/* consistent: avalanche applied */
	b = fx_new_conf("source", 4, NULL, NULL, &chash_conf, 0);
	fx_stream_init(&fs);
	fx_stream_src4(&fs, 0x7f000002);
	fx_prepare(b, &fs);
	assert_int_equal(fs.s.lb_key, hash_avalanche(0x7f000002u));
	fx_free(b);
}

/* Different client addresses spread over the servers, the same one sticks. */
static void test_source_spread_and_stick(void **state)
{
	const struct lb_conf *confs[] = { &map_conf, &chash_conf };

	for (int c = 0; c < 2; c++) {
		struct fx_be *b = fx_new_conf("source", 3, NULL, NULL, confs[c], 0);
		int counts[3] = { 0 }, first[256];
		for (int round = 0; round < 2; round++)
			for (int a = 0; a < 256; a++) {
				struct fx_stream fs;
				struct server *s;
				fx_stream_init(&fs);
				fx_stream_src4(&fs, 0x0a000000u | (uint32_t)a << 8 | 7);
				fx_prepare(b, &fs);
				assert_int_equal(fx_pick_s(b, &fs, NULL, &s), LB_OK);
				if (!round) {
					first[a] = fx_idx(s);
					counts[fx_idx(s)]++;
				} else {
					assert_int_equal(fx_idx(s), first[a]);
				}
			}
		for (int k = 0; k < 3; k++)
			assert_true(counts[k] > 30);
		fx_free(b);
	}
}

/* Hash algorithms run prepare() only when a request head is there. */
static void test_prepare_without_request(void **state)
{
	const char *algos[] = { "uri", "url_param", "hdr" };
	struct lb_conf c = map_conf;
	c.name = "x";

	for (int i = 0; i < 3; i++) {
		struct fx_be *b = fx_new_conf(algos[i], 2, NULL, NULL, &c, 0);
		struct fx_stream fs;
		fx_stream_init(&fs);
		fx_prepare(b, &fs);
		assert_false(fs.s.flags & SF_LB_KEY);
		fx_free(b);
	}
}

/*------------------------------------------------------------------------
 * balance random
 */
/* The generator is seeded from the backend's address: the counts vary
 * from run to run. 100,000 picks make one standard deviation 1% of the
 * smallest share (weight 1 of 10); the bounds are about 4 of them. */
static void test_random_shares_idle(void **state)
{
	static const int w[] = { 1, 2, 3, 4 };
	static const int w31[] = { 3, 1 };
	int counts[4] = { 0 };

	/* one request at a time (take and drop around each pick) */
	struct fx_be *b = fx_new("random", 4, w, NULL);
	for (int i = 0; i < 100000; i++) {
		struct server *s = fx_pick_take(b);
		counts[fx_idx(s)]++;
		fx_drop(s);
	}
	print_message("random(2), weights 1,2,3,4, one at a time: %d %d %d %d\n", counts[0], counts[1],
	              counts[2], counts[3]);
	fx_assert_shares(counts, w, 4, 100000, 0.04, "random, one at a time");
	fx_free(b);

	b = fx_new("random", 2, w31, NULL);
	memset(counts, 0, sizeof(counts));
	for (int i = 0; i < 100000; i++)
		counts[fx_idx(fx_pick(b, NULL))]++;
	print_message("random(2), weights 3,1, no load: %d %d\n", counts[0], counts[1]);
	fx_assert_shares(counts, w31, 2, 100000, 0.02, "random 3:1");
	fx_free(b);
}

static void test_random_shares_loaded(void **state)
{
	static const int w[] = { 1, 2, 3, 4 };
	int counts[4] = { 0 };
	struct fx_be *b = fx_new("random", 4, w, NULL);

	/* streams kept: the power of two choices follows the weights closely */
	for (int i = 0; i < 10000; i++)
		counts[fx_idx(fx_pick_take(b))]++;
	print_message("random(2), weights 1,2,3,4, streams kept: %d %d %d %d\n", counts[0], counts[1],
	              counts[2], counts[3]);
	fx_assert_shares(counts, w, 4, 10000, 0.02, "random, streams kept");
	fx_free(b);
}

static void test_random_draws_one(void **state)
{
	static const int w[] = { 1, 3 };
	struct lb_conf c = { .draws = 1 };
	struct fx_be *b = fx_new_conf("random", 2, w, NULL, &c, 0);
	int counts[2] = { 0 };

	for (int i = 0; i < 100000; i++) {
		struct server *s = fx_pick_take(b);
		counts[fx_idx(s)]++;
		fx_drop(s);
	}
	fx_assert_shares(counts, w, 2, 100000, 0.03, "random(1)");
	fx_free(b);
}

static void test_random_down_zero_avoid_full(void **state)
{
	static const struct fx_opt o[] = { { .maxconn = 1 }, { 0 }, { 0 }, { SRV_F_BACKUP } };
	struct fx_be *b = fx_new("random", 4, (int[]){ 1, 1, 0, 1 }, o);

	fx_take(b->srv[0]);
	for (int i = 0; i < 200; i++) {
		struct server *s = fx_pick(b, NULL);
		assert_ptr_equal(s, b->srv[1]);
	}
	/* the only other choice is full: the avoided server is used */
	assert_ptr_equal(fx_pick(b, b->srv[1]), b->srv[1]);
	fx_set_down(b->srv[1]);
	/* s1 is full, s3 at weight 0, s2 down: the backend queue */
	assert_int_equal(fx_pick_result(b), LB_FULL);
	fx_set_down(b->srv[0]);
	/* no active left: the backup */
	assert_ptr_equal(fx_pick(b, NULL), b->srv[3]);
	fx_free(b);

	b = fx_new("random", 3, NULL, NULL);
	for (int i = 0; i < 300; i++)
		assert_ptr_not_equal(fx_pick(b, b->srv[i % 3]), b->srv[i % 3]);
	fx_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32_vectors),
		cmocka_unit_test(test_sdbm_vectors),
		cmocka_unit_test(test_djb2_vectors),
		cmocka_unit_test(test_avalanche),
		cmocka_unit_test(test_lb_hash_selects_function),
		cmocka_unit_test(test_map_based_shares),
		cmocka_unit_test(test_consistent_shares),
		cmocka_unit_test(test_consistent_spread_many_servers),
		cmocka_unit_test(test_stickiness),
		cmocka_unit_test(test_consistent_remap_on_down),
		cmocka_unit_test(test_map_based_remap_on_down),
		cmocka_unit_test(test_consistent_weight_change_moves_little),
		cmocka_unit_test(test_weight_zero_and_backups),
		cmocka_unit_test(test_keyless_rotation),
		cmocka_unit_test(test_keyless_skips_full_and_avoid),
		cmocka_unit_test(test_keyed_full_server_kept),
		cmocka_unit_test(test_avoid_with_key),
		cmocka_unit_test(test_uri_key),
		cmocka_unit_test(test_url_param_key),
		cmocka_unit_test(test_hdr_key),
		cmocka_unit_test(test_source_key),
		cmocka_unit_test(test_source_spread_and_stick),
		cmocka_unit_test(test_prepare_without_request),
		cmocka_unit_test(test_random_shares_idle),
		cmocka_unit_test(test_random_shares_loaded),
		cmocka_unit_test(test_random_draws_one),
		cmocka_unit_test(test_random_down_zero_avoid_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
