/* Listening sockets: binding (or adopting inherited ones), accepting, and
 * pausing while a connection limit is reached. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <proxyd/addr.h>
#include <proxyd/diag.h>
#include <proxyd/global.h>
#include <proxyd/fd_handover.h>
#include <proxyd/listener.h>
#include <proxyd/log.h>
#include <proxyd/proxy.h>
#include <proxyd/stream.h>
#include <proxyd/thread.h>

static int fe_maxconn(const struct proxy *fe)
{
	return fe->c.maxconn ? fe->c.maxconn : global.maxconn;
}

/* A unix socket's file: remembered so that, at exit, the path is removed
 * only while it still names our socket (a new process may have bound a new
 * one there in the meantime). */
static void remember_file(struct listener *li)
{
	struct stat st;

	if (li->addr.ss_family == AF_UNIX && stat(((struct sockaddr_un *)&li->addr)->sun_path, &st) == 0) {
		li->ux_dev = st.st_dev;
		li->ux_ino = st.st_ino;
	}
}

static int bind_one(struct listener *li)
{
	struct sockaddr *sa = (struct sockaddr *)&li->addr;
	char where[256];
	int one = 1, fd;

	addr_str(sa, where, sizeof(where));
	if (sa->sa_family == AF_UNIX)
		snprintf(where, sizeof(where), "%s", ((struct sockaddr_un *)sa)->sun_path);

	if (li->inherited) {
		int acc = 0;
		socklen_t l = sizeof(acc);
		if (getsockopt(li->fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &l) < 0 || !acc) {
			ha_alert("Starting %s %s: inherited fd %d is not a listening socket [%s:%d]",
			         (li->fe->cap & PR_CAP_BE) ? "proxy" : "frontend", li->fe->id, li->fd,
			         li->bind->file, li->bind->line);
			return -1;
		}
		fcntl(li->fd, F_SETFL, fcntl(li->fd, F_GETFL) | O_NONBLOCK);
		fcntl(li->fd, F_SETFD, FD_CLOEXEC);
		return 0;
	}

	fd = handover_take(&li->addr, li->addrlen);
	if (fd >= 0) {
		/* a previous process listened there: take its socket over */
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		li->fd = fd;
		remember_file(li);
		return 0;
	}
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (sa->sa_family == AF_UNIX) {
		struct stat st;
		const char *path = ((struct sockaddr_un *)sa)->sun_path;
		/* a stale socket from a previous run would make bind() fail */
		if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(path);
	} else {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	}
	if (bind(fd, sa, li->addrlen) < 0)
		goto fail;
	int backlog = li->bind->backlog ? li->bind->backlog : fe_maxconn(li->fe);
	if (listen(fd, backlog) < 0)
		goto fail;
	li->fd = fd;
	remember_file(li);
	return 0;
fail:
	ha_alert("Starting %s %s: cannot bind socket (%s) [%s]", (li->fe->cap & PR_CAP_BE) ? "proxy" : "frontend",
	         li->fe->id, strerror(errno), where);
	if (fd >= 0)
		close(fd);
	return -1;
}

int listeners_bind_all(void)
{
	struct proxy *px;
	struct listener *li;
	int err = 0;

	list_for_each(px, &proxies, list)
		list_for_each(li, &px->listeners, fe_el)
			if (bind_one(li) < 0)
				err = -1;
	handover_close_unused();
	return err;
}

static void li_pause(struct listener *li, struct thread_ctx *th)
{
	if (li->state == LI_READY) {
		ev_io_stop(th->loop, &li->io);
		li->state = LI_PAUSED;
	}
}

static void li_resume(struct listener *li, struct thread_ctx *th)
{
	if (global.sig_paused)
		return;   /* SIGTTOU: only SIGTTIN resumes */
	if (li->state == LI_PAUSED && li->fd >= 0) {
		ev_io_start(th->loop, &li->io);
		li->state = LI_READY;
	}
}

static void pause_all(struct thread_ctx *th)
{
	struct proxy *px;
	struct listener *li;

	list_for_each(px, &proxies, list)
		list_for_each(li, &px->listeners, fe_el)
			li_pause(li, th);
	global.listeners_paused = 1;
}

static void resume_after_error(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct thread_ctx *th = w->data;
	struct proxy *px;
	struct listener *li;

	list_for_each(px, &proxies, list)
		list_for_each(li, &px->listeners, fe_el)
			if (li->state == LI_PAUSED && !px->listeners_paused && !global.listeners_paused &&
			    (!li->bind->maxconn || li->nbconn < li->bind->maxconn))
				li_resume(li, th);
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct listener *li = w->data;
	struct proxy *fe = li->fe;
	struct thread_ctx *th = curr_th;

	for (int i = 0; i < global.maxaccept; i++) {
		if (global.actconn >= global.maxconn) {
			pause_all(th);
			return;
		}
		if (fe->feconn >= fe_maxconn(fe)) {
			struct listener *l;
			list_for_each(l, &fe->listeners, fe_el)
				li_pause(l, th);
			fe->listeners_paused = 1;
			return;
		}
		if (li->bind->maxconn && li->nbconn >= li->bind->maxconn) {
			li_pause(li, th);
			return;
		}

		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		int fd = accept4(li->fd, (struct sockaddr *)&from, &fromlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* the pending connection stays in the backlog: stop
				 * polling for it (it would wake us in a loop) and look
				 * again shortly or when a connection ends */
				ha_warning("accept() failed on %s: %s; pausing this listener for 100ms", fe->id,
				           strerror(errno));
				li_pause(li, th);
				if (!ev_is_active(&th->accept_retry)) {
					ev_timer_init(&th->accept_retry, resume_after_error, 0.1, 0.);
					th->accept_retry.data = th;
					ev_timer_start(loop, &th->accept_retry);
				}
			}
			return;
		}
		if (from.ss_family == AF_INET || from.ss_family == AF_INET6) {
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		} else {
			/* unix sockets have no peer address worth keeping */
			memset(&from, 0, sizeof(from));
			from.ss_family = AF_UNIX;
			fromlen = sizeof(sa_family_t);
		}
		li->nbconn++;
		global.actconn++;
		global.cum_conns++;
		stream_new(th, li, fd, (struct sockaddr *)&from, fromlen);
	}
}

void listeners_start(struct thread_ctx *th)
{
	struct proxy *px;
	struct listener *li;

	list_for_each(px, &proxies, list) {
		list_for_each(li, &px->listeners, fe_el) {
			ev_io_init(&li->io, accept_cb, li->fd, EV_READ);
			li->io.data = li;
			ev_io_start(th->loop, &li->io);
			li->state = LI_READY;
		}
	}
}

void listener_release(struct listener *li, struct thread_ctx *th)
{
	struct proxy *fe = li->fe;

	li->nbconn--;
	global.actconn--;
	if (global.listeners_paused && global.actconn < global.maxconn) {
		struct proxy *px;
		struct listener *l;
		global.listeners_paused = 0;
		list_for_each(px, &proxies, list)
			if (!px->listeners_paused)
				list_for_each(l, &px->listeners, fe_el)
					if (!l->bind->maxconn || l->nbconn < l->bind->maxconn)
						li_resume(l, th);
	}
	if (fe->listeners_paused && fe->feconn < fe_maxconn(fe) && !global.listeners_paused) {
		struct listener *l;
		fe->listeners_paused = 0;
		list_for_each(l, &fe->listeners, fe_el)
			if (!l->bind->maxconn || l->nbconn < l->bind->maxconn)
				li_resume(l, th);
	}
	if (li->state == LI_PAUSED && !fe->listeners_paused && !global.listeners_paused &&
	    (!li->bind->maxconn || li->nbconn < li->bind->maxconn))
		li_resume(li, th);
}

/* Closes one listener. Its unix socket file is removed unless another
 * process may be using it: fd@ sockets belong to whoever passed them, and
 * after _getsocks the new process accepts on this very socket (same file);
 * a file replaced by someone else's bind is not ours any more. */
static void li_close(struct listener *li)
{
	if (li->fd < 0)
		return;
	if (curr_th)
		ev_io_stop(curr_th->loop, &li->io);
	/* in master-worker mode the master keeps the socket (and its file)
	 * for the next worker */
	if (!li->inherited && !global.fds_handed_over && !(global.mode & MODE_MWORKER) &&
	    li->addr.ss_family == AF_UNIX) {
		const char *path = ((struct sockaddr_un *)&li->addr)->sun_path;
		struct stat st;
		if (stat(path, &st) == 0 && st.st_dev == li->ux_dev && st.st_ino == li->ux_ino)
			unlink(path);
	}
	close(li->fd);
	li->fd = -1;
	li->state = LI_CLOSED;
}

void listeners_close_all(void)
{
	struct proxy *px;
	struct listener *li;

	list_for_each(px, &proxies, list)
		list_for_each(li, &px->listeners, fe_el)
			li_close(li);
}

void listeners_close_proxy(struct proxy *px)
{
	struct listener *li;

	list_for_each(li, &px->listeners, fe_el)
		li_close(li);
}

static const char *px_kind(const struct proxy *px)
{
	return (px->cap & PR_CAP_BE) ? "proxy" : "frontend";
}

/* A paused TCP listener refuses connections as HAProxy's do: shutdown()
 * takes it out of the listening state while keeping its port, listen()
 * brings it back. A unix socket only stops being polled. */
void listeners_pause_all(void)
{
	struct proxy *px;
	struct listener *li;

	list_for_each(px, &proxies, list) {
		int n = 0;
		list_for_each(li, &px->listeners, fe_el) {
			if (li->fd < 0)
				continue;
			if (curr_th)
				ev_io_stop(curr_th->loop, &li->io);
			if (li->addr.ss_family != AF_UNIX)
				shutdown(li->fd, SHUT_RD);
			li->state = LI_PAUSED;
			n++;
		}
		if (n)
			log_event(px, LOGL_WARNING, DIAG_WARNING, "Paused %s %s.", px_kind(px), px->id);
	}
	global.sig_paused = 1;
}

void listeners_resume_all(void)
{
	struct proxy *px;
	struct listener *li;

	global.sig_paused = 0;
	list_for_each(px, &proxies, list) {
		int n = 0;
		list_for_each(li, &px->listeners, fe_el) {
			if (li->fd < 0 || li->state != LI_PAUSED)
				continue;
			if (li->addr.ss_family != AF_UNIX) {
				int backlog = li->bind->backlog ? li->bind->backlog : fe_maxconn(li->fe);
				if (listen(li->fd, backlog) < 0) {
					ha_alert("Resuming %s %s: listen() failed (%s)", px_kind(px), px->id, strerror(errno));
					continue;
				}
			}
			li_resume(li, curr_th);
			n++;
		}
		if (n)
			log_event(px, LOGL_WARNING, DIAG_WARNING, "Resumed %s %s.", px_kind(px), px->id);
	}
}
