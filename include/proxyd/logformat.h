/* Log-format strings: literal text mixed with "%[sample expression]" and
 * "%var" items, as HAProxy writes them in log-format lines and in the
 * values of rule actions ("http-request set-header X-IP %[src]"). A format
 * is compiled once at load time and rendered per stream into a buffer. */
#ifndef PROXYD_LOGFORMAT_H
#define PROXYD_LOGFORMAT_H

#include <stddef.h>

#include <proxyd/registry.h>

struct stream;
struct sample_expr;

/* Options in %{+Q,-X}: */
enum {
	LF_OPT_QUOTE = 1 << 0,     /* +Q: double-quote strings */
	LF_OPT_HEX   = 1 << 1,     /* +X: integers in hexadecimal */
	LF_OPT_ESC   = 1 << 2,     /* +E: backslash before '"', '\\' and ']' (RFC 5424 values) */
	LF_OPT_JSON  = 1 << 3,     /* internal: a JSON string (quoted, escaped) */
};

/* A %variable: writes its value into dst (at most size bytes), returns
 * the length written, or -1 when it has no value ("-" is written then). */
struct lf_var {
	const char *name;
	int (*fn)(struct stream *s, char *dst, size_t size, unsigned opts);
	unsigned use;              /* SMP_USE_* it needs */
	unsigned flags;            /* LFV_* */
};
/* The captures (%hr, %hs, %hrl, %hsl) write nothing at all when there is
 * nothing captured, and then do not count as an item between two blanks:
 * HAProxy's lines keep a single blank there. */
#define LFV_MAY_VANISH 1u
extern struct registry lf_vars;
#define LF_VAR_REGISTER(tbl) REGISTER_TABLE(lf_vars, tbl)

enum lf_type { LF_TEXT = 0, LF_EXPR, LF_VAR };

struct lf_node {
	enum lf_type type;
	unsigned opts;
	const char *text;          /* LF_TEXT */
	size_t len;
	const struct sample_expr *expr;  /* LF_EXPR */
	const struct lf_var *var;        /* LF_VAR */
};

struct logformat {
	int nb;
	struct lf_node *nodes;
	unsigned use;              /* SMP_USE_* of everything it reads */
	int is_const;              /* plain text, no item */
	int http;                  /* the value of an HTTP action: see logformat_set_http() */
	unsigned flags;            /* LF_F_* */
};
/* The format prints the local address of the server connection (%bi, %bp):
 * it is kept when that connection closes before the line is built. */
#define LF_F_BSRC 1u

/* Compiles <fmt>. 0, or -1 with the reason in <err>. */
int logformat_parse(const char *fmt, struct logformat *lf, char *err, size_t errlen);
enum {
	LF_EMPTY_MISSING = 1 << 0,   /* a missing sample renders as nothing (values), not "-" (logs) */
	LF_LOG_LINE      = 1 << 1,   /* a log line: runs of blanks are one separator */
};

/* Renders <lf> for <s> into dst; returns the length (truncated to size).
 * <dst> must not be a scratch buffer from smp_trash(). */
size_t logformat_build(const struct logformat *lf, struct stream *s, char *dst, size_t size, unsigned flags);
/* Marks <lf> as the value of an HTTP action (a header, a URI part, a
 * redirect location), rendered as HAProxy does there: a sample without a
 * value gives nothing (not "-"), %{...} options do not apply, and control
 * characters (0x00-0x08, 0x0a-0x1f, 0x7f) are written as %XX so that a
 * value taken from the request cannot inject CR/LF into a message. */
void logformat_set_http(struct logformat *lf);
/* Writes <len> bytes of <s> with the %{...} options <opts>, as HAProxy:
 * +Q puts double quotes around (without escaping anything inside), +E puts
 * a backslash before '"', '\\' and ']', +J makes a JSON string. An empty
 * string is written "-", or "" when quoted. Returns the length written (at
 * most <size>). */
int lf_put_str(char *dst, size_t size, const char *s, size_t len, unsigned opts);
/* What a variable without a value writes in a log line: "-", or "" when
 * quoted ("-" as a JSON string); returns the length. */
int lf_put_missing(char *dst, size_t size, unsigned opts);
/* 0 when every sample fetch of <lf> can be used where the data <where>
 * (SMP_VAL_REQ or SMP_VAL_RES) is available; -1 with the reason in <err>
 * otherwise (request headers are gone when the response is analysed). */
int logformat_check_use(const struct logformat *lf, unsigned where, char *err, size_t errlen);

#endif
