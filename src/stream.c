/* Streams: one client connection's life through the proxy.
 *
 * Every event (client or server socket, timer, queue wake-up) ends in
 * stream_process(), which runs the steps in the order data travels —
 * request analysis, server side, request forwarding, response analysis,
 * response forwarding, end of transaction — until none makes progress,
 * then subscribes to exactly the socket events the new state needs and
 * arms the timer for the nearest deadline. A stream is freed in one place
 * only, at the end of stream_process(), once every watcher is stopped.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <proxyd/backend.h>
#include <proxyd/diag.h>
#include <proxyd/global.h>
#include <proxyd/http_ana.h>
#include <proxyd/lb.h>
#include <proxyd/listener.h>
#include <proxyd/live.h>
#include <proxyd/log.h>
#include <proxyd/persist.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>
#include <proxyd/ssl_sock.h>
#include <proxyd/stick_table.h>
#include <proxyd/stream.h>
#include <proxyd/thread.h>
#include <proxyd/vars.h>

/* How long a closing client connection is drained after our last byte, so
 * that unread request bytes do not turn the close into a reset that would
 * destroy the response in flight. */
#define LINGER_MS 1000

static void cli_io_cb(struct ev_loop *loop, ev_io *w, int revents);
static void stream_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);


/*------------------------------------------------------------------------
 * Buffers
 */
int stream_buf_alloc(struct stream *s, struct buf *b)
{
	if (b->area)
		return 1;
	b->area = pool_alloc(&s->th->pool_buf);
	if (!b->area)
		return 0;
	b->size = (uint32_t)global.bufsize;
	b->start = b->end = 0;
	return 1;
}

void stream_buf_release(struct stream *s, struct buf *b)
{
	if (b->area) {
		pool_free(&s->th->pool_buf, b->area);
		b->area = NULL;
	}
	b->size = b->start = b->end = 0;
}

static uint32_t sub_clamp(uint32_t v, uint32_t shift)
{
	return v > shift ? v - shift : 0;
}

void stream_req_compact(struct stream *s)
{
	uint32_t shift = buf_compact(&s->req);

	if (!shift)
		return;
	s->req_out = sub_clamp(s->req_out, shift);
	s->req_fwd = sub_clamp(s->req_fwd, shift);
	if (s->txn) {
		s->txn->req.next = sub_clamp(s->txn->req.next, shift);
		s->txn->req.sol = sub_clamp(s->txn->req.sol, shift);
	}
}

void stream_res_compact(struct stream *s)
{
	uint32_t shift = buf_compact(&s->res);

	if (!shift)
		return;
	s->res_fwd = sub_clamp(s->res_fwd, shift);
	if (s->txn) {
		s->txn->rsp.next = sub_clamp(s->txn->rsp.next, shift);
		s->txn->rsp.sol = sub_clamp(s->txn->rsp.sol, shift);
	}
}

/*------------------------------------------------------------------------
 * Socket I/O
 */

/* How many request bytes may be read now: while a request head is being
 * collected, the last tune.maxrewrite bytes stay free for its rewrite. */
static uint32_t req_read_limit(const struct stream *s)
{
	if ((s->flags & SF_HTTP) && !(s->flags & SF_TUNNEL) &&
	    (!s->txn || s->txn->req.state <= HTTP_MSG_HDRS))
		return s->req.size - (uint32_t)global.maxrewrite;
	return s->req.size;
}

static void cli_recv(struct stream *s)
{
	struct buf *b = &s->req;

	if (!stream_buf_alloc(s, b))
		return;   /* retried when memory comes back (next event) */
	if (b->end >= req_read_limit(s)) {
		/* A request body larger than the buffer cannot be kept for a
		 * retry: give up that possibility to make room. */
		if ((s->flags & SF_REQ_KEPT) && s->req_out > b->start) {
			s->flags &= ~SF_REQ_KEPT;
			s->flags |= SF_NO_RETRY;
			b->start = s->req_out;
		}
		stream_req_compact(s);
		if (b->end >= req_read_limit(s))
			return;
	}
	ssize_t n = conn_recv(&s->cli, b->area + b->end, req_read_limit(s) - b->end);
	if (n > 0) {
		b->end += (uint32_t)n;
		s->t_cli_act = th_now_ms(s->th);
		s->fe->fe_counters[s->th->tid].bytes_in += (uint64_t)n;
		s->bytes_in += (uint64_t)n;
		s->acc_in += (uint64_t)n;
		if (s->txn)
			s->txn->bytes_in += (uint64_t)n;
		if (s->flags & SF_TUNNEL)
			s->req_fwd = b->end;
		s->progress++;
	} else if (n == 0) {
		s->flags |= SF_CLI_SHUTR;
		s->progress++;
	} else if (n == -2) {
		s->flags |= SF_CLI_ERR | SF_CLI_SHUTR;
		s->progress++;
	}
}

static void srv_recv(struct stream *s)
{
	struct buf *b = &s->res;

	if (!s->sc || !conn_is_open(s->sc) || (s->flags & SF_SRV_SHUTR) || s->step != SS_ESTABLISHED)
		return;
	if (!stream_buf_alloc(s, b))
		return;
	uint32_t limit = b->size;
	if ((s->flags & SF_HTTP) && !(s->flags & SF_TUNNEL) && s->txn && s->txn->rsp.state <= HTTP_MSG_HDRS)
		limit -= (uint32_t)global.maxrewrite;
	if (b->end >= limit) {
		stream_res_compact(s);
		if (b->end >= limit)
			return;
	}
	ssize_t n = conn_recv(s->sc, b->area + b->end, limit - b->end);
	if (n > 0) {
		b->end += (uint32_t)n;
		s->t_srv_act = th_now_ms(s->th);
		s->flags |= SF_RES_STARTED;
		if (s->flags & SF_TUNNEL)
			s->res_fwd = b->end;
		s->progress++;
	} else if (n == 0) {
		s->flags |= SF_SRV_SHUTR;
		s->progress++;
	} else if (n == -2) {
		s->flags |= SF_SRV_ERR | SF_SRV_SHUTR;
		s->progress++;
	}
}

/* Sends response bytes [start, res_fwd) to the client. */
static void cli_send(struct stream *s)
{
	struct buf *b = &s->res;

	if (!b->area || s->res_fwd <= b->start || !conn_is_open(&s->cli))
		return;
	if (s->flags & SF_CLI_ERR) {
		/* a reset client: what is left for it can never be sent (as
		 * HAProxy, a request still waits for its response before this) */
		stream_set_term(s, TERM_CLI_ABORT, PHASE_DATA);
		s->flags |= SF_KILL;
		return;
	}
	ssize_t n = conn_send(&s->cli, b->area + b->start, s->res_fwd - b->start);
	if (n > 0) {
		b->start += (uint32_t)n;
		s->t_cli_act = th_now_ms(s->th);
		s->fe->fe_counters[s->th->tid].bytes_out += (uint64_t)n;
		s->bytes_out += (uint64_t)n;
		s->acc_out += (uint64_t)n;
		if (s->txn)
			s->txn->bytes_out += (uint64_t)n;
		if (b->start == b->end)
			stream_res_compact(s);
		s->progress++;
	} else if (n == -2) {
		s->flags |= SF_CLI_ERR | SF_CLI_SHUTR;
		stream_set_term(s, TERM_CLI_ABORT, PHASE_DATA);
		s->progress++;
	}
}

/* Sends request bytes [req_out, req_fwd) to the server. */
static void srv_send(struct stream *s)
{
	struct buf *b = &s->req;

	if (!s->sc || s->step != SS_ESTABLISHED || !b->area || s->req_fwd <= s->req_out ||
	    (s->flags & (SF_SRV_ERR | SF_SRV_SHUTW)))
		return;
	ssize_t n = conn_send(s->sc, b->area + s->req_out, s->req_fwd - s->req_out);
	if (n > 0) {
		s->req_out += (uint32_t)n;
		s->t_srv_act = th_now_ms(s->th);
		if (!(s->flags & SF_REQ_KEPT))
			b->start = s->req_out;
		if (b->start == b->end)
			stream_req_compact(s);
		s->progress++;
	} else if (n == -2) {
		s->flags |= SF_SRV_ERR;
		s->progress++;
	}
}

/* As HAProxy, bytes go to the backend and server the stream has when
 * they are counted, which is at the end of each processing: the request
 * head read before the backend was chosen still counts for it. */
void stream_flush_counters(struct stream *s)
{
	uint64_t in = s->acc_in - s->acc_in_done, out = s->acc_out - s->acc_out_done;

	if (!(in | out) || !s->be)
		return;
	s->acc_in_done = s->acc_in;
	s->acc_out_done = s->acc_out;
	struct px_counters *bc = &s->be->be_counters[s->th->tid];
	bc->bytes_in += in;
	bc->bytes_out += out;
	if (s->srv) {
		struct px_counters *sc = &s->srv->counters[s->th->tid];
		sc->bytes_in += in;
		sc->bytes_out += out;
	}
}

/*------------------------------------------------------------------------
 * Server connection end
 */
void stream_srv_close(struct stream *s, int reusable)
{
	struct conn *c = s->sc;

	if (c) {
		log_keep_bsrc(s);
		s->sc = NULL;
		if (reusable && conn_is_open(c) && !(c->flags & (CO_FL_ERROR | CO_FL_RD_SHUT | CO_FL_WR_SHUT))) {
			srv_add_idle(c->srv, s->th, c, s->be->c.reuse == HTTP_REUSE_NEVER);
			c->last_stream = s;
			s->last_conn = c;
		} else {
			srv_conn_free(s->th, c);
		}
	}
	s->step = SS_NONE;
	s->flags &= ~(SF_SRV_SHUTR | SF_SRV_SHUTW | SF_SRV_ERR | SF_RES_STARTED);
	backend_release_slot(s);
}

void stream_close_after_send(struct stream *s)
{
	s->flags |= SF_CLOSING;
	s->progress++;
}

/*------------------------------------------------------------------------
 * Tunnels (TCP mode and upgraded HTTP): bytes both ways, shutdowns
 * propagated once the pending bytes are out.
 */
static void tunnel_step(struct stream *s)
{
	if (!(s->flags & SF_TUNNEL))
		return;
	if (s->flags & SF_CLI_ERR) {
		stream_set_term(s, TERM_CLI_ABORT, PHASE_DATA);
		s->flags |= SF_KILL;
		return;
	}
	if (s->flags & SF_SRV_ERR) {
		if (s->step == SS_ESTABLISHED || !(s->flags & SF_HTTP)) {
			stream_set_term(s, TERM_SRV_ABORT, PHASE_DATA);
			s->flags |= SF_KILL;
		}
		return;
	}
	/* client finished sending: pass the half-close to the server */
	if ((s->flags & SF_CLI_SHUTR) && s->step == SS_ESTABLISHED && s->req_out >= s->req.end &&
	    !(s->flags & SF_SRV_SHUTW)) {
		conn_shutw(s->sc);
		s->flags |= SF_SRV_SHUTW;
		s->progress++;
	}
	/* server finished sending: pass it to the client */
	if ((s->flags & SF_SRV_SHUTR) && s->res.start >= s->res.end && !(s->flags & SF_CLI_SHUTW)) {
		conn_shutw(&s->cli);
		s->flags |= SF_CLI_SHUTW;
		s->progress++;
	}
	if ((s->flags & SF_CLI_SHUTW) && (s->flags & (SF_SRV_SHUTW | SF_CLI_SHUTR)) == (SF_SRV_SHUTW | SF_CLI_SHUTR))
		s->flags |= SF_KILL;
	else if ((s->flags & SF_CLI_SHUTW) && (s->flags & SF_CLI_SHUTR))
		s->flags |= SF_KILL;
}

/* After the last response byte of a closing connection: shut our side and
 * drain what the client still sends, for a bounded time. */
static void close_step(struct stream *s)
{
	if (!(s->flags & SF_CLOSING) || (s->flags & SF_LINGER))
		return;
	if (s->flags & SF_CLI_ERR) {
		s->flags |= SF_KILL;   /* a reset client takes nothing more */
		return;
	}
	if (s->res.area && s->res.start < s->res.end)
		return;   /* still sending */
	if (s->flags & (SF_CLI_ERR | SF_CLI_SHUTR)) {
		s->flags |= SF_KILL;
		return;
	}
	conn_shutw(&s->cli);
	s->flags |= SF_LINGER | SF_CLI_SHUTW;
	s->exp_step = th_now_ms(s->th) + LINGER_MS;
	s->progress++;
}

static void linger_drain(struct stream *s)
{
	char tmp[4096];

	for (int i = 0; i < 16; i++) {
		ssize_t n = conn_recv(&s->cli, tmp, sizeof(tmp));
		if (n > 0)
			continue;
		if (n == -1)
			return;
		s->flags |= SF_KILL;   /* EOF or error: done */
		return;
	}
}

/*------------------------------------------------------------------------
 * Client TLS handshake: the stream really starts once it is done.
 */
static void stream_start(struct stream *s);

static void handshake_failed(struct stream *s)
{
	s->fe->fe_counters[s->th->tid].ssl_failed_hs++;
	log_conn_error(s, &s->cli);
	s->flags |= SF_KILL;
}

static void handshake_step(struct stream *s)
{
	int rc = ssl_sock_handshake(&s->cli);

	if (rc == 0)
		return;
	s->progress++;
	if (rc < 0) {
		handshake_failed(s);
		return;
	}
	s->flags &= ~SF_HANDSHAKE;
	struct px_counters *fc = &s->fe->fe_counters[s->th->tid];
	fc->ssl_sess++;
	if (SSL_session_reused(s->cli.xprt_ctx))
		fc->ssl_reused++;
	/* request timers start now, as HAProxy creates its stream here */
	s->t_accept = s->t_cli_act = th_now_ms(s->th);
	stream_start(s);
}

/*------------------------------------------------------------------------
 * Timeouts
 */
static uint64_t deadline(uint64_t base, int ms)
{
	return ms ? base + (uint64_t)ms : 0;
}

static int cli_timeout_value(const struct stream *s)
{
	const struct proxy *px = s->fe;
	if ((s->flags & (SF_CLI_SHUTR | SF_CLI_SHUTW)) && px->c.to[TO_CLIENT_FIN])
		return px->c.to[TO_CLIENT_FIN];
	return px->c.to[TO_CLIENT];
}

static int srv_timeout_value(const struct stream *s)
{
	const struct proxy *px = s->be ? s->be : s->fe;
	if ((s->flags & (SF_SRV_SHUTR | SF_SRV_SHUTW)) && px->c.to[TO_SERVER_FIN])
		return px->c.to[TO_SERVER_FIN];
	return px->c.to[TO_SERVER];
}

/* Deadlines of the client and server sides for the current state; the
 * step deadline (queue, connect, turn-around, linger) is set by the step. */
static void compute_expiry(struct stream *s)
{
	struct http_txn *txn = s->txn;
	int tunnel_to = s->be ? s->be->c.to[TO_TUNNEL] : 0;

	s->exp_cli = s->exp_srv = 0;
	if (s->flags & SF_LINGER)
		return;
	if (s->flags & SF_HANDSHAKE) {
		/* the TLS handshake has "timeout client", as HAProxy 2.6 */
		s->exp_cli = deadline(s->t_accept, s->fe->c.to[TO_CLIENT]);
		return;
	}

	if (s->flags & SF_TUNNEL) {
		int cto = cli_timeout_value(s), sto = srv_timeout_value(s);
		if (tunnel_to && s->step == SS_ESTABLISHED)
			cto = sto = tunnel_to;
		s->exp_cli = deadline(s->t_cli_act, cto);
		if (s->step == SS_ESTABLISHED)
			s->exp_srv = deadline(s->t_srv_act, sto);
		return;
	}
	if (!(s->flags & SF_HTTP))
		return;

	const struct proxy *fe = s->fe;
	int res_pending = s->res.area && s->res_fwd > s->res.start;

	if (!txn) {
		/* waiting for a request: the first one on a connection under
		 * http-request, the next ones under http-keep-alive */
		int to;
		uint64_t base;
		if (!(s->flags & SF_NOT_FIRST)) {
			to = fe->c.to[TO_HTTP_REQ] ? fe->c.to[TO_HTTP_REQ] : fe->c.to[TO_CLIENT];
			base = s->t_accept;
		} else {
			to = fe->c.to[TO_HTTP_KA] ? fe->c.to[TO_HTTP_KA] :
			     fe->c.to[TO_HTTP_REQ] ? fe->c.to[TO_HTTP_REQ] : fe->c.to[TO_CLIENT];
			base = s->t_cli_act;
		}
		s->exp_cli = deadline(base, to);
		return;
	}
	if (txn->req.state <= HTTP_MSG_HDRS) {
		if (fe->c.to[TO_HTTP_REQ])
			s->exp_cli = deadline(txn->t_start, fe->c.to[TO_HTTP_REQ]);
		else
			s->exp_cli = deadline(s->t_cli_act, cli_timeout_value(s));
	} else if (res_pending || (txn->req.state == HTTP_MSG_BODY && !(s->flags & SF_CLI_SHUTR))) {
		s->exp_cli = deadline(s->t_cli_act, cli_timeout_value(s));
	}
	if (s->step == SS_ESTABLISHED && !(s->flags & SF_LOCAL_RES) && txn->rsp.state != HTTP_MSG_DONE)
		s->exp_srv = deadline(s->t_srv_act, srv_timeout_value(s));
}

static void check_timeouts(struct stream *s)
{
	uint64_t now = th_now_ms(s->th);

	if (s->exp_step && now >= s->exp_step) {
		s->exp_step = 0;
		s->progress++;
		if (s->flags & SF_LINGER) {
			s->flags |= SF_KILL;
			return;
		}
		switch (s->step) {
		case SS_QUEUED:
			backend_queue_expired(s);
			break;
		case SS_CONNECTING:
			backend_conn_failed(s, 1);
			break;
		case SS_TURNAROUND:
			s->step = SS_NONE;    /* try again */
			break;
		default:
			break;
		}
	}
	if (s->flags & SF_KILL)
		return;
	if (s->exp_cli && now >= s->exp_cli) {
		s->exp_cli = 0;
		s->progress++;
		if (s->flags & SF_HANDSHAKE) {
			s->cli.hs_err = SSL_HS_TIMEOUT;
			handshake_failed(s);
		} else if ((s->flags & SF_HTTP) && !(s->flags & SF_TUNNEL)) {
			http_cli_timeout(s);
		} else {
			stream_set_term(s, TERM_CLI_TO, PHASE_DATA);
			s->flags |= SF_KILL;
		}
	}
	if (s->flags & SF_KILL)
		return;
	if (s->exp_srv && now >= s->exp_srv) {
		s->exp_srv = 0;
		s->progress++;
		if ((s->flags & SF_HTTP) && !(s->flags & SF_TUNNEL)) {
			http_srv_timeout(s);
		} else {
			stream_set_term(s, TERM_SRV_TO, PHASE_DATA);
			s->flags |= SF_KILL;
		}
	}
}

static void update_timer(struct stream *s)
{
	uint64_t next = 0;
	uint64_t cand[3] = { s->exp_cli, s->exp_srv, s->exp_step };

	for (int i = 0; i < 3; i++)
		if (cand[i] && (!next || cand[i] < next))
			next = cand[i];
	if (!next) {
		if (ev_is_active(&s->timer))
			ev_timer_stop(s->th->loop, &s->timer);
		s->timer_at = 0;
		return;
	}
	/* Deadlines only move later on activity: an earlier armed timer just
	 * fires, finds nothing expired and re-arms (libev "strategy 3"), which
	 * saves touching the timer heap on every read and write. */
	if (ev_is_active(&s->timer) && s->timer_at <= next)
		return;
	uint64_t now = th_now_ms(s->th);
	double after = next > now ? (double)(next - now + 1) / 1000.0 : 0.001;
	ev_timer_stop(s->th->loop, &s->timer);
	ev_timer_set(&s->timer, after, 0.);
	ev_timer_start(s->th->loop, &s->timer);
	s->timer_at = next;
}

/*------------------------------------------------------------------------
 * Socket interest
 */
static void update_io(struct stream *s)
{
	struct ev_loop *loop = s->th->loop;
	int cev = 0, sev = 0;

	if (conn_is_open(&s->cli) && !(s->flags & SF_CLI_ERR)) {
		if (s->flags & SF_LINGER) {
			cev = EV_READ;
		} else {
			if (!(s->flags & SF_CLI_SHUTR) && !(s->flags & SF_CLOSING) &&
			    (!s->req.area || s->req.end < req_read_limit(s) || s->req.start > 0 ||
			     ((s->flags & SF_REQ_KEPT) && s->req_out > s->req.start)))
				cev |= EV_READ;
			if (s->res.area && s->res_fwd > s->res.start)
				cev |= EV_WRITE;
		}
		conn_want(&s->cli, loop, cev);
	}
	if (s->sc && conn_is_open(s->sc)) {
		if (s->step == SS_CONNECTING) {
			sev = EV_WRITE;
		} else if (s->step == SS_ESTABLISHED) {
			if (!(s->flags & (SF_SRV_SHUTR | SF_SRV_ERR)) &&
			    (!s->res.area || s->res.end < s->res.size || s->res.start > 0))
				sev |= EV_READ;
			if (s->req.area && s->req_fwd > s->req_out && !(s->flags & SF_SRV_ERR))
				sev |= EV_WRITE;
		}
		conn_want(s->sc, loop, sev);
	}
}

/*------------------------------------------------------------------------
 * Processing
 */
void stream_process(struct stream *s)
{
	for (int round = 0; round < 16; round++) {
		unsigned before = s->progress;

		check_timeouts(s);
		if (s->flags & SF_KILL)
			break;
		if (s->flags & SF_HANDSHAKE) {
			handshake_step(s);
			if (s->flags & (SF_HANDSHAKE | SF_KILL))
				break;
		}
		if (s->flags & SF_LINGER) {
			linger_drain(s);
			break;
		}
		if ((s->flags & SF_HTTP) && !(s->flags & SF_TUNNEL)) {
			http_req_step(s);
			if (s->flags & SF_KILL)
				break;
		}
		backend_step(s);
		if (s->flags & SF_KILL)
			break;
		srv_send(s);
		if ((s->flags & SF_HTTP) && !(s->flags & SF_TUNNEL)) {
			http_res_step(s);
			if (s->flags & SF_KILL)
				break;
		}
		cli_send(s);
		if ((s->flags & SF_HTTP) && !(s->flags & SF_TUNNEL)) {
			http_end_step(s);
			if (s->flags & SF_KILL)
				break;
		}
		tunnel_step(s);
		close_step(s);
		if (s->flags & SF_KILL)
			break;
		if (s->progress == before)
			break;
	}
	if (s->flags & SF_KILL) {
		stream_free(s);
		return;
	}
	stream_flush_counters(s);
	compute_expiry(s);
	update_io(s);
	update_timer(s);
}

static void cli_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;
	struct stream *s = c->owner;

	if (s->flags & SF_HANDSHAKE) {
		stream_process(s);   /* the handshake step reads and writes */
		return;
	}
	revents = conn_revents(c, revents);
	if (revents & EV_READ) {
		if (s->flags & SF_LINGER)
			linger_drain(s);
		else
			cli_recv(s);
	}
	if (revents & EV_WRITE)
		cli_send(s);
	stream_process(s);
}

static void srv_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;
	struct stream *s = c->owner;

	revents = conn_revents(c, revents);
	if (s->step == SS_CONNECTING) {
		if (revents & (EV_WRITE | EV_READ))
			backend_connect_event(s);
	} else {
		if (revents & EV_READ)
			srv_recv(s);
		if (revents & EV_WRITE)
			srv_send(s);
	}
	stream_process(s);
}

/* The server-side callback, for backend.c which creates the connections. */
void stream_srv_io_cb(struct ev_loop *loop, ev_io *w, int revents);
void stream_srv_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	srv_io_cb(loop, w, revents);
}

static void stream_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct stream *s = w->data;

	s->timer_at = 0;
	stream_process(s);
}

const union sockaddr_any *stream_dst(struct stream *s)
{
	if (!(s->flags & SF_DST_SET)) {
		socklen_t len = sizeof(s->dst);
		if (getsockname(s->cli.fd, &s->dst.sa, &len) < 0)
			return NULL;
		s->flags |= SF_DST_SET;
	}
	return &s->dst;
}

void stream_wake(struct stream *s)
{
	struct thread_ctx *th = s->th;

	if (th == curr_th) {
		ev_feed_event(th->loop, &s->timer, EV_CUSTOM);
		return;
	}
	pthread_mutex_lock(&th->mb_lock);
	if (list_empty(&s->mb_el))
		list_append(&th->mb_streams, &s->mb_el);
	pthread_mutex_unlock(&th->mb_lock);
	thread_wake(th);
}

void stream_hard_stop(struct stream *s)
{
	struct http_txn *txn = s->txn;

	if (!(s->flags & SF_HTTP) || (s->flags & (SF_TUNNEL | SF_KILL | SF_LOCAL_RES)) || !txn ||
	    txn->req.state < HTTP_MSG_HDRS_DONE || txn->req.state == HTTP_MSG_ERROR ||
	    txn->bytes_out || txn->rsp.state >= HTTP_MSG_BODY)
		return;
	stream_set_term(s, TERM_KILLED, PHASE_HDRS);
	http_error(s, HTTP_ERR_502, "hard-stop-after");
	if (!(s->flags & SF_KILL))
		cli_send(s);
}

void stream_kill(struct stream *s, int term, int phase)
{
	if (s->th == curr_th) {
		stream_set_term(s, (char)term, (char)phase);
		s->flags |= SF_KILL;
	} else {
		s->rkill = (term & 0xff) | (phase & 0xff) << 8;
	}
	stream_wake(s);
}

void stream_remote_wake(struct stream *s)
{
	int k = atomic_exchange(&s->rkill, 0);

	if (k) {
		stream_set_term(s, (char)(k & 0xff), (char)(k >> 8));
		s->flags |= SF_KILL;
	}
	backend_adopt_grant(s);
	stream_wake(s);
}

/*------------------------------------------------------------------------
 * Life cycle
 */
uint32_t stream_new_id(void)
{
	static _Atomic uint32_t next_id;

	return next_id++;
}

struct stream *stream_new(struct thread_ctx *th, struct listener *li, int fd,
                          const struct sockaddr *from, socklen_t fromlen)
{
	struct stream *s = pool_alloc(&th->pool_stream);
	struct proxy *fe = li->fe;

	if (!s) {
		close(fd);
		return NULL;
	}
	memset(s, 0, sizeof(*s));
	s->th = th;
	s->li = li;
	s->fe = fe;
	conn_init(&s->cli, fd, s, cli_io_cb, &xprt_raw);
	ev_init(&s->timer, stream_timer_cb);
	s->timer.data = s;
	if (fromlen > sizeof(s->src))
		fromlen = sizeof(s->src);
	memcpy(&s->src, from, fromlen);
	s->term[0] = s->term[1] = '-';
	if (fe->c.mode != PR_MODE_HTTP)
		s->uniq_id = stream_new_id();   /* HTTP: one per request */
	s->t_accept = s->t_cli_act = s->t_idle_from = th_now_ms(th);
	list_init(&s->queue_el);
	list_init(&s->mb_el);
	if (threads_multi()) {
		pthread_mutex_lock(&th->streams_lock);
		list_append(&th->streams, &s->list);
		pthread_mutex_unlock(&th->streams_lock);
	} else {
		list_append(&th->streams, &s->list);
	}
	/* written by its thread only, read by the soft stop's watcher */
	__atomic_store_n(&th->nb_streams, th->nb_streams + 1, __ATOMIC_RELAXED);

	struct px_counters *fc = &fe->fe_counters[th->tid];
	fc->cum_conn++;
	fc->cum_sess++;
	freq_ctr_inc(&fe->fe_live[th->tid].conn, s->t_accept);
	freq_ctr_inc(&fe->fe_live[th->tid].sess, s->t_accept);
	/* fe->feconn was counted (reserved) by the listener before accept();
	 * another thread's reservation that failed may show for an instant
	 * above the limit, which no stream ever passed */
	int cur = fe->feconn, lim = fe_maxconn(fe);
	if (cur > lim)
		cur = lim;
	if (cur > fe->fe_max)
		fe->fe_max = cur;

	if (li->bind->ssl && li->bind->ssl->enabled) {
		if (ssl_sock_accept(&s->cli, li->bind->ssl) < 0) {
			stream_set_term(s, TERM_RESOURCE, PHASE_REQ);
			s->flags |= SF_KILL;
		} else {
			s->flags |= SF_HANDSHAKE;
		}
	} else {
		stream_start(s);
	}
	stream_process(s);
	return s;
}

/* The connection is ready for traffic (accepted, TLS handshake done). */
static void stream_start(struct stream *s)
{
	struct proxy *fe = s->fe;

	/* A TCP frontend handing its connections to an HTTP backend makes
	 * them HTTP streams. */
	if (fe->c.mode == PR_MODE_HTTP || (fe->defbe && fe->defbe->c.mode == PR_MODE_HTTP)) {
		s->flags |= SF_HTTP;
	} else {
		struct proxy *be = backend_select(s);
		if (!be) {
			stream_set_term(s, TERM_PROXY, PHASE_REQ);
			s->flags |= SF_KILL;
		} else {
			backend_attach(s, be);
			persist_rules_apply(s);
			persist_request(s);
			if (be->c.lb->prepare)
				be->c.lb->prepare(be, s);
			s->flags |= SF_TUNNEL | SF_SRV_WANTED;
		}
	}
	if (!(s->flags & SF_HTTP))
		log_accept(s);   /* HTTP: at each request (http_ana.c) */
}

void stream_free(struct stream *s)
{
	struct thread_ctx *th = s->th;

	stream_flush_counters(s);
	backend_dequeue(s);
	stick_release(s);
	if (s->sc)
		stream_srv_close(s, 0);
	backend_release_slot(s);
	if (s->last_conn) {
		/* a private connection (http-reuse never) dies with its client
		 * connection; a pooled one stays for others */
		struct conn *c = s->last_conn;
		c->last_stream = NULL;
		s->last_conn = NULL;
		if (c->flags & CO_FL_PRIVATE)
			srv_conn_free(th, c);
	}
	if (s->be && (s->flags & SF_BE_ASSIGNED)) {
		s->be->beconn--;   /* before the log line, which counts the others */
		s->flags &= ~SF_BE_ASSIGNED;
	}
	if (s->txn)
		log_txn(s);   /* a transaction cut short is logged too */
	else if (!(s->flags & SF_HTTP))
		log_tcp_end(s);
	vars_sess_free(s);
	http_txn_free(s);
	if (ev_is_active(&s->timer))
		ev_timer_stop(th->loop, &s->timer);
	ev_clear_pending(th->loop, &s->timer);
	conn_close(&s->cli, th->loop);
	stream_buf_release(s, &s->req);
	stream_buf_release(s, &s->res);
	s->fe->feconn--;
	if (threads_multi()) {
		/* no other thread can find it any more, then none has it in
		 * the mailbox (they post it only while they can find it) */
		pthread_mutex_lock(&th->streams_lock);
		list_del_init(&s->list);
		pthread_mutex_unlock(&th->streams_lock);
		pthread_mutex_lock(&th->mb_lock);
		list_del_init(&s->mb_el);
		pthread_mutex_unlock(&th->mb_lock);
	} else {
		list_del_init(&s->list);
	}
	__atomic_store_n(&th->nb_streams, th->nb_streams - 1, __ATOMIC_RELAXED);
	listener_release(s->li, th);
	pool_free(&th->pool_stream, s);
}

void streams_close_idle(struct thread_ctx *th)
{
	struct stream *s, *tmp;

	list_for_each_safe(s, tmp, &th->streams, list) {
		if ((s->flags & SF_HTTP) && !s->txn && !(s->flags & SF_TUNNEL)) {
			s->flags |= SF_KILL;
			stream_process(s);
		}
	}
}
