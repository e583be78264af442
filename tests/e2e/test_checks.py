"""Health checks, part 1: the health counter (rise, fall), the check
intervals (inter, fastinter, downinter), timeouts, the messages printed on
stderr when a check or a server changes state, and HTTP checks (option
httpchk, http-check send / expect / disable-on-404).

Server state is observed through traffic (which origin answers, 503 when
none is left) and through the lines the proxy prints on stderr, which
HAProxy prints in the same words, so nearly every test also runs under
the oracle.

The helpers at the top are shared with test_checks_tcp.py and
test_checks_traffic.py.
"""

import re
import socket
import threading
import time
import unittest

import harness as H
from harness import (ORACLE, BlackHole, DeadPort, Delay, Fixed, ProxyTestCase,
                     free_port, proxyd_only, scaled)


# --------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------

def known_bug(reason):
    """A proxyd bug these tests found and that is not fixed yet: the test
    is expected to fail with proxyd (an unexpected success then reports
    the fix) and must pass under the oracle. `reason` names the bug."""
    def deco(func):
        if ORACLE:
            return func
        func.__doc__ = (func.__doc__ or "") + "\n\nKnown proxyd bug: " + reason
        return unittest.expectedFailure(func)
    return deco


REASONS = {200: "OK", 204: "No Content", 205: "Reset Content", 301: "Moved Permanently",
           302: "Found", 303: "See Other", 404: "Not Found", 500: "Internal Server Error",
           503: "Service Unavailable"}

_LOG_LINE = re.compile(r"^\[(WARNING|ALERT|NOTICE)\] +\(\d+\) : (.*)$")


def log_lines(proxy, level=None):
    """The proxy's stderr messages, without the "[LEVEL]  (pid) : " prefix,
    check durations replaced by "Nms" so that lines compare exactly."""
    out = []
    for line in proxy.stderr().splitlines():
        m = _LOG_LINE.match(line)
        if not m or (level and m.group(1) != level):
            continue
        out.append(re.sub(r"check duration: \d+ms", "check duration: Nms", m.group(2)))
    return out


def check_lines(proxy):
    """Only the lines about checks and server or backend state (HAProxy
    also prints notices at start and stop)."""
    keep = ("Health check for ", "Server ", "Backup Server ", "backend '")
    return [l for l in log_lines(proxy) if l.startswith(keep)]


def durations(proxy):
    """The "check duration" values (ms) printed so far, in order."""
    return [int(x) for x in re.findall(r"check duration: (\d+)ms", proxy.stderr())]


def health(origin, status, body=None, path="/healthz"):
    """What the origin's check route answers from now on."""
    if body is None:
        body = b"ok" if status < 400 else b"ko"
    origin.route(path, Fixed(body, status=status, reason=REASONS.get(status, "Other")))


class Sequence(H.Handler):
    """Answers successive requests with the given statuses in turn, then
    repeats the last one: a deterministic run of check results."""

    def __init__(self, statuses):
        self.statuses = list(statuses)
        self.n = 0
        self.lock = threading.Lock()

    def respond(self, origin, conn, req):
        with self.lock:
            st = self.statuses[min(self.n, len(self.statuses) - 1)]
            self.n += 1
        return Fixed(b"ok" if st < 400 else b"ko", status=st,
                     reason=REASONS.get(st, "Other")).respond(origin, conn, req)


class Switch(H.Handler):
    """Answers with the status last set (200 at first) and records the
    time and status of every answer, so that a test knows exactly which
    checks saw a change."""

    def __init__(self, status=200):
        self.status = status
        self.answers = []
        self.lock = threading.Lock()

    def set(self, status):
        with self.lock:
            self.status = status

    def respond(self, origin, conn, req):
        with self.lock:
            st = self.status
            self.answers.append((time.monotonic(), st))
        return Fixed(b"ok" if st < 400 else b"ko", status=st,
                     reason=REASONS.get(st, "Other")).respond(origin, conn, req)

    def times(self, status):
        with self.lock:
            return [t for t, s in self.answers if s == status]


def check_times(origin, path="/healthz"):
    """Arrival times (monotonic) of the check requests an origin got."""
    with origin.lock:
        return [r.time for r in origin.log if r.path == path]


def who(addr, path="/"):
    """Which origin answered a request (its name), or the status when the
    proxy answered by itself."""
    r = H.http(addr, path=path, timeout=scaled(10))
    return r.header("x-origin") if r.status == 200 and r.header("x-origin") else r.status


class TcpServer:
    """A TCP server in threads running handler(conn, rec) for each
    connection; rec.data collects what the handler read through
    rec.recv()/rec.readline(). Records are kept in self.conns."""

    class Rec:
        def __init__(self, conn):
            self.conn = conn
            self.data = bytearray()
            self.buf = bytearray()
            self.time = time.monotonic()

        def recv(self, n=65536):
            d = self.conn.recv(n)
            self.data += d
            return d

        def readline(self):
            while b"\n" not in self.buf:
                d = self.recv()
                if not d:
                    line, self.buf = bytes(self.buf), bytearray()
                    return line
                self.buf += d
            i = self.buf.index(b"\n") + 1
            line = bytes(self.buf[:i])
            del self.buf[:i]
            return line

        def read_all(self, timeout=1.0):
            """Everything until EOF or `timeout` of silence."""
            self.conn.settimeout(timeout)
            try:
                while self.recv():
                    pass
            except (socket.timeout, OSError):
                pass
            return bytes(self.data)

    def __init__(self, handler, host="127.0.0.1", port=0):
        self.handler = handler
        self.conns = []
        self.errors = []
        self.lock = threading.Condition()
        self._stop = threading.Event()
        self.sock = H.listening_socket(host, port)
        self.sock.settimeout(0.2)
        self.host, self.port = host, self.sock.getsockname()[1]
        self._threads = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    @property
    def addr(self):
        return "%s:%d" % (self.host, self.port)

    def _accept(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            rec = self.Rec(conn)
            with self.lock:
                self.conns.append(rec)
                self.lock.notify_all()
            t = threading.Thread(target=self._serve, args=(rec,), daemon=True)
            self._threads = [x for x in self._threads if x.is_alive()]
            self._threads.append(t)
            t.start()

    def _serve(self, rec):
        rec.conn.settimeout(H.IO_TIMEOUT)
        try:
            self.handler(rec.conn, rec)
        except (OSError, ValueError) as e:
            if not self._stop.is_set():
                self.errors.append(repr(e))
        finally:
            rec.done = time.monotonic()
            try:
                rec.conn.close()
            except OSError:
                pass
            with self.lock:
                self.lock.notify_all()

    def wait_conns(self, n, timeout=None):
        deadline = time.monotonic() + (timeout if timeout is not None else H.IO_TIMEOUT)
        with self.lock:
            while len(self.conns) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.lock.wait(min(left, 0.1))
            return len(self.conns) >= n

    def wait_done(self, n, timeout=None):
        """Until the handlers of the first n connections returned."""
        deadline = time.monotonic() + (timeout if timeout is not None else H.IO_TIMEOUT)
        with self.lock:
            while sum(1 for r in self.conns[:n] if hasattr(r, "done")) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.lock.wait(min(left, 0.1))
            return True

    def stop(self):
        self._stop.set()
        try:
            self.sock.close()
        except OSError:
            pass
        with self.lock:
            conns = list(self.conns)
        for r in conns:
            try:
                r.conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._acceptor.join(2)
        for t in list(self._threads):
            t.join(2)


class ChecksCase(ProxyTestCase):
    """A frontend on a free port and one backend `be` with the given
    lines; waits on the proxy's stderr."""

    def start_checks(self, backend, defaults="", global_lines="", mode="http",
                     frontend="", traffic_log=False):
        """traffic_log: one log line per request on stderr (HAProxy: a log
        target and option httplog; proxyd: -d)."""
        if traffic_log:
            global_lines += "\nlog stderr format raw local0"
            defaults += "\nlog global\noption httplog"
        port = free_port()
        base = H.BASE_DEFAULTS if mode == "http" else H.BASE_DEFAULTS.replace("mode http", "mode " + mode)
        cfg = (H.BASE_GLOBAL + H.indent(global_lines) + base + H.indent(defaults)
               + "frontend fe\n    bind 127.0.0.1:%d\n" % port + H.indent(frontend)
               + "    default_backend be\n"
               + "backend be\n" + H.indent(backend))
        self.proxy = self.start_proxy(cfg, debug=traffic_log)
        self.addr = ("127.0.0.1", port)
        return self.proxy

    def tcp_server(self, handler, **kw):
        s = TcpServer(handler, **kw)
        self.addCleanup(s.stop)
        return s

    def wait_line(self, pattern, timeout=5.0, count=1, proxy=None):
        """Wait (bounded, upper bound scaled) until `count` stderr lines
        match the regex `pattern`; returns the matching lines. Fails with
        the lines seen so far otherwise."""
        proxy = proxy or self.proxy
        rx = re.compile(pattern)
        deadline = time.monotonic() + scaled(timeout)
        while True:
            found = [l for l in log_lines(proxy) if rx.search(l)]
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline or not proxy.alive():
                self.fail("no %d line(s) matching %r within %.1fs; stderr lines:\n%s"
                          % (count, pattern, scaled(timeout), "\n".join(log_lines(proxy))))
            time.sleep(0.01)

    def assertNoLine(self, pattern, proxy=None):
        proxy = proxy or self.proxy
        rx = re.compile(pattern)
        bad = [l for l in log_lines(proxy) if rx.search(l)]
        self.assertEqual(bad, [], "unexpected line(s) matching %r" % pattern)

    def wait_checks(self, origin, n, timeout=5.0, path="/healthz"):
        """Until the origin received n check requests (bounded)."""
        ok = origin.wait_for(lambda o: len([r for r in o.log if r.path == path]) >= n,
                             timeout=scaled(timeout))
        self.assertTrue(ok, "fewer than %d checks on %s within %.1fs (got %d)"
                        % (n, origin.name, scaled(timeout), len(check_times(origin, path))))

    def owners(self, n=6, path="/"):
        return [who(self.addr, path) for _ in range(n)]


# --------------------------------------------------------------------------
# The health counter
# --------------------------------------------------------------------------

class HealthCounter(ChecksCase):

    def test_a_new_server_goes_down_at_its_first_failed_check(self):
        # A server starts UP at the bottom of the healthy range ("UP 1/3"),
        # so one failure is enough, whatever "fall" says.
        dead = DeadPort()
        o2 = self.origin(name="s2")
        t0 = time.monotonic()
        self.start_checks("""
            server s1 %s check inter 300 rise 2 fall 3
            server s2 %s
        """ % (dead.addr, o2.addr))
        lines = self.wait_line(r"is DOWN")
        self.assertLess(time.monotonic() - t0, scaled(1.5))
        self.assertEqual(lines, [
            'Server be/s1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", '
            'check duration: Nms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, '
            '0 remaining in queue.'])
        self.assertNoLine(r"no server available")
        self.assertEqual(self.owners(6), ["s2"] * 6)

    def test_exact_counter_with_log_health_checks(self):
        # fall 3: two failures in a row leave the server UP, the third
        # takes it down; rise 2: two successes bring it back. Every
        # check that changes the counter or the status is logged.
        o = self.origin(name="s1")
        o.route("/healthz", Sequence([200, 503, 503, 200, 503, 503, 503, 200, 500, 200, 200, 200]))
        self.start_checks("""
            option httpchk GET /healthz
            option log-health-checks
            server s1 %s check inter 100 rise 2 fall 3
        """ % o.addr)
        self.wait_line(r"is UP", timeout=8)
        self.wait_checks(o, 12, timeout=8)
        time.sleep(0.15)
        ok = "reason: Layer7 check passed, code: 200, check duration: Nms"
        ko = ('reason: Layer7 wrong status, code: 503, info: "Service Unavailable", '
              'check duration: Nms')
        ko500 = ('reason: Layer7 wrong status, code: 500, info: "Internal Server Error", '
                 'check duration: Nms')
        hc = "Health check for server be/s1 "
        self.assertEqual(check_lines(self.proxy), [
            hc + "succeeded, %s, status: 3/3 UP." % ok,
            hc + "failed, %s, status: 2/3 UP." % ko,
            hc + "failed, %s, status: 1/3 UP." % ko,
            hc + "succeeded, %s, status: 3/3 UP." % ok,
            hc + "failed, %s, status: 2/3 UP." % ko,
            hc + "failed, %s, status: 1/3 UP." % ko,
            hc + "failed, %s, status: 0/2 DOWN." % ko,
            "Server be/s1 is DOWN. 0 active and 0 backup servers left. 0 sessions active, "
            "0 requeued, 0 remaining in queue.",
            "backend 'be' has no server available!",
            hc + "succeeded, %s, status: 1/2 DOWN." % ok,
            hc + "failed, %s, status: 0/2 DOWN." % ko500,
            hc + "succeeded, %s, status: 1/2 DOWN." % ok,
            hc + "succeeded, %s, status: 3/3 UP." % ok,
            "Server be/s1 is UP. 1 active and 0 backup servers online. 0 sessions requeued, "
            "0 total in queue.",
        ])

    def test_rise_above_fall(self):
        # rise 3 fall 1: the counter runs 0..3, "UP" shows no fraction
        # once fully up; while down it counts up to rise.
        o = self.origin(name="s1")
        o.route("/healthz", Sequence([503, 200, 200, 503, 200, 200, 200, 200]))
        self.start_checks("""
            option httpchk GET /healthz
            option log-health-checks
            server s1 %s check inter 100 rise 3 fall 1
        """ % o.addr)
        self.wait_line(r"is UP", timeout=8)
        self.wait_checks(o, 8, timeout=8)
        time.sleep(0.15)
        hc = "Health check for server be/s1 "
        ok = "reason: Layer7 check passed, code: 200, check duration: Nms"
        ko = ('reason: Layer7 wrong status, code: 503, info: "Service Unavailable", '
              'check duration: Nms')
        self.assertEqual(check_lines(self.proxy), [
            hc + "failed, %s, status: 0/3 DOWN." % ko,
            "Server be/s1 is DOWN. 0 active and 0 backup servers left. 0 sessions active, "
            "0 requeued, 0 remaining in queue.",
            "backend 'be' has no server available!",
            hc + "succeeded, %s, status: 1/3 DOWN." % ok,
            hc + "succeeded, %s, status: 2/3 DOWN." % ok,
            hc + "failed, %s, status: 0/3 DOWN." % ko,
            hc + "succeeded, %s, status: 1/3 DOWN." % ok,
            hc + "succeeded, %s, status: 2/3 DOWN." % ok,
            hc + "succeeded, %s, status: 1/1 UP." % ok,
            "Server be/s1 is UP. 1 active and 0 backup servers online. 0 sessions requeued, "
            "0 total in queue.",
        ])

    def test_fall_and_rise_take_the_configured_number_of_intervals(self):
        # inter 300ms, fall 3: DOWN 3 checks after the flip, i.e. after
        # 0.6 to 0.9s; rise 2: UP 2 checks after the flip back.
        o = self.origin(name="s1")
        o2 = self.origin(name="s2")
        sw = Switch(200)
        o.route("/healthz", sw)
        self.start_checks("""
            option httpchk GET /healthz
            server s1 %s check inter 300 rise 2 fall 3
            server s2 %s
        """ % (o.addr, o2.addr))
        self.wait_checks(o, 1)
        time.sleep(0.1)     # the first success takes s1 to full health
        self.assertEqual(sorted(self.owners(4)), ["s1", "s1", "s2", "s2"])
        t0 = time.monotonic()
        sw.set(503)
        self.wait_line(r"Server be/s1 is DOWN", timeout=3)
        down_after = time.monotonic() - t0
        fails = sw.times(503)
        self.assertGreaterEqual(down_after, 0.55, "DOWN after %.2fs: fall not honoured" % down_after)
        self.assertLessEqual(down_after, scaled(1.3), "DOWN after %.2fs: checks too slow" % down_after)
        self.assertEqual(len(fails), 3, "DOWN after %d failed checks" % len(fails))
        for a, b in zip(fails, fails[1:]):
            self.assertGreaterEqual(b - a, 0.25)
            self.assertLessEqual(b - a, scaled(0.45))
        self.assertEqual(self.owners(6), ["s2"] * 6)

        t1 = time.monotonic()
        sw.set(200)
        self.wait_line(r"Server be/s1 is UP", timeout=3)
        up_after = time.monotonic() - t1
        self.assertEqual(len([t for t in sw.times(200) if t > t1]), 2, "UP after %d checks"
                         % len([t for t in sw.times(200) if t > t1]))
        self.assertGreaterEqual(up_after, 0.25, "UP after %.2fs: rise not honoured" % up_after)
        self.assertLessEqual(up_after, scaled(1.0), "UP after %.2fs" % up_after)
        self.assertEqual(sorted(self.owners(4)), ["s1", "s1", "s2", "s2"])

    def test_intervals_inter_fastinter_downinter(self):
        # inter while fully up, fastinter while the counter moves,
        # downinter while fully down; measured at the origin.
        o = self.origin(name="s1")
        # checks 1: ok (full health), 2-4: fail -> DOWN, 5-7: fail while
        # down, 8-9: ok -> UP, 10: ok
        o.route("/healthz", Sequence([200, 503, 503, 503, 503, 503, 503, 200, 200, 200]))
        self.start_checks("""
            option httpchk GET /healthz
            server s1 %s check inter 1200 fastinter 100 downinter 400 rise 2 fall 3
        """ % o.addr)
        self.wait_checks(o, 10, timeout=10)
        t = check_times(o)
        gaps = [b - a for a, b in zip(t, t[1:])][:9]
        expected = [1.2,            # 1 -> 2: inter (full health)
                    0.1, 0.1,       # 2 -> 3 -> 4: fastinter (going down)
                    0.4, 0.4, 0.4,  # down: downinter
                    0.4,            # 7 -> 8: still down (counter 0)
                    0.1,            # 8 -> 9: fastinter (going up)
                    1.2]            # 9 -> 10: up again, inter
        for i, (gap, exp) in enumerate(zip(gaps, expected)):
            with self.subTest(gap=i + 1):
                self.assertGreaterEqual(gap, exp * 0.75, "gaps %s" % ["%.2f" % g for g in gaps])
                self.assertLessEqual(gap, scaled(exp * 1.4 + 0.03), "gaps %s" % ["%.2f" % g for g in gaps])

    def test_no_check_keeps_the_server_up(self):
        dead = DeadPort()
        o2 = self.origin(name="s2")
        self.start_checks("""
            default-server check inter 200
            server s1 %s no-check
            server s2 %s
        """ % (dead.addr, o2.addr))
        time.sleep(0.6)
        self.assertNoLine(r"s1")
        # s1 is still in the farm: its turn fails (503 after the retries)
        # instead of being skipped
        r = [who(self.addr) for _ in range(2)]
        self.assertIn("s2", r)
        self.assertNotEqual(r, ["s2", "s2"])

    def test_no_checks_in_maintenance(self):
        # a "disabled" server starts in maintenance: its checks wait
        o = self.origin(name="s1")
        o2 = self.origin(name="s2")
        self.start_checks("""
            option httpchk GET /healthz
            server s1 %s check inter 100 disabled
            server s2 %s check inter 100
        """ % (o.addr, o2.addr))
        self.wait_checks(o2, 3)
        self.assertEqual(check_times(o), [])
        self.assertEqual(self.owners(3), ["s2"] * 3)

    def test_default_server_settings_apply(self):
        o = self.origin(name="s1")
        o.route("/healthz", Sequence([200, 503]))
        self.start_checks("""
            option httpchk GET /healthz
            option log-health-checks
            default-server inter 100 rise 1 fall 2
            server s1 %s check
        """ % o.addr)
        self.wait_line(r"is DOWN")
        self.assertEqual(check_lines(self.proxy)[:3], [
            "Health check for server be/s1 succeeded, reason: Layer7 check passed, code: 200, "
            "check duration: Nms, status: 2/2 UP.",
            'Health check for server be/s1 failed, reason: Layer7 wrong status, code: 503, '
            'info: "Service Unavailable", check duration: Nms, status: 1/2 UP.',
            'Health check for server be/s1 failed, reason: Layer7 wrong status, code: 503, '
            'info: "Service Unavailable", check duration: Nms, status: 0/1 DOWN.',
        ])


# --------------------------------------------------------------------------
# Server state messages and the traffic they go with
# --------------------------------------------------------------------------

class StateChanges(ChecksCase):

    def test_last_server_down_alert_and_immediate_503(self):
        o = self.origin(name="s1")
        self.start_checks("""
            option httpchk GET /healthz
            server s1 %s check inter 150 fall 1 rise 1
        """ % o.addr)
        self.wait_checks(o, 1)
        self.assertEqual(who(self.addr), "s1")
        health(o, 500)
        self.wait_line(r"has no server available")
        lines = check_lines(self.proxy)
        self.assertEqual(lines, [
            'Server be/s1 is DOWN, reason: Layer7 wrong status, code: 500, info: "Internal Server Error", '
            'check duration: Nms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, '
            '0 remaining in queue.',
            "backend 'be' has no server available!"])
        n = o.requests
        t0 = time.monotonic()
        r = H.http(self.addr, path="/x")
        self.assertEqual(r.status, 503)
        self.assertLess(time.monotonic() - t0, scaled(0.5), "503 not immediate")
        # no traffic reached the origin, only checks
        self.assertEqual([x.path for x in o.log[n:]], ["/healthz"] * len(o.log[n:]))
        health(o, 200)
        self.wait_line(r"Server be/s1 is UP")
        self.assertEqual(who(self.addr), "s1")

    def test_log_lines_with_a_backup_server(self):
        # the words HAProxy uses for backup servers, and "Running on
        # backup." while only backups are left
        o = self.origin(name="s1")
        o2 = self.origin(name="s2")
        o.route("/healthz", Sequence([200, 503]))
        o2.route("/healthz", Sequence([200, 200, 200, 200, 200, 200, 500]))
        self.start_checks("""
            option httpchk GET /healthz
            option log-health-checks
            server s1 %s check inter 100 rise 1 fall 1
            server s2 %s check inter 100 rise 1 fall 1 backup
        """ % (o.addr, o2.addr))
        self.wait_line(r"has no server available", timeout=8)
        hc = "Health check for "
        ok = "reason: Layer7 check passed, code: 200, check duration: Nms"
        self.assertEqual(check_lines(self.proxy), [
            hc + "server be/s1 succeeded, %s, status: 1/1 UP." % ok,
            hc + "backup server be/s2 succeeded, %s, status: 1/1 UP." % ok,
            hc + 'server be/s1 failed, reason: Layer7 wrong status, code: 503, info: "Service Unavailable", '
                 'check duration: Nms, status: 0/1 DOWN.',
            "Server be/s1 is DOWN. 0 active and 1 backup servers left. Running on backup. "
            "0 sessions active, 0 requeued, 0 remaining in queue.",
            hc + 'backup server be/s2 failed, reason: Layer7 wrong status, code: 500, '
                 'info: "Internal Server Error", check duration: Nms, status: 0/1 DOWN.',
            "Backup Server be/s2 is DOWN. 0 active and 0 backup servers left. 0 sessions active, "
            "0 requeued, 0 remaining in queue.",
            "backend 'be' has no server available!",
        ])

    def test_backup_comes_up_while_primaries_are_down(self):
        o = self.origin(name="s1")
        o2 = self.origin(name="s2")
        health(o, 503)
        o2.route("/healthz", Sequence([503, 200]))
        self.start_checks("""
            option httpchk GET /healthz
            server s1 %s check inter 100 rise 1 fall 1
            server s2 %s check inter 100 rise 1 fall 1 backup
        """ % (o.addr, o2.addr))
        lines = self.wait_line(r"Backup Server be/s2 is UP")
        self.assertEqual(lines, [
            "Backup Server be/s2 is UP, reason: Layer7 check passed, code: 200, check duration: Nms. "
            "0 active and 1 backup servers online. Running on backup. 0 sessions requeued, "
            "0 total in queue."])
        self.assertEqual(self.owners(3), ["s2"] * 3)


# --------------------------------------------------------------------------
# Timeouts
# --------------------------------------------------------------------------

class Timeouts(ChecksCase):

    def setUp(self):
        super().setUp()
        self.o = self.origin(name="s1")
        self.o.route("/slow", Delay(8, Fixed(b"late")))

    def first_failure(self):
        line = self.wait_line(r"Health check for server be/s1 failed", timeout=6)[0]
        return line, durations(self.proxy)[0]

    def test_connection_refused_is_l4con(self):
        dead = DeadPort()
        self.start_checks("""
            option log-health-checks
            server s1 %s check inter 200
        """ % dead.addr)
        line, _ = self.first_failure()
        self.assertEqual(line, 'Health check for server be/s1 failed, reason: Layer4 connection problem, '
                               'info: "Connection refused", check duration: Nms, status: 0/2 DOWN.')

    def test_unanswered_connect_is_l4tout_after_inter(self):
        bh = BlackHole()
        self.addCleanup(bh.close)
        self.start_checks("""
            option log-health-checks
            timeout connect 5s
            server s1 %s check inter 400
        """ % bh.addr)
        line, d = self.first_failure()
        self.assertEqual(line, "Health check for server be/s1 failed, reason: Layer4 timeout, "
                               "check duration: Nms, status: 0/2 DOWN.")
        self.assertGreaterEqual(d, 380)
        self.assertLessEqual(d, scaled(700))

    def test_connect_timeout_with_timeout_check_is_min_of_connect_and_inter(self):
        bh = BlackHole()
        self.addCleanup(bh.close)
        self.start_checks("""
            option log-health-checks
            timeout connect 200
            timeout check 3s
            server s1 %s check inter 1s
        """ % bh.addr)
        line, d = self.first_failure()
        self.assertIn("reason: Layer4 timeout", line)
        self.assertGreaterEqual(d, 190)
        self.assertLessEqual(d, scaled(390))

    def test_slow_answer_is_l7tout_after_inter(self):
        # without "timeout check", inter bounds the whole check
        self.start_checks("""
            option httpchk GET /slow
            option log-health-checks
            server s1 %s check inter 400
        """ % self.o.addr)
        line, d = self.first_failure()
        self.assertEqual(line, "Health check for server be/s1 failed, reason: Layer7 timeout, "
                               "check duration: Nms, status: 0/2 DOWN.")
        self.assertGreaterEqual(d, 380)
        self.assertLessEqual(d, scaled(700))
        self.wait_line(r"has no server available")
        self.assertEqual(who(self.addr), 503)

    def test_timeout_check_longer_than_inter(self):
        # connected: the answer may take "timeout check", more than inter
        self.start_checks("""
            option httpchk GET /slow
            option log-health-checks
            timeout check 900
            server s1 %s check inter 300
        """ % self.o.addr)
        line, d = self.first_failure()
        self.assertIn("reason: Layer7 timeout", line)
        self.assertGreaterEqual(d, 880)
        self.assertLessEqual(d, scaled(1500))

    @proxyd_only("HAProxy 2.6.12 waits for max(inter, timeout check) once connected: with "
                 "inter 1s and timeout check 150ms the L7 timeout comes after 1s")
    def test_timeout_check_shorter_than_inter(self):
        self.start_checks("""
            option httpchk GET /slow
            option log-health-checks
            timeout check 150
            server s1 %s check inter 1s
        """ % self.o.addr)
        line, d = self.first_failure()
        self.assertIn("reason: Layer7 timeout", line)
        self.assertGreaterEqual(d, 140)
        self.assertLessEqual(d, scaled(290))

    def test_timed_out_server_comes_back(self):
        self.start_checks("""
            option httpchk GET /healthz
            server s1 %s check inter 300 rise 1
        """ % self.o.addr)
        self.o.route("/healthz", Delay(8, Fixed(b"late")))
        self.wait_line(r"Server be/s1 is DOWN, reason: Layer7 timeout, check duration: Nms\.")
        health(self.o, 200)
        self.wait_line(r"Server be/s1 is UP", timeout=3)
        self.assertEqual(who(self.addr), "s1")


# --------------------------------------------------------------------------
# HTTP checks
# --------------------------------------------------------------------------

class HttpCheckRequest(ChecksCase):
    """What the backend receives."""

    def capture(self, backend_lines, server_opts="check inter 300"):
        """The first check's bytes, seen by a raw server that answers 200."""
        def handler(conn, rec):
            data = bytearray()
            while b"\r\n\r\n" not in data:
                d = rec.recv()
                if not d:
                    break
                data += d
            head, _, body = bytes(data).partition(b"\r\n\r\n")
            m = re.search(rb"(?im)^content-length: *(\d+)", head)
            want = int(m.group(1)) if m else 0
            while len(body) < want:
                d = rec.recv()
                if not d:
                    break
                body += d
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        srv = self.tcp_server(handler)
        self.start_checks(backend_lines + "\nserver s1 %s %s" % (srv.addr, server_opts))
        self.assertTrue(srv.wait_conns(1) and srv.wait_done(1), "no check came")
        return bytes(srv.conns[0].data)

    def parse(self, raw):
        head, sep, body = raw.partition(b"\r\n\r\n")
        self.assertTrue(sep, raw)
        lines = head.split(b"\r\n")
        start, headers = H.parse_head(lines)
        return start, headers, body

    def test_default_request(self):
        self.assertEqual(self.capture("option httpchk"), b"OPTIONS / HTTP/1.0\r\n\r\n")

    def test_http_1_0_body(self):
        raw = self.capture("""
            option httpchk
            http-check send meth POST body hi
        """)
        self.assertEqual(raw, b"POST / HTTP/1.0\r\ncontent-length: 2\r\n\r\nhi")

    def test_option_httpchk_uri(self):
        start, _, _ = self.parse(self.capture("option httpchk /status?full=1"))
        self.assertEqual(start, "OPTIONS /status?full=1 HTTP/1.0")

    def test_option_httpchk_method_uri_version(self):
        start, headers, _ = self.parse(self.capture("option httpchk GET /h HTTP/1.1"))
        self.assertEqual(start, "GET /h HTTP/1.1")
        self.assertTrue(H.has_token(headers, "connection", "close"), headers)

    def test_option_httpchk_headers_hidden_in_the_version(self):
        # the old way of adding a Host header, still accepted
        start, headers, _ = self.parse(self.capture(r"option httpchk GET /h HTTP/1.1\r\nHost:\ www.example"))
        self.assertEqual(start, "GET /h HTTP/1.1")
        self.assertEqual(H.hget(headers, "host"), "www.example")

    def test_http_check_send(self):
        raw = self.capture("""
            option httpchk
            http-check send meth POST uri /hc?x=1 ver HTTP/1.1 hdr Host www.example hdr X-Check "yes please" body hello
        """)
        start, headers, body = self.parse(raw)
        self.assertEqual(start, "POST /hc?x=1 HTTP/1.1")
        self.assertEqual(H.hget(headers, "host"), "www.example")
        self.assertEqual(H.hget(headers, "x-check"), "yes please")
        self.assertEqual(H.hget(headers, "content-length"), "5")
        self.assertEqual(body, b"hello")
        # the headers come in the configured order
        names = [k.lower() for k, _ in headers]
        self.assertLess(names.index("host"), names.index("x-check"))

    def test_http_check_send_through_an_origin(self):
        # an ordinary HTTP/1.1 server parses the check request
        o = self.origin(name="s1")
        self.start_checks("""
            option httpchk
            http-check send meth PUT uri /check ver HTTP/1.1 hdr Host h.example body '{"a":1}'
            server s1 %s check inter 300
        """ % o.addr)
        self.wait_checks(o, 1, path="/check")
        r = o.log[0]
        self.assertEqual((r.method, r.uri, r.version), ("PUT", "/check", "HTTP/1.1"))
        self.assertEqual(r.header("host"), "h.example")
        self.assertEqual(r.body, b'{"a":1}')
        self.assertEqual(o.errors, [])

    @known_bug("a later 'option httpchk' drops the headers set by 'http-check send'; HAProxy "
               "keeps them (and takes the method and URI of the option)")
    def test_option_httpchk_after_http_check_send_keeps_the_headers(self):
        start, headers, _ = self.parse(self.capture("""
            option httpchk
            http-check send meth GET uri /first hdr X-A 1
            option httpchk HEAD /second
        """))
        self.assertEqual(start, "HEAD /second HTTP/1.0")
        self.assertEqual(H.hget(headers, "x-a"), "1")

    @known_bug("'http-check send' before 'option httpchk' is refused ('http-check' rules need "
               "'option httpchk' first); HAProxy accepts the rules in any order")
    def test_http_check_send_before_option_httpchk(self):
        start, headers, _ = self.parse(self.capture("""
            http-check send meth GET uri /first hdr X-A 1
            option httpchk
        """))
        self.assertEqual(start, "GET /first HTTP/1.0")
        self.assertEqual(H.hget(headers, "x-a"), "1")

    def test_httpchk_from_defaults(self):
        o = self.origin(name="s1")
        self.start_checks("server s1 %s check inter 300" % o.addr,
                          defaults="option httpchk GET /from-defaults")
        self.wait_checks(o, 1, path="/from-defaults")


class HttpCheckExpect(ChecksCase):
    """http-check expect: the first check's line with option
    log-health-checks, for each kind of rule."""

    def first_check(self, expect, status=200, body=b"ok", reason=None):
        o = self.origin(name="s1")
        o.route("/healthz", Fixed(body, status=status, reason=reason or REASONS.get(status, "Other")))
        proxy = self.start_checks("""
            option httpchk GET /healthz
            %s
            option log-health-checks
            server s1 %s check inter 300
        """ % (("http-check expect " + expect) if expect else "", o.addr))
        line = self.wait_line(r"Health check for server be/s1")[0]
        proxy.stop()
        return line

    OK = "Health check for server be/s1 succeeded, reason: Layer7 check passed, code: %d, " \
         "check duration: Nms, status: 3/3 UP."
    STS = 'Health check for server be/s1 failed, reason: Layer7 wrong status, code: %d, info: "%s", ' \
          'check duration: Nms, status: 0/2 DOWN.'
    RSP = 'Health check for server be/s1 failed, reason: Layer7 invalid response, info: "%s", ' \
          'check duration: Nms, status: 0/2 DOWN.'

    def run_cases(self, cases):
        for expect, status, body, result in cases:
            with self.subTest(expect=expect, status=status, body=body):
                self.assertEqual(self.first_check(expect, status, body), result)

    def test_default_is_2xx_or_3xx(self):
        self.run_cases([
            (None, 200, b"ok", self.OK % 200),
            (None, 302, b"", self.OK % 302),
            (None, 404, b"", self.STS % (404, "Not Found")),
            (None, 500, b"", self.STS % (500, "Internal Server Error")),
        ])

    def test_status_lists_and_ranges(self):
        self.run_cases([
            ("status 200", 200, b"", self.OK % 200),
            ("status 200", 204, b"", self.STS % (204, "No Content")),
            ("status 200-299", 205, b"", self.OK % 205),
            ("status 200,301-302", 302, b"", self.OK % 302),
            ("status 200,301-302", 303, b"", self.STS % (303, "See Other")),
            ("status 404", 404, b"", self.OK % 404),
            ("! status 500", 503, b"", self.OK % 503),
            ("! status 500-599", 503, b"", self.STS % (503, "Service Unavailable")),
        ])

    def test_rstatus(self):
        self.run_cases([
            ("rstatus ^2[0-9]5$", 205, b"", self.OK % 205),
            ("rstatus ^2[0-9]5$", 200, b"", self.STS % (200, "OK")),
            ("! rstatus ^5", 404, b"", self.OK % 404),
            ("! rstatus ^5", 503, b"", self.STS % (503, "Service Unavailable")),
        ])

    def test_string_and_rstring(self):
        self.run_cases([
            ("string alive", 200, b"i am alive\n", self.OK % 200),
            ("string alive", 200, b"dead\n", self.RSP % "HTTP content check did not match"),
            ("rstring '^ok [0-9]+$'", 200, b"ok 42", self.OK % 200),
            ("rstring '^ok [0-9]+$'", 200, b"ok x", self.RSP % "HTTP content check did not match"),
            # a body match ignores the status
            ("string alive", 500, b"alive", self.OK % 500),
        ])

    def test_negated_string_and_rstring(self):
        self.run_cases([
            ("! string maintenance", 200, b"all good", self.OK % 200),
            ("! string maintenance", 200, b"in maintenance", self.RSP % "HTTP check matched unwanted content"),
            ("! rstring ^err", 200, b"error", self.RSP % "HTTP check matched unwanted content"),
        ])

    def test_several_rules(self):
        # every rule must pass, in order
        self.run_cases([
            ("status 200\n http-check expect string ok", 200, b"all ok", self.OK % 200),
            ("status 200\n http-check expect string ok", 200, b"bad", self.RSP % "HTTP content check did not match"),
            ("status 200\n http-check expect string ok", 201, b"ok", self.STS % (201, "Other")),
        ])

    def test_status_line_without_headers(self):
        # the reason phrase ends at the status line's CR, which is also
        # where the head ends
        def handler(conn, rec):
            rec.recv()
            conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\n\r\n")
            rec.read_all(0.5)
        o = self.tcp_server(handler)
        self.start_checks("""
            option httpchk
            option log-health-checks
            server s1 %s check inter 300
        """ % o.addr)
        self.assertEqual(self.wait_line(r"Health check for server be/s1")[0],
                         self.STS % (503, "Service Unavailable"))

    def test_not_http(self):
        def handler(conn, rec):
            rec.recv()
            conn.sendall(b"hello there\r\n\r\n")
        o = self.tcp_server(handler)
        self.start_checks("""
            option httpchk
            option log-health-checks
            server s1 %s check inter 300
        """ % o.addr)
        line = self.wait_line(r"Health check for server be/s1")[0]
        self.assertRegex(line, r"^Health check for server be/s1 failed, reason: Layer7 invalid response, ")


class DisableOn404(ChecksCase):

    def start(self, extra="", log=True):
        self.o = self.origin(name="s1")
        self.o2 = self.origin(name="s2")
        self.start_checks("""
            option httpchk GET /healthz
            http-check disable-on-404
            %s
            %s
            server s1 %s check inter 150 rise 2 fall 3
            server s2 %s
        """ % (extra, "option log-health-checks" if log else "", self.o.addr, self.o2.addr))
        self.wait_checks(self.o, 1)
        time.sleep(0.1)

    def test_404_stops_new_traffic_and_200_brings_it_back(self):
        self.start()
        self.assertEqual(sorted(self.owners(4)), ["s1", "s1", "s2", "s2"])
        health(self.o, 404)
        self.wait_line(r"conditionally succeeded|Layer7 check conditionally passed")
        time.sleep(0.05)
        self.assertEqual(self.owners(6), ["s2"] * 6)
        self.assertNoLine(r"is DOWN")
        health(self.o, 200)
        self.wait_line(r"Server be/s1 is UP")
        time.sleep(0.05)
        self.assertEqual(sorted(self.owners(4)), ["s1", "s1", "s2", "s2"])
        self.assertEqual(check_lines(self.proxy), [
            "Health check for server be/s1 succeeded, reason: Layer7 check passed, code: 200, "
            "check duration: Nms, status: 3/3 UP.",
            "Health check for server be/s1 conditionally succeeded, reason: Layer7 check conditionally "
            "passed, code: 404, check duration: Nms, status: 3/3 UP.",
            "Server be/s1 is stopping. 1 active and 0 backup servers online. 0 sessions requeued, "
            "0 total in queue.",
            "Health check for server be/s1 succeeded, reason: Layer7 check passed, code: 200, "
            "check duration: Nms, status: 3/3 UP.",
            "Server be/s1 is UP. 2 active and 0 backup servers online. 0 sessions requeued, "
            "0 total in queue.",
        ])

    def test_404_does_not_take_the_server_down(self):
        self.start(log=False)
        health(self.o, 404)
        self.wait_checks(self.o, len(check_times(self.o)) + 4)
        self.assertNoLine(r"is DOWN")
        self.assertEqual(self.owners(4), ["s2"] * 4)
        health(self.o, 200)
        self.wait_checks(self.o, len(check_times(self.o)) + 2)
        time.sleep(0.05)
        self.assertEqual(sorted(self.owners(4)), ["s1", "s1", "s2", "s2"])

    def test_404_keeps_a_down_server_down(self):
        self.start()
        health(self.o, 500)
        self.wait_line(r"Server be/s1 is DOWN")
        health(self.o, 404)
        self.wait_checks(self.o, len(check_times(self.o)) + 4)
        self.assertNoLine(r"Server be/s1 is UP")
        self.assertNoLine(r"is stopping")

    def test_404_with_an_expect_rule(self):
        self.start(extra="http-check expect status 200")
        health(self.o, 404)
        self.wait_checks(self.o, len(check_times(self.o)) + 4)
        self.assertNoLine(r"is DOWN")
        self.assertEqual(self.owners(4), ["s2"] * 4)

    def test_last_server_in_nolb(self):
        o = self.origin(name="s1")
        self.start_checks("""
            option httpchk GET /healthz
            http-check disable-on-404
            server s1 %s check inter 150
        """ % o.addr)
        self.wait_checks(o, 1)
        health(o, 404)
        self.wait_line(r"is stopping")
        self.assertEqual(check_lines(self.proxy), [
            "Server be/s1 is stopping, reason: Layer7 check conditionally passed, code: 404, "
            "check duration: Nms. 0 active and 0 backup servers online. 0 sessions requeued, "
            "0 total in queue.",
            "backend 'be' has no server available!"])
        self.assertEqual(who(self.addr), 503)
        # then DOWN: no second alert, the backend was already empty
        health(o, 500)
        self.wait_line(r"is DOWN")
        self.assertEqual(len(self.wait_line(r"no server available")), 1)
        health(o, 200)
        self.wait_line(r"is UP")
        self.assertEqual(who(self.addr), "s1")


if __name__ == "__main__":
    unittest.main()
