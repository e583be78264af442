/* The stats page in HTML: one table per proxy (FRONTEND, servers,
 * BACKEND), coloured statuses, last-minute response-time percentiles and
 * a sparkline of each server's requests and response times over the last
 * ten minutes, drawn as inline SVG. Self-contained: no script, no external
 * style or image, readable on a phone (the tables scroll sideways).
 *
 * The page is written one unit at a time (page head, one row, the end of
 * a table, page foot) into a bounded area, then handed to the writer:
 * when the writer has no room, the same unit is written again next time. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <proxyd/global.h>
#include <proxyd/live.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>
#include <proxyd/stats_page.h>
#include <proxyd/thread.h>
#include <proxyd/version.h>

struct hbuf {
	char *p;
	size_t len, cap;
	int overflow;
};

static void hput(struct hbuf *b, const char *s, size_t l)
{
	if (b->len + l > b->cap) {
		b->overflow = 1;
		return;
	}
	memcpy(b->p + b->len, s, l);
	b->len += l;
}

static void hstr(struct hbuf *b, const char *s)
{
	hput(b, s, strlen(s));
}

static void PRINTF(2, 3) hprintf(struct hbuf *b, const char *fmt, ...)
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

/* Text from the configuration or a server's check, made safe for HTML. */
static void hesc(struct hbuf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': hstr(b, "&lt;"); break;
		case '>': hstr(b, "&gt;"); break;
		case '&': hstr(b, "&amp;"); break;
		case '"': hstr(b, "&quot;"); break;
		case '\'': hstr(b, "&#39;"); break;
		default: hput(b, s, 1);
		}
	}
}

static const char page_style[] =
	"<style>"
	"body{font-family:system-ui,Arial,sans-serif;font-size:13px;margin:8px;color:#222;background:#fff}"
	"h1{font-size:18px;margin:4px 0}h2{font-size:15px;margin:14px 0 4px}"
	".info{color:#555;margin-bottom:8px}.msg{padding:6px;margin:6px 0;border:1px solid #888;background:#ffd}"
	".wrap{overflow-x:auto;-webkit-overflow-scrolling:touch}"
	"table.px{border-collapse:collapse;margin-bottom:6px;white-space:nowrap}"
	"table.px th{background:#446;color:#fff;font-weight:normal;padding:2px 5px}"
	"table.px td{border:1px solid #ccc;padding:2px 5px;text-align:right}"
	"table.px td.n{text-align:left;font-weight:bold}"
	"tr.fe td,tr.be td{background:#eef;font-weight:bold}"
	"td.up{background:#c0f0c0}td.nochk{background:#e0f8e0}td.down{background:#f4a0a0}"
	"td.goingdown{background:#f8e08a}td.goingup{background:#f8c888}td.maint{background:#c8b4a8}"
	"td.drain{background:#b0d0ff}td.nolb{background:#f0c0ff}td.open{background:#c0f0c0}"
	"td.up,td.nochk,td.down,td.goingdown,td.goingup,td.maint,td.drain,td.nolb,td.open{text-align:center}"
	"svg{vertical-align:middle}.legend{color:#555;margin-top:10px}"
	"</style>";

/* CSS class of a status text, for its colour. */
static const char *status_class(const char *st)
{
	if (!strncmp(st, "MAINT", 5))
		return "maint";
	if (!strncmp(st, "DRAIN", 5))
		return "drain";
	if (!strncmp(st, "NOLB", 4))
		return "nolb";
	if (!strcmp(st, "no check"))
		return "nochk";
	if (!strcmp(st, "OPEN"))
		return "open";
	if (!strncmp(st, "UP ", 3))
		return "goingdown";
	if (!strncmp(st, "DOWN ", 5))
		return "goingup";
	if (!strncmp(st, "UP", 2))
		return "up";
	return "down";
}

static void human_time(struct hbuf *b, uint64_t secs)
{
	if (secs < 60)
		hprintf(b, "%llus", (unsigned long long)secs);
	else if (secs < 3600)
		hprintf(b, "%llum%02llus", (unsigned long long)(secs / 60), (unsigned long long)(secs % 60));
	else if (secs < 86400)
		hprintf(b, "%lluh%02llum", (unsigned long long)(secs / 3600), (unsigned long long)(secs / 60 % 60));
	else
		hprintf(b, "%llud%02lluh", (unsigned long long)(secs / 86400), (unsigned long long)(secs / 3600 % 24));
}

static void cell(struct hbuf *b, const struct field *f)
{
	char tmp[64];

	hstr(b, "<td>");
	if (f->type == FT_STR)
		hesc(b, f->v.str);
	else if (f->type != FT_EMPTY) {
		stats_field_str(f, tmp, sizeof(tmp));
		hstr(b, tmp);
	}
	hstr(b, "</td>");
}

/* "a / b" in one cell, either side possibly empty. */
static void cell2(struct hbuf *b, const struct field *f1, const struct field *f2)
{
	char t1[64], t2[64];

	stats_field_str(f1, t1, sizeof(t1));
	stats_field_str(f2, t2, sizeof(t2));
	if (f1->type == FT_EMPTY && f2->type == FT_EMPTY)
		hstr(b, "<td></td>");
	else
		hprintf(b, "<td>%s / %s</td>", t1, t2);
}

static void bytes_cell(struct hbuf *b, const struct field *f)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)f->v.u;
	int u = 0;

	if (f->type == FT_EMPTY) {
		hstr(b, "<td></td>");
		return;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u)
		hprintf(b, "<td title=\"%llu\">%.1f %s</td>", (unsigned long long)f->v.u, v, unit[u]);
	else
		hprintf(b, "<td>%llu B</td>", (unsigned long long)f->v.u);
}

/* A polyline of <n> values scaled into the box, oldest on the left. */
static void polyline(struct hbuf *b, const uint32_t *v, int n, const char *color, int w, int h)
{
	uint32_t max = 1;

	for (int i = 0; i < n; i++)
		if (v[i] > max)
			max = v[i];
	hprintf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1\" points=\"", color);
	for (int i = 0; i < n; i++)
		hprintf(b, "%d,%d ", i * (w - 1) / (n - 1), h - 1 - (int)((uint64_t)v[i] * (uint64_t)(h - 2) / max));
	hstr(b, "\"/>");
}

static void sparkline(struct hbuf *b, const struct rt_history *hi)
{
	uint32_t rmax = 0, tmax = 0;

	for (int i = 0; i < RT_SPARK_SLOTS; i++) {
		rmax = hi->reqs[i] > rmax ? hi->reqs[i] : rmax;
		tmax = hi->rt_avg[i] > tmax ? hi->rt_avg[i] : tmax;
	}
	hprintf(b, "<td><svg width=\"120\" height=\"24\" viewBox=\"0 0 120 24\" role=\"img\">"
	        "<title>last %d min: up to %.1f req/s (blue), response time up to %u ms (orange)</title>"
	        "<rect width=\"120\" height=\"24\" fill=\"#f8f8f8\"/>",
	        RT_SPARK_SLOTS * RT_SPARK_SLOT_S / 60, (double)rmax / RT_SPARK_SLOT_S, tmax);
	polyline(b, hi->reqs, RT_SPARK_SLOTS, "#2a6ad0", 120, 24);
	polyline(b, hi->rt_avg, RT_SPARK_SLOTS, "#e07010", 120, 24);
	hstr(b, "</svg></td>");
}

static const char *st_message(const char *st)
{
	static const struct { const char *code, *text; } msgs[] = {
		{ "DONE", "Action processed successfully." },
		{ "PART", "Action partially processed: some servers were not changed." },
		{ "NONE", "Nothing has changed." },
		{ "ERRP", "Action not processed: invalid parameters." },
		{ "EXCD", "Action not processed: the request was too large." },
		{ "DENY", "Action denied: the page is read-only for this request." },
		{ "UNKN", "Unexpected result." },
	};
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		if (!strcmp(st, msgs[i].code))
			return msgs[i].text;
	return NULL;
}

static void page_head(const struct stats_page *pg, struct hbuf *b)
{
	const struct stats_conf *sc = pg->sc;
	time_t now = (time_t)(th_now_ms(curr_th) / 1000);
	struct tm tm;
	char date[64];

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC", &tm);
	hstr(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	        "<title>Statistics Report for proxyd");
	const char *node = sc->show_node ? (sc->node ? sc->node : stats_node_name) : NULL;
	if (node) {
		hstr(b, " on ");
		hesc(b, node);
	}
	hstr(b, "</title>");
	hstr(b, page_style);
	hstr(b, "</head><body><h1>");
	if (sc->hide_version)
		hstr(b, "proxyd statistics");
	else
		hprintf(b, "proxyd %s statistics", proxyd_version);
	hstr(b, "</h1><div class=\"info\">");
	if (node) {
		hstr(b, "Node: <b>");
		hesc(b, node);
		hstr(b, "</b> &middot; ");
	}
	const char *desc = sc->show_desc ? (sc->desc ? sc->desc : stats_description) : NULL;
	if (desc) {
		hesc(b, desc);
		hstr(b, " &middot; ");
	}
	hprintf(b, "%s &middot; up ", date);
	human_time(b, (uint64_t)now > px_start_ms() / 1000 ? (uint64_t)now - px_start_ms() / 1000 : 0);
	hprintf(b, " &middot; %d current connections", global.actconn);
	if (sc->refresh && !(pg->cur.flags & STATS_F_NOREFRESH))
		hprintf(b, " &middot; refreshed every %ds", sc->refresh);
	hstr(b, " &middot; <a href=\"");
	hesc(b, sc->uri);
	hstr(b, ";csv\">CSV</a> &middot; <a href=\"");
	hesc(b, sc->uri);
	hstr(b, ";json\">JSON</a>");
	if (sc->refresh && !(pg->cur.flags & STATS_F_NOREFRESH)) {
		hstr(b, " &middot; <a href=\"");
		hesc(b, sc->uri);
		hstr(b, ";norefresh\">stop refreshing</a>");
	}
	hstr(b, "</div>\n");
	const char *msg = pg->st[0] ? st_message(pg->st) : NULL;
	if (msg)
		hprintf(b, "<div class=\"msg\">%s</div>\n", msg);
}

static const char *const col_titles[] = {
	"Name", "Status", "Weight", "Queue cur / max", "Sessions cur / max", "Limit", "Total sessions",
	"Session rate cur / max", "Req rate", "Requests", "Bytes in", "Bytes out", "Denied req / resp",
	"Errors req / conn / resp", "Retries / redisp", "2xx / 4xx / 5xx", "Check", "Last change", "Downtime",
	"Resp. time avg", "p50 / p95 / p99 (1 min)", "Last 10 min",
};

static void table_start(const struct stats_page *pg, const struct proxy *px, struct hbuf *b)
{
	int admin = (pg->cur.flags & STATS_F_ADMIN) && (px->cap & PR_CAP_BE) && !list_empty(&px->servers);

	hstr(b, "<h2 id=\"");
	hesc(b, px->id);
	hstr(b, "\">");
	hesc(b, px->id);
	hprintf(b, " <small>(%s%s%s, %s)</small></h2>", (px->cap & PR_CAP_FE) ? "frontend" : "",
	        (px->cap & PR_CAP_FE) && (px->cap & PR_CAP_BE) ? " + " : "", (px->cap & PR_CAP_BE) ? "backend" : "",
	        px->c.mode == PR_MODE_HTTP ? "http" : "tcp");
	if (admin) {
		hstr(b, "<form method=\"post\" action=\"");
		hesc(b, pg->sc->uri);
		hstr(b, "\">");
	}
	hstr(b, "<div class=\"wrap\"><table class=\"px\"><tr>");
	if (admin)
		hstr(b, "<th></th>");
	for (size_t i = 0; i < sizeof(col_titles) / sizeof(col_titles[0]); i++)
		hprintf(b, "<th>%s</th>", col_titles[i]);
	hstr(b, "</tr>\n");
}

static void table_end(const struct stats_page *pg, const struct proxy *px, struct hbuf *b)
{
	int admin = (pg->cur.flags & STATS_F_ADMIN) && (px->cap & PR_CAP_BE) && !list_empty(&px->servers);

	hstr(b, "</table></div>");
	if (admin) {
		hprintf(b, "<div>Apply to the checked servers: <select name=\"action\">"
		        "<option value=\"\"></option>"
		        "<option value=\"ready\">Set state to READY</option>"
		        "<option value=\"drain\">Set state to DRAIN</option>"
		        "<option value=\"maint\">Set state to MAINT</option>"
		        "<option value=\"shutdown\">Kill sessions</option>"
		        "<option value=\"weight\">Set weight to</option>"
		        "</select> <input name=\"w\" size=\"4\" placeholder=\"weight\" inputmode=\"numeric\"> "
		        "<input type=\"hidden\" name=\"b\" value=\"#%d\"><input type=\"submit\" value=\"Apply\">"
		        "</div></form>", px->uuid);
	}
	hstr(b, "\n");
}

static void row_html(const struct stats_page *pg, const struct stats_row *r, struct hbuf *b, uint64_t now)
{
	const struct field *f = r->f;
	int admin = (pg->cur.flags & STATS_F_ADMIN) && (r->px->cap & PR_CAP_BE) && !list_empty(&r->px->servers);
	char t[3][32];

	hprintf(b, "<tr class=\"%s\">", r->obj == STATS_FE ? "fe" : r->obj == STATS_BE ? "be" : "srv");
	if (admin) {
		if (r->obj == STATS_SRV) {
			hstr(b, "<td><input type=\"checkbox\" name=\"s\" value=\"");
			hesc(b, r->srv->id);
			hstr(b, "\"></td>");
		} else {
			hstr(b, "<td></td>");
		}
	}
	hstr(b, "<td class=\"n\">");
	hesc(b, f[ST_F_SVNAME].v.str);
	hstr(b, "</td>");
	const char *st = f[ST_F_STATUS].type == FT_STR ? f[ST_F_STATUS].v.str : "";
	hprintf(b, "<td class=\"%s\">", status_class(st));
	hesc(b, st);
	hstr(b, "</td>");
	cell(b, &f[ST_F_WEIGHT]);
	cell2(b, &f[ST_F_QCUR], &f[ST_F_QMAX]);
	cell2(b, &f[ST_F_SCUR], &f[ST_F_SMAX]);
	cell(b, &f[ST_F_SLIM]);
	cell(b, &f[ST_F_STOT]);
	cell2(b, &f[ST_F_RATE], &f[ST_F_RATE_MAX]);
	cell(b, &f[ST_F_REQ_RATE]);
	cell(b, &f[ST_F_REQ_TOT]);
	bytes_cell(b, &f[ST_F_BIN]);
	bytes_cell(b, &f[ST_F_BOUT]);
	cell2(b, &f[ST_F_DREQ], &f[ST_F_DRESP]);
	stats_field_str(&f[ST_F_EREQ], t[0], sizeof(t[0]));
	stats_field_str(&f[ST_F_ECON], t[1], sizeof(t[1]));
	stats_field_str(&f[ST_F_ERESP], t[2], sizeof(t[2]));
	hprintf(b, "<td>%s / %s / %s</td>", t[0], t[1], t[2]);
	cell2(b, &f[ST_F_WRETR], &f[ST_F_WREDIS]);
	stats_field_str(&f[ST_F_HRSP_2XX], t[0], sizeof(t[0]));
	stats_field_str(&f[ST_F_HRSP_4XX], t[1], sizeof(t[1]));
	stats_field_str(&f[ST_F_HRSP_5XX], t[2], sizeof(t[2]));
	if (f[ST_F_HRSP_2XX].type == FT_EMPTY)
		hstr(b, "<td></td>");
	else
		hprintf(b, "<td>%s / %s / %s</td>", t[0], t[1], t[2]);
	/* check: status, code, duration, with the description as a tooltip */
	if (f[ST_F_CHECK_STATUS].type == FT_STR) {
		hstr(b, "<td title=\"");
		hesc(b, f[ST_F_CHECK_DESC].type == FT_STR ? f[ST_F_CHECK_DESC].v.str : "");
		if (f[ST_F_LAST_CHK].type == FT_STR) {
			hstr(b, ": ");
			hesc(b, f[ST_F_LAST_CHK].v.str);
		}
		hstr(b, "\">");
		hesc(b, f[ST_F_CHECK_STATUS].v.str);
		if (f[ST_F_CHECK_CODE].type != FT_EMPTY)
			hprintf(b, "/%llu", (unsigned long long)f[ST_F_CHECK_CODE].v.u);
		if (f[ST_F_CHECK_DURATION].type != FT_EMPTY)
			hprintf(b, " in %llums", (unsigned long long)f[ST_F_CHECK_DURATION].v.u);
		hstr(b, "</td>");
	} else {
		hstr(b, r->obj == STATS_SRV ? "<td>no check</td>" : "<td></td>");
	}
	if (f[ST_F_LASTCHG].type != FT_EMPTY) {
		hstr(b, "<td>");
		human_time(b, f[ST_F_LASTCHG].v.u);
		hstr(b, "</td>");
	} else {
		hstr(b, "<td></td>");
	}
	if (f[ST_F_DOWNTIME].type != FT_EMPTY) {
		hstr(b, "<td>");
		human_time(b, f[ST_F_DOWNTIME].v.u);
		hstr(b, "</td>");
	} else {
		hstr(b, "<td></td>");
	}
	if (f[ST_F_RTIME].type != FT_EMPTY)
		hprintf(b, "<td>%llu ms</td>", (unsigned long long)f[ST_F_RTIME].v.u);
	else
		hstr(b, "<td></td>");
	if (f[ST_F_RT_P50].type != FT_EMPTY)
		hprintf(b, "<td>%llu / %llu / %llu ms</td>", (unsigned long long)f[ST_F_RT_P50].v.u,
		        (unsigned long long)f[ST_F_RT_P95].v.u, (unsigned long long)f[ST_F_RT_P99].v.u);
	else
		hstr(b, "<td></td>");
	if (r->obj == STATS_FE) {
		hstr(b, "<td></td>");
	} else {
		struct rt_history hi;
		if (r->obj == STATS_SRV)
			srv_history(r->srv, now, &hi);
		else
			be_history(r->px, now, &hi);
		sparkline(b, &hi);
	}
	hstr(b, "</tr>\n");
}

static void page_foot(const struct stats_page *pg, struct hbuf *b)
{
	if (pg->sc->show_legends)
		hstr(b, "<div class=\"legend\">Status colours: "
		        "<span style=\"background:#c0f0c0\">UP</span> "
		        "<span style=\"background:#f8e08a\">UP, going down</span> "
		        "<span style=\"background:#f8c888\">DOWN, going up</span> "
		        "<span style=\"background:#f4a0a0\">DOWN</span> "
		        "<span style=\"background:#b0d0ff\">DRAIN</span> "
		        "<span style=\"background:#f0c0ff\">NOLB</span> "
		        "<span style=\"background:#c8b4a8\">MAINT</span> "
		        "<span style=\"background:#e0f8e0\">no check</span>. "
		        "Sparklines: requests per second (blue) and average response time (orange), "
		        "one point per 10 seconds.</div>\n");
	hstr(b, "</body></html>\n");
}

enum { H_HEAD = 0, H_ROWS, H_END, H_DONE };

int stats_html_dump(struct stats_page *pg, stats_write_fn write, void *arg)
{
	static __thread char area[16384];   /* one unit of the page */
	struct stats_row row;
	uint64_t now = th_now_ms(curr_th);

	if (pg->html_phase == H_HEAD) {
		struct hbuf b = { area, 0, sizeof(area), 0 };
		page_head(pg, &b);
		if (b.overflow || write(arg, b.p, b.len) < 0)
			return 0;
		pg->html_phase = H_ROWS;
	}
	while (pg->html_phase == H_ROWS) {
		struct stats_cursor save = pg->cur;
		enum stats_obj obj;
		const struct proxy *px;
		const struct server *srv;
		struct hbuf b = { area, 0, sizeof(area), 0 };
		if (!stats_next_row(&pg->cur, &obj, &px, &srv)) {
			pg->html_phase = H_END;
			break;
		}
		if (px != pg->table_px) {
			if (pg->table_px)
				table_end(pg, pg->table_px, &b);
			table_start(pg, px, &b);
		}
		stats_fill(&row, obj, px, srv, pg->cur.flags, now);
		row_html(pg, &row, &b, now);
		if (b.overflow || write(arg, b.p, b.len) < 0) {
			pg->cur = save;
			return 0;
		}
		pg->table_px = px;
	}
	if (pg->html_phase == H_END) {
		struct hbuf b = { area, 0, sizeof(area), 0 };
		if (pg->table_px)
			table_end(pg, pg->table_px, &b);
		page_foot(pg, &b);
		if (b.overflow || write(arg, b.p, b.len) < 0)
			return 0;
		pg->html_phase = H_DONE;
	}
	return 1;
}
