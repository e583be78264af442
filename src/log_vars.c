/* The %variables of log-format strings, as HAProxy names them: addresses,
 * dates, names, timers, sizes, states, connection counts and the request
 * line. Each one writes its value or returns -1 for "-".
 *
 * Timers (ms), for a transaction: Th handshake, Ti idle before the request,
 * TR request head, Tw queue, Tc connect, Tr server response head, Ta from
 * the request's first byte to the end, Td data, Tt = Th + Ti + Ta, Tq =
 * Th + Ti + TR, Tu = Tt - Ti. A phase not reached is -1. For a TCP stream,
 * Tw/Tc/Tt count from the accept. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <proxyd/addr.h>
#include <proxyd/cookie.h>
#include <proxyd/global.h>
#include <proxyd/http.h>
#include <proxyd/log.h>
#include <proxyd/logformat.h>
#include <proxyd/proxy.h>
#include <proxyd/sample.h>
#include <proxyd/server.h>
#include <proxyd/stream.h>
#include <proxyd/thread.h>

/*------------------------------------------------------------------------
 * Output helpers
 */
/* Appends one byte if there is room. */
static void put1(char *dst, size_t size, size_t *n, char c)
{
	if (*n < size)
		dst[(*n)++] = c;
}

static void put_json_char(char *dst, size_t size, size_t *n, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	if (c == '"' || c == '\\') {
		if (*n + 2 > size)
			return;
		dst[(*n)++] = '\\';
		dst[(*n)++] = (char)c;
	} else if (c < 0x20) {
		if (*n + 6 > size)
			return;
		memcpy(dst + *n, "\\u00", 4);
		dst[*n + 4] = hex[c >> 4];
		dst[*n + 5] = hex[c & 15];
		*n += 6;
	} else {
		put1(dst, size, n, (char)c);
	}
}

int lf_put_missing(char *dst, size_t size, unsigned opts)
{
	if (opts & LF_OPT_JSON)
		return lf_put_str(dst, size, "-", 1, opts);
	if (opts & LF_OPT_QUOTE)
		return lf_put_str(dst, size, "", 0, opts);
	if (!size)
		return 0;
	dst[0] = '-';
	return 1;
}

int lf_put_str(char *dst, size_t size, const char *s, size_t len, unsigned opts)
{
	size_t n = 0;

	if (!len && !(opts & (LF_OPT_QUOTE | LF_OPT_JSON)))
		return lf_put_missing(dst, size, opts);
	if (opts & (LF_OPT_QUOTE | LF_OPT_JSON))
		put1(dst, size, &n, '"');
	for (size_t i = 0; i < len && n < size; i++) {
		unsigned char c = (unsigned char)s[i];
		if (opts & LF_OPT_JSON) {
			put_json_char(dst, size, &n, c);
			continue;
		}
		/* +E escapes what an RFC 5424 parameter value cannot hold */
		if ((opts & LF_OPT_ESC) && (c == '"' || c == '\\' || c == ']')) {
			if (n + 2 > size)
				break;
			dst[n++] = '\\';
		}
		dst[n++] = (char)c;
	}
	if (opts & (LF_OPT_QUOTE | LF_OPT_JSON))
		put1(dst, size, &n, '"');
	return (int)n;
}

static int put_int(char *dst, size_t size, long long v)
{
	int n = snprintf(dst, size, "%lld", v);
	return n < 0 ? 0 : (size_t)n < size ? n : (int)size;
}

static int put_cstr(char *dst, size_t size, const char *s, unsigned opts)
{
	return lf_put_str(dst, size, s, strlen(s), opts);
}

/*------------------------------------------------------------------------
 * Addresses
 */
/* An address, or with +X its bytes in hexadecimal ("7F000001"), as
 * HAProxy writes them. */
static int put_ip(char *dst, size_t size, const struct sockaddr *sa, unsigned opts)
{
	char h[64];

	if (sa->sa_family == AF_UNIX)
		return put_cstr(dst, size, "unix", opts);
	if (opts & LF_OPT_HEX) {
		const unsigned char *b = sa->sa_family == AF_INET ?
		                         (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr :
		                         (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
		size_t nb = sa->sa_family == AF_INET ? 4 : 16, n = 0;
		for (size_t i = 0; i < nb && n + 2 < sizeof(h); i++)
			n += (size_t)snprintf(h + n, sizeof(h) - n, "%02X", b[i]);
		return put_cstr(dst, size, h, 0);
	}
	return put_cstr(dst, size, addr_host_str(sa, h, sizeof(h)), opts);
}

static int put_port(char *dst, size_t size, const struct sockaddr *sa, unsigned opts)
{
	int port = sa->sa_family == AF_UNIX ? 0 : addr_port(sa);
	int n = (opts & LF_OPT_HEX) ? snprintf(dst, size, "%04X", port) : snprintf(dst, size, "%d", port);
	return n < 0 ? 0 : (size_t)n < size ? n : (int)size;
}

static int v_ci(struct stream *s, char *dst, size_t size, unsigned opts) { return put_ip(dst, size, &s->src.sa, opts); }
static int v_cp(struct stream *s, char *dst, size_t size, unsigned opts) { return put_port(dst, size, &s->src.sa, opts); }

static int v_fi(struct stream *s, char *dst, size_t size, unsigned opts)
{
	const union sockaddr_any *d = stream_dst(s);
	return d ? put_ip(dst, size, &d->sa, opts) : -1;
}

static int v_fp(struct stream *s, char *dst, size_t size, unsigned opts)
{
	const union sockaddr_any *d = stream_dst(s);
	return d ? put_port(dst, size, &d->sa, opts) : -1;
}

/* The local address of the server connection: read now, or kept when the
 * connection was closed (see log_keep_bsrc()). */
static const struct sockaddr *bsrc_of(struct stream *s)
{
	socklen_t len = sizeof(s->bsrc);

	if (s->sc && s->sc->fd >= 0 && getsockname(s->sc->fd, &s->bsrc.sa, &len) == 0)
		return &s->bsrc.sa;
	return s->bsrc.sa.sa_family ? &s->bsrc.sa : NULL;
}

void log_keep_bsrc(struct stream *s)
{
	const struct logformat *lf = s->fe->c.log_fmt;
	socklen_t len = sizeof(s->bsrc);

	/* only formats that print it pay for the system call */
	if (!lf || !(lf->flags & LF_F_BSRC) || !s->sc || s->sc->fd < 0)
		return;
	if (getsockname(s->sc->fd, &s->bsrc.sa, &len) < 0)
		s->bsrc.sa.sa_family = 0;
}

static int v_bi(struct stream *s, char *dst, size_t size, unsigned opts)
{
	const struct sockaddr *sa = bsrc_of(s);
	return sa ? put_ip(dst, size, sa, opts) : -1;
}

static int v_bp(struct stream *s, char *dst, size_t size, unsigned opts)
{
	const struct sockaddr *sa = bsrc_of(s);
	return sa ? put_port(dst, size, sa, opts) : -1;
}

static int v_si(struct stream *s, char *dst, size_t size, unsigned opts)
{
	return s->srv ? put_ip(dst, size, (const struct sockaddr *)&s->srv->addr, opts) : -1;
}

static int v_sp(struct stream *s, char *dst, size_t size, unsigned opts)
{
	return s->srv ? put_port(dst, size, (const struct sockaddr *)&s->srv->addr, opts) : -1;
}

/*------------------------------------------------------------------------
 * Dates
 */
static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* "dd/Mmm/yyyy:HH:MM:SS.mmm" in local time */
static int date_ms(char *dst, size_t size, uint64_t ms)
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	localtime_r(&sec, &tm);
	int n = snprintf(dst, size, "%02d/%s/%04d:%02d:%02d:%02d.%03d", tm.tm_mday, months[tm.tm_mon],
	                 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	return n < 0 ? 0 : (size_t)n < size ? n : (int)size;
}

/* "dd/Mmm/yyyy:HH:MM:SS +0000" (gmt) or with the local offset */
static int date_tz(char *dst, size_t size, uint64_t ms, int local)
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	long off = 0;
	if (local) {
		localtime_r(&sec, &tm);
		off = tm.tm_gmtoff;
	} else {
		gmtime_r(&sec, &tm);
	}
	long a = off < 0 ? -off : off;
	int n = snprintf(dst, size, "%02d/%s/%04d:%02d:%02d:%02d %c%02ld%02ld", tm.tm_mday, months[tm.tm_mon],
	                 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+', a / 3600,
	                 (a / 60) % 60);
	return n < 0 ? 0 : (size_t)n < size ? n : (int)size;
}

static uint64_t req_date(const struct stream *s)
{
	return s->txn ? s->txn->t_start : s->t_accept;
}

/* Dates and states are never quoted by +Q (as HAProxy), but are JSON
 * strings with +J. */
static int json_wrap(char *dst, size_t size, unsigned opts, int n)
{
	char tmp[64];

	if (!(opts & LF_OPT_JSON) || n <= 0 || (size_t)n >= sizeof(tmp))
		return n;
	memcpy(tmp, dst, (size_t)n);
	return lf_put_str(dst, size, tmp, (size_t)n, LF_OPT_JSON);
}

static int v_t(struct stream *s, char *dst, size_t size, unsigned opts)
{
	return json_wrap(dst, size, opts, date_ms(dst, size, s->t_accept));
}
static int v_tr(struct stream *s, char *dst, size_t size, unsigned opts)
{
	return json_wrap(dst, size, opts, date_ms(dst, size, req_date(s)));
}
static int v_trg(struct stream *s, char *dst, size_t size, unsigned opts)
{
	return json_wrap(dst, size, opts, date_tz(dst, size, req_date(s), 0));
}
static int v_trl(struct stream *s, char *dst, size_t size, unsigned opts)
{
	return json_wrap(dst, size, opts, date_tz(dst, size, req_date(s), 1));
}
static int v_T(struct stream *s, char *dst, size_t size, unsigned opts)
{
	return json_wrap(dst, size, opts, date_tz(dst, size, s->t_accept, 0));
}
static int v_Tl(struct stream *s, char *dst, size_t size, unsigned opts)
{
	return json_wrap(dst, size, opts, date_tz(dst, size, s->t_accept, 1));
}
/* A counter, or with +X in hexadecimal on at least <hexw> digits. */
static int put_num(char *dst, size_t size, unsigned long long v, unsigned opts, int hexw)
{
	int n = (opts & LF_OPT_HEX) ? snprintf(dst, size, "%0*llX", hexw, v) : snprintf(dst, size, "%llu", v);
	return n < 0 ? 0 : (size_t)n < size ? n : (int)size;
}

static int v_Ts(struct stream *s, char *dst, size_t size, unsigned opts)
{
	return put_num(dst, size, s->t_accept / 1000, opts, 4);
}
/* (HAProxy 2.6 ignores +X here) */
static int v_ms(struct stream *s, char *dst, size_t size, unsigned opts)
{
	int n = snprintf(dst, size, "%03d", (int)(s->t_accept % 1000));
	return n < 0 ? 0 : (size_t)n < size ? n : (int)size;
}

/*------------------------------------------------------------------------
 * Names
 */
static int v_f(struct stream *s, char *dst, size_t size, unsigned opts) { return put_cstr(dst, size, s->fe->id, opts); }

static int v_ft(struct stream *s, char *dst, size_t size, unsigned opts)
{
	/* "~" marks a connection that came in over TLS */
	char name[256];
	snprintf(name, sizeof(name), "%s%s", s->fe->id, s->cli.xprt_ctx ? "~" : "");
	return put_cstr(dst, size, name, opts);
}

static int v_b(struct stream *s, char *dst, size_t size, unsigned opts)
{
	return put_cstr(dst, size, s->be ? s->be->id : s->fe->id, opts);
}

static int v_s(struct stream *s, char *dst, size_t size, unsigned opts)
{
	return put_cstr(dst, size, s->srv ? s->srv->id : (s->log_flags & SLOG_STATS) ? "<STATS>" : "<NOSRV>", opts);
}

static int v_H(struct stream *s, char *dst, size_t size, unsigned opts)
{
	char h[256];
	if (gethostname(h, sizeof(h)) < 0)
		return -1;
	h[sizeof(h) - 1] = 0;
	return put_cstr(dst, size, h, opts);
}

static int v_pid(struct stream *s, char *dst, size_t size, unsigned opts)
{
	return put_num(dst, size, (unsigned long long)getpid(), opts, 4);
}
static int v_rt(struct stream *s, char *dst, size_t size, unsigned opts)
{
	return put_num(dst, size, s->uniq_id, opts, 4);
}

static int v_m(struct stream *s, char *dst, size_t size, unsigned opts)
{
	return put_cstr(dst, size, (s->flags & SF_HTTP) ? "HTTP" : "TCP", opts);
}

/*------------------------------------------------------------------------
 * Timers
 */
static long span(uint64_t from, uint64_t to)
{
	return from && to && to >= from ? (long)(to - from) : -1;
}

struct timers {
	long th, ti, tR, tw, tc, tr, ta, tt, td;
};

/* A request that was never parsed (a 400, 408 or client abort before the
 * end of its head): HAProxy logs those without their stream, with no
 * byte counts and no captures. */
static int early_error(const struct stream *s)
{
	return s->txn && !s->txn->rline_len;
}

static void timers(struct stream *s, struct timers *t)
{
	uint64_t now = th_now_ms(s->th);
	struct http_txn *txn = s->txn;

	t->th = s->t_handshake;
	if (txn) {
		t->ti = span(s->t_idle_from, txn->t_start) - (s->nb_req <= 1 ? t->th : 0);
		if (t->ti < 0)
			t->ti = 0;
		t->tR = span(txn->t_start, txn->t_hdrs);
		/* the time in queue is known once the stream left it, even for a
		 * connection that failed afterwards */
		t->tw = txn->t_queue ? span(txn->t_hdrs, txn->t_queue) : -1;
		t->tc = txn->t_queue ? span(txn->t_queue, txn->t_connect) : -1;
		t->tr = span(txn->t_connect, txn->t_rsp_hdrs);
		t->ta = span(txn->t_start, now);
		t->tt = t->ta < 0 ? -1 : t->th + t->ti + t->ta;
		t->td = span(txn->t_rsp_hdrs, now);
		return;
	}
	/* TCP: HAProxy counts the time in queue from one millisecond before
	 * the accept (there is no request date), hence the +1 */
	t->ti = 0;
	t->tR = -1;
	t->tw = s->t_queue_end ? span(s->t_accept, s->t_queue_end) + 1 : -1;
	t->tc = s->t_queue_end ? span(s->t_queue_end, s->t_connect) : -1;
	t->tr = -1;
	t->tt = span(s->t_accept, now);
	t->ta = t->tt;
	t->td = span(s->t_connect, now);
}

/* With "option logasap", times still running are prefixed with '+'. */
static int put_timer(struct stream *s, char *dst, size_t size, long v, int running)
{
	if (running && (s->log_flags & SLOG_ASAP) && size) {
		dst[0] = '+';
		return 1 + put_int(dst + 1, size - 1, v);
	}
	return put_int(dst, size, v);
}

#define TIMER_VAR(name, expr, running)                                             \
	static int name(struct stream *s, char *dst, size_t size, unsigned opts)      \
	{                                                                             \
		struct timers t;                                                          \
		timers(s, &t);                                                            \
		return put_timer(s, dst, size, (expr), (running));                        \
	}
TIMER_VAR(v_Th, t.th, 0)
TIMER_VAR(v_Ti, t.ti, 0)
TIMER_VAR(v_TR, t.tR, 0)
TIMER_VAR(v_Tq, t.tR < 0 ? -1 : t.th + t.ti + t.tR, 0)
TIMER_VAR(v_Tw, t.tw, 0)
TIMER_VAR(v_Tc, t.tc, 0)
TIMER_VAR(v_Tr, t.tr, 0)
TIMER_VAR(v_Ta, t.ta, 1)
TIMER_VAR(v_Td, t.td, 0)
TIMER_VAR(v_Tt, t.tt, 1)
TIMER_VAR(v_Tu, t.tt < 0 ? -1 : t.tt - t.ti, 1)

/*------------------------------------------------------------------------
 * Status, sizes, states, counts
 */
/* The status sent to the client: -1 while there is none yet (a client
 * gone before the response), 0 for a TCP stream, as HAProxy. */
static int v_ST(struct stream *s, char *dst, size_t size, unsigned opts)
{
	return put_int(dst, size, s->txn ? s->txn->status : 0);
}

/* With "option logasap", the bytes of a response still being sent get a
 * '+'. */
static int v_B(struct stream *s, char *dst, size_t size, unsigned opts)
{
	uint64_t b = s->txn ? s->txn->bytes_out : s->bytes_out;

	if (early_error(s))
		b = 0;
	if ((s->log_flags & SLOG_ASAP) && size) {
		dst[0] = '+';
		return 1 + put_int(dst + 1, size - 1, (long long)b);
	}
	return put_int(dst, size, (long long)b);
}

static int v_U(struct stream *s, char *dst, size_t size, unsigned opts)
{
	uint64_t b = s->txn ? s->txn->bytes_in : s->bytes_in;

	return put_int(dst, size, early_error(s) ? 0 : (long long)b);
}

static int v_ts(struct stream *s, char *dst, size_t size, unsigned opts)
{
	if (size < 2)
		return 0;
	dst[0] = s->term[0];
	dst[1] = s->term[1];
	return json_wrap(dst, size, opts, 2);
}

static int v_tsc(struct stream *s, char *dst, size_t size, unsigned opts)
{
	if (size < 4)
		return 0;
	dst[0] = s->term[0];
	dst[1] = s->term[1];
	cookie_log_letters(s, dst + 2);
	return json_wrap(dst, size, opts, 4);
}

static int v_ac(struct stream *s, char *dst, size_t size, unsigned opts) { return put_int(dst, size, global.actconn); }
static int v_fc(struct stream *s, char *dst, size_t size, unsigned opts) { return put_int(dst, size, s->fe->feconn); }
static int v_bc(struct stream *s, char *dst, size_t size, unsigned opts)
{
	return put_int(dst, size, s->be ? s->be->beconn : 0);
}
static int v_sc(struct stream *s, char *dst, size_t size, unsigned opts)
{
	return put_int(dst, size, s->srv ? s->srv->cur_sess : 0);
}
static int v_rc(struct stream *s, char *dst, size_t size, unsigned opts)
{
	/* '+' when the request was redispatched to another server */
	long long r = s->be ? s->be->c.retries - s->conn_retries : 0;
	if (r < 0)
		r = 0;
	if (s->prev_srv && size) {
		dst[0] = '+';
		return 1 + put_int(dst + 1, size - 1, r);
	}
	return put_int(dst, size, r);
}
static int v_sq(struct stream *s, char *dst, size_t size, unsigned opts) { return put_int(dst, size, s->srv_queue_pos); }
static int v_bq(struct stream *s, char *dst, size_t size, unsigned opts) { return put_int(dst, size, s->be_queue_pos); }
/* The lines the frontend has logged before this one. */
static int v_lc(struct stream *s, char *dst, size_t size, unsigned opts)
{
	return put_num(dst, size, s->fe->log_count, opts, 4);
}

/*------------------------------------------------------------------------
 * Request line
 */
/* As HAProxy: quotes, '#' and control bytes of the request line are
 * written #XX, so that a line always stays one line with its fields. */
static int put_encoded(char *dst, size_t size, const char *p, size_t len, unsigned opts)
{
	char tmp[3 * sizeof(((struct http_txn *)0)->rline)];
	size_t n = 0;
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < len && n + 3 < sizeof(tmp); i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '#') {
			tmp[n++] = '#';
			tmp[n++] = hex[c >> 4];
			tmp[n++] = hex[c & 15];
		} else if ((opts & LF_OPT_ESC) && (c == '\\' || c == ']')) {
			tmp[n++] = '\\';
			tmp[n++] = (char)c;
		} else {
			tmp[n++] = (char)c;
		}
	}
	/* the escapes are done: only the quotes remain to add */
	return lf_put_str(dst, size, tmp, n, opts & ~LF_OPT_ESC);
}

static int v_r(struct stream *s, char *dst, size_t size, unsigned opts)
{
	if (!s->txn || !s->txn->rline_len)
		return lf_put_str(dst, size, "<BADREQ>", 8, opts);
	return put_encoded(dst, size, s->txn->rline, s->txn->rline_len, opts);
}

/* The parts of the request line kept for the log: method, URI, version. */
static int rline_part(struct stream *s, int part, const char **p, size_t *len)
{
	if (!s->txn || !s->txn->rline_len)
		return -1;
	const char *l = s->txn->rline, *end = l + s->txn->rline_len;
	const char *sp1 = memchr(l, ' ', (size_t)(end - l));
	if (!sp1)
		return -1;
	const char *sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
	if (part == 0) {
		*p = l;
		*len = (size_t)(sp1 - l);
	} else if (part == 1) {
		*p = sp1 + 1;
		*len = (size_t)((sp2 ? sp2 : end) - sp1 - 1);
	} else {
		if (!sp2)
			return -1;
		*p = sp2 + 1;
		*len = (size_t)(end - sp2 - 1);
	}
	return 0;
}

static int badreq(char *dst, size_t size, unsigned opts)
{
	return lf_put_str(dst, size, "<BADREQ>", 8, opts);
}

static int v_HM(struct stream *s, char *dst, size_t size, unsigned opts)
{
	const char *p;
	size_t l;
	return rline_part(s, 0, &p, &l) < 0 ? badreq(dst, size, opts) : put_encoded(dst, size, p, l, opts);
}

static int v_HU(struct stream *s, char *dst, size_t size, unsigned opts)
{
	const char *p;
	size_t l;
	return rline_part(s, 1, &p, &l) < 0 ? badreq(dst, size, opts) : put_encoded(dst, size, p, l, opts);
}

static int v_HP(struct stream *s, char *dst, size_t size, unsigned opts)
{
	const char *p;
	size_t l;
	if (rline_part(s, 1, &p, &l) < 0)
		return badreq(dst, size, opts);
	const char *q = memchr(p, '?', l);
	return put_encoded(dst, size, p, q ? (size_t)(q - p) : l, opts);
}

static int v_HQ(struct stream *s, char *dst, size_t size, unsigned opts)
{
	const char *p;
	size_t l;
	if (rline_part(s, 1, &p, &l) < 0)
		return badreq(dst, size, opts);
	const char *q = memchr(p, '?', l);
	/* no query string: nothing at all (quotes only with +Q) */
	return q ? put_encoded(dst, size, q, l - (size_t)(q - p), opts) :
	       (opts & LF_OPT_QUOTE) ? lf_put_str(dst, size, "", 0, opts) : 0;
}

static int v_HV(struct stream *s, char *dst, size_t size, unsigned opts)
{
	const char *p;
	size_t l;
	return rline_part(s, 2, &p, &l) < 0 ? badreq(dst, size, opts) : put_encoded(dst, size, p, l, opts);
}

static int v_ID(struct stream *s, char *dst, size_t size, unsigned opts)
{
	return s->txn && s->txn->unique_id ? put_cstr(dst, size, s->txn->unique_id, opts) : -1;
}

/*------------------------------------------------------------------------
 * proxyd's own: the termination state in words (JSON logs)
 */
static int v_tsw(struct stream *s, char *dst, size_t size, unsigned opts)
{
	return put_cstr(dst, size, log_term_words(s->term[0], s->term[1]), opts);
}

static const struct lf_var log_vars[] = {
	{ "ci", v_ci, SMP_USE_L4 }, { "cp", v_cp, SMP_USE_L4 }, { "fi", v_fi, SMP_USE_L4 },
	{ "fp", v_fp, SMP_USE_L4 }, { "bi", v_bi, SMP_USE_L4 }, { "bp", v_bp, SMP_USE_L4 },
	{ "si", v_si, SMP_USE_L4 }, { "sp", v_sp, SMP_USE_L4 },
	{ "t", v_t, SMP_USE_INT }, { "tr", v_tr, SMP_USE_INT }, { "trg", v_trg, SMP_USE_INT },
	{ "trl", v_trl, SMP_USE_INT }, { "T", v_T, SMP_USE_INT }, { "Tl", v_Tl, SMP_USE_INT },
	{ "Ts", v_Ts, SMP_USE_INT }, { "ms", v_ms, SMP_USE_INT },
	{ "f", v_f, SMP_USE_INT }, { "ft", v_ft, SMP_USE_INT }, { "b", v_b, SMP_USE_INT },
	{ "s", v_s, SMP_USE_INT }, { "H", v_H, SMP_USE_INT }, { "pid", v_pid, SMP_USE_INT },
	{ "rt", v_rt, SMP_USE_INT }, { "m", v_m, SMP_USE_INT },
	{ "Th", v_Th, SMP_USE_INT }, { "Ti", v_Ti, SMP_USE_INT }, { "TR", v_TR, SMP_USE_INT },
	{ "Tq", v_Tq, SMP_USE_INT }, { "Tw", v_Tw, SMP_USE_INT }, { "Tc", v_Tc, SMP_USE_INT },
	{ "Tr", v_Tr, SMP_USE_INT }, { "Ta", v_Ta, SMP_USE_INT }, { "Td", v_Td, SMP_USE_INT },
	{ "Tt", v_Tt, SMP_USE_INT }, { "Tu", v_Tu, SMP_USE_INT },
	{ "ST", v_ST, SMP_USE_INT }, { "B", v_B, SMP_USE_INT }, { "U", v_U, SMP_USE_INT },
	{ "ts", v_ts, SMP_USE_INT }, { "tsc", v_tsc, SMP_USE_INT },
	{ "ac", v_ac, SMP_USE_INT }, { "fc", v_fc, SMP_USE_INT }, { "bc", v_bc, SMP_USE_INT },
	{ "sc", v_sc, SMP_USE_INT }, { "rc", v_rc, SMP_USE_INT }, { "sq", v_sq, SMP_USE_INT },
	{ "bq", v_bq, SMP_USE_INT }, { "lc", v_lc, SMP_USE_INT },
	{ "r", v_r, SMP_USE_INT }, { "HM", v_HM, SMP_USE_INT }, { "HU", v_HU, SMP_USE_INT },
	{ "HP", v_HP, SMP_USE_INT }, { "HQ", v_HQ, SMP_USE_INT }, { "HV", v_HV, SMP_USE_INT },
	{ "ID", v_ID, SMP_USE_INT }, { "tsw", v_tsw, SMP_USE_INT },
	{ NULL }
};

LF_VAR_REGISTER(log_vars);
