"""Server state files: what an operator changed at run time (maintenance,
drain, weights, addresses, a server seen DOWN, checks disabled) survives a
restart when "show servers state" is dumped into the file named by
server-state-file / server-state-file-name and the backends have
load-server-state-from-file. Each test runs a first proxy, changes
servers on its admin socket, dumps the state, stops it, starts a second
proxy on the same configuration and looks at "show servers state",
"show stat" and where the traffic goes.

Runs against HAProxy too (--oracle haproxy), except the checks of
proxyd's own warnings. Also checks that HAProxy accepts the keywords of
the configuration used here, when it is installed."""

import csv
import io
import os
import shutil
import socket
import subprocess
import time
import unittest

import harness as H
from harness import (BASE_DEFAULTS, BASE_GLOBAL, ProxyTestCase, free_port, http, indent,
                     proxyd_only, scaled)

HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None)


def cli(path, command):
    """One command on the admin socket; retried while the socket is not
    there yet (it is bound just after the listeners)."""
    deadline = time.monotonic() + scaled(5)
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(scaled(5))
        try:
            s.connect(path)
            break
        except (FileNotFoundError, ConnectionRefusedError):
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    s.sendall(command.encode() + b"\n")
    s.shutdown(socket.SHUT_WR)
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    s.close()
    return out.decode()


def servers_state(path, backend=""):
    """{(backend, server): fields} from "show servers state"."""
    text = cli(path, ("show servers state " + backend).strip())
    lines = text.splitlines()
    assert lines and lines[0] == "1", "no version line in %r" % text
    names = lines[1].lstrip("# ").split()
    out = {}
    for l in lines[2:]:
        if not l.strip():
            continue
        f = dict(zip(names, l.split()))
        out[(f["be_name"], f["srv_name"])] = f
    return out, text


def show_stat(path):
    """{(pxname, svname): row} from "show stat"."""
    text = cli(path, "show stat")
    rows = csv.DictReader(io.StringIO(text.lstrip("# ")))
    return {(r["pxname"], r["svname"]): r for r in rows if r.get("pxname")}


class ServerStateCase(ProxyTestCase):

    def config(self, backend_lines, extra_backends="", global_lines="", defaults=""):
        """A frontend fe -> backend be; the admin socket; the state file
        "state" in server-state-base (the test's directory)."""
        self.sock = self.path("admin.sock")
        cfg = (BASE_GLOBAL
               + indent("stats socket %s level admin\nserver-state-base %s\nserver-state-file state\n%s"
                        % (self.sock, self.tmp, global_lines))
               + BASE_DEFAULTS + indent("load-server-state-from-file global\n" + defaults)
               + "frontend fe\n    bind 127.0.0.1:%d\n    default_backend be\n" % self.port
               + "backend be\n    balance roundrobin\n" + indent(backend_lines)
               + extra_backends)
        return cfg

    def start(self, cfg, name):
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        return self.start_proxy(cfg, wait_for=[("127.0.0.1", self.port), self.sock], name=name)

    def dump(self, proxy, file_name="state", backend=""):
        """What an init script does before a reload."""
        text = cli(self.sock, ("show servers state " + backend).strip())
        self.write_file(file_name, text)
        proxy.stop()
        return text

    def setUp(self):
        super().setUp()
        self.port = free_port()

    def oracle_accepts(self, cfg):
        """HAProxy 2.6 reads the same keywords (when it is installed)."""
        if not HAPROXY or H.ORACLE:
            return
        p = self.write_file("haproxy-check.cfg", cfg)
        r = subprocess.run([HAPROXY, "-c", "-q", "-f", p], cwd=self.tmp, capture_output=True,
                           timeout=scaled(20))
        self.assertEqual(r.returncode, 0, r.stderr.decode())

    # ------------------------------------------------------------------
    def test_round_trip(self):
        """Maintenance, drain, a weight and an address set on the admin
        socket come back after a restart, and traffic follows them."""
        o1, o2, o3, o4 = (self.origin(name=n) for n in ("s1", "s2", "s3", "s4"))
        moved = self.origin(name="moved")
        other = self.origin(name="other")
        # s1 is given by a host name: its address comes back from the file;
        # s4's address is a literal: only its port comes back (HAProxy's rule)
        cfg = self.config("server s1 localhost:%d\n"
                          "server s2 %s weight 1\n"
                          "server s3 %s\n"
                          "server s4 %s\n" % (o1.port, o2.addr, o3.addr, o4.addr))
        self.oracle_accepts(cfg)
        p1 = self.start(cfg, "first")
        for cmd in ("set server be/s1 addr 127.0.0.1 port %d" % moved.port,
                    "set server be/s2 weight 3",
                    "disable server be/s3",
                    "set server be/s4 state drain",
                    "set server be/s4 addr 127.0.0.2 port %d" % other.port):
            cli(self.sock, cmd)
        before, _ = servers_state(self.sock)
        self.assertEqual(before[("be", "s3")]["srv_admin_state"], "1")
        self.dump(p1)

        p2 = self.start(cfg, "second")
        after, text = servers_state(self.sock)
        s1, s2, s3, s4 = (after[("be", n)] for n in ("s1", "s2", "s3", "s4"))
        self.assertEqual((s1["srv_addr"], s1["srv_port"]), ("127.0.0.1", str(moved.port)), text)
        self.assertEqual((s2["srv_uweight"], s2["srv_iweight"]), ("3", "1"), text)
        self.assertEqual(int(s3["srv_admin_state"]) & 0x01, 0x01, text)
        self.assertEqual(int(s4["srv_admin_state"]) & 0x08, 0x08, text)
        self.assertEqual((s4["srv_addr"], s4["srv_port"]), ("127.0.0.1", str(other.port)), text)
        stat = show_stat(self.sock)
        self.assertEqual(stat[("be", "s3")]["status"], "MAINT")
        self.assertEqual(stat[("be", "s4")]["status"], "DRAIN")
        self.assertEqual(stat[("be", "s2")]["weight"], "3")

        for _ in range(8):
            r = http(("127.0.0.1", self.port), path="/")
            self.assertEqual(r.status, 200)
        self.assertEqual(o1.requests + o3.requests + o4.requests + other.requests, 0)
        self.assertEqual(moved.requests + o2.requests, 8)
        self.assertGreaterEqual(o2.requests, 5, "weight 3 against 1: %d/%d" % (o2.requests, moved.requests))
        self.assertGreaterEqual(moved.requests, 1)

    def test_down_server_waits_for_its_checks(self):
        """A server the old process saw DOWN starts DOWN; its checks bring
        it back."""
        o1, o2 = self.origin(name="s1"), self.origin(name="s2")
        cfg = self.config("server s1 %s check inter 1s rise 3 fall 2\n"
                          "server s2 %s check inter 1s rise 3 fall 2\n" % (o1.addr, o2.addr))
        p1 = self.start(cfg, "first")
        cli(self.sock, "set server be/s1 health down")
        self.dump(p1)

        self.start(cfg, "second")
        state, text = servers_state(self.sock)
        self.assertEqual(state[("be", "s1")]["srv_op_state"], "0", text)
        self.assertEqual(state[("be", "s2")]["srv_op_state"], "2", text)
        stat = show_stat(self.sock)
        self.assertTrue(stat[("be", "s1")]["status"].startswith("DOWN"), stat[("be", "s1")]["status"])
        # no traffic to it meanwhile
        r = http(("127.0.0.1", self.port), path="/")
        self.assertEqual(r.status, 200)
        self.assertEqual(o1.requests, 0)
        deadline = time.monotonic() + scaled(8)
        while show_stat(self.sock)[("be", "s1")]["status"] != "UP":
            self.assertLess(time.monotonic(), deadline, "s1 never came back up")
            time.sleep(0.1)

    def test_disabled_checks_come_back(self):
        o1 = self.origin(name="s1")
        cfg = self.config("server s1 %s check inter 1s\n" % o1.addr)
        p1 = self.start(cfg, "first")
        cli(self.sock, "disable health be/s1")
        self.dump(p1)
        self.start(cfg, "second")
        state, text = servers_state(self.sock)
        chk = int(state[("be", "s1")]["srv_check_state"])
        self.assertEqual(chk & 0x06, 0x02, "checks configured but not enabled: %s" % text)

    def test_configuration_wins(self):
        """A weight changed in the configuration is not overridden by the
        old run-time weight; a server now "disabled" stays so."""
        o1, o2 = self.origin(name="s1"), self.origin(name="s2")
        cfg = self.config("server s1 %s weight 10\nserver s2 %s\n" % (o1.addr, o2.addr))
        p1 = self.start(cfg, "first")
        cli(self.sock, "set server be/s1 weight 5")
        cli(self.sock, "set server be/s2 weight 7")
        self.dump(p1)
        cfg2 = self.config("server s1 %s weight 20\nserver s2 %s disabled\n" % (o1.addr, o2.addr))
        self.start(cfg2, "second")
        state, text = servers_state(self.sock)
        self.assertEqual(state[("be", "s1")]["srv_uweight"], "20", text)
        self.assertEqual(state[("be", "s2")]["srv_uweight"], "7", text)
        self.assertEqual(show_stat(self.sock)[("be", "s2")]["status"], "MAINT")

    def test_disabled_server_enabled_at_run_time(self):
        """A server "disabled" in the configuration is down in maintenance
        (admin state 5: forced and configured); "enable server" puts it in
        service (4: the configured mark stays), and it stays enabled after
        a restart through the state file, as HAProxy 2.6."""
        o1, o2 = self.origin(name="s1"), self.origin(name="s2")
        cfg = self.config("server s1 %s disabled\nserver s2 %s\n" % (o1.addr, o2.addr))
        p1 = self.start(cfg, "first")
        state, text = servers_state(self.sock)
        self.assertEqual((state[("be", "s1")]["srv_op_state"], state[("be", "s1")]["srv_admin_state"]),
                         ("0", "5"), text)
        self.assertEqual(show_stat(self.sock)[("be", "s1")]["status"], "MAINT")
        cli(self.sock, "enable server be/s1")
        state, text = servers_state(self.sock)
        self.assertEqual((state[("be", "s1")]["srv_op_state"], state[("be", "s1")]["srv_admin_state"]),
                         ("2", "4"), text)
        for _ in range(4):
            self.assertEqual(http(("127.0.0.1", self.port), path="/").status, 200)
        self.assertEqual((o1.requests, o2.requests), (2, 2))
        self.dump(p1)

        self.start(cfg, "second")
        state, text = servers_state(self.sock)
        self.assertEqual((state[("be", "s1")]["srv_op_state"], state[("be", "s1")]["srv_admin_state"]),
                         ("2", "4"), text)
        self.assertNotEqual(show_stat(self.sock)[("be", "s1")]["status"], "MAINT")

    def test_none_loads_nothing(self):
        o1 = self.origin(name="s1")
        cfg = self.config("server s1 %s\n" % o1.addr)
        p1 = self.start(cfg, "first")
        cli(self.sock, "disable server be/s1")
        self.dump(p1)
        cfg2 = self.config("load-server-state-from-file none\nserver s1 %s\n" % o1.addr)
        self.start(cfg2, "second")
        self.assertNotEqual(show_stat(self.sock)[("be", "s1")]["status"], "MAINT")
        self.assertEqual(http(("127.0.0.1", self.port), path="/").status, 200)

    def test_local_file(self):
        """load-server-state-from-file local: the backend's own file, named
        by server-state-file-name (or after the backend)."""
        o1, o2 = self.origin(name="s1"), self.origin(name="s2")
        extra = ("backend b2\n    load-server-state-from-file local\n"
                 "    server-state-file-name use-backend-name\n    server t1 %s\n" % o2.addr)
        cfg = self.config("load-server-state-from-file local\nserver-state-file-name be.state\n"
                          "server s1 %s\n" % o1.addr, extra_backends=extra)
        self.oracle_accepts(cfg)
        p1 = self.start(cfg, "first")
        cli(self.sock, "disable server be/s1")
        cli(self.sock, "set server b2/t1 state drain")
        self.write_file("be.state", cli(self.sock, "show servers state be"))
        self.write_file("b2", cli(self.sock, "show servers state b2"))
        # the global file says otherwise: local files only are read
        self.write_file("state", "1\n")
        p1.stop()
        self.start(cfg, "second")
        stat = show_stat(self.sock)
        self.assertEqual(stat[("be", "s1")]["status"], "MAINT")
        self.assertEqual(stat[("b2", "t1")]["status"], "DRAIN")

    def test_corrupted_file_is_ignored(self):
        """A truncated line: the whole file is left aside (as HAProxy)."""
        o1, o2 = self.origin(name="s1"), self.origin(name="s2")
        cfg = self.config("server s1 %s\nserver s2 %s\n" % (o1.addr, o2.addr))
        p1 = self.start(cfg, "first")
        cli(self.sock, "disable server be/s1")
        text = cli(self.sock, "show servers state")
        p1.stop()
        lines = text.splitlines()
        lines[3] = " ".join(lines[3].split()[:6])
        self.write_file("state", "\n".join(lines) + "\n")
        p2 = self.start(cfg, "second")
        self.assertEqual(show_stat(self.sock)[("be", "s1")]["status"], "no check")
        self.assertIn("corrupted global server state file '%s' at line 3." % self.path("state"), p2.stderr())

    @proxyd_only("HAProxy skips the lines of unknown backends and servers of a global file silently")
    def test_unknown_lines_warn(self):
        o1 = self.origin(name="s1")
        cfg = self.config("server s1 %s\n" % o1.addr)
        p1 = self.start(cfg, "first")
        cli(self.sock, "disable server be/s1")
        text = cli(self.sock, "show servers state").rstrip("\n")
        p1.stop()
        line = text.splitlines()[2]
        f = line.split()
        extra = [" ".join([f[0], f[1], "9", "gone"] + f[4:]), " ".join([f[0], "oldbe"] + f[2:])]
        self.write_file("state", text + "\n" + "\n".join(extra) + "\n")
        p2 = self.start(cfg, "second")
        self.assertEqual(show_stat(self.sock)[("be", "s1")]["status"], "MAINT")
        err = p2.stderr()
        self.assertIn("Proxy 'be': can't find server 'gone' in backend 'be'", err)
        self.assertIn("can't find backend 'oldbe' for server 's1' (line 4).", err)

    def test_check_mode_reports_missing_file(self):
        o1 = self.origin(name="s1")
        cfg = self.config("server s1 %s\n" % o1.addr)
        p = self.write_file("c.cfg", cfg)
        r = subprocess.run([H.BIN, "-c", "-f", p], cwd=self.tmp, capture_output=True, timeout=scaled(20))
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn("Can't open global server state file '%s': No such file or directory"
                      % self.path("state"), r.stderr.decode())


if __name__ == "__main__":
    unittest.main()
