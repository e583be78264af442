/* "capture request header", "capture response header" and "capture cookie"
 * in a frontend, and the log variables that print them (%hr, %hs, %hrl,
 * %hsl, %CC, %CS).
 *
 * Each capture has a fixed slot of its length in a per-transaction block
 * taken from a pool sized for the largest frontend, only for frontends
 * that capture something: the log line needs no allocation per request. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <proxyd/cfg.h>
#include <proxyd/http.h>
#include <proxyd/log.h>
#include <proxyd/logformat.h>
#include <proxyd/pool.h>
#include <proxyd/proxy.h>
#include <proxyd/sample.h>
#include <proxyd/stream.h>

#define CAP_MAX_ITEMS 16

struct cap_item {
	const char *name;
	size_t nlen;
	int len;
	size_t off;                 /* slot: a 2-byte length then <len> bytes */
};

struct capture_conf {
	struct cap_item req[CAP_MAX_ITEMS], res[CAP_MAX_ITEMS];
	int nb_req, nb_res;
	struct cap_item ck_req, ck_res;   /* capture cookie: name, length, slots */
	int has_cookie;
	size_t total;
};

static struct pool cap_pool;
static size_t cap_pool_size;

static const uint16_t CAP_NONE = 0xffff;

static struct capture_conf *conf_of(struct proxy *px)
{
	if (!px->captures)
		px->captures = cfg_alloc(sizeof(struct capture_conf));
	return px->captures;
}

static void add_slot(struct capture_conf *cc, struct cap_item *it)
{
	it->off = cc->total;
	cc->total += 2 + (size_t)it->len;
}

static int parse_capture(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	int len;

	if (ctx->sec == CFG_SEC_DEFAULTS) {
		cfg_alert(ctx, "'capture' is not allowed in a defaults section (declare it in the frontend)");
		return -1;
	}
	if (!strcmp(args[0], "cookie")) {
		if (nargs != 4 || strcmp(args[2], "len")) {
			cfg_alert(ctx, "'capture cookie' expects '<name> len <length>'");
			return -1;
		}
		ctx->kw = "capture cookie len";
		if (cfg_int_arg(ctx, args[3], 1, 4096, &len) < 0)
			return -1;
		struct capture_conf *cc = conf_of(ctx->px);
		if (cc->has_cookie) {
			cfg_alert(ctx, "'capture cookie': only one cookie capture per frontend");
			return -1;
		}
		cc->has_cookie = 1;
		cc->ck_req.name = cc->ck_res.name = cfg_strdup(args[1]);
		cc->ck_req.nlen = cc->ck_res.nlen = strlen(args[1]);
		cc->ck_req.len = cc->ck_res.len = len;
		add_slot(cc, &cc->ck_req);
		add_slot(cc, &cc->ck_res);
		return 0;
	}
	if ((strcmp(args[0], "request") && strcmp(args[0], "response")) || nargs != 5 || strcmp(args[1], "header") ||
	    strcmp(args[3], "len")) {
		cfg_alert(ctx, "'capture' expects 'request header <name> len <length>', 'response header <name> len "
		          "<length>' or 'cookie <name> len <length>'");
		return -1;
	}
	ctx->kw = "capture len";
	if (cfg_int_arg(ctx, args[4], 1, 4096, &len) < 0)
		return -1;
	struct capture_conf *cc = conf_of(ctx->px);
	int res = args[0][2] == 's';
	int *nb = res ? &cc->nb_res : &cc->nb_req;
	if (*nb >= CAP_MAX_ITEMS) {
		cfg_alert(ctx, "'capture %s header': at most %d per frontend", args[0], CAP_MAX_ITEMS);
		return -1;
	}
	struct cap_item *it = res ? &cc->res[*nb] : &cc->req[*nb];
	it->name = cfg_strdup(args[2]);
	it->nlen = strlen(args[2]);
	it->len = len;
	add_slot(cc, it);
	(*nb)++;
	return 0;
}

static const struct cfg_kw capture_kws[] = {
	{ "capture", CFG_SEC_FRONTEND | CFG_SEC_LISTEN | CFG_SEC_DEFAULTS, 4, 5, parse_capture, SLOT_NONE, TGT_PROXY,
	  0, 0, 0, 0, "request header <name> len <n> | response header <name> len <n> | cookie <name> len <n>" },
	{ NULL }
};

CFG_REGISTER(capture_kws);

static int capture_post_parse(void)
{
	struct proxy *px;

	list_for_each(px, &proxies, list)
		if (px->captures && ((struct capture_conf *)px->captures)->total > cap_pool_size)
			cap_pool_size = ((struct capture_conf *)px->captures)->total;
	if (cap_pool_size && !cap_pool.name)
		pool_init(&cap_pool, "captures", cap_pool_size, 256);
	cap_pool.shared = 1;   /* used by every thread */
	return 0;
}

static void capture_deinit(void)
{
	if (cap_pool.name)
		pool_flush(&cap_pool);
}

static const struct cfg_postparser capture_postparser = { "captures", capture_post_parse, capture_deinit };
CFG_POSTPARSER_REGISTER(capture_postparser);

/*------------------------------------------------------------------------
 * Traffic
 */
static void store(char *block, const struct cap_item *it, const char *v, size_t len)
{
	uint16_t l = (uint16_t)(len < (size_t)it->len ? len : (size_t)it->len);
	memcpy(block + it->off, &l, 2);
	memcpy(block + it->off + 2, v, l);
}

static char *block_of(struct stream *s, const struct capture_conf *cc)
{
	struct http_txn *txn = s->txn;

	if (!txn->cap) {
		txn->cap = pool_alloc(&cap_pool);
		if (!txn->cap)
			return NULL;
		/* every slot starts "not seen" */
		for (int i = 0; i < cc->nb_req; i++)
			memcpy(txn->cap + cc->req[i].off, &CAP_NONE, 2);
		for (int i = 0; i < cc->nb_res; i++)
			memcpy(txn->cap + cc->res[i].off, &CAP_NONE, 2);
		if (cc->has_cookie) {
			memcpy(txn->cap + cc->ck_req.off, &CAP_NONE, 2);
			memcpy(txn->cap + cc->ck_res.off, &CAP_NONE, 2);
		}
	}
	return txn->cap;
}

/* The last line of a header, as HAProxy captures it. */
static void capture_headers(struct http_msg *m, char *block, const struct cap_item *items, int nb)
{
	for (int i = 0; i < nb; i++) {
		int last = -1;
		for (int k = -1; (k = http_find_hdr(m, items[i].name, items[i].nlen, k)) >= 0;)
			last = k;
		if (last >= 0)
			store(block, &items[i], http_hdr_value(m, &m->hdrs[last]), m->hdrs[last].vlen);
	}
}

/* "NAME...=value" of the first cookie whose name starts with NAME. */
static void capture_cookie(struct http_msg *m, char *block, const struct cap_item *it, int res)
{
	const char *hname = res ? "set-cookie" : "cookie";

	for (int k = -1; (k = http_find_hdr(m, hname, res ? 10 : 6, k)) >= 0;) {
		const char *v = http_hdr_value(m, &m->hdrs[k]), *end = v + m->hdrs[k].vlen;
		for (const char *p = v; p < end;) {
			while (p < end && (*p == ' ' || *p == '\t' || *p == ';' || (!res && *p == ',')))
				p++;
			const char *e = p;
			while (e < end && *e != ';' && (res || *e != ','))
				e++;
			if ((size_t)(e - p) > it->nlen && !memcmp(p, it->name, it->nlen) && memchr(p, '=', (size_t)(e - p))) {
				store(block, it, p, (size_t)(e - p));
				return;
			}
			if (res)
				break;   /* Set-Cookie: only its first pair is a cookie */
			p = e;
		}
	}
}

void capture_request(struct stream *s)
{
	const struct capture_conf *cc = s->fe->captures;

	if (!cc || (!cc->nb_req && !cc->has_cookie))
		return;
	char *b = block_of(s, cc);
	if (!b)
		return;
	capture_headers(&s->txn->req, b, cc->req, cc->nb_req);
	if (cc->has_cookie)
		capture_cookie(&s->txn->req, b, &cc->ck_req, 0);
}

void capture_response(struct stream *s)
{
	const struct capture_conf *cc = s->fe->captures;

	if (!cc || (!cc->nb_res && !cc->has_cookie))
		return;
	char *b = block_of(s, cc);
	if (!b)
		return;
	capture_headers(&s->txn->rsp, b, cc->res, cc->nb_res);
	if (cc->has_cookie)
		capture_cookie(&s->txn->rsp, b, &cc->ck_res, 1);
}

void capture_free(struct http_txn *txn)
{
	if (txn->cap) {
		pool_free(&cap_pool, txn->cap);
		txn->cap = NULL;
	}
}

/*------------------------------------------------------------------------
 * Log variables
 */
static const char *slot(const struct stream *s, const struct cap_item *it, uint16_t *len)
{
	if (!s->txn || !s->txn->cap)
		return NULL;
	memcpy(len, s->txn->cap + it->off, 2);
	return *len == CAP_NONE ? NULL : s->txn->cap + it->off + 2;
}

/* As HAProxy: '"', '#', '{', '|', '}' and control bytes are written #XX,
 * so that the braces and bars of the log line stay unambiguous; with +E,
 * '\' and ']' get a backslash in front. */
static size_t encode(char *dst, size_t size, const char *v, size_t len, unsigned opts)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (size_t i = 0; i < len && n < size; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c < 0x20 || c >= 0x7f || strchr("\"#{|}", c)) {
			if (n + 3 > size)
				break;
			dst[n++] = '#';
			dst[n++] = hex[c >> 4];
			dst[n++] = hex[c & 15];
		} else if ((opts & LF_OPT_ESC) && (c == '\\' || c == ']')) {
			if (n + 2 > size)
				break;
			dst[n++] = '\\';
			dst[n++] = (char)c;
		} else {
			dst[n++] = (char)c;
		}
	}
	return n;
}

static void add(char *dst, size_t size, size_t *n, char c)
{
	if (*n < size)
		dst[(*n)++] = c;
}

/* The captures of <s>, or NULL when there are none to print: none
 * configured, or a request that was never parsed (HAProxy logs those
 * errors without their stream, hence without captures). */
static const struct cap_item *items_of(struct stream *s, int res, int *nb)
{
	const struct capture_conf *cc = s->fe->captures;

	*nb = cc ? (res ? cc->nb_res : cc->nb_req) : 0;
	if (!*nb || !s->txn || !s->txn->rline_len)
		return NULL;
	return res ? cc->res : cc->req;
}

/* %hr / %hs: "{v1|v2}" (empty slots stay empty); nothing at all when the
 * frontend captures no such header. */
static int braces(struct stream *s, char *dst, size_t size, unsigned opts, int res)
{
	int nb;
	const struct cap_item *items = items_of(s, res, &nb);
	size_t n = 0;

	if (!items)
		return 0;
	if (opts & LF_OPT_QUOTE)
		add(dst, size, &n, '"');
	add(dst, size, &n, '{');
	for (int i = 0; i < nb; i++) {
		uint16_t l;
		const char *v = slot(s, &items[i], &l);
		if (i)
			add(dst, size, &n, '|');
		if (v)
			n += encode(dst + n, size - n, v, l, opts);
	}
	add(dst, size, &n, '}');
	if (opts & LF_OPT_QUOTE)
		add(dst, size, &n, '"');
	return (int)n;
}

/* %hrl / %hsl: the values separated by blanks, "-" (or "" when quoted)
 * for the missing ones. */
static int blanks(struct stream *s, char *dst, size_t size, unsigned opts, int res)
{
	int nb;
	const struct cap_item *items = items_of(s, res, &nb);
	size_t n = 0;

	if (!items)
		return 0;
	for (int i = 0; i < nb; i++) {
		uint16_t l;
		const char *v = slot(s, &items[i], &l);
		if (i)
			add(dst, size, &n, ' ');
		if (opts & LF_OPT_QUOTE)
			add(dst, size, &n, '"');
		if (v)
			n += encode(dst + n, size - n, v, l, opts);
		else if (!(opts & LF_OPT_QUOTE))
			add(dst, size, &n, '-');
		if (opts & LF_OPT_QUOTE)
			add(dst, size, &n, '"');
	}
	return (int)n;
}

/* +J (proxyd's JSON lines): the same text as one JSON string, "-" when
 * nothing is captured. */
static int captures(struct stream *s, char *dst, size_t size, unsigned opts, int res,
                    int (*fn)(struct stream *, char *, size_t, unsigned, int))
{
	char tmp[8192];

	if (!(opts & LF_OPT_JSON))
		return fn(s, dst, size, opts, res);
	int n = fn(s, tmp, sizeof(tmp), opts & ~LF_OPT_JSON, res);
	return n > 0 ? lf_put_str(dst, size, tmp, (size_t)n, opts) : -1;
}

static int v_hr(struct stream *s, char *dst, size_t size, unsigned opts) { return captures(s, dst, size, opts, 0, braces); }
static int v_hs(struct stream *s, char *dst, size_t size, unsigned opts) { return captures(s, dst, size, opts, 1, braces); }
static int v_hrl(struct stream *s, char *dst, size_t size, unsigned opts) { return captures(s, dst, size, opts, 0, blanks); }
static int v_hsl(struct stream *s, char *dst, size_t size, unsigned opts) { return captures(s, dst, size, opts, 1, blanks); }

/* %CC / %CS: "name=value" as it came, not encoded (as HAProxy). */
static int cookie_var(struct stream *s, char *dst, size_t size, unsigned opts, int res)
{
	const struct capture_conf *cc = s->fe->captures;
	uint16_t l;

	if (!cc || !cc->has_cookie)
		return -1;
	const char *v = slot(s, res ? &cc->ck_res : &cc->ck_req, &l);
	if (!v || !l)
		return -1;
	return lf_put_str(dst, size, v, l, opts);
}

static int v_CC(struct stream *s, char *dst, size_t size, unsigned opts) { return cookie_var(s, dst, size, opts, 0); }
static int v_CS(struct stream *s, char *dst, size_t size, unsigned opts) { return cookie_var(s, dst, size, opts, 1); }

static const struct lf_var capture_vars[] = {
	{ "hr", v_hr, SMP_USE_HRQ, LFV_MAY_VANISH }, { "hs", v_hs, SMP_USE_HRS, LFV_MAY_VANISH },
	{ "hrl", v_hrl, SMP_USE_HRQ, LFV_MAY_VANISH }, { "hsl", v_hsl, SMP_USE_HRS, LFV_MAY_VANISH },
	{ "CC", v_CC, SMP_USE_HRQ, 0 }, { "CS", v_CS, SMP_USE_HRS, 0 },
	{ NULL }
};

LF_VAR_REGISTER(capture_vars);
