/* HTTP services: responses produced by the proxy itself whose body may be
 * larger than a buffer (the stats page, the Prometheus exporter). A
 * service writes its body piece by piece into the stream's response
 * buffer as the client drains it, so a page of any size needs one buffer,
 * never an allocation of its size. The framework adds the head and the
 * chunked framing; the service only says what to write.
 *
 * Its state lives in the transaction (struct http_txn.svc_ctx), which
 * comes from a pool: no allocation per request. */
#ifndef PROXYD_HTTP_SVC_H
#define PROXYD_HTTP_SVC_H

#include <stddef.h>
#include <stdint.h>

struct stream;

/* Where a service writes: a bounded window of the response buffer. */
struct svc_out {
	char *p;
	size_t len, cap;
};

static inline size_t svc_room(const struct svc_out *o)
{
	return o->cap - o->len;
}

/* The head of the response a service decides on. */
struct svc_head {
	int status;
	const char *ctype;
	char hdrs[256];          /* extra "name: value\r\n" lines */
};

struct http_svc {
	const char *name;
	/* Once the whole request is in (body included): fills <h>, or answers
	 * with http_reply_send()/http_error() itself and returns -1. */
	int (*start)(struct stream *s, struct svc_head *h);
	/* Appends body bytes to <o>. Returns 1 when the body is complete, 0
	 * when it needs more room (called again once the client read some). */
	int (*io)(struct stream *s, struct svc_out *o);
	/* largest piece io() may need at once: the service is only called
	 * with at least this much room */
	size_t min_room;
};

/* Hands the current request to <svc>: called while analysing the request,
 * before any server is involved. */
void http_svc_begin(struct stream *s, const struct http_svc *svc);
/* Runs the service of the stream's transaction (from the response step). */
void http_svc_step(struct stream *s);

/* The service's private state, in the transaction. */
void *http_svc_ctx(struct stream *s);
#define HTTP_SVC_CTX_SIZE 128

#endif
