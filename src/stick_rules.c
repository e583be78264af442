/* "stick-table" declarations and the backend's "stick" rules.
 *
 * Request side, once the backend is known: each "stick match" / "stick on"
 * rule looks its key up, and the first entry naming a server that can take
 * the request sends it there directly (unless a persistence cookie already
 * chose one). Store rules only note their key: the first store rule of each
 * table wins, so that a configuration can try precise keys first (a header)
 * and fall back to coarse ones (the source address). Once a table has its
 * key, every later rule that stores in it is skipped whole, the match part
 * of a "stick on" included, as in HAProxy.
 *
 * The keys are written with the server really used once it is known: when
 * the response head arrives (HTTP) or the connection is established (TCP),
 * together with the "stick store-response" keys read from the response. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <proxyd/acl.h>
#include <proxyd/cfg.h>
#include <proxyd/diag.h>
#include <proxyd/pool.h>
#include <proxyd/thread.h>
#include <proxyd/proxy.h>
#include <proxyd/rules.h>
#include <proxyd/sample.h>
#include <proxyd/server.h>
#include <proxyd/stick_table.h>
#include <proxyd/stream.h>
#include <proxyd/thread.h>

enum {
	STK_MATCH = 1 << 0,
	STK_STORE = 1 << 1,
	STK_RES   = 1 << 2,   /* store-response */
};

struct stick_rule {
	struct list list;
	unsigned flags;                 /* STK_* */
	struct sample_expr *expr;
	const char *table_name;         /* NULL: the backend's own table */
	struct stktable *t;             /* resolved after parsing */
	struct cond *cond;
	const char *file;
	int line;
};

/* Keys waiting for the server, per stream; at most this many tables. */
#define STK_PENDING_MAX 8
struct stk_pending {
	int nb;
	struct {
		struct stktable *t;
		struct stk_key key;
	} e[STK_PENDING_MAX];
};

static struct pool pending_pool;

/*------------------------------------------------------------------------
 * Configuration
 */
/* "type <name> [len <n>]" from args[*i]: as in HAProxy, "len" is only
 * known right after "string" or "binary". */
static int parse_table_type(struct cfg_ctx *ctx, struct stktable *t, char **args, int nargs, int *i)
{
	static const struct { const char *name; enum stk_type type; } types[] = {
		{ "ip", STK_T_IP }, { "ipv6", STK_T_IPV6 }, { "integer", STK_T_INTEGER },
		{ "string", STK_T_STRING }, { "binary", STK_T_BINARY },
	};
	const char *v = args[*i + 1];
	size_t k;

	for (k = 0; k < sizeof(types) / sizeof(types[0]) && strcmp(v, types[k].name); k++)
		;
	if (k == sizeof(types) / sizeof(types[0])) {
		cfg_alert(ctx, "'stick-table': unknown type '%s' (expected ip, ipv6, integer, string or binary)", v);
		return -1;
	}
	t->type = types[k].type;
	*i += 1;
	if (t->type != STK_T_STRING && t->type != STK_T_BINARY)
		return 0;
	t->key_size = 32;
	if (*i + 1 >= nargs || strcmp(args[*i + 1], "len"))
		return 0;
	if (*i + 2 >= nargs) {
		cfg_alert(ctx, "'stick-table': 'len' expects a value");
		return -1;
	}
	int len;
	ctx->kw = "stick-table len";
	if (cfg_int_arg(ctx, args[*i + 2], 1, (long long)sizeof(((struct stk_key *)0)->data), &len) < 0)
		return -1;
	t->key_size = (unsigned)len;
	*i += 2;
	return 0;
}

/* Data types HAProxy can store besides the server, without proxyd's
 * support: named in the error so that it does not read as a typo. */
static const char *const unsupported_data[] = {
	"gpt0", "gpt", "gpc0", "gpc0_rate", "gpc1", "gpc1_rate", "gpc", "gpc_rate",
	"conn_cnt", "conn_cur", "conn_rate", "sess_cnt", "sess_rate",
	"http_req_cnt", "http_req_rate", "http_err_cnt", "http_err_rate", "http_fail_cnt", "http_fail_rate",
	"bytes_in_cnt", "bytes_in_rate", "bytes_out_cnt", "bytes_out_rate", NULL
};

static int check_data_type(struct cfg_ctx *ctx, const char *list, const char *w, size_t len)
{
	size_t name_len = strcspn(w, "(");

	if (name_len > len)
		name_len = len;
	/* what a stick rule needs is always kept */
	if ((name_len == 9 && !strncmp(w, "server_id", 9)) || (name_len == 10 && !strncmp(w, "server_key", 10)) ||
	    (name_len == 11 && !strncmp(w, "server_name", 11)))
		return 0;
	for (const char *const *u = unsupported_data; *u; u++) {
		if (strlen(*u) == name_len && !strncmp(w, *u, name_len)) {
			cfg_alert(ctx, "'stick-table store %s': the data type '%.*s' is valid in HAProxy but not "
			          "supported yet by proxyd (tables only keep the server of stick rules)", list, (int)len, w);
			return -1;
		}
	}
	cfg_alert(ctx, "'stick-table store': unknown data type '%.*s'", (int)len, w);
	return -1;
}

/* "store a,b(10s),c(2,1m)": commas inside parentheses separate arguments. */
static int parse_table_store(struct cfg_ctx *ctx, const char *list)
{
	const char *w = list;

	while (*w) {
		const char *p = w;
		int depth = 0;
		for (; *p && (*p != ',' || depth); p++)
			depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
		if (p > w && check_data_type(ctx, list, w, (size_t)(p - w)) < 0)
			return -1;
		w = *p ? p + 1 : p;
	}
	return 0;
}

static int parse_stick_table(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	struct stktable *t = cfg_alloc(sizeof(*t));
	int have_type = 0, have_size = 0;

	pthread_mutex_init(&t->lock, NULL);   /* once: the table is used by every thread */

	if (ctx->px->table) {
		cfg_alert(ctx, "'stick-table': only one table per proxy ('%s' has one already)", ctx->px->id);
		return -1;
	}
	t->px = ctx->px;
	for (int i = 0; i < nargs; i++) {
		const char *a = args[i];
		const char *v = i + 1 < nargs ? args[i + 1] : NULL;
		if (!strcmp(a, "nopurge")) {
			t->nopurge = 1;
			continue;
		}
		if (!v && (!strcmp(a, "type") || !strcmp(a, "size") || !strcmp(a, "expire") || !strcmp(a, "store") ||
		           !strcmp(a, "peers") || !strcmp(a, "srvkey") || !strcmp(a, "write-to"))) {
			cfg_alert(ctx, "'stick-table': '%s' expects a value", a);
			return -1;
		}
		if (!strcmp(a, "type")) {
			if (parse_table_type(ctx, t, args, nargs, &i) < 0)
				return -1;
			have_type = 1;
			continue;
		}
		i++;
		if (!strcmp(a, "size")) {
			int sz;
			ctx->kw = "stick-table size";
			if (cfg_size_arg(ctx, v, 1, 100000000, &sz) < 0)
				return -1;
			t->size = (unsigned)sz;
			have_size = 1;
		} else if (!strcmp(a, "expire")) {
			ctx->kw = "stick-table expire";
			if (cfg_time_arg(ctx, v, 1, &t->expire) < 0)
				return -1;
		} else if (!strcmp(a, "store")) {
			if (parse_table_store(ctx, v) < 0)
				return -1;
		} else if (!strcmp(a, "srvkey")) {
			if (strcmp(v, "name") && strcmp(v, "addr")) {
				cfg_alert(ctx, "'stick-table srvkey': expects 'name' or 'addr', not '%s'", v);
				return -1;
			}
		} else if (!strcmp(a, "peers") || !strcmp(a, "write-to")) {
			cfg_alert(ctx, "'stick-table %s' is valid in HAProxy but not supported yet by proxyd "
			          "(tables are local to the process)", a);
			return -1;
		} else if (!strcmp(a, "len")) {
			cfg_alert(ctx, "'stick-table': 'len' only follows 'type string' or 'type binary' (as in "
			          "'type string len 64')");
			return -1;
		} else {
			cfg_alert(ctx, "'stick-table': unknown argument '%s' (expected type, size, expire, nopurge, "
			          "store or srvkey)", a);
			return -1;
		}
	}
	if (!have_type || !have_size) {
		cfg_alert(ctx, "'stick-table': missing %s (e.g. 'stick-table type ip size 100k expire 30m')",
		          !have_type ? "'type'" : "'size'");
		return -1;
	}
	ctx->px->table = t;
	return 0;
}

static int parse_stick(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	struct stick_rule *r = cfg_alloc(sizeof(*r));
	const char *what = kw->name + 6;   /* after "stick " */
	char err[512];
	int cur = 1;

	r->flags = !strcmp(what, "on") ? STK_MATCH | STK_STORE : !strcmp(what, "match") ? STK_MATCH :
	           !strcmp(what, "store-request") ? STK_STORE : STK_STORE | STK_RES;
	r->file = ctx->file;
	r->line = ctx->line;
	r->expr = sample_parse_word(args[0], err, sizeof(err));
	if (!r->expr) {
		cfg_alert(ctx, "'%s': %s", kw->name, err);
		return -1;
	}
	unsigned where = (r->flags & STK_RES) ? SMP_VAL_RES : SMP_VAL_REQ;
	if (r->expr->fetch->use & ~where) {
		cfg_alert(ctx, "'%s %s': the fetch '%s' reads the %s, which is not available here%s", kw->name, args[0],
		          r->expr->fetch->kw, (r->flags & STK_RES) ? "request" : "response",
		          (r->flags & STK_RES) ? "" : " (use 'stick store-response' for response data)");
		return -1;
	}
	if (cur < nargs && !strcmp(args[cur], "table")) {
		if (cur + 1 >= nargs) {
			cfg_alert(ctx, "'%s': 'table' expects the name of a proxy that declares a stick-table", kw->name);
			return -1;
		}
		r->table_name = cfg_strdup(args[cur + 1]);
		cur += 2;
	}
	if (cond_parse_tail(ctx, args, nargs, cur, where, kw->name, &r->cond) < 0)
		return -1;
	list_append((r->flags & STK_RES) ? &ctx->px->storersp_rules : &ctx->px->sticking_rules, &r->list);
	return 0;
}

#define STICK_USAGE "<pattern> [table <name>] [{if | unless} <condition>]"
#define STICK_SECS (CFG_SEC_BACKEND | CFG_SEC_LISTEN)

static const struct cfg_kw stick_cfg_kws[] = {
	{ "stick-table", CFG_SEC_FRONTEND | CFG_SEC_BACKEND | CFG_SEC_LISTEN, 0, -1, parse_stick_table, SLOT_NONE,
	  TGT_PROXY, 0, 0, 0, KW_F_STRICT,
	  "type {ip | ipv6 | integer | string [len <n>] | binary [len <n>]} size <n> [expire <time>] [nopurge]" },
	{ "stick on", STICK_SECS, 1, -1, parse_stick, SLOT_NONE, TGT_PROXY, 0, 0, 0, KW_F_STRICT, STICK_USAGE },
	{ "stick match", STICK_SECS, 1, -1, parse_stick, SLOT_NONE, TGT_PROXY, 0, 0, 0, KW_F_STRICT, STICK_USAGE },
	{ "stick store-request", STICK_SECS, 1, -1, parse_stick, SLOT_NONE, TGT_PROXY, 0, 0, 0, KW_F_STRICT,
	  STICK_USAGE },
	{ "stick store-response", STICK_SECS, 1, -1, parse_stick, SLOT_NONE, TGT_PROXY, 0, 0, 0, KW_F_STRICT,
	  STICK_USAGE },
	{ NULL }
};

CFG_REGISTER(stick_cfg_kws);

static int resolve_rule(struct proxy *px, struct stick_rule *r)
{
	struct proxy *owner = px;

	if (r->table_name) {
		owner = NULL;
		struct proxy *p;
		list_for_each(p, &proxies, list)
			if (!strcmp(p->id, r->table_name) && p->table)
				owner = p;
		if (!owner) {
			ha_alert("parsing [%s:%d] : proxy '%s': unable to find stick-table '%s' (no proxy of that name "
			         "declares a 'stick-table').", r->file, r->line, px->id, r->table_name);
			return ERR_ALERT | ERR_FATAL;
		}
	} else if (!px->table) {
		ha_alert("parsing [%s:%d] : proxy '%s': 'stick' rule without a table: declare a 'stick-table' in "
		         "this backend or name one with 'table <proxy>'.", r->file, r->line, px->id);
		return ERR_ALERT | ERR_FATAL;
	}
	r->t = owner->table;
	static const enum smp_type want[] = {
		[STK_T_IP] = SMP_T_IPV4, [STK_T_IPV6] = SMP_T_IPV6, [STK_T_INTEGER] = SMP_T_SINT,
		[STK_T_STRING] = SMP_T_STR, [STK_T_BINARY] = SMP_T_BIN,
	};
	enum smp_type out = sample_expr_type(r->expr);
	if (!sample_can_cast(out, want[r->t->type])) {
		ha_alert("parsing [%s:%d] : proxy '%s': the 'stick' pattern gives a %s, which cannot be a key of "
		         "the %s table of '%s'.", r->file, r->line, px->id, smp_type_name(out),
		         stktable_type_name(r->t->type), owner->id);
		return ERR_ALERT | ERR_FATAL;
	}
	return 0;
}

static int stick_post_parse(void)
{
	struct proxy *px;
	struct stick_rule *r;
	int err = 0;

	list_for_each(px, &proxies, list) {
		list_for_each(r, &px->sticking_rules, list)
			err |= resolve_rule(px, r);
		list_for_each(r, &px->storersp_rules, list)
			err |= resolve_rule(px, r);
		if (!(px->cap & PR_CAP_BE) && (!list_empty(&px->sticking_rules) || !list_empty(&px->storersp_rules))) {
			ha_alert("config : proxy '%s': 'stick' rules need a backend.", px->id);
			err |= ERR_ALERT | ERR_FATAL;
		}
	}
	if (!pending_pool.name)
		pool_init(&pending_pool, "stick pending", sizeof(struct stk_pending), 64);
	pending_pool.shared = 1;
	return err;
}

static void stick_deinit(void)
{
	struct proxy *px;

	list_for_each(px, &proxies, list)
		if (px->table)
			stktable_free_entries(px->table);
	pool_flush(&pending_pool);
}

static const struct cfg_postparser stick_postparser = { "stick tables", stick_post_parse, stick_deinit };
CFG_POSTPARSER_REGISTER(stick_postparser);

/*------------------------------------------------------------------------
 * Traffic
 */
static int server_can_take(const struct stream *s, const struct server *srv)
{
	if (!(srv->admin & SRV_ADMF_MAINT) && srv->state != SRV_ST_STOPPED)
		return 1;
	return (s->be->c.options & PR_O_PERSIST) || (s->flags & SF_FORCE_PERSIST);
}

/* The server of <be> that an entry designates. An entry records the server
 * that served by its numeric id, as HAProxy's server_id, and the id is
 * looked up in the backend at hand: a table shared by several backends
 * sends a key to the server with the same id in each of them (the same
 * machines declared in the same order, usually). */
static struct server *entry_server(const struct proxy *be, const struct stksess *ts)
{
	struct server *srv;

	if (!ts->srv || ts->srv->be == be)
		return ts->srv;
	list_for_each(srv, &be->servers, list)
		if (srv->puid == ts->srv->puid)
			return srv;
	return NULL;
}

static int pending_has(const struct stk_pending *p, const struct stktable *t)
{
	for (int i = 0; p && i < p->nb; i++)
		if (p->e[i].t == t)
			return 1;
	return 0;
}

/* HAProxy makes room for a store as the request arrives, before it knows
 * whether the key is already in the table: a full nopurge table takes no
 * store at all, so its entries keep their server even when that server
 * could not serve, and the rule does not claim the table for its key. */
static void tbl_lock(struct stktable *t)
{
	if (threads_multi())
		pthread_mutex_lock(&t->lock);
}

static void tbl_unlock(struct stktable *t)
{
	if (threads_multi())
		pthread_mutex_unlock(&t->lock);
}

static int store_allowed(struct stktable *t, uint64_t now)
{
	tbl_lock(t);
	int ok = !t->nopurge || !stktable_full(t, now);
	tbl_unlock(t);
	return ok;
}

static void pending_add(struct stream *s, struct stktable *t, const struct stk_key *key)
{
	if (!s->stk) {
		s->stk = pool_alloc(&pending_pool);
		if (!s->stk)
			return;
		s->stk->nb = 0;
	}
	if (s->stk->nb < STK_PENDING_MAX) {
		s->stk->e[s->stk->nb].t = t;
		s->stk->e[s->stk->nb].key = *key;
		s->stk->nb++;
	}
}

void stick_request(struct stream *s)
{
	struct proxy *be = s->be;
	struct stick_rule *r;
	uint64_t now = th_now_ms(s->th);

	list_for_each(r, &be->sticking_rules, list) {
		/* a table that already has its key skips every later rule that
		 * stores, "stick on" included (its match part too), as HAProxy */
		if ((r->flags & STK_STORE) && pending_has(s->stk, r->t))
			continue;
		if (r->cond && !cond_exec(r->cond, be, s))
			continue;
		struct sample smp = { 0 };
		struct stk_key key;
		if (!sample_process(r->expr, s, &smp) || stktable_make_key(r->t, &smp, &key) < 0)
			continue;
		if (r->flags & STK_MATCH) {
			tbl_lock(r->t);
			struct stksess *ts = stktable_lookup(r->t, &key, now);
			if (ts) {
				struct server *srv = entry_server(be, ts);
				if (!(s->flags & SF_DIRECT) && srv && server_can_take(s, srv)) {
					s->srv = srv;
					s->flags |= SF_DIRECT;
				}
				stktable_touch(r->t, ts, now);
			}
			tbl_unlock(r->t);
		}
		if ((r->flags & STK_STORE) && store_allowed(r->t, now))
			pending_add(s, r->t, &key);
	}
}

static void store_key(struct stream *s, struct stktable *t, const struct stk_key *key, uint64_t now)
{
	tbl_lock(t);
	struct stksess *ts = stktable_get(t, key, now);

	if (ts)
		ts->srv = s->srv;
	tbl_unlock(t);
}

void stick_store(struct stream *s)
{
	struct stick_rule *r;
	uint64_t now = th_now_ms(s->th);

	if (!s->srv) {
		stick_release(s);
		return;
	}
	for (int i = 0; s->stk && i < s->stk->nb; i++)
		store_key(s, s->stk->e[i].t, &s->stk->e[i].key, now);
	if (s->flags & SF_HTTP) {
		/* response keys: the first rule of each table wins here too */
		struct stktable *done[STK_PENDING_MAX];
		int nd = 0;
		list_for_each(r, &s->be->storersp_rules, list) {
			int seen = 0;
			for (int k = 0; k < nd; k++)
				seen |= done[k] == r->t;
			if (seen || (r->cond && !cond_exec(r->cond, s->be, s)))
				continue;
			struct sample smp = { 0 };
			struct stk_key key;
			if (!sample_process(r->expr, s, &smp) || stktable_make_key(r->t, &smp, &key) < 0)
				continue;
			store_key(s, r->t, &key, now);
			if (nd < STK_PENDING_MAX)
				done[nd++] = r->t;
		}
	}
	stick_release(s);
}

void stick_release(struct stream *s)
{
	if (s->stk) {
		pool_free(&pending_pool, s->stk);
		s->stk = NULL;
	}
}
