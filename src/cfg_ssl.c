/* TLS configuration keywords: bind options, server options, crt-list
 * options and the global ssl-* / tune.ssl.* keywords; and the post-parse
 * step that builds every context once the whole configuration is read
 * (a frontend's mode, needed for ALPN, may come after its bind lines). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <proxyd/cfg.h>
#include <proxyd/cfg_bind.h>
#include <proxyd/cfg_server.h>
#include <proxyd/diag.h>
#include <proxyd/listener.h>
#include <proxyd/proxy.h>
#include <proxyd/sample.h>
#include <proxyd/server.h>
#include <proxyd/ssl_cfg.h>
#include <proxyd/ssl_crt.h>
#include <proxyd/ssl_sock.h>

const char *ssl_path(const char *base, const char *path)
{
	if (!base || path[0] == '/')
		return cfg_strdup(path);
	size_t n = strlen(base) + strlen(path) + 2;
	char *p = cfg_alloc(n);
	snprintf(p, n, "%s/%s", base, path);
	return p;
}

/* A file named by an option must be readable now: the error then points
 * at the line that names it. */
static int readable(struct cfg_ctx *ctx, const char *what, const char *kw, const char *path)
{
	if (access(path, R_OK) == 0)
		return 0;
	cfg_alert(ctx, "%s : '%s' : cannot read '%s': %s", what, kw, path, strerror(errno));
	return -1;
}

/*------------------------------------------------------------------------
 * Options shared by bind, crt-list, server and ssl-default-*-options
 */
typedef int (*ssl_opt_fn)(struct cfg_ctx *ctx, const char *what, struct ssl_opts *o, char **args, unsigned where);

struct ssl_opt_kw {
	const char *name;
	int nargs;
	ssl_opt_fn parse;
	unsigned where;
};

static const char *const version_names[TLS_NB_VERS] = { "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3" };

static int version_idx(const char *s)
{
	for (int i = 0; i < TLS_NB_VERS; i++)
		if (strcmp(s, version_names[i]) == 0)
			return i;
	return -1;
}

static int opt_str(struct cfg_ctx *ctx, const char *what, struct ssl_opts *o, char **args, unsigned where)
{
	const char *kw = args[0];
	char *v = cfg_strdup(args[1]);

	if (strcmp(kw, "ciphers") == 0 || strcmp(kw, "ssl-default-bind-ciphers") == 0 ||
	    strcmp(kw, "ssl-default-server-ciphers") == 0) {
		o->ciphers = v;
		o->set |= SSLO_CIPHERS;
	} else if (strcmp(kw, "ciphersuites") == 0 || strstr(kw, "-ciphersuites")) {
		o->ciphersuites = v;
		o->set |= SSLO_SUITES;
	} else if (strcmp(kw, "curves") == 0 || strstr(kw, "-curves")) {
		o->curves = v;
		o->set |= SSLO_CURVES;
	} else if (strcmp(kw, "ecdhe") == 0) {
		o->ecdhe = v;
		o->set |= SSLO_ECDHE;
	}
	return 0;
}

static int opt_file(struct cfg_ctx *ctx, const char *what, struct ssl_opts *o, char **args, unsigned where)
{
	const char *path = ssl_path(ssl_global.ca_base, args[1]);

	if (readable(ctx, what, args[0], path) < 0)
		return -1;
	if (strcmp(args[0], "ca-file") == 0) {
		o->ca_file = (char *)path;
		o->set |= SSLO_CA;
	} else {
		o->crl_file = (char *)path;
		o->set |= SSLO_CRL;
	}
	return 0;
}

/* "h2,http/1.1" -> "\x02h2\x08http/1.1" */
static int opt_alpn(struct cfg_ctx *ctx, const char *what, struct ssl_opts *o, char **args, unsigned where)
{
	const char *s = args[1];
	size_t len = strlen(s);
	unsigned char *w = cfg_alloc(len + 1);
	size_t n = 0;

	for (const char *p = s; *p;) {
		size_t l = strcspn(p, ",");
		if (l == 0 || l > 255) {
			cfg_alert(ctx, "%s : 'alpn' : invalid protocol list '%s' (comma-separated names of 1 to 255 "
			          "characters, e.g. 'h2,http/1.1')", what, s);
			return -1;
		}
		w[n++] = (unsigned char)l;
		memcpy(w + n, p, l);
		n += l;
		p += l;
		if (*p == ',')
			p++;
	}
	o->alpn = w;
	o->alpn_len = (int)n;
	o->set |= SSLO_ALPN;
	return 0;
}

static int opt_minmax(struct cfg_ctx *ctx, const char *what, struct ssl_opts *o, char **args, unsigned where)
{
	int v = version_idx(args[1]);

	if (v < 0) {
		cfg_alert(ctx, "%s : '%s' : unknown version '%s' (expected SSLv3, TLSv1.0, TLSv1.1, TLSv1.2 or TLSv1.3)",
		          what, args[0], args[1]);
		return -1;
	}
	if (strcmp(args[0], "ssl-min-ver") == 0) {
		o->min_ver = v + 1;
		o->set |= SSLO_MIN_VER;
	} else {
		o->max_ver = v + 1;
		o->set |= SSLO_MAX_VER;
	}
	return 0;
}

/* no-sslv3, no-tlsv10 ... no-tlsv13; force-sslv3 ... force-tlsv13 */
static int opt_version(struct cfg_ctx *ctx, const char *what, struct ssl_opts *o, char **args, unsigned where)
{
	static const char *const suffix[TLS_NB_VERS] = { "sslv3", "tlsv10", "tlsv11", "tlsv12", "tlsv13" };
	const char *kw = args[0];
	int force = strncmp(kw, "force-", 6) == 0;
	const char *v = kw + (force ? 6 : 3);

	for (int i = 0; i < TLS_NB_VERS; i++) {
		if (strcmp(v, suffix[i]) != 0)
			continue;
		if (force) {
			o->min_ver = o->max_ver = i + 1;
			o->set |= SSLO_MIN_VER | SSLO_MAX_VER;
		} else {
			o->no_vers |= 1u << i;
			o->set |= SSLO_NO_VERS;
		}
		return 0;
	}
	return -1;
}

static int opt_verify(struct cfg_ctx *ctx, const char *what, struct ssl_opts *o, char **args, unsigned where)
{
	const char *v = args[1];

	if (strcmp(v, "none") == 0)
		o->verify = SSLV_NONE;
	else if (strcmp(v, "required") == 0)
		o->verify = SSLV_REQUIRED;
	else if (strcmp(v, "optional") == 0 && !(where & SSLKW_SRV))
		o->verify = SSLV_OPTIONAL;
	else {
		cfg_alert(ctx, "%s : 'verify' : unknown value '%s' (expected %s)", what, v,
		          (where & SSLKW_SRV) ? "none or required" : "none, optional or required");
		return -1;
	}
	o->set |= SSLO_VERIFY;
	return 0;
}

static int opt_flag(struct cfg_ctx *ctx, const char *what, struct ssl_opts *o, char **args, unsigned where)
{
	const char *kw = args[0];

	if (strcmp(kw, "no-tls-tickets") == 0) {
		o->no_tickets = 1;
		o->set |= SSLO_NO_TICKET;
	} else if (strcmp(kw, "prefer-client-ciphers") == 0) {
		o->prefer_client_ciphers = 1;
		o->set |= SSLO_PREFER_CLI;
	} else if (strcmp(kw, "strict-sni") == 0) {
		o->strict_sni = 1;
		o->set |= SSLO_STRICT_SNI;
	} else if (strcmp(kw, "no-ca-names") == 0) {
		o->no_ca_names = 1;
		o->set |= SSLO_NO_CA_NAMES;
	}
	return 0;
}

#define B   SSLKW_BIND
#define L   SSLKW_CRTLIST
#define S   SSLKW_SRV
#define DB  SSLKW_DEFBIND
#define DS  SSLKW_DEFSRV

static const struct ssl_opt_kw ssl_opt_kws[] = {
	{ "alpn",           1, opt_alpn,    B | L | S },
	{ "ca-file",        1, opt_file,    B | L | S },
	{ "crl-file",       1, opt_file,    B | L | S },
	{ "ciphers",        1, opt_str,     B | L | S },
	{ "ciphersuites",   1, opt_str,     B | L | S },
	{ "curves",         1, opt_str,     B | L },
	{ "ecdhe",          1, opt_str,     B | L },
	{ "verify",         1, opt_verify,  B | L | S },
	{ "ssl-min-ver",    1, opt_minmax,  B | L | S | DB | DS },
	{ "ssl-max-ver",    1, opt_minmax,  B | L | S | DB | DS },
	{ "no-sslv3",       0, opt_version, B | S | DB | DS },
	{ "no-tlsv10",      0, opt_version, B | S | DB | DS },
	{ "no-tlsv11",      0, opt_version, B | S | DB | DS },
	{ "no-tlsv12",      0, opt_version, B | S | DB | DS },
	{ "no-tlsv13",      0, opt_version, B | S | DB | DS },
	{ "force-sslv3",    0, opt_version, B | S | DB | DS },
	{ "force-tlsv10",   0, opt_version, B | S | DB | DS },
	{ "force-tlsv11",   0, opt_version, B | S | DB | DS },
	{ "force-tlsv12",   0, opt_version, B | S | DB | DS },
	{ "force-tlsv13",   0, opt_version, B | S | DB | DS },
	{ "no-tls-tickets", 0, opt_flag,    B | S | DB | DS },
	{ "prefer-client-ciphers", 0, opt_flag, B | DB },
	{ "strict-sni",     0, opt_flag,    B },
	{ "no-ca-names",    0, opt_flag,    B | L },
	{ NULL }
};

static const struct ssl_opt_kw *ssl_opt_find(const char *name)
{
	for (const struct ssl_opt_kw *k = ssl_opt_kws; k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

int ssl_opt_parse(struct cfg_ctx *ctx, unsigned where, const char *what, struct ssl_opts *o, char **args,
                  int nargs)
{
	const struct ssl_opt_kw *k = ssl_opt_find(args[0]);

	if (!k || !(k->where & where)) {
		const char *place = where & SSLKW_CRTLIST ? "in a crt-list" :
		                    where & (SSLKW_DEFBIND | SSLKW_DEFSRV) ? "here" : "on this line";
		cfg_alert(ctx, "%s : '%s' is %s", what, args[0],
		          k ? (where & SSLKW_CRTLIST ? "not allowed in a crt-list (put it on the bind line)" :
		               "not allowed here") :
		              "not a known TLS option");
		(void)place;
		return -1;
	}
	if (nargs < 1 + k->nargs) {
		cfg_alert(ctx, "%s : '%s' expects %d argument%s", what, k->name, k->nargs, k->nargs > 1 ? "s" : "");
		return -1;
	}
	return k->parse(ctx, what, o, args, where) < 0 ? -1 : 1 + k->nargs;
}

/*------------------------------------------------------------------------
 * Bind options
 */
struct bind_ssl *bind_ssl_get(struct bind_conf *bc)
{
	if (!bc->ssl) {
		bc->ssl = cfg_alloc(sizeof(*bc->ssl));
		bc->ssl->bc = bc;
		list_init(&bc->ssl->insts);
	}
	return bc->ssl;
}

static const char *bind_what(struct bind_conf *bc)
{
	size_t n = strlen(bc->arg) + 8;
	char *w = cfg_alloc(n);
	snprintf(w, n, "'bind %s'", bc->arg);
	return w;
}

static int bind_ssl_opt(struct cfg_ctx *ctx, struct bind_conf *bc, char **args)
{
	const struct ssl_opt_kw *k = ssl_opt_find(args[0]);
	int n = k ? 1 + k->nargs : 1;
	return ssl_opt_parse(ctx, SSLKW_BIND, bind_what(bc), &bind_ssl_get(bc)->opts, args, n) < 0 ? -1 : 0;
}

static int bind_parse_ssl(struct cfg_ctx *ctx, struct bind_conf *bc, char **args)
{
	bind_ssl_get(bc)->enabled = 1;
	return 0;
}

static int bind_parse_crt(struct cfg_ctx *ctx, struct bind_conf *bc, char **args)
{
	return ssl_bind_add_crt(ctx, bind_ssl_get(bc), ssl_path(ssl_global.crt_base, args[1]));
}

static int bind_parse_crt_list(struct cfg_ctx *ctx, struct bind_conf *bc, char **args)
{
	return ssl_crtlist_load(ctx, bind_ssl_get(bc), ssl_path(ssl_global.crt_base, args[1]));
}

static const struct bind_kw ssl_bind_kws[] = {
	{ "ssl",            0, bind_parse_ssl },
	{ "crt",            1, bind_parse_crt },
	{ "crt-list",       1, bind_parse_crt_list },
	{ "alpn",           1, bind_ssl_opt },
	{ "ca-file",        1, bind_ssl_opt },
	{ "crl-file",       1, bind_ssl_opt },
	{ "ciphers",        1, bind_ssl_opt },
	{ "ciphersuites",   1, bind_ssl_opt },
	{ "curves",         1, bind_ssl_opt },
	{ "ecdhe",          1, bind_ssl_opt },
	{ "verify",         1, bind_ssl_opt },
	{ "ssl-min-ver",    1, bind_ssl_opt },
	{ "ssl-max-ver",    1, bind_ssl_opt },
	{ "no-sslv3",       0, bind_ssl_opt },
	{ "no-tlsv10",      0, bind_ssl_opt },
	{ "no-tlsv11",      0, bind_ssl_opt },
	{ "no-tlsv12",      0, bind_ssl_opt },
	{ "no-tlsv13",      0, bind_ssl_opt },
	{ "force-sslv3",    0, bind_ssl_opt },
	{ "force-tlsv10",   0, bind_ssl_opt },
	{ "force-tlsv11",   0, bind_ssl_opt },
	{ "force-tlsv12",   0, bind_ssl_opt },
	{ "force-tlsv13",   0, bind_ssl_opt },
	{ "no-tls-tickets", 0, bind_ssl_opt },
	{ "prefer-client-ciphers", 0, bind_ssl_opt },
	{ "strict-sni",     0, bind_ssl_opt },
	{ "no-ca-names",    0, bind_ssl_opt },
	{ NULL }
};

BIND_KW_REGISTER(ssl_bind_kws);

/*------------------------------------------------------------------------
 * Server options
 */

/* The server's own copy of its TLS settings (the default-server's are
 * shared until a server line changes one). */
static struct srv_ssl_conf *srv_ssl_own(struct cfg_ctx *ctx, struct srv_conf *sc)
{
	if (!sc->ssl || sc->ssl->owner != sc) {
		struct srv_ssl_conf *n = cfg_alloc(sizeof(*n));
		if (sc->ssl) {
			*n = *sc->ssl;
		} else {
			n->use_ssl = -1;
			n->check_ssl = -1;
		}
		n->owner = sc;
		n->file = ctx->file;
		n->line = ctx->line;
		sc->ssl = n;
	}
	return sc->ssl;
}

static const char *srv_what(struct cfg_ctx *ctx, struct server *srv)
{
	if (!srv)
		return "'default-server'";
	size_t n = strlen(srv->be->id) + strlen(srv->id) + 16;
	char *w = cfg_alloc(n);
	snprintf(w, n, "'server %s/%s'", srv->be->id, srv->id);
	return w;
}

static int srv_ssl_opt(struct cfg_ctx *ctx, struct srv_conf *sc, struct server *srv, char **args)
{
	const struct ssl_opt_kw *k = ssl_opt_find(args[0]);
	int n = k ? 1 + k->nargs : 1;
	return ssl_opt_parse(ctx, SSLKW_SRV, srv_what(ctx, srv), &srv_ssl_own(ctx, sc)->opts, args, n) < 0 ? -1 : 0;
}

static int srv_parse_ssl(struct cfg_ctx *ctx, struct srv_conf *sc, struct server *srv, char **args)
{
	srv_ssl_own(ctx, sc)->use_ssl = strcmp(args[0], "ssl") == 0;
	return 0;
}

static int srv_parse_check_ssl(struct cfg_ctx *ctx, struct srv_conf *sc, struct server *srv, char **args)
{
	srv_ssl_own(ctx, sc)->check_ssl = strcmp(args[0], "check-ssl") == 0;
	return 0;
}

static int srv_parse_no_reuse(struct cfg_ctx *ctx, struct srv_conf *sc, struct server *srv, char **args)
{
	srv_ssl_own(ctx, sc)->no_reuse = 1;
	return 0;
}

static int srv_parse_sni(struct cfg_ctx *ctx, struct srv_conf *sc, struct server *srv, char **args)
{
	char err[512];
	struct sample_expr *e = sample_parse_word(args[1], err, sizeof(err));

	if (!e) {
		cfg_alert(ctx, "%s : 'sni' : %s (a sample expression is expected, e.g. 'str(www.example.com)' or "
		          "'req.hdr(host)')", srv_what(ctx, srv), err);
		return -1;
	}
	if (e->fetch->use & ~SMP_VAL_REQ) {
		cfg_alert(ctx, "%s : 'sni' : '%s' is not available when connecting to the server (only "
		          "request and connection data are)", srv_what(ctx, srv), args[1]);
		return -1;
	}
	struct srv_ssl_conf *c = srv_ssl_own(ctx, sc);
	c->sni = e;
	c->sni_text = cfg_strdup(args[1]);
	return 0;
}

static int srv_parse_str(struct cfg_ctx *ctx, struct srv_conf *sc, struct server *srv, char **args)
{
	struct srv_ssl_conf *c = srv_ssl_own(ctx, sc);

	if (strcmp(args[0], "verifyhost") == 0) {
		c->verifyhost = cfg_strdup(args[1]);
	} else if (strcmp(args[0], "check-sni") == 0) {
		c->check_sni = cfg_strdup(args[1]);
	} else {
		const char *path = ssl_path(ssl_global.crt_base, args[1]);
		if (readable(ctx, srv_what(ctx, srv), "crt", path) < 0)
			return -1;
		c->crt = path;
	}
	return 0;
}

static const struct srv_kw ssl_srv_kws[] = {
	{ "ssl",            0, srv_parse_ssl,       SRV_KW_DEFAULT_OK },
	{ "no-ssl",         0, srv_parse_ssl,       SRV_KW_DEFAULT_OK },
	{ "check-ssl",      0, srv_parse_check_ssl, SRV_KW_DEFAULT_OK },
	{ "no-check-ssl",   0, srv_parse_check_ssl, SRV_KW_DEFAULT_OK },
	{ "no-ssl-reuse",   0, srv_parse_no_reuse,  SRV_KW_DEFAULT_OK },
	{ "sni",            1, srv_parse_sni,       SRV_KW_DEFAULT_OK },
	{ "verifyhost",     1, srv_parse_str,       SRV_KW_DEFAULT_OK },
	{ "check-sni",      1, srv_parse_str,       SRV_KW_DEFAULT_OK },
	{ "crt",            1, srv_parse_str,       SRV_KW_DEFAULT_OK },
	{ "alpn",           1, srv_ssl_opt,         SRV_KW_DEFAULT_OK },
	{ "ca-file",        1, srv_ssl_opt,         SRV_KW_DEFAULT_OK },
	{ "crl-file",       1, srv_ssl_opt,         SRV_KW_DEFAULT_OK },
	{ "ciphers",        1, srv_ssl_opt,         SRV_KW_DEFAULT_OK },
	{ "ciphersuites",   1, srv_ssl_opt,         SRV_KW_DEFAULT_OK },
	{ "verify",         1, srv_ssl_opt,         SRV_KW_DEFAULT_OK },
	{ "ssl-min-ver",    1, srv_ssl_opt,         SRV_KW_DEFAULT_OK },
	{ "ssl-max-ver",    1, srv_ssl_opt,         SRV_KW_DEFAULT_OK },
	{ "no-sslv3",       0, srv_ssl_opt,         SRV_KW_DEFAULT_OK },
	{ "no-tlsv10",      0, srv_ssl_opt,         SRV_KW_DEFAULT_OK },
	{ "no-tlsv11",      0, srv_ssl_opt,         SRV_KW_DEFAULT_OK },
	{ "no-tlsv12",      0, srv_ssl_opt,         SRV_KW_DEFAULT_OK },
	{ "no-tlsv13",      0, srv_ssl_opt,         SRV_KW_DEFAULT_OK },
	{ "force-sslv3",    0, srv_ssl_opt,         SRV_KW_DEFAULT_OK },
	{ "force-tlsv10",   0, srv_ssl_opt,         SRV_KW_DEFAULT_OK },
	{ "force-tlsv11",   0, srv_ssl_opt,         SRV_KW_DEFAULT_OK },
	{ "force-tlsv12",   0, srv_ssl_opt,         SRV_KW_DEFAULT_OK },
	{ "force-tlsv13",   0, srv_ssl_opt,         SRV_KW_DEFAULT_OK },
	{ "no-tls-tickets", 0, srv_ssl_opt,         SRV_KW_DEFAULT_OK },
	{ NULL }
};

SRV_KW_REGISTER(ssl_srv_kws);

/*------------------------------------------------------------------------
 * Global section
 */
static int parse_default_options(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	int bind = strcmp(ctx->kw, "ssl-default-bind-options") == 0;
	struct ssl_opts *o = bind ? &ssl_global.bind_def : &ssl_global.srv_def;

	for (int i = 0; i < nargs;) {
		int used = ssl_opt_parse(ctx, bind ? SSLKW_DEFBIND : SSLKW_DEFSRV, ctx->kw, o, args + i, nargs - i);
		if (used < 0)
			return -1;
		i += used;
	}
	return 0;
}

static int parse_default_str(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	int bind = strncmp(ctx->kw, "ssl-default-bind-", 17) == 0;
	char *a[2] = { (char *)ctx->kw, args[0] };

	return opt_str(ctx, ctx->kw, bind ? &ssl_global.bind_def : &ssl_global.srv_def, a, 0);
}

static int parse_server_verify(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	if (strcmp(args[0], "none") == 0)
		ssl_global.server_verify = SSLV_NONE;
	else if (strcmp(args[0], "required") == 0)
		ssl_global.server_verify = SSLV_REQUIRED;
	else {
		cfg_alert(ctx, "'ssl-server-verify' : unknown value '%s' (expected none or required)", args[0]);
		return -1;
	}
	return 0;
}

static int parse_tune_ssl(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	if (strcmp(ctx->kw, "tune.ssl.cachesize") == 0)
		return cfg_int_arg(ctx, args[0], 0, 10000000, &ssl_global.cachesize);
	/* tune.ssl.lifetime: a time, in seconds by default */
	int ms;
	if (cfg_time_arg(ctx, args[0], 1000, &ms) < 0)
		return -1;
	ssl_global.lifetime = ms / 1000 ? ms / 1000 : 1;
	return 0;
}

static int parse_dh_param(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	int bits;

	if (cfg_int_arg(ctx, args[0], 1024, 16384, &bits) < 0)
		return -1;
	if (bits < 2048) {
		cfg_warn(ctx, "'tune.ssl.default-dh-param %d' : proxyd uses 2048 bits at least (the RFC 7919 "
		         "ffdhe groups of 2048, 3072 or 4096 bits)", bits);
		ctx->err |= ERR_WARN;
	}
	ssl_global.dh_bits = bits;
	return 0;
}

static int parse_base(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	const char **dst = strcmp(ctx->kw, "ca-base") == 0 ? &ssl_global.ca_base : &ssl_global.crt_base;

	if (*dst) {
		cfg_alert(ctx, "'%s' already specified (once only, as HAProxy)", ctx->kw);
		return -1;
	}
	*dst = cfg_strdup(args[0]);
	return 0;
}

static const struct cfg_kw ssl_global_kws[] = {
	{ "ssl-default-bind-options", CFG_SEC_GLOBAL, 1, -1, parse_default_options, SLOT_NONE, TGT_GLOBAL, 0, 0, 0,
	  0, "<option>..." },
	{ "ssl-default-server-options", CFG_SEC_GLOBAL, 1, -1, parse_default_options, SLOT_NONE, TGT_GLOBAL, 0, 0,
	  0, 0, "<option>..." },
	{ "ssl-default-bind-ciphers", CFG_SEC_GLOBAL, 1, 1, parse_default_str, SLOT_NONE, TGT_GLOBAL, 0, 0, 0, 0,
	  "<ciphers>" },
	{ "ssl-default-bind-ciphersuites", CFG_SEC_GLOBAL, 1, 1, parse_default_str, SLOT_NONE, TGT_GLOBAL, 0, 0, 0,
	  0, "<ciphersuites>" },
	{ "ssl-default-bind-curves", CFG_SEC_GLOBAL, 1, 1, parse_default_str, SLOT_NONE, TGT_GLOBAL, 0, 0, 0, 0,
	  "<curves>" },
	{ "ssl-default-server-ciphers", CFG_SEC_GLOBAL, 1, 1, parse_default_str, SLOT_NONE, TGT_GLOBAL, 0, 0, 0, 0,
	  "<ciphers>" },
	{ "ssl-default-server-ciphersuites", CFG_SEC_GLOBAL, 1, 1, parse_default_str, SLOT_NONE, TGT_GLOBAL, 0, 0,
	  0, 0, "<ciphersuites>" },
	{ "ssl-server-verify", CFG_SEC_GLOBAL, 1, 1, parse_server_verify, SLOT_NONE, TGT_GLOBAL, 0, 0, 0, 0,
	  "none|required" },
	{ "tune.ssl.cachesize", CFG_SEC_GLOBAL, 1, 1, parse_tune_ssl, SLOT_NONE, TGT_GLOBAL, 0, 0, 0, 0,
	  "<number>" },
	{ "tune.ssl.lifetime", CFG_SEC_GLOBAL, 1, 1, parse_tune_ssl, SLOT_NONE, TGT_GLOBAL, 0, 0, 0, 0, "<time>" },
	{ "tune.ssl.default-dh-param", CFG_SEC_GLOBAL, 1, 1, parse_dh_param, SLOT_NONE, TGT_GLOBAL, 0, 0, 0, 0,
	  "<bits>" },
	{ "ca-base", CFG_SEC_GLOBAL, 1, 1, parse_base, SLOT_NONE, TGT_GLOBAL, 0, 0, 0, 0, "<directory>" },
	{ "crt-base", CFG_SEC_GLOBAL, 1, 1, parse_base, SLOT_NONE, TGT_GLOBAL, 0, 0, 0, 0, "<directory>" },
	{ NULL }
};

CFG_REGISTER(ssl_global_kws);

/*------------------------------------------------------------------------
 * After the whole configuration: build the contexts
 */
static int ssl_post_parse(void)
{
	struct proxy *px;
	char err[2048];
	int ret = 0;

	list_for_each(px, &proxies, list) {
		struct bind_conf *bc;
		struct listener *li;
		int luid = 0;

		list_for_each(li, &px->listeners, fe_el)
			li->luid = ++luid;
		list_for_each(bc, &px->binds, list) {
			struct bind_ssl *bs = bc->ssl;
			if (!bs)
				continue;
			if (!bs->enabled) {
				if (!list_empty(&bs->insts) || bs->opts.set) {
					ha_warning("config : Proxy '%s': TLS options without 'ssl' on bind '%s' at [%s:%d]: "
					           "they are ignored (add 'ssl' to terminate TLS there).", px->id, bc->arg,
					           bc->file, bc->line);
					ret |= ERR_WARN;
				}
				continue;
			}
			bs->mode_http = px->c.mode == PR_MODE_HTTP;
			if (ssl_bind_build(bs, err, sizeof(err)) < 0) {
				ha_alert("config : Proxy '%s': %s for bind '%s' at [%s:%d].", px->id, err, bc->arg, bc->file,
				         bc->line);
				ret |= ERR_ALERT | ERR_FATAL;
			}
		}
		if (!(px->cap & PR_CAP_BE))
			continue;
		struct server *srv;
		list_for_each(srv, &px->servers, list) {
			if (!srv->c.ssl)
				continue;
			if (srv->c.ssl->sni && srv->c.ssl->use_ssl == 1 && !px->sni_expr) {
				px->sni_expr = srv->c.ssl->sni;
				px->sni_text = srv->c.ssl->sni_text;
			}
			if (ssl_srv_build(srv, srv->c.ssl, err, sizeof(err)) < 0) {
				ha_alert("config : Proxy '%s', server '%s' [%s:%d] %s", px->id, srv->id, srv->conf_file,
				         srv->conf_line, err);
				ret |= ERR_ALERT | ERR_FATAL;
			}
		}
	}
	return ret;
}

static void ssl_deinit(void)
{
	struct proxy *px;

	list_for_each(px, &proxies, list) {
		struct bind_conf *bc;
		struct server *srv;
		list_for_each(bc, &px->binds, list)
			if (bc->ssl)
				ssl_bind_free(bc->ssl);
		list_for_each(srv, &px->servers, list)
			ssl_srv_free(srv);
	}
	ckch_free_all();
	memset(&ssl_global.bind_def, 0, sizeof(ssl_global.bind_def));
	memset(&ssl_global.srv_def, 0, sizeof(ssl_global.srv_def));
	ssl_global.server_verify = SSLV_REQUIRED;
	ssl_global.cachesize = 20000;
	ssl_global.lifetime = 300;
	ssl_global.dh_bits = 0;
	ssl_global.ca_base = ssl_global.crt_base = NULL;
}

static const struct cfg_postparser ssl_postparser = { "TLS contexts", ssl_post_parse, ssl_deinit };
CFG_POSTPARSER_REGISTER(ssl_postparser);
