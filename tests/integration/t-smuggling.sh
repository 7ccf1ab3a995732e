#!/bin/sh
# The edge against request smuggling and hostile request-targets, in raw
# bytes on one connection each: a folded header line, two Content-Length
# values, Content-Length with Transfer-Encoding, codings other than
# chunked, two Host fields, an absolute-form target naming another host,
# bare LF line ends, and CTL, SP, DEL or non-ASCII bytes in the target.
# Each is refused with 400 and Connection: close before anything routes
# it; the request smuggled behind it in the same write is never answered;
# the audit log has exactly one line for the connection, naming the shape;
# and the backend of a proxy vdir receives nothing.  Well-formed requests
# (by length, chunked, pipelined, absolute-form) still pass.
. "$(dirname "$0")/lib.sh"
need_root

PORT=$(free_port)
mkdir -p "$T/www"
printf 'hello' >"$T/www/hello.txt"
chmod -R a+rX "$T/www"

start_recorder

cat >"$T/idgate.conf" <<EOF
[server]
runtime_dir = $T/run
replay_cache_dir = $T/run/rcache
listen = 127.0.0.1:$PORT
user = idgate
pam_service =
audit_log = $AUDIT
modules_dir = $MODULES_DIR
[pool default]
user = nobody
group = nogroup
[vdir /www]
handler = static
root = $T/www
auth = anonymous
[vdir /who]
handler = whoami
auth = anonymous
[vdir /app]
handler = proxy
backend = http://127.0.0.1:$BP/
auth = anonymous
EOF
start_idgated "$T/idgate.conf" || finish

# exchange NAME BYTES -- one connection, BYTES (\r \n \t \xNN escapes) in
# one write, then read until the server closes (or is silent for 1.5 s).
# Prints "STATUSES CONNECTION END": the statuses of the answers in order
# (comma-separated, "none"), the first answer's Connection header ("-"),
# and "closed" or "open".  The answers are in $T/NAME.out.
exchange() {
	$PY - "$PORT" "$2" "$T/$1.out" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(sys.argv[2].encode("latin-1").decode("unicode_escape").encode("latin-1"))
s.settimeout(1.5)
data, end = b"", "closed"
while True:
    try:
        chunk = s.recv(65536)
    except socket.timeout:
        end = "open"
        break
    except ConnectionResetError:
        end = "reset"
        break
    if not chunk:
        break
    data += chunk
open(sys.argv[3], "wb").write(data)
statuses, conn, rest = [], "-", data
while rest.startswith(b"HTTP/"):
    head, _, rest = rest.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    statuses.append(lines[0].split(b" ")[1].decode())
    hdrs = {}
    for line in lines[1:]:
        n, _, v = line.partition(b":")
        hdrs[n.strip().lower()] = v.strip()
    if len(statuses) == 1:
        conn = hdrs.get(b"connection", b"-").decode()
    if b"content-length" in hdrs:
        rest = rest[int(hdrs[b"content-length"]):]
    elif hdrs.get(b"transfer-encoding", b"").lower() == b"chunked":
        while True:
            size, _, rest = rest.partition(b"\r\n")
            n = int(size.split(b";")[0], 16)
            rest = rest[n + 2:]
            if n == 0:
                break
    else:
        rest = b""
print(",".join(statuses) or "none", conn, end)
EOF
}

# edge_audit NAME -- the audit lines of NAME's connection (their paths
# hold NAME-a or NAME-b): "COUNT STATUS REASON" of the first.
edge_audit() {
	i=0
	while ! grep -q -- "$1-[ab]" "$AUDIT" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	sleep 0.2 # a second line, if any, is written just after the first
	grep -- "$1-[ab]" "$AUDIT" >"$T/$1.audit"
	$PY - "$T/$1.audit" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
print(len(lines), *((lines[0]["status"], lines[0].get("reason")) if lines else ()))
EOF
}

# refused NAME VDIR REASON FIRST -- send FIRST (a request to /VDIR/NAME-a)
# followed by a well-formed GET /VDIR/NAME-b in the same write: one 400
# with Connection: close, the connection closed, one audit line with
# REASON, and for the proxy vdir nothing received by the backend.
refused() {
	second="GET /$2/$1-b HTTP/1.1\r\nHost: x\r\n\r\n"
	check_eq "$1: one 400 with Connection: close, then closed" "400 close closed" \
		"$(exchange "$1" "$4$second")"
	check_eq "$1: one audit line, 400, the reason" "1 400 $3" "$(edge_audit "$1")"
	if [ "$2" = app ]; then
		check_no_grep "$1: nothing reached the backend" "$1-[ab]" "$T/backend.log"
	fi
}

# ---------------------------------------------------------------- well-formed requests pass
check_eq "pipelined GETs: both answered, the connection kept" "200,200 - open" \
	"$(exchange ok-get "GET /app/ok-get-a HTTP/1.1\r\nHost: x\r\n\r\nGET /app/ok-get-b HTTP/1.1\r\nHost: x\r\n\r\n")"
check_eq "POST by length, then a GET" "200,200 - open" \
	"$(exchange ok-cl "POST /app/ok-cl-a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /app/ok-cl-b HTTP/1.1\r\nHost: x\r\n\r\n")"
check_eq "POST chunked, then a GET" "200,200 - open" \
	"$(exchange ok-te "POST /app/ok-te-a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /app/ok-te-b HTTP/1.1\r\nHost: x\r\n\r\n")"
check_eq "absolute-form naming the Host" "200 - open" \
	"$(exchange ok-abs "GET http://x:$PORT/app/ok-abs-a HTTP/1.1\r\nHost: X:$PORT\r\n\r\n")"
check_eq "percent-encoded bytes in the query pass" "200 - open" \
	"$(exchange ok-q "GET /app/ok-q-a?a=%01%7f%ff%20b HTTP/1.1\r\nHost: 127.0.0.1:$PORT\r\n\r\n")"
check_eq "HTTP/1.0 without Host" "200 close closed" \
	"$(exchange ok-10 "GET /who/ok-10-a HTTP/1.0\r\n\r\n")"
check_eq "cookies (which libmicrohttpd parses) and OWS" "200 - open" \
	"$(exchange ok-ck "GET /who/ok-ck-a HTTP/1.1\r\nHost: x\r\nCookie: a=b; c=\"d\"\r\nX-A:b\r\nX-B: \t c\r\nX-C:\r\n\r\n")"
check_eq "static by length 0 with a tab in a value" "200 - open" \
	"$(exchange ok-www "GET /www/hello.txt?ok-www-a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nX-A: a\tb\r\n\r\n")"
for r in "GET /ok-get-a" "GET /ok-get-b" "POST /ok-cl-a" "GET /ok-cl-b" "POST /ok-te-a" \
	"GET /ok-te-b" "GET /ok-abs-a"; do
	check_grep "the backend got $r" "^$r HTTP/1.1	" "$T/backend.log"
done
check_grep "the query as sent" "^GET /ok-q-a\?a=%01%7f%ff%20b HTTP/1.1" "$T/backend.log"

# ---------------------------------------------------------------- obs-fold
refused fold-te app "request smuggling: a header line folded onto the next (obs-fold)" \
	"POST /app/fold-te-a HTTP/1.1\r\nHost: x\r\nTransfer-Encodin: chunked\r\n g\r\n\r\n0\r\n\r\n"
refused fold-tab who "request smuggling: a header line folded onto the next (obs-fold)" \
	"GET /who/fold-tab-a HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\t2\r\n\r\n"
refused fold-value www "request smuggling: a header line folded onto the next (obs-fold)" \
	"GET /www/fold-value-a HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2 3\r\n\r\n"

# ---------------------------------------------------------------- Content-Length
refused two-cl app "request smuggling: two different Content-Length values" \
	"POST /app/two-cl-a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\n"
refused same-cl app "request smuggling: Content-Length sent more than once" \
	"POST /app/same-cl-a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n"
refused ws-cl app "request smuggling: whitespace between a header field name and the colon" \
	"POST /app/ws-cl-a HTTP/1.1\r\nHost: x\r\nContent-Length : 36\r\n\r\n"

# libmicrohttpd answers these itself (its log says why); the audit line
# has its status, not a 499
refused cl-list app "malformed request, refused by libmicrohttpd" \
	"POST /app/cl-list-a HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n"
refused no-colon app "malformed request, refused by libmicrohttpd" \
	"GET /app/no-colon-a HTTP/1.1\r\nHost: x\r\nX-A\r\n\r\n"

# ---------------------------------------------------------------- Content-Length with Transfer-Encoding, any vdir
for v in app www who nowhere; do
	refused "cl-te-$v" "$v" "request smuggling: both Content-Length and Transfer-Encoding" \
		"POST /$v/cl-te-$v-a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
done
refused te-cl-get www "request smuggling: both Content-Length and Transfer-Encoding" \
	"GET /www/te-cl-get-a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"

# ---------------------------------------------------------------- Transfer-Encoding
refused te-gzip app "request smuggling: a transfer coding other than chunked" \
	"POST /app/te-gzip-a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"
refused te-list app "request smuggling: a transfer coding other than chunked" \
	"POST /app/te-list-a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"
refused te-twice app "request smuggling: Transfer-Encoding sent more than once" \
	"POST /app/te-twice-a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
refused te-10 app "request smuggling: Transfer-Encoding in an HTTP/1.0 request" \
	"POST /app/te-10-a HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"

# ---------------------------------------------------------------- Host
refused two-host app "two Host header fields" \
	"GET /app/two-host-a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n"
refused no-host app "HTTP/1.1 request without Host" \
	"GET /app/no-host-a HTTP/1.1\r\nX-A: 1\r\n\r\n"
refused bad-host app "Host is not host[:port]" \
	"GET /app/bad-host-a HTTP/1.1\r\nHost: x/y\r\n\r\n"
refused abs-other app "the absolute-form request-target names another host than Host" \
	"GET http://other.example/app/abs-other-a HTTP/1.1\r\nHost: x\r\n\r\n"

# ---------------------------------------------------------------- line ends
refused lf-all app "request smuggling: a line ends in a bare LF" \
	"GET /app/lf-all-a HTTP/1.1\nHost: x\n\n"
refused lf-field who "request smuggling: a line ends in a bare LF" \
	"GET /who/lf-field-a HTTP/1.1\r\nHost: x\nX-A: 1\r\n\r\n"
refused lf-end www "request smuggling: a line ends in a bare LF" \
	"GET /www/lf-end-a HTTP/1.1\r\nHost: x\r\n\n"
refused cr-value app "control character in a header field value" \
	"GET /app/cr-value-a HTTP/1.1\r\nHost: x\r\nX-A: 1\r2\r\n\r\n"
# found by tests/fuzz/fuzz_httpcheck: a line that starts with NUL ends the
# head for libmicrohttpd, so a bare LF then "NUL SP LF" spans the 4 bytes
# of CRLF CRLF (only a NUL right before a bare LF stays invisible)
refused nul-sp-end app "request smuggling: a line ends in a bare LF" \
	"GET /app/nul-sp-end-a HTTP/1.1\r\nHost: x\n\x00 \n"
refused nul-x-end10 who "request smuggling: a line ends in a bare LF" \
	"GET /who/nul-x-end10-a HTTP/1.0\n\x00x\n"

# ---------------------------------------------------------------- bytes of the request-target
for c in "tab:\t" "vt:\x0b" "soh:\x01" "sp: " "del:\x7f"; do
	n=${c%%:*}
	refused "q-$n" app "control character, space or DEL in the request-target" \
		"GET /app/q-$n-a?x=1${c#*:}2 HTTP/1.1\r\nHost: x\r\n\r\n"
	refused "p-$n" www "control character, space or DEL in the request-target" \
		"GET /www/p-$n-a${c#*:}z HTTP/1.1\r\nHost: x\r\n\r\n"
done
refused q-high app "a byte above 0x7f in the request-target" \
	"GET /app/q-high-a?x=\xff HTTP/1.1\r\nHost: x\r\n\r\n"
refused p-utf8 www "a byte above 0x7f in the request-target" \
	"GET /www/p-utf8-a\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n"

check_eq "still serving" 200 "$(fetch after "http://127.0.0.1:$PORT/who")"
finish
