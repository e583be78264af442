"""Routing by ACL: use_backend / default_backend with named and anonymous
ACLs, the boolean logic of conditions, every matching method on request
data (headers, path, URL parameters, cookies, method, version, source
address), patterns from files, integer ranges, converters in criteria,
nbsrv(). Which backend answered is told by the origins' X-Origin header;
single conditions are checked with "set-header X-Match-N 1 if <cond>"
lines whose effect the origin sees."""

import os
import socket
import unittest

import harness as H
from harness import (BASE_DEFAULTS, BASE_GLOBAL, ProxyTestCase, differs_from_haproxy,
                     free_port, http, indent, proxyd_only)


class Routing(ProxyTestCase):
    """A frontend with the given lines and one origin per backend name."""

    def routed(self, frontend, backends=("be",), default="be", extra=""):
        self.origins = {n: self.origin(name=n) for n in backends}
        port = free_port()
        cfg = (BASE_GLOBAL + BASE_DEFAULTS + "frontend fe\n    bind 127.0.0.1:%d\n" % port
               + indent(frontend) + ("    default_backend %s\n" % default if default else "")
               + "".join("backend %s\n    server s1 %s\n" % (n, o.addr)
                         for n, o in self.origins.items()) + extra)
        self.proxy = self.start_proxy(cfg)
        self.addr = ("127.0.0.1", port)
        return self.addr

    def which(self, path="/", method="GET", headers=None, **kw):
        """The backend that answered (its origin's name), or the status
        when the proxy answered itself."""
        r = http(self.addr, method, path, headers=headers, **kw)
        return r.header("X-Origin") or r.status


class Matching(ProxyTestCase):
    """Evaluates many conditions on one request: each condition i sets a
    header X-Match-i that the origin sees when it holds."""

    def start_matching(self, conds, pre="", backend_lines="", bind6=False):
        self.o = self.origin()
        port = free_port()
        lines = "".join("http-request set-header X-Match-%d 1 if %s\n" % (i, c)
                        for i, c in enumerate(conds))
        binds = "    bind 127.0.0.1:%d\n" % port
        self.port6 = None
        if bind6:
            self.port6 = free_port("::1")
            binds += "    bind [::1]:%d\n" % self.port6
        cfg = (BASE_GLOBAL + BASE_DEFAULTS + "frontend fe\n" + binds + indent(pre) + indent(lines)
               + "    default_backend be\nbackend be\n    server s1 %s\n" % self.o.addr
               + indent(backend_lines))
        self.conds = conds
        self.proxy = self.start_proxy(cfg)
        self.addr = ("127.0.0.1", port)

    def matched(self, path="/", method="GET", headers=None, body=None, version="HTTP/1.1"):
        """Conditions (their text) that held for this request."""
        before = self.o.requests
        r = http(self.addr, method, path, headers=headers, body=body, version=version)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.o.requests, before + 1)
        return self.seen(self.o.log[-1])

    def seen(self, req):
        names = {k.lower() for k, _ in req.headers}
        return {c for i, c in enumerate(self.conds) if "x-match-%d" % i in names}

    def check(self, expect, **req):
        """expect: {condition: bool}; every condition must have been
        given to start_matching()."""
        got = self.matched(**req)
        for cond, want in expect.items():
            with self.subTest(cond=cond, request=req.get("path", "/")):
                self.assertEqual(cond in got, want)


class ClassicExamples(Routing):

    def test_mobile_user_agent_substring(self):
        # hdr_sub looks for the word anywhere, hdr() wants the exact value
        self.routed("""
            acl is_mobile hdr_sub(User-Agent) -i mobile
            acl exact_mobile hdr(User-Agent) -i mobile
            use_backend exact if exact_mobile
            use_backend mobile_servers if is_mobile
        """, backends=("be", "mobile_servers", "exact"))
        ua = lambda v: [("User-Agent", v)]
        self.assertEqual(self.which(headers=ua("Mozilla/5.0 (iPhone) Mobile/15E148 Safari")),
                         "mobile_servers")
        self.assertEqual(self.which(headers=ua("Mozilla/5.0 MOBILE")), "mobile_servers")
        self.assertEqual(self.which(headers=ua("Mozilla/5.0 (X11; Linux x86_64)")), "be")
        self.assertEqual(self.which(), "be")
        # "hdr(User-Agent) -i mobile" is an exact (case-insensitive) match
        self.assertEqual(self.which(headers=ua("Mobile")), "exact")
        self.assertEqual(self.which(headers=ua("mobile ")), "exact")   # value trimmed
        self.assertEqual(self.which(headers=ua("mobilephone")), "mobile_servers")

    def test_api_and_static_by_path_prefix(self):
        self.routed("""
            acl is_api path_beg /api/v1
            acl is_static path_beg /static /images
            acl is_static path_end .css .js
            use_backend api if is_api
            use_backend static if is_static
        """, backends=("be", "api", "static"))
        for path, want in [("/api/v1/users", "api"), ("/api/v1", "api"), ("/api/v2/users", "be"),
                           ("/API/v1", "be"), ("/static/a.png", "static"), ("/images/x", "static"),
                           ("/app/site.css", "static"), ("/app/site.css?v=2", "static"),
                           ("/app/site.cssx", "be"), ("/", "be"), ("/api/v1?x=/static", "api")]:
            with self.subTest(path=path):
                self.assertEqual(self.which(path), want)
        # what reaches the backend is untouched
        self.assertEqual(self.origins["api"].log[-1].uri, "/api/v1?x=/static")

    def test_first_matching_use_backend_wins_then_default(self):
        self.routed("""
            use_backend first if { path_beg /a }
            use_backend second if { path_beg /a/b }
            use_backend second if { path_beg /b }
            use_backend third if { path_beg /b } || TRUE
        """, backends=("be", "first", "second", "third"))
        self.assertEqual(self.which("/a/b/c"), "first")
        self.assertEqual(self.which("/b/x"), "second")
        self.assertEqual(self.which("/c"), "third")

    def test_default_backend_when_nothing_matches(self):
        self.routed("use_backend api if { path_beg /api }", backends=("be", "api"))
        self.assertEqual(self.which("/other"), "be")
        self.assertEqual(self.which("/api"), "api")

    def test_no_default_backend_is_503(self):
        self.routed("use_backend api if { path_beg /api }", backends=("api",), default=None)
        self.assertEqual(self.which("/api/x"), "api")
        self.assertEqual(self.which("/other"), 503)

    def test_listen_section_routes_too(self):
        o = self.origin(name="main")
        other = self.origin(name="other")
        port = free_port()
        self.start_proxy(BASE_GLOBAL + BASE_DEFAULTS + """
listen app
    bind 127.0.0.1:%d
    acl want_other hdr(x-backend) other
    use_backend other if want_other
    server s1 %s
backend other
    server s1 %s
""" % (port, o.addr, other.addr))
        addr = ("127.0.0.1", port)
        self.assertEqual(http(addr, "GET", "/").header("X-Origin"), "main")
        self.assertEqual(http(addr, "GET", "/", headers=[("X-Backend", "other")]).header("X-Origin"),
                         "other")


class Logic(Routing):
    """OR of acl lines with one name, AND by juxtaposition, or/||, !,
    unless, anonymous ACLs, precedence (AND binds tighter than OR)."""

    def setUp(self):
        super().setUp()
        self.routed("""
            acl a hdr(x-a) 1
            acl b hdr(x-b) 1
            acl c hdr(x-c) 1
            acl ab hdr(x-a) 1
            acl ab hdr(x-b) 1
            use_backend and_ab if a b
            use_backend or_named if ab c
            use_backend not_a if !a c
            use_backend or_word if b or c
            use_backend pipes if { hdr(x-d) 1 } || { hdr(x-e) 1 }
            use_backend prec if { hdr(x-f) 1 } { hdr(x-g) 1 } || { hdr(x-h) 1 }
            use_backend neg_space if ! { hdr(x-i) -m found } { hdr(x-j) 1 }
            use_backend unless unless { hdr(x-k) -m found } || { path_beg /x }
        """, backends=("be", "and_ab", "or_named", "not_a", "or_word", "pipes", "prec",
                       "neg_space", "unless"))

    def go(self, *names, path="/x"):
        return self.which(path, headers=[(n, "1") for n in names])

    def test_and_by_juxtaposition(self):
        self.assertEqual(self.go("X-A", "X-B"), "and_ab")

    def test_acl_lines_with_one_name_are_ored(self):
        self.assertEqual(self.go("X-A", "X-C"), "or_named")
        # ab holds through its second line as well
        self.assertEqual(self.go("X-B", "X-C"), "or_named")
        self.assertEqual(self.go("X-A", "X-B", "X-C"), "and_ab")

    def test_negation(self):
        self.assertEqual(self.go("X-C"), "not_a")

    def test_or_word_and_pipes(self):
        self.assertEqual(self.go("X-B"), "or_word")
        self.assertEqual(self.go("X-D"), "pipes")
        self.assertEqual(self.go("X-E"), "pipes")

    def test_and_binds_tighter_than_or(self):
        self.assertEqual(self.go("X-F", "X-G"), "prec")
        self.assertEqual(self.go("X-H"), "prec")
        self.assertNotEqual(self.go("X-F"), "prec")
        self.assertNotEqual(self.go("X-G"), "prec")

    def test_bang_as_its_own_word(self):
        self.assertEqual(self.go("X-J"), "neg_space")
        self.assertNotEqual(self.go("X-J", "X-I"), "neg_space")

    def test_unless(self):
        self.assertEqual(self.go(path="/y"), "unless")
        self.assertEqual(self.go("X-K", path="/y"), "be")
        self.assertEqual(self.go(path="/x"), "be")


class HeaderAndPathMatching(Matching):

    CONDS = [
        "{ hdr(host) -i www.example.com }",
        "{ hdr_beg(host) -i www. }",
        "{ hdr_end(host) .com }",
        "{ hdr_dom(host) example }",
        "{ hdr_dom(host) xample }",
        "{ hdr_reg(x-id) ^[0-9]+$ }",
        "{ hdr_reg(x-id) -i ^ID-[a-z]+$ }",
        "{ hdr_len(x-id) 3 }",
        "{ hdr(x-list) b }",             # each comma-separated value is tried
        "{ req.fhdr(x-list) b }",        # the full line is one value
        "{ hdr(x-dup,1) one }",
        "{ hdr(x-dup,-1) two }",
        "{ hdr(x-dup,1) two }",
        "{ hdr(x-absent) -m found }",
        "{ hdr(x-empty) -m found }",
        "{ hdr(x-empty) -m len 0 }",
        "{ path_dir api }",
        "{ path_dir v1/users }",
        "{ path_dir pi }",
        "{ path_sub /v1/ }",
        "{ path /api/v1/users }",
        "{ path_len gt 10 }",
        "{ path_reg -i ^/API/V[0-9]+/ }",
        "{ path_reg ^/api/(?=v1/) }",          # PCRE2 lookahead
        "{ path_reg ^/api/(?!v1/) }",          # negative lookahead
        "{ path_reg (?<=/api/)v\\d }",          # lookbehind and \\d
        "{ url_beg /api/v1/users? }",
        "{ url_sub format=json }",
        "{ query -m beg format= }",
        "{ query -m found }",
        "{ base www.example.com/api/v1/users }",
        "{ base_beg www.example.com/api }",
        "{ hdr(host),lower,field(1,.) www }",
        "{ hdr(x-id),length 3 }",
        "{ hdr(x-id),upper -m beg ID }",
        "{ path,regsub(^/api/v[0-9]+,) /users }",
        "{ path,word(-1,/) users }",
    ]

    def setUp(self):
        super().setUp()
        self.start_matching(self.CONDS)

    def test_one_request(self):
        got = self.matched("/api/v1/users?format=json", headers=[
            ("Host", "WWW.example.com"), ("X-Id", "123"), ("X-List", "a, b,c"),
            ("X-Dup", "one"), ("X-Dup", "two"), ("X-Empty", "")])
        want = set(self.CONDS) - {
            "{ hdr_dom(host) xample }", "{ hdr_reg(x-id) -i ^ID-[a-z]+$ }",
            "{ req.fhdr(x-list) b }", "{ hdr(x-dup,1) two }", "{ hdr(x-absent) -m found }",
            "{ path_dir pi }", "{ path_reg ^/api/(?!v1/) }", "{ base www.example.com/api/v1/users }",
            "{ base_beg www.example.com/api }", "{ hdr(x-id),upper -m beg ID }"}
        # base and base_beg include the Host as sent (mixed case here)
        self.assertEqual(sorted(got), sorted(want))

    def test_another_request(self):
        got = self.matched("/API/v2/users", headers=[("Host", "www.example.com"), ("X-Id", "id-abc")])
        self.assertIn("{ path_reg -i ^/API/V[0-9]+/ }", got)
        self.assertIn("{ hdr_reg(x-id) -i ^ID-[a-z]+$ }", got)
        self.assertIn("{ hdr(x-id),upper -m beg ID }", got)
        self.assertIn("{ hdr_end(host) .com }", got)
        self.assertNotIn("{ base_beg www.example.com/api }", got)   # /API: case-sensitive
        self.assertNotIn("{ path_reg (?<=/api/)v\\d }", got)
        self.assertNotIn("{ query -m found }", got)
        self.assertNotIn("{ hdr(x-empty) -m found }", got)


class ParamsCookiesMethods(Matching):

    CONDS = [
        "{ url_param(a) 1 }",
        "{ urlp(a) 2 }",                 # an ACL tries every occurrence
        "{ urlp(b) -m found }",
        "{ urlp(c) -m found }",          # 'c' alone is no parameter
        "{ urlp(empty) -m len 0 }",
        "{ urlp(d) 4 }",                 # ';' separates parameters too
        "{ urlp(sid,;) xyz }",
        "{ cook(sid) abc }",
        "{ req.cook(sid) zzz }",         # every Cookie header, every cookie
        "{ cook(SID) abc }",             # cookie names are case-sensitive
        "{ cook_cnt(sid) 2 }",
        "{ req.cook(other) -m beg va }",
        "{ method GET }",
        "{ method POST }",
        "METH_GET",
        "METH_POST",
        "HTTP_1.0",
        "HTTP_1.1",
        "{ req.ver 1.0 }",
        "HTTP_CONTENT",
        "HTTP_URL_ABS",
        "HTTP_URL_SLASH",
        "TRUE",
        "!FALSE",
        "{ req.hdr_cnt(x-n) gt 2 }",
        "{ hdr_cnt(x-n) eq 3 }",
        "{ hdr_val(x-v) 10:20 }",
        "{ hdr_val(x-v) :5 }",
        "{ hdr_val(x-v) 100: }",
        "{ hdr_val(x-v) lt 0 }",
        "{ hdr_val(x-v) ge 15 }",
        "{ int(10),mul(3),sub(5),div(5) 5 }",
        "{ hdr(x-v),add(5) 20 }",
        "{ str(abc),base64 YWJj }",
        "{ hdr(x-b64),b64dec -m str hello }",
    ]

    def setUp(self):
        super().setUp()
        self.start_matching(self.CONDS)

    def test_get_with_params_and_cookies(self):
        got = self.matched("/p?a=1&b=x&c&empty=&a=2&d=0;d=4", headers=[
            ("Cookie", "sid=abc; other=value"), ("Cookie", "sid=zzz"),
            ("X-N", "1"), ("X-N", "2"), ("X-N", "3"), ("X-V", "15"), ("X-B64", "aGVsbG8=")])
        want = {"{ url_param(a) 1 }", "{ urlp(a) 2 }", "{ urlp(b) -m found }",
                "{ urlp(empty) -m len 0 }", "{ urlp(d) 4 }", "{ cook(sid) abc }",
                "{ req.cook(sid) zzz }", "{ cook_cnt(sid) 2 }", "{ req.cook(other) -m beg va }",
                "{ method GET }", "METH_GET", "HTTP_1.1", "HTTP_URL_SLASH", "TRUE", "!FALSE",
                "{ req.hdr_cnt(x-n) gt 2 }", "{ hdr_cnt(x-n) eq 3 }", "{ hdr_val(x-v) 10:20 }",
                "{ hdr_val(x-v) ge 15 }", "{ int(10),mul(3),sub(5),div(5) 5 }",
                "{ hdr(x-v),add(5) 20 }", "{ str(abc),base64 YWJj }",
                "{ hdr(x-b64),b64dec -m str hello }"}
        self.assertEqual(sorted(got), sorted(want))

    def test_http10_post_with_body_and_path_parameters(self):
        got = self.matched("/p;sid=xyz", method="POST", body=b"data", version="HTTP/1.0",
                           headers=[("X-V", "-15"), ("X-N", "1")])
        want = {"{ urlp(sid,;) xyz }", "{ method POST }", "METH_POST", "HTTP_1.0",
                "{ req.ver 1.0 }", "HTTP_CONTENT", "HTTP_URL_SLASH", "TRUE", "!FALSE",
                "{ hdr_val(x-v) :5 }", "{ hdr_val(x-v) lt 0 }",
                "{ int(10),mul(3),sub(5),div(5) 5 }", "{ str(abc),base64 YWJj }"}
        self.assertEqual(sorted(got), sorted(want))

    def test_head_is_meth_get(self):
        r = http(self.addr, "HEAD", "/")
        self.assertEqual(r.status, 200)
        got = self.seen(self.o.log[-1])
        self.assertIn("METH_GET", got)
        self.assertNotIn("{ method GET }", got)

    def test_absolute_uri(self):
        got = self.matched("http://www.example.com/p?a=1", headers=[("Host", "www.example.com")])
        self.assertIn("HTTP_URL_ABS", got)
        self.assertNotIn("HTTP_URL_SLASH", got)
        self.assertIn("{ url_param(a) 1 }", got)


class PatternFiles(Routing):

    def test_patterns_from_files(self):
        self.write_file("paths.lst", "# API prefixes\n\n/api\n   /v2\n\t# indented comment\n/ADMIN\n")
        self.write_file("agents.lst", "curl\nWget\n")
        self.write_file("nets.lst", "10.0.0.0/8\n127.0.0.0/8\n")
        self.routed("""
            acl from_file path_beg -f %s
            acl agent hdr_beg(user-agent) -i -f %s
            acl agent_cs hdr_beg(user-agent) -f %s
            acl local src -f %s
            use_backend files if from_file
            use_backend agents if agent !agent_cs
            use_backend agents_cs if agent_cs
            use_backend local if local { path_beg /local }
        """ % (self.path("paths.lst"), self.path("agents.lst"), self.path("agents.lst"),
               self.path("nets.lst")), backends=("be", "files", "agents", "agents_cs", "local"))
        self.assertEqual(self.which("/api/x"), "files")
        self.assertEqual(self.which("/v2/x"), "files")              # leading blanks stripped
        self.assertEqual(self.which("/ADMIN"), "files")
        self.assertEqual(self.which("/admin"), "be")                # case-sensitive
        self.assertEqual(self.which("/x", headers=[("User-Agent", "WGET/1.2")]), "agents")
        self.assertEqual(self.which("/x", headers=[("User-Agent", "curl/8")]), "agents_cs")
        self.assertEqual(self.which("/local"), "local")

    def test_flags_before_file_apply_to_its_patterns(self):
        self.write_file("p.lst", "/Api\n")
        self.routed("""
            acl icase path_beg -i -f %s
            use_backend icase if icase
        """ % self.path("p.lst"), backends=("be", "icase"))
        self.assertEqual(self.which("/API/x"), "icase")
        self.assertEqual(self.which("/apix"), "icase")


class SourceAddresses(Matching):
    """src/dst ACLs from several loopback source addresses and ::1."""

    CONDS = [
        "{ src 127.0.0.1 }",
        "{ src 127.0.0.2 }",
        "{ src 127.0.0.0/30 }",
        "{ src 127.0.0.4/30 }",
        "{ src 127.0.0.3/32 }",
        "{ src 10.0.0.0/8 }",
        "{ src ::1 }",
        "{ src ::ffff:127.0.0.2 }",      # an IPv4 client against an IPv4-mapped network
        "{ src ::ffff:127.0.0.0/104 }",
        "LOCALHOST",
        "{ src_port gt 1023 }",
        "{ dst_port %(port)d }",
        "{ dst 127.0.0.1 }",
        "{ dst ::1 }",
    ]

    def setUp(self):
        super().setUp()
        port = free_port()
        conds = [c % {"port": port} for c in self.CONDS]
        self.o = self.origin()
        self.port6 = free_port("::1")
        lines = "".join("http-request set-header X-Match-%d 1 if %s\n" % (i, c)
                        for i, c in enumerate(conds))
        self.conds = conds
        cfg = (BASE_GLOBAL + BASE_DEFAULTS + "frontend fe\n    bind 127.0.0.1:%d\n    bind [::1]:%d\n"
               % (port, self.port6) + indent(lines) + indent("""
                   http-request set-header X-Src %[src]
                   http-request set-header X-Src-Port %[src_port]
                   http-request deny deny_status 429 if { src 127.0.0.5 }
               """) + "    default_backend be\nbackend be\n    server s1 %s\n" % self.o.addr)
        self.start_proxy(cfg)
        self.addr = ("127.0.0.1", port)
        self.dport = port

    def from_source(self, source, dest=None):
        """One request from `source`; returns (status, conditions held, request seen)."""
        dest = dest or self.addr
        fam = socket.AF_INET6 if ":" in dest[0] else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(H.IO_TIMEOUT)
        try:
            s.bind((source, 0))
            s.connect(dest)
            s.sendall(b"GET /src HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                data += d
            sport = s.getsockname()[1]
        finally:
            s.close()
        status = H.status_of(data)
        if status != 200:
            return status, set(), None
        req = self.o.log[-1]
        self.assertEqual(req.header("X-Src-Port"), str(sport))
        return status, self.seen(req), req

    def test_127_0_0_1(self):
        st, got, req = self.from_source("127.0.0.1")
        self.assertEqual(req.header("X-Src"), "127.0.0.1")
        self.assertEqual(sorted(got), sorted({
            "{ src 127.0.0.1 }", "{ src 127.0.0.0/30 }", "{ src ::ffff:127.0.0.0/104 }",
            "LOCALHOST", "{ src_port gt 1023 }", "{ dst_port %d }" % self.dport,
            "{ dst 127.0.0.1 }"}))

    def test_127_0_0_2(self):
        st, got, req = self.from_source("127.0.0.2")
        self.assertEqual(req.header("X-Src"), "127.0.0.2")
        self.assertIn("{ src 127.0.0.2 }", got)
        self.assertIn("{ src 127.0.0.0/30 }", got)
        self.assertIn("{ src ::ffff:127.0.0.2 }", got)
        self.assertNotIn("{ src 127.0.0.1 }", got)

    def test_127_0_0_3_and_4(self):
        _, got, _ = self.from_source("127.0.0.3")
        self.assertIn("{ src 127.0.0.3/32 }", got)
        self.assertIn("{ src 127.0.0.0/30 }", got)
        _, got, _ = self.from_source("127.0.0.4")
        self.assertIn("{ src 127.0.0.4/30 }", got)
        self.assertNotIn("{ src 127.0.0.0/30 }", got)
        self.assertIn("LOCALHOST", got)

    def test_denied_source(self):
        st, _, _ = self.from_source("127.0.0.5")
        self.assertEqual(st, 429)

    def test_ipv6_loopback(self):
        st, got, req = self.from_source("::1", ("::1", self.port6))
        self.assertEqual(req.header("X-Src"), "::1")
        self.assertIn("{ src ::1 }", got)
        self.assertIn("LOCALHOST", got)
        self.assertIn("{ dst ::1 }", got)
        self.assertNotIn("{ src 127.0.0.0/30 }", got)
        self.assertNotIn("{ src ::ffff:127.0.0.0/104 }", got)


class IPv4CompatibleAddresses(ProxyTestCase):

    @differs_from_haproxy("proxyd only maps IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) to "
                          "IPv4 networks; HAProxy also maps ::a.b.c.d and 2002:AABB:CCDD::, so "
                          "that a client at ::1 matches 'src 0.0.0.1' and 'src 0.0.0.0/0'")
    def test_ipv6_loopback_matches_ipv4_any(self):
        o = self.origin()
        port6 = free_port("::1")
        self.start_proxy(BASE_GLOBAL + BASE_DEFAULTS + """
frontend fe
    bind [::1]:%d
    http-request set-header X-Any4 1 if { src 0.0.0.0/0 }
    default_backend be
backend be
    server s1 %s
""" % (port6, o.addr))
        r = http(("::1", port6), "GET", "/")
        self.assertEqual(r.status, 200)
        self.assertEqual(o.log[-1].header("X-Any4"), "1")


class ServersUp(Routing):

    def test_nbsrv_with_disabled_servers(self):
        self.origins = {n: self.origin(name=n) for n in ("main", "spare", "other")}
        port = free_port()
        o = self.origins
        self.start_proxy(BASE_GLOBAL + BASE_DEFAULTS + """
frontend fe
    bind 127.0.0.1:%d
    http-request set-header X-Nb-Main %%[nbsrv(main)]
    http-request set-header X-Nb-Down %%[nbsrv(down)]
    use_backend spare if { nbsrv(main) lt 2 } { path_beg /spare }
    use_backend main if { nbsrv(down) eq 0 } { path_beg /main }
    use_backend main if { nbsrv(main) ge 2 }
    default_backend other
backend main
    server s1 %s
    server s2 %s
    server s3 %s disabled
backend down
    server s1 %s disabled
backend spare
    server s1 %s
backend other
    server s1 %s
""" % (port, o["main"].addr, o["main"].addr, o["main"].addr, o["main"].addr,
       o["spare"].addr, o["other"].addr))
        self.addr = ("127.0.0.1", port)
        self.assertEqual(self.which("/main"), "main")
        seen = o["main"].log[-1]
        self.assertEqual(seen.header("X-Nb-Main"), "2")
        self.assertEqual(seen.header("X-Nb-Down"), "0")
        self.assertEqual(self.which("/spare"), "main")      # nbsrv(main) is 2: not < 2
        self.assertEqual(self.which("/x"), "main")


class LimitsOfOtherImplementations(Matching):
    """Places where proxyd is more lenient than HAProxy's parser."""

    @proxyd_only("HAProxy 2.6 has no negative integer patterns: it refuses '-5' without "
                 "'--' and ranges such as '-10:-1', and reads '-- -15' as ':15' (at most 15) "
                 "and 'lt -3' as 'lt 3'")
    def test_negative_patterns(self):
        self.start_matching(["{ hdr_val(x-v) -5 }", "{ hdr_val(x-v) -10:-1 }",
                             "{ hdr_val(x-v) -- -20:-10 }", "{ hdr_val(x-v) -- -15 }",
                             "{ hdr_val(x-v) lt -3 }", "{ hdr_val(x-v) eq -15 }"])
        self.assertEqual(self.matched(headers=[("X-V", "-5")]),
                         {"{ hdr_val(x-v) -5 }", "{ hdr_val(x-v) -10:-1 }", "{ hdr_val(x-v) lt -3 }"})
        self.assertEqual(self.matched(headers=[("X-V", "-15")]),
                         {"{ hdr_val(x-v) -- -20:-10 }", "{ hdr_val(x-v) -- -15 }",
                          "{ hdr_val(x-v) lt -3 }", "{ hdr_val(x-v) eq -15 }"})
        self.assertEqual(self.matched(headers=[("X-V", "10")]), set())


if __name__ == "__main__":
    unittest.main()
