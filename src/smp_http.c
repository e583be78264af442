/* HTTP sample fetches: method, path, URL parts, headers, cookies, query
 * parameters, version, response status and headers. They read the head
 * being analysed: request data during the request rules, response data
 * during the response rules (heads are rebuilt and sent after that). */
#include <string.h>
#include <strings.h>

#include <proxyd/acl.h>
#include <proxyd/http.h>
#include <proxyd/sample.h>
#include <proxyd/stream.h>

/* The request or response head while it can be read, else NULL. */
static struct http_msg *req_head(struct stream *s)
{
	struct http_txn *txn = s->txn;
	return txn && txn->req.state == HTTP_MSG_HDRS_DONE ? &txn->req : NULL;
}

static struct http_msg *res_head(struct stream *s)
{
	struct http_txn *txn = s->txn;
	return txn && txn->rsp.state == HTTP_MSG_HDRS_DONE ? &txn->rsp : NULL;
}

static int set_str(struct sample *smp, const char *p, size_t len)
{
	smp->type = SMP_T_STR;
	smp->flags |= SMP_F_CONST;
	smp->data.str.ptr = p;
	smp->data.str.len = len;
	return 1;
}

static int set_sint(struct sample *smp, long long v)
{
	smp->type = SMP_T_SINT;
	smp->data.sint = v;
	return 1;
}

/*------------------------------------------------------------------------
 * Start line
 */
static int smp_fetch_method(const struct arg *args, struct sample *smp, struct stream *s,
                            const struct sample_fetch *kw)
{
	struct http_msg *m = req_head(s);

	if (!m)
		return 0;
	smp->type = SMP_T_METH;
	smp->flags |= SMP_F_CONST;
	smp->data.meth.meth = http_msg_method(m);
	smp->data.meth.ptr = http_sl(m, 0);
	smp->data.meth.len = m->sl_len[0];
	return 1;
}

static int smp_fetch_url(const struct arg *args, struct sample *smp, struct stream *s,
                         const struct sample_fetch *kw)
{
	struct http_msg *m = req_head(s);

	return m && set_str(smp, http_sl(m, 1), m->sl_len[1]);
}

/* The path of a URI: from its first '/' (after the authority of an
 * absolute URI) up to the query string. */
static int uri_path(const char *u, size_t len, const char **pp, size_t *pl)
{
	const char *end = u + len, *p = u;

	if (p < end && *p != '/') {
		const char *scheme = memchr(p, ':', (size_t)(end - p));
		if (!scheme || scheme + 3 > end || scheme[1] != '/' || scheme[2] != '/')
			return 0;   /* "*" or an authority form: no path */
		p = memchr(scheme + 3, '/', (size_t)(end - scheme - 3));
		if (!p) {
			*pp = end;
			*pl = 0;
			return 1;
		}
	}
	const char *q = memchr(p, '?', (size_t)(end - p));
	*pp = p;
	*pl = (size_t)((q ? q : end) - p);
	return 1;
}

static int smp_fetch_path(const struct arg *args, struct sample *smp, struct stream *s,
                          const struct sample_fetch *kw)
{
	struct http_msg *m = req_head(s);
	const char *p;
	size_t l;

	if (!m || !uri_path(http_sl(m, 1), m->sl_len[1], &p, &l))
		return 0;
	return set_str(smp, p, l);
}

static int smp_fetch_query(const struct arg *args, struct sample *smp, struct stream *s,
                           const struct sample_fetch *kw)
{
	struct http_msg *m = req_head(s);

	if (!m)
		return 0;
	const char *u = http_sl(m, 1);
	const char *q = memchr(u, '?', m->sl_len[1]);
	if (!q)
		return 0;
	const char *end = u + m->sl_len[1];
	const char *hash = memchr(q, '#', (size_t)(end - q));
	return set_str(smp, q + 1, (size_t)((hash ? hash : end) - q - 1));
}

static int find_host(struct http_msg *m, const char **hp, size_t *hl)
{
	int i = http_find_hdr(m, "host", 4, -1);

	if (i < 0)
		return 0;
	*hp = http_hdr_value(m, &m->hdrs[i]);
	*hl = m->hdrs[i].vlen;
	return 1;
}

/* base: Host header + path, as HAProxy builds it for caches and stickiness. */
static int smp_fetch_base(const struct arg *args, struct sample *smp, struct stream *s,
                          const struct sample_fetch *kw)
{
	struct http_msg *m = req_head(s);
	const char *h = NULL, *p;
	size_t hl = 0, pl;

	if (!m || !uri_path(http_sl(m, 1), m->sl_len[1], &p, &pl))
		return 0;
	if (!find_host(m, &h, &hl))
		return set_str(smp, p, pl);
	struct trash *t = smp_trash();
	if (hl + pl > t->size)
		return 0;
	memcpy(t->area, h, hl);
	memcpy(t->area + hl, p, pl);
	smp->type = SMP_T_STR;
	smp->data.str.ptr = t->area;
	smp->data.str.len = hl + pl;
	return 1;
}

static int smp_fetch_ver(const struct arg *args, struct sample *smp, struct stream *s,
                         const struct sample_fetch *kw)
{
	struct http_msg *m = kw->priv ? res_head(s) : req_head(s);

	if (!m)
		return 0;
	return set_str(smp, (m->flags & HMF_VER_11) ? "1.1" : "1.0", 3);
}

static int smp_fetch_proto_http(const struct arg *args, struct sample *smp, struct stream *s,
                                const struct sample_fetch *kw)
{
	smp->type = SMP_T_BOOL;
	smp->data.sint = (s->flags & SF_HTTP) && s->txn != NULL;
	return 1;
}

/* Request body bytes already received with the head (REQ_CONTENT). */
static int smp_fetch_req_len(const struct arg *args, struct sample *smp, struct stream *s,
                             const struct sample_fetch *kw)
{
	struct http_msg *m = req_head(s);

	if (!m)
		return 0;
	uint32_t body = m->sol + m->head_len;
	return set_sint(smp, s->req.end > body ? (long long)(s->req.end - body) : 0);
}

static int smp_fetch_first_req(const struct arg *args, struct sample *smp, struct stream *s,
                               const struct sample_fetch *kw)
{
	smp->type = SMP_T_BOOL;
	smp->data.sint = !(s->flags & SF_NOT_FIRST);
	return 1;
}

static int smp_fetch_status(const struct arg *args, struct sample *smp, struct stream *s,
                            const struct sample_fetch *kw)
{
	struct http_msg *m = res_head(s);

	if (!m)
		return 0;
	return set_sint(smp, m->status_override ? m->status_override : http_msg_status(m));
}

/*------------------------------------------------------------------------
 * Headers. hdr() sees each comma-separated value as one value; fhdr() the
 * whole line. An occurrence counts from 1 (first) or -1 (last); without
 * one an ACL tries every value and a sample takes the last.
 */
struct hdr_walk {
	int idx;            /* header index */
	uint32_t off;       /* offset of the next value within it */
};

/* Next value of <name> after <w>; returns 1 with (vp, vl). */
static int next_value(const struct http_msg *m, const char *name, size_t nlen, int full,
                      struct hdr_walk *w, const char **vp, size_t *vl)
{
	for (;;) {
		if (w->idx < 0 || w->idx >= m->nb_hdrs || w->off == UINT32_MAX) {
			w->idx = http_find_hdr(m, name, nlen, w->idx);
			w->off = 0;
			if (w->idx < 0)
				return 0;
		}
		const struct http_hdr *h = &m->hdrs[w->idx];
		const char *v = http_hdr_value(m, h);
		if (full) {
			*vp = v;
			*vl = h->vlen;
			w->off = UINT32_MAX;
			return 1;
		}
		if (w->off > h->vlen) {
			w->off = UINT32_MAX;
			continue;
		}
		const char *p = v + w->off, *end = v + h->vlen;
		const char *c = memchr(p, ',', (size_t)(end - p));
		const char *e = c ? c : end;
		w->off = c ? (uint32_t)(c - v + 1) : UINT32_MAX;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		*vp = p;
		*vl = (size_t)(e - p);
		return 1;
	}
}

static int fetch_hdr(const struct arg *args, struct sample *smp, struct http_msg *m, int full)
{
	const char *name = args[0].data.str.ptr;
	size_t nlen = args[0].data.str.len;
	long long occ = args[1].type == ARGT_SINT ? args[1].data.sint : 0;
	struct hdr_walk w;
	const char *vp = NULL;
	size_t vl = 0;

	if (!m || args[0].type != ARGT_STR)
		return 0;
	if (occ == 0 && (smp->flags & SMP_OPT_ITERATE)) {
		/* one value per call; ctx keeps the position */
		w.idx = (int)(smp->ctx >> 32) - 1;
		w.off = (uint32_t)(smp->ctx & 0xffffffff);
		if (w.idx < 0)
			w.off = UINT32_MAX;
		if (!next_value(m, name, nlen, full, &w, &vp, &vl))
			return 0;
		smp->ctx = ((long)(w.idx + 1) << 32) | w.off;
		struct hdr_walk peek = w;
		const char *pp;
		size_t pl;
		if (next_value(m, name, nlen, full, &peek, &pp, &pl))
			smp->flags |= SMP_F_NOT_LAST;
		return set_str(smp, vp, vl);
	}
	if (occ == 0)
		occ = -1;
	w.idx = -1;
	w.off = UINT32_MAX;
	if (occ > 0) {
		for (long long n = 0; n < occ; n++)
			if (!next_value(m, name, nlen, full, &w, &vp, &vl))
				return 0;
		return set_str(smp, vp, vl);
	}
	/* from the end: count first */
	long long total = 0;
	const char *tp;
	size_t tl;
	while (next_value(m, name, nlen, full, &w, &tp, &tl))
		total++;
	long long want = total + occ;   /* occ is negative */
	if (want < 0)
		return 0;
	w.idx = -1;
	w.off = UINT32_MAX;
	for (long long n = 0; n <= want; n++)
		next_value(m, name, nlen, full, &w, &vp, &vl);
	return set_str(smp, vp, vl);
}

static int count_hdr(const struct arg *args, struct sample *smp, struct http_msg *m, int full)
{
	struct hdr_walk w = { -1, UINT32_MAX };
	const char *vp;
	size_t vl;
	long long n = 0;

	if (!m)
		return 0;
	if (args[0].type != ARGT_STR) {
		for (int i = 0; i < m->nb_hdrs; i++)
			n += m->hdrs[i].nlen != 0;
		return set_sint(smp, n);
	}
	while (next_value(m, args[0].data.str.ptr, args[0].data.str.len, full, &w, &vp, &vl))
		n++;
	return set_sint(smp, n);
}

/* priv: bit 0 full line, bit 1 response side */
static int smp_fetch_hdr(const struct arg *args, struct sample *smp, struct stream *s,
                         const struct sample_fetch *kw)
{
	return fetch_hdr(args, smp, (kw->priv & 2) ? res_head(s) : req_head(s), kw->priv & 1);
}

static int smp_fetch_hdr_cnt(const struct arg *args, struct sample *smp, struct stream *s,
                             const struct sample_fetch *kw)
{
	return count_hdr(args, smp, (kw->priv & 2) ? res_head(s) : req_head(s), kw->priv & 1);
}

static int smp_fetch_hdr_val(const struct arg *args, struct sample *smp, struct stream *s,
                             const struct sample_fetch *kw)
{
	if (!fetch_hdr(args, smp, (kw->priv & 2) ? res_head(s) : req_head(s), 0))
		return 0;
	unsigned more = smp->flags & SMP_F_NOT_LAST;
	if (!sample_cast(smp, SMP_T_SINT))
		return 0;
	smp->flags |= more;
	return 1;
}

/*------------------------------------------------------------------------
 * Cookies: "Cookie: a=1; b=2". The name is case-sensitive; a sample takes
 * the last occurrence, an ACL tries them all.
 */
static int next_cookie(const struct http_msg *m, int res, const char *name, size_t nlen, struct hdr_walk *w,
                       const char **vp, size_t *vl)
{
	for (;;) {
		if (w->idx < 0 || w->off == UINT32_MAX) {
			w->idx = res ? http_find_hdr(m, "set-cookie", 10, w->idx) : http_find_hdr(m, "cookie", 6, w->idx);
			w->off = 0;
			if (w->idx < 0)
				return 0;
		}
		const struct http_hdr *h = &m->hdrs[w->idx];
		const char *v = http_hdr_value(m, h), *end = v + h->vlen;
		const char *p = v + w->off;
		if (p >= end) {
			w->off = UINT32_MAX;
			continue;
		}
		const char *semi = p;
		while (semi < end && *semi != ';' && (res || *semi != ','))
			semi++;
		/* a Set-Cookie header sets one cookie: what follows are attributes */
		w->off = semi < end && !res ? (uint32_t)(semi - v + 1) : UINT32_MAX;
		while (p < semi && (*p == ' ' || *p == '\t'))
			p++;
		const char *eq = memchr(p, '=', (size_t)(semi - p));
		if (!eq)
			continue;
		const char *ne = eq;
		while (ne > p && (ne[-1] == ' ' || ne[-1] == '\t'))
			ne--;
		if (name && ((size_t)(ne - p) != nlen || memcmp(p, name, nlen) != 0))
			continue;
		const char *vs = eq + 1, *ve = semi;
		while (vs < ve && (*vs == ' ' || *vs == '\t'))
			vs++;
		while (ve > vs && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		*vp = vs;
		*vl = (size_t)(ve - vs);
		return 1;
	}
}

static int smp_fetch_cook(const struct arg *args, struct sample *smp, struct stream *s,
                          const struct sample_fetch *kw)
{
	int res = (kw->priv & 2) != 0;
	struct http_msg *m = res ? res_head(s) : req_head(s);
	const char *name = args[0].type == ARGT_STR ? args[0].data.str.ptr : NULL;
	size_t nlen = name ? args[0].data.str.len : 0;
	struct hdr_walk w;
	const char *vp = NULL, *tp;
	size_t vl = 0, tl;

	if (!m || !name)
		return 0;
	if (smp->flags & SMP_OPT_ITERATE) {
		w.idx = (int)(smp->ctx >> 32) - 1;
		w.off = (uint32_t)(smp->ctx & 0xffffffff);
		if (w.idx < 0)
			w.off = UINT32_MAX;
		if (!next_cookie(m, res, name, nlen, &w, &vp, &vl))
			return 0;
		smp->ctx = ((long)(w.idx + 1) << 32) | w.off;
		struct hdr_walk peek = w;
		if (next_cookie(m, res, name, nlen, &peek, &tp, &tl))
			smp->flags |= SMP_F_NOT_LAST;
		return set_str(smp, vp, vl);
	}
	w.idx = -1;
	w.off = UINT32_MAX;
	int found = 0;
	while (next_cookie(m, res, name, nlen, &w, &tp, &tl)) {
		vp = tp;
		vl = tl;
		found = 1;
	}
	return found && set_str(smp, vp, vl);
}

static int smp_fetch_cook_cnt(const struct arg *args, struct sample *smp, struct stream *s,
                              const struct sample_fetch *kw)
{
	int res = (kw->priv & 2) != 0;
	struct http_msg *m = res ? res_head(s) : req_head(s);
	struct hdr_walk w = { -1, UINT32_MAX };
	const char *vp;
	size_t vl;
	long long n = 0;

	if (!m)
		return 0;
	const char *name = args[0].type == ARGT_STR ? args[0].data.str.ptr : NULL;
	while (next_cookie(m, res, name, name ? args[0].data.str.len : 0, &w, &vp, &vl))
		n++;
	return set_sint(smp, n);
}

static int smp_fetch_cook_val(const struct arg *args, struct sample *smp, struct stream *s,
                              const struct sample_fetch *kw)
{
	if (!smp_fetch_cook(args, smp, s, kw))
		return 0;
	unsigned more = smp->flags & SMP_F_NOT_LAST;
	if (!sample_cast(smp, SMP_T_SINT))
		return 0;
	smp->flags |= more;
	return 1;
}

/*------------------------------------------------------------------------
 * Query string parameters: url_param(name[,delim]), not URL-decoded (as
 * HAProxy). The parameters start after the first '?' or <delim> and are
 * separated by '&', ';' or <delim> (not by a later '?'); only
 * "name=value" counts. A sample takes the first occurrence, an ACL tries
 * them all.
 */
static const char *next_param(const char *p, const char *end, char delim, const char *name, size_t nlen,
                              const char **vp, size_t *vl)
{
	while (p <= end) {
		const char *e = p;
		while (e < end && *e != '&' && *e != ';' && *e != delim)
			e++;
		const char *eq = memchr(p, '=', (size_t)(e - p));
		if (eq && (!name || ((size_t)(eq - p) == nlen && memcmp(p, name, nlen) == 0))) {
			*vp = eq + 1;
			*vl = (size_t)(e - eq - 1);
			return e + 1;
		}
		p = e + 1;
	}
	return NULL;
}

static int smp_fetch_url_param(const struct arg *args, struct sample *smp, struct stream *s,
                               const struct sample_fetch *kw)
{
	struct http_msg *m = req_head(s);
	char delim = args[1].type == ARGT_STR && args[1].data.str.len ? args[1].data.str.ptr[0] : '&';
	const char *vp, *tp;
	size_t vl, tl;

	if (!m)
		return 0;
	const char *u = http_sl(m, 1), *end = u + m->sl_len[1];
	const char *hash = memchr(u, '#', m->sl_len[1]);
	if (hash)
		end = hash;
	const char *q = memchr(u, '?', (size_t)(end - u));
	if (delim != '&') {
		const char *d = memchr(u, delim, (size_t)(end - u));
		if (d && (!q || d < q))
			q = d;
	}
	if (!q)
		return 0;
	const char *name = args[0].type == ARGT_STR ? args[0].data.str.ptr : NULL;
	size_t nlen = name ? args[0].data.str.len : 0;
	const char *from = q + 1;
	if ((smp->flags & SMP_OPT_ITERATE) && smp->ctx)
		from = u + smp->ctx;   /* where the previous value ended */
	const char *next = next_param(from, end, delim, name, nlen, &vp, &vl);
	if (!next)
		return 0;
	if (smp->flags & SMP_OPT_ITERATE) {
		smp->ctx = (long)(next - u);
		if (next_param(next, end, delim, name, nlen, &tp, &tl))
			smp->flags |= SMP_F_NOT_LAST;
	}
	return set_str(smp, vp, vl);
}

static const struct sample_fetch http_fetches[] = {
	{ "method",        smp_fetch_method,     ARG0, NULL, SMP_T_METH, SMP_USE_HRQ },
	{ "url",           smp_fetch_url,        ARG0, NULL, SMP_T_STR,  SMP_USE_HRQ },
	{ "path",          smp_fetch_path,       ARG0, NULL, SMP_T_STR,  SMP_USE_HRQ },
	{ "query",         smp_fetch_query,      ARG0, NULL, SMP_T_STR,  SMP_USE_HRQ },
	{ "base",          smp_fetch_base,       ARG0, NULL, SMP_T_STR,  SMP_USE_HRQ },
	{ "req.ver",       smp_fetch_ver,        ARG0, NULL, SMP_T_STR,  SMP_USE_HRQ, 0 },
	{ "req_ver",       smp_fetch_ver,        ARG0, NULL, SMP_T_STR,  SMP_USE_HRQ, 0 },
	{ "res.ver",       smp_fetch_ver,        ARG0, NULL, SMP_T_STR,  SMP_USE_HRS, 1 },
	{ "req.proto_http", smp_fetch_proto_http, ARG0, NULL, SMP_T_BOOL, SMP_USE_HRQ },
	{ "http_first_req", smp_fetch_first_req, ARG0, NULL, SMP_T_BOOL, SMP_USE_HRQ },
	{ "req.len",       smp_fetch_req_len,    ARG0, NULL, SMP_T_SINT, SMP_USE_HRQ },
	{ "req_len",       smp_fetch_req_len,    ARG0, NULL, SMP_T_SINT, SMP_USE_HRQ },
	{ "status",        smp_fetch_status,     ARG0, NULL, SMP_T_SINT, SMP_USE_HRS },
	{ "hdr",           smp_fetch_hdr,        ARG2(0, STR, SINT), NULL, SMP_T_STR, SMP_USE_HRQ, 0 },
	{ "req.hdr",       smp_fetch_hdr,        ARG2(0, STR, SINT), NULL, SMP_T_STR, SMP_USE_HRQ, 0 },
	{ "req.fhdr",      smp_fetch_hdr,        ARG2(1, STR, SINT), NULL, SMP_T_STR, SMP_USE_HRQ, 1 },
	{ "hdr_cnt",       smp_fetch_hdr_cnt,    ARG1(0, STR), NULL, SMP_T_SINT, SMP_USE_HRQ, 0 },
	{ "req.hdr_cnt",   smp_fetch_hdr_cnt,    ARG1(0, STR), NULL, SMP_T_SINT, SMP_USE_HRQ, 0 },
	{ "req.fhdr_cnt",  smp_fetch_hdr_cnt,    ARG1(0, STR), NULL, SMP_T_SINT, SMP_USE_HRQ, 1 },
	{ "hdr_val",       smp_fetch_hdr_val,    ARG2(1, STR, SINT), NULL, SMP_T_SINT, SMP_USE_HRQ, 0 },
	{ "req.hdr_val",   smp_fetch_hdr_val,    ARG2(1, STR, SINT), NULL, SMP_T_SINT, SMP_USE_HRQ, 0 },
	{ "res.hdr",       smp_fetch_hdr,        ARG2(0, STR, SINT), NULL, SMP_T_STR, SMP_USE_HRS, 2 },
	{ "shdr",          smp_fetch_hdr,        ARG2(0, STR, SINT), NULL, SMP_T_STR, SMP_USE_HRS, 2 },
	{ "res.fhdr",      smp_fetch_hdr,        ARG2(1, STR, SINT), NULL, SMP_T_STR, SMP_USE_HRS, 3 },
	{ "res.hdr_cnt",   smp_fetch_hdr_cnt,    ARG1(0, STR), NULL, SMP_T_SINT, SMP_USE_HRS, 2 },
	{ "res.fhdr_cnt",  smp_fetch_hdr_cnt,    ARG1(0, STR), NULL, SMP_T_SINT, SMP_USE_HRS, 3 },
	{ "res.hdr_val",   smp_fetch_hdr_val,    ARG2(1, STR, SINT), NULL, SMP_T_SINT, SMP_USE_HRS, 2 },
	{ "req.cook",      smp_fetch_cook,       ARG1(1, STR), NULL, SMP_T_STR, SMP_USE_HRQ },
	{ "cook",          smp_fetch_cook,       ARG1(1, STR), NULL, SMP_T_STR, SMP_USE_HRQ },
	{ "req.cook_cnt",  smp_fetch_cook_cnt,   ARG1(0, STR), NULL, SMP_T_SINT, SMP_USE_HRQ },
	{ "cook_cnt",      smp_fetch_cook_cnt,   ARG1(0, STR), NULL, SMP_T_SINT, SMP_USE_HRQ },
	{ "req.cook_val",  smp_fetch_cook_val,   ARG1(1, STR), NULL, SMP_T_SINT, SMP_USE_HRQ },
	{ "cook_val",      smp_fetch_cook_val,   ARG1(1, STR), NULL, SMP_T_SINT, SMP_USE_HRQ },
	{ "res.cook",      smp_fetch_cook,       ARG1(1, STR), NULL, SMP_T_STR, SMP_USE_HRS, 2 },
	{ "scook",         smp_fetch_cook,       ARG1(1, STR), NULL, SMP_T_STR, SMP_USE_HRS, 2 },
	{ "res.cook_cnt",  smp_fetch_cook_cnt,   ARG1(0, STR), NULL, SMP_T_SINT, SMP_USE_HRS, 2 },
	{ "scook_cnt",     smp_fetch_cook_cnt,   ARG1(0, STR), NULL, SMP_T_SINT, SMP_USE_HRS, 2 },
	{ "res.cook_val",  smp_fetch_cook_val,   ARG1(1, STR), NULL, SMP_T_SINT, SMP_USE_HRS, 2 },
	{ "scook_val",     smp_fetch_cook_val,   ARG1(1, STR), NULL, SMP_T_SINT, SMP_USE_HRS, 2 },
	{ "url_param",     smp_fetch_url_param,  ARG2(1, STR, STR), NULL, SMP_T_STR, SMP_USE_HRQ },
	{ "urlp",          smp_fetch_url_param,  ARG2(1, STR, STR), NULL, SMP_T_STR, SMP_USE_HRQ },
	{ NULL }
};

SMP_FETCH_REGISTER(http_fetches);

/* ACL keywords: a fetch plus its matching method (HAProxy's names). */
static const struct acl_kw http_acl_kws[] = {
	{ "method",   "method", PAT_MATCH_STR },
	{ "path",     "path", PAT_MATCH_STR },
	{ "path_beg", "path", PAT_MATCH_BEG },
	{ "path_end", "path", PAT_MATCH_END },
	{ "path_sub", "path", PAT_MATCH_SUB },
	{ "path_reg", "path", PAT_MATCH_REG },
	{ "path_dir", "path", PAT_MATCH_DIR },
	{ "path_dom", "path", PAT_MATCH_DOM },
	{ "path_len", "path", PAT_MATCH_LEN },
	{ "url",      "url", PAT_MATCH_STR },
	{ "url_beg",  "url", PAT_MATCH_BEG },
	{ "url_end",  "url", PAT_MATCH_END },
	{ "url_sub",  "url", PAT_MATCH_SUB },
	{ "url_reg",  "url", PAT_MATCH_REG },
	{ "url_dir",  "url", PAT_MATCH_DIR },
	{ "url_dom",  "url", PAT_MATCH_DOM },
	{ "url_len",  "url", PAT_MATCH_LEN },
	{ "base",     "base", PAT_MATCH_STR },
	{ "base_beg", "base", PAT_MATCH_BEG },
	{ "base_end", "base", PAT_MATCH_END },
	{ "base_sub", "base", PAT_MATCH_SUB },
	{ "base_reg", "base", PAT_MATCH_REG },
	{ "base_dir", "base", PAT_MATCH_DIR },
	{ "base_dom", "base", PAT_MATCH_DOM },
	{ "base_len", "base", PAT_MATCH_LEN },
	{ "hdr",      "req.hdr", PAT_MATCH_STR },
	{ "hdr_beg",  "req.hdr", PAT_MATCH_BEG },
	{ "hdr_end",  "req.hdr", PAT_MATCH_END },
	{ "hdr_sub",  "req.hdr", PAT_MATCH_SUB },
	{ "hdr_reg",  "req.hdr", PAT_MATCH_REG },
	{ "hdr_dir",  "req.hdr", PAT_MATCH_DIR },
	{ "hdr_dom",  "req.hdr", PAT_MATCH_DOM },
	{ "hdr_len",  "req.hdr", PAT_MATCH_LEN },
	{ "hdr_ip",   "req.hdr", PAT_MATCH_IP },
	{ "req.hdr",  "req.hdr", PAT_MATCH_STR },
	{ "shdr",     "res.hdr", PAT_MATCH_STR },
	{ "shdr_beg", "res.hdr", PAT_MATCH_BEG },
	{ "shdr_end", "res.hdr", PAT_MATCH_END },
	{ "shdr_sub", "res.hdr", PAT_MATCH_SUB },
	{ "shdr_reg", "res.hdr", PAT_MATCH_REG },
	{ "res.hdr",  "res.hdr", PAT_MATCH_STR },
	{ "cook",     "req.cook", PAT_MATCH_STR },
	{ "cook_beg", "req.cook", PAT_MATCH_BEG },
	{ "cook_end", "req.cook", PAT_MATCH_END },
	{ "cook_sub", "req.cook", PAT_MATCH_SUB },
	{ "cook_reg", "req.cook", PAT_MATCH_REG },
	{ "cook_dir", "req.cook", PAT_MATCH_DIR },
	{ "cook_dom", "req.cook", PAT_MATCH_DOM },
	{ "cook_len", "req.cook", PAT_MATCH_LEN },
	{ "req.cook", "req.cook", PAT_MATCH_STR },
	{ "scook",    "res.cook", PAT_MATCH_STR },
	{ "res.cook", "res.cook", PAT_MATCH_STR },
	{ "urlp",     "url_param", PAT_MATCH_STR },
	{ "urlp_beg", "url_param", PAT_MATCH_BEG },
	{ "urlp_end", "url_param", PAT_MATCH_END },
	{ "urlp_sub", "url_param", PAT_MATCH_SUB },
	{ "urlp_reg", "url_param", PAT_MATCH_REG },
	{ "urlp_dir", "url_param", PAT_MATCH_DIR },
	{ "urlp_dom", "url_param", PAT_MATCH_DOM },
	{ "urlp_len", "url_param", PAT_MATCH_LEN },
	{ "url_param", "url_param", PAT_MATCH_STR },
	{ "query",    "query", PAT_MATCH_STR },
	{ NULL }
};

ACL_KW_REGISTER(http_acl_kws);
