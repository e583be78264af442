/* "bind" lines: addresses (several, comma-separated) and their options. */
#include <stdio.h>
#include <string.h>

#include <proxyd/addr.h>
#include <proxyd/cfg.h>
#include <proxyd/cfg_bind.h>
#include <proxyd/listener.h>
#include <proxyd/proxy.h>

struct registry bind_kws = REGISTRY_INIT("bind options");

static int bind_parse_maxconn(struct cfg_ctx *ctx, struct bind_conf *bc, char **args)
{
	ctx->kw = "maxconn";
	return cfg_int_arg(ctx, args[1], 0, 1000000, &bc->maxconn);
}

static int bind_parse_backlog(struct cfg_ctx *ctx, struct bind_conf *bc, char **args)
{
	ctx->kw = "backlog";
	return cfg_int_arg(ctx, args[1], 1, 1000000, &bc->backlog);
}

static int bind_parse_name(struct cfg_ctx *ctx, struct bind_conf *bc, char **args)
{
	bc->name = cfg_strdup(args[1]);
	return 0;
}

static const struct bind_kw bind_options[] = {
	{ "maxconn", 1, bind_parse_maxconn },
	{ "backlog", 1, bind_parse_backlog },
	{ "name",    1, bind_parse_name },
	{ NULL }
};

BIND_KW_REGISTER(bind_options);

static const char *const bind_unsupported[] = {
	"npn", "ca-ignore-err", "crt-ignore-err", "ca-sign-file", "ca-sign-pass", "ca-verify-file",
	"tls-ticket-keys", "accept-proxy", "accept-netscaler-cip", "defer-accept",
	"interface", "transparent", "tfo", "v4v6", "v6only", "mode", "uid", "gid", "user", "group",
	"level", "expose-fd", "process", "thread", "id", "nice", "mss", "namespace", "proto",
	"severity-output", "allow-0rtt", "generate-certificates", "tcp-ut", "quic-cc-algo", NULL
};

static const struct bind_kw *bind_kw_find(const char *name)
{
	struct reg_node *n;

	registry_for_each(n, bind_kws)
		for (const struct bind_kw *k = n->table; k->name; k++)
			if (strcmp(k->name, name) == 0)
				return k;
	return NULL;
}

static const char *bind_kw_suggest(const char *name)
{
	const char *best = NULL;
	int best_d = 3;
	struct reg_node *n;

	registry_for_each(n, bind_kws)
		for (const struct bind_kw *k = n->table; k->name; k++) {
			int d = cfg_distance(name, k->name);
			if (d < best_d && d <= ((int)strlen(k->name) > 4 ? 2 : 1)) {
				best = k->name;
				best_d = d;
			}
		}
	return best;
}

static int add_listener(struct cfg_ctx *ctx, struct bind_conf *bc, const char *text)
{
	struct addr_spec as;
	char err[512];

	if (addr_parse(text, ADDR_F_BIND, &as, err, sizeof(err)) < 0) {
		cfg_alert(ctx, "'bind %s' : %s", text, err);
		return -1;
	}
	struct listener *li = cfg_alloc(sizeof(*li));
	li->bind = bc;
	li->fe = bc->fe;
	li->fd = as.fd;
	li->inherited = as.fd >= 0;
	li->addr = as.ss;
	li->addrlen = as.len;
	list_append(&bc->listeners, &li->bind_el);
	list_append(&bc->fe->listeners, &li->fe_el);
	return 0;
}

static int parse_bind(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	struct bind_conf *bc = cfg_alloc(sizeof(*bc));
	int ret = 0;

	bc->fe = ctx->px;
	bc->file = ctx->file;
	bc->line = ctx->line;
	bc->arg = cfg_strdup(args[0]);
	list_init(&bc->listeners);

	/* "a:80,b:81": one listener per comma-separated address */
	char *list = cfg_strdup(args[0]), *save = NULL;
	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (add_listener(ctx, bc, tok) < 0)
			ret = -1;

	for (int i = 1; i < nargs;) {
		const struct bind_kw *k = bind_kw_find(args[i]);
		if (!k) {
			int unsupported = 0;
			for (const char *const *u = bind_unsupported; *u; u++)
				if (strcmp(*u, args[i]) == 0)
					unsupported = 1;
			if (unsupported) {
				cfg_alert(ctx, "'bind %s' : '%s' is a valid HAProxy bind option but is not supported "
				          "yet by proxyd", args[0], args[i]);
			} else {
				const char *hint = bind_kw_suggest(args[i]);
				cfg_alert(ctx, "'bind %s' : unknown keyword '%s'%s%s%s", args[0], args[i],
				          hint ? "; did you mean '" : "", hint ? hint : "", hint ? "' maybe ?" : "");
			}
			/* its arguments are unknown too: one error per line is clearer */
			ret = -1;
			break;
		}
		if (k->nargs && i + k->nargs >= nargs) {
			cfg_alert(ctx, "'bind %s' : '%s' expects %d argument%s", args[0], k->name, k->nargs,
			          k->nargs > 1 ? "s" : "");
			ret = -1;
		} else if (k->parse(ctx, bc, args + i) < 0) {
			ret = -1;
		}
		i += 1 + k->nargs;
	}
	list_append(&ctx->px->binds, &bc->list);
	return ret;
}

static const struct cfg_kw bind_cfg_kws[] = {
	{ "bind", CFG_SEC_FRONTEND | CFG_SEC_LISTEN, 1, -1, parse_bind, SLOT_NONE, TGT_PROXY, 0, 0, 0,
	  KW_F_STRICT, "<address>:<port>[,...] [options...]" },
	{ NULL }
};

CFG_REGISTER(bind_cfg_kws);
