/* Micro-benchmark of the balance algorithms: the cost of one pick, and of
 * the update after a server's state changes, on a synthetic backend of
 * 1,000 servers (random weights 1..256) built in memory as in the unit
 * tests (tests/unit/lb_fixture.h). No sockets, no event loop.
 *
 *     make lb-bench                        # build and run
 *     build/lb_pick_bench --servers 10000  # another size
 *     build/lb_pick_bench --callgrind      # + instructions per operation
 *
 * Each pick is measured as the backend does it: pick(), then take() on
 * the chosen server, then, for a stream that ends, drop(). For leastconn
 * and first a pool of streams stays open (each iteration ends a random
 * one and opens one), so the heap moves on every operation. Hash
 * algorithms are measured twice: pick() alone on a key computed
 * beforehand, and prepare() (the key from the request: client address,
 * URI, query parameter, header) + pick(). The "on backup" rows have
 * every active server down and the first of the backups (the last tenth
 * of the servers) serving. "update" is a server going down
 * then up (lb_server_changed()) followed by the pick that sees it: hash
 * tables are rebuilt lazily by that pick, so it is counted there.
 *
 * Timing: CLOCK_MONOTONIC around a loop calibrated to last about 0.2 s,
 * best of 3. With --callgrind the program runs itself under valgrind
 * (tool callgrind, collection off at start) with fewer iterations, turns
 * collection on around each measured loop only and divides the
 * instruction count (Ir) of each section by its iterations.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "lb_fixture.h"

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HAVE_CALLGRIND 1
#endif
#endif
#ifndef HAVE_CALLGRIND
#define RUNNING_ON_VALGRIND 0
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_TOGGLE_COLLECT
#define CALLGRIND_DUMP_STATS_AT(x)
#endif

static int nsrv = 1000;
static int under_cg;               /* running under callgrind: fixed small loops */
static uint64_t seed = 12345;

#define NKEYS 4096                 /* distinct requests / clients cycled through */
#define NRAND (1 << 16)
static uint32_t rnd[NRAND];        /* random numbers drawn before the loops */

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int *random_weights(int n)
{
	int *w = malloc(sizeof(int) * (size_t)n);
	uint64_t s = 777;

	if (!w)
		FX_ABORT("out of memory");
	for (int i = 0; i < n; i++)
		w[i] = 1 + (int)(fx_rand(&s) % 256);
	return w;
}

/*------------------------------------------------------------------------
 * One measured case: a setup, a loop body run <iters> times, a teardown
 */
struct ctx {
	struct fx_be *b;
	struct fx_stream *fs;       /* NKEYS streams with requests / addresses */
	struct server **held;       /* streams kept open */
	int nheld, maxheld;
	int with_prepare;
	int victim;                 /* update: the server toggled */
	int down;
	unsigned r;
};

typedef void (*body_fn)(struct ctx *c, long iters);

/* pick + take + drop: a request that ends before the next one */
static void body_short(struct ctx *c, long iters)
{
	struct fx_be *b = c->b;

	for (long i = 0; i < iters; i++) {
		struct server *s;
		struct fx_stream *fs = &c->fs[i & (NKEYS - 1)];
		if (c->with_prepare)
			b->algo->prepare(&b->px, &fs->s);
		if (b->algo->pick(&b->px, &fs->s, NULL, &s) != LB_OK)
			FX_ABORT("pick failed");
		fx_take(s);
		fx_drop(s);
		if (c->with_prepare)
			fs->s.flags &= ~SF_LB_KEY;
	}
}

/* a pool of open streams: end a random one, pick and take a new one */
static void body_pool(struct ctx *c, long iters)
{
	struct fx_be *b = c->b;

	for (long i = 0; i < iters; i++) {
		struct server *s;
		unsigned k = rnd[c->r++ & (NRAND - 1)] % (unsigned)c->nheld;
		fx_drop(c->held[k]);
		if (b->algo->pick(&b->px, &c->fs[0].s, NULL, &s) != LB_OK)
			FX_ABORT("pick failed");
		fx_take(s);
		c->held[k] = s;
	}
}

/* a server goes down, a pick; it comes back, a pick */
static void body_update(struct ctx *c, long iters)
{
	struct fx_be *b = c->b;

	for (long i = 0; i < iters; i++) {
		struct server *s, *v = b->srv[c->victim];
		struct fx_stream *fs = &c->fs[i & (NKEYS - 1)];
		if (v->state == SRV_ST_RUNNING)
			fx_set_down(v);
		else
			fx_set_up(v);
		if (b->algo->pick(&b->px, &fs->s, NULL, &s) != LB_OK)
			FX_ABORT("pick failed");
		fx_take(s);
		fx_drop(s);
		/* down then up again, then another server */
		if (v->state == SRV_ST_RUNNING)
			c->victim = (int)(rnd[c->r++ & (NRAND - 1)] % (unsigned)b->n);
	}
	/* leave every server up */
	for (int k = 0; k < b->n; k++)
		if (b->srv[k]->state != SRV_ST_RUNNING)
			fx_set_up(b->srv[k]);
}

/*------------------------------------------------------------------------
 * Backends and streams
 */
enum keykind { K_NONE, K_SRC, K_URI, K_PARAM, K_HDR };

static struct ctx *ctx_new(const char *algo, enum lb_hash_method method, enum keykind kk, int maxconn,
                           int pool, int on_backup)
{
	struct ctx *c = calloc(1, sizeof(*c));
	int *w = random_weights(nsrv);
	struct fx_opt *o = NULL;
	struct lb_conf lbc = { .method = method, .fn = LB_HASH_SDBM, .avalanche = method == LB_HASH_CONSISTENT };

	if (!c)
		FX_ABORT("out of memory");
	if (maxconn || on_backup) {
		o = calloc((size_t)nsrv, sizeof(*o));
		if (!o)
			FX_ABORT("out of memory");
		for (int i = 0; i < nsrv; i++) {
			o[i].maxconn = maxconn;
			/* the last tenth are backups */
			if (on_backup && i >= nsrv - nsrv / 10)
				o[i].flags = SRV_F_BACKUP;
		}
	}
	if (kk == K_PARAM)
		lbc.name = "id";
	else if (kk == K_HDR)
		lbc.name = "X-User";
	c->b = fx_new_conf(algo, nsrv, w, o, &lbc, 0);
	free(w);
	free(o);
	if (on_backup)
		for (int i = 0; i < nsrv - nsrv / 10; i++)
			fx_set_down(c->b->srv[i]);
	c->fs = calloc(NKEYS, sizeof(*c->fs));
	if (!c->fs)
		FX_ABORT("out of memory");
	for (int i = 0; i < NKEYS; i++) {
		struct fx_stream *fs = &c->fs[i];
		char head[256];
		fx_stream_init(fs);
		fs->s.be = &c->b->px;
		switch (kk) {
		case K_SRC:
			fx_stream_src4(fs, 0x0a000000u + (uint32_t)fx_rand(&seed) % 0xffffffu);
			break;
		case K_URI:
			snprintf(head, sizeof(head), "GET /static/img/%08x/photo.jpg?v=3 HTTP/1.1\r\nHost: a\r\n\r\n",
			         (unsigned)fx_rand(&seed));
			break;
		case K_PARAM:
			snprintf(head, sizeof(head), "GET /app/view?lang=en&id=%u&page=2 HTTP/1.1\r\nHost: a\r\n\r\n",
			         (unsigned)fx_rand(&seed));
			break;
		case K_HDR:
			snprintf(head, sizeof(head),
			         "GET /api HTTP/1.1\r\nHost: a\r\nUser-Agent: bench\r\nAccept: */*\r\nX-User: u%u\r\n\r\n",
			         (unsigned)fx_rand(&seed));
			break;
		default:
			break;
		}
		if (kk == K_URI || kk == K_PARAM || kk == K_HDR)
			if (fx_stream_request(fs, head) < 0)
				FX_ABORT("request does not parse");
		if (kk != K_NONE)
			fx_prepare(c->b, fs);
	}
	if (pool) {
		c->maxheld = pool;
		c->held = calloc((size_t)pool, sizeof(*c->held));
		if (!c->held)
			FX_ABORT("out of memory");
		while (c->nheld < pool) {
			struct server *s = fx_pick(c->b, NULL);
			if (!s)
				FX_ABORT("pool: no server");
			fx_take(s);
			c->held[c->nheld++] = s;
		}
	}
	return c;
}

static void ctx_free(struct ctx *c)
{
	for (int i = 0; i < c->nheld; i++)
		fx_drop(c->held[i]);
	for (int i = 0; i < NKEYS; i++)
		fx_stream_free(&c->fs[i]);
	free(c->fs);
	free(c->held);
	fx_free(c->b);
	free(c);
}

/* Runs <body> and returns ns per iteration (best of 3, each about 0.2 s),
 * or, under callgrind, runs a fixed number of iterations with collection
 * on and dumps the section as <label>:<iters>. */
static double measure(struct ctx *c, body_fn body, const char *label, long cg_iters)
{
	if (under_cg) {
		char name[128];
		body(c, cg_iters / 10 + 1);     /* warm-up (lazy builds), not counted */
		snprintf(name, sizeof(name), "%s:%ld", label, cg_iters);
		CALLGRIND_ZERO_STATS;
		CALLGRIND_TOGGLE_COLLECT;
		body(c, cg_iters);
		CALLGRIND_TOGGLE_COLLECT;
		CALLGRIND_DUMP_STATS_AT(name);
		return 0;
	}
	long iters = 1;
	double t;
	body(c, 1);    /* a hash table built lazily is built here, not timed */
	for (;;) {
		double t0 = now_ns();
		body(c, iters);
		t = now_ns() - t0;
		if (t > 2e7 || iters > (1L << 28))
			break;
		iters *= 4;
	}
	iters = (long)((double)iters * 2e8 / t) + 1;
	double best = 1e30;
	for (int rep = 0; rep < 3; rep++) {
		double t0 = now_ns();
		body(c, iters);
		double per = (now_ns() - t0) / (double)iters;
		best = per < best ? per : best;
	}
	return best;
}

/*------------------------------------------------------------------------
 * The table
 */
struct row {
	const char *label;
	const char *algo;
	enum lb_hash_method method;
	enum keykind kk;
	int maxconn, pool;          /* pool: streams kept open (leastconn, first) */
	int on_backup;              /* every active server down: the first backup serves */
};

static const struct row rows[] = {
	{ "roundrobin",            "roundrobin", 0, K_NONE, 0, 0 },
	{ "static-rr",             "static-rr",  0, K_NONE, 0, 0 },
	{ "leastconn",             "leastconn",  0, K_NONE, 0, 4000 },
	{ "first (maxconn 8)",     "first",      0, K_NONE, 8, 4000 },
	{ "random(2)",             "random",     0, K_NONE, 0, 0 },
	{ "source map-based",      "source",     LB_HASH_MAP, K_SRC, 0, 0 },
	{ "source consistent",     "source",     LB_HASH_CONSISTENT, K_SRC, 0, 0 },
	{ "uri map-based",         "uri",        LB_HASH_MAP, K_URI, 0, 0 },
	{ "uri consistent",        "uri",        LB_HASH_CONSISTENT, K_URI, 0, 0 },
	{ "url_param map-based",   "url_param",  LB_HASH_MAP, K_PARAM, 0, 0 },
	{ "url_param consistent",  "url_param",  LB_HASH_CONSISTENT, K_PARAM, 0, 0 },
	{ "hdr map-based",         "hdr",        LB_HASH_MAP, K_HDR, 0, 0 },
	{ "hdr consistent",        "hdr",        LB_HASH_CONSISTENT, K_HDR, 0, 0 },
	{ "roundrobin on backup",  "roundrobin", 0, K_NONE, 0, 0, 1 },
	{ "leastconn on backup",   "leastconn",  0, K_NONE, 0, 400, 1 },
};
#define NROWS ((int)(sizeof(rows) / sizeof(rows[0])))

struct result {
	double pick, prep_pick, update;       /* ns */
	double i_pick, i_prep_pick, i_update; /* instructions, -1 unknown */
};

static void run_row(const struct row *r, struct result *out)
{
	/* as many open streams as 4 per server, at most r->pool */
	int pool = r->pool && r->pool > 4 * nsrv ? 4 * nsrv : r->pool;
	struct ctx *c = ctx_new(r->algo, r->method, r->kk, r->maxconn, pool, r->on_backup);
	char label[96];

	snprintf(label, sizeof(label), "%s|pick", r->label);
	out->pick = measure(c, r->pool ? body_pool : body_short, label, 20000);
	out->prep_pick = -1;
	if (r->kk != K_NONE && c->b->algo->prepare) {
		c->with_prepare = 1;
		snprintf(label, sizeof(label), "%s|prep", r->label);
		out->prep_pick = measure(c, body_short, label, 20000);
		c->with_prepare = 0;
	}
	ctx_free(c);
	/* update on a fresh backend, streams closed */
	c = ctx_new(r->algo, r->method, r->kk, r->maxconn, 0, r->on_backup);
	snprintf(label, sizeof(label), "%s|update", r->label);
	/* under callgrind a ring rebuild takes seconds: few iterations */
	long cg = r->method == LB_HASH_CONSISTENT ? 2 : r->kk != K_NONE || !strcmp(r->algo, "random") ? 20 : 2000;
	out->update = measure(c, body_update, label, cg);
	ctx_free(c);
}

/* Reads the callgrind dumps in <dir>: each section "<row>|<what>:<iters>"
 * gives Ir / iters. */
static void read_cg(const char *dir, struct result *res)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[512], line[512], desc[512] = "";
		unsigned long long ir = 0;
		if (strncmp(e->d_name, "callgrind.out", 13) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			if (!strncmp(line, "desc: Trigger: Client Request: ", 31)) {
				snprintf(desc, sizeof(desc), "%s", line + 31);
				desc[strcspn(desc, "\n")] = 0;
			} else if (!strncmp(line, "summary: ", 9) || !strncmp(line, "totals: ", 8)) {
				ir = strtoull(strchr(line, ' ') + 1, NULL, 10);
			}
		}
		fclose(f);
		char *bar = strchr(desc, '|'), *colon = strrchr(desc, ':');
		if (!bar || !colon)
			continue;
		long iters = atol(colon + 1);
		*bar = 0;
		*colon = 0;
		for (int i = 0; i < NROWS; i++) {
			if (strcmp(rows[i].label, desc) != 0)
				continue;
			double per = (double)ir / (double)iters;
			if (!strcmp(bar + 1, "pick"))
				res[i].i_pick = per;
			else if (!strcmp(bar + 1, "prep"))
				res[i].i_prep_pick = per;
			else if (!strcmp(bar + 1, "update"))
				res[i].i_update = per;
		}
	}
	closedir(d);
}

/* Runs this very program under callgrind; fills the instruction columns. */
static int run_callgrind(const char *self, struct result *res)
{
	char dir[] = "/tmp/lb_pick_bench.XXXXXX";
	char nbuf[16], outfile[600];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return -1;
	}
	snprintf(nbuf, sizeof(nbuf), "%d", nsrv);
	snprintf(outfile, sizeof(outfile), "--callgrind-out-file=%s/callgrind.out.%%p", dir);
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", 1);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("valgrind", "valgrind", "--tool=callgrind", "--collect-atstart=no", outfile, self,
		       "--servers", nbuf, "--cg-child", (char *)NULL);
		_exit(127);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "valgrind run failed (status %d); is valgrind installed?\n", st);
		return -1;
	}
	read_cg(dir, res);
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char path[600];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	return 0;
}

static void cell(double v, int instr)
{
	if (v < 0)
		printf(" %10s", "-");
	else if (instr)
		printf(" %10.0f", v);
	else if (v >= 1e6)
		printf(" %8.2fms", v / 1e6);
	else if (v >= 1e4)
		printf(" %8.1fus", v / 1e3);
	else
		printf(" %10.1f", v);
}

int main(int argc, char **argv)
{
	int want_cg = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--servers") && i + 1 < argc)
			nsrv = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--callgrind"))
			want_cg = 1;
		else if (!strcmp(argv[i], "--cg-child"))
			under_cg = 1;
		else {
			fprintf(stderr, "usage: %s [--servers N] [--callgrind]\n", argv[0]);
			return 2;
		}
	}
	if (nsrv < 2) {
		fprintf(stderr, "--servers: at least 2\n");
		return 2;
	}
	for (int i = 0; i < NRAND; i++)
		rnd[i] = (uint32_t)fx_rand(&seed);

	struct result res[NROWS];
	for (int i = 0; i < NROWS; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		res[i].i_pick = res[i].i_prep_pick = res[i].i_update = -1;
	}
	if (under_cg) {
		if (!RUNNING_ON_VALGRIND)
			return 1;
		for (int i = 0; i < NROWS; i++)
			run_row(&rows[i], &res[i]);
		return 0;
	}
	if (want_cg && run_callgrind(argv[0], res) < 0)
		want_cg = 0;

	printf("proxyd balance algorithms: %d servers, random weights 1..256\n", nsrv);
	printf("pick = pick + take + drop (leastconn, first: %d streams open, one ends and one starts)\n",
	       4000 > 4 * nsrv ? 4 * nsrv : 4000);
	printf("prep+pick = key from the request (prepare) + pick; update = server down or up + next pick\n");
	printf("times in ns unless marked%s\n\n", want_cg ? "; Ir = instructions (callgrind)" : "");
	printf("%-22s %10s %10s %10s", "algorithm", "pick", "prep+pick", "update");
	if (want_cg)
		printf(" %10s %10s %10s", "Ir pick", "Ir prep+pk", "Ir update");
	printf("\n");
	for (int i = 0; i < NROWS; i++) {
		run_row(&rows[i], &res[i]);
		printf("%-22s", rows[i].label);
		cell(res[i].pick, 0);
		cell(res[i].prep_pick, 0);
		cell(res[i].update, 0);
		if (want_cg) {
			cell(res[i].i_pick, 1);
			cell(res[i].i_prep_pick, 1);
			cell(res[i].i_update, 1);
		}
		printf("\n");
		fflush(stdout);
	}
	return 0;
}
