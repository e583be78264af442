"""TLS on the client side (bind ... ssl): handshakes, certificate choice by
SNI, ALPN, session resumption, client certificates, fetches in rules,
handshake failures and timeouts, configuration errors.

Certificates are made at test time with the openssl command (tlsutil).
Clients: curl, openssl s_client and Python's ssl module.
"""

import os
import shutil
import socket
import ssl
import subprocess
import time
import unittest

import harness as H
import tlsutil as T
from harness import ProxyTestCase, free_port, render, proxyd_only


class TLSCase(ProxyTestCase):

    def setUp(self):
        super().setUp()
        self.ca = T.CA(self.tmp)

    def start_fe(self, bind_opts, fe_lines="", global_lines="", o=None, extra="", debug=False):
        self.o = o or self.origin()
        self.port = free_port()
        cfg = render(H.BASE_GLOBAL + H.indent(global_lines) + H.BASE_DEFAULTS + """
frontend fe
    bind 127.0.0.1:{{port}} ssl {{opts}}
{{fe}}    default_backend be
backend be
    server s1 {{o}}
{{extra}}""", port=self.port, opts=bind_opts, fe=H.indent(fe_lines), o=self.o.addr, extra=extra)
        self.proxy = self.start_proxy(cfg, debug=debug)
        self.addr = ("127.0.0.1", self.port)
        return self.proxy

    def check_config(self, text):
        path = self.write_file("check.cfg", text)
        return H.run_bin(["-c", "-f", path])


class Handshake(TLSCase):

    def test_curl_and_headers_from_ssl_fc(self):
        crt = self.ca.sign("site", "site.test", ["site.test"])
        self.start_fe("crt %s" % crt, """
            option forwardfor
            http-request set-header X-Forwarded-Proto https if { ssl_fc }
            http-request set-header X-Proto-Version %[ssl_fc_protocol]
            http-request set-header X-SNI %[ssl_fc_sni]
            """)
        p = subprocess.run(["curl", "-sS", "--max-time", str(int(H.scaled(10))), "--cacert", self.ca.crt,
                            "--resolve", "site.test:%d:127.0.0.1" % self.port,
                            "https://site.test:%d/hello" % self.port],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=H.scaled(20))
        self.assertEqual(p.returncode, 0, p.stderr)
        seen = self.o.log[-1]
        self.assertEqual(seen.uri, "/hello")
        self.assertEqual(seen.header("x-forwarded-proto"), "https")
        self.assertEqual(seen.header("x-forwarded-for"), "127.0.0.1")
        self.assertEqual(seen.header("x-sni"), "site.test")
        self.assertIn(seen.header("x-proto-version"), ("TLSv1.2", "TLSv1.3"))

    def test_keep_alive_over_tls(self):
        crt = self.ca.sign("site", "site.test")
        self.start_fe("crt %s" % crt)
        with T.HTTPSConn(self.addr) as c:
            for i in range(5):
                r = c.request("GET", "/k%d" % i)
                self.assertEqual(r.status, 200)
                self.assertEqual(r.json()["uri"], "/k%d" % i)
        self.assertEqual(self.o.requests, 5)

    def test_large_body_both_ways(self):
        crt = self.ca.sign("site", "site.test")
        self.o = self.origin()
        self.o.route("/big", H.Stream())
        self.start_fe("crt %s" % crt, o=self.o)
        size = 3 * 1024 * 1024 + 17
        with T.HTTPSConn(self.addr) as c:
            r = c.request("GET", "/big?size=%d&seed=3" % size)
            self.assertEqual(r.status, 200)
            self.assertEqual(len(r.body), size)
            self.assertEqual(r.body, H.pattern_bytes(size, 3))
            body = H.pattern_bytes(1024 * 1024, 5)
            r = c.request("POST", "/echo", body=body)
            self.assertEqual(r.status, 200)
        self.assertEqual(self.o.log[-1].body_len, len(body))

    def test_redirect_scheme_https_on_plain_port(self):
        crt = self.ca.sign("site", "site.test")
        plain = free_port()
        self.start_fe("crt %s" % crt, "bind 127.0.0.1:%d\nredirect scheme https if !{ ssl_fc }" % plain)
        r = H.http(("127.0.0.1", plain), "GET", "/x?y=1", headers=[("Host", "site.test")])
        self.assertEqual(r.status, 302)
        self.assertEqual(r.header("location"), "https://site.test/x?y=1")
        r = T.https(self.addr, "GET", "/x", headers=[("Host", "site.test")])
        self.assertEqual(r.status, 200)
        self.assertEqual(self.o.requests, 1)

    def test_plain_http_on_tls_port_closes_cleanly(self):
        crt = self.ca.sign("site", "site.test")
        self.start_fe("crt %s" % crt)
        data = H.raw_exchange(self.addr, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", timeout=H.scaled(5))
        # no HTTP answer: the connection is closed (HAProxy may send a TLS
        # alert record first, never plain text)
        self.assertFalse(data.startswith(b"HTTP/"), data[:40])
        # and the proxy still serves
        self.assertEqual(T.https(self.addr).status, 200)
        self.assertEqual(self.o.requests, 1)

    def test_handshake_timeout_is_timeout_client(self):
        crt = self.ca.sign("site", "site.test")
        self.start_fe("crt %s" % crt, extra="defaults\n    timeout client 1s\n")
        # a frontend-level timeout: the defaults above come after: redo with it
        self._cleanups_run_proxy_again(crt)

    def _cleanups_run_proxy_again(self, crt):
        self.proxy.stop()
        port = free_port()
        cfg = render(H.BASE_GLOBAL + """
defaults
    mode http
    timeout connect 5s
    timeout client 1s
    timeout server 30s
frontend fe
    bind 127.0.0.1:{{port}} ssl crt {{crt}}
    default_backend be
backend be
    server s1 {{o}}
""", port=port, crt=crt, o=self.o.addr)
        self.start_proxy(cfg)
        s = H.connect(("127.0.0.1", port), timeout=H.scaled(10))
        t0 = time.monotonic()
        with s:
            try:
                data = s.recv(100)
            except ConnectionResetError:
                data = b""
        self.assertEqual(data, b"")
        self.assertElapsed(time.monotonic() - t0, 0.9, 3)


class Certificates(TLSCase):

    def test_sni_picks_the_certificate_and_first_is_default(self):
        a = self.ca.sign("a", "a.test", ["a.test"])
        b = self.ca.sign("b", "b.test", ["b.test", "*.wild.test"])
        self.start_fe("crt %s crt %s" % (a, b))
        self.assertEqual(T.peer_subject(self.addr, "a.test"), "CN = a.test")
        self.assertEqual(T.peer_subject(self.addr, "b.test"), "CN = b.test")
        self.assertEqual(T.peer_subject(self.addr, "x.wild.test"), "CN = b.test")
        self.assertEqual(T.peer_subject(self.addr, "B.TEST"), "CN = b.test")
        # a wildcard covers one label only: the default answers
        self.assertEqual(T.peer_subject(self.addr, "x.y.wild.test"), "CN = a.test")
        self.assertEqual(T.peer_subject(self.addr, "unknown.test"), "CN = a.test")
        self.assertEqual(T.peer_subject(self.addr, None), "CN = a.test")

    def test_crt_directory(self):
        d = os.path.join(self.tmp, "certs")
        os.mkdir(d)
        for name in ("b", "a", "c"):
            pem = self.ca.sign(name, "%s.test" % name)
            shutil.copy(pem, d)
        # companions are skipped (HAProxy would read a .ocsp file: not made here)
        shutil.copy(self.ca.key, os.path.join(d, ".hidden"))
        self.start_fe("crt %s" % d)
        self.assertEqual(T.peer_subject(self.addr, "c.test"), "CN = c.test")
        self.assertEqual(T.peer_subject(self.addr, "b.test"), "CN = b.test")
        # files are taken in name order: a.pem is the default
        self.assertEqual(T.peer_subject(self.addr, None), "CN = a.test")

    def test_key_in_separate_file(self):
        pem = self.ca.sign("sep", "sep.test", combined=False)
        self.start_fe("crt %s" % pem)
        self.assertEqual(T.peer_subject(self.addr, "sep.test"), "CN = sep.test")

    def test_rsa_and_ecdsa_side_by_side(self):
        rsa = self.ca.sign("rsa", "dual.test", ["dual.test"], kind="rsa")
        ec = self.ca.sign("ec", "dual.test", ["dual.test"], kind="ec")
        self.start_fe("crt %s crt %s" % (rsa, ec))
        rc, out = T.s_client(self.addr, ["-servername", "dual.test", "-sigalgs", "ECDSA+SHA256"], b"Q\n")
        self.assertIn("ECDSA", out.split("Peer signature type")[1].splitlines()[0] if "Peer signature type" in out else out)
        rc, out = T.s_client(self.addr, ["-servername", "dual.test", "-sigalgs", "RSA-PSS+SHA256:RSA+SHA256"],
                             b"Q\n")
        self.assertIn("Server public key is 2048 bit", out)

    def test_crt_list_filters_and_options(self):
        a = self.ca.sign("a", "a.test", ["a.test", "*.multi.test"])
        b = self.ca.sign("b", "b.test", ["b.test"])
        lst = self.write_file("list.txt", """# comment line

%s [alpn http/1.1 ssl-min-ver TLSv1.2] *.multi.test !secret.multi.test
%s [ ssl-min-ver TLSv1.3 ] b.test secret.multi.test
""" % (a, b))
        self.start_fe("crt-list %s" % lst)
        self.assertEqual(T.peer_subject(self.addr, "x.multi.test"), "CN = a.test")
        self.assertEqual(T.peer_subject(self.addr, "secret.multi.test"), "CN = b.test")
        self.assertEqual(T.peer_subject(self.addr, "b.test"), "CN = b.test")
        # b's line wants TLSv1.3 at least
        rc, out = T.s_client(self.addr, ["-servername", "b.test", "-tls1_2"], b"Q\n")
        self.assertNotEqual(rc, 0, out)
        rc, out = T.s_client(self.addr, ["-servername", "x.multi.test", "-tls1_2"], b"Q\n")
        self.assertEqual(rc, 0, out)

    @proxyd_only("HAProxy speaks HTTP/2 and selects h2")
    def test_alpn_advertises_http11_only(self):
        crt = self.ca.sign("site", "site.test")
        self.start_fe("crt %s alpn h2,http/1.1" % crt,
                      "http-request set-header X-ALPN %[ssl_fc_alpn]")
        rc, out = T.s_client(self.addr, ["-alpn", "h2,http/1.1"], b"Q\n")
        self.assertIn("ALPN protocol: http/1.1", out)
        rc, out = T.s_client(self.addr, ["-alpn", "h2"], b"Q\n")
        self.assertIn("No ALPN negotiated", out)
        r = T.https(self.addr, ctx=T.client_context(alpn=["h2", "http/1.1"]))
        self.assertEqual(r.status, 200)
        self.assertEqual(self.o.log[-1].header("x-alpn"), "http/1.1")

    def test_protocol_versions(self):
        crt = self.ca.sign("site", "site.test")
        self.start_fe("crt %s ssl-min-ver TLSv1.3" % crt)
        rc, out = T.s_client(self.addr, ["-tls1_2"], b"Q\n")
        self.assertNotEqual(rc, 0, out)
        rc, out = T.s_client(self.addr, ["-tls1_3"], b"Q\n")
        self.assertEqual(rc, 0, out)

    def test_ciphers_and_default_bind_options(self):
        crt = self.ca.sign("site", "site.test", kind="rsa")
        self.start_fe("crt %s" % crt, "http-request set-header X-Cipher %[ssl_fc_cipher]",
                      global_lines="ssl-default-bind-options ssl-max-ver TLSv1.2 no-tls-tickets\n"
                                   "ssl-default-bind-ciphers ECDHE-RSA-AES128-GCM-SHA256")
        r = T.https(self.addr)
        self.assertEqual(r.status, 200)
        self.assertEqual(self.o.log[-1].header("x-cipher"), "ECDHE-RSA-AES128-GCM-SHA256")
        rc, out = T.s_client(self.addr, ["-tls1_3"], b"Q\n")
        self.assertNotEqual(rc, 0, out)


    def test_dhe_ciphers(self):
        crt = self.ca.sign("site", "site.test", kind="rsa")
        self.start_fe("crt %s ssl-max-ver TLSv1.2 ciphers DHE-RSA-AES128-GCM-SHA256" % crt,
                      "http-request set-header X-Cipher %[ssl_fc_cipher]",
                      global_lines="tune.ssl.default-dh-param 2048")
        self.assertEqual(T.https(self.addr).status, 200)
        self.assertEqual(self.o.log[-1].header("x-cipher"), "DHE-RSA-AES128-GCM-SHA256")


class Resumption(TLSCase):

    def resume(self, extra):
        sess = os.path.join(self.tmp, "sess.pem")
        if os.path.exists(sess):
            os.unlink(sess)
        req = b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        rc, out = T.s_client(self.addr, extra + ["-sess_out", sess, "-ign_eof"], req)
        self.assertIn("New,", out)
        rc, out = T.s_client(self.addr, extra + ["-sess_in", sess, "-ign_eof"], req)
        return out

    def test_tickets_tls13(self):
        self.start_fe("crt %s" % self.ca.sign("site", "site.test"))
        self.assertIn("Reused,", self.resume(["-tls1_3"]))

    def test_session_cache_without_tickets_tls12(self):
        self.start_fe("crt %s no-tls-tickets" % self.ca.sign("site", "site.test"))
        self.assertIn("Reused,", self.resume(["-tls1_2"]))

    def test_tickets_tls12(self):
        self.start_fe("crt %s" % self.ca.sign("site", "site.test"),
                      "http-request set-header X-Resumed %[ssl_fc_is_resumed]")
        self.assertIn("Reused,", self.resume(["-tls1_2"]))
        self.assertEqual(self.o.log[-1].header("x-resumed"), "1")
        self.assertEqual(self.o.log[0].header("x-resumed"), "0")


class ClientCertificates(TLSCase):

    FE = """
        http-request set-header X-Used %[ssl_c_used]
        http-request set-header X-Verify %[ssl_c_verify]
        http-request set-header X-DN %[ssl_c_s_dn]
        http-request set-header X-CN %[ssl_c_s_dn(CN)]
        http-request set-header X-Issuer %[ssl_c_i_dn]
        http-request set-header X-Serial %[ssl_c_serial,hex]
        http-request set-header X-SHA1 %[ssl_c_sha1,hex]
        http-request set-header X-Version %[ssl_c_version]
        http-request set-header X-NotAfter %[ssl_c_notafter]
        http-request set-header X-Keysize %[ssl_fc_use_keysize]
        """

    def test_required(self):
        crt = self.ca.sign("site", "site.test")
        good = self.ca.sign("client", "alice", kind="ec", client=True, subj_extra="/O=Example")
        other = T.CA(self.tmp, name="other", cn="other CA")
        bad = other.sign("mallory", "mallory", client=True)
        self.start_fe("crt %s verify required ca-file %s" % (crt, self.ca.crt), self.FE, debug=True)
        r = T.https(self.addr, ctx=T.client_context(cert=good))
        self.assertEqual(r.status, 200)
        seen = self.o.log[-1]
        self.assertEqual(seen.header("x-used"), "1")
        self.assertEqual(seen.header("x-verify"), "0")
        self.assertEqual(seen.header("x-dn"), "/O=Example/CN=alice")
        self.assertEqual(seen.header("x-cn"), "alice")
        self.assertEqual(seen.header("x-issuer"), "/CN=proxyd test CA")
        self.assertEqual(seen.header("x-serial"), "03EA")   # serials 1001, 1002...
        fp = subprocess.run(["openssl", "x509", "-in", good, "-noout", "-fingerprint", "-sha1"],
                            stdout=subprocess.PIPE, timeout=H.scaled(10)).stdout.decode()
        self.assertEqual(seen.header("x-sha1"), fp.split("=", 1)[1].strip().replace(":", ""))
        self.assertEqual(seen.header("x-version"), "3")
        self.assertRegex(seen.header("x-notafter"), r"^\d{12}Z$")
        self.assertIn(seen.header("x-keysize"), ("128", "256"))
        for ctx in (T.client_context(), T.client_context(cert=bad)):
            with self.assertRaises((ssl.SSLError, OSError, EOFError)):
                with T.HTTPSConn(self.addr, ctx=ctx) as c:
                    c.request("GET", "/")
        self.assertEqual(self.o.requests, 1)

    @proxyd_only("HAProxy writes these lines to its log targets, not with -d")
    def test_failures_are_logged(self):
        crt = self.ca.sign("site", "site.test")
        other = T.CA(self.tmp, name="other", cn="other CA")
        bad = other.sign("mallory", "mallory", client=True)
        p = self.start_fe("crt %s verify required ca-file %s" % (crt, self.ca.crt), debug=True)
        with self.assertRaises((ssl.SSLError, OSError, EOFError)):
            with T.HTTPSConn(self.addr, ctx=T.client_context(cert=bad)) as c:
                c.request("GET", "/")
        T.s_client(self.addr, [], b"")
        H.raw_exchange(self.addr, b"GET / HTTP/1.0\r\n\r\n", timeout=H.scaled(5))
        deadline = time.monotonic() + H.scaled(5)
        while time.monotonic() < deadline and p.stderr().count("fe/1:") < 3:
            time.sleep(0.05)
        err = p.stderr()
        self.assertIn("fe/1: SSL client certificate not trusted", err)
        self.assertIn("fe/1: SSL handshake failure (http request)", err)
        self.assertRegex(err, r"127\.0\.0\.1:\d+ \[\d\d/\w\w\w/\d{4}:[\d:.]+\] fe/1: ")

    def test_optional(self):
        crt = self.ca.sign("site", "site.test")
        good = self.ca.sign("client", "bob", client=True)
        self.start_fe("crt %s verify optional ca-file %s" % (crt, self.ca.crt), self.FE)
        self.assertEqual(T.https(self.addr).status, 200)
        self.assertEqual(self.o.log[-1].header("x-used"), "0")
        self.assertEqual(T.https(self.addr, ctx=T.client_context(cert=good)).status, 200)
        self.assertEqual(self.o.log[-1].header("x-used"), "1")
        self.assertEqual(self.o.log[-1].header("x-cn"), "bob")

    def test_crl_revokes(self):
        crt = self.ca.sign("site", "site.test")
        good = self.ca.sign("c1", "carol", client=True)
        revoked = self.ca.sign("c2", "dave", client=True)
        crl = self.ca.crl([revoked.replace(".pem", ".crt")])
        self.start_fe("crt %s verify required ca-file %s crl-file %s" % (crt, self.ca.crt, crl))
        self.assertEqual(T.https(self.addr, ctx=T.client_context(cert=good)).status, 200)
        with self.assertRaises((ssl.SSLError, OSError, EOFError)):
            with T.HTTPSConn(self.addr, ctx=T.client_context(cert=revoked)) as c:
                c.request("GET", "/")

    def test_acl_on_client_certificate(self):
        crt = self.ca.sign("site", "site.test")
        good = self.ca.sign("client", "admin", client=True)
        self.start_fe("crt %s verify optional ca-file %s" % (crt, self.ca.crt), """
            acl admin ssl_c_s_dn(CN) admin
            http-request deny if !{ ssl_c_used } || !admin
            """)
        self.assertEqual(T.https(self.addr).status, 403)
        self.assertEqual(T.https(self.addr, ctx=T.client_context(cert=good)).status, 200)


@proxyd_only("the log line of -d")
class Logs(TLSCase):

    def test_frontend_name_gets_a_tilde(self):
        p = self.start_fe("crt %s" % self.ca.sign("site", "site.test"),
                          "bind 127.0.0.1:%d" % free_port(), debug=True)
        T.https(self.addr, path="/tls")
        deadline = time.monotonic() + H.scaled(5)
        while time.monotonic() < deadline and '"GET /tls' not in p.stderr():
            time.sleep(0.05)
        self.assertRegex(p.stderr(), r"\] fe~ be/s1 .* \"GET /tls HTTP/1.1\"")

    def test_handshake_timeout_logged(self):
        crt = self.ca.sign("site", "site.test")
        self.o = self.origin()
        port = free_port()
        cfg = render(H.BASE_GLOBAL + """
defaults
    mode http
    timeout connect 5s
    timeout client 500ms
    timeout server 30s
frontend fe
    bind 127.0.0.1:{{port}} ssl crt {{crt}}
    default_backend be
backend be
    server s1 {{o}}
""", port=port, crt=crt, o=self.o.addr)
        p = self.start_proxy(cfg, debug=True)
        with H.connect(("127.0.0.1", port), timeout=H.scaled(5)) as s:
            s.sendall(b"\x16\x03\x01")   # the start of a record, then nothing
            self.assertEqual(s.recv(100), b"")
        deadline = time.monotonic() + H.scaled(5)
        while time.monotonic() < deadline and "Timeout during SSL handshake" not in p.stderr():
            time.sleep(0.05)
        self.assertIn("fe/1: Timeout during SSL handshake", p.stderr())


class ConfigErrors(TLSCase):

    def cfg(self, bind):
        return H.BASE_GLOBAL + H.BASE_DEFAULTS + """
frontend fe
    bind 127.0.0.1:%d %s
    default_backend be
backend be
    server s1 127.0.0.1:1
""" % (free_port(), bind)

    def assertRefused(self, bind, *needles):
        rc, out, err = self.check_config(self.cfg(bind))
        self.assertNotEqual(rc, 0, out + err)
        for n in needles:
            self.assertIn(n, err)
        return err

    def test_missing_certificate_file(self):
        err = self.assertRefused("ssl crt %s/nope.pem" % self.tmp, "nope.pem")
        if not H.ORACLE:
            self.assertIn("check.cfg:11]", err)
            self.assertIn("No such file or directory", err)

    def test_garbage_certificate(self):
        bad = self.write_file("bad.pem", "-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----\n")
        err = self.assertRefused("ssl crt %s" % bad, "bad.pem")
        if not H.ORACLE:
            self.assertIn("check.cfg:11]", err)

    def test_key_missing_or_mismatched(self):
        crt = self.ca.sign("site", "site.test", combined=False)
        os.unlink(crt + ".key")
        err = self.assertRefused("ssl crt %s" % crt, "site.pem")
        if not H.ORACLE:
            self.assertIn("no private key", err)
        other = self.ca.sign("other", "other.test")
        with open(crt) as f, open(other) as g:
            mixed = f.read() + g.read().split("-----END CERTIFICATE-----\n", 1)[1]
        path = self.write_file("mixed.pem", mixed)
        err = self.assertRefused("ssl crt %s" % path, "mixed.pem")
        if not H.ORACLE:
            self.assertIn("does not match", err)

    def test_ssl_without_certificate(self):
        self.assertRefused("ssl")

    def test_verify_without_ca_file(self):
        crt = self.ca.sign("site", "site.test")
        err = self.assertRefused("ssl crt %s verify required" % crt)
        self.assertIn("no CA file", err)

    def test_bad_values(self):
        crt = self.ca.sign("site", "site.test")
        self.assertRefused("ssl crt %s ssl-min-ver TLSv9" % crt, "TLSv9")
        self.assertRefused("ssl crt %s verify sometimes" % crt, "sometimes")
        self.assertRefused("ssl crt %s ciphers NOPE-CIPHER" % crt)

    @proxyd_only("HAProxy's crt-list errors name the line differently")
    def test_crt_list_errors_name_the_line(self):
        crt = self.ca.sign("site", "site.test")
        lst = self.write_file("l.txt", "%s\n%s [verify sometimes]\n" % (crt, crt))
        err = self.assertRefused("ssl crt-list %s" % lst, "l.txt:2]", "sometimes")
        lst = self.write_file("l2.txt", "%s [alpn h2\n" % crt)
        self.assertRefused("ssl crt-list %s" % lst, "l2.txt:1]", "missing ']'")
        lst = self.write_file("l3.txt", "%s/none.pem\n" % self.tmp)
        self.assertRefused("ssl crt-list %s" % lst, "l3.txt:1]", "none.pem")

    def test_valid(self):
        crt = self.ca.sign("site", "site.test")
        rc, out, err = self.check_config(self.cfg("ssl crt %s alpn h2,http/1.1 ciphers HIGH" % crt))
        self.assertEqual(rc, 0, out + err)


if __name__ == "__main__":
    unittest.main()
