/* Unit tests for what every balance algorithm shares (src/lb.c): the
 * registry, the active / backup group selection and its counts, and the
 * server heap (checked against a brute-force minimum under random
 * operations).
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

static void test_registry(void **state)
{
	static const char *const names[] = {
		"roundrobin", "static-rr", "leastconn", "first", "source", "uri", "url_param", "hdr", "random",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct lb_algo *a = lb_find(names[i]);
		assert_non_null(a);
		assert_string_equal(a->name, names[i]);
		assert_non_null(a->pick);
		assert_non_null(a->init);
		assert_non_null(a->update);
	}
	assert_null(lb_find("roundrobinx"));
	assert_null(lb_find("hdr(host)"));
	assert_null(lb_find(""));
	/* weights may change at run time except for static-rr and map-based hashes */
	assert_true(lb_find("roundrobin")->dynamic);
	assert_false(lb_find("static-rr")->dynamic);
	assert_true(lb_find("leastconn")->dynamic);
}

static void test_counts_and_groups(void **state)
{
	static const struct fx_opt o[] = {
		{ 0 }, { SRV_F_DISABLED }, { SRV_F_BACKUP }, { SRV_F_BACKUP | SRV_F_DISABLED }, { SRV_F_BACKUP },
	};
	struct fx_be *b = fx_new("roundrobin", 5, (int[]){ 1, 1, 1, 1, 0 }, o);
	struct proxy *px = &b->px;

	/* disabled and weight 0 are not usable */
	assert_int_equal(px->srv_act, 1);
	assert_int_equal(px->srv_bck, 1);
	assert_false(lb_use_backup(px));
	assert_true(lb_eligible(px, b->srv[0]));
	assert_false(lb_eligible(px, b->srv[1]));
	assert_false(lb_eligible(px, b->srv[2]));
	fx_set_down(b->srv[0]);
	assert_int_equal(px->srv_act, 0);
	assert_true(lb_use_backup(px));
	assert_true(lb_eligible(px, b->srv[2]));
	assert_false(lb_eligible(px, b->srv[3]));
	assert_false(lb_eligible(px, b->srv[4]));
	/* the disabled backup leaves maintenance: it is not the first one */
	fx_set_maint(b->srv[3], 0);
	b->srv[3]->admin = 0;
	b->srv[3]->state = SRV_ST_RUNNING;
	lb_server_changed(b->srv[3]);
	assert_int_equal(px->srv_bck, 2);
	assert_true(lb_eligible(px, b->srv[2]));
	assert_false(lb_eligible(px, b->srv[3]));
	/* the first backup goes down: the next one in declaration order */
	fx_set_down(b->srv[2]);
	assert_true(lb_eligible(px, b->srv[3]));
	/* option allbackups: every usable backup */
	px->c.options |= PR_O_ALLBACKUPS;
	fx_set_up(b->srv[2]);
	assert_true(lb_eligible(px, b->srv[2]));
	assert_true(lb_eligible(px, b->srv[3]));
	assert_false(lb_eligible(px, b->srv[4]));   /* weight 0 */
	/* an active one is back: no backup is eligible any more */
	fx_set_up(b->srv[0]);
	assert_false(lb_use_backup(px));
	assert_false(lb_eligible(px, b->srv[2]));
	assert_false(lb_eligible(px, b->srv[3]));
	fx_free(b);
}

/* The state flags that make a server unusable. */
static void test_srv_usable(void **state)
{
	struct server s;

	memset(&s, 0, sizeof(s));
	s.state = SRV_ST_RUNNING;
	s.eweight = 1;
	assert_true(srv_usable(&s));
	s.eweight = 0;
	assert_false(srv_usable(&s));
	s.eweight = 1;
	s.state = SRV_ST_STOPPING;
	assert_false(srv_usable(&s));
	s.state = SRV_ST_RUNNING;
	s.admin = SRV_ADMF_CMAINT | SRV_ADMF_FMAINT;
	assert_false(srv_usable(&s));
	s.admin = SRV_ADMF_CMAINT;   /* a "disabled" server enabled at run time */
	assert_true(srv_usable(&s));
	s.admin = SRV_ADMF_IMAINT;
	assert_false(srv_usable(&s));
	s.admin = 0;
	s.c.maxconn = 2;
	s.served = 1;
	assert_false(srv_full(&s));
	s.served = 2;
	assert_true(srv_full(&s));
	s.c.maxconn = 0;
	assert_false(srv_full(&s));
}

/* Random pushes, removals, key changes, checked against a linear scan. */
static void test_heap_random_ops(void **state)
{
	enum { N = 300 };
	struct server *srv = calloc(N, sizeof(*srv));
	struct lb_heap hp;
	uint64_t seed = 5;

	assert_non_null(srv);
	assert_int_equal(lb_heap_init(&hp, N), 0);
	for (int i = 0; i < N; i++)
		srv[i].lb.heap_idx = -1;
	for (int op = 0; op < 200000; op++) {
		struct server *x = &srv[fx_rand(&seed) % N];
		switch (fx_rand(&seed) % 4) {
		case 0:
			if (x->lb.heap_idx < 0) {
				x->lb.key = fx_rand(&seed) % 1000;
				x->lb.seq = (uint64_t)op;
			}
			lb_heap_push(&hp, x);
			break;
		case 1:
			lb_heap_remove(&hp, x);
			assert_int_equal(x->lb.heap_idx, -1);
			break;
		default:
			x->lb.key = fx_rand(&seed) % 1000;
			lb_heap_fix(&hp, x);
			break;
		}
		/* brute force: the smallest (key, seq) in the heap, and the
		 * smallest other than a random one to avoid */
		struct server *min = NULL, *min2 = NULL, *avoid = &srv[fx_rand(&seed) % N];
		int members = 0;
		for (int i = 0; i < N; i++) {
			struct server *s = &srv[i];
			if (s->lb.heap_idx < 0)
				continue;
			members++;
			assert_ptr_equal(hp.h[s->lb.heap_idx], s);
#define LESS(a, b) ((a)->lb.key < (b)->lb.key || ((a)->lb.key == (b)->lb.key && (a)->lb.seq < (b)->lb.seq))
			if (!min || LESS(s, min))
				min = s;
			if (s != avoid && (!min2 || LESS(s, min2)))
				min2 = s;
		}
		assert_int_equal(members, hp.n);
		if (!members) {
			assert_null(lb_heap_top(&hp, NULL));
			continue;
		}
		assert_ptr_equal(lb_heap_top(&hp, NULL), min);
		struct server *t = lb_heap_top(&hp, avoid);
		if (min2) {
			/* with several of equal (key, seq) any is fine: compare keys */
			assert_true(t->lb.key == min2->lb.key && t->lb.seq == min2->lb.seq);
		} else {
			assert_ptr_equal(t, avoid);
		}
	}
	lb_heap_free(&hp);
	free(srv);
}

static void test_heap_capacity(void **state)
{
	struct server s[3];
	struct lb_heap hp;

	memset(s, 0, sizeof(s));
	for (int i = 0; i < 3; i++)
		s[i].lb.heap_idx = -1;
	assert_int_equal(lb_heap_init(&hp, 2), 0);
	lb_heap_push(&hp, &s[0]);
	lb_heap_push(&hp, &s[1]);
	lb_heap_push(&hp, &s[2]);       /* full: ignored */
	assert_int_equal(hp.n, 2);
	assert_int_equal(s[2].lb.heap_idx, -1);
	lb_heap_push(&hp, &s[0]);       /* already in: ignored */
	assert_int_equal(hp.n, 2);
	lb_heap_remove(&hp, &s[2]);     /* not in: ignored */
	assert_int_equal(hp.n, 2);
	lb_heap_free(&hp);
	/* a backend without servers still gets a usable heap */
	assert_int_equal(lb_heap_init(&hp, 0), 0);
	assert_null(lb_heap_top(&hp, NULL));
	lb_heap_free(&hp);
}

/* Every algorithm copes with a backend without servers. */
static void test_empty_backend(void **state)
{
	static const char *const names[] = {
		"roundrobin", "static-rr", "leastconn", "first", "source", "uri", "url_param", "hdr", "random",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct lb_conf c = { .name = "x" };
		struct fx_be *b = fx_new_conf(names[i], 0, NULL, NULL, &c, 0);
		assert_int_equal(fx_pick_result(b), LB_NOSRV);
		fx_free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_counts_and_groups),
		cmocka_unit_test(test_srv_usable),
		cmocka_unit_test(test_heap_random_ops),
		cmocka_unit_test(test_heap_capacity),
		cmocka_unit_test(test_empty_backend),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
