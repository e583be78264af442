"""Cookie persistence: "cookie" in a backend (insert, rewrite, prefix and
passive modes, indirect, nocache, postonly, preserve, httponly, secure,
domain, attr, maxidle, maxlife), "cookie" on servers, option persist,
force-persist, ignore-persist, option redispatch breaking persistence,
the cookie letters of the log (%tsc), keep-alive and queueing on a full
server, and the configuration errors.

The origins are named like the servers (s1, s2, ...) and say who answered
in X-Origin; what a server saw is in its origin's log. The log lines come
from `proxyd -d` on stderr, and from HAProxy's `log stderr` with `option
httplog` under the oracle: the same configuration serves both (proxyd
accepts and ignores the log lines)."""

import re
import time
import unittest

import harness as H
from harness import (BASE_DEFAULTS, BASE_GLOBAL, DeadPort, Delay, Fixed, HTTPConn, ProxyTestCase,
                     free_port, hgetall, http, indent, proxyd_only, render, run_bin, scaled)

LOG_GLOBAL = "log stderr format raw local0"
LOG_DEFAULTS = "log global\noption httplog"

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def cookie_date(t):
    """A maxidle/maxlife date as HAProxy writes it: the time in units of
    4 seconds, 30 bits in 5 base64 characters."""
    v = int(t) >> 2
    return "".join(B64[(v >> s) & 63] for s in (24, 18, 12, 6, 0))


def C(value):
    return [("Cookie", value)]


class CookieTest(ProxyTestCase):
    """A frontend, one backend "be" with the given lines (origin addresses
    as {{s1}}, {{s2}} ...), one origin per server name."""

    def start(self, backend, servers=("s1", "s2"), routes=None, frontend="", defaults="",
              extra="", **values):
        self.o = {}
        self.sent = {}
        for name in servers:
            o = self.origin(name=name)
            for path, handler in (routes or {}).items():
                o.route(path, handler)
            self.o[name] = o
        values.update({n: o.addr for n, o in self.o.items()})
        port = free_port()
        cfg = (BASE_GLOBAL + indent(LOG_GLOBAL) + BASE_DEFAULTS + indent(LOG_DEFAULTS)
               + indent(defaults) + "frontend fe\n    bind 127.0.0.1:%d\n" % port
               + indent(frontend) + "    default_backend be\n"
               + "backend be\n" + indent(render(backend, **values)) + render(extra, **values))
        self.proxy = self.start_proxy(cfg, debug=True)
        self.addr = ("127.0.0.1", port)
        return self.addr

    def get(self, path="/", cookie=None, method="GET", headers=None, body=None):
        self.sent[(method, path)] = self.sent.get((method, path), 0) + 1
        hdrs = list(headers or [])
        if cookie is not None:
            hdrs += C(cookie)
        return http(self.addr, method, path, headers=hdrs, body=body)

    def seen_cookie(self, resp):
        """The Cookie header(s) the server that answered received."""
        req = self.o[resp.header("X-Origin")].log[-1]
        return hgetall(req.headers, "cookie")

    def letters(self, path, method="GET", timeout=None):
        """The cookie letters (3rd and 4th of %tsc) of the log line of the
        last request sent by get() for <path> (or the only one), waited for."""
        pat = re.compile(r' (\S{4}) \d+/\d+/\d+/\d+/\+?\d+ \d+/\d+ "%s %s HTTP/1\.[01]"'
                         % (method, re.escape(path)))
        nth = self.sent.get((method, path), 1)
        deadline = time.monotonic() + (timeout or scaled(5))
        while True:
            found = pat.findall(self.proxy.stderr())
            if len(found) >= nth:
                return found[nth - 1][2:]
            if time.monotonic() > deadline:
                self.fail("no log line for %s %s in:\n%s" % (method, path, self.proxy.stderr()[-3000:]))
            time.sleep(0.02)

    def wait_health(self, name, path="/health", count=2):
        """Until origin <name> has answered <count> health checks."""
        o = self.o[name]
        ok = o.wait_for(lambda o: sum(1 for r in o.log if r.path == path) >= count, scaled(5))
        self.assertTrue(ok, "no health checks reached %s" % name)
        time.sleep(0.05)


TWO = """
    cookie SRV insert indirect
    server s1 {{s1}} cookie a
    server s2 {{s2}} cookie b
"""


class Insert(CookieTest):

    def test_set_cookie_format_and_first_balancing(self):
        self.start(TWO)
        r = self.get("/first")
        self.assertEqual(r.header("X-Origin"), "s1")
        self.assertEqual(hgetall(r.headers, "set-cookie"), ["SRV=a; path=/"])
        self.assertEqual(self.letters("/first"), "NI")
        r = self.get("/second")
        self.assertEqual(r.header("X-Origin"), "s2")
        self.assertEqual(hgetall(r.headers, "set-cookie"), ["SRV=b; path=/"])

    def test_valid_cookie_sticks_and_is_not_inserted_again(self):
        self.start(TWO)
        for i in range(4):
            r = self.get("/v%d" % i, "SRV=b")
            self.assertEqual(r.header("X-Origin"), "s2")
            self.assertEqual(hgetall(r.headers, "set-cookie"), [])
            self.assertEqual(self.letters("/v%d" % i), "VN")
        self.assertEqual(self.o["s1"].requests, 0)

    def test_persisted_requests_do_not_move_the_round_robin(self):
        self.start(TWO)
        self.assertEqual(self.get("/1").header("X-Origin"), "s1")
        for _ in range(3):
            self.assertEqual(self.get("/", "SRV=a").header("X-Origin"), "s1")
        self.assertEqual(self.get("/2").header("X-Origin"), "s2")
        self.assertEqual(self.get("/3").header("X-Origin"), "s1")

    def test_unknown_or_empty_value_gets_a_new_cookie(self):
        self.start(TWO)
        for i, value in enumerate(["SRV=zz", "SRV=", "SRV=b0", "SRV=B", 'SRV="b"', "srv=b"]):
            with self.subTest(cookie=value):
                r = self.get("/u%d" % i, value)
                sc = hgetall(r.headers, "set-cookie")
                self.assertEqual(sc, ["SRV=%s; path=/" % {"s1": "a", "s2": "b"}[r.header("X-Origin")]])
                self.assertEqual(self.letters("/u%d" % i), "NI" if value.startswith("srv") else "II")

    def test_server_in_maintenance_is_not_used(self):
        self.start("""
            cookie SRV insert indirect
            server s1 {{s1}} cookie a
            server s2 {{s2}} cookie b disabled
        """)
        for i in range(3):
            r = self.get("/m%d" % i, "SRV=b")
            self.assertEqual(r.header("X-Origin"), "s1")
            self.assertEqual(hgetall(r.headers, "set-cookie"), ["SRV=a; path=/"])
            self.assertEqual(self.letters("/m%d" % i), "DI")
        self.assertEqual(self.o["s2"].requests, 0)

    def test_server_failing_its_health_check_is_not_used(self):
        self.start("""
            cookie SRV insert indirect
            option httpchk GET /health
            server s1 {{s1}} cookie a check inter 100 fall 1 rise 1
            server s2 {{s2}} cookie b check inter 100 fall 1 rise 1
        """, servers=("s1", "s2"))
        self.o["s2"].route("/health", Fixed(b"sick", status=500))
        self.wait_health("s2")
        r = self.get("/down", "SRV=b")
        self.assertEqual(r.header("X-Origin"), "s1")
        self.assertEqual(hgetall(r.headers, "set-cookie"), ["SRV=a; path=/"])
        self.assertEqual(self.letters("/down"), "DI")
        # it comes back: the cookie works again
        self.o["s2"].route("/health", Fixed(b"ok"))
        before = sum(1 for r in self.o["s2"].log if r.path == "/health")
        self.wait_health("s2", count=before + 2)
        r = self.get("/up", "SRV=b")
        self.assertEqual(r.header("X-Origin"), "s2")
        self.assertEqual(self.letters("/up"), "VN")

    def test_first_usable_occurrence_wins(self):
        self.start(TWO)
        cases = [("SRV=zz; SRV=b", "s2", "VN"), ("SRV=b; SRV=zz", "s2", "VN"),
                 ("SRV=a; SRV=b", "s1", "VN"), ("SRV=b; SRV=a", "s2", "VN")]
        for i, (value, srv, letters) in enumerate(cases):
            with self.subTest(cookie=value):
                r = self.get("/o%d" % i, value)
                self.assertEqual(r.header("X-Origin"), srv)
                self.assertEqual(self.seen_cookie(r), [])   # both occurrences removed
                self.assertEqual(self.letters("/o%d" % i), letters)
        # in two Cookie headers
        r = self.get("/two", headers=C("SRV=a") + C("SRV=b"))
        self.assertEqual(r.header("X-Origin"), "s1")
        self.assertEqual(self.seen_cookie(r), [])

    def test_blanks_around_equal_sign(self):
        self.start(TWO)
        r = self.get("/", "x = 1 ; SRV = b ; y = 2")
        self.assertEqual(r.header("X-Origin"), "s2")
        self.assertEqual(self.seen_cookie(r), ["x=1; y=2"])

    def test_without_indirect_the_server_sees_the_cookie(self):
        self.start("""
            cookie SRV insert
            server s1 {{s1}} cookie a
            server s2 {{s2}} cookie b
        """)
        r = self.get("/", "x=1; SRV=b; y=2")
        self.assertEqual(r.header("X-Origin"), "s2")
        self.assertEqual(self.seen_cookie(r), ["x=1; SRV=b; y=2"])
        self.assertEqual(hgetall(r.headers, "set-cookie"), [])

    def test_server_cookie_of_that_name_is_replaced(self):
        self.start(TWO, routes={"/sc": Fixed(b"x", headers=[("Set-Cookie", "SRV=app; Path=/app"),
                                                            ("Set-Cookie", "other=1")])})
        r = self.get("/sc")
        self.assertEqual(hgetall(r.headers, "set-cookie"), ["other=1", "SRV=a; path=/"])
        self.assertEqual(self.letters("/sc"), "NI")
        # the client had a valid one: the server's goes, nothing is added
        r = self.get("/sc", "SRV=b", method="POST", body=b"")
        self.assertEqual(hgetall(r.headers, "set-cookie"), ["other=1"])
        self.assertEqual(self.letters("/sc", "POST"), "VD")

    def test_server_without_cookie_expires_the_clients(self):
        self.start("""
            cookie SRV insert indirect httponly domain .example.com attr SameSite=Lax
            server s1 {{s1}} cookie a
            server s2 {{s2}}
        """)
        self.get("/1")
        expired = ("SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/; domain=.example.com; "
                   "HttpOnly; SameSite=Lax")
        r = self.get("/2")                           # round robin: s2, no cookie sent
        self.assertEqual(r.header("X-Origin"), "s2")
        self.assertEqual(hgetall(r.headers, "set-cookie"), [expired])
        self.assertEqual(self.letters("/2"), "NI")
        r = self.get("/3", "SRV=zz")                 # s1
        r = self.get("/4", "SRV=zz")                 # s2 again
        self.assertEqual(hgetall(r.headers, "set-cookie"), [expired])
        self.assertEqual(self.letters("/4"), "II")

    def test_attributes(self):
        self.start("""
            cookie SRV insert indirect httponly secure domain .example.com domain b.example.org attr SameSite=Lax attr Priority=High
            server s1 {{s1}} cookie a
            server s2 {{s2}} cookie b
        """)
        r = self.get("/")
        self.assertEqual(hgetall(r.headers, "set-cookie"),
                         ["SRV=a; path=/; domain=.example.com; domain=b.example.org; HttpOnly; Secure; "
                          "SameSite=Lax; Priority=High"])

    def test_postonly(self):
        self.start("""
            cookie SRV insert indirect postonly
            server s1 {{s1}} cookie a
            server s2 {{s2}} cookie b
        """)
        r = self.get("/g")
        self.assertEqual(hgetall(r.headers, "set-cookie"), [])
        self.assertEqual(self.letters("/g"), "NN")
        r = self.get("/p", method="POST", body=b"login")
        self.assertEqual(hgetall(r.headers, "set-cookie"), ["SRV=%s; path=/" % ("a" if r.header("X-Origin") == "s1" else "b")])
        self.assertEqual(self.letters("/p", "POST"), "NI")
        r = self.get("/p2", "SRV=zz", method="PUT", body=b"")
        self.assertEqual(hgetall(r.headers, "set-cookie"), [])

    def test_preserve_leaves_the_servers_cookie(self):
        logout = "SRV=; Max-Age=0; path=/"
        self.start("""
            cookie SRV insert indirect preserve
            server s1 {{s1}} cookie a
            server s2 {{s2}} cookie b
        """, routes={"/logout": Fixed(b"bye", headers=[("Set-Cookie", logout)])})
        r = self.get("/logout", "SRV=b")
        self.assertEqual(r.header("X-Origin"), "s2")
        self.assertEqual(hgetall(r.headers, "set-cookie"), [logout])
        self.assertEqual(self.letters("/logout"), "VP")
        r = self.get("/logout")
        self.assertEqual(hgetall(r.headers, "set-cookie"), [logout])
        self.assertEqual(self.letters("/logout"), "NP")
        r = self.get("/other")                      # no server cookie: inserted as usual
        self.assertEqual(len(hgetall(r.headers, "set-cookie")), 1)
        self.assertEqual(self.letters("/other"), "NI")


class Indirect(CookieTest):
    """insert+indirect: the server never sees the persistence cookie; the
    other cookies reach it untouched, wherever ours was."""

    def test_positions(self):
        self.start(TWO)
        cases = [
            ("SRV=b", []),
            ("SRV=b; x=1", ["x=1"]),
            ("x=1; SRV=b", ["x=1"]),
            ("x=1; SRV=b; y=2", ["x=1; y=2"]),
            ("x=1;SRV=b;y=2", ["x=1; y=2"]),
            ("x=1 ;  SRV=b  ;  y=2", ["x=1; y=2"]),
            ("x=1, SRV=b, y=2", ["x=1, y=2"]),
            ("x=1,SRV=b", ["x=1"]),
            ('q="a;b"; SRV=b; z="c,d"', ['q="a;b"; z="c,d"']),
            ("x; SRV=b; y", ["x; y"]),
            ("SRVX=1; SRV=b; XSRV=2", ["SRVX=1; XSRV=2"]),
            ("$Version=1; SRV=b; $Path=/; x=1; $Path=/x", ["$Version=1; x=1; $Path=/x"]),
        ]
        for value, seen in cases:
            with self.subTest(cookie=value):
                r = self.get("/", value)
                self.assertEqual(r.header("X-Origin"), "s2")
                self.assertEqual(self.seen_cookie(r), seen)
                self.assertEqual(hgetall(r.headers, "set-cookie"), [])

    def test_exact_bytes_sent_to_the_server(self):
        self.start(TWO)
        for value, line in [("SRV=b; x=1", b"cookie: x=1"), ("x=1; SRV=b; y=2", b"cookie: x=1; y=2"),
                            ("x=1 ; SRV=b ; y=2", b"cookie: x=1; y=2")]:
            with self.subTest(cookie=value):
                r = self.get("/", value)
                raw = self.o[r.header("X-Origin")].log[-1].raw_head
                lines = [l.lower() if l.lower().startswith(b"cookie:") else l for l in raw.split(b"\r\n")]
                self.assertIn(line, lines)

    def test_several_cookie_headers(self):
        self.start(TWO)
        r = self.get("/", headers=C("x=1") + C("SRV=b") + C("y=2; SRV=b"))
        self.assertEqual(r.header("X-Origin"), "s2")
        self.assertEqual(self.seen_cookie(r), ["x=1", "y=2"])


class NoCache(CookieTest):
    """nocache: "Cache-Control: private" after an inserted cookie, only when
    a shared cache could keep the response (HAProxy's rules)."""

    ROUTES = {
        "/plain": [],
        "/max-age": [("Cache-Control", "max-age=60")],
        "/s-maxage": [("Cache-Control", "s-maxage=60")],
        "/expires": [("Expires", "Thu, 01 Jan 2037 00:00:00 GMT")],
        "/last-modified": [("Last-Modified", "Thu, 01 Jan 2015 00:00:00 GMT")],
        "/etag": [("ETag", '"v1"')],
        "/public": [("Cache-Control", "public")],
        "/private": [("Cache-Control", "private, max-age=60")],
        "/no-store": [("Cache-Control", "no-store"), ("ETag", '"v1"')],
        "/no-cache": [("Cache-Control", "no-cache"), ("ETag", '"v1"')],
        "/max-age-0": [("Cache-Control", "max-age=0"), ("ETag", '"v1"')],
        "/pragma": [("Pragma", "no-cache"), ("ETag", '"v1"')],
        "/private-then-public": [("Cache-Control", "private"), ("Cache-Control", "public"), ("ETag", '"v1"')],
        "/public-then-private": [("Cache-Control", "public, private"), ("ETag", '"v1"')],
        "/no-cache-set-cookie": [("Cache-Control", 'no-cache="set-cookie"'), ("ETag", '"v1"')],
        "/public-max-age": [("Cache-Control", "public, max-age=60")],
    }
    STATUS = {"/404": 404, "/301": 301, "/302": 302, "/500": 500, "/403": 403}

    def setUp(self):
        super().setUp()
        routes = {p: Fixed(b"x", headers=h) for p, h in self.ROUTES.items()}
        routes.update({p: Fixed(b"x", status=st, headers=[("ETag", '"v1"')]) for p, st in self.STATUS.items()})
        self.start("""
            cookie SRV insert indirect nocache
            server s1 {{s1}} cookie a
            server s2 {{s2}} cookie b
        """, routes=routes)

    def private(self, path, method="GET", cookie=None):
        """Did the proxy add "Cache-Control: private" to the response?"""
        r = self.get(path, cookie, method=method, body=b"" if method in ("POST", "PUT") else None)
        added = hgetall(r.headers, "cache-control")
        for k, v in self.ROUTES.get(path, []):
            if k.lower() == "cache-control":
                added.remove(v)
        self.assertIn(added, ([], ["private"]))
        return added == ["private"]

    def test_freshness_or_validator_needed(self):
        for path, want in [("/plain", False), ("/max-age", True), ("/s-maxage", True), ("/expires", True),
                           ("/last-modified", True), ("/etag", True), ("/public", False)]:
            with self.subTest(path=path):
                self.assertEqual(self.private(path), want)

    def test_responses_marked_private_already(self):
        for path, want in [("/no-store", False), ("/no-cache", False), ("/max-age-0", False),
                           ("/pragma", False), ("/private-then-public", True),
                           ("/public-then-private", False), ("/no-cache-set-cookie", True)]:
            with self.subTest(path=path):
                self.assertEqual(self.private(path), want)
        r = self.get("/private")
        self.assertEqual(hgetall(r.headers, "cache-control"), ["private, max-age=60"])

    def test_statuses(self):
        for path, want in [("/404", True), ("/301", True), ("/302", False), ("/500", False), ("/403", False)]:
            with self.subTest(path=path):
                self.assertEqual(self.private(path), want)

    def test_methods(self):
        for method, path, want in [("HEAD", "/etag", True), ("OPTIONS", "/etag", True), ("POST", "/etag", False),
                                   ("PUT", "/etag", False), ("POST", "/public-max-age", True)]:
            with self.subTest(method=method, path=path):
                self.assertEqual(self.private(path, method), want)

    def test_only_when_a_cookie_is_inserted(self):
        self.assertFalse(self.private("/etag", cookie="SRV=a"))
        self.assertTrue(self.private("/etag", cookie="SRV=zz"))


class Dates(CookieTest):
    """maxidle / maxlife: "SRV=a|<last seen>|<first seen>", each date 5
    base64 characters counting 4 seconds, as HAProxy."""

    def dated(self, options):
        self.start("""
            cookie SRV insert indirect %s
            server s1 {{s1}} cookie a
            server s2 {{s2}} cookie b
        """ % options)

    def assertDate(self, text, t0, t1):
        """<text> is a date written between t0 and t1 (HAProxy rounds up)."""
        self.assertIn(text, {cookie_date(t + 3) for t in range(int(t0), int(t1) + 2)})

    def parse(self, resp):
        sc = hgetall(resp.headers, "set-cookie")
        self.assertEqual(len(sc), 1, sc)
        value, _, rest = sc[0].partition("; ")
        self.assertEqual(rest, "path=/")
        return value.split("=", 1)[1].split("|")

    def test_maxidle_format(self):
        self.dated("maxidle 30m")
        t0 = time.time()
        r = self.get("/")
        parts = self.parse(r)
        self.assertEqual(len(parts), 2, parts)
        self.assertEqual(parts[0], "a")
        self.assertDate(parts[1], t0, time.time())

    def test_maxlife_format_and_both(self):
        self.dated("maxlife 8h")
        t0 = time.time()
        parts = self.parse(self.get("/"))
        self.assertEqual(len(parts), 3, parts)
        self.assertDate(parts[1], t0, time.time())
        self.assertEqual(parts[1], parts[2])

    def test_idle_cookie_expires(self):
        self.dated("maxidle 30m")
        now = time.time()
        r = self.get("/old", "SRV=b|" + cookie_date(now - 3600))
        self.assertEqual(self.letters("/old"), "EI")
        self.assertEqual(len(self.parse(r)), 2)
        r = self.get("/future", "SRV=b|" + cookie_date(now + 2 * 86400))
        self.assertEqual(self.letters("/future"), "EI")

    def test_old_cookie_expires(self):
        self.dated("maxidle 30m maxlife 1h")
        now = time.time()
        r = self.get("/old", "SRV=b|%s|%s" % (cookie_date(now - 60), cookie_date(now - 7200)))
        self.assertEqual(self.letters("/old"), "OI")
        parts = self.parse(r)
        self.assertEqual(parts[1], parts[2])    # a new first-seen date

    def test_recent_cookie_is_valid_and_refreshed(self):
        self.dated("maxidle 30m maxlife 8h")
        now = time.time()
        first = cookie_date(now - 3600)
        r = self.get("/r", "SRV=b|%s|%s" % (cookie_date(now - 60), first))
        self.assertEqual(r.header("X-Origin"), "s2")
        self.assertEqual(self.letters("/r"), "VU")
        parts = self.parse(r)
        self.assertEqual(parts[0], "b")
        self.assertDate(parts[1], now - 1, time.time())
        self.assertEqual(parts[2], first)       # the first-seen date stays

    def test_last_date_ahead_needs_no_refresh(self):
        self.dated("maxidle 30m")
        r = self.get("/a", "SRV=b|" + cookie_date(time.time() + 60))
        self.assertEqual(r.header("X-Origin"), "s2")
        self.assertEqual(hgetall(r.headers, "set-cookie"), [])
        self.assertEqual(self.letters("/a"), "VN")

    def test_cookie_without_date_is_accepted_and_dated(self):
        self.dated("maxidle 30m")
        r = self.get("/n", "SRV=b")
        self.assertEqual(r.header("X-Origin"), "s2")
        self.assertEqual(self.letters("/n"), "VU")
        self.assertEqual(self.parse(r)[0], "b")

    def test_dates_are_removed_when_not_configured(self):
        self.start(TWO)
        r = self.get("/d", "SRV=b|" + cookie_date(time.time() - 60))
        self.assertEqual(r.header("X-Origin"), "s2")
        self.assertEqual(hgetall(r.headers, "set-cookie"), ["SRV=b; path=/"])
        self.assertEqual(self.letters("/d"), "VU")


class Rewrite(CookieTest):

    def test_rewrite(self):
        self.start("""
            cookie JSESSIONID rewrite
            server s1 {{s1}} cookie a
            server s2 {{s2}} cookie b
        """, routes={"/login": Fixed(b"x", headers=[("Set-Cookie", "JSESSIONID=xyz123; Path=/app; HttpOnly")])})
        r = self.get("/login")
        self.assertEqual(r.header("X-Origin"), "s1")
        self.assertEqual(hgetall(r.headers, "set-cookie"), ["JSESSIONID=a; Path=/app; HttpOnly"])
        self.assertEqual(self.letters("/login"), "NR")
        r = self.get("/page", "JSESSIONID=b")
        self.assertEqual(r.header("X-Origin"), "s2")
        self.assertEqual(self.seen_cookie(r), ["JSESSIONID=b"])     # rewrite never removes it
        self.assertEqual(hgetall(r.headers, "set-cookie"), [])       # nothing inserted
        self.assertEqual(self.letters("/page"), "VN")
        r = self.get("/login", "JSESSIONID=b")
        self.assertEqual(hgetall(r.headers, "set-cookie"), ["JSESSIONID=b; Path=/app; HttpOnly"])
        self.assertEqual(self.letters("/login"), "VR")


class Prefix(CookieTest):

    def setUp(self):
        super().setUp()
        self.start("""
            cookie JSESSIONID prefix
            server s1 {{s1}} cookie a
            server s2 {{s2}} cookie b
        """, routes={"/login": Fixed(b"x", headers=[("Set-Cookie", "JSESSIONID=abc123; Path=/")])})

    def test_client_sees_the_prefix(self):
        r = self.get("/login")
        self.assertEqual(hgetall(r.headers, "set-cookie"), ["JSESSIONID=a~abc123; Path=/"])
        self.assertEqual(self.letters("/login"), "NR")

    def test_server_sees_its_own_value(self):
        r = self.get("/p1", "x=1; JSESSIONID=b~abc123; y=2")
        self.assertEqual(r.header("X-Origin"), "s2")
        self.assertEqual(self.seen_cookie(r), ["x=1; JSESSIONID=abc123; y=2"])
        self.assertEqual(hgetall(r.headers, "set-cookie"), [])
        self.assertEqual(self.letters("/p1"), "VN")
        # an unknown server: balanced, the prefix still goes
        r = self.get("/p2", "JSESSIONID=zz~abc123")
        self.assertEqual(self.seen_cookie(r), ["JSESSIONID=abc123"])
        self.assertEqual(self.letters("/p2"), "IN")

    def test_value_without_delimiter_is_the_server_id(self):
        r = self.get("/w1", "JSESSIONID=b")
        self.assertEqual(r.header("X-Origin"), "s2")
        self.assertEqual(self.seen_cookie(r), ["JSESSIONID=b"])
        self.assertEqual(self.letters("/w1"), "VN")
        r = self.get("/w2", "JSESSIONID=abc123")
        self.assertEqual(self.letters("/w2"), "IN")

    def test_server_updates_its_cookie(self):
        r = self.get("/login", "JSESSIONID=b~old")
        self.assertEqual(r.header("X-Origin"), "s2")
        self.assertEqual(hgetall(r.headers, "set-cookie"), ["JSESSIONID=b~abc123; Path=/"])
        self.assertEqual(self.letters("/login"), "VR")


class Passive(CookieTest):

    def test_passive(self):
        self.start("""
            cookie SRV
            server s1 {{s1}} cookie a
            server s2 {{s2}} cookie b
        """, routes={"/sc": Fixed(b"x", headers=[("Set-Cookie", "SRV=b; path=/")])})
        r = self.get("/p", "SRV=b")
        self.assertEqual(r.header("X-Origin"), "s2")
        self.assertEqual(self.seen_cookie(r), ["SRV=b"])
        self.assertEqual(hgetall(r.headers, "set-cookie"), [])
        r = self.get("/sc")
        self.assertEqual(hgetall(r.headers, "set-cookie"), ["SRV=b; path=/"])
        # a passive cookie changes nothing: no letters in the log
        self.assertEqual(self.letters("/p"), "--")
        self.assertEqual(self.letters("/sc"), "--")

    def test_passive_indirect(self):
        self.start("""
            cookie SRV indirect
            server s1 {{s1}} cookie a
            server s2 {{s2}} cookie b
        """, routes={"/sc": Fixed(b"x", headers=[("Set-Cookie", "SRV=b; path=/")])})
        r = self.get("/sc", "SRV=b")
        self.assertEqual(r.header("X-Origin"), "s2")
        self.assertEqual(self.seen_cookie(r), ["SRV=b"])
        self.assertEqual(hgetall(r.headers, "set-cookie"), [])    # the client has it
        self.assertEqual(self.letters("/sc"), "VD")
        r = self.get("/sc")
        self.assertEqual(hgetall(r.headers, "set-cookie"), ["SRV=b; path=/"])
        self.assertEqual(self.letters("/sc"), "NP")


DOWN_S2 = """
    cookie SRV insert indirect
    server s1 {{s1}} cookie a
    server s2 {{s2}} cookie b disabled
"""


class Persist(CookieTest):

    def test_option_persist_uses_a_server_in_maintenance(self):
        self.start(DOWN_S2 + "option persist")
        r = self.get("/p", "SRV=b")
        self.assertEqual(r.header("X-Origin"), "s2")
        self.assertEqual(hgetall(r.headers, "set-cookie"), [])
        self.assertEqual(self.letters("/p"), "DN")
        r = self.get("/n")
        self.assertEqual(r.header("X-Origin"), "s1")           # never balanced to it

    def test_option_persist_uses_a_server_failing_its_check(self):
        self.start("""
            cookie SRV insert indirect
            option persist
            option httpchk GET /health
            server s1 {{s1}} cookie a check inter 100 fall 1 rise 1
            server s2 {{s2}} cookie b check inter 100 fall 1 rise 1
        """)
        self.o["s2"].route("/health", Fixed(b"sick", status=503))
        self.wait_health("s2")
        r = self.get("/p", "SRV=b")
        self.assertEqual(r.header("X-Origin"), "s2")
        self.assertEqual(self.letters("/p"), "DN")

    def test_force_persist(self):
        self.start(DOWN_S2 + "force-persist if { hdr(x-tester) 1 }")
        r = self.get("/f", "SRV=b", headers=[("X-Tester", "1")])
        self.assertEqual(r.header("X-Origin"), "s2")
        self.assertEqual(self.letters("/f"), "DN")
        r = self.get("/n", "SRV=b")
        self.assertEqual(r.header("X-Origin"), "s1")
        self.assertEqual(self.letters("/n"), "DI")

    def test_force_persist_unless(self):
        self.start(DOWN_S2 + "force-persist unless { src 10.0.0.0/8 }")
        self.assertEqual(self.get("/", "SRV=b").header("X-Origin"), "s2")

    def test_ignore_persist(self):
        self.start(TWO + "ignore-persist if { path_beg /static }")
        for i in range(4):
            r = self.get("/static/%d" % i, "SRV=b")
            self.assertEqual(r.header("X-Origin"), "s1" if i % 2 == 0 else "s2")   # balanced
            self.assertEqual(hgetall(r.headers, "set-cookie"), [])               # nothing inserted
            self.assertEqual(self.seen_cookie(r), [])                            # still removed
            self.assertEqual(self.letters("/static/%d" % i), "UN")
        r = self.get("/static/x")
        self.assertEqual(hgetall(r.headers, "set-cookie"), [])
        self.assertEqual(self.letters("/static/x"), "NN")
        r = self.get("/app", "SRV=b")
        self.assertEqual(r.header("X-Origin"), "s2")

    def test_ignore_persist_leaves_server_cookies_alone(self):
        self.start(TWO + "ignore-persist if { path_beg /static }",
                   routes={"/static/sc": Fixed(b"x", headers=[("Set-Cookie", "SRV=app")])})
        r = self.get("/static/sc")
        self.assertEqual(hgetall(r.headers, "set-cookie"), ["SRV=app"])
        self.assertEqual(self.letters("/static/sc"), "NN")

    def test_first_matching_rule_wins(self):
        self.start(DOWN_S2 + """
            force-persist if { hdr(x-force) 1 }
            ignore-persist if { hdr(x-ignore) 1 }
        """)
        both = [("X-Force", "1"), ("X-Ignore", "1")]
        r = self.get("/both", "SRV=b", headers=both)
        self.assertEqual(r.header("X-Origin"), "s2")
        self.assertEqual(self.letters("/both"), "DN")
        r = self.get("/ign", "SRV=a", headers=[("X-Ignore", "1")])
        self.assertEqual(self.letters("/ign"), "UN")

    def test_rules_run_before_the_backends_http_request_rules(self):
        self.start(TWO + """
            http-request set-header X-Ignore 1
            ignore-persist if { hdr(x-ignore) 1 }
        """)
        for i in range(3):
            self.assertEqual(self.get("/r%d" % i, "SRV=b").header("X-Origin"), "s2")
            self.assertEqual(self.letters("/r%d" % i), "VN")

    def test_frontend_rules_are_ignored(self):
        self.start(TWO, frontend="ignore-persist if TRUE")
        self.assertEqual(self.get("/", "SRV=b").header("X-Origin"), "s2")
        self.assertIn("'ignore-persist' ignored because frontend 'fe' has no backend capability",
                      self.proxy.stderr())

    def test_listen_section(self):
        port = free_port()
        s1, s2 = self.origin(name="s1"), self.origin(name="s2")
        self.o = {"s1": s1, "s2": s2}
        self.sent = {}
        self.proxy = self.start_proxy(BASE_GLOBAL + indent(LOG_GLOBAL) + BASE_DEFAULTS + indent(LOG_DEFAULTS) + """
listen app
    bind 127.0.0.1:%d
    cookie SRV insert indirect
    ignore-persist if { hdr(x-ignore) 1 }
    server s1 %s cookie a
    server s2 %s cookie b
""" % (port, s1.addr, s2.addr), debug=True)
        self.addr = ("127.0.0.1", port)
        self.assertEqual(self.get("/1", "SRV=b").header("X-Origin"), "s2")
        self.assertEqual(self.get("/2", "SRV=b", headers=[("X-Ignore", "1")]).header("X-Origin"), "s1")
        self.assertEqual(self.letters("/2"), "UN")


class Redispatch(CookieTest):
    """The server named by the cookie refuses connections."""

    def dead(self, lines, retries=1):
        self.start("""
            cookie SRV insert indirect
            retries %d
            %s
            server s1 {{s1}} cookie a
            server s2 {{dead}} cookie b
        """ % (retries, lines), servers=("s1",), dead=DeadPort().addr)

    def timed(self, path, cookie):
        t = time.monotonic()
        r = self.get(path, cookie)
        return r, time.monotonic() - t

    def test_redispatch_breaks_persistence(self):
        self.dead("option redispatch")
        r, took = self.timed("/r", "SRV=b")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("X-Origin"), "s1")
        self.assertEqual(hgetall(r.headers, "set-cookie"), ["SRV=a; path=/"])
        self.assertEqual(self.letters("/r"), "DI")
        # another server is tried at once, without the 1 s turnaround
        self.assertLess(took, scaled(0.8))

    def test_redispatch_on_the_last_retry(self):
        self.dead("option redispatch", retries=2)
        r, took = self.timed("/r", "SRV=b")
        self.assertEqual(r.header("X-Origin"), "s1")
        self.assertEqual(self.letters("/r"), "DI")
        self.assertElapsed(took, 0.9, 1.8)          # one turnaround on s2, then s1

    def test_without_redispatch_503(self):
        self.dead("")
        r, took = self.timed("/r", "SRV=b")
        self.assertEqual(r.status, 503)
        self.assertEqual(self.letters("/r"), "VN")
        self.assertElapsed(took, 0.9, 2.5)

    def test_force_persist_disables_redispatch(self):
        self.dead("option redispatch\nforce-persist if TRUE")
        r, took = self.timed("/r", "SRV=b")
        self.assertEqual(r.status, 503)
        self.assertEqual(self.letters("/r"), "VN")

    def test_down_server_with_option_persist_is_left_at_once(self):
        # option persist sends it to the down server; redispatch leaves it
        # on the first failure (not on the 3rd retry): one turnaround only
        self.start("""
            cookie SRV insert indirect
            retries 3
            option persist
            option redispatch
            server s1 {{s1}} cookie a
            server s2 {{dead}} cookie b disabled
        """, servers=("s1",), dead=DeadPort().addr)
        r, took = self.timed("/p", "SRV=b")
        self.assertEqual(r.header("X-Origin"), "s1")
        self.assertEqual(hgetall(r.headers, "set-cookie"), ["SRV=a; path=/"])
        self.assertEqual(self.letters("/p"), "DI")
        self.assertElapsed(took, 0.9, 2.5)


class Connections(CookieTest):

    def test_keep_alive_requests_go_to_their_cookies_server(self):
        self.start(TWO)
        with HTTPConn(self.addr) as c:
            for i, (cookie, srv) in enumerate([("SRV=a", "s1"), ("SRV=b", "s2"), ("SRV=a", "s1"),
                                               ("SRV=b", "s2"), ("SRV=b", "s2"), ("SRV=a", "s1")]):
                r = c.request("GET", "/k%d" % i, headers=C(cookie))
                self.assertEqual(r.status, 200)
                self.assertEqual(r.header("X-Origin"), srv, "request %d" % i)
                self.assertEqual(hgetall(r.headers, "set-cookie"), [])
                self.assertEqual(self.seen_cookie(r), [])
            r = c.request("GET", "/k-new", headers=C("SRV=zz"))
            self.assertEqual(len(hgetall(r.headers, "set-cookie")), 1)
        self.assertEqual(self.letters("/k5"), "VN")
        self.assertEqual(self.letters("/k-new"), "II")

    def test_full_server_queues_persisted_requests(self):
        self.start("""
            cookie SRV insert indirect
            server s1 {{s1}} cookie a maxconn 1
            server s2 {{s2}} cookie b
        """, routes={"/slow": Delay(1.0)})
        slow = HTTPConn(self.addr)
        self.addCleanup(slow.close)
        slow.send(slow.build("GET", "/slow", headers=C("SRV=a")))
        self.assertTrue(self.o["s1"].wait_requests(1))
        t = time.monotonic()
        # a balanced request goes to the free server at once
        r = self.get("/free")
        self.assertEqual(r.header("X-Origin"), "s2")
        self.assertLess(time.monotonic() - t, scaled(0.5))
        # a persisted one waits for s1
        r = self.get("/queued", "SRV=a")
        took = time.monotonic() - t
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("X-Origin"), "s1")
        self.assertGreater(took, 0.5)
        self.assertEqual(slow.read_response().header("X-Origin"), "s1")
        self.assertEqual([q.path for q in self.o["s1"].log], ["/slow", "/queued"])
        self.assertEqual(self.letters("/queued"), "VN")


class Defaults(CookieTest):

    def test_cookie_in_defaults_and_no_option_persist(self):
        self.start("""
            server s1 {{s1}} cookie a
            server s2 {{s2}} cookie b disabled
            no option persist
        """, defaults="cookie SRV insert indirect\noption persist")
        r = self.get("/", "SRV=b")
        self.assertEqual(r.header("X-Origin"), "s1")
        self.assertEqual(hgetall(r.headers, "set-cookie"), ["SRV=a; path=/"])


    @proxyd_only("HAProxy keeps the 'attr' values of the defaults' cookie line when a backend "
                 "declares its own cookie (it resets the name, mode, options and domains but not "
                 "the attributes): SRV=a; path=/; SameSite=Lax")
    def test_backend_cookie_line_replaces_the_defaults_one(self):
        self.start(TWO, defaults="cookie OLD insert attr SameSite=Lax domain .example.com")
        r = self.get("/")
        self.assertEqual(hgetall(r.headers, "set-cookie"), ["SRV=a; path=/"])


class ConfigErrors(ProxyTestCase):
    """Refused configurations name the file and the line."""

    def check(self, backend, frontend=""):
        cfg = (BASE_GLOBAL + BASE_DEFAULTS + "frontend fe\n    bind 127.0.0.1:%d\n" % free_port()
               + "    default_backend be\n" + indent(frontend) + "backend be\n")
        self.first_line = cfg.count("\n") + 1      # the backend's first line
        cfg += indent(backend) + "    server s9 127.0.0.1:9 cookie z\n"
        path = self.write_file("t.cfg", cfg)
        rc, out, err = run_bin(["-c", "-f", path])
        return rc, err, path

    def assertRefused(self, line, *words):
        rc, err, path = self.check(line)
        self.assertNotEqual(rc, 0, err)
        self.assertIn("%s:%d]" % (path, self.first_line), err)
        for w in words:
            self.assertIn(w, err)

    def test_two_modes(self):
        self.assertRefused("cookie SRV insert rewrite", "'rewrite', 'insert' and 'prefix' modes are incompatible")
        self.assertRefused("cookie SRV prefix insert", "'rewrite', 'insert' and 'prefix' modes are incompatible")

    def test_rewrite_indirect(self):
        self.assertRefused("cookie SRV rewrite indirect", "'rewrite' and 'indirect' modes are incompatible")

    def test_preserve_alone(self):
        self.assertRefused("cookie SRV preserve", "'preserve' requires at least 'insert' or 'indirect'")
        self.assertRefused("cookie SRV rewrite preserve", "'preserve' requires at least 'insert' or 'indirect'")

    def test_invalid_characters(self):
        self.assertRefused("cookie SRV insert domain exa/mple.com",
                           "character '/' is not permitted in domain name 'exa/mple.com'")
        self.assertRefused("cookie SRV insert domain *.example.com", "character '*' is not permitted")
        self.assertRefused('cookie SRV insert attr "a;b"', "character '%x3B' is not permitted in attribute value")

    def test_domain_without_dot_warns(self):
        rc, err, path = self.check("cookie SRV insert domain localhost")
        self.assertEqual(rc, 0, err)
        self.assertIn("domain 'localhost' contains no embedded dot", err)

    def test_missing_arguments_and_unknown_option(self):
        self.assertRefused("cookie SRV insert domain", "'domain' expects <domain> as argument")
        self.assertRefused("cookie SRV insert maxidle", "maxidle")
        self.assertRefused("cookie SRV insert maxidle 10x", "unexpected character 'x'")
        self.assertRefused("cookie SRV insert nosuchoption", "cookie")
        self.assertRefused("cookie", "cookie")

    def test_no_cookie(self):
        # HAProxy: "negation/default currently supported only for options, ..."
        self.assertRefused("no cookie SRV")

    def test_persist_rules_need_a_condition(self):
        self.assertRefused("force-persist", "force-persist")
        self.assertRefused("ignore-persist", "ignore-persist")

    @proxyd_only("HAProxy accepts 'if' or 'unless' followed by nothing (as in http-request rules, "
                 "which proxyd refuses too)")
    def test_persist_rules_need_a_condition_after_if(self):
        self.assertRefused("ignore-persist if", "ignore-persist")
        self.assertRefused("force-persist unless", "force-persist")

    def test_persist_rules_in_defaults_or_frontend(self):
        cfg = BASE_GLOBAL + BASE_DEFAULTS + "    force-persist if TRUE\n"
        path = self.write_file("d.cfg", cfg)
        rc, out, err = run_bin(["-c", "-f", path])
        self.assertNotEqual(rc, 0)
        self.assertIn("d.cfg:9]", err)
        self.assertIn("'force-persist' not allowed in 'defaults' section", err.replace("is not allowed", "not allowed"))
        rc, err, path = self.check("cookie SRV insert", frontend="force-persist if TRUE")
        self.assertEqual(rc, 0, err)
        self.assertIn("%s:%d]" % (path, self.first_line - 2), err)
        self.assertIn("'force-persist' ignored because frontend 'fe' has no backend capability", err)

    def test_valid_combinations(self):
        for line in ["cookie SRV insert indirect nocache postonly preserve httponly secure "
                     "domain .example.com attr SameSite=Strict maxidle 30m maxlife 30d",
                     "cookie SRV prefix indirect", "cookie SRV indirect preserve", "cookie JSESSIONID rewrite",
                     "cookie SRV", "cookie SRV insert\n    option persist\n    force-persist if { src 10.0.0.1 }"]:
            with self.subTest(line=line):
                rc, err, path = self.check(line)
                self.assertEqual(rc, 0, err)

    @proxyd_only("HAProxy accepts maxidle/maxlife outside insert mode and ignores them")
    def test_maxidle_needs_insert(self):
        self.assertRefused("cookie SRV rewrite maxidle 10m", "maxidle and maxlife need insert mode")
        self.assertRefused("cookie SRV prefix maxlife 1h", "maxidle and maxlife need insert mode")

    @proxyd_only("HAProxy accepts any cookie name, even one that can never match")
    def test_invalid_cookie_name(self):
        self.assertRefused("cookie SRV=x insert", "invalid character '=' in the cookie name")
        self.assertRefused("cookie S;R insert", "invalid character ';'")

    @proxyd_only("HAProxy accepts ';', ',' and the like in a server's cookie value, which would "
                 "break the Set-Cookie header it inserts")
    def test_invalid_server_cookie_value(self):
        rc, err, path = self.check("cookie SRV insert\n    server s1 127.0.0.1:8 cookie a;b")
        self.assertNotEqual(rc, 0)
        self.assertIn("%s:%d]" % (path, self.first_line + 1), err)
        self.assertIn("invalid character ';' in a server cookie value", err)

    @proxyd_only("HAProxy accepts 'cookie' on a default-server line: every server then shares the "
                 "value and the first one gets all the persistent requests")
    def test_cookie_on_default_server(self):
        self.assertRefused("default-server cookie x", "'cookie' is a per-server value",
                           "default-server")


if __name__ == "__main__":
    unittest.main()
