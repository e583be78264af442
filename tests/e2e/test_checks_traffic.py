"""Health checks, part 3: what server state changes do to traffic —
backup servers, on-marked-down shutdown-sessions, on-marked-up
shutdown-backup-sessions, queued requests when their server goes down —
and where checks go: "port", "addr", check-send-proxy, spread-checks.

Helpers come from test_checks.py."""

import re
import threading
import time
import unittest

import harness as H
from harness import Chunked, scaled
from test_checks import ChecksCase, Switch, check_times, health, known_bug, who


class Backups(ChecksCase):

    def start(self, extra=""):
        self.s1, self.s2 = self.origin(name="s1"), self.origin(name="s2")
        self.b1, self.b2 = self.origin(name="b1"), self.origin(name="b2")
        self.start_checks("""
            option httpchk GET /healthz
            %s
            default-server check inter 100 rise 1 fall 1
            server s1 %s
            server s2 %s
            server b1 %s backup
            server b2 %s backup
        """ % (extra, self.s1.addr, self.s2.addr, self.b1.addr, self.b2.addr))
        for o in (self.s1, self.s2, self.b1, self.b2):
            self.wait_checks(o, 1)

    def test_first_backup_only_when_every_primary_is_down(self):
        self.start()
        self.assertEqual(sorted(self.owners(4)), ["s1", "s1", "s2", "s2"])
        health(self.s1, 503)
        self.wait_line(r"Server be/s1 is DOWN")
        self.assertEqual(self.owners(4), ["s2"] * 4)
        health(self.s2, 503)
        self.wait_line(r"Server be/s2 is DOWN")
        # only the first backup takes traffic
        self.assertEqual(self.owners(6), ["b1"] * 6)
        self.assertNoLine(r"no server available")
        # the first backup down: the next one takes over
        health(self.b1, 503)
        self.wait_line(r"be/b1 is DOWN")
        self.assertEqual(self.owners(4), ["b2"] * 4)
        health(self.b1, 200)
        self.wait_line(r"be/b1 is UP")
        self.assertEqual(self.owners(4), ["b1"] * 4)
        # a primary back: backups stop taking new traffic
        health(self.s2, 200)
        self.wait_line(r"Server be/s2 is UP")
        self.assertEqual(self.owners(4), ["s2"] * 4)

    def test_allbackups(self):
        self.start("option allbackups")
        health(self.s1, 503)
        health(self.s2, 503)
        self.wait_line(r"Server be/s[12] is DOWN", count=2)
        self.assertEqual(sorted(self.owners(4)), ["b1", "b1", "b2", "b2"])

    def test_every_server_down(self):
        self.start()
        for o in (self.s1, self.s2, self.b1, self.b2):
            health(o, 500)
        self.wait_line(r"has no server available")
        self.assertEqual(len(self.wait_line(r"is DOWN", count=4)), 4)
        self.assertEqual(who(self.addr), 503)


class SlowStream(ChecksCase):
    """A response streamed slowly (a chunk every 100ms for ~6s) through
    the proxy, and the client's view of it."""

    def start_stream(self, path="/stream"):
        result = {}

        def client():
            try:
                with H.HTTPConn(self.addr, timeout=scaled(15)) as c:
                    r = c.request("GET", path)
                    result["resp"] = r
            except (OSError, EOFError) as e:
                result["error"] = e
            result["end"] = time.monotonic()

        t = threading.Thread(target=client, daemon=True)
        t.start()
        self.addCleanup(t.join, scaled(20))
        return t, result

    def traffic_log_line(self, request='"GET /stream HTTP/1.1"'):
        """The log line of the streamed request (start_checks(traffic_log=True))."""
        deadline = time.monotonic() + scaled(3)
        while True:
            logs = [l for l in self.proxy.stderr().splitlines() if request in l]
            if logs or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        self.assertEqual(len(logs), 1, self.proxy.stderr())
        return logs[0]

    def wait_streaming(self, origin, path="/stream"):
        ok = origin.wait_for(lambda o: any(r.path == path for r in o.log), timeout=scaled(5))
        self.assertTrue(ok, "the streamed request never reached %s" % origin.name)
        time.sleep(0.3)


class ShutdownSessions(SlowStream):

    def start(self, opts, traffic_log=False):
        self.o = self.origin(name="s1")
        self.o2 = self.origin(name="s2")
        self.o.route("/stream", Chunked([b"x" * 100] * 60, pause=0.1))
        self.start_checks("""
            option httpchk GET /healthz
            server s1 %s check inter 100 rise 1 fall 1 %s
            server s2 %s
        """ % (self.o.addr, opts, self.o2.addr), frontend="timeout client 30s",
                          traffic_log=traffic_log)
        self.wait_checks(self.o, 1)

    def test_on_marked_down_shutdown_sessions_cuts_the_stream(self):
        self.start("on-marked-down shutdown-sessions")
        t, result = self.start_stream()
        self.wait_streaming(self.o)
        t0 = time.monotonic()
        health(self.o, 503)
        self.wait_line(r"Server be/s1 is DOWN")
        t.join(scaled(5))
        self.assertFalse(t.is_alive(), "the stream went on after its server went down")
        self.assertLess(result["end"] - t0, scaled(1.5))
        r = result.get("resp")
        if r is not None:
            self.assertFalse(r.complete, "the response was completed")
            self.assertLess(r.body_len, 6000)
        line = self.wait_line(r"Server be/s1 is DOWN")[0]
        self.assertIn(". 1 active and 0 backup servers left. 1 sessions active, 0 requeued, "
                      "0 remaining in queue.", line)

    def test_termination_code(self):
        # 'D': killed because its server went DOWN
        self.start("on-marked-down shutdown-sessions", traffic_log=True)
        t, result = self.start_stream()
        self.wait_streaming(self.o)
        health(self.o, 503)
        self.wait_line(r"Server be/s1 is DOWN")
        t.join(scaled(5))
        self.assertRegex(self.traffic_log_line(), r" be/s1 .* DD-- ")

    def test_without_the_option_the_stream_completes(self):
        self.start("")
        t, result = self.start_stream()
        self.wait_streaming(self.o)
        health(self.o, 503)
        self.wait_line(r"Server be/s1 is DOWN")
        t.join(scaled(12))
        self.assertFalse(t.is_alive())
        r = result.get("resp")
        self.assertIsNotNone(r, result.get("error"))
        self.assertTrue(r.complete)
        self.assertEqual(r.body_len, 6000)


class ShutdownBackupSessions(SlowStream):

    def test_on_marked_up_shutdown_backup_sessions(self):
        o = self.origin(name="s1")
        b = self.origin(name="b1")
        b.route("/stream", Chunked([b"y" * 100] * 60, pause=0.1))
        sw = Switch(503)
        o.route("/healthz", sw)
        self.start_checks("""
            option httpchk GET /healthz
            server s1 %s check inter 100 rise 1 fall 1 on-marked-up shutdown-backup-sessions
            server b1 %s backup
        """ % (o.addr, b.addr), traffic_log=True)
        self.wait_line(r"Server be/s1 is DOWN")
        t, result = self.start_stream()
        self.wait_streaming(b)
        t0 = time.monotonic()
        sw.set(200)
        self.wait_line(r"Server be/s1 is UP")
        t.join(scaled(5))
        self.assertFalse(t.is_alive(), "the backup's stream went on after the primary came up")
        self.assertLess(result["end"] - t0, scaled(1.5))
        r = result.get("resp")
        if r is not None:
            self.assertFalse(r.complete)
        self.assertEqual(who(self.addr), "s1")
        # 'U': a backup's stream killed because an active server came UP
        self.assertRegex(self.traffic_log_line(), r" be/b1 .* UD-- ")


class Requeue(SlowStream):
    """balance uri with maxconn 1: a request waiting for its busy server,
    which then goes down."""

    def start(self, extra):
        self.o = self.origin(name="s1")
        self.o2 = self.origin(name="s2")
        self.sw = Switch(200)
        self.o.route("/healthz", self.sw)
        self.start_checks("""
            balance uri
            option httpchk GET /healthz
            timeout queue 10s
            %s
            server s1 %s check inter 100 rise 1 fall 1 maxconn 1
            server s2 %s check inter 100 rise 1 fall 1 maxconn 1
        """ % (extra, self.o.addr, self.o2.addr))
        self.wait_checks(self.o, 1)
        # a path that hashes to s1
        for i in range(64):
            if who(self.addr, "/p%d" % i) == "s1":
                self.path = "/p%d" % i
                return
        self.fail("no path hashes to s1")

    def run_queued(self):
        # one request holds s1's only slot for 3s, a second one queues
        t1, r1 = self.start_stream(self.path + "?delay=3")
        n = self.o.requests
        self.assertTrue(self.o.wait_for(lambda o: o.requests > n, timeout=scaled(5)))
        time.sleep(0.1)
        t2, r2 = self.start_stream(self.path)
        time.sleep(0.3)
        self.assertNotIn("resp", r2, "the second request did not wait")
        t0 = time.monotonic()
        self.sw.set(503)
        line = self.wait_line(r"Server be/s1 is DOWN")[0]
        t2.join(scaled(6))
        t1.join(scaled(6))
        return line, t0, r1, r2

    def test_redispatch_requeues_to_another_server(self):
        self.start("option redispatch")
        line, t0, r1, r2 = self.run_queued()
        self.assertIn("1 sessions active, 1 requeued, 0 remaining in queue.", line)
        self.assertIn("resp", r2, r2.get("error"))
        self.assertEqual(r2["resp"].header("x-origin"), "s2")
        self.assertLess(r2["end"] - t0, scaled(1.5), "the requeued request waited")
        self.assertEqual(r1["resp"].header("x-origin"), "s1")

    @known_bug("without option redispatch the queued request is moved anyway ('1 requeued'); "
               "HAProxy 2.6 only redistributes the queue of a server going down with option "
               "redispatch")
    def test_without_redispatch_the_request_stays_queued(self):
        self.start("")
        line, t0, r1, r2 = self.run_queued()
        self.assertIn("1 sessions active, 0 requeued, 1 remaining in queue.", line)


class QueueOnUp(SlowStream):

    def test_server_coming_up_takes_waiting_requests(self):
        # s1 is busy (maxconn 1), s2 down: a request waits in the
        # backend's queue until s2 comes up and takes it
        o = self.origin(name="s1")
        o2 = self.origin(name="s2")
        sw = Switch(503)
        o2.route("/healthz", sw)
        self.start_checks("""
            option httpchk GET /healthz
            timeout queue 10s
            server s1 %s check inter 100 rise 1 fall 1 maxconn 1
            server s2 %s check inter 100 rise 1 fall 1 maxconn 1
        """ % (o.addr, o2.addr))
        self.wait_line(r"Server be/s2 is DOWN")
        t1, r1 = self.start_stream("/a?delay=3")
        self.assertTrue(o.wait_for(lambda x: any(r.path == "/a" for r in x.log), timeout=scaled(5)))
        t2, r2 = self.start_stream("/b")
        time.sleep(0.3)
        self.assertNotIn("resp", r2)
        t0 = time.monotonic()
        sw.set(200)
        line = self.wait_line(r"Server be/s2 is UP")[0]
        self.assertIn(". 2 active and 0 backup servers online. 1 sessions requeued, 0 total in queue.", line)
        t2.join(scaled(3))
        self.assertEqual(r2["resp"].header("x-origin"), "s2")
        self.assertLess(r2["end"] - t0, scaled(1.0))


class CheckDestination(ChecksCase):

    def test_check_port(self):
        # traffic goes to s1's port; checks to another origin's port
        traffic = self.origin(name="s1")
        checks = self.origin(name="chk")
        health(traffic, 500)
        self.start_checks("""
            option httpchk GET /healthz
            server s1 %s check port %d inter 150 rise 1 fall 1
        """ % (traffic.addr, checks.port))
        self.wait_checks(checks, 2)
        self.assertEqual(check_times(traffic), [])
        self.assertEqual(who(self.addr), "s1")
        health(checks, 500)
        self.wait_line(r"Server be/s1 is DOWN")
        self.assertEqual(who(self.addr), 503)
        self.assertEqual(check_times(traffic), [])

    def test_check_addr(self):
        traffic = self.origin(name="s1")
        checks = self.origin(host="127.0.0.2", name="chk")
        health(traffic, 500)
        self.start_checks("""
            option httpchk GET /healthz
            server s1 %s check addr 127.0.0.2 port %d inter 150 rise 1 fall 1
        """ % (traffic.addr, checks.port))
        self.wait_checks(checks, 2)
        self.assertEqual(check_times(traffic), [])
        self.assertEqual(who(self.addr), "s1")
        health(checks, 500)
        self.wait_line(r"Server be/s1 is DOWN")

    def test_check_addr_without_port_uses_the_server_port(self):
        checks = self.origin(host="127.0.0.2", name="chk")
        self.start_checks("""
            option httpchk GET /healthz
            server s1 127.0.0.1:%d check addr 127.0.0.2 inter 150 rise 1 fall 1
        """ % checks.port)
        self.wait_checks(checks, 2)

    def test_tcp_check_connect_port(self):
        checks = self.origin(name="chk")
        traffic = self.origin(name="s1")
        self.start_checks("""
            option tcp-check
            tcp-check connect port %d
            tcp-check send "GET /healthz HTTP/1.0\\r\\n\\r\\n"
            tcp-check expect string "200 OK"
            server s1 %s check inter 150
        """ % (checks.port, traffic.addr))
        self.wait_checks(checks, 2)
        self.assertEqual(check_times(traffic), [])

    def test_check_send_proxy(self):
        def handler(conn, rec):
            while b"\r\n\r\n" not in rec.data:
                if not rec.recv():
                    return
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        srv = self.tcp_server(handler)
        self.start_checks("""
            option httpchk GET /healthz
            server s1 %s check check-send-proxy inter 300
        """ % srv.addr)
        self.assertTrue(srv.wait_conns(1) and srv.wait_done(1))
        data = bytes(srv.conns[0].data)
        m = re.match(rb"PROXY TCP4 127\.0\.0\.1 127\.0\.0\.1 (\d+) (\d+)\r\n", data)
        self.assertIsNotNone(m, data)
        self.assertEqual(int(m.group(2)), srv.port)
        self.assertTrue(data[m.end():].startswith(b"GET /healthz HTTP/1.0\r\n"), data)

    def test_check_send_proxy_with_a_tcp_check(self):
        srv = self.tcp_server(lambda conn, rec: rec.read_all(0.5))
        self.start_checks("server s1 %s check check-send-proxy inter 300" % srv.addr)
        self.assertTrue(srv.wait_conns(1) and srv.wait_done(1))
        self.assertRegex(bytes(srv.conns[0].data), rb"^PROXY TCP4 127\.0\.0\.1 127\.0\.0\.1 \d+ \d+\r\n$")

    def test_no_proxy_line_without_the_option(self):
        srv = self.tcp_server(lambda conn, rec: rec.read_all(0.5))
        self.start_checks("""
            option httpchk GET /healthz
            server s1 %s check inter 300
        """ % srv.addr)
        self.assertTrue(srv.wait_conns(1) and srv.wait_done(1))
        self.assertTrue(bytes(srv.conns[0].data).startswith(b"GET /healthz HTTP/1.0\r\n"),
                        srv.conns[0].data)


class SpreadChecks(ChecksCase):

    def intervals(self, spread, n=25):
        o = self.origin(name="s1")
        self.start_checks("""
            option httpchk GET /healthz
            server s1 %s check inter 200
        """ % o.addr, global_lines=("spread-checks %d" % spread) if spread is not None else "")
        self.wait_checks(o, n, timeout=n * 0.3 + 3)
        t = check_times(o)
        return [b - a for a, b in zip(t, t[1:])]

    def test_spread_checks_accepted_and_bounded(self):
        # +/- 50% of inter: 100 to 300ms, and checks do spread
        gaps = self.intervals(50)
        self.assertGreaterEqual(min(gaps), 0.09, gaps)
        self.assertLessEqual(max(gaps), scaled(0.33), gaps)
        self.assertGreater(max(gaps) - min(gaps), 0.06, "no randomness: %s" % gaps)

    def test_spread_checks_uses_the_whole_range(self):
        # 24 gaps all within 150-250ms (a half of the range) would be a
        # one in ten million chance with a uniform spread over 100-300ms
        gaps = self.intervals(50)
        self.assertTrue(any(g < 0.14 or g > 0.26 for g in gaps), gaps)

    def test_without_spread_checks_intervals_are_regular(self):
        gaps = self.intervals(None, n=10)
        for g in gaps:
            self.assertGreaterEqual(g, 0.19)
            self.assertLessEqual(g, scaled(0.26))


if __name__ == "__main__":
    unittest.main()
