/* force-persist / ignore-persist and "option persist", and the order in
 * which the persistence methods see a request: the backend's persist rules
 * as soon as the backend is known (the first that matches decides, before
 * the backend's http-request rules, as HAProxy), then after those rules the
 * cookie (HTTP) and the stick tables, each only when no server is chosen
 * yet. */
#include <string.h>

#include <proxyd/acl.h>
#include <proxyd/cfg.h>
#include <proxyd/cookie.h>
#include <proxyd/persist.h>
#include <proxyd/proxy.h>
#include <proxyd/rules.h>
#include <proxyd/sample.h>
#include <proxyd/stick_table.h>
#include <proxyd/stream.h>

static int parse_persist_rule(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	struct persist_rule *r = cfg_alloc(sizeof(*r));

	/* HAProxy only looks at the backend's rules: warn, as it does */
	if (!(ctx->px->cap & PR_CAP_BE)) {
		cfg_warn(ctx, "'%s' ignored because %s '%s' has no backend capability.", kw->name, ctx->sec_name,
		         ctx->px->id ? ctx->px->id : "");
		return 0;
	}
	r->force = kw->name[0] == 'f';
	if (cond_parse_tail(ctx, args, nargs, 0, SMP_VAL_REQ, kw->name, &r->cond) < 0)
		return -1;
	if (!r->cond) {
		cfg_alert(ctx, "'%s' expects 'if' or 'unless' followed by a condition", kw->name);
		return -1;
	}
	list_append(&ctx->px->persist_rules, &r->list);
	return 0;
}

static const struct cfg_kw persist_cfg_kws[] = {
	{ "force-persist", CFG_SEC_FRONTEND | CFG_SEC_BACKEND | CFG_SEC_LISTEN, 2, -1, parse_persist_rule, SLOT_NONE, TGT_PROXY, 0, 0, 0,
	  KW_F_STRICT, "if|unless <condition>" },
	{ "ignore-persist", CFG_SEC_FRONTEND | CFG_SEC_BACKEND | CFG_SEC_LISTEN, 2, -1, parse_persist_rule, SLOT_NONE, TGT_PROXY, 0, 0,
	  0, KW_F_STRICT, "if|unless <condition>" },
	{ NULL }
};

CFG_REGISTER(persist_cfg_kws);

static const struct cfg_opt persist_opts[] = {
	{ "persist", CFG_SEC_BE, PR_O_PERSIST, 0 },
	{ NULL }
};

CFG_OPT_REGISTER(persist_opts);

void persist_rules_apply(struct stream *s)
{
	struct persist_rule *r;

	list_for_each(r, &s->be->persist_rules, list) {
		if (cond_exec(r->cond, s->be, s)) {
			s->flags |= r->force ? SF_FORCE_PERSIST : SF_IGNORE_PERSIST;
			return;
		}
	}
}

void persist_request(struct stream *s)
{
	if (s->flags & SF_HTTP)
		cookie_request(s);
	stick_request(s);
}
