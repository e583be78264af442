"""Log targets: a UDP and a unix datagram syslog listener in the test,
stdout and stderr; the header of each format with its priority, tag and
pid (log-tag per proxy, log-send-hostname); "len" truncation; level and
minlevel filters; "no log" and "log global"; targets that are dead (no
listener, missing unix socket) slow no request; health-check and DOWN
events at their levels, nothing at start and stop; and halog (Debian's
haproxy package) reading a file of our lines: its per-status counts must
be the requests sent."""

import os
import re
import shutil
import subprocess
import time
import unittest

import harness as H
from harness import Fixed, http
from logsink import FACILITIES, TAG, LogTestCase, Syslog, parse_httplog

BACKEND = """
frontend fe
    bind 127.0.0.1:{{port}}
    option httplog
{{fe}}
    default_backend be
backend be
{{be}}
    server s1 {{o}}
"""


class Base(LogTestCase):

    def start(self, global_lines="", fe="", be="", with_syslog=True, **kw):
        self.o = kw.pop("origin", None) or self.origin()
        self.port = H.free_port()
        self.addr = ("127.0.0.1", self.port)
        cfg = H.BASE_GLOBAL + (("    log {{syslog}} local0\n") if with_syslog else "") + H.indent(global_lines) \
            + H.BASE_DEFAULTS + "    log global\n" + BACKEND
        cfg = H.render(cfg, syslog=self.syslog.addr, port=self.port, o=self.o.addr, fe=H.indent(fe),
                       be=H.indent(be), **kw)
        self.proxy = self.start_proxy(cfg)
        return self.addr


class Headers(Base):

    def test_every_format_with_priority_tag_and_pid(self):
        fmts = ["rfc3164", "rfc5424", "short", "priority", "timed", "iso", "raw"]
        self.start(with_syslog=False,
                   global_lines="\n".join("log {{syslog}} format %s local%d info" % (f, i) for i, f in enumerate(fmts)))
        http(self.addr, "GET", "/h")
        msgs = self.syslog.wait(7)
        self.assertEqual(len(msgs), 7)
        pid = self.proxy.pid
        by_start = sorted(m.text for m in msgs)
        body = parse_httplog(msgs[0].msg) and msgs[0].msg
        texts = [m.text for m in msgs]
        iso = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d"
        want = {
            "rfc3164": r"^<134>\w{3} [ \d]\d \d\d:\d\d:\d\d localhost %s\[%d\]: 127\.0\.0\.1:" % (TAG, pid),
            "rfc5424": r"^<142>1 %s - %s %d - - 127\.0\.0\.1:" % (iso, TAG, pid),
            "short": r"^<6>127\.0\.0\.1:",
            "priority": r"^<158>127\.0\.0\.1:",
            "timed": r"^<6>%s 127\.0\.0\.1:" % iso,
            "iso": r"^%s 127\.0\.0\.1:" % iso,
            "raw": r"^127\.0\.0\.1:",
        }
        for f, rx in want.items():
            with self.subTest(format=f):
                self.assertEqual(len([t for t in texts if re.match(rx, t)]), 1, (rx, texts))
        for t in texts:
            self.assertTrue(t.endswith('"GET /h HTTP/1.1"\n'), t)

    def test_default_format_has_no_host_unless_log_send_hostname(self):
        self.start()
        http(self.addr, "GET", "/")
        m = self.raw_lines(1)[0]
        self.assertEqual((m.kind, m.host, m.tag, m.pid, m.pri), ("rfc3164", None, TAG, self.proxy.pid, 134))
        self.proxy.stop()
        self.syslog.clear()
        self.start(global_lines="log-send-hostname web1\nlog {{syslog}} format rfc5424 local1", fe="log-tag fetag")
        http(self.addr, "GET", "/")
        msgs = self.raw_lines(2)
        self.assertEqual(sorted((m.kind, m.host, m.tag) for m in msgs),
                         [("rfc3164", "web1", "fetag"), ("rfc5424", "web1", "fetag")])

    def test_log_tag_global_and_per_proxy(self):
        port2 = H.free_port()
        self.start(global_lines="log-tag gtag", fe="log-tag fetag", be="log-tag betag")
        self.proxy.stop()
        self.syslog.clear()
        o = self.o
        cfg = H.render(H.BASE_GLOBAL + "    log {{syslog}} local0\n    log-tag gtag\n" + H.BASE_DEFAULTS
                       + "    log global\n    option httplog\n" + """
frontend fe
    bind 127.0.0.1:{{port}}
    log-tag fetag
    default_backend be
frontend fe2
    bind 127.0.0.1:{{port2}}
    default_backend be
backend be
    log-tag betag
    server s1 {{o}}
""", syslog=self.syslog.addr, port=self.port, port2=port2, o=o.addr)
        self.start_proxy(cfg)
        http(self.addr, "GET", "/a")
        http(("127.0.0.1", port2), "GET", "/b")
        msgs = self.raw_lines(2)
        # the frontend's tag, not the backend's
        self.assertEqual(sorted((parse_httplog(m.msg)["r"], m.tag) for m in msgs),
                         [("GET /a HTTP/1.1", "fetag"), ("GET /b HTTP/1.1", "gtag")])

    def test_len_truncates_lines(self):
        self.start(with_syslog=False, global_lines="log {{syslog}} len 100 local0\nlog stdout len 90 local1")
        http(self.addr, "GET", "/" + "x" * 300)
        m = self.raw_lines(1)[0]
        # a datagram holds len bytes, then the newline
        self.assertEqual((len(m.raw), m.raw[-1:]), (101, b"\n"))
        time.sleep(0.2)
        out = self.proxy.stdout()
        self.assertEqual(len(out), 90, out)
        self.assertTrue(out.endswith("\n"))
        self.assertTrue(m.text[:60] == ("<134>" + m.text[5:60]))

    def test_stdout_and_stderr_targets(self):
        self.start(with_syslog=False, global_lines="log stdout local0\nlog stderr format raw local1")
        http(self.addr, "GET", "/std")
        time.sleep(0.5)
        out = self.proxy.stdout().splitlines()
        err = [l for l in self.proxy.stderr().splitlines() if "GET /std" in l]
        self.assertEqual(len(out), 1, out)
        self.assertRegex(out[0], r"^<134>\w{3} [ \d]\d \d\d:\d\d:\d\d %s\[%d\]: 127\.0\.0\.1:\d+ .*\"GET /std HTTP/1\.1\"$"
                         % (TAG, self.proxy.pid))
        self.assertEqual(len(err), 1, err)
        self.assertRegex(err[0], r"^127\.0\.0\.1:\d+ \[")


class Targets(Base):

    def test_udp_and_unix_datagram_targets(self):
        ux = self.unix_syslog()
        self.start(global_lines="log %s local1" % ux.addr)
        for i in range(3):
            http(self.addr, "GET", "/u%d" % i)
        a = self.raw_lines(3)
        b = ux.wait(3)
        self.assertEqual([m.msg for m in a], [m.msg for m in b])
        self.assertEqual(({m.facility for m in a}, {m.facility for m in b}), ({16}, {17}))

    def test_no_log_and_log_global(self):
        ux = self.unix_syslog()
        port2 = H.free_port()
        o = self.origin()
        cfg = H.render(H.BASE_GLOBAL + "    log {{syslog}} local0\n" + H.BASE_DEFAULTS + """
    log global
    option httplog
frontend fe
    bind 127.0.0.1:{{port}}
    no log
    log {{ux}} local5
    default_backend be
frontend fe2
    bind 127.0.0.1:{{port2}}
    log {{ux}} local6
    default_backend be
backend be
    server s1 {{o}}
""", syslog=self.syslog.addr, ux=ux.addr, port=H.free_port(), port2=port2, o=o.addr)
        self.start_proxy(cfg)
        port = H.bind_addresses(cfg)[0][1]
        http(("127.0.0.1", port), "GET", "/one")
        http(("127.0.0.1", port2), "GET", "/two")
        got_ux = ux.wait(2)
        self.assertEqual(sorted((parse_httplog(m.msg)["r"], m.facility) for m in got_ux),
                         [("GET /one HTTP/1.1", 21), ("GET /two HTTP/1.1", 22)])
        # fe dropped the global targets, fe2 kept them beside its own
        self.assertEqual([parse_httplog(m.msg)["r"] for m in self.raw_lines(1)], ["GET /two HTTP/1.1"])
        time.sleep(0.3)
        self.assertEqual(len(self.syslog.messages()), 1)

    def test_level_and_minlevel(self):
        o = self.origin()
        o.route("/500", Fixed(b"x", status=500, reason="ISE"))
        ux = self.unix_syslog()
        self.start(origin=o, with_syslog=False, fe="option log-separate-errors",
                   global_lines="log {{syslog}} local1 notice\nlog %s local2 info err" % ux.addr)
        http(self.addr, "GET", "/ok")
        http(self.addr, "GET", "/500")
        # notice: only the failed request (err); "info err": both, the info
        # line as info (minlevel only lowers more severe ones: none here)
        self.assertEqual([(parse_httplog(m.msg)["ST"], m.pri) for m in self.raw_lines(1)], [(500, 17 * 8 + 3)])
        self.assertEqual(sorted((parse_httplog(m.msg)["ST"], m.pri) for m in ux.wait(2)),
                         [(200, 18 * 8 + 6), (500, 18 * 8 + 3)])
        time.sleep(0.3)
        self.assertEqual(len(self.syslog.messages()), 1)

    def timed_requests(self, addr, n=60):
        t0 = time.monotonic()
        for i in range(n):
            self.assertEqual(http(addr, "GET", "/t%d" % i).status, 200)
        return time.monotonic() - t0

    def test_dead_targets_do_not_slow_requests(self):
        # nothing listens on the UDP port, the unix socket does not exist
        dead_udp = H.DeadPort()
        missing = self.path("no-such.sock")
        self.start(with_syslog=True, global_lines="log udp@%s local1\nlog %s local2" % (dead_udp.addr, missing))
        slow = self.timed_requests(self.addr)
        self.assertEqual(len(self.http_lines(60)), 60)
        self.proxy.stop()
        port = H.free_port()
        cfg = H.render(H.BASE_GLOBAL + H.BASE_DEFAULTS + BACKEND, port=port, o=self.o.addr, fe="", be="")
        self.start_proxy(cfg)
        fast = self.timed_requests(("127.0.0.1", port))
        self.assertLess(slow, fast * 1.5 + H.scaled(0.5), (slow, fast))

    def test_full_unix_socket_drops_lines_without_blocking(self):
        # a listener that never reads: its queue fills, lines are dropped
        ux = Syslog(unix_path=self.path("full.sock"), rcvbuf=4096)
        ux._stop.set()
        ux._t.join(2)
        self.addCleanup(ux.sock.close)
        self.start(global_lines="log %s len 4000 local1" % ux.addr,
                   fe='log-format "%[str(' + "y" * 100 + ')]%{+Q}r"')
        elapsed = self.timed_requests(self.addr, 80)
        self.assertLess(elapsed, H.scaled(8))
        # the UDP listener got every line
        self.assertEqual(len(self.syslog.wait(80)), 80)


class Events(Base):

    def test_health_check_and_down_events_with_levels(self):
        dead = H.DeadPort()
        port = H.free_port()
        o = self.origin()
        cfg = H.render(H.BASE_GLOBAL + "    log {{syslog}} local0\n" + H.BASE_DEFAULTS + """
    log global
frontend fe
    bind 127.0.0.1:{{port}}
    default_backend be
backend be
    option log-health-checks
    server s1 {{o}} check inter 200ms fall 2 rise 2
    server s2 {{dead}} check inter 200ms fall 2 rise 2
backend be2
    server s3 {{dead}} check inter 200ms fall 1
""", syslog=self.syslog.addr, port=port, o=o.addr, dead=dead.addr)
        self.start_proxy(cfg)
        msgs = self.syslog.wait(5, timeout=H.scaled(4))
        got = {(m.level, m.msg) for m in msgs}
        self.assertTrue(any(l == 5 and re.match(r"Health check for server be/s1 succeeded, reason: Layer4 check "
                                                r"passed, check duration: \d+ms, status: 2/2 UP\.$", t)
                            for l, t in got), got)
        self.assertIn((1, "Server be/s2 is DOWN. 1 active and 0 backup servers left. 0 sessions active, "
                          "0 requeued, 0 remaining in queue."), got)
        self.assertIn((0, "backend be2 has no server available!"), got)
        self.assertTrue(any(l == 1 and t.startswith("Server be2/s3 is DOWN, reason: Layer4 connection problem")
                            for l, t in got), got)
        self.assertTrue(all(m.facility == 16 and m.tag == TAG for m in msgs))

    def test_nothing_logged_at_start_and_stop(self):
        self.start()
        time.sleep(0.3)
        self.proxy.stop()
        time.sleep(0.2)
        self.assertEqual(self.syslog.messages(), [])


@unittest.skipUnless(shutil.which("halog") or os.path.exists("/usr/sbin/halog"),
                     "halog (Debian package haproxy) is not installed")
class Halog(Base):

    def test_halog_reads_our_lines(self):
        o = self.origin()
        o.route("/404", Fixed(b"nope", status=404, reason="Not Found"))
        o.route("/500", Fixed(b"err", status=500, reason="ISE"))
        # "format rfc3164" names a host, as a syslog daemon's file does
        self.start(origin=o, with_syslog=False, global_lines="log {{syslog}} format rfc3164 local0",
                   fe="http-request deny if { path /deny }\ncapture request header Host len 20")
        sent = {200: 7, 404: 3, 500: 2, 403: 4}
        paths = {200: "/ok", 404: "/404", 500: "/500", 403: "/deny"}
        for st, n in sent.items():
            for _ in range(n):
                self.assertEqual(http(self.addr, "GET", paths[st]).status, st)
        H.raw_exchange(self.addr, b"BAD\r\n\r\n")
        sent[400] = 1
        msgs = self.raw_lines(sum(sent.values()))
        logfile = self.path("haproxy.log")
        with open(logfile, "wb") as f:
            for m in msgs:
                f.write(m.raw[m.raw.index(b">") + 1:])
        halog = shutil.which("halog") or "/usr/sbin/halog"

        def run(*args):
            with open(logfile, "rb") as f:
                p = subprocess.run([halog] + list(args), stdin=f, capture_output=True, timeout=H.scaled(20))
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b" 0 parsing errors", p.stderr)
            return p.stdout.decode()

        counts = {int(a): int(b) for a, b in (l.split() for l in run("-st").splitlines())}
        self.assertEqual(counts, sent)
        tc = dict(l.split() for l in run("-tc").splitlines())
        self.assertEqual({k: int(v) for k, v in tc.items()}, {"--": 12, "PR": 5})
        srv = [l.split() for l in run("-srv").splitlines() if l and not l.startswith("#")]
        self.assertEqual(sorted(s[0] for s in srv), ["be/s1", "fe/<NOSRV>"])


if __name__ == "__main__":
    unittest.main()
