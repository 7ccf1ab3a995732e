#!/bin/sh
# The cgi module with a real KDC, real accounts and curl --negotiate: the
# environment (RFC 3875 and identity variables, nothing inherited, no
# HTTP_PROXY, no Authorization), who the program runs as (the pool on a
# trusted vdir; the caller with the caller's groups on an impersonated
# one), bodies both ways, Status and Location, strict response heads
# (502), crashes (502, the pool keeps serving), the timeout (504, nothing
# left running), a client that goes away, stderr in the log, and suexec's
# refusals (403 with the audit reason).  Programs run by fd: the child's
# fd 3 is the very file that was checked.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/scripts/realm.sh"
need_root

PORT=$(free_port)
B="http://localhost:$PORT"
U=idgt$$

realm_create "$T/kdc" || finish
for p in alice bob; do realm_addprinc "$U$p" "pw-$p" || finish; done
realm_addservice HTTP/localhost "$T/http.keytab" || finish
add_group "${U}team"
add_user "${U}alice" -G "${U}team"
add_user "${U}bob"
for p in alice bob; do realm_kinit "$U$p" "pw-$p" "$T/$p.cc" || finish; done
ALICE=$(id -u "${U}alice")
ALICE_GID=$(id -g "${U}alice")
BOB=$(id -u "${U}bob")
TEAM=$(getent group "${U}team" | cut -d: -f3)
NOBODY=$(id -u nobody)
NOGROUP=$(getent group nogroup | cut -d: -f3)
VERSION=$("$IDGATED" -V | awk '{print $2}')
REALM_NAME=IDGATE.TEST

mkdir -p "$T/modules" "$T/bin" "$T/run"
cp "$MODULES_DIR/cgi.so" "$TESTMODS_DIR/tspawn.so" "$T/modules/"
cp "$HELPERS_DIR/showcreds" "$T/bin/"
chmod 755 "$T/bin/showcreds"
chmod 1777 "$T/run" # where a program leaves its pid for the test
head -c 10485760 /dev/urandom >"$T/10mb.bin"

# ---------------------------------------------------------------- the programs
C="$T/cgi"
mkdir -p "$C"
chmod 755 "$C"
# cgi NAME [MODE] -- a program from stdin, owned by root
cgi() {
	cat >"$C/$1"
	chmod "${2:-755}" "$C/$1"
}
cgi env.cgi <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\n\n'
echo "uid=$(id -u) gid=$(id -g)"
echo "groups=$(id -G | tr ' ' '\n' | sort -n | paste -sd' ')"
echo "cwd=$(pwd -P)"
echo "fd3=$(readlink /proc/$$/fd/3)"
env | sort | sed 's/^/env:/'
EOF
# what a program that is no shell sees (a shell drops the names it cannot
# name before its children see them)
cgi names.cgi <<'EOF'
#!/usr/bin/python3
import os
print("Content-Type: text/plain\n")
for k in sorted(os.environ):
    print("name:" + k)
EOF
cgi sha.cgi <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\n\n'
echo "$CONTENT_LENGTH $(sha256sum | cut -d' ' -f1)"
EOF
cgi talkfirst.cgi <<'EOF'
#!/bin/sh
printf 'Content-Type: application/octet-stream\n\n'
head -c 1048576 /dev/zero
sha256sum | cut -d' ' -f1
EOF
cgi echo.cgi <<'EOF'
#!/bin/sh
printf 'Content-Type: application/octet-stream\n\n'
exec cat
EOF
cgi status.cgi <<'EOF'
#!/bin/sh
printf 'Status: 201 Made\r\nContent-Type: text/plain\r\nX-Custom: yes\r\nServer: fake/1.0\r\nConnection: close\r\n\r\ncreated\n'
EOF
cgi redirect.cgi <<'EOF'
#!/bin/sh
printf 'Location: https://elsewhere.test/there?x=1\n\n'
EOF
cgi moved.cgi <<'EOF'
#!/bin/sh
printf 'Status: 301 Moved Permanently\nLocation: /new/place\nContent-Type: text/plain\n\n'
EOF
cgi garbage.cgi <<'EOF'
#!/bin/sh
echo "this is no header"
echo
echo "nor a body"
EOF
cgi nocontent.cgi <<'EOF'
#!/bin/sh
printf 'X-Only: 1\n\nbody\n'
EOF
cgi bighead.cgi <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\nX-Big: '
head -c 20000 /dev/zero | tr '\0' a
printf '\n\nbody\n'
EOF
cgi informational.cgi <<'EOF'
#!/bin/sh
printf 'Status: 100 Continue\nContent-Type: text/plain\n\n'
EOF
cgi badinterp.cgi <<'EOF'
#!/nonexistent/interpreter
EOF
cgi segv.cgi <<'EOF'
#!/bin/sh
kill -SEGV $$
EOF
cgi early.cgi <<'EOF'
#!/bin/sh
exit 3
EOF
cgi crashafter.cgi <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\n\npartial\n'
sleep 0.2
kill -SEGV $$
EOF
cgi short.cgi <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\nContent-Length: 10\n\nabc'
EOF
cgi long.cgi <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\nContent-Length: 5\n\nhello, and more'
EOF
cgi head.cgi <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\nContent-Length: 5\n\n'
[ "$REQUEST_METHOD" = HEAD ] || printf 'hello'
echo "ran for $REQUEST_METHOD" >&2
EOF
cgi sleep.cgi <<EOF
#!/bin/sh
sleep 7$$
EOF
cgi upload.cgi <<EOF
#!/bin/sh
echo \$\$ >$T/run/upload.pid
cat >/dev/null
sleep 8$$
EOF
cgi linger.cgi <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\nContent-Length: 3\n\nok\n'
exec >&- 2>&-
sleep 1
EOF
cgi silent.cgi <<EOF
#!/bin/sh
echo \$\$ >$T/run/silent.pid
exec sleep 9$$
EOF
cgi background.cgi <<EOF
#!/bin/sh
sleep 6$$ >/dev/null 2>&1 </dev/null &
printf 'Content-Type: text/plain\\n\\nbye\\n'
EOF
cgi bgout.cgi <<EOF
#!/bin/sh
printf 'Content-Type: text/plain\\n\\nstill open\\n'
sleep 5$$ &
EOF
cgi stderr.cgi <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\n\nok\n'
printf 'first line\r\nevil\033[31m red\n' >&2
head -c 100000 /dev/zero | tr '\0' x | fold -w 99 >&2
exit 4
EOF
# what suexec refuses
cgi gw.cgi 775 <"$C/env.cgi"
cgi setuid.cgi 4755 <"$C/env.cgi"
cgi noexec.cgi 644 <"$C/env.cgi"
cgi other.cgi <"$C/env.cgi"
chown "${U}bob" "$C/other.cgi"
ln -s /usr/bin/id "$C/link.cgi"
ln -s .. "$C/up"
mkdir -p "$C/wdir" "$C/sub"
chmod 777 "$C/wdir"
cp -p "$C/env.cgi" "$C/wdir/x.cgi"
# alice's own program, for her alone
cgi mine.cgi 700 <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\n\nmine, run by %s\n' "$(id -u)"
EOF
chown "${U}alice" "$C/mine.cgi"
# a directory that only the team may enter: the kernel checks the caller
mkdir -p "$C/teamdir"
cp -p "$C/env.cgi" "$C/teamdir/t.cgi"
chgrp "${U}team" "$C/teamdir"
chmod 750 "$C/teamdir"

cat >"$T/idgate.conf" <<EOF
[server]
runtime_dir = $T/idg-run
replay_cache_dir = $T/idg-run/rcache
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
[vdir /cgi]
handler = cgi
root = $C
[vdir /tcgi]
handler = cgi
root = $C
timeout = 1s
[vdir /icgi]
pool = imp
handler = cgi
root = $C
impersonate = true
[pool one]
user = nobody
threads = 1
[vdir /one]
pool = one
handler = cgi
root = $C
[vdir /spawn]
handler = tspawn
program = $T/bin/showcreds
EOF
IDGATE_CANARY=inherited start_idgated "$T/idgate.conf" || finish
neg() { n=$1; u=$2; url=$3; shift 3; KRB5CCNAME="$T/$u.cc" fetch "$n" "$url" --negotiate -u : "$@"; }
# envvar NAME VAR -- a variable the program saw, or "(unset)"
envvar() { grep -m1 "^env:$2=" "$T/$1.body" | sed "s/^env:$2=//" | grep . || echo "(unset)"; }
line() { grep -m1 "^$2=" "$T/$1.body" | sed "s/^$2=//"; }

# ---------------------------------------------------------------- the environment
check_eq "trusted: 200" 200 "$(neg e1 alice "$B/cgi/env.cgi/extra/path?q=1&r=%41" \
	-H 'X-Test: hello' -H 'Proxy: http://evil.test:3128' -H 'X_Sneaky: 1')"
check_eq "trusted: runs as the pool" "uid=$NOBODY gid=$NOGROUP" "$(sed -n 1p "$T/e1.body")"
check_eq "trusted: the pool's groups" "$NOGROUP" "$(line e1 groups)"
check_eq "GATEWAY_INTERFACE" CGI/1.1 "$(envvar e1 GATEWAY_INTERFACE)"
check_eq "SERVER_SOFTWARE" "idgate/$VERSION" "$(envvar e1 SERVER_SOFTWARE)"
check_eq "SERVER_NAME from Host" localhost "$(envvar e1 SERVER_NAME)"
check_eq "SERVER_PORT from Host" "$PORT" "$(envvar e1 SERVER_PORT)"
check_eq "SERVER_PROTOCOL" HTTP/1.1 "$(envvar e1 SERVER_PROTOCOL)"
check_eq "REQUEST_METHOD" GET "$(envvar e1 REQUEST_METHOD)"
check_eq "SCRIPT_NAME" /cgi/env.cgi "$(envvar e1 SCRIPT_NAME)"
check_eq "PATH_INFO" /extra/path "$(envvar e1 PATH_INFO)"
check_eq "PATH_TRANSLATED" "$C/extra/path" "$(envvar e1 PATH_TRANSLATED)"
check_eq "QUERY_STRING, raw" "q=1&r=%41" "$(envvar e1 QUERY_STRING)"
check_eq "REQUEST_URI" "/cgi/env.cgi/extra/path?q=1&r=%41" "$(envvar e1 REQUEST_URI)"
check_eq "SCRIPT_FILENAME" "$C/env.cgi" "$(envvar e1 SCRIPT_FILENAME)"
check_eq "DOCUMENT_ROOT" "$C" "$(envvar e1 DOCUMENT_ROOT)"
check_eq "REMOTE_ADDR" 127.0.0.1 "$(envvar e1 REMOTE_ADDR)"
check_eq "REMOTE_PORT is a port" yes \
	"$(envvar e1 REMOTE_PORT | grep -Eq '^[1-9][0-9]{0,4}$' && echo yes)"
check_eq "PATH is fixed" /usr/local/bin:/usr/bin:/bin "$(envvar e1 PATH)"
check_eq "HTTP_X_TEST" hello "$(envvar e1 HTTP_X_TEST)"
check_eq "HTTP_HOST" "localhost:$PORT" "$(envvar e1 HTTP_HOST)"
check_eq "REMOTE_USER is the account" "${U}alice" "$(envvar e1 REMOTE_USER)"
check_eq "GSS_NAME is the principal" "${U}alice@$REALM_NAME" "$(envvar e1 GSS_NAME)"
check_eq "IDGATE_LEVEL" impersonation "$(envvar e1 IDGATE_LEVEL)"
check_eq "IDGATE_REQUEST_ID is the X-Request-Id" "$(header e1 X-Request-Id)" \
	"$(envvar e1 IDGATE_REQUEST_ID)"
check_eq "AUTH_TYPE" Negotiate "$(envvar e1 AUTH_TYPE)"
check_eq "no KRB5CCNAME without delegated credentials" "(unset)" "$(envvar e1 KRB5CCNAME)"
check_eq "no HTTP_PROXY (httpoxy)" "(unset)" "$(envvar e1 HTTP_PROXY)"
check_eq "no HTTP_AUTHORIZATION" "(unset)" "$(envvar e1 HTTP_AUTHORIZATION)"
check_no_grep "no Negotiate token anywhere" "Negotiate [A-Za-z0-9+/=]{8}" "$T/e1.body"
check_eq "no HTTP_X_SNEAKY (a name with '_')" "(unset)" "$(envvar e1 HTTP_X_SNEAKY)"
# found by tests/fuzz/fuzz_cgi_env: a token may hold bytes no shell can name
check_eq "names: 200" 200 "$(neg e1n alice "$B/cgi/names.cgi" -H 'X.Dot: 1' -H 'X$Y: 2' \
	-H 'X-Fine: 3')"
check_eq "only names a shell can name (no X.Dot, X\$Y)" "HTTP_X_FINE" \
	"$(sed -n 's/^name:\(HTTP_X.*\)/\1/p' "$T/e1n.body" | paste -sd' ')"
W1=$(pgrep -P "$IDG_PID" -x idgate-pool | head -1)
check_eq "idgated's pool workers do have IDGATE_CANARY" 1 \
	"$(tr '\0' '\n' <"/proc/$W1/environ" | grep -c '^IDGATE_CANARY=inherited$')"
check_eq "but the program does not: nothing inherited" "(unset)" "$(envvar e1 IDGATE_CANARY)"
check_eq "exactly these variables (PWD is the shell's own)" \
	"AUTH_TYPE DOCUMENT_ROOT GATEWAY_INTERFACE GSS_NAME HTTP_ACCEPT HTTP_HOST HTTP_USER_AGENT HTTP_X_TEST IDGATE_LEVEL IDGATE_REQUEST_ID PATH PATH_INFO PATH_TRANSLATED PWD QUERY_STRING REMOTE_ADDR REMOTE_PORT REMOTE_USER REQUEST_METHOD REQUEST_URI SCRIPT_FILENAME SCRIPT_NAME SERVER_NAME SERVER_PORT SERVER_PROTOCOL SERVER_SOFTWARE" \
	"$(sed -n 's/^env:\([A-Z0-9_]*\)=.*/\1/p' "$T/e1.body" | sort | paste -sd' ')"
check_eq "working directory: the program's" "$C" "$(line e1 cwd)"
check_eq "fd 3 is the program that was checked" "$C/env.cgi" "$(line e1 fd3)"

check_eq "in a subdirectory: 200" 200 "$(neg e2 alice "$B/icgi/teamdir/t.cgi")"
check_eq "in a subdirectory: its directory" "$C/teamdir" "$(line e2 cwd)"
check_eq "in a subdirectory: SCRIPT_NAME" /icgi/teamdir/t.cgi "$(envvar e2 SCRIPT_NAME)"
check_eq "no PATH_INFO: empty, no PATH_TRANSLATED" "|(unset)" \
	"$(grep '^env:PATH_INFO=' "$T/e2.body" | sed 's/^env:PATH_INFO=//')|$(envvar e2 PATH_TRANSLATED)"

for m in POST PUT DELETE OPTIONS PATCH; do
	check_eq "$m runs it" "200 $m" \
		"$(neg "m$m" alice "$B/cgi/env.cgi" -X "$m") $(envvar "m$m" REQUEST_METHOD)"
done
check_eq "a request body: CONTENT_TYPE and CONTENT_LENGTH" "200 text/x-test 5" \
	"$(neg ct alice "$B/cgi/env.cgi" -H 'Content-Type: text/x-test' --data-binary hello) $(envvar ct CONTENT_TYPE) $(envvar ct CONTENT_LENGTH)"

KRB5CCNAME="$T/alice.cc" $PY "$top_srcdir/tests/integration/gssclient.py" get "$B/cgi/env.cgi" \
	--flags identify >"$T/ident.out"
check_eq "an identification-level client: IDGATE_LEVEL" "200 identification ${U}alice" \
	"$(head -1 "$T/ident.out") $(sed -n 's/^env:IDGATE_LEVEL=//p' "$T/ident.out") $(sed -n 's/^env:REMOTE_USER=//p' "$T/ident.out")"

# ---------------------------------------------------------------- as the caller
check_eq "impersonated: 200" 200 "$(neg i1 alice "$B/icgi/env.cgi")"
check_eq "impersonated: alice's uid and gid" "uid=$ALICE gid=$ALICE_GID" "$(sed -n 1p "$T/i1.body")"
check_eq "impersonated: alice's groups" "$(printf '%s\n' "$ALICE_GID" "$TEAM" | sort -n | paste -sd' ')" \
	"$(line i1 groups)"
check_eq "impersonated: REMOTE_USER" "${U}alice" "$(envvar i1 REMOTE_USER)"
check_eq "impersonated: fd 3" "$C/env.cgi" "$(line i1 fd3)"
check_eq "impersonated, bob: bob's uid" "200 uid=$BOB gid=$(id -g "${U}bob")" \
	"$(neg i2 bob "$B/icgi/env.cgi") $(sed -n 1p "$T/i2.body")"
check_eq "alice's 0700 program, run as alice" "200 mine, run by $ALICE" \
	"$(neg i3 alice "$B/icgi/mine.cgi") $(cat "$T/i3.body")"
check_eq "alice's program, asked by bob: 403" 403 "$(neg i4 bob "$B/icgi/mine.cgi")"
check_eq "alice's program, asked by bob: reason" \
	"cgi: $C/mine.cgi is owned by uid $ALICE, not by root or uid $BOB" "$(audit i4 'j["reason"]')"
check_eq "alice's program on the trusted vdir: 403" 403 "$(neg i5 alice "$B/cgi/mine.cgi")"
check_eq "alice's program on the trusted vdir: reason" \
	"cgi: $C/mine.cgi is owned by uid $ALICE, not by root or uid $NOBODY" "$(audit i5 'j["reason"]')"
check_eq "the team's directory, bob: 403" 403 "$(neg i6 bob "$B/icgi/teamdir/t.cgi")"
check_eq "the team's directory, bob: the kernel said no" \
	"cgi: $C/teamdir/t.cgi: permission denied" "$(audit i6 'j["reason"]')"
check_eq "the team's directory, as the pool: 403" 403 "$(neg i7 alice "$B/cgi/teamdir/t.cgi")"

# ---------------------------------------------------------------- bodies, Status, Location
check_eq "a 10 MB body through the program" "200 10485760 $(sha256sum <"$T/10mb.bin" | cut -d' ' -f1)" \
	"$(neg b1 alice "$B/cgi/sha.cgi" --data-binary "@$T/10mb.bin") $(cat "$T/b1.body")"
check_eq "impersonated too" "200 10485760 $(sha256sum <"$T/10mb.bin" | cut -d' ' -f1)" \
	"$(neg b2 bob "$B/icgi/sha.cgi" --data-binary "@$T/10mb.bin") $(cat "$T/b2.body")"
# it writes 1 MiB before it reads: the pipes must move both ways at once
SHA=$(sha256sum <"$T/10mb.bin" | cut -d' ' -f1)
check_eq "a program that talks before it listens: no deadlock" "200 1048641 $SHA" \
	"$(neg tf alice "$B/cgi/talkfirst.cgi" --data-binary "@$T/10mb.bin" -m 60) $(body_size tf) $(tail -c 65 "$T/tf.body")"
check_eq "10 MB echoed back as it comes" "200 same" \
	"$(neg echo alice "$B/cgi/echo.cgi" --data-binary "@$T/10mb.bin" -m 60) $(cmp -s "$T/10mb.bin" "$T/echo.body" && echo same)"
check_eq "Status: 201" 201 "$(neg s1 alice "$B/cgi/status.cgi")"
check_eq "Status: its headers and body" "yes|text/plain|created" \
	"$(header s1 X-Custom)|$(header s1 Content-Type)|$(cat "$T/s1.body")"
check_eq "Status: Server and Connection are not the program's" "|" \
	"$(header s1 Server)|$(header s1 Connection)"
check_eq "Location alone: 302" "302 https://elsewhere.test/there?x=1" \
	"$(neg l1 alice "$B/cgi/redirect.cgi") $(header l1 Location)"
check_eq "Location with Status 301" "301 /new/place" "$(neg l2 alice "$B/cgi/moved.cgi") $(header l2 Location)"
check_eq "Content-Length: passed" "200 5 hello" \
	"$(neg cl1 alice "$B/cgi/head.cgi") $(header cl1 Content-Length) $(cat "$T/cl1.body")"
check_eq "more output than Content-Length: cut to it" "200 5 hello" \
	"$(neg cl2 alice "$B/cgi/long.cgi") $(header cl2 Content-Length) $(cat "$T/cl2.body")"
check_eq "HEAD: the head, with the program's length" "200 5" \
	"$(neg h1 alice "$B/cgi/head.cgi" -I) $(header h1 Content-Length)"
# with -I, curl writes the heads where the body would go: no body is there
check_no_grep "HEAD: no body" "hello" "$T/h1.body"
wait_log "ran for HEAD"
check_grep "HEAD: the program ran" "cgi: /cgi/head.cgi: stderr: ran for HEAD" "$IDG_LOG"

# ---------------------------------------------------------------- bad programs
bad() { # NAME URL STATUS REASON
	check_eq "$1: $3" "$3" "$(neg "$1" alice "$2")"
	check_eq "$1: reason" "$4" "$(audit "$1" 'j["reason"]')"
}
bad garbage "$B/cgi/garbage.cgi" 502 "cgi: /cgi/garbage.cgi: malformed response header line"
bad nocontent "$B/cgi/nocontent.cgi" 502 \
	"cgi: /cgi/nocontent.cgi: no Content-Type or Location in the response head"
bad bighead "$B/cgi/bighead.cgi" 502 "cgi: /cgi/bighead.cgi: response head larger than 16384 bytes"
bad informational "$B/cgi/informational.cgi" 502 \
	"cgi: /cgi/informational.cgi: Status 100 is not a final status (200-599)"
bad early "$B/cgi/early.cgi" 502 "cgi: /cgi/early.cgi: exited with status 3 before its response head"
bad segv "$B/cgi/segv.cgi" 502 "cgi: /cgi/segv.cgi: killed by signal 11 before its response head"
bad badinterp "$B/cgi/badinterp.cgi" 500 "spawn $C/badinterp.cgi: execveat: No such file or directory"
check_eq "after a crash, the pool serves on" 200 "$(neg after alice "$B/cgi/env.cgi")"
bad isegv "$B/icgi/segv.cgi" 502 "cgi: /icgi/segv.cgi: killed by signal 11 before its response head"
check_eq "and the impersonating pool too" 200 "$(neg iafter alice "$B/icgi/env.cgi")"

# cut NAME URL -- the status and curl's exit code (18: the body was cut)
cut() { code=$(neg "$1" alice "$2"); echo "$code $?"; }
check_eq "a crash after the head: the connection is cut" "200 18" "$(cut crash "$B/cgi/crashafter.cgi")"
check_eq "a crash after the head: reason" \
	"cgi: /cgi/crashafter.cgi: killed by signal 11 after its response head" "$(audit crash 'j["reason"]')"
check_eq "short of its Content-Length: cut" "200 18" "$(cut short "$B/cgi/short.cgi")"
check_eq "short of its Content-Length: reason" \
	"cgi: /cgi/short.cgi: ended after 3 of the 10 bytes of its Content-Length" "$(audit short 'j["reason"]')"

check_eq "a program that outlives timeout = 1s: 504" 504 "$(neg slow alice "$B/tcgi/sleep.cgi")"
check_eq "timeout: reason" "cgi: /tcgi/sleep.cgi: timed out after 1 s" "$(audit slow 'j["reason"]')"
check_eq "timeout: its whole process group is gone" "" "$(pgrep -f "^sleep 7$$\$")"

# what a program leaves behind in its process group dies with the request
check_eq "a program that leaves a process behind: 200" "200 bye" \
	"$(neg bg alice "$B/cgi/background.cgi") $(cat "$T/bg.body")"
i=0
while [ -n "$(pgrep -f "^sleep 6$$\$")" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check_eq "what it left behind was killed" "" "$(pgrep -f "^sleep 6$$\$")"
check_eq "one that keeps stdout open: cut at the timeout" "200 18" "$(cut bgout "$B/tcgi/bgout.cgi")"
check_eq "one that keeps stdout open: reason" "cgi: /tcgi/bgout.cgi: timed out after 1 s" \
	"$(audit bgout 'j["reason"]')"
check_eq "and what it left behind was killed" "" "$(pgrep -f "^sleep 5$$\$")"

# stderr, line by line, control characters shown as '?', capped
check_eq "stderr: the response is fine" "200 ok" "$(neg err alice "$B/cgi/stderr.cgi") $(cat "$T/err.body")"
wait_log "cgi: /cgi/stderr.cgi: exited with status 4"
check_grep "stderr: a line in the log" "request [0-9a-f]+: cgi: /cgi/stderr.cgi: stderr: first line\$" "$IDG_LOG"
check_grep "stderr: no control character reaches the log" "cgi: /cgi/stderr.cgi: stderr: evil\?\[31m red\$" "$IDG_LOG"
check_eq "stderr: capped, said once" 1 "$(grep -c 'cgi: /cgi/stderr.cgi: stderr truncated after' "$IDG_LOG")"
# 25 bytes in the first two lines, then 100 per line of x: 655 lines fit in 64 KiB
check_eq "stderr: 64 KiB of it, not more" 655 "$(grep -c 'cgi: /cgi/stderr.cgi: stderr: x' "$IDG_LOG")"
check_grep "a non-zero exit is logged" "cgi: /cgi/stderr.cgi: exited with status 4" "$IDG_LOG"

# a client that goes away while its body is still on the way
rm -f "$T/run/upload.pid"
KRB5CCNAME="$T/alice.cc" curl -s -o /dev/null --negotiate -u : --limit-rate 1M -m 2 \
	--data-binary "@$T/10mb.bin" "$B/cgi/upload.cgi"
check_eq "client abort: curl gave up" 28 "$?"
wait_log "cgi: /cgi/upload.cgi: the client went away"
check_grep "client abort: noticed" "cgi: /cgi/upload.cgi: the client went away" "$IDG_LOG"
UPID=$(cat "$T/run/upload.pid" 2>/dev/null)
i=0
while [ -n "$UPID" ] && kill -0 "$UPID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check_eq "client abort: the program was killed" "gone" \
	"$([ -n "$UPID" ] && ! kill -0 "$UPID" 2>/dev/null && echo gone)"
check_eq "client abort: nothing of it runs" "" "$(pgrep -f "^sleep 8$$\$")"

# keep-alive: a small answer ends the exchange while the handler still
# waits for its program; the next request on the connection is the next
# request, not a sign that the client left (nor a broken protocol)
KRB5CCNAME="$T/alice.cc" curl -s --negotiate -u : -o "$T/ka_#1.body" \
	-w '%{http_code} %{num_connects}\n' "$B/cgi/head.cgi?[1-8]" >"$T/ka.out"
check_eq "eight small answers on one connection" "200 1 200 0 200 0 200 0 200 0 200 0 200 0 200 0" \
	"$(tr '\n' ' ' <"$T/ka.out" | sed 's/ $//')"
# the same on one channel: the answer is complete while the program still
# runs, and the channel already carries the next request
neg l1 alice "$B/one/linger.cgi" >"$T/l1.st" &
L1=$!
sleep 0.3
check_eq "one thread: a second request while the first program lingers" "200 ok" \
	"$(neg l2 alice "$B/one/linger.cgi") $(cat "$T/l2.body")"
wait $L1
check_eq "and the first one" "200 ok" "$(cat "$T/l1.st") $(cat "$T/l1.body")"
check_no_grep "no worker saw a broken protocol" "broke the protocol" "$IDG_LOG"

# a client that goes away after its whole request, from a program that
# prints nothing: the late abort reaches it long before its timeout (60 s)
rm -f "$T/run/silent.pid"
KRB5CCNAME="$T/alice.cc" curl -s -o /dev/null --negotiate -u : -m 1 "$B/cgi/silent.cgi"
check_eq "client gone after its request: curl gave up" 28 "$?"
wait_log "cgi: /cgi/silent.cgi: the client went away"
check_grep "client gone after its request: noticed" "cgi: /cgi/silent.cgi: the client went away" \
	"$IDG_LOG"
SPID=$(cat "$T/run/silent.pid" 2>/dev/null)
i=0
while [ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
check_eq "client gone after its request: the program was killed at once" "gone" \
	"$([ -n "$SPID" ] && ! kill -0 "$SPID" 2>/dev/null && echo gone)"
check_eq "and the pool serves the next request" 200 "$(neg after alice "$B/cgi/env.cgi")"

# ---------------------------------------------------------------- suexec's refusals
refused() { # NAME PATH STATUS REASON
	check_eq "$1: $3" "$3" "$(neg "$1" alice "$B$2")"
	check_eq "$1: reason" "$4" "$(audit "$1" 'j["reason"]')"
}
refused gw /cgi/gw.cgi 403 "cgi: $C/gw.cgi is writable by group or others"
refused wdir /cgi/wdir/x.cgi 403 "cgi: directory $C/wdir is writable by group or others"
refused setuid /cgi/setuid.cgi 403 "cgi: $C/setuid.cgi has the setuid or setgid bit"
refused other /cgi/other.cgi 403 "cgi: $C/other.cgi is owned by uid $BOB, not by root or uid $NOBODY"
refused iother /icgi/other.cgi 403 "cgi: $C/other.cgi is owned by uid $BOB, not by root or uid $ALICE"
refused noexec /cgi/noexec.cgi 403 "cgi: $C/noexec.cgi is not executable by uid $NOBODY"
refused link /cgi/link.cgi 403 "cgi: $C/link.cgi is a symbolic link"
refused up /cgi/up/cgi/env.cgi 403 "cgi: $C/up is a symbolic link"
refused dir /cgi/sub 404 "cgi: $C/sub names a directory, not a program"
refused vdir /cgi 404 "cgi: $C names a directory, not a program"
refused missing /cgi/missing.cgi/x 404 "cgi: $C/missing.cgi: not found"
# ".." never reaches a module: idgated resolves it, or refuses what climbs out
check_eq "'..' that climbs out of /: 400" 400 \
	"$(neg dots alice "$B/cgi/../../../etc/passwd" --path-as-is)"
check_eq "'..' inside: resolved before routing" "200 /cgi/env.cgi" \
	"$(neg dots2 alice "$B/cgi/sub/../env.cgi" --path-as-is) $(envvar dots2 SCRIPT_NAME)"
check_eq "'%2e%2e' that climbs out: 400" 400 "$(neg dots3 alice "$B/cgi/%2e%2e/%2e%2e/etc/passwd")"

# ---------------------------------------------------------------- configuration
cat >"$T/bad.conf" <<EOF
[server]
listen = 127.0.0.1:$PORT
user = idgate
pam_service =
audit_log =
modules_dir = $T/modules
[pool default]
user = nobody
group = nogroup
[vdir /a]
handler = cgi
root = $C
timeout = 0s
[vdir /b]
handler = cgi
root = $T/nonexistent
EOF
KRB5_KTNAME="FILE:$T/http.keytab" "$IDGATED" -t -c "$T/bad.conf" >"$T/bad.out" 2>"$T/bad.err"
check_eq "idgated -t: a bad cgi vdir fails" 1 "$?"
check_eq "idgated -t: each problem, with its line" \
	"$T/bad.conf:13: [vdir /a] handler 'cgi': timeout: must be between 1ms and 24d|$T/bad.conf:16: [vdir /b] handler 'cgi': root: $T/nonexistent: No such file or directory" \
	"$(paste -sd'|' "$T/bad.err")"
head -9 "$T/bad.conf" >"$T/noroot.conf"
printf '[vdir /c]\nhandler = cgi\n' >>"$T/noroot.conf"
check_eq "idgated -t: root is required" \
	"$T/noroot.conf:10: [vdir /c] handler 'cgi' needs key 'root' (directory of the programs)" \
	"$(KRB5_KTNAME="FILE:$T/http.keytab" "$IDGATED" -t -c "$T/noroot.conf" 2>&1)"

# ---------------------------------------------------------------- exec_fd, and nothing left behind
check_eq "spawn by fd: the opened file runs, not the path" 200 "$(neg fd1 alice "$B/spawn?fd")"
head -1 "$T/fd1.body" >"$T/fd1.json"
check_eq "spawn by fd: fds 0-3, 3 being the program" "[0, 1, 2, 3]" "$(json "$T/fd1.json" 'sorted(j["fds"])')"
check_eq "spawn by fd: exit status" exit=0 "$(sed -n 2p "$T/fd1.body")"
check_eq "spawn by path still works" "200 [0, 1, 2]" \
	"$(neg fd2 alice "$B/spawn") $(head -1 "$T/fd2.body" | $PY -c 'import json,sys; print(sorted(json.load(sys.stdin)["fds"]))')"

for w in $(pgrep -P "$IDG_PID" -x idgate-pool); do
	s=$(pgrep -P "$w" -x idgate-spawn)
	check_eq "the spawner of pool worker $w: no child left, no zombie" "yes " \
		"$([ -n "$s" ] && echo yes) $(pgrep -P "$s")"
done
finish
