/* HTTP health checks: "option httpchk", "http-check send", "http-check
 * expect", "http-check disable-on-404", and judging the response. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <proxyd/cfg.h>
#include <proxyd/check.h>
#include <proxyd/http.h>
#include <proxyd/proxy.h>
#include <proxyd/regex.h>
#include <proxyd/server.h>


/* Builds the request once, after each line that changes it. */
static void build_request(struct chk_prog *p)
{
	char buf[8192];
	size_t bl = p->body ? strlen(p->body) : 0;
	int n = snprintf(buf, sizeof(buf), "%s %s %s\r\n%s", p->meth ? p->meth : "OPTIONS", p->uri ? p->uri : "/",
	                 p->ver ? p->ver : "HTTP/1.0", p->hdrs ? p->hdrs : "");
	if (bl)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "content-length: %zu\r\n", bl);
	/* HTTP/1.0 closes by default: HAProxy says "connection: close" to
	 * HTTP/1.1 servers only */
	const char *ver = p->ver ? p->ver : "HTTP/1.0";
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s\r\n%s",
	              strncmp(ver, "HTTP/1.0", 8) == 0 ? "" : "connection: close\r\n", p->body ? p->body : "");
	for (int i = 0; i < p->nb; i++) {
		if (p->steps[i].type == CHK_HTTP_SEND) {
			p->steps[i].data = cfg_strndup(buf, (size_t)n);
			p->steps[i].len = (size_t)n;
		}
	}
}

const char *chk_http_request(const struct chk_prog *p, size_t *len)
{
	for (int i = 0; i < p->nb; i++)
		if (p->steps[i].type == CHK_HTTP_SEND) {
			*len = p->steps[i].len;
			return p->steps[i].data;
		}
	*len = 0;
	return "";
}

/* The default expectation: a 2xx or 3xx status. */
static void default_expect(struct chk_step *st)
{
	st->exp = CHK_EXP_STATUS;
	st->nb_ranges = 1;
	st->ranges[0][0] = 200;
	st->ranges[0][1] = 399;
	st->pattern = "2xx/3xx";
}

/* option httpchk [<uri>] | [<method> <uri> [<version>]] */
static int parse_httpchk(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	if (ctx->inv) {
		ctx->px->c.chk = NULL;
		return 0;
	}
	struct chk_prog *p = chk_prog_own(ctx, CHK_KIND_HTTP);
	p->nb = 0;
	p->http = 1;
	p->meth = "OPTIONS";
	p->uri = "/";
	p->ver = "HTTP/1.0";
	p->hdrs = NULL;
	p->body = NULL;
	if (nargs == 1) {
		p->uri = cfg_strdup(args[0]);
	} else if (nargs >= 2) {
		p->meth = cfg_strdup(args[0]);
		p->uri = cfg_strdup(args[1]);
		if (nargs >= 3)
			p->ver = cfg_strdup(args[2]);
	}
	chk_prog_add(p, CHK_CONNECT);
	chk_prog_add(p, CHK_HTTP_SEND);
	default_expect(chk_prog_add(p, CHK_HTTP_EXPECT));
	build_request(p);
	return 0;
}

static struct chk_prog *http_prog(struct cfg_ctx *ctx)
{
	struct chk_prog *p = chk_prog_own(ctx, CHK_KIND_HTTP);

	if (!p->http) {
		cfg_alert(ctx, "'http-check' rules need 'option httpchk' first");
		return NULL;
	}
	return p;
}

/* http-check send [meth <m>] [uri <u>] [ver <v>] [hdr <name> <value>]... [body <b>] */
static int parse_http_send(struct cfg_ctx *ctx, char **args, int nargs)
{
	struct chk_prog *p = http_prog(ctx);
	char hdrs[4096] = "";
	size_t hl = 0;

	if (!p)
		return -1;
	if (p->hdrs)
		hl = (size_t)snprintf(hdrs, sizeof(hdrs), "%s", p->hdrs);
	const char *a = NULL;
	for (int i = 0; i < nargs; i++) {
		a = args[i];
		if (strcmp(a, "meth") && strcmp(a, "uri") && strcmp(a, "ver") && strcmp(a, "body") && strcmp(a, "hdr")) {
			cfg_alert(ctx, "'http-check send': unknown '%s' (expected meth, uri, ver, hdr or body)", a);
			return -1;
		}
		if (i + 1 >= nargs)
			goto missing;
		if (strcmp(a, "meth") == 0)
			p->meth = cfg_strdup(args[++i]);
		else if (strcmp(a, "uri") == 0)
			p->uri = cfg_strdup(args[++i]);
		else if (strcmp(a, "ver") == 0)
			p->ver = cfg_strdup(args[++i]);
		else if (strcmp(a, "body") == 0)
			p->body = cfg_strdup(args[++i]);
		else if (strcmp(a, "hdr") == 0) {
			if (i + 2 >= nargs)
				goto missing;
			hl += (size_t)snprintf(hdrs + hl, sizeof(hdrs) - hl, "%s: %s\r\n", args[i + 1], args[i + 2]);
			if (hl >= sizeof(hdrs)) {
				cfg_alert(ctx, "'http-check send': headers too long");
				return -1;
			}
			i += 2;
		}
	}
	p->hdrs = hl ? cfg_strdup(hdrs) : NULL;
	build_request(p);
	return 0;
missing:
	if (strcmp(a, "hdr") == 0)
		cfg_alert(ctx, "'http-check send hdr' expects <name> and <value>");
	else
		cfg_alert(ctx, "'http-check send %s' expects a value", a);
	return -1;
}

static int parse_status_list(struct cfg_ctx *ctx, struct chk_step *st, const char *list)
{
	const char *p = list;

	st->nb_ranges = 0;
	while (*p) {
		char *end;
		long a = strtol(p, &end, 10), b = a;
		if (end == p)
			goto bad;
		if (*end == '-') {
			const char *q = end + 1;
			b = strtol(q, &end, 10);
			if (end == q)
				goto bad;
		}
		if (a < 100 || b > 999 || a > b || st->nb_ranges >= 16)
			goto bad;
		st->ranges[st->nb_ranges][0] = (int)a;
		st->ranges[st->nb_ranges][1] = (int)b;
		st->nb_ranges++;
		p = end;
		if (*p == ',')
			p++;
		else if (*p)
			goto bad;
	}
	return 0;
bad:
	cfg_alert(ctx, "'http-check expect status': '%s' is not a status, a range or a comma-separated list of them "
	          "(e.g. 200, 200-299 or 200,302)", list);
	return -1;
}

/* http-check expect [!] status|rstatus|string|rstring <pattern> */
static int parse_http_expect(struct cfg_ctx *ctx, char **args, int nargs)
{
	struct chk_prog *p = http_prog(ctx);
	char err[512];
	int i = 0, neg = 0;

	if (!p)
		return -1;
	if (i < nargs && strcmp(args[i], "!") == 0) {
		neg = 1;
		i++;
	}
	if (i + 1 >= nargs) {
		cfg_alert(ctx, "'http-check expect' expects [!] status|rstatus|string|rstring <pattern>");
		return -1;
	}
	/* the first expect replaces the default one */
	struct chk_step *st = NULL;
	for (int k = 0; k < p->nb; k++)
		if (p->steps[k].type == CHK_HTTP_EXPECT && p->steps[k].pattern && !strcmp(p->steps[k].pattern, "2xx/3xx"))
			st = &p->steps[k];
	if (!st)
		st = chk_prog_add(p, CHK_HTTP_EXPECT);
	memset(st, 0, sizeof(*st));
	st->type = CHK_HTTP_EXPECT;
	st->negate = neg;
	st->pattern = cfg_strdup(args[i + 1]);
	st->plen = strlen(args[i + 1]);
	if (strcmp(args[i], "status") == 0) {
		st->exp = CHK_EXP_STATUS;
		if (parse_status_list(ctx, st, args[i + 1]) < 0)
			return -1;
	} else if (strcmp(args[i], "rstatus") == 0 || strcmp(args[i], "rstring") == 0) {
		st->exp = args[i][1] == 's' && args[i][2] == 't' && args[i][3] == 'a' ? CHK_EXP_RSTATUS : CHK_EXP_HTTP_RSTRING;
		if (!(st->re = regex_compile(args[i + 1], 0, err, sizeof(err)))) {
			cfg_alert(ctx, "'http-check expect %s': %s", args[i], err);
			return -1;
		}
	} else if (strcmp(args[i], "string") == 0) {
		st->exp = CHK_EXP_HTTP_STRING;
	} else {
		cfg_alert(ctx, "'http-check expect': unknown match '%s' (expected status, rstatus, string or rstring)",
		          args[i]);
		return -1;
	}
	if (i + 2 < nargs) {
		cfg_alert(ctx, "'http-check expect': unexpected '%s'", args[i + 2]);
		return -1;
	}
	return 0;
}

static int parse_http_check(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	if (strcmp(args[0], "send") == 0)
		return parse_http_send(ctx, args + 1, nargs - 1);
	if (strcmp(args[0], "expect") == 0)
		return parse_http_expect(ctx, args + 1, nargs - 1);
	if (strcmp(args[0], "disable-on-404") == 0) {
		struct chk_prog *p = http_prog(ctx);
		if (!p)
			return -1;
		p->disable_on_404 = 1;
		return 0;
	}
	if (!strcmp(args[0], "connect") || !strcmp(args[0], "send-state") || !strcmp(args[0], "set-var") ||
	    !strcmp(args[0], "unset-var") || !strcmp(args[0], "comment")) {
		cfg_alert(ctx, "'http-check %s' is a valid HAProxy keyword but is not supported yet by proxyd", args[0]);
		return -1;
	}
	cfg_alert(ctx, "'http-check': unknown action '%s' (expected send, expect or disable-on-404)", args[0]);
	return -1;
}

static const struct cfg_kw http_check_kws[] = {
	{ "option httpchk", CFG_SEC_BE, 0, 3, parse_httpchk, SLOT_NONE, TGT_PROXY, 0, 0, 0, KW_F_NO,
	  "[<uri>] | [<method> <uri> [<version>]]" },
	{ "http-check", CFG_SEC_BE, 1, -1, parse_http_check, SLOT_NONE, TGT_PROXY, 0, 0, 0, 0,
	  "send|expect|disable-on-404 [...]" },
	{ NULL }
};

CFG_REGISTER(http_check_kws);

/*------------------------------------------------------------------------
 * Judging the response. Returns 1 when the step passes, 0 when more
 * bytes are needed, -1 with <status> when the check fails (or passes
 * conditionally: L7OKC with disable-on-404).
 */
int chk_http_eval(struct check *c, const struct chk_step *st, int eof, enum chk_status *status, int *code,
                  char *info, size_t ilen)
{
	struct buf *b = &c->rx;
	const char *data = b->area + b->start;
	size_t len = b->end - b->start;
	int full = b->end >= b->size - 1;

	const char *hend = len >= 4 ? memmem(data, len, "\r\n\r\n", 4) : NULL;
	if (!hend) {
		if (!eof && !full)
			return 0;
		*status = CHK_ST_L7RSP;
		return -1;
	}
	if (len < 12 || strncmp(data, "HTTP/1.", 7) != 0 || data[8] != ' ' ||
	    data[9] < '1' || data[9] > '9' || data[10] < '0' || data[10] > '9' || data[11] < '0' || data[11] > '9') {
		*status = CHK_ST_L7RSP;
		return -1;
	}
	int st_code = (data[9] - '0') * 100 + (data[10] - '0') * 10 + (data[11] - '0');
	*code = st_code;
	/* hend is the CR ending the last header line (the status line when
	 * there is no header): it is part of the search */
	const char *reason = data + 12, *eol = memchr(data, '\r', (size_t)(hend - data) + 1);
	while (reason < eol && *reason == ' ')
		reason++;
	const struct chk_prog *p = c->srv->be->c.chk;

	/* disable-on-404: a 404 from a server that is not DOWN passes
	 * conditionally (NOLB), whatever the expect rule says; a DOWN server
	 * answering 404 stays DOWN (the rule judges it). As HAProxy. */
	if (p && p->disable_on_404 && st_code == 404 && c->srv->state != SRV_ST_STOPPED) {
		*status = CHK_ST_L7OKC;
		return -1;
	}

	int match;
	switch (st->exp) {
	case CHK_EXP_STATUS:
		match = 0;
		for (int i = 0; i < st->nb_ranges; i++)
			if (st_code >= st->ranges[i][0] && st_code <= st->ranges[i][1])
				match = 1;
		break;
	case CHK_EXP_RSTATUS: {
		char num[4] = { data[9], data[10], data[11], 0 };
		match = regex_exec(st->re, num, 3);
		break;
	}
	default: {
		/* body matches wait for the whole body (or what fits) */
		const char *body = hend + 4;
		size_t blen = len - (size_t)(body - data);
		const char *cl = NULL;
		for (const char *h = memchr(data, '\n', (size_t)(hend - data)); h && h < hend;
		     h = memchr(h + 1, '\n', (size_t)(hend - h))) {
			if (hend - h > 16 && strncasecmp(h + 1, "content-length:", 15) == 0) {
				cl = h + 16;
				break;
			}
		}
		if (!eof && !full && (!cl || blen < (size_t)strtoul(cl, NULL, 10)))
			return 0;
		if (st->exp == CHK_EXP_HTTP_STRING)
			match = st->plen <= blen && memmem(body, blen, st->pattern, st->plen) != NULL;
		else
			match = regex_exec(st->re, body, blen);
		break;
	}
	}

	if (match != st->negate)
		return 1;
	if (st->exp == CHK_EXP_STATUS || st->exp == CHK_EXP_RSTATUS) {
		*status = CHK_ST_L7STS;
		snprintf(info, ilen, "%.*s", (int)(eol - reason), reason);
	} else {
		*status = CHK_ST_L7RSP;
		snprintf(info, ilen, "%s", st->negate ? "HTTP check matched unwanted content" : "HTTP content check did not match");
	}
	return -1;
}
