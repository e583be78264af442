"""Request smuggling and strict HTTP/1.1 parsing.

Requests with ambiguous or invalid framing must get a 400 and never reach
the backend (its request counter stays 0); responses with such framing
must give the client a 502 and the server connection must not be reused.

Where HAProxy 2.6 accepts something the proxyd issue requires refusing,
the assertion is @proxyd_only and the reason records what HAProxy does.
"""

import time
import unittest

import harness as H
from harness import ORACLE, ProxyTestCase, Raw, proxyd_only

REQ = b"Host: smuggle.test\r\n"

# name -> exact request bytes; each must be refused with 400
BAD_REQUESTS = {
    "content_length_and_transfer_encoding":
        b"POST / HTTP/1.1\r\n" + REQ + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n0\r\n\r\n",
    "two_differing_content_lengths":
        b"POST / HTTP/1.1\r\n" + REQ + b"Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    "differing_content_length_list":
        b"POST / HTTP/1.1\r\n" + REQ + b"Content-Length: 3, 4\r\n\r\nabcd",
    "transfer_encoding_gzip_only":
        b"POST / HTTP/1.1\r\n" + REQ + b"Transfer-Encoding: gzip\r\n\r\nabc",
    "transfer_encoding_chunked_not_final":
        b"POST / HTTP/1.1\r\n" + REQ + b"Transfer-Encoding: chunked, gzip\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    "transfer_encoding_identity":
        b"POST / HTTP/1.1\r\n" + REQ + b"Transfer-Encoding: identity\r\n\r\nabc",
    "transfer_encoding_chunked_twice":
        b"POST / HTTP/1.1\r\n" + REQ + b"Transfer-Encoding: chunked, chunked\r\n\r\n"
        b"3\r\nabc\r\n0\r\n\r\n",
    "transfer_encoding_in_http10":
        b"POST / HTTP/1.0\r\n" + REQ + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    "obs_fold":
        b"GET / HTTP/1.1\r\n" + REQ + b"X-Folded: first\r\n second\r\n\r\n",
    "bare_cr_in_value":
        b"GET / HTTP/1.1\r\n" + REQ + b"X-Bad: a\rb\r\n\r\n",
    "nul_in_value":
        b"GET / HTTP/1.1\r\n" + REQ + b"X-Bad: a\x00b\r\n\r\n",
    "control_byte_in_name":
        b"GET / HTTP/1.1\r\n" + REQ + b"X-B\x01ad: ab\r\n\r\n",
    "space_before_colon":
        b"GET / HTTP/1.1\r\n" + REQ + b"X-Bad : ab\r\n\r\n",
    "tab_before_colon":
        b"GET / HTTP/1.1\r\n" + REQ + b"X-Bad\t: ab\r\n\r\n",
    "space_before_colon_transfer_encoding":
        b"POST / HTTP/1.1\r\n" + REQ + b"Transfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc",
    "invalid_chunk_size":
        b"POST / HTTP/1.1\r\n" + REQ + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    "chunk_size_overflow":
        b"POST / HTTP/1.1\r\n" + REQ + b"Transfer-Encoding: chunked\r\n\r\n"
        b"fffffffffffffffff1\r\nabc\r\n0\r\n\r\n",
    "chunk_data_longer_than_size":
        b"POST / HTTP/1.1\r\n" + REQ + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
    # framing llhttp 8.1 lets through (a CR followed by any byte, any two
    # bytes after chunk data): proxyd checks the chunked framing itself
    "chunk_size_cr_without_lf":
        b"POST / HTTP/1.1\r\n" + REQ + b"Transfer-Encoding: chunked\r\n\r\n5\rXhello\r\n0\r\n\r\n",
    "chunk_data_without_crlf":
        b"POST / HTTP/1.1\r\n" + REQ + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXY0\r\n\r\n",
    "last_chunk_cr_without_lf":
        b"POST / HTTP/1.1\r\n" + REQ + b"Transfer-Encoding: chunked\r\n\r\n0\rX\r\n",
    "negative_content_length":
        b"POST / HTTP/1.1\r\n" + REQ + b"Content-Length: -1\r\n\r\n",
    "signed_content_length":
        b"POST / HTTP/1.1\r\n" + REQ + b"Content-Length: +3\r\n\r\nabc",
    "non_numeric_content_length":
        b"POST / HTTP/1.1\r\n" + REQ + b"Content-Length: 3a\r\n\r\nabc",
    "two_host_headers":
        b"GET / HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n",
    "garbage_request_line":
        b"GET\x01/ HTTP/1.1\r\n" + REQ + b"\r\n",
}

# What HAProxy 2.6.12 does with the requests the issue wants refused.
HAPROXY_ACCEPTS = {
    "content_length_and_transfer_encoding":
        "HAProxy drops Content-Length and forwards the request chunked (200)",
    "transfer_encoding_in_http10":
        "HAProxy forwards the HTTP/1.0 request with its chunked body (200)",
    "obs_fold":
        "HAProxy unfolds the header into 'first   second' and forwards it (200)",
    "nul_in_value":
        "HAProxy forwards the NUL byte in the header value as is (200)",
}


class RequestStrictness(ProxyTestCase):

    def setUp(self):
        super().setUp()
        self.o = self.origin()
        self.proxy, self.addr = self.simple_proxy("server s1 %s" % self.o.addr)

    def check_refused(self, name):
        data = BAD_REQUESTS[name]
        out = H.raw_exchange(self.addr, data, timeout=H.scaled(5))
        self.assertEqual(H.status_of(out), 400, "%s: got %r" % (name, out[:200]))
        # the proxy must also close the connection after the 400 (it did:
        # raw_exchange waits for the close), and the backend saw nothing
        time.sleep(0.1)
        self.assertEqual(self.o.requests, 0,
                         "backend received: %r" % [r.raw_head for r in self.o.log])
        # the proxy is still healthy
        self.assertEqual(H.http(self.addr, "GET", "/ok").status, 200)


def _make_request_test(name):
    def test(self):
        self.check_refused(name)
    test.__name__ = "test_refused_" + name
    test.__doc__ = "400 and nothing forwarded: %s" % name
    if name in HAPROXY_ACCEPTS:
        test = proxyd_only(HAPROXY_ACCEPTS[name])(test)
    return test


for _name in BAD_REQUESTS:
    setattr(RequestStrictness, "test_refused_" + _name, _make_request_test(_name))


class RequestLeniency(ProxyTestCase):
    """Things HAProxy 2.6 accepts (and proxyd must too)."""

    def setUp(self):
        super().setUp()
        self.o = self.origin()
        self.proxy, self.addr = self.simple_proxy("server s1 %s" % self.o.addr)

    def test_identical_duplicate_content_length(self):
        # HAProxy merges identical duplicates into one; proxyd refuses any
        # repeated Content-Length (RFC 9112 allows either), a documented
        # difference: it never has to decide which copy is the real one.
        for head in (b"Content-Length: 3\r\nContent-Length: 3\r\n",
                     b"Content-Length: 3, 3\r\n"):
            with self.subTest(head=head):
                before = self.o.requests
                with H.HTTPConn(self.addr) as c:
                    c.send(b"POST /dup HTTP/1.1\r\n" + REQ + head + b"\r\nabc")
                    r = c.read_response()
                    if ORACLE:
                        self.assertEqual(r.status, 200)
                        seen = self.o.log[-1]
                        self.assertEqual(seen.body, b"abc")
                        self.assertEqual(H.hgetall(seen.headers, "content-length"), ["3"])
                        self.assertEqual(c.request("GET", "/next").json()["uri"], "/next")
                    else:
                        self.assertEqual(r.status, 400)
                        self.assertEqual(self.o.requests, before)

    def test_chunk_extensions_accepted(self):
        with H.HTTPConn(self.addr) as c:
            c.send(b"POST /ext HTTP/1.1\r\n" + REQ + b"Transfer-Encoding: chunked\r\n\r\n"
                   b"3;name=val\r\nabc\r\n0\r\n\r\n")
            r = c.read_response()
        self.assertEqual(r.status, 200)
        self.assertEqual(self.o.log[-1].body, b"abc")

    def test_transfer_encoding_case_insensitive(self):
        with H.HTTPConn(self.addr) as c:
            c.send(b"POST /te HTTP/1.1\r\n" + REQ + b"Transfer-Encoding: Chunked\r\n\r\n"
                   b"3\r\nabc\r\n0\r\n\r\n")
            r = c.read_response()
        self.assertEqual(r.status, 200)
        self.assertEqual(self.o.log[-1].body, b"abc")

    def test_smuggled_second_request_stays_body(self):
        # a body that looks like a request is only a body
        inner = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
        with H.HTTPConn(self.addr) as c:
            r = c.request("POST", "/outer", body=inner)
            self.assertEqual(r.status, 200)
        self.assertEqual([x.uri for x in self.o.log], ["/outer"])
        self.assertEqual(self.o.log[0].body, inner)


# Responses with bad framing, each sent in one write by the origin, which
# then keeps its connection open (so that reusing it would be possible).
BAD_RESPONSES = {
    "two_differing_content_lengths":
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    "content_length_and_transfer_encoding":
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n0\r\n\r\n",
    "transfer_encoding_gzip_only":
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc",
    "invalid_chunk_size":
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    "negative_content_length":
        b"HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\nabc",
    "obs_fold":
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Folded: a\r\n b\r\n\r\nabc",
    "bare_cr_in_value":
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Bad: a\rb\r\n\r\nabc",
    "nul_in_value":
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Bad: a\x00b\r\n\r\nabc",
    "control_byte_in_name":
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-B\x01ad: ab\r\n\r\nabc",
    "space_before_colon":
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Bad : ab\r\n\r\nabc",
    "garbage_status_line":
        b"HTTP/1.1 abc OK\r\nContent-Length: 3\r\n\r\nabc",
    "not_http":
        b"SSH-2.0-OpenSSH_9.2\r\n\r\n",
}

# name -> (what HAProxy 2.6.12 does, whether it still refuses to reuse the
# server connection afterwards)
HAPROXY_ACCEPTS_RESPONSE = {
    "content_length_and_transfer_encoding":
        ("HAProxy forwards it chunked without Content-Length (200), "
         "but does close the server connection", True),
    "obs_fold":
        ("HAProxy unfolds the header ('a   b'), forwards the response (200) "
         "and reuses the connection", False),
    "nul_in_value":
        ("HAProxy forwards the NUL byte in the header value (200) "
         "and reuses the connection", False),
}


class ResponseStrictness(ProxyTestCase):

    def setUp(self):
        super().setUp()
        self.o = self.origin()
        for name, data in BAD_RESPONSES.items():
            self.o.route("/" + name, Raw(data, close=False))
        # http-reuse always: any idle server connection would be reused
        self.proxy, self.addr = self.simple_proxy(
            "http-reuse always\nserver s1 %s" % self.o.addr)

    def request_on_new_connection(self, path):
        """Status of the response to GET path on a new client connection,
        or a description of what came instead."""
        with H.HTTPConn(self.addr, timeout=H.scaled(5)) as c:
            c.send(b"GET " + path.encode() + b" HTTP/1.1\r\n" + REQ + b"\r\n")
            try:
                r = c.read_response()
            except EOFError as e:
                return "no response (%s)" % e
            return r.status

    def test_control_valid_response_connection_is_reused(self):
        # proves that the non-reuse checks below are meaningful
        self.assertEqual(H.http(self.addr, "GET", "/one").status, 200)
        time.sleep(0.2)
        self.assertEqual(H.http(self.addr, "GET", "/two").status, 200)
        self.assertEqual(self.o.accepted, 1)

    def check_bad_response(self, name, expect_502=True):
        status = self.request_on_new_connection("/" + name)
        if expect_502:
            self.assertEqual(status, 502, name)
        bad_conn = self.o.log[-1].conn_id
        time.sleep(0.2)
        r = H.http(self.addr, "GET", "/after")
        self.assertEqual(r.status, 200)
        self.assertNotEqual(self.o.log[-1].conn_id, bad_conn,
                            "server connection reused after a bad response")
        self.assertEqual(self.o.accepted, 2)

    def test_extra_bytes_after_content_length(self):
        # the client gets exactly Content-Length bytes; the server
        # connection (with garbage pending) is not reused
        self.o.route("/long", Raw(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef",
                                  close=False))
        with H.HTTPConn(self.addr) as c:
            r = c.request("GET", "/long")
            self.assertEqual((r.status, r.body), (200, b"abc"))
            bad_conn = self.o.log[-1].conn_id
            time.sleep(0.2)
            r = c.request("GET", "/after")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.json()["uri"], "/after")
        self.assertNotEqual(self.o.log[-1].conn_id, bad_conn)

    def test_invalid_chunk_after_headers_were_sent(self):
        # headers and a first chunk go out, the bad chunk comes later: the
        # client must see an incomplete message and a closed connection
        self.o.route("/late", Raw(chunks=[
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
            b"zz\r\nabc\r\n0\r\n\r\n"], pause=0.3, close=False))
        with H.HTTPConn(self.addr, timeout=H.scaled(5)) as c:
            r = c.request("GET", "/late")
            self.assertEqual(r.status, 200)
            self.assertFalse(r.complete, "a broken chunked body was completed")
            self.assertTrue(c.is_closed(1))
        bad_conn = self.o.log[-1].conn_id
        self.assertEqual(H.http(self.addr, "GET", "/after").status, 200)
        self.assertNotEqual(self.o.log[-1].conn_id, bad_conn)


def _make_response_test(name):
    accepted = HAPROXY_ACCEPTS_RESPONSE.get(name)

    def test(self):
        # under the oracle, a response HAProxy accepts is only checked for
        # the non-reuse of the server connection
        self.check_bad_response(name, expect_502=not (ORACLE and accepted))
    test.__name__ = "test_bad_response_" + name
    if accepted and not accepted[1]:
        test = proxyd_only(accepted[0])(test)
    return test


for _name in BAD_RESPONSES:
    setattr(ResponseStrictness, "test_bad_response_" + _name, _make_response_test(_name))


if __name__ == "__main__":
    unittest.main()
