/* Socket ends: watcher management, raw transport, non-blocking connect. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <proxyd/conn.h>

static ssize_t raw_recv(struct conn *c, char *buf, size_t len)
{
	ssize_t n;

	do {
		n = recv(c->fd, buf, len, 0);
	} while (n < 0 && errno == EINTR);
	if (n > 0)
		return n;
	if (n == 0) {
		c->flags |= CO_FL_RD_SHUT;
		return 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return -1;
	c->err = errno;
	c->flags |= CO_FL_ERROR;
	return -2;
}

static ssize_t raw_send(struct conn *c, const char *buf, size_t len)
{
	ssize_t n;

	do {
		n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	c->err = errno;
	c->flags |= CO_FL_ERROR;
	return -2;
}

static void raw_shutw(struct conn *c)
{
	shutdown(c->fd, SHUT_WR);
}

static void raw_close(struct conn *c)
{
	close(c->fd);
}

const struct xprt_ops xprt_raw = {
	.name = "raw",
	.recv = raw_recv,
	.send = raw_send,
	.shutw = raw_shutw,
	.close = raw_close,
};

void conn_init(struct conn *c, int fd, void *owner,
               void (*cb)(struct ev_loop *, ev_io *, int), const struct xprt_ops *xprt)
{
	c->fd = fd;
	c->flags = 0;
	c->xprt = xprt;
	c->xprt_ctx = NULL;
	c->owner = owner;
	c->srv = NULL;
	list_init(&c->idle_el);
	c->idle_since = 0;
	c->last_stream = NULL;
	c->err = 0;
	c->hs_err = 0;
	c->sni_hash = 0;
	ev_io_init(&c->io, cb, fd, 0);
	c->io.data = c;
}

void conn_want(struct conn *c, struct ev_loop *loop, int events)
{
	if (c->flags & (CO_FL_HANDSHAKE | CO_FL_XPRT_RD_WANT_WR | CO_FL_XPRT_WR_WANT_RD)) {
		if (c->flags & CO_FL_HANDSHAKE) {
			/* the handshake decides, whatever the owner would like */
			events = ((c->flags & CO_FL_XPRT_WANT_RD) ? EV_READ : 0) |
			         ((c->flags & CO_FL_XPRT_WANT_WR) ? EV_WRITE : 0);
		} else {
			if ((events & EV_READ) && (c->flags & CO_FL_XPRT_RD_WANT_WR))
				events |= EV_WRITE;
			if ((events & EV_WRITE) && (c->flags & CO_FL_XPRT_WR_WANT_RD))
				events |= EV_READ;
		}
	}
	/* decrypted bytes wait in the transport: no socket event would
	 * announce them */
	if ((events & EV_READ) && c->xprt->pending && c->xprt->pending(c))
		ev_feed_event(loop, &c->io, EV_READ);
	if ((c->io.events & (EV_READ | EV_WRITE)) == events && (ev_is_active(&c->io) || !events))
		return;
	ev_io_stop(loop, &c->io);
	if (events) {
		ev_io_set(&c->io, c->fd, events);
		ev_io_start(loop, &c->io);
	} else {
		ev_io_set(&c->io, c->fd, 0);
	}
}

void conn_close(struct conn *c, struct ev_loop *loop)
{
	if (c->fd < 0)
		return;
	ev_io_stop(loop, &c->io);
	ev_clear_pending(loop, &c->io);
	c->xprt->close(c);
	c->fd = -1;
}

void conn_shutw(struct conn *c)
{
	if (c->fd < 0 || (c->flags & CO_FL_WR_SHUT))
		return;
	c->flags |= CO_FL_WR_SHUT;
	c->xprt->shutw(c);
}

int conn_connect(struct conn *c, const struct sockaddr *sa, socklen_t salen)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		c->err = errno;
		return -1;
	}
	if (sa->sa_family != AF_UNIX) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	c->fd = fd;
	c->io.fd = fd;
	if (connect(fd, sa, salen) == 0)
		return 0;
	if (errno == EINPROGRESS || errno == EAGAIN) {
		c->flags |= CO_FL_CONNECTING;
		return 0;
	}
	c->err = errno;
	close(fd);
	c->fd = -1;
	return -1;
}

int conn_connect_done(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (!(c->flags & CO_FL_CONNECTING))
		return 0;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == EINPROGRESS || err == EALREADY)
		return 1;
	if (err) {
		c->err = err;
		c->flags |= CO_FL_ERROR;
		return -1;
	}
	c->flags &= ~CO_FL_CONNECTING;
	return 0;
}
