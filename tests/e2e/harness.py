"""Reusable pieces for proxyd's end-to-end (black-box) tests.

Everything here talks to the proxy from the outside only: it writes a
configuration file, starts the binary named by $PROXYD_BIN, talks HTTP to it
over loopback sockets and plays the backend servers itself.

Environment:
  PROXYD_BIN         binary under test (default ./proxyd)
  PROXYD_ORACLE=1    the binary is the reference HAProxy: tests marked with
                     @proxyd_only are skipped, @oracle_differs branches apply
  PROXYD_SKIP_SLOW=1 skip tests marked @slow (1 GiB transfers and the like)
  PROXYD_TIME_SCALE  multiply every upper time bound (e.g. 3 under ASan)

Every blocking operation has a timeout; every process started is stopped by
PID in a cleanup, also when the test fails.
"""

import base64
import contextlib
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

BIN = os.environ.get("PROXYD_BIN", "./proxyd")
if os.sep in BIN:
    # the proxy runs in a temp dir: a relative path must not depend on it
    BIN = os.path.abspath(BIN)
ORACLE = os.environ.get("PROXYD_ORACLE") == "1"
SKIP_SLOW = os.environ.get("PROXYD_SKIP_SLOW", "") not in ("", "0")
TIME_SCALE = float(os.environ.get("PROXYD_TIME_SCALE", "1") or "1")

# Default socket timeout for test clients and origins, in seconds.
IO_TIMEOUT = 10.0 * TIME_SCALE


def scaled(seconds):
    """An upper time bound, stretched for slow builds (sanitizers)."""
    return seconds * TIME_SCALE


# --------------------------------------------------------------------------
# Decorators
# --------------------------------------------------------------------------

def proxyd_only(reason):
    """Skip under the oracle: proxyd is required to be stricter (or simply
    different) than HAProxy here. `reason` says what HAProxy does instead."""
    return unittest.skipIf(ORACLE, "proxyd-only: " + reason)


def differs_from_haproxy(reason):
    """proxyd does not do what HAProxy does here yet: a known bug or gap,
    reported, not a deliberate difference. The test asserts HAProxy's
    behaviour: it passes under the oracle and is an expected failure
    against proxyd (an unexpected success, once fixed, fails the run so
    that the marker gets removed). `reason` says what proxyd does."""
    def deco(func):
        func.differs_from_haproxy = reason
        return func if ORACLE else unittest.expectedFailure(func)
    return deco


def slow(func):
    """Long tests (large transfers); run by default, skipped with
    PROXYD_SKIP_SLOW=1."""
    return unittest.skipIf(SKIP_SLOW, "slow test (PROXYD_SKIP_SLOW set)")(func)


# --------------------------------------------------------------------------
# Addresses and ports
# --------------------------------------------------------------------------

_given_ports = set()
_port_rng = random.Random(os.getpid() ^ int(time.time() * 1000))


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
            return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def _port_range():
    """Where free_port() picks: $PROXYD_PORT_RANGE ("LO-HI", set by the
    runner to a slice of its own for each module running in parallel),
    else every port below the kernel's ephemeral range."""
    env = os.environ.get("PROXYD_PORT_RANGE")
    if env:
        lo, hi = (int(x) for x in env.split("-"))
        return lo, hi
    lo, hi = _ephemeral_range()
    return (10000, lo - 1) if lo > 12000 else (hi + 1, 65535)


def free_port(host="127.0.0.1"):
    """A TCP port that was free a moment ago on `host`. Chosen outside the
    kernel's ephemeral range, so that no origin (bound to port 0) or client
    connection can take it before the proxy binds it; never the same twice
    in one process; in a range of its own per module when the runner runs
    modules in parallel (HAProxy binds with SO_REUSEPORT: two proxies on
    one port would share its connections)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    candidates = _port_range()
    for _ in range(500):
        port = _port_rng.randint(*candidates)
        if port in _given_ports:
            continue
        with socket.socket(family, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
        _given_ports.add(port)
        return port
    raise RuntimeError("no free port found in %d-%d" % candidates)


def listening_socket(host="127.0.0.1", port=0, backlog=128):
    """A bound, listening TCP socket (e.g. to hand over with fd@N)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(backlog)
    return s


def connect(addr, timeout=None, source=None):
    """Connect to ("host", port) or to a unix socket path (str); `source`
    is a local address to bind first (e.g. "127.0.0.2": any 127/8 address
    works on loopback)."""
    timeout = IO_TIMEOUT if timeout is None else timeout
    if isinstance(addr, str):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(addr)
        except BaseException:
            s.close()
            raise
        return s
    host, port = addr
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        if source is not None:
            s.bind((source, 0))
        s.connect((host, port))
    except BaseException:
        s.close()
        raise
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def wait_accepting(addr, deadline, alive=lambda: True):
    """Poll until `addr` accepts a connection; False on deadline or when
    alive() turns false."""
    while True:
        if not alive():
            return False
        try:
            s = connect(addr, timeout=0.5)
        except OSError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
            continue
        s.close()
        return True


def _listening_inodes(addr):
    """Inodes of the listening TCP sockets on port addr[1], from /proc/net."""
    inodes = set()
    host, port = addr
    table = "/proc/net/tcp6" if ":" in host else "/proc/net/tcp"
    try:
        with open(table) as f:
            next(f)
            for line in f:
                parts = line.split()
                local, state, inode = parts[1], parts[3], parts[9]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                    inodes.add(inode)
    except OSError:
        pass
    return inodes


def _socket_inodes_of(pid):
    out = set()
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return out
    for fd in fds:
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            out.add(link[8:-1])
    return out


def listening_sockets_of(pid, addr):
    """Inodes of the TCP sockets listening on addr that process `pid`
    holds: the same inode in two processes is one socket handed over."""
    return _listening_inodes(addr) & _socket_inodes_of(pid)


def wait_listening(pid, addr, deadline, alive=lambda: True):
    """Poll until process `pid` itself holds a listening socket on addr
    (no connection is made, so nothing is consumed or counted; a socket
    of another process on the same port does not count). Unix sockets are
    probed by connecting (their name in /proc/net/unix may be a temporary
    one that the proxy renamed)."""
    if isinstance(addr, str):
        return wait_accepting(addr, deadline, alive)
    while True:
        if not alive():
            return False
        inodes = _listening_inodes(addr)
        if inodes and inodes & _socket_inodes_of(pid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


# --------------------------------------------------------------------------
# Large deterministic bodies
# --------------------------------------------------------------------------

BLOCK = 64 * 1024


def _base_block(seed):
    out = bytearray()
    counter = 0
    while len(out) < BLOCK:
        out += hashlib.sha256(b"%d:%d" % (seed, counter)).digest()
        counter += 1
    return bytes(out[:BLOCK])


def pattern_chunks(size, seed=0):
    """Yield `size` deterministic bytes in blocks of 64 KiB. Each block
    carries its index so that reordered or repeated blocks change the hash."""
    base = bytearray(_base_block(seed))
    index = 0
    left = size
    while left > 0:
        struct.pack_into(">Q", base, 0, index)
        n = min(left, BLOCK)
        yield bytes(base[:n])
        left -= n
        index += 1


_hash_cache = {}


def pattern_sha256(size, seed=0):
    key = (size, seed)
    if key not in _hash_cache:
        h = hashlib.sha256()
        for block in pattern_chunks(size, seed):
            h.update(block)
        _hash_cache[key] = h.hexdigest()
    return _hash_cache[key]


def pattern_bytes(size, seed=0):
    return b"".join(pattern_chunks(size, seed))


# --------------------------------------------------------------------------
# Buffered socket reader
# --------------------------------------------------------------------------

class Reader:
    """Buffered reads on a socket; every read is bounded by the socket's
    timeout (socket.timeout propagates)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()
        self.eof = False

    def _fill(self, n=262144):
        if self.eof:
            return False
        data = self.sock.recv(n)
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def readline(self, limit=1 << 20):
        """A line including its LF; what is left at EOF (maybe b"")."""
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                return line
            if len(self.buf) > limit:
                raise ValueError("line too long")
            if not self._fill():
                line = bytes(self.buf)
                self.buf.clear()
                return line

    def read_exact(self, n):
        while len(self.buf) < n:
            if not self._fill():
                raise EOFError("connection closed after %d of %d bytes"
                               % (len(self.buf), n))
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_some(self, n=65536):
        """Up to n bytes; b"" on EOF."""
        if not self.buf:
            self._fill(max(n, 65536))
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_until_close(self, limit=1 << 30):
        while self._fill():
            if len(self.buf) > limit:
                raise ValueError("too much data")
        out = bytes(self.buf)
        self.buf.clear()
        return out

    def stream(self, n, sink):
        """Pass exactly n bytes to sink(bytes) without accumulating."""
        left = n
        while left > 0:
            if self.buf:
                take = min(left, len(self.buf))
                sink(bytes(self.buf[:take]))
                del self.buf[:take]
                left -= take
                continue
            if not self._fill(min(max(left, 65536), 1 << 20)):
                raise EOFError("connection closed with %d bytes missing" % left)

    def stream_until_close(self, sink):
        if self.buf:
            sink(bytes(self.buf))
            self.buf.clear()
        while self._fill(1 << 20):
            sink(bytes(self.buf))
            self.buf.clear()


def parse_head(lines):
    """[start_line, header lines...] (bytes, CRLF stripped) -> (start, headers)
    with headers a list of (name, value) str pairs (latin-1)."""
    start = lines[0].decode("latin-1")
    headers = []
    for line in lines[1:]:
        text = line.decode("latin-1")
        name, _, value = text.partition(":")
        headers.append((name, value.strip(" \t")))
    return start, headers


def read_head(reader):
    """Read a message head; returns (raw_bytes, [lines]) or (b"", []) if the
    peer closed before sending anything."""
    raw = bytearray()
    lines = []
    while True:
        line = reader.readline()
        if not line:
            if raw:
                raise EOFError("connection closed inside a message head: %r"
                               % bytes(raw))
            return b"", []
        raw += line
        stripped = line.rstrip(b"\r\n")
        if not stripped and not lines:
            continue  # tolerate leading empty lines
        if not stripped:
            return bytes(raw), lines
        lines.append(stripped)
        if not line.endswith(b"\n"):
            raise EOFError("connection closed inside a message head: %r"
                           % bytes(raw))


def hget(headers, name, default=None):
    """First value of header `name` (case-insensitive) in a list of pairs."""
    lname = name.lower()
    for k, v in headers:
        if k.lower() == lname:
            return v
    return default


def hgetall(headers, name):
    lname = name.lower()
    return [v for k, v in headers if k.lower() == lname]


def has_token(headers, name, token):
    """True if a comma-separated header contains `token` (case-insensitive)."""
    for v in hgetall(headers, name):
        for part in v.split(","):
            if part.strip().lower() == token.lower():
                return True
    return False


def read_chunked(reader, sink):
    """Decode a chunked body, feeding data to sink; returns trailer pairs."""
    while True:
        line = reader.readline(limit=4096)
        if not line.endswith(b"\n"):
            raise EOFError("truncated chunk size line")
        size_text = line.strip().split(b";")[0]
        size = int(size_text, 16)
        if size == 0:
            trailers = []
            while True:
                t = reader.readline()
                if not t.endswith(b"\n"):
                    raise EOFError("truncated trailers")
                t = t.rstrip(b"\r\n")
                if not t:
                    return trailers
                k, _, v = t.decode("latin-1").partition(":")
                trailers.append((k, v.strip()))
        reader.stream(size, sink)
        crlf = reader.read_exact(2)
        if crlf != b"\r\n":
            raise ValueError("bad chunk terminator %r" % crlf)


# --------------------------------------------------------------------------
# HTTP client
# --------------------------------------------------------------------------

class Response:
    def __init__(self):
        self.version = None
        self.status = None
        self.reason = None
        self.headers = []
        self.raw_head = b""
        self.body = b""
        self.body_len = 0
        self.sha256 = None
        self.trailers = []
        self.interim = []      # 1xx responses seen before this one
        self.framing = None    # "length", "chunked", "close", "none"
        self.complete = True   # False if the body was cut short

    def header(self, name, default=None):
        return hget(self.headers, name, default)

    def json(self):
        return json.loads(self.body.decode("latin-1"))

    def __repr__(self):
        return "<Response %s %r %s bytes>" % (self.status, self.headers,
                                              self.body_len)


class HTTPConn:
    """A client connection that sends requests and reads responses in
    order; usable for keep-alive and pipelining."""

    def __init__(self, addr, timeout=None, source=None):
        self.addr = addr
        self.sock = connect(addr, timeout, source)
        self.reader = Reader(self.sock)

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def settimeout(self, t):
        self.sock.settimeout(t)

    def send(self, data):
        self.sock.sendall(data)

    def build(self, method="GET", path="/", headers=None, body=None,
              version="HTTP/1.1", host="test"):
        """Serialize a request. `headers` is a list of pairs (or a dict);
        Host and Content-Length are added when absent (pass them to
        override; pass ("Host", None) to omit)."""
        pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        names = {k.lower() for k, _ in pairs}
        out = ["%s %s %s\r\n" % (method, path, version)]
        if "host" not in names and host is not None:
            out.append("Host: %s\r\n" % host)
        if body is not None and "content-length" not in names \
                and "transfer-encoding" not in names:
            out.append("Content-Length: %d\r\n" % len(body))
        for k, v in pairs:
            if v is not None:
                out.append("%s: %s\r\n" % (k, v))
        out.append("\r\n")
        data = "".join(out).encode("latin-1")
        if body:
            data += body
        return data

    def request(self, method="GET", path="/", headers=None, body=None,
                version="HTTP/1.1", **kw):
        self.send(self.build(method, path, headers, body, version))
        return self.read_response(method=method, **kw)

    def read_response(self, method="GET", keep_body=True, sink=None,
                      skip_interim=True):
        """Read one response. 1xx responses are collected in .interim (and
        skipped) unless skip_interim is False. With sink, body bytes go to
        sink instead of memory. Raises EOFError if nothing arrives."""
        interim = []
        while True:
            resp = self._read_one(method, keep_body, sink)
            if skip_interim and 100 <= resp.status < 200 and resp.status != 101:
                interim.append(resp)
                continue
            resp.interim = interim
            return resp

    def _read_one(self, method, keep_body, sink):
        raw, lines = read_head(self.reader)
        if not lines:
            raise EOFError("connection closed before a response")
        start, headers = parse_head(lines)
        r = Response()
        r.raw_head = raw
        parts = start.split(" ", 2)
        r.version = parts[0]
        r.status = int(parts[1])
        r.reason = parts[2] if len(parts) > 2 else ""
        r.headers = headers
        if 100 <= r.status < 200 or r.status in (204, 304) or method == "HEAD":
            r.framing = "none"
            return r
        h = hashlib.sha256()
        body = bytearray()
        count = [0]

        def consume(data):
            h.update(data)
            count[0] += len(data)
            if sink is not None:
                sink(data)
            elif keep_body:
                body.extend(data)

        te = hget(headers, "transfer-encoding")
        cl = hget(headers, "content-length")
        try:
            if te is not None and "chunked" in te.lower():
                r.framing = "chunked"
                r.trailers = read_chunked(self.reader, consume)
            elif cl is not None:
                r.framing = "length"
                self.reader.stream(int(cl), consume)
            else:
                r.framing = "close"
                self.reader.stream_until_close(consume)
        except EOFError:
            r.complete = False
        r.body = bytes(body)
        r.body_len = count[0]
        r.sha256 = h.hexdigest()
        return r

    def read_until_close(self):
        return self.reader.read_until_close()

    def is_closed(self, wait=0.5):
        """True if the peer closed (EOF or reset) within `wait` seconds
        without sending anything; False if still open (timeout)."""
        old = self.sock.gettimeout()
        self.sock.settimeout(wait)
        try:
            if self.reader.buf:
                return False
            data = self.sock.recv(1)
            if data:
                self.reader.buf += data
                return False
            return True
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True
        finally:
            self.sock.settimeout(old)


def http(addr, method="GET", path="/", headers=None, body=None,
         version="HTTP/1.1", timeout=None, source=None, **kw):
    """One request on a fresh connection (from local address `source`)."""
    with HTTPConn(addr, timeout, source) as c:
        return c.request(method, path, headers, body, version, **kw)


def raw_exchange(addr, data, timeout=None, half_close=False, wait_close=True):
    """Send exact bytes, return everything received until the peer closes
    (or until the timeout if wait_close is False: returns what came)."""
    timeout = IO_TIMEOUT if timeout is None else timeout
    s = connect(addr, timeout)
    try:
        if data:
            s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        out = bytearray()
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                if wait_close:
                    raise socket.timeout("peer did not close; got %r" % bytes(out))
                break
            s.settimeout(left)
            try:
                d = s.recv(65536)
            except socket.timeout:
                if wait_close:
                    raise socket.timeout("peer did not close; got %r" % bytes(out))
                break
            except ConnectionResetError:
                break
            if not d:
                break
            out += d
        return bytes(out)
    finally:
        s.close()


def parse_raw_response(data):
    """Split raw bytes holding one response: (status, headers, body)."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise ValueError("no complete response head in %r" % data[:200])
    start, headers = parse_head(head.split(b"\r\n"))
    return int(start.split(" ")[1]), headers, body


def status_of(data):
    """Status code of the first response in raw bytes, or None."""
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return int(m.group(1)) if m else None


# --------------------------------------------------------------------------
# Origin server
# --------------------------------------------------------------------------

class OriginRequest:
    """One request as an origin server received it."""

    def __init__(self, conn_id, index):
        self.conn_id = conn_id
        self.index = index              # 1-based position on its connection
        self.method = None
        self.uri = None
        self.version = None
        self.headers = []
        self.raw_head = b""
        self.body = b""                 # first MAX_KEEP bytes only
        self.body_len = 0
        self.body_sha256 = None
        self.chunked = False
        self.trailers = []
        self.time = time.monotonic()
        self.reader = None
        self._body_done = False

    MAX_KEEP = 1 << 20

    def header(self, name, default=None):
        return hget(self.headers, name, default)

    @property
    def path(self):
        return urllib.parse.urlsplit(self.uri).path

    @property
    def query(self):
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.uri).query))

    def has_body(self):
        return (self.header("content-length") is not None
                or self.header("transfer-encoding") is not None)

    def read_body(self):
        """Consume the request body (streaming: hashed, first MAX_KEEP bytes
        kept). Idempotent."""
        if self._body_done:
            return
        self._body_done = True
        h = hashlib.sha256()
        keep = bytearray()
        count = [0]

        def consume(data):
            h.update(data)
            count[0] += len(data)
            if len(keep) < self.MAX_KEEP:
                keep.extend(data[:self.MAX_KEEP - len(keep)])

        te = self.header("transfer-encoding")
        cl = self.header("content-length")
        if te is not None and "chunked" in te.lower():
            self.chunked = True
            self.trailers = read_chunked(self.reader, consume)
        elif cl is not None:
            self.reader.stream(int(cl), consume)
        self.body = bytes(keep)
        self.body_len = count[0]
        self.body_sha256 = h.hexdigest()

    def as_dict(self):
        return {
            "method": self.method, "uri": self.uri, "version": self.version,
            "headers": self.headers,
            "body": self.body.decode("latin-1"),
            "body_len": self.body_len, "body_sha256": self.body_sha256,
            "chunked": self.chunked, "trailers": self.trailers,
            "conn": self.conn_id, "conn_req": self.index,
        }


class Handler:
    """Base of origin behaviours. respond() writes to `conn` (a socket);
    returns True to keep the connection open for another request."""

    def respond(self, origin, conn, req):
        raise NotImplementedError

    @staticmethod
    def head(status, reason, headers):
        lines = ["HTTP/1.1 %d %s\r\n" % (status, reason)]
        for k, v in headers:
            lines.append("%s: %s\r\n" % (k, v))
        lines.append("\r\n")
        return "".join(lines).encode("latin-1")


def _std_headers(origin, req):
    return [("X-Origin", origin.name), ("X-Conn", str(req.conn_id)),
            ("X-Conn-Req", str(req.index))]


def _wants_close(req):
    conn = (req.header("connection") or "").lower()
    if req.version == "HTTP/1.0":
        return "keep-alive" not in conn
    return "close" in [t.strip() for t in conn.split(",")]


class Fixed(Handler):
    """A fixed response with Content-Length (headers only for HEAD and for
    204/304). close=True adds `Connection: close` and closes."""

    def __init__(self, body=b"", status=200, reason="OK", headers=None,
                 close=False, content_type="text/plain"):
        self.body = body if isinstance(body, bytes) else body.encode()
        self.status, self.reason = status, reason
        self.headers = list(headers or [])
        self.close = close
        self.content_type = content_type

    def respond(self, origin, conn, req):
        req.read_body()
        hdrs = _std_headers(origin, req)
        if self.content_type and self.status not in (204, 304):
            hdrs.append(("Content-Type", self.content_type))
        if self.status not in (204, 304) and not 100 <= self.status < 200:
            hdrs.append(("Content-Length", str(len(self.body))))
        hdrs += self.headers
        close = self.close or _wants_close(req)
        if close:
            hdrs.append(("Connection", "close"))
        data = self.head(self.status, self.reason, hdrs)
        if req.method != "HEAD" and self.status not in (204, 304):
            data += self.body
        conn.sendall(data)
        return not close


class Echo(Handler):
    """200 with the request as JSON (see OriginRequest.as_dict)."""

    def __init__(self, close=False, chunked=False):
        self.close = close
        self.chunked = chunked

    def respond(self, origin, conn, req):
        req.read_body()
        body = json.dumps(req.as_dict()).encode()
        hdrs = _std_headers(origin, req) + [("Content-Type", "application/json")]
        close = self.close or _wants_close(req)
        if self.chunked:
            hdrs.append(("Transfer-Encoding", "chunked"))
        else:
            hdrs.append(("Content-Length", str(len(body))))
        if close:
            hdrs.append(("Connection", "close"))
        data = self.head(200, "OK", hdrs)
        if req.method != "HEAD":
            if self.chunked:
                data += b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
            else:
                data += body
        conn.sendall(data)
        return not close


class Chunked(Handler):
    """A chunked response made of the given chunks (bytes), with optional
    trailers and optional pauses between chunks."""

    def __init__(self, chunks, trailers=None, pause=0.0, status=200):
        self.chunks = [c if isinstance(c, bytes) else c.encode() for c in chunks]
        self.trailers = trailers or []
        self.pause = pause
        self.status = status

    def respond(self, origin, conn, req):
        req.read_body()
        hdrs = _std_headers(origin, req) + [
            ("Content-Type", "application/octet-stream"),
            ("Transfer-Encoding", "chunked")]
        close = _wants_close(req)
        if close:
            hdrs.append(("Connection", "close"))
        conn.sendall(self.head(self.status, "OK", hdrs))
        if req.method == "HEAD":
            return not close
        for c in self.chunks:
            if not c:
                continue
            conn.sendall(b"%x\r\n%s\r\n" % (len(c), c))
            if self.pause:
                time.sleep(self.pause)
        tail = b"0\r\n"
        for k, v in self.trailers:
            tail += ("%s: %s\r\n" % (k, v)).encode("latin-1")
        conn.sendall(tail + b"\r\n")
        return not close


class Stream(Handler):
    """A large generated body (pattern_chunks(size, seed)), never held in
    memory; with Content-Length, chunked, or close-delimited framing.
    The size may also come from the query: ?size=N&seed=S."""

    def __init__(self, size=None, seed=0, framing="length"):
        self.size, self.seed, self.framing = size, seed, framing

    def respond(self, origin, conn, req):
        req.read_body()
        q = req.query
        size = int(q.get("size", self.size or 0))
        seed = int(q.get("seed", self.seed))
        framing = q.get("framing", self.framing)
        hdrs = _std_headers(origin, req) + [
            ("Content-Type", "application/octet-stream"),
            ("X-Body-Sha256", pattern_sha256(size, seed) if size <= (64 << 20) else "-")]
        close = _wants_close(req) or framing == "close"
        if framing == "length":
            hdrs.append(("Content-Length", str(size)))
        elif framing == "chunked":
            hdrs.append(("Transfer-Encoding", "chunked"))
        if close:
            hdrs.append(("Connection", "close"))
        conn.sendall(self.head(200, "OK", hdrs))
        if req.method == "HEAD":
            return not close
        for block in pattern_chunks(size, seed):
            if framing == "chunked":
                conn.sendall(b"%x\r\n" % len(block) + block + b"\r\n")
            else:
                conn.sendall(block)
        if framing == "chunked":
            conn.sendall(b"0\r\n\r\n")
        return not close


class NoLength(Handler):
    """A response without Content-Length nor chunking: the body ends when
    the origin closes the connection."""

    def __init__(self, body=b"close-delimited body", keep_alive_header=False):
        self.body = body
        self.keep_alive_header = keep_alive_header

    def respond(self, origin, conn, req):
        req.read_body()
        hdrs = _std_headers(origin, req) + [("Content-Type", "text/plain")]
        if not self.keep_alive_header:
            hdrs.append(("Connection", "close"))
        conn.sendall(self.head(200, "OK", hdrs) + self.body)
        return False


class Raw(Handler):
    """Bytes sent verbatim (possibly invalid or truncated HTTP) after the
    request was read, then close (or keep the connection if close=False).
    `chunks` with `pause` sends several writes spaced in time."""

    def __init__(self, data=b"", close=True, chunks=None, pause=0.0,
                 read_body=True):
        self.chunks = chunks if chunks is not None else [data]
        self.close, self.pause = close, pause
        self.read_body = read_body

    def respond(self, origin, conn, req):
        if self.read_body:
            req.read_body()
        for i, c in enumerate(self.chunks):
            if i and self.pause:
                time.sleep(self.pause)
            if c:
                conn.sendall(c)
        return not self.close


class Delay(Handler):
    """Wait `delay` seconds (or ?delay=S) before another handler responds."""

    def __init__(self, delay, then=None, before_body=False):
        self.delay, self.then = delay, then or Echo()
        self.before_body = before_body

    def respond(self, origin, conn, req):
        if not self.before_body:
            req.read_body()
        d = float(req.query.get("delay", self.delay))
        origin._sleep(d)
        return self.then.respond(origin, conn, req)


class Interim(Handler):
    """Send one or more 1xx responses (e.g. "100 Continue", "103 Early
    Hints") before reading the body, then let `then` answer. With
    only_if_expect, sends 100 only when the request carries Expect."""

    def __init__(self, interim=((100, "Continue"),), then=None,
                 only_if_expect=False, pause=0.0):
        self.interim = interim
        self.then = then or Echo()
        self.only_if_expect = only_if_expect
        self.pause = pause

    def respond(self, origin, conn, req):
        expect = (req.header("expect") or "").lower() == "100-continue"
        req.got_body_before_interim = None
        if not self.only_if_expect or expect:
            # Did body bytes arrive before we sent the 1xx? (they must not
            # when the client honours Expect: 100-continue)
            req.got_body_before_interim = bool(req.reader.buf)
            if not req.got_body_before_interim and req.has_body():
                conn.setblocking(False)
                try:
                    req.got_body_before_interim = bool(conn.recv(1, socket.MSG_PEEK))
                except (BlockingIOError, InterruptedError):
                    req.got_body_before_interim = False
                finally:
                    conn.settimeout(origin.timeout)
            for status, reason in self.interim:
                conn.sendall(b"HTTP/1.1 %d %s\r\n\r\n" % (status, reason.encode()))
                if self.pause:
                    time.sleep(self.pause)
        return self.then.respond(origin, conn, req)


class Upgrade(Handler):
    """101 Switching Protocols then a raw echo tunnel until either side
    closes. Refuses (400) requests without an Upgrade header."""

    def __init__(self, protocol="websocket"):
        self.protocol = protocol

    def respond(self, origin, conn, req):
        up = req.header("upgrade")
        if not up:
            return Fixed(b"no upgrade\n", 400, "Bad Request").respond(origin, conn, req)
        hdrs = [("Connection", "Upgrade"), ("Upgrade", self.protocol)]
        key = req.header("sec-websocket-key")
        if key:
            acc = base64.b64encode(hashlib.sha1(
                (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
            hdrs.append(("Sec-WebSocket-Accept", acc.decode()))
        conn.sendall(self.head(101, "Switching Protocols", hdrs))
        reader = req.reader
        if reader.buf:
            conn.sendall(bytes(reader.buf))
            reader.buf.clear()
        conn.settimeout(origin.tunnel_timeout)
        while True:
            try:
                data = conn.recv(65536)
            except (socket.timeout, OSError):
                break
            if not data:
                break
            conn.sendall(data)
        return False


class Origin:
    """An HTTP/1.1 origin server in background threads.

    Routes map a path (exact match on the path, without query) to a Handler;
    anything else gets `default` (Echo). Query knob for every path:
    ?delay=S waits before answering.

    Observations (all under self.lock):
      accepted       TCP connections accepted
      requests       requests fully parsed
      log            list of OriginRequest, in arrival order
      conn_requests  {conn_id: number of requests on that connection}
      open_conns     currently open connections
    """

    def __init__(self, host="127.0.0.1", port=0, name="s1", routes=None,
                 default=None, timeout=None, tunnel_timeout=None):
        self.host, self.name = host, name
        self.routes = dict(routes or {})
        self.default = default or Echo()
        self.timeout = timeout or IO_TIMEOUT * 3
        self.tunnel_timeout = tunnel_timeout or IO_TIMEOUT * 3
        self.lock = threading.Condition()
        self.accepted = 0
        self.requests = 0
        self.log = []
        self.conn_requests = {}
        self.open_conns = 0
        self.errors = []
        self._stop = threading.Event()
        self._threads = []
        self._conns = set()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(256)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept_loop,
                                          name="origin-" + name, daemon=True)
        self._acceptor.start()

    @property
    def addr(self):
        return "[%s]:%d" % (self.host, self.port) if ":" in self.host \
            else "%s:%d" % (self.host, self.port)

    def route(self, path, handler):
        self.routes[path] = handler
        return self

    def _sleep(self, seconds):
        self._stop.wait(seconds)

    def _accept_loop(self):
        conn_id = 0
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            conn_id += 1
            with self.lock:
                self.accepted += 1
                self.open_conns += 1
                self.conn_requests[conn_id] = 0
                self._conns.add(conn)
                self.lock.notify_all()
            t = threading.Thread(target=self._serve, args=(conn, conn_id),
                                 daemon=True)
            self._threads = [x for x in self._threads if x.is_alive()]
            self._threads.append(t)
            t.start()

    def _serve(self, conn, conn_id):
        conn.settimeout(self.timeout)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = Reader(conn)
        index = 0
        try:
            while not self._stop.is_set():
                raw, lines = read_head(reader)
                if not lines:
                    break
                index += 1
                req = OriginRequest(conn_id, index)
                req.reader = reader
                req.raw_head = raw
                start, req.headers = parse_head(lines)
                parts = start.split(" ")
                if len(parts) != 3:
                    self.errors.append("bad request line %r" % start)
                    break
                req.method, req.uri, req.version = parts
                with self.lock:
                    self.requests += 1
                    self.conn_requests[conn_id] = index
                    self.log.append(req)
                    self.lock.notify_all()
                handler = self.routes.get(req.path, self.default)
                if "delay" in req.query and not isinstance(handler, Delay):
                    req.read_body()
                    self._sleep(float(req.query["delay"]))
                keep = handler.respond(self, conn, req)
                if not keep:
                    break
                req.read_body()  # in case the handler ignored it
        except (OSError, EOFError, ValueError) as e:
            if not self._stop.is_set():
                self.errors.append("conn %d: %r" % (conn_id, e))
        finally:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
            with self.lock:
                self.open_conns -= 1
                self._conns.discard(conn)
                self.lock.notify_all()

    def wait_for(self, predicate, timeout=None):
        """Wait (bounded) until predicate(self) holds; returns its value."""
        deadline = time.monotonic() + (timeout if timeout is not None else IO_TIMEOUT)
        with self.lock:
            while True:
                v = predicate(self)
                if v:
                    return v
                left = deadline - time.monotonic()
                if left <= 0:
                    return v
                self.lock.wait(min(left, 0.1))

    def wait_requests(self, n, timeout=None):
        return self.wait_for(lambda o: o.requests >= n, timeout)

    def stop(self):
        self._stop.set()
        with contextlib.suppress(OSError):
            self.sock.close()
        with self.lock:
            conns = list(self._conns)
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
        self._acceptor.join(2)
        for t in list(self._threads):
            t.join(2)


class DeadPort:
    """A port on which nothing listens (connection refused)."""

    def __init__(self, host="127.0.0.1"):
        self.host = host
        self.port = free_port(host)

    @property
    def addr(self):
        return "%s:%d" % (self.host, self.port)


class BlackHole:
    """An address whose SYNs go unanswered (a listening socket with a full
    accept queue): connecting to it hangs until the connector's timeout."""

    def __init__(self, host="127.0.0.1"):
        self.host = host
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.fillers = []
        for _ in range(3):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                c.connect((host, self.port))
            self.fillers.append(c)
        time.sleep(0.1)

    @property
    def addr(self):
        return "%s:%d" % (self.host, self.port)

    def close(self):
        for c in self.fillers:
            c.close()
        self.sock.close()


# --------------------------------------------------------------------------
# The proxy process
# --------------------------------------------------------------------------

def render(template, **values):
    """Replace {{name}} placeholders; every placeholder must be given."""
    def sub(m):
        key = m.group(1)
        if key not in values:
            raise KeyError("config template needs a value for {{%s}}" % key)
        return str(values[key])
    return re.sub(r"\{\{(\w+)\}\}", sub, template)


class Proxy:
    """The binary under test, started on a configuration file.

    wait_for: addresses (("host", port) or unix path) that must accept
    connections before start() returns."""

    def __init__(self, workdir, config, wait_for=(), debug=False,
                 pass_fds=(), args=(), name="proxy", start_timeout=None):
        self.workdir = workdir
        self.cfg_path = os.path.join(workdir, name + ".cfg")
        with open(self.cfg_path, "w") as f:
            f.write(config)
        self.config = config
        self.wait_for = list(wait_for)
        self.debug = debug
        self.pass_fds = tuple(pass_fds)
        self.args = list(args)
        self.stdout_path = os.path.join(workdir, name + ".stdout")
        self.stderr_path = os.path.join(workdir, name + ".stderr")
        self.proc = None
        self.returncode = None
        self.start_timeout = start_timeout or scaled(10)

    @property
    def pid(self):
        return self.proc.pid

    def start(self):
        cmd = [BIN, "-f", self.cfg_path] + self.args
        if self.debug and not ORACLE:
            cmd.append("-d")
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=err,
                                         pass_fds=self.pass_fds,
                                         cwd=self.workdir)
        deadline = time.monotonic() + self.start_timeout
        for addr in self.wait_for:
            if not wait_listening(self.proc.pid, addr, deadline,
                                  lambda: self.proc.poll() is None):
                rc = self.proc.poll()
                self.stop()
                raise RuntimeError(
                    "proxy did not come up on %r (exit status %r)\n--- config ---\n%s"
                    "--- stderr ---\n%s" % (addr, rc, self.config, self.stderr()))
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def wait(self, timeout):
        """Wait for exit; returns the exit status or None on timeout."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=signal.SIGTERM, timeout=None):
        """Signal, bounded wait, then SIGKILL. Returns the exit status
        (negative for death by signal, as subprocess reports)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=timeout or scaled(5))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.returncode = self.proc.returncode
        return self.returncode

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stdout(self):
        try:
            with open(self.stdout_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def rss_kib(self):
        """Resident set size from /proc (KiB), or None if gone."""
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def fd_count(self):
        try:
            return len(os.listdir("/proc/%d/fd" % self.proc.pid))
        except OSError:
            return None


class RssSampler:
    """Samples a proxy's VmRSS in a thread; max/min/first in KiB."""

    def __init__(self, proxy, interval=0.05):
        self.proxy, self.interval = proxy, interval
        self.samples = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            v = self.proxy.rss_kib()
            if v is not None:
                self.samples.append(v)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join(5)

    @property
    def peak(self):
        return max(self.samples) if self.samples else None


def run_bin(args, timeout=None, cwd=None):
    """Run the binary under test to completion (bounded):
    (exit status, stdout, stderr) as text."""
    p = subprocess.run([BIN] + list(args), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout or scaled(20), cwd=cwd)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


# --------------------------------------------------------------------------
# Test case base
# --------------------------------------------------------------------------

BASE_GLOBAL = """\
global
    maxconn 1000
    nbthread 1
"""

BASE_DEFAULTS = """\
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
"""


class ProxyTestCase(unittest.TestCase):
    """Base class: a temp dir per test, origins and proxies stopped in
    cleanups (proxy stderr is dumped when the test failed)."""

    maxDiff = 4000

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="proxyd-e2e-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def _failed(self):
        outcome = getattr(self, "_outcome", None)
        return outcome is not None and not getattr(outcome, "success", True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write_file(self, name, content):
        p = self.path(name)
        with open(p, "wb") as f:
            f.write(content if isinstance(content, bytes) else content.encode())
        return p

    def origin(self, **kw):
        o = Origin(**kw)
        self.addCleanup(o.stop)
        return o

    def start_proxy(self, config, wait_for=None, **kw):
        """Start the binary under test on `config` (already rendered).
        wait_for defaults to every 127.0.0.1/[::1] "bind" port found in
        the config."""
        if wait_for is None:
            wait_for = bind_addresses(config)
        p = Proxy(self.tmp, config, wait_for=wait_for, **kw)
        self.addCleanup(self._stop_proxy, p)
        p.start()
        return p

    def _stop_proxy(self, p):
        p.stop()
        # A sanitizer build reports memory errors, leaks and undefined
        # behaviour on stderr: any of them fails the test that caused it.
        err = p.stderr()
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if marker in err:
                raise AssertionError("%s in the proxy's stderr:\n%s" % (marker, err[-6000:]))
        if self._failed():
            sys.stderr.write("\n--- %s: proxy stderr (pid %s, status %s) ---\n%s\n"
                             % (self.id(), p.proc.pid if p.proc else "-",
                                p.returncode, p.stderr()[-4000:]))

    def simple_proxy(self, backend_lines, frontend_lines="", defaults="",
                     global_lines="", port=None):
        """A frontend on 127.0.0.1:<port> with one backend `be` made of
        `backend_lines`; returns (proxy, ("127.0.0.1", port))."""
        port = port or free_port()
        cfg = (BASE_GLOBAL + indent(global_lines) + BASE_DEFAULTS + indent(defaults)
               + "frontend fe\n    bind 127.0.0.1:%d\n" % port + indent(frontend_lines)
               + "    default_backend be\n"
               + "backend be\n" + indent(backend_lines))
        p = self.start_proxy(cfg)
        return p, ("127.0.0.1", port)

    def assertElapsed(self, elapsed, low, high):
        """low <= elapsed <= high*TIME_SCALE (high is scaled)."""
        self.assertGreaterEqual(elapsed, low, "took %.2fs, expected >= %.2fs"
                                % (elapsed, low))
        self.assertLessEqual(elapsed, scaled(high), "took %.2fs, expected <= %.2fs"
                             % (elapsed, scaled(high)))


def indent(text):
    lines = [l.strip() for l in text.strip("\n").splitlines() if l.strip()]
    return "".join("    %s\n" % l for l in lines)


def bind_addresses(config):
    """TCP addresses of `bind` lines that are worth waiting for."""
    out = []
    for line in config.splitlines():
        words = line.split()
        if not words or words[0] != "bind":
            continue
        if len(words) < 2:
            continue
        for a in words[1].split(","):
            if a.startswith("unix@"):
                out.append(a[5:])
                continue
            if a.startswith("fd@") or a.startswith("/"):
                continue
            a = re.sub(r"^(ipv4@|ipv6@|tcp@|tcp4@|tcp6@)", "", a)
            m = re.match(r"^\[([0-9a-fA-F:.]+)\]:(\d+)$", a) or \
                re.match(r"^(\d+\.\d+\.\d+\.\d+):(\d+)$", a) or \
                re.match(r"^([0-9a-fA-F]*:[0-9a-fA-F:]*):(\d+)$", a)
            if m:
                out.append((m.group(1), int(m.group(2))))
    return out
