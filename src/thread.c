/* Thread contexts and their event loops: "nbthread" threads, each with its
 * own loop, pools and listening sockets; thread 0 is the main thread and
 * also runs the health checks and the admin socket. Threads talk to each
 * other only through the mailbox and tasks below. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <proxyd/diag.h>
#include <proxyd/global.h>
#include <proxyd/http_ana.h>
#include <proxyd/listener.h>
#include <proxyd/proxy.h>
#include <proxyd/regex.h>
#include <proxyd/sample.h>
#include <proxyd/server.h>
#include <proxyd/stream.h>
#include <proxyd/thread.h>

struct thread_ctx *threads;
__thread struct thread_ctx *curr_th;

/* cpu-map, as parsed (before the threads exist) */
static uint64_t cpu_map[64];

void thread_cpu_map(int tid, uint64_t cpus)
{
	for (int t = 0; t < 64; t++)
		if (tid < 0 || t == tid)
			cpu_map[t] = cpus;
}

static void apply_cpu_map(struct thread_ctx *th)
{
	uint64_t m = th->tid < 64 ? cpu_map[th->tid] : 0;
	cpu_set_t set;
	int err;

	if (!m)
		return;
	CPU_ZERO(&set);
	for (int c = 0; c < 64; c++)
		if (m & (1ULL << c))
			CPU_SET(c, &set);
	err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (err)
		ha_warning("cpu-map: cannot bind thread %d: %s", th->tid + 1, strerror(err));
	else
		th->cpu_set = m;
}

void thread_wake(struct thread_ctx *th)
{
	ev_async_send(th->loop, &th->wake);
}

void thread_post(struct thread_ctx *th, struct th_task *t)
{
	if (th == curr_th) {
		t->fn(th, t);
		free(t);
		return;
	}
	pthread_mutex_lock(&th->mb_lock);
	list_append(&th->tasks, &t->el);
	pthread_mutex_unlock(&th->mb_lock);
	thread_wake(th);
}

void thread_post_all(void (*fn)(struct thread_ctx *, struct th_task *), void *p1, void *p2, int i1, int i2)
{
	if (!threads)
		return;   /* before start-up (e.g. a state loaded with the config): no stream, no connection yet */
	for (int t = 0; t < global.nbthread; t++) {
		struct th_task *tk = calloc(1, sizeof(*tk));
		if (!tk)
			continue;
		tk->fn = fn;
		tk->p1 = p1;
		tk->p2 = p2;
		tk->i1 = i1;
		tk->i2 = i2;
		thread_post(&threads[t], tk);
	}
}

/* Another thread posted streams to wake or tasks to run. */
static void wake_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct thread_ctx *th = w->data;

	for (;;) {
		struct stream *s = NULL;
		struct th_task *t = NULL;

		pthread_mutex_lock(&th->mb_lock);
		if (!list_empty(&th->mb_streams)) {
			s = list_first(&th->mb_streams, struct stream, mb_el);
			list_del_init(&s->mb_el);
		} else if (!list_empty(&th->tasks)) {
			t = list_first(&th->tasks, struct th_task, el);
			list_del_init(&t->el);
		}
		pthread_mutex_unlock(&th->mb_lock);
		if (s) {
			stream_remote_wake(s);
		} else if (t) {
			t->fn(th, t);
			free(t);
		} else {
			break;
		}
	}
	if (th->listeners_kicked) {
		th->listeners_kicked = 0;
		listeners_resume(th);
	}
}

static void stop_async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

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

	th->loops++;
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
		pthread_mutex_init(&th->mb_lock, NULL);
		pthread_mutex_init(&th->streams_lock, NULL);
		list_init(&th->mb_streams);
		list_init(&th->tasks);
		ev_async_init(&th->wake, wake_cb);
		th->wake.data = th;
		ev_async_start(th->loop, &th->wake);
		ev_async_init(&th->stop, stop_async_cb);
		ev_async_start(th->loop, &th->stop);
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

static void *thread_main(void *arg)
{
	struct thread_ctx *th = arg;

	curr_th = th;
	apply_cpu_map(th);
	listeners_start(th);
	ev_run(th->loop, 0);
	smp_trash_deinit();
	regex_thread_deinit();
	http_act_thread_deinit();
	userlist_thread_deinit();
	return NULL;
}

void threads_run(void)
{
	sigset_t all, old;
	int started = 1;

	/* the other threads take no signal: thread 0's loop handles them */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (int t = 1; t < global.nbthread; t++) {
		int err = pthread_create(&threads[t].pth, NULL, thread_main, &threads[t]);
		if (err) {
			ha_alert("cannot start thread %d: %s", t + 1, strerror(err));
			break;
		}
		started++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (started == global.nbthread) {
		apply_cpu_map(&threads[0]);
		listeners_start(&threads[0]);
		ev_run(threads[0].loop, 0);
	}
	threads_stop_all();
	for (int t = 1; t < started; t++)
		pthread_join(threads[t].pth, NULL);
	curr_th = &threads[0];
}

void threads_stop_all(void)
{
	for (int t = 0; t < global.nbthread; t++) {
		if (&threads[t] == curr_th)
			ev_break(threads[t].loop, EVBREAK_ALL);
		else
			ev_async_send(threads[t].loop, &threads[t].stop);
	}
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
		while (!list_empty(&th->tasks)) {
			struct th_task *tk = list_first(&th->tasks, struct th_task, el);
			list_del_init(&tk->el);
			free(tk);
		}
		list_for_each(px, &proxies, list)
			if (px->cap & PR_CAP_BE)
				list_for_each(srv, &px->servers, list)
					srv_purge_idle(srv, th, 0, 1);
		ev_async_stop(th->loop, &th->wake);
		ev_async_stop(th->loop, &th->stop);
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
		pthread_mutex_destroy(&th->mb_lock);
		pthread_mutex_destroy(&th->streams_lock);
	}
	/* the listeners' watchers live on every loop: closed before any
	 * loop is destroyed */
	curr_th = NULL;
	listeners_close_all();
	for (int t = 0; t < global.nbthread; t++)
		ev_loop_destroy(threads[t].loop);
	free(threads);
	threads = NULL;
	curr_th = NULL;
}

/*------------------------------------------------------------------------
 * Isolation: the rare changes that other threads' walks cannot tolerate
 * (a server added to or removed from a backend's list) are made while
 * every other thread waits in a task, between two of its callbacks, where
 * it holds no lock and no iterator. A round is named by its generation:
 * a park task that arrives after its round ended (the caller gave up
 * waiting) returns at once.
 */
static pthread_mutex_t iso_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t iso_cond = PTHREAD_COND_INITIALIZER;
static int iso_gen, iso_active, iso_parked;

static void park_task(struct thread_ctx *th, struct th_task *t)
{
	(void)th;
	pthread_mutex_lock(&iso_lock);
	if (iso_active && t->i1 == iso_gen) {
		iso_parked++;
		pthread_cond_broadcast(&iso_cond);
		while (iso_active && t->i1 == iso_gen)
			pthread_cond_wait(&iso_cond, &iso_lock);
		iso_parked--;
		pthread_cond_broadcast(&iso_cond);
	}
	pthread_mutex_unlock(&iso_lock);
}

int thread_isolate(int timeout_ms)
{
	struct timespec until;

	if (!threads || global.nbthread < 2 || !curr_th)
		return 0;
	pthread_mutex_lock(&iso_lock);
	if (iso_active) {
		/* only one round at a time; callers run on the first thread */
		pthread_mutex_unlock(&iso_lock);
		return -1;
	}
	iso_active = 1;
	iso_gen++;
	int gen = iso_gen;
	pthread_mutex_unlock(&iso_lock);

	for (int t = 0; t < global.nbthread; t++) {
		if (&threads[t] == curr_th)
			continue;
		struct th_task *tk = calloc(1, sizeof(*tk));
		if (!tk)
			goto give_up;
		tk->fn = park_task;
		tk->i1 = gen;
		thread_post(&threads[t], tk);
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&iso_lock);
	while (iso_parked < global.nbthread - 1)
		if (pthread_cond_timedwait(&iso_cond, &iso_lock, &until) == ETIMEDOUT)
			break;
	int all = iso_parked == global.nbthread - 1;
	pthread_mutex_unlock(&iso_lock);
	if (all)
		return 0;
give_up:
	thread_release();
	return -1;
}

void thread_release(void)
{
	if (!threads || global.nbthread < 2)
		return;
	pthread_mutex_lock(&iso_lock);
	if (iso_active) {
		iso_active = 0;
		iso_gen++;
		pthread_cond_broadcast(&iso_cond);
		/* the next round counts only its own waiters: these leave
		 * as soon as they get the lock */
		while (iso_parked > 0)
			pthread_cond_wait(&iso_cond, &iso_lock);
	}
	pthread_mutex_unlock(&iso_lock);
}
