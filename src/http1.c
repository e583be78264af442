/* llhttp glue: collects the start line and the header table as offsets
 * into the buffer, pauses at the end of the head and of the message so the
 * caller knows exactly which bytes belong to which message, and refuses
 * what llhttp lets through but a strict proxy must not (see the checks in
 * on_header_* and on_headers_complete). */
#include <string.h>
#include <strings.h>

#include <proxyd/compiler.h>
#include <proxyd/http.h>
#include <proxyd/str.h>

enum { CUR_NONE = 0, CUR_FIELD, CUR_VALUE };

/* Internal flags beyond the public HMF_* ones. */
#define HMF_DONE_PENDING (1u << 30)   /* message complete, reported after the head */
#define HMF_HEAD_REPORTED (1u << 29)

/*------------------------------------------------------------------------
 * Chunked framing check. llhttp 8.1 accepts a CR followed by any byte
 * where the CRLF after a chunk size or after chunk data belongs, and any
 * two bytes after chunk data ("5\r\nhelloXY0\r\n\r\n"): another parser
 * would split that body differently (request smuggling). The bytes llhttp
 * accepted as body are run through this strict state machine as well.
 */
enum {
	CK_SIZE = 0,     /* chunk size digits */
	CK_SIZE_REST,    /* blanks, extensions, up to CR */
	CK_SIZE_LF,
	CK_DATA,
	CK_DATA_CR,
	CK_DATA_LF,
	CK_TRAILER,      /* start of a trailer line, or the final CRLF */
	CK_TRAILER_LINE,
	CK_TRAILER_LF,
	CK_END_LF,
	CK_DONE,
};

static int hexdigit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Checks the chunked body bytes [p, p+n). 0, -1 on a framing error, -2
 * on a size that does not fit 64 bits. */
static int chunk_check(struct http_msg *m, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		switch (m->ck_state) {
		case CK_SIZE: {
			int d = hexdigit(c);
			if (d >= 0) {
				if (++m->ck_digits > 16)
					return -2;
				m->ck_left = m->ck_left * 16 + (uint64_t)d;
				break;
			}
			if (!m->ck_digits)
				return -1;
			m->ck_state = CK_SIZE_REST;
		}
			/* fall through */
		case CK_SIZE_REST:
			if (c == '\r')
				m->ck_state = CK_SIZE_LF;
			else if (c == '\n' || c == 0)
				return -1;
			break;
		case CK_SIZE_LF:
			if (c != '\n')
				return -1;
			m->ck_digits = 0;
			m->ck_state = m->ck_left ? CK_DATA : CK_TRAILER;
			break;
		case CK_DATA: {
			size_t take = n - i;
			if (take > m->ck_left)
				take = (size_t)m->ck_left;
			m->ck_left -= take;
			i += take - 1;
			if (!m->ck_left)
				m->ck_state = CK_DATA_CR;
			break;
		}
		case CK_DATA_CR:
			if (c != '\r')
				return -1;
			m->ck_state = CK_DATA_LF;
			break;
		case CK_DATA_LF:
			if (c != '\n')
				return -1;
			m->ck_state = CK_SIZE;
			break;
		case CK_TRAILER:
			if (c == '\r') {
				m->ck_state = CK_END_LF;
				break;
			}
			m->ck_state = CK_TRAILER_LINE;
			/* fall through */
		case CK_TRAILER_LINE:
			if (c == '\r')
				m->ck_state = CK_TRAILER_LF;
			else if (c == '\n' || c == 0)
				return -1;
			break;
		case CK_TRAILER_LF:
			if (c != '\n')
				return -1;
			m->ck_state = CK_TRAILER;
			break;
		case CK_END_LF:
			if (c != '\n')
				return -1;
			m->ck_state = CK_DONE;
			break;
		default:
			return -1;   /* bytes after the end of the message */
		}
	}
	return 0;
}

static struct http_msg *msg_of(llhttp_t *p)
{
	return p->data;
}

static int refuse(struct http_msg *m, const char *why)
{
	m->err_reason = why;
	llhttp_set_error_reason(&m->p, why);
	return HPE_USER;
}

/* Appends the span [at, at+len) to slot <i> of the start line; spans are
 * reported in pieces when the data arrives in pieces, always contiguous. */
static int sl_span(llhttp_t *p, int i, const char *at, size_t len)
{
	struct http_msg *m = msg_of(p);
	uint32_t off = (uint32_t)(at - m->area);

	if (!m->sl_len[i])
		m->sl[i] = off;
	else if (m->sl[i] + m->sl_len[i] != off)
		return refuse(m, "malformed start line");
	m->sl_len[i] += (uint32_t)len;
	return 0;
}

static int on_method(llhttp_t *p, const char *at, size_t len) { return sl_span(p, 0, at, len); }
static int on_url(llhttp_t *p, const char *at, size_t len) { return sl_span(p, 1, at, len); }
static int on_status(llhttp_t *p, const char *at, size_t len) { return sl_span(p, 2, at, len); }

static int on_version(llhttp_t *p, const char *at, size_t len)
{
	return sl_span(p, p->type == HTTP_REQUEST ? 2 : 0, at, len);
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
	struct http_msg *m = msg_of(p);
	uint32_t off = (uint32_t)(at - m->area);

	if (m->cur != CUR_FIELD) {
		if (m->nb_hdrs >= m->max_hdrs) {
			m->err_status = 400;
			return refuse(m, "too many headers");
		}
		struct http_hdr *h = &m->hdrs[m->nb_hdrs++];
		h->n = off;
		h->nlen = 0;
		h->v = off;
		h->vlen = 0;
		m->cur = CUR_FIELD;
	}
	struct http_hdr *h = &m->hdrs[m->nb_hdrs - 1];
	if (h->nlen && h->n + h->nlen != off)
		return refuse(m, "malformed header name");
	h->nlen += (uint32_t)len;
	return 0;
}

static int on_header_field_complete(llhttp_t *p)
{
	struct http_msg *m = msg_of(p);
	struct http_hdr *h = &m->hdrs[m->nb_hdrs - 1];
	const char *n = m->area + h->n;

	/* llhttp tolerates "Name : value" (its token scan stops at the first
	 * blank, so only a trailing one can get here); the blank would make
	 * another parser read a different header name. */
	if (!h->nlen)
		return refuse(m, "empty header name");
	if (n[h->nlen - 1] == ' ' || n[h->nlen - 1] == '\t')
		return refuse(m, "whitespace in header name");
	return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
	struct http_msg *m = msg_of(p);
	struct http_hdr *h = &m->hdrs[m->nb_hdrs - 1];
	uint32_t off = (uint32_t)(at - m->area);

	if (m->cur != CUR_VALUE) {
		h->v = off;
		h->vlen = 0;
		m->cur = CUR_VALUE;
	} else if (h->v + h->vlen != off) {
		/* a second, non-contiguous piece: llhttp reports the continuation
		 * line of an obsolete line folding this way */
		return refuse(m, "obsolete line folding in header value");
	}
	h->vlen += (uint32_t)len;
	return 0;
}

static int name_is(const struct http_msg *m, const struct http_hdr *h, const char *name, size_t len)
{
	return h->nlen == len && mem_ieq(m->area + h->n, name, len);
}

static int on_header_value_complete(llhttp_t *p)
{
	struct http_msg *m = msg_of(p);
	struct http_hdr *h = &m->hdrs[m->nb_hdrs - 1];
	const char *v = m->area + h->v;

	if (m->cur != CUR_VALUE) {   /* empty value: no value callback at all */
		h->v = h->n + h->nlen;
		h->vlen = 0;
	}
	/* CR, LF and NUL never get here: llhttp refuses them in values, and a
	 * folded continuation line shows up as a second, non-contiguous piece
	 * (see on_header_value). */
	while (h->vlen && (v[h->vlen - 1] == ' ' || v[h->vlen - 1] == '\t'))
		h->vlen--;
	m->cur = CUR_NONE;

	switch (h->nlen) {
	case 4:
		if (name_is(m, h, "host", 4)) {
			if (m->flags & HMF_HAS_HOST)
				return refuse(m, "several Host headers");
			m->flags |= HMF_HAS_HOST;
		}
		break;
	case 6:
		if (name_is(m, h, "expect", 6) && h->vlen == 12 && mem_ieq(v, "100-continue", 12))
			m->flags |= HMF_EXPECT_100;
		break;
	case 7:
		if (name_is(m, h, "upgrade", 7))
			m->flags |= HMF_UPGRADE;
		break;
	case 10:
		if (name_is(m, h, "connection", 10)) {
			/* remember which hop-by-hop tokens it carries */
			const char *t = v, *end = v + h->vlen;
			while (t < end) {
				while (t < end && (*t == ' ' || *t == '\t' || *t == ','))
					t++;
				const char *s = t;
				while (t < end && *t != ',' && *t != ' ' && *t != '\t')
					t++;
				size_t l = (size_t)(t - s);
				if (!l)
					continue;
				if (l == 5 && mem_ieq(s, "close", 5))
					m->flags |= HMF_CONN_CLOSE;
				else if (l == 10 && mem_ieq(s, "keep-alive", 10))
					m->flags |= HMF_CONN_KAL;
				else if (l == 7 && mem_ieq(s, "upgrade", 7))
					m->flags |= HMF_CONN_UPG;
				else
					m->flags |= HMF_CONN_OTHER;
			}
		}
		break;
	}
	return 0;
}

static int on_headers_complete(llhttp_t *p)
{
	struct http_msg *m = msg_of(p);
	int is_req = p->type == HTTP_REQUEST;

	m->flags |= HMF_HDRS_SEEN;
	if (p->http_major != 1 || p->http_minor > 1) {
		m->err_status = is_req ? 505 : 502;
		return refuse(m, "unsupported HTTP version");
	}
	if (p->http_minor == 1)
		m->flags |= HMF_VER_11;
	if (p->flags & F_CONTENT_LENGTH)
		m->flags |= HMF_CLEN;
	if (p->flags & F_TRANSFER_ENCODING) {
		m->flags |= HMF_TE;
		/* Only a final "chunked" frames a message unambiguously; and
		 * HTTP/1.0 has no transfer codings at all. */
		if (!(p->flags & F_CHUNKED))
			return refuse(m, "Transfer-Encoding without a final chunked");
		if (p->http_minor == 0)
			return refuse(m, "Transfer-Encoding in an HTTP/1.0 message");
	}
	if (p->flags & F_CHUNKED)
		m->flags |= HMF_CHUNKED;

	if (!is_req) {
		int st = p->status_code;
		if ((st >= 100 && st < 200) || st == 204 || st == 304 || m->req_meth == HTTP_METH_HEAD) {
			/* 1xx, 204, 304 and HEAD responses have no body whatever
			 * they announce (a 304 may carry the Content-Length of the
			 * resource); llhttp is told so by returning 1, and pauses at
			 * the message end */
			m->flags |= HMF_NO_BODY;
			m->cur = CUR_NONE;
			return 1;
		}
		if (llhttp_message_needs_eof(p))
			m->flags |= HMF_EOF_BODY;
	}
	m->cur = CUR_NONE;
	return HPE_PAUSED;
}

static int on_message_complete(llhttp_t *p)
{
	msg_of(p)->flags |= HMF_DONE_SEEN;
	return HPE_PAUSED;
}

static const llhttp_settings_t settings = {
	.on_method = on_method,
	.on_url = on_url,
	.on_status = on_status,
	.on_version = on_version,
	.on_header_field = on_header_field,
	.on_header_field_complete = on_header_field_complete,
	.on_header_value = on_header_value,
	.on_header_value_complete = on_header_value_complete,
	.on_headers_complete = on_headers_complete,
	.on_message_complete = on_message_complete,
};

void http_msg_init(struct http_msg *msg, llhttp_type_t type, struct http_hdr *hdrs, uint16_t max_hdrs)
{
	memset(msg, 0, sizeof(*msg));
	llhttp_init(&msg->p, type, &settings);
	msg->p.data = msg;
	msg->hdrs = hdrs;
	msg->max_hdrs = max_hdrs;
}

void http_msg_prepare(struct http_msg *msg, llhttp_type_t type, struct http_hdr *hdrs, uint16_t max_hdrs)
{
	msg->p.type = (uint8_t)type;
	msg->hdrs = hdrs;
	msg->max_hdrs = max_hdrs;
	msg->state = HTTP_MSG_IDLE;
}

void http_msg_begin(struct http_msg *msg, const char *area, uint32_t sol)
{
	llhttp_type_t type = msg->p.type;
	struct http_hdr *hdrs = msg->hdrs;
	uint16_t max = msg->max_hdrs, cap = msg->cap_hdrs;
	char *arena = msg->arena;
	uint32_t *used = msg->arena_used, asize = msg->arena_size;

	/* a fresh parser per message: nothing from the previous one leaks */
	http_msg_init(msg, type, hdrs, max);
	http_msg_set_arena(msg, arena, used, asize, cap);
	msg->area = area;
	msg->sol = sol;
	msg->next = sol;
	msg->state = HTTP_MSG_HDRS;
}

static enum http_parse_res parse_error(struct http_msg *msg, enum llhttp_errno e)
{
	if (!msg->err_reason)
		msg->err_reason = llhttp_get_error_reason(&msg->p);
	if (!msg->err_reason)
		msg->err_reason = llhttp_errno_name(e);
	if (!msg->err_status)
		msg->err_status = msg->p.type == HTTP_REQUEST ? 400 : 502;
	msg->state = HTTP_MSG_ERROR;
	return HTTP_PARSE_ERROR;
}

enum http_parse_res http_msg_parse(struct http_msg *msg, uint32_t end, enum http_meth req_meth)
{
	const char *start = msg->area + msg->next;
	enum llhttp_errno e;

	if (msg->flags & HMF_DONE_PENDING) {
		msg->flags &= ~HMF_DONE_PENDING;
		msg->state = HTTP_MSG_DONE;
		return HTTP_PARSE_DONE;
	}
	msg->req_meth = (unsigned char)req_meth;

	uint32_t before = msg->next;
	int in_body = (msg->flags & (HMF_HEAD_REPORTED | HMF_CHUNKED)) == (HMF_HEAD_REPORTED | HMF_CHUNKED);
	int ck = 0;
	e = llhttp_execute(&msg->p, start, end - msg->next);
	if (e == HPE_OK) {
		msg->next = end;
		if (msg->flags & HMF_HEAD_REPORTED)
			msg->body_len += end - before;
		if (in_body && (ck = chunk_check(msg, start, end - before)) < 0)
			goto bad_chunk;
		return HTTP_PARSE_MORE;
	}
	if (e != HPE_PAUSED && e != HPE_PAUSED_UPGRADE)
		return parse_error(msg, e);

	msg->next = (uint32_t)(llhttp_get_error_pos(&msg->p) - msg->area);
	if (msg->flags & HMF_HEAD_REPORTED)
		msg->body_len += msg->next - before;
	if (e == HPE_PAUSED)
		llhttp_resume(&msg->p);

	/* llhttp 8 takes a CR followed by any byte for the CRLF ending the
	 * head or the trailers, swallowing that byte: another parser would
	 * see a different message there. A head or a chunked message always
	 * ends with an LF. */
	if (((msg->flags & HMF_HDRS_SEEN) && !(msg->flags & HMF_HEAD_REPORTED)) ||
	    ((msg->flags & HMF_DONE_SEEN) && (msg->flags & HMF_CHUNKED))) {
		if (msg->next == msg->sol || msg->area[msg->next - 1] != '\n') {
			msg->err_reason = "CR without LF ending the head or the trailers";
			return parse_error(msg, HPE_CR_EXPECTED);
		}
	}

	if (in_body && ((ck = chunk_check(msg, start, msg->next - before)) < 0 ||
	                ((msg->flags & HMF_DONE_SEEN) && msg->ck_state != CK_DONE)))
		goto bad_chunk;

	if (!(msg->flags & HMF_HEAD_REPORTED) && (msg->flags & HMF_HDRS_SEEN)) {
		msg->flags |= HMF_HEAD_REPORTED;
		msg->head_len = msg->next - msg->sol;
		msg->state = HTTP_MSG_HDRS_DONE;
		if (msg->flags & HMF_DONE_SEEN)
			msg->flags |= HMF_DONE_PENDING;
		return HTTP_PARSE_HEAD;
	}
	if (msg->flags & HMF_DONE_SEEN) {
		msg->state = HTTP_MSG_DONE;
		return e == HPE_PAUSED_UPGRADE ? HTTP_PARSE_UPGRADE : HTTP_PARSE_DONE;
	}
	if (e == HPE_PAUSED_UPGRADE)
		return HTTP_PARSE_UPGRADE;
	return HTTP_PARSE_MORE;

bad_chunk:
	msg->err_reason = ck == -2 ? "Chunk size overflow" : "invalid chunked framing (CRLF expected)";
	return parse_error(msg, HPE_INVALID_CHUNK_SIZE);
}

enum http_parse_res http_msg_finish(struct http_msg *msg)
{
	enum llhttp_errno e;

	if (msg->flags & HMF_DONE_SEEN)
		return HTTP_PARSE_DONE;
	e = llhttp_finish(&msg->p);
	if ((e == HPE_OK || e == HPE_PAUSED) && (msg->flags & HMF_DONE_SEEN)) {
		msg->state = HTTP_MSG_DONE;
		return HTTP_PARSE_DONE;
	}
	if (e == HPE_OK)
		e = HPE_INVALID_EOF_STATE;
	msg->err_reason = "truncated message";
	return parse_error(msg, e);
}

enum http_meth http_msg_method(const struct http_msg *msg)
{
	switch (msg->p.method) {
	case HTTP_GET: return HTTP_METH_GET;
	case HTTP_HEAD: return HTTP_METH_HEAD;
	case HTTP_POST: return HTTP_METH_POST;
	case HTTP_PUT: return HTTP_METH_PUT;
	case HTTP_DELETE: return HTTP_METH_DELETE;
	case HTTP_OPTIONS: return HTTP_METH_OPTIONS;
	case HTTP_CONNECT: return HTTP_METH_CONNECT;
	case HTTP_TRACE: return HTTP_METH_TRACE;
	case HTTP_PATCH: return HTTP_METH_PATCH;
	default: return HTTP_METH_OTHER;
	}
}

int http_msg_status(const struct http_msg *msg)
{
	return msg->p.status_code;
}

int http_find_hdr(const struct http_msg *msg, const char *name, size_t nlen, int from)
{
	for (int i = from + 1; i < msg->nb_hdrs; i++)
		if (msg->hdrs[i].nlen == nlen && mem_ieq(http_hdr_name(msg, &msg->hdrs[i]), name, nlen))
			return i;
	return -1;
}

int http_value_has_token(const char *v, size_t vlen, const char *token, size_t tlen)
{
	const char *t = v, *end = v + vlen;

	while (t < end) {
		while (t < end && (*t == ' ' || *t == '\t' || *t == ','))
			t++;
		const char *s = t;
		while (t < end && *t != ',' && *t != ' ' && *t != '\t')
			t++;
		if ((size_t)(t - s) == tlen && mem_ieq(s, token, tlen))
			return 1;
	}
	return 0;
}

const char *http_status_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 407: return "Proxy Authentication Required";
	case 408: return "Request Timeout";
	case 410: return "Gone";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 421: return "Misdirected Request";
	case 425: return "Too Early";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default:
		if (status < 200) return "Informational";
		if (status < 300) return "Success";
		if (status < 400) return "Redirection";
		if (status < 500) return "Client Error";
		return "Server Error";
	}
}
