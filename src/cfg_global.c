/* Keywords of the "global" section. */
#include <stddef.h>
#include <string.h>

#include <proxyd/cfg.h>
#include <proxyd/global.h>

static int parse_nbthread(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	int n;

	if (cfg_int_arg(ctx, args[0], 1, 64, &n) < 0)
		return -1;
	if (n != 1) {
		cfg_alert(ctx, "'nbthread %d': proxyd runs one thread for now; more threads come with "
		          "the multi-thread work (use 'nbthread 1')", n);
		return -1;
	}
	global.nbthread = n;
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
	{ "cpu-map", CFG_SEC_GLOBAL, NULL },
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
