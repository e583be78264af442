"""TLS towards servers: server ... ssl with verification, SNI, ALPN,
client certificates, reuse of idle TLS connections, session resumption,
default-server ssl, and health checks over TLS (check-ssl)."""

import time
import unittest

import harness as H
import tlsutil as T
from harness import ProxyTestCase, free_port, render, http


class TLSBackend(ProxyTestCase):

    def setUp(self):
        super().setUp()
        self.ca = T.CA(self.tmp)
        self.crt = self.ca.sign("origin", "origin.test", ["origin.test"])

    def tls_origin(self, **kw):
        o = T.TLSOrigin(self.crt, **kw)
        self.addCleanup(o.stop)
        return o

    def proxy(self, server_line, backend_lines="", defaults="", global_lines=""):
        return self.simple_proxy(backend_lines + "\n" + server_line, defaults=defaults,
                                 global_lines=global_lines)

    def test_verify_required_with_sni(self):
        o = self.tls_origin()
        p, addr = self.proxy("server s1 %s ssl verify required ca-file %s sni str(origin.test)"
                             % (o.addr, self.ca.crt))
        r = http(addr, "GET", "/x")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["uri"], "/x")
        self.assertEqual(o.snis, ["origin.test"])

    def test_sni_from_the_request(self):
        o = self.tls_origin()
        p, addr = self.proxy("server s1 %s ssl verify none sni req.hdr(host)" % o.addr,
                             "http-reuse always")
        self.assertEqual(http(addr, "GET", "/", headers=[("Host", "one.test")]).status, 200)
        self.assertEqual(http(addr, "GET", "/", headers=[("Host", "two.test")]).status, 200)
        self.assertEqual(http(addr, "GET", "/", headers=[("Host", "one.test")]).status, 200)
        # an idle connection is only reused for the SNI it was opened with
        self.assertEqual(o.snis, ["one.test", "two.test"])
        self.assertEqual(o.requests, 3)

    def test_wrong_name_or_authority_is_refused(self):
        o = self.tls_origin()
        p, addr = self.proxy("server s1 %s ssl verify required ca-file %s sni str(other.test)"
                             % (o.addr, self.ca.crt), "retries 0")
        self.assertEqual(http(addr, "GET", "/").status, 503)
        other = T.CA(self.tmp, name="other", cn="other CA")
        p2, addr2 = self.proxy("server s1 %s ssl verify required ca-file %s" % (o.addr, other.crt),
                               "retries 0")
        self.assertEqual(http(addr2, "GET", "/").status, 503)
        self.assertEqual(o.requests, 0)

    def test_idle_tls_connections_are_reused(self):
        o = self.tls_origin()
        p, addr = self.proxy("server s1 %s ssl verify none" % o.addr, "http-reuse always")
        for i in range(5):
            self.assertEqual(http(addr, "GET", "/r%d" % i).status, 200)
        self.assertEqual(o.requests, 5)
        self.assertEqual(o.accepted, 1)

    def test_session_resumption_towards_the_server(self):
        o = self.tls_origin()
        p, addr = self.proxy("server s1 %s ssl verify none" % o.addr, "http-reuse never")
        for i in range(3):
            self.assertEqual(http(addr, "GET", "/s%d" % i).status, 200)
        o.wait_for(lambda o: len(o.resumed) >= 3)
        self.assertEqual(o.accepted, 3)
        self.assertEqual(o.resumed, [False, True, True])

    def test_no_ssl_reuse(self):
        o = self.tls_origin()
        p, addr = self.proxy("server s1 %s ssl verify none no-ssl-reuse" % o.addr, "http-reuse never")
        for i in range(2):
            self.assertEqual(http(addr, "GET", "/").status, 200)
        o.wait_for(lambda o: len(o.resumed) >= 2)
        self.assertEqual(o.resumed, [False, False])

    def test_default_server_ssl_alpn_and_client_certificate(self):
        o = self.tls_origin(cafile=self.ca.crt, alpn=["http/1.1"])
        cli = self.ca.sign("proxy", "proxy.client", client=True)
        p, addr = self.proxy("server s1 %s crt %s" % (o.addr, cli),
                             "default-server ssl verify required ca-file %s alpn http/1.1 sni str(origin.test)"
                             % self.ca.crt)
        self.assertEqual(http(addr, "GET", "/").status, 200)
        self.assertEqual(o.alpns, ["http/1.1"])
        subject = dict(x[0] for x in o.peer_certs[0]["subject"])
        self.assertEqual(subject["commonName"], "proxy.client")

    @H.proxyd_only("HAProxy speaks HTTP/2 and offers h2 to the server as configured")
    def test_h2_never_offered_to_an_http_server(self):
        o = self.tls_origin(alpn=["h2", "http/1.1"])
        p, addr = self.proxy("server s1 %s ssl verify none alpn h2,http/1.1" % o.addr)
        self.assertEqual(http(addr, "GET", "/").status, 200)
        self.assertEqual(o.alpns, ["http/1.1"])
        o2 = self.tls_origin(alpn=["h2"])
        p2, addr2 = self.proxy("server s1 %s ssl verify none alpn h2" % o2.addr)
        self.assertEqual(http(addr2, "GET", "/").status, 200)
        self.assertEqual(o2.alpns, [None])

    def test_missing_ca_file_is_an_error(self):
        port = free_port()
        path = self.write_file("c.cfg", H.BASE_GLOBAL + H.BASE_DEFAULTS + """
frontend fe
    bind 127.0.0.1:%d
    default_backend be
backend be
    server s1 127.0.0.1:1 ssl
""" % port)
        rc, out, err = H.run_bin(["-c", "-f", path])
        self.assertNotEqual(rc, 0)
        self.assertIn("no CA file specified", err)
        self.assertIn("verify none", err)

    def test_tcp_mode_tls_to_tls(self):
        o = self.tls_origin()
        port = free_port()
        cfg = render(H.BASE_GLOBAL + H.BASE_DEFAULTS + """
frontend fe
    mode tcp
    bind 127.0.0.1:{{port}} ssl crt {{crt}}
    default_backend be
backend be
    mode tcp
    server s1 {{o}} ssl verify required ca-file {{ca}} sni str(origin.test)
""", port=port, crt=self.crt, o=o.addr, ca=self.ca.crt)
        self.start_proxy(cfg)
        r = T.https(("127.0.0.1", port), "GET", "/tcp")
        self.assertEqual(r.status, 200)
        self.assertEqual(o.log[-1].uri, "/tcp")


class TLSChecks(ProxyTestCase):

    def setUp(self):
        super().setUp()
        self.ca = T.CA(self.tmp)
        self.crt = self.ca.sign("origin", "origin.test", ["origin.test"])

    def wait_status(self, addr, want, timeout=5):
        deadline = time.monotonic() + H.scaled(timeout)
        status = None
        while time.monotonic() < deadline:
            status = http(addr, "GET", "/").status
            if status == want:
                return status
            time.sleep(0.1)
        return status

    def test_checks_of_an_ssl_server_use_tls(self):
        o = T.TLSOrigin(self.crt)
        self.addCleanup(o.stop)
        p, addr = self.simple_proxy("option httpchk GET /health\nserver s1 %s ssl verify none check inter 200ms "
                                    "fall 1 rise 1" % o.addr)
        o.wait_for(lambda o: any(r.uri == "/health" for r in o.log), H.scaled(5))
        self.assertTrue(any(r.uri == "/health" for r in o.log))
        self.assertEqual(self.wait_status(addr, 200), 200)

    def test_check_ssl_against_a_plain_server_fails(self):
        o = self.origin()
        p, addr = self.simple_proxy("server s1 %s check check-ssl verify none inter 200ms fall 1 rise 1"
                                    % o.addr)
        self.assertEqual(self.wait_status(addr, 503), 503)

    def test_check_ssl_with_a_plain_traffic_port(self):
        tls = T.TLSOrigin(self.crt)
        self.addCleanup(tls.stop)
        o = self.origin()
        p, addr = self.simple_proxy("server s1 %s check check-ssl verify none port %d inter 200ms fall 1 rise 1"
                                    % (o.addr, tls.port))
        tls.wait_for(lambda t: len(t.resumed) >= 2, H.scaled(5))
        self.assertGreaterEqual(len(tls.resumed), 2)
        self.assertEqual(self.wait_status(addr, 200), 200)
        self.assertEqual(o.log[-1].uri, "/")


if __name__ == "__main__":
    unittest.main()
