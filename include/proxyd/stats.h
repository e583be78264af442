/* Statistics: one row of fields per frontend, server and backend, in
 * HAProxy's order and with HAProxy's names, filled from the counters
 * (summed over threads) and the live rates. Every output — CSV, JSON,
 * the HTML page, Prometheus, the admin socket — indexes this one table
 * instead of knowing where a value comes from. */
#ifndef PROXYD_STATS_H
#define PROXYD_STATS_H

#include <stddef.h>
#include <stdint.h>

struct proxy;
struct server;
struct stream;

/* HAProxy 2.6.12's columns, in order (never reorder: tools read them by
 * position), then the per-module columns HAProxy prints after "-", then
 * proxyd's own. */
enum stat_field {
	ST_F_PXNAME, ST_F_SVNAME, ST_F_QCUR, ST_F_QMAX, ST_F_SCUR, ST_F_SMAX, ST_F_SLIM, ST_F_STOT,
	ST_F_BIN, ST_F_BOUT, ST_F_DREQ, ST_F_DRESP, ST_F_EREQ, ST_F_ECON, ST_F_ERESP, ST_F_WRETR,
	ST_F_WREDIS, ST_F_STATUS, ST_F_WEIGHT, ST_F_ACT, ST_F_BCK, ST_F_CHKFAIL, ST_F_CHKDOWN,
	ST_F_LASTCHG, ST_F_DOWNTIME, ST_F_QLIMIT, ST_F_PID, ST_F_IID, ST_F_SID, ST_F_THROTTLE,
	ST_F_LBTOT, ST_F_TRACKED, ST_F_TYPE, ST_F_RATE, ST_F_RATE_LIM, ST_F_RATE_MAX,
	ST_F_CHECK_STATUS, ST_F_CHECK_CODE, ST_F_CHECK_DURATION, ST_F_HRSP_1XX, ST_F_HRSP_2XX,
	ST_F_HRSP_3XX, ST_F_HRSP_4XX, ST_F_HRSP_5XX, ST_F_HRSP_OTHER, ST_F_HANAFAIL, ST_F_REQ_RATE,
	ST_F_REQ_RATE_MAX, ST_F_REQ_TOT, ST_F_CLI_ABRT, ST_F_SRV_ABRT, ST_F_COMP_IN, ST_F_COMP_OUT,
	ST_F_COMP_BYP, ST_F_COMP_RSP, ST_F_LASTSESS, ST_F_LAST_CHK, ST_F_LAST_AGT, ST_F_QTIME,
	ST_F_CTIME, ST_F_RTIME, ST_F_TTIME, ST_F_AGENT_STATUS, ST_F_AGENT_CODE, ST_F_AGENT_DURATION,
	ST_F_CHECK_DESC, ST_F_AGENT_DESC, ST_F_CHECK_RISE, ST_F_CHECK_FALL, ST_F_CHECK_HEALTH,
	ST_F_AGENT_RISE, ST_F_AGENT_FALL, ST_F_AGENT_HEALTH, ST_F_ADDR, ST_F_COOKIE, ST_F_MODE,
	ST_F_ALGO, ST_F_CONN_RATE, ST_F_CONN_RATE_MAX, ST_F_CONN_TOT, ST_F_INTERCEPTED, ST_F_DCON,
	ST_F_DSES, ST_F_WREW, ST_F_CONNECT, ST_F_REUSE, ST_F_CACHE_LOOKUPS, ST_F_CACHE_HITS,
	ST_F_SRV_ICUR, ST_F_SRV_ILIM, ST_F_QT_MAX, ST_F_CT_MAX, ST_F_RT_MAX, ST_F_TT_MAX, ST_F_EINT,
	ST_F_IDLE_CONN_CUR, ST_F_SAFE_CONN_CUR, ST_F_USED_CONN_CUR, ST_F_NEED_CONN_EST, ST_F_UWEIGHT,
	ST_F_AGG_SRV_STATUS, ST_F_AGG_SRV_CHECK_STATUS, ST_F_AGG_CHECK_STATUS,
	ST_F_SEPARATOR,          /* "-": the end of HAProxy's fixed columns */
	/* HAProxy's module columns (SSL, H2, H1), kept so that the header is
	 * HAProxy's byte for byte */
	ST_F_SSL_SESS, ST_F_SSL_REUSED_SESS, ST_F_SSL_FAILED_HANDSHAKE,
	ST_F_H2_HEADERS_RCVD, ST_F_H2_DATA_RCVD, ST_F_H2_SETTINGS_RCVD, ST_F_H2_RST_STREAM_RCVD,
	ST_F_H2_GOAWAY_RCVD, ST_F_H2_CONN_PROTO_ERR, ST_F_H2_STRM_PROTO_ERR, ST_F_H2_RST_STREAM_RESP,
	ST_F_H2_GOAWAY_RESP, ST_F_H2_OPEN_CONNECTIONS, ST_F_H2_BACKEND_OPEN_STREAMS,
	ST_F_H2_TOTAL_CONNECTIONS, ST_F_H2_BACKEND_TOTAL_STREAMS,
	ST_F_H1_OPEN_CONNECTIONS, ST_F_H1_OPEN_STREAMS, ST_F_H1_TOTAL_CONNECTIONS,
	ST_F_H1_TOTAL_STREAMS, ST_F_H1_BYTES_IN, ST_F_H1_BYTES_OUT, ST_F_H1_SPLICED_BYTES_IN,
	ST_F_H1_SPLICED_BYTES_OUT,
	ST_F_HAPROXY_END,        /* columns before this one are HAProxy's */
	/* proxyd's: response-time percentiles over the last minute */
	ST_F_RT_P50 = ST_F_HAPROXY_END, ST_F_RT_P95, ST_F_RT_P99,
	ST_F_TOTAL
};

enum field_type {
	FT_EMPTY = 0,   /* not applicable: an empty CSV field */
	FT_U64,
	FT_S64,
	FT_STR,
};

/* What a number means, for Prometheus and typed outputs. */
enum field_nature {
	FN_GAUGE = 0,
	FN_COUNTER,
	FN_OTHER,       /* names, texts, identifiers, limits */
};

struct field {
	unsigned char type;      /* FT_* */
	union {
		uint64_t u;
		int64_t s;
		const char *str;
	} v;
};

struct stat_col {
	const char *name;        /* CSV header name */
	const char *desc;
	unsigned char nature;    /* FN_* */
};

extern const struct stat_col stat_cols[ST_F_TOTAL];

/* Row kinds, with the "type" column's values. */
enum stats_obj { STATS_FE = 0, STATS_BE = 1, STATS_SRV = 2 };

/* What a reader may see and which rows it wants. */
enum {
	STATS_F_LEGENDS  = 1 << 0,   /* addr, cookie, algo (admin socket, "stats show-legends") */
	STATS_F_UP       = 1 << 1,   /* ";up": servers that are up only */
	STATS_F_NO_MAINT = 1 << 2,   /* ";no-maint": no server in maintenance */
	STATS_F_NO_EXT   = 1 << 3,   /* HAProxy's columns only (no proxyd columns) */
	STATS_F_ADMIN    = 1 << 4,   /* the HTML page shows the admin form */
	STATS_F_NOREFRESH = 1 << 5,
	STATS_F_HIDE_VER = 1 << 6,
};

/* A row's fields, with room for the texts built for it. */
struct stats_row {
	enum stats_obj obj;
	const struct proxy *px;
	const struct server *srv;
	struct field f[ST_F_TOTAL];
	char text[512];
	size_t text_used;
};

/* Fills <row> for a frontend, a backend or a server at <now_ms>. */
void stats_fill_fe(struct stats_row *row, const struct proxy *px, unsigned flags, uint64_t now_ms);
void stats_fill_be(struct stats_row *row, const struct proxy *px, unsigned flags, uint64_t now_ms);
void stats_fill_srv(struct stats_row *row, const struct server *srv, unsigned flags, uint64_t now_ms);

/* Fills <row> for what stats_next_row() returned. */
void stats_fill(struct stats_row *row, enum stats_obj obj, const struct proxy *px, const struct server *srv,
                unsigned flags, uint64_t now_ms);

/* Where a dump is: resumed from there once the reader has room again.
 * Proxies never go away, and a deleted server stays in memory, still
 * linked to the server that followed it, so pointers stay valid. */
struct stats_cursor {
	unsigned char phase;     /* what comes next (owned by the output) */
	unsigned char sub;
	unsigned char sub2;      /* free for the output (e.g. "a row was written") */
	unsigned short flags;    /* STATS_F_* */
	const struct proxy *px;  /* current proxy */
	const struct server *srv;/* next server, NULL: none left */
	const struct stats_conf *scope;  /* "stats scope" filters, or NULL */
	/* a row being written field by field (JSON): which one, and where */
	const struct proxy *rpx;
	const struct server *rsrv;
	unsigned char robj;
	unsigned char in_row;
	unsigned short field;
};

/* Steps <c> to the next row to show: 1 with <obj>, <px> and <srv> set,
 * 0 when there are none left. The order is HAProxy's: proxies in
 * configuration order, each as FRONTEND, servers, BACKEND. */
int stats_next_row(struct stats_cursor *c, enum stats_obj *obj, const struct proxy **px,
                   const struct server **srv);
void stats_cursor_init(struct stats_cursor *c, unsigned flags, const struct stats_conf *scope);

/* Writer callback of the dumps: takes <len> bytes or none; returns 0 when
 * taken, -1 when there is no room now (the dump stops and resumes at the
 * same line next time). */
typedef int (*stats_write_fn)(void *arg, const char *data, size_t len);

/* HAProxy's CSV ("show stat", "<uri>;csv"): the header line, then one
 * line per row. Returns 1 when everything was written, 0 when the writer
 * ran out of room (call again with the same cursor). */
int stats_csv_dump(struct stats_cursor *c, stats_write_fn write, void *arg);
/* One CSV line for <row> into <dst> (at most <size> bytes); its length,
 * or 0 when it does not fit. */
size_t stats_csv_line(const struct stats_row *row, unsigned flags, char *dst, size_t size);
size_t stats_csv_header(unsigned flags, char *dst, size_t size);
/* HAProxy's typed line for column <col> of <row> ("show stat typed"):
 * its length, 0 for an empty field (no line) or no room. */
size_t stats_typed_line(const struct stats_row *row, int col, char *dst, size_t size);
/* The same rows as JSON, as HAProxy's "show stat json". */
int stats_json_dump(struct stats_cursor *c, stats_write_fn write, void *arg);

/* Formats a field as CSV shows it (no quoting). */
size_t stats_field_str(const struct field *f, char *dst, size_t size);

/* Settings of a "stats" page, shared by the proxies that inherit them. */
struct stats_user {
	const char *user, *pass;
	size_t ulen, plen;
};

struct stats_scope {
	const char *name;
};

struct stats_conf {
	int enabled;
	const char *uri;         /* prefix the request URI must start with */
	size_t uri_len;
	const char *realm;       /* NULL: "HAProxy Statistics" */
	struct stats_user *users;
	int nb_users;
	int refresh;             /* seconds, 0: none */
	int hide_version;
	int show_legends;
	const char *node;        /* stats show-node: NULL none, "" the global node */
	const char *desc;        /* stats show-desc: NULL none, "" the global description */
	int show_node, show_desc;
	const char **scopes;     /* proxy names the page shows; none: all */
	int nb_scopes;
	struct cond *admin;      /* "stats admin if/unless": NULL none */
	int admin_set;
};

/* Does the scope of <sc> include proxy <px>? */
int stats_in_scope(const struct stats_conf *sc, const struct proxy *px);
/* The stats page: when the request targets <px>'s stats URI, starts the
 * page service and returns 1. Called after the proxy's http-request rules. */
int stats_http_intercept(struct stream *s, struct proxy *px);

/* global "node" and "description" */
extern const char *stats_node_name;
extern const char *stats_description;

#endif
