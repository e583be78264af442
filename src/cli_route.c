/* "show route [<frontend>] <method> <url> [<header>: <value>]..." on the
 * admin socket (a proxyd command, not HAProxy's): where would this request
 * go, and why. The request is built from the words and parsed by the same
 * parser as real traffic, into a stream that never reaches a thread's list
 * nor a socket; then, in the order the proxy runs them:
 *   - the frontend's http-request and redirect rules, each with its
 *     condition and the result of every ACL in it (actions are not run);
 *   - the use_backend rules, the first that matches choosing the backend,
 *     else default_backend;
 *   - the backend's own http-request rules;
 *   - cookie persistence, when the request carries the backend's cookie;
 *   - the server the balancer would pick now, asked without taking a slot
 *     or moving the rotation (the algorithm's peek hook).
 * An ACL whose fetches need the connection (addresses, TLS) or the
 * response cannot be evaluated here: it is reported "unknown", and a rule
 * that depends on it is taken as not matching, which the output says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <proxyd/acl.h>
#include <proxyd/cli.h>
#include <proxyd/cookie.h>
#include <proxyd/global.h>
#include <proxyd/http.h>
#include <proxyd/http_ana.h>
#include <proxyd/lb.h>
#include <proxyd/listener.h>
#include <proxyd/proxy.h>
#include <proxyd/rules.h>
#include <proxyd/server.h>
#include <proxyd/stream.h>
#include <proxyd/thread.h>

/* Three-valued results: an ACL that cannot be evaluated is unknown. */
enum tri { TRI_NO = 0, TRI_YES = 1, TRI_UNKNOWN = 2 };

static const char *tri_str(enum tri t)
{
	return t == TRI_YES ? "true" : t == TRI_NO ? "false" : "unknown";
}

static const char *acl_label(const struct acl *acl, char *buf, size_t len)
{
	if (acl->name)
		return acl->name;
	const struct acl_expr *e = list_empty(&acl->exprs) ? NULL : list_first(&acl->exprs, struct acl_expr, list);
	snprintf(buf, len, "{ %s ... }", e && e->kw ? e->kw : "anonymous");
	return buf;
}

static enum tri acl_eval(const struct acl *acl, struct stream *s, const char **why)
{
	*why = NULL;
	if (acl->use & SMP_USE_HRS) {
		*why = "needs the response";
		return TRI_UNKNOWN;
	}
	if (acl->use & SMP_USE_L4) {
		*why = "needs connection data";
		return TRI_UNKNOWN;
	}
	return acl_exec(acl, s) ? TRI_YES : TRI_NO;
}

/* Prints "  if a !b: true (a=true, b=false)" and returns the result. */
static enum tri cond_explain(struct cli_ctx *c, const struct cond *cond, struct stream *s)
{
	enum tri res = TRI_NO;
	char label[128];

	if (!cond) {
		cli_printf(c, "always\n");
		return TRI_YES;
	}
	cli_printf(c, "%s ", cond->pol == COND_UNLESS ? "unless" : "if");
	for (int i = 0; i < cond->nb; i++) {
		const struct acl_suite *su = &cond->suites[i];
		if (i)
			cli_printf(c, " || ");
		for (int t = 0; t < su->nb; t++)
			cli_printf(c, "%s%s%s", t ? " " : "", su->terms[t].neg ? "!" : "",
			           acl_label(su->terms[t].acl, label, sizeof(label)));
	}
	cli_printf(c, ":");
	for (int i = 0; i < cond->nb; i++) {
		const struct acl_suite *su = &cond->suites[i];
		enum tri all = TRI_YES;
		for (int t = 0; t < su->nb; t++) {
			const char *why;
			enum tri m = acl_eval(su->terms[t].acl, s, &why);
			cli_printf(c, " [%s=%s%s%s]", acl_label(su->terms[t].acl, label, sizeof(label)), tri_str(m),
			           why ? ": " : "", why ? why : "");
			if (m != TRI_UNKNOWN && su->terms[t].neg)
				m = m == TRI_YES ? TRI_NO : TRI_YES;
			if (m == TRI_NO)
				all = TRI_NO;
			else if (m == TRI_UNKNOWN && all == TRI_YES)
				all = TRI_UNKNOWN;
		}
		if (all == TRI_YES)
			res = TRI_YES;
		else if (all == TRI_UNKNOWN && res == TRI_NO)
			res = TRI_UNKNOWN;
	}
	if (cond->pol == COND_UNLESS && res != TRI_UNKNOWN)
		res = res == TRI_YES ? TRI_NO : TRI_YES;
	cli_printf(c, " => %s\n", tri_str(res));
	return res;
}

/* Actions after which the request goes no further (answered or dropped
 * by the proxy), and "allow", which ends the rules of its list. */
static const char *const final_actions[] = {
	"deny", "tarpit", "reject", "return", "redirect", "auth", "silent-drop", "use-service", NULL
};

/* 1 when a rule answers the request itself: the route ends there. */
static int explain_rules(struct cli_ctx *c, const char *what, const struct proxy *px, const struct list *rules,
                         struct stream *s)
{
	const struct act_rule *r;
	int n = 0;

	list_for_each(r, rules, list) {
		if (!n++)
			cli_printf(c, "%s rules of %s (conditions evaluated, actions not run):\n", what, px->id);
		cli_printf(c, "  #%d %s %s (%s:%d): ", n, what, r->name ? r->name : "?", r->file ? r->file : "?",
		           r->line);
		enum tri t = cond_explain(c, r->cond, s);
		if (t == TRI_UNKNOWN)
			cli_printf(c, "     (taken as not matching)\n");
		if (t != TRI_YES || !r->name)
			continue;
		if (!strcmp(r->name, "allow")) {
			cli_printf(c, "     the other %s rules of %s are skipped\n", what, px->id);
			return 0;
		}
		for (const char *const *f = final_actions; *f; f++)
			if (!strcmp(r->name, *f)) {
				cli_printf(c, "result: the proxy answers itself (%s %s at %s:%d); no backend\n", what, r->name,
				           r->file ? r->file : "?", r->line);
				return 1;
			}
	}
	return 0;
}

/* use_backend rules, then default_backend. */
static struct proxy *explain_switching(struct cli_ctx *c, struct proxy *fe, struct stream *s)
{
	const struct switching_rule *r;
	int n = 0;

	list_for_each(r, &fe->switching_rules, list) {
		if (!n++)
			cli_printf(c, "use_backend rules of %s:\n", fe->id);
		cli_printf(c, "  #%d use_backend %s (%s:%d): ", n, r->be_name ? r->be_name : "?",
		           r->file ? r->file : "?", r->line);
		enum tri t = cond_explain(c, r->cond, s);
		if (t == TRI_UNKNOWN) {
			cli_printf(c, "     (taken as not matching)\n");
			continue;
		}
		if (t != TRI_YES)
			continue;
		if (r->dyn) {
			cli_printf(c, "     the backend's name is built from the request: not evaluated here\n");
			return NULL;
		}
		cli_printf(c, "backend: %s (use_backend rule #%d)\n", r->be->id, n);
		return r->be;
	}
	if (fe->defbe) {
		cli_printf(c, "backend: %s (%s)\n", fe->defbe->id, fe->defbe == fe ? "the listen section itself" :
		           "default_backend");
		return fe->defbe;
	}
	cli_printf(c, "backend: none (no rule matched and no default_backend: 503)\n");
	return NULL;
}

/* The value of cookie <name> in the request's Cookie headers. */
static int find_cookie(const struct http_msg *m, const char *name, size_t nlen, const char **val, size_t *vlen)
{
	for (int h = http_find_hdr(m, "cookie", 6, -1); h >= 0; h = http_find_hdr(m, "cookie", 6, h)) {
		const char *p = http_hdr_value(m, &m->hdrs[h]);
		const char *end = p + m->hdrs[h].vlen;
		while (p < end) {
			while (p < end && (*p == ' ' || *p == ';'))
				p++;
			const char *eq = memchr(p, '=', (size_t)(end - p));
			const char *semi = memchr(p, ';', (size_t)(end - p));
			if (!semi)
				semi = end;
			if (eq && eq < semi && (size_t)(eq - p) == nlen && !memcmp(p, name, nlen)) {
				*val = eq + 1;
				*vlen = (size_t)(semi - eq - 1);
				return 1;
			}
			p = semi;
		}
	}
	return 0;
}

/* 1 when the cookie sends the request to a usable server. */
static int explain_persistence(struct cli_ctx *c, struct proxy *be, struct stream *s)
{
	const struct cookie_conf *ck = be->c.cookie;
	const char *v;
	size_t vl;
	struct server *srv;

	if (!ck)
		return 0;
	if (!find_cookie(&s->txn->req, ck->name, ck->nlen, &v, &vl)) {
		cli_printf(c, "persistence: cookie %s not in the request\n", ck->name);
		return 0;
	}
	/* "prefix" mode: the server's value comes before a '~' */
	const char *tilde = memchr(v, '~', vl);
	size_t key = ck->mode == CK_PREFIX && tilde ? (size_t)(tilde - v) : vl;
	list_for_each(srv, &be->servers, list) {
		if (srv->cookie && srv->cookie_len == key && !memcmp(srv->cookie, v, key)) {
			int down = (srv->admin & SRV_ADMF_MAINT) || srv->state == SRV_ST_STOPPED;
			cli_printf(c, "persistence: cookie %s=%.*s names server %s%s\n", ck->name, (int)vl, v, srv->id,
			           down ? " (not usable now: balanced instead, unless option persist)" : "");
			if (!down)
				cli_printf(c, "server: %s (persistence; the balancer is not asked)\n", srv->id);
			return !down;
		}
	}
	cli_printf(c, "persistence: cookie %s=%.*s names no server (balanced)\n", ck->name, (int)vl, v);
	return 0;
}

static void explain_lb(struct cli_ctx *c, struct proxy *be, struct stream *s)
{
	const struct lb_algo *a = be->c.lb;
	struct server *srv = NULL;

	cli_printf(c, "balance %s: ", a->name);
	if (!be->lb_state || !a->peek) {
		cli_printf(c, "the pick cannot be told in advance\n");
		return;
	}
	if (!strcmp(a->name, "source")) {
		cli_printf(c, "the server depends on the client's address, not known here\n");
		return;
	}
	if (a->prepare)
		a->prepare(be, s);
	if (a->hashed && (s->flags & SF_LB_KEY))
		cli_printf(c, "hash key %08x, ", s->lb_key);
	else if (a->hashed)
		cli_printf(c, "no hash key in this request (taken in turn), ");
	switch (a->peek(be, s, &srv)) {
	case LB_OK:
		cli_printf(c, "%s %s%s\n", !strcmp(a->name, "roundrobin") || !strcmp(a->name, "static-rr") ?
		           "next in rotation:" : "would pick", srv->id, srv_full(srv) ? " (at its maxconn: queued)" : "");
		break;
	case LB_FULL:
		cli_printf(c, "every usable server is at its maxconn: the request would wait in the backend queue\n");
		break;
	default:
		cli_printf(c, "no usable server: 503\n");
		break;
	}
}

static struct proxy *first_http_frontend(void)
{
	struct proxy *px;

	list_for_each(px, &proxies, list)
		if ((px->cap & PR_CAP_FE) && !(px->cap & PR_CAP_DEF) && px->c.mode == PR_MODE_HTTP)
			return px;
	return NULL;
}

/* The request head from the words: "<method> <url>", then headers, each
 * "Name: value words..." (a word ending with ':' starts a header) or
 * "Name:value" in one word. */
static int build_request(struct cli_ctx *c, int i, char *out, size_t size)
{
	int n = snprintf(out, size, "%s %s HTTP/1.1\r\n", c->args[i], c->args[i + 1]);
	int has_host = 0, in_hdr = 0;

	for (i += 2; i < c->nargs && n > 0 && (size_t)n < size; i++) {
		const char *w = c->args[i];
		size_t l = strlen(w);
		const char *colon = strchr(w, ':');
		if (!in_hdr && !colon)
			return -1;
		if (colon && (colon == w + l - 1 || !in_hdr)) {
			/* a new header */
			if (in_hdr)
				n += snprintf(out + n, size - (size_t)n, "\r\n");
			if ((size_t)(colon - w) == 4 && !strncasecmp(w, "host", 4))
				has_host = 1;
			n += snprintf(out + n, size - (size_t)n, "%.*s:", (int)(colon - w), w);
			if (colon[1])
				n += snprintf(out + n, size - (size_t)n, " %s", colon + 1);
			in_hdr = 1;
			continue;
		}
		n += snprintf(out + n, size - (size_t)n, " %s", w);
	}
	if (in_hdr)
		n += snprintf(out + n, size - (size_t)n, "\r\n");
	if (!has_host)
		n += snprintf(out + n, size - (size_t)n, "Host: proxyd-show-route\r\n");
	n += snprintf(out + n, size - (size_t)n, "\r\n");
	return n > 0 && (size_t)n < size ? n : -1;
}

static enum cli_ret cmd_show_route(struct cli_ctx *c)
{
	struct proxy *fe = NULL;
	int i = 2;

	if (c->nargs > 2)
		fe = cli_find_proxy(c->args[2], PR_CAP_FE);
	if (fe && c->nargs > 4)
		i = 3;
	else
		fe = first_http_frontend();
	if (c->nargs < i + 2)
		return cli_err(c, "Usage: show route [<frontend>] <method> <url> [<header>: <value>]...\n");
	if (!fe)
		return cli_err(c, "No HTTP frontend.\n");
	if (fe->c.mode != PR_MODE_HTTP)
		return cli_err(c, "Frontend is not in HTTP mode: its routing depends on the connection only.\n");

	struct thread_ctx *th = curr_th ? curr_th : &threads[0];
	struct stream *s = calloc(1, sizeof(*s));
	char *area = malloc(global.bufsize);
	if (!s || !area) {
		free(s);
		free(area);
		return cli_err(c, "Out of memory.\n");
	}
	int len = build_request(c, i, area, (size_t)global.bufsize - (size_t)global.maxrewrite);
	if (len < 0) {
		free(s);
		free(area);
		return cli_err(c, "Headers are written '<name>: <value>' (or '<name>:<value>'), after the URL.\n");
	}
	/* a stream of no connection: fetches of the connection are not
	 * asked (unknown), addresses are left unset */
	list_init(&s->list);
	s->th = th;
	s->fe = fe;
	s->li = list_empty(&fe->listeners) ? NULL : list_first(&fe->listeners, struct listener, fe_el);
	s->cli.fd = -1;
	s->req.area = area;
	s->req.size = (uint32_t)global.bufsize;
	s->req.end = (uint32_t)len;
	s->txn = http_txn_new(s);
	if (!s->txn) {
		free(s);
		free(area);
		return cli_err(c, "Out of memory.\n");
	}
	struct http_msg *m = &s->txn->req;
	http_msg_begin(m, area, 0);
	enum http_parse_res r = http_msg_parse(m, (uint32_t)len, HTTP_METH_OTHER);
	if (r == HTTP_PARSE_ERROR || r == HTTP_PARSE_MORE) {
		cli_printf(c, "The request is invalid: %s\n", r == HTTP_PARSE_MORE ? "incomplete" :
		           m->err_reason ? m->err_reason : "refused by the parser");
		goto out;
	}
	s->txn->meth = http_msg_method(m);

	cli_printf(c, "frontend: %s%s\n", fe->id, i == 2 ? " (the first HTTP frontend)" : "");
	cli_printf(c, "request: %s %s HTTP/1.1 (%d header%s)\n", c->args[i], c->args[i + 1], m->nb_hdrs,
	           m->nb_hdrs == 1 ? "" : "s");
	if (explain_rules(c, "http-request", fe, &fe->http_req_rules, s) ||
	    explain_rules(c, "redirect", fe, &fe->redirect_rules, s))
		goto out;
	struct proxy *be = explain_switching(c, fe, s);
	if (be) {
		s->be = be;
		if (be != fe && (explain_rules(c, "http-request", be, &be->http_req_rules, s) ||
		                 explain_rules(c, "redirect", be, &be->redirect_rules, s)))
			goto out;
		if (!explain_persistence(c, be, s))
			explain_lb(c, be, s);
	}
out:
	http_txn_free(s);
	free(s);
	free(area);
	return CLI_DONE;
}

static const struct cli_cmd route_cmds[] = {
	{ { "show", "route" }, "show route [<fe>] <meth> <url> [hdrs]", "explain where a request would go "
	  "(rules, ACLs, backend, server) without sending it", CLI_LVL_OPER, cmd_show_route },
	{ { NULL } }
};

CLI_REGISTER(route_cmds);
