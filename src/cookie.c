/* Cookie persistence: "cookie NAME insert|rewrite|prefix [options]" in a
 * backend, "cookie VALUE" on its servers.
 *
 * Request side (while the head can be read): find the cookie, match its
 * value with a server. A usable server (UP, NOLB, DRAIN) gets the request
 * directly, past the balancer and its weights; a DOWN one only with
 * "option persist" or a matching "force-persist"; otherwise the request is
 * balanced and gets a new cookie. "ignore-persist" skips the cookie.
 * indirect removes the cookie before the server; prefix strips the
 * "SRV~" part the application must not see.
 *
 * Response side: insert mode adds the cookie when the client did not send
 * a valid one (or its dates need refreshing), rewrite replaces the value
 * the application set, prefix prepends "SRV~" to it.
 *
 * Each case leaves the log's cookie letters (%tsc): request N I D V E O U,
 * response N I U P R D.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <proxyd/acl.h>
#include <proxyd/cfg.h>
#include <proxyd/cfg_server.h>
#include <proxyd/cookie.h>
#include <proxyd/http.h>
#include <proxyd/proxy.h>
#include <proxyd/rules.h>
#include <proxyd/server.h>
#include <proxyd/str.h>
#include <proxyd/stream.h>

/*------------------------------------------------------------------------
 * Configuration
 */
static int parse_cookie(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	struct cookie_conf *c = cfg_alloc(sizeof(*c));
	char domains[1024] = "", attrs[1024] = "";
	size_t dl = 0, al = 0;
	int modes = 0;

	if (ctx->inv) {
		ctx->px->c.cookie = NULL;
		return 0;
	}
	for (const char *p = args[0]; *p; p++)
		if (!isgraph((unsigned char)*p) || strchr("=;,\"", *p)) {
			cfg_alert(ctx, "'cookie %s': invalid character '%c' in the cookie name", args[0], *p);
			return -1;
		}
	c->name = cfg_strdup(args[0]);
	c->nlen = strlen(args[0]);
	c->mode = CK_PASSIVE;
	for (int i = 1; i < nargs; i++) {
		const char *a = args[i];
		if (!strcmp(a, "insert") || !strcmp(a, "rewrite") || !strcmp(a, "prefix")) {
			c->mode = a[0] == 'i' ? CK_INSERT : a[0] == 'r' ? CK_REWRITE : CK_PREFIX;
			modes++;
		} else if (!strcmp(a, "indirect")) {
			c->flags |= CK_F_INDIRECT;
		} else if (!strcmp(a, "nocache")) {
			c->flags |= CK_F_NOCACHE;
		} else if (!strcmp(a, "postonly")) {
			c->flags |= CK_F_POSTONLY;
		} else if (!strcmp(a, "preserve")) {
			c->flags |= CK_F_PRESERVE;
		} else if (!strcmp(a, "httponly")) {
			c->flags |= CK_F_HTTPONLY;
		} else if (!strcmp(a, "secure")) {
			c->flags |= CK_F_SECURE;
		} else if (!strcmp(a, "domain") && i + 1 < nargs) {
			dl += (size_t)snprintf(domains + dl, sizeof(domains) - dl, "; domain=%s", args[++i]);
		} else if (!strcmp(a, "attr") && i + 1 < nargs) {
			const char *v = args[++i];
			if (strpbrk(v, ";\r\n")) {
				cfg_alert(ctx, "'cookie %s attr': '%s' must not contain ';' or line breaks", c->name, v);
				return -1;
			}
			al += (size_t)snprintf(attrs + al, sizeof(attrs) - al, "; %s", v);
		} else if ((!strcmp(a, "maxidle") || !strcmp(a, "maxlife")) && i + 1 < nargs) {
			int s;
			ctx->kw = a;
			if (cfg_time_arg(ctx, args[++i], 1000, &s) < 0)
				return -1;
			if (a[3] == 'i')
				c->maxidle = (s + 999) / 1000;
			else
				c->maxlife = (s + 999) / 1000;
		} else if (!strcmp(a, "dynamic")) {
			cfg_alert(ctx, "'cookie ... dynamic' is not supported yet by proxyd (give each server a 'cookie')");
			return -1;
		} else {
			cfg_alert(ctx, "'cookie %s': unknown option '%s' (expected insert, rewrite, prefix, indirect, nocache, "
			          "postonly, preserve, httponly, secure, domain <d>, maxidle <t>, maxlife <t> or attr <v>)",
			          c->name, a);
			return -1;
		}
	}
	if (modes > 1) {
		cfg_alert(ctx, "'cookie %s': choose one of insert, rewrite and prefix", c->name);
		return -1;
	}
	if (c->mode != CK_INSERT && (c->maxidle || c->maxlife)) {
		cfg_alert(ctx, "'cookie %s': maxidle and maxlife need insert mode", c->name);
		return -1;
	}
	if (c->mode != CK_INSERT && (c->flags & (CK_F_INDIRECT | CK_F_NOCACHE | CK_F_POSTONLY | CK_F_PRESERVE))) {
		cfg_warn(ctx, "'cookie %s': indirect, nocache, postonly and preserve only apply in insert mode", c->name);
	}
	c->domains = dl ? cfg_strdup(domains) : NULL;
	c->attrs = al ? cfg_strdup(attrs) : NULL;
	ctx->px->c.cookie = c;
	return 0;
}

static const struct cfg_kw cookie_cfg_kws[] = {
	{ "cookie", CFG_SEC_BE, 1, -1, parse_cookie, SLOT_NONE, TGT_PROXY, 0, 0, 0, KW_F_NO,
	  "<name> [insert|rewrite|prefix] [indirect] [nocache] [postonly] [preserve] [httponly] [secure] "
	  "[domain <d>]... [maxidle <t>] [maxlife <t>] [attr <v>]..." },
	{ NULL }
};

CFG_REGISTER(cookie_cfg_kws);

static int srv_parse_cookie(struct cfg_ctx *ctx, struct srv_conf *sc, struct server *srv, char **args)
{
	const char *v = args[1];

	if (!srv) {
		cfg_alert(ctx, "'cookie' is a per-server value: it cannot be set on a default-server line");
		return -1;
	}
	for (const char *p = v; *p; p++)
		if (!isgraph((unsigned char)*p) || strchr(";,\"|~", *p)) {
			cfg_alert(ctx, "'cookie %s': invalid character '%c' in a server cookie value", v, *p);
			return -1;
		}
	srv->cookie = cfg_strdup(v);
	srv->cookie_len = strlen(v);
	return 0;
}

static const struct srv_kw cookie_srv_kws[] = {
	{ "cookie", 1, srv_parse_cookie, 0 },
	{ NULL }
};

SRV_KW_REGISTER(cookie_srv_kws);

/*------------------------------------------------------------------------
 * Request side
 */
static struct server *find_server(struct proxy *be, const char *v, size_t len)
{
	struct server *srv;

	list_for_each(srv, &be->servers, list)
		if (srv->cookie && srv->cookie_len == len && memcmp(srv->cookie, v, len) == 0)
			return srv;
	return NULL;
}

/* Dates in insert-mode values: "VALUE|<last seen>|<first seen>", seconds
 * since the epoch in hexadecimal. */
static unsigned long parse_hex(const char *p, const char *end, int *ok)
{
	unsigned long v = 0;

	*ok = p < end;
	for (; p < end; p++) {
		int d = isdigit((unsigned char)*p) ? *p - '0' : (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10 : -1;
		if (d < 0 || v > (~0UL >> 4)) {
			*ok = 0;
			return 0;
		}
		v = v * 16 + (unsigned long)d;
	}
	return v;
}

/* Removes entry [es, ee) (with its separator) from the Cookie header <idx>. */
static void cookie_remove(struct http_msg *m, int idx, const char *v, size_t vl, const char *es, const char *ee)
{
	char buf[4096];
	size_t n = 0;
	const char *before = es, *after = ee;

	/* the separator before it (or after it, for the first one) goes too */
	while (before > v && (before[-1] == ' ' || before[-1] == '\t'))
		before--;
	if (before > v && (before[-1] == ';' || before[-1] == ','))
		before--;
	else {
		while (after < v + vl && (*after == ';' || *after == ',' || *after == ' ' || *after == '\t'))
			after++;
	}
	if ((size_t)(before - v) + (size_t)(v + vl - after) > sizeof(buf))
		return;
	memcpy(buf, v, (size_t)(before - v));
	n = (size_t)(before - v);
	memcpy(buf + n, after, (size_t)(v + vl - after));
	n += (size_t)(v + vl - after);
	if (!n)
		http_hdr_del(m, idx);
	else
		http_hdr_set_value(m, idx, buf, n);
}

void cookie_request(struct stream *s)
{
	struct proxy *be = s->be;
	const struct cookie_conf *c = be->c.cookie;
	struct http_msg *m = &s->txn->req;
	int force = (be->c.options & PR_O_PERSIST) || (s->flags & SF_FORCE_PERSIST);

	s->txn->ck_req = '-';
	if (!c)
		return;
	s->txn->ck_req = 'N';

	for (int i = -1; (i = http_find_hdr(m, "cookie", 6, i)) >= 0;) {
		const char *v = http_hdr_value(m, &m->hdrs[i]);
		size_t vl = m->hdrs[i].vlen;
		const char *p = v, *end = v + vl;
		while (p < end) {
			while (p < end && (*p == ' ' || *p == '\t' || *p == ';' || *p == ','))
				p++;
			const char *es = p;
			while (p < end && *p != ';' && *p != ',')
				p++;
			const char *ee = p, *eq = memchr(es, '=', (size_t)(ee - es));
			if (!eq || (size_t)(eq - es) != c->nlen || memcmp(es, c->name, c->nlen) != 0)
				continue;
			const char *val = eq + 1, *vend = ee;
			while (vend > val && (vend[-1] == ' ' || vend[-1] == '\t'))
				vend--;
			if (val < vend && *val == '"' && vend - val >= 2 && vend[-1] == '"') {
				val++;
				vend--;
			}
			const char *sv = val, *svend = vend;
			if (c->mode == CK_PREFIX) {
				const char *tilde = memchr(val, '~', (size_t)(vend - val));
				if (!tilde)
					continue;   /* the application's own value, no server yet */
				svend = tilde;
			} else if (c->mode == CK_INSERT) {
				const char *bar = memchr(val, '|', (size_t)(vend - val));
				if (bar)
					svend = bar;
			}
			if (s->flags & SF_IGNORE_PERSIST) {
				s->txn->ck_req = 'U';
			} else {
				struct server *srv = find_server(be, sv, (size_t)(svend - sv));
				char state = 'I';
				if (srv && c->mode == CK_INSERT && svend < vend && (c->maxidle || c->maxlife)) {
					/* dates: ignore a cookie idle or alive for too long */
					const char *d1 = svend + 1, *d1e = memchr(d1, '|', (size_t)(vend - d1));
					int ok1, ok2 = 1;
					unsigned long last = parse_hex(d1, d1e ? d1e : vend, &ok1);
					unsigned long first = d1e ? parse_hex(d1e + 1, vend, &ok2) : last;
					unsigned long now = (unsigned long)time(NULL);
					if (!ok1 || !ok2 || last > now + 86400 || first > now + 86400) {
						srv = NULL;
					} else if (c->maxidle && now > last + (unsigned long)c->maxidle) {
						srv = NULL;
						state = 'E';
					} else if (c->maxlife && now > first + (unsigned long)c->maxlife) {
						srv = NULL;
						state = 'O';
					} else {
						s->txn->ck_first_seen = first;
						s->txn->ck_last_seen = last;
					}
				}
				if (srv) {
					int usable = !(srv->admin & SRV_ADMF_MAINT) && srv->state != SRV_ST_STOPPED;
					if (usable || force) {
						s->srv = srv;
						s->flags |= SF_DIRECT;
						state = 'V';
					} else {
						state = 'D';
					}
				}
				s->txn->ck_req = state;
			}
			/* what the server must not see */
			if (c->mode == CK_INSERT && (c->flags & CK_F_INDIRECT)) {
				cookie_remove(m, i, v, vl, es, ee);
				break;   /* the header changed: the rest is looked at no more */
			}
			if (c->mode == CK_PREFIX) {
				char buf[4096];
				const char *tilde = memchr(val, '~', (size_t)(vend - val));
				size_t n1 = (size_t)(val - v), n2 = (size_t)(v + vl - tilde - 1);
				if (n1 + n2 < sizeof(buf)) {
					memcpy(buf, v, n1);
					memcpy(buf + n1, tilde + 1, n2);
					http_hdr_set_value(m, i, buf, n1 + n2);
				}
				break;
			}
		}
	}
}

/*------------------------------------------------------------------------
 * Response side
 */
/* Could a shared cache store this response? As HAProxy judges it for
 * "nocache": a GET or HEAD answered with a cacheable status, with freshness
 * information, and not already marked private, no-cache or no-store. */
static int cacheable(const struct stream *s, struct http_msg *m)
{
	static const short statuses[] = { 200, 203, 204, 206, 300, 301, 404, 405, 410, 414, 501 };
	int st = s->txn->status, ok = 0, fresh = 0;

	if (s->txn->meth != HTTP_METH_GET && s->txn->meth != HTTP_METH_HEAD)
		return 0;
	for (size_t k = 0; k < sizeof(statuses) / sizeof(statuses[0]); k++)
		ok |= st == statuses[k];
	if (!ok)
		return 0;
	for (int i = -1; (i = http_find_hdr(m, "cache-control", 13, i)) >= 0;) {
		const char *v = http_hdr_value(m, &m->hdrs[i]);
		size_t vl = m->hdrs[i].vlen;
		if (http_value_has_token(v, vl, "private", 7) || http_value_has_token(v, vl, "no-cache", 8) ||
		    http_value_has_token(v, vl, "no-store", 8))
			return 0;
		if (memmem(v, vl, "max-age", 7))
			fresh = 1;
	}
	for (int i = -1; (i = http_find_hdr(m, "pragma", 6, i)) >= 0;)
		if (http_value_has_token(http_hdr_value(m, &m->hdrs[i]), m->hdrs[i].vlen, "no-cache", 8))
			return 0;
	return fresh || http_find_hdr(m, "expires", 7, -1) >= 0 || http_find_hdr(m, "last-modified", 13, -1) >= 0 ||
	       http_find_hdr(m, "etag", 4, -1) >= 0;
}

/* Set-Cookie headers of the response carrying <name>: calls <fn> on each. */
static int find_set_cookie(struct http_msg *m, const struct cookie_conf *c, int from)
{
	for (int i = from; (i = http_find_hdr(m, "set-cookie", 10, i)) >= 0;) {
		const char *v = http_hdr_value(m, &m->hdrs[i]);
		size_t vl = m->hdrs[i].vlen;
		while (vl && (*v == ' ' || *v == '\t'))
			v++, vl--;
		if (vl > c->nlen && memcmp(v, c->name, c->nlen) == 0 && v[c->nlen] == '=')
			return i;
	}
	return -1;
}

void cookie_response(struct stream *s)
{
	struct proxy *be = s->be;
	const struct cookie_conf *c = be->c.cookie;
	struct http_msg *m = &s->txn->rsp;
	struct server *srv = s->srv;
	char line[2048];

	s->txn->ck_res = '-';
	if (!c)
		return;
	s->txn->ck_res = 'N';
	int i = find_set_cookie(m, c, -1);

	if (c->mode == CK_INSERT) {
		if (i >= 0 && (c->flags & CK_F_PRESERVE)) {
			s->txn->ck_res = 'P';
			return;
		}
		/* a server-set cookie of that name never reaches the client */
		for (int k = i; k >= 0; k = find_set_cookie(m, c, k))
			http_hdr_del(m, k);
		if (!srv || (s->flags & SF_IGNORE_PERSIST) || ((c->flags & CK_F_POSTONLY) && s->txn->meth != HTTP_METH_POST))
			return;
		unsigned long now = (unsigned long)time(NULL);
		int refresh = c->maxidle && (s->flags & SF_DIRECT) && s->txn->ck_last_seen &&
		              now >= s->txn->ck_last_seen + (unsigned long)c->maxidle / 2;
		if ((s->flags & SF_DIRECT) && s->txn->ck_req == 'V' && !refresh)
			return;   /* the client has it already */
		if (!srv->cookie) {
			/* a server without a cookie: the client's one is deleted */
			if (s->txn->ck_req != 'N' && s->txn->ck_req != '-') {
				int n = snprintf(line, sizeof(line), "%s=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/", c->name);
				http_hdr_add(m, "Set-Cookie", 10, line, (size_t)n);
				s->txn->ck_res = 'D';
			}
			return;
		}
		int n;
		if (c->maxidle || c->maxlife) {
			unsigned long first = s->txn->ck_first_seen && (s->flags & SF_DIRECT) ? s->txn->ck_first_seen : now;
			n = snprintf(line, sizeof(line), "%s=%s|%lx|%lx; path=/%s%s%s%s", c->name, srv->cookie, now, first,
			             c->domains ? c->domains : "", (c->flags & CK_F_HTTPONLY) ? "; HttpOnly" : "",
			             (c->flags & CK_F_SECURE) ? "; Secure" : "", c->attrs ? c->attrs : "");
		} else {
			n = snprintf(line, sizeof(line), "%s=%s; path=/%s%s%s%s", c->name, srv->cookie,
			             c->domains ? c->domains : "", (c->flags & CK_F_HTTPONLY) ? "; HttpOnly" : "",
			             (c->flags & CK_F_SECURE) ? "; Secure" : "", c->attrs ? c->attrs : "");
		}
		if (n > 0 && (size_t)n < sizeof(line) && http_hdr_add(m, "Set-Cookie", 10, line, (size_t)n) == 0) {
			s->txn->ck_res = refresh ? 'U' : 'I';
			if ((c->flags & CK_F_NOCACHE) && cacheable(s, m))
				http_hdr_add(m, "Cache-Control", 13, "private", 7);
		}
		return;
	}

	if (c->mode == CK_PASSIVE || i < 0 || !srv || !srv->cookie)
		return;
	/* rewrite: the value becomes the server's; prefix: "SRV~value" */
	const char *v = http_hdr_value(m, &m->hdrs[i]);
	size_t vl = m->hdrs[i].vlen;
	const char *val = (const char *)memchr(v, '=', vl) + 1;
	const char *semi = memchr(val, ';', vl - (size_t)(val - v));
	const char *vend = semi ? semi : v + vl;
	int n;
	if (c->mode == CK_REWRITE)
		n = snprintf(line, sizeof(line), "%.*s%s%.*s", (int)(val - v), v, srv->cookie, (int)(v + vl - vend), vend);
	else
		n = snprintf(line, sizeof(line), "%.*s%s~%.*s", (int)(val - v), v, srv->cookie, (int)(v + vl - val), val);
	if (n > 0 && (size_t)n < sizeof(line) && http_hdr_set_value(m, i, line, (size_t)n) == 0)
		s->txn->ck_res = 'R';
}
