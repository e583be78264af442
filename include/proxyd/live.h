/* Live statistics kept on the data path, per thread like px_counters:
 * event rates over the last second, timing averages, and for servers a
 * response-time histogram of the last minute and a ten-minute history
 * for the sparklines. Each thread writes only its own copy with plain
 * stores; readers (stats page, CLI) add the copies up and never block a
 * writer. Everything is fixed-size and allocated once at start-up: the
 * data path only increments. */
#ifndef PROXYD_LIVE_H
#define PROXYD_LIVE_H

#include <stdint.h>

/* Events over the last second, as HAProxy's freq_ctr: the count of the
 * current second plus the previous second's count weighted by the part
 * of it still inside the one-second window. <max> is the highest count
 * any single second reached (HAProxy's *_max columns). */
struct freq_ctr {
	uint32_t curr_sec;
	uint32_t curr;
	uint32_t prev;
	uint32_t max;
};

static inline void freq_ctr_inc(struct freq_ctr *f, uint64_t now_ms)
{
	uint32_t sec = (uint32_t)(now_ms / 1000);

	if (sec != f->curr_sec) {
		f->prev = sec == f->curr_sec + 1 ? f->curr : 0;
		f->curr = 0;
		f->curr_sec = sec;
	}
	if (++f->curr > f->max)
		f->max = f->curr;
}

/* Rate over the last second at <now_ms>, from one thread's counter. */
uint32_t freq_ctr_read(const struct freq_ctr *f, uint64_t now_ms);

/* Sliding averages of the four timers over the last TM_WINDOW
 * transactions (HAProxy's qtime/ctime/rtime/ttime), and their maxima. */
#define TM_WINDOW 1024     /* a power of two: the sliding average shifts */
enum { TM_Q = 0, TM_C, TM_R, TM_T, TM_NB };

struct tm_avg {
	uint64_t sum[TM_NB];     /* swrate: sum - sum/N + v once N samples are in */
	uint32_t n;              /* samples so far, up to TM_WINDOW */
	uint32_t max[TM_NB];
};

/* Response-time histogram buckets: exact milliseconds below 8, then four
 * buckets per power of two (at most 25% wide), the last one open. */
#define RT_BUCKETS 64
#define RT_HIST_SLOTS 6          /* of RT_HIST_SLOT_S seconds: the last minute */
#define RT_HIST_SLOT_S 10
#define RT_SPARK_SLOTS 60        /* of RT_SPARK_SLOT_S seconds: ten minutes */
#define RT_SPARK_SLOT_S 10

static inline unsigned rt_bucket(uint32_t ms)
{
	if (ms < 8)
		return ms;
	unsigned k = 31u - (unsigned)__builtin_clz(ms);            /* 2^k <= ms */
	unsigned b = 8 + (k - 3) * 4 + ((ms >> (k - 2)) & 3);
	return b < RT_BUCKETS ? b : RT_BUCKETS - 1;
}
/* Smallest and largest milliseconds that fall in bucket <b>. */
uint32_t rt_bucket_low(unsigned b);
uint32_t rt_bucket_high(unsigned b);

struct rt_hist_slot {
	uint32_t epoch;          /* now_s / RT_HIST_SLOT_S this slot holds */
	uint32_t count[RT_BUCKETS];
};

struct rt_spark_slot {
	uint32_t epoch;          /* now_s / RT_SPARK_SLOT_S */
	uint32_t reqs;           /* responses received */
	uint32_t rt_sum;         /* their response times, ms */
	uint32_t rt_n;
};

/* A frontend, per thread. */
struct fe_live {
	struct freq_ctr conn;    /* accepted connections */
	struct freq_ctr sess;    /* sessions (one per connection here) */
	struct freq_ctr req;     /* HTTP requests */
};

/* A backend, per thread. Its timers are its servers' (see be_timers()):
 * one average less to keep up on each transaction. */
struct be_live {
	struct freq_ctr sess;
	uint64_t last_sess_ms;   /* last stream assigned, 0: never */
};

/* A server, per thread. */
struct srv_live {
	struct freq_ctr sess;
	struct tm_avg tm;
	uint64_t last_sess_ms;
	uint64_t cum_req;        /* HTTP requests it was given */
	struct rt_hist_slot hist[RT_HIST_SLOTS];
	struct rt_spark_slot spark[RT_SPARK_SLOTS];
};

/* Records the timers of one finished transaction, in ms (phases not
 * reached count as 0). Below a full window the sums are plain sums read
 * as sum / n; then each new sample replaces 1/1024th of the sum. */
static inline void tm_avg_add(struct tm_avg *t, const uint32_t v[TM_NB])
{
	if (t->n < TM_WINDOW) {
		t->n++;
		for (int i = 0; i < TM_NB; i++)
			t->sum[i] += v[i];
	} else {
		for (int i = 0; i < TM_NB; i++)
			t->sum[i] += v[i] - (t->sum[i] >> 10);
	}
	for (int i = 0; i < TM_NB; i++)
		if (v[i] > t->max[i])
			t->max[i] = v[i];
}

/* Records one response time of <ms> at <now_ms>: a histogram bucket and
 * the history slot, each a slot check and an increment or two. */
static inline void srv_live_rt(struct srv_live *l, uint64_t now_ms, uint32_t ms)
{
	uint32_t now_s = (uint32_t)(now_ms / 1000);
	uint32_t he = now_s / RT_HIST_SLOT_S, se = now_s / RT_SPARK_SLOT_S;
	struct rt_hist_slot *h = &l->hist[he % RT_HIST_SLOTS];
	struct rt_spark_slot *sp = &l->spark[se % RT_SPARK_SLOTS];

	if (h->epoch != he) {
		/* a slot left over from a previous lap: start it afresh */
		__builtin_memset(h->count, 0, sizeof(h->count));
		h->epoch = he;
	}
	h->count[rt_bucket(ms)]++;
	if (sp->epoch != se) {
		sp->epoch = se;
		sp->reqs = sp->rt_sum = sp->rt_n = 0;
	}
	sp->reqs++;
	sp->rt_sum += ms;
	sp->rt_n++;
}

/*------------------------------------------------------------------------
 * Readers (live.c): sums over the threads.
 */
struct proxy;
struct server;

struct tm_summary {
	uint32_t avg[TM_NB];     /* ms */
	uint32_t max[TM_NB];
};

/* Percentiles of the last minute; <n> samples (0: no value). */
struct rt_pct {
	uint64_t n;
	uint32_t p50, p95, p99;
};

/* One history point per RT_SPARK_SLOT_S seconds, oldest first; the last
 * one is the slot in progress. */
struct rt_history {
	uint32_t reqs[RT_SPARK_SLOTS];
	uint32_t rt_avg[RT_SPARK_SLOTS];   /* ms, 0 when no response */
};

/* When the configuration was loaded (wall clock, ms): "last change" of
 * what never changed. */
uint64_t px_start_ms(void);
uint32_t fe_rate(const struct proxy *px, int which, uint64_t now_ms, uint32_t *max);  /* 0 conn, 1 sess, 2 req */
uint32_t be_rate(const struct proxy *px, uint64_t now_ms, uint32_t *max);
uint32_t srv_rate(const struct server *srv, uint64_t now_ms, uint32_t *max);
void be_timers(const struct proxy *px, struct tm_summary *out);
void srv_timers(const struct server *srv, struct tm_summary *out);
uint64_t be_last_sess(const struct proxy *px);
uint64_t srv_last_sess(const struct server *srv);
uint64_t srv_cum_req(const struct server *srv);
/* Last-minute percentiles of a server, or of every server of a backend. */
void srv_rt_pct(const struct server *srv, uint64_t now_ms, struct rt_pct *out);
void be_rt_pct(const struct proxy *be, uint64_t now_ms, struct rt_pct *out);
void srv_history(const struct server *srv, uint64_t now_ms, struct rt_history *out);
void be_history(const struct proxy *be, uint64_t now_ms, struct rt_history *out);

#endif
