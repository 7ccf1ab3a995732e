#!/bin/sh
# Logs a site can rotate and read, and reloads that tell the truth (issue
# "ready for a real site", items 2 and 3): the audit line's host, user
# agent, authentication scheme and TLS; an access log in NCSA Combined
# format with the caller in its user field and nothing of a credential;
# both files created 0640 root:adm, an existing one left as it is (with a
# warning when everybody may read it); SIGUSR1 and `idgatectl reopen`
# move to a new file after the old one was renamed, without a reload:
# the same front end and worker, the counters unchanged, and idgated's
# children ignore a stray SIGUSR1 (systemctl kill sends it to them all);
# `idgatectl reload` (the unit's ExecReload) exits 1 with the file's
# FILE:LINE problems on stderr when the file is refused, and a reload
# asked for while another runs is answered when it has run.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/scripts/realm.sh"
need_root

PORT=$(free_port)
TPORT=$(free_port)
APORT=$(free_port)
B="http://localhost:$PORT"
S="https://localhost:$TPORT"
L="$T/logs"
AUDIT="$L/audit.jsonl"
ACCESS="$L/access.log"
SVC=idgate-test-$$
U=idgl$$
PASSWORD="Horse-Battery-$$"
CTL() { "$IDGATECTL" -s "$T/run/control" "$@"; }

realm_create "$T/kdc" || finish
realm_addprinc "${U}carol" krb-pw || finish
realm_addprinc "${U}ghost" krb-pw || finish # no local account
realm_addservice HTTP/localhost "$T/http.keytab" || finish
realm_kinit "${U}carol" krb-pw "$T/carol.cc" || finish
realm_kinit "${U}ghost" krb-pw "$T/ghost.cc" || finish
add_user "${U}carol"
echo "${U}carol:$PASSWORD" | chpasswd
add_pam_service "$SVC" "auth required pam_unix.so
account required pam_unix.so"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	-keyout "$T/tls.key" -out "$T/tls.crt" >/dev/null 2>&1 || { not_ok "openssl"; finish; }
mkdir -m 755 "$L"

write_conf() { # write_conf [MORE-SERVER-LINES]
	cat >"$T/idgate.conf" <<EOF
[server]
runtime_dir = $T/run
replay_cache_dir = $T/run/rcache
listen = 127.0.0.1:$PORT
listen = 127.0.0.1:$TPORT tls
tls_cert = $T/tls.crt
tls_key = $T/tls.key
user = idgate
keytab = $T/http.keytab
pam_service = $SVC
audit_log = $AUDIT
admin_listen = 127.0.0.1:$APORT
modules_dir = $MODULES_DIR
${1:-}
[pool default]
user = nobody
group = nogroup
[vdir /anon]
handler = whoami
auth = anonymous
[vdir /krb]
handler = whoami
auth = negotiate basic
EOF
}
mode_of() { stat -c '%a %U %G' "$1" 2>/dev/null || echo missing; }
# counter VDIR STATUS -- idgate_requests_total of that vdir and status
counter() {
	curl -s "http://127.0.0.1:$APORT/metrics" |
		awk -v k="idgate_requests_total{vdir=\"$1\",status=\"$2\"}" '$1 == k { print $2 }'
}
# status EXPR -- a field of idgatectl --json status (Python expression on j)
status() { CTL --json status >"$T/status.json" && json "$T/status.json" "$1"; }
pool_pid() { status 'j["pools"][0]["pid"]'; }
front_pid() { status 'j["frontend_pid"]'; }
# wait_file PATH -- up to 5 s for it to exist
wait_file() {
	i=0
	while [ ! -e "$1" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}
# wait_grep FIXED-STRING FILE -- up to 5 s for a line with it
wait_grep() {
	i=0
	while ! grep -qF -- "$1" "$2" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}

# ---------------------------------------------------------------- the audit line's new fields
write_conf
start_idgated "$T/idgate.conf" || finish
check_eq "a new audit log is created 0640 root:adm" "640 root adm" "$(mode_of "$AUDIT")"

check_eq "anonymous: 200" 200 "$(fetch anon "$B/anon" -A 'tlogs/1.0 "quoted"')"
check_eq "audit host: the Host header as received" "localhost:$PORT" "$(audit anon 'j["host"]')"
check_eq "audit user_agent: as received" 'tlogs/1.0 "quoted"' "$(audit anon 'j["user_agent"]')"
check_eq "audit auth: none for an anonymous vdir" None "$(audit anon 'j["auth"]')"
check_eq "audit tls: false on plain HTTP" False "$(audit anon 'j["tls"]')"

check_eq "Negotiate: 200" 200 \
	"$(KRB5CCNAME="$T/carol.cc" fetch neg "$B/krb" --negotiate -u : -A tlogs/neg)"
check_eq "audit auth: Negotiate" "Negotiate ${U}carol True" \
	"$(audit neg 'j["auth"] + " " + j["user"] + " " + str(j["user_agent"] == "tlogs/neg")')"

check_eq "Basic over TLS: 200" 200 "$(fetch basic "$S/krb" -k -u "${U}carol:$PASSWORD")"
check_eq "audit auth and tls: Basic, true" "Basic True localhost:$TPORT" \
	"$(audit basic 'j["auth"] + " " + str(j["tls"]) + " " + j["host"]')"

check_eq "a wrong password: 401" 401 "$(fetch wrong "$S/krb" -k -u "${U}carol:not-it")"
check_eq "audit auth: none when the credentials were refused" "None None" \
	"$(audit wrong 'str(j["auth"]) + " " + str(j["principal"])')"
check_eq "no credentials: 401" 401 "$(fetch chal "$B/krb" -H 'User-Agent:')"
check_eq "audit: no user agent is null, and no scheme" "None None localhost:$PORT" \
	"$(audit chal 'str(j["user_agent"]) + " " + str(j["auth"]) + " " + j["host"]')"

# ---------------------------------------------------------------- SIGUSR1: a new audit log after mv
C0=$(counter /anon 200)
W0=$(pool_pid)
F0=$(front_pid)
mv "$AUDIT" "$L/audit.jsonl.1"
SIZE1=$(wc -c <"$L/audit.jsonl.1")
kill -USR1 "$IDG_PID"
wait_file "$AUDIT"
check_eq "SIGUSR1: idgated goes on" yes "$(kill -0 "$IDG_PID" 2>/dev/null && echo yes)"
check_eq "SIGUSR1: a new audit log at the old path, 0640 root:adm" "640 root adm" \
	"$(mode_of "$AUDIT")"
check_grep "SIGUSR1: the reopening is logged" "reopened audit_log $AUDIT" "$IDG_LOG"
check_eq "after SIGUSR1: 200" 200 "$(fetch after1 "$B/anon")"
check_eq "the new line goes to the new file" 200 "$(audit after1 'j["status"]')"
check_eq "the old file stopped growing" "$SIZE1" "$(wc -c <"$L/audit.jsonl.1")"
check_eq "the counter kept its value (no new front end)" "$((C0 + 1))" "$(counter /anon 200)"
check_eq "the same worker serves" "$W0" "$(pool_pid)"
check_eq "the same front end serves" "$F0" "$(front_pid)"

# systemctl kill -s USR1 idgate signals every process of the unit: the
# front end, the authenticator, the worker, its spawner and the PAM helper
KIDS=$(echo $(pgrep -P "$IDG_PID") $(pgrep -P "$W0"))
check_eq "five children to signal" 5 "$(echo $KIDS | wc -w)"
# shellcheck disable=SC2086
kill -USR1 $KIDS
sleep 0.3
check_eq "a stray SIGUSR1 leaves every child alone" "$KIDS" \
	"$(for p in $KIDS; do kill -0 "$p" 2>/dev/null && printf '%s ' "$p"; done | sed 's/ $//')"
check_no_grep "and none died of it" "killed by signal 10|spawner died|closed the channel" "$IDG_LOG"

# ---------------------------------------------------------------- reloads that tell the truth
cp "$T/idgate.conf" "$T/good.conf"
printf 'bogus = 1\n' >>"$T/idgate.conf"
LINE=$(wc -l <"$T/idgate.conf")
CTL reload >"$T/reload.out" 2>"$T/reload.err"
check_eq "idgatectl reload of a refused file: exit 1" 1 $?
check_grep "with the file's FILE:LINE problem on stderr" \
	"^$T/idgate.conf:$LINE: \[vdir /krb\] unknown key 'bogus' \(not a vdir key" "$T/reload.err"
check_eq "and nothing on stdout" "" "$(cat "$T/reload.out")"
cp "$T/good.conf" "$T/idgate.conf"

# two reloads at once: the second runs after the first and is answered
# when it has run, not before (both connect while the supervisor is stopped)
kill -STOP "$IDG_PID"
CTL reload >"$T/r1.out" 2>&1 &
R1=$!
sleep 0.3
CTL reload >"$T/r2.out" 2>&1 &
R2=$!
sleep 0.3
kill -CONT "$IDG_PID"
wait $R1
RC1=$?
wait $R2
RC2=$?
check_eq "the first reload: done" "0 reloaded" "$RC1 $(cat "$T/r1.out")"
check_eq "the second one waits for its own reload and says so" "0 reloaded" "$RC2 $(cat "$T/r2.out")"
check_eq "both ran: generation 3 serves" 3 "$(status 'j["generation"]')"

# ---------------------------------------------------------------- the access log
stop_idgated
printf 'an old line\n' >"$ACCESS"
chmod 644 "$ACCESS"
write_conf "access_log = $ACCESS"
TZ=UTC
export TZ
start_idgated "$T/idgate.conf" || finish
check_eq "an existing access log is left as it is" "644 root root" "$(mode_of "$ACCESS")"
check_grep "with a warning that everybody may read it" \
	"access_log $ACCESS is readable by every user \\(mode 0644\\)" "$IDG_LOG"

D='\[[0-3][0-9]/[A-Z][a-z][a-z]/20[0-9][0-9]:[0-2][0-9]:[0-5][0-9]:[0-5][0-9] \+0000\]'
check_eq "anonymous: 200" 200 "$(fetch a1 "$B/anon?q=a%20b" -A 'tlogs "x"' -e 'http://ref.example/p?r=1')"
wait_grep "/anon?q=a%20b" "$ACCESS"
check_grep "Combined: anonymous, referer and user agent (quote escaped)" \
	"^127\.0\.0\.1 - - $D \"GET /anon\?q=a%20b HTTP/1\.1\" 200 $(body_size a1) \"http://ref\.example/p\?r=1\" \"tlogs \\\\x22x\\\\x22\"$" "$ACCESS"
check_eq "no credentials: 401" 401 "$(fetch a2 "$B/krb?two" -A tlogs)"
wait_grep "/krb?two" "$ACCESS"
check_grep "Combined: a 401, no user, no referer" \
	"^127\.0\.0\.1 - - $D \"GET /krb\?two HTTP/1\.1\" 401 $(body_size a2) \"-\" \"tlogs\"$" "$ACCESS"
check_eq "Negotiate: 200" 200 "$(KRB5CCNAME="$T/carol.cc" fetch a3 "$B/krb?three" --negotiate -u : -A tlogs)"
wait_grep "/krb?three" "$ACCESS"
check_grep "Combined: the mapped account in the user field" \
	"^127\.0\.0\.1 - ${U}carol $D \"GET /krb\?three HTTP/1\.1\" 200 $(body_size a3) \"-\" \"tlogs\"$" "$ACCESS"
check_eq "Negotiate without a local account: 200" 200 \
	"$(KRB5CCNAME="$T/ghost.cc" fetch a4 "$B/krb?four" --negotiate -u : -A tlogs)"
wait_grep "/krb?four" "$ACCESS"
check_grep "Combined: the principal when no account maps" \
	"^127\.0\.0\.1 - ${U}ghost@IDGATE\.TEST $D \"GET /krb\?four HTTP/1\.1\" 200 $(body_size a4) \"-\" \"tlogs\"$" "$ACCESS"
check_eq "Basic: 200" 200 "$(fetch a5 "$S/krb?five" -k -u "${U}carol:$PASSWORD" -A tlogs)"
wait_grep "/krb?five" "$ACCESS"
check_grep "Combined: Basic's account" \
	"^127\.0\.0\.1 - ${U}carol $D \"GET /krb\?five HTTP/1\.1\" 200 $(body_size a5) \"-\" \"tlogs\"$" "$ACCESS"
check_eq "HEAD: 200" 200 "$(fetch a6 "$B/anon?six" -I -A tlogs)"
wait_grep "/anon?six" "$ACCESS"
check_grep "Combined: '-' for a response without body bytes" \
	"^127\.0\.0\.1 - - $D \"HEAD /anon\?six HTTP/1\.1\" 200 - \"-\" \"tlogs\"$" "$ACCESS"
check_eq "a control character in the target: 400" 400 \
	"$(raw_status "$PORT" 'GET /anon\x01\x1b[31m HTTP/1.1\r\nHost: localhost\r\nUser-Agent: t\xe9\r\n\r\n')"
wait_grep '" 400 ' "$ACCESS"
check_grep "Combined: the request line as received, control bytes escaped" \
	"^127\.0\.0\.1 - - $D \"GET /anon\\\\x01\\\\x1B\[31m HTTP/1\.1\" 400 [0-9]+ \"-\" \"t\\\\xE9\"$" "$ACCESS"
check_no_grep "never a password" "$PASSWORD" "$ACCESS"
check_no_grep "never an Authorization header's content" \
	"Negotiate|Basic|$(printf '%s' "${U}carol:$PASSWORD" | base64)" "$ACCESS"
check_eq "one line per request, after the old one" "7 an old line" \
	"$(($(wc -l <"$ACCESS") - 1)) $(head -1 "$ACCESS")"

# ---------------------------------------------------------------- idgatectl reopen
C0=$(counter /anon 200)
W0=$(pool_pid)
F0=$(front_pid)
mv "$ACCESS" "$L/access.log.1"
mv "$AUDIT" "$L/audit.jsonl.1"
OLD_ACCESS=$(wc -c <"$L/access.log.1")
OLD_AUDIT=$(wc -c <"$L/audit.jsonl.1")
CTL reopen >"$T/reopen.out" 2>&1
check_eq "idgatectl reopen: exit 0" 0 $?
check_eq "and what it reopened" "reopened audit_log $AUDIT and access_log $ACCESS" \
	"$(cat "$T/reopen.out")"
check_eq "new files at the old paths, 0640 root:adm" "640 root adm 640 root adm" \
	"$(mode_of "$ACCESS") $(mode_of "$AUDIT")"
check_eq "after the reopen: 200" 200 "$(fetch r1 "$B/anon?after" -A tlogs)"
wait_grep "/anon?after" "$ACCESS"
check_grep "the access line goes to the new file" "\"GET /anon\?after HTTP/1\.1\" 200" "$ACCESS"
check_eq "the audit line too" /anon "$(audit r1 'j["path"]')"
check_eq "the old files stopped growing" "$OLD_ACCESS $OLD_AUDIT" \
	"$(wc -c <"$L/access.log.1") $(wc -c <"$L/audit.jsonl.1")"
check_eq "the counter kept its value" "$((C0 + 1))" "$(counter /anon 200)"
check_eq "the same worker and front end serve" "$W0 $F0" "$(pool_pid) $(front_pid)"
check_eq "and no reload happened: generation 1" 1 "$(status 'j["generation"]')"

# a directory that cannot hold the file: the old descriptors stay
mv "$L" "$T/logs.moved"
CTL reopen >"$T/reopen.out" 2>"$T/reopen.err"
check_eq "idgatectl reopen when the file cannot be opened: exit 1" 1 $?
check_grep "and why, on stderr" "cannot reopen audit_log $AUDIT: No such file or directory" "$T/reopen.err"
check_eq "requests are still served" 200 "$(fetch r2 "$B/anon?moved" -A tlogs)"
wait_grep "/anon?moved" "$T/logs.moved/access.log"
check_grep "and logged to the files still open" "\"GET /anon\?moved HTTP/1\.1\" 200" "$T/logs.moved/access.log"
mv "$T/logs.moved" "$L"

stop_idgated
check_eq "SIGTERM: exit 0" 0 "$STOP_RC"
finish
