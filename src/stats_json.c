/* The stats rows as JSON, in the shape of HAProxy's "show stat json": an
 * array with one array per row, holding one object per non-empty field:
 *   {"objType":"Server","proxyId":4,"id":1,"field":{"pos":17,"name":"status"},
 *    "processNum":1,"tags":{"origin":"Status","nature":"Output","scope":"Process"},
 *    "value":{"type":"str","value":"UP"}}
 * proxyd's own columns follow HAProxy's, with their positions. The tags
 * are derived from the column's nature; HAProxy's finer distinctions
 * (Max, Rate, Age, Duration...) are not all reproduced. */
#include <stdio.h>
#include <string.h>

#include <proxyd/proxy.h>
#include <proxyd/server.h>
#include <proxyd/stats.h>
#include <proxyd/thread.h>

static const char *const obj_names[] = { "Frontend", "Backend", "Server" };

/* JSON string escaping of <s> into dst; 0 when it does not fit. */
static size_t json_str(const char *s, char *dst, size_t room)
{
	size_t n = 0;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (n + 7 > room)
			return 0;
		if (ch == '"' || ch == '\\') {
			dst[n++] = '\\';
			dst[n++] = (char)ch;
		} else if (ch < 0x20) {
			n += (size_t)snprintf(dst + n, room - n, "\\u%04x", ch);
		} else {
			dst[n++] = (char)ch;
		}
	}
	return n;
}

static size_t json_field(const struct stats_row *row, int i, int first, char *dst, size_t room)
{
	const struct field *f = &row->f[i];
	const struct stat_col *col = &stat_cols[i];
	int key = i == ST_F_PXNAME || i == ST_F_SVNAME || i == ST_F_PID || i == ST_F_IID || i == ST_F_SID;
	const char *origin = key ? "Key" : i == ST_F_STATUS || i == ST_F_ACT || i == ST_F_BCK ? "Status" :
	                     col->nature == FN_OTHER ? "Config" : "Metric";
	const char *nature = i == ST_F_PXNAME || i == ST_F_SVNAME ? "Name" :
	                     col->nature == FN_COUNTER ? "Counter" : col->nature == FN_GAUGE ? "Gauge" : "Output";
	char val[600];
	size_t vl;

	if (f->type == FT_STR) {
		val[0] = '"';
		vl = json_str(f->v.str ? f->v.str : "", val + 1, sizeof(val) - 2);
		val[++vl] = '"';
		vl++;
	} else {
		vl = stats_field_str(f, val, sizeof(val));
	}
	const char *type = f->type == FT_STR ? "str" : f->type == FT_S64 ? "s64" :
	                   col->nature == FN_COUNTER ? "u64" : "u32";
	int n = snprintf(dst, room,
	                 "%s{\"objType\":\"%s\",\"proxyId\":%d,\"id\":%d,\"field\":{\"pos\":%d,\"name\":\"%s\"},"
	                 "\"processNum\":1,\"tags\":{\"origin\":\"%s\",\"nature\":\"%s\",\"scope\":\"%s\"},"
	                 "\"value\":{\"type\":\"%s\",\"value\":%.*s}}",
	                 first ? "" : ",", obj_names[row->obj], row->px->uuid, row->srv ? row->srv->puid : 0, i,
	                 col->name, origin, nature, key && i != ST_F_PID ? "Service" : "Process", type, (int)vl, val);
	return n < 0 || (size_t)n >= room ? 0 : (size_t)n;
}

/* Phases of a JSON dump. */
enum { JS_OPEN = 0, JS_ROWS, JS_DONE };

/* A row of ~120 fields is ~30 KB of JSON, more than a buffer: rows are
 * written field by field, and a row is filled again when the dump resumes
 * in its middle (the values may have moved on meanwhile, which a reader
 * polling live counters cannot tell from a later read). */
int stats_json_dump(struct stats_cursor *c, stats_write_fn write, void *arg)
{
	struct stats_row row;
	uint64_t now = th_now_ms(curr_th);
	char out[1200];

	if (c->phase == JS_OPEN) {
		if (write(arg, "[", 1) < 0)
			return 0;
		c->phase = JS_ROWS;
	}
	while (c->phase == JS_ROWS) {
		if (!c->in_row) {
			enum stats_obj obj;
			const struct proxy *px;
			const struct server *srv;
			struct stats_cursor save = *c;
			if (!stats_next_row(c, &obj, &px, &srv)) {
				c->phase = JS_DONE;
				break;
			}
			if (write(arg, c->sub2 ? ",[" : "[", c->sub2 ? 2 : 1) < 0) {
				*c = save;
				return 0;
			}
			c->sub2 = 1;
			c->in_row = 1;
			c->robj = (unsigned char)obj;
			c->rpx = px;
			c->rsrv = srv;
			c->field = 0;
		}
		stats_fill(&row, (enum stats_obj)c->robj, c->rpx, c->rsrv, c->flags, now);
		int end = (c->flags & STATS_F_NO_EXT) ? ST_F_HAPROXY_END : ST_F_TOTAL;
		for (; c->field < end; c->field++) {
			int i = c->field;
			if (row.f[i].type == FT_EMPTY)
				continue;
			/* the first non-empty field has no comma before it */
			int first = 1;
			for (int j = 0; j < i; j++)
				if (row.f[j].type != FT_EMPTY) {
					first = 0;
					break;
				}
			size_t w = json_field(&row, i, first, out, sizeof(out));
			if (w && write(arg, out, w) < 0)
				return 0;
		}
		if (write(arg, "]\n", 2) < 0)
			return 0;
		c->in_row = 0;
	}
	if (write(arg, "]\n", 2) < 0)
		return 0;
	return 1;
}
