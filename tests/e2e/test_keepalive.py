"""Persistent connections: client keep-alive, server-side reuse
(http-reuse), option httpclose / http-server-close, keep-alive timeout,
pipelining."""

import time
import unittest

import harness as H
from harness import Fixed, ProxyTestCase, free_port, render


def config(origin_addr, frontend="", backend="", defaults=""):
    port = free_port()
    cfg = render(H.BASE_GLOBAL + H.BASE_DEFAULTS + "{{defaults}}" + """
frontend fe
    bind 127.0.0.1:{{port}}
{{frontend}}    default_backend be
backend be
{{backend}}    server s1 {{o}}
""", port=port, o=origin_addr, defaults=H.indent(defaults),
                 frontend=H.indent(frontend), backend=H.indent(backend))
    return cfg, ("127.0.0.1", port)


class KeepAlive(ProxyTestCase):

    def start(self, **kw):
        self.o = self.origin()
        cfg, self.addr = config(self.o.addr, **kw)
        self.proxy = self.start_proxy(cfg)
        return self.addr

    def session(self, n, path="/r"):
        """n requests on one client connection; returns (responses,
        closed_after) where closed_after is None while the connection
        stays open after the last response."""
        out = []
        with H.HTTPConn(self.addr) as c:
            for i in range(n):
                r = c.request("GET", "%s%d" % (path, i))
                out.append(r)
                if H.has_token(r.headers, "connection", "close"):
                    break
            closed = c.is_closed(0.3)
        return out, closed

    def wait_idle(self):
        # let the proxy notice the client left and park the server
        # connection before the next client comes
        time.sleep(0.3)

    def test_several_requests_on_one_client_connection(self):
        self.start()
        rs, closed = self.session(5)
        self.assertEqual([r.status for r in rs], [200] * 5)
        self.assertEqual([r.json()["uri"] for r in rs], ["/r%d" % i for i in range(5)])
        self.assertFalse(closed)
        # and one backend connection served them all
        self.assertEqual(self.o.accepted, 1)
        self.assertEqual(self.o.conn_requests, {1: 5})

    def test_default_no_connection_header_to_backend(self):
        self.start()
        self.session(2)
        for req in self.o.log:
            self.assertFalse(H.has_token(req.headers, "connection", "close"))

    def test_reuse_always_across_client_connections(self):
        self.start(backend="http-reuse always")
        self.session(3, "/a")
        self.wait_idle()
        self.session(3, "/b")
        self.assertEqual(self.o.accepted, 1, self.o.conn_requests)
        self.assertEqual(self.o.conn_requests, {1: 6})

    def test_reuse_aggressive_across_client_connections(self):
        self.start(backend="http-reuse aggressive")
        self.session(2, "/a")
        self.wait_idle()
        self.session(2, "/b")
        self.assertEqual(self.o.accepted, 1, self.o.conn_requests)

    def test_reuse_never_across_client_connections(self):
        self.start(backend="http-reuse never")
        self.session(3, "/a")
        self.wait_idle()
        self.session(3, "/b")
        # each client connection gets its own server connection, kept for
        # its 3 requests
        self.assertEqual(self.o.accepted, 2)
        self.assertEqual(self.o.conn_requests, {1: 3, 2: 3})

    def test_reuse_safe_first_request_gets_own_connection(self):
        # "safe" (the default): the first request of a client connection is
        # never sent on an idle connection of another client
        self.start(backend="http-reuse safe")
        self.session(1, "/a")
        self.wait_idle()
        self.session(1, "/b")
        self.assertEqual(self.o.accepted, 2)

    def test_option_httpclose(self):
        self.start(frontend="option httpclose")
        rs, closed = self.session(3)
        # one response, Connection: close to the client, then the close
        self.assertEqual(len(rs), 1)
        self.assertTrue(H.has_token(rs[0].headers, "connection", "close"))
        self.assertTrue(closed)
        rs, closed = self.session(3)
        self.assertEqual(len(rs), 1)
        self.assertTrue(closed)
        # the server saw Connection: close, and one connection per request
        self.assertEqual(self.o.accepted, 2)
        for req in self.o.log:
            self.assertTrue(H.has_token(req.headers, "connection", "close"), req.raw_head)

    def test_option_httpclose_in_defaults(self):
        self.start(defaults="option httpclose")
        rs, closed = self.session(2)
        self.assertEqual(len(rs), 1)
        self.assertTrue(closed)
        self.assertTrue(H.has_token(self.o.log[0].headers, "connection", "close"))

    def test_option_http_server_close(self):
        self.start(frontend="option http-server-close")
        rs, closed = self.session(3)
        # the client keeps its connection...
        self.assertEqual([r.status for r in rs], [200] * 3)
        self.assertFalse(closed)
        for r in rs:
            self.assertFalse(H.has_token(r.headers, "connection", "close"))
        # ...while every request gets its own server connection, told to close
        self.assertEqual(self.o.accepted, 3)
        self.assertEqual(self.o.conn_requests, {1: 1, 2: 1, 3: 1})
        for req in self.o.log:
            self.assertTrue(H.has_token(req.headers, "connection", "close"), req.raw_head)

    def test_option_http_server_close_in_backend(self):
        self.start(backend="option http-server-close")
        rs, closed = self.session(3)
        self.assertFalse(closed)
        self.assertEqual(self.o.accepted, 3)

    def test_client_connection_close_is_honoured(self):
        self.start()
        with H.HTTPConn(self.addr) as c:
            r = c.request("GET", "/bye", headers=[("Connection", "close")])
            self.assertEqual(r.status, 200)
            self.assertTrue(H.has_token(r.headers, "connection", "close"))
            self.assertTrue(c.is_closed(H.scaled(3)))

    def test_server_connection_close_does_not_close_client(self):
        self.start()
        self.o.route("/srvclose", Fixed(b"bye", close=True))
        with H.HTTPConn(self.addr) as c:
            r = c.request("GET", "/srvclose")
            self.assertEqual(r.body, b"bye")
            r = c.request("GET", "/next")
            self.assertEqual(r.status, 200)
        self.assertEqual(self.o.accepted, 2)

    def test_keep_alive_timeout(self):
        self.start(defaults="timeout http-keep-alive 1s\ntimeout http-request 10s")
        with H.HTTPConn(self.addr) as c:
            self.assertEqual(c.request("GET", "/").status, 200)
            t0 = time.monotonic()
            c.settimeout(H.scaled(5))
            data = c.read_until_close()
            elapsed = time.monotonic() - t0
        self.assertEqual(data, b"")
        self.assertElapsed(elapsed, 0.8, 1.9)


class Pipelining(ProxyTestCase):

    def test_pipelined_requests_answered_in_order(self):
        o = self.origin()
        cfg, addr = config(o.addr)
        self.start_proxy(cfg)
        with H.HTTPConn(addr) as c:
            # the first is the slowest: answers must still come in order
            c.send(c.build("GET", "/p0?delay=0.3") + c.build("GET", "/p1?delay=0.1")
                   + c.build("GET", "/p2"))
            rs = [c.read_response() for _ in range(3)]
        self.assertEqual([r.status for r in rs], [200] * 3)
        self.assertEqual([r.json()["uri"] for r in rs],
                         ["/p0?delay=0.3", "/p1?delay=0.1", "/p2"])
        self.assertEqual(len({r.body for r in rs}), 3)

    def test_pipelined_requests_with_bodies(self):
        o = self.origin()
        cfg, addr = config(o.addr)
        self.start_proxy(cfg)
        with H.HTTPConn(addr) as c:
            c.send(c.build("POST", "/a", body=b"first body")
                   + c.build("PUT", "/b", headers=[("Transfer-Encoding", "chunked")])
                   + b"6\r\nsecond\r\n5\r\n body\r\n0\r\n\r\n"
                   + c.build("GET", "/c"))
            rs = [c.read_response() for _ in range(3)]
        bodies = [(r.json()["method"], r.json()["uri"], r.json()["body"]) for r in rs]
        self.assertEqual(bodies, [("POST", "/a", "first body"), ("PUT", "/b", "second body"),
                                  ("GET", "/c", "")])

    def test_pipelined_head_then_get(self):
        o = self.origin()
        o.route("/h", Fixed(b"0123456789"))
        cfg, addr = config(o.addr)
        self.start_proxy(cfg)
        with H.HTTPConn(addr) as c:
            c.send(c.build("HEAD", "/h") + c.build("GET", "/h") + c.build("HEAD", "/h"))
            r1 = c.read_response(method="HEAD")
            r2 = c.read_response()
            r3 = c.read_response(method="HEAD")
        self.assertEqual((r1.status, r1.body), (200, b""))
        self.assertEqual((r2.status, r2.body), (200, b"0123456789"))
        self.assertEqual((r3.status, r3.body), (200, b""))


if __name__ == "__main__":
    unittest.main()
