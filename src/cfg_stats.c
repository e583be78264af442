/* Configuration of the stats page: the "stats" keywords of proxy sections
 * and the global "node" and "description". A defaults section's settings
 * are shared by the proxies that inherit them until one of them changes
 * something, which gives it its own copy. Any "stats" keyword enables
 * the page, as in HAProxy. */
#include <stdio.h>
#include <string.h>

#include <proxyd/cfg.h>
#include <proxyd/proxy.h>
#include <proxyd/rules.h>
#include <proxyd/sample.h>
#include <proxyd/stats.h>

#define STATS_DEFAULT_URI "/haproxy?stats"

/* Copies of an inherited stats_conf remember who owns them. */
struct stats_conf_owned {
	struct stats_conf c;
	const struct proxy *owner;
};

static struct stats_conf *conf_own(struct cfg_ctx *ctx)
{
	const struct stats_conf *cur = ctx->px->c.stats;
	struct stats_conf_owned *o;

	if (cur && ((const struct stats_conf_owned *)cur)->owner == ctx->px)
		return (struct stats_conf *)cur;
	o = cfg_alloc(sizeof(*o));
	if (cur) {
		o->c = *cur;
		/* lists are copied so that additions stay in this proxy */
		if (cur->nb_users) {
			o->c.users = cfg_alloc(sizeof(*o->c.users) * (size_t)cur->nb_users);
			memcpy(o->c.users, cur->users, sizeof(*o->c.users) * (size_t)cur->nb_users);
		}
		if (cur->nb_scopes) {
			o->c.scopes = cfg_alloc(sizeof(*o->c.scopes) * (size_t)cur->nb_scopes);
			memcpy(o->c.scopes, cur->scopes, sizeof(*o->c.scopes) * (size_t)cur->nb_scopes);
		}
	} else {
		o->c.uri = STATS_DEFAULT_URI;
		o->c.uri_len = strlen(STATS_DEFAULT_URI);
	}
	o->owner = ctx->px;
	o->c.enabled = 1;
	ctx->px->c.stats = &o->c;
	return &o->c;
}

static int parse_enable(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	conf_own(ctx);
	return 0;
}

static int parse_uri(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	if (args[0][0] != '/') {
		cfg_alert(ctx, "'stats uri %s': the URI must start with '/' (e.g. 'stats uri /stats')", args[0]);
		return -1;
	}
	struct stats_conf *c = conf_own(ctx);
	c->uri = cfg_strdup(args[0]);
	c->uri_len = strlen(c->uri);
	return 0;
}

static int parse_realm(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	if (strpbrk(args[0], "\"\\\r\n")) {
		cfg_alert(ctx, "'stats realm': the realm must not contain quotes, backslashes or line breaks");
		return -1;
	}
	conf_own(ctx)->realm = cfg_strdup(args[0]);
	return 0;
}

static int parse_auth(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	const char *colon = strchr(args[0], ':');

	if (!colon || colon == args[0]) {
		cfg_alert(ctx, "'stats auth' expects <user>:<password> (got '%s')", args[0]);
		return -1;
	}
	struct stats_conf *c = conf_own(ctx);
	struct stats_user *u = cfg_alloc(sizeof(*u) * (size_t)(c->nb_users + 1));
	if (c->nb_users)
		memcpy(u, c->users, sizeof(*u) * (size_t)c->nb_users);
	u[c->nb_users].ulen = (size_t)(colon - args[0]);
	u[c->nb_users].user = cfg_strndup(args[0], u[c->nb_users].ulen);
	u[c->nb_users].pass = cfg_strdup(colon + 1);
	u[c->nb_users].plen = strlen(colon + 1);
	c->users = u;
	c->nb_users++;
	return 0;
}

static int parse_refresh(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	int ms;

	if (cfg_time_arg(ctx, args[0], 1000, &ms) < 0)
		return -1;
	/* seconds for the Refresh header, rounded up as HAProxy */
	conf_own(ctx)->refresh = (ms + 999) / 1000;
	return 0;
}

static int parse_flag(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	struct stats_conf *c = conf_own(ctx);

	if (!strcmp(kw->name, "stats hide-version"))
		c->hide_version = 1;
	else if (!strcmp(kw->name, "stats show-legends"))
		c->show_legends = 1;
	else if (!strcmp(kw->name, "stats show-node")) {
		c->show_node = 1;
		c->node = nargs ? cfg_strdup(args[0]) : NULL;
	} else if (!strcmp(kw->name, "stats show-desc")) {
		c->show_desc = 1;
		c->desc = nargs ? cfg_strdup(args[0]) : NULL;
	}
	return 0;
}

static int parse_scope(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	struct stats_conf *c = conf_own(ctx);
	const char **s = cfg_alloc(sizeof(*s) * (size_t)(c->nb_scopes + 1));

	if (c->nb_scopes)
		memcpy(s, c->scopes, sizeof(*s) * (size_t)c->nb_scopes);
	/* "." is the proxy being defined */
	s[c->nb_scopes] = strcmp(args[0], ".") == 0 ? ctx->px->id : cfg_strdup(args[0]);
	c->scopes = s;
	c->nb_scopes++;
	return 0;
}

static int parse_admin(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	if (nargs < 2 || (strcmp(args[0], "if") != 0 && strcmp(args[0], "unless") != 0)) {
		cfg_alert(ctx, "'stats admin' requires a condition: 'stats admin if <cond>' (e.g. 'stats admin if "
		          "TRUE' or 'stats admin if LOCALHOST')");
		return -1;
	}
	struct stats_conf *c = conf_own(ctx);
	if (cond_parse_tail(ctx, args, nargs, 0, SMP_VAL_REQ, "stats admin rule", &c->admin) < 0)
		return -1;
	return 0;
}

/* Only reached for a sub-keyword no row matched. */
static int parse_unknown(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	if (nargs && (!strcmp(args[0], "socket") || !strcmp(args[0], "timeout") || !strcmp(args[0], "maxconn"))) {
		cfg_alert(ctx, "'stats %s' is not allowed in '%s' section; it belongs in a 'global' section", args[0],
		          ctx->sec_name);
		return -1;
	}
	if (nargs && (!strcmp(args[0], "http-request") || !strcmp(args[0], "bind-process"))) {
		cfg_alert(ctx, "'stats %s' is a valid HAProxy keyword but is not supported yet by proxyd", args[0]);
		return -1;
	}
	cfg_alert(ctx, "'stats' expects 'enable', 'uri', 'realm', 'auth', 'refresh', 'hide-version', 'show-node', "
	          "'show-desc', 'show-legends', 'admin' or 'scope' (got '%s')", nargs ? args[0] : "nothing");
	return -1;
}

static int parse_node(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	stats_node_name = cfg_strdup(args[0]);
	return 0;
}

/* "description" takes the rest of the line, words joined by spaces. */
static int parse_description(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	char d[1024];
	size_t n = 0;

	d[0] = 0;
	for (int i = 0; i < nargs && n < sizeof(d) - 1; i++)
		n += (size_t)snprintf(d + n, sizeof(d) - n, "%s%s", i ? " " : "", args[i]);
	stats_description = cfg_strdup(d);
	return 0;
}

#define ROW(name, min, max, fn, usage) \
	{ name, CFG_SEC_PX, min, max, fn, SLOT_NONE, TGT_PROXY, 0, 0, 0, 0, usage }

static const struct cfg_kw stats_kws[] = {
	ROW("stats", 0, -1, parse_unknown, "<sub-keyword> [arguments]"),
	ROW("stats enable", 0, 0, parse_enable, NULL),
	ROW("stats uri", 1, 1, parse_uri, "<prefix>"),
	ROW("stats realm", 1, 1, parse_realm, "<realm>"),
	ROW("stats auth", 1, 1, parse_auth, "<user>:<password>"),
	ROW("stats refresh", 1, 1, parse_refresh, "<delay>"),
	ROW("stats hide-version", 0, 0, parse_flag, NULL),
	ROW("stats show-legends", 0, 0, parse_flag, NULL),
	ROW("stats show-node", 0, 1, parse_flag, "[<name>]"),
	ROW("stats show-desc", 0, 1, parse_flag, "[<description>]"),
	ROW("stats scope", 1, 1, parse_scope, "<proxy name> | ."),
	ROW("stats admin", 0, -1, parse_admin, "if|unless <condition>"),
	{ "node", CFG_SEC_GLOBAL, 1, 1, parse_node, SLOT_NONE, TGT_GLOBAL, 0, 0, 0, 0, "<name>" },
	{ "description", CFG_SEC_GLOBAL, 1, -1, parse_description, SLOT_NONE, TGT_GLOBAL, 0, 0, 0, 0, "<text>" },
	{ NULL }
};

CFG_REGISTER(stats_kws);

static void stats_cfg_reset(void)
{
	stats_node_name = NULL;
	stats_description = NULL;
}

static int stats_cfg_check(void)
{
	return 0;
}

static const struct cfg_postparser stats_pp = { "stats page", stats_cfg_check, stats_cfg_reset };
CFG_POSTPARSER_REGISTER(stats_pp);
