"""nbthread > 1: many concurrent clients spread over the threads (SO_REUSEPORT
sockets, "show activity"), exact counters, roundrobin shares, leastconn
counts and server maxconn across threads, health-check and admin state
changes seen by every thread, stick tables shared by the threads, cpu-map
forms. Runs against HAProxy too (--oracle haproxy) except where noted."""

import threading
import time

import harness as H
from harness import BASE_DEFAULTS, Fixed, ProxyTestCase, free_port, http, indent, render, scaled
from test_admin_socket import cli as admin_cli


def cli(path, cmd):
    return admin_cli(path, cmd + "\n")


def stat_rows(path):
    """show stat as {(pxname, svname): {column: value}}."""
    lines = cli(path, "show stat").splitlines()
    cols = lines[0].lstrip("# ").split(",")
    rows = {}
    for ln in lines[1:]:
        if not ln.strip():
            continue
        v = ln.split(",")
        rows[(v[0], v[1])] = dict(zip(cols, v))
    return rows


def activity(path, name):
    """A "show activity" line: (total, [per thread])."""
    for ln in cli(path, "show activity").splitlines():
        if ln.startswith(name + ":"):
            head, _, rest = ln.partition("[")
            total = int(head.split(":")[1])
            return total, [int(x) for x in rest.rstrip("] ").split()]
    raise AssertionError("no %r line in show activity" % name)


class Counting(Fixed):
    """Counts the requests in progress at this origin (the proxy's
    concurrency towards it), waiting <delay> before answering."""

    def __init__(self, delay):
        super().__init__(body=b"slow\n")
        self.delay = delay
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0

    def respond(self, origin, conn, req):
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        origin._sleep(self.delay)
        # before the response: the proxy may send the next request as soon
        # as it has this one's answer
        with self.lock:
            self.now -= 1
        return super().respond(origin, conn, req)


def run_clients(addr, nb_clients, per_client, keepalive_every=2, path="/r"):
    """<nb_clients> threads sending <per_client> requests each: one client
    in <keepalive_every> keeps its connection, the others open one per
    request. Returns (errors, number of connections opened)."""
    errors = []
    conns = [0]
    lock = threading.Lock()

    def client(i):
        keep = i % keepalive_every == 0
        c = None
        try:
            for j in range(per_client):
                uri = "%s?c=%d&n=%d" % (path, i, j)
                if c is None:
                    c = H.HTTPConn(addr, timeout=scaled(20))
                    with lock:
                        conns[0] += 1
                r = c.request("GET", uri, headers={"Connection": "keep-alive" if keep else "close"})
                if r.status != 200:
                    errors.append("%s: status %d" % (uri, r.status))
                elif path == "/r" and r.json()["uri"] != uri:
                    errors.append("%s: got the answer of %s" % (uri, r.json()["uri"]))
                if not keep:
                    c.close()
                    c = None
        except Exception as e:  # noqa: BLE001 - reported as a failure
            errors.append("client %d: %r" % (i, e))
        finally:
            if c is not None:
                c.close()

    ts = [threading.Thread(target=client, args=(i,)) for i in range(nb_clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(scaled(60))
    return errors, conns[0]


class Threads(ProxyTestCase):

    def start(self, nbthread, backend, nb_origins=2, origin_kw=None, extra_global=""):
        self.origins = [self.origin(name="s%d" % (i + 1), **(origin_kw or {})) for i in range(nb_origins)]
        self.sock = self.path("admin.sock")
        port = free_port()
        servers = "".join("    server s%d %s%s\n" % (i + 1, o.addr, "{{srv}}")
                          for i, o in enumerate(self.origins))
        cfg = ("global\n    maxconn 2000\n    nbthread %d\n    stats socket %s level admin\n%s"
               % (nbthread, self.sock, indent(extra_global))
               + BASE_DEFAULTS
               + "frontend fe\n    bind 127.0.0.1:%d\n    default_backend be\n" % port
               + "backend be\n" + indent(backend) + servers)
        self.cfg = cfg
        return cfg, ("127.0.0.1", port)

    def go(self, cfg, addr, srv=""):
        cfg = cfg.replace("{{srv}}", srv)
        self.proxy = self.start_proxy(cfg, wait_for=[addr, self.sock])
        return addr

    def wait_idle(self):
        """scur and qcur back to 0 everywhere (bounded wait): the clients
        have closed, each thread sees it at its own pace."""
        deadline = time.monotonic() + scaled(5)
        while True:
            rows = stat_rows(self.sock)
            busy = {k: (r["scur"], r["qcur"]) for k, r in rows.items()
                    if k[0] in ("be", "fe") and (r["scur"] not in ("0", "") or r["qcur"] not in ("0", ""))}
            if not busy or time.monotonic() > deadline:
                return rows, busy
            time.sleep(0.05)

    def load(self, nbthread):
        cfg, addr = self.start(nbthread, "balance roundrobin\n")
        self.go(cfg, addr)
        nb_clients, per_client = 24, 60
        errors, conns = run_clients(addr, nb_clients, per_client)
        self.assertEqual(errors[:5], [])
        total = nb_clients * per_client
        rows, busy = self.wait_idle()
        self.assertEqual(busy, {})
        fe, be = rows[("fe", "FRONTEND")], rows[("be", "BACKEND")]
        s1, s2 = rows[("be", "s1")], rows[("be", "s2")]
        self.assertEqual(int(fe["req_tot"]), total)
        self.assertEqual(int(fe["stot"]), conns)
        self.assertEqual(int(be["stot"]), total)
        self.assertEqual(int(s1["stot"]) + int(s2["stot"]), total)
        self.assertEqual(int(s1["lbtot"]) + int(s2["lbtot"]), total)
        # one balancer for all threads: strict alternation
        self.assertLessEqual(abs(int(s1["lbtot"]) - int(s2["lbtot"])), 1)
        self.assertEqual(self.origins[0].requests + self.origins[1].requests, total)
        self.assertEqual(int(fe["scur"]), 0)
        if not H.ORACLE:
            acc, per = activity(self.sock, "accepted")
            self.assertEqual(len(per), nbthread)
            self.assertEqual(acc, conns)
            # the kernel spreads the connections over the threads' sockets
            self.assertTrue(all(n > 0 for n in per), per)

    def test_load_2_threads(self):
        self.load(2)

    def test_load_4_threads(self):
        self.load(4)

    def test_leastconn_maxconn_across_threads(self):
        cfg, addr = self.start(4, "balance leastconn\ntimeout queue 20s\n")
        self.go(cfg, addr, srv=" maxconn 2")
        slow = [Counting(0.1), Counting(0.1)]
        for o, h in zip(self.origins, slow):
            o.route("/slow", h)
        errors, _ = run_clients(addr, 16, 5, keepalive_every=2, path="/slow")
        self.assertEqual(errors[:5], [])
        # never more than maxconn at each server, though the threads queue
        # (HAProxy 2.6 was seen going one over it here: proxyd is stricter)
        if not H.ORACLE:
            self.assertLessEqual(slow[0].peak, 2)
            self.assertLessEqual(slow[1].peak, 2)
            self.assertEqual(slow[0].peak + slow[1].peak, 4)
        rows, busy = self.wait_idle()
        self.assertEqual(busy, {})
        self.assertEqual(int(rows[("be", "BACKEND")]["stot"]), 80)
        self.assertLessEqual(int(rows[("be", "s1")]["smax"]), 2)
        self.assertLessEqual(int(rows[("be", "s2")]["smax"]), 2)
        # the counts leastconn balances on are back to 0: both servers are
        # picked again in turn
        for i in range(4):
            self.assertEqual(http(addr, "GET", "/x%d" % i).status, 200)
        self.assertEqual(sorted(len([r for r in o.log if r.path.startswith("/x")]) for o in self.origins), [2, 2])

    def test_check_down_seen_by_all_threads(self):
        cfg, addr = self.start(4, "balance roundrobin\n")
        self.go(cfg, addr, srv=" check inter 100ms fall 1 rise 1")
        errors, _ = run_clients(addr, 8, 10)
        self.assertEqual(errors[:5], [])
        self.origins[1].stop()
        deadline = time.monotonic() + scaled(5)
        while stat_rows(self.sock)[("be", "s2")]["status"] != "DOWN":
            self.assertLess(time.monotonic(), deadline, "s2 never marked DOWN")
            time.sleep(0.05)
        before = stat_rows(self.sock)[("be", "s2")]
        errors, _ = run_clients(addr, 8, 20, keepalive_every=3)
        self.assertEqual(errors[:5], [])
        after = stat_rows(self.sock)[("be", "s2")]
        # no thread sent anything to the DOWN server
        self.assertEqual(after["stot"], before["stot"])
        self.assertEqual(after["econ"], before["econ"])
        self.assertEqual(after["wretr"], before["wretr"])

    def test_disable_server_all_threads(self):
        cfg, addr = self.start(4, "balance roundrobin\n")
        self.go(cfg, addr)
        self.assertEqual(cli(self.sock, "disable server be/s2").strip(), "")
        errors, _ = run_clients(addr, 8, 20)
        self.assertEqual(errors[:5], [])
        self.assertEqual(self.origins[1].requests, 0)
        self.assertEqual(self.origins[0].requests, 160)
        cli(self.sock, "enable server be/s2")
        errors, _ = run_clients(addr, 8, 10)
        self.assertEqual(errors[:5], [])
        self.assertGreater(self.origins[1].requests, 30)

    def test_stick_table_shared(self):
        cfg, addr = self.start(4, "balance roundrobin\nstick-table type ip size 100 expire 1m\nstick on src\n")
        self.go(cfg, addr)
        # the entry is stored once a first request reached its server
        self.assertEqual(http(addr, "GET", "/first").status, 200)
        errors, conns = run_clients(addr, 12, 10, keepalive_every=4)
        self.assertEqual(errors[:5], [])
        # one source address: one entry, one server, whatever the thread
        self.assertEqual(sorted([self.origins[0].requests, self.origins[1].requests]), [0, 121])
        out = cli(self.sock, "show table be")
        self.assertIn("used:1", out)
        self.assertEqual(len([ln for ln in out.splitlines() if "key=127.0.0.1" in ln]), 1)

    def test_global_maxconn_across_threads(self):
        """Three connections at most, whichever threads accept them."""
        cfg, addr = self.start(4, "")
        self.go(cfg.replace("maxconn 2000", "maxconn 3"), addr)
        conns = []
        for i in range(3):
            c = H.HTTPConn(addr)
            self.addCleanup(c.close)
            self.assertEqual(c.request("GET", "/c%d" % i).status, 200)
            conns.append(c)
        late = []
        for i in range(3):
            c = H.HTTPConn(addr)   # the kernel accepts it, proxyd must not
            self.addCleanup(c.close)
            c.send(c.build("GET", "/late%d" % i))
            c.settimeout(0.5)
            with self.assertRaises(TimeoutError, msg="served beyond global maxconn"):
                c.read_response()
            late.append(c)
        self.assertEqual(self.origins[0].requests + self.origins[1].requests, 3)
        # one leaving lets exactly one more in (any of them: each thread
        # has its own socket, the kernel chose which one waits where)
        conns[0].close()
        served = lambda: self.origins[0].requests + self.origins[1].requests
        deadline = time.monotonic() + scaled(5)
        while served() < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        self.assertEqual(served(), 4)
        conns[1].close()
        conns[2].close()
        for c in late:
            c.settimeout(scaled(5))
            self.assertEqual(c.read_response().status, 200)
        self.assertEqual(served(), 6)

    def test_frontend_maxconn_across_threads(self):
        """A frontend's maxconn is reserved before accept(), as the global
        one: bursts of new connections on 4 threads never go beyond it."""
        cfg, addr = self.start(4, "")
        cfg = cfg.replace("    default_backend be\n", "    maxconn 4\n    default_backend be\n", 1)
        self.go(cfg, addr)
        slow = [Counting(0.05), Counting(0.05)]
        for o, h in zip(self.origins, slow):
            o.route("/slow", h)
        errors, conns = run_clients(addr, 32, 4, keepalive_every=1000, path="/slow")
        self.assertEqual(errors[:5], [])
        rows, _ = self.wait_idle()
        fe = rows[("fe", "FRONTEND")]
        self.assertEqual(fe["slim"], "4")
        self.assertEqual(int(fe["smax"]), 4, "the frontend went beyond its maxconn")
        self.assertEqual(int(fe["stot"]), conns)

    def test_show_activity_one_thread(self):
        if H.ORACLE:
            self.skipTest("HAProxy prints many more lines")
        cfg, addr = self.start(1, "")
        self.go(cfg, addr)
        for i in range(3):
            self.assertEqual(http(addr, "GET", "/a").status, 200)
        self.assertEqual(activity(self.sock, "accepted"), (3, [3]))
        out = cli(self.sock, "show activity")
        self.assertTrue(out.startswith("thread_id: 1 (1..1)\ndate_now: "), out)


class CpuMap(ProxyTestCase):

    def check(self, lines):
        cfg = ("global\n    nbthread 2\n" + indent(lines) + BASE_DEFAULTS
               + "frontend fe\n    bind 127.0.0.1:%d\n    default_backend be\nbackend be\n"
               "    server s1 127.0.0.1:1\n" % free_port())
        p = self.write_file("c.cfg", cfg)
        return H.run_bin(["-c", "-f", p])

    def test_supported_forms(self):
        for form in ("cpu-map auto:1/1-2 0-1", "cpu-map 1/1 0", "cpu-map 1/all 0-1", "cpu-map 1/2 0,1"):
            rc, out, err = self.check(form)
            self.assertEqual(rc, 0, form + "\n" + err)
            self.assertNotIn("WARNING", err, form)

    @H.proxyd_only("HAProxy also maps processes (nbproc era forms)")
    def test_unsupported_form_warns(self):
        rc, out, err = self.check("cpu-map 2/1 0")
        self.assertEqual(rc, 0, err)
        self.assertIn("cpu-map", err)

    @H.proxyd_only("HAProxy's message differs")
    def test_bad_cpu_set(self):
        rc, out, err = self.check("cpu-map 1/1 x")
        self.assertNotEqual(rc, 0)
        self.assertIn("invalid CPU set 'x'", err)

    def test_threads_bound(self):
        """The threads run (and serve) with cpu-map applied."""
        o = self.origin()
        port = free_port()
        cfg = ("global\n    nbthread 2\n    cpu-map auto:1/1-2 0-1\n" + BASE_DEFAULTS
               + "frontend fe\n    bind 127.0.0.1:%d\n    default_backend be\nbackend be\n"
               "    server s1 %s\n" % (port, o.addr))
        p = self.start_proxy(cfg)
        self.assertEqual(http(("127.0.0.1", port), "GET", "/").status, 200)
        rc = p.stop()
        if not H.ORACLE:
            self.assertEqual(rc, 0, "the threads were not all stopped and joined")


if __name__ == "__main__":
    import unittest
    unittest.main()
