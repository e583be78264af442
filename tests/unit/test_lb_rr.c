/* Unit tests for balance roundrobin and static-rr (src/lb_roundrobin.c),
 * with the group selection of src/lb.c: weighted shares, smoothness,
 * weight and state changes at run time, weight 0, backups, maxconn, the
 * avoid parameter (redispatch). Backends are built in memory
 * (lb_fixture.h).
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

static const char *const rr_algos[] = { "roundrobin", "static-rr" };

/* <picks> picks without take/drop (servers without maxconn are not
 * concerned by them); counts per server. */
static void run_picks(struct fx_be *b, int picks, int *counts)
{
	memset(counts, 0, sizeof(*counts) * (size_t)b->n);
	for (int i = 0; i < picks; i++) {
		struct server *s = fx_pick(b, NULL);
		if (!s)
			fail_msg("pick %d: no server", i);
		counts[fx_idx(s)]++;
	}
}

static void test_weighted_shares(void **state)
{
	static const int w1[] = { 1, 2, 3, 4, 10 };
	static const int w2[] = { 256, 1, 17 };
	static const int w3[] = { 3, 1 };
	int counts[64];

	for (int a = 0; a < 2; a++) {
		struct fx_be *b = fx_new(rr_algos[a], 5, w1, NULL);
		run_picks(b, 10000, counts);
		fx_assert_shares(counts, w1, 5, 10000, 0.02, rr_algos[a]);
		/* 10,000 picks are 500 full rounds of 20: exact */
		for (int i = 0; i < 5; i++)
			assert_int_equal(counts[i], w1[i] * 500);
		fx_free(b);

		b = fx_new(rr_algos[a], 3, w2, NULL);
		run_picks(b, 10000, counts);
		fx_assert_shares(counts, w2, 3, 10000, 0.02, rr_algos[a]);
		fx_free(b);

		b = fx_new(rr_algos[a], 2, w3, NULL);
		run_picks(b, 40, counts);
		assert_int_equal(counts[0], 30);
		assert_int_equal(counts[1], 10);
		fx_free(b);
	}
}

static void test_random_weights_many_servers(void **state)
{
	enum { N = 50 };
	int w[N], counts[N];
	uint64_t seed = 42;
	long total = 0;

	for (int i = 0; i < N; i++) {
		w[i] = 1 + (int)(fx_rand(&seed) % 256);
		total += w[i];
	}
	for (int a = 0; a < 2; a++) {
		struct fx_be *b = fx_new(rr_algos[a], N, w, NULL);
		/* a whole number of rounds: the shares are exact */
		run_picks(b, (int)total * 3, counts);
		for (int i = 0; i < N; i++)
			if (counts[i] != 3 * w[i])
				fail_msg("%s: server %d weight %d got %d of %ld picks", rr_algos[a], i + 1, w[i],
				         counts[i], total * 3);
		fx_free(b);
	}
}

/* No server is picked more than ceil(w / total * window) + 1 times in any
 * window of consecutive picks. */
static void check_smooth(const char *algo, int n, const int *w)
{
	enum { PICKS = 3000 };
	static int seq[PICKS];
	long total = 0;
	struct fx_be *b = fx_new(algo, n, w, NULL);

	for (int i = 0; i < n; i++)
		total += w[i];
	for (int i = 0; i < PICKS; i++) {
		struct server *s = fx_pick(b, NULL);
		assert_non_null(s);
		seq[i] = fx_idx(s);
	}
	int *cnt = calloc((size_t)n, sizeof(int));
	assert_non_null(cnt);
	long maxwin = total * 2 < PICKS ? total * 2 : PICKS;
	for (long win = 1; win <= maxwin; win++) {
		memset(cnt, 0, sizeof(int) * (size_t)n);
		for (long i = 0; i < PICKS; i++) {
			cnt[seq[i]]++;
			if (i >= win)
				cnt[seq[i - win]]--;
			if (i + 1 < win)
				continue;
			for (int k = 0; k < n; k++) {
				long limit = (w[k] * win + total - 1) / total + 1;
				if (cnt[k] > limit)
					fail_msg("%s: server %d (weight %d/%ld) picked %d times in a window of %ld "
					         "ending at pick %ld (limit %ld)", algo, k + 1, w[k], total, cnt[k], win, i, limit);
			}
		}
	}
	free(cnt);
	fx_free(b);
}

static void test_smoothness(void **state)
{
	static const int a[] = { 3, 1 };
	static const int b[] = { 5, 1, 1, 1, 1, 1 };
	static const int c[] = { 1, 2, 3, 4, 10 };
	static const int d[] = { 256, 1 };
	static const int e[] = { 7, 7, 7 };
	int r[20];
	uint64_t seed = 7;

	for (int i = 0; i < 20; i++)
		r[i] = 1 + (int)(fx_rand(&seed) % 30);
	for (int k = 0; k < 2; k++) {
		check_smooth(rr_algos[k], 2, a);
		check_smooth(rr_algos[k], 6, b);
		check_smooth(rr_algos[k], 5, c);
		check_smooth(rr_algos[k], 2, d);
		check_smooth(rr_algos[k], 3, e);
		check_smooth(rr_algos[k], 20, r);
	}
}

/* The very first picks interleave: weights 3:1 never give four picks of
 * the same server before the other one's turn. */
static void test_interleaved_from_start(void **state)
{
	static const int w[] = { 3, 1 };
	struct fx_be *b = fx_new("roundrobin", 2, w, NULL);
	int first_s2 = -1;

	for (int i = 0; i < 4; i++)
		if (fx_idx(fx_pick(b, NULL)) == 1 && first_s2 < 0)
			first_s2 = i;
	assert_in_range(first_s2, 0, 3);
	fx_free(b);
}

static void test_equal_weights_take_turns_in_order(void **state)
{
	struct fx_be *b = fx_new("roundrobin", 4, NULL, NULL);
	int prev = -1;

	/* each round visits every server once; consecutive picks differ */
	for (int round = 0; round < 50; round++) {
		int seen[4] = { 0 };
		for (int i = 0; i < 4; i++) {
			int k = fx_idx(fx_pick(b, NULL));
			assert_int_not_equal(k, prev);
			seen[k]++;
			prev = k;
		}
		for (int i = 0; i < 4; i++)
			assert_int_equal(seen[i], 1);
	}
	fx_free(b);
}

static void test_weight_change_applies_at_once_roundrobin(void **state)
{
	struct fx_be *b = fx_new("roundrobin", 2, NULL, NULL);
	int counts[2];

	run_picks(b, 100, counts);
	assert_int_equal(counts[0], 50);
	fx_set_weight(b->srv[0], 3);
	run_picks(b, 4000, counts);
	fx_assert_shares(counts, (int[]){ 3, 1 }, 2, 4000, 0.02, "after weight 1 -> 3");
	/* and smoothly from the very next picks */
	run_picks(b, 8, counts);
	assert_in_range(counts[0], 5, 7);
	fx_set_weight(b->srv[0], 1);
	fx_set_weight(b->srv[1], 9);
	run_picks(b, 1000, counts);
	fx_assert_shares(counts, (int[]){ 1, 9 }, 2, 1000, 0.02, "after weights 1, 9");
	fx_free(b);
}

static void test_weight_change_ignored_by_static_rr(void **state)
{
	struct fx_be *b = fx_new("static-rr", 2, NULL, NULL);
	int counts[2];

	fx_set_weight(b->srv[0], 3);
	run_picks(b, 1000, counts);
	assert_int_equal(counts[0], 500);
	assert_int_equal(counts[1], 500);
	/* 0 is the only change static-rr follows */
	fx_set_weight(b->srv[0], 0);
	run_picks(b, 100, counts);
	assert_int_equal(counts[0], 0);
	assert_int_equal(counts[1], 100);
	/* back to any weight: back to the configured one */
	fx_set_weight(b->srv[0], 7);
	run_picks(b, 1000, counts);
	assert_int_equal(counts[0], 500);
	fx_free(b);
}

static void test_down_skipped_up_readded(void **state)
{
	for (int a = 0; a < 2; a++) {
		struct fx_be *b = fx_new(rr_algos[a], 3, (int[]){ 1, 2, 1 }, NULL);
		int counts[3];

		run_picks(b, 40, counts);
		fx_set_down(b->srv[1]);
		run_picks(b, 300, counts);
		assert_int_equal(counts[1], 0);
		assert_int_equal(counts[0], 150);
		assert_int_equal(counts[2], 150);
		fx_set_up(b->srv[1]);
		/* back, without a burst: in the first 4 picks at most its share + 1 */
		run_picks(b, 4, counts);
		assert_in_range(counts[1], 1, 3);
		run_picks(b, 4000, counts);
		fx_assert_shares(counts, (int[]){ 1, 2, 1 }, 3, 4000, 0.02, rr_algos[a]);
		/* maintenance is the same as down */
		fx_set_maint(b->srv[0], 1);
		run_picks(b, 30, counts);
		assert_int_equal(counts[0], 0);
		fx_set_maint(b->srv[0], 0);
		run_picks(b, 400, counts);
		fx_assert_shares(counts, (int[]){ 1, 2, 1 }, 3, 400, 0.05, rr_algos[a]);
		/* all down: no server */
		for (int i = 0; i < 3; i++)
			fx_set_down(b->srv[i]);
		assert_int_equal(fx_pick_result(b), LB_NOSRV);
		fx_set_up(b->srv[2]);
		for (int i = 0; i < 5; i++)
			assert_ptr_equal(fx_pick(b, NULL), b->srv[2]);
		fx_free(b);
	}
}

/* A server back after a long absence does not take a burst to "catch up". */
static void test_no_burst_after_long_absence(void **state)
{
	struct fx_be *b = fx_new("roundrobin", 2, NULL, NULL);
	int counts[2];

	fx_set_down(b->srv[1]);
	run_picks(b, 5000, counts);
	fx_set_up(b->srv[1]);
	run_picks(b, 10, counts);
	assert_in_range(counts[1], 4, 6);
	fx_free(b);
}

static void test_weight_zero_gets_nothing(void **state)
{
	for (int a = 0; a < 2; a++) {
		static const int w[] = { 0, 1, 2 };
		struct fx_be *b = fx_new(rr_algos[a], 3, w, NULL);
		int counts[3];

		run_picks(b, 3000, counts);
		fx_assert_shares(counts, w, 3, 3000, 0.0, rr_algos[a]);
		/* all at weight 0: nothing usable */
		struct fx_be *z = fx_new(rr_algos[a], 2, (int[]){ 0, 0 }, NULL);
		assert_int_equal(fx_pick_result(z), LB_NOSRV);
		fx_free(z);
		/* at run time */
		fx_set_weight(b->srv[2], 0);
		run_picks(b, 100, counts);
		assert_int_equal(counts[1], 100);
		fx_free(b);
	}
}

static void test_backup_first_only(void **state)
{
	static const struct fx_opt o[] = {
		{ 0 }, { 0 }, { SRV_F_BACKUP }, { SRV_F_BACKUP }, { SRV_F_BACKUP },
	};
	for (int a = 0; a < 2; a++) {
		struct fx_be *b = fx_new(rr_algos[a], 5, (int[]){ 1, 1, 1, 3, 1 }, o);
		int counts[5];

		run_picks(b, 100, counts);
		assert_int_equal(counts[0] + counts[1], 100);
		fx_set_down(b->srv[0]);
		run_picks(b, 100, counts);
		assert_int_equal(counts[1], 100);
		fx_set_down(b->srv[1]);
		/* only the first usable backup, whatever the weights */
		run_picks(b, 100, counts);
		assert_int_equal(counts[2], 100);
		fx_set_down(b->srv[2]);
		run_picks(b, 100, counts);
		assert_int_equal(counts[3], 100);
		/* the first backup returns: it takes over again */
		fx_set_up(b->srv[2]);
		run_picks(b, 100, counts);
		assert_int_equal(counts[2], 100);
		/* an active server returns: backups stop at once */
		fx_set_up(b->srv[1]);
		run_picks(b, 100, counts);
		assert_int_equal(counts[1], 100);
		/* actives at weight 0 count as unusable: backups take over */
		fx_set_weight(b->srv[1], 0);
		run_picks(b, 10, counts);
		assert_int_equal(counts[2], 10);
		fx_free(b);
	}
}

static void test_allbackups(void **state)
{
	static const struct fx_opt o[] = { { 0 }, { SRV_F_BACKUP }, { SRV_F_BACKUP }, { SRV_F_BACKUP } };
	static const int w[] = { 1, 1, 3, 0 };
	for (int a = 0; a < 2; a++) {
		struct fx_be *b = fx_new_conf(rr_algos[a], 4, w, o, NULL, PR_O_ALLBACKUPS);
		int counts[4];

		run_picks(b, 100, counts);
		assert_int_equal(counts[0], 100);
		fx_set_down(b->srv[0]);
		run_picks(b, 4000, counts);
		fx_assert_shares(counts, (int[]){ 0, 1, 3, 0 }, 4, 4000, 0.02, "allbackups");
		fx_set_down(b->srv[2]);
		run_picks(b, 100, counts);
		assert_int_equal(counts[1], 100);
		fx_set_up(b->srv[0]);
		run_picks(b, 100, counts);
		assert_int_equal(counts[0], 100);
		fx_free(b);
	}
}

static void test_disabled_server_unused(void **state)
{
	static const struct fx_opt o[] = { { SRV_F_DISABLED }, { 0 }, { SRV_F_BACKUP } };
	struct fx_be *b = fx_new("roundrobin", 3, NULL, o);
	int counts[3];

	run_picks(b, 50, counts);
	assert_int_equal(counts[1], 50);
	fx_set_down(b->srv[1]);
	run_picks(b, 50, counts);
	assert_int_equal(counts[2], 50);
	fx_free(b);
}

static void test_avoid(void **state)
{
	for (int a = 0; a < 2; a++) {
		struct fx_be *b = fx_new(rr_algos[a], 3, (int[]){ 5, 1, 1 }, NULL);

		for (int i = 0; i < 300; i++) {
			struct server *avoid = b->srv[i % 3];
			struct server *s = fx_pick(b, avoid);
			assert_non_null(s);
			assert_ptr_not_equal(s, avoid);
		}
		fx_free(b);
		/* a single usable server is returned even when it is the one to avoid */
		b = fx_new(rr_algos[a], 2, NULL, NULL);
		fx_set_down(b->srv[1]);
		assert_ptr_equal(fx_pick(b, b->srv[0]), b->srv[0]);
		fx_free(b);
	}
}

/* Avoiding a server does not shift the others' shares for long. */
static void test_avoid_keeps_shares(void **state)
{
	struct fx_be *b = fx_new("roundrobin", 3, NULL, NULL);
	int counts[3] = { 0 };

	for (int i = 0; i < 3000; i++) {
		const struct server *avoid = (i % 10 == 0) ? b->srv[0] : NULL;
		counts[fx_idx(fx_pick(b, avoid))]++;
	}
	fx_assert_shares(counts, (int[]){ 1, 1, 1 }, 3, 3000, 0.05, "with some avoids");
	fx_free(b);
}

static void test_maxconn_full_servers_leave(void **state)
{
	static const struct fx_opt o[] = { { .maxconn = 2 }, { .maxconn = 1 }, { 0 } };
	for (int a = 0; a < 2; a++) {
		struct fx_be *b = fx_new(rr_algos[a], 3, NULL, o);

		/* s1 and s2 fill up, s3 takes the rest */
		int counts[3] = { 0 };
		for (int i = 0; i < 20; i++)
			counts[fx_idx(fx_pick_take(b))]++;
		assert_int_equal(counts[0], 2);
		assert_int_equal(counts[1], 1);
		assert_int_equal(counts[2], 17);
		assert_int_equal(b->srv[0]->served, 2);
		/* a slot frees on s2: it comes back, to take its turns with s3
		 * (picks without take: it stays free) */
		fx_drop(b->srv[1]);
		int got_s2 = 0;
		for (int i = 0; i < 4; i++) {
			struct server *s = fx_pick(b, NULL);
			got_s2 += s == b->srv[1];
		}
		assert_int_equal(got_s2, 2);
		fx_free(b);

		/* everything full: LB_FULL (the backend queue), not LB_NOSRV */
		static const struct fx_opt f[] = { { .maxconn = 1 }, { .maxconn = 1 } };
		b = fx_new(rr_algos[a], 2, NULL, f);
		assert_non_null(fx_pick_take(b));
		assert_non_null(fx_pick_take(b));
		assert_int_equal(fx_pick_result(b), LB_FULL);
		fx_drop(b->srv[1]);
		assert_ptr_equal(fx_pick(b, NULL), b->srv[1]);
		/* full and down: no server */
		fx_set_down(b->srv[1]);
		fx_set_down(b->srv[0]);
		assert_int_equal(fx_pick_result(b), LB_NOSRV);
		fx_free(b);
	}
}

/* With take and drop around each pick the shares are unchanged. */
static void test_take_drop_do_not_disturb(void **state)
{
	static const int w[] = { 1, 2, 3 };
	static const struct fx_opt o[] = { { .maxconn = 5 }, { 0 }, { .maxconn = 100 } };
	struct fx_be *b = fx_new("roundrobin", 3, w, o);
	int counts[3] = { 0 };

	for (int i = 0; i < 6000; i++) {
		struct server *s = fx_pick_take(b);
		counts[fx_idx(s)]++;
		fx_drop(s);
	}
	fx_assert_shares(counts, w, 3, 6000, 0.0, "take/drop");
	fx_free(b);
}

/* Random churn (down, up, weight changes, maxconn slots taken and freed)
 * between picks: a pick never returns a server that cannot take the
 * stream, and once the churn stops the shares and the smoothness are
 * those of the weights in force. */
static void test_churn(void **state)
{
	enum { N = 12 };
	struct fx_opt o[N];
	int w[N];
	uint64_t seed = 2024;

	memset(o, 0, sizeof(o));
	for (int i = 0; i < N; i++) {
		w[i] = 1 + (int)(fx_rand(&seed) % 20);
		o[i].maxconn = i % 3 == 0 ? 3 : 0;
	}
	for (int a = 0; a < 2; a++) {
		struct fx_be *b = fx_new(rr_algos[a], N, w, o);
		struct server *held[64];
		int nheld = 0;
		for (int step = 0; step < 20000; step++) {
			uint64_t r = fx_rand(&seed) % 100;
			struct server *x = b->srv[fx_rand(&seed) % N];
			if (r < 3)
				fx_set_down(x);
			else if (r < 8)
				fx_set_up(x);
			else if (r < 11 && a == 0)
				fx_set_weight(x, (int)(fx_rand(&seed) % 12));
			else if (r < 14 && nheld)
				fx_drop(held[--nheld]);
			struct server *s = fx_pick(b, NULL);
			if (!s) {
				/* nothing can take it: check that it is true */
				for (int k = 0; k < N; k++)
					assert_false(srv_usable(b->srv[k]) && !srv_full(b->srv[k]) &&
					             (a || b->srv[k]->eweight));
				continue;
			}
			assert_true(srv_usable(s));
			assert_false(srv_full(s));
			if (s->c.maxconn && nheld < 64) {
				fx_take(s);
				held[nheld++] = s;
			}
		}
		while (nheld)
			fx_drop(held[--nheld]);
		int wn[N];
		for (int k = 0; k < N; k++) {
			fx_set_up(b->srv[k]);
			if (a == 0)
				fx_set_weight(b->srv[k], w[k]);
			wn[k] = w[k];
		}
		int counts[N];
		/* let the returning servers settle, then a whole number of rounds */
		long total = 0;
		for (int k = 0; k < N; k++)
			total += wn[k];
		run_picks(b, (int)total, counts);
		run_picks(b, (int)total * 10, counts);
		fx_assert_shares(counts, wn, N, total * 10, 0.02, rr_algos[a]);
		fx_free(b);
	}
}

/* 1,000 servers of random weights 1..256: the shares over whole rounds are
 * exact and short windows stay within one pick of the ideal. */
static void test_thousand_servers(void **state)
{
	enum { N = 1000 };
	int *w = calloc(N, sizeof(int)), *counts = calloc(N, sizeof(int)), *cnt = calloc(N, sizeof(int));
	uint64_t seed = 1000;
	long total = 0;

	assert_non_null(w);
	assert_non_null(counts);
	assert_non_null(cnt);
	for (int i = 0; i < N; i++) {
		w[i] = 1 + (int)(fx_rand(&seed) % 256);
		total += w[i];
	}
	struct fx_be *b = fx_new("roundrobin", N, w, NULL);
	run_picks(b, (int)total, counts);
	for (int i = 0; i < N; i++)
		if (counts[i] != w[i])
			fail_msg("server %d weight %d got %d picks in one round of %ld", i + 1, w[i], counts[i], total);
	/* windows of 2,000 picks: within ceil(share) + 1 */
	enum { WIN = 2000 };
	int *seq = calloc(WIN * 4, sizeof(int));
	assert_non_null(seq);
	for (int i = 0; i < WIN * 4; i++)
		seq[i] = fx_idx(fx_pick(b, NULL));
	for (int i = 0; i < WIN * 4; i++) {
		cnt[seq[i]]++;
		if (i >= WIN)
			cnt[seq[i - WIN]]--;
		if (i + 1 >= WIN) {
			int k = seq[i];
			long limit = (w[k] * WIN + total - 1) / total + 1;
			if (cnt[k] > limit)
				fail_msg("server %d weight %d: %d picks in a window of %d (limit %ld)", k + 1, w[k], cnt[k],
				         WIN, limit);
		}
	}
	free(seq);
	free(w);
	free(counts);
	free(cnt);
	fx_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weighted_shares),
		cmocka_unit_test(test_random_weights_many_servers),
		cmocka_unit_test(test_smoothness),
		cmocka_unit_test(test_interleaved_from_start),
		cmocka_unit_test(test_equal_weights_take_turns_in_order),
		cmocka_unit_test(test_weight_change_applies_at_once_roundrobin),
		cmocka_unit_test(test_weight_change_ignored_by_static_rr),
		cmocka_unit_test(test_down_skipped_up_readded),
		cmocka_unit_test(test_no_burst_after_long_absence),
		cmocka_unit_test(test_weight_zero_gets_nothing),
		cmocka_unit_test(test_backup_first_only),
		cmocka_unit_test(test_allbackups),
		cmocka_unit_test(test_disabled_server_unused),
		cmocka_unit_test(test_avoid),
		cmocka_unit_test(test_avoid_keeps_shares),
		cmocka_unit_test(test_maxconn_full_servers_leave),
		cmocka_unit_test(test_take_drop_do_not_disturb),
		cmocka_unit_test(test_churn),
		cmocka_unit_test(test_thousand_servers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
