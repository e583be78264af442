"""Listening addresses: IPv4, IPv6, ipv4@/ipv6@ prefixes, unix sockets,
inherited sockets (fd@N), several addresses on one bind line."""

import subprocess
import unittest

import harness as H
from harness import ProxyTestCase, free_port, http, render


class Binds(ProxyTestCase):

    def start(self, bind_lines, **kw):
        self.o = self.origin()
        cfg = render(H.BASE_GLOBAL + H.BASE_DEFAULTS + """
frontend fe
{{binds}}    default_backend be
backend be
    server s1 {{o}}
""", binds=H.indent(bind_lines), o=self.o.addr)
        return self.start_proxy(cfg, **kw)

    def served(self, addr, path="/bind"):
        r = http(addr, "GET", path)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["uri"], path)

    def test_ipv4(self):
        port = free_port()
        self.start("bind 127.0.0.1:%d" % port)
        self.served(("127.0.0.1", port))

    def test_ipv6(self):
        port = free_port("::1")
        self.start("bind [::1]:%d" % port)
        self.served(("::1", port))
        # and not on IPv4
        with self.assertRaises(ConnectionRefusedError):
            H.connect(("127.0.0.1", port), 2).close()

    def test_ipv4_prefix(self):
        port = free_port()
        self.start("bind ipv4@127.0.0.1:%d" % port)
        self.served(("127.0.0.1", port))

    def test_ipv6_prefix(self):
        port = free_port("::1")
        self.start("bind ipv6@[::1]:%d" % port)
        self.served(("::1", port))

    def test_ipv6_prefix_unbracketed(self):
        port = free_port("::1")
        self.start("bind ipv6@::1:%d" % port)
        self.served(("::1", port))

    def test_unix_socket_with_curl(self):
        path = self.path("proxy.sock")
        self.start("bind unix@%s" % path)
        p = subprocess.run(["curl", "-sS", "--max-time", str(int(H.scaled(10))),
                            "--unix-socket", path, "-H", "X-Via-Unix: 1",
                            "http://unix.test/over/unix?x=1"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=H.scaled(20))
        self.assertEqual(p.returncode, 0, p.stderr)
        seen = self.o.log[-1]
        self.assertEqual(seen.uri, "/over/unix?x=1")
        self.assertEqual(seen.header("x-via-unix"), "1")
        self.assertEqual(seen.header("host"), "unix.test")
        self.assertIn(b'"/over/unix?x=1"', p.stdout)
        # also with our own client, several requests on one connection
        with H.HTTPConn(path) as c:
            for i in range(3):
                self.assertEqual(c.request("GET", "/u%d" % i).status, 200)

    def test_inherited_socket_fd(self):
        ls = H.listening_socket()
        self.addCleanup(ls.close)
        port = ls.getsockname()[1]
        fd = ls.fileno()
        self.start("bind fd@%d" % fd, pass_fds=[fd], wait_for=[])
        # the test no longer accepts on it: only the proxy does
        ls.close()
        self.served(("127.0.0.1", port))
        with H.HTTPConn(("127.0.0.1", port)) as c:
            for i in range(3):
                self.assertEqual(c.request("GET", "/fd%d" % i).status, 200)

    def test_two_addresses_on_one_line(self):
        p1, p2 = free_port(), free_port("::1")
        self.start("bind 127.0.0.1:%d,[::1]:%d" % (p1, p2))
        self.served(("127.0.0.1", p1), "/first")
        self.served(("::1", p2), "/second")

    def test_several_bind_lines_and_prefixed_list(self):
        p1, p2, p3 = free_port(), free_port(), free_port("::1")
        sock = self.path("multi.sock")
        self.start("bind 127.0.0.1:%d\nbind ipv4@127.0.0.1:%d,ipv6@[::1]:%d\nbind unix@%s"
                   % (p1, p2, p3, sock))
        for addr in (("127.0.0.1", p1), ("127.0.0.1", p2), ("::1", p3), sock):
            self.served(addr)

    def test_port_in_use_fails_to_start(self):
        with H.listening_socket() as s:
            port = s.getsockname()[1]
            o = self.origin()
            cfg = render(H.BASE_GLOBAL + H.BASE_DEFAULTS + """
frontend fe
    bind 127.0.0.1:{{port}}
    default_backend be
backend be
    server s1 {{o}}
""", port=port, o=o.addr)
            p = H.Proxy(self.tmp, cfg, wait_for=[], name="busy")
            p.start()
            self.addCleanup(p.stop)
            rc = p.wait(H.scaled(10))
        self.assertIsNotNone(rc, "proxy kept running without its listener")
        self.assertNotEqual(rc, 0)


if __name__ == "__main__":
    unittest.main()
