"""Load balancing through the real binary: every balance algorithm over
three origins, backups, queues (server maxconn, timeout queue, maxqueue),
retries and option redispatch, hash-type and balance errors at -c.

The servers here have no health checks ("check"): a server whose
connections are refused stays "up" for the balancer. Servers are taken
out of the balance with "disabled", and a configuration is restarted to
compare two sets of servers.
"""

import threading
import time
import unittest

import harness as H
from harness import ORACLE, DeadPort, ProxyTestCase, free_port, proxyd_only, render


class Balance(ProxyTestCase):
    """Origins s1..sN (their X-Origin header names them), one frontend and
    one backend `be` whose lines may use {{s1}}..{{sN}} for their
    addresses."""

    def origins(self, n=3):
        self.o = [self.origin(name="s%d" % (i + 1)) for i in range(n)]
        return self.o

    def start_be(self, backend, defaults="", extra_values=None):
        port = free_port()
        values = {"s%d" % (i + 1): o.addr for i, o in enumerate(self.o)}
        values.update(extra_values or {})
        cfg = (H.BASE_GLOBAL + H.BASE_DEFAULTS + H.indent(defaults)
               + "frontend fe\n    bind 127.0.0.1:%d\n    default_backend be\n" % port
               + "backend be\n" + H.indent(render(backend, **values)))
        self.proxy = self.start_proxy(cfg)
        self.addr = ("127.0.0.1", port)
        return self.proxy

    def restart(self, backend, **kw):
        self._stop_proxy(self.proxy)
        return self.start_be(backend, **kw)

    def get(self, path="/", headers=None, source=None, status=200):
        """One request on a new connection; the name of the origin that
        answered (None for a response of the proxy)."""
        r = H.http(self.addr, "GET", path, headers=[("Connection", "close")] + list(headers or []),
                   source=source)
        self.assertEqual(r.status, status, "%s: %r" % (path, r.body[:200]))
        return r.header("x-origin")

    def seq(self, n, prefix="/r", **kw):
        """n requests, one after the other, to prefix + "0", "1", ..."""
        return [self.get("%s%d" % (prefix, i), **kw) for i in range(n)]

    def counts(self, names):
        return {n: names.count(n) for n in set(names)}

    def concurrent(self, paths, stagger=0.15, headers=None):
        """Requests started `stagger` seconds apart, each on its own
        connection: [(status, origin, elapsed, t_start)] in start order."""
        results = {}

        def go(i, path):
            t0 = time.monotonic()
            try:
                r = H.http(self.addr, "GET", path, headers=[("Connection", "close")] + list(headers or []),
                           timeout=H.scaled(20))
                results[i] = (r.status, r.header("x-origin"), time.monotonic() - t0, t0)
            except Exception as e:  # reported by the assertions
                results[i] = (repr(e), None, time.monotonic() - t0, t0)

        threads = []
        for i, p in enumerate(paths):
            t = threading.Thread(target=go, args=(i, p), daemon=True)
            t.start()
            threads.append(t)
            time.sleep(stagger)
        for t in threads:
            t.join(H.scaled(30))
        return [results.get(i) for i in range(len(paths))]

    def in_flight(self, n, timeout=None):
        """Waits until the origins together have seen n requests."""
        deadline = time.monotonic() + (timeout or H.scaled(5))
        while time.monotonic() < deadline:
            if sum(o.requests for o in self.o) >= n:
                return True
            time.sleep(0.01)
        return False

    def background(self, path):
        """A request in a thread; returns (thread, result list)."""
        out = []

        def go():
            try:
                out.append(self.get(path))
            except Exception as e:  # reported by the caller
                out.append(e)
        t = threading.Thread(target=go, daemon=True)
        t.start()
        return t, out

    def origin_of_uri(self, prefix):
        """The names of the origins that received a request whose URI
        starts with `prefix`."""
        return sorted({o.name for o in self.o for r in o.log if r.uri.startswith(prefix)})

    def assertMaxRun(self, names, name, limit):
        run = best = 0
        for n in names:
            run = run + 1 if n == name else 0
            best = max(best, run)
        self.assertLessEqual(best, limit, "%s picked %d times in a row: %s" % (name, best, names))


class RoundRobin(Balance):

    def test_weights_3_1_over_40_requests(self):
        self.origins(3)
        self.start_be("""
balance roundrobin
server s1 {{s1}} weight 3
server s2 {{s2}} weight 1
server s3 {{s3}} weight 0
""")
        names = self.seq(40)
        self.assertEqual(self.counts(names), {"s1": 30, "s2": 10}, names)
        # interleaved: never the whole share of s1 in one go
        self.assertMaxRun(names, "s1", 3)
        self.assertEqual(self.o[2].requests, 0)

    def test_equal_weights_take_turns(self):
        self.origins(3)
        self.start_be("server s1 {{s1}}\nserver s2 {{s2}}\nserver s3 {{s3}}")
        names = self.seq(30)
        for i in range(0, 30, 3):
            self.assertEqual(sorted(names[i:i + 3]), ["s1", "s2", "s3"], names)

    def test_smooth_with_one_heavy_server(self):
        # weights 5,1,1,1,1,1: the heavy server alternates with the others
        # (HAProxy: s1 s2 s1 s3 s1 s4 ...), not five in a row then the rest
        self.origins(6)
        self.start_be("balance roundrobin\nserver s1 {{s1}} weight 5\n"
                      + "".join("server s%d {{s%d}} weight 1\n" % (i, i) for i in range(2, 7)))
        names = self.seq(30)
        self.assertEqual(names.count("s1"), 15, names)
        self.assertMaxRun(names, "s1", 2)
        for i in range(len(names) - 4):
            self.assertLessEqual(names[i:i + 5].count("s1"), 4, names)

    def test_keepalive_requests_balanced_one_by_one(self):
        # every request of a keep-alive connection is balanced on its own
        self.origins(2)
        self.start_be("server s1 {{s1}} weight 3\nserver s2 {{s2}} weight 1")
        with H.HTTPConn(self.addr) as c:
            names = [c.request("GET", "/ka%d" % i).header("x-origin") for i in range(20)]
        self.assertEqual(self.counts(names), {"s1": 15, "s2": 5}, names)

    def test_static_rr_weights(self):
        self.origins(3)
        self.start_be("""
balance static-rr
server s1 {{s1}} weight 2
server s2 {{s2}} weight 1
server s3 {{s3}} weight 1
""")
        names = self.seq(40)
        self.assertEqual(self.counts(names), {"s1": 20, "s2": 10, "s3": 10}, names)
        self.assertMaxRun(names, "s1", 2)

    def test_disabled_server_skipped(self):
        self.origins(3)
        self.start_be("server s1 {{s1}}\nserver s2 {{s2}} disabled\nserver s3 {{s3}}")
        names = self.seq(20)
        self.assertEqual(self.counts(names), {"s1": 10, "s3": 10}, names)

    def test_all_weight_0_or_disabled_gives_503(self):
        self.origins(2)
        self.start_be("server s1 {{s1}} weight 0\nserver s2 {{s2}} disabled")
        self.assertIsNone(self.get("/none", status=503))
        self.assertEqual(self.o[0].requests + self.o[1].requests, 0)


class Backups(Balance):

    def test_backup_unused_while_a_primary_is_up(self):
        self.origins(3)
        self.start_be("server s1 {{s1}}\nserver s2 {{s2}} disabled\nserver s3 {{s3}} backup")
        self.assertEqual(set(self.seq(10)), {"s1"})
        self.assertEqual(self.o[2].requests, 0)

    def test_first_backup_only_when_all_primaries_are_disabled(self):
        self.origins(4)
        self.start_be("""
server s1 {{s1}} disabled
server s2 {{s2}} disabled
server s3 {{s3}} backup
server s4 {{s4}} backup
""")
        self.assertEqual(set(self.seq(12)), {"s3"})
        self.assertEqual(self.o[3].requests, 0)

    def test_first_usable_backup_in_declaration_order(self):
        self.origins(4)
        self.start_be("""
server s1 {{s1}} disabled
server s2 {{s2}} backup disabled
server s3 {{s3}} backup weight 1
server s4 {{s4}} backup weight 10
""")
        self.assertEqual(set(self.seq(6)), {"s3"})

    def test_allbackups(self):
        self.origins(4)
        self.start_be("""
option allbackups
server s1 {{s1}} disabled
server s2 {{s2}} disabled
server s3 {{s3}} backup weight 1
server s4 {{s4}} backup weight 3
""")
        names = self.seq(20)
        self.assertEqual(self.counts(names), {"s3": 5, "s4": 15}, names)

    def test_primaries_at_weight_0_leave_it_to_the_backup(self):
        self.origins(3)
        self.start_be("server s1 {{s1}} weight 0\nserver s2 {{s2}} weight 0\nserver s3 {{s3}} backup")
        self.assertEqual(set(self.seq(5)), {"s3"})

    def test_refusing_primary_stays_up_without_health_checks(self):
        # no "check": a primary whose connections are refused is still up
        # for the balancer, so the backup is not used: 503
        self.origins(1)
        dead = DeadPort()
        self.start_be("retries 0\nserver s1 {{dead}}\nserver s2 {{s1}} backup",
                      extra_values={"dead": dead.addr})
        self.assertIsNone(self.get("/x", status=503))
        self.assertEqual(self.o[0].requests, 0)

    def test_backups_with_leastconn_and_hash(self):
        self.origins(3)
        for algo in ("leastconn", "uri", "first", "random"):
            self.start_be("balance %s\nserver s1 {{s1}} disabled\nserver s2 {{s2}} backup\n"
                          "server s3 {{s3}} backup" % algo)
            self.assertEqual(set(self.seq(6, "/b/")), {"s2"}, algo)
            self._stop_proxy(self.proxy)


class LeastConn(Balance):

    def test_one_at_a_time_take_turns(self):
        self.origins(3)
        self.start_be("balance leastconn\nserver s1 {{s1}}\nserver s2 {{s2}}\nserver s3 {{s3}}")
        names = self.seq(12)
        for i in range(0, 12, 3):
            self.assertEqual(sorted(names[i:i + 3]), ["s1", "s2", "s3"], names)

    def test_idle_servers_take_turns_whatever_their_weight(self):
        # as HAProxy 2.6: a server without streams counts as empty
        self.origins(2)
        self.start_be("balance leastconn\nserver s1 {{s1}} weight 3\nserver s2 {{s2}} weight 1")
        names = self.seq(16)
        self.assertEqual(self.counts(names), {"s1": 8, "s2": 8}, names)

    def test_slow_requests_steer_new_ones_to_the_idle_server(self):
        self.origins(3)
        self.start_be("balance leastconn\nserver s1 {{s1}}\nserver s2 {{s2}}\nserver s3 {{s3}}")
        t1, r1 = self.background("/slow1?delay=2")
        self.assertTrue(self.in_flight(1))
        t2, r2 = self.background("/slow2?delay=2")
        self.assertTrue(self.in_flight(2))
        busy = set(self.origin_of_uri("/slow"))
        self.assertEqual(len(busy), 2, busy)
        idle = ({"s1", "s2", "s3"} - busy).pop()
        # both slow requests still running: every short one goes to the idle server
        fast = self.seq(6, "/fast/")
        self.assertEqual(set(fast), {idle}, fast)
        for t in (t1, t2):
            t.join(H.scaled(10))
        self.assertEqual(sorted(r1 + r2), sorted(busy))

    def test_weights_share_long_requests(self):
        # 8 slow requests at once over weights 3:1: about 3 times as many
        # on s1 (6 or 5 depending on how ties are broken)
        self.origins(2)
        self.start_be("balance leastconn\nserver s1 {{s1}} weight 3\nserver s2 {{s2}} weight 1")
        res = self.concurrent(["/long%d?delay=1.5" % i for i in range(8)], stagger=0.05)
        self.assertEqual([r[0] for r in res], [200] * 8, res)
        on_s1 = sum(1 for r in res if r[1] == "s1")
        self.assertIn(on_s1, (5, 6), res)


class First(Balance):

    def test_fills_servers_in_order(self):
        self.origins(3)
        self.start_be("""
balance first
server s1 {{s1}} maxconn 1
server s2 {{s2}} maxconn 1
server s3 {{s3}} maxconn 1
""")
        # one at a time: always the first server
        self.assertEqual(set(self.seq(5)), {"s1"})
        t1, r1 = self.background("/slow1?delay=1.5")
        self.assertTrue(self.in_flight(6))
        t2, r2 = self.background("/slow2?delay=1.5")
        self.assertTrue(self.in_flight(7))
        self.assertEqual(self.origin_of_uri("/slow1"), ["s1"])
        self.assertEqual(self.origin_of_uri("/slow2"), ["s2"])
        self.assertEqual(set(self.seq(3, "/third/")), {"s3"})
        for t in (t1, t2):
            t.join(H.scaled(10))
        self.assertEqual(r1 + r2, ["s1", "s2"])
        # all free again: back to the first
        self.assertEqual(self.get("/after"), "s1")

    def test_weights_do_not_matter(self):
        self.origins(3)
        self.start_be("balance first\nserver s1 {{s1}} weight 1\nserver s2 {{s2}} weight 100\n"
                      "server s3 {{s3}} weight 100")
        self.assertEqual(set(self.seq(10)), {"s1"})


class SourceHash(Balance):

    SOURCES = ["127.0.0.%d" % i for i in range(2, 14)]

    def check_sources(self, hash_type):
        self.origins(3)
        self.start_be("balance source\nhash-type %s\nserver s1 {{s1}}\nserver s2 {{s2}}\nserver s3 {{s3}}"
                      % hash_type)
        seen = {}
        for rnd in range(3):
            for src in self.SOURCES:
                name = self.get("/src", source=src)
                self.assertEqual(seen.setdefault(src, name), name, "%s moved (%s)" % (src, hash_type))
        self.assertGreaterEqual(len(set(seen.values())), 2, seen)
        return seen

    def test_stable_per_address_map_based(self):
        seen = self.check_sources("map-based")
        # consecutive addresses spread over the whole map
        self.assertEqual(len(set(seen.values())), 3, seen)

    def test_stable_per_address_consistent(self):
        self.check_sources("consistent")


class UriHash(Balance):

    def test_same_uri_same_server(self):
        self.origins(3)
        self.start_be("balance uri\nserver s1 {{s1}}\nserver s2 {{s2}}\nserver s3 {{s3}}")
        first = {}
        for rnd in range(3):
            for i in range(20):
                path = "/obj/%d.png" % i
                name = self.get(path + "?r=%d" % rnd)   # the query is not hashed
                self.assertEqual(first.setdefault(path, name), name, path)
        self.assertGreaterEqual(len(set(first.values())), 2, first)

    def test_depth_and_len(self):
        self.origins(3)
        self.start_be("balance uri depth 2\nserver s1 {{s1}}\nserver s2 {{s2}}\nserver s3 {{s3}}")
        for d in range(8):
            names = {self.get("/dir%d/sub/file%d" % (d, i)) for i in range(4)}
            self.assertEqual(len(names), 1, "/dir%d/sub/*: %s" % (d, names))
        self.restart("balance uri len 6\nserver s1 {{s1}}\nserver s2 {{s2}}\nserver s3 {{s3}}")
        for d in range(8):
            names = {self.get("/abc%d/%d" % (d, i)) for i in range(4)}
            self.assertEqual(len(names), 1, names)

    def test_whole_hashes_the_query(self):
        self.origins(3)
        self.start_be("balance uri whole\nserver s1 {{s1}}\nserver s2 {{s2}}\nserver s3 {{s3}}")
        names = [self.get("/page?id=%d" % i) for i in range(24)]
        self.assertGreaterEqual(len(set(names)), 2, names)
        # and still sticky
        self.assertEqual([self.get("/page?id=%d" % i) for i in range(24)], names)


class ParamAndHeaderHash(Balance):

    def test_url_param_sticky_and_keyless_rotation(self):
        self.origins(3)
        self.start_be("balance url_param uid\nserver s1 {{s1}}\nserver s2 {{s2}}\nserver s3 {{s3}}")
        first = {}
        for rnd in range(3):
            for u in range(15):
                name = self.get("/app?x=%d&uid=user%d&y=1" % (rnd, u))
                self.assertEqual(first.setdefault(u, name), name, u)
        self.assertGreaterEqual(len(set(first.values())), 2, first)
        # no such parameter: round robin over the servers
        names = self.seq(30, "/app?other=")
        self.assertEqual(self.counts(names), {"s1": 10, "s2": 10, "s3": 10}, names)

    def test_hdr_sticky_and_keyless_rotation(self):
        self.origins(3)
        self.start_be("balance hdr(X-User)\nserver s1 {{s1}}\nserver s2 {{s2}}\nserver s3 {{s3}}")
        first = {}
        for rnd in range(3):
            for u in range(15):
                name = self.get("/h%d" % rnd, headers=[("x-user", "alice%d" % u)])
                self.assertEqual(first.setdefault(u, name), name, u)
        self.assertGreaterEqual(len(set(first.values())), 2, first)
        names = self.seq(30, "/nohdr/")
        self.assertEqual(self.counts(names), {"s1": 10, "s2": 10, "s3": 10}, names)
        # an empty value counts as no value
        names = [self.get("/empty", headers=[("X-User", "")]) for _ in range(6)]
        self.assertEqual(len(set(names)), 3, names)

    def test_hdr_use_domain_only(self):
        self.origins(3)
        self.start_be("balance hdr(host) use_domain_only\nserver s1 {{s1}}\nserver s2 {{s2}}\n"
                      "server s3 {{s3}}")
        for d in range(6):
            hosts = ["www.site%d.com" % d, "api.site%d.com" % d, "site%d.com" % d, "a.b.site%d.org" % d]
            names = {self.get("/", headers=[("Host", h)]) for h in hosts}
            self.assertEqual(len(names), 1, "site%d: %s" % (d, names))

    def test_hdr_first_value_of_a_list(self):
        # "k, other" hashes as "k" (HAProxy hashes the first value)
        self.origins(3)
        self.start_be("balance hdr(X-User)\nserver s1 {{s1}}\nserver s2 {{s2}}\nserver s3 {{s3}}")
        for u in range(8):
            alone = self.get("/l", headers=[("X-User", "k%d" % u)])
            self.assertEqual(self.get("/l", headers=[("X-User", "k%d, zz%d" % (u, u))]), alone, u)
            self.assertEqual(self.get("/l", headers=[("X-User", "k%d"  % u), ("X-User", "q")]), alone, u)

    def test_hdr_use_domain_only_dotless_host_keeps_its_port(self):
        # without a dot the whole value is hashed, port included: the same
        # host on three ports does not always land on one server
        self.origins(3)
        self.start_be("balance hdr(host) use_domain_only\nserver s1 {{s1}}\nserver s2 {{s2}}\n"
                      "server s3 {{s3}}")
        spread = 0
        for d in range(6):
            names = {self.get("/", headers=[("Host", "h%d%s" % (d, port))]) for port in ("", ":8080", ":9")}
            spread += len(names) > 1
        self.assertGreater(spread, 0)

    def test_keyless_rotation_consistent(self):
        # requests without a key still reach every server
        self.origins(3)
        self.start_be("balance url_param uid\nhash-type consistent\nserver s1 {{s1}}\n"
                      "server s2 {{s2}}\nserver s3 {{s3}}")
        names = self.seq(48, "/nokey/")
        self.assertEqual(set(names), {"s1", "s2", "s3"}, names)


class ConsistentHash(Balance):
    """A server taken out (disabled, configuration restarted): with
    consistent hashing only its keys move; with map-based others move too."""

    N = 60
    SERVERS = "server s1 {{s1}}\nserver s2 {{s2}}%s\nserver s3 {{s3}}"

    def mapping(self):
        return {i: self.get("/item/%d" % i) for i in range(self.N)}

    def run_both(self, hash_type):
        self.origins(3)
        head = "balance uri\nhash-type %s\n" % hash_type
        self.start_be(head + self.SERVERS % "")
        before = self.mapping()
        self.restart(head + self.SERVERS % " disabled")
        after = self.mapping()
        return before, after

    def test_consistent_moves_only_the_share_of_the_server_taken_out(self):
        before, after = self.run_both("consistent")
        owned = [k for k, v in before.items() if v == "s2"]
        self.assertTrue(owned, before)
        for k, v in before.items():
            if v != "s2":
                self.assertEqual(after[k], v, "key %d moved from %s" % (k, v))
            else:
                self.assertIn(after[k], ("s1", "s3"))
        # roughly a third of the keys were s2's
        self.assertLess(len(owned), self.N * 2 // 3, before)

    def test_map_based_moves_more(self):
        before, after = self.run_both("map-based")
        moved_others = [k for k, v in before.items() if v != "s2" and after[k] != v]
        self.assertTrue(moved_others, "no key of s1/s3 moved: %s %s" % (before, after))
        self.assertNotIn("s2", after.values())

    def test_consistent_back_to_the_same_servers(self):
        self.origins(3)
        cfg = "balance uri\nhash-type consistent djb2\n" + self.SERVERS % ""
        self.start_be(cfg)
        before = self.mapping()
        self.restart(cfg)
        self.assertEqual(self.mapping(), before)


class SameServersAsHAProxy(Balance):
    """Map-based hashing puts a key where HAProxy 2.6 puts it (same hash
    functions, same map), so that moving a configuration from HAProxy
    keeps every key on its server. Expected mappings were taken from
    haproxy 2.6.12: the origin (1-3) answering /o/0 .. /o/39 under
    balance uri."""

    def mapping(self, weights, hash_type="map-based"):
        self.origins(3)
        self.start_be("balance uri\nhash-type %s\n" % hash_type
                      + "".join("server s%d {{s%d}} weight %d\n" % (i + 1, i + 1, w)
                                for i, w in enumerate(weights)))
        return "".join(self.get("/o/%d" % i)[1] for i in range(40))

    def test_map_based_equal_weights(self):
        self.assertEqual(self.mapping((1, 1, 1)), "1231231231312312312312312312312312312312")

    def test_map_based_djb2_equal_weights(self):
        self.assertEqual(self.mapping((1, 1, 1), "map-based djb2"),
                         self.expected_djb2())

    def expected_djb2(self):
        # djb2 of "/o/<i>" modulo 3, servers in declaration order
        out = ""
        for i in range(40):
            h = 5381
            for c in b"/o/%d" % i:
                h = (h * 33 + c) & 0xffffffff
            out += str(h % 3 + 1)
        return out

    @unittest.skipUnless(ORACLE, "known difference: proxyd lays out the map of unequal weights "
                                 "in rounds (1 2 3 2 3 3), HAProxy smoothly (1 3 2 3 2 3)")
    def test_map_based_unequal_weights(self):
        self.assertEqual(self.mapping((1, 2, 3)), "3231323231232313232332313232312313232313")


class Random(Balance):

    def test_follows_weights(self):
        self.origins(3)
        self.start_be("balance random\nserver s1 {{s1}} weight 3\nserver s2 {{s2}} weight 1\n"
                      "server s3 {{s3}} weight 0")
        names = self.seq(200)
        share = names.count("s1") / len(names)
        # 0.75 expected; one standard deviation is 0.03
        self.assertGreater(share, 0.62, self.counts(names))
        self.assertLess(share, 0.88, self.counts(names))
        self.assertEqual(names.count("s3"), 0)

    def test_draws_argument(self):
        self.origins(3)
        self.start_be("balance random(3)\nserver s1 {{s1}}\nserver s2 {{s2}}\nserver s3 {{s3}}")
        names = self.seq(60)
        self.assertEqual(set(names), {"s1", "s2", "s3"}, self.counts(names))


class Queues(Balance):

    def test_backend_queue_served_in_arrival_order(self):
        # two servers of maxconn 1, six slow requests: the four that wait
        # are served as slots free, oldest first
        self.origins(2)
        self.start_be("timeout queue 20s\nserver s1 {{s1}} maxconn 1\nserver s2 {{s2}} maxconn 1")
        paths = ["/q%d?delay=0.6" % i for i in range(6)]
        res = self.concurrent(paths, stagger=0.1)
        self.assertEqual([r[0] for r in res], [200] * 6, res)
        log = sorted((r for o in self.o for r in o.log), key=lambda r: r.time)
        self.assertEqual([r.uri for r in log], paths)
        # never more than one at a time on a server
        for o in self.o:
            times = [r.time for r in o.log]
            for a, b in zip(times, times[1:]):
                self.assertGreaterEqual(b - a, 0.55)

    def test_server_queue_served_in_arrival_order(self):
        # the same URI always hashes to the same server: its own queue
        self.origins(3)
        self.start_be("balance uri\ntimeout queue 20s\nserver s1 {{s1}} maxconn 1\n"
                      "server s2 {{s2}} maxconn 1\nserver s3 {{s3}} maxconn 1")
        paths = ["/same?n=%d&delay=0.4" % i for i in range(4)]
        res = self.concurrent(paths, stagger=0.1)
        self.assertEqual([r[0] for r in res], [200] * 4, res)
        self.assertEqual(len({r[1] for r in res}), 1, res)
        o = [x for x in self.o if x.requests][0]
        self.assertEqual([r.uri for r in o.log], paths)
        self.assertGreaterEqual(res[3][2], 1.1)

    def test_timeout_queue_503_from_the_backend_queue(self):
        self.origins(2)
        self.start_be("timeout queue 1s\nserver s1 {{s1}} maxconn 1\nserver s2 {{s2}} maxconn 1")
        res = self.concurrent(["/a?delay=3", "/b?delay=3", "/c"], stagger=0.2)
        self.assertEqual([r[0] for r in res[:2]], [200, 200], res)
        status, origin, elapsed, _ = res[2]
        self.assertEqual(status, 503, res)
        self.assertElapsed(elapsed, 0.8, 1.9)
        self.assertEqual(sum(1 for o in self.o for r in o.log if r.path == "/c"), 0)

    def test_timeout_queue_defaults_to_timeout_connect(self):
        self.origins(1)
        self.start_be("timeout connect 700ms\nserver s1 {{s1}} maxconn 1")
        res = self.concurrent(["/a?delay=2.5", "/b"], stagger=0.2)
        self.assertEqual(res[0][0], 200, res)
        self.assertEqual(res[1][0], 503, res)
        self.assertElapsed(res[1][2], 0.6, 1.5)

    def test_maxqueue_of_the_server_a_key_goes_to(self):
        # balance uri: the requests wait for their own server; once its
        # queue holds maxqueue of them the next one gets a 503 at once
        self.origins(2)
        self.start_be("balance uri\ntimeout queue 10s\nserver s1 {{s1}} maxconn 1 maxqueue 1\n"
                      "server s2 {{s2}} maxconn 1 maxqueue 1")
        res = self.concurrent(["/same?delay=1"] * 3, stagger=0.15)
        self.assertEqual([r[0] for r in res], [200, 200, 503], res)
        self.assertLess(res[2][2], H.scaled(0.5))
        self.assertGreaterEqual(res[1][2], 1.5)

    @proxyd_only("HAProxy 2.6.12 queues in the backend without limit when all servers are full "
                 "(maxqueue only bounds the queue of a given server): all three are served")
    def test_maxqueue_bounds_the_backend_queue(self):
        self.origins(1)
        self.start_be("timeout queue 10s\nserver s1 {{s1}} maxconn 1 maxqueue 1")
        res = self.concurrent(["/x?delay=1"] * 3, stagger=0.15)
        self.assertEqual([r[0] for r in res], [200, 200, 503], res)


class Redispatch(Balance):
    """A refused connection on s1 (nothing listens) with s2 up. With timeout
    connect 300ms the turn-around before each retry is 300ms, so the time
    to the answer tells on which retry the request left s1.

    HAProxy 2.6.12 does not do what its documentation says here (measured
    with these very tests under the oracle):
      * with "option redispatch" (any interval, even 0) and an algorithm
        that is not a hash (roundrobin, static-rr, leastconn, first,
        random) and more than one active server, it leaves the server at
        the first failed connection, without a turn-around;
      * with a hash algorithm the interval applies, but the retry that
        goes to another server has no turn-around;
      * map-based hashing does not avoid the failed server: the request
        comes back to it.
    proxyd follows the documentation: the interval for every algorithm,
    a turn-around before every retry, and the failed server avoided."""

    def start_dead_first(self, options, algo="first", retries=3, extra=""):
        self.origins(3)
        self.dead = DeadPort()
        self.start_be("balance %s\nretries %d\ntimeout connect 300ms\n%s\n%s\n"
                      "server s1 {{dead}}\nserver s2 {{s2}}" % (algo, retries, extra, options),
                      extra_values={"dead": self.dead.addr})

    def timed(self, path="/r", status=200):
        t0 = time.monotonic()
        name = self.get(path, status=status)
        return name, time.monotonic() - t0

    def test_no_redispatch_503_after_the_retries(self):
        self.start_dead_first("")
        name, elapsed = self.timed(status=503)
        self.assertElapsed(elapsed, 0.8, 1.6)    # 3 turn-arounds
        self.assertEqual(self.o[1].requests, 0)

    def test_redispatch_0_still_leaves_a_refusing_server(self):
        # as HAProxy 2.6.12: with "option redispatch 0" an algorithm without
        # a key still redispatches at the first failure (only the hashes
        # keep the request on its server)
        self.start_dead_first("option redispatch 0")
        name, elapsed = self.timed()
        self.assertEqual(name, "s2")
        self.assertLess(elapsed, H.scaled(0.25))

    def test_redispatch_0_is_off_for_hashes(self):
        self.start_dead_first("option redispatch 0", algo="uri")
        # the keys of s1 fail after the 3 turn-arounds, the others pass
        for i in range(6):
            t0 = time.monotonic()
            r = H.http(self.addr, "GET", "/k%d" % i, headers=[("Connection", "close")])
            if r.status == 503:
                self.assertElapsed(time.monotonic() - t0, 0.8, 1.6)
            else:
                self.assertEqual(r.header("x-origin"), "s2")

    def test_redispatch_on_the_last_retry(self):
        self.start_dead_first("option redispatch")
        name, elapsed = self.timed()
        self.assertEqual(name, "s2")
        # as HAProxy 2.6: a non-hash algorithm redispatches at the first failure
        self.assertLess(elapsed, H.scaled(0.25))

    def test_redispatch_every_retry(self):
        self.start_dead_first("option redispatch 1")
        name, elapsed = self.timed()
        self.assertEqual(name, "s2")
        self.assertLess(elapsed, H.scaled(0.25))

    def test_redispatch_nth_retry_before_the_last(self):
        self.start_dead_first("option redispatch -2")
        name, elapsed = self.timed()
        self.assertEqual(name, "s2")
        self.assertLess(elapsed, H.scaled(0.25))

    def test_redispatch_with_roundrobin_and_leastconn(self):
        for algo in ("roundrobin", "leastconn"):
            self.start_dead_first("option redispatch", algo=algo)
            # s1 is picked first by both
            name, elapsed = self.timed()
            self.assertEqual(name, "s2")
            self.assertLess(elapsed, H.scaled(0.25))
            self._stop_proxy(self.proxy)

    def test_redispatch_last_retry_consistent_hash(self):
        self.start_dead_first("option redispatch", algo="uri", extra="hash-type consistent")
        slow = 0
        for i in range(8):
            name, elapsed = self.timed("/k%d" % i)
            self.assertEqual(name, "s2")
            if elapsed > 0.25:
                slow += 1
                # as HAProxy: 2 turn-arounds, the redispatching retry goes
                # at once
                self.assertElapsed(elapsed, 0.5, 1.0)
        self.assertGreater(slow, 0, "no key hashed to the refusing server")

    def test_redispatch_map_based(self):
        self.start_dead_first("option redispatch", algo="uri", extra="hash-type map-based")
        statuses = set()
        for i in range(8):
            r = H.http(self.addr, "GET", "/k%d" % i, headers=[("Connection", "close")])
            statuses.add(r.status)
            if r.status == 200:
                self.assertEqual(r.header("x-origin"), "s2")
        if ORACLE:
            # the map brings the request back to s1 at every retry
            self.assertEqual(statuses, {200, 503})
        else:
            # the failed server is avoided on the last retry
            self.assertEqual(statuses, {200})

    def test_redispatch_leaves_a_hashed_server(self):
        # a consistent-hash key whose server refuses goes to another one
        self.origins(3)
        dead = DeadPort()
        self.start_be("balance uri\nhash-type consistent\nretries 1\noption redispatch\n"
                      "timeout connect 300ms\nserver s1 {{dead}}\nserver s2 {{s2}}\nserver s3 {{s3}}",
                      extra_values={"dead": dead.addr})
        names = [self.get("/key%d" % i) for i in range(12)]
        self.assertTrue(set(names) <= {"s2", "s3"}, names)


class TcpMode(Balance):
    """mode tcp: a connection is balanced once, when it arrives."""

    def start_tcp(self, backend):
        port = free_port()
        values = {"s%d" % (i + 1): o.addr for i, o in enumerate(self.o)}
        cfg = (H.BASE_GLOBAL + H.BASE_DEFAULTS
               + "listen li\n    mode tcp\n    bind 127.0.0.1:%d\n" % port
               + H.indent(render(backend, **values)))
        self.proxy = self.start_proxy(cfg)
        self.addr = ("127.0.0.1", port)

    def test_roundrobin(self):
        self.origins(2)
        self.start_tcp("balance roundrobin\nserver s1 {{s1}} weight 2\nserver s2 {{s2}} weight 1")
        names = self.seq(12)
        self.assertEqual(self.counts(names), {"s1": 8, "s2": 4}, names)

    def test_source(self):
        self.origins(3)
        self.start_tcp("balance source\nserver s1 {{s1}}\nserver s2 {{s2}}\nserver s3 {{s3}}")
        for src in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):
            self.assertEqual(len({self.get("/t", source=src) for _ in range(3)}), 1)

    def test_layer7_hash_falls_back_to_roundrobin(self):
        # as HAProxy: a warning at start-up, then round robin
        self.origins(2)
        self.start_tcp("balance url_param id\nserver s1 {{s1}}\nserver s2 {{s2}}")
        names = [self.get("/p?id=same") for _ in range(6)]
        self.assertEqual(self.counts(names), {"s1": 3, "s2": 3}, names)
        self.assertIn("Layer 7 hash not possible for proxy 'li' (needs 'mode http'). "
                      "Falling back to round robin.", self.proxy.stderr())


class ConfigErrors(ProxyTestCase):

    def check(self, backend_lines, ok, *fragments):
        cfg = (H.BASE_DEFAULTS + "frontend fe\n    bind 127.0.0.1:%d\n    default_backend be\n"
               % free_port() + "backend be\n" + H.indent(backend_lines)
               + "    server s1 127.0.0.1:9\n")
        path = self.write_file("t.cfg", cfg)
        rc, out, err = H.run_bin(["-c", "-f", path])
        if ok:
            self.assertEqual(rc, 0, err)
        else:
            self.assertNotEqual(rc, 0, "accepted:\n" + cfg)
            self.assertIn("[ALERT]", err)
            line = cfg.splitlines().index("backend be") + 2
            self.assertIn("t.cfg:%d]" % line, err)
            for f in fragments:
                self.assertIn(f, err)

    def test_hash_type_errors(self):
        self.check("hash-type foo", False, "hash-type")
        self.check("hash-type", False, "hash-type")
        self.check("hash-type consistent foo", False, "hash-type")
        self.check("hash-type map-based sdbm foo", False, "hash-type")

    def test_hash_type_valid(self):
        for line in ("hash-type map-based", "hash-type consistent", "hash-type consistent sdbm",
                     "hash-type consistent djb2 avalanche", "hash-type map-based crc32",
                     "hash-type map-based sdbm avalanche"):
            self.check(line, True)

    @proxyd_only("HAProxy 2.6.12 accepts the wt6 hash function")
    def test_hash_type_wt6_refused(self):
        self.check("hash-type consistent wt6", False, "wt6")

    def test_balance_errors(self):
        self.check("balance foo", False, "balance")
        self.check("balance url_param", False, "url_param")
        self.check("balance hdr", False, "hdr")
        self.check("balance hdr()", False, "hdr")
        self.check("balance hdr(host) foo", False, "use_domain_only")
        self.check("balance random(0)", False, "random")
        self.check("balance uri len 0", False, "0")
        self.check("balance uri depth x", False, "x")

    def test_layer7_hash_in_tcp_mode_warns(self):
        for algo in ("uri", "url_param id", "hdr(host)"):
            cfg = (H.BASE_DEFAULTS + "frontend fe\n    mode tcp\n    bind 127.0.0.1:%d\n"
                   "    default_backend be\nbackend be\n    mode tcp\n    balance %s\n"
                   "    server s1 127.0.0.1:9\n" % (free_port(), algo))
            rc, out, err = H.run_bin(["-c", "-f", self.write_file("t.cfg", cfg)])
            self.assertEqual(rc, 0, err)
            self.assertIn("[WARNING]", err)
            self.assertIn("Layer 7 hash not possible for backend 'be' (needs 'mode http'). "
                          "Falling back to round robin.", err)

    def test_balance_valid(self):
        for line in ("balance roundrobin", "balance static-rr", "balance leastconn", "balance first",
                     "balance source", "balance uri", "balance uri len 10 depth 2 whole path-only",
                     "balance url_param id", "balance hdr(Host) use_domain_only", "balance random",
                     "balance random(3)", "option redispatch", "option redispatch -2",
                     "option redispatch 3", "option allbackups"):
            self.check(line, True)


if __name__ == "__main__":
    unittest.main()
