"""Syslog listeners and log line parsers for the logging tests.

A Syslog object is a datagram socket (UDP on loopback, or a unix datagram
socket in a test's temp dir) read by a thread: every datagram the proxy
sends is kept, in order. Lines are parsed back into their syslog header
and, for HAProxy's layouts, field by field.
"""

import os
import re
import socket
import threading
import time

import harness as H

# The tag of the syslog headers: the program's name, as HAProxy does.
TAG = "haproxy" if H.ORACLE else "proxyd"


class Syslog:
    """Collects datagrams on 127.0.0.1:<port> (unix_path=None) or on a
    unix datagram socket. `addr` is what a "log" line takes."""

    def __init__(self, unix_path=None, rcvbuf=None):
        if unix_path:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.sock.bind(unix_path)
            self.addr = unix_path
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind(("127.0.0.1", 0))
            self.addr = "127.0.0.1:%d" % self.sock.getsockname()[1]
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(0.1)
        self.datagrams = []
        self.cond = threading.Condition()
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                d = self.sock.recv(70000)
            except socket.timeout:
                continue
            except OSError:
                break
            with self.cond:
                self.datagrams.append(d)
                self.cond.notify_all()

    def wait(self, n, timeout=None, pred=None):
        """The messages (parsed) once at least n of them (matching pred)
        arrived, or what came before the timeout."""
        deadline = time.monotonic() + (timeout or H.scaled(5))
        with self.cond:
            while True:
                got = [m for m in map(parse_syslog, self.datagrams) if pred is None or pred(m)]
                left = deadline - time.monotonic()
                if len(got) >= n or left <= 0:
                    return got
                self.cond.wait(min(left, 0.05))

    def settle(self, quiet=0.3):
        """Waits until nothing arrived for `quiet` seconds (bounded);
        returns every message."""
        deadline = time.monotonic() + H.scaled(5)
        last = -1
        while time.monotonic() < deadline:
            with self.cond:
                n = len(self.datagrams)
            if n == last:
                break
            last = n
            time.sleep(quiet)
        return [parse_syslog(d) for d in self.datagrams]

    def messages(self):
        with self.cond:
            return [parse_syslog(d) for d in self.datagrams]

    def clear(self):
        with self.cond:
            self.datagrams.clear()

    def close(self):
        self._stop.set()
        self._t.join(2)
        self.sock.close()


MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
RFC3164 = re.compile(r"^<(\d+)>((?:%s) [ \d]\d \d\d:\d\d:\d\d) (?:(\S+) )?([^\s\[]+)\[(\d+)\]: " % MONTHS)
RFC5424 = re.compile(r"^<(\d+)>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d) (\S+) (\S+) (\d+) - "
                     r"(-|\[.*?\](?<!\\\])) ")


class Msg:
    """One datagram: raw bytes, the header's parts, the message."""

    def __init__(self, raw):
        self.raw = raw
        self.text = raw.decode("latin-1")
        self.pri = self.facility = self.level = None
        self.date = self.host = self.tag = self.pid = self.sd = None
        self.kind = "raw"
        self.msg = self.text[:-1] if self.text.endswith("\n") else self.text

    @property
    def fields(self):
        return parse_httplog(self.msg) or parse_tcplog(self.msg)

    def __repr__(self):
        return "<Msg %r>" % self.raw


def parse_syslog(raw):
    m = Msg(raw)
    body = m.msg
    r = RFC5424.match(body)
    if r:
        m.kind = "rfc5424"
        m.pri = int(r.group(1))
        m.date, m.host, m.tag, m.pid, m.sd = r.group(2), r.group(3), r.group(4), int(r.group(5)), r.group(6)
        m.msg = body[r.end():]
    else:
        r = RFC3164.match(body)
        if r:
            m.kind = "rfc3164"
            m.pri = int(r.group(1))
            m.date, m.host, m.tag, m.pid = r.group(2), r.group(3), r.group(4), int(r.group(5))
            m.msg = body[r.end():]
    if m.pri is not None:
        m.facility, m.level = m.pri >> 3, m.pri & 7
    return m


LEVELS = {"emerg": 0, "alert": 1, "crit": 2, "err": 3, "warning": 4, "notice": 5, "info": 6, "debug": 7}
FACILITIES = {"local0": 16, "local1": 17, "local2": 18, "local3": 19, "local4": 20, "local5": 21,
              "local6": 22, "local7": 23, "daemon": 3, "user": 1}

HTTPLOG = re.compile(
    r"^(?P<ci>[0-9a-f.:]+):(?P<cp>\d+) \[(?P<tr>\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{3})\] "
    r"(?P<ft>\S+) (?P<b>[^/\s]+)/(?P<s>\S+) "
    r"(?P<TR>-?\d+)/(?P<Tw>-?\d+)/(?P<Tc>-?\d+)/(?P<Tr>-?\d+)/(?P<Ta>\+?-?\d+) "
    r"(?P<ST>-?\d+) (?P<B>\+?\d+) (?P<CC>\S+) (?P<CS>\S+) (?P<tsc>\S{4}) "
    r"(?P<ac>\d+)/(?P<fc>\d+)/(?P<bc>\d+)/(?P<sc>\d+)/(?P<rc>\+?\d+) (?P<sq>\d+)/(?P<bq>\d+) "
    r"(?:(?P<hr>\{[^}]*\}) )?(?:(?P<hs>\{[^}]*\}) )?\"(?P<r>.*)\"$")

TCPLOG = re.compile(
    r"^(?P<ci>[0-9a-f.:]+):(?P<cp>\d+) \[(?P<t>\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{3})\] "
    r"(?P<ft>\S+) (?P<b>[^/\s]+)/(?P<s>\S+) "
    r"(?P<Tw>-?\d+)/(?P<Tc>-?\d+)/(?P<Tt>\+?-?\d+) (?P<B>\+?\d+) (?P<ts>\S\S) "
    r"(?P<ac>\d+)/(?P<fc>\d+)/(?P<bc>\d+)/(?P<sc>\d+)/(?P<rc>\+?\d+) (?P<sq>\d+)/(?P<bq>\d+)$")

INT_FIELDS = ("cp", "TR", "Tw", "Tc", "Tr", "Ta", "Tt", "ST", "B", "ac", "fc", "bc", "sc", "rc", "sq", "bq")


def _fields(rx, text):
    m = rx.match(text)
    if not m:
        return None
    d = {k: v for k, v in m.groupdict().items()}
    for k in INT_FIELDS:
        if d.get(k) is not None:
            d[k] = int(d[k].lstrip("+"))
    return d


def parse_httplog(text):
    """The fields of an "option httplog" line, as a dict (ints for the
    numbers, a leading '+' dropped), or None."""
    return _fields(HTTPLOG, text)


def parse_tcplog(text):
    return _fields(TCPLOG, text)


class LogTestCase(H.ProxyTestCase):
    """A UDP syslog listener per test (self.syslog), and a proxy started on
    a configuration whose {{syslog}} placeholders name it."""

    def setUp(self):
        super().setUp()
        self.syslog = Syslog()
        self.addCleanup(self.syslog.close)

    def unix_syslog(self, name="log.sock", **kw):
        s = Syslog(unix_path=self.path(name), **kw)
        self.addCleanup(s.close)
        return s

    def start_logging(self, body, global_lines="", defaults="", debug=False, **values):
        """Starts a proxy on BASE_GLOBAL + a log line to the syslog +
        global_lines, then defaults (mode http, log global, timeouts) +
        defaults, then body. Values fill the {{placeholders}}."""
        cfg = (H.BASE_GLOBAL + "    log {{syslog}} local0\n" + H.indent(global_lines)
               + H.BASE_DEFAULTS + "    log global\n" + H.indent(defaults) + body)
        values.setdefault("syslog", self.syslog.addr)
        cfg = H.render(cfg, **values)
        return self.start_proxy(cfg, debug=debug)

    def http_lines(self, n, pred=None, timeout=None):
        """n traffic lines of the httplog layout, parsed (asserts they came)."""
        msgs = self.syslog.wait(n, timeout, lambda m: parse_httplog(m.msg) is not None
                                and (pred is None or pred(parse_httplog(m.msg))))
        self.assertGreaterEqual(len(msgs), n, "expected %d httplog lines, got %r" % (n, self.syslog.messages()))
        return [parse_httplog(m.msg) for m in msgs]

    def one_line(self, pred=None, timeout=None):
        return self.http_lines(1, pred, timeout)[0]

    def tcp_lines(self, n, timeout=None):
        msgs = self.syslog.wait(n, timeout, lambda m: parse_tcplog(m.msg) is not None)
        self.assertGreaterEqual(len(msgs), n, "expected %d tcplog lines, got %r" % (n, self.syslog.messages()))
        return [parse_tcplog(m.msg) for m in msgs]

    def raw_lines(self, n, timeout=None, pred=None):
        msgs = self.syslog.wait(n, timeout, pred)
        self.assertGreaterEqual(len(msgs), n, "expected %d lines, got %r" % (n, self.syslog.messages()))
        return msgs

    def assertNoLine(self, wait=0.5, pred=None):
        time.sleep(wait)
        got = [m for m in self.syslog.messages() if pred is None or pred(m)]
        self.assertEqual(got, [], "no log line expected")


def local_port(sock):
    return sock.getsockname()[1]
