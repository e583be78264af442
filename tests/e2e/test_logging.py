"""Traffic logs read back from a syslog listener in the test: one
"option httplog" line per request parsed field by field (addresses, dates,
names, timers that add up, status, bytes, counts, queues, request line),
the termination state of each way a request ends (client abort before,
during and after the request, client and server timeouts, refused and
timed-out connects, queue timeout, deny, bad request, local answers,
server aborts), what is logged for a connection that sends no request
(with and without dontlognull), "option tcplog" in TCP mode, the
"Connect from" lines of a frontend without log option, dontlog-normal,
log-separate-errors, logasap, and retries, redispatch and queues as the
log shows them.

Values that HAProxy 2.6 computes from its internal message format rather
than from the bytes on the wire (%B, %U) are checked against the wire
bytes with proxyd only; both binaries must keep them between the body
size and the wire size."""

import json
import socket
import struct
import threading
import time
import unittest

import harness as H
from harness import Chunked, Fixed, NoLength, Raw, Stream, http, proxyd_only
from logsink import TAG, LogTestCase, local_port, parse_httplog

FE = """
frontend fe
    bind 127.0.0.1:{{port}}
    option httplog
{{fe}}
    default_backend be
backend be
{{be}}
    server s1 {{o}}
"""


def ago(date_text):
    """Seconds between a log date (dd/Mmm/yyyy:HH:MM:SS.mmm, local time)
    and now."""
    t = time.strptime(date_text.split(".")[0], "%d/%b/%Y:%H:%M:%S")
    return time.time() - (time.mktime(t) + int(date_text.split(".")[1]) / 1000)


def rst_close(sock):
    """Closes with a reset (SO_LINGER 0)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class Base(LogTestCase):

    def start(self, fe="", be="", defaults="", global_lines="", origin=None, extra="", **kw):
        self.o = origin or self.origin()
        self.port = H.free_port()
        self.addr = ("127.0.0.1", self.port)
        self.proxy = self.start_logging(FE + extra, global_lines=global_lines, defaults=defaults,
                                        port=self.port, o=kw.pop("o", self.o.addr),
                                        fe=H.indent(fe), be=H.indent(be), **kw)
        return self.addr


class HttpLogLine(Base):

    def test_one_line_per_request_field_by_field(self):
        self.start()
        c = H.HTTPConn(self.addr)
        cport = local_port(c.sock)
        r = c.request("GET", "/a/b?x=1&y=2")
        c.close()
        self.assertEqual(r.status, 200)
        f = self.one_line()
        self.assertEqual((f["ci"], f["cp"]), ("127.0.0.1", cport))
        self.assertLess(abs(ago(f["tr"])), H.scaled(5))
        self.assertEqual((f["ft"], f["b"], f["s"]), ("fe", "be", "s1"))
        self.assertEqual(f["ST"], 200)
        self.assertEqual((f["CC"], f["CS"], f["tsc"]), ("-", "-", "----"))
        # this connection only; the finished request no longer counts for
        # the backend and the server
        self.assertEqual((f["ac"], f["fc"], f["bc"], f["sc"], f["rc"]), (1, 1, 0, 0, 0))
        self.assertEqual((f["sq"], f["bq"]), (0, 0))
        self.assertEqual(f["r"], "GET /a/b?x=1&y=2 HTTP/1.1")
        self.assertIsNone(f["hr"])
        for t in ("TR", "Tw", "Tc", "Tr", "Ta"):
            self.assertGreaterEqual(f[t], 0, t)
        self.assertLessEqual(f["TR"] + f["Tw"] + f["Tc"] + f["Tr"], f["Ta"])
        # the syslog header: local0.info, the program's tag and pid
        m = self.syslog.messages()[0]
        self.assertEqual((m.kind, m.facility, m.level), ("rfc3164", 16, 6))
        self.assertEqual((m.tag, m.pid, m.host), (TAG, self.proxy.pid, None))

    def test_one_line_per_request_on_keepalive_and_pipelining(self):
        self.start()
        with H.HTTPConn(self.addr) as c:
            for i in range(3):
                self.assertEqual(c.request("GET", "/k%d" % i).status, 200)
            c.send(b"GET /p1 HTTP/1.1\r\nHost: a\r\n\r\nGET /p2 HTTP/1.1\r\nHost: a\r\n\r\n")
            c.read_response()
            c.read_response()
        lines = self.http_lines(5)
        time.sleep(0.3)
        self.assertEqual(len(self.syslog.messages()), 5)
        self.assertEqual([f["r"] for f in lines],
                         ["GET /k0 HTTP/1.1", "GET /k1 HTTP/1.1", "GET /k2 HTTP/1.1",
                          "GET /p1 HTTP/1.1", "GET /p2 HTTP/1.1"])
        self.assertEqual({f["cp"] for f in lines}, {lines[0]["cp"]})

    def test_timers_add_up(self):
        # 0.2 s between the two halves of the head (TR), 0.3 s at the
        # server before its answer (Tr)
        self.start()
        s = H.connect(self.addr)
        s.sendall(b"GET /t?delay=0.3 HTTP/1.1\r\nHo")
        time.sleep(0.2)
        s.sendall(b"st: a\r\nConnection: close\r\n\r\n")
        self.assertEqual(H.status_of(H.Reader(s).read_until_close()), 200)
        s.close()
        f = self.one_line()
        self.assertGreaterEqual(f["TR"], 180)
        self.assertLessEqual(f["TR"], H.scaled(400))
        self.assertGreaterEqual(f["Tr"], 290)
        self.assertLessEqual(f["Tr"], H.scaled(600))
        self.assertLessEqual(f["Tw"] + f["Tc"], H.scaled(50))
        self.assertGreaterEqual(f["Ta"], f["TR"] + f["Tw"] + f["Tc"] + f["Tr"])
        self.assertLessEqual(f["Ta"], f["TR"] + f["Tw"] + f["Tc"] + f["Tr"] + H.scaled(50))

    def test_idle_and_total_times_on_keepalive(self):
        # Ti: idle before each request; Ta from its first byte; Tt = Th +
        # Ti + Ta; Tq = Th + Ti + TR; Tu = Tt - Ti; Td = Ta - TR - Tw - Tc - Tr
        self.start(fe='log-format "%Th %Ti %TR %Tw %Tc %Tr %Ta %Tt %Tq %Tu %Td %{+Q}r"')
        with H.HTTPConn(self.addr) as c:
            time.sleep(0.25)
            c.request("GET", "/one?delay=0.1")
            time.sleep(0.4)
            c.request("GET", "/two")
        msgs = self.raw_lines(2)
        vals = [[int(x) for x in m.msg.split(" ")[:11]] for m in msgs]
        for th, ti, tR, tw, tc, tr, ta, tt, tq, tu, td in vals:
            self.assertEqual(tt, th + ti + ta)
            self.assertEqual(tq, th + ti + tR)
            self.assertEqual(tu, tt - ti)
            self.assertEqual(td, ta - tR - tw - tc - tr)
        self.assertGreaterEqual(vals[0][1], 230)
        self.assertLessEqual(vals[0][1], H.scaled(400))
        self.assertGreaterEqual(vals[0][6], 95)
        self.assertGreaterEqual(vals[1][1], 380)
        self.assertLessEqual(vals[1][1], H.scaled(600))
        self.assertLess(vals[1][6], H.scaled(100))

    def test_bytes_between_body_and_wire_size(self):
        o = self.origin()
        o.route("/big", Fixed(b"z" * 5000))
        self.start(origin=o)
        r = http(self.addr, "GET", "/big")
        f = self.one_line()
        self.assertGreaterEqual(f["B"], 5000)
        self.assertLessEqual(f["B"], len(r.raw_head) + r.body_len + 64)

    @proxyd_only("HAProxy 2.6 counts %B and %U in its internal message format "
                 "(a few bytes off the wire size)")
    def test_bytes_are_the_wire_bytes(self):
        o = self.origin()
        o.route("/big", Fixed(b"z" * 5000))
        self.start(origin=o, fe='log-format "%B %U %{+Q}r"')
        with H.HTTPConn(self.addr) as c:
            reqs = [c.build("GET", "/big"), c.build("POST", "/up", body=b"q" * 777)]
            c.send(reqs[0])
            r1 = c.read_response()
            c.send(reqs[1])
            r2 = c.read_response()
        msgs = self.raw_lines(2)
        got = [tuple(int(x) for x in m.msg.split(" ")[:2]) for m in msgs]
        self.assertEqual(got, [(len(r1.raw_head) + r1.body_len, len(reqs[0])),
                               (len(r2.raw_head) + r2.body_len, len(reqs[1]))])

    def test_capture_fields_between_queues_and_request(self):
        self.start(fe="capture request header Host len 10\ncapture request header X-A len 5\n"
                      "capture response header X-Origin len 8")
        http(self.addr, "GET", "/", headers=[("Host", "example.com"), ("X-A", "abcdefgh")])
        f = self.one_line()
        self.assertEqual((f["hr"], f["hs"]), ("{example.co|abcde}", "{s1}"))


class Termination(Base):
    """The termination state (and status, timers) of each way a request
    can end."""

    def test_client_abort_before_end_of_request_head(self):
        self.start()
        s = H.connect(self.addr)
        s.sendall(b"GET /x HTTP/1.1\r\nHost: a\r\n")
        time.sleep(0.2)
        s.close()
        f = self.one_line()
        self.assertEqual((f["tsc"], f["ST"], f["B"], f["r"]), ("CR--", 400, 0, "<BADREQ>"))
        self.assertEqual((f["b"], f["s"], f["TR"], f["Tw"], f["Tc"], f["Tr"]), ("fe", "<NOSRV>", -1, -1, -1, -1))
        self.assertGreaterEqual(f["Ta"], 180)

    def test_connection_closed_without_request_is_logged_as_client_abort(self):
        self.start()
        H.connect(self.addr).close()
        f = self.one_line()
        self.assertEqual((f["tsc"], f["ST"], f["B"], f["r"], f["s"]), ("CR--", 400, 0, "<BADREQ>", "<NOSRV>"))

    def test_dontlognull_hides_connections_without_request(self):
        self.start(fe="option dontlognull\ntimeout http-request 300ms")
        H.connect(self.addr).close()
        # half-closed: a 400 is still sent
        self.assertEqual(H.status_of(H.raw_exchange(self.addr, b"", half_close=True)), 400)
        # nothing sent until the timeout: a 408 is sent, not logged
        s = H.connect(self.addr)
        self.assertEqual(H.status_of(s.recv(100)), 408)
        s.close()
        self.assertNoLine(0.5)
        # a real request is logged
        http(self.addr, "GET", "/after")
        self.assertEqual(self.one_line()["r"], "GET /after HTTP/1.1")

    def test_idle_keepalive_connection_closed_is_not_logged(self):
        self.start()
        with H.HTTPConn(self.addr) as c:
            c.request("GET", "/1")
        self.one_line()
        time.sleep(0.3)
        self.assertEqual(len(self.syslog.messages()), 1)

    def test_408_on_http_request_timeout(self):
        self.start(fe="timeout http-request 400ms")
        t0 = time.monotonic()
        s = H.connect(self.addr)
        s.sendall(b"GET /slow HTTP/1.1\r\nHo")
        data = H.Reader(s).read_until_close()
        s.close()
        self.assertEqual(H.status_of(data), 408)
        self.assertElapsed(time.monotonic() - t0, 0.38, 1.5)
        f = self.one_line()
        self.assertEqual((f["tsc"], f["ST"], f["r"], f["B"]), ("cR--", 408, "<BADREQ>", 0))
        self.assertGreaterEqual(f["Ta"], 380)

    def test_408_without_any_byte(self):
        self.start(fe="timeout http-request 300ms")
        s = H.connect(self.addr)
        self.assertEqual(H.status_of(s.recv(200)), 408)
        s.close()
        f = self.one_line()
        self.assertEqual((f["tsc"], f["ST"], f["TR"]), ("cR--", 408, -1))
        # the request's time runs from the accept
        self.assertGreaterEqual(f["Ta"], 280)

    def test_client_abort_while_waiting_for_the_response(self):
        self.start()
        s = H.connect(self.addr)
        s.sendall(b"GET /x?delay=1 HTTP/1.1\r\nHost: a\r\n\r\n")
        self.o.wait_requests(1)
        time.sleep(0.1)
        rst_close(s)
        f = self.one_line(timeout=H.scaled(3))
        # without abortonclose the response is awaited, then cannot be sent
        self.assertEqual((f["tsc"], f["s"], f["ST"]), ("CD--", "s1", 200))
        self.assertGreaterEqual(f["Tr"], 900)

    def test_client_abort_during_the_download(self):
        o = self.origin()
        o.route("/big", Stream(size=50_000_000))
        self.start(origin=o)
        s = H.connect(self.addr)
        s.sendall(b"GET /big HTTP/1.1\r\nHost: a\r\n\r\n")
        s.recv(1000)
        time.sleep(0.2)
        s.close()
        f = self.one_line(timeout=H.scaled(3))
        self.assertEqual((f["tsc"], f["ST"]), ("CD--", 200))
        self.assertLess(f["Ta"], H.scaled(1500))
        self.assertLess(f["B"], 50_000_000)

    def test_client_abort_during_the_upload(self):
        self.start()
        s = H.connect(self.addr)
        s.sendall(b"POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\nabc")
        time.sleep(0.2)
        s.close()
        f = self.one_line()
        # no response yet: the status is -1
        self.assertEqual((f["tsc"], f["ST"], f["B"]), ("CD--", -1, 0))

    def test_client_timeout_during_the_download(self):
        # the client stops reading a large response
        o = self.origin()
        o.route("/big", Stream(size=50_000_000))
        self.start(origin=o, defaults="timeout client 400ms\ntimeout server 5s")
        s = H.connect(self.addr)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(b"GET /big HTTP/1.1\r\nHost: a\r\n\r\n")
        f = self.one_line(timeout=H.scaled(4))
        s.close()
        self.assertEqual((f["tsc"], f["ST"]), ("cD--", 200))
        self.assertGreaterEqual(f["Ta"], 380)
        self.assertLessEqual(f["Ta"], H.scaled(1500))

    def test_server_timeout_before_the_response(self):
        self.start(be="timeout server 300ms")
        self.assertEqual(http(self.addr, "GET", "/x?delay=2").status, 504)
        f = self.one_line()
        self.assertEqual((f["tsc"], f["ST"], f["s"], f["Tr"]), ("sH--", 504, "s1", -1))
        self.assertGreaterEqual(f["Ta"], 290)
        self.assertLessEqual(f["Ta"], H.scaled(800))

    def test_server_timeout_during_the_response(self):
        o = self.origin()
        o.route("/stall", Raw(chunks=[b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc", b""], pause=3))
        self.start(origin=o, be="timeout server 300ms")
        r = http(self.addr, "GET", "/stall")
        self.assertFalse(r.complete)
        f = self.one_line()
        self.assertEqual((f["tsc"], f["ST"]), ("sD--", 200))

    def test_refused_connection(self):
        dead = H.DeadPort()
        self.start(be="retries 1\ntimeout connect 200ms", o=dead.addr)
        self.assertEqual(http(self.addr, "GET", "/").status, 503)
        f = self.one_line()
        self.assertEqual((f["tsc"], f["ST"], f["s"], f["rc"]), ("SC--", 503, "s1", 1))
        # the queue is left at once, no connection is made
        self.assertEqual((f["Tw"], f["Tc"], f["Tr"]), (0, -1, -1))
        self.assertGreaterEqual(f["Ta"], 190)

    def test_connect_timeout(self):
        bh = H.BlackHole()
        self.addCleanup(bh.close)
        self.start(be="retries 0\ntimeout connect 300ms", o=bh.addr)
        self.assertEqual(http(self.addr, "GET", "/").status, 503)
        f = self.one_line()
        self.assertEqual((f["tsc"], f["ST"], f["Tc"]), ("sC--", 503, -1))
        self.assertGreaterEqual(f["Ta"], 290)

    def test_no_server_available(self):
        o = self.origin()
        self.start(origin=o, o=o.addr + " disabled")
        self.assertEqual(http(self.addr, "GET", "/").status, 503)
        f = self.one_line()
        self.assertEqual((f["tsc"], f["ST"], f["s"], f["Tw"], f["Tc"]), ("SC--", 503, "<NOSRV>", -1, -1))

    def test_queue_timeout(self):
        o = self.origin()
        self.start(origin=o, be="timeout queue 300ms", o=o.addr + " maxconn 1")
        done = []
        t = threading.Thread(target=lambda: done.append(http(self.addr, "GET", "/hold?delay=1").status))
        t.start()
        self.o.wait_requests(1)
        self.assertEqual(http(self.addr, "GET", "/queued").status, 503)
        t.join(H.scaled(5))
        f = self.one_line(lambda f: "queued" in f["r"])
        self.assertEqual((f["tsc"], f["ST"], f["s"], f["sq"], f["bq"]), ("sQ--", 503, "<NOSRV>", 0, 1))
        # the time in queue is known although no connection followed
        self.assertGreaterEqual(f["Tw"], 280)
        self.assertEqual((f["Tc"], f["Tr"]), (-1, -1))

    def test_deny(self):
        self.start(fe="http-request deny if { path /no }")
        self.assertEqual(http(self.addr, "GET", "/no").status, 403)
        f = self.one_line()
        self.assertEqual((f["tsc"], f["ST"], f["b"], f["s"]), ("PR--", 403, "fe", "<NOSRV>"))
        self.assertEqual((f["TR"] >= 0, f["Tw"], f["Tc"], f["Tr"]), (True, -1, -1, -1))
        self.assertEqual(f["r"], "GET /no HTTP/1.1")

    def test_bad_request(self):
        self.start()
        self.assertEqual(H.status_of(H.raw_exchange(self.addr, b"GET / HTTP/1.1\r\nBad Header\r\n\r\n")), 400)
        f = self.one_line()
        self.assertEqual((f["tsc"], f["ST"], f["B"], f["r"], f["TR"]), ("PR--", 400, 0, "<BADREQ>", -1))

    def test_local_return_and_redirect(self):
        self.start(fe="http-request return status 200 content-type text/plain string hi if { path /ret }\n"
                      "http-request redirect location /else if { path /redir }")
        self.assertEqual(http(self.addr, "GET", "/ret").status, 200)
        self.assertEqual(http(self.addr, "GET", "/redir").status, 302)
        a, b = self.http_lines(2)
        self.assertEqual((a["tsc"], a["ST"], a["s"]), ("LR--", 200, "<NOSRV>"))
        self.assertEqual((b["tsc"], b["ST"]), ("LR--", 302))

    def test_server_closes_without_response(self):
        o = self.origin()
        o.route("/close", Raw(b""))
        self.start(origin=o)
        self.assertEqual(http(self.addr, "GET", "/close").status, 502)
        f = self.one_line()
        self.assertEqual((f["tsc"], f["ST"], f["Tr"]), ("SH--", 502, -1))

    def test_server_truncates_the_body(self):
        o = self.origin()
        o.route("/trunc", Raw(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc"))
        self.start(origin=o)
        r = http(self.addr, "GET", "/trunc")
        self.assertFalse(r.complete)
        f = self.one_line()
        self.assertEqual((f["tsc"], f["ST"]), ("SD--", 200))


class Options(Base):

    def test_dontlog_normal_keeps_failures(self):
        o = self.origin()
        o.route("/500", Fixed(b"x", status=500, reason="ISE"))
        self.start(origin=o, fe="option dontlog-normal\nhttp-request deny if { path /deny }\n"
                                "http-request return status 200 string ok content-type text/plain if { path /ret }")
        for p in ("/ok", "/500", "/ret", "/deny"):
            http(self.addr, "GET", p)
        H.raw_exchange(self.addr, b"BAD\r\n\r\n")
        msgs = self.syslog.settle()
        self.assertEqual(sorted(parse_httplog(m.msg)["r"] for m in msgs),
                         ["<BADREQ>", "GET /500 HTTP/1.1", "GET /deny HTTP/1.1"])

    def test_log_separate_errors_level(self):
        o = self.origin()
        o.route("/500", Fixed(b"x", status=500, reason="ISE"))
        self.start(origin=o, fe="option log-separate-errors\nhttp-request deny if { path /deny }")
        for p in ("/ok", "/500", "/deny"):
            http(self.addr, "GET", p)
        msgs = self.raw_lines(3)
        levels = {parse_httplog(m.msg)["r"]: m.level for m in msgs}
        self.assertEqual(levels, {"GET /ok HTTP/1.1": 6, "GET /500 HTTP/1.1": 3, "GET /deny HTTP/1.1": 3})

    def test_redispatch_counts_and_no_delay(self):
        dead = H.DeadPort()
        o2 = self.origin(name="s2")
        self.start(be="retries 1\noption redispatch\nbalance first\nserver s0 %s" % dead.addr, o=o2.addr)
        t0 = time.monotonic()
        self.assertEqual(http(self.addr, "GET", "/").status, 200)
        # another server is tried at once, without the 1 s turn-around
        self.assertLess(time.monotonic() - t0, H.scaled(0.5))
        f = self.one_line()
        self.assertEqual((f["s"], f["tsc"], f["ST"]), ("s1", "----", 200))
        self.assertTrue(self.syslog.messages()[0].msg.split(" ")[10].endswith("/+1"))

    def test_queue_positions(self):
        o = self.origin()
        self.start(origin=o, o=o.addr + " maxconn 1")
        threads = []
        for i in range(3):
            t = threading.Thread(target=http, args=(self.addr, "GET", "/q%d?delay=0.2" % i))
            t.start()
            threads.append(t)
            time.sleep(0.05)
        for t in threads:
            t.join(H.scaled(5))
        lines = {f["r"].split(" ")[1].split("?")[0]: f for f in self.http_lines(3)}
        self.assertEqual([(lines[p]["sq"], lines[p]["bq"]) for p in ("/q0", "/q1", "/q2")],
                         [(0, 0), (0, 1), (0, 2)])
        self.assertEqual(lines["/q0"]["Tw"], 0)
        self.assertGreaterEqual(lines["/q1"]["Tw"], 100)
        self.assertGreaterEqual(lines["/q2"]["Tw"], lines["/q1"]["Tw"] + 100)

    def test_logasap(self):
        o = self.origin()
        o.route("/slow", Chunked([b"a" * 10, b"b" * 10], pause=0.6))
        self.start(origin=o, fe="option logasap")
        t0 = time.monotonic()
        done = []
        t = threading.Thread(target=lambda: done.append(http(self.addr, "GET", "/slow")))
        t.start()
        m = self.raw_lines(1)[0]
        # logged before the end of the response, times and size marked
        self.assertLess(time.monotonic() - t0, 0.5)
        t.join(H.scaled(5))
        words = m.msg.split(" ")
        self.assertTrue(words[4].split("/")[4].startswith("+"), words)
        self.assertTrue(words[6].startswith("+"), words)
        self.assertEqual(len(self.syslog.messages()), 1)


class NoLogOption(LogTestCase):

    def test_connect_lines_per_http_request_and_per_tcp_connection(self):
        o = self.origin()
        port, port2 = H.free_port(), H.free_port()
        self.start_logging("""
frontend fe
    bind 127.0.0.1:{{port}}
    default_backend be
frontend fe2
    mode tcp
    bind 127.0.0.1:{{port2}}
    default_backend be2
backend be
    server s1 {{o}}
backend be2
    mode tcp
    server s1 {{o}}
""", port=port, port2=port2, o=o.addr)
        with H.HTTPConn(("127.0.0.1", port)) as c:
            cport = local_port(c.sock)
            c.request("GET", "/1")
            c.request("GET", "/2")
        H.connect(("127.0.0.1", port)).close()      # no request: no line
        http(("127.0.0.1", port2), "GET", "/tcp")
        msgs = self.syslog.settle()
        texts = [m.msg for m in msgs]
        want = "Connect from 127.0.0.1:%d to 127.0.0.1:%d (fe/HTTP)" % (cport, port)
        self.assertEqual(texts.count(want), 2, texts)
        self.assertEqual(len([t for t in texts if t.endswith("(fe2/TCP)")]), 1, texts)
        self.assertEqual(len(texts), 3, texts)
        self.assertTrue(all(m.level == 6 for m in msgs))


class TcpLog(LogTestCase):

    def start_tcp(self, extra="", be_addr=None, defaults=""):
        self.echo = H.listening_socket()
        self.addCleanup(self.echo.close)
        threading.Thread(target=self.serve_echo, daemon=True).start()
        self.port = H.free_port()
        self.addr = ("127.0.0.1", self.port)
        self.start_logging("""
frontend fe
    mode tcp
    option tcplog
    bind 127.0.0.1:{{port}}
{{extra}}
    default_backend be
backend be
    mode tcp
    server s1 {{srv}}
""", port=self.port, extra=H.indent(extra), defaults=defaults,
                           srv=be_addr or "127.0.0.1:%d" % self.echo.getsockname()[1])

    def serve_echo(self):
        while True:
            try:
                c, _ = self.echo.accept()
            except OSError:
                return
            threading.Thread(target=self.echo_one, args=(c,), daemon=True).start()

    @staticmethod
    def echo_one(c):
        c.settimeout(H.IO_TIMEOUT)
        try:
            while True:
                d = c.recv(4096)
                if not d or d == b"close":
                    break
                if d != b"silent":
                    c.sendall(d)
        except OSError:
            pass
        finally:
            c.close()

    def test_tcplog_fields(self):
        self.start_tcp()
        s = H.connect(self.addr)
        cport = local_port(s)
        time.sleep(0.2)
        s.sendall(b"hello")
        self.assertEqual(s.recv(100), b"hello")
        time.sleep(0.1)
        s.close()
        f = self.tcp_lines(1)[0]
        self.assertEqual((f["ci"], f["cp"], f["ft"], f["b"], f["s"]), ("127.0.0.1", cport, "fe", "be", "s1"))
        self.assertLess(abs(ago(f["t"])), H.scaled(5))
        # HAProxy counts the time in queue from 1 ms before the accept
        self.assertTrue(0 <= f["Tw"] <= H.scaled(20), f)
        self.assertTrue(0 <= f["Tc"] <= H.scaled(20), f)
        self.assertGreaterEqual(f["Tt"], 290)
        self.assertLessEqual(f["Tt"], H.scaled(800))
        self.assertEqual((f["B"], f["ts"]), (5, "--"))
        self.assertEqual((f["ac"], f["fc"], f["bc"], f["sc"], f["rc"], f["sq"], f["bq"]), (1, 1, 0, 0, 0, 0, 0))

    def test_tcp_client_timeout(self):
        self.start_tcp(defaults="timeout client 300ms\ntimeout server 5s")
        s = H.connect(self.addr)
        s.sendall(b"silent")
        H.Reader(s).read_until_close()
        s.close()
        f = self.tcp_lines(1)[0]
        self.assertEqual((f["ts"], f["B"], f["bc"]), ("cD", 0, 0))
        self.assertGreaterEqual(f["Tt"], 280)

    def test_tcp_server_timeout_and_server_close(self):
        self.start_tcp(defaults="timeout client 5s\ntimeout server 300ms")
        s = H.connect(self.addr)
        s.sendall(b"silent")
        H.Reader(s).read_until_close()
        s.close()
        self.assertEqual(self.tcp_lines(1)[0]["ts"], "sD")
        self.syslog.clear()
        s = H.connect(self.addr)
        s.sendall(b"close")
        H.Reader(s).read_until_close()
        s.close()
        self.assertEqual(self.tcp_lines(1)[0]["ts"], "--")

    def test_tcp_refused_connection(self):
        dead = H.DeadPort()
        self.start_tcp(be_addr=dead.addr, defaults="retries 1\ntimeout connect 200ms")
        self.assertEqual(H.raw_exchange(self.addr, b"hi"), b"")
        f = self.tcp_lines(1)[0]
        self.assertEqual((f["ts"], f["Tc"], f["rc"]), ("SC", -1, 1))
        self.assertTrue(0 <= f["Tw"] <= H.scaled(20), f)

    def test_tcp_dontlognull(self):
        self.start_tcp(extra="option dontlognull")
        H.connect(self.addr).close()
        s = H.connect(self.addr)
        s.sendall(b"x")
        s.recv(10)
        s.close()
        self.assertEqual(len(self.tcp_lines(1)), 1)
        time.sleep(0.3)
        self.assertEqual(len(self.syslog.messages()), 1)


@proxyd_only("jsonlog is proxyd's own")
class JsonLog(Base):

    def test_every_field_named_and_termination_in_words(self):
        self.start(fe="option jsonlog\ncapture request header Host len 20\nunique-id-format %ci-%rt\n"
                      "http-request deny if { path /deny }")
        http(self.addr, "GET", "/x?a=\"b\"")
        http(self.addr, "GET", "/deny")
        msgs = self.raw_lines(2)
        a, b = (json.loads(m.msg) for m in msgs)
        self.assertEqual((a["status"], a["frontend"], a["backend"], a["server"], a["termination_state"]),
                         (200, "fe", "be", "s1", "----"))
        self.assertEqual(a["termination_reason"], "normal")
        self.assertEqual(a["http_request"], "GET /x?a=#22b#22 HTTP/1.1")
        self.assertEqual(a["captured_request_headers"], "test")
        self.assertEqual(a["captured_request_cookie"], "-")
        self.assertTrue(a["unique_id"].startswith("127.0.0.1-"))
        for k in ("client_ip", "client_port", "request_date", "TR", "Tw", "Tc", "Tr", "Ta", "bytes_read",
                  "bytes_uploaded", "actconn", "feconn", "beconn", "srv_conn", "retries", "srv_queue",
                  "backend_queue", "captured_response_cookie", "captured_response_headers"):
            self.assertIn(k, a)
        self.assertEqual((b["termination_state"], b["termination_reason"]),
                         ("PR--", "stopped by the proxy, waiting for the request"))


@proxyd_only("-d is proxyd's debug mode; HAProxy prints its own traces there")
class DebugMode(Base):

    def test_lines_also_on_stderr(self):
        self.start(debug=True)
        http(self.addr, "GET", "/dbg")
        self.one_line()
        time.sleep(0.2)
        self.assertIn('"GET /dbg HTTP/1.1"', self.proxy.stderr())


if __name__ == "__main__":
    unittest.main()
