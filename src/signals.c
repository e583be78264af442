/* Signals of a running process, as HAProxy handles them:
 *   SIGUSR1  soft stop: stop listening at once, serve the requests in
 *            progress (with "Connection: close"), close idle keep-alive
 *            connections (after a short grace), stop health checks, exit 0 once the last stream
 *            is gone, or when "hard-stop-after" expires;
 *   SIGHUP   dump every server's state to the logs;
 *   SIGTTOU  pause the listeners, SIGTTIN resume them.
 * SIGINT and SIGTERM (stop at once) belong to the thread loop (thread.c).
 * Every handler is an ev_signal on the first loop: it runs between events,
 * never inside a system call, so it can touch anything. */
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <signal.h>

#include <proxyd/cfg.h>
#include <proxyd/check.h>
#include <proxyd/cli.h>
#include <proxyd/counters.h>
#include <proxyd/diag.h>
#include <proxyd/global.h>
#include <proxyd/listener.h>
#include <proxyd/log.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>
#include <proxyd/signals.h>
#include <proxyd/stream.h>
#include <proxyd/thread.h>

static struct {
	struct ev_loop *loop;
	ev_signal usr1, hup, ttou, ttin;
	ev_timer watch;        /* soft stop: looks for the last stream */
	ev_timer hard;         /* hard-stop-after */
} sig;

static const struct cfg_kw signals_kws[] = {
	{ "hard-stop-after", CFG_SEC_GLOBAL, 1, 1, NULL, SLOT_TIME, TGT_GLOBAL,
	  offsetof(struct global, hard_stop_after), 0, 0, 0, "<time>" },
	{ NULL }
};
CFG_REGISTER(signals_kws);

static void sum(struct px_counters *out, const struct px_counters *per_thread)
{
	*out = (struct px_counters){ 0 };
	if (per_thread)
		counters_sum(out, per_thread, global.nbthread);
}

static void proxy_stopped(const struct proxy *px)
{
	struct px_counters fe, be;

	sum(&fe, px->fe_counters);
	sum(&be, px->be_counters);
	log_event(px, LOGL_WARNING, DIAG_WARNING, "Proxy %s stopped (cumulated conns: FE: %llu, BE: %llu).", px->id,
	          (unsigned long long)fe.cum_conn, (unsigned long long)be.cum_sess);
}

/* The process is about to leave its loop after a soft stop: the backends
 * are reported stopped last, as HAProxy does at exit. */
/* The end of a stop: the backends are reported stopped, the watcher ends. */
static void stop_backends(void)
{
	struct proxy *px;

	list_for_each(px, &proxies, list)
		if (!(px->cap & PR_CAP_FE))
			proxy_stopped(px);
	ev_timer_stop(sig.loop, &sig.watch);
}

static void stop_now(void)
{
	stop_backends();
	ev_timer_stop(sig.loop, &sig.hard);
	threads_stop_all();
}

static void close_idle_streams(struct thread_ctx *th);

/* Runs on each thread for its own streams (i1: also drop its idle server
 * connections, once). */
static void idle_task(struct thread_ctx *th, struct th_task *t)
{
	close_idle_streams(th);
	if (!t->i1)
		return;
	struct proxy *px;
	struct server *srv;
	list_for_each(px, &proxies, list)
		if (px->cap & PR_CAP_BE)
			list_for_each(srv, &px->servers, list)
				srv_purge_idle(srv, th, 0, 1);
}

static void watch_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	int left = 0;

	thread_post_all(idle_task, NULL, NULL, 0, 0);
	for (int t = 0; t < global.nbthread; t++)
		left += __atomic_load_n(&threads[t].nb_streams, __ATOMIC_RELAXED);
	if (!left)
		stop_now();
}

/* The hard stop: each thread answers the requests still waiting for their
 * response with a 502, as HAProxy does, before the loops stop; the last
 * thread to be done stops them all (the fallback timer does if one never
 * gets to it). The other streams are closed on the way out. */
static _Atomic int hard_left;

static void hard_task(struct thread_ctx *th, struct th_task *t)
{
	struct stream *s, *tmp;

	list_for_each_safe(s, tmp, &th->streams, list)
		stream_hard_stop(s);
	if (--hard_left == 0)
		threads_stop_all();
}

static void hard_fallback_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	threads_stop_all();
}

static void hard_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	log_event(NULL, LOGL_WARNING, DIAG_WARNING, "soft-stop running for too long, performing a hard-stop.");
	stop_backends();
	ev_timer_init(&sig.hard, hard_fallback_cb, 0.5, 0.);
	ev_timer_start(sig.loop, &sig.hard);
	hard_left = global.nbthread;
	thread_post_all(hard_task, NULL, NULL, 0, 0);
}

/* Idle client connections (no request in progress) are closed once they
 * have been idle for SOFT_STOP_IDLE_GRACE_MS, and a request that arrives
 * before is served with "Connection: close". Closing at once, as HAProxy
 * does, races with a client sending its next request on the connection:
 * that request would fail. Fresh connections that sent nothing yet get the
 * same grace: the client is likely about to send its first request. */
#define SOFT_STOP_IDLE_GRACE_MS 1000

static void close_idle_streams(struct thread_ctx *th)
{
	struct stream *s, *tmp;
	uint64_t now = th_now_ms(th);
	char c;

	list_for_each_safe(s, tmp, &th->streams, list) {
		if (!(s->flags & SF_HTTP) || s->txn || (s->flags & SF_TUNNEL))
			continue;
		/* a connection just accepted: its first request is on its way
		 * (a reload must not fail it); it is served with "close" */
		if (!(s->flags & SF_NOT_FIRST))
			continue;
		if (s->req.area && s->req.end > s->req.start)
			continue;   /* a pipelined request is there */
		if (now < s->t_idle_from + SOFT_STOP_IDLE_GRACE_MS)
			continue;
		if (recv(s->cli.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
			continue;
		s->flags |= SF_KILL;
		stream_process(s);
	}
}

void soft_stop(void)
{
	struct proxy *px;

	if (global.stopping)
		return;
	global.stopping = 1;
	/* close, not shut down: after a reload with -x the new process
	 * accepts on these very sockets */
	list_for_each(px, &proxies, list) {
		if (!(px->cap & PR_CAP_FE) || list_empty(&px->listeners))
			continue;
		listeners_close_proxy(px);
		proxy_stopped(px);
	}
	cli_unbind();
	checks_stop();
	thread_post_all(idle_task, NULL, NULL, 1, 0);
	if (global.hard_stop_after) {
		ev_timer_init(&sig.hard, hard_cb, global.hard_stop_after / 1000.0, 0.);
		ev_timer_start(sig.loop, &sig.hard);
	}
	ev_timer_init(&sig.watch, watch_cb, 0., 0.02);
	ev_timer_start(sig.loop, &sig.watch);
}

static void usr1_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	soft_stop();
}

static const char *srv_state_word(const struct server *srv)
{
	/* a server in maintenance counts as stopped, as in HAProxy */
	return srv->state != SRV_ST_STOPPED && !(srv->admin & SRV_ADMF_MAINT) ? "UP" : "DOWN";
}

/* SIGHUP: one block per proxy in the proxy's logs, as HAProxy writes it;
 * stderr gets a single heading and the same lines. */
static void hup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct proxy *px;
	struct server *srv;

	ha_warning("SIGHUP received, dumping servers states.");
	list_for_each(px, &proxies, list) {
		struct px_counters fe, be, sc;
		int pend = px->nb_queued;

		log_msg(px, LOGL_NOTICE, "SIGHUP received, dumping servers states for proxy %s.", px->id);
		list_for_each(srv, &px->servers, list) {
			sum(&sc, srv->counters);
			pend += srv->nb_queued;
			log_event(px, LOGL_NOTICE, DIAG_WARNING, "SIGHUP: Server %s/%s is %s. Conn: %d act, %d pend, %llu tot.",
			          px->id, srv->id, srv_state_word(srv), srv->cur_sess, srv->nb_queued,
			          (unsigned long long)sc.cum_sess);
		}
		sum(&fe, px->fe_counters);
		sum(&be, px->be_counters);
		char what[128];
		if (!(px->cap & PR_CAP_BE) || list_empty(&px->servers))
			snprintf(what, sizeof(what), "has no servers.");
		else if (!px->srv_act && !px->srv_bck)
			snprintf(what, sizeof(what), "has no server available !");
		else
			snprintf(what, sizeof(what), "has %d active servers and %d backup servers available.", px->srv_act,
			         px->srv_bck);
		log_event(px, LOGL_NOTICE, DIAG_WARNING,
		          "SIGHUP: Proxy %s %s Conn: act(FE+BE): %d+%d, %d pend (%d unass), tot(FE+BE): %llu+%llu.", px->id,
		          what, px->feconn, px->beconn, pend, px->nb_queued, (unsigned long long)fe.cum_conn,
		          (unsigned long long)be.cum_sess);
	}
}

static void ttou_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	if (!global.stopping)
		listeners_pause_all();
}

static void ttin_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	if (!global.stopping)
		listeners_resume_all();
}

/* The signals whose default action (terminate, stop) is not what they
 * mean to proxyd: one sent between the binding of the listeners (when a
 * script may already find the process) and signals_start() waits,
 * pending, instead of killing or stopping the process. */
static void operator_signals(int how)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTTOU);
	sigaddset(&set, SIGTTIN);
	sigprocmask(how, &set, NULL);
}

void signals_defer(void)
{
	operator_signals(SIG_BLOCK);
}

void signals_start(struct ev_loop *loop)
{
	sig.loop = loop;
	ev_signal_init(&sig.usr1, usr1_cb, SIGUSR1);
	ev_signal_init(&sig.hup, hup_cb, SIGHUP);
	ev_signal_init(&sig.ttou, ttou_cb, SIGTTOU);
	ev_signal_init(&sig.ttin, ttin_cb, SIGTTIN);
	ev_signal_start(loop, &sig.usr1);
	ev_signal_start(loop, &sig.hup);
	ev_signal_start(loop, &sig.ttou);
	ev_signal_start(loop, &sig.ttin);
	operator_signals(SIG_UNBLOCK);   /* what came meanwhile is handled now */
	ev_init(&sig.watch, watch_cb);
	ev_init(&sig.hard, hard_cb);
}

void signals_stop(void)
{
	if (!sig.loop)
		return;
	ev_signal_stop(sig.loop, &sig.usr1);
	ev_signal_stop(sig.loop, &sig.hup);
	ev_signal_stop(sig.loop, &sig.ttou);
	ev_signal_stop(sig.loop, &sig.ttin);
	ev_timer_stop(sig.loop, &sig.watch);
	ev_timer_stop(sig.loop, &sig.hard);
	sig.loop = NULL;
}
