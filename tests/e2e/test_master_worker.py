"""Master-worker mode (-W, -Ws, -S, "master-worker"): the master keeps the
listening sockets and watches one worker; SIGUSR2 or "reload" on the
master CLI re-executes the master, which starts a new worker and stops the
old one softly, without a failed request; a broken configuration at reload
keeps the old worker; server states and counters survive a reload; a dead
worker takes the master with it unless "no-exit-on-failure"; systemd
notifications with -Ws.

Every process is stopped by PID: the master by the harness, the workers it
forked (recorded as they are seen) in a cleanup once the master is gone."""

import contextlib
import os
import re
import signal
import socket
import threading
import time
import unittest

import harness as H
from logsink import Syslog

CFG = """\
global
    maxconn 1000
    nbthread 1
{global_lines}
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:{port}
    http-request return status 200 content-type text/plain string "{body}" unless {{ path /slow }}
{tail}"""


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def ppid_of(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("PPid:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def alive(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("State:"):
                    return "Z" not in line.split()[1]
    except OSError:
        return False
    return False


def is_ours(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return os.path.basename(H.BIN).encode() in f.read()
    except OSError:
        return False


def wait_until(pred, timeout, step=0.02):
    deadline = time.monotonic() + H.scaled(timeout)
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            return v
        time.sleep(step)


def unix_exchange(path, data, timeout=5.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(H.scaled(timeout))
    try:
        s.connect(path)
        s.sendall(data.encode() + b"\n")
        s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
        return out.decode("utf-8", "replace")
    finally:
        s.close()


def parse_proc(text):
    """show proc -> (master pid, current worker pids, old worker pids)."""
    master, workers, old = None, [], []
    section = None
    for line in text.splitlines():
        if line.startswith("# workers"):
            section = workers
            continue
        if line.startswith("# old workers"):
            section = old
            continue
        if line.startswith("#"):
            section = None
            continue
        f = line.split()
        if len(f) >= 2 and f[0].isdigit():
            if f[1] == "master":
                master = int(f[0])
            elif section is not None:
                section.append(int(f[0]))
    return master, workers, old


class MasterWorkerTestCase(H.ProxyTestCase):
    NBTHREAD = 1

    def setUp(self):
        super().setUp()
        self.mcli_path = self.path("master.sock")
        self.seen_workers = set()
        self.addCleanup(self._kill_workers)

    def _kill_workers(self):
        # the harness stopped the master first (cleanups run in reverse):
        # whatever worker is left is killed by PID
        for pid in sorted(self.seen_workers):
            if alive(pid) and is_ours(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def start_mw(self, body="v0", global_lines="", args=None, env=None, tail=""):
        self.port = H.free_port()
        self.body_cfg = dict(port=self.port, global_lines=global_lines, tail=tail)
        cfg = self.threads(CFG.format(body=body, **self.body_cfg))
        args = list(args if args is not None else ["-W", "-S", self.mcli_path])
        old_env = {}
        for k, v in (env or {}).items():
            old_env[k] = os.environ.get(k)
            os.environ[k] = v
        try:
            # HAProxy's master does not keep the listening sockets: wait
            # for a connection to be accepted, by whichever process
            p = self.start_proxy(cfg, args=args, wait_for=[])
            H.wait_accepting(("127.0.0.1", self.port), time.monotonic() + H.scaled(10), p.alive)
        finally:
            for k, v in old_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        self.proxy = p
        self.addr = ("127.0.0.1", self.port)
        self.assertTrue(wait_until(lambda: self.current_worker() is not None, 10),
                        "no worker forked:\n" + p.stderr())
        return p

    def write_cfg(self, body, global_lines=None, raw=None):
        text = raw if raw is not None else self.threads(CFG.format(
            body=body, port=self.port, tail=self.body_cfg["tail"],
            global_lines=self.body_cfg["global_lines"] if global_lines is None else global_lines))
        with open(self.proxy.cfg_path, "w") as f:
            f.write(text)

    def threads(self, cfg):
        return cfg.replace("    nbthread 1\n", "    nbthread %d\n" % self.NBTHREAD)

    def mcli(self, cmd):
        # a session accepted just before the master re-executes itself is
        # closed by the exec (reset, or no answer), and HAProxy's master
        # binds its CLI again after each exec (refused): retried a moment
        deadline = time.monotonic() + H.scaled(3)
        while True:
            try:
                out = unix_exchange(self.mcli_path, cmd)
                if out or cmd == "reload" or time.monotonic() >= deadline:
                    return out
            except (ConnectionRefusedError, ConnectionResetError, BrokenPipeError, FileNotFoundError):
                if time.monotonic() >= deadline:
                    raise
            time.sleep(0.05)

    def procs(self):
        m, w, o = parse_proc(self.mcli(self.show_proc_cmd()))
        self.seen_workers.update(w + o)
        return m, w, o

    def show_proc_cmd(self):
        return "show proc"

    def current_worker(self):
        kids = [k for k in children(self.proxy.pid)]
        self.seen_workers.update(kids)
        with contextlib.suppress(OSError):
            _, w, _ = self.procs()
            if len(w) == 1:
                return w[0]
        return None

    def get_body(self, timeout=None):
        r = H.http(self.addr, headers={"Connection": "close"}, timeout=timeout)
        self.assertEqual(r.status, 200)
        return r.body.decode()

    def reload(self, via_cli=False):
        """Reloads and waits until a new worker serves and the old one is
        gone. Returns the new worker's PID."""
        old = self.current_worker()
        self.assertIsNotNone(old)
        if via_cli:
            with contextlib.suppress(OSError):
                self.mcli("reload")
        else:
            os.kill(self.proxy.pid, signal.SIGUSR2)
        new = wait_until(lambda: (lambda w: w if w and w != old else None)(self.current_worker()), 10)
        self.assertTrue(new, "no new worker after the reload:\n" + self.proxy.stderr()[-3000:])
        self.assertTrue(wait_until(lambda: not alive(old), 10),
                        "the old worker %d did not stop:\n%s" % (old, self.proxy.stderr()[-3000:]))
        return new


class TestMasterWorker(MasterWorkerTestCase):
    def test_master_and_worker(self):
        p = self.start_mw(body="hello")
        master, workers, old = self.procs()
        self.assertEqual(master, p.pid)
        self.assertEqual(len(workers), 1)
        self.assertEqual(old, [])
        self.assertEqual(ppid_of(workers[0]), p.pid)
        self.assertEqual(children(p.pid), workers)
        self.assertEqual(self.get_body(), "hello")
        # the master runs no proxy: the worker alone holds the traffic,
        # the master keeps the listening socket
        self.assertIn("@!<pid>", self.mcli("help"))
        # a command handed to the worker's CLI
        out = self.mcli("@1 show info")
        self.assertIn("Pid: %d" % workers[0], out)
        out = self.mcli("@!%d show info" % workers[0])
        self.assertIn("Pid: %d" % workers[0], out)
        self.assertIn("Can't find", self.mcli("@!1 show info"))
        # SIGTERM to the master stops everything
        self.assertEqual(p.stop(), 0)
        self.assertTrue(wait_until(lambda: not alive(workers[0]), 5))

    def test_master_worker_keyword(self):
        port = H.free_port()
        cfg = CFG.format(body="kw", port=port, global_lines="    master-worker", tail="")
        self.port, self.body_cfg = port, {"global_lines": "    master-worker", "tail": ""}
        p = self.start_proxy(cfg, args=["-S", self.mcli_path], wait_for=[])
        H.wait_accepting(("127.0.0.1", port), time.monotonic() + H.scaled(10), p.alive)
        self.proxy, self.addr = p, ("127.0.0.1", port)
        self.assertTrue(wait_until(lambda: self.current_worker() is not None, 10))
        self.assertEqual(self.get_body(), "kw")
        self.reload()
        self.assertEqual(self.get_body(), "kw")

    def test_reloads_under_load(self):
        self.start_mw(body="v0")
        stop = threading.Event()
        lock = threading.Lock()
        stats = {"ok": 0, "fail": [], "retried": 0, "bodies": set()}

        def keepalive_client():
            conn = None
            while not stop.is_set():
                reused = conn is not None
                try:
                    if conn is None:
                        conn = H.HTTPConn(self.addr, timeout=H.scaled(5))
                    conn.send(conn.build(path="/"))
                    r = conn.read_response()
                    if r.status != 200:
                        raise RuntimeError("status %d" % r.status)
                    with lock:
                        stats["ok"] += 1
                        stats["bodies"].add(r.body.decode())
                    if H.has_token(r.headers, "connection", "close"):
                        conn.close()
                        conn = None
                except (OSError, EOFError, RuntimeError, ValueError) as e:
                    if conn is not None:
                        conn.close()
                        conn = None
                    if reused and not isinstance(e, (RuntimeError, TimeoutError)):
                        # a kept-alive connection closed by the server as
                        # the request was sent: retried on a new one, as
                        # HTTP clients do for idempotent requests
                        with lock:
                            stats["retried"] += 1
                        continue
                    with lock:
                        stats["fail"].append(repr(e))
            if conn is not None:
                conn.close()

        def new_conn_client():
            while not stop.is_set():
                try:
                    r = H.http(self.addr, headers={"Connection": "close"}, timeout=H.scaled(5))
                    if r.status != 200:
                        raise RuntimeError("status %d" % r.status)
                    with lock:
                        stats["ok"] += 1
                except (OSError, EOFError, RuntimeError, ValueError) as e:
                    with lock:
                        stats["fail"].append(repr(e))

        threads = [threading.Thread(target=keepalive_client, daemon=True) for _ in range(2)]
        threads += [threading.Thread(target=new_conn_client, daemon=True) for _ in range(2)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        try:
            for i in range(1, 11):
                self.write_cfg("v%d" % i)
                self.reload(via_cli=(i % 2 == 0))
                want = "v%d" % i
                self.assertTrue(wait_until(lambda: self.get_body() == want, 5))
                time.sleep(0.15)   # some load on each worker
        finally:
            stop.set()
            for t in threads:
                t.join(H.scaled(10))
        elapsed = time.monotonic() - t0
        if os.environ.get("MW_DEBUG"):
            print("requests %d retried %d in %.2fs" % (stats["ok"], stats["retried"], elapsed))
        self.assertEqual(stats["fail"], [], "failed requests during the reloads")
        rate = stats["ok"] / elapsed
        self.assertGreaterEqual(rate, 1000 / H.TIME_SCALE,
                                "only %.0f req/s (%d requests in %.1fs)" % (rate, stats["ok"], elapsed))
        self.assertIn("v10", stats["bodies"])
        master, workers, old = self.procs()
        self.assertEqual(len(workers), 1)
        self.assertEqual(old, [])
        self.assertIn("10 [failed: 0]", self.mcli("show proc"))

    def test_broken_config_keeps_old_worker(self):
        sink = Syslog()
        self.addCleanup(sink.close)
        log_line = "    log %s local0" % sink.addr
        self.start_mw(body="good", global_lines=log_line)
        w1 = self.current_worker()
        broken = CFG.format(body="bad", port=self.port, global_lines=log_line, tail="") + "    no-such-keyword here\n"
        self.write_cfg(None, raw=broken)
        os.kill(self.proxy.pid, signal.SIGUSR2)
        self.assertTrue(wait_until(lambda: "Loading failure" in self.proxy.stderr(), 10), self.proxy.stderr())
        err = self.proxy.stderr()
        self.assertIn("no-such-keyword", err)
        # why, in the log targets too (HAProxy only prints it)
        if not H.ORACLE:
            self.assertTrue(sink.wait(1, timeout=H.scaled(5), pred=lambda m: b"no-such-keyword" in m.raw))
        # nothing lost: the same worker serves the previous configuration
        self.assertTrue(self.proxy.alive())
        self.assertEqual(self.get_body(), "good")
        master, workers, old = self.procs()
        self.assertEqual(workers, [w1])
        self.assertIn("[failed: 1]", self.mcli("show proc"))
        out = self.mcli("prompt\nshow proc\nquit")
        self.assertIn("master[ReloadFailed]>", out)
        # fixed, the next reload works
        self.write_cfg("fixed")
        w2 = self.reload()
        self.assertNotEqual(w2, w1)
        self.assertEqual(self.get_body(), "fixed")

    @H.proxyd_only("HAProxy's master binds the admin socket itself: there this is a failed "
                   "reload of the master, not a worker failing to start")
    def test_new_worker_failing_keeps_old(self):
        self.start_mw(body="old")
        w1 = self.current_worker()
        # the worker binds its admin socket itself: in a missing directory
        # it cannot, and exits before it is ready
        self.write_cfg("new", global_lines="    stats socket %s level admin" % self.path("nodir/admin.sock"))
        os.kill(self.proxy.pid, signal.SIGUSR2)
        self.assertTrue(wait_until(lambda: "before it was ready" in self.proxy.stderr(), 10), self.proxy.stderr())
        self.assertTrue(self.proxy.alive())
        self.assertEqual(self.get_body(), "old")
        self.assertEqual(self.procs()[1], [w1])
        self.assertIn("[failed: 1]", self.mcli("show proc"))
        self.write_cfg("new")
        self.reload()
        self.assertEqual(self.get_body(), "new")

    def test_max_reloads(self):
        origin = self.origin(routes={"/slow": H.Delay(H.scaled(20))})
        be = "    default_backend be\nbackend be\n    server s1 %s\n" % origin.addr
        self.start_mw(body="x", global_lines="    mworker-max-reloads 1", tail=be)
        w1 = self.current_worker()

        def slow():
            with contextlib.suppress(Exception):
                H.http(self.addr, path="/slow", timeout=H.scaled(25))

        t = threading.Thread(target=slow, daemon=True)
        t.start()
        self.assertTrue(origin.wait_requests(1, timeout=H.scaled(5)))
        self.write_cfg("y")
        os.kill(self.proxy.pid, signal.SIGUSR2)
        self.assertTrue(wait_until(lambda: (lambda p: p[2] == [w1] and len(p[1]) == 1 and p[1][0] != w1)(self.procs()), 10))
        # the old worker still serves its slow request
        time.sleep(0.3)
        self.assertTrue(alive(w1))
        w2 = self.current_worker()
        os.kill(self.proxy.pid, signal.SIGUSR2)
        self.assertTrue(wait_until(lambda: not alive(w1), 5), "the old worker survived 2 reloads")
        self.assertTrue(wait_until(lambda: (lambda w: w and w != w2)(self.current_worker()), 10))
        if not H.ORACLE:
            self.assertIn("mworker-max-reloads", self.proxy.stderr())

    def test_reload_adds_and_removes_addresses(self):
        self.start_mw(body="a")
        port2 = H.free_port()
        cfg = CFG.format(body="b", port=self.port, global_lines="", tail="")
        cfg = cfg.replace("    bind 127.0.0.1:%d\n" % self.port,
                          "    bind 127.0.0.1:%d\n    bind 127.0.0.1:%d\n" % (self.port, port2))
        self.write_cfg(None, raw=cfg)
        self.reload()
        self.assertEqual(self.get_body(), "b")
        r = H.http(("127.0.0.1", port2), headers={"Connection": "close"})
        self.assertEqual(r.body, b"b")
        # the first address goes away: its socket is closed everywhere
        cfg = CFG.format(body="c", port=port2, global_lines="", tail="")
        self.write_cfg(None, raw=cfg)
        self.reload()
        r = H.http(("127.0.0.1", port2), headers={"Connection": "close"})
        self.assertEqual(r.body, b"c")
        with self.assertRaises(ConnectionRefusedError):
            H.http(self.addr, headers={"Connection": "close"}, timeout=H.scaled(2))

    def test_daemon_master(self):
        pidfile = self.path("proxyd.pid")
        self.port = H.free_port()
        cfg = CFG.format(body="bg", port=self.port, global_lines="", tail="")
        p = self.start_proxy(cfg, args=["-W", "-D", "-p", pidfile, "-S", self.mcli_path], wait_for=[])
        # the launching process leaves once the worker serves
        self.assertEqual(p.wait(H.scaled(10)), 0, p.stderr())
        with open(pidfile) as f:
            master = int(f.read())
        self.seen_workers.add(master)   # killed by PID in the cleanup too
        self.addCleanup(lambda: alive(master) and is_ours(master) and os.kill(master, signal.SIGTERM))
        self.addr = ("127.0.0.1", self.port)
        m, workers, _ = parse_proc(self.mcli("show proc"))
        self.seen_workers.update(workers)
        self.assertEqual(m, master)
        self.assertEqual(len(workers), 1)
        self.assertEqual(ppid_of(workers[0]), master)
        self.assertEqual(self.get_body(), "bg")
        os.kill(master, signal.SIGTERM)
        self.assertTrue(wait_until(lambda: not alive(master) and not alive(workers[0]), 10))

    def test_worker_death_stops_master(self):
        p = self.start_mw()
        w = self.current_worker()
        os.kill(w, signal.SIGKILL)
        rc = p.wait(H.scaled(10))
        self.assertEqual(rc, 137, p.stderr())
        self.assertRegex(p.stderr(), r"Current worker.*\(%d\) exited with code 137" % w)

    @H.proxyd_only("HAProxy 2.6.12 forgets no-exit-on-failure once its master has re-executed "
                   "itself in wait mode, and exits anyway; proxyd does what the option documents")
    def test_no_exit_on_failure(self):
        p = self.start_mw(body="one", global_lines="    master-worker no-exit-on-failure")
        w = self.current_worker()
        os.kill(w, signal.SIGKILL)
        self.assertTrue(wait_until(lambda: "exited with code 137" in p.stderr(), 10), p.stderr())
        time.sleep(0.3)
        self.assertTrue(p.alive(), "the master exited:\n" + p.stderr())
        master, workers, old = self.procs()
        self.assertEqual(workers, [])
        # a reload brings a worker back
        self.write_cfg("two")
        os.kill(p.pid, signal.SIGUSR2)
        self.assertTrue(wait_until(lambda: self.current_worker() is not None, 10), p.stderr())
        self.assertTrue(wait_until(lambda: self.get_body() == "two", 5))

    def test_systemd_notify(self):
        sock_path = self.path("notify.sock")
        ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(ns.close)
        ns.bind(sock_path)
        ns.settimeout(0.2)
        msgs = []

        def collect_until(pred, timeout):
            deadline = time.monotonic() + H.scaled(timeout)
            while time.monotonic() < deadline:
                if pred():
                    return True
                with contextlib.suppress(socket.timeout):
                    msgs.append(ns.recv(4096).decode())
            return pred()

        def has(seq):
            # the messages carrying each of <seq>, in this order
            i = 0
            for m in msgs:
                if i < len(seq) and seq[i] in m.split("\n"):
                    i += 1
            return i == len(seq)

        p = self.start_mw(args=["-Ws", "-S", self.mcli_path], env={"NOTIFY_SOCKET": sock_path})
        self.assertTrue(collect_until(lambda: has(["READY=1"]), 10), msgs)
        self.assertIn("MAINPID=%d" % p.pid, "\n".join(msgs))
        self.write_cfg("v1")
        self.reload()
        self.assertTrue(collect_until(lambda: has(["READY=1", "RELOADING=1", "READY=1"]), 10), msgs)
        if not H.ORACLE:   # HAProxy 2.6 sends no STATUS
            self.assertTrue(any(m.startswith("STATUS=") or "\nSTATUS=" in m for m in msgs), msgs)


class TestMasterWorkerThreads(MasterWorkerTestCase):
    """With nbthread 4 each thread listens on its own socket: the master
    keeps them all and hands them all to the next worker."""
    NBTHREAD = 4

    test_reloads_under_load = TestMasterWorker.test_reloads_under_load

    @H.proxyd_only("HAProxy's threads share one socket per address (no per-thread SO_REUSEPORT)")
    def test_worker_listens_on_the_masters_sockets(self):
        p = self.start_mw(body="t0")
        held = H.listening_sockets_of(p.pid, self.addr)
        self.assertEqual(len(held), 4, "one socket per thread, held by the master")
        self.assertEqual(H.listening_sockets_of(self.current_worker(), self.addr), held)
        for i in (1, 2):
            self.write_cfg("t%d" % i)
            new = self.reload(via_cli=(i == 2))
            self.assertEqual(H.listening_sockets_of(p.pid, self.addr), held,
                             "the re-executed master must keep the very same sockets")
            self.assertEqual(H.listening_sockets_of(new, self.addr), held)
            self.assertEqual(self.get_body(), "t%d" % i)


STATE_CFG = """\
global
    maxconn 1000
    nbthread 1
    stats socket {admin} level admin
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    balance roundrobin
    server s1 {s1}
    server s2 {s2}
    server s3 {s3}
"""


@H.proxyd_only("HAProxy starts a new worker with fresh counters and server states "
               "(unless a server-state-file was dumped before the reload)")
class TestStateAcrossReload(MasterWorkerTestCase):
    def start_state(self):
        self.origins = [self.origin(name="s%d" % i) for i in (1, 2, 3)]
        self.admin = self.path("admin.sock")
        self.port = H.free_port()
        cfg = STATE_CFG.format(admin=self.admin, port=self.port,
                               **{"s%d" % i: o.addr for i, o in enumerate(self.origins, 1)})
        self.cfg_text = cfg
        p = self.start_proxy(cfg, args=["-W", "-S", self.mcli_path],
                             wait_for=[("127.0.0.1", self.port)])
        self.proxy, self.addr = p, ("127.0.0.1", self.port)
        self.body_cfg = {"global_lines": "", "tail": ""}
        self.assertTrue(wait_until(lambda: self.current_worker() is not None, 10))
        self.assertTrue(wait_until(lambda: os.path.exists(self.admin), 5))

    def admin_cmd(self, cmd):
        return unix_exchange(self.admin, cmd)

    def stat_rows(self):
        out = self.admin_cmd("show stat")
        lines = out.strip().splitlines()
        head = lines[0].lstrip("# ").split(",")
        return {(r[0], r[1]): dict(zip(head, r)) for r in (l.split(",") for l in lines[1:] if l)}

    def reload_same(self):
        with open(self.proxy.cfg_path, "w") as f:
            f.write(self.cfg_text)
        w = self.reload()
        # the admin socket is the new worker's once it answers with its pid
        self.assertTrue(wait_until(lambda: "Pid: %d" % w in self.admin_cmd("show info"), 5))
        return w

    def test_counters_survive_reload(self):
        self.start_state()
        for _ in range(30):
            self.assertEqual(H.http(self.addr, headers={"Connection": "close"}).status, 200)
        before = self.stat_rows()
        self.assertEqual(before[("fe", "FRONTEND")]["req_tot"], "30")
        self.reload_same()
        after = self.stat_rows()
        self.assertEqual(after[("fe", "FRONTEND")]["req_tot"], "30")
        for key in (("be", "BACKEND"), ("be", "s1"), ("be", "s2"), ("be", "s3")):
            self.assertEqual(after[key]["stot"], before[key]["stot"], key)
        self.assertEqual(int(after[("be", "s1")]["stot"]), 10)
        for _ in range(3):
            H.http(self.addr, headers={"Connection": "close"})
        self.assertEqual(self.stat_rows()[("fe", "FRONTEND")]["req_tot"], "33")
        # twice: counters of counters
        self.reload_same()
        self.assertEqual(self.stat_rows()[("fe", "FRONTEND")]["req_tot"], "33")

    def test_server_states_survive_reload(self):
        self.start_state()
        self.assertEqual(self.admin_cmd("disable server be/s1").strip(), "")
        self.assertEqual(self.admin_cmd("set server be/s2 weight 50").strip(), "")
        self.admin_cmd("set server be/s3 state drain")
        self.reload_same()
        rows = self.stat_rows()
        self.assertEqual(rows[("be", "s1")]["status"], "MAINT")
        self.assertEqual(rows[("be", "s2")]["weight"], "50")
        self.assertEqual(rows[("be", "s3")]["status"], "DRAIN")
        # and traffic follows them: s1 gets nothing, s3 nothing new
        for _ in range(6):
            H.http(self.addr, headers={"Connection": "close"})
        rows = self.stat_rows()
        self.assertEqual(rows[("be", "s1")]["stot"], "0")
        self.assertEqual(rows[("be", "s2")]["stot"], "6")


if __name__ == "__main__":
    unittest.main()
