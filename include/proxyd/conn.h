/* One socket end: fd, its libev watcher, a transport (raw TCP now, TLS
 * later) and a few flags. Knows nothing of HTTP. */
#ifndef PROXYD_CONN_H
#define PROXYD_CONN_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <ev.h>

#include <proxyd/list.h>

struct conn;
struct server;
struct stream;
struct thread_ctx;

enum {
	CO_FL_CONNECTING = 1 << 0,   /* non-blocking connect() in progress */
	CO_FL_ERROR      = 1 << 1,   /* fatal socket error seen */
	CO_FL_RD_SHUT    = 1 << 2,   /* the peer closed its sending side (EOF read) */
	CO_FL_WR_SHUT    = 1 << 3,   /* we shut our sending side */
	CO_FL_IDLE       = 1 << 4,   /* parked in a server's idle pool */
	CO_FL_REUSED     = 1 << 5,   /* completed a transaction already (proven alive) */
	CO_FL_PRIVATE    = 1 << 6,   /* must stay with its client connection */
	CO_FL_SERVER     = 1 << 7,   /* server side */
	CO_FL_WAS_IDLE   = 1 << 8,   /* taken from an idle pool for the current request */
	CO_FL_HANDSHAKE  = 1 << 9,   /* transport handshake (TLS) not finished */
	CO_FL_XPRT_WANT_RD = 1 << 10, /* the transport needs a read event to go on */
	CO_FL_XPRT_WANT_WR = 1 << 11, /* the transport needs a write event to go on */
	CO_FL_XPRT_RD_WANT_WR = 1 << 12, /* a read could not progress before a write (TLS) */
	CO_FL_XPRT_WR_WANT_RD = 1 << 13, /* a write could not progress before a read (TLS) */
};

/* Transport operations. recv returns >0 bytes, 0 on EOF, -1 when it would
 * block, -2 on error. send returns the bytes sent (0 allowed when it would
 * block), or -2 on error. */
struct xprt_ops {
	const char *name;
	ssize_t (*recv)(struct conn *c, char *buf, size_t len);
	ssize_t (*send)(struct conn *c, const char *buf, size_t len);
	void (*shutw)(struct conn *c);
	void (*close)(struct conn *c);
	/* bytes already decrypted and waiting (no socket event will come for
	 * them); NULL when the transport keeps nothing */
	size_t (*pending)(const struct conn *c);
};

extern const struct xprt_ops xprt_raw;

struct conn {
	int fd;
	unsigned flags;
	ev_io io;                    /* io.data points back to the conn */
	const struct xprt_ops *xprt;
	void *xprt_ctx;              /* SSL * when TLS */
	void *owner;                 /* stream, or server while idle */
	struct server *srv;          /* server side: the server it goes to */
	struct list idle_el;         /* in the server's idle list */
	uint64_t idle_since;         /* ms, when parked */
	struct stream *last_stream;  /* client stream that used it last (http-reuse safe) */
	int err;                     /* errno of the failure */
	int hs_err;                  /* why the handshake failed (SSL_HS_*) */
	uint32_t sni_hash;           /* server side: hash of the SNI it was opened with */
};

void conn_init(struct conn *c, int fd, void *owner,
               void (*cb)(struct ev_loop *, ev_io *, int), const struct xprt_ops *xprt);
/* Subscribes to exactly <events> (EV_READ | EV_WRITE, or 0), translated
 * for a transport that needs the other direction to progress; feeds a read
 * event at once when the transport holds decrypted bytes. */
void conn_want(struct conn *c, struct ev_loop *loop, int events);
/* The events a watcher reported, as the owner asked for them (see
 * conn_want). */
static inline int conn_revents(const struct conn *c, int revents)
{
	if ((c->flags & CO_FL_XPRT_RD_WANT_WR) && (revents & EV_WRITE))
		revents |= EV_READ;
	if ((c->flags & CO_FL_XPRT_WR_WANT_RD) && (revents & EV_READ))
		revents |= EV_WRITE;
	return revents;
}
/* Stops the watcher, drops pending events and closes the socket. */
void conn_close(struct conn *c, struct ev_loop *loop);
static inline int conn_is_open(const struct conn *c) { return c->fd >= 0; }

static inline ssize_t conn_recv(struct conn *c, char *buf, size_t len)
{
	return c->xprt->recv(c, buf, len);
}
static inline ssize_t conn_send(struct conn *c, const char *buf, size_t len)
{
	return c->xprt->send(c, buf, len);
}
void conn_shutw(struct conn *c);

/* Starts a non-blocking connect to <sa>. Returns 0 (in progress or done,
 * CO_FL_CONNECTING tells), or -1 with c->err set. */
int conn_connect(struct conn *c, const struct sockaddr *sa, socklen_t salen);
/* After a write event while connecting: 0 when connected, -1 on failure
 * (c->err set), 1 still in progress. */
int conn_connect_done(struct conn *c);

#endif
