/* Keywords of the "global" section. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <proxyd/cfg.h>
#include <proxyd/global.h>
#include <proxyd/thread.h>

static int parse_nbthread(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	int n;

	if (cfg_int_arg(ctx, args[0], 1, 64, &n) < 0)
		return -1;
	global.nbthread = n;
	return 0;
}

/* "1-4", "0", "all" (only for threads), "2-": a set of numbers from <lo> up
 * to 63. Returns the mask, 0 when it is not one. */
static uint64_t parse_set(const char *s, int lo, int allow_all)
{
	uint64_t m = 0;
	char *end;

	if (allow_all && strcmp(s, "all") == 0)
		return ~0ULL;
	while (*s) {
		long a = strtol(s, &end, 10), b;
		if (end == s || a < lo || a > 63)
			return 0;
		b = a;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || b < a || b > 63)
				return 0;
		}
		for (long i = a; i <= b; i++)
			m |= 1ULL << i;
		if (*end == ',')
			end++;
		else if (*end)
			return 0;
		s = end;
	}
	return m;
}

/* cpu-map [auto:]<process>/<thread-set> <cpu-set>...: only the forms with a
 * process 1 (proxyd is one process) are applied, each thread of the set
 * bound to the CPU set ("1/1 0", "1/all 0-3"), or with "auto:" the n-th
 * thread of the set to the n-th CPU ("auto:1/1-4 0-3"). */
static int parse_cpu_map(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	const char *spec = args[0];
	int autom = 0;
	uint64_t thr, cpus = 0;

	if (strncmp(spec, "auto:", 5) == 0) {
		autom = 1;
		spec += 5;
	}
	const char *slash = strchr(spec, '/');
	if (!slash || strncmp(spec, "1/", 2) != 0 || slash != spec + 1) {
		cfg_warn(ctx, "'cpu-map %s': only the forms '1/<threads>' and 'auto:1/<threads>' are supported "
		         "(proxyd is one process); ignored", args[0]);
		return 0;
	}
	thr = parse_set(slash + 1, 1, 1);
	for (int i = 1; i < nargs; i++) {
		uint64_t c = parse_set(args[i], 0, 0);
		if (!c) {
			cfg_alert(ctx, "'cpu-map': invalid CPU set '%s' (expected e.g. '0', '0-3' or '0,2')", args[i]);
			return -1;
		}
		cpus |= c;
	}
	if (!thr) {
		cfg_alert(ctx, "'cpu-map': invalid thread set '%s' (expected e.g. '1', '1-4' or 'all')", slash + 1);
		return -1;
	}
	if (autom) {
		/* the n-th thread of the set takes the n-th CPU */
		uint64_t left = cpus;
		for (int t = 1; t < 64 && left; t++) {
			if (!(thr & (1ULL << t)))
				continue;
			uint64_t one = left & -left;
			thread_cpu_map(t - 1, one);
			left &= left - 1;
		}
	} else if (thr == ~0ULL) {
		thread_cpu_map(-1, cpus);
	} else {
		for (int t = 1; t < 64; t++)
			if (thr & (1ULL << t))
				thread_cpu_map(t - 1, cpus);
	}
	return 0;
}

static int parse_maxrewrite(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	return cfg_size_arg(ctx, args[0], 0, 1 << 30, &global.maxrewrite);
}

#define G(field) TGT_GLOBAL, offsetof(struct global, field)

static const struct cfg_kw global_kws[] = {
	{ "maxconn", CFG_SEC_GLOBAL, 1, 1, NULL, SLOT_INT, G(maxconn), 1, 1000000, 0, "<number>" },
	{ "nbthread", CFG_SEC_GLOBAL, 1, 1, parse_nbthread, SLOT_NONE, TGT_GLOBAL, 0, 0, 0, 0, "<number>" },
	{ "cpu-map", CFG_SEC_GLOBAL, 2, -1, parse_cpu_map, SLOT_NONE, TGT_GLOBAL, 0, 0, 0, 0,
	  "[auto:]1/<thread-set> <cpu-set>..." },
	{ "tune.bufsize", CFG_SEC_GLOBAL, 1, 1, NULL, SLOT_SIZE, G(bufsize), 1024, 1 << 28, 0, "<size>" },
	{ "tune.maxrewrite", CFG_SEC_GLOBAL, 1, 1, parse_maxrewrite, SLOT_NONE, TGT_GLOBAL, 0, 0, 0, 0, "<size>" },
	{ "tune.http.maxhdr", CFG_SEC_GLOBAL, 1, 1, NULL, SLOT_INT, G(max_http_hdr), 1, 32767, 0, "<number>" },
	{ "tune.maxaccept", CFG_SEC_GLOBAL, 1, 1, NULL, SLOT_INT, G(maxaccept), -1, 1 << 20, 0, "<number>" },
	{ NULL }
};

CFG_REGISTER(global_kws);

/* HAProxy global keywords recognised but not implemented yet. */
static const struct cfg_unsupported global_unsupported[] = {
	{ "stats", CFG_SEC_GLOBAL, NULL },
	{ "ssl-dh-param-file", CFG_SEC_GLOBAL, NULL },
	{ "lua-load", CFG_SEC_GLOBAL, "proxyd has no Lua" },
	{ "nbproc", CFG_SEC_GLOBAL, "removed from HAProxy 2.5 too; use nbthread" },
	{ "set-dumpable", CFG_SEC_GLOBAL, NULL },
	{ "localpeer", CFG_SEC_GLOBAL, NULL },
	{ "maxconnrate", CFG_SEC_GLOBAL, NULL },
	{ "maxsessrate", CFG_SEC_GLOBAL, NULL },
	{ "maxsslconn", CFG_SEC_GLOBAL, NULL },
	{ "unix-bind", CFG_SEC_GLOBAL, NULL },
	{ "h1-case-adjust", CFG_SEC_GLOBAL, "proxyd keeps header names as received" },
	{ NULL }
};

REGISTER_TABLE(cfg_unsupported_kws, global_unsupported);
