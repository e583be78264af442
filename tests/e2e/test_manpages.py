"""Manual pages: man/proxyd.1 and man/proxyd.cfg.5 against the binary.

  * every keyword printed by "proxyd --list-keywords" has an entry in
    proxyd.cfg.5: a .TP paragraph whose tag starts with the keyword in bold.
    The kinds with a section of their own must have it there: server and
    bind options, actions, options, balance algorithms, sample fetches,
    converters, ACL keywords and predefined ACLs (see KIND_SUBSECTION);
  * the entry of each predefined ACL shows its definition (the first bold
    text after its name), and that definition is the ACL's: a proxy that
    declares an ACL with the definition read from the page and compares it
    with the predefined one on a set of requests sees no difference;
  * a keyword taken out of the page is noticed, for every kind;
  * every option printed by "proxyd -h" is in bold in the OPTIONS section
    of proxyd.1;
  * both pages render with "man --warnings" without any warning.

Everything the test checks comes from the binary ("--list-keywords",
"-h", and the behaviour of predefined ACLs), not from the C sources.

The pages are read from their roff source: bold text is what .B, the bold
arguments of .BI/.BR/.IB/.RB, and \\fB...\\fR spans produce, with the roff
escapes (\\-, \\e, \\(aq...) turned back into plain characters. A keyword
only mentioned in ordinary text does not count.

proxyd-only: HAProxy has its own pages (skipped when PROXYD_ORACLE is set).
Standard library only; "man" is needed for the rendering test only.
"""

import os
import re
import shutil
import subprocess
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MAN1 = os.path.join(ROOT, "man", "proxyd.1")
MAN5 = os.path.join(ROOT, "man", "proxyd.cfg.5")

BIN = os.environ.get("PROXYD_BIN", "./proxyd")
if os.sep in BIN:
    BIN = os.path.abspath(BIN)
ORACLE = os.environ.get("PROXYD_ORACLE") not in (None, "", "0")

# --list-keywords kinds documented in a subsection of their own: the bold
# name must appear in a (sub)section whose title ("SECTION / Subsection")
# contains this text. Server options are in "PROXY SECTIONS / Server
# options" and "HEALTH CHECKS / Server options for checks".
KIND_SUBSECTION = {
    "option": "Options",
    "server": "Server options",
    "bind": "Bind options",
    "action": "Actions of http-request rules",
    "balance": "LOAD BALANCING / Algorithms",
    "fetch": "SAMPLE FETCHES",
    "converter": "CONVERTERS",
    "acl": "ACLS AND CONDITIONS / ACL keywords",
    "predefined-acl": "ACLS AND CONDITIONS / Predefined ACLs",
}

# Every kind "proxyd --list-keywords" prints today; a kind it stops
# printing is a regression of the listing, a new kind is checked anyway
# (anywhere in the page, until it gets a line in KIND_SUBSECTION).
KINDS = {"keyword", "option", "server", "bind", "action", "balance",
         "fetch", "converter", "acl", "predefined-acl"}

# A few entries of each kind that must be listed (so that a listing that
# lost a kind, or prints it empty, is noticed) and the least number of
# entries of the kinds that have many.
KNOWN = [("keyword", "timeout client"), ("keyword", "balance"), ("keyword", "option httpchk"),
         ("option", "allbackups"), ("server", "weight"), ("server", "check"),
         ("bind", "maxconn"), ("action", "set-header"), ("balance", "roundrobin"),
         ("balance", "uri"), ("fetch", "path"), ("fetch", "req.hdr"), ("fetch", "src"),
         ("fetch", "var"), ("fetch", "http_auth"), ("converter", "lower"),
         ("converter", "regsub"), ("acl", "path_beg"), ("acl", "hdr_dom"), ("acl", "src"),
         ("predefined-acl", "TRUE"), ("predefined-acl", "METH_GET")]
AT_LEAST = {"keyword": 40, "fetch": 40, "converter": 15, "acl": 50, "predefined-acl": 15}

# Options main.c refuses as "not supported yet": not in "proxyd -h", but
# proxyd.1 says so for each of them.
UNSUPPORTED_OPTIONS = ["-W", "-Ws", "-S"]


def run(args, timeout=20):
    p = subprocess.run([BIN] + list(args), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


# --------------------------------------------------------------------------
# A small reader of man(7) sources: bold spans and the (sub)section of each
# --------------------------------------------------------------------------

_SPECIAL = {
    "-": "-", "e": "\\", " ": " ", "~": " ", "0": " ", "&": "", "|": "",
    "^": "", "%": "", "c": "",
    "(aq": "'", "(dq": '"', "(ha": "^", "(ti": "~", "(bu": "*",
    "(em": "--", "(en": "-", "(hy": "-", "(lq": '"', "(rq": '"',
}
_ESCAPE = re.compile(r"\\(\(..|\[[^\]]*\]|.)")
_FONT = re.compile(r"\\f(\(..|\[[^\]]*\]|.)")


def plain(text):
    """Roff text (without font escapes) as the characters it prints."""
    def repl(m):
        key = m.group(1)
        if key.startswith("["):
            key = "(" + key[1:-1] if len(key) == 4 else key[1:-1]
        return _SPECIAL.get(key, "")
    return " ".join(_ESCAPE.sub(repl, text).split())


def macro_args(rest):
    """Arguments of a macro line, with roff's quoting ("" is a quote)."""
    args, i, n = [], 0, len(rest)
    while i < n:
        while i < n and rest[i] in " \t":
            i += 1
        if i >= n:
            break
        if rest[i] == '"':
            i += 1
            cur = []
            while i < n:
                if rest[i] == '"':
                    if i + 1 < n and rest[i + 1] == '"':
                        cur.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                if rest[i] == "\\" and i + 1 < n:
                    cur.append(rest[i:i + 2])
                    i += 2
                    continue
                cur.append(rest[i])
                i += 1
            args.append("".join(cur))
        else:
            j = i
            while j < n and rest[j] not in " \t":
                j += 2 if rest[j] == "\\" else 1
            args.append(rest[i:j])
            i = j
    return args


def bold_runs(text):
    """Bold pieces of a line of roff text (font escapes inline; the line
    starts in the roman font and every run ends with the line)."""
    runs, cur, font, prev, pos = [], [], "R", "R", 0
    for m in _FONT.finditer(text):
        if font == "B":
            cur.append(text[pos:m.start()])
        name = m.group(1).strip("([]")
        new = prev if name == "P" else ("B" if name.startswith("B") or name == "3" else "R")
        if font == "B" and new != "B":
            runs.append("".join(cur))
            cur = []
        prev, font = font, new
        pos = m.end()
    if font == "B":
        cur.append(text[pos:])
        runs.append("".join(cur))
    return [r for r in (plain(x) for x in runs) if r]


def parse_page(source):
    """[(section title, bold span, source line index, is_tag)] of a man
    page: the title is "SH title / SS title" of the (sub)section the span
    is in, and is_tag tells whether it is on the tag line of a .TP entry
    (the line after .TP), i.e. where a keyword is defined."""
    spans, sh, ss, tag_next = [], "", "", False
    for idx, line in enumerate(source.split("\n")):
        if line.startswith(('.\\"', "'\\\"")):
            continue
        is_tag, tag_next = tag_next, False
        text = None
        if line.startswith("."):
            parts = line[1:].split(None, 1)
            name = parts[0] if parts else ""
            args = macro_args(parts[1] if len(parts) > 1 else "")
            if name == "TP":
                tag_next = True
                continue
            if name == "SH":
                sh, ss = plain(" ".join(args)), ""
                continue
            if name == "SS":
                ss = plain(" ".join(args))
                continue
            if name == "B":
                text = "\\fB" + " ".join(args) + "\\fR"
            elif name in ("BI", "BR", "IB", "RB", "IR", "RI"):
                fonts = name
                text = "".join("\\f%s%s" % (fonts[k % 2], a) for k, a in enumerate(args)) + "\\fR"
            elif name in ("I",):
                text = "\\fI" + " ".join(args) + "\\fR"
            else:
                text = " ".join(args)
        else:
            text = line
        for run_ in bold_runs(text):
            spans.append(("%s / %s" % (sh, ss), run_, idx, is_tag))
    return spans


def span_matches(span, name):
    return span == name or span.startswith(name + " ")


def keyword_found(spans, kind, name):
    """Is there an entry for the keyword: a .TP tag starting with it in
    bold (in its kind's subsection, if it has one)?"""
    names = [name] + (["option " + name] if kind == "option" else [])
    where = KIND_SUBSECTION.get(kind)
    for title, span, _, is_tag in spans:
        if not is_tag or (where and where not in title):
            continue
        if any(span_matches(span, n) for n in names):
            return True
    return False


def missing_keywords(source, keywords):
    spans = parse_page(source)
    return [(k, n) for k, n in keywords if not keyword_found(spans, k, n)]


def without_keyword(source, kind, name):
    """The page with every line that bolds <name> (as <kind>) removed: what
    the page would be if the keyword were not documented."""
    names = [name] + (["option " + name] if kind == "option" else [])
    drop = {idx for _, span, idx, _ in parse_page(source)
            if any(span_matches(span, n) for n in names)}
    return "\n".join(l for i, l in enumerate(source.split("\n")) if i not in drop)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def list_keywords():
    rc, out, err = run(["--list-keywords"])
    if rc != 0:
        raise AssertionError("proxyd --list-keywords exited %d: %s" % (rc, err))
    kws = []
    for line in out.splitlines():
        if not line.strip():
            continue
        kind, _, name = line.partition(" ")
        if not name:
            raise AssertionError("unexpected --list-keywords line %r" % line)
        kws.append((kind, name.strip()))
    return kws


def entry_lines(source, where, name):
    """Source line indexes of the .TP entry of <name> in the (sub)section
    whose title contains <where>: its tag line and the lines up to the
    next paragraph macro; None when there is no such entry."""
    lines = source.split("\n")
    tags = {idx for title, span, idx, is_tag in parse_page(source)
            if is_tag and where in title and span_matches(span, name)}
    if not tags:
        return None
    idx = min(tags)
    out = [idx]
    for i in range(idx + 1, len(lines)):
        if lines[i].startswith((".TP", ".SS", ".SH", ".PP", ".IP")):
            break
        out.append(i)
    return out


def predefined_definition(source, name):
    """The definition shown by the entry of predefined ACL <name>: the
    first bold text of the entry after its tag line; None without one."""
    idxs = entry_lines(source, KIND_SUBSECTION["predefined-acl"], name)
    if idxs is None:
        return None
    after = set(idxs[1:])
    for _, span, idx, _ in parse_page(source):
        if idx in after:
            return span
    return None


def help_options():
    """Options named by "proxyd -h": the option words at the start of its
    lines ("-v, -vv" gives both, "-dM[<byte>]" gives -dM) and quoted ones
    ('--')."""
    rc, out, err = run(["-h"])
    if rc != 0:
        raise AssertionError("proxyd -h exited %d: %s" % (rc, err))
    opts = []
    for line in out.splitlines():
        m = re.match(r"  (-\S.*?)(?: {2,}|$)", line)
        if m:
            for tok in m.group(1).split(","):
                o = re.match(r"\s*(--?[A-Za-z][\w-]*)", tok)
                if o:
                    opts.append(o.group(1))
        opts += re.findall(r"'(--?[\w-]*)'", line)
    return list(dict.fromkeys(opts))


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------

# --------------------------------------------------------------------------
# Predefined ACLs: the page's definitions against the binary
# --------------------------------------------------------------------------

# Requests that tell the predefined ACLs apart: methods, versions, target
# forms, bodies announced or chunked. Each one closes its connection.
PROBE_REQUESTS = [
    b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    b"HEAD /h HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
    b"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    b"3\r\nabc\r\n0\r\n\r\n",
    b"PUT /u HTTP/1.0\r\nContent-Length: 0\r\n\r\n",
    b"DELETE /d HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    b"OPTIONS * HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    b"TRACE / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    b"GET http://example.com/abs?x=1 HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n",
    b"GET /old HTTP/1.0\r\n\r\n",
]


def definition_mismatches(definitions):
    """Runs the binary with, for each predefined ACL, an ACL declared with
    <definitions>[name] and rules answering 500 when only the predefined
    ACL matches and 501 when only the declared one does. Returns
    [(name, request line, "only the predefined ACL"|"only the definition")],
    or raises when the proxy refuses the configuration."""
    import tempfile
    import harness as H

    names = sorted(definitions)
    port = H.free_port()
    lines = ["global", "    maxconn 100", "defaults", "    mode http",
             "    timeout connect 2s", "    timeout client 5s", "    timeout server 5s",
             "frontend fe", "    bind 127.0.0.1:%d" % port]
    for i, name in enumerate(names):
        lines.append("    acl page_%d %s" % (i, definitions[name]))
    for i, name in enumerate(names):
        lines.append("    http-request return status 500 hdr X-Acl %s if %s !page_%d" % (name, name, i))
        lines.append("    http-request return status 501 hdr X-Acl %s if !%s page_%d" % (name, name, i))
    lines.append("    http-request return status 200")
    config = "\n".join(lines) + "\n"
    with tempfile.TemporaryDirectory(prefix="proxyd-man-") as tmp:
        proxy = H.Proxy(tmp, config, wait_for=[("127.0.0.1", port)])
        proxy.start()
        try:
            out = []
            for req in PROBE_REQUESTS:
                data = H.raw_exchange(("127.0.0.1", port), req)
                status = H.status_of(data)
                first = req.split(b"\r\n", 1)[0].decode()
                if status == 200:
                    continue
                m = re.search(rb"\r\nX-Acl: *([^\r]*)", data, re.I)
                if status not in (500, 501) or not m:
                    raise AssertionError("unexpected answer to %r: %r" % (first, data[:300]))
                out.append((m.group(1).decode(), first,
                            "only the predefined ACL" if status == 500 else "only the definition"))
            return out
        finally:
            proxy.stop()


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------

@unittest.skipIf(ORACLE, "proxyd-only: HAProxy has its own manual pages")
class ConfigPage(unittest.TestCase):

    def test_listing_is_sane(self):
        # "proxyd --list-keywords" itself: every kind, known entries, and
        # enough of the numerous kinds
        kws = list_keywords()
        kinds = {k for k, _ in kws}
        self.assertTrue(KINDS <= kinds, "kinds missing from --list-keywords: %s"
                        % sorted(KINDS - kinds))
        for kw in KNOWN:
            self.assertIn(kw, kws, "not printed by --list-keywords: %s %s" % kw)
        for kind, least in sorted(AT_LEAST.items()):
            n = sum(1 for k, _ in kws if k == kind)
            self.assertGreaterEqual(n, least, "only %d %s entries listed" % (n, kind))

    def test_every_keyword_is_documented(self):
        missing = missing_keywords(read(MAN5), list_keywords())
        self.assertEqual(missing, [],
                         "keywords of 'proxyd --list-keywords' without an entry (a .TP tag "
                         "starting with them in bold, in their kind's section) in "
                         "man/proxyd.cfg.5 (kind, name): %s" % missing)

    def test_a_missing_keyword_is_detected(self):
        # the check above must fail when a keyword is not documented: take
        # one of each kind (one-word and two-word names apart) out of the
        # page and look again
        source = read(MAN5)
        picked = {}
        for kind, name in list_keywords():
            picked.setdefault((kind, " " in name), name)
        self.assertTrue({k for k, _ in picked} >= KINDS)
        for (kind, _), name in sorted(picked.items()):
            mutated = without_keyword(source, kind, name)
            self.assertTrue(mutated != source, "%s %s: no line of the page bolds it" % (kind, name))
            self.assertIn((kind, name), missing_keywords(mutated, [(kind, name)]),
                          "removing %s %r from the page went unnoticed" % (kind, name))
        # a two-word keyword must be bold as a whole, not word by word
        self.assertIn(("keyword", "timeout http-keep-alive"),
                      missing_keywords(".B timeout\n.B http\\-keep\\-alive\n",
                                       [("keyword", "timeout http-keep-alive")]))
        # a server option only counts in a server options subsection
        self.assertIn(("server", "weight"),
                      missing_keywords(".SS Options\n.B weight\n", [("server", "weight")]))
        self.assertEqual([], missing_keywords(".SS Server options\n.TP\n.BI \"weight \" number\n",
                                              [("server", "weight")]))
        self.assertEqual([], missing_keywords(".SH HEALTH CHECKS\n.SS Server options for checks\n"
                                              ".TP\n.BI \"inter \" time\n", [("server", "inter")]))
        # a mention in running text is not an entry
        self.assertIn(("server", "weight"),
                      missing_keywords(".SS Server options\n.PP\n.B weight\n", [("server", "weight")]))
        # a balance algorithm only counts among the algorithms, and its
        # name must be a bold word of its own ("hdr(" is not "hdr")
        algo = ".SH LOAD BALANCING\n.SS Algorithms\n.TP\n%s\n"
        self.assertEqual([], missing_keywords(algo % "\\fBhdr\\fR(\\fIname\\fR)", [("balance", "hdr")]))
        self.assertIn(("balance", "hdr"),
                      missing_keywords(algo % "\\fBhdr(\\fIname\\fB)\\fR", [("balance", "hdr")]))
        self.assertIn(("balance", "uri"),
                      missing_keywords(".SH LOAD BALANCING\n.SS Hashing\n.TP\n.B uri\n",
                                       [("balance", "uri")]))
        # an ACL keyword entry is not a fetch entry, and the reverse
        acl_only = ".SH ACLS AND CONDITIONS\n.SS ACL keywords\n.TP\n.BR path \", \" path_beg\n"
        self.assertIn(("fetch", "path"), missing_keywords(acl_only, [("fetch", "path")]))
        self.assertEqual([], missing_keywords(acl_only, [("acl", "path_beg")]))
        fetch_only = ".SH SAMPLE FETCHES\n.SS HTTP request\n.TP\n\\fBpath\\fR \\(em string\n"
        self.assertEqual([], missing_keywords(fetch_only, [("fetch", "path")]))
        self.assertIn(("acl", "path"), missing_keywords(fetch_only, [("acl", "path")]))


@unittest.skipIf(ORACLE, "proxyd-only: HAProxy has its own manual pages")
class PredefinedACLs(unittest.TestCase):

    def definitions(self, source):
        names = [n for k, n in list_keywords() if k == "predefined-acl"]
        return {name: predefined_definition(source, name) for name in names}

    def test_each_entry_shows_a_definition(self):
        defs = self.definitions(read(MAN5))
        self.assertGreaterEqual(len(defs), AT_LEAST["predefined-acl"])
        missing = sorted(n for n, d in defs.items() if not d)
        self.assertEqual(missing, [], "predefined ACLs whose entry shows no definition in bold "
                         "right after the name: %s" % missing)

    def test_definitions_are_those_of_the_binary(self):
        defs = self.definitions(read(MAN5))
        if not all(defs.values()):
            self.skipTest("some entries show no definition (see the test above)")
        wrong = definition_mismatches(defs)
        self.assertEqual(wrong, [], "predefined ACLs whose definition in man/proxyd.cfg.5 gives "
                         "another result than the ACL itself (name, request, which one "
                         "matched): %s" % wrong)

    def test_a_wrong_definition_is_detected(self):
        source = read(MAN5)
        self.assertEqual(predefined_definition(source, "METH_GET"), "method GET HEAD")
        # a definition read from the page, not from elsewhere
        page = (".SH ACLS AND CONDITIONS\n.SS Predefined ACLs\n.TP\n.B METH_GET\n"
                ".BR \"method GET\" :\nnote the missing HEAD.\n")
        self.assertEqual(predefined_definition(page, "METH_GET"), "method GET")
        # and a definition that drifted from the binary is noticed
        defs = self.definitions(source)
        defs["METH_GET"] = "method GET"
        wrong = definition_mismatches(defs)
        self.assertIn(("METH_GET", "HEAD /h HTTP/1.1", "only the predefined ACL"), wrong)


@unittest.skipIf(ORACLE, "proxyd-only: HAProxy has its own manual pages")
class CommandPage(unittest.TestCase):

    def option_spans(self):
        return [span for title, span, _, _ in parse_page(read(MAN1)) if title.startswith("OPTIONS")]

    def test_every_help_option_is_documented(self):
        opts = help_options()
        for o in ("-f", "-c", "-cc", "-h", "--list-keywords", "--"):
            self.assertIn(o, opts, "option parsing of 'proxyd -h' lost %s: %s" % (o, opts))
        spans = self.option_spans()
        missing = [o for o in opts if not any(span_matches(s, o) for s in spans)]
        self.assertEqual(missing, [],
                         "options of 'proxyd -h' not in bold in OPTIONS of man/proxyd.1: %s"
                         % missing)

    def test_unsupported_options_are_documented(self):
        spans = self.option_spans()
        missing = [o for o in UNSUPPORTED_OPTIONS if not any(span_matches(s, o) for s in spans)]
        self.assertEqual(missing, [], "not-supported-yet options missing from proxyd.1: %s"
                         % missing)

    def test_a_missing_option_is_detected(self):
        original = read(MAN1)
        source = original.replace(".BR \\-dM [\\fIbyte\\fR]\n", "")
        self.assertNotEqual(source, original)
        spans = [span for title, span, _, _ in parse_page(source) if title.startswith("OPTIONS")]
        self.assertFalse(any(span_matches(s, "-dM") for s in spans))
        self.assertTrue(any(span_matches(s, "-db") for s in spans))


@unittest.skipIf(ORACLE, "proxyd-only: HAProxy has its own manual pages")
@unittest.skipIf(shutil.which("man") is None, "man is not installed (apt-get install man-db groff-base)")
class Rendering(unittest.TestCase):

    def render(self, path):
        env = dict(os.environ, MANWIDTH="80", MANPAGER="cat", PAGER="cat")
        p = subprocess.run(["man", "--warnings", "-l", path], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=60)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")

    def check(self, path, title):
        rc, out, err = self.render(path)
        self.assertEqual(rc, 0, "man -l %s failed: %s" % (path, err))
        self.assertEqual(err.strip(), "", "warnings while rendering %s:\n%s" % (path, err))
        self.assertIn(title, out)

    def test_proxyd_1_renders_without_warnings(self):
        self.check(MAN1, "PROXYD(1)")

    def test_proxyd_cfg_5_renders_without_warnings(self):
        self.check(MAN5, "PROXYD.CFG(5)")


if __name__ == "__main__":
    unittest.main()
