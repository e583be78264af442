/* Configuration keywords: every module declares the keywords it owns in a
 * static table and registers it; the section parser (cfg_parse.c) finds the
 * row, checks the section and the argument count, then either calls the
 * row's parser or applies a generic setter (time, size, integer, flag,
 * string) to the field at <offset>, so most keywords need no code at all.
 */
#ifndef PROXYD_CFG_H
#define PROXYD_CFG_H

#include <stddef.h>
#include <proxyd/compiler.h>
#include <proxyd/registry.h>

enum cfg_sec {
	CFG_SEC_NONE     = 0,
	CFG_SEC_GLOBAL   = 1 << 0,
	CFG_SEC_DEFAULTS = 1 << 1,
	CFG_SEC_FRONTEND = 1 << 2,
	CFG_SEC_BACKEND  = 1 << 3,
	CFG_SEC_LISTEN   = 1 << 4,
	CFG_SEC_USERLIST = 1 << 5,
};
/* Sections where a proxy has frontend / backend capability. */
#define CFG_SEC_FE  (CFG_SEC_DEFAULTS | CFG_SEC_FRONTEND | CFG_SEC_LISTEN)
#define CFG_SEC_BE  (CFG_SEC_DEFAULTS | CFG_SEC_BACKEND | CFG_SEC_LISTEN)
#define CFG_SEC_PX  (CFG_SEC_FE | CFG_SEC_BE)

/* Error bits accumulated while parsing, as HAProxy's ERR_*. */
enum {
	ERR_NONE  = 0,
	ERR_WARN  = 1 << 0,
	ERR_ALERT = 1 << 1,
	ERR_FATAL = 1 << 2,
	ERR_ABORT = 1 << 3,
};

struct proxy;
struct server;
struct bind_conf;
struct cfg_kw;

/* Everything a keyword parser needs to know about where it is. */
struct cfg_ctx {
	const char *file;
	int line;
	enum cfg_sec sec;
	const char *sec_name;      /* "global", "defaults", "frontend", ... */
	struct proxy *px;          /* current proxy section (defaults included) */
	struct proxy *defpx;       /* the defaults it inherited from */
	const char *kw;            /* keyword as written, e.g. "timeout client" */
	int inv;                   /* "no" prefix */
	int def;                   /* "default" prefix */
	int err;                   /* ERR_* accumulated for the whole run */
	/* Set by a caller parsing at run time (admin socket "add server"):
	 * the first alert goes here instead of the log, warnings are dropped. */
	char *errbuf;
	size_t errlen;
};

/* "parsing [file:line] : msg": alert (error) or warning about the current line. */
void cfg_alert(struct cfg_ctx *ctx, const char *fmt, ...) PRINTF(2, 3);
void cfg_warn(struct cfg_ctx *ctx, const char *fmt, ...) PRINTF(2, 3);

/* Keyword parser: <args> are the words after the keyword itself (nargs of
 * them). Returns 0 on success, -1 after reporting an error with cfg_alert(). */
typedef int (*cfg_kw_fn)(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs);

enum cfg_slot {
	SLOT_NONE = 0,   /* the row's parser does everything */
	SLOT_INT,        /* int, within [lo, hi] */
	SLOT_TIME,       /* int milliseconds, unit suffixes */
	SLOT_SIZE,       /* int bytes, k/m/g suffixes, within [lo, hi] */
	SLOT_FLAG,       /* unsigned |= arg (no arguments; "no" clears) */
	SLOT_STR,        /* const char * copied into the config arena */
	SLOT_IGNORED,    /* accepted and ignored with a warning (see <hint>) */
};

/* Which structure <offset> is relative to. */
enum cfg_target {
	TGT_GLOBAL = 0,  /* struct global */
	TGT_PROXY,       /* struct proxy_conf of the current proxy */
};

/* Flags of a keyword row. */
enum {
	KW_F_NO       = 1 << 0,  /* accepts the "no" prefix */
	KW_F_STRICT   = 1 << 1,  /* wrong proxy capability is an error, not a warning */
	KW_F_INERT    = 1 << 2,  /* stored, but nothing uses it yet: say so */
};

struct cfg_kw {
	const char *name;        /* one or two words: "maxconn", "timeout client" */
	unsigned sections;       /* CFG_SEC_* where it is allowed */
	signed char min_args;
	signed char max_args;    /* -1: no limit */
	cfg_kw_fn parse;         /* NULL: generic setter from <slot> */
	enum cfg_slot slot;
	enum cfg_target target;
	size_t offset;
	long long lo, hi;        /* bounds for SLOT_INT / SLOT_SIZE; flag bits for SLOT_FLAG */
	unsigned flags;          /* KW_F_* */
	const char *usage;       /* arguments, e.g. "<number>", shown on errors */
};

extern struct registry cfg_keywords;   /* tables of struct cfg_kw, {NULL} terminated */
#define CFG_REGISTER(tbl)  REGISTER_TABLE(cfg_keywords, tbl)

/* Section kinds beyond the proxy ones, owned by their module (userlist).
 * <start> parses the section line itself ("userlist NAME"). */
struct cfg_section {
	const char *name;
	enum cfg_sec sec;
	int (*start)(struct cfg_ctx *ctx, char **args, int nargs);
};
extern struct registry cfg_sections;
#define CFG_SECTION_REGISTER(s)  REGISTER_TABLE(cfg_sections, &(s))

/* Boolean "option <name>" rows: set <bit> in proxy_conf.options after
 * clearing <mask> (for mutually exclusive modes); "no option" clears. */
struct cfg_opt {
	const char *name;
	unsigned sections;
	unsigned bit;
	unsigned mask;
};
/* Work a module does once the whole configuration is read (resolving names
 * across sections), and what it frees at exit. <fn> returns ERR_* bits. */
struct cfg_postparser {
	const char *name;
	int (*fn)(void);
	void (*deinit)(void);
};
extern struct registry cfg_postparsers;
#define CFG_POSTPARSER_REGISTER(p)  REGISTER_TABLE(cfg_postparsers, &(p))

extern struct registry cfg_options;
#define CFG_OPT_REGISTER(tbl)  REGISTER_TABLE(cfg_options, tbl)

/* HAProxy keywords that proxyd knows of but does not implement: using one is
 * an error saying "not supported yet" (or, with <ignore>, a warning). */
struct cfg_unsupported {
	const char *name;
	unsigned sections;
	const char *hint;        /* optional: what to use instead / when it comes */
};
extern struct registry cfg_unsupported_kws;

/* Allocations that live as long as the configuration (names, strings,
 * rules). Freed all at once at exit. */
void *cfg_alloc(size_t size);
char *cfg_strdup(const char *s);
char *cfg_strndup(const char *s, size_t len);
void cfg_arena_free(void);

/* Parses the files (or directories) in order. Returns ERR_* bits. */
int cfg_parse_files(char **files, int nfiles);
/* Parses a configuration held in a string (tests). */
int cfg_parse_string(const char *name, const char *text);
/* Resolves references, applies defaults, validates: after all files. */
int cfg_post_parse(void);
/* Frees the whole configuration (proxies, servers, arena). */
void cfg_deinit(void);

/* Helpers for keyword parsers. */
int cfg_time_arg(struct cfg_ctx *ctx, const char *arg, unsigned unit_ms, int *out);
int cfg_int_arg(struct cfg_ctx *ctx, const char *arg, long long lo, long long hi, int *out);
int cfg_size_arg(struct cfg_ctx *ctx, const char *arg, long long lo, long long hi, int *out);
/* Levenshtein distance, for "did you mean" hints. */
int cfg_distance(const char *a, const char *b);

#endif
