/* Transaction log lines, HAProxy httplog layout, on stderr in debug mode.
 * The full logging subsystem (syslog targets, formats) builds on this. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <proxyd/addr.h>
#include <proxyd/global.h>
#include <proxyd/log.h>
#include <proxyd/proxy.h>
#include <proxyd/listener.h>
#include <proxyd/server.h>
#include <proxyd/ssl_sock.h>
#include <proxyd/stream.h>
#include <proxyd/thread.h>

static long span(uint64_t from, uint64_t to)
{
	return from && to && to >= from ? (long)(to - from) : -1;
}

void log_event(enum diag_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vmsg(lvl, fmt, ap);
	va_end(ap);
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

	if (!(global.mode & MODE_DEBUG))
		return;
	fmt_date(s->t_accept, date, sizeof(date));
	const char *ln = s->li->bind->name;
	if (!ln) {
		snprintf(lname, sizeof(lname), "%d", s->li->luid);
		ln = lname;
	}
	int n = snprintf(line, sizeof(line), "%s:%d [%s] %s/%s: %s\n", addr_host_str(&s->src.sa, host, sizeof(host)),
	                 addr_port(&s->src.sa), date, s->fe->id, ln, ssl_sock_hs_error(c, why, sizeof(why)));
	if (n > 0) {
		ssize_t w = write(STDERR_FILENO, line, (size_t)MIN(n, (int)sizeof(line) - 1));
		(void)w;
	}
}

void log_txn(struct stream *s)
{
	struct http_txn *txn = s->txn;
	char line[1024], host[64], date[64];

	if (!txn || txn->logged)
		return;
	txn->logged = 1;
	if (!(global.mode & MODE_DEBUG))
		return;

	uint64_t now = th_now_ms(s->th);
	fmt_date(txn->t_start, date, sizeof(date));

	uint64_t t_q = txn->t_queue ? txn->t_queue : txn->t_hdrs;
	long tr = span(txn->t_start, txn->t_hdrs);
	long tw = txn->t_connect ? span(txn->t_hdrs, t_q) : -1;
	long tc = span(t_q, txn->t_connect);
	long trs = span(txn->t_connect, txn->t_rsp_hdrs);
	long ta = span(txn->t_start, now);

	int n = snprintf(line, sizeof(line),
	                 "%s:%d [%s] %s%s %s/%s %ld/%ld/%ld/%ld/%ld %d %llu - - %c%c%c%c %d/%d/%d/%d/%d 0/0 \"%.*s\"%s%s\n",
	                 addr_host_str(&s->src.sa, host, sizeof(host)), addr_port(&s->src.sa), date, s->fe->id,
	                 conn_is_ssl(&s->cli) ? "~" : "", s->be ? s->be->id : s->fe->id, s->srv ? s->srv->id : "<NOSRV>", tr, tw, tc, trs, ta,
	                 txn->status, (unsigned long long)txn->bytes_out, s->term[0], s->term[1],
	                 txn->ck_req ? txn->ck_req : '-', txn->ck_res ? txn->ck_res : '-',
	                 global.actconn, s->fe->feconn, s->be ? s->be->beconn : 0,
	                 s->srv ? s->srv->served : 0, s->be ? s->be->c.retries - s->conn_retries : 0,
	                 (int)txn->rline_len, txn->rline, s->why ? " # " : "", s->why ? s->why : "");
	if (n > 0) {
		ssize_t w = write(STDERR_FILENO, line, (size_t)MIN(n, (int)sizeof(line) - 1));
		(void)w;
	}
}
