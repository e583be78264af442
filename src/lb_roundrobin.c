/* balance roundrobin: smooth weighted round robin. Every pick adds each
 * eligible server's weight to its running score, takes the highest score
 * and subtracts the total from it: over a cycle each server is chosen in
 * proportion to its weight, and the choices are interleaved (5:1:1 gives
 * a a b a c a a, not a a a a a b c). Weights are read at pick time, so run-time
 * changes apply at once. */
#include <proxyd/lb.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>

static enum lb_result rr_pick(struct proxy *be, struct stream *s, const struct server *avoid,
                              struct server **out)
{
	struct server *srv, *best = NULL;
	int total = 0, usable = 0, others = 0;
	/* Backup servers only when no active server is usable. */
	unsigned want_backup = be->srv_act ? 0 : SRV_F_BACKUP;

	list_for_each(srv, &be->servers, list) {
		if ((srv->c.flags & SRV_F_BACKUP) != want_backup || !srv_usable(srv))
			continue;
		usable++;
		if (srv_full(srv))
			continue;
		if (srv != avoid)
			others++;
	}
	if (!usable)
		return LB_NOSRV;

	list_for_each(srv, &be->servers, list) {
		if ((srv->c.flags & SRV_F_BACKUP) != want_backup || !srv_usable(srv) || srv_full(srv))
			continue;
		if (srv == avoid && others)
			continue;
		srv->lb.swrr.cur += srv->eweight;
		total += srv->eweight;
		if (!best || srv->lb.swrr.cur > best->lb.swrr.cur)
			best = srv;
	}
	if (!best)
		return LB_FULL;
	best->lb.swrr.cur -= total;
	*out = best;
	return LB_OK;
}

static void rr_reset(struct proxy *be, struct server *srv)
{
	srv->lb.swrr.cur = 0;
}

static int rr_init(struct proxy *be)
{
	struct server *srv;

	list_for_each(srv, &be->servers, list)
		srv->lb.swrr.cur = 0;
	return 0;
}

static const struct lb_algo lb_roundrobin = {
	.name = "roundrobin",
	.init = rr_init,
	.pick = rr_pick,
	.srv_up = rr_reset,
	.srv_down = rr_reset,
};

LB_REGISTER(lb_roundrobin);
