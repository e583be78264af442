/* Per-thread context: each thread owns its event loop, its pools and the
 * connections it accepted, end to end; nothing on the data path is shared
 * between threads except server state and counters. */
#ifndef PROXYD_THREAD_H
#define PROXYD_THREAD_H

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
};

extern struct thread_ctx *threads;       /* global.nbthread entries */
extern __thread struct thread_ctx *curr_th;

/* Loop time in milliseconds (cached by libev at each iteration). */
static inline uint64_t th_now_ms(const struct thread_ctx *th)
{
	return (uint64_t)(ev_now(th->loop) * 1000.0);
}

int threads_init(void);
/* Percentage of the last seconds the first loop spent waiting (Idle_pct). */
int thread_idle_pct(void);
void threads_run(void);
void threads_deinit(void);
/* Asks every loop to stop (from a signal handler context in the loop). */
void threads_stop_all(void);

#endif
