#!/usr/bin/python3
"""A small HTTPS peer for the transport test (agent/http.c), not an AWS
simulator: it echoes exactly what it received and misbehaves on request.

Usage: peer.py --workdir DIR -- CLIENT [ARGS...]

Makes a throw-away CA and a server certificate for 127.0.0.1 (and a second,
unrelated CA the client must refuse), starts an HTTPS server, a plain HTTP
server, and an HTTPS server whose certificate (from the same CA) names
another host, all on loopback, writes DIR/peer.json describing them, runs CLIENT with
that path appended to its arguments, and exits with the client's status.

Paths (any method):
  /echo[/...]     200, JSON {method, path, headers: [[name, value]...] as
                  received and in order, body_hex}; X-Amzn-RequestId set
  /status/NNN     like /echo with status NNN
  /conn           text: TCP connections accepted so far
  /big?n=N        N bytes of 'x'
  /chunked?n=N    N bytes of 'y', chunked (no Content-Length)
  /stall          reads the request, then says nothing until shut down
  /reset          reads the request, then resets the connection (RST)
  /truncated      Content-Length: 100, sends 10 bytes, closes
  /continue       a 100 Continue block (with a header) before the 200
  /folded         a response header folded over three lines (obs-fold)
"""

import argparse
import http.server
import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import threading

OPENSSL = "openssl"


def run_openssl(args, cwd):
    subprocess.run([OPENSSL] + args, cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_ca(workdir, name):
    run_openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", name + ".key", "-out", name + ".pem",
                 "-subj", "/CN=evident transport test " + name, "-days", "2",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
                workdir)
    return os.path.join(workdir, name + ".pem")


def make_server_cert(workdir, ca, name, san):
    ext = os.path.join(workdir, name + ".ext")
    with open(ext, "w", encoding="ascii") as f:
        f.write("subjectAltName=" + san + "\n"
                "basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\n")
    run_openssl(["req", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", name + ".key", "-out", name + ".csr",
                 "-subj", "/CN=" + name], workdir)
    run_openssl(["x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem",
                 "-CAkey", ca + ".key", "-CAcreateserial",
                 "-out", name + ".pem", "-days", "2", "-extfile", ext],
                workdir)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(os.path.join(workdir, name + ".pem"),
                        os.path.join(workdir, name + ".key"))
    return ctx


class Peer:
    """State shared by both servers' handler threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.connections = 0
        self.shutdown = threading.Event()

    def connected(self):
        with self.lock:
            self.connections += 1

    def count(self):
        with self.lock:
            return self.connections


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so reuse can be counted
    timeout = 60                   # an idle client never pins a thread
    peer = None                    # set on the subclass per server

    def setup(self):
        super().setup()
        self.peer.connected()
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()

    def log_message(self, fmt, *args):
        pass

    def read_body(self):
        n = int(self.headers.get("Content-Length", "0") or "0")
        return self.rfile.read(n) if n > 0 else b""

    def send(self, status, body, ctype="application/octet-stream",
             extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Amzn-RequestId", "rid-" + str(status))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def echo(self, status, body):
        doc = {
            "method": self.command,
            "path": self.path,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body_hex": body.hex(),
        }
        self.send(status, json.dumps(doc).encode(), "application/json")

    def raw(self, data):
        self.wfile.write(data)
        self.wfile.flush()

    def handle_any(self):
        body = self.read_body()
        path, _, query = self.path.partition("?")
        if path == "/echo" or path.startswith("/echo/"):
            self.echo(200, body)
        elif path.startswith("/status/"):
            self.echo(int(path[len("/status/"):]), body)
        elif path == "/conn":
            self.send(200, str(self.peer.count()).encode(), "text/plain")
        elif path == "/big":
            n = int(dict(kv.split("=", 1) for kv in query.split("&"))["n"])
            self.send(200, b"x" * n)
        elif path == "/chunked":
            # No Content-Length: only counting the bytes can stop it.
            n = int(dict(kv.split("=", 1) for kv in query.split("&"))["n"])
            self.raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            while n > 0:
                k = min(n, 4096)
                self.raw(b"%x\r\n" % k + b"y" * k + b"\r\n")
                n -= k
            self.raw(b"0\r\n\r\n")
        elif path == "/stall":
            self.peer.shutdown.wait(120)
            self.close_connection = True
        elif path == "/reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
        elif path == "/truncated":
            self.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
                     b"Content-Type: text/plain\r\n\r\n0123456789")
            self.close_connection = True
        elif path == "/continue":
            self.raw(b"HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n"
                     b"HTTP/1.1 200 OK\r\nX-Final: yes\r\n"
                     b"Content-Length: 2\r\n\r\nok")
        elif path == "/folded":
            self.raw(b"HTTP/1.1 200 OK\r\nX-Folded: first\r\n  second\r\n"
                     b"\tthird\r\nContent-Length: 2\r\n\r\nok")
        else:
            self.send(404, b"no such path", "text/plain")

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = handle_any


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # Refused handshakes and reset connections are what the tests
        # provoke: one line, not a traceback.
        err = sys.exc_info()[1]
        print("peer: %s: %s" % (type(err).__name__, err), file=sys.stderr)


def start(peer, tls_ctx):
    handler = type("BoundHandler", (Handler,), {"peer": peer})
    srv = Server(("127.0.0.1", 0), handler)
    if tls_ctx is not None:
        # The handshake happens in the handler's thread, not in accept():
        # a client that stalls mid-handshake never blocks the others.
        srv.socket = tls_ctx.wrap_socket(srv.socket, server_side=True,
                                         do_handshake_on_connect=False)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", required=True)
    ap.add_argument("client", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    client = [a for a in args.client if a != "--"]
    if not client:
        ap.error("no client command")
    os.makedirs(args.workdir, exist_ok=True)

    make_ca(args.workdir, "ca")
    wrong_ca = make_ca(args.workdir, "wrong-ca")
    good = make_server_cert(args.workdir, "ca", "server",
                            "IP:127.0.0.1,DNS:localhost")
    # Signed by the right CA, for another name: the host check must fail.
    misnamed = make_server_cert(args.workdir, "ca", "misnamed",
                                "DNS:elsewhere.example")

    peer = Peer()
    tls = start(peer, good)
    plain = start(peer, None)
    wrong_name = start(peer, misnamed)
    servers = (tls, plain, wrong_name)
    info = {
        "https_port": tls.server_address[1],
        "http_port": plain.server_address[1],
        "misnamed_port": wrong_name.server_address[1],
        "ca": os.path.join(args.workdir, "ca.pem"),
        "wrong_ca": wrong_ca,
    }
    info_path = os.path.join(args.workdir, "peer.json")
    with open(info_path, "w", encoding="ascii") as f:
        json.dump(info, f)
    try:
        rc = subprocess.run(client + [info_path], check=False).returncode
    finally:
        peer.shutdown.set()
        for srv in servers:
            srv.shutdown()
    sys.exit(rc if rc >= 0 else 128 - rc)


if __name__ == "__main__":
    main()
