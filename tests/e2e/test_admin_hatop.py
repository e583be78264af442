"""hatop (Debian package "hatop"), the curses console for HAProxy's admin
socket, run against proxyd's socket inside a detached tmux session (its own
server, "tmux -L <unique name>", killed at the end): the screen shows the
version line, the frontend, the backends and their servers, and follows a
server put in maintenance from another socket connection."""

import os
import shutil
import subprocess
import time
import uuid

from harness import scaled
from test_admin_socket import CliCase

HATOP = shutil.which("hatop")
TMUX = shutil.which("tmux")


class Hatop(CliCase):

    def setUp(self):
        super().setUp()
        if not HATOP or not TMUX:
            self.skipTest("hatop and tmux are needed (./configure --install-test-deps installs them)")

    def tmux(self, *args, check=True):
        return subprocess.run([TMUX, "-L", self.tmux_name] + list(args), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=scaled(10), check=check).stdout.decode()

    def stop_tmux(self):
        pid = None
        try:
            pid = int(self.tmux("display-message", "-p", "#{pid}", check=False).strip() or 0)
        except (ValueError, subprocess.TimeoutExpired):
            pass
        self.tmux("kill-server", check=False)
        if pid:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass

    def screen_until(self, words, timeout=10):
        deadline = time.monotonic() + scaled(timeout)
        screen = ""
        while time.monotonic() < deadline:
            screen = self.tmux("capture-pane", "-p", check=False)
            if all(w in screen for w in words):
                return screen
            time.sleep(0.2)
        self.fail("hatop never showed %r; screen:\n%s" % (words, screen))

    def test_hatop_shows_backends_and_servers(self):
        self.start_cli(backend_lines=None, origins=2)
        self.tmux_name = "proxyd-hatop-" + uuid.uuid4().hex[:12]
        # tmux finds its socket under TMUX_TMPDIR: keep it in the test's directory
        os.environ["TMUX_TMPDIR"] = self.tmp
        self.addCleanup(os.environ.pop, "TMUX_TMPDIR", None)
        self.tmux("new-session", "-d", "-x", "200", "-y", "50", "%s -s %s -i 1" % (HATOP, self.sock))
        self.addCleanup(self.stop_tmux)
        screen = self.screen_until(["Version:", ">>> fe", ">>> be", "FRONTEND", "BACKEND", "s1", "s2"])
        self.assertIn("HATop", screen)
        # a change made meanwhile shows at the next refresh
        self.assertEqual(self.run_cli("disable server be/s2"), "\n")
        screen = self.screen_until(["MAINT"])
        line = [l for l in screen.splitlines() if l.startswith("s2 ")]
        self.assertTrue(line and "MAINT" in line[0], screen)
