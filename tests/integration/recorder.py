#!/usr/bin/python3
"""recorder.py -- a backend that writes down every request it receives
(for t-smuggling: a refused request must never reach a backend).

  recorder.py PORTFILE LOG   listen on 127.0.0.1, a free port written to
                             PORTFILE; append to LOG one line per request
                             received: the request line, then each header
                             line, as received, tab-separated

Each request is answered 200 "ok" with Content-Length; connections are
kept alive.
"""
import os
import socketserver
import sys
import threading

LOG = None
LOCK = threading.Lock()


def read_line(f):
    line = f.readline(65536)
    if not line:
        raise EOFError
    return line


def read_body(f, headers):
    names = {n.lower(): v for n, v in headers}
    if names.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int(read_line(f).split(b";")[0].strip(), 16)
            if size == 0:
                while read_line(f) not in (b"\r\n", b"\n"):
                    pass
                return
            f.read(size)
            read_line(f)
    f.read(int(names.get("content-length", "0")))


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        try:
            while True:
                lines = [read_line(self.rfile).rstrip(b"\r\n")]
                while lines[-1] != b"":
                    lines.append(read_line(self.rfile).rstrip(b"\r\n"))
                with LOCK, open(LOG, "ab") as log:
                    log.write(b"\t".join(lines[:-1]) + b"\n")
                headers = [l.decode("latin-1").partition(":")[::2] for l in lines[1:-1]]
                read_body(self.rfile, [(n.strip(), v.strip()) for n, v in headers])
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                self.wfile.flush()
        except (EOFError, ConnectionError, ValueError):
            return


class TCP(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global LOG
    LOG = sys.argv[2]
    open(LOG, "ab").close()
    srv = TCP(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
