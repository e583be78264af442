/* HTTP services (include/proxyd/http_svc.h): the head, the chunked
 * framing and the flow control of responses the proxy produces itself.
 *
 * The service writes straight into the free end of the response buffer;
 * each call becomes one chunk. When the buffer is full the stream simply
 * waits for the client to read, and the next round of stream_process()
 * asks the service for more: the only memory a page of any size takes is
 * the stream's response buffer. */
#include <stdio.h>
#include <string.h>

#include <proxyd/global.h>
#include <proxyd/http.h>
#include <proxyd/http_ana.h>
#include <proxyd/http_svc.h>
#include <proxyd/proxy.h>
#include <proxyd/stream.h>
#include <proxyd/thread.h>

/* "%x\r\n" of a chunk of up to 2^28 bytes, and the last chunk. */
#define CHUNK_HEAD 9
#define CHUNK_TAIL 2
#define LAST_CHUNK "0\r\n\r\n"

void *http_svc_ctx(struct stream *s)
{
	return s->txn->svc_ctx.raw;
}

void http_svc_begin(struct stream *s, const struct http_svc *svc)
{
	struct http_txn *txn = s->txn;

	txn->svc = svc;
	memset(&txn->svc_ctx, 0, sizeof(txn->svc_ctx));
	s->flags |= SF_LOCAL_RES;
	s->flags &= ~SF_SRV_WANTED;
	stream_set_term(s, TERM_LOCAL, PHASE_REQ);
	/* the response head is not written yet */
	txn->rsp.state = HTTP_MSG_HDRS;
	s->fe->fe_counters[s->th->tid].intercepted++;
	s->progress++;
}

/* The request must be complete before the service starts (a POST form
 * is read whole): returns 1 when it is, 0 to wait, -1 when it failed. */
static int request_complete(struct stream *s)
{
	struct http_msg *rq = &s->txn->req;

	if (rq->state == HTTP_MSG_HDRS_DONE || rq->state == HTTP_MSG_BODY) {
		enum http_parse_res pr = s->req.area ? http_msg_parse(rq, s->req.end, HTTP_METH_OTHER) : HTTP_PARSE_MORE;
		if (pr == HTTP_PARSE_DONE || pr == HTTP_PARSE_UPGRADE) {
			rq->state = HTTP_MSG_DONE;
		} else if (pr == HTTP_PARSE_ERROR) {
			s->txn->svc = NULL;
			s->fe->fe_counters[s->th->tid].failed_req++;
			http_reply_send(s, http_err_default(HTTP_ERR_400), 1);
			return -1;
		} else {
			rq->state = HTTP_MSG_BODY;
			if (s->flags & (SF_CLI_SHUTR | SF_CLI_ERR)) {
				stream_set_term(s, TERM_CLI_ABORT, PHASE_REQ);
				s->flags |= SF_KILL;
				return -1;
			}
			if (s->req.area && s->req.end >= s->req.size) {
				/* a body larger than a buffer is no form for us */
				s->txn->svc = NULL;
				http_reply_send(s, http_err_default(HTTP_ERR_413), 1);
				return -1;
			}
			return 0;
		}
	}
	return 1;
}

static void write_head(struct stream *s, const struct svc_head *h, int chunked, int close)
{
	struct buf *b = &s->res;
	struct http_txn *txn = s->txn;
	int v11 = (txn->req.flags & HMF_VER_11) != 0;
	int n = snprintf(b->area + b->end, b->size - b->end,
	                 "HTTP/1.%d %d %s\r\ncache-control: no-cache\r\ncontent-type: %s\r\n%s%s%s\r\n", v11,
	                 h->status, http_status_reason(h->status), h->ctype, h->hdrs,
	                 chunked ? "transfer-encoding: chunked\r\n" : "",
	                 close ? (v11 ? "connection: close\r\n" : "") : (v11 ? "" : "connection: keep-alive\r\n"));
	if (n < 0 || (size_t)n >= b->size - b->end) {
		s->flags |= SF_KILL;
		return;
	}
	b->end += (uint32_t)n;
	s->res_fwd = b->end;
	txn->status = h->status;
	int cls = h->status / 100;
	s->fe->fe_counters[s->th->tid].rsp[cls >= 1 && cls <= 5 ? cls - 1 : 5]++;
}

void http_svc_step(struct stream *s)
{
	struct http_txn *txn = s->txn;
	const struct http_svc *svc = txn->svc;
	struct buf *b = &s->res;

	if (s->flags & SF_CLI_ERR) {
		/* nobody to write to any more */
		stream_set_term(s, TERM_CLI_ABORT, PHASE_DATA);
		s->flags |= SF_KILL;
		return;
	}
	if (txn->rsp.state != HTTP_MSG_HDRS && txn->rsp.state != HTTP_MSG_BODY)
		return;
	if (txn->rsp.state == HTTP_MSG_HDRS) {
		struct svc_head h = { .status = 200, .ctype = "text/plain" };
		if (request_complete(s) <= 0)
			return;
		if (svc->start(s, &h) < 0) {
			txn->svc = NULL;   /* it answered by itself */
			return;
		}
		if (!stream_buf_alloc(s, b)) {
			stream_set_term(s, TERM_RESOURCE, PHASE_DATA);
			s->flags |= SF_KILL;
			return;
		}
		stream_res_compact(s);
		/* HTTP/1.0 clients get a body delimited by the close */
		if (!(txn->req.flags & HMF_VER_11))
			s->flags |= SF_CLI_CLOSE;
		write_head(s, &h, (txn->req.flags & HMF_VER_11) != 0, (s->flags & SF_CLI_CLOSE) != 0);
		if (s->flags & SF_KILL)
			return;
		txn->rsp.state = txn->meth == HTTP_METH_HEAD ? HTTP_MSG_DONE : HTTP_MSG_BODY;
		s->progress++;
	}

	int chunked = (txn->req.flags & HMF_VER_11) != 0;
	size_t ovh = chunked ? CHUNK_HEAD + CHUNK_TAIL + sizeof(LAST_CHUNK) - 1 : 0;
	while (txn->rsp.state == HTTP_MSG_BODY) {
		if (b->size - b->end < svc->min_room + ovh) {
			if (b->start == 0)
				break;   /* wait for the client to read */
			stream_res_compact(s);
			continue;
		}
		char *dst = b->area + b->end + (chunked ? CHUNK_HEAD : 0);
		struct svc_out o = { dst, 0, b->size - b->end - ovh };
		int done = svc->io(s, &o);
		if (o.len > o.cap)
			o.len = o.cap;   /* a service bug must not overrun the buffer */
		if (o.len) {
			if (chunked) {
				char hx[CHUNK_HEAD + 1];
				int hl = snprintf(hx, sizeof(hx), "%zx\r\n", o.len);
				memmove(b->area + b->end + hl, dst, o.len);
				memcpy(b->area + b->end, hx, (size_t)hl);
				b->end += (uint32_t)hl + (uint32_t)o.len;
				memcpy(b->area + b->end, "\r\n", 2);
				b->end += 2;
			} else {
				b->end += (uint32_t)o.len;
			}
		}
		if (done) {
			if (chunked) {
				memcpy(b->area + b->end, LAST_CHUNK, sizeof(LAST_CHUNK) - 1);
				b->end += sizeof(LAST_CHUNK) - 1;
			}
			txn->rsp.state = HTTP_MSG_DONE;
		}
		s->res_fwd = b->end;
		if (!o.len && !done) {
			if (b->start == b->end) {
				/* an empty buffer and still no room for the next piece:
				 * tune.bufsize is too small for this page */
				stream_set_term(s, TERM_RESOURCE, PHASE_DATA);
				s->flags |= SF_KILL;
			}
			break;
		}
		s->progress++;
	}
}
