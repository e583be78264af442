/* Unit tests for the health checks (src/check.c, src/check_http.c,
 * src/check_tcp.c), without sockets:
 *  - the status table (codes, descriptions, results);
 *  - srv_status_text() on servers built by hand;
 *  - every check keyword through cfg_parse_string(): what it builds and
 *    each message it prints, word for word;
 *  - chk_http_eval() / chk_tcp_eval() on answers placed in a check's
 *    buffer;
 *  - chk_apply_result(): the rise/fall counter, the state changes and
 *    their messages, fed with results by hand.
 * The expected texts are HAProxy 2.6.12's where it prints the same thing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <ev.h>

#include <proxyd/cfg.h>
#include <proxyd/check.h>
#include <proxyd/diag.h>
#include <proxyd/global.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>

#define CFG_FX_EXTRA_RESET() checks_stop()
#include "cfg_fixture.h"

static struct proxy *be_get(const char *name)
{
	struct proxy *px = proxy_find(name, PR_CAP_BE);

	if (!px)
		fail_msg("no backend '%s'", name);
	return px;
}

static struct server *srv_get(struct proxy *be, const char *id)
{
	struct server *srv;

	list_for_each(srv, &be->servers, list)
		if (strcmp(srv->id, id) == 0)
			return srv;
	fail_msg("no server '%s/%s'", be->id, id);
	return NULL;
}

/* Parses <cfg> (which must be valid) and runs the post-parse step. */
static void load(const char *cfg)
{
	reset_state();
	int err = parse(cfg);
	if (err & ERR_ALERT)
		fail_msg("configuration:\n%s\nfailed:\n%s", cfg, out);
	err = cfg_post_parse();
	if (err & ERR_ALERT)
		fail_msg("configuration:\n%s\npost-parse failed:\n%s", cfg, out);
	out[0] = 0;
}

/* ------------------------------------------------------------ status table */

static void test_status_table(void **state)
{
	static const struct { enum chk_status st; int num; const char *code, *desc; int res; } t[] = {
		{ CHK_ST_UNKNOWN, 0,  "UNK",     "Unknown", 0 },
		{ CHK_ST_INI,     1,  "INI",     "Initializing", 0 },
		{ CHK_ST_HANA,    4,  "HANA",    "Health analyze", 0 },
		{ CHK_ST_SOCKERR, 5,  "SOCKERR", "Socket error", 0 },
		{ CHK_ST_L4OK,    6,  "L4OK",    "Layer4 check passed", 1 },
		{ CHK_ST_L4TOUT,  7,  "L4TOUT",  "Layer4 timeout", 0 },
		{ CHK_ST_L4CON,   8,  "L4CON",   "Layer4 connection problem", 0 },
		{ CHK_ST_L6OK,    9,  "L6OK",    "Layer6 check passed", 1 },
		{ CHK_ST_L6TOUT,  10, "L6TOUT",  "Layer6 timeout", 0 },
		{ CHK_ST_L6RSP,   11, "L6RSP",   "Layer6 invalid response", 0 },
		{ CHK_ST_L7TOUT,  12, "L7TOUT",  "Layer7 timeout", 0 },
		{ CHK_ST_L7RSP,   13, "L7RSP",   "Layer7 invalid response", 0 },
		{ CHK_ST_L7OK,    15, "L7OK",    "Layer7 check passed", 1 },
		{ CHK_ST_L7OKC,   16, "L7OKC",   "Layer7 check conditionally passed", 2 },
		{ CHK_ST_L7STS,   17, "L7STS",   "Layer7 wrong status", 0 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal((int)t[i].st, t[i].num);
		assert_string_equal(chk_status_code(t[i].st), t[i].code);
		assert_string_equal(chk_status_desc(t[i].st), t[i].desc);
		assert_int_equal(chk_status_result(t[i].st), t[i].res);
	}
	/* the unused numbers and anything out of range are "unknown" failures */
	static const int unused[] = { 2, 3, 14, CHK_ST_COUNT, 100, -1 };
	for (size_t i = 0; i < sizeof(unused) / sizeof(unused[0]); i++) {
		assert_string_equal(chk_status_code((enum chk_status)unused[i]), "UNK");
		assert_string_equal(chk_status_desc((enum chk_status)unused[i]), "Unknown");
		assert_int_equal(chk_status_result((enum chk_status)unused[i]), 0);
	}
}

/* ------------------------------------------------------------ srv_status_text */

static const char *status_of(int enabled, enum srv_state st, unsigned admin, int health, int rise, int fall)
{
	static char buf[64];
	struct server s;

	memset(&s, 0, sizeof(s));
	s.c.ck.enabled = enabled;
	s.c.ck.rise = rise;
	s.c.ck.fall = fall;
	s.state = st;
	s.admin = admin;
	s.check.health = health;
	s.check.srv = &s;
	return srv_status_text(&s, buf, sizeof(buf));
}

static void test_srv_status_text(void **state)
{
	/* checked, rise 2 fall 3: the counter runs 0..4 */
	assert_string_equal(status_of(1, SRV_ST_RUNNING, 0, 4, 2, 3), "UP");
	assert_string_equal(status_of(1, SRV_ST_RUNNING, 0, 3, 2, 3), "UP 2/3");
	assert_string_equal(status_of(1, SRV_ST_RUNNING, 0, 2, 2, 3), "UP 1/3");
	assert_string_equal(status_of(1, SRV_ST_STOPPED, 0, 0, 2, 3), "DOWN");
	assert_string_equal(status_of(1, SRV_ST_STOPPED, 0, 1, 2, 3), "DOWN 1/2");
	assert_string_equal(status_of(1, SRV_ST_STOPPING, 0, 4, 2, 3), "NOLB");
	assert_string_equal(status_of(1, SRV_ST_STOPPING, 0, 3, 2, 3), "NOLB 2/3");
	assert_string_equal(status_of(1, SRV_ST_RUNNING, SRV_ADMF_FDRAIN, 4, 2, 3), "DRAIN");
	assert_string_equal(status_of(1, SRV_ST_RUNNING, SRV_ADMF_IDRAIN, 3, 2, 3), "DRAIN 2/3");
	/* maintenance hides everything else */
	assert_string_equal(status_of(1, SRV_ST_RUNNING, SRV_ADMF_FMAINT, 4, 2, 3), "MAINT");
	assert_string_equal(status_of(1, SRV_ST_STOPPED, SRV_ADMF_CMAINT | SRV_ADMF_FMAINT, 0, 2, 3), "MAINT");
	/* the configured mark alone, once enabled, is no maintenance */
	assert_string_equal(status_of(1, SRV_ST_RUNNING, SRV_ADMF_CMAINT, 4, 2, 3), "UP");
	assert_string_equal(status_of(0, SRV_ST_RUNNING, SRV_ADMF_IMAINT, 0, 2, 3), "MAINT");
	/* not checked */
	assert_string_equal(status_of(0, SRV_ST_RUNNING, 0, 0, 2, 3), "no check");
	assert_string_equal(status_of(0, SRV_ST_RUNNING, SRV_ADMF_FDRAIN, 0, 2, 3), "DRAIN");
	assert_string_equal(status_of(0, SRV_ST_STOPPED, 0, 0, 2, 3), "DOWN");
	/* rise 1 fall 1: a single value, no fraction ever */
	assert_string_equal(status_of(1, SRV_ST_RUNNING, 0, 1, 1, 1), "UP");
	assert_string_equal(status_of(1, SRV_ST_STOPPED, 0, 0, 1, 1), "DOWN");
	/* rise 3 fall 1 */
	assert_string_equal(status_of(1, SRV_ST_STOPPED, 0, 2, 3, 1), "DOWN 2/3");
	assert_string_equal(status_of(1, SRV_ST_RUNNING, 0, 3, 3, 1), "UP");
	/* a server that starts checked is "UP 1/<fall>" until its first check */
	load("backend be\n  server s1 127.0.0.1:80 check\n  server s2 127.0.0.1:81\n"
	     "  server s3 127.0.0.1:82 check fall 1\n");
	char buf[64];
	struct proxy *be = be_get("be");
	assert_string_equal(srv_status_text(srv_get(be, "s1"), buf, sizeof(buf)), "UP 1/3");
	assert_string_equal(srv_status_text(srv_get(be, "s2"), buf, sizeof(buf)), "no check");
	assert_string_equal(srv_status_text(srv_get(be, "s3"), buf, sizeof(buf)), "UP");
	assert_int_equal(srv_get(be, "s1")->check.status, CHK_ST_INI);
}

/* As HAProxy's stats: a draining server in NOLB shows "NOLB" (the drain
 * is only shown for running servers), and a server without checks in
 * NOLB too. */
static void test_srv_status_text_nolb_wins(void **state)
{
	assert_string_equal(status_of(1, SRV_ST_STOPPING, SRV_ADMF_FDRAIN, 4, 2, 3), "NOLB");
	assert_string_equal(status_of(0, SRV_ST_STOPPING, 0, 0, 2, 3), "NOLB");
}

/* ------------------------------------------------------------ configuration */

static void test_server_options(void **state)
{
	load("defaults\n  default-server inter 3s fastinter 1s downinter 5s rise 4 fall 5 port 8080\n"
	     "backend be\n"
	     "  server s1 127.0.0.1:80 check\n"
	     "  server s2 127.0.0.1:81 check inter 1m fastinter 500 downinter 10s rise 5 fall 1 port 9000\n"
	     "  server s3 127.0.0.1:82 check addr 127.0.0.2 check-send-proxy on-marked-down shutdown-sessions "
	     "on-marked-up shutdown-backup-sessions\n"
	     "  server s4 127.0.0.1:83 check no-check\n"
	     "  server s5 127.0.0.1:84\n");
	struct proxy *be = be_get("be");
	const struct chk_conf *c1 = &srv_get(be, "s1")->c.ck, *c2 = &srv_get(be, "s2")->c.ck,
	                      *c3 = &srv_get(be, "s3")->c.ck;
	assert_true(c1->enabled);
	assert_int_equal(c1->inter, 3000);
	assert_int_equal(c1->fastinter, 1000);
	assert_int_equal(c1->downinter, 5000);
	assert_int_equal(c1->rise, 4);
	assert_int_equal(c1->fall, 5);
	assert_int_equal(c1->port, 8080);
	assert_int_equal(c1->addr.ss_family, 0);
	assert_false(c1->send_proxy || c1->on_down_shutdown || c1->on_up_shutdown_backup);
	assert_int_equal(c2->inter, 60000);
	assert_int_equal(c2->fastinter, 500);
	assert_int_equal(c2->downinter, 10000);
	assert_int_equal(c2->rise, 5);
	assert_int_equal(c2->fall, 1);
	assert_int_equal(c2->port, 9000);
	assert_int_equal(c3->addr.ss_family, AF_INET);
	assert_int_equal(((const struct sockaddr_in *)&c3->addr)->sin_addr.s_addr, inet_addr("127.0.0.2"));
	assert_true(c3->send_proxy);
	assert_true(c3->on_down_shutdown);
	assert_true(c3->on_up_shutdown_backup);
	assert_false(srv_get(be, "s4")->c.ck.enabled);
	assert_false(srv_get(be, "s5")->c.ck.enabled);
	/* the defaults HAProxy documents */
	load("backend be\n  server s1 127.0.0.1:80 check\n");
	c1 = &srv_get(be_get("be"), "s1")->c.ck;
	assert_int_equal(c1->inter, 2000);
	assert_int_equal(c1->fastinter, 0);
	assert_int_equal(c1->downinter, 0);
	assert_int_equal(c1->rise, 2);
	assert_int_equal(c1->fall, 3);
	assert_int_equal(c1->port, 0);
	assert_null(be_get("be")->c.chk);
	assert_int_equal(be_get("be")->c.to[TO_CHECK], 0);
	load("defaults\n  timeout check 1500ms\nbackend be\n  server s1 127.0.0.1:80 check\n");
	assert_int_equal(be_get("be")->c.to[TO_CHECK], 1500);
}

static void test_server_option_errors(void **state)
{
	static const struct mcase cases[] = {
		{ "backend be\n  server s1 127.0.0.1:80 check inter 0\n", ALERT, L(2, "'inter' must be greater than 0") },
		{ "backend be\n  server s1 127.0.0.1:80 check fastinter 0\n", ALERT,
		  L(2, "'fastinter' must be greater than 0") },
		{ "backend be\n  server s1 127.0.0.1:80 check inter abc\n", ALERT,
		  L(2, "unexpected character 'a' in 'inter'") },
		{ "backend be\n  server s1 127.0.0.1:80 check downinter -1\n", ALERT,
		  L(2, "unexpected character '-' in 'downinter'") },
		{ "backend be\n  server s1 127.0.0.1:80 check inter\n", ALERT,
		  L(2, "'server be/s1' : 'inter' expects 1 argument") },
		{ "backend be\n  server s1 127.0.0.1:80 check rise 0\n", ALERT,
		  L(2, "'rise' expects an integer between 1 and 1000 (got '0')") },
		{ "backend be\n  server s1 127.0.0.1:80 check fall x\n", ALERT,
		  L(2, "'fall' expects an integer argument (got 'x')") },
		{ "backend be\n  server s1 127.0.0.1:80 check port 70000\n", ALERT,
		  L(2, "'port' expects an integer between 1 and 65535 (got '70000')") },
		{ "backend be\n  server s1 127.0.0.1:80 check on-marked-down foo\n", ALERT,
		  L(2, "'on-marked-down' only supports 'shutdown-sessions' (got 'foo')") },
		{ "backend be\n  server s1 127.0.0.1:80 check on-marked-up shutdown-sessions\n", ALERT,
		  L(2, "'on-marked-up' only supports 'shutdown-backup-sessions' (got 'shutdown-sessions')") },
		{ "backend be\n  server s1 127.0.0.1:80 check addr unix@/x\n", ALERT,
		  L(2, "'addr unix@/x': expects an IPv4 or IPv6 address") },
		{ "global\n  spread-checks 51\n", ALERT,
		  L(2, "'spread-checks' expects an integer between 0 and 50 (got '51')") },
	};

	RUN(cases);
}

/* The request an HTTP check sends, as built from the configuration. */
static const char *request_of(const char *cfg)
{
	static char req[4096];
	size_t len;

	load(cfg);
	const struct chk_prog *p = be_get("be")->c.chk;
	if (!p)
		fail_msg("no check program:\n%s", cfg);
	const char *r = chk_http_request(p, &len);
	snprintf(req, sizeof(req), "%.*s", (int)len, r);
	return req;
}

static void test_httpchk_request(void **state)
{
	assert_string_equal(request_of("backend be\n  option httpchk\n"), "OPTIONS / HTTP/1.0\r\n\r\n");
	assert_string_equal(request_of("backend be\n  option httpchk /st\n"), "OPTIONS /st HTTP/1.0\r\n\r\n");
	assert_string_equal(request_of("backend be\n  option httpchk GET /st\n"), "GET /st HTTP/1.0\r\n\r\n");
	assert_string_equal(request_of("backend be\n  option httpchk GET /st HTTP/1.1\n"),
	                    "GET /st HTTP/1.1\r\nconnection: close\r\n\r\n");
	assert_string_equal(request_of("backend be\n  option httpchk\n"
	                               "  http-check send meth POST uri /x ver HTTP/1.1 hdr Host h hdr X-A \"1 2\" "
	                               "body hello\n"),
	                    "POST /x HTTP/1.1\r\nHost: h\r\nX-A: 1 2\r\ncontent-length: 5\r\nconnection: close\r\n"
	                    "\r\nhello");
	/* from the defaults, changed by the backend without touching them */
	load("defaults\n  option httpchk GET /d\nbackend be\n  http-check send hdr X-B 2\nbackend be2\n");
	size_t len;
	const char *r = chk_http_request(be_get("be")->c.chk, &len);
	assert_int_equal(len, strlen("GET /d HTTP/1.0\r\nX-B: 2\r\n\r\n"));
	assert_memory_equal(r, "GET /d HTTP/1.0\r\nX-B: 2\r\n\r\n", len);
	r = chk_http_request(be_get("be2")->c.chk, &len);
	assert_memory_equal(r, "GET /d HTTP/1.0\r\n\r\n", len);
	assert_int_equal(be_get("be")->c.chk->kind, CHK_KIND_HTTP);
	/* expect rules: the first replaces the default one */
	load("backend be\n  option httpchk\n  http-check expect status 200,300-302\n");
	const struct chk_prog *p = be_get("be")->c.chk;
	int nexp = 0;
	for (int i = 0; i < p->nb; i++) {
		if (p->steps[i].type != CHK_HTTP_EXPECT)
			continue;
		nexp++;
		assert_int_equal(p->steps[i].exp, CHK_EXP_STATUS);
		assert_int_equal(p->steps[i].nb_ranges, 2);
		assert_int_equal(p->steps[i].ranges[0][0], 200);
		assert_int_equal(p->steps[i].ranges[0][1], 200);
		assert_int_equal(p->steps[i].ranges[1][0], 300);
		assert_int_equal(p->steps[i].ranges[1][1], 302);
	}
	assert_int_equal(nexp, 1);
	load("backend be\n  option httpchk\n  http-check disable-on-404\n  option log-health-checks\n");
	assert_true(be_get("be")->c.chk->disable_on_404);
	assert_true(be_get("be")->c.options & PR_O_LOG_HEALTH);
	load("defaults\n  option log-health-checks\nbackend be\n  no option log-health-checks\n");
	assert_false(be_get("be")->c.options & PR_O_LOG_HEALTH);
}

static void test_http_check_errors(void **state)
{
	static const struct mcase cases[] = {
		{ "backend be\n  option httpchk\n  http-check expect status abc\n", ALERT,
		  L(3, "'http-check expect status': 'abc' is not a status, a range or a comma-separated list of them "
		       "(e.g. 200, 200-299 or 200,302)") },
		{ "backend be\n  option httpchk\n  http-check expect status 300-200\n", ALERT,
		  L(3, "'http-check expect status': '300-200' is not a status, a range or a comma-separated list of "
		       "them (e.g. 200, 200-299 or 200,302)") },
		{ "backend be\n  option httpchk\n  http-check expect\n", ALERT,
		  L(3, "'http-check expect' expects [!] status|rstatus|string|rstring <pattern>") },
		{ "backend be\n  option httpchk\n  http-check expect status\n", ALERT,
		  L(3, "'http-check expect' expects [!] status|rstatus|string|rstring <pattern>") },
		{ "backend be\n  option httpchk\n  http-check expect foo bar\n", ALERT,
		  L(3, "'http-check expect': unknown match 'foo' (expected status, rstatus, string or rstring)") },
		{ "backend be\n  option httpchk\n  http-check expect string ok extra\n", ALERT,
		  L(3, "'http-check expect': unexpected 'extra'") },
		{ "backend be\n  option httpchk\n  http-check expect rstatus ^2(\n", ALERT,
		  L(3, "'http-check expect rstatus': invalid regex '^2(' at position 3: missing closing parenthesis") },
		{ "backend be\n  option httpchk\n  http-check send meth\n", ALERT,
		  L(3, "'http-check send meth' expects a value") },
		{ "backend be\n  option httpchk\n  http-check send hdr X-A\n", ALERT,
		  L(3, "'http-check send hdr' expects <name> and <value>") },
		{ "backend be\n  option httpchk\n  http-check send foo bar\n", ALERT,
		  L(3, "'http-check send': unknown 'foo' (expected meth, uri, ver, hdr or body)") },
		{ "backend be\n  option httpchk\n  http-check connect\n", ALERT,
		  L(3, "'http-check connect' is a valid HAProxy keyword but is not supported yet by proxyd") },
		{ "backend be\n  option httpchk\n  http-check frob\n", ALERT,
		  L(3, "'http-check': unknown action 'frob' (expected send, expect or disable-on-404)") },
		{ "backend be\n  option httpchk a b c d\n", ALERT,
		  L(2, "'option httpchk' takes at most 3 arguments: [<uri>] | [<method> <uri> [<version>]] "
		       "(unexpected 'd')") },
	};

	RUN(cases);
}

static void test_tcp_check_programs(void **state)
{
	load("backend be\n  option tcp-check\n  tcp-check connect port 8000\n  tcp-check send \"PING\\r\\n\"\n"
	     "  tcp-check send-binary 00ff\n  tcp-check expect min-recv 4 ! string ERR\n"
	     "  tcp-check expect rstring ^OK\n  tcp-check expect binary cafe\n");
	const struct chk_prog *p = be_get("be")->c.chk;
	assert_int_equal(p->kind, CHK_KIND_TCPCHECK);
	assert_int_equal(p->nb, 6);
	assert_int_equal(p->steps[0].type, CHK_CONNECT);
	assert_int_equal(p->steps[0].port, 8000);
	assert_int_equal(p->steps[1].type, CHK_SEND);
	assert_int_equal(p->steps[1].len, 6);
	assert_memory_equal(p->steps[1].data, "PING\r\n", 6);
	assert_int_equal(p->steps[2].len, 2);
	assert_memory_equal(p->steps[2].data, "\x00\xff", 2);
	assert_int_equal(p->steps[3].type, CHK_EXPECT);
	assert_int_equal(p->steps[3].exp, CHK_EXP_STRING);
	assert_true(p->steps[3].negate);
	assert_int_equal(p->steps[3].min_recv, 4);
	assert_int_equal(p->steps[4].exp, CHK_EXP_RSTRING);
	assert_non_null(p->steps[4].re);
	assert_int_equal(p->steps[4].min_recv, -1);
	assert_int_equal(p->steps[5].exp, CHK_EXP_BINARY);
	assert_int_equal(p->steps[5].plen, 2);
	assert_memory_equal(p->steps[5].pattern, "\xca\xfe", 2);

	/* the predefined programs */
	load("backend be\n  option redis-check\n");
	p = be_get("be")->c.chk;
	assert_int_equal(p->kind, CHK_KIND_REDIS);
	assert_int_equal(p->nb, 2);
	assert_int_equal(p->steps[0].len, 14);
	assert_memory_equal(p->steps[0].data, "*1\r\n$4\r\nPING\r\n", 14);
	assert_string_equal(p->steps[1].pattern, "+PONG");
	load("backend be\n  option smtpchk EHLO a.example\n");
	p = be_get("be")->c.chk;
	assert_int_equal(p->kind, CHK_KIND_SMTP);
	assert_int_equal(p->steps[1].type, CHK_SEND);
	assert_memory_equal(p->steps[1].data, "EHLO a.example\r\n", p->steps[1].len);
	load("backend be\n  option smtpchk\n");
	p = be_get("be")->c.chk;
	assert_memory_equal(p->steps[1].data, "HELO localhost\r\n", p->steps[1].len);
	load("backend be\n  option ssl-hello-chk\n");
	p = be_get("be")->c.chk;
	assert_int_equal(p->kind, CHK_KIND_SSL_HELLO);
	assert_int_equal((unsigned char)p->steps[0].data[0], 0x16);   /* a TLS handshake record */
	assert_int_equal(p->steps[1].exp, CHK_EXP_SSL_HELLO);
	load("backend be\n  option mysql-check\n");
	assert_int_equal(be_get("be")->c.chk->kind, CHK_KIND_MYSQL);
	load("global\n  spread-checks 5\nbackend be\n  option httpchk\n  no option httpchk\n");
	assert_int_equal(global.spread_checks, 5);
	assert_null(be_get("be")->c.chk);
}

static void test_tcp_check_errors(void **state)
{
	static const struct mcase cases[] = {
		{ "backend be\n  option tcp-check\n  tcp-check send\n", ALERT,
		  L(3, "'tcp-check send' expects exactly one argument") },
		{ "backend be\n  option tcp-check\n  tcp-check send-binary 0g\n", ALERT,
		  L(3, "'tcp-check send-binary': '0g' is not an even number of hexadecimal digits") },
		{ "backend be\n  option tcp-check\n  tcp-check send-binary abc\n", ALERT,
		  L(3, "'tcp-check send-binary': 'abc' is not an even number of hexadecimal digits") },
		{ "backend be\n  option tcp-check\n  tcp-check expect string\n", ALERT,
		  L(3, "'tcp-check expect' expects [!] string|rstring|binary|rbinary <pattern>") },
		{ "backend be\n  option tcp-check\n  tcp-check expect foo bar\n", ALERT,
		  L(3, "'tcp-check expect': 'foo' is not supported (expected string, rstring or binary)") },
		{ "backend be\n  option tcp-check\n  tcp-check expect binary zz\n", ALERT,
		  L(3, "'tcp-check expect binary': 'zz' is not an even number of hexadecimal digits") },
		{ "backend be\n  option tcp-check\n  tcp-check expect rstring (\n", ALERT,
		  L(3, "'tcp-check expect rstring': invalid regex '(' at position 1: missing closing parenthesis") },
		{ "backend be\n  option tcp-check\n  tcp-check expect min-recv x string ab\n", ALERT,
		  L(3, "'tcp-check expect min-recv' expects an integer argument (got 'x')") },
		/* HAProxy refuses '!' before min-recv too */
		{ "backend be\n  option tcp-check\n  tcp-check expect ! min-recv 4 string ab\n", ALERT,
		  L(3, "'tcp-check expect': 'min-recv' is not supported (expected string, rstring or binary)") },
		{ "backend be\n  option tcp-check\n  tcp-check expect string ab error-status L7RSP\n", ALERT,
		  L(3, "'tcp-check expect': option 'error-status' is not supported yet by proxyd") },
		{ "backend be\n  option tcp-check\n  tcp-check connect port 0\n", ALERT,
		  L(3, "'tcp-check connect port' expects an integer between 1 and 65535 (got '0')") },
		{ "backend be\n  option tcp-check\n  tcp-check connect ssl\n", ALERT,
		  L(3, "'tcp-check connect': 'ssl' is not supported yet by proxyd (only 'port <n>')") },
		{ "backend be\n  option tcp-check\n  tcp-check send a\n  tcp-check connect\n", ALERT,
		  L(4, "'tcp-check connect' must come first: proxyd runs one connection per check") },
		{ "backend be\n  option tcp-check\n  tcp-check comment x\n", ALERT,
		  L(3, "'tcp-check comment' is a valid HAProxy keyword but is not supported yet by proxyd") },
		{ "backend be\n  option tcp-check\n  tcp-check frob\n", ALERT,
		  L(3, "'tcp-check': unknown action 'frob' (expected connect, send, send-binary or expect)") },
		{ "backend be\n  option smtpchk FOO bar\n", ALERT,
		  L(2, "'option smtpchk' takes 'HELO <domain>' or 'EHLO <domain>'") },
		{ "backend be\n  option mysql-check user bob\n", ALERT,
		  L(2, "'option mysql-check user' is not supported yet by proxyd (only the greeting is checked, "
		       "without 'user')") },
	};

	RUN(cases);
}

/* ------------------------------------------------------------ judging answers */

static char area[16384];

/* A check of server be/s1 whose buffer holds <data>. */
static struct check *with_answer(const char *data, size_t len)
{
	struct check *c = &srv_get(be_get("be"), "s1")->check;

	memcpy(area, data, len);
	c->rx.area = area;
	c->rx.size = sizeof(area);
	c->rx.start = 0;
	c->rx.end = (uint32_t)len;
	return c;
}

static const struct chk_step *step_of(enum chk_step_type type, int nth)
{
	const struct chk_prog *p = be_get("be")->c.chk;

	for (int i = 0; i < p->nb; i++)
		if (p->steps[i].type == type && nth-- == 0)
			return &p->steps[i];
	fail_msg("no step %d of type %d", nth, type);
	return NULL;
}

struct verdict {
	int r;
	enum chk_status st;
	int code;
	char info[128];
};

static struct verdict http_eval(const char *answer, int eof, int nth)
{
	struct verdict v = { 0, CHK_ST_UNKNOWN, 0, "" };
	struct check *c = with_answer(answer, strlen(answer));

	v.r = chk_http_eval(c, step_of(CHK_HTTP_EXPECT, nth), eof, &v.st, &v.code, v.info, sizeof(v.info));
	c->rx.area = NULL;
	return v;
}

static struct verdict tcp_eval(const char *answer, size_t len, int eof, int nth)
{
	struct verdict v = { 0, CHK_ST_UNKNOWN, 0, "" };
	struct check *c = with_answer(answer, len);

	v.r = chk_tcp_eval(c, step_of(CHK_EXPECT, nth), eof, &v.st, v.info, sizeof(v.info));
	c->rx.area = NULL;
	return v;
}

#define ASSERT_VERDICT(v, r_, st_, info_) do { \
	struct verdict v_ = (v); \
	if (v_.r != (r_) || (v_.r < 0 && (v_.st != (st_) || strcmp(v_.info, (info_)) != 0))) \
		fail_msg("verdict %d %s \"%s\", expected %d %s \"%s\"", v_.r, chk_status_code(v_.st), v_.info, \
		         (r_), chk_status_code(st_), (info_)); \
} while (0)

static void test_http_eval(void **state)
{
	load("backend be\n  option httpchk\n  server s1 127.0.0.1:80 check\n");
	ASSERT_VERDICT(http_eval("HTTP/1.1 200 OK\r\n\r\n", 0, 0), 1, 0, "");
	ASSERT_VERDICT(http_eval("HTTP/1.0 302 Found\r\nLocation: /\r\n\r\n", 0, 0), 1, 0, "");
	struct verdict v = http_eval("HTTP/1.1 503 Service Unavailable\r\n\r\n", 0, 0);
	ASSERT_VERDICT(v, -1, CHK_ST_L7STS, "Service Unavailable");
	assert_int_equal(v.code, 503);
	/* incomplete head: wait, unless the server closed */
	ASSERT_VERDICT(http_eval("HTTP/1.1 200 OK\r\n", 0, 0), 0, 0, "");
	ASSERT_VERDICT(http_eval("HTTP/1.1 200 OK\r\n", 1, 0), -1, CHK_ST_L7RSP, "");
	ASSERT_VERDICT(http_eval("hello there\r\n\r\n", 0, 0), -1, CHK_ST_L7RSP, "");
	ASSERT_VERDICT(http_eval("HTTP/1.1 2x0 OK\r\n\r\n", 0, 0), -1, CHK_ST_L7RSP, "");

	load("backend be\n  option httpchk\n  http-check expect ! status 500-599\n  server s1 127.0.0.1:80 check\n");
	ASSERT_VERDICT(http_eval("HTTP/1.1 404 Not Found\r\n\r\n", 0, 0), 1, 0, "");
	ASSERT_VERDICT(http_eval("HTTP/1.1 502 Bad Gateway\r\n\r\n", 0, 0), -1, CHK_ST_L7STS, "Bad Gateway");

	load("backend be\n  option httpchk\n  http-check expect rstatus ^2[0-9]5$\n  server s1 127.0.0.1:80 check\n");
	ASSERT_VERDICT(http_eval("HTTP/1.1 205 Reset\r\n\r\n", 0, 0), 1, 0, "");
	ASSERT_VERDICT(http_eval("HTTP/1.1 200 OK\r\n\r\n", 0, 0), -1, CHK_ST_L7STS, "OK");

	/* body matches wait for the announced length or the end */
	load("backend be\n  option httpchk\n  http-check expect string alive\n  server s1 127.0.0.1:80 check\n");
	ASSERT_VERDICT(http_eval("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nI am al", 0, 0), 0, 0, "");
	ASSERT_VERDICT(http_eval("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nI am alive", 0, 0), 1, 0, "");
	ASSERT_VERDICT(http_eval("HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\ndead", 0, 0), -1, CHK_ST_L7RSP,
	               "HTTP content check did not match");
	ASSERT_VERDICT(http_eval("HTTP/1.1 200 OK\r\n\r\nsti", 0, 0), 0, 0, "");
	ASSERT_VERDICT(http_eval("HTTP/1.1 200 OK\r\n\r\nstill alive", 1, 0), 1, 0, "");
	/* the status does not matter to a body match */
	ASSERT_VERDICT(http_eval("HTTP/1.1 500 Oops\r\nContent-Length: 5\r\n\r\nalive", 0, 0), 1, 0, "");

	load("backend be\n  option httpchk\n  http-check expect ! rstring ^err\n  server s1 127.0.0.1:80 check\n");
	ASSERT_VERDICT(http_eval("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nerror", 0, 0), -1, CHK_ST_L7RSP,
	               "HTTP check matched unwanted content");
	ASSERT_VERDICT(http_eval("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0, 0), 1, 0, "");
}

static void test_http_eval_disable_on_404(void **state)
{
	load("backend be\n  option httpchk\n  http-check disable-on-404\n  server s1 127.0.0.1:80 check\n");
	struct server *s1 = srv_get(be_get("be"), "s1");
	struct verdict v = http_eval("HTTP/1.1 404 Not Found\r\n\r\n", 0, 0);
	ASSERT_VERDICT(v, -1, CHK_ST_L7OKC, "");
	assert_int_equal(v.code, 404);
	/* a DOWN server answering 404 stays down */
	s1->state = SRV_ST_STOPPED;
	ASSERT_VERDICT(http_eval("HTTP/1.1 404 Not Found\r\n\r\n", 0, 0), -1, CHK_ST_L7STS, "Not Found");
	s1->state = SRV_ST_RUNNING;
	ASSERT_VERDICT(http_eval("HTTP/1.1 500 Oops\r\n\r\n", 0, 0), -1, CHK_ST_L7STS, "Oops");
	/* it takes precedence over an expect rule */
	load("backend be\n  option httpchk\n  http-check disable-on-404\n  http-check expect status 200\n"
	     "  server s1 127.0.0.1:80 check\n");
	ASSERT_VERDICT(http_eval("HTTP/1.1 404 Not Found\r\n\r\n", 0, 0), -1, CHK_ST_L7OKC, "");
	ASSERT_VERDICT(http_eval("HTTP/1.1 204 No Content\r\n\r\n", 0, 0), -1, CHK_ST_L7STS, "No Content");
}

static void test_tcp_eval(void **state)
{
	load("backend be\n  option tcp-check\n  tcp-check send x\n  tcp-check expect string PONG\n"
	     "  tcp-check expect ! string ERR\n  tcp-check expect rstring ^OK\n  tcp-check expect binary cafe\n"
	     "  tcp-check expect min-recv 4 string PONG\n  tcp-check expect min-recv 2 ! string ERR\n"
	     "  server s1 127.0.0.1:80 check\n");
	/* string: a mismatch waits for more, unless the server closed */
	ASSERT_VERDICT(tcp_eval("+PONG\r\n", 7, 0, 0), 1, 0, "");
	ASSERT_VERDICT(tcp_eval("PO", 2, 0, 0), 0, 0, "");
	ASSERT_VERDICT(tcp_eval("PANG", 4, 1, 0), -1, CHK_ST_L7RSP, "TCPCHK did not match content 'PONG' at step 2");
	ASSERT_VERDICT(tcp_eval("", 0, 0, 0), 0, 0, "");
	/* negated: a match fails at once, a mismatch passes at the end */
	ASSERT_VERDICT(tcp_eval("ERR\r\n", 5, 0, 1), -1, CHK_ST_L7RSP, "TCPCHK matched unwanted content 'ERR' at step 3");
	ASSERT_VERDICT(tcp_eval("OK\r\n", 4, 0, 1), 0, 0, "");
	ASSERT_VERDICT(tcp_eval("OK\r\n", 4, 1, 1), 1, 0, "");
	/* rstring, binary */
	ASSERT_VERDICT(tcp_eval("OK go", 5, 0, 2), 1, 0, "");
	ASSERT_VERDICT(tcp_eval("NO", 2, 1, 2), -1, CHK_ST_L7RSP, "TCPCHK did not match content (regex) at step 4");
	ASSERT_VERDICT(tcp_eval("\x01\xca\xfe", 3, 0, 3), 1, 0, "");
	ASSERT_VERDICT(tcp_eval("\x01\xca", 2, 1, 3), -1, CHK_ST_L7RSP, "TCPCHK did not match content (binary) at step 5");
	/* min-recv: wait for that many bytes, then the answer is final */
	ASSERT_VERDICT(tcp_eval("PA", 2, 0, 4), 0, 0, "");
	ASSERT_VERDICT(tcp_eval("PANG", 4, 0, 4), -1, CHK_ST_L7RSP, "TCPCHK did not match content 'PONG' at step 6");
	ASSERT_VERDICT(tcp_eval("PONG", 4, 0, 4), 1, 0, "");
	ASSERT_VERDICT(tcp_eval("O", 1, 0, 5), 0, 0, "");
	ASSERT_VERDICT(tcp_eval("OK", 2, 0, 5), 1, 0, "");
	ASSERT_VERDICT(tcp_eval("ERR", 3, 0, 5), -1, CHK_ST_L7RSP, "TCPCHK matched unwanted content 'ERR' at step 7");
}

static void test_tcp_eval_predefined(void **state)
{
	char greeting[64] = "\x4a\x00\x00\x00\x0a" "8.0.33";
	char error[64] = "\x13\x00\x00\x00\xff\x6a\x04" "Host not allowed";

	load("backend be\n  option mysql-check\n  server s1 127.0.0.1:80 check\n");
	ASSERT_VERDICT(tcp_eval(greeting, 4, 0, 0), 0, 0, "");
	ASSERT_VERDICT(tcp_eval(greeting, 11, 0, 0), 1, 0, "");
	/* an error packet is final as soon as its first byte is in */
	ASSERT_VERDICT(tcp_eval(error, 23, 0, 0), -1, CHK_ST_L7RSP, "TCPCHK did not match content (binary) at step 1");

	load("backend be\n  option ssl-hello-chk\n  server s1 127.0.0.1:80 check\n");
	ASSERT_VERDICT(tcp_eval("\x16\x03\x03\x00\x10", 5, 0, 0), 1, 0, "");
	ASSERT_VERDICT(tcp_eval("\x15\x03\x03\x00\x02\x02\x28", 7, 0, 0), 1, 0, "");   /* an alert */
	ASSERT_VERDICT(tcp_eval("HTTP/1.1 400", 12, 0, 0), -1, CHK_ST_L6RSP, "");
	ASSERT_VERDICT(tcp_eval("", 0, 0, 0), 0, 0, "");
	ASSERT_VERDICT(tcp_eval("", 0, 1, 0), -1, CHK_ST_L6RSP, "");

	load("backend be\n  option redis-check\n  server s1 127.0.0.1:80 check\n");
	ASSERT_VERDICT(tcp_eval("+PONG\r\n", 7, 0, 0), 1, 0, "");
	ASSERT_VERDICT(tcp_eval("-ERR x\r\n", 8, 1, 0), -1, CHK_ST_L7RSP, "TCPCHK did not match content '+PONG' at step 2");

	load("backend be\n  option smtpchk\n  server s1 127.0.0.1:80 check\n");
	ASSERT_VERDICT(tcp_eval("220 ready\r\n", 11, 0, 0), 1, 0, "");
	ASSERT_VERDICT(tcp_eval("554 go away\r\n", 13, 1, 0), -1, CHK_ST_L7RSP,
	               "TCPCHK did not match content (regex) at step 1");
}

/* ------------------------------------------------------------ the health counter */

static struct ev_loop *loop;

/* Loads <cfg> and gives the checks a clock (the timers are never run). */
static struct server *counter_setup(const char *cfg)
{
	load(cfg);
	if (!loop)
		loop = ev_loop_new(EVFLAG_AUTO);
	checks_start(loop);
	return srv_get(be_get("be"), "s1");
}

/* Feeds one result; returns the messages it printed. */
static const char *feed(struct server *srv, enum chk_status st, int code, const char *info)
{
	struct check *c = &srv->check;

	out[0] = 0;
	c->status = st;
	c->code = code;
	c->duration = 3;
	snprintf(c->info, sizeof(c->info), "%s", info ? info : "");
	chk_apply_result(c);
	return out;
}

static void test_counter_fall_and_rise(void **state)
{
	struct server *s1 = counter_setup("backend be\n  option log-health-checks\n"
	                                  "  server s1 127.0.0.1:80 check rise 2 fall 3\n"
	                                  "  server s2 127.0.0.1:81\n");
	struct proxy *be = s1->be;
	char buf[32];

	assert_int_equal(s1->check.health, 2);
	assert_int_equal(be->srv_act, 2);
	assert_string_equal(feed(s1, CHK_ST_L4OK, 0, NULL),
	                    "Health check for server be/s1 succeeded, reason: Layer4 check passed, check duration: 3ms, "
	                    "status: 3/3 UP.\n");
	assert_int_equal(s1->check.health, 4);
	/* the same result again changes nothing: not logged */
	assert_string_equal(feed(s1, CHK_ST_L4OK, 0, NULL), "");
	assert_string_equal(feed(s1, CHK_ST_L4CON, 0, "Connection refused"),
	                    "Health check for server be/s1 failed, reason: Layer4 connection problem, info: "
	                    "\"Connection refused\", check duration: 3ms, status: 2/3 UP.\n");
	assert_string_equal(srv_status_text(s1, buf, sizeof(buf)), "UP 2/3");
	assert_string_equal(feed(s1, CHK_ST_L4CON, 0, "Connection refused"),
	                    "Health check for server be/s1 failed, reason: Layer4 connection problem, info: "
	                    "\"Connection refused\", check duration: 3ms, status: 1/3 UP.\n");
	assert_int_equal(s1->state, SRV_ST_RUNNING);
	assert_int_equal(s1->chk_fail, 2);
	assert_string_equal(feed(s1, CHK_ST_L4TOUT, 0, NULL),
	                    "Health check for server be/s1 failed, reason: Layer4 timeout, check duration: 3ms, "
	                    "status: 0/2 DOWN.\n"
	                    "Server be/s1 is DOWN. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, "
	                    "0 remaining in queue.\n");
	assert_int_equal(s1->state, SRV_ST_STOPPED);
	assert_int_equal(s1->chk_down, 1);
	assert_int_equal(be->srv_act, 1);
	assert_string_equal(srv_status_text(s1, buf, sizeof(buf)), "DOWN");
	/* failing while down: only a change of status is logged */
	assert_string_equal(feed(s1, CHK_ST_L4TOUT, 0, NULL), "");
	assert_int_equal(s1->chk_fail, 3);   /* counted while up only */
	assert_string_equal(feed(s1, CHK_ST_L7OK, 200, NULL),
	                    "Health check for server be/s1 succeeded, reason: Layer7 check passed, code: 200, check "
	                    "duration: 3ms, status: 1/2 DOWN.\n");
	assert_string_equal(srv_status_text(s1, buf, sizeof(buf)), "DOWN 1/2");
	assert_string_equal(feed(s1, CHK_ST_L7OK, 200, NULL),
	                    "Health check for server be/s1 succeeded, reason: Layer7 check passed, code: 200, check "
	                    "duration: 3ms, status: 3/3 UP.\n"
	                    "Server be/s1 is UP. 2 active and 0 backup servers online. 0 sessions requeued, "
	                    "0 total in queue.\n");
	assert_int_equal(s1->state, SRV_ST_RUNNING);
	assert_int_equal(s1->check.health, 4);
	assert_int_equal(be->srv_act, 2);
}

/* without option log-health-checks, the state changes carry the reason */
static void test_counter_messages_with_reason(void **state)
{
	struct server *s1 = counter_setup("backend be\n  server s1 127.0.0.1:80 check rise 1 fall 1\n"
	                                  "  server b1 127.0.0.1:81 backup\n");
	assert_string_equal(feed(s1, CHK_ST_L7STS, 503, "Service Unavailable"),
	                    "Server be/s1 is DOWN, reason: Layer7 wrong status, code: 503, info: \"Service "
	                    "Unavailable\", check duration: 3ms. 0 active and 1 backup servers left. Running on backup. "
	                    "0 sessions active, 0 requeued, 0 remaining in queue.\n");
	assert_string_equal(feed(s1, CHK_ST_L7OK, 200, NULL),
	                    "Server be/s1 is UP, reason: Layer7 check passed, code: 200, check duration: 3ms. 1 active "
	                    "and 1 backup servers online. 0 sessions requeued, 0 total in queue.\n");
	/* a failed body match carries no code */
	assert_string_equal(feed(s1, CHK_ST_L7RSP, 200, "HTTP content check did not match"),
	                    "Server be/s1 is DOWN, reason: Layer7 invalid response, info: \"HTTP content check did "
	                    "not match\", check duration: 3ms. 0 active and 1 backup servers left. Running on backup. "
	                    "0 sessions active, 0 requeued, 0 remaining in queue.\n");
}

static void test_counter_backup_and_last_server(void **state)
{
	struct server *s1 = counter_setup("backend be\n  option log-health-checks\n"
	                                  "  server s1 127.0.0.1:80 check rise 1 fall 1 backup\n");
	assert_string_equal(feed(s1, CHK_ST_L6RSP, 0, NULL),
	                    "Health check for backup server be/s1 failed, reason: Layer6 invalid response, check "
	                    "duration: 3ms, status: 0/1 DOWN.\n"
	                    "Backup Server be/s1 is DOWN. 0 active and 0 backup servers left. 0 sessions active, "
	                    "0 requeued, 0 remaining in queue.\n"
	                    "backend 'be' has no server available!\n");
	assert_int_equal(s1->be->chk_down, 1);
	assert_string_equal(feed(s1, CHK_ST_L6OK, 0, NULL),
	                    "Health check for backup server be/s1 succeeded, reason: Layer6 check passed, check "
	                    "duration: 3ms, status: 1/1 UP.\n"
	                    "Backup Server be/s1 is UP. 0 active and 1 backup servers online. Running on backup. "
	                    "0 sessions requeued, 0 total in queue.\n");
}

static void test_counter_nolb(void **state)
{
	struct server *s1 = counter_setup("backend be\n  option httpchk\n  http-check disable-on-404\n"
	                                  "  server s1 127.0.0.1:80 check rise 2 fall 2\n");
	char buf[32];

	/* from the start (UP 1/2), a 404 goes to NOLB: the last server */
	assert_string_equal(feed(s1, CHK_ST_L7OKC, 404, NULL),
	                    "Server be/s1 is stopping, reason: Layer7 check conditionally passed, code: 404, check "
	                    "duration: 3ms. 0 active and 0 backup servers online. 0 sessions requeued, 0 total in "
	                    "queue.\n"
	                    "backend 'be' has no server available!\n");
	assert_int_equal(s1->state, SRV_ST_STOPPING);
	assert_string_equal(srv_status_text(s1, buf, sizeof(buf)), "NOLB");
	assert_string_equal(feed(s1, CHK_ST_L7OKC, 404, NULL), "");
	assert_string_equal(feed(s1, CHK_ST_L7OK, 200, NULL),
	                    "Server be/s1 is UP, reason: Layer7 check passed, code: 200, check duration: 3ms. 1 active "
	                    "and 0 backup servers online. 0 sessions requeued, 0 total in queue.\n");
	assert_int_equal(s1->state, SRV_ST_RUNNING);
	/* NOLB then DOWN: one alert, when the backend emptied */
	feed(s1, CHK_ST_L7OKC, 404, NULL);
	assert_string_equal(feed(s1, CHK_ST_L7STS, 500, "Oops"), "");
	assert_string_equal(srv_status_text(s1, buf, sizeof(buf)), "NOLB 1/2");
	assert_string_equal(feed(s1, CHK_ST_L7STS, 500, "Oops"),
	                    "Server be/s1 is DOWN, reason: Layer7 wrong status, code: 500, info: \"Oops\", check "
	                    "duration: 3ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, "
	                    "0 remaining in queue.\n");
	assert_int_equal(s1->state, SRV_ST_STOPPED);
}

static void test_counter_log_conditionally(void **state)
{
	struct server *s1 = counter_setup("backend be\n  option httpchk\n  http-check disable-on-404\n"
	                                  "  option log-health-checks\n  server s1 127.0.0.1:80 check\n"
	                                  "  server s2 127.0.0.1:81\n");
	assert_string_equal(feed(s1, CHK_ST_L7OKC, 404, NULL),
	                    "Health check for server be/s1 conditionally succeeded, reason: Layer7 check conditionally "
	                    "passed, code: 404, check duration: 3ms, status: 3/3 UP.\n"
	                    "Server be/s1 is stopping. 1 active and 0 backup servers online. 0 sessions requeued, "
	                    "0 total in queue.\n");
}

static int group_teardown(void **state)
{
	reset_state();
	diag_capture(NULL, 0);
	if (loop)
		ev_loop_destroy(loop);
	return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_status_table),
		T(test_srv_status_text),
		T(test_srv_status_text_nolb_wins),
		T(test_server_options),
		T(test_server_option_errors),
		T(test_httpchk_request),
		T(test_http_check_errors),
		T(test_tcp_check_programs),
		T(test_tcp_check_errors),
		T(test_http_eval),
		T(test_http_eval_disable_on_404),
		T(test_tcp_eval),
		T(test_tcp_eval_predefined),
		T(test_counter_fall_and_rise),
		T(test_counter_messages_with_reason),
		T(test_counter_backup_and_last_server),
		T(test_counter_nolb),
		T(test_counter_log_conditionally),
	};

	return cmocka_run_group_tests(tests, NULL, group_teardown);
}
