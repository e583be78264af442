"""Dynamic servers on the admin socket ("add server", "del server"), as
HAProxy 2.6: messages (some errors end without the empty line), the level
needed, which balance algorithms take them, the maintenance state they
start in, their rows in show stat / show servers state, checks started by
"enable health", and adding or deleting a server under continuous traffic
without a single failed request. Runs against HAProxy too (--oracle
haproxy) except where noted."""

import socket
import threading
import time

from harness import HTTPConn, http, proxyd_only, scaled
from test_admin_socket import CliCase


class Traffic:
    """Client threads sending requests (keep-alive, a new connection every
    few requests) until stopped; counts answers per origin and failures."""

    def __init__(self, addr, nthreads=3):
        self.addr = addr
        self.lock = threading.Lock()
        self.hits = {}
        self.failures = []
        self.stop_ev = threading.Event()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(nthreads)]

    def run(self):
        while not self.stop_ev.is_set():
            try:
                with HTTPConn(self.addr, scaled(5)) as c:
                    for _ in range(5):
                        r = c.request("GET", "/")
                        with self.lock:
                            if r.status != 200:
                                self.failures.append(r.status)
                            else:
                                o = r.header("X-Origin")
                                self.hits[o] = self.hits.get(o, 0) + 1
                        if self.stop_ev.is_set():
                            break
            except Exception as e:  # a reset, a timeout: a failed request
                with self.lock:
                    self.failures.append(repr(e))

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(scaled(10))

    def snapshot(self):
        with self.lock:
            return dict(self.hits)

    def wait_hits(self, name, n, timeout):
        deadline = time.monotonic() + scaled(timeout)
        while time.monotonic() < deadline:
            if self.snapshot().get(name, 0) >= n:
                return True
            time.sleep(0.02)
        return False


def state_lines(out):
    """show servers state: the server lines, as lists of words."""
    return [l.split() for l in out.splitlines()[2:] if l.strip()]


class Messages(CliCase):

    def setUp(self):
        super().setUp()
        self.start_cli(origins=1)
        self.o = self.origins[0]

    def test_add_then_del(self):
        self.assertEqual(self.run_cli("add server be/d1 %s" % self.o.addr), "New server registered.\n\n")
        self.assertEqual(self.run_cli("add server be/d1 %s" % self.o.addr),
                         "Already exists a server with the same name in backend.\n\n")
        self.assertEqual(self.run_cli("del server be/d1"), "Server deleted.\n")
        # the lookups end without the empty line, as HAProxy 2.6
        self.assertEqual(self.run_cli("del server be/d1"), "No such server.\n")
        self.assertEqual(self.run_cli("del server nob/d1"), "No such backend.\n")
        # "del server" answers without the empty line, "add server" with it
        # (HAProxy 2.6)
        self.assertEqual(self.run_cli("add server nob/d1 %s" % self.o.addr), "No such backend.\n")
        self.assertEqual(self.run_cli("add server be"), "Require 'backend/server'.\n")
        self.assertEqual(self.run_cli("del server be"), "Require 'backend/server'.\n")
        self.assertEqual(self.run_cli("add server be/d2"),
                         "'server' expects <name> and <addr>[:<port>] as arguments.\n\n")

    def test_refused_options(self):
        self.assertEqual(self.run_cli("add server be/d1 %s cookie x" % self.o.addr),
                         "'cookie' option is not accepted for dynamic server\n\n")
        out = self.run_cli("add server be/d1 %s nosuchoption" % self.o.addr)
        self.assertTrue(out.startswith("unknown keyword 'nosuchoption'"), out)
        self.assertTrue(out.endswith("\n\n"), out)
        # nothing was added
        self.assertEqual(self.run_cli("del server be/d1"), "No such server.\n")

    def test_tls_options(self):
        self.assertEqual(self.run_cli("add server be/t1 %s ssl verify none" % self.o.addr),
                         "New server registered.\n\n")
        self.assertEqual(self.run_cli("add server be/t2 %s ssl verify none sni str(x)" % self.o.addr)
                         .endswith("\n\n"), True)
        out = self.run_cli("add server be/t3 %s ssl" % self.o.addr)
        self.assertTrue(out.startswith("verify is enabled by default but no CA file specified."), out)
        self.assertEqual(self.run_cli("del server be/t1"), "Server deleted.\n")
        # t4 stays until exit: its TLS context is freed then
        self.assertEqual(self.run_cli("add server be/t4 %s ssl verify none" % self.o.addr),
                         "New server registered.\n\n")

    def test_only_servers_in_maintenance(self):
        self.run_cli("add server be/d1 %s" % self.o.addr)
        self.assertEqual(self.run_cli("enable server be/d1"), "\n")
        self.assertEqual(self.run_cli("del server be/d1"), "Only servers in maintenance mode can be deleted.\n")
        self.assertEqual(self.run_cli("disable server be/d1"), "\n")
        self.assertEqual(self.run_cli("del server be/d1"), "Server deleted.\n")
        # configured servers too
        self.assertEqual(self.run_cli("set server be/s1 state maint"), "\n")
        self.assertEqual(self.run_cli("del server be/s1"), "Server deleted.\n")

    def test_level_admin_needed(self):
        self.assertEqual(self.run_cli("add server be/d1 %s" % self.o.addr, self.osock), "Permission denied\n\n")
        self.assertEqual(self.run_cli("del server be/s1", self.osock), "Permission denied\n\n")
        self.assertEqual(self.run_cli("add server be/d1 %s" % self.o.addr, self.usock), "Permission denied\n\n")


class Algorithms(CliCase):

    def try_algo(self, lines):
        self.start_cli(backend_lines=lines + "server s1 %s\n" % "127.0.0.1:1", origins=0)
        return self.run_cli("add server be/d1 127.0.0.1:2")

    REFUSED = "Backend must use a dynamic load balancing to support dynamic servers.\n"

    def test_map_based_hash_refused(self):
        self.assertEqual(self.try_algo("balance source\n"), self.REFUSED)

    def test_static_rr_refused(self):
        self.assertEqual(self.try_algo("balance static-rr\n"), self.REFUSED)

    def test_consistent_hash_accepted(self):
        self.assertEqual(self.try_algo("balance uri\nhash-type consistent\n"), "New server registered.\n\n")

    def test_leastconn_accepted(self):
        self.assertEqual(self.try_algo("balance leastconn\n"), "New server registered.\n\n")

    def test_first_accepted(self):
        self.assertEqual(self.try_algo("balance first\n"), "New server registered.\n\n")


class Shown(CliCase):

    def test_state_and_stat_rows(self):
        self.start_cli(backend_lines="default-server weight 50\nserver s1 127.0.0.1:1\n", origins=1)
        o = self.origins[0]
        self.assertEqual(self.run_cli("add server be/d1 %s" % o.addr), "New server registered.\n\n")
        self.assertEqual(self.run_cli("add server be/d2 %s disabled weight 7" % o.addr), "New server registered.\n\n")
        st = {l[3]: l for l in state_lines(self.run_cli("show servers state be"))}
        self.assertEqual(sorted(st), ["d1", "d2", "s1"])
        # srv_id, op_state, admin_state, uweight: maintenance (forced; plus
        # configured with "disabled"), not the default-server's weight
        self.assertEqual((st["d1"][2], st["d1"][5], st["d1"][6], st["d1"][7]), ("2", "0", "1", "1"))
        self.assertEqual((st["d2"][2], st["d2"][5], st["d2"][6], st["d2"][7]), ("3", "0", "5", "7"))
        rows = {l.split(",")[1]: l.split(",") for l in self.run_cli("show stat").splitlines()
                if l.startswith("be,")}
        self.assertEqual(rows["d1"][17], "MAINT")
        self.assertEqual(rows["d1"][73], o.addr)   # addr column (admin level)
        self.run_cli("enable server be/d1")
        rows = {l.split(",")[1]: l.split(",") for l in self.run_cli("show stat").splitlines()
                if l.startswith("be,")}
        self.assertEqual(rows["d1"][17], "no check")
        self.run_cli("disable server be/d1")
        self.run_cli("del server be/d1")
        out = self.run_cli("show stat")
        self.assertNotIn("be,d1,", out)
        self.assertIn("be,d2,", out)
        # the freed id is given again
        self.run_cli("add server be/d3 %s" % o.addr)
        st = {l[3]: l for l in state_lines(self.run_cli("show servers state be"))}
        self.assertEqual(st["d3"][2], "2")

    def test_checks_start_with_enable_health(self):
        self.start_cli(backend_lines="server s1 127.0.0.1:1\n", origins=1)
        o = self.origins[0]
        self.run_cli("add server be/d1 %s check inter 200 rise 1 fall 1" % o.addr)
        self.run_cli("enable server be/d1")
        self.run_cli("enable health be/d1")
        deadline = time.monotonic() + scaled(5)
        status = None
        while time.monotonic() < deadline:
            rows = {l.split(",")[1]: l.split(",") for l in self.run_cli("show stat").splitlines()
                    if l.startswith("be,")}
            status = rows["d1"][17]
            if status.startswith("UP") and rows["d1"][36] == "L4OK":
                break
            time.sleep(0.1)
        self.assertTrue(status.startswith("UP"), status)
        self.assertEqual(rows["d1"][36], "L4OK")


class Balancing(CliCase):

    def spread(self, n):
        return [http(self.addr, "GET", "/k%d" % i).header("X-Origin") for i in range(n)]

    def test_consistent_hash_takes_the_new_server(self):
        self.start_cli(origins=2, backend_lines=lambda o: "balance uri\nhash-type consistent\nserver s1 %s\n"
                       % o[0].addr)
        self.assertEqual(set(self.spread(40)), {"s1"})
        self.assertEqual(self.run_cli("add server be/s2 %s" % self.origins[1].addr), "New server registered.\n\n")
        self.assertEqual(self.run_cli("enable server be/s2"), "\n")
        after = self.spread(40)
        self.assertEqual(set(after), {"s1", "s2"})
        # the same key goes to the same server every time
        self.assertEqual(after, self.spread(40))
        # and comes back to s1 once s2 is gone
        self.run_cli("disable server be/s2")
        self.assertEqual(self.run_cli("del server be/s2"), "Server deleted.\n")
        self.assertEqual(set(self.spread(40)), {"s1"})

    def test_leastconn_takes_the_new_server(self):
        self.start_cli(origins=2, backend_lines=lambda o: "balance leastconn\nserver s1 %s\n" % o[0].addr)
        self.run_cli("add server be/s2 %s" % self.origins[1].addr)
        self.run_cli("enable server be/s2")
        self.assertIn("s2", self.spread(10))


class UnderTraffic(CliCase):

    def delete_when_unused(self, target):
        """"del server" again until the streams still on the server (in
        maintenance) have finished: then it goes. HAProxy closes the idle
        connections to it after pool-purge-delay, 5s."""
        deadline = time.monotonic() + scaled(15)
        while True:
            out = self.run_cli("del server " + target)
            if out == "Server deleted.\n" or time.monotonic() > deadline:
                break
            self.assertEqual(out, "Server still has connections attached to it, cannot remove it.\n")
            time.sleep(0.01)
        self.assertEqual(out, "Server deleted.\n")

    def test_added_server_gets_its_share(self):
        self.start_cli(origins=2, configured=1)
        s2 = self.origins[1]
        t = Traffic(self.addr).start()
        self.addCleanup(t.stop)
        self.assertTrue(t.wait_hits("s1", 20, 5))
        self.assertEqual(self.run_cli("add server be/s2 %s" % s2.addr), "New server registered.\n\n")
        time.sleep(0.2)
        self.assertEqual(t.snapshot().get("s2", 0), 0)   # in maintenance until enabled
        self.assertEqual(self.run_cli("enable server be/s2"), "\n")
        before = t.snapshot()
        self.assertTrue(t.wait_hits("s2", 40, 10), t.snapshot())
        after = t.snapshot()
        t.stop()
        self.assertEqual(t.failures, [])
        d1 = after.get("s1", 0) - before.get("s1", 0)
        d2 = after.get("s2", 0) - before.get("s2", 0)
        # equal weights in round robin: about half each
        self.assertLess(abs(d1 - d2), max(10, (d1 + d2) // 4), (d1, d2))

    def test_disable_then_delete_under_traffic(self):
        self.start_cli(origins=2)
        t = Traffic(self.addr).start()
        self.addCleanup(t.stop)
        self.assertTrue(t.wait_hits("s2", 20, 5))
        self.assertEqual(self.run_cli("disable server be/s2"), "\n")
        self.delete_when_unused("be/s2")
        n2 = t.snapshot().get("s2", 0)
        n1 = t.snapshot().get("s1", 0)
        self.assertTrue(t.wait_hits("s1", n1 + 50, 10))
        t.stop()
        self.assertEqual(t.failures, [])
        self.assertEqual(t.snapshot().get("s2", 0), n2)
        self.assertNotIn("be,s2,", self.run_cli("show stat"))

    @proxyd_only("checks the stats dump resuming over a deleted server (proxyd's own cursor)")
    def test_delete_during_a_long_show_stat(self):
        n = 1200
        lines = "".join("server s%d 127.0.0.1:%d\n" % (i, 1000 + i) for i in range(1, n + 1))
        self.start_cli(backend_lines=lines, origins=0, global_lines="stats timeout 2m")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(scaled(5))
        self.addCleanup(s.close)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(self.sock)
        s.sendall(b"show stat\n")
        first = s.recv(2048)
        self.assertIn(b"pxname", first)
        time.sleep(0.2)   # the dump stops on a full buffer, its cursor on a server
        # 30 servers a line (64 commands at most per line)
        for lo in range(1, n + 1, 30):
            ids = range(lo, min(lo + 30, n + 1))
            out = self.run_cli("; ".join("disable server be/s%d; del server be/s%d" % (i, i) for i in ids))
            self.assertEqual(out, "\nServer deleted.\n" * len(ids))
        out = first
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
        self.assertTrue(out.endswith(b"\n\n"), out[-200:])
        rows = [l for l in out.decode().splitlines() if l.startswith("be,s")]
        # it did stop and resume: the servers deleted meanwhile are not shown
        self.assertLess(len(rows), n - 10)
        self.assertIn("be,BACKEND,", out.decode())
        self.assertEqual(self.run_cli("show servers state be").count("\n"), 3)


class UnderTrafficThreads(UnderTraffic):
    """The same with 4 threads: the other threads walk the server lists
    and keep idle connections to the servers; add and del make them wait
    (isolation) while the lists change."""

    def start_cli(self, *args, global_lines="", **kw):
        super().start_cli(*args, global_lines="nbthread 4\n" + global_lines, **kw)

    def test_add_and_delete_in_a_loop_under_traffic(self):
        self.start_cli(origins=3, configured=1)
        t = Traffic(self.addr, nthreads=4).start()
        self.addCleanup(t.stop)
        self.assertTrue(t.wait_hits("s1", 20, 5))
        rounds = 15
        for i in range(rounds):
            name = "d%d" % i
            origin = self.origins[1 + i % 2]
            self.assertEqual(self.run_cli("add server be/%s %s" % (name, origin.addr)),
                             "New server registered.\n\n")
            self.assertEqual(self.run_cli("enable server be/%s" % name), "\n")
            before = sum(t.snapshot().values())
            deadline = time.monotonic() + scaled(5)
            while sum(t.snapshot().values()) < before + 30 and time.monotonic() < deadline:
                time.sleep(0.01)
            self.assertEqual(self.run_cli("disable server be/%s" % name), "\n")
            self.delete_when_unused("be/%s" % name)
        n1 = t.snapshot().get("s1", 0)
        self.assertTrue(t.wait_hits("s1", n1 + 50, 10))
        t.stop()
        self.assertEqual(t.failures, [])
        hits = t.snapshot()
        self.assertGreater(hits.get("s2", 0) + hits.get("s3", 0), 0, hits)
        self.assertTrue(self.proxy.alive())
        stat = self.run_cli("show stat")
        self.assertNotIn("be,d", stat)
        rows = {l.split(",")[1]: l.split(",") for l in stat.splitlines() if l.startswith("be,")}
        self.assertEqual(sorted(rows), ["BACKEND", "s1"])
        self.assertEqual(rows["s1"][17], "no check")
