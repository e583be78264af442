/* "server" and "default-server" lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <proxyd/addr.h>
#include <proxyd/cfg.h>
#include <proxyd/cfg_server.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>

struct registry srv_kws = REGISTRY_INIT("server options");
struct registry srv_unsupported_kws = REGISTRY_INIT("unsupported server options");

static int srv_parse_weight(struct cfg_ctx *ctx, struct srv_conf *sc, struct server *srv, char **args)
{
	ctx->kw = "weight";
	return cfg_int_arg(ctx, args[1], 0, 256, &sc->weight);
}

static int srv_parse_maxconn(struct cfg_ctx *ctx, struct srv_conf *sc, struct server *srv, char **args)
{
	ctx->kw = "maxconn";
	return cfg_int_arg(ctx, args[1], 0, 1000000, &sc->maxconn);
}

static int srv_parse_maxqueue(struct cfg_ctx *ctx, struct srv_conf *sc, struct server *srv, char **args)
{
	ctx->kw = "maxqueue";
	return cfg_int_arg(ctx, args[1], 0, 1000000, &sc->maxqueue);
}

static int srv_parse_disabled(struct cfg_ctx *ctx, struct srv_conf *sc, struct server *srv, char **args)
{
	sc->flags |= SRV_F_DISABLED;
	return 0;
}

static int srv_parse_enabled(struct cfg_ctx *ctx, struct srv_conf *sc, struct server *srv, char **args)
{
	sc->flags &= ~SRV_F_DISABLED;
	return 0;
}

static int srv_parse_backup(struct cfg_ctx *ctx, struct srv_conf *sc, struct server *srv, char **args)
{
	sc->flags |= SRV_F_BACKUP;
	return 0;
}

static const struct srv_kw server_kws[] = {
	{ "weight",   1, srv_parse_weight,   SRV_KW_DEFAULT_OK },
	{ "maxconn",  1, srv_parse_maxconn,  SRV_KW_DEFAULT_OK },
	{ "maxqueue", 1, srv_parse_maxqueue, SRV_KW_DEFAULT_OK },
	{ "disabled", 0, srv_parse_disabled, SRV_KW_DEFAULT_OK },
	{ "enabled",  0, srv_parse_enabled,  SRV_KW_DEFAULT_OK },
	{ "backup",   0, srv_parse_backup,   SRV_KW_DEFAULT_OK },
	{ NULL }
};

SRV_KW_REGISTER(server_kws);

static const char *const server_unsupported[] = {
	"check-alpn", "agent-check", "agent-port", "agent-inter", "agent-addr", "agent-send", "npn",
	"curves", "ssl-reuse", "tls-tickets", "no-verifyhost", "send-proxy", "send-proxy-v2",
	"send-proxy-v2-ssl", "send-proxy-v2-ssl-cn", "proxy-v2-options", "track", "slowstart", "on-error",
	"observe", "error-limit", "redir", "resolvers", "resolve-prefer", "resolve-net", "init-addr",
	"id", "namespace", "pool-max-conn", "pool-purge-delay", "pool-low-conn", "proto", "source", "tfo",
	"allow-0rtt", "max-reuse", "minconn", "non-stick", "stick", "tcp-ut", "usesrc", "ws", "log-proto",
	"socks4", "check-proto", "check-via-socks4", NULL
};

REGISTER_TABLE(srv_unsupported_kws, server_unsupported);

static const struct srv_kw *srv_kw_find(const char *name)
{
	struct reg_node *n;

	registry_for_each(n, srv_kws)
		for (const struct srv_kw *k = n->table; k->name; k++)
			if (strcmp(k->name, name) == 0)
				return k;
	return NULL;
}

static int srv_kw_unsupported(const char *name)
{
	struct reg_node *n;

	registry_for_each(n, srv_unsupported_kws)
		for (const char *const *k = n->table; *k; k++)
			if (strcmp(*k, name) == 0)
				return 1;
	return 0;
}

static const char *srv_kw_suggest(const char *name)
{
	const char *best = NULL;
	int best_d = 3;
	struct reg_node *n;

	registry_for_each(n, srv_kws)
		for (const struct srv_kw *k = n->table; k->name; k++) {
			int d = cfg_distance(name, k->name);
			if (d < best_d && d <= ((int)strlen(k->name) > 4 ? 2 : 1)) {
				best = k->name;
				best_d = d;
			}
		}
	return best;
}

/* Applies the options args[0..nargs) to <sc> (and <srv>). <what> names the
 * line in messages: "'server be/s1'", "'default-server'", or "" for the
 * admin socket, whose messages are HAProxy's (no prefix). */
int srv_parse_options(struct cfg_ctx *ctx, const char *what, struct srv_conf *sc,
                             struct server *srv, char **args, int nargs)
{
	const char *kwsave = ctx->kw;
	const char *sep = *what ? " : " : "";
	int ret = 0;

	for (int i = 0; i < nargs;) {
		const struct srv_kw *k = srv_kw_find(args[i]);
		if (!k) {
			if (srv_kw_unsupported(args[i])) {
				cfg_alert(ctx, "%s%s'%s' is a valid HAProxy server option but is not supported "
				          "yet by proxyd", what, sep, args[i]);
			} else {
				const char *hint = srv_kw_suggest(args[i]);
				cfg_alert(ctx, "%s%sunknown keyword '%s'%s%s%s", what, sep, args[i],
				          hint ? "; did you mean '" : "", hint ? hint : "", hint ? "' maybe ?" : "");
			}
			/* its arguments are unknown too: one error per line is clearer */
			ret = -1;
			break;
		}
		if (!srv && !(k->flags & SRV_KW_DEFAULT_OK)) {
			cfg_alert(ctx, "%s%s'%s' is not allowed on default-server lines", what, sep, k->name);
			ret = -1;
		} else if (k->nargs && i + k->nargs >= nargs) {
			cfg_alert(ctx, "%s%s'%s' expects %d argument%s", what, sep, k->name, k->nargs,
			          k->nargs > 1 ? "s" : "");
			ret = -1;
		} else if (k->parse(ctx, sc, srv, args + i) < 0) {
			ret = -1;
		}
		ctx->kw = kwsave;
		i += 1 + k->nargs;
	}
	return ret;
}

static int parse_server(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	struct proxy *be = ctx->px;
	struct addr_spec as;
	char err[512], what[512];

	if (nargs < 2) {
		cfg_alert(ctx, "'server' expects <name> and <address>[:<port>] (e.g. 'server web1 10.0.0.1:80')");
		return -1;
	}
	snprintf(what, sizeof(what), "'server %s/%s'", be->id, args[0]);
	if (proxy_find_server(be, args[0])) {
		cfg_alert(ctx, "%s : a server of that name already exists in backend '%s'", what, be->id);
		return -1;
	}
	if (addr_parse(args[1], ADDR_F_NO_PORT, &as, err, sizeof(err)) < 0) {
		cfg_alert(ctx, "%s : %s", what, err);
		return -1;
	}
	if (as.port_missing) {
		cfg_alert(ctx, "%s : a port is required in '%s' (proxyd does not reuse the client's port)",
		          what, args[1]);
		return -1;
	}

	struct server *srv = cfg_alloc(sizeof(*srv));
	srv->be = be;
	srv->id = cfg_strdup(args[0]);
	srv->conf_file = ctx->file;
	srv->conf_line = ctx->line;
	srv->c = be->c.defsrv;
	srv->addr = as.ss;
	srv->addrlen = as.len;
	srv->addr_text = cfg_strdup(args[1]);
	if (srv_parse_options(ctx, what, &srv->c, srv, args + 2, nargs - 2) < 0)
		return -1;
	list_append(&be->servers, &srv->list);
	srv->puid = ++be->nb_srv;
	return 0;
}

static int parse_default_server(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	return srv_parse_options(ctx, "'default-server'", &ctx->px->c.defsrv, NULL, args, nargs);
}

static const struct cfg_kw server_cfg_kws[] = {
	{ "server", CFG_SEC_BACKEND | CFG_SEC_LISTEN, 2, -1, parse_server, SLOT_NONE, TGT_PROXY, 0, 0, 0,
	  KW_F_STRICT, "<name> <address>[:<port>] [options...]" },
	{ "default-server", CFG_SEC_BE, 0, -1, parse_default_server, SLOT_NONE, TGT_PROXY, 0, 0, 0, 0,
	  "[options...]" },
	{ NULL }
};

CFG_REGISTER(server_cfg_kws);
