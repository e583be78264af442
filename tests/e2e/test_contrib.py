"""The service files of contrib/: the systemd unit passes
"systemd-analyze verify" (with the binary under test in place of
/usr/sbin/proxyd, and the manual pages of man/ for its Documentation=
lines), says what contrib/README promises, and its start-up check command
works; the rsyslog snippet passes "rsyslogd -N1" and the logrotate file
"logrotate -d". Each check is skipped, saying which program is missing,
when that program is not installed ("./configure --install-test-deps"
installs systemd; rsyslog and logrotate are only used when present)."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness as H
from harness import scaled

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
UNIT = os.path.join(ROOT, "contrib", "systemd", "proxyd.service")
RSYSLOG = os.path.join(ROOT, "contrib", "rsyslog", "49-proxyd.conf")
LOGROTATE = os.path.join(ROOT, "contrib", "logrotate", "proxyd")


def which(prog):
    return shutil.which(prog) or next((p for p in ("/usr/sbin/" + prog, "/sbin/" + prog)
                                       if os.access(p, os.X_OK)), None)


def unit_entries(text):
    """[(section, key, value)] in order (keys may repeat)."""
    out, section = [], None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        m = re.match(r"\[(.+)\]$", line)
        if m:
            section = m.group(1)
            continue
        k, _, v = line.partition("=")
        out.append((section, k.strip(), v.strip()))
    return out


class Contrib(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="proxyd-contrib-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        with open(UNIT) as f:
            self.unit = f.read()

    def verify(self, text):
        """systemd-analyze verify on <text> as proxyd.service; its output."""
        analyze = which("systemd-analyze")
        if not analyze:
            self.skipTest("systemd-analyze is not installed (Debian package 'systemd')")
        d = os.path.join(self.tmp, "unit")
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "proxyd.service")
        with open(path, "w") as f:
            f.write(text)
        # Documentation=man:proxyd(1) man:proxyd.cfg(5): the pages of man/
        mp = os.path.join(self.tmp, "man")
        for sec, page in (("1", "proxyd.1"), ("5", "proxyd.cfg.5")):
            os.makedirs(os.path.join(mp, "man" + sec), exist_ok=True)
            shutil.copy(os.path.join(ROOT, "man", page), os.path.join(mp, "man" + sec, page))
        env = dict(os.environ, MANPATH=mp, SYSTEMD_LOG_COLOR="0", SYSTEMD_PAGER="")
        r = subprocess.run([analyze, "verify", path], capture_output=True, env=env, cwd=d,
                           timeout=scaled(60))
        return r.returncode, (r.stdout + r.stderr).decode("utf-8", "replace").strip()

    def adapted_unit(self):
        """The unit running the binary under test."""
        return self.unit.replace("/usr/sbin/proxyd", H.BIN)

    def test_unit_verifies(self):
        rc, out = self.verify(self.adapted_unit())
        self.assertEqual((rc, out), (0, ""), "systemd-analyze verify:\n" + out)

    def test_verify_notices_mistakes(self):
        """The check above can fail: a wrong value is reported."""
        broken = self.adapted_unit().replace("Type=notify", "Type=notifyy")
        rc, out = self.verify(broken)
        self.assertIn("notifyy", out)

    def test_unit_settings(self):
        e = unit_entries(self.unit)
        svc = [(k, v) for s, k, v in e if s == "Service"]
        get = lambda key: [v for k, v in svc if k == key]
        self.assertEqual(get("Type"), ["notify"])
        self.assertEqual(get("ExecStartPre"), ["/usr/sbin/proxyd -f $CONFIG -c -q"])
        self.assertEqual(get("ExecStart"), ["/usr/sbin/proxyd -Ws -f $CONFIG -p $PIDFILE $EXTRAOPTS"])
        # the configuration is checked before the master is signalled
        self.assertEqual(get("ExecReload"), ["/usr/sbin/proxyd -f $CONFIG -c -q", "/bin/kill -USR2 $MAINPID"])
        self.assertEqual(get("KillMode"), ["mixed"])
        self.assertEqual(get("Restart"), ["always"])
        self.assertEqual(get("SuccessExitStatus"), ["143"])
        self.assertEqual(get("RuntimeDirectory"), ["proxyd"])
        self.assertEqual(get("ProtectSystem"), ["strict"])
        self.assertIn("/run/proxyd", " ".join(get("ReadWritePaths")))
        self.assertIn("PIDFILE=/run/proxyd/proxyd.pid", " ".join(get("Environment")))
        for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices", "ProtectKernelTunables",
                    "ProtectKernelModules", "ProtectControlGroups"):
            self.assertEqual(get(key), ["true"], key)
        self.assertEqual(get("RestrictAddressFamilies"), ["AF_INET AF_INET6 AF_UNIX"])
        self.assertIn("CAP_NET_BIND_SERVICE", get("CapabilityBoundingSet")[0])
        self.assertTrue(get("LimitNOFILE"))
        self.assertIn(("Install", "WantedBy", "multi-user.target"), e)

    def test_start_check_command(self):
        """ExecStartPre on a valid and on a broken configuration."""
        env = [v for s, k, v in unit_entries(self.unit) if k == "Environment"][0]
        self.assertIn("CONFIG=/etc/proxyd/proxyd.cfg", env)
        good = os.path.join(self.tmp, "good.cfg")
        bad = os.path.join(self.tmp, "bad.cfg")
        with open(good, "w") as f:
            f.write(H.BASE_GLOBAL + H.BASE_DEFAULTS + "frontend fe\n    bind 127.0.0.1:%d\n"
                    "    default_backend be\nbackend be\n    server s1 127.0.0.1:1\n" % H.free_port())
        with open(bad, "w") as f:
            f.write("global\n    no-such-keyword\n")
        pre = [v for s, k, v in unit_entries(self.adapted_unit()) if k == "ExecStartPre"][0]
        for cfg, want_ok in ((good, True), (bad, False)):
            argv = pre.replace("$CONFIG", cfg).split()
            r = subprocess.run(argv, capture_output=True, timeout=scaled(20), cwd=self.tmp)
            self.assertEqual(r.returncode == 0, want_ok, r.stderr.decode())
            if want_ok:
                self.assertEqual(r.stdout + r.stderr, b"", "-q prints nothing on success")

    def test_rsyslog_snippet(self):
        rsyslogd = which("rsyslogd")
        if not rsyslogd:
            self.skipTest("rsyslogd is not installed (Debian package 'rsyslog')")
        # the snippet's input needs imuxsock, loaded by the main rsyslog.conf
        main = os.path.join(self.tmp, "rsyslog.conf")
        with open(main, "w") as f:
            f.write('module(load="imuxsock" SysSock.Use="off")\n$IncludeConfig %s\n' % RSYSLOG)
        r = subprocess.run([rsyslogd, "-N1", "-f", main], capture_output=True, timeout=scaled(30))
        out = (r.stdout + r.stderr).decode("utf-8", "replace")
        self.assertEqual(r.returncode, 0, out)
        self.assertNotIn("error", out.lower())

    def test_logrotate_file(self):
        logrotate = which("logrotate")
        if not logrotate:
            self.skipTest("logrotate is not installed (Debian package 'logrotate')")
        state = os.path.join(self.tmp, "logrotate.state")
        r = subprocess.run([logrotate, "-d", "-s", state, LOGROTATE], capture_output=True, timeout=scaled(30))
        out = (r.stdout + r.stderr).decode("utf-8", "replace")
        self.assertEqual(r.returncode, 0, out)
        self.assertNotIn("error:", out)

    def test_logrotate_and_rsyslog_agree(self):
        """The file rsyslog writes is the one logrotate rotates."""
        with open(RSYSLOG) as f:
            rs = f.read()
        with open(LOGROTATE) as f:
            lr = f.read()
        self.assertIn('file="/var/log/proxyd.log"', rs)
        self.assertIn('Socket="/var/lib/proxyd/dev/log"', rs)
        self.assertIn("local0", rs)
        self.assertRegex(rs, r"(?m)^\s*stop\s*$")
        self.assertIn("/var/log/proxyd.log {", lr)
        for word in ("daily", "rotate", "compress", "postrotate"):
            self.assertRegex(lr, r"(?m)^\s*%s\b" % word)


if __name__ == "__main__":
    unittest.main()
