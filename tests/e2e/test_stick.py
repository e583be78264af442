"""Stick tables: "stick-table" and the "stick on|match|store-request|
store-response" rules of a backend, in HTTP and TCP mode.

Clients come from several loopback source addresses (127.0.0.2,
127.0.0.3, ...) and from ::1; which server answered is told by the origin's
X-Origin header (HTTP) or by the first line a TCP server sends. The
servers of a backend are s1, s2, s3 in that order and roundrobin gives new
clients s1, s2, s3, s1...: a client that should have been balanced and a
client that stuck go to different servers, so that every assertion on
stickiness can fail.

Whether a key is in a table is seen through a "peek" backend: it only
matches (it stores nothing), its copies of s1..s3 have weight 0 and its
fourth server, "miss", answers every request that matched nothing.

Health checks (option httpchk GET /health, every 100 ms, fall 1 rise 1)
take servers DOWN or to drain; the frontend answers /nbsrv/NAME with
nbsrv(NAME) so that a test can wait, bounded, for the state it needs."""

import contextlib
import os
import socket
import threading
import time
import unittest

import harness as H
from harness import (BASE_DEFAULTS, BASE_GLOBAL, ORACLE, Fixed, ProxyTestCase,
                     differs_from_haproxy, free_port, proxyd_only, render, run_bin, scaled)


class SourceConn(H.HTTPConn):
    """An HTTP client connection from a given local address."""

    def __init__(self, addr, source, timeout=None):
        family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(H.IO_TIMEOUT if timeout is None else timeout)
        try:
            s.bind((source, 0))
            s.connect(addr)
        except BaseException:
            s.close()
            raise
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.addr = addr
        self.sock = s
        self.reader = H.Reader(s)


# a check fails when the server says so, not because a loaded test machine
# answered it late: a generous timeout check
HEALTH = """
    option httpchk GET /health
    timeout check 3s
    default-server check inter 100 fall 1 rise 1
"""

PEEK = """
backend peek
    stick match src table be
    server s1 {{s1}} weight 0
    server s2 {{s2}} weight 0
    server s3 {{s3}} weight 0
    server miss {{miss}}
"""


class StickCase(ProxyTestCase):
    """Origins s1..s3 (and "miss"), a frontend on 127.0.0.1 (and [::1]
    with bind6) whose default backend is "be"."""

    def setUp(self):
        super().setUp()
        self.o = {}
        for name in ("s1", "s2", "s3", "miss"):
            o = self.origin(name=name)
            o.route("/health", Fixed(b"ok\n"))
            self.o[name] = o

    def start(self, sections, frontend="", bind6=False, checked=("be",), **values):
        """sections: the backends (and more), with {{s1}}.. {{miss}} for
        the origins' addresses and other {{placeholders}} from values;
        checked: the backends whose nbsrv() wait_nbsrv() may wait for."""
        self.port = free_port()
        binds = "    bind 127.0.0.1:%d\n" % self.port
        if bind6:
            self.port6 = free_port("::1")
            binds += "    bind [::1]:%d\n" % self.port6
        addrs = {n: o.addr for n, o in self.o.items()}
        addrs.update(values)
        cfg = (BASE_GLOBAL + BASE_DEFAULTS + "frontend fe\n" + binds
               + "".join('    http-request return status 200 content-type text/plain'
                         ' lf-string "%%[nbsrv(%s)]" if { path /nbsrv/%s }\n' % (b, b)
                         for b in checked)
               + H.indent(frontend) + "    default_backend be\n"
               + render(sections, **addrs))
        self.proxy = self.start_proxy(cfg)
        self.addr = ("127.0.0.1", self.port)
        return self.proxy

    def get(self, source="127.0.0.1", path="/", headers=None, addr=None):
        addr = addr or (("::1", self.port6) if ":" in source else self.addr)
        with SourceConn(addr, source) as c:
            return c.request("GET", path, headers=list(headers or []) + [("Connection", "close")])

    def who(self, source="127.0.0.1", path="/", headers=None):
        """The origin that answered, or the status when the proxy did."""
        r = self.get(source, path, headers)
        return r.header("X-Origin") or r.status

    def whos(self, source, n, path="/", headers=None):
        return [self.who(source, path, headers) for _ in range(n)]

    def step(self, source, path="/", headers=None):
        """who(), 10 ms after the previous step: HAProxy dates table entries
        in milliseconds, its eviction order needs distinct dates."""
        time.sleep(0.01)
        return self.who(source, path, headers)

    def peek(self, source):
        """The server the table "be" holds for this source, or "miss"."""
        return self.who(source, "/peek")

    def nbsrv(self, backend="be"):
        return self.get("127.0.0.1", "/nbsrv/" + backend).body.decode()

    def wait_nbsrv(self, n, backends=("be",)):
        deadline = time.monotonic() + scaled(5)
        for b in backends:
            while self.nbsrv(b) != str(n):
                if time.monotonic() >= deadline:
                    self.fail("nbsrv(%s) did not become %d (is %s)" % (b, n, self.nbsrv(b)))
                time.sleep(0.05)

    def health(self, name, status):
        """What server <name> answers to its health checks from now on."""
        self.o[name].route("/health", Fixed(b"health\n", status=status,
                                            reason={200: "OK", 404: "Not Found"}.get(status, "Error")))


PEEK_FRONTEND = "use_backend peek if { path_beg /peek }"


class SourceAffinity(StickCase):

    def test_each_source_keeps_its_server_and_sources_spread(self):
        self.start("""
backend be
    stick-table type ip size 100 expire 10m
    stick on src
    server s1 {{s1}}
    server s2 {{s2}}
    server s3 {{s3}}
""")
        sources = ["127.0.0.%d" % i for i in range(2, 8)]
        seen = {s: [] for s in sources}
        for _ in range(20):
            for s in sources:
                seen[s].append(self.who(s))
        for s in sources:
            self.assertEqual(len(set(seen[s])), 1, (s, seen[s]))
        first = [seen[s][0] for s in sources]
        # new sources are balanced: s1, s2, s3, s1, s2, s3
        self.assertEqual(first, ["s1", "s2", "s3", "s1", "s2", "s3"])
        for name in ("s1", "s2", "s3"):
            self.assertEqual(self.o[name].requests, 40)

    def test_every_request_of_a_keep_alive_connection_is_decided(self):
        self.start("""
backend be
    stick-table type string len 16 size 100 expire 10m
    stick on req.hdr(x-user)
    server s1 {{s1}}
    server s2 {{s2}}
""")
        with SourceConn(self.addr, "127.0.0.2") as c:
            got = [c.request("GET", "/", headers=[("X-User", u)]).header("X-Origin")
                   for u in ("alice", "bob", "alice", "bob", "carol", "alice")]
        self.assertEqual(got, ["s1", "s2", "s1", "s2", "s1", "s1"])

    def test_ipmask_groups_a_network(self):
        self.start("""
backend be
    stick-table type ip size 100 expire 10m
    stick on src,ipmask(24)
    server s1 {{s1}}
    server s2 {{s2}}
""")
        self.assertEqual(self.who("127.0.0.2"), "s1")
        self.assertEqual(self.who("127.0.1.2"), "s2")
        # the whole 127.0.0.0/24 follows the first client of that network
        self.assertEqual([self.who("127.0.0.%d" % i) for i in (3, 4, 5, 9)], ["s1"] * 4)
        self.assertEqual([self.who("127.0.1.%d" % i) for i in (3, 4)], ["s2"] * 2)


class Expiry(StickCase):

    def test_entries_expire(self):
        self.start("""
backend be
    stick-table type ip size 100 expire 1s
    stick on src
    server s1 {{s1}}
    server s2 {{s2}}
""")
        self.assertEqual(self.who("127.0.0.2"), "s1")
        self.assertEqual(self.who("127.0.0.2"), "s1")
        time.sleep(1.5)
        # forgotten: balanced again, to the server that comes next
        self.assertEqual(self.who("127.0.0.2"), "s2")
        self.assertEqual(self.who("127.0.0.2"), "s2")

    def test_a_match_restarts_the_lifetime(self):
        self.start("""
backend be
    stick-table type ip size 100 expire 1s
    stick match src
    stick store-request src if { path_beg /login }
    server s1 {{s1}}
    server s2 {{s2}}
""")
        self.assertEqual(self.who("127.0.0.2", "/login"), "s1")
        started = time.monotonic()
        while time.monotonic() - started < 2.2:
            time.sleep(0.3)
            # only matched, never stored again: alive because matched
            self.assertEqual(self.who("127.0.0.2", "/page"), "s1")
        time.sleep(1.5)
        self.assertEqual(self.who("127.0.0.2", "/page"), "s2")


class Size(StickCase):

    def test_a_full_table_drops_its_least_recently_used_entry(self):
        self.start("""
backend be
    stick-table type ip size 2 expire 10m
    stick on src
    server s1 {{s1}}
    server s2 {{s2}}
    server s3 {{s3}}
""" + PEEK, frontend=PEEK_FRONTEND)
        a, b, c = "127.0.0.2", "127.0.0.3", "127.0.0.4"
        self.assertEqual([self.step(a), self.step(b), self.step(a)], ["s1", "s2", "s1"])
        self.assertEqual(self.step(c), "s3")
        # b was used least recently: it made room for c
        self.assertEqual([self.peek(a), self.peek(b), self.peek(c)], ["s1", "miss", "s3"])

    def test_nopurge_keeps_the_first_keys(self):
        self.start("""
backend be
    stick-table type ip size 2 nopurge
    stick on src
    server s1 {{s1}}
    server s2 {{s2}}
    server s3 {{s3}}
""" + PEEK, frontend=PEEK_FRONTEND)
        a, b, c = "127.0.0.2", "127.0.0.3", "127.0.0.4"
        self.assertEqual([self.step(a), self.step(b), self.step(c)], ["s1", "s2", "s3"])
        self.assertEqual([self.peek(a), self.peek(b), self.peek(c)], ["s1", "s2", "miss"])
        # c is not remembered: balanced again
        self.assertEqual([self.step(c), self.step(a), self.step(b)], ["s1", "s1", "s2"])

    def test_a_full_nopurge_table_does_not_update_its_entries(self):
        # HAProxy makes room for a store before it looks the key up: when
        # a nopurge table is full, a client sent elsewhere because its
        # server is DOWN keeps its entry, and goes back once it is UP
        self.start("""
backend be
    stick-table type ip size 2 nopurge
    stick on src
{{health}}
    server s1 {{s1}}
    server s2 {{s2}}
backend roomy
    stick-table type ip size 10 nopurge
    stick on src
{{health}}
    server s1 {{s1}}
    server s2 {{s2}}
""", frontend="use_backend roomy if { path_beg /roomy }", health=HEALTH,
                   checked=("be", "roomy"))
        a, b = "127.0.0.2", "127.0.0.3"
        self.assertEqual([self.who(a), self.who(b)], ["s1", "s2"])
        self.assertEqual([self.who(a, "/roomy"), self.who(b, "/roomy")], ["s1", "s2"])
        self.health("s1", 500)
        self.wait_nbsrv(1, ("be", "roomy"))
        self.assertEqual(self.who(a), "s2")
        self.assertEqual(self.who(a, "/roomy"), "s2")
        self.health("s1", 200)
        self.wait_nbsrv(2, ("be", "roomy"))
        self.assertEqual(self.whos(a, 3), ["s1"] * 3)
        # a table with room takes the update
        self.assertEqual(self.whos(a, 3, "/roomy"), ["s2"] * 3)


class ServerStates(StickCase):

    BE = """
backend be
    option httpchk GET /health
    http-check disable-on-404
    timeout check 3s
    default-server check inter 100 fall 1 rise 1
    stick-table type ip size 100 expire 10m
    stick on src
{{extra}}
    server s1 {{s1}}
    server s2 {{s2}}
"""

    def test_a_down_server_loses_its_clients_and_the_entry_follows(self):
        self.start(self.BE, extra="")
        a, b = "127.0.0.2", "127.0.0.3"
        self.assertEqual([self.who(a), self.who(b)], ["s1", "s2"])
        self.health("s1", 500)
        self.wait_nbsrv(1)
        self.assertEqual(self.whos(a, 3), ["s2"] * 3)
        self.assertEqual(self.who(b), "s2")
        self.health("s1", 200)
        self.wait_nbsrv(2)
        # the entry now names s2, the server that served
        self.assertEqual(self.whos(a, 3), ["s2"] * 3)
        self.assertEqual(self.who(b), "s2")

    def test_option_persist_keeps_clients_on_a_down_server(self):
        self.start(self.BE, extra="    option persist")
        a, b, c = "127.0.0.2", "127.0.0.3", "127.0.0.4"
        self.assertEqual([self.who(a), self.who(b)], ["s1", "s2"])
        self.health("s1", 500)
        self.wait_nbsrv(1)
        # s1 only fails its checks: it still serves its clients
        self.assertEqual(self.whos(a, 3), ["s1"] * 3)
        self.assertEqual(self.whos(c, 2), ["s2"] * 2)

    def test_force_persist_for_some_requests(self):
        self.start(self.BE, extra="    force-persist if { hdr(x-admin) 1 }")
        a = "127.0.0.2"
        self.assertEqual(self.who(a), "s1")
        self.health("s1", 500)
        self.wait_nbsrv(1)
        admin = [("X-Admin", "1")]
        self.assertEqual(self.who(a, headers=admin), "s1")
        self.assertEqual(self.who(a), "s2")
        # that request was balanced and stored its server
        self.assertEqual(self.who(a, headers=admin), "s2")

    def test_the_first_matching_persist_rule_decides(self):
        self.start(self.BE, extra="""
    ignore-persist if { hdr(x-p) 1 }
    force-persist if { hdr(x-p) 1 } || { hdr(x-f) 1 }
""")
        a = "127.0.0.2"
        self.assertEqual(self.who(a), "s1")
        self.health("s1", 500)
        self.wait_nbsrv(1)
        self.assertEqual(self.who(a, headers=[("X-F", "1")]), "s1")
        # ignore-persist matched first: force-persist is not applied
        self.assertEqual(self.who(a, headers=[("X-P", "1")]), "s2")

    def test_ignore_persist_does_not_concern_stick_tables(self):
        self.start(self.BE, extra="    ignore-persist if { hdr(x-ignore) 1 }")
        a = "127.0.0.2"
        self.assertEqual(self.who(a), "s1")
        self.assertEqual(self.whos(a, 3, headers=[("X-Ignore", "1")]), ["s1"] * 3)

    def test_a_draining_server_keeps_its_clients_and_gets_no_new_ones(self):
        self.start(self.BE, extra="")
        a, b = "127.0.0.2", "127.0.0.3"
        self.assertEqual([self.who(a), self.who(b)], ["s1", "s2"])
        self.health("s1", 404)    # disable-on-404: drain
        self.wait_nbsrv(1)
        self.assertEqual(self.whos(a, 3), ["s1"] * 3)
        self.assertEqual([self.who("127.0.0.%d" % i) for i in range(4, 9)], ["s2"] * 5)
        self.assertEqual(self.who(b), "s2")

    def test_disabled_and_weight_0_servers_of_a_backend_sharing_the_table(self):
        # the entry names server number 1; in "maint" that server is
        # disabled, in "light" it has weight 0
        self.start("""
backend be
    stick-table type ip size 100 expire 10m
    stick on src
    server s1 {{s1}}
    server s2 {{s2}}
backend maint
    stick on src table be
    server s1 {{s1}} disabled
    server s2 {{s2}}
backend maintpersist
    option persist
    stick match src table be
    server s1 {{s1}} disabled
    server s2 {{s2}}
backend light
    stick match src table be
    server s1 {{s3}} weight 0
    server s2 {{s2}}
""", frontend="""
use_backend maint if { path_beg /maint }
use_backend maintpersist if { path_beg /persist }
use_backend light if { path_beg /light }
""")
        a, b = "127.0.0.2", "127.0.0.3"
        self.assertEqual([self.who(a), self.who(b)], ["s1", "s2"])
        # weight 0: no new client, but the stuck one
        self.assertEqual(self.whos(a, 2, "/light"), ["s3"] * 2)
        self.assertEqual([self.who("127.0.0.%d" % i, "/light") for i in (4, 5, 6)], ["s2"] * 3)
        # option persist: even a server in maintenance
        self.assertEqual(self.who(a, "/persist"), "s1")
        # in maintenance: balanced, and the entry now names server 2
        self.assertEqual(self.who(a, "/maint"), "s2")
        self.assertEqual(self.who(a), "s2")


class Queueing(StickCase):

    def test_a_stuck_client_waits_for_its_full_server(self):
        self.start("""
backend be
    timeout queue 10s
    stick-table type ip size 100 expire 10m
    stick on src
    server s1 {{s1}} maxconn 1
    server s2 {{s2}} maxconn 1
""")
        a = "127.0.0.2"
        self.assertEqual(self.who(a), "s1")
        slow = {}
        t = threading.Thread(target=lambda: slow.update(who=self.who(a, "/?delay=1")))
        t.start()
        try:
            self.assertTrue(self.o["s1"].wait_for(
                lambda o: any(r.uri == "/?delay=1" for r in o.log)))
            started = time.monotonic()
            self.assertEqual(self.who(a), "s1")     # queued on s1, not sent to s2
            waited = time.monotonic() - started
            self.assertEqual(self.who("127.0.0.3"), "s2")
        finally:
            t.join(H.IO_TIMEOUT)
        self.assertEqual(slow.get("who"), "s1")
        self.assertGreaterEqual(waited, 0.5)

    @differs_from_haproxy("proxyd answers 503 when the queue of the server a request "
                          "sticks to is full; with option redispatch HAProxy balances it")
    def test_a_full_queue_redispatches_a_stuck_client(self):
        self.start("""
backend be
    option redispatch
    timeout queue 10s
    stick-table type ip size 100 expire 10m
    stick on src
    server s1 {{s1}} maxconn 1 maxqueue 1
    server s2 {{s2}}
""")
        a = "127.0.0.2"
        self.assertEqual(self.who(a), "s1")
        got = {}
        slow = threading.Thread(target=lambda: got.update(slow=self.who(a, "/?delay=1")))
        slow.start()
        queued = None
        try:
            self.assertTrue(self.o["s1"].wait_for(
                lambda o: any(r.uri == "/?delay=1" for r in o.log)))
            queued = threading.Thread(target=lambda: got.update(queued=self.who(a, "/queued")))
            queued.start()
            time.sleep(0.3)     # it waits in s1's queue, which is now full
            self.assertEqual(self.who(a, "/third"), "s2")
        finally:
            slow.join(H.IO_TIMEOUT)
            if queued:
                queued.join(H.IO_TIMEOUT)
        self.assertEqual(got, {"slow": "s1", "queued": "s1"})

    def test_redispatch_moves_the_client_when_its_server_refuses(self):
        self.start("""
backend be
    option redispatch
    retries 1
    stick-table type ip size 100 expire 10m
    stick on src
    server s1 {{s1}}
    server s2 {{s2}}
backend noredisp
    retries 1
    stick-table type ip size 100 expire 10m
    stick on src
    server s1 {{s1}}
    server s2 {{s2}}
""", frontend="use_backend noredisp if { path_beg /noredisp }")
        a = "127.0.0.2"
        self.assertEqual([self.who(a), self.who("127.0.0.3")], ["s1", "s2"])
        self.assertEqual(self.who(a, "/noredisp"), "s1")
        port = self.o["s1"].port
        self.o["s1"].stop()
        started = time.monotonic()
        self.assertEqual(self.who(a), "s2")
        self.assertLess(time.monotonic() - started, scaled(3))
        self.assertEqual(self.who(a, "/noredisp"), 503)
        # s1 is back; the entry names the server that served
        back = self.origin(name="s1-back", port=port)
        self.assertEqual(self.whos(a, 2), ["s2"] * 2)
        self.assertEqual(self.who(a, "/noredisp"), "s1-back")
        self.assertEqual(back.requests, 1)

    def test_the_redispatched_retry_does_not_wait(self):
        self.start("""
backend be
    option redispatch
    retries 1
    stick-table type ip size 100 expire 10m
    stick on src
    server s1 {{dead}}
    server s2 {{s2}}
""", dead=H.DeadPort().addr)
        self.assertEqual(self.who("127.0.0.3"), "s2")     # s1 refused, redispatched
        started = time.monotonic()
        self.assertEqual(self.who("127.0.0.3"), "s2")     # stuck to s2 now: at once
        self.assertLess(time.monotonic() - started, 0.6)
        started = time.monotonic()
        self.assertEqual(self.who("127.0.0.4"), "s2")     # balanced to s1, refused
        # not scaled: proxyd waits 1 s (also with sanitizers) where HAProxy does not wait
        self.assertLess(time.monotonic() - started, 0.6)

    def test_force_persist_is_never_redispatched(self):
        self.start("""
backend be
    option redispatch
    retries 1
    force-persist if { hdr(x-force) 1 }
    stick-table type ip size 100 expire 10m
    stick on src
    server s1 {{s1}}
    server s2 {{s2}}
""")
        a = "127.0.0.2"
        self.assertEqual(self.who(a), "s1")
        self.o["s1"].stop()
        self.assertEqual(self.who(a, headers=[("X-Force", "1")]), 503)
        self.assertEqual(self.who(a), "s2")

    def test_a_persisted_down_server_that_refuses_is_redispatched(self):
        self.start("""
backend be
    option persist
    option redispatch
    retries 3
    timeout check 3s
    stick-table type ip size 100 expire 10m
    stick on src
    server s1 {{s1}} check inter 100 fall 1 rise 1
    server s2 {{s2}} check inter 100 fall 1 rise 1
""")
        a = "127.0.0.2"
        self.assertEqual(self.who(a), "s1")
        self.o["s1"].stop()
        self.wait_nbsrv(1)
        started = time.monotonic()
        self.assertEqual(self.who(a), "s2")
        self.assertLess(time.monotonic() - started, scaled(2.5))


class Rules(StickCase):

    def test_match_alone_never_stores_and_store_alone_never_matches(self):
        self.start("""
backend be
    stick-table type ip size 100 expire 10m
    stick store-request src
    server s1 {{s1}}
    server s2 {{s2}}
    server s3 {{s3}}
backend matchonly
    stick-table type ip size 100 expire 10m
    stick match src
    server s1 {{s1}}
    server s2 {{s2}}
""" + PEEK, frontend=PEEK_FRONTEND + "\nuse_backend matchonly if { path_beg /m }")
        a = "127.0.0.2"
        # stored each time, never used
        self.assertEqual(self.whos(a, 4), ["s1", "s2", "s3", "s1"])
        self.assertEqual(self.peek(a), "s1")       # the last server that served
        # nothing ever stored: balanced each time
        self.assertEqual(self.whos(a, 4, "/m"), ["s1", "s2", "s1", "s2"])

    def test_a_login_stores_and_every_request_matches(self):
        self.start("""
backend be
    stick-table type string len 32 size 100 expire 10m
    stick match req.hdr(x-user)
    stick store-request req.hdr(x-user) if { path_beg /login }
    server s1 {{s1}}
    server s2 {{s2}}
""")
        alice, bob = [("X-User", "alice")], [("X-User", "bob")]
        self.assertEqual(self.who(path="/login", headers=alice), "s1")
        self.assertEqual(self.whos("127.0.0.2", 3, "/page", alice), ["s1"] * 3)
        # bob never logged in: balanced
        self.assertEqual(self.whos("127.0.0.2", 3, "/page", bob), ["s2", "s1", "s2"])

    def test_the_first_store_rule_of_a_table_wins(self):
        # a header set by a trusted proxy in front, else the source
        self.start("""
backend be
    stick-table type ip size 100 expire 10m
    stick match req.hdr(x-client-ip)
    stick match src
    stick store-request req.hdr(x-client-ip)
    stick store-request src
    server s1 {{s1}}
    server s2 {{s2}}
    server s3 {{s3}}
""" + PEEK, frontend=PEEK_FRONTEND)
        a, b, c = "127.0.0.2", "127.0.0.3", "127.0.0.4"
        ip7, ip8 = [("X-Client-IP", "10.0.0.7")], [("X-Client-IP", "10.0.0.8")]
        self.assertEqual(self.who(a, headers=ip7), "s1")
        self.assertEqual(self.peek(a), "miss")       # only the header's key was stored
        self.assertEqual(self.who(a), "s2")          # now the source's key
        self.assertEqual(self.who(b, headers=ip7), "s1")
        # no entry for 10.0.0.8: the source's entry decides, and 10.0.0.8 is stored
        self.assertEqual(self.who(a, headers=ip8), "s2")
        self.assertEqual(self.who(c, headers=ip8), "s2")
        self.assertEqual(self.peek(c), "miss")

    def test_a_stick_on_after_a_store_rule_of_its_table_is_skipped(self):
        self.start("""
backend be
    stick-table type ip size 100 expire 10m
    stick store-request req.hdr(x-ip)
    stick on src
    server s1 {{s1}}
    server s2 {{s2}}
    server s3 {{s3}}
""")
        a = "127.0.0.2"
        self.assertEqual(self.who(a), "s1")
        # the header's store took the table: "stick on src" does not even match
        self.assertEqual(self.who(a, headers=[("X-IP", "10.9.9.9")]), "s2")
        self.assertEqual(self.who("127.0.0.3", headers=[("X-IP", "10.9.9.9")]), "s3")
        self.assertEqual(self.who(a), "s1")

    def test_conditions(self):
        self.start("""
backend be
    stick-table type ip size 100 expire 10m
    stick on src if { path_beg /app }
    server s1 {{s1}}
    server s2 {{s2}}
backend un
    stick-table type ip size 100 expire 10m
    stick on src unless { hdr(x-nostick) 1 }
    server s1 {{s1}}
    server s2 {{s2}}
""", frontend="use_backend un if { path_beg /un }")
        a = "127.0.0.2"
        self.assertEqual(self.whos(a, 3, "/app"), ["s1"] * 3)
        # the rule does not apply: balanced, and the entry is left alone
        self.assertEqual(self.whos(a, 3, "/static"), ["s2", "s1", "s2"])
        self.assertEqual(self.who(a, "/app"), "s1")
        self.assertEqual(self.whos(a, 2, "/un"), ["s1"] * 2)
        self.assertEqual(self.whos(a, 2, "/un", [("X-NoStick", "1")]), ["s2", "s1"])
        self.assertEqual(self.who(a, "/un"), "s1")

    def test_application_session_cookie(self):
        for name in ("s1", "s2"):
            for path, sess in (("/login", "42"), ("/hidden/login", "77")):
                self.o[name].route(path, Fixed(b"welcome\n", headers=[
                    ("Set-Cookie", "JSESSIONID=%s-%s; Path=/; HttpOnly" % (name, sess))]))
        self.start("""
backend be
    stick-table type string len 32 size 100 expire 30m
    stick store-response res.cook(JSESSIONID)
    stick match req.cook(JSESSIONID)
    server s1 {{s1}}
    server s2 {{s2}}
backend hidden
    stick store-response res.cook(JSESSIONID) table be
    http-response del-header Set-Cookie
    server s1 {{s1}}
    server s2 {{s2}}
""", frontend="use_backend hidden if { path_beg /hidden }")
        r = self.get(path="/login")
        self.assertEqual(r.header("X-Origin"), "s1")
        self.assertIn("JSESSIONID=s1-42", r.header("Set-Cookie"))
        self.assertEqual(self.who(path="/login"), "s2")
        sources = ["127.0.0.%d" % i for i in range(2, 6)]
        for src, sess in zip(sources, ["s1-42", "s2-42", "s1-42", "s2-42"]):
            with self.subTest(source=src, session=sess):
                self.assertEqual(self.whos(src, 2, "/cart", [("Cookie", "lang=en; JSESSIONID=" + sess)]),
                                 [sess[:2]] * 2)
        # no or unknown session: balanced
        self.assertEqual(self.whos("127.0.0.2", 2, "/cart"), ["s1", "s2"])
        self.assertEqual(self.who(path="/cart", headers=[("Cookie", "JSESSIONID=nosuch")]), "s1")
        # the keys are taken before the http-response rules run
        r = self.get(path="/hidden/login")
        self.assertEqual(r.header("X-Origin"), "s1")
        self.assertIsNone(r.header("Set-Cookie"))
        self.assertEqual(self.whos("127.0.0.9", 3, "/cart", [("Cookie", "JSESSIONID=s1-77")]),
                         ["s1"] * 3)

    def test_a_table_shared_by_two_backends(self):
        # the entry keeps the number of the server that served; each
        # backend sends the key to its own server of that number
        self.start("""
backend be
    stick-table type ip size 100 expire 10m
    stick on src
    server s1 {{s1}}
    server s2 {{s2}}
backend same
    stick on src table be
    server s1 {{s1}}
    server s2 {{s2}}
backend crossed
    stick match src table be
    server t1 {{s2}}
    server t2 {{s1}}
""", frontend="use_backend same if { path_beg /same }\nuse_backend crossed if { path_beg /crossed }")
        a, b = "127.0.0.2", "127.0.0.3"
        self.assertEqual(self.who(a), "s1")
        self.assertEqual(self.whos(a, 2, "/same"), ["s1"] * 2)
        self.assertEqual(self.whos(a, 2, "/crossed"), ["s2"] * 2)
        self.assertEqual(self.who(a), "s1")
        self.assertEqual(self.who(b, "/same"), "s1")       # balanced in "same", stored as server 1
        self.assertEqual(self.who(b), "s1")
        self.assertEqual(self.who(b, "/crossed"), "s2")

    def test_a_table_declared_in_a_frontend(self):
        self.start("""
backend be
    stick on src table fe
    server s1 {{s1}}
    server s2 {{s2}}
""", frontend="stick-table type ip size 100 expire 10m")
        self.assertEqual(self.whos("127.0.0.2", 3), ["s1"] * 3)
        self.assertEqual(self.whos("127.0.0.3", 3), ["s2"] * 3)


class KeyTypes(StickCase):

    def test_string_keys_are_cut_at_len(self):
        self.start("""
backend be
    stick-table type string len 4 size 100 expire 10m
    stick on req.hdr(x-user)
    server s1 {{s1}}
    server s2 {{s2}}
    server s3 {{s3}}
""")
        user = lambda u: [("X-User", u)]
        self.assertEqual(self.who(headers=user("abcd1")), "s1")
        self.assertEqual(self.who(headers=user("abcd2")), "s1")      # same first 4 bytes
        self.assertEqual(self.who(headers=user("abcdefgh")), "s1")
        self.assertEqual(self.who(headers=user("abce")), "s2")
        self.assertEqual(self.who(headers=user("abc")), "s3")        # shorter: its own key
        self.assertEqual(self.who(headers=user("abcd")), "s1")
        self.assertEqual(self.who(), "s1")                            # no header: no key
        self.assertEqual(self.who(), "s2")

    def test_integer_keys(self):
        self.start("""
backend be
    stick-table type integer size 100 expire 10m
    stick on url_param(uid)
    server s1 {{s1}}
    server s2 {{s2}}
    server s3 {{s3}}
""")
        uid = lambda v: self.who(path="/?uid=" + v)
        self.assertEqual([uid("42"), uid("42"), uid("042"), uid("+42")], ["s1"] * 4)
        self.assertEqual([uid("43"), uid("43")], ["s2", "s2"])
        self.assertEqual([uid("-5"), uid("-5")], ["s3", "s3"])
        # only 32 bits are kept, unsigned
        self.assertEqual(uid("4294967338"), "s1")
        self.assertEqual(uid("4294967291"), "s3")
        # no parameter: no key
        self.assertEqual([self.who(path="/"), self.who(path="/")], ["s1", "s2"])

    @differs_from_haproxy("proxyd's string to integer cast fails without a leading digit, so "
                          "'abc' gives no key; HAProxy reads the leading digits, none here: "
                          "'abc' and 'xyz' are both the key 0")
    def test_integer_key_of_a_word(self):
        self.start("""
backend be
    stick-table type integer size 100 expire 10m
    stick on url_param(uid)
    server s1 {{s1}}
    server s2 {{s2}}
""")
        self.assertEqual([self.who(path="/?uid=" + v) for v in ("abc", "abc", "xyz", "0")], ["s1"] * 4)

    def test_ipv6_table_with_ipv6_and_ipv4_clients(self):
        self.start("""
backend be
    stick-table type ipv6 size 100 expire 10m
    stick on src
    server s1 {{s1}}
    server s2 {{s2}}
    server s3 {{s3}}
""", bind6=True)
        self.assertEqual(self.whos("::1", 3), ["s1"] * 3)
        self.assertEqual(self.whos("127.0.0.2", 3), ["s2"] * 3)
        self.assertEqual(self.whos("127.0.0.3", 2), ["s3"] * 2)
        self.assertEqual(self.whos("::1", 2), ["s1"] * 2)

    def test_ip_table_does_not_store_ipv6_clients(self):
        self.start("""
backend be
    stick-table type ip size 100 expire 10m
    stick on src
    server s1 {{s1}}
    server s2 {{s2}}
""", bind6=True)
        self.assertEqual(self.whos("::1", 4), ["s1", "s2", "s1", "s2"])
        self.assertEqual(self.whos("127.0.0.2", 2), ["s1"] * 2)

    def test_binary_keys_are_cut_at_len(self):
        self.start("""
backend be
    stick-table type binary len 4 size 100 expire 10m
    stick on req.hdr(x-k)
    server s1 {{s1}}
    server s2 {{s2}}
    server s3 {{s3}}
""")
        k = lambda v: self.who(headers=[("X-K", v)])
        self.assertEqual(k("abcd1"), "s1")
        self.assertEqual(k("abcd2"), "s1")     # the same first 4 bytes
        self.assertEqual(k("ab"), "s2")
        self.assertEqual(k("ab"), "s2")
        self.assertEqual(k("abc"), "s3")


class Ident:
    """A TCP server that sends its name and closes, on 127.0.0.1 or on a
    unix socket."""

    def __init__(self, name, path=None, port=0):
        self.name = name
        if path:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(path)
            self.addr = "unix@" + path
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind(("127.0.0.1", port))
            self.port = self.sock.getsockname()[1]
            self.addr = "127.0.0.1:%d" % self.port
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.accepted = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._loop, daemon=True)
        self._t.start()

    def _loop(self):
        while not self._stop.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted += 1
            with contextlib.suppress(OSError):
                c.sendall(self.name.encode() + b"\n")
            c.close()

    def stop(self):
        self._stop.set()
        self._t.join(2)
        self.sock.close()


class TcpMode(ProxyTestCase):

    def idents(self, names, unix=False):
        out = []
        for n in names:
            i = Ident(n, path=self.path(n + ".sock") if unix else None)
            self.addCleanup(i.stop)
            out.append(i)
        return out

    def start_tcp(self, servers, extra=""):
        """A TCP frontend and backend; an HTTP frontend answers nbsrv(bt)."""
        self.port, self.http_port = free_port(), free_port()
        cfg = BASE_GLOBAL + BASE_DEFAULTS + """
frontend ft
    mode tcp
    bind 127.0.0.1:%d
    default_backend bt
frontend fh
    bind 127.0.0.1:%d
    http-request return status 200 content-type text/plain lf-string "%%[nbsrv(bt)]"
backend bt
    mode tcp
    stick-table type ip size 100 expire 10m
    stick on src
""" % (self.port, self.http_port) + H.indent(extra) + "".join(
            "    server %s %s\n" % (i.name, i.addr) for i in servers)
        self.start_proxy(cfg)

    def wait_nbsrv(self, n):
        deadline = time.monotonic() + scaled(5)
        while H.http(("127.0.0.1", self.http_port)).body != str(n).encode():
            self.assertLess(time.monotonic(), deadline, "nbsrv(bt) never became %d" % n)
            time.sleep(0.05)

    def who(self, source):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(H.IO_TIMEOUT)
        try:
            s.bind((source, 0))
            s.connect(("127.0.0.1", self.port))
            data = H.Reader(s).read_until_close()
        finally:
            s.close()
        return data.decode().strip()

    def check_affinity(self):
        sources = ["127.0.0.%d" % i for i in range(2, 6)]
        seen = {s: [self.who(s)] for s in sources}
        self.assertEqual([seen[s][0] for s in sources], ["t1", "t2", "t3", "t1"])
        for _ in range(5):
            for s in sources:
                seen[s].append(self.who(s))
        for s in sources:
            self.assertEqual(set(seen[s]), {seen[s][0]}, s)

    def test_stick_on_src(self):
        self.start_tcp(self.idents(["t1", "t2", "t3"]))
        self.check_affinity()

    def test_servers_on_unix_sockets(self):
        # connect() to a unix socket succeeds at once: the key is stored all the same
        self.start_tcp(self.idents(["t1", "t2", "t3"], unix=True))
        self.check_affinity()

    def test_a_down_server_loses_its_clients(self):
        t1, t2 = self.idents(["t1", "t2"])
        self.start_tcp([t1, t2], extra="timeout check 3s\ndefault-server check inter 100 fall 1 rise 1")
        self.wait_nbsrv(2)
        a = "127.0.0.2"
        self.assertEqual([self.who(a), self.who("127.0.0.3")], ["t1", "t2"])
        port = t1.port
        t1.stop()
        self.wait_nbsrv(1)
        self.assertEqual(self.who(a), "t2")
        back = Ident("t1", port=port)
        self.addCleanup(back.stop)
        self.wait_nbsrv(2)
        # the entry names t2 now
        self.assertEqual([self.who(a) for _ in range(3)], ["t2"] * 3)


class CookieAndStick(StickCase):

    BE = """
backend be
    cookie SRV insert indirect nocache
    ignore-persist if { hdr(x-ignore) 1 }
    stick-table type ip size 100 expire 10m
    stick on src
    server s1 {{s1}} cookie c1
    server s2 {{s2}} cookie c2
    server s3 {{s3}} cookie c3
"""

    def test_a_valid_cookie_wins_and_the_entry_follows(self):
        self.start(self.BE)
        a = "127.0.0.2"
        r = self.get(a)
        self.assertEqual(r.header("X-Origin"), "s1")
        self.assertIn("SRV=c1", r.header("Set-Cookie"))
        self.assertEqual(self.who(a, headers=[("Cookie", "SRV=c3")]), "s3")
        # the entry now names s3, the server that served
        self.assertEqual(self.whos(a, 2), ["s3"] * 2)
        # a value no server has: the table decides
        self.assertEqual(self.who(a, headers=[("Cookie", "SRV=nosuch")]), "s3")

    def test_ignore_persist_ignores_the_cookie_not_the_table(self):
        self.start(self.BE)
        a = "127.0.0.2"
        self.assertEqual(self.who(a), "s1")
        self.assertEqual(self.whos(a, 2, headers=[("Cookie", "SRV=c2"), ("X-Ignore", "1")]),
                         ["s1"] * 2)
        self.assertEqual(self.who(a, headers=[("Cookie", "SRV=c2")]), "s2")


class ConfigErrors(ProxyTestCase):
    """proxyd -c on stick-table and stick lines. The first backend line is
    line 13 of the file. HAProxy's messages differ (and name no line for
    errors found after parsing): under the oracle only the refusal is
    checked."""

    def check(self, backend, extra=""):
        cfg = (BASE_GLOBAL + BASE_DEFAULTS + "frontend fe\n    bind 127.0.0.1:%d\n"
               "    default_backend be\n" % free_port()
               + "backend be\n" + H.indent(backend) + "    server s1 127.0.0.1:9\n" + extra)
        path = self.write_file("t.cfg", cfg)
        rc, out, err = run_bin(["-c", "-f", path])
        return rc, out + err, path

    def assertRefused(self, backend, line, *words, extra=""):
        rc, err, path = self.check(backend, extra)
        self.assertNotEqual(rc, 0, err)
        if not ORACLE:
            self.assertIn("[%s:%d]" % (path, line), err)
            for w in words:
                self.assertIn(w, err)

    def assertAccepted(self, backend, extra=""):
        rc, err, _ = self.check(backend, extra)
        self.assertEqual(rc, 0, err)

    def test_first_line_number(self):
        rc, err, path = self.check("bogus-keyword")
        self.assertIn("[%s:13]" % path, err)

    def test_valid_tables_and_rules(self):
        self.assertAccepted("""
            stick-table type string len 64 size 100k expire 30m store server_id,server_key srvkey name
            stick match req.cook(sid)
            stick store-response res.cook(sid)
            stick on src table other if { src 10.0.0.0/8 }
            stick store-request req.hdr(x-user) unless { path_beg /static }
        """, extra="backend other\n    stick-table type ip size 1m nopurge\n")
        self.assertAccepted("stick-table type binary len 8 size 10\nstick on src")
        self.assertAccepted("stick-table type integer size 10\nstick on src")

    def test_missing_type_or_size(self):
        self.assertRefused("stick-table size 10", 13, "missing 'type'")
        self.assertRefused("stick-table type ip", 13, "missing 'size'")
        self.assertRefused("stick-table", 13, "missing 'type'")

    def test_unknown_type(self):
        self.assertRefused("stick-table type address size 10", 13, "unknown type 'address'")

    def test_len_only_after_string_or_binary(self):
        self.assertRefused("stick-table type ip len 4 size 10", 13, "'len'", "type string")
        self.assertRefused("stick-table type string size 10 len 4", 13, "'len'", "type string")

    def test_one_table_per_section(self):
        self.assertRefused("stick-table type ip size 10\nstick-table type ip size 10", 14,
                           "only one table")

    def test_table_naming_a_proxy_without_a_table(self):
        self.assertRefused("stick on src table other", 13, "unable to find stick-table 'other'",
                           extra="backend other\n    server s1 127.0.0.1:9\n")
        self.assertRefused("stick on src table nosuch", 13, "unable to find stick-table 'nosuch'")

    def test_stick_without_any_table(self):
        self.assertRefused("stick match src", 13, "without a table", "stick-table")

    @proxyd_only("HAProxy warns that 'stick' is ignored in a frontend and starts")
    def test_stick_in_a_frontend(self):
        cfg = (BASE_GLOBAL + BASE_DEFAULTS + "frontend fe\n    bind 127.0.0.1:%d\n"
               "    stick-table type ip size 10\n    stick on src\n    default_backend be\n"
               "backend be\n    server s1 127.0.0.1:9\n" % free_port())
        path = self.write_file("t.cfg", cfg)
        rc, out, err = run_bin(["-c", "-f", path])
        self.assertNotEqual(rc, 0)
        self.assertIn("[%s:12]" % path, err)
        self.assertIn("'stick on' is not allowed in 'frontend' section", err)

    def test_response_fetch_in_a_request_rule(self):
        self.assertRefused("stick-table type ip size 10\nstick on res.hdr(x-ip)", 14,
                           "res.hdr", "stick store-response")
        self.assertRefused("stick-table type ip size 10\nstick match res.cook(sid)", 14, "res.cook")
        self.assertRefused("stick-table type ip size 10\nstick store-response req.hdr(x)", 14,
                           "req.hdr")

    def test_pattern_that_cannot_be_a_key(self):
        self.assertRefused("stick-table type ip size 10\nstick on always_true", 14,
                           "boolean", "ip table")
        self.assertRefused("stick-table type integer size 10\nstick on method", 14,
                           "method", "integer table")

    def test_peers(self):
        self.assertRefused("stick-table type ip size 10 peers mypeers", 13, "peers",
                           "not supported yet by proxyd")

    def test_unknown_store_data_type(self):
        self.assertRefused("stick-table type ip size 10 store server_id,foo", 13,
                           "unknown data type 'foo'")

    @proxyd_only("HAProxy stores counters (http_req_rate, conn_cnt, gpc0...) in tables")
    def test_counters_are_not_supported(self):
        for store in ("http_req_rate(10s)", "conn_cnt", "gpc0,server_id", "gpc_rate(2,10s)"):
            with self.subTest(store=store):
                self.assertRefused("stick-table type ip size 10 store " + store, 13,
                                   "valid in HAProxy but not supported yet by proxyd",
                                   store.split(",")[0])


if __name__ == "__main__":
    unittest.main()
