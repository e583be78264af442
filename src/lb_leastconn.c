/* balance leastconn: the server with the fewest streams for its weight
 * (queued ones included), kept at the top of a heap that is updated as
 * streams come and go, so a pick is O(1) and an update O(log n). A server
 * without any stream is at 0 whatever its weight. Among
 * equally loaded servers the one changed longest ago comes first, which
 * makes equals take turns.
 *
 * balance first: the first server, in declaration order, that still has a
 * free slot under its maxconn; weights are ignored. Same heap, keyed by
 * position. */
#include <stdlib.h>

#include <proxyd/lb.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>

#define LC_SCALE 65536ULL

struct lc_state {
	struct lb_heap heap;
	uint64_t seq;
	int first;     /* balance first */
};

static void lc_refresh(struct proxy *be, struct server *srv)
{
	struct lc_state *st = be->lb_state;
	int wanted = lb_eligible(be, srv) && srv->eweight > 0 && !srv_full(srv);

	if (!wanted) {
		lb_heap_remove(&st->heap, srv);
		return;
	}
	/* An idle server counts as empty whatever its weight, as in HAProxy
	 * 2.6: one-at-a-time requests then take turns over all servers
	 * instead of all going to the heaviest one. */
	uint64_t inflight = (uint64_t)(srv->served + srv->nb_queued);
	uint64_t key = st->first ? (uint64_t)srv->puid :
	               inflight ? (inflight + 1) * LC_SCALE / (uint64_t)srv->eweight : 0;
	if (srv->lb.heap_idx >= 0 && key == srv->lb.key)
		return;
	srv->lb.key = key;
	srv->lb.seq = ++st->seq;
	if (srv->lb.heap_idx < 0)
		lb_heap_push(&st->heap, srv);
	else
		lb_heap_fix(&st->heap, srv);
}

static int lc_init_common(struct proxy *be, int first)
{
	struct lc_state *st = calloc(1, sizeof(*st));
	struct server *srv;

	if (!st || lb_heap_init(&st->heap, be->nb_srv) < 0) {
		free(st);
		return -1;
	}
	st->first = first;
	be->lb_state = st;
	list_for_each(srv, &be->servers, list) {
		srv->lb.heap_idx = -1;
		lc_refresh(be, srv);
	}
	return 0;
}

static int lc_init(struct proxy *be)
{
	return lc_init_common(be, 0);
}

static int first_init(struct proxy *be)
{
	return lc_init_common(be, 1);
}

static enum lb_result lc_pick(struct proxy *be, struct stream *s, const struct server *avoid,
                              struct server **out)
{
	struct lc_state *st = be->lb_state;
	struct server *srv = lb_heap_top(&st->heap, avoid);

	if (!srv) {
		const struct server *x;
		list_for_each(x, &be->servers, list)
			if (lb_eligible(be, x))
				return LB_FULL;
		return LB_NOSRV;
	}
	*out = srv;
	return LB_OK;
}

/* lc_pick() changes nothing: the least loaded stays on top until a
 * stream is taken */
static enum lb_result lc_peek(struct proxy *be, struct stream *s, struct server **out)
{
	return lc_pick(be, s, NULL, out);
}

static void lc_deinit(struct proxy *be)
{
	struct lc_state *st = be->lb_state;

	if (st) {
		lb_heap_free(&st->heap);
		free(st);
		be->lb_state = NULL;
	}
}

static const struct lb_algo lb_leastconn = {
	.name = "leastconn",
	.init = lc_init,
	.pick = lc_pick,
	.update = lc_refresh,
	.take = lc_refresh,
	.drop = lc_refresh,
	.deinit = lc_deinit,
	.peek = lc_peek,
	.dynamic = 1,
};

LB_REGISTER(lb_leastconn);

static const struct lb_algo lb_first = {
	.name = "first",
	.init = first_init,
	.pick = lc_pick,
	.update = lc_refresh,
	.take = lc_refresh,
	.drop = lc_refresh,
	.deinit = lc_deinit,
	.peek = lc_peek,
	.dynamic = 1,
};

LB_REGISTER(lb_first);
