/* Variables: "http-request set-var(txn.user) req.hdr(x-user)", then
 * "%[var(txn.user)]" or "acl known var(txn.user) -m found". Names are
 * resolved at load time to a slot of their scope:
 *   proc  the whole process            (strings malloc'ed, kept until replaced)
 *   sess  the client connection        (an array malloc'ed on first use)
 *   txn, req, res  one transaction     (slots and strings in the transaction's
 *                                       own memory: nothing to allocate)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <proxyd/cfg.h>
#include <proxyd/proxy.h>
#include <proxyd/rules.h>
#include <proxyd/sample.h>
#include <proxyd/stream.h>
#include <proxyd/thread.h>
#include <proxyd/vars.h>

#define VARS_PER_SCOPE 64

static const char *const scope_names[VAR_SCOPES] = { "proc", "sess", "txn", "req", "res" };

static struct var_desc descs[VAR_SCOPES][VARS_PER_SCOPE];
static int nb_descs[VAR_SCOPES];
static struct var_value proc_vars[VARS_PER_SCOPE];

int vars_txn_slots(void)
{
	return nb_descs[VAR_TXN] + nb_descs[VAR_REQ] + nb_descs[VAR_RES];
}

const struct var_desc *var_desc_get(const char *name, char *err, size_t errlen)
{
	const char *dot = strchr(name, '.');
	int scope = -1;

	if (dot)
		for (int i = 0; i < VAR_SCOPES; i++)
			if (strlen(scope_names[i]) == (size_t)(dot - name) &&
			    strncmp(scope_names[i], name, (size_t)(dot - name)) == 0)
				scope = i;
	if (scope < 0) {
		snprintf(err, errlen, "invalid variable name '%s': it must start with a scope "
		         "(proc., sess., txn., req. or res.)", name);
		return NULL;
	}
	const char *vn = dot + 1;
	if (!*vn) {
		snprintf(err, errlen, "empty variable name in '%s'", name);
		return NULL;
	}
	for (const char *p = vn; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '.')) {
			snprintf(err, errlen, "invalid character '%c' in variable name '%s'", *p, name);
			return NULL;
		}
	for (int i = 0; i < nb_descs[scope]; i++)
		if (strcmp(descs[scope][i].name, vn) == 0)
			return &descs[scope][i];
	if (nb_descs[scope] >= VARS_PER_SCOPE) {
		snprintf(err, errlen, "too many '%s' variables (at most %d)", scope_names[scope], VARS_PER_SCOPE);
		return NULL;
	}
	struct var_desc *d = &descs[scope][nb_descs[scope]];
	d->scope = (enum var_scope)scope;
	d->name = cfg_strdup(vn);
	/* txn, req and res share the transaction's slots */
	d->idx = scope >= VAR_TXN ? vars_txn_slots() : nb_descs[scope];
	nb_descs[scope]++;
	return d;
}

/* The slot of <d> for stream <s>, allocating the session's array if
 * <create>; NULL when there is none. */
static struct var_value *slot(const struct var_desc *d, struct stream *s, int create)
{
	switch (d->scope) {
	case VAR_PROC:
		return &proc_vars[d->idx];
	case VAR_SESS:
		if (!s->sess_vars) {
			if (!create)
				return NULL;
			s->sess_vars = calloc(VARS_PER_SCOPE, sizeof(struct var_value));
			if (!s->sess_vars)
				return NULL;
		}
		return &s->sess_vars[d->idx];
	default:
		return s->txn ? &s->txn->vars[d->idx] : NULL;
	}
}

static void var_clear(const struct var_desc *d, struct var_value *v)
{
	if (d->scope <= VAR_SESS)
		free(v->str);
	memset(v, 0, sizeof(*v));
}

static int var_set_nolock(const struct var_desc *d, struct stream *s, const struct sample *smp)
{
	struct var_value *v = slot(d, s, 1);

	if (!v)
		return 0;
	if (smp->type == SMP_T_STR || smp->type == SMP_T_BIN || smp->type == SMP_T_METH) {
		const char *p = smp->type == SMP_T_METH ? smp->data.meth.ptr : smp->data.str.ptr;
		size_t len = smp->type == SMP_T_METH ? smp->data.meth.len : smp->data.str.len;
		char *copy;
		if (d->scope <= VAR_SESS) {
			copy = malloc(len + 1);
			if (!copy)
				return 0;
		} else {
			/* in the transaction's arena, like header values */
			struct http_msg *m = &s->txn->req;
			if (*m->arena_used + len > m->arena_size)
				return 0;
			copy = m->arena + *m->arena_used;
			*m->arena_used += (uint32_t)len;
		}
		memcpy(copy, p, len);
		var_clear(d, v);
		v->str = copy;
		v->len = len;
		v->type = SMP_T_STR;
		if (smp->type == SMP_T_BIN)
			v->type = SMP_T_BIN;
		return 1;
	}
	var_clear(d, v);
	v->type = smp->type;
	v->sint = smp->data.sint;
	if (smp->type == SMP_T_IPV4)
		memcpy(v->addr, &smp->data.ipv4, 4);
	else if (smp->type == SMP_T_IPV6)
		memcpy(v->addr, &smp->data.ipv6, 16);
	return 1;
}

static void var_unset_nolock(const struct var_desc *d, struct stream *s)
{
	struct var_value *v = slot(d, s, 0);

	if (v)
		var_clear(d, v);
}

static int var_get_nolock(const struct var_desc *d, struct stream *s, struct sample *smp)
{
	struct var_value *v = slot(d, s, 0);

	if (!v || !v->type)
		return 0;
	smp->type = v->type;
	switch (v->type) {
	case SMP_T_STR:
	case SMP_T_BIN:
		smp->data.str.ptr = v->str;
		smp->data.str.len = v->len;
		smp->flags |= SMP_F_CONST;
		break;
	case SMP_T_IPV4:
		memcpy(&smp->data.ipv4, v->addr, 4);
		break;
	case SMP_T_IPV6:
		memcpy(&smp->data.ipv6, v->addr, 16);
		break;
	default:
		smp->data.sint = v->sint;
	}
	return 1;
}

void vars_sess_free(struct stream *s)
{
	if (!s->sess_vars)
		return;
	for (int i = 0; i < VARS_PER_SCOPE; i++)
		free(s->sess_vars[i].str);
	free(s->sess_vars);
	s->sess_vars = NULL;
}

void vars_deinit(void)
{
	for (int i = 0; i < VARS_PER_SCOPE; i++) {
		free(proc_vars[i].str);
		memset(&proc_vars[i], 0, sizeof(proc_vars[i]));
	}
	memset(nb_descs, 0, sizeof(nb_descs));
}

/*------------------------------------------------------------------------
 * var(<name>[,<default>]) fetch
 */
static int resolve_var_arg(struct arg *args, char *err, size_t errlen)
{
	const struct var_desc *d = var_desc_get(args[0].data.str.ptr, err, errlen);

	if (!d)
		return -1;
	args[0].data.var = d;
	return 0;
}

static int smp_fetch_var(const struct arg *args, struct sample *smp, struct stream *s,
                         const struct sample_fetch *kw)
{
	if (var_get(args[0].data.var, s, smp))
		return 1;
	if (args[1].type == ARGT_STR) {
		smp->type = SMP_T_STR;
		smp->flags |= SMP_F_CONST;
		smp->data.str.ptr = args[1].data.str.ptr;
		smp->data.str.len = args[1].data.str.len;
		return 1;
	}
	return 0;
}

static const struct sample_fetch var_fetches[] = {
	{ "var", smp_fetch_var, ARG2(1, VAR, STR), resolve_var_arg, SMP_T_ANY, SMP_USE_INT },
	{ NULL }
};

SMP_FETCH_REGISTER(var_fetches);

/*------------------------------------------------------------------------
 * set-var(<name>) <expr> / unset-var(<name>) actions. The rule name
 * carries the variable: "set-var(txn.x)".
 */
struct var_act {
	const struct var_desc *desc;
	struct sample_expr *expr;
};

static enum act_ret act_set_var(struct act_rule *rule, struct proxy *px, struct stream *s)
{
	struct var_act *va = rule->arg.ptr;
	struct sample smp;

	smp.flags = 0;
	if (sample_process(va->expr, s, &smp))
		var_set(va->desc, s, &smp);
	return ACT_RET_CONT;
}

static enum act_ret act_unset_var(struct act_rule *rule, struct proxy *px, struct stream *s)
{
	struct var_act *va = rule->arg.ptr;

	var_unset(va->desc, s);
	return ACT_RET_CONT;
}

/* <word> is "set-var(txn.x)" or "unset-var(txn.x)" */
static int parse_var_name(struct cfg_ctx *ctx, const char *word, struct var_act *va)
{
	char name[128], err[256];
	const char *open = strchr(word, '(');
	const char *close = open ? strchr(open, ')') : NULL;

	if (!open || !close || close[1] || close - open - 1 <= 0 || (size_t)(close - open) > sizeof(name)) {
		cfg_alert(ctx, "'%s %s': expects a variable name in parentheses, e.g. 'set-var(txn.user)'", ctx->kw,
		          word);
		return -1;
	}
	snprintf(name, sizeof(name), "%.*s", (int)(close - open - 1), open + 1);
	va->desc = var_desc_get(name, err, sizeof(err));
	if (!va->desc) {
		cfg_alert(ctx, "'%s %s': %s", ctx->kw, word, err);
		return -1;
	}
	return 0;
}

static int parse_set_var(struct cfg_ctx *ctx, struct act_rule *rule, char **args, int nargs, int *cur)
{
	struct var_act *va = cfg_alloc(sizeof(*va));
	char err[512];

	if (parse_var_name(ctx, args[*cur - 1], va) < 0)
		return -1;
	if (*cur >= nargs) {
		cfg_alert(ctx, "'%s %s' expects a sample expression", ctx->kw, args[*cur - 1]);
		return -1;
	}
	va->expr = sample_parse_word(args[*cur], err, sizeof(err));
	if (!va->expr) {
		cfg_alert(ctx, "'%s %s': %s", ctx->kw, args[*cur - 1], err);
		return -1;
	}
	(*cur)++;
	rule->arg.ptr = va;
	rule->exec = act_set_var;
	return 0;
}

static int parse_unset_var(struct cfg_ctx *ctx, struct act_rule *rule, char **args, int nargs, int *cur)
{
	struct var_act *va = cfg_alloc(sizeof(*va));

	if (parse_var_name(ctx, args[*cur - 1], va) < 0)
		return -1;
	rule->arg.ptr = va;
	rule->exec = act_unset_var;
	return 0;
}

/* Matched by prefix: "set-var(" names the variable after it. */
static const struct act_kw var_act_kws[] = {
	{ "set-var(",   ACT_HTTP_REQ | ACT_HTTP_RES, parse_set_var },
	{ "unset-var(", ACT_HTTP_REQ | ACT_HTTP_RES, parse_unset_var },
	{ NULL }
};

ACT_REGISTER(var_act_kws);

/*------------------------------------------------------------------------
 * "proc." variables are shared by the threads: read and written under one
 * lock, and a string read is copied to the reader's scratch buffer (another
 * thread may replace it right after).
 */
static pthread_mutex_t proc_lock = PTHREAD_MUTEX_INITIALIZER;

static int proc_locked(const struct var_desc *d)
{
	if (d->scope != VAR_PROC || !threads_multi())
		return 0;
	pthread_mutex_lock(&proc_lock);
	return 1;
}

int var_set(const struct var_desc *d, struct stream *s, const struct sample *smp)
{
	int locked = proc_locked(d);
	int ret = var_set_nolock(d, s, smp);

	if (locked)
		pthread_mutex_unlock(&proc_lock);
	return ret;
}

void var_unset(const struct var_desc *d, struct stream *s)
{
	int locked = proc_locked(d);

	var_unset_nolock(d, s);
	if (locked)
		pthread_mutex_unlock(&proc_lock);
}

int var_get(const struct var_desc *d, struct stream *s, struct sample *smp)
{
	int locked = proc_locked(d);
	int ret = var_get_nolock(d, s, smp);

	if (locked) {
		if (ret && (smp->type == SMP_T_STR || smp->type == SMP_T_BIN)) {
			struct trash *t = smp_trash();
			size_t n = smp->data.str.len < t->size ? smp->data.str.len : t->size;
			if (n)
				memcpy(t->area, smp->data.str.ptr, n);
			smp->data.str.ptr = t->area;
			smp->data.str.len = n;
		}
		pthread_mutex_unlock(&proc_lock);
	}
	return ret;
}
