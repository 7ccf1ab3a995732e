#!/bin/sh
# The real idgated on loopback (IPv4 and IPv6) with anonymous vdirs:
# whoami's fields, static's answers, confinement against every traversal
# trick, routing, limits, the audit log, process identities, SIGTERM.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
PORT6=$(free_port)
B="http://127.0.0.1:$PORT"
NOBODY_UID=$(id -u nobody)
NOGROUP_GID=$(getent group nogroup | cut -d: -f3)

mkdir -p "$T/www/dir" "$T/www/empty" "$T/files"
printf 'hello world' >"$T/www/hello.txt"
printf 'idx' >"$T/www/dir/index.html"
printf 'outside root secret' >"$T/outside.txt"
printf 'files vdir' >"$T/files/f.txt"
printf 'under tight rules' >"$T/www/private.txt"
chmod 600 "$T/www/private.txt"
ln -s ../outside.txt "$T/www/link_up"
ln -s /etc/passwd "$T/www/link_abs"
ln -s hello.txt "$T/www/link_in"
head -c 3000000 /dev/urandom >"$T/www/big.bin"
# the front end sends files up to 16 KiB from a buffer, with the head
head -c 16384 /dev/urandom >"$T/www/edge.bin"
head -c 16385 /dev/urandom >"$T/www/edge1.bin"
chmod -R a+rX "$T/www" "$T/files"
chmod 600 "$T/www/private.txt"

cat >"$T/idgate.conf" <<EOF
[server]
runtime_dir = $T/run
replay_cache_dir = $T/run/rcache
listen = 127.0.0.1:$PORT
listen = [::1]:$PORT6
trusted_proxies = 127.0.0.1
user = idgate
pam_service =
audit_log = $T/audit.jsonl
modules_dir = $MODULES_DIR
max_header_size = 4k
[pool default]
user = nobody
group = nogroup
threads = 4
[pool other]
user = nobody
group = nogroup
threads = 2
[vdir /www]
handler = static
root = $T/www
auth = anonymous
[vdir /files]
pool = other
handler = static
root = $T/files
auth = anonymous
[vdir /whoami]
handler = whoami
auth = anonymous
EOF

start_idgated "$T/idgate.conf" || finish

# ---------------------------------------------------------------- whoami
check_eq "whoami status" 200 "$(fetch who "$B/whoami")"
check_eq "whoami content type" "application/json" "$(header who Content-Type)"
check_eq "whoami not cached" "no-store" "$(header who Cache-Control)"
check_eq "whoami fields, in order" \
	"['principal', 'user', 'uid', 'gid', 'groups', 'euid', 'egid', 'impersonated', 'level', 'pool', 'vdir', 'delegated', 'ccache', 'request_id']" \
	"$(json "$T/who.body" 'list(j.keys())')"
check_eq "whoami anonymous principal" None "$(json "$T/who.body" 'j["principal"]')"
check_eq "whoami anonymous user" None "$(json "$T/who.body" 'j["user"]')"
check_eq "whoami anonymous uid" None "$(json "$T/who.body" 'j["uid"]')"
check_eq "whoami level" anonymous "$(json "$T/who.body" 'j["level"]')"
check_eq "whoami not impersonated" False "$(json "$T/who.body" 'j["impersonated"]')"
check_eq "whoami pool" default "$(json "$T/who.body" 'j["pool"]')"
check_eq "whoami vdir" /whoami "$(json "$T/who.body" 'j["vdir"]')"
check_eq "whoami not delegated" "False None" "$(json "$T/who.body" 'j["delegated"], j["ccache"]' | tr -d '(),')"
check_eq "whoami request id is 32 hex" True "$(json "$T/who.body" '__import__("re").fullmatch("[0-9a-f]{32}", j["request_id"]) is not None')"
if is_root; then
	check_eq "whoami euid is the pool user" "$NOBODY_UID" "$(json "$T/who.body" 'j["euid"]')"
	check_eq "whoami egid is the pool group" "$NOGROUP_GID" "$(json "$T/who.body" 'j["egid"]')"
	check_eq "whoami groups are the pool user's" "[$NOGROUP_GID]" "$(json "$T/who.body" 'j["groups"]')"
else
	check_eq "whoami euid is ours (not root)" "$(id -u)" "$(json "$T/who.body" 'j["euid"]')"
fi
check_eq "whoami over IPv6" 200 "$(fetch who6 "http://[::1]:$PORT6/whoami")"

# ---------------------------------------------------------------- static
check_eq "static 200" 200 "$(fetch hello "$B/www/hello.txt")"
check_eq "static body" "hello world" "$(cat "$T/hello.body")"
check_eq "static length" 11 "$(header hello Content-Length)"
check_eq "static type" "text/plain; charset=utf-8" "$(header hello Content-Type)"
check_eq "static accept-ranges" bytes "$(header hello Accept-Ranges)"
ETAG=$(header hello ETag)
check_eq "static etag is quoted" '"' "$(printf %.1s "$ETAG")"
raw "$PORT" 'HEAD /www/hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >"$T/head.raw"
check_grep "HEAD status" "^HTTP/1.1 200 OK" "$T/head.raw"
check_grep "HEAD length" "^Content-Length: 11" "$T/head.raw"
check_eq "HEAD has no body" "" "$(sed '1,/^\r$/d' "$T/head.raw")"
check_eq "304 on If-None-Match" 304 "$(fetch inm "$B/www/hello.txt" -H "If-None-Match: $ETAG")"
check_eq "304 has no body" 0 "$(body_size inm)"
check_eq "304 keeps the etag" "$ETAG" "$(header inm ETag)"
check_eq "If-Modified-Since 304" 304 "$(fetch ims "$B/www/hello.txt" -H "If-Modified-Since: $(header hello Last-Modified)")"
# found by tests/fuzz/fuzz_static: a date that names no time is no date
check_eq "If-Modified-Since with an hour of -1: ignored" 200 \
	"$(fetch imsbad "$B/www/hello.txt" -H "If-Modified-Since: Fri, 31 Dec 2100 -1:00:00 GMT")"
check_eq "If-Modified-Since on Feb 30: ignored" 200 \
	"$(fetch imsfeb "$B/www/hello.txt" -H "If-Modified-Since: Sun, 30 Feb 2100 00:00:00 GMT")"
check_eq "range 206" 206 "$(fetch range "$B/www/hello.txt" -r 0-4)"
check_eq "range body" hello "$(cat "$T/range.body")"
check_eq "range header" "bytes 0-4/11" "$(header range Content-Range)"
check_eq "range 416" 416 "$(fetch r416 "$B/www/hello.txt" -r 50-60)"
check_eq "range 416 header" "bytes */11" "$(header r416 Content-Range)"
# found by tests/fuzz/fuzz_static: a range is digits only, then blanks at most
check_eq "range with a sign: ignored" "200 hello world" \
	"$(fetch rsign "$B/www/hello.txt" -H 'Range: bytes=+0-4') $(cat "$T/rsign.body")"
check_eq "range with a byte after its blank: ignored" "200 hello world" \
	"$(fetch rjunk "$B/www/hello.txt" -H 'Range: bytes=6- x') $(cat "$T/rjunk.body")"
check_eq "range with a blank inside: ignored" "200 -" \
	"$(fetch rblank "$B/www/hello.txt" -H 'Range: bytes=0- 4') $(header rblank Content-Range)-"
check_eq "dir redirect" 301 "$(fetch dir "$B/www/dir?x=1")"
check_eq "dir redirect location" "/www/dir/?x=1" "$(header dir Location)"
check_eq "dir index" 200 "$(fetch idx "$B/www/dir/")"
check_eq "dir index body" idx "$(cat "$T/idx.body")"
check_eq "dir without index" 403 "$(fetch empty "$B/www/empty/")"
check_eq "missing file" 404 "$(fetch nope "$B/www/nope.txt")"
check_eq "404 is html" "text/html; charset=utf-8" "$(header nope Content-Type)"
check_eq "symlink inside root" 200 "$(fetch lin "$B/www/link_in")"
check_eq "big file" 200 "$(fetch big "$B/www/big.bin")"
check_eq "big file bytes" "$(sha256sum <"$T/www/big.bin")" "$(sha256sum <"$T/big.body")"
check_eq "16 KiB file" "200 16384" "$(fetch edge "$B/www/edge.bin") $(body_size edge)"
check_eq "16 KiB file bytes" "$(sha256sum <"$T/www/edge.bin")" "$(sha256sum <"$T/edge.body")"
check_eq "16 KiB + 1 file" "200 16385" "$(fetch edge1 "$B/www/edge1.bin") $(body_size edge1)"
check_eq "16 KiB + 1 file bytes" "$(sha256sum <"$T/www/edge1.bin")" "$(sha256sum <"$T/edge1.body")"
check_eq "range inside a small file" "206 world" \
	"$(fetch rmid "$B/www/hello.txt" -r 6-10) $(cat "$T/rmid.body")"
check_eq "range inside a 16 KiB file" \
	"$(dd if="$T/www/edge.bin" bs=1 skip=1000 count=3000 2>/dev/null | sha256sum)" \
	"$(fetch redge "$B/www/edge.bin" -r 1000-3999 >/dev/null; sha256sum <"$T/redge.body")"
if is_root; then
	check_eq "0600 root file is forbidden to the pool user" 403 "$(fetch priv "$B/www/private.txt")"
fi
check_eq "other pool serves its vdir" 200 "$(fetch files "$B/files/f.txt")"
check_eq "other pool body" "files vdir" "$(cat "$T/files.body")"

# ---------------------------------------------------------------- methods and routing
check_eq "POST is 405" 405 "$(fetch post "$B/www/hello.txt" -X POST -d x)"
check_eq "405 Allow" "GET, HEAD" "$(header post Allow)"
check_eq "unknown method is 405" 405 "$(fetch brew "$B/whoami" -X BREW)"
check_eq "no vdir is 404" 404 "$(fetch novdir "$B/elsewhere")"
check_eq "prefix stops at a segment boundary" 404 "$(fetch wwwx "$B/wwwx/hello.txt")"
check_eq "vdir without slash is the vdir" 403 "$(fetch wwwroot "$B/www/")"

# ---------------------------------------------------------------- confinement
for p in "/www/../outside.txt" "/www/%2e%2e/outside.txt" "/www/%2E%2E/%2e%2e/etc/passwd" \
	"/www/..%2foutside.txt" "/www/dir/..%2f..%2foutside.txt" "/www/link_up" "/www/link_abs" \
	"/www/%00/../outside.txt" "/www/dir/%2e%2e/%2e%2e/%2e%2e/etc/passwd" "/../../etc/passwd"; do
	code=$(curl -s --path-as-is -o "$T/trav.body" -w '%{http_code}' "$B$p")
	case "$code" in
	400|403|404) ok "traversal $p refused ($code)" ;;
	*) not_ok "traversal $p answered $code" ;;
	esac
	check_no_grep "traversal $p leaks nothing" "outside root secret|root:x:0:0" "$T/trav.body"
done
check_eq "raw dot-dot" 400 "$(raw_status "$PORT" 'GET /www/../../outside.txt HTTP/1.1\r\nHost: x\r\n\r\n')"
check_eq "raw encoded slash" 400 "$(raw_status "$PORT" 'GET /www/a%2fb HTTP/1.1\r\nHost: x\r\n\r\n')"
check_eq "raw NUL" 400 "$(raw_status "$PORT" 'GET /www/a%00b HTTP/1.1\r\nHost: x\r\n\r\n')"
check_eq "raw dotted path resolves inside" 200 "$(raw_status "$PORT" 'GET /www/dir/../hello.txt HTTP/1.1\r\nHost: x\r\n\r\n')"
check_eq "garbage request line: 400 (the front end answers what libmicrohttpd closes on)" 400 "$(raw_status "$PORT" 'GARBAGE\r\n\r\n')"
check_eq "still serving after garbage" 200 "$(fetch afterg "$B/whoami")"

# ---------------------------------------------------------------- limits
HDR5K=$(head -c 5000 /dev/zero | tr '\0' a)
check_eq "header over max_header_size is 431" 431 "$(fetch bighdr "$B/whoami" -H "X-Big: $HDR5K")"
HDR3K=$(head -c 3000 /dev/zero | tr '\0' a)
check_eq "header under max_header_size passes" 200 "$(fetch okhdr "$B/whoami" -H "X-Big: $HDR3K")"
HDR50K=$(head -c 50000 /dev/zero | tr '\0' a)
code=$(fetch hugehdr "$B/whoami" -H "X-Big: $HDR50K")
case "$code" in
431|413|414|400) ok "huge header refused by the parser ($code)" ;;
*) not_ok "huge header answered $code" ;;
esac
check_eq "still serving after the oversized header" 200 "$(fetch after "$B/whoami")"

# ---------------------------------------------------------------- keep-alive and load
curl -sv -o /dev/null -o /dev/null "$B/www/hello.txt" "$B/whoami" 2>"$T/ka.err"
check_grep "keep-alive reuses the connection" "Re-using existing connection|Reusing existing" "$T/ka.err"
seq 1 60 | xargs -P 12 -I{} curl -s -o /dev/null -w '%{http_code}\n' "$B/whoami" >"$T/load"
check_eq "60 parallel requests all 200" 60 "$(grep -c '^200$' "$T/load")"

# ---------------------------------------------------------------- processes
FE=$(child_pid idgate-front)
WK=$(child_pid idgate-pool)
check_eq "front end exists" true "$([ -n "$FE" ] && echo true)"
check_eq "front end has no capabilities" 0000000000000000 "$(status_field "$FE" CapEff)"
check_eq "front end has no permitted capabilities" 0000000000000000 "$(status_field "$FE" CapPrm)"
check_eq "front end sets no_new_privs" 1 "$(status_field "$FE" NoNewPrivs)"
check_eq "pool worker has no capabilities" 0000000000000000 "$(status_field "$WK" CapEff)"
if is_root; then
	check_eq "front end runs as [server] user" "$(id -u idgate)" "$(status_field "$FE" Uid)"
	check_eq "pool worker runs as pool user" "$NOBODY_UID" "$(status_field "$WK" Uid)"
	check_eq "two pools, two workers" 2 "$(for p in $(pgrep -P "$IDG_PID"); do cat /proc/$p/comm; done | grep -c idgate-pool)"
fi

# ---------------------------------------------------------------- audit
check_eq "audit: every line is JSON" ok "$($PY -c '
import json, sys
for line in open(sys.argv[1]):
    json.loads(line)
print("ok")' "$T/audit.jsonl")"
check_eq "audit: 404 status" 404 "$(audit nope 'j["status"]')"
check_eq "audit: 404 reason" "static: nope.txt: not found" "$(audit nope 'j["reason"]')"
check_eq "audit: 404 vdir and pool" "/www default" "$(audit nope 'j["vdir"] + " " + j["pool"]')"
check_eq "audit: no vdir" "None no vdir serves this path" "$(audit novdir 'str(j["vdir"]) + " " + j["reason"]')"
check_eq "audit: fields" \
	"['ts', 'request_id', 'client', 'method', 'path', 'vdir', 'pool', 'principal', 'user', 'level', 'impersonated', 'status', 'bytes', 'duration_ms', 'host', 'user_agent', 'auth', 'tls']" \
	"$(audit who 'list(j.keys())')"
check_eq "audit: whoami request id matches the response" \
	"$(json "$T/who.body" 'j["request_id"]')" "$(audit who 'j["request_id"]')"
check_eq "audit: X-Request-Id names the request" "$(json "$T/who.body" 'j["request_id"]')" "$(header who X-Request-Id)"
check_eq "audit: client" 127.0.0.1 "$(audit who 'j["client"]')"
# a request id from a trusted proxy (127.0.0.1 here) follows the request
fetch rid1 "$B/whoami" -H 'X-Request-Id: abc-DEF_123' >/dev/null
check_eq "a valid X-Request-Id from a trusted proxy is the request's id" "abc-DEF_123 abc-DEF_123" \
	"$(header rid1 X-Request-Id) $(json "$T/rid1.body" 'j["request_id"]')"
check_eq "and names its audit line" /whoami "$(audit rid1 'j["path"]')"
for bad in 'a.b' '../x' 'a b' "$(printf '%065d' 0)" ''; do
	fetch rid2 "$B/whoami" -H "X-Request-Id: $bad" >/dev/null
	check_eq "an incoming X-Request-Id '$bad' is not taken" yes \
		"$(header rid2 X-Request-Id | grep -Eq '^[0-9a-f]{32}$' && echo yes)"
done
# from any other client ([::1] here) it is only recorded: a client does not
# choose the id of its audit line
fetch rid4 "http://[::1]:$PORT6/whoami" -H 'X-Request-Id: abc-DEF_123' >/dev/null
check_eq "from a client that is not a trusted proxy: not taken" yes \
	"$(header rid4 X-Request-Id | grep -Eq '^[0-9a-f]{32}$' && echo yes)"
check_eq "... but kept in the audit line as client_request_id" "abc-DEF_123 ::1" \
	"$(audit rid4 'j["client_request_id"] + " " + j["client"]')"
check_eq "a trusted proxy's id is the id, not a client_request_id" "None" \
	"$(audit rid1 'j.get("client_request_id")')"
fetch rid3 "$B/whoami" -H 'X-Request-Id: one' -H 'X-Request-Id: two' >/dev/null
check_eq "two incoming X-Request-Id headers: neither is taken" yes \
	"$(header rid3 X-Request-Id | grep -Eq '^[0-9a-f]{32}$' && echo yes)"
check_eq "audit: bytes" 11 "$(audit hello 'j["bytes"]')"
check_eq "audit: method and path" "GET /www/hello.txt" "$(audit hello 'j["method"] + " " + j["path"]')"

# ---------------------------------------------------------------- SIGTERM
KIDS=$(pgrep -P "$IDG_PID" | tr '\n' ' ')
stop_idgated
check_eq "SIGTERM: supervisor exits 0" 0 "$STOP_RC"
left=""
for k in $KIDS; do kill -0 "$k" 2>/dev/null && left="$left $k"; done
check_eq "SIGTERM: no child left" "" "$left"
check_grep "SIGTERM: logged" "supervisor: stopped" "$IDG_LOG"

finish
