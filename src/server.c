/* Server-side connection objects and each server's idle pool. Idle
 * connections stay watched: a server closing one, or sending anything on
 * it, makes it unusable and it is closed at once. */
#include <errno.h>
#include <sys/socket.h>

#include <proxyd/conn.h>
#include <proxyd/global.h>
#include <proxyd/server.h>
#include <proxyd/ssl_sock.h>
#include <proxyd/stream.h>
#include <proxyd/thread.h>

/* Forgets the link between a parked connection and the stream that used it
 * last (which prefers it for its next request). */
static void srv_conn_detach_stream(struct conn *c)
{
	if (c->last_stream && c->last_stream->last_conn == c)
		c->last_stream->last_conn = NULL;
	c->last_stream = NULL;
}

void srv_conn_free(struct thread_ctx *th, struct conn *c)
{
	struct server *srv = c->srv;

	if (c->flags & CO_FL_IDLE) {
		list_del_init(&c->idle_el);
		srv->pt[th->tid].nb_idle--;
		c->flags &= ~CO_FL_IDLE;
	}
	srv_conn_detach_stream(c);
	if (conn_is_open(c)) {
		conn_close(c, th->loop);
		if (srv)
			srv->cur_conns--;
	}
	pool_free(&th->pool_conn, c);
}

static void idle_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;
	struct thread_ctx *th = curr_th;
	char byte;

	if (conn_is_ssl(c)) {
		if (!ssl_sock_idle_alive(c))
			srv_conn_free(th, c);
		return;
	}
	/* Anything readable on an idle connection is its end: EOF, an error,
	 * or bytes the server had no business sending. */
	ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	srv_conn_free(th, c);
}

void srv_add_idle(struct server *srv, struct thread_ctx *th, struct conn *c, int private)
{
	struct srv_per_thread *pt = &srv->pt[th->tid];

	c->flags &= ~CO_FL_WAS_IDLE;
	c->owner = srv;
	c->idle_since = th_now_ms(th);
	ev_set_cb(&c->io, idle_io_cb);
	conn_want(c, th->loop, EV_READ);
	if (private) {
		/* stays with its client connection only, outside the pool */
		c->flags |= CO_FL_PRIVATE;
		return;
	}
	c->flags |= CO_FL_IDLE;
	list_append(&pt->idle, &c->idle_el);
	pt->nb_idle++;
	if (pt->nb_idle > global.pool_max_idle) {
		srv_conn_free(th, list_first(&pt->idle, struct conn, idle_el));
	}
}

struct conn *srv_take_idle(struct server *srv, struct thread_ctx *th, struct conn *prefer,
                           enum idle_pick pick, uint32_t sni_hash)
{
	struct srv_per_thread *pt = &srv->pt[th->tid];
	struct conn *c = NULL, *it;

	if (prefer && prefer->srv == srv && (prefer->flags & (CO_FL_IDLE | CO_FL_PRIVATE)) &&
	    prefer->sni_hash == sni_hash) {
		c = prefer;
	} else if (pick != IDLE_PICK_OWN) {
		/* the warmest first; a TLS connection opened for another SNI
		 * is not this request's */
		for (it = list_last(&pt->idle, struct conn, idle_el); &it->idle_el != &pt->idle;
		     it = list_elem(it->idle_el.prev, struct conn, idle_el)) {
			if (it->sni_hash == sni_hash && (pick == IDLE_PICK_ANY || (it->flags & CO_FL_REUSED))) {
				c = it;
				break;
			}
		}
	}
	if (!c)
		return NULL;
	if (c->flags & CO_FL_IDLE) {
		list_del_init(&c->idle_el);
		pt->nb_idle--;
	}
	/* REUSED: it has now served a request after being parked, which
	 * proves the server keeps connections alive (http-reuse aggressive) */
	c->flags &= ~(CO_FL_IDLE | CO_FL_PRIVATE);
	c->flags |= CO_FL_WAS_IDLE | CO_FL_REUSED;
	srv_conn_detach_stream(c);
	return c;
}

void srv_purge_idle(struct server *srv, struct thread_ctx *th, uint64_t now_ms, int all)
{
	struct srv_per_thread *pt = &srv->pt[th->tid];

	while (!list_empty(&pt->idle)) {
		struct conn *c = list_first(&pt->idle, struct conn, idle_el);
		if (!all && c->idle_since + (uint64_t)global.idle_purge_ms > now_ms)
			break;
		srv_conn_free(th, c);
	}
}
