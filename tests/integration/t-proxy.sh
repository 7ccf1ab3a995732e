#!/bin/sh
# The proxy in front of real backends: a header-echo backend (HTTP, and on
# a unix socket) proves that spoofed identity headers never arrive and
# that the gateway's do, with X-Forwarded-*, X-Request-Id and a signature
# the backend verifies; bodies stream both ways (10 MB up, 50 MB down, by
# length, chunked and to the close); hop-by-hop headers stay behind;
# connections are kept alive; a backend that is down, slow, silent or
# talks garbage gets 502/504 with the reason in the audit line; the unix:
# backend sees the caller in SO_PEERCRED when the vdir impersonates; and a
# second idgated, Negotiate-protected, proves the double hop: the request
# arrives as the caller's principal, with the caller's delegated
# credentials -- and without them it is refused, never sent anonymously.
# Hardening: a backend that writes bytes beyond a response's framing (a
# body after HEAD, 204 or 304, more than its Content-Length) never gets
# them read as another caller's response; v2 signatures cover the method,
# target, Host, audience and body, and a tampered one does not verify;
# control bytes of a query never reach the backend's request line raw;
# forwarding headers a client sends (Forwarded, X-Real-IP, ...) are
# stripped and the gateway sets Forwarded itself.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/scripts/realm.sh"
need_root

PORT=$(free_port)
PORT2=$(free_port)
B="http://localhost:$PORT"
U=idgt$$
BACKEND="$PY $top_srcdir/tests/integration/backend.py"

realm_create "$T/kdc" || finish
for p in alice bob; do realm_addprinc "$U$p" "pw-$p" || finish; done
realm_addservice HTTP/localhost "$T/http.keytab" || finish
realm_addservice HTTP/backend.test "$T/backend.keytab" || finish # the second hop's service
add_user "${U}alice"
add_user "${U}bob"
realm_kinit "${U}alice" pw-alice "$T/alice.cc" || finish
realm_kinit "${U}bob" pw-bob "$T/bob.cc" || finish
ALICE=$(id -u "${U}alice")
PRINC="${U}alice@$REALM"

# the backends
head -c 48 /dev/urandom >"$T/sign.key"
chmod 640 "$T/sign.key"
chgrp nogroup "$T/sign.key"
mkdir -p "$T/sock"
chmod 755 "$T/sock"
$BACKEND tcp "$T/backend.port" "$T/sign.key" 2>"$T/backend.log" &
BE_PID=$!
at_exit "kill $BE_PID 2>/dev/null"
$BACKEND unix "$T/sock/backend.sock" 2>"$T/ubackend.log" &
UBE_PID=$!
at_exit "kill $UBE_PID 2>/dev/null"
i=0
while { [ ! -s "$T/backend.port" ] || [ ! -S "$T/sock/backend.sock" ]; } && [ $i -lt 50 ]; do
	sleep 0.1; i=$((i + 1))
done
BP=$(cat "$T/backend.port")
DEAD=$(free_port) # nothing listens there

# a second idgated: the Negotiate-protected backend of the double hop
mkdir -p "$T/modules" "$T/b2"
cp "$MODULES_DIR/whoami.so" "$MODULES_DIR/proxy.so" "$T/modules/"
cat >"$T/b2/idgate.conf" <<EOF
[server]
runtime_dir = $T/run
replay_cache_dir = $T/run/rcache
listen = 127.0.0.1:$PORT2
user = idgate
keytab = $T/backend.keytab
pam_service =
audit_log = $T/b2/audit.jsonl
modules_dir = $T/modules
[pool default]
user = nobody
group = nogroup
[vdir /who]
handler = whoami
EOF
start_backend_idgated "$T/b2/idgate.conf" "$T/b2/idgated.log" || finish

cat >"$T/idgate.conf" <<EOF
[server]
runtime_dir = $T/run2
replay_cache_dir = $T/run2/rcache
listen = 127.0.0.1:$PORT
user = idgate
keytab = $T/http.keytab
pam_service =
audit_log = $T/audit.jsonl
modules_dir = $T/modules
[pool default]
user = nobody
group = nogroup
[pool imp]
user = idgate-pool
threads = 4
[vdir /app]
handler = proxy
backend = http://127.0.0.1:$BP/
[vdir /anon]
handler = proxy
backend = http://127.0.0.1:$BP/echo
auth = anonymous
[vdir /full]
handler = proxy
backend = http://127.0.0.1:$BP
[vdir /signed]
handler = proxy
backend = http://127.0.0.1:$BP/
identity_signing_key = $T/sign.key
identity_signature = v1
[vdir /signed2]
handler = proxy
backend = http://127.0.0.1:$BP/
identity_signing_key = $T/sign.key
[vdir /signed-other]
handler = proxy
backend = http://127.0.0.1:$BP/
identity_signing_key = $T/sign.key
identity_audience = another-app
[vdir /strip]
handler = proxy
backend = http://127.0.0.1:$BP/
strip_headers = X-Custom-Secret, x_real_ip
[vdir /quick]
handler = proxy
backend = http://127.0.0.1:$BP/
timeout = 1s
[vdir /down]
handler = proxy
backend = http://127.0.0.1:$DEAD/
[vdir /unix]
handler = proxy
backend = unix:$T/sock/backend.sock
[vdir /unix-imp]
pool = imp
handler = proxy
backend = unix:$T/sock/backend.sock
impersonate = true
[vdir /hop]
handler = proxy
backend = http://localhost:$PORT2/
backend_auth = negotiate
backend_service = HTTP@backend.test
[vdir /s4u]
handler = proxy
backend = http://localhost:$PORT2/
backend_auth = negotiate
backend_service = HTTP@backend.test
s4u2proxy = true
EOF
start_idgated "$T/idgate.conf" || finish

neg() { n=$1; url=$2; shift 2; KRB5CCNAME="$T/alice.cc" fetch "$n" "$url" --negotiate -u : "$@"; }
negbob() { n=$1; url=$2; shift 2; KRB5CCNAME="$T/bob.cc" fetch "$n" "$url" --negotiate -u : "$@"; }
# the values the backend received for a header: "a|b" when repeated
got() { json "$T/$1.body" "'|'.join(v for n, v in j['headers'] if n.lower() == '$2'.lower())"; }

# ---------------------------------------------------------------- identity
check_eq "trusted subsystem: 200" 200 "$(neg e1 "$B/app/echo")"
check_eq "X-Remote-User" "${U}alice" "$(got e1 X-Remote-User)"
check_eq "X-Remote-Principal" "$PRINC" "$(got e1 X-Remote-Principal)"
check_eq "X-Impersonation-Level" impersonation "$(got e1 X-Impersonation-Level)"
check_eq "X-Request-Id is the request's" "$(header e1 X-Request-Id)" "$(got e1 X-Request-Id)"
check_eq "X-Forwarded-For" 127.0.0.1 "$(got e1 X-Forwarded-For)"
check_eq "X-Forwarded-Proto" http "$(got e1 X-Forwarded-Proto)"
check_eq "X-Forwarded-Host" "localhost:$PORT" "$(got e1 X-Forwarded-Host)"
check_eq "Host is the backend's" "127.0.0.1:$BP" "$(got e1 Host)"
check_eq "no Authorization reaches the backend" "" "$(got e1 Authorization)"
check_eq "Forwarded is the gateway's (RFC 7239)" "for=127.0.0.1;proto=http;host=\"localhost:$PORT\"" \
	"$(got e1 Forwarded)"
check_eq "the path below the vdir, under the backend's /" "GET /echo" \
	"$(json "$T/e1.body" 'j["method"] + " " + j["target"]')"

check_eq "spoofed identity headers: 200" 200 "$(neg e2 "$B/app/echo" \
	-H 'X-Remote-User: admin' -H 'x-remote-user: root' -H 'X-REMOTE-PRINCIPAL: admin@EVIL' \
	-H 'X-Impersonation-Level: delegation' -H 'X_Remote_User: admin' \
	-H 'X-Identity-Signature: v1; t=1; sig=forged' -H 'X-Forwarded-For: 10.9.8.7' \
	-H 'X-Forwarded-Proto: https' -H 'X-Forwarded-Host: evil.example')"
check_eq "spoofed X-Remote-User never arrives" "${U}alice" "$(got e2 X-Remote-User)"
check_eq "spoofed X-Remote-Principal never arrives" "$PRINC" "$(got e2 X-Remote-Principal)"
check_eq "spoofed X-Impersonation-Level never arrives" impersonation "$(got e2 X-Impersonation-Level)"
check_eq "a name with '_' never arrives" "" "$(got e2 X_Remote_User)"
check_eq "a forged signature never arrives" "" "$(got e2 X-Identity-Signature)"
check_eq "X-Forwarded-For is extended, not replaced" "10.9.8.7, 127.0.0.1" "$(got e2 X-Forwarded-For)"
check_eq "X-Forwarded-Proto and -Host are the gateway's" "http localhost:$PORT" \
	"$(got e2 X-Forwarded-Proto) $(got e2 X-Forwarded-Host)"
check_eq "spoofed forwarding headers: 200" 200 "$(neg e4 "$B/app/echo" \
	-H 'Forwarded: for=10.9.8.7;host=evil.example' -H 'X-Real-IP: 10.9.8.7' \
	-H 'X-Forwarded-Port: 8443' -H 'X-Forwarded-Prefix: /admin' -H 'X-Forwarded-Server: evil' \
	-H 'X-Original-URL: /admin' -H 'X-Rewrite-URL: /admin' -H 'X-Forwarded-User: root' \
	-H 'Remote-User: root' -H 'x-REAL-ip: 10.9.8.6' -H 'X-Kept: yes')"
for h in X-Real-IP X-Forwarded-Port X-Forwarded-Prefix X-Forwarded-Server X-Original-URL \
	X-Rewrite-URL X-Forwarded-User Remote-User; do
	check_eq "a client's $h never arrives" "" "$(got e4 "$h")"
done
check_eq "a client's Forwarded is replaced by the gateway's" \
	"for=127.0.0.1;proto=http;host=\"localhost:$PORT\"" "$(got e4 Forwarded)"
check_eq "other headers still pass" yes "$(got e4 X-Kept)"
neg e5 "$B/strip/echo" -H 'Forwarded: for=10.9.8.7' -H 'X-Real-IP: 10.9.8.7' \
	-H 'X-Custom-Secret: s' -H 'X-Forwarded-User: someone' >/dev/null
check_eq "strip_headers: its names are stripped, in any case" "|" \
	"$(got e5 X-Real-IP)|$(got e5 X-Custom-Secret)"
check_eq "strip_headers: a name it leaves out passes" someone "$(got e5 X-Forwarded-User)"
check_eq "strip_headers without Forwarded: the gateway's element is appended to the client's" \
	"for=10.9.8.7, for=127.0.0.1;proto=http;host=\"localhost:$PORT\"" "$(got e5 Forwarded)"
# a folded identity header, on the wire
AUTHZ="Negotiate $(KRB5CCNAME="$T/alice.cc" $PY "$top_srcdir/tests/integration/gssclient.py" token)"
raw "$PORT" "GET /app/echo HTTP/1.1\r\nHost: localhost\r\nAuthorization: $AUTHZ\r\nX-Remote-User: admin\r\n root\r\nConnection: close\r\n\r\n" >"$T/fold.out"
check_eq "a folded identity header is refused or dropped" yes \
	"$(if grep -q '^HTTP/1.1 400' "$T/fold.out"; then echo yes;
	   else sed '1,/^\r$/d' "$T/fold.out" | json /dev/stdin "'yes' if [v for n, v in j['headers'] if n.lower() == 'x-remote-user'] == ['${U}alice'] else 'no'"; fi)"

check_eq "a client's X-Request-Id (not a trusted proxy's) is not the id the backend gets" yes \
	"$(neg e3 "$B/app/echo" -H 'X-Request-Id: trace-42' >/dev/null; [ "$(header e3 X-Request-Id)" = "$(got e3 X-Request-Id)" ] && [ "$(got e3 X-Request-Id)" != trace-42 ] && echo yes)"
check_eq "it is in the audit line as client_request_id" trace-42 "$(audit e3 'j["client_request_id"]')"
check_eq "the audit line is named by the gateway's id" "$(header e3 X-Request-Id) /app/echo" \
	"$(audit e3 'j["request_id"] + " " + j["path"]')"

check_eq "anonymous vdir: only the level" "anonymous||" \
	"$(fetch a1 "$B/anon" >/dev/null; echo "$(got a1 X-Impersonation-Level)|$(got a1 X-Remote-User)|$(got a1 X-Remote-Principal)")"
check_eq "anonymous level by header: not told who" "anonymous|" \
	"$(neg a2 "$B/app/echo" -H 'Allowed-Impersonation-Level: anonymous' >/dev/null; echo "$(got a2 X-Impersonation-Level)|$(got a2 X-Remote-User)")"
check_eq "Allowed-Impersonation-Level itself does not travel" "" "$(got a2 Allowed-Impersonation-Level)"

check_eq "signed identity: the backend verifies the HMAC" True \
	"$(neg s1 "$B/signed/echo" >/dev/null; json "$T/s1.body" 'j["signature_ok"]')"
check_eq "the signature header" yes \
	"$(got s1 X-Identity-Signature | grep -Eq '^v1; t=[0-9]+; sig=[A-Za-z0-9+/]{43}=$' && echo yes)"

# v2 (the default): method, target, Host, audience and body are signed too
check_eq "v2 signature: the backend verifies it" "200 True" \
	"$(neg s2 "$B/signed2/echo?q=1" --data-binary 'hello, backend') $(json "$T/s2.body" 'j["signature_ok"]')"
check_eq "the v2 signature header" yes \
	"$(got s2 X-Identity-Signature | grep -Eq '^v2; t=[0-9]+; sig=[A-Za-z0-9+/]{43}=$' && echo yes)"
# the signed request again, straight to the backend: as it was, it verifies;
# with any one covered part changed, it does not
replay() {
	$PY - "$BP" "$T/s2.body" "$1" <<'EOF'
import json, socket, sys
port, j, change = int(sys.argv[1]), json.load(open(sys.argv[2])), sys.argv[3]
method, target, body = j["method"], j["target"], b"hello, backend"
headers = [[n, v] for n, v in j["headers"] if n.lower() != "content-length"]
if change == "method":
    method = "PUT"
elif change == "target":
    target = "/echo?q=2"
elif change == "host":
    headers = [[n, "other.example" if n.lower() == "host" else v] for n, v in headers]
elif change == "body":
    body = b"HELLO, backend"
head = "%s %s HTTP/1.1\r\n" % (method, target)
head += "".join("%s: %s\r\n" % (n, v) for n, v in headers)
head += "Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(10)
s.sendall(head.encode("latin-1") + body)
f = s.makefile("rb")
length = 0
while True:
    line = f.readline()
    if line in (b"\r\n", b""):
        break
    if line.lower().startswith(b"content-length:"):
        length = int(line.split(b":")[1])
print(json.loads(f.read(length))["signature_ok"])
EOF
}
check_eq "a v2-signed request replayed as it was verifies" True "$(replay none)"
for part in method target host body; do
	check_eq "a v2-signed request with another $part does not verify" False "$(replay "$part")"
done
check_eq "v2 for another audience does not verify at this backend" "200 False" \
	"$(neg s3 "$B/signed-other/echo") $(json "$T/s3.body" 'j["signature_ok"]')"
check_eq "v2 without a body: verifies" "200 True" \
	"$(neg s4 "$B/signed2/echo") $(json "$T/s4.body" 'j["signature_ok"]')"
head -c 70000 /dev/urandom >"$T/70k.bin"
check_eq "v2 with a body over 64 KiB (its length signed): verifies, the body intact" \
	"200 True $(sha256sum <"$T/70k.bin" | cut -d' ' -f1)" \
	"$(neg s5 "$B/signed2/echo" --data-binary "@$T/70k.bin") $(json "$T/s5.body" 'str(j["signature_ok"]) + " " + j["body_sha256"]')"
check_eq "v2 with a chunked body: verifies" "200 True chunked" \
	"$(neg s6 "$B/signed2/echo" -H 'Transfer-Encoding: chunked' --data-binary 'abc') $(json "$T/s6.body" 'str(j["signature_ok"]) + " " + j["framing"]')"

# ---------------------------------------------------------------- the request
check_eq "the whole path when the backend has none" "/full/echo/a%20b?x=1&y=%41" \
	"$(neg p1 "$B/full/echo/a%20b?x=1&y=%41" >/dev/null; json "$T/p1.body" 'j["target"]')"
check_eq "hop-by-hop request headers stay behind" "||" \
	"$(neg p2 "$B/app/echo" -H 'Connection: X-Secret' -H 'X-Secret: y' -H 'Keep-Alive: 5' >/dev/null
	   echo "$(got p2 X-Secret)|$(got p2 Keep-Alive)|$(got p2 Connection)")"
check_eq "end-to-end headers pass" "text/x-test" \
	"$(neg p3 "$B/app/echo" -H 'X-Custom: text/x-test' >/dev/null; got p3 X-Custom)"
# control bytes, DEL, 8-bit bytes, TAB and '#' in a query never reach the
# backend's request line raw: percent-encoded (or refused by the front end)
qtarget() {
	raw "$PORT" "GET /anon?$1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" >"$T/q.out"
	if head -1 "$T/q.out" | grep -q '^HTTP/1.1 400'; then echo refused
	else sed '1,/^\r$/d' "$T/q.out" | json /dev/stdin 'j["target"]'; fi
}
for q in 'a=\x01b:a=%01b' 'a=\x7fb:a=%7Fb' 'a=\xffb:a=%FFb' 'a=\tb:a=%09b' 'a=\x0bb:a=%0Bb' \
	'a=%41\x80&b=|:a=%41%80&b=|'; do
	got_t=$(qtarget "${q%%:*}")
	if [ "$got_t" = refused ]; then ok "query ${q%%:*}: refused by the front end"
	else check_eq "query ${q%%:*}: percent-encoded for the backend" "/echo?${q#*:}" "$got_t"; fi
done
head -c 10000000 /dev/urandom >"$T/10m.bin"
SHA10=$(sha256sum <"$T/10m.bin" | cut -d' ' -f1)
check_eq "10 MB up with Content-Length: as sent" "200 length 10000000 $SHA10" \
	"$(neg u1 "$B/app/echo" --data-binary "@$T/10m.bin") $(json "$T/u1.body" 'j["framing"] + " " + str(j["body_len"]) + " " + j["body_sha256"]')"
check_eq "10 MB up chunked: chunked on, as sent" "200 chunked 10000000 $SHA10" \
	"$(neg u2 "$B/app/echo" -H 'Transfer-Encoding: chunked' --data-binary "@$T/10m.bin") $(json "$T/u2.body" 'j["framing"] + " " + str(j["body_len"]) + " " + j["body_sha256"]')"
check_eq "a POST without a body says Content-Length: 0" "length 0" \
	"$(neg u3 "$B/app/echo" -X POST >/dev/null; json "$T/u3.body" 'j["framing"] + " " + str(j["body_len"])')"

# ---------------------------------------------------------------- the response
want=$($PY -c 'import hashlib,sys; b=bytes(range(256))*256; d=(b*((52428800//len(b))+1))[:52428800]; print(hashlib.sha256(d).hexdigest())')
for kind in bytes chunked close; do
	check_eq "50 MB down ($kind)" "200 $want" \
		"$(neg "d$kind" "$B/app/$kind/52428800") $(sha256sum <"$T/d$kind.body" | cut -d' ' -f1)"
done
check_eq "Content-Length passes" 52428800 "$(header dbytes Content-Length)"
check_eq "HEAD: the length, no body" "200 52428800 0" \
	"$(KRB5CCNAME="$T/alice.cc" curl -s -I --negotiate -u : -D "$T/hd.hdr" -o /dev/null \
		-w '%{http_code}' "$B/app/bytes/52428800") $(header hd Content-Length) $(KRB5CCNAME="$T/alice.cc" curl -s -I --negotiate -u : -o /dev/null -w '%{size_download}' "$B/app/bytes/52428800")"
check_eq "hop-by-hop response headers stay behind" "200 yes ||" \
	"$(neg h1 "$B/app/hop") $(header h1 X-Public) $(header h1 X-Internal)|$(header h1 Upgrade)|$(header h1 Keep-Alive)"
check_eq "a 100 Continue from the backend is skipped" "200 after" "$(neg h2 "$B/app/continue") $(cat "$T/h2.body")"
check_eq "204 passes, without a body" "204 204 0" "$(neg h3 "$B/app/status/204") $(header h3 X-Status) $(body_size h3)"
check_eq "a backend's 404 passes" "404 status" "$(neg h4 "$B/app/status/404") $(cat "$T/h4.body")"
check_eq "a redirect passes with its Location" "302 /elsewhere" "$(neg h5 "$B/app/status/302") $(header h5 Location)"

# ---------------------------------------------------------------- keep-alive
KRB5CCNAME="$T/alice.cc" curl -s --negotiate -u : -o "$T/k_#1.body" "$B/app/echo?[1-4]"
check_eq "one backend connection serves consecutive requests" "3" \
	"$(( $(json "$T/k_4.body" 'j["requests_on_connection"]') - $(json "$T/k_1.body" 'j["requests_on_connection"]') ))"
check_eq "on the same backend connection" yes \
	"$([ "$(json "$T/k_1.body" 'j["peer"]["port"]')" = "$(json "$T/k_4.body" 'j["peer"]["port"]')" ] && echo yes)"

# a backend that writes more than its framing says, on a kept connection:
# what it wrote beyond it must never become another caller's response
for kind in head 204 304; do
	if [ $kind = head ]; then want=200; opt=-I; else want=$kind; opt=; fi
	check_eq "alice: a $kind answered with a body anyway" $want \
		"$(neg "sa$kind" "$B/app/stray/$kind" $opt)"
	check_eq "after it, bob gets his own answer, not alice's stray bytes" "200 ${U}bob" \
		"$(negbob "sb$kind" "$B/app/echo") $(got "sb$kind" X-Remote-User 2>/dev/null)"
	check_eq "no injected response reaches bob (after a $kind)" "" "$(header "sb$kind" X-Injected)"
	check_eq "bob's request went on a new backend connection (after a $kind)" 1 \
		"$(json "$T/sb$kind.body" 'j["requests_on_connection"]' 2>/dev/null)"
done
check_eq "alice: a body longer than its Content-Length is cut at it" "200 hello" \
	"$(neg sal "$B/app/stray/length") $(cat "$T/sal.body")"
check_eq "after it, bob gets his own answer" "200 ${U}bob" \
	"$(negbob sbl "$B/app/echo") $(got sbl X-Remote-User 2>/dev/null)"
check_eq "no injected response reaches bob (after a long body)" "" "$(header sbl X-Injected)"

# ---------------------------------------------------------------- failures
check_eq "backend down: 502" 502 "$(neg f1 "$B/down/x")"
check_eq "backend down: reason" "proxy: http://127.0.0.1:$DEAD/: connect: Connection refused" \
	"$(audit f1 'j["reason"]')"
check_eq "backend silent beyond timeout = 1s: 504" 504 "$(neg f2 "$B/quick/slow/3")"
check_eq "504 reason" "proxy: http://127.0.0.1:$BP/: no response within 1000 ms" "$(audit f2 'j["reason"]')"
check_eq "backend hangs up: 502" 502 "$(neg f3 "$B/app/hangup")"
check_eq "hang-up reason" "proxy: http://127.0.0.1:$BP/: the backend closed the connection before its response head" \
	"$(audit f3 'j["reason"]')"
check_eq "garbage from the backend: 502" 502 "$(neg f4 "$B/app/garbage")"
check_eq "garbage reason" "proxy: http://127.0.0.1:$BP/: the backend's status line is malformed" \
	"$(audit f4 'j["reason"]')"
neg f5 "$B/app/short" >/dev/null
check_eq "a body cut short is cut for the client too (curl: 18)" 18 \
	"$(KRB5CCNAME="$T/alice.cc" curl -s -o /dev/null --negotiate -u : "$B/app/short"; echo $?)"
check_eq "cut reason" "proxy: http://127.0.0.1:$BP/: the backend closed the connection 90 bytes short of its Content-Length" \
	"$(audit f5 'j["reason"]')"
check_eq "still serving" 200 "$(neg f6 "$B/app/echo")"
# a client that leaves while the backend thinks: the proxy stops waiting
KRB5CCNAME="$T/alice.cc" curl -s -o /dev/null --negotiate -u : -m 1 "$B/app/slow/6"
wait_log "proxy: http://127.0.0.1:$BP/: the client went away"
check_grep "a client that leaves is noticed while the backend is silent" \
	"proxy: http://127.0.0.1:$BP/: the client went away" "$IDG_LOG"
check_eq "and the proxy stopped waiting long before the backend's 6 s" yes \
	"$($PY -c 'import json,sys
for l in open(sys.argv[1]):
    j = json.loads(l)
    if j["path"] == "/app/slow/6":
        print("yes" if j["duration_ms"] < 3000 else "no: %s ms" % j["duration_ms"])' "$T/audit.jsonl")"

# ---------------------------------------------------------------- unix: and SO_PEERCRED
check_eq "unix: backend, trusted: the pool's uid" "200 $(id -u nobody)" \
	"$(neg x1 "$B/unix/echo") $(json "$T/x1.body" 'j["peer"]["uid"]')"
check_eq "unix: backend, impersonated: alice's uid in SO_PEERCRED" "200 $ALICE" \
	"$(neg x2 "$B/unix-imp/echo") $(json "$T/x2.body" 'j["peer"]["uid"]')"
chmod 700 "$T/sock"
check_eq "unix: a socket the caller may not reach: 403" 403 "$(neg x3 "$B/unix-imp/echo")"
check_eq "403 reason" "proxy: unix:$T/sock/backend.sock: connect: Permission denied" \
	"$(audit x3 'j["reason"]')"
chmod 755 "$T/sock"

# ---------------------------------------------------------------- the double hop
B2_MARK=$(line_count "$T/b2/audit.jsonl")
check_eq "double hop with delegated credentials: 200" 200 "$(neg n1 "$B/hop/who" --delegation always)"
check_eq "the backend sees the caller's principal" "$PRINC" "$(json "$T/n1.body" 'j["principal"]')"
check_eq "the backend's audit: alice, authenticated by Negotiate" "$PRINC 200" \
	"$(wait_lines "$T/b2/audit.jsonl" "$B2_MARK"; tail -1 "$T/b2/audit.jsonl" | json /dev/stdin 'j["principal"] + " " + str(j["status"])')"
check_eq "without delegation: refused, never sent anonymously" 403 "$(neg n2 "$B/hop/who" --delegation none)"
check_eq "refusal reason" \
	"proxy: http://localhost:$PORT2/: backend_auth = negotiate needs the caller's delegated credentials, and the client delegated none (level impersonation)" \
	"$(audit n2 'j["reason"]')"
check_eq "a header cap below delegation: refused too" 403 \
	"$(neg n3 "$B/hop/who" --delegation always -H 'Allowed-Impersonation-Level: impersonation')"
check_eq "the backend saw only the one authenticated request" 1 "$(grep -c '"status":200' "$T/b2/audit.jsonl")"

# constrained delegation: the realm (DB2) does not allow it; the gateway
# (its front end, where the keys are) tries with its own credentials and
# the evidence ticket, and the KDC's refusal is the answer -- nothing goes
# to the backend anonymously
check_eq "s4u2proxy refused by the KDC: 502" 502 "$(neg c1 "$B/s4u/who" --delegation none)"
audit c1 'j["reason"]' >"$T/c1.reason"
check_grep "the KDC's refusal is the reason" \
	"^s4u2proxy: .*KDC can't fulfill requested option \\(to HTTP@[^)]*\\)$" \
	"$T/c1.reason"
check_eq "the backend saw nothing of it" 1 "$(grep -c '"status":200' "$T/b2/audit.jsonl")"

check_no_grep "no token in the log" "Negotiate [A-Za-z0-9+/]{20}" "$IDG_LOG"
finish
