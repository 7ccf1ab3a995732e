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
# a folded identity header, on the wire
AUTHZ="Negotiate $(KRB5CCNAME="$T/alice.cc" $PY "$top_srcdir/tests/integration/gssclient.py" token)"
raw "$PORT" "GET /app/echo HTTP/1.1\r\nHost: localhost\r\nAuthorization: $AUTHZ\r\nX-Remote-User: admin\r\n root\r\nConnection: close\r\n\r\n" >"$T/fold.out"
check_eq "a folded identity header is refused or dropped" yes \
	"$(if grep -q '^HTTP/1.1 400' "$T/fold.out"; then echo yes;
	   else sed '1,/^\r$/d' "$T/fold.out" | json /dev/stdin "'yes' if [v for n, v in j['headers'] if n.lower() == 'x-remote-user'] == ['${U}alice'] else 'no'"; fi)"

check_eq "a valid incoming X-Request-Id goes through" "trace-42 trace-42" \
	"$(neg e3 "$B/app/echo" -H 'X-Request-Id: trace-42' >/dev/null; echo "$(header e3 X-Request-Id) $(got e3 X-Request-Id)")"
check_eq "and names the audit line" "trace-42 /app/echo" "$(audit e3 'j["request_id"] + " " + j["path"]')"

check_eq "anonymous vdir: only the level" "anonymous||" \
	"$(fetch a1 "$B/anon" >/dev/null; echo "$(got a1 X-Impersonation-Level)|$(got a1 X-Remote-User)|$(got a1 X-Remote-Principal)")"
check_eq "anonymous level by header: not told who" "anonymous|" \
	"$(neg a2 "$B/app/echo" -H 'Allowed-Impersonation-Level: anonymous' >/dev/null; echo "$(got a2 X-Impersonation-Level)|$(got a2 X-Remote-User)")"
check_eq "Allowed-Impersonation-Level itself does not travel" "" "$(got a2 Allowed-Impersonation-Level)"

check_eq "signed identity: the backend verifies the HMAC" True \
	"$(neg s1 "$B/signed/echo" >/dev/null; json "$T/s1.body" 'j["signature_ok"]')"
check_eq "the signature header" yes \
	"$(got s1 X-Identity-Signature | grep -Eq '^v1; t=[0-9]+; sig=[A-Za-z0-9+/]{43}=$' && echo yes)"

# ---------------------------------------------------------------- the request
check_eq "the whole path when the backend has none" "/full/echo/a%20b?x=1&y=%41" \
	"$(neg p1 "$B/full/echo/a%20b?x=1&y=%41" >/dev/null; json "$T/p1.body" 'j["target"]')"
check_eq "hop-by-hop request headers stay behind" "||" \
	"$(neg p2 "$B/app/echo" -H 'Connection: X-Secret' -H 'X-Secret: y' -H 'Keep-Alive: 5' >/dev/null
	   echo "$(got p2 X-Secret)|$(got p2 Keep-Alive)|$(got p2 Connection)")"
check_eq "end-to-end headers pass" "text/x-test" \
	"$(neg p3 "$B/app/echo" -H 'X-Custom: text/x-test' >/dev/null; got p3 X-Custom)"
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
check_eq "double hop with delegated credentials: 200" 200 "$(neg n1 "$B/hop/who" --delegation always)"
check_eq "the backend sees the caller's principal" "$PRINC" "$(json "$T/n1.body" 'j["principal"]')"
check_eq "the backend's audit: alice, authenticated by Negotiate" "$PRINC 200" \
	"$(tail -1 "$T/b2/audit.jsonl" | json /dev/stdin 'j["principal"] + " " + str(j["status"])')"
check_eq "without delegation: refused, never sent anonymously" 403 "$(neg n2 "$B/hop/who" --delegation none)"
check_eq "refusal reason" \
	"proxy: http://localhost:$PORT2/: backend_auth = negotiate needs the caller's delegated credentials, and the client delegated none (level impersonation)" \
	"$(audit n2 'j["reason"]')"
check_eq "a header cap below delegation: refused too" 403 \
	"$(neg n3 "$B/hop/who" --delegation always -H 'Allowed-Impersonation-Level: impersonation')"
check_eq "the backend saw only the one authenticated request" 1 "$(grep -c '"status":200' "$T/b2/audit.jsonl")"

# constrained delegation: the realm (DB2) does not allow it; the gateway
# tries with its own credentials and the evidence ticket, and the KDC's
# refusal is the answer -- nothing goes to the backend anonymously
check_eq "s4u2proxy refused by the KDC: 502" 502 "$(neg c1 "$B/s4u/who" --delegation none)"
audit c1 'j["reason"]' >"$T/c1.reason"
check_grep "the KDC's refusal is the reason" \
	"^proxy: http://localhost:$PORT2/: cannot authenticate to the backend as $PRINC: gss_init_sec_context: .*KDC can't fulfill requested option" \
	"$T/c1.reason"
check_eq "the backend saw nothing of it" 1 "$(grep -c '"status":200' "$T/b2/audit.jsonl")"

check_no_grep "no token in the log" "Negotiate [A-Za-z0-9+/]{20}" "$IDG_LOG"
finish
