"""Connection upgrade (101 Switching Protocols) and the tunnel after it."""

import os
import threading
import time
import unittest

import harness as H
from harness import ProxyTestCase, Upgrade, free_port, render

WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
WS_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="   # RFC 6455 sample


def upgrade_request(path="/ws", protocol="websocket", extra=()):
    # HAProxy 2.6 refuses (400) a websocket upgrade without a valid
    # Sec-WebSocket-Key, so send a real one.
    hdrs = [("Host", "ws.test"), ("Connection", "Upgrade"), ("Upgrade", protocol)]
    if protocol == "websocket":
        hdrs += [("Sec-WebSocket-Key", WS_KEY), ("Sec-WebSocket-Version", "13")]
    hdrs += list(extra)
    return ("GET %s HTTP/1.1\r\n" % path + "".join("%s: %s\r\n" % h for h in hdrs)
            + "\r\n").encode()


class Upgrades(ProxyTestCase):

    def start(self, defaults=""):
        self.o = self.origin()
        self.o.route("/ws", Upgrade())
        self.o.route("/other", Upgrade(protocol="x-echo"))
        port = free_port()
        cfg = render(H.BASE_GLOBAL + H.BASE_DEFAULTS + "{{defaults}}" + """
frontend fe
    bind 127.0.0.1:{{port}}
    default_backend be
backend be
    server s1 {{o}}
""", port=port, o=self.o.addr, defaults=H.indent(defaults))
        self.start_proxy(cfg)
        self.addr = ("127.0.0.1", port)

    def open_tunnel(self, path="/ws", protocol="websocket", early=b""):
        c = H.HTTPConn(self.addr)
        self.addCleanup(c.close)
        c.send(upgrade_request(path, protocol) + early)
        r = c.read_response(skip_interim=False)
        return c, r

    def test_websocket_upgrade_and_echo(self):
        self.start()
        c, r = self.open_tunnel()
        self.assertEqual(r.status, 101)
        self.assertTrue(H.has_token(r.headers, "connection", "upgrade"))
        self.assertEqual(r.header("upgrade"), "websocket")
        self.assertEqual(r.header("sec-websocket-accept"), WS_ACCEPT)
        seen = self.o.log[-1]
        self.assertTrue(H.has_token(seen.headers, "connection", "upgrade"), seen.raw_head)
        self.assertEqual(seen.header("upgrade"), "websocket")
        self.assertEqual(seen.header("sec-websocket-key"), WS_KEY)
        # raw bytes both ways, including bytes that look like HTTP
        for msg in (b"\x81\x05hello", b"GET / HTTP/1.1\r\n\r\n", bytes(range(256)),
                    b"\x00" * 10):
            c.send(msg)
            self.assertEqual(c.reader.read_exact(len(msg)), msg)

    def test_tunnel_large_transfer_both_ways(self):
        self.start()
        c, r = self.open_tunnel()
        self.assertEqual(r.status, 101)
        data = os.urandom(4 * 1024 * 1024)
        got = bytearray()

        def reader():
            while len(got) < len(data):
                chunk = c.reader.read_some(1 << 20)
                if not chunk:
                    break
                got.extend(chunk)

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        c.send(data)
        t.join(H.scaled(30))
        self.assertFalse(t.is_alive(), "tunnel echo stalled at %d bytes" % len(got))
        self.assertEqual(bytes(got), data)

    def test_early_data_after_upgrade_request(self):
        # bytes sent right behind the request head belong to the tunnel
        self.start()
        c, r = self.open_tunnel(path="/other", protocol="x-echo", early=b"early bytes")
        self.assertEqual(r.status, 101)
        self.assertEqual(c.reader.read_exact(11), b"early bytes")
        c.send(b"later")
        self.assertEqual(c.reader.read_exact(5), b"later")

    def test_close_propagates_through_tunnel(self):
        self.start()
        c, r = self.open_tunnel()
        self.assertEqual(r.status, 101)
        c.send(b"ping")
        self.assertEqual(c.reader.read_exact(4), b"ping")
        # client closes -> origin sees EOF and its connection goes away
        c.close()
        self.assertTrue(self.o.wait_for(lambda o: o.open_conns == 0, H.scaled(5)),
                        "origin connection still open after the client left")

    def test_upgrade_refused_by_server_stays_http(self):
        # the origin answers 200 to an upgrade request: no tunnel, the
        # connection goes on with HTTP
        self.start()
        with H.HTTPConn(self.addr) as c:
            c.send(upgrade_request("/plain", "x-echo"))
            r = c.read_response()
            self.assertEqual(r.status, 200)
            r = c.request("GET", "/second")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.json()["uri"], "/second")

    def test_timeout_tunnel_closes_idle_tunnel(self):
        self.start(defaults="timeout tunnel 1s\ntimeout client 30s\ntimeout server 30s")
        c, r = self.open_tunnel()
        self.assertEqual(r.status, 101)
        c.send(b"x")
        self.assertEqual(c.reader.read_exact(1), b"x")
        t0 = time.monotonic()
        c.settimeout(H.scaled(6))
        rest = c.read_until_close()
        elapsed = time.monotonic() - t0
        self.assertEqual(rest, b"")
        self.assertElapsed(elapsed, 0.8, 1.9)

    def test_tunnel_activity_keeps_it_open(self):
        self.start(defaults="timeout tunnel 1s\ntimeout client 30s\ntimeout server 30s")
        c, r = self.open_tunnel()
        self.assertEqual(r.status, 101)
        # traffic every 0.4s for 2.4s: longer than the timeout in total
        for i in range(6):
            c.send(b"%d" % i)
            self.assertEqual(c.reader.read_exact(1), b"%d" % i)
            time.sleep(0.4)
        c.send(b"z")
        self.assertEqual(c.reader.read_exact(1), b"z")


if __name__ == "__main__":
    unittest.main()
