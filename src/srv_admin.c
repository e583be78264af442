/* Run-time server administration (include/proxyd/srv_admin.h). The state
 * bits are HAProxy's (SRV_ADMF_*); the balancer learns of every change
 * through lb_server_changed(), and queued streams move as they do when a
 * health check takes a server down or up. */
#include <stdio.h>

#include <proxyd/backend.h>
#include <proxyd/global.h>
#include <proxyd/lb.h>
#include <proxyd/log.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>
#include <proxyd/srv_admin.h>
#include <proxyd/stream.h>
#include <proxyd/thread.h>

static uint64_t now_ms(void)
{
	return th_now_ms(curr_th ? curr_th : &threads[0]);
}

/* Streams waiting for this very server go to the backend's queue: the
 * server takes no traffic any more. */
static int requeue(struct server *srv)
{
	int n = 0;

	while (!list_empty(&srv->queue)) {
		struct stream *s = list_first(&srv->queue, struct stream, queue_el);
		backend_dequeue(s);
		s->srv = NULL;
		list_append(&srv->be->queue, &s->queue_el);
		srv->be->nb_queued++;
		s->flags |= SF_IN_QUEUE;
		n++;
	}
	return n;
}

/* Was the server counted as up before the change (for downtime)? */
static int counted_up(const struct server *srv)
{
	return !(srv->admin & SRV_ADMF_MAINT) && srv->state != SRV_ST_STOPPED;
}

/* Applies the new admin bits and everything that follows from them. */
static int set_admin(struct server *srv, unsigned admin)
{
	struct proxy *be = srv->be;
	int was_up = counted_up(srv), had_any = be->srv_act + be->srv_bck > 0;
	uint64_t now = now_ms();

	if (admin == srv->admin)
		return 0;
	int entering_maint = (admin & SRV_ADMF_MAINT) && !(srv->admin & SRV_ADMF_MAINT);
	int leaving_maint = !(admin & SRV_ADMF_MAINT) && (srv->admin & SRV_ADMF_MAINT);
	srv->admin = admin;
	srv->last_change_ms = now;
	if (leaving_maint && srv->c.ck.enabled) {
		/* back at the bottom of the healthy range, as HAProxy: one
		 * failed check takes it down again */
		srv->check.health = srv->c.ck.rise;
		srv->state = SRV_ST_RUNNING;
	}
	int is_up = counted_up(srv);
	if (was_up && !is_up)
		srv->down_since_ms = now;
	else if (!was_up && is_up && srv->down_since_ms) {
		srv->downtime_ms += now - srv->down_since_ms;
		srv->down_since_ms = 0;
	}
	lb_server_changed(srv);
	int requeued = entering_maint ? requeue(srv) : 0;
	if (entering_maint)
		log_event(DIAG_WARNING, "Server %s/%s is going DOWN for maintenance. %d active and %d backup servers "
		          "left. %d sessions active, %d requeued, %d remaining in queue.", be->id, srv->id,
		          be->srv_act, be->srv_bck, srv->served, requeued, srv->nb_queued);
	else if (leaving_maint)
		log_event(DIAG_WARNING, "Server %s/%s is UP (leaving forced maintenance).", be->id, srv->id);
	int has_any = be->srv_act + be->srv_bck > 0;
	if (had_any && !has_any) {
		log_event(DIAG_ALERT, "backend '%s' has no server available!", be->id);
		be->chk_down++;
		be->down_since_ms = now;
		be->last_change_ms = now;
	} else if (!had_any && has_any && be->down_since_ms) {
		be->downtime_ms += now - be->down_since_ms;
		be->down_since_ms = 0;
		be->last_change_ms = now;
	}
	if (srv_usable(srv))
		backend_serve_queues(be);
	return 1;
}

int srv_admin_ready(struct server *srv)
{
	return set_admin(srv, srv->admin & ~(unsigned)(SRV_ADMF_FMAINT | SRV_ADMF_FDRAIN));
}

int srv_admin_drain(struct server *srv)
{
	return set_admin(srv, (srv->admin & ~(unsigned)SRV_ADMF_FMAINT) | SRV_ADMF_FDRAIN);
}

int srv_admin_maint(struct server *srv)
{
	return set_admin(srv, srv->admin | SRV_ADMF_FMAINT);
}

int srv_admin_weight(struct server *srv, int w, int pct, const char **err)
{
	struct proxy *be = srv->be;

	if (pct) {
		if (w < 0) {
			*err = "Relative weight must be positive.";
			return -1;
		}
		w = srv->c.weight * w / 100;
		if (w > 256)
			w = 256;
	} else if (w < 0 || w > 256) {
		*err = "Absolute weight can only be between 0 and 256 inclusive.";
		return -1;
	}
	if (!be->c.lb->dynamic && w != 0 && w != srv->c.weight) {
		*err = "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.";
		return -1;
	}
	if (w == srv->uweight)
		return 0;
	srv->uweight = srv->eweight = w;
	srv->last_change_ms = now_ms();
	lb_server_changed(srv);
	if (srv_usable(srv))
		backend_serve_queues(be);
	return 0;
}

int srv_admin_shutdown(struct server *srv)
{
	int n = 0;

	for (int t = 0; t < global.nbthread; t++) {
		struct stream *s, *tmp;
		list_for_each_safe(s, tmp, &threads[t].streams, list) {
			if (!(s->flags & SF_ASSIGNED) || s->srv != srv)
				continue;
			stream_set_term(s, 'K', PHASE_DATA);
			s->flags |= SF_KILL;
			stream_wake(s);
			n++;
		}
	}
	return n;
}
