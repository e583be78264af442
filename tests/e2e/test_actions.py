"""http-request / http-response actions: deny, allow, return, redirect
(and the redirect keyword), header edits, start-line edits, set-status,
variables, log-format values (%[expr], %%, converters), and the checks
made at load time."""

import unittest

import harness as H
from harness import (BASE_DEFAULTS, BASE_GLOBAL, Fixed, ProxyTestCase, differs_from_haproxy,
                     free_port, http, indent, run_bin)


class Actions(ProxyTestCase):

    def start(self, frontend, backend="", routes=None):
        self.o = self.origin()
        for path, handler in (routes or {}).items():
            self.o.route(path, handler)
        port = free_port()
        cfg = (BASE_GLOBAL + BASE_DEFAULTS + "frontend fe\n    bind 127.0.0.1:%d\n" % port
               + indent(frontend) + "    default_backend be\nbackend be\n    server s1 %s\n"
               % self.o.addr + indent(backend))
        self.proxy = self.start_proxy(cfg)
        self.addr = ("127.0.0.1", port)

    def get(self, path="/", **kw):
        return http(self.addr, kw.pop("method", "GET"), path, **kw)

    def seen(self, path="/", **kw):
        """The request as the origin received it (it must reach it)."""
        before = self.o.requests
        r = self.get(path, **kw)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.o.requests, before + 1)
        return self.o.log[-1]


class DenyAllowReturn(Actions):

    def setUp(self):
        super().setUp()
        self.start("""
            http-request deny if { path_beg /deny }
            http-request deny deny_status 429 if { path_beg /slow }
            http-request allow if { path_beg /open }
            http-request deny if { path_beg /open }
            http-request return status 201 content-type text/plain string created hdr X-Ret yes if { path_beg /ret }
            http-request set-header X-Reached-End 1
        """, backend="""
            http-request deny deny_status 404 if { path_beg /open/be }
        """)

    def test_deny_is_403_and_never_reaches_the_server(self):
        r = self.get("/deny/x")
        self.assertEqual(r.status, 403)
        self.assertIn(b"403 Forbidden", r.body)
        self.assertEqual(r.header("content-type"), "text/html")
        self.assertEqual(self.o.requests, 0)

    def test_deny_status(self):
        r = self.get("/slow")
        self.assertEqual(r.status, 429)
        self.assertIn(b"429 Too Many Requests", r.body)
        self.assertEqual(self.o.requests, 0)

    def test_allow_stops_the_frontend_rules_only(self):
        req = self.seen("/open/x")
        self.assertIsNone(req.header("X-Reached-End"))    # rules after allow are skipped
        # the backend's rules still run
        self.assertEqual(self.get("/open/be").status, 404)

    def test_return_with_a_condition(self):
        r = self.get("/ret")
        self.assertEqual((r.status, r.body), (201, b"created"))
        self.assertEqual(r.header("X-Ret"), "yes")
        self.assertEqual(r.header("content-type"), "text/plain")
        req = self.seen("/other")
        self.assertEqual(req.header("X-Reached-End"), "1")

    def test_keep_alive_after_deny(self):
        with H.HTTPConn(self.addr) as c:
            self.assertEqual(c.request("GET", "/deny").status, 403)
            self.assertEqual(c.request("GET", "/x").status, 200)


class Redirects(Actions):

    def setUp(self):
        super().setUp()
        self.start("""
            http-request redirect prefix https://new.example code 301 if { path_beg /p301 }
            http-request redirect prefix https://new.example code 302 drop-query if { path_beg /p302 }
            http-request redirect prefix / append-slash drop-query if { path_beg /slash }
            http-request redirect prefix /pre code 303 if { path_beg /p303 }
            http-request redirect scheme https code 307 if { path_beg /s307 }
            http-request redirect scheme https code 308 if { path_beg /s308 }
            http-request redirect location /login?from=%[path] if { path_beg /loc }
            http-request redirect location /x set-cookie SEEN=1 if { path_beg /cookie }
            http-request redirect location /x clear-cookie SEEN= if { path_beg /clear }
            http-request set-header X-Set-By-Rule 1
            http-request redirect location /by-http-request if { path_beg /order } { hdr(x-first) -m found }
            redirect location /by-redirect-keyword if { path_beg /order }
        """)

    def loc(self, path, **kw):
        r = self.get(path, **kw)
        self.assertEqual(self.o.requests, 0, "a redirect reached the server")
        return r.status, r.header("location")

    def test_prefix(self):
        self.assertEqual(self.loc("/p301/a?x=1"), (301, "https://new.example/p301/a?x=1"))
        self.assertEqual(self.loc("/p302/a?x=1"), (302, "https://new.example/p302/a"))
        self.assertEqual(self.loc("/p303/a?b"), (303, "/pre/p303/a?b"))

    def test_prefix_slash_append_slash(self):
        # a prefix of "/" adds nothing
        self.assertEqual(self.loc("/slash/a?x=1"), (302, "/slash/a/"))
        self.assertEqual(self.loc("/slash/a/"), (302, "/slash/a/"))

    def test_scheme_uses_host(self):
        host = [("Host", "www.example.com")]
        self.assertEqual(self.loc("/s307/a?x=1", headers=host), (307, "https://www.example.com/s307/a?x=1"))
        self.assertEqual(self.loc("/s308", headers=[("Host", "example.com:8080")]),
                         (308, "https://example.com:8080/s308"))

    def test_absolute_uri(self):
        host = [("Host", "abs.example")]
        self.assertEqual(self.loc("http://abs.example/s308/z?q", headers=host),
                         (308, "https://abs.example/s308/z?q"))
        self.assertEqual(self.loc("http://abs.example/p301/z?q", headers=host),
                         (301, "https://new.example/p301/z?q"))

    def test_location_with_a_sample(self):
        self.assertEqual(self.loc("/loc/a?b=1"), (302, "/login?from=/loc/a"))

    def test_cache_control_on_temporary_redirects_only(self):
        for path, cc in (("/p301/a", None), ("/p302/a", "no-cache"), ("/p303/a", "no-cache"),
                         ("/s307", "no-cache"), ("/s308", None)):
            with self.subTest(path=path):
                self.assertEqual(self.get(path).header("cache-control"), cc)

    def test_redirect_has_empty_body_and_keeps_the_connection(self):
        with H.HTTPConn(self.addr) as c:
            r = c.request("GET", "/p302/a")
            self.assertEqual((r.status, r.body), (302, b""))
            self.assertEqual(c.request("GET", "/fine").status, 200)

    def test_set_and_clear_cookie(self):
        r = self.get("/cookie")
        self.assertEqual(r.header("set-cookie"), "SEEN=1; path=/;")
        r = self.get("/clear")
        self.assertEqual(r.header("set-cookie"), "SEEN=; path=/; Max-Age=0;")

    def test_redirect_keyword_runs_after_http_request_rules(self):
        # the http-request redirect, later in the file, wins
        self.assertEqual(self.loc("/order", headers=[("X-First", "1")]), (302, "/by-http-request"))
        self.assertEqual(self.loc("/order"), (302, "/by-redirect-keyword"))


class HeaderEdits(Actions):

    def setUp(self):
        super().setUp()
        self.start(r"""
            http-request set-header X-Set one
            http-request set-header X-Set two
            http-request add-header X-Add one
            http-request add-header X-Add two
            http-request del-header X-Del
            http-request del-header X-Pre -m beg
            http-request del-header -sub- -m sub
            http-request replace-header X-Rh ^(\w+)-(\w+)$ \2-\1
            http-request replace-header X-Part abc XYZ
            http-request replace-value X-Fwd ^192\.168\.(.*)$ 172.16.\1
            http-request set-header X-Ip %[src]
            http-request set-header X-Host %[hdr(host)]
            http-request set-header X-Pct 100%%
            http-request set-header X-Mixed "ip=%[src] ua=%[req.hdr(user-agent),lower]"
            http-request set-header X-Conv %[req.hdr(x-in),upper,regsub(A,@,g)]
            http-request set-header X-Missing <%[req.hdr(x-absent)]>
            http-request set-header X-Decoded %[url_param(v),url_dec]
        """, backend="""
            http-response set-header X-Res-Set yes
            http-response add-header X-Res-Add 1
            http-response del-header X-Secret
            http-response replace-value X-List ^a$ A
            http-response set-status 299 reason "Fine Indeed" if { status 200 } { res.hdr(x-tweak) -m found }
            http-response set-status 404 if { res.hdr(x-404) -m found }
            http-response deny if { res.hdr(x-forbidden) -m found }
            http-response deny deny_status 503 if { res.hdr(x-forbidden-503) -m found }
        """, routes={
            "/res": Fixed(b"body", headers=[("X-Secret", "s"), ("X-List", "a,  b, a"),
                                            ("X-Tweak", "1")]),
            "/res404": Fixed(b"body", headers=[("X-404", "1")]),
            "/forbidden": Fixed(b"body", headers=[("X-Forbidden", "1")]),
            "/forbidden503": Fixed(b"body", headers=[("X-Forbidden-503", "1")]),
        })

    def values(self, req, name):
        return [v for k, v in req.headers if k.lower() == name.lower()]

    def test_set_add_del(self):
        req = self.seen("/", headers=[("X-Set", "zero"), ("X-Set", "zero2"), ("X-Del", "1"),
                                      ("x-DEL", "2"), ("X-Prefix-A", "1"), ("X-Pre", "2"),
                                      ("X-Keep", "k"), ("X-Has-Sub-Str", "3")])
        self.assertEqual(self.values(req, "X-Set"), ["two"])
        self.assertEqual(self.values(req, "X-Add"), ["one", "two"])
        self.assertEqual(self.values(req, "X-Del"), [])
        self.assertEqual(self.values(req, "X-Prefix-A"), [])
        self.assertEqual(self.values(req, "X-Pre"), [])
        self.assertEqual(self.values(req, "X-Has-Sub-Str"), [])
        self.assertEqual(self.values(req, "X-Keep"), ["k"])

    def test_replace_header_and_value(self):
        req = self.seen("/", headers=[("X-Rh", "hello-world"), ("X-Part", "123abc456"),
                                      ("X-Fwd", "192.168.10.1,192.168.13.24,10.0.0.37")])
        self.assertEqual(req.header("X-Rh"), "world-hello")
        # the whole value is replaced when the regex matches a part of it
        self.assertEqual(req.header("X-Part"), "XYZ")
        self.assertEqual([v.strip() for v in req.header("X-Fwd").split(",")],
                         ["172.16.10.1", "172.16.13.24", "10.0.0.37"])

    def test_log_format_values(self):
        req = self.seen("/", headers=[("Host", "Example.COM"), ("User-Agent", "Tool/1.0"),
                                      ("X-In", "banana")])
        self.assertEqual(req.header("X-Ip"), "127.0.0.1")
        self.assertEqual(req.header("X-Host"), "Example.COM")
        self.assertEqual(req.header("X-Pct"), "100%")
        self.assertEqual(req.header("X-Mixed"), "ip=127.0.0.1 ua=tool/1.0")
        self.assertEqual(req.header("X-Conv"), "B@N@N@")
        # a sample without a value adds nothing (not "-")
        self.assertEqual(req.header("X-Missing"), "<>")

    def test_control_characters_cannot_inject_headers(self):
        req = self.seen("/?v=a%0d%0aX-Evil:%201%01%7f")
        self.assertIsNone(req.header("X-Evil"))
        self.assertEqual(req.header("X-Decoded"), "a%0D%0AX-Evil: 1%01%7F")

    def test_response_edits(self):
        r = self.get("/res")
        self.assertEqual((r.status, r.reason), (299, "Fine Indeed"))
        self.assertEqual(r.header("X-Res-Set"), "yes")
        self.assertEqual(r.header("X-Res-Add"), "1")
        self.assertIsNone(r.header("X-Secret"))
        # separators kept, as HAProxy: blanks go only with a replaced value
        self.assertEqual(r.header("X-List"), "A,  b,A")
        self.assertEqual(r.body, b"body")
        r = self.get("/res404")
        self.assertEqual((r.status, r.reason, r.body), (404, "Not Found", b"body"))

    def test_response_deny_is_502_by_default(self):
        r = self.get("/forbidden")
        self.assertEqual(r.status, 502)
        self.assertIn(b"502 Bad Gateway", r.body)   # the server's body is dropped
        r = self.get("/forbidden503")
        self.assertEqual(r.status, 503)


class StartLine(Actions):

    def setUp(self):
        super().setUp()
        self.start(r"""
            http-request set-path /new%[path] if { path_beg /sp/ }
            http-request set-path %[path,regsub(^/strip/,/)] if { path_beg /strip/ }
            http-request set-query q=%[url_param(a)] if { path_beg /sq }
            http-request set-uri /u?x=1 if { path_beg /su }
            http-request set-method POST if { path_beg /sm }
            http-request set-pathq /pq?z=9 if { path_beg /spq }
        """)

    def test_set_path_keeps_the_query(self):
        self.assertEqual(self.seen("/sp/a?x=1").uri, "/new/sp/a?x=1")
        self.assertEqual(self.seen("/strip/a/b?c").uri, "/a/b?c")

    def test_set_path_on_an_absolute_uri(self):
        req = self.seen("http://h.example/sp/a?x=1", headers=[("Host", "h.example")])
        self.assertEqual(req.uri, "http://h.example/new/sp/a?x=1")

    def test_set_query(self):
        self.assertEqual(self.seen("/sq/a?a=5&b=6").uri, "/sq/a?q=5")
        self.assertEqual(self.seen("/sq/a").uri, "/sq/a?q=")

    def test_set_uri_and_method(self):
        self.assertEqual(self.seen("/su/x?y").uri, "/u?x=1")
        req = self.seen("/sm")
        self.assertEqual((req.method, req.uri), ("POST", "/sm"))
        self.assertEqual(self.seen("/spq/x?y").uri, "/pq?z=9")


class Variables(Actions):

    def setUp(self):
        super().setUp()
        self.start("""
            http-request set-var(txn.host) req.hdr(host)
            http-request set-var(sess.count) var(sess.count,0),add(1)
            http-request set-var(proc.seen) str(yes)
            http-request set-var(txn.meth) method
            http-request set-var(txn.ip) src
            http-request set-var(txn.num) int(41),add(1)
            http-request set-var(req.r) str(reqval)
            http-request set-header X-Count %[var(sess.count)]
            http-request set-header X-Meth %[var(txn.meth)]
            http-request set-header X-Ip %[var(txn.ip)]
            http-request set-header X-Num %[var(txn.num)]
            http-request set-header X-Default %[var(txn.nope,fallback)]
            http-request set-header X-Req %[var(req.r)]
            http-request unset-var(txn.num)
            http-request set-header X-Num-After %[var(txn.num)]
            http-request set-header X-Known 1 if { var(txn.host) -m str known.example }
            http-response set-header X-Host %[var(txn.host)]
            http-response set-header X-Proc %[var(proc.seen)]
        """, backend="""
            http-response set-var(res.origin) res.hdr(x-origin)
            http-response set-header X-Res-Var %[var(res.origin)]
        """)

    def test_variables_across_rules_and_requests(self):
        with H.HTTPConn(self.addr) as c:
            for i in range(1, 4):
                host = "known.example" if i == 2 else "h%d" % i
                r = c.request("GET", "/", headers=[("Host", host)])
                self.assertEqual(r.status, 200)
                req = self.o.log[-1]
                self.assertEqual(req.header("X-Count"), str(i))   # sess: the connection
                self.assertEqual(req.header("X-Meth"), "GET")
                self.assertEqual(req.header("X-Ip"), "127.0.0.1")
                self.assertEqual(req.header("X-Num"), "42")
                self.assertEqual(req.header("X-Default"), "fallback")
                self.assertEqual(req.header("X-Req"), "reqval")
                self.assertEqual(req.header("X-Num-After"), "")
                self.assertEqual(req.header("X-Known"), "1" if i == 2 else None)
                self.assertEqual(r.header("X-Host"), host)             # txn: to the response
                self.assertEqual(r.header("X-Proc"), "yes")
                self.assertEqual(r.header("X-Res-Var"), "s1")
        # a new connection is a new session
        self.assertEqual(self.seen("/").header("X-Count"), "1")

    @differs_from_haproxy("proxyd keeps req.* variables for the response rules: "
                          "%[var(req.r)] in http-response gives the request's value")
    def test_req_scope_ends_with_the_request(self):
        self.o.stop()
        self.start("""
            http-request set-var(req.r) str(reqval)
            http-response set-header X-Req-In-Res <%[var(req.r)]>
        """)
        r = self.get("/")
        self.assertEqual(r.header("X-Req-In-Res"), "<>")


class LoadTimeChecks(ProxyTestCase):
    """proxyd -c on rules: what is refused, with file:line, and the
    use-context warnings."""

    def check(self, lines, backend=""):
        cfg = (BASE_GLOBAL + BASE_DEFAULTS + "frontend fe\n    bind 127.0.0.1:%d\n" % free_port()
               + indent(lines) + "    default_backend be\nbackend be\n    server s1 127.0.0.1:9\n"
               + indent(backend))
        path = self.write_file("t.cfg", cfg)
        rc, out, err = run_bin(["-c", "-f", path])
        return rc, err, path

    def assertRefused(self, line, *words):
        rc, err, path = self.check(line)
        self.assertNotEqual(rc, 0, err)
        self.assertIn("[%s:11]" % path, err)           # the rule is on line 11
        for w in words:
            self.assertIn(w, err)

    def test_response_fetch_in_request_value_is_refused(self):
        self.assertRefused("http-request set-header X %[res.hdr(x)]", "res.hdr",
                           "may not be reliably used here")
        self.assertRefused("http-response set-header X %[req.hdr(host)]", "req.hdr",
                           "may not be reliably used here")
        self.assertRefused("http-request redirect location /%[status]", "status")

    def test_response_fetch_in_request_condition_warns(self):
        rc, err, path = self.check("http-request deny if { res.hdr(x) -m found }")
        self.assertEqual(rc, 0, err)
        self.assertIn("[%s:11]" % path, err)
        self.assertIn("will never match", err)
        rc, err, path = self.check("acl resp status 200\n    use_backend be if resp")
        self.assertIn("[%s:12]" % path, err)
        self.assertIn("will never match", err)

    def test_bad_actions(self):
        self.assertRefused("http-request set-header X-Only-Name", "set-header")
        self.assertRefused("http-request deny deny_status 600", "600")
        self.assertRefused("http-request redirect location", "redirect")
        self.assertRefused("http-request redirect location /x code 305", "305")
        self.assertRefused("http-request set-var(foo) str(x)", "foo")
        self.assertRefused("http-request replace-header X ^(abc \\1", "abc")
        self.assertRefused("http-request set-header X %[path,nosuchconv]", "nosuchconv")
        self.assertRefused("http-request set-header X %[nosuchfetch]", "nosuchfetch")
        self.assertRefused("http-request set-header X %[hdr(a,1,2)]", "hdr")
        self.assertRefused("http-request set-header X %[path,field(0,/)]", "field")
        self.assertRefused("http-request set-header X %[var(txn.a]", "var")
        self.assertRefused("http-request set-path", "set-path")
        self.assertRefused("http-request nosuchaction", "nosuchaction")


if __name__ == "__main__":
    unittest.main()
