/* Cookie persistence: "cookie NAME [insert|rewrite|prefix] [options]" in a
 * backend, "cookie VALUE" on its servers, "option persist",
 * "force-persist" and "ignore-persist". Everything follows HAProxy 2.6
 * (http_manage_client_side_cookies, http_manage_server_side_cookies and
 * the insertion code of http_process_res_common), byte for byte where the
 * client or the server can see it.
 *
 * Request side, once the backend's http-request rules ran: each Cookie
 * header is read; the first occurrence of our cookie whose value names a
 * server that is up (or down, with option persist or force-persist) sends
 * the request to that server directly (SF_DIRECT), past the balancer.
 * insert+indirect removes the cookie before the server, prefix mode
 * removes its "SRV~" part. ignore-persist makes the cookie unused.
 *
 * Response side, after the http-response rules: every Set-Cookie of our
 * name is left alone (preserve), deleted (insert, or indirect when the
 * client had it), rewritten (rewrite) or prefixed (prefix); insert mode
 * then adds the cookie the client needs, with its dates for maxidle and
 * maxlife, and "Cache-Control: private" (nocache) on cacheable responses.
 *
 * Each step leaves the log's cookie letters (%tsc): request N I D V E O U,
 * response N P D I R U.
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
#include <proxyd/global.h>
#include <proxyd/http.h>
#include <proxyd/proxy.h>
#include <proxyd/rules.h>
#include <proxyd/server.h>
#include <proxyd/str.h>
#include <proxyd/stream.h>
#include <proxyd/thread.h>

/*------------------------------------------------------------------------
 * Configuration
 */
/* HAProxy's invalid_domainchar(): a domain name is made of letters, digits,
 * '.', '-' and '_'. */
static const char *bad_domain_char(const char *d)
{
	for (; *d; d++)
		if (!isalnum((unsigned char)*d) && !strchr(".-_", *d))
			return d;
	return NULL;
}

/* "domain <d>": appended to <buf> as "; domain=<d>" (several are allowed). */
static int cookie_domain_arg(struct cfg_ctx *ctx, const char *d, char *buf, size_t size, size_t *len)
{
	const char *bad = bad_domain_char(d);

	if (!strchr(d, '.'))
		cfg_warn(ctx, "domain '%s' contains no embedded dot, this configuration may not work properly "
		         "(see RFC6265#5.2.3).", d);
	if (bad) {
		cfg_alert(ctx, "character '%c' is not permitted in domain name '%s'.", *bad, d);
		return -1;
	}
	*len += (size_t)snprintf(buf + *len, size - *len, "; domain=%s", d);
	return 0;
}

/* "attr <v>": any characters but controls and ';', which would end it. */
static int cookie_attr_arg(struct cfg_ctx *ctx, const char *v, char *buf, size_t size, size_t *len)
{
	for (const char *p = v; *p; p++)
		if (iscntrl((unsigned char)*p) || *p == ';') {
			cfg_alert(ctx, "character '%%x%02X' is not permitted in attribute value '%s'.",
			          (unsigned char)*p, v);
			return -1;
		}
	*len += (size_t)snprintf(buf + *len, size - *len, "; %s", v);
	return 0;
}

/* "maxidle <t>" / "maxlife <t>": seconds unless a unit is given (us, ms, s,
 * m, h, d), rounded up to the second, up to 2^31-1 s as HAProxy (the
 * millisecond timers of cfg_time_arg() would stop at 24 days). */
static int cookie_seconds_arg(struct cfg_ctx *ctx, const char *kw, const char *v, int *out)
{
	static const struct { const char *unit; unsigned long long mul, div; } units[] = {
		{ "", 1, 1 }, { "us", 1, 1000000 }, { "ms", 1, 1000 }, { "s", 1, 1 },
		{ "m", 60, 1 }, { "h", 3600, 1 }, { "d", 86400, 1 },
	};
	unsigned long long n = 0;
	const char *p = v;

	while (isdigit((unsigned char)*p) && n <= 0x7fffffffULL * 1000000)
		n = n * 10 + (unsigned long long)(*p++ - '0');
	for (size_t u = 0; p > v && u < sizeof(units) / sizeof(units[0]); u++) {
		if (strcmp(p, units[u].unit) != 0)
			continue;
		n = (n * units[u].mul + units[u].div - 1) / units[u].div;
		if (n > 0x7fffffffULL) {
			cfg_alert(ctx, "timer overflow in argument <%s> to <%s>, maximum value is 2147483647 s (~68 years).",
			          v, kw);
			return -1;
		}
		*out = (int)n;
		return 0;
	}
	cfg_alert(ctx, "unexpected character '%c' in argument to <%s> (expected a time like 30m, 8h or 1d).",
	          p > v && *p ? *p : *v ? *v : ' ', kw);
	return -1;
}

/* The combinations HAProxy refuses, and the ones proxyd refuses because
 * HAProxy silently ignores a setting there. */
static int cookie_check(struct cfg_ctx *ctx, const struct cookie_conf *c, int modes, int attrs)
{
	if (modes > 1) {
		cfg_alert(ctx, "'cookie %s': the 'rewrite', 'insert' and 'prefix' modes are incompatible (choose one)",
		          c->name);
		return -1;
	}
	if (c->mode == CK_REWRITE && (c->flags & CK_F_INDIRECT)) {
		cfg_alert(ctx, "'cookie %s': the 'rewrite' and 'indirect' modes are incompatible", c->name);
		return -1;
	}
	if ((c->flags & CK_F_PRESERVE) && c->mode != CK_INSERT && !(c->flags & CK_F_INDIRECT)) {
		cfg_alert(ctx, "'cookie %s': 'preserve' requires at least 'insert' or 'indirect'", c->name);
		return -1;
	}
	if (c->mode != CK_INSERT && (c->maxidle || c->maxlife)) {
		cfg_alert(ctx, "'cookie %s': maxidle and maxlife need insert mode (the dates live in inserted cookies)",
		          c->name);
		return -1;
	}
	if (c->mode != CK_INSERT && ((c->flags & (CK_F_NOCACHE | CK_F_POSTONLY | CK_F_HTTPONLY | CK_F_SECURE)) || attrs))
		cfg_warn(ctx, "'cookie %s': nocache, postonly, httponly, secure, domain and attr only apply to "
		         "inserted cookies (insert mode)", c->name);
	return 0;
}

static int parse_cookie(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	struct cookie_conf *c = cfg_alloc(sizeof(*c));
	char domains[1024] = "", attrs[1024] = "";
	size_t dl = 0, al = 0;
	int modes = 0;

	/* HAProxy takes any name; one with these characters can never match */
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
		int has_arg = i + 1 < nargs;
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
		} else if (!strcmp(a, "domain") || !strcmp(a, "attr") || !strcmp(a, "maxidle") || !strcmp(a, "maxlife")) {
			if (!has_arg || !*args[i + 1]) {
				cfg_alert(ctx, "'cookie %s': '%s' expects %s as argument", c->name, a,
				          a[0] == 'd' ? "<domain>" : a[0] == 'a' ? "<value>" : "a time (seconds by default)");
				return -1;
			}
			const char *v = args[++i];
			if (a[0] == 'd') {
				if (cookie_domain_arg(ctx, v, domains, sizeof(domains), &dl) < 0)
					return -1;
			} else if (a[0] == 'a') {
				if (cookie_attr_arg(ctx, v, attrs, sizeof(attrs), &al) < 0)
					return -1;
			} else if (cookie_seconds_arg(ctx, a, v, a[3] == 'i' ? &c->maxidle : &c->maxlife) < 0) {
				return -1;
			}
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
	if (dl >= sizeof(domains) || al >= sizeof(attrs)) {
		cfg_alert(ctx, "'cookie %s': too many domain or attr values", c->name);
		return -1;
	}
	if (cookie_check(ctx, c, modes, dl || al) < 0)
		return -1;
	c->domains = dl ? cfg_strdup(domains) : NULL;
	c->attrs = al ? cfg_strdup(attrs) : NULL;
	ctx->px->c.cookie = c;
	return 0;
}

static const struct cfg_kw cookie_cfg_kws[] = {
	{ "cookie", CFG_SEC_BE, 1, -1, parse_cookie, SLOT_NONE, TGT_PROXY, 0, 0, 0, 0,
	  "<name> [insert|rewrite|prefix] [indirect] [nocache] [postonly] [preserve] [httponly] [secure] "
	  "[domain <d>]... [maxidle <t>] [maxlife <t>] [attr <v>]..." },
	{ NULL }
};

CFG_REGISTER(cookie_cfg_kws);

static int srv_parse_cookie(struct cfg_ctx *ctx, struct srv_conf *sc, struct server *srv, char **args)
{
	const char *v = args[1];

	/* HAProxy accepts it, and every server would then share the value: one
	 * of them would get every persistent request */
	if (!srv) {
		cfg_alert(ctx, "'cookie' is a per-server value: it cannot be set on a default-server line "
		          "(the servers would share it)");
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
	{ "cookie", 1, srv_parse_cookie, SRV_KW_DEFAULT_OK },   /* refused by the parser, with a reason */
	{ NULL }
};

SRV_KW_REGISTER(cookie_srv_kws);

/*------------------------------------------------------------------------
 * Request side
 *
 * The Cookie header is read the way HAProxy's client-side cookie parser
 * reads it, so that the same headers give the same server, the same log
 * letter and the same bytes to the server: cookies are separated by ';'
 * or ',' (outside quotes), blanks around '=' are removed, attributes
 * starting with '$' go away with the cookie before them, and every
 * occurrence of our cookie is looked at (the first usable one wins).
 */
#define IS_SPHT(c) ((c) == ' ' || (c) == '\t')

/* Is it up as far as persistence is concerned? Like HAProxy's
 * "cur_state != STOPPED": a server in maintenance is stopped, a draining
 * or stopping one (disable-on-404) still serves its clients. */
static int srv_running(const struct server *srv)
{
	return !(srv->admin & SRV_ADMF_MAINT) && srv->state != SRV_ST_STOPPED;
}

/* End of a cookie value starting at <p>: the first ';' or ',' outside
 * double quotes (HAProxy's http_find_cookie_value_end()). */
static char *cookie_value_end(char *p, const char *end)
{
	int quoted = 0, escaped = 0;

	for (; p < end; p++) {
		if (escaped)
			escaped = 0;
		else if (quoted && *p == '\\')
			escaped = 1;
		else if (*p == '"')
			quoted = !quoted;
		else if (!quoted && (*p == ',' || *p == ';'))
			return p;
	}
	return p;
}

/* Removes what lies between the delimiter <*from> (or <start>) and the
 * delimiter <next> (or <end>), as HAProxy's http_del_hdr_value(): the next
 * delimiter replaces the old one, followed by one space, so the server
 * sees what it would see behind HAProxy. Returns the (negative) change of
 * length; *from moves back over blanks. */
static long del_hdr_value(char *start, char *end, char **from, char *next)
{
	char *prev = *from;

	if (prev == start) {
		if (next < end)
			next++;   /* the first cookie: its delimiter goes */
	} else {
		while (prev - 1 > start && IS_SPHT(prev[-1]))
			prev--;
		*from = prev;
		if (next < end) {
			*prev++ = *next++;
			if (prev + 1 < next)
				*prev++ = ' ';
			while (next < end && IS_SPHT(*next))
				next++;
		}
	}
	memmove(prev, next, (size_t)(end - next));
	return prev - next;
}

/* One "name = value" item of a header, with HAProxy's pointer names:
 * att_end is after the last non-blank of the name, next is on the
 * delimiter that ends the item (or the end of the header). */
struct ck_item {
	char *att_beg, *att_end, *equal, *val_beg, *val_end, *next;
};

static void ck_item_parse(struct ck_item *it, char *p, char *end)
{
	while (p < end && IS_SPHT(*p))
		p++;
	it->att_beg = it->att_end = it->equal = p;
	for (; it->equal < end && *it->equal != '=' && *it->equal != ',' && *it->equal != ';'; it->equal++)
		if (!IS_SPHT(*it->equal))
			it->att_end = it->equal + 1;
	if (it->equal < end && *it->equal == '=') {
		it->val_beg = it->equal + 1;
		while (it->val_beg < end && IS_SPHT(*it->val_beg))
			it->val_beg++;
		it->next = it->val_end = cookie_value_end(it->val_beg, end);
		while (it->val_end > it->val_beg && IS_SPHT(it->val_end[-1]))
			it->val_end--;
	} else {
		it->val_beg = it->val_end = it->next = it->equal;
	}
}

/* "name = value" becomes "name=value" (HAProxy rewrites it so). Returns
 * the change of length of the header ending at <end>. */
static long ck_item_strip(struct ck_item *it, char *end)
{
	long before = 0, after = 0;

	if (it->att_end != it->equal) {
		memmove(it->att_end, it->equal, (size_t)(end - it->equal));
		before = it->att_end - it->equal;
		it->equal += before;
		it->val_beg += before;
	}
	if (it->val_beg > it->equal + 1) {
		memmove(it->equal + 1, it->val_beg, (size_t)(end + before - it->val_beg));
		after = it->equal + 1 - it->val_beg;
		it->val_beg += after;
	}
	it->val_end += before + after;
	it->next += before + after;
	return before + after;
}

/*------------------------------------------------------------------------
 * Dates (maxidle, maxlife)
 *
 * "SRV|<last seen>|<first seen>": each date is 30 bits in 5 characters of
 * base64, the time in units of 4 seconds (HAProxy's s30tob64/b64tos30),
 * so that cookies set by HAProxy stay valid behind proxyd and back.
 */
static const char b64tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int cookie_date_decode(const char *in)
{
	int out = 0;

	for (int i = 0; i < 5; i++) {
		const char *p = in[i] ? strchr(b64tab, in[i]) : NULL;
		if (!p)
			return -1;
		out = (out << 6) + (int)(p - b64tab);
	}
	return out;
}

void cookie_date_encode(unsigned v, char out[5])
{
	for (int i = 0; i < 5; i++)
		out[i] = b64tab[(v >> (24 - 6 * i)) & 0x3f];
}

/* The dates after the first '|' at <bar>: each is read when its 5
 * characters are there, and kept only when not zero (as HAProxy). */
static void cookie_dates_read(struct http_txn *txn, const char *bar, const char *val_end)
{
	const char *d = bar + 1;
	int v;

	if (val_end - d >= 5 && (v = cookie_date_decode(d)) > 0)
		txn->ck_last_date = (unsigned)v << 2;
	d = memchr(d, '|', (size_t)(val_end - d));
	if (d && val_end - d > 5 && (v = cookie_date_decode(d + 1)) > 0)
		txn->ck_first_date = (unsigned)v << 2;
}

/* maxlife first, then maxidle: a cookie too old, idle for too long or
 * dated more than a day ahead (a clock fixed by the admin) names no
 * server any more. Returns 0 when it must be ignored. */
static int cookie_dates_valid(struct http_txn *txn, const struct cookie_conf *c)
{
	long long now = (long long)time(NULL);
	long long first = txn->ck_first_date, last = txn->ck_last_date;

	if (first && c->maxlife && (now - first > c->maxlife || first - now > 86400))
		txn->ck_req = 'O';
	else if (last && c->maxidle && (now - last > c->maxidle || last - now > 86400))
		txn->ck_req = 'E';
	else
		return 1;
	txn->ck_first_date = txn->ck_last_date = 0;
	return 0;
}

/* Where the server's part of the value ends: at '~' in prefix mode (the
 * application's value follows), at the first '|' otherwise (dates follow);
 * the whole value when there is neither. NULL: the cookie is expired. */
static char *cookie_delim(struct stream *s, const struct cookie_conf *c, char *val_beg, char *val_end)
{
	char *delim = memchr(val_beg, c->mode == CK_PREFIX ? '~' : '|', (size_t)(val_end - val_beg));

	if (!delim)
		delim = val_end;
	else if (c->mode != CK_PREFIX)
		cookie_dates_read(s->txn, delim, val_end);
	return cookie_dates_valid(s->txn, c) ? delim : NULL;
}

/* Our cookie names a server (<id>, <len> bytes): the first one with that
 * value that is up (or down, with option persist or force-persist) gets
 * the request directly. The log letter keeps what an earlier occurrence
 * found, except "none" and "invalid" (HAProxy's bitwise test). */
static void cookie_pick(struct stream *s, const char *id, size_t len)
{
	struct proxy *be = s->be;
	char *st = &s->txn->ck_req;
	int force = (be->c.options & PR_O_PERSIST) || (s->flags & SF_FORCE_PERSIST);
	struct server *srv;

	if (id && len && !(s->flags & (SF_IGNORE_PERSIST | SF_DIRECT))) {
		list_for_each(srv, &be->servers, list) {
			if (!srv->cookie || srv->cookie_len != len || memcmp(srv->cookie, id, len) != 0)
				continue;
			if (srv_running(srv) || force) {
				*st = srv_running(srv) ? 'V' : 'D';
				s->srv = srv;
				s->flags |= SF_DIRECT;
				return;
			}
			*st = 'D';   /* maybe another server has the same value */
		}
	}
	if (*st == 'N' || *st == 'I')
		*st = (s->flags & (SF_IGNORE_PERSIST | SF_DIRECT)) ? 'U' : 'I';
}

/* Our cookie at <it> in the header [hdr_beg, *hdr_end): picks the server,
 * and in prefix mode removes the "SRV~" part the application must not
 * see. Returns 1 when the item was rewritten that way. */
static int cookie_ours(struct stream *s, const struct cookie_conf *c, struct ck_item *it, char **hdr_end)
{
	char *delim = cookie_delim(s, c, it->val_beg, it->val_end);

	cookie_pick(s, delim ? it->val_beg : NULL, delim ? (size_t)(delim - it->val_beg) : 0);
	if (c->mode != CK_PREFIX || !delim || delim == it->val_end)
		return 0;
	memmove(it->val_beg, delim + 1, (size_t)(*hdr_end - (delim + 1)));
	long delta = it->val_beg - (delim + 1);
	it->val_end += delta;
	it->next += delta;
	*hdr_end += delta;
	return 1;
}

/* One Cookie header value, copied in [hdr_beg, hdr_beg + len): returns its
 * new length (0: the header goes). With insert+indirect our cookie is
 * removed: <del_from> marks where a removal starts, so that '$' attributes
 * following our cookie go with it. */
static size_t cookie_header(struct stream *s, const struct cookie_conf *c, char *hdr_beg, size_t len)
{
	char *hdr_end = hdr_beg + len, *del_from = NULL, *next = NULL;
	int keep_hdr = 0, next_started = 0;
	int indirect = c->mode == CK_INSERT && (c->flags & CK_F_INDIRECT);

	for (char *prev = hdr_beg; prev < hdr_end; prev = next) {
		struct ck_item it;

		/* <prev> is on the delimiter before the item, except the first time */
		ck_item_parse(&it, prev + (prev != hdr_beg || next_started), hdr_end);
		next_started = 1;
		next = it.next;
		if (it.att_beg < hdr_end && *it.att_beg == '$')
			continue;
		int ours = it.equal != it.next;
		if (ours) {
			hdr_end += ck_item_strip(&it, hdr_end);
			next = it.next;
			ours = it.att_end - it.att_beg == (long)c->nlen && memcmp(it.att_beg, c->name, c->nlen) == 0;
		}
		if (ours) {
			if (cookie_ours(s, c, &it, &hdr_end)) {
				next = it.next;
				del_from = NULL;
				keep_hdr = 1;
			} else if (!del_from && indirect) {
				del_from = prev;
			}
			continue;
		}
		/* another cookie: it stays, and a pending removal ends before it */
		keep_hdr = 1;
		if (del_from) {
			long delta = del_hdr_value(hdr_beg, hdr_end, &del_from, prev);
			next += delta;
			hdr_end += delta;
			del_from = NULL;
		}
	}
	if (del_from)
		hdr_end = keep_hdr ? del_from : hdr_beg;
	return (size_t)(hdr_end - hdr_beg);
}

void cookie_request(struct stream *s)
{
	const struct cookie_conf *c = s->be->c.cookie;
	struct http_msg *m = &s->txn->req;
	char *buf = s->th->scratch;

	if (!c)
		return;
	s->txn->ck_req = 'N';

	for (int i = -1; (i = http_find_hdr(m, "cookie", 6, i)) >= 0;) {
		size_t vl = m->hdrs[i].vlen;
		if (vl > (size_t)global.bufsize)
			continue;
		memcpy(buf, http_hdr_value(m, &m->hdrs[i]), vl);
		size_t n = cookie_header(s, c, buf, vl), skip = 0;
		if (n == vl)
			continue;
		/* the first cookie removed leaves the blank after its ';' */
		while (skip < n && IS_SPHT(buf[skip]))
			skip++;
		if (n > skip)
			http_hdr_set_value(m, i, buf + skip, n - skip);
		else
			http_hdr_del(m, i);
	}
}

/*------------------------------------------------------------------------
 * Response side
 */
/* Is <v> (<len> bytes) equal to <word>, or does it start with it, case
 * ignored? */
static int word_is(const char *v, size_t len, const char *word, int prefix)
{
	size_t wl = strlen(word);

	return (prefix ? len >= wl : len == wl) && strncasecmp(v, word, wl) == 0;
}

/* Cache-Control values, comma-separated (outside quotes) over all the
 * headers: what they say of the response. <ok> is updated in their
 * order (the last word wins), <fresh> set by max-age / s-maxage. */
static void cache_control(struct http_msg *m, int *ok, int *fresh)
{
	for (int i = -1; (i = http_find_hdr(m, "cache-control", 13, i)) >= 0;) {
		const char *p = http_hdr_value(m, &m->hdrs[i]), *end = p + m->hdrs[i].vlen;
		while (p < end) {
			const char *v = p, *ve;
			int quoted = 0;
			for (; p < end && (quoted || *p != ','); p++)
				quoted ^= *p == '"';
			for (ve = p++; v < ve && IS_SPHT(*v); v++)
				;
			while (ve > v && IS_SPHT(ve[-1]))
				ve--;
			size_t l = (size_t)(ve - v);
			if (word_is(v, l, "public", 0))
				*ok = 1;
			else if (word_is(v, l, "private", 0) || word_is(v, l, "no-cache", 0) || word_is(v, l, "no-store", 0) ||
			         word_is(v, l, "max-age=0", 0) || word_is(v, l, "s-maxage=0", 0))
				*ok = 0;
			else if (word_is(v, l, "max-age", 1) || word_is(v, l, "s-maxage", 1))
				*fresh = 1;
		}
	}
}

/* Could a shared cache store this response? HAProxy's view for "nocache":
 * a GET, HEAD, OPTIONS or TRACE answered with a status cacheable by
 * default (RFC 7231 6.1), unless the first Pragma is "no-cache" or
 * Cache-Control says private, no-cache, no-store, max-age=0 or s-maxage=0
 * ("public" says the contrary, whatever the method and status); and then
 * only if it has freshness information (max-age, s-maxage, Expires) or a
 * validator (ETag, Last-Modified): without them no cache keeps it. */
static int cacheable(const struct stream *s, struct http_msg *m)
{
	static const short statuses[] = { 200, 203, 204, 206, 300, 301, 404, 405, 410, 414, 501 };
	enum http_meth meth = s->txn->meth;
	int ok = 0, fresh = 0;

	if (meth == HTTP_METH_GET || meth == HTTP_METH_HEAD || meth == HTTP_METH_OPTIONS || meth == HTTP_METH_TRACE)
		for (size_t k = 0; k < sizeof(statuses) / sizeof(statuses[0]); k++)
			ok |= s->txn->status == statuses[k];
	int p = http_find_hdr(m, "pragma", 6, -1);
	if (p >= 0 && word_is(http_hdr_value(m, &m->hdrs[p]), m->hdrs[p].vlen, "no-cache", 0))
		return 0;
	cache_control(m, &ok, &fresh);
	if (!fresh)
		fresh = http_find_hdr(m, "expires", 7, -1) >= 0 || http_find_hdr(m, "etag", 4, -1) >= 0 ||
		        http_find_hdr(m, "last-modified", 13, -1) >= 0;
	return ok && fresh;
}

/* Does the client need a (new) cookie? When it did not come with a valid
 * one, and, as HAProxy, when the dates need it: the last-seen date has
 * passed (with maxidle, or when the client's cookie has one), the
 * first-seen date is missing (maxlife) or must go (no maxlife). */
static int cookie_needs_insert(const struct stream *s, const struct cookie_conf *c)
{
	const struct http_txn *txn = s->txn;
	long long now = (long long)time(NULL);

	if (!(s->flags & SF_DIRECT))
		return 1;
	if ((c->maxidle || txn->ck_last_date) && (!txn->ck_last_date || (long long)txn->ck_last_date < now))
		return 1;
	return c->maxlife ? !txn->ck_first_date : txn->ck_first_date != 0;
}

/* "NAME=VALUE", with the dates when maxidle or maxlife is set: the last
 * seen one is now (rounded up to 4 s), the first seen one is kept. */
static int cookie_value(const struct stream *s, const struct cookie_conf *c, char *out, size_t size)
{
	unsigned now4 = (unsigned)((time(NULL) + 3) >> 2);
	char d1[6] = "", d2[6] = "";

	if (c->maxidle || c->maxlife)
		cookie_date_encode(now4, d1);
	if (c->maxlife)
		cookie_date_encode(s->txn->ck_first_date ? s->txn->ck_first_date >> 2 : now4, d2);
	return snprintf(out, size, "%s=%s%s%s%s%s", c->name, s->srv->cookie, *d1 ? "|" : "", d1, *d2 ? "|" : "", d2);
}

/* One Set-Cookie header of the response (a copy in <buf>, <len> bytes):
 * the blanks around '=' go (HAProxy rewrites every Set-Cookie so); ours
 * is left alone with preserve, deleted when a cookie is inserted (insert
 * mode) or when the client has it already (indirect), else gets the
 * server's value (rewrite) or its "SRV~" prefix (prefix). Returns the new
 * length, 0 to delete the header. */
static size_t set_cookie_header(struct stream *s, const struct cookie_conf *c, char *buf, size_t len, size_t size)
{
	const struct server *srv = s->srv;
	char *end = buf + len;
	struct ck_item it;

	ck_item_parse(&it, buf, end);
	if (it.equal == it.val_end)
		return len;   /* no '=': not a cookie */
	end += ck_item_strip(&it, end);
	len = (size_t)(end - buf);
	if ((s->flags & SF_IGNORE_PERSIST) || it.att_end - it.att_beg != (long)c->nlen ||
	    memcmp(it.att_beg, c->name, c->nlen) != 0)
		return len;

	s->txn->ck_res = 'P';
	if (c->flags & CK_F_PRESERVE)
		return len;
	if ((srv && c->mode == CK_INSERT) || ((s->flags & SF_DIRECT) && (c->flags & CK_F_INDIRECT))) {
		s->txn->ck_res = 'D';
		return 0;
	}
	if (!srv || !srv->cookie || (c->mode != CK_REWRITE && c->mode != CK_PREFIX))
		return len;
	/* rewrite replaces the value, prefix inserts "SRV~" before it */
	size_t keep = c->mode == CK_REWRITE ? (size_t)(it.val_end - it.val_beg) : 0;
	size_t add = srv->cookie_len + (c->mode == CK_PREFIX);
	if (len - keep + add > size)
		return len;
	memmove(it.val_beg + add, it.val_beg + keep, (size_t)(end - it.val_beg) - keep);
	memcpy(it.val_beg, srv->cookie, srv->cookie_len);
	if (c->mode == CK_PREFIX)
		it.val_beg[srv->cookie_len] = '~';
	s->txn->ck_res = 'R';
	return len - keep + add;
}

/* The Set-Cookie headers of the response, one by one. */
static void set_cookie_headers(struct stream *s, const struct cookie_conf *c)
{
	struct http_msg *m = &s->txn->rsp;
	char *buf = s->th->scratch;
	size_t size = (size_t)global.bufsize;

	for (int i = -1; (i = http_find_hdr(m, "set-cookie", 10, i)) >= 0;) {
		size_t vl = m->hdrs[i].vlen;
		if (vl > size)
			continue;
		memcpy(buf, http_hdr_value(m, &m->hdrs[i]), vl);
		size_t n = set_cookie_header(s, c, buf, vl, size);
		if (!n)
			http_hdr_del(m, i);
		else if (n != vl || memcmp(buf, http_hdr_value(m, &m->hdrs[i]), vl) != 0)
			http_hdr_set_value(m, i, buf, n);
	}
}

/* Insert mode: the Set-Cookie the client needs, as HAProxy writes it. A
 * server without a cookie (e.g. a backup one) has the client's cookie
 * expired instead. */
static void cookie_insert(struct stream *s, const struct cookie_conf *c)
{
	struct http_msg *m = &s->txn->rsp;
	char line[2048];
	int n;

	if (s->srv->cookie)
		n = cookie_value(s, c, line, sizeof(line));
	else
		n = snprintf(line, sizeof(line), "%s=; Expires=Thu, 01-Jan-1970 00:00:01 GMT", c->name);
	if (n <= 0 || (size_t)n >= sizeof(line))
		return;
	n += snprintf(line + n, sizeof(line) - (size_t)n, "; path=/%s%s%s%s", c->domains ? c->domains : "",
	              (c->flags & CK_F_HTTPONLY) ? "; HttpOnly" : "", (c->flags & CK_F_SECURE) ? "; Secure" : "",
	              c->attrs ? c->attrs : "");
	if (n <= 0 || (size_t)n >= sizeof(line) || http_hdr_add(m, "Set-Cookie", 10, line, (size_t)n) < 0)
		return;
	s->txn->ck_res = s->srv->cookie && (s->flags & SF_DIRECT) ? 'U' : 'I';
	if ((c->flags & CK_F_NOCACHE) && cacheable(s, m))
		http_hdr_add(m, "Cache-Control", 13, "private", 7);
}

void cookie_response(struct stream *s)
{
	const struct cookie_conf *c = s->be->c.cookie;

	if (!c)
		return;
	s->txn->ck_res = 'N';
	set_cookie_headers(s, c);
	if (c->mode != CK_INSERT || !s->srv || (s->flags & SF_IGNORE_PERSIST))
		return;
	if (s->txn->ck_res == 'P' && (c->flags & CK_F_PRESERVE))
		return;   /* the application set it: its value stays */
	if ((c->flags & CK_F_POSTONLY) && s->txn->meth != HTTP_METH_POST)
		return;
	if (cookie_needs_insert(s, c))
		cookie_insert(s, c);
}

/* option redispatch took a persisted request to another server: HAProxy
 * then logs its cookie as the one of a down server. */
void cookie_server_changed(struct stream *s)
{
	if (s->txn && s->txn->ck_req == 'V')
		s->txn->ck_req = 'D';
}

/*------------------------------------------------------------------------
 * Log
 */
/* HAProxy shows the cookie letters when the backend's cookie can change
 * something (insert, rewrite, prefix or indirect): a passive cookie only
 * read gets "--". A transaction that ended before the cookie was looked
 * at (an error, a deny) says N. */
void cookie_log_letters(const struct stream *s, char out[2])
{
	const struct cookie_conf *c = s->be ? s->be->c.cookie : NULL;

	out[0] = out[1] = '-';
	if (!c || !s->txn || (c->mode == CK_PASSIVE && !(c->flags & CK_F_INDIRECT)))
		return;
	out[0] = s->txn->ck_req ? s->txn->ck_req : 'N';
	out[1] = s->txn->ck_res ? s->txn->ck_res : 'N';
}
