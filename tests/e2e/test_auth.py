"""userlist sections and HTTP basic authentication: http_auth(),
http_auth_group(), http-request auth [realm]; passwords in clear text and
as crypt(3) hashes (SHA-512 and MD5, made here with openssl passwd). Also
the configuration errors of ACLs, reported with file:line by proxyd -c."""

import base64
import shutil
import subprocess
import unittest

import harness as H
from harness import (BASE_DEFAULTS, BASE_GLOBAL, ProxyTestCase, free_port, http, indent,
                     run_bin)


def basic(user, password):
    token = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    return ("Authorization", "Basic " + token)


def crypt_hash(kind, password, salt):
    """openssl passwd -6 (SHA-512) or -1 (MD5)."""
    out = subprocess.run(["openssl", "passwd", kind, "-salt", salt, password],
                         capture_output=True, text=True, timeout=20, check=True)
    return out.stdout.strip()


@unittest.skipIf(shutil.which("openssl") is None, "openssl is needed to make password hashes")
class BasicAuth(ProxyTestCase):

    def setUp(self):
        super().setUp()
        self.o = self.origin()
        port = free_port()
        sha = crypt_hash("-6", "s3cret", "abcdefgh")
        md5 = crypt_hash("-1", "md5pass", "xyz")
        self.assertTrue(sha.startswith("$6$") and md5.startswith("$1$"))
        self.start_proxy(BASE_GLOBAL + BASE_DEFAULTS + """
userlist people
    group admins users alice
    group ops
    user alice insecure-password wonder
    user bob password %s groups ops
    user carol password %s groups ops,admins
frontend fe
    bind 127.0.0.1:%d
    acl authed http_auth(people)
    acl admin http_auth_group(people) admins
    acl ops http_auth_group(people) ops
    http-request auth realm "Admin Area" if { path_beg /admin } !admin
    http-request auth if { path_beg /ops } !ops
    http-request auth if { path_beg /any } !authed
    http-request set-header X-User %%[http_auth_group(people)]
    default_backend be
backend be
    server s1 %s
""" % (sha, md5, port, self.o.addr))
        self.addr = ("127.0.0.1", port)

    def get(self, path, *creds):
        return http(self.addr, "GET", path, headers=[basic(*creds)] if creds else None)

    def assertChallenge(self, r, realm):
        self.assertEqual(r.status, 401)
        self.assertEqual(r.header("www-authenticate"), 'Basic realm="%s"' % realm)
        self.assertIn(b"401 Unauthorized", r.body)

    def test_no_credentials(self):
        self.assertChallenge(self.get("/admin"), "Admin Area")
        self.assertChallenge(self.get("/any"), "fe")      # default realm: the proxy's name
        self.assertEqual(self.o.requests, 0)

    def test_clear_text_password(self):
        r = self.get("/admin", "alice", "wonder")
        self.assertEqual(r.status, 200)
        self.assertEqual(self.o.log[-1].header("X-User"), "alice")
        self.assertChallenge(self.get("/admin", "alice", "Wonder"), "Admin Area")
        self.assertChallenge(self.get("/admin", "alice", "wonder "), "Admin Area")
        self.assertChallenge(self.get("/admin", "Alice", "wonder"), "Admin Area")

    def test_sha512_and_md5_hashes(self):
        self.assertEqual(self.get("/ops", "bob", "s3cret").status, 200)
        self.assertEqual(self.o.log[-1].header("X-User"), "bob")
        self.assertEqual(self.get("/ops", "carol", "md5pass").status, 200)
        self.assertChallenge(self.get("/ops", "bob", "wrong"), "fe")
        self.assertChallenge(self.get("/ops", "carol", "s3cret"), "fe")
        # the same good password again (proxyd caches the last one that matched)
        self.assertEqual(self.get("/ops", "bob", "s3cret").status, 200)
        self.assertChallenge(self.get("/ops", "bob", "s3cret!"), "fe")

    def test_groups_from_both_sides(self):
        # alice is an admin through "group admins users alice", carol through
        # her own "groups" list, bob is not
        self.assertEqual(self.get("/admin", "carol", "md5pass").status, 200)
        self.assertChallenge(self.get("/admin", "bob", "s3cret"), "Admin Area")
        self.assertChallenge(self.get("/ops", "alice", "wonder"), "fe")

    def test_malformed_authorization(self):
        for value in ("Basic", "Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode(),
                      "Bearer abc", "basic " + base64.b64encode(b"alice:wonder").decode()):
            with self.subTest(value=value):
                r = http(self.addr, "GET", "/any", headers=[("Authorization", value)])
                if value.startswith("basic "):
                    self.assertEqual(r.status, 200)     # the scheme is case-insensitive
                else:
                    self.assertChallenge(r, "fe")

    def test_keep_alive_after_challenge(self):
        with H.HTTPConn(self.addr) as c:
            self.assertEqual(c.request("GET", "/admin").status, 401)
            r = c.request("GET", "/admin", headers=[basic("alice", "wonder")])
            self.assertEqual(r.status, 200)


class ConfigErrors(ProxyTestCase):
    """Each mistake is refused by proxyd -c with the file and line."""

    def refused(self, lines, *words, line=11, extra=""):
        cfg = (BASE_GLOBAL + BASE_DEFAULTS + "frontend fe\n    bind 127.0.0.1:%d\n" % free_port()
               + indent(lines) + "    default_backend be\nbackend be\n    server s1 127.0.0.1:9\n"
               + extra)
        path = self.write_file("t.cfg", cfg)
        rc, out, err = run_bin(["-c", "-f", path])
        self.assertNotEqual(rc, 0, err)
        if line:
            self.assertIn("[%s:%d]" % (path, line), err)
        for w in words:
            self.assertIn(w, err)
        return err

    def test_unknown_acl(self):
        self.refused("http-request deny if nosuchacl", "nosuchacl")
        self.refused("acl a path_beg /a\n    use_backend be if a b", "'b'", line=12)

    def test_unknown_fetch_and_converter(self):
        self.refused("acl a nosuchfetch(x) foo", "nosuchfetch")
        self.refused("acl a path,nosuchconv foo", "nosuchconv")

    def test_bad_regex(self):
        self.refused("acl a path_reg ^(abc", "^(abc")
        self.refused("acl a hdr_reg(x) [z-a]", "[z-a]")

    def test_bad_patterns(self):
        self.refused("acl a src 300.1.2.3", "300.1.2.3")
        self.refused("acl a hdr_cnt(x) abc", "abc")
        self.refused("acl a path -m nosuchmethod x", "nosuchmethod")
        self.refused("acl a path -f %s" % self.path("missing.lst"), "missing.lst")

    def test_bad_pattern_in_a_file(self):
        self.write_file("nets.lst", "127.0.0.1\n10.0.0.0/8\n300.0.0.0/8\n")
        self.refused("acl a src -f %s" % self.path("nets.lst"), "300.0.0.0/8")

    def test_bad_argument_count(self):
        self.refused("acl a path,field(1) x", "field")
        self.refused("acl a hdr(a,1,2) x", "hdr")
        self.refused("acl a int(1),add(x) 1", "add")
        self.refused("acl a str(a),regsub(a) x", "regsub")

    def test_bad_condition(self):
        self.refused("use_backend be if { path_beg /a", "}")
        self.refused("use_backend be when TRUE", "when")

    @H.proxyd_only("HAProxy accepts 'if' followed by nothing (an empty condition)")
    def test_empty_condition(self):
        self.refused("use_backend be if", "if")

    def test_unknown_userlist(self):
        self.refused("acl a http_auth(nobody)", "nobody", line=None)


if __name__ == "__main__":
    unittest.main()
