/* Building TLS contexts from the configuration: one SSL_CTX per
 * certificate instance of a bind line, one per server; and the OpenSSL
 * callbacks that run during handshakes (certificate choice by SNI, ALPN,
 * client certificate verification, sessions towards servers). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <proxyd/cfg.h>
#include <proxyd/check.h>
#include <proxyd/conn.h>
#include <proxyd/global.h>
#include <proxyd/listener.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>
#include <proxyd/ssl_crt.h>
#include <proxyd/ssl_sock.h>
#include <proxyd/thread.h>

struct ssl_global ssl_global = {
	.server_verify = SSLV_REQUIRED,   /* HAProxy's ssl-server-verify default */
	.cachesize = 20000,
	.lifetime = 300,
};

static const int proto_versions[TLS_NB_VERS] = {
	SSL3_VERSION, TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION, TLS1_3_VERSION
};

/* HAProxy uses this constant session id context for all its binds. */
static const unsigned char sid_ctx[] = "proxyd";

/*------------------------------------------------------------------------
 * Options
 */
void ssl_opts_merge(struct ssl_opts *dst, const struct ssl_opts *def)
{
	unsigned take = def->set & ~dst->set;

	if (take & SSLO_MIN_VER)
		dst->min_ver = def->min_ver;
	if (take & SSLO_MAX_VER)
		dst->max_ver = def->max_ver;
	if (take & SSLO_NO_VERS)
		dst->no_vers = def->no_vers;
	if (take & SSLO_CIPHERS)
		dst->ciphers = def->ciphers;
	if (take & SSLO_SUITES)
		dst->ciphersuites = def->ciphersuites;
	if (take & SSLO_CURVES)
		dst->curves = def->curves;
	if (take & SSLO_ECDHE)
		dst->ecdhe = def->ecdhe;
	if (take & SSLO_ALPN) {
		dst->alpn = def->alpn;
		dst->alpn_len = def->alpn_len;
	}
	if (take & SSLO_VERIFY)
		dst->verify = def->verify;
	if (take & SSLO_CA)
		dst->ca_file = def->ca_file;
	if (take & SSLO_CRL)
		dst->crl_file = def->crl_file;
	if (take & SSLO_NO_TICKET)
		dst->no_tickets = def->no_tickets;
	if (take & SSLO_PREFER_CLI)
		dst->prefer_client_ciphers = def->prefer_client_ciphers;
	if (take & SSLO_STRICT_SNI)
		dst->strict_sni = def->strict_sni;
	if (take & SSLO_NO_CA_NAMES)
		dst->no_ca_names = def->no_ca_names;
	dst->set |= def->set;
}

/* The protocol range: ssl-min-ver / ssl-max-ver (TLSv1.2 and TLSv1.3 by
 * default, as HAProxy 2.6), narrowed by the no-* options. */
static int proto_range(const struct ssl_opts *o, int *lo, int *hi)
{
	*lo = o->min_ver ? o->min_ver - 1 : TLS12_IDX;
	*hi = o->max_ver ? o->max_ver - 1 : TLS13_IDX;
	while (*lo <= *hi && (o->no_vers & (1u << *lo)))
		(*lo)++;
	while (*hi >= *lo && (o->no_vers & (1u << *hi)))
		(*hi)--;
	return *lo <= *hi ? 0 : -1;
}

/* DHE parameters of the server side: the RFC 7919 group closest to
 * tune.ssl.default-dh-param, or OpenSSL's choice by certificate strength. */
static int set_dh(SSL_CTX *ctx, char *err, size_t errlen)
{
	char why[256];

	if (!ssl_global.dh_bits) {
		SSL_CTX_set_dh_auto(ctx, 1);
		return 0;
	}
	const char *group = ssl_global.dh_bits <= 2048 ? "ffdhe2048" : ssl_global.dh_bits <= 3072 ? "ffdhe3072" :
	                    "ffdhe4096";
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
	EVP_PKEY *dh = NULL;
	OSSL_PARAM params[2] = { OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0),
	                         OSSL_PARAM_construct_end() };
	if (!pc || EVP_PKEY_paramgen_init(pc) <= 0 || !EVP_PKEY_CTX_set_params(pc, params) ||
	    EVP_PKEY_paramgen(pc, &dh) <= 0 || !SSL_CTX_set0_tmp_dh_pkey(ctx, dh)) {
		EVP_PKEY_free(dh);
		EVP_PKEY_CTX_free(pc);
		snprintf(err, errlen, "cannot set the DH parameters (%s): %s", group,
		         ssl_last_error("unsupported", why, sizeof(why)));
		return -1;
	}
	EVP_PKEY_CTX_free(pc);
	return 0;
}

int ssl_opts_apply(SSL_CTX *ctx, const struct ssl_opts *o, int server, char *err, size_t errlen)
{
	char why[256];
	int lo, hi;

	if (proto_range(o, &lo, &hi) < 0) {
		snprintf(err, errlen, "every protocol version is disabled (check ssl-min-ver, ssl-max-ver and "
		         "the no-* options)");
		return -1;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, proto_versions[lo]) ||
	    !SSL_CTX_set_max_proto_version(ctx, proto_versions[hi])) {
		snprintf(err, errlen, "cannot set the protocol versions: %s",
		         ssl_last_error("unsupported", why, sizeof(why)));
		return -1;
	}
	if (o->ciphers && !SSL_CTX_set_cipher_list(ctx, o->ciphers)) {
		snprintf(err, errlen, "unable to set the cipher list to '%s': %s", o->ciphers,
		         ssl_last_error("no valid cipher", why, sizeof(why)));
		return -1;
	}
	if (o->ciphersuites && !SSL_CTX_set_ciphersuites(ctx, o->ciphersuites)) {
		snprintf(err, errlen, "unable to set the TLSv1.3 cipher suites to '%s': %s", o->ciphersuites,
		         ssl_last_error("no valid cipher suite", why, sizeof(why)));
		return -1;
	}
	if (o->curves && !SSL_CTX_set1_curves_list(ctx, o->curves)) {
		snprintf(err, errlen, "unable to set the curves to '%s': %s", o->curves,
		         ssl_last_error("unknown curve", why, sizeof(why)));
		return -1;
	}
	if (o->ecdhe && !SSL_CTX_set1_groups_list(ctx, o->ecdhe)) {
		snprintf(err, errlen, "unable to set the ECDHE curve to '%s': %s", o->ecdhe,
		         ssl_last_error("unknown curve", why, sizeof(why)));
		return -1;
	}
	uint64_t opts = SSL_OP_ALL | SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION;
	if (o->no_tickets)
		opts |= SSL_OP_NO_TICKET;
	if (server && !o->prefer_client_ciphers)
		opts |= SSL_OP_CIPHER_SERVER_PREFERENCE;
	SSL_CTX_set_options(ctx, opts);
	/* one record per SSL_write, the buffer may move between retries, and
	 * idle connections give their buffers back (a few hundred bytes
	 * each instead of ~34 KiB) */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	                 SSL_MODE_RELEASE_BUFFERS);
	return 0;
}

static int load_ca_crl(SSL_CTX *ctx, const struct ssl_opts *o, int client_ca_list, char *err, size_t errlen)
{
	char why[256];

	if (o->ca_file) {
		if (!SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL)) {
			snprintf(err, errlen, "unable to load CA file '%s': %s", o->ca_file,
			         ssl_last_error("no certificate in it", why, sizeof(why)));
			return -1;
		}
		if (client_ca_list && !o->no_ca_names) {
			/* the CA names sent to clients so they pick the right certificate */
			STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->ca_file);
			if (names)
				SSL_CTX_set_client_CA_list(ctx, names);
			ERR_clear_error();
		}
	}
	if (o->crl_file) {
		X509_STORE *st = SSL_CTX_get_cert_store(ctx);
		X509_LOOKUP *lk = X509_STORE_add_lookup(st, X509_LOOKUP_file());
		if (!lk || X509_load_crl_file(lk, o->crl_file, X509_FILETYPE_PEM) <= 0) {
			snprintf(err, errlen, "unable to load CRL file '%s': %s", o->crl_file,
			         ssl_last_error("no CRL in it", why, sizeof(why)));
			return -1;
		}
		X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	}
	return 0;
}

/*------------------------------------------------------------------------
 * Handshake callbacks
 */

/* Remembers why a peer certificate was refused (for the log line); the
 * decision itself stays OpenSSL's. */
static int verify_cb(int ok, X509_STORE_CTX *xs)
{
	if (!ok) {
		SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
		struct conn *c = ssl ? SSL_get_app_data(ssl) : NULL;
		/* with "verify none" the chain is still checked, and ignored */
		if (c && !c->hs_err && (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER))
			c->hs_err = X509_STORE_CTX_get_error_depth(xs) ? SSL_HS_CA_FAIL : SSL_HS_CRT_FAIL;
	}
	return ok;
}

/* The client's SNI, from the raw server_name extension. */
static int hello_sni(SSL *ssl, char *name, size_t size)
{
	const unsigned char *p;
	size_t len;

	if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &len) || len < 5)
		return 0;
	size_t list = ((size_t)p[0] << 8) | p[1];
	if (list + 2 > len || p[2] != TLSEXT_NAMETYPE_host_name)
		return 0;
	size_t n = ((size_t)p[3] << 8) | p[4];
	if (n + 5 > len || n == 0 || n >= size)
		return 0;
	memcpy(name, p + 5, n);
	name[n] = 0;
	return 1;
}

/* Runs on the bind's default context, before version and cipher
 * negotiation: switches to the instance serving the SNI, and carries over
 * the settings SSL_set_SSL_CTX() does not (verify mode, options, versions,
 * ciphers). */
static int client_hello_cb(SSL *ssl, int *al, void *arg)
{
	struct bind_ssl *bs = arg;
	struct ssl_inst *in = NULL;
	char name[SNI_NAME_MAX + 1];

	if (hello_sni(ssl, name, sizeof(name)))
		in = sni_table_lookup(&bs->sni, name);
	if (!in) {
		if (bs->def->eff.strict_sni) {
			struct conn *c = SSL_get_app_data(ssl);
			if (c)
				c->hs_err = SSL_HS_NO_SNI;
			*al = SSL_AD_UNRECOGNIZED_NAME;
			return SSL_CLIENT_HELLO_ERROR;
		}
		in = bs->def;
	}
	if (SSL_get_SSL_CTX(ssl) != in->ctx) {
		SSL_set_SSL_CTX(ssl, in->ctx);
		SSL_set_verify(ssl, SSL_CTX_get_verify_mode(in->ctx), SSL_CTX_get_verify_callback(in->ctx));
		SSL_clear_options(ssl, SSL_get_options(ssl) ^ SSL_CTX_get_options(in->ctx));
		SSL_set_options(ssl, SSL_CTX_get_options(in->ctx));
		SSL_set_min_proto_version(ssl, SSL_CTX_get_min_proto_version(in->ctx));
		SSL_set_max_proto_version(ssl, SSL_CTX_get_max_proto_version(in->ctx));
		if (in->own_ciphers) {
			if (in->eff.ciphers)
				SSL_set_cipher_list(ssl, in->eff.ciphers);
			if (in->eff.ciphersuites)
				SSL_set_ciphersuites(ssl, in->eff.ciphersuites);
		}
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

/* Accepts the name (so that it is acknowledged and kept for ssl_fc_sni):
 * the choice was made in client_hello_cb. */
static int servername_cb(SSL *ssl, int *al, void *arg)
{
	return SSL_TLSEXT_ERR_OK;
}

static int alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                          const unsigned char *in, unsigned int inlen, void *arg)
{
	struct ssl_inst *inst = arg;
	unsigned char *sel;

	if (!inst->alpn)
		return SSL_TLSEXT_ERR_NOACK;
	/* our preference order, as HAProxy */
	if (SSL_select_next_proto(&sel, outlen, inst->alpn, (unsigned)inst->alpn_len, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* Towards servers: keep the newest session of each server (per thread)
 * for the next connection. With TLS 1.3 it arrives after the handshake. */
static int srv_new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct conn *c = SSL_get_app_data(ssl);
	struct server *srv = c ? c->srv : NULL;
	int tid = curr_th ? curr_th->tid : 0;

	if (!srv || !srv->ssl || !srv->ssl->pt)
		return 0;
	SSL_SESSION_free(srv->ssl->pt[tid].sess);
	srv->ssl->pt[tid].sess = sess;
	srv->ssl->pt[tid].sni_hash = c->sni_hash;
	return 1;   /* we keep the reference */
}

/*------------------------------------------------------------------------
 * Bind lines
 */

/* An ALPN list (wire format) reduced, in HTTP mode, to the protocols
 * proxyd speaks (HTTP/1.x): h2 is accepted in the configuration but never
 * negotiated, so that peers fall back to HTTP/1.1. Returns a malloc'd
 * list in *out (NULL when nothing is left), or -1 when memory is short. */
static int alpn_filter(const unsigned char *p, int len, int http, unsigned char **out, int *outlen)
{
	int n = 0;

	*out = NULL;
	*outlen = 0;
	if (!p || !len)
		return 0;
	unsigned char *w = malloc((size_t)len);
	if (!w)
		return -1;
	for (int i = 0; i < len; i += 1 + p[i]) {
		int l = p[i];
		if (http && !(l == 8 && (memcmp(p + i + 1, "http/1.1", 8) == 0 || memcmp(p + i + 1, "http/1.0", 8) == 0)))
			continue;
		memcpy(w + n, p + i, (size_t)l + 1);
		n += l + 1;
	}
	if (!n) {
		free(w);
		return 0;
	}
	*out = w;
	*outlen = n;
	return 0;
}

/* What the instance answers in ALPN. */
static int inst_alpn(struct ssl_inst *in, int http)
{
	free(in->alpn);
	return alpn_filter(in->eff.alpn, in->eff.alpn_len, http, &in->alpn, &in->alpn_len);
}

SSL_CTX *ssl_inst_new_ctx(struct ssl_inst *in, const struct ckch *swap_from, const struct ckch_data *swap_to,
                          char *err, size_t errlen)
{
	struct bind_ssl *bs = in->bs;
	const struct ssl_opts *o = &in->eff;
	char why[256];
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx) {
		snprintf(err, errlen, "cannot create a TLS context: %s", ssl_last_error("out of memory", why, sizeof(why)));
		return NULL;
	}
	if (ssl_opts_apply(ctx, o, 1, err, errlen) < 0 || set_dh(ctx, err, errlen) < 0)
		goto fail;
	const struct ckch_data *dd[2] = { NULL, NULL };
	const char *paths[2] = { NULL, NULL };
	for (int k = 0; k < 2; k++) {
		const struct ckch *c = in->crt[k];
		if (!c)
			continue;
		/* a replacement may change the key type, hence the slot */
		int slot = c == swap_from ? ckch_slot(swap_to) : k;
		dd[slot] = c == swap_from ? swap_to : &c->d;
		paths[slot] = c->path;
	}
	for (int k = 0; k < 2; k++) {
		if (dd[k] && !SSL_CTX_use_cert_and_key(ctx, dd[k]->cert, dd[k]->key, dd[k]->chain, 1)) {
			snprintf(err, errlen, "unable to use certificate '%s': %s", paths[k],
			         ssl_last_error("rejected", why, sizeof(why)));
			goto fail;
		}
	}
	int mode = o->verify == SSLV_REQUIRED ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT :
	           o->verify == SSLV_OPTIONAL ? SSL_VERIFY_PEER : SSL_VERIFY_NONE;
	if (mode != SSL_VERIFY_NONE && !o->ca_file) {
		snprintf(err, errlen, "verify is enabled but no CA file specified (add 'ca-file <file>' with the "
		         "authorities client certificates must come from)");
		goto fail;
	}
	SSL_CTX_set_verify(ctx, mode, verify_cb);
	if (load_ca_crl(ctx, o, mode != SSL_VERIFY_NONE, err, errlen) < 0)
		goto fail;
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
	if (ssl_global.cachesize) {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
		SSL_CTX_sess_set_cache_size(ctx, ssl_global.cachesize);
	} else {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	}
	SSL_CTX_set_timeout(ctx, ssl_global.lifetime);
	SSL_CTX_set_client_hello_cb(ctx, client_hello_cb, bs);
	SSL_CTX_set_tlsext_servername_callback(ctx, servername_cb);
	if (inst_alpn(in, bs->mode_http) < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (in->alpn)
		SSL_CTX_set_alpn_select_cb(ctx, alpn_select_cb, in);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return NULL;
}

int ssl_inst_index_names(struct ssl_inst *in)
{
	struct bind_ssl *bs = in->bs;
	int rc = 0;

	sni_table_remove(&bs->sni, in);
	if (in->filters) {
		for (int i = 0; i < in->nb_filters; i++) {
			const char *f = in->filters[i];
			int neg = f[0] == '!';
			rc |= sni_table_add(&bs->sni, f + neg, neg, in);
		}
		return rc;
	}
	for (int k = 0; k < 2; k++) {
		const struct ckch *c = in->crt[k];
		for (int i = 0; c && i < c->d.nb_names; i++)
			if (sni_table_add(&bs->sni, c->d.names[i], 0, in) < 0)
				rc = 0;   /* a name no client can send (e.g. "a*b"): not indexed */
	}
	return rc;
}

static int same_names(const struct ckch *a, const struct ckch *b)
{
	if (a->d.nb_names != b->d.nb_names)
		return 0;
	for (int i = 0; i < a->d.nb_names; i++) {
		int found = 0;
		for (int j = 0; j < b->d.nb_names && !found; j++)
			found = strcasecmp(a->d.names[i], b->d.names[j]) == 0;
		if (!found)
			return 0;
	}
	return 1;
}

struct ssl_inst *ssl_inst_add(struct bind_ssl *bs, struct ckch *c, const struct ssl_opts *opts,
                              char **filters, int nb_filters, const char *file, int line);
struct ssl_inst *ssl_inst_add(struct bind_ssl *bs, struct ckch *c, const struct ssl_opts *opts,
                              char **filters, int nb_filters, const char *file, int line)
{
	int slot = ckch_slot(&c->d);
	struct ssl_inst *in;

	/* an RSA and an ECDSA certificate for the same names share one
	 * context: OpenSSL then picks by what the client supports */
	if (!filters && (!opts || !opts->set)) {
		list_for_each(in, &bs->insts, list) {
			const struct ckch *other = in->crt[!slot];
			if (!in->filters && !in->opts.set && !in->crt[slot] && other && same_names(other, c)) {
				in->crt[slot] = c;
				return ckch_add_inst(c, in) < 0 ? NULL : in;
			}
		}
	}
	in = calloc(1, sizeof(*in));
	if (!in)
		return NULL;
	in->bs = bs;
	if (opts)
		in->opts = *opts;
	in->crt[slot] = c;
	in->filters = filters;
	in->nb_filters = nb_filters;
	in->file = file;
	in->line = line;
	if (ckch_add_inst(c, in) < 0) {
		free(in);
		return NULL;
	}
	list_append(&bs->insts, &in->list);
	if (!bs->def)
		bs->def = in;
	return in;
}

struct add_arg {
	struct bind_ssl *bs;
	struct cfg_ctx *ctx;
};

static int add_one(struct ckch *c, void *arg)
{
	struct add_arg *a = arg;
	return ssl_inst_add(a->bs, c, NULL, NULL, 0, a->ctx->file, a->ctx->line) ? 0 : -1;
}

int ssl_bind_add_crt(struct cfg_ctx *ctx, struct bind_ssl *bs, const char *path)
{
	char err[1024];
	struct stat st;
	struct add_arg a = { bs, ctx };

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (ckch_load_dir(path, add_one, &a, err, sizeof(err)) < 0) {
			cfg_alert(ctx, "'bind %s' : 'crt %s' : %s", bs->bc->arg, path, err);
			return -1;
		}
		return 0;
	}
	struct ckch *c = ckch_load(path, err, sizeof(err));
	if (!c) {
		cfg_alert(ctx, "'bind %s' : 'crt %s' : %s", bs->bc->arg, path, err);
		return -1;
	}
	if (add_one(c, &a) < 0) {
		cfg_alert(ctx, "'bind %s' : 'crt %s' : out of memory", bs->bc->arg, path);
		return -1;
	}
	return 0;
}

int ssl_bind_build(struct bind_ssl *bs, char *err, size_t errlen)
{
	struct ssl_inst *in;

	if (!bs->def) {
		snprintf(err, errlen, "'ssl' needs at least one certificate: add 'crt <file>' (certificate, chain "
		         "and key in one PEM file) or 'crt-list <file>'");
		return -1;
	}
	list_for_each(in, &bs->insts, list) {
		in->eff = in->opts;
		ssl_opts_merge(&in->eff, &bs->opts);
		ssl_opts_merge(&in->eff, &ssl_global.bind_def);
	}
	list_for_each(in, &bs->insts, list) {
		const struct ssl_opts *d = &bs->def->eff;
		in->own_ciphers = in != bs->def &&
		                  (!!in->eff.ciphers != !!d->ciphers || (in->eff.ciphers && strcmp(in->eff.ciphers, d->ciphers)) ||
		                   !!in->eff.ciphersuites != !!d->ciphersuites ||
		                   (in->eff.ciphersuites && strcmp(in->eff.ciphersuites, d->ciphersuites)));
		in->ctx = ssl_inst_new_ctx(in, NULL, NULL, err, errlen);
		if (!in->ctx) {
			if (in->opts.set || in->filters) {
				/* a crt-list line: say which one */
				char why[1024];
				snprintf(why, sizeof(why), "%s", err);
				snprintf(err, errlen, "crt-list line [%s:%d]: %s", in->file, in->line, why);
			}
			return -1;
		}
		if (ssl_inst_index_names(in) < 0) {
			snprintf(err, errlen, "invalid SNI filter (a name, '*.name' or '!name' is expected)");
			return -1;
		}
	}
	return 0;
}

void ssl_bind_free(struct bind_ssl *bs)
{
	struct ssl_inst *in, *tmp;

	list_for_each_safe(in, tmp, &bs->insts, list) {
		list_del_init(&in->list);
		SSL_CTX_free(in->ctx);
		free(in->alpn);
		free(in);
	}
	sni_table_free(&bs->sni);
	bs->def = NULL;
}

/*------------------------------------------------------------------------
 * Servers
 */
int ssl_srv_build(struct server *srv, struct srv_ssl_conf *sc, char *err, size_t errlen)
{
	struct ssl_opts o = sc->opts;
	struct srv_ssl *st;
	char why[256];

	st = calloc(1, sizeof(*st));
	if (!st)
		goto oom;
	srv->ssl = st;
	st->use_ssl = sc->use_ssl == 1;
	if (sc->check_ssl >= 0)
		st->check_ssl = sc->check_ssl;
	else if (!srv->c.ck.port && !srv->c.ck.addr.ss_family)
		st->check_ssl = st->use_ssl;   /* checks follow the traffic, as HAProxy */
	if (!st->use_ssl && !st->check_ssl)
		return 0;
	st->pt = calloc((size_t)global.nbthread, sizeof(*st->pt));
	if (!st->pt)
		goto oom;
	ssl_opts_merge(&o, &ssl_global.srv_def);
	int verify = o.verify ? o.verify : ssl_global.server_verify;
	if (verify == SSLV_REQUIRED && !o.ca_file) {
		snprintf(err, errlen, "verify is enabled by default but no CA file specified. If you're running on "
		         "a LAN where you're certain to trust the server's certificate, please set an explicit "
		         "'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in the "
		         "global section to disable server-side verifications by default.");
		return -1;
	}
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		snprintf(err, errlen, "cannot create a TLS context: %s", ssl_last_error("out of memory", why, sizeof(why)));
		return -1;
	}
	st->ctx = ctx;
	if (ssl_opts_apply(ctx, &o, 0, err, errlen) < 0)
		return -1;
	SSL_CTX_set_verify(ctx, verify == SSLV_REQUIRED ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, verify_cb);
	if (verify == SSLV_REQUIRED && load_ca_crl(ctx, &o, 0, err, errlen) < 0)
		return -1;
	if (sc->crt) {
		struct ckch *c = ckch_load(sc->crt, err, errlen);
		if (!c)
			return -1;
		if (!SSL_CTX_use_cert_and_key(ctx, c->d.cert, c->d.key, c->d.chain, 1)) {
			snprintf(err, errlen, "unable to use client certificate '%s': %s", sc->crt,
			         ssl_last_error("rejected", why, sizeof(why)));
			return -1;
		}
	}
	unsigned char *alpn;
	int alpn_len;
	if (alpn_filter(o.alpn, o.alpn_len, srv->be->c.mode == PR_MODE_HTTP, &alpn, &alpn_len) < 0)
		goto oom;
	if (alpn && SSL_CTX_set_alpn_protos(ctx, alpn, (unsigned)alpn_len) != 0) {
		free(alpn);
		snprintf(err, errlen, "cannot set ALPN: %s", ssl_last_error("rejected", why, sizeof(why)));
		return -1;
	}
	free(alpn);   /* OpenSSL keeps a copy */
	if (!sc->no_reuse) {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(ctx, srv_new_session_cb);
	} else {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	}
	st->verifyhost = sc->verifyhost;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

void ssl_srv_free(struct server *srv)
{
	struct srv_ssl *st = srv->ssl;

	if (!st)
		return;
	if (st->pt)
		for (int t = 0; t < global.nbthread; t++)
			SSL_SESSION_free(st->pt[t].sess);
	free(st->pt);
	SSL_CTX_free(st->ctx);
	free(st);
	srv->ssl = NULL;
}
