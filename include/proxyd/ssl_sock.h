/* TLS: the settings shared by bind lines, crt-list lines and servers, the
 * TLS transport (xprt_ssl) under struct conn, and the per-bind and
 * per-server state the configuration builds.
 *
 * The transport is a drop-in for xprt_raw: recv/send keep its return
 * conventions. The handshake is a separate, non-blocking step the owner
 * drives with ssl_sock_handshake() until it returns 1; while OpenSSL needs
 * the other direction than the one asked for (a read that must write, a
 * write that must read), the connection's CO_FL_XPRT_* flags tell
 * conn_want() and conn_revents() to translate the events. */
#ifndef PROXYD_SSL_SOCK_H
#define PROXYD_SSL_SOCK_H

#include <stdint.h>
#include <openssl/ssl.h>

#include <proxyd/list.h>
#include <proxyd/ssl_sni.h>

struct conn;
struct cfg_ctx;
struct bind_conf;
struct server;
struct sample_expr;
struct ckch;

/* "verify" values; 0 = not set (the default applies). */
enum { SSLV_UNSET = 0, SSLV_NONE, SSLV_OPTIONAL, SSLV_REQUIRED };

/* Which fields of struct ssl_opts were written: merging with the defaults
 * (global ssl-default-*, then the bind line under a crt-list line) only
 * fills what is not set. */
enum {
	SSLO_MIN_VER   = 1 << 0,
	SSLO_MAX_VER   = 1 << 1,
	SSLO_CIPHERS   = 1 << 2,
	SSLO_SUITES    = 1 << 3,
	SSLO_CURVES    = 1 << 4,
	SSLO_ECDHE     = 1 << 5,
	SSLO_ALPN      = 1 << 6,
	SSLO_VERIFY    = 1 << 7,
	SSLO_CA        = 1 << 8,
	SSLO_CRL       = 1 << 9,
	SSLO_NO_TICKET = 1 << 10,
	SSLO_PREFER_CLI = 1 << 11,
	SSLO_STRICT_SNI = 1 << 12,
	SSLO_NO_VERS   = 1 << 13,
	SSLO_NO_CA_NAMES = 1 << 14,
};

/* Protocol versions, as an index: SSLv3, TLSv1.0 .. TLSv1.3. */
enum { SSLV3_IDX = 0, TLS10_IDX, TLS11_IDX, TLS12_IDX, TLS13_IDX, TLS_NB_VERS };

struct ssl_opts {
	unsigned set;                 /* SSLO_* */
	int min_ver, max_ver;         /* TLS_*_IDX + 1; 0 = default */
	unsigned no_vers;             /* 1 << TLS_*_IDX: "no-tlsv10"... */
	char *ciphers, *ciphersuites, *curves, *ecdhe;
	unsigned char *alpn;          /* wire format (length-prefixed names) */
	int alpn_len;
	int verify;                   /* SSLV_* */
	char *ca_file, *crl_file;
	int no_tickets;
	int prefer_client_ciphers;
	int strict_sni;
	int no_ca_names;
};

/* Process-wide TLS settings (global section). */
struct ssl_global {
	struct ssl_opts bind_def;     /* ssl-default-bind-* */
	struct ssl_opts srv_def;      /* ssl-default-server-* */
	int server_verify;            /* ssl-server-verify: SSLV_NONE or SSLV_REQUIRED */
	int cachesize;                /* tune.ssl.cachesize: sessions kept, 0 = no cache */
	int lifetime;                 /* tune.ssl.lifetime, seconds */
	int dh_bits;                  /* tune.ssl.default-dh-param; 0: OpenSSL's automatic choice */
	const char *ca_base, *crt_base;
};
extern struct ssl_global ssl_global;

/* One SSL_CTX of a bind line: a certificate (an RSA and an ECDSA one side
 * by side when they carry the same names) with its options. */
struct ssl_inst {
	struct list list;             /* in the bind's instances, declaration order */
	struct bind_ssl *bs;
	struct ssl_opts opts;         /* the crt-list line's own options (merged at build) */
	struct ckch *crt[2];          /* [0] RSA (or other), [1] ECDSA */
	char **filters;               /* crt-list SNI filters ("!" kept); NULL: the certificates' names */
	int nb_filters;
	SSL_CTX *ctx;
	struct ssl_opts eff;          /* effective options: line, bind line, global defaults */
	int own_ciphers;              /* its ciphers differ from the default instance's */
	unsigned char *alpn;          /* what it answers in ALPN (wire format), NULL: nothing */
	int alpn_len;
	const char *file;             /* where it was declared */
	int line;
};

/* TLS state of a bind line. */
struct bind_ssl {
	struct bind_conf *bc;
	int enabled;                  /* "ssl" */
	struct ssl_opts opts;         /* the bind line's options */
	struct list insts;            /* struct ssl_inst */
	struct ssl_inst *def;         /* the first: clients without (or with an unknown) SNI */
	struct sni_table sni;
	int mode_http;                /* the frontend's mode, known at build time (ALPN) */
	int luid;                     /* listener number in the frontend, for the logs */
};

/* TLS settings of a server (copied from default-server, copy-on-write). */
struct srv_ssl_conf {
	const void *owner;            /* the srv_conf that may modify it in place */
	int use_ssl;                  /* -1 not set, 0 no-ssl, 1 ssl */
	int check_ssl;                /* -1 not set, 0 no-check-ssl, 1 check-ssl */
	struct ssl_opts opts;
	const char *sni_text;
	struct sample_expr *sni;      /* "sni <expr>" */
	const char *check_sni;
	const char *verifyhost;
	const char *crt;              /* client certificate */
	int no_reuse;                 /* no-ssl-reuse: no session resumption */
	const char *file;
	int line;
};

/* Run-time TLS state of a server. */
struct srv_ssl {
	SSL_CTX *ctx;
	int use_ssl;                  /* traffic over TLS */
	int check_ssl;                /* checks over TLS */
	const char *verifyhost;       /* name checked in the server's certificate */
	const char *const_sni;        /* the SNI when it is a constant */
	struct {
		SSL_SESSION *sess;        /* last session, for resumption */
		uint32_t sni_hash;        /* of the SNI it was made with */
	} *pt;                        /* per thread */
};

extern const struct xprt_ops xprt_ssl;

static inline int conn_is_ssl(const struct conn *c);

/* Wraps an accepted (server side = 0) or connecting (server = 1) socket
 * in TLS. <sni> (client side) may be NULL. Returns 0, or -1 when memory is
 * short. */
int ssl_sock_accept(struct conn *c, struct bind_ssl *bs);
int ssl_sock_connect(struct conn *c, struct server *srv, SSL_CTX *ctx, const char *sni, size_t sni_len,
                     int resume);
/* Advances the handshake: 1 done, 0 in progress (the CO_FL_XPRT_WANT_*
 * flags say which event to wait for), -1 failed (c->hs_err set). */
int ssl_sock_handshake(struct conn *c);
/* Why a handshake failed, in HAProxy's words ("SSL handshake failure"),
 * with OpenSSL's reason in parentheses when one is known. */
const char *ssl_sock_hs_error(const struct conn *c, char *buf, size_t len);
/* A parked TLS server connection became readable: 1 if it is still
 * usable (only TLS records without data, e.g. session tickets, came). */
int ssl_sock_idle_alive(struct conn *c);

/* Handshake error classes (conn->hs_err), as HAProxy's CO_ER_SSL_*. */
enum {
	SSL_HS_OK = 0,
	SSL_HS_FAIL,                  /* "SSL handshake failure" */
	SSL_HS_TIMEOUT,               /* "Timeout during SSL handshake" */
	SSL_HS_EMPTY,                 /* "Connection closed during SSL handshake" */
	SSL_HS_ABORT,                 /* "Connection error during SSL handshake" */
	SSL_HS_CRT_FAIL,              /* "SSL client certificate not trusted" */
	SSL_HS_CA_FAIL,               /* "SSL client CA chain cannot be verified" */
	SSL_HS_NO_SNI,                /* strict-sni without a match */
};

/* Options helpers shared by the keyword parsers and the builders. */
void ssl_opts_merge(struct ssl_opts *dst, const struct ssl_opts *def);
/* Applies protocol range, ciphers, curves, tickets to a context. Returns 0
 * or -1 with a message naming the failing setting in <err>. */
int ssl_opts_apply(SSL_CTX *ctx, const struct ssl_opts *o, int server, char *err, size_t errlen);
/* OpenSSL's reason for the last error, or <dflt>. Clears the queue. */
const char *ssl_last_error(const char *dflt, char *buf, size_t len);

/* Builds every SSL_CTX of a bind line (after all files were read). */
int ssl_bind_build(struct bind_ssl *bs, char *err, size_t errlen);
void ssl_bind_free(struct bind_ssl *bs);
/* Builds a server's client context. */
int ssl_srv_build(struct server *srv, struct srv_ssl_conf *sc, char *err, size_t errlen);
void ssl_srv_free(struct server *srv);

/* Loads a crt-list file into <bs>. Errors name the file and line. */
int ssl_crtlist_load(struct cfg_ctx *ctx, struct bind_ssl *bs, const char *path);
/* Loads a certificate file (or every certificate of a directory) into <bs>. */
int ssl_bind_add_crt(struct cfg_ctx *ctx, struct bind_ssl *bs, const char *path);

/* The TLS state of a bind line, created on first use by a keyword. */
struct bind_ssl *bind_ssl_get(struct bind_conf *bc);

#include <proxyd/conn.h>
static inline int conn_is_ssl(const struct conn *c)
{
	return c->xprt == &xprt_ssl;
}

#endif
