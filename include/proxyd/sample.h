/* Samples: typed values fetched from a stream (an address, a header, the
 * path...) and transformed by converters ("req.hdr(host),lower"). Fetches
 * and converters are rows of tables registered by the module owning the
 * data they read, like configuration keywords. ACLs, rule arguments and
 * log formats all evaluate sample expressions. */
#ifndef PROXYD_SAMPLE_H
#define PROXYD_SAMPLE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include <proxyd/http.h>
#include <proxyd/registry.h>

struct stream;
struct proxy;
struct cfg_ctx;

enum smp_type {
	SMP_T_ANY = 0,   /* only as a converter's input type: accepts all */
	SMP_T_BOOL,
	SMP_T_SINT,
	SMP_T_IPV4,
	SMP_T_IPV6,
	SMP_T_ADDR,      /* only as a declared output: IPv4 or IPv6 at run time */
	SMP_T_STR,
	SMP_T_BIN,
	SMP_T_METH,      /* an HTTP method: known enum, or its name */
	SMP_TYPES
};

/* Sample flags. */
enum {
	SMP_F_NOT_LAST = 1 << 0,   /* more values follow: call the fetch again (smp->ctx kept) */
	SMP_F_CONST    = 1 << 1,   /* data points into memory the sample must not modify */
	SMP_F_MAY_CHANGE = 1 << 2, /* not available yet (later in the stream) */
	SMP_OPT_ITERATE = 1 << 3,  /* set by the caller (ACLs): return every value, one per call */
};

struct sample {
	enum smp_type type;
	unsigned flags;
	union {
		long long sint;                           /* BOOL, SINT */
		struct in_addr ipv4;
		struct in6_addr ipv6;
		struct { const char *ptr; size_t len; } str;  /* STR, BIN */
		struct { enum http_meth meth; const char *ptr; size_t len; } meth;
	} data;
	long ctx;                                     /* iteration state of multi-value fetches */
};

/* Where a fetch reads its data from, to check at load time that a rule can
 * use it (request data is gone by the time the response is analysed). */
enum {
	SMP_USE_L4   = 1 << 0,   /* connection: addresses, ports, TLS */
	SMP_USE_HRQ  = 1 << 1,   /* HTTP request head */
	SMP_USE_HRS  = 1 << 2,   /* HTTP response head */
	SMP_USE_INT  = 1 << 3,   /* internal state (constants, variables, backends) */
};
/* What each kind of rule may use. */
#define SMP_VAL_REQ  (SMP_USE_L4 | SMP_USE_HRQ | SMP_USE_INT)
#define SMP_VAL_RES  (SMP_USE_L4 | SMP_USE_HRS | SMP_USE_INT)

/* Argument types of fetches and converters. */
enum arg_type {
	ARGT_STOP = 0,
	ARGT_SINT,
	ARGT_STR,
	ARGT_BE,      /* a backend name, resolved after parsing */
	ARGT_REG,     /* a regular expression */
	ARGT_USR,     /* a userlist name */
	ARGT_VAR,     /* a variable name */
	ARGT_MSK4,
};

struct my_regex;
struct userlist;
struct var_desc;

struct arg {
	enum arg_type type;
	union {
		long long sint;
		struct { char *ptr; size_t len; } str;
		struct proxy *be;
		struct my_regex *reg;
		struct userlist *usr;
		const struct var_desc *var;
	} data;
	const char *unresolved;   /* name, until the post-parse resolution */
};

#define ARGM_BITS   3   /* minimum number of arguments */
#define ARGT_BITS   4
#define ARG_NB_MAX  5
/* Arguments masks: ARGn(min, types...) */
#define ARG1(m, t1)              ((uint64_t)(m) | ((uint64_t)ARGT_##t1 << ARGM_BITS))
#define ARG2(m, t1, t2)          (ARG1(m, t1) | ((uint64_t)ARGT_##t2 << (ARGM_BITS + ARGT_BITS)))
#define ARG3(m, t1, t2, t3)      (ARG2(m, t1, t2) | ((uint64_t)ARGT_##t3 << (ARGM_BITS + 2 * ARGT_BITS)))
#define ARG4(m, t1, t2, t3, t4)  (ARG3(m, t1, t2, t3) | ((uint64_t)ARGT_##t4 << (ARGM_BITS + 3 * ARGT_BITS)))
#define ARG0                     0

struct sample_fetch;
/* A fetch fills <smp> for stream <s>. Returns 1 when a value was
 * produced, 0 when there is none (header absent, not HTTP...). */
typedef int (*smp_fetch_fn)(const struct arg *args, struct sample *smp, struct stream *s,
                            const struct sample_fetch *kw);

struct sample_fetch {
	const char *kw;
	smp_fetch_fn fn;
	uint64_t arg_mask;
	/* Optional check of the parsed arguments; returns 0 or -1 with <err>. */
	int (*val_args)(struct arg *args, char *err, size_t errlen);
	enum smp_type out;
	unsigned use;          /* SMP_USE_* */
	long priv;             /* free for the fetch (e.g. occurrence mode, header table) */
};

typedef int (*smp_conv_fn)(const struct arg *args, struct sample *smp, void *priv);

struct sample_conv {
	const char *kw;
	smp_conv_fn fn;
	uint64_t arg_mask;
	int (*val_args)(struct arg *args, char *err, size_t errlen);
	enum smp_type in;
	enum smp_type out;
	void *priv;
};

extern struct registry smp_fetches;    /* tables of struct sample_fetch */
extern struct registry smp_convs;      /* tables of struct sample_conv */
#define SMP_FETCH_REGISTER(tbl) REGISTER_TABLE(smp_fetches, tbl)
#define SMP_CONV_REGISTER(tbl)  REGISTER_TABLE(smp_convs, tbl)

#define SMP_MAX_CONVS 8

struct sample_conv_expr {
	const struct sample_conv *conv;
	struct arg args[ARG_NB_MAX + 1];
};

/* fetch(args),conv1(args),conv2... */
struct sample_expr {
	const struct sample_fetch *fetch;
	struct arg args[ARG_NB_MAX + 1];
	int nb_convs;
	struct sample_conv_expr convs[SMP_MAX_CONVS];
};

const struct sample_fetch *smp_find_fetch(const char *name, size_t len);
const struct sample_conv *smp_find_conv(const char *name, size_t len);

/* Parses a sample expression starting at *str ("req.hdr(host),lower").
 * On success advances *str past it (to the first character not part of
 * the expression) and returns the expression (config arena). NULL with a
 * message in <err> otherwise. */
struct sample_expr *sample_parse_expr(const char **str, char *err, size_t errlen);
/* Same, from a whole word. */
struct sample_expr *sample_parse_word(const char *word, char *err, size_t errlen);

/* Parses "(a,b,...)" arguments per <mask> from *str (pointing at '(' or
 * not). Returns 0 or -1 with <err>. */
int sample_parse_args(const char **str, uint64_t mask, struct arg *args, const char *kw,
                      char *err, size_t errlen);

/* Evaluates <expr>: the fetch (continuing an iteration when smp->flags has
 * SMP_F_NOT_LAST from a previous call) then every converter. Returns 1 with
 * a value, 0 without. */
int sample_process(const struct sample_expr *expr, struct stream *s, struct sample *smp);

/* Converts <smp> in place to <type>; returns 0 when impossible. Strings
 * produced by a cast live in a per-thread scratch buffer (see smp_trash()). */
int sample_cast_slow(struct sample *smp, enum smp_type type);
static inline int sample_cast(struct sample *smp, enum smp_type type)
{
	return smp->type == type || type == SMP_T_ANY || sample_cast_slow(smp, type);
}
int sample_can_cast(enum smp_type from, enum smp_type to);
/* Makes a string sample writable (copies it to a scratch buffer). */
int sample_make_rw(struct sample *smp);

/* Rotating scratch buffers (global.bufsize bytes each) for values built
 * while evaluating one expression; valid until a few more are taken. */
struct trash {
	char *area;
	size_t size;
	size_t len;
};
struct trash *smp_trash(void);
void smp_trash_init(void);
void smp_trash_deinit(void);

/* Resolves the ARGT_BE / ARGT_USR arguments of every expression parsed so
 * far; called after all files. Returns ERR_* bits. */
int sample_resolve_args(void);

/* Decodes base64 (padding optional) into dst; -1 when invalid or too long. */
long base64_decode(const char *in, size_t len, char *dst, size_t dlen);

/* Printable name of a type, for messages. */
const char *smp_type_name(enum smp_type t);
/* The type an expression gives: its fetch's, or its last typed converter's. */
enum smp_type sample_expr_type(const struct sample_expr *expr);

#endif
