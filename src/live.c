/* Readers of the live statistics (include/proxyd/live.h): they add up the
 * per-thread copies at read time, so the data path never waits. Also the
 * allocation of those copies, once the configuration is known. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <proxyd/cfg.h>
#include <proxyd/diag.h>
#include <proxyd/global.h>
#include <proxyd/live.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>

uint32_t freq_ctr_read(const struct freq_ctr *f, uint64_t now_ms)
{
	uint32_t sec = (uint32_t)(now_ms / 1000);
	uint32_t curr = f->curr, prev = f->prev, cs = f->curr_sec;

	if (cs == sec) {
		/* previous second weighted by the part still in the window */
		uint32_t elapsed = (uint32_t)(now_ms % 1000);
		return curr + (uint32_t)((uint64_t)prev * (1000 - elapsed) / 1000);
	}
	if (cs + 1 == sec) {
		uint32_t elapsed = (uint32_t)(now_ms % 1000);
		return (uint32_t)((uint64_t)curr * (1000 - elapsed) / 1000);
	}
	return 0;
}

uint32_t rt_bucket_low(unsigned b)
{
	if (b < 8)
		return b;
	unsigned k = 3 + (b - 8) / 4, sub = (b - 8) % 4;
	return (1u << k) + sub * (1u << (k - 2));
}

uint32_t rt_bucket_high(unsigned b)
{
	if (b < 8)
		return b;
	return rt_bucket_low(b) + (1u << (3 + (b - 8) / 4 - 2)) - 1;
}

static uint32_t rate_sum(const struct freq_ctr *f, size_t stride, uint64_t now_ms, uint32_t *max)
{
	uint32_t r = 0, m = 0;

	for (int t = 0; t < global.nbthread; t++) {
		const struct freq_ctr *c = (const struct freq_ctr *)((const char *)f + stride * (size_t)t);
		r += freq_ctr_read(c, now_ms);
		/* with several threads the peaks of each add up: an upper bound */
		m += c->max;
	}
	if (max)
		*max = m;
	return r;
}

uint32_t fe_rate(const struct proxy *px, int which, uint64_t now_ms, uint32_t *max)
{
	if (!px->fe_live)
		return max ? (*max = 0) : 0;
	const struct freq_ctr *f = which == 0 ? &px->fe_live[0].conn : which == 1 ? &px->fe_live[0].sess
	                                                                          : &px->fe_live[0].req;
	return rate_sum(f, sizeof(struct fe_live), now_ms, max);
}

uint32_t be_rate(const struct proxy *px, uint64_t now_ms, uint32_t *max)
{
	if (!px->be_live)
		return max ? (*max = 0) : 0;
	return rate_sum(&px->be_live[0].sess, sizeof(struct be_live), now_ms, max);
}

uint32_t srv_rate(const struct server *srv, uint64_t now_ms, uint32_t *max)
{
	if (!srv->live)
		return max ? (*max = 0) : 0;
	return rate_sum(&srv->live[0].sess, sizeof(struct srv_live), now_ms, max);
}

/* Averages weighted by the samples behind them, maxima of the maxima. */
static void timers_add(const struct tm_avg *a, uint64_t wsum[TM_NB], uint64_t *weight, struct tm_summary *out)
{
	uint32_t n = a->n;

	if (n) {
		for (int i = 0; i < TM_NB; i++)
			wsum[i] += a->sum[i];   /* sum = average * min(n, window) */
		*weight += n < TM_WINDOW ? n : TM_WINDOW;
	}
	for (int i = 0; i < TM_NB; i++)
		if (a->max[i] > out->max[i])
			out->max[i] = a->max[i];
}

static void timers_out(const uint64_t wsum[TM_NB], uint64_t weight, struct tm_summary *out)
{
	for (int i = 0; i < TM_NB; i++)
		out->avg[i] = weight ? (uint32_t)((wsum[i] + weight - 1) / weight) : 0;
}

/* A backend's timers: those of its servers together (HAProxy keeps the
 * backend's apart; the difference is in requests no server answered,
 * which have no timers anyway). */
void be_timers(const struct proxy *px, struct tm_summary *out)
{
	uint64_t wsum[TM_NB] = { 0 }, weight = 0;
	const struct server *srv;

	memset(out, 0, sizeof(*out));
	list_for_each(srv, &px->servers, list)
		for (int t = 0; srv->live && t < global.nbthread; t++)
			timers_add(&srv->live[t].tm, wsum, &weight, out);
	timers_out(wsum, weight, out);
}

void srv_timers(const struct server *srv, struct tm_summary *out)
{
	uint64_t wsum[TM_NB] = { 0 }, weight = 0;

	memset(out, 0, sizeof(*out));
	for (int t = 0; srv->live && t < global.nbthread; t++)
		timers_add(&srv->live[t].tm, wsum, &weight, out);
	timers_out(wsum, weight, out);
}

uint64_t be_last_sess(const struct proxy *px)
{
	uint64_t last = 0;

	for (int t = 0; px->be_live && t < global.nbthread; t++)
		if (px->be_live[t].last_sess_ms > last)
			last = px->be_live[t].last_sess_ms;
	return last;
}

uint64_t srv_last_sess(const struct server *srv)
{
	uint64_t last = 0;

	for (int t = 0; srv->live && t < global.nbthread; t++)
		if (srv->live[t].last_sess_ms > last)
			last = srv->live[t].last_sess_ms;
	return last;
}

uint64_t srv_cum_req(const struct server *srv)
{
	uint64_t n = 0;

	for (int t = 0; srv->live && t < global.nbthread; t++)
		n += srv->live[t].cum_req;
	return n;
}

/* Adds the last minute of <srv>'s histogram into <acc>. */
static void hist_add(const struct server *srv, uint64_t now_ms, uint64_t acc[RT_BUCKETS])
{
	uint32_t he = (uint32_t)(now_ms / 1000) / RT_HIST_SLOT_S;

	for (int t = 0; srv->live && t < global.nbthread; t++) {
		for (int i = 0; i < RT_HIST_SLOTS; i++) {
			const struct rt_hist_slot *h = &srv->live[t].hist[i];
			/* only the slots of the current lap count */
			if (h->epoch > he || he - h->epoch >= RT_HIST_SLOTS)
				continue;
			for (int b = 0; b < RT_BUCKETS; b++)
				acc[b] += h->count[b];
		}
	}
}

/* The value reported for a percentile is the middle of its bucket, so
 * that it is off by at most an eighth on either side. */
static void pct_of(const uint64_t acc[RT_BUCKETS], struct rt_pct *out)
{
	static const unsigned want[3] = { 50, 95, 99 };
	uint32_t *dst[3] = { &out->p50, &out->p95, &out->p99 };
	uint64_t n = 0;

	for (int b = 0; b < RT_BUCKETS; b++)
		n += acc[b];
	out->n = n;
	out->p50 = out->p95 = out->p99 = 0;
	if (!n)
		return;
	for (int p = 0; p < 3; p++) {
		/* the rank of the percentile, rounded up, 1-based */
		uint64_t rank = (n * want[p] + 99) / 100, seen = 0;
		for (int b = 0; b < RT_BUCKETS; b++) {
			seen += acc[b];
			if (seen >= rank) {
				*dst[p] = (rt_bucket_low((unsigned)b) + rt_bucket_high((unsigned)b)) / 2;
				break;
			}
		}
	}
}

void srv_rt_pct(const struct server *srv, uint64_t now_ms, struct rt_pct *out)
{
	uint64_t acc[RT_BUCKETS] = { 0 };

	hist_add(srv, now_ms, acc);
	pct_of(acc, out);
}

void be_rt_pct(const struct proxy *be, uint64_t now_ms, struct rt_pct *out)
{
	uint64_t acc[RT_BUCKETS] = { 0 };
	const struct server *srv;

	list_for_each(srv, &be->servers, list)
		hist_add(srv, now_ms, acc);
	pct_of(acc, out);
}

static void history_add(const struct server *srv, uint64_t now_ms, uint64_t reqs[RT_SPARK_SLOTS],
                        uint64_t sum[RT_SPARK_SLOTS], uint64_t n[RT_SPARK_SLOTS])
{
	uint32_t se = (uint32_t)(now_ms / 1000) / RT_SPARK_SLOT_S;

	for (int t = 0; srv->live && t < global.nbthread; t++) {
		for (int i = 0; i < RT_SPARK_SLOTS; i++) {
			const struct rt_spark_slot *sp = &srv->live[t].spark[i];
			if (sp->epoch > se || se - sp->epoch >= RT_SPARK_SLOTS)
				continue;
			/* position from the oldest (0) to the current slot */
			unsigned pos = RT_SPARK_SLOTS - 1 - (se - sp->epoch);
			reqs[pos] += sp->reqs;
			sum[pos] += sp->rt_sum;
			n[pos] += sp->rt_n;
		}
	}
}

static void history_out(const uint64_t reqs[RT_SPARK_SLOTS], const uint64_t sum[RT_SPARK_SLOTS],
                        const uint64_t n[RT_SPARK_SLOTS], struct rt_history *out)
{
	for (int i = 0; i < RT_SPARK_SLOTS; i++) {
		out->reqs[i] = (uint32_t)reqs[i];
		out->rt_avg[i] = n[i] ? (uint32_t)(sum[i] / n[i]) : 0;
	}
}

void srv_history(const struct server *srv, uint64_t now_ms, struct rt_history *out)
{
	uint64_t reqs[RT_SPARK_SLOTS] = { 0 }, sum[RT_SPARK_SLOTS] = { 0 }, n[RT_SPARK_SLOTS] = { 0 };

	history_add(srv, now_ms, reqs, sum, n);
	history_out(reqs, sum, n, out);
}

void be_history(const struct proxy *be, uint64_t now_ms, struct rt_history *out)
{
	uint64_t reqs[RT_SPARK_SLOTS] = { 0 }, sum[RT_SPARK_SLOTS] = { 0 }, n[RT_SPARK_SLOTS] = { 0 };
	const struct server *srv;

	list_for_each(srv, &be->servers, list)
		history_add(srv, now_ms, reqs, sum, n);
	history_out(reqs, sum, n, out);
}

/*------------------------------------------------------------------------
 * Allocation, once the proxies and servers are known
 */
static uint64_t start_ms;

uint64_t px_start_ms(void)
{
	return start_ms;
}

static int live_alloc(void)
{
	struct proxy *px;
	struct server *srv;
	size_t nt = (size_t)global.nbthread;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	start_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;

	list_for_each(px, &proxies, list) {
		if (px->cap & PR_CAP_DEF)
			continue;
		if ((px->cap & PR_CAP_FE) && !(px->fe_live = calloc(nt, sizeof(*px->fe_live))))
			goto oom;
		if (!(px->cap & PR_CAP_BE))
			continue;
		if (!(px->be_live = calloc(nt, sizeof(*px->be_live))))
			goto oom;
		list_for_each(srv, &px->servers, list)
			if (!(srv->live = calloc(nt, sizeof(*srv->live))))
				goto oom;
	}
	return 0;
oom:
	ha_alert("config : out of memory for the statistics of '%s'", px->id);
	return ERR_ALERT | ERR_FATAL;
}

static void live_free(void)
{
	struct proxy *px;
	struct server *srv;

	list_for_each(px, &proxies, list) {
		free(px->fe_live);
		free(px->be_live);
		px->fe_live = NULL;
		px->be_live = NULL;
		list_for_each(srv, &px->servers, list) {
			free(srv->live);
			srv->live = NULL;
		}
	}
}

static const struct cfg_postparser live_pp = { "live statistics", live_alloc, live_free };
CFG_POSTPARSER_REGISTER(live_pp);
