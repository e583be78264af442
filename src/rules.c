/* http-request / http-response rule lists, the "return" action, and the
 * condition hook that the ACL engine will fill. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <proxyd/acl.h>
#include <proxyd/cfg.h>
#include <proxyd/http_ana.h>
#include <proxyd/http_reply.h>
#include <proxyd/logformat.h>
#include <proxyd/proxy.h>
#include <proxyd/rules.h>
#include <proxyd/stream.h>

struct registry act_kws = REGISTRY_INIT("http actions");

int cond_parse_tail(struct cfg_ctx *ctx, char **args, int nargs, int cur, unsigned where,
                    const char *where_name, struct cond **cond)
{
	*cond = NULL;
	if (cur >= nargs)
		return 0;
	if (strcmp(args[cur], "if") != 0 && strcmp(args[cur], "unless") != 0) {
		cfg_alert(ctx, "unexpected '%s' in '%s' (expected 'if' or 'unless' followed by a condition)",
		          args[cur], ctx->kw);
		return -1;
	}
	*cond = cond_parse(ctx, args, nargs, cur, where, where_name);
	return *cond ? 0 : -1;
}

int cond_exec(const struct cond *cond, struct proxy *px, struct stream *s)
{
	return !cond || cond_eval(cond, s);
}

static enum act_ret rules_run(struct list *rules, struct proxy *px, struct stream *s)
{
	struct act_rule *rule;

	list_for_each(rule, rules, list) {
		if (rule->cond && !cond_eval(rule->cond, s))
			continue;
		enum act_ret ret = rule->exec(rule, px, s);
		if (ret != ACT_RET_CONT)
			return ret;
	}
	return ACT_RET_CONT;
}

enum act_ret http_req_rules_run(struct proxy *px, struct stream *s)
{
	return rules_run(&px->http_req_rules, px, s);
}

enum act_ret http_res_rules_run(struct proxy *px, struct stream *s)
{
	return rules_run(&px->http_res_rules, px, s);
}

/*------------------------------------------------------------------------
 * return [status <code>] [content-type <type>]
 *        [ string <str> | file <path> | errorfile <path> | default-errorfile ]
 *        [ hdr <name> <value> ]*
 */
static enum act_ret act_return(struct act_rule *rule, struct proxy *px, struct stream *s)
{
	http_reply_send(s, &rule->arg.reply, 0);
	return ACT_RET_DONE;
}

int http_reply_load_body(const char *path, struct http_reply *r, char *err, size_t errlen);

static int parse_return(struct cfg_ctx *ctx, struct act_rule *rule, char **args, int nargs, int *cur)
{
	struct http_reply *r = &rule->arg.reply;
	char err[512];
	char hdrs[4096] = "";
	size_t hlen = 0;
	int has_body = 0, i = *cur;

	r->status = 200;
	while (i < nargs && strcmp(args[i], "if") != 0 && strcmp(args[i], "unless") != 0) {
		const char *a = args[i];
		if (strcmp(a, "status") == 0 && i + 1 < nargs) {
			if (cfg_int_arg(ctx, args[i + 1], 200, 599, &r->status) < 0)
				return -1;
			i += 2;
		} else if (strcmp(a, "content-type") == 0 && i + 1 < nargs) {
			r->ctype = cfg_strdup(args[i + 1]);
			i += 2;
		} else if (strcmp(a, "string") == 0 && i + 1 < nargs) {
			r->body = cfg_strdup(args[i + 1]);
			r->body_len = strlen(args[i + 1]);
			has_body = 1;
			i += 2;
		} else if (strcmp(a, "file") == 0 && i + 1 < nargs) {
			if (http_reply_load_body(args[i + 1], r, err, sizeof(err)) < 0) {
				cfg_alert(ctx, "'http-request return': %s", err);
				return -1;
			}
			has_body = 1;
			i += 2;
		} else if (strcmp(a, "errorfile") == 0 && i + 1 < nargs) {
			struct http_reply *raw = http_reply_load_errorfile(args[i + 1], r->status, err, sizeof(err));
			if (!raw) {
				cfg_alert(ctx, "'http-request return errorfile': %s", err);
				return -1;
			}
			*r = *raw;
			has_body = 2;
			i += 2;
		} else if (strcmp(a, "default-errorfile") == 0) {
			has_body = 3;
			i += 1;
		} else if (strcmp(a, "hdr") == 0 && i + 2 < nargs) {
			int n = snprintf(hdrs + hlen, sizeof(hdrs) - hlen, "%s: %s\r\n", args[i + 1], args[i + 2]);
			if (n < 0 || (size_t)n >= sizeof(hdrs) - hlen) {
				cfg_alert(ctx, "'http-request return': too many 'hdr' values");
				return -1;
			}
			hlen += (size_t)n;
			i += 3;
		} else if ((strcmp(a, "lf-string") == 0 || strcmp(a, "lf-file") == 0) && i + 1 < nargs) {
			struct http_reply tmp = { 0 };
			const char *fmt = args[i + 1];
			if (a[3] == 'f') {
				if (http_reply_load_body(args[i + 1], &tmp, err, sizeof(err)) < 0) {
					cfg_alert(ctx, "'http-request return lf-file': %s", err);
					return -1;
				}
				fmt = tmp.body;
			}
			struct logformat *lf = cfg_alloc(sizeof(*lf));
			if (logformat_parse(fmt, lf, err, sizeof(err)) < 0) {
				cfg_alert(ctx, "'http-request return %s': %s", a, err);
				return -1;
			}
			r->lf_body = lf;
			r->body = "";
			has_body = 1;
			i += 2;
		} else if (strcmp(a, "errorfiles") == 0) {
			cfg_alert(ctx, "'http-request return errorfiles' is not supported yet by proxyd (http-errors "
			          "sections are not either)");
			return -1;
		} else {
			cfg_alert(ctx, "'http-request return': unexpected '%s' (expected 'status <code>', "
			          "'content-type <type>', 'string <text>', 'file <path>', 'errorfile <path>', "
			          "'default-errorfile' or 'hdr <name> <value>')", a);
			return -1;
		}
	}
	if (has_body == 3) {
		int idx = http_err_index(r->status);
		if (idx < 0) {
			cfg_alert(ctx, "'http-request return default-errorfile': no default page for status %d", r->status);
			return -1;
		}
		*r = *http_err_default(idx);
	} else if (has_body == 1 && !r->ctype) {
		cfg_alert(ctx, "'http-request return': a 'content-type' is required with a body "
		          "(e.g. 'content-type text/plain')");
		return -1;
	} else if (!has_body && r->ctype) {
		cfg_alert(ctx, "'http-request return': 'content-type' given without a body ('string' or 'file')");
		return -1;
	}
	if (hlen && has_body != 2)
		r->hdrs = cfg_strdup(hdrs);
	rule->exec = act_return;
	*cur = i;
	return 0;
}

static const struct act_kw rules_act_kws[] = {
	{ "return", ACT_HTTP_REQ | ACT_HTTP_RES, parse_return },
	{ NULL }
};

ACT_REGISTER(rules_act_kws);

static const struct act_kw *act_find(const char *name, unsigned where)
{
	struct reg_node *n;

	registry_for_each(n, act_kws) {
		for (const struct act_kw *k = n->table; k->name; k++) {
			size_t l = strlen(k->name);
			/* "set-var(" matches "set-var(txn.x)": the name carries an argument */
			if ((k->where & where) &&
			    (l && k->name[l - 1] == '(' ? strncmp(k->name, name, l) == 0 : strcmp(k->name, name) == 0))
				return k;
		}
	}
	return NULL;
}

/* HAProxy actions proxyd does not implement yet. */
static const char *const act_unsupported[] = {
	"tarpit", "set-log-level", "set-nice", "set-tos", "set-mark", "capture", "track-sc0", "track-sc1",
	"track-sc2", "sc-inc-gpc0", "sc-inc-gpc1", "sc-set-gpt0", "lua", "cache-use", "cache-store",
	"early-hint", "normalize-uri", "set-src", "set-dst", "set-timeout", "wait-for-body", "wait-for-handshake",
	"reject", "silent-drop", "send-spoe-group", "strict-mode", "do-resolve", "add-acl", "del-acl", "set-map",
	"del-map", "set-bandwidth-limit", "set-src-port", "set-dst-port", "disable-l7-retry", "replace-path",
	"replace-pathq", "replace-uri", "set-priority-class", "set-priority-offset", "set-var-fmt",
	NULL
};

static int parse_http_rule(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	unsigned where = strcmp(kw->name, "http-request") == 0 ? ACT_HTTP_REQ : ACT_HTTP_RES;
	const struct act_kw *ak = act_find(args[0], where);

	if (!ak) {
		for (const char *const *u = act_unsupported; *u; u++) {
			size_t l = strlen(*u);
			if (strncmp(*u, args[0], l) == 0 && (args[0][l] == 0 || args[0][l] == '(')) {
				cfg_alert(ctx, "'%s %s' is a valid HAProxy action but is not supported yet by proxyd",
				          kw->name, args[0]);
				return -1;
			}
		}
		cfg_alert(ctx, "'%s' unknown action '%s'", kw->name, args[0]);
		return -1;
	}
	if (ctx->px->cap & PR_CAP_DEF) {
		cfg_alert(ctx, "'%s' rules are not supported in 'defaults' sections yet; put them in the "
		          "frontend, backend or listen section", kw->name);
		return -1;
	}
	struct act_rule *rule = cfg_alloc(sizeof(*rule));
	int cur = 1;
	rule->name = ak->name;
	rule->file = ctx->file;
	rule->line = ctx->line;
	if (ak->parse(ctx, rule, args, nargs, &cur) < 0)
		return -1;
	if (cond_parse_tail(ctx, args, nargs, cur, where == ACT_HTTP_REQ ? SMP_VAL_REQ : SMP_VAL_RES,
	                    where == ACT_HTTP_REQ ? "http-request rule" : "http-response rule", &rule->cond) < 0)
		return -1;
	list_append(where == ACT_HTTP_REQ ? &ctx->px->http_req_rules : &ctx->px->http_res_rules, &rule->list);
	return 0;
}

static const struct cfg_kw rules_cfg_kws[] = {
	{ "http-request", CFG_SEC_PX, 1, -1, parse_http_rule, SLOT_NONE, TGT_PROXY, 0, 0, 0, 0,
	  "<action> [options...] [if|unless <condition>]" },
	{ "http-response", CFG_SEC_PX, 1, -1, parse_http_rule, SLOT_NONE, TGT_PROXY, 0, 0, 0, 0,
	  "<action> [options...] [if|unless <condition>]" },
	{ NULL }
};

CFG_REGISTER(rules_cfg_kws);
