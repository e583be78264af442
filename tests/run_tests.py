#!/usr/bin/env python3
"""proxyd's single test runner: unit binaries, end-to-end suites, examples.

    python3 tests/run_tests.py --bin ./proxyd --unit-dir build/unit \
        [--only unit|e2e|examples] [-k PATTERN] [-j N] [--oracle haproxy]

Prints the failures with their output, a line with the counts per kind and
the time, and ends with one closing line:
    TOTAL: P passed, F failed, S skipped
Exit status 0 only if nothing failed. See tests/README.
"""

import argparse
import concurrent.futures
import fnmatch
import glob
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
E2E_DIR = os.path.join(HERE, "e2e")
EXAMPLES_DIR = os.path.join(ROOT, "examples")


class Outcome:
    """Result of one test (unit test, e2e test, or example check)."""

    def __init__(self, kind, name, status, detail="", duration=0.0):
        self.kind = kind          # "unit" | "e2e" | "examples"
        self.name = name
        self.status = status      # "pass" | "fail" | "skip"
        self.detail = detail
        self.duration = duration


def pattern_matches(pattern, name):
    if not pattern:
        return True
    if not any(c in pattern for c in "*?["):
        pattern = "*%s*" % pattern
    return fnmatch.fnmatchcase(name, pattern)


def tail(text, limit=12000):
    if len(text) <= limit:
        return text
    return "[... %d bytes cut ...]\n%s" % (len(text) - limit, text[-limit:])


def kill_group(proc):
    """Kill a child started with start_new_session (its group id is its
    PID), then reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def run_bounded(cmd, timeout, env=None, cwd=None):
    """Run cmd in its own session with stdout+stderr merged into a temp
    file; returns (exit status or None on timeout, output text, seconds)."""
    start = time.monotonic()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                start_new_session=True)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            rc = None
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    return rc, text, time.monotonic() - start


# --------------------------------------------------------------------------
# Unit tests (cmocka binaries)
# --------------------------------------------------------------------------

CMOCKA_SUMMARY = re.compile(
    r"^\[\s*(PASSED|FAILED|SKIPPED)\s*\]\s+(\d+)\s+test\(s\)", re.M)


def parse_cmocka(text):
    counts = {"PASSED": 0, "FAILED": 0, "SKIPPED": 0}
    found = False
    for m in CMOCKA_SUMMARY.finditer(text):
        counts[m.group(1)] += int(m.group(2))
        found = True
    return found, counts


def run_unit(args, env):
    outcomes = []
    if not args.unit_dir:
        return outcomes
    if not os.path.isdir(args.unit_dir):
        # make check builds the directory only when tests/unit has tests
        report_progress("unit: no directory %s, no unit test run" % args.unit_dir)
        return outcomes
    bins = sorted(p for p in glob.glob(os.path.join(args.unit_dir, "*"))
                  if os.path.isfile(p) and os.access(p, os.X_OK)
                  and not p.endswith((".d", ".o")))
    for path in bins:
        name = os.path.basename(path)
        if not pattern_matches(args.k, name):
            continue
        rc, text, dur = run_bounded([os.path.abspath(path)], args.unit_timeout,
                                    env=env, cwd=ROOT)
        found, c = parse_cmocka(text)
        for i in range(c["PASSED"]):
            outcomes.append(Outcome("unit", "%s#%d" % (name, i), "pass"))
        for i in range(c["SKIPPED"]):
            outcomes.append(Outcome("unit", "%s#skip%d" % (name, i), "skip"))
        failed = c["FAILED"]
        if rc is None:
            why = "timed out after %ds" % args.unit_timeout
        elif rc < 0:
            why = "killed by signal %d" % -rc
        elif rc != 0:
            why = "exit status %d" % rc
        elif not found:
            why = "no cmocka summary in its output"
        else:
            why = None
        if failed:
            outcomes.append(Outcome("unit", name, "fail",
                                    "%d test(s) failed (%s)\n%s"
                                    % (failed, why or "exit status 0", tail(text))))
            for i in range(1, failed):
                outcomes.append(Outcome("unit", "%s#fail%d" % (name, i), "fail", None))
        elif why:
            outcomes.append(Outcome("unit", name, "fail", "%s\n%s" % (why, tail(text))))
        report_progress("unit %-30s %s (%.1fs)" % (
            name, "ok" if not failed and not why else "FAILED", dur))
    return outcomes


# --------------------------------------------------------------------------
# End-to-end suites
# --------------------------------------------------------------------------

def ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
            return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def port_slices(n):
    """n disjoint port ranges outside the ephemeral range, one per module,
    so that parallel modules never pick the same listening port."""
    lo, hi = ephemeral_range()
    start, end = (10000, lo - 1) if lo > 12000 else (hi + 1, 65535)
    size = (end - start + 1) // max(1, n)
    return ["%d-%d" % (start + i * size, start + (i + 1) * size - 1) for i in range(n)]


def run_e2e_module(path, args, env, port_range=None):
    """Run one unittest module in a child process; returns its outcomes."""
    name = os.path.splitext(os.path.basename(path))[0]
    if port_range:
        env = dict(env, PROXYD_PORT_RANGE=port_range)
    # each module gets its own TMPDIR, removed afterwards even if the
    # module had to be killed
    moddir = tempfile.mkdtemp(prefix="proxyd-%s-" % name)
    result_file = os.path.join(moddir, "results.jsonl")
    open(result_file, "w").close()
    env = dict(env, TMPDIR=moddir)
    try:
        cmd = [sys.executable, os.path.abspath(__file__), "--run-module", path,
               "--result-file", result_file]
        if args.k:
            cmd += ["-k", args.k]
        rc, text, dur = run_bounded(cmd, args.timeout, env=env, cwd=ROOT)
        outcomes = []
        running = None
        with open(result_file) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if rec.get("event") == "start":
                    running = rec["id"]
                    continue
                running = None
                outcomes.append(Outcome("e2e", rec["id"], rec["status"],
                                        rec.get("detail", ""), rec.get("duration", 0)))
        failed_any = any(o.status == "fail" for o in outcomes)
        if rc is None:
            outcomes.append(Outcome("e2e", running or name, "fail",
                                    "module %s timed out after %ds while running %s "
                                    "(%d test(s) had finished)\n--- output ---\n%s"
                                    % (name, args.timeout, running or "?", len(outcomes),
                                       tail(text))))
        elif rc != 0 and not failed_any:
            outcomes.append(Outcome("e2e", name, "fail",
                                    "module exited with status %d\n--- output ---\n%s"
                                    % (rc, tail(text))))
        else:
            # attach the module's output (proxy stderr dumps...) to failures
            for o in outcomes:
                if o.status == "fail" and text.strip():
                    o.detail += "\n--- module output ---\n" + tail(text, 6000)
                    break
        p = sum(o.status == "pass" for o in outcomes)
        f = sum(o.status == "fail" for o in outcomes)
        s = sum(o.status == "skip" for o in outcomes)
        if outcomes or not args.k:
            lines = ["e2e  %-30s %d passed, %d failed, %d skipped (%.1fs)"
                     % (name, p, f, s, dur)]
            if args.verbose:
                tags = {"pass": "ok", "fail": "FAIL", "skip": "skip"}
                lines += ["     %-4s %s (%.1fs)" % (tags[o.status], o.name, o.duration)
                          for o in outcomes]
            report_progress("\n".join(lines))
        return outcomes
    finally:
        shutil.rmtree(moddir, ignore_errors=True)


def run_e2e(args, env):
    modules = sorted(glob.glob(os.path.join(E2E_DIR, "test_*.py")))
    outcomes = []
    if not modules:
        return outcomes
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        slices = port_slices(len(modules))
        futures = [ex.submit(run_e2e_module, m, args, env, r) for m, r in zip(modules, slices)]
        for fut in futures:
            outcomes.extend(fut.result())
    return outcomes


class JsonLinesResult(unittest.TestResult):
    """Writes one JSON line per finished test (a test with failing subtests
    counts once, as failed)."""

    def __init__(self, out):
        super().__init__()
        self.out = out
        self.started = {}
        self.problems = {}

    def _emit(self, test, status, detail=""):
        rec = {"id": test.id(), "status": status, "detail": detail,
               "duration": round(time.monotonic() - self.started.get(test.id(), time.monotonic()), 3)}
        self.out.write(json.dumps(rec) + "\n")
        self.out.flush()

    def startTest(self, test):
        super().startTest(test)
        self.started[test.id()] = time.monotonic()
        self.out.write(json.dumps({"id": test.id(), "event": "start"}) + "\n")
        self.out.flush()

    def addSuccess(self, test):
        super().addSuccess(test)

    def addError(self, test, err):
        super().addError(test, err)
        self.problems.setdefault(test.id(), []).append(self._exc_info_to_string(err, test))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.problems.setdefault(test.id(), []).append(self._exc_info_to_string(err, test))

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self.problems.setdefault(test.id(), []).append(
                "%s\n%s" % (subtest.id(), self._exc_info_to_string(err, test)))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.problems.setdefault(test.id(), [])
        self._emit(test, "skip", reason)
        self.started.pop(test.id(), None)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.problems.setdefault(test.id(), []).append("unexpected success")

    def stopTest(self, test):
        super().stopTest(test)
        tid = test.id()
        if tid not in self.started:
            return  # skipped, already reported
        problems = self.problems.pop(tid, [])
        if problems:
            self._emit(test, "fail", "\n".join(problems))
        else:
            self._emit(test, "pass")
        self.started.pop(tid, None)


def module_main(path, result_file, pattern):
    """Child-process side: load and run one test module."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    name = os.path.splitext(os.path.basename(path))[0]
    with open(result_file, "w") as out:
        result = JsonLinesResult(out)
        try:
            spec = importlib.util.spec_from_file_location(name, path)
            mod = importlib.util.module_from_spec(spec)
            sys.modules[name] = mod
            spec.loader.exec_module(mod)
            loader = unittest.TestLoader()
            if pattern:
                loader.testNamePatterns = [pattern if any(c in pattern for c in "*?[")
                                           else "*%s*" % pattern]
            suite = loader.loadTestsFromModule(mod)
        except Exception:
            out.write(json.dumps({"id": name, "status": "fail",
                                  "detail": "cannot load module:\n" + traceback.format_exc()}) + "\n")
            return 1
        suite.run(result)
        # errors in setUpClass/setUpModule appear as _ErrorHolder entries
        for holder, err in result.errors:
            if not isinstance(holder, unittest.TestCase):
                out.write(json.dumps({"id": str(holder), "status": "fail",
                                      "detail": err}) + "\n")
    return 0


# --------------------------------------------------------------------------
# Examples
# --------------------------------------------------------------------------

def run_examples(args, env):
    outcomes = []
    for path in sorted(glob.glob(os.path.join(EXAMPLES_DIR, "*.cfg"))):
        name = "examples/" + os.path.basename(path)
        if not pattern_matches(args.k, name):
            continue
        rc, text, dur = run_bounded([env["PROXYD_BIN"], "-c", "-f", path], 60,
                                    env=env, cwd=ROOT)
        if rc == 0:
            outcomes.append(Outcome("examples", name, "pass", duration=dur))
        else:
            outcomes.append(Outcome("examples", name, "fail",
                                    "`%s -c -f %s` exited with %s\n%s"
                                    % (env["PROXYD_BIN"], path,
                                       "timeout" if rc is None else rc, tail(text))))
        report_progress("example %-28s %s" % (os.path.basename(path),
                                              "ok" if rc == 0 else "FAILED"))
    return outcomes


# --------------------------------------------------------------------------

_progress_lock = threading.Lock()


def report_progress(line):
    with _progress_lock:
        print(line, flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="./proxyd", help="binary under test")
    ap.add_argument("--unit-dir", help="directory of cmocka test binaries")
    ap.add_argument("--only", choices=("unit", "e2e", "examples"))
    ap.add_argument("-k", metavar="PATTERN",
                    help="only tests whose name matches (substring or glob)")
    ap.add_argument("-j", "--jobs", type=int, default=2,
                    help="e2e modules run in parallel (default 2)")
    ap.add_argument("--oracle", metavar="NAME",
                    help="run against a reference binary (haproxy): "
                         "proxyd-only tests are skipped")
    ap.add_argument("--timeout", type=float, default=None,
                    help="overall timeout of one e2e module, seconds (default 600)")
    ap.add_argument("--unit-timeout", type=float, default=120,
                    help="timeout of one unit binary, seconds (default 120)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="list every e2e test with its result and duration")
    ap.add_argument("--skip-slow", action="store_true",
                    help="skip tests marked slow (sets PROXYD_SKIP_SLOW=1)")
    ap.add_argument("--run-module", help=argparse.SUPPRESS)
    ap.add_argument("--result-file", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.run_module:
        return module_main(args.run_module, args.result_file, args.k)

    start = time.monotonic()
    env = dict(os.environ)
    scale = float(env.get("PROXYD_TIME_SCALE", "1") or "1")
    if args.timeout is None:
        args.timeout = 600 * scale
    if args.oracle:
        found = shutil.which(args.oracle)
        if not found:
            print("oracle %r not found in PATH" % args.oracle)
            print("TOTAL: 0 passed, 1 failed, 0 skipped")
            return 1
        env["PROXYD_BIN"] = found
        env["PROXYD_ORACLE"] = "1"
    else:
        b = args.bin
        if os.sep in b or os.path.exists(b):
            b = os.path.abspath(b)
        else:
            b = shutil.which(b) or os.path.abspath(b)
        env["PROXYD_BIN"] = b
        env.pop("PROXYD_ORACLE", None)
    if args.skip_slow:
        env["PROXYD_SKIP_SLOW"] = "1"

    outcomes = []
    sections = ("unit", "e2e", "examples") if not args.only else (args.only,)
    if "unit" in sections:
        outcomes += run_unit(args, env)
    if "e2e" in sections:
        outcomes += run_e2e(args, env)
    if "examples" in sections:
        outcomes += run_examples(args, env)

    failures = [o for o in outcomes if o.status == "fail"]
    for o in failures:
        if o.detail is None:
            continue  # extra count of a unit binary already shown
        print("\n" + "=" * 70)
        print("FAIL [%s] %s" % (o.kind, o.name))
        print("-" * 70)
        print(o.detail.rstrip())
    if failures:
        print()
    npass = sum(o.status == "pass" for o in outcomes)
    nskip = sum(o.status == "skip" for o in outcomes)
    per = {k: sum(1 for o in outcomes if o.kind == k) for k in ("unit", "e2e", "examples")}
    # The breakdown goes on the line before: the closing line is kept to the
    # plain "N passed, N failed, N skipped" form that CI recognizes.
    print("(unit %d, e2e %d, examples %d) in %.1fs"
          % (per["unit"], per["e2e"], per["examples"], time.monotonic() - start))
    print("TOTAL: %d passed, %d failed, %d skipped" % (npass, len(failures), nskip))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
