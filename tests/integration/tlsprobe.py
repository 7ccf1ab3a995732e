#!/usr/bin/python3
"""tlsprobe.py -- TLS connections that end without a request (for t-strict:
a close that is not a malformed request line must get no 400).

  tlsprobe.py PORT MODE

MODE: notify -- the handshake, then close_notify, and the TCP connection
kept open; fin -- the handshake, then a FIN without close_notify; idle --
the handshake, then nothing until the server closes; plain -- an HTTP
request in clear text to the TLS listener.  Prints the TLS record types
that came back after that point, by name ("alert", "data", ...), or
"nothing", then "closed" or "open" (nothing for 1.5 s, or, for idle, 10 s).
"""
import socket
import ssl
import sys

NAMES = {20: "ccs", 21: "alert", 22: "handshake", 23: "data"}


def records(data):
    """The record types of raw TLS bytes, or 'cleartext' if they are not TLS."""
    out, i = [], 0
    while i + 5 <= len(data):
        if data[i] not in NAMES:
            return ["cleartext"]
        out.append(NAMES[data[i]])
        i += 5 + int.from_bytes(data[i + 3:i + 5], "big")
    return out


def read_raw(s, wait):
    s.settimeout(wait)
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return data, "closed"
            data += b
    except socket.timeout:
        return data, "open"
    except ConnectionResetError:
        return data, "reset"


def handshake(raw):
    """TLS 1.2 through memory BIOs: OpenSSL never reads from the socket, so
    whatever the server sends after the handshake stays there to be seen
    (an SSLSocket could swallow the server's close_notify in its shutdown).
    TLS 1.2: no session tickets come after the handshake to be mistaken
    for an answer."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inc, out, server_hostname="localhost")
    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            raw.sendall(out.read())
            chunk = raw.recv(65536)
            if not chunk:
                raise SystemExit("the server closed during the handshake")
            inc.write(chunk)
    raw.sendall(out.read())
    return tls, out


def main():
    port, mode = int(sys.argv[1]), sys.argv[2]
    raw = socket.create_connection(("127.0.0.1", port))
    if mode == "plain":
        raw.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    else:
        tls, out = handshake(raw)
        if mode == "notify":
            try:
                tls.unwrap()  # writes close_notify, then wants the server's
            except ssl.SSLWantReadError:
                pass
            raw.sendall(out.read())  # the TCP connection stays open
        elif mode == "fin":
            raw.shutdown(socket.SHUT_WR)  # no close_notify
    data, end = read_raw(raw, 10 if mode == "idle" else 1.5)
    print(",".join(records(data)) or "nothing", end)


main()
