/* Admin socket commands that report: show info, show version, show
 * backend, show sess, show errors (with the snapshots of invalid messages
 * they print), show table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <ev.h>

#include <proxyd/addr.h>
#include <proxyd/cli.h>
#include <proxyd/stats.h>
#include <proxyd/errsnap.h>
#include <proxyd/global.h>
#include <proxyd/listener.h>
#include <proxyd/log.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>
#include <proxyd/stick_table.h>
#include <proxyd/stream.h>
#include <proxyd/thread.h>
#include <proxyd/version.h>

static uint64_t now_ms(void)
{
	return threads ? th_now_ms(&threads[0]) : (uint64_t)(ev_time() * 1000.0);
}

/*------------------------------------------------------------------------
 * Error snapshots
 */
unsigned error_snapshot_count;
uint64_t error_snapshot_last_ms;

static void snapshot_locked(struct stream *s, int is_res, const char *area, uint32_t sol, uint32_t end, uint32_t at);

/* Snapshots are taken by every thread and shown by the admin socket. */
static pthread_mutex_t errsnap_lock = PTHREAD_MUTEX_INITIALIZER;

void error_snapshot_take(struct stream *s, int is_res, const char *area, uint32_t sol, uint32_t end, uint32_t at)
{
	pthread_mutex_lock(&errsnap_lock);
	snapshot_locked(s, is_res, area, sol, end, at);
	pthread_mutex_unlock(&errsnap_lock);
}

static void snapshot_locked(struct stream *s, int is_res, const char *area, uint32_t sol, uint32_t end, uint32_t at)
{
	struct proxy *px = is_res ? s->be : s->fe;
	struct error_snapshot **slot = is_res ? &px->err_res : &px->err_req;

	if (!px || !area || end < sol)
		return;
	if (!*slot && !(*slot = calloc(1, sizeof(**slot))))
		return;
	struct error_snapshot *e = *slot;
	e->when_ms = now_ms();
	e->event = error_snapshot_count++;
	e->src = s->src;
	e->other = is_res ? s->fe : s->be;
	e->srv = s->srv;
	e->len = end - sol;
	e->pos = at >= sol ? at - sol : 0;
	e->kept = e->len < ERRSNAP_LEN ? e->len : ERRSNAP_LEN;
	memcpy(e->buf, area + sol, e->kept);
	error_snapshot_last_ms = e->when_ms;
}

static void date_of(uint64_t ms, char *out, size_t size)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	localtime_r(&sec, &tm);
	snprintf(out, size, "%02d/%s/%04d:%02d:%02d:%02d.%03d", tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900,
	         tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* Lines of the message, unprintable bytes as \xNN, as HAProxy shows them. */
static int dump_bytes(struct cli_ctx *c, const struct error_snapshot *e)
{
	char line[512];
	size_t n = 0;
	uint32_t start = 0;

	for (uint32_t i = 0; i < e->kept; i++) {
		unsigned char ch = (unsigned char)e->buf[i];
		if (n == 0)
			n = (size_t)snprintf(line, sizeof(line), "  %05u  ", start);
		if (ch == '\r' || ch == '\n')
			n += (size_t)snprintf(line + n, sizeof(line) - n, ch == '\r' ? "\\r" : "\\n");
		else if (ch < 0x20 || ch >= 0x7f || ch == '\\')
			n += (size_t)snprintf(line + n, sizeof(line) - n, "\\x%02x", ch);
		else
			line[n++] = (char)ch;
		if (ch == '\n' || n > sizeof(line) - 16 || i + 1 == e->kept) {
			line[n] = 0;
			if (cli_printf(c, "%s\n", line) < 0)
				return -1;
			n = 0;
			start = i + 1;
		}
	}
	return 0;
}

static int show_one_error(struct cli_ctx *c, const struct proxy *px, const struct error_snapshot *e, int is_res)
{
	char date[64], src[128];

	date_of(e->when_ms, date, sizeof(date));
	addr_str(&e->src.sa, src, sizeof(src));
	if (cli_printf(c, "\n[%s] %s %s (#%d): invalid %s\n  %s %s (#%d), server %s (#%d), event #%u, src %s\n"
	               "  buffer starts at 0 (including 0 out), len %u, error at position %u:\n\n", date,
	               is_res ? "backend" : "frontend", px->id, px->uuid, is_res ? "response" : "request",
	               is_res ? "frontend" : "backend", e->other ? e->other->id : "<NONE>",
	               e->other ? e->other->uuid : -1, e->srv ? e->srv->id : "<NONE>", e->srv ? e->srv->puid : -1,
	               e->event, src, e->len, e->pos) < 0)
		return -1;
	return dump_bytes(c, e);
}

static enum cli_ret cmd_show_errors(struct cli_ctx *c)
{
	struct proxy *px;
	long *done = &c->pos[0];
	long n = 0;
	char date[64];

	if (*done == 0) {
		date_of(now_ms(), date, sizeof(date));
		if (cli_printf(c, "Total events captured on [%s] : %u\n", date, error_snapshot_count) < 0)
			return CLI_MORE;
		*done = 1;
	}
	list_for_each(px, &proxies, list) {
		for (int r = 0; r < 2; r++) {
			const struct error_snapshot *e = r ? px->err_res : px->err_req;
			if (!e || ++n < *done)
				continue;
			if (c->nargs >= 3 && strcmp(c->args[2], px->id))
				continue;
			pthread_mutex_lock(&errsnap_lock);
			int rc = show_one_error(c, px, e, r);
			pthread_mutex_unlock(&errsnap_lock);
			if (rc < 0)
				return CLI_MORE;
			*done = n + 1;
		}
	}
	return CLI_DONE;
}

/*------------------------------------------------------------------------
 * show info / show version / show backend
 */
/* "show info typed": HAProxy 2.6.12's position and tags (origin, nature,
 * scope) and type of each "Name: value" line. */
struct info_typed {
	const char *name;
	int pos;
	const char *tags, *type;
};

static const struct info_typed info_typed[] = {
	{ "Name", 0, "POS", "str" },
	{ "Version", 1, "POS", "str" },
	{ "Release_date", 2, "POS", "str" },
	{ "Nbthread", 3, "CGS", "u32" },
	{ "Nbproc", 4, "CGS", "u32" },
	{ "Process_num", 5, "KGP", "u32" },
	{ "Pid", 6, "SGP", "u32" },
	{ "Uptime", 7, "MDP", "str" },
	{ "Uptime_sec", 8, "MDP", "u32" },
	{ "Memmax_MB", 9, "CLP", "u32" },
	{ "PoolAlloc_MB", 10, "MGP", "u32" },
	{ "PoolUsed_MB", 11, "MGP", "u32" },
	{ "PoolFailed", 12, "MCP", "u32" },
	{ "Ulimit-n", 13, "CLP", "u32" },
	{ "Maxsock", 14, "CLP", "u32" },
	{ "Maxconn", 15, "CLP", "u32" },
	{ "Hard_maxconn", 16, "CLP", "u32" },
	{ "CurrConns", 17, "MGP", "u32" },
	{ "CumConns", 18, "MCP", "u32" },
	{ "CumReq", 19, "MCP", "u32" },
	{ "MaxSslConns", 20, "MMP", "u32" },
	{ "CurrSslConns", 21, "MGP", "u32" },
	{ "CumSslConns", 22, "MCP", "u32" },
	{ "Maxpipes", 23, "CLP", "u32" },
	{ "PipesUsed", 24, "MGP", "u32" },
	{ "PipesFree", 25, "MGP", "u32" },
	{ "ConnRate", 26, "MRP", "u32" },
	{ "ConnRateLimit", 27, "CLP", "u32" },
	{ "MaxConnRate", 28, "MMP", "u32" },
	{ "SessRate", 29, "MRP", "u32" },
	{ "SessRateLimit", 30, "CLP", "u32" },
	{ "MaxSessRate", 31, "MRP", "u32" },
	{ "SslRate", 32, "MRP", "u32" },
	{ "SslRateLimit", 33, "CLP", "u32" },
	{ "MaxSslRate", 34, "MMP", "u32" },
	{ "SslFrontendKeyRate", 35, "MGP", "u32" },
	{ "SslFrontendMaxKeyRate", 36, "MMP", "u32" },
	{ "SslFrontendSessionReuse_pct", 37, "MGP", "u32" },
	{ "SslBackendKeyRate", 38, "MRP", "u32" },
	{ "SslBackendMaxKeyRate", 39, "MMP", "u32" },
	{ "SslCacheLookups", 40, "MCP", "u32" },
	{ "SslCacheMisses", 41, "MCP", "u32" },
	{ "CompressBpsIn", 42, "MRP", "u32" },
	{ "CompressBpsOut", 43, "MRP", "u32" },
	{ "CompressBpsRateLim", 44, "CLP", "u32" },
	{ "Tasks", 47, "MGP", "u32" },
	{ "Run_queue", 48, "MGP", "u32" },
	{ "Idle_pct", 49, "MaP", "u32" },
	{ "node", 50, "COS", "str" },
	{ "Stopping", 52, "MGP", "u32" },
	{ "Jobs", 53, "MGP", "u32" },
	{ "Unstoppable Jobs", 54, "MGP", "u32" },
	{ "Listeners", 55, "MGP", "u32" },
	{ "ActivePeers", 56, "MGP", "u32" },
	{ "ConnectedPeers", 57, "MGP", "u32" },
	{ "DroppedLogs", 58, "MGP", "u32" },
	{ "BusyPolling", 59, "MGP", "u32" },
	{ "FailedResolutions", 60, "MGP", "u32" },
	{ "TotalBytesOut", 61, "MGP", "u64" },
	{ "TotalSplicdedBytesOut", 62, "MGP", "u64" },
	{ "BytesOutRate", 63, "MRP", "u64" },
	{ "DebugCommandsIssued", 64, "MGP", "u32" },
	{ "CumRecvLogs", 65, "MCP", "u32" },
	{ "Build info", 66, "POS", "str" },
	{ "Memmax_bytes", 67, "CLP", "u32" },
	{ "PoolAlloc_bytes", 68, "MGP", "u64" },
	{ "PoolUsed_bytes", 69, "MGP", "u64" },
	{ "Start_time_sec", 70, "MDP", "u32" },
	{ "Tainted", 71, "SGP", "str" },
	{ NULL, 0, NULL, NULL }
};

/* Writes the "Name: value" lines of <text> in the typed form. */
static void print_info_typed(struct cli_ctx *c, const char *text)
{
	while (*text) {
		const char *eol = strchr(text, '\n');
		size_t len = eol ? (size_t)(eol - text) : strlen(text);
		const char *sep = memchr(text, ':', len);
		if (sep) {
			size_t nl = (size_t)(sep - text);
			for (const struct info_typed *t = info_typed; t->name; t++) {
				if (strlen(t->name) == nl && !memcmp(t->name, text, nl)) {
					const char *v = sep + 1 + (sep + 1 < text + len && sep[1] == ' ');
					cli_printf(c, "%d.%s.1:%s:%s:%.*s\n", t->pos, t->name, t->tags, t->type,
					           (int)(text + len - v), v);
					break;
				}
			}
		}
		text += len + (eol != NULL);
	}
}

static enum cli_ret cmd_show_info(struct cli_ctx *c)
{
	char text[4096];
	size_t tl;
	struct rlimit rl;
	struct proxy *px;
	char node[256];
	uint64_t up = global.start_ms && now_ms() > global.start_ms ? (now_ms() - global.start_ms) / 1000 : 0;
	uint64_t bytes_out = 0;
	int nb_listeners = 0;

	getrlimit(RLIMIT_NOFILE, &rl);
	if (stats_node_name && *stats_node_name)
		snprintf(node, sizeof(node), "%s", stats_node_name);
	else if (gethostname(node, sizeof(node)) < 0)
		snprintf(node, sizeof(node), "localhost");
	node[sizeof(node) - 1] = 0;
	list_for_each(px, &proxies, list) {
		struct listener *li;
		list_for_each(li, &px->listeners, fe_el)
			nb_listeners++;
		for (int t = 0; px->fe_counters && t < global.nbthread; t++)
			bytes_out += px->fe_counters[t].bytes_out;
	}
	tl = (size_t)snprintf(text, sizeof(text),
	           "Name: proxyd\nVersion: %s\nRelease_date: %s\nNbthread: %d\nNbproc: 1\nProcess_num: 1\nPid: %d\n"
	           "Uptime: %llud %lluh%02llum%02llus\nUptime_sec: %llu\nMemmax_MB: 0\nPoolAlloc_MB: 0\n"
	           "PoolUsed_MB: 0\nPoolFailed: 0\nUlimit-n: %llu\nMaxsock: %llu\nMaxconn: %d\nHard_maxconn: %d\n"
	           "CurrConns: %d\nCumConns: %llu\nCumReq: %llu\n",
	           proxyd_version, PROXYD_RELEASE_DATE, global.nbthread, (int)getpid(),
	           (unsigned long long)(up / 86400), (unsigned long long)(up / 3600 % 24),
	           (unsigned long long)(up / 60 % 60), (unsigned long long)(up % 60), (unsigned long long)up,
	           /* what the process sized itself for, as HAProxy shows (the
	            * system limit may be higher) */
	           global.ulimit_n ? (unsigned long long)global.ulimit_n : (unsigned long long)rl.rlim_cur,
	           global.maxsock ? (unsigned long long)global.maxsock : (unsigned long long)rl.rlim_cur,
	           global.maxconn, global.maxconn,
	           global.actconn, (unsigned long long)global.cum_conns, (unsigned long long)global.cum_req);
	if (tl >= sizeof(text))
		tl = sizeof(text) - 1;
	snprintf(text + tl, sizeof(text) - tl,
	           "MaxSslConns: 0\nCurrSslConns: 0\nCumSslConns: 0\nMaxpipes: 0\nPipesUsed: 0\nPipesFree: 0\n"
	           "ConnRate: 0\nConnRateLimit: 0\nMaxConnRate: 0\nSessRate: 0\nSessRateLimit: 0\nMaxSessRate: 0\n"
	           "SslRate: 0\nSslRateLimit: 0\nMaxSslRate: 0\nSslFrontendKeyRate: 0\nSslFrontendMaxKeyRate: 0\n"
	           "SslFrontendSessionReuse_pct: 0\nSslBackendKeyRate: 0\nSslBackendMaxKeyRate: 0\n"
	           "SslCacheLookups: 0\nSslCacheMisses: 0\nCompressBpsIn: 0\nCompressBpsOut: 0\n"
	           "CompressBpsRateLim: 0\nTasks: %u\nRun_queue: 0\nIdle_pct: %d\nnode: %s\n%s%s%sStopping: %d\n"
	           "Jobs: %d\nUnstoppable Jobs: 0\nListeners: %d\nActivePeers: 0\nConnectedPeers: 0\n"
	           "DroppedLogs: %llu\nBusyPolling: 0\nFailedResolutions: 0\nTotalBytesOut: %llu\n"
	           "TotalSplicdedBytesOut: 0\nBytesOutRate: 0\nDebugCommandsIssued: 0\nCumRecvLogs: 0\n"
	           "Build info: %s\nMemmax_bytes: 0\nPoolAlloc_bytes: 0\nPoolUsed_bytes: 0\nStart_time_sec: %llu\n"
	           "Tainted: 0\n",
	           threads ? __atomic_load_n(&threads[0].nb_streams, __ATOMIC_RELAXED) : 0, thread_idle_pct(), node,
	           stats_description ? "description: " : "", stats_description ? stats_description : "",
	           stats_description ? "\n" : "", global.stopping,
	           global.actconn + nb_listeners, nb_listeners, (unsigned long long)log_global.dropped,
	           (unsigned long long)bytes_out, proxyd_version, (unsigned long long)(global.start_ms / 1000));
	if (c->nargs > 2 && !strcmp(c->args[2], "typed"))
		print_info_typed(c, text);
	else
		cli_printf(c, "%s", text);
	return CLI_DONE;
}

/* show activity: HAProxy's per-thread lines "name: total [ t1 t2 ... ]",
 * those proxyd measures (the others are not printed). */
static void activity_line(struct cli_ctx *c, const char *name, _Atomic uint64_t *first, size_t stride)
{
	char line[4096];
	uint64_t tot = 0;
	size_t n = 0;

	for (int t = 0; t < global.nbthread; t++)
		tot += *(_Atomic uint64_t *)((char *)first + (size_t)t * stride);
	n += (size_t)snprintf(line + n, sizeof(line) - n, "%s: %llu [", name, (unsigned long long)tot);
	for (int t = 0; t < global.nbthread && n < sizeof(line); t++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, " %llu",
		                      (unsigned long long)*(_Atomic uint64_t *)((char *)first + (size_t)t * stride));
	cli_printf(c, "%s ]\n", line);
}

static enum cli_ret cmd_show_activity(struct cli_ctx *c)
{
	struct timeval tv;

	if (!threads)
		return CLI_DONE;
	gettimeofday(&tv, NULL);
	cli_printf(c, "thread_id: %d (1..%d)\ndate_now: %lld.%06ld\n", curr_th ? curr_th->tid + 1 : 1,
	           global.nbthread, (long long)tv.tv_sec, (long)tv.tv_usec);
	activity_line(c, "loops", &threads[0].loops, sizeof(threads[0]));
	activity_line(c, "accepted", &threads[0].accepted, sizeof(threads[0]));
	return CLI_DONE;
}

static enum cli_ret cmd_show_version(struct cli_ctx *c)
{
	cli_printf(c, "%s\n", proxyd_version);
	return CLI_DONE;
}

static enum cli_ret cmd_show_backend(struct cli_ctx *c)
{
	struct proxy *px;

	cli_printf(c, "# name\n");
	list_for_each(px, &proxies, list)
		if (px->cap & PR_CAP_BE)
			cli_printf(c, "%s\n", px->id);
	return CLI_DONE;
}

/*------------------------------------------------------------------------
 * show sess
 */
static enum cli_ret cmd_show_sess(struct cli_ctx *c)
{
	long *done = &c->pos[0];
	long n = 0;
	uint64_t now = now_ms();

	for (int t = 0; t < global.nbthread; t++) {
		struct stream *s;
		/* another thread's streams: its lock keeps them alive while they
		 * are printed (their fields are a snapshot, as HAProxy's) */
		if (threads_multi())
			pthread_mutex_lock(&threads[t].streams_lock);
		list_for_each(s, &threads[t].streams, list) {
			char src[128];
			if (++n <= *done)
				continue;
			addr_str(&s->src.sa, src, sizeof(src));
			if (cli_printf(c, "%p: proto=%s src=%s fe=%s be=%s srv=%s ts=%02x age=%llus calls=%u rq[f=%x] "
			               "rp[f=%x] cli=%d srv=%d\n", (void *)s,
			               s->src.sa.sa_family == AF_INET6 ? "tcpv6" : s->src.sa.sa_family == AF_UNIX ? "unix_stream" :
			               "tcpv4", src, s->fe->id, s->be ? s->be->id : "<NONE>", s->srv ? s->srv->id : "<none>",
			               0, (unsigned long long)((now - s->t_accept) / 1000), s->progress, s->flags,
			               s->txn ? (unsigned)s->txn->status : 0u, s->cli.fd, s->sc ? s->sc->fd : -1) < 0) {
				if (threads_multi())
					pthread_mutex_unlock(&threads[t].streams_lock);
				return CLI_MORE;
			}
			*done = n;
		}
		if (threads_multi())
			pthread_mutex_unlock(&threads[t].streams_lock);
	}
	return CLI_DONE;
}

/*------------------------------------------------------------------------
 * show table
 */
struct table_dump {
	struct cli_ctx *c;
	long skip, written;
	int full;
};

static void emit_entry(void *ctx, const char *line, size_t len)
{
	struct table_dump *d = ctx;

	if (d->full)
		return;
	if (d->skip > 0) {
		d->skip--;
		return;
	}
	if (cli_printf(d->c, "%.*s\n", (int)len, line) < 0) {
		d->full = 1;
		return;
	}
	d->written++;
}

static enum cli_ret cmd_show_table(struct cli_ctx *c)
{
	struct proxy *px;
	char head[512];

	if (c->nargs < 3) {
		list_for_each(px, &proxies, list) {
			if (!px->table)
				continue;
			if (threads_multi())
				pthread_mutex_lock(&px->table->lock);
			stktable_dump_header(px->table, head, sizeof(head));
			if (threads_multi())
				pthread_mutex_unlock(&px->table->lock);
			cli_printf(c, "%s\n", head);
		}
		return CLI_DONE;
	}
	px = cli_find_proxy(c->args[2], PR_CAP_FE | PR_CAP_BE);
	if (!px || !px->table)
		return cli_err(c, "No such table\n");
	/* pos[0]: 0 before the header, then 1 + entries already written; a
	 * piece starts again from the oldest entry and skips those */
	if (c->pos[0] == 0) {
		if (threads_multi())
			pthread_mutex_lock(&px->table->lock);
		stktable_dump_header(px->table, head, sizeof(head));
		if (threads_multi())
			pthread_mutex_unlock(&px->table->lock);
		if (cli_printf(c, "%s\n", head) < 0)
			return CLI_MORE;
		c->pos[0] = 1;
	}
	struct table_dump d = { c, c->pos[0] - 1, 0, 0 };
	/* the data threads use the table meanwhile */
	if (threads_multi())
		pthread_mutex_lock(&px->table->lock);
	stktable_dump(px->table, now_ms(), emit_entry, &d);
	if (threads_multi())
		pthread_mutex_unlock(&px->table->lock);
	c->pos[0] += d.written;
	return d.full ? CLI_MORE : CLI_DONE;
}

static const struct cli_cmd info_cmds[] = {
	{ { "show", "info" }, "show info [typed]", "report information about the running process", CLI_LVL_USER,
	  cmd_show_info },
	{ { "show", "activity" }, "show activity", "show per-thread activity stats (for support/developers)",
	  CLI_LVL_USER, cmd_show_activity },
	{ { "show", "version" }, "show version", "show version of the current process", CLI_LVL_USER,
	  cmd_show_version },
	{ { "show", "backend" }, "show backend", "list backends in the current running config", CLI_LVL_USER,
	  cmd_show_backend },
	{ { "show", "sess" }, "show sess [id]", "report the list of current sessions or dump this exact session",
	  CLI_LVL_OPER, cmd_show_sess },
	{ { "show", "errors" }, "show errors [<px>]", "report last request and/or response errors for each proxy",
	  CLI_LVL_OPER, cmd_show_errors },
	{ { "show", "table" }, "show table <table>", "report table usage stats or dump this table's contents",
	  CLI_LVL_OPER, cmd_show_table },
	{ { NULL } }
};

CLI_REGISTER(info_cmds);
