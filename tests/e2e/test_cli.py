"""Command line: -c, -v, -vv, -cc, configuration errors, stop signals."""

import re
import signal
import time
import unittest

import harness as H
from harness import ORACLE, ProxyTestCase, proxyd_only, run_bin


VALID = """\
global
    maxconn 100
    nbthread 1
    tune.bufsize 16384
    tune.maxrewrite 1024
    tune.http.maxhdr 101

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-request 10s
    timeout http-keep-alive 2s
    timeout queue 5s
    timeout tunnel 1h
    timeout client-fin 1s
    timeout server-fin 1s
    option http-keep-alive
    retries 3

frontend fe
    bind 127.0.0.1:{{p1}}
    bind [::1]:{{p2}}
    bind ipv4@127.0.0.1:{{p3}},ipv6@[::1]:{{p4}}
    bind unix@{{sock}}
    maxconn 50
    option forwardfor except 127.0.0.0/8 header X-Client-IP
    use_backend be2
    default_backend be1

backend be1
    balance roundrobin
    http-reuse safe
    option http-server-close
    server s1 127.0.0.1:{{p5}} weight 3 maxconn 10
    server s2 127.0.0.1:{{p6}} weight 1
    server s3 127.0.0.1:{{p6}} disabled

backend be2
    option httpclose
    http-reuse never
    errorfile 503 {{errfile}}
    server s1 [::1]:{{p5}}

listen li
    bind 127.0.0.1:{{p7}}
    http-request return status 200 content-type text/plain string ok
"""


def line_of(path, needle):
    """1-based number of the first line of file `path` containing needle."""
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if needle in line:
                return n
    raise AssertionError("%r not in %s" % (needle, path))


class CheckMode(ProxyTestCase):

    def valid_config(self):
        ef = self.write_file("503.http", b"HTTP/1.1 503 Service Unavailable\r\n"
                             b"Content-Type: text/plain\r\nContent-Length: 4\r\n\r\ndown")
        return H.render(VALID, p1=20001, p2=20002, p3=20003, p4=20004,
                        p5=20005, p6=20006, p7=20007, sock=self.path("s.sock"),
                        errfile=ef)

    def test_check_valid_config_exits_0(self):
        cfg = self.write_file("ok.cfg", self.valid_config())
        rc, out, err = run_bin(["-c", "-f", cfg])
        self.assertEqual(rc, 0, "stdout:\n%s\nstderr:\n%s" % (out, err))

    def test_check_does_not_bind(self):
        # -c only checks: a port already taken by someone else is no error
        with H.listening_socket() as s:
            port = s.getsockname()[1]
            cfg = self.write_file("ok.cfg", H.BASE_GLOBAL + H.BASE_DEFAULTS +
                                  "frontend fe\n    bind 127.0.0.1:%d\n" % port +
                                  "    default_backend be\nbackend be\n"
                                  "    server s1 127.0.0.1:1\n")
            rc, out, err = run_bin(["-c", "-f", cfg])
        self.assertEqual(rc, 0, err)

    def test_check_invalid_config_names_file_and_line(self):
        text = self.valid_config().splitlines()
        # line 7 (1-based) of the file becomes an unknown keyword
        text.insert(6, "    frobnicate 12")
        cfg = self.write_file("bad.cfg", "\n".join(text) + "\n")
        rc, out, err = run_bin(["-c", "-f", cfg])
        self.assertEqual(rc, 1, "stdout:\n%s\nstderr:\n%s" % (out, err))
        self.assertIn("parsing [%s:7]" % cfg, out + err)

    def test_check_bad_value_names_line(self):
        cfg = self.write_file("bad.cfg", H.BASE_GLOBAL + H.BASE_DEFAULTS +
                              "frontend fe\n    bind 127.0.0.1:1\n"
                              "    timeout client 12zz\n")
        rc, out, err = run_bin(["-c", "-f", cfg])
        self.assertEqual(rc, 1, err)
        self.assertIn("parsing [%s:%d]" % (cfg, line_of(cfg, "12zz")), out + err)

    def test_check_without_listener_exits_2(self):
        # HAProxy: "Configuration file has no error but will not start (no
        # listener) => exit(2)."
        cfg = self.write_file("nolisten.cfg", H.BASE_GLOBAL + H.BASE_DEFAULTS +
                              "backend be\n    server s1 127.0.0.1:1\n")
        rc, out, err = run_bin(["-c", "-f", cfg])
        self.assertEqual(rc, 2, out + err)

    def test_check_missing_file(self):
        rc, out, err = run_bin(["-c", "-f", self.path("does-not-exist.cfg")])
        self.assertEqual(rc, 1, out + err)

    def test_unknown_keyword_suggests_closest(self):
        cfg = self.write_file("typo.cfg", H.BASE_GLOBAL + H.BASE_DEFAULTS +
                              "frontend fe\n    bindd 127.0.0.1:1\n")
        rc, out, err = run_bin(["-c", "-f", cfg])
        self.assertEqual(rc, 1, err)
        self.assertIn("parsing [%s:%d]" % (cfg, line_of(cfg, "bindd")), out + err)
        self.assertIn("bindd", out + err)
        self.assertRegex(out + err, r"did you mean '?bind'?")

    @proxyd_only("a keyword HAProxy implements but proxyd does not: HAProxy accepts it")
    def test_unsupported_haproxy_keyword_says_not_supported_yet(self):
        # TODO(lead): keep in line with the exact diagnostic wording and with
        # the choice of a keyword proxyd will not implement soon (Lua).
        cfg = self.write_file("lua.cfg", "global\n    lua-load /nonexistent/x.lua\n"
                              + H.BASE_DEFAULTS)
        rc, out, err = run_bin(["-c", "-f", cfg])
        self.assertEqual(rc, 1, err)
        self.assertIn("parsing [%s:2]" % cfg, out + err)
        self.assertIn("not supported yet", out + err)


class VersionAndConditions(ProxyTestCase):

    def test_v_prints_a_version(self):
        rc, out, err = run_bin(["-v"])
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"(?i)version \d+\.\d+")

    def test_vv_feature_list(self):
        rc, out, err = run_bin(["-vv"])
        self.assertEqual(rc, 0, err)
        m = re.search(r"^Feature list : (.*)$", out, re.M)
        self.assertIsNotNone(m, "no 'Feature list :' line in:\n" + out)
        features = m.group(1).split()
        self.assertIn("+OPENSSL", features)
        self.assertIn("+PCRE2", features)

    def test_cc_version_atleast_true(self):
        rc, out, err = run_bin(["-cc", "version_atleast(2.4)"])
        self.assertEqual(rc, 0, out + err)

    def test_cc_version_before_false(self):
        rc, out, err = run_bin(["-cc", "version_before(2.0)"])
        self.assertEqual(rc, 1, out + err)

    def test_cc_unparsable_is_2(self):
        rc, out, err = run_bin(["-cc", "foo("])
        self.assertEqual(rc, 2, out + err)


class Signals(ProxyTestCase):

    def _stop_with(self, sig):
        origin = self.origin()
        proxy, addr = self.simple_proxy("server s1 %s" % origin.addr)
        self.assertEqual(H.http(addr, "GET", "/").status, 200)
        t0 = time.monotonic()
        proxy.send_signal(sig)
        rc = proxy.wait(H.scaled(5))
        elapsed = time.monotonic() - t0
        self.assertIsNotNone(rc, "still running %.1fs after signal %d" % (elapsed, sig))
        if ORACLE:
            # HAProxy 2.6 leaves SIGTERM/SIGINT to their default action: it
            # dies by the signal. proxyd is required to exit(0).
            self.assertIn(rc, (0, -sig))
        else:
            self.assertEqual(rc, 0, proxy.stderr())
        # the listener is gone
        self.assertFalse(H.wait_accepting(addr, time.monotonic() + 0.3))

    def test_sigterm_stops_with_exit_0(self):
        self._stop_with(signal.SIGTERM)

    def test_sigint_stops_with_exit_0(self):
        self._stop_with(signal.SIGINT)


if __name__ == "__main__":
    unittest.main()
