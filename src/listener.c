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
#include <stdlib.h>
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

	fd = handover_take(&li->addr);
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

/* The sockets of threads 1..N-1: their own SO_REUSEPORT socket on an IP
 * address, else thread 0's, shared. */
static int bind_threads(struct listener *li)
{
	struct sockaddr *sa = (struct sockaddr *)&li->addr;
	int one = 1;

	li->thr = calloc((size_t)global.nbthread, sizeof(*li->thr));
	if (!li->thr)
		return -1;
	for (int t = 0; t < global.nbthread; t++) {
		struct li_thr *lt = &li->thr[t];
		lt->li = li;
		lt->tid = t;
		lt->fd = li->fd;
		if (t == 0 || li->inherited || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
			continue;
		/* the previous process's socket for the same thread slot:
		 * taking it keeps its queue of connections being accepted */
		int fd = handover_take(&li->addr);
		if (fd >= 0) {
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
			fcntl(fd, F_SETFD, FD_CLOEXEC);
			lt->fd = fd;
			lt->own_fd = 1;
			continue;
		}
		fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
		int backlog = li->bind->backlog ? li->bind->backlog : fe_maxconn(li->fe);
		if (bind(fd, sa, li->addrlen) < 0 || listen(fd, backlog) < 0) {
			/* e.g. a socket taken over without SO_REUSEPORT: shared */
			close(fd);
			continue;
		}
		lt->fd = fd;
		lt->own_fd = 1;
	}
	return 0;
}

static const char *px_kind(const struct proxy *px)
{
	return (px->cap & PR_CAP_BE) ? "proxy" : "frontend";
}

int listeners_bind_all(void)
{
	struct proxy *px;
	struct listener *li;
	int err = 0;

	list_for_each(px, &proxies, list)
		list_for_each(li, &px->listeners, fe_el)
			if (bind_one(li) < 0 || bind_threads(li) < 0)
				err = -1;
	/* an old process with more threads handed over more sockets per
	 * address than there are threads: closing them would reset what waits
	 * in their queues, and the kernel keeps sending connections to them
	 * while they are open; each is given to a thread, which watches it
	 * next to its own */
	list_for_each(px, &proxies, list)
		list_for_each(li, &px->listeners, fe_el) {
			int fd;
			while (li->thr && (fd = handover_take(&li->addr)) >= 0) {
				struct li_thr *nt = realloc(li->thr, (size_t)(global.nbthread + li->nx + 1) * sizeof(*nt));
				if (!nt) {
					close(fd);
					continue;
				}
				li->thr = nt;
				struct li_thr *lt = &li->thr[global.nbthread + li->nx];
				memset(lt, 0, sizeof(*lt));
				fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
				fcntl(fd, F_SETFD, FD_CLOEXEC);
				lt->li = li;
				lt->fd = fd;
				lt->own_fd = 1;
				lt->tid = global.nbthread - 1 - li->nx % global.nbthread;
				li->nx++;
			}
			if (li->nx)
				ha_diag("%s %s: %d listening socket%s more than threads handed over, watched by the "
				        "threads in turn", px_kind(px), px->id, li->nx, li->nx > 1 ? "s" : "");
		}
	handover_close_unused();
	return err;
}

/* The entries of <li> that thread <tid> watches after <lt>: its own (the
 * first), then the extra sockets given to it; NULL after the last. */
static struct li_thr *next_of_thread(struct listener *li, struct li_thr *lt, int tid)
{
	struct li_thr *end = li->thr + global.nbthread + li->nx;

	for (lt = lt < li->thr + global.nbthread ? li->thr + global.nbthread : lt + 1; lt < end; lt++)
		if (lt->tid == tid)
			return lt;
	return NULL;
}

#define for_each_of_thread(li, tid, lt) \
	for (struct li_thr *lt = &(li)->thr[tid]; lt; lt = next_of_thread(li, lt, tid))

/* A listener's distinct sockets: its own, then the threads' own ones and
 * the extra ones. */
#define for_each_sock(li, fd, t) \
	for (int t = -1; t < (li->thr ? global.nbthread + li->nx : 0); t++) \
		if ((fd = t < 0 ? li->fd : (li->thr[t].own_fd ? li->thr[t].fd : -1)) >= 0)

int listener_sockets(const struct listener *li, int *fds, int max)
{
	int n = 0, fd;

	for_each_sock(li, fd, t)
		if (n < max)
			fds[n++] = fd;
	return n;
}

static void li_pause(struct listener *li, struct thread_ctx *th)
{
	for_each_of_thread(li, th->tid, lt)
		if (lt->state == LI_READY) {
			ev_io_stop(th->loop, &lt->io);
			lt->state = LI_PAUSED;
		}
}

static void li_resume(struct listener *li, struct thread_ctx *th)
{
	if (global.sig_paused)
		return;   /* SIGTTOU: only SIGTTIN resumes */
	for_each_of_thread(li, th->tid, lt)
		if (lt->state == LI_PAUSED && lt->fd >= 0) {
			ev_io_start(th->loop, &lt->io);
			lt->state = LI_READY;
		}
}

static int li_paused(const struct listener *li, const struct thread_ctx *th)
{
	return li->thr[th->tid].state == LI_PAUSED;
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
			if (li_paused(li, th) && !px->listeners_paused && !global.listeners_paused &&
			    (!li->bind->maxconn || li->nbconn < li->bind->maxconn))
				li_resume(li, th);
}

static void kick_all(struct thread_ctx *self);

/* Gives back what accept_cb() reserved for a connection that did not
 * become a stream. */
static void unreserve(struct listener *li)
{
	li->nbconn--;
	li->fe->feconn--;
	global.actconn--;
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct li_thr *lt = w->data;
	struct listener *li = lt->li;
	struct proxy *fe = li->fe;
	struct thread_ctx *th = curr_th;

	for (int i = 0; i < global.maxaccept; i++) {
		/* the global, frontend and bind limits are reserved before
		 * accepting, so that the threads together never go beyond them */
		if (global.actconn++ >= global.maxconn) {
			global.actconn--;
			pause_all(th);
			/* a connection of another thread may have ended between
			 * the test and the flag: it did not see the flag */
			if (global.actconn < global.maxconn) {
				global.listeners_paused = 0;
				listeners_resume(th);
				kick_all(th);
			}
			return;
		}
		if (fe->feconn++ >= fe_maxconn(fe)) {
			struct listener *l;
			fe->feconn--;
			global.actconn--;
			list_for_each(l, &fe->listeners, fe_el)
				li_pause(l, th);
			fe->listeners_paused = 1;
			if (fe->feconn < fe_maxconn(fe)) {
				fe->listeners_paused = 0;
				listeners_resume(th);
				kick_all(th);
			}
			return;
		}
		if (li->bind->maxconn && li->nbconn++ >= li->bind->maxconn) {
			li->nbconn--;
			fe->feconn--;
			global.actconn--;
			li_pause(li, th);
			if (li->nbconn < li->bind->maxconn)
				li_resume(li, th);
			return;
		}
		if (!li->bind->maxconn)
			li->nbconn++;

		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		int fd = accept4(lt->fd, (struct sockaddr *)&from, &fromlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED) {
				unreserve(li);
				continue;
			}
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* the pending connection stays in the backlog: stop
				 * polling for it (it would wake us in a loop) and look
				 * again shortly or when a connection ends */
				ha_warning("accept() failed on %s: %s; pausing this listener for 100ms", fe->id,
				           strerror(errno));
				unreserve(li);
				li_pause(li, th);
				if (!ev_is_active(&th->accept_retry)) {
					ev_timer_init(&th->accept_retry, resume_after_error, 0.1, 0.);
					th->accept_retry.data = th;
					ev_timer_start(loop, &th->accept_retry);
				}
				return;
			}
			unreserve(li);
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
		global.cum_conns++;
		th->accepted++;
		if (!stream_new(th, li, fd, (struct sockaddr *)&from, fromlen))
			unreserve(li);   /* out of memory: the socket was closed */
	}
}

void listeners_start(struct thread_ctx *th)
{
	struct proxy *px;
	struct listener *li;

	list_for_each(px, &proxies, list) {
		list_for_each(li, &px->listeners, fe_el) {
			for_each_of_thread(li, th->tid, lt) {
				ev_io_init(&lt->io, accept_cb, lt->fd, EV_READ);
				lt->io.data = lt;
				ev_io_start(th->loop, &lt->io);
				lt->state = LI_READY;
			}
			if (th->tid == 0)
				li->state = LI_READY;
		}
	}
}

void listeners_resume(struct thread_ctx *th)
{
	struct proxy *px;
	struct listener *li;

	list_for_each(px, &proxies, list)
		if (!px->listeners_paused && !global.listeners_paused)
			list_for_each(li, &px->listeners, fe_el)
				if (!li->bind->maxconn || li->nbconn < li->bind->maxconn)
					li_resume(li, th);
}

/* Limits that paused listeners were lifted: every thread looks at its own
 * listeners (another thread may have paused its own and have no connection
 * left whose end would resume them). */
static void kick_all(struct thread_ctx *self)
{
	for (int t = 0; t < global.nbthread; t++) {
		struct thread_ctx *th = &threads[t];
		if (th == self)
			continue;
		th->listeners_kicked = 1;   /* a hint: read by its owner after the wake */
		thread_wake(th);
	}
}

void listener_release(struct listener *li, struct thread_ctx *th)
{
	struct proxy *fe = li->fe;
	int kick = 0;

	li->nbconn--;
	global.actconn--;
	if (threads_multi() && (global.listeners_paused || fe->listeners_paused ||
	                        (li->bind->maxconn && li->nbconn + 1 >= li->bind->maxconn)))
		kick = 1;
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
	if (li_paused(li, th) && !fe->listeners_paused && !global.listeners_paused &&
	    (!li->bind->maxconn || li->nbconn < li->bind->maxconn))
		li_resume(li, th);
	if (kick)
		kick_all(th);
}

/* Removes a unix listener's file unless another process may be using it:
 * fd@ sockets belong to whoever passed them, after _getsocks the new
 * process accepts on this very socket (same file), in master-worker mode
 * the master keeps it for the next worker, and a file replaced by someone
 * else's bind is not ours any more. */
static void li_remove_file(struct listener *li)
{
	if (li->inherited || global.fds_handed_over || (global.mode & MODE_MWORKER) ||
	    li->addr.ss_family != AF_UNIX)
		return;
	const char *path = ((struct sockaddr_un *)&li->addr)->sun_path;
	struct stat st;
	if (stat(path, &st) == 0 && st.st_dev == li->ux_dev && st.st_ino == li->ux_ino)
		unlink(path);
}

/* Closes the sockets of <li>: each thread's own, then the shared one. The
 * loops must not be watching them any more (stopped, or see close_task);
 * each thread marked its own state closed. */
static void li_close_fds(struct listener *li)
{
	for (int t = 0; li->thr && t < global.nbthread + li->nx; t++) {
		struct li_thr *lt = &li->thr[t];
		if (lt->own_fd && lt->fd >= 0)
			close(lt->fd);
		lt->fd = -1;
	}
	if (li->fd < 0)
		return;
	li_remove_file(li);
	close(li->fd);
	li->fd = -1;
}

static void close_rounds_forget(void);

void listeners_close_all(void)
{
	struct proxy *px;
	struct listener *li;

	close_rounds_forget();
	list_for_each(px, &proxies, list) {
		list_for_each(li, &px->listeners, fe_el) {
			for (int t = 0; li->thr && threads && t < global.nbthread + li->nx; t++) {
				ev_io_stop(threads[li->thr[t].tid].loop, &li->thr[t].io);
				li->thr[t].state = LI_CLOSED;
			}
			li_close_fds(li);
			free(li->thr);
			li->thr = NULL;
			li->nx = 0;
		}
	}
}

/* Soft stop of one proxy: every thread stops watching its sockets on its
 * own loop; the last one to be done closes them all, so that no loop ever
 * watches a closed descriptor. libev applies ev_io_stop() to epoll at the
 * loop's next iteration, before it runs its timers: each thread counts
 * itself done from a zero-delay timer, so that no epoll_ctl() of a loop
 * ever meets a descriptor closed (or already reused) by another thread. */
struct close_round {
	struct close_round *next;     /* rounds not finished (see close_rounds_forget) */
	_Atomic int left;
	struct proxy *px;
	ev_timer later[];             /* one per thread */
};

static pthread_mutex_t rounds_lock = PTHREAD_MUTEX_INITIALIZER;
static struct close_round *rounds;

static void round_unlink(struct close_round *r)
{
	pthread_mutex_lock(&rounds_lock);
	for (struct close_round **p = &rounds; *p; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
	pthread_mutex_unlock(&rounds_lock);
}

static void close_later_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct close_round *r = w->data;
	struct listener *li;

	if (--r->left > 0)
		return;
	/* Sockets that another process holds too (handed over with -x, or the
	 * master's) stay open until exit: epoll forgets a registration only
	 * when the last holder closes the socket, so the other loops may still
	 * be told of it and have libev drop it (with epoll_ctl()) on that fd
	 * number, which must not name another socket by then. */
	if (!global.fds_handed_over && !(global.mode & MODE_MWORKER))
		list_for_each(li, &r->px->listeners, fe_el)
			li_close_fds(li);
	round_unlink(r);
	free(r);
}

static void close_task(struct thread_ctx *th, struct th_task *t)
{
	struct close_round *r = t->p1;
	struct listener *li;

	list_for_each(li, &r->px->listeners, fe_el)
		if (li->thr)
			for_each_of_thread(li, th->tid, lt) {
				ev_io_stop(th->loop, &lt->io);
				lt->state = LI_CLOSED;
			}
	ev_timer *w = &r->later[th->tid];
	ev_timer_init(w, close_later_cb, 0., 0.);
	w->data = r;
	ev_timer_start(th->loop, w);
}

/* At exit, with the loops stopped: rounds that did not finish are
 * dropped (their timers stopped); listeners_close_all() closes the
 * sockets. */
static void close_rounds_forget(void)
{
	pthread_mutex_lock(&rounds_lock);
	while (rounds) {
		struct close_round *r = rounds;
		rounds = r->next;
		for (int t = 0; threads && t < global.nbthread; t++)
			ev_timer_stop(threads[t].loop, &r->later[t]);
		free(r);
	}
	pthread_mutex_unlock(&rounds_lock);
}

void listeners_close_proxy(struct proxy *px)
{
	struct listener *li;

	if (!threads) {
		list_for_each(li, &px->listeners, fe_el)
			li_close_fds(li);
		return;
	}
	struct close_round *r = calloc(1, sizeof(*r) + (size_t)global.nbthread * sizeof(ev_timer));
	if (!r)
		return;
	r->left = global.nbthread;
	r->px = px;
	pthread_mutex_lock(&rounds_lock);
	r->next = rounds;
	rounds = r;
	pthread_mutex_unlock(&rounds_lock);
	thread_post_all(close_task, r, NULL, 0, 0);
}

/* Each thread stops (i1 = 1) or starts again (i1 = 0) watching its own
 * sockets. */
static void pause_task(struct thread_ctx *th, struct th_task *t)
{
	struct proxy *px;
	struct listener *li;

	list_for_each(px, &proxies, list)
		list_for_each(li, &px->listeners, fe_el) {
			if (!li->thr || li->thr[th->tid].fd < 0)
				continue;
			if (t->i1)
				li_pause(li, th);
			else
				li_resume(li, th);
		}
}

/* A paused TCP listener refuses connections as HAProxy's do: shutdown()
 * takes it out of the listening state while keeping its port, listen()
 * brings it back. A unix socket only stops being polled. */
void listeners_pause_all(void)
{
	struct proxy *px;
	struct listener *li;
	int fd;

	list_for_each(px, &proxies, list) {
		int n = 0;
		list_for_each(li, &px->listeners, fe_el) {
			if (li->fd < 0)
				continue;
			for_each_sock(li, fd, t)
				if (li->addr.ss_family != AF_UNIX)
					shutdown(fd, SHUT_RD);
			n++;
		}
		if (n)
			log_event(px, LOGL_WARNING, DIAG_WARNING, "Paused %s %s.", px_kind(px), px->id);
	}
	thread_post_all(pause_task, NULL, NULL, 1, 0);
	global.sig_paused = 1;
}

void listeners_resume_all(void)
{
	struct proxy *px;
	struct listener *li;
	int fd;

	global.sig_paused = 0;
	list_for_each(px, &proxies, list) {
		int n = 0;
		list_for_each(li, &px->listeners, fe_el) {
			if (li->fd < 0)
				continue;
			int backlog = li->bind->backlog ? li->bind->backlog : fe_maxconn(li->fe);
			for_each_sock(li, fd, t)
				if (li->addr.ss_family != AF_UNIX && listen(fd, backlog) < 0)
					ha_alert("Resuming %s %s: listen() failed (%s)", px_kind(px), px->id, strerror(errno));
			n++;
		}
		if (n)
			log_event(px, LOGL_WARNING, DIAG_WARNING, "Resumed %s %s.", px_kind(px), px->id);
	}
	thread_post_all(pause_task, NULL, NULL, 0, 0);
}
