#!/usr/bin/python3
"""backend.py -- a backend for the proxy tests, speaking HTTP/1.1 by hand
(so that it can also misbehave on purpose).

  backend.py tcp PORTFILE [KEYFILE]   listen on 127.0.0.1, a free port
                                      written to PORTFILE
  backend.py unix PATH [KEYFILE]      listen on a unix socket (mode 0666)

Paths:
  /echo...         JSON: method, path, headers (as received, in order),
                   body length and sha256, how the body came (length,
                   chunked, none), the peer (address and port, or the
                   SO_PEERCRED uid/gid/pid on a unix socket), the
                   connection's number of requests, and with KEYFILE
                   whether X-Identity-Signature verifies
  /bytes/N         N bytes (a repeating pattern) with Content-Length
  /chunked/N       N bytes, chunked
  /close/N         N bytes, HTTP/1.0 style: the body ends at the close
  /hop             a response with hop-by-hop headers that must not pass
  /status/N        status N, no body for 204/304
  /continue        a 100 Continue first, then 200
  /slow/S          answers after S seconds
  /hangup          closes the connection without answering
  /garbage         an invalid status line
  /short           Content-Length 100, 10 bytes, close
  /stray/KIND      misbehaves on a kept connection: answers, then writes a
                   whole second response nobody asked for (STRAY) -- a
                   second later after a HEAD (KIND head) or a 204/304 (KIND
                   204, 304), at once after a body longer than its
                   Content-Length (KIND length) -- then goes on reading
                   requests on that connection

With KEYFILE, X-Identity-Signature is verified: v1 over the identity
headers, v2 also over the method, the request-target, Host, the audience
(this backend as the gateway names it: http://127.0.0.1:PORT/ or
unix:PATH) and the body (none, its sha-256 up to 64 KiB, else its length,
or "chunked").
"""
import base64
import hashlib
import hmac
import json
import os
import socket
import socketserver
import struct
import sys
import time

KEY = None
AUDIENCE = None
DIGEST_MAX = 65536
IDENTITY = ("X-Remote-User", "X-Remote-Principal", "X-Impersonation-Level", "X-Request-Id")
STRAY_BODY = b'{"injected": "stray bytes of an earlier response"}'
STRAY = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Injected: yes\r\n"
         b"Content-Length: %d\r\n\r\n%s" % (len(STRAY_BODY), STRAY_BODY))


def read_line(f, limit=65536):
    line = f.readline(limit)
    if not line:
        raise EOFError
    return line


def read_head(f):
    request = read_line(f).decode("latin-1").rstrip("\r\n")
    headers = []
    while True:
        line = read_line(f).decode("latin-1").rstrip("\r\n")
        if line == "":
            break
        name, _, value = line.partition(":")
        headers.append([name, value.strip()])
    return request, headers


def get(headers, name):
    vals = [v for n, v in headers if n.lower() == name.lower()]
    return vals[0] if vals else None


def read_body(f, headers):
    te = get(headers, "Transfer-Encoding")
    if te and te.lower() == "chunked":
        data = b""
        while True:
            size = int(read_line(f).split(b";")[0].strip(), 16)
            if size == 0:
                while read_line(f) not in (b"\r\n", b"\n"):
                    pass
                return data, "chunked"
            data += f.read(size)
            read_line(f)
    cl = get(headers, "Content-Length")
    if cl is not None:
        return f.read(int(cl)), "length"
    return b"", "none"


def body_descriptor(headers, body):
    """What a v2 signature says of the body, from what arrived."""
    if get(headers, "Transfer-Encoding"):
        return "chunked"
    length = int(get(headers, "Content-Length") or 0)
    if length == 0:
        return "none"
    if length <= DIGEST_MAX:
        return "sha-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
    return "length=%d" % length


def signature_ok(method, target, headers, body):
    sig = get(headers, "X-Identity-Signature")
    if KEY is None or sig is None:
        return None
    version = sig.split(";")[0]
    parts = dict(p.strip().split("=", 1) for p in sig.split(";")[1:])
    fields = [get(headers, n) or "" for n in IDENTITY]
    if version == "v1":
        text = "\n".join(["idgate-identity-v1"] + fields + [parts["t"]])
    elif version == "v2":
        text = "\n".join(["idgate-identity-v2", AUDIENCE, method, target,
                          get(headers, "Host") or ""] + fields +
                         [body_descriptor(headers, body), parts["t"]])
    else:
        return False
    want = base64.b64encode(hmac.new(KEY, text.encode(), hashlib.sha256).digest()).decode()
    fresh = abs(time.time() - int(parts["t"])) < 300
    return hmac.compare_digest(want, parts["sig"]) and fresh


def pattern(n):
    block = bytes(range(256)) * 256
    out = bytearray()
    while len(out) < n:
        out += block[: n - len(out)]
    return bytes(out)


class Handler(socketserver.StreamRequestHandler):
    def peer(self):
        if self.server.address_family == socket.AF_UNIX:
            pid, uid, gid = struct.unpack(
                "3i", self.connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
            return {"uid": uid, "gid": gid, "pid": pid}
        addr, port = self.client_address[:2]
        return {"addr": addr, "port": port}

    def send(self, status, headers, body=b"", reason="X"):
        head = "HTTP/1.1 %d %s\r\n" % (status, reason)
        for n, v in headers:
            head += "%s: %s\r\n" % (n, v)
        self.wfile.write(head.encode() + b"\r\n" + body)
        self.wfile.flush()

    def handle(self):
        count = 0
        try:
            while True:
                request, headers = read_head(self.rfile)
                count += 1
                if not self.one(request, headers, count):
                    return
        except (EOFError, ConnectionError, ValueError):
            return

    def one(self, request, headers, count):
        method, target, _ = request.split(" ", 2)
        body, framing = read_body(self.rfile, headers)
        path = target.split("?")[0]
        if "/echo" in path or path == "/":
            out = json.dumps({
                "method": method, "target": target, "headers": headers,
                "body_len": len(body), "body_sha256": hashlib.sha256(body).hexdigest(),
                "framing": framing, "peer": self.peer(), "requests_on_connection": count,
                "signature_ok": signature_ok(method, target, headers, body)}).encode()
            self.send(200, [("Content-Type", "application/json"),
                            ("Content-Length", len(out))], out, "OK")
        elif path.startswith("/bytes/"):
            data = pattern(int(path[7:]))
            self.send(200, [("Content-Length", len(data))], b"" if method == "HEAD" else data)
        elif path.startswith("/chunked/"):
            self.send(200, [("Transfer-Encoding", "chunked")])
            data, i = pattern(int(path[9:])), 0
            while i < len(data):
                piece = data[i:i + 10000]
                self.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece))
                i += len(piece)
            self.wfile.write(b"0\r\nX-Trailer: t\r\n\r\n")
        elif path.startswith("/close/"):
            self.wfile.write(b"HTTP/1.0 200 OK\r\n\r\n" + pattern(int(path[7:])))
            return False
        elif path == "/hop":
            self.send(200, [("Connection", "X-Internal"), ("X-Internal", "secret"),
                            ("Keep-Alive", "timeout=5"), ("Upgrade", "h2c"),
                            ("X-Public", "yes"), ("Content-Length", "2")], b"ok")
        elif path.startswith("/status/"):
            code = int(path[8:])
            if code in (204, 304):
                self.send(code, [("X-Status", str(code))])
            else:
                self.send(code, [("Content-Length", "6"), ("Location", "/elsewhere")], b"status")
        elif path == "/continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.send(200, [("Content-Length", "5")], b"after")
        elif path.startswith("/slow/"):
            time.sleep(float(path[6:]))
            self.send(200, [("Content-Length", "4")], b"slow")
        elif path == "/hangup":
            return False
        elif path == "/garbage":
            self.wfile.write(b"HTTX/9 what\r\n\r\n")
            return False
        elif path.startswith("/stray/"):
            return self.stray(path[7:])
        elif path == "/short":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
            return False
        else:
            self.send(404, [("Content-Length", "0")])
        return True


    def stray(self, kind):
        """A response, then STRAY: bytes that belong to no request."""
        if kind == "length":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello" + STRAY)
            self.wfile.flush()
            return True
        if kind == "head":
            self.send(200, [("Content-Length", len(STRAY))])
        else:
            self.send(int(kind), [("X-Status", kind)])
        time.sleep(1)
        self.wfile.write(STRAY)
        self.wfile.flush()
        return True


class TCP(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class Unix(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


def main():
    global KEY, AUDIENCE
    mode, where = sys.argv[1], sys.argv[2]
    if len(sys.argv) > 3:
        KEY = open(sys.argv[3], "rb").read()
    if mode == "tcp":
        srv = TCP(("127.0.0.1", 0), Handler)
        with open(where + ".tmp", "w") as f:
            f.write(str(srv.server_address[1]))
        os.rename(where + ".tmp", where)
        AUDIENCE = "http://127.0.0.1:%d/" % srv.server_address[1]
    else:
        srv = Unix(where, Handler)
        AUDIENCE = "unix:" + where
        os.chmod(where, 0o666)
    srv.serve_forever()


if __name__ == "__main__":
    main()
