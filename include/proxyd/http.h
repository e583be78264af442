/* HTTP/1 messages as the proxy sees them: a start line and a header table
 * of offsets into the buffer that holds the head, plus the framing facts
 * the forwarding code needs. llhttp validates the syntax; this layer adds
 * the checks that keep two implementations from reading a message
 * differently (request smuggling). */
#ifndef PROXYD_HTTP_H
#define PROXYD_HTTP_H

#include <stdint.h>
#include <llhttp.h>

enum http_meth {
	HTTP_METH_OTHER = 0,
	HTTP_METH_GET, HTTP_METH_HEAD, HTTP_METH_POST, HTTP_METH_PUT,
	HTTP_METH_DELETE, HTTP_METH_OPTIONS, HTTP_METH_CONNECT, HTTP_METH_TRACE,
	HTTP_METH_PATCH,
};

/* Message parsing states. */
enum http_msg_state {
	HTTP_MSG_IDLE = 0,    /* nothing received yet */
	HTTP_MSG_HDRS,        /* collecting the head */
	HTTP_MSG_HDRS_DONE,   /* head complete, waiting to be analysed */
	HTTP_MSG_BODY,        /* forwarding the body */
	HTTP_MSG_DONE,        /* whole message parsed */
	HTTP_MSG_TUNNEL,      /* no more HTTP: raw bytes both ways */
	HTTP_MSG_ERROR,
};

/* Message flags. */
enum {
	HMF_CLEN        = 1 << 0,   /* Content-Length present */
	HMF_CHUNKED     = 1 << 1,   /* Transfer-Encoding ending in chunked */
	HMF_TE          = 1 << 2,   /* Transfer-Encoding present */
	HMF_CONN_CLOSE  = 1 << 3,   /* "close" token in Connection */
	HMF_CONN_KAL    = 1 << 4,   /* "keep-alive" token */
	HMF_CONN_UPG    = 1 << 5,   /* "upgrade" token */
	HMF_UPGRADE     = 1 << 6,   /* Upgrade header present */
	HMF_EXPECT_100  = 1 << 7,   /* Expect: 100-continue */
	HMF_VER_11      = 1 << 8,   /* HTTP/1.1 (else 1.0) */
	HMF_NO_BODY     = 1 << 9,   /* no body by definition (HEAD response, 204, 304, 1xx) */
	HMF_EOF_BODY    = 1 << 10,  /* response body ends at close */
	HMF_CONN_OTHER  = 1 << 11,  /* Connection names other hop-by-hop headers */
	HMF_HDRS_SEEN   = 1 << 12,  /* on_headers_complete ran (internal) */
	HMF_DONE_SEEN   = 1 << 13,  /* on_message_complete ran (internal) */
	HMF_HAS_HOST    = 1 << 14,
};

/* A header as offsets into the buffer area holding the head, or, with
 * HTTP_OFF_ARENA set, into the transaction's arena (values written by
 * rules). A deleted header has nlen 0. */
#define HTTP_OFF_ARENA 0x80000000u

struct http_hdr {
	uint32_t n, nlen;
	uint32_t v, vlen;
};

struct http_msg {
	llhttp_t p;
	enum http_msg_state state;
	unsigned flags;             /* HMF_* */
	int err_status;             /* status to answer when the message is refused */
	const char *err_reason;     /* why, for the debug log */
	const char *area;           /* the buffer area the offsets refer to */
	uint32_t sol;               /* start of the message in the area */
	uint32_t next;              /* next byte to give to the parser */
	uint32_t head_len;          /* bytes of the head, once complete */
	uint64_t body_len;          /* body bytes parsed so far (framing included) */
	/* start line: request  = method, uri, version
	 *             response = version, status, reason */
	uint32_t sl[3], sl_len[3];
	uint16_t nb_hdrs, max_hdrs;
	char *arena;                /* room for values written by rules (shared by req and rsp) */
	uint32_t *arena_used;
	uint32_t arena_size;
	uint16_t cap_hdrs;          /* table size: parsed headers plus room for added ones */
	int status_override;        /* response status set by a rule, 0 if none */
	unsigned char ck_state;     /* chunked framing check (internal, see http1.c) */
	unsigned char ck_digits;
	uint64_t ck_left;
	unsigned char cur;          /* parser callback state (internal) */
	unsigned char req_meth;     /* response: method of its request (HEAD has no body) */
	struct http_hdr *hdrs;
};

static inline const char *http_ptr(const struct http_msg *m, uint32_t off)
{
	return (off & HTTP_OFF_ARENA) ? m->arena + (off & ~HTTP_OFF_ARENA) : m->area + off;
}
static inline const char *http_hdr_name(const struct http_msg *m, const struct http_hdr *h)
{
	return http_ptr(m, h->n);
}
static inline const char *http_hdr_value(const struct http_msg *m, const struct http_hdr *h)
{
	return http_ptr(m, h->v);
}
/* The start line's parts: request method, URI, version; response
 * version, status, reason. */
static inline const char *http_sl(const struct http_msg *m, int i)
{
	return http_ptr(m, m->sl[i]);
}

/* Prepares <msg> to parse a request (type HTTP_REQUEST) or a response,
 * starting at offset <sol> of <area>. <hdrs> has room for <max_hdrs>. */
void http_msg_init(struct http_msg *msg, llhttp_type_t type, struct http_hdr *hdrs, uint16_t max_hdrs);
void http_msg_begin(struct http_msg *msg, const char *area, uint32_t sol);
/* Like http_msg_init() without initialising the parser yet, for a zeroed
 * message that http_msg_begin() will start. */
void http_msg_prepare(struct http_msg *msg, llhttp_type_t type, struct http_hdr *hdrs, uint16_t max_hdrs);

/* Result of feeding bytes to the parser. */
enum http_parse_res {
	HTTP_PARSE_MORE = 0,     /* consumed everything, wants more */
	HTTP_PARSE_HEAD,         /* head complete: msg->head_len set */
	HTTP_PARSE_DONE,         /* message complete */
	HTTP_PARSE_UPGRADE,      /* message complete and the protocol may switch */
	HTTP_PARSE_ERROR,        /* msg->err_status / err_reason set */
};

/* Parses area[msg->next, end). For a response, <req_meth> tells whether
 * the request was HEAD (no body). Advances msg->next. */
enum http_parse_res http_msg_parse(struct http_msg *msg, uint32_t end, enum http_meth req_meth);
/* Tells the parser the connection was closed: completes an EOF-delimited
 * body, or returns HTTP_PARSE_ERROR for a truncated message. */
enum http_parse_res http_msg_finish(struct http_msg *msg);

/* Resolves the method of a parsed request. */
enum http_meth http_msg_method(const struct http_msg *msg);
int http_msg_status(const struct http_msg *msg);

/* Case-insensitive header lookup; returns the index or -1. Starts after <from>
 * (-1 for the first). */
int http_find_hdr(const struct http_msg *msg, const char *name, size_t nlen, int from);
/* Does the comma-separated value list contain <token> (case-insensitive)? */
int http_value_has_token(const char *v, size_t vlen, const char *token, size_t tlen);

/* Editing a head before it is rebuilt towards the next hop (http_msg.c).
 * New strings are copied into the transaction's arena; each function
 * returns 0, or -1 when the arena or the header table is full. */
void http_msg_set_arena(struct http_msg *msg, char *arena, uint32_t *used, uint32_t size, uint16_t cap);
int http_hdr_add(struct http_msg *m, const char *name, size_t nlen, const char *val, size_t vlen);
int http_hdr_set_value(struct http_msg *m, int idx, const char *val, size_t vlen);
void http_hdr_del(struct http_msg *m, int idx);
/* Replaces every header named <name> by one with <val> (set-header). */
int http_hdr_set(struct http_msg *m, const char *name, size_t nlen, const char *val, size_t vlen);
int http_sl_set(struct http_msg *m, int part, const char *val, size_t len);

/* Reason phrase for a status ("Service Unavailable"). */
const char *http_status_reason(int status);

#endif
