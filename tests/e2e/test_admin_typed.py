"""'show stat typed' and 'show info typed' on the admin socket: HAProxy's
typed format ("F.<iid>.<sid>.<pos>.<name>.1:<tags>:<type>:<value>"), its
positions, tags and types compared with those of HAProxy 2.6 itself when
/usr/sbin/haproxy is there (the same configuration run through it)."""

import os
import re
import shutil
import subprocess
import time

from harness import BASE_DEFAULTS, BASE_GLOBAL, ProxyTestCase, free_port, indent, scaled
from test_admin_socket import cli

HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None)

LINE = re.compile(r"^([FBS])\.(\d+)\.(\d+)\.(\d+)\.([a-z0-9_]+)\.1:([A-Z][A-Za-z][PS]):(str|u32|s32|u64|s64):(.*)$")
INFO = re.compile(r"^(\d+)\.([A-Za-z_ -][A-Za-z0-9_ -]*)\.1:([A-Z][A-Za-z][PS]):(str|u32|s32|u64):(.*)$")


def shape(text):
    """{(object letter, proxy name, server name, position, column): (tags, type)}"""
    out, names = {}, {}
    for l in text.splitlines():
        if not l:
            continue
        m = LINE.match(l)
        assert m, "not a typed line: %r" % l
        obj, iid, sid, pos, name, tags, typ, val = m.groups()
        key = (obj, iid, sid)
        if name == "pxname":
            names.setdefault(key, [None, None])[0] = val
        if name == "svname":
            names.setdefault(key, [None, None])[1] = val
        out[(key, int(pos), name)] = (tags, typ)
    return {(obj,) + tuple(names[(obj, i, s)]) + (pos, name): v for ((obj, i, s), pos, name), v in out.items()}


class Typed(ProxyTestCase):

    def config(self, sock, port, origin):
        return (BASE_GLOBAL + indent("stats socket %s level admin\n" % sock) + BASE_DEFAULTS
                + "frontend fe\n    bind 127.0.0.1:%d\n    default_backend be\n" % port
                + "backend be\n    server s1 %s check inter 200\n    server s2 127.0.0.1:1 disabled\n" % origin.addr)

    def wait_sock(self, path):
        deadline = time.monotonic() + scaled(5)
        while not os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.02)

    def start(self):
        self.o = self.origin(name="s1")
        self.sock = self.path("admin.sock")
        self.start_proxy(self.config(self.sock, free_port(), self.o))
        self.wait_sock(self.sock)

    def test_stat_typed_lines(self):
        self.start()
        out = cli(self.sock, "show stat typed\n")
        self.assertTrue(out.endswith("\n\n"))
        sh = shape(out)
        self.assertEqual(sh[("F", "fe", "FRONTEND", 0, "pxname")], ("KNS", "str"))
        self.assertEqual(sh[("S", "be", "s1", 17, "status")], ("SGP", "str"))
        self.assertEqual(sh[("B", "be", "BACKEND", 19, "act")], ("MGP", "u32"))
        self.assertEqual(sh[("S", "be", "s1", 19, "act")], ("SGP", "u32"))
        # module columns numbered right after HAProxy's own, no "-"
        self.assertEqual(sh[("F", "fe", "FRONTEND", 103, "ssl_sess")], ("MCP", "u64"))
        self.assertNotIn("-", {k[4] for k in sh})
        # a server line carries the server's id
        self.assertRegex(out, r"(?m)^S\.\d+\.2\.1\.svname\.1:KNS:str:s2$")

    def test_info_typed_lines(self):
        self.start()
        out = cli(self.sock, "show info typed\n")
        lines = [l for l in out.splitlines() if l]
        for l in lines:
            self.assertRegex(l, INFO)
        self.assertTrue(lines[0].startswith("0.Name.1:POS:str:"))
        self.assertIn("6.Pid.1:SGP:u32:", out)

    def test_same_shape_as_haproxy(self):
        if not HAPROXY:
            self.skipTest("haproxy is not installed: nothing to compare with")
        self.start()
        # the same configuration through HAProxy
        hsock = self.path("haproxy.sock")
        cfg = self.write_file("haproxy.cfg", self.config(hsock, free_port(), self.o))
        p = subprocess.Popen([HAPROXY, "-db", "-f", cfg], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def stop():
            p.kill()
            p.wait(scaled(5))
        self.addCleanup(stop)
        self.wait_sock(hsock)
        time.sleep(0.5)   # a check or two on both sides
        ours = shape(cli(self.sock, "show stat typed\n"))
        theirs = shape(cli(hsock, "show stat typed\n"))
        common = set(ours) & set(theirs)
        self.assertGreater(len(common), 150)
        diff = {k: (ours[k], theirs[k]) for k in common if ours[k] != theirs[k]}
        self.assertEqual(diff, {})
        # every line HAProxy prints for these rows, proxyd prints too, but
        # for the columns of features it does not have
        missing = {k[3:] for k in set(theirs) - set(ours)}
        allowed = {(89, "src_ilim"), (29, "throttle"), (31, "tracked"), (57, "last_agt"), (62, "agent_status"),
                   (63, "agent_code"), (64, "agent_duration"), (66, "agent_desc"), (70, "agent_rise"),
                   (71, "agent_fall"), (72, "agent_health"), (45, "hanafail"), (25, "qlimit"),
                   # an empty check detail: HAProxy prints it as an empty string
                   (56, "last_chk")}
        self.assertLessEqual(missing, allowed)
        oi = [l.split(":")[0:3] for l in cli(self.sock, "show info typed\n").splitlines() if l]
        ti = [l.split(":")[0:3] for l in cli(hsock, "show info typed\n").splitlines() if l]
        self.assertEqual(oi, ti)
