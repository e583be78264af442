/* The stats page over HTTP ("stats enable" / "stats uri"): recognising
 * the request, Basic authentication ("stats auth", "stats realm"), the
 * options HAProxy reads after the URI (";csv", ";json", ";norefresh",
 * ";up", ";no-maint", ";st=..."), the admin form ("stats admin"), then
 * the page itself in HTML, CSV or JSON, produced piece by piece through
 * the HTTP service framework (http_svc.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include <proxyd/global.h>
#include <proxyd/http.h>
#include <proxyd/http_ana.h>
#include <proxyd/http_svc.h>
#include <proxyd/proxy.h>
#include <proxyd/rules.h>
#include <proxyd/sample.h>
#include <proxyd/server.h>
#include <proxyd/srv_admin.h>
#include <proxyd/stats_page.h>
#include <proxyd/stream.h>
#include <proxyd/thread.h>

_Static_assert(sizeof(struct stats_page) <= HTTP_SVC_CTX_SIZE, "stats page state too large for the transaction");

#define DEFAULT_REALM "HAProxy Statistics"

static const struct http_svc stats_svc;

int stats_http_intercept(struct stream *s, struct proxy *px)
{
	const struct stats_conf *sc = px->c.stats;
	struct http_txn *txn = s->txn;
	struct http_msg *m = &txn->req;

	if (!sc->enabled)
		return 0;
	if (txn->meth != HTTP_METH_GET && txn->meth != HTTP_METH_HEAD && txn->meth != HTTP_METH_POST)
		return 0;
	/* a prefix match, as HAProxy: "/stats;csv" is the page of "/stats" */
	if (m->sl_len[1] < sc->uri_len || memcmp(http_sl(m, 1), sc->uri, sc->uri_len) != 0)
		return 0;
	http_svc_begin(s, &stats_svc);
	s->log_flags |= SLOG_STATS;   /* "<STATS>" as the server in the log */
	struct stats_page *pg = http_svc_ctx(s);
	pg->sc = sc;
	pg->px = px;
	return 1;
}

/*------------------------------------------------------------------------
 * Authentication
 */
static int credentials_ok(const struct stats_conf *sc, struct stream *s)
{
	struct http_msg *m = &s->txn->req;
	char decoded[512];

	if (!sc->nb_users)
		return 1;
	int i = http_find_hdr(m, "authorization", 13, -1);
	if (i < 0)
		return 0;
	const char *v = http_hdr_value(m, &m->hdrs[i]);
	size_t vl = m->hdrs[i].vlen;
	if (vl < 6 || strncasecmp(v, "Basic ", 6) != 0)
		return 0;
	v += 6;
	vl -= 6;
	while (vl && *v == ' ')
		v++, vl--;
	long n = base64_decode(v, vl, decoded, sizeof(decoded));
	if (n <= 0)
		return 0;
	char *colon = memchr(decoded, ':', (size_t)n);
	if (!colon)
		return 0;
	size_t ulen = (size_t)(colon - decoded), plen = (size_t)n - ulen - 1;
	int ok = 0;
	/* every user is compared, in constant time, so that the answer's
	 * delay says nothing about which part was wrong */
	for (int u = 0; u < sc->nb_users; u++) {
		const struct stats_user *su = &sc->users[u];
		int match = su->ulen == ulen && su->plen == plen && CRYPTO_memcmp(su->user, decoded, ulen) == 0 &&
		            CRYPTO_memcmp(su->pass, colon + 1, plen) == 0;
		ok |= match;
	}
	OPENSSL_cleanse(decoded, sizeof(decoded));
	return ok;
}

static void reply_401(struct stream *s, const struct stats_conf *sc)
{
	struct http_reply r = *http_err_default(HTTP_ERR_401);
	char hdrs[512];

	snprintf(hdrs, sizeof(hdrs), "cache-control: no-cache\r\nwww-authenticate: Basic realm=\"%s\"\r\n",
	         sc->realm ? sc->realm : DEFAULT_REALM);
	r.hdrs = hdrs;
	http_reply_send(s, &r, 0);
}

/*------------------------------------------------------------------------
 * Options after the URI
 */
static void parse_options(struct stats_page *pg, const char *uri, size_t len, unsigned *flags)
{
	const char *p = uri + pg->sc->uri_len, *end = uri + len;

	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		if (!semi)
			break;
		p = semi + 1;
		size_t l = (size_t)(end - p);
#define OPT(s) (l >= sizeof(s) - 1 && !memcmp(p, s, sizeof(s) - 1))
		if (OPT("csv"))
			pg->fmt = STATS_FMT_CSV;
		else if (OPT("json-schema"))
			;   /* not provided: the JSON itself follows HAProxy's shape */
		else if (OPT("json"))
			pg->fmt = STATS_FMT_JSON;
		else if (OPT("norefresh"))
			*flags |= STATS_F_NOREFRESH;
		else if (OPT("no-maint"))
			*flags |= STATS_F_NO_MAINT;
		else if (OPT("up"))
			*flags |= STATS_F_UP;
		else if (OPT("st=")) {
			size_t n = 0;
			p += 3;
			while (p + n < end && n < sizeof(pg->st) - 1 && p[n] != ';' && p[n] != '&')
				n++;
			memcpy(pg->st, p, n);
			pg->st[n] = 0;
		}
#undef OPT
	}
}

/*------------------------------------------------------------------------
 * The admin form: s=<server>&...&action=<ready|drain|maint|shutdown|weight>&w=<n>&b=<backend>
 */
static int url_decode(const char *in, size_t len, char *out, size_t olen)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (c == '+')
			c = ' ';
		else if (c == '%' && i + 2 < len) {
			char hex[3] = { in[i + 1], in[i + 2], 0 };
			char *e;
			long v = strtol(hex, &e, 16);
			if (*e)
				return -1;
			c = (char)v;
			i += 2;
		}
		if (n + 1 >= olen)
			return -1;
		out[n++] = c;
	}
	out[n] = 0;
	return 0;
}

/* Calls <fn> for each "name=value" pair of <body>. */
static int form_each(const char *body, size_t len, int (*fn)(void *, const char *, const char *), void *arg)
{
	const char *p = body, *end = body + len;

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *e = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(e - p));
		char name[64], val[256];
		if (eq && url_decode(p, (size_t)(eq - p), name, sizeof(name)) == 0 &&
		    url_decode(eq + 1, (size_t)(e - eq - 1), val, sizeof(val)) == 0) {
			int r = fn(arg, name, val);
			if (r)
				return r;
		} else if (e > p) {
			return -1;
		}
		p = e + 1;
	}
	return 0;
}

struct form {
	char action[16];
	char backend[128];
	char weight[16];
	struct proxy *be;
	int done, failed, seen;
};

static int form_params(void *arg, const char *name, const char *val)
{
	struct form *f = arg;

	if (!strcmp(name, "action"))
		snprintf(f->action, sizeof(f->action), "%s", val);
	else if (!strcmp(name, "b"))
		snprintf(f->backend, sizeof(f->backend), "%s", val);
	else if (!strcmp(name, "w"))
		snprintf(f->weight, sizeof(f->weight), "%s", val);
	return 0;
}

static struct proxy *find_backend(const char *name)
{
	if (name[0] == '#') {
		struct proxy *px;
		int id = atoi(name + 1);
		list_for_each(px, &proxies, list)
			if (px->uuid == id && (px->cap & PR_CAP_BE))
				return px;
		return NULL;
	}
	return proxy_find(name, PR_CAP_BE);
}

static int form_servers(void *arg, const char *name, const char *val)
{
	struct form *f = arg;

	if (strcmp(name, "s") != 0)
		return 0;
	f->seen++;
	struct server *srv = proxy_find_server(f->be, val);
	if (!srv) {
		f->failed++;
		return 0;
	}
	int changed = 0;
	unsigned before = srv->admin;
	if (!strcmp(f->action, "ready")) {
		srv_adm_set_state(srv, SRV_ADM_READY);
		changed = srv->admin != before;
	} else if (!strcmp(f->action, "drain")) {
		srv_adm_set_state(srv, SRV_ADM_DRAIN);
		changed = srv->admin != before;
	} else if (!strcmp(f->action, "maint")) {
		srv_adm_set_state(srv, SRV_ADM_MAINT);
		changed = srv->admin != before;
	} else if (!strcmp(f->action, "shutdown")) {
		changed = srv_adm_shutdown_sessions(srv) > 0;
	} else if (!strcmp(f->action, "weight")) {
		char err[256];
		if (srv_adm_set_weight(srv, f->weight, err, sizeof(err)) < 0) {
			f->failed++;
			return 0;
		}
		changed = 1;
	} else {
		f->failed++;
		return 0;
	}
	f->done += changed;
	return 0;
}

/* Runs the posted action; returns the ";st=" code of the outcome. */
static const char *admin_post(struct stream *s, const struct stats_page *pg, unsigned flags)
{
	struct http_msg *m = &s->txn->req;
	struct form f = { 0 };

	if (!(flags & STATS_F_ADMIN))
		return "DENY";
	if (m->flags & HMF_CHUNKED)
		return "ERRP";   /* forms come with a Content-Length */
	const char *body = m->area + m->sol + m->head_len;
	size_t len = m->next - m->sol - m->head_len;
	if (form_each(body, len, form_params, &f) < 0 || !f.action[0] || !f.backend[0])
		return "ERRP";
	f.be = find_backend(f.backend);
	if (!f.be || !stats_in_scope(pg->sc, f.be))
		return "ERRP";
	if (form_each(body, len, form_servers, &f) < 0)
		return "ERRP";
	if (!f.seen)
		return "NONE";
	if (f.failed)
		return f.done ? "PART" : "ERRP";
	return f.done ? "DONE" : "NONE";
}

/*------------------------------------------------------------------------
 * The service
 */
static int stats_start(struct stream *s, struct svc_head *h)
{
	struct stats_page *pg = http_svc_ctx(s);
	const struct stats_conf *sc = pg->sc;
	struct http_msg *m = &s->txn->req;
	unsigned flags = 0;

	if (!credentials_ok(sc, s)) {
		reply_401(s, sc);
		return -1;
	}
	if (sc->show_legends)
		flags |= STATS_F_LEGENDS;
	if (sc->admin && cond_exec(sc->admin, (struct proxy *)pg->px, s))
		flags |= STATS_F_ADMIN;
	parse_options(pg, http_sl(m, 1), m->sl_len[1], &flags);

	if (s->txn->meth == HTTP_METH_POST) {
		/* the action, then back to the page with its outcome (303), as
		 * HAProxy: a reload of the page does not post again */
		const char *st = admin_post(s, pg, flags);
		struct http_reply r = { .status = 303 };
		char hdrs[1024];
		snprintf(hdrs, sizeof(hdrs), "cache-control: no-cache\r\nlocation: %.*s;st=%s\r\n",
		         (int)sc->uri_len, sc->uri, st);
		r.hdrs = hdrs;
		http_reply_send(s, &r, 0);
		return -1;
	}

	stats_cursor_init(&pg->cur, flags, sc->nb_scopes ? sc : NULL);
	h->ctype = pg->fmt == STATS_FMT_CSV ? "text/plain" : pg->fmt == STATS_FMT_JSON ? "application/json" :
	           "text/html";
	if (sc->refresh && !(flags & STATS_F_NOREFRESH))
		snprintf(h->hdrs, sizeof(h->hdrs), "refresh: %d\r\n", sc->refresh);
	return 0;
}

/* The writer of the dumps: into the response window, whole or not at all. */
static int out_write(void *arg, const char *data, size_t len)
{
	struct svc_out *o = arg;

	if (len > svc_room(o))
		return -1;
	memcpy(o->p + o->len, data, len);
	o->len += len;
	return 0;
}

static int stats_io(struct stream *s, struct svc_out *o)
{
	struct stats_page *pg = http_svc_ctx(s);

	switch (pg->fmt) {
	case STATS_FMT_CSV:
		return stats_csv_dump(&pg->cur, out_write, o);
	case STATS_FMT_JSON:
		return stats_json_dump(&pg->cur, out_write, o);
	default:
		return stats_html_dump(pg, out_write, o);
	}
}

static const struct http_svc stats_svc = {
	.name = "stats",
	.start = stats_start,
	.io = stats_io,
	.min_room = 1024,
};
