/* Unit tests for the section parser and the keyword parsers (src/cfg_*.c,
 * src/rules.c, src/http_reply.c): every message they print, checked word
 * for word, and the structures a valid configuration produces.
 *
 * Each case parses a small configuration named "t" and compares the whole
 * captured output, so a missing, extra or reworded message fails.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <cmocka.h>

#include <proxyd/cfg.h>
#include <proxyd/diag.h>
#include <proxyd/global.h>
#include <proxyd/http_reply.h>
#include <proxyd/lb.h>
#include <proxyd/listener.h>
#include <proxyd/proxy.h>
#include <proxyd/rules.h>
#include <proxyd/server.h>

#define CFG_FX_OUT_SIZE (1 << 17)
#include "cfg_fixture.h"

/* every registered algorithm, in link order */
#define LB_LIST "source, uri, url_param, hdr, random, leastconn, first, roundrobin, static-rr"

static char tmpdir[64];

/* Files the errorfile / return cases read. */
static const struct { const char *name; const char *data; } files[] = {
	{ "ok.http", "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\nContent-Length: 4\r\n\r\nbusy" },
	{ "lf.http", "HTTP/1.0 403 Forbidden\n\nno" },
	{ "nothttp.http", "hello there\n\n" },
	{ "nohead.http", "HTTP/1.1 503 Busy\r\nfoo" },
	{ "short.http", "HTTP/1.1 5" },
	{ "body.txt", "a body\n" },
};

static void path_of(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", tmpdir, name);
}

static void write_file(const char *name, const char *data, size_t len)
{
	char path[256];
	FILE *f;

	path_of(path, sizeof(path), name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		fail_msg("cannot write %s", path);
}

static int group_setup(void **state)
{
	char big[9000];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/proxyd-cfgtest-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		write_file(files[i].name, files[i].data, strlen(files[i].data));
	memset(big, 'x', sizeof(big));
	memcpy(big, "HTTP/1.1 503 Busy\r\n\r\n", 21);
	write_file("big.http", big, sizeof(big));
	return 0;
}

static int group_teardown(void **state)
{
	char path[256];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		path_of(path, sizeof(path), files[i].name);
		unlink(path);
	}
	path_of(path, sizeof(path), "big.http");
	unlink(path);
	rmdir(tmpdir);
	return 0;
}

/* Parses <text> as a configuration named "t"; messages land in out[]. */
static int post(void)
{
	out[0] = 0;
	return cfg_post_parse();
}

/* Same with a formatted configuration and expected text (file paths). */
static void PRINTF(3, 4) check_fmt(int err_exp, const char *exp, const char *fmt, ...)
{
	char cfg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cfg, sizeof(cfg), fmt, ap);
	va_end(ap);
	reset_state();
	int err = parse(cfg);
	if (strcmp(out, exp) != 0)
		fail_msg("configuration:\n%s\nexpected:\n%s\ngot:\n%s", cfg, exp, out);
	if (err != err_exp)
		fail_msg("configuration:\n%s\nerror bits %#x, expected %#x", cfg, err, err_exp);
}

static struct proxy *px_get(const char *name, unsigned cap)
{
	struct proxy *px = proxy_find(name, cap);

	if (!px)
		fail_msg("no proxy '%s' with capability %#x", name, cap);
	return px;
}

static int list_count(const struct list *l)
{
	int n = 0;

	for (const struct list *e = l->next; e != l; e = e->next)
		n++;
	return n;
}

/* ------------------------------------------------------------ dispatcher */

static void test_unknown_keywords(void **state)
{
	static const struct mcase cases[] = {
		{ "global\n  maxcon 10\n", ALERT,
		  L(2, "unknown keyword 'maxcon' in 'global' section; did you mean 'maxconn' maybe ?") },
		{ "global\n  tune.bufsiz 16k\n", ALERT,
		  L(2, "unknown keyword 'tune.bufsiz' in 'global' section; did you mean 'tune.bufsize' maybe ?") },
		{ "global\n  frobnicate\n", ALERT, L(2, "unknown keyword 'frobnicate' in 'global' section") },
		{ "frontend fe\n  timout client 5s\n", ALERT,
		  L(2, "unknown keyword 'timout' in 'frontend' section; did you mean 'timeout' maybe ?") },
		{ "backend be\n  servr s1 1.2.3.4:80\n", ALERT,
		  L(2, "unknown keyword 'servr' in 'backend' section; did you mean 'server' maybe ?") },
		{ "listen li\n  bnd :80\n", ALERT,
		  L(2, "unknown keyword 'bnd' in 'listen' section; did you mean 'bind' maybe ?") },
		{ "defaults\n  frobnicate\n", ALERT, L(2, "unknown keyword 'frobnicate' in 'defaults' section") },
		/* short names need a closer match to be suggested */
		{ "frontend fe\n  md http\n", ALERT, L(2, "unknown keyword 'md' in 'frontend' section") },
		/* the suggestion is only taken among keywords of the section */
		{ "backend be\n  bnd :80\n", ALERT, L(2, "unknown keyword 'bnd' in 'backend' section") },
		/* "no" alone is not a prefix */
		{ "global\n  no\n", ALERT, L(2, "unknown keyword 'no' in 'global' section") },
		{ "maxconn 10\n", ALERT,
		  L(1, "unknown keyword 'maxconn' out of section (a file must start with a section such as "
		       "'global', 'defaults', 'frontend', 'backend' or 'listen')") },
		/* each unknown line is reported, and parsing goes on */
		{ "global\n  foo\n  bar\n  maxconn 10\n  baz\n", ALERT,
		  L(2, "unknown keyword 'foo' in 'global' section")
		  L(3, "unknown keyword 'bar' in 'global' section")
		  L(5, "unknown keyword 'baz' in 'global' section") },
	};

	RUN(cases);
}

static void test_wrong_section(void **state)
{
	static const struct mcase cases[] = {
		{ "frontend fe\n  nbthread 1\n", ALERT,
		  L(2, "'nbthread' is not allowed in 'frontend' section; it belongs in a 'global' section") },
		{ "defaults\n  tune.bufsize 16k\n", ALERT,
		  L(2, "'tune.bufsize' is not allowed in 'defaults' section; it belongs in a 'global' section") },
		{ "global\n  mode http\n", ALERT,
		  L(2, "'mode' is not allowed in 'global' section; it belongs in a 'defaults', 'frontend', "
		       "'backend' or 'listen' section") },
		{ "global\n  option httpclose\n", ALERT,
		  L(2, "'option' is not allowed in 'global' section; it belongs in a 'defaults', 'frontend', "
		       "'backend' or 'listen' section") },
		{ "global\n  server s1 1.2.3.4:80\n", ALERT,
		  L(2, "'server' is not allowed in 'global' section; it belongs in a 'backend' or 'listen' section") },
		/* keywords whose misuse is an error even between proxy sections */
		{ "frontend fe\n  server s1 1.2.3.4:80\n", ALERT,
		  L(2, "'server' is not allowed in 'frontend' section; it belongs in a 'backend' or 'listen' section") },
		{ "defaults\n  server s1 1.2.3.4:80\n", ALERT,
		  L(2, "'server' is not allowed in 'defaults' section; it belongs in a 'backend' or 'listen' section") },
		{ "backend be\n  bind :80\n", ALERT,
		  L(2, "'bind' is not allowed in 'backend' section; it belongs in a 'frontend' or 'listen' section") },
		{ "defaults\n  bind :80\n", ALERT,
		  L(2, "'bind' is not allowed in 'defaults' section; it belongs in a 'frontend' or 'listen' section") },
		{ "defaults\n  use_backend be\n", ALERT,
		  L(2, "'use_backend' is not allowed in 'defaults' section; it belongs in a 'frontend' or 'listen' "
		       "section") },
		{ "backend be\n  use_backend be\n", ALERT,
		  L(2, "'use_backend' is not allowed in 'backend' section; it belongs in a 'frontend' or 'listen' "
		       "section") },
	};

	RUN(cases);
}

/* A proxy keyword in a proxy without the capability: warned, ignored. */
static void test_capability_warnings(void **state)
{
	static const struct mcase cases[] = {
		{ "frontend fe\n  timeout server 5s\n", WARN,
		  L(2, "'timeout server' ignored because frontend 'fe' has no backend capability.") },
		{ "frontend fe\n  timeout connect 5s\n", WARN,
		  L(2, "'timeout connect' ignored because frontend 'fe' has no backend capability.") },
		{ "frontend fe\n  retries 2\n", WARN,
		  L(2, "'retries' ignored because frontend 'fe' has no backend capability.") },
		{ "frontend fe\n  http-reuse safe\n", WARN,
		  L(2, "'http-reuse' ignored because frontend 'fe' has no backend capability.") },
		{ "frontend fe\n  balance roundrobin\n", WARN,
		  L(2, "'balance' ignored because frontend 'fe' has no backend capability.") },
		{ "frontend fe\n  default-server weight 2\n", WARN,
		  L(2, "'default-server' ignored because frontend 'fe' has no backend capability.") },
		{ "backend be\n  timeout client 5s\n", WARN,
		  L(2, "'timeout client' ignored because backend 'be' has no frontend capability.") },
		{ "backend be\n  timeout client-fin 5s\n", WARN,
		  L(2, "'timeout client-fin' ignored because backend 'be' has no frontend capability.") },
		{ "backend be\n  default_backend other\n", WARN,
		  L(2, "'default_backend' ignored because backend 'be' has no frontend capability.") },
		/* options are named without "option", as HAProxy 2.6.12 does */
		{ "frontend fe\n  option allbackups\n", WARN,
		  L(2, "'allbackups' ignored because frontend 'fe' has no backend capability.") },
		{ "frontend fe\n  option redispatch\n", WARN,
		  L(2, "'redispatch' ignored because frontend 'fe' has no backend capability.") },
		{ "frontend fe\n  no option redispatch\n", WARN,
		  L(2, "'redispatch' ignored because frontend 'fe' has no backend capability.") },
		{ "frontend fe\n  hash-type consistent\n", WARN,
		  L(2, "'hash-type' ignored because frontend 'fe' has no backend capability.") },
	};

	RUN(cases);

	/* ignored means ignored */
	reset_state();
	assert_int_equal(parse("backend be\n  timeout client 5s\nfrontend fe\n  timeout server 5s\n"), WARN);
	assert_int_equal(px_get("be", PR_CAP_BE)->c.to[TO_CLIENT], 0);
	assert_int_equal(px_get("fe", PR_CAP_FE)->c.to[TO_SERVER], 0);
}

static void test_not_supported_yet(void **state)
{
	static const struct mcase cases[] = {
		/* global */
		{ "global\n  master-worker bogus\n", ALERT,
		  L(2, "'master-worker' only accepts 'no-exit-on-failure', not 'bogus'") },
		{ "global\n  set-dumpable\n", ALERT,
		  L(2, "'set-dumpable' is a valid HAProxy keyword but is not supported yet by proxyd") },
		{ "global\n  nbproc 2\n", ALERT,
		  L(2, "'nbproc' is a valid HAProxy keyword but is not supported yet by proxyd; removed from "
		       "HAProxy 2.5 too; use nbthread") },
		{ "global\n  stats bind-process 1\n", ALERT,
		  L(2, "'stats' is a valid HAProxy keyword but is not supported yet by proxyd") },
		/* proxies */
		{ "frontend fe\n  tcp-request content accept\n", ALERT,
		  L(2, "'tcp-request' is a valid HAProxy keyword but is not supported yet by proxyd") },
		{ "listen li\n  stats http-request deny\n", ALERT,
		  L(2, "'stats http-request' is a valid HAProxy keyword but is not supported yet by proxyd") },
		{ "listen li\n  stats socket /x\n", ALERT,
		  L(2, "'stats socket' is not allowed in 'listen' section; it belongs in a 'global' section") },
		{ "listen li\n  stats uri stats\n", ALERT,
		  L(2, "'stats uri stats': the URI must start with '/' (e.g. 'stats uri /stats')") },
		{ "listen li\n  stats auth admin\n", ALERT,
		  L(2, "'stats auth' expects <user>:<password> (got 'admin')") },
		{ "listen li\n  stats admin TRUE\n", ALERT,
		  L(2, "'stats admin' requires a condition: 'stats admin if <cond>' (e.g. 'stats admin if TRUE' or "
		       "'stats admin if LOCALHOST')") },
		{ "listen li\n  stats bogus\n", ALERT,
		  L(2, "'stats' expects 'enable', 'uri', 'realm', 'auth', 'refresh', 'hide-version', 'show-node', "
		       "'show-desc', 'show-legends', 'admin' or 'scope' (got 'bogus')") },
		{ "backend be\n  compression algo gzip\n", ALERT,
		  L(2, "'compression' is a valid HAProxy keyword but is not supported yet by proxyd") },
		{ "defaults\n  errorloc 503 /x\n", ALERT,
		  L(2, "'errorloc' is a valid HAProxy keyword but is not supported yet by proxyd") },
		/* options */
		{ "backend be\n  option pgsql-check user x\n", ALERT,
		  L(2, "'option pgsql-check' is a valid HAProxy keyword but is not supported yet by proxyd") },
		{ "backend be\n  option checkcache\n", ALERT,
		  L(2, "'option checkcache' is a valid HAProxy keyword but is not supported yet by proxyd") },
		{ "frontend fe\n  option http-ignore-probes\n", ALERT,
		  L(2, "'option http-ignore-probes' is a valid HAProxy keyword but is not supported yet by proxyd") },
		/* even with the "no" prefix */
		{ "defaults\n  no option tcpka\n", ALERT,
		  L(2, "'option tcpka' is a valid HAProxy keyword but is not supported yet by proxyd") },
		/* server and bind options */
		{ "backend be\n  server s1 127.0.0.1:80 check-alpn h2\n", ALERT,
		  L(2, "'server be/s1' : 'check-alpn' is a valid HAProxy server option but is not supported yet by proxyd") },
		{ "backend be\n  default-server slowstart 2s\n", ALERT,
		  L(2, "'default-server' : 'slowstart' is a valid HAProxy server option but is not supported yet by proxyd") },
		{ "frontend fe\n  bind :80 ssl crt /x.pem npn h2\n", ALERT,
		  L(2, "'bind :80' : 'crt /x.pem' : cannot open '/x.pem': No such file or directory")
		  L(2, "'bind :80' : 'npn' is a valid HAProxy bind option but is not supported yet by proxyd") },
		/* actions */
		{ "frontend fe\n  http-request tarpit\n", ALERT,
		  L(2, "'http-request tarpit' is a valid HAProxy action but is not supported yet by proxyd") },
		{ "backend be\n  http-response track-sc0 src\n", ALERT,
		  L(2, "'http-response track-sc0' is a valid HAProxy action but is not supported yet by proxyd") },
		{ "frontend fe\n  http-request return errorfiles x\n", ALERT,
		  L(2, "'http-request return errorfiles' is not supported yet by proxyd (http-errors sections are not "
		       "either)") },
		/* balance */
		{ "backend be\n  balance rdp-cookie\n", ALERT,
		  L(2, "'balance rdp-cookie' is not supported yet by proxyd (available: " LB_LIST ")") },
		/* conditions */
		{ "frontend fe\n  use_backend be if is_api\n", ALERT, L(2, "no such ACL : 'is_api'") },
		{ "listen li\n  use_backend be unless is_api\n", ALERT, L(2, "no such ACL : 'is_api'") },
		/* mode health */
		{ "listen li\n  mode health\n", ALERT,
		  L(2, "'mode health' was removed from HAProxy 2.4 and is not supported; use 'http-request return "
		       "status 200' or 'monitor-uri'") },
		/* cpu-map */
		{ "global\n  cpu-map 1/1 x\n", ALERT,
		  L(2, "'cpu-map': invalid CPU set 'x' (expected e.g. '0', '0-3' or '0,2')") },
		{ "global\n  cpu-map 1/0 1\n", ALERT,
		  L(2, "'cpu-map': invalid thread set '0' (expected e.g. '1', '1-4' or 'all')") },
	};

	RUN(cases);
}

static void test_argument_counts(void **state)
{
	static const struct mcase cases[] = {
		{ "frontend fe\n  mode\n", ALERT, L(2, "'mode' expects 'http' or 'tcp' (none given)") },
		{ "frontend fe\n  mode http tcp\n", ALERT,
		  L(2, "'mode' takes at most 1 argument: 'http' or 'tcp' (unexpected 'tcp')") },
		{ "global\n  maxconn\n", ALERT, L(2, "'maxconn' expects <number> (none given)") },
		{ "global\n  maxconn 1 2\n", ALERT, L(2, "'maxconn' takes at most 1 argument: <number> (unexpected '2')") },
		{ "frontend fe\n  timeout\n", ALERT, L(2, "'timeout' expects <name> <time> (none given)") },
		{ "frontend fe\n  timeout client\n", ALERT, L(2, "'timeout client' expects <time> (none given)") },
		{ "frontend fe\n  timeout client 1s 2s\n", ALERT,
		  L(2, "'timeout client' takes at most 1 argument: <time> (unexpected '2s')") },
		{ "frontend fe\n  errorfile 503\n", ALERT, L(2, "'errorfile' expects <code> <file>") },
		{ "frontend fe\n  errorfile 503 a b\n", ALERT,
		  L(2, "'errorfile' takes at most 2 arguments: <code> <file> (unexpected 'b')") },
		{ "frontend fe\n  option\n", ALERT, L(2, "'option' expects <option name> (none given)") },
		{ "frontend fe\n  option tcplog x\n", ALERT, L(2, "'option tcplog' takes no argument (got 'x')") },
		{ "frontend fe\n  option httplog clf x\n", ALERT,
		  L(2, "'option httplog' takes at most 1 argument: [clf] (unexpected 'x')") },
		{ "frontend fe\n  option httpclose now\n", ALERT,
		  L(2, "'option httpclose' takes no argument (got 'now')") },
		{ "frontend fe\n  option forwardfor except 1.0.0.0/8 header X if-none if-none\n", ALERT,
		  L(2, "'option forwardfor' takes at most 5 arguments: [except <network>] [header <name>] [if-none] "
		       "(unexpected 'if-none')") },
		{ "frontend fe\n  bind\n", ALERT, L(2, "'bind' expects <address>:<port>[,...] [options...] (none given)") },
		{ "backend be\n  server\n", ALERT,
		  L(2, "'server' expects <name> <address>[:<port>] [options...] (none given)") },
		{ "backend be\n  server s1\n", ALERT, L(2, "'server' expects <name> <address>[:<port>] [options...]") },
		{ "frontend fe\n  default_backend\n", ALERT, L(2, "'default_backend' expects <backend name> (none given)") },
		{ "frontend fe\n  default_backend a b\n", ALERT,
		  L(2, "'default_backend' takes at most 1 argument: <backend name> (unexpected 'b')") },
		{ "frontend fe\n  use_backend\n", ALERT,
		  L(2, "'use_backend' expects <backend name> [if|unless <condition>] (none given)") },
		{ "frontend fe\n  http-request\n", ALERT,
		  L(2, "'http-request' expects <action> [options...] [if|unless <condition>] (none given)") },
		{ "backend be\n  balance\n", ALERT, L(2, "'balance' expects <algorithm> [<arguments>] (none given)") },
		{ "backend be\n  balance roundrobin x\n", ALERT, L(2, "'balance roundrobin' takes no argument (got 'x')") },
		{ "global\n  log\n", ALERT,
		  L(2, "'log' expects 'global' or a target and a facility (e.g. 'log 127.0.0.1:514 local0')") },
		{ "backend be\n  http-reuse\n", ALERT,
		  L(2, "'http-reuse' expects 'never', 'safe', 'aggressive' or 'always' (none given)") },
		{ "global\n  global x\n", ALERT, L(2, "'global' takes no argument") },
	};

	RUN(cases);
}

static void test_numbers(void **state)
{
	static const struct mcase cases[] = {
		/* integers */
		{ "global\n  maxconn abc\n", ALERT, L(2, "'maxconn' expects an integer argument (got 'abc')") },
		{ "global\n  maxconn 10k\n", ALERT, L(2, "'maxconn' expects an integer argument (got '10k')") },
		{ "global\n  maxconn 0\n", ALERT, L(2, "'maxconn' expects an integer between 1 and 1000000 (got '0')") },
		{ "global\n  maxconn 1000001\n", ALERT,
		  L(2, "'maxconn' expects an integer between 1 and 1000000 (got '1000001')") },
		{ "global\n  maxconn 99999999999999999999999\n", ALERT,
		  L(2, "'maxconn' expects an integer between 1 and 1000000 (got '99999999999999999999999')") },
		{ "global\n  maxconn -5\n", ALERT, L(2, "'maxconn' expects an integer between 1 and 1000000 (got '-5')") },
		{ "global\n  nbthread 0\n", ALERT, L(2, "'nbthread' expects an integer between 1 and 64 (got '0')") },
		{ "global\n  tune.http.maxhdr 40000\n", ALERT,
		  L(2, "'tune.http.maxhdr' expects an integer between 1 and 32767 (got '40000')") },
		{ "global\n  tune.maxaccept -2\n", ALERT,
		  L(2, "'tune.maxaccept' expects an integer between -1 and 1048576 (got '-2')") },
		{ "frontend fe\n  maxconn x\n", ALERT, L(2, "'maxconn' expects an integer argument (got 'x')") },
		{ "backend be\n  retries -1\n", ALERT, L(2, "'retries' expects an integer between 0 and 1000 (got '-1')") },
		/* times */
		{ "defaults\n  timeout client 30d\n", ALERT,
		  L(2, "timer overflow in argument '30d' to 'timeout client' (maximum value is 2147483647 ms or "
		       "~24.8 days)") },
		{ "defaults\n  timeout server 2147483648\n", ALERT,
		  L(2, "timer overflow in argument '2147483648' to 'timeout server' (maximum value is 2147483647 ms "
		       "or ~24.8 days)") },
		{ "defaults\n  timeout connect abc\n", ALERT, L(2, "unexpected character 'a' in 'timeout connect'") },
		{ "defaults\n  timeout connect 10x\n", ALERT, L(2, "unexpected character 'x' in 'timeout connect'") },
		{ "defaults\n  timeout queue -1\n", ALERT, L(2, "unexpected character '-' in 'timeout queue'") },
		/* an empty word counts when it is not the last one of the line */
		{ "defaults\n  timeout tunnel '' \n", ALERT,
		  L(2, "'timeout tunnel' expects an integer value (in milliseconds)") },
		/* sizes */
		{ "global\n  tune.bufsize 100\n", ALERT,
		  L(2, "'tune.bufsize' expects a size between 1024 and 268435456 (got '100')") },
		{ "global\n  tune.bufsize 1g\n", ALERT,
		  L(2, "'tune.bufsize' expects a size between 1024 and 268435456 (got '1g')") },
		{ "global\n  tune.bufsize 5g\n", ALERT,
		  L(2, "size overflow in argument '5g' to 'tune.bufsize' (maximum value is 4294967295)") },
		{ "global\n  tune.bufsize 99999999999\n", ALERT,
		  L(2, "size overflow in argument '99999999999' to 'tune.bufsize' (maximum value is 4294967295)") },
		{ "global\n  tune.bufsize 16q\n", ALERT, L(2, "unexpected character 'q' in argument of 'tune.bufsize'") },
		{ "global\n  tune.bufsize 16kb\n", ALERT, L(2, "unexpected character 'b' in argument of 'tune.bufsize'") },
		{ "global\n  tune.bufsize '' \n", ALERT, L(2, "'tune.bufsize' expects an integer argument.") },
		{ "global\n  tune.maxrewrite 2g\n", ALERT,
		  L(2, "'tune.maxrewrite' expects a size between 0 and 1073741824 (got '2g')") },
	};

	RUN(cases);
}

/* A unit followed by garbage is accepted with HAProxy's warning. */
static void test_time_trailing_garbage(void **state)
{
	reset_state();
	parse("frontend fe\n  timeout client 5sx\n");
	assert_non_null(strstr(out, "unexpected character 'x' after the timer value '5sx', only "
	                            "(us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are "
	                            "supported. This will be reported as an error in next versions.\n"));
	/* one message, and the value is taken */
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
	assert_int_equal(px_get("fe", 0)->c.to[TO_CLIENT], 5000);
}

static void test_global_values(void **state)
{
	reset_state();
	assert_int_equal(parse("global\n  maxconn 5000\n  nbthread 1\n  tune.bufsize 32k\n  tune.maxrewrite 2k\n"
	                       "  tune.http.maxhdr 200\n  tune.maxaccept -1\n"), 0);
	assert_string_equal(out, "");
	assert_int_equal(global.maxconn, 5000);
	assert_int_equal(global.nbthread, 1);
	assert_int_equal(global.bufsize, 32768);
	assert_int_equal(global.maxrewrite, 2048);
	assert_int_equal(global.max_http_hdr, 200);
	assert_int_equal(global.maxaccept, -1);

	/* what post-parse computes for what was not set */
	reset_state();
	assert_int_equal(parse("global\n  tune.bufsize 1536\n"), 0);
	post();
	assert_int_equal(global.bufsize, 1536);
	assert_int_equal(global.maxrewrite, 768);   /* at most half the buffer */
	assert_int_equal(global.max_http_hdr, 101);
	assert_int_equal(global.nbthread, 1);
	assert_int_equal(global.maxaccept, 64);
	assert_true(global.maxconn >= 100 && global.maxconn <= 100000);
}

static void test_prefixes(void **state)
{
	static const struct mcase cases[] = {
		{ "frontend fe\n  no mode http\n", ALERT, L(2, "'mode' cannot be prefixed with 'no'") },
		{ "backend be\n  default timeout server 1s\n", ALERT,
		  L(2, "'timeout server' cannot be prefixed with 'default'") },
		{ "global\n  no maxconn 10\n", ALERT, L(2, "'maxconn' cannot be prefixed with 'no'") },
		{ "backend be\n  no server s1 1.2.3.4:80\n", ALERT, L(2, "'server' cannot be prefixed with 'no'") },
		{ "frontend fe\n  no bind :80\n", ALERT, L(2, "'bind' cannot be prefixed with 'no'") },
		{ "frontend fe\n  default errorfile 503 /x\n", ALERT, L(2, "'errorfile' cannot be prefixed with 'default'") },
		/* the prefix is checked after the section */
		{ "global\n  no option httpclose\n", ALERT,
		  L(2, "'option' is not allowed in 'global' section; it belongs in a 'defaults', 'frontend', "
		       "'backend' or 'listen' section") },
		/* accepted where the keyword allows it */
		{ "frontend fe\n  no option httpclose\n  no option forwardfor\n", 0, "" },
	};

	RUN(cases);
}

static void test_log_keywords(void **state)
{
	static const struct mcase cases[] = {
		{ "global\n  log stdout format raw local0\n  log 127.0.0.1:514 len 2048 local1 notice err\n"
		  "  log /dev/log daemon\n  log udp@[::1]:514 format rfc5424 local7\n  log-tag app\n"
		  "  log-send-hostname web1\n", 0, "" },
		{ "defaults\n  log global\n  option httplog\n  option dontlognull\n  no log\n", 0, "" },
		{ "global\n  log 127.0.0.1 local9\n", ALERT,
		  L(2, "'log 127.0.0.1': unknown facility 'local9' (expected kern, user, mail, daemon, auth, syslog, "
		       "lpr, news, uucp, cron, auth2, ftp, ntp, audit, alert, cron2 or local0 to local7)") },
		{ "global\n  log 127.0.0.1 local0 loud\n", ALERT,
		  L(2, "'log 127.0.0.1': unknown level 'loud' (expected emerg, alert, crit, err, warning, notice, "
		       "info or debug)") },
		{ "global\n  log stdout format json local0\n", ALERT,
		  L(2, "'log stdout format json': unknown format (expected rfc3164, rfc5424, short, priority, timed, "
		       "iso or raw)") },
		{ "global\n  log stdout\n", ALERT,
		  L(2, "'log stdout': missing the facility (e.g. 'log stdout local0')") },
		{ "global\n  log global\n", ALERT,
		  L(2, "'log global' is for proxies: the global section declares the targets themselves") },
		{ "global\n  log ring@buf local0\n", ALERT,
		  L(2, "'log ring@buf': rings and other fd@ targets are valid in HAProxy but not supported yet by "
		       "proxyd (use stdout, stderr, a unix socket or a UDP address)") },
		{ "frontend fe\n  log-format %[nope]\n", ALERT,
		  L(2, "'log-format': failed to parse sample expression in '%[nope]': unknown fetch method 'nope'") },
		{ "frontend fe\n  log-format a b\n", ALERT,
		  L(2, "'log-format' expects one argument: put the format in double quotes (it has 2 words here)") },
		{ "frontend fe\n  capture request header Host\n", ALERT,
		  L(2, "'capture' expects request header <name> len <n> | response header <name> len <n> | cookie "
		       "<name> len <n>") },
		{ "frontend fe\n  capture request header Host size 10\n", ALERT,
		  L(2, "'capture' expects 'request header <name> len <length>', 'response header <name> len "
		       "<length>' or 'cookie <name> len <length>'") },
		{ "defaults\n  capture cookie SRV len 10\n", ALERT,
		  L(2, "'capture' is not allowed in a defaults section (declare it in the frontend)") },
	};

	RUN(cases);
}

/* ------------------------------------------------------------ options */

static void test_options(void **state)
{
	static const struct mcase cases[] = {
		{ "frontend fe\n  option httpclos\n", ALERT,
		  L(2, "unknown option 'httpclos'; did you mean 'httpclose' maybe ?") },
		{ "frontend fe\n  option http-keep-aliv\n", ALERT,
		  L(2, "unknown option 'http-keep-aliv'; did you mean 'http-keep-alive' maybe ?") },
		{ "frontend fe\n  option forwardfo\n", ALERT,
		  L(2, "unknown option 'forwardfo'; did you mean 'forwardfor' maybe ?") },
		{ "backend be\n  option frobnicate\n", ALERT, L(2, "unknown option 'frobnicate'") },
		/* forwardfor */
		{ "frontend fe\n  option forwardfor except\n", ALERT,
		  L(2, "'option forwardfor except' expects a network (e.g. 127.0.0.0/8)") },
		{ "frontend fe\n  option forwardfor except 1.2.3\n", ALERT,
		  L(2, "'option forwardfor except': invalid network '1.2.3' (expected ADDR[/MASK])") },
		{ "frontend fe\n  option forwardfor except 10.0.0.0/33\n", ALERT,
		  L(2, "'option forwardfor except': invalid network '10.0.0.0/33' (expected ADDR[/MASK])") },
		{ "frontend fe\n  option forwardfor except 10.0.0.0/\n", ALERT,
		  L(2, "'option forwardfor except': invalid network '10.0.0.0/' (expected ADDR[/MASK])") },
		{ "frontend fe\n  option forwardfor header\n", ALERT,
		  L(2, "'option forwardfor header' expects a header name") },
		{ "frontend fe\n  option forwardfor header '' \n", ALERT,
		  L(2, "'option forwardfor header' expects a header name") },
		{ "frontend fe\n  option forwardfor always\n", ALERT,
		  L(2, "'option forwardfor' only supports optional values 'except', 'header' and 'if-none' "
		       "(got 'always')") },
	};

	RUN(cases);
}

static void test_option_values(void **state)
{
	struct proxy *px;

	reset_state();
	assert_int_equal(parse("frontend a\n  option forwardfor except 10.1.2.3/8 header X-Real-IP if-none\n"
	                       "frontend b\n  option forwardfor\n"
	                       "frontend c\n  option forwardfor except ::1\n  no option forwardfor\n"
	                       "frontend d\n  option forwardfor except 192.168.0.0/255.255.0.0\n"
	                       "frontend e\n  option forwardfor if-none\n  option forwardfor\n"), 0);
	assert_string_equal(out, "");

	px = px_get("a", PR_CAP_FE);
	assert_int_equal(px->c.options & (PR_O_FWDFOR | PR_O_FWDFOR_IFNONE), PR_O_FWDFOR | PR_O_FWDFOR_IFNONE);
	assert_string_equal(px->c.fwdfor_hdr, "X-Real-IP");
	assert_int_equal(px->c.fwdfor_except.family, AF_INET);
	assert_memory_equal(px->c.fwdfor_except.addr, "\x0a\x00\x00\x00", 4);
	assert_memory_equal(px->c.fwdfor_except.mask, "\xff\x00\x00\x00", 4);

	px = px_get("b", PR_CAP_FE);
	assert_int_equal(px->c.options & (PR_O_FWDFOR | PR_O_FWDFOR_IFNONE), PR_O_FWDFOR);
	assert_string_equal(px->c.fwdfor_hdr, "X-Forwarded-For");
	assert_int_equal(px->c.fwdfor_except.family, 0);

	px = px_get("c", PR_CAP_FE);
	assert_int_equal(px->c.options & (PR_O_FWDFOR | PR_O_FWDFOR_IFNONE), 0);

	px = px_get("d", PR_CAP_FE);
	assert_memory_equal(px->c.fwdfor_except.addr, "\xc0\xa8\x00\x00", 4);
	assert_memory_equal(px->c.fwdfor_except.mask, "\xff\xff\x00\x00", 4);

	/* a second line starts over: if-none is gone */
	px = px_get("e", PR_CAP_FE);
	assert_int_equal(px->c.options & (PR_O_FWDFOR | PR_O_FWDFOR_IFNONE), PR_O_FWDFOR);

	/* connection modes exclude each other; "no" falls back to keep-alive;
	 * "default" takes the defaults section's */
	reset_state();
	assert_int_equal(parse("defaults\n  option http-server-close\n"
	                       "frontend a\n  option httpclose\n"
	                       "frontend b\n  no option http-server-close\n"
	                       "frontend c\n  no option httpclose\n"
	                       "frontend d\n  option httpclose\n  default option httpclose\n"
	                       "frontend e\n  option http-keep-alive\n"), 0);
	assert_int_equal(px_get("a", PR_CAP_FE)->c.options & PR_O_HTTP_MODE, PR_O_HTTP_CLO);
	assert_int_equal(px_get("b", PR_CAP_FE)->c.options & PR_O_HTTP_MODE, PR_O_HTTP_KAL);
	assert_int_equal(px_get("c", PR_CAP_FE)->c.options & PR_O_HTTP_MODE, PR_O_HTTP_SCL);
	assert_int_equal(px_get("d", PR_CAP_FE)->c.options & PR_O_HTTP_MODE, PR_O_HTTP_SCL);
	assert_int_equal(px_get("e", PR_CAP_FE)->c.options & PR_O_HTTP_MODE, PR_O_HTTP_KAL);
}

static void test_mode_reuse_timeout_balance(void **state)
{
	static const struct mcase cases[] = {
		{ "frontend fe\n  mode udp\n", ALERT, L(2, "unknown proxy mode 'udp' (expected 'http' or 'tcp')") },
		{ "frontend fe\n  mode HTTP\n", ALERT, L(2, "unknown proxy mode 'HTTP' (expected 'http' or 'tcp')") },
		{ "backend be\n  http-reuse sometimes\n", ALERT,
		  L(2, "'http-reuse' expects 'never', 'safe', 'aggressive' or 'always' (got 'sometimes')") },
		{ "backend be\n  timeout srever 5s\n", ALERT,
		  L(2, "'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', "
		       "'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' (got 'srever')") },
		{ "frontend fe\n  timeout foo\n", ALERT,
		  L(2, "'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', "
		       "'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' (got 'foo')") },
		{ "backend be\n  balance fastest\n", ALERT,
		  L(2, "unknown balance algorithm 'fastest' (available: " LB_LIST ")") },
	};
	static const char *const reuse[] = { "never", "safe", "aggressive", "always" };

	RUN(cases);

	reset_state();
	assert_int_equal(parse("defaults\n  mode http\nfrontend a\nfrontend b\n  mode tcp\n"
	                       "backend c\n  mode tcp\n  mode http\n"), 0);
	assert_int_equal(px_get("a", PR_CAP_FE)->c.mode, PR_MODE_HTTP);
	assert_int_equal(px_get("b", PR_CAP_FE)->c.mode, PR_MODE_TCP);
	assert_int_equal(px_get("c", PR_CAP_BE)->c.mode, PR_MODE_HTTP);

	for (int i = 0; i < 4; i++) {
		char cfg[64];
		reset_state();
		snprintf(cfg, sizeof(cfg), "backend be\n  http-reuse %s\n", reuse[i]);
		assert_int_equal(parse(cfg), 0);
		assert_int_equal(px_get("be", PR_CAP_BE)->c.reuse, (enum http_reuse)i);
	}

	reset_state();
	/* tarpit and check are stored but have no effect yet: a warning each */
	assert_int_equal(parse("defaults\n  timeout client 1s\n  timeout client-fin 2s\n  timeout http-request 3s\n"
	                       "  timeout http-keep-alive 4s\n  timeout tarpit 5s\n  timeout server 6s\n"
	                       "  timeout server-fin 7s\n  timeout connect 8s\n  timeout queue 9s\n"
	                       "  timeout tunnel 1h\n  timeout check 500\n"
	                       "listen li\n  timeout connect 100ms\n"), ERR_WARN);
	struct proxy *px = px_get("li", PR_CAP_FE);
	static const int exp[TO_COUNT] = {
		[TO_CLIENT] = 1000, [TO_CLIENT_FIN] = 2000, [TO_HTTP_REQ] = 3000, [TO_HTTP_KA] = 4000,
		[TO_TARPIT] = 5000, [TO_SERVER] = 6000, [TO_SERVER_FIN] = 7000, [TO_CONNECT] = 100,
		[TO_QUEUE] = 9000, [TO_TUNNEL] = 3600000, [TO_CHECK] = 500,
	};
	for (int i = 0; i < TO_COUNT; i++)
		if (px->c.to[i] != exp[i])
			fail_msg("timeout %d is %d, expected %d", i, px->c.to[i], exp[i]);

	reset_state();
	assert_int_equal(parse("backend be\n  balance roundrobin\n"), 0);
	assert_ptr_equal(px_get("be", PR_CAP_BE)->c.lb, lb_find("roundrobin"));
}

/* ------------------------------------------------------------ errorfile */

static void test_errorfile(void **state)
{
	char path[256], exp[1024];

	check_fmt(ALERT, L(2, "'errorfile': status code 302 cannot be customized (supported: 200, 400, 401, 403, "
	                      "404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504)"),
	          "frontend fe\n  errorfile 302 /x\n");
	/* the statuses proxyd only uses internally */
	check_fmt(ALERT, L(2, "'errorfile': status code 505 cannot be customized (supported: 200, 400, 401, 403, "
	                      "404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504)"),
	          "frontend fe\n  errorfile 505 /x\n");
	check_fmt(ALERT, L(2, "'errorfile' expects an integer argument (got 'abc')"), "frontend fe\n  errorfile abc /x\n");
	check_fmt(ALERT, L(2, "'errorfile' expects an integer between 100 and 599 (got '600')"),
	          "frontend fe\n  errorfile 600 /x\n");

	path_of(path, sizeof(path), "missing.http");
	snprintf(exp, sizeof(exp), L(2, "'errorfile 503 %s': cannot open file '%s': No such file or directory"),
	         path, path);
	check_fmt(ALERT, exp, "frontend fe\n  errorfile 503 %s\n", path);

	snprintf(exp, sizeof(exp), L(2, "'errorfile 503 %s': '%s' is not a regular file"), tmpdir, tmpdir);
	check_fmt(ALERT, exp, "frontend fe\n  errorfile 503 %s\n", tmpdir);

	path_of(path, sizeof(path), "nothttp.http");
	snprintf(exp, sizeof(exp), L(2, "'errorfile 503 %s': file '%s' does not start with an HTTP status line "
	                                "(e.g. 'HTTP/1.1 503 ...')"), path, path);
	check_fmt(ALERT, exp, "frontend fe\n  errorfile 503 %s\n", path);

	path_of(path, sizeof(path), "short.http");
	snprintf(exp, sizeof(exp), L(2, "'errorfile 400 %s': file '%s' does not start with an HTTP status line "
	                                "(e.g. 'HTTP/1.1 400 ...')"), path, path);
	check_fmt(ALERT, exp, "frontend fe\n  errorfile 400 %s\n", path);

	path_of(path, sizeof(path), "nohead.http");
	snprintf(exp, sizeof(exp), L(2, "'errorfile 503 %s': file '%s' has no empty line ending the response head"),
	         path, path);
	check_fmt(ALERT, exp, "frontend fe\n  errorfile 503 %s\n", path);

	path_of(path, sizeof(path), "big.http");
	snprintf(exp, sizeof(exp), L(2, "'errorfile 503 %s': file '%s' is too large (9000 bytes) for an error "
	                                "response (max 8192)"), path, path);
	check_fmt(ALERT, exp, "frontend fe\n  errorfile 503 %s\n", path);

	/* valid ones, inherited from defaults and replaced per proxy */
	char ok[256], lf[256];
	path_of(ok, sizeof(ok), "ok.http");
	path_of(lf, sizeof(lf), "lf.http");
	check_fmt(0, "", "defaults\n  errorfile 503 %s\nfrontend a\nfrontend b\n  errorfile 503 %s\n"
	          "  errorfile 403 %s\n", ok, ok, lf);
	const struct http_reply *r = px_get("a", PR_CAP_FE)->c.errmsg[http_err_index(503)];
	assert_non_null(r);
	assert_int_equal(r->status, 503);
	assert_int_equal(r->raw_len, strlen(files[0].data));
	assert_memory_equal(r->raw, files[0].data, r->raw_len);
	assert_null(px_get("a", PR_CAP_FE)->c.errmsg[http_err_index(403)]);
	/* a proxy's own line replaces the inherited reply */
	assert_ptr_not_equal(px_get("b", PR_CAP_FE)->c.errmsg[http_err_index(503)], r);
	r = px_get("b", PR_CAP_FE)->c.errmsg[http_err_index(403)];
	assert_non_null(r);
	assert_int_equal(r->status, 403);
	assert_int_equal(r->raw_len, strlen(files[1].data));
}

/* ------------------------------------------------------------ servers */

static void test_server_errors(void **state)
{
	static const struct mcase cases[] = {
		{ "backend be\n  server s1 10.0.0.1\n", ALERT,
		  L(2, "'server be/s1' : a port is required in '10.0.0.1' (proxyd does not reuse the client's port)") },
		{ "backend be\n  server s1 10.0.0.1:99999\n", ALERT,
		  L(2, "'server be/s1' : invalid port '99999' in address '10.0.0.1:99999'") },
		{ "backend be\n  server s1 10.0.0.1:http\n", ALERT,
		  L(2, "'server be/s1' : invalid port 'http' in address '10.0.0.1:http'") },
		{ "backend be\n  server s1 10.0.0.1:\n", ALERT,
		  L(2, "'server be/s1' : invalid port '' in address '10.0.0.1:'") },
		{ "backend be\n  server s1 10.0.0.1:80-90\n", ALERT,
		  L(2, "'server be/s1' : port ranges are not supported yet in '10.0.0.1:80-90'") },
		{ "backend be\n  server s1 *:80\n", ALERT, L(2, "'server be/s1' : missing host in address '*:80'") },
		{ "backend be\n  server s1 :80\n", ALERT, L(2, "'server be/s1' : missing host in address ':80'") },
		{ "backend be\n  server s1 [::1:80\n", ALERT, L(2, "'server be/s1' : missing ']' in address '[::1:80'") },
		{ "backend be\n  server s1 [::1]x:80\n", ALERT,
		  L(2, "'server be/s1' : unexpected characters after ']' in '[::1]x:80'") },
		{ "backend be\n  server s1 fd@3\n", ALERT,
		  L(2, "'server be/s1' : 'fd@' is only valid for listening addresses") },
		{ "backend be\n  server s1 udp@1.2.3.4:53\n", ALERT,
		  L(2, "'server be/s1' : unsupported address family in 'udp@1.2.3.4:53' (proxyd knows ipv4@, ipv6@, "
		       "unix@ and fd@)") },
		{ "backend be\n  server s1 unix@\n", ALERT, L(2, "'server be/s1' : missing path in unix address 'unix@'") },
		{ "backend be\n  server s1 127.0.0.1:80\n  server s1 127.0.0.2:80\n", ALERT,
		  L(3, "'server be/s1' : a server of that name already exists in backend 'be'") },
		{ "backend be\n  server s1 127.0.0.1:80 weigth 3\n", ALERT,
		  L(2, "'server be/s1' : unknown keyword 'weigth'; did you mean 'weight' maybe ?") },
		{ "backend be\n  server s1 127.0.0.1:80 backpu\n", ALERT,
		  L(2, "'server be/s1' : unknown keyword 'backpu'; did you mean 'backup' maybe ?") },
		{ "backend be\n  server s1 127.0.0.1:80 frobnicate 3\n", ALERT,
		  L(2, "'server be/s1' : unknown keyword 'frobnicate'") },
		/* one error per line: what follows an unknown option is not read */
		{ "backend be\n  server s1 127.0.0.1:80 foo weight x\n", ALERT,
		  L(2, "'server be/s1' : unknown keyword 'foo'") },
		{ "backend be\n  server s1 127.0.0.1:80 weight\n", ALERT, L(2, "'server be/s1' : 'weight' expects 1 argument") },
		{ "backend be\n  server s1 127.0.0.1:80 maxconn\n", ALERT,
		  L(2, "'server be/s1' : 'maxconn' expects 1 argument") },
		{ "backend be\n  server s1 127.0.0.1:80 weight 300\n", ALERT,
		  L(2, "'weight' expects an integer between 0 and 256 (got '300')") },
		{ "backend be\n  server s1 127.0.0.1:80 weight x\n", ALERT, L(2, "'weight' expects an integer argument (got 'x')") },
		{ "backend be\n  server s1 127.0.0.1:80 maxconn -1\n", ALERT,
		  L(2, "'maxconn' expects an integer between 0 and 1000000 (got '-1')") },
		{ "backend be\n  server s1 127.0.0.1:80 maxqueue 1000001\n", ALERT,
		  L(2, "'maxqueue' expects an integer between 0 and 1000000 (got '1000001')") },
		/* the bad options are all reported, the line is refused */
		{ "backend be\n  server s1 127.0.0.1:80 weight 300 maxconn x\n", ALERT,
		  L(2, "'weight' expects an integer between 0 and 256 (got '300')")
		  L(2, "'maxconn' expects an integer argument (got 'x')") },
		/* default-server */
		{ "backend be\n  default-server frobnicate\n", ALERT, L(2, "'default-server' : unknown keyword 'frobnicate'") },
		{ "backend be\n  default-server wieght 2\n", ALERT,
		  L(2, "'default-server' : unknown keyword 'wieght'; did you mean 'weight' maybe ?") },
		{ "backend be\n  default-server weight\n", ALERT, L(2, "'default-server' : 'weight' expects 1 argument") },
		{ "backend be\n  default-server weight x\n", ALERT, L(2, "'weight' expects an integer argument (got 'x')") },
		{ "defaults\n  default-server check-alpn h2\n", ALERT,
		  L(2, "'default-server' : 'check-alpn' is a valid HAProxy server option but is not supported yet by proxyd") },
	};

	RUN(cases);

	/* a refused server is not added */
	reset_state();
	assert_int_equal(parse("backend be\n  server s1 127.0.0.1:80 weight 300\n  server s1 127.0.0.1:81\n"), ALERT);
	struct proxy *be = px_get("be", PR_CAP_BE);
	assert_int_equal(be->nb_srv, 1);
	assert_int_equal(addr_port((struct sockaddr *)&proxy_find_server(be, "s1")->addr), 81);
}

static void test_server_unresolvable(void **state)
{
	reset_state();
	assert_int_equal(parse("backend be\n  server s1 no-such-host.invalid:80\n"), ALERT);
	static const char prefix[] = L(2, "'server be/s1' : could not resolve address 'no-such-host.invalid': ");
	if (strncmp(out, prefix, strlen(prefix) - 1) != 0)
		fail_msg("got: %s", out);
	/* one line: the resolver's reason, whatever it is */
	assert_non_null(strchr(out, '\n'));
	assert_string_equal(strchr(out, '\n'), "\n");
	assert_int_equal(px_get("be", PR_CAP_BE)->nb_srv, 0);
}

static void test_server_values(void **state)
{
	struct proxy *be;
	struct server *s;
	char host[64];

	reset_state();
	assert_int_equal(parse("defaults\n  default-server weight 7 maxconn 20\n"
	                       "backend be\n"
	                       "  server s1 127.0.0.1:8001\n"
	                       "  default-server maxqueue 5 backup\n"
	                       "  server s2 127.0.0.2:8002 weight 3 disabled maxconn 0\n"
	                       "  server s3 [::1]:8003 enabled\n"
	                       "  server s4 localhost:8004 weight 0\n"
	                       "  server s5 unix@/run/app.sock\n"
	                       "backend other\n  server s1 127.0.0.1:9000\n"), 0);
	assert_string_equal(out, "");
	be = px_get("be", PR_CAP_BE);
	assert_int_equal(be->nb_srv, 5);
	assert_int_equal(list_count(&be->servers), 5);

	s = proxy_find_server(be, "s1");
	assert_non_null(s);
	assert_int_equal(s->puid, 1);
	assert_string_equal(s->addr_text, "127.0.0.1:8001");
	assert_string_equal(addr_host_str((struct sockaddr *)&s->addr, host, sizeof(host)), "127.0.0.1");
	assert_int_equal(addr_port((struct sockaddr *)&s->addr), 8001);
	assert_int_equal(s->c.weight, 7);
	assert_int_equal(s->c.maxconn, 20);
	assert_int_equal(s->c.maxqueue, 0);
	assert_int_equal(s->c.flags, 0);
	assert_int_equal(s->conf_line, 4);
	assert_ptr_equal(s->be, be);

	s = proxy_find_server(be, "s2");
	assert_int_equal(s->puid, 2);
	assert_int_equal(s->c.weight, 3);
	assert_int_equal(s->c.maxconn, 0);
	assert_int_equal(s->c.maxqueue, 5);
	assert_int_equal(s->c.flags, SRV_F_BACKUP | SRV_F_DISABLED);

	s = proxy_find_server(be, "s3");
	assert_int_equal(s->addr.ss_family, AF_INET6);
	assert_int_equal(addr_port((struct sockaddr *)&s->addr), 8003);
	assert_int_equal(s->c.flags, SRV_F_BACKUP);

	s = proxy_find_server(be, "s4");
	assert_int_equal(s->c.weight, 0);
	assert_int_equal(addr_port((struct sockaddr *)&s->addr), 8004);

	s = proxy_find_server(be, "s5");
	assert_int_equal(s->addr.ss_family, AF_UNIX);

	/* the same name in another backend is another server */
	assert_int_equal(px_get("other", PR_CAP_BE)->nb_srv, 1);
	assert_int_equal(proxy_find_server(px_get("other", PR_CAP_BE), "s1")->puid, 1);

	/* post-parse makes them usable, and "disabled" means maintenance */
	assert_int_equal(post() & ERR_FATAL, 0);
	s = proxy_find_server(be, "s1");
	assert_int_equal(s->uweight, 7);
	assert_int_equal(s->eweight, 7);
	assert_int_equal(s->state, SRV_ST_RUNNING);
	assert_int_equal(s->admin, 0);
	assert_true(srv_usable(s));
	s = proxy_find_server(be, "s2");
	/* "disabled": forced and configured maintenance, down (HAProxy's 5) */
	assert_int_equal(s->admin, SRV_ADMF_CMAINT | SRV_ADMF_FMAINT);
	assert_int_equal(s->state, SRV_ST_STOPPED);
	assert_false(srv_usable(s));
	/* the default-server line made s2..s5 backups; s4 has no weight */
	assert_int_equal(be->srv_act, 1);
	assert_int_equal(be->srv_bck, 2);
}

/* ------------------------------------------------------------ bind */

static void test_bind_errors(void **state)
{
	static const struct mcase cases[] = {
		{ "frontend fe\n  bind 1.2.3.4\n", ALERT,
		  L(2, "'bind 1.2.3.4' : missing port in address '1.2.3.4' (expected host:port)") },
		{ "frontend fe\n  bind :99999\n", ALERT, L(2, "'bind :99999' : invalid port '99999' in address ':99999'") },
		{ "frontend fe\n  bind :80-90\n", ALERT, L(2, "'bind :80-90' : port ranges are not supported yet in ':80-90'") },
		{ "frontend fe\n  bind [::1\n", ALERT, L(2, "'bind [::1' : missing ']' in address '[::1'") },
		{ "frontend fe\n  bind quic4@:443\n", ALERT,
		  L(2, "'bind quic4@:443' : unsupported address family in 'quic4@:443' (proxyd knows ipv4@, ipv6@, "
		       "unix@ and fd@)") },
		{ "frontend fe\n  bind fd@x\n", ALERT, L(2, "'bind fd@x' : invalid file descriptor in 'fd@x'") },
		/* each bad address of a list is reported by itself */
		{ "frontend fe\n  bind :80,1.2.3.4,:81,:x\n", ALERT,
		  L(2, "'bind 1.2.3.4' : missing port in address '1.2.3.4' (expected host:port)")
		  L(2, "'bind :x' : invalid port 'x' in address ':x'") },
		{ "frontend fe\n  bind :80 tls-ticket-keys /k\n", ALERT,
		  L(2, "'bind :80' : 'tls-ticket-keys' is a valid HAProxy bind option but is not supported yet by proxyd") },
		{ "frontend fe\n  bind :80 accept-proxy\n", ALERT,
		  L(2, "'bind :80' : 'accept-proxy' is a valid HAProxy bind option but is not supported yet by proxyd") },
		{ "frontend fe\n  bind :80 maxcon 10\n", ALERT,
		  L(2, "'bind :80' : unknown keyword 'maxcon'; did you mean 'maxconn' maybe ?") },
		{ "frontend fe\n  bind :80 backlg 10\n", ALERT,
		  L(2, "'bind :80' : unknown keyword 'backlg'; did you mean 'backlog' maybe ?") },
		{ "frontend fe\n  bind :80 frobnicate\n", ALERT, L(2, "'bind :80' : unknown keyword 'frobnicate'") },
		{ "frontend fe\n  bind :80 maxconn\n", ALERT, L(2, "'bind :80' : 'maxconn' expects 1 argument") },
		{ "frontend fe\n  bind :80 name\n", ALERT, L(2, "'bind :80' : 'name' expects 1 argument") },
		{ "frontend fe\n  bind :80 backlog\n", ALERT, L(2, "'bind :80' : 'backlog' expects 1 argument") },
		{ "frontend fe\n  bind :80 maxconn abc\n", ALERT, L(2, "'maxconn' expects an integer argument (got 'abc')") },
		{ "frontend fe\n  bind :80 maxconn 2000000\n", ALERT,
		  L(2, "'maxconn' expects an integer between 0 and 1000000 (got '2000000')") },
		{ "frontend fe\n  bind :80 backlog 0\n", ALERT,
		  L(2, "'backlog' expects an integer between 1 and 1000000 (got '0')") },
	};

	RUN(cases);
}

static void test_bind_values(void **state)
{
	struct proxy *fe;
	struct bind_conf *bc;
	struct listener *li;
	char host[64];

	reset_state();
	assert_int_equal(parse("frontend fe\n"
	                       "  bind :8080,127.0.0.1:8081,ipv6@:::8082 maxconn 10 backlog 5 name web\n"
	                       "  bind [::1]:8083\n"
	                       "  bind unix@/run/fe.sock\n"
	                       "listen li\n  bind *:9000\n"), 0);
	assert_string_equal(out, "");
	fe = px_get("fe", PR_CAP_FE);
	assert_int_equal(list_count(&fe->binds), 3);
	assert_int_equal(list_count(&fe->listeners), 5);

	bc = list_first(&fe->binds, struct bind_conf, list);
	assert_string_equal(bc->arg, ":8080,127.0.0.1:8081,ipv6@:::8082");
	assert_int_equal(bc->maxconn, 10);
	assert_int_equal(bc->backlog, 5);
	assert_string_equal(bc->name, "web");
	assert_int_equal(bc->line, 2);
	assert_ptr_equal(bc->fe, fe);
	assert_int_equal(list_count(&bc->listeners), 3);

	static const struct { int family; const char *host; int port; } exp[] = {
		{ AF_INET, "0.0.0.0", 8080 }, { AF_INET, "127.0.0.1", 8081 }, { AF_INET6, "::", 8082 },
		{ AF_INET6, "::1", 8083 }, { AF_UNIX, "unix", 0 },
	};
	int i = 0;
	list_for_each(li, &fe->listeners, fe_el) {
		assert_true(i < 5);
		assert_int_equal(li->addr.ss_family, exp[i].family);
		assert_string_equal(addr_host_str((struct sockaddr *)&li->addr, host, sizeof(host)), exp[i].host);
		assert_int_equal(addr_port((struct sockaddr *)&li->addr), exp[i].port);
		assert_int_equal(li->fd, -1);
		assert_false(li->inherited);
		assert_ptr_equal(li->fe, fe);
		i++;
	}
	bc = list_last(&fe->binds, struct bind_conf, list);
	assert_int_equal(bc->maxconn, 0);
	assert_int_equal(bc->backlog, 0);
	assert_null(bc->name);

	assert_int_equal(list_count(&px_get("li", PR_CAP_FE)->listeners), 1);
}

/* ------------------------------------------------------------ http-request return */

static void test_http_request_return_errors(void **state)
{
	static const struct mcase cases[] = {
		{ "frontend fe\n  http-request return status 199\n", ALERT,
		  L(2, "'http-request' expects an integer between 200 and 599 (got '199')") },
		{ "frontend fe\n  http-request return status 600\n", ALERT,
		  L(2, "'http-request' expects an integer between 200 and 599 (got '600')") },
		{ "frontend fe\n  http-request return status abc\n", ALERT,
		  L(2, "'http-request' expects an integer argument (got 'abc')") },
		{ "frontend fe\n  http-request return content-type text/plain\n", ALERT,
		  L(2, "'http-request return': 'content-type' given without a body ('string' or 'file')") },
		{ "frontend fe\n  http-request return string hello\n", ALERT,
		  L(2, "'http-request return': a 'content-type' is required with a body (e.g. 'content-type text/plain')") },
		{ "frontend fe\n  http-request return lf-file /nonexistent/x\n", ALERT,
		  L(2, "'http-request return lf-file': cannot open file '/nonexistent/x': No such file or directory") },
		{ "frontend fe\n  http-request return content-type text/plain lf-string %[nope]\n", ALERT,
		  L(2, "'http-request return lf-string': failed to parse sample expression in '%[nope]': unknown "
		       "fetch method 'nope'") },
		{ "frontend fe\n  http-request return errorfiles myerrors\n", ALERT,
		  L(2, "'http-request return errorfiles' is not supported yet by proxyd (http-errors sections are not "
		       "either)") },
		{ "frontend fe\n  http-request return frobnicate\n", ALERT,
		  L(2, "'http-request return': unexpected 'frobnicate' (expected 'status <code>', 'content-type <type>', "
		       "'string <text>', 'file <path>', 'errorfile <path>', 'default-errorfile' or 'hdr <name> <value>')") },
		/* an option without its value */
		{ "frontend fe\n  http-request return status\n", ALERT,
		  L(2, "'http-request return': unexpected 'status' (expected 'status <code>', 'content-type <type>', "
		       "'string <text>', 'file <path>', 'errorfile <path>', 'default-errorfile' or 'hdr <name> <value>')") },
		{ "frontend fe\n  http-request return hdr X-A\n", ALERT,
		  L(2, "'http-request return': unexpected 'hdr' (expected 'status <code>', 'content-type <type>', "
		       "'string <text>', 'file <path>', 'errorfile <path>', 'default-errorfile' or 'hdr <name> <value>')") },
		{ "frontend fe\n  http-request return status 302 default-errorfile\n", ALERT,
		  L(2, "'http-request return default-errorfile': no default page for status 302") },
		{ "frontend fe\n  http-request return content-type text/plain string x foo\n", ALERT,
		  L(2, "'http-request return': unexpected 'foo' (expected 'status <code>', 'content-type <type>', "
		       "'string <text>', 'file <path>', 'errorfile <path>', 'default-errorfile' or 'hdr <name> <value>')") },
		/* what follows the action must be a condition */
		{ "frontend fe\n  http-request return status 200 if\n", ALERT,
		  L(2, "missing condition after 'if'") },
		{ "frontend fe\n  http-request frobnicate\n", ALERT, L(2, "'http-request' unknown action 'frobnicate'") },
		{ "defaults\n  http-request return status 200\n", ALERT,
		  L(2, "'http-request' rules are not supported in 'defaults' sections yet; put them in the frontend, "
		       "backend or listen section") },
	};
	char path[256], exp[1024];

	RUN(cases);

	path_of(path, sizeof(path), "missing.txt");
	snprintf(exp, sizeof(exp), L(2, "'http-request return': cannot open file '%s': No such file or directory"), path);
	check_fmt(ALERT, exp, "frontend fe\n  http-request return content-type text/plain file %s\n", path);

	snprintf(exp, sizeof(exp), L(2, "'http-request return errorfile': cannot open file '%s': No such file or "
	                                "directory"), path);
	check_fmt(ALERT, exp, "frontend fe\n  http-request return errorfile %s\n", path);

	path_of(path, sizeof(path), "nothttp.http");
	snprintf(exp, sizeof(exp), L(2, "'http-request return errorfile': file '%s' does not start with an HTTP "
	                                "status line (e.g. 'HTTP/1.1 404 ...')"), path);
	check_fmt(ALERT, exp, "frontend fe\n  http-request return status 404 errorfile %s\n", path);

	path_of(path, sizeof(path), "body.txt");
	snprintf(exp, sizeof(exp), L(2, "'http-request return': a 'content-type' is required with a body (e.g. "
	                                "'content-type text/plain')"));
	check_fmt(ALERT, exp, "frontend fe\n  http-request return file %s\n", path);

	/* a refused rule is not added */
	reset_state();
	assert_int_equal(parse("frontend fe\n  http-request return status 1\n"), ALERT);
	assert_true(list_empty(&px_get("fe", PR_CAP_FE)->http_req_rules));
}

static struct act_rule *rule_at(struct proxy *px, int n)
{
	struct act_rule *rule;
	int i = 0;

	list_for_each(rule, &px->http_req_rules, list)
		if (i++ == n)
			return rule;
	fail_msg("no rule %d", n);
	return NULL;
}

static void test_http_request_return_values(void **state)
{
	char body[256], ok[256];
	const struct http_reply *r;
	struct proxy *fe;

	path_of(body, sizeof(body), "body.txt");
	path_of(ok, sizeof(ok), "ok.http");
	check_fmt(0, "", "frontend fe\n"
	          "  http-request return\n"
	          "  http-request return status 404 content-type text/plain string \"not here\" hdr X-A 1 hdr X-B \"two words\"\n"
	          "  http-request return content-type text/html file %s status 201\n"
	          "  http-request return status 503 default-errorfile\n"
	          "  http-request return errorfile %s\n"
	          "backend be\n  http-request return status 204\n", body, ok);
	fe = px_get("fe", PR_CAP_FE);
	assert_int_equal(list_count(&fe->http_req_rules), 5);

	r = &rule_at(fe, 0)->arg.reply;
	assert_int_equal(r->status, 200);
	assert_null(r->ctype);
	assert_null(r->raw);
	assert_null(r->hdrs);
	assert_int_equal(r->body_len, 0);
	assert_int_equal(rule_at(fe, 0)->line, 2);
	assert_null(rule_at(fe, 0)->cond);
	assert_non_null(rule_at(fe, 0)->exec);

	r = &rule_at(fe, 1)->arg.reply;
	assert_int_equal(r->status, 404);
	assert_string_equal(r->ctype, "text/plain");
	assert_int_equal(r->body_len, 8);
	assert_memory_equal(r->body, "not here", 8);
	assert_string_equal(r->hdrs, "X-A: 1\r\nX-B: two words\r\n");

	r = &rule_at(fe, 2)->arg.reply;
	assert_int_equal(r->status, 201);
	assert_string_equal(r->ctype, "text/html");
	assert_int_equal(r->body_len, strlen(files[5].data));
	assert_memory_equal(r->body, files[5].data, r->body_len);

	r = &rule_at(fe, 3)->arg.reply;
	assert_int_equal(r->status, 503);
	assert_ptr_equal(r->body, http_err_default(HTTP_ERR_503)->body);

	r = &rule_at(fe, 4)->arg.reply;
	assert_int_equal(r->status, 503);
	assert_int_equal(r->raw_len, strlen(files[0].data));

	assert_int_equal(list_count(&px_get("be", PR_CAP_BE)->http_req_rules), 1);
	assert_int_equal(rule_at(px_get("be", PR_CAP_BE), 0)->arg.reply.status, 204);
}

static void test_use_backend(void **state)
{
	static const struct mcase cases[] = {
		{ "frontend fe\n  use_backend be foo\n", ALERT,
		  L(2, "unexpected 'foo' in 'use_backend' (expected 'if' or 'unless' followed by a condition)") },
		{ "frontend fe\n  use_backend be if\n", ALERT, L(2, "missing condition after 'if'") },
	};
	struct switching_rule *r;
	const char *names[] = { "b1", "b2" };
	int i = 0;

	RUN(cases);

	reset_state();
	assert_int_equal(parse("frontend fe\n  use_backend b1\n  use_backend b2\n"), 0);
	list_for_each(r, &px_get("fe", PR_CAP_FE)->switching_rules, list) {
		assert_true(i < 2);
		assert_string_equal(r->be_name, names[i]);
		assert_int_equal(r->line, 2 + i);
		assert_null(r->cond);
		assert_null(r->be);
		i++;
	}
	assert_int_equal(i, 2);
}

static void test_default_backend(void **state)
{
	static const struct mcase cases[] = {
		{ "defaults\n  default_backend a\nfrontend fe\n  default_backend b\n  default_backend c\n", WARN,
		  L(5, "'default_backend' redefined; the last one applies") },
		/* setting it once over the defaults' is no redefinition */
		{ "defaults\n  default_backend a\nfrontend fe\n  default_backend b\n", 0, "" },
		{ "defaults\n  default_backend a\n  default_backend b\n", 0, "" },
	};

	RUN(cases);
	reset_state();
	assert_int_equal(parse("defaults\n  default_backend a\nfrontend fe\nfrontend fe2\n  default_backend c\n"), 0);
	assert_string_equal(px_get("fe", PR_CAP_FE)->c.defbe_name, "a");
	assert_string_equal(px_get("fe2", PR_CAP_FE)->c.defbe_name, "c");
}

/* ------------------------------------------------------------ sections */

static void test_sections(void **state)
{
	static const struct mcase cases[] = {
		{ "frontend\n  mode http\n  frobnicate\n", ALERT, L(1, "'frontend' expects a name (e.g. 'frontend www')") },
		{ "backend\n", ALERT, L(1, "'backend' expects a name (e.g. 'backend www')") },
		{ "listen\n", ALERT, L(1, "'listen' expects a name (e.g. 'listen www')") },
		{ "frontend a/b\n  frobnicate\n", ALERT,
		  L(1, "invalid character in frontend name 'a/b' (allowed: letters, digits, '-', '_', '.', ':')") },
		{ "backend \"a b\"\n", ALERT,
		  L(1, "invalid character in backend name 'a b' (allowed: letters, digits, '-', '_', '.', ':')") },
		{ "defaults d$1\n", ALERT,
		  L(1, "invalid character in defaults name 'd$1' (allowed: letters, digits, '-', '_', '.', ':')") },
		{ "frontend fe extra\n  frobnicate\n", ALERT,
		  L(1, "unexpected 'extra' after the frontend name (only 'from <defaults>' may follow)") },
		{ "frontend fe from\n", ALERT,
		  L(1, "unexpected 'from' after the frontend name (only 'from <defaults>' may follow)") },
		{ "frontend fe from d x\n", ALERT,
		  L(1, "unexpected 'from' after the frontend name (only 'from <defaults>' may follow)") },
		{ "frontend fe from nope\n  frobnicate\n", ALERT,
		  L(1, "frontend 'fe': no defaults section named 'nope' was declared before") },
		{ "defaults from nope\n", ALERT, L(1, "defaults '': no defaults section named 'nope' was declared before") },
		/* a defaults section has to be declared before it is used */
		{ "backend be from d\ndefaults d\n", ALERT,
		  L(1, "backend 'be': no defaults section named 'd' was declared before") },
		{ "backend be\nbackend be\n  frobnicate\n", ALERT,
		  L(2, "backend 'be' has the same name as backend 'be' declared at t:1") },
		{ "listen x\nfrontend x\n", ALERT, L(2, "frontend 'x' has the same name as listen 'x' declared at t:1") },
		{ "listen x\nbackend x\n", ALERT, L(2, "backend 'x' has the same name as listen 'x' declared at t:1") },
		{ "frontend x\nlisten x\n", ALERT, L(2, "listen 'x' has the same name as frontend 'x' declared at t:1") },
		{ "frontend x\nfrontend x\n", ALERT, L(2, "frontend 'x' has the same name as frontend 'x' declared at t:1") },
		/* a frontend and a backend may share a name */
		{ "frontend x\nbackend x\n", 0, "" },
		{ "defaults d\ndefaults d\n", WARN, L(2, "defaults section 'd' redefined; later references use this one") },
		/* several defaults of no name are fine */
		{ "defaults\ndefaults\n", 0, "" },
		{ "global\nglobal\n", 0, "" },
	};

	RUN(cases);
}

static void test_foreign_sections(void **state)
{
	static const struct mcase cases[] = {
		{ "mailers m\n  mailer smtp1 127.0.0.1:25\n  frobnicate\nbackend be\n  frobnicate\n", ALERT,
		  L(1, "'mailers' sections are not supported by proxyd; its content is ignored until the next section")
		  L(5, "unknown keyword 'frobnicate' in 'backend' section") },
		{ "global\n  maxconn 10\npeers p\n  peer a 1.2.3.4:1000\nresolvers dns\n  nameserver n 1.1.1.1:53\n"
		  "http-errors e\n  errorfile 503 /x\ncache c\n  total-max-size 4\n", ALERT,
		  L(3, "'peers' sections are not supported by proxyd; its content is ignored until the next section")
		  L(5, "'resolvers' sections are not supported by proxyd; its content is ignored until the next section")
		  L(7, "'http-errors' sections are not supported by proxyd; its content is ignored until the next section")
		  L(9, "'cache' sections are not supported by proxyd; its content is ignored until the next section") },
		/* the content of a refused proxy section is skipped too */
		{ "frontend\n  bind :80\n  frobnicate\nfrontend ok\n  frobnicate\n", ALERT,
		  L(1, "'frontend' expects a name (e.g. 'frontend www')")
		  L(5, "unknown keyword 'frobnicate' in 'frontend' section") },
	};

	RUN(cases);

	/* nothing of a skipped section is applied */
	reset_state();
	assert_int_equal(parse("global\n  maxconn 10\nprogram p\n  maxconn 20\n"), ALERT);
	assert_int_equal(global.maxconn, 10);
}

static void test_proxy_caps(void **state)
{
	struct proxy *px;
	const char *names[] = { "fe", "be", "li" };
	int i = 0;

	reset_state();
	assert_int_equal(parse("global\ndefaults d\nfrontend fe\nbackend be\nlisten li\n"), 0);
	assert_int_equal(px_get("fe", 0)->cap, PR_CAP_FE);
	assert_int_equal(px_get("be", 0)->cap, PR_CAP_BE);
	assert_int_equal(px_get("li", 0)->cap, PR_CAP_FE | PR_CAP_BE);
	assert_null(proxy_find("fe", PR_CAP_BE));
	assert_null(proxy_find("be", PR_CAP_FE));
	/* defaults sections are not proxies */
	assert_null(proxy_find("d", 0));
	list_for_each(px, &proxies, list) {
		assert_true(i < 3);
		assert_string_equal(px->id, names[i]);
		assert_int_equal(px->conf_line, 3 + i);
		assert_string_equal(px->conf_file, "t");
		i++;
	}
	assert_int_equal(i, 3);

	/* built-in values without any defaults section */
	px = px_get("be", 0);
	assert_int_equal(px->c.mode, PR_MODE_TCP);
	assert_int_equal(px->c.retries, 3);
	assert_int_equal(px->c.reuse, HTTP_REUSE_SAFE);
	assert_int_equal(px->c.options, 0);
	assert_string_equal(px->c.fwdfor_hdr, "X-Forwarded-For");
	assert_ptr_equal(px->c.lb, lb_find("roundrobin"));
	assert_int_equal(px->c.defsrv.weight, 1);
	for (int t = 0; t < TO_COUNT; t++)
		assert_int_equal(px->c.to[t], 0);
}

static void test_defaults_inheritance(void **state)
{
	reset_state();
	assert_int_equal(parse("defaults d1\n  mode http\n  timeout client 5s\n  retries 5\n"
	                       "defaults d2\n  timeout client 7s\n"
	                       "frontend f1 from d1\n"
	                       "frontend f2\n"
	                       "defaults d3 from d1\n  retries 9\n"
	                       "backend b1\n"
	                       "backend b2 from d2\n  timeout client 1s\n"
	                       "listen l1 from d3\n  mode tcp\n"
	                       "frontend f3 from d1\n"), WARN);
	/* "timeout client" in the backend b2 is ignored (warning) */
	assert_string_equal(out, L(13, "'timeout client' ignored because backend 'b2' has no frontend capability."));

	struct proxy *px = px_get("f1", 0);
	assert_int_equal(px->c.mode, PR_MODE_HTTP);
	assert_int_equal(px->c.to[TO_CLIENT], 5000);
	assert_int_equal(px->c.retries, 5);

	/* the last defaults section read, not the first, and nothing of the
	 * first one through the second */
	px = px_get("f2", 0);
	assert_int_equal(px->c.to[TO_CLIENT], 7000);
	assert_int_equal(px->c.mode, PR_MODE_TCP);
	assert_int_equal(px->c.retries, 3);

	/* a named defaults inheriting from another one */
	px = px_get("b1", 0);
	assert_int_equal(px->c.mode, PR_MODE_HTTP);
	assert_int_equal(px->c.to[TO_CLIENT], 5000);
	assert_int_equal(px->c.retries, 9);

	px = px_get("b2", 0);
	assert_int_equal(px->c.to[TO_CLIENT], 7000);

	px = px_get("l1", 0);
	assert_int_equal(px->c.mode, PR_MODE_TCP);
	assert_int_equal(px->c.retries, 9);

	/* what a proxy changes does not leak back into its defaults */
	px = px_get("f3", 0);
	assert_int_equal(px->c.mode, PR_MODE_HTTP);
}

/* A new defaults section starts from the built-in values, unless it
 * inherits with "from". */
static void test_defaults_reset(void **state)
{
	struct proxy *px;

	reset_state();
	assert_int_equal(parse("defaults\n  mode http\n  retries 5\n  timeout client 2s\n  option httpclose\n"
	                       "  option forwardfor header X-Client\n  default-server weight 9 backup\n"
	                       "  default_backend be\n  balance roundrobin\n"
	                       "defaults\n  timeout connect 1s\n"
	                       "backend b\n"
	                       "defaults named\n  mode http\n"
	                       "defaults from named\n  retries 7\n"
	                       "backend c\n"), 0);
	assert_string_equal(out, "");
	px = px_get("b", 0);
	assert_int_equal(px->c.mode, PR_MODE_TCP);
	assert_int_equal(px->c.retries, 3);
	assert_int_equal(px->c.to[TO_CLIENT], 0);
	assert_int_equal(px->c.to[TO_CONNECT], 1000);
	assert_int_equal(px->c.options, 0);
	assert_string_equal(px->c.fwdfor_hdr, "X-Forwarded-For");
	assert_int_equal(px->c.defsrv.weight, 1);
	assert_int_equal(px->c.defsrv.flags, 0);
	assert_null(px->c.defbe_name);
	px = px_get("c", 0);
	assert_int_equal(px->c.mode, PR_MODE_HTTP);
	assert_int_equal(px->c.retries, 7);
	assert_int_equal(px->c.to[TO_CONNECT], 0);
}

/* Two configurations parsed one after the other with a reset between
 * them share nothing. */
static void test_reset_between_configurations(void **state)
{
	reset_state();
	assert_int_equal(parse("global\n  maxconn 77\ndefaults d\n  mode http\nfrontend fe\n  bind :80\n"
	                       "backend be\n  server s1 127.0.0.1:80\n"), 0);
	assert_int_equal(post() & ERR_FATAL, 0);

	reset_state();
	assert_int_equal(global.maxconn, 0);
	assert_int_equal(global.poison, -1);
	assert_true(list_empty(&proxies));
	assert_int_equal(parse("frontend fe from d\n"), ALERT);
	assert_string_equal(out, L(1, "frontend 'fe': no defaults section named 'd' was declared before"));
	reset_state();
	assert_int_equal(parse("backend be\n  server s1 127.0.0.1:80\n"), 0);
	assert_int_equal(px_get("be", 0)->c.mode, PR_MODE_TCP);
	assert_int_equal(px_get("be", 0)->nb_srv, 1);
}

/* cfg_deinit() alone is enough: nothing the parser kept points into the
 * freed configuration (the sanitizers watch the second parse). */
static void test_deinit_forgets_parser_state(void **state)
{
	reset_state();
	assert_int_equal(parse("defaults d\n  mode http\n  retries 9\n"), 0);
	cfg_deinit();
	assert_int_equal(parse("backend be\n"), 0);
	assert_int_equal(px_get("be", 0)->c.mode, PR_MODE_TCP);
	assert_int_equal(px_get("be", 0)->c.retries, 3);
	cfg_deinit();
	assert_int_equal(parse("backend be from d\n"), ALERT);
	assert_string_equal(out, L(1, "backend 'be': no defaults section named 'd' was declared before"));
}

/* ------------------------------------------------------------ post-parse */

static const char missing_timeouts[] =
	"   | While not properly invalid, you will certainly encounter various problems\n"
	"   | with such a configuration. To fix this, please ensure that all following\n"
	"   | timeouts are set to a non-zero value: 'client', 'connect', 'server'.\n";

#define TIMEOUTS "  timeout client 1s\n  timeout connect 1s\n  timeout server 1s\n"

static void check_post(const char *cfg, int err_exp, const char *exp)
{
	reset_state();
	int err = parse(cfg);
	if (err)
		fail_msg("configuration:\n%s\nparse errors: %s", cfg, out);
	err = post();
	if (strcmp(out, exp) != 0)
		fail_msg("configuration:\n%s\nexpected:\n%s\ngot:\n%s", cfg, exp, out);
	if (err != err_exp)
		fail_msg("configuration:\n%s\npost-parse bits %#x, expected %#x", cfg, err, err_exp);
}

static void test_post_parse(void **state)
{
	char exp[2048];

	check_post("defaults\n" TIMEOUTS "frontend fe\n  bind 127.0.0.1:0\n  default_backend nope\n", ALERT,
	           "config : Proxy 'fe': unable to find required default_backend: 'nope'.\n");
	/* a frontend is no backend */
	check_post("defaults\n" TIMEOUTS "frontend fe\n  bind 127.0.0.1:0\n  default_backend fe2\n"
	           "frontend fe2\n  bind 127.0.0.1:0\n", ALERT,
	           "config : Proxy 'fe': unable to find required default_backend: 'fe2'.\n");
	check_post("defaults\n" TIMEOUTS "frontend fe\n  bind 127.0.0.1:0\n  use_backend nope\n", ALERT,
	           "config : Proxy 'fe': unable to find required use_backend: 'nope'.\n");
	check_post("defaults\n" TIMEOUTS "frontend fe\n  mode http\n  bind 127.0.0.1:0\n  default_backend be\n"
	           "  use_backend be\nbackend be\n", ALERT,
	           "config : http frontend 'fe' (t:5) tries to use incompatible tcp backend 'be' (t:10) as its "
	           "default backend (see 'mode').\n"
	           "config : http frontend 'fe' (t:5) tries to use incompatible tcp backend 'be' (t:10) in a "
	           "'use_backend' rule (see 'mode').\n");
	/* a TCP frontend may use an HTTP backend */
	check_post("defaults\n" TIMEOUTS "frontend fe\n  bind 127.0.0.1:0\n  default_backend be\n"
	           "backend be\n  mode http\n", 0, "");

	snprintf(exp, sizeof(exp), "config : missing timeouts for backend 'be'.\n%s"
	         "config : missing timeouts for frontend 'fe'.\n%s"
	         "config : missing timeouts for proxy 'li'.\n%s", missing_timeouts, missing_timeouts, missing_timeouts);
	check_post("backend be\n  timeout connect 1s\nfrontend fe\n  bind 127.0.0.1:0\n"
	           "listen li\n  bind 127.0.0.1:0\n  timeout client 1s\n  timeout server 1s\n", WARN, exp);
	snprintf(exp, sizeof(exp), "config : missing timeouts for backend 'be'.\n%s", missing_timeouts);
	check_post("frontend fe\n  bind 127.0.0.1:0\n  timeout client 1s\nbackend be\n  timeout server 1s\n", WARN, exp);

	check_post("defaults\n" TIMEOUTS "frontend fe\n", WARN | ERR_ABORT,
	           "config : frontend 'fe' has no 'bind' directive. Please declare it as a backend if this was "
	           "intended.\n");
	check_post("defaults\n" TIMEOUTS "listen li\n  bind 127.0.0.1:0\nlisten li2\n", WARN,
	           "config : proxy 'li2' has no 'bind' directive. Please declare it as a backend if this was "
	           "intended.\n");

	check_post("defaults\n" TIMEOUTS "frontend fe\n  bind 127.0.0.1:0\n  http-request return status 200\n"
	           "listen li\n  bind 127.0.0.1:0\n  http-request return status 200\n"
	           "backend be\n  mode http\n  http-request return status 200\n", WARN,
	           "config : 'http-request' rules ignored for frontend 'fe' as they require HTTP mode.\n"
	           "config : 'http-request' rules ignored for proxy 'li' as they require HTTP mode.\n");
	reset_state();
	assert_int_equal(parse("frontend fe\n  bind 127.0.0.1:0\n  http-request return status 200\n"), 0);
	post();
	assert_true(list_empty(&px_get("fe", 0)->http_req_rules));

	/* nothing to listen on: valid, but the caller has to say so */
	check_post("defaults\n" TIMEOUTS "backend be\n  server s1 127.0.0.1:80\n", ERR_ABORT, "");
	check_post("", ERR_ABORT, "");
}

static void test_post_parse_resolution(void **state)
{
	reset_state();
	assert_int_equal(parse("defaults\n" TIMEOUTS "  mode http\n"
	                       "frontend fe\n  bind 127.0.0.1:0\n  default_backend be\n  use_backend li\n"
	                       "backend be\n  server s1 127.0.0.1:80\n"
	                       "listen li\n  bind 127.0.0.1:0\n  server s2 127.0.0.1:81\n"
	                       "listen li2\n  bind 127.0.0.1:0\n  default_backend be\n"), 0);
	assert_int_equal(post(), 0);
	assert_string_equal(out, "");
	struct proxy *fe = px_get("fe", 0), *be = px_get("be", 0), *li = px_get("li", 0), *li2 = px_get("li2", 0);
	assert_ptr_equal(fe->defbe, be);
	assert_ptr_equal(list_first(&fe->switching_rules, struct switching_rule, list)->be, li);
	/* a listen section is its own default backend, unless told otherwise */
	assert_ptr_equal(li->defbe, li);
	assert_ptr_equal(li2->defbe, be);
	assert_null(be->defbe);
	/* numbered in order */
	assert_int_equal(fe->uuid, 1);
	assert_int_equal(be->uuid, 2);
	assert_int_equal(li->uuid, 3);
	assert_int_equal(li2->uuid, 4);
}

/* ------------------------------------------------------------ limits */

static void test_error_limit(void **state)
{
	char cfg[4096] = "global\n", exp[8192] = "";
	size_t cl = strlen(cfg), el = 0;

	for (int i = 0; i < 60; i++)
		cl += (size_t)snprintf(cfg + cl, sizeof(cfg) - cl, "  frobnicate%d\n", i);
	for (int i = 0; i < 50; i++)
		el += (size_t)snprintf(exp + el, sizeof(exp) - el,
		                       "config : parsing [t:%d] : unknown keyword 'frobnicate%d' in 'global' section\n",
		                       i + 2, i);
	snprintf(exp + el, sizeof(exp) - el, "config : too many errors, stopping after 50\n");

	reset_state();
	assert_int_equal(parse(cfg), ALERT | ERR_ABORT);
	assert_string_equal(out, exp);

	/* refused section lines count too */
	cl = 0;
	for (int i = 0; i < 30; i++)
		cl += (size_t)snprintf(cfg + cl, sizeof(cfg) - cl, "frontend\nmailers u%d\n", i);
	reset_state();
	assert_int_equal(parse(cfg), ALERT | ERR_ABORT);
	assert_non_null(strstr(out, L(50, "'mailers' sections are not supported by proxyd; its content is ignored "
	                                  "until the next section")
	                            "config : too many errors, stopping after 50\n"));
	assert_null(strstr(out, "[t:51]"));

	/* warnings do not count */
	cl = (size_t)snprintf(cfg, sizeof(cfg), "frontend fe\n");
	for (int i = 0; i < 60; i++)
		cl += (size_t)snprintf(cfg + cl, sizeof(cfg) - cl, "  timeout server 1s\n");
	cl += (size_t)snprintf(cfg + cl, sizeof(cfg) - cl, "  frobnicate\n");
	reset_state();
	assert_int_equal(parse(cfg), WARN | ALERT);
	assert_non_null(strstr(out, L(62, "unknown keyword 'frobnicate' in 'frontend' section")));

	/* several messages about one line count once */
	cl = (size_t)snprintf(cfg, sizeof(cfg), "frontend fe\n");
	for (int i = 0; i < 49; i++)
		cl += (size_t)snprintf(cfg + cl, sizeof(cfg) - cl, "  bind 1.2.3.4,5.6.7.8\n");
	cl += (size_t)snprintf(cfg + cl, sizeof(cfg) - cl, "  frobnicate\n  frobnicate2\n");
	reset_state();
	assert_int_equal(parse(cfg), ALERT | ERR_ABORT);
	assert_non_null(strstr(out, L(51, "unknown keyword 'frobnicate' in 'frontend' section")
	                            "config : too many errors, stopping after 50\n"));
	assert_null(strstr(out, "frobnicate2"));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_unknown_keywords),
		T(test_wrong_section),
		T(test_capability_warnings),
		T(test_not_supported_yet),
		T(test_argument_counts),
		T(test_numbers),
		T(test_time_trailing_garbage),
		T(test_global_values),
		T(test_prefixes),
		T(test_log_keywords),
		T(test_options),
		T(test_option_values),
		T(test_mode_reuse_timeout_balance),
		T(test_errorfile),
		T(test_server_errors),
		T(test_server_unresolvable),
		T(test_server_values),
		T(test_bind_errors),
		T(test_bind_values),
		T(test_http_request_return_errors),
		T(test_http_request_return_values),
		T(test_use_backend),
		T(test_default_backend),
		T(test_sections),
		T(test_foreign_sections),
		T(test_proxy_caps),
		T(test_defaults_inheritance),
		T(test_defaults_reset),
		T(test_reset_between_configurations),
		T(test_deinit_forgets_parser_state),
		T(test_post_parse),
		T(test_post_parse_resolution),
		T(test_error_limit),
	};
#undef T

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
