/* "http-request use-service prometheus-exporter": the statistics in the
 * Prometheus text format, with the metric names of HAProxy's built-in
 * exporter (haproxy_process_*, haproxy_frontend_*, haproxy_backend_*,
 * haproxy_server_*, labels "proxy" and "server"), so that dashboards made
 * for HAProxy work unchanged. proxyd's own figures (last-minute response
 * time percentiles) are under proxyd_* names, not to pass for HAProxy's.
 *
 * Metrics come from the same rows as the CSV (stats.c). The output is
 * grouped by metric, as the format wants: for each metric, every proxy
 * or server. It is written metric line by metric line through the HTTP
 * service framework, resumable at any line. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <proxyd/cfg.h>
#include <proxyd/global.h>
#include <proxyd/http_svc.h>
#include <proxyd/live.h>
#include <proxyd/proxy.h>
#include <proxyd/rules.h>
#include <proxyd/server.h>
#include <proxyd/stats.h>
#include <proxyd/stream.h>
#include <proxyd/thread.h>
#include <proxyd/version.h>

enum { M_GAUGE = 0, M_COUNTER };
/* special ways of turning a field into lines */
enum { X_PLAIN = 0, X_MS_TO_S, X_STATUS, X_CODES, X_PCT };

struct metric {
	const char *name;        /* after "haproxy_<kind>_" */
	enum stat_field field;
	unsigned char type;      /* M_* */
	unsigned char how;       /* X_* */
	const char *help;
};

#define M(n, f, t, h) { n, f, t, X_PLAIN, h }
#define MS(n, f, h) { n, f, M_GAUGE, X_MS_TO_S, h }

static const struct metric fe_metrics[] = {
	{ "status", ST_F_STATUS, M_GAUGE, X_STATUS, "Current status of the service." },
	M("current_sessions", ST_F_SCUR, M_GAUGE, "Current number of active sessions."),
	M("max_sessions", ST_F_SMAX, M_GAUGE, "Maximum observed number of active sessions."),
	M("limit_sessions", ST_F_SLIM, M_GAUGE, "Configured session limit."),
	M("sessions_total", ST_F_STOT, M_COUNTER, "Total number of sessions."),
	M("bytes_in_total", ST_F_BIN, M_COUNTER, "Current total of incoming bytes."),
	M("bytes_out_total", ST_F_BOUT, M_COUNTER, "Current total of outgoing bytes."),
	M("requests_denied_total", ST_F_DREQ, M_COUNTER, "Total number of denied requests."),
	M("responses_denied_total", ST_F_DRESP, M_COUNTER, "Total number of denied responses."),
	M("request_errors_total", ST_F_EREQ, M_COUNTER, "Total number of request errors."),
	M("current_session_rate", ST_F_RATE, M_GAUGE, "Current number of sessions per second over last elapsed second."),
	M("limit_session_rate", ST_F_RATE_LIM, M_GAUGE, "Configured limit on new sessions per second."),
	M("max_session_rate", ST_F_RATE_MAX, M_GAUGE, "Maximum observed number of sessions per second."),
	{ "http_responses_total", ST_F_HRSP_1XX, M_COUNTER, X_CODES, "Total number of HTTP responses." },
	M("http_requests_rate_max", ST_F_REQ_RATE_MAX, M_GAUGE, "Maximum observed number of HTTP requests per second."),
	M("http_requests_total", ST_F_REQ_TOT, M_COUNTER, "Total number of HTTP requests received."),
	M("intercepted_requests_total", ST_F_INTERCEPTED, M_COUNTER, "Total number of intercepted HTTP requests."),
	M("denied_connections_total", ST_F_DCON, M_COUNTER, "Total number of requests denied by \"tcp-request connection\" rules."),
	M("denied_sessions_total", ST_F_DSES, M_COUNTER, "Total number of requests denied by \"tcp-request session\" rules."),
	M("failed_header_rewriting_total", ST_F_WREW, M_COUNTER, "Total number of failed header rewriting warnings."),
	M("internal_errors_total", ST_F_EINT, M_COUNTER, "Total number of internal errors."),
	M("connections_rate_max", ST_F_CONN_RATE_MAX, M_GAUGE, "Maximum observed number of connections per second."),
	M("connections_total", ST_F_CONN_TOT, M_COUNTER, "Total number of connections."),
	{ NULL }
};

static const struct metric be_metrics[] = {
	{ "status", ST_F_STATUS, M_GAUGE, X_STATUS, "Current status of the service." },
	M("current_sessions", ST_F_SCUR, M_GAUGE, "Current number of active sessions."),
	M("max_sessions", ST_F_SMAX, M_GAUGE, "Maximum observed number of active sessions."),
	M("limit_sessions", ST_F_SLIM, M_GAUGE, "Configured session limit."),
	M("sessions_total", ST_F_STOT, M_COUNTER, "Total number of sessions."),
	M("bytes_in_total", ST_F_BIN, M_COUNTER, "Current total of incoming bytes."),
	M("bytes_out_total", ST_F_BOUT, M_COUNTER, "Current total of outgoing bytes."),
	M("current_queue", ST_F_QCUR, M_GAUGE, "Current number of queued requests."),
	M("max_queue", ST_F_QMAX, M_GAUGE, "Maximum observed number of queued requests."),
	M("requests_denied_total", ST_F_DREQ, M_COUNTER, "Total number of denied requests."),
	M("responses_denied_total", ST_F_DRESP, M_COUNTER, "Total number of denied responses."),
	M("connection_errors_total", ST_F_ECON, M_COUNTER, "Total number of connection errors."),
	M("response_errors_total", ST_F_ERESP, M_COUNTER, "Total number of response errors."),
	M("retry_warnings_total", ST_F_WRETR, M_COUNTER, "Total number of retry warnings."),
	M("redispatch_warnings_total", ST_F_WREDIS, M_COUNTER, "Total number of redispatch warnings."),
	M("weight", ST_F_WEIGHT, M_GAUGE, "Service weight."),
	M("active_servers", ST_F_ACT, M_GAUGE, "Current number of active servers."),
	M("backup_servers", ST_F_BCK, M_GAUGE, "Current number of backup servers."),
	M("check_up_down_total", ST_F_CHKDOWN, M_COUNTER, "Total number of UP->DOWN transitions."),
	M("check_last_change_seconds", ST_F_LASTCHG, M_GAUGE, "How long ago the last server state changed, in seconds."),
	M("downtime_seconds_total", ST_F_DOWNTIME, M_COUNTER, "Total downtime (in seconds) for the service."),
	M("loadbalanced_total", ST_F_LBTOT, M_COUNTER, "Total number of times a service was selected."),
	M("current_session_rate", ST_F_RATE, M_GAUGE, "Current number of sessions per second over last elapsed second."),
	M("max_session_rate", ST_F_RATE_MAX, M_GAUGE, "Maximum observed number of sessions per second."),
	{ "http_responses_total", ST_F_HRSP_1XX, M_COUNTER, X_CODES, "Total number of HTTP responses." },
	M("http_requests_total", ST_F_REQ_TOT, M_COUNTER, "Total number of HTTP requests received."),
	M("client_aborts_total", ST_F_CLI_ABRT, M_COUNTER, "Total number of data transfers aborted by the client."),
	M("server_aborts_total", ST_F_SRV_ABRT, M_COUNTER, "Total number of data transfers aborted by the server."),
	M("last_session_seconds", ST_F_LASTSESS, M_GAUGE, "How long ago some traffic was seen on this object, in seconds."),
	MS("queue_time_average_seconds", ST_F_QTIME, "Avg. queue time for last 1024 successful connections."),
	MS("connect_time_average_seconds", ST_F_CTIME, "Avg. connect time for last 1024 successful connections."),
	MS("response_time_average_seconds", ST_F_RTIME, "Avg. response time for last 1024 successful connections."),
	MS("total_time_average_seconds", ST_F_TTIME, "Avg. total time for last 1024 successful connections."),
	MS("max_queue_time_seconds", ST_F_QT_MAX, "Maximum observed time spent in the queue"),
	MS("max_connect_time_seconds", ST_F_CT_MAX, "Maximum observed waiting time for a connection to complete"),
	MS("max_response_time_seconds", ST_F_RT_MAX, "Maximum observed time spent waiting for a server response"),
	MS("max_total_time_seconds", ST_F_TT_MAX, "Maximum observed total request+response time (request+queue+connect+response+processing)"),
	M("connection_attempts_total", ST_F_CONNECT, M_COUNTER, "Total number of connection establishment attempts."),
	M("connection_reuses_total", ST_F_REUSE, M_COUNTER, "Total number of connection reuses."),
	M("internal_errors_total", ST_F_EINT, M_COUNTER, "Total number of internal errors."),
	M("uweight", ST_F_UWEIGHT, M_GAUGE, "Server's user weight, or sum of active servers' user weights for a backend"),
	{ "response_time_quantile_seconds", ST_F_RT_P50, M_GAUGE, X_PCT,
	  "proxyd: response time quantiles over the last minute." },
	{ NULL }
};

static const struct metric srv_metrics[] = {
	{ "status", ST_F_STATUS, M_GAUGE, X_STATUS, "Current status of the service." },
	M("current_sessions", ST_F_SCUR, M_GAUGE, "Current number of active sessions."),
	M("max_sessions", ST_F_SMAX, M_GAUGE, "Maximum observed number of active sessions."),
	M("limit_sessions", ST_F_SLIM, M_GAUGE, "Configured session limit."),
	M("sessions_total", ST_F_STOT, M_COUNTER, "Total number of sessions."),
	M("bytes_in_total", ST_F_BIN, M_COUNTER, "Current total of incoming bytes."),
	M("bytes_out_total", ST_F_BOUT, M_COUNTER, "Current total of outgoing bytes."),
	M("current_queue", ST_F_QCUR, M_GAUGE, "Current number of queued requests."),
	M("max_queue", ST_F_QMAX, M_GAUGE, "Maximum observed number of queued requests."),
	M("queue_limit", ST_F_QLIMIT, M_GAUGE, "Configured maxqueue for the server (0 meaning no limit)."),
	M("responses_denied_total", ST_F_DRESP, M_COUNTER, "Total number of denied responses."),
	M("connection_errors_total", ST_F_ECON, M_COUNTER, "Total number of connection errors."),
	M("response_errors_total", ST_F_ERESP, M_COUNTER, "Total number of response errors."),
	M("retry_warnings_total", ST_F_WRETR, M_COUNTER, "Total number of retry warnings."),
	M("redispatch_warnings_total", ST_F_WREDIS, M_COUNTER, "Total number of redispatch warnings."),
	M("weight", ST_F_WEIGHT, M_GAUGE, "Service weight."),
	M("check_failures_total", ST_F_CHKFAIL, M_COUNTER, "Total number of failed check (Only counts checks failed when the server is up)."),
	M("check_up_down_total", ST_F_CHKDOWN, M_COUNTER, "Total number of UP->DOWN transitions."),
	M("downtime_seconds_total", ST_F_DOWNTIME, M_COUNTER, "Total downtime (in seconds) for the service."),
	M("check_last_change_seconds", ST_F_LASTCHG, M_GAUGE, "How long ago the last server state changed, in seconds."),
	M("loadbalanced_total", ST_F_LBTOT, M_COUNTER, "Total number of times a service was selected."),
	M("current_session_rate", ST_F_RATE, M_GAUGE, "Current number of sessions per second over last elapsed second."),
	M("max_session_rate", ST_F_RATE_MAX, M_GAUGE, "Maximum observed number of sessions per second."),
	M("check_code", ST_F_CHECK_CODE, M_GAUGE, "layer5-7 code, if available of the last health check."),
	MS("check_duration_seconds", ST_F_CHECK_DURATION, "Total duration of the latest server health check, in seconds."),
	{ "http_responses_total", ST_F_HRSP_1XX, M_COUNTER, X_CODES, "Total number of HTTP responses." },
	M("client_aborts_total", ST_F_CLI_ABRT, M_COUNTER, "Total number of data transfers aborted by the client."),
	M("server_aborts_total", ST_F_SRV_ABRT, M_COUNTER, "Total number of data transfers aborted by the server."),
	M("last_session_seconds", ST_F_LASTSESS, M_GAUGE, "How long ago some traffic was seen on this object, in seconds."),
	MS("queue_time_average_seconds", ST_F_QTIME, "Avg. queue time for last 1024 successful connections."),
	MS("connect_time_average_seconds", ST_F_CTIME, "Avg. connect time for last 1024 successful connections."),
	MS("response_time_average_seconds", ST_F_RTIME, "Avg. response time for last 1024 successful connections."),
	MS("total_time_average_seconds", ST_F_TTIME, "Avg. total time for last 1024 successful connections."),
	MS("max_queue_time_seconds", ST_F_QT_MAX, "Maximum observed time spent in the queue"),
	MS("max_connect_time_seconds", ST_F_CT_MAX, "Maximum observed waiting time for a connection to complete"),
	MS("max_response_time_seconds", ST_F_RT_MAX, "Maximum observed time spent waiting for a server response"),
	MS("max_total_time_seconds", ST_F_TT_MAX, "Maximum observed total request+response time (request+queue+connect+response+processing)"),
	M("connection_attempts_total", ST_F_CONNECT, M_COUNTER, "Total number of connection establishment attempts."),
	M("connection_reuses_total", ST_F_REUSE, M_COUNTER, "Total number of connection reuses."),
	M("idle_connections_current", ST_F_SRV_ICUR, M_GAUGE, "Current number of idle connections available for reuse"),
	M("internal_errors_total", ST_F_EINT, M_COUNTER, "Total number of internal errors."),
	M("uweight", ST_F_UWEIGHT, M_GAUGE, "Server's user weight, or sum of active servers' user weights for a backend"),
	{ "response_time_quantile_seconds", ST_F_RT_P50, M_GAUGE, X_PCT,
	  "proxyd: response time quantiles over the last minute." },
	{ NULL }
};

/* Where the export is. */
enum { P_PROCESS = 0, P_FE, P_BE, P_SRV, P_DONE };

struct prom_ctx {
	unsigned char phase;
	unsigned char hdr_done;      /* HELP/TYPE of the current metric written */
	unsigned short metric;       /* index in the phase's table */
	const struct proxy *px;      /* next proxy for the current metric */
	const struct server *srv;    /* next server (P_SRV) */
};

_Static_assert(sizeof(struct prom_ctx) <= HTTP_SVC_CTX_SIZE, "prometheus state too large");

static const struct metric *const tables[] = { NULL, fe_metrics, be_metrics, srv_metrics };
static const char *const kinds[] = { "process", "frontend", "backend", "server" };

struct pbuf {
	char *p;
	size_t len, cap;
	int overflow;
};

static void PRINTF(2, 3) pprintf(struct pbuf *b, const char *fmt, ...)
{
	va_list ap;

	if (b->overflow)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len)
		b->overflow = 1;
	else
		b->len += (size_t)n;
}

/* Writes <b> into the output whole, or nothing. */
static int emit(struct svc_out *o, const struct pbuf *b)
{
	if (b->overflow || b->len > svc_room(o))
		return -1;
	memcpy(o->p + o->len, b->p, b->len);
	o->len += b->len;
	return 0;
}

static const char *prefix(int phase, const struct metric *m)
{
	return m->how == X_PCT ? "proxyd" : "haproxy";
}

static void labels(struct pbuf *b, const struct stats_row *r)
{
	/* names are restricted to letters, digits and -_.: by the parser:
	 * nothing to escape in a label value */
	pprintf(b, "{proxy=\"%s\"", r->px->id);
	if (r->srv)
		pprintf(b, ",server=\"%s\"", r->srv->id);
}

static const char *srv_state(const struct server *srv)
{
	if (srv->admin & SRV_ADMF_MAINT)
		return "MAINT";
	if (srv->admin & SRV_ADMF_DRAIN)
		return "DRAIN";
	if (srv->state == SRV_ST_STOPPED)
		return "DOWN";
	if (srv->state == SRV_ST_STOPPING)
		return "NOLB";
	return "UP";
}

/* The lines of metric <m> for one row. */
static void metric_lines(struct pbuf *b, int phase, const struct metric *m, const struct stats_row *r)
{
	const struct field *f = &r->f[m->field];
	const char *name = m->name, *pf = prefix(phase, m), *kind = kinds[phase];

	switch (m->how) {
	case X_STATUS:
		if (phase == P_SRV) {
			static const char *const states[] = { "DOWN", "UP", "MAINT", "DRAIN", "NOLB" };
			const char *cur = srv_state(r->srv);
			for (int i = 0; i < 5; i++) {
				pprintf(b, "%s_%s_%s", pf, kind, name);
				labels(b, r);
				pprintf(b, ",state=\"%s\"} %d\n", states[i], !strcmp(cur, states[i]));
			}
		} else {
			const char *st = f->type == FT_STR ? f->v.str : "";
			int up = !strcmp(st, "UP") || !strcmp(st, "OPEN");
			for (int i = 0; i < 2; i++) {
				pprintf(b, "%s_%s_%s", pf, kind, name);
				labels(b, r);
				pprintf(b, ",state=\"%s\"} %d\n", i ? "UP" : "DOWN", i ? up : !up);
			}
		}
		return;
	case X_CODES: {
		static const char *const codes[] = { "1xx", "2xx", "3xx", "4xx", "5xx", "other" };
		if (r->px->c.mode != PR_MODE_HTTP)
			return;
		for (int i = 0; i < 6; i++) {
			const struct field *c = &r->f[ST_F_HRSP_1XX + i];
			if (c->type == FT_EMPTY)
				continue;
			pprintf(b, "%s_%s_%s", pf, kind, name);
			labels(b, r);
			pprintf(b, ",code=\"%s\"} %llu\n", codes[i], (unsigned long long)c->v.u);
		}
		return;
	}
	case X_PCT: {
		static const char *const q[] = { "0.5", "0.95", "0.99" };
		for (int i = 0; i < 3; i++) {
			const struct field *c = &r->f[ST_F_RT_P50 + i];
			if (c->type == FT_EMPTY)
				continue;
			pprintf(b, "%s_%s_%s", pf, kind, name);
			labels(b, r);
			pprintf(b, ",quantile=\"%s\"} %.3f\n", q[i], (double)c->v.u / 1000.0);
		}
		return;
	}
	default:
		break;
	}
	if (f->type != FT_U64 && f->type != FT_S64)
		return;   /* empty for this row, as HAProxy leaves it out */
	pprintf(b, "%s_%s_%s", pf, kind, name);
	labels(b, r);
	if (m->how == X_MS_TO_S)
		pprintf(b, "} %.3f\n", (double)(f->type == FT_U64 ? (double)f->v.u : (double)f->v.s) / 1000.0);
	else if (f->type == FT_U64)
		pprintf(b, "} %llu\n", (unsigned long long)f->v.u);
	else
		pprintf(b, "} %lld\n", (long long)f->v.s);
}

static int process_metrics(struct svc_out *o)
{
	char area[2048];
	struct pbuf b = { area, 0, sizeof(area), 0 };
	uint64_t now = th_now_ms(curr_th), start = px_start_ms();
	uint64_t conns = 0, reqs = 0;
	const struct proxy *px;

	list_for_each(px, &proxies, list) {
		struct px_counters c;
		if (!(px->cap & PR_CAP_FE))
			continue;
		counters_sum(&c, px->fe_counters, global.nbthread);
		conns += c.cum_conn;
		reqs += c.cum_req;
	}
#define G(n, h, fmt, v) pprintf(&b, "# HELP haproxy_process_" n " " h "\n# TYPE haproxy_process_" n " gauge\n" \
                                "haproxy_process_" n " " fmt "\n", v)
#define CT(n, h, fmt, v) pprintf(&b, "# HELP haproxy_process_" n " " h "\n# TYPE haproxy_process_" n " counter\n" \
                                 "haproxy_process_" n " " fmt "\n", v)
	G("nbthread", "Number of started threads (global.nbthread)", "%d", global.nbthread);
	G("nbproc", "Number of started processes (historical, always 1)", "%d", 1);
	G("relative_process_id", "Relative process id, starting at 1", "%d", 1);
	G("uptime_seconds", "How long ago this worker process was started (seconds)", "%llu",
	  (unsigned long long)(now > start ? (now - start) / 1000 : 0));
	G("start_time_seconds", "Start time in seconds", "%llu", (unsigned long long)(start / 1000));
	G("max_connections", "Maximum number of concurrent connections (global.maxconn)", "%d", global.maxconn);
	G("current_connections", "Number of active sessions", "%d", global.actconn);
	CT("connections_total", "Total number of created sessions", "%llu", (unsigned long long)conns);
	CT("requests_total", "Total number of requests (TCP or HTTP)", "%llu", (unsigned long long)reqs);
	pprintf(&b, "# HELP haproxy_process_build_info Build info\n# TYPE haproxy_process_build_info gauge\n"
	        "haproxy_process_build_info{version=\"%s\",proxyd=\"%s\"} 1\n", HAPROXY_COMPAT_VERSION, proxyd_version);
#undef G
#undef CT
	return emit(o, &b);
}

static int applies(int phase, const struct proxy *px)
{
	return phase == P_FE ? (px->cap & PR_CAP_FE) != 0 : (px->cap & PR_CAP_BE) != 0;
}

static int prom_io(struct stream *s, struct svc_out *o)
{
	struct prom_ctx *c = http_svc_ctx(s);
	uint64_t now = th_now_ms(curr_th);
	struct stats_row row;
	char area[4096];

	if (c->phase == P_PROCESS) {
		if (process_metrics(o) < 0)
			return 0;
		c->phase = P_FE;
		c->metric = 0;
		c->hdr_done = 0;
		c->px = NULL;
	}
	while (c->phase < P_DONE) {
		const struct metric *m = &tables[c->phase][c->metric];
		if (!m->name) {
			c->phase++;
			c->metric = 0;
			c->hdr_done = 0;
			c->px = NULL;
			continue;
		}
		if (!c->hdr_done) {
			struct pbuf b = { area, 0, sizeof(area), 0 };
			pprintf(&b, "# HELP %s_%s_%s %s\n# TYPE %s_%s_%s %s\n", prefix(c->phase, m), kinds[c->phase],
			        m->name, m->help, prefix(c->phase, m), kinds[c->phase], m->name,
			        m->type == M_COUNTER ? "counter" : "gauge");
			if (emit(o, &b) < 0)
				return 0;
			c->hdr_done = 1;
			c->px = list_empty(&proxies) ? NULL : list_first(&proxies, struct proxy, list);
			c->srv = NULL;
			if (c->phase == P_SRV && c->px)
				c->srv = list_empty(&c->px->servers) ? NULL : list_first(&c->px->servers, struct server, list);
		}
		/* every proxy (or server) for this metric */
		while (c->px) {
			struct pbuf b = { area, 0, sizeof(area), 0 };
			const struct proxy *px = c->px;
			const struct server *next_srv = NULL;
			const struct proxy *next_px = px->list.next == &proxies ? NULL :
			                              list_elem(px->list.next, struct proxy, list);
			if (c->phase == P_SRV) {
				if (applies(P_SRV, px) && c->srv) {
					/* a server deleted while the dump waited: skipped,
					 * its links still lead to the next one */
					if (!c->srv->deleted) {
						stats_fill_srv(&row, c->srv, 0, now);
						metric_lines(&b, c->phase, m, &row);
					}
					next_srv = c->srv->list.next == &px->servers ? NULL :
					           list_elem(c->srv->list.next, struct server, list);
				}
			} else if (applies(c->phase, px)) {
				if (c->phase == P_FE)
					stats_fill_fe(&row, px, 0, now);
				else
					stats_fill_be(&row, px, 0, now);
				metric_lines(&b, c->phase, m, &row);
			}
			if (b.len && emit(o, &b) < 0)
				return 0;
			if (next_srv) {
				c->srv = next_srv;
				continue;
			}
			c->px = next_px;
			if (c->phase == P_SRV && c->px)
				c->srv = list_empty(&c->px->servers) ? NULL : list_first(&c->px->servers, struct server, list);
		}
		c->metric++;
		c->hdr_done = 0;
	}
	return 1;
}

static int prom_start(struct stream *s, struct svc_head *h)
{
	h->ctype = "text/plain; version=0.0.4";
	return 0;
}

static const struct http_svc prom_svc = {
	.name = "prometheus-exporter",
	.start = prom_start,
	.io = prom_io,
	.min_room = 4096,
};

static enum act_ret act_use_service(struct act_rule *rule, struct proxy *px, struct stream *s)
{
	http_svc_begin(s, rule->arg.ptr);
	return ACT_RET_DONE;
}

/* http-request use-service <name>: the one service is the exporter. */
static int parse_use_service(struct cfg_ctx *ctx, struct act_rule *rule, char **args, int nargs, int *cur)
{
	if (*cur >= nargs || !strcmp(args[*cur], "if") || !strcmp(args[*cur], "unless")) {
		cfg_alert(ctx, "'http-request use-service' expects a service name (proxyd has 'prometheus-exporter')");
		return -1;
	}
	if (strcmp(args[*cur], "prometheus-exporter") != 0) {
		cfg_alert(ctx, "'http-request use-service %s': unknown service; proxyd has 'prometheus-exporter' "
		          "(Lua services are not supported)", args[*cur]);
		return -1;
	}
	rule->arg.ptr = (void *)&prom_svc;
	rule->exec = act_use_service;
	(*cur)++;
	return 0;
}

static const struct act_kw prom_act_kws[] = {
	{ "use-service", ACT_HTTP_REQ, parse_use_service },
	{ NULL }
};

ACT_REGISTER(prom_act_kws);
