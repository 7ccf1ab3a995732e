#!/bin/sh
# Strict HTTP at the edge: a request that is not HTTP/1.1 -- a request line
# that is not "method SP target SP HTTP/1.x", a method that is not a token,
# an unknown version, a header line without a colon or with a space before
# it, a folded line, a NUL, CR or LF inside a header value, an over-long
# line -- gets an answer (400; 505 for a well-formed HTTP/x.y whose major
# version is not 1; 414 or 431 for an over-long line) with Connection:
# close, then the connection is closed, whatever followed it unread.  Never
# a silent close, never passed on: the raw recording backend of a proxy
# vdir receives nothing of it.  Each shape is sent, in raw bytes, as the
# first request of a connection, pipelined behind a good request, and on
# an idle kept-alive connection after one, on a plain and on a TLS
# listener; a good request follows it in the same write and is never
# answered.
. "$(dirname "$0")/lib.sh"
need_root

PORT=$(free_port)
TPORT=$(free_port)
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	-keyout "$T/tls.key" -out "$T/tls.crt" >/dev/null 2>&1 || { not_ok "openssl"; finish; }

start_recorder

cat >"$T/idgate.conf" <<EOF
[server]
runtime_dir = $T/run
replay_cache_dir = $T/run/rcache
listen = 127.0.0.1:$PORT
listen = 127.0.0.1:$TPORT tls
tls_cert = $T/tls.crt
tls_key = $T/tls.key
max_header_size = 4k
idle_timeout = 3s
user = idgate
pam_service =
audit_log = $AUDIT
modules_dir = $MODULES_DIR
[pool default]
user = nobody
group = nogroup
[vdir /app]
handler = proxy
backend = http://127.0.0.1:$BP/
auth = anonymous
EOF
start_idgated "$T/idgate.conf" || finish

# send NAME PORT-OR-"--tls PORT" PART... -- rawhttp.py's line (see there):
# "STATUSES CONNECTION END"; the bytes received in $T/NAME.out
send() {
	name=$1
	shift
	$PY "$top_srcdir/tests/integration/rawhttp.py" "$@" 2>"$T/$name.err" |
		sed 's/^$/none - error/'
	# (rawhttp.py's own failure shows as "none - error", its trace in NAME.err)
}

# refused NAME STATUS BYTES -- BYTES (with {} for a marker
# naming NAME, so that the backend's log can be searched for it) followed by
# a good request in the same write, on each listener: alone; pipelined
# behind a good request; after a good request on a kept-alive connection.
# Each time: the good request before it is answered 200 and kept alive,
# BYTES gets exactly one answer, STATUS with Connection: close, the
# connection is closed, and the request behind it is never answered.
# Nothing of it reaches the backend.  (libmicrohttpd 0.9.75 closes the
# connection on a request line without a space without a word; the front
# end answers for it: silentclose.h, tlsclose.h.)
refused() {
	name=$1
	bad=$(printf '%s' "$3" | sed "s|{}|$name-bad|g")
	behind="GET /app/$name-behind HTTP/1.1\r\nHost: x\r\n\r\n"
	for l in plain tls; do
		p=$PORT
		[ $l = tls ] && p="--tls $TPORT"
		good="GET /app/$name-ok-$l HTTP/1.1\r\nHost: x\r\n\r\n"
		first="$2 close closed" after="200,$2 close closed" what="$2 with Connection: close"
		# shellcheck disable=SC2086 # p is one or two words
		check_eq "$name, $l, first request: $what, closed" \
			"$first" "$(send "$name-$l-1" $p "$T/$name-$l-1.out" "$bad$behind")"
		check_eq "$name, $l, pipelined after a good request: 200, then $what, closed" \
			"$after" "$(send "$name-$l-2" $p "$T/$name-$l-2.out" "$good$bad$behind")"
		check_eq "$name, $l, on an idle kept-alive connection: 200, then $what, closed" \
			"$after" "$(send "$name-$l-3" $p "$T/$name-$l-3.out" "$good" "$bad$behind")"
	done
	check_no_grep "$name: nothing of it reached the backend" "$name-(bad|behind)" \
		"$T/backend.log"
}

# ---------------------------------------------------------------- well-formed requests pass
check_eq "plain: two requests on a kept-alive connection, then one behind the other" \
	"200,200,200 - open" "$(send ok-plain "$PORT" "$T/ok-plain.out" \
	"GET /app/ok-a HTTP/1.1\r\nHost: x\r\n\r\n" \
	"GET /app/ok-b HTTP/1.1\r\nHost: x\r\n\r\nGET /app/ok-c HTTP/1.1\r\nHost: x\r\n\r\n")"
check_eq "TLS: the same" "200,200,200 - open" "$(send ok-tls --tls "$TPORT" "$T/ok-tls.out" \
	"GET /app/ok-d HTTP/1.1\r\nHost: x\r\n\r\n" \
	"GET /app/ok-e HTTP/1.1\r\nHost: x\r\n\r\nGET /app/ok-f HTTP/1.1\r\nHost: x\r\n\r\n")"
check_eq "an empty line before a request line is ignored (RFC 9112 2.2)" "200 - open" \
	"$(send ok-crlf "$PORT" "$T/ok-crlf.out" "\r\nGET /app/ok-g HTTP/1.1\r\nHost: x\r\n\r\n")"
check_eq "HTTP/1.0" "200 close closed" \
	"$(send ok-10 "$PORT" "$T/ok-10.out" "GET /app/ok-h HTTP/1.0\r\n\r\n")"
check_eq "a method that is a token but not one we know: 405" "405 - open" \
	"$(send ok-m "$PORT" "$T/ok-m.out" "BREW /app/ok-i HTTP/1.1\r\nHost: x\r\n\r\n")"
for r in ok-a ok-b ok-c ok-d ok-e ok-f ok-g ok-h; do
	check_grep "the backend got $r" "^GET /$r HTTP/1.1	" "$T/backend.log"
done

# ---------------------------------------------------------------- the request line
refused garbage 400 "GARBAGE-{}\r\n\r\n"
# that answer is the front end's own (libmicrohttpd closes without one):
# its request id names an audit line with the reason
for c in garbage-plain-1 garbage-plain-3 garbage-tls-1 garbage-tls-3; do
	grep -ao 'X-Request-Id: [0-9a-f]*' "$T/$c.out" | tail -n 1 >"$T/$c.hdr" # the 400's
	check_eq "$c: the audit line of the 400" \
		"400 malformed request line: no method and request-target (libmicrohttpd closes on it without an answer)" \
		"$(audit "$c" 'str(j["status"]) + " " + j["reason"]')"
done
refused one-word 400 "GET/app/{}\r\nHost: x\r\n\r\n"
refused leading-sp 400 " GET /app/{} HTTP/1.1\r\nHost: x\r\n\r\n"
refused leading-tab 400 "\tGET /app/{} HTTP/1.1\r\nHost: x\r\n\r\n"
refused method-at 400 "G@T /app/{} HTTP/1.1\r\nHost: x\r\n\r\n"
refused method-ctl 400 "GE\x01T /app/{} HTTP/1.1\r\nHost: x\r\n\r\n"
refused method-8bit 400 "G\xc9T /app/{} HTTP/1.1\r\nHost: x\r\n\r\n"
refused two-sp 400 "GET  /app/{} HTTP/1.1\r\nHost: x\r\n\r\n"
refused trailing-sp 400 "GET /app/{} HTTP/1.1 \r\nHost: x\r\n\r\n"
refused target-ctl 400 "GET /app/{}\x01 HTTP/1.1\r\nHost: x\r\n\r\n"
refused target-cr 400 "GET /app/{}\rx HTTP/1.1\r\nHost: x\r\n\r\n"
refused target-nul 400 "GET /app/{}\x00x HTTP/1.1\r\nHost: x\r\n\r\n"
refused no-version 400 "GET /app/{}\r\nHost: x\r\n\r\n"
refused http-1-2 400 "GET /app/{} HTTP/1.2\r\nHost: x\r\n\r\n"
refused http-1-9 400 "GET /app/{} HTTP/1.9\r\nHost: x\r\n\r\n"
refused http-9 400 "GET /app/{} HTTP/9\r\nHost: x\r\n\r\n"
refused http-11-long 400 "GET /app/{} HTTP/1.10\r\nHost: x\r\n\r\n"
refused foo-1-1 400 "GET /app/{} FOO/1.1\r\nHost: x\r\n\r\n"
refused lower-http 400 "GET /app/{} http/1.1\r\nHost: x\r\n\r\n"
refused http-2-0 505 "GET /app/{} HTTP/2.0\r\nHost: x\r\n\r\n"
refused http-0-9 505 "GET /app/{} HTTP/0.9\r\nHost: x\r\n\r\n"

# ---------------------------------------------------------------- header lines
refused no-colon 400 "GET /app/{} HTTP/1.1\r\nHost: x\r\nX-A\r\n\r\n"
refused sp-colon 400 "GET /app/{} HTTP/1.1\r\nHost: x\r\nX-A : 1\r\n\r\n"
refused name-ctl 400 "GET /app/{} HTTP/1.1\r\nHost: x\r\nX\x01A: 1\r\n\r\n"
refused name-empty 400 "GET /app/{} HTTP/1.1\r\nHost: x\r\n: 1\r\n\r\n"
refused obs-fold 400 "GET /app/{} HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n"
refused value-nul 400 "GET /app/{} HTTP/1.1\r\nHost: x\r\nX-A: 1\x002\r\n\r\n"
refused value-cr 400 "GET /app/{} HTTP/1.1\r\nHost: x\r\nX-A: 1\r2\r\n\r\n"
refused value-lf 400 "GET /app/{} HTTP/1.1\r\nHost: x\r\nX-A: 1\n2\r\n\r\n"
refused value-del 400 "GET /app/{} HTTP/1.1\r\nHost: x\r\nX-A: 1\x7f2\r\n\r\n"

# ---------------------------------------------------------------- over-long lines
# (max_header_size = 4k: libmicrohttpd's buffer holds 4k + 16k)
long=$(head -c 30000 /dev/zero | tr '\0' a)
refused long-target 414 "GET /app/{}$long HTTP/1.1\r\nHost: x\r\n\r\n"
refused long-field 431 "GET /app/{} HTTP/1.1\r\nHost: x\r\nX-A: $long\r\n\r\n"
# a whole, well-formed head above max_header_size is not malformed: 431,
# and the connection goes on (the front end's own limit, encode_head)
check_eq "a whole head above max_header_size: 431, the connection kept" "431,200 - open" \
	"$(send big-head "$PORT" "$T/big-head.out" \
	"GET /app/big-head-a HTTP/1.1\r\nHost: x\r\nX-A: $(head -c 5000 /dev/zero | tr '\0' a)\r\n\r\nGET /app/big-head-b HTTP/1.1\r\nHost: x\r\n\r\n")"
check_no_grep "the 431 request did not reach the backend" "big-head-a" "$T/backend.log"

# ---------------------------------------------------------------- TLS closes that are not malformed lines
# the front end answers a TLS request line from just before libmicrohttpd
# ends the session (tlsclose.h): a session ended for another reason gets
# no 400 and no audit line -- the client's close_notify, its FIN, the idle
# timeout (3 s here), a client that never spoke TLS
malformed_before=$(grep -c 'malformed request line' "$AUDIT")
check_eq "TLS: the client's close_notify: the server's, and closed" "alert closed" \
	"$($PY "$top_srcdir/tests/integration/tlsprobe.py" "$TPORT" notify)"
check_eq "TLS: the client's FIN right after the handshake: close_notify, closed" "alert closed" \
	"$($PY "$top_srcdir/tests/integration/tlsprobe.py" "$TPORT" fin)"
check_eq "TLS: a connection silent past idle_timeout: close_notify, closed" "alert closed" \
	"$($PY "$top_srcdir/tests/integration/tlsprobe.py" "$TPORT" idle)"
check_eq "TLS: a request in clear text on the TLS listener: no answer in clear text, closed" \
	"nothing closed" "$($PY "$top_srcdir/tests/integration/tlsprobe.py" "$TPORT" plain)"
check_eq "none of them logged as a malformed request line" "$malformed_before" \
	"$(grep -c 'malformed request line' "$AUDIT")"

check_eq "still serving" "200 - open" \
	"$(send after "$PORT" "$T/after.out" "GET /app/after HTTP/1.1\r\nHost: x\r\n\r\n")"
finish
