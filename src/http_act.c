/* HTTP rule actions: allow, deny, redirect (also the "redirect" keyword),
 * header edits (set-header, add-header, del-header, replace-header,
 * replace-value), start-line edits (set-path, set-query, set-uri,
 * set-method, set-status). Values are log-format strings evaluated per
 * request; edits go through the head-editing API (http_msg.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <proxyd/acl.h>
#include <proxyd/cfg.h>
#include <proxyd/global.h>
#include <proxyd/http.h>
#include <proxyd/http_ana.h>
#include <proxyd/logformat.h>
#include <proxyd/pattern.h>
#include <proxyd/proxy.h>
#include <proxyd/regex.h>
#include <proxyd/rules.h>
#include <proxyd/sample.h>
#include <proxyd/str.h>
#include <proxyd/stream.h>
#include <proxyd/thread.h>

static int is_res_rule(struct cfg_ctx *ctx)
{
	return strcmp(ctx->kw, "http-response") == 0;
}

struct hdr_act {
	const char *name;
	size_t nlen;
	struct logformat fmt;      /* value or replacement */
	struct my_regex *re;       /* replace-header / replace-value */
	enum pat_match match;      /* del-header -m */
	int part;                  /* start line part, or status for set-status */
	const char *reason;        /* set-status reason */
};

/* The head a rule of this kind edits. */
static struct http_msg *rule_msg(struct stream *s, int res)
{
	if (!s->txn)
		return NULL;
	return res ? &s->txn->rsp : &s->txn->req;
}

/* An edit that did not fit (arena or header table full): HAProxy's
 * strict mode answers 500 rather than forward a message missing what the
 * configuration asked for. */
static enum act_ret rewrite_failed(struct stream *s, int res)
{
	s->fe->fe_counters[s->th->tid].internal_errors++;
	stream_set_term(s, TERM_PROXY, res ? PHASE_HDRS : PHASE_REQ);
	if (res) {
		/* the response head is still unsent: replace it */
		s->txn->rsp.state = HTTP_MSG_IDLE;
	}
	http_error(s, HTTP_ERR_500, "header rewrite failed (tune.maxrewrite too small?)");
	return ACT_RET_DONE;
}

/* Renders a value into a buffer of its own: the samples of the format use
 * the scratch ring, which a long format would wrap around. */
static __thread char *eval_area;

void http_act_thread_deinit(void)
{
	free(eval_area);
	eval_area = NULL;
}

static size_t eval_fmt(const struct logformat *lf, struct stream *s, const char **out)
{
	char *area;
	size_t size = (size_t)global.bufsize;

	if (!eval_area && !(eval_area = malloc(size))) {
		*out = "";
		return 0;
	}
	area = eval_area;
	*out = area;
	return logformat_build(lf, s, area, size, LF_EMPTY_MISSING);
}

/*------------------------------------------------------------------------
 * allow / deny
 */
static enum act_ret act_allow(struct act_rule *rule, struct proxy *px, struct stream *s)
{
	return ACT_RET_STOP;
}

static enum act_ret act_deny(struct act_rule *rule, struct proxy *px, struct stream *s)
{
	int res = s->txn && s->txn->rsp.state == HTTP_MSG_HDRS_DONE;
	const struct http_reply *r = &rule->arg.reply;

	if (res) {
		px->be_counters[s->th->tid].denied_resp++;
		s->txn->rsp.state = HTTP_MSG_IDLE;   /* the server's response is dropped */
		stream_set_term(s, TERM_PROXY, PHASE_HDRS);
	} else {
		s->fe->fe_counters[s->th->tid].denied_req++;
		stream_set_term(s, TERM_PROXY, PHASE_REQ);
	}
	if (!r->ctype && !r->raw && !r->hdrs) {
		/* no body of its own: the error page for that status, the
		 * proxy's errorfile when there is one */
		http_error(s, (enum http_err)http_err_index(r->status), NULL);
		return ACT_RET_DONE;
	}
	if (!r->ctype && !r->raw) {
		/* headers only: the page of the status with them */
		struct http_reply with = *http_err_default((enum http_err)http_err_index(r->status));
		with.hdrs = r->hdrs;
		http_reply_send(s, &with, 0);
		return ACT_RET_DONE;
	}
	http_reply_send(s, r, 0);
	return ACT_RET_DONE;
}

int http_reply_load_body(const char *path, struct http_reply *r, char *err, size_t errlen);

/* deny [deny_status <code>] [content-type <t>] [string <s> | file <f>] [hdr n v]...
 * Without a body the status must have an error page (and the proxy's
 * errorfile for it is used). http-response deny answers 502 by default. */
static int parse_deny(struct cfg_ctx *ctx, struct act_rule *rule, char **args, int nargs, int *cur)
{
	struct http_reply *r = &rule->arg.reply;
	int status = is_res_rule(ctx) ? 502 : 403, i = *cur, has_body = 0;
	char err[512], hdrs[2048] = "";
	size_t hlen = 0;
	const char *ctype = NULL;

	while (i < nargs && strcmp(args[i], "if") != 0 && strcmp(args[i], "unless") != 0) {
		if ((strcmp(args[i], "deny_status") == 0 || strcmp(args[i], "status") == 0) && i + 1 < nargs) {
			if (cfg_int_arg(ctx, args[i + 1], 200, 599, &status) < 0)
				return -1;
			i += 2;
		} else if (strcmp(args[i], "content-type") == 0 && i + 1 < nargs) {
			ctype = cfg_strdup(args[i + 1]);
			i += 2;
		} else if (strcmp(args[i], "string") == 0 && i + 1 < nargs) {
			r->body = cfg_strdup(args[i + 1]);
			r->body_len = strlen(args[i + 1]);
			has_body = 1;
			i += 2;
		} else if (strcmp(args[i], "file") == 0 && i + 1 < nargs) {
			if (http_reply_load_body(args[i + 1], r, err, sizeof(err)) < 0) {
				cfg_alert(ctx, "'%s deny': %s", ctx->kw, err);
				return -1;
			}
			has_body = 1;
			i += 2;
		} else if (strcmp(args[i], "hdr") == 0 && i + 2 < nargs) {
			int n = snprintf(hdrs + hlen, sizeof(hdrs) - hlen, "%s: %s\r\n", args[i + 1], args[i + 2]);
			if (n < 0 || (size_t)n >= sizeof(hdrs) - hlen) {
				cfg_alert(ctx, "'%s deny': too many 'hdr' values", ctx->kw);
				return -1;
			}
			hlen += (size_t)n;
			i += 3;
		} else {
			cfg_alert(ctx, "'%s deny': unexpected '%s' (expected 'deny_status <code>', 'content-type <type>', "
			          "'string <text>', 'file <path>' or 'hdr <name> <value>')", ctx->kw, args[i]);
			return -1;
		}
	}
	r->status = status;
	if (has_body) {
		if (!ctype) {
			cfg_alert(ctx, "'%s deny': a 'content-type' is required with a body", ctx->kw);
			return -1;
		}
		r->ctype = ctype;
	} else if (http_err_index(status) < 0) {
		cfg_alert(ctx, "'%s deny': status %d has no error page; give a body ('content-type' and 'string' or "
		          "'file') or use one of 200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, "
		          "502, 503, 504", ctx->kw, status);
		return -1;
	}
	if (hlen) {
		char all[2400];
		snprintf(all, sizeof(all), "%s%s", has_body ? "" : "cache-control: no-cache\r\n", hdrs);
		r->hdrs = cfg_strdup(all);
	}
	rule->exec = act_deny;
	*cur = i;
	return 0;
}

static int parse_allow(struct cfg_ctx *ctx, struct act_rule *rule, char **args, int nargs, int *cur)
{
	rule->exec = act_allow;
	return 0;
}

/*------------------------------------------------------------------------
 * redirect location|prefix|scheme <fmt> [code <n>] [drop-query] [append-slash]
 *          [set-cookie NAME[=VALUE]] [clear-cookie NAME]
 */
enum redir_type { REDIR_LOCATION, REDIR_PREFIX, REDIR_SCHEME };

struct redirect {
	enum redir_type type;
	struct logformat fmt;
	int code;
	int drop_query;
	int append_slash;
	const char *cookie;        /* "Set-Cookie: ..." line, or NULL */
};

static enum act_ret act_redirect(struct act_rule *rule, struct proxy *px, struct stream *s)
{
	const struct redirect *rd = rule->arg.ptr;
	struct http_msg *m = s->txn && s->txn->req.state == HTTP_MSG_HDRS_DONE ? &s->txn->req : NULL;
	struct trash *loc = smp_trash();
	const char *v;
	size_t vl = eval_fmt(&rd->fmt, s, &v), n = 0;

	if (vl > loc->size / 2)
		return rewrite_failed(s, 0);
	const char *uri = m ? http_sl(m, 1) : "/";
	size_t ul = m ? m->sl_len[1] : 1;
	/* prefix and scheme redirects keep the path and query of the request:
	 * not the scheme and authority of an absolute URI */
	if (ul && uri[0] != '/') {
		const char *sch = memchr(uri, ':', ul);
		if (sch && sch + 3 <= uri + ul && sch[1] == '/' && sch[2] == '/') {
			const char *slash = memchr(sch + 3, '/', (size_t)(uri + ul - sch - 3));
			const char *q = memchr(sch + 3, '?', (size_t)(uri + ul - sch - 3));
			const char *start = slash && (!q || slash < q) ? slash : q ? q : uri + ul;
			ul -= (size_t)(start - uri);
			uri = start;
		}
	}
	switch (rd->type) {
	case REDIR_LOCATION:
		memcpy(loc->area, v, vl);
		n = vl;
		break;
	case REDIR_SCHEME: {
		const char *host = "";
		size_t hl = 0;
		int hi = m ? http_find_hdr(m, "host", 4, -1) : -1;
		if (hi >= 0) {
			host = http_hdr_value(m, &m->hdrs[hi]);
			hl = m->hdrs[hi].vlen;
		}
		n = (size_t)snprintf(loc->area, loc->size, "%.*s://%.*s", (int)vl, v, (int)hl, host);
		/* fall through to append the URI */
	}
		/* fall through */
	case REDIR_PREFIX: {
		if (rd->type == REDIR_PREFIX) {
			/* "/" alone as a prefix would give "//path" */
			if (vl == 1 && v[0] == '/')
				vl = 0;
			memcpy(loc->area, v, vl);
			n = vl;
		}
		size_t keep = ul;
		const char *q = memchr(uri, '?', ul);
		if (rd->drop_query && q)
			keep = (size_t)(q - uri);
		if (n + keep + 1 >= loc->size)
			return rewrite_failed(s, 0);
		memcpy(loc->area + n, uri, keep);
		n += keep;
		if (rd->append_slash && (!q || rd->drop_query) && n && loc->area[n - 1] != '/')
			loc->area[n++] = '/';
		break;
	}
	}

	struct trash *h = smp_trash();
	/* HAProxy marks only the temporary redirects as not cacheable */
	int temp = rd->code == 302 || rd->code == 303 || rd->code == 307;
	int hl = snprintf(h->area, h->size, "location: %.*s\r\n%s%s%s", (int)n, loc->area,
	                  rd->cookie ? rd->cookie : "", rd->cookie ? "\r\n" : "",
	                  temp ? "cache-control: no-cache\r\n" : "");
	if (hl < 0 || (size_t)hl >= h->size)
		return rewrite_failed(s, 0);
	struct http_reply r = { .status = rd->code, .hdrs = h->area };
	stream_set_term(s, TERM_LOCAL, PHASE_REQ);
	s->fe->fe_counters[s->th->tid].intercepted++;
	http_reply_send(s, &r, 0);
	return ACT_RET_DONE;
}

static struct redirect *parse_redirect_args(struct cfg_ctx *ctx, char **args, int nargs, int *cur)
{
	struct redirect *rd = cfg_alloc(sizeof(*rd));
	char err[512], cookie[512];
	int i = *cur;

	rd->code = 302;
	if (i + 1 >= nargs) {
		cfg_alert(ctx, "'redirect' expects 'location', 'prefix' or 'scheme' followed by a value");
		return NULL;
	}
	if (strcmp(args[i], "location") == 0)
		rd->type = REDIR_LOCATION;
	else if (strcmp(args[i], "prefix") == 0)
		rd->type = REDIR_PREFIX;
	else if (strcmp(args[i], "scheme") == 0)
		rd->type = REDIR_SCHEME;
	else {
		cfg_alert(ctx, "'redirect' expects 'location', 'prefix' or 'scheme' (got '%s')", args[i]);
		return NULL;
	}
	if (logformat_parse(args[i + 1], &rd->fmt, err, sizeof(err)) < 0 ||
	    logformat_check_use(&rd->fmt, strcmp(ctx->kw, "http-response") == 0 ? SMP_VAL_RES : SMP_VAL_REQ,
	                        err, sizeof(err)) < 0) {
		cfg_alert(ctx, "'redirect %s': %s", args[i], err);
		return NULL;
	}
	logformat_set_http(&rd->fmt);
	for (i += 2; i < nargs && strcmp(args[i], "if") != 0 && strcmp(args[i], "unless") != 0; i++) {
		if (strcmp(args[i], "code") == 0 && i + 1 < nargs) {
			if (cfg_int_arg(ctx, args[++i], 301, 308, &rd->code) < 0)
				return NULL;
			if (rd->code > 303 && rd->code < 307) {
				cfg_alert(ctx, "'redirect': code must be 301, 302, 303, 307 or 308 (got %d)", rd->code);
				return NULL;
			}
		} else if (strcmp(args[i], "drop-query") == 0) {
			rd->drop_query = 1;
		} else if (strcmp(args[i], "append-slash") == 0) {
			rd->append_slash = 1;
		} else if (strcmp(args[i], "set-cookie") == 0 && i + 1 < nargs) {
			snprintf(cookie, sizeof(cookie), "set-cookie: %s; path=/;", args[++i]);
			rd->cookie = cfg_strdup(cookie);
		} else if (strcmp(args[i], "clear-cookie") == 0 && i + 1 < nargs) {
			snprintf(cookie, sizeof(cookie), "set-cookie: %s; path=/; Max-Age=0;", args[++i]);
			rd->cookie = cfg_strdup(cookie);
		} else {
			cfg_alert(ctx, "'redirect': unexpected '%s' (expected 'code', 'drop-query', 'append-slash', "
			          "'set-cookie' or 'clear-cookie')", args[i]);
			return NULL;
		}
	}
	*cur = i;
	return rd;
}

static int parse_redirect(struct cfg_ctx *ctx, struct act_rule *rule, char **args, int nargs, int *cur)
{
	struct redirect *rd = parse_redirect_args(ctx, args, nargs, cur);

	if (!rd)
		return -1;
	if (rd->type != REDIR_LOCATION && is_res_rule(ctx)) {
		cfg_alert(ctx, "'http-response redirect' only supports 'location' (the request is gone by then)");
		return -1;
	}
	rule->arg.ptr = rd;
	rule->exec = act_redirect;
	return 0;
}

/* The "redirect" keyword: an http-request redirect kept in its own list,
 * run after the http-request rules as HAProxy does. */
static int parse_redirect_kw(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	struct act_rule *rule = cfg_alloc(sizeof(*rule));
	int cur = 0;

	rule->name = "redirect";
	rule->file = ctx->file;
	rule->line = ctx->line;
	if (parse_redirect(ctx, rule, args, nargs, &cur) < 0)
		return -1;
	if (cond_parse_tail(ctx, args, nargs, cur, SMP_VAL_REQ, "redirect rule", &rule->cond) < 0)
		return -1;
	list_append(&ctx->px->redirect_rules, &rule->list);
	return 0;
}

/*------------------------------------------------------------------------
 * Header edits
 */
static int parse_fmt_arg(struct cfg_ctx *ctx, const char *what, const char *arg, struct logformat *lf)
{
	char err[512];

	if (logformat_parse(arg, lf, err, sizeof(err)) < 0 ||
	    logformat_check_use(lf, is_res_rule(ctx) ? SMP_VAL_RES : SMP_VAL_REQ, err, sizeof(err)) < 0) {
		cfg_alert(ctx, "'%s %s': %s", ctx->kw, what, err);
		return -1;
	}
	logformat_set_http(lf);
	return 0;
}

static enum act_ret act_set_header(struct act_rule *rule, struct proxy *px, struct stream *s)
{
	struct hdr_act *a = rule->arg.ptr;
	int res = a->part;   /* 1 for http-response */
	struct http_msg *m = rule_msg(s, res);
	const char *v;
	size_t vl;

	if (!m)
		return ACT_RET_CONT;
	vl = eval_fmt(&a->fmt, s, &v);
	if (http_hdr_set(m, a->name, a->nlen, v, vl) < 0)
		return rewrite_failed(s, res);
	return ACT_RET_CONT;
}

static enum act_ret act_add_header(struct act_rule *rule, struct proxy *px, struct stream *s)
{
	struct hdr_act *a = rule->arg.ptr;
	struct http_msg *m = rule_msg(s, a->part);
	const char *v;
	size_t vl;

	if (!m)
		return ACT_RET_CONT;
	vl = eval_fmt(&a->fmt, s, &v);
	if (http_hdr_add(m, a->name, a->nlen, v, vl) < 0)
		return rewrite_failed(s, a->part);
	return ACT_RET_CONT;
}

static int name_matches(const struct hdr_act *a, const char *n, size_t nl)
{
	switch (a->match) {
	case PAT_MATCH_BEG:
		return nl >= a->nlen && mem_ieq(n, a->name, a->nlen);
	case PAT_MATCH_END:
		return nl >= a->nlen && mem_ieq(n + nl - a->nlen, a->name, a->nlen);
	case PAT_MATCH_SUB:
		for (size_t i = 0; i + a->nlen <= nl; i++)
			if (mem_ieq(n + i, a->name, a->nlen))
				return 1;
		return 0;
	case PAT_MATCH_REG:
		return regex_exec(a->re, n, nl);
	default:
		return nl == a->nlen && mem_ieq(n, a->name, nl);
	}
}

static enum act_ret act_del_header(struct act_rule *rule, struct proxy *px, struct stream *s)
{
	struct hdr_act *a = rule->arg.ptr;
	struct http_msg *m = rule_msg(s, a->part);

	if (!m)
		return ACT_RET_CONT;
	for (int i = 0; i < m->nb_hdrs; i++)
		if (m->hdrs[i].nlen && name_matches(a, http_hdr_name(m, &m->hdrs[i]), m->hdrs[i].nlen))
			http_hdr_del(m, i);
	return ACT_RET_CONT;
}

/* Writes <subst> with \0..\9 replaced by the groups of a match of
 * <subject> (offsets in ovec, <ng> groups set). Returns the length, or -1
 * when it does not fit in <dlen>. */
static long expand_groups(const char *subst, const char *subject, const long *ovec, int ng,
                          char *dst, size_t dlen)
{
	size_t out = 0;

	for (const char *p = subst; *p; p++) {
		if (*p == '\\' && p[1] >= '0' && p[1] <= '9') {
			int g = *++p - '0';
			if (g < ng && ovec[2 * g] >= 0) {
				size_t gl = (size_t)(ovec[2 * g + 1] - ovec[2 * g]);
				if (out + gl > dlen)
					return -1;
				memcpy(dst + out, subject + ovec[2 * g], gl);
				out += gl;
			}
			continue;
		}
		if (out + 1 > dlen)
			return -1;
		dst[out++] = *p;
	}
	return (long)out;
}

/* replace-header: the regex on each whole value; replace-value: on each
 * comma-separated value. The replacement is a log-format string where
 * \1..\9 refer to the regex groups. */
static enum act_ret act_replace(struct act_rule *rule, struct proxy *px, struct stream *s, int per_value)
{
	struct hdr_act *a = rule->arg.ptr;
	struct http_msg *m = rule_msg(s, a->part);
	const char *subst;
	size_t sl;

	if (!m)
		return ACT_RET_CONT;
	sl = eval_fmt(&a->fmt, s, &subst);
	struct trash *st = smp_trash();
	if (sl >= st->size)
		return rewrite_failed(s, a->part);
	memcpy(st->area, subst, sl);
	st->area[sl] = 0;

	for (int i = -1; (i = http_find_hdr(m, a->name, a->nlen, i)) >= 0;) {
		const char *v = http_hdr_value(m, &m->hdrs[i]);
		size_t vl = m->hdrs[i].vlen;
		struct trash *out = smp_trash();
		size_t o = 0;
		const char *p = v, *end = v + vl;

		while (p <= end) {
			const char *e = per_value ? memchr(p, ',', (size_t)(end - p)) : NULL;
			if (!e)
				e = end;
			const char *vs = p, *ve = e;
			if (per_value) {
				while (vs < ve && *vs == ' ')
					vs++;
				if (o) {
					if (o + 1 > out->size)
						return rewrite_failed(s, a->part);
					out->area[o++] = ',';
				}
			}
			/* as HAProxy: a matching value is replaced as a whole by the
			 * replacement, where \1..\9 refer to the regex's groups */
			long n = -1;
			long ovec[2 * REGEX_MAX_GROUPS];
			int ng = regex_exec_groups(a->re, vs, (size_t)(ve - vs), ovec, REGEX_MAX_GROUPS);
			if (ng) {
				/* as HAProxy: the whole value becomes the replacement,
				 * where \0..\9 are the groups of the match (a pattern
				 * that matches only a part of the value still replaces
				 * all of it) */
				n = expand_groups(st->area, vs, ovec, ng, out->area + o, out->size - o);
				if (n < 0)
					return rewrite_failed(s, a->part);
			}
			if (n < 0) {
				/* as HAProxy: a value left alone keeps its blanks, a
				 * replaced one loses them */
				if (o + (size_t)(ve - p) > out->size)
					return rewrite_failed(s, a->part);
				memcpy(out->area + o, p, (size_t)(ve - p));
				n = ve - p;
			}
			o += (size_t)n;
			if (e == end)
				break;
			p = e + 1;
		}
		if (http_hdr_set_value(m, i, out->area, o) < 0)
			return rewrite_failed(s, a->part);
	}
	return ACT_RET_CONT;
}

static enum act_ret act_replace_header(struct act_rule *rule, struct proxy *px, struct stream *s)
{
	return act_replace(rule, px, s, 0);
}

static enum act_ret act_replace_value(struct act_rule *rule, struct proxy *px, struct stream *s)
{
	return act_replace(rule, px, s, 1);
}

static int need_args(struct cfg_ctx *ctx, char **args, int nargs, int cur, int n, const char *usage)
{
	for (int i = 0; i < n; i++) {
		if (cur + i >= nargs || strcmp(args[cur + i], "if") == 0 || strcmp(args[cur + i], "unless") == 0) {
			cfg_alert(ctx, "'%s %s' expects %s", ctx->kw, args[cur - 1], usage);
			return -1;
		}
	}
	return 0;
}

static int parse_hdr_action(struct cfg_ctx *ctx, struct act_rule *rule, char **args, int nargs, int *cur)
{
	const char *act = args[*cur - 1];
	struct hdr_act *a = cfg_alloc(sizeof(*a));
	char err[512];
	int i = *cur;

	a->part = is_res_rule(ctx);
	rule->arg.ptr = a;
	if (strcmp(act, "del-header") == 0) {
		if (need_args(ctx, args, nargs, i, 1, "<name> [-m <method>]") < 0)
			return -1;
		a->name = cfg_strdup(args[i]);
		a->nlen = strlen(a->name);
		a->match = PAT_MATCH_STR;
		i++;
		if (i + 1 < nargs && strcmp(args[i], "-m") == 0) {
			int m = pat_match_lookup(args[i + 1]);
			if (m != PAT_MATCH_STR && m != PAT_MATCH_BEG && m != PAT_MATCH_END && m != PAT_MATCH_SUB &&
			    m != PAT_MATCH_REG) {
				cfg_alert(ctx, "'%s del-header -m': expects str, beg, end, sub or reg (got '%s')", ctx->kw,
				          args[i + 1]);
				return -1;
			}
			a->match = (enum pat_match)m;
			if (m == PAT_MATCH_REG && !(a->re = regex_compile(a->name, 1, err, sizeof(err)))) {
				cfg_alert(ctx, "'%s del-header': %s", ctx->kw, err);
				return -1;
			}
			i += 2;
		}
		rule->exec = act_del_header;
	} else if (strcmp(act, "replace-header") == 0 || strcmp(act, "replace-value") == 0) {
		if (need_args(ctx, args, nargs, i, 3, "<name> <regex> <replacement>") < 0)
			return -1;
		a->name = cfg_strdup(args[i]);
		a->nlen = strlen(a->name);
		if (!(a->re = regex_compile(args[i + 1], 0, err, sizeof(err)))) {
			cfg_alert(ctx, "'%s %s': %s", ctx->kw, act, err);
			return -1;
		}
		if (parse_fmt_arg(ctx, act, args[i + 2], &a->fmt) < 0)
			return -1;
		i += 3;
		rule->exec = act[8] == 'h' ? act_replace_header : act_replace_value;
	} else {
		if (need_args(ctx, args, nargs, i, 2, "<name> <value>") < 0)
			return -1;
		a->name = cfg_strdup(args[i]);
		a->nlen = strlen(a->name);
		if (parse_fmt_arg(ctx, act, args[i + 1], &a->fmt) < 0)
			return -1;
		i += 2;
		rule->exec = act[0] == 's' ? act_set_header : act_add_header;
	}
	*cur = i;
	return 0;
}

/*------------------------------------------------------------------------
 * Start line edits
 */
enum { SL_PATH = 10, SL_QUERY, SL_URI, SL_METHOD, SL_PATHQ };

static enum act_ret act_set_sl(struct act_rule *rule, struct proxy *px, struct stream *s)
{
	struct hdr_act *a = rule->arg.ptr;
	struct http_msg *m = rule_msg(s, 0);
	const char *v;
	size_t vl;

	if (!m || m->state != HTTP_MSG_HDRS_DONE)
		return ACT_RET_CONT;
	vl = eval_fmt(&a->fmt, s, &v);
	if (a->part == SL_METHOD) {
		if (!vl)
			return ACT_RET_CONT;
		return http_sl_set(m, 0, v, vl) < 0 ? rewrite_failed(s, 0) : ACT_RET_CONT;
	}
	if (a->part == SL_URI)
		return http_sl_set(m, 1, v, vl) < 0 ? rewrite_failed(s, 0) : ACT_RET_CONT;

	/* path / query / pathq: rebuild the URI around the changed part */
	const char *u = http_sl(m, 1);
	size_t ul = m->sl_len[1];
	const char *q = memchr(u, '?', ul);
	size_t plen = q ? (size_t)(q - u) : ul;
	const char *pfx = u;
	size_t pfxl = 0;
	/* keep "scheme://authority" of an absolute URI */
	if (ul && u[0] != '/') {
		const char *sch = memchr(u, ':', plen);
		if (sch && sch + 3 <= u + plen && sch[1] == '/' && sch[2] == '/') {
			const char *slash = memchr(sch + 3, '/', (size_t)(u + plen - sch - 3));
			pfxl = (size_t)((slash ? slash : u + plen) - u);
		}
	}
	struct trash *t = smp_trash();
	size_t n = 0;
	#define ADD(p, l) do { if (n + (l) > t->size) return rewrite_failed(s, 0); memcpy(t->area + n, p, l); n += (l); } while (0)
	if (a->part == SL_QUERY) {
		ADD(u, plen);
		ADD("?", 1);
		ADD(v, vl);
	} else {
		ADD(pfx, pfxl);
		ADD(v, vl);
		if (a->part == SL_PATH && q)
			ADD(q, ul - plen);
	}
	#undef ADD
	return http_sl_set(m, 1, t->area, n) < 0 ? rewrite_failed(s, 0) : ACT_RET_CONT;
}

static int parse_sl_action(struct cfg_ctx *ctx, struct act_rule *rule, char **args, int nargs, int *cur)
{
	const char *act = args[*cur - 1];
	struct hdr_act *a = cfg_alloc(sizeof(*a));

	if (need_args(ctx, args, nargs, *cur, 1, "a value") < 0)
		return -1;
	a->part = strcmp(act, "set-path") == 0 ? SL_PATH : strcmp(act, "set-query") == 0 ? SL_QUERY :
	          strcmp(act, "set-uri") == 0 ? SL_URI : strcmp(act, "set-pathq") == 0 ? SL_PATHQ : SL_METHOD;
	if (parse_fmt_arg(ctx, act, args[*cur], &a->fmt) < 0)
		return -1;
	rule->arg.ptr = a;
	rule->exec = act_set_sl;
	(*cur)++;
	return 0;
}

/* http-response set-status <code> [reason <text>] */
static enum act_ret act_set_status(struct act_rule *rule, struct proxy *px, struct stream *s)
{
	struct hdr_act *a = rule->arg.ptr;
	struct http_msg *m = rule_msg(s, 1);

	if (!m)
		return ACT_RET_CONT;
	m->status_override = a->part;
	const char *reason = a->reason ? a->reason : http_status_reason(a->part);
	if (http_sl_set(m, 2, reason, strlen(reason)) < 0)
		return rewrite_failed(s, 1);
	return ACT_RET_CONT;
}

static int parse_set_status(struct cfg_ctx *ctx, struct act_rule *rule, char **args, int nargs, int *cur)
{
	struct hdr_act *a = cfg_alloc(sizeof(*a));
	int i = *cur;

	if (need_args(ctx, args, nargs, i, 1, "<code> [reason <text>]") < 0)
		return -1;
	if (cfg_int_arg(ctx, args[i], 100, 999, &a->part) < 0)
		return -1;
	i++;
	if (i + 1 < nargs && strcmp(args[i], "reason") == 0) {
		a->reason = cfg_strdup(args[i + 1]);
		i += 2;
	}
	rule->arg.ptr = a;
	rule->exec = act_set_status;
	*cur = i;
	return 0;
}

static const struct act_kw http_act_kws[] = {
	{ "allow",          ACT_HTTP_REQ | ACT_HTTP_RES, parse_allow },
	{ "deny",           ACT_HTTP_REQ | ACT_HTTP_RES, parse_deny },
	{ "redirect",       ACT_HTTP_REQ | ACT_HTTP_RES, parse_redirect },
	{ "set-header",     ACT_HTTP_REQ | ACT_HTTP_RES, parse_hdr_action },
	{ "add-header",     ACT_HTTP_REQ | ACT_HTTP_RES, parse_hdr_action },
	{ "del-header",     ACT_HTTP_REQ | ACT_HTTP_RES, parse_hdr_action },
	{ "replace-header", ACT_HTTP_REQ | ACT_HTTP_RES, parse_hdr_action },
	{ "replace-value",  ACT_HTTP_REQ | ACT_HTTP_RES, parse_hdr_action },
	{ "set-path",       ACT_HTTP_REQ, parse_sl_action },
	{ "set-pathq",      ACT_HTTP_REQ, parse_sl_action },
	{ "set-query",      ACT_HTTP_REQ, parse_sl_action },
	{ "set-uri",        ACT_HTTP_REQ, parse_sl_action },
	{ "set-method",     ACT_HTTP_REQ, parse_sl_action },
	{ "set-status",     ACT_HTTP_RES, parse_set_status },
	{ NULL }
};

ACT_REGISTER(http_act_kws);

static const struct cfg_kw redirect_cfg_kws[] = {
	{ "redirect", CFG_SEC_FRONTEND | CFG_SEC_BACKEND | CFG_SEC_LISTEN, 2, -1, parse_redirect_kw, SLOT_NONE,
	  TGT_PROXY, 0, 0, 0, KW_F_STRICT, "location|prefix|scheme <value> [code <n>] [options] [if|unless <cond>]" },
	{ NULL }
};

CFG_REGISTER(redirect_cfg_kws);
