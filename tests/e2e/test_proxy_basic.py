"""Basic proxying: methods, URIs and headers reach the backend intact;
backend selection (roundrobin, weights, use_backend, default_backend,
listen); http-request return."""

import collections
import unittest

import harness as H
from harness import Fixed, ProxyTestCase, free_port, http, render


def lower_pairs(headers):
    return [(k.lower(), v) for k, v in headers]


class Forwarding(ProxyTestCase):

    def setUp(self):
        super().setUp()
        self.o = self.origin()
        self.proxy, self.addr = self.simple_proxy("server s1 %s" % self.o.addr)

    def forwarded(self, method, uri, headers, body=None):
        before = self.o.requests
        r = http(self.addr, method, uri, headers=headers, body=body)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.o.requests, before + 1)
        return r, self.o.log[-1]

    def test_methods_uri_and_headers_intact(self):
        headers = [("Host", "example.test"), ("User-Agent", "e2e/1.0"),
                   ("X-Custom-Thing", "Some Value; with=params, and \"quotes\""),
                   ("Accept", "*/*"), ("X-Dup", "one"), ("X-Dup", "two"),
                   ("x-lower", "MiXeD vAlUe")]
        uris = ["/", "/a/b/c.html", "/search?q=a%20b&x=%2F&empty=&flag",
                "/p;param?x=1#notsent", "/%7Euser/caf%C3%A9"]
        for method in ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"):
            for uri in uris:
                if "#" in uri:
                    uri = uri.split("#")[0]
                body = b"payload for " + method.encode() if method in ("POST", "PUT", "PATCH") else None
                with self.subTest(method=method, uri=uri):
                    r, seen = self.forwarded(method, uri, headers, body)
                    self.assertEqual(seen.method, method)
                    self.assertEqual(seen.uri, uri)
                    self.assertEqual(seen.version, "HTTP/1.1")
                    got = lower_pairs(seen.headers)
                    # every client header, in order, same values; names
                    # compared case-insensitively (HAProxy lowercases)
                    sent = lower_pairs(headers)
                    self.assertEqual([p for p in got if p[0] in {k for k, _ in sent}], sent)
                    if body is not None:
                        self.assertEqual(seen.body, body)
                        self.assertEqual(H.hget(seen.headers, "content-length"), str(len(body)))
                    if method == "HEAD":
                        self.assertEqual(r.body, b"")
                    else:
                        self.assertEqual(r.json()["uri"], uri)

    def test_asterisk_form(self):
        r, seen = self.forwarded("OPTIONS", "*", [("Host", "h")])
        self.assertEqual(seen.method, "OPTIONS")
        self.assertEqual(seen.uri, "*")

    def test_absolute_form_kept(self):
        uri = "http://example.test:8080/abs/path?x=1"
        r, seen = self.forwarded("GET", uri, [("Host", "example.test:8080")])
        self.assertEqual(seen.uri, uri)
        self.assertEqual(seen.header("host"), "example.test:8080")

    def test_no_forwarded_for_without_the_option(self):
        r, seen = self.forwarded("GET", "/", [])
        self.assertIsNone(seen.header("x-forwarded-for"))

    def test_response_status_headers_and_body_intact(self):
        self.o.route("/created", Fixed(b"made it\n", 201, "Created",
                                       headers=[("X-Resp-One", "1"), ("Set-Cookie", "a=1"),
                                                ("Set-Cookie", "b=2; Path=/"),
                                                ("Location", "/created/42")]))
        r = http(self.addr, "POST", "/created", body=b"x")
        self.assertEqual(r.status, 201)
        self.assertEqual(r.reason, "Created")
        self.assertEqual(r.body, b"made it\n")
        self.assertEqual(r.header("x-resp-one"), "1")
        self.assertEqual(H.hgetall(r.headers, "set-cookie"), ["a=1", "b=2; Path=/"])
        self.assertEqual(r.header("location"), "/created/42")
        self.assertEqual(r.header("content-type"), "text/plain")

    def test_status_codes_pass_through(self):
        for code, reason in ((202, "Accepted"), (301, "Moved Permanently"),
                             (404, "Not Found"), (418, "I'm a teapot"),
                             (500, "Internal Server Error"), (503, "Service Unavailable")):
            self.o.route("/s%d" % code, Fixed(b"origin says %d" % code, code, reason))
            with self.subTest(code=code):
                r = http(self.addr, "GET", "/s%d" % code)
                self.assertEqual(r.status, code)
                self.assertEqual(r.reason, reason)
                self.assertEqual(r.body, b"origin says %d" % code)


def header_list(headers, name):
    """All values of a header, comma-separated lists flattened."""
    out = []
    for v in H.hgetall(headers, name):
        out += [x.strip() for x in v.split(",")]
    return out


class ForwardFor(ProxyTestCase):

    def start(self, option):
        self.o = self.origin()
        p4, p6 = free_port(), free_port("::1")
        cfg = render(H.BASE_GLOBAL + H.BASE_DEFAULTS + """
frontend fe
    bind 127.0.0.1:{{p4}}
    bind [::1]:{{p6}}
    {{option}}
    default_backend be
backend be
    server s1 {{o}}
""", p4=p4, p6=p6, option=option, o=self.o.addr)
        self.start_proxy(cfg)
        return ("127.0.0.1", p4), ("::1", p6)

    def seen(self, addr, headers=()):
        self.assertEqual(http(addr, "GET", "/", headers=list(headers)).status, 200)
        return self.o.log[-1].headers

    def test_forwardfor_adds_client_address(self):
        v4, v6 = self.start("option forwardfor")
        self.assertEqual(header_list(self.seen(v4), "x-forwarded-for"), ["127.0.0.1"])
        self.assertEqual(header_list(self.seen(v6), "x-forwarded-for"), ["::1"])

    def test_forwardfor_appends_to_existing(self):
        v4, _ = self.start("option forwardfor")
        hdrs = self.seen(v4, [("X-Forwarded-For", "192.0.2.7")])
        self.assertEqual(header_list(hdrs, "x-forwarded-for"), ["192.0.2.7", "127.0.0.1"])

    def test_forwardfor_except_network(self):
        v4, v6 = self.start("option forwardfor except 127.0.0.0/8")
        self.assertEqual(header_list(self.seen(v4), "x-forwarded-for"), [])
        # ::1 is not in 127.0.0.0/8
        self.assertEqual(header_list(self.seen(v6), "x-forwarded-for"), ["::1"])

    def test_forwardfor_custom_header(self):
        v4, _ = self.start("option forwardfor header X-Client-IP")
        hdrs = self.seen(v4)
        self.assertEqual(header_list(hdrs, "x-client-ip"), ["127.0.0.1"])
        self.assertEqual(header_list(hdrs, "x-forwarded-for"), [])


class Balancing(ProxyTestCase):

    def test_roundrobin_alternates_new_connections(self):
        a = self.origin(name="a")
        b = self.origin(name="b")
        _, addr = self.simple_proxy("balance roundrobin\nserver a %s\nserver b %s"
                                    % (a.addr, b.addr))
        seq = [http(addr, "GET", "/x%d" % i).header("x-origin") for i in range(10)]
        self.assertEqual(seq, [seq[0], seq[1]] * 5)
        self.assertEqual(set(seq), {"a", "b"})

    def test_roundrobin_alternates_on_one_client_connection(self):
        a = self.origin(name="a")
        b = self.origin(name="b")
        _, addr = self.simple_proxy("balance roundrobin\nserver a %s\nserver b %s"
                                    % (a.addr, b.addr))
        with H.HTTPConn(addr) as c:
            seq = [c.request("GET", "/k%d" % i).header("x-origin") for i in range(8)]
        self.assertEqual(seq, [seq[0], seq[1]] * 4)
        self.assertEqual(set(seq), {"a", "b"})

    def test_roundrobin_weights_3_to_1(self):
        a = self.origin(name="a")
        b = self.origin(name="b")
        _, addr = self.simple_proxy("balance roundrobin\nserver a %s weight 3\n"
                                    "server b %s weight 1" % (a.addr, b.addr))
        counts = collections.Counter(http(addr, "GET", "/w%d" % i).header("x-origin")
                                     for i in range(40))
        self.assertEqual(counts, {"a": 30, "b": 10})

    def test_disabled_server_gets_nothing(self):
        a = self.origin(name="a")
        b = self.origin(name="b")
        _, addr = self.simple_proxy("balance roundrobin\nserver a %s\n"
                                    "server b %s disabled" % (a.addr, b.addr))
        seq = [http(addr, "GET", "/d%d" % i).header("x-origin") for i in range(6)]
        self.assertEqual(seq, ["a"] * 6)
        self.assertEqual(b.accepted, 0)


class Sections(ProxyTestCase):

    def test_use_backend_wins_over_default_backend(self):
        one = self.origin(name="one")
        two = self.origin(name="two")
        p1, p2 = free_port(), free_port()
        cfg = render(H.BASE_GLOBAL + H.BASE_DEFAULTS + """
frontend with_use
    bind 127.0.0.1:{{p1}}
    use_backend b2
    default_backend b1
frontend only_default
    bind 127.0.0.1:{{p2}}
    default_backend b1
backend b1
    server one {{one}}
backend b2
    server two {{two}}
""", p1=p1, p2=p2, one=one.addr, two=two.addr)
        self.start_proxy(cfg)
        for i in range(3):
            self.assertEqual(http(("127.0.0.1", p1), "GET", "/").header("x-origin"), "two")
            self.assertEqual(http(("127.0.0.1", p2), "GET", "/").header("x-origin"), "one")

    def test_listen_section(self):
        o = self.origin(name="li")
        port = free_port()
        cfg = render(H.BASE_GLOBAL + H.BASE_DEFAULTS + """
listen both
    bind 127.0.0.1:{{port}}
    balance roundrobin
    server s1 {{o}}
""", port=port, o=o.addr)
        self.start_proxy(cfg)
        r = http(("127.0.0.1", port), "GET", "/listen?x=1")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("x-origin"), "li")
        self.assertEqual(o.log[-1].uri, "/listen?x=1")

    def test_defaults_apply_to_later_sections(self):
        # mode http comes from defaults only: an HTTP request must be parsed
        # (a 400 for garbage proves HTTP mode, TCP mode would relay it)
        o = self.origin()
        _, addr = self.simple_proxy("server s1 %s" % o.addr)
        out = H.raw_exchange(addr, b"NOT HTTP AT ALL\r\n\r\n", timeout=H.scaled(5))
        self.assertEqual(H.status_of(out), 400)
        self.assertEqual(o.requests, 0)


class HttpRequestReturn(ProxyTestCase):

    def start(self, rule, with_server=True):
        self.o = self.origin()
        port = free_port()
        cfg = render(H.BASE_GLOBAL + H.BASE_DEFAULTS + """
frontend fe
    bind 127.0.0.1:{{port}}
    {{rule}}
    default_backend be
backend be
    server s1 {{o}}
""", port=port, rule=rule, o=self.o.addr)
        self.start_proxy(cfg)
        return ("127.0.0.1", port)

    def test_return_string_with_content_type(self):
        addr = self.start('http-request return status 200 content-type "text/plain" '
                          'string "hello from the proxy"')
        r = http(addr, "GET", "/anything")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"hello from the proxy")
        self.assertEqual(r.header("content-type"), "text/plain")
        self.assertEqual(r.header("content-length"), str(len(r.body)))
        self.assertEqual(self.o.requests, 0)

    def test_return_other_status_and_keep_alive(self):
        addr = self.start('http-request return status 404 content-type text/plain '
                          'string "no such thing"')
        with H.HTTPConn(addr) as c:
            for i in range(3):
                r = c.request("GET", "/missing%d" % i)
                self.assertEqual(r.status, 404)
                self.assertEqual(r.reason, "Not Found")
                self.assertEqual(r.body, b"no such thing")
        self.assertEqual(self.o.requests, 0)

    def test_return_file(self):
        content = b"<html><body>static page\n\x00\xff binary ok</body></html>\n"
        f = self.write_file("page.html", content)
        addr = self.start("http-request return status 200 content-type text/html file %s" % f)
        r = http(addr, "GET", "/page")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, content)
        self.assertEqual(r.header("content-type"), "text/html")
        r = http(addr, "HEAD", "/page")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"")
        self.assertEqual(self.o.requests, 0)

    def test_return_status_only(self):
        addr = self.start("http-request return status 204")
        r = http(addr, "GET", "/")
        self.assertEqual(r.status, 204)
        self.assertEqual(r.body, b"")
        self.assertEqual(self.o.requests, 0)


if __name__ == "__main__":
    unittest.main()
