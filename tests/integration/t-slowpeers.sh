#!/bin/sh
# Slow and many peers.  A slowloris client (a request head a byte a second,
# never silent for idle_timeout) is cut off after header_timeout and holds
# no pool worker meanwhile; a body that trickles in frees its worker at
# request_timeout (408); 10 000 idle keep-alive connections are held and a
# new one is still served (the front end's RSS is printed); out of
# descriptors (EMFILE), the front end neither spins nor floods its log, and
# serves again once connections close; a KDC that is down fails
# S4U2Proxy at once (502), a hung one at the authenticator's deadline for
# the KDC (504 after 10 s, kdcq.h) while every other authentication goes
# on, and a slow PAM stack holds only its own Basic request (one that does
# not answer fails it at 10 s, 503).  SLOWPEERS_CONNS: how many connections for the many
# peers part (10000).
. "$(dirname "$0")/lib.sh"
need_root

PORT=$(free_port)
PORT2=$(free_port)
APORT=$(free_port)
B="http://127.0.0.1:$PORT"
M="http://127.0.0.1:$APORT/metrics"
SP="$PY $top_srcdir/tests/integration/slowpeer.py"
CONNS=${SLOWPEERS_CONNS:-10000}
HARD=$(ulimit -Hn)
[ "$HARD" = unlimited ] && HARD=1048576
if [ "$HARD" -lt $((CONNS + 1000)) ]; then
	CONNS=$((HARD - 1000))
	echo "# only $CONNS connections: the hard RLIMIT_NOFILE is $HARD"
fi
ulimit -Sn "$HARD"

mkdir -p "$T/spool"
chown nobody:nogroup "$T/spool"
# conf FILE IDLE -- the test's configuration: small timeouts, one worker
# thread, idle_timeout IDLE
conf() {
	cat >"$1" <<EOF
[server]
runtime_dir = $T/run
replay_cache_dir = $T/run/rcache
listen = 127.0.0.1:$PORT
listen = 127.0.0.1:$PORT2
user = idgate
pam_service =
audit_log = $AUDIT
modules_dir = $MODULES_DIR
admin_listen = 127.0.0.1:$APORT
idle_timeout = $2
header_timeout = 3s
request_timeout = 3s
max_connections = 30000
[pool default]
user = nobody
group = nogroup
threads = 1
[vdir /who]
handler = whoami
auth = anonymous
[vdir /up]
handler = spool
root = $T/spool
auth = anonymous
EOF
}
conf "$T/idgate.conf" 2s
start_idgated "$T/idgate.conf" || finish

# metric NAME -- its value now
metric() { curl -s "$M" | awk -v k="$1" 'index($0, k " ") == 1 { print $2 }'; }
BUSY='idgate_pool_busy_threads{pool="default"}'
QUEUED='idgate_pool_queued_requests{pool="default"}'
# wait_file FILE PATTERN SECONDS -- until a line of FILE matches
wait_file() {
	i=0
	while ! grep -Eq -- "$2" "$1" 2>/dev/null && [ $i -lt $(($3 * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
# in_range X LOW HIGH -- "yes" if LOW <= X <= HIGH (decimals)
in_range() { $PY -c 'import sys; x, a, b = map(float, sys.argv[1:]); print("yes" if a <= x <= b else "no: %s" % x)' "$@"; }

# ---------------------------------------------------------------- slowloris
# 6 connections, a byte a second for up to 10 s: idle_timeout (2 s) never
# fires; header_timeout (3 s, checked every second, from the first byte
# seen) must, within 3 to 6 s
$SP loris "$PORT" 6 1 10 "$T/loris.out" &
LORIS=$!
sleep 1.5
check_eq "slowloris: a normal request is served meanwhile" 200 "$(fetch n1 "$B/who" -m 3)"
check_eq "slowloris: no pool worker is busy" "0 0" "$(metric "$BUSY") $(metric "$QUEUED")"
wait $LORIS
check_eq "slowloris: all 6 connections were closed by the server" 6 "$(grep -c '^closed ' "$T/loris.out")"
check_eq "slowloris: none got an answer" 0 "$(grep -c '^closed .* [0-9]' "$T/loris.out")"
for t in $(awk '$1 == "closed" { print $2 }' "$T/loris.out"); do
	check_eq "slowloris: closed after header_timeout, not idle_timeout ($t s)" yes "$(in_range "$t" 2.9 6.5)"
done
check_eq "slowloris: the 3 whose request line came in are audited 408" 3 \
	"$(grep -c '"path":"/who".*"status":408,.*"reason":"request head not received within header_timeout"' "$AUDIT")"
check_grep "slowloris: logged, a line per scan" \
	"closed [0-9] connections whose request head took longer than header_timeout \(3000 ms\)" "$IDG_LOG"

# ---------------------------------------------------------------- slow body
# the spool handler reads the body as it comes: the one worker thread is
# held while it trickles, and let go at request_timeout (3 s)
$SP slowbody "$PORT" /up 0.5 12 "$T/body.out" &
BODY=$!
sleep 1.5
check_eq "slow body: the worker is busy with it" 1 "$(metric "$BUSY")"
wait_file "$T/body.out" "^closed" 6
check_eq "slow body: the worker is free again" "0 0" "$(metric "$BUSY") $(metric "$QUEUED")"
check_eq "slow body: a normal request is served" 200 "$(fetch n2 "$B/who" -m 3)"
wait $BODY
check_eq "slow body: the connection was closed, no answer" "closed none" \
	"$(awk '$1 != "done" { print $1, $3 }' "$T/body.out")"
check_eq "slow body: closed after request_timeout" yes \
	"$(in_range "$(awk '$1 == "closed" { print $2 }' "$T/body.out")" 2.9 6)"
check_eq "slow body: audited 408 with the reason" "408 request body not received within request_timeout" \
	"$(grep '"path":"/up"' "$AUDIT" | tail -1 | $PY -c 'import json,sys; j=json.load(sys.stdin); print(j["status"], j["reason"])')"
check_eq "slow body: nothing was queued" "" "$(find "$T/spool" -type f | head -1)"

# ---------------------------------------------------------------- many peers
stop_idgated
conf "$T/idgate.conf" 60s # idle connections stay open
start_idgated "$T/idgate.conf" || finish
FE=$(child_pid idgate-front)
$SP many "$PORT" "$CONNS" /who "$T/many.out" &
MANY=$!
wait_file "$T/many.out" "^answered" 60
check_eq "$CONNS keep-alive connections: all answered 200" "answered $CONNS/$CONNS" \
	"$(cut -d' ' -f1-2 "$T/many.out")"
echo "# $(head -1 "$T/many.out")"
sleep 1
RSS=$(status_field "$FE" VmRSS)
FDS=$(ls "/proc/$FE/fd" | wc -l)
echo "# front end with $CONNS idle keep-alive connections: VmRSS $RSS kB, $FDS descriptors"
check_eq "the front end holds a descriptor for each" yes "$(in_range "$FDS" "$CONNS" $((CONNS + 100)))"
# libmicrohttpd's per-connection pool (max_header_size + 16k, zeroed
# between requests) is most of it: a bound that catches a leak.  Under
# ASan (make distcheck) every allocation carries redzones and freed memory
# waits in quarantine: 76 kB a connection measured there
PER_CONN=40
if nm -D "$IDGATED" 2>/dev/null | grep -q __asan_init; then
	PER_CONN=100
fi
check_eq "the front end's RSS is at most $PER_CONN kB a connection" yes \
	"$(in_range "$RSS" 0 $((CONNS * PER_CONN + 20000)))"
check_eq "a new connection is still served" 200 "$(fetch n3 "$B/who" -m 5)"
kill -TERM "$MANY"
wait "$MANY"
check_eq "none of them was closed while idle" "still-open $CONNS" "$(tail -1 "$T/many.out")"

# ---------------------------------------------------------------- EMFILE
# a front end with 200 descriptors (a test as root without CAP_SYS_RESOURCE
# cannot prlimit another user's process: it inherits the limit); 300
# connections that send nothing to
# the first listener; then one to the second, whose daemon holds none
# (libmicrohttpd 0.9.75 retried accept() there in a busy loop)
stop_idgated
ulimit -Sn 200
start_idgated "$T/idgate.conf" || finish
ulimit -Sn "$HARD"
FE=$(child_pid idgate-front)
$SP hold "$PORT" 300 "$T/hold.out" &
HOLD=$!
wait_file "$T/hold.out" "^opened" 20
check_eq "300 connections opened (the rest wait in the backlog)" "opened 300" "$(cat "$T/hold.out")"
curl -s -m 15 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT2/who" >"$T/second.out" &
SECOND=$!
sleep 1
cpu() { awk '{ print $14 + $15 }' "/proc/$FE/stat"; }
c1=$(cpu)
sleep 2
c2=$(cpu)
check_eq "out of descriptors: the front end does not spin (CPU over 2 s < 0.2 s)" yes \
	"$(in_range $((c2 - c1)) 0 $(($(getconf CLK_TCK) / 5)))"
n=$(grep -c "cannot accept connections: Too many open files" "$IDG_LOG")
check_eq "out of descriptors: said, at most once per event loop in 10 s ($n)" yes "$(in_range "$n" 1 4)"
check_eq "out of descriptors: no line per failed accept()" 0 "$(grep -c "Error accepting connection" "$IDG_LOG")"
kill -TERM "$HOLD"
wait "$HOLD"
wait "$SECOND"
check_eq "the connection that waited in the backlog is served" 200 "$(cat "$T/second.out")"
check_eq "new connections are served again" 200 "$(fetch n4 "$B/who" -m 5)"
check_eq "on the second listener too" 200 "$(fetch n5 "http://127.0.0.1:$PORT2/who" -m 5)"


# ---------------------------------------------------------------- the KDC down or hung
# S4U2Proxy asks the KDC from the authenticator, which is one thread: a
# KDC that does not answer holds every authentication for as long as MIT
# krb5 waits (measured and printed: no krb5.conf setting of MIT 1.20
# bounds it); a KDC that is down fails at once.  Basic asks PAM in the
# PAM helper, without blocking the authenticator: a slow password check
# (pam_exec sleeping, as a pam_krb5 waiting for its KDC would) holds only
# its own request.
stop_idgated
. "$top_srcdir/scripts/realm.sh"
U=idgt$$
REALM_LDAP=1 realm_create "$T/kdc" || finish
realm_addprinc "${U}alice" pw-alice || finish
realm_addprinc "${U}bob" pw-bob || finish
realm_addservice HTTP/localhost "$T/http.keytab" || finish
realm_addservice HTTP/backend.test "$T/backend.keytab" || finish
realm_allow_delegation HTTP/localhost HTTP/backend.test || finish
add_user "${U}alice"
add_user "${U}carol"
echo "${U}carol:pw-carol" | chpasswd
realm_kinit "${U}alice" pw-alice "$T/alice.cc" || finish
realm_kinit "${U}bob" pw-bob "$T/bob.cc" || finish
SVC=idgate-slow-$$
# the PAM stack sleeps as long as $T/pam-sleep says
printf '#!/bin/sh\nexec sleep "$(cat %s)"\n' "$T/pam-sleep" >"$T/pam-sleep.sh"
chmod 755 "$T/pam-sleep.sh"
echo 4 >"$T/pam-sleep"
add_pam_service "$SVC" "auth requisite pam_exec.so quiet $T/pam-sleep.sh
auth required pam_unix.so
account required pam_unix.so"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	-keyout "$T/tls.key" -out "$T/tls.crt" >/dev/null 2>&1 || { not_ok "openssl"; finish; }
mkdir -p "$T/modules" "$T/b2"
cp "$MODULES_DIR/whoami.so" "$MODULES_DIR/proxy.so" "$T/modules/"
BPORT=$(free_port)
cat >"$T/b2/idgate.conf" <<EOF
[server]
runtime_dir = $T/b2/run
replay_cache_dir = $T/b2/run/rcache
listen = 127.0.0.1:$BPORT
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
runtime_dir = $T/run
replay_cache_dir = $T/run/rcache
listen = 127.0.0.1:$PORT
listen = 127.0.0.1:$PORT2 tls
tls_cert = $T/tls.crt
tls_key = $T/tls.key
user = idgate
keytab = $T/http.keytab
pam_service = $SVC
audit_log = $AUDIT
modules_dir = $T/modules
[pool default]
user = nobody
group = nogroup
[vdir /s4u]
handler = proxy
backend = http://localhost:$BPORT/
backend_auth = negotiate
backend_service = HTTP@backend.test
s4u2proxy = true
[vdir /who]
handler = whoami
auth = negotiate basic
EOF
start_idgated "$T/idgate.conf" || finish
H="http://localhost:$PORT"
# neg WHO NAME URL [curl args] -- prints "STATUS SECONDS"
neg() {
	who=$1
	n=$2
	url=$3
	shift 3
	KRB5CCNAME="$T/$who.cc" curl -s -g -D "$T/$n.hdr" -o "$T/$n.body" \
		-w '%{http_code} %{time_total}' --negotiate -u : "$@" "$url"
}
check_eq "S4U2Proxy with the KDC up: 200" 200 "$(neg alice s0 "$H/s4u/who" --delegation none | cut -d' ' -f1)"
# bob's ticket to the gateway, while the KDC answers: afterwards only the
# gateway's own S4U2Proxy request needs the KDC
check_eq "bob's Negotiate: 200" 200 "$(neg bob b0 "$H/who" | cut -d' ' -f1)"
S4U_REASON="^s4u2proxy: .*Cannot contact any KDC for realm '$REALM' \(to HTTP@backend.test\)$"

kill -STOP "$REALM_KDC_PID"
neg bob hung "$H/s4u/who" --delegation none -m 60 >"$T/hung.out" &
HUNG=$!
sleep 1
neg alice other "$H/who" -m 60 >"$T/other.out"
wait "$HUNG"
kill -CONT "$REALM_KDC_PID"
echo "# KDC hung: S4U2Proxy answered '$(cat "$T/hung.out")'; an unrelated Negotiate request sent 1 s later '$(cat "$T/other.out")'"
check_eq "KDC hung: S4U2Proxy fails 504" 504 "$(cut -d' ' -f1 "$T/hung.out")"
check_eq "KDC hung: at the deadline for the KDC (10 s)" yes \
	"$(in_range "$(cut -d' ' -f2 "$T/hung.out")" 9.5 13)"
audit_line hung
json "$T/hung.audit" 'j["reason"]' >"$T/hung.reason"
check_grep "KDC hung: the reason says the KDC did not answer" \
	"^s4u2proxy: the KDC did not answer within 10 s \(to HTTP@backend.test\)$" "$T/hung.reason"
check_eq "KDC hung: the unrelated request is served meanwhile" 200 \
	"$(cut -d' ' -f1 "$T/other.out")"
check_eq "KDC hung: and at once (< 2 s), not after the KDC" yes \
	"$(in_range "$(cut -d' ' -f2 "$T/other.out")" 0 2)"
check_eq "KDC back: S4U2Proxy 200 again" 200 \
	"$(neg alice s1 "$H/s4u/who" --delegation none -m 30 | cut -d' ' -f1)"

kill "$REALM_KDC_PID"
wait "$REALM_KDC_PID" 2>/dev/null
REALM_KDC_PID=
out=$(neg bob down "$H/s4u/who" --delegation none -m 60)
check_eq "KDC down: S4U2Proxy fails 502" 502 "${out% *}"
check_eq "KDC down: at once (< 3 s)" yes "$(in_range "${out#* }" 0 3)"
audit_line down
json "$T/down.audit" 'j["reason"]' >"$T/down.reason"
check_grep "KDC down: the reason says the KDC could not be reached" "$S4U_REASON" "$T/down.reason"
check_eq "KDC down: Negotiate needs no KDC: 200" 200 "$(neg alice other2 "$H/who" | cut -d' ' -f1)"

# Basic through a PAM stack that takes 4 s (TLS only)
S="https://localhost:$PORT2"
curl -s -k -o /dev/null -w '%{http_code} %{time_total}' -u "${U}carol:pw-carol" "$S/who" >"$T/basic.out" &
BASIC=$!
sleep 1
out=$(neg alice other3 "$H/who")
check_eq "slow PAM: Negotiate meanwhile is served at once" "200 yes" "${out% *} $(in_range "${out#* }" 0 1)"
wait "$BASIC"
check_eq "slow PAM: Basic answered 200 after the PAM stack's 4 s" "200 yes" \
	"$(cut -d' ' -f1 "$T/basic.out") $(in_range "$(cut -d' ' -f2 "$T/basic.out")" 3.9 10)"

# a PAM stack that does not answer (a pam_krb5 waiting for a hung KDC):
# its request fails at the authenticator's deadline for PAM, 10 s (503)
echo 14 >"$T/pam-sleep"
out=$(curl -s -k -D "$T/pamhung.hdr" -o /dev/null -w '%{http_code} %{time_total}' -m 40 \
	-u "${U}carol:pw-carol" "$S/who")
check_eq "hung PAM: Basic fails 503 at 10 s" "503 yes" "${out% *} $(in_range "${out#* }" 9.5 13)"
audit_line pamhung
check_eq "hung PAM: the audit says PAM did not answer" "basic: PAM did not answer within 10 s" \
	"$(json "$T/pamhung.audit" 'j["reason"]')"
echo 0 >"$T/pam-sleep"

finish
