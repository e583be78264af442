/* Section dispatcher: reads statements from the tokenizer, tracks the
 * current section, and hands each statement to the keyword row that owns
 * it, with the section and argument checks done once here. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <proxyd/cfg.h>
#include <proxyd/cfg_lex.h>
#include <proxyd/diag.h>
#include <proxyd/global.h>
#include <proxyd/proxy.h>
#include <proxyd/units.h>

struct registry cfg_keywords = REGISTRY_INIT("config keywords");
struct registry cfg_unsupported_kws = REGISTRY_INIT("unsupported keywords");
struct registry cfg_sections = REGISTRY_INIT("sections");

/* Parsing stops after this many fatal errors, as HAProxy does. */
#define CFG_MAX_ERRORS 50

/*------------------------------------------------------------------------
 * Configuration arena: everything allocated while parsing lives until exit.
 */
struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	max_align_t data[];
};
static struct arena_chunk *arena;

void *cfg_alloc(size_t size)
{
	size = (size + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (!arena || arena->size - arena->used < size) {
		size_t csize = size > 16384 ? size : 16384;
		struct arena_chunk *c = malloc(sizeof(*c) + csize);
		if (!c) {
			ha_alert("out of memory while parsing the configuration");
			exit(1);
		}
		c->next = arena;
		c->used = 0;
		c->size = csize;
		arena = c;
	}
	void *p = (char *)arena->data + arena->used;
	arena->used += size;
	memset(p, 0, size);
	return p;
}

char *cfg_strndup(const char *s, size_t len)
{
	char *d = cfg_alloc(len + 1);
	memcpy(d, s, len);
	d[len] = 0;
	return d;
}

char *cfg_strdup(const char *s)
{
	return s ? cfg_strndup(s, strlen(s)) : NULL;
}

void cfg_arena_free(void)
{
	while (arena) {
		struct arena_chunk *next = arena->next;
		free(arena);
		arena = next;
	}
}

/*------------------------------------------------------------------------
 * Messages
 */
void cfg_alert(struct cfg_ctx *ctx, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ctx->errbuf) {
		if (!(ctx->err & ERR_ALERT))
			snprintf(ctx->errbuf, ctx->errlen, "%s", msg);
	} else {
		ha_alert("config : parsing [%s:%d] : %s", ctx->file, ctx->line, msg);
	}
	ctx->err |= ERR_ALERT | ERR_FATAL;
}

void cfg_warn(struct cfg_ctx *ctx, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!ctx->errbuf)
		ha_warning("config : parsing [%s:%d] : %s", ctx->file, ctx->line, msg);
	ctx->err |= ERR_WARN;
}

int cfg_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int row[64];

	if (lb >= ARRAY_SIZE(row))
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int prev = row[0];
		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int cur = row[j];
			int cost = a[i - 1] == b[j - 1] ? 0 : 1;
			int best = prev + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

/*------------------------------------------------------------------------
 * Argument helpers
 */
int cfg_time_arg(struct cfg_ctx *ctx, const char *arg, unsigned unit_ms, int *out)
{
	const char *bad = NULL;
	unsigned ms;
	enum parse_err e = parse_time(arg, unit_ms, &ms, &bad);

	if (e != PARSE_OK) {
		char msg[512];
		parse_err_str(msg, sizeof(msg), e, "time", arg, bad, ctx->kw);
		cfg_alert(ctx, "%s", msg);
		return -1;
	}
	*out = (int)ms;
	return 0;
}

int cfg_int_arg(struct cfg_ctx *ctx, const char *arg, long long lo, long long hi, int *out)
{
	const char *bad = NULL;
	long long v;
	enum parse_err e = parse_int(arg, lo, hi, &v, &bad);

	if (e != PARSE_OK) {
		if (e == PARSE_OVERFLOW || e == PARSE_UNDERFLOW)
			cfg_alert(ctx, "'%s' expects an integer between %lld and %lld (got '%s')",
			          ctx->kw, lo, hi, arg);
		else
			cfg_alert(ctx, "'%s' expects an integer argument (got '%s')", ctx->kw, arg);
		return -1;
	}
	*out = (int)v;
	return 0;
}

int cfg_size_arg(struct cfg_ctx *ctx, const char *arg, long long lo, long long hi, int *out)
{
	const char *bad = NULL;
	uint64_t v;
	enum parse_err e = parse_size(arg, &v, &bad);

	if (e != PARSE_OK) {
		char msg[512];
		parse_err_str(msg, sizeof(msg), e, "size", arg, bad, ctx->kw);
		cfg_alert(ctx, "%s", msg);
		return -1;
	}
	if ((long long)v < lo || (long long)v > hi) {
		cfg_alert(ctx, "'%s' expects a size between %lld and %lld (got '%s')", ctx->kw, lo, hi, arg);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/*------------------------------------------------------------------------
 * Sections
 */
struct section_kw {
	const char *name;
	enum cfg_sec sec;
	unsigned cap;
};

static const struct section_kw sections[] = {
	{ "global",   CFG_SEC_GLOBAL,   0 },
	{ "defaults", CFG_SEC_DEFAULTS, PR_CAP_DEF },
	{ "frontend", CFG_SEC_FRONTEND, PR_CAP_FE },
	{ "backend",  CFG_SEC_BACKEND,  PR_CAP_BE },
	{ "listen",   CFG_SEC_LISTEN,   PR_CAP_FE | PR_CAP_BE },
};

/* HAProxy sections proxyd does not implement: their content is skipped. */
static const char *const foreign_sections[] = {
	"peers", "resolvers", "mailers", "program", "http-errors",
	"ring", "log-forward", "cache", "fcgi-app", "dynamic-update", "namespace_list",
	"crt-store", "traces", "acme",
};

/* "a 'frontend' or 'listen' section" for hints. */
static void sections_text(unsigned secs, char *buf, size_t len)
{
	const char *names[16];
	int n = 0;
	size_t used = 0;
	struct reg_node *rn;

	for (size_t i = 0; i < ARRAY_SIZE(sections); i++)
		if ((secs & sections[i].sec) && n < 16)
			names[n++] = sections[i].name;
	registry_for_each(rn, cfg_sections) {
		const struct cfg_section *cs = rn->table;
		if ((secs & cs->sec) && n < 16)
			names[n++] = cs->name;
	}
	buf[0] = 0;
	for (int i = 0; i < n && used < len; i++)
		used += snprintf(buf + used, len - used, "%s'%s'", i == 0 ? "" : i == n - 1 ? " or " : ", ",
		                 names[i]);
}

static int valid_proxy_name(const char *name)
{
	if (!*name)
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_' || *p == '.' || *p == ':'))
			return 0;
	return 1;
}

struct parse_state {
	struct cfg_ctx ctx;
	struct proxy *last_defaults;   /* the one new proxies inherit from */
	int skipping;                  /* inside an unsupported section */
	int nb_errors;
};

struct proxy *proxy_alloc(const char *name, unsigned cap, const char *file, int line,
                          const struct proxy *defpx);
struct proxy *defaults_find(const char *name);

static int start_section(struct parse_state *st, const struct section_kw *sk, char **argv, int argc)
{
	struct cfg_ctx *ctx = &st->ctx;
	const char *name = argc > 1 ? argv[1] : NULL;
	/* a defaults section starts from the built-in values (HAProxy: "those
	 * default parameters are reset by the next defaults section") unless
	 * it names another one with "from" */
	struct proxy *from = sk->sec == CFG_SEC_DEFAULTS ? NULL : st->last_defaults;

	st->skipping = 0;
	ctx->sec = sk->sec;
	ctx->sec_name = sk->name;
	ctx->px = NULL;
	ctx->defpx = NULL;

	if (sk->sec == CFG_SEC_GLOBAL) {
		if (argc > 1)
			cfg_alert(ctx, "'global' takes no argument");
		return 0;
	}

	if (sk->sec != CFG_SEC_DEFAULTS && !name) {
		cfg_alert(ctx, "'%s' expects a name (e.g. '%s www')", sk->name, sk->name);
		st->skipping = 1;
		return -1;
	}
	if (name && strcmp(name, "from") == 0 && sk->sec == CFG_SEC_DEFAULTS) {
		/* "defaults from X": anonymous defaults inheriting from X */
		name = NULL;
		argv--;
		argc++;
	}
	if (name && !valid_proxy_name(name)) {
		cfg_alert(ctx, "invalid character in %s name '%s' (allowed: letters, digits, '-', '_', '.', ':')",
		          sk->name, name);
		st->skipping = 1;
		return -1;
	}
	int ai = 2;
	if (argc > ai) {
		if (strcmp(argv[ai], "from") != 0 || argc != ai + 2) {
			cfg_alert(ctx, "unexpected '%s' after the %s name (only 'from <defaults>' may follow)",
			          argv[ai], sk->name);
			st->skipping = 1;
			return -1;
		}
		from = defaults_find(argv[ai + 1]);
		if (!from) {
			cfg_alert(ctx, "%s '%s': no defaults section named '%s' was declared before",
			          sk->name, name ? name : "", argv[ai + 1]);
			st->skipping = 1;
			return -1;
		}
	}

	if (sk->sec != CFG_SEC_DEFAULTS) {
		struct proxy *other = proxy_find(name, 0);
		if (other && (other->cap & sk->cap & (PR_CAP_FE | PR_CAP_BE))) {
			cfg_alert(ctx, "%s '%s' has the same name as %s '%s' declared at %s:%d",
			          sk->name, name, (other->cap & PR_CAP_FE) && (other->cap & PR_CAP_BE) ? "listen" :
			          (other->cap & PR_CAP_FE) ? "frontend" : "backend",
			          other->id, other->conf_file, other->conf_line);
			st->skipping = 1;
			return -1;
		}
	} else if (name && defaults_find(name)) {
		cfg_warn(ctx, "defaults section '%s' redefined; later references use this one", name);
	}

	ctx->px = proxy_alloc(name, sk->cap, ctx->file, ctx->line, from);
	ctx->defpx = from;
	if (sk->sec == CFG_SEC_DEFAULTS)
		st->last_defaults = ctx->px;
	return 0;
}

/*------------------------------------------------------------------------
 * Keyword lookup
 */

/* Number of words of a keyword name ("timeout client" = 2). */
static int kw_words(const char *name)
{
	int n = 1;
	for (const char *p = name; *p; p++)
		if (*p == ' ')
			n++;
	return n;
}

static int kw_matches(const char *name, char **argv, int argc)
{
	int words = kw_words(name);
	const char *p = name;

	if (words > argc)
		return 0;
	for (int i = 0; i < words; i++) {
		size_t l = strcspn(p, " ");
		if (strlen(argv[i]) != l || strncmp(argv[i], p, l) != 0)
			return 0;
		p += l;
		if (*p == ' ')
			p++;
	}
	return 1;
}

/* Finds the keyword row for a statement: the longest name wins, then among
 * equally long names the row allowed in section <sec> (the same word may
 * be owned by different rows in different sections, e.g. global and proxy
 * "maxconn"). */
static const struct cfg_kw *kw_lookup(char **argv, int argc, unsigned sec)
{
	const struct cfg_kw *best = NULL;
	int best_words = 0;
	struct reg_node *n;

	registry_for_each(n, cfg_keywords) {
		for (const struct cfg_kw *kw = n->table; kw->name; kw++) {
			int w = kw_words(kw->name);
			int fits = (kw->sections & sec) != 0;
			int best_fits = best && (best->sections & sec) != 0;
			if (!kw_matches(kw->name, argv, argc))
				continue;
			if (w > best_words || (w == best_words && fits && !best_fits)) {
				best = kw;
				best_words = w;
			}
		}
	}
	return best;
}

static const struct cfg_unsupported *unsupported_lookup(char **argv, int argc, unsigned sec)
{
	const struct cfg_unsupported *best = NULL;
	int best_words = 0, best_fits = 0;
	struct reg_node *n;

	/* an entry for this section first (its hint fits best), else one
	 * from any section: "not supported yet" is the useful answer anywhere */
	registry_for_each(n, cfg_unsupported_kws) {
		for (const struct cfg_unsupported *u = n->table; u->name; u++) {
			int w = kw_words(u->name);
			int fits = (u->sections & sec) != 0;
			if (!kw_matches(u->name, argv, argc))
				continue;
			if (w > best_words || (w == best_words && fits && !best_fits)) {
				best = u;
				best_words = w;
				best_fits = fits;
			}
		}
	}
	return best;
}

/* Closest keyword allowed in <sec>, for "did you mean" hints. Compares
 * the statement's first word, or its first two for two-word keywords. */
static const char *kw_suggest(char **argv, int argc, unsigned sec)
{
	const char *best = NULL;
	int best_d = 3;
	struct reg_node *n;
	char two[256];

	snprintf(two, sizeof(two), "%s %s", argv[0], argc > 1 ? argv[1] : "");
	registry_for_each(n, cfg_keywords) {
		for (const struct cfg_kw *kw = n->table; kw->name; kw++) {
			if (!(kw->sections & sec))
				continue;
			int d = cfg_distance(kw_words(kw->name) == 1 ? argv[0] : two, kw->name);
			int len = (int)strlen(kw->name);
			/* short words need closer matches to be plausible */
			if (d < best_d && d <= (len > 4 ? 2 : 1)) {
				best = kw->name;
				best_d = d;
			}
		}
	}
	return best;
}

/* Sections where a keyword of that very name exists (for wrong-section
 * hints: "stats socket" is global even though proxies have "stats"). */
static unsigned kw_sections_anywhere(const char *name)
{
	unsigned secs = 0;
	struct reg_node *n;

	registry_for_each(n, cfg_keywords)
		for (const struct cfg_kw *kw = n->table; kw->name; kw++)
			if (!strcmp(kw->name, name))
				secs |= kw->sections;
	return secs;
}

static void *slot_base(struct cfg_ctx *ctx, const struct cfg_kw *kw)
{
	if (kw->target == TGT_GLOBAL)
		return &global;
	return &ctx->px->c;
}

static int apply_slot(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	/* before any field address: an ignored proxy row ("log") may be met
	 * in the global section, where there is no proxy */
	if (kw->slot == SLOT_IGNORED) {
		cfg_warn(ctx, "'%s' is accepted but ignored by proxyd%s%s", ctx->kw,
		         kw->usage ? ": " : "", kw->usage ? kw->usage : "");
		return 0;
	}

	char *base = slot_base(ctx, kw);
	void *field = base + kw->offset;

	switch (kw->slot) {
	case SLOT_INT:
		return cfg_int_arg(ctx, args[0], kw->lo, kw->hi, field);
	case SLOT_TIME:
		return cfg_time_arg(ctx, args[0], 1, field);
	case SLOT_SIZE:
		return cfg_size_arg(ctx, args[0], kw->lo, kw->hi, field);
	case SLOT_FLAG:
		if (ctx->inv)
			*(unsigned *)field &= ~(unsigned)kw->lo;
		else
			*(unsigned *)field |= (unsigned)kw->lo;
		return 0;
	case SLOT_STR:
		*(const char **)field = cfg_strdup(args[0]);
		return 0;
	case SLOT_IGNORED:
	case SLOT_NONE:
		break;
	}
	cfg_alert(ctx, "internal error: keyword '%s' has no parser", ctx->kw);
	return -1;
}

static void dispatch(struct parse_state *st, char **argv, int argc)
{
	struct cfg_ctx *ctx = &st->ctx;
	char kwname[256];

	ctx->inv = ctx->def = 0;
	if (argc > 1 && strcmp(argv[0], "no") == 0) {
		ctx->inv = 1;
		argv++;
		argc--;
	} else if (argc > 1 && strcmp(argv[0], "default") == 0) {
		ctx->def = 1;
		argv++;
		argc--;
	}

	const struct cfg_kw *kw = kw_lookup(argv, argc, ctx->sec);
	const struct cfg_unsupported *u = unsupported_lookup(argv, argc, ctx->sec);
	/* A known-but-unimplemented HAProxy keyword more specific than the row
	 * found ("option httplog" vs the generic "option") gets its own message. */
	if (u && (!kw || kw_words(u->name) > kw_words(kw->name) ||
	          (!(kw->sections & ctx->sec) && kw_words(u->name) == kw_words(kw->name)))) {
		cfg_alert(ctx, "'%s' is a valid HAProxy keyword but is not supported yet by proxyd%s%s",
		          u->name, u->hint ? "; " : "", u->hint ? u->hint : "");
		return;
	}
	if (!kw) {
		const char *hint = kw_suggest(argv, argc, ctx->sec);
		if (strcmp(argv[0], "option") == 0 && argc > 1) {
			cfg_alert(ctx, "unknown option '%s'%s%s%s", argv[1], hint ? "; did you mean '" : "",
			          hint ? hint : "", hint ? "' maybe ?" : "");
		} else {
			cfg_alert(ctx, "unknown keyword '%s' in '%s' section%s%s%s", argv[0], ctx->sec_name,
			          hint ? "; did you mean '" : "", hint ? hint : "", hint ? "' maybe ?" : "");
		}
		return;
	}

	snprintf(kwname, sizeof(kwname), "%s", kw->name);
	ctx->kw = kwname;

	if (!(kw->sections & ctx->sec)) {
		unsigned where = kw_sections_anywhere(kw->name);
		char secs[128];
		/* A proxy keyword used in a proxy lacking the capability: HAProxy
		 * warns and ignores most of them; keep configs loading. */
		if ((kw->sections & CFG_SEC_PX) && (ctx->sec & CFG_SEC_PX) && !(kw->flags & KW_F_STRICT)) {
			/* "option redispatch" is named 'redispatch', as HAProxy does */
			const char *shown = strncmp(kw->name, "option ", 7) == 0 ? kw->name + 7 : kw->name;
			cfg_warn(ctx, "'%s' ignored because %s '%s' has no %s capability.", shown,
			         ctx->sec_name, ctx->px && ctx->px->id ? ctx->px->id : "",
			         (kw->sections & CFG_SEC_BACKEND) ? "backend" : "frontend");
			return;
		}
		sections_text(where, secs, sizeof(secs));
		cfg_alert(ctx, "'%s' is not allowed in '%s' section; it belongs in a %s section", kw->name,
		          ctx->sec_name, secs);
		return;
	}

	if ((ctx->inv || ctx->def) && !(kw->flags & KW_F_NO)) {
		cfg_alert(ctx, "'%s' cannot be prefixed with '%s'", kw->name, ctx->inv ? "no" : "default");
		return;
	}

	int skip = kw_words(kw->name);
	char **args = argv + skip;
	int nargs = argc - skip;

	if (nargs < kw->min_args) {
		cfg_alert(ctx, "'%s' expects %s%s%s", kw->name,
		          kw->usage ? kw->usage : "more arguments",
		          nargs ? "" : " (none given)", "");
		return;
	}
	if (kw->max_args >= 0 && nargs > kw->max_args) {
		if (kw->max_args == 0)
			cfg_alert(ctx, "'%s' takes no argument (got '%s')", kw->name, args[0]);
		else
			cfg_alert(ctx, "'%s' takes at most %d argument%s: %s (unexpected '%s')", kw->name,
			          kw->max_args, kw->max_args > 1 ? "s" : "",
			          kw->usage ? kw->usage : "", args[kw->max_args]);
		return;
	}

	int rc = kw->parse ? kw->parse(ctx, kw, args, nargs) : apply_slot(ctx, kw, args, nargs);
	if (rc == 0 && (kw->flags & KW_F_INERT))
		cfg_warn(ctx, "'%s' is accepted but has no effect yet in proxyd", kw->name);
}

static int parse_reader(struct parse_state *st, struct cfg_reader *r)
{
	struct cfg_ctx *ctx = &st->ctx;
	int rc;

	ctx->file = r->src.file;
	while ((rc = cfg_reader_next(r)) != 0) {
		if (rc < 0) {
			ctx->err |= ERR_ALERT | ERR_FATAL;
			if (++st->nb_errors >= CFG_MAX_ERRORS)
				break;
			continue;
		}
		int err_before = diag_alerts;
		char **argv = r->words.argv;
		int argc = r->words.argc;

		ctx->line = r->src.line;
		const struct section_kw *sk = NULL;
		for (size_t i = 0; i < ARRAY_SIZE(sections); i++)
			if (strcmp(argv[0], sections[i].name) == 0)
				sk = &sections[i];
		int foreign = 0;
		for (size_t i = 0; i < ARRAY_SIZE(foreign_sections); i++)
			if (strcmp(argv[0], foreign_sections[i]) == 0)
				foreign = 1;
		const struct cfg_section *msec = NULL;
		struct reg_node *rn;
		registry_for_each(rn, cfg_sections)
			if (strcmp(((const struct cfg_section *)rn->table)->name, argv[0]) == 0)
				msec = rn->table;
		if (msec) {
			st->skipping = 0;
			ctx->sec = msec->sec;
			ctx->sec_name = msec->name;
			ctx->px = NULL;
			ctx->defpx = NULL;
			if (msec->start(ctx, argv + 1, argc - 1) < 0)
				st->skipping = 1;
			r->src.section = argc > 1 ? cfg_strdup(argv[1]) : msec->name;
		} else if (sk) {
			start_section(st, sk, argv, argc);
			/* .SECTION expands to the proxy's name, as in HAProxy */
			r->src.section = ctx->px && ctx->px->id[0] ? ctx->px->id : sk->name;
		} else if (foreign) {
			cfg_alert(ctx, "'%s' sections are not supported by proxyd; its content is ignored until the "
			          "next section", argv[0]);
			st->skipping = 1;
			ctx->sec = CFG_SEC_NONE;
			r->src.section = argv[0];
		} else if (st->skipping) {
			continue;
		} else if (ctx->sec == CFG_SEC_NONE) {
			cfg_alert(ctx, "unknown keyword '%s' out of section (a file must start with a section such "
			          "as 'global', 'defaults', 'frontend', 'backend' or 'listen')", argv[0]);
		} else {
			dispatch(st, argv, argc);
		}
		if ((int)diag_alerts > err_before && ++st->nb_errors >= CFG_MAX_ERRORS)
			break;
	}
	if (r->fatal)
		ctx->err |= ERR_ALERT | ERR_FATAL;
	if (st->nb_errors >= CFG_MAX_ERRORS) {
		ha_alert("config : too many errors, stopping after %d", CFG_MAX_ERRORS);
		ctx->err |= ERR_ABORT;
	}
	return ctx->err;
}

static struct parse_state pstate;

static int parse_one_file(const char *path)
{
	struct cfg_reader r;

	if (cfg_reader_open(&r, path) < 0) {
		pstate.ctx.err |= ERR_ALERT | ERR_FATAL;
		return pstate.ctx.err;
	}
	/* Each file starts outside any section, as in HAProxy. */
	pstate.ctx.sec = CFG_SEC_NONE;
	pstate.ctx.px = NULL;
	pstate.skipping = 0;
	parse_reader(&pstate, &r);
	cfg_reader_close(&r);
	return pstate.ctx.err;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory loads its non-hidden *.cfg files in C-locale lexical order. */
static int parse_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (!d) {
		ha_alert("config : cannot open directory '%s' : %s", dir, strerror(errno));
		pstate.ctx.err |= ERR_ALERT | ERR_FATAL;
		return pstate.ctx.err;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (de->d_name[0] == '.' || l < 5 || strcmp(de->d_name + l - 4, ".cfg") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = realloc(names, cap * sizeof(*names));
		}
		names[n] = malloc(strlen(dir) + l + 2);
		sprintf(names[n], "%s/%s", dir, de->d_name);
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
			parse_one_file(cfg_strdup(names[i]));
		free(names[i]);
	}
	free(names);
	return pstate.ctx.err;
}

int cfg_parse_files(char **files, int nfiles)
{
	for (int i = 0; i < nfiles && !(pstate.ctx.err & ERR_ABORT); i++) {
		struct stat st;
		if (stat(files[i], &st) == 0 && S_ISDIR(st.st_mode))
			parse_dir(files[i]);
		else
			parse_one_file(files[i]);
	}
	return pstate.ctx.err;
}

int cfg_parse_string(const char *name, const char *text)
{
	struct cfg_reader r;

	cfg_reader_open_mem(&r, name, text);
	pstate.ctx.sec = CFG_SEC_NONE;
	pstate.ctx.px = NULL;
	pstate.skipping = 0;
	parse_reader(&pstate, &r);
	cfg_reader_close(&r);
	return pstate.ctx.err;
}

/* Forgets parser state between two configurations (unit tests). */
void cfg_parse_reset(void);
void cfg_parse_reset(void)
{
	memset(&pstate, 0, sizeof(pstate));
}
