"""Limits: global and frontend maxconn, server maxconn with its queue and
timeout queue, tune.http.maxhdr, tune.bufsize / tune.maxrewrite."""

import threading
import time
import unittest

import harness as H
from harness import Delay, ProxyTestCase, Raw, free_port, render


class MaxConn(ProxyTestCase):

    def start(self, global_maxconn, frontend_maxconn=None):
        self.o = self.origin()
        port = free_port()
        cfg = render("""
global
    maxconn {{g}}
    nbthread 1
""" + H.BASE_DEFAULTS + """
frontend fe
    bind 127.0.0.1:{{port}}
{{fe}}    default_backend be
backend be
    server s1 {{o}}
""", g=global_maxconn, port=port, o=self.o.addr,
            fe="    maxconn %d\n" % frontend_maxconn if frontend_maxconn else "")
        self.start_proxy(cfg)
        return ("127.0.0.1", port)

    def check_third_waits(self, addr):
        c1 = H.HTTPConn(addr)
        self.addCleanup(c1.close)
        c2 = H.HTTPConn(addr)
        self.addCleanup(c2.close)
        self.assertEqual(c1.request("GET", "/c1").status, 200)
        self.assertEqual(c2.request("GET", "/c2").status, 200)
        # a third client connects (the kernel accepts it) but is not served
        c3 = H.HTTPConn(addr)
        self.addCleanup(c3.close)
        c3.send(c3.build("GET", "/c3"))
        c3.settimeout(1.0)
        with self.assertRaises(TimeoutError, msg="third client served beyond maxconn"):
            c3.read_response()
        self.assertEqual([r.uri for r in self.o.log], ["/c1", "/c2"])
        # one leaves: the third is served promptly
        c1.close()
        c3.settimeout(H.scaled(5))
        t0 = time.monotonic()
        r = c3.read_response()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["uri"], "/c3")
        self.assertLess(time.monotonic() - t0, H.scaled(2))
        # the other kept connection still works
        self.assertEqual(c2.request("GET", "/c2b").status, 200)

    def test_global_maxconn(self):
        self.check_third_waits(self.start(2))

    def test_frontend_maxconn(self):
        self.check_third_waits(self.start(1000, 2))


class ServerQueue(ProxyTestCase):

    def start(self, backend_extra=""):
        self.o = self.origin()
        self.o.route("/slow", Delay(0.5))
        self.proxy, self.addr = self.simple_proxy(
            backend_extra + "\nserver s1 %s maxconn 1" % self.o.addr)

    def concurrent(self, paths, stagger=0.1):
        results = {}

        def go(i, path):
            t0 = time.monotonic()
            try:
                r = H.http(self.addr, "GET", path, timeout=H.scaled(20))
                results[i] = (r.status, time.monotonic() - t0, r)
            except Exception as e:  # reported by the assertions
                results[i] = (repr(e), time.monotonic() - t0, None)

        threads = []
        for i, p in enumerate(paths):
            t = threading.Thread(target=go, args=(i, p), daemon=True)
            t.start()
            threads.append(t)
            time.sleep(stagger)
        for t in threads:
            t.join(H.scaled(30))
        return [results.get(i) for i in range(len(paths))]

    def test_server_maxconn_queues_in_order(self):
        self.start("timeout queue 20s")
        paths = ["/slow?n=%d" % i for i in range(4)]
        res = self.concurrent(paths)
        self.assertEqual([r[0] for r in res], [200] * 4, res)
        # served one at a time, in arrival order
        self.assertEqual([r.uri for r in self.o.log], paths)
        times = [r.time for r in self.o.log]
        for a, b in zip(times, times[1:]):
            self.assertGreaterEqual(b - a, 0.45, "requests overlapped on a maxconn 1 server")
        # the last one waited for the three before it
        self.assertGreaterEqual(res[3][1], 1.5)

    def test_timeout_queue_gives_503(self):
        self.start("timeout queue 1s")
        self.o.route("/slow", Delay(3))
        res = self.concurrent(["/slow?first", "/slow?queued"], stagger=0.3)
        self.assertEqual(res[0][0], 200)
        status, elapsed, r = res[1]
        self.assertEqual(status, 503)
        self.assertEqual(r.header("content-type"), "text/html")
        self.assertIn(b"503 Service Unavailable", r.body)
        self.assertElapsed(elapsed, 0.8, 1.9)
        # the queued request never reached the server
        self.assertEqual([x.uri for x in self.o.log], ["/slow?first"])


class HeaderLimits(ProxyTestCase):

    def start(self, tune):
        self.o = self.origin()
        port = free_port()
        cfg = render(H.BASE_GLOBAL + "{{tune}}" + H.BASE_DEFAULTS + """
frontend fe
    bind 127.0.0.1:{{port}}
    default_backend be
backend be
    server s1 {{o}}
""", tune=H.indent(tune), port=port, o=self.o.addr)
        self.start_proxy(cfg)
        self.addr = ("127.0.0.1", port)

    def send(self, nheaders=0, big=0):
        """Status for a request with `nheaders` header lines in total (Host
        included) plus an optional header of `big` bytes of value."""
        data = b"GET /lim HTTP/1.1\r\nHost: limits.test\r\n"
        data += b"".join(b"X-H%02d: v\r\n" % i for i in range(max(0, nheaders - 1)))
        if big:
            data += b"X-Big: " + b"b" * big + b"\r\n"
        data += b"\r\n"
        before = self.o.requests
        with H.HTTPConn(self.addr, timeout=H.scaled(5)) as c:
            c.send(data)
            r = c.read_response()
        forwarded = self.o.requests - before
        return r.status, forwarded, len(data)

    def test_maxhdr(self):
        self.start("tune.http.maxhdr 20")
        # HAProxy accepts at most maxhdr - 1 header lines (one slot of its
        # header table is kept for the end-of-headers marker).
        self.assertEqual(self.send(10)[:2], (200, 1))
        self.assertEqual(self.send(19)[:2], (200, 1))
        self.assertEqual(self.send(20)[:2], (400, 0))
        self.assertEqual(self.send(60)[:2], (400, 0))

    def test_maxhdr_default_is_101(self):
        self.start("")
        self.assertEqual(self.send(100)[:2], (200, 1))
        self.assertEqual(self.send(101)[:2], (400, 0))

    def test_header_block_larger_than_buffer(self):
        self.start("tune.bufsize 8192\ntune.maxrewrite 1024")
        ok = self.send(big=5500)
        self.assertEqual(ok[:2], (200, 1), ok)
        # more than bufsize - maxrewrite (7168 bytes): refused with 400,
        # not 431 (HAProxy 2.6 has no 431)
        over_reserve = self.send(big=7300)
        self.assertGreater(over_reserve[2], 7168)
        self.assertEqual(over_reserve[:2], (400, 0), over_reserve)
        self.assertEqual(self.send(big=20000)[:2], (400, 0))

    def test_long_uri_refused(self):
        self.start("tune.bufsize 8192\ntune.maxrewrite 1024")
        with H.HTTPConn(self.addr, timeout=H.scaled(5)) as c:
            c.send(b"GET /" + b"u" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(c.read_response().status, 400)
        self.assertEqual(self.o.requests, 0)

    def test_response_with_too_many_headers_is_502(self):
        self.start("tune.http.maxhdr 20")
        self.o.route("/many", Raw(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                                  + b"".join(b"X-R%02d: v\r\n" % i for i in range(40))
                                  + b"\r\nok", close=False))
        r = H.http(self.addr, "GET", "/many")
        self.assertEqual(r.status, 502)

    def test_response_header_block_larger_than_buffer_is_502(self):
        self.start("tune.bufsize 8192\ntune.maxrewrite 1024")
        self.o.route("/huge", Raw(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Huge: "
                                  + b"h" * 12000 + b"\r\n\r\nok", close=False))
        r = H.http(self.addr, "GET", "/huge")
        self.assertEqual(r.status, 502)


if __name__ == "__main__":
    unittest.main()
