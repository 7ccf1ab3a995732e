#!/bin/sh
# The supervisor restarts a front end that dies, on the same listening
# sockets, with new pool workers and a new PAM helper (the old ones finish
# what they were doing and exit: their channels led to the dead front
# end).  kill -9 of the front end under load (200 requests, 4 clients,
# anonymous and Negotiate against a real KDC): idgated goes on, only the
# requests in flight fail, every later one is served; the log says who
# died, of what, and that a new one serves.  A front end that dies at
# once again and again is restarted at once twice, then after 1 s, 2 s,
# 4 s ... (it does not spin), and serves as soon as it can start.  A
# reload whose new front end dies before it is ready leaves the old
# configuration serving, and idgatectl reload says why.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/scripts/realm.sh"
need_root

PORT=$(free_port)
TPORT=$(free_port)
SOCK="$T/run/control"
SVC=idgate-test-$$
U=idgt$$
H="http://localhost:$PORT"
S="https://localhost:$TPORT"

realm_create "$T/kdc" || finish
realm_addprinc "${U}alice" pw-alice || finish
realm_addservice HTTP/localhost "$T/http.keytab" || finish
realm_kinit "${U}alice" pw-alice "$T/alice.cc" || finish
add_user "${U}alice"
add_pam_service "$SVC" "account required pam_unix.so"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	-keyout "$T/tls.key" -out "$T/tls.crt" >/dev/null 2>&1 || { not_ok "openssl"; finish; }
cp "$T/tls.key" "$T/good.key"
echo "not a key" >"$T/bad.key"
mkdir -p "$T/www"
echo "the old configuration" >"$T/www/old.txt"

write_conf() { # write_conf TLS-KEY EXTRA-VDIR
	cat >"$T/idgate.conf" <<EOF
[server]
runtime_dir = $T/run
replay_cache_dir = $T/run/rcache
listen = 127.0.0.1:$PORT
listen = 127.0.0.1:$TPORT tls
tls_cert = $T/tls.crt
tls_key = $1
user = idgate
keytab = $T/http.keytab
pam_service = $SVC
audit_log = $T/audit.jsonl
modules_dir = $MODULES_DIR
control_socket = $SOCK
[pool default]
user = nobody
group = nogroup
[pool files]
user = nobody
group = nogroup
[vdir /who]
handler = whoami
[vdir /anon]
handler = whoami
auth = anonymous
$2
EOF
}
write_conf "$T/tls.key" "[vdir /old]
pool = files
handler = static
root = $T/www
auth = anonymous"
start_idgated "$T/idgate.conf" || finish
code() { curl -s -k -m 20 -o /dev/null -w '%{http_code}' "$@"; }
neg() { KRB5CCNAME="$T/alice.cc" code --negotiate -u : "$@"; }
CTL() { timeout 20 "$IDGATECTL" -s "$SOCK" "$@"; }
fe_pid() { child_pid idgate-front; }
# wait_ready_line -- until the log says a restarted front end serves (20 s)
wait_ready_line() {
	i=0
	while ! grep -q "front end (pid [0-9]*) serves again" "$IDG_LOG" && [ $i -lt 200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
ready_lines() { grep -c "supervisor: front end (pid [0-9]*) serves again" "$IDG_LOG"; }
# a front end that lived less than 10 s counts as dying at once: its Nth
# such death in a row says so (respawn.h)
WITHIN="(, [0-9]+ times? in a row within 10 s of its start)?"
# death_end N -- how the log line of the Nth death at once in a row ends
death_end() {
	case $1 in
	1) echo "1 time in a row within 10 s of its start; restarting it" ;;
	2) echo "2 times in a row within 10 s of its start; restarting it" ;;
	*) echo "$1 times in a row within 10 s of its start; restarting it in $((1 << ($1 - 3))) s" ;;
	esac
}

check_eq "anonymous: 200" 200 "$(code "$H/anon")"
check_eq "Negotiate: 200" 200 "$(neg "$H/who")"
check_eq "the old configuration's file" "the old configuration" "$(curl -s "$H/old/old.txt")"
# ---------------------------------------------------------------- a reload whose front end dies
FE0=$(fe_pid)
write_conf "$T/bad.key" "[vdir /new]
handler = whoami
auth = anonymous"
CTL reload >"$T/reload.out" 2>"$T/reload.err"
check_eq "idgatectl reload: exit 1" 1 $?
check_grep "and says the new front end died before it was ready" \
	"^idgatectl: reload failed: the new configuration did not start: its front end \(pid [0-9]+\) exited with status 1 before it was ready; the running configuration keeps serving \(see idgated's log\)\$" \
	"$T/reload.err"
check_grep "the log says why the new front end died" "frontend: error: cannot serve 127.0.0.1:$TPORT tls" \
	"$IDG_LOG"
check_grep "and that the old configuration serves" \
	"supervisor: error: reload failed: the new configuration did not start: its front end \(pid [0-9]+\) exited with status 1 before it was ready; the running one keeps serving" \
	"$IDG_LOG"
check_eq "idgated still runs" yes "$(kill -0 "$IDG_PID" 2>/dev/null && echo yes || echo no)"
check_eq "the same front end serves" "$FE0" "$(fe_pid)"
check_eq "the old configuration's answer: its file" "200 the old configuration" \
	"$(fetch old "$H/old/old.txt") $(cat "$T/old.body")"
check_eq "the new configuration's vdir does not exist" 404 "$(code "$H/new")"
kill -HUP "$IDG_PID"
i=0
while [ "$(grep -c 'reload failed' "$IDG_LOG")" -lt 2 ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
check_eq "SIGHUP: the same (the reload failed, the old front end serves)" "2 $FE0 200" \
	"$(grep -c 'supervisor: error: reload failed: the new configuration did not start: its front end' "$IDG_LOG") $(fe_pid) $(code "$H/old/old.txt")"
FE1=$(fe_pid)
PAM1=$(child_pid idgate-pam)
AN1=$(child_pid idgate-authn)
CTL --json status >"$T/st1.json"
W1=$(json "$T/st1.json" '" ".join(str(p["pid"]) for p in j["pools"])')

# ---------------------------------------------------------------- kill -9 under load
# 200 requests over 4 clients, odd ones anonymous, even ones Negotiate;
# "KIND STATUS" per line, in the order they end
seq 1 200 | xargs -P 4 -I{} sh -c 'if [ $(({} % 2)) = 0 ]; then
	KRB5CCNAME="$2" curl -s -m 20 -o /dev/null -w "neg %{http_code}\n" --negotiate -u : "$1/who"
else
	curl -s -m 20 -o /dev/null -w "anon %{http_code}\n" "$1/anon"
fi' _ "$H" "$T/alice.cc" >"$T/load" 2>/dev/null &
LOAD=$!
i=0
while [ "$(line_count "$T/load")" -lt 50 ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i + 1)); done
AT=$(line_count "$T/load")
kill -9 "$FE1"
wait $LOAD
check_eq "the front end was killed under load (after 50 of 200 requests)" yes \
	"$([ "$AT" -ge 50 ] && [ "$AT" -lt 150 ] && echo yes || echo "no: after $AT")"
check_eq "idgated still runs" yes "$(kill -0 "$IDG_PID" 2>/dev/null && echo yes || echo no)"
check_eq "every request ended" 200 "$(line_count "$T/load")"
FAILED=$(grep -vc ' 200$' "$T/load")
check_eq "at most 4 failed: those in flight (4 clients)" yes \
	"$([ "$FAILED" -le 4 ] && echo yes || echo "no: $FAILED")"
check_eq "and they failed as a lost connection (000), not with an answer" "" \
	"$(grep -v ' 200$' "$T/load" | grep -v ' 000$')"
check_eq "the last 100 (after the restart): all 200" 100 "$(tail -100 "$T/load" | grep -c ' 200$')"
check_eq "both kinds among them" "yes yes" \
	"$(tail -100 "$T/load" | grep -q '^anon' && echo yes) $(tail -100 "$T/load" | grep -q '^neg' && echo yes)"
check_grep "the log says the front end died, of what, and is restarted" \
	"supervisor: error: front end \(pid $FE1\) killed by signal 9 \(Killed\)$WITHIN; restarting it\$" \
	"$IDG_LOG"
wait_ready_line
FE2=$(fe_pid)
check_grep "and that the new one serves" "supervisor: front end \(pid $FE2\) serves again \(restart 1\)" \
	"$IDG_LOG"
check_eq "a new front end, a child of idgated" "yes $IDG_PID" \
	"$([ -n "$FE2" ] && [ "$FE2" != "$FE1" ] && echo yes) $(awk '/^PPid/{print $2}' "/proc/$FE2/status")"
for w in $W1; do
	wait_log "(pid $w) of the dead front end exited"
	check_grep "old worker $w: finished and exited" \
		"supervisor: pool [a-z]+ worker \(pid $w\) of the dead front end exited with status 0" \
		"$IDG_LOG"
done
wait_log "PAM helper (pid $PAM1) of the dead front end exited"
check_grep "the old PAM helper exited" \
	"supervisor: PAM helper \(pid $PAM1\) of the dead front end exited with status 0" "$IDG_LOG"
CTL --json status >"$T/st2.json"
check_eq "idgatectl status: the new front end, new workers, serving, no restart counted" \
	"$FE2 True serving serving 0 0" \
	"$(json "$T/st2.json" '"%s %s %s %s %s %s" % (j["frontend_pid"], all(str(p["pid"]) not in "'"$W1"'".split() for p in j["pools"]), j["pools"][0]["state"], j["pools"][1]["state"], j["pools"][0]["restarts"], j["pools"][1]["restarts"])')"
check_eq "a new PAM helper" yes "$(P=$(child_pid idgate-pam); [ -n "$P" ] && [ "$P" != "$PAM1" ] && echo yes)"
wait_log "authenticator (pid $AN1) of the dead front end exited"
check_grep "the old authenticator exited" \
	"supervisor: authenticator \(pid $AN1\) of the dead front end exited with status 0" "$IDG_LOG"
check_eq "a new authenticator" yes "$(P=$(child_pid idgate-authn); [ -n "$P" ] && [ "$P" != "$AN1" ] && echo yes)"
check_eq "after the restart: anonymous 200" 200 "$(fetch after "$H/anon")"
check_eq "after the restart: Negotiate 200 (the PAM helper answers)" 200 "$(neg "$H/who")"
check_eq "after the restart: TLS 200" 200 "$(code "$S/anon")"
check_eq "the new front end writes the audit log" 200 "$(audit after 'j["status"]')"

# ---------------------------------------------------------------- dying at once, again and again
# the key is overwritten in place: a new front end reads the same open file
# (the generation's), finds no key and exits at once
cp "$T/bad.key" "$T/tls.key"
FE3=$(fe_pid)
T0=$(date +%s)
kill -9 "$FE3"
i=0
while ! grep -q "restarting it in 4 s" "$IDG_LOG" && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
SECS=$(($(date +%s) - T0))
grep "supervisor: error: front end (pid [0-9]*) exited with status 1" "$IDG_LOG" >"$T/deaths"
# the kill was the Kth death at once in a row (the one it killed may have
# lived less than 10 s); the deaths after it are K+1 .. 5
K=$(sed -n "s/.*front end (pid $FE3) killed by signal 9 (Killed), \([0-9]*\) times\{0,1\} in a row.*/\1/p" "$IDG_LOG")
K=${K:-0}
WANT=""
n=$((K + 1))
while [ $n -le 5 ]; do WANT="$WANT${WANT:+|}$(death_end $n)"; n=$((n + 1)); done
check_eq "the deaths at once up to the 5th, then it waits 4 s: it does not spin" "$((5 - K))" \
	"$(line_count "$T/deaths")"
check_eq "restarted at once twice, then after 1 s, 2 s, 4 s" "$WANT" \
	"$(sed 's/.*exited with status 1, //' "$T/deaths" | paste -sd'|')"
check_eq "which took at least 3 s" yes "$([ "$SECS" -ge 3 ] && echo yes || echo "no: $SECS s")"
check_grep "each start said why it died" "frontend: error: cannot serve 127.0.0.1:$TPORT tls" "$IDG_LOG"
check_eq "idgated still runs" yes "$(kill -0 "$IDG_PID" 2>/dev/null && echo yes || echo no)"
CTL --json status >"$T/st3.json"
check_eq "idgatectl status answers: no front end now" 0 "$(json "$T/st3.json" 'j["frontend_pid"]')"
CTL pool recycle default 2>"$T/recycle.err"
check_eq "a pool recycle waits for a front end" "1 idgatectl: the front end is restarting; try again later" \
	"$? $(cat "$T/recycle.err")"
N=$(ready_lines)
cp "$T/good.key" "$T/tls.key"
i=0
while [ "$(ready_lines)" = "$N" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check_eq "with the key back, the next try serves" "$((N + 1))" "$(ready_lines)"
check_eq "TLS 200" 200 "$(code "$S/anon")"
check_eq "Negotiate 200" 200 "$(neg "$H/who")"

# ---------------------------------------------------------------- kill -9 of the authenticator under load
# 200 requests over 4 clients again; the authenticator dies after 50: the
# questions it held and those asked before its successor's channel came
# fail with 503, anonymous requests never notice, the front end stays
AN2=$(child_pid idgate-authn)
PAM2=$(child_pid idgate-pam)
FE4=$(fe_pid)
seq 1 200 | xargs -P 4 -I{} sh -c 'if [ $(({} % 2)) = 0 ]; then
	KRB5CCNAME="$2" curl -s -m 40 -o /dev/null -w "neg %{http_code}\n" --negotiate -u : "$1/who"
else
	curl -s -m 40 -o /dev/null -w "anon %{http_code}\n" "$1/anon"
fi' _ "$H" "$T/alice.cc" >"$T/load2" 2>/dev/null &
LOAD=$!
i=0
while [ "$(line_count "$T/load2")" -lt 50 ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 "$AN2"
wait $LOAD
check_eq "authenticator killed: every request ended" 200 "$(line_count "$T/load2")"
check_eq "anonymous requests: all 200" 100 "$(grep -c '^anon 200$' "$T/load2")"
check_eq "Negotiate requests that failed: 503 only (unavailable), never another status" "" \
	"$(grep '^neg' "$T/load2" | grep -v ' 200$' | grep -v ' 503$')"
check_eq "the last 40 Negotiate requests: all 200" 40 \
	"$(grep '^neg' "$T/load2" | tail -40 | grep -c ' 200$')"
check_grep "the log says the authenticator died and is restarted" \
	"supervisor: error: authenticator \(pid $AN2\) killed by signal 9 \(Killed\)$WITHIN; restarting it\$" \
	"$IDG_LOG"
AN3=$(child_pid idgate-authn)
check_eq "a new authenticator; the same front end" "yes $FE4" \
	"$([ -n "$AN3" ] && [ "$AN3" != "$AN2" ] && echo yes) $(fe_pid)"
i=0
while { [ -z "$(child_pid idgate-pam)" ] || [ "$(child_pid idgate-pam)" = "$PAM2" ]; } && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
check_eq "and a new PAM helper for it" yes \
	"$(P=$(child_pid idgate-pam); [ -n "$P" ] && [ "$P" != "$PAM2" ] && echo yes)"
check_eq "Negotiate 200 (the PAM helper answers the new authenticator)" 200 "$(neg "$H/who")"

# ---------------------------------------------------------------- a stopped authenticator
# alive but not answering: its questions fail after 30 s (503), and the
# rest of the gateway serves meanwhile
AN4=$(child_pid idgate-authn)
kill -STOP "$AN4"
KRB5CCNAME="$T/alice.cc" curl -s -m 60 -o /dev/null -w '%{http_code} %{time_total}' \
	--negotiate -u : "$H/who" >"$T/stopped" &
WAITER=$!
sleep 1
check_eq "a stopped authenticator: anonymous requests are served meanwhile" 200 "$(code "$H/anon")"
# nothing to decide without credentials: the front end challenges itself
curl -s -m 5 -D "$T/nocred.hdr" -o /dev/null -w '%{http_code} %{time_total}' "$H/who" \
	>"$T/nocred"
check_eq "and a request without credentials is challenged at once (401, < 2 s)" "401 yes" \
	"$(awk '{ print $1, ($2 < 2) ? "yes" : "no: " $2 }' "$T/nocred")"
check_eq "with the vdir's challenge" "WWW-Authenticate: Negotiate" \
	"$(grep -i '^WWW-Authenticate:' "$T/nocred.hdr" | tr -d '\r')"
wait $WAITER
kill -CONT "$AN4"
check_eq "a question it never answers: 503 after 30 s" "503 yes" \
	"$(awk '{ print $1, ($2 >= 29 && $2 < 45) ? "yes" : "no: " $2 }' "$T/stopped")"
check_grep "the front end says so" "frontend: error: the authenticator did not answer question [0-9]+ in 30 s" \
	"$IDG_LOG"

# ---------------------------------------------------------------- and a good reload
write_conf "$T/good.key" "[vdir /new]
handler = whoami
auth = anonymous"
check_eq "a good reload afterwards" reloaded "$(CTL reload 2>&1)"
check_eq "the new configuration serves" "200 404" "$(code "$H/new") $(code "$H/old/old.txt")"
finish
