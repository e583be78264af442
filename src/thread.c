/* Thread contexts and their event loops. One thread for now; everything a
 * loop touches on the data path hangs off its thread_ctx, so more threads
 * only need more contexts. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <proxyd/diag.h>
#include <proxyd/global.h>
#include <proxyd/http_ana.h>
#include <proxyd/listener.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>
#include <proxyd/stream.h>
#include <proxyd/thread.h>

struct thread_ctx *threads;
__thread struct thread_ctx *curr_th;

static void stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	ha_notice("received %s, exiting", w->signum == SIGINT ? "SIGINT" : "SIGTERM");
	threads_stop_all();
}

static void purge_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct thread_ctx *th = w->data;
	uint64_t now = th_now_ms(th);
	struct proxy *px;
	struct server *srv;

	list_for_each(px, &proxies, list)
		if (px->cap & PR_CAP_BE)
			list_for_each(srv, &px->servers, list)
				srv_purge_idle(srv, th, now, 0);
}

/* The loop is about to wait (prepare) or has just woken up (check): the
 * time in between was idle. A window of about a second is kept. */
static void idle_prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct thread_ctx *th = w->data;
	th->idle_since = ev_time();
}

static void idle_check_cb(struct ev_loop *loop, ev_check *w, int revents)
{
	struct thread_ctx *th = w->data;
	double now = ev_time();

	if (th->idle_since > 0)
		th->win_idle += now - th->idle_since;
	if (now - th->win_start >= 1.0) {
		double span = now - th->win_start;
		th->idle_pct = span > 0 ? (int)(100.0 * th->win_idle / span + 0.5) : 100;
		if (th->idle_pct > 100)
			th->idle_pct = 100;
		th->win_start = now;
		th->win_idle = 0;
	}
}

int thread_idle_pct(void)
{
	return threads ? threads[0].idle_pct : 100;
}

int threads_init(void)
{
	threads = calloc(global.nbthread, sizeof(*threads));
	if (!threads)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	for (int t = 0; t < global.nbthread; t++) {
		struct thread_ctx *th = &threads[t];
		th->tid = t;
		th->loop = t == 0 ? ev_default_loop(EVFLAG_AUTO) : ev_loop_new(EVFLAG_AUTO);
		if (!th->loop)
			return -1;
		pool_init(&th->pool_buf, "buffer", (size_t)global.bufsize, 1024);
		pool_init(&th->pool_stream, "stream", sizeof(struct stream), 4096);
		pool_init(&th->pool_txn, "http_txn", http_txn_size(), 1024);
		pool_init(&th->pool_conn, "conn", sizeof(struct conn), 4096);
		th->scratch = malloc((size_t)global.bufsize);
		if (!th->scratch)
			return -1;
		list_init(&th->streams);
		ev_timer_init(&th->idle_purge, purge_cb, 1.0, 1.0);
		th->idle_purge.data = th;
		ev_timer_start(th->loop, &th->idle_purge);
		th->idle_pct = 100;
		th->win_start = ev_time();
		ev_prepare_init(&th->idle_prep, idle_prepare_cb);
		th->idle_prep.data = th;
		ev_prepare_start(th->loop, &th->idle_prep);
		ev_check_init(&th->idle_check, idle_check_cb);
		th->idle_check.data = th;
		ev_check_start(th->loop, &th->idle_check);
		if (t == 0) {
			ev_signal_init(&th->sig_int, stop_cb, SIGINT);
			ev_signal_init(&th->sig_term, stop_cb, SIGTERM);
			ev_signal_start(th->loop, &th->sig_int);
			ev_signal_start(th->loop, &th->sig_term);
		}
	}
	curr_th = &threads[0];
	return 0;
}

void threads_run(void)
{
	listeners_start(&threads[0]);
	ev_run(threads[0].loop, 0);
}

void threads_stop_all(void)
{
	for (int t = 0; t < global.nbthread; t++)
		ev_break(threads[t].loop, EVBREAK_ALL);
}

void threads_deinit(void)
{
	if (!threads)
		return;
	for (int t = 0; t < global.nbthread; t++) {
		struct thread_ctx *th = &threads[t];
		struct stream *s, *tmp;
		struct proxy *px;
		struct server *srv;

		curr_th = th;
		list_for_each_safe(s, tmp, &th->streams, list)
			stream_free(s);
		list_for_each(px, &proxies, list)
			if (px->cap & PR_CAP_BE)
				list_for_each(srv, &px->servers, list)
					srv_purge_idle(srv, th, 0, 1);
		listeners_close_all();
		ev_timer_stop(th->loop, &th->idle_purge);
		ev_prepare_stop(th->loop, &th->idle_prep);
		ev_check_stop(th->loop, &th->idle_check);
		ev_timer_stop(th->loop, &th->accept_retry);
		if (t == 0) {
			ev_signal_stop(th->loop, &th->sig_int);
			ev_signal_stop(th->loop, &th->sig_term);
		}
		pool_flush(&th->pool_buf);
		pool_flush(&th->pool_stream);
		pool_flush(&th->pool_txn);
		pool_flush(&th->pool_conn);
		free(th->scratch);
		ev_loop_destroy(th->loop);
	}
	free(threads);
	threads = NULL;
	curr_th = NULL;
}
