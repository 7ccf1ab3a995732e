#!/bin/sh
# idgated behind a real HAProxy (issue 16, items 1 and 2).  PROXY protocol
# v2 on `proxy` listeners: the client HAProxy names (curl from 127.0.0.5,
# HAProxy itself on 127.0.0.1) is the one in the audit line, the access
# log and a CGI program's REMOTE_ADDR, through HAProxy in TCP mode, in
# HTTP mode terminating TLS (send-proxy-v2-ssl) and in TCP mode passing
# TLS through to a `tls proxy` listener.  Refused, closed without an
# answer and audited with the reason: a connection without a header, one
# from a sender not in proxy_protocol_from (a real HAProxy with another
# source address, a forged header), a header cut short, a version 1
# header, one that never ends.  Basic only over TLS: refused through
# HAProxy's plain TCP, allowed where HAProxy says (SSL TLV) the client
# spoke TLS to it.  header_timeout counts from the head's first byte, not
# the PROXY header's.  GET /health on admin_listen: 200, 503 when every pool
# is stopped, 503 while idgated drains after SIGTERM with a slow request
# in flight (which still completes) -- and HAProxy's httpchk marks the
# server DOWN and UP again from it (its stats socket says so).
. "$(dirname "$0")/lib.sh"
need_root

command -v haproxy >/dev/null || { not_ok "haproxy is installed (scripts/deps)"; finish; }

PP=$(free_port)   # idgated: plain proxy listener
PT=$(free_port)   # idgated: tls proxy listener
AP=$(free_port)   # idgated: admin_listen
HF=$(free_port)   # haproxy: TCP, send-proxy-v2 -> PP
HS=$(free_port)   # haproxy: HTTPS terminated, HTTP with send-proxy-v2-ssl -> PP
HT=$(free_port)   # haproxy: TCP passing TLS through, send-proxy-v2 -> PT
HU=$(free_port)   # haproxy: TCP from source 127.0.0.9 (not trusted) -> PP
CLIENT=127.0.0.5  # the real client's address, not HAProxy's
SVC=idgate-test-$$
U=idgt$$
PASSWORD="Correct-Horse-$$"
SOCK="$T/run/control"
CTL() { "$IDGATECTL" -s "$SOCK" "$@"; }

add_user "${U}carol"
echo "${U}carol:$PASSWORD" | chpasswd
add_pam_service "$SVC" "auth required pam_unix.so
account required pam_unix.so"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	-keyout "$T/tls.key" -out "$T/tls.crt" >/dev/null 2>&1 || { not_ok "openssl"; finish; }
cat "$T/tls.crt" "$T/tls.key" >"$T/haproxy.pem"

C="$T/cgi"
mkdir -p "$C"
chmod 755 "$C"
cat >"$C/env.cgi" <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\n\n'
echo "REMOTE_ADDR=$REMOTE_ADDR"
echo "HTTPS=${HTTPS:-}"
EOF
cat >"$C/slow.cgi" <<'EOF'
#!/bin/sh
sleep 4
printf 'Content-Type: text/plain\n\nslow done\n'
EOF
chmod 755 "$C/env.cgi" "$C/slow.cgi"

start_recorder  # a proxy vdir's backend: what the gateway tells it of the client
cat >"$T/idgate.conf" <<EOF
[server]
runtime_dir = $T/run
replay_cache_dir = $T/run/rcache
listen = 127.0.0.1:$PP proxy
listen = 127.0.0.1:$PT tls proxy
proxy_protocol_from = 127.0.0.1
tls_cert = $T/tls.crt
tls_key = $T/tls.key
admin_listen = 127.0.0.1:$AP
user = idgate
pam_service = $SVC
audit_log = $T/audit.jsonl
access_log = $T/access.log
modules_dir = $MODULES_DIR
shutdown_timeout = 20s
header_timeout = 2s
[pool default]
user = nobody
group = nogroup
[pool other]
user = nobody
group = nogroup
[vdir /cgi]
handler = cgi
root = $C
auth = anonymous
[vdir /basic]
handler = whoami
auth = basic
[vdir /other]
pool = other
handler = whoami
auth = anonymous
[vdir /px]
handler = proxy
backend = http://127.0.0.1:$BP/
auth = anonymous
EOF
start_idgated "$T/idgate.conf" || finish

cat >"$T/haproxy.cfg" <<EOF
global
	stats socket $T/haproxy.sock mode 600 level admin
defaults
	timeout connect 2s
	timeout client 30s
	timeout server 30s
frontend tcp_in
	mode tcp
	bind 127.0.0.1:$HF
	default_backend idg_tcp
backend idg_tcp
	mode tcp
	option httpchk GET /health
	server idg 127.0.0.1:$PP send-proxy-v2 check port $AP inter 200ms fall 1 rise 1
frontend tls_in
	mode http
	bind 127.0.0.1:$HS ssl crt $T/haproxy.pem
	default_backend idg_http
backend idg_http
	mode http
	server idg 127.0.0.1:$PP send-proxy-v2-ssl
frontend pass_in
	mode tcp
	bind 127.0.0.1:$HT
	default_backend idg_pass
backend idg_pass
	mode tcp
	server idg 127.0.0.1:$PT send-proxy-v2
frontend untrusted_in
	mode tcp
	bind 127.0.0.1:$HU
	default_backend idg_untrusted
backend idg_untrusted
	mode tcp
	server idg 127.0.0.1:$PP send-proxy-v2 source 127.0.0.9
EOF
haproxy -c -q -f "$T/haproxy.cfg" >"$T/haproxy.check" 2>&1
check_eq "haproxy accepts its configuration" "0" "$?"
haproxy -f "$T/haproxy.cfg" -db >"$T/haproxy.log" 2>&1 &
HAPROXY_PID=$!
at_exit "kill $HAPROXY_PID 2>/dev/null"
i=0
until [ -S "$T/haproxy.sock" ] || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done

# server_status BACKEND -- UP, DOWN, ... as HAProxy's stats socket says
server_status() { haproxy_status "$T/haproxy.sock" "$1" idg; }
# wait_status BACKEND STATUS -- up to 10 s; prints what it saw last
wait_status() { haproxy_wait "$T/haproxy.sock" "$1" idg "$2"; }
check_eq "haproxy's httpchk of GET /health: the server is UP" UP "$(wait_status idg_tcp UP)"

# ---------------------------------------------------------------- the client's address
check_eq "via HAProxy (TCP): 200" 200 "$(fetch tcp "http://127.0.0.1:$HF/cgi/env.cgi" --interface $CLIENT)"
check_eq "via HAProxy (TCP): REMOTE_ADDR is the client's" "REMOTE_ADDR=$CLIENT" \
	"$(grep REMOTE_ADDR "$T/tcp.body")"
check_eq "via HAProxy (TCP), to a proxy vdir: 200" 200 \
	"$(fetch tcppx "http://127.0.0.1:$HF/px/who-$$" --interface $CLIENT)"
grep "^GET /who-$$ " "$T/backend.log" | tr '\t' '\n' >"$T/tcppx.seen"
check_eq "the backend is told the client's address (X-Forwarded-For)" \
	"X-Forwarded-For: $CLIENT" "$(grep -i '^X-Forwarded-For:' "$T/tcppx.seen" | tr -d '\r')"
check_grep "and in Forwarded" "^Forwarded: .*for=\"?$CLIENT" "$T/tcppx.seen"
check_eq "via HAProxy (TCP): no HTTPS" "HTTPS=" "$(grep HTTPS "$T/tcp.body")"
check_eq "via HAProxy (TCP): the audit line's client" "$CLIENT" "$(audit tcp 'j["client"]')"
check_eq "via HAProxy (TCP): the audit line's tls" False "$(json "$T/tcp.audit" 'j["tls"]')"
wait_lines "$T/access.log" 0
check_eq "via HAProxy (TCP): the access log's client" "$CLIENT" \
	"$(grep -F "GET /cgi/env.cgi" "$T/access.log" | tail -1 | cut -d' ' -f1)"
check_eq "via HAProxy (TCP): the audit line's proxy: HAProxy, who named the client" 127.0.0.1 \
	"$(json "$T/tcp.audit" 'j["proxy"]')"
check_eq "via HAProxy (TCP): HAProxy's address is in no other field but Host" "[]" \
	"$(json "$T/tcp.audit" '[k for k, v in j.items() if "127.0.0.1" in str(v) and k not in ("host", "proxy")]')"

check_eq "via HAProxy (HTTPS terminated): 200" 200 \
	"$(fetch term "https://127.0.0.1:$HS/cgi/env.cgi" -k --interface $CLIENT)"
check_eq "via HAProxy (HTTPS terminated): REMOTE_ADDR" "REMOTE_ADDR=$CLIENT" "$(grep REMOTE_ADDR "$T/term.body")"
check_eq "via HAProxy (HTTPS terminated): HTTPS=on (the SSL TLV)" "HTTPS=on" "$(grep HTTPS "$T/term.body")"
check_eq "via HAProxy (HTTPS terminated): audit client and tls" "$CLIENT True" \
	"$(audit term 'j["client"] + " " + str(j["tls"])')"

check_eq "via HAProxy (TLS passed through): 200" 200 \
	"$(fetch pass "https://localhost:$HT/cgi/env.cgi" -k --interface $CLIENT)"
check_eq "via HAProxy (TLS passed through): REMOTE_ADDR" "REMOTE_ADDR=$CLIENT" "$(grep REMOTE_ADDR "$T/pass.body")"
check_eq "via HAProxy (TLS passed through): HTTPS=on (our TLS)" "HTTPS=on" "$(grep HTTPS "$T/pass.body")"
check_eq "via HAProxy (TLS passed through): audit client and tls" "$CLIENT True" \
	"$(audit pass 'j["client"] + " " + str(j["tls"])')"

# ---------------------------------------------------------------- Basic only over TLS
check_eq "Basic via HAProxy's plain TCP: 401" 401 \
	"$(fetch bplain "http://127.0.0.1:$HF/basic" --interface $CLIENT -u "${U}carol:$PASSWORD")"
check_eq "Basic via HAProxy's plain TCP: the reason" "basic: credentials over plain HTTP refused" \
	"$(audit bplain 'j["reason"]')"
check_eq "Basic via HAProxy terminating TLS (SSL TLV): 200" 200 \
	"$(fetch bterm "https://127.0.0.1:$HS/basic" -k --interface $CLIENT -u "${U}carol:$PASSWORD")"
check_eq "Basic via HAProxy terminating TLS: the user" "${U}carol" "$(json "$T/bterm.body" 'j["user"]')"
check_eq "Basic via HAProxy terminating TLS: the audit line" "$CLIENT Basic True" \
	"$(audit bterm 'j["client"] + " " + j["auth"] + " " + str(j["tls"])')"
check_eq "Basic via HAProxy passing TLS through: 200" 200 \
	"$(fetch bpass "https://localhost:$HT/basic" -k --interface $CLIENT -u "${U}carol:$PASSWORD")"

# ---------------------------------------------------------------- refusals
# pp FROM KIND [WAIT] -- connect to the proxy listener from FROM, send a
# header of KIND then a request; prints the answer's status, or "closed"
# when the connection closed without one, and the seconds that took.
pp() {
	$PY - "$PP" "$1" "$2" <<'PYEOF'
import socket, struct, sys, time
port, src, kind = int(sys.argv[1]), sys.argv[2], sys.argv[3]
SIG = b"\r\n\r\n\x00\r\nQUIT\n"
def v2(cmd, fam, body):
    return SIG + bytes([0x20 | cmd, fam]) + struct.pack(">H", len(body)) + body
def tcp4(a, b):
    return socket.inet_aton(a) + socket.inet_aton(b) + struct.pack(">HH", 40000, 80)
def tcp6(a, b):
    return (socket.inet_pton(socket.AF_INET6, a) + socket.inet_pton(socket.AF_INET6, b)
            + struct.pack(">HH", 40000, 80))
req = b"GET /cgi/env.cgi HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
ssl_tlv = b"\x20\x00\x05\x01\x00\x00\x00\x00"
send = {
    "none": req,
    "v4": v2(1, 0x11, tcp4("198.51.100.7", "127.0.0.1")) + req,
    "v6": v2(1, 0x21, tcp6("2001:db8::7", "::1")) + req,
    "local": v2(0, 0x00, b"") + req,
    "v4-ssl": v2(1, 0x11, tcp4("198.51.100.8", "127.0.0.1") + ssl_tlv) + req,
    "v1": b"PROXY TCP4 198.51.100.7 127.0.0.1 40000 80\r\n" + req,
    "short": v2(1, 0x11, tcp4("198.51.100.7", "127.0.0.1"))[:20],
    "badlen": v2(1, 0x11, tcp4("198.51.100.7", "127.0.0.1")[:8]) + req,
    "udp": v2(1, 0x12, tcp4("198.51.100.7", "127.0.0.1")) + req,
}[kind]
s = socket.socket()
s.bind((src, 0))
s.connect(("127.0.0.1", port))
t0 = time.time()
s.settimeout(10)
data = b""
try:
    s.sendall(send)        # "short": and never the rest
    while True:
        c = s.recv(65536)
        if not c:
            break
        data += c
except (ConnectionResetError, BrokenPipeError, socket.timeout):
    pass
took = time.time() - t0
status = data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") else "closed"
body = data.split(b"\r\n\r\n", 1)[1].decode(errors="replace") if b"\r\n\r\n" in data else ""
addr = [l for l in body.splitlines() if l.startswith("REMOTE_ADDR=")]
https = [l for l in body.splitlines() if l.startswith("HTTPS=")]
print(status, addr[0] if addr else "-", "%.1f" % took, https[0] if https else "-")
PYEOF
}
# last_audit FIELD -- of the audit log's last line (Python on j)
last_audit() {
	tail -1 "$T/audit.jsonl" >"$T/last.audit"
	json "$T/last.audit" "$1"
}
# refused NAME FROM KIND REASON -- closed without an answer, audited 400
# with the sender's address and REASON
refused() {
	n=$(line_count "$T/audit.jsonl")
	out=$(pp "$2" "$3")
	check_eq "$1: closed without an answer" "closed -" "$(echo "$out" | cut -d' ' -f1,2)"
	wait_lines "$T/audit.jsonl" "$n"
	check_eq "$1: audited, the sender as the client" "400 $2 None $4; connection closed without an answer" \
		"$(last_audit 'str(j["status"]) + " " + j["client"] + " " + str(j.get("proxy")) + " " + j["reason"]')"
}
refused "no PROXY header" 127.0.0.1 none "PROXY protocol: no PROXY protocol v2 signature"
refused "a version 1 header" 127.0.0.1 v1 \
	"PROXY protocol: PROXY protocol version 1 (text): only version 2 is read"
refused "an address block too short for AF_INET" 127.0.0.1 badlen \
	"PROXY protocol: AF_INET address block shorter than 12 bytes"
refused "a datagram family" 127.0.0.1 udp \
	"PROXY protocol: a datagram transport: HTTP comes over a stream"
refused "a valid header from an untrusted sender" $CLIENT v4 \
	"PROXY protocol: the sender is not in proxy_protocol_from"
refused "a plain request from an untrusted sender" $CLIENT none \
	"PROXY protocol: the sender is not in proxy_protocol_from"
n=$(line_count "$T/audit.jsonl")
out=$(pp 127.0.0.1 short)
check_eq "a header cut short: closed without an answer" "closed -" "$(echo "$out" | cut -d' ' -f1,2)"
took=$(echo "$out" | cut -d' ' -f3)
check_eq "a header cut short: closed after 3 s ($took s)" yes \
	"$($PY -c 'import sys; print("yes" if 2.9 <= float(sys.argv[1]) < 6 else "no")' "$took")"
wait_lines "$T/audit.jsonl" "$n"
check_eq "a header cut short: audited" \
	"400 127.0.0.1 PROXY protocol: no whole header within 3 s; connection closed without an answer" \
	"$(last_audit 'str(j["status"]) + " " + j["client"] + " " + j["reason"]')"

# a real HAProxy whose source address is not trusted
n=$(line_count "$T/audit.jsonl")
check_eq "HAProxy from an untrusted address: nothing served" 000 \
	"$(fetch unt "http://127.0.0.1:$HU/cgi/env.cgi" --interface $CLIENT -m 5)"
wait_lines "$T/audit.jsonl" "$n"
check_eq "HAProxy from an untrusted address: audited with its address" \
	"400 127.0.0.9 PROXY protocol: the sender is not in proxy_protocol_from; connection closed without an answer" \
	"$(last_audit 'str(j["status"]) + " " + j["client"] + " " + j["reason"]')"

# what a trusted sender says is taken as it says it
check_eq "a trusted sender names an IPv4 client" "200 REMOTE_ADDR=198.51.100.7" \
	"$(pp 127.0.0.1 v4 | cut -d' ' -f1,2)"
check_eq "... and the audit line says it, and who named it" "198.51.100.7 127.0.0.1" \
	"$(last_audit 'j["client"] + " " + j["proxy"]')"
check_eq "a trusted sender names an IPv6 client" "200 REMOTE_ADDR=2001:db8::7" \
	"$(pp 127.0.0.1 v6 | cut -d' ' -f1,2)"
check_eq "LOCAL (the sender's own connection): its own address" "200 REMOTE_ADDR=127.0.0.1" \
	"$(pp 127.0.0.1 local | cut -d' ' -f1,2)"
check_eq "an SSL TLV from a trusted sender: HTTPS=on" "200 REMOTE_ADDR=198.51.100.8 HTTPS=on" \
	"$(pp 127.0.0.1 v4-ssl | cut -d' ' -f1,2,4)"
check_eq "... and the audit line's tls" True "$(last_audit 'j["tls"]')"
check_eq "no SSL TLV: HTTPS unset" "HTTPS=" "$(pp 127.0.0.1 v4 | cut -d' ' -f4)"
check_eq "a direct TLS connection to the tls proxy listener: refused" 000 \
	"$(fetch dtls "https://localhost:$PT/cgi/env.cgi" -k -m 5)"

# header_timeout counts from a head's first byte, not the PROXY header's:
# a client silent for longer than it (idle_timeout's business) is served
check_eq "a client silent for 3.5 s through HAProxy, then a request: 200 (header_timeout 2 s)" 200 \
	"$($PY - "$HF" "$CLIENT" <<'PYEOF'
import socket, sys, time
s = socket.socket()
s.bind((sys.argv[2], 0))
s.connect(("127.0.0.1", int(sys.argv[1])))
time.sleep(3.5)
data = b""
try:
    s.sendall(b"GET /other HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    s.settimeout(10)
    while True:
        c = s.recv(65536)
        if not c:
            break
        data += c
except OSError:
    pass
print(data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") else "closed")
PYEOF
)"

# ... and still cuts a head that trickles in through HAProxy
out=$($PY - "$HF" "$CLIENT" <<'PYEOF'
import socket, sys, time
s = socket.socket()
s.bind((sys.argv[2], 0))
s.connect(("127.0.0.1", int(sys.argv[1])))
t0 = time.time()
try:
    s.sendall(b"GET /other HTTP/1.1\r\n")
    for _ in range(20):
        time.sleep(0.5)
        s.sendall(b"X")
    print("open")
except OSError:
    print("closed %.1f" % (time.time() - t0))
PYEOF
)
check_eq "a head trickling in through HAProxy is closed after header_timeout ($out)" yes \
	"$($PY -c 'import sys; a = sys.argv[1].split(); print("yes" if a[0] == "closed" and 1.9 <= float(a[1]) < 6.5 else "no")' "$out")"

# ---------------------------------------------------------------- /health
check_eq "/health: 200 while serving" "200 ok" "$(fetch h1 "http://127.0.0.1:$AP/health") $(cat "$T/h1.body")"
check_eq "/health: HEAD" 200 "$(fetch h1h "http://127.0.0.1:$AP/health" -I)"
check_eq "/health: POST 405" 405 "$(fetch h1p "http://127.0.0.1:$AP/health" -d x)"
# pool_stopped POOL -- 1 once the front end's metrics say the pool is stopped
pool_stopped() {
	curl -s "http://127.0.0.1:$AP/metrics" |
		awk -v m="idgate_pool_state{pool=\"$1\",state=\"stopped\"}" '$1 == m { print $2 }'
}
CTL pool stop default >/dev/null
i=0
until [ "$(pool_stopped default)" = 1 ] || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
check_eq "the front end knows pool default is stopped" 1 "$(pool_stopped default)"
check_eq "/health: one pool stopped: 200" 200 "$(fetch h2 "http://127.0.0.1:$AP/health")"
CTL pool stop other >/dev/null
# (the front end learns a pool's state from the supervisor just after
# idgatectl has its answer)
i=0
until [ "$(fetch h3 "http://127.0.0.1:$AP/health")" = 503 ] || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
check_eq "/health: every pool stopped: 503 and why" \
	"503 every pool is disabled (rapid_fail) or stopped" \
	"$(fetch h3 "http://127.0.0.1:$AP/health") $(cat "$T/h3.body")"
check_eq "haproxy marks the server DOWN" DOWN "$(wait_status idg_tcp DOWN)"
CTL pool start default >/dev/null
i=0
until [ "$(fetch h4 "http://127.0.0.1:$AP/health")" = 200 ] || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
check_eq "/health: a pool started again: 200" 200 "$(fetch h4 "http://127.0.0.1:$AP/health")"
check_eq "haproxy marks the server UP again" UP "$(wait_status idg_tcp UP)"
CTL pool start other >/dev/null

# slow_request NAME -- a 4 s request through HAProxy, in the background
# ($SLOW its curl), once the front end has it in flight
slow_request() {
	curl -s -o "$T/$1.body" -w '%{http_code}' --interface $CLIENT \
		"http://127.0.0.1:$HF/cgi/slow.cgi" >"$T/$1.status" &
	SLOW=$!
	i=0
	until [ "$(curl -s "http://127.0.0.1:$AP/metrics" |
		awk '$1 == "idgate_requests_in_flight" { print $2 }')" = 1 ] || [ $i -gt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# a reload: the old front end drains (a slow request in flight) and the
# new one answers /health: 200 all along, never the old one's 503
slow_request reload
kill -HUP "$IDG_PID"
wait_log "reloaded: configuration generation 2 serves, 1 drains"
codes=""
for k in 1 2 3 4 5 6 7 8 9 10; do
	codes="$codes$(fetch hr "http://127.0.0.1:$AP/health")"
	sleep 0.1
done
check_eq "/health during a reload's drain: 200 each time" \
	"200200200200200200200200200200" "$codes"
wait $SLOW
check_eq "the slow request of the old generation completes" "200 slow done" \
	"$(cat "$T/reload.status") $(cat "$T/reload.body")"
check_eq "haproxy keeps the server UP through the reload" UP "$(server_status idg_tcp)"

# draining: SIGTERM to idgated with a slow request in flight
slow_request slow
kill -TERM "$IDG_PID"
i=0
until [ "$(fetch h5 "http://127.0.0.1:$AP/health")" = 503 ] || [ $i -gt 30 ]; do sleep 0.1; i=$((i + 1)); done
check_eq "/health while draining: 503 and why" "503 draining: idgated is stopping" \
	"$(fetch h5 "http://127.0.0.1:$AP/health") $(cat "$T/h5.body")"
check_eq "haproxy marks the draining server DOWN" DOWN "$(wait_status idg_tcp DOWN)"
wait $SLOW
check_eq "the slow request in flight completes" "200 slow done" "$(cat "$T/slow.status") $(cat "$T/slow.body")"
wait "$IDG_PID"
check_eq "idgated stops (exit 0)" 0 "$?"
IDG_PID=
check_eq "the slow request's audit line: the client's address" "$CLIENT 200" \
	"$(grep '"path":"/cgi/slow.cgi"' "$T/audit.jsonl" | tail -1 >"$T/slow.audit"; json "$T/slow.audit" 'j["client"] + " " + str(j["status"])')"
finish
