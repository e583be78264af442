/* Server side of a stream: backend choice, server assignment, queue,
 * connection (reused or new), retries with HAProxy's turn-around delay. */
#include <string.h>

#include <proxyd/backend.h>
#include <proxyd/conn.h>
#include <proxyd/cookie.h>
#include <proxyd/global.h>
#include <proxyd/http_ana.h>
#include <proxyd/lb.h>
#include <proxyd/live.h>
#include <proxyd/logformat.h>
#include <proxyd/proxy.h>
#include <proxyd/rules.h>
#include <proxyd/log.h>
#include <proxyd/sample.h>
#include <proxyd/server.h>
#include <proxyd/ssl_sock.h>
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
	struct be_live *bl = &be->be_live[s->th->tid];
	uint64_t now = th_now_ms(s->th);
	freq_ctr_inc(&bl->sess, now);
	bl->last_sess_ms = now;
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

/* Counts <srv> as serving the stream, without the balancer's lbtot.
 * Under the backend lock, as everything touching the queues and the
 * servers' counts below. */
static void assign_direct(struct stream *s, struct server *srv)
{
	s->srv = srv;
	srv->served++;
	if (srv->served > srv->max_served)
		srv->max_served = srv->served;
	s->flags |= SF_ASSIGNED;
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
	s->q_direct = !!(s->flags & SF_DIRECT);
	s->q_requeued = 0;
	s->t_enq = now;
	s->in_queue = 1;
	if (srv) {
		list_append(&srv->queue, &s->queue_el);
		if (++srv->nb_queued > srv->max_queued)
			srv->max_queued = srv->nb_queued;
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
 * one more than the number of streams that queue served meanwhile. Touches
 * only what the backend lock protects: another thread may call it. */
static void queue_unlink(struct stream *s)
{
	list_del_init(&s->queue_el);
	s->in_queue = 0;
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
}

/* Its own thread sees the stream out of the queue. */
static void queue_left(struct stream *s)
{
	s->flags &= ~SF_IN_QUEUE;
	if (s->q_requeued) {
		/* its server went down meanwhile (srv_requeue()) */
		s->q_requeued = 0;
		s->srv = NULL;
		s->flags &= ~SF_DIRECT;   /* balanced now: it gets the new server's cookie */
	}
}

static void serve_queues(struct server *srv);

void backend_dequeue(struct stream *s)
{
	if (!(s->flags & SF_IN_QUEUE))
		return;
	be_lock(s->be);
	if (s->in_queue) {
		queue_unlink(s);
	} else if (s->granted) {
		/* another thread reserved a slot the stream will not take:
		 * given back, to the next one waiting */
		struct server *srv = s->granted;
		s->granted = NULL;
		srv->served--;
		lb_drop(srv);
		serve_queues(srv);
	}
	be_unlock(s->be);
	queue_left(s);
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

	/* a draining or NOLB server still serves the streams that wait for it
	 * in particular (persistence), only not the backend's queue */
	while (!srv_full(srv) && !(srv->admin & SRV_ADMF_MAINT) && srv->state != SRV_ST_STOPPED) {
		struct stream *a = list_empty(&srv->queue) ? NULL : list_first(&srv->queue, struct stream, queue_el);
		struct stream *b = list_empty(&be->queue) || !lb_eligible(be, srv) ? NULL :
		                   list_first(&be->queue, struct stream, queue_el);
		struct stream *w = a && (!b || a->t_enq <= b->t_enq) ? a : b;
		if (!w)
			break;
		queue_unlink(w);
		if (w == a)
			srv->queue_idx++;
		else
			be->queue_idx++;
		if (w->th != curr_th) {
			/* its thread takes the slot reserved here */
			srv->served++;
			if (srv->served > srv->max_served)
				srv->max_served = srv->served;
			lb_take(srv);
			w->granted = srv;
			stream_wake(w);
			continue;
		}
		queue_left(w);
		if (w->q_direct)
			assign_direct(w, srv);   /* persistence, not the balancer */
		else
			assign(w, srv);
		w->step = SS_NONE;
		w->exp_step = 0;
		left_queue(w, th_now_ms(w->th));
		stream_wake(w);
	}
}

void backend_adopt_grant(struct stream *s)
{
	struct server *srv;

	if (!(s->flags & SF_IN_QUEUE))
		return;
	be_lock(s->be);
	srv = s->granted;
	s->granted = NULL;
	be_unlock(s->be);
	if (!srv)
		return;   /* still waiting */
	queue_left(s);
	s->srv = srv;
	s->flags |= SF_ASSIGNED;
	if (!(s->flags & SF_DIRECT)) {
		srv->counters[s->th->tid].lbtot++;
		s->be->be_counters[s->th->tid].lbtot++;
	}
	s->step = SS_NONE;
	s->exp_step = 0;
	left_queue(s, th_now_ms(s->th));
}

void backend_serve_queues(struct proxy *be)
{
	struct server *srv;

	be_lock(be);
	list_for_each(srv, &be->servers, list)
		if (!list_empty(&srv->queue) || !list_empty(&be->queue))
			serve_queues(srv);
	be_unlock(be);
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
	be_lock(s->srv->be);
	s->srv->served--;
	lb_drop(s->srv);
	serve_queues(s->srv);
	be_unlock(s->srv->be);
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

/* The server connection is up, at once (unix sockets) or after a wait. */
static void established(struct stream *s, uint64_t now)
{
	s->step = SS_ESTABLISHED;
	s->exp_step = 0;
	s->t_srv_act = now;
	s->t_connect = now;
	if (s->txn)
		s->txn->t_connect = now;
	if (!(s->flags & SF_HTTP)) {
		stick_store(s);   /* TCP: no response head to wait for */
		if (s->fe->c.options & PR_O_LOGASAP) {
			s->log_flags |= SLOG_ASAP;
			log_tcp_end(s);
		}
	}
}

void backend_keep_sni(struct stream *s)
{
	const struct sample_expr *e = s->be->sni_expr;
	struct sample smp;

	s->sni_expr = NULL;
	s->sni = NULL;
	s->sni_len = 0;
	if (!e || !s->txn)
		return;
	s->sni_expr = e;
	memset(&smp, 0, sizeof(smp));
	if (!sample_process(e, s, &smp) || !sample_cast(&smp, SMP_T_STR) || !smp.data.str.len)
		return;
	struct http_msg *m = &s->txn->req;
	if (*m->arena_used + smp.data.str.len > m->arena_size)
		return;
	char *copy = m->arena + *m->arena_used;
	*m->arena_used += (uint32_t)smp.data.str.len;
	memcpy(copy, smp.data.str.ptr, smp.data.str.len);
	s->sni = copy;
	s->sni_len = (uint32_t)smp.data.str.len;
}

/* The SNI to send to a TLS server ("sni" expression), and its hash: idle
 * connections are only reused for requests that would send the same. */
static uint32_t server_sni(struct stream *s, struct server *srv, const char **sni, size_t *len)
{
	const struct srv_ssl_conf *sc = srv->c.ssl;
	struct sample smp;
	uint32_t h = 2166136261u;

	*sni = NULL;
	*len = 0;
	if (!srv->ssl || !srv->ssl->use_ssl || !sc || !sc->sni)
		return 0;
	if (s->sni_expr && (sc->sni == s->sni_expr || strcmp(sc->sni_text, s->be->sni_text) == 0)) {
		if (!s->sni_len)
			return 0;
		*sni = s->sni;
		*len = s->sni_len;
	} else {
		/* another expression: connection data only at this point */
		memset(&smp, 0, sizeof(smp));
		if (!sample_process(sc->sni, s, &smp) || !sample_cast(&smp, SMP_T_STR) || !smp.data.str.len)
			return 0;
		*sni = smp.data.str.ptr;
		*len = smp.data.str.len;
	}
	for (size_t i = 0; i < *len; i++)
		h = (h ^ (unsigned char)(*sni)[i]) * 16777619u;   /* FNV-1a */
	return h ? h : 1;
}

static void connect_server(struct stream *s)
{
	struct thread_ctx *th = s->th;
	struct server *srv = s->srv;
	struct proxy *be = s->be;
	uint64_t now = th_now_ms(th);
	struct conn *c = NULL;
	struct srv_live *sl = &srv->live[th->tid];
	const char *sni;
	size_t sni_len;
	uint32_t sni_hash = server_sni(s, srv, &sni, &sni_len);

	/* as HAProxy, a server's sessions count the connection attempts,
	 * retries included */
	srv->counters[th->tid].cum_sess++;
	freq_ctr_inc(&sl->sess, now);
	sl->last_sess_ms = now;
	left_queue(s, now);
	/* the log's %sc counts the streams that reached this step, as
	 * HAProxy's (assigned ones still waiting to run are not counted) */
	if (!(s->log_flags & SLOG_CUR_SESS)) {
		s->log_flags |= SLOG_CUR_SESS;
		srv->cur_sess++;
	}
	if ((s->flags & SF_HTTP) && !(s->flags & SF_NO_RETRY) && !(s->flags & SF_TUNNEL))
		c = srv_take_idle(srv, th, s->last_conn, idle_policy(s), sni_hash);
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
	const struct sockaddr *sa = (const struct sockaddr *)&srv->addr;
	socklen_t salen = srv->addrlen;
	struct sockaddr_storage copy;
	if (threads_multi()) {
		/* "set server addr" may change it meanwhile (under this lock) */
		be_lock(be);
		copy = srv->addr;
		salen = srv->addrlen;
		be_unlock(be);
		sa = (const struct sockaddr *)&copy;
	}
	if (conn_connect(c, sa, salen) < 0) {
		backend_conn_failed(s, 0);
		return;
	}
	srv->cur_conns++;
	s->t_step = now;
	s->progress++;
	if (srv->ssl && srv->ssl->use_ssl) {
		c->sni_hash = sni_hash;
		if (ssl_sock_connect(c, srv, srv->ssl->ctx, sni, sni_len, !srv->c.ssl->no_reuse) < 0) {
			stream_set_term(s, TERM_RESOURCE, PHASE_CONN);
			s->why = "out of memory for a TLS connection";
			srv_side_failed(s, HTTP_ERR_503);
			return;
		}
	}
	if (c->flags & (CO_FL_CONNECTING | CO_FL_HANDSHAKE)) {
		s->step = SS_CONNECTING;
		s->exp_step = be->c.to[TO_CONNECT] ? now + (uint64_t)be->c.to[TO_CONNECT] : 0;
	} else {
		established(s, now);
	}
}

void backend_step(struct stream *s)
{
	if (!(s->flags & SF_SRV_WANTED) || s->step != SS_NONE)
		return;

	struct proxy *be = s->be;
	be_lock(be);
	if ((s->flags & (SF_ASSIGNED | SF_DIRECT)) == SF_DIRECT && s->srv) {
		/* persistence: that very server, waiting for a slot if needed */
		struct server *srv = s->srv;
		if (srv_full(srv)) {
			enqueue(s, srv);
			be_unlock(be);
			s->progress++;
			return;
		}
		assign_direct(s, srv);
	}
	if (!(s->flags & SF_ASSIGNED)) {
		struct server *srv = NULL;
		switch (be->c.lb->pick(be, s, s->prev_srv, &srv)) {
		case LB_NOSRV:
			be_unlock(be);
			stream_set_term(s, TERM_SRV_ABORT, PHASE_CONN);
			s->why = "no server available";
			srv_side_failed(s, HTTP_ERR_503);
			return;
		case LB_FULL:
			enqueue(s, NULL);
			be_unlock(be);
			s->progress++;
			return;
		case LB_OK:
			if (s->prev_srv && srv != s->prev_srv)
				cookie_server_changed(s);
			if (srv_full(srv)) {
				/* the key says this server: wait for it */
				enqueue(s, srv);
				be_unlock(be);
				s->progress++;
				return;
			}
			assign(s, srv);
			break;
		}
	}
	be_unlock(be);
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
	struct conn *c = s->sc;
	if (c->flags & CO_FL_HANDSHAKE) {
		/* TLS towards the server: part of the connection, under
		 * "timeout connect" */
		rc = ssl_sock_handshake(c);
		if (rc == 0)
			return;
		struct server *srv = s->srv;
		int tid = s->th->tid;
		if (rc < 0) {
			/* the session offered may be why: forget it */
			if (srv->ssl->pt[tid].sess) {
				SSL_SESSION_free(srv->ssl->pt[tid].sess);
				srv->ssl->pt[tid].sess = NULL;
			}
			srv->counters[tid].ssl_failed_hs++;
			s->why = "TLS handshake with the server failed";
			backend_conn_failed(s, 0);
			return;
		}
		srv->counters[tid].ssl_sess++;
		if (SSL_session_reused(c->xprt_ctx))
			srv->counters[tid].ssl_reused++;
	}
	established(s, th_now_ms(s->th));
	s->progress++;
}

/* Picks servers in turn, so that any other one will do after a failure? */
/* After a failed connection, with retries left: does the next attempt go
 * to another server (option redispatch)? As HAProxy's
 * stream_choose_redispatch(): never under force-persist; at once when the
 * server is down (option persist or force-persist sent the request there)
 * or when an algorithm without a key chose it among several servers;
 * else on the retries the interval designates (n > 0: every n-th, n < 0:
 * the n-th last). As HAProxy 2.6, the first two hold with any interval,
 * even "option redispatch 0". */
static int redispatch_now(const struct stream *s)
{
	const struct proxy *be = s->be;
	const struct server *srv = s->srv;
	int n = be->c.redispatch_interval;
	int done = be->c.retries - s->conn_retries;

	if (!(be->c.options & PR_O_REDISP) || (s->flags & SF_FORCE_PERSIST))
		return 0;
	if ((srv->admin & SRV_ADMF_MAINT) || srv->state == SRV_ST_STOPPED || srv->state == SRV_ST_STARTING)
		return 1;
	if (n > 0 && done % n == 0)
		return 1;
	if (n < 0 && be->c.retries + 1 + n > 0 && done % (be->c.retries + 1 + n) == 0)
		return 1;
	return !(s->flags & SF_DIRECT) && be->srv_act > 1 && !be->c.lb->hashed;
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
	if (s->conn_retries > 0) {
		struct proxy *be = s->be;
		s->conn_retries--;
		s->srv->counters[th->tid].retries++;
		be->be_counters[th->tid].retries++;
		int redispatch = redispatch_now(s);
		if (redispatch) {
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
			 * 1s), as HAProxy, to let a restarting server come back; not
			 * when another server is tried. */
			int to = s->be->c.to[TO_CONNECT];
			s->step = SS_TURNAROUND;
			s->t_step = now;
			s->exp_step = now + (uint64_t)(to && to < 1000 ? to : 1000);
		}
		return;
	}
	/* econ counts the requests that could not connect at all, as
	 * HAProxy: the attempts before are in wretr */
	s->srv->counters[th->tid].failed_conns++;
	s->be->be_counters[th->tid].failed_conns++;
	stream_set_term(s, timeout ? TERM_SRV_TO : TERM_SRV_ABORT, PHASE_CONN);
	s->why = timeout ? "connect timeout" : "connection refused or failed";
	srv_side_failed(s, HTTP_ERR_503);
}
