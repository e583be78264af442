"""'show route' on the admin socket (a proxyd command): the rules and ACLs a
request would meet, the backend and the server it would reach, computed
without sending anything; checked against where real requests then go
(the dry run must not move the rotation)."""

import re

from harness import BASE_DEFAULTS, BASE_GLOBAL, ProxyTestCase, free_port, http, indent, proxyd_only
from test_admin_socket import cli


@proxyd_only("'show route' is a proxyd command")
class Route(ProxyTestCase):

    def setUp(self):
        super().setUp()
        self.o = {n: self.origin(name=n) for n in ("w1", "w2", "a1", "a2", "b1", "b2")}
        self.sock = self.path("admin.sock")
        port = free_port()
        a = lambda n: self.o[n].addr
        cfg = (BASE_GLOBAL + indent("stats socket %s level admin\n" % self.sock) + BASE_DEFAULTS
               + "frontend fe\n    bind 127.0.0.1:%d\n" % port
               + indent("acl is_api path_beg /api\n"
                        "acl from_lan src 10.0.0.0/8\n"
                        "acl beta hdr(x-beta) -m str yes\n"
                        "http-request deny if { path /forbidden }\n"
                        "http-request set-header X-Trace 1 if is_api from_lan\n"
                        "use_backend api if is_api !beta\n"
                        "use_backend beta if beta\n"
                        "default_backend web\n")
               + "backend web\n" + indent("cookie SRV insert indirect nocache\n"
                                          "server w1 %s cookie w1\nserver w2 %s cookie w2\n" % (a("w1"), a("w2")))
               + "backend api\n" + indent("balance leastconn\nserver a1 %s\nserver a2 %s\n" % (a("a1"), a("a2")))
               + "backend beta\n" + indent("balance uri\nhash-type consistent\nserver b1 %s\nserver b2 %s\n"
                                           % (a("b1"), a("b2"))))
        self.start_proxy(cfg)
        self.addr = ("127.0.0.1", port)

    def route(self, args):
        return cli(self.sock, "show route %s\n" % args)

    def test_default_backend_and_rotation_unchanged(self):
        out = self.route("GET /")
        self.assertIn("frontend: fe (the first HTTP frontend)", out)
        self.assertIn("backend: web (default_backend)", out)
        self.assertIn("persistence: cookie SRV not in the request", out)
        nxt = re.search(r"next in rotation: (w\d)", out).group(1)
        # asking again does not move the rotation
        self.assertIn("next in rotation: %s" % nxt, self.route("fe GET /"))
        self.assertEqual(http(self.addr, "GET", "/").header("X-Origin"), nxt)
        nxt2 = re.search(r"next in rotation: (w\d)", self.route("GET /")).group(1)
        self.assertNotEqual(nxt2, nxt)
        self.assertEqual(http(self.addr, "GET", "/").header("X-Origin"), nxt2)

    def test_acl_results_and_use_backend(self):
        out = self.route("GET /api/v1")
        self.assertIn("[is_api=true] [from_lan=unknown: needs connection data] => unknown", out)
        self.assertIn("(taken as not matching)", out)
        self.assertIn("use_backend api (", out)
        self.assertIn("[is_api=true] [beta=false] => true", out)
        self.assertIn("backend: api (use_backend rule #1)", out)
        self.assertRegex(out, r"balance leastconn: would pick a[12]")

    def test_headers_change_the_route_and_hash_pick_is_real(self):
        out = self.route("GET /api/x?y=1 X-Beta: yes")
        self.assertIn("[beta=true] => true", out)
        self.assertIn("backend: beta (use_backend rule #2)", out)
        m = re.search(r"balance uri: hash key [0-9a-f]{8}, would pick (b\d)", out)
        self.assertTrue(m, out)
        for _ in range(3):
            r = http(self.addr, "GET", "/api/x?y=1", headers={"X-Beta": "yes"})
            self.assertEqual(r.header("X-Origin"), m.group(1))

    def test_final_rule_stops_the_route(self):
        out = self.route("GET /forbidden")
        self.assertIn("#1 http-request deny (", out)
        self.assertIn("result: the proxy answers itself (http-request deny at", out)
        self.assertNotIn("backend:", out)
        self.assertEqual(http(self.addr, "GET", "/forbidden").status, 403)

    def test_persistence_cookie(self):
        out = self.route("GET / Cookie: a=b\\; SRV=w2")
        self.assertIn("persistence: cookie SRV=w2 names server w2", out)
        self.assertIn("server: w2 (persistence", out)
        self.assertNotIn("balance roundrobin", out)
        cli(self.sock, "disable server web/w2\n")
        out = self.route("GET / Cookie: SRV=w2")
        self.assertIn("not usable now", out)
        self.assertIn("next in rotation: w1", out)

    def test_errors(self):
        self.assertTrue(self.route("GET").startswith("Usage: show route"))
        self.assertTrue(self.route("GET / nocolon").startswith("Headers are written"))
        self.assertIn("The request is invalid", self.route("GET bad\\x01uri"))
        # nothing was sent to any origin
        self.assertEqual(sum(o.requests for o in self.o.values()), 0)
