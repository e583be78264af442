"""Load for the reload tests, in processes of their own (no GIL shared with
the test): a small asyncio origin, and HTTP clients built on http.client.

    python3 loadgen.py origin            prints its port, serves until stdin closes
    python3 loadgen.py client HOST PORT SECONDS NEW KA
        NEW threads open a new connection for each request, KA threads keep
        their connection alive, for at most SECONDS or until stdin closes;
        prints one JSON line of results.

What counts as a failure (the reload test fails on one): an error status,
a refused connection, a reset or a timeout while a request is in progress,
a truncated or wrong body. What does not: a keep-alive connection closed
by the proxy after a complete response ("Connection: close" from a
stopping process), after which the client simply reconnects; and a
request written on a reused keep-alive connection that the server closed
while it was idle, with not a single byte of response: HTTP clients send
such a request again on a new connection (RFC 9112, section 9.3.1), and
the clients here do so, counting them as "idle_retries".
"""

import asyncio
import http.client
import json
import socket
import sys
import threading
import time

BODY = b"x" * 100


def run_origin():
    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                line = head.split(b"\r\n", 1)[0]
                if b"/slow" in line:
                    await asyncio.sleep(0.05)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                             b"Content-Type: text/plain\r\n\r\n" % len(BODY) + BODY)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def main():
        srv = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        print(srv.sockets[0].getsockname()[1], flush=True)
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        loop.add_reader(sys.stdin.fileno(), lambda: done.done() or done.set_result(None))
        await done

    asyncio.run(main())


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.sent = 0
        self.ok = 0
        self.failures = []
        self.nb_failures = 0
        self.idle_retries = 0
        self.closed_after_response = 0

    def fail(self, what):
        with self.lock:
            self.nb_failures += 1
            if len(self.failures) < 20:
                self.failures.append(what)


class NoResponse(Exception):
    """The connection ended before any byte of the response."""


def one_request(conn, path, stats):
    """Sends one request on conn; True when it got its complete 200."""
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
        raise NoResponse("%s: %s" % (type(e).__name__, e))
    body = resp.read()   # errors from here on are failures
    if resp.status != 200 or body != BODY:
        stats.fail("status %d, %d body bytes" % (resp.status, len(body)))
        return False
    if resp.will_close:
        with stats.lock:
            stats.closed_after_response += 1
        conn.close()
    return True


def client_thread(host, port, deadline, keepalive, stats, idx, stop):
    conn = None
    reused = False
    n = 0
    while time.monotonic() < deadline and not stop.is_set():
        if conn is None or conn.sock is None and keepalive:
            if conn is not None:
                conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=10)
            reused = False
        # one request in 20 waits 50 ms at the origin (in flight during
        # reloads), half of the others are answered by the proxy itself
        path = "/slow" if n % 20 == idx % 20 else "/local" if n % 2 else "/"
        n += 1
        with stats.lock:
            stats.sent += 1
        try:
            was_reused = reused and conn.sock is not None
            try:
                ok = one_request(conn, path, stats)
            except NoResponse:
                if not was_reused:
                    raise
                # idle keep-alive connection closed under our feet, before
                # any byte of response: send again on a new connection
                with stats.lock:
                    stats.idle_retries += 1
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=10)
                ok = one_request(conn, path, stats)
            if ok:
                with stats.lock:
                    stats.ok += 1
            reused = keepalive and conn.sock is not None
        except Exception as e:   # every other error is a failure
            stats.fail("%s: %s" % (type(e).__name__, e))
            conn.close()
            conn = None
        if not keepalive and conn is not None:
            conn.close()
            conn = None


def run_client(host, port, seconds, nb_new, nb_ka):
    stats = Stats()
    deadline = time.monotonic() + seconds
    stop = threading.Event()

    def watch_stdin():
        sys.stdin.read()
        stop.set()
    threading.Thread(target=watch_stdin, daemon=True).start()
    threads = [threading.Thread(target=client_thread,
                                args=(host, port, deadline, i >= nb_new, stats, i, stop))
               for i in range(nb_new + nb_ka)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 30)
    print(json.dumps({"sent": stats.sent, "ok": stats.ok, "nb_failures": stats.nb_failures,
                      "failures": stats.failures, "idle_retries": stats.idle_retries,
                      "closed_after_response": stats.closed_after_response,
                      "duration": time.monotonic() - t0}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "origin":
        run_origin()
    else:
        run_client(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]),
                   int(sys.argv[6]))
