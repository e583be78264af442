/* Per-thread context: each thread owns its event loop, its pools and the
 * connections it accepted, end to end; nothing on the data path is shared
 * between threads except server state and counters. Another thread never
 * touches a stream it does not own: it posts it to the owner's mailbox
 * (stream_wake()) or posts a task, and wakes the owner's loop. */
#ifndef PROXYD_THREAD_H
#define PROXYD_THREAD_H

#include <pthread.h>
#include <stdint.h>
#include <ev.h>

#include <proxyd/list.h>
#include <proxyd/pool.h>

struct thread_ctx {
	int tid;
	struct ev_loop *loop;
	struct pool pool_buf;      /* global.bufsize areas */
	struct pool pool_stream;
	struct pool pool_txn;      /* http_txn + header tables */
	struct pool pool_conn;     /* server-side connections */
	char *scratch;             /* one buffer for rebuilding message heads */
	struct list streams;       /* every live stream of this thread */
	ev_timer idle_purge;       /* closes server connections idle for too long */
	ev_timer accept_retry;     /* resumes listeners paused by a lack of fds or memory */
	ev_signal sig_int, sig_term;
	unsigned nb_streams;
	/* busy time, for "Idle_pct": measured between the loop's wake-ups */
	ev_prepare idle_prep;
	ev_check idle_check;
	double idle_since, win_start, win_idle;
	int idle_pct;
	/* multi-thread */
	pthread_t pth;
	ev_async wake;             /* another thread posted work (mailbox, tasks) */
	ev_async stop;             /* asked to leave its loop */
	pthread_mutex_t mb_lock;   /* protects mb_streams, tasks */
	struct list mb_streams;    /* streams to wake here (stream.mb_el) */
	struct list tasks;         /* struct th_task posted by other threads */
	pthread_mutex_t streams_lock; /* protects "streams" against walkers of other threads */
	_Atomic uint64_t accepted; /* connections accepted ("show activity") */
	_Atomic uint64_t loops;    /* loop iterations */
	_Atomic int listeners_kicked; /* listeners may resume: checked at the next wake */
	uint64_t cpu_set;          /* cpu-map: CPUs this thread is bound to (0: none) */
};

/* Work for another thread: run <fn> on the thread that owns what it
 * touches. */
struct th_task {
	struct list el;
	void (*fn)(struct thread_ctx *th, struct th_task *t);
	void *p1, *p2;
	int i1, i2;
};

extern struct thread_ctx *threads;       /* global.nbthread entries */
extern __thread struct thread_ctx *curr_th;

/* Loop time in milliseconds (cached by libev at each iteration). */
static inline uint64_t th_now_ms(const struct thread_ctx *th)
{
	return (uint64_t)(ev_now(th->loop) * 1000.0);
}

/* Buffers each thread allocates for itself on first use, released when a
 * thread other than the first ends (the first one's go with the config). */
void http_act_thread_deinit(void);
void userlist_thread_deinit(void);

int threads_init(void);
/* Percentage of the last seconds the first loop spent waiting (Idle_pct). */
int thread_idle_pct(void);
void threads_run(void);
void threads_deinit(void);
/* Asks every loop to stop (from a signal handler context in the loop). */
void threads_stop_all(void);
/* Posts <t> (malloc'd, freed after it ran) to thread <th> and wakes it;
 * on the calling thread itself it runs at once. */
void thread_post(struct thread_ctx *th, struct th_task *t);
/* Runs <fn> on every thread (at once on the calling one). */
void thread_post_all(void (*fn)(struct thread_ctx *, struct th_task *), void *p1, void *p2, int i1, int i2);
/* Wakes <th>'s loop (thread-safe). */
void thread_wake(struct thread_ctx *th);
/* cpu-map: binds thread <tid> (0-based) to <cpus>; "all" threads with tid -1. */
void thread_cpu_map(int tid, uint64_t cpus);
/* Makes every other thread wait in a task until thread_release(), so that
 * the caller may change what they walk without locks (a backend's server
 * list). Returns 0 once they all wait, or -1 (nothing held) if one did not
 * within <timeout_ms> (e.g. its loop is stopping). A no-op with one thread. */
int thread_isolate(int timeout_ms);
void thread_release(void);
/* More than one thread: the shared structures need their locks. */
static inline int threads_multi(void);

#include <proxyd/global.h>
static inline int threads_multi(void)
{
	return global.nbthread > 1;
}

#endif
