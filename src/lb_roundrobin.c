/* balance roundrobin / static-rr: weighted round robin as earliest-deadline
 * scheduling. Each server has a deadline that advances by 1/weight each
 * time it is picked; the pick is the smallest deadline, kept in a heap, so
 * a pick costs O(log n) and the choices interleave (weights 3:1 give
 * a a b a a a b a..., not a a a b). A server leaves the heap while it is
 * down, drained, at weight 0 or at its maxconn, and comes back behind the
 * current time, so that it gets no burst on its return. roundrobin applies
 * weight changes at once; static-rr only follows 0 / back to its weight. */
#include <stdlib.h>

#include <proxyd/lb.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>

#define RR_SCALE (1ULL << 24)
#define RR_RENORM (1ULL << 62)

struct rr_state {
	struct lb_heap heap;
	uint64_t vtime;     /* deadline of the last pick */
	uint64_t seq;
	int is_static;
};

static int rr_weight(const struct rr_state *st, const struct server *srv)
{
	/* static-rr: the configured weight whenever the weight is not 0 */
	if (st->is_static)
		return srv->eweight ? srv->c.weight : 0;
	return srv->eweight;
}

static int rr_wanted(const struct proxy *be, const struct rr_state *st, const struct server *srv)
{
	return lb_eligible(be, srv) && rr_weight(st, srv) > 0 && !srv_full(srv);
}

static void rr_insert(struct rr_state *st, struct server *srv)
{
	srv->lb.step = RR_SCALE / (uint64_t)rr_weight(st, srv);
	/* behind everybody already waiting: no burst after an absence */
	if (srv->lb.key < st->vtime + srv->lb.step)
		srv->lb.key = st->vtime + srv->lb.step;
	srv->lb.seq = ++st->seq;
	lb_heap_push(&st->heap, srv);
}

static void rr_refresh(struct proxy *be, struct server *srv)
{
	struct rr_state *st = be->lb_state;
	int wanted = rr_wanted(be, st, srv);

	if (!wanted) {
		lb_heap_remove(&st->heap, srv);
		return;
	}
	if (srv->lb.heap_idx < 0) {
		rr_insert(st, srv);
		return;
	}
	uint64_t step = RR_SCALE / (uint64_t)rr_weight(st, srv);
	if (step != srv->lb.step) {
		/* new weight: the remaining wait is rescaled */
		srv->lb.key = st->vtime + step;
		srv->lb.step = step;
		lb_heap_fix(&st->heap, srv);
	}
}

static int rr_init_common(struct proxy *be, int is_static)
{
	struct rr_state *st = calloc(1, sizeof(*st));
	struct server *srv;

	if (!st || lb_heap_init(&st->heap, be->nb_srv) < 0) {
		free(st);
		return -1;
	}
	st->is_static = is_static;
	be->lb_state = st;
	list_for_each(srv, &be->servers, list) {
		srv->lb.heap_idx = -1;
		srv->lb.key = 0;
		rr_refresh(be, srv);
	}
	return 0;
}

static int rr_init(struct proxy *be)
{
	return rr_init_common(be, 0);
}

static int srr_init(struct proxy *be)
{
	return rr_init_common(be, 1);
}

static void rr_renormalize(struct proxy *be, struct rr_state *st)
{
	struct server *srv;
	uint64_t base = st->vtime;

	list_for_each(srv, &be->servers, list)
		srv->lb.key = srv->lb.key > base ? srv->lb.key - base : 0;
	st->vtime = 0;
}

/* No server in the heap: either none is usable, or all are full. */
static enum lb_result none_left(const struct proxy *be)
{
	const struct server *srv;

	list_for_each(srv, &be->servers, list)
		if (lb_eligible(be, srv))
			return LB_FULL;
	return LB_NOSRV;
}

static enum lb_result rr_pick(struct proxy *be, struct stream *s, const struct server *avoid,
                              struct server **out)
{
	struct rr_state *st = be->lb_state;
	struct server *srv = lb_heap_top(&st->heap, avoid);

	if (!srv)
		return none_left(be);
	st->vtime = srv->lb.key;
	srv->lb.key += srv->lb.step;
	srv->lb.seq = ++st->seq;
	lb_heap_fix(&st->heap, srv);
	if (st->vtime > RR_RENORM)
		rr_renormalize(be, st);
	*out = srv;
	return LB_OK;
}

static void rr_deinit(struct proxy *be)
{
	struct rr_state *st = be->lb_state;

	if (st) {
		lb_heap_free(&st->heap);
		free(st);
		be->lb_state = NULL;
	}
}

static const struct lb_algo lb_roundrobin = {
	.name = "roundrobin",
	.init = rr_init,
	.pick = rr_pick,
	.update = rr_refresh,
	.take = rr_refresh,
	.drop = rr_refresh,
	.deinit = rr_deinit,
	.dynamic = 1,
};

LB_REGISTER(lb_roundrobin);

static const struct lb_algo lb_static_rr = {
	.name = "static-rr",
	.init = srr_init,
	.pick = rr_pick,
	.update = rr_refresh,
	.take = rr_refresh,
	.drop = rr_refresh,
	.deinit = rr_deinit,
};

LB_REGISTER(lb_static_rr);
