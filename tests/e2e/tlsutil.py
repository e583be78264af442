"""TLS pieces for the end-to-end tests: certificates made at test time with
the openssl command (CA, server and client certificates, RSA or ECDSA, CRLs),
an HTTPS client connection, a TLS origin, and openssl s_client runs.

Everything is written into the test's temporary directory; every process
has a bounded run time.
"""

import contextlib
import os
import socket
import ssl
import subprocess
import threading

import harness as H


def _openssl(args, cwd, input_=None, timeout=30):
    p = subprocess.run(["openssl"] + list(args), cwd=cwd, input=input_,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=H.scaled(timeout))
    if p.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (" ".join(args), p.stderr.decode()))
    return p.stdout


def _key(d, name, kind):
    path = os.path.join(d, name + ".key")
    if kind == "ec":
        _openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                  "-out", path], d)
    else:
        _openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                  "-out", path], d)
    return path


class CA:
    """A certificate authority in directory d, able to sign and revoke."""

    def __init__(self, d, name="ca", cn="proxyd test CA", kind="ec"):
        self.d, self.name = d, name
        self.key = _key(d, name, kind)
        self.crt = os.path.join(d, name + ".crt")
        _openssl(["req", "-x509", "-new", "-key", self.key, "-out", self.crt, "-days", "30",
                  "-subj", "/CN=%s" % cn, "-addext", "basicConstraints=critical,CA:TRUE",
                  "-addext", "keyUsage=critical,keyCertSign,cRLSign"], d)
        self.db = os.path.join(d, name + ".index")
        open(self.db, "w").close()
        with open(os.path.join(d, name + ".crlnumber"), "w") as f:
            f.write("01\n")
        self.conf = os.path.join(d, name + ".cnf")
        with open(self.conf, "w") as f:
            f.write("[ca]\ndefault_ca = d\n[d]\ndatabase = %s\ncrlnumber = %s\n"
                    "default_md = sha256\ndefault_crl_days = 30\n"
                    % (self.db, os.path.join(d, name + ".crlnumber")))
        self.serial = 1000

    def sign(self, name, cn, sans=(), kind="rsa", client=False, combined=True, subj_extra=""):
        """A certificate for `cn` (and `sans`), signed by this CA. Returns
        the path of the PEM file with certificate, CA chain and key (or,
        with combined=False, of the certificate alone next to '<path>.key')."""
        key = _key(self.d, name, kind)
        csr = os.path.join(self.d, name + ".csr")
        _openssl(["req", "-new", "-key", key, "-out", csr, "-subj", "%s/CN=%s" % (subj_extra, cn)],
                 self.d)
        ext = os.path.join(self.d, name + ".ext")
        with open(ext, "w") as f:
            if sans:
                f.write("subjectAltName=%s\n" % ",".join("DNS:" + s for s in sans))
            f.write("extendedKeyUsage=%s\n" % ("clientAuth" if client else "serverAuth"))
        self.serial += 1
        crt = os.path.join(self.d, name + ".crt")
        _openssl(["x509", "-req", "-in", csr, "-CA", self.crt, "-CAkey", self.key,
                  "-set_serial", str(self.serial), "-days", "30", "-out", crt, "-extfile", ext],
                 self.d)
        with open(crt) as f:
            cert_pem = f.read()
        with open(key) as f:
            key_pem = f.read()
        if combined:
            pem = os.path.join(self.d, name + ".pem")
            with open(pem, "w") as f:
                f.write(cert_pem + key_pem)
            return pem
        pem = os.path.join(self.d, name + ".pem")
        with open(pem, "w") as f:
            f.write(cert_pem)
        with open(pem + ".key", "w") as f:
            f.write(key_pem)
        return pem

    def crl(self, revoked=()):
        """A CRL revoking the given certificate files; returns its path."""
        for crt in revoked:
            _openssl(["ca", "-config", self.conf, "-keyfile", self.key, "-cert", self.crt,
                      "-revoke", crt], self.d)
        out = os.path.join(self.d, self.name + ".crl")
        _openssl(["ca", "-config", self.conf, "-keyfile", self.key, "-cert", self.crt,
                  "-gencrl", "-out", out], self.d)
        return out


def self_signed(d, name, cn, sans=(), kind="rsa"):
    """A self-signed certificate and its key in one PEM file."""
    key = _key(d, name, kind)
    crt = os.path.join(d, name + ".crt")
    args = ["req", "-x509", "-new", "-key", key, "-out", crt, "-days", "30", "-subj", "/CN=" + cn]
    if sans:
        args += ["-addext", "subjectAltName=" + ",".join("DNS:" + s for s in sans)]
    _openssl(args, d)
    pem = os.path.join(d, name + ".pem")
    with open(pem, "w") as f, open(crt) as c, open(key) as k:
        f.write(c.read() + k.read())
    return pem


def client_context(cafile=None, cert=None, alpn=None, min_ver=None, max_ver=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if cafile:
        ctx.load_verify_locations(cafile)
        ctx.check_hostname = False
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(cert)
    if alpn:
        ctx.set_alpn_protocols(alpn)
    if min_ver:
        ctx.minimum_version = min_ver
    if max_ver:
        ctx.maximum_version = max_ver
    return ctx


class HTTPSConn(H.HTTPConn):
    """HTTPConn over TLS (no certificate check unless a context says so)."""

    def __init__(self, addr, sni=None, ctx=None, timeout=None, session=None):
        self.addr = addr
        raw = H.connect(addr, timeout)
        try:
            self.sock = (ctx or client_context()).wrap_socket(raw, server_hostname=sni,
                                                              session=session)
        except BaseException:
            raw.close()
            raise
        self.reader = H.Reader(self.sock)


def https(addr, method="GET", path="/", headers=None, sni=None, ctx=None, **kw):
    with HTTPSConn(addr, sni=sni, ctx=ctx) as c:
        return c.request(method, path, headers, **kw)


def s_client(addr, args=(), data=b"", timeout=10):
    """Runs openssl s_client; returns (exit status, stdout+stderr text)."""
    cmd = ["openssl", "s_client", "-connect", "%s:%d" % addr] + list(args)
    try:
        p = subprocess.run(cmd, input=data, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=H.scaled(timeout))
    except subprocess.TimeoutExpired as e:
        return None, (e.output or b"").decode("utf-8", "replace")
    return p.returncode, p.stdout.decode("utf-8", "replace")


def peer_subject(addr, sni=None, extra=()):
    """The subject line s_client prints for the certificate it got."""
    args = ["-brief"] + (["-servername", sni] if sni else ["-noservername"]) + list(extra)
    rc, out = s_client(addr, args, b"Q\n")
    for line in out.splitlines():
        if line.startswith("Peer certificate:"):
            return line.split(":", 1)[1].strip()
    return None


class TLSOrigin(H.Origin):
    """The harness origin behind TLS. Records, per accepted connection, the
    SNI the proxy sent and whether the TLS session was resumed."""

    def __init__(self, certfile, cafile=None, alpn=None, **kw):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(certfile)
        if cafile:
            self.ctx.load_verify_locations(cafile)
            self.ctx.verify_mode = ssl.CERT_REQUIRED
        if alpn:
            self.ctx.set_alpn_protocols(alpn)
        self.snis, self.resumed, self.alpns, self.peer_certs = [], [], [], []
        self._tls_lock = threading.Lock()

        def on_sni(sock, name, ctx):
            with self._tls_lock:
                self.snis.append(name)
        self.ctx.sni_callback = on_sni
        super().__init__(**kw)

    def _serve(self, conn, conn_id):
        conn.settimeout(self.timeout)
        try:
            tls = self.ctx.wrap_socket(conn, server_side=True)
        except (OSError, ssl.SSLError) as e:
            self.errors.append("tls handshake: %r" % e)
            with contextlib.suppress(OSError):
                conn.close()
            with self.lock:
                self.open_conns -= 1
                self._conns.discard(conn)
                self.lock.notify_all()
            return
        with self._tls_lock:
            self.resumed.append(tls.session_reused)
            self.alpns.append(tls.selected_alpn_protocol())
            self.peer_certs.append(tls.getpeercert())
        with self.lock:
            self._conns.discard(conn)
            self._conns.add(tls)
        super()._serve(tls, conn_id)


class SilentTLSServer:
    """A TCP server that accepts and never answers (handshake timeouts)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.port

    def close(self):
        self.sock.close()
