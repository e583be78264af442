"""Reloads without losing a request: `proxyd -f cfg -x ADMIN_SOCK -sf OLDPID`
started again and again under a continuous load; and a reload with a broken
configuration, which must leave the old process serving."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import harness as H

LOADGEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "loadgen.py")

RELOADS = 20
CLIENT_PROCS = 4
NEW_THREADS = 3     # per client process: a new connection per request
KA_THREADS = 3      # per client process: keep-alive connections
MIN_RATE = 2000     # requests per second, at least
# proxyd exits 0 on SIGTERM; HAProxy 2.6 dies of it
SIGTERM_STATUS = (0, -15) if H.ORACLE else (0,)


class ReloadTest(H.ProxyTestCase):

    def setUp(self):
        super().setUp()
        self.origin_proc = subprocess.Popen([sys.executable, LOADGEN, "origin"],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.addCleanup(self._stop_child, self.origin_proc)
        self.origin_port = int(self.origin_proc.stdout.readline())
        self.port = H.free_port()
        self.admin = self.path("admin.sock")
        self.cfg = (
            "global\n"
            "    maxconn 2000\n"
            "    stats socket %s level admin expose-fd listeners\n"
            "    hard-stop-after 20s\n"
            "defaults\n"
            "    mode http\n"
            "    timeout connect 5s\n"
            "    timeout client 30s\n"
            "    timeout server 30s\n"
            "frontend fe\n"
            "    bind 127.0.0.1:%d\n"
            "    http-request return status 200 content-type text/plain string %s if { path /local }\n"
            "    default_backend be\n"
            "backend be\n"
            "    server s1 127.0.0.1:%d\n" % (self.admin, self.port, "x" * 100, self.origin_port))
        self.addr = ("127.0.0.1", self.port)
        self.generation = 0

    @staticmethod
    def _stop_child(p):
        if p.poll() is None:
            if p.stdin:
                p.stdin.close()
            p.kill()
        p.wait(10)
        if p.stdout:
            p.stdout.close()

    def spawn(self, cfg, args=(), wait=True):
        """A proxyd started on cfg; waits until it listens when `wait`."""
        self.generation += 1
        p = H.Proxy(self.tmp, cfg, wait_for=[self.addr] if wait else [], args=args,
                    name="proxy%d" % self.generation)
        self.addCleanup(self._stop_proxy, p)
        p.start()
        return p

    def wait_admin(self, deadline):
        while time.monotonic() < deadline:
            if os.path.exists(self.admin):
                try:
                    H.connect(self.admin, timeout=1).close()
                    return True
                except OSError:
                    pass
            time.sleep(0.01)
        return False

    def test_reloads_under_load_lose_nothing(self):
        self._reloads_under_load(self.cfg)

    def test_reloads_under_load_with_4_threads_lose_nothing(self):
        """Each of the 4 threads has its own socket on the address: all of
        them are handed over, so no connection waits in a socket that the
        old process closes."""
        self._reloads_under_load(self.cfg.replace("    maxconn 2000\n", "    maxconn 2000\n    nbthread 4\n"))

    def _reloads_under_load(self, cfg, next_cfg=None):
        old = self.spawn(cfg)
        self.assertTrue(self.wait_admin(time.monotonic() + H.scaled(5)))
        duration = H.scaled(40)   # an upper bound: stopped after the reloads
        clients = [subprocess.Popen([sys.executable, LOADGEN, "client", "127.0.0.1", str(self.port),
                                     str(duration), str(NEW_THREADS), str(KA_THREADS)],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
                   for _ in range(CLIENT_PROCS)]
        for c in clients:
            self.addCleanup(self._stop_child, c)
        t_start = time.monotonic()
        time.sleep(1.0)   # the load is running before the first reload
        reloads = 0
        for i in range(RELOADS):
            new = self.spawn(next_cfg(i) if next_cfg else cfg, args=["-x", self.admin, "-sf", str(old.pid)])
            # the old process soft-stops once the new one is ready, then
            # exits 0 when its last request is done
            rc = old.wait(H.scaled(15))
            self.assertEqual(rc, 0, "old process %d did not finish cleanly (status %r):\n%s"
                             % (old.pid, rc, old.stderr()[-2000:]))
            self.assertTrue(new.alive(), new.stderr())
            self.assertNotIn("ALERT", new.stderr())
            reloads += 1
            old = new
            time.sleep(0.1)
        time.sleep(0.5)   # the last process serves under load too
        t_reloads = time.monotonic() - t_start
        results = []
        for c in clients:
            self.assertIsNone(c.poll(), "a client stopped before the reloads were done")
        for c in clients:
            c.stdin.close()
            c.stdin = None
        for c in clients:
            out, err = c.communicate(timeout=60)
            self.assertEqual(c.returncode, 0, err.decode(errors="replace"))
            results.append(json.loads(out.decode().strip().splitlines()[-1]))
        sent = sum(r["sent"] for r in results)
        ok = sum(r["ok"] for r in results)
        failed = sum(r["nb_failures"] for r in results)
        retries = sum(r["idle_retries"] for r in results)
        closed = sum(r["closed_after_response"] for r in results)
        elapsed = max(r["duration"] for r in results)
        rate = sent / elapsed
        sys.stderr.write("\n[reload] %d reloads in %.1fs; %d requests in %.1fs (%.0f req/s), %d ok, "
                         "%d failed, %d sent again after an idle keep-alive close, %d keep-alive "
                         "connections closed after a response\n"
                         % (reloads, t_reloads, sent, elapsed, rate, ok, failed, retries, closed))
        failures = [f for r in results for f in r["failures"]]
        self.assertEqual(failed, 0, "failed requests: %r" % failures[:10])
        self.assertEqual(ok, sent)
        self.assertEqual(reloads, RELOADS)
        self.assertGreaterEqual(rate, MIN_RATE / H.TIME_SCALE, "load too low to mean anything")
        # the last process serves and stops cleanly too
        self.assertEqual(H.http(self.addr).status, 200)
        old.send_signal(15)
        self.assertIn(old.wait(H.scaled(5)), SIGTERM_STATUS)

    def _threads_cfg(self, n):
        return self.cfg.replace("    maxconn 2000\n", "    maxconn 2000\n    nbthread %d\n" % n)

    def _reload_threads(self, old_n, new_n):
        """A process with <old_n> threads replaced with -x by one with
        <new_n>: (sockets the old one listened on, those the new one
        listens on, the new process)."""
        old = self.spawn(self._threads_cfg(old_n))
        self.assertTrue(self.wait_admin(time.monotonic() + H.scaled(5)))
        before = H.listening_sockets_of(old.pid, self.addr)
        self.assertEqual(len(before), old_n, "one listening socket per thread")
        new = self.spawn(self._threads_cfg(new_n), args=["-x", self.admin, "-sf", str(old.pid)])
        self.assertEqual(old.wait(H.scaled(10)), 0)
        after = H.listening_sockets_of(new.pid, self.addr)
        self.assertEqual(len(after), max(old_n, new_n))
        # every socket serves: enough new connections reach each of them
        # (the kernel spreads them by a hash of the client's port)
        for _ in range(8 * len(after)):
            self.assertEqual(H.http(self.addr, headers={"Connection": "close"}).status, 200)
        self.assertNotIn("WARNING", new.stderr())
        return before, after, new

    @H.proxyd_only("HAProxy's threads share one socket per address (no per-thread SO_REUSEPORT)")
    def test_every_thread_socket_handed_over(self):
        before, after, _ = self._reload_threads(4, 4)
        self.assertEqual(after, before, "the new process must listen on the very sockets of the old one")

    @H.proxyd_only("HAProxy's threads share one socket per address (no per-thread SO_REUSEPORT)")
    def test_more_threads_after_reload_keep_old_sockets(self):
        before, after, _ = self._reload_threads(2, 4)
        self.assertTrue(before <= after, "the old sockets were not all taken over")

    @H.proxyd_only("HAProxy's threads share one socket per address (no per-thread SO_REUSEPORT)")
    def test_fewer_threads_after_reload_keep_every_socket(self):
        """The sockets beyond the new thread count stay open and watched
        (closing them would reset the connections waiting in them)."""
        before, after, _ = self._reload_threads(4, 2)
        self.assertEqual(after, before)

    def test_reloads_under_load_changing_threads_lose_nothing(self):
        """20 reloads going 4, 2, 1, 3, 4... threads: sockets are taken
        over, added or kept as extra ones, and no request fails."""
        counts = [2, 1, 3, 4]
        self._reloads_under_load(self._threads_cfg(4),
                                 next_cfg=lambda i: self._threads_cfg(counts[i % len(counts)]))

    def test_broken_config_at_reload_keeps_old_process(self):
        old = self.spawn(self.cfg)
        self.assertTrue(self.wait_admin(time.monotonic() + H.scaled(5)))
        broken = self.cfg.replace("default_backend be", "default_backend be\n    bogus-keyword 1")
        new = self.spawn(broken, args=["-x", self.admin, "-sf", str(old.pid)], wait=False)
        self.assertEqual(new.wait(H.scaled(10)), 1)
        self.assertIn("bogus-keyword", new.stderr())
        self.assertIn("ALERT", new.stderr())
        time.sleep(0.3)
        self.assertTrue(old.alive())
        self.assertEqual(H.http(self.addr).status, 200)
        self.assertNotIn("stopped", old.stderr())

    def test_failed_bind_at_reload_keeps_old_process(self):
        """The new process got the sockets, then fails: the old one was
        not told to stop and still serves."""
        old = self.spawn(self.cfg)
        self.assertTrue(self.wait_admin(time.monotonic() + H.scaled(5)))
        busy = H.listening_socket()
        self.addCleanup(busy.close)
        port2 = busy.getsockname()[1]
        cfg = self.cfg.replace("    default_backend be", "    bind 127.0.0.1:%d\n    default_backend be" % port2)
        new = self.spawn(cfg, args=["-x", self.admin, "-sf", str(old.pid)], wait=False)
        self.assertEqual(new.wait(H.scaled(10)), 1)
        self.assertIn("cannot bind", new.stderr())
        time.sleep(0.3)
        self.assertTrue(old.alive())
        self.assertEqual(H.http(self.addr).status, 200)

    def test_unix_listener_survives_reload_and_st(self):
        """A unix-socket listener handed over keeps its file when the old
        process exits (here stopped at once with -st); the last process
        removes it when stopped."""
        sock = self.path("fe.sock")
        cfg = self.cfg.replace("    default_backend be", "    bind %s\n    default_backend be" % sock)
        old = self.spawn(cfg)
        self.assertTrue(self.wait_admin(time.monotonic() + H.scaled(5)))
        ino = os.stat(sock).st_ino
        new = self.spawn(cfg, args=["-x", self.admin, "-st", str(old.pid)])
        self.assertIn(old.wait(H.scaled(10)), SIGTERM_STATUS)
        self.assertEqual(os.stat(sock).st_ino, ino, "the socket file was replaced or removed")
        self.assertEqual(H.http(sock).status, 200)
        self.assertEqual(H.http(self.addr).status, 200)
        new.send_signal(10)   # SIGUSR1: soft stop, nothing handed over
        self.assertEqual(new.wait(H.scaled(5)), 0)
        if not H.ORACLE:   # HAProxy leaves the file of a unix listener behind
            self.assertFalse(os.path.exists(sock))

    def test_getsocks_needs_expose_fd(self):
        cfg = self.cfg.replace(" expose-fd listeners", "")
        old = self.spawn(cfg)
        self.assertTrue(self.wait_admin(time.monotonic() + H.scaled(5)))
        new = self.spawn(self.cfg, args=["-x", self.admin, "-sf", str(old.pid)], wait=False)
        self.assertEqual(new.wait(H.scaled(10)), 1)
        if not H.ORACLE:
            self.assertIn("Permission denied", new.stderr())
        self.assertIn("Failed to get the sockets from the old process!", new.stderr())
        self.assertTrue(old.alive())
        self.assertEqual(H.http(self.addr).status, 200)

    @H.proxyd_only("HAProxy writes the pid file from the parent; same outcome, other timing")
    def test_daemon_reload_with_pid_file(self):
        """The production command: proxyd -D -p PIDFILE -x SOCK -sf $(cat PIDFILE)."""
        cfg_path = self.write_file("d.cfg", self.cfg)
        pidfile = self.path("d.pid")

        def run(*extra):
            p = subprocess.run([H.BIN, "-D", "-f", cfg_path, "-p", pidfile] + list(extra),
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=H.scaled(10), cwd=self.tmp)
            self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
            with open(pidfile) as f:
                pid = int(f.read())
            self.addCleanup(self._kill, pid)
            return pid

        first = run()
        self.assertEqual(H.http(self.addr).status, 200)
        second = run("-x", self.admin, "-sf", str(first))
        self.assertNotEqual(first, second)
        deadline = time.monotonic() + H.scaled(5)
        while not self._gone(first) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertTrue(self._gone(first), "the old daemon is still running")
        self.assertFalse(self._gone(second))
        self.assertEqual(H.http(self.addr).status, 200)

    @staticmethod
    def _gone(pid):
        try:
            with open("/proc/%d/stat" % pid) as f:
                return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
        except OSError:
            return True

    def _kill(self, pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + H.scaled(5)
        while not self._gone(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        if not self._gone(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
