"""The admin socket ("stats socket"): the line protocol (one line, ';'
separated commands, an empty line after each answer, the close; the
interactive prompt mode; half-closing clients; garbage), levels, and the
commands that change traffic: disable/enable server, drain, weights,
maxconn, shutdown sessions; plus show info / servers state / backend /
errors / table and socat as a client. Runs against HAProxy too
(--oracle haproxy) except where noted."""

import os
import re
import socket
import subprocess
import threading
import time
import unittest

import harness as H
from harness import (BASE_DEFAULTS, BASE_GLOBAL, ProxyTestCase, free_port, http, indent,
                     proxyd_only, scaled)


def cli(path, data, half_close=True, timeout=None):
    """Sends <data> on the admin socket <path>, returns everything read
    until the server closes."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout or scaled(5))
    s.connect(path)
    s.sendall(data.encode())
    if half_close:
        s.shutdown(socket.SHUT_WR)
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    s.close()
    return out.decode()


class Interactive:
    """A prompt-mode session: send a line, read up to the next prompt."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(scaled(5))
        self.s.connect(path)
        self.buf = b""

    def cmd(self, line):
        self.s.sendall(line.encode() + b"\n")
        while not self.buf.endswith(b"\n> "):
            b = self.s.recv(65536)
            if not b:
                raise AssertionError("closed, got %r" % self.buf)
            self.buf += b
        out, self.buf = self.buf[:-2].decode(), b""
        return out

    def close(self):
        self.s.close()


class CliCase(ProxyTestCase):

    def start_cli(self, backend_lines=None, frontend="", global_lines="", origins=2, defaults="",
                  configured=None):
        """<configured>: how many of the origins the backend declares (all
        by default), the others being there for "add server".
        <backend_lines> may be a function of the origins."""
        self.origins = [self.origin(name="s%d" % (i + 1)) for i in range(origins)]
        if callable(backend_lines):
            backend_lines = backend_lines(self.origins)
        if backend_lines is None:
            backend_lines = "".join("server s%d %s\n" % (i + 1, o.addr)
                                    for i, o in enumerate(self.origins[:configured]))
        self.sock = self.path("admin.sock")
        self.usock = self.path("user.sock")
        self.osock = self.path("oper.sock")
        port = free_port()
        cfg = (BASE_GLOBAL
               + indent("stats socket %s level admin\nstats socket %s level user\nstats socket %s\n%s"
                        % (self.sock, self.usock, self.osock, global_lines))
               + BASE_DEFAULTS + indent(defaults)
               + "frontend fe\n    bind 127.0.0.1:%d\n" % port + indent(frontend)
               + "    default_backend be\nbackend be\n" + indent(backend_lines))
        self.proxy = self.start_proxy(cfg)
        self.addr = ("127.0.0.1", port)
        deadline = time.monotonic() + scaled(5)
        while not os.path.exists(self.sock) and time.monotonic() < deadline:
            time.sleep(0.02)

    def run_cli(self, line, sock=None):
        return cli(sock or self.sock, line + "\n")

    def who(self, n, headers=None):
        """The origins that served <n> requests, in order."""
        return [http(self.addr, "GET", "/", headers=headers).header("X-Origin") for _ in range(n)]


class Protocol(CliCase):

    def test_one_line_several_commands_then_close(self):
        self.start_cli()
        out = self.run_cli("show cli level; show backend")
        self.assertEqual(out, "admin\n\n# name\nbe\n\n")

    def test_default_level_is_operator(self):
        self.start_cli()
        self.assertEqual(self.run_cli("show cli level", self.osock), "operator\n\n")
        self.assertEqual(self.run_cli("show cli level", self.usock), "user\n\n")

    def test_client_that_does_not_half_close(self):
        self.start_cli()
        out = cli(self.sock, "show cli level\n", half_close=False)
        self.assertEqual(out, "admin\n\n")

    @proxyd_only("HAProxy drops a last line without its newline")
    def test_command_without_newline_then_half_close(self):
        self.start_cli()
        self.assertEqual(cli(self.sock, "show cli level"), "admin\n\n")

    def test_prompt_mode(self):
        self.start_cli()
        s = Interactive(self.sock)
        self.addCleanup(s.close)
        self.assertEqual(s.cmd("prompt"), "\n")
        self.assertEqual(s.cmd("show cli level"), "admin\n\n")
        # garbage is answered and the session stays usable
        out = s.cmd("this is garbage")
        self.assertIn("Unknown command", out)
        self.assertEqual(s.cmd("show backend"), "# name\nbe\n\n")
        s.s.sendall(b"quit\n")
        rest = b""
        while True:
            b = s.s.recv(4096)
            if not b:
                break
            rest += b
        self.assertEqual(rest, b"")

    def test_unknown_command_non_interactive(self):
        self.start_cli()
        out = self.run_cli("foo")
        self.assertTrue(out.startswith("Unknown command"), out)
        self.assertTrue(out.endswith("\n\n"), out)

    def test_socat_client(self):
        self.start_cli()
        p = subprocess.run(["socat", "stdio", "unix-connect:" + self.sock], input=b"show backend\n",
                           stdout=subprocess.PIPE, timeout=scaled(10))
        self.assertEqual(p.stdout, b"# name\nbe\n\n")

    def test_escaped_semicolon_is_not_a_separator(self):
        self.start_cli()
        out = self.run_cli("show cli level\\; show backend")
        # one command with words "level;" and "show": HAProxy's answer is its
        # usage, in any case not the two answers
        self.assertNotIn("# name", out)

    @proxyd_only("HAProxy 2.6 keeps an idle prompt session beyond 'stats timeout'")
    def test_idle_interactive_session_times_out(self):
        self.start_cli(global_lines="stats timeout 1s")
        s = Interactive(self.sock)
        self.addCleanup(s.close)
        s.cmd("prompt")
        t0 = time.monotonic()
        s.s.settimeout(scaled(5))
        self.assertEqual(s.s.recv(10), b"")
        self.assertLess(time.monotonic() - t0, scaled(3))


class Levels(CliCase):

    def test_user_cannot_change_servers(self):
        self.start_cli()
        self.assertEqual(self.run_cli("disable server be/s1", self.usock), "Permission denied\n\n")
        self.assertEqual(self.run_cli("set weight be/s1 10", self.osock), "Permission denied\n\n")
        self.assertEqual(self.run_cli("show sess", self.usock), "Permission denied\n\n")
        self.assertEqual(self.run_cli("get weight be/s1", self.usock), "1 (initial 1)\n\n")

    def test_operator_clears_max_but_not_all(self):
        self.start_cli()
        self.assertEqual(self.run_cli("clear counters", self.osock), "\n")
        self.assertEqual(self.run_cli("clear counters all", self.osock), "Permission denied\n\n")
        self.assertEqual(self.run_cli("clear counters all"), "\n")

    def test_lowering_the_level(self):
        self.start_cli()
        out = self.run_cli("show cli level; user; show cli level; set weight be/s1 1")
        self.assertEqual(out, "admin\n\n\nuser\n\nPermission denied\n\n")


class Servers(CliCase):

    def test_disable_then_enable_server(self):
        self.start_cli()
        self.assertEqual(sorted(set(self.who(4))), ["s1", "s2"])
        self.assertEqual(self.run_cli("disable server be/s1"), "\n")
        self.assertEqual(set(self.who(6)), {"s2"})
        self.assertEqual(self.run_cli("enable server be/s1"), "\n")
        self.assertEqual(sorted(set(self.who(4))), ["s1", "s2"])

    def test_set_server_state_maint_and_ready(self):
        self.start_cli()
        self.run_cli("set server be/s2 state maint")
        self.assertEqual(set(self.who(4)), {"s1"})
        self.run_cli("set server be/s2 state ready")
        self.assertEqual(sorted(set(self.who(4))), ["s1", "s2"])
        self.assertIn("Server be/s2 is going DOWN for maintenance", self.proxy.stderr())

    def test_drain_keeps_persistent_clients_only(self):
        self.start_cli(backend_lines=None if False else None, origins=2)
        # restart with a persistence cookie
        self.proxy.stop()
        port = free_port()
        cfg = (BASE_GLOBAL + indent("stats socket %s level admin" % self.sock) + BASE_DEFAULTS
               + "frontend fe\n    bind 127.0.0.1:%d\n    default_backend be\n" % port
               + "backend be\n    cookie SRV insert indirect nocache\n"
               + "    server s1 %s cookie c1\n    server s2 %s cookie c2\n"
               % (self.origins[0].addr, self.origins[1].addr))
        self.proxy = self.start_proxy(cfg)
        self.addr = ("127.0.0.1", port)
        self.assertEqual(self.run_cli("set server be/s1 state drain"), "\n")
        self.assertEqual(set(self.who(4)), {"s2"})
        self.assertEqual(set(self.who(4, headers=[("Cookie", "SRV=c1")])), {"s1"})
        self.assertIn("Server be/s1 enters drain state", self.proxy.stderr())
        self.run_cli("set server be/s1 state ready")
        self.assertEqual(sorted(set(self.who(4))), ["s1", "s2"])

    def test_weights_change_the_roundrobin_share(self):
        self.start_cli()
        self.assertEqual(self.run_cli("set weight be/s1 3"), "\n")
        self.assertEqual(self.run_cli("get weight be/s1"), "3 (initial 1)\n\n")
        got = self.who(40)
        self.assertEqual(got.count("s1"), 30)
        self.assertEqual(got.count("s2"), 10)
        self.assertEqual(self.run_cli("set server be/s1 weight 0"), "\n")
        self.assertEqual(set(self.who(6)), {"s2"})

    def test_weight_errors(self):
        self.start_cli()
        self.assertEqual(self.run_cli("set weight be/s1 300"),
                         "Absolute weight can only be between 0 and 256 inclusive.\n\n")
        self.assertEqual(self.run_cli("get weight be/nope"), "No such server.\n\n")
        self.assertEqual(self.run_cli("get weight nope/s1"), "No such backend.\n\n")
        self.assertEqual(self.run_cli("set server be/s1 state foo"),
                         "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n")

    def test_percent_weight(self):
        self.start_cli(backend_lines=None)
        self.run_cli("set weight be/s1 50%")
        self.assertEqual(self.run_cli("get weight be/s1"), "0 (initial 1)\n\n")
        self.run_cli("set weight be/s1 100%")
        self.assertEqual(self.run_cli("get weight be/s1"), "1 (initial 1)\n\n")

    def test_servers_by_id(self):
        self.start_cli()
        self.assertEqual(self.run_cli("get weight be/#2"), "1 (initial 1)\n\n")

    def test_show_servers_state(self):
        self.start_cli()
        self.run_cli("set server be/s2 state maint")
        lines = self.run_cli("show servers state be").split("\n")
        self.assertEqual(lines[0], "1")
        self.assertTrue(lines[1].startswith("# be_id be_name srv_id srv_name srv_addr srv_op_state "
                                            "srv_admin_state srv_uweight srv_iweight"))
        rows = [l.split(" ") for l in lines[2:] if l]
        self.assertEqual(len(rows), 2)
        for r in rows:
            self.assertEqual(len(r), 25, r)
        s1, s2 = rows
        self.assertEqual((s1[1], s1[3], s1[4], s1[5], s1[6]), ("be", "s1", "127.0.0.1", "2", "0"))
        self.assertEqual((s2[3], s2[6]), ("s2", "1"))   # forced maintenance
        self.assertEqual(s1[18], self.origins[0].addr.rsplit(":", 1)[1])
        self.assertEqual(self.run_cli("show servers state nope"), "Can't find backend.\n\n")

    def test_set_maxconn_server_queues(self):
        self.start_cli(origins=1, backend_lines=None)
        self.assertEqual(self.run_cli("set maxconn server be/s1 5"), "\n")
        self.assertRegex(self.run_cli("show servers state"), r"\n\d+ be 1 s1 ")

    def test_set_server_addr(self):
        self.start_cli(origins=2, backend_lines=None)
        o3 = self.origin(name="s3")
        self.run_cli("set server be/s2 state maint")
        host, port = o3.addr.rsplit(":", 1)
        out = self.run_cli("set server be/s1 addr %s port %s" % (host, port))
        self.assertIn("port changed from '%s' to '%s' by 'stats socket command'\n\n"
                      % (self.origins[0].addr.rsplit(":", 1)[1], port), out)
        self.assertEqual(set(self.who(4)), {"s3"})

    def test_shutdown_sessions_server(self):
        self.start_cli(origins=1, backend_lines=None)
        self.origins[0].route("/slow", H.Chunked([b"x" * 100] * 100, pause=0.1))
        conn = H.HTTPConn(self.addr)
        self.addCleanup(conn.close)
        conn.send(conn.build("GET", "/slow"))
        self.assertTrue(self.origins[0].wait_for(lambda o: any(r.path == "/slow" for r in o.log),
                                                 timeout=scaled(5)))
        t0 = time.monotonic()
        self.assertEqual(self.run_cli("shutdown sessions server be/s1"), "\n")
        conn.read_until_close()
        self.assertLess(time.monotonic() - t0, scaled(3))


class Reports(CliCase):

    def test_show_info(self):
        self.start_cli()
        out = self.run_cli("show info")
        info = dict(l.split(": ", 1) for l in out.splitlines() if ": " in l)
        for k in ("Name", "Version", "Release_date", "Nbthread", "Pid", "Uptime", "Uptime_sec", "Maxconn",
                  "CurrConns", "CumConns", "CumReq", "Idle_pct", "node", "Tasks", "Run_queue", "Maxpipes",
                  "PipesUsed", "Process_num", "Nbproc"):
            self.assertIn(k, info)
        self.assertEqual(int(info["Pid"]), self.proxy.proc.pid)
        self.assertTrue(out.endswith("\n\n"))
        keys = [l.split(":", 1)[0] for l in out.splitlines() if l]
        self.assertEqual(keys[:4], ["Name", "Version", "Release_date", "Nbthread"])

    @proxyd_only("the process names itself proxyd")
    def test_show_info_name(self):
        self.start_cli()
        self.assertIn("Name: proxyd\n", self.run_cli("show info"))

    def test_cum_req_counts(self):
        self.start_cli()
        self.who(5)
        info = dict(l.split(": ", 1) for l in self.run_cli("show info").splitlines() if ": " in l)
        self.assertGreaterEqual(int(info["CumReq"]), 5)

    def test_show_errors_keeps_the_invalid_request(self):
        self.start_cli()
        H.raw_exchange(self.addr, b"GET\x01 / HTTP/1.1\r\n\r\n")
        out = self.run_cli("show errors")
        self.assertRegex(out, r"Total events captured on \[[^]]+\] : 1\n")
        self.assertRegex(out, r"frontend fe \(#\d+\): invalid request")
        self.assertIn("GET\\x01 / HTTP/1.1\\r\\n", out)

    def test_show_sess(self):
        self.start_cli(origins=1, backend_lines=None)
        self.origins[0].route("/slow", H.Chunked([b"x"] * 40, pause=0.1))
        conn = H.HTTPConn(self.addr)
        self.addCleanup(conn.close)
        conn.send(conn.build("GET", "/slow"))
        self.assertTrue(self.origins[0].wait_for(lambda o: any(r.path == "/slow" for r in o.log),
                                                 timeout=scaled(5)))
        out = self.run_cli("show sess")
        self.assertRegex(out, r"0x[0-9a-f]+: proto=tcpv4 src=127\.0\.0\.1:\d+ fe=fe be=be srv=s1 ")

    def test_show_stat_csv(self):
        self.start_cli()
        self.who(4)
        out = self.run_cli("show stat")
        lines = out.splitlines()
        self.assertTrue(lines[0].startswith("# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,"))
        rows = {tuple(l.split(",")[:2]): l.split(",") for l in lines[1:] if l}
        self.assertIn(("fe", "FRONTEND"), rows)
        self.assertIn(("be", "BACKEND"), rows)
        cols = lines[0][2:].split(",")
        stot = cols.index("stot")
        self.assertEqual(int(rows[("be", "s1")][stot]) + int(rows[("be", "s2")][stot]), 4)
        self.assertTrue(out.endswith("\n\n"))
        # one backend's servers only
        only = self.run_cli("show stat be 4 -1").splitlines()
        self.assertEqual(sorted(l.split(",")[1] for l in only[1:] if l), ["s1", "s2"])

    def test_show_stat_json(self):
        self.start_cli()
        import json
        data = json.loads(self.run_cli("show stat json"))
        names = {f["value"]["value"] for row in data for f in row if f["field"]["name"] == "svname"}
        self.assertTrue({"FRONTEND", "BACKEND", "s1", "s2"} <= names)

    def test_show_table(self):
        self.start_cli(backend_lines=None)
        self.proxy.stop()
        port = free_port()
        cfg = (BASE_GLOBAL + indent("stats socket %s level admin" % self.sock) + BASE_DEFAULTS
               + "frontend fe\n    bind 127.0.0.1:%d\n    default_backend be\n" % port
               + "backend be\n    stick-table type ip size 100 expire 60s\n    stick on src\n"
               + "    server s1 %s\n    server s2 %s\n" % (self.origins[0].addr, self.origins[1].addr))
        self.proxy = self.start_proxy(cfg)
        self.addr = ("127.0.0.1", port)
        self.who(2)
        self.assertEqual(self.run_cli("show table"), "# table: be, type: ip, size:100, used:1\n\n")
        out = self.run_cli("show table be")
        self.assertRegex(out, r"^# table: be, type: ip, size:100, used:1\n0x[0-9a-f]+: key=127\.0\.0\.1 "
                              r"use=0 exp=\d+ .*server_id=1")


if __name__ == "__main__":
    unittest.main()


class Docs(CliCase):

    @proxyd_only("checks proxyd's manual")
    def test_every_command_is_in_the_manual(self):
        """Each command "help" lists appears in the ADMIN SOCKET section of
        proxyd.cfg(5) (rendered as text)."""
        self.start_cli()
        man = os.path.join(os.path.dirname(__file__), "..", "..", "man", "proxyd.cfg.5")
        env = dict(os.environ, MANWIDTH="200", MANPAGER="cat", PAGER="cat")
        p = subprocess.run(["man", "-l", man], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                           timeout=scaled(30))
        self.assertEqual(p.returncode, 0, p.stderr)
        text = p.stdout.decode()
        text = re.sub(r".\x08", "", text)
        section = text[text.index("ADMIN SOCKET"):]
        section = re.sub(r"\s+", " ", section)
        cmds = []
        for line in self.run_cli("help").splitlines()[1:]:
            words = []
            for w in line.split(":")[0].split():
                if not re.match(r"^[a-z-]+$", w):
                    break
                words.append(w)
            if words:
                cmds.append(" ".join(words))
        self.assertGreater(len(cmds), 20)
        missing = [c for c in cmds if c not in section]
        self.assertEqual(missing, [])
