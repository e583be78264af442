/* Keywords of proxy sections (defaults, frontend, backend, listen) that
 * belong to no more specific module: mode, timeouts, options, limits,
 * backend selection, error files. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <proxyd/cfg.h>
#include <proxyd/diag.h>
#include <proxyd/lb.h>
#include <proxyd/logformat.h>
#include <proxyd/proxy.h>
#include <proxyd/rules.h>
#include <proxyd/sample.h>

struct registry cfg_options = REGISTRY_INIT("options");

#define PX(field) TGT_PROXY, offsetof(struct proxy_conf, field)

static int parse_mode(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	if (strcmp(args[0], "http") == 0)
		ctx->px->c.mode = PR_MODE_HTTP;
	else if (strcmp(args[0], "tcp") == 0)
		ctx->px->c.mode = PR_MODE_TCP;
	else if (strcmp(args[0], "health") == 0)
		cfg_alert(ctx, "'mode health' was removed from HAProxy 2.4 and is not supported; "
		          "use 'http-request return status 200' or 'monitor-uri'");
	else
		cfg_alert(ctx, "unknown proxy mode '%s' (expected 'http' or 'tcp')", args[0]);
	return 0;
}

/* Only reached for a timeout name no row matched. */
static int parse_timeout_unknown(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	cfg_alert(ctx, "'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', "
	          "'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' (got '%s')", args[0]);
	return -1;
}

static int parse_http_reuse(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	static const char *const modes[] = { "never", "safe", "aggressive", "always" };

	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		if (strcmp(args[0], modes[i]) == 0) {
			ctx->px->c.reuse = (enum http_reuse)i;
			return 0;
		}
	}
	cfg_alert(ctx, "'http-reuse' expects 'never', 'safe', 'aggressive' or 'always' (got '%s')", args[0]);
	return -1;
}

/* option forwardfor [ except <network> ] [ header <name> ] [ if-none ] */
static int parse_forwardfor(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	struct proxy_conf *c = &ctx->px->c;
	char err[256];

	if (ctx->inv) {
		c->options &= ~(PR_O_FWDFOR | PR_O_FWDFOR_IFNONE);
		return 0;
	}
	if (ctx->def) {
		/* back to what the defaults section said */
		const struct proxy_conf *d = ctx->defpx ? &ctx->defpx->c : NULL;
		c->options = (c->options & ~(PR_O_FWDFOR | PR_O_FWDFOR_IFNONE)) |
		             (d ? d->options & (PR_O_FWDFOR | PR_O_FWDFOR_IFNONE) : 0);
		c->fwdfor_hdr = d ? d->fwdfor_hdr : "X-Forwarded-For";
		c->fwdfor_except = d ? d->fwdfor_except : (struct netmask){ 0 };
		return 0;
	}
	c->options |= PR_O_FWDFOR;
	c->options &= ~PR_O_FWDFOR_IFNONE;
	c->fwdfor_hdr = "X-Forwarded-For";
	memset(&c->fwdfor_except, 0, sizeof(c->fwdfor_except));
	for (int i = 0; i < nargs; i++) {
		if (strcmp(args[i], "except") == 0) {
			if (i + 1 >= nargs) {
				cfg_alert(ctx, "'option forwardfor except' expects a network (e.g. 127.0.0.0/8)");
				return -1;
			}
			if (netmask_parse(args[++i], &c->fwdfor_except, err, sizeof(err)) < 0) {
				cfg_alert(ctx, "'option forwardfor except': %s", err);
				return -1;
			}
		} else if (strcmp(args[i], "header") == 0) {
			if (i + 1 >= nargs || !*args[i + 1]) {
				cfg_alert(ctx, "'option forwardfor header' expects a header name");
				return -1;
			}
			c->fwdfor_hdr = cfg_strdup(args[++i]);
		} else if (strcmp(args[i], "if-none") == 0) {
			c->options |= PR_O_FWDFOR_IFNONE;
		} else {
			cfg_alert(ctx, "'option forwardfor' only supports optional values 'except', 'header' and "
			          "'if-none' (got '%s')", args[i]);
			return -1;
		}
	}
	return 0;
}

/* option redispatch [<interval>]: 0 in the configuration means off, so the
 * default (the last retry) is stored as -1. */
static int parse_redispatch(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	struct proxy_conf *c = &ctx->px->c;
	int n = -1;

	if (ctx->inv) {
		c->redispatch_interval = 0;
		c->options &= ~(unsigned)PR_O_REDISP;
		return 0;
	}
	if (ctx->def) {
		c->redispatch_interval = ctx->defpx ? ctx->defpx->c.redispatch_interval : 0;
		c->options = (c->options & ~(unsigned)PR_O_REDISP) |
		             (ctx->defpx ? ctx->defpx->c.options & PR_O_REDISP : 0);
		return 0;
	}
	if (nargs && cfg_int_arg(ctx, args[0], -1000, 1000, &n) < 0)
		return -1;
	c->redispatch_interval = n;
	c->options |= PR_O_REDISP;
	return 0;
}

static const char *opt_suggest(const char *name)
{
	const char *best = NULL;
	int best_d = 3;
	struct reg_node *n;

	registry_for_each(n, cfg_options)
		for (const struct cfg_opt *o = n->table; o->name; o++) {
			int d = cfg_distance(name, o->name);
			if (d < best_d) {
				best = o->name;
				best_d = d;
			}
		}
	registry_for_each(n, cfg_keywords)
		for (const struct cfg_kw *kw = n->table; kw->name; kw++)
			if (strncmp(kw->name, "option ", 7) == 0) {
				int d = cfg_distance(name, kw->name + 7);
				if (d < best_d) {
					best = kw->name + 7;
					best_d = d;
				}
			}
	return best;
}

/* "option <flag>": boolean options from every registered table. */
static int parse_option(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	struct reg_node *n;

	registry_for_each(n, cfg_options) {
		for (const struct cfg_opt *o = n->table; o->name; o++) {
			if (strcmp(o->name, args[0]) != 0)
				continue;
			if (nargs > 1) {
				cfg_alert(ctx, "'option %s' takes no argument (got '%s')", o->name, args[1]);
				return -1;
			}
			if (!(o->sections & ctx->sec)) {
				/* named without "option", as HAProxy does */
				cfg_warn(ctx, "'%s' ignored because %s '%s' has no %s capability.", o->name,
				         ctx->sec_name, ctx->px->id,
				         (o->sections & CFG_SEC_BACKEND) ? "backend" : "frontend");
				return 0;
			}
			unsigned *opts = &ctx->px->c.options;
			unsigned mask = o->mask ? o->mask : o->bit;
			if (ctx->def) {
				const struct proxy *d = ctx->defpx;
				*opts = (*opts & ~mask) | (d ? d->c.options & mask : 0);
			} else if (ctx->inv) {
				/* "no option <mode>" falls back to the default mode */
				if ((*opts & mask) == o->bit)
					*opts &= ~mask;
			} else {
				*opts = (*opts & ~mask) | o->bit;
			}
			return 0;
		}
	}
	const char *hint = opt_suggest(args[0]);
	cfg_alert(ctx, "unknown option '%s'%s%s%s", args[0], hint ? "; did you mean '" : "", hint ? hint : "",
	          hint ? "' maybe ?" : "");
	return -1;
}

static int parse_default_backend(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	if (ctx->px->c.defbe_name && !(ctx->px->cap & PR_CAP_DEF) && ctx->defpx &&
	    ctx->px->c.defbe_name != ctx->defpx->c.defbe_name)
		cfg_warn(ctx, "'default_backend' redefined; the last one applies");
	ctx->px->c.defbe_name = cfg_strdup(args[0]);
	return 0;
}

static int parse_use_backend(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	struct switching_rule *r = cfg_alloc(sizeof(*r));

	r->be_name = cfg_strdup(args[0]);
	r->file = ctx->file;
	r->line = ctx->line;
	if (strstr(args[0], "%[")) {
		char err[512];
		r->dyn = cfg_alloc(sizeof(*r->dyn));
		if (logformat_parse(args[0], r->dyn, err, sizeof(err)) < 0) {
			cfg_alert(ctx, "'use_backend %s': %s", args[0], err);
			return -1;
		}
	}
	if (cond_parse_tail(ctx, args, nargs, 1, SMP_VAL_REQ, "use_backend rule", &r->cond) < 0)
		return -1;
	list_append(&ctx->px->switching_rules, &r->list);
	return 0;
}

static int parse_errorfile(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	int status;
	char err[512];

	if (cfg_int_arg(ctx, args[0], 100, 599, &status) < 0)
		return -1;
	int idx = http_err_index(status);
	if (idx < 0) {
		cfg_alert(ctx, "'errorfile': status code %d cannot be customized (supported: 200, 400, 401, 403, "
		          "404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504)", status);
		return -1;
	}
	struct http_reply *r = http_reply_load_errorfile(args[1], status, err, sizeof(err));
	if (!r) {
		cfg_alert(ctx, "'errorfile %d %s': %s", status, args[1], err);
		return -1;
	}
	ctx->px->c.errmsg[idx] = r;
	return 0;
}

static int parse_balance(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	char name[64];
	const char *paren = strchr(args[0], '(');
	size_t l = paren ? (size_t)(paren - args[0]) : strlen(args[0]);

	snprintf(name, sizeof(name), "%.*s", (int)l, args[0]);
	const struct lb_algo *algo = lb_find(name);
	if (!algo) {
		char list[256] = "";
		size_t used = 0;
		struct reg_node *n;
		registry_for_each(n, lb_algos)
			used += (size_t)snprintf(list + used, used < sizeof(list) ? sizeof(list) - used : 0, "%s%s",
			                         used ? ", " : "", ((const struct lb_algo *)n->table)->name);
		if (!strcmp(name, "rdp-cookie") || !strcmp(name, "hash"))
			cfg_alert(ctx, "'balance %s' is not supported yet by proxyd (available: %s)", args[0], list);
		else
			cfg_alert(ctx, "unknown balance algorithm '%s' (available: %s)", args[0], list);
		return -1;
	}
	if (algo->parse)
		return algo->parse(ctx, ctx->px, args, nargs);
	if (nargs > 1 || paren) {
		cfg_alert(ctx, "'balance %s' takes no argument (got '%s')", name, paren ? paren : args[1]);
		return -1;
	}
	ctx->px->c.lb = algo;
	return 0;
}

static const struct cfg_kw proxy_kws[] = {
	{ "mode", CFG_SEC_PX, 1, 1, parse_mode, SLOT_NONE, PX(mode), 0, 0, 0, "'http' or 'tcp'" },
	{ "maxconn", CFG_SEC_FE, 1, 1, NULL, SLOT_INT, PX(maxconn), 0, 1000000, 0, "<number>" },
	{ "timeout", CFG_SEC_PX, 1, -1, parse_timeout_unknown, SLOT_NONE, PX(to), 0, 0, 0, "<name> <time>" },
	{ "timeout client", CFG_SEC_FE, 1, 1, NULL, SLOT_TIME, PX(to[TO_CLIENT]), 0, 0, 0, "<time>" },
	{ "timeout client-fin", CFG_SEC_FE, 1, 1, NULL, SLOT_TIME, PX(to[TO_CLIENT_FIN]), 0, 0, 0, "<time>" },
	{ "timeout http-request", CFG_SEC_PX, 1, 1, NULL, SLOT_TIME, PX(to[TO_HTTP_REQ]), 0, 0, 0, "<time>" },
	{ "timeout http-keep-alive", CFG_SEC_PX, 1, 1, NULL, SLOT_TIME, PX(to[TO_HTTP_KA]), 0, 0, 0, "<time>" },
	{ "timeout tarpit", CFG_SEC_PX, 1, 1, NULL, SLOT_TIME, PX(to[TO_TARPIT]), 0, 0, KW_F_INERT, "<time>" },
	{ "timeout server", CFG_SEC_BE, 1, 1, NULL, SLOT_TIME, PX(to[TO_SERVER]), 0, 0, 0, "<time>" },
	{ "timeout server-fin", CFG_SEC_BE, 1, 1, NULL, SLOT_TIME, PX(to[TO_SERVER_FIN]), 0, 0, 0, "<time>" },
	{ "timeout connect", CFG_SEC_BE, 1, 1, NULL, SLOT_TIME, PX(to[TO_CONNECT]), 0, 0, 0, "<time>" },
	{ "timeout queue", CFG_SEC_BE, 1, 1, NULL, SLOT_TIME, PX(to[TO_QUEUE]), 0, 0, 0, "<time>" },
	{ "timeout tunnel", CFG_SEC_BE, 1, 1, NULL, SLOT_TIME, PX(to[TO_TUNNEL]), 0, 0, 0, "<time>" },
	{ "timeout check", CFG_SEC_BE, 1, 1, NULL, SLOT_TIME, PX(to[TO_CHECK]), 0, 0, 0, "<time>" },
	{ "retries", CFG_SEC_BE, 1, 1, NULL, SLOT_INT, PX(retries), 0, 1000, 0, "<number>" },
	{ "http-reuse", CFG_SEC_BE, 1, 1, parse_http_reuse, SLOT_NONE, PX(reuse), 0, 0, 0,
	  "'never', 'safe', 'aggressive' or 'always'" },
	{ "option", CFG_SEC_PX, 1, -1, parse_option, SLOT_NONE, PX(options), 0, 0, KW_F_NO, "<option name>" },
	{ "option redispatch", CFG_SEC_BE, 0, 1, parse_redispatch, SLOT_NONE, PX(redispatch_interval), 0, 0, KW_F_NO,
	  "[<interval>]" },
	{ "option forwardfor", CFG_SEC_PX, 0, 5, parse_forwardfor, SLOT_NONE, PX(options), 0, 0, KW_F_NO,
	  "[except <network>] [header <name>] [if-none]" },
	{ "default_backend", CFG_SEC_FE, 1, 1, parse_default_backend, SLOT_NONE, PX(defbe_name), 0, 0, 0,
	  "<backend name>" },
	{ "use_backend", CFG_SEC_FRONTEND | CFG_SEC_LISTEN, 1, -1, parse_use_backend, SLOT_NONE, PX(mode), 0, 0,
	  KW_F_STRICT, "<backend name> [if|unless <condition>]" },
	{ "errorfile", CFG_SEC_PX, 2, 2, parse_errorfile, SLOT_NONE, PX(errmsg), 0, 0, 0, "<code> <file>" },
	{ "balance", CFG_SEC_BE, 1, -1, parse_balance, SLOT_NONE, PX(lb), 0, 0, 0, "<algorithm> [<arguments>]" },
	{ NULL }
};

CFG_REGISTER(proxy_kws);

static const struct cfg_opt proxy_opts[] = {
	{ "http-keep-alive",   CFG_SEC_PX, PR_O_HTTP_KAL, PR_O_HTTP_MODE },
	{ "httpclose",         CFG_SEC_PX, PR_O_HTTP_CLO, PR_O_HTTP_MODE },
	{ "http-server-close", CFG_SEC_PX, PR_O_HTTP_SCL, PR_O_HTTP_MODE },
	{ "allbackups",        CFG_SEC_BE, PR_O_ALLBACKUPS, 0 },
	{ NULL }
};

CFG_OPT_REGISTER(proxy_opts);

/* Proxy keywords recognised but not implemented yet: an error that says so. */
static const struct cfg_unsupported proxy_unsupported[] = {
	{ "monitor-uri", CFG_SEC_FE, NULL },
	{ "monitor", CFG_SEC_FE, NULL },
	{ "tcp-request", CFG_SEC_PX, NULL },
	{ "tcp-response", CFG_SEC_BE, NULL },
	{ "http-after-response", CFG_SEC_PX, NULL },
	{ "compression", CFG_SEC_PX, NULL },
	{ "fullconn", CFG_SEC_BE, NULL },
	{ "rate-limit", CFG_SEC_FE, NULL },
	{ "description", CFG_SEC_PX, NULL },
	{ "id", CFG_SEC_PX, NULL },
	{ "disabled", CFG_SEC_PX, NULL },
	{ "enabled", CFG_SEC_PX, NULL },
	{ "filter", CFG_SEC_PX, NULL },
	{ "source", CFG_SEC_BE, NULL },
	{ "dispatch", CFG_SEC_BE, NULL },
	{ "server-template", CFG_SEC_BE, NULL },
	{ "email-alert", CFG_SEC_PX, NULL },
	{ "declare", CFG_SEC_FE, NULL },
	{ "errorloc", CFG_SEC_PX, NULL },
	{ "errorloc302", CFG_SEC_PX, NULL },
	{ "errorloc303", CFG_SEC_PX, NULL },
	{ "errorfiles", CFG_SEC_PX, NULL },
	{ "http-error", CFG_SEC_PX, NULL },
	{ "option httpslog", CFG_SEC_PX, "use 'option httplog' or a log-format" },
	{ "option pgsql-check", CFG_SEC_BE, NULL },
	{ "option ldap-check", CFG_SEC_BE, NULL },
	{ "option abortonclose", CFG_SEC_BE, NULL },
	{ "option http-buffer-request", CFG_SEC_PX, NULL },
	{ "option http-ignore-probes", CFG_SEC_FE, NULL },
	{ "option http-pretend-keepalive", CFG_SEC_BE, NULL },
	{ "option http-no-delay", CFG_SEC_PX, NULL },
	{ "option http-use-proxy-header", CFG_SEC_FE, NULL },
	{ "option originalto", CFG_SEC_PX, NULL },
	{ "option socket-stats", CFG_SEC_FE, NULL },
	{ "option splice-auto", CFG_SEC_PX, NULL },
	{ "option splice-request", CFG_SEC_PX, NULL },
	{ "option splice-response", CFG_SEC_PX, NULL },
	{ "option tcpka", CFG_SEC_PX, NULL },
	{ "option clitcpka", CFG_SEC_FE, NULL },
	{ "option srvtcpka", CFG_SEC_BE, NULL },
	{ "option independent-streams", CFG_SEC_PX, NULL },
	{ "option nolinger", CFG_SEC_PX, NULL },
	{ "option contstats", CFG_SEC_FE, NULL },
	{ "option checkcache", CFG_SEC_BE, NULL },
	{ "option transparent", CFG_SEC_BE, NULL },
	{ "option accept-invalid-http-request", CFG_SEC_FE, NULL },
	{ "option accept-invalid-http-response", CFG_SEC_BE, NULL },
	{ "option h1-case-adjust-bogus-client", CFG_SEC_FE, NULL },
	{ "option h1-case-adjust-bogus-server", CFG_SEC_BE, NULL },
	{ "option prefer-last-server", CFG_SEC_BE, NULL },
	{ "option spop-check", CFG_SEC_BE, NULL },
	{ "option external-check", CFG_SEC_BE, NULL },
	{ "option disable-h2-upgrade", CFG_SEC_FE, NULL },
	{ NULL }
};

REGISTER_TABLE(cfg_unsupported_kws, proxy_unsupported);
