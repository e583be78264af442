/* Run-time changes to servers (see srv_admin.h). The balancer hears about
 * every change through lb_server_changed(), queues are served again when a
 * server can take more, and the messages are HAProxy's, on stderr and in
 * the backend's logs. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <proxyd/addr.h>
#include <proxyd/backend.h>
#include <proxyd/check.h>
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
	return threads ? th_now_ms(&threads[0]) : 0;
}

static void purge_task(struct thread_ctx *th, struct th_task *t)
{
	srv_purge_idle(t->p1, th, 0, 1);
}

static const char *prefix(const struct server *srv)
{
	return (srv->c.flags & SRV_F_BACKUP) ? "Backup " : "";
}

/* The balancer hears of a new weight or drain state (a drained server
 * keeps its weight: srv_usable() leaves it out of balancing). */
static void apply_weight(struct server *srv)
{
	srv->eweight = srv->uweight;
	lb_server_changed(srv);
}

static void enter_maint(struct server *srv)
{
	struct proxy *be = srv->be;
	int was_up = srv->state != SRV_ST_STOPPED && !(srv->admin & SRV_ADMF_MAINT);
	int was_stopping = srv->state == SRV_ST_STOPPING;

	srv->admin |= SRV_ADMF_FMAINT;
	srv->last_change_ms = now_ms();
	if (!was_up)
		return;
	if (!srv->down_since_ms)
		srv->down_since_ms = srv->last_change_ms;
	lb_server_changed(srv);
	int requeued = srv_requeue(srv);
	backend_serve_queues(be);
	log_event(be, was_stopping ? LOGL_NOTICE : LOGL_ALERT, DIAG_WARNING,
	          "%sServer %s/%s is going DOWN for maintenance. %d active and %d backup servers left. %d sessions "
	          "active, %d requeued, %d remaining in queue.", prefix(srv), be->id, srv->id, be->srv_act,
	          be->srv_bck, srv->served, requeued, srv->nb_queued);
	if (!be->srv_act && !be->srv_bck)
		log_event(be, LOGL_EMERG, DIAG_ALERT, "backend '%s' has no server available!", be->id);
}

static void leave_maint(struct server *srv)
{
	struct proxy *be = srv->be;

	srv->admin &= ~(unsigned)SRV_ADMF_FMAINT;
	if (srv->admin & SRV_ADMF_MAINT)
		return;   /* still in maintenance for another reason */
	srv->last_change_ms = now_ms();
	/* checks start again from the bottom of the healthy range; without
	 * checks the server is simply up */
	if (srv->c.ck.enabled)
		srv->check.health = srv->c.ck.rise;
	if (srv->state == SRV_ST_STOPPED)
		srv->state = SRV_ST_RUNNING;
	if (srv->down_since_ms) {
		srv->downtime_ms += srv->last_change_ms - srv->down_since_ms;
		srv->down_since_ms = 0;
	}
	lb_server_changed(srv);
	backend_serve_queues(be);
	log_event(be, LOGL_NOTICE, DIAG_WARNING, "%sServer %s/%s is %s (leaving forced maintenance).", prefix(srv),
	          be->id, srv->id, (srv->admin & SRV_ADMF_DRAIN) ? "UP/DRAIN" : "UP/READY");
}

/* Every change below is made under the backend lock: the admin socket runs
 * on thread 0, the stats page on any thread, and the data path of every
 * thread reads the servers' state and weights under that lock. */
void srv_adm_set_state(struct server *srv, enum srv_adm_state st)
{
	struct proxy *be = srv->be;

	be_lock(be);
	switch (st) {
	case SRV_ADM_MAINT:
		if (!(srv->admin & SRV_ADMF_FMAINT))
			enter_maint(srv);
		break;
	case SRV_ADM_DRAIN:
		if (srv->admin & SRV_ADMF_FMAINT)
			leave_maint(srv);
		if (!(srv->admin & SRV_ADMF_FDRAIN)) {
			srv->admin |= SRV_ADMF_FDRAIN;
			apply_weight(srv);
			int requeued = srv_requeue(srv);
			backend_serve_queues(be);
			log_event(be, LOGL_NOTICE, DIAG_WARNING, "%sServer %s/%s enters drain state. %d active and %d backup "
			          "servers online. %d sessions requeued, %d total in queue.", prefix(srv), be->id, srv->id,
			          be->srv_act, be->srv_bck, requeued, be->nb_queued);
		}
		break;
	case SRV_ADM_READY:
		if (srv->admin & SRV_ADMF_FMAINT)
			leave_maint(srv);
		if (srv->admin & SRV_ADMF_FDRAIN) {
			srv->admin &= ~(unsigned)SRV_ADMF_FDRAIN;
			apply_weight(srv);
			backend_serve_queues(be);
			log_event(be, LOGL_NOTICE, DIAG_WARNING, "%sServer %s/%s is UP (leaving forced drain).", prefix(srv),
			          be->id, srv->id);
		}
		break;
	}
	be_unlock(be);
}

int srv_adm_set_weight(struct server *srv, const char *arg, char *err, size_t errlen)
{
	char *end;
	long w = strtol(arg, &end, 10);
	int relative = *end == '%';

	if (end == arg || (*end && !(relative && !end[1]))) {
		snprintf(err, errlen, "Require <weight> or <weight%%>.\n");
		return -1;
	}
	if (relative) {
		if (w < 0) {
			snprintf(err, errlen, "Relative weight must be positive.\n");
			return -1;
		}
		w = (long)srv->c.weight * w / 100;
		if (w > 256)
			w = 256;
	} else if (w < 0 || w > 256) {
		snprintf(err, errlen, "Absolute weight can only be between 0 and 256 inclusive.\n");
		return -1;
	}
	if (!srv->be->c.lb->dynamic && w != 0 && w != srv->c.weight) {
		snprintf(err, errlen, "Backend is using a static LB algorithm and only accepts weights '0%%' and "
		         "'100%%'.\n");
		return -1;
	}
	be_lock(srv->be);
	srv->uweight = (int)w;
	apply_weight(srv);
	backend_serve_queues(srv->be);
	be_unlock(srv->be);
	return 0;
}

int srv_adm_set_health(struct server *srv, const char *arg, char *err, size_t errlen)
{
	const struct chk_conf *ck = &srv->c.ck;

	if (!strcmp(arg, "up")) {
		srv->check.health = ck->rise + ck->fall - 1;
		if (srv->state != SRV_ST_RUNNING)
			srv_set_up(srv, 0);
	} else if (!strcmp(arg, "stopping")) {
		if (srv->state != SRV_ST_STOPPING)
			srv_set_stopping(srv);
	} else if (!strcmp(arg, "down")) {
		srv->check.health = 0;
		if (srv->state != SRV_ST_STOPPED)
			srv_set_down(srv);
	} else {
		snprintf(err, errlen, "'set server <srv> health' expects 'up', 'stopping', or 'down'.\n");
		return -1;
	}
	return 0;
}

void srv_adm_pause_checks(struct server *srv, int paused)
{
	srv->check.paused = paused;
	if (paused && srv->state != SRV_ST_RUNNING) {
		/* unchecked: considered up */
		srv->check.health = srv->c.ck.rise + srv->c.ck.fall - 1;
		srv_set_up(srv, 0);
	}
}

int srv_adm_set_maxconn(struct server *srv, const char *arg, char *err, size_t errlen)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (end == arg || *end || v < 0 || v > 1000000) {
		snprintf(err, errlen, "Invalid value.\n");
		return -1;
	}
	be_lock(srv->be);
	srv->c.maxconn = (int)v;
	backend_serve_queues(srv->be);
	be_unlock(srv->be);
	return 0;
}

int srv_adm_set_addr(struct server *srv, const char *ip, const char *port, char *err, size_t errlen)
{
	return srv_adm_set_addr_by(srv, ip, port, "stats socket command", err, errlen);
}

int srv_adm_set_addr_by(struct server *srv, const char *ip, const char *port, const char *by, char *err,
                        size_t errlen)
{
	struct sockaddr_storage ss;
	char *end;
	long p = addr_port((struct sockaddr *)&srv->addr);

	memset(&ss, 0, sizeof(ss));
	if (port) {
		p = strtol(port, &end, 10);
		if (end == port || *end || p < 1 || p > 65535) {
			snprintf(err, errlen, "Invalid port '%s'.\n", port);
			return -1;
		}
	}
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	if (inet_pton(AF_INET, ip, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)p);
		len = sizeof(*in);
	} else if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
		len = sizeof(*in6);
	} else {
		snprintf(err, errlen, "Invalid addr '%s'.\n", ip);
		return -1;
	}
	char oldh[64], newh[64], msg[512];
	int oldp = addr_port((struct sockaddr *)&srv->addr);
	addr_host_str((struct sockaddr *)&srv->addr, oldh, sizeof(oldh));
	addr_host_str((struct sockaddr *)&ss, newh, sizeof(newh));
	int ip_changed = strcmp(oldh, newh) != 0, port_changed = port && p != oldp;
	size_t n = 0;
	if (ip_changed)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, "IP changed from '%s' to '%s'", oldh, newh);
	else
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, "no need to change the addr");
	if (port_changed)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, ", port changed from '%d' to '%ld'", oldp, p);
	else if (port)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, ", no need to change the port");
	snprintf(msg + n, sizeof(msg) - n, " by '%s'", by ? by : "server-state file");
	be_lock(srv->be);
	srv->addr = ss;
	srv->addrlen = len;
	be_unlock(srv->be);
	/* idle connections still go to the old address: they are dropped,
	 * each thread its own */
	thread_post_all(purge_task, srv, NULL, 0, 0);
	if (by && (ip_changed || port_changed))
		log_event(srv->be, LOGL_NOTICE, DIAG_WARNING, "%s/%s changed its IP from %s to %s by '%s'.",
		          srv->be->id, srv->id, oldh, newh, by);
	/* not an error: the caller prints it as HAProxy does */
	snprintf(err, errlen, "%s\n", msg);
	return 1;
}

static void shutdown_task(struct thread_ctx *th, struct th_task *t)
{
	struct server *srv = t->p1;
	struct stream *s, *tmp;

	list_for_each_safe(s, tmp, &th->streams, list) {
		if (s->srv != srv || !(s->flags & SF_ASSIGNED))
			continue;
		stream_set_term(s, TERM_KILLED, PHASE_DATA);
		s->flags |= SF_KILL;
		stream_wake(s);
	}
}

int srv_adm_shutdown_sessions(struct server *srv)
{
	/* the streams it serves, on all threads: each thread kills its own */
	int n = srv->served;

	thread_post_all(shutdown_task, srv, NULL, 0, 0);
	return n;
}
