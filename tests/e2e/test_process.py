"""Process management: daemon mode and pid file, chroot and privileges,
ulimit-n, and the signals (SIGUSR1 soft stop, hard-stop-after, SIGHUP
server states, SIGTTOU/SIGTTIN pause and resume)."""

import contextlib
import os
import resource
import signal
import socket
import struct
import subprocess
import threading
import time
import unittest

import harness as H
import logsink

CFG = """\
global
    maxconn 200
{global_lines}
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    server s1 {origin}
"""


def proc_state(pid):
    """The state letter of /proc/<pid>/stat, None when the process is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.split()
    return out


def gone(pid):
    return proc_state(pid) in (None, "Z", "X")


class ProcessTest(H.ProxyTestCase):

    def setUp(self):
        super().setUp()
        self.o = self.origin(routes={"/slow": H.Delay(1.0, H.Fixed(b"slow done")),
                                     "/stuck": H.Delay(30.0, H.Fixed(b"never"))})
        self.port = H.free_port()
        self.addr = ("127.0.0.1", self.port)

    def cfg(self, global_lines=""):
        return CFG.format(global_lines=H.indent(global_lines), port=self.port, origin=self.o.addr)

    def kill_daemon(self, pid):
        """Stops a process that is not our child, by PID, bounded."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + H.scaled(5)
        while not gone(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        if not gone(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def run_proxyd(self, cfg, args=(), timeout=None):
        path = self.write_file("p.cfg", cfg)
        p = subprocess.run([H.BIN, "-f", path] + list(args), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout or H.scaled(10), cwd=self.tmp)
        return p.returncode, p.stderr.decode(errors="replace")

    # ------------------------------------------------------------------
    # daemon mode
    # ------------------------------------------------------------------
    @H.proxyd_only("HAProxy's daemon prints its own notices")
    def test_daemon_detaches_and_writes_pid_file(self):
        pidfile = self.path("p.pid")
        t0 = time.monotonic()
        rc, err = self.run_proxyd(self.cfg(), ["-D", "-p", pidfile])
        self.assertEqual(rc, 0, err)
        with open(pidfile) as f:
            pid = int(f.read().strip())
        self.addCleanup(self.kill_daemon, pid)
        self.assertFalse(gone(pid), "the daemon is not running")
        # ready when the parent returned: it serves at once
        self.assertEqual(H.http(self.addr).status, 200)
        self.assertLess(time.monotonic() - t0, H.scaled(5))
        st = proc_status(pid)
        self.assertNotEqual(int(st["PPid"][0]), os.getpid())
        self.assertEqual(os.getsid(pid), pid, "the daemon leads its own session")
        self.assertEqual(os.getpgid(pid), pid)
        for fd in (0, 1, 2):
            self.assertEqual(os.readlink("/proc/%d/fd/%d" % (pid, fd)), "/dev/null")
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + H.scaled(5)
        while not gone(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertTrue(gone(pid))

    def test_daemon_keyword_and_db_stays_in_foreground(self):
        pidfile = self.path("p.pid")
        p = self.start_proxy(self.cfg("daemon\npidfile %s" % pidfile), args=["-db"])
        self.assertTrue(p.alive())
        self.assertEqual(H.http(self.addr).status, 200)
        # as HAProxy: no pid file in the foreground
        self.assertFalse(os.path.exists(pidfile))
        self.assertEqual(os.getsid(p.pid), os.getsid(0))

    def test_daemon_bind_failure_exits_1_on_the_terminal(self):
        busy = socket.socket()
        busy.bind(("127.0.0.1", self.port))
        busy.listen(1)
        self.addCleanup(busy.close)
        pidfile = self.path("p.pid")
        rc, err = self.run_proxyd(self.cfg(), ["-D", "-p", pidfile])
        self.assertEqual(rc, 1)
        self.assertIn("ALERT", err)
        self.assertIn("cannot bind", err.lower())
        self.assertFalse(os.path.exists(pidfile))

    @H.proxyd_only("HAProxy writes the pid file before forking")
    def test_daemon_failure_after_fork_reaches_the_parent(self):
        pidfile = self.path("no/such/dir/p.pid")
        rc, err = self.run_proxyd(self.cfg(), ["-D", "-p", pidfile])
        self.assertEqual(rc, 1)
        self.assertIn("Cannot create pidfile", err)
        self.assertFalse(H.wait_accepting(self.addr, time.monotonic() + 0.3))

    # ------------------------------------------------------------------
    # chroot and privileges
    # ------------------------------------------------------------------
    @unittest.skipUnless(os.geteuid() == 0, "needs root to chroot and change user")
    def test_chroot_and_user_group(self):
        jail = self.path("jail")
        os.mkdir(jail, 0o755)
        os.chmod(self.tmp, 0o755)
        p = self.start_proxy(self.cfg("chroot %s\nuser nobody\ngroup nogroup\nstats socket %s level admin"
                                      % (jail, self.path("adm.sock"))))
        self.assertEqual(H.http(self.addr).status, 200)
        st = proc_status(p.pid)
        self.assertEqual(st["Uid"], ["65534"] * 4)
        self.assertEqual(st["Gid"], ["65534"] * 4)
        self.assertEqual(st["Groups"], [])   # no supplementary group left
        self.assertEqual(os.readlink("/proc/%d/root" % p.pid), jail)
        # opened before the drop, so it still works
        with H.connect(self.path("adm.sock")) as s:
            s.sendall(b"show info\n")
            info = H.Reader(s).read_until_close().decode()
        self.assertIn("Pid: %d" % p.pid, info)

    @unittest.skipIf(os.geteuid() == 0, "as root the change succeeds")
    def test_user_change_refused_without_root(self):
        rc, err = self.run_proxyd(self.cfg("user nobody"))
        self.assertEqual(rc, 1)
        self.assertIn("Cannot set uid", err)

    def test_chroot_not_checked_by_c(self):
        rc, err = self.run_proxyd(self.cfg("chroot /no/such/dir\nuser nobody"), ["-c"])
        self.assertEqual(rc, 0, err)

    def test_chroot_failure_exits_1(self):
        rc, err = self.run_proxyd(self.cfg("chroot /no/such/dir"))
        self.assertEqual(rc, 1)
        self.assertIn("Cannot chroot(/no/such/dir)", err)

    # ------------------------------------------------------------------
    # ulimit-n
    # ------------------------------------------------------------------
    def low_limit(self):
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))

    def limits_of(self, pid):
        with open("/proc/%d/limits" % pid) as f:
            for line in f:
                if line.startswith("Max open files"):
                    return int(line.split()[3]), line.split()[4]
        return None

    def start_low_limit(self, cfg):
        path = self.write_file("p.cfg", cfg)
        err = open(self.path("p.stderr"), "wb")
        self.addCleanup(err.close)
        p = subprocess.Popen([H.BIN, "-f", path], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=err, preexec_fn=self.low_limit())
        self.addCleanup(lambda: (p.poll() is None and p.terminate(), p.wait(10)))
        self.assertTrue(H.wait_listening(p.pid, self.addr, time.monotonic() + H.scaled(5),
                                         lambda: p.poll() is None),
                        open(self.path("p.stderr")).read())
        return p

    def test_ulimit_n_sets_the_soft_limit(self):
        adm = self.path("adm.sock")
        p = self.start_low_limit(self.cfg("ulimit-n 3000\nstats socket %s level admin" % adm))
        self.assertEqual(self.limits_of(p.pid)[0], 3000)
        with H.connect(adm) as s:
            s.sendall(b"show info\n")
            info = H.Reader(s).read_until_close().decode()
        self.assertIn("Ulimit-n: 3000\n", info)
        self.assertRegex(info, r"\nMaxsock: \d+\n")

    def test_ulimit_computed_from_maxconn(self):
        cfg = self.cfg().replace("maxconn 200", "maxconn 2000")
        p = self.start_low_limit(cfg)
        soft = self.limits_of(p.pid)[0]
        # 2 x maxconn, one listener, a margin (HAProxy: 4017 here)
        self.assertGreaterEqual(soft, 4001)
        self.assertLess(soft, 4100)

    def test_ulimit_above_hard_limit_is_refused(self):
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        if hard == resource.RLIM_INFINITY or hard >= 1 << 29:
            self.skipTest("no finite hard limit on open files")
        rc, err = self.run_proxyd(self.cfg("ulimit-n %d" % (hard + 1000)))
        self.assertEqual(rc, 1)
        self.assertRegex(err, r"\[ALERT\] +\(\d+\) : \[.*\.main\(\)\] Cannot raise FD limit to %d, limit is %d\."
                         % (hard + 1000, hard))

    # ------------------------------------------------------------------
    # signals
    # ------------------------------------------------------------------
    def test_soft_stop_finishes_in_flight_request(self):
        p = self.start_proxy(self.cfg())
        # an idle keep-alive connection, closed by the soft stop
        idle = H.HTTPConn(self.addr)
        self.addCleanup(idle.close)
        self.assertEqual(idle.request("GET", "/").status, 200)
        result = {}

        def slow():
            try:
                result["resp"] = H.http(self.addr, path="/slow", timeout=H.scaled(10))
            except Exception as e:   # reported by the assertions below
                result["error"] = e
        t = threading.Thread(target=slow, daemon=True)
        t.start()
        self.o.wait_for(lambda o: any(r.path == "/slow" for r in o.log), H.scaled(5))
        t0 = time.monotonic()
        p.send_signal(signal.SIGUSR1)
        # the listening socket is closed at once: a new connection is refused
        deadline = time.monotonic() + H.scaled(2)
        refused = False
        while time.monotonic() < deadline and not refused:
            try:
                H.connect(self.addr, timeout=1).close()
                time.sleep(0.02)
            except ConnectionRefusedError:
                refused = True
            except ConnectionResetError:
                pass   # queued just before the socket was closed
        self.assertTrue(refused, "new connections are still accepted")
        t.join(H.scaled(10))
        self.assertNotIn("error", result)
        resp = result["resp"]
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.body, b"slow done")
        self.assertEqual(resp.header("Connection"), "close")
        self.assertEqual(p.wait(H.scaled(5)), 0)
        self.assertGreater(time.monotonic() - t0, 0.5)
        self.assertTrue(idle.is_closed())
        err = p.stderr()
        # FE counts the probing connections accepted before the signal too
        self.assertRegex(err, r"Proxy fe stopped \(cumulated conns: FE: \d+, BE: 0\)\.")
        self.assertIn("Proxy be stopped (cumulated conns: FE: 0, BE: 2).", err)

    def test_soft_stop_quiet(self):
        p = self.start_proxy(self.cfg(), args=["-q"])
        p.send_signal(signal.SIGUSR1)
        self.assertEqual(p.wait(H.scaled(5)), 0)
        self.assertNotIn("stopped", p.stderr())

    def test_hard_stop_after_cuts_stuck_request(self):
        p = self.start_proxy(self.cfg("hard-stop-after 500ms"))
        c = H.HTTPConn(self.addr, timeout=H.scaled(10))
        self.addCleanup(c.close)
        c.send(c.build("GET", "/stuck"))
        self.o.wait_for(lambda o: any(r.path == "/stuck" for r in o.log), H.scaled(5))
        t0 = time.monotonic()
        p.send_signal(signal.SIGUSR1)
        self.assertEqual(p.wait(H.scaled(5)), 0)
        self.assertElapsed(time.monotonic() - t0, 0.4, 3)
        self.assertIn("soft-stop running for too long, performing a hard-stop.", p.stderr())
        # the request still waiting for its response is answered with a
        # 502 before the connection closes, as HAProxy does
        data = c.read_until_close()
        self.assertTrue(data.startswith(b"HTTP/1.1 502 "), data[:100])
        self.assertIn(b"\r\nconnection: close\r\n", data.lower())

    def test_sighup_dumps_server_states(self):
        sink = logsink.Syslog()
        self.addCleanup(sink.close)
        cfg = self.cfg("log %s local0" % sink.addr).replace(
            "    server s1", "    log global\n    server s2 127.0.0.1:1 disabled\n    server s1")
        p = self.start_proxy(cfg)
        self.assertEqual(H.http(self.addr).status, 200)
        p.send_signal(signal.SIGHUP)
        want = ["SIGHUP received, dumping servers states for proxy be.",
                "SIGHUP: Server be/s2 is DOWN. Conn: 0 act, 0 pend, 0 tot.",
                "SIGHUP: Server be/s1 is UP. Conn: 0 act, 0 pend, 1 tot.",
                "SIGHUP: Proxy be has 1 active servers and 0 backup servers available. "
                "Conn: act(FE+BE): 0+0, 0 pend (0 unass), tot(FE+BE): 0+1."]
        # (HAProxy adds its internal <HTTPCLIENT> proxy: not ours)
        msgs = sink.wait(len(want), pred=lambda m: "SIGHUP" in m.msg and "HTTPCLIENT" not in m.msg)
        self.assertEqual([m.msg for m in msgs], want)
        err = p.stderr()
        self.assertIn("SIGHUP received, dumping servers states.", err)
        self.assertIn("SIGHUP: Server be/s1 is UP. Conn: 0 act, 0 pend, 1 tot.", err)
        self.assertTrue(p.alive())

    @H.proxyd_only("speaks proxyd's own _getsocks answer to hold the start-up")
    def test_signals_during_start_up_wait_for_the_loop(self):
        """SIGTTOU and SIGHUP sent while the process starts (here held by a
        slow -x answer) neither stop nor kill it: they take effect once it
        runs (SIGTTOU: its listeners are paused)."""
        old = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(old.close)
        old_path = self.path("old.sock")
        old.bind(old_path)
        old.listen(1)
        old.settimeout(H.scaled(5))
        p = self.start_proxy(self.cfg(), args=["-x", old_path], wait_for=[])
        conn, _ = old.accept()
        self.addCleanup(conn.close)
        conn.settimeout(H.scaled(5))
        self.assertEqual(conn.recv(64), b"_getsocks\n")
        # the process is in its start-up now: signals with a default action
        # that would stop (SIGTTOU) or kill (SIGHUP) it
        p.send_signal(signal.SIGTTOU)
        p.send_signal(signal.SIGHUP)
        time.sleep(0.2)
        self.assertTrue(p.alive(), p.stderr())
        # an empty answer: no socket to take over (magic "PXGS", version 1)
        conn.sendall(struct.pack("<IHHII", 0x53475850, 1, 0, 0, 0))
        deadline = time.monotonic() + H.scaled(5)
        while "Paused frontend fe." not in p.stderr() and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertIn("Paused frontend fe.", p.stderr())
        self.assertIn("SIGHUP received, dumping servers states.", p.stderr())
        self.assertTrue(p.alive())
        with self.assertRaises(ConnectionRefusedError):
            H.connect(self.addr, timeout=1).close()
        p.send_signal(signal.SIGTTIN)
        self.assertTrue(H.wait_accepting(self.addr, time.monotonic() + H.scaled(3)))

    def test_sigttou_pauses_and_sigttin_resumes(self):
        p = self.start_proxy(self.cfg())
        p.send_signal(signal.SIGTTOU)
        deadline = time.monotonic() + H.scaled(3)
        refused = False
        while time.monotonic() < deadline and not refused:
            try:
                H.connect(self.addr, timeout=1).close()
                time.sleep(0.02)
            except ConnectionRefusedError:
                refused = True
            except ConnectionResetError:
                pass   # queued just before the socket was closed
        self.assertTrue(refused)
        self.assertIn("Paused frontend fe.", p.stderr())
        p.send_signal(signal.SIGTTIN)
        self.assertTrue(H.wait_accepting(self.addr, time.monotonic() + H.scaled(3)))
        self.assertEqual(H.http(self.addr).status, 200)
        self.assertIn("Resumed frontend fe.", p.stderr())
        self.assertTrue(p.alive())


class ProcessThreadsTest(ProcessTest):
    """The soft stop, the hard stop and SIGTTOU/SIGTTIN with 4 threads: each
    thread has its own listening socket and its own streams, which the
    signal, handled by the first thread, must reach."""

    def cfg(self, global_lines=""):
        return super().cfg("nbthread 4\n" + global_lines)

    test_soft_stop_threads = ProcessTest.test_soft_stop_finishes_in_flight_request
    test_hard_stop_threads = ProcessTest.test_hard_stop_after_cuts_stuck_request
    test_sigttou_threads = ProcessTest.test_sigttou_pauses_and_sigttin_resumes


# only the threaded variants of the signal tests: the rest of ProcessTest
# runs once, above
for _name in [n for n in dir(ProcessTest) if n.startswith("test_")]:
    setattr(ProcessThreadsTest, _name, None)
