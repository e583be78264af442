"""Health checks, part 2: checks that are not HTTP — option tcp-check
with tcp-check connect / send / send-binary / expect against small
servers written here (a line protocol, a binary one), ssl-hello-chk
against openssl s_server, smtpchk, redis-check and mysql-check against
fakes of those servers.

Helpers come from test_checks.py."""

import shutil
import struct
import subprocess
import threading
import time
import unittest

import harness as H
from harness import free_port, scaled
from test_checks import ChecksCase, known_bug


class LineServer:
    """A line protocol: "HELLO <name>" -> "WELCOME <name>", "STATUS" ->
    "STATUS ok" (or "STATUS down", then close, once self.down is set),
    "QUIT" -> "BYE" and close, anything else -> "ERR".
    Every line received is kept in self.lines."""

    def __init__(self):
        self.down = False
        self.lines = []
        self.lock = threading.Lock()

    def __call__(self, conn, rec):
        while True:
            line = rec.readline()
            if not line:
                return
            with self.lock:
                self.lines.append(line)
            word = line.strip().split(b" ")[0]
            if word == b"HELLO":
                conn.sendall(b"WELCOME " + line.strip()[6:] + b"\r\n")
            elif word == b"STATUS":
                if self.down:
                    conn.sendall(b"STATUS down\r\n")
                    return
                conn.sendall(b"STATUS ok\r\n")
            elif word == b"QUIT":
                conn.sendall(b"BYE\r\n")
                return
            else:
                conn.sendall(b"ERR\r\n")


LINE_CHECK = r"""
    option tcp-check
    tcp-check send "HELLO proxy\r\n"
    tcp-check expect string WELCOME
    tcp-check send "STATUS\r\n"
    tcp-check expect string "STATUS ok"
    tcp-check send "QUIT\r\n"
    tcp-check expect rstring ^BYE
"""


class TcpCheck(ChecksCase):

    def test_send_and_expect_a_conversation(self):
        ls = LineServer()
        srv = self.tcp_server(ls)
        self.start_checks(LINE_CHECK + """
            server s1 %s check inter 150 rise 1 fall 1
        """ % srv.addr, mode="tcp")
        self.assertTrue(srv.wait_done(2))
        self.assertEqual(ls.lines[:3], [b"HELLO proxy\r\n", b"STATUS\r\n", b"QUIT\r\n"])
        self.assertNoLine(r"is DOWN")
        ls.down = True
        line = self.wait_line(r"Server be/s1 is DOWN")[0]
        self.assertEqual(line, "Server be/s1 is DOWN, reason: Layer7 invalid response, info: \"TCPCHK did "
                               "not match content 'STATUS ok' at step 4\", check duration: Nms. 0 active and "
                               "0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.")
        ls.down = False
        self.wait_line(r"Server be/s1 is UP")

    def test_success_line(self):
        srv = self.tcp_server(LineServer())
        self.start_checks(LINE_CHECK + """
            option log-health-checks
            server s1 %s check inter 150
        """ % srv.addr, mode="tcp")
        line = self.wait_line(r"Health check for server be/s1")[0]
        self.assertEqual(line, 'Health check for server be/s1 succeeded, reason: Layer7 check passed, code: 0, '
                               'info: "(tcp-check)", check duration: Nms, status: 3/3 UP.')

    def test_negated_expect(self):
        srv = self.tcp_server(LineServer())
        self.start_checks("""
            option tcp-check
            tcp-check send "NOPE\\r\\n"
            tcp-check expect ! string ERR
            server s1 %s check inter 150
        """ % srv.addr, mode="tcp")
        line = self.wait_line(r"Server be/s1 is DOWN")[0]
        self.assertIn("reason: Layer7 invalid response, info: \"TCPCHK matched unwanted content 'ERR' at "
                      "step 2\"", line)

    def test_rstring_mismatch(self):
        srv = self.tcp_server(LineServer())
        self.start_checks("""
            option tcp-check
            tcp-check send "QUIT\\r\\n"
            tcp-check expect rstring ^WELCOME
            server s1 %s check inter 150
        """ % srv.addr, mode="tcp")
        line = self.wait_line(r"Server be/s1 is DOWN")[0]
        self.assertIn('reason: Layer7 invalid response, info: "TCPCHK did not match content (regex) at '
                      'step 2"', line)

    def test_unanswered_expect_is_l7tout(self):
        srv = self.tcp_server(lambda conn, rec: rec.read_all(5))
        self.start_checks("""
            option tcp-check
            tcp-check send "PING\\r\\n"
            tcp-check expect string PONG
            server s1 %s check inter 300
        """ % srv.addr, mode="tcp")
        line = self.wait_line(r"Server be/s1 is DOWN")[0]
        self.assertRegex(line, r"^Server be/s1 is DOWN, reason: Layer7 timeout, ")

    @known_bug("a tcp-check timeout carries no info; HAProxy says where it waited: "
               "info: \" at step 2 of tcp-check (expect string 'PONG')\"")
    def test_unanswered_expect_info(self):
        srv = self.tcp_server(lambda conn, rec: rec.read_all(5))
        self.start_checks("""
            option tcp-check
            tcp-check send "PING\\r\\n"
            tcp-check expect string PONG
            server s1 %s check inter 300
        """ % srv.addr, mode="tcp")
        line = self.wait_line(r"Server be/s1 is DOWN")[0]
        self.assertIn("reason: Layer7 timeout, info: \" at step 2 of tcp-check (expect string 'PONG')\"", line)

    def test_min_recv_makes_a_mismatch_final(self):
        # 6 bytes came and they do not match: no need to wait for more
        def handler(conn, rec):
            rec.recv()
            conn.sendall(b"PANG\r\n")
            rec.read_all(5)
        srv = self.tcp_server(handler)
        self.start_checks("""
            option tcp-check
            tcp-check send "PING\\r\\n"
            tcp-check expect min-recv 6 string PONG
            server s1 %s check inter 1s
        """ % srv.addr, mode="tcp")
        line = self.wait_line(r"Server be/s1 is DOWN")[0]
        self.assertIn("reason: Layer7 invalid response", line)

    def test_min_recv_waits_for_enough_bytes(self):
        # the answer comes in two parts; the first part alone matches a
        # negated rule, the whole does not
        def handler(conn, rec):
            rec.recv()
            conn.sendall(b"OK")
            time.sleep(0.1)
            conn.sendall(b" ERR\r\n")
            rec.read_all(5)
        srv = self.tcp_server(handler)
        self.start_checks("""
            option tcp-check
            tcp-check send "PING\\r\\n"
            tcp-check expect min-recv 6 ! string ERR
            server s1 %s check inter 1s
        """ % srv.addr, mode="tcp")
        line = self.wait_line(r"Server be/s1 is DOWN")[0]
        self.assertIn("TCPCHK matched unwanted content 'ERR'", line)

    def test_send_binary_and_expect_binary(self):
        got = []

        def handler(conn, rec):
            data = rec.recv()
            got.append(data)
            # answer: magic, then the request bytes reversed
            conn.sendall(b"\xca\xfe" + data[::-1])
        srv = self.tcp_server(handler)
        self.start_checks("""
            option tcp-check
            option log-health-checks
            tcp-check send-binary 0102abff
            tcp-check expect binary cafeffab
            server s1 %s check inter 150
        """ % srv.addr, mode="tcp")
        self.wait_line(r"Health check for server be/s1 succeeded")
        self.assertEqual(got[0], b"\x01\x02\xab\xff")

    def test_expect_binary_mismatch(self):
        srv = self.tcp_server(lambda conn, rec: (rec.recv(), conn.sendall(b"\xca\xfe\x00\x01")))
        self.start_checks("""
            option tcp-check
            tcp-check send-binary 00
            tcp-check expect binary beef
            server s1 %s check inter 150
        """ % srv.addr, mode="tcp")
        line = self.wait_line(r"Server be/s1 is DOWN")[0]
        self.assertIn('reason: Layer7 invalid response, info: "TCPCHK did not match content (binary) at '
                      'step 2"', line)

    def test_negated_binary(self):
        srv = self.tcp_server(lambda conn, rec: (rec.recv(), conn.sendall(b"\xca\xfe\x00\x01")))
        self.start_checks("""
            option tcp-check
            tcp-check send-binary 00
            tcp-check expect ! binary cafe
            server s1 %s check inter 150
        """ % srv.addr, mode="tcp")
        line = self.wait_line(r"Server be/s1 is DOWN")[0]
        self.assertIn('reason: Layer7 invalid response, info: "TCPCHK matched unwanted content (binary) at '
                      'step 2"', line)

    def test_plain_tcp_check(self):
        # no rules: a connection is the whole check
        srv = self.tcp_server(lambda conn, rec: rec.read_all(0.5))
        self.start_checks("""
            option tcp-check
            option log-health-checks
            server s1 %s check inter 150
        """ % srv.addr, mode="tcp")
        self.assertEqual(self.wait_line(r"Health check for server be/s1")[0],
                         "Health check for server be/s1 succeeded, reason: Layer4 check passed, "
                         "check duration: Nms, status: 3/3 UP.")

    @known_bug("tcp-check rules are run without 'option tcp-check'; HAProxy ignores them "
               "(with a warning) and makes a plain connection check")
    def test_rules_without_option_tcp_check_are_ignored(self):
        srv = self.tcp_server(lambda conn, rec: rec.read_all(0.5))
        self.start_checks("""
            tcp-check send "PING\\r\\n"
            tcp-check expect string NEVER
            server s1 %s check inter 150
        """ % srv.addr, mode="tcp")
        time.sleep(0.8)
        self.assertNoLine(r"is DOWN")


class SslHelloChk(ChecksCase):

    def openssl_server(self):
        if not shutil.which("openssl"):
            self.skipTest("openssl not installed")
        key, crt = self.path("key.pem"), self.path("crt.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", crt, "-subj", "/CN=localhost", "-days", "1"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                       timeout=scaled(30))
        port = free_port()
        with open(self.path("s_server.log"), "wb") as log:
            p = subprocess.Popen(["openssl", "s_server", "-accept", "127.0.0.1:%d" % port, "-cert", crt,
                                  "-key", key, "-quiet"], stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=log, cwd=self.tmp)

        def stop():
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
        self.addCleanup(stop)
        self.assertTrue(H.wait_listening(p.pid, ("127.0.0.1", port), time.monotonic() + scaled(10),
                                         lambda: p.poll() is None), "openssl s_server did not start")
        return port

    def test_tls_server_passes(self):
        port = self.openssl_server()
        self.start_checks("""
            option ssl-hello-chk
            option log-health-checks
            server s1 127.0.0.1:%d check inter 200
        """ % port, mode="tcp")
        self.assertEqual(self.wait_line(r"Health check for server be/s1")[0],
                         "Health check for server be/s1 succeeded, reason: Layer6 check passed, "
                         "check duration: Nms, status: 3/3 UP.")
        time.sleep(0.5)
        self.assertNoLine(r"is DOWN")

    def test_plain_http_server_fails(self):
        # an HTTP server answers garbage with a 400
        def handler(conn, rec):
            rec.recv()
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        srv = self.tcp_server(handler)
        self.start_checks("""
            option ssl-hello-chk
            server s1 %s check inter 200
        """ % srv.addr, mode="tcp")
        line = self.wait_line(r"Server be/s1 is DOWN")[0]
        self.assertRegex(line, r"^Server be/s1 is DOWN, reason: Layer6 invalid response, check duration: Nms\. ")

    def test_http_origin_fails(self):
        # one that waits for the end of a request head that never comes
        o = self.origin(name="s1")
        self.start_checks("""
            option ssl-hello-chk
            server s1 %s check inter 200
        """ % o.addr, mode="tcp")
        self.wait_line(r"Server be/s1 is DOWN, reason: Layer6 (timeout|invalid response)")

    def test_silent_server_is_l6tout(self):
        srv = self.tcp_server(lambda conn, rec: rec.read_all(5))
        self.start_checks("""
            option ssl-hello-chk
            server s1 %s check inter 300
        """ % srv.addr, mode="tcp")
        line = self.wait_line(r"Server be/s1 is DOWN")[0]
        self.assertRegex(line, r"^Server be/s1 is DOWN, reason: Layer6 timeout, check duration: Nms\. ")
        self.assertTrue(srv.conns[0].data.startswith(b"\x16\x03"), "no TLS handshake record sent")


class SmtpServer:
    """A fake SMTP server: greeting, then 250 to HELO/EHLO, 221 to QUIT."""

    def __init__(self, greeting=b"220 mail.example ESMTP ready\r\n"):
        self.greeting = greeting
        self.lines = []

    def __call__(self, conn, rec):
        conn.sendall(self.greeting)
        if not self.greeting.startswith(b"2"):
            rec.read_all(2)
            return
        while True:
            line = rec.readline()
            if not line:
                return
            self.lines.append(line)
            if line.upper().startswith(b"QUIT"):
                conn.sendall(b"221 bye\r\n")
                return
            conn.sendall(b"250 hello, pleased to meet you\r\n")


class SmtpChk(ChecksCase):

    def test_helo_default(self):
        smtp = SmtpServer()
        srv = self.tcp_server(smtp)
        self.start_checks("""
            option smtpchk
            server s1 %s check inter 200
        """ % srv.addr, mode="tcp")
        self.assertTrue(srv.wait_done(2))
        self.assertEqual(smtp.lines[0], b"HELO localhost\r\n")
        self.assertNoLine(r"is DOWN")

    def test_ehlo_domain(self):
        smtp = SmtpServer()
        srv = self.tcp_server(smtp)
        self.start_checks("""
            option smtpchk EHLO checker.example
            server s1 %s check inter 200
        """ % srv.addr, mode="tcp")
        self.assertTrue(srv.wait_done(2))
        self.assertEqual(smtp.lines[0], b"EHLO checker.example\r\n")
        self.assertNoLine(r"is DOWN")

    @known_bug("smtpchk ends after the HELO answer; HAProxy also sends QUIT and expects a 2xx answer")
    def test_quit_is_sent(self):
        smtp = SmtpServer()
        srv = self.tcp_server(smtp)
        self.start_checks("""
            option smtpchk
            server s1 %s check inter 200
        """ % srv.addr, mode="tcp")
        self.assertTrue(srv.wait_done(2))
        self.assertEqual(smtp.lines[:2], [b"HELO localhost\r\n", b"QUIT\r\n"])

    def test_refusing_greeting_goes_down(self):
        srv = self.tcp_server(SmtpServer(b"554 go away\r\n"))
        self.start_checks("""
            option smtpchk
            server s1 %s check inter 1s
        """ % srv.addr, mode="tcp")
        self.wait_line(r"Server be/s1 is DOWN", timeout=4)

    @known_bug("a refusing greeting is only judged at the timeout (Layer7 timeout); HAProxy "
               "fails at once with 'Layer7 wrong status, code: 554, info: \"go away\"'")
    def test_refusing_greeting_reason(self):
        srv = self.tcp_server(SmtpServer(b"554 go away\r\n"))
        self.start_checks("""
            option smtpchk
            server s1 %s check inter 1s
        """ % srv.addr, mode="tcp")
        line = self.wait_line(r"Server be/s1 is DOWN", timeout=4)[0]
        self.assertIn('reason: Layer7 wrong status, code: 554, info: "go away"', line)


class RedisCheck(ChecksCase):

    @staticmethod
    def fake_redis(reply, seen):
        def handler(conn, rec):
            data = bytearray()
            while not data.endswith(b"\r\n"):
                d = rec.recv()
                if not d:
                    return
                data += d
            # a RESP array or an inline command
            if bytes(data) in (b"*1\r\n$4\r\nPING\r\n", b"PING\r\n"):
                seen.append(bytes(data))
                conn.sendall(reply)
            else:
                # wait for the rest of an array
                data += rec.recv()
                seen.append(bytes(data))
                conn.sendall(reply)
        return handler

    def test_pong_passes(self):
        seen = []
        srv = self.tcp_server(self.fake_redis(b"+PONG\r\n", seen))
        self.start_checks("""
            option redis-check
            server s1 %s check inter 150
        """ % srv.addr, mode="tcp")
        self.assertTrue(srv.wait_done(2))
        self.assertNoLine(r"is DOWN")

    def test_error_fails(self):
        seen = []
        srv = self.tcp_server(self.fake_redis(b"-ERR loading\r\n", seen))
        self.start_checks("""
            option redis-check
            server s1 %s check inter 150
        """ % srv.addr, mode="tcp")
        self.wait_line(r"Server be/s1 is DOWN")

    def test_ping_is_a_resp_array(self):
        seen = []
        srv = self.tcp_server(self.fake_redis(b"+PONG\r\n", seen))
        self.start_checks("""
            option redis-check
            server s1 %s check inter 150
        """ % srv.addr, mode="tcp")
        self.assertTrue(srv.wait_done(1))
        self.assertEqual(seen[0], b"*1\r\n$4\r\nPING\r\n")


def mysql_packet(payload, seq=0):
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


def mysql_greeting(version=b"8.0.33"):
    return mysql_packet(b"\x0a" + version + b"\x00" + struct.pack("<I", 7) + b"abcdefgh\x00"
                        + struct.pack("<H", 0xffff) + b"\x21" + struct.pack("<H", 2)
                        + struct.pack("<H", 0xc3ff) + b"\x15" + b"\x00" * 10 + b"ijklmnopqrst\x00"
                        + b"mysql_native_password\x00")


class MysqlCheck(ChecksCase):

    def start(self, packet):
        def handler(conn, rec):
            conn.sendall(packet)
            rec.read_all(3)
        srv = self.tcp_server(handler)
        self.start_checks("""
            option mysql-check
            server s1 %s check inter 2s
        """ % srv.addr, mode="tcp")
        return srv

    def test_handshake_v10_passes(self):
        srv = self.start(mysql_greeting())
        self.assertTrue(srv.wait_conns(1))
        time.sleep(0.5)
        self.assertNoLine(r"is DOWN")

    def test_error_packet_fails_at_once(self):
        t0 = time.monotonic()
        self.start(mysql_packet(b"\xff" + struct.pack("<H", 1130) + b"Host not allowed"))
        self.wait_line(r"Server be/s1 is DOWN", timeout=1.5)
        self.assertLess(time.monotonic() - t0, scaled(1.5))


if __name__ == "__main__":
    unittest.main()
