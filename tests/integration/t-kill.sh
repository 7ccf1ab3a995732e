#!/bin/sh
# kill -9 of each kind of child process under load (bench/load, 4
# connections, keep-alive): a trusted pool's worker, an impersonating
# pool's worker, a pool's spawner (requests to cgi programs) and the PAM
# helper (Negotiate with account_cache = 0: PAM is asked on every
# request).  For each: idgated and its front end go on (same pids); only
# the requests in flight on the dead process fail, with the status and
# audit reason the code documents -- 502 "pool worker closed the channel"
# on a dead worker (a dead spawner takes its worker down), 503 "pam:
# account check unavailable: PAM helper unavailable" for a question to a
# dead PAM helper -- at most 4 of them (the connections), none before the
# kill, none hangs, and the rest are served; a new process of that kind
# appears and serves, with the right identity; the log names the dead
# one, how it died and its successor; idgatectl status and the metrics
# count a worker's restart.  Besides: a program the dead spawner started
# dies with it; authenticated requests that waited in the front end for a
# dead worker's only thread are served by its successor (no worker took
# their verdicts); no verdict is refused.  (The front end and the
# authenticator: t-restart.sh.)
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/scripts/realm.sh"
need_root

PORT=$(free_port)
TPORT=$(free_port)
APORT=$(free_port)
SOCK="$T/run/control"
SVC=idgate-test-$$
U=idgt$$
H="http://localhost:$PORT"
LOAD="$top_builddir/bench/load"
CONNS=4

realm_create "$T/kdc" || finish
realm_addprinc "${U}alice" pw-alice || finish
realm_addservice HTTP/localhost "$T/http.keytab" || finish
realm_kinit "${U}alice" pw-alice "$T/alice.cc" || finish
add_user "${U}alice"
PASSWORD="Correct-Horse-$$"
echo "${U}alice:$PASSWORD" | chpasswd
add_pam_service "$SVC" "auth required pam_unix.so
account required pam_unix.so"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	-keyout "$T/tls.key" -out "$T/tls.crt" >/dev/null 2>&1 || { not_ok "openssl"; finish; }
ALICE=$(id -u "${U}alice")
NOBODY=$(id -u nobody)
KRB5CCNAME="$T/alice.cc"
export KRB5CCNAME

mkdir -p "$T/modules" "$T/cgi"
cp "$MODULES_DIR/whoami.so" "$MODULES_DIR/cgi.so" "$TESTMODS_DIR/tcrash.so" "$T/modules/"
chmod 755 "$T/cgi"
# (with its length: bench/load reads no chunked answer)
cat >"$T/cgi/id.cgi" <<'EOF'
#!/bin/sh
body="uid=$(id -u)"
printf 'Content-Type: text/plain\nContent-Length: %d\n\n%s\n' $((${#body} + 1)) "$body"
EOF
# a program that runs until it is killed (it answers nothing first: its
# request fails as a request without an answer yet)
printf '#!/bin/sh\nexec sleep 3%s\n' $$ >"$T/cgi/sleep.cgi"
chmod 755 "$T/cgi/id.cgi" "$T/cgi/sleep.cgi"
# sleeping -- the pids of sleep.cgi's program, if any
sleeping() { pgrep -f "^sleep 3$$\$" | paste -sd' '; }
at_exit 'for p in $(sleeping); do kill -9 $p; done'

cat >"$T/idgate.conf" <<EOF
[server]
runtime_dir = $T/run
replay_cache_dir = $T/run/rcache
listen = 127.0.0.1:$PORT
listen = 127.0.0.1:$TPORT tls
tls_cert = $T/tls.crt
tls_key = $T/tls.key
admin_listen = 127.0.0.1:$APORT
user = idgate
keytab = $T/http.keytab
pam_service = $SVC
account_cache = 0
audit_log = $T/audit.jsonl
modules_dir = $T/modules
control_socket = $SOCK
[pool default]
user = nobody
group = nogroup
threads = 4
[pool imp]
user = nobody
group = nogroup
threads = 4
[pool cgi]
user = nobody
group = nogroup
threads = 4
[pool one]
user = nobody
group = nogroup
threads = 1
[vdir /who]
handler = whoami
[vdir /basic]
handler = whoami
auth = basic
[vdir /anon]
handler = whoami
auth = anonymous
[vdir /busy]
handler = tcrash
auth = anonymous
[vdir /imp]
pool = imp
handler = whoami
impersonate = true
[vdir /imp-busy]
pool = imp
handler = tcrash
impersonate = true
[vdir /one]
pool = one
handler = tcrash
impersonate = true
[vdir /cgi]
pool = cgi
handler = cgi
root = $T/cgi
auth = anonymous
EOF
start_idgated "$T/idgate.conf" || finish
FE=$(child_pid idgate-front)
CTL() { timeout 20 "$IDGATECTL" -s "$SOCK" "$@"; }
neg() { fetch "$@" --negotiate -u :; }
now_ms() { date +%s%3N; }
# pool_pid POOL -- its worker's pid, from idgatectl status
pool_pid() {
	CTL --json status >"$T/st.json"
	json "$T/st.json" '[p["pid"] for p in j["pools"] if p["name"] == "'"$1"'"][0]'
}
# metric NAME{LABELS} -- its value at the admin listener
metric() {
	curl -s "http://127.0.0.1:$APORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
# the role processes restarted at once whether or not they lived 10 s
WITHIN="(, [0-9]+ times? in a row within 10 s of its start)?"

# under_load NAME PID PATH AUTH -- bench/load on PATH (AUTH: none or
# negotiate) for 6 s over $CONNS connections; PID killed with SIGKILL once
# 100 requests have been answered.  One line per request in $T/NAME.log
# ("MS STATUS"), the kill's time in $T/NAME.at.
under_load() {
	"$LOAD" -p "$PORT" -u "$3" -c "$CONNS" -n 50 -d 6 -a "$4" -T 3000 \
		-o "$T/$1.log" >"$T/$1.out" 2>"$T/$1.err" &
	lpid=$!
	i=0
	while [ "$(line_count "$T/$1.log")" -lt 100 ] && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	line_count "$T/$1.log" >"$T/$1.before"
	now_ms >"$T/$1.at"
	kill -9 "$2"
	wait $lpid
}

# failures PATH -- "COUNT STATUS REASON" for the audit lines of PATH's
# requests that were not answered 200
failures() {
	$PY - "$AUDIT" "$1" <<'EOF'
import collections, json, sys
c = collections.Counter()
for line in open(sys.argv[1]):
    j = json.loads(line)
    if j["path"] == sys.argv[2] and j["status"] != 200:
        c[(j["status"], j["reason"])] += 1
for (s, r), n in sorted(c.items()):
    print(n, s, r)
EOF
}

# check_load NAME STATUS PATH REASON -- the run NAME on PATH: killed after
# 100 requests, and ended by itself; the requests that failed did so with
# STATUS only (none hung), at most $CONNS of them, none before the kill,
# and their audit lines say REASON; more than 50 were served after the
# last failure.
check_load() {
	log="$T/$1.log"
	at=$(cat "$T/$1.at")
	echo "# $1: killed after $(cat "$T/$1.before") requests; $(line_count "$log") in all;" \
		"failed: $(awk -v at="$at" '$2 != "200" && n++ < 8 { printf "%s(%+d ms) ", $2, $1 - at }' "$log")"
	check_eq "$1: the kill came under load (after 100 requests, not after the run)" yes \
		"$(n=$(cat "$T/$1.before"); [ "$n" -ge 100 ] && [ "$n" -lt "$(line_count "$log")" ] && echo yes || echo "no: after $n of $(line_count "$log")")"
	check_eq "$1: the other statuses: $2 only" "$2" \
		"$(awk '$2 != "200" { print $2 }' "$log" | sort -u | paste -sd' ')"
	check_eq "$1: at most $CONNS failed (those in flight)" yes \
		"$(n=$(awk '$2 != "200"' "$log" | wc -l); [ "$n" -ge 1 ] && [ "$n" -le "$CONNS" ] && echo yes || echo "no: $n")"
	check_eq "$1: none failed before the kill" "" "$(awk -v at="$at" '$2 != "200" && $1 < at' "$log" | head -3)"
	check_eq "$1: the audit says why" "$(awk '$2 != "200"' "$log" | wc -l) $2 $4" "$(failures "$3")"
	check_eq "$1: served after the last failure (more than 50, all 200)" yes \
		"$(awk '$2 != "200" { n = 0; next } { n++ } END { print (n > 50 ? "yes" : "no: " n) }' "$log")"
	check_eq "$1: idgated and its front end go on" "yes $FE" \
		"$(kill -0 "$IDG_PID" 2>/dev/null && echo yes) $(child_pid idgate-front)"
}

check_eq "anonymous: 200" 200 "$(fetch a0 "$H/anon")"
check_eq "Negotiate: 200" 200 "$(neg n0 "$H/who")"
check_eq "impersonated: 200" 200 "$(neg i0 "$H/imp")"
check_eq "cgi: 200" 200 "$(fetch c0 "$H/cgi/id.cgi")"
check_eq "Basic (TLS): 200" 200 "$(fetch b0 "https://localhost:$TPORT/basic" -k -u "${U}alice:$PASSWORD")"

# check_worker NAME POOL OLD HOW -- pool POOL's worker OLD ended as HOW (a
# regex of the supervisor's words); the log says so and why its requests
# failed; a new worker ($NEW), a child of idgated, serves; idgatectl
# status and the metrics count one restart of the pool.
check_worker() {
	check_grep "$1: the log says the worker died, and how" \
		"supervisor: error: pool $2 worker \(pid $3\) $4\$" "$IDG_LOG"
	check_grep "$1: and why its requests failed" \
		"frontend: error: pool $2: channel lost during a request: pool worker closed the channel" \
		"$IDG_LOG"
	NEW=$(pool_pid "$2")
	check_eq "$1: a new worker, a child of idgated" "yes $IDG_PID" \
		"$([ "$NEW" -gt 0 ] && [ "$NEW" != "$3" ] && echo yes) $(awk '/^PPid/{print $2}' "/proc/$NEW/status")"
	wait_log "idgated[$NEW]: pool $2: serving"
	check_grep "$1: which serves" "idgated\[$NEW\]: pool $2: serving with [0-9]+ threads as uid $NOBODY" \
		"$IDG_LOG"
	check_eq "$1: idgatectl status counts the restart" 1 \
		"$(json "$T/st.json" '[p["restarts"] for p in j["pools"] if p["name"] == "'"$2"'"][0]')"
	check_eq "$1: so do the metrics" 1 "$(metric 'idgate_pool_worker_restarts_total{pool="'"$2"'"}')"
}
KILLED="killed by signal 9 \(Killed\)"

# ---------------------------------------------------------------- a trusted pool's worker
W1=$(pool_pid default)
under_load trusted "$W1" "/busy?busy" none
check_load trusted 502 /busy "pool worker closed the channel"
check_worker trusted default "$W1" "$KILLED"
check_eq "trusted: after the kill: 200 as the pool" "200 $NOBODY" \
	"$(fetch a1 "$H/anon") $(json "$T/a1.body" 'j["euid"]')"

# ---------------------------------------------------------------- an impersonating pool's worker
W1=$(pool_pid imp)
under_load imp "$W1" "/imp-busy?busy" negotiate
check_load imp 502 /imp-busy "pool worker closed the channel"
check_worker imp imp "$W1" "$KILLED"
check_eq "imp: after the kill: 200 as the caller" "200 $ALICE True" \
	"$(neg i1 "$H/imp") $(json "$T/i1.body" '"%s %s" % (j["euid"], j["impersonated"])')"
check_eq "the trusted pool's count is unchanged" 1 \
	"$(metric 'idgate_pool_worker_restarts_total{pool="default"}')"

# ---------------------------------------------------------------- requests waiting for a dead worker
# one thread: a slow request holds it while three more, authenticated
# (their verdicts made), wait for it in the front end; the worker dies:
# the slow one fails, the three go to its successor, which serves them --
# no worker took their verdicts (trust.h), so they are no replays
W1=$(pool_pid one)
gauge() { # gauge NAME N -- wait (10 s) until pool one's gauge NAME is N
	i=0
	while [ "$(metric "$1{pool=\"one\"}")" != "$2" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	metric "$1{pool=\"one\"}"
}
# (?hold: 5 s on the worker -- ?slow's 1.5 s can end before three
# Negotiate requests are queued on a loaded machine under ASan)
curl -s -m 20 -o /dev/null -w '%{http_code}' --negotiate -u : "$H/one?hold" >"$T/one.slow" &
CLIENTS=$!
check_eq "one: a slow request holds the only thread" 1 "$(gauge idgate_pool_busy_threads 1)"
for n in 1 2 3; do
	curl -s -m 20 -o "$T/one.$n.body" -w '%{http_code}' --negotiate -u : "$H/one" >"$T/one.$n" &
	CLIENTS="$CLIENTS $!"
done
check_eq "one: three more wait for it" 3 "$(gauge idgate_pool_queued_requests 3)"
kill -9 "$W1"
for p in $CLIENTS; do wait "$p"; done
check_eq "one: the slow one: 502; the three waiting: 200, by the new worker" "502 200 200 200" \
	"$(cat "$T/one.slow") $(cat "$T/one.1") $(cat "$T/one.2") $(cat "$T/one.3")"
check_eq "one: by the handler, as the caller" "alive alive alive 3 ${U}alice True" \
	"$(cat "$T/one.1.body" "$T/one.2.body" "$T/one.3.body" | paste -sd' ') $($PY -c '
import json, sys
ok = [j for j in map(json.loads, open(sys.argv[1])) if j["path"] == "/one" and j["status"] == 200]
print(len(ok), " ".join(sorted(set("%s %s" % (j["user"], j["impersonated"]) for j in ok))))' "$AUDIT")"
check_eq "one: the audit says why the slow one failed" "1 502 pool worker closed the channel" \
	"$(failures /one)"
check_worker one one "$W1" "$KILLED"

# ---------------------------------------------------------------- a spawner
# cgi programs under load, and one that runs until it is killed; the
# spawner that started them dies: its worker restarts (it forks a spawner
# only while it is small and single-threaded, at its start)
W1=$(pool_pid cgi)
SP1=$(pgrep -P "$W1" -x idgate-spawn)
check_eq "the cgi pool's worker has a spawner" yes "$([ -n "$SP1" ] && echo yes)"
curl -s -m 20 -o /dev/null -w '%{http_code}' "$H/cgi/sleep.cgi" >"$T/sleeper" &
SLEEPER=$!
i=0
while [ -z "$(sleeping)" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
check_eq "a program runs until it is killed" yes "$([ -n "$(sleeping)" ] && echo yes)"
under_load spawner "$SP1" /cgi/id.cgi none
wait $SLEEPER
check_load spawner 502 /cgi/id.cgi "pool worker closed the channel"
check_eq "spawner: the request whose program still ran: 502, and why" \
	"502 1 502 pool worker closed the channel" "$(cat "$T/sleeper") $(failures /cgi/sleep.cgi)"
i=0
while [ -n "$(sleeping)" ] && [ $i -lt 20 ]; do sleep 0.1; i=$((i + 1)); done
check_eq "spawner: nothing it started is left running" "" "$(sleeping)"
check_grep "spawner: the worker says its spawner died" \
	"idgated\[$W1\]: pool cgi: error: the spawner died; the worker restarts" "$IDG_LOG"
check_worker spawner cgi "$W1" "exited with status 1"
SP2=$(pgrep -P "$NEW" -x idgate-spawn)
check_eq "spawner: the new worker has a new spawner" yes \
	"$([ -n "$SP2" ] && [ "$SP2" != "$SP1" ] && echo yes)"
check_eq "spawner: after the kill: a program runs, as the pool" "200 uid=$NOBODY" \
	"$(fetch c1 "$H/cgi/id.cgi") $(cat "$T/c1.body")"

# ---------------------------------------------------------------- the PAM helper
# Negotiate with account_cache = 0: every request asks PAM for the account,
# which takes 20 ms now (the helper reads its PAM stack at each question):
# there are questions in flight at the helper when it dies
add_pam_service "$SVC" "auth required pam_unix.so
account required pam_exec.so quiet /bin/sleep 0.02
account required pam_unix.so"
P1=$(child_pid idgate-pam)
AN=$(child_pid idgate-authn)
under_load pam "$P1" /who negotiate
check_load pam 503 /who "pam: account check unavailable: PAM helper unavailable"
check_grep "pam: the log says the helper died, of what, and is restarted" \
	"supervisor: error: PAM helper \(pid $P1\) killed by signal 9 \(Killed\)$WITHIN; restarting it\$" \
	"$IDG_LOG"
P2=$(child_pid idgate-pam)
check_eq "pam: a new helper, a child of idgated, as root" "yes $IDG_PID 0" \
	"$([ -n "$P2" ] && [ "$P2" != "$P1" ] && echo yes) $(awk '/^PPid/{print $2}' "/proc/$P2/status") $(status_field "$P2" Uid)"
check_grep "pam: which serves" "supervisor: PAM helper \(pid $P2\) serves again \(restart 1\)" \
	"$IDG_LOG"
check_eq "pam: the same authenticator" "$AN" "$(child_pid idgate-authn)"
check_eq "pam: after the kill: Negotiate 200, the caller" "200 ${U}alice" \
	"$(neg n1 "$H/who") $(json "$T/n1.body" 'j["user"]')"
check_eq "pam: after the kill: Basic 200, the caller (the new helper checks passwords)" \
	"200 ${U}alice" "$(fetch b1 "https://localhost:$TPORT/basic" -k -u "${U}alice:$PASSWORD") $(json "$T/b1.body" 'j["user"]')"

# ---------------------------------------------------------------- no PAM helper for a while
# a helper that dies at once again and again is started again after a
# wait (respawn.h: the third death in a row within 10 s, 1 s); the
# questions asked meanwhile wait for the next helper and are answered
i=0
while ! grep -q "PAM helper (pid [0-9]*) killed by signal 9 (Killed), [0-9]* times in a row within 10 s of its start; restarting it in 1 s" "$IDG_LOG" &&
	[ $i -lt 8 ]; do
	P=$(child_pid idgate-pam)
	[ -n "$P" ] && kill -9 "$P"
	j=0
	while [ "$(child_pid idgate-pam)" = "$P" ] && [ $j -lt 100 ]; do sleep 0.01; j=$((j + 1)); done
	i=$((i + 1))
done
check_eq "pam: no helper for 1 s (killed at once again and again)" "" "$(child_pid idgate-pam)"
fetch b2 "https://localhost:$TPORT/basic" -k -u "${U}alice:$PASSWORD" -w '%{http_code} %{time_total}' >"$T/b2.out" &
B2=$!
neg n2 "$H/who" -w '%{http_code} %{time_total}' >"$T/n2.out"
wait $B2
check_eq "pam: meanwhile, Basic and Negotiate wait for the next helper: 200, 200" \
	"200 ${U}alice yes 200 ${U}alice yes" \
	"$(for r in b2 n2; do set -- $(cat "$T/$r.out"); printf '%s %s %s ' "$1" "$(json "$T/$r.body" 'j["user"]')" \
		"$(awk -v t="$2" 'BEGIN { print (t >= 0.2 ? "yes" : "no: " t " s") }')"; done | sed 's/ $//')"
i=0
while [ -z "$(child_pid idgate-pam)" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check_grep "pam: a helper serves again" "supervisor: PAM helper \(pid $(child_pid idgate-pam)\) serves again" \
	"$IDG_LOG"
check_no_grep "no verdict was refused" "verdict refused" "$IDG_LOG"

finish
