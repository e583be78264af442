/* HAProxy's "typed" statistics output ("show stat typed"): one line per
 * non-empty field of a row,
 *   <F|B|S>.<iid>.<sid>.<column>.<name>.<process>:<tags>:<type>:<value>
 * where the tags are the field's origin (Metric, Status, Key, Config,
 * Product), nature (Name, Gauge, Max, Limit, Counter, Rate, Age, avg,
 * Duration, Output) and scope (Process, Service), as HAProxy 2.6.12
 * prints them (taken column by column from its output: it knows more
 * distinctions than the CSV needs). Only HAProxy's columns are shown. */
#include <stdio.h>
#include <string.h>

#include <proxyd/proxy.h>
#include <proxyd/server.h>
#include <proxyd/stats.h>

struct typed_tags {
	const char *tags, *type;          /* frontends and servers */
	const char *be_tags, *be_type;    /* backends (a few columns differ) */
};

/* by HAProxy's typed position: the CSV's columns without its "-" */
static const struct typed_tags typed_cols[ST_F_HAPROXY_END - 1] = {
	{ "KNS", "str", "KNS", "str" },
	{ "KNS", "str", "KNS", "str" },
	{ "MGP", "u32", "MGP", "u32" },
	{ "MMP", "u32", "MMP", "u32" },
	{ "MGP", "u32", "MGP", "u32" },
	{ "MMP", "u32", "MMP", "u32" },
	{ "CLP", "u32", "CLP", "u32" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "SGP", "str", "SGP", "str" },
	{ "MaP", "u32", "MaP", "u32" },
	{ "SGP", "u32", "MGP", "u32" },
	{ "SGP", "u32", "MGP", "u32" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MAP", "u32", "MAP", "u32" },
	{ "MCP", "u32", "MCP", "u32" },
	{ "CGS", "u32", "CGS", "u32" },
	{ "KGP", "u32", "KGP", "u32" },
	{ "KGS", "u32", "KGS", "u32" },
	{ "KGS", "u32", "KGS", "u32" },
	{ "MaP", "u32", "MaP", "u32" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "CNS", "str", "CNS", "str" },
	{ "CGS", "u32", "CGS", "u32" },
	{ "MRP", "u32", "MGP", "u32" },
	{ "CLP", "u32", "CLP", "u32" },
	{ "MMP", "u32", "MGP", "u32" },
	{ "MOP", "str", "MOP", "str" },
	{ "MOP", "u32", "MOP", "u32" },
	{ "MDP", "u64", "MDP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MRP", "u32", "MRP", "u32" },
	{ "MMP", "u32", "MMP", "u32" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MAP", "s32", "MAP", "s32" },
	{ "MOP", "str", "MOP", "str" },
	{ "MOP", "str", "MOP", "str" },
	{ "MaP", "u32", "MaP", "u32" },
	{ "MaP", "u32", "MaP", "u32" },
	{ "MaP", "u32", "MaP", "u32" },
	{ "MaP", "u32", "MaP", "u32" },
	{ "MOP", "str", "MOP", "str" },
	{ "MOP", "u32", "MOP", "u32" },
	{ "MDP", "u64", "MDP", "u64" },
	{ "MOP", "str", "MOP", "str" },
	{ "MOP", "str", "MOP", "str" },
	{ "CGS", "u32", "CGS", "u32" },
	{ "CGS", "u32", "CGS", "u32" },
	{ "CGS", "u32", "CGS", "u32" },
	{ "CGS", "u32", "CGS", "u32" },
	{ "CGS", "u32", "CGS", "u32" },
	{ "CGS", "u32", "CGS", "u32" },
	{ "CGS", "str", "CGS", "str" },
	{ "CNS", "str", "CNS", "str" },
	{ "CGS", "str", "CGS", "str" },
	{ "CGS", "str", "CGS", "str" },
	{ "MRP", "u32", "MRP", "u32" },
	{ "MMP", "u32", "MMP", "u32" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MGP", "u32", "MGP", "u32" },
	{ "CLP", "u32", "CLP", "u32" },
	{ "MMP", "u32", "MMP", "u32" },
	{ "MMP", "u32", "MMP", "u32" },
	{ "MMP", "u32", "MMP", "u32" },
	{ "MMP", "u32", "MMP", "u32" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MGP", "u32", "MGP", "u32" },
	{ "MGP", "u32", "MGP", "u32" },
	{ "MGP", "u32", "MGP", "u32" },
	{ "MGP", "u32", "MGP", "u32" },
	{ "MaP", "u32", "MaP", "u32" },
	{ "MGP", "u32", "MGP", "u32" },
	{ "MGP", "u32", "MGP", "u32" },
	{ "MGP", "u32", "MGP", "u32" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MGP", "u64", "MGP", "u64" },
	{ "MGP", "u64", "MGP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MGP", "u64", "MGP", "u64" },
	{ "MGP", "u64", "MGP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
	{ "MCP", "u64", "MCP", "u64" },
};

size_t stats_typed_line(const struct stats_row *row, int col, char *dst, size_t size)
{
	const struct field *f = &row->f[col];
	char val[512];
	int n;

	/* HAProxy numbers its module columns (SSL, H2, H1) right after its
	 * own, without the CSV's "-" separator */
	if (col >= ST_F_HAPROXY_END || col == ST_F_SEPARATOR || f->type == FT_EMPTY)
		return 0;
	int pos = col > ST_F_SEPARATOR ? col - 1 : col;
	const struct typed_tags *t = &typed_cols[pos];
	if (f->type == FT_STR)
		snprintf(val, sizeof(val), "%s", f->v.str ? f->v.str : "");
	else
		stats_field_str(f, val, sizeof(val));
	int be = row->obj == STATS_BE;
	n = snprintf(dst, size, "%c.%d.%d.%d.%s.1:%s:%s:%s\n", row->obj == STATS_FE ? 'F' : be ? 'B' : 'S',
	             row->px->uuid, row->obj == STATS_SRV ? row->srv->puid : 0, pos, stat_cols[col].name,
	             be ? t->be_tags : t->tags, be ? t->be_type : t->type, val);
	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}
