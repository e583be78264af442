/* HAProxy's stats CSV: "# " and the column names, then one line per row,
 * every line ending with a comma. Tools read the columns by position,
 * so the order comes from the one column table (stats.c) and nothing
 * else. The dump writes whole lines through a callback, which lets the
 * HTTP page and the admin socket each bring their own buffer. */
#include <string.h>

#include <proxyd/global.h>
#include <proxyd/stats.h>
#include <proxyd/thread.h>

static size_t ncols(unsigned flags)
{
	return (flags & STATS_F_NO_EXT) ? ST_F_HAPROXY_END : ST_F_TOTAL;
}

size_t stats_csv_header(unsigned flags, char *dst, size_t size)
{
	size_t n = 0;

	if (size < 3)
		return 0;
	memcpy(dst, "# ", 2);
	n = 2;
	for (size_t i = 0; i < ncols(flags); i++) {
		size_t l = strlen(stat_cols[i].name);
		if (n + l + 2 > size)
			return 0;
		memcpy(dst + n, stat_cols[i].name, l);
		n += l;
		dst[n++] = ',';
	}
	dst[n++] = '\n';
	return n;
}

/* A value is quoted only when a comma or a quote would make it ambiguous;
 * quotes inside are doubled, as HAProxy does. */
static size_t put_value(const char *v, size_t vl, char *dst, size_t room)
{
	if (!memchr(v, ',', vl) && !memchr(v, '"', vl)) {
		if (vl > room)
			return (size_t)-1;
		memcpy(dst, v, vl);
		return vl;
	}
	size_t n = 0;
	if (n + 1 > room)
		return (size_t)-1;
	dst[n++] = '"';
	for (size_t i = 0; i < vl; i++) {
		if (n + 2 > room)
			return (size_t)-1;
		if (v[i] == '"')
			dst[n++] = '"';
		dst[n++] = v[i];
	}
	if (n + 1 > room)
		return (size_t)-1;
	dst[n++] = '"';
	return n;
}

size_t stats_csv_line(const struct stats_row *row, unsigned flags, char *dst, size_t size)
{
	size_t n = 0;
	char tmp[64];

	for (size_t i = 0; i < ncols(flags); i++) {
		const struct field *f = &row->f[i];
		const char *v = tmp;
		size_t vl;
		if (f->type == FT_STR) {
			v = f->v.str ? f->v.str : "";
			vl = strlen(v);
		} else {
			vl = stats_field_str(f, tmp, sizeof(tmp));
		}
		size_t w = put_value(v, vl, dst + n, size - n);
		if (w == (size_t)-1 || n + w + 2 > size)
			return 0;
		n += w;
		dst[n++] = ',';
	}
	dst[n++] = '\n';
	return n;
}

/* Phases of a CSV dump (stats_cursor.phase). */
enum { CSV_HEADER = 0, CSV_ROWS };

int stats_csv_dump(struct stats_cursor *c, stats_write_fn write, void *arg)
{
	char line[4096];
	struct stats_row row;
	uint64_t now = th_now_ms(curr_th);

	if (c->phase == CSV_HEADER) {
		size_t n = stats_csv_header(c->flags, line, sizeof(line));
		if (write(arg, line, n) < 0)
			return 0;
		c->phase = CSV_ROWS;
	}
	for (;;) {
		struct stats_cursor save = *c;
		enum stats_obj obj;
		const struct proxy *px;
		const struct server *srv;
		if (!stats_next_row(c, &obj, &px, &srv))
			return 1;
		stats_fill(&row, obj, px, srv, c->flags, now);
		size_t n = stats_csv_line(&row, c->flags, line, sizeof(line));
		if (!n)
			continue;   /* cannot happen with 4 KiB lines: skip rather than loop */
		if (write(arg, line, n) < 0) {
			*c = save;   /* this row again next time */
			return 0;
		}
	}
}
