#!/usr/bin/python3
"""slowpeer.py -- misbehaving and numerous clients for t-slowpeers.sh.

  slowpeer.py loris PORT N GAP SECONDS OUTFILE
        N connections, each sending a request head to /who a byte every
        GAP seconds (every other one sends its request line at once), for
        at most SECONDS; OUTFILE gets a line per connection when
        it ends: "closed AFTER ANSWER" (the server closed it after AFTER
        seconds, ANSWER its status or none) or "open AFTER" (still open
        when SECONDS were up), then "done".
  slowbody PORT PATH GAP SECONDS OUTFILE
        a POST to PATH announcing a 1000-byte body, the head at once, the
        body a byte every GAP seconds; OUTFILE as above (one line).
  many PORT N PATH OUTFILE
        N connections at once, each sending one GET PATH with keep-alive
        and reading its answer; then they stay open, idle.  OUTFILE gets
        "answered OK/N statuses=S:count,... seconds=T", then the process
        waits (keeping them all open) until it gets SIGTERM, and then
        writes "still-open K" (how many the server had not closed).
  hold PORT N OUTFILE
        N connections that send nothing; OUTFILE: "opened K" once connected
        (K may be below N: a connect() that fails stops it), then it waits
        for SIGTERM and closes them.
"""
import asyncio
import resource
import signal
import socket
import sys
import threading
import time


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, n)
    if hard != resource.RLIM_INFINITY and want > hard:
        want = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def status_of(data):
    if data.startswith(b"HTTP/") and b" " in data:
        return data.split(b" ", 2)[1].decode("latin-1")
    return "none"


def trickle(sock, payload, gap, deadline):
    """Send payload a byte at a time; return the server's answer (bytes)
    and whether it closed the connection before the deadline."""
    sock.setblocking(False)
    got = b""
    i = 0
    next_send = time.monotonic()
    while time.monotonic() < deadline:
        now = time.monotonic()
        if now >= next_send and i < len(payload):
            try:
                sock.send(payload[i:i + 1])
            except (BrokenPipeError, ConnectionResetError):
                return got, True
            i += 1
            next_send = now + gap
        try:
            chunk = sock.recv(65536)
            if not chunk:
                return got, True
            got += chunk
        except BlockingIOError:
            pass
        except ConnectionResetError:
            return got, True
        time.sleep(0.02)
    return got, False


def one_slow(port, first, payload, gap, seconds, out, lock):
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(first)
    got, closed = trickle(s, payload, gap, t0 + seconds)
    after = time.monotonic() - t0
    with lock:
        if closed:
            out.write("closed %.1f %s\n" % (after, status_of(got)))
        else:
            out.write("open %.1f\n" % after)
        out.flush()
    s.close()


def loris(port, n, gap, seconds, outfile):
    """Half the connections trickle the request line too; the others send
    it at once (libmicrohttpd then has a request to log) and trickle the
    headers."""
    line = b"GET /who HTTP/1.1\r\n"
    rest = b"Host: localhost\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"
    lock = threading.Lock()
    with open(outfile, "w") as out:
        ts = []
        for i in range(n):
            first = line if i % 2 else b""
            payload = rest if i % 2 else line + rest
            ts.append(threading.Thread(target=one_slow, args=(
                port, first, payload, gap, seconds, out, lock)))
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        out.write("done\n")


def slowbody(port, path, gap, seconds, outfile):
    head = ("POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n"
            "Content-Type: text/plain\r\n\r\n" % path).encode()
    with open(outfile, "w") as out:
        one_slow(port, head, b"x" * 1000, gap, seconds, out, threading.Lock())
        out.write("done\n")


async def one_request(port, path, sem):
    async with sem:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(("GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % path).encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        if length:
            await reader.readexactly(length)
    return status_of(head), reader, writer


async def many(port, n, path, outfile):
    # requests in flight at once: below the listen backlog and the pool's
    # queue (the connections, not the requests, are what is measured)
    sem = asyncio.Semaphore(200)
    t0 = time.monotonic()
    results = await asyncio.gather(*(one_request(port, path, sem) for _ in range(n)),
                                   return_exceptions=True)
    counts = {}
    conns = []
    for r in results:
        key = type(r).__name__ if isinstance(r, BaseException) else r[0]
        counts[key] = counts.get(key, 0) + 1
        if not isinstance(r, BaseException):
            conns.append(r)
    with open(outfile, "w") as out:
        out.write("answered %d/%d statuses=%s seconds=%.1f\n" % (
            counts.get("200", 0), n,
            ",".join("%s:%d" % kv for kv in sorted(counts.items())), time.monotonic() - t0))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    still = 0
    for _, reader, writer in conns:
        # a connection the server closed reads EOF at once
        try:
            data = await asyncio.wait_for(reader.read(1), 0.001)
            still += 0 if data == b"" else 1
        except asyncio.TimeoutError:
            still += 1
        except ConnectionError:
            pass
        writer.close()
    with open(outfile, "a") as out:
        out.write("still-open %d\n" % still)


def hold(port, n, outfile):
    socks = []
    for _ in range(n):
        try:
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=2))
        except OSError:
            break
    with open(outfile, "w") as out:
        out.write("opened %d\n" % len(socks))
    signal.sigwait([signal.SIGTERM])
    for s in socks:
        s.close()


def main():
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM]) if sys.argv[1] == "hold" else None
    raise_nofile(65536)
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "loris":
        loris(port, int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), sys.argv[6])
    elif cmd == "slowbody":
        slowbody(port, sys.argv[3], float(sys.argv[4]), float(sys.argv[5]), sys.argv[6])
    elif cmd == "many":
        asyncio.run(many(port, int(sys.argv[3]), sys.argv[4], sys.argv[5]))
    elif cmd == "hold":
        hold(port, int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit("usage: see the docstring")


if __name__ == "__main__":
    main()
