/* Unit tests for balance leastconn and first (src/lb_leastconn.c): choices
 * as streams come and go (take/drop), turns among equals, weights (also
 * changed at run time), state changes, weight 0, backups, maxconn, the
 * avoid parameter. Backends are built in memory (lb_fixture.h).
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

/* leastconn: the least loaded server, in turn among equals */
static void test_lc_fills_evenly(void **state)
{
	struct fx_be *b = fx_new("leastconn", 3, NULL, NULL);

	/* long streams: each new one goes to a server with the fewest */
	for (int i = 0; i < 30; i++) {
		struct server *s = fx_pick_take(b);
		assert_non_null(s);
		for (int k = 0; k < 3; k++)
			assert_true(b->srv[k]->served <= s->served);
	}
	for (int k = 0; k < 3; k++)
		assert_int_equal(b->srv[k]->served, 10);
	/* a stream ends on s2: the next one goes there */
	fx_drop(b->srv[1]);
	assert_ptr_equal(fx_pick(b, NULL), b->srv[1]);
	fx_drop(b->srv[2]);
	fx_drop(b->srv[2]);
	assert_ptr_equal(fx_pick_take(b), b->srv[2]);
	assert_ptr_equal(fx_pick_take(b), b->srv[1]);
	assert_ptr_equal(fx_pick_take(b), b->srv[2]);
	fx_free(b);
}

static void test_lc_equals_take_turns(void **state)
{
	struct fx_be *b = fx_new("leastconn", 4, NULL, NULL);
	int counts[4] = { 0 }, prev = -1;

	/* short streams, one at a time: every server is idle at each pick */
	for (int i = 0; i < 400; i++) {
		struct server *s = fx_pick_take(b);
		int k = fx_idx(s);
		assert_int_not_equal(k, prev);
		assert_int_equal(k, i % 4);
		counts[k]++;
		prev = k;
		fx_drop(s);
	}
	for (int k = 0; k < 4; k++)
		assert_int_equal(counts[k], 100);
	fx_free(b);
}

/* As HAProxy 2.6: a server without streams counts as empty whatever its
 * weight, so one-at-a-time requests take turns even when weights differ. */
static void test_lc_idle_servers_take_turns_whatever_the_weight(void **state)
{
	struct fx_be *b = fx_new("leastconn", 2, (int[]){ 3, 1 }, NULL);
	int counts[2] = { 0 };

	for (int i = 0; i < 100; i++) {
		struct server *s = fx_pick_take(b);
		counts[fx_idx(s)]++;
		fx_drop(s);
	}
	assert_int_equal(counts[0], 50);
	assert_int_equal(counts[1], 50);
	fx_free(b);
}

/* Long streams are shared out in proportion of the weights. */
static void test_lc_weighted_load(void **state)
{
	static const int w[] = { 1, 2, 3, 4, 10 };
	struct fx_be *b = fx_new("leastconn", 5, w, NULL);
	int counts[5] = { 0 };

	for (int i = 0; i < 10000; i++)
		counts[fx_idx(fx_pick_take(b))]++;
	fx_assert_shares(counts, w, 5, 10000, 0.02, "leastconn, streams kept");
	fx_free(b);
}

/* A random mix of arrivals and departures keeps the load proportional. */
static void test_lc_weighted_load_with_departures(void **state)
{
	enum { N = 8, CONC = 400 };
	int w[N];
	uint64_t seed = 99;
	struct server *open[CONC];
	int nopen = 0;
	struct fx_be *b;

	for (int i = 0; i < N; i++)
		w[i] = 1 + (int)(fx_rand(&seed) % 16);
	b = fx_new("leastconn", N, w, NULL);
	for (int i = 0; i < 20000; i++) {
		if (nopen == CONC || (nopen > CONC / 2 && fx_rand(&seed) % 2)) {
			int k = (int)(fx_rand(&seed) % (uint64_t)nopen);
			fx_drop(open[k]);
			open[k] = open[--nopen];
		}
		open[nopen++] = fx_pick_take(b);
	}
	/* the load per unit of weight stays even: the most loaded server is
	 * at most one stream above the least loaded one's ratio */
	double lo = 1e9, hi = 0;
	for (int i = 0; i < N; i++) {
		double r = (double)b->srv[i]->served / w[i];
		lo = r < lo ? r : lo;
		hi = r > hi ? r : hi;
		for (int k = 0; k < N; k++)
			if ((double)(b->srv[i]->served - 1) / w[i] > (double)(b->srv[k]->served + 1) / w[k])
				fail_msg("server %d (weight %d) has %d streams, server %d (weight %d) %d", i + 1, w[i],
				         b->srv[i]->served, k + 1, w[k], b->srv[k]->served);
	}
	print_message("leastconn with departures: %d open, streams per weight unit %.2f..%.2f\n", nopen, lo, hi);
	fx_free(b);
}

static void test_lc_weight_change_at_once(void **state)
{
	struct fx_be *b = fx_new("leastconn", 2, NULL, NULL);

	for (int i = 0; i < 20; i++)
		fx_pick_take(b);
	assert_int_equal(b->srv[0]->served, 10);
	fx_set_weight(b->srv[0], 3);
	/* s1 now takes new streams until it has about 3 times s2's load */
	for (int i = 0; i < 20; i++)
		assert_ptr_equal(fx_pick_take(b), b->srv[0]);
	int counts[2] = { 0 };
	for (int i = 0; i < 400; i++)
		counts[fx_idx(fx_pick_take(b))]++;
	fx_assert_shares(counts, (int[]){ 3, 1 }, 2, 400, 0.05, "after weight 1 -> 3");
	fx_free(b);
}

static void test_lc_down_up(void **state)
{
	struct fx_be *b = fx_new("leastconn", 3, NULL, NULL);

	for (int i = 0; i < 9; i++)
		fx_pick_take(b);
	fx_set_down(b->srv[0]);
	for (int i = 0; i < 10; i++)
		assert_ptr_not_equal(fx_pick_take(b), b->srv[0]);
	/* back with its 3 streams, the least loaded: it takes the next ones */
	fx_set_up(b->srv[0]);
	assert_ptr_equal(fx_pick_take(b), b->srv[0]);
	fx_set_maint(b->srv[1], 1);
	for (int i = 0; i < 20; i++)
		assert_ptr_not_equal(fx_pick_take(b), b->srv[1]);
	fx_set_down(b->srv[0]);
	fx_set_down(b->srv[2]);
	assert_int_equal(fx_pick_result(b), LB_NOSRV);
	fx_set_maint(b->srv[1], 0);
	assert_ptr_equal(fx_pick(b, NULL), b->srv[1]);
	fx_free(b);
}

static void test_lc_weight_zero(void **state)
{
	struct fx_be *b = fx_new("leastconn", 3, (int[]){ 0, 1, 1 }, NULL);

	for (int i = 0; i < 50; i++)
		assert_ptr_not_equal(fx_pick_take(b), b->srv[0]);
	fx_set_weight(b->srv[1], 0);
	for (int i = 0; i < 50; i++)
		assert_ptr_equal(fx_pick_take(b), b->srv[2]);
	fx_free(b);
}

static void test_lc_backups(void **state)
{
	static const struct fx_opt o[] = { { 0 }, { SRV_F_BACKUP }, { SRV_F_BACKUP } };
	struct fx_be *b = fx_new("leastconn", 3, NULL, o);

	for (int i = 0; i < 10; i++)
		assert_ptr_equal(fx_pick_take(b), b->srv[0]);
	fx_set_down(b->srv[0]);
	for (int i = 0; i < 10; i++)
		assert_ptr_equal(fx_pick_take(b), b->srv[1]);
	fx_free(b);

	b = fx_new_conf("leastconn", 3, NULL, o, NULL, PR_O_ALLBACKUPS);
	fx_set_down(b->srv[0]);
	for (int i = 0; i < 10; i++)
		fx_pick_take(b);
	assert_int_equal(b->srv[1]->served, 5);
	assert_int_equal(b->srv[2]->served, 5);
	fx_free(b);
}

static void test_lc_avoid(void **state)
{
	struct fx_be *b = fx_new("leastconn", 3, NULL, NULL);

	/* s1 is the least loaded, but the stream must avoid it */
	fx_take(b->srv[1]);
	fx_take(b->srv[2]);
	fx_take(b->srv[2]);
	assert_ptr_equal(fx_pick(b, NULL), b->srv[0]);
	assert_ptr_equal(fx_pick(b, b->srv[0]), b->srv[1]);
	fx_free(b);
	/* the only server is returned even if it is the one to avoid */
	b = fx_new("leastconn", 1, NULL, NULL);
	assert_ptr_equal(fx_pick(b, b->srv[0]), b->srv[0]);
	fx_free(b);
}

static void test_lc_maxconn(void **state)
{
	static const struct fx_opt o[] = { { .maxconn = 1 }, { .maxconn = 2 } };
	struct fx_be *b = fx_new("leastconn", 2, NULL, o);

	assert_non_null(fx_pick_take(b));
	assert_non_null(fx_pick_take(b));
	assert_non_null(fx_pick_take(b));
	assert_int_equal(b->srv[0]->served, 1);
	assert_int_equal(b->srv[1]->served, 2);
	assert_int_equal(fx_pick_result(b), LB_FULL);
	fx_drop(b->srv[0]);
	assert_ptr_equal(fx_pick(b, NULL), b->srv[0]);
	fx_free(b);
}

/* Streams waiting in a server's own queue count as load. */
static void test_lc_queued_count(void **state)
{
	struct fx_be *b = fx_new("leastconn", 2, NULL, NULL);

	b->srv[0]->nb_queued = 3;
	lb_take(b->srv[0]);
	for (int i = 0; i < 3; i++)
		assert_ptr_equal(fx_pick_take(b), b->srv[1]);
	fx_free(b);
}

/* first: lowest position with a free slot; weights do not matter */
static void test_first_fills_in_order(void **state)
{
	static const struct fx_opt o[] = { { .maxconn = 2 }, { .maxconn = 3 }, { .maxconn = 1 } };
	struct fx_be *b = fx_new("first", 3, (int[]){ 1, 50, 200 }, o);
	static const int want[] = { 0, 0, 1, 1, 1, 2 };

	for (int i = 0; i < 6; i++)
		assert_int_equal(fx_idx(fx_pick_take(b)), want[i]);
	assert_int_equal(fx_pick_result(b), LB_FULL);
	/* a slot frees on s2, the only free one: s2 */
	fx_drop(b->srv[1]);
	assert_ptr_equal(fx_pick_take(b), b->srv[1]);
	/* slots free on s1 and s2: s1 first, then s2 */
	fx_drop(b->srv[1]);
	fx_drop(b->srv[0]);
	assert_ptr_equal(fx_pick_take(b), b->srv[0]);
	assert_ptr_equal(fx_pick_take(b), b->srv[1]);
	fx_free(b);
}

static void test_first_without_maxconn_is_always_first(void **state)
{
	struct fx_be *b = fx_new("first", 3, (int[]){ 1, 10, 10 }, NULL);

	for (int i = 0; i < 100; i++)
		assert_ptr_equal(fx_pick_take(b), b->srv[0]);
	fx_set_down(b->srv[0]);
	for (int i = 0; i < 10; i++)
		assert_ptr_equal(fx_pick_take(b), b->srv[1]);
	fx_set_up(b->srv[0]);
	assert_ptr_equal(fx_pick(b, NULL), b->srv[0]);
	/* redispatch: the next one in order */
	assert_ptr_equal(fx_pick(b, b->srv[0]), b->srv[1]);
	fx_set_weight(b->srv[0], 0);
	assert_ptr_equal(fx_pick(b, NULL), b->srv[1]);
	fx_free(b);
}

static void test_first_backup(void **state)
{
	static const struct fx_opt o[] = { { .maxconn = 1 }, { SRV_F_BACKUP, 1 }, { SRV_F_BACKUP, 1 } };
	struct fx_be *b = fx_new("first", 3, NULL, o);

	assert_ptr_equal(fx_pick_take(b), b->srv[0]);
	/* active full: the backend queue, not the backups */
	assert_int_equal(fx_pick_result(b), LB_FULL);
	fx_set_down(b->srv[0]);
	assert_ptr_equal(fx_pick_take(b), b->srv[1]);
	/* without allbackups only the first backup serves */
	assert_int_equal(fx_pick_result(b), LB_FULL);
	fx_free(b);
	b = fx_new_conf("first", 3, NULL, o, NULL, PR_O_ALLBACKUPS);
	fx_set_down(b->srv[0]);
	assert_ptr_equal(fx_pick_take(b), b->srv[1]);
	assert_ptr_equal(fx_pick_take(b), b->srv[2]);
	assert_int_equal(fx_pick_result(b), LB_FULL);
	fx_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lc_fills_evenly),
		cmocka_unit_test(test_lc_equals_take_turns),
		cmocka_unit_test(test_lc_idle_servers_take_turns_whatever_the_weight),
		cmocka_unit_test(test_lc_weighted_load),
		cmocka_unit_test(test_lc_weighted_load_with_departures),
		cmocka_unit_test(test_lc_weight_change_at_once),
		cmocka_unit_test(test_lc_down_up),
		cmocka_unit_test(test_lc_weight_zero),
		cmocka_unit_test(test_lc_backups),
		cmocka_unit_test(test_lc_avoid),
		cmocka_unit_test(test_lc_maxconn),
		cmocka_unit_test(test_lc_queued_count),
		cmocka_unit_test(test_first_fills_in_order),
		cmocka_unit_test(test_first_without_maxconn_is_always_first),
		cmocka_unit_test(test_first_backup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
