/* Traffic and event logging: which line a stream gets (the frontend's
 * format), when it is sent (end of transaction, end of TCP stream, early
 * with logasap, at accept without a log option), at which level, and the
 * "option httplog/tcplog/jsonlog", "log-format" and related keywords.
 *
 * With -d, every line is also printed on stderr, in the httplog or tcplog
 * layout when the frontend has no log option, so that a debugging session
 * always shows the traffic. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <proxyd/addr.h>
#include <proxyd/cfg.h>
#include <proxyd/global.h>
#include <proxyd/log.h>
#include <proxyd/logformat.h>
#include <proxyd/proxy.h>
#include <proxyd/listener.h>
#include <proxyd/server.h>
#include <proxyd/ssl_sock.h>
#include <proxyd/stream.h>

/* HAProxy's layouts, field for field. */
#define HTTP_LOG_FMT "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc " \
                     "%sq/%bq %hr %hs %{+Q}r"
#define TCP_LOG_FMT  "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq"
/* HAProxy's own CLF string: every string quoted (%o) but the address */
#define CLF_LOG_FMT  "%{+Q}o %{-Q}ci - - [%trg] %r %ST %B \"\" \"\" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc " \
                     "%ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl"
/* proxyd's JSON line: every httplog field named, the termination state in
 * words next to its code */
#define JSON_LOG_FMT "{\"client_ip\":%{+J}ci,\"client_port\":%cp,\"request_date\":%{+J}tr," \
                     "\"frontend\":%{+J}ft,\"backend\":%{+J}b,\"server\":%{+J}s,\"TR\":%TR,\"Tw\":%Tw," \
                     "\"Tc\":%Tc,\"Tr\":%Tr,\"Ta\":%Ta,\"status\":%ST,\"bytes_read\":%B," \
                     "\"bytes_uploaded\":%U,\"captured_request_cookie\":%{+J}CC," \
                     "\"captured_response_cookie\":%{+J}CS,\"termination_state\":%{+J}tsc," \
                     "\"termination_reason\":%{+J}tsw,\"actconn\":%ac,\"feconn\":%fc,\"beconn\":%bc," \
                     "\"srv_conn\":%sc,\"retries\":%rc,\"srv_queue\":%sq,\"backend_queue\":%bq," \
                     "\"captured_request_headers\":%{+J}hrl,\"captured_response_headers\":%{+J}hsl," \
                     "\"http_request\":%{+J}r,\"unique_id\":%{+J}ID}"
#define JSON_TCP_FMT "{\"client_ip\":%{+J}ci,\"client_port\":%cp,\"accept_date\":%{+J}t," \
                     "\"frontend\":%{+J}ft,\"backend\":%{+J}b,\"server\":%{+J}s,\"Tw\":%Tw,\"Tc\":%Tc," \
                     "\"Tt\":%Tt,\"bytes_read\":%B,\"bytes_uploaded\":%U,\"termination_state\":%{+J}ts," \
                     "\"termination_reason\":%{+J}tsw,\"actconn\":%ac,\"feconn\":%fc,\"beconn\":%bc," \
                     "\"srv_conn\":%sc,\"retries\":%rc,\"srv_queue\":%sq,\"backend_queue\":%bq}"

static struct logformat fmt_http, fmt_tcp, fmt_clf, fmt_json, fmt_json_tcp;

/*------------------------------------------------------------------------
 * Configuration
 */
static int parse_httplog(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	struct proxy_conf *c = &ctx->px->c;

	if (ctx->inv) {
		c->log_kind = LOGK_NONE;
		return 0;
	}
	if (nargs && strcmp(args[0], "clf")) {
		cfg_alert(ctx, "'option httplog': unknown argument '%s' (only 'clf' is allowed)", args[0]);
		return -1;
	}
	c->log_kind = nargs ? LOGK_CLF : LOGK_HTTP;
	c->log_fmt = NULL;
	return 0;
}

static int parse_tcplog(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	ctx->px->c.log_kind = ctx->inv ? LOGK_NONE : LOGK_TCP;
	ctx->px->c.log_fmt = NULL;
	return 0;
}

static int parse_jsonlog(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	ctx->px->c.log_kind = ctx->inv ? LOGK_NONE : LOGK_JSON;
	ctx->px->c.log_fmt = NULL;
	return 0;
}

static int compile_fmt(struct cfg_ctx *ctx, const char *what, const char *text, const struct logformat **out)
{
	struct logformat *lf = cfg_alloc(sizeof(*lf));
	char err[512];

	if (logformat_parse(text, lf, err, sizeof(err)) < 0) {
		cfg_alert(ctx, "'%s': %s", what, err);
		return -1;
	}
	*out = lf;
	return 0;
}

static int parse_log_format(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	struct proxy_conf *c = &ctx->px->c;

	if (nargs > 1) {
		cfg_alert(ctx, "'%s' expects one argument: put the format in double quotes (it has %d words here)",
		          kw->name, nargs);
		return -1;
	}
	if (!strcmp(kw->name, "log-format-sd"))
		return compile_fmt(ctx, kw->name, args[0], &c->log_sd);
	if (compile_fmt(ctx, kw->name, args[0], &c->log_fmt) < 0)
		return -1;
	c->log_kind = LOGK_CUSTOM;
	return 0;
}

static const struct cfg_kw log_kws[] = {
	{ "option httplog", CFG_SEC_PX, 0, 1, parse_httplog, SLOT_NONE, TGT_PROXY, 0, 0, 0, KW_F_NO, "[clf]" },
	{ "option tcplog", CFG_SEC_PX, 0, 0, parse_tcplog, SLOT_NONE, TGT_PROXY, 0, 0, 0, KW_F_NO, "" },
	{ "option jsonlog", CFG_SEC_PX, 0, 0, parse_jsonlog, SLOT_NONE, TGT_PROXY, 0, 0, 0, KW_F_NO, "" },
	{ "log-format", CFG_SEC_PX, 1, -1, parse_log_format, SLOT_NONE, TGT_PROXY, 0, 0, 0, 0, "<format>" },
	{ "log-format-sd", CFG_SEC_PX, 1, -1, parse_log_format, SLOT_NONE, TGT_PROXY, 0, 0, 0, 0, "<format>" },
	{ NULL }
};

CFG_REGISTER(log_kws);

static const struct cfg_opt log_opts[] = {
	{ "dontlognull", CFG_SEC_FE, PR_O_DONTLOGNULL, 0 },
	{ "dontlog-normal", CFG_SEC_FE, PR_O_DONTLOG_NORMAL, 0 },
	{ "log-separate-errors", CFG_SEC_FE, PR_O_LOG_SEP_ERRS, 0 },
	{ "logasap", CFG_SEC_FE, PR_O_LOGASAP, 0 },
	{ NULL }
};

CFG_OPT_REGISTER(log_opts);

static int log_post_parse(void)
{
	static const struct { struct logformat *lf; const char *text; } presets[] = {
		{ &fmt_http, HTTP_LOG_FMT }, { &fmt_tcp, TCP_LOG_FMT }, { &fmt_clf, CLF_LOG_FMT },
		{ &fmt_json, JSON_LOG_FMT }, { &fmt_json_tcp, JSON_TCP_FMT },
	};
	char err[512];
	struct proxy *px;
	int ret = 0;

	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++) {
		if (logformat_parse(presets[i].text, presets[i].lf, err, sizeof(err)) < 0) {
			ha_alert("internal log format: %s", err);
			return ERR_ALERT | ERR_FATAL;
		}
	}
	list_for_each(px, &proxies, list) {
		struct proxy_conf *c = &px->c;
		if (!(px->cap & PR_CAP_FE))
			continue;
		if (c->mode != PR_MODE_HTTP && (c->log_kind == LOGK_HTTP || c->log_kind == LOGK_CLF)) {
			ha_warning("config : 'option httplog' not usable with %s '%s' (needs 'mode http'). Falling back "
			           "to 'option tcplog'.", (px->cap & PR_CAP_BE) ? "proxy" : "frontend", px->id);
			c->log_kind = LOGK_TCP;
			ret |= ERR_WARN;
		}
	}
	if (log_targets_open() < 0)
		ret |= ERR_ALERT | ERR_FATAL;
	return ret;
}

static void log_deinit(void)
{
	log_targets_close();
	/* the targets lived in the configuration's memory */
	memset(&log_global, 0, sizeof(log_global));
}

static const struct cfg_postparser log_postparser = { "logging", log_post_parse, log_deinit };
CFG_POSTPARSER_REGISTER(log_postparser);

/*------------------------------------------------------------------------
 * Lines
 */
static const struct logformat *format_of(const struct stream *s, int for_stderr)
{
	const struct proxy_conf *c = &s->fe->c;
	int http = (s->flags & SF_HTTP) && s->txn;

	switch (c->log_kind) {
	case LOGK_HTTP: return http ? &fmt_http : &fmt_tcp;
	case LOGK_CLF: return http ? &fmt_clf : &fmt_tcp;
	case LOGK_TCP: return &fmt_tcp;
	case LOGK_JSON: return http ? &fmt_json : &fmt_json_tcp;
	case LOGK_CUSTOM: return c->log_fmt;
	default: return for_stderr ? (http ? &fmt_http : &fmt_tcp) : NULL;
	}
}

size_t log_build_line(struct stream *s, char *dst, size_t size)
{
	const struct logformat *lf = format_of(s, 1);

	return lf ? logformat_build(lf, s, dst, size, LF_LOG_LINE) : 0;
}

/* What HAProxy counts as a failure (for dontlog-normal and
 * log-separate-errors): a termination state other than normal or answered
 * locally, a 5xx, a retry or a redispatch. */
static int is_error(const struct stream *s)
{
	if (s->term[0] != '-' && s->term[0] != TERM_LOCAL)
		return 1;
	if (s->prev_srv || (s->be && s->conn_retries != s->be->c.retries))
		return 1;
	return s->txn && s->txn->status >= 500;
}

/* A request that sent nothing at all: "option dontlognull" skips it. */
static int is_null(const struct stream *s)
{
	return s->txn ? !s->txn->bytes_in : !s->bytes_in;
}

/* Sends the line of <s> to its frontend's targets, and to stderr with -d. */
static void emit(struct stream *s)
{
	const struct proxy *fe = s->fe;
	int targets = log_has_targets(fe) && fe->c.log_kind != LOGK_NONE;
	int debug = (global.mode & MODE_DEBUG) && !(targets && log_writes_stderr(fe));
	char line[8192], sd[1024];

	if (!targets && !debug)
		return;
	if ((fe->c.options & PR_O_DONTLOGNULL) && is_null(s))
		return;
	if ((fe->c.options & PR_O_DONTLOG_NORMAL) && !is_error(s))
		return;
	if (targets) {
		size_t n = logformat_build(format_of(s, 0), s, line, sizeof(line), LF_LOG_LINE);
		size_t sdl = fe->c.log_sd ? logformat_build(fe->c.log_sd, s, sd, sizeof(sd), LF_LOG_LINE) : 0;
		int level = (fe->c.options & PR_O_LOG_SEP_ERRS) && is_error(s) ? LOGL_ERR : LOGL_INFO;
		log_send(fe, level, line, n, sd, sdl);
		s->fe->log_count++;
	}
	if (debug) {
		size_t n = log_build_line(s, line, sizeof(line) - 1);
		line[n++] = '\n';
		ssize_t w = write(STDERR_FILENO, line, n);
		(void)w;
	}
}

static void fmt_date(uint64_t ms, char *date, size_t len)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;

	localtime_r(&sec, &tm);
	snprintf(date, len, "%02d/%s/%04d:%02d:%02d:%02d.%03d", tm.tm_mday, months[tm.tm_mon],
	         tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

void log_conn_error(struct stream *s, struct conn *c)
{
	char line[1024], host[64], date[64], why[256], lname[32];
	const struct proxy *fe = s->fe;
	int targets = log_has_targets(fe);
	int debug = (global.mode & MODE_DEBUG) && !(targets && log_writes_stderr(fe));

	if (!targets && !debug)
		return;
	fmt_date(s->t_accept, date, sizeof(date));
	const char *ln = s->li->bind->name;
	if (!ln) {
		snprintf(lname, sizeof(lname), "%d", s->li->luid);
		ln = lname;
	}
	int n = snprintf(line, sizeof(line), "%s:%d [%s] %s/%s: %s", addr_host_str(&s->src.sa, host, sizeof(host)),
	                 addr_port(&s->src.sa), date, fe->id, ln, ssl_sock_hs_error(c, why, sizeof(why)));
	if (n <= 0)
		return;
	size_t len = (size_t)n < sizeof(line) - 1 ? (size_t)n : sizeof(line) - 2;
	/* an error: err with log-separate-errors, as the traffic lines */
	if (targets)
		log_send(fe, (fe->c.options & PR_O_LOG_SEP_ERRS) ? LOGL_ERR : LOGL_INFO, line, len, NULL, 0);
	if (debug) {
		line[len++] = '\n';
		ssize_t w = write(STDERR_FILENO, line, len);
		(void)w;
	}
}

void log_txn(struct stream *s)
{
	struct http_txn *txn = s->txn;

	if (!txn || txn->logged)
		return;
	txn->logged = 1;
	emit(s);
}

void log_tcp_end(struct stream *s)
{
	if (s->log_flags & SLOG_DONE)
		return;
	s->log_flags |= SLOG_DONE;
	emit(s);
}

void log_accept(struct stream *s)
{
	const struct proxy *fe = s->fe;
	char line[512], ci[64], fi[64];

	if (fe->c.log_kind != LOGK_NONE || !log_has_targets(fe) || (s->log_flags & SLOG_ACCEPTED))
		return;
	/* HTTP: one line per request (a new stream for HAProxy), so the flag
	 * stays clear */
	if (!(s->flags & SF_HTTP))
		s->log_flags |= SLOG_ACCEPTED;
	const union sockaddr_any *d = stream_dst(s);
	int n = snprintf(line, sizeof(line), "Connect from %s:%d to %s:%d (%s/%s)",
	                 addr_host_str(&s->src.sa, ci, sizeof(ci)), addr_port(&s->src.sa),
	                 d ? addr_host_str(&d->sa, fi, sizeof(fi)) : "-", d ? addr_port(&d->sa) : 0, fe->id,
	                 fe->c.mode == PR_MODE_HTTP ? "HTTP" : "TCP");
	if (n > 0)
		log_send(fe, LOGL_INFO, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1, NULL, 0);
}

void log_event(const struct proxy *px, int level, enum diag_level diag, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	diag_msg(diag, "%s", msg);
	log_send(px, level, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1, NULL, 0);
}

void log_msg(const struct proxy *px, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n >= 0)
		log_send(px, level, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1, NULL, 0);
}

const char *log_term_words(char cause, char phase)
{
	static __thread char buf[128];
	const char *c, *p;

	switch (cause) {
	case 'C': c = "client aborted"; break;
	case 'S': c = "server aborted or refused"; break;
	case 'P': c = "stopped by the proxy"; break;
	case 'L': c = "answered locally"; break;
	case 'R': c = "out of resources"; break;
	case 'I': c = "internal error"; break;
	case 'D': c = "killed: server down"; break;
	case 'U': c = "killed: back to the active servers"; break;
	case 'K': c = "killed by an administrator"; break;
	case 'c': c = "client timeout"; break;
	case 's': c = "server timeout"; break;
	default: c = "normal"; break;
	}
	switch (phase) {
	case 'R': p = "waiting for the request"; break;
	case 'Q': p = "queued"; break;
	case 'C': p = "connecting to the server"; break;
	case 'H': p = "waiting for the response head"; break;
	case 'D': p = "during the data transfer"; break;
	case 'L': p = "sending the last data"; break;
	case 'T': p = "tarpitted"; break;
	default: p = NULL; break;
	}
	if (!p)
		return c;
	snprintf(buf, sizeof(buf), "%s, %s", c, p);
	return buf;
}
