"""The statistics page: authentication, the HTML tables, HAProxy's CSV
(header byte for byte, counters that follow the traffic), JSON, the
admin form, the Prometheus exporter (HAProxy's built-in names), the
external prometheus-haproxy-exporter reading the CSV, and the page
rendered by headless Chromium.

The CSV header is compared with the reference of
/work/shared/ref/haproxy-compat.md (kept below) and, when the oracle is
installed, with what haproxy itself prints for the same configuration.
"""

import base64
import json
import os
import shutil
import signal
import struct
import subprocess
import time
import unittest
import urllib.parse
import zlib

import harness as H
from harness import ORACLE, Fixed, ProxyTestCase, http, proxyd_only, scaled

# HAProxy 2.6.12's header, up to and including its module columns.
HAPROXY_HEADER = (
    "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,"
    "eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,"
    "qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,"
    "check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,"
    "hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,"
    "comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,"
    "rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,"
    "check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,"
    "cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,"
    "connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,"
    "rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,"
    "need_conn_est,uweight,agg_server_status,agg_server_check_status,"
    "agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,"
    "h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,"
    "h2_goaway_rcvd,h2_detected_conn_protocol_errors,"
    "h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,"
    "h2_open_connections,h2_backend_open_streams,h2_total_connections,"
    "h2_backend_total_streams,h1_open_connections,h1_open_streams,"
    "h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,"
    "h1_spliced_bytes_in,h1_spliced_bytes_out,")
# proxyd's own columns, after HAProxy's
PROXYD_EXTRA = "rtime_p50,rtime_p95,rtime_p99,"

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
EXPORTER = shutil.which("prometheus-haproxy-exporter")

CONFIG = H.BASE_GLOBAL + H.BASE_DEFAULTS + """\
listen stats
    bind 127.0.0.1:{{sport}}
    stats enable
    stats uri /st
    stats realm Proxy\\ Stats
    stats auth admin:s3cret
    stats auth ops:other
    stats refresh 7s
    stats admin if TRUE
frontend fe
    bind 127.0.0.1:{{port}}
    default_backend be
backend be
    server s1 {{o1}}
    server s2 {{o2}}
backend spare
    server sp1 {{o1}} backup
"""


def auth(user="admin", pw="s3cret"):
    return [("Authorization", "Basic " + base64.b64encode(
        ("%s:%s" % (user, pw)).encode()).decode())]


def csv_rows(body):
    lines = body.decode().split("\n")
    header = lines[0]
    names = header[2:].split(",")[:-1]
    rows = {}
    for l in lines[1:]:
        if not l:
            continue
        f = l.split(",")
        rows[(f[0], f[1])] = dict(zip(names, f))
    return header, rows


def png_colors(path):
    """Distinct pixel colours of a PNG (8-bit RGB/RGBA, non-interlaced),
    decoded with the standard library: enough to tell a blank page from
    one with coloured tables."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        ln, typ = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + ln]
        if typ == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", chunk[:10])
        elif typ == b"IDAT":
            idat += chunk
        pos += 12 + ln
    bpp = {2: 3, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    colors = set()
    i = 0
    for _ in range(h):
        ft = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ft == 1:
                line[x] = (line[x] + a) & 255
            elif ft == 2:
                line[x] = (line[x] + b) & 255
            elif ft == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pr) & 255
        for x in range(0, stride, bpp * 7):   # a sample is plenty
            colors.add(bytes(line[x:x + 3]))
        prev = line
    return colors


class StatsPage(ProxyTestCase):
    def setUp(self):
        super().setUp()
        self.o1 = self.origin(name="s1")
        self.o2 = self.origin(name="s2")
        for o in (self.o1, self.o2):
            o.route("/", Fixed(b"hello"))
        self.sport, self.port = H.free_port(), H.free_port()
        self.cfg = H.render(CONFIG, sport=self.sport, port=self.port, o1=self.o1.addr, o2=self.o2.addr)
        self.proxy = self.start_proxy(self.cfg)
        self.saddr = ("127.0.0.1", self.sport)
        self.addr = ("127.0.0.1", self.port)

    def get(self, path, **kw):
        return http(self.saddr, "GET", path, headers=auth(**kw))

    def test_401_then_200(self):
        r = http(self.saddr, "GET", "/st")
        self.assertEqual(r.status, 401)
        self.assertEqual(r.header("WWW-Authenticate"), 'Basic realm="Proxy Stats"')
        r = http(self.saddr, "GET", "/st", headers=auth(pw="wrong"))
        self.assertEqual(r.status, 401)
        r = self.get("/st")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("Content-Type").startswith("text/html"))
        self.assertEqual(r.header("Refresh"), "7")
        # the second user works too
        self.assertEqual(self.get("/st", user="ops", pw="other").status, 200)
        # other URIs of the section are not the page
        self.assertEqual(http(self.saddr, "GET", "/other", headers=auth()).status, 503)

    def test_page_names_everything(self):
        body = self.get("/st").body.decode()
        for name in ("stats", "fe", "be", "spare"):
            self.assertIn('<h2 id="%s">%s ' % (name, name), body)
        for name in ("s1", "s2", "sp1", "FRONTEND", "BACKEND"):
            self.assertIn(">%s<" % name, body)
        self.assertEqual(body.count("<table"), 4)
        self.assertIn("<svg", body)            # sparklines
        self.assertNotIn("<script", body)      # self-contained
        self.assertNotIn("http://", body.replace("http://www.w3.org", ""))

    def test_csv_header_and_rows(self):
        r = self.get("/st;csv")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Type"), "text/plain")
        header, rows = csv_rows(r.body)
        self.assertEqual(header, HAPROXY_HEADER + PROXYD_EXTRA)
        self.assertTrue(header.startswith(HAPROXY_HEADER))
        self.assertEqual([k for k in rows], [("stats", "FRONTEND"), ("stats", "BACKEND"), ("fe", "FRONTEND"),
                                             ("be", "s1"), ("be", "s2"), ("be", "BACKEND"), ("spare", "sp1"),
                                             ("spare", "BACKEND")])
        for line in r.body.decode().split("\n")[:-1]:
            self.assertTrue(line.endswith(","), line)
        self.assertEqual(rows[("be", "s1")]["status"], "no check")
        self.assertEqual(rows[("be", "s1")]["type"], "2")
        self.assertEqual(rows[("be", "s1")]["-"], "-")
        # addr, cookie and algo stay empty without "stats show-legends"
        self.assertEqual(rows[("be", "s1")]["addr"], "")
        self.assertEqual(rows[("be", "BACKEND")]["algo"], "")
        # empty where HAProxy leaves them empty
        self.assertEqual(rows[("fe", "FRONTEND")]["qcur"], "")
        self.assertEqual(rows[("be", "s1")]["slim"], "")
        self.assertEqual(rows[("be", "BACKEND")]["agg_server_status"], "0")
        self.assertEqual(rows[("be", "s1")]["agg_server_status"], "")
        # ;norefresh drops the Refresh header
        r = self.get("/st;csv;norefresh")
        self.assertIsNone(r.header("Refresh"))
        self.assertEqual(r.body.split(b"\n")[0].decode(), HAPROXY_HEADER + PROXYD_EXTRA)

    def test_counters_follow_traffic(self):
        n, sent, received = 7, 0, 0
        for i in range(n):
            with H.HTTPConn(self.addr) as c:
                req = c.build("GET", "/?i=%d" % i)
                c.send(req)
                r = c.read_response()
                self.assertEqual(r.status, 200)
                sent += len(req)
                received += len(r.raw_head) + len(r.body)
        _, rows = csv_rows(self.get("/st;csv").body)
        fe, be = rows[("fe", "FRONTEND")], rows[("be", "BACKEND")]
        s1, s2 = rows[("be", "s1")], rows[("be", "s2")]
        self.assertEqual(int(fe["stot"]), n)
        self.assertEqual(int(fe["req_tot"]), n)
        self.assertEqual(int(fe["hrsp_2xx"]), n)
        self.assertEqual(int(fe["bin"]), sent)
        self.assertEqual(int(fe["bout"]), received)
        self.assertEqual(int(be["stot"]), n)
        self.assertEqual(int(be["hrsp_2xx"]), n)
        self.assertEqual(int(be["bin"]), sent)
        self.assertEqual(int(be["bout"]), received)
        self.assertEqual(int(s1["stot"]) + int(s2["stot"]), n)
        self.assertEqual(int(s1["hrsp_2xx"]) + int(s2["hrsp_2xx"]), n)
        self.assertEqual(int(s1["bin"]) + int(s2["bin"]), sent)
        self.assertEqual(int(s1["bout"]) + int(s2["bout"]), received)
        self.assertEqual(int(s1["lbtot"]) + int(s2["lbtot"]), n)
        self.assertGreaterEqual(int(fe["rate_max"]), 1)
        self.assertGreaterEqual(int(fe["req_rate_max"]), 1)
        self.assertGreaterEqual(int(fe["conn_rate_max"]), 1)
        self.assertEqual(int(fe["conn_tot"]), n)
        # percentiles come with the responses of the last minute
        self.assertNotEqual(be["rtime_p50"], "")
        self.assertNotEqual(s1["rtime_p99"], "")
        self.assertEqual(rows[("spare", "sp1")]["rtime_p50"], "")

    def test_json(self):
        r = self.get("/st;json")
        self.assertEqual(r.header("Content-Type"), "application/json")
        rows = r.json()
        self.assertEqual(len(rows), 8)
        first = rows[0][0]
        self.assertEqual(first["field"], {"pos": 0, "name": "pxname"})
        self.assertEqual(first["value"], {"type": "str", "value": "stats"})
        self.assertEqual(first["objType"], "Frontend")
        srv = {f["field"]["name"]: f["value"]["value"] for f in rows[3]}
        self.assertEqual((srv["pxname"], srv["svname"], srv["status"]), ("be", "s1", "no check"))

    def test_admin_drains_a_server(self):
        body = self.get("/st").body.decode()
        self.assertIn('name="action"', body)
        form = urllib.parse.urlencode([("s", "s1"), ("action", "drain"), ("b", "be")]).encode()
        r = http(self.saddr, "POST", "/st", headers=auth() + [
            ("Content-Type", "application/x-www-form-urlencoded")], body=form)
        self.assertEqual(r.status, 303)
        self.assertEqual(r.header("Location"), "/st;st=DONE")
        _, rows = csv_rows(self.get("/st;csv").body)
        self.assertEqual(rows[("be", "s1")]["status"], "DRAIN")
        self.assertEqual(rows[("be", "BACKEND")]["act"], "1")
        # no new balanced traffic on the drained server
        before = self.o1.requests
        for _ in range(6):
            self.assertEqual(http(self.addr, "GET", "/").status, 200)
        self.assertEqual(self.o1.requests, before)
        self.assertIn("Action processed successfully", self.get("/st;st=DONE").body.decode())
        # weight (proxyd's extension of the form) then ready again
        form = urllib.parse.urlencode([("s", "s2"), ("action", "weight"), ("w", "7"), ("b", "#3")]).encode()
        r = http(self.saddr, "POST", "/st", headers=auth(), body=form)
        self.assertEqual(r.header("Location"), "/st;st=DONE")
        form = urllib.parse.urlencode([("s", "s1"), ("action", "ready"), ("b", "be")]).encode()
        http(self.saddr, "POST", "/st", headers=auth(), body=form)
        _, rows = csv_rows(self.get("/st;csv").body)
        self.assertEqual(rows[("be", "s1")]["status"], "no check")
        self.assertEqual(rows[("be", "s2")]["weight"], "7")
        self.assertEqual(rows[("be", "BACKEND")]["weight"], "8")
        # unknown servers or backends are reported
        form = urllib.parse.urlencode([("s", "nope"), ("action", "maint"), ("b", "be")]).encode()
        r = http(self.saddr, "POST", "/st", headers=auth(), body=form)
        self.assertEqual(r.header("Location"), "/st;st=ERRP")

    @unittest.skipUnless(CHROMIUM, "chromium is not installed (./configure --install-test-deps installs it)")
    def test_rendered_by_chromium(self):
        # some traffic, so that the sparklines have something to draw
        for _ in range(5):
            http(self.addr, "GET", "/")
        html = self.get("/st;norefresh").body
        page = self.write_file("page.html", html)
        shot = self.path("shot.png")
        base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                "--user-data-dir=" + self.path("chrome"), "--window-size=1280,900"]
        env = dict(os.environ, HOME=self.tmp)
        subprocess.run(base + ["--screenshot=" + shot, "file://" + page], env=env, timeout=scaled(90),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        self.assertTrue(os.path.exists(shot), "chromium wrote no screenshot")
        colors = png_colors(shot)
        # a blank or uniform page has one or two colours; the tables bring
        # header backgrounds, status colours and text
        self.assertGreater(len(colors), 8, "screenshot looks blank: %d colours" % len(colors))
        self.assertIn(bytes((0x44, 0x44, 0x66)), colors)   # table header background
        dom = subprocess.run(base + ["--dump-dom", "file://" + page], env=env, timeout=scaled(90),
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False).stdout.decode()
        self.assertEqual(dom.count("<table"), 4)
        self.assertIn("<svg", dom)
        for name in ("s1", "s2", "sp1"):
            self.assertIn(">%s<" % name, dom)


@proxyd_only("HAProxy's exporter output differs in details (more metrics, its own help texts)")
class Prometheus(ProxyTestCase):
    def test_metrics(self):
        o = self.origin()
        o.route("/", Fixed(b"ok"))
        port, mport = H.free_port(), H.free_port()
        cfg = H.render(H.BASE_GLOBAL + H.BASE_DEFAULTS + """\
frontend fe
    bind 127.0.0.1:{{port}}
    default_backend be
frontend metrics
    bind 127.0.0.1:{{mport}}
    http-request use-service prometheus-exporter if { path /metrics }
backend be
    server s1 {{o}}
""", port=port, mport=mport, o=o.addr)
        self.start_proxy(cfg)
        for _ in range(3):
            http(("127.0.0.1", port), "GET", "/")
        r = http(("127.0.0.1", mport), "GET", "/metrics")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("Content-Type").startswith("text/plain"))
        text = r.body.decode()
        lines = text.split("\n")
        self.assertIn('haproxy_frontend_http_requests_total{proxy="fe"} 3', lines)
        self.assertIn('haproxy_backend_http_responses_total{proxy="be",code="2xx"} 3', lines)
        self.assertIn('haproxy_server_status{proxy="be",server="s1",state="UP"} 1', lines)
        self.assertIn('haproxy_server_status{proxy="be",server="s1",state="DOWN"} 0', lines)
        self.assertIn('haproxy_backend_active_servers{proxy="be"} 1', lines)
        self.assertIn("# TYPE haproxy_frontend_bytes_in_total counter", lines)
        self.assertIn("haproxy_process_nbthread 1", lines)
        self.assertTrue(any(l.startswith('proxyd_server_response_time_quantile_seconds{proxy="be",server="s1",'
                                         'quantile="0.99"}') for l in lines))
        # each family's TYPE comes once, before its samples
        types = [l.split()[2] for l in lines if l.startswith("# TYPE")]
        self.assertEqual(len(types), len(set(types)))
        # other paths of that frontend are not the exporter
        self.assertEqual(http(("127.0.0.1", mport), "GET", "/other").status, 503)

    def test_unknown_service(self):
        rc, out, err = H.run_bin(["-c", "-f", self.write_file("x.cfg", H.BASE_GLOBAL + H.BASE_DEFAULTS + """\
frontend fe
    bind 127.0.0.1:1
    http-request use-service lua.hello
""")])
        self.assertNotEqual(rc, 0)
        self.assertIn("'http-request use-service lua.hello': unknown service", out + err)


class HaproxyExporter(ProxyTestCase):
    """prometheus-haproxy-exporter (Debian's haproxy_exporter) scraping
    the ;csv page with basic auth."""

    @unittest.skipUnless(EXPORTER, "prometheus-haproxy-exporter is not installed "
                                   "(./configure --install-test-deps installs it)")
    def test_exporter_reads_our_csv(self):
        o1 = self.origin(name="s1")
        o1.route("/", Fixed(b"ok"))
        o1.route("/health", Fixed(b"ok"))
        o2 = self.origin(name="s2")
        o2.route("/", Fixed(b"ok"))
        o2.route("/health", Fixed(b"ok"))
        sport, port, eport = H.free_port(), H.free_port(), H.free_port()
        cfg = H.render(H.BASE_GLOBAL + H.BASE_DEFAULTS + """\
listen stats
    bind 127.0.0.1:{{sport}}
    stats uri /stats
    stats auth mon:pw
frontend fe
    bind 127.0.0.1:{{port}}
    default_backend be
backend be
    option httpchk GET /health
    server s1 {{o1}} check inter 200 fall 1 rise 1
    server s2 {{o2}} check inter 200 fall 1 rise 1
""", sport=sport, port=port, o1=o1.addr, o2=o2.addr)
        self.start_proxy(cfg)
        for _ in range(4):
            http(("127.0.0.1", port), "GET", "/")
        exp = subprocess.Popen([EXPORTER, "--web.listen-address=127.0.0.1:%d" % eport,
                                "--haproxy.scrape-uri=http://mon:pw@127.0.0.1:%d/stats;csv" % sport],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.addCleanup(self._stop_exporter, exp)
        H.wait_accepting(("127.0.0.1", eport), time.monotonic() + scaled(10), lambda: exp.poll() is None)

        def scrape():
            r = http(("127.0.0.1", eport), "GET", "/metrics")
            self.assertEqual(r.status, 200)
            return r.body.decode().split("\n")

        lines = scrape()
        self.assertIn("haproxy_up 1", lines)
        self.assertIn('haproxy_server_up{backend="be",server="s1"} 1', lines)
        self.assertIn('haproxy_server_up{backend="be",server="s2"} 1', lines)
        self.assertIn('haproxy_backend_up{backend="be"} 1', lines)
        self.assertTrue(any(l.startswith('haproxy_frontend_http_responses_total{code="2xx",frontend="fe"} 4')
                            for l in lines), [l for l in lines if "responses_total" in l])
        # s2 goes DOWN: its health check fails
        o2.route("/health", Fixed(b"no", status=503, reason="Service Unavailable"))
        deadline = time.monotonic() + scaled(10)
        while time.monotonic() < deadline:
            lines = scrape()
            if 'haproxy_server_up{backend="be",server="s2"} 0' in lines:
                break
            time.sleep(0.2)
        self.assertIn('haproxy_server_up{backend="be",server="s2"} 0', lines)
        self.assertIn('haproxy_server_up{backend="be",server="s1"} 1', lines)
        self.assertIn("haproxy_up 1", lines)

    def _stop_exporter(self, p):
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)


class CompareWithHaproxy(ProxyTestCase):
    """The header, compared with haproxy's own output for the same
    configuration when haproxy is installed."""

    @unittest.skipUnless(shutil.which("haproxy"), "haproxy is not installed")
    def test_header_matches_haproxy(self):
        sport = H.free_port()
        cfg = H.render(H.BASE_GLOBAL + H.BASE_DEFAULTS + """\
listen stats
    bind 127.0.0.1:{{sport}}
    stats uri /st
""", sport=sport)
        p = H.Proxy(self.tmp, cfg, wait_for=[("127.0.0.1", sport)], name="oracle")
        p.start_timeout = scaled(10)
        import harness
        saved = harness.BIN
        harness.BIN = shutil.which("haproxy")
        try:
            p.start()
        finally:
            harness.BIN = saved
        self.addCleanup(p.stop)
        theirs = http(("127.0.0.1", sport), "GET", "/st;csv").body.decode().split("\n")[0]
        self.assertEqual(theirs, HAPROXY_HEADER)
        mine_port = H.free_port()
        self.start_proxy(cfg.replace(str(sport), str(mine_port)))
        mine = http(("127.0.0.1", mine_port), "GET", "/st;csv").body.decode().split("\n")[0]
        self.assertTrue(mine.startswith(theirs))
        if not ORACLE:
            self.assertEqual(mine[len(theirs):], PROXYD_EXTRA)


if __name__ == "__main__":
    unittest.main()
