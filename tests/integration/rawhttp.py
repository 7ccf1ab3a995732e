#!/usr/bin/python3
"""rawhttp.py -- raw bytes to an HTTP server, on plain TCP or TLS, and what
came back (for t-strict: a malformed request must get an answer).

  rawhttp.py [--tls] PORT OUT PART [PART...]

Connects to 127.0.0.1:PORT (with --tls: a TLS session, the certificate not
checked), sends each PART (\\r \\n \\t \\xNN escapes) in one write, and,
after every PART but the last, reads one whole answer before sending the
next: so a later PART is a request that arrives on an idle kept-alive
connection, while two requests in one PART are pipelined.  After the last
PART it reads until the server closes the connection, or is silent for
1.5 s.  Writes what it received to OUT and prints one line:

  STATUSES CONNECTION END

the status codes of the answers in order (comma-separated, "none"), the
last answer's Connection header ("-"), and "closed", "reset" or "open".
"""
import socket
import ssl
import sys


def connect(port, tls):
    s = socket.create_connection(("127.0.0.1", port))
    if not tls:
        return s
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    return ctx.wrap_socket(s, server_hostname="localhost")


def unescape(part):
    return part.encode("latin-1").decode("unicode_escape").encode("latin-1")


def parse_answer(data):
    """(status, headers, the bytes after the answer) or None: incomplete."""
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        return None
    lines = head.split(b"\r\n")
    hdrs = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        hdrs[name.strip().lower()] = value.strip()
    if b"content-length" in hdrs:
        n = int(hdrs[b"content-length"])
        if len(rest) < n:
            return None
        rest = rest[n:]
    elif hdrs.get(b"transfer-encoding", b"").lower() == b"chunked":
        while True:
            size, sep, tail = rest.partition(b"\r\n")
            if not sep:
                return None
            n = int(size.split(b";")[0], 16)
            if len(tail) < n + 2:
                return None
            rest = tail[n + 2:]
            if n == 0:
                break
    else:
        rest = b""
    return lines[0].split(b" ")[1].decode(), hdrs, rest


def answers(data):
    out = []
    while data.startswith(b"HTTP/"):
        got = parse_answer(data)
        if not got:
            break
        out.append(got[:2])
        data = got[2]
    return out


def receive(s, data, until_answers=None):
    """Read until the peer closes, is silent for 1.5 s, or (until_answers)
    that many whole answers are in."""
    s.settimeout(1.5)
    while until_answers is None or len(answers(data)) < until_answers:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return data, "open"
        except (ConnectionResetError, ssl.SSLEOFError):
            return data, "closed"  # an abrupt end is an end too
        if not chunk:
            return data, "closed"
        data += chunk
    return data, "open"


def main():
    args = sys.argv[1:]
    tls = args[0] == "--tls"
    if tls:
        args = args[1:]
    port, out, parts = int(args[0]), args[1], args[2:]
    s = connect(port, tls)
    data, end = b"", "open"
    for i, part in enumerate(parts):
        s.sendall(unescape(part))
        last = i == len(parts) - 1
        data, end = receive(s, data, None if last else len(answers(data)) + 1)
        if end != "open":
            break
    open(out, "wb").write(data)
    got = answers(data)
    statuses = ",".join(a[0] for a in got) or "none"
    conn = got[-1][1].get(b"connection", b"-").decode() if got else "-"
    print(statuses, conn, end)


main()
