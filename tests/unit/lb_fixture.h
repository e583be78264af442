/* Synthetic backends for the balancer's unit tests (test_lb_*.c) and its
 * micro-benchmark: a struct proxy and its servers built in memory, no
 * configuration, no sockets. Only the fields the balance algorithms read
 * are filled in; a server is usable, running, at its configured weight,
 * as after the configuration check.
 *
 *     struct fx_be *b = fx_new("roundrobin", 3, (int[]){3, 1, 0}, NULL);
 *     struct server *s = fx_pick(b, NULL);     // a pick, no key, no avoid
 *     fx_set_down(b->srv[0]);                  // state change + update hook
 *     fx_free(b);
 *
 * Header-only (static functions) so that each test binary, which the
 * Makefile builds from a single file, can include it.
 */
#ifndef PROXYD_TEST_LB_FIXTURE_H
#define PROXYD_TEST_LB_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <proxyd/http.h>
#include <proxyd/lb.h>
#include <proxyd/list.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>
#include <proxyd/stream.h>

#define FX_ABORT(msg) do { fprintf(stderr, "lb fixture: %s\n", msg); abort(); } while (0)

struct fx_be {
	struct proxy px;
	int n;
	struct server **srv;        /* srv[i] is the (i+1)-th declared server */
	const struct lb_algo *algo;
};

/* Per-server options for fx_new(); NULL means all zero. */
struct fx_opt {
	unsigned flags;             /* SRV_F_BACKUP, SRV_F_DISABLED */
	int maxconn;
	int maxqueue;
};

/* A backend of <n> servers running <algo> ("roundrobin", "uri", ...) with
 * <weights> (NULL: all 1), <opts> (NULL: none), balance / hash-type
 * settings <lbc> (NULL: defaults) and PR_O_* <options>, initialised as
 * the configuration check does it. */
static inline struct fx_be *fx_new_conf(const char *algo, int n, const int *weights,
                                        const struct fx_opt *opts, const struct lb_conf *lbc,
                                        unsigned options)
{
	struct fx_be *b = calloc(1, sizeof(*b));

	if (!b)
		FX_ABORT("out of memory");
	b->n = n;
	b->srv = calloc((size_t)(n ? n : 1), sizeof(*b->srv));
	if (!b->srv)
		FX_ABORT("out of memory");
	b->algo = lb_find(algo);
	if (!b->algo)
		FX_ABORT("unknown algorithm");
	b->px.id = "be";
	b->px.cap = PR_CAP_BE;
	b->px.c.mode = PR_MODE_HTTP;
	b->px.c.lb = b->algo;
	b->px.c.options = options;
	if (lbc)
		b->px.c.lbc = *lbc;
	if (strcmp(algo, "random") == 0 && !b->px.c.lbc.draws)
		b->px.c.lbc.draws = 2;
	list_init(&b->px.servers);
	list_init(&b->px.queue);
	list_init(&b->px.list);
	list_init(&b->px.binds);
	list_init(&b->px.listeners);
	list_init(&b->px.switching_rules);
	list_init(&b->px.http_req_rules);
	list_init(&b->px.http_res_rules);
	list_init(&b->px.redirect_rules);
	for (int i = 0; i < n; i++) {
		struct server *s = calloc(1, sizeof(*s));
		char name[16];
		if (!s)
			FX_ABORT("out of memory");
		snprintf(name, sizeof(name), "s%d", i + 1);
		s->id = strdup(name);
		s->be = &b->px;
		s->c.weight = weights ? weights[i] : 1;
		if (opts) {
			s->c.flags = opts[i].flags;
			s->c.maxconn = opts[i].maxconn;
			s->c.maxqueue = opts[i].maxqueue;
		}
		list_init(&s->queue);
		list_append(&b->px.servers, &s->list);
		s->puid = ++b->px.nb_srv;
		b->srv[i] = s;
	}
	/* what the configuration check does (finish_servers) */
	for (int i = 0; i < n; i++) {
		struct server *s = b->srv[i];
		s->uweight = s->eweight = s->c.weight;
		s->state = SRV_ST_RUNNING;
		if (s->c.flags & SRV_F_DISABLED) {
			s->admin |= SRV_ADMF_CMAINT | SRV_ADMF_FMAINT;
			s->state = SRV_ST_STOPPED;
		}
		s->lb.heap_idx = -1;
	}
	for (int i = 0; i < n; i++)
		lb_server_changed(b->srv[i]);
	if (b->algo->init && b->algo->init(&b->px) < 0)
		FX_ABORT("init failed");
	return b;
}

static inline struct fx_be *fx_new(const char *algo, int n, const int *weights, const struct fx_opt *opts)
{
	return fx_new_conf(algo, n, weights, opts, NULL, 0);
}

static inline void fx_free(struct fx_be *b)
{
	if (b->algo->deinit)
		b->algo->deinit(&b->px);
	for (int i = 0; i < b->n; i++) {
		free(b->srv[i]->id);
		free(b->srv[i]);
	}
	free(b->srv);
	free(b);
}

/* The index of <s> in b->srv, -1 for NULL. */
static inline int fx_idx(const struct server *s)
{
	return s ? s->puid - 1 : -1;
}

/*------------------------------------------------------------------------
 * Streams
 */

/* A stream with nothing but what pick() and prepare() read. */
struct fx_stream {
	struct stream s;
	struct http_txn *txn;
	char *area;
};

static inline void fx_stream_init(struct fx_stream *fs)
{
	memset(fs, 0, sizeof(*fs));
	fs->s.term[0] = fs->s.term[1] = '-';
	list_init(&fs->s.queue_el);
	list_init(&fs->s.list);
}

static inline void fx_stream_key(struct fx_stream *fs, uint32_t key)
{
	fs->s.lb_key = key;
	fs->s.flags |= SF_LB_KEY;
}

/* Client address as a host-order IPv4 address (0x7f000002 = 127.0.0.2). */
static inline void fx_stream_src4(struct fx_stream *fs, uint32_t addr)
{
	fs->s.src.in.sin_family = AF_INET;
	fs->s.src.in.sin_addr.s_addr = htonl(addr);
	fs->s.src.in.sin_port = htons(40000);
}

static inline void fx_stream_src6(struct fx_stream *fs, const char *text)
{
	fs->s.src.in6.sin6_family = AF_INET6;
	if (inet_pton(AF_INET6, text, &fs->s.src.in6.sin6_addr) != 1)
		FX_ABORT("bad IPv6 address");
}

/* Parses <head> (a full request head) into the stream's transaction, as
 * the request analyser leaves it when the algorithm's prepare() runs.
 * Returns 0, or -1 when the head does not parse. */
static inline int fx_stream_request(struct fx_stream *fs, const char *head)
{
	size_t len = strlen(head);
	const uint16_t max = 64;

	free(fs->txn);
	free(fs->area);
	fs->txn = calloc(1, sizeof(*fs->txn) + 2 * max * sizeof(struct http_hdr));
	fs->area = malloc(len ? len : 1);
	if (!fs->txn || !fs->area)
		FX_ABORT("out of memory");
	memcpy(fs->area, head, len);
	http_msg_init(&fs->txn->req, HTTP_REQUEST, fs->txn->hdrs, max);
	http_msg_begin(&fs->txn->req, fs->area, 0);
	if (http_msg_parse(&fs->txn->req, (uint32_t)len, HTTP_METH_OTHER) < HTTP_PARSE_HEAD)
		return -1;
	if (fs->txn->req.state != HTTP_MSG_HDRS_DONE)
		return -1;
	fs->s.txn = fs->txn;
	fs->s.flags |= SF_HTTP;
	return 0;
}

static inline void fx_stream_free(struct fx_stream *fs)
{
	free(fs->txn);
	free(fs->area);
	fs->txn = NULL;
	fs->area = NULL;
	fs->s.txn = NULL;
}

/* Runs the algorithm's prepare() (hash key) on <fs> after forgetting any
 * previous key, as a new transaction does. */
static inline void fx_prepare(struct fx_be *b, struct fx_stream *fs)
{
	fs->s.flags &= ~SF_LB_KEY;
	fs->s.lb_key = 0;
	fs->s.be = &b->px;
	if (b->algo->prepare)
		b->algo->prepare(&b->px, &fs->s);
}

/*------------------------------------------------------------------------
 * Picks and server events
 */

static inline enum lb_result fx_pick_s(struct fx_be *b, struct fx_stream *fs, const struct server *avoid,
                                       struct server **out)
{
	*out = NULL;
	fs->s.be = &b->px;
	return b->algo->pick(&b->px, &fs->s, avoid, out);
}

/* A pick for a stream without a key; NULL when the result is not LB_OK. */
static inline struct server *fx_pick(struct fx_be *b, const struct server *avoid)
{
	struct fx_stream fs;
	struct server *srv = NULL;

	fx_stream_init(&fs);
	if (fx_pick_s(b, &fs, avoid, &srv) != LB_OK)
		return NULL;
	return srv;
}

static inline struct server *fx_pick_key(struct fx_be *b, uint32_t key, const struct server *avoid)
{
	struct fx_stream fs;
	struct server *srv = NULL;

	fx_stream_init(&fs);
	fx_stream_key(&fs, key);
	if (fx_pick_s(b, &fs, avoid, &srv) != LB_OK)
		return NULL;
	return srv;
}

static inline enum lb_result fx_pick_result(struct fx_be *b)
{
	struct fx_stream fs;
	struct server *srv;

	fx_stream_init(&fs);
	return fx_pick_s(b, &fs, NULL, &srv);
}

/* A stream gets / leaves the server, as the backend does around a pick. */
static inline void fx_take(struct server *s)
{
	s->served++;
	if (s->served > s->max_served)
		s->max_served = s->served;
	lb_take(s);
}

static inline void fx_drop(struct server *s)
{
	s->served--;
	lb_drop(s);
}

/* A pick followed by take(): the server keeps the stream. */
static inline struct server *fx_pick_take(struct fx_be *b)
{
	struct server *s = fx_pick(b, NULL);

	if (s)
		fx_take(s);
	return s;
}

static inline void fx_set_down(struct server *s)
{
	s->state = SRV_ST_STOPPED;
	lb_server_changed(s);
}

static inline void fx_set_up(struct server *s)
{
	s->state = SRV_ST_RUNNING;
	lb_server_changed(s);
}

static inline void fx_set_maint(struct server *s, int on)
{
	if (on)
		s->admin |= SRV_ADMF_FMAINT;
	else
		s->admin &= ~SRV_ADMF_FMAINT;
	lb_server_changed(s);
}

/* A weight change at run time ("set weight"): user and effective weight. */
static inline void fx_set_weight(struct server *s, int w)
{
	s->uweight = s->eweight = w;
	lb_server_changed(s);
}

/*------------------------------------------------------------------------
 * A small deterministic generator (results must not depend on libc)
 */
static inline uint64_t fx_rand(uint64_t *st)
{
	/* splitmix64 */
	uint64_t z = (*st += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*------------------------------------------------------------------------
 * Assertions for the cmocka tests (only when cmocka.h came first)
 */
#ifdef cmocka_unit_test

/* counts[i] must be within <tol> (relative, 0.02 = 2%) of the share of
 * weights[i] in <total_picks>; servers of weight 0 must have none. */
static inline void fx_assert_shares(const int *counts, const int *weights, int n, long total_picks,
                                    double tol, const char *what)
{
	long wsum = 0;

	for (int i = 0; i < n; i++)
		wsum += weights[i];
	for (int i = 0; i < n; i++) {
		double want = (double)total_picks * weights[i] / (double)wsum;
		double got = counts[i];
		if (weights[i] == 0) {
			if (counts[i])
				fail_msg("%s: server %d of weight 0 got %d picks", what, i + 1, counts[i]);
			continue;
		}
		if (got < want * (1 - tol) || got > want * (1 + tol))
			fail_msg("%s: server %d (weight %d of %ld) got %d picks, expected %.1f +- %.0f%%",
			         what, i + 1, weights[i], wsum, counts[i], want, tol * 100);
	}
}

#endif /* cmocka */

#endif /* PROXYD_TEST_LB_FIXTURE_H */
