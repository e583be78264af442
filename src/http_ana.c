/* HTTP transactions on a stream, step by step:
 *
 *   request head  -> frontend rules -> backend -> backend rules
 *                 -> head rewritten for the server -> body forwarded
 *   response head -> head rewritten for the client -> body forwarded
 *   end           -> log, server connection parked or closed, next request
 *
 * Bodies are forwarded exactly as the parser accepted them (framing kept,
 * never re-encoded); heads are rebuilt once, without the hop-by-hop headers,
 * with the Connection header this hop needs.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <proxyd/addr.h>
#include <proxyd/backend.h>
#include <proxyd/global.h>
#include <proxyd/cookie.h>
#include <proxyd/errsnap.h>
#include <proxyd/persist.h>
#include <proxyd/stick_table.h>
#include <proxyd/http.h>
#include <proxyd/http_ana.h>
#include <proxyd/http_svc.h>
#include <proxyd/live.h>
#include <proxyd/log.h>
#include <proxyd/logformat.h>
#include <proxyd/proxy.h>
#include <proxyd/rules.h>
#include <proxyd/sample.h>
#include <proxyd/server.h>
#include <proxyd/stats.h>
#include <proxyd/str.h>
#include <proxyd/stream.h>
#include <proxyd/thread.h>
#include <proxyd/vars.h>

/* Flags that belong to one transaction and are cleared at its end. */
#define SF_TXN_MASK (SF_CLI_CLOSE | SF_SRV_CLOSE | SF_REQ_KEPT | SF_RES_STARTED | SF_LOCAL_RES | SF_LB_KEY | \
                     SF_UPGRADE_REQ | SF_REQ_SENT_ALL | SF_NO_RETRY | SF_SRV_WANTED | SF_DIRECT | SF_IGNORE_PERSIST | \
                     SF_FORCE_PERSIST)

/*------------------------------------------------------------------------
 * Transactions
 */
/* Room in each header table for headers added by rules. */
#define HTTP_HDR_EXTRA 32

/* Room for what rules write into heads and txn variables: half a buffer,
 * at least tune.maxrewrite. */
static size_t http_arena_size(void)
{
	size_t half = (size_t)global.bufsize / 2;
	return half > (size_t)global.maxrewrite ? half : (size_t)global.maxrewrite;
}

/* Sizes of the variable parts of a transaction, after the configuration
 * is known: two header tables, then the arena for values set by rules
 * (tune.maxrewrite bytes). */
size_t http_txn_size(void)
{
	return sizeof(struct http_txn) +
	       2 * ((size_t)global.max_http_hdr + HTTP_HDR_EXTRA) * sizeof(struct http_hdr) +
	       (size_t)vars_txn_slots() * sizeof(struct var_value) + http_arena_size();
}

struct http_txn *http_txn_new(struct stream *s)
{
	struct http_txn *txn = pool_alloc(&s->th->pool_txn);
	/* HAProxy accepts tune.http.maxhdr - 1 header lines: match it */
	uint16_t max = (uint16_t)(global.max_http_hdr > 1 ? global.max_http_hdr - 1 : 1);
	uint16_t cap = (uint16_t)(global.max_http_hdr + HTTP_HDR_EXTRA);

	if (!txn)
		return NULL;
	memset(txn, 0, sizeof(*txn));
	/* the parsers are initialised when each message begins */
	http_msg_prepare(&txn->req, HTTP_REQUEST, txn->hdrs, max);
	http_msg_prepare(&txn->rsp, HTTP_RESPONSE, txn->hdrs + cap, max);
	txn->vars = (struct var_value *)(txn->hdrs + 2 * (size_t)cap);
	memset(txn->vars, 0, (size_t)vars_txn_slots() * sizeof(struct var_value));
	char *arena = (char *)(txn->vars + vars_txn_slots());
	http_msg_set_arena(&txn->req, arena, &txn->arena_used, (uint32_t)http_arena_size(), cap);
	http_msg_set_arena(&txn->rsp, arena, &txn->arena_used, (uint32_t)http_arena_size(), cap);
	txn->status = -1;
	txn->t_start = th_now_ms(s->th);
	s->uniq_id = stream_new_id();
	return txn;
}

void http_txn_free(struct stream *s)
{
	if (s->txn) {
		capture_free(s->txn);
		unique_id_free(s->txn);
		pool_free(&s->th->pool_txn, s->txn);
		s->txn = NULL;
	}
}

/*------------------------------------------------------------------------
 * Head rewriting
 */
struct out {
	char *p;
	size_t len, cap;
	int overflow;
};

static void out_add(struct out *o, const char *s, size_t len)
{
	if (o->len + len > o->cap) {
		o->overflow = 1;
		return;
	}
	memcpy(o->p + o->len, s, len);
	o->len += len;
}

static void out_str(struct out *o, const char *s)
{
	out_add(o, s, strlen(s));
}

static void out_hdr(struct out *o, const char *name, size_t nlen, const char *val, size_t vlen)
{
	out_add(o, name, nlen);
	out_add(o, ": ", 2);
	out_add(o, val, vlen);
	out_add(o, "\r\n", 2);
}

/* Is header <h> hop-by-hop: never forwarded as it is? */
static int hop_by_hop(const struct http_msg *m, const struct http_hdr *h, int keep_upgrade)
{
	const char *n = http_hdr_name(m, h);

	switch (h->nlen) {
	case 2:
		return mem_ieq(n, "te", 2);
	case 7:
		return !keep_upgrade && mem_ieq(n, "upgrade", 7);
	case 10:
		return mem_ieq(n, "connection", 10) || mem_ieq(n, "keep-alive", 10);
	case 16:
		return mem_ieq(n, "proxy-connection", 16);
	}
	if (!(m->flags & HMF_CONN_OTHER))
		return 0;
	/* headers that the Connection header itself names */
	for (int i = -1; (i = http_find_hdr(m, "connection", 10, i)) >= 0;) {
		const struct http_hdr *c = &m->hdrs[i];
		if (http_value_has_token(http_hdr_value(m, c), c->vlen, n, h->nlen) &&
		    !(h->nlen == 17 && mem_ieq(n, "transfer-encoding", 17)) &&
		    !(h->nlen == 14 && mem_ieq(n, "content-length", 14)))
			return 1;
	}
	return 0;
}

/* Replaces the head of <m> (at its sol, head_len bytes) in buffer <b> by
 * the <len> bytes at <head>, moving the body bytes already read. Returns 0,
 * or -1 when the result would not fit. */
static int replace_head(struct buf *b, struct http_msg *m, const char *head, size_t len)
{
	uint32_t old_end = m->sol + m->head_len;
	int64_t delta = (int64_t)len - (int64_t)m->head_len;

	if ((int64_t)b->end + delta > (int64_t)b->size)
		return -1;
	memmove(b->area + m->sol + len, b->area + old_end, b->end - old_end);
	memcpy(b->area + m->sol, head, len);
	b->end = (uint32_t)((int64_t)b->end + delta);
	m->next = (uint32_t)((int64_t)m->next + delta);
	m->head_len = (uint32_t)len;
	return 0;
}

static int build_req_head(struct stream *s, struct out *o)
{
	struct http_txn *txn = s->txn;
	struct http_msg *m = &txn->req;
	const struct proxy *fwd_px = (s->be->c.options & PR_O_FWDFOR) ? s->be :
	                             (s->fe->c.options & PR_O_FWDFOR) ? s->fe : NULL;
	int upgrade = (s->flags & SF_UPGRADE_REQ) != 0;

	out_add(o, http_sl(m, 0), m->sl_len[0]);
	out_add(o, " ", 1);
	out_add(o, http_sl(m, 1), m->sl_len[1]);
	if (m->flags & HMF_VER_11)
		out_add(o, " HTTP/1.1\r\n", 11);
	else
		out_add(o, " HTTP/1.0\r\n", 11);

	for (int i = 0; i < m->nb_hdrs; i++) {
		const struct http_hdr *h = &m->hdrs[i];
		if (!h->nlen || hop_by_hop(m, h, upgrade))
			continue;
		out_hdr(o, http_hdr_name(m, h), h->nlen, http_hdr_value(m, h), h->vlen);
	}

	if (fwd_px && !netmask_match(&fwd_px->c.fwdfor_except, &s->src.sa)) {
		const char *name = fwd_px->c.fwdfor_hdr;
		if (!(fwd_px->c.options & PR_O_FWDFOR_IFNONE) || http_find_hdr(m, name, strlen(name), -1) < 0) {
			char ip[64];
			if (s->src.sa.sa_family == AF_INET || s->src.sa.sa_family == AF_INET6) {
				addr_host_str(&s->src.sa, ip, sizeof(ip));
				out_hdr(o, name, strlen(name), ip, strlen(ip));
			}
		}
	}

	if (upgrade)
		out_str(o, "Connection: upgrade\r\n");
	else if ((s->flags & SF_SRV_CLOSE) && (m->flags & HMF_VER_11))
		out_str(o, "Connection: close\r\n");
	else if (!(s->flags & SF_SRV_CLOSE) && !(m->flags & HMF_VER_11))
		out_str(o, "Connection: keep-alive\r\n");
	out_add(o, "\r\n", 2);
	return o->overflow ? -1 : 0;
}

static int build_res_head(struct stream *s, struct out *o, int status)
{
	struct http_txn *txn = s->txn;
	struct http_msg *m = &txn->rsp;
	int upgrade = status == 101;
	char line[16] = "HTTP/1.1 000 ";

	/* the status is three digits: llhttp guarantees 100..999 */
	line[9] = (char)('0' + status / 100 % 10);
	line[10] = (char)('0' + status / 10 % 10);
	line[11] = (char)('0' + status % 10);
	out_add(o, line, 13);
	if (m->sl_len[2])
		out_add(o, http_sl(m, 2), m->sl_len[2]);
	else
		out_str(o, http_status_reason(status));
	out_add(o, "\r\n", 2);

	for (int i = 0; i < m->nb_hdrs; i++) {
		const struct http_hdr *h = &m->hdrs[i];
		if (!h->nlen || hop_by_hop(m, h, upgrade))
			continue;
		out_hdr(o, http_hdr_name(m, h), h->nlen, http_hdr_value(m, h), h->vlen);
	}
	/* a soft-stopping process serves the request in progress and tells
	 * the client to go elsewhere for the next one */
	if (global.stopping && !upgrade && status >= 200)
		s->flags |= SF_CLI_CLOSE;
	if (upgrade)
		out_str(o, "Connection: upgrade\r\n");
	else if (status >= 200) {
		int cli_11 = (txn->req.flags & HMF_VER_11) != 0;
		if ((s->flags & SF_CLI_CLOSE) && cli_11)
			out_str(o, "Connection: close\r\n");
		else if (!(s->flags & SF_CLI_CLOSE) && !cli_11)
			out_str(o, "Connection: keep-alive\r\n");
	}
	out_add(o, "\r\n", 2);
	return o->overflow ? -1 : 0;
}

/*------------------------------------------------------------------------
 * Local responses
 */
static int close_after(int status)
{
	switch (status) {
	case 400: case 408: case 413: case 414: case 431: case 500: case 501: case 505:
		return 1;
	}
	return 0;
}

void http_reply_send(struct stream *s, const struct http_reply *r, int force_close)
{
	struct buf *b = &s->res;

	if (!s->txn) {
		/* e.g. a 408 before any byte: still a transaction for the log,
		 * which started when the connection became idle, as HAProxy's */
		s->txn = http_txn_new(s);
		if (!s->txn) {
			s->flags |= SF_KILL;
			return;
		}
		s->txn->t_start = s->t_idle_from;
		s->nb_req++;
	}
	struct http_txn *txn = s->txn;
	/* Too late for a reply once response bytes went out: just cut. */
	if (txn->bytes_out || txn->rsp.state == HTTP_MSG_BODY || txn->rsp.state == HTTP_MSG_DONE ||
	    txn->rsp.state == HTTP_MSG_TUNNEL) {
		s->flags |= SF_KILL;
		return;
	}
	backend_dequeue(s);
	if (s->sc)
		stream_srv_close(s, 0);
	else
		backend_release_slot(s);
	s->flags &= ~SF_SRV_WANTED;
	s->step = SS_NONE;

	if (!stream_buf_alloc(s, b)) {
		s->flags |= SF_KILL;
		return;
	}
	struct http_reply built;
	if (r->lf_body) {
		/* evaluated now, while the request head can still be read; into
		 * the thread's scratch area, free at this point */
		built = *r;
		built.body_len = logformat_build(r->lf_body, s, s->th->scratch, (size_t)global.bufsize,
		                                 LF_EMPTY_MISSING);
		built.body = s->th->scratch;
		r = &built;
	}
	/* A request answered right after its head may well be complete
	 * already (no body, or all of it received): then the connection can
	 * stay open for the next one. */
	struct http_msg *rq = &txn->req;
	if ((rq->state == HTTP_MSG_HDRS_DONE || rq->state == HTTP_MSG_BODY) && s->req.area) {
		enum http_parse_res pr = http_msg_parse(rq, s->req.end, HTTP_METH_OTHER);
		if (pr == HTTP_PARSE_DONE)
			rq->state = HTTP_MSG_DONE;
		else if (pr == HTTP_PARSE_ERROR)
			force_close = 1;
	}
	int close = force_close || close_after(r->status) || txn->req.state != HTTP_MSG_DONE ||
	            (s->flags & (SF_CLI_CLOSE | SF_CLI_SHUTR)) || r->raw || global.stopping;
	if (close)
		s->flags |= SF_CLI_CLOSE;
	buf_reset(b);
	size_t len = http_reply_build(r, close, b->area, b->size);
	if (!len)
		len = http_reply_build(http_err_default(HTTP_ERR_500), 1, b->area, b->size);
	b->end = (uint32_t)len;
	s->res_fwd = b->end;
	s->flags |= SF_LOCAL_RES;
	txn->status = r->status;
	txn->rsp.state = HTTP_MSG_DONE;
	int cls = r->status / 100;
	s->fe->fe_counters[s->th->tid].rsp[cls >= 1 && cls <= 5 ? cls - 1 : 5]++;
	if (s->be)
		s->be->be_counters[s->th->tid].rsp[cls >= 1 && cls <= 5 ? cls - 1 : 5]++;
	s->progress++;
}

void http_error(struct stream *s, enum http_err err, const char *why)
{
	const struct http_reply *r = NULL;

	if (s->be && s->be->c.errmsg[err])
		r = s->be->c.errmsg[err];
	else if (s->fe->c.errmsg[err])
		r = s->fe->c.errmsg[err];
	else
		r = http_err_default(err);
	if (why)
		s->why = why;
	http_reply_send(s, r, 0);
}

static enum http_err err_of_status(int status)
{
	int idx = http_err_index(status);
	if (idx >= 0)
		return (enum http_err)idx;
	switch (status) {
	case 414: return HTTP_ERR_414;
	case 431: return HTTP_ERR_431;
	case 505: return HTTP_ERR_505;
	case 502: return HTTP_ERR_502;
	default: return HTTP_ERR_400;
	}
}

/*------------------------------------------------------------------------
 * Request side
 */
/* A proxy's http-request rules, then its "redirect" rules. Returns 1 when
 * one of them answered the request itself. */
static int req_rules(struct stream *s, struct proxy *px)
{
	struct act_rule *rule;
	enum act_ret ret = http_req_rules_run(px, s);

	if (ret == ACT_RET_CONT || ret == ACT_RET_STOP) {
		ret = ACT_RET_CONT;
		list_for_each(rule, &px->redirect_rules, list) {
			if (cond_exec(rule->cond, px, s)) {
				ret = rule->exec(rule, px, s);
				break;
			}
		}
	}
	if (ret != ACT_RET_DONE && ret != ACT_RET_ERR)
		return 0;
	stream_set_term(s, TERM_LOCAL, PHASE_REQ);
	return 1;
}

/* "METHOD URI VERSION" for the log, cut after 1023 bytes as HAProxy cuts
 * it (the version goes first when the URI is long). */
static void keep_request_line(struct http_txn *txn, struct http_msg *m)
{
	const char *ver = (m->flags & HMF_VER_11) ? "HTTP/1.1" : "HTTP/1.0";
	const char *part[5] = { http_sl(m, 0), " ", http_sl(m, 1), " ", ver };
	size_t plen[5] = { m->sl_len[0], 1, m->sl_len[1], 1, 8 };
	size_t rl = 0, room = sizeof(txn->rline) - 1;

	for (int i = 0; i < 5 && rl < room; i++) {
		size_t l = MIN(plen[i], room - rl);
		memcpy(txn->rline + rl, part[i], l);
		rl += l;
	}
	txn->rline_len = (uint16_t)rl;
}

static void analyse_request(struct stream *s)
{
	struct thread_ctx *th = s->th;
	struct http_txn *txn = s->txn;
	struct http_msg *m = &txn->req;
	struct proxy *fe = s->fe;

	txn->t_hdrs = th_now_ms(th);
	txn->meth = http_msg_method(m);
	fe->fe_counters[th->tid].cum_req++;
	freq_ctr_inc(&fe->fe_live[th->tid].req, txn->t_hdrs);
	global.cum_req++;
	log_accept(s);

	keep_request_line(txn, m);

	if (!(m->flags & HMF_VER_11) ? !(m->flags & HMF_CONN_KAL) : (m->flags & HMF_CONN_CLOSE) != 0)
		s->flags |= SF_CLI_CLOSE;
	if (m->flags & HMF_UPGRADE && m->flags & HMF_CONN_UPG)
		s->flags |= SF_UPGRADE_REQ;

	if (txn->meth == HTTP_METH_CONNECT) {
		stream_set_term(s, TERM_PROXY, PHASE_REQ);
		http_error(s, HTTP_ERR_501, "CONNECT is not supported");
		return;
	}

	capture_request(s);
	if (req_rules(s, fe))
		return;
	/* the stats page is looked for after the proxy's rules, as HAProxy */
	if (fe->c.stats && stats_http_intercept(s, fe))
		return;

	struct proxy *be = backend_select(s);
	if (!be) {
		stream_set_term(s, TERM_PROXY, PHASE_REQ);
		http_error(s, HTTP_ERR_503, "no backend");
		return;
	}
	backend_attach(s, be);
	persist_rules_apply(s);
	if (be != fe && req_rules(s, be))
		return;
	if (be != fe && be->c.stats && stats_http_intercept(s, be))
		return;
	be->be_counters[th->tid].cum_req++;
	persist_request(s);
	unique_id_request(s);
	if (be->c.lb->prepare)
		be->c.lb->prepare(be, s);   /* hash keys, while the head can be read */
	backend_keep_sni(s);

	/* httpclose or http-server-close on either side closes the server
	 * connection after the response; only the frontend's httpclose also
	 * closes the client's, as HAProxy does. */
	if ((fe->c.options | be->c.options) & (PR_O_HTTP_CLO | PR_O_HTTP_SCL))
		s->flags |= SF_SRV_CLOSE;
	if (fe->c.options & PR_O_HTTP_CLO)
		s->flags |= SF_CLI_CLOSE;

	struct out o = { th->scratch, 0, (size_t)global.bufsize, 0 };
	if (build_req_head(s, &o) < 0 || replace_head(&s->req, m, o.p, o.len) < 0) {
		stream_set_term(s, TERM_PROXY, PHASE_REQ);
		fe->fe_counters[th->tid].internal_errors++;
		http_error(s, HTTP_ERR_500, "request head too large after rewrite (tune.maxrewrite)");
		return;
	}
	s->req_out = m->sol;
	s->req_fwd = m->sol + m->head_len;
	m->state = HTTP_MSG_BODY;
	s->flags |= SF_SRV_WANTED;
	s->progress++;
}

static void req_parse_error(struct stream *s, struct http_msg *m)
{
	error_snapshot_take(s, 0, m->area, m->sol, s->req.end, m->next);
	stream_set_term(s, TERM_PROXY, PHASE_REQ);
	s->fe->fe_counters[s->th->tid].failed_req++;
	http_error(s, err_of_status(m->err_status), m->err_reason);
}

/* The client closed a connection that has no request in progress. An
 * idle keep-alive connection just ends; a connection that never sent a
 * request is a client abort HAProxy logs (with a 400 sent to a client
 * that only half-closed), unless http-ignore-probes hides it. */
static void cli_closed_idle(struct stream *s)
{
	if ((s->flags & SF_NOT_FIRST) || (s->fe->c.options & PR_O_HTTP_IGN_PROBES)) {
		s->flags |= SF_KILL;
		return;
	}
	stream_set_term(s, TERM_CLI_ABORT, PHASE_REQ);
	s->fe->fe_counters[s->th->tid].failed_req++;
	http_error(s, HTTP_ERR_400, "client closed without sending a request");
}

void http_req_step(struct stream *s)
{
	struct buf *b = &s->req;
	struct http_txn *txn = s->txn;

	if (s->flags & (SF_CLOSING | SF_KILL))
		return;
	if (!txn) {
		if (!b->area || b->end <= b->start) {
			if (s->flags & (SF_CLI_SHUTR | SF_CLI_ERR))
				cli_closed_idle(s);
			return;
		}
		stream_req_compact(s);
		txn = s->txn = http_txn_new(s);
		if (!txn) {
			stream_set_term(s, TERM_RESOURCE, PHASE_REQ);
			s->flags |= SF_KILL;
			return;
		}
		http_msg_begin(&txn->req, b->area, b->start);
		txn->bytes_in = b->end - b->start;   /* read before the transaction began */
		s->req_out = s->req_fwd = b->start;
		s->flags &= ~SF_TXN_MASK;
		s->flags |= SF_REQ_KEPT;
		s->term[0] = s->term[1] = '-';
		s->why = NULL;
		s->nb_req++;
		s->progress++;
	}

	struct http_msg *m = &txn->req;
	enum http_parse_res r;

	if (s->flags & SF_LOCAL_RES)
		return;
	switch (m->state) {
	case HTTP_MSG_IDLE:
	case HTTP_MSG_HDRS:
		r = http_msg_parse(m, b->end, HTTP_METH_OTHER);
		if (r == HTTP_PARSE_ERROR) {
			req_parse_error(s, m);
			return;
		}
		if (r == HTTP_PARSE_MORE) {
			if (b->end >= b->size - (uint32_t)global.maxrewrite) {
				stream_set_term(s, TERM_PROXY, PHASE_REQ);
				s->fe->fe_counters[s->th->tid].failed_req++;
				http_error(s, HTTP_ERR_400, "request head larger than the buffer (tune.bufsize)");
			} else if (s->flags & (SF_CLI_SHUTR | SF_CLI_ERR)) {
				stream_set_term(s, TERM_CLI_ABORT, PHASE_REQ);
				s->fe->fe_counters[s->th->tid].failed_req++;
				http_error(s, HTTP_ERR_400, "client closed before the end of the request head");
			}
			return;
		}
		analyse_request(s);
		if (m->state != HTTP_MSG_BODY || (s->flags & (SF_LOCAL_RES | SF_KILL)))
			return;
		/* Parse the body bytes that came with the head before anything
		 * goes to the server: a framing error there is refused before the
		 * request is forwarded at all. */
		/* fall through */
	case HTTP_MSG_BODY: {
		uint32_t before = m->next;
		r = http_msg_parse(m, b->end, HTTP_METH_OTHER);
		if (r == HTTP_PARSE_ERROR) {
			s->fe->fe_counters[s->th->tid].failed_req++;
			if (s->flags & SF_RES_STARTED) {
				stream_set_term(s, TERM_PROXY, PHASE_DATA);
				s->flags |= SF_KILL;
			} else {
				req_parse_error(s, m);
			}
			return;
		}
		s->req_fwd = m->next;
		if (m->next != before)
			s->progress++;
		if (r == HTTP_PARSE_DONE || r == HTTP_PARSE_UPGRADE) {
			m->state = HTTP_MSG_DONE;
			s->progress++;
		} else if (r == HTTP_PARSE_MORE && (s->flags & (SF_CLI_SHUTR | SF_CLI_ERR))) {
			/* the client gave up in the middle of its request body */
			stream_set_term(s, TERM_CLI_ABORT, PHASE_DATA);
			s->be->be_counters[s->th->tid].cli_aborts++;
			s->flags |= SF_KILL;
		}
		return;
	}
	case HTTP_MSG_DONE:
		/* client half-closed after a complete request: answer, then close */
		if (s->flags & SF_CLI_SHUTR)
			s->flags |= SF_CLI_CLOSE;
		return;
	default:
		return;
	}
}

/*------------------------------------------------------------------------
 * Response side
 */

/* Response bytes came: the request will not be sent again. */
static void drop_kept_request(struct stream *s)
{
	if (s->flags & SF_REQ_KEPT) {
		s->flags &= ~SF_REQ_KEPT;
		s->req.start = s->req_out;
		if (s->req.start == s->req.end)
			stream_req_compact(s);
	}
}

static void srv_response_failed(struct stream *s, char cause, char phase, const char *why)
{
	stream_set_term(s, cause, phase);
	s->be->be_counters[s->th->tid].failed_resp++;
	if (s->srv)
		s->srv->counters[s->th->tid].failed_resp++;
	http_error(s, HTTP_ERR_502, why);
}

/* The server closed (or failed) with the parser idle: decide what it means. */
static void srv_closed(struct stream *s)
{
	struct http_txn *txn = s->txn;
	struct http_msg *m = &txn->rsp;
	int nothing = !(s->res.area && s->res.end > s->res.start) && m->state <= HTTP_MSG_IDLE;

	if (m->state <= HTTP_MSG_HDRS) {
		/* A parked connection the server closed while we were reusing it:
		 * the request never reached it and can go again, on a new one. */
		if (nothing && s->sc && (s->sc->flags & CO_FL_WAS_IDLE) && (s->flags & SF_REQ_KEPT)) {
			backend_conn_failed(s, 0);
			return;
		}
		if (s->srv)
			s->srv->counters[s->th->tid].srv_aborts++;
		srv_response_failed(s, TERM_SRV_ABORT, PHASE_HDRS,
		                    nothing ? "server closed the connection without responding"
		                            : "truncated response head");
		return;
	}
	if (m->state == HTTP_MSG_BODY) {
		if (m->flags & HMF_EOF_BODY) {
			if (http_msg_finish(m) == HTTP_PARSE_DONE) {
				m->state = HTTP_MSG_DONE;
				s->flags |= SF_SRV_CLOSE;
				s->progress++;
				return;
			}
		}
		/* truncated body: what was valid is flushed, then the client
		 * connection closes so the client sees the truncation */
		stream_set_term(s, TERM_SRV_ABORT, PHASE_DATA);
		s->be->be_counters[s->th->tid].srv_aborts++;
		s->flags |= SF_SRV_CLOSE | SF_CLI_CLOSE;
		s->res_fwd = m->next;
		m->state = HTTP_MSG_ERROR;
		stream_close_after_send(s);
		return;
	}
	s->flags |= SF_SRV_CLOSE;
}

static void analyse_response(struct stream *s)
{
	struct thread_ctx *th = s->th;
	struct http_txn *txn = s->txn;
	struct http_msg *m = &txn->rsp;
	int status = http_msg_status(m);
	struct out o = { th->scratch, 0, (size_t)global.bufsize, 0 };

	txn->t_rsp_hdrs = th_now_ms(th);
	drop_kept_request(s);

	if (status < 200 && status != 101) {
		/* interim response: forwarded (not to HTTP/1.0 clients), then
		 * the final one is parsed right after it */
		if (!(txn->req.flags & HMF_VER_11)) {
			o.len = 0;
		} else if (build_res_head(s, &o, status) < 0) {
			srv_response_failed(s, TERM_PROXY, PHASE_HDRS, "response head too large after rewrite");
			return;
		}
		if (replace_head(&s->res, m, o.p, o.len) < 0) {
			srv_response_failed(s, TERM_PROXY, PHASE_HDRS, "response head too large after rewrite");
			return;
		}
		s->res_fwd = m->sol + m->head_len;
		http_msg_begin(m, s->res.area, m->next);
		s->progress++;
		return;
	}
	if (status == 101 && !(s->flags & SF_UPGRADE_REQ)) {
		srv_response_failed(s, TERM_PROXY, PHASE_HDRS, "protocol switch the client did not ask for");
		return;
	}
	if (status != 101 && (s->flags & SF_UPGRADE_REQ)) {
		/* the server declined the upgrade: the client connection stays HTTP */
		llhttp_resume_after_upgrade(&txn->req.p);
		s->flags &= ~SF_UPGRADE_REQ;
	}

	stick_store(s);   /* the server is known for sure now */
	capture_response(s);

	/* http-response rules: the backend's first, then the frontend's */
	enum act_ret ar = http_res_rules_run(s->be, s);
	if ((ar == ACT_RET_CONT || ar == ACT_RET_STOP) && s->fe != s->be)
		ar = http_res_rules_run(s->fe, s);
	if (ar == ACT_RET_DONE || ar == ACT_RET_ERR || (s->flags & (SF_LOCAL_RES | SF_KILL)))
		return;
	if (m->status_override)
		status = m->status_override;

	txn->status = status;
	cookie_response(s);
	if ((m->flags & HMF_CONN_CLOSE) || (!(m->flags & HMF_VER_11) && !(m->flags & HMF_CONN_KAL)) ||
	    (m->flags & HMF_EOF_BODY))
		s->flags |= SF_SRV_CLOSE;
	if (m->flags & HMF_EOF_BODY)
		s->flags |= SF_CLI_CLOSE;   /* the client can only see its end by the close */

	int cls = status / 100;
	int idx = cls >= 1 && cls <= 5 ? cls - 1 : 5;
	s->fe->fe_counters[th->tid].rsp[idx]++;
	s->be->be_counters[th->tid].rsp[idx]++;
	if (s->srv)
		s->srv->counters[th->tid].rsp[idx]++;

	if (build_res_head(s, &o, status) < 0 || replace_head(&s->res, m, o.p, o.len) < 0) {
		srv_response_failed(s, TERM_PROXY, PHASE_HDRS, "response head too large after rewrite");
		return;
	}
	s->res_fwd = m->sol + m->head_len;
	if (status == 101) {
		/* both sides switch to raw bytes: what follows each head is data */
		s->flags |= SF_TUNNEL;
		s->flags &= ~SF_CLI_CLOSE;
		s->res_fwd = s->res.end;
		s->req_fwd = s->req.end;
		m->state = HTTP_MSG_TUNNEL;
		txn->req.state = HTTP_MSG_TUNNEL;
		log_txn(s);
	} else {
		m->state = HTTP_MSG_BODY;
		if (s->fe->c.options & PR_O_LOGASAP) {
			s->log_flags |= SLOG_ASAP;
			log_txn(s);
		}
	}
	s->progress++;
}

void http_res_step(struct stream *s)
{
	struct http_txn *txn = s->txn;
	struct buf *b = &s->res;

	if (txn && txn->svc) {
		http_svc_step(s);
		return;
	}
	if (!txn || (s->flags & SF_LOCAL_RES) || s->step != SS_ESTABLISHED)
		return;
	struct http_msg *m = &txn->rsp;

	for (;;) {
		if (m->state == HTTP_MSG_IDLE) {
			if (!b->area || b->end <= b->start)
				break;
			stream_res_compact(s);
			http_msg_begin(m, b->area, b->start);
			s->res_fwd = b->start;
		}
		if (m->state == HTTP_MSG_DONE || m->state >= HTTP_MSG_TUNNEL)
			break;
		if (!b->area)
			break;

		uint32_t before = m->next;
		enum http_parse_res r = http_msg_parse(m, b->end, txn->meth);
		if (r == HTTP_PARSE_ERROR) {
			if (m->state == HTTP_MSG_ERROR && m->head_len && txn->bytes_out) {
				stream_set_term(s, TERM_SRV_ABORT, PHASE_DATA);
				s->flags |= SF_KILL;
			} else {
				error_snapshot_take(s, 1, s->res.area, m->sol, s->res.end, m->next);
				srv_response_failed(s, TERM_PROXY, PHASE_HDRS, m->err_reason);
			}
			return;
		}
		if (r == HTTP_PARSE_HEAD) {
			analyse_response(s);
			if (s->flags & (SF_LOCAL_RES | SF_KILL | SF_TUNNEL))
				return;
			continue;
		}
		if (m->state == HTTP_MSG_BODY || m->state == HTTP_MSG_DONE) {
			s->res_fwd = m->next;
			if (m->next != before)
				s->progress++;
		}
		if (r == HTTP_PARSE_DONE || r == HTTP_PARSE_UPGRADE) {
			m->state = HTTP_MSG_DONE;
			s->progress++;
			/* bytes after a complete response: the connection is not clean */
			if (m->next < b->end)
				s->flags |= SF_SRV_CLOSE;
			break;
		}
		if (r == HTTP_PARSE_MORE) {
			if (m->state <= HTTP_MSG_HDRS && b->end >= b->size - (uint32_t)global.maxrewrite) {
				srv_response_failed(s, TERM_PROXY, PHASE_HDRS, "response head larger than the buffer");
				return;
			}
			break;
		}
	}
	if ((s->flags & (SF_SRV_SHUTR | SF_SRV_ERR)) && m->state != HTTP_MSG_DONE &&
	    m->state != HTTP_MSG_ERROR && (!b->area || m->state == HTTP_MSG_IDLE || m->next >= b->end))
		srv_closed(s);
	else if ((s->flags & SF_SRV_ERR) && m->state == HTTP_MSG_DONE)
		s->flags |= SF_SRV_CLOSE;
}

/*------------------------------------------------------------------------
 * End of transaction
 */
static uint32_t span_ms(uint64_t from, uint64_t to)
{
	return from && to > from ? (uint32_t)(to - from) : 0;
}

/* Timers of a transaction a server answered, for the stats: the server's
 * averages, its response-time histogram and history. A handful of
 * additions; nothing when no server answered. */
static void txn_live_stats(struct stream *s, uint64_t now)
{
	struct http_txn *txn = s->txn;

	if (!s->srv || !txn->t_connect || !txn->t_rsp_hdrs)
		return;
	uint64_t t_q = txn->t_queue ? txn->t_queue : txn->t_hdrs;
	uint32_t v[TM_NB] = { span_ms(txn->t_hdrs, t_q), span_ms(t_q, txn->t_connect),
	                      span_ms(txn->t_connect, txn->t_rsp_hdrs), span_ms(txn->t_start, now) };
	struct srv_live *sl = &s->srv->live[s->th->tid];
	sl->cum_req++;   /* as HAProxy, a server's req_tot counts the requests it answered */
	tm_avg_add(&sl->tm, v);
	srv_live_rt(sl, now, v[TM_R]);
}

void http_end_step(struct stream *s)
{
	struct http_txn *txn = s->txn;
	struct buf *res = &s->res;

	if (!txn || (s->flags & SF_TUNNEL))
		return;
	if (txn->rsp.state != HTTP_MSG_DONE)
		return;
	if (res->area && res->start < s->res_fwd)
		return;   /* response not fully sent yet */
	if (res->area && res->end > s->res_fwd) {
		/* bytes after the end of the response: never forwarded, and the
		 * server connection that sent them is not clean */
		s->flags |= SF_SRV_CLOSE;
		res->end = s->res_fwd;
	}
	if (!(s->flags & SF_LOCAL_RES) && txn->req.state != HTTP_MSG_DONE) {
		/* the server answered before the whole request arrived: the rest
		 * of it cannot be told apart from a next request */
		s->flags |= SF_CLI_CLOSE | SF_SRV_CLOSE;
	}

	/* bytes of a next (pipelined) request belong to it */
	if (txn->req.state == HTTP_MSG_DONE && s->req.area && s->req.end > txn->req.next)
		txn->bytes_in -= MIN(txn->bytes_in, (uint64_t)(s->req.end - txn->req.next));

	txn_live_stats(s, th_now_ms(s->th));
	stream_flush_counters(s);   /* while the server is still known */

	int reusable = !(s->flags & (SF_SRV_CLOSE | SF_SRV_SHUTR | SF_SRV_ERR)) &&
	               txn->req.state == HTTP_MSG_DONE && s->req_out >= s->req_fwd;
	if (s->sc)
		stream_srv_close(s, reusable);
	else
		backend_release_slot(s);
	if (s->be && (s->flags & SF_BE_ASSIGNED)) {
		s->be->beconn--;
		s->flags &= ~SF_BE_ASSIGNED;
	}
	/* logged once the server and backend counts (%sc, %bc) no longer
	 * include this request, as HAProxy does */
	log_txn(s);
	stick_release(s);
	s->srv = NULL;
	s->prev_srv = NULL;
	s->flags |= SF_NOT_FIRST;

	int close = (s->flags & (SF_CLI_CLOSE | SF_CLI_SHUTR | SF_CLI_ERR)) || global.stopping;
	/* the next request, if pipelined, starts right after this one */
	if (s->req.area) {
		if (txn->req.next > s->req.start && txn->req.state == HTTP_MSG_DONE)
			s->req.start = txn->req.next;
		s->req_out = s->req_fwd = s->req.start;
	}
	http_txn_free(s);
	s->flags &= ~SF_TXN_MASK;
	s->t_cli_act = s->t_idle_from = th_now_ms(s->th);
	s->log_flags &= (unsigned char)~(SLOG_ASAP | SLOG_STATS);
	s->srv_queue_pos = s->be_queue_pos = 0;
	if (close) {
		stream_close_after_send(s);
		return;
	}
	if (s->req.area && s->req.end <= s->req.start)
		stream_buf_release(s, &s->req);
	stream_buf_release(s, &s->res);
	s->res_fwd = 0;
	s->progress++;
}

/*------------------------------------------------------------------------
 * Timeouts
 */
void http_cli_timeout(struct stream *s)
{
	struct http_txn *txn = s->txn;

	if (!txn) {
		/* an idle keep-alive connection just closes; a connection that
		 * never sent its first request gets a 408, as HAProxy */
		if ((s->flags & SF_NOT_FIRST) || (s->fe->c.options & PR_O_HTTP_IGN_PROBES)) {
			s->flags |= SF_KILL;
			return;
		}
		stream_set_term(s, TERM_CLI_TO, PHASE_REQ);
		http_error(s, HTTP_ERR_408, "timeout waiting for the request");
		return;
	}
	if (txn->req.state <= HTTP_MSG_HDRS) {
		stream_set_term(s, TERM_CLI_TO, PHASE_REQ);
		s->fe->fe_counters[s->th->tid].failed_req++;
		http_error(s, HTTP_ERR_408, "timeout waiting for the request head");
		return;
	}
	stream_set_term(s, TERM_CLI_TO, PHASE_DATA);
	if (txn->req.state == HTTP_MSG_BODY && !(s->flags & SF_RES_STARTED) && !txn->bytes_out) {
		http_error(s, HTTP_ERR_408, "timeout waiting for the request body");
		return;
	}
	s->flags |= SF_KILL;
}

void http_srv_timeout(struct stream *s)
{
	struct http_txn *txn = s->txn;

	if (!txn)
		return;
	if (txn->rsp.state <= HTTP_MSG_HDRS) {
		stream_set_term(s, TERM_SRV_TO, PHASE_HDRS);
		s->be->be_counters[s->th->tid].failed_resp++;
		http_error(s, HTTP_ERR_504, "server timeout waiting for the response");
		return;
	}
	stream_set_term(s, TERM_SRV_TO, PHASE_DATA);
	s->flags |= SF_KILL;
}
