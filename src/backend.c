/* Server side of a stream: backend choice, server assignment, queue,
 * connection (reused or new), retries with HAProxy's turn-around delay. */
#include <string.h>

#include <proxyd/backend.h>
#include <proxyd/conn.h>
#include <proxyd/global.h>
#include <proxyd/http_ana.h>
#include <proxyd/lb.h>
#include <proxyd/logformat.h>
#include <proxyd/proxy.h>
#include <proxyd/rules.h>
#include <proxyd/log.h>
#include <proxyd/server.h>
#include <proxyd/stick_table.h>
#include <proxyd/stream.h>
#include <proxyd/thread.h>

void stream_srv_io_cb(struct ev_loop *loop, ev_io *w, int revents);

struct proxy *backend_select(struct stream *s)
{
	struct switching_rule *r;

	list_for_each(r, &s->fe->switching_rules, list) {
		if (!cond_exec(r->cond, s->fe, s))
			continue;
		if (!r->dyn)
			return r->be;
		/* a name built from the request: an unknown one, or a backend of
		 * another mode, falls through to the next rule (as HAProxy) */
		char name[256];
		size_t n = logformat_build(r->dyn, s, name, sizeof(name) - 1, LF_EMPTY_MISSING);
		name[n] = 0;
		struct proxy *be = proxy_find(name, PR_CAP_BE);
		if (be && (be->c.mode == s->fe->c.mode || s->fe->c.mode != PR_MODE_HTTP))
			return be;
	}
	return s->fe->defbe;
}

void backend_attach(struct stream *s, struct proxy *be)
{
	s->be = be;
	be->beconn++;
	if (be->beconn > be->be_max)
		be->be_max = be->beconn;
	s->flags |= SF_BE_ASSIGNED;
	be->be_counters[s->th->tid].cum_sess++;
	s->conn_retries = be->c.retries;
}

/* The server side cannot be served: an HTTP stream answers <status>, a TCP
 * one is closed. The termination code was set by the caller. */
static void srv_side_failed(struct stream *s, enum http_err err)
{
	s->flags &= ~SF_SRV_WANTED;
	s->step = SS_CLOSED;
	if ((s->flags & SF_HTTP) && !(s->flags & SF_TUNNEL))
		http_error(s, err, NULL);
	else
		s->flags |= SF_KILL;
	s->progress++;
}

/* Counts <srv> as serving the stream, without the balancer's lbtot. */
static void assign_direct(struct stream *s, struct server *srv)
{
	s->srv = srv;
	srv->served++;
	if (srv->served > srv->max_served)
		srv->max_served = srv->served;
	s->flags |= SF_ASSIGNED;
	srv->counters[s->th->tid].cum_sess++;
	lb_take(srv);
}

/* The balancer chose <srv>. */
static void assign(struct stream *s, struct server *srv)
{
	assign_direct(s, srv);
	srv->counters[s->th->tid].lbtot++;
	s->be->be_counters[s->th->tid].lbtot++;
}

/* The backend queue's limit: the sum of the servers' maxqueue, unlimited
 * (0) as soon as one usable server has none. */
static int queue_limit(const struct proxy *be)
{
	const struct server *srv;
	int sum = 0;

	list_for_each(srv, &be->servers, list) {
		if (!srv_usable(srv))
			continue;
		if (!srv->c.maxqueue)
			return 0;
		sum += srv->c.maxqueue;
	}
	return sum;
}

/* Waits for a slot: on <srv> when the stream must go to that very server
 * (hashing, persistence), else on any server of the backend. */
static void enqueue(struct stream *s, struct server *srv)
{
	struct proxy *be = s->be;
	uint64_t now = th_now_ms(s->th);
	int to = be->c.to[TO_QUEUE] ? be->c.to[TO_QUEUE] : be->c.to[TO_CONNECT];
	int full = srv ? (srv->c.maxqueue && srv->nb_queued >= srv->c.maxqueue)
	               : (queue_limit(be) && be->nb_queued >= queue_limit(be));

	if (full) {
		stream_set_term(s, TERM_SRV_TO, PHASE_QUEUE);
		s->why = "queue full (maxqueue)";
		srv_side_failed(s, HTTP_ERR_503);
		return;
	}
	s->queue_idx = srv ? srv->queue_idx : be->queue_idx;
	if (srv) {
		list_append(&srv->queue, &s->queue_el);
		srv->nb_queued++;
		s->srv = srv;
		lb_take(srv);   /* leastconn counts waiting streams too */
	} else {
		list_append(&be->queue, &s->queue_el);
	}
	s->queue_srv = srv;
	be->nb_queued++;
	if (be->nb_queued > be->max_queued)
		be->max_queued = be->nb_queued;
	s->flags |= SF_IN_QUEUE;
	s->step = SS_QUEUED;
	s->t_step = now;
	s->exp_step = to ? now + (uint64_t)to : 0;
}

/* Leaving a queue, for whatever reason: as HAProxy, the log's position is
 * one more than the number of streams that queue served meanwhile. */
void backend_dequeue(struct stream *s)
{
	if (!(s->flags & SF_IN_QUEUE))
		return;
	list_del_init(&s->queue_el);
	s->be->nb_queued--;
	if (s->queue_srv)
		s->srv_queue_pos += (int)(s->queue_srv->queue_idx - s->queue_idx) + 1;
	else
		s->be_queue_pos += (int)(s->be->queue_idx - s->queue_idx) + 1;
	if (s->queue_srv) {
		s->queue_srv->nb_queued--;
		lb_drop(s->queue_srv);
		s->queue_srv = NULL;
	}
	s->flags &= ~SF_IN_QUEUE;
}

/* The time spent in the queue, for the log's %Tw: set when the stream
 * leaves the queue or first tries to connect. */
static void left_queue(struct stream *s, uint64_t now)
{
	if (!s->t_queue_end)
		s->t_queue_end = now;
	if (s->txn && !s->txn->t_queue)
		s->txn->t_queue = now;
}

/* A slot is free on <srv>: it goes to the stream that has waited longest,
 * in that server's own queue or in its backend's. */
static void serve_queues(struct server *srv)
{
	struct proxy *be = srv->be;

	while (!srv_full(srv) && srv_usable(srv)) {
		struct stream *a = list_empty(&srv->queue) ? NULL : list_first(&srv->queue, struct stream, queue_el);
		struct stream *b = list_empty(&be->queue) || !lb_eligible(be, srv) ? NULL :
		                   list_first(&be->queue, struct stream, queue_el);
		struct stream *w = a && (!b || a->t_step <= b->t_step) ? a : b;
		if (!w)
			break;
		backend_dequeue(w);
		if (w == a)
			srv->queue_idx++;
		else
			be->queue_idx++;
		assign(w, srv);
		w->step = SS_NONE;
		w->exp_step = 0;
		left_queue(w, th_now_ms(w->th));
		stream_wake(w);
	}
}

void backend_serve_queues(struct proxy *be)
{
	struct server *srv;

	list_for_each(srv, &be->servers, list)
		if (!list_empty(&srv->queue) || !list_empty(&be->queue))
			serve_queues(srv);
}

void backend_release_slot(struct stream *s)
{
	if (!(s->flags & SF_ASSIGNED))
		return;
	if (s->log_flags & SLOG_CUR_SESS) {
		s->log_flags &= (unsigned char)~SLOG_CUR_SESS;
		s->srv->cur_sess--;
	}
	s->flags &= ~SF_ASSIGNED;
	s->srv->served--;
	lb_drop(s->srv);
	serve_queues(s->srv);
}

void backend_queue_expired(struct stream *s)
{
	left_queue(s, th_now_ms(s->th));
	backend_dequeue(s);
	stream_set_term(s, TERM_SRV_TO, PHASE_QUEUE);
	s->why = "queue timeout";
	srv_side_failed(s, HTTP_ERR_503);
}

/* May this request take an idle connection other than its own? */
static enum idle_pick idle_policy(const struct stream *s)
{
	switch (s->be->c.reuse) {
	case HTTP_REUSE_ALWAYS:
		return IDLE_PICK_ANY;
	case HTTP_REUSE_AGGRESSIVE:
		return (s->flags & SF_NOT_FIRST) ? IDLE_PICK_ANY : IDLE_PICK_PROVEN;
	case HTTP_REUSE_SAFE:
		/* a first request must not risk an idle connection the server
		 * may be closing: the client could not tell a retry is safe */
		return (s->flags & SF_NOT_FIRST) ? IDLE_PICK_ANY : IDLE_PICK_OWN;
	case HTTP_REUSE_NEVER:
	default:
		return IDLE_PICK_OWN;
	}
}

static void connect_server(struct stream *s)
{
	struct thread_ctx *th = s->th;
	struct server *srv = s->srv;
	struct proxy *be = s->be;
	uint64_t now = th_now_ms(th);
	struct conn *c = NULL;

	left_queue(s, now);
	/* the log's %sc counts the streams that reached this step, as
	 * HAProxy's (assigned ones still waiting to run are not counted) */
	if (!(s->log_flags & SLOG_CUR_SESS)) {
		s->log_flags |= SLOG_CUR_SESS;
		srv->cur_sess++;
	}
	if ((s->flags & SF_HTTP) && !(s->flags & SF_NO_RETRY) && !(s->flags & SF_TUNNEL))
		c = srv_take_idle(srv, th, s->last_conn, idle_policy(s));
	if (c) {
		c->owner = s;
		ev_set_cb(&c->io, stream_srv_io_cb);
		s->sc = c;
		s->step = SS_ESTABLISHED;
		s->t_srv_act = now;
		s->t_connect = now;
		if (s->txn)
			s->txn->t_connect = now;
		srv->counters[th->tid].reuse++;
		be->be_counters[th->tid].reuse++;
		s->progress++;
		return;
	}

	c = pool_alloc(&th->pool_conn);
	if (!c) {
		stream_set_term(s, TERM_RESOURCE, PHASE_CONN);
		srv_side_failed(s, HTTP_ERR_503);
		return;
	}
	conn_init(c, -1, s, stream_srv_io_cb, &xprt_raw);
	c->srv = srv;
	c->flags |= CO_FL_SERVER;
	srv->counters[th->tid].connect++;
	be->be_counters[th->tid].connect++;
	s->sc = c;
	if (conn_connect(c, (struct sockaddr *)&srv->addr, srv->addrlen) < 0) {
		backend_conn_failed(s, 0);
		return;
	}
	srv->cur_conns++;
	s->t_step = now;
	s->progress++;
	if (c->flags & CO_FL_CONNECTING) {
		s->step = SS_CONNECTING;
		s->exp_step = be->c.to[TO_CONNECT] ? now + (uint64_t)be->c.to[TO_CONNECT] : 0;
	} else {
		s->step = SS_ESTABLISHED;
		s->t_srv_act = now;
		s->t_connect = now;
		if (s->txn)
			s->txn->t_connect = now;
	}
}

void backend_step(struct stream *s)
{
	if (!(s->flags & SF_SRV_WANTED) || s->step != SS_NONE)
		return;

	if ((s->flags & (SF_ASSIGNED | SF_DIRECT)) == SF_DIRECT && s->srv) {
		/* persistence: that very server, waiting for a slot if needed */
		struct server *srv = s->srv;
		if (srv_full(srv)) {
			enqueue(s, srv);
			s->progress++;
			return;
		}
		assign_direct(s, srv);
	}
	if (!(s->flags & SF_ASSIGNED)) {
		struct server *srv = NULL;
		switch (s->be->c.lb->pick(s->be, s, s->prev_srv, &srv)) {
		case LB_NOSRV:
			stream_set_term(s, TERM_SRV_ABORT, PHASE_CONN);
			s->why = "no server available";
			srv_side_failed(s, HTTP_ERR_503);
			return;
		case LB_FULL:
			enqueue(s, NULL);
			s->progress++;
			return;
		case LB_OK:
			if (srv_full(srv)) {
				/* the key says this server: wait for it */
				enqueue(s, srv);
				s->progress++;
				return;
			}
			assign(s, srv);
			break;
		}
	}
	connect_server(s);
}

void backend_connect_event(struct stream *s)
{
	int rc = conn_connect_done(s->sc);

	if (rc > 0)
		return;
	if (rc < 0) {
		backend_conn_failed(s, 0);
		return;
	}
	uint64_t now = th_now_ms(s->th);
	s->step = SS_ESTABLISHED;
	s->exp_step = 0;
	s->t_srv_act = now;
	if (!(s->flags & SF_HTTP)) {
		stick_store(s);   /* TCP: no response head to wait for */
		if (s->fe->c.options & PR_O_LOGASAP) {
			s->log_flags |= SLOG_ASAP;
			log_tcp_end(s);
		}
	}
	s->t_connect = now;
	if (s->txn)
		s->txn->t_connect = now;
	s->progress++;
}

void backend_conn_failed(struct stream *s, int timeout)
{
	struct thread_ctx *th = s->th;
	struct conn *c = s->sc;
	int was_idle = c && (c->flags & CO_FL_WAS_IDLE);
	uint64_t now = th_now_ms(th);

	if (c) {
		log_keep_bsrc(s);
		s->sc = NULL;
		srv_conn_free(th, c);
	}
	s->flags &= ~(SF_SRV_SHUTR | SF_SRV_SHUTW | SF_SRV_ERR | SF_RES_STARTED);
	s->exp_step = 0;
	s->progress++;
	/* the request goes again from its first byte */
	if (s->flags & SF_REQ_KEPT)
		s->req_out = s->req.start;

	if (was_idle) {
		/* a parked connection the server had just closed: not the
		 * server's fault, try a fresh connection at once */
		s->flags |= SF_NO_RETRY;
		s->step = SS_NONE;
		return;
	}
	s->srv->counters[th->tid].failed_conns++;
	s->be->be_counters[th->tid].failed_conns++;
	if (s->conn_retries > 0) {
		struct proxy *be = s->be;
		s->conn_retries--;
		s->srv->counters[th->tid].retries++;
		be->be_counters[th->tid].retries++;
		/* option redispatch <n>: every n-th retry (n > 0) or the n-th last
		 * one (n < 0, -1 being the last) goes to another server */
		int done = be->c.retries - s->conn_retries;
		int n = be->c.redispatch_interval;
		int redispatch = 0;
		if (n && ((n > 0 && done % n == 0) || (n < 0 && s->conn_retries == -n - 1)) &&
		    be->srv_act + be->srv_bck > 1) {
			redispatch = 1;
			s->prev_srv = s->srv;
			backend_release_slot(s);
			s->srv = NULL;
			s->flags &= ~SF_DIRECT;
			be->be_counters[th->tid].redispatches++;
			s->prev_srv->counters[th->tid].redispatches++;
		}
		if (timeout || (redispatch && be->srv_act > 1)) {
			/* another server is tried at once, as HAProxy does */
			s->step = SS_NONE;
		} else {
			/* A refused connection is retried after min(timeout connect,
			 * 1s), as HAProxy, to let a restarting server come back. */
			int to = s->be->c.to[TO_CONNECT];
			s->step = SS_TURNAROUND;
			s->t_step = now;
			s->exp_step = now + (uint64_t)(to && to < 1000 ? to : 1000);
		}
		return;
	}
	stream_set_term(s, timeout ? TERM_SRV_TO : TERM_SRV_ABORT, PHASE_CONN);
	s->why = timeout ? "connect timeout" : "connection refused or failed";
	srv_side_failed(s, HTTP_ERR_503);
}
