/* Health-check programs other than HTTP: "option tcp-check" with its
 * "tcp-check connect|send|send-binary|expect" steps, and the predefined
 * ones built from the same steps — ssl-hello-chk, smtpchk, redis-check,
 * mysql-check. Also the server options that configure checks. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <proxyd/addr.h>
#include <proxyd/cfg.h>
#include <proxyd/cfg_server.h>
#include <proxyd/check.h>
#include <proxyd/global.h>
#include <proxyd/proxy.h>
#include <proxyd/regex.h>
#include <proxyd/server.h>

/* The check program a section may modify: its own, created (or copied from
 * the defaults it inherited) when it first needs one. */
struct chk_prog *chk_prog_own(struct cfg_ctx *ctx, int kind)
{
	struct proxy_conf *c = &ctx->px->c;
	const struct chk_prog *cur = c->chk;

	if (cur && cur->owner == ctx->px->id && cur->kind == kind)
		return (struct chk_prog *)cur;
	struct chk_prog *p = cfg_alloc(sizeof(*p));
	if (cur && cur->kind == kind) {
		*p = *cur;
		p->steps = cfg_alloc(sizeof(*p->steps) * (size_t)(cur->cap ? cur->cap : 1));
		memcpy(p->steps, cur->steps, sizeof(*p->steps) * (size_t)cur->nb);
	}
	p->kind = kind;
	p->owner = ctx->px->id;
	c->chk = p;
	return p;
}

struct chk_step *chk_prog_add(struct chk_prog *p, enum chk_step_type type)
{
	if (p->nb == p->cap) {
		int cap = p->cap ? p->cap * 2 : 8;
		struct chk_step *s = cfg_alloc(sizeof(*s) * (size_t)cap);
		if (p->nb)
			memcpy(s, p->steps, sizeof(*s) * (size_t)p->nb);
		p->steps = s;
		p->cap = cap;
	}
	struct chk_step *st = &p->steps[p->nb++];
	memset(st, 0, sizeof(*st));
	st->type = type;
	st->min_recv = -1;
	return st;
}

static int hex_decode(const char *hex, char **out, size_t *len)
{
	size_t l = strlen(hex);

	if (l % 2)
		return -1;
	char *b = cfg_alloc(l / 2 + 1);
	for (size_t i = 0; i < l; i += 2) {
		if (!isxdigit((unsigned char)hex[i]) || !isxdigit((unsigned char)hex[i + 1]))
			return -1;
		char tmp[3] = { hex[i], hex[i + 1], 0 };
		b[i / 2] = (char)strtol(tmp, NULL, 16);
	}
	*out = b;
	*len = l / 2;
	return 0;
}

/*------------------------------------------------------------------------
 * tcp-check
 */
static int parse_opt_tcp_check(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	if (ctx->inv) {
		ctx->px->c.chk = NULL;
		return 0;
	}
	struct chk_prog *p = chk_prog_own(ctx, CHK_KIND_TCPCHECK);
	(void)p;
	return 0;
}

static int parse_tcp_check(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	struct chk_prog *p = chk_prog_own(ctx, CHK_KIND_TCPCHECK);
	char err[512];
	const char *act = args[0];

	if (strcmp(act, "connect") == 0) {
		if (p->nb) {
			cfg_alert(ctx, "'tcp-check connect' must come first: proxyd runs one connection per check");
			return -1;
		}
		struct chk_step *st = chk_prog_add(p, CHK_CONNECT);
		for (int i = 1; i < nargs; i++) {
			if (strcmp(args[i], "port") == 0 && i + 1 < nargs) {
				ctx->kw = "tcp-check connect port";
				if (cfg_int_arg(ctx, args[++i], 1, 65535, &st->port) < 0)
					return -1;
			} else {
				cfg_alert(ctx, "'tcp-check connect': '%s' is not supported yet by proxyd (only 'port <n>')", args[i]);
				return -1;
			}
		}
		return 0;
	}
	if (strcmp(act, "send") == 0 || strcmp(act, "send-binary") == 0) {
		if (nargs != 2) {
			cfg_alert(ctx, "'tcp-check %s' expects exactly one argument", act);
			return -1;
		}
		struct chk_step *st = chk_prog_add(p, CHK_SEND);
		if (act[4] == '-') {
			char *bin;
			if (hex_decode(args[1], &bin, &st->len) < 0) {
				cfg_alert(ctx, "'tcp-check send-binary': '%s' is not an even number of hexadecimal digits", args[1]);
				return -1;
			}
			st->data = bin;
		} else {
			st->data = cfg_strdup(args[1]);
			st->len = strlen(args[1]);
		}
		return 0;
	}
	if (strcmp(act, "expect") == 0) {
		int i = 1;
		struct chk_step st = { .type = CHK_EXPECT, .min_recv = -1 };
		/* HAProxy's order: [min-recv <n>] [!] <match> <pattern> */
		if (i < nargs && strcmp(args[i], "min-recv") == 0 && i + 1 < nargs) {
			ctx->kw = "tcp-check expect min-recv";
			if (cfg_int_arg(ctx, args[i + 1], -1, 1 << 20, &st.min_recv) < 0)
				return -1;
			i += 2;
		}
		if (i < nargs && strcmp(args[i], "!") == 0) {
			st.negate = 1;
			i++;
		}
		if (i + 1 >= nargs) {
			cfg_alert(ctx, "'tcp-check expect' expects [!] string|rstring|binary|rbinary <pattern>");
			return -1;
		}
		const char *kind = args[i], *pat = args[i + 1];
		st.pattern = cfg_strdup(pat);
		st.plen = strlen(pat);
		if (strcmp(kind, "string") == 0) {
			st.exp = CHK_EXP_STRING;
		} else if (strcmp(kind, "rstring") == 0) {
			st.exp = CHK_EXP_RSTRING;
			if (!(st.re = regex_compile(pat, 0, err, sizeof(err)))) {
				cfg_alert(ctx, "'tcp-check expect rstring': %s", err);
				return -1;
			}
		} else if (strcmp(kind, "binary") == 0) {
			char *bin;
			st.exp = CHK_EXP_BINARY;
			if (hex_decode(pat, &bin, &st.plen) < 0) {
				cfg_alert(ctx, "'tcp-check expect binary': '%s' is not an even number of hexadecimal digits", pat);
				return -1;
			}
			st.pattern = bin;
		} else {
			cfg_alert(ctx, "'tcp-check expect': '%s' is not supported (expected string, rstring or binary)", kind);
			return -1;
		}
		for (i += 2; i < nargs; i++) {
			cfg_alert(ctx, "'tcp-check expect': option '%s' is not supported yet by proxyd", args[i]);
			return -1;
		}
		*chk_prog_add(p, CHK_EXPECT) = st;
		return 0;
	}
	if (!strcmp(act, "comment") || !strcmp(act, "set-var") || !strcmp(act, "unset-var") ||
	    !strcmp(act, "send-lf") || !strcmp(act, "send-binary-lf")) {
		cfg_alert(ctx, "'tcp-check %s' is a valid HAProxy keyword but is not supported yet by proxyd", act);
		return -1;
	}
	cfg_alert(ctx, "'tcp-check': unknown action '%s' (expected connect, send, send-binary or expect)", act);
	return -1;
}

/*------------------------------------------------------------------------
 * Predefined programs
 */
static struct chk_prog *fresh(struct cfg_ctx *ctx, int kind)
{
	struct chk_prog *p = chk_prog_own(ctx, kind);
	p->nb = 0;
	return p;
}

static void add_send(struct chk_prog *p, const char *data, size_t len)
{
	struct chk_step *st = chk_prog_add(p, CHK_SEND);
	st->data = data;
	st->len = len;
}

static struct chk_step *add_expect(struct chk_prog *p, enum chk_expect exp, const char *pat, size_t plen)
{
	struct chk_step *st = chk_prog_add(p, CHK_EXPECT);
	st->exp = exp;
	st->pattern = pat;
	st->plen = plen;
	return st;
}

/* A TLS 1.2 ClientHello with common cipher suites: any TLS server
 * answers it with a handshake record or an alert, both proof of life. */
static const unsigned char client_hello[] = {
	0x16, 0x03, 0x01, 0x00, 0x3b,                      /* record: handshake, 59 bytes */
	0x01, 0x00, 0x00, 0x37,                            /* ClientHello, 55 bytes */
	0x03, 0x03,                                        /* TLS 1.2 */
	0x70, 0x72, 0x6f, 0x78, 0x79, 0x64, 0x2d, 0x68, 0x65, 0x61, 0x6c, 0x74, 0x68, 0x2d, 0x63, 0x68,
	0x65, 0x63, 0x6b, 0x2d, 0x72, 0x61, 0x6e, 0x64, 0x6f, 0x6d, 0x2d, 0x62, 0x79, 0x74, 0x65, 0x73,
	0x00,                                              /* no session id */
	0x00, 0x0e,                                        /* 7 cipher suites */
	0xc0, 0x2f, 0xc0, 0x30, 0xc0, 0x2b, 0xc0, 0x2c, 0x00, 0x9c, 0x00, 0x9d, 0x00, 0x2f,
	0x01, 0x00,                                        /* null compression */
	0x00, 0x00,                                        /* no extension */
};

static int parse_ssl_hello(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	if (ctx->inv) {
		ctx->px->c.chk = NULL;
		return 0;
	}
	struct chk_prog *p = fresh(ctx, CHK_KIND_SSL_HELLO);
	add_send(p, (const char *)client_hello, sizeof(client_hello));
	add_expect(p, CHK_EXP_SSL_HELLO, "TLS record", 10);
	return 0;
}

/* option smtpchk [HELO|EHLO <domain>]: a 2xx greeting, then a 2xx answer
 * to HELO. */
static int parse_smtpchk(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	char err[256], cmd[300];
	const char *verb = "HELO", *domain = "localhost";

	if (ctx->inv) {
		ctx->px->c.chk = NULL;
		return 0;
	}
	if (nargs == 2 && (!strcmp(args[0], "HELO") || !strcmp(args[0], "EHLO"))) {
		verb = args[0];
		domain = args[1];
	} else if (nargs) {
		cfg_alert(ctx, "'option smtpchk' takes 'HELO <domain>' or 'EHLO <domain>'");
		return -1;
	}
	struct chk_prog *p = fresh(ctx, CHK_KIND_SMTP);
	struct my_regex *re = regex_compile("^2[0-9][0-9]", 0, err, sizeof(err));
	struct chk_step *e = add_expect(p, CHK_EXP_RSTRING, "^2[0-9][0-9]", 12);
	e->re = re;
	int n = snprintf(cmd, sizeof(cmd), "%s %s\r\n", verb, domain);
	add_send(p, cfg_strndup(cmd, (size_t)n), (size_t)n);
	e = add_expect(p, CHK_EXP_RSTRING, "^2[0-9][0-9]", 12);
	e->re = re;
	return 0;
}

static int parse_redis_check(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	if (ctx->inv) {
		ctx->px->c.chk = NULL;
		return 0;
	}
	struct chk_prog *p = fresh(ctx, CHK_KIND_REDIS);
	add_send(p, "*1\r\n$4\r\nPING\r\n", 14);   /* a RESP array, as HAProxy sends it */
	add_expect(p, CHK_EXP_STRING, "+PONG", 5);
	return 0;
}

/* option mysql-check: the server's greeting must be a protocol 10
 * handshake (the byte after the 4-byte packet header). Logging in as a
 * user is not supported yet. */
static int parse_mysql_check(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	if (ctx->inv) {
		ctx->px->c.chk = NULL;
		return 0;
	}
	if (nargs) {
		cfg_alert(ctx, "'option mysql-check %s' is not supported yet by proxyd (only the greeting is checked, "
		          "without 'user')", args[0]);
		return -1;
	}
	struct chk_prog *p = fresh(ctx, CHK_KIND_MYSQL);
	struct chk_step *st = add_expect(p, CHK_EXP_BINARY, "\x0a", 1);
	st->min_recv = 5;
	st->port = 4;   /* offset of the protocol byte */
	return 0;
}

static int parse_log_health(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	if (ctx->inv)
		ctx->px->c.options &= ~PR_O_LOG_HEALTH;
	else
		ctx->px->c.options |= PR_O_LOG_HEALTH;
	return 0;
}

static int parse_spread(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	return cfg_int_arg(ctx, args[0], 0, 50, &global.spread_checks);
}

static const struct cfg_kw tcp_check_kws[] = {
	{ "option tcp-check", CFG_SEC_BE, 0, 0, parse_opt_tcp_check, SLOT_NONE, TGT_PROXY, 0, 0, 0, KW_F_NO, "" },
	{ "tcp-check", CFG_SEC_BE, 1, -1, parse_tcp_check, SLOT_NONE, TGT_PROXY, 0, 0, 0, 0,
	  "connect|send|send-binary|expect [...]" },
	{ "option ssl-hello-chk", CFG_SEC_BE, 0, 0, parse_ssl_hello, SLOT_NONE, TGT_PROXY, 0, 0, 0, KW_F_NO, "" },
	{ "option smtpchk", CFG_SEC_BE, 0, 2, parse_smtpchk, SLOT_NONE, TGT_PROXY, 0, 0, 0, KW_F_NO,
	  "[HELO|EHLO <domain>]" },
	{ "option redis-check", CFG_SEC_BE, 0, 0, parse_redis_check, SLOT_NONE, TGT_PROXY, 0, 0, 0, KW_F_NO, "" },
	{ "option mysql-check", CFG_SEC_BE, 0, 2, parse_mysql_check, SLOT_NONE, TGT_PROXY, 0, 0, 0, KW_F_NO, "" },
	{ "option log-health-checks", CFG_SEC_BE, 0, 0, parse_log_health, SLOT_NONE, TGT_PROXY, 0, 0, 0, KW_F_NO, "" },
	{ "spread-checks", CFG_SEC_GLOBAL, 1, 1, parse_spread, SLOT_NONE, TGT_GLOBAL, 0, 0, 0, 0, "<0..50>" },
	{ NULL }
};

CFG_REGISTER(tcp_check_kws);

/*------------------------------------------------------------------------
 * Judging a tcp-check expect step: 1 matched, 0 wait, -1 failed.
 */
int chk_tcp_eval(struct check *c, const struct chk_step *st, int eof, enum chk_status *status,
                 char *info, size_t ilen)
{
	const struct buf *b = &c->rx;
	const char *data = b->area ? b->area + b->start : "";
	size_t len = b->area ? b->end - b->start : 0;
	int full = b->area && b->end >= b->size - 1;
	int match;

	if (st->min_recv > 0 && len < (size_t)st->min_recv && !eof && !full)
		return 0;
	if (!len && !eof && !full && st->exp != CHK_EXP_SSL_HELLO)
		return 0;   /* nothing came yet */
	switch (st->exp) {
	case CHK_EXP_SSL_HELLO:
		if (!len) {
			if (!eof)
				return 0;
			*status = CHK_ST_L6RSP;
			return -1;
		}
		if (data[0] == 0x15 || data[0] == 0x16)
			return 1;
		*status = CHK_ST_L6RSP;
		return -1;
	case CHK_EXP_RSTRING:
		match = len && regex_exec(st->re, data, len);
		break;
	default:
		if (st->port) {
			/* anchored at an offset (mysql-check's protocol byte) */
			match = len >= (size_t)st->port + st->plen && !memcmp(data + st->port, st->pattern, st->plen);
		} else {
			match = len >= st->plen && memmem(data, len, st->pattern, st->plen) != NULL;
		}
		break;
	}
	/* A mismatch waits for more bytes, unless min-recv was given: once
	 * that many bytes are in, the answer is final (as HAProxy). */
	if (!match && !eof && !full && st->min_recv < 0)
		return 0;
	if (match != st->negate)
		return 1;
	*status = CHK_ST_L7RSP;
	int idx = (int)(st - c->srv->be->c.chk->steps) + 1;
	/* HAProxy's words: the pattern is quoted for strings only */
	if (st->exp == CHK_EXP_STRING)
		snprintf(info, ilen, "TCPCHK %s content '%.*s' at step %d", match ? "matched unwanted" : "did not match",
		         (int)MIN(st->plen, 40), st->pattern, idx);
	else
		snprintf(info, ilen, "TCPCHK %s content (%s) at step %d", match ? "matched unwanted" : "did not match",
		         st->exp == CHK_EXP_RSTRING ? "regex" : "binary", idx);
	return -1;
}

/*------------------------------------------------------------------------
 * Server options
 */
static int srv_check(struct cfg_ctx *ctx, struct srv_conf *sc, struct server *srv, char **args)
{
	sc->ck.enabled = strcmp(args[0], "check") == 0;
	return 0;
}

static int srv_time_opt(struct cfg_ctx *ctx, struct srv_conf *sc, struct server *srv, char **args)
{
	int *field = !strcmp(args[0], "inter") ? &sc->ck.inter : !strcmp(args[0], "fastinter") ? &sc->ck.fastinter :
	             &sc->ck.downinter;
	ctx->kw = args[0];
	if (cfg_time_arg(ctx, args[1], 1, field) < 0)
		return -1;
	if (*field == 0) {
		cfg_alert(ctx, "'%s' must be greater than 0", args[0]);
		return -1;
	}
	return 0;
}

static int srv_count_opt(struct cfg_ctx *ctx, struct srv_conf *sc, struct server *srv, char **args)
{
	ctx->kw = args[0];
	return cfg_int_arg(ctx, args[1], 1, 1000, args[0][0] == 'r' ? &sc->ck.rise : &sc->ck.fall);
}

static int srv_port(struct cfg_ctx *ctx, struct srv_conf *sc, struct server *srv, char **args)
{
	ctx->kw = "port";
	return cfg_int_arg(ctx, args[1], 1, 65535, &sc->ck.port);
}

static int srv_addr(struct cfg_ctx *ctx, struct srv_conf *sc, struct server *srv, char **args)
{
	struct addr_spec as;
	char err[256] = "";   /* untouched when the address parses but is not IP */

	if (addr_parse(args[1], ADDR_F_NO_PORT, &as, err, sizeof(err)) < 0 || as.fd >= 0 ||
	    as.ss.ss_family == AF_UNIX) {
		cfg_alert(ctx, "'addr %s': %s", args[1], err[0] ? err : "expects an IPv4 or IPv6 address");
		return -1;
	}
	sc->ck.addr = as.ss;
	sc->ck.addrlen = as.len;
	if (!as.port_missing && !sc->ck.port) {
		sc->ck.port = ((struct sockaddr_in *)&as.ss)->sin_port ? ntohs(((struct sockaddr_in *)&as.ss)->sin_port) : 0;
	}
	return 0;
}

static int srv_check_send_proxy(struct cfg_ctx *ctx, struct srv_conf *sc, struct server *srv, char **args)
{
	sc->ck.send_proxy = 1;
	return 0;
}

static int srv_on_marked(struct cfg_ctx *ctx, struct srv_conf *sc, struct server *srv, char **args)
{
	int down = strcmp(args[0], "on-marked-down") == 0;
	const char *want = down ? "shutdown-sessions" : "shutdown-backup-sessions";

	if (strcmp(args[1], want) != 0) {
		cfg_alert(ctx, "'%s' only supports '%s' (got '%s')", args[0], want, args[1]);
		return -1;
	}
	if (down)
		sc->ck.on_down_shutdown = 1;
	else
		sc->ck.on_up_shutdown_backup = 1;
	return 0;
}

static const struct srv_kw check_srv_kws[] = {
	{ "check",            0, srv_check,            SRV_KW_DEFAULT_OK },
	{ "no-check",         0, srv_check,            SRV_KW_DEFAULT_OK },
	{ "inter",            1, srv_time_opt,         SRV_KW_DEFAULT_OK },
	{ "fastinter",        1, srv_time_opt,         SRV_KW_DEFAULT_OK },
	{ "downinter",        1, srv_time_opt,         SRV_KW_DEFAULT_OK },
	{ "rise",             1, srv_count_opt,        SRV_KW_DEFAULT_OK },
	{ "fall",             1, srv_count_opt,        SRV_KW_DEFAULT_OK },
	{ "port",             1, srv_port,             SRV_KW_DEFAULT_OK },
	{ "addr",             1, srv_addr,             SRV_KW_DEFAULT_OK },
	{ "check-send-proxy", 0, srv_check_send_proxy, SRV_KW_DEFAULT_OK },
	{ "on-marked-down",   1, srv_on_marked,        SRV_KW_DEFAULT_OK },
	{ "on-marked-up",     1, srv_on_marked,        SRV_KW_DEFAULT_OK },
	{ NULL }
};

SRV_KW_REGISTER(check_srv_kws);
