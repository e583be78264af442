/* balance roundrobin / static-rr: smooth weighted round robin, as
 * worst-case fair weighted fair queueing (WF2Q) over two heaps.
 *
 * Each server has a start tag S and a finish tag F = S + step, where step
 * is 1/weight; a pick serves the server whose F is smallest among those
 * whose S has been reached by the virtual time V, then moves its tags on
 * by one step, and V advances by 1/(sum of weights). Servers not yet
 * eligible wait in a second heap ordered by S. Picking the smallest F
 * alone (plain earliest deadline first) gives bursts: weights 5,1,1,1,1,1
 * gave 1 1 1 1 1 2 3 4 5 6; with the eligibility rule they interleave,
 * 1 2 1 3 1 4 1 5 1 6, as HAProxy does, and no server is picked more than
 * its share of any window plus one. A pick costs O(log n) (each server
 * moves from the waiting heap to the eligible one once per pick of its
 * own).
 *
 * A server leaves the heaps while it is down, drained, at weight 0 or at
 * its maxconn, and comes back starting no earlier than V, so that it
 * gets no burst on its return. roundrobin applies weight changes at once;
 * static-rr only follows 0 / back to its configured weight.
 */
#include <stdlib.h>

#include <proxyd/lb.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>

#define RR_SCALE (1ULL << 32)
#define RR_RENORM (1ULL << 62)

struct rr_state {
	struct lb_heap elig;  /* S <= vtime, ordered by F (lb.key = S + step) */
	struct lb_heap wait;  /* S > vtime, ordered by S (lb.key = S) */
	uint64_t vtime;
	uint64_t wsum;        /* weights of the servers in either heap */
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

static int in_elig(const struct rr_state *st, const struct server *srv)
{
	int i = srv->lb.heap_idx;

	return i >= 0 && i < st->elig.n && st->elig.h[i] == srv;
}

/* The start tag of <srv>: lb.key holds it, except in the eligible heap
 * where it holds the finish tag. Out of the heaps, lb.key keeps the start
 * the server had when it left. */
static uint64_t rr_start(const struct rr_state *st, const struct server *srv)
{
	return in_elig(st, srv) ? srv->lb.key - srv->lb.step : srv->lb.key;
}

/* Puts <srv>, in no heap, into the one its start tag calls for. Equal
 * tags are served in the order of lb.seq, which changes when the server
 * is picked or comes back, not when it becomes eligible: equals keep
 * their turns. */
static void rr_place(struct rr_state *st, struct server *srv, uint64_t start)
{
	if (start <= st->vtime) {
		srv->lb.key = start + srv->lb.step;
		lb_heap_push(&st->elig, srv);
	} else {
		srv->lb.key = start;
		lb_heap_push(&st->wait, srv);
	}
}

/* Takes <srv> out of its heap; lb.key is left holding its start tag. */
static void rr_unplace(struct rr_state *st, struct server *srv)
{
	uint64_t start = rr_start(st, srv);

	lb_heap_remove(&st->elig, srv);
	lb_heap_remove(&st->wait, srv);
	srv->lb.key = start;
}

static void rr_refresh(struct proxy *be, struct server *srv)
{
	struct rr_state *st = be->lb_state;
	int w = rr_wanted(be, st, srv) ? rr_weight(st, srv) : 0;

	if (srv->lb.heap_idx >= 0 && w == srv->lb.weight)
		return;     /* take / drop without a change: the common case */
	if (srv->lb.heap_idx >= 0) {
		rr_unplace(st, srv);
		st->wsum -= (uint64_t)srv->lb.weight;
		if (w) {
			/* new weight: at once, the server's turn restarts now
			 * unless it was already late */
			if (srv->lb.key > st->vtime)
				srv->lb.key = st->vtime;
		}
	} else if (w) {
		/* back: behind everybody already waiting, no burst after an
		 * absence */
		if (srv->lb.key < st->vtime)
			srv->lb.key = st->vtime;
	}
	srv->lb.weight = w;
	if (!w)
		return;
	srv->lb.step = RR_SCALE / (uint64_t)w;
	srv->lb.seq = ++st->seq;
	st->wsum += (uint64_t)w;
	rr_place(st, srv, srv->lb.key);
}

static int rr_init_common(struct proxy *be, int is_static)
{
	struct rr_state *st = calloc(1, sizeof(*st));
	struct server *srv;

	if (!st || lb_heap_init(&st->elig, be->nb_srv) < 0 || lb_heap_init(&st->wait, be->nb_srv) < 0) {
		if (st)
			lb_heap_free(&st->elig);
		free(st);
		return -1;
	}
	st->is_static = is_static;
	be->lb_state = st;
	list_for_each(srv, &be->servers, list) {
		srv->lb.heap_idx = -1;
		srv->lb.key = 0;
		srv->lb.weight = 0;
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

/* Moves the tags back towards 0 long before they could overflow, keeping
 * their order: everything is shifted by the smallest start tag in use. */
static void rr_renormalize(struct proxy *be, struct rr_state *st)
{
	struct server *srv;
	uint64_t base = st->vtime;

	list_for_each(srv, &be->servers, list)
		if (srv->lb.heap_idx >= 0 && rr_start(st, srv) < base)
			base = rr_start(st, srv);
	list_for_each(srv, &be->servers, list)
		srv->lb.key = srv->lb.key > base ? srv->lb.key - base : 0;
	st->vtime -= base;
}

/* No server in the heaps: either none is usable, or all are full. */
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
	struct server *srv;

	if (!st->elig.n) {
		if (!st->wait.n)
			return none_left(be);
		/* nobody's turn yet: time jumps to the next start */
		st->vtime = st->wait.h[0]->lb.key;
	}
	/* the servers whose turn has come become eligible */
	while (st->wait.n && st->wait.h[0]->lb.key <= st->vtime) {
		srv = st->wait.h[0];
		lb_heap_remove(&st->wait, srv);
		rr_place(st, srv, srv->lb.key);
	}
	srv = lb_heap_top(&st->elig, avoid);
	if (srv == avoid && st->wait.n)
		srv = st->wait.h[0];    /* redispatch: the next one to come */

	uint64_t next = rr_start(st, srv) + srv->lb.step;
	rr_unplace(st, srv);
	/* rounded up: never behind the steps, which are rounded down */
	st->vtime += (RR_SCALE + st->wsum - 1) / st->wsum;
	srv->lb.seq = ++st->seq;
	rr_place(st, srv, next);
	if (st->vtime > RR_RENORM)
		rr_renormalize(be, st);
	*out = srv;
	return LB_OK;
}

/* The server rr_pick() would serve, without moving anything: the
 * eligible one with the earliest finish tag, counting those whose start
 * the virtual time would reach (all of the earliest start when none is
 * eligible yet). */
static enum lb_result rr_peek(struct proxy *be, struct stream *s, struct server **out)
{
	const struct rr_state *st = be->lb_state;
	struct server *best = st->elig.n ? st->elig.h[0] : NULL;
	uint64_t best_f = best ? best->lb.key : 0;
	uint64_t v = st->elig.n ? st->vtime : st->wait.n ? st->wait.h[0]->lb.key : 0;

	if (!st->elig.n && !st->wait.n)
		return none_left(be);
	for (int i = 0; i < st->wait.n; i++) {
		struct server *srv = st->wait.h[i];
		uint64_t f = srv->lb.key + srv->lb.step;
		if (srv->lb.key > v)
			continue;
		if (!best || f < best_f || (f == best_f && srv->lb.seq < best->lb.seq)) {
			best = srv;
			best_f = f;
		}
	}
	*out = best;
	return LB_OK;
}

static void rr_deinit(struct proxy *be)
{
	struct rr_state *st = be->lb_state;

	if (st) {
		lb_heap_free(&st->elig);
		lb_heap_free(&st->wait);
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
	.peek = rr_peek,
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
	.peek = rr_peek,
};

LB_REGISTER(lb_static_rr);
