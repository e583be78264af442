"""log-format strings and the fixed layouts byte for byte: HAProxy's CLF
line, the %variables with their %{+Q,+E,+X} options and %o, what a
missing or empty value writes, header and cookie captures (last
occurrence, length, escaping), unique-id-format / unique-id-header / %ID,
log-format-sd in rfc5424 headers, and the request line of long URIs."""

import re
import time
import unittest

import harness as H
from harness import Fixed, http
from logsink import TAG, LogTestCase, local_port

CONF = """
frontend fe
    bind 127.0.0.1:{{port}}
{{fe}}
    default_backend be
backend be
    server s1 {{o}}
"""


class Base(LogTestCase):

    def start(self, fe, origin=None, global_lines=""):
        self.o = origin or self.origin()
        self.port = H.free_port()
        self.addr = ("127.0.0.1", self.port)
        self.proxy = self.start_logging(CONF, port=self.port, o=self.o.addr, fe=H.indent(fe),
                                        global_lines=global_lines)

    def line(self, n=1):
        return self.raw_lines(n)[n - 1].msg


class Clf(Base):

    def test_clf_line_byte_for_byte(self):
        o = self.origin()
        o.route("/c", Fixed(b"hi", headers=[("Set-Cookie", "SRV=abc; path=/"), ("X-Res", 'a"b')]))
        self.start("option httplog clf\ncapture request header Host len 20\ncapture request header X-A len 10\n"
                   "capture response header X-Res len 10\ncapture cookie SRV len 20\n"
                   "http-request deny if { path /deny }", origin=o)
        c = H.HTTPConn(self.addr)
        cport = local_port(c.sock)
        c.request("GET", "/c?x=1", headers=[("X-A", 'q"{|}#'), ("Cookie", "SRV=zz; o=1")])
        c.close()
        msg = self.line()
        rx = (r'127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET /c\?x=1 HTTP/1\.1" 200 (\d+) '
              r'"" "" %d (\d{3}) "fe" "be" "s1" (\d+) (\d+) (\d+) (\d+) (\d+) ---- 1 1 0 0 0 0 0 '
              r'"SRV=zz" "SRV=abc" "test" "q#22#7B#7C#7D#23" "a#22b"$' % cport)
        self.assertRegex(msg, rx)
        self.syslog.clear()
        http(self.addr, "GET", "/deny")
        self.assertRegex(self.line(), r'^127\.0\.0\.1 - - \[[^]]+\] "GET /deny HTTP/1\.1" 403 \d+ "" "" \d+ \d{3} '
                                      r'"fe" "fe" "<NOSRV>" \d+ -1 -1 -1 \d+ PR-- \d \d 0 0 0 0 0 "" "" "test" "" ""$')
        self.syslog.clear()
        H.raw_exchange(self.addr, b"BAD\r\n\r\n")
        # a request never parsed has no captures: the line ends with a blank
        self.assertRegex(self.line(), r'^127\.0\.0\.1 - - \[[^]]+\] "<BADREQ>" 400 0 "" "" \d+ \d{3} '
                                      r'"fe" "fe" "<NOSRV>" -1 -1 -1 -1 \d+ PR-- \d \d 0 0 0 0 0 "" "" $')


class Variables(Base):

    def test_request_and_connection_variables(self):
        self.start('log-format "%ci %cp %fi %fp %f %ft %b %s %si %sp %ST %HM %HU %HP %HQ %HV %{+Q}r %ts"')
        c = H.HTTPConn(self.addr)
        cport = local_port(c.sock)
        c.request("POST", "/p/q?a=1&b", body=b"x")
        c.close()
        host, sport = self.o.addr.split(":")
        self.assertEqual(self.line(), '127.0.0.1 %d 127.0.0.1 %d fe fe be s1 %s %s 200 POST /p/q?a=1&b /p/q ?a=1&b '
                                      'HTTP/1.1 "POST /p/q?a=1&b HTTP/1.1" --' % (cport, self.port, host, sport))

    def test_quoting_escaping_and_missing_values(self):
        self.start('http-request set-var(txn.q) req.hdr(x-q)\n'
                   'log-format "%[var(txn.q)] %{+Q}[var(txn.q)] %{+E}[var(txn.q)] %{+Q,+E}[var(txn.q)] '
                   '%{+Q}[var(txn.none)] %[var(txn.none)] %{+Q}ID %ID %{+Q}b %{+Q}ST %HQ %{+Q}HQ end"')
        http(self.addr, "GET", "/x", headers=[("X-Q", 'a"b\\c]d')])
        self.assertEqual(self.line(), 'a"b\\c]d "a"b\\c]d" a\\"b\\\\c\\]d "a\\"b\\\\c\\]d" "" - "" - "be" 200  "" end')

    def test_global_option_and_hexadecimal(self):
        self.start('log-format "%{+Q}o %b %{-Q}s %ST %{+X}ci %{+X}cp %{+X}fp %{+X}Ts %Ts"')
        c = H.HTTPConn(self.addr)
        cport = local_port(c.sock)
        c.request("GET", "/")
        c.close()
        words = self.line().split(" ")
        self.assertEqual(words[:6], ['"be"', "s1", "200", "7F000001", "%04X" % cport, "%04X" % self.port])
        self.assertEqual(int(words[6], 16), int(words[7]))

    def test_blanks_between_items(self):
        # a run of blanks is one separator; no blank at the start
        self.start('log-format "  %b   %s  [%ST]  %hr end"')
        http(self.addr, "GET", "/")
        self.assertEqual(self.line(), "be s1 [200] end")

    def test_long_request_line_is_cut_at_1023_bytes(self):
        self.start('log-format "%{+Q}r"', global_lines="")
        self.proxy.stop()
        port = H.free_port()
        cfg = H.render(H.BASE_GLOBAL + "    log {{syslog}} len 4096 local0\n" + H.BASE_DEFAULTS + "    log global\n"
                       + CONF, syslog=self.syslog.addr, port=port, o=self.o.addr, fe='    log-format "%{+Q}r"')
        self.start_proxy(cfg)
        uri = "/" + "a" * 1500
        http(("127.0.0.1", port), "GET", uri)
        self.assertEqual(self.line(), '"' + ("GET " + uri)[:1023] + '"')


class Captures(Base):

    def test_last_occurrence_length_and_escapes(self):
        o = self.origin()
        o.route("/c", Fixed(b"hi", headers=[("X-Res", "first"), ("X-Res", 'a"b|c{d}#e\\f]g')]))
        self.start("capture request header X-A len 8\ncapture request header X-Missing len 5\n"
                   "capture response header X-Res len 30\n"
                   'log-format "%hr %hs %{+Q}hr %hrl %{+Q}hrl %hsl %{+E}hs"', origin=o)
        http(self.addr, "GET", "/c", headers=[("X-A", "one"), ("X-A", 'tw"o|{x}#\\ 0123')])
        self.assertEqual(self.line(), '{tw#22o#7C#7Bx#7D|} {a#22b#7Cc#7Bd#7D#23e\\f]g} "{tw#22o#7C#7Bx#7D|}" '
                                      'tw#22o#7C#7Bx#7D - "tw#22o#7C#7Bx#7D" "" a#22b#7Cc#7Bd#7D#23e\\f]g '
                                      '{a#22b#7Cc#7Bd#7D#23e\\\\f\\]g}')

    def test_cookie_capture_prefix_and_set_cookie(self):
        o = self.origin()
        o.route("/c", Fixed(b"hi", headers=[("Set-Cookie", "OTHER=1"), ("Set-Cookie", "SRVID=abc; path=/"),
                                            ("Set-Cookie", "SRVID=second")]))
        self.start('capture cookie SRV len 9\nlog-format "%CC %CS %{+Q}CC"', origin=o)
        http(self.addr, "GET", "/c", headers=[("Cookie", "SRVX=1; SRV=zz; other=1")])
        self.assertEqual(self.line(), "SRVX=1 SRVID=abc \"SRVX=1\"")
        self.syslog.clear()
        http(self.addr, "GET", "/n")
        self.assertEqual(self.line(), '- - ""')

    def test_captures_in_httplog_line(self):
        self.start("option httplog\ncapture request header Host len 15\ncapture request header User-Agent len 10\n"
                   "capture response header Content-Type len 20")
        http(self.addr, "GET", "/h", headers=[("User-Agent", "curl/8.0 (x)")])
        self.assertIn(' 0/0 {test|curl/8.0 (} {application/json} "GET /h HTTP/1.1"', self.line())


class UniqueId(Base):

    def test_format_header_and_log(self):
        self.start('unique-id-format %{+X}o%ci:%cp_%fi:%fp_%Ts_%rt\nunique-id-header X-Req-ID\n'
                   'http-response set-header X-Seen %[unique-id]\nlog-format "%ID %{+Q}ID"')
        with H.HTTPConn(self.addr) as c:
            cport = local_port(c.sock)
            r1 = c.request("GET", "/1")
            r2 = c.request("GET", "/2")
        ids = [self.o.log[0].header("X-Req-ID"), self.o.log[1].header("X-Req-ID")]
        self.assertRegex(ids[0], r"^7F000001:%04X_7F000001:%04X_[0-9A-F]+_[0-9A-F]{4}$" % (cport, self.port))
        # one per request, also on one connection
        self.assertNotEqual(ids[0], ids[1])
        self.assertEqual([r1.header("X-Seen"), r2.header("X-Seen")], ids)
        msgs = self.raw_lines(2)
        self.assertEqual([m.msg for m in msgs], ['%s "%s"' % (i, i) for i in ids])


class StructuredData(Base):

    def test_rfc5424_with_log_format_sd(self):
        self.proxy = None
        o = self.origin()
        port = H.free_port()
        cfg = H.render(H.BASE_GLOBAL + "    log {{syslog}} format rfc5424 local3\n" + H.BASE_DEFAULTS
                       + "    log global\n" + CONF, syslog=self.syslog.addr, port=port, o=o.addr,
                       fe=H.indent('option httplog\nhttp-request set-var(txn.x) req.hdr(x-v)\n'
                                   'log-format-sd "[exampleSDID@32473 iut=\\"3\\" v=\\"%{+E}[var(txn.x)]\\"]  "'))
        self.start_proxy(cfg)
        http(("127.0.0.1", port), "GET", "/sd", headers=[("X-V", 'a]b"c')])
        m = self.raw_lines(1)[0]
        self.assertEqual((m.kind, m.facility, m.level, m.tag, m.host), ("rfc5424", 19, 6, TAG, "-"))
        self.assertEqual(m.sd, '[exampleSDID@32473 iut="3" v="a\\]b\\"c"]')
        # one blank between the structured data and the message
        self.assertTrue(m.msg.startswith("127.0.0.1:"), m.raw)


if __name__ == "__main__":
    unittest.main()
