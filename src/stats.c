/* Statistics rows: the column table (HAProxy's names and meanings) and
 * the filling of one row per frontend, server and backend from the
 * counters, the live rates and the server states. Fields HAProxy leaves
 * empty for a kind of row stay FT_EMPTY here too, so that every output
 * built on the table agrees with HAProxy's. */
#include <stdio.h>
#include <string.h>

#include <proxyd/addr.h>
#include <proxyd/check.h>
#include <proxyd/cookie.h>
#include <proxyd/counters.h>
#include <proxyd/global.h>
#include <proxyd/lb.h>
#include <proxyd/listener.h>
#include <proxyd/live.h>
#include <proxyd/proxy.h>
#include <proxyd/rules.h>
#include <proxyd/server.h>
#include <proxyd/stats.h>
#include <proxyd/thread.h>

const char *stats_node_name;
const char *stats_description;

#define G FN_GAUGE
#define C FN_COUNTER
#define O FN_OTHER

const struct stat_col stat_cols[ST_F_TOTAL] = {
	[ST_F_PXNAME]       = { "pxname", "Proxy name", O },
	[ST_F_SVNAME]       = { "svname", "Server name, or FRONTEND / BACKEND", O },
	[ST_F_QCUR]         = { "qcur", "Requests waiting in the queue now", G },
	[ST_F_QMAX]         = { "qmax", "Highest queue length seen", G },
	[ST_F_SCUR]         = { "scur", "Current sessions", G },
	[ST_F_SMAX]         = { "smax", "Highest number of concurrent sessions seen", G },
	[ST_F_SLIM]         = { "slim", "Configured session limit", O },
	[ST_F_STOT]         = { "stot", "Sessions since start", C },
	[ST_F_BIN]          = { "bin", "Bytes received from clients", C },
	[ST_F_BOUT]         = { "bout", "Bytes sent to clients", C },
	[ST_F_DREQ]         = { "dreq", "Requests denied by rules", C },
	[ST_F_DRESP]        = { "dresp", "Responses denied by rules", C },
	[ST_F_EREQ]         = { "ereq", "Request errors", C },
	[ST_F_ECON]         = { "econ", "Failed connections to servers", C },
	[ST_F_ERESP]        = { "eresp", "Response errors", C },
	[ST_F_WRETR]        = { "wretr", "Connection retries", C },
	[ST_F_WREDIS]       = { "wredis", "Redispatches to another server", C },
	[ST_F_STATUS]       = { "status", "Status", O },
	[ST_F_WEIGHT]       = { "weight", "Effective weight", G },
	[ST_F_ACT]          = { "act", "Active servers (server: 1 if active)", G },
	[ST_F_BCK]          = { "bck", "Backup servers (server: 1 if backup)", G },
	[ST_F_CHKFAIL]      = { "chkfail", "Failed health checks", C },
	[ST_F_CHKDOWN]      = { "chkdown", "UP to DOWN transitions", C },
	[ST_F_LASTCHG]      = { "lastchg", "Seconds since the last state change", G },
	[ST_F_DOWNTIME]     = { "downtime", "Total seconds down", C },
	[ST_F_QLIMIT]       = { "qlimit", "Configured queue limit (maxqueue)", O },
	[ST_F_PID]          = { "pid", "Relative process number", O },
	[ST_F_IID]          = { "iid", "Proxy id", O },
	[ST_F_SID]          = { "sid", "Server id", O },
	[ST_F_THROTTLE]     = { "throttle", "Slow-start throttle, percent", G },
	[ST_F_LBTOT]        = { "lbtot", "Times selected by load balancing", C },
	[ST_F_TRACKED]      = { "tracked", "Tracked server", O },
	[ST_F_TYPE]         = { "type", "Row type: 0 frontend, 1 backend, 2 server, 3 listener", O },
	[ST_F_RATE]         = { "rate", "Sessions over the last second", G },
	[ST_F_RATE_LIM]     = { "rate_lim", "Configured session rate limit", O },
	[ST_F_RATE_MAX]     = { "rate_max", "Highest sessions per second seen", G },
	[ST_F_CHECK_STATUS] = { "check_status", "Status of the last health check", O },
	[ST_F_CHECK_CODE]   = { "check_code", "Layer 7 code of the last health check", O },
	[ST_F_CHECK_DURATION] = { "check_duration", "Duration of the last health check, ms", G },
	[ST_F_HRSP_1XX]     = { "hrsp_1xx", "HTTP responses with a 1xx code", C },
	[ST_F_HRSP_2XX]     = { "hrsp_2xx", "HTTP responses with a 2xx code", C },
	[ST_F_HRSP_3XX]     = { "hrsp_3xx", "HTTP responses with a 3xx code", C },
	[ST_F_HRSP_4XX]     = { "hrsp_4xx", "HTTP responses with a 4xx code", C },
	[ST_F_HRSP_5XX]     = { "hrsp_5xx", "HTTP responses with a 5xx code", C },
	[ST_F_HRSP_OTHER]   = { "hrsp_other", "HTTP responses with another code", C },
	[ST_F_HANAFAIL]     = { "hanafail", "Failed health analyses", C },
	[ST_F_REQ_RATE]     = { "req_rate", "HTTP requests over the last second", G },
	[ST_F_REQ_RATE_MAX] = { "req_rate_max", "Highest HTTP requests per second seen", G },
	[ST_F_REQ_TOT]      = { "req_tot", "HTTP requests since start", C },
	[ST_F_CLI_ABRT]     = { "cli_abrt", "Transfers aborted by the client", C },
	[ST_F_SRV_ABRT]     = { "srv_abrt", "Transfers aborted by the server", C },
	[ST_F_COMP_IN]      = { "comp_in", "Bytes fed to the compressor", C },
	[ST_F_COMP_OUT]     = { "comp_out", "Bytes out of the compressor", C },
	[ST_F_COMP_BYP]     = { "comp_byp", "Bytes that bypassed the compressor", C },
	[ST_F_COMP_RSP]     = { "comp_rsp", "Compressed responses", C },
	[ST_F_LASTSESS]     = { "lastsess", "Seconds since the last session", G },
	[ST_F_LAST_CHK]     = { "last_chk", "Last health check detail", O },
	[ST_F_LAST_AGT]     = { "last_agt", "Last agent check detail", O },
	[ST_F_QTIME]        = { "qtime", "Average queue time over the last 1024 requests, ms", G },
	[ST_F_CTIME]        = { "ctime", "Average connect time over the last 1024 requests, ms", G },
	[ST_F_RTIME]        = { "rtime", "Average response time over the last 1024 requests, ms", G },
	[ST_F_TTIME]        = { "ttime", "Average total time over the last 1024 requests, ms", G },
	[ST_F_AGENT_STATUS] = { "agent_status", "Status of the last agent check", O },
	[ST_F_AGENT_CODE]   = { "agent_code", "Code of the last agent check", O },
	[ST_F_AGENT_DURATION] = { "agent_duration", "Duration of the last agent check, ms", G },
	[ST_F_CHECK_DESC]   = { "check_desc", "Description of the last check status", O },
	[ST_F_AGENT_DESC]   = { "agent_desc", "Description of the last agent status", O },
	[ST_F_CHECK_RISE]   = { "check_rise", "Check rise", O },
	[ST_F_CHECK_FALL]   = { "check_fall", "Check fall", O },
	[ST_F_CHECK_HEALTH] = { "check_health", "Check health counter", G },
	[ST_F_AGENT_RISE]   = { "agent_rise", "Agent rise", O },
	[ST_F_AGENT_FALL]   = { "agent_fall", "Agent fall", O },
	[ST_F_AGENT_HEALTH] = { "agent_health", "Agent health counter", G },
	[ST_F_ADDR]         = { "addr", "Server address", O },
	[ST_F_COOKIE]       = { "cookie", "Cookie value of the server, or name of the backend's", O },
	[ST_F_MODE]         = { "mode", "Proxy mode", O },
	[ST_F_ALGO]         = { "algo", "Balance algorithm", O },
	[ST_F_CONN_RATE]    = { "conn_rate", "Connections over the last second", G },
	[ST_F_CONN_RATE_MAX] = { "conn_rate_max", "Highest connections per second seen", G },
	[ST_F_CONN_TOT]     = { "conn_tot", "Connections since start", C },
	[ST_F_INTERCEPTED]  = { "intercepted", "Requests answered by the proxy itself", C },
	[ST_F_DCON]         = { "dcon", "Connections denied by tcp-request connection", C },
	[ST_F_DSES]         = { "dses", "Sessions denied by tcp-request session", C },
	[ST_F_WREW]         = { "wrew", "Failed header rewrites", C },
	[ST_F_CONNECT]      = { "connect", "Connection attempts to servers", C },
	[ST_F_REUSE]        = { "reuse", "Reused server connections", C },
	[ST_F_CACHE_LOOKUPS] = { "cache_lookups", "Cache lookups", C },
	[ST_F_CACHE_HITS]   = { "cache_hits", "Cache hits", C },
	[ST_F_SRV_ICUR]     = { "srv_icur", "Idle server connections now", G },
	[ST_F_SRV_ILIM]     = { "src_ilim", "Idle server connection limit", O },   /* sic, as HAProxy */
	[ST_F_QT_MAX]       = { "qtime_max", "Highest queue time, ms", G },
	[ST_F_CT_MAX]       = { "ctime_max", "Highest connect time, ms", G },
	[ST_F_RT_MAX]       = { "rtime_max", "Highest response time, ms", G },
	[ST_F_TT_MAX]       = { "ttime_max", "Highest total time, ms", G },
	[ST_F_EINT]         = { "eint", "Internal errors", C },
	[ST_F_IDLE_CONN_CUR] = { "idle_conn_cur", "Unsafe idle connections", G },
	[ST_F_SAFE_CONN_CUR] = { "safe_conn_cur", "Safe idle connections", G },
	[ST_F_USED_CONN_CUR] = { "used_conn_cur", "Connections in use", G },
	[ST_F_NEED_CONN_EST] = { "need_conn_est", "Estimated connections needed", G },
	[ST_F_UWEIGHT]      = { "uweight", "User weight", G },
	[ST_F_AGG_SRV_STATUS] = { "agg_server_status", "Servers per status (typed outputs only)", O },
	[ST_F_AGG_SRV_CHECK_STATUS] = { "agg_server_check_status", "Servers per check status (deprecated)", O },
	[ST_F_AGG_CHECK_STATUS] = { "agg_check_status", "Servers per check result (typed outputs only)", O },
	[ST_F_SEPARATOR]    = { "-", "End of the fixed columns", O },
	[ST_F_SSL_SESS]     = { "ssl_sess", "TLS sessions", C },
	[ST_F_SSL_REUSED_SESS] = { "ssl_reused_sess", "Reused TLS sessions", C },
	[ST_F_SSL_FAILED_HANDSHAKE] = { "ssl_failed_handshake", "Failed TLS handshakes", C },
	[ST_F_H2_HEADERS_RCVD] = { "h2_headers_rcvd", "HTTP/2 HEADERS frames received", C },
	[ST_F_H2_DATA_RCVD] = { "h2_data_rcvd", "HTTP/2 DATA frames received", C },
	[ST_F_H2_SETTINGS_RCVD] = { "h2_settings_rcvd", "HTTP/2 SETTINGS frames received", C },
	[ST_F_H2_RST_STREAM_RCVD] = { "h2_rst_stream_rcvd", "HTTP/2 RST_STREAM frames received", C },
	[ST_F_H2_GOAWAY_RCVD] = { "h2_goaway_rcvd", "HTTP/2 GOAWAY frames received", C },
	[ST_F_H2_CONN_PROTO_ERR] = { "h2_detected_conn_protocol_errors", "HTTP/2 connection protocol errors", C },
	[ST_F_H2_STRM_PROTO_ERR] = { "h2_detected_strm_protocol_errors", "HTTP/2 stream protocol errors", C },
	[ST_F_H2_RST_STREAM_RESP] = { "h2_rst_stream_resp", "HTTP/2 RST_STREAM sent", C },
	[ST_F_H2_GOAWAY_RESP] = { "h2_goaway_resp", "HTTP/2 GOAWAY sent", C },
	[ST_F_H2_OPEN_CONNECTIONS] = { "h2_open_connections", "HTTP/2 connections open", G },
	[ST_F_H2_BACKEND_OPEN_STREAMS] = { "h2_backend_open_streams", "HTTP/2 backend streams open", G },
	[ST_F_H2_TOTAL_CONNECTIONS] = { "h2_total_connections", "HTTP/2 connections", C },
	[ST_F_H2_BACKEND_TOTAL_STREAMS] = { "h2_backend_total_streams", "HTTP/2 backend streams", C },
	[ST_F_H1_OPEN_CONNECTIONS] = { "h1_open_connections", "HTTP/1 connections open", G },
	[ST_F_H1_OPEN_STREAMS] = { "h1_open_streams", "HTTP/1 streams open", G },
	[ST_F_H1_TOTAL_CONNECTIONS] = { "h1_total_connections", "HTTP/1 connections", C },
	[ST_F_H1_TOTAL_STREAMS] = { "h1_total_streams", "HTTP/1 streams", C },
	[ST_F_H1_BYTES_IN]  = { "h1_bytes_in", "HTTP/1 bytes received", C },
	[ST_F_H1_BYTES_OUT] = { "h1_bytes_out", "HTTP/1 bytes sent", C },
	[ST_F_H1_SPLICED_BYTES_IN] = { "h1_spliced_bytes_in", "HTTP/1 bytes received by splicing", C },
	[ST_F_H1_SPLICED_BYTES_OUT] = { "h1_spliced_bytes_out", "HTTP/1 bytes sent by splicing", C },
	[ST_F_RT_P50]       = { "rtime_p50", "Median response time over the last minute, ms (proxyd)", G },
	[ST_F_RT_P95]       = { "rtime_p95", "95th percentile of the response time over the last minute, ms (proxyd)", G },
	[ST_F_RT_P99]       = { "rtime_p99", "99th percentile of the response time over the last minute, ms (proxyd)", G },
};

#undef G
#undef C
#undef O

/*------------------------------------------------------------------------
 * Field helpers
 */
static void fu(struct stats_row *r, enum stat_field f, uint64_t v)
{
	r->f[f].type = FT_U64;
	r->f[f].v.u = v;
}

static void fs(struct stats_row *r, enum stat_field f, int64_t v)
{
	r->f[f].type = FT_S64;
	r->f[f].v.s = v;
}

static void fstr(struct stats_row *r, enum stat_field f, const char *str)
{
	r->f[f].type = FT_STR;
	r->f[f].v.str = str;
}

/* A text built for this row, kept in the row's own area. */
static const char *row_text(struct stats_row *r, const char *s)
{
	size_t l = strlen(s), room = sizeof(r->text) - r->text_used;

	if (l >= room)
		l = room ? room - 1 : 0;
	if (!room)
		return "";
	char *dst = r->text + r->text_used;
	memcpy(dst, s, l);
	dst[l] = 0;
	r->text_used += l + 1;
	return dst;
}

size_t stats_field_str(const struct field *f, char *dst, size_t size)
{
	int n = 0;

	switch (f->type) {
	case FT_U64:
		n = snprintf(dst, size, "%llu", (unsigned long long)f->v.u);
		break;
	case FT_S64:
		n = snprintf(dst, size, "%lld", (long long)f->v.s);
		break;
	case FT_STR:
		n = snprintf(dst, size, "%s", f->v.str ? f->v.str : "");
		break;
	default:
		if (size)
			dst[0] = 0;
		return 0;
	}
	return n < 0 ? 0 : (size_t)n >= size ? size - 1 : (size_t)n;
}

static void row_init(struct stats_row *r, enum stats_obj obj, const struct proxy *px, const struct server *srv)
{
	memset(r->f, 0, sizeof(r->f));
	r->obj = obj;
	r->px = px;
	r->srv = srv;
	r->text_used = 0;
	fstr(r, ST_F_PXNAME, px->id);
	fu(r, ST_F_PID, 1);
	fu(r, ST_F_IID, (uint64_t)px->uuid);
	fu(r, ST_F_SID, srv ? (uint64_t)srv->puid : 0);
	fu(r, ST_F_TYPE, (uint64_t)obj);
	fstr(r, ST_F_MODE, px->c.mode == PR_MODE_HTTP ? "http" : "tcp");
	fstr(r, ST_F_SEPARATOR, "-");
}

static uint64_t secs_since(uint64_t now_ms, uint64_t then_ms)
{
	return now_ms > then_ms ? (now_ms - then_ms) / 1000 : 0;
}

static void hrsp(struct stats_row *r, const struct px_counters *c)
{
	for (int i = 0; i < 6; i++)
		fu(r, (enum stat_field)(ST_F_HRSP_1XX + i), c->rsp[i]);
}

/* The module columns HAProxy prints for frontends and backends. */
static void modules(struct stats_row *r, int with_h2_h1)
{
	for (int f = ST_F_SSL_SESS; f <= ST_F_SSL_FAILED_HANDSHAKE; f++)
		fu(r, (enum stat_field)f, 0);
	if (!with_h2_h1)
		return;
	for (int f = ST_F_H2_HEADERS_RCVD; f <= ST_F_H1_SPLICED_BYTES_OUT; f++)
		fu(r, (enum stat_field)f, 0);
}

/* HAProxy's default "fullconn": a tenth of the maxconn of the frontends
 * that can send traffic to the backend, rounded up. */
static uint64_t be_fullconn(const struct proxy *be)
{
	const struct proxy *fe;
	uint64_t sum = 0;

	list_for_each(fe, &proxies, list) {
		if (!(fe->cap & PR_CAP_FE))
			continue;
		int uses = fe->defbe == be;
		const struct switching_rule *rule;
		list_for_each(rule, &fe->switching_rules, list)
			if (rule->be == be)
				uses = 1;
		if (uses)
			sum += (uint64_t)fe_maxconn(fe);
	}
	return (sum + 9) / 10;
}

/*------------------------------------------------------------------------
 * Rows
 */
void stats_fill_fe(struct stats_row *r, const struct proxy *px, unsigned flags, uint64_t now_ms)
{
	struct px_counters c;
	uint32_t max;

	counters_sum(&c, px->fe_counters, global.nbthread);
	row_init(r, STATS_FE, px, NULL);
	fstr(r, ST_F_SVNAME, "FRONTEND");
	fu(r, ST_F_SCUR, (uint64_t)px->feconn);
	fu(r, ST_F_SMAX, (uint64_t)px->fe_max);
	fu(r, ST_F_SLIM, (uint64_t)fe_maxconn(px));
	fu(r, ST_F_STOT, c.cum_sess);
	fu(r, ST_F_BIN, c.bytes_in);
	fu(r, ST_F_BOUT, c.bytes_out);
	fu(r, ST_F_DREQ, c.denied_req);
	fu(r, ST_F_DRESP, c.denied_resp);
	fu(r, ST_F_EREQ, c.failed_req);
	fstr(r, ST_F_STATUS, global.stopping ? "STOP" : "OPEN");
	fu(r, ST_F_RATE, fe_rate(px, 1, now_ms, &max));
	fu(r, ST_F_RATE_LIM, 0);
	fu(r, ST_F_RATE_MAX, max);
	hrsp(r, &c);
	fu(r, ST_F_REQ_RATE, fe_rate(px, 2, now_ms, &max));
	fu(r, ST_F_REQ_RATE_MAX, max);
	fu(r, ST_F_REQ_TOT, c.cum_req);
	for (int f = ST_F_COMP_IN; f <= ST_F_COMP_RSP; f++)
		fu(r, (enum stat_field)f, 0);
	fu(r, ST_F_CONN_RATE, fe_rate(px, 0, now_ms, &max));
	fu(r, ST_F_CONN_RATE_MAX, max);
	fu(r, ST_F_CONN_TOT, c.cum_conn);
	fu(r, ST_F_INTERCEPTED, c.intercepted);
	fu(r, ST_F_DCON, 0);
	fu(r, ST_F_DSES, 0);
	fu(r, ST_F_WREW, 0);
	fu(r, ST_F_CACHE_LOOKUPS, 0);
	fu(r, ST_F_CACHE_HITS, 0);
	fu(r, ST_F_EINT, c.internal_errors);
	modules(r, 1);
	/* HTTP/1 is the only protocol: its module sees every connection */
	fu(r, ST_F_H1_OPEN_CONNECTIONS, (uint64_t)px->feconn);
	fu(r, ST_F_H1_TOTAL_CONNECTIONS, c.cum_conn);
	fu(r, ST_F_H1_TOTAL_STREAMS, c.cum_req);
	fu(r, ST_F_H1_BYTES_IN, c.bytes_in);
	fu(r, ST_F_H1_BYTES_OUT, c.bytes_out);
}

/* Weight and user weight of a backend: sums over the servers that take
 * traffic now (actives, or the backups in use when none is). */
static void be_weights(const struct proxy *be, uint64_t *w, uint64_t *uw)
{
	const struct server *srv;

	*w = *uw = 0;
	list_for_each(srv, &be->servers, list) {
		if (!lb_eligible(be, srv))
			continue;
		*w += (uint64_t)srv->eweight;
		*uw += (uint64_t)srv->uweight;
	}
}

void stats_fill_be(struct stats_row *r, const struct proxy *px, unsigned flags, uint64_t now_ms)
{
	struct px_counters c;
	struct tm_summary tm;
	uint32_t max;
	uint64_t w, uw;
	int srv_queued = 0;
	const struct server *srv;

	counters_sum(&c, px->be_counters, global.nbthread);
	row_init(r, STATS_BE, px, NULL);
	fstr(r, ST_F_SVNAME, "BACKEND");
	list_for_each(srv, &px->servers, list)
		srv_queued += srv->nb_queued;
	/* the backend's own queue: streams waiting for any server */
	fu(r, ST_F_QCUR, (uint64_t)(px->nb_queued - srv_queued));
	fu(r, ST_F_QMAX, (uint64_t)px->max_queued);
	fu(r, ST_F_SCUR, (uint64_t)px->beconn);
	fu(r, ST_F_SMAX, (uint64_t)px->be_max);
	fu(r, ST_F_SLIM, be_fullconn(px));
	fu(r, ST_F_STOT, c.cum_sess);
	fu(r, ST_F_BIN, c.bytes_in);
	fu(r, ST_F_BOUT, c.bytes_out);
	fu(r, ST_F_DREQ, c.denied_req);
	fu(r, ST_F_DRESP, c.denied_resp);
	fu(r, ST_F_ECON, c.failed_conns);
	fu(r, ST_F_ERESP, c.failed_resp);
	fu(r, ST_F_WRETR, c.retries);
	fu(r, ST_F_WREDIS, c.redispatches);
	be_weights(px, &w, &uw);
	fstr(r, ST_F_STATUS, w > 0 || list_empty(&px->servers) ? "UP" : "DOWN");
	fu(r, ST_F_WEIGHT, w);
	fu(r, ST_F_ACT, (uint64_t)px->srv_act);
	fu(r, ST_F_BCK, (uint64_t)px->srv_bck);
	fu(r, ST_F_CHKDOWN, px->chk_down);
	fu(r, ST_F_LASTCHG, secs_since(now_ms, px->last_change_ms ? px->last_change_ms : px_start_ms()));
	uint64_t down = px->downtime_ms + (px->down_since_ms ? now_ms - px->down_since_ms : 0);
	fu(r, ST_F_DOWNTIME, down / 1000);
	fu(r, ST_F_LBTOT, c.lbtot);
	fu(r, ST_F_RATE, be_rate(px, now_ms, &max));
	fu(r, ST_F_RATE_MAX, max);
	hrsp(r, &c);
	fu(r, ST_F_REQ_TOT, c.cum_req);
	fu(r, ST_F_CLI_ABRT, c.cli_aborts);
	fu(r, ST_F_SRV_ABRT, c.srv_aborts);
	for (int f = ST_F_COMP_IN; f <= ST_F_COMP_RSP; f++)
		fu(r, (enum stat_field)f, 0);
	uint64_t last = be_last_sess(px);
	fs(r, ST_F_LASTSESS, last ? (int64_t)secs_since(now_ms, last) : -1);
	be_timers(px, &tm);
	for (int i = 0; i < TM_NB; i++) {
		fu(r, (enum stat_field)(ST_F_QTIME + i), tm.avg[i]);
		fu(r, (enum stat_field)(ST_F_QT_MAX + i), tm.max[i]);
	}
	if ((flags & STATS_F_LEGENDS) && px->c.cookie)
		fstr(r, ST_F_COOKIE, px->c.cookie->name);
	if (flags & STATS_F_LEGENDS)
		fstr(r, ST_F_ALGO, px->c.lb ? px->c.lb->name : "");
	fu(r, ST_F_WREW, 0);
	fu(r, ST_F_CONNECT, c.connect);
	fu(r, ST_F_REUSE, c.reuse);
	fu(r, ST_F_CACHE_LOOKUPS, 0);
	fu(r, ST_F_CACHE_HITS, 0);
	fu(r, ST_F_EINT, c.internal_errors);
	fu(r, ST_F_UWEIGHT, uw);
	fu(r, ST_F_AGG_SRV_STATUS, 0);
	fu(r, ST_F_AGG_SRV_CHECK_STATUS, 0);
	fu(r, ST_F_AGG_CHECK_STATUS, 0);
	modules(r, 1);
	fu(r, ST_F_H1_TOTAL_CONNECTIONS, c.connect);
	fu(r, ST_F_H1_TOTAL_STREAMS, c.connect);
	if (!(flags & STATS_F_NO_EXT)) {
		struct rt_pct p;
		be_rt_pct(px, now_ms, &p);
		if (p.n) {
			fu(r, ST_F_RT_P50, p.p50);
			fu(r, ST_F_RT_P95, p.p95);
			fu(r, ST_F_RT_P99, p.p99);
		}
	}
}

void stats_fill_srv(struct stats_row *r, const struct server *srv, unsigned flags, uint64_t now_ms)
{
	const struct proxy *px = srv->be;
	const struct check *ck = &srv->check;
	int checked = srv->c.ck.enabled;
	struct px_counters c;
	struct tm_summary tm;
	uint32_t max;
	char buf[160];

	counters_sum(&c, srv->counters, global.nbthread);
	row_init(r, STATS_SRV, px, srv);
	fstr(r, ST_F_SVNAME, srv->id);
	fu(r, ST_F_QCUR, (uint64_t)srv->nb_queued);
	fu(r, ST_F_QMAX, (uint64_t)srv->max_queued);
	fu(r, ST_F_SCUR, (uint64_t)srv->served);
	fu(r, ST_F_SMAX, (uint64_t)srv->max_served);
	if (srv->c.maxconn)
		fu(r, ST_F_SLIM, (uint64_t)srv->c.maxconn);
	fu(r, ST_F_STOT, c.cum_sess);
	fu(r, ST_F_BIN, c.bytes_in);
	fu(r, ST_F_BOUT, c.bytes_out);
	fu(r, ST_F_DRESP, c.denied_resp);
	fu(r, ST_F_ECON, c.failed_conns);
	fu(r, ST_F_ERESP, c.failed_resp);
	fu(r, ST_F_WRETR, c.retries);
	fu(r, ST_F_WREDIS, c.redispatches);
	fstr(r, ST_F_STATUS, row_text(r, srv_status_text(srv, buf, sizeof(buf))));
	fu(r, ST_F_WEIGHT, (uint64_t)srv->eweight);
	fu(r, ST_F_ACT, (srv->c.flags & SRV_F_BACKUP) ? 0 : 1);
	fu(r, ST_F_BCK, (srv->c.flags & SRV_F_BACKUP) ? 1 : 0);
	if (checked) {
		fu(r, ST_F_CHKFAIL, srv->chk_fail);
		fu(r, ST_F_CHKDOWN, srv->chk_down);
		uint64_t down = srv->downtime_ms + (srv->down_since_ms ? now_ms - srv->down_since_ms : 0);
		fu(r, ST_F_DOWNTIME, down / 1000);
	}
	fu(r, ST_F_LASTCHG, secs_since(now_ms, srv->last_change_ms ? srv->last_change_ms : px_start_ms()));
	if (srv->c.maxqueue)
		fu(r, ST_F_QLIMIT, (uint64_t)srv->c.maxqueue);
	fu(r, ST_F_LBTOT, c.lbtot);
	fu(r, ST_F_RATE, srv_rate(srv, now_ms, &max));
	fu(r, ST_F_RATE_MAX, max);
	if (checked) {
		int st = ck->status;
		if (ck->running)
			snprintf(buf, sizeof(buf), "* %s", chk_status_code(st));
		else
			snprintf(buf, sizeof(buf), "%s", chk_status_code(st));
		fstr(r, ST_F_CHECK_STATUS, row_text(r, buf));
		/* the code of layer 7 results only, as HAProxy */
		if (st >= CHK_ST_L7TOUT && ck->code)
			fu(r, ST_F_CHECK_CODE, (uint64_t)ck->code);
		if (st >= CHK_ST_HANA && ck->duration >= 0)
			fu(r, ST_F_CHECK_DURATION, (uint64_t)ck->duration);
		if (ck->info[0])
			fstr(r, ST_F_LAST_CHK, row_text(r, ck->info));
		fstr(r, ST_F_CHECK_DESC, chk_status_desc(st));
		fu(r, ST_F_CHECK_RISE, (uint64_t)srv->c.ck.rise);
		fu(r, ST_F_CHECK_FALL, (uint64_t)srv->c.ck.fall);
		fu(r, ST_F_CHECK_HEALTH, (uint64_t)ck->health);
	}
	hrsp(r, &c);
	fu(r, ST_F_REQ_TOT, srv_cum_req(srv));
	fu(r, ST_F_CLI_ABRT, c.cli_aborts);
	fu(r, ST_F_SRV_ABRT, c.srv_aborts);
	uint64_t last = srv_last_sess(srv);
	fs(r, ST_F_LASTSESS, last ? (int64_t)secs_since(now_ms, last) : -1);
	srv_timers(srv, &tm);
	for (int i = 0; i < TM_NB; i++) {
		fu(r, (enum stat_field)(ST_F_QTIME + i), tm.avg[i]);
		fu(r, (enum stat_field)(ST_F_QT_MAX + i), tm.max[i]);
	}
	if (flags & STATS_F_LEGENDS) {
		char a[INET6_ADDRSTRLEN + 16];
		fstr(r, ST_F_ADDR, row_text(r, addr_str((const struct sockaddr *)&srv->addr, a, sizeof(a))));
		if (srv->cookie)
			fstr(r, ST_F_COOKIE, row_text(r, srv->cookie));
	}
	fu(r, ST_F_WREW, 0);
	fu(r, ST_F_CONNECT, c.connect);
	fu(r, ST_F_REUSE, c.reuse);
	int idle = 0;
	for (int t = 0; srv->pt && t < global.nbthread; t++)
		idle += srv->pt[t].nb_idle;
	fu(r, ST_F_SRV_ICUR, (uint64_t)idle);
	fu(r, ST_F_EINT, c.internal_errors);
	fu(r, ST_F_IDLE_CONN_CUR, 0);
	fu(r, ST_F_SAFE_CONN_CUR, (uint64_t)idle);
	fu(r, ST_F_USED_CONN_CUR, (uint64_t)(srv->cur_conns > idle ? srv->cur_conns - idle : 0));
	fu(r, ST_F_NEED_CONN_EST, (uint64_t)srv->served);
	fu(r, ST_F_UWEIGHT, (uint64_t)srv->uweight);
	modules(r, 0);
	if (!(flags & STATS_F_NO_EXT)) {
		struct rt_pct p;
		srv_rt_pct(srv, now_ms, &p);
		if (p.n) {
			fu(r, ST_F_RT_P50, p.p50);
			fu(r, ST_F_RT_P95, p.p95);
			fu(r, ST_F_RT_P99, p.p99);
		}
	}
}

/*------------------------------------------------------------------------
 * Walking the rows
 */
int stats_in_scope(const struct stats_conf *sc, const struct proxy *px)
{
	if (!sc || !sc->nb_scopes)
		return 1;
	for (int i = 0; i < sc->nb_scopes; i++)
		if (strcmp(sc->scopes[i], px->id) == 0)
			return 1;
	return 0;
}

void stats_cursor_init(struct stats_cursor *c, unsigned flags, const struct stats_conf *scope)
{
	memset(c, 0, sizeof(*c));
	c->flags = (unsigned short)flags;
	c->scope = scope;
}

static int srv_shown(const struct stats_cursor *c, const struct server *srv)
{
	if (srv->deleted)
		return 0;   /* a cursor that stopped on it before "del server" */
	if ((c->flags & STATS_F_NO_MAINT) && (srv->admin & SRV_ADMF_MAINT))
		return 0;
	if ((c->flags & STATS_F_UP) && (srv->state == SRV_ST_STOPPED || (srv->admin & SRV_ADMF_MAINT)))
		return 0;
	return 1;
}

/* Positions: 0 before the proxy's FRONTEND row, 1 in its servers, 2 at
 * its BACKEND row, 3 done with it. */
enum { POS_FE = 0, POS_SRV, POS_BE, POS_NEXT };

int stats_next_row(struct stats_cursor *c, enum stats_obj *obj, const struct proxy **px,
                   const struct server **srv)
{
	if (c->sub == 0xff)
		return 0;
	if (!c->px) {
		if (list_empty(&proxies)) {
			c->sub = 0xff;
			return 0;
		}
		c->px = list_first(&proxies, struct proxy, list);
		c->sub = POS_FE;
	}
	for (;;) {
		const struct proxy *p = c->px;
		int shown = stats_in_scope(c->scope, p);
		switch (c->sub) {
		case POS_FE:
			c->sub = POS_SRV;
			c->srv = list_empty(&p->servers) || !(p->cap & PR_CAP_BE) ? NULL :
			         list_first(&p->servers, struct server, list);
			if (shown && (p->cap & PR_CAP_FE)) {
				*obj = STATS_FE;
				*px = p;
				*srv = NULL;
				return 1;
			}
			break;
		case POS_SRV:
			while (c->srv) {
				const struct server *s = c->srv;
				c->srv = s->list.next == &p->servers ? NULL : list_elem(s->list.next, struct server, list);
				if (shown && srv_shown(c, s)) {
					*obj = STATS_SRV;
					*px = p;
					*srv = s;
					return 1;
				}
			}
			c->sub = POS_BE;
			break;
		case POS_BE:
			c->sub = POS_NEXT;
			if (shown && (p->cap & PR_CAP_BE)) {
				*obj = STATS_BE;
				*px = p;
				*srv = NULL;
				return 1;
			}
			break;
		default:
			if (p->list.next == &proxies) {
				c->sub = 0xff;
				return 0;
			}
			c->px = list_elem(p->list.next, struct proxy, list);
			c->sub = POS_FE;
			break;
		}
	}
}

void stats_fill(struct stats_row *row, enum stats_obj obj, const struct proxy *px, const struct server *srv,
                unsigned flags, uint64_t now_ms)
{
	if (obj == STATS_FE)
		stats_fill_fe(row, px, flags, now_ms);
	else if (obj == STATS_BE)
		stats_fill_be(row, px, flags, now_ms);
	else
		stats_fill_srv(row, srv, flags, now_ms);
}
